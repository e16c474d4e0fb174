/*
 * Tests of bf_codec: the registry, JPEG/zstd/raw round trips, the decode
 * bound, clean errors on random, truncated and corrupted input, and the
 * JPEG encode throughput (printed, not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_buf.h"
#include "bf_clock.h"
#include "bf_codec.h"
#include "bf_err.h"
#include "bf_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

/* Fuzz iterations per kind of damage. */
#define FUZZ_ROUNDS 300

/* A grey (channels 1) or RGB (channels 3) image; pixels owned. */
struct image {
    uint8_t *px;
    int w, h, ch;
};

/*
 * A smooth gradient; with texture, add a high-frequency pattern and noise
 * so that the JPEG size depends clearly on the quality.
 */
static struct image make_image(int w, int h, int ch, int texture)
{
    struct image im = {malloc((size_t)w * h * ch), w, h, ch};
    struct bf_rng rng;

    assert_non_null(im.px);
    bf_rng_init(&rng, 7, 1);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < ch; c++) {
                double v = c == 0   ? 255.0 * x / (w - 1)
                           : c == 1 ? 255.0 * y / (h - 1)
                                    : 127.5 * (x + y) / (w + h - 2) + 64.0;

                if (ch == 1)
                    v = 127.5 * (x + y) / (w + h - 2) * 2.0;
                if (texture) {
                    v = 0.6 * v + 40.0 * sin(x * 0.9) * cos(y * 0.7) +
                        20.0 * bf_rng_uniform(&rng) + 40.0;
                }
                if (v < 0.0)
                    v = 0.0;
                if (v > 255.0)
                    v = 255.0;
                im.px[((size_t)y * w + x) * ch + c] = (uint8_t)(v + 0.5);
            }
        }
    }
    return im;
}

static struct bf_payload image_payload(const struct image *im)
{
    struct bf_payload p = {
        .data = im->px,
        .len = (size_t)im->w * im->h * im->ch,
        .width = im->w,
        .height = im->h,
        .channels = im->ch,
    };

    return p;
}

static double psnr_db(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0.0;

    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];

        se += d * d;
    }
    if (se == 0.0)
        return INFINITY;
    return 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

static struct bf_codec *open_codec(const char *name,
                                   const struct bf_codec_params *params)
{
    struct bf_codec *c = NULL;

    assert_int_equal(bf_codec_open(name, params, &c), 0);
    assert_non_null(c);
    return c;
}

/* Encode im with JPEG at quality into out (reset first). */
static void jpeg_encode_at(int quality, const struct image *im,
                           struct bf_buf *out)
{
    struct bf_codec_params params = {.quality = quality};
    struct bf_codec *c = open_codec("jpeg", &params);
    struct bf_payload in = image_payload(im);

    bf_buf_reset(out);
    assert_int_equal(bf_codec_encode(c, &in, out), 0);
    bf_codec_close(c);
}

/* Registry */

static void test_codec_registry_names(void **state)
{
    (void)state;
    assert_string_equal(bf_codec_name_at(0), "jpeg");
    assert_string_equal(bf_codec_name_at(1), "zstd");
    assert_string_equal(bf_codec_name_at(2), "raw");
    assert_null(bf_codec_name_at(3));
    assert_int_equal(bf_codec_lookup("zstd"), 0);
    assert_int_equal(bf_codec_lookup(NULL), BF_EINVAL);
}

static void test_codec_unknown_name(void **state)
{
    struct bf_codec *c = (struct bf_codec *)&c; /* must be reset to NULL */

    (void)state;
    assert_int_equal(bf_codec_open("jpg", NULL, &c), BF_ENOENT);
    assert_null(c);
    assert_string_equal(bf_last_error(),
                        "unknown codec 'jpg' (known: jpeg, zstd, raw)");
    assert_int_equal(bf_codec_lookup(""), BF_ENOENT);
}

