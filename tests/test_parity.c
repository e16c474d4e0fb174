/*
 * Parity with torchvision: random-initialised torchvision resnet18,
 * densenet121, mobilenet_v2, alexnet, vgg11_bn and squeezenet1_1
 * (BatchNorm statistics and convolution and linear biases perturbed) are
 * exported by scripts/export_torchvision.py together with a sample input
 * and torchvision's logits; the shim loads the weights by name and must
 * reproduce the logits within 1e-4 on the plain and the folded path. The
 * exported files (about 530 MB for vgg11_bn) are removed after each check.
 *
 * Needs Debian's python3-torchvision (/usr/bin/python3). Where it is
 * absent the binary says so and exits 77, which ctest reports as skipped.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_torch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

static char tmpdir[256];

static int have_torchvision(void)
{
    return access(PYTHON, X_OK) == 0 &&
           system(PYTHON " -c 'import torchvision' >/dev/null 2>&1") == 0;
}

static void check_arch(const char *arch)
{
    char cmd[2048], weights[300], sample[300];
    struct bf_model_params mp = {.arch = arch, .seed = 99};
    bf_model *m = NULL;
    bf_tensor *x = NULL, *want = NULL;
    int n = 0;

    snprintf(weights, sizeof(weights), "%s/%s.bfw", tmpdir, arch);
    snprintf(sample, sizeof(sample), "%s/%s.io.bfw", tmpdir, arch);
    snprintf(cmd, sizeof(cmd),
             PYTHON " '%s/scripts/export_torchvision.py' --arch %s --random "
                    "--seed 5 --size 96 --out '%s' --sample '%s' >/dev/null",
             BF_SOURCE_DIR, arch, weights, sample);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(bf_model_create(&mp, &m), 0);
    if (bf_model_load(m, weights))
        fail_msg("%s: %s", arch, bf_last_error());
    assert_int_equal(bf_tensor_load(sample, "input", &x), 0);
    assert_int_equal(bf_tensor_load(sample, "logits", &want), 0);
    assert_int_equal(bf_model_stage_count(m, &n), 0);
    for (int fold = 0; fold <= 1; fold++) {
        struct bf_infer_params ip = {.fold_bn = fold};
        bf_tensor *got = NULL;
        double d = -1;

        assert_int_equal(bf_model_set_inference(m, &ip), 0);
        assert_int_equal(bf_model_forward(m, x, 0, n - 1, &got), 0);
        assert_int_equal(bf_tensor_max_abs_diff(got, want, &d), 0);
        print_message("%s fold_bn=%d: max |logit - torchvision| = %.3g\n", arch,
                      fold, d);
        if (!(d <= 1e-4))
            fail_msg("%s fold_bn=%d differs from torchvision by %g", arch, fold,
                     d);
        bf_tensor_free(got);
    }
    bf_tensor_free(x);
    bf_tensor_free(want);
    bf_model_free(m);
    unlink(weights);
    unlink(sample);
    assert_int_equal(bf_torch_live_handles(), 0);
}

static void test_parity_resnet18(void **state)
{
    (void)state;
    check_arch("resnet18");
}

static void test_parity_densenet121(void **state)
{
    (void)state;
    check_arch("densenet121");
}

static void test_parity_mobilenet_v2(void **state)
{
    (void)state;
    check_arch("mobilenet_v2");
}

static void test_parity_alexnet(void **state)
{
    (void)state;
    check_arch("alexnet");
}

static void test_parity_vgg11_bn(void **state)
{
    (void)state;
    check_arch("vgg11_bn");
}

static void test_parity_squeezenet1_1(void **state)
{
    (void)state;
    check_arch("squeezenet1_1");
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bf_test_parity.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return bf_torch_set_threads(2);
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parity_resnet18),
        cmocka_unit_test(test_parity_densenet121),
        cmocka_unit_test(test_parity_mobilenet_v2),
        cmocka_unit_test(test_parity_alexnet),
        cmocka_unit_test(test_parity_vgg11_bn),
        cmocka_unit_test(test_parity_squeezenet1_1),
    };

    if (!have_torchvision()) {
        printf("SKIPPED: parity with torchvision needs Debian's "
               "python3-torchvision at " PYTHON "\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
