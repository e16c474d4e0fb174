/*
 * Tests of bf_proto: request and reply round trips, the rejection of every
 * class of malformed frame with an error naming the field, and a seeded
 * mutation run over valid frames (no crash, no accepted frame that breaks
 * the checks).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_err.h"
#include "bf_proto.h"
#include "bf_rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static struct bf_proto_request tensor_request(void)
{
    struct bf_proto_request r = {.kind = BF_PROTO_U8,
                                 .ndim = 3,
                                 .config_id = 7,
                                 .request_id = 0x0102030405060708ull,
                                 .payload_len = 2 * 8 * 8,
                                 .shape = {2, 8, 8, 0},
                                 .scale = 0.0625f,
                                 .zero_point = 12};

    return r;
}

static void test_proto_request_round_trip(void **state)
{
    static const struct bf_proto_request kinds[] = {
        {.kind = BF_PROTO_JPEG, .payload_len = 743, .request_id = 1},
        {.kind = BF_PROTO_F32,
         .ndim = 4,
         .shape = {1, 512, 28, 28},
         .payload_len = 512 * 28 * 28 * 4},
        {.kind = BF_PROTO_U8_ZSTD,
         .ndim = 1,
         .shape = {100},
         .payload_len = 7,
         .scale = 1.5f,
         .zero_point = 255},
    };
    struct bf_proto_request r = tensor_request(), back;
    uint8_t hdr[BF_PROTO_HEADER_SIZE];

    (void)state;
    assert_int_equal(bf_proto_request_emit(&r, NULL, hdr), 0);
    assert_memory_equal(hdr, "BFRQ\0\1\3\3", 8);
    /* Big-endian request id at offset 12. */
    assert_int_equal(hdr[12], 1);
    assert_int_equal(hdr[19], 8);
    assert_int_equal(bf_proto_request_parse(hdr, sizeof(hdr), NULL, &back), 0);
    assert_int_equal(back.kind, r.kind);
    assert_int_equal(back.ndim, 3);
    assert_int_equal(back.config_id, 7);
    assert_true(back.request_id == r.request_id);
    assert_int_equal(back.payload_len, 128);
    assert_true(back.shape[0] == 2 && back.shape[1] == 8 &&
                back.shape[2] == 8 && back.shape[3] == 0);
    assert_true(back.scale == 0.0625f);
    assert_int_equal(back.zero_point, 12);
    assert_int_equal(bf_proto_elements(&back), 128);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        assert_int_equal(bf_proto_request_emit(&kinds[i], NULL, hdr), 0);
        assert_int_equal(bf_proto_request_parse(hdr, sizeof(hdr), NULL, &back),
                         0);
        assert_memory_equal(&back.shape, &kinds[i].shape, sizeof(back.shape));
        assert_int_equal(back.payload_len, kinds[i].payload_len);
        assert_int_equal(back.kind, kinds[i].kind);
    }
}

/* Emit r unchecked: a valid frame, then the field patched in place. */
static void raw_header(const struct bf_proto_request *r, uint8_t *hdr)
{
    struct bf_proto_request ok = tensor_request();

    assert_int_equal(bf_proto_request_emit(&ok, NULL, hdr), 0);
    hdr[6] = r->kind;
    hdr[7] = r->ndim;
    for (int d = 0; d < 4; d++)
        for (int b = 0; b < 4; b++)
            hdr[24 + 4 * d + b] = (uint8_t)(r->shape[d] >> (24 - 8 * b));
    for (int b = 0; b < 4; b++) {
        uint32_t bits;

        memcpy(&bits, &r->scale, 4);
        hdr[20 + b] = (uint8_t)(r->payload_len >> (24 - 8 * b));
        hdr[40 + b] = (uint8_t)(bits >> (24 - 8 * b));
        hdr[44 + b] = (uint8_t)((uint32_t)r->zero_point >> (24 - 8 * b));
    }
}

