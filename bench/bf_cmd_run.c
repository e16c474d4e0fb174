/*
 * bfbench run: a scenario file (or a suite of them) expanded into cases,
 * run and recorded in the results DB: the store sink, device models and
 * power probe, claims and the DB lock that let several processes (--jobs,
 * --resume, --shard) share one run, and the run's closing report.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_buf.h"
#include "bf_devmodel.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_lease.h"
#include "bf_log.h"
#include "bf_probe.h"
#include "bf_record.h"
#include "bf_report.h"
#include "bf_runner.h"
#include "bf_scenario.h"
#include "bf_shard.h"
#include "bf_split.h"
#include "bf_store.h"
#include "bf_sysinfo.h"
#include "bf_torch.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_help(void)
{
    printf("usage: bfbench run SCENARIO [--db PATH] [--threads N] "
           "[--repetitions N]\n"
           "                           [--resume] [--jobs N] [--shard K/N] "
           "[--dry-run]\n"
           "                           [--teachers-only]\n"
           "\n"
           "Load and validate SCENARIO (YAML; keys: 'bfbench keys'), expand "
           "it into cases\n"
           "and run them, recording the run's provenance, every sample and "
           "the aggregates\n"
           "in the results DB, then print the run's table. A run killed "
           "mid-way stays in\n"
           "the DB as unfinished; SIGINT/SIGTERM end it cleanly as "
           "interrupted.\n"
           "SCENARIO may be a suite (a file with a 'suite:' list of "
           "scenario files, e.g.\n"
           "scenarios/quick.yaml): each member runs as its own run, in "
           "order.\n"
           "\n"
           "  --db PATH      results DB (default " BF_CLI_DEFAULT_DB ")\n"
           "  --threads N    intra-op threads for every case (overrides the "
           "scenario;\n"
           "                 0 = online cores)\n"
           "  --repetitions N  rounds over the inference cases (overrides "
           "the scenario's\n"
           "                 `repetitions`; not part of the case hash: 1 "
           "for a quick check)\n"
           "  --resume       continue the newest run of the same scenario "
           "file (same bytes)\n"
           "                 in the DB: its finished and skipped cases (by "
           "case hash) are\n"
           "                 kept and not run again, its failed or "
           "unfinished ones are\n"
           "                 dropped and run again; a new run when there is "
           "none\n"
           "  --jobs N       training scenarios: N worker processes share "
           "the run's cases\n"
           "                 (each case claimed by one; a teacher trained "
           "once, the others\n"
           "                 wait), each with --threads or cores / N "
           "threads; inference\n"
           "                 scenarios run in one process (timed cases "
           "never run beside\n"
           "                 other work). Several 'run --resume' processes "
           "on one DB share\n"
           "                 a run the same way.\n"
           "  --shard K/N    run only shard K of N: a deterministic split of "
           "the cases,\n"
           "                 balanced by cost (model MACs x images x "
           "epochs), into this\n"
           "                 DB (shards may share one DB: claims keep "
           "them apart);\n"
           "                 --dry-run lists the shard's cases\n"
           "  --teachers-only  train (or load) the teachers of a training "
           "scenario into\n"
           "                 the cache and run its JPEG baselines, no "
           "student case: run it\n"
           "                 once before shards that share the cache "
           "(scripts/slurm/sweep.sh\n"
           "                 does); an inference scenario has nothing to do\n"
           "  --dry-run      validate and list the cases (and the device "
           "profiles), run\n"
           "                 nothing, fit nothing\n"
           "\n"
           "Inference runs first fit the device profiles of the scenario's "
           "'devices' to\n"
           "their calibration points, from the layer lists of the points' "
           "architectures.\n"
           "The lists and the fits are cached for later runs of the same "
           "bfbench build\n"
           "(about 10 s the first time, then none) in "
           "$XDG_CACHE_HOME/bfbench/layers, by\n"
           "default ~/.cache/bfbench/layers; a fit again when its profile "
           "changes.\n");
}

/* The sink that sends runner records to the store. */
struct store_sink {
    struct bf_store *store;
    int64_t run_id;
    int64_t resume_id; /* this process's resumes row; 0: it began the run */
    const char *owner; /* of this process's case claims */
    double lease_s;    /* their lease */
    /* --shard: the scenario's cases and which are this shard's (NULL:
     * all) */
    const struct bf_scenario *sc;
    const char *mine;
};

