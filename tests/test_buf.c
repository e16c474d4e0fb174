/* Tests of bf_buf: appends, formatting, growth and reset. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_buf.h"
#include "bf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_buf_append_and_printf(void **state)
{
    struct bf_buf b;

    (void)state;
    bf_buf_init(&b);
    assert_string_equal(bf_buf_str(&b), "");
    assert_int_equal(bf_buf_append(&b, "ab", 2), 0);
    assert_int_equal(bf_buf_printf(&b, "-%d-%s", 42, "x"), 0);
    assert_string_equal(bf_buf_str(&b), "ab-42-x");
    assert_int_equal(b.len, 7);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bf_buf_printf(&b, "%04d", i), 0);
    assert_int_equal(b.len, 7 + 4000);
    assert_int_equal(strncmp(bf_buf_str(&b) + 7, "00000001", 8), 0);
    bf_buf_reset(&b);
    assert_string_equal(bf_buf_str(&b), "");
    bf_buf_free(&b);
    bf_buf_free(&b);
    bf_buf_free(NULL);
}

/* extend hands out room after the bytes already there, NUL-terminated. */
static void test_buf_extend(void **state)
{
    struct bf_buf b;
    char *space = NULL;

    (void)state;
    bf_buf_init(&b);
    assert_int_equal(bf_buf_append(&b, "ab", 2), 0);
    assert_int_equal(bf_buf_extend(&b, 300, &space), 0);
    assert_ptr_equal(space, b.data + 2);
    memset(space, 'x', 300);
    assert_int_equal(b.len, 302);
    assert_int_equal(b.data[302], '\0');
    assert_int_equal(strncmp(b.data, "abxx", 4), 0);
    bf_buf_free(&b);
}

/* A whole file, an empty one, one over the limit, a missing one and a
 * directory, each named in its error. */
static void test_buf_read_file(void **state)
{
    char path[] = "/tmp/bf_test_buf_XXXXXX";
    struct bf_buf b;
    int fd = mkstemp(path);
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    for (int i = 0; i < 3000; i++)
        fputs("ab", f);
    fclose(f);
    bf_buf_init(&b);
    assert_int_equal(bf_buf_read_file(&b, path, 6000, "thing"), 0);
    assert_int_equal(b.len, 6000);
    assert_int_equal(strlen(bf_buf_str(&b)), 6000);
    assert_int_equal(bf_buf_read_file(&b, path, 5999, "thing"), BF_ERANGE);
    assert_non_null(strstr(bf_last_error(), "thing larger than 5999 bytes"));
    assert_int_equal(b.len, 0);
    assert_int_equal(bf_buf_read_file(&b, "/nonexistent/x", 10, "thing"),
                     BF_ENOENT);
    assert_non_null(
        strstr(bf_last_error(), "cannot open thing '/nonexistent/x'"));
    assert_int_equal(bf_buf_read_file(&b, "/tmp", 10, "thing"), BF_ENOENT);
    assert_non_null(
        strstr(bf_last_error(), "thing '/tmp' is not a regular file"));
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(bf_buf_read_file(&b, path, 10, "thing"), 0);
    assert_string_equal(bf_buf_str(&b), "");
    unlink(path);
    bf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_printf),
        cmocka_unit_test(test_buf_extend),
        cmocka_unit_test(test_buf_read_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
