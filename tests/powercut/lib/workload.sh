#!/bin/sh
# workload.sh MODE ROUNDS [nobarrier]: the guest side of the power-cut campaigns (installed as /usr/bin/pc-workload).
# Changes /opt/demo (a lower tree) in ROUNDS rounds.
#   persist  saves after every round with `persist save`, odd rounds through the init's exit
#            environment (/run/initramfs/shutdown save), and `persist compact` every 4th round,
#            after the tree changed, before the save
#   naive    saves the way the peers do: tar the upper to a temporary file, fsync it, rename it
#            over save.tar, fsync the directory
#   upper    no save: the upper is the ext4 data disk itself (live.upper=); every change is one
#            system call (or one write of a file and its fsync) and the state after each is recorded;
#            with nobarrier (the disk-upper campaign's control) the upper is remounted so that ext4
#            never asks the disk to flush: an fsync then returns with its data still volatile
#   update   ROUNDS is a list of steps, run in turn, on the boot medium itself (the disk behind
#            powercut): update (overlive-update /opt/new.sqfs --sha256 of /opt/new.sqfs.sha256),
#            boot (this boot came up: the init's count of a try is durable), mark-good
#            (overlive-update --mark-good); VARIANT names the image (/opt/VARIANT.sqfs) an update
#            writes, or the one slot B holds
#   naive-update  the peers' update: /opt/new.sqfs copied over live/root.sqfs with cp, then sync
#
# persist starts with `persist init` (the data disk holds no save file yet), bracketed by marks of
# generation 0 as a save is.
# persist, naive: every save is bracketed by two marks, written to the data disk's last MiB
# (outside the filesystem; one per 4 KiB, since the page cache may write back a whole block)
# with O_DIRECT so that they land in the powercut record log in order with the save's own writes
# (conv=fsync too: busybox's dd may leave them in the page cache otherwise; the FLUSH it adds only
# makes durable what the previous save already flushed), and echoed:
#   PC START gen=G hash=H   before the save's first write (G: the generation it will commit)
#   PC ACK gen=G hash=H     after the save returned success
# H is the md5 of `treesum /opt/demo` (persist: the merged view) or of the tar file (naive).
#
# upper: operation J is bracketed by
#   PC START j=J path=P op=O  before it (P: the file a data operation writes, - for a metadata
#                           one; O: write, or the command of a metadata one: mv rm rmdir mkdir ln chmod)
#   PC DONE j=J hash=H durable=0|1   after it; H is the md5 of the merged view's treesum, whose
#                           lines are echoed as "PCL J LINE"; durable=1 after a data operation
#                           (its fsync returned)
#   PC SYNC j=J             after a sync(2) that followed operation J returned
# State 0 (DONE j=0, then SYNC j=0) is the tree before the first operation.
#
# update, naive-update: each step is bracketed by
#   PC START op=O rec=R [via=V] img=I   before it: R the slot record it ends with, V the record
#                           an update writes first (it takes a pending slot B out of the record
#                           before it writes B), I the image slot B holds while a record names B
#   PC ACK op=O rec=R img=I [slot=X]    after it returned, R as overlive-update --status reads it
# R is G/GOOD/PENDING/TRIES (generation, slots A or B, - for none) or none (no record yet);
# naive-update writes no record: its I is what live/root.sqfs holds after the ACK.
set -u
mode=$1 rounds=$2 variant=${3:-}
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
if [ "$mode" = upper ]; then
	dir=/run/live/upper
	U=$dir/upper
	# the control: an ext4 that never asks the disk to flush, so an fsync returns before its data is safe
	if [ "$variant" = nobarrier ]; then
		mount -o remount,nobarrier "$dir" && grep -q " $dir ext4 .*nobarrier" /proc/mounts ||
			{ echo "PC FAIL unable to remount $dir with nobarrier"; exit 1; }
	fi
	# live.upper=file: the upper is a loop device over a file on the medium: the marks go to the medium
	case $(awk -v d="$dir" '$2 == d { print $1 }' /proc/mounts) in
	/dev/loop*) dir=/run/live/medium ;;
	esac
elif [ "$mode" = update ] || [ "$mode" = naive-update ]; then
	dir=/run/live/medium    # the marks go to the boot medium's last MiB
	U=-
	. /usr/lib/pc-slotrec.sh
