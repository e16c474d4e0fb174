/*
 * bf_report: the latency table, read from the store.
 *
 * The rows are collected into memory first (every cell formatted once into
 * one buffer) so that the text and Markdown formats can size their columns
 * before printing. One row per aggregate of a case, or one row for a case
 * without aggregates (failed, skipped or killed before measuring), whose
 * metric, statistics and method read "-". All three formats print the same
 * cells, except the case error: CSV has it as a last column, text and
 * Markdown list the failed cases' errors under the table instead, where a
 * long message does not widen every row. The output holds nothing that
 * changes between two reports of the same DB (no clock, no path of the DB),
 * so it can be compared with golden files.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_report.h"

#include "bf_buf.h"
#include "bf_err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct column {
    const char *title; /* text and Markdown header */
    const char *csv;   /* CSV header: a stable machine name */
    int right;         /* right-aligned (numbers) */
};

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

/* The columns of the text and Markdown tables: all but the case error. */
#define NSHOWN COL_CASE_ERROR

static const struct column columns[NCOLS] = {
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

/* One row of the table: column c is the NUL-terminated string at
 * cells.data + offsets[c] of its table. */
struct row {
    size_t offsets[NCOLS];
    int64_t case_id; /* rows of one case are adjacent */
};

struct table {
    struct bf_buf cells;
    struct row *rows;
    size_t nrows;
    size_t cap;         /* rows the rows array can hold */
    const char *metric; /* filter, or NULL */
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

/* A measurement with 3 decimals, "-" when absent (SQL NULL). */
static int add_value(struct table *t, int col, double v)
{
    if (isnan(v))
        return add_text(t, col, "-");
    return add_cell(t, col, "%.3f", v);
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

static int add_row(const struct bf_result_view *v, void *ctx)
{
    struct table *t = ctx;
    /* A case without aggregates has no metric: the filter keeps it. */
    int measured = v->metric[0] != '\0';
    int rc;

    if (t->metric && measured && strcmp(v->metric, t->metric) != 0)
        return 0;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        struct row *rows = realloc(t->rows, cap * sizeof(*rows));

        if (!rows)
            return bf_err_set(BF_ENOMEM, "report of %zu rows", cap);
        t->rows = rows;
        t->cap = cap;
    }
    t->rows[t->nrows].case_id = v->case_id;
    rc = add_cell(t, COL_RUN, "%lld", (long long)v->run_id);
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
    t->nrows++;
    return 0;
}

static const char *cell(const struct table *t, size_t row, int col)
{
    return t->cells.data + t->rows[row].offsets[col];
}

/* Whether row r opens a failed case with an error message: the errors
 * listed under the text and Markdown tables, one per case. */
static int lists_error(const struct table *t, size_t r)
{
    if (strcmp(cell(t, r, COL_CASE_STATUS), "failed") != 0 ||
        !cell(t, r, COL_CASE_ERROR)[0])
        return 0;
    return r == 0 || t->rows[r - 1].case_id != t->rows[r].case_id;
}

/* Width of every shown column: the longest of its title and its cells. */
static void column_widths(const struct table *t, size_t widths[NSHOWN])
{
    size_t r;
    int c;

    for (c = 0; c < NSHOWN; c++) {
        widths[c] = strlen(columns[c].title);
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
static void write_text_line(FILE *out, const char *const cells[NSHOWN],
                            const size_t widths[NSHOWN])
{
    int c;

    for (c = 0; c < NSHOWN; c++) {
        if (c > 0)
            fputs("  ", out);
        if (c == NSHOWN - 1)
            fputs(cells[c], out);
        else
            put_padded(out, cells[c], widths[c], columns[c].right);
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

/*
 * The errors of the failed cases, one line each after a blank line that
 * ends the table: "run R case I (model): error", in Markdown as a list item
 * with its text escaped. Nothing when no case failed with an error.
 */
static void write_errors(const struct table *t, FILE *out, int markdown)
{
    int listed = 0;
    size_t r;

    for (r = 0; r < t->nrows; r++) {
        if (!lists_error(t, r))
            continue;
        if (!listed++)
            fputc('\n', out);
        fprintf(out, "%srun %s case %s (", markdown ? "- " : "",
                cell(t, r, COL_RUN), cell(t, r, COL_CASE));
        put_prose(out, cell(t, r, COL_MODEL), markdown);
        fputs("): ", out);
        put_prose(out, cell(t, r, COL_CASE_ERROR), markdown);
        fputc('\n', out);
    }
}

/* Text: the table, then a blank line and "run R case I (model): error" for
 * every failed case with an error. */
static void write_text(const struct table *t, FILE *out)
{
    const char *cells[NSHOWN];
    size_t widths[NSHOWN];
    size_t r, i;
    int c;

    column_widths(t, widths);
    for (c = 0; c < NSHOWN; c++)
        cells[c] = columns[c].title;
    write_text_line(out, cells, widths);
    for (c = 0; c < NSHOWN; c++) {
        if (c > 0)
            fputs("  ", out);
        for (i = 0; i < widths[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < NSHOWN; c++)
            cells[c] = cell(t, r, c);
        write_text_line(out, cells, widths);
    }
    write_errors(t, out, 0);
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

static void write_csv(const struct table *t, FILE *out)
{
    size_t r;
    int c;

    for (c = 0; c < NCOLS; c++) {
        if (c > 0)
            fputc(',', out);
        put_csv_field(out, columns[c].csv);
    }
    fputs("\r\n", out);
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < NCOLS; c++) {
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
 * right-aligned with "---:". The failed cases' errors follow as a list,
 * after a blank line that ends the table. */
static void write_markdown(const struct table *t, FILE *out)
{
    size_t widths[NSHOWN];
    size_t r, i;
    int c;

    column_widths(t, widths);
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < NSHOWN; c++) {
            size_t len = md_len(cell(t, r, c));

            if (len > widths[c])
                widths[c] = len;
        }
    for (c = 0; c < NSHOWN; c++)
        if (widths[c] < 3)
            widths[c] = 3; /* room for the "---" rule */

    fputc('|', out);
    for (c = 0; c < NSHOWN; c++) {
        fputc(' ', out);
        put_md_cell(out, columns[c].title, widths[c], columns[c].right);
        fputs(" |", out);
    }
    fputs("\n|", out);
    for (c = 0; c < NSHOWN; c++) {
        fputc(' ', out);
        for (i = 0; i + 1 < widths[c]; i++)
            fputc('-', out);
        fputc(columns[c].right ? ':' : '-', out);
        fputs(" |", out);
    }
    fputc('\n', out);
    for (r = 0; r < t->nrows; r++) {
        fputc('|', out);
        for (c = 0; c < NSHOWN; c++) {
            fputc(' ', out);
            put_md_cell(out, cell(t, r, c), widths[c], columns[c].right);
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    write_errors(t, out, 1);
}

int bf_report_write(struct bf_store *store,
                    const struct bf_report_params *params, FILE *out)
{
    struct table t = {.metric = params->metric};
    int rc;

    bf_buf_init(&t.cells);
    rc = bf_store_each_result(store, params->run_id, add_row, &t);
    if (rc)
        goto out_free;
    /* A case without aggregates passes any filter, so no row means no case,
     * or no case with the filtered metric. */
    if (t.nrows == 0) {
        if (params->run_id)
            rc = bf_err_set(BF_ENOENT, "no results for run %lld%s%s%s",
                            (long long)params->run_id,
                            params->metric ? " (metric '" : "",
                            params->metric ? params->metric : "",
                            params->metric ? "')" : "");
        else
            rc = bf_err_set(BF_ENOENT, "the DB has no results%s%s%s",
                            params->metric ? " (metric '" : "",
                            params->metric ? params->metric : "",
                            params->metric ? "')" : "");
        goto out_free;
    }

    switch (params->format) {
    case BF_REPORT_TEXT:
        write_text(&t, out);
        break;
    case BF_REPORT_CSV:
        write_csv(&t, out);
        break;
    case BF_REPORT_MARKDOWN:
        write_markdown(&t, out);
        break;
    default:
        rc = bf_err_set(BF_EINVAL, "unknown report format %d",
                        (int)params->format);
        goto out_free;
    }
    if (fflush(out) != 0 || ferror(out))
        rc = bf_err_set(BF_EIO, "writing the report: %s", strerror(errno));

out_free:
    free(t.rows);
    bf_buf_free(&t.cells);
    return rc;
}
