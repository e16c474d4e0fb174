/*
 * bfbench calibrate: a device profile's latency model fitted to its
 * calibration points, printed with its errors and stored in the DB.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_device.h"
#include "bf_devmodel.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_runner.h"
#include "bf_store.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void calibrate_help(void)
{
    printf("usage: bfbench calibrate PROFILE [--db PATH] [--threads N] "
           "[--warmup N] [--iters N]\n"
           "                         [--no-store]\n"
           "\n"
           "Fit PROFILE's per-layer latency model (a name in "
           "scenarios/devices/ or a path)\n"
           "to its calibration points: published latencies, or points "
           "marked 'measure: true'\n"
           "which are timed here (batch 1, folded inference path). Prints "
           "every point's\n"
           "measured and predicted time, the leave-one-out prediction (each "
           "point predicted\n"
           "by a fit to the others), the fitted parameters and the "
           "predicted local-computing\n"
           "latency of the paper's models; stores the fit and its residuals "
           "in the DB.\n"
           "Layer lists come from the cache of 'bfbench run --help'.\n"
           "\n"
           "  --db PATH      results DB (default " BF_CLI_DEFAULT_DB ")\n"
           "  --threads N    intra-op threads for measured points (default: "
           "online cores)\n"
           "  --warmup N     untimed forwards per measured point (default "
           "3)\n"
           "  --iters N      timed forwards per measured point, median "
           "(default 10)\n"
           "  --no-store     print only\n");
}

static void calibrate_progress(void *ctx, size_t i, size_t n, const char *model)
{
    (void)ctx;
    bf_log_progress("calibrate", (long)i, (long)n, model);
}

/* "conv_gmacs,bandwidth_gbs" for a fit mask. */
static void fitted_names(unsigned mask, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; i < BF_DEVICE_PARAMS; i++)
        if ((mask >> i) & 1u) {
            int k = snprintf(out + used, size - used, "%s%s", used ? "," : "",
                             bf_device_param_name(i));
            if (k < 0 || (size_t)k >= size - used)
                break;
            used += (size_t)k;
        }
}

static void print_calibration(const struct bf_device_profile *pr,
                              const struct bf_devmodel_calibration *cal,
                              const char *cache_dir)
{
    static const char *const paper[] = {"resnet152", "densenet169",
                                        "densenet201"};
    char fitted[128];

    fitted_names(pr->latency.fit_mask, fitted, sizeof(fitted));
    printf("calibration of %s (%s): runtime %s, %s per-layer model, fitted: "
           "%s\n",
           pr->name, pr->path, pr->runtime,
           pr->latency.form == BF_DEVICE_ADDITIVE ? "additive" : "roofline",
           fitted[0] ? fitted : "nothing (the profile's numbers)");
    printf("%-17s %5s %7s %6s %11s %9s %7s %9s %7s  %s\n", "model", "px",
           "GMACs", "layers", "measured_ms", "fit_ms", "fit_%", "loo_ms",
           "loo_%", "source");
    for (size_t i = 0; i < cal->n_points; i++) {
        const struct bf_devmodel_point_result *r = &cal->points[i];
        const struct bf_device_point *pt = &pr->points[i];

        printf("%-17s %5d %7.3f %6zu %11.2f %9.2f %+7.1f %9.2f %+7.1f  %s\n",
               pt->model, pt->input_px, (double)r->macs / 1e9, r->n_layers,
               r->measured_ms, r->predicted_ms,
               (r->predicted_ms / r->measured_ms - 1) * 100, r->loo_ms,
               (r->loo_ms / r->measured_ms - 1) * 100,
               pt->measure ? "measured here" : pt->source);
    }
    printf("parameters:");
    for (int i = 0; i < BF_DEVICE_PARAMS; i++)
        printf(" %s %.4g%s", bf_device_param_name(i), cal->fit.value[i],
               (pr->latency.fit_mask >> i) & 1u ? "" : " (profile)");
    printf("\n");
    if (cal->n_points == 0)
        printf("no calibration points: nothing fitted, no errors to report\n");
    else
        printf("fit RMS error %.1f %%; leave-one-out mean |error| %.1f %%, max "
               "%.1f %% (%zu points)\n",
               cal->fit_rms_pct, cal->loo_mean_abs_pct, cal->loo_max_abs_pct,
               cal->n_points);
    if (cal->error.factor > 0) {
        double lo, hi;

        bf_device_interval(&cal->error, 1.0, &lo, &hi);
        printf("90 %% prediction interval of a modeled time t: t x %.3f to t "
               "x %.3f (%s)\n",
               lo, hi,
               cal->error.stated
                   ? "stated in the profile: latency.interval_log_sd"
                   : "log(measured / leave-one-out) mean and sd, Student t");
    } else {
        printf("no prediction interval: under 3 fitted points and no "
               "latency.interval_log_sd\n");
    }
    printf("predicted local computing, batch 1, 224x224 (modeled):");
    for (size_t i = 0; i < sizeof(paper) / sizeof(paper[0]); i++) {
        struct bf_layer_info *layers = NULL;
        size_t n = 0;

        if (bf_devmodel_arch_layers_cached(cache_dir, paper[i], 224, &layers,
                                           &n) == 0)
            printf(" %s %.1f ms", paper[i],
                   bf_device_predict_ms(&cal->fit, layers, n));
        free(layers);
    }
    printf("\n");
}

