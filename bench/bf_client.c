/* bf_client: requests to the edge server through the emulated link. */
#define _POSIX_C_SOURCE 200809L
#include "bf_client.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_net.h"

#include <stdlib.h>
#include <unistd.h>

struct bf_client {
    int fd;
    int64_t timeout_ns;
    struct bf_link *up;   /* NULL: unshaped */
    struct bf_link *down; /* NULL: replies not held */
};

int bf_client_open(const struct bf_client_params *p, struct bf_client **out)
{
    struct bf_client *c;
    int rc;

    if (!p || !p->host || !out)
        return bf_err_set(BF_EINVAL, "bf_client_open: NULL argument");
    c = calloc(1, sizeof(*c));
    if (!c)
        return bf_err_set(BF_ENOMEM, "client");
    c->fd = -1;
    c->timeout_ns = (p->timeout_ms > 0 ? p->timeout_ms : 30000) * 1000000LL;
    rc = p->uplink ? bf_link_open(p->uplink, &c->up) : 0;
    if (rc == 0 && p->downlink)
        rc = bf_link_open(p->downlink, &c->down);
    if (rc == 0)
        rc = bf_net_connect(p->host, p->port, bf_clock_now_ns() + c->timeout_ns,
                            &c->fd);
    if (rc) {
        bf_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void bf_client_close(struct bf_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    bf_link_close(c->up);
    bf_link_close(c->down);
    free(c);
}

int bf_client_request(struct bf_client *c, const struct bf_proto_request *req,
                      const void *payload, struct bf_client_result *out)
{
    int64_t t0 = 0, t1, t2, deadline = bf_clock_now_ns() + c->timeout_ns;
    struct bf_client_result r = {.reply_ns = -1};
    int rc;

    rc = bf_net_send_request(c->fd, c->up, req, payload, deadline, &t0, NULL);
    if (rc)
        return rc;
    rc = bf_net_recv_reply(c->fd, deadline, &r.reply);
    if (rc)
        return rc;
    t1 = bf_clock_now_ns();
    if (r.reply.request_id != req->request_id &&
        r.reply.status != BF_PROTO_BAD_REQUEST &&
        r.reply.status != BF_PROTO_BAD_VERSION)
        return bf_err_set(BF_EPROTO, "reply to request %llu, sent %llu",
                          (unsigned long long)r.reply.request_id,
                          (unsigned long long)req->request_id);
    r.bytes_up = BF_PROTO_HEADER_SIZE + (int64_t)req->payload_len;
    r.bytes_down = (int64_t)bf_proto_reply_size(&r.reply);
    t2 = t1;
    if (c->down) {
        int64_t sent;

        rc = bf_link_send(c->down, t1, (uint64_t)r.bytes_down, &sent, &t2);
        if (rc)
            return rc;
        bf_clock_sleep_until_ns(t2);
        r.reply_ns = t2 - t1;
    }
    r.transfer_ns = (t1 - t0) - (int64_t)(r.reply.queue_ns + r.reply.decode_ns +
                                          r.reply.tail_ns);
    r.rtt_ns = t2 - t0;
    *out = r;
    return 0;
}
