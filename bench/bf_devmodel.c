/* bf_devmodel: device models applied to cases, calibration. */
#define _POSIX_C_SOURCE 200809L
#include "bf_devmodel.h"

#include "bf_buf.h"
#include "bf_clock.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_layers.h"
#include "bf_log.h"
#include "bf_stats.h"
#include "bf_torch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define METHOD_MAX 1536

struct dev {
    struct bf_device_profile *profile;
    struct bf_device_latency fit;
    struct bf_device_error error; /* prediction intervals of fit */
    int here;
    char latency_method[METHOD_MAX];
    char power_method[METHOD_MAX];
};

struct bf_devmodel {
    struct dev *devs;
    size_t n_devs;
    int check_only; /* opened to validate: nothing fitted */
    struct bf_radio radio;
    struct bf_device_profile *edge; /* NULL: server time as measured */
    struct bf_device_latency edge_fit;
    struct bf_device_error edge_error;
    char power_method_case[METHOD_MAX];
    /* Per-request scratch, grown as needed. */
    double *scratch[5];
    size_t scratch_n;
};

/* Architecture layers */

/* Room for the layers of one forward on the first try: the largest zoo
 * architecture (densenet201) has about 200. */
#define LAYERS_GUESS 1024

int bf_devmodel_arch_layers(const char *arch, int input_px,
                            struct bf_layer_info **layers, size_t *n)
{
    struct bf_model_params mp = {.arch = arch, .seed = 1};
    struct bf_arch_info ai;
    struct bf_layer_info *buf = NULL;
    bf_model *model = NULL;
    int n_stages = 0, threads = 0, count = 0, rc;
    int64_t px;

    if (!arch || !layers || !n)
        return bf_err_set(BF_EINVAL, "bf_devmodel_arch_layers: NULL");
    *layers = NULL;
    *n = 0;
    rc = bf_arch_find(arch, &ai);
    if (rc)
        return rc;
    /* One image's shapes: a single thread is quickest and immune to
     * OpenMP spinning on a loaded host. */
    if (bf_torch_get_threads(&threads) || bf_torch_set_threads(1))
        threads = 0;
    rc = bf_model_create(&mp, &model);
    if (rc)
        goto out_threads;
    px = input_px > 0 ? input_px : ai.native_size_px;
    rc = bf_model_stage_count(model, &n_stages);
    if (rc)
        goto out_model;
    /* One counting forward fills a generous buffer; a second one runs only
     * when the list is longer (bf_model_layers reports the count then). */
    buf = malloc(LAYERS_GUESS * sizeof(*buf));
    if (!buf) {
        rc = bf_err_set(BF_ENOMEM, "layers of %s", arch);
        goto out_model;
    }
    rc = bf_model_layers(model, px, px, 0, n_stages - 1, buf, LAYERS_GUESS,
                         &count);
    if (rc == BF_ERANGE && count > LAYERS_GUESS) {
        struct bf_layer_info *more = realloc(buf, (size_t)count * sizeof(*buf));

        if (!more) {
            rc = bf_err_set(BF_ENOMEM, "%d layers of %s", count, arch);
            goto out_model;
        }
        buf = more;
        rc =
            bf_model_layers(model, px, px, 0, n_stages - 1, buf, count, &count);
    }
    if (rc == 0 && count > 0) {
        struct bf_layer_info *fit = realloc(buf, (size_t)count * sizeof(*buf));

        *layers = fit ? fit : buf;
        *n = (size_t)count;
        buf = NULL;
    }
out_model:
    free(buf);
    bf_model_free(model);
out_threads:
    if (threads > 0)
        bf_torch_set_threads(threads);
    return rc;
}

/* Layer cache */

#define CACHE_MAGIC "bfbench layer list 1"
#define CACHE_PATH_MAX 1200 /* a cache file's path */
#define CACHE_LAYERS_MAX 100000
#define CACHE_TAG_LEN 16 /* hex digits of the build in a file's name */
/* Another build's file unused this long goes when a list is written (a
 * build touches the files it reads). */
#define CACHE_STALE_S (7 * 24 * 3600)

/*
 * The build a cached list must come from: the SHA-256 of the running
 * executable, which links the model zoo (any change to an architecture
 * changes it), and the libtorch version; its tag, a digest of both, is
 * in the file names so that builds used side by side (bfbench and a test
 * build of it) keep their own files. Computed once per process; "" when
 * the executable cannot be read, and nothing is cached then.
 */
static char build_key[BF_HASH_HEX_SIZE + 128];
static char build_tag[BF_HASH_HEX_SIZE];
static pthread_once_t build_key_once = PTHREAD_ONCE_INIT;

static void make_build_key(void)
{
    char hex[BF_HASH_HEX_SIZE];

    if (bf_hash_file("/proc/self/exe", hex) != 0)
        return;
    snprintf(build_key, sizeof(build_key), "%s libtorch %s", hex,
             bf_torch_version());
    bf_hash_buffer(build_key, strlen(build_key), build_tag);
    build_tag[CACHE_TAG_LEN] = '\0';
}

/* Zoo names are plain words; anything else is never made a file name. */
static int plain_name(const char *name)
{
    if (!name[0] || strlen(name) >= BF_DEVICE_NAME_MAX)
        return 0;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
            return 0;
    return name[0] != '.';
}

/* The header every cache file starts with, for this build and list. */
static void cache_header(char *out, size_t size, const char *arch, int px)
{
    snprintf(out, size, CACHE_MAGIC "\nbuild %s\narch %s px %d\n", build_key,
             arch, px);
}

/*
 * The list in path when this build wrote it for arch at px: 0, or -1 (a
 * miss, nothing set) for a missing, foreign or damaged file.
 */
