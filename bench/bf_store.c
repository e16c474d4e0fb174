/*
 * bf_store: the SQLite results store: the schema, opening (checks and
 * migration) and closing. The writes are in bf_store_write.c, the readers
 * in bf_store_read.c and bf_store_query.c (bf_store_int.h: what they share).
 *
 * One connection per handle. Every statement the store runs is prepared once
 * in bf_store_open() and reused (reset and unbound after each use), so the
 * write path does no SQL parsing. Writes outside the batch calls
 * (bf_store_add_samples, _aggregates, _epochs, _accuracy) are single
 * statements in autocommit mode, so each is committed (and durable up to
 * synchronous=NORMAL) when the call returns; the batch calls wrap their
 * rows in one BEGIN IMMEDIATE ... COMMIT and roll back on any failure, so a
 * batch is stored whole or not at all.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store.h"
#include "bf_store_int.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS 5000

/*
 * Schema version 1, one SQL text with its comments; column comments sit
 * inside the CREATE statements so that `sqlite3 bench.db .schema` shows
 * them.
 */
static const char schema_v1[] =
    "-- bottlefit-bench results store, schema version 1.\n"
    "-- Times are ISO 8601 UTC text (2026-11-21T08:00:00Z); durations are\n"
    "-- integer nanoseconds; a NULL stage timing means the stage does not\n"
    "-- exist in that configuration (never zero).\n"
    "\n"
    "-- One row per `bfbench run`. Committed as 'running' before any case\n"
    "-- starts, so a killed process leaves status 'running' and\n"
    "-- finished_at NULL, which reports show as unfinished.\n"
    "CREATE TABLE runs (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    started_at TEXT NOT NULL,\n"
    "    finished_at TEXT, -- NULL until the run ends\n"
    "    status TEXT NOT NULL CHECK (status IN\n"
    "        ('running', 'finished', 'failed', 'interrupted')),\n"
    "    scenario_path TEXT NOT NULL,\n"
    "    scenario_name TEXT NOT NULL,\n"
    "    scenario_sha256 TEXT NOT NULL, -- hex digest of the file bytes\n"
    "    scenario_text TEXT NOT NULL, -- the file itself, for exact replay\n"
    "    seed INTEGER NOT NULL, -- the uint64 seed's bits read as int64\n"
    "    git_commit TEXT NOT NULL, -- 'unknown' outside a git tree\n"
    "    git_dirty INTEGER NOT NULL CHECK (git_dirty IN (-1, 0, 1)),\n"
    "        -- 1 dirty, 0 clean, -1 unknown\n"
    "    host TEXT NOT NULL,\n"
    "    cpu_model TEXT NOT NULL,\n"
    "    cores_online INTEGER NOT NULL,\n"
    "    libtorch_version TEXT NOT NULL,\n"
    "    blas TEXT NOT NULL,\n"
    "    build_type TEXT NOT NULL, -- CMAKE_BUILD_TYPE of bfbench\n"
    "    bfbench_version TEXT NOT NULL,\n"
    "    input_hashes TEXT NOT NULL, -- JSON object: input name -> SHA-256\n"
    "    command_line TEXT NOT NULL\n"
    ");\n"
    "\n"
    "-- One row per expanded case of a run, committed 'running' when the\n"
    "-- case starts.\n"
    "CREATE TABLE cases (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    case_index INTEGER NOT NULL, -- position in the expanded matrix\n"
    "    config TEXT NOT NULL, -- local, edge, ae-split, spinn-split, ...\n"
    "    model TEXT NOT NULL,\n"
    "    weights TEXT NOT NULL, -- 'random' or the weights file path\n"
    "    weights_sha256 TEXT NOT NULL, -- '' for random weights\n"
    "    input_channels INTEGER NOT NULL,\n"
    "    input_h INTEGER NOT NULL,\n"
    "    input_w INTEGER NOT NULL,\n"
    "    batch INTEGER NOT NULL,\n"
    "    threads INTEGER NOT NULL, -- intra-op threads\n"
    "    fold_bn INTEGER NOT NULL, -- 1: batch norm folded into convs\n"
    "    channels_last INTEGER NOT NULL,\n"
    "    warmup INTEGER NOT NULL, -- untimed requests before sampling\n"
    "    params INTEGER NOT NULL,\n"
    "    macs INTEGER NOT NULL, -- per image\n"
    "    status TEXT NOT NULL CHECK (status IN\n"
    "        ('running', 'finished', 'failed', 'skipped')),\n"
    "    error TEXT, -- why it failed or was skipped, else NULL\n"
    "    started_at TEXT NOT NULL,\n"
    "    finished_at TEXT -- NULL until the case ends\n"
    ");\n"
    "-- Reports walk the cases of a run in case order.\n"
    "CREATE INDEX cases_run_case ON cases(run_id, case_index);\n"
    "\n"
    "-- One row per timed request.\n"
    "CREATE TABLE samples (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    seq INTEGER NOT NULL, -- request number within the case\n"
    "    e2e_ns INTEGER,\n"
    "    head_ns INTEGER,\n"
    "    encode_ns INTEGER,\n"
    "    transfer_ns INTEGER,\n"
    "    server_queue_ns INTEGER,\n"
    "    server_decode_ns INTEGER,\n"
    "    tail_ns INTEGER,\n"
    "    reply_ns INTEGER,\n"
    "    bytes_up INTEGER,\n"
    "    bytes_down INTEGER,\n"
    "    PRIMARY KEY (case_id, seq)\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "-- Statistics computed in C from the samples, one row per case and\n"
    "-- metric, each with its unit and how it was obtained.\n"
    "CREATE TABLE aggregates (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    metric TEXT NOT NULL, -- e2e, head, transfer, ...\n"
    "    unit TEXT NOT NULL, -- ms, bytes, mJ, ...\n"
    "    method TEXT NOT NULL,\n"
    "        -- measured:<clock or sensor> or modeled:<profile>:<version>\n"
    "    n INTEGER NOT NULL, -- number of samples summarised\n"
    "    mean REAL,\n"
    "    stddev REAL, -- sample standard deviation, 0 when n < 2\n"
    "    min REAL,\n"
    "    p50 REAL,\n"
    "    p90 REAL,\n"
    "    p99 REAL,\n"
    "    max REAL,\n"
    "    PRIMARY KEY (case_id, metric)\n"
    ") WITHOUT ROWID;\n";

