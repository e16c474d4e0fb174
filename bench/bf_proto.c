/* bf_proto: frame encoding and checking (see bf_proto.h). */
#define _POSIX_C_SOURCE 200809L
#include "bf_proto.h"

#include "bf_err.h"

#include <math.h>
#include <string.h>

static const uint8_t request_magic[4] = {'B', 'F', 'R', 'Q'};
static const uint8_t reply_magic[4] = {'B', 'F', 'R', 'P'};

/* Big-endian access. */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t float_bits(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    return u;
}

static float bits_float(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

struct bf_proto_limits bf_proto_default_limits(void)
{
    struct bf_proto_limits l = {.max_payload = 16u << 20,
                                .max_elements = 64ull << 20};

    return l;
}

uint64_t bf_proto_elements(const struct bf_proto_request *r)
{
    uint64_t n = 1;

    if (r->kind == BF_PROTO_JPEG || r->ndim == 0)
        return 0;
    for (int d = 0; d < r->ndim && d < BF_PROTO_MAX_DIMS; d++)
        n *= r->shape[d];
    return n;
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case BF_PROTO_JPEG:
        return "jpeg";
    case BF_PROTO_F32:
        return "f32";
    case BF_PROTO_U8:
        return "u8";
    case BF_PROTO_U8_ZSTD:
        return "u8+zstd";
    default:
        return "?";
    }
}

/* The checks of a request header (see bf_proto.h). */
static int check_request(const struct bf_proto_request *r,
                         const struct bf_proto_limits *limits)
{
    struct bf_proto_limits lim = limits ? *limits : bf_proto_default_limits();
    int quantized = r->kind == BF_PROTO_U8 || r->kind == BF_PROTO_U8_ZSTD;
    uint64_t elements = 1;

    if (r->kind < BF_PROTO_JPEG || r->kind > BF_PROTO_U8_ZSTD)
        return bf_err_set(BF_EPROTO, "request: unknown payload kind %d",
                          r->kind);
    if (r->kind == BF_PROTO_JPEG ? r->ndim != 0
                                 : r->ndim < 1 || r->ndim > BF_PROTO_MAX_DIMS)
        return bf_err_set(BF_EPROTO, "request: %s payload with ndim %d",
                          kind_name(r->kind), r->ndim);
    for (int d = 0; d < BF_PROTO_MAX_DIMS; d++) {
        if (d < r->ndim && r->shape[d] == 0)
            return bf_err_set(BF_EPROTO, "request: dimension %d is 0", d);
        if (d >= r->ndim && r->shape[d] != 0)
            return bf_err_set(BF_EPROTO,
                              "request: dimension %d is %u beyond ndim %d", d,
                              r->shape[d], r->ndim);
        if (d < r->ndim) {
            elements *= r->shape[d];
            if (elements > lim.max_elements)
                return bf_err_set(BF_EPROTO,
                                  "request: tensor of more than %llu "
                                  "elements (limit)",
                                  (unsigned long long)lim.max_elements);
        }
    }
    if (r->payload_len > lim.max_payload)
        return bf_err_set(BF_EPROTO,
                          "request: payload of %u bytes over the limit of %u",
                          r->payload_len, lim.max_payload);
    if (r->payload_len == 0)
        return bf_err_set(BF_EPROTO, "request: empty payload");
    if ((r->kind == BF_PROTO_F32 && r->payload_len != elements * 4) ||
        (r->kind == BF_PROTO_U8 && r->payload_len != elements))
        return bf_err_set(BF_EPROTO,
                          "request: %s payload of %u bytes for %llu "
                          "elements",
                          kind_name(r->kind), r->payload_len,
                          (unsigned long long)elements);
    if (quantized) {
        if (!isfinite(r->scale) || !(r->scale > 0.0f))
            return bf_err_set(BF_EPROTO, "request: quantization scale %g",
                              (double)r->scale);
        if (r->zero_point < 0 || r->zero_point > 255)
            return bf_err_set(BF_EPROTO,
                              "request: zero point %d outside "
                              "0..255",
                              (int)r->zero_point);
    } else if (float_bits(r->scale) != 0 || r->zero_point != 0) {
        return bf_err_set(BF_EPROTO,
                          "request: %s payload with quantization "
                          "parameters",
                          kind_name(r->kind));
    }
    return 0;
}

int bf_proto_request_emit(const struct bf_proto_request *r,
                          const struct bf_proto_limits *limits,
                          uint8_t out[BF_PROTO_HEADER_SIZE])
{
    int rc;

    if (!r || !out)
        return bf_err_set(BF_EINVAL, "bf_proto_request_emit: NULL argument");
    rc = check_request(r, limits);
    if (rc)
        return rc;
    memset(out, 0, BF_PROTO_HEADER_SIZE);
    memcpy(out, request_magic, 4);
    put16(out + 4, BF_PROTO_VERSION);
    out[6] = r->kind;
    out[7] = r->ndim;
    put32(out + 8, r->config_id);
    put64(out + 12, r->request_id);
    put32(out + 20, r->payload_len);
    for (int d = 0; d < BF_PROTO_MAX_DIMS; d++)
        put32(out + 24 + 4 * d, r->shape[d]);
    put32(out + 40, float_bits(r->scale));
    put32(out + 44, (uint32_t)r->zero_point);
    return 0;
}

