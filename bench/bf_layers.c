/* bf_layers: layer list files of architectures outside the zoo. */
#include "bf_layers.h"

#include "bf_buf.h"
#include "bf_err.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "bfbench layer list 1"
#define FILE_MAX (16u << 20)
#define LAYERS_MAX 100000
#define DEFAULT_PX 224

int bf_layer_file_path(const char *dir, const char *arch, int px, char *out,
                       size_t size)
{
    int len;

    if (!dir || !arch || !out)
        return bf_err_set(BF_EINVAL, "bf_layer_file_path: NULL argument");
    len = snprintf(out, size, "%s/%s-%d.txt", dir, arch,
                   px > 0 ? px : DEFAULT_PX);
    if (len < 0 || (size_t)len >= size)
        return bf_err_set(BF_ERANGE, "layer list path for %s too long", arch);
    return 0;
}

/* The next line of text (without its newline) into line; 0 at the end. */
static int next_line(const char **p, char *line, size_t size)
{
    const char *nl;
    size_t len;

    if (!**p)
        return 0;
    nl = strchr(*p, '\n');
    len = nl ? (size_t)(nl - *p) : strlen(*p);
    if (len >= size)
        len = size - 1;
    memcpy(line, *p, len);
    line[len] = '\0';
    *p = nl ? nl + 1 : *p + strlen(*p);
    return 1;
}

int bf_layer_parse_ints(const char *line, int64_t *v, int k)
{
    const char *s = line;

    for (int i = 0; i < k; i++) {
        char *end;
        long long x;

        errno = 0;
        x = strtoll(s, &end, 10);
        if (end == s || errno || x < 0)
            return -1;
        v[i] = x;
        s = end;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s ? -1 : 0;
}

struct bf_layer_info bf_layer_from_row(const int64_t v[6])
{
    return (struct bf_layer_info){.kind = (int)v[0],
                                  .stage = (int)v[1],
                                  .macs = v[2],
                                  .params = v[3],
                                  .in_elems = v[4],
                                  .out_elems = v[5]};
}

int bf_layer_file_read(const char *path, const char *arch, int px,
                       struct bf_layer_info **layers, size_t *n)
{
    struct bf_buf text;
    struct bf_layer_info *buf = NULL;
    char line[512], want[256], got_arch[128];
    const char *p;
    int lineno = 0, got_px = 0, rc = 0;
    long count = -1;

    if (!path || !arch || !layers || !n)
        return bf_err_set(BF_EINVAL, "bf_layer_file_read: NULL argument");
    *layers = NULL;
    *n = 0;
    bf_buf_init(&text);
    rc = bf_buf_read_file(&text, path, FILE_MAX, "layer list");
    if (rc) {
        bf_buf_free(&text);
        return rc;
    }
    p = bf_buf_str(&text);
    snprintf(want, sizeof(want), "%s px %d", arch, px > 0 ? px : DEFAULT_PX);
#define FAIL(...)                                                              \
    do {                                                                       \
        rc = bf_err_set(BF_EPARSE, __VA_ARGS__);                               \
        goto out;                                                              \
    } while (0)
    if (!next_line(&p, line, sizeof(line)) || strcmp(line, MAGIC) != 0)
        FAIL("%s:1: not a layer list (expected '" MAGIC "')", path);
    if (!next_line(&p, line, sizeof(line)) || strncmp(line, "source ", 7))
        FAIL("%s:2: expected 'source TEXT'", path);
    if (!next_line(&p, line, sizeof(line)) ||
        sscanf(line, "arch %127s px %d", got_arch, &got_px) != 2)
        FAIL("%s:3: expected 'arch NAME px N'", path);
    if (strcmp(got_arch, arch) != 0 || got_px != (px > 0 ? px : DEFAULT_PX))
        FAIL("%s:3: describes %s px %d, not %s", path, got_arch, got_px, want);
    if (!next_line(&p, line, sizeof(line)) ||
        sscanf(line, "layers %ld", &count) != 1 || count < 1 ||
        count > LAYERS_MAX)
        FAIL("%s:4: expected 'layers N' with N in 1..%d", path, LAYERS_MAX);
    buf = calloc((size_t)count, sizeof(*buf));
    if (!buf) {
        rc = bf_err_set(BF_ENOMEM, "%s: %ld layers", path, count);
        goto out;
    }
    lineno = 4;
    for (long i = 0; i < count; i++) {
        int64_t v[6];

        lineno++;
        if (!next_line(&p, line, sizeof(line)))
            FAIL("%s:%d: the file ends after %ld of %ld layers", path, lineno,
                 i, count);
        if (bf_layer_parse_ints(line, v, 6) || v[0] >= BF_LAYER_KINDS ||
            v[1] > 1000000)
            FAIL("%s:%d: expected 'KIND STAGE MACS PARAMS IN OUT' (six "
                 "non-negative integers, KIND below %d)",
                 path, lineno, BF_LAYER_KINDS);
        buf[i] = bf_layer_from_row(v);
    }
    lineno++;
    if (!next_line(&p, line, sizeof(line)) || strcmp(line, "end") != 0)
        FAIL("%s:%d: expected 'end' after %ld layers", path, lineno, count);
    while (next_line(&p, line, sizeof(line))) {
        lineno++;
        if (line[strspn(line, " \t\r")])
            FAIL("%s:%d: text after 'end'", path, lineno);
    }
#undef FAIL
    *layers = buf;
    *n = (size_t)count;
    buf = NULL;
out:
    free(buf);
    bf_buf_free(&text);
    return rc;
}