static void test_codec_bad_params(void **state)
{
    struct bf_codec_params q101 = {.quality = 101};
    struct bf_codec_params qneg = {.quality = -1};
    struct bf_codec_params level = {.level = ZSTD_maxCLevel() + 1};
    struct bf_codec *c = NULL;

    (void)state;
    assert_int_equal(bf_codec_open("jpeg", &q101, &c), BF_ERANGE);
    assert_null(c);
    assert_string_equal(bf_last_error(), "jpeg: quality 101 is not in 1..100");
    assert_int_equal(bf_codec_open("jpeg", &qneg, &c), BF_ERANGE);
    assert_int_equal(bf_codec_open("zstd", &level, &c), BF_ERANGE);
    assert_non_null(strstr(bf_last_error(), "zstd: level"));
    assert_null(c);
    /* A parameter of another codec is ignored. */
    c = open_codec("raw", &q101);
    assert_string_equal(bf_codec_name(c), "raw");
    bf_codec_close(c);
    bf_codec_close(NULL);
}

/* JPEG */

static void check_jpeg_round_trip(int w, int h, int ch)
{
    struct image im = make_image(w, h, ch, 0);
    struct bf_payload in = image_payload(&im);
    struct bf_codec_params params = {.quality = 90};
    struct bf_codec *c = open_codec("jpeg", &params);
    struct bf_buf enc;
    struct bf_buf dec;
    struct bf_payload out;
    double psnr;

    bf_buf_init(&enc);
    bf_buf_init(&dec);
    assert_int_equal(bf_codec_is_image(c), 1);
    assert_int_equal(bf_codec_encode(c, &in, &enc), 0);
    assert_true(enc.len > 100);
    assert_true(enc.len < in.len);
    assert_int_equal((uint8_t)enc.data[0], 0xff);
    assert_int_equal((uint8_t)enc.data[1], 0xd8);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &dec, &out), 0);
    assert_int_equal(out.width, w);
    assert_int_equal(out.height, h);
    assert_int_equal(out.channels, ch);
    assert_int_equal(out.len, in.len);
    assert_ptr_equal(out.data, (const uint8_t *)dec.data);
    psnr = psnr_db(im.px, out.data, in.len);
    print_message("jpeg q90 %dx%dx%d: %zu bytes, PSNR %.1f dB\n", w, h, ch,
                  enc.len, psnr);
    assert_true(psnr > 30.0);
    bf_buf_free(&enc);
    bf_buf_free(&dec);
    bf_codec_close(c);
    free(im.px);
}

static void test_codec_jpeg_round_trip_grey(void **state)
{
    (void)state;
    check_jpeg_round_trip(28, 28, 1);
}

static void test_codec_jpeg_round_trip_rgb(void **state)
{
    (void)state;
    check_jpeg_round_trip(224, 224, 3);
}

static void test_codec_jpeg_size_falls_with_quality(void **state)
{
    static const int qualities[] = {95, 90, 75, 50, 25, 10};
    struct image im = make_image(224, 224, 3, 1);
    struct bf_buf out;
    size_t sizes[6];

    (void)state;
    bf_buf_init(&out);
    for (size_t i = 0; i < 6; i++) {
        jpeg_encode_at(qualities[i], &im, &out);
        sizes[i] = out.len;
        print_message("jpeg q%d 224x224x3 textured: %zu bytes\n", qualities[i],
                      sizes[i]);
        /* Monotonic up to 5 %. */
        if (i > 0)
            assert_true(sizes[i] * 100 <= sizes[i - 1] * 105);
    }
    assert_true(sizes[5] < sizes[0]);
    assert_true(sizes[5] * 2 < sizes[0]);
    bf_buf_free(&out);
    free(im.px);
}

static void test_codec_jpeg_bad_geometry(void **state)
{
    struct image im = make_image(28, 28, 1, 0);
    struct bf_payload in = image_payload(&im);
    struct bf_codec *c = open_codec("jpeg", NULL);
    struct bf_buf out;

    (void)state;
    bf_buf_init(&out);
    assert_int_equal(bf_buf_append(&out, "hdr", 3), 0);
    in.channels = 2;
    assert_int_equal(bf_codec_encode(c, &in, &out), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "jpeg: 2 channels"));
    in.channels = 3; /* len now disagrees */
    assert_int_equal(bf_codec_encode(c, &in, &out), BF_EINVAL);
    in.channels = 1;
    in.width = 0;
    assert_int_equal(bf_codec_encode(c, &in, &out), BF_EINVAL);
    in.width = 28;
    in.data = NULL;
    assert_int_equal(bf_codec_encode(c, &in, &out), BF_EINVAL);
    assert_int_equal(out.len, 3);
    assert_string_equal(bf_buf_str(&out), "hdr");
    bf_buf_free(&out);
    bf_codec_close(c);
    free(im.px);
}

