/*
 * bf_lease: keeps a process's case claims alive (bf_store_case_claim) while
 * it runs: a background thread with its own connection to the results DB
 * renews every claim of the owner every third of the lease. A process that
 * dies stops renewing, and its cases are taken over once the lease has run
 * out. The owner name identifies one process: "host:pid:start".
 */
#ifndef BF_LEASE_H
#define BF_LEASE_H

#include <stddef.h>

/* Seconds a claim lives without renewal. */
#define BF_LEASE_S 60.0
/* The lease of timed (inference) runs, which renew nothing: no thread may
 * write to the DB inside a timed window. A process that dies is found by
 * its pid on this host (bf_lease_reap); on another host its cases wait
 * out this lease. */
#define BF_LEASE_TIMED_S (6 * 3600.0)

struct bf_lease;

/* This process's owner name, "host:pid:start-ns", into out. */
void bf_lease_owner(char *out, size_t size);

/*
 * Start renewing owner's claims in db_path every lease_s / 3 seconds.
 * Caller owns *out; bf_lease_stop ends the thread and frees it.
 */
int bf_lease_start(const char *db_path, const char *owner, double lease_s,
                   struct bf_lease **out);
void bf_lease_stop(struct bf_lease *lease);

struct bf_store;

/*
 * End the claims of owners on this host whose process is gone (its pid no
 * longer exists), so that their cases are taken over now rather than when
 * their leases run out. Owners on other hosts are left to their leases.
 * *reaped (may be NULL) counts the owners ended.
 */
int bf_lease_reap(struct bf_store *store, int *reaped);

#endif /* BF_LEASE_H */
