/*
 * bfbench merge: the runs of several results DBs (shards of one sweep) as
 * one logical run per scenario in one DB (rules in bf_store_merge.h).
 * All or nothing: the target is merged in a copy beside it, which replaces
 * it only when every source merged without a refused conflict.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_err.h"
#include "bf_log.h"
#include "bf_scenario.h"
#include "bf_store.h"
#include "bf_store_merge.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cmd_name[] = "merge";

static void merge_help(void)
{
    printf("usage: bfbench merge SOURCE.db [SOURCE.db...] --into ALL.db "
           "[--force]\n"
           "                     [--dry-run]\n"
           "\n"
           "Merge the runs of results DBs (the shards of one sweep, 'bfbench "
           "run --shard K/N\n"
           "--db SHARD.db') into ALL.db (created if missing): the runs of one "
           "scenario file\n"
           "become one run, so that report, plot, report --paper and compare "
           "read them as\n"
           "the run they would have been unsharded. Cases are matched by their "
           "case hash.\n"
           "Merging is idempotent: a case already in ALL.db with the same "
           "results is left\n"
           "as it is, so a source may be merged again (or more shards later). "
           "Each source\n"
           "run is recorded in ALL.db's merges table (path, run, host, commit, "
           "platform,\n"
           "command line, cases added) and each copied case points at it. A "
           "merged run\n"
           "reads finished once every case of its scenario is in, else "
           "interrupted ('bfbench\n"
           "run SCENARIO --resume --db ALL.db' runs what is missing).\n"
           "\n"
           "Refused, with nothing written (exit 3), unless --force: the same "
           "case hash with\n"
           "other results (every recorded value except times of day, thread "
           "counts, epoch\n"
           "durations and artifact paths), runs of one scenario name from "
           "different\n"
           "scenario texts or code commits, a known-answer check with another "
           "value.\n"
           "Forced, ALL.db's side is kept (another text becomes a run of its "
           "own) and each\n"
           "conflict is logged. Shards of several machines make the run's "
           "platform 'mixed':\n"
           "'bfbench compare' then judges it statistically.\n"
           "\n"
           "  --into PATH   the merged DB (must not be one of the sources)\n"
           "  --force       pass conflicts, keeping ALL.db's side\n"
           "  --dry-run     report what would be merged and refused, write "
           "nothing\n"
           "\n"
           "ALL.db is merged in a copy, ALL.db.merge-PID, that replaces it "
           "at the end;\n"
           "merges and runs beginning on ALL.db take turns (ALL.db.lock), but "
           "a run\n"
           "already writing ALL.db must not be running while it merges.\n"
           "\n"
           "exit codes: 0 merged; 2 bad command line; 3 a source or ALL.db is "
           "not a results\n"
           "DB of this bfbench, or a conflict; 1 a write failed\n");
}

/* Settle a merged run's status from its scenario's cases. */
struct settle {
    struct bf_store *store;
    const char *into;
};

/* path: the scenario's when it ran; relative paths in it resolve against
 * its directory (merge where the runs ran, or in a copy of that tree). */
static int settle_run(int64_t run_id, const char *path, const char *text,
                      void *ctx)
{
    struct settle *s = ctx;
    struct bf_scenario *sc = NULL;
    int64_t sources = 0, failed = 0;
    size_t done = 0;
    int rc = bf_scenario_parse_at(path, text, strlen(text),
                                  &bf_cli_scenario_params, &sc);

    if (rc) {
        /* A scenario that no longer loads here (a file it names is
         * missing): its completeness cannot be told; the status stays. */
        bf_log_info("%s run %lld: scenario %s does not load here (%s): "
                    "whether its cases are complete cannot be told; its "
                    "status is left as it is",
                    s->into, (long long)run_id, path, bf_last_error());
        bf_err_clear();
        return 0;
    }
    for (size_t i = 0; rc == 0 && i < sc->n_cases; i++) {
        int complete = 0;

        rc = bf_store_case_complete(s->store, run_id, sc->cases[i].hash,
                                    &complete);
        done += complete != 0;
    }
    rc = rc ? rc : bf_store_merge_sources(s->store, run_id, &sources);
    rc = rc ? rc : bf_store_run_failed_cases(s->store, run_id, &failed);
    if (rc == 0)
        rc = bf_store_run_end(s->store, run_id,
                              done < sc->n_cases ? "interrupted"
                              : failed           ? "failed"
                                                 : "finished");
    if (rc == 0)
        printf("%s run %lld (%s): %zu of %zu cases complete, from %lld "
               "source run(s): %s\n",
               s->into, (long long)run_id, sc->name, done, sc->n_cases,
               (long long)sources,
               done < sc->n_cases ? "interrupted (cases missing)"
               : failed           ? "failed (a case failed)"
                                  : "finished");
    bf_scenario_free(sc);
    return rc;
}

