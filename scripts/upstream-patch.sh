#!/bin/bash
# make upstream-patch: write the git format-patch series that adds wsclose
# to Debian's linux-source-6.12 (net/wsclose/, the UAPI header, the
# documentation, the selftests, the ioctl number and MAINTAINERS), and
# prove that it applies with git am and builds there.
#
#   scripts/upstream-patch.sh [OUTDIR]      (default: build/upstream)
#
# The unpacked source is kept as a git repository (tag "base") in the
# cache, ${WSCLOSE_CACHE:-~/.cache/wsclose}/kunit-6.12-<version>/, shared
# with scripts/kunit-6.12.sh.  The series is made on a throwaway branch
# there; the repository is left at "base".  With --apply, the series is
# left applied (git am) on branch "wsclose" instead, for kunit-6.12.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
apply=0
[ "${1:-}" = --apply ] && { apply=1; shift; }
out=${1:-$top/build/upstream}
tree=$("$top/scripts/linux-6.12-tree.sh")
id=(-c user.name="The wsclose developers" -c user.email="wsclose@localhost")
g() { git -C "$tree" "${id[@]}" "$@"; }
signoff="Signed-off-by: The wsclose developers <wsclose@localhost>"

g checkout -q -f base
g clean -q -fdx
g branch -q -D wsclose-series 2>/dev/null || true
g checkout -q -b wsclose-series

# commit SUBJECT BODY: everything staged
commit() { g commit -q -m "$1" -m "$2" -m "$signoff"; }

# 1. the driver, its UAPI header, its build, ioctl number, maintainer
d=$tree/net/wsclose
mkdir -p "$d"
for f in main.c adopt.c ops.c close.c linger.c handles.c proc.c \
	 wsclose.h wsclose_trace.h; do
	cp "$top/module/$f" "$d/"
