/*
 * bf_hash: SHA-256 as specified in FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1,
 * 5.3.3 and 6.2), plus hex digests of buffers and files.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_hash.h"

#include "bf_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* File hashing reads this many bytes at a time. */
#define CHUNK_BYTES (1024 * 1024)

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (FIPS 180-4 section 4.2.2). */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* The six logical functions of section 4.1.2. */
static uint32_t ch(uint32_t x, uint32_t y, uint32_t z)
{
    return (x & y) ^ (~x & z);
}

static uint32_t maj(uint32_t x, uint32_t y, uint32_t z)
{
    return (x & y) ^ (x & z) ^ (y & z);
}

static uint32_t big_sigma0(uint32_t x)
{
    return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
}

static uint32_t big_sigma1(uint32_t x)
{
    return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
}

static uint32_t small_sigma0(uint32_t x)
{
    return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3);
}

static uint32_t small_sigma1(uint32_t x)
{
    return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10);
}

/* Process one 512-bit block (section 6.2.2). */
static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, h;
    int t;

    for (t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
               (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
    for (t = 16; t < 64; t++)
        w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) +
               w[t - 16];

    a = state[0];
    b = state[1];
    c = state[2];
    d = state[3];
    e = state[4];
    f = state[5];
    g = state[6];
    h = state[7];
    for (t = 0; t < 64; t++) {
        uint32_t t1 = h + big_sigma1(e) + ch(e, f, g) + K[t] + w[t];
        uint32_t t2 = big_sigma0(a) + maj(a, b, c);

        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void bf_sha256_init(struct bf_sha256 *ctx)
{
    /* Initial hash value, section 5.3.3. */
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};

    memcpy(ctx->state, h0, sizeof(h0));
    ctx->bytes = 0;
    ctx->used = 0;
}

void bf_sha256_update(struct bf_sha256 *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;

    ctx->bytes += len;
    if (ctx->used) {
        size_t take = sizeof(ctx->block) - ctx->used;

        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used < sizeof(ctx->block))
            return;
        compress(ctx->state, ctx->block);
        ctx->used = 0;
    }
    while (len >= sizeof(ctx->block)) {
        compress(ctx->state, p);
        p += sizeof(ctx->block);
        len -= sizeof(ctx->block);
    }
    if (len) {
        memcpy(ctx->block, p, len);
        ctx->used = len;
    }
}

void bf_sha256_final(struct bf_sha256 *ctx, char hex[BF_HASH_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t bits = ctx->bytes * 8;
    int i;

    /* Padding (section 5.1.1): a 1 bit, zeros up to 56 bytes mod 64, then
     * the message length in bits as a big-endian 64-bit integer. */
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, sizeof(ctx->block) - ctx->used);
        compress(ctx->state, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    for (i = 0; i < 8; i++)
        ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(ctx->state, ctx->block);

    for (i = 0; i < 32; i++) {
        uint8_t byte = (uint8_t)(ctx->state[i / 4] >> (24 - 8 * (i % 4)));

        hex[2 * i] = digits[byte >> 4];
        hex[2 * i + 1] = digits[byte & 0x0f];
    }
    hex[64] = '\0';
    /* The context is spent; clear it so that a reuse without init is
     * obviously wrong rather than silently continuing. */
    memset(ctx, 0, sizeof(*ctx));
}

void bf_hash_buffer(const void *data, size_t len, char hex[BF_HASH_HEX_SIZE])
{
    struct bf_sha256 ctx;

    bf_sha256_init(&ctx);
    bf_sha256_update(&ctx, data, len);
    bf_sha256_final(&ctx, hex);
}

int bf_hash_file(const char *path, char hex[BF_HASH_HEX_SIZE])
{
    struct bf_sha256 ctx;
    unsigned char *chunk;
    FILE *f;
    size_t n;
    int rc = 0;

    f = fopen(path, "rb");
    if (!f) {
        int err = errno;

        return bf_err_set(err == ENOENT ? BF_ENOENT : BF_EIO, "%s: %s", path,
                          strerror(err));
    }
    chunk = malloc(CHUNK_BYTES);
    if (!chunk) {
        rc = bf_err_set(BF_ENOMEM, "%s: no memory for a read buffer", path);
        goto out_close;
    }
    bf_sha256_init(&ctx);
    while ((n = fread(chunk, 1, CHUNK_BYTES, f)) > 0)
        bf_sha256_update(&ctx, chunk, n);
    if (ferror(f)) {
        rc = bf_err_set(BF_EIO, "%s: read error: %s", path, strerror(errno));
        goto out_free;
    }
    bf_sha256_final(&ctx, hex);

out_free:
    free(chunk);
out_close:
    fclose(f);
    return rc;
}
