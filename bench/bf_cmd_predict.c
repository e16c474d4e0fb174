/* bfbench predict: a device profile's modeled latency of a model part. */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_device.h"
#include "bf_devmodel.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_report.h"
#include "bf_split.h"
#include "bf_torch.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BF_SOURCE_DIR
#define BF_SOURCE_DIR "."
#endif

#define PROFILES_MAX 16

static void predict_help(void)
{
    printf("usage: bfbench predict PROFILE[,PROFILE...] MODEL [--config C]\n"
           "                       [--channels N] [--version V] [--stages "
           "FIRST:LAST]\n"
           "                       [--px N] [--format text|csv]\n"
           "\n"
           "Print the modeled latency of MODEL (a zoo architecture, 'bfbench "
           "models') on\n"
           "each device profile (a name in scenarios/devices/ or a path), with "
           "the 90 %%\n"
           "prediction interval of the profile's model, as a run would model "
           "it. Nothing\n"
           "is timed: the profile is fitted to its published points (points "
           "to be measured\n"
           "here are left out) and the part's layers are counted from the "
           "model's shapes.\n"
           "A device profile predicts the device part, an edge profile the "
           "edge part.\n"
           "\n"
           "  --config C     local (default: the whole model), bottlefit or "
           "ae-split\n"
           "                 (the head with its encoder, or the tail with its "
           "decoder)\n"
           "  --channels N   bottleneck channels of bottlefit / ae-split "
           "(default 3)\n"
           "  --version V    bottlefit bottleneck placement, 1..3 (default 2)\n"
           "  --stages A:B   local only: stages A to B (names or indexes; "
           "'bfbench models\n"
           "                 --arch MODEL' lists them)\n"
           "  --px N         input side in pixels (default: the model's "
           "native size)\n"
           "  --format F     text (default) or csv\n"
           "\n"
           "exit codes: 0 printed; 2 bad command line; 3 unknown profile or "
           "model, bad\n"
           "profile file or a part the model lacks.\n");
}

struct predict_opts {
    const char *config;
    int channels, version, px, csv;
    const char *stages; /* "A:B" or NULL */
};

/* A stage given by name or index, into *index. */
static int stage_index(bf_model *model, const char *text, int n, int *index)
{
    char *end;
    long v = strtol(text, &end, 10);

    if (end != text && *end == '\0') {
        if (v < 0 || v >= n)
            return bf_err_set(BF_ERANGE, "stage %ld: the model has %d stages",
                              v, n);
        *index = (int)v;
        return 0;
    }
    return bf_model_stage_find(model, text, index);
}

/* The layers of stages A:B of the plain model; *what describes them. */
static int stage_layers(const char *arch, int px, const char *range,
                        struct bf_layer_info **layers, size_t *n, char *what,
                        size_t size)
{
    struct bf_model_params mp = {.arch = arch, .seed = 1};
    struct bf_arch_info ai;
    char first[64], last[64];
    const char *colon = strchr(range, ':');
    bf_model *model = NULL;
    int n_stages = 0, a = 0, b = 0, rc;

    if (!colon || colon == range || !colon[1] ||
        (size_t)(colon - range) >= sizeof(first) ||
        strlen(colon + 1) >= sizeof(last))
        return bf_err_set(BF_EINVAL, "--stages: '%s' is not FIRST:LAST", range);
    snprintf(first, sizeof(first), "%.*s", (int)(colon - range), range);
    snprintf(last, sizeof(last), "%s", colon + 1);
    rc = bf_arch_find(arch, &ai);
    if (rc == 0)
        rc = bf_model_create(&mp, &model);
    if (rc == 0)
        rc = bf_model_stage_count(model, &n_stages);
    if (rc == 0)
        rc = stage_index(model, first, n_stages, &a);
    if (rc == 0)
        rc = stage_index(model, last, n_stages, &b);
    if (rc == 0 && a > b)
        rc = bf_err_set(BF_ERANGE,
                        "--stages %s: the first stage comes after "
                        "the last",
                        range);
    if (rc == 0) {
        px = px > 0 ? px : ai.native_size_px;
        rc = bf_model_layers_alloc(model, px, px, a, b, layers, n);
        snprintf(what, size, "stages %s..%s", first, last);
    }
    bf_model_free(model);
    return rc;
}

/* The device part (edge 0) or edge part (edge 1) of the configuration. */
static int split_layers(const char *arch, const struct predict_opts *o,
                        int edge, struct bf_layer_info **layers, size_t *n,
                        char *what, size_t size)
{
    struct bf_split_params sp = {.config = o->config,
                                 .model = arch,
                                 .seed = 1,
                                 .input_size_px = o->px,
                                 .bottleneck_version = o->version,
                                 .bottleneck_channels = o->channels,
                                 .fold_bn = 1};
    struct bf_split *s = NULL;
    int rc = bf_split_open(&sp, &s);

    if (rc == 0)
        rc = bf_split_layers(s, edge, layers, n);
    bf_split_close(s);
    if (strcmp(o->config, "local") == 0)
        snprintf(what, size, "whole model");
    else if (strcmp(o->config, "bottlefit") == 0)
        snprintf(what, size, "%s (bottlefit C=%d v%d)", edge ? "tail" : "head",
                 o->channels, o->version);
    else
        snprintf(what, size, "%s (%s C=%d)", edge ? "tail" : "head", o->config,
                 o->channels);
    return rc;
}