/* Every class of malformed request header, each refused by name. */
static void test_proto_request_rejected(void **state)
{
    static const struct {
        const char *what;
        struct bf_proto_request r;
        const char *needle;
    } bad[] = {
        {"unknown kind",
         {.kind = 9, .ndim = 1, .shape = {4}, .payload_len = 4},
         "unknown payload kind 9"},
        {"jpeg with a shape",
         {.kind = BF_PROTO_JPEG, .ndim = 1, .shape = {4}, .payload_len = 4},
         "jpeg payload with ndim 1"},
        {"tensor without a shape",
         {.kind = BF_PROTO_F32, .payload_len = 4},
         "f32 payload with ndim 0"},
        {"five dimensions",
         {.kind = BF_PROTO_F32, .ndim = 5, .shape = {1, 1, 1, 1}},
         "ndim 5"},
        {"zero dimension",
         {.kind = BF_PROTO_F32, .ndim = 2, .shape = {3, 0}, .payload_len = 4},
         "dimension 1 is 0"},
        {"dimension beyond ndim",
         {.kind = BF_PROTO_F32, .ndim = 1, .shape = {1, 5}, .payload_len = 4},
         "dimension 1 is 5 beyond ndim 1"},
        {"too many elements",
         {.kind = BF_PROTO_F32,
          .ndim = 4,
          .shape = {65536, 65536, 65536, 65536},
          .payload_len = 4},
         "elements (limit)"},
        {"payload over the limit",
         {.kind = BF_PROTO_JPEG, .payload_len = 0xffffffffu},
         "over the limit"},
        {"empty payload", {.kind = BF_PROTO_JPEG}, "empty payload"},
        {"f32 length",
         {.kind = BF_PROTO_F32, .ndim = 1, .shape = {10}, .payload_len = 39},
         "f32 payload of 39 bytes for 10 elements"},
        {"u8 length",
         {.kind = BF_PROTO_U8,
          .ndim = 1,
          .shape = {10},
          .payload_len = 11,
          .scale = 1},
         "u8 payload of 11 bytes"},
        {"zero scale",
         {.kind = BF_PROTO_U8, .ndim = 1, .shape = {4}, .payload_len = 4},
         "quantization scale 0"},
        {"NaN scale",
         {.kind = BF_PROTO_U8_ZSTD,
          .ndim = 1,
          .shape = {4},
          .payload_len = 4,
          .scale = NAN},
         "quantization scale nan"},
        {"zero point",
         {.kind = BF_PROTO_U8,
          .ndim = 1,
          .shape = {4},
          .payload_len = 4,
          .scale = 1,
          .zero_point = 256},
         "zero point 256"},
        {"quantization on f32",
         {.kind = BF_PROTO_F32,
          .ndim = 1,
          .shape = {1},
          .payload_len = 4,
          .zero_point = 3},
         "f32 payload with quantization parameters"},
    };
    struct bf_proto_request out = {.kind = 99};
    uint8_t hdr[BF_PROTO_HEADER_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw_header(&bad[i].r, hdr);
        if (bf_proto_request_parse(hdr, sizeof(hdr), NULL, &out) != BF_EPROTO)
            fail_msg("%s: accepted", bad[i].what);
        if (!strstr(bf_last_error(), bad[i].needle))
            fail_msg("%s: '%s' lacks '%s'", bad[i].what, bf_last_error(),
                     bad[i].needle);
        assert_int_equal(out.kind, 99); /* untouched */
        assert_int_equal(bf_proto_request_emit(&bad[i].r, NULL, hdr),
                         BF_EPROTO);
    }

    /* Framing: truncation, magic, version. */
    {
        struct bf_proto_request r = tensor_request();

        assert_int_equal(bf_proto_request_emit(&r, NULL, hdr), 0);
        assert_int_equal(bf_proto_request_parse(hdr, 47, NULL, &out),
                         BF_EPROTO);
        assert_non_null(strstr(bf_last_error(), "truncated header (47 of 48"));
        hdr[4] = 0;
        hdr[5] = 2;
        assert_int_equal(bf_proto_request_parse(hdr, 48, NULL, &out),
                         BF_EVERSION);
        assert_non_null(strstr(bf_last_error(), "protocol version 2"));
        hdr[0] = 'X';
        assert_int_equal(bf_proto_request_parse(hdr, 48, NULL, &out),
                         BF_EPROTO);
        assert_non_null(strstr(bf_last_error(), "bad magic 58"));
        /* A reply is not a request. */
        memcpy(hdr, "BFRP", 4);
        assert_int_equal(bf_proto_request_parse(hdr, 48, NULL, &out),
                         BF_EPROTO);
    }

    /* Limits are the caller's. */
    {
        struct bf_proto_request r = tensor_request();
        struct bf_proto_limits small = {.max_payload = 127,
                                        .max_elements = 1000};

        assert_int_equal(bf_proto_request_emit(&r, NULL, hdr), 0);
        assert_int_equal(bf_proto_request_parse(hdr, 48, &small, &out),
                         BF_EPROTO);
        assert_non_null(strstr(bf_last_error(), "128 bytes over the limit"));
        small =
            (struct bf_proto_limits){.max_payload = 128, .max_elements = 127};
        assert_int_equal(bf_proto_request_parse(hdr, 48, &small, &out),
                         BF_EPROTO);
        small.max_elements = 128;
        assert_int_equal(bf_proto_request_parse(hdr, 48, &small, &out), 0);
    }
}

