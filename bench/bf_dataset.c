/*
 * bf_dataset: IDX files and ImageFolder trees as normalised batches.
 *
 * IDX files are read through zlib's gzread (which passes plain files
 * through) into memory. Folder images are decoded per batch by a small
 * pool of worker threads sharing one job at a time; the transforms follow
 * torchvision 0.14 on Pillow images, including Pillow's fixed-point
 * bilinear resampling (ImagingResample), so that eval inputs match
 * torchvision's closely.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_dataset.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_log.h"
#include "bf_rng.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_TYPE_U8 0x08
#define IDX_READ_CHUNK (1u << 20)
#define IDX_MAX_SIDE (1u << 15)

#define FOLDER_MAX_DEPTH 32
#define FOLDER_MAX_FILE_BYTES (1L << 30)

/* Random streams (bf_rng_init's second argument) of this module. */
#define STREAM_SPLIT 0x73706c6974ULL         /* "split" */
#define STREAM_SHUFFLE 0x7368756600000000ULL /* "shuf" << 32 + epoch */
#define STREAM_TRANSFORM 0x7866726dULL       /* "xfrm", mixed below */

/* Pillow's fixed-point resampling precision (Resample.c). */
#define PRECISION_BITS (32 - 8 - 2)

enum kind {
    KIND_IDX,
    KIND_FOLDER,
};

/* One image of a folder data set. */
struct entry {
    size_t off;       /* of the relative path in the name pool */
    uint32_t dir_len; /* bytes of the relative path before the file name */
    uint32_t label;
};

/* Per-thread decoding state and reusable buffers. */
struct scratch {
    tjhandle tj;
    struct bf_buf path;
    uint8_t *file;
    size_t file_cap;
    uint8_t *rgb;
    size_t rgb_cap;
    uint8_t *tmp;
    size_t tmp_cap;
    uint8_t *out;
    size_t out_cap;
    int32_t *kx;
    size_t kx_cap;
    int32_t *ky;
    size_t ky_cap;
    int *xb; /* per output column: first input pixel, count */
    size_t xb_cap;
    int *yb; /* per output row: first input row, count */
    size_t yb_cap;
};

/* The one batch the workers decode at a time. */
struct job {
    uint32_t *idx; /* owned copy of the indices */
    size_t idx_cap;
    size_t n;
    uint32_t epoch;
    float *images; /* target: the caller's or the prefetch buffer */
    int64_t *labels;
    size_t next; /* next item to claim */
    size_t done; /* items finished or skipped */
    int active;  /* submitted, not yet collected by pool_wait() */
    int rc;      /* first failure, by item order */
    size_t err_item;
    char err[BF_ERR_DETAIL_MAX];
};

struct worker {
    struct bf_dataset *ds;
    int k;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    int ready; /* mutex and conditions initialised */
    int nthreads;
    int started;
    int stop;
    pthread_t *threads;
    struct worker *workers;
    struct scratch *scratch; /* one per thread */
    struct job job;
    int prefetched; /* job is a prefetch into pf_images / pf_labels */
    float *pf_images;
    int64_t *pf_labels;
    size_t pf_cap; /* items */
};

struct bf_dataset {
    enum kind kind;
    struct bf_dataset_info info;
    float lut[3][256]; /* normalised value of each byte, per channel */
    size_t item_bytes; /* channels * height * width */
    const char *const *fixed_names; /* class names of a known IDX set */

    /* IDX */
    uint8_t *pixels;
    uint8_t *labels;
    char *images_path;
    char *labels_path;

    /* Folder */
    char *root;
    struct bf_buf names; /* NUL-separated relative paths */
    struct entry *entries;
    char **classes;
    int train;
    uint64_t seed;
    uint32_t epoch;
    int resize;
    struct scratch scratch; /* the caller thread's */
    struct pool pool;
};

static const char *const fmnist_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

/* Helpers */

/*
 * Make the array *ptr (any pointer type, passed as its address) hold need
 * elements of elem bytes, growing *cap geometrically. The pointer is moved
 * with memcpy so that any pointer type can be passed.
 */
static int grow(void *ptr, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 16;
    void *old, *q;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem)
        return bf_err_set(BF_ENOMEM, "buffer of %zu x %zu bytes", n, elem);
    memcpy(&old, ptr, sizeof(old));
    q = realloc(old, n * elem);
    if (!q)
        return bf_err_set(BF_ENOMEM, "buffer of %zu bytes", n * elem);
    memcpy(ptr, &q, sizeof(q));
    *cap = n;
    return 0;
}

static char *dup_str(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);

    if (d)
        memcpy(d, s, len);
    return d;
}

static int errno_code(int e)
{
    return e == ENOENT || e == ENOTDIR ? BF_ENOENT : BF_EIO;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int norm_ok(float mean, float std)
{
    return isfinite(mean) && isfinite(std) && std > 0.0f;
}

/* The same float32 arithmetic as torchvision's ToTensor + Normalize. */
static void fill_lut(struct bf_dataset *ds)
{
    for (int c = 0; c < ds->info.channels; c++)
        for (int v = 0; v < 256; v++)
            ds->lut[c][v] =
                ((float)v / 255.0f - ds->info.mean[c]) / ds->info.std[c];
}

static struct bf_dataset *dataset_new(enum kind kind)
{
    struct bf_dataset *ds = calloc(1, sizeof(*ds));

    if (!ds)
        return NULL;
    ds->kind = kind;
    bf_buf_init(&ds->names);
    bf_buf_init(&ds->scratch.path);
    return ds;
}

/* IDX files */

struct idx_file {
    const char *path;
    gzFile gz;
    size_t offset; /* bytes consumed, of the decompressed stream */
    int gzipped;
};

static int idx_open(const char *path, struct idx_file *f)
{
    unsigned char magic[2];
    struct stat st;
    int fd;

    f->path = path;
    f->gz = NULL;
    f->offset = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bf_err_set(errno_code(errno), "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bf_err_set(BF_EIO, "%s: not a regular file", path);
    }
    f->gzipped =
        pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return bf_err_set(BF_ENOMEM, "%s: cannot start zlib", path);
    }
    gzbuffer(f->gz, 1u << 17);
    return 0;
}

static void idx_close(struct idx_file *f)
{
    if (f->gz)
        gzclose(f->gz);
    f->gz = NULL;
}

