/*
 * bf_hash: SHA-256 of buffers and files, for provenance (scenario file,
 * data sets, weights, traces). Digests are lowercase hex, the same text
 * `sha256sum` prints.
 */
#ifndef BF_HASH_H
#define BF_HASH_H

#include <stddef.h>
#include <stdint.h>

#define BF_HASH_HEX_SIZE 65 /* 64 hex digits and a NUL */

struct bf_sha256 {
    uint32_t state[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t used;
};

void bf_sha256_init(struct bf_sha256 *ctx);
void bf_sha256_update(struct bf_sha256 *ctx, const void *data, size_t len);
/* Finish and write the hex digest into hex (BF_HASH_HEX_SIZE bytes). */
void bf_sha256_final(struct bf_sha256 *ctx, char hex[BF_HASH_HEX_SIZE]);

/* Hex digest of a buffer. */
void bf_hash_buffer(const void *data, size_t len, char hex[BF_HASH_HEX_SIZE]);

/* Hex digest of a file's bytes. Returns 0 or BF_ENOENT / BF_EIO (detail set
 * naming the path). */
int bf_hash_file(const char *path, char hex[BF_HASH_HEX_SIZE]);

#endif /* BF_HASH_H */
