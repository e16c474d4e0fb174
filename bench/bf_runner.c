/* bf_runner: runs scenario cases and hands records to a sink. */
#define _POSIX_C_SOURCE 200809L
#include "bf_runner.h"
#include "bf_runner_int.h"

#include "bf_artifact.h"
#include "bf_buf.h"
#include "bf_clock.h"
#include "bf_codec.h"
#include "bf_dataset.h"
#include "bf_devmodel.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_log.h"
#include "bf_offload.h"
#include "bf_probe.h"
#include "bf_split.h"
#include "bf_stats.h"
#include "bf_torch.h"
#include "bf_train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often the progress line is refreshed while timing. */
#define PROGRESS_EVERY_NS 250000000LL

/* Everything a case holds; released by case_state_free. */
struct case_state {
    bf_model *model;
    bf_tensor *input;
    int64_t *lat_ns;
    size_t n;
    int64_t in_h, in_w; /* input size, batch 1 only for device rows */
    int batch;
    struct bf_runner_power power;
};

static void case_state_free(struct case_state *cs)
{
    bf_tensor_free(cs->input);
    bf_model_free(cs->model);
    free(cs->lat_ns);
    memset(cs, 0, sizeof(*cs));
}

/* Build, load, describe and prepare the model of case c; fill row. */
static int prepare(const struct bf_case *c, const char *device, int threads,
                   struct case_state *cs, struct bf_case_row *row,
                   char *weights_hash)
{
    struct bf_arch_info arch;
    struct bf_stage_info stages[BF_MODEL_MAX_STAGES];
    struct bf_model_params mp = {.arch = c->model, .seed = c->seed};
    struct bf_infer_params ip = {.fold_bn = c->fold_bn,
                                 .channels_last = c->channels_last,
                                 .precision = bf_split_precision(c->precision)};
    int n_stages = 0;
    int size;
    int rc;

    rc = bf_arch_find(c->model, &arch);
    if (rc)
        return rc;
    size = c->input_size_px ? c->input_size_px : arch.native_size_px;
    row->input_channels = arch.in_channels;
    row->input_h = size;
    row->input_w = size;
    cs->in_h = size;
    cs->in_w = size;
    cs->batch = c->batch;
    rc = bf_model_create(&mp, &cs->model);
    if (rc)
        return rc;
    if (c->weights[0]) {
        rc = bf_artifact_verify(c->weights);
        if (rc == 0)
            rc = bf_hash_file(c->weights, weights_hash);
        if (rc)
            return rc;
        rc = bf_model_load(cs->model, c->weights);
        if (rc)
            return rc;
    }
    rc = bf_model_to_device(cs->model, device); /* cpu: nothing to do */
    if (rc)
        return rc;
    rc = bf_model_describe(cs->model, size, size, stages, BF_MODEL_MAX_STAGES,
                           &n_stages);
    if (rc)
        return rc;
    row->macs = 0;
    for (int i = 0; i < n_stages; i++)
        row->macs += stages[i].macs;
    rc = bf_model_param_count(cs->model, &row->params);
    if (rc)
        return rc;
    rc = bf_torch_set_threads(threads);
    if (rc)
        return rc;
    rc = bf_torch_get_threads(&row->threads);
    if (rc)
        return rc;
    rc = bf_model_set_inference(cs->model, &ip);
    if (rc)
        return rc;
    {
        int64_t shape[4] = {c->batch, arch.in_channels, size, size};

        rc =
            bf_tensor_randn(shape, 4, c->seed ^ (uint64_t)c->index, &cs->input);
    }
    return rc;
}

static int forward_once(struct case_state *cs, int last_stage)
{
    bf_tensor *out = NULL;
    int rc = bf_model_forward(cs->model, cs->input, 0, last_stage, &out);

    /* A GPU runs queued: the forward has taken its time once it is done. */
    if (rc == 0)
        rc = bf_model_sync(cs->model);
    bf_tensor_free(out);
    return rc;
}

/* Warm up, then time forwards until the scenario's stop rule is met. */
static int measure(const struct bf_runner_params *p, const struct bf_case *c,
                   struct case_state *cs, const char *label)
{
    const struct bf_scenario *sc = p->scenario;
    int64_t min_ns = sc->min_duration_ms * 1000000LL;
    int64_t start, last_progress = 0;
    size_t cap = (size_t)sc->min_samples;
    int n_stages = 0;
    int rc;

