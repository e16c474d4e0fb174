/*
 * bf_report: the latency and accuracy tables, read from the store.
 *
 * The rows of each table are collected into memory first (every cell
 * formatted once into one buffer) so that the text and Markdown formats can
 * size their columns before printing. Latency: one row per aggregate of a
 * case, or one row for a case without aggregates (failed, skipped or killed
 * before measuring), whose metric, statistics and method read "-".
 * Accuracy: one row per accuracy row of a case, or one row for a training
 * case without any, whose variant and numbers read "-". A case without
 * aggregates that the accuracy table shows is left out of the latency
 * table, so that a training run does not print a latency row of dashes
 * per case. All three formats print the same cells, except the case error:
 * CSV has it as a last column, text and Markdown list the failed cases'
 * errors once, under the last table, where a long message does not widen
 * every row. The output holds nothing that changes between two reports of
 * the same DB (no clock, no path of the DB), so it can be compared with
 * golden files.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_report.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_store_figures.h"
#include "bf_store_merge.h"
#include "bf_table.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The latency table. */
enum {
    COL_RUN,
    COL_STATUS,
    COL_CASE,
    COL_CASE_STATUS,
    COL_CONFIG,
    COL_MODEL,
    COL_WEIGHTS,
    COL_INPUT,
    COL_BATCH,
    COL_THREADS,
    COL_FOLD,
    COL_LINK,
    COL_PARAMS,
    COL_GMACS,
    COL_METRIC,
    COL_UNIT,
    COL_N,
    COL_MEAN,
    COL_P50,
    COL_P50_CI,
    COL_P90,
    COL_P99,
    COL_METHOD,
    COL_CASE_ERROR, /* CSV only: text and Markdown list errors below */
    NCOLS
};

static const struct bf_table_column latency_columns[NCOLS] = {
    [COL_RUN] = {"run", "run_id", 1},
    [COL_STATUS] = {"status", "run_status", 0},
    [COL_CASE] = {"case", "case_index", 1},
    [COL_CASE_STATUS] = {"case status", "case_status", 0},
    [COL_CONFIG] = {"config", "config", 0},
    [COL_MODEL] = {"model", "model", 0},
    [COL_WEIGHTS] = {"weights", "weights", 0},
    [COL_INPUT] = {"input", "input", 0},
    [COL_BATCH] = {"batch", "batch", 1},
    [COL_THREADS] = {"threads", "threads", 1},
    [COL_FOLD] = {"fold", "fold_bn", 0},
    [COL_LINK] = {"link", "link", 0},
    [COL_PARAMS] = {"params", "params", 1},
    [COL_GMACS] = {"GMACs", "gmacs", 1},
    [COL_METRIC] = {"metric", "metric", 0},
    [COL_UNIT] = {"unit", "unit", 0},
    [COL_N] = {"n", "n", 1},
    [COL_MEAN] = {"mean", "mean", 1},
    [COL_P50] = {"p50", "p50", 1},
    [COL_P50_CI] = {"p50 95 % CI", "p50_ci95", 1},
    [COL_P90] = {"p90", "p90", 1},
    [COL_P99] = {"p99", "p99", 1},
    [COL_METHOD] = {"method", "method", 0},
    [COL_CASE_ERROR] = {"case error", "case_error", 0},
};

/* The accuracy table. */
enum {
    ACC_RUN,
    ACC_CASE,
    ACC_SEED,
    ACC_CASE_STATUS,
    ACC_MODEL,
    ACC_STRATEGY,
    ACC_FE,
    ACC_BOTTLENECK,
    ACC_SPLIT_SHAPE,
    ACC_VARIANT,
    ACC_N,
    ACC_TOP1,
    ACC_TOP5,
    ACC_PAYLOAD,
    ACC_ZSTD,
    ACC_VS_JPEG,
    ACC_OFFLOAD,
    ACC_DEVICE_MACS,
    ACC_HEAD_PARAMS,
    ACC_METHOD,
    ACC_CASE_ERROR, /* CSV only, as in the latency table */
    ACC_NCOLS
};

static const struct bf_table_column accuracy_columns[ACC_NCOLS] = {
    [ACC_RUN] = {"run", "run_id", 1},
    [ACC_CASE] = {"case", "case_index", 1},
    [ACC_SEED] = {"seed", "seed", 1},
    [ACC_CASE_STATUS] = {"case status", "case_status", 0},
    [ACC_MODEL] = {"model", "model", 0},
    [ACC_STRATEGY] = {"strategy", "strategy", 0},
    [ACC_FE] = {"fe", "freeze_encoder", 0},
    [ACC_BOTTLENECK] = {"C", "bottleneck", 0},
    [ACC_SPLIT_SHAPE] = {"split shape", "split_shape", 0},
    [ACC_VARIANT] = {"variant", "variant", 0},
    [ACC_N] = {"n", "n", 1},
    [ACC_TOP1] = {"top-1", "top1", 1},
    [ACC_TOP5] = {"top-5", "top5", 1},
    [ACC_PAYLOAD] = {"payload bytes", "payload_bytes", 1},
    [ACC_ZSTD] = {"zstd bytes", "payload_zstd_bytes", 1},
    [ACC_VS_JPEG] = {"vs JPEG", "vs_jpeg", 1},
    [ACC_OFFLOAD] = {"offloaded", "offload_fraction", 1},
    [ACC_DEVICE_MACS] = {"device MACs", "device_macs", 1},
    [ACC_HEAD_PARAMS] = {"head params", "head_params", 1},
    [ACC_METHOD] = {"method", "method", 0},
    [ACC_CASE_ERROR] = {"case error", "case_error", 0},
};

