#!/bin/sh
# Where the time of opening and closing a socket goes, plain against wsclose:
# ftrace's function_graph tracer in the 6.1 guest, over N unconnected TCP
# sockets each way, summed per function (total microseconds and calls).
# The tracer's own cost inflates every figure; compare rows, not totals.
#   profile-close.sh KVER BUILD_DIR [N]     (make profile runs it)
set -eu
kver=$1 B=$2 n=${3:-300}
cd "$(dirname "$0")/.."

scripts/mkinitramfs.sh "$B/initramfs-profile.cpio.gz" "$B/$kver/wsclose.ko" "$B/bench/sockets"
guest='
T=/sys/kernel/tracing
mount -t tracefs none $T
echo function_graph > $T/current_tracer
echo 5 > $T/max_graph_depth
echo funcgraph-tail > $T/trace_options
echo "__x64_sys_socket __x64_sys_close ws_dev_ioctl __fput" > $T/set_graph_function
echo 16384 > $T/buffer_size_kb
sockets plain 50 && sockets wsclose 50
echo > $T/trace
echo 1 > $T/tracing_on
sockets plain '"$n"'
echo "# wsclose from here" > $T/trace_marker
sockets wsclose '"$n"'
echo 0 > $T/tracing_on
cat $T/trace
'
scripts/qemu-run.sh -t 900 "/boot/vmlinuz-$kver" "$B/initramfs-profile.cpio.gz" "$guest" |
awk -v n="$n" '
	/# wsclose from here/ { side = 2; next }
	!side { side = 1 }
	/ us +\|/ {
		line = $0
		sub(/^ *[0-9]+\) +[-+!#*@$ ]*/, "", line)
		us = line + 0
		sub(/^[0-9.]+ us +\| */, "", line)
		if (line ~ /^\} \/\* /) {
			fn = line; sub(/^\} \/\* /, "", fn); sub(/ .*/, "", fn)
		} else if (line ~ /^[A-Za-z_][A-Za-z0-9_.]*\(\)/) {
			fn = line; sub(/\(.*/, "", fn)
		} else
			next
		t[fn, side] += us; c[fn, side]++; seen[fn] = 1
	}
	END {
		split("__x64_sys_socket __x64_sys_close ws_dev_ioctl __fput", root, " ")
		for (i in root)
			for (k = 1; k <= 2; k++)
				total[k] += t[root[i], k]
		printf "traced open+close per socket: plain %.1f us, wsclose %.1f us, ratio %.3f\n\n",
		       total[1] / n, total[2] / n, total[2] / total[1]
		printf "%-32s %12s %8s %12s %8s\n", "function (per socket)", "plain us", "calls", "wsclose us", "calls"
		sort = "sort -r | head -n 40 | cut -c14-"	# costliest either way first
		for (fn in seen) {
			if (c[fn, 1] + c[fn, 2] < n / 20)
				continue	# not on the path of every socket
			m = t[fn, 1] > t[fn, 2] ? t[fn, 1] : t[fn, 2]
			printf "%012.2f %-32s %12.2f %8.2f %12.2f %8.2f\n", m / n, fn, t[fn, 1] / n, c[fn, 1] / n, t[fn, 2] / n, c[fn, 2] / n | sort
		}
		close(sort)
	}'
