# head.gp: parameters and multiply-accumulates of what runs on the device,
# per configuration, on a log scale (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='head-resnet_mini.tsv'" scripts/plots/head.gp
# writes head-resnet_mini.svg. Variables: datafile, outfile (default: the
# data file's name with the format's extension), fmt, width, height,
# title, caption (see common.gp).
#
# Data: one tab-separated block with a header line; rows: configuration,
# parameters, MACs per image (both > 0: the log scale cannot show 0).

if (!exists("datafile")) datafile = 'head.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 900
if (!exists("height")) height = 600
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

stats datafile using (1) nooutput
nrows = STATS_records
stats datafile using 2 nooutput
low = STATS_min
stats datafile using 3 nooutput
low = STATS_min < low ? STATS_min : low
# Bars start a decade below the smallest value.
floor_y = 10.0 ** floor(log10(low) - 0.5)

set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border lc rgb '#333333'
set boxwidth 0.9
set logscale y
set format y '%.0s%c'
set yrange [floor_y:*]
set xrange [-0.6:nrows - 0.4]
set offsets 0, 0, graph 0.1, 0
set xtics nomirror scale 0
if (nrows > 6) { set xtics rotate by -25 left }
set ylabel 'count (log scale; k = 10^3, M = 10^6, G = 10^9)'
set key top right font ',10' opaque box lc rgb '#cccccc'
set title title font ',14'
set tmargin at screen plot_top
set bmargin at screen plot_bottom
set lmargin at screen 90.0 / width
set rmargin at screen 1 - 20.0 / width
plot datafile using 2:xtic(1) lc rgb bar_color(1) title 'parameters', \
    '' using 3 lc rgb bar_color(2) title 'MACs per image'
