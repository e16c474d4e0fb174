/*
 * bf_store: the SQLite results store.
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
#define ISO_TIME_SIZE 32

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

static const char *const schema_steps[] = {schema_v1, schema_v2, schema_v3,
                                           schema_v4, schema_v5, schema_v6,
                                           schema_v7, schema_v8};

_Static_assert(sizeof(schema_steps) / sizeof(schema_steps[0]) ==
                   BF_STORE_SCHEMA_VERSION,
               "one schema step per version");

/*
 * The columns every result query returns, in bf_result_view order, then
 * cases.error. Cases LEFT JOIN aggregates, so that a case without
 * aggregates still yields one row (with a NULL metric).
 */
#define RESULT_COLUMNS                                                         \
    "SELECT r.id, r.status, c.id, c.case_index, c.status, c.config, "          \
    "c.model, c.weights, c.input_channels, c.input_h, c.input_w, c.batch, "    \
    "c.threads, c.fold_bn, c.channels_last, c.params, c.macs, a.metric, "      \
    "a.unit, a.method, a.n, a.mean, a.stddev, a.min, a.p50, a.p90, a.p99, "    \
    "a.max, c.error, c.link, c.link_rate_mbps, c.link_rtt_ms, "                \
    "c.background_clients FROM cases c JOIN runs r ON r.id = c.run_id "        \
    "LEFT JOIN aggregates a ON a.case_id = c.id "
#define RESULT_ORDER " ORDER BY r.id, c.case_index, c.id, a.metric"

/*
 * The columns every accuracy query returns, in bf_accuracy_view order.
 * Cases LEFT JOIN accuracy, keeping a case without accuracy rows only when
 * it recorded a strategy (a training case that failed or was killed).
 */
#define ACCURACY_COLUMNS                                                       \
    "SELECT r.id, r.status, c.id, c.case_index, c.status, c.error, c.model, "  \
    "c.strategy, c.freeze_encoder, c.bottleneck_version, "                     \
    "c.bottleneck_channels, c.split_shape, c.head_params, c.head_macs, "       \
    "c.head_bytes, c.dataset, a.variant, a.split, a.n, a.top1, a.top5, "       \
    "a.payload_bytes, a.payload_zstd_bytes, a.transmitted_elements, "          \
    "a.input_elements, a.jpeg_reference_bytes, a.jpeg_reference_quality, "     \
    "a.method, a.compression_vs_jpeg, a.element_ratio, a.offload_fraction, "   \
    "a.device_macs, c.seed FROM cases c "                                      \
    "JOIN runs r ON r.id = c.run_id "                                          \
    "LEFT JOIN accuracy a ON a.case_id = c.id "                                \
    "WHERE (a.case_id IS NOT NULL OR c.strategy IS NOT NULL) "
/* "jpeg-q" followed by digits only. */
#define JPEG_VARIANT                                                           \
    "(a.variant GLOB 'jpeg-q[0-9]*' AND "                                      \
    "substr(a.variant, 7) NOT GLOB '*[^0-9]*')"
/* Variants in reading order: fp32, int8, jpeg-q<N> by N, then by name. */
#define ACCURACY_ORDER                                                         \
    " ORDER BY r.id, c.case_index, c.id, CASE WHEN a.variant = 'fp32' THEN 0 " \
    "WHEN a.variant = 'int8' THEN 1 WHEN " JPEG_VARIANT " THEN 2 ELSE 3 END, " \
    "CASE WHEN " JPEG_VARIANT " THEN CAST(substr(a.variant, 7) AS INTEGER) "   \
    "END, a.variant, a.split"

