#!/bin/bash
# The Wine part of the checks: on each Debian kernel, the Windows close tests
# under stock Debian Wine (module not loaded) and under patched Wine (module
# loaded); one table per kernel, then "stock wine: N passed, N failed" and,
# last, the patched runs' "N passed, N failed".
#
#   wine/check.sh BUILD KVER:MODULE.ko [KVER:MODULE.ko ...]
#
# BUILD holds wsctest.exe and wsc-peer (make wine-tests); each argument names
# a kernel and the wsclose.ko built for it.  Outputs and console logs go to
# BUILD/{stock,patched}-KVER.txt, BUILD/console-*.log, the tables to
# BUILD/table-KVER.txt.  Exits 0 only when every patched case passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(readlink -f "$1")
shift
W=$("$here/fetch.sh" all) || exit 1
D=$("$here/build.sh") || exit 1

sp=0 sf=0 pp=0 pf=0 bad=0
for arg in "$@"; do
	k=${arg%%:*} ko=${arg#*:}
	for run in stock patched; do
		t0=$(date +%s)
		if [ $run = stock ]; then
			QEMU_RUN_LOG=$build/console-stock-$k.log "$here/run-guest.sh" "$k" \
				"$W/dist" "$W/prefix" "$build" > "$build/stock-$k.txt"
		else
			QEMU_RUN_LOG=$build/console-patched-$k.log "$here/run-guest.sh" -k "$ko" "$k" \
				"$D" "$W/prefix" "$build" > "$build/patched-$k.txt"
		fi
		rc=$?
		echo "wine-check: $run Wine on $k: guest ran $(( $(date +%s) - t0 )) s (status $rc)"
		if [ $rc -gt 1 ]; then
			tail -n 20 "$build/$run-$k.txt"
			bad=1
		fi
	done
	echo "== $k: case | Windows | stock Debian Wine 8.0 | patched Wine with wsclose"
	"$here/table.sh" "$build/stock-$k.txt" "$build/patched-$k.txt" | tee "$build/table-$k.txt" |
		head -n -2
	read -r a b < <(sed -n 's/^stock wine: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$build/table-$k.txt")
	sp=$((sp + ${a:-0})) sf=$((sf + ${b:-0}))
	read -r a b < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$build/table-$k.txt")
	pp=$((pp + ${a:-0})) pf=$((pf + ${b:-0}))
	[ -n "$a" ] || bad=1
done
[ $bad = 0 ] || pf=$((pf + 1))
echo "stock wine: $sp passed, $sf failed"
echo "$pp passed, $pf failed"
[ "$pf" = 0 ]
