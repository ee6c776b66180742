# qemu-disk.sh: boots a whole disk image through firmware (SeaBIOS or OVMF) instead of -kernel (sourced).
#   qemu_disk_start FIRMWARE ATTACH DISK [QEMU ARGS...]
#       FIRMWARE: bios (SeaBIOS, QEMU's default) or uefi (OVMF, with a fresh copy of its variables)
#       ATTACH:   virtio (virtio-blk) or usb (usb-storage on an xHCI controller)
#   The console, qemu_expect, qemu_run, qemu_stop and qemu_show are those of qemu.sh.
. "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"
: "${OVMF_CODE:=/usr/share/OVMF/OVMF_CODE_4M.fd}"
: "${OVMF_VARS:=/usr/share/OVMF/OVMF_VARS_4M.fd}"

# qemu_disk_can FIRMWARE: 0 when this machine can boot that firmware (for skip messages)
qemu_disk_can() {
	case "$1" in
	bios) return 0 ;;
	uefi) [ -r "$OVMF_CODE" ] && [ -r "$OVMF_VARS" ] ;;
	*) return 1 ;;
	esac
}

qemu_disk_start() {
	local fw=$1 attach=$2 disk=$3 fwargs=() diskargs=()
	shift 3
	case "$fw" in
	bios) ;;
	uefi)
		cp "$OVMF_VARS" "$QDIR/vars.fd"
		fwargs=(-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,file=$QDIR/vars.fd") ;;
	*) echo "qemu_disk_start: firmware bios or uefi, not $fw" >&2; return 1 ;;
	esac
	case "$attach" in
	virtio) diskargs=(-drive "file=$disk,format=raw,if=none,id=disk0" -device "virtio-blk-pci,drive=disk0,bootindex=0") ;;
	usb) diskargs=(-device qemu-xhci,id=xhci -drive "file=$disk,format=raw,if=none,id=disk0"
		-device "usb-storage,bus=xhci.0,drive=disk0,bootindex=0") ;;
	*) echo "qemu_disk_start: attach virtio or usb, not $attach" >&2; return 1 ;;
	esac
	: > "$QLOG"
	QPOS=0
	QSTART=$(date +%s.%N)
	rm -f "$QDIR/in" && mkfifo "$QDIR/in"
	qemu-system-x86_64 -accel "$ACCEL" -m "$QEMU_MEM" -display none -monitor none \
		-serial stdio -no-reboot -nodefaults "${fwargs[@]}" "${diskargs[@]}" "$@" \
		< "$QDIR/in" > "$QLOG" 2>&1 &
	QPID=$!
	exec {QIN}> "$QDIR/in"
}

# qemu_disk_elapsed: wall seconds since qemu_disk_start (for the bench lines)
qemu_disk_elapsed() { echo "$(date +%s.%N) $QSTART" | awk '{ printf "%.1f", $1 - $2 }'; }

# part_field IMAGE INDEX FIELD: a field of partition INDEX (0-based) from `sfdisk -J` (start, size,
# type, name, attrs), or of the table with INDEX "-" (label, firstlba, lastlba); perl's JSON::PP only
part_field() {
	PATH=$PATH:/sbin:/usr/sbin sfdisk -J "$1" | perl -MJSON::PP -e '
		my ($i, $f) = @ARGV;
		my $t = decode_json(join "", <STDIN>)->{partitiontable};
		my $v = $i eq "-" ? $t->{$f} : $t->{partitions}[$i]{$f};
		print defined $v ? "$v\n" : "\n";' "$2" "$3"
}
