/*
 * bf_codec: JPEG (libturbojpeg), zstd and raw byte codecs behind one ops
 * table. Every backend works in the instance's scratch buffer and appends
 * to the caller's bf_buf only once the whole result is known to be good.
 */
#include "bf_codec.h"

#include "bf_err.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>
#include <zstd.h>
#include <zstd_errors.h>

/* The largest side libjpeg accepts (JPEG_MAX_DIMENSION). */
#define JPEG_MAX_SIDE 65500

struct codec_ops {
    const char *name;
    int is_image;
    int (*open)(struct bf_codec *c);
    void (*close)(struct bf_codec *c);
    int (*encode)(struct bf_codec *c, const struct bf_payload *in,
                  struct bf_buf *out);
    int (*decode)(struct bf_codec *c, const uint8_t *data, size_t len,
                  struct bf_buf *out, struct bf_payload *decoded);
};

struct bf_codec {
    const struct codec_ops *ops;
    struct bf_codec_params params; /* defaults resolved */
    union {
        struct {
            tjhandle enc;
            tjhandle dec;
        } jpeg;
        struct {
            ZSTD_CCtx *cctx;
            ZSTD_DCtx *dctx;
        } zstd;
    } u;
    uint8_t *scratch; /* working memory reused across calls */
    size_t scratch_cap;
};

static int scratch_reserve(struct bf_codec *c, size_t need)
{
    uint8_t *p;

    if (need <= c->scratch_cap)
        return 0;
    p = realloc(c->scratch, need);
    if (!p)
        return bf_err_set(BF_ENOMEM, "%s: scratch buffer of %zu bytes",
                          c->ops->name, need);
    c->scratch = p;
    c->scratch_cap = need;
    return 0;
}

/* Append the first len bytes of the scratch buffer to out. */
static int emit(struct bf_codec *c, size_t len, struct bf_buf *out)
{
    return bf_buf_append(out, c->scratch, len);
}

/* JPEG */

static int jpeg_open(struct bf_codec *c)
{
    int q = c->params.quality;

    if (q == 0)
        q = BF_CODEC_JPEG_QUALITY_DEFAULT;
    if (q < 1 || q > 100)
        return bf_err_set(BF_ERANGE, "jpeg: quality %d is not in 1..100",
                          c->params.quality);
    c->params.quality = q;
    c->u.jpeg.enc = tjInitCompress();
    if (!c->u.jpeg.enc)
        return bf_err_set(BF_EINTERNAL, "jpeg: cannot create a compressor: %s",
                          tjGetErrorStr2(NULL));
    c->u.jpeg.dec = tjInitDecompress();
    if (!c->u.jpeg.dec)
        return bf_err_set(BF_EINTERNAL,
                          "jpeg: cannot create a decompressor: %s",
                          tjGetErrorStr2(NULL));
    return 0;
}

static void jpeg_close(struct bf_codec *c)
{
    if (c->u.jpeg.enc)
        tjDestroy(c->u.jpeg.enc);
    if (c->u.jpeg.dec)
        tjDestroy(c->u.jpeg.dec);
}

static int jpeg_encode(struct bf_codec *c, const struct bf_payload *in,
                       struct bf_buf *out)
{
    int w = in->width;
    int h = in->height;
    int ch = in->channels;
    int pf = ch == 1 ? TJPF_GRAY : TJPF_RGB;
    int samp = ch == 1 ? TJSAMP_GRAY : TJSAMP_420;
    unsigned long bound;
    unsigned long size;
    unsigned char *dst;
    int rc;

