#!/usr/bin/env bash
# tests/boot/save-rollback.t: a save that breaks the boot is rolled back by itself (docs/updates.md,
# "A save that breaks the boot"), in QEMU. A save file is restored and the boot marked good (the
# rc's overlive-update --mark-good records its generation in the slot record); then a generation
# whose /etc/rc exits before its goal is saved: three boots restore it (each counted on the medium
# before the restore, none marked good), the fourth restores the last good generation and says
# why, on the console and in /run/live/update.log; a save from there is the newest, and the next
# boot restores it and marks it good.
# Oracles from outside our code: the record's bytes read with od after mcopy (the doc's table),
# fsck.fat -n on the medium after the boots (the init writes the record through the device), the
# host's persist log of the save file the guest wrote.
# Disk: one virtio disk, a vfat medium labelled OVERLIVE holding live/root.sqfs (the minimal
# root), live/slots (zeros, as ./build.sh image makes it) and persist.dat (made on the host).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/lib/slotrec-od.sh"
need qemu-system-x86_64 mcopy mtype fsck.fat -- "qemu-system-x86 mtools dosfstools"
[ -x "$O/root-minimal/usr/sbin/overlive-update" ] && [ -f "$O/minimal.sqfs" ] ||
	skip_all "build first: ./build.sh (no overlive-update in $O/root-minimal)"
export MTOOLS_SKIP_CHECK=1
P=$O/bin/persist
medium=$QDIR/medium.img

"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$medium" OVERLIVE >/dev/null 2>&1 || bail "mkmedium.sh"
head -c 8192 /dev/zero > "$QDIR/slots" && mcopy -i "$medium" "$QDIR/slots" ::live/slots || bail "mcopy live/slots"
mkdir -p "$QDIR/up/root"
echo "saved before" > "$QDIR/up/root/one"
"$P" init --file "$QDIR/persist.dat" --size 8M --quiet &&
	"$P" save --upper "$QDIR/up" --file "$QDIR/persist.dat" --lower "$O/minimal.sqfs" --quiet &&
	mcopy -i "$medium" "$QDIR/persist.dat" ::persist.dat || bail "the save file"
g1=$("$P" log --file "$QDIR/persist.dat" --json | grep -o '"gen":[0-9]*' | tail -n 1 | cut -d: -f2)

boot() {
	qemu_start "live.persist=/persist.dat" -drive "file=$medium,format=raw,if=virtio"
	qemu_expect 'overlive# ' 180 >/dev/null
}
# record: the newest copy's "generation save_boots save_good", read with od (not our decoder)
record() {
	mcopy -o -i "$medium" ::live/slots "$QDIR/slots" 2>/dev/null || { echo none; return; }
	slotrec_od "$QDIR/slots" | cut -d' ' -f1,5,6
}
fat_clean() { fsck.fat -n "$medium" > "$QDIR/fsck.out" 2>&1; }
# off: a clean poweroff (the rc.shutdown's save at shutdown, the FAT left clean), QEMU gone
off() {
	qemu_send poweroff
	for _ in $(seq 300); do kill -0 "$QPID" 2>/dev/null || { qemu_stop; return 0; }; sleep 0.2; done
	qemu_stop
	return 1
}

boot
qemu_run 'test "$(cat /root/one)" = "saved before"'
ok $? "boot 1: the save file is restored (generation $g1)"
grep -aq "the save's generation $g1 is the last good one" "$QLOG"
ok $? "boot 1: the rc marked it good (overlive-update --mark-good)"
qemu_run 'grep -q "save='"$g1"' mark=yes" /run/live/slot'
ok $? "boot 1: /run/live/slot names the generation restored"
# the break: an rc that exits before its goal, saved
qemu_run 'printf "#!/bin/sh\necho \"broken rc: exits before its goal\"\nexit 1\n" > /etc/rc && persist save --quiet' 60
ok $? "boot 1: a generation whose /etc/rc exits is saved"
off
is "$(record)" "1 0 $g1" "the record: generation 1, no boot counted, generation $g1 good"

