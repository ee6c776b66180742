#!/usr/bin/env bash
# bench/guest-run.sh OUT COMMAND QEMU-ARGS...: boots overlive's minimal system (out/vmlinuz,
# out/initramfs.img) in QEMU, runs COMMAND in its shell and writes COMMAND's output lines to OUT.
# Exit 0 when COMMAND exited 0.
set -u
out=$1 cmd=$2
shift 2
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${O:=$TOP/out}"
diag() { echo "bench: guest: $*" >&2; }
. "$TOP/tests/lib/qemu.sh"
: "${GUEST_TIMEOUT:=900}"
qemu_start "quiet live.media=LABEL=OVERLIVE" "$@"
qemu_expect 'overlive# ' 240 >/dev/null || { tr -d '\r' < "$QLOG" | tail -n 5 > "$out"; exit 1; }
qemu_run "( $cmd ) > /tmp/guest.out 2>&1" "$GUEST_TIMEOUT"
rc=$?
qemu_run "sed 's/^/R: /' /tmp/guest.out" 60
tr -d '\r' < "$QLOG" | grep -a '^R: ' | sed 's/^R: //' > "$out"
exit $rc
