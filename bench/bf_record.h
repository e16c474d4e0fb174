/*
 * bf_record: the records a measurement produces, as plain data: cases,
 * latency samples and aggregates, training epochs and accuracy
 * evaluations. The runner fills them; the store persists them; reports read
 * them back from the DB.
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
    const char *case_hash; /* bf_case.hash; NULL or "" stored NULL */
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

    /*
     * Training results (schema version 2). All optional, so that a caller
     * that fills only the fields above (with designated initialisers, the
     * rest 0 or NULL) records a case without training: a NULL or "" string
     * is stored NULL; bottleneck_version, bottleneck_channels and the head_*
     * numbers are stored NULL when 0 or -1; freeze_encoder is stored NULL
     * when -1 or when strategy is unset (nothing was trained, so 0 would
     * claim too much). Any other negative number is refused.
     */
    const char *strategy;    /* "bottlefit", "naive", "teacher", "jpeg" */
    int freeze_encoder;      /* 1: encoder frozen after stage 1, 0: not */
    int bottleneck_version;  /* BottleFit bottleneck design, 0: none */
    int bottleneck_channels; /* channels at the split, 0: none */
    const char *split_shape; /* transmitted tensor per image, "12x29x29" */
    int64_t head_params;     /* parameters of the device-side head */
    int64_t head_macs;       /* its multiply-accumulates per image */
    int64_t head_bytes;      /* its fp32 parameter bytes on the device */
    const char *dataset;     /* "fashion-mnist" */
    const char *dataset_sha256;
    const char *teacher_sha256; /* weights the student was distilled from */

    /*
     * The case's seed (schema version 8; struct bf_case.seed): training,
     * the student's (a teacher's or JPEG case's: its teacher's);
     * inference, that of its random weights, synthetic inputs and link
     * randomness. Stored when seeded is 1, else NULL (runs before v8, and
     * inference cases recorded before seeds applied to them).
     */
    int seeded;
    uint64_t seed;

    /*
     * Network (schema version 4), for cases that offload; a NULL or "" link
     * stores all four NULL. A rate of 0 or an RTT below 0 (not emulated)
     * stores NULL.
     */
    const char *link; /* "fixed 20 Mbit/s RTT 20 ms (emulated in user space)" */
    double link_rate_mbps;
    double link_rtt_ms;
    int background_clients;

    /* The folded path's compute type (schema version 13): "bf16" or
     * "fp16"; NULL, "" or "fp32" are stored NULL (fp32). */
    const char *precision;
    /* Where libtorch computed (schema version 13): "cuda:0"...; NULL, ""
     * or "cpu" are stored NULL (cpu). */
    const char *device;

    /* The resumes row of the process recording the case (schema version
     * 14; bf_store_run_resume); 0, stored NULL: the process that began
     * the run. */
    int64_t resume_id;
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

/*
 * One training epoch of a case. NaN in a double is stored NULL (say, no
 * validation ran).
 */
struct bf_epoch_row {
    const char *phase; /* "stage1", "stage2", "teacher", ... */
    int epoch;         /* 1-based within the phase */
    double lr;
    double train_loss;   /* mean over the epoch's batches, as reduced */
    double val_top1;     /* percent, on the validation (selection) split */
    double seconds;      /* training time of the epoch */
    double images_per_s; /* training throughput */
    int best;            /* 1: the best validation top-1 so far */
    double train_loss_per_image; /* train_loss per image (bf_train.h) */
};

/*
 * One accuracy evaluation of a case's model. The byte and element counts
 * marked n/a are -1 when they do not apply (stored NULL); NaN reads the
 * same.
 */
struct bf_accuracy_row {
    const char *variant;         /* "fp32", "int8", "jpeg-q90", ... */
    const char *split;           /* "test" (never "val": selection data is not a
                                    result) */
    int64_t n;                   /* images evaluated */
    double top1, top5;           /* percent */
    double payload_bytes;        /* mean bytes transmitted per image, -1: n/a */
    double payload_zstd_bytes;   /* same, entropy-coded with zstd, -1: n/a */
    double transmitted_elements; /* elements of the transmitted tensor, -1:
                                    n/a */
    double input_elements;       /* C*H*W of the model input, -1: n/a */
    double jpeg_reference_bytes; /* mean JPEG bytes of the same inputs at the
                                    reference quality, -1: n/a */
    int jpeg_reference_quality;  /* 1..100, 0: n/a */
    const char *method;          /* "measured:host" */
    /* The exit rule of an early-exit model (spinn-split), stored only when
     * exit_rule is 1 (NULL otherwise). */
    int exit_rule;
    double offload_fraction; /* images that reached the split and were sent */
    double device_macs;      /* mean device MACs per image */
    /* Per-image results, image i of the n evaluated in evaluation order
     * (borrowed; pred NULL: none kept): the predicted class, and 1 when
     * the label is the top-1 / among the top-k; items_sha256 digests the
     * evaluated item indexes so that rows can be paired image by image. */
    const uint16_t *pred;
    const uint8_t *pred_top1;
    const uint8_t *pred_topk;
    const char *items_sha256;
};

/* A file a case produced (schema version 8). */
struct bf_artifact_row {
    const char *kind;   /* "student", "teacher" */
    const char *path;   /* as written */
    const char *sha256; /* hex digest of its bytes */
    int64_t bytes;
};

/* A known-answer check of a run (schema version 7): a deterministic
 * computation on a fixed input and the digest of what it produced. */
struct bf_check_row {
    const char *name;  /* "quantize_u8", ... */
    const char *value; /* hex digest */
};

/*
 * One device's view of a case (schema version 5): the case's requests as a
 * device profile would run them. Every time and power says how it was
 * obtained in latency_method / power_method ("modeled:...",
 * "measured:..."). Times are medians over the requests unless named
 * _mean; energies are means per inference. A number that does not apply
 * is NaN (stored NULL).
 */
struct bf_device_row {
    const char *device;         /* profile name, "jetson-nano-10w" */
    const char *role;           /* "device" */
    const char *latency_method; /* "modeled:roofline fit ..." */
    const char *power_method;   /* "modeled:power states ..." */
    const char *radio;          /* preset name, "" for local */
    int64_t requests;
    double host_head_ms; /* measured on this host */
    double head_ms;      /* on the device */
    double encode_ms;    /* measured on this host */
    double transfer_ms;  /* uplink + propagation + reply, measured */
    double server_ms;    /* queue + decode + tail */
    double e2e_ms;
    double e2e_mean_ms;
    double e2e_p90_ms;
    double avg_power_mw;
    double avg_power_above_idle_mw;
    double energy_mj;
    double energy_above_idle_mj;
    /* Modeled rows: the profile's runtime, and the numbers again with the
     * device's modeled compute times at the low and the high end of their
     * 90 % prediction interval (NaN: measured, or no interval). */
    const char *runtime; /* NULL: none */
    double head_lo_ms, head_hi_ms;
    double e2e_lo_ms, e2e_hi_ms;
    double avg_power_lo_mw, avg_power_hi_mw;
    double energy_lo_mj, energy_hi_mj;
};

#endif /* BF_RECORD_H */
