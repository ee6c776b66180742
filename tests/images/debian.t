#!/usr/bin/env bash
# tests/images/debian.t (LONG=1): a debootstrap'd Debian minbase root with systemd as /sbin/init,
# made into a disk image by ./build.sh image --root, boots under SeaBIOS to its default target.
# Disk: GPT, ESP with live/root.sqfs of the Debian root + ext4 "persistence" (--persist partition).
# Slow (debootstrap from the network, a ~100 MB squashfs, systemd under TCG): behind LONG=1.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
[ "${LONG:-0}" = 1 ] || skip_all "slow (debootstrap + systemd under TCG): run with LONG=1"
[ "$(id -u)" -eq 0 ] || skip_all "debootstrap needs root"
command -v debootstrap >/dev/null || skip_all "debootstrap is not installed (apt-get install debootstrap)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
[ -f "$O/vmlinuz" ] || skip_all "build first: ./build.sh"
: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${DEBIAN_ROOT:=$O/debian-root}"       # kept between runs: debootstrap is the slow part

t0=$SECONDS
if [ ! -x "$DEBIAN_ROOT/lib/systemd/systemd" ]; then
	rm -rf "$DEBIAN_ROOT"
	debootstrap --variant=minbase --include=systemd-sysv bookworm "$DEBIAN_ROOT" "$DEBIAN_MIRROR" \
		> "$QDIR/debootstrap.log" 2>&1
	ok $? "debootstrap --variant=minbase --include=systemd-sysv bookworm" ||
		{ tail -n 20 "$QDIR/debootstrap.log" | sed 's/^/# /'; bail "no Debian root"; }
	# a root password-less console login is not needed: the test reads systemd's own lines
	echo overlive-debian > "$DEBIAN_ROOT/etc/hostname"
else
	ok 0 "a debootstrap'd root is there from an earlier run ($DEBIAN_ROOT)"
fi
diag "bench: debootstrap: $((SECONDS - t0)) s"

t0=$SECONDS
O=$O "$TOP/build.sh" image --root "$DEBIAN_ROOT" --name debtest --persist partition --size 1G \
	--console console=ttyS0,115200n8 > "$QDIR/build.log" 2>&1
ok $? "./build.sh image --root (Debian) makes a disk image" || { tail -n 20 "$QDIR/build.log" | sed 's/^/# /'; bail "no image"; }
img=$(tail -n 1 "$QDIR/build.log")
diag "bench: Debian image build: $((SECONDS - t0)) s, squashfs $(stat -c %s "$O/debtest.sqfs") bytes"

QEMU_MEM=1024
qemu_disk_start bios virtio "$img"
qemu_expect 'overlive: starting /sbin/init' 120
ok $? "the init starts systemd" || qemu_show
t_init=$(qemu_disk_elapsed)
qemu_expect 'Reached target.*(Multi-User System|Graphical Interface)' 300
ok $? "systemd reaches its default target" || qemu_show 40
diag "bench: Debian under SeaBIOS: /sbin/init at $t_init s, default target at $(qemu_disk_elapsed) s wall"
qemu_stop
rm -f "$img" "$O/debtest.sqfs"
done_testing
