/*
 * Tests of the edge server, its client and the split configurations over
 * loopback, each bounded in time: several clients at once, a reply that
 * equals the same split computed without a network, a busy server, every
 * malformed-frame class answered and closed while others are served, a
 * client that disconnects mid-frame, slow and silent clients timing out,
 * unknown configs, too many connections, and a shutdown that finishes the
 * request in flight.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_test_device.h"

#include "bf_client.h"
#include "bf_clock.h"
#include "bf_edge.h"
#include "bf_err.h"
#include "bf_net.h"
#include "bf_split.h"
#include "bf_torch.h"

#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000000LL
#define NULL_SIZE 40 /* null model input: 40 x 40 grey, 1,600 bytes */

static struct bf_split *open_split(const char *config, const char *model,
                                   int size)
{
    struct bf_split_params p = {.config = config,
                                .model = model,
                                .seed = 7,
                                .input_size_px = size,
                                .bottleneck_channels = 2,
                                .fold_bn = 1,
                                .jpeg_quality = 90,
                                .exit_threshold = 2.0,
                                .device = bf_test_device()};
    struct bf_split *s = NULL;
    int rc = bf_split_open(&p, &s);

    if (rc)
        print_error("%s %s: %s\n", config, model, bf_last_error());
    assert_int_equal(rc, 0);
    return s;
}

/* A server on 127.0.0.1 serving the null model as config 1. */
static struct bf_edge *start_null_server(struct bf_edge_params *ep)
{
    struct bf_edge *e = NULL;

    ep->host = "127.0.0.1";
    assert_int_equal(bf_edge_open(ep, &e), 0);
    assert_int_equal(
        bf_edge_add(e, 1, open_split("bottlefit", "null", NULL_SIZE)), 0);
    assert_int_equal(bf_edge_start(e), 0);
    return e;
}

/* A request of the null split for a synthetic image. */
static void null_request(struct bf_split *dev, uint64_t id,
                         struct bf_proto_request *req, struct bf_buf *payload)
{
    uint8_t px[NULL_SIZE * NULL_SIZE];
    struct bf_split_device_result r;

    bf_split_synthetic_image(id, NULL_SIZE, NULL_SIZE, 1, px);
    assert_int_equal(bf_split_device(dev, px, 1, id, req, payload, &r), 0);
    assert_int_equal(r.offload, 1);
}

struct client_job {
    int port;
    int requests;
    int ok;
    uint64_t first_id;
};

static void *client_thread(void *arg)
{
    struct client_job *j = arg;
    struct bf_client_params cp = {.host = "127.0.0.1", .port = j->port};
    struct bf_client *c = NULL;
    struct bf_split *dev = open_split("bottlefit", "null", NULL_SIZE);
    struct bf_buf payload;

    bf_buf_init(&payload);
    if (bf_client_open(&cp, &c) == 0) {
        for (int i = 0; i < j->requests; i++) {
            struct bf_proto_request req;
            struct bf_client_result res;

            null_request(dev, j->first_id + (uint64_t)i, &req, &payload);
            if (bf_client_request(c, &req, payload.data, &res) == 0 &&
                res.reply.status == BF_PROTO_OK && res.reply.k == 5 &&
                res.reply.request_id == req.request_id)
                j->ok++;
        }
    }
    bf_client_close(c);
    bf_split_close(dev);
    bf_buf_free(&payload);
    return NULL;
}

static void test_edge_several_clients(void **state)
{
    struct bf_edge_params ep = {.workers = 2, .queue = 8};
    struct bf_edge *e = start_null_server(&ep);
    struct client_job jobs[4];
    pthread_t th[4];
    struct bf_edge_stats st;

    (void)state;
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct client_job){.port = bf_edge_port(e),
                                      .requests = 25,
                                      .first_id = 1000u * (uint64_t)(i + 1)};
        assert_int_equal(pthread_create(&th[i], NULL, client_thread, &jobs[i]),
                         0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].ok, 25);
    }
    bf_edge_get_stats(e, &st);
    assert_int_equal(st.ok, 100);
    assert_int_equal(st.connections, 4);
    assert_int_equal(st.bad + st.busy + st.errors, 0);
    bf_edge_close(e);
}