/*
 * Schema version 2: how a case's model was trained, its epochs and its
 * accuracy. Applied to a version 1 DB, and after schema_v1 to a new one.
 * The comments of the new cases columns sit above their ALTER statements:
 * SQLite copies an added column's text into the CREATE statement, where a
 * trailing comment would swallow the closing parenthesis.
 */
static const char schema_v2[] =
    "-- Schema version 2: training results.\n"
    "-- How the case's model was trained; NULL for a case without training.\n"
    "-- bottlefit, naive, kd, hnd, ghnd, ghnd-ft, ghnd-kd, ae-split,\n"
    "-- spinn-split, teacher, jpeg:\n"
    "ALTER TABLE cases ADD COLUMN strategy TEXT;\n"
    "-- 1: encoder frozen after the first stage:\n"
    "ALTER TABLE cases ADD COLUMN freeze_encoder INTEGER "
    "CHECK (freeze_encoder IN (0, 1));\n"
    "-- BottleFit bottleneck design and its channels at the split:\n"
    "ALTER TABLE cases ADD COLUMN bottleneck_version INTEGER;\n"
    "ALTER TABLE cases ADD COLUMN bottleneck_channels INTEGER;\n"
    "-- Transmitted tensor per image, CxHxW (12x29x29):\n"
    "ALTER TABLE cases ADD COLUMN split_shape TEXT;\n"
    "-- The device-side head: parameters, MACs per image, fp32 bytes:\n"
    "ALTER TABLE cases ADD COLUMN head_params INTEGER;\n"
    "ALTER TABLE cases ADD COLUMN head_macs INTEGER;\n"
    "ALTER TABLE cases ADD COLUMN head_bytes INTEGER;\n"
    "-- Training and evaluation data (fashion-mnist) and its digest:\n"
    "ALTER TABLE cases ADD COLUMN dataset TEXT;\n"
    "ALTER TABLE cases ADD COLUMN dataset_sha256 TEXT;\n"
    "-- Weights the student was distilled from:\n"
    "ALTER TABLE cases ADD COLUMN teacher_sha256 TEXT;\n"
    "\n"
    "-- One row per training epoch of a case, numbered across its phases.\n"
    "CREATE TABLE epochs (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    seq INTEGER NOT NULL, -- 0, 1, ... across the phases of the case\n"
    "    phase TEXT NOT NULL, -- stage1, stage2, teacher, ...\n"
    "    epoch INTEGER NOT NULL, -- 1-based within the phase\n"
    "    lr REAL, -- learning rate of the epoch\n"
    "    train_loss REAL, -- mean over the epoch's batches\n"
    "    val_top1 REAL, -- percent on the validation split (selection)\n"
    "    seconds REAL, -- training time of the epoch\n"
    "    images_per_s REAL, -- training throughput\n"
    "    best INTEGER NOT NULL CHECK (best IN (0, 1)),\n"
    "        -- 1: the best validation top-1 so far (checkpointed)\n"
    "    PRIMARY KEY (case_id, seq)\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "-- One row per evaluation of a case's model: a variant (fp32, int8\n"
    "-- bottleneck, JPEG input at a quality) on a data split. Sizes are\n"
    "-- means per image; NULL where they do not apply. The two ratios are\n"
    "-- computed in C when the row is stored.\n"
    "CREATE TABLE accuracy (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    variant TEXT NOT NULL, -- fp32, int8, jpeg-q90, ...\n"
    "    split TEXT NOT NULL CHECK (split <> 'val'), -- test\n"
    "    n INTEGER NOT NULL, -- images evaluated\n"
    "    top1 REAL NOT NULL, -- percent\n"
    "    top5 REAL NOT NULL, -- percent\n"
    "    payload_bytes REAL, -- transmitted per image\n"
    "    payload_zstd_bytes REAL, -- the same, entropy-coded with zstd\n"
    "    transmitted_elements REAL, -- elements of the transmitted tensor\n"
    "    input_elements REAL, -- C*H*W of the model input\n"
    "    jpeg_reference_bytes REAL,\n"
    "        -- JPEG bytes of the same inputs at the reference quality\n"
    "    jpeg_reference_quality INTEGER, -- 1..100\n"
    "    compression_vs_jpeg REAL,\n"
    "        -- 1 - payload_bytes / jpeg_reference_bytes\n"
    "    element_ratio REAL, -- transmitted_elements / input_elements\n"
    "    method TEXT NOT NULL, -- measured:host, ...\n"
    "    PRIMARY KEY (case_id, variant, split)\n"
    ") WITHOUT ROWID;\n";

