/*
 * bfbench models: the model zoo with parameter and MAC counts, or the
 * stages of one architecture (with BottleFit's bottleneck injected).
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_log.h"
#include "bf_report.h"
#include "bf_torch.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

static void models_help(void)
{
    printf("usage: bfbench models [--size PX] [--arch NAME] [--classes N]\n"
           "                      [--in-channels N] [--format text|csv]\n"
           "\n"
           "Without --arch: every zoo architecture with its parameter count "
           "(torchvision's\n"
           "for the torchvision models) and multiply-accumulates at its "
           "native input size\n"
           "(or --size). With --arch: that model's stages, each with its "
           "torchvision modules,\n"
           "output shape, parameters and MACs, computed from the layer "
           "shapes.\n"
           "\n"
           "  --size PX         input height = width (default: native, 224 "
           "or 28)\n"
           "  --arch NAME       describe the stages of one architecture\n"
           "  --classes N       classifier outputs (default: the "
           "architecture's)\n"
           "  --in-channels N   input channels (default: the "
           "architecture's)\n"
           "  --format F        text (default) or csv\n"
           "  --bottleneck V    with --arch: inject BottleFit's bottleneck, "
           "version V\n"
           "                    (2; 1 and 3 for ResNets); the encoder stage "
           "is the head\n"
           "                    that runs on the device, its output is "
           "transmitted\n"
           "  --channels C      bottleneck channels (default 3)\n");
}

static int build_and_describe(const struct bf_arch_info *a, int size,
                              int classes, int in_ch,
                              const struct bf_bottleneck_params *bp,
                              struct bf_stage_info *st, int *n, int64_t *params)
{
    struct bf_model_params mp = {.arch = a->name,
                                 .num_classes = classes,
                                 .in_channels = in_ch,
                                 .seed = 1};
    bf_model *m = NULL;
    int rc = bf_model_create(&mp, &m);

    if (rc == 0 && bp)
        rc = bf_model_inject_bottleneck(m, bp);
    if (rc == 0)
        rc = bf_model_describe(m, size ? size : a->native_size_px,
                               size ? size : a->native_size_px, st,
                               BF_MODEL_MAX_STAGES, n);
    if (rc == 0)
        rc = bf_model_param_count(m, params);
    bf_model_free(m);
    return rc;
}

int bf_cmd_models(int argc, char **argv)
{
    static const struct option opts[] = {
        {"size", required_argument, NULL, 's'},
        {"arch", required_argument, NULL, 'a'},
        {"classes", required_argument, NULL, 'c'},
        {"in-channels", required_argument, NULL, 'i'},
        {"format", required_argument, NULL, 'f'},
        {"bottleneck", required_argument, NULL, 'b'},
        {"channels", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *arch = NULL;
    int size = 0, classes = 0, in_ch = 0, csv = 0;
    struct bf_bottleneck_params bp = {.channels = 3};
    int c, rc;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if ((rc = parse_int("models", "--size", optarg, 1, 8192, &size)))
                return rc;
            break;
        case 'a':
            arch = optarg;
            break;
        case 'c':
            if ((rc = parse_int("models", "--classes", optarg, 1, 1000000,
                                &classes)))
                return rc;
            break;
        case 'i':
            if ((rc = parse_int("models", "--in-channels", optarg, 1, 4096,
                                &in_ch)))
                return rc;
            break;
        case 'b':
            if ((rc = parse_int("models", "--bottleneck", optarg, 1, 3,
                                &bp.version)))
                return rc;
            break;
        case 'C':
            if ((rc = parse_int("models", "--channels", optarg, 1, 512,
                                &bp.channels)))
                return rc;
            break;
        case 'f': {
            int f = BF_REPORT_TEXT;

            if ((rc = parse_format("models", optarg, 0, &f)))
                return rc;
            csv = f == BF_REPORT_CSV;
            break;
        }
        case 'h':
            models_help();
            return EXIT_OK;
        default:
            return usage_error("models", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("models", "unexpected argument '%s'", argv[optind]);
    if (bp.version && !arch)
        return usage_error("models", "--bottleneck needs --arch");

    if (arch) {
        struct bf_arch_info a;
        struct bf_stage_info st[BF_MODEL_MAX_STAGES];
        int n = 0;
        int64_t params = 0, macs = 0;

        if ((rc = bf_arch_find(arch, &a)))
            return error_exit(rc);
        if ((rc = build_and_describe(&a, size, classes, in_ch,
                                     bp.version ? &bp : NULL, st, &n, &params)))
            return error_exit(rc);
        printf(csv ? "stage,modules,output,params,macs\n"
                   : "%-11s %-40s %-14s %12s %14s\n",
               "stage", "modules", "output", "params", "MACs");
        for (int i = 0; i < n; i++) {
            char shape[64] = "";
            size_t len = 0;

            for (int d = 0; d < st[i].out_ndim; d++)
                len += (size_t)snprintf(shape + len, sizeof(shape) - len,
                                        d ? "x%lld" : "%lld",
                                        (long long)st[i].out_shape[d]);
            macs += st[i].macs;
            printf(csv ? "%s,\"%s\",%s,%lld,%lld\n"
                       : "%-11s %-40s %-14s %12lld %14lld\n",
                   st[i].name, st[i].modules, shape, (long long)st[i].params,
                   (long long)st[i].macs);
        }
        if (!csv)
            printf("%-11s %-40s %-14s %12lld %14lld\n", "total", "", "",
                   (long long)params, (long long)macs);
        if (!csv && bp.version) {
            int px = size ? size : a.native_size_px;
            int64_t sent =
                st[0].out_shape[0] * st[0].out_shape[1] * st[0].out_shape[2];
            int64_t input = (int64_t)(in_ch ? in_ch : a.in_channels) * px * px;

            printf("\nhead (encoder, on the device): %lld params, %lld "
                   "bytes (fp32), %lld MACs\n"
                   "transmitted: %lldx%lldx%lld = %lld elements (%.2f %% of "
                   "the input's %lld); 8-bit payload %lld bytes\n"
                   "decoder (on the edge server): %lld params, %lld MACs\n",
                   (long long)st[0].params, (long long)st[0].params * 4,
                   (long long)st[0].macs, (long long)st[0].out_shape[0],
                   (long long)st[0].out_shape[1], (long long)st[0].out_shape[2],
                   (long long)sent, 100.0 * (double)sent / (double)input,
                   (long long)input, (long long)sent + 5,
                   (long long)st[1].params, (long long)st[1].macs);
        }
        return EXIT_OK;
    }

    printf(csv ? "arch,family,input,params,gmacs,classes,description\n"
               : "%-17s %-9s %-10s %12s %8s %7s  %s\n",
           "arch", "family", "input", "params", "GMACs", "classes",
           "description");
    for (int i = 0; i < bf_arch_count(); i++) {
        struct bf_arch_info a;
        struct bf_stage_info st[BF_MODEL_MAX_STAGES];
        int n = 0;
        int64_t params = 0, macs = 0;
        char input[32];
        int px;

        if ((rc = bf_arch_get(i, &a)))
            return error_exit(rc);
        bf_log_progress("models", i, bf_arch_count(), a.name);
        if ((rc = build_and_describe(&a, size, classes, in_ch, NULL, st, &n,
                                     &params)))
            return error_exit(rc);
        for (int s = 0; s < n; s++)
            macs += st[s].macs;
        px = size ? size : a.native_size_px;
        snprintf(input, sizeof(input), "%dx%dx%d",
                 in_ch ? in_ch : a.in_channels, px, px);
        bf_log_progress_done();
        printf(csv ? "%s,%s,%s,%lld,%.3f,%d,\"%s\"\n"
                   : "%-17s %-9s %-10s %12lld %8.3f %7d  %s\n",
               a.name, a.family, input, (long long)params, (double)macs / 1e9,
               classes ? classes : a.num_classes, a.description);
    }
    return EXIT_OK;
}
