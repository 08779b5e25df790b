#!/bin/sh
# Where wsclose's extra instructions go, by kernel function: one boot of
# the 6.1 guest with the counting plugin in profile mode (every kernel
# translation block counted by its address), running bench/insns for plain
# sockets and then for wsclose sockets.  The guest prints its own
# /proc/kallsyms (KASLR moves the kernel every boot; the module's symbols
# are there too) and each block is charged to the function it starts in.
# For the life cycle and the data path sections, the 20 functions with the
# most extra instructions per operation, wsclose minus plain.
#   insns-profile.sh KVER BUILD_DIR [SCALE]      (make profile MODE=insns)
set -eu
kver=$1 B=$2 scale=${3:-1}
cd "$(dirname "$0")/.."
D=$B/insns-profile
plugin=$B/bench/insns-plugin.so
rm -rf "$D"
scripts/qemu-plugin-wrapper.sh "$D" "$plugin"

scripts/mkinitramfs.sh "$B/initramfs-insns.cpio.gz" "$B/$kver/wsclose.ko" "$B/bench/insns"
guest="
insns plain $scale && insns wsclose $scale || exit 1
echo '==== KALLSYMS ===='
grep ' [tT] ' /proc/kallsyms
echo '==== KALLSYMS END ===='
"
INSNS_PLUGIN_ARGS="out=$D/counts,profile=$D/blocks" PATH="$D/bin:$PATH" scripts/qemu-run.sh -t 900 "/boot/vmlinuz-$kver" \
	"$B/initramfs-insns.cpio.gz" "$guest" > "$D/guest.out" 2>&1 || {
	echo "insns-profile: the guest run failed:" >&2
	tail -n 30 "$D/guest.out" >&2
	exit 1
}

# The two runs' markers are the last ones; section i of a run is what the
# plugin dumped at that run's marker 2i.
awk '
	FNR == NR {
		if ($1 == "insns-section") { sec[++ns] = $2; ops[ns] = $3 }
		if ($1 == "insns-markers") { runm[++nr] = $2; runsec[nr] = ns }
		next
	}
	FNR == 1 {
		while (("grep -c ^marker " FILENAME) | getline total) ;
		first = total - runm[1] - runm[2]	# markers before the runs
	}
	$1 == "marker" {
		m = $2 - first; key = ""
		if (m > 0 && m % 2 == 0) {
			run = m <= runm[1] ? 1 : 2
			i = (run == 1 ? m : m - runm[1]) / 2 + (run == 1 ? 0 : runsec[1])
			key = sec[i] " " (run == 1 ? "plain" : "wsclose") " " ops[i]
		}
		next
	}
	key != "" && $1 != "overflow" { print $1, "T", key, $2 }
' "$D/guest.out" "$D/blocks" > "$D/blocks.keyed"
sed -n '/^==== KALLSYMS ====$/,/^==== KALLSYMS END ====$/p' "$D/guest.out" |
	awk 'NF >= 3 && $1 ~ /^[0-9a-f]+$/ { print $1, "S", $3 }' > "$D/kallsyms"
[ -s "$D/kallsyms" ] || { echo "insns-profile: no kallsyms from the guest" >&2; exit 1; }

# Charge each block to the last symbol at or below its address.
LC_ALL=C sort -k1,1 -k2,2 "$D/kallsyms" "$D/blocks.keyed" | awk '
	$2 == "S" { fn = $3; next }
	{ c[$3 " " $4 " " $5 " " (fn == "" ? "?" : fn)] += $6 }
	END { for (k in c) print k, c[k] }
' > "$D/functions"	# section variant ops function insns

for s in lifecycle_linger_off lifecycle_linger_1_0 many_sockets_open_then_close \
	tcp_pingpong_64B udp_64B_send_recv tcp_bulk_per_MiB; do
	awk -v s="$s" '
		$1 != s { next }
		{ per = $5 / $3; v[$4, $2] = per; fn[$4] = 1; tot[$2] += per; ops = $3 }
		END {
			printf "\n%s: kernel instructions per operation, plain %.0f, wsclose %.0f (%+.0f, %d ops)\n",
			       s, tot["plain"], tot["wsclose"], tot["wsclose"] - tot["plain"], ops
			printf "%-44s %10s %10s %10s\n", "function (top 20 by extra)", "plain", "wsclose", "extra"
			cmd = "sort -g -r -k4 | head -n 20"
			for (f in fn)
				printf "%-44s %10.1f %10.1f %10.1f\n", f, v[f, "plain"], v[f, "wsclose"],
				       v[f, "wsclose"] - v[f, "plain"] | cmd
			close(cmd)
		}' "$D/functions"
done
echo
echo "(one boot, both variants; kernel blocks charged to the function they start in;"
echo " each section includes one 100 ms settle sleep; raw data in $D)"