/*
 * The steps that build the schema: step i takes a DB at version i to
 * version i + 1 (version 0 is an empty file).
 */
/*
 * Schema version 3: the exit rule of the SPINN-style baseline, per
 * accuracy row (NULL for every other variant). Comments above the ALTERs,
 * as in version 2.
 */
static const char schema_v3[] =
    "-- Schema version 3: early-exit operating points.\n"
    "-- Fraction of the images that reached the split and were sent\n"
    "-- (the others left at an early exit on the device):\n"
    "ALTER TABLE accuracy ADD COLUMN offload_fraction REAL;\n"
    "-- Mean multiply-accumulates run on the device per image:\n"
    "ALTER TABLE accuracy ADD COLUMN device_macs REAL;\n";

/*
 * Schema version 4: how an inference case reached its edge server. NULL
 * for cases that sent nothing (local, training).
 */
static const char schema_v4[] =
    "-- Schema version 4: the network of an inference case.\n"
    "-- The link, described: 'fixed 20 Mbit/s RTT 20 ms (emulated in user\n"
    "-- space)', 'tbf 20 Mbit/s (kernel, namespaces)', 'direct host:port':\n"
    "ALTER TABLE cases ADD COLUMN link TEXT;\n"
    "-- Its uplink rate and round-trip propagation delay as configured\n"
    "-- (NULL when not emulated):\n"
    "ALTER TABLE cases ADD COLUMN link_rate_mbps REAL;\n"
    "ALTER TABLE cases ADD COLUMN link_rtt_ms REAL;\n"
    "-- Other devices sending to the same edge server meanwhile:\n"
    "ALTER TABLE cases ADD COLUMN background_clients INTEGER;\n";

/*
 * Schema version 5: device models. A case's requests as each device
 * profile would run them, and the calibrations of the profiles.
 */
static const char schema_v5[] =
    "-- Schema version 5: devices.\n"
    "-- One row per inference case and device profile. Times are medians\n"
    "-- over the case's requests (e2e also mean and p90); energies are\n"
    "-- means per inference. latency_method and power_method say whether\n"
    "-- each number is modeled (and with what) or measured (and by what).\n"
    "CREATE TABLE device_results (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    device TEXT NOT NULL, -- profile name\n"
    "    role TEXT NOT NULL, -- device\n"
    "    latency_method TEXT NOT NULL,\n"
    "    power_method TEXT NOT NULL,\n"
    "    radio TEXT, -- radio power preset; NULL when nothing was sent\n"
    "    requests INTEGER NOT NULL,\n"
    "    host_head_ms REAL, -- measured on this host\n"
    "    head_ms REAL, -- on the device\n"
    "    encode_ms REAL, -- measured on this host\n"
    "    transfer_ms REAL, -- uplink, propagation and reply, measured\n"
    "    server_ms REAL, -- queue, decode and tail\n"
    "    e2e_ms REAL,\n"
    "    e2e_mean_ms REAL,\n"
    "    e2e_p90_ms REAL,\n"
    "    avg_power_mw REAL,\n"
    "    avg_power_above_idle_mw REAL,\n"
    "    energy_mj REAL,\n"
    "    energy_above_idle_mj REAL,\n"
    "    PRIMARY KEY (case_id, device)\n"
    ") WITHOUT ROWID;\n"
    "-- One row per `bfbench calibrate`: the fitted latency model.\n"
    "CREATE TABLE calibrations (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    profile TEXT NOT NULL,\n"
    "    profile_path TEXT NOT NULL,\n"
    "    created_at TEXT NOT NULL, -- UTC ISO 8601\n"
    "    form TEXT NOT NULL, -- roofline | additive\n"
    "    conv_gmacs REAL NOT NULL,\n"
    "    grouped_gmacs REAL NOT NULL,\n"
    "    linear_gmacs REAL NOT NULL,\n"
    "    bandwidth_gbs REAL NOT NULL,\n"
    "    layer_overhead_us REAL NOT NULL,\n"
    "    conv3x3_gmacs REAL NOT NULL,\n"
    "    fitted TEXT NOT NULL, -- the parameters fitted, comma-separated\n"
    "    fit_rms_pct REAL, -- relative residuals of the fit\n"
    "    loo_mean_abs_pct REAL, -- leave-one-out, NULL under 2 points\n"
    "    loo_max_abs_pct REAL\n"
    ");\n"
    "CREATE TABLE calibration_points (\n"
    "    calibration_id INTEGER NOT NULL REFERENCES calibrations(id),\n"
    "    seq INTEGER NOT NULL,\n"
    "    model TEXT NOT NULL,\n"
    "    input_px INTEGER NOT NULL,\n"
    "    macs INTEGER NOT NULL,\n"
    "    layers INTEGER NOT NULL,\n"
    "    measured_ms REAL NOT NULL, -- published, or measured here\n"
    "    method TEXT NOT NULL, -- the source, or measured:host\n"
    "    predicted_ms REAL NOT NULL, -- by the fit to every point\n"
    "    loo_ms REAL, -- by the fit to the others\n"
    "    PRIMARY KEY (calibration_id, seq)\n"
    ") WITHOUT ROWID;\n";

