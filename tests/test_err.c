/* Tests of bf_err: codes, names, the thread-local detail and prefixing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_err.h"

#include <string.h>

static void test_err_strerror_and_names(void **state)
{
    (void)state;
    assert_string_equal(bf_strerror(BF_OK), "success");
    assert_string_equal(bf_strerror(BF_EPARSE), "malformed input");
    assert_string_equal(bf_strerror(-999), "unknown error");
    assert_string_equal(bf_err_name(BF_EVERSION), "EVERSION");
    assert_string_equal(bf_err_name(-999), "E?");
}

static void test_err_set_returns_code_and_detail(void **state)
{
    (void)state;
    bf_err_clear();
    assert_string_equal(bf_last_error(), "");
    assert_int_equal(bf_err_set(BF_EPARSE, "x.yaml:%d:%d: bad", 3, 4),
                     BF_EPARSE);
    assert_string_equal(bf_last_error(), "x.yaml:3:4: bad");
}

static void test_err_prefix_keeps_detail(void **state)
{
    (void)state;
    bf_err_set(BF_EIO, "disk on fire");
    assert_int_equal(bf_err_prefix(BF_EIO, "saving %s: ", "w.bfw"), BF_EIO);
    assert_string_equal(bf_last_error(), "saving w.bfw: disk on fire");
    bf_err_clear();
    bf_err_prefix(BF_ENOMEM, "ctx: ");
    assert_string_equal(bf_last_error(), "ctx: out of memory");
}

static void test_err_truncates_long_detail(void **state)
{
    char big[3 * BF_ERR_DETAIL_MAX];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bf_err_set(BF_EINVAL, "%s", big);
    assert_int_equal(strlen(bf_last_error()), BF_ERR_DETAIL_MAX - 1);
    bf_err_prefix(BF_EINVAL, "%s", big);
    assert_int_equal(strlen(bf_last_error()), BF_ERR_DETAIL_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_strerror_and_names),
        cmocka_unit_test(test_err_set_returns_code_and_detail),
        cmocka_unit_test(test_err_prefix_keeps_detail),
        cmocka_unit_test(test_err_truncates_long_detail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
