#!/bin/sh
# The instruction table from scripts/insns-bench.sh's samples.txt
# (lines: variant boot section ops seconds user_insns kernel_insns).
#   insns-table.sh SAMPLES [BOOTS [ratios]]
# With "ratios", only "section ratio" lines (for comparing two runs).
#
# Per boot, a section's instructions minus that boot's "idle" section (the
# settle sleep every section ends with), divided by its operation count.
# Over the boots of one variant:
#   median   the median of those per-operation figures;
#   spread   (max - min) / median, the larger of the two variants;
#   fitted   a least-squares line  insns = a + b * guest_seconds  through the
#            boots, read at the median guest time: the kernel's count
#            follows elapsed time (timer ticks, softirq, RCU), which
#            emulation makes vary from boot to boot;
#   ratio    wsclose / plain of the fitted figures, judged against the target.
set -eu
samples=$1 boots=${2:-?} mode=${3:-table}
awk -v boots="$boots" -v mode="$mode" '
function isort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function median(a, n) {
	isort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# stats of section s, variant v: sets MED, MIN, MAX, FIT, N
function stats(s, v,    i, n, y, x, xs, mx, my, sxx, sxy, b, xm) {
	n = 0; mx = my = 0
	for (i = 1; i <= nb[s, v]; i++) {
		n++
		y[n] = Y[s, v, i]; x[n] = X[s, v, i]; xs[n] = x[n]
		mx += x[n]; my += y[n]
	}
	N = n
	if (!n)
		return
	mx /= n; my /= n
	sxx = sxy = 0
	for (i = 1; i <= n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	b = sxx > 0 ? sxy / sxx : 0
	xm = median(xs, n)
	FIT = my + b * (xm - mx)
	MED = median(y, n)
	MIN = y[1]; MAX = y[n]
}
BEGIN {
	split("tcp_pingpong_64B udp_64B_send_recv tcp_bulk_per_MiB " \
	      "lifecycle_linger_off lifecycle_linger_1_0 " \
	      "lifecycle_linger_1_5_drained lifecycle_nonblock_wouldblock_retry " \
	      "close_connected_close2 close_connected_variant_close " \
	      "many_sockets_open_then_close", order, " ")
	label["tcp_pingpong_64B"] = "TCP ping-pong 64 B, per round trip"
	label["udp_64B_send_recv"] = "UDP 64 B send+recv, per datagram"
	label["tcp_bulk_per_MiB"] = "TCP bulk, per MiB"
	label["lifecycle_linger_off"] = "life cycle: linger off (DONTLINGER)"
	label["lifecycle_linger_1_0"] = "life cycle: linger {1,0}, abortive"
	label["lifecycle_linger_1_5_drained"] = "life cycle: linger {1,5}, drained *"
	label["lifecycle_nonblock_wouldblock_retry"] = "life cycle: non-blocking, WOULDBLOCK+retry *"
	label["close_connected_close2"] = "close alone, connected: close(2) both"
	label["close_connected_variant_close"] = "close alone: closesocket vs close(2)"
	label["many_sockets_open_then_close"] = "N sockets opened, then closed, per socket"
	target["tcp_pingpong_64B"] = target["udp_64B_send_recv"] = target["tcp_bulk_per_MiB"] = 1.01
	target["lifecycle_linger_off"] = target["lifecycle_linger_1_0"] = 1.05
	target["lifecycle_linger_1_5_drained"] = target["lifecycle_nonblock_wouldblock_retry"] = 1.05
	target["many_sockets_open_then_close"] = 1.05
}
{ idle_key = $1 SUBSEP $2 }
$3 == "idle" { idle[idle_key] = $6 + $7; next }
{ rows[NR] = $0 }
END {
	for (r in rows) {
		split(rows[r], f, " ")
		s = f[3]; v = f[1]
		i = ++nb[s, v]
		Y[s, v, i] = (f[6] + f[7] - idle[f[1], f[2]]) / f[4]
		X[s, v, i] = f[5]
		ops[s] = f[4]
	}
	if (mode == "table") {
		printf "Guest instructions per operation (user + kernel), %s boots per variant, alternating\n", boots
		printf "%-44s %11s %11s %7s %7s %6s %7s  %s\n", "operation", "plain", "wsclose",
		       "ratio", "raw", "spread", "target", "verdict"
	}
	for (k = 1; k in order; k++) {
		s = order[k]
		stats(s, "plain"); if (!N) continue
		pm = MED; pf = FIT; psp = MED ? (MAX - MIN) / MED : 0
		stats(s, "wsclose"); if (!N) continue
		wm = MED; wf = FIT; wsp = MED ? (MAX - MIN) / MED : 0
		name = label[s]
		if (s == "many_sockets_open_then_close")
			sub(/^N /, ops[s] " ", name)
		ratio = wf / pf
		if (mode == "ratios") {
			printf "%s %.6f\n", s, ratio
			continue
		}
		if (s in target) {
			t = sprintf("<=%.2f", target[s])
			verdict = ratio <= target[s] ? "met" : "MISSED"
		} else {
			t = "-"; verdict = "(no target)"
		}
		printf "%-44s %11.0f %11.0f %7.4f %7.4f %5.2f%% %7s  %s\n", name, pf, wf,
		       ratio, wm / pm, 100 * (psp > wsp ? psp : wsp), t, verdict
	}
	if (mode != "table")
		exit
	print "plain, wsclose: fitted at the median guest time; ratio: of those; raw: of the medians;"
	print "spread: (max-min)/median of the per-boot figures, the larger variant;"
	print "*: the peer reads the data and half-closes before the final close (a plain"
	print "   lingering close(2) would otherwise sleep on the peer\x27s delayed ACK of its FIN)"
}' "$samples"
