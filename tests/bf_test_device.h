/*
 * bf_test_device: the compute device of the tests that exercise the shim,
 * training and the edge server: BF_TEST_DEVICE ("cuda:0"; cpu when unset
 * or empty). scripts/gpu-check.sh sets it on a GPU machine; CI runs on the
 * CPU. A device that is not there fails the test that asks for it.
 */
#ifndef BF_TEST_DEVICE_H
#define BF_TEST_DEVICE_H

#include "bf_torch.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static inline const char *bf_test_device(void)
{
    const char *d = getenv("BF_TEST_DEVICE");

    return d && d[0] ? d : "cpu";
}

/* Move m to the test device (nothing to do on the CPU). */
static inline void bf_test_to_device(bf_model *m)
{
    const char *d = bf_test_device();

    if (strcmp(d, "cpu") != 0 && bf_model_to_device(m, d) != 0)
        fail_msg("BF_TEST_DEVICE=%s: %s", d, bf_last_error());
}

/* Say where the tests compute, once, on stderr. */
static inline void bf_test_device_banner(const char *suite)
{
    fprintf(stderr, "%s: models on device %s (BF_TEST_DEVICE)\n", suite,
            bf_test_device());
}

#endif /* BF_TEST_DEVICE_H */