/* Accuracy across seeds: one row per configuration run with several
 * seeds (bf_store_each_seed_group). */
enum {
    SEED_RUN,
    SEED_MODEL,
    SEED_STRATEGY,
    SEED_FE,
    SEED_BOTTLENECK,
    SEED_VARIANT,
    SEED_N,
    SEED_SEEDS,
    SEED_TOP1,
    SEED_TOP1_HALF,
    SEED_TOP1_SD,
    SEED_TOP5,
    SEED_TOP5_HALF,
    SEED_NCOLS
};

static const struct bf_table_column seed_columns[SEED_NCOLS] = {
    [SEED_RUN] = {"run", "run_id", 1},
    [SEED_MODEL] = {"model", "model", 0},
    [SEED_STRATEGY] = {"strategy", "strategy", 0},
    [SEED_FE] = {"fe", "freeze_encoder", 0},
    [SEED_BOTTLENECK] = {"C", "bottleneck", 0},
    [SEED_VARIANT] = {"variant", "variant", 0},
    [SEED_N] = {"n", "n", 1},
    [SEED_SEEDS] = {"seeds", "seeds", 1},
    [SEED_TOP1] = {"top-1 mean", "top1_mean", 1},
    [SEED_TOP1_HALF] = {"+/- 95 % CI", "top1_ci95_half", 1},
    [SEED_TOP1_SD] = {"sd", "top1_sd", 1},
    [SEED_TOP5] = {"top-5 mean", "top5_mean", 1},
    [SEED_TOP5_HALF] = {"+/- 95 % CI", "top5_ci95_half", 1},
};

/* The device table: each case as each device profile would run it. */
enum {
    DEV_RUN,
    DEV_CASE,
    DEV_CASE_STATUS,
    DEV_CONFIG,
    DEV_MODEL,
    DEV_RATE,
    DEV_DEVICE,
    DEV_RUNTIME,
    DEV_HOST_HEAD,
    DEV_HEAD,
    DEV_ENCODE,
    DEV_TRANSFER,
    DEV_SERVER,
    DEV_E2E,
    DEV_E2E_LO,
    DEV_E2E_HI,
    DEV_E2E_P90,
    DEV_POWER,
    DEV_ENERGY,
    DEV_ENERGY_LO,
    DEV_ENERGY_HI,
    DEV_ENERGY_ABOVE,
    DEV_TIME_METHOD,
    DEV_POWER_METHOD,
    DEV_CASE_ERROR, /* CSV only, as in the latency table (always empty) */
    DEV_NCOLS
};

static const struct bf_table_column device_columns[DEV_NCOLS] = {
    [DEV_RUN] = {"run", "run_id", 1},
    [DEV_CASE] = {"case", "case_index", 1},
    [DEV_CASE_STATUS] = {"case status", "case_status", 0},
    [DEV_CONFIG] = {"config", "config", 0},
    [DEV_MODEL] = {"model", "model", 0},
    [DEV_RATE] = {"Mbit/s", "link_rate_mbps", 1},
    [DEV_DEVICE] = {"device", "device", 0},
    [DEV_RUNTIME] = {"runtime", "runtime", 0},
    [DEV_HOST_HEAD] = {"host head ms", "host_head_ms", 1},
    [DEV_HEAD] = {"head ms", "head_ms", 1},
    [DEV_ENCODE] = {"encode ms", "encode_ms", 1},
    [DEV_TRANSFER] = {"transfer ms", "transfer_ms", 1},
    [DEV_SERVER] = {"server ms", "server_ms", 1},
    [DEV_E2E] = {"e2e p50 ms", "e2e_ms", 1},
    /* The 90 % prediction interval of modeled numbers (bf_device.h). */
    [DEV_E2E_LO] = {"e2e PI lo", "e2e_lo_ms", 1},
    [DEV_E2E_HI] = {"e2e PI hi", "e2e_hi_ms", 1},
    [DEV_E2E_P90] = {"e2e p90 ms", "e2e_p90_ms", 1},
    [DEV_POWER] = {"avg W", "avg_power_w", 1},
    [DEV_ENERGY] = {"mJ/inf", "energy_mj", 1},
    [DEV_ENERGY_LO] = {"mJ PI lo", "energy_lo_mj", 1},
    [DEV_ENERGY_HI] = {"mJ PI hi", "energy_hi_mj", 1},
    [DEV_ENERGY_ABOVE] = {"mJ above idle", "energy_above_idle_mj", 1},
    [DEV_TIME_METHOD] = {"time", "latency_method", 0},
    [DEV_POWER_METHOD] = {"power", "power_method", 0},
    [DEV_CASE_ERROR] = {"case error", "case_error", 0},
};

/* Tables a report shows: latency, accuracy, devices. */
#define MAX_TABLES 3
_Static_assert((int)NCOLS <= BF_TABLE_MAX_COLS, "bf_table holds the table");
_Static_assert((int)ACC_NCOLS <= BF_TABLE_MAX_COLS, "bf_table holds the table");
_Static_assert((int)DEV_NCOLS <= BF_TABLE_MAX_COLS, "bf_table holds the table");

/*
 * The shape of a table. The last column is the case error, which only CSV
 * prints; the others are shown in every format. The error list under the
 * tables reads the run, case, model and case status columns.
 */
struct layout {
    const struct bf_table_column *columns;
    int ncols;
    int col_run, col_case, col_case_status, col_model;
};

static const struct layout latency_layout = {
    latency_columns, NCOLS, COL_RUN, COL_CASE, COL_CASE_STATUS, COL_MODEL};
static const struct layout accuracy_layout = {
    accuracy_columns, ACC_NCOLS, ACC_RUN, ACC_CASE, ACC_CASE_STATUS, ACC_MODEL};
