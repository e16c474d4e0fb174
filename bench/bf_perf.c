/* bf_perf: forward-latency benchmark of the shim's inference paths. */
#define _POSIX_C_SOURCE 200809L
#include "bf_perf.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_stats.h"
#include "bf_torch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define N_PATHS 3

static const char *const path_names[N_PATHS] = {"plain", "fold", "fold-cl"};
static const struct bf_infer_params path_params[N_PATHS] = {
    {.fold_bn = 0, .channels_last = 0},
    {.fold_bn = 1, .channels_last = 0},
    {.fold_bn = 1, .channels_last = 1},
};

/* One model under test and the samples of each path. */
struct subject {
    const char *name;
    bf_model *model;
    bf_tensor *input;
    int last_stage;
    double rel_diff[N_PATHS]; /* max |path - plain| / max |plain| */
    double *ms[N_PATHS];
    size_t n[N_PATHS];
};

static void subjects_free(struct subject *s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++) {
        bf_tensor_free(s[i].input);
        bf_model_free(s[i].model);
        for (int p = 0; p < N_PATHS; p++)
            free(s[i].ms[p]);
    }
    free(s);
}

/* Time iters forwards of path on s into out (untimed when out is NULL). */
static int time_path(struct subject *s, int path, int iters, double *out)
{
    int rc = bf_model_set_inference(s->model, &path_params[path]);

    if (rc)
        return rc;
    for (int i = 0; i < iters; i++) {
        bf_tensor *y = NULL;
        int64_t t0 = bf_clock_now_ns();

        rc = bf_model_forward(s->model, s->input, 0, s->last_stage, &y);
        bf_tensor_free(y);
        if (rc)
            return rc;
        if (out)
            out[i] = (double)(bf_clock_now_ns() - t0) / 1e6;
    }
    return 0;
}

static int setup_subject(struct subject *s, const char *name, int size_px,
                         int warmup)
{
    struct bf_arch_info arch;
    struct bf_model_params mp = {.arch = name, .seed = 1};
    bf_tensor *ref = NULL, *zero = NULL;
    double ref_max = 0.0;
    int size, n_stages = 0;
    int rc;

    s->name = name;
    rc = bf_arch_find(name, &arch);
    if (rc)
        return rc;
    size = size_px ? size_px : arch.native_size_px;
    rc = bf_model_create(&mp, &s->model);
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
    if (rc)
        return rc;
    for (int p = 0; p < N_PATHS && rc == 0; p++) {
        bf_tensor *y = NULL;

        rc = bf_model_set_inference(s->model, &path_params[p]);
        if (rc == 0)
            rc = bf_model_forward(s->model, s->input, 0, s->last_stage, &y);
        if (rc == 0 && p == 0) {
            int64_t shape[BF_TENSOR_MAX_DIMS];
            int nd = 0;

            ref = y;
            rc = bf_tensor_shape(ref, shape, BF_TENSOR_MAX_DIMS, &nd);
            if (rc == 0)
                rc = bf_tensor_from_f32(shape, nd, NULL, &zero);
            if (rc == 0)
                rc = bf_tensor_max_abs_diff(ref, zero, &ref_max);
        } else if (rc == 0) {
            double d = 0.0;

            rc = bf_tensor_max_abs_diff(ref, y, &d);
            s->rel_diff[p] = ref_max > 0.0 ? d / ref_max : d;
            bf_tensor_free(y);
        }
        if (rc == 0)
            rc = time_path(s, p, warmup, NULL);
    }
    bf_tensor_free(zero);
    bf_tensor_free(ref);
    return rc;
}

static int append(struct subject *s, int path, const double *ms, int n)
{
    double *grown =
        realloc(s->ms[path], (s->n[path] + (size_t)n) * sizeof(*grown));

    if (!grown)
        return bf_err_set(BF_ENOMEM, "benchmark samples");
    memcpy(grown + s->n[path], ms, (size_t)n * sizeof(*ms));
    s->ms[path] = grown;
    s->n[path] += (size_t)n;
    return 0;
}

