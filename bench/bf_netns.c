/* bf_netns: a veth pair between two namespaces, shaped with tbf. */
#define _GNU_SOURCE
#include "bf_netns.h"

#include "bf_clock.h"
#include "bf_err.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_DIR "/var/run/netns"
#define NAME_MAX_BYTES 48
#define ADDR_MAX_BYTES 16
#define MAX_ARGS 24
#define CMD_TIMEOUT_NS (10 * 1000000000LL)
#define FRAME_BYTES 1514u      /* a full frame on a 1500-byte MTU veth */
#define GSO_BURST_BYTES 98304u /* a 64 KB GSO packet and its headers fit */
#define BURST_MAX_US 200e6     /* tc wraps at 2^32 ticks of 64 ns, 274.9 s */
#define RATE_MIN_MBPS 0.001
#define RATE_MAX_MBPS 100000.0

/* Where ip(8) and tc(8) live on this host. */
struct tools {
    char ip[PATH_MAX];
    char tc[PATH_MAX];
};

struct bf_netns {
    struct tools tools;
    char name[2][NAME_MAX_BYTES]; /* indexed by enum bf_netns_side */
    char addr[2][ADDR_MAX_BYTES];
    struct bf_netns_shaping shaping[2];
};

static const char *const veth_name[2] = {"bfveth-dev", "bfveth-edge"};
static const char *const ns_prefix[2] = {"bfdev", "bfedge"};

/* Numbers the instances (and probes) of this process. */
static unsigned int next_instance;

/* Tools */

static int executable(const char *dir, size_t dir_len, const char *name,
                      char *path, size_t size)
{
    int n = snprintf(path, size, "%.*s/%s", (int)dir_len, dir, name);

    return n > 0 && (size_t)n < size && access(path, X_OK) == 0;
}

/* Find name in the usual system directories, then in PATH. */
static int find_tool(const char *name, char *path, size_t size)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin",
                                       "/bin"};
    const char *p = getenv("PATH");

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (executable(dirs[i], strlen(dirs[i]), name, path, size))
            return 0;
    while (p && *p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len > 0 && executable(p, len, name, path, size))
            return 0;
        p = end ? end + 1 : NULL;
    }
    return bf_err_set(BF_EUNSUPPORTED,
                      "%s not found in /usr/sbin, /sbin, /usr/bin, /bin or "
                      "PATH",
                      name);
}

/* Root and both tools, or BF_EUNSUPPORTED saying which is missing. */
static int find_tools(struct tools *t)
{
    int rc;

    if (geteuid() != 0)
        return bf_err_set(BF_EUNSUPPORTED, "not root (euid %ld)",
                          (long)geteuid());
    rc = find_tool("ip", t->ip, sizeof(t->ip));
    if (rc == 0)
        rc = find_tool("tc", t->tc, sizeof(t->tc));
    return rc;
}

/* Running a command */

/* argv joined by spaces, for error messages; truncated to fit. */
static void join_argv(char *const argv[], char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; argv[i] && used + 1 < size; i++) {
        int n =
            snprintf(out + used, size - used, "%s%s", i ? " " : "", argv[i]);

        if (n < 0)
            break;
        used += (size_t)n < size - used ? (size_t)n : size - used - 1;
    }
}

/* The captured stderr as one line: newlines become spaces, the trailing
 * whitespace goes. */
static void one_line(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r')
            s[i] = ' ';
}

/* Read fd until EOF or the deadline, keeping the first size - 1 bytes. */
static int drain(int fd, char *buf, size_t size, int64_t deadline_ns)
{
    size_t used = 0;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline_ns - bf_clock_now_ns();
        char scratch[256];
        ssize_t n;

        if (left <= 0)
            return BF_ETIMEOUT;
        if (poll(&p, 1, (int)((left + 999999) / 1000000)) < 0) {
            if (errno == EINTR)
                continue;
            return BF_EIO;
        }
        if (!p.revents)
            continue;
        n = read(fd, scratch, sizeof(scratch));
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return BF_EIO;
        }
        for (ssize_t i = 0; i < n && used + 1 < size; i++)
            buf[used++] = scratch[i];
    }
    buf[used] = '\0';
    return 0;
}

/*
 * Run argv (argv[0] an absolute path) with stdin and stdout on /dev/null
 * and stderr captured. 0 when it exits with status 0; otherwise BF_EIO
 * (BF_ETIMEOUT after CMD_TIMEOUT_NS, the command killed) naming the
 * command line, how it ended and its stderr.
 */
