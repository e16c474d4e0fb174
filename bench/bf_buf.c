/* bf_buf: growable NUL-terminated buffer. */
#define _POSIX_C_SOURCE 200809L
#include "bf_buf.h"

#include "bf_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bf_buf_init(struct bf_buf *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void bf_buf_free(struct bf_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    bf_buf_init(buf);
}

void bf_buf_reset(struct bf_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

static int reserve(struct bf_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    size_t cap = buf->cap ? buf->cap : 64;
    char *data;

    if (need <= buf->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    data = realloc(buf->data, cap);
    if (!data)
        return bf_err_set(BF_ENOMEM, "buffer of %zu bytes", cap);
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int bf_buf_extend(struct bf_buf *buf, size_t len, char **space)
{
    int rc = reserve(buf, len);

    if (rc)
        return rc;
    *space = buf->data + buf->len;
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int bf_buf_append(struct bf_buf *buf, const void *bytes, size_t len)
{
    int rc = reserve(buf, len);

    if (rc)
        return rc;
    if (len)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int bf_buf_printf(struct bf_buf *buf, const char *fmt, ...)
{
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return bf_err_set(BF_EINVAL, "bad format '%s'", fmt);
    rc = reserve(buf, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

const char *bf_buf_str(const struct bf_buf *buf)
{
    return buf->data ? buf->data : "";
}

int bf_buf_read_file(struct bf_buf *buf, const char *path, size_t max_bytes,
                     const char *what)
{
    enum { CHUNK = 4096 };
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; only regular
     * files are read (a FIFO, a device or a directory is refused). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *f;
    int rc = 0;

    bf_buf_reset(buf);
    if (fd < 0)
        return bf_err_set(BF_ENOENT, "cannot open %s '%s': %s", what, path,
                          strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bf_err_set(BF_ENOENT, "%s '%s' is not a regular file", what,
                          path);
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
        !(f = fdopen(fd, "rb"))) {
        rc = bf_err_set(BF_ENOENT, "cannot open %s '%s': %s", what, path,
                        strerror(errno));
        close(fd);
        return rc;
    }
    for (;;) {
        char *space;
        size_t got;

        rc = bf_buf_extend(buf, CHUNK, &space);
        if (rc) {
            rc = bf_err_set(BF_ENOMEM, "%s: out of memory", path);
            break;
        }
        got = fread(space, 1, CHUNK, f);
        buf->len -= CHUNK - got;
        buf->data[buf->len] = '\0';
        if (buf->len > max_bytes) {
            rc = bf_err_set(BF_ERANGE, "%s: %s larger than %zu bytes", path,
                            what, max_bytes);
            break;
        }
        if (ferror(f)) {
            rc = bf_err_set(BF_ENOENT, "cannot read %s '%s': %s", what, path,
                            strerror(errno));
            break;
        }
        if (feof(f))
            break;
    }
    fclose(f);
    if (rc)
        bf_buf_reset(buf);
    return rc;
}
