/*
 * bf_device: device profiles (Jetson Nano, Raspberry Pi 4, this host, an
 * edge server), the per-layer latency model fitted to published
 * measurements, the power-state energy model and radio presets.
 *
 * Profiles are YAML files (scenarios/devices/NAME.yaml). Every number in a
 * shipped profile carries a comment with its source or the word
 * "assumption"; comments are for readers and are not checked, but every
 * required number must be present. A scenario overrides any number with
 * "PROFILE:FIELD=VALUE" (bf_device_profile_set).
 *
 * Latency model. A forward (or a stage range) is the list of its
 * convolution, grouped convolution and linear layers (bf_layer_info, from
 * the shim, or for architectures outside the zoo from a layer list file
 * beside the profiles). Each layer costs
 *
 *   roofline:  max(macs / throughput[kind], bytes / bandwidth) + fixed
 *   additive:  macs / throughput[kind] + bytes / bandwidth + fixed
 *   fixed:     overhead + sublinear x sqrt(macs / 1e6)
 *
 * where bytes = 4 x (input + output + parameters) elements (fp32), the
 * throughputs are effective GMAC/s per layer kind (dense 3x3 stride-1
 * convolutions, other dense convolutions, grouped, linear; a 3x3 or linear
 * throughput of 0 means "as conv_gmacs", one parameter fewer to fit), the
 * bandwidth an effective GB/s, and the overhead a fixed time per layer
 * (kernel launch, framework dispatch; it also absorbs the unlisted
 * BatchNorm, activation and pooling work). The sublinear term is the part
 * of a layer's time that shrinks more slowly than its work: partial tiles
 * and thread synchronisation on multi-core CPUs, under-occupied GPUs.
 * Both forms are linear in the reciprocals 1/throughput, 1/bandwidth and in
 * the overhead and sublinear terms once each layer's bound is known, which
 * makes fitting a small least-squares problem. The runtime (a profile's
 * `runtime`: pytorch-fp16, tensorrt-fp16, ncnn-fp32, ...) is part of what
 * a profile describes: one board under two runtimes is two profiles, each
 * fitted to points of its own runtime.
 *
 * Prediction intervals. Each leave-one-out prediction of a calibration
 * point gives a ratio measured / predicted; the log ratios' mean m and
 * standard deviation s over the n points give the 90 % prediction
 * interval of a modeled time t as t x exp(m -+ t_{0.95,n-1} s sqrt(1 +
 * 1/n)) (bf_device_interval). A profile with fewer than 3 fitted points
 * states its own log standard deviation (latency.interval_log_sd,
 * labelled as an assumption in the file).
 *
 * Fitting (bf_device_fit) minimises the squared relative error over the
 * calibration points plus a ridge term pulling each fitted parameter
 * towards the profile's prior value (prior_weight x squared relative
 * change): with a few published points per device, the prior keeps
 * parameters the points cannot tell apart where the profile put them.
 * Roofline fits alternate between assigning each layer its bound and
 * solving, until the assignment stops changing. Parameters stay positive.
 *
 * Energy: a request on the device is a sequence of power states (compute,
 * radio transmit, radio receive, waiting with the radio on); energy is the
 * sum of power x time, average power is energy / end-to-end time, and
 * both are also given above the idle power.
 *
 * Ownership: bf_device_profile_open allocates; bf_device_profile_free
 * accepts NULL. Nothing here uses torch: layer lists come from the caller.
 */
#ifndef BF_DEVICE_H
#define BF_DEVICE_H

#include "bf_layer_info.h"

#include <stddef.h>
#include <stdint.h>

#define BF_DEVICE_NAME_MAX 64
#define BF_DEVICE_TEXT_MAX 256
#define BF_DEVICE_POINTS_MAX 64

