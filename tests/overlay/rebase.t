#!/bin/bash
# rebase.t: saved changes carried from one image onto the next (persist rebase, conflicts).
# OLD and NEW are squashfs images made by mksquashfs from trees; the user's changes are made by
# the real kernel overlayfs over OLD (each kind of change: an edit, a chmod of a file the update
# changes, of one it keeps, of one it removes, deletions of files the update removes, keeps and
# changes, a copy-up with nothing changed, new files, a hardlink pair, a file both changed, a
# directory replaced, a symlink retargeted), saved, rebased onto NEW, restored and mounted over
# NEW. The merged view is compared, by treesum (every field and which paths share an inode),
# with an expected tree made from NEW and the user's view by cp -a and the rules of
# docs/updates.md written here in shell (not with persist's code). Also: the conflicts listed
# exactly, a dry run changes no byte of the save file, the old generation still restores over
# OLD, the lower identity recorded is NEW's, a cut-short NEW.sqfs changes nothing.
# Disk layout: two squashfs images loop-mounted and tmpfs uppers under a temporary directory.
. "$(dirname "$0")/../lib/tap.sh"

. "$TOP/tests/lib/mounts.sh"
overlay_test treesum
need mksquashfs -- squashfs-tools
grep -qw squashfs /proc/filesystems || skip_all "no squashfs in this kernel"

scratch_dir rebase || bail "cannot make a scratch directory"
# OLD: the image the user's save is made over
o=$W/old-tree
mkdir -p "$o/etc" "$o/dgone" "$o/dkeep" "$o/home" "$o/usr"
for f in edited chmodupd chmodsame removed keptdel delchanged both touched chmodgone; do
	echo "old $f" >"$o/etc/$f"
