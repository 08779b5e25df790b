#!/bin/bash
# Debian's linux-source-6.12, unpacked once per machine into the cache as
# a git repository whose commit "base" is the pristine source: what
# scripts/upstream-patch.sh makes its series against and what
# scripts/kunit-6.12.sh builds.  Prints the tree's directory.
set -euo pipefail
cache=$(realpath -m "${WSCLOSE_CACHE:-${HOME:?}/.cache/wsclose}")
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
dir=$cache/kunit-6.12-$ver
tree=$dir/linux-source-6.12
if [ -f "$dir/tree-done" ]; then
	echo "$tree"
	exit 0
fi
# one unpacker at a time; whoever waited finds it done
mkdir -p "$cache"
exec 8> "$cache/kunit-6.12-$ver.unpack.lock"
flock 8
if [ -f "$dir/tree-done" ]; then
	echo "$tree"
	exit 0
fi
echo "linux-6.12-tree: unpacking linux-source-6.12 $ver into $dir" >&2
rm -rf "$tree"
mkdir -p "$dir"
tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$dir"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
id=(-c user.name="The wsclose developers" -c user.email="wsclose@localhost")
# Debian's top-level .gitignore ignores everything (-f): the source is the
# package's, not a checkout.
git -C "$tree" init -q
git -C "$tree" add -A -f
git -C "$tree" "${id[@]}" commit -q -m "Debian linux-source-6.12 $ver"
git -C "$tree" tag base
touch "$dir/tree-done"
echo "$tree"
