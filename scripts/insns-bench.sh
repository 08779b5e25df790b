#!/bin/sh
# The instruction-count benchmark: boot the 6.1 guest BOOTS times per
# variant, plain and wsclose alternating, with the counting plugin
# (bench/insns-plugin.c) loaded into QEMU; each boot runs bench/insns once.
# Prints the table of guest instructions per operation; keeps every boot's
# raw figures in BUILD_DIR/insns/ (samples.txt: one line per boot and
# section).
#   insns-bench.sh KVER BUILD_DIR [BOOTS [SCALE]]      (make bench runs it)
#
# The boots go through scripts/qemu-run.sh unchanged: a qemu-system-x86_64
# placed first in PATH adds the -plugin option and runs the real one, so
# the guest is booted exactly as every test boots it (one TCG thread, which
# also makes the plugin's counts exact).
set -eu
kver=$1 B=$2 boots=${3:-5} scale=${4:-1}
cd "$(dirname "$0")/.."
D=$B/insns
plugin=$B/bench/insns-plugin.so
# The previous run's samples stay for comparison (insns.prev.txt).
[ -s "$D/samples.txt" ] && mv "$D/samples.txt" "$B/insns.prev.txt"
rm -rf "$D"
scripts/qemu-plugin-wrapper.sh "$D" "$plugin"

scripts/mkinitramfs.sh "$B/initramfs-insns.cpio.gz" "$B/$kver/wsclose.ko" "$B/bench/insns"

# boot VARIANT N: one boot, its section lines and its markers' counts.
boot() {
	v=$1 n=$2
	if ! INSNS_PLUGIN_ARGS="out=$D/$v-$n.counts" PATH="$D/bin:$PATH" \
		scripts/qemu-run.sh -t 600 "/boot/vmlinuz-$kver" "$B/initramfs-insns.cpio.gz" \
		"insns $v $scale" > "$D/$v-$n.out" 2>&1; then
		echo "insns-bench: boot $n ($v) failed:" >&2
		tail -n 30 "$D/$v-$n.out" >&2
		exit 1
	fi
	# The last M marker lines belong to the program (firmware or boot
	# could in principle execute the marker bytes too).
	m=$(sed -n 's/^insns-markers \([0-9]*\)$/\1/p' "$D/$v-$n.out")
	tail -n "$m" "$D/$v-$n.counts" > "$D/$v-$n.marks"
	[ "$(wc -l < "$D/$v-$n.marks")" -eq "$m" ] || {
		echo "insns-bench: boot $n ($v): $m markers announced, fewer recorded" >&2
		exit 1
	}
	# samples: variant boot section ops seconds user kernel
	awk -v v="$v" -v n="$n" '
		FNR == NR { u[FNR] = $1; k[FNR] = $2; next }
		$1 == "insns-section" {
			i++
			printf "%s %d %s %d %s %d %d\n", v, n, $2, $3, $4,
			       u[2 * i] - u[2 * i - 1], k[2 * i] - k[2 * i - 1]
		}' "$D/$v-$n.marks" "$D/$v-$n.out" >> "$D/samples.txt"
}

t0=$(date +%s)
: > "$D/samples.txt"
i=1
while [ "$i" -le "$boots" ]; do
	if [ $((i % 2)) -eq 1 ]; then
		boot plain "$i"; boot wsclose "$i"
	else
		boot wsclose "$i"; boot plain "$i"
	fi
	echo "insns-bench: round $i of $boots done ($(( $(date +%s) - t0 ))s)" >&2
	i=$((i + 1))
done

scripts/insns-table.sh "$D/samples.txt" "$boots"
# What the guest noted (the same in every boot, or each boot's own).
grep -h '^insns-note' "$D"/wsclose-*.out | sed 's/^insns-note //' | sort | uniq -c |
	awk -v b="$boots" '{ n = $1; sub(/^ *[0-9]+ /, ""); printf "(wsclose %s; %s of %d boots)\n", $0, n, b }'
if [ -s "$B/insns.prev.txt" ]; then
	scripts/insns-table.sh "$B/insns.prev.txt" - ratios > "$D/prev-ratios"
	scripts/insns-table.sh "$D/samples.txt" - ratios | awk '
		FNR == NR { prev[$1] = $2; next }
		$1 in prev {
			d = 100 * ($2 / prev[$1] - 1); a = d < 0 ? -d : d
			if (a >= max) { max = a; row = $1; dd = d }
		}
		END { if (row != "") printf "(against the previous run: ratios within %.2f %%, most on %s: %+.2f %%)\n", max, row, dd }
	' "$D/prev-ratios" -
fi
echo "($((2 * boots)) boots in $(( $(date +%s) - t0 ))s; raw figures in $D/samples.txt)"
