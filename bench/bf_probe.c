/* bf_probe: power sensors sampled by a thread, read through windows. */
#define _GNU_SOURCE
#include "bf_probe.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
#define RETRY_NS NS_PER_S /* a lost sensor is retried this often */
#define FIRST_READING_NS (5 * NS_PER_S) /* a command's first line */
#define FIRST_GAP_NS (10 * 1000000LL)   /* a counter's first two readings */
#define REAP_WAIT_NS (200 * 1000000LL)  /* output closed, then exit */
#define KILL_GRACE_NS NS_PER_S          /* SIGTERM, then SIGKILL */
#define HOLD_SLACK_NS 1000000LL /* added to the hold of the last reading */
#define LOSS_HISTORY 8          /* losses remembered for window notes */
#define MSG_MAX 192             /* a loss or malformed-reading message */
#define VALUE_MAX 64            /* a sysfs value file, read whole */
#define LINE_MAX_BYTES 256      /* a command's line */
#define SYSFS_VALUE_LIMIT 1000000000000LL /* |value| accepted from sysfs */
#define COMMAND_MAX_W 1e6                 /* a reading above this is bogus */
#define WHAT_MAX (2 * PATH_MAX + 64)

/* One reading in the history ring. */
struct sample {
    int64_t t_ns;
    double p_mw;  /* power at t_ns (power backends), or the mean power since
                     the previous reading (counter backends) */
    double e_mj;  /* cumulative energy of the probe up to t_ns */
    int64_t c_ns; /* cumulative time covered by data up to t_ns */
    int joined;   /* 1: the span from the previous reading carries data */
};

/* A moment the sensor was lost. */
struct loss {
    int64_t t_ns;
    int vanished; /* 1: gone (no such file, command ended); 0: unreadable */
    char msg[MSG_MAX];
};

/*
 * An open sensor. Backends share this one struct: the sysfs backends use
 * path, path2 and scale, rapl path and the counter fields, command the
 * process fields; all fill what. fd is -1 for backends read on a timer.
 */
struct sensor {
    char path[PATH_MAX];  /* the file read for each reading */
    char path2[PATH_MAX]; /* ina3221 on hwmon: the voltage file, else "" */
    double scale;         /* mW per unit read (per mA * mV with path2) */
    char what[WHAT_MAX];  /* for bf_probe_describe, after the backend name */
    int64_t range_uj;     /* rapl: where energy_uj wraps */
    int64_t last_uj;      /* rapl: the previous counter value */
    int have_last;        /* rapl: last_uj is valid */
    pid_t pid;            /* command: the shell, 0 once reaped */
    pid_t pgid;           /* command: its process group */
    int fd;               /* command: its stdout, -1 once it ended */
    char line[LINE_MAX_BYTES];
    size_t line_len;
    int overlong;        /* command: the current line is being dropped */
    char ended[MSG_MAX]; /* command: how it ended */
    char short_cmd[72];  /* command: the command line for messages */
};

struct bf_probe;

/*
 * A backend. open fills the sensor from arg (the text after "name:") or,
 * with arg NULL, by detection under root; BF_ENOENT means absent. read
 * takes one reading (timer backends) or consumes the input available on
 * sensor.fd (push backends), passing readings to emit_power / emit_energy
 * / note_bad; an error return means the sensor is lost, except BF_EPARSE,
 * a malformed reading that is skipped. close releases what open acquired.
 */
struct probe_ops {
    const char *name;
    int in_auto; /* tried by "auto", in registry order */
    int counter; /* readings are energy differences, not power */
    int push;    /* readings arrive on sensor.fd (-1 once it ends) rather
                    than being taken every sampling period */
    int (*open)(struct sensor *s, const char *root, const char *arg);
    int (*read)(struct bf_probe *p);
    void (*close)(struct sensor *s);
};

struct bf_probe {
    const struct probe_ops *ops;
    struct sensor sensor; /* used by the sampling thread only, once started */
    char desc[WHAT_MAX + 64];
    int64_t interval_ns;
    pthread_t thread;
    int wake[2]; /* a byte written to wake[1] stops the thread */

    pthread_mutex_t lock; /* guards everything below */
    struct sample *ring;  /* BF_PROBE_HISTORY_SAMPLES readings */
    int64_t n;            /* readings so far; reading i is ring[i % size] */
    int64_t last_gap_ns;  /* between the last two joined readings */
    int lost;             /* the latest reading failed */
    int64_t losses;       /* times the probe became lost */
    struct loss loss[LOSS_HISTORY]; /* loss i is loss[i % LOSS_HISTORY] */
    int64_t bad;                    /* malformed readings so far */
    char bad_msg[MSG_MAX];          /* the last one */
};

/* Files */

static int only_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return *s == '\0';
}

