/* bf_offload: split-configuration inference cases over a network. */
#define _GNU_SOURCE
#include "bf_offload.h"

#include "bf_devmodel.h"

#include "bf_buf.h"
#include "bf_client.h"
#include "bf_clock.h"
#include "bf_edge.h"
#include "bf_dataset.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_link.h"
#include "bf_log.h"
#include "bf_netns.h"
#include "bf_split.h"
#include "bf_stats.h"
#include "bf_torch.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct synthetic images a case cycles through. */
#define N_SYNTHETIC 16
/* A BUSY reply is retried after this long, at most this many times. */
#define BUSY_BACKOFF_NS 1000000LL
#define BUSY_RETRIES_MAX 10000
#define PROGRESS_EVERY_NS 250000000LL

/* Stages of a sample, in bf_sample_row order after e2e. */
enum metric {
    M_E2E,
    M_HEAD,
    M_ENCODE,
    M_TRANSFER,
    M_QUEUE,
    M_DECODE,
    M_TAIL,
    M_REPLY,
    M_BYTES_UP,
    M_BUSY,
    M_COUNT
};

static const struct {
    const char *name, *unit;
    double scale; /* raw value -> unit */
} metrics[M_COUNT] = {
    [M_E2E] = {"e2e", "ms", 1e-6},
    [M_HEAD] = {"head", "ms", 1e-6},
    [M_ENCODE] = {"encode", "ms", 1e-6},
    [M_TRANSFER] = {"transfer", "ms", 1e-6},
    [M_QUEUE] = {"server_queue", "ms", 1e-6},
    [M_DECODE] = {"server_decode", "ms", 1e-6},
    [M_TAIL] = {"tail", "ms", 1e-6},
    [M_REPLY] = {"reply", "ms", 1e-6},
    [M_BYTES_UP] = {"bytes_up", "bytes", 1},
    [M_BUSY] = {"busy_retries", "requests", 1},
};

/* Everything a case holds. */
struct net_case {
    const struct bf_runner_params *p;
    const struct bf_case *c;
    struct bf_split_params sp;
    struct bf_split *dev;
    struct bf_split_info info;
    struct bf_edge *edge;
    struct bf_netns *ns;
    struct bf_link_params up, down;
    int shaped; /* user-space link in force */
    const char *host;
    char host_buf[64];
    int port;
    uint32_t config_id;
    struct bf_client *client;
    uint8_t *images;
    size_t image_bytes;
    size_t n_images;
    int64_t *labels; /* NULL for synthetic inputs */
    char dataset_hash[BF_HASH_HEX_SIZE];
    /* Answers of timed requests against the labels. */
    int64_t answered, correct1, correct5, payload_bytes;
    struct bf_proto_request req;
    struct bf_buf payload;
    struct bf_proto_request bg_req; /* what background devices send */
    struct bf_buf bg_payload;
    char link_desc[1200];
    char weights_hash[BF_HASH_HEX_SIZE];
    struct bf_runner_power power; /* the probe over the timed loop */
    /* samples */
    struct bf_sample_row *rows;
    int64_t *busy;
    size_t n, cap;
    /* background clients */
    pthread_t *bg;
    int n_bg;
    volatile int bg_stop;
    uint64_t bg_seq; /* background clients started, for link seeds */
    pthread_mutex_t bg_lock;
};

int bf_offload_applies(const struct bf_scenario *sc, const struct bf_case *c)
{
    return strcmp(c->config, "local") != 0 ||
           strcmp(c->model, BF_SPLIT_NULL_MODEL) == 0 ||
           strcmp(sc->inputs, "synthetic") != 0;
}

