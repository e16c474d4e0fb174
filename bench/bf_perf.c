/* bf_perf: inference latency and training throughput of the shim. */
#define _POSIX_C_SOURCE 200809L
#include "bf_perf.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_rng.h"
#include "bf_stats.h"
#include "bf_torch.h"
#include "bf_train.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Shared driver: warm-up, alternating rounds, lockstep serving */

/* Samples of one model and variant. */
struct series {
    double *ms;
    size_t n;
};

/*
 * One benchmark: n_models models times n_variants variants, and time(),
 * which runs iters of one model and variant and writes each run's duration
 * into ms[iters] (untimed when ms is NULL).
 */
struct suite {
    const char *const *models;
    size_t n_models;
    const char *const *variants;
    int n_variants;
    void *ctx;
    int (*time)(void *ctx, size_t model, int variant, int iters, double *ms);
    struct series *samples; /* n_models x n_variants, row-major */
};

static struct series *series_of(const struct suite *s, size_t model,
                                int variant)
{
    return &s->samples[model * (size_t)s->n_variants + (size_t)variant];
}

static void suite_samples_free(struct suite *s)
{
    if (!s->samples)
        return;
    for (size_t i = 0; i < s->n_models * (size_t)s->n_variants; i++)
        free(s->samples[i].ms);
    free(s->samples);
    s->samples = NULL;
}

static int series_append(struct series *se, const double *ms, int n)
{
    double *grown = realloc(se->ms, (se->n + (size_t)n) * sizeof(*grown));

    if (!grown)
        return bf_err_set(BF_ENOMEM, "benchmark samples");
    memcpy(grown + se->n, ms, (size_t)n * sizeof(*ms));
    se->ms = grown;
    se->n += (size_t)n;
    return 0;
}

