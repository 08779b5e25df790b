#!/bin/bash
# make check: build everything, run every test, count them.
# The last line is "N passed, N failed"; the exit status is non-zero on any
# failure.  Test programs print TAP ("ok N name", "not ok N name"); each
# such line is one test case.  Build and style checks count as one each.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
B=$TOP/build
mkdir -p "$B"
pass=0 fail=0 skip=0
start=$(date +%s)

# Every failure is also listed at the end, just above the count, for
# whoever reads only the last lines of a long log.
failures=$B/failures.txt
: > "$failures"

record() { # rc name
	if [ "$1" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok - $2"
	else
		fail=$((fail + 1)); echo "not ok - $2"; echo "not ok - $2" >> "$failures"
	fi
}

# Count the TAP results in $1; a program that planned more results than it
# printed (it crashed) has the missing ones counted as failures.
count_tap() {
	local f=$1 p n s planned got
	p=$(grep -cE '^ok [0-9]+ ' "$f")
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$f")
	n=$(grep -cE '^not ok [0-9]+ ' "$f")
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$f" | awk '{ s += $1 } END { print s + 0 }')
	got=$((p + n))
	grep -E '^not ok [0-9]+ ' "$f" >> "$failures"
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + n))
	if [ "$planned" -gt "$got" ]; then
		echo "not ok - $((planned - got)) planned tests never reported in $(basename "$f")"
		fail=$((fail + planned - got))
	fi
}

echo "== libwsclose, host side"
make -s lib "$B/host/lib_test" > "$B/host-build.log" 2>&1
rc=$?
record $rc "library and host tests build with -Wall -Wextra -Werror"
[ $rc -ne 0 ] && cat "$B/host-build.log"
if [ $rc -eq 0 ]; then
	"$B/host/lib_test" > "$B/host-test.log" 2>&1
	grep -E '^(not )?ok ' "$B/host-test.log"
	count_tap "$B/host-test.log"
fi

echo "== style: checkpatch --strict, sparse"
make -s "$B/ksft/kselftest_harness.h" >/dev/null 2>&1
scripts/checkpatch.sh > "$B/checkpatch.log" 2>&1
rc=$?
record $rc "checkpatch.pl --strict on module/"
[ $rc -ne 0 ] && cat "$B/checkpatch.log"

scripts/check-docs.sh > "$B/check-docs.log" 2>&1
rc=$?
record $rc "Documentation/wsclose.rst covers every ioctl, struct and constant of the ABI"
[ $rc -ne 0 ] && cat "$B/check-docs.log"

make -s selftests "$B/demo/wsclose-demo" "$B/tools/wsclose" "$B/examples/winsock_client" > "$B/selftests-build.log" 2>&1
rc=$?
record $rc "selftests build with -Wall -Wextra -Werror"
[ $rc -ne 0 ] && cat "$B/selftests-build.log"
# compat_test and the library under it are 32-bit (ia32) builds
[ "$(od -An -tx1 -j4 -N1 "$B/selftests/compat_test" 2>/dev/null)" = " 01" ] &&
	[ -s "$B/lib32/libwsclose.a" ]
record $? "32-bit (-m32) static libwsclose.a and compat_test build"

# Build only (make bench boots QEMU; make check does not run it).
make -s bench-build > "$B/bench-build.log" 2>&1
rc=$?
record $rc "benchmarks and the instruction-counting QEMU plugin build with -Wall -Wextra -Werror"
[ $rc -ne 0 ] && cat "$B/bench-build.log"

# The same list as the Makefile's: compat_test is the 32-bit program,
# rmmod_test unloads and reloads the module and runs last.
SELFTESTS="wsclose_test adopt_test close_test abort_test handle_test uring_test counters_test race_test fuzz_test enomem_test hostile_test compat_test rmmod_test"

GUEST_SELFTESTS='
for t in '"$SELFTESTS"'; do
	echo "# selftest $t"
	$t
