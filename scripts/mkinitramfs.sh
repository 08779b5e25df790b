#!/bin/sh
# Build the test initramfs: busybox, the module, the test programs.
#   mkinitramfs.sh OUT.cpio.gz MODULE.ko [FILE...]
# Each FILE is copied into /bin of the image (programs must be static),
# except *.ko files, which go to / beside wsclose.ko.
set -eu
out=$1 ko=$2
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
for f in "$@"; do
	case "$f" in
	*.ko) cp "$f" "$root/" ;;
	*) cp "$f" "$root/bin/" ;;
	esac
done
cp "$ko" "$root/wsclose.ko"
cp "$(dirname "$0")/guest-init.sh" "$root/init"
chmod 0755 "$root/init"
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> "$root/etc/passwd"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