static int cache_read(const char *path, const char *arch, int px,
                      struct bf_layer_info **layers, size_t *n)
{
    char want[BF_HASH_HEX_SIZE + 512], got[sizeof(want)], line[256];
    struct bf_layer_info *buf = NULL;
    int64_t count = 0, v[6];
    size_t used = 0, i;
    FILE *f = fopen(path, "r");

    if (!f)
        return -1;
    cache_header(want, sizeof(want), arch, px);
    /* The header's three lines, compared as one text. */
    got[0] = '\0';
    for (i = 0; i < 3 && fgets(line, sizeof(line), f); i++) {
        size_t len = strlen(line);

        if (used + len >= sizeof(got))
            break;
        memcpy(got + used, line, len + 1);
        used += len;
    }
    if (strcmp(got, want) != 0 || !fgets(line, sizeof(line), f) ||
        strncmp(line, "layers ", 7) != 0 ||
        bf_layer_parse_ints(line + 7, &count, 1) || count > CACHE_LAYERS_MAX)
        goto miss;
    if (count > 0) {
        buf = calloc((size_t)count, sizeof(*buf));
        if (!buf)
            goto miss;
    }
    for (i = 0; i < (size_t)count; i++) {
        if (!fgets(line, sizeof(line), f) || bf_layer_parse_ints(line, v, 6) ||
            v[0] >= BF_LAYER_KINDS || v[1] > INT32_MAX)
            goto miss;
        buf[i] = bf_layer_from_row(v);
    }
    /* The trailer proves the file is whole; nothing may follow it. */
    if (!fgets(line, sizeof(line), f) || strcmp(line, "end\n") != 0 ||
        fgetc(f) != EOF)
        goto miss;
    fclose(f);
    *layers = buf;
    *n = (size_t)count;
    return 0;
miss:
    free(buf);
    fclose(f);
    return -1;
}

/* mkdir -p: 0, or -1 with errno set. */
static int make_dirs(const char *dir)
{
    char path[1024];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/*
 * Remove the files of arch at px in dir that other builds (or writers that
 * died) left and nobody used for CACHE_STALE_S; keep is this build's.
 */
static void cache_prune(const char *dir, const char *arch, int px,
                        const char *keep)
{
    char prefix[BF_DEVICE_NAME_MAX + 32], path[CACHE_PATH_MAX];
    time_t now = time(NULL);
    struct dirent *e;
    DIR *d = opendir(dir);
    size_t len;

    if (!d)
        return;
    len = (size_t)snprintf(prefix, sizeof(prefix), "%s-%d-", arch, px);
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (strncmp(e->d_name, prefix, len) != 0 ||
            strcmp(e->d_name, keep) == 0 ||
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
                (int)sizeof(path))
            continue;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            now - st.st_mtime > CACHE_STALE_S && unlink(path) == 0)
            bf_log_debug("layer cache: removed %s, unused for a week", path);
    }
    closedir(d);
}

/*
 * Store the list as dir/name: written whole under a name of this
 * process's, then renamed into place, so that a reader sees the old file
 * or the new one, never a part. Failures are logged and otherwise ignored.
 */