    if (w < 1 || h < 1 || w > JPEG_MAX_SIDE || h > JPEG_MAX_SIDE)
        return bf_err_set(BF_EINVAL,
                          "jpeg: image of %dx%d pixels (each side must be in "
                          "1..%d)",
                          w, h, JPEG_MAX_SIDE);
    if (ch != 1 && ch != 3)
        return bf_err_set(BF_EINVAL,
                          "jpeg: %d channels (only 1, grey, or 3, RGB)", ch);
    if (in->len != (size_t)w * (size_t)h * (size_t)ch)
        return bf_err_set(BF_EINVAL,
                          "jpeg: %zu bytes for a %dx%dx%d image (expected "
                          "%zu)",
                          in->len, w, h, ch,
                          (size_t)w * (size_t)h * (size_t)ch);
    bound = tjBufSize(w, h, samp);
    if (bound == (unsigned long)-1)
        return bf_err_set(BF_EINVAL, "jpeg: %s", tjGetErrorStr2(NULL));
    rc = scratch_reserve(c, bound);
    if (rc)
        return rc;
    /*
     * TJFLAG_NOREALLOC: the scratch buffer is tjBufSize() bytes, the worst
     * case, so turbojpeg writes into it and never allocates.
     */
    dst = c->scratch;
    size = bound;
    if (tjCompress2(c->u.jpeg.enc, in->data, w, 0, h, pf, &dst, &size, samp,
                    c->params.quality, TJFLAG_NOREALLOC) != 0)
        return bf_err_set(BF_EINTERNAL, "jpeg: encoding %dx%dx%d: %s", w, h, ch,
                          tjGetErrorStr2(c->u.jpeg.enc));
    return emit(c, size, out);
}

