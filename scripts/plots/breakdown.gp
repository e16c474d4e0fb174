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
# (ms, drawn as a dot) and the device name.

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
device = ''
do for [p = 1:npanels] {
    stats datafile index (p - 1) using (device = strcol(9), $2) nooutput
    panel_name[p] = device
    panel_rows[p] = STATS_records
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
do for [p = 1:npanels] {
    set title panel_name[p]
    if (panel_rows[p] > 5) { set xtics rotate by -25 left } else { set xtics norotate }
    plot for [k = 2:7] datafile index (p - 1) using k:xtic(1) \
            lc rgb stage_color(k - 1), \
        datafile index (p - 1) using 0:8 with points pt 7 ps 1.1 \
            lc rgb '#000000' title 'end-to-end (median)'
    unset label 100
}
unset multiplot
