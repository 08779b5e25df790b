#!/bin/busybox sh
# /init of the Wine guest (wine/run-guest.sh): the host's root shared
# read-only over 9p, Wine run in a chroot of it with writable overlays for
# the prefix and /tmp and a tmpfs on /run (/run/user/0: the wineserver's
# socket directory).  Loads wsclose.ko when the image
# has one (patched runs), runs /cmd in the chroot, then reports the same
# markers as scripts/guest-init.sh.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo 1 > /proc/sys/kernel/panic_on_oops 2>/dev/null

status=0
fail() { echo "guest: $*"; status=1; }

# The 9p/overlay modules, in dependency order (none on kernels that build them in).
for m in $(cat /modules.order 2>/dev/null); do
	insmod "/mods/$m.ko" 2>/dev/null || echo "guest: insmod $m failed (built in?)"
done
if [ -e /wsclose.ko ]; then
	insmod /wsclose.ko || fail "insmod wsclose.ko failed"
fi

H=/host
mkdir -p $H
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot $H ||
	fail "9p mount failed"
mount -t proc proc $H/proc
mount -t sysfs sys $H/sys
mount -o bind /dev $H/dev
# /tmp: the host's (a cache may live there: WSCLOSE_CACHE=/tmp/...) under a
# writable tmpfs layer; nothing reaches the host.
mkdir -p /tmp/ovtmp/upper /tmp/ovtmp/work
mount -t overlay overlay -o lowerdir=$H/tmp,upperdir=/tmp/ovtmp/upper,workdir=/tmp/ovtmp/work $H/tmp ||
	mount -t tmpfs tmp $H/tmp
mount -t tmpfs run $H/run
mkdir -p $H/run/user/0
# The prefix: the host's, with a tmpfs upper layer.
prefix=$(cat /prefix)
mkdir -p /tmp/ov/upper /tmp/ov/work
mount -t overlay overlay -o "lowerdir=$H$prefix,upperdir=/tmp/ov/upper,workdir=/tmp/ov/work" "$H$prefix" ||
	fail "overlay on the prefix failed"
ip link set lo up
if [ -e /dummy-net ]; then
	ip link add wsc0 type dummy && ip addr add 127.0.0.2/8 dev wsc0 && ip link set wsc0 up ||
		echo "guest: no dummy interface"
fi
ulimit -n 65536 2>/dev/null

echo "==== WSCLOSE-START ===="
if [ "$status" = 0 ]; then
	cp /cmd $H/tmp/cmd
	chroot $H /bin/sh /tmp/cmd < /dev/null 2>&1
	status=$?
fi
echo "==== WSCLOSE-DMESG ===="
dmesg
echo "==== WSCLOSE-EXIT $status ===="
sync
poweroff -f