static int jpeg_decode_with(struct bf_codec *c, tjhandle tj,
                            const uint8_t *data, size_t len, struct bf_buf *out,
                            struct bf_payload *decoded)
{
    int w = 0;
    int h = 0;
    int samp = 0;
    int cs = 0;
    int ch;
    size_t need;
    int rc;

#if SIZE_MAX > ULONG_MAX
    if (len > ULONG_MAX)
        return bf_err_set(BF_ERANGE, "jpeg: %zu bytes of input", len);
#endif
    if (len == 0)
        return bf_err_set(BF_EPARSE, "jpeg: empty input");
    if (tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &samp, &cs) !=
        0)
        return bf_err_set(BF_EPARSE, "jpeg: bad header in %zu bytes: %s", len,
                          tjGetErrorStr2(tj));
    if (w < 1 || h < 1)
        return bf_err_set(BF_EPARSE, "jpeg: header gives %dx%d pixels", w, h);
    if (cs == TJCS_GRAY)
        ch = 1;
    else if (cs == TJCS_YCbCr || cs == TJCS_RGB)
        ch = 3;
    else
        return bf_err_set(BF_EUNSUPPORTED,
                          "jpeg: colour space %s (only grey and RGB/YCbCr)",
                          cs == TJCS_CMYK   ? "CMYK"
                          : cs == TJCS_YCCK ? "YCCK"
                                            : "unknown");
    need = (size_t)w * (size_t)h * (size_t)ch;
    if (need > c->params.max_decoded_bytes)
        return bf_err_set(BF_ERANGE,
                          "jpeg: %dx%dx%d image is %zu bytes, over the limit "
                          "of %zu",
                          w, h, ch, need, c->params.max_decoded_bytes);
    rc = scratch_reserve(c, need);
    if (rc)
        return rc;
    /*
     * A warning (truncated data, a corrupt entropy segment) stops decoding
     * and is an error: a damaged payload is never passed on as an image.
     * TJFLAG_LIMITSCANS bounds the work a hostile progressive file can ask
     * for.
     */
    if (tjDecompress2(tj, data, (unsigned long)len, c->scratch, w, 0, h,
                      ch == 1 ? TJPF_GRAY : TJPF_RGB,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
        return bf_err_set(BF_EPARSE, "jpeg: corrupt %dx%dx%d image: %s", w, h,
                          ch, tjGetErrorStr2(tj));
    rc = emit(c, need, out);
    if (rc)
        return rc;
    if (decoded) {
        decoded->width = w;
        decoded->height = h;
        decoded->channels = ch;
    }
    return 0;
}

/*
 * libjpeg-turbo 2.1 leaves a decompressor mid-header after
 * tjDecompressHeader3() fails, so that the next valid stream is misread.
 * A failure, which is rare, therefore replaces the handle.
 */
static int jpeg_decode(struct bf_codec *c, const uint8_t *data, size_t len,
                       struct bf_buf *out, struct bf_payload *decoded)
{
    int rc;

    if (!c->u.jpeg.dec) {
        c->u.jpeg.dec = tjInitDecompress();
        if (!c->u.jpeg.dec)
            return bf_err_set(BF_EINTERNAL,
                              "jpeg: cannot create a decompressor: %s",
                              tjGetErrorStr2(NULL));
    }
    rc = jpeg_decode_with(c, c->u.jpeg.dec, data, len, out, decoded);
    if (rc) {
        tjDestroy(c->u.jpeg.dec);
        c->u.jpeg.dec = tjInitDecompress(); /* NULL: retried next call */
    }
    return rc;
}

/* zstd */

/* The smallest n with 2^n >= v (v >= 1). */
static int ceil_log2(size_t v)
{
    int n = 0;

    while (n < (int)(sizeof(size_t) * CHAR_BIT) - 1 && ((size_t)1 << n) < v)
        n++;
    return n;
}

static int zstd_fail(const char *what, size_t ret)
{
    return bf_err_set(BF_EINTERNAL, "zstd: %s: %s", what,
                      ZSTD_getErrorName(ret));
}

static int zstd_open(struct bf_codec *c)
{
    int level = c->params.level;
    ZSTD_bounds wb = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax);
    int wlog = ceil_log2(c->params.max_decoded_bytes);
    size_t ret;

    if (level == 0)
        level = BF_CODEC_ZSTD_LEVEL_DEFAULT;
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return bf_err_set(BF_ERANGE, "zstd: level %d is not in %d..%d",
                          c->params.level, ZSTD_minCLevel(), ZSTD_maxCLevel());
    c->params.level = level;
    c->u.zstd.cctx = ZSTD_createCCtx();
    c->u.zstd.dctx = ZSTD_createDCtx();
    if (!c->u.zstd.cctx || !c->u.zstd.dctx)
        return bf_err_set(BF_ENOMEM, "zstd: cannot create contexts");
    ret =
        ZSTD_CCtx_setParameter(c->u.zstd.cctx, ZSTD_c_compressionLevel, level);
    if (ZSTD_isError(ret))
        return zstd_fail("setting the level", ret);
    /*
     * The decoder's window is what a frame can make it allocate; no frame
     * within the output bound needs more than the bound rounded up to a
     * power of two.
     */
    if (ZSTD_isError(wb.error))
        return zstd_fail("window bounds", wb.error);
    if (wlog < wb.lowerBound)
        wlog = wb.lowerBound;
    if (wlog > wb.upperBound)
        wlog = wb.upperBound;
    ret = ZSTD_DCtx_setParameter(c->u.zstd.dctx, ZSTD_d_windowLogMax, wlog);
    if (ZSTD_isError(ret))
        return zstd_fail("setting the window limit", ret);
    return 0;
}

static void zstd_close(struct bf_codec *c)
{
    ZSTD_freeCCtx(c->u.zstd.cctx);
    ZSTD_freeDCtx(c->u.zstd.dctx);
}

static int zstd_encode(struct bf_codec *c, const struct bf_payload *in,
                       struct bf_buf *out)
{
    size_t bound = ZSTD_compressBound(in->len);
    size_t ret;
    int rc;

    if (ZSTD_isError(bound))
        return bf_err_set(BF_EINVAL, "zstd: %zu bytes is too large to encode",
                          in->len);
    rc = scratch_reserve(c, bound);
    if (rc)
        return rc;
    ret = ZSTD_compress2(c->u.zstd.cctx, c->scratch, bound,
                         in->len ? in->data : (const uint8_t *)"", in->len);
    if (ZSTD_isError(ret))
        return zstd_fail("encoding", ret);
    return emit(c, ret, out);
}