static const struct layout device_layout = {
    device_columns, DEV_NCOLS, DEV_RUN, DEV_CASE, DEV_CASE_STATUS, DEV_MODEL};

/* Where a row of a table comes from. */
struct row_key {
    int64_t run_id; /* rows come ordered by run, case index, case id */
    int case_index;
    int64_t case_id; /* rows of one case are adjacent */
};

struct table {
    const struct layout *layout;
    struct bf_table tab;  /* the cells; text and Markdown leave out the
                             last column, the case error */
    struct row_key *keys; /* one per row of tab */
    size_t keys_cap;
    size_t nmeasured;   /* rows with an aggregate or an accuracy row */
    const char *metric; /* latency filter, or NULL */
    /* Latency: cases without aggregates to leave out (sorted case ids of
     * the accuracy table), or none. */
    const int64_t *skip;
    size_t nskip;
    struct bf_store *store; /* latency: the samples of each case */
};

/* Set a cell of the row begun last. */
static int add_text(struct table *t, int col, const char *text)
{
    return bf_table_set(&t->tab, col, text);
}

/* Append a formatted number (a %.3f of DBL_MAX needs 314 bytes). */
static int add_cell(struct table *t, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_cell(struct table *t, int col, const char *fmt, ...)
{
    char text[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return add_text(t, col, text);
}

/*
 * The link of a case, short: its kind, the uplink rate and RTT when
 * emulated, and background clients ("fixed 5M 20ms +4bg"); "-" when the
 * case sent nothing. The DB keeps the full description.
 */
static int add_link(struct table *t, const struct bf_result_view *v)
{
    char text[96];
    size_t kind = strcspn(v->link, " ");
    int n;

    if (!v->link[0])
        return add_text(t, COL_LINK, "-");
    n = snprintf(text, sizeof(text), "%.*s", (int)(kind < 16 ? kind : 16),
                 v->link);
    if (v->link_rate_mbps > 0)
        n += snprintf(text + n, sizeof(text) - (size_t)n, " %gM",
                      v->link_rate_mbps);
    if (v->link_rtt_ms >= 0)
        n += snprintf(text + n, sizeof(text) - (size_t)n, " %gms",
                      v->link_rtt_ms);
    if (v->background_clients > 0)
        snprintf(text + n, sizeof(text) - (size_t)n, " +%dbg",
                 v->background_clients);
    return add_text(t, COL_LINK, text);
}

/* A measurement with 3 decimals, "-" when absent (SQL NULL). */
static int add_value(struct table *t, int col, double v)
{
    if (isnan(v))
        return add_text(t, col, "-");
    return add_cell(t, col, "%.3f", v);
}

/* A percentage with 2 decimals, "-" when absent. */
static int add_value2(struct table *t, int col, double v)
{
    if (isnan(v))
        return add_text(t, col, "-");
    return add_cell(t, col, "%.2f", v);
}

/* Start a row of a case; add every cell, then count it in with row_end. */
static int row_begin(struct table *t, int64_t run_id, int case_index,
                     int64_t case_id)
{
    struct row_key *k;
    int rc = bf_table_row_begin(&t->tab);

    if (rc)
        return rc;
    if (t->keys_cap < t->tab.cap) {
        struct row_key *keys = realloc(t->keys, t->tab.cap * sizeof(*keys));

        if (!keys)
            return bf_err_set(BF_ENOMEM, "report of %zu rows", t->tab.cap);
        t->keys = keys;
        t->keys_cap = t->tab.cap;
    }
    k = &t->keys[t->tab.nrows];
    k->run_id = run_id;
    k->case_index = case_index;
    k->case_id = case_id;
    return 0;
}

static void row_end(struct table *t)
{
    bf_table_row_end(&t->tab);
}

/* The case error, the last column, is CSV-only. */
static void table_init(struct table *t)
{
    bf_table_init(&t->tab, t->layout->columns, t->layout->ncols,
                  t->layout->ncols - 1);
}

static void table_free(struct table *t)
{
    bf_table_free(&t->tab);
    free(t->keys);
}

/* A run or case status as reports show it: "running" means the process
 * never recorded the end, so it is unfinished (killed, or still running). */
static const char *status_name(const char *status)
{
    return strcmp(status, "running") == 0 ? "unfinished" : status;
}

/* The last path component of the weights file, or "random". */
static const char *weights_name(const char *weights)
{
    const char *slash;

    if (!weights[0])
        return "-";
    slash = strrchr(weights, '/');
    return slash && slash[1] ? slash + 1 : weights;
}

static int compare_ids(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/*
 * The 95 % bootstrap percentile interval of the median of a timed stage's
 * per-request samples, "[lo, hi]" (bf_store_p50_interval, the interval the
 * latency figures draw); "-" for a stage without samples or too few.
 */
static int add_p50_interval(struct table *t, const struct bf_result_view *v)
{
    double lo = NAN, hi = NAN;
    size_t n = 0;
    int rc = 0;

    if (t->store && strcmp(v->unit, "ms") == 0)
        rc = bf_store_p50_interval(t->store, &v->case_id, 1, v->metric, &lo,
                                   &hi, &n);
    if (rc)
        return rc;
    if (isnan(lo))
        return add_text(t, COL_P50_CI, "-");
    return add_cell(t, COL_P50_CI, "[%.3f, %.3f]", lo, hi);
}

static int add_latency_row(const struct bf_result_view *v, void *ctx)
{
    struct table *t = ctx;
    /* A case without aggregates has no metric: the filter keeps it. */
    int measured = v->metric[0] != '\0';
    int rc;

    if (t->metric && measured && strcmp(v->metric, t->metric) != 0)
        return 0;
    if (!measured && t->nskip &&
        bsearch(&v->case_id, t->skip, t->nskip, sizeof(*t->skip), compare_ids))
        return 0;
    rc = row_begin(t, v->run_id, v->case_index, v->case_id);
    rc = rc ? rc : add_cell(t, COL_RUN, "%lld", (long long)v->run_id);
    rc = rc ? rc : add_text(t, COL_STATUS, status_name(v->run_status));
    rc = rc ? rc : add_cell(t, COL_CASE, "%d", v->case_index);
    rc = rc ? rc : add_text(t, COL_CASE_STATUS, status_name(v->case_status));
    rc = rc ? rc : add_text(t, COL_CONFIG, v->config);
    rc = rc ? rc : add_text(t, COL_MODEL, v->model);
    rc = rc ? rc : add_text(t, COL_WEIGHTS, weights_name(v->weights));
    rc = rc ? rc
            : add_cell(t, COL_INPUT, "%dx%dx%d", v->input_channels, v->input_h,
                       v->input_w);
    rc = rc ? rc : add_cell(t, COL_BATCH, "%d", v->batch);
    /* On a GPU the compute is the device's: the cell names it. */
    rc = rc ? rc
         : strcmp(v->device, "cpu") != 0
             ? add_cell(t, COL_THREADS, "%d, %s", v->threads, v->device)
             : add_cell(t, COL_THREADS, "%d", v->threads);
    /* A lower precision runs the folded path: its name says both. */
    rc = rc ? rc
            : add_text(t, COL_FOLD,
                       strcmp(v->precision, "fp32") != 0 ? v->precision
                       : v->fold_bn                      ? "yes"
                                                         : "no");
    rc = rc ? rc : add_link(t, v);
    rc = rc ? rc : add_cell(t, COL_PARAMS, "%lld", (long long)v->params);
    rc = rc ? rc : add_cell(t, COL_GMACS, "%.2f", (double)v->macs / 1e9);
    if (measured) {
        rc = rc ? rc : add_text(t, COL_METRIC, v->metric);
        rc = rc ? rc : add_text(t, COL_UNIT, v->unit);
        rc = rc ? rc : add_cell(t, COL_N, "%zu", v->stats.n);
        rc = rc ? rc : add_value(t, COL_MEAN, v->stats.mean);
        rc = rc ? rc : add_value(t, COL_P50, v->stats.p50);
        rc = rc ? rc : add_p50_interval(t, v);
        rc = rc ? rc : add_value(t, COL_P90, v->stats.p90);
        rc = rc ? rc : add_value(t, COL_P99, v->stats.p99);
        rc = rc ? rc : add_text(t, COL_METHOD, v->method);
    } else {
        static const int unmeasured[] = {COL_METRIC, COL_UNIT, COL_N,
                                         COL_MEAN,   COL_P50,  COL_P50_CI,
                                         COL_P90,    COL_P99,  COL_METHOD};
        size_t i;

        for (i = 0; i < sizeof(unmeasured) / sizeof(unmeasured[0]); i++)
            rc = rc ? rc : add_text(t, unmeasured[i], "-");
    }
    rc = rc ? rc : add_text(t, COL_CASE_ERROR, v->case_error);
    if (rc)
        return rc;
    t->nmeasured += measured;
    row_end(t);
    return 0;
}

/* A string that may be absent: "-" when empty. */
static int add_optional(struct table *t, int col, const char *text)
{
    return add_text(t, col, text[0] ? text : "-");
}

/* A count, "-" when not recorded (negative). */
static int add_count(struct table *t, int col, int64_t v)
{
    if (v < 0)
        return add_text(t, col, "-");
    return add_cell(t, col, "%lld", (long long)v);
}

/* A mean size in bytes with 1 decimal, "-" when n/a (-1). */
static int add_bytes(struct table *t, int col, double v)
{
    if (isnan(v) || v < 0)
        return add_text(t, col, "-");
    return add_cell(t, col, "%.1f", v);
}

/* The bottleneck as "version:channels", "-" for a part not recorded. */
/* "V:C" of a bottleneck, "-" for a part not recorded, "-" for none. */
static void bottleneck_text(char *out, size_t size, int version, int channels)
{
    char v[16] = "-", c[16] = "-";

    if (version <= 0 && channels <= 0) {
        snprintf(out, size, "-");
        return;
    }
    if (version > 0)
        snprintf(v, sizeof(v), "%d", version);
    if (channels > 0)
        snprintf(c, sizeof(c), "%d", channels);
    snprintf(out, size, "%s:%s", v, c);
}

static int add_bottleneck(struct table *t, int col, int version, int channels)
{
    char text[40];

    bottleneck_text(text, sizeof(text), version, channels);
    return add_text(t, col, text);
}

static int add_bottleneck_cell(struct bf_table *t, int col, int version,
                               int channels)
{
    char text[40];

    bottleneck_text(text, sizeof(text), version, channels);
    return bf_table_set(t, col, text);
}

static int add_accuracy_row(const struct bf_accuracy_view *v, void *ctx)
{
    static const char *const fe_names[] = {"-", "no", "yes"};
    struct table *t = ctx;
    const struct bf_accuracy_row *a = &v->acc;
    /* A training case without accuracy rows has no variant. */
    int measured = a->variant[0] != '\0';
    int fe = v->freeze_encoder;
    int rc;

    rc = row_begin(t, v->run_id, v->case_index, v->case_id);
    rc = rc ? rc : add_cell(t, ACC_RUN, "%lld", (long long)v->run_id);
    rc = rc ? rc : add_cell(t, ACC_CASE, "%d", v->case_index);
    rc = rc ? rc
         : v->seeded
             ? add_cell(t, ACC_SEED, "%llu", (unsigned long long)v->seed)
             : add_text(t, ACC_SEED, "-");
    rc = rc ? rc : add_text(t, ACC_CASE_STATUS, status_name(v->case_status));
    rc = rc ? rc : add_text(t, ACC_MODEL, v->model);
    rc = rc ? rc : add_optional(t, ACC_STRATEGY, v->strategy);
    rc = rc ? rc
            : add_text(t, ACC_FE, fe_names[fe >= -1 && fe <= 1 ? fe + 1 : 0]);
    rc = rc ? rc
            : add_bottleneck(t, ACC_BOTTLENECK, v->bottleneck_version,
                             v->bottleneck_channels);
    rc = rc ? rc : add_optional(t, ACC_SPLIT_SHAPE, v->split_shape);
    if (measured) {
        rc = rc ? rc : add_text(t, ACC_VARIANT, a->variant);
        rc = rc ? rc : add_count(t, ACC_N, a->n);
        rc = rc ? rc : add_value2(t, ACC_TOP1, a->top1);
        rc = rc ? rc : add_value2(t, ACC_TOP5, a->top5);
        rc = rc ? rc : add_bytes(t, ACC_PAYLOAD, a->payload_bytes);
        rc = rc ? rc : add_bytes(t, ACC_ZSTD, a->payload_zstd_bytes);
        if (isnan(v->compression_vs_jpeg))
            rc = rc ? rc : add_text(t, ACC_VS_JPEG, "-");
        else
            rc = rc ? rc
                    : add_cell(t, ACC_VS_JPEG, "%.1f %%",
                               100.0 * v->compression_vs_jpeg);
        /* An early-exit operating point: share sent, device work. */
        if (a->exit_rule) {
            rc = rc ? rc
                    : add_cell(t, ACC_OFFLOAD, "%.1f %%",
                               100.0 * a->offload_fraction);
            rc = rc ? rc : add_cell(t, ACC_DEVICE_MACS, "%.0f", a->device_macs);
        } else {
            rc = rc ? rc : add_text(t, ACC_OFFLOAD, "-");
            rc = rc ? rc : add_text(t, ACC_DEVICE_MACS, "-");
        }
    } else {
        static const int unmeasured[] = {
            ACC_VARIANT, ACC_N,       ACC_TOP1,    ACC_TOP5,       ACC_PAYLOAD,
            ACC_ZSTD,    ACC_VS_JPEG, ACC_OFFLOAD, ACC_DEVICE_MACS};
        size_t i;

        for (i = 0; i < sizeof(unmeasured) / sizeof(unmeasured[0]); i++)
            rc = rc ? rc : add_text(t, unmeasured[i], "-");
    }
    rc = rc ? rc : add_count(t, ACC_HEAD_PARAMS, v->head_params);
    rc = rc ? rc : add_optional(t, ACC_METHOD, a->method);
    rc = rc ? rc : add_text(t, ACC_CASE_ERROR, v->case_error);
    if (rc)
        return rc;
    t->nmeasured += measured;
    row_end(t);
    return 0;
}

/* "modeled" or "measured": a method's kind, the full text is in the DB
 * and listed under the table. */
static int add_seed_row(const struct bf_seed_group_view *g, void *ctx)
{
    static const char *const fe_names[] = {"-", "no", "yes"};
    struct bf_table *t = ctx;
    char text[64];
    int fe = g->freeze_encoder;
    int rc = bf_table_row_begin(t);

#define SET(col, ...)                                                          \
    do {                                                                       \
        snprintf(text, sizeof(text), __VA_ARGS__);                             \
        rc = rc ? rc : bf_table_set(t, col, text);                             \
    } while (0)
    SET(SEED_RUN, "%lld", (long long)g->run_id);
    SET(SEED_MODEL, "%s", g->model);
    SET(SEED_STRATEGY, "%s", g->strategy[0] ? g->strategy : "-");
    SET(SEED_FE, "%s", fe_names[fe >= -1 && fe <= 1 ? fe + 1 : 0]);
    rc = rc ? rc
            : add_bottleneck_cell(t, SEED_BOTTLENECK, g->bottleneck_version,
                                  g->bottleneck_channels);
    SET(SEED_VARIANT, "%s", g->variant);
    if (g->n_min == g->n_max)
        SET(SEED_N, "%lld", (long long)g->n_min);
    else
        SET(SEED_N, "%lld-%lld", (long long)g->n_min, (long long)g->n_max);
    SET(SEED_SEEDS, "%zu", g->seeds);
    SET(SEED_TOP1, "%.2f", g->top1_mean);
    SET(SEED_TOP1_HALF, "%.2f", g->top1_half);
    SET(SEED_TOP1_SD, "%.2f", g->top1_sd);
    SET(SEED_TOP5, "%.2f", g->top5_mean);
    SET(SEED_TOP5_HALF, "%.2f", g->top5_half);
#undef SET
    if (rc)
        return rc;
    bf_table_row_end(t);
    return 0;
}

static int add_method_kind(struct table *t, int col, const char *method)
{
    size_t len = strcspn(method, ":");

    return add_cell(t, col, "%.*s", (int)len, method);
}

static int add_device_row(const struct bf_device_view *v, void *ctx)
{
    struct table *t = ctx;
    const struct bf_device_row *d = &v->row;
    int rc;

    rc = row_begin(t, v->run_id, v->case_index, -1 - (int64_t)t->tab.nrows);
    rc = rc ? rc : add_cell(t, DEV_RUN, "%lld", (long long)v->run_id);
    rc = rc ? rc : add_cell(t, DEV_CASE, "%d", v->case_index);
    rc = rc ? rc : add_text(t, DEV_CASE_STATUS, status_name(v->case_status));
    rc = rc ? rc : add_text(t, DEV_CONFIG, v->config);
    rc = rc ? rc : add_text(t, DEV_MODEL, v->model);
    rc = rc ? rc : add_value2(t, DEV_RATE, v->link_rate_mbps);
    rc = rc ? rc : add_text(t, DEV_DEVICE, d->device);
    rc = rc ? rc : add_text(t, DEV_RUNTIME, d->runtime ? d->runtime : "-");
    rc = rc ? rc : add_value(t, DEV_HOST_HEAD, d->host_head_ms);
    rc = rc ? rc : add_value(t, DEV_HEAD, d->head_ms);
    rc = rc ? rc : add_value(t, DEV_ENCODE, d->encode_ms);
    rc = rc ? rc : add_value(t, DEV_TRANSFER, d->transfer_ms);
    rc = rc ? rc : add_value(t, DEV_SERVER, d->server_ms);
    rc = rc ? rc : add_value(t, DEV_E2E, d->e2e_ms);
    rc = rc ? rc : add_value(t, DEV_E2E_LO, d->e2e_lo_ms);
    rc = rc ? rc : add_value(t, DEV_E2E_HI, d->e2e_hi_ms);
    rc = rc ? rc : add_value(t, DEV_E2E_P90, d->e2e_p90_ms);
    rc = rc ? rc : add_value2(t, DEV_POWER, d->avg_power_mw / 1e3);
    rc = rc ? rc : add_value(t, DEV_ENERGY, d->energy_mj);
    rc = rc ? rc : add_value(t, DEV_ENERGY_LO, d->energy_lo_mj);
    rc = rc ? rc : add_value(t, DEV_ENERGY_HI, d->energy_hi_mj);
    rc = rc ? rc : add_value(t, DEV_ENERGY_ABOVE, d->energy_above_idle_mj);
    rc = rc ? rc : add_method_kind(t, DEV_TIME_METHOD, d->latency_method);
    rc = rc ? rc : add_method_kind(t, DEV_POWER_METHOD, d->power_method);
    rc = rc ? rc : add_text(t, DEV_CASE_ERROR, "");
    if (rc)
        return rc;
    t->nmeasured++;
    row_end(t);
    return 0;
}

/* Every distinct (device, time method, power method), once. */
struct method_list {
    struct bf_buf seen;
    FILE *out;
    int markdown;
};

static int add_method_line(const struct bf_device_view *v, void *ctx)
{
    struct method_list *ml = ctx;
    struct bf_buf line;
    int rc;

    bf_buf_init(&line);
    rc = bf_buf_printf(&line, "%s: time %s; power %s", v->row.device,
                       v->row.latency_method, v->row.power_method);
    if (rc == 0 && !strstr(bf_buf_str(&ml->seen), bf_buf_str(&line))) {
        rc = bf_buf_printf(&ml->seen, "%s\n", bf_buf_str(&line));
        if (rc == 0)
            fprintf(ml->out, "%s%s\n", ml->markdown ? "- " : "  ",
                    bf_buf_str(&line));
    }
    bf_buf_free(&line);
    return rc;
}

static const char *cell(const struct table *t, size_t row, int col)
{
    return bf_table_cell(&t->tab, row, col);
}

/* Whether row r opens a failed case with an error message: the errors
 * listed under the text and Markdown tables, one per case. */
static int lists_error(const struct table *t, size_t r)
{
    const struct layout *l = t->layout;

    if (strcmp(cell(t, r, l->col_case_status), "failed") != 0 ||
        !cell(t, r, l->ncols - 1)[0])
        return 0;
    return r == 0 || t->keys[r - 1].case_id != t->keys[r].case_id;
}

/* Text outside a table; in Markdown with a backslash before the ASCII
 * punctuation that could start emphasis, code, a link or HTML (CommonMark
 * allows escaping any). */
static void put_prose(FILE *out, const char *s, int markdown)
{
    for (; *s; s++) {
        if (markdown && strchr("\\`*_[]<>&~", *s))
            fputc('\\', out);
        fputc(*s, out);
    }
}

/* Whether row a of table ta comes before row b of table tb: by run, case
 * index and case id, the order of both walks. */
static int row_before(const struct table *ta, size_t a, const struct table *tb,
                      size_t b)
{
    const struct row_key *x = &ta->keys[a], *y = &tb->keys[b];

    if (x->run_id != y->run_id)
        return x->run_id < y->run_id;
    if (x->case_index != y->case_index)
        return x->case_index < y->case_index;
    return x->case_id < y->case_id;
}

/*
 * The errors of the failed cases of all shown tables, once per case in
 * run and case order, one line each after a blank line that ends the last
 * table: "run R case I (model): error", in Markdown as a list item with its
 * text escaped. Nothing when no case failed with an error. Every table is
 * in that order, so merging them needs no memory.
 */
static void write_errors(const struct table *const *tables, size_t ntables,
                         FILE *out, int markdown)
{
    size_t next[MAX_TABLES] = {0};
    int64_t last_case = -1;
    int listed = 0;

    assert(ntables <= MAX_TABLES);
    for (;;) {
        const struct table *t = NULL;
        size_t i, pick = 0;

        /* The earliest error-listing row among the tables' next ones. */
        for (i = 0; i < ntables; i++) {
            while (next[i] < tables[i]->tab.nrows &&
                   !lists_error(tables[i], next[i]))
                next[i]++;
            if (next[i] == tables[i]->tab.nrows)
                continue;
            if (!t || row_before(tables[i], next[i], t, next[pick])) {
                t = tables[i];
                pick = i;
            }
        }
        if (!t)
            break;
        i = next[pick]++;
        if (t->keys[i].case_id == last_case)
            continue; /* listed from the other table */
        last_case = t->keys[i].case_id;
        if (!listed++)
            fputc('\n', out);
        fprintf(out, "%srun %s case %s (", markdown ? "- " : "",
                cell(t, i, t->layout->col_run),
                cell(t, i, t->layout->col_case));
        put_prose(out, cell(t, i, t->layout->col_model), markdown);
        fputs("): ", out);
        put_prose(out, cell(t, i, t->layout->ncols - 1), markdown);
        fputc('\n', out);
    }
}

/*
 * The sorted, distinct case ids of the accuracy table: the cases the
 * latency table leaves out when they have no aggregates. Caller frees.
 */
static int accuracy_cases(const struct table *acc, int64_t **ids, size_t *n)
{
    size_t r;

    *ids = NULL;
    *n = 0;
    if (acc->tab.nrows == 0)
        return 0;
    *ids = malloc(acc->tab.nrows * sizeof(**ids));
    if (!*ids)
        return bf_err_set(BF_ENOMEM, "report of %zu accuracy rows",
                          acc->tab.nrows);
    for (r = 0; r < acc->tab.nrows; r++)
        if (r == 0 || acc->keys[r].case_id != acc->keys[r - 1].case_id)
            (*ids)[(*n)++] = acc->keys[r].case_id;
    qsort(*ids, *n, sizeof(**ids), compare_ids);
    return 0;
}

/* The platform lines under the tables: one per run that recorded one. */
struct platform_list {
    FILE *out;
    int markdown;
    int listed;
};

/* The value of key in a platform text ("key=value" lines), or "?". */
static void platform_value(const char *platform, const char *key, char *out,
                           size_t size)
{
    size_t klen = strlen(key);
    const char *p = platform;

    snprintf(out, size, "?");
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(out, size, "%.*s", (int)(len - klen - 1), p + klen + 1);
            return;
        }
        p = nl ? nl + 1 : NULL;
    }
}

static int add_platform_line(int64_t run_id, const char *platform,
                             const char *sha256, void *ctx)
{
    static const char *const keys[] = {
        "cpu.model", "cpu.features",  "torch.cpu_capability", "onednn.isa",
        "blas.core", "torch.version", "env.OPENBLAS_CORETYPE"};
    static const char *const names[] = {
        "CPU",      "features",         "ATen", "oneDNN", "OpenBLAS",
        "libtorch", "OPENBLAS_CORETYPE"};
    static const char *const gpu_keys[] = {
        "cuda.device0.name", "cuda.device0.memory_mib",
        "cuda.driver_api",   "cuda.runtime",
        "cuda.cudnn",        "cuda.tf32"};
    static const char *const gpu_names[] = {"GPU",  "MiB",   "driver API",
                                            "CUDA", "cuDNN", "TF32"};
    struct platform_list *pl = ctx;
    char v[512];

    if (!pl->listed++)
        fprintf(pl->out, "\nplatform fingerprints (runs with the same one "
                         "compare exactly):\n");
    fprintf(pl->out, "%srun %lld: %.12s:", pl->markdown ? "- " : "",
            (long long)run_id, sha256 ? sha256 : "");
    for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
        platform_value(platform, keys[k], v, sizeof(v));
        fprintf(pl->out, "%s %s %s", k ? ";" : "", names[k], v);
    }
    /* A run that saw a GPU (bf_torch_platform_info's cuda.* lines). */
    platform_value(platform, "cuda.devices", v, sizeof(v));
    if (strcmp(v, "?") != 0)
        for (size_t k = 0; k < sizeof(gpu_keys) / sizeof(*gpu_keys); k++) {
            platform_value(platform, gpu_keys[k], v, sizeof(v));
            fprintf(pl->out, "; %s %s", gpu_names[k], v);
        }
    fputc('\n', pl->out);
    return 0;
}

