/*
 * bf_store_merge: the store side of `bfbench merge`. The runs of a source
 * DB (a shard's, from `bfbench run --shard K/N --db SHARD.db`) are merged
 * into the runs of this DB: one logical run per scenario file (its
 * SHA-256), so that reports, figures and comparisons read the shards as
 * the one run they would have been. Each source run merged is one row of
 * the merges table (its provenance: path, run, host, commit, platform,
 * command line, what was copied); each case copied points at that row
 * (cases.merge_id).
 *
 * Rules, per case hash (repetitions of a case, the key `repetitions`,
 * share its hash: the k-th row of a hash in a source run, in id order, is
 * matched with the k-th of the target run):
 *   - not in the target run: copied with every row that belongs to it
 *     (samples, aggregates, epochs, accuracy, predictions, devices,
 *     artifacts); a case left "running" in the source (its process was
 *     killed) is left out;
 *   - in the target run, complete (finished or skipped) on both sides: the
 *     same results (every recorded value except times of day, thread
 *     counts, epoch durations and artifact paths) count as already merged,
 *     so merging a source twice changes nothing; different results are a
 *     conflict;
 *   - incomplete in the target, complete in the source: replaced.
 * Conflicts, refused unless forced: the same case hash with different
 * results, a run of the scenario's name merged from another scenario text,
 * another code commit, a known-answer check with another value. Forced,
 * the target's side is kept and the source's counted as left out.
 * Machines that differ between sources make the run's platform "mixed"
 * (bfbench compare then judges it statistically).
 */
#ifndef BF_STORE_MERGE_H
#define BF_STORE_MERGE_H

#include "bf_store.h"

#include <stdint.h>

/* What one bf_store_merge call did. */
struct bf_merge_counts {
    int64_t runs;     /* source runs read */
    int64_t runs_new; /* runs created in the target */
    int64_t added;    /* cases copied */
    int64_t same;     /* in the target already with the same results */
    int64_t replaced; /* incomplete in the target: replaced */
    int64_t left;     /* incomplete in the source, or forced conflicts */
    int64_t forced;   /* conflicts passed by force (target's side kept) */
};

struct bf_merge_params {
    const char *src_path;   /* the source DB file */
    const char *src_label;  /* its name in merges.source_path, messages */
    const char *into_label; /* the target's name in messages */
    int force;              /* pass conflicts, keeping the target's side */
};

/*
 * Merge every run of the source DB (at this schema version: open it with
 * bf_store_open first to migrate it) into store, in one transaction: on
 * any error or refused conflict nothing is written. Errors: BF_EDB (a
 * conflict, naming the case, both DBs and --force; a case without a hash,
 * recorded before schema version 6; SQLite errors), BF_EVERSION.
 */
int bf_store_merge(struct bf_store *store, const struct bf_merge_params *p,
                   struct bf_merge_counts *counts);

/*
 * Call fn for every run of store that a merge created or added to, in id
 * order, with its scenario path and text (borrowed for the callback). A
 * nonzero return from fn stops the walk and is returned.
 */
int bf_store_each_merged_run(struct bf_store *store,
                             int (*fn)(int64_t run_id, const char *path,
                                       const char *text, void *ctx),
                             void *ctx);

/* One merges row: a source run merged into run_id (strings borrowed). */
struct bf_merge_view {
    int64_t run_id;
    const char *source_path;
    int64_t source_run_id;
    const char *source_status;
    const char *host;
    const char *git_commit;
    const char *platform_sha256; /* "" when the source had none */
    const char *merged_at;
    int64_t added, same, left;
};

/*
 * Call fn for every merges row of run_id (every run when 0), by run and
 * row id; a nonzero return from fn stops the walk and is returned.
 */
int bf_store_each_merge(struct bf_store *store, int64_t run_id,
                        int (*fn)(const struct bf_merge_view *v, void *ctx),
                        void *ctx);

/* *n = the merges rows (source runs) of run_id. */
int bf_store_merge_sources(struct bf_store *store, int64_t run_id, int64_t *n);

/* *n = the failed cases of run_id. */
int bf_store_run_failed_cases(struct bf_store *store, int64_t run_id,
                              int64_t *n);

/* Write a compact copy of store to path (VACUUM INTO; path must not exist). */
int bf_store_copy_to(struct bf_store *store, const char *path);

#endif /* BF_STORE_MERGE_H */
