/*
 * Tests of bf_net over loopback, each bounded in time: full reads and
 * writes, a peer closing mid-message, a silent peer timing out, a refused
 * connection, and a link-shaped write whose timing lands within a tolerant
 * bound of the emulated schedule (the benchmark holds the tight one).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000000LL

struct pair {
    int listen_fd, client, server;
};

static void open_pair(struct pair *p)
{
    int port = 0;

    assert_int_equal(bf_net_listen("127.0.0.1", 0, 4, &p->listen_fd, &port), 0);
    assert_true(port > 0);
    assert_int_equal(bf_net_connect("127.0.0.1", port,
                                    bf_clock_now_ns() + 2 * SEC, &p->client),
                     0);
    assert_int_equal(
        bf_net_accept(p->listen_fd, bf_clock_now_ns() + 2 * SEC, &p->server),
        0);
}

static void close_pair(struct pair *p)
{
    close(p->listen_fd);
    if (p->client >= 0)
        close(p->client);
    if (p->server >= 0)
        close(p->server);
}

static void test_net_round_trip_and_errors(void **state)
{
    struct pair p;
    char out[70000], in[70000];
    int64_t t0;

    (void)state;
    open_pair(&p);
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (char)(i * 7);
    assert_int_equal(bf_net_write_full(p.client, out, sizeof(out),
                                       bf_clock_now_ns() + 2 * SEC),
                     0);
    assert_int_equal(
        bf_net_read_full(p.server, in, sizeof(in), bf_clock_now_ns() + 2 * SEC),
        0);
    assert_memory_equal(in, out, sizeof(in));

    /* A silent peer: the deadline ends the read, saying how far it got. */
    assert_int_equal(bf_net_write_full(p.client, out, 10, 0), 0);
    t0 = bf_clock_now_ns();
    assert_int_equal(bf_net_read_full(p.server, in, 100, t0 + SEC / 10),
                     BF_ETIMEOUT);
    assert_true(bf_clock_now_ns() - t0 < SEC);
    assert_non_null(strstr(bf_last_error(), "10 of 100 bytes"));

    /* The peer closes mid-message. */
    assert_int_equal(bf_net_write_full(p.client, out, 5, 0), 0);
    close(p.client);
    p.client = -1;
    assert_int_equal(
        bf_net_read_full(p.server, in, 50, bf_clock_now_ns() + 2 * SEC),
        BF_EIO);
    assert_non_null(strstr(bf_last_error(), "peer closed after 5 of 50"));
    close_pair(&p);
}

static void test_net_refused_and_bad_address(void **state)
{
    int fd = -1, lfd = -1, port = 0;

    (void)state;
    /* A port that was just free: nobody listens there any more. */
    assert_int_equal(bf_net_listen("127.0.0.1", 0, 1, &lfd, &port), 0);
    close(lfd);
    assert_int_equal(
        bf_net_connect("127.0.0.1", port, bf_clock_now_ns() + SEC, &fd),
        BF_EIO);
    assert_non_null(strstr(bf_last_error(), "connect to 127.0.0.1"));
    assert_int_equal(bf_net_connect("localhost:x", 1, 0, &fd), BF_EINVAL);
    assert_int_equal(bf_net_listen("127.0.0.1", 70000, 1, &lfd, &port),
                     BF_EINVAL);
}

/*
 * 50,000 bytes through a 20 Mbit/s link with a 10 ms RTT: the schedule
 * says the last byte arrives 25 ms after the offer; the receiver sees it
 * within a tolerant bound of that, and never before the first byte's
 * one-way delay.
 */
static void test_net_shaped_write(void **state)
{
    struct bf_link_params lp = {.kind = "fixed", .rate_mbps = 20, .rtt_ms = 10};
    struct bf_link *link = NULL;
    struct pair p;
    char *buf = calloc(1, 50000);
    int64_t offered = 0, sent = 0, arrive = 0, got;

    (void)state;
    assert_non_null(buf);
    open_pair(&p);
    assert_int_equal(bf_link_open(&lp, &link), 0);
    assert_int_equal(bf_net_write_shaped(p.client, link, buf, 50000,
                                         bf_clock_now_ns() + 2 * SEC, &offered,
                                         &sent, &arrive),
                     0);
    assert_int_equal(
        bf_net_read_full(p.server, buf, 50000, bf_clock_now_ns() + 2 * SEC), 0);
    got = bf_clock_now_ns();
    assert_true(sent - offered == 20000000);   /* 50 kB at 20 Mbit/s */
    assert_true(arrive - offered == 25000000); /* plus 5 ms one way */
    print_message("shaped: last byte after %.3f ms (schedule 25 ms)\n",
                  (double)(got - offered) / 1e6);
    assert_true(got >= offered + 24000000);
    assert_true(got <= offered + 40000000);
    bf_link_close(link);
    close_pair(&p);
    free(buf);
}