static void test_proto_reply_round_trip(void **state)
{
    struct bf_proto_reply r = {.status = BF_PROTO_OK,
                               .k = 3,
                               .request_id = 42,
                               .queue_ns = 1500,
                               .decode_ns = 20000,
                               .tail_ns = 3000000000ull},
                          back, hdr_only;
    uint8_t buf[BF_PROTO_HEADER_SIZE + BF_PROTO_TOPK_MAX * 8 +
                BF_PROTO_MESSAGE_MAX];
    size_t n = 0, body = 0;

    (void)state;
    for (int i = 0; i < 3; i++)
        r.topk[i] = (struct bf_proto_topk){(uint32_t)(999 - i), 0.5f / (i + 1)};
    snprintf(r.message, sizeof(r.message), "ok");
    assert_int_equal(bf_proto_reply_size(&r), 48 + 24 + 2);
    assert_int_equal(bf_proto_reply_emit(&r, buf, sizeof(buf), &n), 0);
    assert_int_equal(n, 74);
    assert_int_equal(bf_proto_reply_emit(&r, buf, 73, &n), BF_ERANGE);
    assert_int_equal(bf_proto_reply_emit(&r, buf, sizeof(buf), &n), 0);
    assert_int_equal(bf_proto_reply_parse_header(buf, n, &back, &body), 0);
    assert_int_equal(body, 26);
    assert_int_equal(bf_proto_reply_parse_body(buf + 48, 25, &back), BF_EPROTO);
    assert_int_equal(bf_proto_reply_parse_body(buf + 48, body, &back), 0);
    assert_int_equal(back.status, BF_PROTO_OK);
    assert_int_equal(back.k, 3);
    assert_true(back.request_id == 42 && back.queue_ns == 1500 &&
                back.decode_ns == 20000 && back.tail_ns == 3000000000ull);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(back.topk[i].cls, r.topk[i].cls);
        assert_true(back.topk[i].score == r.topk[i].score);
    }
    assert_string_equal(back.message, "ok");

    /* A long message is cut at the limit; a busy reply carries no top-k. */
    memset(r.message, 'x', sizeof(r.message) - 1);
    r.message[sizeof(r.message) - 1] = '\0';
    r.status = BF_PROTO_BUSY;
    r.k = 0;
    assert_int_equal(bf_proto_reply_emit(&r, buf, sizeof(buf), &n), 0);
    assert_int_equal(n, 48 + BF_PROTO_MESSAGE_MAX);
    assert_int_equal(bf_proto_reply_parse_header(buf, n, &back, &body), 0);
    assert_int_equal(body, BF_PROTO_MESSAGE_MAX);
    assert_int_equal(bf_proto_reply_parse_body(buf + 48, body, &back), 0);
    assert_int_equal(strlen(back.message), BF_PROTO_MESSAGE_MAX);

    /* Rejected replies. */
    r.k = 11;
    assert_int_equal(bf_proto_reply_emit(&r, buf, sizeof(buf), &n), BF_EPROTO);
    r.k = 0;
    r.status = 6;
    assert_int_equal(bf_proto_reply_emit(&r, buf, sizeof(buf), &n), BF_EPROTO);
    r.status = BF_PROTO_OK;
    r.message[0] = '\0';
    assert_int_equal(bf_proto_reply_emit(&r, buf, sizeof(buf), &n), 0);
    buf[7] = 11;
    assert_int_equal(bf_proto_reply_parse_header(buf, n, &hdr_only, &body),
                     BF_EPROTO);
    assert_non_null(strstr(bf_last_error(), "top-11"));
    buf[7] = 0;
    buf[40] = 0x02; /* message_len 513 */
    buf[41] = 0x01;
    assert_int_equal(bf_proto_reply_parse_header(buf, n, &hdr_only, &body),
                     BF_EPROTO);
    buf[40] = buf[41] = 0;
    buf[47] = 1;
    assert_int_equal(bf_proto_reply_parse_header(buf, n, &hdr_only, &body),
                     BF_EPROTO);
    assert_non_null(strstr(bf_last_error(), "reserved byte 47"));
    buf[47] = 0;
    buf[6] = 9;
    assert_int_equal(bf_proto_reply_parse_header(buf, n, &hdr_only, &body),
                     BF_EPROTO);
    assert_non_null(strstr(bf_last_error(), "unknown status 9"));
    assert_int_equal(bf_proto_reply_parse_header(buf, 10, &hdr_only, &body),
                     BF_EPROTO);
}