static int sink_case_begin(void *ctx, const struct bf_case_row *row,
                           int64_t *case_id)
{
    struct store_sink *s = ctx;
    struct bf_case_row mine = *row;

    mine.resume_id = s->resume_id;
    return bf_store_case_begin(s->store, s->run_id, &mine, case_id);
}

static int sink_samples(void *ctx, int64_t case_id,
                        const struct bf_sample_row *rows, size_t n)
{
    return bf_store_add_samples(((struct store_sink *)ctx)->store, case_id,
                                rows, n);
}

static int sink_aggregates(void *ctx, int64_t case_id,
                           const struct bf_aggregate_row *rows, size_t n)
{
    return bf_store_add_aggregates(((struct store_sink *)ctx)->store, case_id,
                                   rows, n);
}

static int sink_case_end(void *ctx, int64_t case_id, const char *status,
                         const char *error)
{
    return bf_store_case_end(((struct store_sink *)ctx)->store, case_id, status,
                             error);
}

static int sink_epochs(void *ctx, int64_t case_id,
                       const struct bf_epoch_row *rows, size_t n)
{
    return bf_store_add_epochs(((struct store_sink *)ctx)->store, case_id, rows,
                               n);
}

static int sink_accuracy(void *ctx, int64_t case_id,
                         const struct bf_accuracy_row *rows, size_t n)
{
    return bf_store_add_accuracy(((struct store_sink *)ctx)->store, case_id,
                                 rows, n);
}

static int sink_devices(void *ctx, int64_t case_id,
                        const struct bf_device_row *rows, size_t n)
{
    return bf_store_add_devices(((struct store_sink *)ctx)->store, case_id,
                                rows, n);
}

static int sink_artifact(void *ctx, int64_t case_id,
                         const struct bf_artifact_row *row)
{
    return bf_store_add_artifact(((struct store_sink *)ctx)->store, case_id,
                                 row);
}

/*
 * Where device profiles and radio presets are found: beside the scenario
 * (its directory's devices/ and channels/), then the source tree's
 * scenarios/.
 */
static void devmodel_dirs(const char *scenario_path, char *buf, size_t size,
                          const char **dirs, size_t *n)
{
    const char *slash = strrchr(scenario_path, '/');

    snprintf(buf, size, "%.*s", slash ? (int)(slash - scenario_path) : 1,
             slash ? scenario_path : ".");
    dirs[0] = buf;
    dirs[1] = BF_SOURCE_DIR "/scenarios";
    *n = 2;
}

/*
 * Open the scenario's device models and power probe; with check_only (a
 * dry run) the models are validated but not fitted.
 */
static int open_devices(const struct bf_scenario *sc, int check_only,
                        struct bf_devmodel **dm, struct bf_probe **probe)
{
    char dir[1024], cache[1024];
    const char *dirs[2];
    struct bf_devmodel_params dp = {.dirs = dirs, .check_only = check_only};
    int rc;

    *dm = NULL;
    *probe = NULL;
    if (sc->task != BF_TASK_INFERENCE)
        return 0;
    devmodel_dirs(sc->path, dir, sizeof(dir), dirs, &dp.n_dirs);
    dp.layer_cache_dir = layer_cache_dir(cache, sizeof(cache));
    rc = bf_devmodel_open(sc, &dp, dm);
    if (rc)
        return rc;
    {
        struct bf_probe_params pp = {.spec = sc->power_probe,
                                     .rate_hz = sc->power_probe_rate_hz};

        rc = bf_probe_open(&pp, probe);
        if (rc) {
            bf_devmodel_close(*dm);
            *dm = NULL;
            return bf_err_prefix(rc, "%s: power_probe: ", sc->path);
        }
    }
    if (*probe)
        bf_log_info("power probe: %s", bf_probe_describe(*probe));
    else if (*dm)
        bf_log_info("no power probe on this host: device power is modeled");
    return 0;
}