/* rc is a clean decode failure (or a lucky success) named after codec. */
static void check_clean(int rc, const char *codec)
{
    if (rc == 0)
        return;
    if (rc != BF_EPARSE && rc != BF_ERANGE && rc != BF_EUNSUPPORTED)
        fail_msg("%s: unexpected code %d (%s)", codec, rc, bf_last_error());
    assert_int_equal(strncmp(bf_last_error(), codec, strlen(codec)), 0);
}

/*
 * Decode random bytes (half of them behind the codec's magic), every
 * truncation of valid streams and randomly damaged valid streams; then a
 * valid stream must still decode with the same instance.
 */
static void fuzz_decoder(struct bf_codec *c, const struct bf_buf *valid,
                         const uint8_t *magic, size_t magic_len)
{
    const char *name = bf_codec_name(c);
    struct bf_rng rng;
    struct bf_buf out;
    uint8_t *junk = malloc(valid->len + 1024);
    size_t step = valid->len / FUZZ_ROUNDS + 1;
    int rc;

    assert_non_null(junk);
    bf_buf_init(&out);
    bf_rng_init(&rng, 42, 2);
    for (int i = 0; i < FUZZ_ROUNDS; i++) {
        size_t n = (size_t)bf_rng_below(&rng, 1024);

        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)bf_rng_next(&rng);
        if (i % 2 && n >= magic_len)
            memcpy(junk, magic, magic_len);
        rc = bf_codec_decode(c, junk, n, &out, NULL);
        assert_int_not_equal(rc, 0);
        check_clean(rc, name);
        assert_int_equal(out.len, 0);
    }
    for (size_t n = 0; n < valid->len; n += step) {
        rc = bf_codec_decode(c, (const uint8_t *)valid->data, n, &out, NULL);
        if (rc != BF_EPARSE)
            fail_msg("%s: prefix of %zu/%zu bytes gave %d", name, n, valid->len,
                     rc);
        check_clean(rc, name);
        /* The failure must not leave the instance unusable. */
        rc = bf_codec_decode(c, (const uint8_t *)valid->data, valid->len, &out,
                             NULL);
        if (rc)
            fail_msg("%s: valid stream after a %zu-byte prefix: %s", name, n,
                     bf_last_error());
        bf_buf_reset(&out);
    }
    for (size_t n = valid->len - 8; n < valid->len; n++) {
        rc = bf_codec_decode(c, (const uint8_t *)valid->data, n, &out, NULL);
        assert_int_equal(rc, BF_EPARSE);
    }
    for (int i = 0; i < FUZZ_ROUNDS; i++) {
        int hits = 1 + (int)bf_rng_below(&rng, 4);

        memcpy(junk, valid->data, valid->len);
        for (int k = 0; k < hits; k++)
            junk[bf_rng_below(&rng, valid->len)] = (uint8_t)bf_rng_next(&rng);
        bf_buf_reset(&out);
        check_clean(bf_codec_decode(c, junk, valid->len, &out, NULL), name);
    }
    bf_buf_reset(&out);
    rc = bf_codec_decode(c, (const uint8_t *)valid->data, valid->len, &out,
                         NULL);
    if (rc)
        fail_msg("%s: valid stream after fuzzing: %s", name, bf_last_error());
    bf_buf_free(&out);
    free(junk);
}

static void test_codec_jpeg_corrupt_input(void **state)
{
    static const uint8_t soi[] = {0xff, 0xd8, 0xff};
    struct image grey = make_image(28, 28, 1, 1);
    struct image rgb = make_image(224, 224, 3, 1);
    struct bf_codec *c = open_codec("jpeg", NULL);
    struct bf_buf valid;

    (void)state;
    bf_buf_init(&valid);
    jpeg_encode_at(90, &grey, &valid);
    fuzz_decoder(c, &valid, soi, sizeof(soi));
    jpeg_encode_at(50, &rgb, &valid);
    fuzz_decoder(c, &valid, soi, sizeof(soi));
    bf_buf_free(&valid);
    bf_codec_close(c);
    free(grey.px);
    free(rgb.px);
}

