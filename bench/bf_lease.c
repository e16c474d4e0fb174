/* bf_lease: renewing case claims from a background thread. */
#define _POSIX_C_SOURCE 200809L
#include "bf_lease.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bf_lease {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    struct bf_store *store;
    char owner[256];
    double lease_s;
};

void bf_lease_owner(char *out, size_t size)
{
    char host[128] = "host";

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "host");
    host[sizeof(host) - 1] = '\0';
    snprintf(out, size, "%s:%ld:%lld", host, (long)getpid(),
             (long long)bf_clock_now_ns());
}

static void *renew_loop(void *arg)
{
    struct bf_lease *l = arg;
    double period = l->lease_s / 3;

    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec until;
        int rc;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)period;
        until.tv_nsec += (long)((period - (double)(time_t)period) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        rc = pthread_cond_timedwait(&l->cv, &l->mu, &until);
        if (l->stop)
            break;
        if (rc != 0) {
            pthread_mutex_unlock(&l->mu);
            if (bf_store_claims_renew(l->store, l->owner, l->lease_s) != 0)
                bf_log_warn("claims: renewing the lease of %s failed: %s "
                            "(another process may take its cases over)",
                            l->owner, bf_last_error());
            pthread_mutex_lock(&l->mu);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

struct reap {
    struct bf_store *store;
    char host[128];
    int reaped;
};

static int reap_owner(const char *owner, void *ctx)
{
    struct reap *r = ctx;
    size_t hl = strlen(r->host);
    char *end;
    long pid;

    /* "host:pid:start" with this host's name. */
    if (strncmp(owner, r->host, hl) != 0 || owner[hl] != ':')
        return 0;
    pid = strtol(owner + hl + 1, &end, 10);
    if (end == owner + hl + 1 || *end != ':' || pid <= 0)
        return 0;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return 0;
    bf_log_info("claims: process %ld (%s) is gone; its cases are taken over",
                pid, owner);
    r->reaped++;
    return bf_store_claims_expire(r->store, owner);
}

int bf_lease_reap(struct bf_store *store, int *reaped)
{
    struct reap r = {.store = store};
    int rc;

    if (!store)
        return bf_err_set(BF_EINVAL, "bf_lease_reap: NULL");
    if (gethostname(r.host, sizeof(r.host)) != 0)
        snprintf(r.host, sizeof(r.host), "host");
    r.host[sizeof(r.host) - 1] = '\0';
    rc = bf_store_each_claim_owner(store, reap_owner, &r);
    if (reaped)
        *reaped = r.reaped;
    return rc;
}

int bf_lease_start(const char *db_path, const char *owner, double lease_s,
                   struct bf_lease **out)
{
    struct bf_lease *l;
    int rc;

    if (!db_path || !owner || !out || !(lease_s > 0))
        return bf_err_set(BF_EINVAL, "bf_lease_start: bad argument");
    *out = NULL;
    l = calloc(1, sizeof(*l));
    if (!l)
        return bf_err_set(BF_ENOMEM, "claim lease: out of memory");
    snprintf(l->owner, sizeof(l->owner), "%s", owner);
    l->lease_s = lease_s;
    rc = bf_store_open(db_path, &l->store);
    if (rc) {
        free(l);
        return rc;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, renew_loop, l) != 0) {
        bf_store_close(l->store);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return bf_err_set(BF_ENOMEM, "claim lease: cannot start a thread");
    }
    *out = l;
    return 0;
}

void bf_lease_stop(struct bf_lease *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    bf_store_close(l->store);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}
