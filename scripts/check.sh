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

record() { # rc name
	if [ "$1" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok - $2"
	else
		fail=$((fail + 1)); echo "not ok - $2"
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

make -s selftests "$B/demo/wsclose-demo" > "$B/selftests-build.log" 2>&1
rc=$?
record $rc "selftests build with -Wall -Wextra -Werror"
[ $rc -ne 0 ] && cat "$B/selftests-build.log"

GUEST_CMD='
set -u
for t in wsclose_test close_test; do
	echo "# selftest $t"
	$t
done
lsmod | grep -q "^wsclose " && rmmod wsclose && ! lsmod | grep -q "^wsclose "
if [ $? -eq 0 ]; then echo "ok - module unloads after the selftests"; else echo "not ok - module unloads after the selftests"; fi
'

for series in 6.1 6.12; do
	kver=$(scripts/kernels.sh "$series") || { record 1 "kernel $series installed"; continue; }
	echo "== kernel $kver"
	make -s module KVER="$kver" > "$B/module-$kver.log" 2>&1
	rc=$?
	record $rc "module builds warning-free against $kver headers"
	[ $rc -ne 0 ] && { cat "$B/module-$kver.log"; continue; }

	if [ "$series" = 6.1 ]; then
		make -s sparse KVER="$kver" > "$B/sparse.log" 2>&1
		rc=$?
		record $rc "sparse (C=2) reports nothing on module/"
		[ $rc -ne 0 ] && cat "$B/sparse.log"
	fi

	scripts/mkinitramfs.sh "$B/initramfs-$kver.cpio.gz" "$B/$kver/wsclose.ko" \
		"$B"/selftests/* "$B/demo/wsclose-demo"
	t0=$(date +%s)
	scripts/qemu-run.sh -t 1500 "/boot/vmlinuz-$kver" "$B/initramfs-$kver.cpio.gz" \
		"$GUEST_CMD" > "$B/guest-$kver.log" 2>&1
	rc=$?
	grep -E '^(not )?ok |^# selftest|^# Totals' "$B/guest-$kver.log"
	count_tap "$B/guest-$kver.log"
	p=$(grep -cE '^ok - ' "$B/guest-$kver.log"); n=$(grep -cE '^not ok - ' "$B/guest-$kver.log")
	pass=$((pass + p)); fail=$((fail + n))
	if [ $rc -ne 0 ]; then
		tail -n 60 "$B/guest-$kver.log"
	fi
	record $rc "guest run on $kver ends cleanly: status 0, no kernel splat ($(( $(date +%s) - t0 ))s)"
done

echo "== $(( $(date +%s) - start ))s, $skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
