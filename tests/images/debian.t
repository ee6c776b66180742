#!/usr/bin/env bash
# tests/images/debian.t (LONG=1): Debian bookworm with systemd as /sbin/init, the user story of
# docs/persist.md: changes saved at `systemctl poweroff` and `systemctl reboot` by the init's exit
# environment, by the overlive-save timer (live.persist.autosave=) before a power cut, and now by
# `systemctl start overlive-save`; a save that cannot fit is said and loses nothing saved before;
# the save file on an ext4 data disk too; ./build.sh image --recipe debian and debian-kiosk.
# Roots: a debootstrap'd minbase + systemd-sysv + udev (cached: DEBIAN_ROOT), given with --root
# and nothing of overlive's in it (the test adds only a root autologin on the serial console, to
# type into it); and the debian recipe. Disks: GPT image with the ESP (live/, the save file
# /persist.dat: --persist save); for one boot a second virtio disk, ext4 labelled DATA.
# Slow (debootstrap the first time, a ~100 MB squashfs, systemd under TCG): behind LONG=1.
# DEBIAN_ONLY=recipes runs only the recipes' part.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu-disk.sh"
[ "${LONG:-0}" = 1 ] || skip_all "slow (debootstrap + systemd under TCG): run with LONG=1"
[ "$(id -u)" -eq 0 ] || skip_all "debootstrap needs root"
command -v debootstrap >/dev/null || skip_all "debootstrap is not installed (apt-get install debootstrap)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
command -v fsck.fat >/dev/null && command -v mcopy >/dev/null || skip_all "dosfstools and mtools are not installed"
[ -f "$O/vmlinuz" ] || skip_all "build first: ./build.sh"
: "${CACHE:=$TOP/cache}"
: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${DEBIAN_ROOT:=$CACHE/debian/test-root}"     # kept between runs: debootstrap is the slow part
export MTOOLS_SKIP_CHECK=1
QEMU_MEM=1024
PROMPT='root@overlive-debian:[^#]*# '

t0=$SECONDS
if [ ! -x "$DEBIAN_ROOT/lib/systemd/systemd" ]; then
	rm -rf "$DEBIAN_ROOT" && mkdir -p "$(dirname "$DEBIAN_ROOT")"
	debootstrap --variant=minbase --include=systemd-sysv,udev bookworm "$DEBIAN_ROOT" "$DEBIAN_MIRROR" \
		> "$QDIR/debootstrap.log" 2>&1
	ok $? "debootstrap --variant=minbase --include=systemd-sysv,udev bookworm" ||
		{ tail -n 20 "$QDIR/debootstrap.log" | sed 's/^/# /'; bail "no Debian root"; }
else
	ok 0 "a debootstrap'd root is there from an earlier run ($DEBIAN_ROOT)"
fi
diag "bench: debootstrap: $((SECONDS - t0)) s"
# the test's copy: the root as debootstrap made it, plus a console login to type into
root=$O/debian-test-root
rm -rf "$root" && cp -a "$DEBIAN_ROOT" "$root"
mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear %%I $TERM\n' \
	> "$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
echo overlive-debian > "$root/etc/hostname"
! find "$root" -name 'persist' -o -name 'overlive-save*' | grep -q .
ok $? "the root has no persist and no unit of overlive's"

esp=$QDIR/esp.img
# esp_out: the ESP out of the image, for mtools and fsck.fat
esp_out() { dd if="$img" of="$esp" bs=512 skip="$(part_field "$img" 0 start)" count="$(part_field "$img" 0 size)" status=none; }
fat_clean() { esp_out && fsck.fat -n "$esp" > "$QDIR/fsck" 2>&1 && ! grep -qi 'dirty\|differ\|lost\|free cluster' "$QDIR/fsck"; }
# ends: wait for QEMU to stop by itself (the guest powered off, or rebooted: -no-reboot)
ends() {
	local i
	for i in $(seq 1 "${1:-180}"); do kill -0 "$QPID" 2>/dev/null || { qemu_stop; return 0; }; sleep 1; done
	diag "QEMU did not stop by itself"; qemu_stop; return 1
}
login() { qemu_expect "$PROMPT" 300 >/dev/null || { diag "no root prompt"; qemu_show 30; return 1; }; sleep 1; }
P=/run/live/bin/persist

# DEBIAN_ONLY=recipes: only the recipes' part (the --root story is the longer one)
if [ "${DEBIAN_ONLY:-}" != recipes ]; then
t0=$SECONDS
O=$O "$TOP/build.sh" image --root "$root" --name debtest --persist save --console console=ttyS0,115200n8 \
	> "$QDIR/build.log" 2>&1