/* A run merged from shards (bfbench merge): one line per source run. */
static int add_merge_line(const struct bf_merge_view *v, void *ctx)
{
    struct platform_list *pl = ctx;

    if (!pl->listed++)
        fprintf(pl->out, "\nmerged from (bfbench merge; the merges "
                         "table):\n");
    fprintf(pl->out,
            "%srun %lld: %s run %lld (%s; host %s, commit %.12s, platform "
            "%.12s): %lld case(s) added, %lld there already, %lld left out\n",
            pl->markdown ? "- " : "", (long long)v->run_id, v->source_path,
            (long long)v->source_run_id, v->source_status, v->host,
            v->git_commit, v->platform_sha256[0] ? v->platform_sha256 : "none",
            (long long)v->added, (long long)v->same, (long long)v->left);
    return 0;
}

/* A resume of a run (bfbench run --resume): where and what it ran. */
static int add_resume_line(const struct bf_resume_view *v, void *ctx)
{
    struct platform_list *pl = ctx;

    if (!pl->listed++)
        fprintf(pl->out, "\nresumed (bfbench run --resume; the resumes "
                         "table; the cases recorded by each):\n");
    fprintf(pl->out,
            "%srun %lld: %s on %s (%s), commit %.12s%s, platform %.12s: "
            "%lld case(s) kept, %lld dropped, %lld recorded\n",
            pl->markdown ? "- " : "", (long long)v->run_id, v->resumed_at,
            v->host, v->cpu_model, v->git_commit,
            v->git_dirty == 1 ? " (dirty)" : "",
            v->platform_sha256[0] ? v->platform_sha256 : "none",
            (long long)v->kept, (long long)v->dropped, (long long)v->recorded);
    return 0;
}

