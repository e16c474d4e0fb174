/*
 * Tests of bf_netns, each bounded in time. Parameter checks run anywhere;
 * the rest need root, ip, tc, veth and tbf, and on a host without them
 * print "SKIPPED: <why>" and are reported skipped by cmocka, never passed.
 *
 * With them: open/close leaves no namespace behind, a failing step rolls
 * back, two instances coexist, enter/leave move the calling thread,
 * stale namespaces of a dead process are reaped, and TCP transfers
 * through the shaped uplink and downlink achieve their rate within a
 * tolerant bound (85 % .. 110 %; TCP payload over tbf measures about
 * 95.6 % of the rate, the ratio of 1448 payload bytes to a 1514-byte
 * frame).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_net.h"
#include "bf_netns.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000000LL
#define MIB (1024 * 1024)

extern char **environ;

/* bf_netns_available, asked once in main. */
static int avail_rc = BF_EUNSUPPORTED;
static char avail_why[512] = "not probed";

static void require_netns(void)
{
    if (avail_rc != 0) {
        print_message("SKIPPED: %s\n", avail_why);
        skip();
    }
}

static int ns_exists(const char *name)
{
    char path[256];
    struct stat st;

    snprintf(path, sizeof(path), "/var/run/netns/%s", name);
    return stat(path, &st) == 0;
}

/* Namespaces in /var/run/netns whose name holds "-<pid>-". */
static int count_of_pid(pid_t pid)
{
    char tag[32];
    struct dirent *e;
    DIR *d = opendir("/var/run/netns");
    int n = 0;

    snprintf(tag, sizeof(tag), "-%ld-", (long)pid);
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, tag) != NULL;
    closedir(d);
    return n;
}