void bf_offload_split_params(const struct bf_scenario *sc,
                             const struct bf_case *c,
                             struct bf_split_params *out)
{
    *out = (struct bf_split_params){
        .config = c->config,
        .model = c->model,
        .weights = c->weights,
        .seed = c->seed,
        .input_size_px = c->input_size_px,
        .bottleneck_version =
            strcmp(c->config, "bottlefit") == 0 ? c->bottleneck_version : 0,
        .bottleneck_channels = c->bottleneck_channels,
        .fold_bn = c->fold_bn,
        .channels_last = c->channels_last,
        .jpeg_quality = sc->edge_jpeg_quality,
        .zstd = sc->zstd_payload,
        .exit_threshold = sc->exit_threshold,
        .precision = bf_split_precision(c->precision),
        .device = sc->device};
}

static int stop_requested(const struct bf_runner_params *p)
{
    return p->stop && *p->stop;
}

static void describe_link(struct net_case *nc)
{
    const struct bf_scenario *sc = nc->p->scenario;

    if (strcmp(sc->link, "fixed") == 0)
        snprintf(nc->link_desc, sizeof(nc->link_desc),
                 "fixed %g Mbit/s RTT %g ms jitter %g ms loss %g (emulated in "
                 "user space)",
                 nc->c->link_rate_mbps, sc->link_rtt_ms, sc->link_jitter_ms,
                 sc->link_loss);
    else if (strcmp(sc->link, "trace") == 0)
        snprintf(nc->link_desc, sizeof(nc->link_desc),
                 "trace %s RTT %g ms (emulated in user space)", sc->link_trace,
                 sc->link_rtt_ms);
    else if (strcmp(sc->link, "tbf") == 0)
        snprintf(nc->link_desc, sizeof(nc->link_desc),
                 "tbf %g Mbit/s (kernel, veth between namespaces; RTT not "
                 "emulated)",
                 nc->c->link_rate_mbps);
    else if (strcmp(sc->link, "direct") == 0)
        snprintf(nc->link_desc, sizeof(nc->link_desc),
                 "direct %s (real "
                 "network)",
                 sc->edge_address);
    else
        snprintf(nc->link_desc, sizeof(nc->link_desc),
                 "ideal (loopback, no emulation)");
}

/* Link parameters of the user-space modes. */
static void link_params(struct net_case *nc)
{
    const struct bf_scenario *sc = nc->p->scenario;
    uint64_t seed = nc->c->seed ^ ((uint64_t)nc->c->index << 20);

    nc->shaped =
        strcmp(sc->link, "fixed") == 0 || strcmp(sc->link, "trace") == 0;
    nc->up = (struct bf_link_params){.kind = sc->link,
                                     .rate_mbps = nc->c->link_rate_mbps,
                                     .rtt_ms = sc->link_rtt_ms,
                                     .jitter_ms = sc->link_jitter_ms,
                                     .loss = sc->link_loss,
                                     .retransmit_ms = -1,
                                     .trace_path = sc->link_trace,
                                     .seed = seed};
    nc->down = nc->up;
    nc->down.seed = seed + 1;
    if (sc->link_down_rate_mbps > 0) {
        nc->down.kind = "fixed";
        nc->down.rate_mbps = sc->link_down_rate_mbps;
    }
}

/* The in-process server, its socket in the current namespace. */
static int start_edge(struct net_case *nc, const char *host)
{
    const struct bf_scenario *sc = nc->p->scenario;
    struct bf_edge_params ep = {
        .host = host, .workers = sc->edge_workers, .queue = sc->edge_queue};
    struct bf_split *tail = NULL;
    int rc = bf_edge_open(&ep, &nc->edge);

    if (rc == 0)
        rc = bf_split_open(&nc->sp, &tail);
    if (rc == 0)
        rc = bf_edge_add(nc->edge, nc->config_id, tail);
    if (rc == 0)
        rc = bf_edge_start(nc->edge);
    if (rc == 0)
        nc->port = bf_edge_port(nc->edge);
    return rc;
}