static int find_name(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Serve "run MODEL VARIANT ITERS" lines until "quit" or end of input. */
static int serve(const struct bf_perf_params *p, const struct suite *s)
{
    char line[256];
    double *ms = NULL;
    int rc = 0;

    fprintf(p->out, "ready\n");
    fflush(p->out);
    while (fgets(line, sizeof(line), p->in)) {
        char model[64], variant[16];
        long iters;
        char *end;
        int mi, vi;

        if (strncmp(line, "quit", 4) == 0)
            break;
        if (sscanf(line, "run %63s %15s", model, variant) != 2) {
            fprintf(p->out, "error expected 'run MODEL VARIANT ITERS'\n");
            fflush(p->out);
            continue;
        }
        {
            const char *num = strrchr(line, ' ');

            errno = 0;
            iters = strtol(num ? num + 1 : "", &end, 10);
            if (errno || end == num + 1 || iters < 1 || iters > 100000) {
                fprintf(p->out, "error ITERS must be 1..100000\n");
                fflush(p->out);
                continue;
            }
        }
        mi = find_name(s->models, s->n_models, model);
        vi = find_name(s->variants, (size_t)s->n_variants, variant);
        if (mi < 0 || vi < 0) {
            fprintf(p->out, "error unknown model or variant '%s %s'\n", model,
                    variant);
            fflush(p->out);
            continue;
        }
        free(ms);
        ms = malloc((size_t)iters * sizeof(*ms));
        if (!ms) {
            rc = bf_err_set(BF_ENOMEM, "benchmark samples");
            break;
        }
        rc = s->time(s->ctx, (size_t)mi, vi, (int)iters, ms);
        if (rc) {
            bf_err_prefix(rc, "%s %s: ", model, variant);
            break;
        }
        fprintf(p->out, "times %s %s", model, variant);
        for (long i = 0; i < iters; i++)
            fprintf(p->out, " %.4f", ms[i]);
        fprintf(p->out, "\n");
        fflush(p->out);
    }
    free(ms);
    return rc;
}

/* Time p->rounds rounds of p->iters runs of every model and variant. */
static int measure(const struct bf_perf_params *p, const struct suite *s)
{
    double *ms = malloc((size_t)p->iters * sizeof(*ms));
    int rc = 0;

    if (!ms)
        return bf_err_set(BF_ENOMEM, "benchmark samples");
    for (int r = 0; r < p->rounds && rc == 0; r++) {
        for (size_t i = 0; i < s->n_models && rc == 0; i++) {
            for (int k = 0; k < s->n_variants && rc == 0; k++) {
                /* Rotate the variant order every round. */
                int v = (k + r) % s->n_variants;

                rc = s->time(s->ctx, i, v, p->iters, ms);
                if (rc)
                    bf_err_prefix(rc, "%s %s: ", s->models[i], s->variants[v]);
                else
                    rc = series_append(series_of(s, i, v), ms, p->iters);
            }
            bf_log_progress("bench: rounds", r + 1, p->rounds, s->models[i]);
        }
    }
    bf_log_progress_done();
    free(ms);
    return rc;
}

/*
 * Warm every model and variant up, then serve a lockstep driver or measure
 * into s->samples (allocated here; free with suite_samples_free).
 */
static int run_suite(const struct bf_perf_params *p, struct suite *s)
{
    int rc = 0;

    s->samples =
        calloc(s->n_models * (size_t)s->n_variants, sizeof(*s->samples));
    if (!s->samples)
        return bf_err_set(BF_ENOMEM, "benchmark samples");
    for (size_t i = 0; i < s->n_models && rc == 0; i++) {
        bf_log_progress("bench: warming up", (long)i, (long)s->n_models,
                        s->models[i]);
        for (int v = 0; v < s->n_variants && rc == 0; v++) {
            rc = s->time(s->ctx, i, v, p->warmup, NULL);
            if (rc)
                bf_err_prefix(rc, "%s %s: ", s->models[i], s->variants[v]);
        }
    }
    bf_log_progress_done();
    if (rc)
        return rc;
    return p->lockstep ? serve(p, s) : measure(p, s);
}

/* The report's first line: what was measured, on what. */
static void report_context(const struct bf_perf_params *p, const char *what)
{
    char backend[512];
    int threads = 0;

    bf_torch_get_threads(&threads);
    if (bf_torch_backend_info(backend, sizeof(backend)))
        snprintf(backend, sizeof(backend), "unknown");
    fprintf(p->out,
            "# bfbench bench: %s, %d threads, libtorch %s, %s; %d "
            "rounds x %d iterations, %d warm-up (measured:host:%s)\n",
            what, threads, bf_torch_version(), backend, p->rounds, p->iters,
            p->warmup, BF_CLOCK_NAME);
}

/* Move m to device (NULL or "cpu": stays). */
static int to_device(bf_model *m, const char *device)
{
    if (!device || strcmp(device, "cpu") == 0)
        return 0;
    return bf_model_to_device(m, device);
}

/* Name the model in an error detail unless the shim already did. */
static void prefix_model(int rc, const char *model)
{
    if (strncmp(bf_last_error(), model, strlen(model)) != 0)
        bf_err_prefix(rc, "%s: ", model);
}

/* Inference: batch-1 forwards on the selected paths */

#define N_PATHS 7

static const char *const path_names[N_PATHS] = {
    "plain",     "fold",         "fold-cl",     "fold-bf16",
    "fold-fp16", "fold-cl-bf16", "fold-cl-fp16"};
static const struct bf_infer_params path_params[N_PATHS] = {
    {.fold_bn = 0, .channels_last = 0},
    {.fold_bn = 1, .channels_last = 0},
    {.fold_bn = 1, .channels_last = 1},
    {.fold_bn = 1, .channels_last = 0, .precision = BF_PRECISION_BF16},
    {.fold_bn = 1, .channels_last = 0, .precision = BF_PRECISION_FP16},
    {.fold_bn = 1, .channels_last = 1, .precision = BF_PRECISION_BF16},
    {.fold_bn = 1, .channels_last = 1, .precision = BF_PRECISION_FP16},
};

const char *const bf_perf_default_paths = "plain,fold,fold-cl";

int bf_perf_path_names(char *out, size_t size)
{
    size_t used = 0;

    for (int i = 0; i < N_PATHS; i++) {
        int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                         path_names[i]);

        if (w < 0 || (size_t)w >= size - used)
            return bf_err_set(BF_ERANGE, "path names do not fit");
        used += (size_t)w;
    }
    return 0;
}

/* The selected paths: their names and parameters, in the listed order. */
struct path_set {
    const char *names[N_PATHS];
    struct bf_infer_params params[N_PATHS];
    int n;
    int plain; /* index of plain in the set, -1 when not selected */
};

/* Parse a comma-separated list of path names into set (BF_EINVAL naming
 * the unknown or repeated one and the choices). */