    rc = bf_model_stage_count(cs->model, &n_stages);
    if (rc)
        return rc;
    for (int i = 0; i < sc->warmup && !bf_runner_stop_requested(p); i++) {
        rc = forward_once(cs, n_stages - 1);
        if (rc)
            return rc;
    }
    cs->lat_ns = malloc(cap * sizeof(*cs->lat_ns));
    if (!cs->lat_ns)
        return bf_err_set(BF_ENOMEM, "%zu samples", cap);
    bf_runner_power_begin(p, &cs->power);
    start = bf_clock_now_ns();
    while (!bf_runner_stop_requested(p)) {
        int64_t t0, t1;

        if (cs->n >= (size_t)sc->max_samples)
            break;
        if (cs->n >= (size_t)sc->min_samples &&
            bf_clock_now_ns() - start >= min_ns)
            break;
        if (cs->n == cap) {
            size_t ncap = cap * 2;
            int64_t *grown = realloc(cs->lat_ns, ncap * sizeof(*grown));

            if (!grown)
                return bf_err_set(BF_ENOMEM, "%zu samples", ncap);
            cs->lat_ns = grown;
            cap = ncap;
        }
        t0 = bf_clock_now_ns();
        rc = forward_once(cs, n_stages - 1);
        t1 = bf_clock_now_ns();
        if (rc)
            return rc;
        cs->lat_ns[cs->n++] = t1 - t0;
        if (t1 - last_progress >= PROGRESS_EVERY_NS) {
            char detail[96];

            snprintf(detail, sizeof(detail), "%s %.2f ms last, %.1f s",
                     c->model, (double)(t1 - t0) / 1e6,
                     (double)(t1 - start) / 1e9);
            bf_log_progress(label, (long)cs->n, sc->min_samples, detail);
            last_progress = t1;
        }
    }
    bf_runner_power_end(p, &cs->power);
    bf_log_progress_done();
    return 0;
}

/* Device rows of a local case: the whole forward on each device. */
static int local_devices(const struct bf_runner_params *p, int64_t case_id,
                         const struct case_state *cs,
                         const struct bf_sample_row *rows)
{
    struct bf_devmodel_case dc = {.whole_forward = 1};
    struct bf_layer_info *layers = NULL;
    int n_stages = 0, rc;

    rc = bf_model_stage_count(cs->model, &n_stages);
    if (rc == 0)
        rc = bf_model_layers_alloc(cs->model, cs->in_h, cs->in_w, 0,
                                   n_stages - 1, &layers, &dc.n_head);
    if (rc) {
        bf_log_warn("case %lld: no device rows: %s", (long long)case_id,
                    bf_last_error());
        return 0;
    }
    dc.head = layers;
    rc = bf_runner_devices(p, case_id, &dc, &cs->power, rows, cs->n);
    free(layers);
    return rc;
}

/* Hand samples and the e2e aggregate of a measured case to the sink. */
static int emit(const struct bf_runner_params *p, int64_t case_id,
                const struct case_state *cs)
{
    const struct bf_runner_sink *sink = p->sink;
    struct bf_sample_row *rows;
    struct bf_aggregate_row agg = {
        .metric = "e2e", .unit = "ms", .method = BF_RUNNER_METHOD_HOST};
    double *ms;
    int rc;

    if (cs->n == 0)
        return 0;
    rows = calloc(cs->n, sizeof(*rows));
    ms = malloc(cs->n * sizeof(*ms));
    if (!rows || !ms) {
        rc = bf_err_set(BF_ENOMEM, "%zu sample rows", cs->n);
        goto out_free;
    }
    for (size_t i = 0; i < cs->n; i++) {
        rows[i] = (struct bf_sample_row){
            .seq = (int64_t)i,
            .e2e_ns = cs->lat_ns[i],
            .head_ns = -1,
            .encode_ns = -1,
            .transfer_ns = -1,
            .server_queue_ns = -1,
            .server_decode_ns = -1,
            .tail_ns = -1,
            .reply_ns = -1,
            .bytes_up = -1,
            .bytes_down = -1,
        };
        ms[i] = (double)cs->lat_ns[i] / 1e6;
    }
    rc = sink->samples(sink->ctx, case_id, rows, cs->n);
    if (rc)
        goto out_free;
    rc = bf_stats_compute(ms, cs->n, &agg.stats);
    if (rc)
        goto out_free;
    rc = sink->aggregates(sink->ctx, case_id, &agg, 1);
    if (rc)
        goto out_free;
    bf_log_info("  n=%zu mean %.3f ms p50 %.3f p90 %.3f p99 %.3f", cs->n,
                agg.stats.mean, agg.stats.p50, agg.stats.p90, agg.stats.p99);
    /* Device models apply to one image at a time. */
    if (cs->batch == 1 && bf_devmodel_count(p->devmodel))
        rc = local_devices(p, case_id, cs, rows);
out_free:
    free(ms);
    free(rows);
    return rc;
}

