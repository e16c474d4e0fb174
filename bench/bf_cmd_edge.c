/*
 * bfbench edge: the edge server of a scenario's offloaded cases, until
 * SIGINT or SIGTERM.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_edge.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_offload.h"
#include "bf_scenario.h"
#include "bf_split.h"
#include "bf_torch.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void edge_help(void)
{
    printf(
        "usage: bfbench edge --scenario FILE [OPTIONS]\n"
        "\n"
        "Serve the offloaded cases of an inference scenario (every case whose\n"
        "config is not local) as the edge server: config id = case index, the\n"
        "tails built from the same keys and seed as the device side. Run it\n"
        "on the server machine and `bfbench run` with `link: direct` and\n"
        "`edge_address: HOST:PORT` on the device. SIGINT/SIGTERM stop it\n"
        "after the requests in flight are answered.\n"
        "\n"
        "options:\n"
        "  --scenario FILE        the scenario the device runs (required)\n"
        "  --listen ADDR:PORT     address to listen on (127.0.0.1:7450;\n"
        "                         port 0 picks a free one)\n"
        "  --workers N            tail threads (scenario's edge_workers)\n"
        "  --queue N              requests that may wait before busy\n"
        "                         replies (scenario's edge_queue)\n"
        "  --threads N            intra-op threads per tail (0 = cores)\n"
        "  --max-connections N    concurrent clients (64)\n"
        "  --idle-timeout-ms N    close a connection idle this long (60000)\n"
        "  --io-timeout-ms N      a frame must complete within this (10000)\n"
        "  --ready-file PATH      write ADDR:PORT there once listening\n"
        "  --device DEV           where the tails compute: cpu, cuda, cuda:N\n"
        "                         (the scenario's `device`; exit 3 where\n"
        "                         CUDA is missing)\n"
        "  --help                 this text\n"
        "\n"
        "Once listening it prints one line on stdout:\n"
        "  bfbench edge: ready on ADDR:PORT (N endpoints)\n");
}

/* Split "host:port" into host (size bytes) and port. */
static int parse_address(const char *text, char *host, size_t size, int *port)
{
    const char *colon = strrchr(text, ':');
    char *end;
    long v;

    if (!colon || colon == text || (size_t)(colon - text) >= size)
        return usage_error("edge", "--listen: '%s' is not ADDR:PORT", text);
    errno = 0;
    v = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || v < 0 || v > 65535)
        return usage_error("edge", "--listen: bad port in '%s'", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (int)v;
    return 0;
}

