/*
 * bf_proto: the wire format between the mobile client and the edge server,
 * as pure functions over byte buffers (no I/O, no allocation).
 *
 * Every frame starts with a fixed 48-byte header, all integers big-endian,
 * floats as their IEEE-754 bits; the header says how many bytes follow, so
 * a reader reads the header, checks it, then reads exactly that many bytes.
 *
 * Request (client -> server), header then payload_len payload bytes:
 *
 *   off size field
 *     0    4 magic "BFRQ"
 *     4    2 version (BF_PROTO_VERSION)
 *     6    1 kind: 1 JPEG image, 2 raw float32 tensor, 3 8-bit quantized
 *              tensor, 4 8-bit quantized tensor, zstd-compressed
 *     7    1 ndim: 0 for JPEG, 1..4 for tensors
 *     8    4 config id (which model / tail the server runs)
 *    12    8 request id (echoed in the reply)
 *    20    4 payload_len
 *    24   16 shape: 4 x u32, unused dimensions 0
 *    40    4 scale (float32 bits; quantized kinds, else 0)
 *    44    4 zero point (int32; quantized kinds 0..255, else 0)
 *
 * Reply (server -> client), header then k * 8 bytes of top-k entries
 * (u32 class, float32 score) then message_len bytes of UTF-8 text:
 *
 *   off size field
 *     0    4 magic "BFRP"
 *     4    2 version
 *     6    1 status (enum bf_proto_status)
 *     7    1 k, 0..BF_PROTO_TOPK_MAX
 *     8    8 request id (0 when the request could not be parsed)
 *    16    8 server queue wait, ns
 *    24    8 server decode, ns
 *    32    8 server tail compute, ns
 *    40    2 message_len, 0..BF_PROTO_MESSAGE_MAX
 *    42    6 reserved, zero
 *
 * Checks. A request header is refused (BF_EPROTO, the detail naming the
 * field and its value) for a wrong magic, an unknown kind,
 * an ndim that does not fit the kind, a zero or (beyond ndim) nonzero
 * dimension, an element count above limits->max_elements, a payload above
 * limits->max_payload, a raw or quantized payload whose length is not
 * elements x element size, quantization parameters on a kind without them
 * or out of range, a non-finite or non-positive scale. A zstd payload's
 * decompressed size is the caller's to check against
 * bf_proto_elements(). A reply is refused for the same header faults,
 * an unknown status, k or message_len out of range or nonzero reserved
 * bytes. Another version is BF_EVERSION (the server answers
 * BF_PROTO_BAD_VERSION).
 */
#ifndef BF_PROTO_H
#define BF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define BF_PROTO_VERSION 1
#define BF_PROTO_HEADER_SIZE 48
#define BF_PROTO_MAX_DIMS 4
#define BF_PROTO_TOPK_MAX 10
#define BF_PROTO_MESSAGE_MAX 512

enum bf_proto_kind {
    BF_PROTO_JPEG = 1,
    BF_PROTO_F32 = 2,
    BF_PROTO_U8 = 3,
    BF_PROTO_U8_ZSTD = 4,
};

enum bf_proto_status {
    BF_PROTO_OK = 0,
    BF_PROTO_BUSY = 1,        /* queue full: try again later */
    BF_PROTO_BAD_REQUEST = 2, /* malformed frame; the connection closes */
    BF_PROTO_UNKNOWN_CONFIG = 3,
    BF_PROTO_SERVER_ERROR = 4,
    BF_PROTO_BAD_VERSION = 5,
};

struct bf_proto_limits {
    uint32_t max_payload;  /* bytes after the header */
    uint64_t max_elements; /* of a tensor */
};

struct bf_proto_request {
    uint8_t kind; /* enum bf_proto_kind */
    uint8_t ndim;
    uint32_t config_id;
    uint64_t request_id;
    uint32_t payload_len;
    uint32_t shape[BF_PROTO_MAX_DIMS];
    float scale;
    int32_t zero_point;
};

struct bf_proto_topk {
    uint32_t cls;
    float score;
};

struct bf_proto_reply {
    uint8_t status; /* enum bf_proto_status */
    uint8_t k;
    uint64_t request_id;
    uint64_t queue_ns, decode_ns, tail_ns;
    struct bf_proto_topk topk[BF_PROTO_TOPK_MAX];
    uint16_t message_len;
    char message[BF_PROTO_MESSAGE_MAX + 1]; /* NUL-terminated */
};

/* The defaults: 16 MiB payload, 64 Mi elements. */
struct bf_proto_limits bf_proto_default_limits(void);

/* Elements of a tensor request (product of its shape; 0 for JPEG). */
uint64_t bf_proto_elements(const struct bf_proto_request *r);

/*
 * Check r as a request header would be checked and write it to
 * out[BF_PROTO_HEADER_SIZE]. BF_EPROTO when r would be refused.
 */
int bf_proto_request_emit(const struct bf_proto_request *r,
                          const struct bf_proto_limits *limits,
                          uint8_t out[BF_PROTO_HEADER_SIZE]);

/*
 * Parse and check a request header from len bytes at buf (len must be at
 * least BF_PROTO_HEADER_SIZE, else BF_EPROTO "truncated"). Fills *out only
 * on success. The payload (out->payload_len bytes) follows the header.
 */
int bf_proto_request_parse(const uint8_t *buf, size_t len,
                           const struct bf_proto_limits *limits,
                           struct bf_proto_request *out);

/* Bytes a reply occupies: header, top-k entries and message. */
size_t bf_proto_reply_size(const struct bf_proto_reply *r);

/*
 * Write reply r to out (room for cap bytes; *written receives the size).
 * The message is r->message truncated to BF_PROTO_MESSAGE_MAX bytes
 * (message_len is computed here). BF_EPROTO for a bad status or k,
 * BF_ERANGE when cap is too small.
 */
int bf_proto_reply_emit(const struct bf_proto_reply *r, uint8_t *out,
                        size_t cap, size_t *written);

/*
 * Parse a reply header (the first BF_PROTO_HEADER_SIZE bytes). On success
 * *body receives how many bytes of top-k entries and message follow.
 */
int bf_proto_reply_parse_header(const uint8_t *buf, size_t len,
                                struct bf_proto_reply *out, size_t *body);

/* Parse the body (exactly body bytes) of a reply whose header *r holds. */
int bf_proto_reply_parse_body(const uint8_t *buf, size_t len,
                              struct bf_proto_reply *r);

#endif /* BF_PROTO_H */