static int run_argv(char *const argv[])
{
    char err[512] = "", cmd[512];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none;
    pid_t pid;
    int pfd[2], status = 0, rc, drc;

    join_argv(argv, cmd, sizeof(cmd));
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return bf_err_set(BF_EIO, "`%s`: pipe: %s", cmd, strerror(errno));
    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return bf_err_set(BF_EIO, "`%s`: cannot start: %s", cmd, strerror(rc));
    }
    drc = drain(pfd[0], err, sizeof(err), bf_clock_now_ns() + CMD_TIMEOUT_NS);
    close(pfd[0]);
    if (drc == BF_ETIMEOUT)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return bf_err_set(BF_EIO, "`%s`: waitpid: %s", cmd,
                              strerror(errno));
    one_line(err);
    if (drc == BF_ETIMEOUT)
        return bf_err_set(BF_ETIMEOUT, "`%s`: no answer in %lld s, killed", cmd,
                          CMD_TIMEOUT_NS / 1000000000LL);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        return bf_err_set(BF_EIO, "`%s` failed (exit %d): %s", cmd,
                          WEXITSTATUS(status), err[0] ? err : "no message");
    return bf_err_set(BF_EIO, "`%s` killed by signal %d: %s", cmd,
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                      err[0] ? err : "no message");
}

/* run_argv on a NULL-terminated list of arguments. */
static int run(const char *path, ...)
{
    char *argv[MAX_ARGS + 1];
    va_list ap;
    int n = 0;

    argv[n++] = (char *)path;
    va_start(ap, path);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        assert(n < MAX_ARGS);
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    return run_argv(argv);
}

/* Delete a namespace, keeping the error detail of the failure being
 * cleaned up after (or of nothing). */
static void delete_ns(const char *ip, const char *name)
{
    char saved[BF_ERR_DETAIL_MAX];

    snprintf(saved, sizeof(saved), "%s", bf_last_error());
    run(ip, "netns", "delete", name, (char *)NULL);
    bf_err_set(0, "%s", saved);
}

/* Parameters */

static int check_rate(const char *what, double mbps, int zero_ok)
{
    if (zero_ok && mbps == 0)
        return 0;
    if (!(mbps >= RATE_MIN_MBPS && mbps <= RATE_MAX_MBPS))
        return bf_err_set(BF_EINVAL,
                          "bf_netns: %s %g out of range [%g, %g] Mbit/s%s",
                          what, mbps, RATE_MIN_MBPS, RATE_MAX_MBPS,
                          zero_ok ? " (or 0: unshaped)" : "");
    return 0;
}

/*
 * The bytes a bucket of burst bytes really holds: tc(8) states it as a
 * whole number of microseconds at the rate in bytes per second (both
 * truncated), and the kernel keeps it as 32 bits of 64 ns ticks. *us
 * receives the microseconds.
 */
static double tc_bucket_bytes(double rate_mbps, uint32_t burst, double *us)
{
    double bytes_per_s = floor(rate_mbps * 1e6 / 8);

    *us = floor(1e6 * ((double)burst / bytes_per_s));
    return *us * bytes_per_s / 1e6;
}

/* A burst given for a direction must hold a full frame once tc rounds
 * it, and must not wrap tc's 32-bit count of ticks (274 s). */
static int check_burst(const char *dir, double rate_mbps, uint32_t burst)
{
    double us, bytes;

    if (rate_mbps == 0 || burst == 0)
        return 0;
    bytes = tc_bucket_bytes(rate_mbps, burst, &us);
    if (bytes < FRAME_BYTES)
        return bf_err_set(BF_EINVAL,
                          "bf_netns: burst_bytes %u at the %s rate of %g "
                          "Mbit/s is %.0f bytes once tc rounds it to whole "
                          "microseconds; a full frame needs %u",
                          burst, dir, rate_mbps, bytes, FRAME_BYTES);
    if (us > BURST_MAX_US)
        return bf_err_set(BF_EINVAL,
                          "bf_netns: burst_bytes %u at the %s rate of %g "
                          "Mbit/s lasts %.0f s, over %.0f s (tc would wrap "
                          "it)",
                          burst, dir, rate_mbps, us / 1e6, BURST_MAX_US / 1e6);
    return 0;
}

