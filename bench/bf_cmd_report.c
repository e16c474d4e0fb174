/*
 * bfbench report: result tables, the claims of the abstract (--paper) and
 * strategy comparisons (--versus) from the results DB.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_claims.h"
#include "bf_report.h"
#include "bf_store.h"
#include "bf_versus.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void report_help(void)
{
    printf("usage: bfbench report [--db PATH] [--run ID|last|all] "
           "[--format text|csv|md]\n"
           "                      [--metric NAME] [--paper] [--versus A B "
           "[--match c|bytes]]\n"
           "\n"
           "Print result tables from the results DB (its only input). A "
           "run that never\n"
           "finished is shown as unfinished; every row says how its numbers "
           "were obtained.\n"
           "\n"
           "  --db PATH      results DB (default " BF_CLI_DEFAULT_DB ")\n"
           "  --run R        a run id, 'last' (default) or 'all'\n"
           "  --format F     text (default), csv or md\n"
           "  --metric NAME  only this metric (e.g. e2e)\n"
           "  --paper        the claims of the BottleFit abstract next to "
           "the values of\n"
           "                 the runs, how each was computed and where each "
           "maximum occurs;\n"
           "                 reads the newest run of every scenario unless "
           "--run is given\n"
           "  --versus A B   does strategy A beat B? per model, C and "
           "variant: top-1 A - B\n"
           "                 in points, its 95 %% interval and a paired "
           "test (over seeds:\n"
           "                 paired t; one seed: McNemar on the same "
           "images); A@ID or\n"
           "                 B@ID takes that side from run ID only (an "
           "equal-budget\n"
           "                 member's baselines against the BottleFit "
           "cases of another\n"
           "                 run: --versus bottlefit@1 naive@2 --run all)\n"
           "  --match M      what --versus pairs: c (default), the same "
           "bottleneck\n"
           "                 channels; bytes, each A configuration with B's "
           "C of nearest\n"
           "                 bytes per image (column B C), where the two "
           "send other\n"
           "                 shapes (--versus bottlefit ae-split --match "
           "bytes)\n");
}

int bf_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"run", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"metric", required_argument, NULL, 'm'},
        {"paper", no_argument, NULL, 'p'},
        {"versus", required_argument, NULL, 'v'},
        {"match", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = BF_CLI_DEFAULT_DB;
    const char *run = NULL;
    const char *versus[2] = {NULL, NULL};
    char side[2][64] = {"", ""};
    int64_t side_run[2] = {0, 0};
    const char *match = NULL;
    int paper = 0;
    struct bf_report_params rp = {.format = BF_REPORT_TEXT};
    struct bf_store *store = NULL;
    int c, rc;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if ((rc = parse_db("report", optarg, &db)))
                return rc;
            break;
        case 'r':
            run = optarg;
            break;
        case 'f': {
            int f = BF_REPORT_TEXT;

            if ((rc = parse_format("report", optarg, 1, &f)))
                return rc;
            rp.format = (enum bf_report_format)f;
            break;
        }
        case 'm':
            rp.metric = optarg;
            break;
        case 'p':
            paper = 1;
            break;
        case 'v':
            /* Two strategies: this argument and the next. */
            if (optind >= argc || argv[optind][0] == '-')
                return usage_error("report", "--versus needs two strategies "
                                             "(--versus bottlefit naive)");
            versus[0] = optarg;
            versus[1] = argv[optind++];
            break;
        case 'M':
            if (strcmp(optarg, "c") != 0 && strcmp(optarg, "bytes") != 0)
                return usage_error(
                    "report", "--match: '%s' is neither c nor bytes", optarg);
            match = optarg;
            break;
        case 'h':
            report_help();
            return EXIT_OK;
        default:
            return usage_error("report", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("report", "unexpected argument '%s'", argv[optind]);
    if (match && !versus[0])
        return usage_error("report", "--match goes with --versus");
    /* STRATEGY or STRATEGY@RUN on each side of --versus. */
    for (int k = 0; versus[0] && k < 2; k++) {
        const char *at = strchr(versus[k], '@');
        size_t len = at ? (size_t)(at - versus[k]) : strlen(versus[k]);

        if (len == 0 || len >= sizeof(side[k]))
            return usage_error("report", "--versus: '%s' is not a strategy",
                               versus[k]);
        snprintf(side[k], sizeof(side[k]), "%.*s", (int)len, versus[k]);
        if (at) {
            int id;

            if ((rc = parse_int("report", "--versus (the run after @)", at + 1,
                                1, 2147483647, &id)))
                return rc;
            side_run[k] = id;
        }
    }
    if ((rc = bf_cli_require_db(db)))
        return rc;
    if ((rc = bf_store_open_readonly(db, &store)))
        return error_exit(rc);
    if (!run && paper) {
        rp.run_id = -1; /* the newest run of every scenario */
    } else if (!run) {
        rc = bf_store_last_run(store, &rp.run_id);
    } else if (strcmp(run, "all") == 0) {
        rp.run_id = 0;
    } else if (strcmp(run, "last") == 0) {
        rc = bf_store_last_run(store, &rp.run_id);
    } else {
        int id;

        rc = parse_int("report", "--run", run, 1, 2147483647, &id);
        if (rc) {
            bf_store_close(store);
            return rc;
        }
        rp.run_id = id;
    }
    if (rc == 0 && paper) {
        struct bf_claims_params cp = {.run_id = rp.run_id, .format = rp.format};

        rc = bf_claims_write(store, &cp, stdout);
    } else if (rc == 0 && versus[0]) {
        struct bf_versus_params vp = {.run_id = rp.run_id,
                                      .a = side[0],
                                      .b = side[1],
                                      .a_run = side_run[0],
                                      .b_run = side_run[1],
                                      .match_bytes =
                                          match && strcmp(match, "bytes") == 0,
                                      .format = rp.format};

        rc = bf_versus_write(store, &vp, stdout);
    } else if (rc == 0) {
        rc = bf_report_write(store, &rp, stdout);
    }
    bf_store_close(store);
    return rc ? error_exit(rc) : EXIT_OK;
}
