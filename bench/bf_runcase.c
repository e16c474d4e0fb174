/* bf_runcase: case plumbing shared by the runners and offloaded cases. */
#define _POSIX_C_SOURCE 200809L
#include "bf_runcase.h"

#include "bf_devmodel.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_runner_int.h"
#include "bf_torch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bf_runner_stop_requested(const struct bf_runner_params *p)
{
    return p->stop && *p->stop;
}

void bf_runner_power_begin(const struct bf_runner_params *p,
                           struct bf_runner_power *pw)
{
    memset(pw, 0, sizeof(*pw));
    if (!p->probe)
        return;
    if (bf_probe_window_begin(p->probe, &pw->window) == 0)
        pw->have = 1;
}

void bf_runner_power_end(const struct bf_runner_params *p,
                         struct bf_runner_power *pw)
{
    struct bf_probe_reading r = {0};

    if (!pw->have)
        return;
    if (bf_probe_window_end(p->probe, &pw->window, &r) != 0 ||
        r.covered_ms <= 0) {
        pw->have = 0;
        bf_log_warn("power probe: no reading over the case: %s",
                    r.note[0] ? r.note : "no samples");
        return;
    }
    pw->window_ms = r.duration_ms;
    /* A partial window: the mean power of its valid part. */
    pw->energy_mj = r.avg_power_mw * r.duration_ms / 1e3;
    snprintf(pw->method, sizeof(pw->method), "measured:%s%s%s%s",
             bf_probe_describe(p->probe), r.status ? " (partial: " : "",
             r.status ? r.note : "", r.status ? ")" : "");
    if (r.status)
        bf_log_warn("power probe: %s", r.note);
}

int bf_runner_devices(const struct bf_runner_params *p, int64_t case_id,
                      struct bf_devmodel_case *dc,
                      const struct bf_runner_power *pw,
                      const struct bf_sample_row *rows, size_t n)
{
    struct bf_device_row *out;
    size_t count = bf_devmodel_count(p->devmodel);
    int rc;

    if (!count || !p->sink->devices || n == 0)
        return 0;
    dc->probe_energy_mj = pw && pw->have ? pw->energy_mj : -1;
    dc->probe_window_ms = pw && pw->have ? pw->window_ms : 0;
    dc->probe_method = pw && pw->have ? pw->method : NULL;
    out = calloc(count, sizeof(*out));
    if (!out)
        return bf_err_set(BF_ENOMEM, "device rows");
    /* A model that cannot be applied loses no measurement: warn only. */
    rc = bf_devmodel_case(p->devmodel, dc, rows, n, out);
    if (rc) {
        bf_log_warn("case %lld: device models: %s", (long long)case_id,
                    bf_last_error());
        rc = 0;
    } else {
        rc = p->sink->devices(p->sink->ctx, case_id, out, count);
    }
    free(out);
    return rc;
}

/* The scenario's device when it is a GPU, else NULL. */
static const char *gpu_of(const struct bf_runner_params *p)
{
    const char *d = p->scenario ? p->scenario->device : NULL;

    return d && d[0] && strcmp(d, "cpu") != 0 ? d : NULL;
}

int bf_runner_case_begin(const struct bf_runner_params *p,
                         const struct bf_case_row *row, int64_t *case_id)
{
    const char *gpu = gpu_of(p);
    int64_t bytes;

    /* Reading with reset starts the interval; a failure here only costs
     * the case its peak (the case itself reports what failed). */
    if (gpu && bf_torch_peak_memory(gpu, 1, &bytes) != 0)
        bf_log_warn("peak memory on %s: %s", gpu, bf_last_error());
    return p->sink->case_begin(p->sink->ctx, row, case_id);
}

int bf_runner_case_finish(const struct bf_runner_params *p, int64_t case_id,
                          const char *status, const char *error)
{
    const struct bf_runner_sink *sink = p->sink;
    const char *gpu = gpu_of(p);
    int64_t bytes = -1;

    if (gpu && strcmp(status, "skipped") != 0 && sink->aggregates) {
        if (bf_torch_peak_memory(gpu, 0, &bytes) != 0) {
            bf_log_warn("case %lld: no peak memory on %s: %s",
                        (long long)case_id, gpu, bf_last_error());
        } else if (bytes >= 0) {
            char method[96];
            double mib = (double)bytes / (1024.0 * 1024.0);
            struct bf_aggregate_row agg = {
                .metric = "peak_device_memory",
                .unit = "MiB",
                .method = method,
                .stats = {.n = 1,
                          .mean = mib,
                          .min = mib,
                          .p50 = mib,
                          .p90 = mib,
                          .p99 = mib,
                          .max = mib},
            };
            int rc;

            snprintf(method, sizeof(method),
                     "measured:%s:caching-allocator-peak", gpu);
            rc = sink->aggregates(sink->ctx, case_id, &agg, 1);
            if (rc)
                return rc;
            bf_log_info("case %lld: peak %.1f MiB on %s", (long long)case_id,
                        mib, gpu);
        }
    }
    return sink->case_end(sink->ctx, case_id, status, error);
}

int bf_runner_case_end(const struct bf_runner_params *p, int64_t case_id,
                       const char *error, struct bf_runner_result *result)
{
    if (error || bf_runner_stop_requested(p)) {
        result->failed++;
        return bf_runner_case_finish(p, case_id, "failed",
                                     error ? error : "interrupted");
    }
    result->finished++;
    return bf_runner_case_finish(p, case_id, "finished", NULL);
}

int bf_runner_case_done(const struct bf_runner_params *params,
                        const char *case_hash, int *done)
{
    *done = 0;
    if (!params->sink->complete)
        return 0;
    return params->sink->complete(params->sink->ctx, case_hash, done);
}
