#!/bin/sh
# Print the kernel release of an installed Debian kernel series that has
# both its image and its headers: kernels.sh 6.1 | 6.12
set -eu
series=$1
for v in $(ls /boot 2>/dev/null | sed -n "s/^vmlinuz-\(${series}\.[0-9].*-amd64\)$/\1/p" | sort -V -r); do
	if [ -e "/lib/modules/$v/build/Makefile" ]; then
		echo "$v"
		exit 0
	fi
done
echo "kernels.sh: no $series kernel with headers installed (run scripts/deps.sh)" >&2
exit 1