/* Read up to len bytes; *got < len only at the end of the data. */
static int idx_read(struct idx_file *f, void *buf, size_t len, size_t *got)
{
    unsigned char *p = buf;

    *got = 0;
    while (*got < len) {
        size_t want = len - *got;
        int errnum;
        const char *msg;
        int r;

        if (want > (1u << 30))
            want = 1u << 30;
        r = gzread(f->gz, p + *got, (unsigned)want);
        if (r < 0) {
            msg = gzerror(f->gz, &errnum);
            return bf_err_set(errnum == Z_ERRNO ? BF_EIO : BF_EPARSE,
                              "%s: byte offset %zu%s: %s", f->path,
                              f->offset + *got,
                              f->gzipped ? " (decompressed)" : "",
                              errnum == Z_ERRNO ? strerror(errno) : msg);
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    f->offset += *got;
    return 0;
}

/* Read and check the header: magic (u8 type, ndims) and the dimensions. */
static int idx_header(struct idx_file *f, uint32_t magic, int ndims,
                      uint32_t *dims)
{
    unsigned char hdr[16];
    size_t need = 4 + 4 * (size_t)ndims;
    size_t got;
    uint32_t m;
    int rc;

    rc = idx_read(f, hdr, 4, &got);
    if (rc)
        return rc;
    if (got < 4)
        return bf_err_set(BF_EPARSE,
                          "%s: truncated IDX header: %zu of %zu bytes", f->path,
                          got, need);
    m = be32(hdr);
    if (hdr[0] != 0 || hdr[1] != 0)
        return bf_err_set(BF_EPARSE,
                          "%s: not an IDX file (magic 0x%08x, expected "
                          "0x%08x)",
                          f->path, m, magic);
    if (hdr[2] != IDX_TYPE_U8)
        return bf_err_set(BF_EPARSE,
                          "%s: IDX data type 0x%02x not supported (magic "
                          "0x%08x, expected 0x%08x: unsigned bytes)",
                          f->path, hdr[2], m, magic);
    if (hdr[3] != ndims)
        return bf_err_set(BF_EPARSE,
                          "%s: IDX file has %d dimension%s (magic 0x%08x), "
                          "expected %d for %s (0x%08x)",
                          f->path, hdr[3], hdr[3] == 1 ? "" : "s", m, ndims,
                          ndims == 3 ? "images" : "labels", magic);
    rc = idx_read(f, hdr + 4, need - 4, &got);
    if (rc)
        return rc;
    if (got < need - 4)
        return bf_err_set(BF_EPARSE,
                          "%s: truncated IDX header: %zu of %zu bytes", f->path,
                          4 + got, need);
    for (int i = 0; i < ndims; i++)
        dims[i] = be32(hdr + 4 + 4 * i);
    return 0;
}

/*
 * Read exactly total data bytes and check that nothing follows. The buffer
 * grows with the data, so a header claiming more than the file holds fails
 * as truncated rather than by allocating its claim.
 */
static int idx_data(struct idx_file *f, size_t total, uint8_t **out)
{
    size_t cap = total < IDX_READ_CHUNK ? total : IDX_READ_CHUNK;
    size_t start = f->offset;
    size_t have = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    unsigned char extra;
    size_t got;
    int rc;

    if (!buf)
        return bf_err_set(BF_ENOMEM, "%s: %zu bytes", f->path, cap);
    while (have < total) {
        if (have == cap) {
            size_t ncap = cap > total / 2 ? total : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap);

            if (!nbuf) {
                rc = bf_err_set(BF_ENOMEM, "%s: %zu bytes", f->path, ncap);
                goto out_free;
            }
            buf = nbuf;
            cap = ncap;
        }
        rc = idx_read(f, buf + have, cap - have, &got);
        if (rc)
            goto out_free;
        have += got;
        if (have < cap)
            break;
    }
    if (have < total) {
        rc = bf_err_set(BF_EPARSE,
                        "%s: truncated: the header promises %zu data bytes, "
                        "the file ends after %zu (byte offset %zu%s)",
                        f->path, total, have, start + have,
                        f->gzipped ? " decompressed" : "");
        goto out_free;
    }
    rc = idx_read(f, &extra, 1, &got);
    if (rc)
        goto out_free;
    if (got) {
        rc = bf_err_set(BF_EPARSE,
                        "%s: trailing data after byte offset %zu%s (the "
                        "header promises %zu data bytes)",
                        f->path, start + total,
                        f->gzipped ? " (decompressed)" : "", total);
        goto out_free;
    }
    *out = buf;
    return 0;

out_free:
    free(buf);
    return rc;
}

static int idx_load_images(const char *path, uint32_t *n, uint32_t *rows,
                           uint32_t *cols, uint8_t **pixels)
{
    struct idx_file f;
    uint32_t dims[3] = {0, 0, 0};
    int rc;

    rc = idx_open(path, &f);
    if (rc)
        return rc;
    rc = idx_header(&f, IDX_MAGIC_IMAGES, 3, dims);
    if (rc)
        goto out_close;
    if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0) {
        rc = bf_err_set(BF_EPARSE, "%s: empty IDX images (%u x %u x %u)", path,
                        dims[0], dims[1], dims[2]);
        goto out_close;
    }
    if (dims[1] > IDX_MAX_SIDE || dims[2] > IDX_MAX_SIDE ||
        (long)dims[1] * dims[2] > BF_DATASET_MAX_PIXELS) {
        rc = bf_err_set(BF_ERANGE, "%s: images of %u x %u pixels too large",
                        path, dims[1], dims[2]);
        goto out_close;
    }
    rc = idx_data(&f, (size_t)dims[0] * dims[1] * dims[2], pixels);
    if (rc)
        goto out_close;
    *n = dims[0];
    *rows = dims[1];
    *cols = dims[2];

out_close:
    idx_close(&f);
    return rc;
}

static int idx_load_labels(const char *path, uint32_t *n, uint8_t **labels)
{
    struct idx_file f;
    uint32_t dims[1] = {0};
    int rc;

    rc = idx_open(path, &f);
    if (rc)
        return rc;
    rc = idx_header(&f, IDX_MAGIC_LABELS, 1, dims);
    if (rc)
        goto out_close;
    rc = idx_data(&f, dims[0], labels);
    if (rc)
        goto out_close;
    *n = dims[0];

out_close:
    idx_close(&f);
    return rc;
}

int bf_dataset_open_idx(const struct bf_dataset_idx_params *params,
                        struct bf_dataset **out)
{
    struct bf_dataset *ds;
    uint32_t n_img = 0, n_lab = 0, rows = 0, cols = 0;
    float mean, std;
    int num_classes;
    int rc;

    if (!params || !out || !params->images_path || !params->labels_path)
        return bf_err_set(BF_EINVAL, "open_idx: NULL argument");
    num_classes = params->num_classes;
    if (num_classes < 0 || num_classes > 256)
        return bf_err_set(BF_EINVAL,
                          "%s: num_classes %d not in 0..256 (0 = infer)",
                          params->labels_path, num_classes);
    mean = params->mean;
    std = params->std;
    if (mean == 0.0f && std == 0.0f) {
        mean = BF_DATASET_FMNIST_MEAN;
        std = BF_DATASET_FMNIST_STD;
    }
    if (!norm_ok(mean, std))
        return bf_err_set(BF_EINVAL,
                          "%s: normalisation mean %g std %g (std must be "
                          "finite and > 0)",
                          params->images_path, (double)mean, (double)std);

    ds = dataset_new(KIND_IDX);
    if (!ds)
        return bf_err_set(BF_ENOMEM, "data set handle");
    ds->images_path = dup_str(params->images_path);
    ds->labels_path = dup_str(params->labels_path);
    if (!ds->images_path || !ds->labels_path) {
        rc = bf_err_set(BF_ENOMEM, "data set paths");
        goto out_close;
    }
    rc =
        idx_load_images(params->images_path, &n_img, &rows, &cols, &ds->pixels);
    if (rc)
        goto out_close;
    rc = idx_load_labels(params->labels_path, &n_lab, &ds->labels);
    if (rc)
        goto out_close;
    if (n_img != n_lab) {
        rc = bf_err_set(BF_EPARSE, "%s holds %u images but %s holds %u labels",
                        params->images_path, n_img, params->labels_path, n_lab);
        goto out_close;
    }
    if (num_classes > 0) {
        for (uint32_t i = 0; i < n_lab; i++) {
            if (ds->labels[i] >= num_classes) {
                rc = bf_err_set(BF_ERANGE,
                                "%s: item %u (byte offset %u): label %u "
                                "out of range (num_classes %d)",
                                params->labels_path, i, 8 + i, ds->labels[i],
                                num_classes);
                goto out_close;
            }
        }
    } else {
        for (uint32_t i = 0; i < n_lab; i++)
            if (ds->labels[i] >= num_classes)
                num_classes = ds->labels[i] + 1;
    }

