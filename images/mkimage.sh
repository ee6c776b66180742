#!/usr/bin/env bash
# images/mkimage.sh: a GPT disk image that boots a live system under BIOS and UEFI, without root
# or loop mounts. Layout (sectors of 512 bytes):
#   LBA 0          protective MBR with syslinux's gptmbr.bin in its first 440 bytes
#   1 MiB ..       partition 1 "overlive": EFI System Partition, FAT32 labelled LABEL, with the
#                  LegacyBIOSBootable attribute; holds
#                    /EFI/BOOT/BOOTX64.EFI   systemd-boot (UEFI)
#                    /loader/...             its config and one entry
#                    /syslinux/...           syslinux (BIOS): ldlinux.sys/.c32, syslinux.cfg
#                    /live/vmlinuz, /live/initrd.img, /live/root.sqfs
#                    /live/persistence.img   (--persist file) an ext4 image labelled persistence
#   after it       partition 2 "persistence" (--persist partition or data): ext4 labelled persistence
# With --medium exfat the ESP holds only the boot files (loaders, vmlinuz, initrd.img), and
#   after it       partition 2 "overlive-data": exFAT (a Microsoft basic data partition, as desktop
#                  systems format sticks) labelled LABEL, holding /live/root.sqfs, the layers,
#                  live/SHA256SUMS and (--persist save) the save file /persist.dat; filled through
#                  exfat-fuse (images/exfat-fill.sh: root, /dev/fuse, loop devices)
# Both loaders start the same kernel, initramfs and command line.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: mkimage.sh --kernel VMLINUZ --initrd INITRD --sqfs ROOT.SQFS --out DISK.IMG [options]
  --persist none|save|partition|file|data
                                  none: changes live in RAM (tmpfs upper), lost at shutdown
                                  save: a tmpfs upper saved into a save file on the ESP
                                  (live.persist=/persist.dat): restored at boot, saved at
                                  shutdown by the init's exit environment, on any init
                                  (the file is made at the first shutdown, 3/4 of the room)
                                  partition: the overlay's upper on an ext4 partition (all kept)
                                  file: the upper in an ext4 image file on the ESP (all kept)
                                  data: an ext4 partition the init mounts on /run/live/data for the
                                  live system (the kiosk keeps its listed paths there); the upper
                                  stays a tmpfs
  --size SIZE                     whole image size in bytes, K, M or G (e.g. 1G, 512M: powers of
                                  1024, as every size of overlive); default: what fits, plus
                                  256M for a persistence partition or 128M for a persistence file
  --label LABEL                   the ESP's FAT label, and the exFAT one (default OVERLIVE)
  --medium vfat|exfat             where live/ and the save file live: on the ESP (vfat, the default)
                                  or on a second, exFAT partition that takes the rest of the stick
                                  (exfat: --persist none or save; needs root and exfat-fuse)
  --append "WORDS"                more kernel parameters (after the console and live.* ones)
  --console "WORDS"               console= words (default: console=tty0 console=ttyS0,115200n8)
  --file SRC:/DEST                one more file onto the ESP (e.g. a persist.conf beside the save
                                  file: --file my.conf:/persist.conf); repeatable
  --layer FILE.sqfs               one more layer in live/, stacked on root.sqfs in name order
                                  (repeatable); live/SHA256SUMS covers every layer (live.verify)
Runs as any user; needs sfdisk, mkfs.vfat, mtools, syslinux, systemd-boot-efi, mkfs.ext4.
EOF
}
PROG=mkimage
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${GPTMBR:=/usr/lib/syslinux/mbr/gptmbr.bin}"
: "${SDBOOT:=/usr/lib/systemd/boot/efi/systemd-bootx64.efi}"
: "${SYSLINUX_MODULES:=/usr/lib/syslinux/modules/bios}"
export MTOOLS_SKIP_CHECK=1