/*
 * Seeded mutations of a valid request header: one to four random bytes
 * changed. A parse never fails other than with a protocol or version
 * error, and a header it accepts satisfies every check again when
 * re-emitted, byte for byte.
 */
static void test_proto_mutations(void **state)
{
    struct bf_proto_request r = tensor_request(), out;
    uint8_t good[BF_PROTO_HEADER_SIZE], hdr[BF_PROTO_HEADER_SIZE];
    uint8_t again[BF_PROTO_HEADER_SIZE];
    struct bf_rng rng;
    int accepted = 0;

    (void)state;
    bf_rng_init(&rng, 11, 0);
    assert_int_equal(bf_proto_request_emit(&r, NULL, good), 0);
    for (int it = 0; it < 200000; it++) {
        int flips = 1 + (int)bf_rng_below(&rng, 4);
        int rc;

        memcpy(hdr, good, sizeof(hdr));
        for (int f = 0; f < flips; f++)
            hdr[bf_rng_below(&rng, BF_PROTO_HEADER_SIZE)] =
                (uint8_t)bf_rng_below(&rng, 256);
        rc = bf_proto_request_parse(hdr, sizeof(hdr), NULL, &out);
        if (rc == 0) {
            accepted++;
            assert_int_equal(bf_proto_request_emit(&out, NULL, again), 0);
            assert_memory_equal(again, hdr, sizeof(hdr));
        } else if (rc != BF_EPROTO && rc != BF_EVERSION) {
            fail_msg("mutation %d: unexpected %d (%s)", it, rc,
                     bf_last_error());
        }
    }
    /* Some mutations keep a valid frame (config or request id bytes). */
    assert_true(accepted > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_request_round_trip),
        cmocka_unit_test(test_proto_request_rejected),
        cmocka_unit_test(test_proto_reply_round_trip),
        cmocka_unit_test(test_proto_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
