#!/usr/bin/env bash
# tests/boot/attach.t: one initramfs boots the minimal system with the medium (LABEL=OVERLIVE)
# on virtio-blk, virtio-scsi, SATA (AHCI), NVMe, USB mass storage behind xHCI, and a CD-ROM
# (ISO 9660 on the PC machine's PIIX IDE, and on AHCI); each boot loads the drivers for the
# controllers present and none for the absent ones.
# Disks: a vfat medium labelled OVERLIVE (snapshot: never written) and an ISO 9660 image made
# with xorriso, both holding live/root.sqfs. Machine: QEMU's default "pc" (i440FX), which keeps
# its PIIX3 IDE controller under -nodefaults, so ata_piix loads on every boot: what is present
# is read in the guest from /sys/bus/pci/devices/*/class, and the USB and virtio buses.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
command -v xorriso >/dev/null || skip_all "xorriso is not installed"
[ -f "$O/minimal.sqfs" ] && [ -f "$O/initramfs.img" ] || skip_all "build first: ./build.sh"

disk=$QDIR/vfat.img
"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$disk" OVERLIVE
mkdir -p "$QDIR/iso/live" && cp "$O/minimal.sqfs" "$QDIR/iso/live/root.sqfs"
xorriso -as mkisofs -quiet -V OVERLIVE -o "$QDIR/cd.iso" "$QDIR/iso" 2>/dev/null
rm -rf "$QDIR/iso"
drive="file=$disk,format=raw,if=none,id=medium,snapshot=on"

# The controller and disk drivers the test watches, and the hardware each one is for, as the
# guest lists it (see HW below): a PCI class (6 hex digits, a prefix) or vendor, a USB
# interface class/protocol, a virtio device id, a SCSI device type.
declare -A FOR=(
	[virtio_pci]='pci-vendor 0x1af4'
	[virtio_blk]='virtio 0x0002'
	[virtio_scsi]='virtio 0x0008'
	[ahci]='pci-class 0x0106'
	[ata_piix]='pci-class 0x0101'
	[nvme]='pci-class 0x010802'
	[xhci_pci]='pci-class 0x0c0330'
	[ehci_pci]='pci-class 0x0c0320'
	[ohci_pci]='pci-class 0x0c0310'
	[uhci_hcd]='pci-class 0x0c0300'
	[sdhci_pci]='pci-class 0x0805'
	[usb_storage]='usb-if 08/'
	[uas]='usb-if 08/'
	[sd_mod]='scsi 0'
	[sr_mod]='scsi 5'
)

# In the guest, one line: "@hw KIND VALUE" per device (pci-class, pci-vendor, usb-if, virtio,
# scsi), per module the init logged as loaded (module NAME) and for the medium it found. The
# typed command spells the tag "@h""w", so only the output holds "@hw".
HW='{ P=/sys/bus; for d in $P/pci/devices/*; do echo "@h""w pci-class $(cat $d/class)"; echo "@h""w pci-vendor $(cat $d/vendor)"; done; for d in $P/usb/devices/*:*; do echo "@h""w usb-if $(cat $d/bInterfaceClass)/$(cat $d/bInterfaceProtocol)"; done; for d in $P/virtio/devices/*; do echo "@h""w virtio $(cat $d/device)"; done; for d in $P/scsi/devices/*; do [ -f $d/type ] && echo "@h""w scsi $(cat $d/type)"; done; dmesg | sed -n "s/.*overlive: loaded module \([a-z0-9_]*\) .*/@h""w module \1/p; s/.*overlive: medium \/dev\/\([a-z0-9]*\):.*/@h""w medium \1/p; s/.*overlive: modules: [0-9]* loaded; pack: \([0-9]*\) of \([0-9]*\) bytes.*/@h""w pack \1\/\2/p"; } 2>/dev/null'

# present LINES KIND VALUE: is a device of KIND with VALUE (a prefix for PCI classes) listed?
present() {
	local kind=$2 want=$3 k v
	while read -r k v; do
		[ "$k" = "$kind" ] || continue
		case "$v" in "$want"*) return 0 ;; esac
	done <<< "$1"
	return 1
}

