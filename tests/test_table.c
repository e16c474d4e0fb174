/* Tests of bf_table: the three formats, cell cleaning, growth, and rows
 * that are begun but never ended. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name (left), n (right), note (CSV-only). */
static const struct bf_table_column cols[3] = {
    {"name", "name", 0},
    {"n", "count", 1},
    {"note", "note", 0},
};

static void add(struct bf_table *t, const char *name, const char *n,
                const char *note)
{
    assert_int_equal(bf_table_row_begin(t), 0);
    assert_int_equal(bf_table_set(t, 0, name), 0);
    assert_int_equal(bf_table_set(t, 1, n), 0);
    if (note)
        assert_int_equal(bf_table_set(t, 2, note), 0);
    bf_table_row_end(t);
}

/* What a writer prints, as a string the caller frees. */
static char *render(const struct bf_table *t,
                    void (*write)(const struct bf_table *, FILE *))
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    assert_non_null(out);
    write(t, out);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void fill(struct bf_table *t)
{
    bf_table_init(t, cols, 3, 2);
    add(t, "resnet|mini", "12", "a, \"quoted\" note");
    add(t, "x", "7", NULL);
}

/* Text: padded columns, numbers right-aligned, a rule, no trailing
 * blanks, the CSV-only column left out. */
static void test_table_text(void **state)
{
    struct bf_table t;
    char *s;

    (void)state;
    fill(&t);
    s = render(&t, bf_table_write_text);
    assert_string_equal(s, "name          n\n"
                           "-----------  --\n"
                           "resnet|mini  12\n"
                           "x             7\n");
    free(s);
    bf_table_free(&t);
}

/* CSV: every column, machine names, RFC 4180 quoting, CRLF, an unset
 * cell empty. */
static void test_table_csv(void **state)
{
    struct bf_table t;
    char *s;

    (void)state;
    fill(&t);
    s = render(&t, bf_table_write_csv);
    assert_string_equal(s, "name,count,note\r\n"
                           "resnet|mini,12,\"a, \"\"quoted\"\" note\"\r\n"
                           "x,7,\r\n");
    free(s);
    bf_table_free(&t);
}

/* Markdown: pipes escaped (and counted in the width), "---:" on numeric
 * columns, every column at least 3 wide. */
static void test_table_markdown(void **state)
{
    struct bf_table t;
    char *s;

    (void)state;
    fill(&t);
    s = render(&t, bf_table_write_markdown);
    assert_string_equal(s, "| name         |   n |\n"
                           "| ------------ | --: |\n"
                           "| resnet\\|mini |  12 |\n"
                           "| x            |   7 |\n");
    free(s);
    bf_table_free(&t);
}

/* Tabs and line breaks in a cell become spaces; a row begun but not
 * ended is not printed; rows grow past the first allocation. */
static void test_table_clean_abandon_grow(void **state)
{
    struct bf_table t;
    char name[16];
    char *s;

    (void)state;
    bf_table_init(&t, cols, 3, 3);
    add(&t, "a\tb\r\nc", "1", "");
    assert_string_equal(bf_table_cell(&t, 0, 0), "a b  c");
    assert_int_equal(bf_table_row_begin(&t), 0);
    assert_int_equal(bf_table_set(&t, 0, "abandoned"), 0);
    assert_int_equal(t.nrows, 1);
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        add(&t, name, "2", "z");
    }
    assert_int_equal(t.nrows, 101);
    assert_string_equal(bf_table_cell(&t, 100, 0), "r99");
    assert_string_equal(bf_table_cell(&t, 1, 0), "r0");
    s = render(&t, bf_table_write_text);
    assert_null(strstr(s, "abandoned"));
    assert_null(strstr(s, " \n"));
    free(s);
    bf_table_free(&t);
    bf_table_free(&t);
    bf_table_free(NULL);
}

/* An empty table prints its header alone. */
static void test_table_empty(void **state)
{
    struct bf_table t;
    char *s;

    (void)state;
    bf_table_init(&t, cols, 3, 2);
    s = render(&t, bf_table_write_markdown);
    assert_string_equal(s, "| name |   n |\n| ---- | --: |\n");
    free(s);
    s = render(&t, bf_table_write_csv);
    assert_string_equal(s, "name,count,note\r\n");
    free(s);
    bf_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_text),
        cmocka_unit_test(test_table_csv),
        cmocka_unit_test(test_table_markdown),
        cmocka_unit_test(test_table_clean_abandon_grow),
        cmocka_unit_test(test_table_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