/* X(field, sql): every prepared statement of the store. */
#define STMT_LIST(X)                                                           \
    X(begin, "BEGIN IMMEDIATE")                                                \
    X(commit, "COMMIT")                                                        \
    X(rollback, "ROLLBACK")                                                    \
    X(run_insert,                                                              \
      "INSERT INTO runs (started_at, status, scenario_path, scenario_name, "   \
      "scenario_sha256, scenario_text, seed, git_commit, git_dirty, host, "    \
      "cpu_model, cores_online, libtorch_version, blas, build_type, "          \
      "bfbench_version, input_hashes, command_line, platform, "                \
      "platform_sha256) VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, "   \
      "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)")                 \
    X(run_end, "UPDATE runs SET status = ?1, finished_at = ?2 WHERE id = ?3")  \
    X(case_insert,                                                             \
      "INSERT INTO cases (run_id, case_index, config, model, weights, "        \
      "weights_sha256, input_channels, input_h, input_w, batch, threads, "     \
      "fold_bn, channels_last, warmup, params, macs, status, started_at, "     \
      "strategy, freeze_encoder, bottleneck_version, bottleneck_channels, "    \
      "split_shape, head_params, head_macs, head_bytes, dataset, "             \
      "dataset_sha256, teacher_sha256, link, link_rate_mbps, link_rtt_ms, "    \
      "background_clients, case_hash, seed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "  \
      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'running', ?17, ?18, "   \
      "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, " \
      "?33, ?34)")                                                             \
    X(case_end, "UPDATE cases SET status = ?1, error = ?2, finished_at = ?3 "  \
                "WHERE id = ?4")                                               \
    X(sample_insert,                                                           \
      "INSERT INTO samples (case_id, seq, e2e_ns, head_ns, encode_ns, "        \
      "transfer_ns, server_queue_ns, server_decode_ns, tail_ns, reply_ns, "    \
      "bytes_up, bytes_down) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "     \
      "?10, ?11, ?12)")                                                        \
    X(aggregate_insert,                                                        \
      "INSERT INTO aggregates (case_id, metric, unit, method, n, mean, "       \
      "stddev, min, p50, p90, p99, max) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "  \
      "?8, ?9, ?10, ?11, ?12)")                                                \
    X(epoch_next_seq,                                                          \
      "SELECT coalesce(max(seq) + 1, 0) FROM epochs WHERE case_id = ?1")       \
    X(epoch_insert,                                                            \
      "INSERT INTO epochs (case_id, seq, phase, epoch, lr, train_loss, "       \
      "val_top1, seconds, images_per_s, best) VALUES (?1, ?2, ?3, ?4, ?5, "    \
      "?6, ?7, ?8, ?9, ?10)")                                                  \
    X(accuracy_insert,                                                         \
      "INSERT INTO accuracy (case_id, variant, split, n, top1, top5, "         \
      "payload_bytes, payload_zstd_bytes, transmitted_elements, "              \
      "input_elements, jpeg_reference_bytes, jpeg_reference_quality, "         \
      "compression_vs_jpeg, element_ratio, method, offload_fraction, "         \
      "device_macs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "    \
      "?12, ?13, ?14, ?15, ?16, ?17)")                                         \
    X(prediction_insert,                                                       \
      "INSERT INTO predictions (case_id, variant, split, n, items_sha256, "    \
      "classes, top1, topk) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")          \
    X(artifact_insert,                                                         \
      "INSERT OR REPLACE INTO artifacts (case_id, kind, path, sha256, bytes) " \
      "VALUES (?1, ?2, ?3, ?4, ?5)")                                           \
    X(artifacts_of_run,                                                        \
      "SELECT a.case_id, a.kind, a.path, a.sha256, a.bytes FROM artifacts a "  \
      "JOIN cases c ON c.id = a.case_id WHERE ?1 = 0 OR c.run_id = ?1 ORDER "  \
      "BY a.case_id, a.kind")                                                  \
    X(case_samples,                                                            \
      "SELECT CASE ?2 WHEN 'e2e' THEN e2e_ns WHEN 'head' THEN head_ns WHEN "   \
      "'encode' THEN encode_ns WHEN 'transfer' THEN transfer_ns WHEN "         \
      "'server_queue' THEN server_queue_ns WHEN 'server_decode' THEN "         \
      "server_decode_ns WHEN 'tail' THEN tail_ns WHEN 'reply' THEN reply_ns "  \
      "END FROM samples WHERE case_id = ?1 ORDER BY seq")                      \
    X(prediction_bits,                                                         \
      "SELECT n, items_sha256, top1 FROM predictions WHERE case_id = ?1 AND "  \
      "variant = ?2 AND split = ?3")                                           \
    X(check_insert,                                                            \
      "INSERT OR REPLACE INTO checks (run_id, name, value) VALUES (?1, ?2, "   \
      "?3)")                                                                   \
    X(device_insert,                                                           \
      "INSERT INTO device_results (case_id, device, role, latency_method, "    \
      "power_method, radio, requests, host_head_ms, head_ms, encode_ms, "      \
      "transfer_ms, server_ms, e2e_ms, e2e_mean_ms, e2e_p90_ms, "              \
      "avg_power_mw, avg_power_above_idle_mw, energy_mj, "                     \
      "energy_above_idle_mj) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "     \
      "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)")                     \
    X(devices_run,                                                             \
      "SELECT r.id, c.case_index, c.config, c.model, c.link_rate_mbps, "       \
      "c.bottleneck_channels, d.device, d.role, d.latency_method, "            \
      "d.power_method, d.radio, d.requests, d.host_head_ms, d.head_ms, "       \
      "d.encode_ms, d.transfer_ms, d.server_ms, d.e2e_ms, d.e2e_mean_ms, "     \
      "d.e2e_p90_ms, d.avg_power_mw, d.avg_power_above_idle_mw, "              \
      "d.energy_mj, d.energy_above_idle_mj, c.background_clients, c.status "   \
      "FROM "                                                                  \
      "device_results d JOIN cases c ON c.id = d.case_id JOIN runs r ON "      \
      "r.id = c.run_id WHERE (?1 = 0 OR r.id = ?1) ORDER BY r.id, "            \
      "c.case_index, c.id, d.device")                                          \
    X(calibration_insert,                                                      \
      "INSERT INTO calibrations (profile, profile_path, created_at, form, "    \
      "conv_gmacs, grouped_gmacs, linear_gmacs, bandwidth_gbs, "               \
      "layer_overhead_us, conv3x3_gmacs, fitted, fit_rms_pct, "                \
      "loo_mean_abs_pct, loo_max_abs_pct) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "    \
      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")                                  \
    X(calibration_point_insert,                                                \
      "INSERT INTO calibration_points (calibration_id, seq, model, "           \
      "input_px, macs, layers, measured_ms, method, predicted_ms, loo_ms) "    \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")                      \
    X(last_run, "SELECT max(id) FROM runs")                                    \
    X(run_platforms,                                                           \
      "SELECT id, platform, coalesce(platform_sha256, '') FROM runs WHERE "    \
      "(?1 = 0 OR id = ?1) AND platform IS NOT NULL AND platform <> '' "       \
      "ORDER BY id")                                                           \
    X(run_by_sha, "SELECT max(id) FROM runs WHERE scenario_sha256 = ?1")       \
    X(case_complete,                                                           \
      "SELECT count(*) FROM cases WHERE run_id = ?1 AND case_hash = ?2 AND "   \
      "status IN ('finished', 'skipped')")                                     \
    X(run_counts,                                                              \
      "SELECT count(*), coalesce(sum(status IN ('finished', 'skipped')), 0) "  \
      "FROM cases WHERE run_id = ?1")                                          \
    X(count_samples, "SELECT count(*) FROM samples WHERE case_id = ?1")        \
    X(results_all, RESULT_COLUMNS RESULT_ORDER)                                \
    X(results_run, RESULT_COLUMNS "WHERE r.id = ?1" RESULT_ORDER)              \
    X(seed_groups,                                                             \
      "SELECT c.run_id, c.model, c.strategy, coalesce(c.freeze_encoder, -1), " \
      "coalesce(c.bottleneck_version, 0), coalesce(c.bottleneck_channels, "    \
      "0), "                                                                   \
      "a.variant, a.split, count(DISTINCT c.seed), min(a.n), max(a.n), "       \
      "group_concat(a.top1, ' '), group_concat(a.top5, ' ') FROM accuracy a "  \
      "JOIN cases c ON c.id = a.case_id WHERE c.seed IS NOT NULL AND "         \
      "c.status = 'finished' AND (?1 = 0 OR c.run_id = ?1) GROUP BY "          \
      "c.run_id, c.model, c.strategy, c.freeze_encoder, "                      \
      "c.bottleneck_version, c.bottleneck_channels, a.variant, a.split "       \
      "HAVING count(DISTINCT c.seed) >= 2 AND count(*) = count(DISTINCT "      \
      "c.seed) ORDER BY c.run_id, min(c.case_index), a.variant, a.split")      \
    X(accuracy_all, ACCURACY_COLUMNS ACCURACY_ORDER)                           \
    X(accuracy_run, ACCURACY_COLUMNS "AND r.id = ?1" ACCURACY_ORDER)

struct bf_store {
    sqlite3 *db;
    char *path; /* for messages */
#define STMT_FIELD(name, sql) sqlite3_stmt *name;
    STMT_LIST(STMT_FIELD)
#undef STMT_FIELD
};

/*
 * Record a database failure: "<path>: <what>: <sqlite message>". Call it
 * before anything else touches the connection (a rollback would replace
 * the message).
 */
static int db_fail(struct bf_store *store, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int db_fail(struct bf_store *store, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return bf_err_set(BF_EDB, "%s: %s: %s", store->path, what,
                      sqlite3_errmsg(store->db));
}

/* Ready a statement for its next use. */
static void stmt_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Bind a string; NULL binds as "" so that NOT NULL columns accept it. */
static int bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    return sqlite3_bind_text(stmt, idx, s ? s : "", -1, SQLITE_STATIC);
}

/* Bind a string that may be absent: NULL or "" binds SQL NULL. */
static int bind_text_or_null(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (!s || !s[0])
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

/* Bind a double; NaN binds SQL NULL explicitly (as SQLite would). */
static int bind_real(sqlite3_stmt *stmt, int idx, double v)
{
    if (isnan(v))
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_double(stmt, idx, v);
}

static double column_real(sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(stmt, col);
}

static const char *column_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);

    return s ? (const char *)s : "";
}

