#!/bin/bash
# Get and prepare everything the Wine integration needs, cached:
#   - Debian's Wine source 8.0~repack-4 (apt-get source, through a private
#     apt configuration: the machine's apt setup is not touched), prepared
#     so that it configures and builds: Debian's patches, the generated
#     files the repack drops, autoreconf, configure;
#   - Debian's Wine binaries (wine, wine64, libwine) extracted with
#     dpkg-deb -x, not installed;
#   - the build tools (gcc-mingw-w64-x86-64, autoconf, flex, bison),
#     installed with apt-get when missing.
#
#   wine/fetch.sh [all|apt|source|prepare|binaries|prefix|tools]
#
# Everything goes under $WSCLOSE_CACHE (default ~/.cache/wsclose)/wine-<ver>/:
#   apt/        private apt lists and sources.list (deb + deb-src)
#   debs/       the downloaded .deb files
#   dist/       the extracted binaries (dist/usr/lib/wine/wine64, ...)
#   prefix/     a WINEPREFIX made with them (wineboot -i)
#   srcpkg/     the source package as downloaded (.dsc, tarballs)
#   src/        the prepared, configured source tree (never patched by us:
#               wine/build.sh copies it before applying wine/patches/)
# Each step leaves a stamp (.stamp-<step>) and is skipped next time.
# Prints one "fetch: <step> <seconds> s" line per step it ran.
set -euo pipefail

WINE_VERSION=8.0~repack-4
UPSTREAM=8.0
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${WSCLOSE_CACHE:-$HOME/.cache/wsclose}
W=$CACHE/wine-$WINE_VERSION
APTDIR=$W/apt
NICE="nice -n 15"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

mkdir -p "$W"
log() { echo "fetch: $*" >&2; }

