#!/usr/bin/env bash
# images/mkiso.sh: a hybrid ISO 9660 image of a live system, without root: it boots as a CD or DVD
# (El Torito: isolinux for BIOS, a FAT image with systemd-boot for UEFI) and, written to a stick,
# as a disk (isohybrid MBR for BIOS, a GPT entry for the FAT image for UEFI). Layout of the ISO:
#   /isolinux/isolinux.bin, ldlinux.c32, isolinux.cfg, boot.cat     BIOS
#   /boot/efi.img       FAT: /EFI/BOOT/BOOTX64.EFI (systemd-boot), /loader/..., /live/vmlinuz,
#                       /live/initrd.img (systemd-boot loads only from the FAT it runs from)
#   /live/vmlinuz, /live/initrd.img, /live/root.sqfs
# The kernel finds the medium by the ISO's volume id (live.media=LABEL=OVERLIVE_yyyymmddhhmmss).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: mkiso.sh --kernel VMLINUZ --initrd INITRD --sqfs ROOT.SQFS --out LIVE.ISO [options]
  --append "WORDS"    more kernel parameters
  --console "WORDS"   console= words (default: console=tty0 console=ttyS0,115200n8)
Runs as any user; needs xorriso, isolinux, syslinux-common, systemd-boot-efi, dosfstools, mtools.
EOF
}
PROG=mkiso
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${ISOLINUX_DIR:=/usr/lib/ISOLINUX}"
: "${SYSLINUX_MODULES:=/usr/lib/syslinux/modules/bios}"
: "${SDBOOT:=/usr/lib/systemd/boot/efi/systemd-bootx64.efi}"
export MTOOLS_SKIP_CHECK=1 PATH=$PATH:/sbin:/usr/sbin

kernel='' initrd='' sqfs='' out='' append=''
console='console=tty0 console=ttyS0,115200n8'
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--kernel | --initrd | --sqfs | --out | --append | --console) need_value "$@" ;;&
	--kernel) kernel=$2 ;;
	--initrd) initrd=$2 ;;
	--sqfs) sqfs=$2 ;;
	--out) out=$2 ;;
	--append) append=$2 ;;
	--console) console=$2 ;;
	*) bad_usage "unknown option '$1'" ;;
	esac
	shift 2
done
[ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$sqfs" ] && [ -n "$out" ] ||
	bad_usage "missing a required option (--kernel, --initrd, --sqfs and --out)"
for f in "$kernel" "$initrd" "$sqfs"; do [ -f "$f" ] || die "unable to read $f: no such file"; done
for f in "$ISOLINUX_DIR/isolinux.bin" "$ISOLINUX_DIR/isohdpfx.bin" "$SYSLINUX_MODULES/ldlinux.c32" "$SDBOOT"; do
	[ -f "$f" ] || fail "unable to find $f: install isolinux, syslinux-common and systemd-boot-efi"
done
for t in xorriso mkfs.vfat mcopy mmd; do
	command -v "$t" >/dev/null || fail "unable to find $t: install xorriso, dosfstools and mtools"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mkiso.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
volid=OVERLIVE_$(date -u +%Y%m%d%H%M%S)
cmdline="$console live.media=LABEL=$volid"
[ -z "$append" ] || cmdline+=" $append"

mkdir -p "$tree/isolinux" "$tree/boot" "$tree/live"
cp "$ISOLINUX_DIR/isolinux.bin" "$SYSLINUX_MODULES/ldlinux.c32" "$tree/isolinux/"
cat > "$tree/isolinux/isolinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT overlive
PROMPT 0
TIMEOUT 0
LABEL overlive
	LINUX /live/vmlinuz
	INITRD /live/initrd.img
	APPEND $cmdline
EOF
cp "$kernel" "$tree/live/vmlinuz"
cp "$initrd" "$tree/live/initrd.img"
cp "$sqfs" "$tree/live/root.sqfs"

# The UEFI El Torito image: a small FAT holding systemd-boot, its entry, the kernel and initramfs.
efi=$tree/boot/efi.img
kib=$((($(stat -c %s "$kernel") + $(stat -c %s "$initrd") + $(stat -c %s "$SDBOOT")) / 1024 + 2048))
mkfs.vfat -C -n OVERLIVEEFI "$efi" "$kib" >/dev/null || fail "unable to make the EFI boot image (mkfs.vfat)"
mmd -i "$efi" ::EFI ::EFI/BOOT ::loader ::loader/entries ::live
mcopy -i "$efi" "$SDBOOT" ::EFI/BOOT/BOOTX64.EFI
mcopy -i "$efi" "$kernel" ::live/vmlinuz
mcopy -i "$efi" "$initrd" ::live/initrd.img
printf 'default overlive.conf\ntimeout 0\nconsole-mode keep\n' > "$work/loader.conf"
printf 'title overlive\nlinux /live/vmlinuz\ninitrd /live/initrd.img\noptions %s\n' "$cmdline" > "$work/overlive.conf"
mcopy -i "$efi" "$work/loader.conf" ::loader/loader.conf
mcopy -i "$efi" "$work/overlive.conf" ::loader/entries/overlive.conf

rm -f "$out.tmp"
xorriso -as mkisofs -quiet -o "$out.tmp" -V "$volid" -J -joliet-long -R \
	-isohybrid-mbr "$ISOLINUX_DIR/isohdpfx.bin" \
	-c isolinux/boot.cat -b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
	-eltorito-alt-boot -e boot/efi.img -no-emul-boot -isohybrid-gpt-basdat \
	"$tree" 2>"$work/xorriso.log" || { cat "$work/xorriso.log" >&2; fail "unable to write the ISO (xorriso)"; }
mv -f "$out.tmp" "$out"
echo "mkiso: $out: $(($(stat -c %s "$out") / 1048576)) MiB, volume id $volid" >&2
echo "mkiso: command line: $cmdline" >&2