r=$?; ok $r "./build.sh image --root (Debian) --persist save makes a disk image"
[ $r = 0 ] || { tail -n 20 "$QDIR/build.log" | sed 's/^/# /'; bail "no image"; }
img=$(tail -n 1 "$QDIR/build.log")
cmdline=$(sed -n 's/^mkimage: command line: //p' "$QDIR/build.log")
diag "bench: Debian image build: $((SECONDS - t0)) s, squashfs $(stat -c %s "$O/debtest.sqfs") bytes; $cmdline"

# Boot 1, through SeaBIOS: changes, then `systemctl poweroff`.
qemu_disk_start bios virtio "$img"
login
ok $? "the Debian root boots to a root prompt (systemd)"
qemu_run "test -x $P && test -x /run/initramfs/shutdown && systemctl cat overlive-save.service >/dev/null" 60
ok $? "the init gave the live system persist, the exit environment and overlive-save.service"
qemu_run 'echo "kept across boots" > /root/kept && rm /etc/debian_version &&
	rm -rf /etc/skel && mkdir /etc/skel && echo only > /etc/skel/only' 60
ok $? "changes: a new file, a lower file deleted (a whiteout), a lower directory replaced (opaque)"
qemu_send 'systemctl poweroff'
ends 180
ok $? "systemctl poweroff powers off"
grep -aq 'overlive: shutdown: the live system has stopped; saving, then poweroff' "$QLOG" &&
	grep -aq 'persist: saved generation 1' "$QLOG" && grep -aq 'overlive: shutdown: the changes are saved in /persist.dat' "$QLOG"
r=$?; ok $r "at the end of the shutdown the exit environment created the save file, saved and said so"; [ $r = 0 ] || qemu_show 30
fat_clean
r=$?; ok $r "the ESP is clean after the poweroff (fsck.fat -n)"; [ $r = 0 ] || sed 's/^/# /' "$QDIR/fsck"

# Boot 2, through OVMF: all back; then `systemctl reboot`.
if qemu_disk_can uefi; then qemu_disk_start uefi virtio "$img"; else qemu_disk_start bios virtio "$img"; fi
login
qemu_run 'test "$(cat /root/kept)" = "kept across boots" && test ! -e /etc/debian_version &&
	test "$(ls -A /etc/skel)" = only && test "$(cat /etc/skel/only)" = only' 60
ok $? "the next boot has the file, the whiteout and the opaque directory back"
# (a running systemd writes its journal and state into the upper: only the test's paths are looked at)
mine='root/kept|root/rb|root/auto|root/now|root/big|root/recipe|etc/skel|etc/debian_version'
qemu_run "! $P status | grep -E ' /?($mine)' " 120
ok $? "persist status right after the restore: nothing of the restored changes to save"
qemu_run 'echo "before the reboot" > /root/rb' 30
qemu_send 'systemctl reboot'
ends 180
ok $? "systemctl reboot reboots (QEMU -no-reboot ends)"
grep -aq 'overlive: shutdown: rebooting' "$QLOG" && grep -aq 'overlive: shutdown: the changes are saved' "$QLOG"
ok $? "the exit environment saved, then rebooted"

# Boot 3 (kernel boot, to add a parameter): autosave every 20 s, then the power is cut.
qemu_start "${cmdline#console=ttyS0,115200n8 } live.persist.autosave=20s" -drive "file=$img,format=raw,if=virtio"
login
qemu_run 'test "$(cat /root/rb)" = "before the reboot" && systemctl is-active overlive-save.timer' 60
ok $? "live.persist.autosave=20s: the timer is active (and the reboot's save is back)"
qemu_run "echo autosaved > /root/auto; for i in \$(seq 1 90); do $P status | grep -q root/auto || break; sleep 1; done; ! $P status | grep -q root/auto" 150
ok $? "within an interval the timer saved the change: it is no longer unsaved"
qemu_run 'systemctl status overlive-save --no-pager | grep -q "persist: saved generation"' 60
ok $? "systemctl status overlive-save shows the last save's summary"
kill -KILL "$QPID"; qemu_stop
# Boot 4: the autosave is back; a save now; a save that cannot fit.
qemu_start "${cmdline#console=ttyS0,115200n8 }" -drive "file=$img,format=raw,if=virtio"
login
qemu_run 'test "$(cat /root/auto)" = autosaved' 60
ok $? "after the power cut, what the timer saved is back"
qemu_run "echo now > /root/now && systemctl start overlive-save && ! $P status | grep -q root/now" 120
ok $? "systemctl start overlive-save saves now"
qemu_run 'dd if=/dev/urandom of=/root/big bs=1M count=120 2>/dev/null' 240
qemu_send 'systemctl poweroff'
ends 240
ok $? "poweroff with more changes than the save file holds"
grep -aq 'overlive: shutdown: persist save failed' "$QLOG" && grep -aq 'too small' "$QLOG"
r=$?; ok $r "the failed save is said on the console, with why"; [ $r = 0 ] || qemu_show 20
qemu_start "${cmdline#console=ttyS0,115200n8 }" -drive "file=$img,format=raw,if=virtio"
login
qemu_run 'test "$(cat /root/now)" = now && test ! -e /root/big' 60
ok $? "the next boot has the last good save, nothing of the failed one"
qemu_stop

