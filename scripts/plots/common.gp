# common.gp: the terminal, styles and caption layout shared by the figure
# scripts of `bfbench plot`. Each figure script loads it first (from its
# own directory); it is not meant to be run alone.
#
# Variables, set with `gnuplot -e "..."` before the figure script:
#   fmt       'svg' (default) or 'png' (pngcairo)
#   outfile   the output file (default: the figure script's default)
#   width, height   canvas size in pixels (defaults: the figure script's)
#   title     the figure title (default '')
#   caption   text under the plot, lines separated by "\n" (default '')
#
# It sets: the terminal, white background, no enhanced text (names such
# as resnet_mini print as written); tab-separated data files; line
# styles 1-5 for the configurations (local, edge, bottlefit, ae-split,
# spinn-split), 6-11 for the training strategies (naive, kd, hnd, ghnd,
# ghnd-ft, ghnd-kd), 13-20 for other series, 21 (black, dashed) and 22
# (dashed) for reference lines; stage_color(k) for the six latency stages
# and bar_color(k) for bars per device or per quantity; and the caption
# layout: cap_lines (lines of the caption), plot_bottom (the screen
# fraction where plots end, leaving room for tics, x label and caption),
# plot_top (below the title). `set label 100` draws the caption.

if (!exists("fmt")) fmt = 'svg'
if (!exists("width")) width = 900
if (!exists("height")) height = 600
if (!exists("title")) title = ''
if (!exists("caption")) caption = ''

if (fmt eq 'png') {
    set terminal pngcairo size width,height font 'DejaVu Sans,11' \
        noenhanced background rgb 'white'
} else {
    set terminal svg size width,height font 'DejaVu Sans,11' noenhanced \
        background rgb 'white'
}
if (exists("outfile")) set output outfile

set datafile separator tab
set datafile missing 'NaN'
set encoding utf8

# Configurations (Okabe-Ito colours, readable in grey and for most colour
# vision deficiencies).
set style line 1 lc rgb '#000000' lw 2 pt 7 ps 1.0
set style line 2 lc rgb '#E69F00' lw 2 pt 5 ps 1.0
set style line 3 lc rgb '#0072B2' lw 2 pt 9 ps 1.2
set style line 4 lc rgb '#009E73' lw 2 pt 13 ps 1.2
set style line 5 lc rgb '#CC79A7' lw 2 pt 11 ps 1.2
# Training strategies.
set style line 6 lc rgb '#D55E00' lw 2 pt 4 ps 1.0
set style line 7 lc rgb '#56B4E9' lw 2 pt 6 ps 1.0
set style line 8 lc rgb '#882255' lw 2 pt 8 ps 1.0
set style line 9 lc rgb '#44AA99' lw 2 pt 10 ps 1.0
set style line 10 lc rgb '#999933' lw 2 pt 12 ps 1.0
set style line 11 lc rgb '#AA4499' lw 2 pt 14 ps 1.0
set style line 12 lc rgb '#332288' lw 2 pt 1 ps 1.0
# Other series.
set style line 13 lc rgb '#117733' lw 2 pt 2 ps 1.0
set style line 14 lc rgb '#661100' lw 2 pt 3 ps 1.0
set style line 15 lc rgb '#6699CC' lw 2 pt 4 ps 1.0
set style line 16 lc rgb '#888888' lw 2 pt 6 ps 1.0
set style line 17 lc rgb '#DDCC77' lw 2 pt 8 ps 1.0
set style line 18 lc rgb '#CC6677' lw 2 pt 10 ps 1.0
set style line 19 lc rgb '#88CCEE' lw 2 pt 12 ps 1.0
set style line 20 lc rgb '#117777' lw 2 pt 14 ps 1.0
# References: the uncompressed model, an operating curve.
set style line 21 lc rgb '#000000' lw 1.5 dt 2 pt -1
set style line 22 lc rgb '#CC79A7' lw 2 dt 3 pt 11 ps 1.0

stage_colors = '#0072B2 #E69F00 #56B4E9 #999999 #CC79A7 #009E73'
stage_color(k) = word(stage_colors, k)
bar_colors = '#0072B2 #E69F00 #009E73 #CC79A7 #D55E00 #56B4E9 #000000'
bar_color(k) = word(bar_colors, (k - 1) % words(bar_colors) + 1)

set grid ytics lc rgb '#dddddd' lw 1 dt 1
set border lc rgb '#444444'
# Data files start each block with a header line: its cells title the
# columns (a script may give its own titles).
set key autotitle columnheader

# The caption's lines, counted from its "\n" separators.
cap_lines = 0
if (strlen(caption) > 0) {
    cap_lines = 1
    cap_rest = caption
    while (strstrt(cap_rest, "\n") > 0) {
        cap_rest = cap_rest[strstrt(cap_rest, "\n") + 1:]
        cap_lines = cap_lines + 1
    }
}
# About 15 px per caption line, 12 px below it, 58 px for the x tic
# labels and the x label above it; 40 px for the title.
cap_px = cap_lines * 15 + 12
plot_bottom = (cap_px + 58.0) / height
plot_top = 1.0 - (strlen(title) > 0 ? 40.0 : 12.0) / height
if (strlen(caption) > 0) {
    set label 100 caption at screen 10.0 / width, screen (cap_px - 6.0) / height \
        left front font ',10' tc rgb '#222222'
}
