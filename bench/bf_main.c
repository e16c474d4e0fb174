/*
 * bfbench: the command line of bottlefit-bench, and the only place that
 * exits. Every subcommand has --help; exit codes are documented in usage().
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_buf.h"
#include "bf_cli.h"
#include "bf_claims.h"
#include "bf_clock.h"
#include "bf_compare.h"
#include "bf_device.h"
#include "bf_devmodel.h"
#include "bf_edge.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_lease.h"
#include "bf_log.h"
#include "bf_net.h"
#include "bf_offload.h"
#include "bf_perf.h"
#include "bf_plot.h"
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
#include "bf_versus.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef BF_VERSION
#define BF_VERSION "0.1.0"
#endif
#ifndef BF_SOURCE_DIR
#define BF_SOURCE_DIR "."
#endif

#define DEFAULT_DB "results/bench.db"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

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

/* Create the parent directory of path if missing (one level). */
static int ensure_parent_dir(const char *path)
{
    char dir[1024];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return bf_err_set(BF_EIO, "cannot create directory '%s': %s", dir,
                          strerror(errno));
    return 0;
}

/* models */

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

static int cmd_models(int argc, char **argv)
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

/* keys */

static int cmd_keys(int argc, char **argv)
{
    if (argc > 1 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: bfbench keys\n\nPrint every scenario key with the "
               "task it applies to (inference,\ntrain or any), its type, "
               "unit, default, range and help.\n");
        return EXIT_OK;
    }
    if (argc > 1)
        return usage_error("keys", "unexpected argument '%s'", argv[1]);
    bf_scenario_keys_print(stdout);
    return EXIT_OK;
}

/* run */