/*
 * Frames over a connection: a request and its payload through a link, a
 * reply back; a malformed header is refused before its payload is read.
 */
static void test_net_frames(void **state)
{
    struct bf_link_params lp = {.kind = "fixed", .rate_mbps = 100, .rtt_ms = 2};
    struct bf_link *link = NULL;
    struct bf_proto_request req = {.kind = BF_PROTO_U8,
                                   .ndim = 3,
                                   .shape = {2, 8, 8},
                                   .payload_len = 128,
                                   .scale = 0.5f,
                                   .zero_point = 3,
                                   .config_id = 4,
                                   .request_id = 77},
                            got;
    struct bf_proto_reply rep = {.status = BF_PROTO_OK,
                                 .k = 1,
                                 .request_id = 77,
                                 .tail_ns = 123},
                          back;
    struct bf_proto_limits small = {.max_payload = 64, .max_elements = 1000};
    uint8_t payload[128];
    struct bf_buf in;
    struct pair p;
    int64_t offered = 0, arrive = 0;

    (void)state;
    for (int i = 0; i < 128; i++)
        payload[i] = (uint8_t)i;
    bf_buf_init(&in);
    open_pair(&p);
    assert_int_equal(bf_link_open(&lp, &link), 0);
    assert_int_equal(bf_net_send_request(p.client, link, &req, payload,
                                         bf_clock_now_ns() + 2 * SEC, &offered,
                                         &arrive),
                     0);
    /* 176 bytes at 100 Mbit/s: 14.08 us, plus 1 ms one way. */
    assert_true(arrive - offered == 1014080);
    assert_int_equal(bf_net_recv_request(p.server, NULL,
                                         bf_clock_now_ns() + 2 * SEC, &got,
                                         &in),
                     0);
    assert_true(got.request_id == 77 && got.config_id == 4 &&
                got.zero_point == 3 && got.scale == 0.5f);
    assert_int_equal(in.len, 128);
    assert_memory_equal(in.data, payload, 128);
    rep.topk[0] = (struct bf_proto_topk){.cls = 9, .score = 0.75f};
    snprintf(rep.message, sizeof(rep.message), "fine");
    assert_int_equal(
        bf_net_send_reply(p.server, &rep, bf_clock_now_ns() + 2 * SEC), 0);
    assert_int_equal(
        bf_net_recv_reply(p.client, bf_clock_now_ns() + 2 * SEC, &back), 0);
    assert_true(back.request_id == 77 && back.k == 1 && back.topk[0].cls == 9 &&
                back.tail_ns == 123);
    assert_string_equal(back.message, "fine");

    /* Over the server's limit: refused from the header alone. */
    assert_int_equal(
        bf_net_send_request(p.client, NULL, &req, payload, 0, NULL, NULL), 0);
    assert_int_equal(bf_net_recv_request(p.server, &small,
                                         bf_clock_now_ns() + 2 * SEC, &got,
                                         &in),
                     BF_EPROTO);
    assert_non_null(strstr(bf_last_error(), "128 bytes over the limit"));
    bf_buf_free(&in);
    bf_link_close(link);
    close_pair(&p);
}

/* The benchmark end to end on one small cell. */
static void test_net_bench_cell(void **state)
{
    const double rate = 50;
    const uint64_t size = 20000;
    struct bf_netbench_row row;

    (void)state;
    assert_int_equal(bf_netbench_run(&rate, 1, &size, 1, 4, 3, &row), 0);
    assert_true(row.rate_mbps == 50 && row.bytes == 20000);
    assert_true(fabs(row.ideal_ms - 5.2) < 1e-9);
    print_message("bench cell: %.3f ms (ideal %.3f)\n", row.measured_ms,
                  row.ideal_ms);
    assert_true(row.measured_ms > row.ideal_ms - 1.0);
    assert_true(row.measured_ms < row.ideal_ms + 15.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_round_trip_and_errors),
        cmocka_unit_test(test_net_refused_and_bad_address),
        cmocka_unit_test(test_net_shaped_write),
        cmocka_unit_test(test_net_frames),
        cmocka_unit_test(test_net_bench_cell),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
