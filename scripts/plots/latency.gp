# latency.gp: end-to-end latency against the uplink rate, one panel per
# device profile, one line per configuration (`bfbench plot`).
#
# By hand, on a data file that `bfbench plot` wrote (its second comment
# line holds the full command, with title and caption):
#   gnuplot -e "datafile='latency-resnet_mini.tsv'" scripts/plots/latency.gp
# writes latency-resnet_mini.svg. Variables: datafile, outfile (default:
# the data file's name with the format's extension), fmt, width, height,
# title, keytitle (what the error bars are; default none), caption (see
# common.gp).
#
# Data: tab-separated blocks, two blank lines apart, one per device and
# configuration, grouped by device. Each block starts with a header line
# whose first cell is the configuration (the line's title), then rows of:
# uplink rate (Mbit/s), median end-to-end latency (ms), line style
# (common.gp), panel (1-based device number), device name, cases averaged,
# the low and high ends of the median's 95 % interval (ms; NaN: none, no
# bar), the series title again, the panel's title.
#
# Layout: the panels side by side, and one key for all of them on the
# right, outside every panel (key_px pixels wide; bfbench plot widens the
# canvas by as much), so that it hides no point whatever the data.

if (!exists("datafile")) datafile = 'latency.tsv'
if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = datafile[1:strlen(datafile) - 4].'.'.fmt
if (!exists("width")) width = 960
if (!exists("height")) height = 600
gp_dir = ARG0
gp_i = strlen(gp_dir)
while (gp_i > 0 && gp_dir[gp_i:gp_i] ne '/') { gp_i = gp_i - 1 }
load (gp_i > 0 ? gp_dir[1:gp_i] : '').'common.gp'

if (!exists("keytitle")) keytitle = ''
key_px = 230

# Blocks, their styles, panels and bars; each panel's blocks and title;
# the series of the key, each once.
stats datafile using 2 nooutput
nblocks = STATS_blocks
array block_style[nblocks]
array block_panel[nblocks]
array block_bars[nblocks]
array key_name[nblocks]
array key_style[nblocks]
array panel_bar[nblocks]
nkeys = 0
npanels = 1
series = ''
do for [b = 1:nblocks] {
    stats datafile index (b - 1) using 3:4 nooutput
    block_style[b] = int(STATS_min_x)
    block_panel[b] = int(STATS_min_y)
    npanels = block_panel[b] > npanels ? block_panel[b] : npanels
    stats datafile index (b - 1) using (valid(7) ? 1 : 0) nooutput
    block_bars[b] = int(STATS_max)
    stats datafile index (b - 1) using (series = strcol(9), 0) nooutput
    seen = 0
    do for [i = 1:nkeys] { if (key_name[i] eq series) { seen = 1 } }
    if (!seen) {
        nkeys = nkeys + 1
        key_name[nkeys] = series
        key_style[nkeys] = block_style[b]
    }
}
array first_block[npanels]
array last_block[npanels]
array panel_name[npanels]
do for [p = 1:npanels] {
    first_block[p] = 0
    last_block[p] = -1
    panel_name[p] = sprintf('device %d', p)
}
panel = ''
do for [b = 1:nblocks] {
    p = block_panel[b]
    if (first_block[p] == 0) { first_block[p] = b }
    last_block[p] = b
    stats datafile index (b - 1) using (panel = strcol(10), 0) nooutput
    panel_name[p] = panel
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
set errorbars 0.6
unset key
panels_left = 70.0 / width
panels_right = 1 - (key_px + 10.0) / width
gap = 70.0 / width
panel_w = (panels_right - panels_left - (npanels - 1) * gap) / npanels
set multiplot title title font ',14'
set bmargin at screen plot_bottom
set tmargin at screen plot_top - 24.0 / height
# A panel's plot: the bars of its blocks with an interval first, the lines
# over them. gnuplot 5.4 reads a data file once even in an empty "plot
# for" loop (and warns that it has no valid point): without bars, the
# panel plots its lines alone.
bars = "for [i = 1:nbars] datafile index (panel_bar[i] - 1) using 1:2:7:8 " \
    . "with yerrorbars ls block_style[panel_bar[i]] lw 1.2 pt 0 notitle, "
lines = "for [b = first_block[p]:last_block[p]] datafile index (b - 1) " \
    . "using 1:2:xtic(sprintf('%g', column(1))) with linespoints " \
    . "ls block_style[b] notitle"
do for [p = 1:npanels] {
    set lmargin at screen panels_left + (p - 1) * (panel_w + gap)
    set rmargin at screen panels_left + (p - 1) * (panel_w + gap) + panel_w
    set title panel_name[p]
    nbars = 0
    do for [b = first_block[p]:last_block[p]] {
        if (block_bars[b]) { nbars = nbars + 1; panel_bar[nbars] = b }
    }
    if (nbars > 0) { plot @bars @lines } else { plot @lines }
    unset label 100
}

# The key: every series once, in an empty plot right of the panels.
set lmargin at screen panels_right + 10.0 / width
set rmargin at screen 1 - 10.0 / width
unset title
unset border
unset tics
unset xlabel
unset ylabel
unset grid
unset logscale
set xrange [0:1]
set yrange [0:1]
set key inside left top vertical Left reverse font ',10' samplen 2 \
    box lc rgb '#cccccc' title keytitle left font ',9'
plot 2 notitle, \
    for [i = 1:nkeys] keyentry with linespoints ls key_style[i] \
        title key_name[i]
unset multiplot