/* Run ip(8) directly (no shell) and return its exit status. */
static int run_ip(const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"ip", (char *)a1, (char *)a2, (char *)a3, NULL};
    pid_t pid;
    int status = -1;

    if (posix_spawnp(&pid, "ip", NULL, NULL, argv, environ) != 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static ino_t ns_inode(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

/* The receiving end of a transfer. */
struct rx {
    int fd;
    size_t len;
    int rc;
    int64_t done_ns;
    char err[256];
};

static void *rx_main(void *arg)
{
    struct rx *r = arg;
    char *buf = malloc(r->len);

    r->rc =
        buf ? bf_net_read_full(r->fd, buf, r->len, bf_clock_now_ns() + 15 * SEC)
            : BF_ENOMEM;
    r->done_ns = bf_clock_now_ns();
    if (r->rc)
        snprintf(r->err, sizeof(r->err), "%s", bf_last_error());
    free(buf);
    return NULL;
}

/*
 * Send bytes over a fresh TCP connection as the harness does it: the
 * server's listening socket made in the edge namespace, the client's in
 * the device namespace, a receiver thread. uplink: the client sends,
 * else the server does. Returns the achieved payload rate in Mbit/s, from
 * the first write to the receiver's last byte.
 */
static double transfer_mbps(const struct bf_netns *ns, int uplink, size_t bytes)
{
    const char *edge = bf_netns_address(ns, BF_NETNS_EDGE);
    int saved = -1, lfd = -1, cfd = -1, sfd = -1, port = 0, rc;
    struct rx r = {.len = bytes};
    char *buf = calloc(1, bytes);
    pthread_t th;
    int64_t t0;

    assert_non_null(buf);
    rc = bf_netns_enter(ns, BF_NETNS_EDGE, &saved);
    assert_int_equal(rc, 0);
    rc = bf_net_listen(edge, 0, 1, &lfd, &port);
    assert_int_equal(bf_netns_leave(saved), 0);
    assert_int_equal(rc, 0);

    rc = bf_netns_enter(ns, BF_NETNS_DEVICE, &saved);
    assert_int_equal(rc, 0);
    rc = bf_net_connect(edge, port, bf_clock_now_ns() + 2 * SEC, &cfd);
    assert_int_equal(bf_netns_leave(saved), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(bf_net_accept(lfd, bf_clock_now_ns() + 2 * SEC, &sfd), 0);

    r.fd = uplink ? sfd : cfd;
    assert_int_equal(pthread_create(&th, NULL, rx_main, &r), 0);
    t0 = bf_clock_now_ns();
    rc = bf_net_write_full(uplink ? cfd : sfd, buf, bytes, t0 + 15 * SEC);
    pthread_join(th, NULL);
    assert_int_equal(rc, 0);
    if (r.rc)
        print_message("receiver: %s\n", r.err);
    assert_int_equal(r.rc, 0);
    close(lfd);
    close(cfd);
    close(sfd);
    free(buf);
    return (double)bytes * 8 / ((double)(r.done_ns - t0) / 1e9) / 1e6;
}

static void check_rate(const char *what, double rate_mbps, size_t bytes,
                       double got_mbps)
{
    print_message("%s: %zu bytes at %g Mbit/s: %.1f ms, %.2f Mbit/s "
                  "(%.1f %% of the rate)\n",
                  what, bytes, rate_mbps, (double)bytes * 8 / got_mbps / 1e3,
                  got_mbps, 100 * got_mbps / rate_mbps);
    assert_true(got_mbps >= 0.85 * rate_mbps);
    assert_true(got_mbps <= 1.10 * rate_mbps);
}

static void open_bad(struct bf_netns_params p, const char *needle)
{
    struct bf_netns *ns = (struct bf_netns *)&ns;

    assert_int_equal(bf_netns_open(&p, &ns), BF_EINVAL);
    assert_null(ns);
    if (!strstr(bf_last_error(), needle))
        print_message("detail: %s\n", bf_last_error());
    assert_non_null(strstr(bf_last_error(), needle));
}

/* Refused before anything is created, so this runs without root too. */
static void test_netns_bad_params(void **state)
{
    struct bf_netns_params ok = {.rate_mbps = 10};
    struct bf_netns_shaping s = {.rate_mbps = 1};
    struct bf_netns *ns = NULL;
    int fd = 7;

    (void)state;
    assert_int_equal(bf_netns_open(NULL, &ns), BF_EINVAL);
    assert_int_equal(bf_netns_open(&ok, NULL), BF_EINVAL);
    open_bad((struct bf_netns_params){.rate_mbps = 0}, "rate_mbps 0");
    open_bad((struct bf_netns_params){.rate_mbps = -5}, "rate_mbps -5");
    open_bad((struct bf_netns_params){.rate_mbps = NAN}, "rate_mbps nan");
    open_bad((struct bf_netns_params){.rate_mbps = INFINITY}, "rate_mbps");
    open_bad((struct bf_netns_params){.rate_mbps = 1e9}, "rate_mbps");
    open_bad((struct bf_netns_params){.rate_mbps = 10, .down_rate_mbps = -1},
             "down_rate_mbps -1");
    open_bad((struct bf_netns_params){.rate_mbps = 10, .down_rate_mbps = NAN},
             "down_rate_mbps nan");
    open_bad((struct bf_netns_params){.rate_mbps = 10, .burst_bytes = 100},
             "burst_bytes 100 below");
    open_bad((struct bf_netns_params){.rate_mbps = 10, .limit_bytes = 1000},
             "limit_bytes 1000 below");
    /* 1600 bytes at 10 Gbit/s are 1.28 us, which tc truncates to 1 us:
     * 1250 bytes, less than a frame. */
    open_bad((struct bf_netns_params){.rate_mbps = 10000, .burst_bytes = 1600},
             "is 1250 bytes once tc rounds");
    open_bad((struct bf_netns_params){.rate_mbps = 100,
                                      .down_rate_mbps = 10000,
                                      .burst_bytes = 1600},
             "downlink rate");
    /* 4 MB at 1 kbit/s would last 9 hours and wrap tc's tick count. */
    open_bad(
        (struct bf_netns_params){.rate_mbps = 0.001, .burst_bytes = 4000000},
        "over 200 s");

    assert_int_equal(bf_netns_enter(NULL, BF_NETNS_DEVICE, &fd), BF_EINVAL);
    assert_int_equal(fd, 7);
    assert_int_equal(bf_netns_leave(-1), BF_EINVAL);
    assert_null(bf_netns_address(NULL, BF_NETNS_EDGE));
    assert_null(bf_netns_name(NULL, BF_NETNS_EDGE));
    bf_netns_shaping(NULL, BF_NETNS_DEVICE, &s);
    assert_true(s.rate_mbps == 0 && s.burst_bytes == 0);
    bf_netns_close(NULL);
}

static void test_netns_open_close_leaves_nothing(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 10};
    struct bf_netns_shaping up, down;
    struct bf_netns *ns = NULL;
    char dev[64], edge[64], prefix[32];
    const char *a, *b;
    int before;

    (void)state;
    require_netns();
    before = count_of_pid(getpid());
    assert_int_equal(bf_netns_open(&p, &ns), 0);
    assert_non_null(ns);
    snprintf(dev, sizeof(dev), "%s", bf_netns_name(ns, BF_NETNS_DEVICE));
    snprintf(edge, sizeof(edge), "%s", bf_netns_name(ns, BF_NETNS_EDGE));
    snprintf(prefix, sizeof(prefix), "bfdev-%ld-", (long)getpid());
    assert_int_equal(strncmp(dev, prefix, strlen(prefix)), 0);
    snprintf(prefix, sizeof(prefix), "bfedge-%ld-", (long)getpid());
    assert_int_equal(strncmp(edge, prefix, strlen(prefix)), 0);
    assert_true(ns_exists(dev) && ns_exists(edge));
    assert_int_equal(count_of_pid(getpid()), before + 2);

    /* One /30: 10.213.x.1 and 10.213.x.2. */
    a = bf_netns_address(ns, BF_NETNS_DEVICE);
    b = bf_netns_address(ns, BF_NETNS_EDGE);
    assert_int_equal(strncmp(a, "10.213.", 7), 0);
    assert_int_equal(strlen(a), strlen(b));
    assert_int_equal(strncmp(a, b, strlen(a) - 1), 0);
    assert_string_equal(a + strlen(a) - 2, ".1");
    assert_string_equal(b + strlen(b) - 2, ".2");
    assert_null(bf_netns_address(ns, 2));

    /* Defaults: 1 ms at 10 Mbit/s is 1250 bytes, under two frames; tc
     * keeps 2422 us of the 2422.4 (tc qdisc show says "burst 3027b"). */
    bf_netns_shaping(ns, BF_NETNS_DEVICE, &up);
    bf_netns_shaping(ns, BF_NETNS_EDGE, &down);
    assert_true(up.rate_mbps == 10);
    assert_int_equal(up.burst_bytes, 3028);
    assert_int_equal(up.bucket_bytes, 3027);
    assert_int_equal(up.limit_bytes, 3028 + 62500);
    assert_int_equal(up.gso_off, 1);
    assert_true(down.rate_mbps == 0 && down.burst_bytes == 0 &&
                down.limit_bytes == 0 && down.gso_off == 0);

    bf_netns_close(ns);
    assert_false(ns_exists(dev));
    assert_false(ns_exists(edge));
    assert_int_equal(count_of_pid(getpid()), before);
}

/*
 * A step failing half way: the edge namespace's name is taken (the test
 * knows that names number the instances of the process in order), so
 * `ip netns add` fails; the error names the command and what ip said,
 * and the device namespace made before it is gone again.
 */
static void test_netns_open_failure_rolls_back(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 10};
    struct bf_netns *ns = NULL;
    char dev[64], edge[64];
    unsigned long n;
    long pid;
    int before;

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&p, &ns), 0);
    assert_int_equal(
        sscanf(bf_netns_name(ns, BF_NETNS_DEVICE), "bfdev-%ld-%lu", &pid, &n),
        2);
    bf_netns_close(ns);
    snprintf(dev, sizeof(dev), "bfdev-%ld-%lu", pid, n + 1);
    snprintf(edge, sizeof(edge), "bfedge-%ld-%lu", pid, n + 1);
    before = count_of_pid(getpid());
    assert_int_equal(run_ip("netns", "add", edge), 0);

    ns = (struct bf_netns *)&ns;
    assert_int_equal(bf_netns_open(&p, &ns), BF_EIO);
    assert_null(ns);
    print_message("expected failure: %s\n", bf_last_error());
    assert_non_null(strstr(bf_last_error(), "netns add bfedge-"));
    assert_non_null(strstr(bf_last_error(), "failed (exit"));
    assert_non_null(strstr(bf_last_error(), "exists"));
    assert_false(ns_exists(dev));
    assert_true(ns_exists(edge));
    assert_int_equal(run_ip("netns", "delete", edge), 0);
    assert_int_equal(count_of_pid(getpid()), before);
}

