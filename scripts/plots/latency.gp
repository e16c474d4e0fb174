# latency.gp: end-to-end latency against the uplink rate, one panel per
# device profile, one line per configuration (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='latency-resnet_mini.tsv'" scripts/plots/latency.gp
# writes latency-resnet_mini.svg. Variables: datafile, outfile (default:
# the data file's name with the format's extension), fmt, width, height,
# title, caption (see common.gp).
#
# Data: tab-separated blocks, two blank lines apart, one per device and
# configuration, grouped by device. Each block starts with a header line
# whose first cell is the configuration (the line's title), then rows of:
# uplink rate (Mbit/s), median end-to-end latency (ms), line style
# (common.gp), panel (1-based device number), device name, cases averaged.

if (!exists("datafile")) datafile = 'latency.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 960
if (!exists("height")) height = 600
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

# Blocks, their styles and panels; each panel's blocks and device.
stats datafile using 2 nooutput
nblocks = STATS_blocks
array block_style[nblocks]
array block_panel[nblocks]
npanels = 1
do for [b = 1:nblocks] {
    stats datafile index (b - 1) using 3:4 nooutput
    block_style[b] = int(STATS_min_x)
    block_panel[b] = int(STATS_min_y)
    npanels = block_panel[b] > npanels ? block_panel[b] : npanels
}
array first_block[npanels]
array last_block[npanels]
array panel_name[npanels]
do for [p = 1:npanels] {
    first_block[p] = 0
    last_block[p] = -1
    panel_name[p] = sprintf('device %d', p)
}
device = ''
do for [b = 1:nblocks] {
    p = block_panel[b]
    if (first_block[p] == 0) { first_block[p] = b }
    last_block[p] = b
    stats datafile index (b - 1) using (device = strcol(5), 0) nooutput
    panel_name[p] = device
}

set logscale x
set logscale y
set format y '%g'
set ytics (0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, \
    50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, \
    7000, 10000, 15000, 20000, 30000, 50000, 70000, 100000)
set mytics 10
set autoscale xfix
set autoscale yfix
set offsets graph 0.08, graph 0.08, graph 0.15, graph 0.15
set xlabel 'uplink rate (Mbit/s, log scale)'
set ylabel 'end-to-end latency, median (ms, log scale)'
set key top right font ',10' samplen 2 opaque box lc rgb '#cccccc'
set multiplot layout 1, npanels title title font ',14' \
    margins screen 70.0 / width, screen 1 - 20.0 / width, \
    screen plot_bottom, screen plot_top - 24.0 / height \
    spacing screen 70.0 / width
do for [p = 1:npanels] {
    set title panel_name[p]
    plot for [b = first_block[p]:last_block[p]] datafile index (b - 1) \
        using 1:2:xtic(sprintf('%g', column(1))) with linespoints \
        ls block_style[b] title columnheader(1)
    unset label 100
}
unset multiplot
