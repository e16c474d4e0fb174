/*
 * bf_compare: two results DBs compared case by case.
 *
 * Each side is opened through the store as recorded
 * (bf_store_open_as_recorded: read-only, never migrated), its hashed cases
 * loaded once, one per hash, sorted by hash. The details of a matched case
 * (shape, accuracy, aggregates, samples, devices, epochs) are read per case
 * through the store's readers (bf_store_compare.h) into a small generic row
 * set, one per table, and walked in key order against the other side's.
 * Every compared metric updates the summary; the rows to show (differences,
 * timings, notes) are collected into memory, so that text and Markdown can
 * size their columns, and printed at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_compare.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_log.h"
#include "bf_stats.h"
#include "bf_store.h"
#include "bf_store_compare.h"
#include "bf_table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_SHOWN 12     /* hex digits of a case hash in the table */
#define PLATFORM_MAX 8192 /* bytes of a platform text kept */
#define PHASES_MAX 16     /* training phases per case */
#define CHANGE_MAX 60     /* characters of an error shown as a change */

/* Most repetitions of one case a side keeps for the timing rules. */
#define MAX_REPS 64

/* A hashed case of one side. */
struct kase {
    int64_t id;
    /* Every finished case of this hash on the side, newest first (its
     * repetitions: runs of the same scenario, or rounds of a run with
     * `repetitions`), for time.reps; id is the first when it finished. */
    int64_t reps[MAX_REPS];
    size_t n_reps;
    int64_t run_id;
    int index;
    char hash[BF_HASH_HEX_SIZE];
    char status[16];
    char error[160];
    char label[160];
    /* Its shape, compared exactly (D_SHAPE). */
    int64_t params, macs;
    int64_t head_params, head_macs, head_bytes; /* -1: not recorded */
    char split_shape[64];                       /* "": not recorded */
    char input[48];                             /* "CxHxW" */
    int threads;
    const struct kase *other; /* its match on the other side, or NULL */
};

/* The detail tables of a case, and the run's checks. */
enum {
    D_SHAPE,
    D_ACCURACY,
    D_AGGREGATES,
    D_SAMPLES,
    D_DEVICES,
    D_EPOCHS,
    D_CHECKS,
    NTABLES
};

/* Their columns, by the names the metrics show ("acc.fp32.n"). */
static const char *const shape_columns[] = {
    "params",     "macs",        "head_params", "head_macs",
    "head_bytes", "split_shape", "input",       "threads"};
static const char *const accuracy_columns[] = {
    /* the key */
    "variant", "split",
    /* the counts, accuracies and sizes */
    "n", "top1", "top5", "payload_bytes", "payload_zstd_bytes",
    "transmitted_elements", "input_elements", "jpeg_reference_bytes",
    "offload_fraction", "device_macs",
    /* the per-image results */
    "items_sha256", "pred_classes", "top1_bits", "topk_bits"};
static const char *const aggregate_columns[] = {"metric", "unit", "n",  "mean",
                                                "min",    "max",  "p50"};
static const char *const sample_columns[] = {"bytes_up", "bytes_down"};
static const char *const device_columns[] = {"device", "latency_method",
                                             "head_ms"};
static const char *const epoch_columns[] = {
    "phase", "epoch", "lr", "train_loss", "val_top1", "best", "images_per_s"};
