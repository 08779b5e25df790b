#!/bin/sh
# Write DIR/bin/qemu-system-x86_64: the real QEMU with the counting plugin
# PLUGIN loaded, its arguments taken from $INSNS_PLUGIN_ARGS at each boot.
# Put DIR/bin first in PATH and scripts/qemu-run.sh boots the guest exactly
# as every test boots it, counted.
#   qemu-plugin-wrapper.sh DIR PLUGIN     (insns-bench.sh, insns-profile.sh)
set -eu
dir=$1 plugin=$2
real=$(command -v qemu-system-x86_64)
mkdir -p "$dir/bin"
cat > "$dir/bin/qemu-system-x86_64" <<WRAP
#!/bin/sh
exec "$real" -plugin "$plugin,\$INSNS_PLUGIN_ARGS" "\$@"
WRAP
chmod +x "$dir/bin/qemu-system-x86_64"