# The Debian archive and suites the machine's apt uses, for the private
# sources.list (deb and deb-src lines for the same archive).
archive_uri() {
	local u
	u=$( (grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null || true) |
		awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
	if [ -z "$u" ]; then
		u=$( (grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true) |
			sed 's/\[[^]]*\]//' | awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
	fi
	echo "${u:-http://deb.debian.org/debian}"
}

APT_OPTS=(-o "Dir::Etc::sourcelist=$APTDIR/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
	-o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")

stamp() { [ -e "$W/.stamp-$1" ]; }
done_step() { touch "$W/.stamp-$1"; log "$1 $(( $(date +%s) - $2 )) s"; }

step_tools() {
	stamp tools && return 0
	local t0 missing="" p
	t0=$(date +%s)
	# build tools, and the shared libraries the extracted Wine binaries
	# load that a fresh machine lacks (dpkg-deb -x brings no dependencies)
	for p in gcc-mingw-w64-x86-64 autoconf flex bison gettext dpkg-dev patch \
		libgstreamer-plugins-base1.0-0 liborc-0.4-0 libusb-1.0-0; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		log "installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		$SUDO apt-get install -y -q --no-install-recommends $missing >&2 || {
			$SUDO apt-get update -q >&2
			# shellcheck disable=SC2086
			$SUDO apt-get install -y -q --no-install-recommends $missing >&2
		}
	fi
	done_step tools "$t0"
}

step_apt() {
	stamp apt && return 0
	local t0 uri
	t0=$(date +%s)
	uri=$(archive_uri)
	mkdir -p "$APTDIR/lists/partial"
	cat > "$APTDIR/sources.list" <<-EOF
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main
	deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main
	EOF
	apt-get "${APT_OPTS[@]}" update -qq >&2
	done_step apt "$t0"
}

step_source() {
	stamp source && return 0
	step_apt
	local t0
	t0=$(date +%s)
	mkdir -p "$W/srcpkg"
	# Download only; the tree is unpacked by step_prepare (without applying
	# Debian's patches: the notes' recipe applies them itself).
	(cd "$W/srcpkg" && apt-get "${APT_OPTS[@]}" source --download-only -qq "wine=$WINE_VERSION" >&2)
	done_step source "$t0"
}

step_binaries() {
	stamp binaries && return 0
	step_apt
	local t0 d
	t0=$(date +%s)
	mkdir -p "$W/debs"
	(cd "$W/debs" && apt-get "${APT_OPTS[@]}" download -qq \
		"wine=$WINE_VERSION" "wine64=$WINE_VERSION" "libwine=$WINE_VERSION" \
		libz-mingw-w64 >&2)
	rm -rf "$W/dist.tmp"
	mkdir -p "$W/dist.tmp"
	for d in "$W"/debs/*.deb; do
		dpkg-deb -x "$d" "$W/dist.tmp"
	done
	# What libwine's postinst does: zlib1.dll from libz-mingw-w64, marked
	# as a Wine builtin DLL, in the x86_64-windows directory.
	local in out
	in=$(ls "$W"/dist.tmp/usr/x86_64-w64-mingw32/lib/zlib*.dll | head -n 1)
	out=$W/dist.tmp/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/$(basename "$in")
	{ head -c 64 "$in"; printf "%b" "Wine builtin DLL"
	  printf "%b" "\0\0\0\0\0\0\0\0"; printf "%b" "\0\0\0\0\0\0\0\0"
	  tail -c +97 "$in"; } > "$out"
	# Debian's wineserver wrapper hard-codes /usr/lib/wine/wineserver64:
	# point it at the server beside it.
	cat > "$W/dist.tmp/usr/lib/wine/wineserver" <<-'EOF2'
	#!/bin/sh
	exec "$(dirname "$(readlink -f "$0")")/wineserver64" -p0 "$@"
	EOF2
	chmod 0755 "$W/dist.tmp/usr/lib/wine/wineserver"
	rm -rf "$W/dist"
	mv "$W/dist.tmp" "$W/dist"
	done_step binaries "$t0"
}

# The recipe of ../shared/notes/wine-integration.md, "Building and running it here".
step_prepare() {
	stamp prepare && return 0
	step_source
	step_tools
	local t0 s dsc
	t0=$(date +%s)
	rm -rf "$W/src" "$W/src.tmp"
	dsc=$(ls "$W"/srcpkg/wine_*.dsc | head -n 1)
	dpkg-source --skip-patches -x "$dsc" "$W/src.tmp" >&2
	rm -f "$W"/wine_*.orig.tar.*	# dpkg-source's copy beside the tree
	s=$W/src.tmp
	# 1. Debian's patches, in series order.
	(cd "$s" && while read -r p rest; do
		case "$p" in ''|'#'*) continue ;; esac
		patch -p1 -s -N < "debian/patches/$p" >&2 || { log "debian patch $p failed"; exit 1; }
	done < debian/patches/series)
	log "prepare: debian patches applied $(( $(date +%s) - t0 )) s"
	# 2. Generated files the repack drops.
	(cd "$s" && sh debian/scripts/generate server/trace.generated make_requests &&
		sh debian/scripts/generate server/request.generated make_requests &&
		$NICE perl tools/make_requests >&2)
	log "prepare: generate + make_requests $(( $(date +%s) - t0 )) s"
	# 3. config.sub/config.guess from autoconf, then autoreconf.
	for f in config.sub config.guess; do
		if [ -e "/usr/share/misc/$f" ]; then
			ln -sf "/usr/share/misc/$f" "$s/tools/$f"
		else
			ln -sf "/usr/share/autoconf/build-aux/$f" "$s/tools/$f"
		fi
	done
	(cd "$s" && $NICE autoreconf -f >&2)
	log "prepare: autoreconf $(( $(date +%s) - t0 )) s"
	# 4. The svg links of debian/rules.
	(cd "$s" && grep -E '^\s*ln -sf .*\.svg' debian/rules | sed 's/^\s*//' | while read -r line; do
		sh -c "$line" >&2 || true
	done)
	# 5. Empty stubs for the generated files the repack drops.
	(cd "$s" && python3 "$HERE/stub-generated.py" > .stubs.txt)
	log "prepare: $(wc -l < "$s/.stubs.txt") generated files stubbed"
	# 6. Configure: 64-bit, no X/freetype, Debian's directories.
	(cd "$s" && $NICE ./configure -q --enable-win64 --without-x --without-freetype \
		--disable-tests --prefix=/usr --libdir=/usr/lib/x86_64-linux-gnu/wine \
		--bindir=/usr/lib/wine --datarootdir=/usr/share/wine \
		> .configure.log 2>&1) || {
		tail -n 30 "$s/.configure.log" >&2; exit 1; }
	log "prepare: configure $(( $(date +%s) - t0 )) s"
	mv "$s" "$W/src"
	done_step prepare "$t0"
}

# A WINEPREFIX made once on the host with Debian's binaries; guests use it
# read-only under a tmpfs overlay.
step_prefix() {
	stamp prefix && return 0
	step_binaries
	local t0
	t0=$(date +%s)
	rm -rf "$W/prefix"
	WINEPREFIX=$W/prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' \
		$NICE "$W/dist/usr/lib/wine/wine64" wineboot -i >&2 2>/dev/null || true
	WINEPREFIX=$W/prefix "$W/dist/usr/lib/wine/wineserver" -w
	[ -e "$W/prefix/system.reg" ] || { log "prefix: wineboot failed"; exit 1; }
	done_step prefix "$t0"
}

case "${1:-all}" in
tools) step_tools ;;
apt) step_apt ;;
source) step_source ;;
binaries) step_binaries ;;
prefix) step_prefix ;;
prepare) step_prepare ;;
all) step_tools; step_binaries; step_prefix; step_prepare ;;
*) echo "usage: $0 [all|apt|source|prepare|binaries|prefix|tools]" >&2; exit 2 ;;
esac
echo "$W"