/*
 * Schema version 6: resuming runs. A case's identity across runs and DBs,
 * and how often a run was resumed.
 */
static const char schema_v6[] =
    "-- Schema version 6: resume and compare.\n"
    "-- SHA-256 of the case's scenario settings and matrix point; NULL in\n"
    "-- runs recorded before version 6:\n"
    "ALTER TABLE cases ADD COLUMN case_hash TEXT;\n"
    "CREATE INDEX cases_hash ON cases(case_hash);\n"
    "-- Times the run was resumed (`bfbench run --resume`):\n"
    "ALTER TABLE runs ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0;\n";

/*
 * Schema version 7: trustworthy comparisons. The platform a run's numbers
 * were computed on, per-image predictions (so that two models evaluated on
 * the same images can be compared with a paired test), and known-answer
 * checks of the run's deterministic code paths.
 */
static const char schema_v7[] =
    "-- Schema version 7: platform fingerprints, predictions, checks.\n"
    "-- What decides the run's floating-point results: sorted key=value\n"
    "-- lines (CPU model and features, kernel-selecting environment, BLAS\n"
    "-- core, oneDNN ISA, library versions, compiler); NULL before v7:\n"
    "ALTER TABLE runs ADD COLUMN platform TEXT;\n"
    "-- SHA-256 of platform; equal fingerprints allow exact comparison:\n"
    "ALTER TABLE runs ADD COLUMN platform_sha256 TEXT;\n"
    "\n"
    "-- One row per accuracy row that kept its per-image results: image i\n"
    "-- of the evaluated items, in evaluation order.\n"
    "CREATE TABLE predictions (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    variant TEXT NOT NULL,\n"
    "    split TEXT NOT NULL,\n"
    "    n INTEGER NOT NULL, -- images\n"
    "    items_sha256 TEXT NOT NULL,\n"
    "        -- of the evaluated item indexes (uint32 LE): same items, same\n"
    "        -- digest, so that two rows can be paired image by image\n"
    "    classes BLOB NOT NULL, -- predicted class, uint16 LE per image\n"
    "    top1 BLOB NOT NULL, -- bit i (LSB first): image i top-1 correct\n"
    "    topk BLOB NOT NULL, -- bit i: the label among the k best\n"
    "    PRIMARY KEY (case_id, variant, split)\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "-- Known-answer checks of a run: a deterministic computation on a\n"
    "-- fixed input (the 8-bit quantizer, ...) and the digest of its\n"
    "-- output, equal on every platform while the code is unchanged.\n"
    "CREATE TABLE checks (\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    name TEXT NOT NULL,\n"
    "    value TEXT NOT NULL,\n"
    "    PRIMARY KEY (run_id, name)\n"
    ") WITHOUT ROWID;\n";

/*
 * Schema version 8: seeds and artifacts. The training seed of each case,
 * and the files a case wrote (student checkpoints, teachers) with their
 * SHA-256, so that a reader can tell a file that changed since.
 */
static const char schema_v8[] =
    "-- Schema version 8: seeds and artifacts.\n"
    "-- The case's training seed (an entry of the scenario's `seeds`; a\n"
    "-- teacher's or JPEG case's: its teacher's); NULL for inference cases\n"
    "-- and before v8:\n"
    "ALTER TABLE cases ADD COLUMN seed INTEGER;\n"
    "\n"
    "-- Files a case produced, content-addressed where the name says so\n"
    "-- (student-<model>-<first 16 hex of the SHA-256>.bfw).\n"
    "CREATE TABLE artifacts (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    kind TEXT NOT NULL, -- 'student', 'teacher'\n"
    "    path TEXT NOT NULL,\n"
    "    sha256 TEXT NOT NULL,\n"
    "    bytes INTEGER NOT NULL,\n"
    "    PRIMARY KEY (case_id, kind)\n"
    ") WITHOUT ROWID;\n";

/*
 * Schema version 9: runtimes and prediction intervals of device models.
 */
