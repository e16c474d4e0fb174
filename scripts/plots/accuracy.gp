# accuracy.gp: top-1 accuracy against the bytes sent per image, one line
# per training strategy (8-bit bottleneck), the exit rule's operating
# points, the JPEG curve and the teacher's uncompressed top-1
# (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='accuracy-resnet_mini.tsv'" scripts/plots/accuracy.gp
# writes accuracy-resnet_mini.svg. Variables: datafile, outfile (default:
# the data file's name with the format's extension), fmt, width, height,
# title, caption (see common.gp).
#
# Data: tab-separated blocks, two blank lines apart, one per series. Each
# starts with a header line whose first cell is the series title, then
# rows of: mean payload per image (bytes), top-1 (%), line style
# (common.gp; 21 is a reference line drawn without points), point label
# (C=2, q90; may be empty).

if (!exists("datafile")) datafile = 'accuracy.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 900
if (!exists("height")) height = 660
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

stats datafile using 1 nooutput
nblocks = STATS_blocks
array block_style[nblocks]
do for [b = 1:nblocks] {
    stats datafile index (b - 1) using 3 nooutput
    block_style[b] = int(STATS_min)
}

set logscale x
set format x '%g'
set autoscale xfix
set offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08
set xlabel 'payload sent per image, mean (bytes, log scale)'
set ylabel 'top-1 accuracy (%)'
set key bottom right font ',10' samplen 2.5 opaque box lc rgb '#cccccc'
set title title font ',14'
set tmargin at screen plot_top
set bmargin at screen plot_bottom
set lmargin at screen 80.0 / width
set rmargin at screen 1 - 20.0 / width
plot for [b = 1:nblocks] datafile index (b - 1) using 1:2 \
        with linespoints ls block_style[b] title columnheader(1), \
    for [b = 1:nblocks] datafile index (b - 1) using 1:2:4 with labels \
        offset char 0.4, char 0.7 left font ',8' tc rgb '#555555' notitle
