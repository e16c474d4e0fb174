/*
 * bf_compare: a results DB (or one run of it) against a baseline, for CI
 * regression checks (`bfbench compare BASE NEW`).
 *
 * Matching. Cases are matched across the two DBs by cases.case_hash (schema
 * version 6: the SHA-256 of the case's scenario settings and matrix point,
 * so the same scenario file gives the same hashes in any DB). A side is
 * every run of its DB, or one run: over every run, each hash is the newest
 * complete (finished or skipped) case of that hash, else the newest case of
 * any status; with a run, only that run's cases. Cases without a hash
 * (recorded before schema 6) cannot be matched: they are counted and named
 * in a warning, never compared. A BASE case that NEW lacks is a regression;
 * a NEW case that BASE lacks is listed, not a failure.
 *
 * Modes. Exact when both sides' runs share one platform fingerprint
 * (runs.platform_sha256, schema version 7: the CPU, its kernel-selecting
 * features and environment, the BLAS core, the oneDNN ISA, library
 * versions and compiler): the same code on the same platform gives the
 * same bits, so every recorded number must be identical. Statistical
 * otherwise (a fingerprint differs or is missing): float rounding differs
 * between platforms, so only what is exact by construction stays exact and
 * the rest is judged by a named rule. BF_COMPARE_AUTO picks the mode;
 * BF_COMPARE_EXACT and _STATISTICAL force one.
 *
 * Rules (struct bf_compare_rules; each row names the one that judged it):
 *
 *   exact             equal: integers exactly, reals within a relative
 *                     BF_COMPARE_EXACT_REL (1e-9; NULL equals only NULL).
 *                     Both modes: the case status (finished in BASE,
 *                     anything else in NEW is a regression; when BASE did
 *                     not finish nothing else of the case is compared),
 *                     its shape (params, MACs, head params, MACs and
 *                     bytes, split shape, input CxHxW, intra-op threads),
 *                     an accuracy row's n, payload bytes, elements and
 *                     JPEG reference bytes, the number of timed requests
 *                     and their bytes up and down, aggregates in bytes,
 *                     the epochs (count, phases, learning rates: the
 *                     schedule) and the run's known-answer checks (checks
 *                     table). Exact mode adds everything else: top-1 and
 *                     top-5, the per-image predictions, zstd sizes, exit
 *                     rates, training losses, validation top-1 and best
 *                     flags, modeled device head times.
 *   accuracy.paired   statistical mode, top-1 and top-5 of an accuracy row
 *                     with per-image results on both sides over the same
 *                     items: McNemar's exact test on the discordant
 *                     images; WORSE when NEW lost at least
 *                     accuracy_min_drop_pts points and p < accuracy_alpha.
 *   accuracy.unpaired the same without per-image results (or over other
 *                     items): a two-proportion z test.
 *   loss.rel          statistical mode, each epoch's training loss: within
 *                     a relative loss_rel of BASE.
 *   size.rel          statistical mode, data-dependent sizes (zstd bytes,
 *                     the offloaded share and device MACs of exits):
 *                     within a relative size_rel.
 *   model.rel         statistical mode, modeled device head times (pure
 *                     functions of layer lists and fits): within a
 *                     relative model_rel.
 *   time.reps         both modes, on one platform, where both sides hold
 *                     at least two finished cases of the hash (runs of
 *                     the same scenario, or rounds of `repetitions`):
 *                     the Mann-Whitney U test over each repetition's
 *                     median of the per-request samples, SLOWER under the
 *                     time.mwu conditions applied to the median of those
 *                     medians. Requests of one run share its machine
 *                     state, so only repetitions spread in time are
 *                     independent samples of the code's speed.
 *   time.mwu          both modes, on one platform (equal fingerprints;
 *                     across platforms a timing differs with the hardware
 *                     and kernels, so it is listed with verdict "~", not
 *                     judged): every aggregate in a time unit whose
 *                     per-request samples both sides kept: the
 *                     Mann-Whitney U test over the samples; SLOWER when the
 *                     ratio of medians NEW / BASE exceeds time_ratio, the
 *                     median grew by more than time_floor_ms and p <
 *                     time_alpha; faster (listed, never a failure) the
 *                     other way round.
 *   time.ratio        the same without samples: the p50 ratio alone.
 *   throughput.ratio  training images/s per phase (a few epochs, no
 *                     test possible): SLOWER when BASE / NEW exceeds
 *                     throughput_ratio.
 *
 * With skip_timings, the timing rules list their rows with verdict "~" on
 * one platform too: for checks whose machine is shared with other work.
 *
 * Values not judged: validation top-1 and best flags in statistical mode
 * (the test accuracy is judged instead), counted aggregates other than
 * bytes (busy_retries), measured device numbers, energies, methods (they
 * hold paths), run provenance.
 *
 * Output: one table row per exact metric that differs and per judged
 * metric of the other rules (columns case, hash, metric, base, new,
 * change, rule, verdict), then, in text and Markdown, the summary line of
 * bf_compare_summary_line(), which names the mode and why. Provenance
 * (paths, runs, CPUs, the platform keys that differ) goes to the log, so
 * that the table holds nothing that changes between two comparisons of
 * the same DBs.
 *
 * The DBs are read through the store as recorded
 * (bf_store_open_as_recorded(), bf_store_compare.h): read-only and never
 * migrated, so that a baseline is never modified, whatever its schema
 * version.
 */
#ifndef BF_COMPARE_H
#define BF_COMPARE_H

#include "bf_report.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Relative tolerance of exact real comparisons. */
#define BF_COMPARE_EXACT_REL 1e-9