static int check_params(const struct bf_netns_params *p)
{
    int rc = check_rate("rate_mbps", p->rate_mbps, 0);

    if (rc == 0)
        rc = check_rate("down_rate_mbps", p->down_rate_mbps, 1);
    if (rc)
        return rc;
    if (p->burst_bytes && p->burst_bytes < BF_NETNS_MIN_BYTES)
        return bf_err_set(BF_EINVAL,
                          "bf_netns: burst_bytes %u below %u (one full "
                          "frame); 0 picks a default",
                          p->burst_bytes, BF_NETNS_MIN_BYTES);
    if (p->limit_bytes && p->limit_bytes < BF_NETNS_MIN_BYTES)
        return bf_err_set(BF_EINVAL,
                          "bf_netns: limit_bytes %u below %u (one full "
                          "frame); 0 picks a default",
                          p->limit_bytes, BF_NETNS_MIN_BYTES);
    rc = check_burst("uplink", p->rate_mbps, p->burst_bytes);
    if (rc == 0)
        rc = check_burst("downlink", p->down_rate_mbps, p->burst_bytes);
    return rc;
}

static uint32_t clamp_u32(double v)
{
    return v >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)ceil(v);
}

/*
 * The shaping of one direction. The burst defaults to 1 ms at the rate,
 * never less than two full frames: the first burst_bytes of a message
 * leave at line rate, so a small bucket keeps short messages honest, but
 * below ~1 ms tbf needs a timer wakeup per packet and falls short of its
 * rate at 100 Mbit/s and above (85 % with one frame). The queue limit
 * defaults to the burst plus 50 ms at the rate. GSO stays on only when
 * the bucket holds a whole 64 KB GSO packet; otherwise tbf would split
 * one and drop its tail behind TCP's back (a real loss, retransmitted),
 * so the veth sends one MSS per packet.
 */
static struct bf_netns_shaping resolve(double rate_mbps, uint32_t burst,
                                       uint32_t limit)
{
    struct bf_netns_shaping s = {.rate_mbps = rate_mbps};
    double bytes_per_ms = rate_mbps * 1e6 / 8 / 1000, us;

    if (rate_mbps == 0)
        return s;
    s.burst_bytes =
        burst ? burst : clamp_u32(fmax(bytes_per_ms, 2.0 * FRAME_BYTES));
    s.limit_bytes =
        limit ? limit : clamp_u32((double)s.burst_bytes + 50 * bytes_per_ms);
    s.gso_off = s.burst_bytes < GSO_BURST_BYTES;
    s.bucket_bytes = (uint32_t)tc_bucket_bytes(rate_mbps, s.burst_bytes, &us);
    return s;
}

/* Building and removing */

static int add_tbf(const struct bf_netns *ns, int side)
{
    const struct bf_netns_shaping *s = &ns->shaping[side];
    char rate[32], burst[16], limit[16];

    snprintf(rate, sizeof(rate), "%.0fbit", s->rate_mbps * 1e6);
    snprintf(burst, sizeof(burst), "%u", s->burst_bytes);
    snprintf(limit, sizeof(limit), "%u", s->limit_bytes);
    return run(ns->tools.tc, "-n", ns->name[side], "qdisc", "add", "dev",
               veth_name[side], "root", "tbf", "rate", rate, "burst", burst,
               "limit", limit, (char *)NULL);
}

/* Addresses, links up (loopback too) and the qdiscs, both namespaces
 * already holding their end of the veth pair. */
static int configure(struct bf_netns *ns)
{
    int rc = 0;

    for (int side = 0; rc == 0 && side < 2; side++) {
        const char *ip = ns->tools.ip, *n = ns->name[side];
        char cidr[ADDR_MAX_BYTES + 4];

        snprintf(cidr, sizeof(cidr), "%s/30", ns->addr[side]);
        rc = run(ip, "-n", n, "addr", "add", cidr, "dev", veth_name[side],
                 (char *)NULL);
        if (rc == 0 && ns->shaping[side].gso_off)
            rc = run(ip, "-n", n, "link", "set", "dev", veth_name[side],
                     "gso_max_segs", "1", (char *)NULL);
        if (rc == 0)
            rc = run(ip, "-n", n, "link", "set", "dev", veth_name[side], "up",
                     (char *)NULL);
        if (rc == 0)
            rc = run(ip, "-n", n, "link", "set", "dev", "lo", "up",
                     (char *)NULL);
        if (rc == 0 && ns->shaping[side].rate_mbps > 0)
            rc = add_tbf(ns, side);
    }
    return rc;
}

