#!/usr/bin/env bash
# bench/floor1.sh DIR QEMU-ARGS...: boots DIR/vmlinuz with the floor's DIR/initramfs.img
# (make_floor, bench/lib.sh) once in QEMU and prints the guest uptime at which its /init ran.
# Exit 0 done, 1 the boot did not print it (a kernel panic: the console's last lines on stderr).
set -u
O=$1   # qemu.sh boots $O/vmlinuz and $O/initramfs.img
shift
diag() { echo "bench: floor: $*" >&2; }
. "$(dirname "$0")/../tests/lib/qemu.sh"
qemu_start "quiet" "$@"
if ! qemu_expect 'peers: uptime [0-9]' "${BOOT_TIMEOUT:-120}" >/dev/null; then
	tr -d '\r' < "$QLOG" | tail -n 8 | sed 's/^/bench: | /' >&2
	exit 1
fi
printf '%s\n' "$QMATCH" | tr -d '\r' | grep -oE '[0-9]+\.[0-9]+' | head -n 1