static void test_netns_two_coexist(void **state)
{
    struct bf_netns_params pa = {.rate_mbps = 10}, pb = {.rate_mbps = 40};
    struct bf_netns *a = NULL, *b = NULL;
    int saved = -1, fd = -1, port = 0, rc;

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&pa, &a), 0);
    assert_int_equal(bf_netns_open(&pb, &b), 0);
    assert_string_not_equal(bf_netns_name(a, BF_NETNS_DEVICE),
                            bf_netns_name(b, BF_NETNS_DEVICE));
    assert_string_not_equal(bf_netns_name(a, BF_NETNS_EDGE),
                            bf_netns_name(b, BF_NETNS_EDGE));
    assert_string_not_equal(bf_netns_address(a, BF_NETNS_EDGE),
                            bf_netns_address(b, BF_NETNS_EDGE));
    assert_true(transfer_mbps(a, 1, 65536) > 0);
    assert_true(transfer_mbps(b, 1, 65536) > 0);

    /* Isolated: b's address does not exist in a's namespaces. */
    assert_int_equal(bf_netns_enter(a, BF_NETNS_EDGE, &saved), 0);
    rc = bf_net_listen(bf_netns_address(b, BF_NETNS_EDGE), 0, 1, &fd, &port);
    assert_int_equal(bf_netns_leave(saved), 0);
    assert_int_equal(rc, BF_EIO);

    bf_netns_close(a);
    assert_true(ns_exists(bf_netns_name(b, BF_NETNS_EDGE)));
    bf_netns_close(b);
}