/* Identity: the top-1 class is the position of the brightest pixel. */
static void test_edge_null_is_identity(void **state)
{
    struct bf_edge_params ep = {0};
    struct bf_edge *e = start_null_server(&ep);
    struct bf_client_params cp = {.host = "127.0.0.1", .port = bf_edge_port(e)};
    struct bf_client *c = NULL;
    struct bf_proto_request req = {.kind = BF_PROTO_U8,
                                   .ndim = 3,
                                   .config_id = 1,
                                   .request_id = 5,
                                   .payload_len = NULL_SIZE * NULL_SIZE,
                                   .shape = {1, NULL_SIZE, NULL_SIZE},
                                   .scale = 0.5f};
    uint8_t q[NULL_SIZE * NULL_SIZE] = {0};
    struct bf_client_result res;

    (void)state;
    q[777] = 200;
    q[3] = 100;
    assert_int_equal(bf_client_open(&cp, &c), 0);
    assert_int_equal(bf_client_request(c, &req, q, &res), 0);
    assert_int_equal(res.reply.status, BF_PROTO_OK);
    assert_int_equal(res.reply.topk[0].cls, 777);
    assert_int_equal(res.reply.topk[1].cls, 3);
    assert_true(res.reply.topk[0].score > res.reply.topk[1].score);
    assert_int_equal(res.bytes_up,
                     BF_PROTO_HEADER_SIZE + NULL_SIZE * NULL_SIZE);
    assert_true(res.transfer_ns >= 0 && res.rtt_ns >= res.transfer_ns);
    assert_int_equal(res.reply_ns, -1);
    bf_client_close(c);
    bf_edge_close(e);
}

/*
 * Each configuration of the small family through the server equals the
 * same split computed without a network, class for class, score for score.
 */
static void test_edge_configs_match_offline(void **state)
{
    static const char *const configs[] = {"edge", "bottlefit", "ae-split",
                                          "spinn-split"};
    struct bf_edge_params ep = {.host = "127.0.0.1"};
    struct bf_edge *e = NULL;
    struct bf_buf payload;

    (void)state;
    bf_buf_init(&payload);
    assert_int_equal(bf_edge_open(&ep, &e), 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(
            bf_edge_add(e, i, open_split(configs[i], "resnet_mini", 0)), 0);
    assert_int_equal(bf_edge_start(e), 0);
    for (uint32_t i = 0; i < 4; i++) {
        struct bf_split *dev = open_split(configs[i], "resnet_mini", 0);
        struct bf_split *tail = open_split(configs[i], "resnet_mini", 0);
        struct bf_client_params cp = {.host = "127.0.0.1",
                                      .port = bf_edge_port(e)};
        struct bf_client *c = NULL;
        struct bf_split_info info;
        uint8_t px[28 * 28];
        struct bf_proto_request req;
        struct bf_proto_reply local = {0};
        struct bf_client_result res;
        struct bf_split_device_result r;

        bf_split_get_info(dev, &info);
        assert_int_equal(info.in_h, 28);
        assert_true(info.head_macs < info.macs);
        bf_split_synthetic_image(i, 28, 28, 1, px);
        assert_int_equal(bf_split_device(dev, px, i, 9, &req, &payload, &r), 0);
        assert_int_equal(r.offload, 1);
        assert_int_equal(
            bf_split_edge(tail, &req, (const uint8_t *)payload.data, &local),
            0);
        assert_int_equal(bf_client_open(&cp, &c), 0);
        assert_int_equal(bf_client_request(c, &req, payload.data, &res), 0);
        assert_int_equal(res.reply.status, BF_PROTO_OK);
        assert_int_equal(res.reply.k, local.k);
        for (int k = 0; k < local.k; k++) {
            assert_int_equal(res.reply.topk[k].cls, local.topk[k].cls);
            assert_float_equal(res.reply.topk[k].score, local.topk[k].score,
                               1e-6);
        }
        bf_client_close(c);
        bf_split_close(dev);
        bf_split_close(tail);
    }
    bf_buf_free(&payload);
    bf_edge_close(e);
}

/* The device part alone: local answers, spinn-split exits at threshold 0. */
static void test_edge_device_answers(void **state)
{
    struct bf_split_params p = {.config = "spinn-split",
                                .model = "resnet_mini",
                                .seed = 7,
                                .fold_bn = 1,
                                .exit_threshold = 0.0,
                                .device = bf_test_device()};
    struct bf_split *s = NULL;
    struct bf_split_info info;
    struct bf_proto_request req;
    struct bf_split_device_result r;
    struct bf_buf payload;
    uint8_t px[28 * 28];

    (void)state;
    bf_buf_init(&payload);
    bf_split_synthetic_image(1, 28, 28, 1, px);
    assert_int_equal(bf_split_open(&p, &s), 0);
    assert_int_equal(bf_split_device(s, px, 0, 1, &req, &payload, &r), 0);
    assert_int_equal(r.offload, 0);
    assert_int_equal(r.exit_index, 0);
    assert_true(r.head_ns > 0);
    assert_int_equal(r.encode_ns, -1);
    bf_split_close(s);
    p.config = "local";
    assert_int_equal(bf_split_open(&p, &s), 0);
    bf_split_get_info(s, &info);
    assert_int_equal(info.offloads, 0);
    assert_int_equal(info.head_macs, info.macs);
    assert_int_equal(bf_split_device(s, px, 0, 1, &req, &payload, &r), 0);
    assert_int_equal(r.offload, 0);
    assert_true(r.cls < 10);
    bf_split_close(s);
    p.config = "bottlefit";
    p.model = "mobilenet_v2";
    assert_int_equal(bf_split_open(&p, &s), BF_EUNSUPPORTED);
    p.config = "cloud";
    assert_int_equal(bf_split_open(&p, &s), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "cloud"));
    bf_buf_free(&payload);
}