    ds->info.n = n_img;
    ds->info.channels = 1;
    ds->info.height = (int)rows;
    ds->info.width = (int)cols;
    ds->info.num_classes = num_classes;
    ds->info.train = 0;
    ds->info.mean[0] = mean;
    ds->info.std[0] = std;
    snprintf(ds->info.source, sizeof(ds->info.source), "idx:%s,%s",
             params->images_path, params->labels_path);
    ds->item_bytes = (size_t)rows * cols;
    fill_lut(ds);
    *out = ds;
    return 0;

out_close:
    bf_dataset_close(ds);
    return rc;
}

/* Path of dir/name, or dir/name.gz when only that exists. */
static int fmnist_path(struct bf_buf *buf, const char *dir, const char *name)
{
    struct stat st;
    int rc;

    bf_buf_reset(buf);
    rc = bf_buf_printf(buf, "%s/%s.gz", dir, name);
    if (rc || stat(buf->data, &st) == 0)
        return rc;
    bf_buf_reset(buf);
    rc = bf_buf_printf(buf, "%s/%s", dir, name);
    if (rc || stat(buf->data, &st) == 0)
        return rc;
    return bf_err_set(BF_ENOENT,
                      "%s/%s.gz: no such file (nor without .gz); the "
                      "Debian package dataset-fashion-mnist installs it",
                      dir, name);
}

int bf_dataset_open_fmnist(const char *dir, int train, struct bf_dataset **out)
{
    struct bf_buf images, labels;
    const char *prefix = train ? "train" : "t10k";
    char name[64];
    int rc;

    if (!out)
        return bf_err_set(BF_EINVAL, "open_fmnist: NULL argument");
    if (!dir)
        dir = BF_DATASET_FMNIST_DIR;
    bf_buf_init(&images);
    bf_buf_init(&labels);
    snprintf(name, sizeof(name), "%s-images-idx3-ubyte", prefix);
    rc = fmnist_path(&images, dir, name);
    if (rc)
        goto out_free;
    snprintf(name, sizeof(name), "%s-labels-idx1-ubyte", prefix);
    rc = fmnist_path(&labels, dir, name);
    if (rc)
        goto out_free;
    rc = bf_dataset_open_idx(
        &(struct bf_dataset_idx_params){.images_path = images.data,
                                        .labels_path = labels.data,
                                        .num_classes = 10},
        out);
    if (rc)
        goto out_free;
    (*out)->fixed_names = fmnist_names;

out_free:
    bf_buf_free(&labels);
    bf_buf_free(&images);
    return rc;
}

/* Folder scanning */

struct scan {
    struct bf_dataset *ds;
    struct bf_buf rel; /* relative path of the directory being walked */
    size_t n;
    size_t cap;
    size_t skipped;
};

static int is_hidden(const char *name)
{
    return name[0] == '.';
}

static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png"};
    size_t len = strlen(name);

    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i]);
        size_t k;

        if (len <= el)
            continue;
        for (k = 0; k < el; k++) {
            char c = name[len - el + k];

            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != exts[i][k])
                break;
        }
        if (k == el)
            return 1;
    }
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted, non-hidden entry names of a directory (caller frees). */
static int list_dir(const char *path, char ***names, size_t *count)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d)
        return bf_err_set(errno_code(errno), "%s: %s", path, strerror(errno));
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = bf_err_set(BF_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (is_hidden(de->d_name))
            continue;
        rc = grow(&v, &cap, n + 1, sizeof(*v));
        if (rc)
            break;
        v[n] = dup_str(de->d_name);
        if (!v[n]) {
            rc = bf_err_set(BF_ENOMEM, "%s: entry names", path);
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str_ptr);
    *names = v;
    *count = n;
    return 0;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static int add_entry(struct scan *sc, const char *name, uint32_t label)
{
    struct bf_dataset *ds = sc->ds;
    size_t off = ds->names.len;
    int rc;

    if (sc->n >= UINT32_MAX)
        return bf_err_set(BF_ERANGE, "%s: more than %u images", ds->root,
                          UINT32_MAX);
    rc = grow(&ds->entries, &sc->cap, sc->n + 1, sizeof(*ds->entries));
    if (rc)
        return rc;
    rc = bf_buf_printf(&ds->names, "%s/%s", sc->rel.data, name);
    if (rc)
        return rc;
    rc = bf_buf_append(&ds->names, "", 1); /* keep the NUL separator */
    if (rc)
        return rc;
    ds->entries[sc->n].off = off;
    ds->entries[sc->n].dir_len = (uint32_t)sc->rel.len;
    ds->entries[sc->n].label = label;
    sc->n++;
    return 0;
}

/* Add the images under root/<sc->rel>, recursively. */
static int walk(struct scan *sc, uint32_t label, int depth)
{
    struct bf_buf path;
    char **names = NULL;
    size_t count = 0;
    size_t rel_len = sc->rel.len;
    int rc;

    bf_buf_init(&path);
    rc = bf_buf_printf(&path, "%s/%s", sc->ds->root, sc->rel.data);
    if (rc)
        goto out_free;
    if (depth > FOLDER_MAX_DEPTH) {
        rc = bf_err_set(BF_EPARSE,
                        "%s: nested more than %d levels (a "
                        "symbolic link loop?)",
                        path.data, FOLDER_MAX_DEPTH);
        goto out_free;
    }
    rc = list_dir(path.data, &names, &count);
    if (rc)
        goto out_free;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        size_t base = path.len;

        rc = bf_buf_printf(&path, "/%s", names[i]);
        if (rc)
            goto out_free;
        if (stat(path.data, &st) != 0) {
            bf_log_warn("%s: %s; skipped", path.data, strerror(errno));
            sc->skipped++;
        } else if (S_ISDIR(st.st_mode)) {
            rc = bf_buf_printf(&sc->rel, "/%s", names[i]);
            if (rc)
                goto out_free;
            rc = walk(sc, label, depth + 1);
            sc->rel.len = rel_len;
            sc->rel.data[rel_len] = '\0';
            if (rc)
                goto out_free;
        } else if (S_ISREG(st.st_mode) && has_image_ext(names[i])) {
            rc = add_entry(sc, names[i], label);
            if (rc)
                goto out_free;
        } else {
            sc->skipped++;
        }
        path.len = base;
        path.data[base] = '\0';
    }

out_free:
    free_names(names, count);
    bf_buf_free(&path);
    return rc;
}

/* Order of torchvision's make_dataset: class, directory path, file name. */
static int cmp_entry(const void *a, const void *b, const char *pool)
{
    const struct entry *x = a, *y = b;
    const char *px = pool + x->off, *py = pool + y->off;
    size_t n = x->dir_len < y->dir_len ? x->dir_len : y->dir_len;
    int c;

    if (x->label != y->label)
        return x->label < y->label ? -1 : 1;
    c = memcmp(px, py, n);
    if (c)
        return c;
    if (x->dir_len != y->dir_len)
        return x->dir_len < y->dir_len ? -1 : 1;
    return strcmp(px + x->dir_len, py + y->dir_len);
}

