/*
 * bf_claims: the claims of the BottleFit abstract (reference/bottlefit.md
 * §1) next to the values the harness recorded, for `bfbench report
 * --paper`. Reads only the DB.
 *
 * Each claim is recomputed from the selected runs and, for the "up to"
 * claims, maximised over every (model, bottleneck channels, device, data
 * rate) the runs hold, with where the maximum occurs. Power and latency
 * claims use the device rows (device_results): BottleFit against local
 * computing, edge offloading or the autoencoder split of the same run,
 * model and device (and the same rate and channels where the other
 * configuration has them). A value from modeled rows says "modeled".
 */
#ifndef BF_CLAIMS_H
#define BF_CLAIMS_H

#include "bf_report.h"
#include "bf_store.h"

#include <stdint.h>
#include <stdio.h>

/* Mean ImageNet JPEG bytes per sample (reference/bottlefit.md §1). */
#define BF_CLAIMS_IMAGENET_JPEG_BYTES 44770.0

struct bf_claims_params {
    /*
     * Runs to read: > 0 that run only, 0 every run, -1 (the default of
     * the CLI) the newest run of each scenario name, so that the members
     * of a suite count once however often it ran.
     */
    int64_t run_id;
    enum bf_report_format format; /* text, Markdown, or CSV (the table alone) */
};

/*
 * Write the claims table to out: claim, paper value, harness value, where
 * the harness value occurs, how it was computed. A claim without the rows
 * it needs says "no data" and which scenario provides them. Returns 0,
 * BF_ENOENT when the selection holds no run, or a store error.
 */
int bf_claims_write(struct bf_store *store,
                    const struct bf_claims_params *params, FILE *out);

#endif /* BF_CLAIMS_H */