# attach WHAT DEVICE "NEEDED MODULES" QEMU-ARGS...: boots; checks the medium was found on
# /dev/DEVICE, the needed drivers loaded, and every watched driver that loaded has its hardware
# present (so none for an absent controller).
attach() {
	local what=$1 dev=$2 need=$3 t0=$SECONDS
	shift 3
	qemu_start "live.media=LABEL=OVERLIVE" "$@"
	if ! qemu_expect 'overlive-minimal: ready' 120; then
		ok 1 "$what: reaches the root's init"; qemu_show; qemu_stop; skip 2 "no boot"; return
	fi
	local start
	start=$(wc -c < "$QLOG")
	qemu_expect 'overlive# ' 20 >/dev/null
	qemu_run "$HW" 30
	local out loaded medium m bad=() missing=()
	out=$(tail -c +$((start + 1)) "$QLOG" | tr -d '\r' | grep -ao '@hw [a-z-]* [0-9a-z_/]*' | cut -c5-)
	medium=$(sed -n 's/^medium //p' <<< "$out")
	is "$medium" "$dev" "$what: reaches the root's init from LABEL=OVERLIVE on /dev/$dev ($((SECONDS - t0)) s)"
	loaded=$(sed -n 's/^module //p' <<< "$out" | sort -u | tr '\n' ' ')
	for m in $need; do
		grep -qw -- "$m" <<< "$loaded" || missing+=("$m")
	done
	ok ${#missing[@]} "$what: loads $need"
	[ ${#missing[@]} -eq 0 ] || diag "missing: ${missing[*]}; loaded: $loaded"
	local absent=()
	for m in $(printf '%s\n' "${!FOR[@]}" | sort); do
		present "$out" ${FOR[$m]} && continue
		absent+=("$m")
		grep -qw -- "$m" <<< "$loaded" && bad+=("$m (no ${FOR[$m]})")
	done
	ok ${#bad[@]} "$what: no driver for an absent controller (none of: ${absent[*]})"
	if [ ${#bad[@]} -ne 0 ]; then
		diag "loaded without their hardware: ${bad[*]}"
		diag "hardware: $(grep -v '^module' <<< "$out" | sort -u | tr '\n' ';')"
	fi
	# ata_piix is late (modules.idx flag l): every QEMU pc has the PIIX IDE, but its driver (and
	# libata, scsi_mod) loads only when a search found no medium without it. A USB stick shows up
	# after the first search (it enumerates behind its controller): the held-back driver may load
	# while the init waits for it, so only the attachments found at once are held to this.
	if ! grep -qw ata_piix <<< "$need" && ! grep -qw usb_storage <<< "$need"; then
		! grep -qw ata_piix <<< "$loaded"
		ok $? "$what: the PIIX IDE driver is held back (the medium was found without it)"
	fi
	# The module pack is decoded only as far as the drivers this boot loads (the likeliest first:
	# virtio and FAT before ext4 and the rest), so a virtio boot of a FAT medium leaves most of it.
	local pack
	pack=$(sed -n 's/^pack //p' <<< "$out")
	diag "$what: module pack decoded: ${pack:-not said} bytes"
	if [ "$what" = virtio-blk ]; then
		ok $(( ${pack%/*} * 3 > ${pack#*/} )) "$what: less than a third of the module pack decoded (${pack:-?} bytes)"
	fi
	qemu_stop
}

attach "virtio-blk" vda "virtio_pci virtio_blk" \
	-drive "file=$disk,format=raw,if=virtio,snapshot=on"
attach "virtio-scsi" sda "virtio_pci virtio_scsi sd_mod" \
	-drive "$drive" -device virtio-scsi-pci -device scsi-hd,drive=medium
attach "SATA (AHCI)" sda "ahci sd_mod" \
	-drive "$drive" -device ahci,id=ahci -device ide-hd,bus=ahci.0,drive=medium
attach "NVMe" nvme0n1 "nvme" \
	-drive "$drive" -device nvme,serial=overlive0,drive=medium
attach "USB mass storage (xHCI)" sda "xhci_pci usb_storage sd_mod" \
	-drive "$drive" -device qemu-xhci -device usb-storage,drive=medium
attach "CD-ROM (ISO 9660, PIIX IDE)" sr0 "ata_piix sr_mod" \
	-drive "file=$QDIR/cd.iso,format=raw,media=cdrom,if=ide"
attach "CD-ROM (ISO 9660, AHCI)" sr0 "ahci sr_mod" \
	-drive "file=$QDIR/cd.iso,format=raw,media=cdrom,if=none,id=cd" \
	-device ahci,id=ahci -device ide-cd,bus=ahci.0,drive=cd

# A USB stick plugged in 10 s after the init began to search (an xHCI controller with nothing on
# it until then, through QEMU's monitor): the init, still waiting (live.wait=30), finds it.
QEMU_MONITOR=1
qemu_start "live.media=LABEL=OVERLIVE live.wait=30" -device qemu-xhci,id=xhci
qemu_expect 'stage=find-medium' 120 >/dev/null
sleep 10
qemu_monitor "drive_add 0 if=none,id=late,file=$disk,format=raw,snapshot=on" >/dev/null
qemu_monitor "device_add usb-storage,bus=xhci.0,drive=late,id=latestick" >/dev/null
if qemu_expect 'overlive-minimal: ready' 120; then
	start=$(wc -c < "$QLOG")
	qemu_expect 'overlive# ' 20 >/dev/null
	qemu_run "$HW" 30
	out=$(tail -c +$((start + 1)) "$QLOG" | tr -d '\r' | grep -ao '@hw [a-z-]* [0-9a-z_/]*' | cut -c5-)
	is "$(sed -n 's/^medium //p' <<< "$out")" sda "a USB stick plugged in 10 s late: the medium is found on it"
	grep -qx 'module usb_storage' <<< "$out"
	ok $? "usb_storage loaded for it once it appeared"
else
	ok 1 "a USB stick plugged in 10 s late: the medium is found on it"; qemu_show; skip 1 "no boot"
fi
qemu_stop
QEMU_MONITOR=0
done_testing
