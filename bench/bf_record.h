/*
 * bf_record: the records a measurement produces, as plain data. The runner
 * fills them; the store persists them; reports read them back from the DB.
 * Keeping them here (below both) lets measuring stay separate from storing.
 *
 * Strings are borrowed for the duration of the call that receives a record.
 */
#ifndef BF_RECORD_H
#define BF_RECORD_H

#include "bf_stats.h"

#include <stddef.h>
#include <stdint.h>

/* A case as run. */
struct bf_case_row {
    int case_index;
    const char *config;
    const char *model;
    const char *weights;        /* "random" or the weights file path */
    const char *weights_sha256; /* "" for random */
    int input_channels;
    int input_h;
    int input_w;
    int batch;
    int threads;
    int fold_bn;
    int channels_last;
    int warmup;
    int64_t params;
    int64_t macs; /* per image */
};

/* One timed request; a stage that did not happen is -1 (stored NULL). */
struct bf_sample_row {
    int64_t seq;
    int64_t e2e_ns;
    int64_t head_ns;
    int64_t encode_ns;
    int64_t transfer_ns;
    int64_t server_queue_ns;
    int64_t server_decode_ns;
    int64_t tail_ns;
    int64_t reply_ns;
    int64_t bytes_up;
    int64_t bytes_down;
};

/* One aggregate: a metric of a case summarised. */
struct bf_aggregate_row {
    const char *metric; /* "e2e", "head", ... */
    const char *unit;   /* "ms" */
    const char *method; /* "measured:host:CLOCK_MONOTONIC" or "modeled:..." */
    struct bf_stats stats;
};

#endif /* BF_RECORD_H */