static void cache_write(const char *dir, const char *name, const char *arch,
                        int px, const struct bf_layer_info *layers, size_t n)
{
    char header[BF_HASH_HEX_SIZE + 512], path[CACHE_PATH_MAX];
    char tmp[CACHE_PATH_MAX + 32];
    FILE *f;
    int ok;

    if (make_dirs(dir) != 0) {
        bf_log_debug("layer cache: cannot create %s: %s", dir, strerror(errno));
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f) {
        bf_log_debug("layer cache: cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    cache_header(header, sizeof(header), arch, px);
    ok = fprintf(f, "%slayers %zu\n", header, n) > 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = fprintf(f, "%d %d %lld %lld %lld %lld\n", layers[i].kind,
                     layers[i].stage, (long long)layers[i].macs,
                     (long long)layers[i].params, (long long)layers[i].in_elems,
                     (long long)layers[i].out_elems) > 0;
    ok = ok && fputs("end\n", f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        bf_log_debug("layer cache: cannot store %s: %s", path, strerror(errno));
        unlink(tmp);
        return;
    }
    cache_prune(dir, arch, px, name);
}

int bf_devmodel_arch_layers_cached(const char *cache_dir, const char *arch,
                                   int input_px, struct bf_layer_info **layers,
                                   size_t *n)
{
    struct bf_arch_info ai;
    char name[BF_DEVICE_NAME_MAX + 64], path[CACHE_PATH_MAX];
    int px, rc;

    if (!arch || !layers || !n)
        return bf_err_set(BF_EINVAL, "bf_devmodel_arch_layers_cached: NULL");
    *layers = NULL;
    *n = 0;
    if (!cache_dir || !cache_dir[0] || !plain_name(arch))
        return bf_devmodel_arch_layers(arch, input_px, layers, n);
    rc = bf_arch_find(arch, &ai);
    if (rc)
        return rc;
    pthread_once(&build_key_once, make_build_key);
    if (!build_key[0])
        return bf_devmodel_arch_layers(arch, input_px, layers, n);
    /* The native size and 0 name the same list, and one file. */
    px = input_px > 0 ? input_px : ai.native_size_px;
    snprintf(name, sizeof(name), "%s-%d-%s.layers", arch, px, build_tag);
    if (snprintf(path, sizeof(path), "%s/%s", cache_dir, name) >=
        (int)sizeof(path))
        return bf_devmodel_arch_layers(arch, px, layers, n);
    if (cache_read(path, arch, px, layers, n) == 0) {
        /* Used: not stale for the pruning of other builds. */
        utimensat(AT_FDCWD, path, NULL, 0);
        return 0;
    }
    rc = bf_devmodel_arch_layers(arch, px, layers, n);
    if (rc == 0)
        cache_write(cache_dir, name, arch, px, *layers, *n);
    return rc;
}

int bf_devmodel_point_layers(const struct bf_device_profile *profile,
                             const char *cache_dir, const char *arch,
                             int input_px, struct bf_layer_info **layers,
                             size_t *n)
{
    struct bf_arch_info ai;
    char dir[1024], path[1200];
    const char *slash;
    int rc;

    if (!profile || !arch || !layers || !n)
        return bf_err_set(BF_EINVAL, "bf_devmodel_point_layers: NULL");
    if (bf_arch_find(arch, &ai) == 0)
        return bf_devmodel_arch_layers_cached(cache_dir, arch, input_px, layers,
                                              n);
    /* Outside the zoo: the layer list beside the profile. */
    slash = strrchr(profile->path, '/');
    if (slash)
        snprintf(dir, sizeof(dir), "%.*s/layers", (int)(slash - profile->path),
                 profile->path);
    else
        snprintf(dir, sizeof(dir), "layers");
    rc = bf_layer_file_path(dir, arch, input_px, path, sizeof(path));
    if (rc)
        return rc;
    rc = bf_layer_file_read(path, arch, input_px, layers, n);
    if (rc == BF_ENOENT)
        return bf_err_set(BF_ENOENT,
                          "'%s' is neither a zoo architecture (bfbench "
                          "models) nor a layer list (%s; "
                          "scripts/devices/export_layers.py writes them)",
                          arch, path);
    return rc;
}

/* The board's model string ("" when there is none). */
static void board_model(char *out, size_t size)
{
    FILE *f = fopen("/proc/device-tree/model", "rb");
    size_t n = 0;

    out[0] = '\0';
    if (!f)
        return;
    n = fread(out, 1, size - 1, f);
    fclose(f);
    out[n] = '\0';
}

int bf_devmodel_is_here(const struct bf_device_profile *profile)
{
    char board[256];

    if (!profile || !profile->detect[0])
        return 0;
    if (strcmp(profile->detect, "*") == 0)
        return 1;
    board_model(board, sizeof(board));
    return board[0] && strstr(board, profile->detect) != NULL;
}

/* Layer lists of the calibration architectures, kept for one open (and
 * read from or stored in the layer cache directory, when there is one). */
struct arch_cache {
    char arch[BF_DEVICE_NAME_MAX];
    int px;
    struct bf_layer_info *layers;
    size_t n;
};

static int cached_layers(const struct bf_device_profile *p,
                         struct arch_cache *cache, size_t *n_cache, size_t max,
                         const char *cache_dir, const char *arch, int px,
                         const struct bf_layer_info **layers, size_t *n)
{
    struct arch_cache *c;
    size_t i;
    int rc;

    for (i = 0; i < *n_cache; i++)
        if (cache[i].px == px && strcmp(cache[i].arch, arch) == 0) {
            *layers = cache[i].layers;
            *n = cache[i].n;
            return 0;
        }
    if (*n_cache == max)
        return bf_err_set(BF_ERANGE, "too many calibration architectures");
    c = &cache[*n_cache];
    rc = bf_devmodel_point_layers(p, cache_dir, arch, px, &c->layers, &c->n);
    if (rc)
        return bf_err_prefix(rc, "calibration point %s at %d px: ", arch, px);
    snprintf(c->arch, sizeof(c->arch), "%s", arch);
    c->px = px;
    (*n_cache)++;
    *layers = c->layers;
    *n = c->n;
    return 0;
}

/* Fit profile to its published points (measure points are skipped), and
 * derive its prediction intervals from the leave-one-out predictions. */
static int fit_published(const struct bf_device_profile *p,
                         struct arch_cache *cache, size_t *n_cache,
                         size_t cache_max, const char *cache_dir,
                         struct bf_device_latency *fit,
                         struct bf_device_error *error, size_t *n_used)
{
    struct bf_device_sample s[BF_DEVICE_POINTS_MAX] = {{0}};
    double measured[BF_DEVICE_POINTS_MAX] = {0},
           loo[BF_DEVICE_POINTS_MAX] = {0};
    size_t i, k = 0;
    int rc;

    for (i = 0; i < p->n_points; i++) {
        if (p->points[i].measure)
            continue;
        rc = cached_layers(p, cache, n_cache, cache_max, cache_dir,
                           p->points[i].model, p->points[i].input_px,
                           &s[k].layers, &s[k].n_layers);
        if (rc)
            return bf_err_prefix(rc, "%s: ", p->path);
        s[k].measured_ms = p->points[i].latency_ms;
        measured[k] = s[k].measured_ms;
        k++;
    }
    *n_used = k;
    rc = bf_device_fit(&p->latency, s, k, fit);
    /* Intervals need points that were fitted; a profile without fitted
     * parameters (or under 3 points) states its spread, or has none. */
    if (!rc && p->latency.fit_mask && k >= 3)
        rc = bf_device_leave_one_out(&p->latency, s, k, loo);
    if (!rc)
        rc = bf_device_error_model(&p->latency, measured, loo,
                                   p->latency.fit_mask ? k : 0, error);
    if (rc)
        return bf_err_prefix(rc, "%s: ", p->path);
    return 0;
}

/* Fit cache */

#define FIT_MAGIC "bfbench fit 1"
#define FIT_TEXT_MAX 16384

/*
 * What a profile's fit depends on, as text: this build (the model zoo and
 * the fitting code), the latency model's prior and the published points,
 * and the content of every layer list file a point reads. 0, or -1 when
 * it cannot be said (no build key, a layer list that cannot be read):
 * then nothing is cached.
 */
static int fit_key(const struct bf_device_profile *p, struct bf_buf *key)
{
    const struct bf_device_latency *m = &p->latency;
    int rc;

    pthread_once(&build_key_once, make_build_key);
    if (!build_key[0])
        return -1;
    rc = bf_buf_printf(key, FIT_MAGIC "\nbuild %s\nform %d mask %u\n",
                       build_key, m->form, m->fit_mask);
    for (int i = 0; rc == 0 && i < BF_DEVICE_PARAMS; i++)
        rc = bf_buf_printf(key, "value %.17g\n", m->value[i]);
    if (rc == 0)
        rc = bf_buf_printf(key, "prior %.17g sd %.17g\n", m->prior_weight,
                           m->interval_log_sd);
    for (size_t i = 0; rc == 0 && i < p->n_points; i++) {
        const struct bf_device_point *pt = &p->points[i];
        struct bf_arch_info ai;
        char hex[BF_HASH_HEX_SIZE] = "zoo";

        if (pt->measure)
            continue;
        if (!plain_name(pt->model))
            return -1;
        if (bf_arch_find(pt->model, &ai) != 0) {
            char dir[1024], path[1200];
            const char *slash = strrchr(p->path, '/');

            bf_err_clear();
            snprintf(dir, sizeof(dir), "%.*s/layers",
                     slash ? (int)(slash - p->path) : 1, slash ? p->path : ".");
            if (bf_layer_file_path(dir, pt->model, pt->input_px, path,
                                   sizeof(path)) != 0 ||
                bf_hash_file(path, hex) != 0) {
                bf_err_clear();
                return -1;
            }
        }
        rc = bf_buf_printf(key, "point %s %d %.17g %s\n", pt->model,
                           pt->input_px, pt->latency_ms, hex);
    }
    return rc ? -1 : 0;
}

/* The cached fit whose key is key: 0, or -1 (a miss) for a missing,
 * foreign or damaged file. */
static int fit_read(const char *path, const char *key,
                    struct bf_device_latency *fit,
                    struct bf_device_error *error, size_t *n_used)
{
    char text[FIT_TEXT_MAX];
    size_t len, klen = strlen(key);
    FILE *f = fopen(path, "r");
    struct bf_device_error e = {0};
    struct bf_device_latency m;
    unsigned long long used = 0, en = 0;
    const char *at;
    int stated = 0, n = 0;

    if (!f)
        return -1;
    len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    if (len <= klen || strncmp(text, key, klen) != 0)
        return -1;
    at = text + klen;
    m = *fit;
    for (int i = 0; i < BF_DEVICE_PARAMS; i++) {
        if (sscanf(at, "fit %lg\n%n", &m.value[i], &n) != 1 || n == 0)
            return -1;
        at += n;
        n = 0;
    }
    if (sscanf(at, "error %lg %lg %llu %lg %d\nused %llu\nend\n%n", &e.log_mean,
               &e.log_sd, &en, &e.factor, &stated, &used, &n) != 6 ||
        n == 0 || at[n] != '\0')
        return -1;
    e.n = (size_t)en;
    e.stated = stated;
    *fit = m;
    *error = e;
    *n_used = (size_t)used;
    return 0;
}

/* Store a fit under path: written whole, then renamed into place.
 * Failures are logged and otherwise ignored (the cache only saves time). */
static void fit_write(const char *dir, const char *path, const char *key,
                      const struct bf_device_latency *fit,
                      const struct bf_device_error *e, size_t n_used)
{
    char tmp[CACHE_PATH_MAX + 32];
    FILE *f;
    int ok;

    if (make_dirs(dir) != 0)
        return;
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f)
        return;
    ok = fputs(key, f) >= 0;
    for (int i = 0; ok && i < BF_DEVICE_PARAMS; i++)
        ok = fprintf(f, "fit %.17g\n", fit->value[i]) > 0;
    ok = ok && fprintf(f, "error %.17g %.17g %zu %.17g %d\nused %zu\nend\n",
                       e->log_mean, e->log_sd, e->n, e->factor, e->stated,
                       n_used) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        bf_log_debug("fit cache: cannot store %s: %s", path, strerror(errno));
        unlink(tmp);
    }
}

