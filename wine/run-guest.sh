#!/bin/bash
# Run the Windows close tests under Wine in a QEMU (TCG) guest booting a
# Debian kernel, with the host's root shared read-only over 9p.
#
#   wine/run-guest.sh [-t SECONDS] [-k WSCLOSE_KO] KVER DIST PREFIX BUILD
#
#   KVER    a kernel release with /boot/vmlinuz-KVER and /lib/modules/KVER
#   DIST    an extracted Wine tree (has usr/lib/wine/wine64): Debian's stock
#           one from wine/fetch.sh, or a patched copy
#   PREFIX  a WINEPREFIX made on the host (the guest writes to an overlay)
#   BUILD   the directory holding wsctest.exe and wsc-peer
#   -k      load this wsclose.ko in the guest first (patched runs)
#
# WSCTEST_FILTER=<text> runs only the cases whose name contains it;
# WINE_GUEST_DEBUG=<channels> sets WINEDEBUG in the guest (default -all);
# WINE_GUEST_RUN='<program> <args>' runs that under Wine instead of wsctest.exe
# (e.g. Wine's own ws2_32_test.exe sock).
# Prints the guest command's output (the CASE lines); exits with its status,
# 124 on timeout, 125 when the guest did not finish or the kernel log shows
# a splat.  QEMU_RUN_LOG=<file> keeps the whole console log.
#
# -cpu max,-smap: with SMAP the 6.1 guest faults in wineboot at an iretq in
# ntdll ("supervisor read access in user mode"); see
# ../shared/notes/wine-integration.md.
set -euo pipefail
timeout=900 ko=""
while [ $# -gt 0 ]; do
	case "$1" in
	-t) timeout=$2; shift 2 ;;
	-k) ko=$2; shift 2 ;;
	*) break ;;
	esac
done
kver=$1 dist=$(readlink -f "$2") prefix=$(readlink -f "$3") build=$(readlink -f "$4")
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/mods"
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest-init.sh" "$root/init"
chmod 0755 "$root/init"
[ -n "$ko" ] && cp "$ko" "$root/wsclose.ko"
# 9p and overlay, in dependency order; the ones built into the kernel are skipped.
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
	netfs fscache 9pnet 9pnet_virtio 9p overlay; do
	f=$(modinfo -k "$kver" -n "$m" 2>/dev/null) || continue
	case "$f" in
	*.ko) cp "$f" "$root/mods/$m.ko" ;;
	*.ko.xz) xz -dc "$f" > "$root/mods/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" > "$root/mods/$m.ko" ;;
	*) continue ;;
	esac
	echo "$m" >> "$root/modules.order"
done
echo "$prefix" > "$root/prefix"
# Wine's own tests want an interface address besides loopback (sock.c's
# test_address_list_query crashes without one): with WINE_GUEST_RUN, a
# dummy interface holding 127.0.0.2, which is still loopback range and
# leaves nothing outside the guest (there is no network device).
if [ -n "${WINE_GUEST_RUN:-}" ] && f=$(modinfo -k "$kver" -n dummy 2>/dev/null); then
	case "$f" in
	*.ko) cp "$f" "$root/mods/dummy.ko" ;;
	*.ko.xz) xz -dc "$f" > "$root/mods/dummy.ko" ;;
	esac
	echo dummy >> "$root/modules.order"
	touch "$root/dummy-net"
fi

# The command run in the chroot of the host's root.
cat > "$root/cmd" <<EOF
export WINEPREFIX='$prefix' WINEDEBUG='${WINE_GUEST_DEBUG:--all}' HOME=/root WINEDLLOVERRIDES='mscoree,mshtml='
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "guest: kernel \$(uname -r), wsclose \$( [ -e /dev/wsclose ] && echo loaded || echo absent ), wine '$dist'"
'$build/wsc-peer' 7700 2>/dev/null &
sleep 0.5
t0=\$(date +%s)
'$dist/usr/lib/wine/wine64' ${WINE_GUEST_RUN:-'$build/wsctest.exe' 7700 ${WSCTEST_FILTER:-}} > /tmp/wsctest.out 2>&1
rc=\$?
cat /tmp/wsctest.out
echo "guest: wsctest exited \$rc after \$(( \$(date +%s) - t0 )) s"
'$dist/usr/lib/wine/wineserver' -k 2>/dev/null
exit \$rc
EOF
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd"

set +e
timeout --foreground -k 10 "$timeout" \
	nice -n 15 qemu-system-x86_64 -machine q35 -cpu max,-smap -smp 2 -m 2048 \
	-accel tcg,thread=single \
	-nographic -no-reboot -monitor none -serial stdio -nic none \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd" \
	-append "console=ttyS0 loglevel=3 panic=-1 oops=panic rdinit=/init" \
	< /dev/null > "$work/log" 2>&1
qrc=$?
set -e
tr -d '\r' < "$work/log" > "$work/out"
[ -n "${QEMU_RUN_LOG:-}" ] && cp "$work/out" "$QEMU_RUN_LOG"
sed -n "/==== WSCLOSE-START ====/,/==== WSCLOSE-DMESG ====/p" "$work/out" | sed "1d;\$d"
rc=$(sed -n 's/^==== WSCLOSE-EXIT \([0-9]*\) ====$/\1/p' "$work/out" | tail -n 1)
if [ -z "$rc" ]; then
	echo "run-guest: guest did not finish (qemu status $qrc); last lines:" >&2
	tail -n 40 "$work/out" >&2
	[ "$qrc" -eq 124 ] && exit 124
	exit 125
fi
splat='BUG:|WARNING:|Call Trace|KASAN|refcount_t|blocked for more than|Kernel panic|general protection|UBSAN'
if sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" | grep -E "$splat" >/dev/null; then
	echo "run-guest: kernel log shows a splat:" >&2
	sed -n '/==== WSCLOSE-DMESG ====/,$p' "$work/out" | grep -E -B5 -A30 "$splat" | head -n 80 >&2
	exit 125
fi
exit "$rc"