kernel='' initrd='' sqfs='' out='' persist=none size='' label=OVERLIVE append='' layers=() files=() medium=vfat
console='console=tty0 console=ttyS0,115200n8'
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--kernel | --initrd | --sqfs | --out | --persist | --size | --label | --append | --console | \
	--layer | --file | --medium) need_value "$@" ;;&
	--kernel) kernel=$2 ;;
	--initrd) initrd=$2 ;;
	--sqfs) sqfs=$2 ;;
	--out) out=$2 ;;
	--persist) persist=$2 ;;
	--size) size=$2 ;;
	--label) label=$2 ;;
	--append) append=$2 ;;
	--console) console=$2 ;;
	--medium) medium=$2 ;;
	--layer) layers+=("$2") ;;
	--file) [[ "$2" == *:/?* ]] || die "--file takes SRC:/DEST, not '$2'"
		[ -f "${2%%:/*}" ] || die "--file: unable to read ${2%%:/*}: no such file"
		files+=("$2") ;;
	*) bad_usage "unknown option '$1'" ;;
	esac
	shift 2
done
[ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$sqfs" ] && [ -n "$out" ] ||
	bad_usage "missing a required option (--kernel, --initrd, --sqfs and --out)"
for f in "$kernel" "$initrd" "$sqfs" "${layers[@]}"; do [ -f "$f" ] || die "unable to read $f: no such file"; done
for f in "${layers[@]}"; do
	case "$(basename "$f")" in
	root.sqfs) die "the layer $f may not be named root.sqfs: that is the base" ;;
	*.sqfs) ;;
	*) die "the layer $f must be named NAME.sqfs" ;;
	esac
done
for f in "$GPTMBR" "$SDBOOT" "$SYSLINUX_MODULES/ldlinux.c32"; do
	[ -f "$f" ] || fail "unable to find $f: install syslinux, syslinux-common and systemd-boot-efi"
done
for t in sfdisk mkfs.vfat mkfs.ext4 mcopy mmd syslinux; do
	command -v "$t" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$t" >/dev/null ||
		fail "unable to find $t: install fdisk, dosfstools, mtools, syslinux, e2fsprogs"
done
export PATH=$PATH:/sbin:/usr/sbin
case "$persist" in none | save | partition | file | data) ;; *) die "--persist takes none, save, partition, file or data, not '$persist'" ;; esac
case "$medium" in
vfat) ;;
exfat) [ "$persist" = none ] || [ "$persist" = save ] ||
		die "--medium exfat takes --persist none or save, not '$persist' (an ext4 partition or image file needs no exFAT)"
	command -v mkfs.exfat >/dev/null || fail "unable to find mkfs.exfat: install exfatprogs" ;;
*) die "--medium takes vfat or exfat, not '$medium'" ;;
esac
[[ "$label" =~ ^[A-Z0-9_-]{1,11}$ ]] || die "--label '$label': 1-11 capitals, digits, _ or - (a FAT label)"
[ -z "$size" ] || total=$(to_mib --size "$size")
mib_of() { echo $((($(stat -c %s "$1") + 1048575) / 1048576)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- sizes: the ESP holds the boot files and the squashfs with room to spare
content=$(($(mib_of "$kernel") + $(mib_of "$initrd") + $(mib_of "$sqfs") + 2))
for f in "${layers[@]}"; do content=$((content + $(mib_of "$f"))); done
esp=$((content + content / 10 + 16))
[ "$esp" -ge 64 ] || esp=64        # FAT32 needs 65525 clusters or more: 64 MiB of 512-byte clusters
persist_mib=0 data=0
if [ "$medium" = exfat ]; then
	# the ESP for the loaders, kernel and initramfs; live/ and the save file on the exFAT after it
	data=$((content - $(mib_of "$kernel") - $(mib_of "$initrd")))
	esp=$(( (content - data) + (content - data) / 10 + 16 ))
	[ "$esp" -ge 64 ] || esp=64
	data=$((data + data / 10 + 16))
	if [ -n "$size" ]; then
		[ "$persist" = none ] || persist_mib=$((total - esp - 2 - data))
		[ $((total - esp - 2)) -ge "$data" ] ||
			die "--size $size is too small: the ESP and live/ need $((esp + data + 2)) MiB"
		[ "$persist" = none ] || [ "$persist_mib" -ge 16 ] ||
			die "--size $size leaves $persist_mib MiB for the save file: give at least $((esp + data + 2 + 16))M"
		data=$((total - esp - 2))
	else
		[ "$persist" = none ] || persist_mib=256
		data=$((data + persist_mib))
		total=$((esp + data + 2))
	fi
elif [ -n "$size" ]; then
	case "$persist" in
	none) esp=$((total - 2)) ;;
	save) persist_mib=$((total - esp - 2)); esp=$((total - 2)) ;;
	partition | data) persist_mib=$((total - esp - 2)) ;;
	file) persist_mib=$((total - esp - 4)); esp=$((total - 2)) ;;
	esac
	[ "$esp" -ge 64 ] && [ "$esp" -ge $((content + 8)) ] ||
		die "--size $size is too small: the boot files and the squashfs need $((content + 8 + 2)) MiB (64 MiB at least)"
	[ "$persist" = none ] || [ "$persist_mib" -ge 16 ] ||
		die "--size $size leaves $persist_mib MiB for persistence: give at least $((total - persist_mib + 16))M"
	[ "$persist" != file ] && [ "$persist" != save ] || [ "$persist_mib" -lt 4096 ] ||
		die "--persist $persist: a FAT file stays below 4 GiB; use --persist partition for a larger one"
