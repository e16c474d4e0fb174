/*
 * bf_net: TCP plumbing with deadlines, and writes shaped by an emulated
 * link (bf_link) applied to the real byte stream.
 *
 * Shaping in user space: a message offered at time t gets its schedule
 * from bf_link_send (last byte leaves the sender at `sent`, is delivered
 * at `arrive`). The writer releases the message in chunks: the first at
 * t' + d and the last at arrive, where t' is when the link could start it
 * and d the one-way delay, with chunks in between in proportion to their
 * bytes. The receiver thus sees bytes trickle in at the emulated rate,
 * shifted by the propagation delay, as on a real link; the link's own
 * delay (loopback) adds tens of microseconds. Sockets get TCP_NODELAY.
 *
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds (bf_clock_now_ns);
 * 0 means none. A deadline passing is BF_ETIMEOUT, the peer closing
 * mid-message BF_EIO naming how many bytes arrived.
 */
#ifndef BF_NET_H
#define BF_NET_H

#include "bf_buf.h"
#include "bf_link.h"
#include "bf_proto.h"

#include <stddef.h>
#include <stdint.h>

/* Listen on host:port ("127.0.0.1:0" picks a free port, returned in
 * *port). */
int bf_net_listen(const char *host, int port, int backlog, int *fd,
                  int *bound_port);

/* Accept one connection before the deadline. */
int bf_net_accept(int listen_fd, int64_t deadline_ns, int *fd);

/* Connect to host:port before the deadline. */
int bf_net_connect(const char *host, int port, int64_t deadline_ns, int *fd);

/* Read exactly len bytes. */
int bf_net_read_full(int fd, void *buf, size_t len, int64_t deadline_ns);

/* Write exactly len bytes. */
int bf_net_write_full(int fd, const void *buf, size_t len, int64_t deadline_ns);

/*
 * Write len bytes through link (NULL: unshaped, as fast as the socket
 * takes them). *offered_ns, *sent_ns, *arrive_ns (each may be NULL)
 * receive the offer time and the link's schedule.
 */
int bf_net_write_shaped(int fd, struct bf_link *link, const void *buf,
                        size_t len, int64_t deadline_ns, int64_t *offered_ns,
                        int64_t *sent_ns, int64_t *arrive_ns);

/* Frames (bf_proto) over a connection */

/*
 * Send a request: its header and payload as one message through link
 * (NULL: unshaped). *offered_ns / *arrive_ns (may be NULL) receive the
 * offer time and the scheduled arrival of the last byte.
 */
int bf_net_send_request(int fd, struct bf_link *link,
                        const struct bf_proto_request *r, const void *payload,
                        int64_t deadline_ns, int64_t *offered_ns,
                        int64_t *arrive_ns);

/*
 * Receive a request: header (checked against limits, NULL: defaults) into
 * *r and its payload into payload (reset first). A bad header is
 * BF_EPROTO / BF_EVERSION with nothing read past the header.
 */
int bf_net_recv_request(int fd, const struct bf_proto_limits *limits,
                        int64_t deadline_ns, struct bf_proto_request *r,
                        struct bf_buf *payload);

/* Send a reply, unshaped (replies are small; the client's link shapes
 * the uplink). */
int bf_net_send_reply(int fd, const struct bf_proto_reply *r,
                      int64_t deadline_ns);

/* Receive a reply into *r. */
int bf_net_recv_reply(int fd, int64_t deadline_ns, struct bf_proto_reply *r);

/* One row of the link benchmark. */
struct bf_netbench_row {
    double rate_mbps;
    uint64_t bytes;
    double ideal_ms;    /* bytes * 8 / rate + rtt / 2 */
    double measured_ms; /* offer to the receiver's last byte, median */
    double error_ms;    /* measured - ideal */
    int within;         /* |error| <= max(2 % of ideal, 1 ms) */
};

/*
 * The link benchmark: for each rate and size, `repeats` messages through
 * a fixed link (rate, rtt_ms) over a loopback TCP connection to a receiver
 * thread, timed from the offer to the arrival of the last byte. rows must
 * hold n_rates * n_sizes entries (rate-major).
 */
int bf_netbench_run(const double *rates_mbps, size_t n_rates,
                    const uint64_t *sizes, size_t n_sizes, double rtt_ms,
                    int repeats, struct bf_netbench_row *rows);

#endif /* BF_NET_H */
