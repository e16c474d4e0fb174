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

#endif /* BF_LEASE_H */