static void trim_end(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r' ||
                     s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* BF_ENOENT when the file or its device is gone, else BF_EIO. */
static int file_error(const char *path, int err)
{
    int code =
        (err == ENOENT || err == ENODEV || err == ENXIO || err == ENOTDIR)
            ? BF_ENOENT
            : BF_EIO;

    return bf_err_set(code, "%s: %s", path, strerror(err));
}

/* Read a small file whole into buf, NUL-terminated, trailing space gone. */
static int read_text(const char *path, char *buf, size_t size)
{
    ssize_t n;
    int fd, err;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return file_error(path, errno);
    do {
        n = read(fd, buf, size - 1);
    } while (n < 0 && errno == EINTR);
    err = errno;
    close(fd);
    if (n < 0)
        return file_error(path, err);
    buf[n] = '\0';
    trim_end(buf);
    return 0;
}

/* Read a file holding one integer of at most SYSFS_VALUE_LIMIT. */
static int read_int(const char *path, long long *out)
{
    char text[VALUE_MAX], *end;
    long long v;
    int rc = read_text(path, text, sizeof(text));

    if (rc < 0)
        return rc;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (end == text || errno == ERANGE || !only_space(end) ||
        v > SYSFS_VALUE_LIMIT || v < -SYSFS_VALUE_LIMIT)
        return bf_err_set(BF_EPARSE, "%s: malformed value '%.32s'", path, text);
    *out = v;
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Format into out; BF_ERANGE when it does not fit. */
static int format_path(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int format_path(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return bf_err_set(BF_ERANGE, "path too long: %.80s...", out);
    return 0;
}

/* The directory part of path ("." for none), into out. */
static int dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return format_path(out, size, ".");
    if (slash == path)
        return format_path(out, size, "/");
    return format_path(out, size, "%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* Globbing under a root */

static int version_cmp(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Glob root + pattern, root taken literally (its metacharacters escaped),
 * results in version order. The caller frees g with globfree, also on
 * failure.
 */
static int glob_under(const char *root, const char *pattern, glob_t *g)
{
    char full[PATH_MAX];
    size_t used = 0;
    int rc;

    for (const char *r = root; *r; r++) {
        if (used + 2 >= sizeof(full))
            return bf_err_set(BF_ERANGE, "root too long: %.80s...", root);
        if (strchr("*?[\\", *r))
            full[used++] = '\\';
        full[used++] = *r;
    }
    full[used] = '\0';
    rc = format_path(full + used, sizeof(full) - used, "%s", pattern);
    memset(g, 0, sizeof(*g));
    if (rc < 0)
        return rc;
    rc = glob(full, GLOB_NOSORT, NULL, g);
    if (rc == GLOB_NOSPACE)
        return bf_err_set(BF_ENOMEM, "glob %s: out of memory", full);
    if (rc != 0) /* no match, or a directory that cannot be read */
        g->gl_pathc = 0;
    else
        qsort(g->gl_pathv, g->gl_pathc, sizeof(char *), version_cmp);
    return 0;
}

/*
 * The number in a file name of the form prefix N suffix
 * ("rail_name_2" -> 2), or -1.
 */
static long name_index(const char *name, const char *prefix, const char *suffix)
{
    size_t plen = strlen(prefix);
    char *end;
    long v;

    if (strncmp(name, prefix, plen) != 0 || name[plen] < '0' ||
        name[plen] > '9')
        return -1;
    errno = 0;
    v = strtol(name + plen, &end, 10);
    if (errno == ERANGE || v > 1000 || strcmp(end, suffix) != 0)
        return -1;
    return v;
}

/* The trace */

static struct sample *at(const struct bf_probe *p, int64_t i)
{
    return &p->ring[i % BF_PROBE_HISTORY_SAMPLES];
}

static int64_t hold_ns(const struct bf_probe *p)
{
    int64_t base =
        p->last_gap_ns > p->interval_ns ? p->last_gap_ns : p->interval_ns;

    return 2 * base + HOLD_SLACK_NS;
}

/*
 * Append a reading: power mw at t_ns (power backends) or an energy
 * difference de_mj since the previous reading (counter backends, with
 * has_delta 0 for a counter's first reading). A reading after a loss,
 * or a counter's first, starts a new segment.
 */
static void append(struct bf_probe *p, int64_t t_ns, double mw, double de_mj,
                   int has_delta)
{
    struct sample s = {.t_ns = t_ns, .p_mw = mw};
    const struct sample *prev;

    pthread_mutex_lock(&p->lock);
    prev = p->n > 0 ? at(p, p->n - 1) : NULL;
    if (prev && !p->lost && has_delta && t_ns >= prev->t_ns) {
        int64_t dt = t_ns - prev->t_ns;

        if (p->ops->counter) {
            s.p_mw = dt > 0 ? de_mj / ((double)dt * 1e-9) : prev->p_mw;
            s.e_mj = prev->e_mj + de_mj;
        } else {
            s.e_mj = prev->e_mj + (prev->p_mw + mw) / 2 * (double)dt * 1e-9;
        }
        s.c_ns = prev->c_ns + dt;
        s.joined = 1;
        p->last_gap_ns = dt;
    } else {
        s.e_mj = prev ? prev->e_mj : 0;
        s.c_ns = prev ? prev->c_ns : 0;
        if (p->ops->counter)
            s.p_mw = 0;
    }
    *at(p, p->n) = s;
    p->n++;
    p->lost = 0;
    pthread_mutex_unlock(&p->lock);
}

static void emit_power(struct bf_probe *p, int64_t t_ns, double mw)
{
    append(p, t_ns, mw, 0, 1);
}

static void emit_energy(struct bf_probe *p, int64_t t_ns, double de_mj,
                        int has_delta)
{
    append(p, t_ns, 0, de_mj, has_delta);
}

static void note_bad(struct bf_probe *p, const char *msg)
{
    pthread_mutex_lock(&p->lock);
    p->bad++;
    snprintf(p->bad_msg, sizeof(p->bad_msg), "%s", msg);
    pthread_mutex_unlock(&p->lock);
}

/* Mark the probe lost at t_ns unless it already is. */
static void note_loss(struct bf_probe *p, int64_t t_ns, int code,
                      const char *msg)
{
    pthread_mutex_lock(&p->lock);
    if (!p->lost) {
        struct loss *l = &p->loss[p->losses % LOSS_HISTORY];

        l->t_ns = t_ns;
        l->vanished = code == BF_ENOENT;
        snprintf(l->msg, sizeof(l->msg), "%s", msg);
        p->losses++;
        p->lost = 1;
    }
    pthread_mutex_unlock(&p->lock);
}

/*
 * The cumulative energy and covered time at t_ns, and the index of the
 * last reading at or before it (-1 for none), from the readings still in
 * the ring; called with the lock held. Between two joined readings the
 * trace is interpolated; after the newest reading, unless the probe is
 * lost, it is held for hold_ns(). Returns -1 when t_ns precedes the
 * readings still in the ring.
 */
static int cumulative_at(const struct bf_probe *p, int64_t t_ns, double *e_mj,
                         int64_t *c_ns, int64_t *index)
{
    int64_t lo =
        p->n > BF_PROBE_HISTORY_SAMPLES ? p->n - BF_PROBE_HISTORY_SAMPLES : 0;
    int64_t hi = p->n - 1, k;
    const struct sample *s, *next;

    if (p->n == 0 || t_ns < at(p, lo)->t_ns) {
        if (lo > 0)
            return -1;
        *e_mj = 0;
        *c_ns = 0;
        *index = -1;
        return 0;
    }
    /* The last reading with t <= t_ns: at(lo) qualifies, find the last. */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;

        if (at(p, mid)->t_ns <= t_ns)
            lo = mid;
        else
            hi = mid - 1;
    }
    k = lo;
    s = at(p, k);
    next = k + 1 < p->n ? at(p, k + 1) : NULL;
    *index = k;
    *e_mj = s->e_mj;
    *c_ns = s->c_ns;
    if (next && next->joined) {
        int64_t dt = t_ns - s->t_ns, span = next->t_ns - s->t_ns;

        if (p->ops->counter) {
            *e_mj += next->p_mw * (double)dt * 1e-9;
        } else {
            double pt =
                s->p_mw + (next->p_mw - s->p_mw) * (double)dt / (double)span;

            *e_mj += (s->p_mw + pt) / 2 * (double)dt * 1e-9;
        }
        *c_ns += dt;
    } else if (!next && !p->lost && (!p->ops->counter || s->joined)) {
        int64_t held = t_ns - s->t_ns, limit = hold_ns(p);

        if (held > limit)
            held = limit;
        *e_mj += s->p_mw * (double)held * 1e-9;
        *c_ns += held;
    }
    return 0;
}

/* sysfs backends */

/* A reading of path (times path2 when set) times scale, as power. */
static int sysfs_read(struct bf_probe *p)
{
    struct sensor *s = &p->sensor;
    int64_t ta = bf_clock_now_ns(), tb;
    long long a = 0, b = 1;
    double mw;
    int rc;

    rc = read_int(s->path, &a);
    if (rc == 0 && s->path2[0])
        rc = read_int(s->path2, &b);
    tb = bf_clock_now_ns();
    if (rc < 0)
        return rc;
    mw = (double)a * (double)b * s->scale;
    if (mw < 0)
        return bf_err_set(BF_EPARSE, "%s: negative power %.1f mW", s->path, mw);
    emit_power(p, ta + (tb - ta) / 2, mw);
    return 0;
}

static void sysfs_close(struct sensor *s)
{
    (void)s;
}

/* ina3221 */

static int is_board_rail(const char *name)
{
    return strcmp(name, "POM_5V_IN") == 0 || strcmp(name, "VDD_IN") == 0;
}

/* L4T 32.x: channel k of an iio device directory, in mW. */
static int ina_use_iio(struct sensor *s, const char *dir, long k)
{
    char name_path[PATH_MAX], rail[VALUE_MAX];
    int rc;

    rc = format_path(s->path, sizeof(s->path), "%s/in_power%ld_input", dir, k);
    if (rc == 0)
        rc = format_path(name_path, sizeof(name_path), "%s/rail_name_%ld", dir,
                         k);
    if (rc < 0)
        return rc;
    if (read_text(name_path, rail, sizeof(rail)) < 0 || !rail[0])
        snprintf(rail, sizeof(rail), "rail%ld", k);
    s->path2[0] = '\0';
    s->scale = 1.0;
    snprintf(s->what, sizeof(s->what), "%s %s", rail, s->path);
    return 0;
}

/* Newer L4T: channel k of a hwmon directory, mA times mV. */
static int ina_use_hwmon(struct sensor *s, const char *dir, long k)
{
    char label_path[PATH_MAX], rail[VALUE_MAX];
    int rc;

    rc = format_path(s->path, sizeof(s->path), "%s/curr%ld_input", dir, k);
    if (rc == 0)
        rc = format_path(s->path2, sizeof(s->path2), "%s/in%ld_input", dir, k);
    if (rc == 0)
        rc = format_path(label_path, sizeof(label_path), "%s/in%ld_label", dir,
                         k);
    if (rc < 0)
        return rc;
    if (read_text(label_path, rail, sizeof(rail)) < 0 || !rail[0])
        snprintf(rail, sizeof(rail), "channel%ld", k);
    s->scale = 1e-3;
    snprintf(s->what, sizeof(s->what), "%s %s/{curr%ld_input,in%ld_input}",
             rail, dir, k, k);
    return 0;
}

/*
 * The board input rail among files matching pattern under root (rail
 * name files, "rail_name_N" or "inN_label"): 1 when found and used.
 */
static int ina_find(struct sensor *s, const char *root, const char *pattern,
                    const char *prefix, const char *suffix, int hwmon)
{
    glob_t g;
    int rc = glob_under(root, pattern, &g);

    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        const char *file = g.gl_pathv[i];
        long k = name_index(base_of(file), prefix, suffix);
        char name[VALUE_MAX], dir[PATH_MAX];

        if (k < 0 || read_text(file, name, sizeof(name)) < 0 ||
            !is_board_rail(name))
            continue;
        rc = dir_of(file, dir, sizeof(dir));
        if (rc == 0)
            rc = hwmon ? ina_use_hwmon(s, dir, k) : ina_use_iio(s, dir, k);
        if (rc == 0)
            rc = 1;
    }
    globfree(&g);
    return rc;
}

static int ina_open(struct sensor *s, const char *root, const char *arg)
{
    static const char iio_glob[] =
        "/sys/bus/i2c/drivers/ina3221x/*/iio:device*/rail_name_*";
    static const char hwmon_glob[] =
        "/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*/in*_label";
    const char *base;
    char dir[PATH_MAX];
    long k;
    int rc;

    if (!arg) {
        rc = ina_find(s, root, iio_glob, "rail_name_", "", 0);
        if (rc == 0)
            rc = ina_find(s, root, hwmon_glob, "in", "_label", 1);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        return bf_err_set(BF_ENOENT,
                          "ina3221: no rail named POM_5V_IN or VDD_IN in "
                          "%s%s or %s%s",
                          root, iio_glob, root, hwmon_glob);
    }
    if (is_dir(arg)) {
        rc = ina_find(s, arg, "/rail_name_*", "rail_name_", "", 0);
        if (rc == 0)
            rc = ina_find(s, arg, "/in*_label", "in", "_label", 1);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        return bf_err_set(BF_ENOENT,
                          "ina3221: no rail named POM_5V_IN or VDD_IN in "
                          "%s/rail_name_* or %s/in*_label",
                          arg, arg);
    }
    if (access(arg, F_OK) != 0)
        return file_error(arg, errno);
    base = base_of(arg);
    rc = dir_of(arg, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    if ((k = name_index(base, "in_power", "_input")) >= 0)
        return ina_use_iio(s, dir, k);
    if ((k = name_index(base, "curr", "_input")) >= 0)
        return ina_use_hwmon(s, dir, k);
    return bf_err_set(BF_EINVAL,
                      "ina3221: %s is neither a directory nor an "
                      "in_powerN_input or currN_input file",
                      arg);
}

static const struct probe_ops ina3221_ops = {
    .name = "ina3221",
    .in_auto = 1,
    .open = ina_open,
    .read = sysfs_read,
    .close = sysfs_close,
};

/* hwmon */

/* Use power file path (microwatts), named after its hwmon's name file. */
static int hwmon_use(struct sensor *s, const char *path)
{
    char dir[PATH_MAX], name_path[PATH_MAX], name[VALUE_MAX];
    int rc;

    rc = format_path(s->path, sizeof(s->path), "%s", path);
    if (rc == 0)
        rc = dir_of(path, dir, sizeof(dir));
    if (rc == 0)
        rc = format_path(name_path, sizeof(name_path), "%s/name", dir);
    if (rc < 0)
        return rc;
    if (read_text(name_path, name, sizeof(name)) < 0 || !name[0])
        snprintf(name, sizeof(name), "%.*s", VALUE_MAX - 1, base_of(dir));
    s->path2[0] = '\0';
    s->scale = 1e-3;
    snprintf(s->what, sizeof(s->what), "%s %s", name, s->path);
    return 0;
}

static int hwmon_open(struct sensor *s, const char *root, const char *arg)
{
    static const char auto_glob[] = "/sys/class/hwmon/hwmon*/power*_input";
    const char *under = arg ? arg : root;
    const char *pattern = arg ? "/power*_input" : auto_glob;
    glob_t g;
    int rc;

    if (arg && !is_dir(arg)) {
        if (access(arg, F_OK) != 0)
            return file_error(arg, errno);
        return hwmon_use(s, arg);
    }
    rc = glob_under(under, pattern, &g);
    if (rc == 0 && g.gl_pathc == 0)
        rc = bf_err_set(BF_ENOENT, "hwmon: no %s%s", under, pattern);
    if (rc == 0)
        rc = hwmon_use(s, g.gl_pathv[0]);
    globfree(&g);
    return rc;
}

static const struct probe_ops hwmon_ops = {
    .name = "hwmon",
    .in_auto = 1,
    .open = hwmon_open,
    .read = sysfs_read,
    .close = sysfs_close,
};

/* rapl */

static int rapl_use(struct sensor *s, const char *dir)
{
    char range_path[PATH_MAX], name_path[PATH_MAX], name[VALUE_MAX];
    long long range;
    int rc;

    rc = format_path(s->path, sizeof(s->path), "%s/energy_uj", dir);
    if (rc == 0)
        rc = format_path(range_path, sizeof(range_path),
                         "%s/max_energy_range_uj", dir);
    if (rc == 0)
        rc = format_path(name_path, sizeof(name_path), "%s/name", dir);
    if (rc < 0)
        return rc;
    if (access(s->path, F_OK) != 0)
        return file_error(s->path, errno);
    rc = read_int(range_path, &range);
    if (rc < 0)
        return rc;
    if (range <= 0)
        return bf_err_set(BF_EPARSE, "%s: range %lld is not positive",
                          range_path, range);
    if (read_text(name_path, name, sizeof(name)) < 0 || !name[0])
        snprintf(name, sizeof(name), "%.*s", VALUE_MAX - 1, base_of(dir));
    s->range_uj = range;
    s->have_last = 0;
    s->path2[0] = '\0';
    snprintf(s->what, sizeof(s->what), "%s %s", name, s->path);
    return 0;
}

static int rapl_open(struct sensor *s, const char *root, const char *arg)
{
    static const char auto_glob[] = "/sys/class/powercap/intel-rapl:*";
    char dir[PATH_MAX];
    glob_t g;
    int rc;

    if (arg) {
        if (is_dir(arg))
            return rapl_use(s, arg);
        if (access(arg, F_OK) != 0)
            return file_error(arg, errno);
        if (strcmp(base_of(arg), "energy_uj") != 0)
            return bf_err_set(BF_EINVAL,
                              "rapl: %s is neither a powercap zone "
                              "directory nor its energy_uj",
                              arg);
        rc = dir_of(arg, dir, sizeof(dir));
        return rc < 0 ? rc : rapl_use(s, dir);
    }
    rc = glob_under(root, auto_glob, &g);
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        /* A package zone is intel-rapl:N; intel-rapl:N:M are inside it. */
        if (name_index(base_of(g.gl_pathv[i]), "intel-rapl:", "") < 0)
            continue;
        rc = rapl_use(s, g.gl_pathv[i]);
        globfree(&g);
        return rc;
    }
    globfree(&g);
    if (rc < 0)
        return rc;
    return bf_err_set(BF_ENOENT, "rapl: no %s%s", root, auto_glob);
}

static int rapl_read(struct bf_probe *p)
{
    struct sensor *s = &p->sensor;
    int64_t ta = bf_clock_now_ns(), tb;
    long long v;
    int rc;

    rc = read_int(s->path, &v);
    tb = bf_clock_now_ns();
    if (rc < 0) {
        if (rc != BF_EPARSE)
            s->have_last = 0; /* the next reading starts a segment */
        return rc;
    }
    if (v < 0 || v > s->range_uj)
        return bf_err_set(BF_EPARSE,
                          "%s: counter %lld outside 0..%lld "
                          "(max_energy_range_uj)",
                          s->path, v, (long long)s->range_uj);
    if (s->have_last) {
        int64_t d =
            v >= s->last_uj ? v - s->last_uj : s->range_uj - s->last_uj + v;

        emit_energy(p, ta + (tb - ta) / 2, (double)d * 1e-3, 1);
    } else {
        emit_energy(p, ta + (tb - ta) / 2, 0, 0);
    }
    s->last_uj = v;
    s->have_last = 1;
    return 0;
}

static const struct probe_ops rapl_ops = {
    .name = "rapl",
    .in_auto = 1,
    .counter = 1,
    .open = rapl_open,
    .read = rapl_read,
    .close = sysfs_close,
};

/* command */

static int command_open(struct sensor *s, const char *root, const char *arg)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, deflt;
    char sh[] = "sh", dash_c[] = "-c", *cmd;
    char *argv[4];
    int pfd[2], rc;

    (void)root;
    if (!arg)
        return bf_err_set(BF_ENOENT, "command: nothing to detect");
    cmd = strdup(arg);
    if (!cmd)
        return bf_err_set(BF_ENOMEM, "command: out of memory");
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        rc = bf_err_set(BF_EIO, "command: pipe: %s", strerror(errno));
        goto out_cmd;
    }
    argv[0] = sh;
    argv[1] = dash_c;
    argv[2] = cmd;
    argv[3] = NULL;
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGPIPE);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGHUP);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    rc = posix_spawn(&s->pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        s->pid = 0;
        rc = bf_err_set(BF_EIO, "command: /bin/sh: %s", strerror(rc));
        goto out_cmd;
    }
    s->pgid = s->pid;
    s->fd = pfd[0];
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    snprintf(s->short_cmd, sizeof(s->short_cmd), "%s", arg);
    if (strlen(arg) >= sizeof(s->short_cmd))
        memcpy(s->short_cmd + sizeof(s->short_cmd) - 4, "...", 4);
    snprintf(s->what, sizeof(s->what), "'%s' (readings as printed)", arg);
    rc = 0;
