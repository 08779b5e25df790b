#!/bin/bash
# Build (once per machine) the debug kernel: Debian's linux-source-6.1 with
# scripts/debug-kernel.config (KUnit, KASAN, lockdep, kmemleak, ...).
# The result is cached outside the repository, keyed by the source package
# version and the config fragment:
#   ${WSCLOSE_CACHE:-~/.cache/wsclose}/debug-<version>-<hash>/
# It holds the built tree (bzImage, and what out-of-tree modules build
# against).  Prints that directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug-kernel.config
cache=${WSCLOSE_CACHE:-$HOME/.cache/wsclose}
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (echo "$ver"; cat "$frag" "$0") | sha256sum | cut -c1-12)
dir=$cache/debug-$ver-$key
tree=$dir/linux-source-6.1

if [ -f "$dir/done" ]; then
	echo "$tree"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
echo "build-debug-kernel: building $ver into $dir (tens of minutes; log: $log)" >&2
{
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$dir"
	cd "$tree"
	make x86_64_defconfig kvm_guest.config
	scripts/kconfig/merge_config.sh -m .config "$frag"
	make olddefconfig
	# every option of the fragment must have stuck
	missing=0
	while read -r line; do
		case "$line" in CONFIG_*=n) opt=${line%%=*}
			grep -q "^$opt=" .config && { echo "not off: $line"; missing=1; } ;;
		CONFIG_*) grep -qx "$line" .config || { echo "missing: $line"; missing=1; } ;;
		esac
	done < "$frag"
	[ $missing -eq 0 ]
	# modules too: Module.symvers is what out-of-tree modules link against
	make -j"$(nproc)" bzImage modules
} > "$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
touch "$dir/done"
echo "$tree"