static int zstd_error(size_t ret, size_t max, size_t len)
{
    if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
        return bf_err_set(BF_ERANGE,
                          "zstd: frame needs a window over the limit of %zu "
                          "bytes",
                          max);
    return bf_err_set(BF_EPARSE, "zstd: corrupt frame in %zu bytes: %s", len,
                      ZSTD_getErrorName(ret));
}

/*
 * Streaming decode into the scratch buffer, which grows (doubling) up to
 * max_decoded_bytes only as output actually appears: a frame header that
 * claims a large size costs nothing. Handles concatenated frames and frames
 * without a recorded content size.
 */
static int zstd_decode(struct bf_codec *c, const uint8_t *data, size_t len,
                       struct bf_buf *out, struct bf_payload *decoded)
{
    ZSTD_DCtx *dctx = c->u.zstd.dctx;
    size_t max = c->params.max_decoded_bytes;
    unsigned long long fcs;
    ZSTD_inBuffer zin = {data, len, 0};
    ZSTD_outBuffer zout = {NULL, 0, 0};
    size_t want;
    size_t ret;
    int rc;

    (void)decoded;
    if (len == 0)
        return bf_err_set(BF_EPARSE, "zstd: empty input");
    fcs = ZSTD_getFrameContentSize(data, len);
    if (fcs != ZSTD_CONTENTSIZE_ERROR && fcs != ZSTD_CONTENTSIZE_UNKNOWN &&
        fcs > max)
        return bf_err_set(BF_ERANGE,
                          "zstd: frame claims %llu bytes, over the limit of "
                          "%zu",
                          fcs, max);
    if (fcs != ZSTD_CONTENTSIZE_ERROR && fcs != ZSTD_CONTENTSIZE_UNKNOWN)
        want = (size_t)fcs;
    else
        want = ZSTD_DStreamOutSize() < max ? ZSTD_DStreamOutSize() : max;
    ret = ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    if (ZSTD_isError(ret))
        return zstd_fail("resetting the decoder", ret);
    rc = scratch_reserve(c, want);
    if (rc)
        return rc;
    zout.dst = c->scratch;
    zout.size = want;
    for (;;) {
        size_t in0 = zin.pos;
        size_t out0 = zout.pos;

        if (zout.pos == zout.size && zout.size < max) {
            want = zout.size ? zout.size * 2 : ZSTD_DStreamOutSize();
            if (want > max || want < zout.size)
                want = max;
            rc = scratch_reserve(c, want);
            if (rc)
                return rc;
            zout.dst = c->scratch;
            zout.size = want;
        }
        ret = ZSTD_decompressStream(dctx, &zout, &zin);
        if (ZSTD_isError(ret))
            return zstd_error(ret, max, len);
        if (ret == 0 && zin.pos == zin.size)
            break;
        if (zin.pos == in0 && zout.pos == out0) {
            if (zout.pos == zout.size)
                return bf_err_set(BF_ERANGE,
                                  "zstd: output exceeds the limit of %zu "
                                  "bytes",
                                  max);
            return bf_err_set(BF_EPARSE,
                              "zstd: truncated frame (%zu bytes of input end "
                              "mid-frame)",
                              len);
        }
    }
    return emit(c, zout.pos, out);
}

/* raw */

static int raw_encode(struct bf_codec *c, const struct bf_payload *in,
                      struct bf_buf *out)
{
    (void)c;
    return bf_buf_append(out, in->data, in->len);
}

static int raw_decode(struct bf_codec *c, const uint8_t *data, size_t len,
                      struct bf_buf *out, struct bf_payload *decoded)
{
    (void)decoded;
    if (len > c->params.max_decoded_bytes)
        return bf_err_set(BF_ERANGE,
                          "raw: %zu bytes, over the limit of %zu bytes", len,
                          c->params.max_decoded_bytes);
    return bf_buf_append(out, data, len);
}

/* Registry */

