/*
 * Compiled with -std=c11 -pedantic-errors as part of the test build: the
 * shim's public header must be plain C with no torch header behind it.
 */
#include "bf_torch.h"

int bf_header_check(void);

int bf_header_check(void)
{
    struct bf_stage_info info = {0};
    bf_model *model = 0;
    bf_tensor *tensor = 0;

    bf_model_free(model);
    bf_tensor_free(tensor);
    return info.out_ndim + BF_TENSOR_MAX_DIMS;
}
