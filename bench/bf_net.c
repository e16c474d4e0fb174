/* bf_net: sockets with deadlines, link-shaped writes, the link benchmark. */
#define _GNU_SOURCE
#include "bf_net.h"

#include "bf_clock.h"
#include "bf_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline_ns, const char *what)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int timeout = -1, n;

        if (deadline_ns) {
            int64_t left = deadline_ns - bf_clock_now_ns();

            if (left <= 0)
                return bf_err_set(BF_ETIMEOUT, "%s: deadline passed", what);
            timeout = (int)((left + 999999) / 1000000);
        }
        n = poll(&p, 1, timeout);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return bf_err_set(BF_EIO, "%s: poll: %s", what, strerror(errno));
    }
}

static int set_socket_options(int fd)
{
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        return bf_err_set(BF_EIO, "TCP_NODELAY: %s", strerror(errno));
    return 0;
}

static int make_addr(const char *host, int port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (port < 0 || port > 65535 ||
        inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return bf_err_set(BF_EINVAL,
                          "address %s:%d is not an IPv4 address "
                          "and port",
                          host, port);
    return 0;
}

int bf_net_listen(const char *host, int port, int backlog, int *fd,
                  int *bound_port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int one = 1, s, rc;

    if (!host || !fd)
        return bf_err_set(BF_EINVAL, "bf_net_listen: NULL argument");
    rc = make_addr(host, port, &sa);
    if (rc)
        return rc;
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return bf_err_set(BF_EIO, "socket: %s", strerror(errno));
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(s, backlog) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &len) != 0) {
        rc = bf_err_set(BF_EIO, "listen on %s:%d: %s", host, port,
                        strerror(errno));
        close(s);
        return rc;
    }
    if (bound_port)
        *bound_port = ntohs(sa.sin_port);
    *fd = s;
    return 0;
}

int bf_net_accept(int listen_fd, int64_t deadline_ns, int *fd)
{
    int rc = wait_fd(listen_fd, POLLIN, deadline_ns, "accept");
    int s;

    if (rc)
        return rc;
    s = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0)
        return bf_err_set(BF_EIO, "accept: %s", strerror(errno));
    rc = set_socket_options(s);
    if (rc) {
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

int bf_net_connect(const char *host, int port, int64_t deadline_ns, int *fd)
{
    struct sockaddr_in sa;
    int s, rc, err = 0;
    socklen_t len = sizeof(err);

    if (!host || !fd)
        return bf_err_set(BF_EINVAL, "bf_net_connect: NULL argument");
    rc = make_addr(host, port, &sa);
    if (rc)
        return rc;
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return bf_err_set(BF_EIO, "socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
        errno != EINPROGRESS) {
        rc = bf_err_set(BF_EIO, "connect to %s:%d: %s", host, port,
                        strerror(errno));
        goto fail;
    }
    rc = wait_fd(s, POLLOUT, deadline_ns, "connect");
    if (rc)
        goto fail;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
        rc = bf_err_set(BF_EIO, "connect to %s:%d: %s", host, port,
                        strerror(err ? err : errno));
        goto fail;
    }
    /* Blocking from here on; reads and writes poll for their deadlines. */
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
    rc = set_socket_options(s);
    if (rc)
        goto fail;
    *fd = s;
    return 0;
fail:
    close(s);
    return rc;
}

int bf_net_read_full(int fd, void *buf, size_t len, int64_t deadline_ns)
{
    size_t got = 0;

    /* Try first, wait only when nothing is there: a poll per read would
     * add a system call to every frame. */
    while (got < len) {
        ssize_t n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
        int rc;

        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0)
            return bf_err_set(BF_EIO,
                              "read: peer closed after %zu of %zu "
                              "bytes",
                              got, len);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return bf_err_set(BF_EIO, "read: %s", strerror(errno));
        rc = wait_fd(fd, POLLIN, deadline_ns, "read");
        if (rc)
            return bf_err_set(rc,
                              "read: %zu of %zu bytes before the "
                              "deadline",
                              got, len);
    }
    return 0;
}