/* Run a statement that returns no rows, then ready it again. */
static int step_done(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int tx_begin(struct bf_store *store, const char *what)
{
    int rc = step_done(store->begin);

    sqlite3_reset(store->begin);
    if (rc != SQLITE_OK)
        return db_fail(store, "starting a transaction for %s", what);
    return 0;
}

static int tx_commit(struct bf_store *store, const char *what)
{
    int rc = step_done(store->commit);

    sqlite3_reset(store->commit);
    if (rc != SQLITE_OK)
        return db_fail(store, "committing %s", what);
    return 0;
}

/* Undo the open transaction, if any; leaves the error detail alone. */
static void tx_rollback(struct bf_store *store)
{
    if (sqlite3_get_autocommit(store->db))
        return;
    sqlite3_step(store->rollback);
    sqlite3_reset(store->rollback);
}

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

/* Connection settings: WAL journal, foreign keys, synchronous=NORMAL. */
static int configure(struct bf_store *store)
{
    char mode[16] = "";

    if (sqlite3_exec(store->db, "PRAGMA journal_mode=WAL", journal_mode_cb,
                     mode, NULL) != SQLITE_OK)
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
     * or a newer DB is refused untouched. */
    rc = read_user_version(store, &version);
    if (rc == 0 && (version < 0 || version > BF_STORE_SCHEMA_VERSION))
        rc = refuse_version(store, version);
    if (rc == 0)
        rc = refuse_foreign(store, version);
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

/* Runs */

int bf_store_run_begin(struct bf_store *store, const struct bf_run_info *info,
                       int64_t *run_id)
{
    sqlite3_stmt *st = store->run_insert;
    char now[ISO_TIME_SIZE];
    sqlite3_int64 seed;
    int rc;

    /* The seed's 64 bits, reinterpreted: SQLite integers are signed. */
    memcpy(&seed, &info->seed, sizeof(seed));
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, now);
    rc = rc ? rc : bind_text(st, 2, info->scenario_path);
    rc = rc ? rc : bind_text(st, 3, info->scenario_name);
    rc = rc ? rc : bind_text(st, 4, info->scenario_sha256);
    rc = rc ? rc : bind_text(st, 5, info->scenario_text);
    rc = rc ? rc : sqlite3_bind_int64(st, 6, seed);
    rc = rc ? rc : bind_text(st, 7, info->git_commit);
    rc = rc ? rc : sqlite3_bind_int(st, 8, info->git_dirty);
    rc = rc ? rc : bind_text(st, 9, info->host);
    rc = rc ? rc : bind_text(st, 10, info->cpu_model);
    rc = rc ? rc : sqlite3_bind_int(st, 11, info->cores_online);
    rc = rc ? rc : bind_text(st, 12, info->libtorch_version);
    rc = rc ? rc : bind_text(st, 13, info->blas);
    rc = rc ? rc : bind_text(st, 14, info->build_type);
    rc = rc ? rc : bind_text(st, 15, info->bfbench_version);
    rc = rc ? rc : bind_text(st, 16, info->input_hashes);
    rc = rc ? rc : bind_text(st, 17, info->command_line);
    rc = rc ? rc : bind_text(st, 18, info->platform);
    rc = rc ? rc : bind_text(st, 19, info->platform_sha256);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the start of a run");
        goto out_reset;
    }
    *run_id = sqlite3_last_insert_rowid(store->db);
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_run_end(struct bf_store *store, int64_t run_id, const char *status)
{
    sqlite3_stmt *st = store->run_end;
    char now[ISO_TIME_SIZE];
    int rc;

    if (!status ||
        (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "interrupted") != 0))
        return bf_err_set(BF_EINVAL,
                          "run %lld: end status '%s' is not finished, failed "
                          "or interrupted",
                          (long long)run_id, status ? status : "(null)");
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, status);
    rc = rc ? rc : bind_text(st, 2, now);
    rc = rc ? rc : sqlite3_bind_int64(st, 3, run_id);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the end of run %lld", (long long)run_id);
        goto out_reset;
    }
    if (sqlite3_changes(store->db) != 1)
        rc = bf_err_set(BF_ENOENT, "%s: no run %lld to end", store->path,
                        (long long)run_id);
out_reset:
    stmt_done(st);
    return rc;
}

/* Cases */

/* Bind a count that may be unrecorded: 0 and -1 bind SQL NULL. */
static int bind_count_or_null(sqlite3_stmt *stmt, int idx, int64_t v)
{
    if (v == 0 || v == -1)
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_int64(stmt, idx, v);
}

/* The training fields of a case row: -1 and 0 mean not recorded, any
 * other negative number (and a freeze_encoder other than -1, 0, 1) is a
 * bug. */
static int check_case_row(const struct bf_store *store, int64_t run_id,
                          const struct bf_case_row *row)
{
    const struct {
        const char *name;
        int64_t value;
    } counts[] = {
        {"bottleneck_version", row->bottleneck_version},
        {"bottleneck_channels", row->bottleneck_channels},
        {"head_params", row->head_params},
        {"head_macs", row->head_macs},
        {"head_bytes", row->head_bytes},
    };
    size_t i;

    if (row->freeze_encoder < -1 || row->freeze_encoder > 1)
        return bf_err_set(BF_EINVAL,
                          "%s: case %d of run %lld: freeze_encoder is %d "
                          "(1, 0, or -1 for not recorded)",
                          store->path, row->case_index, (long long)run_id,
                          row->freeze_encoder);
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if (counts[i].value < -1)
            return bf_err_set(BF_EINVAL,
                              "%s: case %d of run %lld: %s is %lld (0 or "
                              "-1 for not recorded)",
                              store->path, row->case_index, (long long)run_id,
                              counts[i].name, (long long)counts[i].value);
    return 0;
}

int bf_store_case_begin(struct bf_store *store, int64_t run_id,
                        const struct bf_case_row *row, int64_t *case_id)
{
    sqlite3_stmt *st = store->case_insert;
    char now[ISO_TIME_SIZE];
    int trained = row->strategy && row->strategy[0];
    int rc;

    rc = check_case_row(store, run_id, row);
    if (rc)
        return rc;
    bf_clock_utc_iso(now, sizeof(now));
    rc = sqlite3_bind_int64(st, 1, run_id);
    rc = rc ? rc : sqlite3_bind_int(st, 2, row->case_index);
    rc = rc ? rc : bind_text(st, 3, row->config);
    rc = rc ? rc : bind_text(st, 4, row->model);
    rc = rc ? rc : bind_text(st, 5, row->weights);
    rc = rc ? rc : bind_text(st, 6, row->weights_sha256);
    rc = rc ? rc : sqlite3_bind_int(st, 7, row->input_channels);
    rc = rc ? rc : sqlite3_bind_int(st, 8, row->input_h);
    rc = rc ? rc : sqlite3_bind_int(st, 9, row->input_w);
    rc = rc ? rc : sqlite3_bind_int(st, 10, row->batch);
    rc = rc ? rc : sqlite3_bind_int(st, 11, row->threads);
    rc = rc ? rc : sqlite3_bind_int(st, 12, row->fold_bn);
    rc = rc ? rc : sqlite3_bind_int(st, 13, row->channels_last);
    rc = rc ? rc : sqlite3_bind_int(st, 14, row->warmup);
    rc = rc ? rc : sqlite3_bind_int64(st, 15, row->params);
    rc = rc ? rc : sqlite3_bind_int64(st, 16, row->macs);
    rc = rc ? rc : bind_text(st, 17, now);
    rc = rc ? rc : bind_text_or_null(st, 18, row->strategy);
    /* Without a strategy nothing was trained: the 0 of an unset field
     * would read as "encoder not frozen". */
    if (trained && row->freeze_encoder >= 0)
        rc = rc ? rc : sqlite3_bind_int(st, 19, row->freeze_encoder);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 19);
    rc = rc ? rc : bind_count_or_null(st, 20, row->bottleneck_version);
    rc = rc ? rc : bind_count_or_null(st, 21, row->bottleneck_channels);
    rc = rc ? rc : bind_text_or_null(st, 22, row->split_shape);
    rc = rc ? rc : bind_count_or_null(st, 23, row->head_params);
    rc = rc ? rc : bind_count_or_null(st, 24, row->head_macs);
    rc = rc ? rc : bind_count_or_null(st, 25, row->head_bytes);
    rc = rc ? rc : bind_text_or_null(st, 26, row->dataset);
    rc = rc ? rc : bind_text_or_null(st, 27, row->dataset_sha256);
    rc = rc ? rc : bind_text_or_null(st, 28, row->teacher_sha256);
    rc = rc ? rc : bind_text_or_null(st, 29, row->link);
    if (row->link && row->link[0] && row->link_rate_mbps > 0)
        rc = rc ? rc : sqlite3_bind_double(st, 30, row->link_rate_mbps);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 30);
    if (row->link && row->link[0] && row->link_rtt_ms >= 0)
        rc = rc ? rc : sqlite3_bind_double(st, 31, row->link_rtt_ms);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 31);
    if (row->link && row->link[0])
        rc = rc ? rc : sqlite3_bind_int(st, 32, row->background_clients);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 32);
    rc = rc ? rc : bind_text_or_null(st, 33, row->case_hash);
    if (row->seeded)
        rc = rc ? rc : sqlite3_bind_int64(st, 34, (sqlite3_int64)row->seed);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 34);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the start of case %d of run %lld",
                     row->case_index, (long long)run_id);
        goto out_reset;
    }
    *case_id = sqlite3_last_insert_rowid(store->db);
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_case_end(struct bf_store *store, int64_t case_id,
                      const char *status, const char *error)
{
    sqlite3_stmt *st = store->case_end;
    char now[ISO_TIME_SIZE];
    int rc;

    if (!status ||
        (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "skipped") != 0))
        return bf_err_set(BF_EINVAL,
                          "case %lld: end status '%s' is not finished, failed "
                          "or skipped",
                          (long long)case_id, status ? status : "(null)");
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, status);
    rc = rc ? rc : bind_text_or_null(st, 2, error);
    rc = rc ? rc : bind_text(st, 3, now);
    rc = rc ? rc : sqlite3_bind_int64(st, 4, case_id);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the end of case %lld",
                     (long long)case_id);
        goto out_reset;
    }
    if (sqlite3_changes(store->db) != 1)
        rc = bf_err_set(BF_ENOENT, "%s: no case %lld to end", store->path,
                        (long long)case_id);