/* Open a client connection; in tbf mode from the device namespace. */
static int connect_client(struct net_case *nc, uint64_t seed_offset,
                          struct bf_client **out)
{
    struct bf_link_params up = nc->up, down = nc->down;
    struct bf_client_params cp = {.host = nc->host,
                                  .port = nc->port,
                                  .uplink = nc->shaped ? &up : NULL,
                                  .downlink = nc->shaped ? &down : NULL,
                                  .timeout_ms =
                                      nc->p->scenario->request_timeout_ms};
    int saved = -1;
    int rc;

    up.seed += 2 * seed_offset;
    down.seed += 2 * seed_offset;
    if (nc->ns) {
        rc = bf_netns_enter(nc->ns, BF_NETNS_DEVICE, &saved);
        if (rc)
            return rc;
    }
    rc = bf_client_open(&cp, out);
    if (nc->ns) {
        int rc2 = bf_netns_leave(saved);

        rc = rc ? rc : rc2;
    }
    return rc;
}

/* Set up the server (unless direct) and the measured client. */
static int setup_network(struct net_case *nc, char *skip, size_t skip_size)
{
    const struct bf_scenario *sc = nc->p->scenario;
    int rc;

    link_params(nc);
    nc->config_id = (uint32_t)nc->c->index;
    if (strcmp(sc->link, "direct") == 0) {
        const char *colon = strrchr(sc->edge_address, ':');
        char *end = NULL;
        long port;

        if (!colon || colon == sc->edge_address ||
            (size_t)(colon - sc->edge_address) >= sizeof(nc->host_buf))
            return bf_err_set(BF_EINVAL,
                              "edge_address '%s': expected "
                              "host:port",
                              sc->edge_address);
        port = strtol(colon + 1, &end, 10);
        if (!end || *end || port < 1 || port > 65535)
            return bf_err_set(BF_EINVAL, "edge_address '%s': bad port",
                              sc->edge_address);
        memcpy(nc->host_buf, sc->edge_address,
               (size_t)(colon - sc->edge_address));
        nc->host = nc->host_buf;
        nc->port = (int)port;
    } else if (strcmp(sc->link, "tbf") == 0) {
        struct bf_netns_params np = {.rate_mbps = nc->c->link_rate_mbps,
                                     .down_rate_mbps = sc->link_down_rate_mbps};
        int saved = -1;

        if (bf_netns_available(skip, skip_size) != 0)
            return BF_EUNSUPPORTED;
        skip[0] = '\0';
        rc = bf_netns_open(&np, &nc->ns);
        if (rc)
            return rc;
        snprintf(nc->host_buf, sizeof(nc->host_buf), "%s",
                 bf_netns_address(nc->ns, BF_NETNS_EDGE));
        nc->host = nc->host_buf;
        rc = bf_netns_enter(nc->ns, BF_NETNS_EDGE, &saved);
        if (rc)
            return rc;
        rc = start_edge(nc, nc->host);
        {
            int rc2 = bf_netns_leave(saved);

            rc = rc ? rc : rc2;
        }
        if (rc)
            return rc;
    } else {
        nc->host = "127.0.0.1";
        rc = start_edge(nc, nc->host);
        if (rc)
            return rc;
    }
    return connect_client(nc, 0, &nc->client);
}

/* A background device: the same request, again and again. */
static void *background_main(void *arg)
{
    struct net_case *nc = arg;
    struct bf_client *c = NULL;
    uint64_t id = 1u << 31, offset;

    pthread_mutex_lock(&nc->bg_lock);
    offset = ++nc->bg_seq; /* distinct link seeds */
    pthread_mutex_unlock(&nc->bg_lock);
    if (connect_client(nc, offset, &c) != 0)
        return NULL;
    while (!nc->bg_stop) {
        struct bf_proto_request req = nc->bg_req;
        struct bf_client_result res;

        req.request_id = id++;
        if (bf_client_request(c, &req, nc->bg_payload.data, &res) != 0)
            break;
        if (res.reply.status == BF_PROTO_BUSY)
            bf_clock_sleep_until_ns(bf_clock_now_ns() + BUSY_BACKOFF_NS);
    }
    bf_client_close(c);
    return NULL;
}