/* qsort has no context argument: a merge sort over the entries instead. */
static void sort_entries(struct entry *v, struct entry *tmp, size_t n,
                         const char *pool)
{
    size_t mid = n / 2, i = 0, j = mid, k = 0;

    if (n < 2)
        return;
    sort_entries(v, tmp, mid, pool);
    sort_entries(v + mid, tmp, n - mid, pool);
    if (cmp_entry(&v[mid - 1], &v[mid], pool) <= 0)
        return;
    while (i < mid && j < n)
        tmp[k++] = cmp_entry(&v[j], &v[i], pool) < 0 ? v[j++] : v[i++];
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

static int scan_folder(struct bf_dataset *ds)
{
    struct scan sc = {.ds = ds};
    char **classes = NULL;
    size_t count = 0, nclasses = 0;
    struct entry *tmp;
    struct stat st;
    int rc;

    bf_buf_init(&sc.rel);
    if (stat(ds->root, &st) != 0)
        return bf_err_set(errno_code(errno), "%s: %s", ds->root,
                          strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return bf_err_set(BF_EINVAL, "%s: not a directory", ds->root);
    rc = list_dir(ds->root, &classes, &count);
    if (rc)
        return rc;
    /* Keep the directories: they are the classes. */
    for (size_t i = 0; i < count; i++) {
        struct bf_buf p;
        int is_dir;

        bf_buf_init(&p);
        rc = bf_buf_printf(&p, "%s/%s", ds->root, classes[i]);
        is_dir = !rc && stat(p.data, &st) == 0 && S_ISDIR(st.st_mode);
        bf_buf_free(&p);
        if (rc) {
            for (size_t j = i; j < count; j++)
                free(classes[j]);
            count = nclasses;
            goto out_free;
        }
        if (is_dir)
            classes[nclasses++] = classes[i];
        else
            free(classes[i]);
    }
    count = nclasses;
    if (nclasses == 0) {
        rc = bf_err_set(BF_EPARSE,
                        "%s: no class folders (expected %s/<class>/<image>)",
                        ds->root, ds->root);
        goto out_free;
    }
    if (nclasses > INT_MAX) {
        rc = bf_err_set(BF_ERANGE, "%s: %zu classes", ds->root, nclasses);
        goto out_free;
    }
    for (size_t c = 0; c < nclasses; c++) {
        size_t before = sc.n;

        bf_buf_reset(&sc.rel);
        rc = bf_buf_printf(&sc.rel, "%s", classes[c]);
        if (rc)
            goto out_free;
        rc = walk(&sc, (uint32_t)c, 0);
        if (rc)
            goto out_free;
        if (sc.n == before) {
            rc = bf_err_set(BF_EPARSE,
                            "%s/%s: class folder holds no .jpg, .jpeg or "
                            ".png image",
                            ds->root, classes[c]);
            goto out_free;
        }
    }
    if (sc.skipped)
        bf_log_warn("%s: skipped %zu entries that are not .jpg, .jpeg or "
                    ".png files",
                    ds->root, sc.skipped);
    tmp = malloc(sc.n * sizeof(*tmp));
    if (!tmp) {
        rc = bf_err_set(BF_ENOMEM, "%s: sorting %zu entries", ds->root, sc.n);
        goto out_free;
    }
    sort_entries(ds->entries, tmp, sc.n, ds->names.data);
    free(tmp);
    ds->classes = classes;
    ds->info.n = sc.n;
    ds->info.num_classes = (int)nclasses;
    bf_buf_free(&sc.rel);
    return 0;

out_free:
    free_names(classes, count);
    bf_buf_free(&sc.rel);
    return rc;
}

/* Image decoding */

static void scratch_free(struct scratch *s)
{
    if (s->tj)
        tjDestroy(s->tj);
    bf_buf_free(&s->path);
    free(s->file);
    free(s->rgb);
    free(s->tmp);
    free(s->out);
    free(s->kx);
    free(s->ky);
    free(s->xb);
    free(s->yb);
    memset(s, 0, sizeof(*s));
}

static int read_file(const char *path, struct scratch *s, size_t *len)
{
    struct stat st;
    size_t have = 0;
    int rc = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bf_err_set(errno_code(errno), "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = bf_err_set(BF_EIO, "%s: not a regular file", path);
        goto out_close;
    }
    if (st.st_size > FOLDER_MAX_FILE_BYTES) {
        rc = bf_err_set(BF_ERANGE,
                        "%s: %lld bytes, larger than an image "
                        "may be",
                        path, (long long)st.st_size);
        goto out_close;
    }
    rc = grow(&s->file, &s->file_cap, (size_t)st.st_size + 1, 1);
    if (rc)
        goto out_close;
    while (have < (size_t)st.st_size) {
        ssize_t r = read(fd, s->file + have, (size_t)st.st_size - have);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = bf_err_set(BF_EIO, "%s: %s", path, strerror(errno));
            goto out_close;
        }
        if (r == 0)
            break;
        have += (size_t)r;
    }
    *len = have;

out_close:
    close(fd);
    return rc;
}

static int check_size(const char *path, long w, long h)
{
    if (w <= 0 || h <= 0 || w * h > BF_DATASET_MAX_PIXELS)
        return bf_err_set(BF_ERANGE,
                          "%s: image of %ld x %ld pixels not supported "
                          "(limit %ld pixels)",
                          path, w, h, (long)BF_DATASET_MAX_PIXELS);
    return 0;
}

/* Pillow's MULDIV255. */
static uint8_t muldiv255(unsigned a, unsigned b)
{
    unsigned t = a * b + 128;

    return (uint8_t)(((t >> 8) + t) >> 8);
}

static int decode_jpeg(const char *path, const uint8_t *data, size_t len,
                       struct scratch *s, int *w, int *h)
{
    int width, height, subsamp, cs, rc, cmyk;
    size_t pixels;

    if (!s->tj) {
        s->tj = tjInitDecompress();
        if (!s->tj)
            return bf_err_set(BF_ENOMEM, "%s: cannot start TurboJPEG: %s", path,
                              tjGetErrorStr2(NULL));
    }
    if (tjDecompressHeader3(s->tj, data, (unsigned long)len, &width, &height,
                            &subsamp, &cs) != 0)
        return bf_err_set(BF_EPARSE, "%s: cannot decode JPEG: %s", path,
                          tjGetErrorStr2(s->tj));
    rc = check_size(path, width, height);
    if (rc)
        return rc;
    cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    pixels = (size_t)width * height;
    rc = grow(&s->rgb, &s->rgb_cap, pixels * (cmyk ? 4 : 3), 1);
    if (rc)
        return rc;
    if (tjDecompress2(s->tj, data, (unsigned long)len, s->rgb, width, 0, height,
                      cmyk ? TJPF_CMYK : TJPF_RGB, 0) != 0) {
        const char *msg = tjGetErrorStr2(s->tj);

        /* Warnings (extraneous bytes and the like) leave a usable image
         * that Pillow accepts too; a truncated file Pillow refuses. */
        if (tjGetErrorCode(s->tj) != TJERR_WARNING ||
            strstr(msg, "Premature end") != NULL)
            return bf_err_set(BF_EPARSE, "%s: cannot decode JPEG: %s", path,
                              msg);
        bf_log_debug("%s: %s", path, msg);
    }
    if (cmyk) {
        /* Adobe (inverted) CMYK, as Pillow's "CMYK;I" + convert("RGB"). */
        for (size_t i = 0; i < pixels; i++) {
            const uint8_t *p = s->rgb + 4 * i;
            uint8_t r = muldiv255(p[0], p[3]);
            uint8_t g = muldiv255(p[1], p[3]);
            uint8_t b = muldiv255(p[2], p[3]);

            s->rgb[3 * i] = r;
            s->rgb[3 * i + 1] = g;
            s->rgb[3 * i + 2] = b;
        }
    }
    *w = width;
    *h = height;
    return 0;
}

static int decode_png(const char *path, const uint8_t *data, size_t len,
                      struct scratch *s, int *w, int *h)
{
    png_image img;
    size_t pixels;
    int alpha, rc;

    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return bf_err_set(BF_EPARSE, "%s: cannot decode PNG: %s", path,
                          img.message);
    rc = check_size(path, (long)img.width, (long)img.height);
    if (rc)
        goto out_free;
    /* 16-bit samples are taken as sRGB-encoded, as Pillow keeps them. */
    img.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    img.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    pixels = (size_t)img.width * img.height;
    rc = grow(&s->rgb, &s->rgb_cap, pixels * (alpha ? 4 : 3), 1);
    if (rc)
        goto out_free;
    if (!png_image_finish_read(&img, NULL, s->rgb, 0, NULL)) {
        rc = bf_err_set(BF_EPARSE, "%s: cannot decode PNG: %s", path,
                        img.message);
        goto out_free;
    }
    if (alpha) /* drop alpha as Pillow's convert("RGB") does */
        for (size_t i = 0; i < pixels; i++)
            memmove(s->rgb + 3 * i, s->rgb + 4 * i, 3);
    *w = (int)img.width;
    *h = (int)img.height;
    return 0;

out_free:
    png_image_free(&img);
    return rc;
}

/* Decode a JPEG or PNG (chosen by content) into s->rgb, RGB interleaved. */
static int decode_image(const char *path, const uint8_t *data, size_t len,
                        struct scratch *s, int *w, int *h)
{
    static const uint8_t png_sig[8] = {0x89, 'P',  'N',  'G',
                                       '\r', '\n', 0x1a, '\n'};

    if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(path, data, len, s, w, h);
    if (len >= 8 && memcmp(data, png_sig, 8) == 0)
        return decode_png(path, data, len, s, w, h);
    return bf_err_set(BF_EPARSE, "%s: cannot decode: not a JPEG or PNG image",
                      path);
}

/* Resampling (Pillow's ImagingResample with the bilinear filter) */

static double bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/*
 * Coefficients resampling in_size pixels to out_size, for the outputs
 * [first, first + count): lo[i] and cnt[i] give the input span, k[i * ksize
 * ...] the fixed-point weights. Returns ksize or a negative BF_E*.
 */
static int coeffs(int in_size, int out_size, int first, int count, int32_t **k,
                  size_t *kcap, int **bounds, size_t *bcap)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = filterscale; /* bilinear support is 1 */
    int ksize = (int)ceil(support) * 2 + 1;
    int rc;

    rc = grow(k, kcap, (size_t)count * ksize, sizeof(**k));
    if (rc)
        return rc;
    rc = grow(bounds, bcap, (size_t)count * 2, sizeof(**bounds));
    if (rc)
        return rc;
    for (int i = 0; i < count; i++) {
        double center = (first + i + 0.5) * scale;
        int xmin = (int)(center - support + 0.5);
        int xmax = (int)(center + support + 0.5);
        int32_t *kk = *k + (size_t)i * ksize;
        double ww = 0.0;

        if (xmin < 0)
            xmin = 0;
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++)
            ww += bilinear((x + xmin - center + 0.5) / filterscale);
        for (int x = 0; x < ksize; x++) {
            double w = 0.0;

            if (x < xmax) {
                w = bilinear((x + xmin - center + 0.5) / filterscale);
                if (ww != 0.0)
                    w /= ww;
            }
            kk[x] = (int32_t)(w < 0 ? -0.5 + w * (1 << PRECISION_BITS)
                                    : 0.5 + w * (1 << PRECISION_BITS));
        }
        (*bounds)[2 * i] = xmin;
        (*bounds)[2 * i + 1] = xmax;
    }
    return ksize;
}

static uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

struct geometry {
    int bx, by, bw, bh; /* source box */
    int ow, oh;         /* size the box is resized to */
    int wx, wy, cw, ch; /* window of the resized image that is kept */
};

/*
 * Resize the box of src (sw pixels per row, RGB) to ow x oh and write the
 * window of that result to dst (cw x ch, RGB): horizontal pass, then
 * vertical, each rounding to 8 bits, as Pillow does.
 */
static int resample(struct scratch *s, const uint8_t *src, int sw,
                    const struct geometry *g, uint8_t *dst)
{
    int kxs, kys, y0, y1;
    size_t row;
    int rc;

    kxs = coeffs(g->bw, g->ow, g->wx, g->cw, &s->kx, &s->kx_cap, &s->xb,
                 &s->xb_cap);
    if (kxs < 0)
        return kxs;
    kys = coeffs(g->bh, g->oh, g->wy, g->ch, &s->ky, &s->ky_cap, &s->yb,
                 &s->yb_cap);
    if (kys < 0)
        return kys;
    y0 = s->yb[0];
    y1 = s->yb[2 * (g->ch - 1)] + s->yb[2 * (g->ch - 1) + 1];
    row = (size_t)g->cw * 3;
    rc = grow(&s->tmp, &s->tmp_cap, (size_t)(y1 - y0) * row, 1);
    if (rc)
        return rc;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = src + ((size_t)(g->by + y) * sw + g->bx) * 3;
        uint8_t *o = s->tmp + (size_t)(y - y0) * row;

        for (int x = 0; x < g->cw; x++) {
            const int32_t *k = s->kx + (size_t)x * kxs;
            const uint8_t *p = in + (size_t)s->xb[2 * x] * 3;
            int32_t r = 1 << (PRECISION_BITS - 1), gg = r, b = r;

            for (int i = 0; i < s->xb[2 * x + 1]; i++) {
                r += p[3 * i] * k[i];
                gg += p[3 * i + 1] * k[i];
                b += p[3 * i + 2] * k[i];
            }
            o[3 * x] = clip8(r);
            o[3 * x + 1] = clip8(gg);
            o[3 * x + 2] = clip8(b);
        }
    }
    for (int y = 0; y < g->ch; y++) {
        const int32_t *k = s->ky + (size_t)y * kys;
        const uint8_t *in = s->tmp + (size_t)(s->yb[2 * y] - y0) * row;
        int cnt = s->yb[2 * y + 1];
        uint8_t *o = dst + (size_t)y * row;

        for (size_t x = 0; x < row; x++) {
            int32_t v = 1 << (PRECISION_BITS - 1);

            for (int i = 0; i < cnt; i++)
                v += in[(size_t)i * row + x] * k[i];
            o[x] = clip8(v);
        }
    }
    return 0;
}

/* Transforms */

/* Python's round() on the values met here: half to even. */
static int round_even(double x)
{
    return (int)nearbyint(x);
}

/* Resize(resize) on the shorter side + CenterCrop(crop). */
static void eval_geometry(int w, int h, int resize, int crop,
                          struct geometry *g)
{
    int sh = w <= h ? w : h, lg = w <= h ? h : w;
    int new_long = (int)((double)resize * lg / sh);

    g->bx = g->by = 0;
    g->bw = w;
    g->bh = h;
    if (sh == resize) {
        g->ow = w;
        g->oh = h;
    } else if (w <= h) {
        g->ow = resize;
        g->oh = new_long;
    } else {
        g->ow = new_long;
        g->oh = resize;
    }
    g->cw = g->ch = crop;
    g->wx = round_even((g->ow - crop) / 2.0);
    g->wy = round_even((g->oh - crop) / 2.0);
}

/* RandomResizedCrop.get_params (torchvision 0.14) + resize to crop. */
static void train_geometry(int w, int h, int crop, struct bf_rng *rng,
                           struct geometry *g)
{
    const double scale_lo = 0.08, scale_hi = 1.0;
    const double ratio_lo = 3.0 / 4.0, ratio_hi = 4.0 / 3.0;
    double area = (double)w * h;
    double log_lo = log(ratio_lo), log_hi = log(ratio_hi);
    double in_ratio;
    int cw = 0, ch = 0, i = 0, j = 0, found = 0;