/* Write a then b (b may be empty) with as few system calls as the socket
 * allows. */
static int write_two(int fd, const void *a, size_t alen, const void *b,
                     size_t blen, int64_t deadline_ns)
{
    size_t total = alen + blen, put = 0;

    while (put < total) {
        struct iovec iov[2];
        struct msghdr mh = {.msg_iov = iov};
        ssize_t n;
        int rc;

        if (put < alen) {
            iov[0] = (struct iovec){(char *)a + put, alen - put};
            iov[1] = (struct iovec){(void *)b, blen};
            mh.msg_iovlen = blen ? 2 : 1;
        } else {
            iov[0] = (struct iovec){(char *)b + (put - alen), total - put};
            mh.msg_iovlen = 1;
        }
        n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            put += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return bf_err_set(BF_EIO, "write: %s", strerror(errno));
        rc = wait_fd(fd, POLLOUT, deadline_ns, "write");
        if (rc)
            return bf_err_set(rc, "write: %zu of %zu bytes before the deadline",
                              put, total);
    }
    return 0;
}

int bf_net_write_full(int fd, const void *buf, size_t len, int64_t deadline_ns)
{
    return write_two(fd, buf, len, NULL, 0, deadline_ns);
}

int bf_net_write_shaped(int fd, struct bf_link *link, const void *buf,
                        size_t len, int64_t deadline_ns, int64_t *offered_ns,
                        int64_t *sent_ns, int64_t *arrive_ns)
{
    int64_t now = bf_clock_now_ns(), sent = now, arrive = now, first;
    size_t chunk, put = 0;
    int rc;

    if (offered_ns)
        *offered_ns = now;
    if (!link || len == 0) {
        rc = bf_net_write_full(fd, buf, len, deadline_ns);
        sent = arrive = bf_clock_now_ns();
        goto out;
    }
    rc = bf_link_send(link, now, len, &sent, &arrive);
    if (rc)
        return rc;
    /* The first byte can arrive one chunk's share after the offer plus the
     * one-way delay: spread the chunks over [first, arrive]. */
    chunk = len < 1024 ? len : 1024;
    first = arrive - (sent - now);
    while (rc == 0 && put < len) {
        size_t n = len - put < chunk ? len - put : chunk;
        int64_t release =
            first + (int64_t)llround((double)(arrive - first) *
                                     (double)(put + n) / (double)len);

        bf_clock_sleep_until_ns(release);
        rc = bf_net_write_full(fd, (const char *)buf + put, n, deadline_ns);
        put += n;
    }
out:
    if (rc == 0) {
        if (sent_ns)
            *sent_ns = sent;
        if (arrive_ns)
            *arrive_ns = arrive;
    }
    return rc;
}

int bf_net_send_request(int fd, struct bf_link *link,
                        const struct bf_proto_request *r, const void *payload,
                        int64_t deadline_ns, int64_t *offered_ns,
                        int64_t *arrive_ns)
{
    uint8_t hdr[BF_PROTO_HEADER_SIZE];
    struct bf_buf msg;
    int rc;

    if (!r || (!payload && r->payload_len))
        return bf_err_set(BF_EINVAL, "bf_net_send_request: NULL argument");
    rc = bf_proto_request_emit(r, NULL, hdr);
    if (rc)
        return rc;
    if (!link) {
        /* Unshaped: header and payload in one sendmsg, no copy. */
        int64_t t = bf_clock_now_ns();

        rc = write_two(fd, hdr, sizeof(hdr), payload, r->payload_len,
                       deadline_ns);
        if (rc == 0 && offered_ns)
            *offered_ns = t;
        if (rc == 0 && arrive_ns)
            *arrive_ns = t;
        return rc;
    }
    bf_buf_init(&msg);
    rc = bf_buf_append(&msg, hdr, sizeof(hdr));
    if (rc == 0)
        rc = bf_buf_append(&msg, payload, r->payload_len);
    if (rc == 0)
        rc = bf_net_write_shaped(fd, link, msg.data, msg.len, deadline_ns,
                                 offered_ns, NULL, arrive_ns);
    bf_buf_free(&msg);
    return rc;
}

