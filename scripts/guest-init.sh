#!/bin/busybox sh
# /init of the test initramfs: set up, load the module, run /cmd, report.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ip link set lo up
ulimit -n 65536 2>/dev/null
echo 1 > /proc/sys/kernel/panic_on_oops 2>/dev/null

status=0
# Everything the kernel logs after this line may concern the module.
echo "wsclose-guest: loading the module" > /dev/kmsg
if ! insmod /wsclose.ko; then
	echo "guest: insmod failed"
	status=1
else
	cd /tmp
	echo "==== WSCLOSE-START ===="
	sh /cmd < /dev/null
	status=$?
fi

echo "==== WSCLOSE-DMESG ===="
dmesg
echo "==== WSCLOSE-EXIT $status ===="
sync
poweroff -f