else
	. /run/live/persist.env || { echo "PC FAIL no /run/live/persist.env: boot with live.persist="; exit 1; }
	dir=${PERSIST_FILE%/*}
	U=$PERSIST_UPPER
fi
dev=$(awk -v d="$dir" '$2 == d { print $1 }' /proc/mounts)
[ -b "$dev" ] || { echo "PC FAIL no data disk mounted on $dir"; exit 1; }
sectors=$(cat "/sys/class/block/${dev#/dev/}/size")
markbase=$((sectors - 2048))
nmark=0
D=/opt/demo

mark() {
	printf '%-511s\n' "PCMARK n=$nmark $*" | dd of="$dev" bs=512 seek=$((markbase + nmark % 256 * 8)) count=1 \
		oflag=direct conv=notrunc,fsync 2>/dev/null || { echo "PC FAIL mark $*"; exit 1; }
	nmark=$((nmark + 1))
	echo "PC $*"
}

view() { treesum "$D" "$U$D" | md5sum | cut -c1-32; }

# persist: the generation number in a summary line ("saved generation 7", "compacted into generation 8")
gen_of() { sed -n 's/.*generation \([0-9][0-9]*\).*/\1/p' | head -n 1; }

# change I: copy-ups, overwrites, new files, deletions of lower and upper files, a lower
# directory replaced by a new one (opaque), renames, a symlink, two hardlink groups, a mode change,
# a text file that compresses
change() {
	i=$1
	echo "round $i" >> "$D/log"
	dd if=/dev/urandom of="$D/new/f$i" bs=1024 count=$((i % 5 * 2 + 1)) 2>/dev/null
	rm -f "$D/new/g$((i - 3))"
	[ -e "$D/new/f$((i - 1))" ] && mv "$D/new/f$((i - 1))" "$D/new/g$i"
	a=$D/a$((i % 6))
	if [ -e "$a" ]; then rm -f "$a"; else echo "back in round $i" > "$a"; fi
	if [ $((i % 3)) = 0 ]; then
		d=$D/d$((i % 4))
		rm -rf "$d" && mkdir "$d" && echo "new dir in round $i" > "$d/only"
	fi
	dd if=/dev/urandom of="$D/big" bs=512 seek=$((i % 16)) count=2 conv=notrunc 2>/dev/null
	# text that compresses (a log's lines): the save file (zstd, init's default) holds ZDATA records
	n=0
	while [ $n -lt 200 ]; do echo "round $i, line $n: the same words again and again"; n=$((n + 1)); done > "$D/text$((i % 2))"
	ln -sfn "target-$i" "$D/link"
	ln -f "$D/new/f$i" "$D/new/hard"
	# a second group, its names between the first's (f, g, hard, hard2): a save that numbers
	# groups wrongly gives hard the contents of g (issue 12)
	[ -e "$D/new/g$i" ] && ln -f "$D/new/g$i" "$D/new/hard2"
	chmod $((600 + i % 2 * 44)) "$D/a$(((i + 3) % 6))" 2>/dev/null
	return 0
}

persist_round() {
	i=$1
	if [ $((i % 4)) = 0 ]; then
		# compaction while the tree has changed: it commits the last saved state again
		mark START gen=$((gen + 1)) hash=$saved
		out=$(persist compact 2>&1) || { echo "PC FAIL compact: $out"; exit 1; }
		g=$(echo "$out" | gen_of)
		[ "$g" = $((gen + 1)) ] || { echo "PC FAIL compact said: $out"; exit 1; }
		gen=$g
		mark ACK gen=$gen hash=$saved
	fi
	h=$(view)
	mark START gen=$((gen + 1)) hash=$h
	# odd rounds save the way the end of a shutdown does: the init's exit environment
	# (/run/initramfs/shutdown save, the same code systemd's last step runs as PID 1)
	if [ $((i % 2)) = 1 ] && [ -x /run/initramfs/shutdown ]; then
		out=$(/run/initramfs/shutdown save 2>&1) || { echo "PC FAIL shutdown save: $out"; exit 1; }
	else
		out=$(persist save 2>&1) || { echo "PC FAIL save: $out"; exit 1; }
	fi
	g=$(echo "$out" | gen_of)
	[ "$g" = $((gen + 1)) ] || { echo "PC FAIL save said: $out"; exit 1; }
	gen=$g saved=$h
	mark ACK gen=$gen hash=$h
}

naive_round() {
	tar -C "$U" -cf /run/pc-save.tar . || { echo "PC FAIL tar"; exit 1; }
	h=$(md5sum < /run/pc-save.tar | cut -c1-32)
	mark START gen=$((gen + 1)) hash=$h
	cp /run/pc-save.tar "$dir/save.tar.tmp" && sync "$dir/save.tar.tmp" &&
		mv "$dir/save.tar.tmp" "$dir/save.tar" && sync "$dir" || { echo "PC FAIL naive save"; exit 1; }
	gen=$((gen + 1))
	mark ACK gen=$gen hash=$h
}

# upper: the merged view after operation $j: its lines on the console, their md5 in $h
state() {
	treesum "$D" "$U$D" > /run/pc-list || { echo "PC FAIL treesum"; exit 1; }
	h=$(md5sum < /run/pc-list | cut -c1-32)
	sed "s/^/PCL $j /" /run/pc-list
}

# meta CMD...: one metadata system call (rename, unlink, rmdir, mkdir, link, symlink, chmod)
meta() {
	j=$((j + 1))
	mark START j=$j path=- op=$1
	"$@" || { echo "PC FAIL op $j: $*"; exit 1; }
	state
	mark DONE j=$j hash=$h durable=0
}

# data PATH TEXT|-RANDOM-KIB [DD-ARGS]: writes PATH (relative to $D) with dd, which fsyncs it
data() {
	p=$1 what=$2
	shift 2
	j=$((j + 1))
	mark START j=$j path=$p op=write
	case $what in
	-*) dd if=/dev/urandom of="$D/$p" bs=1024 count=${what#-} conv=fsync "$@" 2>/dev/null ;;
	*) echo "$what" | dd of="$D/$p" conv=fsync "$@" 2>/dev/null ;;
	esac || { echo "PC FAIL op $j: write $p"; exit 1; }
	state
	mark DONE j=$j hash=$h durable=1
}

