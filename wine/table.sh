#!/bin/sh
# Print the Wine close tests as one table from the runs' outputs.
#   wine/table.sh STOCK_OUT [PATCHED_OUT]
# Each output holds wsctest.exe's tab-separated CASE lines.  Prints
# case | Windows | stock Wine | patched Wine, then
# "stock wine: N passed, N failed" and, when there is a patched run, last,
# "N passed, N failed" for it.
set -eu
stock=$1 patched=${2:-}
awk -F '\t' -v patched="$patched" '
function short(s) { return length(s) > 70 ? substr(s, 1, 67) "..." : s }
FNR == 1 { file++ }
$1 != "CASE" { next }
file == 1 {
	if (!($2 in wexp)) order[n++] = $2
	wexp[$2] = $3; sgot[$2] = $4; sres[$2] = $5
	if ($5 == "PASS") sp++; else sf++
}
file == 2 {
	if (!($2 in wexp)) { order[n++] = $2; wexp[$2] = $3 }
	pgot[$2] = $4; pres[$2] = $5
	if ($5 == "PASS") pp++; else pf++
}
END {
	for (i = 0; i < n; i++) {
		c = order[i]
		printf "%-52s %s\n", c, "Windows: " wexp[c]
		printf "%-52s %s\n", "", "stock:   " sres[c] "  " sgot[c]
		if (patched != "")
			printf "%-52s %s\n", "", "patched: " (c in pres ? pres[c] "  " pgot[c] : "MISSING")
	}
	# A case missing from a run counts as failed there.
	for (i = 0; i < n; i++) {
		c = order[i]
		if (!(c in sres)) sf++
		if (patched != "" && !(c in pres)) pf++
	}
	printf "stock wine: %d passed, %d failed\n", sp, sf
	if (patched != "")
		printf "%d passed, %d failed\n", pp, pf
}' "$stock" ${patched:+"$patched"}
