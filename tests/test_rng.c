/* Tests of bf_rng: determinism, stream independence, ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_rng.h"

static void test_rng_same_seed_same_stream(void **state)
{
    struct bf_rng a, b, c;
    int differ = 0;

    (void)state;
    bf_rng_init(&a, 42, 0);
    bf_rng_init(&b, 42, 0);
    bf_rng_init(&c, 42, 1);
    for (int i = 0; i < 100; i++) {
        uint64_t x = bf_rng_next(&a);

        assert_int_equal(x, bf_rng_next(&b));
        differ += x != bf_rng_next(&c);
    }
    assert_int_equal(differ, 100);
}

static void test_rng_ranges(void **state)
{
    struct bf_rng r;
    int hist[7] = {0};

    (void)state;
    bf_rng_init(&r, 1, 0);
    for (int i = 0; i < 70000; i++) {
        double u = bf_rng_uniform(&r);
        uint64_t k = bf_rng_below(&r, 7);

        assert_true(u >= 0.0 && u < 1.0);
        assert_true(k < 7);
        hist[k]++;
    }
    for (int k = 0; k < 7; k++)
        assert_true(hist[k] > 9000 && hist[k] < 11000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_same_seed_same_stream),
        cmocka_unit_test(test_rng_ranges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
