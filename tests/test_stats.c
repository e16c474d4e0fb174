/* Tests of bf_stats: mean, deviation and interpolated percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_err.h"
#include "bf_stats.h"

static void test_stats_known_values(void **state)
{
    const double v[] = {4, 1, 3, 2};
    struct bf_stats s;

    (void)state;
    assert_int_equal(bf_stats_compute(v, 4, &s), 0);
    assert_int_equal(s.n, 4);
    assert_float_equal(s.mean, 2.5, 1e-12);
    assert_float_equal(s.p50, 2.5, 1e-12);
    assert_float_equal(s.p90, 3.7, 1e-12);
    assert_float_equal(s.p99, 3.97, 1e-12);
    assert_float_equal(s.min, 1.0, 0.0);
    assert_float_equal(s.max, 4.0, 0.0);
    assert_float_equal(s.stddev, 1.2909944487358056, 1e-12);
    /* The input is not reordered. */
    assert_float_equal(v[0], 4.0, 0.0);
}

static void test_stats_single_and_empty(void **state)
{
    const double v[] = {7.0};
    struct bf_stats s;

    (void)state;
    assert_int_equal(bf_stats_compute(v, 1, &s), 0);
    assert_float_equal(s.p99, 7.0, 0.0);
    assert_float_equal(s.stddev, 0.0, 0.0);
    assert_int_equal(bf_stats_compute(v, 0, &s), BF_EINVAL);
}

static void test_stats_percentile_of_hundred(void **state)
{
    double v[101];
    struct bf_stats s;

    (void)state;
    for (int i = 0; i <= 100; i++)
        v[i] = 100 - i;
    assert_int_equal(bf_stats_compute(v, 101, &s), 0);
    assert_float_equal(s.p90, 90.0, 1e-12);
    assert_float_equal(s.p99, 99.0, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_known_values),
        cmocka_unit_test(test_stats_single_and_empty),
        cmocka_unit_test(test_stats_percentile_of_hundred),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