out_reset:
    stmt_done(st);
    return rc;
}

/* Samples and aggregates */

/*
 * Bind an optional measurement: -1 means the stage did not happen and is
 * stored NULL; any other negative value is a caller bug and is refused.
 */
static int bind_optional(sqlite3_stmt *st, int idx, int64_t v, const char *name,
                         int64_t seq, int *bad)
{
    if (v == -1)
        return sqlite3_bind_null(st, idx);
    if (v < 0) {
        *bad = bf_err_set(BF_EINVAL,
                          "sample %lld: %s is %lld (use -1 for "
                          "a stage that did not happen)",
                          (long long)seq, name, (long long)v);
        return SQLITE_MISUSE;
    }
    return sqlite3_bind_int64(st, idx, v);
}

int bf_store_add_samples(struct bf_store *store, int64_t case_id,
                         const struct bf_sample_row *rows, size_t n)
{
    sqlite3_stmt *st = store->sample_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu samples but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "samples of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_sample_row *r = &rows[i];
        int bad = 0;

        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : sqlite3_bind_int64(st, 2, r->seq);
#define BIND_OPT(idx, field)                                                   \
    rc = rc ? rc : bind_optional(st, idx, r->field, #field, r->seq, &bad)
        BIND_OPT(3, e2e_ns);
        BIND_OPT(4, head_ns);
        BIND_OPT(5, encode_ns);
        BIND_OPT(6, transfer_ns);
        BIND_OPT(7, server_queue_ns);
        BIND_OPT(8, server_decode_ns);
        BIND_OPT(9, tail_ns);
        BIND_OPT(10, reply_ns);
        BIND_OPT(11, bytes_up);
        BIND_OPT(12, bytes_down);
#undef BIND_OPT
        if (bad) {
            rc = bf_err_prefix(bad, "%s: case %lld: ", store->path,
                               (long long)case_id);
            goto out_rollback;
        }
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting sample %lld of case %lld",
                         (long long)r->seq, (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_aggregates(struct bf_store *store, int64_t case_id,
                            const struct bf_aggregate_row *rows, size_t n)
{
    sqlite3_stmt *st = store->aggregate_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu aggregates but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "aggregates of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_aggregate_row *r = &rows[i];

        if (!r->metric || !r->metric[0]) {
            rc = bf_err_set(BF_EINVAL,
                            "%s: case %lld: aggregate %zu has no "
                            "metric name",
                            store->path, (long long)case_id, i);
            goto out_rollback;
        }
        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : bind_text(st, 2, r->metric);
        rc = rc ? rc : bind_text(st, 3, r->unit);
        rc = rc ? rc : bind_text(st, 4, r->method);
        rc = rc ? rc : sqlite3_bind_int64(st, 5, (sqlite3_int64)r->stats.n);
        rc = rc ? rc : bind_real(st, 6, r->stats.mean);
        rc = rc ? rc : bind_real(st, 7, r->stats.stddev);
        rc = rc ? rc : bind_real(st, 8, r->stats.min);
        rc = rc ? rc : bind_real(st, 9, r->stats.p50);
        rc = rc ? rc : bind_real(st, 10, r->stats.p90);
        rc = rc ? rc : bind_real(st, 11, r->stats.p99);
        rc = rc ? rc : bind_real(st, 12, r->stats.max);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting aggregate '%s' of case %lld",
                         r->metric, (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

/* Epochs and accuracy */

int bf_store_add_epochs(struct bf_store *store, int64_t case_id,
                        const struct bf_epoch_row *rows, size_t n)
{
    sqlite3_stmt *st = store->epoch_insert;
    sqlite3_stmt *next = store->epoch_next_seq;
    int64_t seq;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu epochs but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "epochs of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    /* Read inside the write transaction, so no other writer can take the
     * same numbers. */
    rc = sqlite3_bind_int64(next, 1, case_id);
    rc = rc ? rc : sqlite3_step(next);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "numbering the epochs of case %lld",
                     (long long)case_id);
        stmt_done(next);
        goto out_rollback;
    }
    seq = sqlite3_column_int64(next, 0);
    stmt_done(next);
    for (i = 0; i < n; i++) {
        const struct bf_epoch_row *r = &rows[i];

        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : sqlite3_bind_int64(st, 2, seq + (int64_t)i);
        rc = rc ? rc : bind_text(st, 3, r->phase);
        rc = rc ? rc : sqlite3_bind_int(st, 4, r->epoch);
        rc = rc ? rc : bind_real(st, 5, r->lr);
        rc = rc ? rc : bind_real(st, 6, r->train_loss);
        rc = rc ? rc : bind_real(st, 7, r->val_top1);
        rc = rc ? rc : bind_real(st, 8, r->seconds);
        rc = rc ? rc : bind_real(st, 9, r->images_per_s);
        rc = rc ? rc : sqlite3_bind_int(st, 10, r->best ? 1 : 0);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc =
                db_fail(store, "inserting epoch %d of phase '%s' of case %lld",
                        r->epoch, r->phase ? r->phase : "", (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

/* Whether an optional size of an accuracy row is recorded: -1 and NaN
 * mean n/a. */
static int known(double v)
{
    return !isnan(v) && v != -1;
}

/* Bind an optional size: n/a binds SQL NULL. */
static int bind_known(sqlite3_stmt *stmt, int idx, double v)
{
    if (!known(v))
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_double(stmt, idx, v);
}

/* Check an accuracy row before it is bound; BF_EINVAL names the field. */
static int check_accuracy_row(const struct bf_store *store, int64_t case_id,
                              size_t i, const struct bf_accuracy_row *r)
{
    const struct {
        const char *name;
        double value;
    } sizes[] = {
        {"payload_bytes", r->payload_bytes},
        {"payload_zstd_bytes", r->payload_zstd_bytes},
        {"transmitted_elements", r->transmitted_elements},
        {"input_elements", r->input_elements},
        {"jpeg_reference_bytes", r->jpeg_reference_bytes},
    };
    const char *variant = r->variant ? r->variant : "";
    size_t k;

    if (!variant[0])
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy row %zu has no variant",
                          store->path, (long long)case_id, i);
    if (!r->split || !r->split[0])
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy row %zu ('%s') has no "
                          "split",
                          store->path, (long long)case_id, i, variant);
    if (strcmp(r->split, "val") == 0)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s' on split 'val': "
                          "validation data selects the model and is not a "
                          "result; evaluate on 'test'",
                          store->path, (long long)case_id, variant);
    if (r->n < 0)
        return bf_err_set(BF_EINVAL, "%s: case %lld: accuracy '%s': n is %lld",
                          store->path, (long long)case_id, variant,
                          (long long)r->n);
    if (!(r->top1 >= 0 && r->top1 <= 100) || !(r->top5 >= 0 && r->top5 <= 100))
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s': top-1 %g or top-5 %g "
                          "is not a percentage in [0, 100]",
                          store->path, (long long)case_id, variant, r->top1,
                          r->top5);
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        if (known(sizes[k].value) &&
            !(sizes[k].value >= 0 && isfinite(sizes[k].value)))
            return bf_err_set(BF_EINVAL,
                              "%s: case %lld: accuracy '%s': %s is %g (use "
                              "-1 where it does not apply)",
                              store->path, (long long)case_id, variant,
                              sizes[k].name, sizes[k].value);
    if (r->exit_rule &&
        (!(r->offload_fraction >= 0 && r->offload_fraction <= 1) ||
         !(r->device_macs >= 0 && isfinite(r->device_macs))))
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s': offload fraction %g "
                          "is not in [0, 1] or device MACs %g is negative",
                          store->path, (long long)case_id, variant,
                          r->offload_fraction, r->device_macs);
    if (r->jpeg_reference_quality < 0 || r->jpeg_reference_quality > 100)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s': JPEG reference "
                          "quality %d is not 1..100 (0: n/a)",
                          store->path, (long long)case_id, variant,
                          r->jpeg_reference_quality);
    return 0;
}

/* Pack n flags (nonzero = set) into bits, LSB first; caller frees. */
static unsigned char *pack_bits(const uint8_t *flags, size_t n)
{
    unsigned char *bits = calloc(n / 8 + 1, 1);

    if (bits)
        for (size_t i = 0; i < n; i++)
            if (flags[i])
                bits[i / 8] |= (unsigned char)(1u << (i % 8));
    return bits;
}

/* The per-image results of an accuracy row, inside its transaction. */
static int insert_predictions(struct bf_store *store, int64_t case_id,
                              const struct bf_accuracy_row *r)
{
    sqlite3_stmt *st = store->prediction_insert;
    size_t n = r->n > 0 ? (size_t)r->n : 0;
    unsigned char *classes = NULL, *top1 = NULL, *topk = NULL;
    int rc;

    if (!r->pred_top1 || !r->pred_topk || !r->items_sha256 || n < 1)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: predictions of '%s' lack "
                          "their flags, items digest or count",
                          store->path, (long long)case_id, r->variant);
    classes = malloc(2 * n + 1);
    top1 = pack_bits(r->pred_top1, n);
    topk = pack_bits(r->pred_topk, n);
    if (!classes || !top1 || !topk) {
        rc = bf_err_set(BF_ENOMEM, "predictions of %zu images", n);
        goto out_free;
    }
    for (size_t i = 0; i < n; i++) {
        classes[2 * i] = (unsigned char)(r->pred[i] & 0xff);
        classes[2 * i + 1] = (unsigned char)(r->pred[i] >> 8);
    }
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, r->variant);
    rc = rc ? rc : bind_text(st, 3, r->split);
    rc = rc ? rc : sqlite3_bind_int64(st, 4, r->n);
    rc = rc ? rc : bind_text(st, 5, r->items_sha256);
    rc = rc ? rc
            : sqlite3_bind_blob(st, 6, classes, (int)(2 * n), SQLITE_STATIC);
    rc = rc ? rc
            : sqlite3_bind_blob(st, 7, top1, (int)((n + 7) / 8), SQLITE_STATIC);
    rc = rc ? rc
            : sqlite3_bind_blob(st, 8, topk, (int)((n + 7) / 8), SQLITE_STATIC);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK)
        rc = db_fail(store, "inserting the predictions of '%s' of case %lld",
                     r->variant, (long long)case_id);
    stmt_done(st);
