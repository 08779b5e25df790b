#!/bin/sh
# Every ioctl, argument struct, flag and outcome of the ABI header appears
# in Documentation/wsclose.rst.
set -u
cd "$(dirname "$0")/.."
rc=0
for name in $(grep -oE 'WSCLOSE_(IOC|SOCKET|AS|OUTCOME|STATE)_[A-Z_]+|struct wsclose_[a-z_]+' \
		uapi/linux/wsclose.h | sed 's/^struct /struct_/' | sort -u); do
	case "$name" in
	WSCLOSE_SOCKET_FLAGS | WSCLOSE_CLOSE_FLAGS | WSCLOSE_OUTCOME_NONE) continue ;;
	esac
	pat=$(echo "$name" | sed 's/^struct_/struct /')
	if ! grep -qF "$pat" Documentation/wsclose.rst; then
		echo "Documentation/wsclose.rst does not mention $pat"
		rc=1
	fi
done
exit $rc
