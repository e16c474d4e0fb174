/*
 * bf_buf: a growable byte buffer that is always NUL-terminated, for building
 * strings (SQL, reports, provenance) and byte payloads.
 *
 * Ownership: the struct is the caller's; bf_buf_init() leaves it empty,
 * bf_buf_free() releases the memory and accepts a zeroed or freed buffer.
 * `data` is borrowed until the next append or free.
 */
#ifndef BF_BUF_H
#define BF_BUF_H

#include <stddef.h>

struct bf_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
};

void bf_buf_init(struct bf_buf *buf);
void bf_buf_free(struct bf_buf *buf);

/* Drop the contents, keep the memory. */
void bf_buf_reset(struct bf_buf *buf);

/* Append len bytes. Returns 0 or BF_ENOMEM. */
int bf_buf_append(struct bf_buf *buf, const void *bytes, size_t len);

/* Grow by len uninitialised bytes for the caller to fill (a read into
 * the buffer); *space receives where they start. 0 or BF_ENOMEM. */
int bf_buf_extend(struct bf_buf *buf, size_t len, char **space);

/* Append formatted text. Returns 0 or BF_ENOMEM. */
int bf_buf_printf(struct bf_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Replace the contents with the whole file at path (at most max_bytes).
 * what names the file in messages ("scenario", "device profile"):
 * BF_ENOENT "cannot open|read WHAT 'PATH': <strerror>" when it is missing
 * or unreadable, BF_ERANGE "PATH: WHAT larger than MAX bytes", BF_ENOMEM.
 */
int bf_buf_read_file(struct bf_buf *buf, const char *path, size_t max_bytes,
                     const char *what);

/* The contents as a string ("" when empty); borrowed. */
const char *bf_buf_str(const struct bf_buf *buf);

#endif /* BF_BUF_H */
