#!/bin/bash
# make upstream-patch: write the git format-patch series that adds wsclose
# to Debian's linux-source-6.12, with a cover letter:
#   1. the driver as net/wsclose/ and its UAPI header, Kconfig and Makefile
#      hooks, the ioctl number
#   2. the KUnit suite and its .kunitconfig
#   3. the documentation (Documentation/userspace-api/wsclose.rst)
#   4. the selftests (tools/testing/selftests/net/wsclose/)
#   5. the MAINTAINERS entry
#
#   scripts/upstream-patch.sh [--apply] [OUTDIR]   (default: build/upstream)
#
# The unpacked source is a git repository (tag "base") in the cache
# (scripts/linux-6.12-tree.sh), shared with scripts/kunit-6.12.sh under a
# lock.  The series is made on a throwaway branch; the repository is left
# at "base", or, with --apply, with the series applied by git am on branch
# "wsclose", as a maintainer would take it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
apply=0
[ "${1:-}" = --apply ] && { apply=1; shift; }
out=$(realpath -m "${1:-$top/build/upstream}")
tree=$("$top/scripts/linux-6.12-tree.sh")
dir=$(dirname "$tree")

# one user of the tree at a time (kunit-6.12.sh holds it for us)
if [ -z "${WSCLOSE_TREE_LOCKED:-}" ]; then
	exec 9> "$dir/lock"
	flock 9
fi
# the user's git configuration (signing, hooks, sign-off, cover letters)
# has no say in the series
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
id=(-c user.name="The wsclose developers" -c user.email="wsclose@localhost")
g() { git -C "$tree" "${id[@]}" "$@"; }
signoff="Signed-off-by: The wsclose developers <wsclose@localhost>"

# whatever an interrupted run left behind
g am --abort > /dev/null 2>&1 || true
rm -f "$tree/.git/index.lock"
g checkout -q -f base
g clean -q -fdx
g branch -q -D wsclose-series 2>/dev/null || true
g checkout -q -b wsclose-series

# commit SUBJECT BODY: everything changed in the tree
commit() { g add -A -f; g commit -q -m "$1" -m "$2" -m "$signoff"; }
# must SED-EDITED-FILE PATTERN: the edit took
must() { grep -q -- "$2" "$1" || { echo "upstream-patch: no '$2' in $1" >&2; exit 1; }; }

# In the tree the code is for the kernel it is merged into: compat.h's
# version tests are resolved for 6.12 (unifdef), and compat.h goes.
unversion() {
	local f rc
	for f in "$@"; do
		rc=0
		unifdef -m -DWSCLOSE_NEW_ACCEPT=1 -DWSCLOSE_SENDPAGE=0 \
			-DWSCLOSE_GETSOCKOPT_ITER=1 "$f" || rc=$?
		[ $rc -le 1 ] || exit 1
		cat -s "$f" > "$f.tmp" && mv "$f.tmp" "$f"
	done
}

# ---- 1. the driver ----
d=$tree/net/wsclose
mkdir -p "$d"
for f in main.c adopt.c ops.c close.c linger.c handles.c proc.c \
	 wsclose.h wsclose_trace.h; do
	cp "$top/module/$f" "$d/"