    for (int attempt = 0; attempt < 10 && !found; attempt++) {
        double target =
            area * (scale_lo + (scale_hi - scale_lo) * bf_rng_uniform(rng));
        double aspect = exp(log_lo + (log_hi - log_lo) * bf_rng_uniform(rng));

        cw = round_even(sqrt(target * aspect));
        ch = round_even(sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            i = (int)bf_rng_below(rng, (uint64_t)(h - ch + 1));
            j = (int)bf_rng_below(rng, (uint64_t)(w - cw + 1));
            found = 1;
        }
    }
    if (!found) {
        in_ratio = (double)w / h;
        if (in_ratio < ratio_lo) {
            cw = w;
            ch = round_even(w / ratio_lo);
        } else if (in_ratio > ratio_hi) {
            ch = h;
            cw = round_even(h * ratio_hi);
        } else {
            cw = w;
            ch = h;
        }
        i = (h - ch) / 2;
        j = (w - cw) / 2;
    }
    g->bx = j;
    g->by = i;
    g->bw = cw;
    g->bh = ch;
    g->ow = g->oh = g->cw = g->ch = crop;
    g->wx = g->wy = 0;
}

static void flip_rows(uint8_t *img, int w, int h)
{
    for (int y = 0; y < h; y++) {
        uint8_t *row = img + (size_t)y * w * 3;

        for (int a = 0, b = w - 1; a < b; a++, b--) {
            for (int c = 0; c < 3; c++) {
                uint8_t t = row[3 * a + c];

                row[3 * a + c] = row[3 * b + c];
                row[3 * b + c] = t;
            }
        }
    }
}

static uint64_t transform_stream(uint32_t epoch, uint32_t index)
{
    return (((uint64_t)epoch << 32) | index) ^
           (STREAM_TRANSFORM * 0x9e3779b97f4a7c15ULL);
}

/* Decode and transform folder item index into s->out (HWC, RGB). */
static int folder_item(const struct bf_dataset *ds, struct scratch *s,
                       uint32_t index, uint32_t epoch)
{
    const struct entry *e = &ds->entries[index];
    int crop = ds->info.width;
    struct geometry g;
    struct bf_rng rng;
    size_t len = 0;
    int w = 0, h = 0, rc;

    bf_buf_reset(&s->path);
    rc = bf_buf_printf(&s->path, "%s/%s", ds->root, ds->names.data + e->off);
    if (rc)
        return rc;
    rc = read_file(s->path.data, s, &len);
    if (rc)
        return rc;
    rc = decode_image(s->path.data, s->file, len, s, &w, &h);
    if (rc)
        return rc;
    if (ds->train) {
        bf_rng_init(&rng, ds->seed, transform_stream(epoch, index));
        train_geometry(w, h, crop, &rng, &g);
    } else {
        eval_geometry(w, h, ds->resize, crop, &g);
    }
    rc = grow(&s->out, &s->out_cap, ds->item_bytes, 1);
    if (rc)
        return rc;
    rc = resample(s, s->rgb, w, &g, s->out);
    if (rc)
        return rc;
    if (ds->train && bf_rng_uniform(&rng) < 0.5)
        flip_rows(s->out, crop, crop);
    return 0;
}

/* Normalise HWC bytes into CHW floats. */
static void normalise(const struct bf_dataset *ds, const uint8_t *hwc,
                      float *chw)
{
    size_t hw = (size_t)ds->info.height * ds->info.width;
    int nc = ds->info.channels;

    for (int c = 0; c < nc; c++) {
        const float *lut = ds->lut[c];
        float *o = chw + (size_t)c * hw;

        for (size_t p = 0; p < hw; p++)
            o[p] = lut[hwc[p * nc + c]];
    }
}

static int fill_one(const struct bf_dataset *ds, struct scratch *s,
                    uint32_t index, uint32_t epoch, float *image,
                    int64_t *label)
{
    int rc;

    if (ds->kind == KIND_IDX) {
        normalise(ds, ds->pixels + (size_t)index * ds->item_bytes, image);
        *label = ds->labels[index];
        return 0;
    }
    rc = folder_item(ds, s, index, epoch);
    if (rc)
        return rc;
    normalise(ds, s->out, image);
    *label = ds->entries[index].label;
    return 0;
}

