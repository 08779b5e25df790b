#!/bin/bash
# Build patched Wine parts (wineserver, ntdll.so, ws2_32.dll) from the
# prepared Debian source (wine/fetch.sh) and wine/patches/, cached by the
# patches' and the wsclose ABI header's content, and lay out a Wine tree:
# Debian's binaries (hard links) with the three rebuilt files swapped in.
#
#   wine/build.sh            prints the patched tree's directory (DIST)
#
# Under $WSCLOSE_CACHE (default ~/.cache/wsclose)/wine-<ver>/:
#   build-<key>/   the patched source tree and its build
#   dist-<key>/    the patched Wine tree (run it like Debian's: DIST/usr/lib/wine/wine64)
# <key> = sha256 of the series, the patches and <linux/wsclose.h>.
# Prints "build: <step> <seconds> s" per step it ran.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
W=$("$here/fetch.sh" prepare)
NICE="nice -n 15"
log() { echo "build: $*" >&2; }

# The wsclose ABI header: the project's own.
inc=$top/uapi
key=$( (cd "$here/patches" && cat series $(cat series)) | cat - "$inc/linux/wsclose.h" |
	sha256sum | cut -c1-12)
B=$W/build-$key D=$W/dist-$key

if [ ! -e "$B/.built" ]; then
	t0=$(date +%s)
	rm -rf "$B"
	cp -a "$W/src" "$B.tmp"
	while read -r p; do
		[ -n "$p" ] || continue
		patch -p1 -s -d "$B.tmp" < "$here/patches/$p" || { log "$p does not apply"; exit 1; }
	done < "$here/patches/series"
	mv "$B.tmp" "$B"
	log "patch $(( $(date +%s) - t0 )) s"
	# configure.ac changed: regenerate and configure with the header visible.
	t0=$(date +%s)
	(cd "$B" && $NICE autoreconf -f >&2)
	(cd "$B" && $NICE ./configure -q --enable-win64 --without-x --without-freetype \
		--disable-tests --prefix=/usr --libdir=/usr/lib/x86_64-linux-gnu/wine \
		--bindir=/usr/lib/wine --datarootdir=/usr/share/wine \
		CPPFLAGS="-I$inc" > .configure.log 2>&1) || { tail -n 30 "$B/.configure.log" >&2; exit 1; }
	grep -q '^#define HAVE_LINUX_WSCLOSE_H 1' "$B/include/config.h" ||
		{ log "configure did not find <linux/wsclose.h> in $inc"; exit 1; }
	log "configure $(( $(date +%s) - t0 )) s"
	t0=$(date +%s)
	(cd "$B" && $NICE make -j2 server/wineserver dlls/ntdll/ntdll.so > .make-unix.log 2>&1) ||
		{ tail -n 40 "$B/.make-unix.log" >&2; exit 1; }
	log "wineserver + ntdll.so $(( $(date +%s) - t0 )) s"
	t0=$(date +%s)
	(cd "$B" && $NICE make -j2 dlls/ws2_32/x86_64-windows/ws2_32.dll > .make-pe.log 2>&1) ||
		{ tail -n 40 "$B/.make-pe.log" >&2; exit 1; }
	log "ws2_32.dll $(( $(date +%s) - t0 )) s"
	touch "$B/.built"
fi

if [ ! -e "$D/.done" ]; then
	rm -rf "$D"
	cp -al "$W/dist" "$D.tmp"
	lib=$D.tmp/usr/lib/x86_64-linux-gnu/wine
	# Replace, never write through, the hard links to Debian's files.
	for pair in "server/wineserver:$D.tmp/usr/lib/wine/wineserver64" \
		"dlls/ntdll/ntdll.so:$lib/x86_64-unix/ntdll.so" \
		"dlls/ws2_32/x86_64-windows/ws2_32.dll:$lib/x86_64-windows/ws2_32.dll"; do
		rm -f "${pair#*:}"
		cp "$B/${pair%%:*}" "${pair#*:}"
	done
	touch "$D.tmp/.done"
	mv "$D.tmp" "$D"
fi
# Older patch sets' trees (~400 MB each) go.
for d in "$W"/build-* "$W"/dist-*; do
	case "$d" in
	"$B"|"$D") ;;
	*) rm -rf "$d" ;;
	esac
done
echo "$D"