/*
 * Run one case. Returns 0 when the case was recorded (finished or failed),
 * BF_EINTR when stopped, or a sink error.
 */
static int run_case(const struct bf_runner_params *p, const struct bf_case *c,
                    struct bf_runner_result *result)
{
    const struct bf_scenario *sc = p->scenario;
    struct case_state cs = {0};
    char weights_hash[BF_HASH_HEX_SIZE] = "";
    char label[64], msg[BF_ERR_DETAIL_MAX];
    int threads = p->threads_override >= 0 ? p->threads_override : c->threads;
    struct bf_case_row row = {
        .case_index = c->index,
        .case_hash = c->hash,
        .config = c->config,
        .model = c->model,
        .weights = c->weights[0] ? c->weights : "random",
        .weights_sha256 = weights_hash,
        .batch = c->batch,
        .threads = threads,
        .fold_bn = c->fold_bn,
        .channels_last = c->channels_last,
        .precision = c->precision,
        .device = sc->device,
        .warmup = sc->warmup,
        .seeded = 1,
        .seed = c->seed,
    };
    int64_t case_id = 0;
    int rc, case_rc;

    snprintf(label, sizeof(label), "case %d/%zu", c->index + 1, sc->n_cases);
    bf_err_clear();
    case_rc = prepare(c, sc->device, threads, &cs, &row, weights_hash);
    rc = bf_runner_case_begin(p, &row, &case_id);
    if (rc)
        goto out;
    if (case_rc == 0)
        case_rc = measure(p, c, &cs, label);
    if (case_rc) {
        snprintf(msg, sizeof(msg), "%s", bf_last_error());
        bf_log_error("%s %s: %s", label, c->model, msg);
    }
    rc = emit(p, case_id, &cs);
    if (rc == 0)
        rc = bf_runner_case_end(p, case_id, case_rc ? msg : NULL, result);
out:
    case_state_free(&cs);
    return rc;
}

int bf_runner_run(const struct bf_runner_params *params,
                  struct bf_runner_result *result)
{
    const struct bf_scenario *sc;
    struct bf_runner_result r = {0};
    char *resumed; /* per case: complete before this run resumed */
    char rounds[32] = "";
    int rc = 0;

    if (!params || !params->scenario || !params->sink || !result)
        return bf_err_set(BF_EINVAL, "bf_runner_run: NULL argument");
    sc = params->scenario;
    if (sc->task == BF_TASK_TRAIN) {
        rc = bf_runner_train_cases(params, &r);
        *result = r;
        if (rc == 0 && bf_runner_stop_requested(params))
            rc = bf_err_set(BF_EINTR, "run interrupted");
        return rc;
    }
    /* Rounds over every case: repetitions spread in time, so that a slow
     * spell of the machine touches few of any case's rounds. A resumed run
     * skips, in every round, the cases complete before it. */
    resumed = calloc(sc->n_cases ? sc->n_cases : 1, 1);
    if (!resumed)
        return bf_err_set(BF_ENOMEM, "%zu cases", sc->n_cases);
    for (int round = 0; rc == 0 && round < sc->repetitions; round++) {
        for (size_t i = 0; i < sc->n_cases; i++) {
            const struct bf_case *c = &sc->cases[i];
            int done = 0;

            if (bf_runner_stop_requested(params))
                break;
            if (round == 0) {
                if ((rc = bf_runner_case_done(params, c->hash, &done)))
                    break;
                resumed[i] = (char)done;
                r.resumed += done == 1;
                r.elsewhere += done == 2;
                r.other_shards += done == 3;
                if (done == 2)
                    bf_log_info("case %zu/%zu: run by another process", i + 1,
                                sc->n_cases);
            }
            if (resumed[i])
                continue;
            if (sc->repetitions > 1)
                snprintf(rounds, sizeof(rounds), ", round %d/%d", round + 1,
                         sc->repetitions);
            bf_log_info("case %zu/%zu%s: %s %s batch %d threads %d fold_bn %d "
                        "channels_last %d precision %s",
                        i + 1, sc->n_cases, rounds, c->config, c->model,
                        c->batch,
                        params->threads_override >= 0 ? params->threads_override
                                                      : c->threads,
                        c->fold_bn, c->channels_last, c->precision);
            rc = bf_offload_applies(sc, c) ? bf_offload_run_case(params, c, &r)
                                           : run_case(params, c, &r);
            if (rc)
                break;
        }
        if (bf_runner_stop_requested(params))
            break;
    }
    free(resumed);
    *result = r;
    if (rc == 0 && bf_runner_stop_requested(params))
        rc = bf_err_set(BF_EINTR, "run interrupted");
    return rc;
}