/* Remove path and its SQLite side files. */
static void remove_db(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char side[4096 + 8];

    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
        if ((size_t)snprintf(side, sizeof(side), "%.4096s%s", path, suffix[i]) <
            sizeof(side))
            unlink(side);
}

static int merge_into(const char *into, char **sources, int n, int force,
                      int dry)
{
    char work[4096];
    struct bf_store *store = NULL;
    struct stat st;
    int rc = 0;

    /* Each source is checked (and an older one migrated) first. */
    for (int i = 0; i < n && rc == 0; i++) {
        struct bf_store *src = NULL;

        rc = bf_store_open_readonly(sources[i], &src);
        bf_store_close(src);
    }
    if (rc)
        return error_exit(rc);
    if ((size_t)snprintf(work, sizeof(work), "%s.merge-%ld", into,
                         (long)getpid()) >= sizeof(work))
        return usage_error(cmd_name, "--into: path too long");
    remove_db(work);
    if (stat(into, &st) == 0) {
        rc = bf_store_open(into, &store);
        rc = rc ? rc : bf_store_copy_to(store, work);
        bf_store_close(store);
        store = NULL;
    }
    rc = rc ? rc : bf_store_open(work, &store);
    if (rc == 0 && dry)
        printf("dry run: merged in a copy that is then removed; %s is not "
               "changed\n",
               into);
    for (int i = 0; i < n && rc == 0; i++) {
        struct bf_merge_params p = {.src_path = sources[i],
                                    .src_label = sources[i],
                                    .into_label = into,
                                    .force = force};
        struct bf_merge_counts c;

        rc = bf_store_merge(store, &p, &c);
        if (rc == 0)
            printf("%s: %lld run(s): %lld case(s) added, %lld replaced (were "
                   "incomplete), %lld there already, %lld left out "
                   "(incomplete%s)%s\n",
                   sources[i], (long long)c.runs, (long long)c.added,
                   (long long)c.replaced, (long long)c.same, (long long)c.left,
                   force ? " or forced" : "",
                   c.runs_new ? ", new run(s) in the merged DB" : "");
    }
    if (rc == 0) {
        struct settle s = {.store = store, .into = into};

        rc = bf_store_each_merged_run(store, settle_run, &s);
    }
    bf_store_close(store);
    if (rc == 0 && dry) {
        remove_db(work);
        printf("dry run: nothing written; without --dry-run this merges "
               "into %s\n",
               into);
        return EXIT_OK;
    }
    if (rc == 0 && rename(work, into) != 0)
        rc = bf_err_set(BF_EIO, "%s: replacing it with %s: %s", into, work,
                        strerror(errno));
    if (rc) {
        remove_db(work);
        return error_exit(rc);
    }
    printf("merged into %s ('bfbench report --db %s --run all')\n", into, into);
    return EXIT_OK;
}

int bf_cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"into", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *into = NULL;
    struct stat into_st;
    int force = 0, dry = 0, have_into, c;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            into = optarg;
            break;
        case 'f':
            force = 1;
            break;
        case 'n':
            dry = 1;
            break;
        case 'h':
            merge_help();
            return EXIT_OK;
        default:
            return usage_error(cmd_name, "unknown option");
        }
    }
    if (!into || !into[0])
        return usage_error(cmd_name, "--into PATH is required");
    if (optind >= argc)
        return usage_error(cmd_name, "no SOURCE.db to merge");
    have_into = stat(into, &into_st) == 0;
    for (int i = optind; i < argc; i++) {
        struct stat st;

        if (!argv[i][0])
            return usage_error(cmd_name, "an empty SOURCE path");
        if (stat(argv[i], &st) != 0) {
            bf_log_error("%s: %s", argv[i], strerror(errno));
            return EXIT_INPUT;
        }
        if (!S_ISREG(st.st_mode)) {
            bf_log_error("%s: not a regular file", argv[i]);
            return EXIT_INPUT;
        }
        if (have_into && st.st_dev == into_st.st_dev &&
            st.st_ino == into_st.st_ino)
            return usage_error(cmd_name,
                               "%s is a source and the --into DB: merge "
                               "into another file",
                               argv[i]);
    }
    {
        /* One merge (or run beginning) on ALL.db at a time. */
        int lock = bf_cli_lock_db(into);
        int code = merge_into(into, argv + optind, argc - optind, force, dry);

        bf_cli_unlock_db(lock);
        return code;
    }
}
