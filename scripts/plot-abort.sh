#!/bin/sh
# Plot the abort fan-out figures of build/bench.txt: time from the close to
# the last CQE against the number of pending io_uring requests.
#   plot-abort.sh BENCH.TXT OUT.PNG
set -eu
in=$1 out=$2
data=$(mktemp)
trap 'rm -f "$data"' EXIT
sed -n 's/^K=\([0-9]*\) *median *\([0-9.]*\) ms *min *\([0-9.]*\) ms *max *\([0-9.]*\) ms.*/\1 \2 \3 \4/p' "$in" > "$data"
[ -s "$data" ] || { echo "plot-abort: no K= rows in $in" >&2; exit 1; }
gnuplot <<GP
set terminal png size 800,500 noenhanced
set output "$out"
set title "wsclose: close to last aborted CQE (QEMU, 6.1)"
set xlabel "pending io_uring recv requests (K)"
set ylabel "ms"
set logscale x 2
set key top left
set grid
plot "$data" using 1:2:3:4 with yerrorlines title "median (min..max)"
GP
echo "plot-abort: wrote $out"
