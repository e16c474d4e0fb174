/*
 * bf_netns: the `tbf` link mode, real kernel shaping between two network
 * namespaces of this host.
 *
 * An instance is a pair of namespaces, "bfdev-<pid>-<n>" (the device) and
 * "bfedge-<pid>-<n>" (the edge server), joined by a veth pair that is
 * created directly inside them and never exists in the caller's
 * namespace. The device end is bfveth-dev with 10.213.x.1/30, the edge
 * end bfveth-edge with 10.213.x.2/30, where x is n modulo 256; the
 * addresses are private to the pair, so instances never clash (x only
 * makes them easy to tell apart). Loopback is up in both namespaces.
 *
 * Shaping is the kernel's token bucket filter: the uplink (device to
 * edge) is a root tbf qdisc on bfveth-dev at rate_mbps; the downlink is a
 * tbf on bfveth-edge at down_rate_mbps, or unshaped when that is 0.
 * Nothing adds delay or loss (netem is not assumed to exist); the link's
 * RTT is the veth's own, tens of microseconds. What it means in numbers:
 *
 *  - The rate counts Ethernet frames (1514 bytes for 1448 bytes of TCP
 *    payload with timestamps), so a bulk TCP transfer achieves about
 *    1448 / 1514 = 95.6 % of rate_mbps in payload.
 *  - The first burst_bytes of a message after an idle period leave at
 *    line rate; the rest follow at the rate.
 *  - Where the bucket cannot hold a 64 KB GSO packet (bursts under
 *    96 KiB, i.e. default rates under ~786 Mbit/s) the veth sends one MSS
 *    per packet, so that tbf never splits a packet and TCP sees no loss;
 *    sending frame by frame costs CPU, so on a small host the achieved
 *    rate may fall short at several hundred Mbit/s.
 *
 * Usage, all in one process: open an instance; bf_netns_enter(EDGE),
 * create the server's listening socket on the edge address,
 * bf_netns_leave; bf_netns_enter(DEVICE), create the client's socket and
 * connect, bf_netns_leave. A socket keeps the namespace it was created in
 * for its whole life, so both then work from any thread. enter/leave move
 * only the calling thread.
 *
 * The namespaces are made and removed with ip(8) and tc(8), run directly
 * (no shell) with stderr captured: a failing command's error detail names
 * the command line and what it printed. Everything needs root;
 * bf_netns_available says whether this host can do it and, if not, what
 * is missing, so that callers can skip visibly.
 *
 * A run killed before bf_netns_close leaves its namespaces behind; they
 * are named after their process, and bf_netns_reap_stale (called by every
 * bf_netns_open) deletes those whose process no longer exists.
 */
#ifndef BF_NETNS_H
#define BF_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* The two ends of the link. */
enum bf_netns_side {
    BF_NETNS_DEVICE = 0,
    BF_NETNS_EDGE = 1,
};

/* The smallest burst or limit accepted: one full-sized Ethernet frame
 * (1514 bytes on the wire for a 1500-byte MTU) with some margin. A
 * bucket smaller than a frame would drop every full-sized packet. */
#define BF_NETNS_MIN_BYTES 1600u

struct bf_netns_params {
    double rate_mbps;      /* uplink device -> edge: 0.001 .. 100000 */
    double down_rate_mbps; /* downlink edge -> device: 0 unshaped, or as
                              rate_mbps */
    uint32_t burst_bytes;  /* 0: per direction max(1 ms at the rate, two
                              full frames); else >= BF_NETNS_MIN_BYTES,
                              holding a full frame once rounded to whole
                              microseconds at each shaped rate, and at
                              most 200 s long */
    uint32_t limit_bytes;  /* queue; 0: per direction burst + 50 ms at the
                              rate; else >= BF_NETNS_MIN_BYTES */
};

/* The effective shaping of one direction, defaults resolved. */
struct bf_netns_shaping {
    double rate_mbps;      /* 0: unshaped (then all else 0) */
    uint32_t burst_bytes;  /* as given to tc */
    uint32_t bucket_bytes; /* what the bucket holds once tc rounds the
                              burst down to whole microseconds */
    uint32_t limit_bytes;
    int gso_off; /* 1: the veth sends one MSS per packet (gso_max_segs 1) */
};

struct bf_netns;

/* Availability */

/*
 * 0 when this host can open instances: running as root, ip and tc found
 * (in /usr/sbin, /sbin, /usr/bin, /bin or PATH) and a probe works (a
 * scratch namespace holding a veth pair with a tbf qdisc, deleted again;
 * a few tens of milliseconds). Otherwise BF_EUNSUPPORTED with why (and
 * the error detail) saying what is missing: "not root (euid 1000)", "tc
 * not found in /usr/sbin, /sbin, /usr/bin, /bin or PATH", "tbf qdisc
 * unavailable: ...". why may be NULL when why_size is 0.
 */
int bf_netns_available(char *why, size_t why_size);

/* Lifetime */

/*
 * Create an instance as described above. BF_EINVAL for a NULL argument or
 * a parameter out of range (naming it); BF_EUNSUPPORTED when not root or
 * ip / tc are missing; BF_EIO naming the command and its stderr when a
 * step fails, BF_ETIMEOUT when one hangs (10 s). On failure everything
 * created is deleted and *out is NULL. On success the caller owns *out;
 * free it with bf_netns_close.
 */
int bf_netns_open(const struct bf_netns_params *p, struct bf_netns **out);

/*
 * Delete both namespaces (which deletes the veth pair and its qdiscs) and
 * free ns. Accepts NULL. Sockets still open in a namespace keep it alive,
 * unnamed, until they are closed.
 */
void bf_netns_close(struct bf_netns *ns);

/*
 * Delete the namespaces "bfdev-<pid>-<n>", "bfedge-<pid>-<n>" and
 * "bfprobe-<pid>-<n>" whose process no longer exists (left by a killed
 * run). *removed (may be NULL) receives how many were deleted. BF_EIO
 * naming the first that could not be deleted (the others are still
 * tried); BF_EUNSUPPORTED when ip is missing. Needs root.
 */
int bf_netns_reap_stale(int *removed);

/* Entering a side */

/*
 * Move the calling thread into the namespace of side (BF_NETNS_DEVICE or
 * BF_NETNS_EDGE), saving a descriptor of its current namespace in
 * *saved_fd for bf_netns_leave. BF_EINVAL for a bad side, BF_EIO when a
 * namespace cannot be opened or entered (the thread then has not moved).
 */
int bf_netns_enter(const struct bf_netns *ns, int side, int *saved_fd);

/*
 * Move the calling thread back into the namespace saved by
 * bf_netns_enter and close saved_fd (closed even when returning fails,
 * which is BF_EIO).
 */
int bf_netns_leave(int saved_fd);

/* Accessors; strings borrowed until bf_netns_close, NULL for a bad side */

/* The IPv4 address of side ("10.213.7.1"). */
const char *bf_netns_address(const struct bf_netns *ns, int side);

/* The namespace name of side ("bfdev-4242-7"), as in /var/run/netns. */
const char *bf_netns_name(const struct bf_netns *ns, int side);

/*
 * The shaping of the direction leaving side: BF_NETNS_DEVICE the uplink,
 * BF_NETNS_EDGE the downlink (rate 0 when unshaped). A bad side gives
 * all zeros.
 */
void bf_netns_shaping(const struct bf_netns *ns, int side,
                      struct bf_netns_shaping *out);

#endif /* BF_NETNS_H */
