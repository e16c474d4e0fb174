/*
 * bf_link: the emulated network link, as a schedule: for each message put
 * on the link, when its last byte leaves the sender (the pacing deadline)
 * and when it is fully delivered (the holding deadline). The network layer
 * applies the schedule to the real TCP stream; this module does no I/O
 * besides reading a trace file when it opens.
 *
 * Backends behind an ops table, by name:
 *
 *   ideal   no delay: sent = arrive = the time the message was offered.
 *   fixed   rate_mbps, rtt_ms (one-way delay rtt / 2), jitter_ms (the
 *           one-way delay of each message drawn uniformly from
 *           +-jitter, never below 0), loss (each MTU-sized packet lost
 *           with this probability; a lost packet costs retransmit_ms,
 *           default one RTT, and is sent again).
 *   trace   delivery opportunities from a file: Mahimahi format (one
 *           integer per line, a millisecond at which one MTU-sized packet
 *           may be delivered; the trace repeats after its last line), or
 *           "seconds, Mbit/s" rows (a piecewise-constant rate from each
 *           row's time on; the last rate holds). One-way delay rtt / 2.
 *
 * A link is FIFO: a message starts sending when the previous one has
 * left, and never arrives before the previous one. Everything random
 * derives from the seed, so a schedule is reproducible. Times are
 * nanoseconds on the caller's clock (any origin; trace time 0 is the first
 * message offered).
 */
#ifndef BF_LINK_H
#define BF_LINK_H

#include <stddef.h>
#include <stdint.h>

struct bf_link_params {
    const char *kind;       /* "ideal", "fixed" or "trace" */
    double rate_mbps;       /* fixed: > 0 */
    double rtt_ms;          /* fixed, trace: >= 0 */
    double jitter_ms;       /* fixed: >= 0 */
    double loss;            /* fixed: 0 <= loss < 1 */
    double retransmit_ms;   /* fixed: penalty per lost packet; < 0: rtt */
    const char *trace_path; /* trace */
    int mtu;                /* bytes per packet, 0: 1500 */
    uint64_t seed;
};

struct bf_link;

/*
 * Open a link. BF_EINVAL for an unknown kind (naming the known ones) or a
 * parameter out of range (naming it); for traces BF_ENOENT / BF_EIO for an
 * unreadable file and BF_EPARSE naming "file:line" for a malformed row, a
 * time going backwards, a negative rate or an empty trace.
 */
int bf_link_open(const struct bf_link_params *params, struct bf_link **out);

/* Accepts NULL. */
void bf_link_close(struct bf_link *link);

/* The kind's name ("fixed"), borrowed. */
const char *bf_link_kind(const struct bf_link *link);

/*
 * Schedule a message of bytes (> 0) offered at t_ns: *sent_ns receives
 * when its last byte leaves the sender, *arrive_ns when it has arrived.
 */
int bf_link_send(struct bf_link *link, int64_t t_ns, uint64_t bytes,
                 int64_t *sent_ns, int64_t *arrive_ns);

/* The ideal transfer time of bytes on a fixed link: bytes * 8 / rate plus
 * the one-way delay, in ns (the benchmark's reference). */
double bf_link_ideal_ns(double rate_mbps, double rtt_ms, uint64_t bytes);

#endif /* BF_LINK_H */
