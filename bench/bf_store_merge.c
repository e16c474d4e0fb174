/*
 * bf_store_merge: the merge of a source DB's runs into a store (rules in
 * bf_store_merge.h). The source is attached as schema "src"; the tables
 * whose rows belong to a case (a case_id column) and every column list
 * are read from the schema, so that a table or column added by a later
 * schema version is merged without a change here.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store_merge.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_store_int.h"

#include <stdlib.h>
#include <string.h>

#define CHILDREN_MAX 16
#define COLS_SIZE 2048
#define SQL_SIZE 8192

/* A table whose rows belong to a case. */
struct child {
    char name[64];
    char cols[COLS_SIZE];        /* every column, in order */
    char select_cols[COLS_SIZE]; /* the same with case_id read as ?1 */
    char digest_cols[COLS_SIZE]; /* what a case's digest reads */
    int n_digest;
};

struct merge {
    struct bf_store *store;
    sqlite3 *db;
    const struct bf_merge_params *p;
    struct bf_merge_counts *counts;
    size_t n_children;
    struct child children[CHILDREN_MAX];
    char run_cols[COLS_SIZE];         /* runs but id */
    char case_cols[COLS_SIZE];        /* cases but id, run_id, merge_id */
    char case_digest_cols[COLS_SIZE]; /* cases' columns in the digest */
};

/* The source run being merged. */
struct src_run {
    int64_t id;
    const char *name;
    const char *sha;
    const char *commit;
    const char *host;
    const char *cpu;
    const char *platform_sha;
    int64_t target;   /* its run in the store */
    int64_t merge_id; /* its merges row */
    int64_t added, same, left;
};

static int fail(struct merge *m, const char *what)
{
    return db_fail(m->store, "merging %s: %s", m->p->src_label, what);
}

static int prepare(struct merge *m, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(m->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return fail(m, "preparing a statement");
    }
    return 0;
}

/* Run sql with ?1 bound to a (and ?2 to b when b >= 0) to its end. */
static int exec2(struct merge *m, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st;
    int rc = prepare(m, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, a);
    if (b >= 0)
        sqlite3_bind_int64(st, 2, b);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(m, sql);
    sqlite3_finalize(st);
    return rc;
}

/* Append ", text" (or text when buf is empty) to buf. */
static int append(struct merge *m, char *buf, const char *text)
{
    size_t len = strlen(buf);
    int n = snprintf(buf + len, COLS_SIZE - len, "%s%s", len ? ", " : "", text);

    if (n < 0 || (size_t)n >= COLS_SIZE - len)
        return bf_err_set(BF_ERANGE, "merging %s: a column list is too long",
                          m->p->src_label);
    return 0;
}

/* Whether a case's digest leaves table.col out: what differs between
 * equal results (times of day, thread counts, durations, paths). */
static int digest_skips(const char *table, const char *col)
{
    if (strcmp(table, "cases") == 0)
        return strcmp(col, "id") == 0 || strcmp(col, "run_id") == 0 ||
               strcmp(col, "merge_id") == 0 || strcmp(col, "resume_id") == 0 ||
               strcmp(col, "started_at") == 0 ||
               strcmp(col, "finished_at") == 0 || strcmp(col, "threads") == 0;
    if (strcmp(col, "case_id") == 0)
        return 1;
    if (strcmp(table, "epochs") == 0)
        return strcmp(col, "seconds") == 0 || strcmp(col, "images_per_s") == 0;
    return strcmp(table, "artifacts") == 0 && strcmp(col, "path") == 0;
}

