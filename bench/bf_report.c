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

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct column {
    const char *title; /* text and Markdown header */
    const char *csv;   /* CSV header: a stable machine name */
    int right;         /* right-aligned (numbers) */
};

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
    COL_P90,
    COL_P99,
    COL_METHOD,
    COL_CASE_ERROR, /* CSV only: text and Markdown list errors below */
    NCOLS
};

static const struct column latency_columns[NCOLS] = {
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
    [COL_P90] = {"p90", "p90", 1},
    [COL_P99] = {"p99", "p99", 1},
    [COL_METHOD] = {"method", "method", 0},
    [COL_CASE_ERROR] = {"case error", "case_error", 0},
};

/* The accuracy table. */
enum {
    ACC_RUN,
    ACC_CASE,
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

static const struct column accuracy_columns[ACC_NCOLS] = {
    [ACC_RUN] = {"run", "run_id", 1},
    [ACC_CASE] = {"case", "case_index", 1},
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

/* The device table: each case as each device profile would run it. */
enum {
    DEV_RUN,
    DEV_CASE,
    DEV_CASE_STATUS,
    DEV_CONFIG,
    DEV_MODEL,
    DEV_RATE,
    DEV_DEVICE,
    DEV_HOST_HEAD,
    DEV_HEAD,
    DEV_ENCODE,
    DEV_TRANSFER,
    DEV_SERVER,
    DEV_E2E,
    DEV_E2E_P90,
    DEV_POWER,
    DEV_ENERGY,
    DEV_ENERGY_ABOVE,
    DEV_TIME_METHOD,
    DEV_POWER_METHOD,
    DEV_CASE_ERROR, /* CSV only, as in the latency table (always empty) */
    DEV_NCOLS
};

static const struct column device_columns[DEV_NCOLS] = {
    [DEV_RUN] = {"run", "run_id", 1},
    [DEV_CASE] = {"case", "case_index", 1},
    [DEV_CASE_STATUS] = {"case status", "case_status", 0},
    [DEV_CONFIG] = {"config", "config", 0},
    [DEV_MODEL] = {"model", "model", 0},
    [DEV_RATE] = {"Mbit/s", "link_rate_mbps", 1},
    [DEV_DEVICE] = {"device", "device", 0},
    [DEV_HOST_HEAD] = {"host head ms", "host_head_ms", 1},
    [DEV_HEAD] = {"head ms", "head_ms", 1},
    [DEV_ENCODE] = {"encode ms", "encode_ms", 1},
    [DEV_TRANSFER] = {"transfer ms", "transfer_ms", 1},
    [DEV_SERVER] = {"server ms", "server_ms", 1},
    [DEV_E2E] = {"e2e p50 ms", "e2e_ms", 1},
    [DEV_E2E_P90] = {"e2e p90 ms", "e2e_p90_ms", 1},
    [DEV_POWER] = {"avg W", "avg_power_w", 1},
    [DEV_ENERGY] = {"mJ/inf", "energy_mj", 1},
    [DEV_ENERGY_ABOVE] = {"mJ above idle", "energy_above_idle_mj", 1},
    [DEV_TIME_METHOD] = {"time", "latency_method", 0},
    [DEV_POWER_METHOD] = {"power", "power_method", 0},
    [DEV_CASE_ERROR] = {"case error", "case_error", 0},
};

#define MAX_COLS NCOLS
/* Tables a report shows: latency, accuracy, devices. */
#define MAX_TABLES 3
_Static_assert((int)ACC_NCOLS <= (int)MAX_COLS, "a row holds the widest table");
_Static_assert((int)DEV_NCOLS <= (int)MAX_COLS, "a row holds the widest table");

/*
 * The shape of a table. The last column is the case error, which only CSV
 * prints; the others are shown in every format. The error list under the
 * tables reads the run, case, model and case status columns.
 */
struct layout {
    const struct column *columns;
    int ncols;
    int col_run, col_case, col_case_status, col_model;
};

static const struct layout latency_layout = {
    latency_columns, NCOLS, COL_RUN, COL_CASE, COL_CASE_STATUS, COL_MODEL};
static const struct layout accuracy_layout = {
    accuracy_columns, ACC_NCOLS, ACC_RUN, ACC_CASE, ACC_CASE_STATUS, ACC_MODEL};
static const struct layout device_layout = {
    device_columns, DEV_NCOLS, DEV_RUN, DEV_CASE, DEV_CASE_STATUS, DEV_MODEL};

/* One row of a table: column c is the NUL-terminated string at
 * cells.data + offsets[c] of its table. */
struct row {
    size_t offsets[MAX_COLS];
    int64_t run_id; /* rows come ordered by run, case index, case id */
    int case_index;
    int64_t case_id; /* rows of one case are adjacent */
};

struct table {
    const struct layout *layout;
    struct bf_buf cells;
    struct row *rows;
    size_t nrows;
    size_t cap;         /* rows the rows array can hold */
    size_t nmeasured;   /* rows with an aggregate or an accuracy row */
    const char *metric; /* latency filter, or NULL */
    /* Latency: cases without aggregates to leave out (sorted case ids of
     * the accuracy table), or none. */
    const int64_t *skip;
    size_t nskip;
};

/*
 * Append a cell of the current row. The NUL is kept, so that cells sit one
 * after another in the buffer; tabs and line breaks become spaces so that a
 * stray one in the DB cannot break a table row.
 */
static int add_text(struct table *t, int col, const char *text)
{
    size_t start = t->cells.len;
    size_t i;
    int rc;

    t->rows[t->nrows].offsets[col] = start;
    rc = bf_buf_append(&t->cells, text, strlen(text) + 1);
    if (rc)
        return rc;
    for (i = start; t->cells.data[i]; i++)
        if (t->cells.data[i] == '\n' || t->cells.data[i] == '\r' ||
            t->cells.data[i] == '\t')
            t->cells.data[i] = ' ';
    return 0;
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

/* Start a row of a case; add every cell, then count it in with nrows++. */
static int row_begin(struct table *t, int64_t run_id, int case_index,
                     int64_t case_id)
{
    struct row *r;

    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        struct row *rows = realloc(t->rows, cap * sizeof(*rows));

        if (!rows)
            return bf_err_set(BF_ENOMEM, "report of %zu rows", cap);
        t->rows = rows;
        t->cap = cap;
    }
    r = &t->rows[t->nrows];
    r->run_id = run_id;
    r->case_index = case_index;
    r->case_id = case_id;
    return 0;
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
    rc = rc ? rc : add_cell(t, COL_THREADS, "%d", v->threads);
    rc = rc ? rc : add_text(t, COL_FOLD, v->fold_bn ? "yes" : "no");
    rc = rc ? rc : add_link(t, v);
    rc = rc ? rc : add_cell(t, COL_PARAMS, "%lld", (long long)v->params);
    rc = rc ? rc : add_cell(t, COL_GMACS, "%.2f", (double)v->macs / 1e9);
    if (measured) {
        rc = rc ? rc : add_text(t, COL_METRIC, v->metric);
        rc = rc ? rc : add_text(t, COL_UNIT, v->unit);
        rc = rc ? rc : add_cell(t, COL_N, "%zu", v->stats.n);
        rc = rc ? rc : add_value(t, COL_MEAN, v->stats.mean);
        rc = rc ? rc : add_value(t, COL_P50, v->stats.p50);
        rc = rc ? rc : add_value(t, COL_P90, v->stats.p90);
        rc = rc ? rc : add_value(t, COL_P99, v->stats.p99);
        rc = rc ? rc : add_text(t, COL_METHOD, v->method);
    } else {
        static const int unmeasured[] = {COL_METRIC, COL_UNIT,  COL_N,
                                         COL_MEAN,   COL_P50,   COL_P90,
                                         COL_P99,    COL_METHOD};
        size_t i;

        for (i = 0; i < sizeof(unmeasured) / sizeof(unmeasured[0]); i++)
            rc = rc ? rc : add_text(t, unmeasured[i], "-");
    }
    rc = rc ? rc : add_text(t, COL_CASE_ERROR, v->case_error);
    if (rc)
        return rc;
    t->nmeasured += measured;
    t->nrows++;
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
static int add_bottleneck(struct table *t, int col, int version, int channels)
{
    char v[16] = "-", c[16] = "-";

    if (version <= 0 && channels <= 0)
        return add_text(t, col, "-");
    if (version > 0)
        snprintf(v, sizeof(v), "%d", version);
    if (channels > 0)
        snprintf(c, sizeof(c), "%d", channels);
    return add_cell(t, col, "%s:%s", v, c);
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
    t->nrows++;
    return 0;
}

/* "modeled" or "measured": a method's kind, the full text is in the DB
 * and listed under the table. */
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

    rc = row_begin(t, v->run_id, v->case_index, -1 - (int64_t)t->nrows);
    rc = rc ? rc : add_cell(t, DEV_RUN, "%lld", (long long)v->run_id);
    rc = rc ? rc : add_cell(t, DEV_CASE, "%d", v->case_index);
    rc = rc ? rc : add_text(t, DEV_CASE_STATUS, status_name(v->case_status));
    rc = rc ? rc : add_text(t, DEV_CONFIG, v->config);
    rc = rc ? rc : add_text(t, DEV_MODEL, v->model);
    rc = rc ? rc : add_value2(t, DEV_RATE, v->link_rate_mbps);
    rc = rc ? rc : add_text(t, DEV_DEVICE, d->device);
    rc = rc ? rc : add_value(t, DEV_HOST_HEAD, d->host_head_ms);
    rc = rc ? rc : add_value(t, DEV_HEAD, d->head_ms);
    rc = rc ? rc : add_value(t, DEV_ENCODE, d->encode_ms);
    rc = rc ? rc : add_value(t, DEV_TRANSFER, d->transfer_ms);
    rc = rc ? rc : add_value(t, DEV_SERVER, d->server_ms);
    rc = rc ? rc : add_value(t, DEV_E2E, d->e2e_ms);
    rc = rc ? rc : add_value(t, DEV_E2E_P90, d->e2e_p90_ms);
    rc = rc ? rc : add_value2(t, DEV_POWER, d->avg_power_mw / 1e3);
    rc = rc ? rc : add_value(t, DEV_ENERGY, d->energy_mj);
    rc = rc ? rc : add_value(t, DEV_ENERGY_ABOVE, d->energy_above_idle_mj);
    rc = rc ? rc : add_method_kind(t, DEV_TIME_METHOD, d->latency_method);
    rc = rc ? rc : add_method_kind(t, DEV_POWER_METHOD, d->power_method);
    rc = rc ? rc : add_text(t, DEV_CASE_ERROR, "");
    if (rc)
        return rc;
    t->nmeasured++;
    t->nrows++;
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
    return t->cells.data + t->rows[row].offsets[col];
}

/* The columns a format shows: all but the last (the case error), which
 * only CSV prints. */
static int nshown(const struct table *t)
{
    return t->layout->ncols - 1;
}

/* Whether row r opens a failed case with an error message: the errors
 * listed under the text and Markdown tables, one per case. */
static int lists_error(const struct table *t, size_t r)
{
    const struct layout *l = t->layout;

    if (strcmp(cell(t, r, l->col_case_status), "failed") != 0 ||
        !cell(t, r, l->ncols - 1)[0])
        return 0;
    return r == 0 || t->rows[r - 1].case_id != t->rows[r].case_id;
}

/* Width of every shown column: the longest of its title and its cells. */
static void column_widths(const struct table *t, size_t widths[MAX_COLS])
{
    size_t r;
    int c;

    for (c = 0; c < nshown(t); c++) {
        widths[c] = strlen(t->layout->columns[c].title);
        for (r = 0; r < t->nrows; r++) {
            size_t len = strlen(cell(t, r, c));

            if (len > widths[c])
                widths[c] = len;
        }
    }
}

static void put_padded(FILE *out, const char *s, size_t width, int right)
{
    size_t len = strlen(s);

    if (right)
        fprintf(out, "%*s%s", (int)(width - len), "", s);
    else
        fprintf(out, "%s%*s", s, (int)(width - len), "");
}

/* Text: two spaces between columns, a rule under the header, no trailing
 * blanks (the last column is not padded). */
static void write_text_line(FILE *out, const struct table *t,
                            const char *const cells[MAX_COLS],
                            const size_t widths[MAX_COLS])
{
    int n = nshown(t);
    int c;

    for (c = 0; c < n; c++) {
        if (c > 0)
            fputs("  ", out);
        if (c == n - 1)
            fputs(cells[c], out);
        else
            put_padded(out, cells[c], widths[c], t->layout->columns[c].right);
    }
    fputc('\n', out);
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
    const struct row *x = &ta->rows[a], *y = &tb->rows[b];

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
            while (next[i] < tables[i]->nrows &&
                   !lists_error(tables[i], next[i]))
                next[i]++;
            if (next[i] == tables[i]->nrows)
                continue;
            if (!t || row_before(tables[i], next[i], t, next[pick])) {
                t = tables[i];
                pick = i;
            }
        }
        if (!t)
            break;
        i = next[pick]++;
        if (t->rows[i].case_id == last_case)
            continue; /* listed from the other table */
        last_case = t->rows[i].case_id;
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

/* Text: a header, a rule, the rows. */
static void write_text(const struct table *t, FILE *out)
{
    const char *cells[MAX_COLS];
    size_t widths[MAX_COLS];
    size_t r, i;
    int c;

    column_widths(t, widths);
    for (c = 0; c < nshown(t); c++)
        cells[c] = t->layout->columns[c].title;
    write_text_line(out, t, cells, widths);
    for (c = 0; c < nshown(t); c++) {
        if (c > 0)
            fputs("  ", out);
        for (i = 0; i < widths[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < nshown(t); c++)
            cells[c] = cell(t, r, c);
        write_text_line(out, t, cells, widths);
    }
}

/* RFC 4180: a field holding a comma, quote, CR or LF is quoted, with quotes
 * doubled; records end in CRLF. */
static void put_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* CSV: a header row of machine names, then every column of every row. */
static void write_csv(const struct table *t, FILE *out)
{
    size_t r;
    int c;

    for (c = 0; c < t->layout->ncols; c++) {
        if (c > 0)
            fputc(',', out);
        put_csv_field(out, t->layout->columns[c].csv);
    }
    fputs("\r\n", out);
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < t->layout->ncols; c++) {
            if (c > 0)
                fputc(',', out);
            put_csv_field(out, cell(t, r, c));
        }
        fputs("\r\n", out);
    }
}

/* Width of a Markdown cell once its pipes are escaped. */
static size_t md_len(const char *s)
{
    size_t len = strlen(s);

    for (; *s; s++)
        if (*s == '|')
            len++;
    return len;
}

static void put_md_cell(FILE *out, const char *s, size_t width, int right)
{
    size_t pad = width - md_len(s);

    if (right)
        fprintf(out, "%*s", (int)pad, "");
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
    if (!right)
        fprintf(out, "%*s", (int)pad, "");
}

/* Markdown: a pipe table padded like the text table; numeric columns are
 * right-aligned with "---:". */
static void write_markdown(const struct table *t, FILE *out)
{
    const struct column *columns = t->layout->columns;
    size_t widths[MAX_COLS];
    size_t r, i;
    int c;

    column_widths(t, widths);
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < nshown(t); c++) {
            size_t len = md_len(cell(t, r, c));

            if (len > widths[c])
                widths[c] = len;
        }
    for (c = 0; c < nshown(t); c++)
        if (widths[c] < 3)
            widths[c] = 3; /* room for the "---" rule */