static void run_help(void)
{
    printf("usage: bfbench run SCENARIO [--db PATH] [--threads N] "
           "[--repetitions N]\n"
           "                           [--resume] [--jobs N] [--shard K/N] "
           "[--dry-run]\n"
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
           "  --db PATH      results DB (default " DEFAULT_DB ")\n"
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

    return bf_store_case_begin(s->store, s->run_id, row, case_id);
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
        printf("shard %d/%d: %zu of them\n", shard_k, shard_n, m);
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
                   "fold_bn %d channels_last %d weights %s\n",
                   c->index, c->config, c->model, c->input_size_px, c->batch,
                   c->threads, c->fold_bn, c->channels_last,
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
    int64_t join_run_id;  /* > 0: a worker of --jobs, joining this run */
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
 * Hold an exclusive lock on DB.lock (beside the DB) while a run is found
 * or begun, so that processes starting together on one DB agree on one
 * run. Returns the descriptor, or -1 (no lock: locking is unsupported
 * there, and the race is back).
 */
static int lock_db(const char *db)
{
    char path[1200];
    int fd;

    snprintf(path, sizeof(path), "%s.lock", db);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void unlock_db(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/*
 * Continue the newest run of the same scenario file (resume), or begin a
 * new one; *resumed says which.
 */
static int begin_or_resume(struct bf_store *store, const struct run_opts *o,
                           const struct bf_run_info *info, int64_t *run_id,
                           int *resumed)
{
    int64_t complete = 0, dropped = 0;
    int rc;

    *resumed = 0;
    if (o->join_run_id > 0) {
        /* A worker of --jobs: the parent began or resumed the run. */
        *run_id = o->join_run_id;
        *resumed = 1;
        return 0;
    }
    if (o->resume) {
        rc = bf_store_run_of_scenario(store, info->scenario_sha256, run_id);
        if (rc == 0) {
            rc = bf_store_run_resume(store, *run_id, &complete, &dropped);
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
                    int threads)
{
    pid_t pids[64];
    char id[32], th[16];
    int code = EXIT_OK, n = 0;

    snprintf(id, sizeof(id), "%lld", (long long)run_id);
    snprintf(th, sizeof(th), "%d", threads);
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
            char *args[] = {
                "bfbench",    "run", (char *)path, "--db", (char *)o->db,
                "--join-run", id,    "--threads",  th,     NULL};

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
    char torch_platform[2048];
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
    rc = open_devices(sc, o->dry_run, &dm, &probe);
    if (rc) {
        bf_scenario_free(sc);
        return error_exit(rc);
    }
    if (o->shard_n > 0) {
        rc = shard_cases(sc, o->shard_k, o->shard_n, &mine);
        if (rc) {
            bf_devmodel_close(dm);
            bf_probe_close(probe);
            bf_scenario_free(sc);
            return error_exit(rc);
        }
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

    rc = ensure_parent_dir(o->db);
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

        int lock = lock_db(o->db);

        /* Claims of processes on this host that died are ended first, so
         * that a resume takes their cases over now. */
        rc = bf_lease_reap(store, NULL);
        if (rc == 0)
            rc = begin_or_resume(store, o, &info, &ss.run_id, &resumed);
        unlock_db(lock);
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

        code = run_jobs(o, sc->path, ss.run_id, threads > 0 ? threads : 1);
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
    if (mine)
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
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
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
            .stop = &stop_flag,
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
            bf_log_info("run %lld: shard %d/%d done; %zu of %zu cases "
                        "complete: the last shard ends the run",
                        (long long)ss.run_id, o->shard_k, o->shard_n, done_n,
                        sc->n_cases);
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

static int cmd_run(int argc, char **argv)
{
    static const char cmd_name[] = "run";
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"repetitions", required_argument, NULL, 'R'},
        {"dry-run", no_argument, NULL, 'n'},
        {"resume", no_argument, NULL, 'r'},
        {"jobs", required_argument, NULL, 'j'},
        {"join-run", required_argument, NULL, 'J'},
        {"shard", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct run_opts o = {
        .db = DEFAULT_DB, .threads = -1, .jobs = 1, .argc = argc, .argv = argv};
    int join = 0;
    struct bf_suite suite;
    struct bf_scenario *sc = NULL;
    int c, rc, code = EXIT_OK;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.db = optarg;
            if (!optarg[0])
                return usage_error(cmd_name, "--db: empty path");
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
        case 'J': /* internal: a worker of --jobs */
            if ((rc = parse_int("run", "--join-run", optarg, 1, INT32_MAX,
                                &join)))
                return rc;
            o.join_run_id = join;
            break;
        case 'h':
            run_help();
            return EXIT_OK;
        default:
            return usage_error("run", "unknown option");
        }
    }
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

        if (stop_flag) {
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

/* calibrate */

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
           "  --db PATH      results DB (default " DEFAULT_DB ")\n"
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

static int cmd_calibrate(int argc, char **argv)
{
    static const char cmd_name[] = "calibrate";
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"iters", required_argument, NULL, 'i'},
        {"no-store", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = DEFAULT_DB;
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
            db = optarg;
            if (!optarg[0])
                return usage_error(cmd_name, "--db: empty path");
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
        rc = ensure_parent_dir(db);
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

/* report */

static void report_help(void)
{
    printf("usage: bfbench report [--db PATH] [--run ID|last|all] "
           "[--format text|csv|md]\n"
           "                      [--metric NAME] [--paper] [--versus A B]\n"
           "\n"
           "Print result tables from the results DB (its only input). A "
           "run that never\n"
           "finished is shown as unfinished; every row says how its numbers "
           "were obtained.\n"
           "\n"
           "  --db PATH      results DB (default " DEFAULT_DB ")\n"
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
           "images)\n");
}

static int cmd_report(int argc, char **argv)
{
    static const char cmd_name[] = "report";
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"run", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"metric", required_argument, NULL, 'm'},
        {"paper", no_argument, NULL, 'p'},
        {"versus", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = DEFAULT_DB;
    const char *run = NULL;
    const char *versus[2] = {NULL, NULL};
    int paper = 0;
    struct bf_report_params rp = {.format = BF_REPORT_TEXT};
    struct bf_store *store = NULL;
    struct stat st;
    int c, rc;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            if (!optarg[0])
                return usage_error(cmd_name, "--db: empty path");
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
        case 'h':
            report_help();
            return EXIT_OK;
        default:
            return usage_error("report", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("report", "unexpected argument '%s'", argv[optind]);
    if (stat(db, &st) != 0) {
        bf_err_set(BF_ENOENT,
                   "no results DB at '%s' (run a scenario first: "
                   "bfbench run scenarios/host-local.yaml)",
                   db);
        return error_exit(BF_ENOENT);
    }
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
                                      .a = versus[0],
                                      .b = versus[1],
                                      .format = rp.format};

        rc = bf_versus_write(store, &vp, stdout);
    } else if (rc == 0) {
        rc = bf_report_write(store, &rp, stdout);
    }
    bf_store_close(store);
    return rc ? error_exit(rc) : EXIT_OK;
}

/* plot */

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
        "\n"
        "Captions say what is measured and what is modeled, as the DB "
        "records it. A\n"
        "figure without data is skipped with a note on stderr; no figure "
        "at all is an\n"
        "error. Rerunning on the same DB writes byte-identical files.\n"
        "\n"
        "  --db PATH        results DB (default " DEFAULT_DB ")\n"
        "  --out DIR        output directory, created if missing (default "
        "" DEFAULT_FIGURES ")\n"
        "  --run ID[,ID]    only these runs (repeatable); default: per "
        "model, the newest\n"
        "                   run with accuracy rows of the model for its "
        "accuracy figure,\n"
        "                   the newest with device rows of the model for the "
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

static int cmd_plot(int argc, char **argv)
{
    static const char cmd_name[] = "plot";
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"run", required_argument, NULL, 'r'},
                                         {"rate", required_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = DEFAULT_DB;
    int64_t runs[PLOT_MAX_RUNS];
    struct bf_plot_params pp = {
        .out_dir = DEFAULT_FIGURES,
        .scripts_dir = BF_SOURCE_DIR "/scripts/plots",
        .run_ids = runs,
    };
    struct stat st;
    char *end;
    int c, rc, code;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            if (!optarg[0])
                return usage_error(cmd_name, "--db: empty path");
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
    if (stat(db, &st) != 0) {
        bf_err_set(BF_ENOENT,
                   "no results DB at '%s' (run a scenario first: "
                   "bfbench run scenarios/host-local.yaml)",
                   db);
        return error_exit(BF_ENOENT);
    }
    rc = bf_plot_render(db, &pp, stdout);
    if (rc == 0)
        return EXIT_OK;
    code = error_exit(rc);
    /* Nothing to plot, or no gnuplot, is a failed command, not bad input. */
    return rc == BF_ENOENT ? EXIT_FAILED : code;
}

/* compare */

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

static int cmd_compare(int argc, char **argv)
{
    static const char cmd_name[] = "compare";
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
            db = optarg;
            if (!optarg[0])
                return usage_error(cmd_name, "--db: empty path");
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

/* netbench */

static void netbench_help(void)
{
    printf("usage: bfbench netbench [--rates LIST] [--sizes LIST] [--rtt MS] "
           "[--repeats N]\n"
           "                        [--format text|csv|md]\n"
           "\n"
           "Send payloads through the 'fixed' emulated link (bf_link) over a "
           "loopback TCP\n"
           "connection to a receiver thread and time each from the offer to "
           "the arrival\n"
           "of its last byte; compare the median with the ideal bytes * 8 / "
           "rate + RTT / 2.\n"
           "A row is within target when the error is at most 2 %% of the "
           "ideal or 1 ms,\n"
           "whichever is larger. Exits 1 when a row misses it.\n"
           "\n"
           "  --rates LIST   Mbit/s, comma-separated (default 1,5,20,100)\n"
           "  --sizes LIST   payload bytes (default 1000,10000,100000,"
           "1000000)\n"
           "  --rtt MS       round-trip propagation delay (default 20)\n"
           "  --repeats N    messages per cell, the median is reported "
           "(default 3)\n"
           "  --format F     text (default), csv or md\n");
}

/* A comma-separated list of positive numbers. */
static int parse_list(const char *cmd, const char *opt, const char *text,
                      double max, double *out, size_t cap, size_t *n)
{
    const char *p = text;

    *n = 0;
    while (*p) {
        char *end;
        double v;

        errno = 0;
        v = strtod(p, &end);
        if (end == p || errno || !(v > 0) || v > max || (*end && *end != ','))
            return usage_error(cmd,
                               "%s: '%s' is not a list of numbers in "
                               "(0, %g]",
                               opt, text, max);
        if (*n == cap)
            return usage_error(cmd, "%s: more than %zu values", opt, cap);
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    if (*n == 0)
        return usage_error(cmd, "%s: empty list", opt);
    return 0;
}

static int cmd_netbench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rates", required_argument, NULL, 'r'},
        {"sizes", required_argument, NULL, 's'},
        {"rtt", required_argument, NULL, 't'},
        {"repeats", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    double rates[16] = {1, 5, 20, 100}, sizes_d[16] = {1e3, 1e4, 1e5, 1e6};
    size_t n_rates = 4, n_sizes = 4, missed = 0;
    uint64_t sizes[16];
    struct bf_netbench_row rows[256];
    const char *format = "text";
    double rtt = 20.0;
    int repeats = 3, c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if ((rc = parse_list("netbench", "--rates", optarg, 1e5, rates, 16,
                                 &n_rates)))
                return rc;
            break;
        case 's':
            if ((rc = parse_list("netbench", "--sizes", optarg, 1e9, sizes_d,
                                 16, &n_sizes)))
                return rc;
            break;
        case 't': {
            char *end;

            errno = 0;
            rtt = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(rtt >= 0) || rtt > 10000)
                return usage_error("netbench",
                                   "--rtt: '%s' is not a delay in 0..10000 ms",
                                   optarg);
            break;
        }
        case 'n':
            if ((rc = parse_int("netbench", "--repeats", optarg, 1, 1000,
                                &repeats)))
                return rc;
            break;
        case 'f': {
            int f = BF_REPORT_TEXT;

            if ((rc = parse_format("netbench", optarg, 1, &f)))
                return rc;
            format = optarg;
            break;
        }
        case 'h':
            netbench_help();
            return EXIT_OK;
        default:
            return usage_error("netbench", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("netbench", "unexpected argument '%s'",
                           argv[optind]);
    for (size_t j = 0; j < n_sizes; j++)
        sizes[j] = (uint64_t)sizes_d[j];
    bf_log_info("netbench: %zu rates x %zu sizes, %d repeats, RTT %g ms",
                n_rates, n_sizes, repeats, rtt);
    rc = bf_netbench_run(rates, n_rates, sizes, n_sizes, rtt, repeats, rows);
    if (rc)
        return error_exit(rc);
    if (strcmp(format, "csv") == 0)
        printf("rate_mbps,bytes,ideal_ms,measured_ms,error_ms,within\r\n");
    else if (strcmp(format, "md") == 0)
        printf("| rate Mbit/s | bytes | ideal ms | measured ms | error ms | "
               "within target |\n| ---: | ---: | ---: | ---: | ---: | --- |\n");
    else
        printf("%10s  %9s  %10s  %11s  %9s  %s\n", "rate Mbit/s", "bytes",
               "ideal ms", "measured ms", "error ms", "within target");
    for (size_t i = 0; i < n_rates * n_sizes; i++) {
        const struct bf_netbench_row *r = &rows[i];
        const char *yes = r->within ? "yes" : "NO";

        missed += !r->within;
        if (strcmp(format, "csv") == 0)
            printf("%g,%llu,%.3f,%.3f,%.3f,%d\r\n", r->rate_mbps,
                   (unsigned long long)r->bytes, r->ideal_ms, r->measured_ms,
                   r->error_ms, r->within);
        else if (strcmp(format, "md") == 0)
            printf("| %g | %llu | %.3f | %.3f | %+.3f | %s |\n", r->rate_mbps,
                   (unsigned long long)r->bytes, r->ideal_ms, r->measured_ms,
                   r->error_ms, yes);
        else
            printf("%10g  %9llu  %10.3f  %11.3f  %+9.3f  %s\n", r->rate_mbps,
                   (unsigned long long)r->bytes, r->ideal_ms, r->measured_ms,
                   r->error_ms, yes);
    }
    if (missed) {
        bf_log_error("%zu of %zu rows missed the target", missed,
                     n_rates * n_sizes);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* bench */

static void bench_help(void)
{
    printf("usage: bfbench bench [--models A,B,...] [--size PX] "
           "[--threads N] [--warmup N]\n"
           "                     [--iters N] [--rounds N] [--lockstep]\n"
           "                     [--train [--batch N] [--channels C]]\n"
           "\n"
           "Time batch-1 forwards through the shim on three inference "
           "paths: plain\n"
           "(torchvision's computation), fold (BatchNorm folded into "
           "convolutions) and\n"
           "fold-cl (fold, channels-last), alternating models and paths in "
           "rounds; print\n"
           "medians, the speed-up over plain and the largest output "
           "difference from plain\n"
           "relative to the largest plain output.\n"
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
           "2)\n");
}

static int cmd_bench(int argc, char **argv)
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
        {"batch", required_argument, NULL, 'b'},
        {"channels", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char list[1024] = "";
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

/* The edge server */

static void edge_help(void)
{
    printf(
        "usage: bfbench edge --scenario FILE [OPTIONS]\n"
        "\n"
        "Serve the offloaded cases of an inference scenario (every case whose\n"
        "config is not local) as the edge server: config id = case index, the\n"
        "tails built from the same keys and seed as the device side. Run it\n"
        "on the server machine and `bfbench run` with `link: direct` and\n"
        "`edge_address: HOST:PORT` on the device. SIGINT/SIGTERM stop it\n"
        "after the requests in flight are answered.\n"
        "\n"
        "options:\n"
        "  --scenario FILE        the scenario the device runs (required)\n"
        "  --listen ADDR:PORT     address to listen on (127.0.0.1:7450;\n"
        "                         port 0 picks a free one)\n"
        "  --workers N            tail threads (scenario's edge_workers)\n"
        "  --queue N              requests that may wait before busy\n"
        "                         replies (scenario's edge_queue)\n"
        "  --threads N            intra-op threads per tail (0 = cores)\n"
        "  --max-connections N    concurrent clients (64)\n"
        "  --idle-timeout-ms N    close a connection idle this long (60000)\n"
        "  --io-timeout-ms N      a frame must complete within this (10000)\n"
        "  --ready-file PATH      write ADDR:PORT there once listening\n"
        "  --help                 this text\n"
        "\n"
        "Once listening it prints one line on stdout:\n"
        "  bfbench edge: ready on ADDR:PORT (N endpoints)\n");
}

/* Split "host:port" into host (size bytes) and port. */
static int parse_address(const char *text, char *host, size_t size, int *port)
{
    const char *colon = strrchr(text, ':');
    char *end;
    long v;

    if (!colon || colon == text || (size_t)(colon - text) >= size)
        return usage_error("edge", "--listen: '%s' is not ADDR:PORT", text);
    errno = 0;
    v = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || v < 0 || v > 65535)
        return usage_error("edge", "--listen: bad port in '%s'", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (int)v;
    return 0;
}

/* Write text to path through a temporary file and a rename. */
static int write_ready_file(const char *path, const char *text)
{
    char tmp[1100];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return bf_err_set(BF_EIO, "%s: %s", tmp, strerror(errno));
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return bf_err_set(BF_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

/* Build the tails of every offloaded case into the server. */
static int edge_add_cases(struct bf_edge *e, const struct bf_scenario *sc,
                          int *count)
{
    *count = 0;
    for (size_t i = 0; i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];
        struct bf_split_params p;
        struct bf_split *s = NULL;
        int rc;

        if (strcmp(c->config, "local") == 0)
            continue;
        bf_offload_split_params(sc, c, &p);
        bf_log_info("edge: config %zu: %s %s", i, c->config, c->model);
        rc = bf_split_open(&p, &s);
        if (rc == 0)
            rc = bf_edge_add(e, (uint32_t)i, s);
        if (rc)
            return rc;
        (*count)++;
    }
    return 0;
}

static int cmd_edge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"queue", required_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'm'},
        {"idle-timeout-ms", required_argument, NULL, 'i'},
        {"io-timeout-ms", required_argument, NULL, 'o'},
        {"ready-file", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct bf_scenario_params sp = {.model_exists = bf_cli_model_known,
                                    .weights_check = bf_weights_check};
    struct bf_scenario *sc = NULL;
    struct bf_edge *e = NULL;
    struct bf_edge_stats st;
    const char *scenario = NULL, *listen = "127.0.0.1:7450", *ready = NULL;
    int workers = -1, queue = -1, threads = 0, max_conn = 0;
    int idle_ms = 0, io_ms = 0;
    char host[256], where[300];
    int port = 0, n = 0, c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            scenario = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'w':
            rc = parse_int("edge", "--workers", optarg, 1, 64, &workers);
            break;
        case 'q':
            rc = parse_int("edge", "--queue", optarg, 0, 4096, &queue);
            break;
        case 't':
            rc = parse_int("edge", "--threads", optarg, 0, 1024, &threads);
            break;
        case 'm':
            rc = parse_int("edge", "--max-connections", optarg, 1, 4096,
                           &max_conn);
            break;
        case 'i':
            rc = parse_int("edge", "--idle-timeout-ms", optarg, 1, 86400000,
                           &idle_ms);
            break;
        case 'o':
            rc = parse_int("edge", "--io-timeout-ms", optarg, 1, 86400000,
                           &io_ms);
            break;
        case 'r':
            ready = optarg;
            break;
        case 'h':
            edge_help();
            return EXIT_OK;
        default:
            return usage_error("edge", "unknown option");
        }
        if (c != 's' && c != 'l' && c != 'r' && rc)
            return rc;
        rc = 0;
    }
    if (optind != argc)
        return usage_error("edge", "unexpected argument '%s'", argv[optind]);
    if (!scenario)
        return usage_error("edge", "--scenario FILE is required");
    if ((rc = parse_address(listen, host, sizeof(host), &port)))
        return rc;
    rc = bf_scenario_load(scenario, &sp, &sc);
    if (rc)
        return error_exit(rc);
    if (sc->task != BF_TASK_INFERENCE) {
        bf_scenario_free(sc);
        return usage_error("edge", "%s is a train scenario: nothing to serve",
                           scenario);
    }
    {
        struct bf_edge_params ep = {
            .host = host,
            .port = port,
            .workers = workers > 0 ? workers : sc->edge_workers,
            .queue = queue >= 0 ? queue : sc->edge_queue,
            .max_connections = max_conn,
            .idle_timeout_ms = idle_ms,
            .io_timeout_ms = io_ms};

        rc = bf_torch_set_threads(threads);
        if (rc == 0)
            rc = bf_edge_open(&ep, &e);
    }
    if (rc == 0)
        rc = edge_add_cases(e, sc, &n);
    if (rc == 0 && n == 0)
        rc =
            bf_err_set(BF_EINVAL, "%s: no case offloads (all local)", scenario);
    if (rc == 0)
        rc = bf_edge_start(e);
    if (rc == 0) {
        snprintf(where, sizeof(where), "%s:%d", host, bf_edge_port(e));
        if (ready)
            rc = write_ready_file(ready, where);
    }
    if (rc) {
        bf_edge_close(e);
        bf_scenario_free(sc);
        return error_exit(rc);
    }
    stop_flag = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("bfbench edge: ready on %s (%d endpoints)\n", where, n);
    fflush(stdout);
    while (!stop_flag) {
        struct timespec ts = {.tv_nsec = 100000000L};

        nanosleep(&ts, NULL);
    }
    bf_log_info("edge: stopping (finishing requests in flight)");
    bf_edge_stop(e);
    bf_edge_get_stats(e, &st);
    bf_log_info("edge: %llu connections, %llu ok, %llu busy, %llu bad, "
                "%llu unknown config, %llu errors, %llu timeouts, %llu "
                "refused",
                (unsigned long long)st.connections, (unsigned long long)st.ok,
                (unsigned long long)st.busy, (unsigned long long)st.bad,
                (unsigned long long)st.unknown, (unsigned long long)st.errors,
                (unsigned long long)st.timeouts,
                (unsigned long long)st.refused);
    bf_edge_close(e);
    bf_scenario_free(sc);
    if (ready)
        unlink(ready);
    return EXIT_OK;
}

/* Run the command argv[0] with its arguments. */
static int main_dispatch(int argc, char **argv)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "models") == 0)
        return cmd_models(argc, argv);
    if (strcmp(cmd, "keys") == 0)
        return cmd_keys(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc, argv);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc, argv);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc, argv);
    if (strcmp(cmd, "netbench") == 0)
        return cmd_netbench(argc, argv);
    if (strcmp(cmd, "edge") == 0)
        return cmd_edge(argc, argv);
    if (strcmp(cmd, "calibrate") == 0)
        return cmd_calibrate(argc, argv);
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