/* The column lists of runs, cases and the case tables. */
static int load_columns(struct merge *m)
{
    sqlite3_stmt *tables = NULL, *cols = NULL;
    int rc = prepare(m,
                     "SELECT name FROM main.sqlite_master WHERE type = "
                     "'table' AND name NOT IN ('cases', 'runs') ORDER BY name",
                     &tables);

    rc = rc ? rc
            : prepare(m,
                      "SELECT name FROM pragma_table_info(?1, 'main') ORDER "
                      "BY cid",
                      &cols);
    /* runs and cases first, then each table with a case_id column. */
    for (int t = 0; rc == 0; t++) {
        const char *table;
        struct child c;
        int has_case_id = 0;

        if (t == 0)
            table = "runs";
        else if (t == 1)
            table = "cases";
        else if (sqlite3_step(tables) == SQLITE_ROW)
            table = (const char *)sqlite3_column_text(tables, 0);
        else
            break;
        memset(&c, 0, sizeof(c));
        snprintf(c.name, sizeof(c.name), "%s", table);
        sqlite3_reset(cols);
        sqlite3_bind_text(cols, 1, c.name, -1, SQLITE_STATIC);
        while (rc == 0 && sqlite3_step(cols) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(cols, 0);
            char quoted[80];

            snprintf(quoted, sizeof(quoted), "\"%s\"", col);
            if (t == 0) {
                if (strcmp(col, "id") != 0)
                    rc = append(m, m->run_cols, quoted);
                continue;
            }
            if (t == 1) {
                /* A copied case's provenance is its merges row. */
                if (strcmp(col, "id") != 0 && strcmp(col, "run_id") != 0 &&
                    strcmp(col, "merge_id") != 0 &&
                    strcmp(col, "resume_id") != 0)
                    rc = append(m, m->case_cols, quoted);
                if (rc == 0 && !digest_skips("cases", col))
                    rc = append(m, m->case_digest_cols, quoted);
                continue;
            }
            has_case_id |= strcmp(col, "case_id") == 0;
            rc = append(m, c.cols, quoted);
            rc = rc ? rc
                    : append(m, c.select_cols,
                             strcmp(col, "case_id") == 0 ? "?1" : quoted);
            if (rc == 0 && !digest_skips(c.name, col)) {
                rc = append(m, c.digest_cols, quoted);
                c.n_digest++;
            }
        }
        if (rc || t < 2 || !has_case_id)
            continue;
        if (m->n_children == CHILDREN_MAX) {
            rc = bf_err_set(BF_ERANGE, "merging %s: too many case tables",
                            m->p->src_label);
            break;
        }
        m->children[m->n_children++] = c;
    }
    sqlite3_finalize(tables);
    sqlite3_finalize(cols);
    return rc;
}

/* Hash every row st yields: each value's type and bytes. */
static int hash_rows(struct merge *m, sqlite3_stmt *st, struct bf_sha256 *h)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);

        for (int i = 0; i < n; i++) {
            unsigned char type = (unsigned char)sqlite3_column_type(st, i);
            sqlite3_int64 iv;
            double dv;
            int len;

            bf_sha256_update(h, &type, 1);
            switch (type) {
            case SQLITE_INTEGER:
                iv = sqlite3_column_int64(st, i);
                bf_sha256_update(h, &iv, sizeof(iv));
                break;
            case SQLITE_FLOAT:
                dv = sqlite3_column_double(st, i);
                bf_sha256_update(h, &dv, sizeof(dv));
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB:
                len = sqlite3_column_bytes(st, i);
                bf_sha256_update(h, &len, sizeof(len));
                bf_sha256_update(h, sqlite3_column_blob(st, i), (size_t)len);
                break;
            default:
                break;
            }
        }
        bf_sha256_update(h, "\n", 1);
    }
    return rc == SQLITE_DONE ? 0 : fail(m, "reading a case's rows");
}