static int start_background(struct net_case *nc)
{
    int n = nc->c->background_clients;
    struct bf_split_device_result dr;
    int rc;

    if (n == 0)
        return 0;
    /* Their request: the first image's, built once, never rewritten. */
    rc = bf_split_device(nc->dev, nc->images, nc->config_id, 0, &nc->bg_req,
                         &nc->bg_payload, &dr);
    if (rc)
        return rc;
    if (!dr.offload)
        return bf_err_set(BF_EINVAL,
                          "background clients: the first image never leaves "
                          "the device (an early exit answered it)");
    nc->bg = calloc((size_t)n, sizeof(*nc->bg));
    if (!nc->bg)
        return bf_err_set(BF_ENOMEM, "background clients");
    nc->bg_seq = 0;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&nc->bg[i], NULL, background_main, nc) != 0)
            return bf_err_set(BF_EIO, "cannot start background client %d", i);
        nc->n_bg = i + 1;
    }
    return 0;
}

static void stop_background(struct net_case *nc)
{
    nc->bg_stop = 1;
    for (int i = 0; i < nc->n_bg; i++)
        pthread_join(nc->bg[i], NULL);
    nc->n_bg = 0;
    free(nc->bg);
    nc->bg = NULL;
}

/* One request of the measured device: image i, into *row. */
static int run_one(struct net_case *nc, size_t i, int64_t seq,
                   struct bf_sample_row *row, int64_t *busy)
{
    struct bf_split_device_result dr;
    struct bf_client_result res;
    size_t idx = i % nc->n_images;
    const uint8_t *img = nc->images + idx * nc->image_bytes;
    int64_t t0 = bf_clock_now_ns();
    int retries = 0;
    int rc = bf_split_device(nc->dev, img, nc->config_id, (uint64_t)seq + 1,
                             &nc->req, &nc->payload, &dr);

    if (rc)
        return rc;
    *row = (struct bf_sample_row){.seq = seq,
                                  .head_ns = dr.head_ns,
                                  .encode_ns = dr.encode_ns,
                                  .transfer_ns = -1,
                                  .server_queue_ns = -1,
                                  .server_decode_ns = -1,
                                  .tail_ns = -1,
                                  .reply_ns = -1,
                                  .bytes_up = 0,
                                  .bytes_down = 0};
    if (dr.offload) {
        for (;;) {
            rc =
                bf_client_request(nc->client, &nc->req, nc->payload.data, &res);
            if (rc)
                return rc;
            if (res.reply.status != BF_PROTO_BUSY)
                break;
            if (++retries > BUSY_RETRIES_MAX)
                return bf_err_set(BF_ETIMEOUT,
                                  "the edge server stayed busy for %d "
                                  "retries",
                                  BUSY_RETRIES_MAX);
            bf_clock_sleep_until_ns(bf_clock_now_ns() + BUSY_BACKOFF_NS);
        }
        if (res.reply.status != BF_PROTO_OK)
            return bf_err_set(BF_EIO, "edge server answered status %d: %s",
                              res.reply.status, res.reply.message);
        row->transfer_ns = res.transfer_ns;
        row->server_queue_ns = (int64_t)res.reply.queue_ns;
        row->server_decode_ns = (int64_t)res.reply.decode_ns;
        row->tail_ns = (int64_t)res.reply.tail_ns;
        row->reply_ns = res.reply_ns;
        row->bytes_up = res.bytes_up;
        row->bytes_down = res.bytes_down;
    }
    row->e2e_ns = bf_clock_now_ns() - t0;
    *busy = retries;
    if (nc->labels && seq >= 0) {
        int k = dr.offload ? res.reply.k : dr.k;

        for (int j = 0; j < k; j++) {
            uint32_t cls = dr.offload ? res.reply.topk[j].cls : dr.topk[j];

            if ((int64_t)cls == nc->labels[idx]) {
                nc->correct1 += j == 0;
                nc->correct5++;
                break;
            }
        }
        nc->answered++;
        if (dr.offload)
            nc->payload_bytes += res.bytes_up - BF_PROTO_HEADER_SIZE;
    }
    return 0;
}

