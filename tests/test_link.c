/*
 * Tests of bf_link: the schedules of the ideal, fixed and trace links
 * against hand-computed times, FIFO order, seeded jitter and loss, and
 * the rejection of bad parameters and trace files by name and line.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_err.h"
#include "bf_link.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000LL

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/bf_test_link.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *trace(const char *name, const char *text)
{
    static char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return path;
}

static struct bf_link *open_link(const struct bf_link_params *p)
{
    struct bf_link *l = NULL;

    if (bf_link_open(p, &l))
        fail_msg("open %s: %s", p->kind, bf_last_error());
    return l;
}

static void send_ok(struct bf_link *l, int64_t t, uint64_t bytes, int64_t *sent,
                    int64_t *arrive)
{
    assert_int_equal(bf_link_send(l, t, bytes, sent, arrive), 0);
}

static void test_link_ideal(void **state)
{
    struct bf_link_params p = {.kind = "ideal"};
    struct bf_link *l = open_link(&p);
    int64_t s, a;

    (void)state;
    assert_string_equal(bf_link_kind(l), "ideal");
    send_ok(l, 5 * MS, 1 << 20, &s, &a);
    assert_true(s == 5 * MS && a == 5 * MS);
    send_ok(l, 7 * MS, 10, &s, &a);
    assert_true(s == 7 * MS && a == 7 * MS);
    assert_int_equal(bf_link_send(l, 0, 0, &s, &a), BF_EINVAL);
    bf_link_close(l);
    bf_link_close(NULL);
}

/* 1,000,000 bytes at 8 Mbit/s take 1 s; the one-way delay is rtt / 2. */
static void test_link_fixed(void **state)
{
    struct bf_link_params p = {.kind = "fixed", .rate_mbps = 8, .rtt_ms = 20};
    struct bf_link *l = open_link(&p);
    int64_t s, a;

    (void)state;
    send_ok(l, 100 * MS, 1000000, &s, &a);
    assert_true(s == 1100 * MS);
    assert_true(a == 1110 * MS);
    /* Offered while the first is sending: it waits for the sender. */
    send_ok(l, 600 * MS, 1000, &s, &a);
    assert_true(s == 1101 * MS);
    assert_true(a == 1111 * MS);
    /* Offered after an idle gap: starts at once. */
    send_ok(l, 5000 * MS, 1000, &s, &a);
    assert_true(s == 5001 * MS && a == 5011 * MS);
    assert_true(fabs(bf_link_ideal_ns(8, 20, 1000000) - 1010.0 * MS) < 1e-6);
    bf_link_close(l);
}

/* Jitter stays within its bound, never reorders, and is seeded. */
static void test_link_fixed_jitter_seeded(void **state)
{
    struct bf_link_params p = {.kind = "fixed",
                               .rate_mbps = 100,
                               .rtt_ms = 10,
                               .jitter_ms = 2,
                               .seed = 5};
    struct bf_link *a1 = open_link(&p), *a2 = open_link(&p), *b;
    int64_t s1, r1, s2, r2, prev = 0;
    int differ = 0, spread = 0;

    (void)state;
    p.seed = 6;
    b = open_link(&p);
    for (int i = 0; i < 200; i++) {
        int64_t t = i * 10 * MS, sb, rb;

        send_ok(a1, t, 1250, &s1, &r1);
        send_ok(a2, t, 1250, &s2, &r2);
        send_ok(b, t, 1250, &sb, &rb);
        assert_true(s1 == s2 && r1 == r2);
        assert_true(s1 == t + 100000); /* 1250 B at 100 Mbit/s: 0.1 ms */
        assert_true(r1 - s1 >= 3 * MS && r1 - s1 <= 7 * MS);
        assert_true(r1 >= prev);
        prev = r1;
        differ += rb != r1;
        spread += llabs(r1 - s1 - 5 * MS) > MS;
    }
    assert_true(differ > 150);
    assert_true(spread > 50); /* uniform on +-2 ms: half beyond 1 ms */
    bf_link_close(a1);
    bf_link_close(a2);
    bf_link_close(b);
}

/*
 * Loss: 1,000 packets at 10 %; each loss (retries included) costs one RTT
 * plus the packet again. Expected losses n p / (1 - p) = 111.1, standard
 * deviation about 11; the test allows 5 of them.
 */
static void test_link_fixed_loss(void **state)
{
    struct bf_link_params p = {.kind = "fixed",
                               .rate_mbps = 12,
                               .rtt_ms = 40,
                               .loss = 0.1,
                               .retransmit_ms = -1,
                               .seed = 9};
    struct bf_link *l = open_link(&p);
    int64_t s, a;
    double tx = 1000.0 * 1500 * 8000.0 / 12; /* ns */
    double per_loss = 40.0 * MS + 1500 * 8000.0 / 12;
    double losses;

    (void)state;
    send_ok(l, 0, 1500 * 1000, &s, &a);
    losses = ((double)s - tx) / per_loss;
    print_message("losses: %.1f (expected 111.1)\n", losses);
    assert_true(fabs(losses - round(losses)) < 1e-3);
    assert_true(fabs(losses - 111.1) < 5 * 11);
    assert_true(a - s == 20 * MS);
    bf_link_close(l);
}

/*
 * Mahimahi: opportunities at 1, 2, 3, 4 ms (period 4 ms), one 1500-byte
 * packet each.
 */