/* The digest of case id of schema ("main" or "src"): its results. */
static int case_digest(struct merge *m, const char *schema, int64_t id,
                       char hex[BF_HASH_HEX_SIZE])
{
    struct bf_sha256 h;
    char sql[SQL_SIZE];
    int rc = 0;

    bf_sha256_init(&h);
    for (size_t t = 0; rc == 0 && t <= m->n_children; t++) {
        const struct child *c = t ? &m->children[t - 1] : NULL;
        sqlite3_stmt *st;
        size_t len;

        if (!c)
            len = (size_t)snprintf(sql, sizeof(sql),
                                   "SELECT %s FROM %s.cases WHERE id = ?1",
                                   m->case_digest_cols, schema);
        else {
            len = (size_t)snprintf(sql, sizeof(sql),
                                   "SELECT %s FROM %s.\"%s\" WHERE case_id = "
                                   "?1 ORDER BY 1",
                                   c->digest_cols, schema, c->name);
            for (int k = 2; k <= c->n_digest && len < sizeof(sql); k++)
                len +=
                    (size_t)snprintf(sql + len, sizeof(sql) - len, ", %d", k);
        }
        if (len >= sizeof(sql))
            return bf_err_set(BF_ERANGE, "merging %s: a query is too long",
                              m->p->src_label);
        bf_sha256_update(&h, c ? c->name : "cases",
                         strlen(c ? c->name : "cases"));
        rc = prepare(m, sql, &st);
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, id);
        rc = hash_rows(m, st, &h);
        sqlite3_finalize(st);
    }
    if (rc == 0)
        bf_sha256_final(&h, hex);
    return rc;
}

/* Delete case id of the store with every row that belongs to it. */
static int delete_case(struct merge *m, int64_t id)
{
    char sql[256];
    int rc = 0;

    for (size_t t = 0; rc == 0 && t < m->n_children; t++) {
        snprintf(sql, sizeof(sql), "DELETE FROM main.\"%s\" WHERE case_id = ?1",
                 m->children[t].name);
        rc = exec2(m, sql, id, -1);
    }
    return rc ? rc : exec2(m, "DELETE FROM main.cases WHERE id = ?1", id, -1);
}

/* Copy source case id into the run r->target, with its rows. */
static int copy_case(struct merge *m, const struct src_run *r, int64_t id)
{
    char sql[SQL_SIZE];
    sqlite3_stmt *st;
    int64_t new_id;
    int rc;

    if ((size_t)snprintf(sql, sizeof(sql),
                         "INSERT INTO main.cases (run_id, merge_id, %s) "
                         "SELECT ?1, ?2, %s FROM src.cases WHERE id = ?3",
                         m->case_cols, m->case_cols) >= sizeof(sql))
        return bf_err_set(BF_ERANGE, "merging %s: a query is too long",
                          m->p->src_label);
    rc = prepare(m, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->target);
    sqlite3_bind_int64(st, 2, r->merge_id);
    sqlite3_bind_int64(st, 3, id);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(m, "copying a case");
    sqlite3_finalize(st);
    new_id = sqlite3_last_insert_rowid(m->db);
    for (size_t t = 0; rc == 0 && t < m->n_children; t++) {
        const struct child *c = &m->children[t];

        if ((size_t)snprintf(sql, sizeof(sql),
                             "INSERT INTO main.\"%s\" (%s) SELECT %s FROM "
                             "src.\"%s\" WHERE case_id = ?2",
                             c->name, c->cols, c->select_cols,
                             c->name) >= sizeof(sql))
            return bf_err_set(BF_ERANGE, "merging %s: a query is too long",
                              m->p->src_label);
        rc = exec2(m, sql, new_id, id);
    }
    return rc;
}

static int complete(const char *status)
{
    return strcmp(status, "finished") == 0 || strcmp(status, "skipped") == 0;
}

