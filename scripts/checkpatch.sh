#!/bin/sh
# Run the kernel's checkpatch.pl --strict over the kernel code, taken from
# Debian's linux-source-6.1 (scripts only, extracted once into build/).
set -eu
# Ignored: CONST_STRUCT (the wrapped proto_ops are built at load time from
# the live inet ones, as net/tls does, and are __ro_after_init), and
# LINUX_VERSION_CODE in module/compat.h, whose whole purpose it is.
cd "$(dirname "$0")/.."
dir=build/kscripts
if [ ! -f "$dir/done" ]; then
	mkdir -p "$dir"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$dir" --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/scripts/kernel-doc
	touch "$dir/done"
fi
cp="perl $dir/checkpatch.pl --strict --no-tree --terse --show-types"
ignore=FILE_PATH_CHANGES,CONST_STRUCT,LINUX_VERSION_CODE
rc=0
$cp --ignore "$ignore" -f module/*.c module/wsclose.h module/kunit.h || rc=1
# module/compat.h defines <kunit/visibility.h>'s EXPORT_SYMBOL_IF_KUNIT for
# 6.1, which lacks it; checkpatch takes the definition for a misplaced export.
$cp --ignore "$ignore,EXPORT_SYMBOL" -f module/compat.h || rc=1
# kernel-doc comments (the entry points) are well-formed and complete
out=$(perl $dir/kernel-doc -v -none module/*.c module/wsclose.h module/kunit.h 2>&1 | grep -v ": info: " || true)
[ -z "$out" ] || { echo "$out"; rc=1; }
exit $rc