static int measure(struct net_case *nc, const char *label)
{
    const struct bf_scenario *sc = nc->p->scenario;
    int64_t min_ns = sc->min_duration_ms * 1000000LL;
    int64_t start, last_progress = 0;
    struct bf_sample_row scratch;
    int64_t busy;
    int rc;

    for (int i = 0; i < sc->warmup && !stop_requested(nc->p); i++) {
        rc = run_one(nc, (size_t)i, -1 - i, &scratch, &busy);
        if (rc)
            return rc;
    }
    rc = start_background(nc);
    if (rc)
        return rc;
    nc->cap = (size_t)sc->min_samples;
    nc->rows = malloc(nc->cap * sizeof(*nc->rows));
    nc->busy = malloc(nc->cap * sizeof(*nc->busy));
    if (!nc->rows || !nc->busy)
        return bf_err_set(BF_ENOMEM, "%zu samples", nc->cap);
    bf_runner_power_begin(nc->p, &nc->power);
    start = bf_clock_now_ns();
    while (!stop_requested(nc->p)) {
        int64_t now = bf_clock_now_ns();

        if (nc->n >= (size_t)sc->max_samples)
            break;
        if (nc->n >= (size_t)sc->min_samples && now - start >= min_ns)
            break;
        if (nc->n == nc->cap) {
            size_t ncap = nc->cap * 2;
            struct bf_sample_row *r = realloc(nc->rows, ncap * sizeof(*r));
            int64_t *b;

            if (!r)
                return bf_err_set(BF_ENOMEM, "%zu samples", ncap);
            nc->rows = r;
            b = realloc(nc->busy, ncap * sizeof(*b));
            if (!b)
                return bf_err_set(BF_ENOMEM, "%zu samples", ncap);
            nc->busy = b;
            nc->cap = ncap;
        }
        rc = run_one(nc, nc->n, (int64_t)nc->n, &nc->rows[nc->n],
                     &nc->busy[nc->n]);
        if (rc)
            return rc;
        nc->n++;
        now = bf_clock_now_ns();
        if (now - last_progress >= PROGRESS_EVERY_NS) {
            char detail[160];

            snprintf(detail, sizeof(detail), "%s %s %.2f ms last",
                     nc->c->config, nc->c->model,
                     (double)nc->rows[nc->n - 1].e2e_ns / 1e6);
            bf_log_progress(label, (long)nc->n, sc->min_samples, detail);
            last_progress = now;
        }
    }
    bf_runner_power_end(nc->p, &nc->power);
    bf_log_progress_done();
    return 0;
}

/* Device rows of a case: its device and edge parts on each device. */
static int record_devices(struct net_case *nc, int64_t case_id)
{
    const struct bf_scenario *sc = nc->p->scenario;
    struct bf_devmodel_case dc = {0};
    struct bf_layer_info *head = NULL, *tail = NULL;
    int rc;

    if (!bf_devmodel_count(nc->p->devmodel) || nc->n == 0)
        return 0;
    rc = bf_split_layers(nc->dev, 0, &head, &dc.n_head);
    if (rc == 0)
        rc = bf_split_layers(nc->dev, 1, &tail, &dc.n_tail);
    if (rc) {
        bf_log_warn("case %lld: no device rows: %s", (long long)case_id,
                    bf_last_error());
        free(head);
        return 0;
    }
    dc.head = head;
    dc.tail = tail;
    if (strcmp(sc->link, "fixed") == 0 || strcmp(sc->link, "tbf") == 0) {
        dc.up_mbps = nc->c->link_rate_mbps;
        dc.down_mbps = sc->link_down_rate_mbps > 0 ? sc->link_down_rate_mbps
                                                   : nc->c->link_rate_mbps;
    }
    rc = bf_runner_devices(nc->p, case_id, &dc, &nc->power, nc->rows, nc->n);
    free(head);
    free(tail);
    return rc;
}

