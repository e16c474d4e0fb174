/*
 * bf_devmodel: the device models of a scenario, applied to its inference
 * cases, and the calibration of a profile (`bfbench calibrate`).
 *
 * Opening loads every profile the scenario lists (its `devices`, with its
 * `device_overrides`), the radio preset and, unless edge_device is
 * "host", an edge profile; then fits each device profile's latency model
 * to the profile's published calibration points (the layers of each
 * point's architecture come from the shim, built with seeded random
 * weights: only shapes matter). Opened to check only (a dry run), it
 * loads and validates the same things, including that every calibration
 * point names a zoo architecture, but fits nothing.
 *
 * Fits are cached the same way: fit-PROFILE-HASH.txt in the layer cache
 * directory holds a profile's fitted values and error model, keyed by the
 * build, the profile's latency prior and points and the content of the
 * layer list files they read; a run that finds it lists no layers.
 *
 * Layer lists. Building an architecture to list its layers takes up to a
 * few seconds (VGG's random weights alone are half a gigabyte), and the
 * default profiles name some twenty architectures. A layer cache
 * directory keeps each list in a file between processes
 * (bf_devmodel_arch_layers_cached), ARCH-PX-TAG.layers: the file records
 * the build that computed it, the SHA-256 of the running executable
 * (which links the model zoo) and the libtorch version, TAG is a digest
 * of both, and only that same build uses it, so a cached list is always
 * the list a fresh computation gives. Files are written whole to a
 * temporary name and renamed into place, so concurrent processes never
 * read a partial file; a damaged file is computed again and replaced.
 * Reading a file touches it; writing one removes the files of the same
 * list that other builds have not used for a week. The cache only ever
 * saves time: when it cannot be read or written the lists are computed.
 *
 * A profile is "here" when its `detect` string is "*" (the host profile)
 * or a substring of this board's /proc/device-tree/model (a real Jetson or
 * Pi): its head time is then the host's measured time, and its power the
 * probe's reading when a probe is present. Every other device is modeled.
 *
 * Per case and device (bf_devmodel_case), each request of the case's
 * sample rows becomes a device timeline: the head predicted from the
 * device part's layers (or measured here), the host-measured encode time,
 * the uplink serialisation at the link rate (the measured transfer when
 * the link is unshaped), the rest of the measured transfer, the server's
 * queue, decode and tail times (measured, or the tail modeled with the
 * edge profile), and the measured reply time. Energy per request follows
 * from the power states (bf_device_energy). The row gives medians and
 * means over the requests and labels every number's method.
 *
 * Ownership: bf_devmodel_open allocates; bf_devmodel_close accepts NULL.
 */
#ifndef BF_DEVMODEL_H
#define BF_DEVMODEL_H

#include "bf_device.h"
#include "bf_record.h"
#include "bf_scenario.h"

#include <stddef.h>
#include <stdint.h>

struct bf_devmodel;

/* Where profiles and radio presets are looked up, in order: each
 * directory holds devices/ and channels/. */
struct bf_devmodel_params {
    const char *const *dirs;
    size_t n_dirs;
    /* 1: load and validate everything, fit nothing (a dry run); the
     * models then describe no case (bf_devmodel_case fails). */
    int check_only;
    /* Where layer lists are cached between processes; NULL: none, every
     * open computes them. */
    const char *layer_cache_dir;
};

/*
 * Load and fit the scenario's device models. *out is NULL when the
 * scenario lists no devices. Errors name the profile or override (or
 * the calibration point whose architecture is unknown).
 */
int bf_devmodel_open(const struct bf_scenario *sc,
                     const struct bf_devmodel_params *params,
                     struct bf_devmodel **out);
void bf_devmodel_close(struct bf_devmodel *dm);