int bf_net_recv_request(int fd, const struct bf_proto_limits *limits,
                        int64_t deadline_ns, struct bf_proto_request *r,
                        struct bf_buf *payload)
{
    uint8_t hdr[BF_PROTO_HEADER_SIZE];
    struct bf_proto_request req;
    int rc;

    if (!r || !payload)
        return bf_err_set(BF_EINVAL, "bf_net_recv_request: NULL argument");
    rc = bf_net_read_full(fd, hdr, sizeof(hdr), deadline_ns);
    if (rc == 0)
        rc = bf_proto_request_parse(hdr, sizeof(hdr), limits, &req);
    if (rc)
        return rc;
    bf_buf_reset(payload);
    if (req.payload_len) {
        char *space = NULL;

        rc = bf_buf_extend(payload, req.payload_len, &space);
        if (rc == 0)
            rc = bf_net_read_full(fd, space, req.payload_len, deadline_ns);
    }
    if (rc == 0)
        *r = req;
    return rc;
}

int bf_net_send_reply(int fd, const struct bf_proto_reply *r,
                      int64_t deadline_ns)
{
    uint8_t buf[BF_PROTO_HEADER_SIZE + BF_PROTO_TOPK_MAX * 8 +
                BF_PROTO_MESSAGE_MAX];
    size_t n = 0;
    int rc = bf_proto_reply_emit(r, buf, sizeof(buf), &n);

    if (rc == 0)
        rc = bf_net_write_full(fd, buf, n, deadline_ns);
    return rc;
}

int bf_net_recv_reply(int fd, int64_t deadline_ns, struct bf_proto_reply *r)
{
    uint8_t buf[BF_PROTO_HEADER_SIZE + BF_PROTO_TOPK_MAX * 8 +
                BF_PROTO_MESSAGE_MAX];
    size_t body = 0;
    int rc;

    if (!r)
        return bf_err_set(BF_EINVAL, "bf_net_recv_reply: NULL argument");
    rc = bf_net_read_full(fd, buf, BF_PROTO_HEADER_SIZE, deadline_ns);
    if (rc == 0)
        rc = bf_proto_reply_parse_header(buf, BF_PROTO_HEADER_SIZE, r, &body);
    if (rc == 0 && body)
        rc =
            bf_net_read_full(fd, buf + BF_PROTO_HEADER_SIZE, body, deadline_ns);
    if (rc == 0)
        rc = bf_proto_reply_parse_body(buf + BF_PROTO_HEADER_SIZE, body, r);
    return rc;
}

/* The benchmark's receiver: reads messages of known size, stamping the
 * arrival of each one's last byte. */
struct receiver {
    int fd;
    size_t size;
    int count;
    int64_t *done_ns; /* atomic: the sender waits on them */
    int rc;
    int failed; /* atomic */
    char err[256];
};

