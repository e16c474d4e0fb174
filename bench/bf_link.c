/* bf_link: emulated link schedules (see bf_link.h). */
#define _POSIX_C_SOURCE 200809L
#include "bf_link.h"

#include "bf_err.h"
#include "bf_rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct link_ops {
    const char *name;
    int (*send)(struct bf_link *l, int64_t start, uint64_t bytes,
                int64_t *sent);
};

struct bf_link {
    const struct link_ops *ops;
    struct bf_link_params p;
    struct bf_rng rng;
    int64_t free_at;     /* the sender is busy until then */
    int64_t last_arrive; /* FIFO delivery */
    int64_t origin;      /* trace time 0 */
    int started;
    /* Mahimahi: delivery opportunities within one period, ns. */
    int64_t *opps;
    size_t n_opps;
    int64_t period;
    uint64_t cursor; /* next unused opportunity, counted across periods */
    /* Rate rows: from t[i] on, rate[i] Mbit/s. */
    double *row_t;
    double *row_rate;
    size_t n_rows;
};

double bf_link_ideal_ns(double rate_mbps, double rtt_ms, uint64_t bytes)
{
    return (double)bytes * 8000.0 / rate_mbps + rtt_ms * 0.5e6;
}

/* ideal */

static int ideal_send(struct bf_link *l, int64_t start, uint64_t bytes,
                      int64_t *sent)
{
    (void)l;
    (void)bytes;
    *sent = start;
    return 0;
}

/* fixed */

static int fixed_send(struct bf_link *l, int64_t start, uint64_t bytes,
                      int64_t *sent)
{
    double per_byte = 8000.0 / l->p.rate_mbps; /* ns */
    uint64_t packets = (bytes + (uint64_t)l->p.mtu - 1) / (uint64_t)l->p.mtu;
    double extra = 0.0;

    if (l->p.loss > 0.0) {
        double resend = l->p.retransmit_ms * 1e6 + per_byte * l->p.mtu;

        for (uint64_t k = 0; k < packets; k++)
            for (int tries = 0; tries < 1000; tries++) {
                if (bf_rng_uniform(&l->rng) >= l->p.loss)
                    break;
                extra += resend;
            }
    }
    *sent = start + (int64_t)llround((double)bytes * per_byte + extra);
    return 0;
}

/* trace: Mahimahi delivery opportunities */

static int64_t opp_time(const struct bf_link *l, uint64_t k)
{
    return (int64_t)(k / l->n_opps) * l->period + l->opps[k % l->n_opps];
}

static int mahimahi_send(struct bf_link *l, int64_t start, uint64_t bytes,
                         int64_t *sent)
{
    uint64_t packets = (bytes + (uint64_t)l->p.mtu - 1) / (uint64_t)l->p.mtu;
    int64_t rel = start - l->origin;
    uint64_t k = l->cursor;

    if (opp_time(l, k) < rel) {
        /* The first opportunity at or after rel: its period, then a
         * binary search within it. */
        uint64_t loop = (uint64_t)(rel / l->period);
        int64_t within = rel - (int64_t)loop * l->period;
        size_t lo = 0, hi = l->n_opps;

        while (lo < hi) {
            size_t mid = (lo + hi) / 2;

            if (l->opps[mid] < within)
                lo = mid + 1;
            else
                hi = mid;
        }
        k = loop * l->n_opps + lo;
        if (k < l->cursor)
            k = l->cursor;
    }
    k += packets - 1;
    l->cursor = k + 1;
    *sent = l->origin + opp_time(l, k);
    return 0;
}

/* trace: "seconds, Mbit/s" rows */

static int rows_send(struct bf_link *l, int64_t start, uint64_t bytes,
                     int64_t *sent)
{
    double t = (double)(start - l->origin) / 1e9; /* s */
    double left = (double)bytes * 8.0 / 1e6;      /* Mbit */
    size_t i = 0;

    while (i + 1 < l->n_rows && l->row_t[i + 1] <= t)
        i++;
    for (;; i++) {
        double end = i + 1 < l->n_rows ? l->row_t[i + 1] : INFINITY;
        double rate = l->row_rate[i];

        if (t < l->row_t[i])
            t = l->row_t[i];
        if (rate > 0.0 && (end - t) * rate >= left) {
            t += left / rate;
            break;
        }
        if (rate > 0.0)
            left -= (end - t) * rate;
        t = end;
    }
    *sent = l->origin + (int64_t)llround(t * 1e9);
    return 0;
}

