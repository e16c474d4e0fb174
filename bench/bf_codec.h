/*
 * bf_codec: the byte codecs of split computing, each a backend chosen by
 * name through a static registry ("jpeg", "zstd", "raw").
 *
 * - "jpeg" encodes 8-bit pixels (the input that edge offloading sends, the
 *   input-compression baseline) with libturbojpeg and decodes them back.
 *   Pixels are HWC, row-major, rows packed (pitch = width * channels), with
 *   1 channel (grey, encoded as a greyscale JPEG, TJSAMP_GRAY) or 3 channels
 *   (RGB, encoded with 4:2:0 chroma subsampling, TJSAMP_420, the default of
 *   PIL below quality 95 and of most cameras). Decoding yields 1 channel
 *   for a greyscale file and 3 (RGB) for a colour one. The encoded byte
 *   count is the payload that crosses the link.
 * - "zstd" entropy-codes an opaque byte payload (for example an 8-bit
 *   quantised bottleneck tensor; an extension beyond the BottleFit paper).
 *   Frames record their content size and carry no checksum: the transport
 *   guarantees integrity, and every byte counts in the payload size.
 * - "raw" is the identity, so that the runner treats every configuration
 *   alike.
 *
 * Invariants:
 * - Decoding is bounded: a payload that decodes (or claims to decode) to
 *   more than max_decoded_bytes is BF_ERANGE before anything of the claimed
 *   size is allocated; malformed, truncated or corrupt input is BF_EPARSE
 *   (or BF_EUNSUPPORTED for a valid JPEG colour space other than grey or
 *   YCbCr/RGB), with a detail naming the codec and what is wrong. No input
 *   makes a decoder crash or read out of bounds.
 * - Encode and decode append to `out` and leave it exactly as it was on
 *   failure.
 * - A codec instance keeps its library state (turbojpeg handles, zstd
 *   contexts, a scratch buffer) for its whole life, so coding many payloads
 *   allocates nothing per call once the scratch has grown. An instance is
 *   not thread-safe; use one per thread.
 *
 * Ownership: bf_codec_open() returns an instance the caller owns and frees
 * with bf_codec_close() (which accepts NULL). Input bytes are borrowed for
 * the duration of a call. `out` is the caller's bf_buf.
 */
#ifndef BF_CODEC_H
#define BF_CODEC_H

#include "bf_buf.h"

#include <stddef.h>
#include <stdint.h>

/* Defaults for the zero fields of struct bf_codec_params. */
#define BF_CODEC_JPEG_QUALITY_DEFAULT 75 /* libjpeg's and PIL's default */
#define BF_CODEC_ZSTD_LEVEL_DEFAULT 3    /* zstd's own default */
#define BF_CODEC_MAX_DECODED_BYTES_DEFAULT ((size_t)64 << 20) /* 64 MiB */

struct bf_codec; /* opaque */

/*
 * Parameters of an instance, filled with designated initialisers; a zero
 * field takes its default, and a field the chosen codec does not use is
 * ignored.
 */
struct bf_codec_params {
    int quality;              /* jpeg: 1..100 (0: 75) */
    int level;                /* zstd: ZSTD_minCLevel()..ZSTD_maxCLevel(),
                                 negative = faster modes (0: 3) */
    size_t max_decoded_bytes; /* decode output bound (0: 64 MiB) */
};

/*
 * A payload handed to a codec: bytes, plus the pixel geometry for an image
 * codec. For "jpeg" the geometry is required and len must equal
 * width * height * channels; byte codecs ignore it. `data` is borrowed.
 */
struct bf_payload {
    const uint8_t *data;
    size_t len;
    int width;    /* pixels; 0 for an opaque payload */
    int height;   /* pixels; 0 for an opaque payload */
    int channels; /* 1 (grey) or 3 (RGB); 0 for an opaque payload */
};

/* Registry */

/*
 * The name of the index-th known codec, or NULL past the last one. Names
 * come in registry order: "jpeg", "zstd", "raw".
 */
const char *bf_codec_name_at(size_t index);

/*
 * Check that name is a known codec. Returns 0, or BF_ENOENT with the detail
 * "unknown codec 'jpg' (known: jpeg, zstd, raw)".
 */
int bf_codec_lookup(const char *name);

/* Instances */

/*
 * Open an instance of the codec called name with params (NULL: every
 * default) and store it in *codec. Returns 0, BF_ENOENT for an unknown name,
 * BF_ERANGE for a parameter out of range, BF_ENOMEM or BF_EINTERNAL when
 * the library cannot set up its state. Caller owns *codec, free with
 * bf_codec_close().
 */
int bf_codec_open(const char *name, const struct bf_codec_params *params,
                  struct bf_codec **codec);

/* Release an instance and its library state. Accepts NULL. */
void bf_codec_close(struct bf_codec *codec);

/* The registry name of an instance ("jpeg"); static storage. */
const char *bf_codec_name(const struct bf_codec *codec);

/*
 * 1 if the codec encodes pixels and needs the geometry of struct
 * bf_payload, 0 if it encodes opaque bytes.
 */
int bf_codec_is_image(const struct bf_codec *codec);

/* Coding */

/*
 * Encode in and append the encoded bytes to out. Returns 0, BF_EINVAL for a
 * payload the codec cannot take (for "jpeg": a geometry that is missing,
 * has a channel count other than 1 or 3, exceeds 65500 pixels a side, or
 * disagrees with len), BF_ENOMEM, or BF_EINTERNAL when the library fails.
 */
int bf_codec_encode(struct bf_codec *codec, const struct bf_payload *in,
                    struct bf_buf *out);

/*
 * Decode the len bytes at data and append the result to out. On success,
 * if decoded is not NULL, it describes what was appended: data points into
 * out (borrowed until the next change to out), len is its byte count and
 * the geometry is that of the decoded image ("jpeg") or zero (byte codecs).
 * Returns 0, BF_EPARSE for malformed, truncated or corrupt input,
 * BF_ERANGE when the output would exceed max_decoded_bytes,
 * BF_EUNSUPPORTED for a JPEG colour space other than grey or RGB/YCbCr,
 * BF_EINVAL, BF_ENOMEM, or BF_EINTERNAL when the library cannot set up a
 * decoder. A failed decode leaves the instance usable.
 */
int bf_codec_decode(struct bf_codec *codec, const uint8_t *data, size_t len,
                    struct bf_buf *out, struct bf_payload *decoded);

#endif /* BF_CODEC_H */