/* The cache directory beside the DB ("results/cache" for the default). */
static int make_cache_dir(const char *db, char *out, size_t size)
{
    const char *slash = strrchr(db, '/');
    int len = slash ? (int)(slash - db) : 1;

    snprintf(out, size, "%.*s/cache", len, slash ? db : ".");
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        return bf_err_set(BF_EIO, "cannot create cache directory '%s': %s", out,
                          strerror(errno));
    return 0;
}

static void print_cases(const struct bf_scenario *sc, const char *mine,
                        int shard_k, int shard_n)
{
    printf("%s: %zu case(s), seed %llu\n", sc->path, sc->n_cases,
           (unsigned long long)sc->seed);
    if (mine) {
        size_t m = 0;

        for (size_t i = 0; i < sc->n_cases; i++)
            m += mine[i] != 0;
        if (shard_n > 0)
            printf("shard %d/%d: %zu of them\n", shard_k, shard_n, m);
        else
            printf("teachers only: the teachers and JPEG baselines of these "
                   "cases, none of the cases\n");
    }
    for (size_t i = 0; i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];

        if (mine && !mine[i])
            continue;
        if (sc->task == BF_TASK_TRAIN)
            printf("  %3d  train  %-17s %-11s C %3d version %d "
                   "freeze_encoder %d seed %llu teacher %s\n",
                   c->index, c->model, c->strategy, c->bottleneck_channels,
                   c->bottleneck_version, c->freeze_encoder,
                   (unsigned long long)c->seed,
                   c->weights[0]          ? c->weights
                   : sc->teacher_per_seed ? "trained or cached, per seed"
                                          : "trained or cached");
        else
            printf("  %3d  %-6s %-17s size %4d batch %3d threads %2d "
                   "fold_bn %d channels_last %d%s%s weights %s\n",
                   c->index, c->config, c->model, c->input_size_px, c->batch,
                   c->threads, c->fold_bn, c->channels_last,
                   strcmp(c->precision, "fp32") ? " precision " : "",
                   strcmp(c->precision, "fp32") ? c->precision : "",
                   c->weights[0] ? c->weights : "random");
    }
}

/* Options of `bfbench run` that apply to every scenario of a suite. */
struct run_opts {
    const char *db;
    int threads;     /* -1: the scenario's */
    int repetitions; /* 0: the scenario's */
    int dry_run;
    int resume;
    int jobs;             /* worker processes for training scenarios */
    int shard_k, shard_n; /* --shard K/N; shard_n 0: every case */
    int teachers_only;    /* --teachers-only: no student case */
    int64_t join_run_id;  /* > 0: a worker of --jobs, joining this run */
    int64_t join_resume;  /* and its parent's resumes row (0: none) */
    int argc;
    char **argv;
};

/* Claim the case before it runs: *done 0 (ours: run it), 1 (complete in
 * the run) or 2 (another process holds it now). */
static int sink_complete(void *ctx, const char *case_hash, int *done)
{
    struct store_sink *s = ctx;
    enum bf_claim claim = BF_CLAIM_MINE;
    int rc;

    /* Another shard's case is not claimed here (teacher and JPEG cases,
     * outside the case list, belong to every shard). */
    for (size_t i = 0; s->mine && i < s->sc->n_cases; i++)
        if (!s->mine[i] && strcmp(s->sc->cases[i].hash, case_hash) == 0) {
            *done = 3;
            return 0;
        }
    rc = bf_store_case_claim(s->store, s->run_id, case_hash, s->owner,
                             s->lease_s, &claim);

    *done = rc                       ? 0
            : claim == BF_CLAIM_MINE ? 0
            : claim == BF_CLAIM_DONE ? 1
                                     : 2;
    return rc;
}

/*
 * Continue the newest run of the same scenario file (resume), or begin a
 * new one; *resumed says which, *resume_id the resumes row the cases of
 * this process point at (0: it began the run).
 */