/*
 * fit_published through the fit cache in cache_dir: a profile's fit is
 * computed once per build, profile content and layer list content, and
 * read back from then on (no layer list is needed then).
 */
static int fit_cached(const struct bf_device_profile *p,
                      struct arch_cache *cache, size_t *n_cache,
                      size_t cache_max, const char *cache_dir,
                      struct bf_device_latency *fit,
                      struct bf_device_error *error, size_t *n_used)
{
    char hex[BF_HASH_HEX_SIZE], path[CACHE_PATH_MAX];
    struct bf_buf key;
    int rc;

    if (!cache_dir || !cache_dir[0])
        return fit_published(p, cache, n_cache, cache_max, cache_dir, fit,
                             error, n_used);
    bf_buf_init(&key);
    if (fit_key(p, &key) != 0 || key.len >= FIT_TEXT_MAX / 2) {
        bf_buf_free(&key);
        return fit_published(p, cache, n_cache, cache_max, cache_dir, fit,
                             error, n_used);
    }
    bf_hash_buffer(bf_buf_str(&key), key.len, hex);
    hex[CACHE_TAG_LEN] = '\0';
    snprintf(path, sizeof(path), "%s/fit-%s-%s.txt", cache_dir, p->name, hex);
    *fit = p->latency;
    if (fit_read(path, bf_buf_str(&key), fit, error, n_used) == 0) {
        bf_log_debug("fit cache: %s read from %s", p->name, path);
        utimensat(AT_FDCWD, path, NULL, 0);
        bf_buf_free(&key);
        return 0;
    }
    rc = fit_published(p, cache, n_cache, cache_max, cache_dir, fit, error,
                       n_used);
    if (rc == 0) {
        fit_write(cache_dir, path, bf_buf_str(&key), fit, error, *n_used);
        bf_log_debug("fit cache: %s fitted, stored as %s", p->name, path);
    }
    bf_buf_free(&key);
    return rc;
}