done
# In the tree the code is for the kernel it is merged into: compat.h's
# version tests are resolved for 6.12 (unifdef), and compat.h goes.
unversion() {
	local rc=0
	unifdef -m -DWSCLOSE_NEW_ACCEPT=1 -DWSCLOSE_SENDPAGE=0 \
		-DWSCLOSE_GETSOCKOPT_ITER=1 "$@" || rc=$?
	[ $rc -le 1 ]
}
unversion "$d"/*.c "$d"/*.h
for f in "$d"/*.c "$d"/*.h; do cat -s "$f" > "$f.tmp" && mv "$f.tmp" "$f"; done
sed -i 's|^#include "compat.h"$|#include <kunit/visibility.h>|' "$d/wsclose.h"
if grep -rn 'WSCLOSE_NEW_ACCEPT\|WSCLOSE_SENDPAGE\|WSCLOSE_GETSOCKOPT_ITER\|"compat\.h"' "$d"; then
	echo "upstream-patch: version tests left in the tree" >&2
	exit 1
fi
grep -v 'wsclose_kunit\|KUNIT_TEST' "$top/module/Makefile" | cat -s > "$d/Makefile"
sed '/^config WSCLOSE_KUNIT_TEST/,$d' "$top/module/Kconfig" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$d/Kconfig"
cp "$top/uapi/linux/wsclose.h" "$tree/include/uapi/linux/wsclose.h"
sed -i 's|^source "net/tls/Kconfig"$|&\nsource "net/wsclose/Kconfig"|' "$tree/net/Kconfig"
sed -i 's|^obj-$(CONFIG_TLS)\t\t+= tls/$|&\nobj-$(CONFIG_WSCLOSE)\t\t+= wsclose/|' "$tree/net/Makefile"
grep -q wsclose "$tree/net/Kconfig" && grep -q wsclose "$tree/net/Makefile"
sed -i "s|^'W'   60-61  linux/watch_queue.h\$|&\n'W'   80-8F  linux/wsclose.h|" \
	"$tree/Documentation/userspace-api/ioctl/ioctl-number.rst"
grep -q "linux/wsclose.h" "$tree/Documentation/userspace-api/ioctl/ioctl-number.rst"
python3 - "$tree/MAINTAINERS" <<'PYEOF'
import sys
p = sys.argv[1]
s = open(p).read()
entry = """WSCLOSE (WINSOCK CLOSE SEMANTICS FOR SOCKETS)
M:	The wsclose developers <wsclose@localhost>
L:	netdev@vger.kernel.org
S:	Maintained
F:	Documentation/userspace-api/wsclose.rst
F:	include/uapi/linux/wsclose.h
F:	net/wsclose/
F:	tools/testing/selftests/net/wsclose/

"""
i = s.index("\nWWAN DRIVERS\n") + 1
s = s[:i] + entry + s[i:]
open(p, "w").write(s)
PYEOF
g add -A -f
commit "net: wsclose: Winsock close semantics for TCP and UDP sockets" \
"Wine and Proton close a Windows program's socket through a server
round trip today, and still cannot give it Winsock's semantics:
close(2) blocks in a lingering close even on a non-blocking socket,
keeps sending after the linger time instead of resetting, and leaves
other threads' blocked calls and io_uring requests alive.

wsclose adopts a TCP or UDP socket the caller made itself (through
/dev/wsclose, or for TCP the \"wsclose\" ULP) and wraps its operations,
as net/tls does, so that one ioctl on the socket closes it the way
WSPCloseSocket does: SO_DONTLINGER returns at once and finishes in the
background, SO_LINGER {1, 0} resets, SO_LINGER {1, n} waits for the
acknowledgment or resets at the deadline, a non-blocking close with data
pending fails with EWOULDBLOCK and changes nothing, and the last handle's
close aborts every pending operation (ECANCELED).  Duplicated handles
are counted.

The ioctls use 'W' 0x80-0x8F."

# 2. KUnit
cp "$top/module/wsclose_kunit.c" "$top/module/.kunitconfig" "$d/"
unversion "$d/wsclose_kunit.c"
cp "$top/module/Makefile" "$top/module/Kconfig" "$d/"
g add -A -f
commit "net: wsclose: add KUnit tests" \
"The close decision as tables (every combination of its inputs), the
ioctl argument checks, the ABI layout, and real in-kernel TCP and UDP
sockets over loopback for every close outcome and for the races of an
adoption against TCP_ULP and IPV6_ADDRFORM.

  tools/testing/kunit/kunit.py run --arch=x86_64 \\
	--kunitconfig=net/wsclose/.kunitconfig"

# 3. documentation
cp "$top/Documentation/wsclose.rst" "$tree/Documentation/userspace-api/wsclose.rst"
sed -i 's|^   mseal$|&\n   wsclose|' "$tree/Documentation/userspace-api/index.rst"
grep -q '^   wsclose$' "$tree/Documentation/userspace-api/index.rst"
g add -A -f
commit "Documentation: wsclose: the user-space API" \
"Semantics, every ioctl, field and errno of /dev/wsclose and of the
per-socket commands, and the user-space library's mapping to Winsock
error codes."

# 4. selftests
s=$tree/tools/testing/selftests/net/wsclose
mkdir -p "$s"
plain="wsclose_test adopt_test close_test abort_test handle_test counters_test fuzz_test enomem_test rmmod_test"
uring="uring_test race_test hostile_test"
for t in $plain $uring; do cp "$top/selftests/$t.c" "$s/"; done
cp "$top/selftests/helpers.h" "$top/uapi/libwsclose.c" "$top/uapi/wsclose.h" "$s/"
cat > "$s/Makefile" <<EOF
# SPDX-License-Identifier: GPL-2.0
# wsclose selftests: each test links the user-space library, libwsclose.c.
CFLAGS += -Wall -O2 -pthread \$(KHDR_INCLUDES) -I../../
LDLIBS += -pthread

TEST_GEN_PROGS := $plain
# the io_uring tests need liburing
ifeq (\$(shell pkg-config --exists liburing && echo y),y)
TEST_GEN_PROGS += $uring
LDLIBS += -luring
endif

include ../../lib.mk

\$(TEST_GEN_PROGS): libwsclose.c helpers.h wsclose.h
EOF
printf 'CONFIG_WSCLOSE=m\nCONFIG_INET=y\nCONFIG_IPV6=y\nCONFIG_IO_URING=y\n' > "$s/config"
g add -A -f
commit "selftests: net: wsclose: close, abort, handles, io_uring, hostile callers" \
"kselftest-harness programs for every promise of the user-space API:
the close table with what the peer sees and how long it takes, aborted
waiters and io_uring requests, duplicated handles, reused descriptor
numbers, signals during a linger wait, adoption and its refusals, and
every allocation failed in turn (with fault injection)."

rm -rf "$out"
mkdir -p "$out"
g format-patch -q -o "$out" base..wsclose-series
if [ $apply -eq 1 ]; then
	# the series as a maintainer takes it: git am on the pristine source
	g checkout -q -f base
	g branch -q -D wsclose 2>/dev/null || true
	g checkout -q -b wsclose
	g am -q "$out"/*.patch
else
	g checkout -q -f base
fi
g branch -q -D wsclose-series
ls "$out"