/* The decoding pool */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct bf_dataset *ds = w->ds;
    struct pool *pl = &ds->pool;
    struct scratch *s = &pl->scratch[w->k];
    size_t chw = ds->item_bytes;

    pthread_mutex_lock(&pl->mu);
    for (;;) {
        struct job *job = &pl->job;
        size_t i;
        uint32_t index, epoch;
        float *image;
        int64_t *label;
        int skip, rc = 0;

        while (!pl->stop && !(job->active && job->next < job->n))
            pthread_cond_wait(&pl->work_cv, &pl->mu);
        if (pl->stop)
            break;
        i = job->next++;
        skip = job->rc != 0;
        index = job->idx[i];
        epoch = job->epoch;
        image = job->images + i * chw;
        label = job->labels + i;
        pthread_mutex_unlock(&pl->mu);
        if (!skip)
            rc = fill_one(ds, s, index, epoch, image, label);
        pthread_mutex_lock(&pl->mu);
        if (rc && (job->rc == 0 || i < job->err_item)) {
            job->rc = rc;
            job->err_item = i;
            snprintf(job->err, sizeof(job->err), "%s", bf_last_error());
        }
        if (++job->done == job->n)
            pthread_cond_broadcast(&pl->done_cv);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

static void pool_stop(struct pool *pl)
{
    if (!pl->ready)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->stop = 1;
    pthread_cond_broadcast(&pl->work_cv);
    pthread_mutex_unlock(&pl->mu);
    for (int k = 0; k < pl->started; k++)
        pthread_join(pl->threads[k], NULL);
    pl->started = 0;
}

static int pool_start(struct bf_dataset *ds)
{
    struct pool *pl = &ds->pool;
    int err;

    if (pl->started)
        return 0;
    for (int k = 0; k < pl->nthreads; k++) {
        pl->workers[k].ds = ds;
        pl->workers[k].k = k;
        err =
            pthread_create(&pl->threads[k], NULL, worker_main, &pl->workers[k]);
        if (err) {
            pool_stop(pl);
            pl->stop = 0;
            return bf_err_set(BF_ENOMEM,
                              "%s: cannot start decoding "
                              "thread: %s",
                              ds->root, strerror(err));
        }
        pl->started = k + 1;
    }
    return 0;
}

/* Hand a batch to the workers; the previous job must be collected. */
static int pool_submit(struct bf_dataset *ds, const uint32_t *idx, size_t n,
                       float *images, int64_t *labels)
{
    struct pool *pl = &ds->pool;
    struct job *job = &pl->job;
    int rc;

    rc = pool_start(ds);
    if (rc)
        return rc;
    pthread_mutex_lock(&pl->mu);
    rc = grow(&job->idx, &job->idx_cap, n, sizeof(*job->idx));
    if (!rc) {
        if (n)
            memcpy(job->idx, idx, n * sizeof(*idx));
        job->n = n;
        job->epoch = ds->epoch;
        job->images = images;
        job->labels = labels;
        job->next = job->done = 0;
        job->rc = 0;
        job->err[0] = '\0';
        job->active = 1;
        pthread_cond_broadcast(&pl->work_cv);
    }
    pthread_mutex_unlock(&pl->mu);
    return rc;
}

/* Wait for the current job and collect it; returns its status. */
static int pool_wait(struct bf_dataset *ds)
{
    struct pool *pl = &ds->pool;
    struct job *job = &pl->job;
    int rc;

    pthread_mutex_lock(&pl->mu);
    while (job->active && job->done < job->n)
        pthread_cond_wait(&pl->done_cv, &pl->mu);
    rc = job->active ? job->rc : 0;
    job->active = 0;
    pthread_mutex_unlock(&pl->mu);
    if (rc)
        return bf_err_set(rc, "%s", job->err);
    return 0;
}

/* Folder data sets */

int bf_dataset_open_folder(const struct bf_dataset_folder_params *params,
                           struct bf_dataset **out)
{
    struct bf_dataset *ds;
    struct pool *pl;
    int crop, resize, threads, zero_norm = 1;
    static const float in_mean[3] = {0.485f, 0.456f, 0.406f};
    static const float in_std[3] = {0.229f, 0.224f, 0.225f};
    int rc;

    if (!params || !out || !params->root)
        return bf_err_set(BF_EINVAL, "open_folder: NULL argument");
    crop = params->crop ? params->crop : BF_DATASET_IMAGENET_CROP;
    resize = params->resize ? params->resize : BF_DATASET_IMAGENET_RESIZE;
    threads = params->threads ? params->threads : 1;
    if (crop < 1 || crop > 4096 || resize < crop || resize > 65536)
        return bf_err_set(BF_EINVAL,
                          "%s: crop %d / resize %d (need 1 <= crop <= 4096, "
                          "crop <= resize)",
                          params->root, crop, resize);
    if (threads < 1 || threads > 256)
        return bf_err_set(BF_EINVAL, "%s: %d decoding threads (1..256)",
                          params->root, threads);
    for (int c = 0; c < 3; c++)
        if (params->mean[c] != 0.0f || params->std[c] != 0.0f)
            zero_norm = 0;
    for (int c = 0; c < 3 && !zero_norm; c++)
        if (!norm_ok(params->mean[c], params->std[c]))
            return bf_err_set(BF_EINVAL,
                              "%s: normalisation channel %d: mean %g std "
                              "%g (std must be finite and > 0)",
                              params->root, c, (double)params->mean[c],
                              (double)params->std[c]);

    ds = dataset_new(KIND_FOLDER);
    if (!ds)
        return bf_err_set(BF_ENOMEM, "data set handle");
    ds->root = dup_str(params->root);
    if (!ds->root) {
        rc = bf_err_set(BF_ENOMEM, "data set root");
        goto out_close;
    }
    rc = scan_folder(ds);
    if (rc)
        goto out_close;
    ds->train = params->train != 0;
    ds->seed = params->seed;
    ds->resize = resize;
    ds->info.channels = 3;
    ds->info.height = ds->info.width = crop;
    ds->info.train = ds->train;
    for (int c = 0; c < 3; c++) {
        ds->info.mean[c] = zero_norm ? in_mean[c] : params->mean[c];
        ds->info.std[c] = zero_norm ? in_std[c] : params->std[c];
    }
    snprintf(ds->info.source, sizeof(ds->info.source), "folder:%s",
             params->root);
    ds->item_bytes = (size_t)3 * crop * crop;
    fill_lut(ds);

    pl = &ds->pool;
    pl->nthreads = threads;
    pl->threads = calloc((size_t)threads, sizeof(*pl->threads));
    pl->workers = calloc((size_t)threads, sizeof(*pl->workers));
    pl->scratch = calloc((size_t)threads, sizeof(*pl->scratch));
    if (!pl->threads || !pl->workers || !pl->scratch) {
        rc =
            bf_err_set(BF_ENOMEM, "%s: %d decoding threads", ds->root, threads);
        goto out_close;
    }
    if (pthread_mutex_init(&pl->mu, NULL) != 0) {
        rc = bf_err_set(BF_ENOMEM, "%s: mutex", ds->root);
        goto out_close;
    }
    if (pthread_cond_init(&pl->work_cv, NULL) != 0) {
        rc = bf_err_set(BF_ENOMEM, "%s: condition variable", ds->root);
        goto out_mutex;
    }
    if (pthread_cond_init(&pl->done_cv, NULL) != 0) {
        rc = bf_err_set(BF_ENOMEM, "%s: condition variable", ds->root);
        goto out_cond;
    }
    pl->ready = 1;
    *out = ds;
    return 0;

out_cond:
    pthread_cond_destroy(&pl->work_cv);
out_mutex:
    pthread_mutex_destroy(&pl->mu);
out_close:
    bf_dataset_close(ds);
    return rc;
}

void bf_dataset_close(struct bf_dataset *ds)
{
    struct pool *pl;

    if (!ds)
        return;
    pl = &ds->pool;
    if (pl->ready) {
        pool_stop(pl);
        pthread_cond_destroy(&pl->done_cv);
        pthread_cond_destroy(&pl->work_cv);
        pthread_mutex_destroy(&pl->mu);
    }
    if (pl->scratch)
        for (int k = 0; k < pl->nthreads; k++)
            scratch_free(&pl->scratch[k]);
    free(pl->scratch);
    free(pl->workers);
    free(pl->threads);
    free(pl->job.idx);
    free(pl->pf_images);
    free(pl->pf_labels);
    scratch_free(&ds->scratch);
    if (ds->classes)
        free_names(ds->classes, (size_t)ds->info.num_classes);
    free(ds->entries);
    bf_buf_free(&ds->names);
    free(ds->root);
    free(ds->pixels);
    free(ds->labels);
    free(ds->images_path);
    free(ds->labels_path);
    free(ds);
}

/* Inspection */

int bf_dataset_info(const struct bf_dataset *ds, struct bf_dataset_info *out)
{
    if (!ds || !out)
        return bf_err_set(BF_EINVAL, "dataset_info: NULL argument");
    *out = ds->info;
    return 0;
}

const char *bf_dataset_class_name(const struct bf_dataset *ds, int cls)
{
    if (!ds || cls < 0 || cls >= ds->info.num_classes)
        return NULL;
    if (ds->kind == KIND_FOLDER)
        return ds->classes[cls];
    return ds->fixed_names ? ds->fixed_names[cls] : NULL;
}

static int hash_line(struct bf_sha256 *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int hash_line(struct bf_sha256 *ctx, const char *fmt, ...)
{
    va_list ap;
    char *line;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return bf_err_set(BF_EINVAL, "bad format '%s'", fmt);
    line = malloc((size_t)n + 1);
    if (!line)
        return bf_err_set(BF_ENOMEM, "hash line of %d bytes", n);
    va_start(ap, fmt);
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bf_sha256_update(ctx, line, (size_t)n);
    free(line);
    return 0;
}

int bf_dataset_hash(const struct bf_dataset *ds, char hex[BF_HASH_HEX_SIZE])
{
    struct bf_sha256 ctx;
    char h[BF_HASH_HEX_SIZE];
    struct bf_buf path;
    int rc = 0;

    if (!ds || !hex)
        return bf_err_set(BF_EINVAL, "dataset_hash: NULL argument");
    bf_sha256_init(&ctx);
    if (ds->kind == KIND_IDX) {
        rc = bf_hash_file(ds->images_path, h);
        if (!rc)
            rc = hash_line(&ctx, "%s  %s\n", h, ds->images_path);
        if (!rc)
            rc = bf_hash_file(ds->labels_path, h);
        if (!rc)
            rc = hash_line(&ctx, "%s  %s\n", h, ds->labels_path);
        if (rc)
            return rc;
        bf_sha256_final(&ctx, hex);
        return 0;
    }
    bf_buf_init(&path);
    for (size_t i = 0; i < ds->info.n && !rc; i++) {
        const char *rel = ds->names.data + ds->entries[i].off;
        struct stat st;

        bf_buf_reset(&path);
        rc = bf_buf_printf(&path, "%s/%s", ds->root, rel);
        if (rc)
            break;
        if (stat(path.data, &st) != 0) {
            rc = bf_err_set(errno_code(errno), "%s: %s", path.data,
                            strerror(errno));
            break;
        }
        rc = hash_line(&ctx, "%u\t%s\t%lld\n", (unsigned)ds->entries[i].label,
                       rel, (long long)st.st_size);
    }
    bf_buf_free(&path);
    if (rc)
        return rc;
    bf_sha256_final(&ctx, hex);
    return 0;
}

/* Batches */

void bf_dataset_set_epoch(struct bf_dataset *ds, uint32_t epoch)
{
    if (ds)
        ds->epoch = epoch;
}

static int check_indices(const struct bf_dataset *ds, const uint32_t *idx,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= ds->info.n)
            return bf_err_set(BF_ERANGE,
                              "%s: batch item %zu: index %u out of range "
                              "(%zu items)",
                              ds->info.source, i, idx[i], ds->info.n);
    return 0;
}

int bf_dataset_batch(struct bf_dataset *ds, const uint32_t *idx, size_t n,
                     float *images, int64_t *labels)
{
    struct pool *pl;
    int rc;

    if (!ds || (n && (!idx || !images || !labels)))
        return bf_err_set(BF_EINVAL, "dataset_batch: NULL argument");
    rc = check_indices(ds, idx, n);
    if (rc)
        return rc;
    if (ds->kind == KIND_IDX) {
        for (size_t i = 0; i < n; i++)
            fill_one(ds, NULL, idx[i], 0, images + i * ds->item_bytes,
                     labels + i);
        return 0;
    }
    pl = &ds->pool;
    if (pl->prefetched) {
        int match = pl->job.n == n && pl->job.epoch == ds->epoch &&
                    (n == 0 || memcmp(pl->job.idx, idx, n * sizeof(*idx)) == 0);

        pl->prefetched = 0;
        rc = pool_wait(ds);
        if (match) {
            if (rc)
                return rc;
            memcpy(images, pl->pf_images, n * ds->item_bytes * sizeof(float));
            memcpy(labels, pl->pf_labels, n * sizeof(*labels));
            return 0;
        }
        bf_log_debug("%s: prefetched batch not asked for; dropped",
                     ds->info.source);
        bf_err_clear();
    }
    rc = pool_submit(ds, idx, n, images, labels);
    if (rc)
        return rc;
    return pool_wait(ds);
}

int bf_dataset_prefetch(struct bf_dataset *ds, const uint32_t *idx, size_t n)
{
    struct pool *pl;
    int rc;

    if (!ds || (n && !idx))
        return bf_err_set(BF_EINVAL, "dataset_prefetch: NULL argument");
    rc = check_indices(ds, idx, n);
    if (rc || ds->kind == KIND_IDX)
        return rc;
    pl = &ds->pool;
    if (pl->prefetched) {
        pl->prefetched = 0;
        (void)pool_wait(ds); /* dropped: nobody asked for it */
        bf_err_clear();
    }
    if (n > pl->pf_cap) {
        float *im;
        int64_t *lb;

        if (n > SIZE_MAX / sizeof(float) / ds->item_bytes)
            return bf_err_set(BF_ENOMEM, "%s: prefetch of %zu items",
                              ds->info.source, n);
        im = realloc(pl->pf_images, n * ds->item_bytes * sizeof(float));
        if (!im)
            return bf_err_set(BF_ENOMEM, "%s: prefetch of %zu items",
                              ds->info.source, n);
        pl->pf_images = im;
        lb = realloc(pl->pf_labels, n * sizeof(*lb));
        if (!lb)
            return bf_err_set(BF_ENOMEM, "%s: prefetch of %zu items",
                              ds->info.source, n);
        pl->pf_labels = lb;
        pl->pf_cap = n;
    }
    rc = pool_submit(ds, idx, n, pl->pf_images, pl->pf_labels);
    if (rc)
        return rc;
    pl->prefetched = 1;
    return 0;
}

int bf_dataset_raw_u8(struct bf_dataset *ds, uint32_t index, uint8_t *pixels,
                      size_t pixels_bytes, int64_t *label)
{
    int rc;

    if (!ds || !pixels)
        return bf_err_set(BF_EINVAL, "dataset_raw_u8: NULL argument");
    if (pixels_bytes < ds->item_bytes)
        return bf_err_set(BF_EINVAL, "%s: raw_u8 buffer of %zu bytes, need %zu",
                          ds->info.source, pixels_bytes, ds->item_bytes);
    rc = check_indices(ds, &index, 1);
    if (rc)
        return rc;
    if (ds->kind == KIND_IDX) {
        memcpy(pixels, ds->pixels + (size_t)index * ds->item_bytes,
               ds->item_bytes);
        if (label)
            *label = ds->labels[index];
        return 0;
    }
    rc = folder_item(ds, &ds->scratch, index, ds->epoch);
    if (rc)
        return rc;
    memcpy(pixels, ds->scratch.out, ds->item_bytes);
    if (label)
        *label = ds->entries[index].label;
    return 0;
}

/* Index sets */

int bf_dataset_split(size_t n, double val_fraction, uint64_t seed,
                     uint32_t **train_idx, size_t *n_train, uint32_t **val_idx,
                     size_t *n_val)
{
    uint32_t *perm, *tr, *va;
    uint8_t *in_val;
    size_t nv, nt, a = 0, b = 0;
    struct bf_rng rng;

    if (!train_idx || !n_train || !val_idx || !n_val)
        return bf_err_set(BF_EINVAL, "dataset_split: NULL argument");
    if (!(val_fraction >= 0.0 && val_fraction < 1.0))
        return bf_err_set(BF_ERANGE, "validation fraction %g not in [0, 1)",
                          val_fraction);
    if (n > UINT32_MAX)
        return bf_err_set(BF_ERANGE, "split of %zu items (limit %u)", n,
                          UINT32_MAX);
    nv = (size_t)floor((double)n * val_fraction + 0.5);
    if (nv > n)
        nv = n;
    nt = n - nv;
    if (n && !nt)
        return bf_err_set(BF_ERANGE,
                          "validation fraction %g of %zu items leaves no "
                          "training item",
                          val_fraction, n);
    perm = malloc((n ? n : 1) * sizeof(*perm));
    in_val = calloc(n ? n : 1, 1);
    tr = malloc((nt ? nt : 1) * sizeof(*tr));
    va = malloc((nv ? nv : 1) * sizeof(*va));
    if (!perm || !in_val || !tr || !va) {
        free(perm);
        free(in_val);
        free(tr);
        free(va);
        return bf_err_set(BF_ENOMEM, "split of %zu items", n);
    }
    /* The first nv positions of a seeded Fisher-Yates shuffle. */
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    bf_rng_init(&rng, seed, STREAM_SPLIT);
    for (size_t i = 0; i < nv; i++) {
        size_t j = i + (size_t)bf_rng_below(&rng, (uint64_t)(n - i));
        uint32_t t = perm[i];

        perm[i] = perm[j];
        perm[j] = t;
        in_val[perm[i]] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (in_val[i])
            va[b++] = (uint32_t)i;
        else
            tr[a++] = (uint32_t)i;
    }
    free(perm);
    free(in_val);
    *train_idx = tr;
    *n_train = nt;
    *val_idx = va;
    *n_val = nv;
    return 0;
}

void bf_dataset_shuffle(uint32_t *idx, size_t n, uint64_t seed, uint64_t epoch)
{
    struct bf_rng rng;

    if (!idx || n < 2)
        return;
    bf_rng_init(&rng, seed, STREAM_SHUFFLE + epoch);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)bf_rng_below(&rng, (uint64_t)i + 1);
        uint32_t t = idx[i];

        idx[i] = idx[j];
        idx[j] = t;
    }
}