/* Set the frame size in a JPEG's SOF0 header. */
static void patch_sof(struct bf_buf *jpeg, int w, int h)
{
    uint8_t *p = (uint8_t *)jpeg->data;

    for (size_t i = 2; i + 9 < jpeg->len; i++) {
        if (p[i] == 0xff && p[i + 1] == 0xc0) {
            p[i + 5] = (uint8_t)(h >> 8);
            p[i + 6] = (uint8_t)h;
            p[i + 7] = (uint8_t)(w >> 8);
            p[i + 8] = (uint8_t)w;
            return;
        }
    }
    fail_msg("no SOF0 marker");
}

static void test_codec_jpeg_decode_bound(void **state)
{
    struct image im = make_image(28, 28, 1, 0);
    struct bf_codec_params small = {.max_decoded_bytes = 28 * 28 - 1};
    struct bf_codec_params exact = {.max_decoded_bytes = 28 * 28};
    struct bf_codec *c = open_codec("jpeg", &small);
    struct bf_codec *d = open_codec("jpeg", NULL);
    struct bf_codec *e = open_codec("jpeg", &exact);
    struct bf_buf enc;
    struct bf_buf out;

    (void)state;
    bf_buf_init(&enc);
    bf_buf_init(&out);
    jpeg_encode_at(90, &im, &enc);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &out, NULL),
        BF_ERANGE);
    assert_non_null(strstr(bf_last_error(), "over the limit of 783"));
    assert_int_equal(
        bf_codec_decode(e, (const uint8_t *)enc.data, enc.len, &out, NULL), 0);
    /* A header claiming 65000x65000 (4 GB) is refused before allocating. */
    patch_sof(&enc, 65000, 65000);
    bf_buf_reset(&out);
    assert_int_equal(
        bf_codec_decode(d, (const uint8_t *)enc.data, enc.len, &out, NULL),
        BF_ERANGE);
    assert_string_equal(bf_last_error(),
                        "jpeg: 65000x65000x1 image is 4225000000 bytes, "
                        "over the limit of 67108864");
    assert_int_equal(out.len, 0);
    bf_buf_free(&enc);
    bf_buf_free(&out);
    bf_codec_close(c);
    bf_codec_close(d);
    bf_codec_close(e);
    free(im.px);
}

/* zstd */

static void fill_repetitive(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i % 64) < 48 ? 0 : i % 7);
}

static void test_codec_zstd_round_trip(void **state)
{
    size_t n = 100000;
    uint8_t *src = malloc(n);
    struct bf_codec *c = open_codec("zstd", NULL);
    struct bf_payload in = {.data = src, .len = n};
    struct bf_payload empty = {0};
    struct bf_payload out;
    struct bf_buf enc;
    struct bf_buf dec;
    struct bf_rng rng;

    (void)state;
    assert_non_null(src);
    bf_buf_init(&enc);
    bf_buf_init(&dec);
    assert_int_equal(bf_codec_is_image(c), 0);
    /* Repetitive: exact and much smaller. */
    fill_repetitive(src, n);
    assert_int_equal(bf_codec_encode(c, &in, &enc), 0);
    print_message("zstd level 3: %zu -> %zu bytes (repetitive)\n", n, enc.len);
    assert_true(enc.len * 20 < n);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &dec, &out), 0);
    assert_int_equal(out.len, n);
    assert_int_equal(out.width, 0);
    assert_int_equal(out.channels, 0);
    assert_memory_equal(out.data, src, n);
    /* Random: exact, barely larger. */
    bf_rng_init(&rng, 1, 3);
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)bf_rng_next(&rng);
    bf_buf_reset(&enc);
    bf_buf_reset(&dec);
    assert_int_equal(bf_codec_encode(c, &in, &enc), 0);
    assert_true(enc.len < n + 64);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &dec, &out), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, src, n);
    /* Empty. */
    bf_buf_reset(&enc);
    bf_buf_reset(&dec);
    assert_int_equal(bf_codec_encode(c, &empty, &enc), 0);
    assert_true(enc.len > 0);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &dec, &out), 0);
    assert_int_equal(out.len, 0);
    bf_buf_free(&enc);
    bf_buf_free(&dec);
    bf_codec_close(c);
    free(src);
}