static const char schema_v9[] =
    "-- Schema version 9: device runtimes and prediction intervals.\n"
    "-- The runtime the profile models (pytorch-fp16, tensorrt-fp16,\n"
    "-- ncnn-fp32, ...); NULL before v9:\n"
    "ALTER TABLE device_results ADD COLUMN runtime TEXT;\n"
    "-- The numbers again with the device's modeled compute times at the\n"
    "-- low and at the high end of the model's 90 % prediction interval\n"
    "-- (leave-one-out residuals of its fit; bf_device.h); NULL where the\n"
    "-- times are measured or the model states no interval. Average power\n"
    "-- at a bound need not be the lower or higher one.\n"
    "ALTER TABLE device_results ADD COLUMN head_lo_ms REAL;\n"
    "ALTER TABLE device_results ADD COLUMN head_hi_ms REAL;\n"
    "ALTER TABLE device_results ADD COLUMN e2e_lo_ms REAL;\n"
    "ALTER TABLE device_results ADD COLUMN e2e_hi_ms REAL;\n"
    "ALTER TABLE device_results ADD COLUMN avg_power_lo_mw REAL;\n"
    "ALTER TABLE device_results ADD COLUMN avg_power_hi_mw REAL;\n"
    "ALTER TABLE device_results ADD COLUMN energy_lo_mj REAL;\n"
    "ALTER TABLE device_results ADD COLUMN energy_hi_mj REAL;\n"
    "ALTER TABLE calibrations ADD COLUMN runtime TEXT;\n"
    "ALTER TABLE calibrations ADD COLUMN sublinear_us REAL;\n"
    "-- log(measured / leave-one-out prediction): mean, standard deviation\n"
    "-- and the factor of the 90 % prediction interval:\n"
    "ALTER TABLE calibrations ADD COLUMN interval_log_mean REAL;\n"
    "ALTER TABLE calibrations ADD COLUMN interval_log_sd REAL;\n"
    "ALTER TABLE calibrations ADD COLUMN interval_factor REAL;\n";

/*
 * Schema version 10: case claims. A case is claimed before it runs, by one
 * process, under a lease its owner renews while it runs; several processes
 * on one DB then never run a case twice, and a dead owner's case is taken
 * over once its lease has run out.
 */
static const char schema_v10[] =
    "-- Schema version 10: case claims.\n"
    "CREATE TABLE claims (\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    case_hash TEXT NOT NULL,\n"
    "    owner TEXT NOT NULL, -- host:pid:start of the claiming process\n"
    "    lease_until REAL NOT NULL, -- Unix seconds; past: the owner is gone\n"
    "    PRIMARY KEY (run_id, case_hash)\n"
    ") WITHOUT ROWID;\n";

/*
 * Schema version 11: merged runs (bfbench merge). Each source run merged
 * into a run of this DB is one merges row (its provenance); each case
 * copied from it points at that row.
 */
static const char schema_v11[] =
    "-- Schema version 11: merged runs.\n"
    "CREATE TABLE merges (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id), -- the merged run\n"
    "    merged_at TEXT NOT NULL, -- UTC ISO 8601\n"
    "    source_path TEXT NOT NULL, -- the source DB as named to merge\n"
    "    source_run_id INTEGER NOT NULL,\n"
    "    source_status TEXT NOT NULL,\n"
    "    source_started_at TEXT NOT NULL,\n"
    "    source_finished_at TEXT,\n"
    "    host TEXT NOT NULL,\n"
    "    cpu_model TEXT NOT NULL,\n"
    "    git_commit TEXT NOT NULL,\n"
    "    git_dirty INTEGER NOT NULL,\n"
    "    platform_sha256 TEXT,\n"
    "    command_line TEXT NOT NULL,\n"
    "    cases_added INTEGER NOT NULL, -- copied into the run\n"
    "    cases_same INTEGER NOT NULL, -- there already, same results\n"
    "    cases_left INTEGER NOT NULL\n"
    "        -- left out: incomplete, or (forced) results that differ\n"
    ");\n"
    "-- The merges row a case was copied from; NULL: recorded here:\n"
    "ALTER TABLE cases ADD COLUMN merge_id INTEGER REFERENCES merges(id);\n";

/*
 * Schema version 12: readable losses. The reference sums its distillation
 * and reconstruction losses over the batch's images; each epoch also
 * records its loss per training image.
 */
static const char schema_v12[] =
    "-- Schema version 12: the training loss per image.\n"
    "-- epochs.train_loss as reduced, per training image: a loss summed\n"
    "-- over the batch (HND, GHND, autoencoder) divided by the images, a\n"
    "-- mean one as it is; NULL before v12:\n"
    "ALTER TABLE epochs ADD COLUMN train_loss_per_image REAL;\n";

/*
 * Schema version 13: the precision of the inference path (scenario key
 * `precision`) and where libtorch computed (`device`).
 */
static const char schema_v13[] =
    "-- Schema version 13: the folded path's compute type and the device.\n"
    "-- 'bf16' or 'fp16'; NULL: fp32 (every case before v13):\n"
    "ALTER TABLE cases ADD COLUMN precision TEXT;\n"
    "-- 'cuda:0', ...; NULL: the CPU (every case before v13):\n"
    "ALTER TABLE cases ADD COLUMN device TEXT;\n";

/*
 * Schema version 14: resumed runs. A run's row holds the provenance of the
 * process that began it; each `run --resume` of it (which may be on
 * another machine or build) is one resumes row with its own, and each case
 * a resuming process (or one of its --jobs workers) recorded points at it.
 */
