/*
 * bf_client: the mobile side's connection to the edge server: send a
 * request through the emulated uplink, wait for the reply, hold it for the
 * emulated downlink, and say where the time went.
 *
 * Timeline of one request (all on the client's CLOCK_MONOTONIC):
 *   t0  the request is offered to the uplink
 *   t1  the reply's last byte is read from the socket
 *   t2  the reply is delivered: t1 plus the downlink's schedule for the
 *       reply's bytes (one-way delay and serialisation) when a downlink is
 *       given, else t1
 * The server reports its queue wait, decode and tail times. Then
 *   transfer_ns = (t1 - t0) - queue - decode - tail: the uplink transfer
 *                 (pacing, propagation, TCP) plus the protocol's own
 *                 handling on both sides and the reply's loopback transit;
 *   reply_ns    = t2 - t1, the emulated downlink; -1 without a downlink
 *                 (tbf and direct modes, where the reply's real transit is
 *                 inside transfer_ns);
 *   rtt_ns      = t2 - t0.
 */
#ifndef BF_CLIENT_H
#define BF_CLIENT_H

#include "bf_link.h"
#include "bf_proto.h"

#include <stdint.h>

struct bf_client_params {
    const char *host;
    int port;
    const struct bf_link_params *uplink;   /* NULL: unshaped */
    const struct bf_link_params *downlink; /* NULL: replies not held */
    int64_t timeout_ms;                    /* per request; 0: 30000 */
};

struct bf_client_result {
    struct bf_proto_reply reply;
    int64_t transfer_ns;
    int64_t reply_ns; /* -1: no emulated downlink */
    int64_t rtt_ns;
    int64_t bytes_up;   /* header and payload */
    int64_t bytes_down; /* the reply as sent */
};

struct bf_client;

/* Connect. Caller owns *out, free with bf_client_close. */
int bf_client_open(const struct bf_client_params *params,
                   struct bf_client **out);

/* Accepts NULL. */
void bf_client_close(struct bf_client *client);

/*
 * One request and its reply (any status: the caller decides what BUSY or
 * an error status means). BF_EIO / BF_ETIMEOUT / BF_EPROTO for a broken
 * connection, a deadline passed or a malformed reply (the connection is
 * then unusable), BF_EPROTO also for a reply to another request id.
 */
int bf_client_request(struct bf_client *client,
                      const struct bf_proto_request *req, const void *payload,
                      struct bf_client_result *out);

#endif /* BF_CLIENT_H */