static int no_results(const struct bf_report_params *params)
{
    if (params->run_id)
        return bf_err_set(
            BF_ENOENT, "no results for run %lld%s%s%s",
            (long long)params->run_id, params->metric ? " (metric '" : "",
            params->metric ? params->metric : "", params->metric ? "')" : "");
    return bf_err_set(BF_ENOENT, "the DB has no results%s%s%s",
                      params->metric ? " (metric '" : "",
                      params->metric ? params->metric : "",
                      params->metric ? "')" : "");
}

int bf_report_write(struct bf_store *store,
                    const struct bf_report_params *params, FILE *out)
{
    struct table latency = {
        .layout = &latency_layout, .metric = params->metric, .store = store};
    struct table accuracy = {.layout = &accuracy_layout};
    struct table devices = {.layout = &device_layout};
    const struct table *shown[MAX_TABLES];
    size_t nshown_tables = 0;
    int64_t *skip = NULL;
    size_t i;
    int rc;

    table_init(&latency);
    table_init(&accuracy);
    table_init(&devices);
    if (params->format != BF_REPORT_TEXT && params->format != BF_REPORT_CSV &&
        params->format != BF_REPORT_MARKDOWN) {
        rc = bf_err_set(BF_EINVAL, "unknown report format %d",
                        (int)params->format);
        goto out_free;
    }
    rc = bf_store_each_accuracy(store, params->run_id, add_accuracy_row,
                                &accuracy);
    if (rc)
        goto out_free;
    /* Without a single accuracy row there is no accuracy table, and its
     * training cases stay in the latency table. */
    if (accuracy.nmeasured) {
        rc = accuracy_cases(&accuracy, &skip, &latency.nskip);
        if (rc)
            goto out_free;
        latency.skip = skip;
    }
    rc = bf_store_each_result(store, params->run_id, add_latency_row, &latency);
    if (rc)
        goto out_free;
    /* A case without aggregates passes any filter, so no row means no case,
     * or no case with the filtered metric, or only cases in the accuracy
     * table. */
    /* Device rows exist only for cases of the other tables. */
    if (!params->metric) {
        rc = bf_store_each_device(store, params->run_id, add_device_row,
                                  &devices);
        if (rc)
            goto out_free;
    }
    if (latency.tab.nrows)
        shown[nshown_tables++] = &latency;
    if (accuracy.nmeasured)
        shown[nshown_tables++] = &accuracy;
    if (devices.tab.nrows)
        shown[nshown_tables++] = &devices;
    if (nshown_tables == 0) {
        rc = no_results(params);
        goto out_free;
    }

    for (i = 0; i < nshown_tables; i++) {
        if (i > 0) /* an empty line between tables */
            fputs(params->format == BF_REPORT_CSV ? "\r\n" : "\n", out);
        if (params->format == BF_REPORT_TEXT)
            bf_table_write_text(&shown[i]->tab, out);
        else if (params->format == BF_REPORT_CSV)
            bf_table_write_csv(&shown[i]->tab, out);
        else
            bf_table_write_markdown(&shown[i]->tab, out);
    }
    if (params->format != BF_REPORT_CSV)
        write_errors(shown, nshown_tables, out,
                     params->format == BF_REPORT_MARKDOWN);
    /* Configurations trained with several seeds: their mean and interval
     * (text and Markdown; CSV readers aggregate the case rows). */
    if (accuracy.nmeasured && params->format != BF_REPORT_CSV) {
        struct bf_table seeds;

        bf_table_init(&seeds, seed_columns, SEED_NCOLS, SEED_NCOLS);
        rc = bf_store_each_seed_group(store, params->run_id, add_seed_row,
                                      &seeds);
        if (rc == 0 && seeds.nrows) {
            fprintf(out, "\naccuracy across seeds (mean, half width of its "
                         "95 %% Student t interval, sample sd; in %%):\n");
            if (params->format == BF_REPORT_TEXT)
                bf_table_write_text(&seeds, out);
            else
                bf_table_write_markdown(&seeds, out);
        }
        bf_table_free(&seeds);
        if (rc)
            goto out_free;
    }
    if (devices.tab.nrows && params->format != BF_REPORT_CSV) {
        struct method_list ml = {
            .out = out, .markdown = params->format == BF_REPORT_MARKDOWN};

        bf_buf_init(&ml.seen);
        fprintf(out, "\ndevice methods (modeled numbers are model outputs, "
                     "not measurements):\n");
        rc = bf_store_each_device(store, params->run_id, add_method_line, &ml);
        bf_buf_free(&ml.seen);
        if (rc)
            goto out_free;
    }
    if (params->format != BF_REPORT_CSV) {
        struct platform_list pl = {
            .out = out, .markdown = params->format == BF_REPORT_MARKDOWN};

        rc = bf_store_each_platform(store, params->run_id, add_platform_line,
                                    &pl);
        if (rc)
            goto out_free;
        pl.listed = 0;
        rc = bf_store_each_merge(store, params->run_id, add_merge_line, &pl);
        if (rc)
            goto out_free;
        pl.listed = 0;
        rc = bf_store_each_resume(store, params->run_id, add_resume_line, &pl);
        if (rc)
            goto out_free;
    }
    if (fflush(out) != 0 || ferror(out))
        rc = bf_err_set(BF_EIO, "writing the report: %s", strerror(errno));

out_free:
    free(skip);
    table_free(&latency);
    table_free(&accuracy);
    table_free(&devices);
    return rc;
}
