/* bf_edge: the edge server (acceptor, connection threads, worker pool). */
#define _GNU_SOURCE
#include "bf_edge.h"

#include "bf_buf.h"
#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_net.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How often blocked threads look at the stop flag. */
#define POLL_SLICE_MS 50
/* How long bf_edge_stop lets connections finish a frame (at most the I/O
 * timeout) before it shuts their sockets: a client sending half a frame
 * cannot hold the shutdown for the I/O timeout. */
#define STOP_GRACE_MS 1000
/* How long the acceptor waits for an evicted idle connection to go. */
#define EVICT_WAIT_MS 500
#define ENDPOINTS_MAX 4096

struct endpoint {
    uint32_t config_id;
    struct bf_split *split;
    pthread_mutex_t lock; /* one request at a time per endpoint */
};

/* A request between its connection thread and a worker. */
struct job {
    struct endpoint *ep;
    const struct bf_proto_request *req;
    const uint8_t *payload;
    struct bf_proto_reply *reply;
    int64_t enqueued_ns;
    int rc;
    char error[BF_PROTO_MESSAGE_MAX + 1];
};

struct conn {
    struct bf_edge *edge;
    pthread_t thread;
    int fd;             /* -1 once closed (under the edge's lock) */
    int used;           /* slot taken */
    int finished;       /* thread returned; join it */
    int idle;           /* waiting for a request to begin */
    int64_t idle_since; /* since when (ns) */
    int evict;          /* the acceptor needs the slot: close when idle */
};

struct bf_edge {
    struct bf_edge_params p;
    int listen_fd;
    int port;
    struct endpoint *eps;
    size_t n_eps;

    pthread_mutex_t lock; /* slots, stats, stop flag, conns */
    pthread_cond_t done;  /* a slot was freed */
    int active;           /* requests waiting for a slot or being served */
    int running;          /* requests holding a slot */
    int stopping;         /* no new connections or requests */
    int started;
    int locks_ready; /* endpoint locks initialised */
    struct bf_edge_stats stats;

    pthread_t acceptor;
    struct conn *conns;
};

int bf_edge_open(const struct bf_edge_params *params, struct bf_edge **out)
{
    struct bf_edge *e;
    int rc;

    if (!params || !params->host || !out)
        return bf_err_set(BF_EINVAL, "bf_edge_open: NULL argument");
    if (params->workers < 0 || params->queue < 0 ||
        params->max_connections < 0 || params->idle_timeout_ms < 0 ||
        params->io_timeout_ms < 0)
        return bf_err_set(BF_EINVAL, "edge server: negative parameter");
    e = calloc(1, sizeof(*e));
    if (!e)
        return bf_err_set(BF_ENOMEM, "edge server");
    e->p = *params;
    if (!e->p.workers)
        e->p.workers = 1;
    if (!e->p.max_connections)
        e->p.max_connections = 64;
    if (!e->p.idle_timeout_ms)
        e->p.idle_timeout_ms = 60000;
    if (!e->p.io_timeout_ms)
        e->p.io_timeout_ms = 10000;
    if (!e->p.limits.max_payload)
        e->p.limits = bf_proto_default_limits();
    e->listen_fd = -1;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->done, NULL);
    e->conns = calloc((size_t)e->p.max_connections, sizeof(*e->conns));
    if (!e->conns) {
        bf_edge_close(e);
        return bf_err_set(BF_ENOMEM, "edge server threads");
    }
    rc = bf_net_listen(params->host, params->port, 64, &e->listen_fd, &e->port);
    if (rc) {
        bf_edge_close(e);
        return rc;
    }
    *out = e;
    return 0;
}

int bf_edge_port(const struct bf_edge *edge)
{
    return edge->port;
}

int bf_edge_add(struct bf_edge *e, uint32_t config_id, struct bf_split *split)
{
    struct bf_split_info info;
    struct endpoint *grown;

    if (!e || !split) {
        bf_split_close(split);
        return bf_err_set(BF_EINVAL, "bf_edge_add: NULL argument");
    }
    bf_split_get_info(split, &info);
    if (e->started || !info.offloads || e->n_eps >= ENDPOINTS_MAX) {
        bf_split_close(split);
        return bf_err_set(BF_EINVAL, "config %u: %s", config_id,
                          e->started       ? "the server is already running"
                          : !info.offloads ? "local sends nothing to serve"
                                           : "too many endpoints");
    }
    for (size_t i = 0; i < e->n_eps; i++)
        if (e->eps[i].config_id == config_id) {
            bf_split_close(split);
            return bf_err_set(BF_EINVAL, "config %u is already served",
                              config_id);
        }
    grown = realloc(e->eps, (e->n_eps + 1) * sizeof(*grown));
    if (!grown) {
        bf_split_close(split);
        return bf_err_set(BF_ENOMEM, "endpoint table");
    }
    e->eps = grown;
    e->eps[e->n_eps].config_id = config_id;
    e->eps[e->n_eps].split = split;
    e->n_eps++;
    return 0;
}

