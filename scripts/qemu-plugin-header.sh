#!/bin/sh
# Print the path of include/qemu/qemu-plugin.h for the installed
# qemu-system-x86, fetching it once from Debian's own qemu source package.
#   qemu-plugin-header.sh            (the Makefile runs it)
#
# No Debian package ships the plugin API header, and it must match the QEMU
# that loads the plugin.  The source package of exactly the installed
# version is fetched through a private apt configuration (deb-src lines for
# the archives /etc/apt already uses, private lists and cache; /etc/apt and
# the system's lists are left alone) and only the header is kept, in
# ${WSCLOSE_CACHE:-~/.cache/wsclose}/qemu-plugin-<version>/.
set -eu

cache=${WSCLOSE_CACHE:-$HOME/.cache/wsclose}
srcver=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) || {
	echo "qemu-plugin-header: qemu-system-x86 is not installed (run scripts/deps.sh)" >&2
	exit 1
}
upver=${srcver#*:}
upver=${upver%-*}			# 7.2+dfsg
dir=$cache/qemu-plugin-$(echo "$srcver" | tr ':' '_')
hdr=$dir/include/qemu/qemu-plugin.h
if [ -s "$hdr" ]; then
	echo "$hdr"
	exit 0
fi

work=$dir.tmp
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"

# deb-src lines for every archive a "deb" source names: one-line
# sources.list entries and deb822 .sources files alike.
{
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p'
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && uris != "" && suites != "" && enabled != "no")
				for (i = split(uris, u, " "); i > 0; i--)
					for (j = split(suites, s, " "); j > 0; j--)
						printf "deb-src %s %s %s %s\n", opts, u[i], s[j], comps
			types = uris = suites = comps = opts = enabled = ""
		}
		/^[[:space:]]*#/ { next }
		/^[[:space:]]*$/ { flush(); next }
		{
			key = tolower($1); sub(/:$/, "", key)
			val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") uris = val
			else if (key == "suites") suites = val
			else if (key == "components") comps = val
			else if (key == "enabled") enabled = tolower(val)
			else if (key == "signed-by") opts = "[signed-by=" val "]"
		}
		END { flush() }' "$f"
	done
} > "$work/apt/sources.list"
if ! [ -s "$work/apt/sources.list" ]; then
	echo "qemu-plugin-header: no deb lines in /etc/apt to derive deb-src from" >&2
	exit 1
fi

apt() {
	apt-get -q -o Dir::Etc::sourcelist="$work/apt/sources.list" \
		-o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$work/apt/lists" \
		-o Dir::Cache="$work/apt/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}
echo "qemu-plugin-header: fetching the qemu $srcver source package (once)" >&2
apt update >&2
(cd "$work/src" && apt source --download-only "qemu=$srcver") >&2

orig=$(ls "$work"/src/qemu_"$upver".orig.tar.* | head -n 1)
top=$(tar -tf "$orig" | head -n 1 | cut -d/ -f1)
tar -xf "$orig" -C "$work/src" "$top/include/qemu/qemu-plugin.h"
# Debian's patches, should one ever touch the header, apply to it too.
deb=$(ls "$work"/src/qemu_"${srcver#*:}".debian.tar.* | head -n 1)
if tar -xf "$deb" -C "$work/src/$top" debian/patches 2>/dev/null &&
	grep -l 'include/qemu/qemu-plugin.h' -r "$work/src/$top/debian/patches" >/dev/null 2>&1; then
	echo "qemu-plugin-header: Debian patches the header; applying its series" >&2
	(cd "$work/src/$top" && for p in $(grep -v '^#' debian/patches/series); do
		if grep -q 'include/qemu/qemu-plugin.h' "debian/patches/$p"; then
			patch -p1 --no-backup-if-mismatch < "debian/patches/$p" >&2
		fi
	done)
fi
mkdir -p "$dir/include/qemu"
cp "$work/src/$top/include/qemu/qemu-plugin.h" "$hdr.new"
mv "$hdr.new" "$hdr"
echo "$srcver" > "$dir/VERSION"
rm -rf "$work"
echo "$hdr"
