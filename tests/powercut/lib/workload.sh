#!/bin/sh
# workload.sh MODE ROUNDS: the guest side of the power-cut campaigns (installed as /usr/bin/pc-workload).
# Changes /opt/demo (a lower tree) and saves after every round. MODE persist saves with
# `persist save` (and `persist compact` every 4th round, after the tree changed, before the
# save); MODE naive saves the way the peers do: tar the upper to a temporary file, fsync it,
# rename it over save.tar, fsync the directory.
#
# Every save is bracketed by two marks, written to the data disk's last MiB (outside the
# filesystem; one per 4 KiB, since the page cache may write back a whole block) with O_DIRECT so that they land in the powercut record log in order with the
# save's own writes (conv=fsync too: busybox's dd may leave them in the page cache otherwise;
# the FLUSH it adds only makes durable what the previous save already flushed), and echoed:
#   PC START gen=G hash=H   before the save's first write (G: the generation it will commit)
#   PC ACK gen=G hash=H     after the save returned success
# H is the md5 of `treesum /opt/demo` (persist: the merged view) or of the tar file (naive).
set -u
mode=$1 rounds=$2
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
. /run/live/persist.env
dir=${PERSIST_FILE%/*}
dev=$(awk -v d="$dir" '$2 == d { print $1 }' /proc/mounts)
[ -b "$dev" ] || { echo "PC FAIL no data disk mounted on $dir"; exit 1; }
sectors=$(cat "/sys/class/block/${dev#/dev/}/size")
markbase=$((sectors - 2048))
nmark=0
D=/opt/demo
U=$PERSIST_UPPER

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
# directory replaced by a new one (opaque), renames, a symlink, a hardlink, a mode change
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
	ln -sfn "target-$i" "$D/link"
	ln -f "$D/new/f$i" "$D/new/hard"
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
	out=$(persist save 2>&1) || { echo "PC FAIL save: $out"; exit 1; }
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

case "$mode" in
persist)
	gen=$(persist verify 2>&1 | gen_of)
	[ -n "$gen" ] || { echo "PC FAIL no save file to start from"; exit 1; }
	saved=$(view)
	mark ACK gen=$gen hash=$saved ;;
naive) gen=0 ;;
*) echo "PC FAIL mode $mode"; exit 1 ;;
esac
i=1
while [ $i -le "$rounds" ]; do
	change $i
	"${mode}_round" $i
	i=$((i + 1))
done
echo "PC DONE gen=$gen marks=$nmark"
