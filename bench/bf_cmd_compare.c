/*
 * bfbench compare: a results DB or run checked against a baseline (CI
 * regression), exactly on one platform and statistically across them.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_compare.h"
#include "bf_err.h"
#include "bf_report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void compare_help(void)
{
    struct bf_compare_rules rules = BF_COMPARE_RULES_DEFAULT;

    printf("usage: bfbench compare BASE NEW [--mode auto|exact|statistical]\n"
           "                       [--rule NAME=VALUE]... [--timings "
           "judge|skip]\n"
           "                       [--format text|csv|md]\n"
           "       bfbench compare --db PATH BASE_RUN NEW_RUN [OPTIONS]\n"
           "\n"
           "Check NEW against the baseline BASE (CI regression). BASE and NEW "
           "are each\n"
           "a results DB file (every run of it: per case hash, the newest "
           "complete\n"
           "case) or DB:RUN, one run of it (an id or 'last'); with --db, BASE "
           "and NEW\n"
           "are two runs of that one DB. Cases are matched by their case hash: "
           "the same\n"
           "scenario file gives the same hashes in any DB.\n"
           "\n"
           "Mode (auto by default): exact when every run on both sides has the "
           "same\n"
           "platform fingerprint (CPU and its kernel-selecting features and "
           "environment,\n"
           "BLAS core, oneDNN ISA, library versions, compiler): every recorded "
           "number\n"
           "must then be identical. Statistical otherwise: float rounding "
           "differs between\n"
           "platforms, so what is exact by construction stays exact (statuses, "
           "shapes,\n"
           "parameter and MAC counts, bytes, learning rates, the set of cases, "
           "the\n"
           "known-answer checks) and the rest is judged by a rule:\n"
           "  accuracy.paired    McNemar's exact test on the same images "
           "(per-image\n"
           "                     results); WORSE when the drop is at least\n"
           "                     accuracy.min_drop_pts and p < "
           "accuracy.alpha\n"
           "  accuracy.unpaired  the same by a two-proportion z test (no "
           "per-image results)\n"
           "  loss.rel           training losses within a relative tolerance\n"
           "  size.rel           zstd sizes, exit rates within a relative "
           "tolerance\n"
           "  model.rel          modeled device times within a relative "
           "tolerance\n"
           "Timings, in both modes:\n"
           "  time.reps          where both sides repeated a case (several "
           "runs, or the\n"
           "                     key `repetitions`): Mann-Whitney U over "
           "the repetitions'\n"
           "                     medians; SLOWER when the ratio of their "
           "medians >\n"
           "                     time.ratio, the median grew by more than "
           "time.floor_ms\n"
           "                     and p < time.alpha (needs 5 or more a side "
           "at alpha 0.01)\n"
           "  time.mwu           Mann-Whitney U over the per-request samples; "
           "SLOWER when\n"
           "                     the ratio of medians > time.ratio, the median "
           "grew by\n"
           "                     more than time.floor_ms and p < time.alpha\n"
           "  time.ratio         the p50 ratio alone, where no samples were "
           "kept\n"
           "  throughput.ratio   training images/s, BASE/NEW above the ratio\n"
           "Each row names its rule; the summary line names the mode and why.\n"
           "\n"
           "Exit 0: pass. 1: regression (an exact metric differs, an accuracy "
           "is worse,\n"
           "a tolerance is off, a timing is slower, a BASE case is missing "
           "from NEW or\n"
           "did not finish there; a case only in NEW is listed, not a "
           "failure). 2: bad\n"
           "command line. 3: bad input (missing or non-DB file, unknown run, "
           "nothing to\n"
           "compare).\n"
           "\n"
           "  --db PATH             BASE and NEW are run ids of this DB\n"
           "  --mode M              auto (default), exact or statistical\n"
           "  --rule NAME=VALUE     set a threshold (repeatable); defaults:\n");
    printf("                          ");
    {
        /* The defaults, from the one table the parser uses. */
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);

        if (mem) {
            bf_compare_rules_write(&rules, mem);
            fclose(mem);
            for (char *p = text; p && *p; p++) {
                if (*p == '\n' && p[1])
                    fputs("\n                          ", stdout);
                else
                    putchar(*p);
            }
        }
        free(text);
    }
    printf("  --time-tolerance R    the same as --rule time.ratio=R\n"
           "  --time-floor MS       the same as --rule time.floor_ms=MS\n"
           "  --timings T           judge (default) or skip: list timings "
           "with verdict\n"
           "                        '~' on one platform too (a runner "
           "shared with other\n"
           "                        jobs, whose timings say nothing about "
           "the code)\n"
           "  --format F            text (default), csv or md; with csv the "
           "summary\n"
           "                        line goes to stderr\n");
}