static int64_t metric_value(const struct net_case *nc, size_t i, int m)
{
    const struct bf_sample_row *r = &nc->rows[i];

    switch (m) {
    case M_E2E:
        return r->e2e_ns;
    case M_HEAD:
        return r->head_ns;
    case M_ENCODE:
        return r->encode_ns;
    case M_TRANSFER:
        return r->transfer_ns;
    case M_QUEUE:
        return r->server_queue_ns;
    case M_DECODE:
        return r->server_decode_ns;
    case M_TAIL:
        return r->tail_ns;
    case M_REPLY:
        return r->reply_ns;
    case M_BYTES_UP:
        return r->bytes_up;
    default:
        return nc->busy[i];
    }
}

/* Samples, and an aggregate per metric that has values. */
static int emit(struct net_case *nc, int64_t case_id)
{
    const struct bf_runner_sink *sink = nc->p->sink;
    struct bf_aggregate_row agg[M_COUNT];
    size_t n_agg = 0;
    double *v;
    int rc;

    if (nc->n == 0)
        return 0;
    rc = sink->samples(sink->ctx, case_id, nc->rows, nc->n);
    if (rc)
        return rc;
    v = malloc(nc->n * sizeof(*v));
    if (!v)
        return bf_err_set(BF_ENOMEM, "%zu values", nc->n);
    for (int m = 0; m < M_COUNT; m++) {
        size_t k = 0;

        for (size_t i = 0; i < nc->n; i++) {
            int64_t x = metric_value(nc, i, m);

            /* Bytes and retries are counted for every request; stages
             * that did not happen (-1) are left out. */
            if (x >= 0)
                v[k++] = (double)x * metrics[m].scale;
        }
        if (k == 0)
            continue;
        agg[n_agg] = (struct bf_aggregate_row){
            .metric = metrics[m].name,
            .unit = metrics[m].unit,
            .method = m >= M_BYTES_UP ? "counted:host" : BF_RUNNER_METHOD_HOST};
        rc = bf_stats_compute(v, k, &agg[n_agg].stats);
        if (rc)
            break;
        n_agg++;
    }
    free(v);
    if (rc == 0)
        rc = sink->aggregates(sink->ctx, case_id, agg, n_agg);
    if (rc == 0)
        bf_log_info("  n=%zu e2e mean %.3f ms p50 %.3f p90 %.3f p99 %.3f",
                    nc->n, agg[0].stats.mean, agg[0].stats.p50,
                    agg[0].stats.p90, agg[0].stats.p99);
    return rc;
}

static void net_case_free(struct net_case *nc)
{
    stop_background(nc);
    bf_client_close(nc->client);
    bf_edge_close(nc->edge);
    bf_netns_close(nc->ns);
    bf_split_close(nc->dev);
    bf_buf_free(&nc->payload);
    bf_buf_free(&nc->bg_payload);
    free(nc->images);
    free(nc->labels);
    free(nc->rows);
    free(nc->busy);
    pthread_mutex_destroy(&nc->bg_lock);
}