static void test_netns_enter_leave(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 10};
    struct bf_netns *ns = NULL;
    ino_t home, dev, edge, inside;
    int saved = -1, fd = -1, port = 0, rc_own, rc_other;
    char path[128];

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&p, &ns), 0);
    home = ns_inode("/proc/thread-self/ns/net");
    snprintf(path, sizeof(path), "/var/run/netns/%s",
             bf_netns_name(ns, BF_NETNS_DEVICE));
    dev = ns_inode(path);
    snprintf(path, sizeof(path), "/var/run/netns/%s",
             bf_netns_name(ns, BF_NETNS_EDGE));
    edge = ns_inode(path);
    assert_true(home != dev && home != edge && dev != edge);

    assert_int_equal(bf_netns_enter(ns, BF_NETNS_DEVICE, &saved), 0);
    inside = ns_inode("/proc/thread-self/ns/net");
    /* The device side holds its own address and not the edge's. */
    rc_own =
        bf_net_listen(bf_netns_address(ns, BF_NETNS_DEVICE), 0, 1, &fd, &port);
    if (rc_own == 0)
        close(fd);
    rc_other =
        bf_net_listen(bf_netns_address(ns, BF_NETNS_EDGE), 0, 1, &fd, &port);
    assert_int_equal(bf_netns_leave(saved), 0);
    assert_true(inside == dev);
    assert_int_equal(rc_own, 0);
    assert_int_equal(rc_other, BF_EIO);
    assert_true(ns_inode("/proc/thread-self/ns/net") == home);

    assert_int_equal(bf_netns_enter(ns, BF_NETNS_EDGE, &saved), 0);
    inside = ns_inode("/proc/thread-self/ns/net");
    assert_int_equal(bf_netns_leave(saved), 0);
    assert_true(inside == edge);
    assert_true(ns_inode("/proc/thread-self/ns/net") == home);

    saved = 7;
    assert_int_equal(bf_netns_enter(ns, 2, &saved), BF_EINVAL);
    assert_int_equal(saved, 7);
    assert_true(ns_inode("/proc/thread-self/ns/net") == home);
    bf_netns_close(ns);
}