int bf_cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"iters", required_argument, NULL, 'i'},
        {"no-store", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = BF_CLI_DEFAULT_DB;
    const char *dirs[] = {"scenarios/devices",
                          BF_SOURCE_DIR "/scenarios/devices"};
    struct bf_devmodel_calibrate_params cp = {
        .threads = 0, .warmup = 3, .iters = 10, .progress = calibrate_progress};
    struct bf_device_profile *pr = NULL;
    struct bf_devmodel_calibration *cal = NULL;
    struct bf_store *store = NULL;
    char cache[1024];
    int c, rc, no_store = 0, code = EXIT_OK;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if ((rc = parse_db("calibrate", optarg, &db)))
                return rc;
            break;
        case 't':
            if ((rc = parse_int("calibrate", "--threads", optarg, 0, 1024,
                                &cp.threads)))
                return rc;
            break;
        case 'w':
            if ((rc = parse_int("calibrate", "--warmup", optarg, 0, 10000,
                                &cp.warmup)))
                return rc;
            break;
        case 'i':
            if ((rc = parse_int("calibrate", "--iters", optarg, 1, 100000,
                                &cp.iters)))
                return rc;
            break;
        case 'n':
            no_store = 1;
            break;
        case 'h':
            calibrate_help();
            return EXIT_OK;
        default:
            return usage_error("calibrate", "unknown option");
        }
    }
    if (optind != argc - 1)
        return usage_error("calibrate", optind >= argc
                                            ? "missing PROFILE"
                                            : "exactly one PROFILE expected");
    rc = bf_device_profile_open(argv[optind], dirs, 2, &pr);
    if (rc) {
        error_exit(rc);
        return EXIT_INPUT;
    }
    cal = calloc(1, sizeof(*cal));
    if (!cal) {
        code = error_exit(BF_ENOMEM);
        goto out;
    }
    cp.layer_cache_dir = layer_cache_dir(cache, sizeof(cache));
    rc = bf_devmodel_calibrate(pr, &cp, cal);
    bf_log_progress_done();
    if (rc) {
        code = error_exit(rc);
        goto out;
    }
    print_calibration(pr, cal, cp.layer_cache_dir);
    if (!no_store) {
        struct bf_calibration_point_row pts[BF_DEVICE_POINTS_MAX];
        struct bf_calibration_row row = {
            .profile = pr->name,
            .profile_path = pr->path,
            .form = pr->latency.form == BF_DEVICE_ADDITIVE ? "additive"
                                                           : "roofline",
            .runtime = pr->runtime,
            .interval_log_mean =
                cal->error.factor > 0 ? cal->error.log_mean : NAN,
            .interval_log_sd = cal->error.factor > 0 ? cal->error.log_sd : NAN,
            .interval_factor = cal->error.factor > 0 ? cal->error.factor : NAN,
            .fit_rms_pct = cal->fit_rms_pct,
            .loo_mean_abs_pct = cal->loo_mean_abs_pct,
            .loo_max_abs_pct = cal->loo_max_abs_pct};
        char fitted[128];
        int64_t id = 0;

        fitted_names(pr->latency.fit_mask, fitted, sizeof(fitted));
        row.fitted = fitted;
        for (int i = 0; i < BF_DEVICE_PARAMS; i++)
            row.value[i] = cal->fit.value[i];
        for (size_t i = 0; i < cal->n_points; i++)
            pts[i] = (struct bf_calibration_point_row){
                .model = pr->points[i].model,
                .input_px = pr->points[i].input_px,
                .macs = cal->points[i].macs,
                .layers = (int64_t)cal->points[i].n_layers,
                .measured_ms = cal->points[i].measured_ms,
                .method = pr->points[i].measure ? BF_RUNNER_METHOD_HOST
                                                : pr->points[i].source,
                .predicted_ms = cal->points[i].predicted_ms,
                .loo_ms = cal->points[i].loo_ms};
        rc = bf_cli_ensure_parent_dir(db);
        if (rc == 0)
            rc = bf_store_open(db, &store);
        if (rc == 0)
            rc = bf_store_add_calibration(store, &row, pts, cal->n_points, &id);
        if (rc) {
            code = error_exit(rc);
            goto out;
        }
        printf("stored as calibration %lld in %s\n", (long long)id, db);
    }
out:
    bf_store_close(store);
    free(cal);
    bf_device_profile_free(pr);
    return code;
}