static int predict_one(const char *name, const char *arch,
                       const struct predict_opts *o, const char *cache_dir,
                       int *header)
{
    const char *dirs[] = {"scenarios/devices",
                          BF_SOURCE_DIR "/scenarios/devices"};
    struct bf_device_profile *p = NULL;
    struct bf_device_latency fit;
    struct bf_device_error err;
    struct bf_layer_info *layers = NULL;
    char what[160] = "", basis[96] = "none";
    size_t n = 0, used = 0;
    int64_t macs = 0;
    double ms, lo, hi;
    int px = o->px;
    int rc = bf_device_profile_open(name, dirs, 2, &p);

    if (rc == 0)
        rc = bf_devmodel_fit_profile(p, cache_dir, &fit, &err, &used);
    if (rc == 0 && o->stages)
        rc = stage_layers(arch, o->px, o->stages, &layers, &n, what,
                          sizeof(what));
    else if (rc == 0)
        rc = split_layers(arch, o, strcmp(p->role, "edge") == 0, &layers, &n,
                          what, sizeof(what));
    if (rc) {
        bf_device_profile_free(p);
        free(layers);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        macs += layers[i].macs;
    if (px == 0) {
        struct bf_arch_info ai;

        if (bf_arch_find(arch, &ai) == 0)
            px = ai.native_size_px;
    }
    ms = bf_device_predict_ms(&fit, layers, n);
    bf_device_interval(&err, ms, &lo, &hi);
    if (err.factor > 0 && err.stated)
        snprintf(basis, sizeof(basis), "stated (latency.interval_log_sd)");
    else if (err.factor > 0)
        snprintf(basis, sizeof(basis), "leave-one-out, %zu points", err.n);
    if (o->csv) {
        if (!*header)
            printf("profile,runtime,model,part,px,layers,gmacs,modeled_ms,"
                   "pi90_lo_ms,pi90_hi_ms,fitted_points,interval\n");
        printf("%s,%s,%s,\"%s\",%d,%zu,%.4f,%.4f,", p->name, p->runtime, arch,
               what, px, n, (double)macs / 1e9, ms);
        if (err.factor > 0)
            printf("%.4f,%.4f", lo, hi);
        else
            printf(",");
        printf(",%zu,\"%s\"\n", used, basis);
    } else {
        char pi[64] = "-";

        if (!*header)
            printf("%-26s %-14s %-14s %-28s %6s %8s %11s %21s  %s\n", "profile",
                   "runtime", "model", "part", "layers", "GMACs", "modeled ms",
                   "90 % PI ms", "interval");
        if (err.factor > 0)
            snprintf(pi, sizeof(pi), "%.3f-%.3f", lo, hi);
        printf("%-26s %-14s %-14s %-28s %6zu %8.3f %11.3f %21s  %s\n", p->name,
               p->runtime, arch, what, n, (double)macs / 1e9, ms, pi, basis);
    }
    *header = 1;
    bf_device_profile_free(p);
    free(layers);
    return 0;
}

int bf_cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"channels", required_argument, NULL, 'n'},
        {"version", required_argument, NULL, 'v'},
        {"stages", required_argument, NULL, 's'},
        {"px", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct predict_opts o = {.config = "local", .channels = 3, .version = 2};
    char list[1024], cache[1024];
    const char *cache_dir, *arch;
    char *save = NULL, *name;
    int c, rc, header = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (strcmp(optarg, "local") && strcmp(optarg, "bottlefit") &&
                strcmp(optarg, "ae-split"))
                return usage_error("predict",
                                   "--config: '%s' is not local, bottlefit "
                                   "or ae-split",
                                   optarg);
            o.config = optarg;
            break;
        case 'n':
            if ((rc = parse_int("predict", "--channels", optarg, 1, 512,
                                &o.channels)))
                return rc;
            break;
        case 'v':
            if ((rc = parse_int("predict", "--version", optarg, 1, 3,
                                &o.version)))
                return rc;
            break;
        case 's':
            o.stages = optarg;
            break;
        case 'p':
            if ((rc = parse_int("predict", "--px", optarg, 8, 8192, &o.px)))
                return rc;
            break;
        case 'f': {
            int f = 0;

            if ((rc = parse_format("predict", optarg, 0, &f)))
                return rc;
            o.csv = f == BF_REPORT_CSV;
            break;
        }
        case 'h':
            predict_help();
            return EXIT_OK;
        default:
            return usage_error("predict", "unknown option");
        }
    }
    if (argc - optind != 2)
        return usage_error("predict", "expected PROFILE[,PROFILE...] and "
                                      "MODEL");
    if (o.stages && strcmp(o.config, "local") != 0)
        return usage_error("predict", "--stages goes with --config local");
    if (o.stages && !strchr(o.stages, ':'))
        return usage_error("predict", "--stages: '%s' is not FIRST:LAST",
                           o.stages);
    if (strlen(argv[optind]) >= sizeof(list))
        return usage_error("predict", "profile list too long");
    snprintf(list, sizeof(list), "%s", argv[optind]);
    arch = argv[optind + 1];
    if (!bf_arch_exists(arch)) {
        bf_err_set(BF_ENOENT,
                   "unknown model '%s' (bfbench models lists the zoo)", arch);
        return error_exit(BF_ENOENT);
    }
    cache_dir = layer_cache_dir(cache, sizeof(cache));
    for (name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        rc = predict_one(name, arch, &o, cache_dir, &header);
        if (rc) {
            fflush(stdout);
            rc = error_exit(rc);
            /* A part the model lacks is bad input, not a failure. */
            return rc == EXIT_FAILED ? EXIT_INPUT : rc;
        }
    }
    return EXIT_OK;
}
