#!/bin/bash
# KUnit the upstream way, with KASAN and lockdep on 6.12: apply the
# `make upstream-patch` series to Debian's linux-source-6.12 with git am,
# then run
#   tools/testing/kunit/kunit.py run --arch=x86_64 \
#	--kunitconfig=net/wsclose/.kunitconfig
# (QEMU, software emulation).  Prints one TAP line per result: the series
# applies, kunit.py's verdict, every case (a parameterised case once per
# parameter) as "ok - kunit-6.12: CASE", and whether the kernel log is free
# of KASAN, lockdep, BUG and WARNING reports.  Exit status 0 if all are ok.
#
# The source tree and the build directory live in the cache
# (${WSCLOSE_CACHE:-~/.cache/wsclose}/kunit-6.12-<version>/): the first
# build takes about 6 minutes on 2 cores, later runs rebuild only what the
# series changed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/kunit-6.12
mkdir -p "$out"
rc=0
ok() { # status name
	if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; rc=1; fi
}

tree=$("$top/scripts/linux-6.12-tree.sh") || { ok 1 "linux-source-6.12 unpacked"; exit 1; }
dir=$(dirname "$tree")
# the tree is ours until we exit (upstream-patch.sh takes the same lock)
exec 9> "$dir/lock"
flock 9
export WSCLOSE_TREE_LOCKED=1
"$top/scripts/upstream-patch.sh" --apply "$out/series" > "$out/series.log" 2>&1
s=$?
ok $s "the upstream series ($(ls "$out/series" 2>/dev/null | grep -vc '^0000-') patches and a cover letter) applies with git am to linux-source-6.12"
[ $s -ne 0 ] && { tail -n 20 "$out/series.log"; exit 1; }

# The series as a netdev reviewer runs checkpatch on it, from the tree.
# Allowed: CONST_STRUCT (the wrapped proto_ops are built at load time from
# the live inet ones, as net/tls does), the trace header's TRACE_EVENT
# layout (CHECKs only), and "does MAINTAINERS need updating" on the
# patches before the last one, which adds the entry.  In the selftests, user-space
# idioms checkpatch takes for kernel mistakes: volatile sig_atomic_t and
# thread flags, the library's positive errno values, the harness's
# SKIP(return, ...) and the macro that expands to a matrix of
# FIXTURE_VARIANT_ADD()s.
selftest_idioms=VOLATILE,USE_NEGATIVE_ERRNO,EMBEDDED_FUNCTION_NAME,MACRO_WITH_FLOW_CONTROL,COMPLEX_MACRO,MULTISTATEMENT_MACRO_USE_DO_WHILE
# (Debian's python3 first: checkpatch's SPDX check needs its python3-ply)
: > "$out/checkpatch.log"
for p in $(ls "$out"/series/[0-9][0-9][0-9][0-9]-*.patch | grep -v /0000-cover-letter); do
	ign=CONST_STRUCT,FILE_PATH_CHANGES
	case $p in *selftests*) ign=FILE_PATH_CHANGES,$selftest_idioms ;; esac
	r=$( cd "$tree" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict \
		--show-types --ignore "$ign" "$p" 2>&1 )
	printf '== %s\n%s\n' "$(basename "$p")" "$r" >> "$out/checkpatch.log"
	# every patch was read to the end
	grep -q '^total: ' <<< "$r" || echo "no result for $(basename "$p")" >> "$out/checkpatch.log"
done
n=$(grep -cE '^(ERROR|WARNING):|Traceback|^no result for' "$out/checkpatch.log")
ok $((n > 0)) "checkpatch.pl --strict from the tree: no error or warning in the series ($n)"
[ "$n" -gt 0 ] && grep -E '^(ERROR|WARNING):|Traceback|^no result for' "$out/checkpatch.log" | head -n 20

# The tree's Makefile builds the driver as a module too: make M= with
# CONFIG_WSCLOSE=m against Debian's 6.12 headers, in a copy of net/wsclose
# (objects in the source tree would shadow kunit.py's O= build).
kver=$("$top/scripts/kernels.sh" 6.12)
rm -rf "$out/m"
mkdir -p "$out/m/include/linux"
cp -r "$tree/net/wsclose" "$out/m/wsclose"
cp "$tree/include/uapi/linux/wsclose.h" "$out/m/include/linux/"
make -C "/lib/modules/$kver/build" M="$out/m/wsclose" CONFIG_WSCLOSE=m \
	KCFLAGS="-I$out/m/include" modules > "$out/m/build.log" 2>&1 &&
	! grep -qiE 'warning:|error:' "$out/m/build.log" &&
	[ -f "$out/m/wsclose/wsclose.ko" ]
