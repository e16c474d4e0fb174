/*
 * bf_plot: the paper's comparison figures, rendered from the results DB
 * alone.
 *
 * For every figure the module extracts its data from the DB into a plain
 * tab-separated data file in the output directory, then runs gnuplot on
 * the figure's script (one per figure kind, in scripts/plots/) twice: once
 * for an SVG file and once for a PNG file (pngcairo). Figures, one set
 * per model (<model> in the file names):
 *
 *   accuracy-<model>   top-1 accuracy against bytes sent per image: the
 *                      8-bit bottleneck of each training strategy, the
 *                      SPINN-style exit rule, JPEG input, the teacher
 *   train-<model>      training curves: the training loss per image (log
 *                      scale) and the validation top-1 per epoch, counted
 *                      across the phases of a case, one line per training
 *                      configuration (its case with the lowest seed); a
 *                      loss recorded before per-image losses (schema 12)
 *                      is drawn as reduced and marked so
 *   latency-<model>    end-to-end latency against the uplink rate, one
 *                      panel per device profile, a line per configuration
 *   energy-<model>     energy per inference and average device power per
 *                      configuration and device, at one rate
 *   breakdown-<model>  latency stages as stacked bars per configuration,
 *                      one panel per device, at one rate
 *   head-<model>       parameters and MACs run on the device per
 *                      configuration
 *
 * Uncertainty: every point drawn carries the interval the store gives it
 * (bf_store_figures.h), as error bars, and the figure says what they are
 * (the key's title and the caption): on the accuracy figure, a
 * configuration trained with several seeds is drawn at the mean over its
 * seeds with the 95 % Student t interval of that mean, a single evaluation
 * with the 95 % Wilson interval over its test images; on the latency and
 * breakdown figures, a median end-to-end latency with measured device time
 * has the 95 % bootstrap interval of the median over its requests, and a
 * modeled one none (its panel title says "modeled, no interval yet"); the
 * training curves draw one case per line, without an interval (the
 * caption says which seed). The data files hold the intervals' columns
 * next to the values. Keys stand outside the plot area (accuracy: right of
 * the plot; latency and training curves: one key right of the panels), so
 * that they hide no point.
 *
 * Each figure's caption says what is measured and what is modeled, as the
 * DB records it (the method columns), and which runs it shows. Unless
 * runs are given, a model's accuracy figure reads, per scenario, the
 * newest run with accuracy rows of that model (a suite's training members
 * together, as report --paper reads them), its training curves, per
 * scenario, the newest run with epoch rows of that model, and its other
 * figures the newest run with device rows of that model (each of a
 * suite's network runs). A figure without data is skipped with a note on
 * stderr. Data files hold fixed-format numbers in a fixed row order and nothing
 * that changes between two renders of the same DB (no clock, no DB path), so a
 * rerun writes byte-identical files. gnuplot runs without the shell
 * (posix_spawnp, found on PATH) and without init files (-d); its stderr is kept
 * for the error message when it fails.
 *
 * Ownership: the params' strings and run list are borrowed for the call.
 */
#ifndef BF_PLOT_H
#define BF_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bf_plot_params {
    const char *out_dir;     /* made (with parents) for the first figure */
    const char *scripts_dir; /* holds common.gp and one .gp per figure */
    const int64_t *run_ids;  /* only these runs, for every figure; NULL:
                                per model, see above */
    size_t n_run_ids;
    double rate_mbps;    /* energy and breakdown figures: this uplink rate; 0:
                            the highest rate of the model's cases */
    const char *gnuplot; /* program, looked up on PATH; NULL: "gnuplot" */
};

/*
 * Render every figure with data from the results DB at db_path into
 * params->out_dir, printing each file written (data file, SVG, PNG) to
 * out (may be NULL), one path per line. Returns 0 when at least one
 * figure was written; BF_ENOENT when the DB is missing, when no figure has
 * data ("<db>: nothing to plot ...") or when gnuplot is not on PATH;
 * BF_EINVAL for a run id the DB does not have or bad params; BF_EIO when a
 * file cannot be written or gnuplot fails (the message holds what it
 * printed); or a store error (BF_EDB, BF_EVERSION) when the DB cannot be
 * read. A DB of an older schema is migrated on opening, as by every
 * command that opens it.
 */
int bf_plot_render(const char *db_path, const struct bf_plot_params *params,
                   FILE *out);

#endif /* BF_PLOT_H */
