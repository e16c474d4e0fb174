/*
 * bfbench bench: batch-1 forwards timed on the inference paths, or
 * BottleFit training steps (--train).
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_perf.h"
#include "bf_sysinfo.h"
#include "bf_torch.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void bench_help(void)
{
    printf("usage: bfbench bench [--models A,B,...] [--paths P,Q,...] "
           "[--device DEV] [--size PX]\n"
           "                     [--threads N] [--warmup N] [--iters N] "
           "[--rounds N]\n"
           "                     [--lockstep] [--train [--batch N] "
           "[--channels C]]\n"
           "\n"
           "Time batch-1 forwards through the shim on inference paths "
           "(default plain,\n"
           "fold, fold-cl): plain (torchvision's computation), fold "
           "(BatchNorm folded into\n"
           "convolutions), fold-cl (fold, channels-last), and fold-bf16, "
           "fold-cl-bf16,\n"
           "fold-fp16, fold-cl-fp16 (the folded path computed in bf16 or "
           "fp16, inputs and\n"
           "outputs fp32; fp16 needs CUDA), alternating models and paths "
           "in rounds; print\n"
           "medians, the speed-up over plain and the largest output "
           "difference from plain\n"
           "relative to the largest plain output (plain is always run "
           "once as the\n"
           "reference). bf16 is fast where oneDNN reports an AVX512-BF16 "
           "or AMX ISA\n"
           "(see the platform lines of 'bfbench report'), emulated "
           "elsewhere.\n"
           "With --train: time BottleFit training steps instead, on a "
           "student that is the\n"
           "model with a bottleneck injected: stage1 (GHND: encoder and "
           "decoder trained\n"
           "against the teacher's stage2..stage4 outputs, Adam) and stage2 "
           "(KD: all but\n"
           "the encoder trained against the teacher's logits, SGD); print "
           "images/s.\n"
           "Weights and inputs are random (seed 1): timing does not depend "
           "on them.\n"
           "scripts/peer/compare_latency.py and compare_training.py drive "
           "--lockstep to\n"
           "compare with PyTorch eager.\n"
           "\n"
           "  --models LIST  comma-separated zoo names (default "
           "resnet152,densenet169,\n"
           "                 mobilenet_v2; with --train resnet_mini)\n"
           "  --paths LIST   comma-separated inference paths (default "
           "plain,fold,fold-cl)\n"
           "  --device DEV   cpu (default), cuda or cuda:N; exit 3 where "
           "CUDA is missing\n"
           "  --size PX      input height = width (default: native; not "
           "with --train)\n"
           "  --threads N    intra-op threads (default 0 = online cores)\n"
           "  --warmup N     untimed runs per model and path or step "
           "(default 5)\n"
           "  --iters N      timed runs per model, path or step and round "
           "(default 5)\n"
           "  --rounds N     alternation rounds (default 4)\n"
           "  --lockstep     serve 'run MODEL PATH|STEP ITERS' lines on "
           "stdin/stdout\n"
           "  --train        time training steps (stage1, stage2) instead "
           "of forwards\n"
           "  --batch N      training batch size (default 64)\n"
           "  --channels C   the student's bottleneck channels (default "
           "2)\n"
           "  --precision P  with --train: fp32 (default) or bf16 (the "
           "forwards under\n"
           "                 libtorch's bf16 autocast, outputs and losses "
           "fp32)\n");
}

int bf_cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"models", required_argument, NULL, 'm'},
        {"size", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"iters", required_argument, NULL, 'i'},
        {"rounds", required_argument, NULL, 'r'},
        {"lockstep", no_argument, NULL, 'l'},
        {"train", no_argument, NULL, 'T'},
        {"paths", required_argument, NULL, 'P'},
        {"device", required_argument, NULL, 'D'},
        {"precision", required_argument, NULL, 'R'},
        {"batch", required_argument, NULL, 'b'},
        {"channels", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char list[1024] = "";
    const char *precision = NULL;
    const char *models[32];
    struct bf_perf_params pp = {
        .warmup = 5, .iters = 5, .rounds = 4, .in = stdin, .out = stdout};
    size_t n = 0;
    char *save = NULL;
    int c, rc;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (strlen(optarg) >= sizeof(list))
                return usage_error("bench", "--models: list too long");
            snprintf(list, sizeof(list), "%s", optarg);
            if (list[0] == '\0')
                return usage_error("bench", "--models: empty list");
            break;
        case 's':
            if ((rc = parse_int("bench", "--size", optarg, 1, 8192,
                                &pp.size_px)))
                return rc;
            break;
        case 't':
            if ((rc = parse_int("bench", "--threads", optarg, 0, 1024,
                                &pp.threads)))
                return rc;
            break;
        case 'w':
            if ((rc = parse_int("bench", "--warmup", optarg, 0, 100000,
                                &pp.warmup)))
                return rc;
            break;
        case 'i':
            if ((rc = parse_int("bench", "--iters", optarg, 1, 100000,
                                &pp.iters)))
                return rc;
            break;
        case 'r':
            if ((rc = parse_int("bench", "--rounds", optarg, 1, 100000,
                                &pp.rounds)))
                return rc;
            break;
        case 'l':
            pp.lockstep = 1;
            break;
        case 'T':
            pp.train = 1;
            break;
        case 'D':
            pp.device = optarg;
            break;
        case 'R':
            if (strcmp(optarg, "fp32") != 0 && strcmp(optarg, "bf16") != 0)
                return usage_error("bench",
                                   "--precision: '%s' (fp32 or bf16: "
                                   "libtorch's C++ API has no gradient "
                                   "scaler for fp16)",
                                   optarg);
            precision = optarg;
            break;
        case 'P':
            if (bf_perf_check_paths(optarg))
                return usage_error("bench", "%s", bf_last_error());
            pp.paths = optarg;
            break;
        case 'b':
            if ((rc = parse_int("bench", "--batch", optarg, 1, 65536,
                                &pp.batch)))
                return rc;
            break;
        case 'C':
            if ((rc = parse_int("bench", "--channels", optarg, 1, 512,
                                &pp.channels)))
                return rc;
            break;
        case 'h':
            bench_help();
            return EXIT_OK;
        default:
            return usage_error("bench", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (pp.train && pp.size_px)
        return usage_error("bench", "--size does not apply to --train (the "
                                    "bottleneck is built for the native "
                                    "size)");
    if (pp.device && (rc = bf_cli_check_device("bench --device", pp.device)))
        return rc;
    if (precision && !pp.train)
        return usage_error("bench", "--precision is for --train (inference: "
                                    "--paths fold-bf16,...)");
    if (precision && bf_precision_parse(precision, &pp.train_precision))
        return usage_error("bench", "%s", bf_last_error());
    if (pp.paths && strstr(pp.paths, "fp16") &&
        (!pp.device || strcmp(pp.device, "cpu") == 0))
        return usage_error("bench", "--paths: the fp16 paths need --device "
                                    "cuda (libtorch has no fp16 "
                                    "convolutions on the CPU; bf16 runs "
                                    "there)");
    if (pp.train && pp.paths)
        return usage_error("bench", "--paths does not apply to --train");
    if (!pp.train && (pp.batch || pp.channels))
        return usage_error("bench", "--batch and --channels need --train");
    if (list[0] == '\0')
        snprintf(list, sizeof(list), "%s",
                 pp.train ? "resnet_mini"
                          : "resnet152,densenet169,"
                            "mobilenet_v2");
    for (char *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == sizeof(models) / sizeof(models[0]))
            return usage_error("bench", "--models: more than %zu models", n);
        if (!bf_arch_exists(tok))
            return usage_error("bench",
                               "--models: unknown architecture "
                               "'%s' (see 'bfbench models')",
                               tok);
        models[n++] = tok;
    }
    if (n == 0)
        return usage_error("bench", "--models: empty list");
    pp.models = models;
    pp.n_models = n;
    {
        struct bf_sysinfo sys;

        bf_sysinfo_collect(BF_SOURCE_DIR, &sys);
        bf_sysinfo_warn(&sys);
    }
    rc = bf_perf_run(&pp);
    return rc ? error_exit(rc) : EXIT_OK;
}