out_free:
    free(classes);
    free(top1);
    free(topk);
    return rc;
}

int bf_store_add_accuracy(struct bf_store *store, int64_t case_id,
                          const struct bf_accuracy_row *rows, size_t n)
{
    sqlite3_stmt *st = store->accuracy_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu accuracy rows but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "accuracy of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_accuracy_row *r = &rows[i];
        double compression = NAN, ratio = NAN;

        rc = check_accuracy_row(store, case_id, i, r);
        if (rc)
            goto out_rollback;
        if (known(r->payload_bytes) && known(r->jpeg_reference_bytes) &&
            r->jpeg_reference_bytes > 0)
            compression = 1.0 - r->payload_bytes / r->jpeg_reference_bytes;
        if (known(r->transmitted_elements) && known(r->input_elements) &&
            r->input_elements > 0)
            ratio = r->transmitted_elements / r->input_elements;
        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : bind_text(st, 2, r->variant);
        rc = rc ? rc : bind_text(st, 3, r->split);
        rc = rc ? rc : sqlite3_bind_int64(st, 4, r->n);
        rc = rc ? rc : sqlite3_bind_double(st, 5, r->top1);
        rc = rc ? rc : sqlite3_bind_double(st, 6, r->top5);
        rc = rc ? rc : bind_known(st, 7, r->payload_bytes);
        rc = rc ? rc : bind_known(st, 8, r->payload_zstd_bytes);
        rc = rc ? rc : bind_known(st, 9, r->transmitted_elements);
        rc = rc ? rc : bind_known(st, 10, r->input_elements);
        rc = rc ? rc : bind_known(st, 11, r->jpeg_reference_bytes);
        if (r->jpeg_reference_quality > 0)
            rc = rc ? rc : sqlite3_bind_int(st, 12, r->jpeg_reference_quality);
        else
            rc = rc ? rc : sqlite3_bind_null(st, 12);
        rc = rc ? rc : bind_real(st, 13, compression);
        rc = rc ? rc : bind_real(st, 14, ratio);
        rc = rc ? rc : bind_text(st, 15, r->method);
        if (r->exit_rule) {
            rc = rc ? rc : sqlite3_bind_double(st, 16, r->offload_fraction);
            rc = rc ? rc : sqlite3_bind_double(st, 17, r->device_macs);
        } else {
            rc = rc ? rc : sqlite3_bind_null(st, 16);
            rc = rc ? rc : sqlite3_bind_null(st, 17);
        }
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting accuracy '%s' on '%s' of case %lld",
                         r->variant, r->split, (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
        if (r->pred && (rc = insert_predictions(store, case_id, r)))
            goto out_rollback;
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_checks(struct bf_store *store, int64_t run_id,
                        const struct bf_check_row *rows, size_t n)
{
    sqlite3_stmt *st = store->check_insert;
    int rc;

    if (n && !rows)
        return bf_err_set(BF_EINVAL, "run %lld: %zu checks but no rows",
                          (long long)run_id, n);
    rc = tx_begin(store, "checks");
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].name || !rows[i].name[0] || !rows[i].value) {
            rc = bf_err_set(BF_EINVAL,
                            "%s: run %lld: check %zu has no name "
                            "or value",
                            store->path, (long long)run_id, i);
            goto out_rollback;
        }
        rc = sqlite3_bind_int64(st, 1, run_id);
        rc = rc ? rc : bind_text(st, 2, rows[i].name);
        rc = rc ? rc : bind_text(st, 3, rows[i].value);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting check '%s' of run %lld",
                         rows[i].name, (long long)run_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, "checks");
    if (rc)
        goto out_rollback;
    return 0;