/* A refused conflict (or, forced, a warning): BF_EDB or 0. */
static int conflict(struct merge *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int conflict(struct merge *m, const char *fmt, ...)
{
    char what[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (m->p->force) {
        m->counts->forced++;
        fprintf(stderr, "bfbench: warning: %s (forced: %s's side kept)\n", what,
                m->p->into_label);
        return 0;
    }
    return bf_err_set(BF_EDB,
                      "merge refused: %s; nothing was merged (--force "
                      "keeps %s's side)",
                      what, m->p->into_label);
}

/* Merge one case of the source run. */
static int merge_case(struct merge *m, struct src_run *r, int64_t id, int index,
                      const char *hash, const char *status)
{
    sqlite3_stmt *st;
    int64_t tid = 0;
    int tcomplete = 0, rc;
    char a[BF_HASH_HEX_SIZE], b[BF_HASH_HEX_SIZE];

    if (!hash)
        return bf_err_set(BF_EDB,
                          "%s: run %lld case %d has no case hash (recorded "
                          "before schema version 6): it cannot be matched "
                          "across DBs",
                          m->p->src_label, (long long)r->id, index);
    if (strcmp(status, "running") == 0) {
        r->left++; /* its process was killed: no results */
        return 0;
    }
    /* Repetitions share a hash: the k-th row of a hash in the source (in
     * id order) matches the k-th of the target's. */
    rc = prepare(m,
                 "SELECT id, status IN ('finished', 'skipped') FROM "
                 "main.cases WHERE run_id = ?1 AND case_hash = ?2 ORDER BY id "
                 "LIMIT 1 OFFSET (SELECT count(*) FROM src.cases WHERE run_id "
                 "= ?3 AND case_hash = ?2 AND id < ?4)",
                 &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->target);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->id);
    sqlite3_bind_int64(st, 4, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        tid = sqlite3_column_int64(st, 0);
        tcomplete = sqlite3_column_int(st, 1);
        rc = 0;
    } else
        rc = rc == SQLITE_DONE ? 0 : fail(m, "finding a case");
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if (tid == 0 || (!tcomplete && complete(status))) {
        rc = tid ? delete_case(m, tid) : 0;
        rc = rc ? rc : copy_case(m, r, id);
        if (rc == 0) {
            r->added++;
            m->counts->added += tid == 0;
            m->counts->replaced += tid != 0;
        }
        return rc;
    }
    if (!complete(status) || !tcomplete) {
        r->left++; /* a failure where the target has the case already */
        return 0;
    }
    rc = case_digest(m, "main", tid, a);
    rc = rc ? rc : case_digest(m, "src", id, b);
    if (rc)
        return rc;
    if (strcmp(a, b) == 0) {
        r->same++;
        return 0;
    }
    r->left++;
    return conflict(m,
                    "%s run %lld case %d (hash %.12s) has other results than "
                    "the case of that hash in %s run %lld",
                    m->p->src_label, (long long)r->id, index, hash,
                    m->p->into_label, (long long)r->target);
}

/* The known-answer checks of the source run, into the target run. */
static int merge_checks(struct merge *m, const struct src_run *r)
{
    sqlite3_stmt *st;
    int rc = prepare(m,
                     "SELECT s.name, s.value, t.value FROM src.checks s LEFT "
                     "JOIN main.checks t ON t.run_id = ?2 AND t.name = s.name "
                     "WHERE s.run_id = ?1 ORDER BY s.name",
                     &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->target);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *value = (const char *)sqlite3_column_text(st, 1);
        const char *have = (const char *)sqlite3_column_text(st, 2);
        sqlite3_stmt *ins;

        rc = 0;
        if (have && strcmp(have, value) != 0) {
            rc = conflict(m,
                          "known-answer check '%s' of %s run %lld is %s, "
                          "of %s run %lld %s",
                          name, m->p->src_label, (long long)r->id, value,
                          m->p->into_label, (long long)r->target, have);
            continue;
        }
        if (have)
            continue;
        rc = prepare(m,
                     "INSERT INTO main.checks (run_id, name, value) VALUES "
                     "(?1, ?2, ?3)",
                     &ins);
        if (rc)
            break;
        sqlite3_bind_int64(ins, 1, r->target);
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(ins) == SQLITE_DONE ? 0 : fail(m, "adding a check");
        sqlite3_finalize(ins);
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = fail(m, "reading the source's checks");
    sqlite3_finalize(st);
    return rc;
}

/* Where the source run goes: the store's newest run of the same scenario
 * file, else a new run copied from the source's row. */
static int find_target(struct merge *m, struct src_run *r)
{
    sqlite3_stmt *st;
    char sql[SQL_SIZE];
    int rc = prepare(m,
                     "SELECT id, git_commit, coalesce(platform_sha256, ''), "
                     "host, cpu_model FROM main.runs WHERE scenario_sha256 = "
                     "?1 ORDER BY id DESC LIMIT 1",
                     &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, r->sha, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *commit = (const char *)sqlite3_column_text(st, 1);
        const char *psha = (const char *)sqlite3_column_text(st, 2);
        const char *host = (const char *)sqlite3_column_text(st, 3);
        const char *cpu = (const char *)sqlite3_column_text(st, 4);
        int mixed = strcmp(psha, r->platform_sha) != 0;
        int hosts = strcmp(host, r->host) != 0 || strcmp(cpu, r->cpu) != 0;

        r->target = sqlite3_column_int64(st, 0);
        rc = strcmp(commit, r->commit) == 0
                 ? 0
                 : conflict(m,
                            "%s run %lld ran code commit %.12s, %s run %lld "
                            "(the same scenario) %.12s",
                            m->p->src_label, (long long)r->id, r->commit,
                            m->p->into_label, (long long)r->target, commit);
        sqlite3_finalize(st);
        /* Shards of several machines: one platform no longer describes
         * the run (compare judges it statistically). */
        if (rc == 0 && mixed)
            rc = exec2(m,
                       "UPDATE main.runs SET platform = 'several platforms: "
                       "see the merges table', platform_sha256 = 'mixed' "
                       "WHERE id = ?1",
                       r->target, -1);
        if (rc == 0 && hosts)
            rc = exec2(m,
                       "UPDATE main.runs SET host = 'several: see the merges "
                       "table', cpu_model = 'several: see the merges table' "
                       "WHERE id = ?1",
                       r->target, -1);
        return rc;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(m, "finding the run of a scenario");
    /* Another text of a scenario of that name merged already. */
    rc = prepare(m,
                 "SELECT r.id, r.scenario_sha256 FROM main.runs r WHERE "
                 "r.scenario_name = ?1 AND EXISTS (SELECT 1 FROM main.merges "
                 "g WHERE g.run_id = r.id) ORDER BY r.id DESC LIMIT 1",
                 &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = conflict(m,
                      "%s run %lld is scenario '%s' with another text (SHA-256 "
                      "%.12s) than the one merged into %s run %lld (%.12s); "
                      "forced, it becomes a run of its own",
                      m->p->src_label, (long long)r->id, r->name, r->sha,
                      m->p->into_label, (long long)sqlite3_column_int64(st, 0),
                      (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if ((size_t)snprintf(sql, sizeof(sql),
                         "INSERT INTO main.runs (%s) SELECT %s FROM src.runs "
                         "WHERE id = ?1",
                         m->run_cols, m->run_cols) >= sizeof(sql))
        return bf_err_set(BF_ERANGE, "merging %s: a query is too long",
                          m->p->src_label);
    rc = exec2(m, sql, r->id, -1);
    if (rc)
        return rc;
    r->target = sqlite3_last_insert_rowid(m->db);
    m->counts->runs_new++;
    /* Its status is settled once every source is in (bfbench merge). */
    rc = exec2(m,
               "UPDATE main.runs SET status = 'running', finished_at = "
               "NULL, resumes = 0 WHERE id = ?1",
               r->target, -1);
    /* A source run resumed on other machines: its row names one. */
    if (rc == 0 && strcmp(r->platform_sha, "mixed") == 0)
        rc = exec2(m,
                   "UPDATE main.runs SET platform = 'several platforms: "
                   "see the resumes table of the merged source', "
                   "platform_sha256 = 'mixed' WHERE id = ?1",
                   r->target, -1);
    return rc;
}

/* The source run's merges row: the one of an earlier merge of the same
 * source run (same file name, run, start, host and command line), else a
 * new one. */
static int provenance(struct merge *m, struct src_run *r)
{
    sqlite3_stmt *st;
    char now[ISO_TIME_SIZE];
    int rc = prepare(m,
                     "SELECT g.id FROM main.merges g JOIN src.runs s ON "
                     "s.id = ?2 WHERE g.run_id = ?1 AND g.source_run_id = ?2 "
                     "AND g.source_started_at = s.started_at AND g.host = "
                     "s.host AND g.command_line = s.command_line AND "
                     "g.source_path = ?3",
                     &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->target);
    sqlite3_bind_int64(st, 2, r->id);
    sqlite3_bind_text(st, 3, m->p->src_label, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    r->merge_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(m, "reading the merges");
    if (r->merge_id)
        return 0;
    rc = prepare(m,
                 "INSERT INTO main.merges (run_id, merged_at, source_path, "
                 "source_run_id, source_status, source_started_at, "
                 "source_finished_at, host, cpu_model, git_commit, git_dirty, "
                 "platform_sha256, command_line, cases_added, cases_same, "
                 "cases_left) SELECT ?1, ?2, ?3, id, status, started_at, "
                 "finished_at, host, cpu_model, git_commit, "
                 "git_dirty, " RUN_PLATFORM_SHA(
                     "src.", "runs") ", command_line, 0, 0, 0 "
                                     "FROM src.runs WHERE id = ?4",
                 &st);
    if (rc)
        return rc;
    bf_clock_utc_iso(now, sizeof(now));
    sqlite3_bind_int64(st, 1, r->target);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->p->src_label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->id);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(m, "recording the merge");
    sqlite3_finalize(st);
    r->merge_id = sqlite3_last_insert_rowid(m->db);
    return rc;
}

static int merge_run(struct merge *m, struct src_run *r)
{
    sqlite3_stmt *st;
    int rc = find_target(m, r);

    rc = rc ? rc : provenance(m, r);
    rc = rc ? rc : merge_checks(m, r);
    if (rc)
        return rc;
    rc = prepare(m,
                 "SELECT id, case_index, case_hash, status FROM src.cases "
                 "WHERE run_id = ?1 ORDER BY case_index, id",
                 &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->id);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = merge_case(m, r, sqlite3_column_int64(st, 0),
                        sqlite3_column_int(st, 1),
                        (const char *)sqlite3_column_text(st, 2),
                        (const char *)sqlite3_column_text(st, 3));
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = fail(m, "reading the source's cases");
    sqlite3_finalize(st);
    m->counts->same += r->same;
    m->counts->left += r->left;
    if (rc)
        return rc;
    st = NULL;
    rc = prepare(m,
                 "UPDATE main.merges SET cases_added = cases_added + ?1, "
                 "cases_same = ?2, cases_left = ?3 WHERE id = ?4",
                 &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->added);
    sqlite3_bind_int64(st, 2, r->same);
    sqlite3_bind_int64(st, 3, r->left);
    sqlite3_bind_int64(st, 4, r->merge_id);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(m, "recording the merge");
    sqlite3_finalize(st);
    return rc;
}

static int merge_runs(struct merge *m)
{
    sqlite3_stmt *st;
    int rc = prepare(m,
                     "SELECT id, scenario_name, scenario_sha256, git_commit, "
                     "status, started_at, host, cpu_model, " RUN_PLATFORM_SHA(
                         "src.", "runs") " FROM src.runs ORDER BY id",
                     &st);

    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct src_run r = {.id = sqlite3_column_int64(st, 0),
                            .name = (const char *)sqlite3_column_text(st, 1),
                            .sha = (const char *)sqlite3_column_text(st, 2),
                            .commit = (const char *)sqlite3_column_text(st, 3),
                            .host = (const char *)sqlite3_column_text(st, 6),
                            .cpu = (const char *)sqlite3_column_text(st, 7),
                            .platform_sha =
                                (const char *)sqlite3_column_text(st, 8)};

        m->counts->runs++;
        rc = merge_run(m, &r);
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = fail(m, "reading the source's runs");
    sqlite3_finalize(st);
    return rc;
}

int bf_store_merge(struct bf_store *store, const struct bf_merge_params *p,
                   struct bf_merge_counts *counts)
{
    struct merge *m;
    sqlite3_stmt *st = NULL;
    int version = -1, rc;

    if (!store || !p || !p->src_path || !p->src_label || !p->into_label ||
        !counts)
        return bf_err_set(BF_EINVAL, "bf_store_merge: NULL argument");
    memset(counts, 0, sizeof(*counts));
    m = calloc(1, sizeof(*m));
    if (!m)
        return bf_err_set(BF_ENOMEM, "merging %s", p->src_label);
    m->store = store;
    m->db = store->db;
    m->p = p;
    m->counts = counts;
    rc = prepare(m, "ATTACH DATABASE ?1 AS src", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, p->src_path, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(m, "attaching it");
        sqlite3_finalize(st);
    }
    if (rc) {
        free(m);
        return rc;
    }
    rc = prepare(m, "PRAGMA src.user_version", &st);
    if (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc == 0 && version != BF_STORE_SCHEMA_VERSION)
        rc = bf_err_set(BF_EVERSION,
                        "%s: results DB schema version %d, not %d: open it "
                        "with this bfbench first",
                        p->src_label, version, BF_STORE_SCHEMA_VERSION);
    rc = rc ? rc : load_columns(m);
    if (rc == 0 &&
        sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        rc = fail(m, "starting the transaction");
    else if (rc == 0) {
        rc = merge_runs(m);
        if (rc == 0 &&
            sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = fail(m, "committing");
        if (rc)
            sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_exec(m->db, "DETACH DATABASE src", NULL, NULL, NULL);
    free(m);
    return rc;
}

int bf_store_each_merged_run(struct bf_store *store,
                             int (*fn)(int64_t run_id, const char *name,
                                       const char *text, void *ctx),
                             void *ctx)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(store->db,
                           "SELECT id, scenario_path, scenario_text FROM runs "
                           "WHERE id IN (SELECT run_id FROM merges) ORDER BY "
                           "id",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(store, "reading the merged runs");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2), ctx);
        if (rc)
            break;
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = db_fail(store, "reading the merged runs");
    sqlite3_finalize(st);
    return rc;
}

int bf_store_each_merge(struct bf_store *store, int64_t run_id,
                        int (*fn)(const struct bf_merge_view *v, void *ctx),
                        void *ctx)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(store->db,
                           "SELECT run_id, source_path, source_run_id, "
                           "source_status, host, git_commit, "
                           "coalesce(platform_sha256, ''), merged_at, "
                           "cases_added, cases_same, cases_left FROM merges "
                           "WHERE ?1 = 0 OR run_id = ?1 ORDER BY run_id, id",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(store, "reading the merges");
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_merge_view v = {
            .run_id = sqlite3_column_int64(st, 0),
            .source_path = (const char *)sqlite3_column_text(st, 1),
            .source_run_id = sqlite3_column_int64(st, 2),
            .source_status = (const char *)sqlite3_column_text(st, 3),
            .host = (const char *)sqlite3_column_text(st, 4),
            .git_commit = (const char *)sqlite3_column_text(st, 5),
            .platform_sha256 = (const char *)sqlite3_column_text(st, 6),
            .merged_at = (const char *)sqlite3_column_text(st, 7),
            .added = sqlite3_column_int64(st, 8),
            .same = sqlite3_column_int64(st, 9),
            .left = sqlite3_column_int64(st, 10)};

        rc = fn(&v, ctx);
        if (rc)
            break;
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = db_fail(store, "reading the merges");
    sqlite3_finalize(st);
    return rc;
}

/* *n = the single integer sql yields with ?1 = id. */
static int count_of(struct bf_store *store, const char *sql, int64_t id,
                    int64_t *n)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(store, "counting");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    rc = rc == SQLITE_ROW ? 0 : db_fail(store, "counting");
    sqlite3_finalize(st);
    return rc;
}

int bf_store_merge_sources(struct bf_store *store, int64_t run_id, int64_t *n)
{
    return count_of(store, "SELECT count(*) FROM merges WHERE run_id = ?1",
                    run_id, n);
}

int bf_store_run_failed_cases(struct bf_store *store, int64_t run_id,
                              int64_t *n)
{
    return count_of(store,
                    "SELECT count(*) FROM cases WHERE run_id = ?1 AND status "
                    "= 'failed'",
                    run_id, n);
}

int bf_store_copy_to(struct bf_store *store, const char *path)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(store->db, "VACUUM INTO ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(store, "copying to %s", path);
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? 0
             : db_fail(store, "copying to %s", path);
    sqlite3_finalize(st);
    return rc;
}