static const struct link_ops ideal_ops = {"ideal", ideal_send};
static const struct link_ops fixed_ops = {"fixed", fixed_send};
static const struct link_ops mahimahi_ops = {"trace", mahimahi_send};
static const struct link_ops rows_ops = {"trace", rows_send};

/* Trace files */

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    void *q;

    if (n < *cap)
        return 0;
    *cap = *cap ? *cap * 2 : 256;
    q = realloc(*p, *cap * size);
    if (!q)
        return bf_err_set(BF_ENOMEM, "trace of %zu rows", n);
    *p = q;
    return 0;
}

/* Parse one row; sets *rows on the first row of a file. */
static int trace_row(struct bf_link *l, const char *path, size_t line_no,
                     char *line, int *rows, size_t *cap)
{
    char *end;
    int rc;

    if (*rows < 0)
        *rows = strchr(line, ',') != NULL;
    if (*rows) {
        double t, rate;

        errno = 0;
        t = strtod(line, &end);
        while (end != line && (*end == ' ' || *end == '\t'))
            end++;
        if (end == line || *end != ',' || errno || !isfinite(t) || t < 0)
            return bf_err_set(BF_EPARSE,
                              "%s:%zu: expected 'seconds, Mbit/s' with "
                              "seconds >= 0",
                              path, line_no);
        rate = strtod(end + 1, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r')
            end++;
        if (*end || errno || !isfinite(rate) || rate < 0)
            return bf_err_set(BF_EPARSE,
                              "%s:%zu: expected a rate in Mbit/s >= 0 "
                              "after the comma",
                              path, line_no);
        if (l->n_rows && t <= l->row_t[l->n_rows - 1])
            return bf_err_set(BF_EPARSE,
                              "%s:%zu: time %g s does not increase (previous "
                              "row %g s)",
                              path, line_no, t, l->row_t[l->n_rows - 1]);
        {
            size_t c2 = *cap;

            rc = grow((void **)&l->row_t, cap, l->n_rows, sizeof(double));
            if (rc == 0)
                rc =
                    grow((void **)&l->row_rate, &c2, l->n_rows, sizeof(double));
            if (rc)
                return rc;
        }
        l->row_t[l->n_rows] = t;
        l->row_rate[l->n_rows++] = rate;
        return 0;
    }
    {
        long long ms;

        errno = 0;
        ms = strtoll(line, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r')
            end++;
        if (end == line || *end || errno || ms < 0 || ms > 1000000000LL)
            return bf_err_set(BF_EPARSE,
                              "%s:%zu: expected a millisecond timestamp "
                              "(Mahimahi format) or 'seconds, Mbit/s'",
                              path, line_no);
        if (l->n_opps && ms * 1000000LL < l->opps[l->n_opps - 1])
            return bf_err_set(BF_EPARSE,
                              "%s:%zu: timestamp %lld ms goes backwards", path,
                              line_no, ms);
        rc = grow((void **)&l->opps, cap, l->n_opps, sizeof(int64_t));
        if (rc)
            return rc;
        l->opps[l->n_opps++] = ms * 1000000LL;
        return 0;
    }
}

static int load_trace(struct bf_link *l, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t line_no = 0, cap = 0;
    int rows = -1, rc = 0;

    if (!f)
        return bf_err_set(errno == ENOENT ? BF_ENOENT : BF_EIO, "trace %s: %s",
                          path, strerror(errno));
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *s = line;
        size_t len = strlen(line);

        line_no++;
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            rc = bf_err_set(BF_EPARSE, "%s:%zu: line too long", path, line_no);
            break;
        }
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "#\n")] = '\0';
        if (!*s || *s == '\r')
            continue;
        rc = trace_row(l, path, line_no, s, &rows, &cap);
    }
    if (rc == 0 && ferror(f))
        rc = bf_err_set(BF_EIO, "trace %s: read error", path);
    fclose(f);
    if (rc)
        return rc;
    if (rows < 0)
        return bf_err_set(BF_EPARSE, "trace %s: no rows", path);
    if (rows) {
        if (l->row_rate[l->n_rows - 1] <= 0.0)
            return bf_err_set(BF_EPARSE,
                              "%s: the last rate is 0 Mbit/s, so a message "
                              "could never finish",
                              path);
        l->ops = &rows_ops;
        return 0;
    }
    l->period = l->opps[l->n_opps - 1];
    if (l->period <= 0)
        return bf_err_set(
            BF_EPARSE, "%s: the trace lasts 0 ms (its last timestamp)", path);
    l->ops = &mahimahi_ops;
    return 0;
}