out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_artifact(struct bf_store *store, int64_t case_id,
                          const struct bf_artifact_row *row)
{
    sqlite3_stmt *st = store->artifact_insert;
    int rc;

    if (!row || !row->kind || !row->kind[0] || !row->path || !row->path[0] ||
        !row->sha256 || strlen(row->sha256) != 64 || row->bytes < 0)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: an artifact needs a kind, a "
                          "path, a SHA-256 and a size",
                          store->path, (long long)case_id);
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, row->kind);
    rc = rc ? rc : bind_text(st, 3, row->path);
    rc = rc ? rc : bind_text(st, 4, row->sha256);
    rc = rc ? rc : sqlite3_bind_int64(st, 5, row->bytes);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK)
        rc = db_fail(store, "recording the %s artifact of case %lld", row->kind,
                     (long long)case_id);
    stmt_done(st);
    return rc;
}

/* Reading back */

int bf_store_case_samples(struct bf_store *store, int64_t case_id,
                          const char *metric, double **out, size_t *n)
{
    sqlite3_stmt *st = store->case_samples;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, metric);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading samples");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue; /* not a per-request stage, or not measured */
        if (*n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            double *grown = realloc(*out, ncap * sizeof(*grown));

            if (!grown) {
                rc = bf_err_set(BF_ENOMEM, "%zu samples", ncap);
                goto out_reset;
            }
            *out = grown;
            cap = ncap;
        }
        (*out)[(*n)++] = (double)sqlite3_column_int64(st, 0) / 1e6;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "reading samples");
out_reset:
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    stmt_done(st);
    return rc;
}

int bf_store_prediction_bits(struct bf_store *store, int64_t case_id,
                             const char *variant, const char *split,
                             struct bf_prediction_bits *out)
{
    sqlite3_stmt *st = store->prediction_bits;
    const void *blob;
    size_t bytes;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, variant);
    rc = rc ? rc : bind_text(st, 3, split);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading predictions");
        goto out_reset;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = BF_ENOENT; /* none kept: no detail, not an error to report */
        goto out_reset;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "reading predictions");
        goto out_reset;
    }
    out->n = sqlite3_column_int64(st, 0);
    snprintf(out->items_sha256, sizeof(out->items_sha256), "%s",
             column_text(st, 1));
    blob = sqlite3_column_blob(st, 2);
    bytes = (size_t)sqlite3_column_bytes(st, 2);
    if (out->n < 0 || bytes != ((size_t)out->n + 7) / 8) {
        rc = bf_err_set(BF_EPARSE,
                        "%s: case %lld %s: %zu bytes of top-1 bits for %lld "
                        "images",
                        store->path, (long long)case_id, variant, bytes,
                        (long long)out->n);
        goto out_reset;
    }
    out->top1 = malloc(bytes ? bytes : 1);
    if (!out->top1) {
        rc = bf_err_set(BF_ENOMEM, "%zu bytes", bytes);
        goto out_reset;
    }
    if (bytes)
        memcpy(out->top1, blob, bytes);
    rc = 0;
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_each_artifact(struct bf_store *store, int64_t run_id,
                           int (*fn)(int64_t case_id,
                                     const struct bf_artifact_row *row,
                                     void *ctx),
                           void *ctx)
{
    sqlite3_stmt *st = store->artifacts_of_run;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading artifacts");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_artifact_row row = {
            .kind = (const char *)sqlite3_column_text(st, 1),
            .path = (const char *)sqlite3_column_text(st, 2),
            .sha256 = (const char *)sqlite3_column_text(st, 3),
            .bytes = sqlite3_column_int64(st, 4)};

        rc = fn(sqlite3_column_int64(st, 0), &row, ctx);
        if (rc)
            goto out_reset;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "reading artifacts");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_each_platform(struct bf_store *store, int64_t run_id,
                           int (*fn)(int64_t run_id, const char *platform,
                                     const char *sha256, void *ctx),
                           void *ctx)
{
    sqlite3_stmt *st = store->run_platforms;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading platforms");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2), ctx);
        if (rc)
            goto out_reset;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "reading platforms");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_last_run(struct bf_store *store, int64_t *run_id)
{
    sqlite3_stmt *st = store->last_run;
    int rc = sqlite3_step(st);

    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "finding the newest run");
        goto out_reset;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        rc = bf_err_set(BF_ENOENT, "%s: the DB has no runs", store->path);
        goto out_reset;
    }
    *run_id = sqlite3_column_int64(st, 0);
    rc = 0;
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_run_of_scenario(struct bf_store *store, const char *sha256,
                             int64_t *run_id)
{
    sqlite3_stmt *st = store->run_by_sha;
    int rc = bind_text(st, 1, sha256);

    rc = rc ? rc : sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "finding the last run of a scenario");
        goto out_reset;
    }
    rc = 0;
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        rc = BF_ENOENT; /* not an error: no detail */
    else
        *run_id = sqlite3_column_int64(st, 0);
out_reset:
    stmt_done(st);
    return rc;
}

/* Cases of a run: all of them, and those finished or skipped. */
static int run_counts(struct bf_store *store, int64_t run_id, int64_t *all,
                      int64_t *complete)
{
    sqlite3_stmt *st = store->run_counts;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    rc = rc ? rc : sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc =
            db_fail(store, "counting the cases of run %lld", (long long)run_id);
    } else {
        *all = sqlite3_column_int64(st, 0);
        *complete = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    stmt_done(st);
    return rc;
}

/* The cases a resume drops: neither finished nor skipped. */
#define INCOMPLETE_CASES                                                       \
    "(SELECT id FROM cases WHERE run_id = ?1 AND status NOT IN "               \
    "('finished', 'skipped'))"

int bf_store_run_resume(struct bf_store *store, int64_t run_id,
                        int64_t *complete, int64_t *dropped)
{
    static const char *const steps[] = {
        "DELETE FROM samples WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM aggregates WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM epochs WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM accuracy WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM predictions WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM artifacts WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM device_results WHERE case_id IN " INCOMPLETE_CASES,
        "DELETE FROM cases WHERE id IN " INCOMPLETE_CASES,
        "UPDATE runs SET status = 'running', finished_at = NULL, resumes = "
        "resumes + 1 WHERE id = ?1"};
    int64_t all = 0;
    int rc;

    if ((rc = run_counts(store, run_id, &all, complete)))
        return rc;
    *dropped = all - *complete;
    if ((rc = tx_begin(store, "resuming a run")))
        return rc;
    for (size_t i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(store->db, steps[i], -1, &st, NULL) !=
                SQLITE_OK ||
            sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
            step_done(st) != SQLITE_OK)
            rc = db_fail(store, "resuming run %lld", (long long)run_id);
        sqlite3_finalize(st);
    }
    /* The last step touched the run's row, or there is no such run. */
    if (rc == 0 && sqlite3_changes(store->db) != 1)
        rc = bf_err_set(BF_ENOENT, "%s: no run %lld to resume", store->path,
                        (long long)run_id);
    if (rc == 0)
        rc = tx_commit(store, "resuming a run");
    if (rc)
        tx_rollback(store);
    return rc;
}

int bf_store_case_complete(struct bf_store *store, int64_t run_id,
                           const char *case_hash, int *complete)
{
    sqlite3_stmt *st = store->case_complete;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    rc = rc ? rc : bind_text(st, 2, case_hash);
    rc = rc ? rc : sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "looking up a case of run %lld", (long long)run_id);
    } else {
        *complete = sqlite3_column_int64(st, 0) > 0;
        rc = 0;
    }
    stmt_done(st);
    return rc;
}

