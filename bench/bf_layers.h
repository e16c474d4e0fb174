/*
 * bf_layers: layer list files, the layers of architectures outside the
 * model zoo that device profiles name as calibration points
 * (scenarios/devices/layers/ARCH-PX.txt, written by
 * scripts/devices/export_layers.py and committed).
 *
 * Format (text, one record per line):
 *
 *   bfbench layer list 1
 *   source FREE TEXT
 *   arch ARCH px PX
 *   layers N
 *   KIND STAGE MACS PARAMS IN_ELEMS OUT_ELEMS     (N lines)
 *   end
 *
 * with the fields of bf_layer_info, counted as the shim counts them.
 * Errors name the file and line (BF_EPARSE), or the missing file
 * (BF_ENOENT). Nothing here uses torch.
 */
#ifndef BF_LAYERS_H
#define BF_LAYERS_H

#include "bf_layer_info.h"

#include <stddef.h>
#include <stdint.h>

/*
 * k non-negative decimal integers separated by blanks, then only
 * whitespace (a line of a layer list or of the layer cache): 0, or -1.
 */
int bf_layer_parse_ints(const char *line, int64_t *v, int k);

/* The layer of a row's six fields (kind, stage, macs, params, in, out). */
struct bf_layer_info bf_layer_from_row(const int64_t v[6]);

/* Where ARCH at px lives under dir: "DIR/ARCH-PX.txt" (px 0: 224). */
int bf_layer_file_path(const char *dir, const char *arch, int px, char *out,
                       size_t size);

/*
 * Read path, which must describe arch at px (0: 224). Caller owns
 * *layers (free with free()).
 */
int bf_layer_file_read(const char *path, const char *arch, int px,
                       struct bf_layer_info **layers, size_t *n);

#endif /* BF_LAYERS_H */
