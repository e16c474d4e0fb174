/*
 * bf_table: cells in one buffer, rows as offsets into it; the writers
 * size every shown column from its title and its cells first.
 */
#include "bf_table.h"

#include "bf_err.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void bf_table_init(struct bf_table *t, const struct bf_table_column *columns,
                   int ncols, int nshown)
{
    assert(ncols >= 1 && ncols <= BF_TABLE_MAX_COLS);
    assert(nshown >= 1 && nshown <= ncols);
    memset(t, 0, sizeof(*t));
    t->columns = columns;
    t->ncols = ncols;
    t->nshown = nshown;
    bf_buf_init(&t->cells);
}

void bf_table_free(struct bf_table *t)
{
    if (!t)
        return;
    bf_buf_free(&t->cells);
    free(t->offsets);
    t->offsets = NULL;
    t->nrows = t->cap = 0;
}

int bf_table_row_begin(struct bf_table *t)
{
    size_t *row;

    /* Offset 0 is the empty cell every new row starts with. */
    if (t->cells.len == 0 && bf_buf_append(&t->cells, "", 1))
        return bf_err_set(BF_ENOMEM, "table cells");
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        size_t *grown =
            realloc(t->offsets, cap * (size_t)t->ncols * sizeof(*grown));

        if (!grown)
            return bf_err_set(BF_ENOMEM, "table of %zu rows", cap);
        t->offsets = grown;
        t->cap = cap;
    }
    row = t->offsets + t->nrows * (size_t)t->ncols;
    memset(row, 0, (size_t)t->ncols * sizeof(*row));
    return 0;
}

int bf_table_set(struct bf_table *t, int col, const char *text)
{
    size_t start = t->cells.len;

    assert(col >= 0 && col < t->ncols && t->nrows < t->cap);
    if (bf_buf_append(&t->cells, text, strlen(text) + 1))
        return bf_err_set(BF_ENOMEM, "table cells");
    for (size_t i = start; t->cells.data[i]; i++)
        if (strchr("\t\r\n", t->cells.data[i]))
            t->cells.data[i] = ' ';
    t->offsets[t->nrows * (size_t)t->ncols + (size_t)col] = start;
    return 0;
}

void bf_table_row_end(struct bf_table *t)
{
    assert(t->nrows < t->cap);
    t->nrows++;
}

const char *bf_table_cell(const struct bf_table *t, size_t row, int col)
{
    assert(row < t->nrows && col >= 0 && col < t->ncols);
    return t->cells.data + t->offsets[row * (size_t)t->ncols + (size_t)col];
}

/* Width of a cell in Markdown, where each pipe gets a backslash. */
static size_t md_len(const char *s, int markdown)
{
    size_t len = strlen(s);

    for (; markdown && *s; s++)
        len += *s == '|';
    return len;
}

/* Width of every shown column: the longest of its title and its cells;
 * in Markdown at least 3, room for the "---" rule. */
static void column_widths(const struct bf_table *t, int markdown,
                          size_t widths[BF_TABLE_MAX_COLS])
{
    for (int c = 0; c < t->nshown; c++) {
        widths[c] = md_len(t->columns[c].title, markdown);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t len = md_len(bf_table_cell(t, r, c), markdown);

            if (len > widths[c])
                widths[c] = len;
        }
        if (markdown && widths[c] < 3)
            widths[c] = 3;
    }
}

/* One text line. Blanks are written only before text that follows them,
 * so that a line never ends in blanks (an empty or left-aligned last
 * cell). */
static void write_text_line(const struct bf_table *t, FILE *out,
                            const char *const cells[BF_TABLE_MAX_COLS],
                            const size_t widths[BF_TABLE_MAX_COLS])
{
    size_t pending = 0;

    for (int c = 0; c < t->nshown; c++) {
        size_t len = strlen(cells[c]);
        size_t pad = widths[c] - len;

        pending += c > 0 ? 2 : 0;
        if (t->columns[c].right)
            pending += pad;
        if (len) {
            fprintf(out, "%*s%s", (int)pending, "", cells[c]);
            pending = 0;
        }
        if (!t->columns[c].right)
            pending += pad;
    }
    fputc('\n', out);
}

void bf_table_write_text(const struct bf_table *t, FILE *out)
{
    const char *cells[BF_TABLE_MAX_COLS];
    size_t widths[BF_TABLE_MAX_COLS];

    column_widths(t, 0, widths);
    for (int c = 0; c < t->nshown; c++)
        cells[c] = t->columns[c].title;
    write_text_line(t, out, cells, widths);
    for (int c = 0; c < t->nshown; c++) {
        if (c > 0)
            fputs("  ", out);
        for (size_t i = 0; i < widths[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->nshown; c++)
            cells[c] = bf_table_cell(t, r, c);
        write_text_line(t, out, cells, widths);
    }
}

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

void bf_table_write_csv(const struct bf_table *t, FILE *out)
{
    for (int c = 0; c < t->ncols; c++) {
        if (c > 0)
            fputc(',', out);
        put_csv_field(out, t->columns[c].csv);
    }
    fputs("\r\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c > 0)
                fputc(',', out);
            put_csv_field(out, bf_table_cell(t, r, c));
        }
        fputs("\r\n", out);
    }
}

static void put_md_cell(FILE *out, const char *s, size_t width, int right)
{
    int pad = (int)(width - md_len(s, 1));

    if (right)
        fprintf(out, "%*s", pad, "");
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
    if (!right)
        fprintf(out, "%*s", pad, "");
}

#define HEADER_ROW SIZE_MAX

/* One Markdown row: row r's cells, or the titles when r is HEADER_ROW. */
static void write_md_line(const struct bf_table *t, FILE *out, size_t r,
                          const size_t widths[BF_TABLE_MAX_COLS])
{
    fputc('|', out);
    for (int c = 0; c < t->nshown; c++) {
        const char *s =
            r == HEADER_ROW ? t->columns[c].title : bf_table_cell(t, r, c);

        fputc(' ', out);
        put_md_cell(out, s, widths[c], t->columns[c].right);
        fputs(" |", out);
    }
    fputc('\n', out);
}

void bf_table_write_markdown(const struct bf_table *t, FILE *out)
{
    size_t widths[BF_TABLE_MAX_COLS];

    column_widths(t, 1, widths);
    write_md_line(t, out, HEADER_ROW, widths);
    fputc('|', out);
    for (int c = 0; c < t->nshown; c++) {
        fputc(' ', out);
        for (size_t i = 0; i + 1 < widths[c]; i++)
            fputc('-', out);
        fputc(t->columns[c].right ? ':' : '-', out);
        fputs(" |", out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++)
        write_md_line(t, out, r, widths);
}