/* The Fashion-MNIST test set, in order, as the case's inputs. */
static int load_test_set(struct net_case *nc)
{
    struct bf_dataset *ds = NULL;
    struct bf_dataset_info di;
    int rc = bf_dataset_open_fmnist(NULL, 0, &ds);

    if (rc == 0)
        rc = bf_dataset_info(ds, &di);
    if (rc == 0 &&
        ((size_t)di.channels * di.height * di.width != nc->image_bytes ||
         di.height != nc->info.in_h))
        rc = bf_err_set(BF_EINVAL,
                        "inputs fashion-mnist are %dx%dx%d, %s takes "
                        "%dx%dx%d",
                        di.channels, di.height, di.width, nc->c->model,
                        nc->info.in_channels, nc->info.in_h, nc->info.in_w);
    if (rc == 0)
        rc = bf_dataset_hash(ds, nc->dataset_hash);
    if (rc == 0) {
        nc->n_images = di.n;
        nc->images = malloc(nc->image_bytes * di.n);
        nc->labels = malloc(di.n * sizeof(*nc->labels));
        if (!nc->images || !nc->labels)
            rc = bf_err_set(BF_ENOMEM, "%zu test images", di.n);
    }
    for (size_t i = 0; rc == 0 && i < nc->n_images; i++)
        rc =
            bf_dataset_raw_u8(ds, (uint32_t)i, nc->images + i * nc->image_bytes,
                              nc->image_bytes, &nc->labels[i]);
    bf_dataset_close(ds);
    return rc;
}

/* Build the device split and the images; fill the case row. */
static int prepare(struct net_case *nc, int threads, struct bf_case_row *row)
{
    const struct bf_case *c = nc->c;
    const struct bf_scenario *sc = nc->p->scenario;
    int uses_bottleneck = strcmp(c->config, "bottlefit") == 0 ||
                          strcmp(c->config, "ae-split") == 0;
    int rc;

    bf_offload_split_params(sc, c, &nc->sp);
    rc = c->weights[0] ? bf_hash_file(c->weights, nc->weights_hash) : 0;
    if (rc == 0)
        rc = bf_torch_set_threads(threads);
    if (rc == 0)
        rc = bf_torch_get_threads(&row->threads);
    if (rc == 0)
        rc = bf_split_open(&nc->sp, &nc->dev);
    if (rc)
        return rc;
    bf_split_get_info(nc->dev, &nc->info);
    row->input_channels = nc->info.in_channels;
    row->input_h = nc->info.in_h;
    row->input_w = nc->info.in_w;
    row->params = nc->info.params;
    row->macs = nc->info.macs;
    row->head_params = nc->info.head_params;
    row->head_macs = nc->info.head_macs;
    row->head_bytes = nc->info.head_params * 4;
    row->split_shape = nc->info.split_shape;
    if (uses_bottleneck) {
        row->bottleneck_channels = c->bottleneck_channels;
        row->bottleneck_version = nc->sp.bottleneck_version;
    }
    nc->image_bytes =
        (size_t)nc->info.in_channels * nc->info.in_h * nc->info.in_w;
    if (strcmp(sc->inputs, "fashion-mnist") == 0) {
        rc = load_test_set(nc);
        if (rc)
            return rc;
        row->dataset = "fashion-mnist";
        row->dataset_sha256 = nc->dataset_hash;
        return 0;
    }
    nc->n_images = N_SYNTHETIC;
    nc->images = malloc(nc->image_bytes * nc->n_images);
    if (!nc->images)
        return bf_err_set(BF_ENOMEM, "%d images", N_SYNTHETIC);
    for (size_t i = 0; i < nc->n_images; i++)
        bf_split_synthetic_image(
            nc->c->seed * 1000003u + (uint64_t)i, nc->info.in_h, nc->info.in_w,
            nc->info.in_channels, nc->images + i * nc->image_bytes);
    return 0;
}