static const struct codec_ops registry[] = {
    {"jpeg", 1, jpeg_open, jpeg_close, jpeg_encode, jpeg_decode},
    {"zstd", 0, zstd_open, zstd_close, zstd_encode, zstd_decode},
    {"raw", 0, NULL, NULL, raw_encode, raw_decode},
};

#define REGISTRY_LEN (sizeof(registry) / sizeof(registry[0]))

const char *bf_codec_name_at(size_t index)
{
    return index < REGISTRY_LEN ? registry[index].name : NULL;
}

static const struct codec_ops *find(const char *name)
{
    for (size_t i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

int bf_codec_lookup(const char *name)
{
    struct bf_buf known;
    int rc;

    if (!name)
        return bf_err_set(BF_EINVAL, "codec name is NULL");
    if (find(name))
        return 0;
    bf_buf_init(&known);
    for (size_t i = 0; i < REGISTRY_LEN; i++)
        if (bf_buf_printf(&known, "%s%s", i ? ", " : "", registry[i].name))
            break;
    rc = bf_err_set(BF_ENOENT, "unknown codec '%s' (known: %s)", name,
                    bf_buf_str(&known));
    bf_buf_free(&known);
    return rc;
}

/* Instances */

int bf_codec_open(const char *name, const struct bf_codec_params *params,
                  struct bf_codec **codec)
{
    struct bf_codec *c;
    int rc;

    if (!codec)
        return bf_err_set(BF_EINVAL, "bf_codec_open: codec is NULL");
    *codec = NULL;
    rc = bf_codec_lookup(name);
    if (rc)
        return rc;
    c = calloc(1, sizeof(*c));
    if (!c)
        return bf_err_set(BF_ENOMEM, "codec '%s'", name);
    c->ops = find(name);
    if (params)
        c->params = *params;
    if (c->params.max_decoded_bytes == 0)
        c->params.max_decoded_bytes = BF_CODEC_MAX_DECODED_BYTES_DEFAULT;
    if (c->ops->open) {
        rc = c->ops->open(c);
        if (rc)
            goto out_close;
    }
    *codec = c;
    return 0;

out_close:
    bf_codec_close(c);
    return rc;
}

void bf_codec_close(struct bf_codec *codec)
{
    if (!codec)
        return;
    if (codec->ops->close)
        codec->ops->close(codec);
    free(codec->scratch);
    free(codec);
}

const char *bf_codec_name(const struct bf_codec *codec)
{
    return codec->ops->name;
}

int bf_codec_is_image(const struct bf_codec *codec)
{
    return codec->ops->is_image;
}

/* Coding */

/* Put out back to len bytes, as it was before a failed call. */
static void restore(struct bf_buf *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

int bf_codec_encode(struct bf_codec *codec, const struct bf_payload *in,
                    struct bf_buf *out)
{
    size_t len0;
    int rc;

    if (!codec || !in || !out)
        return bf_err_set(BF_EINVAL, "bf_codec_encode: NULL argument");
    if (!in->data && in->len)
        return bf_err_set(BF_EINVAL, "%s: payload of %zu bytes has no data",
                          codec->ops->name, in->len);
    len0 = out->len;
    rc = codec->ops->encode(codec, in, out);
    if (rc)
        restore(out, len0);
    return rc;
}

int bf_codec_decode(struct bf_codec *codec, const uint8_t *data, size_t len,
                    struct bf_buf *out, struct bf_payload *decoded)
{
    struct bf_payload info = {0};
    size_t len0;
    int rc;

    if (!codec || !out || (!data && len))
        return bf_err_set(BF_EINVAL, "bf_codec_decode: NULL argument");
    len0 = out->len;
    rc = codec->ops->decode(codec, data, len, out, &info);
    if (rc) {
        restore(out, len0);
        return rc;
    }
    if (decoded) {
        *decoded = info;
        decoded->data = (const uint8_t *)out->data + len0;
        decoded->len = out->len - len0;
    }
    return 0;
}