static int parse_paths(const char *list, struct path_set *set)
{
    char buf[256], *save = NULL;

    memset(set, 0, sizeof(*set));
    set->plain = -1;
    if (strlen(list) >= sizeof(buf))
        return bf_err_set(BF_EINVAL, "--paths: list too long");
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int k = find_name(path_names, N_PATHS, tok);
        char names[160];

        if (k < 0 || find_name(set->names, (size_t)set->n, tok) >= 0) {
            if (bf_perf_path_names(names, sizeof(names)))
                names[0] = '\0';
            return bf_err_set(BF_EINVAL, "--paths: %s path '%s' (paths: %s)",
                              k < 0 ? "unknown" : "repeated", tok, names);
        }
        if (k == 0)
            set->plain = set->n;
        set->names[set->n] = path_names[k];
        set->params[set->n++] = path_params[k];
    }
    if (set->n == 0)
        return bf_err_set(BF_EINVAL, "--paths: empty list");
    return 0;
}

int bf_perf_check_paths(const char *list)
{
    struct path_set set;

    return parse_paths(list, &set);
}

/* One model under test. */
struct infer_subject {
    bf_model *model;
    bf_tensor *input;
    int last_stage;
    double rel_diff[N_PATHS]; /* max |path - plain| / max |plain| */
};

/* The inference suite's context: the subjects and the paths. */
struct infer_ctx {
    struct infer_subject *subj;
    const struct path_set *paths;
};

static void infer_subjects_free(struct infer_subject *s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++) {
        bf_tensor_free(s[i].input);
        bf_model_free(s[i].model);
    }
    free(s);
}

/* suite.time for inference: iters forwards of one path. */
static int infer_time(void *ctx, size_t model, int path, int iters, double *out)
{
    const struct infer_ctx *ic = ctx;
    struct infer_subject *s = ic->subj + model;
    int rc = bf_model_set_inference(s->model, &ic->paths->params[path]);

    if (rc)
        return rc;
    for (int i = 0; i < iters; i++) {
        bf_tensor *y = NULL;
        int64_t t0 = bf_clock_now_ns();

        rc = bf_model_forward(s->model, s->input, 0, s->last_stage, &y);
        bf_tensor_free(y);
        /* A GPU queues: the forward is over once the device is done. */
        if (rc == 0)
            rc = bf_model_sync(s->model);
        if (rc)
            return rc;
        if (out)
            out[i] = (double)(bf_clock_now_ns() - t0) / 1e6;
    }
    return 0;
}

/* One forward of s on params; *out the output (caller frees). */
static int infer_once(struct infer_subject *s,
                      const struct bf_infer_params *params, bf_tensor **out)
{
    int rc = bf_model_set_inference(s->model, params);

    return rc ? rc
              : bf_model_forward(s->model, s->input, 0, s->last_stage, out);
}

/* Build one model and compare every path's output with plain's. */
static int infer_setup(struct infer_subject *s, const struct path_set *paths,
                       const char *name, int size_px, const char *device)
{
    struct bf_arch_info arch;
    struct bf_model_params mp = {.arch = name, .seed = 1};
    bf_tensor *ref = NULL, *zero = NULL;
    double ref_max = 0.0;
    int size, n_stages = 0;
    int rc;

    rc = bf_arch_find(name, &arch);
    if (rc)
        return rc;
    size = size_px ? size_px : arch.native_size_px;
    rc = bf_model_create(&mp, &s->model);
    if (rc == 0)
        rc = to_device(s->model, device);
    if (rc)
        return rc;
    rc = bf_model_stage_count(s->model, &n_stages);
    if (rc)
        return rc;
    s->last_stage = n_stages - 1;
    {
        int64_t shape[4] = {1, arch.in_channels, size, size};

        rc = bf_tensor_randn(shape, 4, 7, &s->input);
    }
    /* The reference: plain, whether or not it is timed. */
    if (rc == 0)
        rc = infer_once(s, &path_params[0], &ref);
    if (rc == 0) {
        int64_t shape[BF_TENSOR_MAX_DIMS];
        int nd = 0;

        rc = bf_tensor_shape(ref, shape, BF_TENSOR_MAX_DIMS, &nd);
        if (rc == 0)
            rc = bf_tensor_from_f32(shape, nd, NULL, &zero);
        if (rc == 0)
            rc = bf_tensor_max_abs_diff(ref, zero, &ref_max);
    }
    for (int p = 0; p < paths->n && rc == 0; p++) {
        bf_tensor *y = NULL;
        double d = 0.0;

        rc = infer_once(s, &paths->params[p], &y);
        if (rc)
            bf_err_prefix(rc, "%s: ", paths->names[p]);
        if (rc == 0)
            rc = bf_tensor_max_abs_diff(ref, y, &d);
        s->rel_diff[p] = ref_max > 0.0 ? d / ref_max : d;
        bf_tensor_free(y);
    }
    bf_tensor_free(zero);
    bf_tensor_free(ref);
    return rc;
}