int bf_netns_open(const struct bf_netns_params *p, struct bf_netns **out)
{
    struct bf_netns *ns;
    unsigned int n, x;
    int rc;

    if (!p || !out)
        return bf_err_set(BF_EINVAL, "bf_netns_open: NULL argument");
    *out = NULL;
    rc = check_params(p);
    if (rc)
        return rc;
    ns = calloc(1, sizeof(*ns));
    if (!ns)
        return bf_err_set(BF_ENOMEM, "bf_netns_open");
    rc = find_tools(&ns->tools);
    if (rc)
        goto out_free;
    /* Best effort: a stale namespace costs nothing but clutter. */
    bf_netns_reap_stale(NULL);
    n = __atomic_fetch_add(&next_instance, 1, __ATOMIC_RELAXED);
    x = n % 256;
    for (int side = 0; side < 2; side++) {
        snprintf(ns->name[side], sizeof(ns->name[side]), "%s-%ld-%u",
                 ns_prefix[side], (long)getpid(), n);
        snprintf(ns->addr[side], sizeof(ns->addr[side]), "10.213.%u.%s", x,
                 side == BF_NETNS_DEVICE ? "1" : "2");
    }
    ns->shaping[BF_NETNS_DEVICE] =
        resolve(p->rate_mbps, p->burst_bytes, p->limit_bytes);
    ns->shaping[BF_NETNS_EDGE] =
        resolve(p->down_rate_mbps, p->burst_bytes, p->limit_bytes);

    rc = run(ns->tools.ip, "netns", "add", ns->name[BF_NETNS_DEVICE],
             (char *)NULL);
    if (rc)
        goto out_free;
    rc = run(ns->tools.ip, "netns", "add", ns->name[BF_NETNS_EDGE],
             (char *)NULL);
    if (rc)
        goto out_device;
    /* Both ends made in place: the pair never exists in our namespace. */
    rc = run(ns->tools.ip, "-n", ns->name[BF_NETNS_DEVICE], "link", "add",
             veth_name[BF_NETNS_DEVICE], "type", "veth", "peer", "name",
             veth_name[BF_NETNS_EDGE], "netns", ns->name[BF_NETNS_EDGE],
             (char *)NULL);
    if (rc == 0)
        rc = configure(ns);
    if (rc)
        goto out_edge;
    *out = ns;
    return 0;

out_edge:
    delete_ns(ns->tools.ip, ns->name[BF_NETNS_EDGE]);
out_device:
    delete_ns(ns->tools.ip, ns->name[BF_NETNS_DEVICE]);
out_free:
    free(ns);
    return rc;
}

/* Deleting both namespaces deletes the veth pair and its qdiscs. */
void bf_netns_close(struct bf_netns *ns)
{
    if (!ns)
        return;
    for (int side = 0; side < 2; side++)
        delete_ns(ns->tools.ip, ns->name[side]);
    free(ns);
}

/*
 * The pid in a name "<prefix>-<pid>-<n>" for one of our prefixes, or 0
 * when the name is not one of ours.
 */
static pid_t owner_pid(const char *name)
{
    static const char *const prefixes[] = {"bfdev-", "bfedge-", "bfprobe-"};

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t len = strlen(prefixes[i]);
        const char *s = name + len;
        char *end = NULL;
        long pid, n;

        if (strncmp(name, prefixes[i], len) != 0 || *s < '0' || *s > '9')
            continue;
        errno = 0;
        pid = strtol(s, &end, 10);
        if (errno || *end != '-' || pid <= 0 || pid > INT_MAX || end[1] < '0' ||
            end[1] > '9')
            return 0;
        n = strtol(end + 1, &end, 10);
        if (errno || *end != '\0' || n < 0)
            return 0;
        return (pid_t)pid;
    }
    return 0;
}

