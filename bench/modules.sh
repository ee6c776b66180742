#!/usr/bin/env bash
# bench/modules.sh: per attachment of the medium, the guest time spent loading modules and
# waiting for the medium, from the init's "overlive: stage=NAME t=SECONDS" lines in dmesg.
# Boots the minimal system once per attachment (as tests/boot/attach.t does); no pass or fail.
#   bench/modules.sh [ATTACHMENT...]    (virtio-blk virtio-scsi sata nvme usb cd cd-ahci;
#                                        default all)
# Columns: modules: loaded by the init, and the sum of their finit_module times; modules stage:
# base modules + coldplug until no new driver (stage=modules to stage=find-medium); medium wait:
# scans and coldplug until the medium shows (stage=find-medium to stage=mount-medium); unpack: the kernel
# unpacking the initramfs (dmesg); to exec: boot to the root's init (stage=exec).
# Needs ./build.sh first; ACCEL=kvm|tcg (default: what build.sh found), O= the build output.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${O:=$TOP/out}"
: "${ACCEL:=$(cat "$O/.accel" 2>/dev/null || echo tcg)}"
diag() { echo "# $*" >&2; }
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || { echo "bench/modules.sh: build first: ./build.sh" >&2; exit 100; }
. "$TOP/tests/lib/qemu.sh"

disk=$QDIR/vfat.img
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$disk" OVERLIVE
mkdir -p "$QDIR/iso/live" && cp "$O/minimal.sqfs" "$QDIR/iso/live/root.sqfs"
xorriso -as mkisofs -quiet -V OVERLIVE -o "$QDIR/cd.iso" "$QDIR/iso" 2>/dev/null
drive="file=$disk,format=raw,if=none,id=medium,snapshot=on"

declare -A ARGS=(
	[virtio-blk]="-drive file=$disk,format=raw,if=virtio,snapshot=on"
	[virtio-scsi]="-drive $drive -device virtio-scsi-pci -device scsi-hd,drive=medium"
	[sata]="-drive $drive -device ahci,id=ahci -device ide-hd,bus=ahci.0,drive=medium"
	[nvme]="-drive $drive -device nvme,serial=overlive0,drive=medium"
	[usb]="-drive $drive -device qemu-xhci -device usb-storage,drive=medium"
	[cd]="-drive file=$QDIR/cd.iso,format=raw,media=cdrom,if=ide"
	[cd-ahci]="-drive file=$QDIR/cd.iso,format=raw,media=cdrom,if=none,id=cd -device ahci,id=ahci -device ide-cd,bus=ahci.0,drive=cd"
)
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(virtio-blk virtio-scsi sata nvme usb cd cd-ahci)

# The guest prints its dmesg lines that matter, each tagged "@bx" (typed as "@b""x").
GET='dmesg | sed -n "/overlive: stage=\|overlive: loaded module\|unpack rootfs image as initramfs\|Freeing initrd/s/^/@b""x /p"'

printf '%-12s %8s %10s %14s %12s %9s %9s\n' attachment modules "load ms" "modules stage" "medium wait" unpack "to exec"
for a in "${which[@]}"; do
	[ -n "${ARGS[$a]:-}" ] || { echo "bench/modules.sh: unknown attachment $a (${!ARGS[*]})" >&2; exit 100; }
	# shellcheck disable=SC2086
	qemu_start "live.media=LABEL=OVERLIVE" ${ARGS[$a]}
	if ! qemu_expect 'overlive-minimal: ready' 180 || ! qemu_expect 'overlive# ' 20; then
		printf '%-12s (no boot)\n' "$a"; qemu_stop; continue
	fi
	start=$(wc -c < "$QLOG")
	qemu_run "$GET" 30
	tail -c +$((start + 1)) "$QLOG" | tr -d '\r' | grep -ao '@bx .*' | cut -c5- |
		awk -v name="$a" '
		{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t) }
		/overlive: stage=/ { s = $0; sub(/.*stage=/, "", s); sub(/ .*/, "", s); st[s] = t }
		/overlive: loaded module/ { n++; ms = $0; sub(/.*\(/, "", ms); sub(/ ms\).*/, "", ms); sum += ms }
		/unpack rootfs image as initramfs/ { u0 = t } /Freeing initrd/ { u1 = t }
		END {
			printf "%-12s %8d %10.1f %14.3f %12.3f %9s %9.3f\n", name, n, sum,
				st["find-medium"] - st["modules"], st["mount-medium"] - st["find-medium"],
				(u0 != "" && u1 != "") ? sprintf("%.3f", u1 - u0) : "-", st["exec"]
		}'
	qemu_stop
done
echo "# $ACCEL, $(stat -c %s "$O/initramfs.img") bytes initramfs; seconds of guest time unless marked ms"