static void infer_report(const struct bf_perf_params *p,
                         const struct infer_ctx *ic, const struct suite *s)
{
    const struct path_set *paths = ic->paths;

    report_context(p, "batch 1");
    fprintf(p->out, "%-16s %-13s %10s %10s %10s %9s %11s\n", "model", "path",
            "p50_ms", "mean_ms", "p90_ms", "vs_plain", "rel_diff");
    for (size_t i = 0; i < s->n_models; i++) {
        double plain_p50 = 0.0;
        struct bf_stats st;

        if (paths->plain >= 0) {
            const struct series *se = series_of(s, i, paths->plain);

            if (bf_stats_compute(se->ms, se->n, &st) == 0)
                plain_p50 = st.p50;
        }
        for (int path = 0; path < paths->n; path++) {
            const struct series *se = series_of(s, i, path);
            char vs[16] = "-";

            if (bf_stats_compute(se->ms, se->n, &st))
                continue;
            if (plain_p50 > 0.0)
                snprintf(vs, sizeof(vs), "%.3f", st.p50 / plain_p50);
            fprintf(p->out, "%-16s %-13s %10.3f %10.3f %10.3f %9s %11.2e\n",
                    s->models[i], paths->names[path], st.p50, st.mean, st.p90,
                    vs, ic->subj[i].rel_diff[path]);
        }
    }
}

static int run_infer(const struct bf_perf_params *p)
{
    struct path_set paths;
    struct infer_ctx ic = {.paths = &paths};
    struct suite s = {.models = p->models,
                      .n_models = p->n_models,
                      .variants = paths.names,
                      .ctx = &ic,
                      .time = infer_time};
    int rc = parse_paths(p->paths ? p->paths : bf_perf_default_paths, &paths);

    if (rc)
        return rc;
    s.n_variants = paths.n;
    ic.subj = calloc(p->n_models, sizeof(*ic.subj));
    if (!ic.subj)
        return bf_err_set(BF_ENOMEM, "benchmark state");
    for (size_t i = 0; i < p->n_models && rc == 0; i++) {
        bf_log_progress("bench: building", (long)i, (long)p->n_models,
                        p->models[i]);
        rc = infer_setup(&ic.subj[i], &paths, p->models[i], p->size_px,
                         p->device);
        if (rc)
            prefix_model(rc, p->models[i]);
    }
    bf_log_progress_done();
    if (rc == 0)
        rc = run_suite(p, &s);
    if (rc == 0 && !p->lockstep)
        infer_report(p, &ic, &s);
    suite_samples_free(&s);
    infer_subjects_free(ic.subj, p->n_models);
    return rc;
}

/* Training: BottleFit's stage 1 (GHND) and stage 2 (KD) steps */

enum { STEP_STAGE1, STEP_STAGE2, N_STEPS };

static const char *const step_names[N_STEPS] = {"stage1", "stage2"};

/* The steps are the phases of bf_train's "bottlefit" strategy: the same
 * frozen stages, optimizers and losses as a training run. */
static int step_phase(int n_stages, int k, struct bf_train_phase *out)
{
    struct bf_train_phase ph[2];
    size_t n = 0;
    int rc = bf_train_strategy("bottlefit", 1, n_stages, ph, &n);

    if (rc == 0)
        *out = ph[k];
    return rc;
}

/* One model under training: a teacher and a student per step kind, each
 * student with its own frozen stages and optimizer. */
