/*
 * bf_offload: the inference cases of a scenario that run a split
 * configuration (edge, bottlefit, ae-split, spinn-split) with batch 1: the
 * device part on this host, requests through the scenario's link to an
 * edge server, one sample row per request with every stage's time.
 *
 * The edge server, by the scenario's `link`:
 *   ideal, fixed, trace  an in-process bf_edge on 127.0.0.1; the client
 *                        paces its writes on the emulated uplink and holds
 *                        replies for the emulated downlink;
 *   tbf                  an in-process bf_edge whose socket lives in a
 *                        network namespace joined to the client's by a
 *                        veth pair shaped with `tc tbf` (root only; else
 *                        the case is recorded as skipped with the reason);
 *                        the RTT is not emulated (netem is unavailable);
 *   direct               a `bfbench edge` at edge_address serving the same
 *                        scenario (config id = case index).
 * background_clients other devices send the same request to the same
 * server meanwhile, each through its own link (tbf: the shared uplink).
 *
 * Inputs are seeded synthetic images (bf_split_synthetic_image), labelled
 * "synthetic" in the case row: with random weights there is no accuracy
 * to report, and none is recorded.
 */
#ifndef BF_OFFLOAD_H
#define BF_OFFLOAD_H

#include "bf_runcase.h"
#include "bf_split.h"

/* 1 when case c runs here (an offloading config, the null model, or
 * inputs from a data set), 0 for the plain forward path of local cases. */
int bf_offload_applies(const struct bf_scenario *sc, const struct bf_case *c);

/*
 * The split of case c, as both the device and the edge server build it
 * (strings borrowed from sc and c).
 */
void bf_offload_split_params(const struct bf_scenario *sc,
                             const struct bf_case *c,
                             struct bf_split_params *out);

/*
 * Run case c and record it through p->sink. Returns 0 when the case was
 * recorded (finished, failed or skipped; result counts which), or a sink
 * error.
 */
int bf_offload_run_case(const struct bf_runner_params *p,
                        const struct bf_case *c,
                        struct bf_runner_result *result);

#endif /* BF_OFFLOAD_H */
