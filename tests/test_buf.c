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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_printf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