else
	case "$persist" in
	partition | data) persist_mib=256 ;;
	file) persist_mib=128; esp=$((esp + persist_mib + 2)) ;;
	save) persist_mib=256; esp=$((esp + persist_mib)) ;;
	esac
	total=$((esp + 2))
	[ "$persist_mib" -eq 0 ] || [ "$persist" = file ] || [ "$persist" = save ] || total=$((esp + persist_mib + 2))
fi

# ---- the kernel command line: the medium by its volume id, so no other stick can stand in
volid=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n' | tr a-f A-F)
uuid="${volid:0:4}-${volid:4:4}"
if [ "$medium" = exfat ]; then
	ex=$work/data.img
	truncate -s "${data}M" "$ex"
	mkfs.exfat -L "$label" "$ex" >/dev/null || fail "unable to make the exFAT file system (mkfs.exfat)"
	uuid=$(blkid -p -o value -s UUID "$ex") && [ -n "$uuid" ] || fail "unable to read the exFAT serial (blkid)"
	mkdir -p "$work/data/live"
fi
cmdline="$console live.media=UUID=$uuid"
case "$persist" in
partition) cmdline+=" live.upper=LABEL=persistence" ;;
file) cmdline+=" live.upper=file:/live/persistence.img" ;;
data) cmdline+=" live.data=LABEL=persistence" ;;
save) cmdline+=" live.persist=/persist.dat live.persist.size=$((persist_mib * 3 / 4))M" ;;
esac
[ -z "$append" ] || cmdline+=" $append"

# ---- the ESP, as a file
fat=$work/esp.img
mkfs.vfat -F 32 -s 1 -n "$label" -i "$volid" -C "$fat" $((esp * 1024)) >/dev/null ||
	fail "unable to make the FAT32 file system (mkfs.vfat)"
mmd -i "$fat" ::EFI ::EFI/BOOT ::loader ::loader/entries ::syslinux ::live
mcopy -i "$fat" "$SDBOOT" ::EFI/BOOT/BOOTX64.EFI
mcopy -i "$fat" "$kernel" ::live/vmlinuz
mcopy -i "$fat" "$initrd" ::live/initrd.img
# put SRC DEST: a file onto the medium (the ESP, or the exFAT's staging tree)
put() {
	if [ "$medium" = exfat ]; then
		mkdir -p "$work/data$(dirname "$2")" && cp "$1" "$work/data$2"
	else
		[ "$(dirname "$2")" = / ] || mmd -D s -i "$fat" "::$(dirname "$2")" 2>/dev/null || true
		mcopy -i "$fat" "$1" "::$2"
	fi
}
put "$sqfs" /live/root.sqfs
sums="$(sha256sum < "$sqfs" | cut -c1-64)  root.sqfs"
for f in "${layers[@]}"; do
	put "$f" "/live/$(basename "$f")"
	sums+=$'\n'"$(sha256sum < "$f" | cut -c1-64)  $(basename "$f")"
