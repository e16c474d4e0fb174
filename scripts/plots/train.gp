# train.gp: training curves, per epoch, one line per training
# configuration: above, the training loss (log scale); below, the top-1
# accuracy on the validation split (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='train-resnet_mini.tsv'" scripts/plots/train.gp
# writes train-resnet_mini.svg. Variables: datafile, outfile (default: the
# data file's name with the format's extension), fmt, width, height,
# title, keytitle (the key's title; default none), caption (see
# common.gp).
#
# Data: tab-separated blocks, two blank lines apart, one per
# configuration. Each starts with a header line whose first cell is the
# line's title, then rows of: epoch counted across the phases of the case
# (1-based), training loss (per image where column 7 is 1, else as the
# loss reduced it; NaN: not drawn), validation top-1 (%), line style
# (common.gp), phase, epoch within the phase, 1 when the loss is per
# image, learning rate, 1 when the epoch was the best so far. A single
# blank line separates two phases of a block: the line breaks there.
#
# Layout: the two panels one above the other on the same epoch axis, and
# one key for both on the right, outside the panels (key_px pixels wide),
# so that it hides no point whatever the data.

if (!exists("datafile")) datafile = 'train.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 1280
if (!exists("height")) height = 780
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

if (!exists("keytitle")) keytitle = ''
key_px = 400

# Blocks and their styles; the epochs; how the losses were recorded.
stats datafile using 1 nooutput
nblocks = STATS_blocks
xmax = STATS_max
array block_style[nblocks]
do for [b = 1:nblocks] {
    stats datafile index (b - 1) using 4 nooutput
    block_style[b] = int(STATS_min)
}
stats datafile using 7 nooutput
if (STATS_min > 0) {
    loss_label = 'training loss per image (log scale)'
} else {
    if (STATS_max > 0) {
        loss_label = 'training loss per image, or as reduced (log scale)'
    } else {
        loss_label = 'training loss as reduced (log scale)'
    }
}

panels_left = 90.0 / width
panels_right = 1 - (key_px + 10.0) / width
panels_top = plot_top - 12.0 / height
gap = 16.0 / height
panel_h = (panels_top - plot_bottom - gap) / 2

set xrange [0.5:xmax + 0.5]
if (xmax <= 20) { set xtics 1 } else { set xtics autofreq }
set format x '%g'
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
unset key
set lmargin at screen panels_left
set rmargin at screen panels_right
set multiplot title title font ',14'

# Above: the loss, on a log scale.
set tmargin at screen panels_top
set bmargin at screen panels_top - panel_h
set logscale y
set format y '%g'
set offsets 0, 0, graph 0.05, graph 0.05
set format x ''
unset xlabel
set ylabel loss_label
plot for [b = 1:nblocks] datafile index (b - 1) using 1:2 \
    with linespoints ls block_style[b] ps 0.7 notitle
unset label 100

# Below: the validation top-1.
set tmargin at screen plot_bottom + panel_h
set bmargin at screen plot_bottom
unset logscale y
set format x '%g'
set xlabel 'epoch, counted across the phases of a case'
set ylabel 'validation top-1 (%)'
plot for [b = 1:nblocks] datafile index (b - 1) using 1:3 \
    with linespoints ls block_style[b] ps 0.7 notitle

# The key: every configuration once, in an empty plot right of the panels
# (its points lie outside the plot's range: only the key shows them).
set lmargin at screen panels_right + 10.0 / width
set rmargin at screen 1 - 10.0 / width
set tmargin at screen panels_top
set bmargin at screen plot_bottom
unset border
unset tics
unset xlabel
unset ylabel
unset grid
set offsets 0, 0, 0, 0
set xrange [0:1]
set yrange [0:1]
set key inside left top vertical Left reverse font ',10' samplen 2 \
    box lc rgb '#cccccc' title keytitle left font ',9'
plot for [b = 1:nblocks] datafile index (b - 1) using (-1):(-1) \
    with linespoints ls block_style[b] ps 0.7 title columnheader(1)
unset multiplot