/* Without fitting: every calibration point names a zoo architecture or
 * a readable layer list (reading one is quick; zoo lists are not built). */
static int check_points(const struct bf_device_profile *p)
{
    struct bf_arch_info ai;

    for (size_t i = 0; i < p->n_points; i++) {
        struct bf_layer_info *layers = NULL;
        size_t n = 0;
        int rc = 0;

        if (bf_arch_find(p->points[i].model, &ai) != 0) {
            rc = bf_devmodel_point_layers(p, NULL, p->points[i].model,
                                          p->points[i].input_px, &layers, &n);
            free(layers);
        }
        if (rc)
            return bf_err_prefix(rc,
                                 "%s: calibration point %s at %d px: ", p->path,
                                 p->points[i].model, p->points[i].input_px);
    }
    return 0;
}

static const char *form_name(int form)
{
    return form == BF_DEVICE_ADDITIVE ? "additive" : "roofline";
}

/* A profile's path as methods show it: a shipped profile from
 * "scenarios/devices/" on, so that captions do not carry the checkout's
 * location; any other path as given. */
static const char *shown_path(const char *path)
{
    const char *at = strstr(path, "scenarios/devices/");

    return at && (at == path || at[-1] == '/') ? at : path;
}

/* "; 90 % prediction interval x0.78-x1.31 (leave-one-out, 13 points)" */
static void interval_text(char *out, size_t size,
                          const struct bf_device_error *e)
{
    double lo, hi;

    out[0] = '\0';
    if (!(e->factor > 0))
        return;
    bf_device_interval(e, 1.0, &lo, &hi);
    if (e->stated)
        snprintf(out, size,
                 "; 90 %% prediction interval x%.2f-x%.2f (stated in the "
                 "profile, not fitted)",
                 lo, hi);
    else
        snprintf(out, size,
                 "; 90 %% prediction interval x%.2f-x%.2f (leave-one-out, "
                 "%zu points)",
                 lo, hi, e->n);
}

static void describe_latency(struct dev *d, size_t n_used)
{
    const struct bf_device_profile *p = d->profile;
    char interval[160];

    interval_text(interval, sizeof(interval), &d->error);
    if (d->here)
        snprintf(d->latency_method, sizeof(d->latency_method),
                 "measured:host:CLOCK_MONOTONIC (this machine is %s)", p->name);
    else if (n_used && p->latency.fit_mask)
        snprintf(d->latency_method, sizeof(d->latency_method),
                 "modeled:%s per-layer model of %s fitted to %zu published "
                 "latencies (%s)%s",
                 form_name(p->latency.form), p->runtime, n_used,
                 shown_path(p->path), interval);
    else
        snprintf(d->latency_method, sizeof(d->latency_method),
                 "modeled:%s per-layer model of %s with the profile's "
                 "numbers, not fitted (%s)%s",
                 form_name(p->latency.form), p->runtime, shown_path(p->path),
                 interval);
}

static int open_dirs(const struct bf_devmodel_params *params, const char *sub,
                     char (*buf)[1024], const char **dirs, size_t max)
{
    size_t i, n = params ? params->n_dirs : 0;

    if (n > max)
        n = max;
    for (i = 0; i < n; i++) {
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", params->dirs[i], sub);
        dirs[i] = buf[i];
    }
    return (int)n;
}

#define DIRS_MAX 4
#define CACHE_MAX 64

int bf_devmodel_fit_profile(const struct bf_device_profile *profile,
                            const char *cache_dir,
                            struct bf_device_latency *fit,
                            struct bf_device_error *error, size_t *n_used)
{
    struct arch_cache cache[CACHE_MAX];
    size_t n_cache = 0, used = 0;
    int rc;

    if (!profile || !fit || !error)
        return bf_err_set(BF_EINVAL, "bf_devmodel_fit_profile: NULL");
    rc = fit_cached(profile, cache, &n_cache, CACHE_MAX, cache_dir, fit, error,
                    &used);
    for (size_t i = 0; i < n_cache; i++)
        free(cache[i].layers);
    if (n_used)
        *n_used = used;
    return rc;
}

int bf_devmodel_open(const struct bf_scenario *sc,
                     const struct bf_devmodel_params *params,
                     struct bf_devmodel **out)
{
    char dbuf[DIRS_MAX][1024], cbuf[DIRS_MAX][1024];
    const char *ddirs[DIRS_MAX], *cdirs[DIRS_MAX];
    struct arch_cache cache[CACHE_MAX];
    size_t n_cache = 0, i, j;
    struct bf_devmodel *dm;
    const char *cache_dir = params ? params->layer_cache_dir : NULL;
    int nd, nc, rc = 0;