out_cmd:
    free(cmd);
    return rc;
}

/* One complete line of the command's output, arrived at t_ns. */
static void command_line(struct bf_probe *p, int64_t t_ns, char *line)
{
    char msg[MSG_MAX], *end;
    double w;

    trim_end(line);
    errno = 0;
    w = strtod(line, &end);
    if (end == line || errno == ERANGE || !only_space(end) || !isfinite(w) ||
        w < 0 || w > COMMAND_MAX_W) {
        snprintf(msg, sizeof(msg), "command '%s': malformed line '%.60s'",
                 p->sensor.short_cmd, line);
        note_bad(p, msg);
        return;
    }
    emit_power(p, t_ns, w * 1000.0);
}

/*
 * The command ended its output: reap it if it exits within
 * REAP_WAIT_NS (its output closes a moment before it can be reaped), and
 * say how it ended.
 */
static int command_ended(struct sensor *s)
{
    int64_t deadline = bf_clock_now_ns() + REAP_WAIT_NS;
    int status = 0;
    pid_t r = 0;

    close(s->fd);
    s->fd = -1;
    while (s->pid > 0) {
        r = waitpid(s->pid, &status, WNOHANG);
        if (r != 0 || bf_clock_now_ns() >= deadline)
            break;
        bf_clock_sleep_until_ns(bf_clock_now_ns() + 1000000);
    }
    if (s->pid > 0 && r == s->pid) {
        s->pid = 0;
        if (WIFEXITED(status))
            snprintf(s->ended, sizeof(s->ended),
                     "command '%s' exited with status %d", s->short_cmd,
                     WEXITSTATUS(status));
        else
            snprintf(s->ended, sizeof(s->ended),
                     "command '%s' killed by signal %d", s->short_cmd,
                     WTERMSIG(status));
    } else {
        snprintf(s->ended, sizeof(s->ended), "command '%s' closed its output",
                 s->short_cmd);
    }
    return bf_err_set(BF_ENOENT, "%s", s->ended);
}