struct slow_job {
    int port;
    uint64_t id;
    int status;
};

static void *slow_client(void *arg)
{
    struct slow_job *j = arg;
    struct bf_client_params cp = {.host = "127.0.0.1", .port = j->port};
    struct bf_client *c = NULL;
    struct bf_split *dev = open_split("bottlefit", "null", NULL_SIZE);
    struct bf_proto_request req;
    struct bf_client_result res;
    struct bf_buf payload;

    j->status = -1;
    bf_buf_init(&payload);
    null_request(dev, j->id, &req, &payload);
    if (bf_client_open(&cp, &c) == 0 &&
        bf_client_request(c, &req, payload.data, &res) == 0)
        j->status = res.reply.status;
    bf_client_close(c);
    bf_split_close(dev);
    bf_buf_free(&payload);
    return NULL;
}

/* One worker, no queue, a slow tail: a second request is answered BUSY. */
static void test_edge_busy(void **state)
{
    struct bf_edge_params ep = {.workers = 1, .queue = 0, .test_delay_ms = 400};
    struct bf_edge *e = start_null_server(&ep);
    struct slow_job a = {.port = bf_edge_port(e), .id = 1};
    struct slow_job b = {.port = bf_edge_port(e), .id = 2};
    struct bf_edge_stats st;
    pthread_t ta;
    int64_t t0 = bf_clock_now_ns();

    (void)state;
    assert_int_equal(pthread_create(&ta, NULL, slow_client, &a), 0);
    usleep(150000);
    slow_client(&b);
    assert_int_equal(b.status, BF_PROTO_BUSY);
    assert_true(bf_clock_now_ns() - t0 < 400000000LL); /* no waiting */
    pthread_join(ta, NULL);
    assert_int_equal(a.status, BF_PROTO_OK);
    bf_edge_get_stats(e, &st);
    assert_int_equal(st.busy, 1);
    assert_int_equal(st.ok, 1);
    bf_edge_close(e);
}

/* A raw connection to the server. */
static int raw_connect(struct bf_edge *e)
{
    int fd = -1;

    assert_int_equal(bf_net_connect("127.0.0.1", bf_edge_port(e),
                                    bf_clock_now_ns() + 2 * SEC, &fd),
                     0);
    return fd;
}

