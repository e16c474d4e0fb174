/* Tests of bf_progress: the time left at the rate so far, and its text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_progress.h"

/* 100 units ahead; 20 skipped (resumed), then 10 run in 5 s: 70 left at
 * 0.5 s a unit, 35 s; another 30 in 25 s: 40 left at 30 s / 40 units,
 * 30 s. Skips never change the rate. */
static void test_progress_rate_of_cases_run_here(void **state)
{
    struct bf_progress p;

    (void)state;
    bf_progress_init(&p, 100);
    assert_true(bf_progress_left_s(&p) < 0); /* nothing timed yet */
    bf_progress_skip(&p, 20);
    assert_true(bf_progress_left_s(&p) < 0);
    bf_progress_done(&p, 10, 5000000000LL);
    assert_float_equal(bf_progress_left_s(&p), 35.0, 1e-9);
    bf_progress_done(&p, 30, 25000000000LL);
    assert_float_equal(bf_progress_left_s(&p), 30.0, 1e-9);
    bf_progress_skip(&p, 40);
    assert_float_equal(bf_progress_left_s(&p), 0.0, 1e-9);
    /* More passed than announced: nothing left, never negative. */
    bf_progress_skip(&p, 5);
    assert_float_equal(bf_progress_left_s(&p), 0.0, 1e-9);
}

static void test_progress_format(void **state)
{
    char text[32];

    (void)state;
    bf_progress_format(44.6, text, sizeof(text));
    assert_string_equal(text, "45 s");
    bf_progress_format(185, text, sizeof(text));
    assert_string_equal(text, "3 min 05 s");
    bf_progress_format(7620, text, sizeof(text));
    assert_string_equal(text, "2 h 07 min");
    bf_progress_format(-1, text, sizeof(text));
    assert_string_equal(text, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_rate_of_cases_run_here),
        cmocka_unit_test(test_progress_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