static int begin_or_resume(struct bf_store *store, const struct run_opts *o,
                           const struct bf_run_info *info, int64_t *run_id,
                           int *resumed, int64_t *resume_id)
{
    int64_t complete = 0, dropped = 0;
    int rc;

    *resumed = 0;
    *resume_id = 0;
    if (o->join_run_id > 0) {
        /* A worker of --jobs: the parent began or resumed the run. */
        *run_id = o->join_run_id;
        *resume_id = o->join_resume;
        *resumed = 1;
        return 0;
    }
    if (o->resume) {
        rc = bf_store_run_of_scenario(store, info->scenario_sha256, run_id);
        if (rc == 0) {
            rc = bf_store_run_resume(store, *run_id, info, &complete, &dropped,
                                     resume_id);
            if (rc)
                return rc;
            *resumed = 1;
            bf_log_info("resuming run %lld of %s: %lld complete case(s) kept, "
                        "%lld incomplete dropped to run again",
                        (long long)*run_id, info->scenario_path,
                        (long long)complete, (long long)dropped);
            return 0;
        }
        if (rc != BF_ENOENT)
            return rc;
        bf_log_info("no earlier run of this scenario file in the DB: "
                    "starting a new run");
    }
    return bf_store_run_begin(store, info, run_id);
}

/* The run's known-answer checks (bf_split_known_answers), stored. */
static int record_checks(struct bf_store *store, int64_t run_id)
{
    struct bf_check_row rows[BF_SPLIT_CHECKS];
    char digests[BF_SPLIT_CHECKS][65];
    int rc = bf_split_known_answers(rows, digests);

    return rc ? rc : bf_store_add_checks(store, run_id, rows, BF_SPLIT_CHECKS);
}

/*
 * --jobs: N worker processes (this executable, `run PATH --join-run ID`)
 * share run_id's cases through their claims, each with threads threads;
 * returns the first failing worker's exit code, else EXIT_OK.
 */
static int run_jobs(const struct run_opts *o, const char *path, int64_t run_id,
                    int64_t resume_id, int threads)
{
    pid_t pids[64];
    char id[32], rid[32], th[16], shard[32];
    int code = EXIT_OK, n = 0;

    snprintf(id, sizeof(id), "%lld", (long long)run_id);
    snprintf(rid, sizeof(rid), "%lld", (long long)resume_id);
    snprintf(th, sizeof(th), "%d", threads);
    snprintf(shard, sizeof(shard), "%d/%d", o->shard_k, o->shard_n);
    bf_log_info("run %lld: %d worker processes, %d thread(s) each",
                (long long)run_id, o->jobs, threads);
    fflush(NULL);
    for (int i = 0; i < o->jobs && i < 64; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            bf_log_error("--jobs: cannot start worker %d: %s", i + 1,
                         strerror(errno));
            code = EXIT_FAILED;
            break;
        }
        if (pid == 0) {
            /* A shard's workers run that shard's cases only. */
            char *args[] = {"bfbench",
                            "run",
                            (char *)path,
                            "--db",
                            (char *)o->db,
                            "--join-run",
                            id,
                            "--join-resume",
                            rid,
                            "--threads",
                            th,
                            o->shard_n > 0 ? "--shard" : NULL,
                            shard,
                            NULL};

            execv("/proc/self/exe", args);
            _exit(127);
        }
        pids[n++] = pid;
    }
    for (int i = 0; i < n; i++) {
        int status = 0, one;

        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        one = WIFEXITED(status)
                  ? WEXITSTATUS(status)
                  : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (one != EXIT_OK && code == EXIT_OK)
            code = one;
    }
    return code;
}

/*
 * --shard K/N: mine[i] = 1 for the cases of shard K (bf_shard), costs from
 * each model's MACs (the layer cache) times the images a case processes.
 * Caller frees *mine.
 */