struct train_subject {
    bf_model *teacher;
    bf_model *student[N_STEPS];
    bf_optim *optim[N_STEPS];
    struct bf_train_phase phase[N_STEPS];
    int64_t trainable[N_STEPS];
    int s_stages; /* student stages; the teacher has one more */
    bf_tensor *x; /* batch x C x H x W, standard normal */
    bf_tensor *y; /* batch labels, uniform over the classes */
};

static void train_subjects_free(struct train_subject *t, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < N_STEPS; k++) {
            bf_optim_free(t[i].optim[k]);
            bf_model_free(t[i].student[k]);
        }
        bf_model_free(t[i].teacher);
        bf_tensor_free(t[i].x);
        bf_tensor_free(t[i].y);
    }
    free(t);
}

/* One training step of kind k; frees everything it creates. */
static int train_step(struct train_subject *t, int k)
{
    long live = bf_torch_live_handles();
    bf_tensor *loss = NULL;
    int rc = bf_train_batch_loss(t->student[k], t->teacher, &t->phase[k], t->x,
                                 t->y, 1.0, 0.5, &loss);

    if (rc == 0)
        rc = bf_optim_zero_grad(t->optim[k]);
    if (rc == 0)
        rc = bf_tensor_backward(loss);
    if (rc == 0)
        rc = bf_optim_step(t->optim[k]);
    bf_tensor_free(loss);
    assert(bf_torch_live_handles() == live);
    (void)live;
    return rc;
}

/* suite.time for training: iters steps of one kind. */
static int train_time(void *ctx, size_t model, int k, int iters, double *out)
{
    struct train_subject *t = (struct train_subject *)ctx + model;

    for (int i = 0; i < iters; i++) {
        int64_t t0 = bf_clock_now_ns();
        int rc = train_step(t, k);

        if (rc == 0)
            rc = bf_model_sync(t->student[k]);
        if (rc)
            return rc;
        if (out)
            out[i] = (double)(bf_clock_now_ns() - t0) / 1e6;
    }
    return 0;
}

/* The student of step kind k: the teacher's architecture and weights (same
 * seed) with a bottleneck, its stages frozen as the kind says, train mode,
 * and its optimizer over what stays trainable. */
static int train_setup_student(struct train_subject *t, const char *name,
                               int channels, int k, const char *device)
{
    struct bf_model_params mp = {.arch = name, .seed = 1};
    struct bf_bottleneck_params bp = {.channels = channels};
    bf_model *s = NULL;
    int n = 0;
    int rc = bf_model_create(&mp, &s);

    if (rc)
        return rc;
    t->student[k] = s;
    rc = bf_model_inject_bottleneck(s, &bp);
    if (rc == 0)
        rc = to_device(s, device); /* before its optimizer */
    if (rc == 0)
        rc = bf_model_stage_count(s, &n);
    if (rc == 0 && (n < 4 || (t->s_stages && n != t->s_stages)))
        rc = bf_err_set(BF_ESHAPE, "student of %d stages", n);
    if (rc)
        return rc;
    t->s_stages = n;
    rc = step_phase(n, k, &t->phase[k]);
    if (rc == 0)
        rc = bf_model_freeze_stages(s, 0, n - 1, 1);
    if (rc == 0)
        rc = bf_model_freeze_stages(s, t->phase[k].train_first,
                                    t->phase[k].train_last, 0);
    if (rc == 0)
        rc = bf_model_set_train(s, 1);
    if (rc == 0)
        rc = bf_model_trainable_count(s, &t->trainable[k]);
    if (rc == 0)
        rc = bf_optim_create(
            s,
            &(struct bf_optim_params){.kind = t->phase[k].schedule.optimizer,
                                      .lr = t->phase[k].schedule.lr,
                                      .momentum = t->phase[k].schedule.momentum,
                                      .weight_decay =
                                          t->phase[k].schedule.weight_decay},
            &t->optim[k]);
    return rc;
}

