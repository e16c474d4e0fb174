/* bfbench netbench: the emulated link timed on a loopback TCP stream. */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_log.h"
#include "bf_net.h"
#include "bf_report.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void netbench_help(void)
{
    printf("usage: bfbench netbench [--rates LIST] [--sizes LIST] [--rtt MS] "
           "[--repeats N]\n"
           "                        [--format text|csv|md]\n"
           "\n"
           "Send payloads through the 'fixed' emulated link (bf_link) over a "
           "loopback TCP\n"
           "connection to a receiver thread and time each from the offer to "
           "the arrival\n"
           "of its last byte; compare the median with the ideal bytes * 8 / "
           "rate + RTT / 2.\n"
           "A row is within target when the error is at most 2 %% of the "
           "ideal or 1 ms,\n"
           "whichever is larger. Exits 1 when a row misses it.\n"
           "\n"
           "  --rates LIST   Mbit/s, comma-separated (default 1,5,20,100)\n"
           "  --sizes LIST   payload bytes (default 1000,10000,100000,"
           "1000000)\n"
           "  --rtt MS       round-trip propagation delay (default 20)\n"
           "  --repeats N    messages per cell, the median is reported "
           "(default 3)\n"
           "  --format F     text (default), csv or md\n");
}

/* A comma-separated list of positive numbers. */
static int parse_list(const char *cmd, const char *opt, const char *text,
                      double max, double *out, size_t cap, size_t *n)
{
    const char *p = text;

    *n = 0;
    while (*p) {
        char *end;
        double v;

        errno = 0;
        v = strtod(p, &end);
        if (end == p || errno || !(v > 0) || v > max || (*end && *end != ','))
            return usage_error(cmd,
                               "%s: '%s' is not a list of numbers in "
                               "(0, %g]",
                               opt, text, max);
        if (*n == cap)
            return usage_error(cmd, "%s: more than %zu values", opt, cap);
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    if (*n == 0)
        return usage_error(cmd, "%s: empty list", opt);
    return 0;
}

int bf_cmd_netbench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rates", required_argument, NULL, 'r'},
        {"sizes", required_argument, NULL, 's'},
        {"rtt", required_argument, NULL, 't'},
        {"repeats", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    double rates[16] = {1, 5, 20, 100}, sizes_d[16] = {1e3, 1e4, 1e5, 1e6};
    size_t n_rates = 4, n_sizes = 4, missed = 0;
    uint64_t sizes[16];
    struct bf_netbench_row rows[256];
    int format = BF_REPORT_TEXT;
    double rtt = 20.0;
    int repeats = 3, c, rc;

    optind = 0; /* 0: glibc re-initialises (permutation back on) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if ((rc = parse_list("netbench", "--rates", optarg, 1e5, rates, 16,
                                 &n_rates)))
                return rc;
            break;
        case 's':
            if ((rc = parse_list("netbench", "--sizes", optarg, 1e9, sizes_d,
                                 16, &n_sizes)))
                return rc;
            break;
        case 't': {
            char *end;

            errno = 0;
            rtt = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(rtt >= 0) || rtt > 10000)
                return usage_error("netbench",
                                   "--rtt: '%s' is not a delay in 0..10000 ms",
                                   optarg);
            break;
        }
        case 'n':
            if ((rc = parse_int("netbench", "--repeats", optarg, 1, 1000,
                                &repeats)))
                return rc;
            break;
        case 'f':
            if ((rc = parse_format("netbench", optarg, 1, &format)))
                return rc;
            break;
        case 'h':
            netbench_help();
            return EXIT_OK;
        default:
            return usage_error("netbench", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("netbench", "unexpected argument '%s'",
                           argv[optind]);
    for (size_t j = 0; j < n_sizes; j++)
        sizes[j] = (uint64_t)sizes_d[j];
    bf_log_info("netbench: %zu rates x %zu sizes, %d repeats, RTT %g ms",
                n_rates, n_sizes, repeats, rtt);
    rc = bf_netbench_run(rates, n_rates, sizes, n_sizes, rtt, repeats, rows);
    if (rc)
        return error_exit(rc);
    if (format == BF_REPORT_CSV)
        printf("rate_mbps,bytes,ideal_ms,measured_ms,error_ms,within\r\n");
    else if (format == BF_REPORT_MARKDOWN)
        printf("| rate Mbit/s | bytes | ideal ms | measured ms | error ms | "
               "within target |\n| ---: | ---: | ---: | ---: | ---: | --- |\n");
    else
        printf("%10s  %9s  %10s  %11s  %9s  %s\n", "rate Mbit/s", "bytes",
               "ideal ms", "measured ms", "error ms", "within target");
    for (size_t i = 0; i < n_rates * n_sizes; i++) {
        const struct bf_netbench_row *r = &rows[i];
        const char *yes = r->within ? "yes" : "NO";

        missed += !r->within;
        if (format == BF_REPORT_CSV)
            printf("%g,%llu,%.3f,%.3f,%.3f,%d\r\n", r->rate_mbps,
                   (unsigned long long)r->bytes, r->ideal_ms, r->measured_ms,
                   r->error_ms, r->within);
        else if (format == BF_REPORT_MARKDOWN)
            printf("| %g | %llu | %.3f | %.3f | %+.3f | %s |\n", r->rate_mbps,
                   (unsigned long long)r->bytes, r->ideal_ms, r->measured_ms,
                   r->error_ms, yes);
        else
            printf("%10g  %9llu  %10.3f  %11.3f  %+9.3f  %s\n", r->rate_mbps,
                   (unsigned long long)r->bytes, r->ideal_ms, r->measured_ms,
                   r->error_ms, yes);
    }
    if (missed) {
        bf_log_error("%zu of %zu rows missed the target", missed,
                     n_rates * n_sizes);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}