    if (!sc || !out)
        return bf_err_set(BF_EINVAL, "bf_devmodel_open: NULL argument");
    *out = NULL;
    if (sc->n_devices == 0)
        return 0;
    nd = open_dirs(params, "devices", dbuf, ddirs, DIRS_MAX);
    nc = open_dirs(params, "channels", cbuf, cdirs, DIRS_MAX);
    dm = calloc(1, sizeof(*dm));
    if (!dm)
        return bf_err_set(BF_ENOMEM, "device models: out of memory");
    dm->check_only = params ? params->check_only : 0;
    dm->devs = calloc(sc->n_devices, sizeof(*dm->devs));
    if (!dm->devs) {
        free(dm);
        return bf_err_set(BF_ENOMEM, "device models: out of memory");
    }
    for (i = 0; i < sc->n_devices && !rc; i++) {
        struct dev *d = &dm->devs[i];

        rc = bf_device_profile_open(sc->devices[i], ddirs, (size_t)nd,
                                    &d->profile);
        if (rc)
            break;
        dm->n_devs++;
        if (strcmp(d->profile->role, "device") != 0)
            rc = bf_err_set(BF_EPARSE,
                            "%s: role '%s' in devices (an edge profile "
                            "belongs in edge_device)",
                            d->profile->path, d->profile->role);
    }
    /* Every override names a listed profile, and applies. */
    for (j = 0; j < sc->n_device_overrides && !rc; j++) {
        const char *o = sc->device_overrides[j];
        int matched = 0;

        for (i = 0; i < dm->n_devs && !rc; i++) {
            size_t len = strlen(dm->devs[i].profile->name);

            if (strncmp(o, dm->devs[i].profile->name, len) == 0 &&
                o[len] == ':')
                matched = 1;
            rc = bf_device_profile_override(dm->devs[i].profile, o);
        }
        if (!rc && !matched)
            rc = bf_err_set(BF_EPARSE,
                            "device override '%s': no such profile in "
                            "devices",
                            o);
    }
    if (!rc)
        rc = bf_radio_open(sc->radio, cdirs, (size_t)nc, &dm->radio);
    if (!rc && strcmp(sc->edge_device, "host") != 0) {
        size_t used;

        rc = bf_device_profile_open(sc->edge_device, ddirs, (size_t)nd,
                                    &dm->edge);
        if (!rc && dm->check_only)
            rc = check_points(dm->edge);
        else if (!rc)
            rc = fit_cached(dm->edge, cache, &n_cache, CACHE_MAX, cache_dir,
                            &dm->edge_fit, &dm->edge_error, &used);
    }
    for (i = 0; i < dm->n_devs && !rc; i++) {
        struct dev *d = &dm->devs[i];
        size_t used = 0;

        d->here = bf_devmodel_is_here(d->profile);
        if (dm->check_only) {
            rc = check_points(d->profile);
            continue;
        }
        rc = fit_cached(d->profile, cache, &n_cache, CACHE_MAX, cache_dir,
                        &d->fit, &d->error, &used);
        describe_latency(d, used);
        snprintf(d->power_method, sizeof(d->power_method),
                 "modeled:power states of %s (idle %.0f mW, compute %.0f "
                 "mW), radio %s",
                 d->profile->name, d->profile->power.idle_mw,
                 d->profile->power.compute_mw, dm->radio.name);
    }
    for (i = 0; i < n_cache; i++)
        free(cache[i].layers);
    if (rc) {
        bf_devmodel_close(dm);
        return rc;
    }
    *out = dm;
    return 0;
}

void bf_devmodel_close(struct bf_devmodel *dm)
{
    size_t i;

    if (!dm)
        return;
    for (i = 0; i < dm->n_devs; i++)
        bf_device_profile_free(dm->devs[i].profile);
    free(dm->devs);
    bf_device_profile_free(dm->edge);
    for (i = 0; i < sizeof(dm->scratch) / sizeof(dm->scratch[0]); i++)
        free(dm->scratch[i]);
    free(dm);
}

size_t bf_devmodel_count(const struct bf_devmodel *dm)
{
    return dm ? dm->n_devs : 0;
}

/* Per case */

static int grow(struct bf_devmodel *dm, size_t n)
{
    size_t i;

    if (n <= dm->scratch_n)
        return 0;
    for (i = 0; i < sizeof(dm->scratch) / sizeof(dm->scratch[0]); i++) {
        double *p = realloc(dm->scratch[i], n * sizeof(double));

        if (!p)
            return bf_err_set(BF_ENOMEM, "device rows: %zu requests", n);
        dm->scratch[i] = p;
    }
    dm->scratch_n = n;
    return 0;
}

static double ns_ms(int64_t ns)
{
    return ns >= 0 ? (double)ns / 1e6 : 0;
}

/* Median of the first n values (reorders them); NaN for none. */
static double median(double *v, size_t n)
{
    struct bf_stats st;

    if (n == 0 || bf_stats_compute(v, n, &st))
        return NAN;
    return st.p50;
}

/* One pass over a case's requests with the device's head and the edge's
 * tail at the given modeled times. */
struct pass {
    double e2e_p50, e2e_mean, e2e_p90;
    double energy_mj, energy_above_idle_mj;
    double avg_power_mw, avg_power_above_idle_mw;
    size_t n_enc, n_off;
};

static void device_pass(struct bf_devmodel *dm, const struct dev *dv,
                        const struct bf_devmodel_case *c,
                        const struct bf_sample_row *samples, size_t n,
                        double head_model, double tail_model, struct pass *o)
{
    const struct bf_device_profile *p = dv->profile;
    double *host_head = dm->scratch[0], *enc = dm->scratch[1];
    double *net = dm->scratch[2], *srv = dm->scratch[3];
    double *e2e = dm->scratch[4];
    double sum_uj = 0, sum_above_uj = 0, sum_ms = 0;
    struct bf_stats st;
    size_t i;

    memset(o, 0, sizeof(*o));
    for (i = 0; i < n; i++) {
        const struct bf_sample_row *s = &samples[i];
        struct bf_device_timeline t = {.up_mbps = c->up_mbps,
                                       .down_mbps = c->down_mbps};
        struct bf_device_energy e;
        double hh = c->whole_forward ? ns_ms(s->e2e_ns) : ns_ms(s->head_ns);
        double encode = ns_ms(s->encode_ns);

        host_head[i] = hh;
        if (s->encode_ns >= 0)
            enc[o->n_enc++] = encode;
        t.compute_ms = (dv->here ? hh : head_model) + encode;
        if (s->transfer_ns >= 0) {
            double transfer = ns_ms(s->transfer_ns);
            double server = ns_ms(s->server_queue_ns) +
                            ns_ms(s->server_decode_ns) +
                            (dm->edge ? tail_model : ns_ms(s->tail_ns));
            double tx = transfer;

            if (c->up_mbps > 0 && s->bytes_up > 0) {
                tx = (double)s->bytes_up * 8 / (c->up_mbps * 1e3);
                if (tx > transfer)
                    tx = transfer;
            }
            t.tx_ms = tx;
            t.rx_ms = ns_ms(s->reply_ns);
            t.wait_ms = (transfer - tx) + server;
            net[o->n_off] = transfer + t.rx_ms;
            srv[o->n_off] = server;
            o->n_off++;
        }
        /* A request answered on the device spends no radio time. */
        bf_device_energy(&p->power, &dm->radio, &t, &e);
        e2e[i] = e.e2e_ms;
        sum_uj += e.energy_mj * 1e3;
        sum_above_uj += e.energy_above_idle_mj * 1e3;
        sum_ms += e.e2e_ms;
    }
    o->energy_mj = n ? sum_uj / 1e3 / (double)n : NAN;
    o->energy_above_idle_mj = n ? sum_above_uj / 1e3 / (double)n : NAN;
    o->avg_power_mw = sum_ms > 0 ? sum_uj / sum_ms : NAN;
    o->avg_power_above_idle_mw = sum_ms > 0 ? sum_above_uj / sum_ms : NAN;
    if (n && bf_stats_compute(e2e, n, &st) == 0) {
        o->e2e_p50 = st.p50;
        o->e2e_mean = st.mean;
        o->e2e_p90 = st.p90;
    } else {
        o->e2e_p50 = o->e2e_mean = o->e2e_p90 = NAN;
    }
}