    fputc('|', out);
    for (c = 0; c < nshown(t); c++) {
        fputc(' ', out);
        put_md_cell(out, columns[c].title, widths[c], columns[c].right);
        fputs(" |", out);
    }
    fputs("\n|", out);
    for (c = 0; c < nshown(t); c++) {
        fputc(' ', out);
        for (i = 0; i + 1 < widths[c]; i++)
            fputc('-', out);
        fputc(columns[c].right ? ':' : '-', out);
        fputs(" |", out);
    }
    fputc('\n', out);
    for (r = 0; r < t->nrows; r++) {
        fputc('|', out);
        for (c = 0; c < nshown(t); c++) {
            fputc(' ', out);
            put_md_cell(out, cell(t, r, c), widths[c], columns[c].right);
            fputs(" |", out);
        }
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
    if (acc->nrows == 0)
        return 0;
    *ids = malloc(acc->nrows * sizeof(**ids));
    if (!*ids)
        return bf_err_set(BF_ENOMEM, "report of %zu accuracy rows", acc->nrows);
    for (r = 0; r < acc->nrows; r++)
        if (r == 0 || acc->rows[r].case_id != acc->rows[r - 1].case_id)
            (*ids)[(*n)++] = acc->rows[r].case_id;
    qsort(*ids, *n, sizeof(**ids), compare_ids);
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
    struct table latency = {.layout = &latency_layout,
                            .metric = params->metric};
    struct table accuracy = {.layout = &accuracy_layout};
    struct table devices = {.layout = &device_layout};
    const struct table *shown[MAX_TABLES];
    size_t nshown_tables = 0;
    int64_t *skip = NULL;
    size_t i;
    int rc;

    bf_buf_init(&latency.cells);
    bf_buf_init(&accuracy.cells);
    bf_buf_init(&devices.cells);
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
    if (latency.nrows)
        shown[nshown_tables++] = &latency;
    if (accuracy.nmeasured)
        shown[nshown_tables++] = &accuracy;
    if (devices.nrows)
        shown[nshown_tables++] = &devices;
    if (nshown_tables == 0) {
        rc = no_results(params);
        goto out_free;
    }

    for (i = 0; i < nshown_tables; i++) {
        if (i > 0) /* an empty line between tables */
            fputs(params->format == BF_REPORT_CSV ? "\r\n" : "\n", out);
        if (params->format == BF_REPORT_TEXT)
            write_text(shown[i], out);
        else if (params->format == BF_REPORT_CSV)
            write_csv(shown[i], out);
        else
            write_markdown(shown[i], out);
    }
    if (params->format != BF_REPORT_CSV)
        write_errors(shown, nshown_tables, out,
                     params->format == BF_REPORT_MARKDOWN);
    if (devices.nrows && params->format != BF_REPORT_CSV) {
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
    if (fflush(out) != 0 || ferror(out))
        rc = bf_err_set(BF_EIO, "writing the report: %s", strerror(errno));

out_free:
    free(skip);
    free(latency.rows);
    bf_buf_free(&latency.cells);
    free(accuracy.rows);
    bf_buf_free(&accuracy.cells);
    free(devices.rows);
    bf_buf_free(&devices.cells);
    return rc;
}