s=$?
ok $s "net/wsclose builds with make M= and CONFIG_WSCLOSE=m, warning-free ($kver)"
[ $s -ne 0 ] && tail -n 20 "$out/m/build.log"

# and the selftests build from the tree, with its lib.mk
rm -rf "$out/ksft"
mkdir -p "$out/ksft"
make -C "$tree/tools/testing/selftests/net/wsclose" OUTPUT="$out/ksft" \
	KHDR_INCLUDES="-isystem $out/m/include" > "$out/ksft.log" 2>&1 &&
	! grep -qiE 'warning:|error:' "$out/ksft.log" && [ -x "$out/ksft/close_test" ]
s=$?
ok $s "tools/testing/selftests/net/wsclose builds warning-free ($(ls "$out/ksft" | wc -l) programs)"
[ $s -ne 0 ] && tail -n 20 "$out/ksft.log"

# The suite's .kunitconfig, with the sanitizers added for this run.
log=$dir/build/test.log
rm -f "$log"
t0=$(date +%s)
(cd "$tree" && python3 tools/testing/kunit/kunit.py run --arch=x86_64 \
	--kunitconfig=net/wsclose/.kunitconfig --build_dir="$dir/build" \
	--kconfig_add CONFIG_DEBUG_KERNEL=y --kconfig_add CONFIG_KASAN=y \
	--kconfig_add CONFIG_KASAN_GENERIC=y --kconfig_add CONFIG_KASAN_INLINE=y \
	--kconfig_add CONFIG_PROVE_LOCKING=y --kconfig_add CONFIG_DEBUG_ATOMIC_SLEEP=y \
	--kconfig_add CONFIG_DEBUG_LIST=y \
	--jobs="$(nproc)" --timeout=1200 'wsclose*') > "$out/kunit.log" 2>&1
s=$?
ok $s "kunit.py run --arch=x86_64 builds the patched 6.12 tree and passes ($(( $(date +%s) - t0 ))s)"
[ $s -ne 0 ] && tail -n 40 "$out/kunit.log"

# The kernel's own output of that run, as kunit.py saved it.
[ -s "$log" ] || { ok 1 "kunit.py saved the kernel log"; exit 1; }
cp "$log" "$out/test.log"
grep -q '^CONFIG_KASAN=y' "$dir/build/.config" &&
	grep -q '^CONFIG_PROVE_LOCKING=y' "$dir/build/.config"
ok $? "the kernel runs with KASAN and lockdep"
sed 's/^\[[^]]*\] //' "$log" | awk '
	/^    # Subtest: wsclose(_[a-z]+)?$/ { on = 1; prev = 4; next }
	on && /^ *(not )?ok [0-9]+ / {
		match($0, /^ */); ind = RLENGTH
		line = $0; sub(/^ *(not )?ok [0-9]+ (- )?/, "", line)
		res = ($0 ~ /^ *not ok/) ? "not ok" : "ok"
		if (ind == 0) { on = 0; suites++; print res " - kunit-6.12: suite " line; next }
		if (ind >= 8) { print res " - kunit-6.12: " cur "/" line; prev = 8; next }
		if (prev == 8) { prev = 4; next }
		print res " - kunit-6.12: " line; prev = 4; next
	}
	on && /^ *# Subtest: / { cur = $3 }
	END { if (suites != 3) print "not ok - kunit-6.12: 3 suites reported (" suites + 0 ")" }
' > "$out/cases.txt"
cat "$out/cases.txt"
[ -s "$out/cases.txt" ] && ! grep -q '^not ok' "$out/cases.txt" || rc=1
! grep -E 'BUG:|WARNING:|KASAN:|possible circular|possible recursive|inconsistent lock|suspicious RCU|Call Trace:' "$log"
ok $? "no KASAN, lockdep, BUG or WARNING report in the kernel log"
exit $rc