static void report(const struct bf_perf_params *p, const struct subject *s,
                   size_t n)
{
    char backend[512];
    int threads = 0;

    bf_torch_get_threads(&threads);
    if (bf_torch_backend_info(backend, sizeof(backend)))
        snprintf(backend, sizeof(backend), "unknown");
    fprintf(p->out,
            "# bfbench bench: batch 1, %d threads, libtorch %s, %s; %d "
            "rounds x %d iterations, %d warm-up (measured:host:%s)\n",
            threads, bf_torch_version(), backend, p->rounds, p->iters,
            p->warmup, BF_CLOCK_NAME);
    fprintf(p->out, "%-16s %-8s %10s %10s %10s %9s %11s\n", "model", "path",
            "p50_ms", "mean_ms", "p90_ms", "vs_plain", "rel_diff");
    for (size_t i = 0; i < n; i++) {
        double plain_p50 = 0.0;

        for (int path = 0; path < N_PATHS; path++) {
            struct bf_stats st;

            if (bf_stats_compute(s[i].ms[path], s[i].n[path], &st))
                continue;
            if (path == 0)
                plain_p50 = st.p50;
            fprintf(p->out, "%-16s %-8s %10.3f %10.3f %10.3f %9.3f %11.2e\n",
                    s[i].name, path_names[path], st.p50, st.mean, st.p90,
                    st.p50 / plain_p50, s[i].rel_diff[path]);
        }
    }
}

static struct subject *find_subject(struct subject *s, size_t n,
                                    const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    return NULL;
}

static int find_path(const char *name)
{
    for (int p = 0; p < N_PATHS; p++)
        if (strcmp(path_names[p], name) == 0)
            return p;
    return -1;
}

/* Serve "run MODEL PATH ITERS" lines until "quit" or end of input. */
static int serve(const struct bf_perf_params *p, struct subject *s, size_t n)
{
    char line[256];
    double *ms = NULL;
    int rc = 0;

    fprintf(p->out, "ready\n");
    fflush(p->out);
    while (fgets(line, sizeof(line), p->in)) {
        char model[64], path[16];
        long iters;
        char *end;
        struct subject *subj;
        int pi;

        if (strncmp(line, "quit", 4) == 0)
            break;
        if (sscanf(line, "run %63s %15s", model, path) != 2) {
            fprintf(p->out, "error expected 'run MODEL PATH ITERS'\n");
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
        subj = find_subject(s, n, model);
        pi = find_path(path);
        if (!subj || pi < 0) {
            fprintf(p->out, "error unknown model or path '%s %s'\n", model,
                    path);
            fflush(p->out);
            continue;
        }
        free(ms);
        ms = malloc((size_t)iters * sizeof(*ms));
        if (!ms) {
            rc = bf_err_set(BF_ENOMEM, "benchmark samples");
            break;
        }
        rc = time_path(subj, pi, (int)iters, ms);
        if (rc)
            break;
        fprintf(p->out, "times %s %s", model, path);
        for (long i = 0; i < iters; i++)
            fprintf(p->out, " %.4f", ms[i]);
        fprintf(p->out, "\n");
        fflush(p->out);
    }
    free(ms);
    return rc;
}

int bf_perf_run(const struct bf_perf_params *p)
{
    struct subject *s;
    double *ms = NULL;
    int rc;

    if (!p || !p->models || p->n_models == 0 || !p->out ||
        (p->lockstep && !p->in))
        return bf_err_set(BF_EINVAL, "bf_perf_run: bad parameters");
    rc = bf_torch_set_threads(p->threads);
    if (rc)
        return rc;
    s = calloc(p->n_models, sizeof(*s));
    ms = malloc((size_t)(p->iters > 0 ? p->iters : 1) * sizeof(*ms));
    if (!s || !ms) {
        rc = bf_err_set(BF_ENOMEM, "benchmark state");
        goto out;
    }
    for (size_t i = 0; i < p->n_models; i++) {
        bf_log_progress("bench: building and warming up", (long)i,
                        (long)p->n_models, p->models[i]);
        rc = setup_subject(&s[i], p->models[i], p->size_px, p->warmup);
        if (rc) {
            bf_err_prefix(rc, "%s: ", p->models[i]);
            goto out;
        }
    }
    bf_log_progress_done();
    if (p->lockstep) {
        rc = serve(p, s, p->n_models);
        goto out;
    }
    for (int r = 0; r < p->rounds; r++) {
        for (size_t i = 0; i < p->n_models; i++) {
            for (int k = 0; k < N_PATHS; k++) {
                /* Rotate the path order every round. */
                int path = (k + r) % N_PATHS;

                rc = time_path(&s[i], path, p->iters, ms);
                if (rc == 0)
                    rc = append(&s[i], path, ms, p->iters);
                if (rc)
                    goto out;
            }
            bf_log_progress("bench: rounds", r + 1, p->rounds, s[i].name);
        }
    }
    bf_log_progress_done();
    report(p, s, p->n_models);
out:
    free(ms);
    subjects_free(s, p->n_models);
    return rc;
}
