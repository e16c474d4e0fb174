/* Tests of bf_buf: appends, formatting, growth and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_buf.h"

#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_printf),
        cmocka_unit_test(test_buf_extend),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