done
unversion "$d"/*.c "$d"/*.h
sed -i 's|^#include "compat.h"$|#include <kunit/visibility.h>|' "$d/wsclose.h"
if grep -rn 'WSCLOSE_NEW_ACCEPT\|WSCLOSE_SENDPAGE\|WSCLOSE_GETSOCKOPT_ITER\|"compat\.h"' "$d"; then
	echo "upstream-patch: version tests left in the tree" >&2
	exit 1
fi
sed '/^config WSCLOSE_KUNIT_TEST/,$d' "$top/module/Kconfig" |
	sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$d/Kconfig"
must "$d/Kconfig" '^config WSCLOSE$'
wsclose_objs=$(sed -n 's/^wsclose-y := //p' "$top/module/Makefile")
[ -n "$wsclose_objs" ]
printf '%s\n' '# SPDX-License-Identifier: GPL-2.0' '' \
	'obj-$(CONFIG_WSCLOSE) += wsclose.o' "wsclose-y := $wsclose_objs" '' \
	'# close.c defines the tracepoints: define_trace.h includes wsclose_trace.h' \
	'# from here' 'CFLAGS_close.o := -I$(src)' > "$d/Makefile"
cp "$top/uapi/linux/wsclose.h" "$tree/include/uapi/linux/wsclose.h"
sed -i 's|^source "net/mptcp/Kconfig"$|&\nsource "net/wsclose/Kconfig"|' "$tree/net/Kconfig"
must "$tree/net/Kconfig" 'net/wsclose/Kconfig'
sed -i 's|^obj-$(CONFIG_MPTCP)\t\t+= mptcp/$|&\nobj-$(CONFIG_WSCLOSE)\t\t+= wsclose/|' "$tree/net/Makefile"
must "$tree/net/Makefile" 'wsclose/'
sed -i "s|^'W'   60-61  linux/watch_queue.h\$|&\n'W'   80-8F  linux/wsclose.h|" \
	"$tree/Documentation/userspace-api/ioctl/ioctl-number.rst"
must "$tree/Documentation/userspace-api/ioctl/ioctl-number.rst" 'linux/wsclose.h'
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

# ---- 2. KUnit ----
cp "$top"/module/kunit_*.c "$top/module/kunit.h" "$top/module/.kunitconfig" "$d/"
unversion "$d"/kunit_*.c "$d/kunit.h"
sed -n '/^config WSCLOSE_KUNIT_TEST/,$p' "$top/module/Kconfig" |
	sed '1i\\' >> "$d/Kconfig"
grep -A1 '^obj-$(CONFIG_WSCLOSE_KUNIT_TEST)' "$top/module/Makefile" |
	sed '1i\\' >> "$d/Makefile"
must "$d/Makefile" '^wsclose_kunit-y := '
commit "net: wsclose: add KUnit tests" \
"Three suites: the close decision as tables (every combination of
its inputs), the ioctl argument checks and the ABI layout; real
in-kernel TCP and UDP sockets over loopback for every close outcome;
and the races of an adoption against TCP_ULP and IPV6_ADDRFORM.

  tools/testing/kunit/kunit.py run --arch=x86_64 \\
	--kunitconfig=net/wsclose/.kunitconfig"

# ---- 3. documentation ----
cp "$top/Documentation/wsclose.rst" "$tree/Documentation/userspace-api/wsclose.rst"
sed -i 's|^   isapnp$|&\n   wsclose|' "$tree/Documentation/userspace-api/index.rst"
must "$tree/Documentation/userspace-api/index.rst" '^   wsclose$'
commit "Documentation: wsclose: the user-space API" \
"Semantics, every ioctl, field and errno of /dev/wsclose and of the
per-socket commands, and the user-space library's mapping to Winsock
error codes."

# ---- 4. selftests ----
s=$tree/tools/testing/selftests/net/wsclose
mkdir -p "$s"
plain="wsclose_test adopt_test close_test abort_test handle_test counters_test fuzz_test enomem_test rmmod_test"
uring="uring_test race_test hostile_test"
for t in $plain $uring; do cp "$top/selftests/$t.c" "$s/"; done
cp "$top/selftests/helpers.h" "$top/uapi/libwsclose.c" "$top/uapi/wsclose.h" "$s/"
cat > "$s/Makefile" <<EOF
# SPDX-License-Identifier: GPL-2.0
# wsclose selftests: each program links the user-space library,
# libwsclose.c, and its header wsclose.h.
CFLAGS += -Wall -O2 -pthread \$(KHDR_INCLUDES) -I../../
LDLIBS += -pthread

TEST_GEN_PROGS := $plain
# the io_uring tests need liburing
ifeq (\$(shell pkg-config --exists liburing && echo y),y)
TEST_GEN_PROGS += $uring
LDLIBS += -luring
endif

LOCAL_HDRS += helpers.h wsclose.h

include ../../lib.mk

\$(TEST_GEN_PROGS): libwsclose.c
EOF
printf '%s\n' $plain $uring > "$s/.gitignore"
printf '%s\n' CONFIG_WSCLOSE=m CONFIG_INET=y CONFIG_IPV6=y CONFIG_IO_URING=y \
	CONFIG_FAULT_INJECTION=y CONFIG_FAILSLAB=y \
	CONFIG_FAULT_INJECTION_DEBUG_FS=y > "$s/config"
sed -i 's|^TARGETS += net/tcp_ao$|&\nTARGETS += net/wsclose|' "$tree/tools/testing/selftests/Makefile"
must "$tree/tools/testing/selftests/Makefile" 'net/wsclose'
commit "selftests: net: wsclose: close, abort, handles, io_uring, hostile callers" \
"kselftest-harness programs for every promise of the user-space API:
the close table with what the peer sees and how long it takes, aborted
waiters and io_uring requests, duplicated handles, reused descriptor
numbers, signals during a linger wait, adoption and its refusals, and
every allocation failed in turn (with fault injection)."

# ---- 5. MAINTAINERS, once every file it names exists ----
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
commit "MAINTAINERS: add wsclose" \
"The driver, its UAPI header, its documentation and its selftests."

g config branch.wsclose-series.description "net: wsclose: Winsock close semantics for TCP and UDP sockets

Wine and Proton need Winsock's closesocket() semantics, which close(2)
cannot express: a non-blocking close that fails with EWOULDBLOCK and
changes nothing, a linger that resets at its deadline, and a last close
that aborts every pending operation of every thread.  wsclose adopts
sockets the caller made and closes them that way in one ioctl.

Patch 1 is the driver, 2 its KUnit suites, 3 the user-space API
documentation, 4 the selftests, 5 the MAINTAINERS entry."

rm -rf "$out"
mkdir -p "$out"
g format-patch -q --cover-letter --cover-from-description=subject \
	-o "$out" base..wsclose-series
if [ $apply -eq 1 ]; then
	g checkout -q -f base
	g branch -q -D wsclose 2>/dev/null || true
	g checkout -q -b wsclose
	g am -q $(ls "$out"/[0-9][0-9][0-9][0-9]-*.patch | grep -v /0000-cover-letter)
else
	g checkout -q -f base
fi
g branch -q -D wsclose-series
ls "$out"
