/*
 * bfbench merge: shards run into their own DBs and merged equal the
 * unsharded run case for case; merging again changes nothing; a partial
 * merge reads unfinished; conflicts (other results, another scenario
 * text, another commit) are refused with nothing written, and passed by
 * --force; bad command lines and inputs give their exit codes.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_spawn.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The first column of sql's first row as text into out ("" if none). */
static void query_text(const char *db, const char *sql, char *out, size_t size)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;

    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static long query_long(const char *db, const char *sql)
{
    char text[64];

    query_text(db, sql, text, sizeof(text));
    return text[0] ? strtol(text, NULL, 10) : -1;
}

static void exec_sql(const char *db, const char *sql)
{
    sqlite3 *h = NULL;

    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* A copy of a DB by SQLite (its WAL included). */
static void copy_db(const char *from, const char *to)
{
    char sql[1200];

    remove(to);
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", to);
    exec_sql(from, sql);
}

/* Three timed cases, two repetitions each (six case rows). */
static const char scenario[] = "name: merge-test\n"
                               "models: [resnet_mini]\n"
                               "batch: [1, 2, 3]\n"
                               "threads: 1\n"
                               "warmup: 0\n"
                               "min_samples: 3\n"
                               "max_samples: 3\n"
                               "min_duration_ms: 0\n"
                               "repetitions: 2\n"
                               "devices: none\n";

#define HASHES                                                                 \
    "SELECT group_concat(h, ',') FROM (SELECT case_hash AS h FROM cases "      \
    "WHERE status = 'finished' ORDER BY case_hash)"

static void test_merge_shards(void **state)
{
    char sc[512], s1[512], s2[512], whole[512], all[512], part[512];
    char a[1024], b[1024];

    (void)state;
    tmp_path(sc, sizeof(sc), "merge.yaml");
    write_text(sc, scenario);
    tmp_path(s1, sizeof(s1), "s1.db");
    tmp_path(s2, sizeof(s2), "s2.db");
    tmp_path(whole, sizeof(whole), "whole.db");
    tmp_path(all, sizeof(all), "all.db");
    tmp_path(part, sizeof(part), "part.db");
    expect(RUN("run", sc, "--shard", "1/2", "--db", s1), 0, "shard 1");
    expect(RUN("run", sc, "--shard", "2/2", "--db", s2), 0, "shard 2");
    expect(RUN("run", sc, "--db", whole), 0, "unsharded");
    /* Each shard alone is not the whole run. */
    assert_true(query_long(s1, "SELECT count(*) FROM cases") < 6);
    assert_int_equal(query_long(s1, "SELECT count(*) FROM runs WHERE status "
                                    "= 'running'"),
                     1);

    expect(RUN("merge", s1, s2, "--into", all), 0, "merge");
    assert_non_null(strstr(out_text, "3 of 3 cases complete"));
    assert_int_equal(query_long(all, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(query_long(all, "SELECT count(*) FROM runs WHERE status "
                                     "= 'finished'"),
                     1);
    assert_int_equal(query_long(all, "SELECT count(*) FROM cases"), 6);
    assert_int_equal(query_long(all, "SELECT count(*) FROM merges"), 2);
    assert_int_equal(query_long(all, "SELECT count(*) FROM cases WHERE "
                                     "merge_id IS NULL"),
                     0);
    /* Case for case the unsharded run: the same hashes, as often. */
    query_text(whole, HASHES, a, sizeof(a));
    query_text(all, HASHES, b, sizeof(b));
    assert_string_equal(a, b);
    /* Every sample of the shards is there. */
    assert_int_equal(query_long(all, "SELECT count(*) FROM samples"),
                     query_long(s1, "SELECT count(*) FROM samples") +
                         query_long(s2, "SELECT count(*) FROM samples"));
    expect(RUN("report", "--db", all), 0, "report of the merged run");
    assert_non_null(strstr(out_text, "merged from"));
    assert_non_null(strstr(out_text, "s2.db run 1"));
    expect(RUN("compare", whole, all, "--timings", "skip"), 0,
           "merged against unsharded");

    /* Again: nothing changes. */
    expect(RUN("merge", s2, s1, "--into", all), 0, "merge again");
    assert_non_null(strstr(out_text, "0 case(s) added"));
    assert_int_equal(query_long(all, "SELECT count(*) FROM cases"), 6);
    assert_int_equal(query_long(all, "SELECT count(*) FROM merges"), 2);

    /* Two merges into one DB at once take turns (DB.lock): neither's
     * cases are lost to the other's replacing the file. */
    {
        char both[512];
        pid_t p1, p2;

        tmp_path(both, sizeof(both), "both.db");
        p1 = spawn_tagged(
            "m1", (const char *const[]){"merge", s1, "--into", both, NULL});
        p2 = spawn_tagged(
            "m2", (const char *const[]){"merge", s2, "--into", both, NULL});
        expect(wait_tagged(p1, "m1"), 0, "first of two merges at once");
        expect(wait_tagged(p2, "m2"), 0, "second of two merges at once");
        assert_int_equal(query_long(both, "SELECT count(*) FROM cases"), 6);
        assert_int_equal(query_long(both, "SELECT count(*) FROM merges"), 2);
    }

    /* A dry run says what would happen and writes nothing. */
    {
        char dry[512];

        tmp_path(dry, sizeof(dry), "dry.db");
        expect(RUN("merge", s1, s2, "--into", dry, "--dry-run"), 0, "dry run");
        assert_non_null(strstr(out_text, "3 of 3 cases complete"));
        assert_non_null(strstr(out_text, "nothing written"));
        assert_int_equal(access(dry, F_OK), -1);
    }

    /* One shard: unfinished, and the other added later finishes it. */
    expect(RUN("merge", s1, "--into", part), 0, "partial merge");
    assert_int_equal(query_long(part, "SELECT count(*) FROM runs WHERE status "
                                      "= 'interrupted'"),
                     1);
    expect(RUN("merge", s2, "--into", part), 0, "the other shard");
    assert_int_equal(query_long(part, "SELECT count(*) FROM runs WHERE status "
                                      "= 'finished'"),
                     1);
}

/*
 * A source run resumed on another platform: its copied cases point at the
 * merges row, not at the source's resumes rows (ids of another DB), and
 * the merged run reads "mixed", as its source does.
 */
static void test_merge_resumed_source(void **state)
{
    char sc[512], src[512], dst[512];

    (void)state;
    tmp_path(sc, sizeof(sc), "resumed.yaml");
    write_text(sc, scenario);
    tmp_path(src, sizeof(src), "resumed-src.db");
    tmp_path(dst, sizeof(dst), "resumed-dst.db");
    expect(RUN("run", sc, "--shard", "1/2", "--db", src), 0, "shard 1");
    expect(RUN("run", sc, "--resume", "--db", src), 0, "resumed, all cases");
    assert_true(query_long(src, "SELECT count(*) FROM cases WHERE resume_id "
                                "= 1") >= 1);
    /* As if the resume had run on another machine. */
    exec_sql(src, "UPDATE resumes SET platform_sha256 = 'another'");
    expect(RUN("merge", src, "--into", dst), 0, "merge");
    assert_int_equal(query_long(dst, "SELECT count(*) FROM cases"), 6);
    assert_int_equal(query_long(dst, "SELECT count(*) FROM cases WHERE "
                                     "resume_id IS NOT NULL OR merge_id IS "
                                     "NULL"),
                     0);
    assert_int_equal(query_long(dst, "SELECT count(*) FROM runs WHERE "
                                     "platform_sha256 = 'mixed'"),
                     1);
    assert_int_equal(query_long(dst, "SELECT count(*) FROM merges WHERE "
                                     "platform_sha256 = 'mixed'"),
                     1);
}

static void test_merge_conflicts(void **state)
{
    char sc[512], s1[512], s2[512], bad[512], all[512], other[512];
    char sc2[512], junk[512];

    (void)state;
    tmp_path(sc, sizeof(sc), "merge.yaml");
    write_text(sc, scenario);
    tmp_path(s1, sizeof(s1), "c1.db");
    tmp_path(s2, sizeof(s2), "c2.db");
    tmp_path(bad, sizeof(bad), "bad.db");
    tmp_path(all, sizeof(all), "call.db");
    expect(RUN("run", sc, "--shard", "1/2", "--db", s1), 0, "shard 1");
    expect(RUN("run", sc, "--shard", "2/2", "--db", s2), 0, "shard 2");
    expect(RUN("merge", s1, s2, "--into", all), 0, "merge");

    /* Other results under a hash merged already: refused, nothing
     * written; forced: the merged DB's side kept. */
    copy_db(s2, bad);
    exec_sql(bad, "UPDATE aggregates SET mean = mean * 2 WHERE case_id = "
                  "(SELECT min(id) FROM cases)");
    expect(RUN("merge", bad, "--into", all, "--dry-run"), 3,
           "other results, dry run");
    expect(RUN("merge", bad, "--into", all), 3, "other results");
    assert_non_null(strstr(err_text, "merge refused"));
    assert_non_null(strstr(err_text, "other results"));
    assert_non_null(strstr(err_text, "--force"));
    assert_int_equal(query_long(all, "SELECT count(*) FROM merges"), 2);
    expect(RUN("merge", bad, "--into", all, "--force"), 0, "forced");
    assert_non_null(strstr(err_text, "forced"));
    assert_int_equal(query_long(all, "SELECT count(*) FROM cases"), 6);

    /* Another code commit. */
    copy_db(s2, bad);
    exec_sql(bad, "UPDATE runs SET git_commit = 'feedfacecafe'");
    expect(RUN("merge", bad, "--into", all), 3, "another commit");
    assert_non_null(strstr(err_text, "code commit"));

    /* Another text of the scenario of that name. */
    tmp_path(sc2, sizeof(sc2), "merge2.yaml");
    write_text(sc2, "name: merge-test\nmodels: [resnet_mini]\nbatch: 4\n"
                    "threads: 1\nwarmup: 0\nmin_samples: 3\nmax_samples: 3\n"
                    "min_duration_ms: 0\ndevices: none\n");
    tmp_path(other, sizeof(other), "other.db");
    expect(RUN("run", sc2, "--db", other), 0, "another text");
    expect(RUN("merge", other, "--into", all), 3, "another scenario text");
    assert_non_null(strstr(err_text, "another text"));
    expect(RUN("merge", other, "--into", all, "--force"), 0,
           "another text, forced");
    assert_int_equal(query_long(all, "SELECT count(*) FROM runs"), 2);

    /* Command line and inputs. */
    expect(RUN("merge", "--help"), 0, "help");
    assert_non_null(strstr(out_text, "--into"));
    expect(RUN("merge", s1), 2, "no --into");
    expect(RUN("merge", "--into", all), 2, "no source");
    expect(RUN("merge", all, "--into", all), 2, "source is the target");
    expect(RUN("merge", s1, "--into", all, "--bogus"), 2, "unknown option");
    tmp_path(junk, sizeof(junk), "missing.db");
    expect(RUN("merge", junk, "--into", all), 3, "missing source");
    assert_non_null(strstr(err_text, "missing.db"));
    tmp_path(junk, sizeof(junk), "junk.db");
    write_text(junk, "not a database, only text of some length ........");
    expect(RUN("merge", junk, "--into", all), 3, "not a DB");
    assert_non_null(strstr(err_text, "junk.db"));
    assert_int_equal(query_long(all, "SELECT count(*) FROM runs"), 2);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("bf_test_merge.");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_shards),
        cmocka_unit_test(test_merge_resumed_source),
        cmocka_unit_test(test_merge_conflicts),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