/* The latency model's parameters, in the order of bf_device_param_name. */
enum bf_device_param {
    BF_DEVICE_CONV_GMACS = 0,    /* dense convolutions, GMAC/s */
    BF_DEVICE_GROUPED_GMACS = 1, /* grouped and depthwise, GMAC/s */
    BF_DEVICE_LINEAR_GMACS = 2,  /* fully connected, GMAC/s */
    BF_DEVICE_BANDWIDTH_GBS = 3, /* effective memory bandwidth, GB/s */
    BF_DEVICE_OVERHEAD_US = 4,   /* fixed time per layer, us */
    BF_DEVICE_CONV3X3_GMACS = 5, /* dense 3x3 stride 1, GMAC/s (runtimes
                                    use Winograd there) */
    BF_DEVICE_SUBLINEAR_US = 6,  /* us per square root of a layer's MMACs */
};
#define BF_DEVICE_PARAMS 7

enum bf_device_form {
    BF_DEVICE_ROOFLINE = 0,
    BF_DEVICE_ADDITIVE = 1,
};

struct bf_device_latency {
    int form;                       /* enum bf_device_form */
    double value[BF_DEVICE_PARAMS]; /* enum bf_device_param order */
    unsigned fit_mask;              /* bit p set: parameter p is fitted */
    double prior_weight;            /* ridge weight towards value[] */
    double interval_log_sd;         /* stated spread of log(measured / modeled),
                                       for profiles with under 3 fitted points */
};

/*
 * The error model of a fitted profile: log(measured / predicted) over its
 * leave-one-out predictions, or a stated spread. n == 0: none (no interval).
 */
struct bf_device_error {
    double log_mean; /* mean log ratio (the fit's bias out of sample) */
    double log_sd;   /* their standard deviation */
    size_t n;        /* points behind them; 0 with a stated spread */
    double factor;   /* t_{0.95,n-1} sqrt(1 + 1/n), or 1.645 when stated */
    int stated;      /* 1: log_sd is the profile's interval_log_sd */
};

/* Power per state, milliwatts of the whole board (radio excluded). */
struct bf_device_power {
    double idle_mw;    /* on, nothing running */
    double compute_mw; /* running inference */
};

/* A published (or, for the host, measured here) latency. */
struct bf_device_point {
    char model[BF_DEVICE_NAME_MAX]; /* zoo architecture */
    int input_px;                   /* square input side */
    double latency_ms;              /* 0 with measure set */
    int measure;                    /* 1: measure on this host (calibrate) */
    char source[BF_DEVICE_TEXT_MAX];
};

struct bf_device_profile {
    char name[BF_DEVICE_NAME_MAX];
    char role[16]; /* "device" or "edge" */
    char description[BF_DEVICE_TEXT_MAX];
    char detect[BF_DEVICE_TEXT_MAX];  /* substring of the board model, "" */
    char runtime[BF_DEVICE_NAME_MAX]; /* "pytorch-fp16", "ncnn-fp32", ... */
    char path[1024];                  /* the file it came from */
    struct bf_device_latency latency;
    struct bf_device_power power;
    size_t n_points;
    struct bf_device_point points[BF_DEVICE_POINTS_MAX];
};

/* A radio preset (scenarios/channels/NAME.yaml): the linear power model
 * P = base + per-Mbit/s x throughput while the radio is active. */
struct bf_radio {
    char name[BF_DEVICE_NAME_MAX];
    char description[BF_DEVICE_TEXT_MAX];
    double base_mw;          /* radio on, connected */
    double up_mw_per_mbps;   /* added per Mbit/s sent */
    double down_mw_per_mbps; /* added per Mbit/s received */
};

/* Profiles */

/*
 * Open the profile name: a path (containing '/' or ending ".yaml"), or
 * NAME.yaml in the first of dirs[0..n_dirs) that has it. BF_ENOENT lists
 * the profiles found; BF_EPARSE / BF_ERANGE name file:line:col and the
 * field. Caller owns *out, free with bf_device_profile_free.
 */