done
printf '%s\n' "$sums" > "$work/SHA256SUMS"
put "$work/SHA256SUMS" /live/SHA256SUMS
# the slot record (docs/updates.md), all zeros: no record yet. Made here, with the medium, so that
# the init (counting the boots that restore the save) and overlive-update only ever write it in
# place; its size is SLOTREC_FILE_SIZE (lib/slotrec.h)
head -c 8192 /dev/zero > "$work/slots"
put "$work/slots" /live/slots
for f in "${files[@]}"; do
	put "${f%%:/*}" "/${f#*:/}" || fail "unable to copy ${f%%:/*} onto the medium as /${f#*:/}"
done
printf 'default overlive.conf\ntimeout 0\nconsole-mode keep\neditor yes\n' > "$work/loader.conf"
printf 'title overlive\nlinux /live/vmlinuz\ninitrd /live/initrd.img\noptions %s\n' "$cmdline" > "$work/overlive.conf"
mcopy -i "$fat" "$work/loader.conf" ::loader/loader.conf
mcopy -i "$fat" "$work/overlive.conf" ::loader/entries/overlive.conf
cat > "$work/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT overlive
PROMPT 0
TIMEOUT 0
LABEL overlive
	LINUX /live/vmlinuz
	INITRD /live/initrd.img
	APPEND $cmdline
EOF
mcopy -i "$fat" "$work/syslinux.cfg" ::syslinux/syslinux.cfg
syslinux --install --directory /syslinux "$fat" || fail "unable to install syslinux into the ESP"
# syslinux writes its boot code into the boot sector only: give the FAT32 backup (sector 6) the same.
dd if="$fat" of="$fat" bs=512 count=1 seek=6 conv=notrunc status=none
if [ "$persist" = file ]; then
	pimg=$work/persistence.img
	mkfs.ext4 -q -F -L persistence -E root_owner=0:0 "$pimg" "${persist_mib}M" >/dev/null ||
		fail "unable to make the persistence file system (mkfs.ext4)"
	mcopy -i "$fat" "$pimg" ::live/persistence.img
	rm -f "$pimg"
fi

# ---- the disk: GPT, the ESP at 1 MiB, the persistence partition after it
disk=$out.tmp
rm -f "$disk"
truncate -s "${total}M" "$disk"
{
	echo "label: gpt"
	echo "first-lba: 2048"
	echo "start=2048, size=$((esp * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"overlive\", attrs=\"LegacyBIOSBootable\""
	[ "$persist" != partition ] && [ "$persist" != data ] ||
		echo "start=$(((esp + 1) * 2048)), size=$((persist_mib * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"persistence\""
	[ "$medium" != exfat ] ||
		echo "start=$(((esp + 1) * 2048)), size=$((data * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"overlive-data\""
} | sfdisk -q --no-reread --no-tell-kernel "$disk" >/dev/null || fail "unable to write the partition table (sfdisk)"
dd if="$GPTMBR" of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$fat" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$fat"
if [ "$persist" = partition ] || [ "$persist" = data ]; then
	pimg=$work/persistence.img
	mkfs.ext4 -q -F -L persistence -E root_owner=0:0 "$pimg" "${persist_mib}M" >/dev/null ||
		fail "unable to make the persistence file system (mkfs.ext4)"
	dd if="$pimg" of="$disk" bs=1M seek=$((esp + 1)) conv=notrunc,sparse status=none
fi
if [ "$medium" = exfat ]; then
	"$(dirname "${BASH_SOURCE[0]}")/exfat-fill.sh" "$ex" "$work/data" || fail "unable to fill the exFAT partition"
	dd if="$ex" of="$disk" bs=1M seek=$((esp + 1)) conv=notrunc,sparse status=none
	rm -f "$ex"
fi
mv -f "$disk" "$out"
if [ "$medium" = exfat ]; then
	echo "mkimage: $out: ${total} MiB, ESP ${esp} MiB, exFAT ${data} MiB (UUID=$uuid) with live/, persistence: $persist${persist_mib:+ ($persist_mib MiB)}" >&2
else
	echo "mkimage: $out: ${total} MiB, ESP ${esp} MiB (UUID=$uuid), persistence: $persist${persist_mib:+ ($persist_mib MiB)}" >&2
fi
echo "mkimage: command line: $cmdline" >&2
