#!/bin/sh
# Install what building and testing wsclose needs on Debian 12.
# Idempotent: does nothing when everything is present.
set -eu

PKGS="build-essential qemu-system-x86 busybox-static cpio kmod
linux-image-amd64 linux-headers-amd64
linux-image-6.12-amd64 linux-headers-6.12-amd64
linux-source-6.1 linux-source-6.12 liburing-dev sparse xz-utils gcc-multilib
git python3 python3-ply python3-git unifdef
bison flex bc libelf-dev libssl-dev dkms pkg-config gnuplot-nox"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