static void test_codec_zstd_concatenated_frames(void **state)
{
    struct bf_codec_params fast = {.level = -5};
    struct bf_codec *c = open_codec("zstd", &fast);
    struct bf_payload a = {.data = (const uint8_t *)"split ", .len = 6};
    struct bf_payload b = {.data = (const uint8_t *)"computing", .len = 9};
    struct bf_payload out;
    struct bf_buf enc;
    struct bf_buf dec;

    (void)state;
    bf_buf_init(&enc);
    bf_buf_init(&dec);
    assert_int_equal(bf_codec_encode(c, &a, &enc), 0);
    assert_int_equal(bf_codec_encode(c, &b, &enc), 0);
    assert_int_equal(bf_buf_append(&dec, "<", 1), 0);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &dec, &out), 0);
    assert_string_equal(bf_buf_str(&dec), "<split computing");
    assert_int_equal(out.len, 15);
    assert_ptr_equal(out.data, (const uint8_t *)dec.data + 1);
    bf_buf_free(&enc);
    bf_buf_free(&dec);
    bf_codec_close(c);
}

static void test_codec_zstd_corrupt_input(void **state)
{
    static const uint8_t magic[] = {0x28, 0xb5, 0x2f, 0xfd};
    size_t n = 20000;
    uint8_t *src = malloc(n);
    struct bf_payload in = {.data = src, .len = n};
    struct bf_codec *c = open_codec("zstd", NULL);
    struct bf_rng rng;
    struct bf_buf valid;

    (void)state;
    assert_non_null(src);
    bf_rng_init(&rng, 5, 4);
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)bf_rng_below(&rng, 16); /* compressible */
    bf_buf_init(&valid);
    assert_int_equal(bf_codec_encode(c, &in, &valid), 0);
    fuzz_decoder(c, &valid, magic, sizeof(magic));
    bf_buf_free(&valid);
    bf_codec_close(c);
    free(src);
}

/* A frame that does not record its content size (streamed encoding). */
static size_t stream_compress(const uint8_t *src, size_t n, uint8_t *dst,
                              size_t cap)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_inBuffer zin = {src, n, 0};
    ZSTD_outBuffer zout = {dst, cap, 0};
    size_t left;

    assert_non_null(cctx);
    assert_false(
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
    do {
        assert_true(zout.pos < zout.size);
        left = ZSTD_compressStream2(cctx, &zout, &zin, ZSTD_e_end);
        assert_false(ZSTD_isError(left));
    } while (left != 0);
    ZSTD_freeCCtx(cctx);
    assert_int_equal(ZSTD_getFrameContentSize(dst, zout.pos),
                     ZSTD_CONTENTSIZE_UNKNOWN);
    return zout.pos;
}

static void test_codec_zstd_decode_bound(void **state)
{
    enum { limit = 1000 };
    static uint8_t src[300000];
    static uint8_t frame[65536];
    struct bf_codec_params params = {.max_decoded_bytes = limit};
    struct bf_codec *c = open_codec("zstd", &params);
    struct bf_codec *big = open_codec("zstd", NULL);
    struct bf_payload over = {.data = src, .len = limit + 1};
    struct bf_payload at = {.data = src, .len = limit};
    struct bf_buf enc;
    struct bf_buf out;
    size_t n;

    (void)state;
    fill_repetitive(src, sizeof(src));
    bf_buf_init(&enc);
    bf_buf_init(&out);
    /* The frame header claims more than the limit. */
    assert_int_equal(bf_codec_encode(c, &over, &enc), 0);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &out, NULL),
        BF_ERANGE);
    assert_string_equal(bf_last_error(),
                        "zstd: frame claims 1001 bytes, over the limit of "
                        "1000");
    assert_int_equal(out.len, 0);
    /* Exactly at the limit is fine. */
    bf_buf_reset(&enc);
    assert_int_equal(bf_codec_encode(c, &at, &enc), 0);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &out, NULL), 0);
    assert_int_equal(out.len, limit);
    /* No size in the header: the streaming decoder stops at the limit. */
    bf_buf_reset(&out);
    n = stream_compress(src, limit + 1, frame, sizeof(frame));
    assert_int_equal(bf_codec_decode(c, frame, n, &out, NULL), BF_ERANGE);
    assert_non_null(strstr(bf_last_error(), "zstd: "));
    assert_int_equal(out.len, 0);
    n = stream_compress(src, limit, frame, sizeof(frame));
    assert_int_equal(bf_codec_decode(c, frame, n, &out, NULL), 0);
    assert_int_equal(out.len, limit);
    assert_memory_equal(out.data, src, limit);
    /* A large unsized frame grows the output past its first guess. */
    bf_buf_reset(&out);
    n = stream_compress(src, sizeof(src), frame, sizeof(frame));
    assert_int_equal(bf_codec_decode(big, frame, n, &out, NULL), 0);
    assert_int_equal(out.len, sizeof(src));
    assert_memory_equal(out.data, src, sizeof(src));
    bf_buf_free(&enc);
    bf_buf_free(&out);
    bf_codec_close(c);
    bf_codec_close(big);
}

