#!/usr/bin/env bash
# tests/cli/update.t: overlive-update on a host, against a medium that is a directory (what a
# mounted stick is to it): the new image lands in slot B byte for byte (cmp, sha256sum), the record
# is the bytes docs/updates.md lays out (read with od, not with our decoder), a second update first
# takes the pending slot out of the record, and every refusal (a bad --sha256, not a squashfs, a
# squashfs cut short, a damaged record, a mark-good outside the live system) exits 100 and leaves
# the medium as it was (a checksum of every file before and after).
# Disk layout: a directory m/ with live/root.sqfs (the minimal image), then live/root-b.sqfs and live/slots.
. "$(dirname "$0")/../lib/tap.sh"
U=$O/bin/overlive-update
[ -x "$U" ] || skip_all "build first: ./build.sh (no $U)"
command -v mksquashfs >/dev/null || skip_all "mksquashfs is not installed"
W=$(mktemp -d /tmp/overlive-update.XXXXXX)
trap 'rm -rf "$W"' EXIT
M=$W/m
mkdir -p "$M/live" "$W/tree/etc"
echo new > "$W/tree/etc/version"
head -c 300000 /dev/urandom > "$W/tree/etc/blob"
mksquashfs "$W/tree" "$W/new.sqfs" -noappend -no-progress -quiet >/dev/null
mksquashfs "$W/tree" "$M/live/root.sqfs" -noappend -no-progress -quiet -comp gzip >/dev/null
sum=$(sha256sum "$W/new.sqfs" | cut -c1-64)
medium_sum() { (cd "$M" && find . -type f | sort | xargs sha256sum) | sha256sum; }
# copy N: fields of copy N of live/slots as od prints its first 28 bytes, then its CRC's 4 bytes
copy() { od -v -An -tx1 -j $(($1 * 4096)) -N 32 "$M/live/slots" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

"$U" --status --medium "$M" > "$W/out" 2>&1
ok $? "--status on a medium without a record exits 0"
grep -q "record: none" "$W/out" && grep -q "slot B: .*root-b.sqfs, absent" "$W/out"
ok $? "  and says: no record, slot B absent"

"$U" "$W/new.sqfs" --sha256 "$sum" --medium "$M" > "$W/out" 2>&1
ok $? "an update with the right --sha256 exits 0"
cmp -s "$W/new.sqfs" "$M/live/root-b.sqfs"
ok $? "  slot B's file is the new image, byte for byte (cmp)"
(cd "$M/live" && sha256sum -c --status root-b.sqfs.sha256) && [ "$(cat "$M/live/root-b.sqfs.sha256")" = "$sum  root-b.sqfs" ]
ok $? "  its checksum beside it, root-b.sqfs.sha256, is sha256sum's line for it (sha256sum -c)"
[ "$(stat -c %s "$M/live/slots")" = 8192 ]
ok $? "  live/slots is 8192 bytes"
c0=$(copy 0)
is "${c0:0:83}" "4f 56 4c 53 4c 4f 54 53 01 00 00 00 1c 00 00 00 01 00 00 00 00 00 00 00 00 01 03 00" \
	"  copy 0: OVLSLOTS, version 1, length 28, generation 1, good A, pending B, 3 tries (the doc's table)"
is "$(copy 1)" "$(printf '00 %.0s' {1..32} | sed 's/ $//')" "  copy 1 is still zero"
"$U" --status --medium "$M" | grep -q "good A, pending B with 3 tries left"
ok $? "  --status says so"

# again: B is pending, so it is taken out of the record (generation 2) before it is written
"$U" "$W/new.sqfs" --medium "$M" > "$W/out" 2>&1
ok $? "a second update (B pending, not yet good) exits 0"
c0=$(copy 0) c1=$(copy 1)
is "${c1:0:83}" "4f 56 4c 53 4c 4f 54 53 01 00 00 00 1c 00 00 00 02 00 00 00 00 00 00 00 00 ff 00 00" \
	"  generation 2 went into copy 1 first: nothing pending while slot B was written"
is "${c0:48:35}" "03 00 00 00 00 00 00 00 00 01 03 00" "  then generation 3 into copy 0: B pending, 3 tries"

# refusals: exit 100, a message naming the thing, the medium as it was
before=$(medium_sum)
refused() {
	local want=$1
	shift
	"$U" "$@" > "$W/out" 2> "$W/err"
	is $? 100 "refused: $*"
	grep -qF -- "$want" "$W/err" || { diag "stderr: $(cat "$W/err")"; false; }
	ok $? "  the message says '$want'"
	is "$(medium_sum)" "$before" "  the medium is as it was"
}
refused "give the 64 hex digits" "$W/new.sqfs" --sha256 1234 --medium "$M"
refused "its SHA-256 is $sum, not the" "$W/new.sqfs" --sha256 "$(printf '0%.0s' {1..64})" --medium "$M"
refused "it is not a squashfs image" "$M/live/slots" --medium "$M"
head -c 40000 "$W/new.sqfs" > "$W/short.sqfs"
refused "it is cut short" "$W/short.sqfs" --medium "$M"
refused "does not say which slot booted" --mark-good --medium "$M"
refused "unable to tell what to do" --status "$W/new.sqfs" --medium "$M"
refused "unable to open the medium's directory" "$W/new.sqfs" --medium "$W/nothere"
# both copies damaged (a byte of each flipped): the record is refused, and nothing is written
printf 'X' | dd of="$M/live/slots" bs=1 seek=3 conv=notrunc status=none
printf 'X' | dd of="$M/live/slots" bs=1 seek=4099 conv=notrunc status=none
before=$(medium_sum)
refused "it is damaged" "$W/new.sqfs" --medium "$M"
# no record (all-zero live/slots) and a slot B file left by a first update a power cut stopped (on a
# stick it may be half made: its clusters not in the FAT or exFAT bitmap): it is made anew, not
# written in place; with a record, slot B's file is written in place (never truncated)
M2=$W/m2
mkdir -p "$M2/live" && cp "$M/live/root.sqfs" "$M2/live/"
head -c 700000 /dev/urandom > "$M2/live/root-b.sqfs"
head -c 8192 /dev/zero > "$M2/live/slots"
echo "left over" > "$M2/live/root-b.sqfs.sha256"
"$U" "$W/new.sqfs" --medium "$M2" > "$W/out" 2>&1
ok $? "an update over a leftover slot B file and no record exits 0"
cmp -s "$W/new.sqfs" "$M2/live/root-b.sqfs"
ok $? "  slot B's file is the new image and nothing after it (a new file: the leftover's tail is gone)"
[ "$(cat "$M2/live/root-b.sqfs.sha256")" = "$sum  root-b.sqfs" ]
ok $? "  and its checksum file is new too"
"$U" --status --medium "$M2" | grep -q "good A, pending B with 3 tries left"
ok $? "  the record says slot B pending"
head -c 4096 /dev/urandom >> "$M2/live/root-b.sqfs"
"$U" "$W/new.sqfs" --medium "$M2" > "$W/out" 2>&1 &&
	[ "$(stat -c %s "$M2/live/root-b.sqfs")" = $(($(stat -c %s "$W/new.sqfs") + 4096)) ] &&
	cmp -s -n "$(stat -c %s "$W/new.sqfs")" "$W/new.sqfs" "$M2/live/root-b.sqfs"
ok $? "  with a record, the next update writes slot B's file in place (the tail past the image stays)"

"$U" --help | grep -q "^usage: overlive-update NEW.sqfs"
ok $? "--help prints the usage"
done_testing
