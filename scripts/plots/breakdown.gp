# breakdown.gp: the latency stages of a request as stacked bars per
# configuration, one panel per device profile, at one uplink rate
# (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='breakdown-resnet_mini.tsv'" scripts/plots/breakdown.gp
# writes breakdown-resnet_mini.svg. Variables: datafile, outfile (default:
# the data file's name with the format's extension), fmt, width, height,
# title, caption (see common.gp).
#
# Data: tab-separated blocks, two blank lines apart, one per device. Each
# starts with a header line (configuration, then the stage names); rows:
# configuration, then head, encode, transfer, queue, decode, tail (ms, 0
# where a configuration has no such stage), the median end-to-end latency
# (ms, drawn as a dot), the device name, and the low and high ends of the
# median's 95 % interval (ms, drawn as a bar on the dot; NaN: none).

if (!exists("datafile")) datafile = 'breakdown.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 1000
if (!exists("height")) height = 640
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

stats datafile using 2 nooutput
npanels = STATS_blocks
array panel_name[npanels]
array panel_rows[npanels]
array panel_bars[npanels]
device = ''
do for [p = 1:npanels] {
    stats datafile index (p - 1) using (device = strcol(9), $2) nooutput
    panel_name[p] = device
    panel_rows[p] = STATS_records
    stats datafile index (p - 1) using (valid(10) ? 1 : 0) nooutput
    panel_bars[p] = int(STATS_max)
}

set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border lc rgb '#333333'
set boxwidth 0.6
set yrange [0:*]
set offsets 0.3, 0.3, graph 0.3, 0
set xtics nomirror scale 0 font ',10'
set ylabel 'time per request (ms)'
set key top center horizontal maxrows 2 font ',10' opaque box \
    lc rgb '#cccccc'
set multiplot layout 1, npanels title title font ',14' \
    margins screen 70.0 / width, screen 1 - 20.0 / width, \
    screen plot_bottom, screen plot_top - 24.0 / height \
    spacing screen 70.0 / width
set errorbars 0.6
# A panel's plot: the stages, where the panel has intervals their bars
# (gnuplot warns about a data file without a valid point, so a panel
# without intervals plots none), the end-to-end dots over them.
stages = "for [k = 2:7] datafile index (p - 1) using k:xtic(1) " \
    . "lc rgb stage_color(k - 1), "
bars = "datafile index (p - 1) using 0:8:10:11 with yerrorbars pt 0 " \
    . "lw 1.2 lc rgb '#000000' notitle, "
dots = "datafile index (p - 1) using 0:8 with points pt 7 ps 1.1 " \
    . "lc rgb '#000000' title 'end-to-end (median)'"
do for [p = 1:npanels] {
    set title panel_name[p]
    if (panel_rows[p] > 5) { set xtics rotate by -25 left } else { set xtics norotate }
    if (panel_bars[p]) { plot @stages @bars @dots } else { plot @stages @dots }
    unset label 100
}
unset multiplot