int bf_store_each_result(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_result_view *row, void *ctx),
                         void *ctx)
{
    sqlite3_stmt *st = run_id ? store->results_run : store->results_all;
    struct bf_result_view v;
    int rc = 0;
    int step;

    if (run_id < 0)
        return bf_err_set(BF_EINVAL, "run id %lld is negative",
                          (long long)run_id);
    if (run_id && sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        rc = db_fail(store, "selecting the results of run %lld",
                     (long long)run_id);
        goto out_reset;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&v, 0, sizeof(v));
        v.run_id = sqlite3_column_int64(st, 0);
        v.run_status = column_text(st, 1);
        v.case_id = sqlite3_column_int64(st, 2);
        v.case_index = sqlite3_column_int(st, 3);
        v.case_status = column_text(st, 4);
        v.config = column_text(st, 5);
        v.model = column_text(st, 6);
        v.weights = column_text(st, 7);
        v.input_channels = sqlite3_column_int(st, 8);
        v.input_h = sqlite3_column_int(st, 9);
        v.input_w = sqlite3_column_int(st, 10);
        v.batch = sqlite3_column_int(st, 11);
        v.threads = sqlite3_column_int(st, 12);
        v.fold_bn = sqlite3_column_int(st, 13);
        v.channels_last = sqlite3_column_int(st, 14);
        v.params = sqlite3_column_int64(st, 15);
        v.macs = sqlite3_column_int64(st, 16);
        v.metric = column_text(st, 17);
        v.unit = column_text(st, 18);
        v.method = column_text(st, 19);
        /* aggregates.metric is NOT NULL: NULL means no aggregate, whose
         * statistics stay 0 rather than reading as missing (NaN). */
        if (sqlite3_column_type(st, 17) != SQLITE_NULL) {
            v.stats.n = (size_t)sqlite3_column_int64(st, 20);
            v.stats.mean = column_real(st, 21);
            v.stats.stddev = column_real(st, 22);
            v.stats.min = column_real(st, 23);
            v.stats.p50 = column_real(st, 24);
            v.stats.p90 = column_real(st, 25);
            v.stats.p99 = column_real(st, 26);
            v.stats.max = column_real(st, 27);
        }
        v.case_error = column_text(st, 28);
        v.link = column_text(st, 29);
        v.link_rate_mbps = sqlite3_column_type(st, 30) == SQLITE_NULL
                               ? -1
                               : sqlite3_column_double(st, 30);
        v.link_rtt_ms = sqlite3_column_type(st, 31) == SQLITE_NULL
                            ? -1
                            : sqlite3_column_double(st, 31);
        v.background_clients = sqlite3_column_int(st, 32);
        rc = fn(&v, ctx);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(store, "reading results");
out_reset:
    stmt_done(st);
    return rc;
}

/* An optional number read back: SQL NULL reads as absent. */
static int64_t column_int64_or(sqlite3_stmt *stmt, int col, int64_t absent)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return absent;
    return sqlite3_column_int64(stmt, col);
}

static double column_real_or(sqlite3_stmt *stmt, int col, double absent)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return absent;
    return sqlite3_column_double(stmt, col);
}

/* The count values (at most max) of a space-separated list into v. */
static size_t parse_reals(const char *text, double *v, size_t max)
{
    size_t n = 0;
    char *end;

    while (text && *text && n < max) {
        double x = strtod(text, &end);

        if (end == text)
            break;
        v[n++] = x;
        text = end;
    }
    return n;
}

int bf_store_each_seed_group(struct bf_store *store, int64_t run_id,
                             int (*fn)(const struct bf_seed_group_view *view,
                                       void *ctx),
                             void *ctx)
{
    sqlite3_stmt *st = store->seed_groups;
    double *v1 = NULL, *v5 = NULL;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    if (rc != SQLITE_OK) {
        rc = db_fail(store, "grouping accuracies across seeds");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_seed_group_view g = {
            .run_id = sqlite3_column_int64(st, 0),
            .model = column_text(st, 1),
            .strategy = column_text(st, 2),
            .freeze_encoder = sqlite3_column_int(st, 3),
            .bottleneck_version = sqlite3_column_int(st, 4),
            .bottleneck_channels = sqlite3_column_int(st, 5),
            .variant = column_text(st, 6),
            .split = column_text(st, 7),
            .seeds = (size_t)sqlite3_column_int64(st, 8),
            .n_min = sqlite3_column_int64(st, 9),
            .n_max = sqlite3_column_int64(st, 10)};
        size_t n1, n5;

        free(v1);
        free(v5);
        v1 = malloc(g.seeds * sizeof(*v1));
        v5 = malloc(g.seeds * sizeof(*v5));
        if (!v1 || !v5) {
            rc = bf_err_set(BF_ENOMEM, "%zu seeds", g.seeds);
            goto out_reset;
        }
        n1 = parse_reals(column_text(st, 11), v1, g.seeds);
        n5 = parse_reals(column_text(st, 12), v5, g.seeds);
        if (n1 != g.seeds || n5 != g.seeds) {
            rc = bf_err_set(BF_EPARSE,
                            "%s: run %lld: %s %s: %zu seeds but %zu "
                            "accuracies",
                            store->path, (long long)g.run_id, g.model,
                            g.strategy, g.seeds, n1);
            goto out_reset;
        }
        if ((rc = bf_stats_t_interval(v1, n1, 0.95, &g.top1_mean,
                                      &g.top1_half)) ||
            (rc =
                 bf_stats_t_interval(v5, n5, 0.95, &g.top5_mean, &g.top5_half)))
            goto out_reset;
        for (size_t i = 0; i < n1; i++)
            g.top1_sd += (v1[i] - g.top1_mean) * (v1[i] - g.top1_mean);
        g.top1_sd = sqrt(g.top1_sd / (double)(n1 - 1));
        rc = fn(&g, ctx);
        if (rc)
            goto out_reset;
    }
    rc = rc == SQLITE_DONE ? 0
                           : db_fail(store, "grouping accuracies across seeds");
out_reset:
    free(v1);
    free(v5);
    stmt_done(st);
    return rc;
}