/* Build the teacher, the students and the batch of one model. */
static int train_setup(struct train_subject *t, const char *name, int batch,
                       int channels, const char *device, int precision)
{
    struct bf_arch_info arch;
    struct bf_model_params mp = {.arch = name, .seed = 1};
    int64_t *labels = NULL;
    struct bf_rng rng;
    int t_stages = 0;
    int rc = bf_arch_find(name, &arch);

    if (rc == 0)
        rc = bf_model_create(&mp, &t->teacher);
    if (rc == 0)
        rc = to_device(t->teacher, device);
    if (rc == 0)
        rc = bf_model_set_autocast(t->teacher, precision);
    if (rc == 0)
        rc = bf_model_stage_count(t->teacher, &t_stages);
    for (int k = 0; k < N_STEPS && rc == 0; k++)
        rc = train_setup_student(t, name, channels, k, device);
    for (int k = 0; k < N_STEPS && rc == 0; k++)
        rc = bf_model_set_autocast(t->student[k], precision);
    if (rc == 0 && t_stages != t->s_stages + 1)
        rc = bf_err_set(BF_ESHAPE, "teacher of %d stages, student of %d",
                        t_stages, t->s_stages);
    if (rc)
        return rc;
    {
        int64_t shape[4] = {batch, arch.in_channels, arch.native_size_px,
                            arch.native_size_px};

        rc = bf_tensor_randn(shape, 4, 7, &t->x);
    }
    if (rc)
        return rc;
    labels = malloc((size_t)batch * sizeof(*labels));
    if (!labels)
        return bf_err_set(BF_ENOMEM, "labels of a batch of %d", batch);
    bf_rng_init(&rng, 1, 0);
    for (int i = 0; i < batch; i++)
        labels[i] = (int64_t)bf_rng_below(&rng, (uint64_t)arch.num_classes);
    {
        int64_t shape[1] = {batch};

        rc = bf_tensor_from_i64(shape, 1, labels, &t->y);
    }
    free(labels);
    return rc;
}

static void train_report(const struct bf_perf_params *p, int batch,
                         int channels, const struct train_subject *subj,
                         const struct suite *s)
{
    char what[128];

    snprintf(
        what, sizeof(what),
        "training steps, batch %d, bottleneck %d channels, %s", batch, channels,
        p->train_precision == BF_PRECISION_BF16 ? "bf16 autocast" : "fp32");
    report_context(p, what);
    fprintf(p->out, "%-16s %-8s %10s %10s %10s %10s %12s\n", "model", "step",
            "trainable", "p50_ms", "mean_ms", "p90_ms", "images_per_s");
    for (size_t i = 0; i < s->n_models; i++) {
        for (int k = 0; k < N_STEPS; k++) {
            const struct series *se = series_of(s, i, k);
            struct bf_stats st;

            if (bf_stats_compute(se->ms, se->n, &st))
                continue;
            fprintf(p->out, "%-16s %-8s %10lld %10.3f %10.3f %10.3f %12.1f\n",
                    s->models[i], step_names[k],
                    (long long)subj[i].trainable[k], st.p50, st.mean, st.p90,
                    (double)batch * 1e3 / st.p50);
        }
    }
}

static int run_train(const struct bf_perf_params *p)
{
    struct train_subject *subj = calloc(p->n_models, sizeof(*subj));
    struct suite s = {.models = p->models,
                      .n_models = p->n_models,
                      .variants = step_names,
                      .n_variants = N_STEPS,
                      .ctx = subj,
                      .time = train_time};
    int batch = p->batch ? p->batch : 64;
    int channels = p->channels ? p->channels : 2;
    int rc = 0;

    if (!subj)
        return bf_err_set(BF_ENOMEM, "benchmark state");
    for (size_t i = 0; i < p->n_models && rc == 0; i++) {
        bf_log_progress("bench: building", (long)i, (long)p->n_models,
                        p->models[i]);
        rc = train_setup(&subj[i], p->models[i], batch, channels, p->device,
                         p->train_precision);
        if (rc)
            prefix_model(rc, p->models[i]);
    }
    bf_log_progress_done();
    if (rc == 0)
        rc = run_suite(p, &s);
    if (rc == 0 && !p->lockstep)
        train_report(p, batch, channels, subj, &s);
    suite_samples_free(&s);
    train_subjects_free(subj, p->n_models);
    return rc;
}

int bf_perf_run(const struct bf_perf_params *p)
{
    int rc;

    if (!p || !p->models || p->n_models == 0 || !p->out ||
        (p->lockstep && !p->in) || p->iters < 1 || p->rounds < 1 ||
        p->warmup < 0 || p->batch < 0 || p->channels < 0)
        return bf_err_set(BF_EINVAL, "bf_perf_run: bad parameters");
    rc = bf_torch_set_threads(p->threads);
    if (rc)
        return rc;
    return p->train ? run_train(p) : run_infer(p);
}