/* Write text to path through a temporary file and a rename. */
static int write_ready_file(const char *path, const char *text)
{
    char tmp[1100];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return bf_err_set(BF_EIO, "%s: %s", tmp, strerror(errno));
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return bf_err_set(BF_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

/* Build the tails of every offloaded case into the server. */
static int edge_add_cases(struct bf_edge *e, const struct bf_scenario *sc,
                          int *count)
{
    *count = 0;
    for (size_t i = 0; i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];
        struct bf_split_params p;
        struct bf_split *s = NULL;
        int rc;

        if (strcmp(c->config, "local") == 0)
            continue;
        bf_offload_split_params(sc, c, &p);
        bf_log_info("edge: config %zu: %s %s", i, c->config, c->model);
        rc = bf_split_open(&p, &s);
        if (rc == 0)
            rc = bf_edge_add(e, (uint32_t)i, s);
        if (rc)
            return rc;
        (*count)++;
    }
    return 0;
}

int bf_cmd_edge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"queue", required_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'm'},
        {"idle-timeout-ms", required_argument, NULL, 'i'},
        {"io-timeout-ms", required_argument, NULL, 'o'},
        {"ready-file", required_argument, NULL, 'r'},
        {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct bf_scenario *sc = NULL;
    struct bf_edge *e = NULL;
    struct bf_edge_stats st;
    const char *scenario = NULL, *listen = "127.0.0.1:7450", *ready = NULL;
    const char *device = NULL;
    int workers = -1, queue = -1, threads = 0, max_conn = 0;
    int idle_ms = 0, io_ms = 0;
    char host[256], where[300];
    int port = 0, n = 0, c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            scenario = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'w':
            rc = parse_int("edge", "--workers", optarg, 1, 64, &workers);
            break;
        case 'q':
            rc = parse_int("edge", "--queue", optarg, 0, 4096, &queue);
            break;
        case 't':
            rc = parse_int("edge", "--threads", optarg, 0, 1024, &threads);
            break;
        case 'm':
            rc = parse_int("edge", "--max-connections", optarg, 1, 4096,
                           &max_conn);
            break;
        case 'i':
            rc = parse_int("edge", "--idle-timeout-ms", optarg, 1, 86400000,
                           &idle_ms);
            break;
        case 'o':
            rc = parse_int("edge", "--io-timeout-ms", optarg, 1, 86400000,
                           &io_ms);
            break;
        case 'r':
            ready = optarg;
            break;
        case 'd':
            device = optarg;
            break;
        case 'h':
            edge_help();
            return EXIT_OK;
        default:
            return usage_error("edge", "unknown option");
        }
        if (c != 's' && c != 'l' && c != 'r' && c != 'd' && rc)
            return rc;
        rc = 0;
    }
    if (optind != argc)
        return usage_error("edge", "unexpected argument '%s'", argv[optind]);
    if (!scenario)
        return usage_error("edge", "--scenario FILE is required");
    if ((rc = parse_address(listen, host, sizeof(host), &port)))
        return rc;
    rc = bf_scenario_load(scenario, &bf_cli_scenario_params, &sc);
    if (rc)
        return error_exit(rc);
    if (sc->task != BF_TASK_INFERENCE) {
        bf_scenario_free(sc);
        return usage_error("edge", "%s is a train scenario: nothing to serve",
                           scenario);
    }
    /* --device overrides the scenario's: the server may sit on a GPU
     * while the device side computes on its CPU. */
    if (device && strlen(device) >= sizeof(sc->device)) {
        bf_scenario_free(sc);
        return usage_error("edge", "--device: '%s' too long", device);
    }
    if (device)
        snprintf(sc->device, sizeof(sc->device), "%s", device);
    rc = bf_cli_check_device(device ? "bfbench edge --device" : sc->path,
                             sc->device);
    if (rc != EXIT_OK) {
        bf_scenario_free(sc);
        return rc;
    }
    {
        struct bf_edge_params ep = {
            .host = host,
            .port = port,
            .workers = workers > 0 ? workers : sc->edge_workers,
            .queue = queue >= 0 ? queue : sc->edge_queue,
            .max_connections = max_conn,
            .idle_timeout_ms = idle_ms,
            .io_timeout_ms = io_ms};

        rc = bf_torch_set_threads(threads);
        if (rc == 0)
            rc = bf_edge_open(&ep, &e);
    }
    if (rc == 0)
        rc = edge_add_cases(e, sc, &n);
    if (rc == 0 && n == 0)
        rc =
            bf_err_set(BF_EINVAL, "%s: no case offloads (all local)", scenario);
    if (rc == 0)
        rc = bf_edge_start(e);
    if (rc == 0) {
        snprintf(where, sizeof(where), "%s:%d", host, bf_edge_port(e));
        if (ready)
            rc = write_ready_file(ready, where);
    }
    if (rc) {
        bf_edge_close(e);
        bf_scenario_free(sc);
        return error_exit(rc);
    }
    bf_cli_stop = 0;
    bf_cli_stop_on_signal();
    printf("bfbench edge: ready on %s (%d endpoints)\n", where, n);
    fflush(stdout);
    while (!bf_cli_stop) {
        struct timespec ts = {.tv_nsec = 100000000L};

        nanosleep(&ts, NULL);
    }
    bf_log_info("edge: stopping (finishing requests in flight)");
    bf_edge_stop(e);
    bf_edge_get_stats(e, &st);
    bf_log_info("edge: %llu connections, %llu ok, %llu busy, %llu bad, "
                "%llu unknown config, %llu errors, %llu timeouts, %llu "
                "refused, %llu idle evicted",
                (unsigned long long)st.connections, (unsigned long long)st.ok,
                (unsigned long long)st.busy, (unsigned long long)st.bad,
                (unsigned long long)st.unknown, (unsigned long long)st.errors,
                (unsigned long long)st.timeouts, (unsigned long long)st.refused,
                (unsigned long long)st.evicted);
    bf_edge_close(e);
    bf_scenario_free(sc);
    if (ready)
        unlink(ready);
    return EXIT_OK;
}