/* raw */

static void test_codec_raw_identity(void **state)
{
    struct bf_codec_params params = {.max_decoded_bytes = 4};
    struct bf_codec *c = open_codec("raw", &params);
    struct bf_payload in = {.data = (const uint8_t *)"abcd", .len = 4};
    struct bf_payload out;
    struct bf_buf enc;
    struct bf_buf dec;

    (void)state;
    bf_buf_init(&enc);
    bf_buf_init(&dec);
    assert_int_equal(bf_codec_is_image(c), 0);
    assert_int_equal(bf_codec_encode(c, &in, &enc), 0);
    assert_string_equal(bf_buf_str(&enc), "abcd");
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)enc.data, enc.len, &dec, &out), 0);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "abcd", 4);
    assert_int_equal(
        bf_codec_decode(c, (const uint8_t *)"abcde", 5, &dec, NULL), BF_ERANGE);
    assert_string_equal(bf_buf_str(&dec), "abcd");
    assert_int_equal(bf_codec_decode(c, NULL, 1, &dec, NULL), BF_EINVAL);
    assert_int_equal(bf_codec_decode(c, NULL, 0, &dec, &out), 0);
    assert_int_equal(out.len, 0);
    bf_buf_free(&enc);
    bf_buf_free(&dec);
    bf_codec_close(c);
}

/* Throughput */

static double encode_rate(struct bf_codec *c, const struct image *im,
                          size_t *bytes)
{
    struct bf_payload in = image_payload(im);
    struct bf_buf out;
    int64_t t0;
    int64_t elapsed_ns;
    long n = 0;

    bf_buf_init(&out);
    t0 = bf_clock_now_ns();
    do {
        bf_buf_reset(&out);
        assert_int_equal(bf_codec_encode(c, &in, &out), 0);
        n++;
        elapsed_ns = bf_clock_now_ns() - t0;
    } while (elapsed_ns < 300000000 || n < 20);
    *bytes = out.len;
    bf_buf_free(&out);
    return (double)n * 1e9 / (double)elapsed_ns;
}

static void test_codec_jpeg_encode_throughput(void **state)
{
    static const struct {
        int w, h, ch, texture;
    } cases[] = {
        {28, 28, 1, 0}, {28, 28, 1, 1}, {224, 224, 3, 0}, {224, 224, 3, 1}};
    struct bf_codec_params params = {.quality = 90};
    struct bf_codec *c = open_codec("jpeg", &params);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct image im =
            make_image(cases[i].w, cases[i].h, cases[i].ch, cases[i].texture);
        size_t bytes = 0;
        double rate = encode_rate(c, &im, &bytes);

        print_message("jpeg q90 encode %dx%dx%d %s: %.0f images/s "
                      "(%zu bytes)\n",
                      cases[i].w, cases[i].h, cases[i].ch,
                      cases[i].texture ? "textured" : "gradient", rate, bytes);
        assert_true(rate > 0.0);
        free(im.px);
    }
    bf_codec_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_registry_names),
        cmocka_unit_test(test_codec_unknown_name),
        cmocka_unit_test(test_codec_bad_params),
        cmocka_unit_test(test_codec_jpeg_round_trip_grey),
        cmocka_unit_test(test_codec_jpeg_round_trip_rgb),
        cmocka_unit_test(test_codec_jpeg_size_falls_with_quality),
        cmocka_unit_test(test_codec_jpeg_bad_geometry),
        cmocka_unit_test(test_codec_jpeg_corrupt_input),
        cmocka_unit_test(test_codec_jpeg_decode_bound),
        cmocka_unit_test(test_codec_zstd_round_trip),
        cmocka_unit_test(test_codec_zstd_concatenated_frames),
        cmocka_unit_test(test_codec_zstd_corrupt_input),
        cmocka_unit_test(test_codec_zstd_decode_bound),
        cmocka_unit_test(test_codec_raw_identity),
        cmocka_unit_test(test_codec_jpeg_encode_throughput),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
