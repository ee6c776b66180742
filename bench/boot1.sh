#!/usr/bin/env bash
# bench/boot1.sh DIR OUT APPEND QEMU-ARGS...: boots DIR/vmlinuz with DIR/initramfs.img once in
# QEMU, waits for the minimal system's shell and writes the guest's kernel-log lines about the
# boot's stages ("Run /init" and every "stage="), each module load, and its decompression (the kernel's unpacking
# of the initramfs, the init's of the module pack) to OUT. Exit 0 done, 1 the boot did not finish.
set -u
O=$1 out=$2 append=$3
shift 3
diag() { echo "bench: boot: $*" >&2; }
. "$(dirname "$0")/../tests/lib/qemu.sh"
: "${BOOT_TIMEOUT:=240}"
qemu_start "quiet $append" "$@"
if ! qemu_expect 'overlive# ' "$BOOT_TIMEOUT" >/dev/null; then
	tr -d '\r' < "$QLOG" | tail -n 15 | sed 's/^/bench: | /' >&2
	exit 1
fi
qemu_run "dmesg | grep -E 'stage=|Run /init|Trying to unpack|Freeing initrd|pack: |loaded module|decoded module'" 60 >/dev/null || exit 1
tr -d '\r' < "$QLOG" | grep -aE '^\[ *[0-9.]+\] .*(stage=[a-z-]+|Run /init|Trying to unpack|Freeing initrd|pack: [0-9]|loaded module [a-z0-9_]+ \(|decoded module [a-z0-9_]+ from)' > "$out"
grep -q 'stage=exec' "$out"