static void test_link_trace_mahimahi(void **state)
{
    struct bf_link_params p = {.kind = "trace",
                               .rtt_ms = 2,
                               .trace_path =
                                   trace("mm.trace", "# a comment\n1\n2\n\n3\n"
                                                     "4\n")};
    struct bf_link *l = open_link(&p);
    int64_t s, a, t0 = 1000 * MS;

    (void)state;
    assert_string_equal(bf_link_kind(l), "trace");
    send_ok(l, t0, 1, &s, &a); /* one packet: opportunity 1 ms */
    assert_true(s == t0 + 1 * MS && a == t0 + 2 * MS);
    send_ok(l, t0, 4500, &s, &a); /* three: 2, 3, 4 ms */
    assert_true(s == t0 + 4 * MS && a == t0 + 5 * MS);
    send_ok(l, t0, 3000, &s, &a); /* two, next period: 5, 6 ms */
    assert_true(s == t0 + 6 * MS);
    /* Idle until 20.5 ms: the next opportunity is 21 ms. */
    send_ok(l, t0 + 20 * MS + MS / 2, 1500, &s, &a);
    assert_true(s == t0 + 21 * MS && a == t0 + 22 * MS);
    bf_link_close(l);
}

/* Rows: 8 Mbit/s from 0 s, nothing from 1 s, 16 Mbit/s from 2 s. */
static void test_link_trace_rows(void **state)
{
    struct bf_link_params p = {
        .kind = "trace",
        .trace_path = trace("rate.csv", "0, 8\n1.0,0\n2 , 16\r\n")};
    struct bf_link *l = open_link(&p);
    int64_t s, a;

    (void)state;
    send_ok(l, 0, 1000000, &s, &a); /* 8 Mbit at 8 Mbit/s */
    assert_true(s == 1000 * MS && a == s);
    send_ok(l, 0, 1000000, &s, &a); /* waits out 1..2 s, then 0.5 s */
    assert_true(s == 2500 * MS);
    send_ok(l, 2600 * MS, 2000000, &s, &a); /* 16 Mbit at 16 Mbit/s */
    assert_true(s == 3600 * MS);
    bf_link_close(l);
}

static void expect_bad(const struct bf_link_params *p, int code,
                       const char *needle)
{
    struct bf_link *l = (struct bf_link *)&l;

    if (bf_link_open(p, &l) != code)
        fail_msg("%s: not refused with %d (%s)", needle, code, bf_last_error());
    if (!strstr(bf_last_error(), needle))
        fail_msg("'%s' lacks '%s'", bf_last_error(), needle);
    assert_true(l == (struct bf_link *)&l); /* untouched */
}

static void test_link_rejected(void **state)
{
    struct bf_link_params p = {.kind = "lte"};
    char missing[128];

    (void)state;
    expect_bad(&p, BF_EINVAL, "known: ideal, fixed, trace");
    p = (struct bf_link_params){.kind = "fixed"};
    expect_bad(&p, BF_EINVAL, "rate_mbps 0");
    p.rate_mbps = 10;
    p.loss = 1.0;
    expect_bad(&p, BF_EINVAL, "loss 1");
    p.loss = 0;
    p.jitter_ms = -1;
    expect_bad(&p, BF_EINVAL, "jitter_ms -1");
    p.jitter_ms = 0;
    p.rtt_ms = NAN;
    expect_bad(&p, BF_EINVAL, "rtt_ms nan");
    p = (struct bf_link_params){.kind = "trace"};
    expect_bad(&p, BF_EINVAL, "needs a trace file");
    snprintf(missing, sizeof(missing), "%s/none.trace", dir);
    p.trace_path = missing;
    expect_bad(&p, BF_ENOENT, "none.trace");
    p.trace_path = trace("word.trace", "1\n2\nabc\n");
    expect_bad(&p, BF_EPARSE, "word.trace:3: expected a millisecond");
    p.trace_path = trace("back.trace", "5\n3\n");
    expect_bad(&p, BF_EPARSE, "back.trace:2: timestamp 3 ms goes backwards");
    p.trace_path = trace("zero.trace", "0\n0\n");
    expect_bad(&p, BF_EPARSE, "lasts 0 ms");
    p.trace_path = trace("empty.trace", "# nothing\n\n");
    expect_bad(&p, BF_EPARSE, "no rows");
    p.trace_path = trace("rows.csv", "0, 5\n0.5, -1\n");
    expect_bad(&p, BF_EPARSE, "rows.csv:2: expected a rate");
    p.trace_path = trace("rows2.csv", "1, 5\n1, 6\n");
    expect_bad(&p, BF_EPARSE, "rows2.csv:2: time 1 s does not increase");
    p.trace_path = trace("rows3.csv", "0, 5\n1, 0\n");
    expect_bad(&p, BF_EPARSE, "last rate is 0");
    p.trace_path = trace("mixed.csv", "0, 5\n7\n");
    expect_bad(&p, BF_EPARSE, "mixed.csv:2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_ideal),
        cmocka_unit_test(test_link_fixed),
        cmocka_unit_test(test_link_fixed_jitter_seeded),
        cmocka_unit_test(test_link_fixed_loss),
        cmocka_unit_test(test_link_trace_mahimahi),
        cmocka_unit_test(test_link_trace_rows),
        cmocka_unit_test(test_link_rejected),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
