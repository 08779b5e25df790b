#!/bin/bash
# Packaging checks for make check:
#   install    make install DESTDIR=... lays out every file, uninstall removes them
#   dkms KVER  dkms add + build against an installed kernel's headers, in a
#              private DKMS tree (the machine's own DKMS state is not touched)
set -u
cd "$(dirname "$0")/.."
case "$1" in
install)
	kver=$2
	dest=$(mktemp -d)
	trap 'rm -rf "$dest"' EXIT
	make -s install DESTDIR="$dest" KVER="$kver" PREFIX=/usr >/dev/null || exit 1
	rc=0
	for f in $(make -s install-list DESTDIR="$dest" KVER="$kver" PREFIX=/usr); do
		[ -e "$f" ] || { echo "missing after install: ${f#"$dest"}"; rc=1; }
	done
	# the pkg-config file works
	PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig \
		pkg-config --cflags --libs libwsclose | grep -q -- '-lwsclose' ||
		{ echo "pkg-config libwsclose does not work"; rc=1; }
	make -s uninstall DESTDIR="$dest" KVER="$kver" PREFIX=/usr >/dev/null || rc=1
	left=$(find "$dest" -type f -o -type l | head -5)
	[ -z "$left" ] || { echo "left after uninstall: $left"; rc=1; }
	exit $rc
	;;
dkms)
	kver=$2
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/tree"
	make -s install-dkms DESTDIR="$work/src" DKMSDIR=/wsclose-0.1 || exit 1
	dkms add --sourcetree "$work/src" --dkmstree "$work/tree" wsclose/0.1 >/dev/null &&
	dkms build --sourcetree "$work/src" --dkmstree "$work/tree" wsclose/0.1 \
		-k "$kver" > "$work/log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { cat "$work/log"; exit 1; }
	ko=$(find "$work/tree" -name 'wsclose.ko*' | head -1)
	[ -n "$ko" ] || { echo "dkms built no wsclose.ko"; exit 1; }
	modinfo -F vermagic "$ko" | grep -q "^$kver " || { echo "wrong vermagic"; exit 1; }
	;;
*)
	echo "usage: $0 install KVER | dkms KVER" >&2
	exit 2
	;;
esac