/* Opening */

static int check_params(const struct bf_link_params *p)
{
    if (!(p->rtt_ms >= 0.0 && p->rtt_ms < 1e6))
        return bf_err_set(BF_EINVAL, "link: rtt_ms %g outside 0..1e6",
                          p->rtt_ms);
    if (strcmp(p->kind, "fixed") != 0)
        return 0;
    if (!(p->rate_mbps > 0.0 && p->rate_mbps <= 1e6))
        return bf_err_set(BF_EINVAL, "link: rate_mbps %g outside (0, 1e6]",
                          p->rate_mbps);
    if (!(p->jitter_ms >= 0.0 && p->jitter_ms < 1e6))
        return bf_err_set(BF_EINVAL, "link: jitter_ms %g is negative",
                          p->jitter_ms);
    if (!(p->loss >= 0.0 && p->loss < 1.0))
        return bf_err_set(BF_EINVAL, "link: loss %g outside [0, 1)", p->loss);
    return 0;
}

int bf_link_open(const struct bf_link_params *params, struct bf_link **out)
{
    struct bf_link *l;
    int rc;

    if (!params || !params->kind || !out)
        return bf_err_set(BF_EINVAL, "bf_link_open: NULL argument");
    if (strcmp(params->kind, "ideal") != 0 &&
        strcmp(params->kind, "fixed") != 0 &&
        strcmp(params->kind, "trace") != 0)
        return bf_err_set(BF_EINVAL,
                          "unknown link '%s' (known: ideal, fixed, trace)",
                          params->kind);
    rc = check_params(params);
    if (rc)
        return rc;
    if (params->mtu < 0 || params->mtu > 65536)
        return bf_err_set(BF_EINVAL, "link: mtu %d outside 0..65536",
                          params->mtu);
    l = calloc(1, sizeof(*l));
    if (!l)
        return bf_err_set(BF_ENOMEM, "link");
    l->p = *params;
    l->p.trace_path = NULL;
    if (l->p.mtu == 0)
        l->p.mtu = 1500;
    if (l->p.retransmit_ms < 0.0)
        l->p.retransmit_ms = l->p.rtt_ms;
    bf_rng_init(&l->rng, params->seed, 0x4c494e4b); /* "LINK" */
    if (strcmp(params->kind, "ideal") == 0) {
        l->ops = &ideal_ops;
    } else if (strcmp(params->kind, "fixed") == 0) {
        l->ops = &fixed_ops;
    } else if (!params->trace_path || !params->trace_path[0]) {
        rc = bf_err_set(BF_EINVAL, "link 'trace' needs a trace file");
    } else {
        rc = load_trace(l, params->trace_path);
    }
    if (rc) {
        bf_link_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

void bf_link_close(struct bf_link *link)
{
    if (!link)
        return;
    free(link->opps);
    free(link->row_t);
    free(link->row_rate);
    free(link);
}

const char *bf_link_kind(const struct bf_link *link)
{
    return link ? link->ops->name : "";
}

int bf_link_send(struct bf_link *l, int64_t t_ns, uint64_t bytes,
                 int64_t *sent_ns, int64_t *arrive_ns)
{
    int64_t start, sent = 0, arrive;
    double owd;
    int rc;

    if (!l || !sent_ns || !arrive_ns || bytes == 0)
        return bf_err_set(BF_EINVAL, "bf_link_send: NULL argument or 0 bytes");
    if (!l->started) {
        l->origin = t_ns;
        l->free_at = t_ns;
        l->last_arrive = t_ns;
        l->started = 1;
    }
    start = t_ns > l->free_at ? t_ns : l->free_at;
    rc = l->ops->send(l, start, bytes, &sent);
    if (rc)
        return rc;
    owd = l->ops == &ideal_ops ? 0.0 : l->p.rtt_ms * 0.5e6;
    if (l->ops == &fixed_ops && l->p.jitter_ms > 0.0) {
        owd += (2.0 * bf_rng_uniform(&l->rng) - 1.0) * l->p.jitter_ms * 1e6;
        if (owd < 0.0)
            owd = 0.0;
    }
    arrive = sent + (int64_t)llround(owd);
    if (arrive < l->last_arrive)
        arrive = l->last_arrive;
    l->free_at = sent;
    l->last_arrive = arrive;
    *sent_ns = sent;
    *arrive_ns = arrive;
    return 0;
}