static const char schema_v14[] =
    "-- Schema version 14: resumed runs.\n"
    "CREATE TABLE resumes (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    resumed_at TEXT NOT NULL, -- UTC ISO 8601\n"
    "    host TEXT NOT NULL,\n"
    "    cpu_model TEXT NOT NULL,\n"
    "    cores_online INTEGER NOT NULL,\n"
    "    git_commit TEXT NOT NULL,\n"
    "    git_dirty INTEGER NOT NULL CHECK (git_dirty IN (-1, 0, 1)),\n"
    "    libtorch_version TEXT NOT NULL,\n"
    "    blas TEXT NOT NULL,\n"
    "    build_type TEXT NOT NULL,\n"
    "    bfbench_version TEXT NOT NULL,\n"
    "    command_line TEXT NOT NULL,\n"
    "    platform TEXT,\n"
    "    platform_sha256 TEXT,\n"
    "    cases_kept INTEGER NOT NULL, -- complete when it resumed\n"
    "    cases_dropped INTEGER NOT NULL -- incomplete, deleted to run again\n"
    ");\n"
    "CREATE INDEX resumes_run ON resumes(run_id, id);\n"
    "-- The resumes row of the process that recorded a case; NULL: the\n"
    "-- process that began the run (runs' provenance), or before v14:\n"
    "ALTER TABLE cases ADD COLUMN resume_id INTEGER REFERENCES resumes(id);\n";

static const char *const schema_steps[] = {
    schema_v1,  schema_v2,  schema_v3,  schema_v4, schema_v5,
    schema_v6,  schema_v7,  schema_v8,  schema_v9, schema_v10,
    schema_v11, schema_v12, schema_v13, schema_v14};

_Static_assert(sizeof(schema_steps) / sizeof(schema_steps[0]) ==
                   BF_STORE_SCHEMA_VERSION,
               "one schema step per version");

/* Read PRAGMA user_version. */
static int read_user_version(struct bf_store *store, int *version)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    rc = sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        int code = sqlite3_errcode(store->db);

        if (code == SQLITE_NOTADB)
            rc = bf_err_set(BF_EDB, "%s: not an SQLite database (%s)",
                            store->path, sqlite3_errmsg(store->db));
        else
            rc = db_fail(store, "reading the schema version");
        sqlite3_finalize(stmt);
        return rc;
    }
    sqlite3_finalize(stmt);
    return 0;
}

/* Callback of PRAGMA journal_mode: the mode now in force. */
static int journal_mode_cb(void *ctx, int ncols, char **values, char **names)
{
    char *mode = ctx;
    size_t len;

    (void)names;
    if (ncols < 1 || !values[0])
        return 0;
    len = strlen(values[0]);
    if (len > 15)
        len = 15;
    memcpy(mode, values[0], len);
    mode[len] = '\0';
    return 0;
}

/*
 * Connection settings: WAL journal, foreign keys, synchronous=NORMAL.
 * Switching to WAL needs the file's exclusive lock; where another
 * connection races for it (processes opening one new DB at once), SQLite
 * answers SQLITE_BUSY at once instead of calling the busy handler (waiting
 * could deadlock), so the switch is retried here, as long as the busy
 * timeout.
 */