syncpoint() {
	sync || { echo "PC FAIL sync"; exit 1; }
	mark SYNC j=$j
}

# remove every entry of directory $1 (lower or upper), one unlink or rmdir a call, then $1 itself
empty_out() {
	for f in "$1"/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		if [ -d "$f" ] && [ ! -L "$f" ]; then empty_out "$f"; else meta rm "$f"; fi
	done
	meta rmdir "$1"
}

# round R: copy-ups, an fsynced append and in-place overwrite, a new file, renames of lower and
# upper files (a lower one leaves a whiteout), a lower file renamed over another, a deleted lower
# file and its return, every 3rd round a lower directory emptied, removed and made again (opaque),
# a symlink and a hardlink replaced by rename, a mode change (a metadata-only copy-up)
upper_round() {
	r=$1
	data log "round $r" oflag=append conv=notrunc
	data big -1 seek=$((r % 8)) conv=notrunc
	data "new/f$r" -$((r % 5 * 2 + 1))
	[ -e "$D/new/f$((r - 1))" ] && meta mv "$D/new/f$((r - 1))" "$D/new/g$r"
	k=$((r % 6))
	if [ -e "$D/a$k" ]; then meta mv "$D/a$k" "$D/m$k"
	elif [ -e "$D/m$k" ]; then meta mv "$D/m$k" "$D/a$k"; fi
	k=$(((r + 2) % 6))
	if [ -e "$D/a$k" ]; then meta rm "$D/a$k"
	else data "a$k" "back in round $r"; fi
	k=$(((r + 1) % 6)) k2=$(((r + 4) % 6))
	[ -e "$D/a$k" ] && [ -e "$D/a$k2" ] && [ $((r % 2)) = 1 ] && meta mv "$D/a$k" "$D/a$k2"
	x=$D/d$((r % 4))/sub/x
	[ $((r % 3)) = 1 ] && [ -e "$x" ] && meta mv "$x" "$D/x$r"
	if [ $((r % 3)) = 0 ]; then
		d=$D/d$((r % 4))
		[ -d "$d" ] && empty_out "$d"
		meta mkdir "$d"
		data "d$((r % 4))/only" "new dir in round $r"
	fi
	meta ln -s "target-$r" "$D/link.new"
	meta mv "$D/link.new" "$D/link"
	meta ln "$D/new/f$r" "$D/new/hard.new"
	meta mv "$D/new/hard.new" "$D/new/hard"
	k=$(((r + 3) % 6))
	[ -e "$D/a$k" ] && meta chmod $((600 + r % 2 * 44)) "$D/a$k"
	[ $((r % 2)) = 0 ] && syncpoint     # odd rounds leave their metadata to the next fsync
	return 0
}

