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
# title, keytitle (what the error bars are; default none), caption (see
# common.gp).
#
# Data: tab-separated blocks, two blank lines apart, one per series. Each
# starts with a header line whose first cell is the series title, then
# rows of: mean payload per image (bytes), top-1 (%), line style
# (common.gp; 21 is a reference line drawn without points), point label
# (C=2, q90; may be empty), the half width of the 95 % t interval over
# seeds, the interval's low and high ends (%; NaN: no interval, no bar),
# seeds, evaluations averaged.
#
# The key stands outside the plot, on its right, so that it hides no point
# whatever the data.

if (!exists("datafile")) datafile = 'accuracy.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 1180
if (!exists("height")) height = 660
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

stats datafile using 1 nooutput
nblocks = STATS_blocks
array block_style[nblocks]
# The blocks with an interval on some row: only those draw bars (gnuplot
# warns about a block without a valid point).
array bar_block[nblocks]
nbars = 0
do for [b = 1:nblocks] {
    stats datafile index (b - 1) using 3 nooutput
    block_style[b] = int(STATS_min)
    stats datafile index (b - 1) using (valid(6) ? 1 : 0) nooutput
    if (STATS_max > 0) { nbars = nbars + 1; bar_block[nbars] = b }
}

set logscale x
set format x '%g'
set autoscale xfix
set offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08
set xlabel 'payload sent per image, mean (bytes, log scale)'
set ylabel 'top-1 accuracy (%)'
if (!exists("keytitle")) keytitle = ''
set key outside right top vertical Left reverse font ',10' samplen 2.5 \
    box lc rgb '#cccccc' title keytitle left font ',9'
set errorbars 0.6
set title title font ',14'
set tmargin at screen plot_top
set bmargin at screen plot_bottom
set lmargin at screen 80.0 / width
# The bars first: the points are drawn over them. gnuplot 5.4 reads a data
# file once even in an empty "plot for" loop (and warns that it has no
# valid point): without bars, the lines and labels are plotted alone.
bars = "for [i = 1:nbars] datafile index (bar_block[i] - 1) using 1:2:6:7 " \
    . "with yerrorbars ls block_style[bar_block[i]] lw 1.2 pt 0 notitle, "
lines = "for [b = 1:nblocks] datafile index (b - 1) using 1:2 " \
    . "with linespoints ls block_style[b] title columnheader(1), " \
    . "for [b = 1:nblocks] datafile index (b - 1) using 1:2:4 with labels " \
    . "offset char 0.4, char 0.7 left font ',8' tc rgb '#555555' notitle"
if (nbars > 0) { plot @bars @lines } else { plot @lines }