static int shard_cases(const struct bf_scenario *sc, int k, int n, char **mine)
{
    char cache[1024];
    const char *cache_dir = layer_cache_dir(cache, sizeof(cache));
    double *cost = calloc(sc->n_cases ? sc->n_cases : 1, sizeof(*cost));
    int *shard_of = calloc(sc->n_cases ? sc->n_cases : 1, sizeof(*shard_of));
    int rc = cost && shard_of ? 0 : bf_err_set(BF_ENOMEM, "shards");

    *mine = NULL;
    for (size_t i = 0; rc == 0 && i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];
        struct bf_layer_info *layers = NULL;
        double macs = 0;
        size_t nl = 0;

        /* The same model at the same size: its MACs once. */
        for (size_t j = 0; j < i; j++)
            if (strcmp(sc->cases[j].model, c->model) == 0 &&
                sc->cases[j].input_size_px == c->input_size_px) {
                macs = cost[j] / bf_shard_work(sc, &sc->cases[j]);
                break;
            }
        if (macs == 0 && bf_devmodel_arch_layers_cached(cache_dir, c->model,
                                                        c->input_size_px,
                                                        &layers, &nl) == 0) {
            for (size_t l = 0; l < nl; l++)
                macs += (double)layers[l].macs;
            free(layers);
        }
        bf_err_clear();
        cost[i] = (macs > 0 ? macs : 1e9) * bf_shard_work(sc, c);
    }
    if (rc == 0)
        rc = bf_shard_assign(sc, cost, n, shard_of);
    if (rc == 0) {
        *mine = calloc(sc->n_cases ? sc->n_cases : 1, 1);
        if (!*mine)
            rc = bf_err_set(BF_ENOMEM, "shards");
        for (size_t i = 0; rc == 0 && i < sc->n_cases; i++)
            (*mine)[i] = (char)(shard_of[i] == k - 1);
    }
    free(cost);
    free(shard_of);
    return rc;
}