int bf_netns_reap_stale(int *removed)
{
    char ip[PATH_MAX], first_err[BF_ERR_DETAIL_MAX] = "";
    struct dirent *e;
    DIR *d;
    int count = 0, rc = 0;

    if (removed)
        *removed = 0;
    d = opendir(NETNS_DIR);
    if (!d)
        return 0; /* no namespace was ever named on this host */
    if (find_tool("ip", ip, sizeof(ip)) != 0) {
        closedir(d);
        return bf_err_set(BF_EUNSUPPORTED, "bf_netns_reap_stale: %s",
                          bf_last_error());
    }
    while ((e = readdir(d)) != NULL) {
        pid_t pid = owner_pid(e->d_name);
        int one;

        if (pid == 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        one = run(ip, "netns", "delete", e->d_name, (char *)NULL);
        if (one == 0)
            count++;
        else if (rc == 0) {
            rc = one;
            snprintf(first_err, sizeof(first_err), "%s", bf_last_error());
        }
    }
    closedir(d);
    if (removed)
        *removed = count;
    if (rc)
        return bf_err_set(rc, "removing stale namespaces: %s", first_err);
    return 0;
}

/* Availability */

static int probe(const struct tools *t)
{
    char name[NAME_MAX_BYTES];
    int rc;

    snprintf(name, sizeof(name), "bfprobe-%ld-%u", (long)getpid(),
             __atomic_fetch_add(&next_instance, 1, __ATOMIC_RELAXED));
    if (access("/proc/thread-self/ns/net", R_OK) != 0)
        return bf_err_set(BF_EUNSUPPORTED, "no /proc/thread-self/ns/net: %s",
                          strerror(errno));
    rc = run(t->ip, "netns", "add", name, (char *)NULL);
    if (rc)
        return bf_err_prefix(BF_EUNSUPPORTED,
                             "cannot create a network namespace: ");
    rc = run(t->ip, "-n", name, "link", "add", "bfprobe0", "type", "veth",
             "peer", "name", "bfprobe1", (char *)NULL);
    if (rc)
        rc = bf_err_prefix(BF_EUNSUPPORTED, "veth unavailable: ");
    else {
        rc = run(t->tc, "-n", name, "qdisc", "add", "dev", "bfprobe0", "root",
                 "tbf", "rate", "1000000bit", "burst", "6056", "limit", "12306",
                 (char *)NULL);
        if (rc)
            rc = bf_err_prefix(BF_EUNSUPPORTED, "tbf qdisc unavailable: ");
    }
    if (run(t->ip, "netns", "delete", name, (char *)NULL) != 0 && rc == 0)
        rc = bf_err_prefix(BF_EUNSUPPORTED,
                           "cannot delete a network namespace: ");
    return rc;
}

int bf_netns_available(char *why, size_t why_size)
{
    struct tools t;
    int rc = find_tools(&t);

    if (rc == 0)
        rc = probe(&t);
    if (why && why_size)
        snprintf(why, why_size, "%s", rc ? bf_last_error() : "");
    return rc;
}

/* Entering a side */

static int bad_side(const struct bf_netns *ns, int side)
{
    return !ns || (side != BF_NETNS_DEVICE && side != BF_NETNS_EDGE);
}

int bf_netns_enter(const struct bf_netns *ns, int side, int *saved_fd)
{
    char path[sizeof(NETNS_DIR) + NAME_MAX_BYTES];
    int target, saved, rc = 0;

    if (bad_side(ns, side) || !saved_fd)
        return bf_err_set(BF_EINVAL, "bf_netns_enter: NULL argument or bad "
                                     "side (0 device, 1 edge)");
    snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, ns->name[side]);
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0)
        return bf_err_set(BF_EIO, "open %s: %s", path, strerror(errno));
    saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) {
        rc = bf_err_set(BF_EIO, "open /proc/thread-self/ns/net: %s",
                        strerror(errno));
        goto out_target;
    }
    if (setns(target, CLONE_NEWNET) != 0) {
        rc = bf_err_set(BF_EIO, "setns into %s: %s", ns->name[side],
                        strerror(errno));
        close(saved);
        goto out_target;
    }
    *saved_fd = saved;
out_target:
    close(target);
    return rc;
}

int bf_netns_leave(int saved_fd)
{
    int rc = 0;

    if (saved_fd < 0)
        return bf_err_set(BF_EINVAL, "bf_netns_leave: bad descriptor %d",
                          saved_fd);
    if (setns(saved_fd, CLONE_NEWNET) != 0)
        rc = bf_err_set(BF_EIO, "setns back to the saved namespace: %s",
                        strerror(errno));
    close(saved_fd);
    return rc;
}

/* Accessors */

const char *bf_netns_address(const struct bf_netns *ns, int side)
{
    return bad_side(ns, side) ? NULL : ns->addr[side];
}

const char *bf_netns_name(const struct bf_netns *ns, int side)
{
    return bad_side(ns, side) ? NULL : ns->name[side];
}

void bf_netns_shaping(const struct bf_netns *ns, int side,
                      struct bf_netns_shaping *out)
{
    if (!out)
        return;
    if (bad_side(ns, side)) {
        *out = (struct bf_netns_shaping){0};
        return;
    }
    *out = ns->shaping[side];
}