done
'
GUEST_EXTRAS='
if winsock_client; then echo "ok - the Winsock-style example closes its socket"; else echo "not ok - the Winsock-style example closes its socket"; fi
if wsclose -q && wsclose | grep -q "^wsclose 0.1: active"; then echo "ok - the wsclose tool reports the module active"; else echo "not ok - the wsclose tool reports the module active"; fi
'
GUEST_UNLOAD='
lsmod | grep -q "^wsclose " && rmmod wsclose && ! lsmod | grep -q "^wsclose "
if [ $? -eq 0 ]; then echo "ok - module unloads after the tests"; else echo "not ok - module unloads after the tests"; fi
'
# KUnit: load the suites, turn their KTAP (in the kernel log) into one
# result line per suite and per case (a parameterised case counts once per
# parameter).  All three suites must report: one that failed to start, or
# was lost from the log, fails.
GUEST_KUNIT='
echo "# kunit"
insmod /wsclose_kunit.ko || echo "not ok - kunit: the suites load"
dmesg | sed -n "s/^\[[^]]*\] //p" | awk "
	/^    # Subtest: wsclose(_[a-z]+)?\$/ { on = 1; prev = 4; next }
	on && /^ *(not )?ok [0-9]+ / {
		match(\$0, /^ */); ind = RLENGTH
		line = \$0; sub(/^ *(not )?ok [0-9]+ (- )?/, \"\", line)
		res = (\$0 ~ /^ *not ok/) ? \"not ok\" : \"ok\"
		if (ind == 0) { on = 0; suites++; print res \" - kunit: suite \" line; next }
		if (ind >= 8) { print res \" - kunit: \" cur \"/\" line; prev = 8; next }
		if (prev == 8) { prev = 4; next }
		print res \" - kunit: \" line; prev = 4; next
	}
	on && /^ *# Subtest: / { cur = \$3 }
	END { if (suites != 3) print \"not ok - kunit: 3 suites reported (\" suites + 0 \")\" }
"
rmmod wsclose_kunit
'
# Debug kernel: clear what boot leaked, run everything, then scan.
GUEST_KMEMLEAK_CLEAR='
mount -t debugfs none /sys/kernel/debug 2>/dev/null
echo clear > /sys/kernel/debug/kmemleak
'
GUEST_KMEMLEAK_SCAN='
echo scan > /sys/kernel/debug/kmemleak; sleep 6; echo scan > /sys/kernel/debug/kmemleak
leaks=$(cat /sys/kernel/debug/kmemleak)	# debugfs files read as size 0: no -s
if [ -n "$leaks" ]; then
	echo "not ok - kmemleak finds no leak"; echo "$leaks" | head -n 60
else
	echo "ok - kmemleak finds no leak"
fi
'

# run_kernel NAME VMLINUZ KVER KDIR GUEST_CMD TIMEOUT
run_kernel() {
	local name=$1 vmlinuz=$2 kver=$3 kdir=$4 cmd=$5 tmo=$6 rc t0 p n extra=""
	echo "== kernel $name"
	make -s module KVER="$kver" KDIR="$kdir" > "$B/module-$kver.log" 2>&1
	rc=$?
	record $rc "module builds warning-free against $name"
	[ $rc -ne 0 ] && { cat "$B/module-$kver.log"; return; }
	[ -f "$B/$kver/wsclose_kunit.ko" ] && extra="$B/$kver/wsclose_kunit.ko"

	scripts/mkinitramfs.sh "$B/initramfs-$kver.cpio.gz" "$B/$kver/wsclose.ko" \
		"$B"/selftests/* "$B/demo/wsclose-demo" "$B/tools/wsclose" \
		"$B/examples/winsock_client" $extra
	t0=$(date +%s)
	QEMU_RUN_LOG="$B/console-$kver.log" scripts/qemu-run.sh -t "$tmo" "$vmlinuz" "$B/initramfs-$kver.cpio.gz" \
		"$cmd" > "$B/guest-$kver.log" 2>&1
	rc=$?
	grep -E '^(not )?ok |^# selftest|^# kunit|^# Totals' "$B/guest-$kver.log"
	count_tap "$B/guest-$kver.log"
	p=$(grep -cE '^ok - ' "$B/guest-$kver.log"); n=$(grep -cE '^not ok - ' "$B/guest-$kver.log")
	grep -E '^not ok - |^qemu-run: splat: ' "$B/guest-$kver.log" >> "$failures"
	pass=$((pass + p)); fail=$((fail + n))
	[ $rc -ne 0 ] && tail -n 80 "$B/guest-$kver.log"
	record $rc "guest run on $name ends cleanly: status 0, no kernel splat ($(( $(date +%s) - t0 ))s)"
}

for series in 6.1 6.12; do
	kver=$(scripts/kernels.sh "$series") || { record 1 "kernel $series installed"; continue; }
	make -s sparse KVER="$kver" > "$B/sparse-$series.log" 2>&1
	rc=$?
	record $rc "sparse (C=2) reports nothing on module/ ($series headers)"
	[ $rc -ne 0 ] && cat "$B/sparse-$series.log"
	if [ "$series" = 6.1 ]; then
		scripts/check-packaging.sh install "$kver" > "$B/install.log" 2>&1
		rc=$?
		record $rc "make install DESTDIR=... lays out every file; uninstall removes them"
		[ $rc -ne 0 ] && cat "$B/install.log"
	fi
	scripts/check-packaging.sh dkms "$kver" > "$B/dkms-$kver.log" 2>&1
	rc=$?
	record $rc "dkms add/build against $kver headers"
	[ $rc -ne 0 ] && cat "$B/dkms-$kver.log"
	run_kernel "$kver" "/boot/vmlinuz-$kver" "$kver" "/lib/modules/$kver/build" \
		"$GUEST_SELFTESTS$GUEST_EXTRAS$GUEST_UNLOAD" 1500
done

# The debug kernel (KUnit, KASAN, lockdep, kmemleak): built once per machine.
echo "== debug kernel (built once, cached; the first build takes a while)"
t0=$(date +%s)
tree=$(scripts/build-debug-kernel.sh)
rc=$?
record $rc "debug kernel available ($(( $(date +%s) - t0 ))s)"
if [ $rc -eq 0 ]; then
	run_kernel "6.1 debug (KUnit, KASAN, lockdep, kmemleak)" "$tree/arch/x86/boot/bzImage" \
		debug "$tree" \
		"$GUEST_KMEMLEAK_CLEAR$GUEST_KUNIT$GUEST_SELFTESTS$GUEST_UNLOAD$GUEST_KMEMLEAK_SCAN" 3000
fi

# 6.12 in the kernel tree: the upstream series applied with git am to
# Debian's linux-source-6.12, its checkpatch, its in-tree module and
# selftest builds, and the KUnit suite run by kunit.py with KASAN and
# lockdep (the tree and its build are cached; the first build is minutes).
echo "== 6.12 kernel tree: the upstream series, kunit.py (KASAN, lockdep)"
t0=$(date +%s)
scripts/kunit-6.12.sh > "$B/kunit-6.12.out" 2>&1
rc=$?
grep -E '^(not )?ok - ' "$B/kunit-6.12.out"
p=$(grep -cE '^ok - ' "$B/kunit-6.12.out"); n=$(grep -cE '^not ok - ' "$B/kunit-6.12.out")
grep -E '^not ok - ' "$B/kunit-6.12.out" >> "$failures"
pass=$((pass + p)); fail=$((fail + n))
[ $rc -ne 0 ] && [ "$n" -eq 0 ] && tail -n 40 "$B/kunit-6.12.out"
[ $rc -eq 0 ] || [ "$n" -gt 0 ]
record $? "the 6.12 kernel-tree run finished ($(( $(date +%s) - t0 ))s)"

# Wine: Windows programs closing sockets under stock Debian Wine 8.0 and
# under Wine patched for wsclose (wine/), on both kernels.  Every patched
# case must pass; stock Wine must fail (the proof that the cases can).
echo "== Wine on wsclose (wine/README.md)"
t0=$(date +%s)
make -s wine-check > "$B/wine-check.log" 2>&1
rc=$?
grep -E '^(== |wine-check:)' "$B/wine-check.log"
read -r wp wf < <(tail -n 1 "$B/wine-check.log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
read -r sp sf < <(sed -n 's/^stock wine: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$B/wine-check.log")
# each patched case counts as a test; a run that produced no count fails
[ $rc -ne 0 ] && tail -n 60 "$B/wine-check.log"
grep -B2 -E '^ *patched: +FAIL' "$B/wine-check.log" | grep -E '^[a-z0-9_]+ ' |
	sed 's/^\([a-z0-9_]*\).*/not ok - wine: \1/' | tee -a "$failures"
pass=$((pass + ${wp:-0})); fail=$((fail + ${wf:-0}))
[ -n "$wp" ] || [ $rc -eq 0 ]
record $? "Wine check ran and counted its cases ($(( $(date +%s) - t0 ))s): patched Wine ${wp:-?} passed, ${wf:-?} failed"
[ "${sf:-0}" -gt 0 ]
record $? "stock Debian Wine fails the cases the integration fixes: ${sf:-?} failed, ${sp:-?} passed"

if [ -s "$failures" ]; then
	echo "== failures (the first 15; the full logs are in build/)"
	head -n 15 "$failures"
fi
echo "== $(( $(date +%s) - start ))s, $skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