# update: the slot record as G/GOOD/PENDING/TRIES (pc-slotrec.sh), in R
record() {
	R=$(overlive-update --status 2>&1 | slotrec_canon)
	[ -n "$R" ] || { echo "PC FAIL overlive-update --status: $(overlive-update --status 2>&1)"; exit 1; }
}

# the fields of R in g, good, pend
rec_fields() {
	g=${R%%/*} good=${R#*/} pend=${R#*/*/}
	good=${good%%/*} pend=${pend%%/*}
}

# update STEP: one step of the update campaign, bracketed by its marks
update_step() {
	record
	case $1 in
	update)
		# the updater's protocol (docs/updates.md): the target is the slot that is not good; a
		# pending one is first taken out of the record; then "pending, 3 tries"
		local g=0 good=A pend=- via=
		[ "$R" = none ] || rec_fields
		tgt=B; [ "$good" = B ] && tgt=A
		[ "$pend" = "$tgt" ] && { g=$((g + 1)); via="via=$g/$good/-/0"; }
		want=$((g + 1))/$good/$tgt/3
		mark START op=update rec=$want $via img=$variant
		out=$(overlive-update "/opt/$variant.sqfs" --sha256 "$(cat "/opt/$variant.sqfs.sha256")" 2>&1) ||
			{ echo "PC FAIL update: $out"; exit 1; } ;;
	mark-good)
		local g good pend
		rec_fields
		want=$((g + 1))/$pend/-/0
		mark START op=mark-good rec=$want img=$variant
		out=$(overlive-update --mark-good 2>&1) || { echo "PC FAIL mark-good: $out"; exit 1; } ;;
	boot) want=$R ;;
	*) echo "PC FAIL step $1"; exit 1 ;;
	esac
	record
	[ "$R" = "$want" ] || { echo "PC FAIL $1: the record is $R, want $want"; exit 1; }
	mark ACK op=$1 rec=$R img=$variant slot=$(sed -n 's/^slot=\([AB]\) .*/\1/p' /run/live/slot)
}

# naive-update: the peers' way, cp over the image the stick boots, then sync
naive_update() {
	cp /opt/new.sqfs /run/new.sqfs || { echo "PC FAIL copy to /run"; exit 1; }
	mark START op=naive rec=none img=new
	mount -o remount,rw /run/live/medium && cp /run/new.sqfs /run/live/medium/live/root.sqfs && sync ||
		{ echo "PC FAIL naive update"; exit 1; }
	mark ACK op=naive rec=none img=new
}

case "$mode" in
update)
	for s in $(echo "$rounds" | tr , ' '); do update_step "$s"; done
	echo "PC END marks=$nmark"
	exit 0 ;;
naive-update)
	naive_update
	echo "PC END marks=$nmark"
	exit 0 ;;
persist)
	# the data disk holds no save file: the first step is the persist init a first shutdown does
	[ -e "$PERSIST_FILE" ] && { echo "PC FAIL $PERSIST_FILE exists before persist init"; exit 1; }
	saved=$(view)
	mark START gen=0 hash=$saved
	out=$(persist init --file "$PERSIST_FILE" --size 256K 2>&1) || { echo "PC FAIL init: $out"; exit 1; }
	gen=$(persist verify 2>&1 | gen_of)
	[ "$gen" = 0 ] || { echo "PC FAIL a new save file at generation '$gen'"; exit 1; }
	mark ACK gen=$gen hash=$saved ;;
naive) gen=0 ;;
upper)
	j=0
	state
	mark DONE j=0 hash=$h durable=0
	syncpoint ;;
*) echo "PC FAIL mode $mode"; exit 1 ;;
esac
i=1
while [ $i -le "$rounds" ]; do
	[ "$mode" = upper ] || change $i
	"${mode}_round" $i
	i=$((i + 1))
done
if [ "$mode" = upper ]; then
	syncpoint
	echo "PC END ops=$j marks=$nmark"
else
	echo "PC END gen=$gen marks=$nmark"
fi