/* What a case ran, beyond its sample rows. */
struct bf_devmodel_case {
    const struct bf_layer_info *head; /* device part, NULL when none */
    size_t n_head;
    const struct bf_layer_info *tail; /* edge part, NULL when none */
    size_t n_tail;
    int whole_forward;      /* sample e2e is the host's whole-model forward */
    double up_mbps;         /* link uplink rate, 0: unshaped */
    double down_mbps;       /* downlink rate, 0: unshaped */
    double probe_energy_mj; /* measured over the timed window, < 0: none */
    double probe_window_ms;
    const char *probe_method; /* "measured:ina3221 ..." when measured */
};

/*
 * The device rows of one case: rows must hold bf_devmodel_count(dm)
 * entries. Strings in rows are borrowed until the next call or close.
 * BF_EINVAL for models opened to check only.
 */
size_t bf_devmodel_count(const struct bf_devmodel *dm);
int bf_devmodel_case(struct bf_devmodel *dm, const struct bf_devmodel_case *c,
                     const struct bf_sample_row *samples, size_t n,
                     struct bf_device_row *rows);

/* Calibration */

struct bf_devmodel_point_result {
    double measured_ms;  /* published, or measured here */
    double predicted_ms; /* by the fit to every point */
    double loo_ms;       /* by the fit to the other points, NaN: n/a */
    int64_t macs;
    size_t n_layers;
};

struct bf_devmodel_calibration {
    struct bf_device_latency fit;
    struct bf_device_error error; /* its prediction intervals */
    struct bf_devmodel_point_result points[BF_DEVICE_POINTS_MAX];
    size_t n_points;
    double loo_mean_abs_pct; /* NaN with fewer than 2 points */
    double loo_max_abs_pct;
    double fit_rms_pct;
};

struct bf_devmodel_calibrate_params {
    int threads; /* for points measured here; 0: online cores */
    int warmup;  /* untimed forwards per measured point */
    int iters;   /* timed forwards per measured point (median) */
    /* Called before each point (progress); may be NULL. */
    void (*progress)(void *ctx, size_t i, size_t n, const char *model);
    void *progress_ctx;
    /* Where layer lists are cached (bf_devmodel_arch_layers_cached);
     * NULL: none. */
    const char *layer_cache_dir;
};

/* Measure (where asked), fit and cross-validate profile's points. */
int bf_devmodel_calibrate(const struct bf_device_profile *profile,
                          const struct bf_devmodel_calibrate_params *params,
                          struct bf_devmodel_calibration *out);

/*
 * Layers of a zoo architecture's whole forward at input_px (0: native).
 * Caller owns *layers, free with free().
 */
int bf_devmodel_arch_layers(const char *arch, int input_px,
                            struct bf_layer_info **layers, size_t *n);

/*
 * The same list through the layer cache in cache_dir (created when
 * missing): read from this build's file there, else computed and stored.
 * cache_dir NULL or "": computed. Caller owns *layers, free with free().
 */
int bf_devmodel_arch_layers_cached(const char *cache_dir, const char *arch,
                                   int input_px, struct bf_layer_info **layers,
                                   size_t *n);

/*
 * Fit profile to its published points (points marked measure are left
 * out: nothing is timed) and derive its prediction intervals, as a run
 * does. *n_used (may be NULL): the points fitted.
 */
int bf_devmodel_fit_profile(const struct bf_device_profile *profile,
                            const char *cache_dir,
                            struct bf_device_latency *fit,
                            struct bf_device_error *error, size_t *n_used);

/*
 * The layers of a calibration point's architecture: a zoo architecture's
 * through the layer cache, any other from the layer list file beside the
 * profile (DIR/layers/ARCH-PX.txt, bf_layers.h). BF_ENOENT names both
 * places. Caller owns *layers, free with free().
 */
int bf_devmodel_point_layers(const struct bf_device_profile *profile,
                             const char *cache_dir, const char *arch,
                             int input_px, struct bf_layer_info **layers,
                             size_t *n);

/* 1 when profile describes this machine (detect "*" or a board match). */
int bf_devmodel_is_here(const struct bf_device_profile *profile);

#endif /* BF_DEVMODEL_H */
