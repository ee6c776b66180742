#!/usr/bin/env bash
# images/exfat-fill.sh IMAGE DIR [OFFSET SIZE]: copies DIR's contents onto the exFAT filesystem in
# IMAGE (at byte OFFSET, SIZE bytes long, for a partition of a disk image). exfatprogs writes no
# files and this kernel may have no exfat: the filesystem is mounted with exfat-fuse on a loop
# device, which needs root, /dev/fuse and loop devices.
set -euo pipefail
PROG=exfat-fill
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() { echo "usage: exfat-fill.sh IMAGE DIR [OFFSET SIZE]"; }
[ $# -eq 2 ] || [ $# -eq 4 ] || bad_usage "give the IMAGE and DIR (and OFFSET and SIZE)"
img=$1 dir=$2 off=${3:-0} size=${4:-}
[ -f "$img" ] || die "unable to read $img: no such file"
[ -d "$dir" ] || die "unable to read $dir: not a directory"
export PATH=$PATH:/sbin:/usr/sbin
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && command -v mount.exfat-fuse >/dev/null && command -v losetup >/dev/null ||
	fail "unable to write files onto an exFAT image: this needs root, /dev/fuse, losetup and exfat-fuse (apt-get install exfat-fuse)"
loop=$(losetup -f --show --offset "$off" ${size:+--sizelimit "$size"} "$img") ||
	fail "unable to attach $img to a loop device"
mnt=$(mktemp -d "${TMPDIR:-/tmp}/exfat-fill.XXXXXX")
cleanup() { umount "$mnt" 2>/dev/null || true; losetup -d "$loop" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
mount.exfat-fuse -o rw "$loop" "$mnt" >/dev/null 2>&1 || fail "unable to mount $img (exFAT at byte $off) with exfat-fuse"
# exFAT keeps no owners, modes, links or special files: plain copies of files and directories
cp -r --no-preserve=all "$dir"/. "$mnt"/ || fail "unable to copy $dir onto $img (is it full?)"
sync -f "$mnt"/.
umount "$mnt" || fail "unable to unmount $img"