static int configure(struct bf_store *store)
{
    char mode[16] = "";
    int waited_ms = 0, code;

    while ((code = sqlite3_exec(store->db, "PRAGMA journal_mode=WAL",
                                journal_mode_cb, mode, NULL)) == SQLITE_BUSY &&
           waited_ms < BUSY_TIMEOUT_MS) {
        int slept = sqlite3_sleep(10);

        waited_ms += slept > 0 ? slept : 10;
    }
    if (code != SQLITE_OK)
        return db_fail(store, "enabling the WAL journal");
    /* SQLite keeps the old mode where WAL is impossible (a network file
     * system, an in-memory DB); the store still works, with weaker
     * concurrency, so this is a warning. */
    if (strcmp(mode, "wal") != 0)
        bf_log_warn("%s: journal mode is '%s', not WAL; keep the results DB "
                    "on a local disk",
                    store->path, mode);
    if (sqlite3_exec(store->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(store, "enabling foreign keys");
    if (sqlite3_exec(store->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK)
        return db_fail(store, "setting synchronous=NORMAL");
    return 0;
}

static int refuse_version(struct bf_store *store, int version)
{
    if (version > BF_STORE_SCHEMA_VERSION)
        return bf_err_set(BF_EVERSION,
                          "%s: results DB schema version %d is newer than "
                          "this bfbench supports (%d); use a newer bfbench "
                          "or another --db",
                          store->path, version, BF_STORE_SCHEMA_VERSION);
    return bf_err_set(BF_EVERSION,
                      "%s: results DB schema version %d is not one bfbench "
                      "knows; use another --db",
                      store->path, version);
}

/*
 * Bring the schema to BF_STORE_SCHEMA_VERSION by the schema steps, all in
 * one transaction: a new DB is never seen at an older version, and a
 * migration that fails leaves the DB as it was. The version is read again
 * inside the immediate transaction so that two processes opening a DB at
 * once do not both run the steps.
 */
static int migrate(struct bf_store *store)
{
    char set_version[64];
    int version = 0;
    int step;
    int rc;

    if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(store, "starting the schema transaction");
    rc = read_user_version(store, &version);
    if (rc)
        goto out_rollback;
    if (version == BF_STORE_SCHEMA_VERSION)
        goto out_commit;
    if (version < 0 || version > BF_STORE_SCHEMA_VERSION) {
        rc = refuse_version(store, version);
        goto out_rollback;
    }
    for (step = version; step < BF_STORE_SCHEMA_VERSION; step++) {
        if (sqlite3_exec(store->db, schema_steps[step], NULL, NULL, NULL) !=
            SQLITE_OK) {
            rc = version == 0
                     ? db_fail(store, "creating schema version %d",
                               BF_STORE_SCHEMA_VERSION)
                     : db_fail(store, "migrating schema version %d to %d", step,
                               step + 1);
            goto out_rollback;
        }
    }
    snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d",
             BF_STORE_SCHEMA_VERSION);
    if (sqlite3_exec(store->db, set_version, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(store, "setting the schema version");
        goto out_rollback;
    }
out_commit:
    if (sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(store, "committing the schema");
        goto out_rollback;
    }
    if (version != 0 && version != BF_STORE_SCHEMA_VERSION)
        bf_log_info("%s: results DB migrated from schema version %d to %d",
                    store->path, version, BF_STORE_SCHEMA_VERSION);
    return 0;

out_rollback:
    sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int prepare_all(struct bf_store *store)
{
#define STMT_PREPARE(name, sql)                                                \
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT,      \
                           &store->name, NULL) != SQLITE_OK)                   \
        return db_fail(store, "preparing statement '%s'", #name);
    STMT_LIST(STMT_PREPARE)
#undef STMT_PREPARE
    return 0;
}

/* Nonzero when path's write-ahead log exists with content. */
static int wal_has_frames(const char *path)
{
    char wal[4096];
    struct stat st;

    if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
        return 1;
    return stat(wal, &st) == 0 && st.st_size > 0;
}

int bf_store_sqlite_open_readonly(const char *path, struct sqlite3 **out)
{
    sqlite3 *db = NULL;
    char uri[4200];
    size_t len = 0;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

    /* Read-write but query_only where the file and directory allow it: a
     * WAL DB's -wal and -shm are then removed on close, as a writer leaves
     * them; else read-only. */
    if (rc == SQLITE_OK && (sqlite3_exec(db, "PRAGMA query_only=ON", NULL, NULL,
                                         NULL) != SQLITE_OK ||
                            sqlite3_exec(db, "PRAGMA user_version", NULL, NULL,
                                         NULL) != SQLITE_OK)) {
        sqlite3_close(db);
        db = NULL;
        rc = SQLITE_READONLY;
    }
    if (rc == SQLITE_OK) {
        *out = db;
        return rc;
    }
    sqlite3_close(db);
    db = NULL;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);

    /* A WAL DB needs its -shm file, which a reader in a directory it cannot
     * write cannot create: reading then fails. Without WAL frames the main
     * file is the whole DB, and immutable=1 reads it without -shm. */
    if (rc == SQLITE_OK &&
        sqlite3_exec(db, "PRAGMA user_version", NULL, NULL, NULL) !=
            SQLITE_OK &&
        (sqlite3_errcode(db) == SQLITE_READONLY ||
         sqlite3_errcode(db) == SQLITE_CANTOPEN) &&
        !wal_has_frames(path)) {
        sqlite3_close(db);
        db = NULL;
        len = (size_t)snprintf(uri, sizeof(uri), "file:");
        for (const char *c = path; *c && len + 4 < sizeof(uri); c++) {
            if (*c == '?' || *c == '#' || *c == '%')
                len += (size_t)snprintf(uri + len, sizeof(uri) - len, "%%%02X",
                                        (unsigned char)*c);
            else
                uri[len++] = *c;
        }
        snprintf(uri + len, sizeof(uri) - len, "?immutable=1");
        rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                             NULL);
    }
    *out = db;
    return rc;
}

/* Run a one-integer query on the store's connection into *v. */
static int query_count(struct bf_store *store, const char *sql, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *v = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = db_fail(store, "reading the schema");
    }
    sqlite3_finalize(st);
    return rc;
}

/*
 * Refuse, untouched, a file that holds an SQLite DB of another program: at
 * version 0 any table at all, at a version bfbench knows the absence of
 * its runs and cases tables.
 */
static int refuse_foreign(struct bf_store *store, int version)
{
    int64_t tables = 0, ours = 0;
    int rc = query_count(store,
                         "SELECT count(*) FROM sqlite_schema WHERE type = "
                         "'table'",
                         &tables);

    if (rc == 0)
        rc = query_count(store,
                         "SELECT count(*) FROM sqlite_schema WHERE type = "
                         "'table' AND name IN ('runs', 'cases')",
                         &ours);
    if (rc)
        return rc;
    if ((version == 0 && tables > 0) || (version > 0 && ours != 2))
        return bf_err_set(BF_EPARSE,
                          "%s: an SQLite DB that is not a bfbench results DB "
                          "(%lld tables, user_version %d): left untouched; "
                          "use another --db",
                          store->path, (long long)tables, version);
    return 0;
}

/*
 * PRAGMA quick_check before writing to an existing DB: a DB with damaged
 * pages would take new results that could not be read back. O(pages), a
 * fraction of a second for the DBs bfbench writes.
 */