int bf_device_profile_open(const char *name, const char *const *dirs,
                           size_t n_dirs, struct bf_device_profile **out);
void bf_device_profile_free(struct bf_device_profile *profile);

/* Parse a profile from text (file is the name used in messages). */
int bf_device_profile_parse(const char *file, const char *text, size_t len,
                            struct bf_device_profile **out);

/*
 * Override one number or word: field is a dotted key as in the file
 * ("power.idle_mw", "latency.conv_gmacs", "latency.form"). BF_ENOENT for an
 * unknown field, BF_ERANGE / BF_EPARSE for a bad value.
 */
int bf_device_profile_set(struct bf_device_profile *profile, const char *field,
                          const char *value);

/*
 * Apply "PROFILE:FIELD=VALUE" when PROFILE is this profile's name (else
 * nothing). Errors name the whole override.
 */
int bf_device_profile_override(struct bf_device_profile *profile,
                               const char *override);

/* "conv_gmacs", ... for a parameter index; NULL out of range. */
const char *bf_device_param_name(int param);

/* Radio presets */

/* Open NAME.yaml from dirs, as for profiles. */
int bf_radio_open(const char *name, const char *const *dirs, size_t n_dirs,
                  struct bf_radio *out);
int bf_radio_parse(const char *file, const char *text, size_t len,
                   struct bf_radio *out);

/* Latency */

/* Predicted time of the layers, milliseconds (0 for no layers). */
double bf_device_predict_ms(const struct bf_device_latency *model,
                            const struct bf_layer_info *layers, size_t n);

/* One calibration sample: a layer list and its measured time. */
struct bf_device_sample {
    const struct bf_layer_info *layers;
    size_t n_layers;
    double measured_ms;
};

/*
 * Fit the parameters in prior->fit_mask to the samples (the others keep
 * prior's values). n may be 0 (the fit is the prior). BF_EINVAL for a
 * sample without layers or a non-positive time or prior.
 */
int bf_device_fit(const struct bf_device_latency *prior,
                  const struct bf_device_sample *samples, size_t n,
                  struct bf_device_latency *fit);

/*
 * Leave-one-out: loo_ms[i] is sample i predicted by a fit to all the
 * others.
 */
int bf_device_leave_one_out(const struct bf_device_latency *prior,
                            const struct bf_device_sample *samples, size_t n,
                            double *loo_ms);

/*
 * The error model from n >= 3 leave-one-out predictions (measured[i]
 * against loo_ms[i]); with fewer, the stated spread of prior (none when
 * it states none: out->factor 0). BF_EINVAL for a non-positive time.
 */
int bf_device_error_model(const struct bf_device_latency *prior,
                          const double *measured_ms, const double *loo_ms,
                          size_t n, struct bf_device_error *out);

/*
 * The 90 % prediction interval of a modeled time t under e: [*lo, *hi];
 * both t when e has no interval (factor 0). Also for energies that scale
 * with the time (apply it to the modeled part).
 */
void bf_device_interval(const struct bf_device_error *e, double t, double *lo,
                        double *hi);

/* Energy */

/* Where one request's time went on the device, milliseconds. */
struct bf_device_timeline {
    double compute_ms; /* head forward and encoding (or the whole model) */
    double tx_ms;      /* sending the request */
    double rx_ms;      /* receiving the reply */
    double wait_ms;    /* waiting for the edge with the radio on */
    double up_mbps;    /* throughput while sending */
    double down_mbps;  /* throughput while receiving */
};

struct bf_device_energy {
    double e2e_ms;
    double energy_mj;
    double energy_above_idle_mj;
    double avg_power_mw;
    double avg_power_above_idle_mw;
};

/* radio may be NULL when nothing is sent. */
void bf_device_energy(const struct bf_device_power *power,
                      const struct bf_radio *radio,
                      const struct bf_device_timeline *t,
                      struct bf_device_energy *out);

#endif /* BF_DEVICE_H */