static void test_netns_uplink_8mbit_1mib(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 8};
    struct bf_netns *ns = NULL;

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&p, &ns), 0);
    check_rate("uplink", 8, MIB, transfer_mbps(ns, 1, MIB));
    bf_netns_close(ns);
}

static void test_netns_uplink_20mbit_2mib(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 20};
    struct bf_netns *ns = NULL;

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&p, &ns), 0);
    check_rate("uplink", 20, 2 * MIB, transfer_mbps(ns, 1, 2 * MIB));
    bf_netns_close(ns);
}

/* A shaped downlink, slower than the uplink. */
static void test_netns_downlink_10mbit_1mib(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 50, .down_rate_mbps = 10};
    struct bf_netns_shaping down;
    struct bf_netns *ns = NULL;

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&p, &ns), 0);
    bf_netns_shaping(ns, BF_NETNS_EDGE, &down);
    assert_true(down.rate_mbps == 10 && down.burst_bytes == 3028);
    check_rate("downlink", 10, MIB, transfer_mbps(ns, 0, MIB));
    bf_netns_close(ns);
}

/* A child opens an instance and dies without closing it; its namespaces
 * are reaped, ours are not touched. */
static void test_netns_reap_stale(void **state)
{
    struct bf_netns_params p = {.rate_mbps = 10};
    struct bf_netns *mine = NULL;
    int status = -1, removed = -1;
    pid_t child;

    (void)state;
    require_netns();
    assert_int_equal(bf_netns_open(&p, &mine), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct bf_netns *leaked = NULL;

        _exit(bf_netns_open(&p, &leaked) == 0 ? 0 : 1);
    }
    assert_true(waitpid(child, &status, 0) == child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(count_of_pid(child), 2);

    assert_int_equal(bf_netns_reap_stale(&removed), 0);
    assert_true(removed >= 2);
    assert_int_equal(count_of_pid(child), 0);
    assert_true(ns_exists(bf_netns_name(mine, BF_NETNS_DEVICE)));
    assert_true(ns_exists(bf_netns_name(mine, BF_NETNS_EDGE)));
    bf_netns_close(mine);
}

/* A failed assertion skips a test's bf_netns_close: delete whatever of
 * this process is left, saying so. */
static int teardown_leftovers(void **state)
{
    char tag[32], name[256];
    struct dirent *e;
    DIR *d;

    (void)state;
    snprintf(tag, sizeof(tag), "-%ld-", (long)getpid());
    for (int again = 1; again;) {
        again = 0;
        d = opendir("/var/run/netns");
        if (!d)
            return 0;
        while ((e = readdir(d)) != NULL && !again) {
            if (!strstr(e->d_name, tag))
                continue;
            snprintf(name, sizeof(name), "%s", e->d_name);
            print_message("deleting leftover namespace %s\n", name);
            again = run_ip("netns", "delete", name) == 0;
        }
        closedir(d);
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netns_bad_params),
        cmocka_unit_test(test_netns_open_close_leaves_nothing),
        cmocka_unit_test(test_netns_open_failure_rolls_back),
        cmocka_unit_test(test_netns_two_coexist),
        cmocka_unit_test(test_netns_enter_leave),
        cmocka_unit_test(test_netns_uplink_8mbit_1mib),
        cmocka_unit_test(test_netns_uplink_20mbit_2mib),
        cmocka_unit_test(test_netns_downlink_10mbit_1mib),
        cmocka_unit_test(test_netns_reap_stale),
    };

    avail_rc = bf_netns_available(avail_why, sizeof(avail_why));
    if (avail_rc)
        print_message("bf_netns unavailable, kernel-shaping tests "
                      "SKIPPED: %s\n",
                      avail_why);
    return cmocka_run_group_tests(tests, NULL, teardown_leftovers);
}