/* The accuracy of the timed requests, when inputs carry labels. */
static int record_accuracy(struct net_case *nc, int64_t case_id)
{
    const struct bf_runner_sink *sink = nc->p->sink;
    struct bf_accuracy_row a = {
        .variant = "network",
        .split = "test",
        .n = nc->answered,
        .top1 = 100.0 * (double)nc->correct1 / (double)nc->answered,
        .top5 = 100.0 * (double)nc->correct5 / (double)nc->answered,
        .payload_bytes = (double)nc->payload_bytes / (double)nc->answered,
        .payload_zstd_bytes = -1,
        .transmitted_elements = -1,
        .input_elements = (double)nc->image_bytes,
        .jpeg_reference_bytes = -1,
        .method = "measured:host:network"};

    if (!nc->labels || nc->answered == 0 || !sink->accuracy)
        return 0;
    bf_log_info("  top-1 %.2f %% top-5 %.2f %% over %lld test images", a.top1,
                a.top5, (long long)nc->answered);
    return sink->accuracy(sink->ctx, case_id, &a, 1);
}

int bf_offload_run_case(const struct bf_runner_params *p,
                        const struct bf_case *c,
                        struct bf_runner_result *result)
{
    const struct bf_scenario *sc = p->scenario;
    struct net_case nc = {.p = p, .c = c};
    int threads = p->threads_override >= 0 ? p->threads_override : c->threads;
    char label[64], skip[256] = "", msg[BF_ERR_DETAIL_MAX];
    struct bf_case_row row = {
        .case_index = c->index,
        .case_hash = c->hash,
        .config = c->config,
        .model = c->model,
        .weights = c->weights[0] ? c->weights : "random",
        .weights_sha256 = nc.weights_hash,
        .batch = 1,
        .threads = threads,
        .fold_bn = c->fold_bn,
        .channels_last = c->channels_last,
        .precision = c->precision,
        .device = sc->device,
        .warmup = sc->warmup,
        .seeded = 1,
        .seed = c->seed,
        .dataset = "synthetic",
        .link_rate_mbps = -1,
        .link_rtt_ms = -1,
        .background_clients = c->background_clients,
    };
    int64_t case_id = 0;
    int rc, case_rc;

    bf_buf_init(&nc.payload);
    bf_buf_init(&nc.bg_payload);
    pthread_mutex_init(&nc.bg_lock, NULL);
    describe_link(&nc);
    row.link = strcmp(c->config, "local") ? nc.link_desc : NULL;
    if (strcmp(sc->link, "fixed") == 0 || strcmp(sc->link, "tbf") == 0)
        row.link_rate_mbps = c->link_rate_mbps;
    if (strcmp(sc->link, "fixed") == 0 || strcmp(sc->link, "trace") == 0)
        row.link_rtt_ms = sc->link_rtt_ms;
    snprintf(label, sizeof(label), "case %d/%zu", c->index + 1, sc->n_cases);
    bf_err_clear();
    case_rc = prepare(&nc, threads, &row);
    rc = bf_runner_case_begin(p, &row, &case_id);
    if (rc)
        goto out;
    if (case_rc == 0 && nc.info.offloads)
        case_rc = setup_network(&nc, skip, sizeof(skip));
    if (case_rc == BF_EUNSUPPORTED && skip[0]) {
        bf_log_warn("%s %s %s: skipped: %s", label, c->config, c->model, skip);
        rc = bf_runner_case_finish(p, case_id, "skipped", skip);
        result->skipped++;
        goto out;
    }
    if (case_rc == 0)
        case_rc = measure(&nc, label);
    stop_background(&nc);
    if (case_rc) {
        snprintf(msg, sizeof(msg), "%s", bf_last_error());
        bf_log_error("%s %s %s: %s", label, c->config, c->model, msg);
    }
    rc = emit(&nc, case_id);
    if (rc == 0 && case_rc == 0)
        rc = record_accuracy(&nc, case_id);
    if (rc == 0 && case_rc == 0)
        rc = record_devices(&nc, case_id);
    if (rc == 0)
        rc = bf_runner_case_end(p, case_id, case_rc ? msg : NULL, result);
out:
    net_case_free(&nc);
    return rc;
}