int bf_store_each_accuracy(struct bf_store *store, int64_t run_id,
                           int (*fn)(const struct bf_accuracy_view *view,
                                     void *ctx),
                           void *ctx)
{
    sqlite3_stmt *st = run_id ? store->accuracy_run : store->accuracy_all;
    struct bf_accuracy_view v;
    int rc = 0;
    int step;

    if (run_id < 0)
        return bf_err_set(BF_EINVAL, "run id %lld is negative",
                          (long long)run_id);
    if (run_id && sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        rc = db_fail(store, "selecting the accuracy of run %lld",
                     (long long)run_id);
        goto out_reset;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&v, 0, sizeof(v));
        v.run_id = sqlite3_column_int64(st, 0);
        v.run_status = column_text(st, 1);
        v.case_id = sqlite3_column_int64(st, 2);
        v.case_index = sqlite3_column_int(st, 3);
        v.case_status = column_text(st, 4);
        v.case_error = column_text(st, 5);
        v.model = column_text(st, 6);
        v.strategy = column_text(st, 7);
        v.freeze_encoder = (int)column_int64_or(st, 8, -1);
        v.bottleneck_version = (int)column_int64_or(st, 9, 0);
        v.bottleneck_channels = (int)column_int64_or(st, 10, 0);
        v.split_shape = column_text(st, 11);
        v.head_params = column_int64_or(st, 12, -1);
        v.head_macs = column_int64_or(st, 13, -1);
        v.head_bytes = column_int64_or(st, 14, -1);
        v.dataset = column_text(st, 15);
        v.acc.variant = column_text(st, 16);
        v.acc.split = column_text(st, 17);
        v.acc.method = column_text(st, 27);
        /* accuracy.variant is NOT NULL: NULL means no accuracy row, whose
         * numbers stay 0 rather than reading as n/a. */
        if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
            v.acc.n = sqlite3_column_int64(st, 18);
            v.acc.top1 = column_real(st, 19);
            v.acc.top5 = column_real(st, 20);
            v.acc.payload_bytes = column_real_or(st, 21, -1);
            v.acc.payload_zstd_bytes = column_real_or(st, 22, -1);
            v.acc.transmitted_elements = column_real_or(st, 23, -1);
            v.acc.input_elements = column_real_or(st, 24, -1);
            v.acc.jpeg_reference_bytes = column_real_or(st, 25, -1);
            v.acc.jpeg_reference_quality = (int)column_int64_or(st, 26, 0);
            v.acc.exit_rule = sqlite3_column_type(st, 30) != SQLITE_NULL;
            v.acc.offload_fraction = column_real_or(st, 30, -1);
            v.acc.device_macs = column_real_or(st, 31, -1);
        }
        v.compression_vs_jpeg = column_real(st, 28);
        v.element_ratio = column_real(st, 29);
        v.seeded = sqlite3_column_type(st, 32) != SQLITE_NULL;
        v.seed = (uint64_t)sqlite3_column_int64(st, 32);
        rc = fn(&v, ctx);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(store, "reading accuracy results");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_count_samples(struct bf_store *store, int64_t case_id,
                           int64_t *count)
{
    sqlite3_stmt *st = store->count_samples;
    int rc = sqlite3_bind_int64(st, 1, case_id);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "counting the samples of case %lld",
                     (long long)case_id);
        goto out_reset;
    }
    *count = sqlite3_column_int64(st, 0);
    rc = 0;
out_reset:
    stmt_done(st);
    return rc;
}

/* Devices */

int bf_store_add_devices(struct bf_store *store, int64_t case_id,
                         const struct bf_device_row *rows, size_t n)
{
    sqlite3_stmt *st = store->device_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu device rows but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "devices of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_device_row *r = &rows[i];
        const double nums[] = {r->host_head_ms, r->head_ms,
                               r->encode_ms,    r->transfer_ms,
                               r->server_ms,    r->e2e_ms,
                               r->e2e_mean_ms,  r->e2e_p90_ms,
                               r->avg_power_mw, r->avg_power_above_idle_mw,
                               r->energy_mj,    r->energy_above_idle_mj};

        if (!r->device || !r->device[0] || !r->role || !r->latency_method ||
            !r->power_method || r->requests < 0) {
            rc = bf_err_set(BF_EINVAL,
                            "case %lld: device row %zu lacks its device, "
                            "role or methods",
                            (long long)case_id, i);
            goto out_rollback;
        }
        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : bind_text(st, 2, r->device);
        rc = rc ? rc : bind_text(st, 3, r->role);
        rc = rc ? rc : bind_text(st, 4, r->latency_method);
        rc = rc ? rc : bind_text(st, 5, r->power_method);
        rc = rc ? rc : bind_text_or_null(st, 6, r->radio);
        rc = rc ? rc : sqlite3_bind_int64(st, 7, r->requests);
        for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
            rc = rc ? rc : bind_real(st, 8 + (int)k, nums[k]);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting device '%s' of case %lld", r->device,
                         (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_each_device(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_device_view *view,
                                   void *ctx),
                         void *ctx)
{
    sqlite3_stmt *st = store->devices_run;
    struct bf_device_view v;
    int rc = 0, step;

    if (run_id < 0)
        return bf_err_set(BF_EINVAL, "run id %lld is negative",
                          (long long)run_id);
    if (sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        rc = db_fail(store, "selecting the devices of run %lld",
                     (long long)run_id);
        goto out_reset;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&v, 0, sizeof(v));
        v.run_id = sqlite3_column_int64(st, 0);
        v.case_index = sqlite3_column_int(st, 1);
        v.config = column_text(st, 2);
        v.model = column_text(st, 3);
        v.link_rate_mbps = column_real(st, 4);
        v.bottleneck_channels = (int)column_int64_or(st, 5, 0);
        v.row.device = column_text(st, 6);
        v.row.role = column_text(st, 7);
        v.row.latency_method = column_text(st, 8);
        v.row.power_method = column_text(st, 9);
        v.row.radio = column_text(st, 10);
        v.row.requests = sqlite3_column_int64(st, 11);
        v.row.host_head_ms = column_real(st, 12);
        v.row.head_ms = column_real(st, 13);
        v.row.encode_ms = column_real(st, 14);
        v.row.transfer_ms = column_real(st, 15);
        v.row.server_ms = column_real(st, 16);
        v.row.e2e_ms = column_real(st, 17);
        v.row.e2e_mean_ms = column_real(st, 18);
        v.row.e2e_p90_ms = column_real(st, 19);
        v.row.avg_power_mw = column_real(st, 20);
        v.row.avg_power_above_idle_mw = column_real(st, 21);
        v.row.energy_mj = column_real(st, 22);
        v.row.energy_above_idle_mj = column_real(st, 23);
        v.background_clients = (int)column_int64_or(st, 24, 0);
        v.case_status = column_text(st, 25);
        rc = fn(&v, ctx);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(store, "reading device results");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_add_calibration(struct bf_store *store,
                             const struct bf_calibration_row *cal,
                             const struct bf_calibration_point_row *points,
                             size_t n, int64_t *id)
{
    sqlite3_stmt *st = store->calibration_insert;
    char now[32];
    size_t i;
    int rc, k;

    if (!store || !cal || (n && !points) || !id)
        return bf_err_set(BF_EINVAL, "bf_store_add_calibration: NULL");
    rc = tx_begin(store, "calibration");
    if (rc)
        return rc;
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, cal->profile);
    rc = rc ? rc : bind_text(st, 2, cal->profile_path);
    rc = rc ? rc : bind_text(st, 3, now);
    rc = rc ? rc : bind_text(st, 4, cal->form);
    for (k = 0; k < 6; k++)
        rc = rc ? rc : sqlite3_bind_double(st, 5 + k, cal->value[k]);
    rc = rc ? rc : bind_text(st, 11, cal->fitted);
    rc = rc ? rc : bind_real(st, 12, cal->fit_rms_pct);
    rc = rc ? rc : bind_real(st, 13, cal->loo_mean_abs_pct);
    rc = rc ? rc : bind_real(st, 14, cal->loo_max_abs_pct);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "inserting the calibration of %s", cal->profile);
        goto out_rollback;
    }
    stmt_done(st);
    *id = sqlite3_last_insert_rowid(store->db);
    st = store->calibration_point_insert;
    for (i = 0; i < n; i++) {
        const struct bf_calibration_point_row *p = &points[i];

        rc = sqlite3_bind_int64(st, 1, *id);
        rc = rc ? rc : sqlite3_bind_int64(st, 2, (int64_t)i);
        rc = rc ? rc : bind_text(st, 3, p->model);
        rc = rc ? rc : sqlite3_bind_int(st, 4, p->input_px);
        rc = rc ? rc : sqlite3_bind_int64(st, 5, p->macs);
        rc = rc ? rc : sqlite3_bind_int64(st, 6, p->layers);
        rc = rc ? rc : sqlite3_bind_double(st, 7, p->measured_ms);
        rc = rc ? rc : bind_text(st, 8, p->method);
        rc = rc ? rc : sqlite3_bind_double(st, 9, p->predicted_ms);
        rc = rc ? rc : bind_real(st, 10, p->loo_ms);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting calibration point %s of %s",
                         p->model, cal->profile);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, "calibration");
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

struct sqlite3 *bf_store_db(struct bf_store *store)
{
    return store->db;
}