static struct endpoint *find_endpoint(struct bf_edge *e, uint32_t id)
{
    for (size_t i = 0; i < e->n_eps; i++)
        if (e->eps[i].config_id == id)
            return &e->eps[i];
    return NULL;
}

static void count(struct bf_edge *e, uint64_t *counter)
{
    pthread_mutex_lock(&e->lock);
    (*counter)++;
    pthread_mutex_unlock(&e->lock);
}

/* Send a reply without a result; best effort (the peer may be gone). */
static void reply_status(struct bf_edge *e, int fd, uint64_t request_id,
                         int status, const char *message)
{
    struct bf_proto_reply r = {.status = (uint8_t)status,
                               .request_id = request_id};

    snprintf(r.message, sizeof(r.message), "%s", message ? message : "");
    bf_net_send_reply(fd, &r,
                      bf_clock_now_ns() + e->p.io_timeout_ms * 1000000LL);
}

/*
 * Wait until the connection has a byte, the peer closed (0 bytes), the idle
 * time passed or the acceptor evicted it (the slot is needed). 1: a frame
 * begins, 0: close quietly, BF_ETIMEOUT: idle. The connection reads idle
 * meanwhile: only then may the acceptor evict it.
 */
static int wait_request(struct bf_edge *e, struct conn *cn)
{
    int64_t deadline = bf_clock_now_ns() + e->p.idle_timeout_ms * 1000000LL;
    int fd = cn->fd;

    pthread_mutex_lock(&e->lock);
    cn->idle = 1;
    cn->idle_since = bf_clock_now_ns();
    pthread_mutex_unlock(&e->lock);
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int n;
        char c;

        pthread_mutex_lock(&e->lock);
        n = e->stopping || cn->evict;
        pthread_mutex_unlock(&e->lock);
        if (n)
            return 0;
        if (bf_clock_now_ns() >= deadline)
            return BF_ETIMEOUT;
        n = poll(&pf, 1, POLL_SLICE_MS);
        if (n < 0 && errno != EINTR)
            return 0;
        if (n <= 0)
            continue;
        n = (int)recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 1) {
            /* Busy from here, unless evicted a moment before. */
            pthread_mutex_lock(&e->lock);
            n = !cn->evict;
            cn->idle = !n;
            pthread_mutex_unlock(&e->lock);
            return n;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        return 0; /* closed or reset between requests */
    }
}

/*
 * Run a request once one of the `workers` slots is free, waiting in the
 * bounded queue meanwhile. The connection thread runs the tail itself:
 * no hand-off between threads on the way. 1: served, 0: busy.
 */
