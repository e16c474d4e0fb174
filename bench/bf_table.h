/*
 * bf_table: a table of text cells printed in the three result formats:
 * aligned text, RFC 4180 CSV and a Markdown pipe table. The one table
 * writer of `bfbench report` and `bfbench compare`.
 *
 * A table is filled row by row (bf_table_row_begin, a bf_table_set per
 * column, bf_table_row_end) and printed once it is complete, so that text
 * and Markdown can size their columns. Cells are copied into one buffer;
 * tabs and line breaks in them become spaces, so that a stray one in the
 * DB cannot break a row. A row is counted only by bf_table_row_end, so a
 * row abandoned after a failed bf_table_set is never printed.
 *
 * Formats: text puts two spaces between columns and a rule of dashes
 * under the header, pads the columns to their widest cell, right-aligns
 * numeric columns and never ends a line in blanks. CSV prints a header of the
 * columns' machine names, quotes a field holding a comma, quote, CR or LF
 * (quotes doubled) and ends records in CRLF. Markdown pads like text, escapes
 * pipes in cells and marks numeric columns "---:". Text and Markdown show
 * the first `nshown` columns; CSV shows all of them (a report's case
 * error, too long for an aligned row, is CSV-only).
 *
 * Ownership: the struct is the caller's; bf_table_init() leaves it empty,
 * bf_table_free() releases its memory and accepts a zeroed or freed table.
 * The columns array is borrowed for the table's life.
 */
#ifndef BF_TABLE_H
#define BF_TABLE_H

#include "bf_buf.h"

#include <stddef.h>
#include <stdio.h>

/* Most columns a table may have. */
#define BF_TABLE_MAX_COLS 32

struct bf_table_column {
    const char *title; /* text and Markdown header */
    const char *csv;   /* CSV header: a stable machine name */
    int right;         /* right-aligned (numbers) */
};

struct bf_table {
    const struct bf_table_column *columns;
    int ncols;           /* cells per row, all printed by CSV */
    int nshown;          /* text and Markdown print the first nshown */
    struct bf_buf cells; /* NUL-terminated cells, one after another */
    size_t *offsets;     /* row r, column c: offsets[r * ncols + c] */
    size_t nrows;        /* complete rows */
    size_t cap;          /* rows offsets can hold */
};

/* Life cycle */

/* An empty table of ncols columns (1..BF_TABLE_MAX_COLS) of which text
 * and Markdown show the first nshown (1..ncols). */
void bf_table_init(struct bf_table *t, const struct bf_table_column *columns,
                   int ncols, int nshown);
void bf_table_free(struct bf_table *t);

/* Filling */

/* Make room for row t->nrows, whose cells start empty. 0 or BF_ENOMEM. */
int bf_table_row_begin(struct bf_table *t);

/* Set column col of the row begun last to a copy of text. 0 or
 * BF_ENOMEM. */
int bf_table_set(struct bf_table *t, int col, const char *text);

/* Count the row begun last in. */
void bf_table_row_end(struct bf_table *t);

/* Column col of complete row row; borrowed until the next change. */
const char *bf_table_cell(const struct bf_table *t, size_t row, int col);

/* Printing (a write error shows in ferror(out)) */

void bf_table_write_text(const struct bf_table *t, FILE *out);
void bf_table_write_csv(const struct bf_table *t, FILE *out);
void bf_table_write_markdown(const struct bf_table *t, FILE *out);

#endif /* BF_TABLE_H */