for k in 1 2 3; do
	boot
	grep -aq 'broken rc: exits before its goal' "$QLOG" && ! grep -aq "is the last good one" "$QLOG"
	ok $? "broken boot $k: the new generation is restored, its rc exits, nothing is marked"
	if [ "$k" = 1 ]; then
		! grep -aq "the save file: boot" "$QLOG"
		ok $? "broken boot 1: the first boot after a good one is counted quietly"
	else
		grep -aq "the save file: boot $k of 3 since one was marked good (generation $g1)" "$QLOG"
		ok $? "broken boot $k: the count is said on the console"
	fi
	off
	is "$(record)" "$((k + 1)) $k $g1" "broken boot $k: counted on the medium before the restore"
done
fat_clean
st=$?
ok $st "fsck.fat -n finds the medium clean after the counted boots"
[ $st -eq 0 ] || sed 's/^/# /' "$QDIR/fsck.out"

boot
grep -aq "the save file's newest generation did not reach the system's goal in 3 boots" "$QLOG" &&
	grep -aq "restoring generation $g1, the last one a boot marked good" "$QLOG"
ok $? "boot 5: back on generation $g1, the last one marked good, and why on the console"
qemu_run 'test "$(cat /root/one)" = "saved before" && grep -q "mark=yes" /etc/rc && grep -q "restoring generation '"$g1"'" /run/live/update.log'
ok $? "boot 5: the live system is generation $g1's (its own rc), update.log says why"
grep -aq "overlive-minimal: ready" "$QLOG"
ok $? "boot 5: its rc reached its goal"
qemu_run 'echo "after the rollback" > /root/two && persist save --quiet' 60
ok $? "boot 5: a save from the rolled-back system"
off
is "$(record)" "6 0 $g1" "boot 5: the mark set the count back to 0"
mcopy -o -i "$medium" ::persist.dat "$QDIR/back.dat"
"$P" log --file "$QDIR/back.dat" > "$QDIR/log" && [ "$(grep -c '^[0-9]' "$QDIR/log")" -ge 3 ]
ok $? "the save file keeps the broken generation too (persist log: $(grep -c '^[0-9]' "$QDIR/log") generations)"
"$P" log --file "$QDIR/back.dat" --json > "$QDIR/log.json"
# boot 5 recorded its going back (persist rollback, written by the init before the restore): the
# generation after the broken one is a rollback to the last good one, then boot 5's save
kinds=$(grep -o '"kind":"[a-z ]*"' "$QDIR/log.json" | cut -d'"' -f4 | tr '\n' ' ')
rb=$(grep '"kind":"rollback"' "$QDIR/log.json" | grep -o '"rollback_to":[0-9]*' | cut -d: -f2)
is "$rb" "$g1" "persist log: boot 5 recorded a rollback to generation $g1 in the save file (kinds: $kinds)"
is "$(echo $kinds | awk '{ print $(NF - 1), $NF }')" "rollback save" "  the rollback, then boot 5's save, are the newest two generations"
grep '"kind":"rollback"' "$QDIR/log.json" | grep -q '"failed_boots":3,'
ok $? "  and it says why: 3 boots without a mark (failed_boots)"
"$P" log --file "$QDIR/back.dat" | grep -q "rollback .* to $g1: by the init, the newer generations did not reach the system's goal in 3 boots"
ok $? "  persist log's text says so on the rollback's line"
g3=$(grep -o '"gen":[0-9]*' "$QDIR/log.json" | tail -n 1 | cut -d: -f2)

boot
qemu_run 'test "$(cat /root/two)" = "after the rollback" && test "$(cat /root/one)" = "saved before" && grep -q "mark=yes" /etc/rc'
ok $? "boot 6: the newest generation ($g3) is restored: the rolled-back system and its save"
grep -aq "the save's generation $g3 is the last good one" "$QLOG"
ok $? "boot 6: and marked good"
off
is "$(record)" "8 0 $g3" "the record: generation $g3 good, nothing counted"
fat_clean
st=$?
ok $st "fsck.fat -n finds the medium clean at the end"
[ $st -eq 0 ] || sed 's/^/# /' "$QDIR/fsck.out"
done_testing
