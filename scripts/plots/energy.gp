# energy.gp: energy per inference and average device power, grouped bars
# per configuration and device, at one uplink rate (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='energy-resnet_mini.tsv'" scripts/plots/energy.gp
# writes energy-resnet_mini.svg. Variables: datafile, outfile (default:
# the data file's name with the format's extension), fmt, width, height,
# title, caption (see common.gp).
#
# Data: two tab-separated blocks, two blank lines apart: energy per
# inference (mJ), then average power (mW). Each starts with a header line
# (the quantity, then the device names); rows: configuration, then per
# device its value (NaN: not recorded) and, in the energy block only, the
# low and high end of its interval (the device model's 90 % prediction
# interval; the value itself where there is none).

if (!exists("datafile")) datafile = 'energy.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 1000
if (!exists("height")) height = 600
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

stats datafile index 1 using (1) nooutput
ncols = STATS_columns
nrows = STATS_records
ndev = ncols - 1

set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border lc rgb '#333333'
set boxwidth 0.9
set yrange [0:*]
set xrange [-0.6:nrows - 0.4]
set offsets 0, 0, graph 0.12, 0
set xtics nomirror scale 0
if (nrows > 5) { set xtics rotate by -25 left }
set key top left font ',10' opaque box lc rgb '#cccccc'
set multiplot layout 1, 2 title title font ',14' \
    margins screen 80.0 / width, screen 1 - 20.0 / width, \
    screen plot_bottom, screen plot_top - 24.0 / height \
    spacing screen 90.0 / width
set title 'energy per inference'
set ylabel 'energy per inference, mean (mJ)'
set style histogram errorbars gap 1.5 lw 1
plot for [k = 1:ndev] datafile index 0 \
    using 3 * k - 1:3 * k:3 * k + 1:xtic(1) lc rgb bar_color(k) \
    title columnheader(3 * k - 1)
unset label 100
set style histogram clustered gap 1.5
set title 'average device power'
set ylabel 'average power during a request (mW)'
plot for [k = 2:ncols] datafile index 1 using k:xtic(1) lc rgb bar_color(k - 1) \
    title columnheader(k)
unset multiplot
