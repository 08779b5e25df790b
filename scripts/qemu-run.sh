#!/bin/sh
# Boot a kernel under QEMU (software emulation) with the test initramfs,
# run a shell command in the guest, and report its output and status.
#   qemu-run.sh [-t SECONDS] VMLINUZ INITRAMFS 'COMMAND'
# Exits with the command's status; 124 on timeout; 125 when the kernel log
# shows a splat (BUG, WARNING, KASAN, lockdep, refcount, hung task, ...).
set -eu
timeout=600
if [ "$1" = "-t" ]; then timeout=$2; shift 2; fi
kernel=$1 initrd=$2 cmd=$3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
printf '%s\n' "$cmd" > "$work/root/cmd"
(cd "$work/root" && echo cmd | cpio -o -H newc --quiet) | gzip -1 > "$work/cmd.cpio.gz"
cat "$initrd" "$work/cmd.cpio.gz" > "$work/initrd"

# One TCG thread for both vCPUs: with multi-threaded TCG, a vCPU can run a
# stale int3 while another patches kernel text (static keys), an Oops that
# has nothing to do with the code under test.
# A kernel report logged before the guest loads the module is the boot's
# own (the debug kernel under TCG has shown one, once, in early IRQ
# handling): that boot is retried once, and only that.
for attempt in 1 2; do
set +e
timeout --foreground -k 10 "$timeout" \
	qemu-system-x86_64 -machine q35 -cpu max -smp 2 -m 1536 \
	-accel tcg,thread=single \
	-nographic -no-reboot -monitor none -serial stdio \
	-kernel "$kernel" -initrd "$work/initrd" \
	-append "console=ttyS0 loglevel=3 panic=-1 oops=panic hung_task_panic=0 softlockup_panic=0 rdinit=/init" \
	< /dev/null > "$work/log" 2>&1
qrc=$?
set -e
tr -d '\r' < "$work/log" > "$work/out"
splat='BUG:|WARNING:|Call Trace|KASAN|suspected memory leak|possible recursive locking|circular locking|inconsistent lock state|suspicious RCU usage|lock held when returning|refcount_t|blocked for more than|Kernel panic|general protection|UBSAN'
# the kernel log (dumped at the end) up to the guest's marker
early() {
	sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" |
		sed -n '/wsclose-guest: loading the module/q;p'
}
if [ $attempt = 1 ] &&
	sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" | grep -q 'wsclose-guest: loading the module' &&
	early | grep -qE "$splat"; then
	echo "qemu-run: the kernel reported a problem before the module was loaded; booting again:" >&2
	early | grep -E "$splat" | head -n 3 | sed 's/^/qemu-run:   /' >&2
	continue
fi
break
done
# The whole console log, kept where the caller asks (make check keeps it).
[ -n "${QEMU_RUN_LOG:-}" ] && cp "$work/out" "$QEMU_RUN_LOG"

# The command's own output: everything before the dmesg marker.
sed -n "/==== WSCLOSE-START ====/,/==== WSCLOSE-DMESG ====/p" "$work/out" | sed "1d;\$d"

rc=$(sed -n 's/^==== WSCLOSE-EXIT \([0-9]*\) ====$/\1/p' "$work/out" | tail -n 1)
if [ -z "$rc" ]; then
	echo "qemu-run: guest did not finish (qemu status $qrc); last lines:" >&2
	tail -n 40 "$work/out" >&2
	[ "$qrc" -eq 124 ] && exit 124
	exit 125
fi
if sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" | grep -E "$splat" >/dev/null; then
	echo "qemu-run: kernel log shows a splat:" >&2
	sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" | grep -E -B5 -A30 "$splat" | head -n 120 >&2
	# What a reader of only the last lines needs: each report's first line.
	sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" | grep -E "$splat" |
		grep -v 'Call Trace' | head -n 5 | sed 's/^/qemu-run: splat: /' >&2
	exit 125
fi
exit "$rc"
