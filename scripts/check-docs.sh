#!/bin/sh
# The documentation covers the whole ABI and names nothing that is gone:
#  - every constant of uapi/linux/wsclose.h (#define or enum member) is
#    mentioned in Documentation/wsclose.rst;
#  - every ioctl (WSCLOSE_IOC_*, WSCLOSE_SIOC_*) has a ".. c:macro::" entry,
#    and that entry lists every field of its argument struct as ``field``
#    and every errno the header documents for it as ``EXXX``;
#  - every struct is named in the rst;
#  - every WSCLOSE_* and struct wsclose_* name used in the rst, the man pages
#    and README.md exists in the headers (no stale names);
#  - every function of uapi/wsclose.h has a man page and is named in the
#    rst, every man/*.3 page is a function of the header, and every
#    wsclose page a man page refers to exists;
#  - every man page renders without warnings (when groff is installed).
set -u
cd "$(dirname "$0")/.." || exit 2
ABI=uapi/linux/wsclose.h
LIB=uapi/wsclose.h
RST=Documentation/wsclose.rst
rc=0

fail() {
	echo "$*"
	rc=1
}

# The text of the rst entry ".. c:macro:: $1", up to the next entry or heading.
rst_entry() {
	awk -v name="$1" '
		$0 == ".. c:macro:: " name { on = 1; next }
		on && (/^\.\. c:macro::/ || /^(===|---)/) { exit }
		on { print }
	' "$RST"
}

# The kernel-doc comment of struct $1 in the ABI header.
struct_doc() {
	awk -v name="$1" '
		/^\/\*\*/ { buf = ""; on = 1 }
		on { buf = buf $0 "\n" }
		on && /\*\// {
			on = 0
			if (buf ~ ("\\* struct " name " - ")) { printf "%s", buf; exit }
		}
	' "$ABI"
}

# The fields of struct $1 in the ABI header.
struct_fields() {
	awk -v name="$1" '
		$0 ~ ("^struct " name " \\{") { on = 1; next }
		on && /^\};/ { exit }
		on { gsub(/;/, " "); n = split($0, w); if (n) print w[n] }
	' "$ABI" | sed -e 's/\[.*//' -e '/^$/d'
}

constants=$(sed -nE -e 's/^#define[[:space:]]+(WSCLOSE_[A-Z0-9_]+).*/\1/p' \
		-e 's/^[[:space:]]+(WSCLOSE_[A-Z0-9_]+)[[:space:]]*=.*/\1/p' "$ABI" |
	sort -u)
[ -n "$constants" ] || fail "$ABI: no WSCLOSE_ constants found"
for c in $constants; do
	grep -qw "$c" "$RST" || fail "$RST does not mention $c"
done

for ioc in $(echo "$constants" | grep -E '^WSCLOSE_S?IOC_'); do
	grep -qxF ".. c:macro:: $ioc" "$RST" ||
		fail "$RST has no '.. c:macro:: $ioc' entry"
done

structs=$(sed -nE 's/^struct (wsclose_[a-z0-9_]+) \{.*/\1/p' "$ABI" | sort -u)
[ -n "$structs" ] || fail "$ABI: no structs found"
for s in $structs; do
	grep -qF "struct $s" "$RST" || grep -qF "c:type:\`$s\`" "$RST" ||
		fail "$RST does not mention struct $s"
	doc=$(struct_doc "$s")
	ioc=$(echo "$doc" | sed -nE "s/.*\\* struct $s - (WSCLOSE_[A-Z0-9_]+).*/\\1/p")
	if [ -z "$ioc" ]; then
		fail "$ABI: no '* struct $s - WSCLOSE_...' kernel-doc line"
		continue
	fi
	entry=$(rst_entry "$ioc")
	[ -n "$entry" ] || continue	# reported above
	echo "$entry" | grep -qF "$s" ||
		fail "$RST: the $ioc entry does not name struct $s"
	for f in $(struct_fields "$s"); do
		echo "$entry" | grep -qF "\`\`$f\`\`" ||
			fail "$RST: the $ioc entry does not document field $s.$f"
	done
	for e in $(echo "$doc" | grep -oE '\<E[A-Z]{3,}\>' | sort -u); do
		echo "$entry" | grep -qF "\`\`$e\`\`" ||
			fail "$RST: the $ioc entry does not document $e (named in $ABI)"
	done
done

# No stale names: every name the documents use is defined in a header.
# (WSCLOSE_CACHE is an environment variable of the build, not ABI.)
defined=$(sed -nE -e 's/^#define[[:space:]]+(WSCLOSE_[A-Z0-9_]+).*/\1/p' \
		-e 's/^[[:space:]]+(WSCLOSE_[A-Z0-9_]+)[[:space:]]*=.*/\1/p' \
		-e 's/^struct (wsclose_[a-z0-9_]+) \{.*/struct_\1/p' "$ABI" "$LIB")
for doc in "$RST" man/*.3 man/*.4 README.md; do
	# (a man page's .TH line is its title in capitals)
	for n in $(grep -v '^\.TH ' "$doc" |
			grep -oE '\<WSCLOSE_[A-Z0-9_]*[A-Z0-9]\>|struct wsclose_[a-z0-9_]+' |
			sed 's/^struct /struct_/' | sort -u); do
		[ "$n" = WSCLOSE_CACHE ] && continue
		echo "$defined" | grep -qxF "$n" ||
			fail "$doc names $(echo "$n" | sed 's/^struct_/struct /'), which no header defines"
	done
done

# Functions, man pages and their cross-references.
funcs=$(sed -nE 's/^[a-z].*[ *](wsclose_[a-z0-9_]+)\(.*/\1/p' "$LIB" | sort -u)
[ -n "$funcs" ] || fail "$LIB: no functions found"
for f in $funcs; do
	[ -f "man/$f.3" ] || fail "$f has no man page man/$f.3"
	grep -qF "$f" "$RST" || fail "$RST does not mention $f"
done
for page in man/*.3; do
	f=$(basename "$page" .3)
	echo "$funcs" | grep -qxF "$f" || fail "$page: $LIB declares no $f"
done
for page in man/*.3 man/*.4; do
	for ref in $(sed -nE 's/^\.BR (wsclose[a-z0-9_]*) \(([34])\).*/\1.\2/p' "$page"); do
		[ -f "man/$ref" ] || fail "$page refers to $ref, which does not exist"
	done
done

if command -v groff >/dev/null 2>&1; then
	for page in man/*.3 man/*.4; do
		out=$(LC_ALL=C.UTF-8 groff -t -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$out" ] || fail "$page: groff: $out"
	done
else
	echo "groff not installed: man pages not rendered"
fi

exit $rc