/* A positive run id or "last" (BF_COMPARE_LAST_RUN); -1 if neither. */
static int parse_run(const char *text, int64_t *run)
{
    char *end;
    long long v;

    if (strcmp(text, "last") == 0) {
        *run = BF_COMPARE_LAST_RUN;
        return 0;
    }
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 1)
        return -1;
    *run = v;
    return 0;
}

/* BASE or NEW: an existing file, or DB:RUN. */
static void parse_side(const char *arg, char *path, size_t size,
                       struct bf_compare_side *side)
{
    const char *colon = strrchr(arg, ':');
    struct stat st;

    side->run_id = BF_COMPARE_ALL_RUNS;
    snprintf(path, size, "%s", arg);
    if (stat(arg, &st) == 0 || !colon || parse_run(colon + 1, &side->run_id))
        return;
    snprintf(path, size, "%.*s", (int)(colon - arg), arg);
}

int bf_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"time-tolerance", required_argument, NULL, 't'},
        {"time-floor", required_argument, NULL, 'l'},
        {"mode", required_argument, NULL, 'm'},
        {"rule", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"timings", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct bf_compare_params cp = {.mode = BF_COMPARE_AUTO,
                                   .rules = BF_COMPARE_RULES_DEFAULT,
                                   .format = BF_REPORT_TEXT};
    struct bf_compare_summary sum;
    const char *db = NULL;
    char base[1024], cand[1024], line[512];
    char *end;
    int c, rc;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if ((rc = parse_db("compare", optarg, &db)))
                return rc;
            break;
        case 't':
        case 'l':
            errno = 0;
            {
                double v = strtod(optarg, &end);

                if (errno || end == optarg || *end != '\0' ||
                    !(c == 't' ? v >= 1 && v <= 1e6 : v >= 0 && v <= 1e9))
                    return usage_error("compare",
                                       c == 't'
                                           ? "--time-tolerance: '%s' is not "
                                             "a ratio of at least 1"
                                           : "--time-floor: '%s' is not a "
                                             "number of ms >= 0",
                                       optarg);
                if (c == 't')
                    cp.rules.time_ratio = v;
                else
                    cp.rules.time_floor_ms = v;
            }
            break;
        case 'm':
            if (strcmp(optarg, "auto") == 0)
                cp.mode = BF_COMPARE_AUTO;
            else if (strcmp(optarg, "exact") == 0)
                cp.mode = BF_COMPARE_EXACT;
            else if (strcmp(optarg, "statistical") == 0)
                cp.mode = BF_COMPARE_STATISTICAL;
            else
                return usage_error("compare",
                                   "--mode: '%s' is not auto, exact or "
                                   "statistical",
                                   optarg);
            break;
        case 'T':
            if (strcmp(optarg, "judge") != 0 && strcmp(optarg, "skip") != 0)
                return usage_error(
                    "compare", "--timings: '%s' is not judge or skip", optarg);
            cp.skip_timings = strcmp(optarg, "skip") == 0;
            break;
        case 'r':
            if (bf_compare_rule_set(&cp.rules, optarg))
                return usage_error("compare", "%s", bf_last_error());
            break;
        case 'f': {
            int f = BF_REPORT_TEXT;

            if ((rc = parse_format("compare", optarg, 1, &f)))
                return rc;
            cp.format = (enum bf_report_format)f;
            break;
        }
        case 'h':
            compare_help();
            return EXIT_OK;
        default:
            return usage_error("compare", "unknown option");
        }
    }
    if (argc - optind != 2)
        return usage_error("compare", "%s",
                           argc - optind < 2 ? "BASE and NEW expected"
                                             : "only BASE and NEW expected");
    if (!argv[optind][0] || !argv[optind + 1][0])
        return usage_error("compare", "BASE and NEW must not be empty");
    if (db) {
        cp.base.path = db;
        cp.candidate.path = db;
        for (int i = 0; i < 2; i++)
            if (parse_run(argv[optind + i],
                          i ? &cp.candidate.run_id : &cp.base.run_id))
                return usage_error("compare",
                                   "%s: '%s' is not a run id (with --db, "
                                   "BASE and NEW are runs of PATH)",
                                   i ? "NEW" : "BASE", argv[optind + i]);
    } else {
        parse_side(argv[optind], base, sizeof(base), &cp.base);
        parse_side(argv[optind + 1], cand, sizeof(cand), &cp.candidate);
        cp.base.path = base;
        cp.candidate.path = cand;
    }
    rc = bf_compare_write(&cp, stdout, &sum);
    if (rc)
        return error_exit(rc);
    if (cp.format == BF_REPORT_CSV) {
        bf_compare_summary_line(&sum, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    return sum.regression ? EXIT_FAILED : EXIT_OK;
}