/* Run scenario sc, which this frees, into the DB; returns an exit code. */
static int run_loaded(struct bf_scenario *sc, const struct run_opts *o)
{
    struct bf_store *store = NULL;
    struct bf_sysinfo sys;
    struct bf_buf cmdline;
    char sha[BF_HASH_HEX_SIZE];
    char backend[512];
    char torch_platform[4096];
    struct bf_buf platform;
    char platform_sha[BF_HASH_HEX_SIZE];
    struct bf_runner_result result = {0};
    struct store_sink ss = {0};
    struct bf_devmodel *dm = NULL;
    struct bf_probe *probe = NULL;
    char cache_dir[1100], owner[300] = "";
    struct bf_lease *lease = NULL;
    char *mine = NULL;
    int64_t others = 0;
    int rc, code, resumed = 0;

    if (o->repetitions > 0)
        sc->repetitions = o->repetitions;
    code = bf_cli_check_device(sc->path, sc->device);
    if (code != EXIT_OK) {
        bf_scenario_free(sc);
        return code;
    }
    rc = open_devices(sc, o->dry_run, &dm, &probe);
    if (rc) {
        bf_scenario_free(sc);
        return error_exit(rc);
    }
    if (o->teachers_only && sc->task != BF_TASK_TRAIN) {
        bf_log_info("%s: --teachers-only: an inference scenario trains no "
                    "teacher; nothing to do",
                    sc->path);
        bf_devmodel_close(dm);
        bf_probe_close(probe);
        bf_scenario_free(sc);
        return EXIT_OK;
    }
    if (o->teachers_only) {
        /* No case of the list is this process's: what runs is what every
         * shard shares, the teachers (trained into the cache) and the
         * JPEG baselines. */
        mine = calloc(sc->n_cases ? sc->n_cases : 1, 1);
        rc = mine ? 0 : bf_err_set(BF_ENOMEM, "--teachers-only");
    } else if (o->shard_n > 0) {
        rc = shard_cases(sc, o->shard_k, o->shard_n, &mine);
    }
    if (rc) {
        bf_devmodel_close(dm);
        bf_probe_close(probe);
        bf_scenario_free(sc);
        return error_exit(rc);
    }
    if (o->dry_run) {
        print_cases(sc, mine, o->shard_k, o->shard_n);
        free(mine);
        bf_devmodel_close(dm);
        bf_probe_close(probe);
        bf_scenario_free(sc);
        return EXIT_OK;
    }
    bf_buf_init(&cmdline);
    bf_buf_init(&platform);
    for (int i = 0; i < o->argc; i++)
        bf_buf_printf(&cmdline, "%s%s", i ? " " : "bfbench ", o->argv[i]);
    bf_sysinfo_collect(BF_SOURCE_DIR, &sys);
    bf_sysinfo_warn(&sys);
    bf_hash_buffer(sc->text, sc->text_len, sha);
    if (bf_torch_backend_info(backend, sizeof(backend)))
        snprintf(backend, sizeof(backend), "unknown");
    if (bf_torch_platform_info(torch_platform, sizeof(torch_platform)))
        snprintf(torch_platform, sizeof(torch_platform), "torch.info=%s\n",
                 bf_last_error());
    if (bf_sysinfo_platform(&sys, torch_platform, &platform)) {
        code = error_exit(BF_ENOMEM);
        goto out;
    }
    bf_hash_buffer(bf_buf_str(&platform), platform.len, platform_sha);

    rc = bf_cli_ensure_parent_dir(o->db);
    if (rc == 0)
        rc = make_cache_dir(o->db, cache_dir, sizeof(cache_dir));
    if (rc == 0)
        rc = bf_store_open(o->db, &store);
    if (rc) {
        code = error_exit(rc);
        goto out;
    }
    {
        struct bf_run_info info = {
            .scenario_path = sc->path,
            .scenario_name = sc->name,
            .scenario_sha256 = sha,
            .scenario_text = sc->text,
            .seed = sc->seed,
            .git_commit = sys.git_commit,
            .git_dirty = sys.git_dirty,
            .host = sys.host,
            .cpu_model = sys.cpu_model,
            .cores_online = sys.cores_online,
            .libtorch_version = bf_torch_version(),
            .blas = backend,
            .build_type = sys.build_type,
            .bfbench_version = BF_VERSION,
            /* Weights are hashed per case (cases.weights_sha256); data
             * sets and traces join here when runs use them. */
            .input_hashes = "{}",
            .command_line = bf_buf_str(&cmdline),
            .platform = bf_buf_str(&platform),
            .platform_sha256 = platform_sha,
        };

        int lock = bf_cli_lock_db(o->db);

        /* Claims of processes on this host that died are ended first, so
         * that a resume takes their cases over now. */
        rc = bf_lease_reap(store, NULL);
        if (rc == 0)
            rc = begin_or_resume(store, o, &info, &ss.run_id, &resumed,
                                 &ss.resume_id);
        bf_cli_unlock_db(lock);
    }
    if (rc == 0)
        rc = record_checks(store, ss.run_id);
    if (rc) {
        code = error_exit(rc);
        goto out;
    }
    bf_log_info("run %lld: %zu case(s) from %s into %s", (long long)ss.run_id,
                sc->n_cases, sc->path, o->db);
    if (o->jobs > 1 && sc->task == BF_TASK_TRAIN) {
        int threads = o->threads >= 0 ? o->threads : sys.cores_online / o->jobs;

        code = run_jobs(o, sc->path, ss.run_id, ss.resume_id,
                        threads > 0 ? threads : 1);
        goto report;
    }
    if (o->jobs > 1)
        bf_log_info("--jobs %d: an inference scenario runs in one process "
                    "(timed cases never run beside other work)",
                    o->jobs);
    bf_lease_owner(owner, sizeof(owner));
    ss.owner = owner;
    ss.sc = sc;
    ss.mine = mine;
    if (mine && o->teachers_only)
        bf_log_info("teachers (and JPEG baselines) only of %s", sc->path);
    else if (mine)
        bf_log_info("shard %d/%d of %s", o->shard_k, o->shard_n, sc->path);
    /* Training runs renew their claims from a thread; timed runs take a
     * long lease instead, so that nothing writes inside a timed window. */
    ss.lease_s = sc->task == BF_TASK_TRAIN ? BF_LEASE_S : BF_LEASE_TIMED_S;
    rc = sc->task == BF_TASK_TRAIN
             ? bf_lease_start(o->db, owner, BF_LEASE_S, &lease)
             : 0;
    if (rc) {
        code = error_exit(rc);
        goto out;
    }
    bf_cli_stop_on_signal();
    ss.store = store;
    {
        struct bf_runner_sink sink = {.ctx = &ss,
                                      .case_begin = sink_case_begin,
                                      .samples = sink_samples,
                                      .aggregates = sink_aggregates,
                                      .case_end = sink_case_end,
                                      .epochs = sink_epochs,
                                      .accuracy = sink_accuracy,
                                      .devices = sink_devices,
                                      .complete = sink_complete,
                                      .artifact = sink_artifact};
        struct bf_runner_params rp = {
            .scenario = sc,
            .sink = &sink,
            .threads_override = o->threads,
            .cache_dir = cache_dir,
            .stop = &bf_cli_stop,
            .devmodel = dm,
            .probe = probe,
            .teacher_threads = o->join_run_id > 0 ? sys.cores_online : 0};

        rc = bf_runner_run(&rp, &result);
    }
    /* This process's cases are done (or stopped): its claims go. The run
     * ends with the last process that works on it. */
    bf_lease_stop(lease);
    lease = NULL;
    if (bf_store_claims_release(store, ss.run_id, owner) == 0 &&
        bf_store_claims_others(store, ss.run_id, owner, &others) == 0 &&
        others > 0)
        bf_log_info("run %lld: %lld case(s) still run in other processes; "
                    "the last of them ends the run",
                    (long long)ss.run_id, (long long)others);
    bf_err_clear();
    /* A shard ends the run only when every case of the scenario is
     * complete (the last shard to finish ends it). */
    if (rc == 0 && others == 0 && mine) {
        size_t done_n = 0;

        for (size_t i = 0; i < sc->n_cases; i++) {
            int done = 0;

            if (bf_store_case_complete(store, ss.run_id, sc->cases[i].hash,
                                       &done) == 0)
                done_n += done != 0;
        }
        bf_err_clear();
        if (done_n < sc->n_cases) {
            others = 1;
            if (o->teachers_only)
                bf_log_info("run %lld: teachers done; %zu of %zu cases "
                            "complete",
                            (long long)ss.run_id, done_n, sc->n_cases);
            else
                bf_log_info("run %lld: shard %d/%d done; %zu of %zu cases "
                            "complete: the last shard ends the run",
                            (long long)ss.run_id, o->shard_k, o->shard_n,
                            done_n, sc->n_cases);
        }
    }
    if (rc == BF_EINTR) {
        if (others == 0)
            bf_store_run_end(store, ss.run_id, "interrupted");
        code = error_exit(rc);
    } else if (rc) {
        code = error_exit(rc);
        if (others == 0)
            bf_store_run_end(store, ss.run_id, "failed");
    } else {
        rc = others ? 0
                    : bf_store_run_end(store, ss.run_id,
                                       result.failed ? "failed" : "finished");
        code = rc ? error_exit(rc) : result.failed ? EXIT_FAILED : EXIT_OK;
    }
report:
    if (o->join_run_id > 0)
        goto out; /* a worker: the parent reports the run */
    {
        struct bf_report_params rp = {.run_id = ss.run_id,
                                      .format = BF_REPORT_TEXT};

        if (o->jobs > 1 && sc->task == BF_TASK_TRAIN) {
            if (bf_report_write(store, &rp, stdout) == 0)
                printf("run %lld: %d worker processes (their counts above); "
                       "results in %s\n",
                       (long long)ss.run_id, o->jobs, o->db);
        } else if (bf_report_write(store, &rp, stdout) == 0)
            printf("run %lld: %d finished, %d failed, %d skipped, %d complete "
                   "before (resumed), %d run by other processes; results in "
                   "%s\n",
                   (long long)ss.run_id, result.finished, result.failed,
                   result.skipped, result.resumed, result.elsewhere, o->db);
    }
out:
    free(mine);
    bf_lease_stop(lease);
    bf_store_close(store);
    bf_probe_close(probe);
    bf_devmodel_close(dm);
    bf_scenario_free(sc);
    bf_buf_free(&cmdline);
    bf_buf_free(&platform);
    return code;
}