/* After an error reply the server closes: the next read sees EOF. */
static void expect_reply_then_close(int fd, int status, const char *text)
{
    struct bf_proto_reply r;
    char c;

    assert_int_equal(bf_net_recv_reply(fd, bf_clock_now_ns() + 3 * SEC, &r), 0);
    assert_int_equal(r.status, status);
    if (text && !strstr(r.message, text))
        print_error("reply '%s' lacks '%s'\n", r.message, text);
    if (text)
        assert_non_null(strstr(r.message, text));
    assert_int_equal(read(fd, &c, 1), 0);
    close(fd);
}

static void test_edge_malformed_frames(void **state)
{
    struct bf_edge_params ep = {
        .limits = {.max_payload = 4096, .max_elements = 1 << 20}};
    struct bf_edge *e = start_null_server(&ep);
    struct bf_split *dev = open_split("bottlefit", "null", NULL_SIZE);
    struct bf_proto_request req;
    struct bf_buf payload;
    uint8_t hdr[BF_PROTO_HEADER_SIZE];
    struct client_job ok = {.port = bf_edge_port(e), .requests = 3};
    struct bf_edge_stats st;
    int fd;

    (void)state;
    bf_buf_init(&payload);
    null_request(dev, 1, &req, &payload);

    /* Garbage instead of a header. */
    fd = raw_connect(e);
    memset(hdr, 'x', sizeof(hdr));
    assert_int_equal(bf_net_write_full(fd, hdr, sizeof(hdr), 0), 0);
    expect_reply_then_close(fd, BF_PROTO_BAD_REQUEST, "magic");

    /* Another protocol version. */
    assert_int_equal(bf_proto_request_emit(&req, NULL, hdr), 0);
    hdr[5] = 9;
    fd = raw_connect(e);
    assert_int_equal(bf_net_write_full(fd, hdr, sizeof(hdr), 0), 0);
    expect_reply_then_close(fd, BF_PROTO_BAD_VERSION, NULL);

    /* Oversized: a payload above the server's limit. */
    {
        struct bf_proto_request big = req;

        big.shape[1] = big.shape[2] = 100;
        big.payload_len = 10000;
        assert_int_equal(bf_proto_request_emit(&big, NULL, hdr), 0);
        fd = raw_connect(e);
        assert_int_equal(bf_net_write_full(fd, hdr, sizeof(hdr), 0), 0);
        expect_reply_then_close(fd, BF_PROTO_BAD_REQUEST, "payload");
    }

    /* A well-formed frame whose tensor does not fit the endpoint. */
    {
        struct bf_proto_request wrong = req;
        uint8_t zeros[30 * 30] = {0};

        wrong.shape[1] = wrong.shape[2] = 30;
        wrong.payload_len = sizeof(zeros);
        assert_int_equal(bf_proto_request_emit(&wrong, NULL, hdr), 0);
        fd = raw_connect(e);
        assert_int_equal(bf_net_write_full(fd, hdr, sizeof(hdr), 0), 0);
        assert_int_equal(bf_net_write_full(fd, zeros, sizeof(zeros), 0), 0);
        expect_reply_then_close(fd, BF_PROTO_BAD_REQUEST, "tensor");
    }

    /* Truncated, then half-closed: the client still reads, and is told
     * why (README: truncated frames get an error reply). */
    assert_int_equal(bf_proto_request_emit(&req, NULL, hdr), 0);
    fd = raw_connect(e);
    assert_int_equal(bf_net_write_full(fd, hdr, sizeof(hdr), 0), 0);
    assert_int_equal(bf_net_write_full(fd, payload.data, 100, 0), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    expect_reply_then_close(fd, BF_PROTO_BAD_REQUEST, "truncated frame");

    /* Mid-frame disconnect: half the payload, then gone. */
    fd = raw_connect(e);
    assert_int_equal(bf_net_write_full(fd, hdr, sizeof(hdr), 0), 0);
    assert_int_equal(bf_net_write_full(fd, payload.data, 100, 0), 0);
    close(fd);

    /* Everyone else is still served. */
    client_thread(&ok);
    assert_int_equal(ok.ok, 3);
    bf_edge_get_stats(e, &st);
    /* The two truncated frames count as bad (the second's reply is lost:
     * its peer is gone; its thread may see the close a moment later). */
    for (int i = 0; i < 100 && st.bad < 6; i++) {
        usleep(10000);
        bf_edge_get_stats(e, &st);
    }
    assert_int_equal(st.bad, 6);
    assert_int_equal(st.ok, 3);
    bf_split_close(dev);
    bf_buf_free(&payload);
    bf_edge_close(e);
}

static void test_edge_timeouts(void **state)
{
    struct bf_edge_params ep = {.io_timeout_ms = 200, .idle_timeout_ms = 300};
    struct bf_edge *e = start_null_server(&ep);
    uint8_t hdr[BF_PROTO_HEADER_SIZE] = {'B', 'F'};
    struct bf_edge_stats st;
    int64_t t0;
    char c;
    int fd;

    (void)state;
    /* Slow: half a header, then nothing. */
    fd = raw_connect(e);
    t0 = bf_clock_now_ns();
    assert_int_equal(bf_net_write_full(fd, hdr, 20, 0), 0);
    expect_reply_then_close(fd, BF_PROTO_BAD_REQUEST, "timed out");
    assert_true(bf_clock_now_ns() - t0 < 2 * SEC);
    /* Silent: connected, never sends. */
    fd = raw_connect(e);
    t0 = bf_clock_now_ns();
    assert_int_equal(read(fd, &c, 1), 0);
    assert_true(bf_clock_now_ns() - t0 >= 250000000LL);
    assert_true(bf_clock_now_ns() - t0 < 2 * SEC);
    close(fd);
    bf_edge_get_stats(e, &st);
    assert_int_equal(st.timeouts, 2);
    bf_edge_close(e);
}

static void test_edge_unknown_config_and_limits(void **state)
{
    struct bf_edge_params ep = {.max_connections = 2};
    struct bf_edge *e = start_null_server(&ep);
    struct bf_split *dev = open_split("bottlefit", "null", NULL_SIZE);
    struct bf_client_params cp = {.host = "127.0.0.1", .port = bf_edge_port(e)};
    struct bf_client *c = NULL;
    struct bf_proto_request req;
    struct bf_client_result res;
    struct bf_buf payload;
    int fd1, fd2, fd3, fd4;
    uint8_t half[20] = {'B', 'F'};
    char ch;

    (void)state;
    bf_buf_init(&payload);
    null_request(dev, 3, &req, &payload);
    assert_int_equal(bf_client_open(&cp, &c), 0);
    req.config_id = 42;
    assert_int_equal(bf_client_request(c, &req, payload.data, &res), 0);
    assert_int_equal(res.reply.status, BF_PROTO_UNKNOWN_CONFIG);
    assert_non_null(strstr(res.reply.message, "42"));
    req.config_id = 1; /* the connection stays usable */
    assert_int_equal(bf_client_request(c, &req, payload.data, &res), 0);
    assert_int_equal(res.reply.status, BF_PROTO_OK);
    bf_client_close(c);
    usleep(200000); /* the server notices the close */

    /* Both slots idle: a third connection is admitted and the one idle
     * the longest closed. */
    fd1 = raw_connect(e);
    usleep(50000);
    fd2 = raw_connect(e);
    usleep(200000);
    fd3 = raw_connect(e);
    assert_int_equal(read(fd1, &ch, 1), 0);
    close(fd1);
    /* Both slots busy (a frame begun on each): one more is refused. */
    assert_int_equal(bf_net_write_full(fd2, half, sizeof(half), 0), 0);
    assert_int_equal(bf_net_write_full(fd3, half, sizeof(half), 0), 0);
    usleep(200000);
    fd4 = raw_connect(e);
    expect_reply_then_close(fd4, BF_PROTO_BUSY, "connections");
    close(fd2);
    close(fd3);

    assert_int_equal(bf_edge_add(e, 2, open_split("bottlefit", "null", 8)),
                     BF_EINVAL); /* running */
    bf_split_close(dev);
    bf_buf_free(&payload);
    bf_edge_close(e);
}

/* bf_edge_stop lets the request in flight finish and be answered. */
static void test_edge_stop_finishes_in_flight(void **state)
{
    struct bf_edge_params ep = {.test_delay_ms = 300};
    struct bf_edge *e = start_null_server(&ep);
    struct slow_job a = {.port = bf_edge_port(e), .id = 1};
    pthread_t ta;

    (void)state;
    assert_int_equal(pthread_create(&ta, NULL, slow_client, &a), 0);
    usleep(100000);
    bf_edge_stop(e);
    pthread_join(ta, NULL);
    assert_int_equal(a.status, BF_PROTO_OK);
    bf_edge_close(e);
    assert_int_equal(bf_torch_live_handles(), 0);
}

/*
 * Idle connections cannot lock working clients out (found by a hostile
 * test: 64 idle connections held every slot for the 60 s idle timeout):
 * with every slot idle, a new client is served at once and the
 * connection idle the longest is closed.
 */
static void test_edge_idle_connections_evicted(void **state)
{
    struct bf_edge_params ep = {.max_connections = 3};
    struct bf_edge *e = start_null_server(&ep);
    struct client_job ok = {.port = bf_edge_port(e), .requests = 2};
    struct bf_edge_stats st;
    int fds[3], closed = 0;
    int64_t t0;

    (void)state;
    for (int i = 0; i < 3; i++) {
        fds[i] = raw_connect(e);
        usleep(20000);
    }
    for (int i = 0; i < 100; i++) { /* all three accepted */
        bf_edge_get_stats(e, &st);
        if (st.connections == 3)
            break;
        usleep(10000);
    }
    assert_int_equal(st.connections, 3);
    t0 = bf_clock_now_ns();
    client_thread(&ok);
    assert_int_equal(ok.ok, 2);
    assert_true(bf_clock_now_ns() - t0 < 2 * SEC);
    bf_edge_get_stats(e, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.refused, 0);
    /* The oldest idle one was closed; the others are still open. */
    for (int i = 0; i < 3; i++) {
        struct pollfd pf = {.fd = fds[i], .events = POLLIN};
        char c;

        if (poll(&pf, 1, i == 0 ? 1000 : 50) == 1 &&
            recv(fds[i], &c, 1, MSG_DONTWAIT) == 0)
            closed |= 1 << i;
        close(fds[i]);
    }
    assert_int_equal(closed, 1);
    bf_edge_close(e);
}

/* A client sending half a frame cannot hold the shutdown for the I/O
 * timeout (10 s by default): it is bounded by about a second. */
static void test_edge_stop_bounded(void **state)
{
    struct bf_edge_params ep = {0};
    struct bf_edge *e = start_null_server(&ep);
    uint8_t hdr[BF_PROTO_HEADER_SIZE] = {'B', 'F'};
    int64_t t0;
    int fd;

    (void)state;
    fd = raw_connect(e);
    assert_int_equal(bf_net_write_full(fd, hdr, 20, 0), 0);
    usleep(100000);
    t0 = bf_clock_now_ns();
    bf_edge_stop(e);
    assert_true(bf_clock_now_ns() - t0 < 3 * SEC);
    close(fd);
    bf_edge_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_several_clients),
        cmocka_unit_test(test_edge_null_is_identity),
        cmocka_unit_test(test_edge_configs_match_offline),
        cmocka_unit_test(test_edge_device_answers),
        cmocka_unit_test(test_edge_busy),
        cmocka_unit_test(test_edge_malformed_frames),
        cmocka_unit_test(test_edge_timeouts),
        cmocka_unit_test(test_edge_unknown_config_and_limits),
        cmocka_unit_test(test_edge_stop_finishes_in_flight),
        cmocka_unit_test(test_edge_idle_connections_evicted),
        cmocka_unit_test(test_edge_stop_bounded),
    };

    bf_torch_set_threads(1);
    bf_test_device_banner("test_edge");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