int bf_devmodel_case(struct bf_devmodel *dm, const struct bf_devmodel_case *c,
                     const struct bf_sample_row *samples, size_t n,
                     struct bf_device_row *rows)
{
    size_t d;
    int rc;

    if (!dm || !c || !rows || (n && !samples))
        return bf_err_set(BF_EINVAL, "bf_devmodel_case: NULL argument");
    if (dm->check_only)
        return bf_err_set(BF_EINVAL, "device models opened to check only "
                                     "(a dry run) describe no case");
    rc = grow(dm, n ? n : 1);
    if (rc)
        return rc;
    for (d = 0; d < dm->n_devs; d++) {
        struct dev *dv = &dm->devs[d];
        const struct bf_device_profile *p = dv->profile;
        double head_model = bf_device_predict_ms(&dv->fit, c->head, c->n_head);
        double tail_model =
            dm->edge ? bf_device_predict_ms(&dm->edge_fit, c->tail, c->n_tail)
                     : 0;
        double head_lo, head_hi, tail_lo, tail_hi;
        struct bf_device_row *r = &rows[d];
        struct pass mid, lo, hi;
        int bounded;

        bf_device_interval(&dv->error, head_model, &head_lo, &head_hi);
        bf_device_interval(&dm->edge_error, tail_model, &tail_lo, &tail_hi);
        /* Bounds wherever the row is modeled with an interval: a device
         * model with one (a case with no head, edge offloading, gets
         * bounds equal to its numbers: nothing of it is uncertain), or a
         * modeled edge tail. */
        bounded = (!dv->here && dv->error.factor > 0) ||
                  (dm->edge && dm->edge_error.factor > 0 && c->n_tail > 0);
        /* The bounds pass first: the point pass leaves the scratch arrays
         * (medians below) as they were. */
        if (bounded) {
            device_pass(dm, dv, c, samples, n, head_lo, tail_lo, &lo);
            device_pass(dm, dv, c, samples, n, head_hi, tail_hi, &hi);
        }
        device_pass(dm, dv, c, samples, n, head_model, tail_model, &mid);
        memset(r, 0, sizeof(*r));
        r->device = p->name;
        r->role = p->role;
        r->runtime = p->runtime[0] ? p->runtime : NULL;
        r->latency_method = dv->latency_method;
        r->power_method = dv->power_method;
        r->radio = mid.n_off ? dm->radio.name : "";
        r->requests = (int64_t)n;
        r->encode_ms = median(dm->scratch[1], mid.n_enc);
        r->transfer_ms = median(dm->scratch[2], mid.n_off);
        r->server_ms = median(dm->scratch[3], mid.n_off);
        r->host_head_ms = median(dm->scratch[0], n);
        r->head_ms = dv->here ? r->host_head_ms : head_model;
        r->energy_mj = mid.energy_mj;
        r->energy_above_idle_mj = mid.energy_above_idle_mj;
        r->avg_power_mw = mid.avg_power_mw;
        r->avg_power_above_idle_mw = mid.avg_power_above_idle_mw;
        r->e2e_ms = mid.e2e_p50;
        r->e2e_mean_ms = mid.e2e_mean;
        r->e2e_p90_ms = mid.e2e_p90;
        r->head_lo_ms = r->head_hi_ms = r->e2e_lo_ms = r->e2e_hi_ms = NAN;
        r->avg_power_lo_mw = r->avg_power_hi_mw = NAN;
        r->energy_lo_mj = r->energy_hi_mj = NAN;
        if (bounded) {
            if (!dv->here && c->n_head > 0) {
                r->head_lo_ms = head_lo;
                r->head_hi_ms = head_hi;
            }
            r->e2e_lo_ms = lo.e2e_p50;
            r->e2e_hi_ms = hi.e2e_p50;
            r->avg_power_lo_mw = lo.avg_power_mw;
            r->avg_power_hi_mw = hi.avg_power_mw;
            r->energy_lo_mj = lo.energy_mj;
            r->energy_hi_mj = hi.energy_mj;
        }
        if (dv->here && c->probe_energy_mj >= 0 && c->probe_window_ms > 0 &&
            n) {
            double idle_mj = p->power.idle_mw * c->probe_window_ms / 1e3;

            r->energy_mj = c->probe_energy_mj / (double)n;
            r->energy_above_idle_mj =
                (c->probe_energy_mj - idle_mj) / (double)n;
            r->avg_power_mw = c->probe_energy_mj * 1e3 / c->probe_window_ms;
            r->avg_power_above_idle_mw = r->avg_power_mw - p->power.idle_mw;
            r->avg_power_lo_mw = r->avg_power_hi_mw = NAN;
            r->energy_lo_mj = r->energy_hi_mj = NAN;
            snprintf(dm->power_method_case, sizeof(dm->power_method_case),
                     "%s over the timed window; above idle uses the "
                     "profile's idle %.0f mW",
                     c->probe_method ? c->probe_method : "measured:probe",
                     p->power.idle_mw);
            r->power_method = dm->power_method_case;
        }
    }
    return 0;
}