/* Which run of the DB: every run, its newest, or one by id (> 0). */
#define BF_COMPARE_ALL_RUNS 0
#define BF_COMPARE_LAST_RUN (-1)

/* One side of a comparison. */
struct bf_compare_side {
    const char *path; /* results DB file */
    int64_t run_id;   /* BF_COMPARE_ALL_RUNS, BF_COMPARE_LAST_RUN or an id */
};

enum bf_compare_mode {
    BF_COMPARE_AUTO,        /* exact when the fingerprints are equal */
    BF_COMPARE_EXACT,       /* every recorded number identical */
    BF_COMPARE_STATISTICAL, /* exact by construction, the rest by rule */
};

/*
 * The thresholds of the rules, by the names the output and `bfbench
 * compare --rule NAME=VALUE` use. The defaults (BF_COMPARE_RULES_DEFAULT)
 * come from the spread of the CI suite across kernel ISAs and reruns
 * (REPRODUCE.md, "CI regression checks").
 */
struct bf_compare_rules {
    double accuracy_alpha;        /* accuracy.alpha: p below this ... */
    double accuracy_min_drop_pts; /* accuracy.min_drop_pts: ... and a drop
                                    of at least this many points: WORSE */
    double loss_rel;              /* loss.rel */
    double size_rel;              /* size.rel */
    double model_rel;             /* model.rel */
    double time_alpha;            /* time.alpha */
    double time_ratio;            /* time.ratio: ratio of medians or p50s */
    double time_floor_ms;         /* time.floor_ms: smaller growth is noise */
    double throughput_ratio;      /* throughput.ratio */
};

#define BF_COMPARE_RULES_DEFAULT                                               \
    ((struct bf_compare_rules){.accuracy_alpha = 0.01,                         \
                               .accuracy_min_drop_pts = 1.5,                   \
                               .loss_rel = 0.05,                               \
                               .size_rel = 0.05,                               \
                               .model_rel = 1e-6,                              \
                               .time_alpha = 0.01,                             \
                               .time_ratio = 1.3,                              \
                               .time_floor_ms = 0.05,                          \
                               .throughput_ratio = 2.0})

/*
 * Set one rule threshold from "NAME=VALUE" (names as in struct
 * bf_compare_rules' comments). BF_EINVAL naming the rule for an unknown
 * name or a value out of range (alphas in (0, 1), relative tolerances
 * >= 0, ratios >= 1, the floor >= 0).
 */
int bf_compare_rule_set(struct bf_compare_rules *rules, const char *assignment);

/* Every rule threshold as "name=value" lines, for --help and logs. */
void bf_compare_rules_write(const struct bf_compare_rules *rules, FILE *out);

struct bf_compare_params {
    struct bf_compare_side base;      /* BASE: the baseline */
    struct bf_compare_side candidate; /* NEW: what is checked */
    enum bf_compare_mode mode;
    struct bf_compare_rules rules;
    enum bf_report_format format;
    /* 1: list timings with verdict "~" without judging them, on one
     * platform too (a CI runner shared with other jobs, whose timings say
     * nothing about the code; `bfbench compare --timings skip`). */
    int skip_timings;
};

/* Counts of one comparison. */
struct bf_compare_summary {
    enum bf_compare_mode mode; /* the mode used: exact or statistical */
    char mode_why[96];         /* "platforms equal", "platforms differ", ... */
    size_t matched;            /* cases in both */
    size_t missing;            /* BASE cases NEW lacks */
    size_t new_only;           /* NEW cases BASE lacks */
    size_t base_unhashed;      /* cases without a hash, not compared */
    size_t new_unhashed;
    size_t exact_equal; /* rule exact */
    size_t exact_differ;
    size_t judged_ok; /* accuracy, tolerance and timing rules */
    size_t worse;     /* accuracy.* WORSE, *.rel OFF */
    size_t timings_slower;
    size_t better;       /* faster timings, better accuracies: never failures */
    size_t unjudged;     /* timings across platforms or skipped: listed "~" */
    int timings_skipped; /* 1: unjudged by request (skip_timings) */
    size_t tests;        /* statistical tests run (McNemar, z, Mann-Whitney) */
    int regression;      /* 1: exact_differ, worse, timings_slower or missing */
};

/*
 * Compare params->candidate against params->base and write the table (and
 * in text and Markdown the summary line) to out; *summary gets the counts.
 * Returns 0 whether or not there is a regression (see summary->regression),
 * or: BF_ENOENT when a DB file or the named run does not exist, or BASE has
 * no case with a hash; BF_EPARSE when a file is not a bfbench results DB;
 * BF_EVERSION when its schema is newer than this build's; BF_EINVAL for
 * bad parameters; BF_EDB, BF_ENOMEM. Messages name the side ("BASE",
 * "NEW") and the file.
 */
int bf_compare_write(const struct bf_compare_params *params, FILE *out,
                     struct bf_compare_summary *summary);

/*
 * The summary as one line, without a newline: "compare: statistical mode
 * (platforms differ); N cases matched, X exact equal, Y differ, J judged
 * ok, W worse, S slower, B better (T tests); result: PASS" (or
 * REGRESSION), with ", M missing" and ", K new" after the cases and ", U
 * timings not judged (~: platforms differ)" (or "(~: --timings skip)")
 * after the better ones when there are any. Truncated to size.
 */
void bf_compare_summary_line(const struct bf_compare_summary *summary,
                             char *buf, size_t size);

#endif /* BF_COMPARE_H */