static int command_read(struct bf_probe *p)
{
    struct sensor *s = &p->sensor;
    char buf[4096];
    int64_t t_ns;
    ssize_t n;

    if (s->fd < 0)
        return bf_err_set(BF_ENOENT, "%s", s->ended);
    n = read(s->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return command_ended(s);
    t_ns = bf_clock_now_ns();
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            s->line[s->line_len] = '\0';
            if (s->overlong)
                note_bad(p, "command: line longer than 255 bytes");
            else
                command_line(p, t_ns, s->line);
            s->line_len = 0;
            s->overlong = 0;
        } else if (s->line_len + 1 < sizeof(s->line)) {
            s->line[s->line_len++] = buf[i];
        } else {
            s->overlong = 1;
        }
    }
    return 0;
}

static void command_close(struct sensor *s)
{
    int64_t deadline = bf_clock_now_ns() + KILL_GRACE_NS;
    int status;

    if (s->pgid > 0)
        kill(-s->pgid, SIGTERM);
    while (s->pid > 0) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);

        if (r == s->pid || (r < 0 && errno != EINTR)) {
            s->pid = 0;
        } else if (bf_clock_now_ns() >= deadline) {
            kill(-s->pgid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
        } else {
            bf_clock_sleep_until_ns(bf_clock_now_ns() + 2000000);
        }
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static const struct probe_ops command_ops = {
    .name = "command",
    .push = 1,
    .open = command_open,
    .read = command_read,
    .close = command_close,
};

/* The registry, in the order "auto" tries it. */
static const struct probe_ops *const registry[] = {
    &ina3221_ops,
    &hwmon_ops,
    &rapl_ops,
    &command_ops,
};

#define REGISTRY_SIZE (sizeof(registry) / sizeof(registry[0]))

/* Sampling */

enum { WAIT_STOP, WAIT_INPUT, WAIT_TIMEOUT };

/*
 * Wait for a byte on wake_fd (WAIT_STOP), input on input_fd (WAIT_INPUT)
 * or deadline_ns (WAIT_TIMEOUT); a negative fd or deadline is not waited
 * for.
 */
static int wait_for(int wake_fd, int input_fd, int64_t deadline_ns)
{
    for (;;) {
        struct pollfd fds[2];
        struct timespec ts, *tsp = NULL;
        nfds_t nfds = 0;
        int wi = -1, ii = -1;

        if (wake_fd >= 0) {
            fds[nfds] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
            wi = (int)nfds++;
        }
        if (input_fd >= 0) {
            fds[nfds] = (struct pollfd){.fd = input_fd, .events = POLLIN};
            ii = (int)nfds++;
        }
        if (deadline_ns >= 0) {
            int64_t left = deadline_ns - bf_clock_now_ns();

            if (left <= 0)
                return WAIT_TIMEOUT;
            ts.tv_sec = (time_t)(left / NS_PER_S);
            ts.tv_nsec = (long)(left % NS_PER_S);
            tsp = &ts;
        }
        if (ppoll(fds, nfds, tsp, NULL) < 0) {
            if (errno == EINTR)
                continue;
            return WAIT_TIMEOUT;
        }
        if (wi >= 0 && fds[wi].revents)
            return WAIT_STOP;
        if (ii >= 0 && fds[ii].revents)
            return WAIT_INPUT;
    }
}

static void *sampler_main(void *arg)
{
    struct bf_probe *p = arg;
    int64_t next = bf_clock_now_ns() + p->interval_ns;

    for (;;) {
        int fd = p->sensor.fd;
        int64_t now;
        int rc;

        if (wait_for(p->wake[0], fd, fd >= 0 ? -1 : next) == WAIT_STOP)
            break;
        rc = p->ops->read(p);
        now = bf_clock_now_ns();
        if (rc == BF_EPARSE) {
            note_bad(p, bf_last_error());
        } else if (rc < 0) {
            note_loss(p, now, rc, bf_last_error());
            next = now + RETRY_NS;
            continue;
        }
        if (fd < 0) {
            next += p->interval_ns;
            if (next <= now) /* late: skip the missed periods */
                next += ((now - next) / p->interval_ns + 1) * p->interval_ns;
        }
    }
    return NULL;
}

/*
 * Take the probe's first reading in the caller's thread; for a counter,
 * two readings FIRST_GAP_NS apart, so that the power is known at once.
 */
static int first_reading(struct bf_probe *p)
{
    int64_t deadline = bf_clock_now_ns() + FIRST_READING_NS;
    int64_t want = p->ops->counter ? 2 : 1;
    char msg[MSG_MAX];
    int rc;

    while (p->n < want) {
        if (p->ops->push && p->sensor.fd >= 0 &&
            wait_for(-1, p->sensor.fd, deadline) == WAIT_TIMEOUT)
            return bf_err_set(BF_ETIMEOUT, "%s %s: no valid reading within 5 s",
                              p->ops->name, p->sensor.what);
        if (!p->ops->push && p->n > 0)
            bf_clock_sleep_until_ns(bf_clock_now_ns() + FIRST_GAP_NS);
        rc = p->ops->read(p);
        if (rc < 0 && p->ops->push) {
            snprintf(msg, sizeof(msg), "%s", bf_last_error());
            return bf_err_set(BF_EIO, "%s before its first valid reading", msg);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Open backend ops as *out, its first reading taken and thread started. */
static int open_backend(const struct probe_ops *ops, const char *root,
                        const char *arg, double rate_hz, struct bf_probe **out)
{
    sigset_t all, old;
    struct bf_probe *p;
    int rc;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return bf_err_set(BF_ENOMEM, "power probe: out of memory");
    p->ops = ops;
    p->interval_ns = (int64_t)llround(1e9 / rate_hz);
    p->sensor.fd = -1;
    p->ring = calloc(BF_PROBE_HISTORY_SAMPLES, sizeof(*p->ring));
    if (!p->ring) {
        rc = bf_err_set(BF_ENOMEM, "power probe: out of memory");
        goto out_probe;
    }
    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = bf_err_set(BF_EIO, "power probe: pipe: %s", strerror(errno));
        goto out_ring;
    }
    pthread_mutex_init(&p->lock, NULL);
    rc = ops->open(&p->sensor, root, arg);
    if (rc < 0)
        goto out_lock;
    rc = first_reading(p);
    if (rc < 0)
        goto out_sensor;
    if (ops->push)
        snprintf(p->desc, sizeof(p->desc), "%s %s", ops->name, p->sensor.what);
    else
        snprintf(p->desc, sizeof(p->desc), "%s %s @%g Hz", ops->name,
                 p->sensor.what, rate_hz);
    /* The thread blocks every signal: handlers run in the caller's. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&p->thread, NULL, sampler_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        rc = bf_err_set(BF_ENOMEM, "power probe: pthread_create: %s",
                        strerror(rc));
        goto out_sensor;
    }
    *out = p;
    return 0;

out_sensor:
    ops->close(&p->sensor);
out_lock:
    pthread_mutex_destroy(&p->lock);
    close(p->wake[0]);
    close(p->wake[1]);
out_ring:
    free(p->ring);
out_probe:
    free(p);
    return rc;
}

/* Lifetime */

int bf_probe_open(const struct bf_probe_params *params, struct bf_probe **out)
{
    const struct probe_ops *ops = NULL;
    const char *spec, *colon, *arg = NULL, *root;
    char root_buf[PATH_MAX];
    double rate;
    size_t len;
    int rc, is_none, is_auto;

    if (out)
        *out = NULL;
    if (!params || !out || !params->spec)
        return bf_err_set(BF_EINVAL, "power probe: NULL %s",
                          !params ? "params"
                          : !out  ? "out"
                                  : "spec");
    spec = params->spec;
    rate = params->rate_hz == 0 ? BF_PROBE_DEFAULT_RATE_HZ : params->rate_hz;
    if (!(rate >= BF_PROBE_MIN_RATE_HZ && rate <= BF_PROBE_MAX_RATE_HZ))
        return bf_err_set(
            BF_EINVAL, "power probe '%s': rate_hz %g outside %g..%g", spec,
            params->rate_hz, BF_PROBE_MIN_RATE_HZ, BF_PROBE_MAX_RATE_HZ);
    colon = strchr(spec, ':');
    len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (colon) {
        arg = colon + 1;
        if (!*arg)
            return bf_err_set(BF_EINVAL,
                              "power probe '%s': empty path or command "
                              "after ':'",
                              spec);
    }
    is_none = len == 4 && strncmp(spec, "none", 4) == 0;
    is_auto = len == 4 && strncmp(spec, "auto", 4) == 0;
    if (is_none || is_auto) {
        if (arg)
            return bf_err_set(BF_EINVAL,
                              "power probe '%s': %.4s takes no "
                              "argument",
                              spec, spec);
    } else {
        for (size_t i = 0; i < REGISTRY_SIZE; i++)
            if (strlen(registry[i]->name) == len &&
                strncmp(spec, registry[i]->name, len) == 0)
                ops = registry[i];
        if (!ops)
            return bf_err_set(BF_EINVAL,
                              "power probe '%s': unknown backend (known: "
                              "auto, none, ina3221, hwmon, rapl, command)",
                              spec);
        if (!ops->in_auto && !arg)
            return bf_err_set(BF_EINVAL,
                              "power probe '%s': %s needs "
                              "'%s:ARGUMENT'",
                              spec, ops->name, ops->name);
    }
    if (is_none)
        return 0;

    /* The root without its trailing slashes ("/" becomes ""). */
    rc = format_path(root_buf, sizeof(root_buf), "%s",
                     params->root ? params->root : "/");
    if (rc < 0)
        return rc;
    for (len = strlen(root_buf); len > 0 && root_buf[len - 1] == '/';)
        root_buf[--len] = '\0';
    root = root_buf;

    if (ops)
        return open_backend(ops, root, arg, rate, out);
    for (size_t i = 0; i < REGISTRY_SIZE; i++) {
        if (!registry[i]->in_auto)
            continue;
        rc = open_backend(registry[i], root, NULL, rate, out);
        if (rc == 0 || rc == BF_ENOMEM)
            return rc;
        if (rc != BF_ENOENT)
            bf_log_warn("power probe: %s present but unusable, trying "
                        "the next: %s",
                        registry[i]->name, bf_last_error());
    }
    bf_err_clear();
    return 0;
}

void bf_probe_close(struct bf_probe *probe)
{
    ssize_t n;

    if (!probe)
        return;
    do {
        n = write(probe->wake[1], "x", 1);
    } while (n < 0 && errno == EINTR);
    pthread_join(probe->thread, NULL);
    probe->ops->close(&probe->sensor);
    pthread_mutex_destroy(&probe->lock);
    close(probe->wake[0]);
    close(probe->wake[1]);
    free(probe->ring);
    free(probe);
}

const char *bf_probe_describe(const struct bf_probe *probe)
{
    return probe ? probe->desc : "none";
}

/* Windows */

int bf_probe_window_begin(struct bf_probe *probe, struct bf_probe_window *w)
{
    int64_t k;

    if (!probe || !w)
        return bf_err_set(BF_EINVAL, "power probe window: NULL %s",
                          probe ? "window" : "probe");
    memset(w, 0, sizeof(*w));
    w->probe = probe;
    w->t0_ns = bf_clock_now_ns();
    pthread_mutex_lock(&probe->lock);
    /* Never fails here: t0 follows every reading in the ring. */
    cumulative_at(probe, w->t0_ns, &w->energy0_mj, &w->covered0_ns, &k);
    w->samples0 = k + 1;
    w->losses0 = probe->losses;
    w->bad0 = probe->bad;
    w->lost0 = probe->lost;
    pthread_mutex_unlock(&probe->lock);
    return 0;
}

/* The note of a window that saw a loss; called with the lock held. */
static void loss_note(const struct bf_probe *p, const struct bf_probe_window *w,
                      int64_t losses, char *note, size_t size)
{
    /* The loss that first touched the window. */
    int64_t first = w->lost0 ? w->losses0 - 1 : w->losses0;
    const struct loss *l;
    double rel_s;
    char more[48] = "";

    if (first < losses - LOSS_HISTORY)
        first = losses - LOSS_HISTORY;
    if (first < 0)
        first = 0;
    l = &p->loss[first % LOSS_HISTORY];
    rel_s = (double)(l->t_ns - w->t0_ns) * 1e-9;
    if (losses - first > 1)
        snprintf(more, sizeof(more), " (%lld losses)",
                 (long long)(losses - first));
    if (rel_s >= 0)
        snprintf(note, size, "sensor %s %.2f s into the window%s: %s",
                 l->vanished ? "vanished" : "unreadable", rel_s, more, l->msg);
    else
        snprintf(note, size, "sensor %s %.2f s before the window%s: %s",
                 l->vanished ? "vanished" : "unreadable", -rel_s, more, l->msg);
}

int bf_probe_window_end(struct bf_probe *probe, const struct bf_probe_window *w,
                        struct bf_probe_reading *out)
{
    double e0 = 0, e1 = 0;
    int64_t c0 = 0, c1 = 0, k0 = -1, k1 = -1, t1, duration;

    if (!probe || !w || !out)
        return bf_err_set(BF_EINVAL, "power probe window: NULL %s",
                          !probe ? "probe"
                          : !w   ? "window"
                                 : "reading");
    assert(w->probe == probe);
    memset(out, 0, sizeof(*out));
    t1 = bf_clock_now_ns();
    duration = t1 - w->t0_ns;
    pthread_mutex_lock(&probe->lock);
    cumulative_at(probe, t1, &e1, &c1, &k1);
    if (cumulative_at(probe, w->t0_ns, &e0, &c0, &k0) < 0) {
        /* The begin's neighbours left the ring: use the estimate. */
        e0 = w->energy0_mj;
        c0 = w->covered0_ns;
        k0 = w->samples0 - 1;
    }
    if (probe->losses > w->losses0 || w->lost0 || probe->lost) {
        out->status = BF_EIO;
        loss_note(probe, w, probe->losses, out->note, sizeof(out->note));
    } else if (probe->bad > w->bad0) {
        snprintf(out->note, sizeof(out->note),
                 "%lld malformed reading%s skipped, the last: %s",
                 (long long)(probe->bad - w->bad0),
                 probe->bad - w->bad0 > 1 ? "s" : "", probe->bad_msg);
    }
    pthread_mutex_unlock(&probe->lock);

    /* Covered time grows no faster than the clock; clamp estimates. */
    if (c1 - c0 > duration)
        c1 = c0 + duration;
    if (c1 < c0)
        c1 = c0;
    out->energy_mj = e1 - e0;
    out->duration_ms = (double)duration * 1e-6;
    out->covered_ms = (double)(c1 - c0) * 1e-6;
    out->samples = k1 - k0;
    out->avg_power_mw =
        c1 > c0 ? out->energy_mj / ((double)(c1 - c0) * 1e-9) : 0;
    return 0;
}

/* Arithmetic */

int bf_probe_integrate(const int64_t *t_ns, const double *p_mw, size_t n,
                       int64_t t0_ns, int64_t t1_ns, double *energy_mj,
                       double *covered_ns)
{
    double e = 0, c = 0;

    if (!energy_mj || !covered_ns || (n > 0 && (!t_ns || !p_mw)))
        return bf_err_set(BF_EINVAL, "bf_probe_integrate: NULL argument");
    if (t1_ns < t0_ns)
        return bf_err_set(BF_EINVAL,
                          "bf_probe_integrate: window ends (%lld ns) before "
                          "it begins (%lld ns)",
                          (long long)t1_ns, (long long)t0_ns);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(p_mw[i]))
            return bf_err_set(BF_EINVAL,
                              "bf_probe_integrate: sample %zu: power is not "
                              "finite",
                              i);
        if (i > 0 && t_ns[i] < t_ns[i - 1])
            return bf_err_set(BF_EINVAL,
                              "bf_probe_integrate: sample %zu: time goes "
                              "back (%lld < %lld ns)",
                              i, (long long)t_ns[i], (long long)t_ns[i - 1]);
    }
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t a = t_ns[i], b = t_ns[i + 1];
        int64_t lo = a > t0_ns ? a : t0_ns, hi = b < t1_ns ? b : t1_ns;
        double slope, p_lo, p_hi;

        if (hi <= lo)
            continue;
        slope = (p_mw[i + 1] - p_mw[i]) / ((double)b - (double)a);
        p_lo = p_mw[i] + slope * ((double)lo - (double)a);
        p_hi = p_mw[i] + slope * ((double)hi - (double)a);
        e += (p_lo + p_hi) / 2 * ((double)hi - (double)lo) * 1e-9;
        c += (double)hi - (double)lo;
    }
    *energy_mj = e;
    *covered_ns = c;
    return 0;
}
