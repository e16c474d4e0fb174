/*
 * bf_edge: the edge server. It listens on a TCP address and serves
 * endpoints (bf_split edge parts) by config id, the id a request carries.
 *
 * Threads: one acceptor and one thread per connection (at most
 * max_connections). When every slot is taken, the connection idle the
 * longest (waiting for a request to begin) is closed to admit the new
 * one, so that idle connections cannot lock working clients out; only
 * when every connection is busy is the new one answered BUSY and
 * closed. A connection
 * thread reads a request (bf_proto) and checks its config id; then it
 * needs one of `workers` slots to run the tail: at most `workers` tails
 * run at once (and one at a time per endpoint). While all slots are taken
 * up to `queue` requests wait for one, in arrival order of wake-up; when
 * `queue` already wait, the server answers BUSY at once instead of making
 * everyone wait. The thread that read a request runs its tail itself, so
 * nothing is handed between threads on the way; the reply carries the
 * server's queue wait (for a slot), decode and tail times.
 *
 * Faults. A malformed, oversized or truncated frame (the peer closed or
 * half-closed its side mid-frame) is answered BAD_REQUEST (another protocol
 * version BAD_VERSION) with the reason in the message, and its connection is
 * closed; a request whose payload does not fit its endpoint likewise. An
 * unknown config id is answered UNKNOWN_CONFIG and the connection stays open. A
 * connection idle for idle_timeout_ms, or whose frame does not complete within
 * io_timeout_ms of its first byte, is closed. No fault of one client stops the
 * others.
 *
 * Shutdown (bf_edge_stop): stop accepting, let every request already read
 * finish and be answered, close the connections, join every thread. A
 * frame still arriving gets min(io_timeout_ms, 1 s); then the reading
 * side of every socket left is shut down, so that the stop never waits on
 * a client (replies can still be sent).
 *
 * Ownership: bf_edge_open creates the listening socket (in the calling
 * thread's network namespace); endpoints added with bf_edge_add are owned
 * by the server from then on and closed by bf_edge_close.
 */
#ifndef BF_EDGE_H
#define BF_EDGE_H

#include "bf_proto.h"
#include "bf_split.h"

#include <stdint.h>

struct bf_edge_params {
    const char *host;              /* "127.0.0.1", "0.0.0.0" */
    int port;                      /* 0: any free port (bf_edge_port) */
    int workers;                   /* tail threads, >= 1 (0: 1) */
    int queue;                     /* requests that may wait, >= 0 */
    int max_connections;           /* 0: 64 */
    int64_t idle_timeout_ms;       /* 0: 60000 */
    int64_t io_timeout_ms;         /* 0: 10000 */
    struct bf_proto_limits limits; /* zero: bf_proto_default_limits() */
    /* An artificial wait before each tail, for tests and demonstrations
     * of queueing; 0 in every measurement. */
    int64_t test_delay_ms;
};

/* What the server did, counted since it opened. */
struct bf_edge_stats {
    uint64_t connections; /* accepted and served */
    uint64_t refused;     /* connections over max_connections */
    uint64_t ok;          /* requests answered OK */
    uint64_t busy;        /* requests answered BUSY (queue full) */
    uint64_t bad;         /* BAD_REQUEST / BAD_VERSION answers */
    uint64_t unknown;     /* UNKNOWN_CONFIG answers */
    uint64_t errors;      /* SERVER_ERROR answers */
    uint64_t timeouts;    /* connections closed for a timeout */
    uint64_t evicted;     /* idle connections closed to admit a new one */
};

struct bf_edge;

/* Listen (no threads yet). Caller owns *out, free with bf_edge_close. */
int bf_edge_open(const struct bf_edge_params *params, struct bf_edge **out);

/* The port listened on. */
int bf_edge_port(const struct bf_edge *edge);

/*
 * Serve split (its edge part) as config_id; the server owns split from
 * now on, also on failure. Only before bf_edge_start. BF_EINVAL for a
 * config id already served or a split that offloads nothing.
 */
int bf_edge_add(struct bf_edge *edge, uint32_t config_id,
                struct bf_split *split);

/* Start the acceptor and the workers. */
int bf_edge_start(struct bf_edge *edge);

/* Graceful shutdown as above; safe to call twice and from a signal-driven
 * loop (not from a signal handler). */
void bf_edge_stop(struct bf_edge *edge);

/* Stop if running, close the socket and every endpoint. Accepts NULL. */
void bf_edge_close(struct bf_edge *edge);

void bf_edge_get_stats(struct bf_edge *edge, struct bf_edge_stats *out);

#endif /* BF_EDGE_H */