# Boot 6, 7: the save file on an ext4 data disk.
data=$QDIR/data.img
truncate -s 256M "$data" && mkfs.ext4 -q -F -L DATA "$data"
dcmd="${cmdline#console=ttyS0,115200n8 }"
dcmd="${dcmd/live.persist=\/persist.dat/live.persist=LABEL=DATA:/persist.dat}"
qemu_start "$dcmd" -drive "file=$img,format=raw,if=virtio" -drive "file=$data,format=raw,if=virtio"
login
qemu_run 'echo "on ext4" > /root/ext4' 30
qemu_send 'systemctl poweroff'
ends 180
e2fsck -fn "$data" >/dev/null 2>&1
ok $? "the ext4 data disk is clean after the poweroff (e2fsck -fn)"
qemu_start "$dcmd" -drive "file=$img,format=raw,if=virtio" -drive "file=$data,format=raw,if=virtio"
login
qemu_run 'test "$(cat /root/ext4)" = "on ext4" && test ! -e /root/now' 60
ok $? "live.persist=LABEL=DATA:/persist.dat on ext4: saved at poweroff, restored (its own save, not the ESP's)"
qemu_stop
rm -f "$img" "$O/debtest.sqfs" "$data"

fi

# The debian recipe: built (debootstrap once, cached), boots, saves at poweroff, restores.
t0=$SECONDS
O=$O CACHE=$CACHE "$TOP/build.sh" image --recipe debian --console console=ttyS0,115200n8 > "$QDIR/recipe.log" 2>&1
r=$?; ok $r "./build.sh image --recipe debian"
[ $r = 0 ] || { tail -n 20 "$QDIR/recipe.log" | sed 's/^/# /'; done_testing; }
img=$(tail -n 1 "$QDIR/recipe.log")
diag "bench: debian recipe build: $((SECONDS - t0)) s"
qemu_disk_start bios virtio "$img"
login
qemu_run 'echo recipe > /root/recipe && command -v persist && ip -br link | grep -q "^lo"' 60
ok $? "the recipe boots to a root prompt, persist is on PATH"
qemu_send 'systemctl poweroff'
ends 180
qemu_disk_start bios virtio "$img"
login
qemu_run 'test "$(cat /root/recipe)" = recipe && ! persist status | grep -q root/recipe' 120
ok $? "the recipe saved at poweroff and restored it"
# a boot that restored the save file is marked good under systemd by the unit the init writes
# (overlive-mark-good, after the default target): the slot record then holds its generation
qemu_run 'for i in $(seq 1 120); do journalctl -b -u overlive-mark-good --no-pager 2>/dev/null | grep -q "is the last good one" && break; sleep 1; done
journalctl -b -u overlive-mark-good --no-pager | grep -q "is the last good one" && grep -q " mark=yes" /run/live/slot' 180
ok $? "systemd: overlive-mark-good, the init's unit, marked the boot that restored the save good" ||
	{ qemu_run 'cat /run/live/slot /run/live/update.log; ls /run/systemd/system; systemctl status overlive-mark-good --no-pager -l | tail -n 12' 60; qemu_show 30; }
qemu_stop
rm -f "$img" "$O/debian.sqfs"

# The debian-kiosk recipe: one service restarted when it dies, no console login, everything reset
# at boot but home/kiosk/data (persist.conf beside the save file).
O=$O CACHE=$CACHE "$TOP/build.sh" image --recipe debian-kiosk --console console=ttyS0,115200n8 > "$QDIR/kiosk.log" 2>&1
r=$?; ok $r "./build.sh image --recipe debian-kiosk"
[ $r = 0 ] || { tail -n 20 "$QDIR/kiosk.log" | sed 's/^/# /'; done_testing; }
img=$(tail -n 1 "$QDIR/kiosk.log")
qemu_disk_start bios virtio "$img"
qemu_expect 'kiosk-demo: started as kiosk \(uid 1000\), start 1, scratch absent' 300
ok $? "the kiosk's service starts as its user on the console"
qemu_send quit
qemu_expect 'kiosk-demo: started as kiosk \(uid 1000\), start 2, scratch present' 60
ok $? "it is started again when it exits"
qemu_send poweroff
ends 180
ok $? "its poweroff status powers the machine off"
! grep -aq 'login:' "$QLOG" && grep -aq 'overlive: shutdown: the changes are saved' "$QLOG"
ok $? "no console login; the exit environment saved"
qemu_disk_start bios virtio "$img"
qemu_expect 'kiosk-demo: started as kiosk \(uid 1000\), start 3, scratch absent' 300
ok $? "the next boot keeps home/kiosk/data (start 3) and resets the rest (scratch absent)"
qemu_stop
rm -f "$img" "$O/debian-kiosk.sqfs"
done_testing
