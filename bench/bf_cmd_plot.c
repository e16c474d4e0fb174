/* bfbench plot: the paper's figures from the results DB, with gnuplot. */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_err.h"
#include "bf_plot.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_FIGURES "results/figures"
#define PLOT_MAX_RUNS 64

static void plot_help(void)
{
    printf(
        "usage: bfbench plot [--db PATH] [--out DIR] [--run ID[,ID...]]... "
        "[--rate MBPS]\n"
        "\n"
        "Render the paper's comparison figures from the results DB (its "
        "only input)\n"
        "with gnuplot (found on PATH; scripts in " BF_SOURCE_DIR
        "/scripts/plots).\n"
        "Each figure is written as a tab-separated data file (with the "
        "gnuplot command\n"
        "that renders it by hand on top), an SVG and a PNG; every path "
        "written is\n"
        "printed on stdout. Per model:\n"
        "\n"
        "  accuracy-MODEL   top-1 accuracy vs bytes sent per image: the "
        "8-bit bottleneck\n"
        "                   of each training strategy, the exit rule, JPEG "
        "input, the\n"
        "                   teacher (accuracy rows of a training run)\n"
        "  latency-MODEL    end-to-end latency vs uplink rate, a panel per "
        "device profile\n"
        "  energy-MODEL     energy per inference and average power per "
        "configuration\n"
        "                   and device, at one rate\n"
        "  breakdown-MODEL  latency stages (head, encode, transfer, queue, "
        "decode, tail)\n"
        "                   as stacked bars, a panel per device, at one "
        "rate\n"
        "  head-MODEL       parameters and MACs run on the device per "
        "configuration\n"
        "  train-MODEL      training loss per image (log scale) and "
        "validation top-1\n"
        "                   per epoch, a line per strategy and C (lowest "
        "seed)\n"
        "\n"
        "Captions say what is measured and what is modeled, as the DB "
        "records it. A\n"
        "figure without data is skipped with a note on stderr; no figure "
        "at all is an\n"
        "error. Rerunning on the same DB writes byte-identical files.\n"
        "\n"
        "  --db PATH        results DB (default " BF_CLI_DEFAULT_DB ")\n"
        "  --out DIR        output directory, created if missing (default "
        "" DEFAULT_FIGURES ")\n"
        "  --run ID[,ID]    only these runs (repeatable); default: per "
        "model, the newest\n"
        "                   run with accuracy rows of the model for its "
        "accuracy figure,\n"
        "                   the newest with epoch rows for its training "
        "curves, the\n"
        "                   newest with device rows of the model for the "
        "others\n"
        "  --rate MBPS      energy and breakdown figures at this uplink rate "
        "(default:\n"
        "                   the highest rate of the model's cases)\n");
}

/* Append the run ids of a comma list to ids. */
static int parse_runs(const char *text, int64_t *ids, size_t *n)
{
    const char *at = text;

    for (;;) {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(at, &end, 10);
        if (errno || end == at || (*end != ',' && *end != '\0') || v < 1)
            return usage_error("plot", "--run: '%s' is not a list of run ids",
                               text);
        if (*n >= PLOT_MAX_RUNS)
            return usage_error("plot", "--run: more than %d runs",
                               PLOT_MAX_RUNS);
        ids[(*n)++] = v;
        if (*end == '\0')
            return 0;
        at = end + 1;
    }
}

int bf_cmd_plot(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"run", required_argument, NULL, 'r'},
                                         {"rate", required_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = BF_CLI_DEFAULT_DB;
    int64_t runs[PLOT_MAX_RUNS];
    struct bf_plot_params pp = {
        .out_dir = DEFAULT_FIGURES,
        .scripts_dir = BF_SOURCE_DIR "/scripts/plots",
        .run_ids = runs,
    };
    char *end;
    int c, rc, code;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if ((rc = parse_db("plot", optarg, &db)))
                return rc;
            break;
        case 'o':
            pp.out_dir = optarg;
            break;
        case 'r':
            if ((rc = parse_runs(optarg, runs, &pp.n_run_ids)))
                return rc;
            break;
        case 'R':
            errno = 0;
            pp.rate_mbps = strtod(optarg, &end);
            if (errno || end == optarg || *end != '\0' || !(pp.rate_mbps > 0) ||
                pp.rate_mbps > 1e6)
                return usage_error("plot",
                                   "--rate: '%s' is not a rate in Mbit/s "
                                   "(> 0)",
                                   optarg);
            break;
        case 'h':
            plot_help();
            return EXIT_OK;
        default:
            return usage_error("plot", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("plot", "unexpected argument '%s'", argv[optind]);
    if (!pp.out_dir[0])
        return usage_error("plot", "--out: empty directory name");
    if ((rc = bf_cli_require_db(db)))
        return rc;
    rc = bf_plot_render(db, &pp, stdout);
    if (rc == 0)
        return EXIT_OK;
    code = error_exit(rc);
    /* Nothing to plot, or no gnuplot, is a failed command, not bad input. */
    return rc == BF_ENOENT ? EXIT_FAILED : code;
}
