/*
 * bfbench: the command line of bottlefit-bench, and the only place that
 * exits. Every subcommand has --help; exit codes are documented in usage().
 * This file parses the global options and dispatches; each command is in
 * its own file (bf_cmd_NAME.c) over the helpers of bf_cli.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_log.h"
#include "bf_torch.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bfbench [-v|-q] COMMAND [OPTIONS]\n"
            "\n"
            "bottlefit-bench: a split-computing experiment and benchmark "
            "harness.\n"
            "\n"
            "commands:\n"
            "  models    list the model zoo, or the stages of one model\n"
            "  keys      list every scenario key (type, unit, default, "
            "range)\n"
            "  run       run a scenario file and record it in the results "
            "DB\n"
            "  report    print result tables from the results DB\n"
            "  plot      render the paper's figures from the results DB\n"
            "  compare   check a results DB or run against a baseline (CI)\n"
            "  merge     merge the runs of several results DBs (shards) "
            "into one\n"
            "  bench     time inference paths, or training steps (--train)\n"
            "  netbench  time the emulated link on a loopback TCP stream\n"
            "  edge      serve a scenario's offloaded cases as the edge "
            "server\n"
            "  calibrate fit a device profile's latency model to its "
            "published points\n"
            "  predict   a device profile's modeled latency (with its "
            "interval) of a model,\n"
            "            a stage range or a split head, timing nothing\n"
            "  help      this text; 'bfbench COMMAND --help' for a command\n"
            "\n"
            "global options:\n"
            "  -v, --verbose   debug log lines\n"
            "  -q, --quiet     errors only\n"
            "  -V, --version   print the version and exit\n"
            "\n"
            "exit codes:\n"
            "  0    success\n"
            "  1    a case or command failed at run time\n"
            "  2    bad command line\n"
            "  3    bad input (scenario file, weights file, results DB)\n"
            "  130  interrupted (SIGINT/SIGTERM); what was measured is kept\n");
}

/* Run the command argv[0] with its arguments. */
static int main_dispatch(int argc, char **argv)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "models") == 0)
        return bf_cmd_models(argc, argv);
    if (strcmp(cmd, "keys") == 0)
        return bf_cmd_keys(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return bf_cmd_run(argc, argv);
    if (strcmp(cmd, "report") == 0)
        return bf_cmd_report(argc, argv);
    if (strcmp(cmd, "plot") == 0)
        return bf_cmd_plot(argc, argv);
    if (strcmp(cmd, "compare") == 0)
        return bf_cmd_compare(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return bf_cmd_bench(argc, argv);
    if (strcmp(cmd, "netbench") == 0)
        return bf_cmd_netbench(argc, argv);
    if (strcmp(cmd, "edge") == 0)
        return bf_cmd_edge(argc, argv);
    if (strcmp(cmd, "calibrate") == 0)
        return bf_cmd_calibrate(argc, argv);
    if (strcmp(cmd, "predict") == 0)
        return bf_cmd_predict(argc, argv);
    if (strcmp(cmd, "merge") == 0)
        return bf_cmd_merge(argc, argv);
    if (strcmp(cmd, "help") == 0) {
        static const char *const known[] = {
            "models", "keys",     "run",  "report",    "plot",    "compare",
            "bench",  "netbench", "edge", "calibrate", "predict", "merge"};
        char *help_argv[] = {argc > 1 ? argv[1] : NULL, "--help", NULL};

        if (argc < 2) {
            usage(stdout);
            return EXIT_OK;
        }
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(argv[1], known[i]) == 0)
                return main_dispatch(2, help_argv);
        fprintf(stderr, "bfbench help: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    fprintf(stderr, "bfbench: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"verbose", no_argument, NULL, 'v'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    /* Stop at the command: its options are its own. */
    while ((c = getopt_long(argc, argv, "+vqVh", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            bf_log_set_level(BF_LOG_DEBUG);
            break;
        case 'q':
            bf_log_set_level(BF_LOG_ERROR);
            break;
        case 'V':
            printf("bfbench %s (libtorch %s)\n", BF_VERSION,
                   bf_torch_version());
            return EXIT_OK;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return main_dispatch(argc - optind, argv + optind);
}