/* Magic and version of a header; what the magic names is in what. */
static int check_magic(const uint8_t *buf, size_t len, const uint8_t magic[4],
                       const char *what)
{
    uint16_t version;

    if (len < BF_PROTO_HEADER_SIZE)
        return bf_err_set(BF_EPROTO, "%s: truncated header (%zu of %d bytes)",
                          what, len, BF_PROTO_HEADER_SIZE);
    if (memcmp(buf, magic, 4) != 0)
        return bf_err_set(
            BF_EPROTO, "%s: bad magic %02x %02x %02x %02x (want \"%.4s\")",
            what, buf[0], buf[1], buf[2], buf[3], (const char *)magic);
    version = get16(buf + 4);
    if (version != BF_PROTO_VERSION)
        return bf_err_set(BF_EVERSION,
                          "%s: protocol version %u, this build speaks %d", what,
                          version, BF_PROTO_VERSION);
    return 0;
}

int bf_proto_request_parse(const uint8_t *buf, size_t len,
                           const struct bf_proto_limits *limits,
                           struct bf_proto_request *out)
{
    struct bf_proto_request r;
    int rc;

    if (!buf || !out)
        return bf_err_set(BF_EINVAL, "bf_proto_request_parse: NULL argument");
    rc = check_magic(buf, len, request_magic, "request");
    if (rc)
        return rc;
    r.kind = buf[6];
    r.ndim = buf[7];
    r.config_id = get32(buf + 8);
    r.request_id = get64(buf + 12);
    r.payload_len = get32(buf + 20);
    for (int d = 0; d < BF_PROTO_MAX_DIMS; d++)
        r.shape[d] = get32(buf + 24 + 4 * d);
    r.scale = bits_float(get32(buf + 40));
    r.zero_point = (int32_t)get32(buf + 44);
    rc = check_request(&r, limits);
    if (rc)
        return rc;
    *out = r;
    return 0;
}

size_t bf_proto_reply_size(const struct bf_proto_reply *r)
{
    size_t msg = strnlen(r->message, BF_PROTO_MESSAGE_MAX);

    return BF_PROTO_HEADER_SIZE + (size_t)r->k * 8 + msg;
}

static int check_reply(int status, int k, int message_len)
{
    if (status < BF_PROTO_OK || status > BF_PROTO_BAD_VERSION)
        return bf_err_set(BF_EPROTO, "reply: unknown status %d", status);
    if (k < 0 || k > BF_PROTO_TOPK_MAX)
        return bf_err_set(BF_EPROTO, "reply: top-%d (at most %d)", k,
                          BF_PROTO_TOPK_MAX);
    if (message_len > BF_PROTO_MESSAGE_MAX)
        return bf_err_set(BF_EPROTO, "reply: message of %d bytes (at most %d)",
                          message_len, BF_PROTO_MESSAGE_MAX);
    return 0;
}

int bf_proto_reply_emit(const struct bf_proto_reply *r, uint8_t *out,
                        size_t cap, size_t *written)
{
    size_t msg, need;
    uint8_t *p;
    int rc;

    if (!r || !out || !written)
        return bf_err_set(BF_EINVAL, "bf_proto_reply_emit: NULL argument");
    msg = strnlen(r->message, BF_PROTO_MESSAGE_MAX);
    rc = check_reply(r->status, r->k, (int)msg);
    if (rc)
        return rc;
    need = bf_proto_reply_size(r);
    if (cap < need)
        return bf_err_set(BF_ERANGE, "reply of %zu bytes, room for %zu", need,
                          cap);
    memset(out, 0, BF_PROTO_HEADER_SIZE);
    memcpy(out, reply_magic, 4);
    put16(out + 4, BF_PROTO_VERSION);
    out[6] = r->status;
    out[7] = r->k;
    put64(out + 8, r->request_id);
    put64(out + 16, r->queue_ns);
    put64(out + 24, r->decode_ns);
    put64(out + 32, r->tail_ns);
    put16(out + 40, (uint16_t)msg);
    p = out + BF_PROTO_HEADER_SIZE;
    for (int i = 0; i < r->k; i++, p += 8) {
        put32(p, r->topk[i].cls);
        put32(p + 4, float_bits(r->topk[i].score));
    }
    memcpy(p, r->message, msg);
    *written = need;
    return 0;
}

int bf_proto_reply_parse_header(const uint8_t *buf, size_t len,
                                struct bf_proto_reply *out, size_t *body)
{
    struct bf_proto_reply r;
    int rc;

    if (!buf || !out || !body)
        return bf_err_set(BF_EINVAL, "bf_proto_reply_parse_header: NULL");
    rc = check_magic(buf, len, reply_magic, "reply");
    if (rc)
        return rc;
    memset(&r, 0, sizeof(r));
    r.status = buf[6];
    r.k = buf[7];
    r.request_id = get64(buf + 8);
    r.queue_ns = get64(buf + 16);
    r.decode_ns = get64(buf + 24);
    r.tail_ns = get64(buf + 32);
    r.message_len = get16(buf + 40);
    rc = check_reply(r.status, r.k, r.message_len);
    if (rc)
        return rc;
    for (int i = 42; i < BF_PROTO_HEADER_SIZE; i++)
        if (buf[i])
            return bf_err_set(BF_EPROTO, "reply: reserved byte %d is %u", i,
                              buf[i]);
    *out = r;
    *body = (size_t)r.k * 8 + r.message_len;
    return 0;
}

int bf_proto_reply_parse_body(const uint8_t *buf, size_t len,
                              struct bf_proto_reply *r)
{
    size_t want;

    if (!buf || !r)
        return bf_err_set(BF_EINVAL, "bf_proto_reply_parse_body: NULL");
    want = (size_t)r->k * 8 + r->message_len;
    if (len != want)
        return bf_err_set(BF_EPROTO, "reply: body of %zu bytes, want %zu", len,
                          want);
    for (int i = 0; i < r->k; i++) {
        r->topk[i].cls = get32(buf + 8 * i);
        r->topk[i].score = bits_float(get32(buf + 8 * i + 4));
    }
    memcpy(r->message, buf + (size_t)r->k * 8, r->message_len);
    r->message[r->message_len] = '\0';
    return 0;
}