static void *receive_all(void *arg)
{
    struct receiver *r = arg;
    char *buf = malloc(r->size);

    r->rc = buf ? 0 : BF_ENOMEM;
    for (int i = 0; r->rc == 0 && i < r->count; i++) {
        r->rc = bf_net_read_full(r->fd, buf, r->size,
                                 bf_clock_now_ns() + 120000000000LL);
        if (r->rc == 0)
            __atomic_store_n(&r->done_ns[i], bf_clock_now_ns(),
                             __ATOMIC_RELEASE);
    }
    if (r->rc)
        snprintf(r->err, sizeof(r->err), "%s", bf_last_error());
    __atomic_store_n(&r->failed, r->rc != 0, __ATOMIC_RELEASE);
    free(buf);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One (rate, size) cell: repeats messages, a fresh link each time so
 * that every message starts on an idle link. */
static int bench_cell(int cfd, int sfd, double rate, uint64_t bytes,
                      double rtt_ms, int repeats, struct bf_netbench_row *row)
{
    struct receiver r = {.fd = sfd, .size = (size_t)bytes, .count = repeats};
    int64_t *offered = calloc((size_t)repeats, sizeof(*offered));
    double *ms = calloc((size_t)repeats, sizeof(*ms));
    char *buf = calloc(1, (size_t)bytes);
    pthread_t th;
    int rc = 0;

    r.done_ns = calloc((size_t)repeats, sizeof(*r.done_ns));
    if (!offered || !ms || !buf || !r.done_ns) {
        rc = bf_err_set(BF_ENOMEM, "link benchmark buffers");
        goto out;
    }
    if (pthread_create(&th, NULL, receive_all, &r) != 0) {
        rc = bf_err_set(BF_EIO, "link benchmark: no receiver thread");
        goto out;
    }
    for (int i = 0; rc == 0 && i < repeats; i++) {
        struct bf_link_params lp = {.kind = "fixed",
                                    .rate_mbps = rate,
                                    .rtt_ms = rtt_ms,
                                    .seed = (uint64_t)i};
        struct bf_link *link = NULL;

        rc = bf_link_open(&lp, &link);
        if (rc == 0)
            rc = bf_net_write_shaped(cfd, link, buf, (size_t)bytes, 0,
                                     &offered[i], NULL, NULL);
        bf_link_close(link);
        /* Let the receiver finish this message before the next offer. */
        while (rc == 0 && !__atomic_load_n(&r.failed, __ATOMIC_ACQUIRE) &&
               !__atomic_load_n(&r.done_ns[i], __ATOMIC_ACQUIRE))
            bf_clock_sleep_until_ns(bf_clock_now_ns() + 200000);
    }
    if (rc)
        shutdown(sfd, SHUT_RDWR); /* wake the receiver */
    pthread_join(th, NULL);
    if (rc == 0 && r.rc)
        rc = bf_err_set(r.rc, "link benchmark receiver: %s", r.err);
    if (rc == 0) {
        for (int i = 0; i < repeats; i++)
            ms[i] = (double)(r.done_ns[i] - offered[i]) / 1e6;
        qsort(ms, (size_t)repeats, sizeof(*ms), cmp_double);
        row->rate_mbps = rate;
        row->bytes = bytes;
        row->ideal_ms = bf_link_ideal_ns(rate, rtt_ms, bytes) / 1e6;
        row->measured_ms = ms[repeats / 2];
        row->error_ms = row->measured_ms - row->ideal_ms;
        row->within = fabs(row->error_ms) <= fmax(0.02 * row->ideal_ms, 1.0);
    }
out:
    free(offered);
    free(ms);
    free(buf);
    free(r.done_ns);
    return rc;
}

int bf_netbench_run(const double *rates_mbps, size_t n_rates,
                    const uint64_t *sizes, size_t n_sizes, double rtt_ms,
                    int repeats, struct bf_netbench_row *rows)
{
    int lfd = -1, cfd = -1, sfd = -1, port = 0;
    int rc;

    if (!rates_mbps || !sizes || !rows || repeats < 1)
        return bf_err_set(BF_EINVAL, "bf_netbench_run: bad arguments");
    rc = bf_net_listen("127.0.0.1", 0, 1, &lfd, &port);
    if (rc == 0)
        rc = bf_net_connect("127.0.0.1", port, bf_clock_now_ns() + 5000000000LL,
                            &cfd);
    if (rc == 0)
        rc = bf_net_accept(lfd, bf_clock_now_ns() + 5000000000LL, &sfd);
    for (size_t i = 0; rc == 0 && i < n_rates; i++)
        for (size_t j = 0; rc == 0 && j < n_sizes; j++)
            rc = bench_cell(cfd, sfd, rates_mbps[i], sizes[j], rtt_ms, repeats,
                            &rows[i * n_sizes + j]);
    if (lfd >= 0)
        close(lfd);
    if (cfd >= 0)
        close(cfd);
    if (sfd >= 0)
        close(sfd);
    return rc;
}