static int serve(struct bf_edge *e, struct job *j)
{
    int64_t t0;

    pthread_mutex_lock(&e->lock);
    if (e->active >= e->p.queue + e->p.workers) {
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    j->enqueued_ns = bf_clock_now_ns();
    e->active++;
    while (e->running >= e->p.workers)
        pthread_cond_wait(&e->done, &e->lock);
    e->running++;
    pthread_mutex_unlock(&e->lock);

    if (e->p.test_delay_ms > 0)
        bf_clock_sleep_until_ns(bf_clock_now_ns() +
                                e->p.test_delay_ms * 1000000LL);
    pthread_mutex_lock(&j->ep->lock);
    t0 = bf_clock_now_ns();
    j->reply->queue_ns = (uint64_t)(t0 - j->enqueued_ns);
    j->rc = bf_split_edge(j->ep->split, j->req, j->payload, j->reply);
    if (j->rc)
        snprintf(j->error, sizeof(j->error), "%s", bf_last_error());
    pthread_mutex_unlock(&j->ep->lock);

    pthread_mutex_lock(&e->lock);
    e->running--;
    e->active--;
    pthread_cond_signal(&e->done);
    pthread_mutex_unlock(&e->lock);
    return 1;
}

/* One request on a connection. 0: keep the connection, else close it. */
static int handle_one(struct bf_edge *e, int fd, struct bf_buf *payload)
{
    struct bf_proto_request req;
    struct bf_proto_reply reply;
    struct job j = {0};
    int64_t deadline = bf_clock_now_ns() + e->p.io_timeout_ms * 1000000LL;
    int rc = bf_net_recv_request(fd, &e->p.limits, deadline, &req, payload);

    if (rc == BF_EPROTO || rc == BF_EVERSION) {
        count(e, &e->stats.bad);
        reply_status(e, fd, 0,
                     rc == BF_EVERSION ? BF_PROTO_BAD_VERSION
                                       : BF_PROTO_BAD_REQUEST,
                     bf_last_error());
        return rc;
    }
    if (rc == BF_ETIMEOUT) {
        count(e, &e->stats.timeouts);
        reply_status(e, fd, 0, BF_PROTO_BAD_REQUEST,
                     "timed out reading the frame");
        return rc;
    }
    if (rc == BF_EIO) {
        /* Truncated: the peer closed (or half-closed) mid-frame. It may
         * still read: say why (best effort). */
        char msg[BF_PROTO_MESSAGE_MAX + 1];

        snprintf(msg, sizeof(msg), "truncated frame: %s", bf_last_error());
        count(e, &e->stats.bad);
        reply_status(e, fd, 0, BF_PROTO_BAD_REQUEST, msg);
        return rc;
    }
    if (rc)
        return rc;
    j.ep = find_endpoint(e, req.config_id);
    if (!j.ep) {
        char msg[64];

        snprintf(msg, sizeof(msg), "config %u is not served", req.config_id);
        count(e, &e->stats.unknown);
        reply_status(e, fd, req.request_id, BF_PROTO_UNKNOWN_CONFIG, msg);
        return 0;
    }
    memset(&reply, 0, sizeof(reply));
    reply.request_id = req.request_id;
    j.req = &req;
    j.payload = (const uint8_t *)payload->data;
    j.reply = &reply;
    if (!serve(e, &j)) {
        count(e, &e->stats.busy);
        reply_status(e, fd, req.request_id, BF_PROTO_BUSY,
                     "queue full, try again");
        return 0;
    }
    if (j.rc == BF_EPROTO) {
        count(e, &e->stats.bad);
        reply_status(e, fd, req.request_id, BF_PROTO_BAD_REQUEST, j.error);
        return j.rc;
    }
    if (j.rc) {
        count(e, &e->stats.errors);
        reply_status(e, fd, req.request_id, BF_PROTO_SERVER_ERROR, j.error);
        return 0;
    }
    count(e, &e->stats.ok);
    return bf_net_send_reply(
        fd, &reply, bf_clock_now_ns() + e->p.io_timeout_ms * 1000000LL);
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct bf_edge *e = c->edge;
    struct bf_buf payload;

    bf_buf_init(&payload);
    for (;;) {
        int rc = wait_request(e, c);

        if (rc == BF_ETIMEOUT)
            count(e, &e->stats.timeouts);
        if (rc != 1 || handle_one(e, c->fd, &payload) != 0)
            break;
    }
    bf_buf_free(&payload);
    /* Closed under the lock: the acceptor and bf_edge_stop shut down fds
     * of live connections under it, never a number reused meanwhile. */
    pthread_mutex_lock(&e->lock);
    close(c->fd);
    c->fd = -1;
    c->finished = 1;
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* Join connection threads that finished; with all, wait for every one. */
static void reap(struct bf_edge *e, int all)
{
    for (int i = 0; i < e->p.max_connections; i++) {
        struct conn *c = &e->conns[i];
        int join;

        pthread_mutex_lock(&e->lock);
        join = c->used && (all || c->finished);
        pthread_mutex_unlock(&e->lock);
        if (!join)
            continue;
        pthread_join(c->thread, NULL);
        c->used = 0;
        c->finished = 0;
    }
}

/*
 * All slots taken: evict the connection idle the longest (waiting for a
 * request to begin), so that idle connections cannot lock working clients
 * out for the idle timeout. Returns its slot once free, or -1 when every
 * connection is busy (or the evicted one did not go in time).
 */
static int evict_idle(struct bf_edge *e)
{
    int64_t until = bf_clock_now_ns() + EVICT_WAIT_MS * 1000000LL;
    int slot = -1;

    pthread_mutex_lock(&e->lock);
    for (int i = 0; i < e->p.max_connections; i++) {
        const struct conn *c = &e->conns[i];

        if (c->used && !c->finished && c->idle && !c->evict &&
            (slot < 0 || c->idle_since < e->conns[slot].idle_since))
            slot = i;
    }
    if (slot >= 0) {
        e->conns[slot].evict = 1;
        if (e->conns[slot].fd >= 0)
            shutdown(e->conns[slot].fd, SHUT_RD);
        e->stats.evicted++;
    }
    pthread_mutex_unlock(&e->lock);
    if (slot < 0)
        return -1;
    for (;;) {
        int done;

        pthread_mutex_lock(&e->lock);
        done = e->conns[slot].finished;
        pthread_mutex_unlock(&e->lock);
        if (done)
            break;
        if (bf_clock_now_ns() >= until)
            return -1;
        bf_clock_sleep_until_ns(bf_clock_now_ns() + 2000000LL);
    }
    pthread_join(e->conns[slot].thread, NULL);
    e->conns[slot].used = 0;
    e->conns[slot].finished = 0;
    return slot;
}

static void *acceptor_main(void *arg)
{
    struct bf_edge *e = arg;

    for (;;) {
        int fd = -1, stopping, slot = -1;
        int rc;

        pthread_mutex_lock(&e->lock);
        stopping = e->stopping;
        pthread_mutex_unlock(&e->lock);
        if (stopping)
            return NULL;
        rc = bf_net_accept(e->listen_fd,
                           bf_clock_now_ns() + POLL_SLICE_MS * 1000000LL, &fd);
        reap(e, 0);
        if (rc)
            continue;
        for (int i = 0; i < e->p.max_connections && slot < 0; i++)
            if (!e->conns[i].used)
                slot = i;
        if (slot < 0)
            slot = evict_idle(e);
        if (slot < 0) {
            count(e, &e->stats.refused);
            reply_status(e, fd, 0, BF_PROTO_BUSY, "too many connections");
            close(fd);
            continue;
        }
        pthread_mutex_lock(&e->lock);
        e->conns[slot] = (struct conn){.edge = e, .fd = fd, .used = 1};
        pthread_mutex_unlock(&e->lock);
        if (pthread_create(&e->conns[slot].thread, NULL, conn_main,
                           &e->conns[slot]) != 0) {
            e->conns[slot].used = 0;
            reply_status(e, fd, 0, BF_PROTO_BUSY, "cannot start a thread");
            close(fd);
            continue;
        }
        count(e, &e->stats.connections);
    }
}

int bf_edge_start(struct bf_edge *e)
{
    if (!e || e->started || e->locks_ready)
        return bf_err_set(BF_EINVAL, "bf_edge_start: %s",
                          e ? "already started" : "NULL");
    /* Locks are set up here, once the table no longer moves. */
    for (size_t i = 0; i < e->n_eps; i++)
        pthread_mutex_init(&e->eps[i].lock, NULL);
    e->locks_ready = 1;
    if (pthread_create(&e->acceptor, NULL, acceptor_main, e) != 0) {
        e->started = 1;
        bf_edge_stop(e);
        return bf_err_set(BF_EIO, "cannot start the acceptor");
    }
    e->started = 2; /* the acceptor runs */
    return 0;
}

void bf_edge_stop(struct bf_edge *e)
{
    int started;

    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    started = e->started;
    e->stopping = 1;
    e->started = 0;
    pthread_mutex_unlock(&e->lock);
    if (!started)
        return;
    if (started == 2)
        pthread_join(e->acceptor, NULL);
    /* Idle connections go within a poll slice, requests in flight are
     * answered; a frame still arriving gets STOP_GRACE_MS (at most the
     * I/O timeout), then every socket left is shut down, so that the
     * stop never waits on a client. */
    {
        int grace = e->p.io_timeout_ms < STOP_GRACE_MS ? e->p.io_timeout_ms
                                                       : STOP_GRACE_MS;
        int64_t until = bf_clock_now_ns() + grace * 1000000LL;

        for (;;) {
            int left = 0;

            pthread_mutex_lock(&e->lock);
            for (int i = 0; i < e->p.max_connections; i++)
                left += e->conns[i].used && !e->conns[i].finished;
            if (left && bf_clock_now_ns() >= until)
                for (int i = 0; i < e->p.max_connections; i++)
                    if (e->conns[i].used && e->conns[i].fd >= 0)
                        shutdown(e->conns[i].fd, SHUT_RD);
            pthread_mutex_unlock(&e->lock);
            if (!left || bf_clock_now_ns() >= until)
                break;
            bf_clock_sleep_until_ns(bf_clock_now_ns() + 5000000LL);
        }
    }
    reap(e, 1); /* connections finish their requests in flight */
}

void bf_edge_close(struct bf_edge *e)
{
    if (!e)
        return;
    bf_edge_stop(e);
    if (e->listen_fd >= 0)
        close(e->listen_fd);
    for (size_t i = 0; i < e->n_eps; i++) {
        bf_split_close(e->eps[i].split);
        if (e->locks_ready)
            pthread_mutex_destroy(&e->eps[i].lock);
    }
    free(e->eps);
    free(e->conns);
    pthread_cond_destroy(&e->done);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void bf_edge_get_stats(struct bf_edge *e, struct bf_edge_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    pthread_mutex_unlock(&e->lock);
}