static const char *const check_columns[] = {"name", "value"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const struct {
    const char *const *names;
    int ncols;
} tables[NTABLES] = {
    [D_SHAPE] = {shape_columns, COUNT(shape_columns)},
    [D_ACCURACY] = {accuracy_columns, COUNT(accuracy_columns)},
    [D_AGGREGATES] = {aggregate_columns, COUNT(aggregate_columns)},
    [D_SAMPLES] = {sample_columns, COUNT(sample_columns)},
    [D_DEVICES] = {device_columns, COUNT(device_columns)},
    [D_EPOCHS] = {epoch_columns, COUNT(epoch_columns)},
    [D_CHECKS] = {check_columns, COUNT(check_columns)},
};
#undef COUNT

/* Accuracy columns (D_ACCURACY). */
enum {
    ACC_VARIANT,
    ACC_SPLIT,
    ACC_N,
    ACC_TOP1,
    ACC_TOP5,
    ACC_PAYLOAD,
    ACC_ZSTD,
    ACC_TX_ELEMENTS,
    ACC_IN_ELEMENTS,
    ACC_JPEG_REF,
    ACC_OFFLOAD,
    ACC_DEVICE_MACS,
    ACC_ITEMS,
    ACC_CLASSES,
    ACC_TOP1_BITS,
    ACC_TOPK_BITS
};
_Static_assert(sizeof(accuracy_columns) / sizeof(accuracy_columns[0]) ==
                   ACC_TOPK_BITS + 1,
               "a name per accuracy column");

/* Aggregate columns: metric, unit, n, mean, min, max, p50. */
enum { AGG_METRIC, AGG_UNIT, AGG_N, AGG_MEAN, AGG_MIN, AGG_MAX, AGG_P50 };
_Static_assert(sizeof(aggregate_columns) / sizeof(aggregate_columns[0]) ==
                   AGG_P50 + 1,
               "a name per aggregate column");

/* Epoch columns: phase, epoch, lr, train_loss, val_top1, best,
 * images_per_s. */
enum { EP_PHASE, EP_EPOCH, EP_LR, EP_LOSS, EP_VAL, EP_BEST, EP_IPS };
_Static_assert(sizeof(epoch_columns) / sizeof(epoch_columns[0]) == EP_IPS + 1,
               "a name per epoch column");

/* The per-request timings of the samples table, by aggregate metric: a
 * time aggregate named here is judged over its samples (time.mwu). */
static const char *const sample_times[] = {
    "e2e",          "head",          "encode", "transfer",
    "server_queue", "server_decode", "tail",   "reply"};
#define NSAMPLE_TIMES (sizeof(sample_times) / sizeof(sample_times[0]))

struct side {
    const char *name; /* "BASE" or "NEW" */
    const char *path;
    struct bf_store *store;
    int64_t run_id;     /* resolved: 0 every run, else the run */
    struct kase *cases; /* hashed cases, one per hash, sorted by hash */
    size_t n;
    size_t cap;
    size_t unhashed;
    char cpu[128];
    /* The platform fingerprint of the side's runs: their common
     * platform_sha256, "" when a run has none, "mixed" when they differ;
     * platform holds the newest run's platform text. */
    char platform_sha[BF_HASH_HEX_SIZE];
    char platform[PLATFORM_MAX];
    int64_t newest;  /* the newest run of the side's cases */
    int have_sha;    /* a run with a fingerprint was seen */
    int missing_sha; /* a run without one was seen */
};

/* What a value of a row set holds: nothing (SQL NULL), a number, a text or
 * bytes. */
enum { VAL_NULL, VAL_INT, VAL_REAL, VAL_TEXT, VAL_BLOB };

/* One value of a row set. */
struct value {
    int type;   /* VAL_* */
    int64_t i;  /* integer */
    double d;   /* integer or real as a double (0 for nothing) */
    size_t s;   /* text, blob: offset in the row set's text buffer */
    size_t len; /* blob: bytes */
};

/* The rows of one detail table of one case. */
struct rowset {
    size_t nrows;
    int ncols;
    const char *const *names; /* the table's columns */
    struct value *v;          /* nrows * ncols */
    size_t used;              /* values filled */
    size_t cap;
    struct bf_buf text;
    int rc; /* BF_ENOMEM once a value could not be kept */
};

/* The output table. */
enum {
    COL_CASE,
    COL_HASH,
    COL_METRIC,
    COL_BASE,
    COL_NEW,
    COL_CHANGE,
    COL_RULE,
    COL_VERDICT,
    NCOLS
};

static const struct bf_table_column columns[NCOLS] = {
    [COL_CASE] = {"case", "case", 0},
    [COL_HASH] = {"hash", "case_hash", 0},
    [COL_METRIC] = {"metric", "metric", 0},
    [COL_BASE] = {"base", "base", 1},
    [COL_NEW] = {"new", "new", 1},
    [COL_CHANGE] = {"change", "change", 1},
    [COL_RULE] = {"rule", "rule", 0},
    [COL_VERDICT] = {"verdict", "verdict", 0},
};

/* The comparison under way. */
struct cmp {
    const struct bf_compare_params *p;
    const struct bf_compare_rules *r;
    int exact; /* the mode in force: 1 exact, 0 statistical */
    /* Both sides on one platform: only then can timings be judged (on
     * another CPU or other kernels they differ for no fault of the code). */
    int same_platform;
    struct side *bs, *ns;
    struct bf_compare_summary *sum;
    struct bf_table t;
    const struct kase *bc; /* the case pair being compared */
    const struct kase *nc;
};

static int check_rules(const struct bf_compare_rules *rules);

/* Sides */

/* A store failure of side s, prefixed with the side's name. */
static int side_fail(const struct side *s, int rc)
{
    return bf_err_prefix(rc, "%s: ", s->name);
}

/*
 * The label of a case: "train/MODEL/STRATEGY[/Cn][/fe]" for a training
 * case, "CONFIG/MODEL[/Cn][/RATEM][/+Nbg]" for an inference case.
 */
static void case_label(const struct bf_hashed_case_view *v, char *out,
                       size_t size)
{
    size_t len;

    if (v->strategy[0])
        len = (size_t)snprintf(out, size, "train/%s/%s", v->model, v->strategy);
    else
        len = (size_t)snprintf(out, size, "%s/%s", v->config, v->model);
    if (len < size && v->bottleneck_channels > 0)
        len += (size_t)snprintf(out + len, size - len, "/C%d",
                                v->bottleneck_channels);
    if (len < size && v->freeze_encoder == 1)
        len += (size_t)snprintf(out + len, size - len, "/fe");
    if (len < size && !isnan(v->link_rate_mbps))
        len +=
            (size_t)snprintf(out + len, size - len, "/%gM", v->link_rate_mbps);
    if (len < size && v->background_clients > 0)
        snprintf(out + len, size - len, "/+%dbg", v->background_clients);
}

/*
 * One hashed case of the side, in hash order, complete and newest first
 * within a hash: the first of each hash is kept, the finished others are
 * its repetitions.
 */
static int add_case(const struct bf_hashed_case_view *v, void *ctx)
{
    struct side *s = ctx;
    struct kase *k;

    if (s->n && strcmp(s->cases[s->n - 1].hash, v->case_hash) == 0) {
        /* An older or incomplete case of the same hash: a repetition
         * when it finished. */
        struct kase *prev = &s->cases[s->n - 1];

        if (strcmp(v->status, "finished") == 0 && prev->n_reps < MAX_REPS)
            prev->reps[prev->n_reps++] = v->case_id;
        return 0;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        struct kase *grown = realloc(s->cases, ncap * sizeof(*grown));

        if (!grown)
            return bf_err_set(BF_ENOMEM, "%s: %zu cases", s->name, ncap);
        s->cases = grown;
        s->cap = ncap;
    }
    k = &s->cases[s->n++];
    memset(k, 0, sizeof(*k));
    k->id = v->case_id;
    k->run_id = v->run_id;
    k->index = v->case_index;
    snprintf(k->hash, sizeof(k->hash), "%s", v->case_hash);
    snprintf(k->status, sizeof(k->status), "%s", v->status);
    snprintf(k->error, sizeof(k->error), "%s", v->error);
    case_label(v, k->label, sizeof(k->label));
    k->params = v->params;
    k->macs = v->macs;
    k->head_params = v->head_params;
    k->head_macs = v->head_macs;
    k->head_bytes = v->head_bytes;
    snprintf(k->split_shape, sizeof(k->split_shape), "%s", v->split_shape);
    snprintf(k->input, sizeof(k->input), "%dx%dx%d", v->input_channels,
             v->input_h, v->input_w);
    k->threads = v->threads;
    if (strcmp(k->status, "finished") == 0)
        k->reps[k->n_reps++] = k->id;
    return 0;
}

/* Load the hashed cases of the side's run(s), one per hash. */
static int load_cases(struct side *s)
{
    int rc = bf_store_count_unhashed_cases(s->store, s->run_id, &s->unhashed);

    if (rc == 0)
        rc = bf_store_each_hashed_case(s->store, s->run_id, add_case, s);
    return rc;
}

/* Fold a run of the side's cases into its fingerprint (runs of no case of
 * the side are passed over). */
static int add_platform(const struct bf_run_platform_view *v, void *ctx)
{
    struct side *s = ctx;
    const char *sha = v->platform_sha256;
    size_t i = 0;

    while (i < s->n && s->cases[i].run_id != v->run_id)
        i++;
    if (i == s->n)
        return 0;
    if (!sha[0])
        s->missing_sha = 1;
    else if (!s->have_sha)
        snprintf(s->platform_sha, sizeof(s->platform_sha), "%s", sha);
    else if (strcmp(s->platform_sha, sha) != 0)
        snprintf(s->platform_sha, sizeof(s->platform_sha), "mixed");
    s->have_sha = 1;
    if (v->run_id == s->newest) {
        snprintf(s->cpu, sizeof(s->cpu), "%s", v->cpu_model);
        snprintf(s->platform, sizeof(s->platform), "%s", v->platform);
    }
    return 0;
}

/*
 * The side's CPU, platform text (newest run) and common fingerprint over
 * the runs its cases come from.
 */
static int side_platform(struct side *s)
{
    int rc;

    for (size_t i = 0; i < s->n; i++)
        if (s->cases[i].run_id > s->newest)
            s->newest = s->cases[i].run_id;
    rc = bf_store_each_run_platform(s->store, s->run_id, add_platform, s);
    if (s->missing_sha)
        s->platform_sha[0] = '\0';
    return rc;
}

static int count_run(const struct bf_run_platform_view *v, void *ctx)
{
    (void)v;
    ++*(int *)ctx;
    return 0;
}

/* Open one side: the file, its run, its cases. */
static int side_open(struct side *s, const char *name,
                     const struct bf_compare_side *spec)
{
    int rc;

    s->name = name;
    s->path = spec->path;
    rc = bf_store_open_as_recorded(spec->path, &s->store);
    if (rc)
        return side_fail(s, rc);
    if (spec->run_id == BF_COMPARE_LAST_RUN) {
        rc = bf_store_last_run(s->store, &s->run_id);
        if (rc == BF_ENOENT)
            return bf_err_set(BF_ENOENT, "%s: '%s' holds no run", name,
                              spec->path);
    } else if (spec->run_id > 0) {
        int found = 0;

        s->run_id = spec->run_id;
        rc = bf_store_each_run_platform(s->store, s->run_id, count_run, &found);
        if (rc == 0 && !found)
            return bf_err_set(BF_ENOENT, "%s: no run %lld in '%s'", name,
                              (long long)spec->run_id, spec->path);
    } else if (spec->run_id < 0) {
        return bf_err_set(BF_EINVAL, "%s: bad run id %lld", name,
                          (long long)spec->run_id);
    }
    if (rc == 0)
        rc = load_cases(s);
    if (rc == 0 && s->n)
        rc = side_platform(s);
    return rc ? side_fail(s, rc) : 0;
}

static void side_close(struct side *s)
{
    bf_store_close(s->store);
    free(s->cases);
}

static int by_hash(const void *key, const void *elem)
{
    return strcmp(key, ((const struct kase *)elem)->hash);
}

/* Display order: run, case index, case id. */
static int by_position(const void *a, const void *b)
{
    const struct kase *x = *(const struct kase *const *)a;
    const struct kase *y = *(const struct kase *const *)b;

    if (x->run_id != y->run_id)
        return x->run_id < y->run_id ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Row sets */

static void rowset_free(struct rowset *rs)
{
    free(rs->v);
    bf_buf_free(&rs->text);
    memset(rs, 0, sizeof(*rs));
}

/* Empty rs for the rows of detail table d. */
static void rowset_reset(struct rowset *rs, int d)
{
    rs->nrows = 0;
    rs->used = 0;
    rs->rc = 0;
    rs->names = tables[d].names;
    rs->ncols = tables[d].ncols;
    bf_buf_reset(&rs->text);
}

/*
 * The next value of the row being filled (a row is complete after ncols
 * values), nothing (SQL NULL) until set; NULL once out of memory (rs->rc
 * says so, and later values are dropped).
 */
static struct value *next_value(struct rowset *rs)
{
    struct value *v;

    if (rs->rc)
        return NULL;
    if (rs->used == rs->cap) {
        size_t ncap = rs->cap ? 2 * rs->cap : 64;
        struct value *grown = realloc(rs->v, ncap * sizeof(*grown));

        if (!grown) {
            rs->rc = bf_err_set(BF_ENOMEM, "compare: %zu values", ncap);
            return NULL;
        }
        rs->v = grown;
        rs->cap = ncap;
    }
    v = &rs->v[rs->used++];
    memset(v, 0, sizeof(*v));
    if (rs->used % (size_t)rs->ncols == 0)
        rs->nrows++;
    return v;
}

static void put_null(struct rowset *rs)
{
    next_value(rs);
}

static void put_int(struct rowset *rs, int64_t i)
{
    struct value *v = next_value(rs);

    if (v) {
        v->type = VAL_INT;
        v->i = i;
        v->d = (double)i;
    }
}

/* A real; NaN (SQL NULL, as the store reads it) is nothing. */
static void put_real(struct rowset *rs, double d)
{
    struct value *v = next_value(rs);

    if (v && !isnan(d)) {
        v->type = VAL_REAL;
        v->d = d;
    }
}

/* len bytes kept NUL-terminated in the row set's text buffer. */
static void put_bytes(struct rowset *rs, int type, const void *bytes,
                      size_t len)
{
    struct value *v = next_value(rs);

    if (!v)
        return;
    v->type = type;
    v->s = rs->text.len;
    v->len = len;
    if (bf_buf_append(&rs->text, len ? bytes : "", len) ||
        bf_buf_append(&rs->text, "", 1))
        rs->rc = bf_err_set(BF_ENOMEM, "compare: row text");
}

static void put_text(struct rowset *rs, const char *text)
{
    put_bytes(rs, VAL_TEXT, text, strlen(text));
}

/* An optional count (-1: not recorded) or text (""). */
static void put_count(struct rowset *rs, int64_t i)
{
    if (i == -1)
        put_null(rs);
    else
        put_int(rs, i);
}

static void put_opt_text(struct rowset *rs, const char *text)
{
    if (text[0])
        put_text(rs, text);
    else
        put_null(rs);
}

/* The rows of the detail tables, from the store's views. */

static int put_shape(struct rowset *rs, const struct kase *k)
{
    put_int(rs, k->params);
    put_int(rs, k->macs);
    put_count(rs, k->head_params);
    put_count(rs, k->head_macs);
    put_count(rs, k->head_bytes);
    put_opt_text(rs, k->split_shape);
    put_text(rs, k->input);
    put_int(rs, k->threads);
    return rs->rc;
}

static int put_accuracy(const struct bf_case_accuracy_view *v, void *ctx)
{
    struct rowset *rs = ctx;

    put_text(rs, v->variant);
    put_text(rs, v->split);
    put_int(rs, v->n);
    put_real(rs, v->top1);
    put_real(rs, v->top5);
    put_real(rs, v->payload_bytes);
    put_real(rs, v->payload_zstd_bytes);
    put_real(rs, v->transmitted_elements);
    put_real(rs, v->input_elements);
    put_real(rs, v->jpeg_reference_bytes);
    put_real(rs, v->offload_fraction);
    put_real(rs, v->device_macs);
    if (v->predictions) {
        put_text(rs, v->items_sha256);
        put_bytes(rs, VAL_BLOB, v->classes, v->classes_bytes);
        put_bytes(rs, VAL_BLOB, v->top1_bits, v->top1_bytes);
        put_bytes(rs, VAL_BLOB, v->topk_bits, v->topk_bytes);
    } else {
        for (int c = ACC_ITEMS; c <= ACC_TOPK_BITS; c++)
            put_null(rs);
    }
    return rs->rc;
}

static int put_aggregate(const struct bf_aggregate_row *row, void *ctx)
{
    struct rowset *rs = ctx;

    put_text(rs, row->metric);
    put_text(rs, row->unit);
    put_int(rs, (int64_t)row->stats.n);
    put_real(rs, row->stats.mean);
    put_real(rs, row->stats.min);
    put_real(rs, row->stats.max);
    put_real(rs, row->stats.p50);
    return rs->rc;
}

static int put_sample(const struct bf_sample_row *row, void *ctx)
{
    struct rowset *rs = ctx;

    put_count(rs, row->bytes_up);
    put_count(rs, row->bytes_down);
    return rs->rc;
}

static int put_device(const struct bf_device_row *row, void *ctx)
{
    struct rowset *rs = ctx;

    put_text(rs, row->device);
    put_text(rs, row->latency_method);
    put_real(rs, row->head_ms);
    return rs->rc;
}

static int put_epoch(const struct bf_epoch_row *row, void *ctx)
{
    struct rowset *rs = ctx;

    put_text(rs, row->phase);
    put_int(rs, row->epoch);
    put_real(rs, row->lr);
    put_real(rs, row->train_loss);
    put_real(rs, row->val_top1);
    put_int(rs, row->best);
    put_real(rs, row->images_per_s);
    return rs->rc;
}

static int put_check(const struct bf_check_row *row, void *ctx)
{
    struct rowset *rs = ctx;

    put_text(rs, row->name);
    put_text(rs, row->value);
    return rs->rc;
}

/*
 * The rows of detail table d of case k of side s into rs. The run's
 * checks (D_CHECKS, k NULL) are those of the side's run(s): BF_ENOENT
 * without a detail when the DB has no checks table (before schema
 * version 7).
 */
static int rowset_load(struct side *s, int d, const struct kase *k,
                       struct rowset *rs)
{
    int rc = 0;

    rowset_reset(rs, d);
    switch (d) {
    case D_SHAPE:
        rc = put_shape(rs, k);
        break;
    case D_ACCURACY:
        rc = bf_store_each_case_accuracy(s->store, k->id, put_accuracy, rs);
        break;
    case D_AGGREGATES:
        rc = bf_store_each_case_aggregate(s->store, k->id, put_aggregate, rs);
        break;
    case D_SAMPLES:
        rc = bf_store_each_case_sample(s->store, k->id, put_sample, rs);
        break;
    case D_DEVICES:
        rc = bf_store_each_case_device(s->store, k->id, put_device, rs);
        break;
    case D_EPOCHS:
        rc = bf_store_each_case_epoch(s->store, k->id, put_epoch, rs);
        break;
    default:
        rc = bf_store_each_check(s->store, s->run_id, put_check, rs);
        if (rc == BF_ENOENT)
            return rc;
        break;
    }
    return rc ? side_fail(s, rc) : 0;
}

static const struct value *val(const struct rowset *rs, size_t r, int c)
{
    return &rs->v[r * (size_t)rs->ncols + (size_t)c];
}

static const char *text_of(const struct rowset *rs, size_t r, int c)
{
    const struct value *v = val(rs, r, c);

    return v->type == VAL_TEXT ? rs->text.data + v->s : "";
}

static int values_equal(const struct rowset *a, size_t ra,
                        const struct rowset *b, size_t rb, int c)
{
    const struct value *x = val(a, ra, c), *y = val(b, rb, c);
    double scale;

    if (x->type == VAL_NULL || y->type == VAL_NULL)
        return x->type == y->type;
    if (x->type == VAL_BLOB || y->type == VAL_BLOB)
        return x->type == y->type && x->len == y->len &&
               memcmp(a->text.data + x->s, b->text.data + y->s, x->len) == 0;
    if (x->type == VAL_TEXT || y->type == VAL_TEXT)
        return x->type == y->type &&
               strcmp(text_of(a, ra, c), text_of(b, rb, c)) == 0;
    if (x->type == VAL_INT && y->type == VAL_INT)
        return x->i == y->i;
    scale = fmax(fabs(x->d), fabs(y->d));
    return fabs(x->d - y->d) <= BF_COMPARE_EXACT_REL * scale;
}

static void format_value(const struct rowset *rs, size_t r, int c, char *out,
                         size_t size)
{
    const struct value *v = val(rs, r, c);

    if (v->type == VAL_NULL)
        snprintf(out, size, "-");
    else if (v->type == VAL_INT)
        snprintf(out, size, "%lld", (long long)v->i);
    else if (v->type == VAL_REAL)
        snprintf(out, size, "%.10g", v->d);
    else if (v->type == VAL_BLOB)
        snprintf(out, size, "%zu bytes", v->len);
    else
        snprintf(out, size, "%s", text_of(rs, r, c));
}

/* The rows of two row sets with the same first nkey columns (both in
 * key order): 0 when equal, else <0 / >0 as strcmp over the key. */
static int key_cmp(const struct rowset *a, size_t ra, const struct rowset *b,
                   size_t rb, int nkey)
{
    for (int c = 0; c < nkey; c++) {
        int d = strcmp(text_of(a, ra, c), text_of(b, rb, c));

        if (d)
            return d;
    }
    return 0;
}

/* The table */

static int add_row(struct cmp *cx, const char *metric, const char *base,
                   const char *new_text, const char *change, const char *rule,
                   const char *verdict)
{
    const char *cells[NCOLS];
    char hash[HASH_SHOWN + 1] = "";
    const struct kase *k = cx->bc ? cx->bc : cx->nc;
    int rc;

    if (k)
        snprintf(hash, sizeof(hash), "%.*s", HASH_SHOWN, k->hash);
    cells[COL_CASE] = k ? k->label : "(run)";
    cells[COL_HASH] = hash;
    cells[COL_METRIC] = metric;
    cells[COL_BASE] = base;
    cells[COL_NEW] = new_text;
    cells[COL_CHANGE] = change;
    cells[COL_RULE] = rule;
    cells[COL_VERDICT] = verdict;
    rc = bf_table_row_begin(&cx->t);
    for (int c = 0; rc == 0 && c < NCOLS; c++)
        rc = bf_table_set(&cx->t, c, cells[c]);
    if (rc == 0)
        bf_table_row_end(&cx->t);
    return rc;
}

/* Metrics */

/* An exact metric whose two sides are already known equal or not. */
static int exact_result(struct cmp *cx, int equal, const char *metric,
                        const char *base, const char *new_text,
                        const char *change)
{
    if (equal) {
        cx->sum->exact_equal++;
        return 0;
    }
    cx->sum->exact_differ++;
    return add_row(cx, metric, base, new_text, change, "exact", "DIFFERS");
}

/* Column c of row ra of a against row rb of b, exactly. */
static int exact_cell(struct cmp *cx, const char *metric,
                      const struct rowset *a, size_t ra, const struct rowset *b,
                      size_t rb, int c)
{
    char base[64], new_text[64], change[32] = "";
    const struct value *x = val(a, ra, c), *y = val(b, rb, c);

    if (values_equal(a, ra, b, rb, c))
        return exact_result(cx, 1, metric, "", "", "");
    format_value(a, ra, c, base, sizeof(base));
    format_value(b, rb, c, new_text, sizeof(new_text));
    if ((x->type == VAL_INT || x->type == VAL_REAL) &&
        (y->type == VAL_INT || y->type == VAL_REAL))
        snprintf(change, sizeof(change), "%+.4g", y->d - x->d);
    return exact_result(cx, 0, metric, base, new_text, change);
}

/* A row that one side has and the other lacks. */
static int presence(struct cmp *cx, const char *metric, int in_base)
{
    if (in_base)
        return exact_result(cx, 0, metric, "present", "-", "");
    return add_row(cx, metric, "-", "present", "", "exact", "new");
}

/* Verdicts of the judging rules. */
enum verdict { V_OK, V_WORSE, V_OFF, V_SLOWER, V_BETTER, V_FASTER, V_UNJUDGED };

static int judged(struct cmp *cx, const char *metric, const char *base,
                  const char *new_text, const char *change, const char *rule,
                  enum verdict v, int show)
{
    static const char *const words[] = {
        [V_OK] = "ok",         [V_WORSE] = "WORSE",   [V_OFF] = "OFF",
        [V_SLOWER] = "SLOWER", [V_BETTER] = "better", [V_FASTER] = "faster",
        [V_UNJUDGED] = "~"};

    switch (v) {
    case V_OK:
        cx->sum->judged_ok++;
        break;
    case V_WORSE:
    case V_OFF:
        cx->sum->worse++;
        show = 1;
        break;
    case V_SLOWER:
        cx->sum->timings_slower++;
        show = 1;
        break;
    case V_UNJUDGED:
        cx->sum->unjudged++;
        break;
    default:
        cx->sum->better++;
        break;
    }
    return show ? add_row(cx, metric, base, new_text, change, rule, words[v])
                : 0;
}

/*
 * Column c by a relative tolerance (rule name, tolerance rel) in
 * statistical mode, exactly in exact mode. NULL matches only NULL; the row
 * is shown only when it is off.
 */
static int tolerance_cell(struct cmp *cx, const char *metric, const char *rule,
                          double rel, const struct rowset *a, size_t ra,
                          const struct rowset *b, size_t rb, int c)
{
    const struct value *x = val(a, ra, c), *y = val(b, rb, c);
    char base[64], new_text[64], change[48] = "";
    int within;

    if (cx->exact)
        return exact_cell(cx, metric, a, ra, b, rb, c);
    if (x->type == VAL_NULL || y->type == VAL_NULL || x->type == VAL_TEXT ||
        y->type == VAL_TEXT || x->type == VAL_BLOB || y->type == VAL_BLOB) {
        within = values_equal(a, ra, b, rb, c);
    } else {
        double scale = fmax(fabs(x->d), fabs(y->d));

        within = fabs(y->d - x->d) <= rel * scale;
        if (scale > 0)
            snprintf(change, sizeof(change), "%+.2f %%",
                     100.0 * (y->d - x->d) / fabs(x->d != 0 ? x->d : scale));
    }
    format_value(a, ra, c, base, sizeof(base));
    format_value(b, rb, c, new_text, sizeof(new_text));
    return judged(cx, metric, base, new_text, change, rule,
                  within ? V_OK : V_OFF, 0);
}

/* Bit i of a packed bit blob (LSB first). */
static int bit_at(const unsigned char *bits, size_t i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

/*
 * An accuracy (percent, column c) of row ra of a against row rb of b:
 * exactly in exact mode; else McNemar's exact test over the per-image
 * results in column bits when both sides kept them for the same items
 * (column items), or a two-proportion z test of the percentages and
 * counts (column 2).
 */
static int accuracy_cell(struct cmp *cx, const char *metric,
                         const struct rowset *a, size_t ra,
                         const struct rowset *b, size_t rb, int c, int bits,
                         int items)
{
    const struct bf_compare_rules *r = cx->r;
    const struct value *xb = val(a, ra, bits), *yb = val(b, rb, bits);
    double x = val(a, ra, c)->d, y = val(b, rb, c)->d, drop = x - y, p = 1.0;
    int64_t na = val(a, ra, 2)->i, nb = val(b, rb, 2)->i;
    char base[32], new_text[32], change[64];
    const char *rule;
    enum verdict v = V_OK;

    if (cx->exact)
        return exact_cell(cx, metric, a, ra, b, rb, c);
    if (xb->type == VAL_BLOB && yb->type == VAL_BLOB && na == nb && na > 0 &&
        xb->len == yb->len && xb->len >= (size_t)(na + 7) / 8 &&
        values_equal(a, ra, b, rb, items)) {
        const unsigned char *u = (const unsigned char *)a->text.data + xb->s;
        const unsigned char *w = (const unsigned char *)b->text.data + yb->s;
        uint64_t lost = 0, won = 0;

        for (size_t i = 0; i < (size_t)na; i++) {
            int hx = bit_at(u, i), hy = bit_at(w, i);

            lost += hx && !hy;
            won += !hx && hy;
        }
        if (bf_stats_mcnemar_exact(lost, won, &p))
            return bf_err_set(BF_EINTERNAL, "compare: McNemar");
        drop = 100.0 * ((double)lost - (double)won) / (double)na;
        rule = "accuracy.paired";
        snprintf(change, sizeof(change), "%+.2f pts (-%llu/+%llu) p=%.2g",
                 drop == 0 ? 0.0 : -drop, (unsigned long long)lost,
                 (unsigned long long)won, p);
    } else {
        double k1 = x / 100.0 * (double)na, k2 = y / 100.0 * (double)nb;
        double pool = na + nb > 0 ? (k1 + k2) / (double)(na + nb) : 0.0;
        double se = na > 0 && nb > 0
                        ? sqrt(pool * (1.0 - pool) *
                               (1.0 / (double)na + 1.0 / (double)nb))
                        : 0.0;

        if (se > 0)
            p = 2.0 * (1.0 - bf_stats_normal_cdf(fabs(x - y) / 100.0 / se));
        else
            p = x == y ? 1.0 : 0.0;
        rule = "accuracy.unpaired";
        snprintf(change, sizeof(change), "%+.2f pts p=%.2g",
                 drop == 0 ? 0.0 : -drop, p);
    }
    cx->sum->tests++;
    if (drop >= r->accuracy_min_drop_pts && p < r->accuracy_alpha)
        v = V_WORSE;
    else if (-drop >= r->accuracy_min_drop_pts && p < r->accuracy_alpha)
        v = V_BETTER;
    snprintf(base, sizeof(base), "%.2f", x);
    snprintf(new_text, sizeof(new_text), "%.2f", y);
    return judged(cx, metric, base, new_text, change, rule, v, 1);
}

/*
 * A slowdown as ratio (NEW / BASE as times, above 1 slower) by rule:
 * SLOWER beyond time.ratio when the time grew by more than the floor
 * (grew_ms NaN: no floor) and the test's p (1 without a test) is below
 * time.alpha, or always when p is NaN (no test possible); faster the
 * other way round.
 */
static int timed(struct cmp *cx, const char *metric, const char *base,
                 const char *new_text, const char *rule, double limit,
                 double ratio, double grew_ms, double p)
{
    const struct bf_compare_rules *r = cx->r;
    int over_floor = isnan(grew_ms) || fabs(grew_ms) > r->time_floor_ms;
    int significant = isnan(p) || p < r->time_alpha;
    enum verdict v = V_OK;
    char change[48];

    if (isfinite(ratio) && !isnan(p))
        snprintf(change, sizeof(change), "x%.2f p=%.2g", ratio, p);
    else if (isfinite(ratio))
        snprintf(change, sizeof(change), "x%.2f", ratio);
    else
        snprintf(change, sizeof(change), "-");
    if (!cx->same_platform || cx->p->skip_timings)
        v = V_UNJUDGED;
    else if (ratio > limit && over_floor && significant)
        v = V_SLOWER;
    else if (ratio < 1.0 / limit && over_floor && significant)
        v = V_FASTER;
    return judged(cx, metric, base, new_text, change, rule, v, 1);
}

/* The samples of one timing of a case, in ms: *n of them in *out (caller
 * frees; NULL and 0 when there are none). */
static int load_times(struct side *s, size_t t, int64_t case_id, double **out,
                      size_t *n)
{
    int rc = bf_store_case_samples(s->store, case_id, sample_times[t], out, n);

    return rc ? side_fail(s, rc) : 0;
}

/* Milliseconds per unit of a time unit, or 0 for any other unit. */
static double unit_ms(const char *unit)
{
    if (strcmp(unit, "ns") == 0)
        return 1e-6;
    if (strcmp(unit, "us") == 0)
        return 1e-3;
    if (strcmp(unit, "ms") == 0)
        return 1;
    if (strcmp(unit, "s") == 0)
        return 1e3;
    return 0;
}

/* Per case */

static int compare_shape(struct cmp *cx, const struct rowset *a,
                         const struct rowset *b)
{
    char metric[64];
    int rc = 0;

    if (a->nrows != 1 || b->nrows != 1)
        return bf_err_set(BF_EINTERNAL, "compare: case row missing");
    for (int c = 0; rc == 0 && c < a->ncols; c++) {
        snprintf(metric, sizeof(metric), "case.%s", a->names[c]);
        rc = exact_cell(cx, metric, a, 0, b, 0, c);
    }
    return rc;
}

/*
 * How a detail table's two row sets are walked in step: both are sorted by
 * their first nkey columns; a row only one side has goes to one() (in_base
 * says which side), a pair of matching rows to both().
 */
struct walk {
    int nkey;
    int (*one)(struct cmp *cx, const struct rowset *rs, size_t r, int in_base);
    int (*both)(struct cmp *cx, const struct rowset *a, size_t i,
                const struct rowset *b, size_t j);
};

static int walk_rows(struct cmp *cx, const struct walk *w,
                     const struct rowset *a, const struct rowset *b)
{
    size_t i = 0, j = 0;
    int rc = 0;

    while (rc == 0 && (i < a->nrows || j < b->nrows)) {
        int d = i == a->nrows   ? 1
                : j == b->nrows ? -1
                                : key_cmp(a, i, b, j, w->nkey);

        if (d < 0)
            rc = w->one(cx, a, i++, 1);
        else if (d > 0)
            rc = w->one(cx, b, j++, 0);
        else
            rc = w->both(cx, a, i++, b, j++);
    }
    return rc;
}

/* The name of an accuracy row: its variant, and its split unless test. */
static void accuracy_name(const struct rowset *rs, size_t r, char *out,
                          size_t size)
{
    if (strcmp(text_of(rs, r, 1), "test") == 0)
        snprintf(out, size, "acc.%s", text_of(rs, r, 0));
    else
        snprintf(out, size, "acc.%s[%s]", text_of(rs, r, 0), text_of(rs, r, 1));
}

static int accuracy_one(struct cmp *cx, const struct rowset *rs, size_t r,
                        int in_base)
{
    char name[96];

    accuracy_name(rs, r, name, sizeof(name));
    return presence(cx, name, in_base);
}

static int accuracy_both(struct cmp *cx, const struct rowset *a, size_t i,
                         const struct rowset *b, size_t j)
{
    char name[96], metric[160];
    int rc = 0;

    accuracy_name(a, i, name, sizeof(name));
    for (int c = ACC_N; rc == 0 && c <= ACC_CLASSES; c++) {
        snprintf(metric, sizeof(metric), "%s.%s", name, a->names[c]);
        switch (c) {
        case ACC_TOP1:
        case ACC_TOP5:
            rc = accuracy_cell(cx, metric, a, i, b, j, c,
                               c == ACC_TOP1 ? ACC_TOP1_BITS : ACC_TOPK_BITS,
                               ACC_ITEMS);
            break;
        case ACC_ZSTD:
        case ACC_OFFLOAD:
        case ACC_DEVICE_MACS:
            rc = tolerance_cell(cx, metric, "size.rel", cx->r->size_rel, a, i,
                                b, j, c);
            break;
        case ACC_ITEMS:
        case ACC_CLASSES:
            /* The per-image results: equal in exact mode (when both
             * sides kept them); statistical mode pairs by them. */
            if (cx->exact && val(a, i, c)->type != VAL_NULL &&
                val(b, j, c)->type != VAL_NULL)
                rc = exact_cell(cx, metric, a, i, b, j, c);
            break;
        default:
            rc = exact_cell(cx, metric, a, i, b, j, c);
            break;
        }
    }
    return rc;
}

/* Accuracy rows, keyed by variant and split. */
static const struct walk accuracy_walk = {2, accuracy_one, accuracy_both};

/* Whether an aggregate is compared: bytes (exact) or a time (timed). */
static int agg_compared(const struct rowset *rs, size_t r)
{
    const char *unit = text_of(rs, r, AGG_UNIT);

    return strcmp(unit, "bytes") == 0 || unit_ms(unit) > 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * The median of sample time t of each repetition of k that kept samples,
 * into *out (caller frees), their count in *n.
 */
static int rep_medians(struct side *s, size_t t, const struct kase *k,
                       double **out, size_t *n)
{
    int rc = 0;

    *n = 0;
    *out = malloc(k->n_reps * sizeof(**out));
    if (!*out)
        return bf_err_set(BF_ENOMEM, "compare: %zu repetitions", k->n_reps);
    for (size_t r = 0; rc == 0 && r < k->n_reps; r++) {
        double *v = NULL;
        size_t nv = 0;

        rc = load_times(s, t, k->reps[r], &v, &nv);
        if (rc == 0 && nv > 0) {
            qsort(v, nv, sizeof(*v), cmp_double);
            (*out)[(*n)++] = bf_stats_percentile_sorted(v, nv, 50);
        }
        free(v);
    }
    return rc;
}

/*
 * A time aggregate. With at least two repetitions of the case on both
 * sides (time.reps): the Mann-Whitney U test over the repetitions'
 * medians and the ratio of their medians. Samples of one run share its
 * machine state (frequency, neighbours, memory layout), so only
 * repetitions spread in time are independent (REPRODUCE.md, "CI
 * regression checks"). Else over both sides' per-request samples when
 * both kept them (time.mwu), else the p50 ratio alone (time.ratio).
 */
static int compare_time(struct cmp *cx, const struct rowset *a, size_t i,
                        const struct rowset *b, size_t j)
{
    const char *name = text_of(a, i, AGG_METRIC);
    const char *unit = text_of(a, i, AGG_UNIT);
    double x = val(a, i, AGG_P50)->d * unit_ms(unit);
    double y = val(b, j, AGG_P50)->d * unit_ms(unit);
    double *xs = NULL, *ys = NULL;
    size_t nx = 0, ny = 0, t = 0;
    char metric[160], base[64], new_text[64];
    int rc = 0;

    const char *rule = "time.mwu";

    while (t < NSAMPLE_TIMES && strcmp(sample_times[t], name) != 0)
        t++;
    /* Repetitions on both sides: their medians; else one run's samples. */
    if (t < NSAMPLE_TIMES && cx->bc->n_reps >= 2 && cx->nc->n_reps >= 2) {
        rc = rep_medians(cx->bs, t, cx->bc, &xs, &nx);
        rc = rc ? rc : rep_medians(cx->ns, t, cx->nc, &ys, &ny);
        if (rc == 0 && nx >= 2 && ny >= 2) {
            rule = "time.reps";
        } else {
            free(xs);
            free(ys);
            xs = ys = NULL;
            nx = ny = 0;
        }
    }
    if (rc == 0 && t < NSAMPLE_TIMES && nx == 0) {
        rc = load_times(cx->bs, t, cx->bc->id, &xs, &nx);
        rc = rc ? rc : load_times(cx->ns, t, cx->nc->id, &ys, &ny);
    }
    if (rc == 0 && nx > 0 && ny > 0) {
        struct bf_stats_mwu m;

        rc = bf_stats_mann_whitney(xs, nx, ys, ny, &m);
        if (rc == 0) {
            cx->sum->tests++;
            snprintf(metric, sizeof(metric), "time.%s.median_ms", name);
            snprintf(base, sizeof(base), "%.4g", m.median_x);
            snprintf(new_text, sizeof(new_text), "%.4g", m.median_y);
            rc = timed(cx, metric, base, new_text, rule, cx->r->time_ratio,
                       m.median_x > 0   ? m.median_y / m.median_x
                       : m.median_y > 0 ? INFINITY
                                        : 1.0,
                       m.median_y - m.median_x, m.p);
        }
    } else if (rc == 0) {
        snprintf(metric, sizeof(metric), "agg.%s.p50_ms", name);
        snprintf(base, sizeof(base), "%.4g", x);
        snprintf(new_text, sizeof(new_text), "%.4g", y);
        rc = timed(cx, metric, base, new_text, "time.ratio", cx->r->time_ratio,
                   x > 0   ? y / x
                   : y > 0 ? INFINITY
                           : 1.0,
                   y - x, NAN);
    }
    free(xs);
    free(ys);
    return rc;
}

static int compare_aggregate(struct cmp *cx, const struct rowset *a, size_t i,
                             const struct rowset *b, size_t j)
{
    const char *name = text_of(a, i, AGG_METRIC);
    const char *unit = text_of(a, i, AGG_UNIT);
    char metric[160];
    int rc = 0;

    if (strcmp(unit, text_of(b, j, AGG_UNIT)) != 0) {
        snprintf(metric, sizeof(metric), "agg.%s.unit", name);
        return exact_cell(cx, metric, a, i, b, j, AGG_UNIT);
    }
    if (unit_ms(unit) > 0)
        return compare_time(cx, a, i, b, j);
    for (int c = AGG_N; rc == 0 && c <= AGG_MAX; c++) {
        snprintf(metric, sizeof(metric), "agg.%s.%s", name, a->names[c]);
        rc = exact_cell(cx, metric, a, i, b, j, c);
    }
    return rc;
}

static int aggregate_one(struct cmp *cx, const struct rowset *rs, size_t r,
                         int in_base)
{
    char metric[160];

    if (!agg_compared(rs, r))
        return 0;
    snprintf(metric, sizeof(metric), "agg.%s", text_of(rs, r, AGG_METRIC));
    return presence(cx, metric, in_base);
}

static int aggregate_both(struct cmp *cx, const struct rowset *a, size_t i,
                          const struct rowset *b, size_t j)
{
    if (!agg_compared(a, i) && !agg_compared(b, j))
        return 0;
    return compare_aggregate(cx, a, i, b, j);
}

/* Aggregates, keyed by metric. */
static const struct walk aggregate_walk = {1, aggregate_one, aggregate_both};

/* Samples: their number, then bytes up and down request by request over
 * the requests both sides have. */
static int compare_samples(struct cmp *cx, const struct rowset *a,
                           const struct rowset *b)
{
    static const char *const names[] = {"samples.bytes_up",
                                        "samples.bytes_down"};
    size_t common = a->nrows < b->nrows ? a->nrows : b->nrows;
    char base[32], new_text[32], change[48];
    int rc;

    if (a->nrows == 0 && b->nrows == 0)
        return 0; /* a training case */
    snprintf(base, sizeof(base), "%zu", a->nrows);
    snprintf(new_text, sizeof(new_text), "%zu", b->nrows);
    snprintf(change, sizeof(change), "%+lld",
             (long long)b->nrows - (long long)a->nrows);
    rc = exact_result(cx, a->nrows == b->nrows, "samples.n", base, new_text,
                      change);
    for (int c = 0; rc == 0 && c < 2; c++) {
        size_t r = 0;

        while (r < common && values_equal(a, r, b, r, c))
            r++;
        if (r == common) {
            rc = exact_result(cx, 1, names[c], "", "", "");
            continue;
        }
        format_value(a, r, c, base, sizeof(base));
        format_value(b, r, c, new_text, sizeof(new_text));
        snprintf(change, sizeof(change), "request %zu", r);
        rc = exact_result(cx, 0, names[c], base, new_text, change);
    }
    return rc;
}

/* Devices: columns device, latency_method, head_ms; keyed by device. A
 * modeled head time is exact; a measured one is not compared. */
static int device_one(struct cmp *cx, const struct rowset *rs, size_t r,
                      int in_base)
{
    char metric[160];

    snprintf(metric, sizeof(metric), "device.%s", text_of(rs, r, 0));
    return presence(cx, metric, in_base);
}

static int device_both(struct cmp *cx, const struct rowset *a, size_t i,
                       const struct rowset *b, size_t j)
{
    char metric[160];

    if (strncmp(text_of(a, i, 1), "modeled:", 8) != 0 ||
        strncmp(text_of(b, j, 1), "modeled:", 8) != 0)
        return 0;
    snprintf(metric, sizeof(metric), "device.%s.head_ms", text_of(a, i, 0));
    return tolerance_cell(cx, metric, "model.rel", cx->r->model_rel, a, i, b, j,
                          2);
}

static const struct walk device_walk = {1, device_one, device_both};

/* Mean images/s per phase, phases in the order they first appear. */
struct phases {
    char name[PHASES_MAX][32];
    double sum[PHASES_MAX];
    int n[PHASES_MAX];
    int count;
};

static void phases_of(const struct rowset *rs, struct phases *ph)
{
    memset(ph, 0, sizeof(*ph));
    for (size_t r = 0; r < rs->nrows; r++) {
        const char *name = text_of(rs, r, EP_PHASE);
        int k = 0;

        while (k < ph->count && strcmp(ph->name[k], name) != 0)
            k++;
        if (k == ph->count) {
            if (ph->count == PHASES_MAX)
                continue;
            snprintf(ph->name[k], sizeof(ph->name[k]), "%s", name);
            ph->count++;
        }
        if (val(rs, r, EP_IPS)->type != VAL_NULL) {
            ph->sum[k] += val(rs, r, EP_IPS)->d;
            ph->n[k]++;
        }
    }
}

static int compare_epochs(struct cmp *cx, const struct rowset *a,
                          const struct rowset *b)
{
    char metric[160], base[64], new_text[64];
    struct phases pa, pb;
    size_t common = a->nrows < b->nrows ? a->nrows : b->nrows;
    int rc;

    if (a->nrows == 0 && b->nrows == 0)
        return 0;
    if (a->nrows == 0 || b->nrows == 0) {
        /* Weights loaded (a cached teacher), not trained, on one side. */
        snprintf(base, sizeof(base), "%zu epochs", a->nrows);
        snprintf(new_text, sizeof(new_text), "%zu epochs", b->nrows);
        return add_row(cx, "epochs", base, new_text, "loaded, not trained", "-",
                       "note");
    }
    snprintf(base, sizeof(base), "%zu", a->nrows);
    snprintf(new_text, sizeof(new_text), "%zu", b->nrows);
    rc = exact_result(cx, a->nrows == b->nrows, "epochs.n", base, new_text, "");
    for (size_t r = 0; rc == 0 && r < common; r++) {
        if (!values_equal(a, r, b, r, EP_PHASE) ||
            !values_equal(a, r, b, r, EP_EPOCH)) {
            snprintf(metric, sizeof(metric), "epochs[%zu]", r);
            snprintf(base, sizeof(base), "%s %lld", text_of(a, r, EP_PHASE),
                     (long long)val(a, r, EP_EPOCH)->i);
            snprintf(new_text, sizeof(new_text), "%s %lld",
                     text_of(b, r, EP_PHASE),
                     (long long)val(b, r, EP_EPOCH)->i);
            return exact_result(cx, 0, metric, base, new_text, "");
        }
        for (int c = EP_LR; rc == 0 && c <= EP_BEST; c++) {
            snprintf(metric, sizeof(metric), "epoch.%s.%lld.%s",
                     text_of(a, r, EP_PHASE), (long long)val(a, r, EP_EPOCH)->i,
                     a->names[c]);
            if (c == EP_LR || cx->exact)
                rc = exact_cell(cx, metric, a, r, b, r, c);
            else if (c == EP_LOSS)
                rc = tolerance_cell(cx, metric, "loss.rel", cx->r->loss_rel, a,
                                    r, b, r, c);
            /* Validation top-1 and the best flag follow from the weights:
             * statistical mode judges the test accuracy instead. */
        }
    }
    phases_of(a, &pa);
    phases_of(b, &pb);
    for (int k = 0; rc == 0 && k < pa.count; k++) {
        double x, y;
        int m = 0;

        while (m < pb.count && strcmp(pa.name[k], pb.name[m]) != 0)
            m++;
        if (m == pb.count || !pa.n[k] || !pb.n[m])
            continue;
        x = pa.sum[k] / pa.n[k];
        y = pb.sum[m] / pb.n[m];
        snprintf(metric, sizeof(metric), "train.%s.images_per_s", pa.name[k]);
        snprintf(base, sizeof(base), "%.1f", x);
        snprintf(new_text, sizeof(new_text), "%.1f", y);
        rc = timed(cx, metric, base, new_text, "throughput.ratio",
                   cx->r->throughput_ratio,
                   y > 0   ? x / y
                   : x > 0 ? INFINITY
                           : 1.0,
                   NAN, NAN);
    }
    return rc;
}

/* A case status as reports show it: "running" reads as unfinished. */
static const char *status_name(const char *status)
{
    return strcmp(status, "running") == 0 ? "unfinished" : status;
}

/* Status first: only a case BASE finished is compared further. */
static int compare_status(struct cmp *cx, int *go_on)
{
    const struct kase *b = cx->bc, *n = cx->nc;
    char change[CHANGE_MAX + 4];

    *go_on = 0;
    if (strcmp(b->status, "finished") != 0) {
        if (strcmp(b->status, n->status) == 0)
            return exact_result(cx, 1, "status", "", "", "");
        /* It did not finish in BASE: whatever NEW did is no regression. */
        return add_row(cx, "status", status_name(b->status),
                       status_name(n->status), "", "-", "note");
    }
    if (strcmp(n->status, "finished") == 0) {
        *go_on = 1;
        return exact_result(cx, 1, "status", "", "", "");
    }
    snprintf(change, sizeof(change), "%.*s%s", CHANGE_MAX, n->error,
             strlen(n->error) > CHANGE_MAX ? "..." : "");
    return exact_result(cx, 0, "status", b->status, status_name(n->status),
                        change);
}

static int compare_case(struct cmp *cx, struct side *bs, struct side *ns)
{
    static const int order[] = {D_SHAPE,   D_ACCURACY, D_AGGREGATES,
                                D_SAMPLES, D_DEVICES,  D_EPOCHS};
    struct rowset a = {0}, b = {0};
    int go_on = 0;
    int rc = compare_status(cx, &go_on);

    for (size_t k = 0; rc == 0 && go_on && k < sizeof(order) / sizeof(*order);
         k++) {
        int d = order[k];

        rc = rowset_load(bs, d, cx->bc, &a);
        rc = rc ? rc : rowset_load(ns, d, cx->nc, &b);
        if (rc)
            break;
        switch (d) {
        case D_SHAPE:
            rc = compare_shape(cx, &a, &b);
            break;
        case D_ACCURACY:
            rc = walk_rows(cx, &accuracy_walk, &a, &b);
            break;
        case D_AGGREGATES:
            rc = walk_rows(cx, &aggregate_walk, &a, &b);
            break;
        case D_SAMPLES:
            rc = compare_samples(cx, &a, &b);
            break;
        case D_DEVICES:
            rc = walk_rows(cx, &device_walk, &a, &b);
            break;
        default:
            rc = compare_epochs(cx, &a, &b);
            break;
        }
    }
    rowset_free(&a);
    rowset_free(&b);
    return rc;
}

/* Known-answer checks (run level), keyed by name: exact in both modes. */
static int check_one(struct cmp *cx, const struct rowset *rs, size_t r,
                     int in_base)
{
    char metric[160];

    snprintf(metric, sizeof(metric), "check.%s", text_of(rs, r, 0));
    return presence(cx, metric, in_base);
}

static int check_both(struct cmp *cx, const struct rowset *a, size_t i,
                      const struct rowset *b, size_t j)
{
    char metric[160];

    snprintf(metric, sizeof(metric), "check.%s", text_of(a, i, 0));
    return exact_cell(cx, metric, a, i, b, j, 1);
}

static const struct walk check_walk = {1, check_one, check_both};

static int compare_checks(struct cmp *cx, struct side *bs, struct side *ns)
{
    struct rowset a = {0}, b = {0};
    int rc = 0;

    cx->bc = cx->nc = NULL;
    rc = rowset_load(bs, D_CHECKS, NULL, &a);
    rc = rc ? rc : rowset_load(ns, D_CHECKS, NULL, &b);
    if (rc == BF_ENOENT)
        rc = 0; /* a side without checks (schema < 7) has nothing to hold
                   the other to */
    else if (rc == 0)
        rc = walk_rows(cx, &check_walk, &a, &b);
    rowset_free(&a);
    rowset_free(&b);
    return rc;
}

/* The two sides, matched and compared, rows in display order. */
static int compare_sides(struct cmp *cx, struct side *bs, struct side *ns)
{
    const struct kase **order = NULL;
    size_t n = bs->n + ns->n, k = 0;
    int rc = 0;

    for (size_t i = 0; i < bs->n; i++) {
        struct kase *match = ns->n ? bsearch(bs->cases[i].hash, ns->cases,
                                             ns->n, sizeof(*ns->cases), by_hash)
                                   : NULL;

        bs->cases[i].other = match;
        if (match)
            match->other = &bs->cases[i];
    }
    order = malloc((n ? n : 1) * sizeof(*order));
    if (!order)
        return bf_err_set(BF_ENOMEM, "compare: %zu cases", n);
    for (size_t i = 0; i < bs->n; i++)
        order[k++] = &bs->cases[i];
    qsort(order, k, sizeof(*order), by_position);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        cx->bc = order[i];
        cx->nc = order[i]->other;
        if (cx->nc) {
            cx->sum->matched++;
            rc = compare_case(cx, bs, ns);
        } else {
            cx->sum->missing++;
            rc = add_row(cx, "case", status_name(order[i]->status), "-",
                         "not in NEW", "exact", "MISSING");
        }
    }
    k = 0;
    for (size_t i = 0; i < ns->n; i++)
        if (!ns->cases[i].other)
            order[k++] = &ns->cases[i];
    qsort(order, k, sizeof(*order), by_position);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        cx->bc = NULL;
        cx->nc = order[i];
        cx->sum->new_only++;
        rc = add_row(cx, "case", "-", status_name(order[i]->status),
                     "not in BASE", "exact", "new");
    }
    free(order);
    return rc ? rc : compare_checks(cx, bs, ns);
}

static void log_side(const struct side *s)
{
    char run[48] = "every run";
    const char *fp = s->platform_sha[0] ? s->platform_sha : "none";

    if (s->run_id)
        snprintf(run, sizeof(run), "run %lld", (long long)s->run_id);
    bf_log_info("%s: %s, %s: %zu case(s) with a hash; CPU %s; platform %.12s",
                s->name, s->path, run, s->n, s->cpu[0] ? s->cpu : "unknown",
                fp);
    if (s->unhashed)
        bf_log_warn("%s: %zu case(s) of '%s' have no case hash (recorded "
                    "before schema version 6): they cannot be matched and "
                    "are not compared",
                    s->name, s->unhashed, s->path);
}

/* Log the platform keys whose values differ between the two sides. */
static void log_platform_diff(const struct side *bs, const struct side *ns)
{
    const char *p = bs->platform;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        const char *q = ns->platform;
        int shown = 0;

        while (eq && *q && !shown) {
            const char *qnl = strchr(q, '\n');
            size_t qlen = qnl ? (size_t)(qnl - q) : strlen(q);
            size_t klen = (size_t)(eq - p) + 1;

            if (qlen >= klen && memcmp(q, p, klen) == 0) {
                if (qlen != len || memcmp(q, p, len) != 0)
                    bf_log_info("platform %.*s: BASE %.*s, NEW %.*s",
                                (int)(klen - 1), p, (int)(len - klen), p + klen,
                                (int)(qlen - klen), q + klen);
                shown = 1;
            }
            q = qnl ? qnl + 1 : q + qlen;
        }
        p = nl ? nl + 1 : p + len;
    }
}

/* Whether both sides ran on one platform fingerprint. */
static int same_platform(const struct side *bs, const struct side *ns)
{
    return bs->platform_sha[0] && strcmp(bs->platform_sha, "mixed") != 0 &&
           strcmp(bs->platform_sha, ns->platform_sha) == 0;
}

/* The mode: forced, or exact when both sides have one common fingerprint. */
static void choose_mode(const struct bf_compare_params *params,
                        const struct side *bs, const struct side *ns,
                        struct bf_compare_summary *summary)
{
    const char *why;
    int same = same_platform(bs, ns);

    if (!bs->platform_sha[0] || !ns->platform_sha[0])
        why = !bs->platform_sha[0] ? "BASE has no platform fingerprint"
                                   : "NEW has no platform fingerprint";
    else if (strcmp(bs->platform_sha, "mixed") == 0 ||
             strcmp(ns->platform_sha, "mixed") == 0)
        why = "runs of several platforms";
    else
        why = same ? "platforms equal" : "platforms differ";
    if (params->mode == BF_COMPARE_AUTO) {
        summary->mode = same ? BF_COMPARE_EXACT : BF_COMPARE_STATISTICAL;
        snprintf(summary->mode_why, sizeof(summary->mode_why), "%s", why);
    } else {
        summary->mode = params->mode;
        snprintf(summary->mode_why, sizeof(summary->mode_why), "forced; %s",
                 why);
    }
    if (!same && bs->platform[0] && ns->platform[0])
        log_platform_diff(bs, ns);
    if (summary->mode == BF_COMPARE_STATISTICAL)
        bf_log_info("statistical mode: accuracy alpha %g, min drop %g pts; "
                    "loss within %g; sizes within %g; modeled times within "
                    "%g; timings alpha %g, ratio %g, floor %g ms; throughput "
                    "ratio %g",
                    params->rules.accuracy_alpha,
                    params->rules.accuracy_min_drop_pts, params->rules.loss_rel,
                    params->rules.size_rel, params->rules.model_rel,
                    params->rules.time_alpha, params->rules.time_ratio,
                    params->rules.time_floor_ms,
                    params->rules.throughput_ratio);
}

int bf_compare_write(const struct bf_compare_params *params, FILE *out,
                     struct bf_compare_summary *summary)
{
    struct side bs = {0}, ns = {0};
    struct cmp cx = {.p = params, .r = &params->rules, .sum = summary};
    char line[512];
    int rc;

    if (!params || !out || !summary)
        return bf_err_set(BF_EINVAL, "bf_compare_write: NULL argument");
    if ((rc = check_rules(&params->rules)))
        return rc;
    if (params->mode != BF_COMPARE_AUTO && params->mode != BF_COMPARE_EXACT &&
        params->mode != BF_COMPARE_STATISTICAL)
        return bf_err_set(BF_EINVAL, "compare: unknown mode %d",
                          (int)params->mode);
    if (params->format != BF_REPORT_TEXT && params->format != BF_REPORT_CSV &&
        params->format != BF_REPORT_MARKDOWN)
        return bf_err_set(BF_EINVAL, "compare: unknown format %d",
                          (int)params->format);
    memset(summary, 0, sizeof(*summary));
    bf_table_init(&cx.t, columns, NCOLS, NCOLS);
    rc = side_open(&bs, "BASE", &params->base);
    if (rc == 0)
        rc = side_open(&ns, "NEW", &params->candidate);
    if (rc)
        goto out;
    log_side(&bs);
    log_side(&ns);
    summary->base_unhashed = bs.unhashed;
    summary->new_unhashed = ns.unhashed;
    if (bs.n == 0) {
        rc = bf_err_set(BF_ENOENT,
                        "BASE: '%s' has no case with a case hash%s: nothing "
                        "to compare against",
                        bs.path,
                        bs.unhashed ? " (its cases predate schema version 6; "
                                      "run the scenario again)"
                                    : "");
        goto out;
    }
    choose_mode(params, &bs, &ns, summary);
    cx.exact = summary->mode == BF_COMPARE_EXACT;
    cx.same_platform = same_platform(&bs, &ns);
    summary->timings_skipped = params->skip_timings != 0;
    cx.bs = &bs;
    cx.ns = &ns;
    rc = compare_sides(&cx, &bs, &ns);
    if (rc)
        goto out;
    summary->regression = summary->exact_differ || summary->worse ||
                          summary->timings_slower || summary->missing;
    if (params->format == BF_REPORT_CSV) {
        bf_table_write_csv(&cx.t, out);
    } else {
        if (cx.t.nrows && params->format == BF_REPORT_TEXT)
            bf_table_write_text(&cx.t, out);
        else if (cx.t.nrows)
            bf_table_write_markdown(&cx.t, out);
        bf_compare_summary_line(summary, line, sizeof(line));
        fprintf(out, "%s%s\n", cx.t.nrows ? "\n" : "", line);
    }
out:
    bf_table_free(&cx.t);
    side_close(&ns);
    side_close(&bs);
    return rc;
}

void bf_compare_summary_line(const struct bf_compare_summary *s, char *buf,
                             size_t size)
{
    char cases[96] = "", unjudged[80] = "";
    size_t len;

    len =
        (size_t)snprintf(cases, sizeof(cases), "%zu cases matched", s->matched);
    if (s->missing && len < sizeof(cases))
        len += (size_t)snprintf(cases + len, sizeof(cases) - len,
                                ", %zu missing", s->missing);
    if (s->new_only && len < sizeof(cases))
        snprintf(cases + len, sizeof(cases) - len, ", %zu new", s->new_only);
    if (s->unjudged)
        snprintf(unjudged, sizeof(unjudged), ", %zu timings not judged (~: %s)",
                 s->unjudged,
                 s->timings_skipped ? "--timings skip" : "platforms differ");
    snprintf(buf, size,
             "compare: %s mode (%s); %s, %zu exact equal, %zu differ, %zu "
             "judged ok, %zu worse, %zu slower, %zu better%s (%zu tests); "
             "result: %s",
             s->mode == BF_COMPARE_EXACT ? "exact" : "statistical", s->mode_why,
             cases, s->exact_equal, s->exact_differ, s->judged_ok, s->worse,
             s->timings_slower, s->better, unjudged, s->tests,
             s->regression ? "REGRESSION" : "PASS");
}

/* Rules */

/* The rules by name: where each threshold lives and its range. */
static const struct {
    const char *name;
    size_t offset;
    double lo, hi; /* inclusive range */
} rule_table[] = {
    {"accuracy.alpha", offsetof(struct bf_compare_rules, accuracy_alpha), 1e-12,
     0.5},
    {"accuracy.min_drop_pts",
     offsetof(struct bf_compare_rules, accuracy_min_drop_pts), 0, 100},
    {"loss.rel", offsetof(struct bf_compare_rules, loss_rel), 0, 1e6},
    {"size.rel", offsetof(struct bf_compare_rules, size_rel), 0, 1e6},
    {"model.rel", offsetof(struct bf_compare_rules, model_rel), 0, 1e6},
    {"time.alpha", offsetof(struct bf_compare_rules, time_alpha), 1e-12, 1},
    {"time.ratio", offsetof(struct bf_compare_rules, time_ratio), 1, 1e6},
    {"time.floor_ms", offsetof(struct bf_compare_rules, time_floor_ms), 0, 1e9},
    {"throughput.ratio", offsetof(struct bf_compare_rules, throughput_ratio), 1,
     1e6},
};
#define NRULES (sizeof(rule_table) / sizeof(rule_table[0]))

static double *rule_field(struct bf_compare_rules *r, size_t k)
{
    return (double *)((char *)r + rule_table[k].offset);
}

static int check_rules(const struct bf_compare_rules *rules)
{
    struct bf_compare_rules r = *rules;

    for (size_t k = 0; k < NRULES; k++) {
        double v = *rule_field(&r, k);

        if (!(v >= rule_table[k].lo && v <= rule_table[k].hi))
            return bf_err_set(
                BF_EINVAL, "compare: rule %s = %g is outside %g..%g",
                rule_table[k].name, v, rule_table[k].lo, rule_table[k].hi);
    }
    return 0;
}

int bf_compare_rule_set(struct bf_compare_rules *rules, const char *assignment)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    char *end;
    double v;

    if (!rules || !eq)
        return bf_err_set(BF_EINVAL,
                          "--rule '%s': expected NAME=VALUE (bfbench "
                          "compare --help lists the names)",
                          assignment ? assignment : "");
    for (size_t k = 0; k < NRULES; k++) {
        if (strlen(rule_table[k].name) != (size_t)(eq - assignment) ||
            strncmp(rule_table[k].name, assignment,
                    (size_t)(eq - assignment)) != 0)
            continue;
        errno = 0;
        v = strtod(eq + 1, &end);
        if (errno || end == eq + 1 || *end != '\0' ||
            !(v >= rule_table[k].lo && v <= rule_table[k].hi))
            return bf_err_set(
                BF_EINVAL, "--rule %s: '%s' is not a number in %g..%g",
                rule_table[k].name, eq + 1, rule_table[k].lo, rule_table[k].hi);
        *rule_field(rules, k) = v;
        return 0;
    }
    return bf_err_set(BF_EINVAL,
                      "--rule '%.*s': unknown rule (bfbench compare --help "
                      "lists the names)",
                      (int)(eq - assignment), assignment);
}

void bf_compare_rules_write(const struct bf_compare_rules *rules, FILE *out)
{
    struct bf_compare_rules r = *rules;

    for (size_t k = 0; k < NRULES; k++)
        fprintf(out, "%s=%g\n", rule_table[k].name, *rule_field(&r, k));
}