/* Run one scenario file into the DB; returns an exit code. */
static int run_scenario(const char *path, const struct run_opts *o)
{
    struct bf_scenario *sc = NULL;
    int rc = bf_scenario_load(path, &bf_cli_scenario_params, &sc);

    return rc ? error_exit(rc) : run_loaded(sc, o);
}

int bf_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"repetitions", required_argument, NULL, 'R'},
        {"dry-run", no_argument, NULL, 'n'},
        {"resume", no_argument, NULL, 'r'},
        {"jobs", required_argument, NULL, 'j'},
        {"join-run", required_argument, NULL, 'J'},
        {"join-resume", required_argument, NULL, 'U'},
        {"shard", required_argument, NULL, 'S'},
        {"teachers-only", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct run_opts o = {.db = BF_CLI_DEFAULT_DB,
                         .threads = -1,
                         .jobs = 1,
                         .argc = argc,
                         .argv = argv};
    int join = 0;
    struct bf_suite suite;
    struct bf_scenario *sc = NULL;
    int c, rc, code = EXIT_OK;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if ((rc = parse_db("run", optarg, &o.db)))
                return rc;
            break;
        case 't':
            if ((rc = parse_int("run", "--threads", optarg, 0, 1024,
                                &o.threads)))
                return rc;
            break;
        case 'R':
            if ((rc = parse_int("run", "--repetitions", optarg, 1, 1000,
                                &o.repetitions)))
                return rc;
            break;
        case 'n':
            o.dry_run = 1;
            break;
        case 'r':
            o.resume = 1;
            break;
        case 'j':
            if ((rc = parse_int("run", "--jobs", optarg, 1, 64, &o.jobs)))
                return rc;
            break;
        case 'S':
            if (bf_shard_parse(optarg, &o.shard_k, &o.shard_n) != 0)
                return usage_error("run",
                                   "--shard: '%s' is not K/N with 1 <= K "
                                   "<= N <= 1024",
                                   optarg);
            break;
        case 'T':
            o.teachers_only = 1;
            break;
        case 'J': /* internal: a worker of --jobs */
            if ((rc = parse_int("run", "--join-run", optarg, 1, INT32_MAX,
                                &join)))
                return rc;
            o.join_run_id = join;
            break;
        case 'U': /* internal: the --jobs parent's resumes row */
            if ((rc = parse_int("run", "--join-resume", optarg, 0, INT32_MAX,
                                &join)))
                return rc;
            o.join_resume = join;
            break;
        case 'h':
            run_help();
            return EXIT_OK;
        default:
            return usage_error("run", "unknown option");
        }
    }
    if (o.teachers_only && (o.shard_n > 0 || o.jobs > 1))
        return usage_error("run", "--teachers-only runs in one process, "
                                  "without --shard or --jobs");
    if (optind != argc - 1)
        return usage_error("run", optind >= argc
                                      ? "missing SCENARIO"
                                      : "exactly one SCENARIO expected");
    /* The file is read once, whether suite or scenario. */
    rc = bf_scenario_load_or_suite(argv[optind], &bf_cli_scenario_params,
                                   &suite, &sc);
    if (rc)
        return error_exit(rc);
    if (suite.n == 0)
        return run_loaded(sc, &o);
    bf_log_info("suite %s: %zu scenario(s)", suite.name, suite.n);
    /* Every member runs, even after one fails; an interruption stops, and
     * a suite stopped before its last member is interrupted, whatever the
     * members that ran returned. */
    for (size_t i = 0; i < suite.n; i++) {
        int one;

        if (bf_cli_stop) {
            bf_log_error("suite %s: interrupted before scenario %zu/%zu (%s)",
                         suite.name, i + 1, suite.n, suite.paths[i]);
            return EXIT_INTERRUPTED;
        }

        bf_log_info("suite %s: scenario %zu/%zu: %s", suite.name, i + 1,
                    suite.n, suite.paths[i]);
        one = run_scenario(suite.paths[i], &o);
        if (one != EXIT_OK && code == EXIT_OK)
            code = one;
        if (one == EXIT_INTERRUPTED)
            break;
    }
    return code;
}