static int check_integrity(struct bf_store *store)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *text;
    int rc;

    if (sqlite3_prepare_v2(store->db, "PRAGMA quick_check(1)", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(store, "checking the DB's integrity");
    rc = sqlite3_step(st);
    text = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (rc == SQLITE_ROW && text && strcmp((const char *)text, "ok") == 0)
        rc = 0;
    else if (rc == SQLITE_ROW)
        rc = bf_err_set(BF_EPARSE,
                        "%s: the results DB is damaged (quick_check: %.200s); "
                        "nothing was written: recover what it holds with "
                        "`sqlite3 %s .recover` and use another --db",
                        store->path, text ? (const char *)text : "?",
                        store->path);
    else
        rc = bf_err_set(BF_EPARSE,
                        "%s: the results DB is damaged (quick_check: %s); "
                        "nothing was written; use another --db",
                        store->path, sqlite3_errmsg(store->db));
    sqlite3_finalize(st);
    return rc;
}

/*
 * Open the DB at path: read-write (created and migrated as needed, checked
 * with quick_check when it holds a schema), or, with readonly, read-only
 * when it is at the current version (a DB at an older version of bfbench's
 * own is migrated first, read-write).
 */
static int open_store(const char *path, int readonly, struct bf_store **out)
{
    struct bf_store *store;
    size_t len;
    int version = 0;
    int rc;

    *out = NULL;
    if (!path || !path[0])
        return bf_err_set(BF_EINVAL, "results DB path is empty");
    store = calloc(1, sizeof(*store));
    if (!store)
        return bf_err_set(BF_ENOMEM, "%s: no memory for the store", path);
    len = strlen(path);
    store->path = malloc(len + 1);
    if (!store->path) {
        rc = bf_err_set(BF_ENOMEM, "%s: no memory for the store", path);
        goto out_close;
    }
    memcpy(store->path, path, len + 1);

    if ((readonly ? bf_store_sqlite_open_readonly(path, &store->db)
                  : sqlite3_open_v2(path, &store->db,
                                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                    NULL)) != SQLITE_OK) {
        rc = store->db
                 ? db_fail(store, "opening the results DB")
                 : bf_err_set(BF_ENOMEM, "%s: no memory for SQLite", path);
        goto out_close;
    }
    sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);

    /* Read the version before changing anything, so that a foreign file
     * or a newer DB is refused untouched; in one read transaction, so that
     * another process creating the schema meanwhile is seen before or
     * after, never half-way (tables, but the version still 0). */
    rc = sqlite3_exec(store->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
             ? 0
             : db_fail(store, "reading the schema version");
    if (rc == 0)
        rc = read_user_version(store, &version);
    if (rc == 0 && (version < 0 || version > BF_STORE_SCHEMA_VERSION))
        rc = refuse_version(store, version);
    if (rc == 0)
        rc = refuse_foreign(store, version);
    sqlite3_exec(store->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    if (rc)
        goto out_close;
    if (readonly && version == BF_STORE_SCHEMA_VERSION) {
        /* Nothing to change: no journal switch, no write. */
        if (sqlite3_exec(store->db, "PRAGMA query_only=ON", NULL, NULL, NULL) !=
            SQLITE_OK) {
            rc = db_fail(store, "opening read-only");
            goto out_close;
        }
        rc = prepare_all(store);
        if (rc)
            goto out_close;
        *out = store;
        return 0;
    }
    if (readonly && version == 0) {
        rc = bf_err_set(BF_ENOENT,
                        "%s: an empty DB, no results yet (run a scenario "
                        "into it first)",
                        path);
        goto out_close;
    }
    if (readonly) {
        /* An older DB of bfbench's is migrated. */
        bf_store_close(store);
        return open_store(path, 0, out);
    }
    if (version > 0 && (rc = check_integrity(store)))
        goto out_close;
    rc = configure(store);
    if (rc)
        goto out_close;
    /* Only a new or older DB needs the write lock that changing the
     * schema takes; a report opening a current DB that a run is writing
     * does not wait. */
    if (version != BF_STORE_SCHEMA_VERSION) {
        rc = migrate(store);
        if (rc)
            goto out_close;
    }
    rc = prepare_all(store);
    if (rc)
        goto out_close;
    *out = store;
    return 0;

out_close:
    /* bf_store_close() copes with a partly built handle. */
    bf_store_close(store);
    return rc;
}

int bf_store_open(const char *path, struct bf_store **out)
{
    if (!out)
        return bf_err_set(BF_EINVAL, "bf_store_open: NULL argument");
    return open_store(path, 0, out);
}

int bf_store_open_readonly(const char *path, struct bf_store **out)
{
    if (!out)
        return bf_err_set(BF_EINVAL, "bf_store_open_readonly: NULL argument");
    return open_store(path, 1, out);
}

void bf_store_close(struct bf_store *store)
{
    if (!store)
        return;
#define STMT_FINALIZE(name, sql) sqlite3_finalize(store->name);
    STMT_LIST(STMT_FINALIZE)
#undef STMT_FINALIZE
    sqlite3_close_v2(store->db);
    free(store->path);
    free(store);
}

struct sqlite3 *bf_store_db(struct bf_store *store)
{
    return store->db;
}