/* Calibration */

static int time_point(const char *arch, int px,
                      const struct bf_devmodel_calibrate_params *cp, double *ms)
{
    struct bf_model_params mp = {.arch = arch, .seed = 1};
    struct bf_infer_params ip = {.fold_bn = 1, .channels_last = 0};
    bf_model *model = NULL;
    bf_tensor *x = NULL;
    double *t = NULL;
    int n_stages = 0, i, rc;
    int iters = cp->iters > 0 ? cp->iters : 10;
    int warmup = cp->warmup >= 0 ? cp->warmup : 3;
    int64_t shape[4] = {1, 3, px, px};

    struct bf_arch_info ai;

    rc = bf_arch_find(arch, &ai);
    if (rc)
        return rc;
    shape[1] = ai.in_channels;
    rc = bf_model_create(&mp, &model);
    if (rc)
        return rc;
    rc = bf_model_stage_count(model, &n_stages);
    if (!rc)
        rc = bf_model_set_inference(model, &ip);
    if (!rc)
        rc = bf_tensor_randn(shape, 4, 7, &x);
    t = malloc((size_t)iters * sizeof(*t));
    if (!rc && !t)
        rc = bf_err_set(BF_ENOMEM, "timing %s", arch);
    for (i = 0; !rc && i < warmup + iters; i++) {
        bf_tensor *y = NULL;
        int64_t t0 = bf_clock_now_ns();

        rc = bf_model_forward(model, x, 0, n_stages - 1, &y);
        if (!rc && i >= warmup)
            t[i - warmup] = (double)(bf_clock_now_ns() - t0) / 1e6;
        bf_tensor_free(y);
    }
    if (!rc)
        *ms = median(t, (size_t)iters);
    free(t);
    bf_tensor_free(x);
    bf_model_free(model);
    return rc;
}

int bf_devmodel_calibrate(const struct bf_device_profile *profile,
                          const struct bf_devmodel_calibrate_params *params,
                          struct bf_devmodel_calibration *out)
{
    struct bf_device_sample s[BF_DEVICE_POINTS_MAX] = {{0}};
    struct bf_layer_info *layers[BF_DEVICE_POINTS_MAX] = {NULL};
    double loo[BF_DEVICE_POINTS_MAX];
    size_t i, n;
    double sum_abs = 0, max_abs = 0, sq = 0;
    int rc = 0;

    if (!profile || !params || !out)
        return bf_err_set(BF_EINVAL, "bf_devmodel_calibrate: NULL argument");
    memset(out, 0, sizeof(*out));
    n = profile->n_points;
    if (profile->n_points && params->threads >= 0)
        rc = bf_torch_set_threads(params->threads);
    for (i = 0; i < n && !rc; i++) {
        const struct bf_device_point *pt = &profile->points[i];
        struct bf_devmodel_point_result *pr = &out->points[i];

        if (params->progress)
            params->progress(params->progress_ctx, i, n, pt->model);
        rc = bf_devmodel_point_layers(profile, params->layer_cache_dir,
                                      pt->model, pt->input_px, &layers[i],
                                      &s[i].n_layers);
        if (rc) {
            rc = bf_err_prefix(rc, "%s: point %s: ", profile->path, pt->model);
            break;
        }
        s[i].layers = layers[i];
        pr->n_layers = s[i].n_layers;
        for (size_t l = 0; l < s[i].n_layers; l++)
            pr->macs += layers[i][l].macs;
        if (pt->measure)
            rc = time_point(pt->model, pt->input_px, params, &pr->measured_ms);
        else
            pr->measured_ms = pt->latency_ms;
        s[i].measured_ms = pr->measured_ms;
    }
    if (!rc)
        rc = bf_device_fit(&profile->latency, s, n, &out->fit);
    if (!rc && n >= 2)
        rc = bf_device_leave_one_out(&profile->latency, s, n, loo);
    if (!rc) {
        double measured[BF_DEVICE_POINTS_MAX];

        for (i = 0; i < n; i++)
            measured[i] = s[i].measured_ms;
        rc = bf_device_error_model(&profile->latency, measured, loo,
                                   profile->latency.fit_mask ? n : 0,
                                   &out->error);
    }
    if (!rc) {
        out->n_points = n;
        for (i = 0; i < n; i++) {
            struct bf_devmodel_point_result *pr = &out->points[i];
            double e;

            pr->predicted_ms =
                bf_device_predict_ms(&out->fit, s[i].layers, s[i].n_layers);
            e = (pr->predicted_ms / pr->measured_ms - 1) * 100;
            sq += e * e;
            pr->loo_ms = n >= 2 ? loo[i] : NAN;
            if (n >= 2) {
                double le = fabs(loo[i] / pr->measured_ms - 1) * 100;

                sum_abs += le;
                if (le > max_abs)
                    max_abs = le;
            }
        }
        out->fit_rms_pct = n ? sqrt(sq / (double)n) : NAN;
        out->loo_mean_abs_pct = n >= 2 ? sum_abs / (double)n : NAN;
        out->loo_max_abs_pct = n >= 2 ? max_abs : NAN;
    }
    for (i = 0; i < n; i++)
        free(layers[i]);
    return rc;
}