done
echo "gone dir" >"$o/dgone/x"; echo "kept dir" >"$o/dkeep/y"
ln -s edited "$o/etc/link"
touch -d 2020-01-01 "$o"/etc/* "$o"/dgone/* "$o"/dkeep/*
# NEW: the update: changes some of them, removes some, adds some
n=$W/new-tree
cp -a "$o" "$n"
for f in chmodupd delchanged both touched; do echo "new $f, longer than before" >"$n/etc/$f"; done
rm -r "$n/etc/removed" "$n/etc/chmodgone" "$n/dgone"
echo "update's" >"$n/usr/newboth"; echo "added" >"$n/dkeep/added"; echo "only new" >"$n/etc/newonly"
touch -d 2024-06-01 "$n/etc/chmodupd"
mksquashfs "$o" "$W/old.sqfs" -quiet -no-progress >/dev/null && mksquashfs "$n" "$W/new.sqfs" -quiet -no-progress >/dev/null ||
	bail "mksquashfs failed"
mkdir "$W/oldmnt" "$W/newmnt"
mount -t squashfs -o loop,ro "$W/old.sqfs" "$W/oldmnt" && mount -t squashfs -o loop,ro "$W/new.sqfs" "$W/newmnt" ||
	bail "cannot mount the images"

fresh() { mkdir -p "$1" && mount -t tmpfs -o size=64m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt"; }
ovl() { mount -t overlay overlay -o "lowerdir=$2,upperdir=$1/up,workdir=$1/wk" "$1/mnt"; }

# the user's changes, through the merged view over OLD
u=$W/user
fresh "$u" && ovl "$u" "$W/oldmnt" || bail "cannot mount the user's overlay"
(
	cd "$u/mnt" || exit 1
	echo "my edit" >>etc/edited               # content: kept (the update left it)
	chmod 600 etc/chmodupd                     # metadata only, the update changed it: new content, my mode
	chmod 600 etc/chmodsame                    # metadata only, the update left it: kept
	chmod 600 etc/chmodgone                    # metadata only, the update removed it: conflict
	rm etc/removed                             # the update removed it too: the whiteout goes
	rm etc/keptdel                             # the update kept it: stays deleted
	rm etc/delchanged                          # the update changed it: conflict, stays deleted
	echo "mine" >>etc/both                     # both changed: conflict, mine kept
	chown 0:0 etc/touched                      # a copy-up with nothing changed: dropped, the new shows
	rm -r dgone && mkdir dgone && echo "my dir" >dgone/m   # opaque over a directory the update removed
	rm -r dkeep && mkdir dkeep && echo "mine" >dkeep/z     # opaque over one it keeps: stays opaque
	echo "new" >home/new.txt && ln home/new.txt home/link.txt
	echo "mine" >usr/newboth                   # both made it: conflict
	ln -sfn chmodsame etc/link                 # a symlink retargeted
) || bail "the user's changes failed"
getfattr -n trusted.overlay.opaque --only-values "$u/up/dgone" 2>/dev/null | grep -qx y ||
	bail "overlayfs made no opaque directory: the test's premise"
# the user's view, copied for the expected tree
mkdir "$W/view" && cp -a "$u/mnt/." "$W/view/" || bail "cp -a of the user's view"

S=$W/save.dat
"$P" init --file "$S" --size 8M --quiet && "$P" save --upper "$u/up" --file "$S" --lower "$W/old.sqfs" --quiet ||
	bail "persist init/save"
umount "$u/mnt"
g0=$("$P" log --file "$S" | awk 'END { print $1 }')

# a cut-short NEW changes nothing
bytes_used=$(od -An -t u8 -j 40 -N 8 "$W/new.sqfs")   # the superblock's (mksquashfs pads the file to 4 KiB)
head -c $((bytes_used / 2)) "$W/new.sqfs" >"$W/short.sqfs"
sum0=$(sha256sum <"$S")
out=$("$P" rebase --file "$S" --old "$W/old.sqfs" --new "$W/short.sqfs" 2>&1); st=$?
is "$st" 100 "a cut-short NEW.sqfs: exit 100"
case $out in *"short.sqfs is cut short"*"nothing was changed"*) r=0 ;; *) r=1; diag "$out" ;; esac
ok $r "... naming the image and what was not done"
is "$(sha256sum <"$S")" "$sum0" "... and the save file's bytes are unchanged"
# --old is not the image the save was made over
"$P" rebase --file "$S" --old "$W/new.sqfs" --new "$W/new.sqfs" >/dev/null 2>&1
is "$?" 100 "--old that is not the image the save was made over: refused"

# the dry run: what would happen, no byte written
dry=$("$P" rebase --file "$S" --old "$W/old.sqfs" --new "$W/new.sqfs" --dry-run)
is "$(sha256sum <"$S")" "$sum0" "--dry-run: the save file's bytes are unchanged"
want_plan='conflict etc/both
conflict etc/chmodgone
conflict etc/delchanged
conflict usr/newboth
dropped etc/touched
dropped-opaque dgone
dropped-whiteout etc/removed
kept dgone/m
kept dkeep
kept dkeep/z
kept etc/chmodsame
kept etc/edited
kept etc/keptdel
kept etc/link
kept home/link.txt
kept home/new.txt
new-content etc/chmodupd'
is "$(echo "$dry" | awk '!/^persist:/ { print $1, $2 }' | LC_ALL=C sort)" "$want_plan" "--dry-run: the action for every path"
dj=$("$P" rebase --file "$S" --old "$W/old.sqfs" --new "$W/new.sqfs" --dry-run --json)
python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if {x["path"] for x in d if x["action"]=="conflict"} == {"etc/both","etc/chmodgone","etc/delchanged","usr/newboth"} else 1)' <<<"$dj"
ok $? "--dry-run --json: valid JSON with the same conflicts"

out=$("$P" rebase --file "$S" --old "$W/old.sqfs" --new "$W/new.sqfs")
ok $? "rebase onto NEW: $(echo "$out" | tail -1)"
g1=$("$P" log --file "$S" | awk 'END { print $1 }')
is "$g1" "$((g0 + 1))" "the rebase is one new generation"
is "$("$P" conflicts --file "$S" | awk '{ print $2 }')" "etc/both
etc/chmodgone
etc/delchanged
usr/newboth" "persist conflicts lists exactly the paths both changed"
"$P" verify --file "$S" >/dev/null
ok $? "persist verify: the file is good"

# the expected merged view: NEW, then the user's view where the rules say the user's wins
e=$W/expect
mkdir "$e" && cp -a "$W/newmnt/." "$e/"
for p in etc/edited etc/chmodsame etc/chmodgone etc/both etc/link usr/newboth home/new.txt; do
	rm -rf "${e:?}/$p"
done
(cd "$W/view" && cp -a --parents etc/edited etc/chmodsame etc/chmodgone etc/both etc/link usr/newboth \
	home/new.txt home/link.txt "$e/")
rm -f "$e/etc/keptdel" "$e/etc/delchanged"
rm -rf "$e/dgone" "$e/dkeep" && cp -a "$W/view/dgone" "$W/view/dkeep" "$e/"
chmod 600 "$e/etc/chmodupd"           # the new content and mtime, the user's mode
# the directories of the user's upper show the user's metadata
(cd "$u/up" && find . -type d) | while read -r d; do
	chmod --reference="$W/view/$d" "$e/$d" && chown --reference="$W/view/$d" "$e/$d" && touch -h -r "$W/view/$d" "$e/$d"
done

r=$W/r
fresh "$r" || bail tmpfs
"$P" restore --file "$S" --into "$r/up" --lower "$W/new.sqfs" --quiet
ok $? "the rebased generation restores over NEW (its lower identity is NEW's)"
ovl "$r" "$W/newmnt" || bail "cannot mount the restored overlay"
"$H/treesum" "$r/mnt" "$r/up" >"$W/got.sum"; "$H/treesum" "$e" >"$W/want.sum"
cmp -s "$W/got.sum" "$W/want.sum"
ok $? "the merged view over NEW is the expected tree (treesum: every field, shared inodes)" ||
	diff "$W/want.sum" "$W/got.sum" | head -20 | sed 's/^/#   /'
is "$(cd "$r/up" && find . -type c | sort)" "./etc/delchanged
./etc/keptdel" "the restored upper holds the whiteouts of the paths NEW still has, and no other"
getfattr -n trusted.overlay.opaque --only-values "$r/up/dgone" >/dev/null 2>&1
is "$?" 1 "the opaque xattr over the directory NEW removed is gone"
is "$(getfattr -n trusted.overlay.opaque --only-values "$r/up/dkeep" 2>/dev/null)" y "... and stays over the one NEW kept"
[ ! -e "$r/up/etc/touched" ] && [ ! -e "$r/up/etc/chmodupd" ] || [ "$(cat "$r/up/etc/chmodupd")" = "new chmodupd, longer than before" ]
ok $? "the dropped copy-up is not in the upper; the metadata-only one holds the new content"
[ ! -e "$r/up/$(echo .persist-conflicts)" ]
ok $? "the conflicts list is not restored into the upper"
umount "$r/mnt" "$r"

# the old generation stays for rollback: over OLD it is the user's view
fresh "$r" || bail tmpfs
"$P" restore --file "$S" --into "$r/up" --lower "$W/new.sqfs" --at "$g0" --quiet 2>/dev/null
is "$?" 100 "the old generation over NEW: refused (it was saved over OLD)"
"$P" restore --file "$S" --into "$r/up" --lower "$W/old.sqfs" --at "$g0" --quiet && ovl "$r" "$W/oldmnt"
ok $? "the old generation restores over OLD"
"$H/treesum" "$r/mnt" "$r/up" >"$W/got0.sum"; "$H/treesum" "$W/view" >"$W/want0.sum"
cmp -s "$W/got0.sum" "$W/want0.sum"
ok $? "... and shows the user's view as it was (compared with its cp -a copy)" ||
	diff "$W/want0.sum" "$W/got0.sum" | head -10 | sed 's/^/#   /'
umount "$r/mnt" "$r"
# booted on OLD again (the new slot failed its tries): the newest generation saved over OLD
fresh "$r" || bail tmpfs
out=$("$P" restore --file "$S" --into "$r/up" --lower "$W/old.sqfs" 2>&1) && ovl "$r" "$W/oldmnt"
ok $? "without --at over OLD: restores the newest generation saved over OLD"
case $out in *"generation $g1 of $S is over another image than $W/old.sqfs: restoring generation $g0"*) st=0 ;;
	*) st=1; diag "$out" ;; esac
ok $st "... and says which and why"
"$H/treesum" "$r/mnt" "$r/up" >"$W/got0b.sum"
cmp -s "$W/got0b.sum" "$W/want0.sum"
ok $? "... which is the user's view as it was"
umount "$r/mnt" "$r"

# a rebase that fails while it writes (the save file is full) changes nothing a restore reads
n2=$W/new2-tree
cp -a "$n" "$n2" && head -c 300000 /dev/urandom >"$n2/etc/chmodupd"   # does not compress, > half of S2
mksquashfs "$n2" "$W/new2.sqfs" -quiet -no-progress >/dev/null || bail "mksquashfs failed"
S2=$W/small.dat
"$P" init --file "$S2" --size 136K --quiet && "$P" save --upper "$u/up" --file "$S2" --lower "$W/old.sqfs" --quiet ||
	bail "persist init/save of the small save file"
log0=$("$P" log --file "$S2"); head0=$(head -c 8192 "$S2" | sha256sum)
out=$("$P" rebase --file "$S2" --old "$W/old.sqfs" --new "$W/new2.sqfs" 2>&1); st=$?
case $st:$out in 111:*"the save file is full: make room with persist compact"*"nothing was changed"*) st=0 ;;
	*) diag "exit $st: $out"; st=1 ;; esac
ok $st "a rebase that does not fit in the save file fails, saying what to do"
is "$(head -c 8192 "$S2" | sha256sum)" "$head0" "... both header slots are unchanged"
is "$("$P" log --file "$S2")" "$log0" "... the generations are the same"
"$P" verify --file "$S2" >/dev/null
ok $? "... and the file verifies"

# rebasing again: it is over NEW already
out=$("$P" rebase --file "$S" --old "$W/old.sqfs" --new "$W/new.sqfs")
case $out in *"over $W/new.sqfs already"*) r=0 ;; *) r=1; diag "$out" ;; esac
ok $r "a second rebase onto NEW: nothing to do"
is "$("$P" log --file "$S" | awk 'END { print $1 }')" "$g1" "... and nothing written"
done_testing
