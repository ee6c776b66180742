#!/bin/bash
# export-sqfs.t: persist export --squashfs (a layer in overlay form) and --merge (a whole root image),
# checked by readers that share no code with the writer: the kernel's overlayfs and squashfs, and
# unsquashfs. Random trees: opgen works on a real overlay over a squashfs lower it made; the upper is
# saved and exported; the layer mounted over the lower (overlay lowerdir=layer:lower, read-only)
# and the merged image mounted alone must equal the live merged view path by path (treesum: type,
# mode, owner, size, contents, mtime, symlink target, rdev, xattrs, which paths share an inode).
# squashfs keeps mtimes to the second: nanoseconds are left out of both sides; sockets (a tar
# cannot carry one to sqfstar) too; and the root directory's mtime (Debian's sqfstar 4.5.1 ignores
# -root-time: the layer's root has the export's time; its owner is checked, 0:0 on both sides). Odd seeds mount with redirect_dir=on: an upper with redirects
# must be refused with nothing written. Then a layer of every kind of entry listed by unsquashfs
# (-lln, and extracted with its xattrs); refusals (another lower, a full disk, a missing
# directory, a mtime squashfs cannot hold); persist init over a save file (the reset).
# Disk layout: tmpfs mounts under a temporary directory; the lower is a squashfs on a loop device.
# SQFS_SEEDS=N (default 8) cases of OPS=N (default 30) operations; SEED=N one case.
. "$(dirname "$0")/../lib/tap.sh"

: "${SEEDS:=${SQFS_SEEDS:-8}}" "${OPS:=30}"
. "$TOP/tests/lib/mounts.sh"
overlay_test opgen treesum census
for t in sqfstar mksquashfs unsquashfs; do
	command -v $t >/dev/null || skip_all "no $t (squashfs-tools)"
done

scratch_dir exq || bail "cannot make a scratch directory"
mkdir -p "$W/src" "$W/lower"
mount -t tmpfs -o size=256m tmpfs "$W/src" || bail "cannot mount tmpfs"
"$H/opgen" "$W/src" 7 600 lower
mksquashfs "$W/src" "$W/lower.sqfs" -noappend -quiet -no-progress -comp zstd >/dev/null || bail "mksquashfs"
mount -t squashfs -o ro,loop "$W/lower.sqfs" "$W/lower" || bail "cannot mount the lower squashfs"
LOWER=$W/lower

fresh() { mkdir -p "$1" && mount -t tmpfs -o size=512m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt" "$1/l" "$1/s" "$1/g"; }
# norm LISTING: seconds only (squashfs's mtimes), no sockets, and no link count of an entry not in
# the upper (the merged view counts a lower file's links in the lower, export.t says why)
norm() {
	awk 'NR == FNR { up[$0] = 1; next }
	     $2 !~ /^14/ { if (!($1 in up)) { sub(/ nlink=[^ ]*/, ""); sub(" link=" $1 "$", " link=-") } print }' \
		<(cd "$d/up" && find . -mindepth 1 -printf '%P\n'; echo .) "$1" |
		sed -E 's/ mtime=(-?[0-9]+)\.[0-9]+/ mtime=\1/; /^\. /s/ mtime=[0-9]+/ mtime=-/'
}
one() { printf '%s' "$1" | tr '\n' ' '; }
differs() { diff "$1" "$2" | grep '^[<>]' | head -n 8 | cut -c1-400 | sed 's/^/#   /'; }

# --- random trees: the layer stacked by the kernel, and the merged image, against the live view
nexp=0 nref=0
for ((s = ${SEED:-1}; s <= ${SEED:-$SEEDS}; s++)); do
	d=$W/c
	fresh "$d" || bail "tmpfs"
	XOPT=
	((s % 2)) && XOPT=,redirect_dir=on
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$d/up,workdir=$d/wk$XOPT" "$d/mnt" || bail "overlay (seed $s)"
	"$H/opgen" "$d/mnt" "$((s * 100))" "$OPS" >/dev/null 2>&1
	"$H/treesum" "$d/mnt" "$d/up" >"$d/view" || bail "treesum of the merged view (seed $s)"
	umount "$d/mnt"
	"$P" init --file "$d/save.dat" --size 64M --quiet &&
		"$P" save --upper "$d/up" --file "$d/save.dat" --lower "$W/lower.sqfs" --quiet || bail "seed $s: save"
	sum=$(md5sum <"$d/save.dat")
	redirects=$("$H/census" "$d/up" | tr ' ' '\n' | awk -F= '$1 == "redirects" { print $2 }')
	out=$("$P" export --file "$d/save.dat" --lower "$W/lower.sqfs" --squashfs "$d/l.sqfs" --quiet 2>&1)
	rc=$?
	if [ "${redirects:-0}" -gt 0 ]; then
		nref=$((nref + 1))
		case $out in *trusted.overlay.redirect*) m=ok ;; *) m=bad; diag "$out" ;; esac
		ok "$([ $rc = 100 ] && [ $m = ok ] && [ ! -e "$d/l.sqfs" ] && [ ! -e "$d/l.sqfs.tmp" ]; echo $?)" \
			"seed $s: an upper with $redirects redirects is refused (exit $rc), nothing written"
		umount "$d"
		continue
	fi
	nexp=$((nexp + 1))
	[ $rc = 0 ] || { diag "$out"; ok 1 "seed $s: export --squashfs"; umount "$d"; continue; }
	norm "$d/view" >"$d/want"
	mount -t squashfs -o ro,loop "$d/l.sqfs" "$d/l" &&
		mount -t overlay overlay -o "ro,lowerdir=$d/l:$LOWER" "$d/s" && "$H/treesum" "$d/s" "$d/l" >"$d/got"
	r=$?
	umount "$d/s" 2>/dev/null; umount "$d/l" 2>/dev/null
	if [ $r = 0 ]; then
		norm "$d/got" >"$d/got2"
		cmp -s "$d/want" "$d/got2" || differs "$d/want" "$d/got2"
		ok "$(cmp -s "$d/want" "$d/got2"; echo $?)" \
			"seed $s: the layer stacked on the lower by overlayfs gives the merged view ($(wc -l <"$d/want") paths)"
	else
		ok 1 "seed $s: mounting the layer failed"
	fi
	out=$("$P" export --file "$d/save.dat" --squashfs "$d/new.sqfs" --merge "$W/lower.sqfs" --quiet 2>&1)
	rc=$?
	[ $rc = 0 ] || diag "$out"
	mount -t squashfs -o ro,loop "$d/new.sqfs" "$d/g" && "$H/treesum" "$d/g" >"$d/mgot"
	r=$?
	umount "$d/g" 2>/dev/null
	norm "$d/mgot" >"$d/mgot2"
	cmp -s "$d/want" "$d/mgot2" || differs "$d/want" "$d/mgot2"
	ok "$([ $rc = 0 ] && [ $r = 0 ] && cmp -s "$d/want" "$d/mgot2"; echo $?)" \
		"seed $s: --merge's root image mounted alone gives the merged view"
	ls "$d" | grep -q 'tmp' && diag "left behind: $(ls "$d" | grep tmp)"
	ok "$(! ls "$d" | grep -q tmp; echo $?)" "seed $s: no temporary left beside the outputs"
	is "$(md5sum <"$d/save.dat")" "$sum" "seed $s: the save file is unchanged by export"
	umount "$d"
done
diag "$nexp layers stacked and merged, $nref uppers with redirects refused"

# --- every kind of entry, listed by unsquashfs (a reader that is not the kernel's)
k=$W/k
fresh "$k" || bail tmpfs
u=$k/up
mkdir -p "$u/d" "$u/o"
printf 'hello\n' >"$u/d/f"; ln "$u/d/f" "$u/d/g"; ln "$u/d/f" "$u/h"
chown 1000:100 "$u/d/f"; chmod 0640 "$u/d/f"; setfattr -n user.a -v b "$u/d/f"
ln -s ../target "$u/s"; mknod "$u/c" c 1 3; mknod "$u/b" b 7 0; mkfifo "$u/p"; mknod "$u/w" c 0 0
setfattr -n trusted.overlay.opaque -v y "$u/o"; echo a >"$u/o/a"
echo cap >"$u/cap"; setcap cap_net_raw+ep "$u/cap" || bail "setcap"
chown 5:6 "$u/d"; chmod 0750 "$u/d"
find "$u" -exec touch -h -d @1234567890 {} +
"$P" init --file "$k/save.dat" --size 16M --quiet && "$P" save --upper "$u" --file "$k/save.dat" --quiet || bail "save"
out=$("$P" export --file "$k/save.dat" --squashfs "$k/k.sqfs" 2>&1)
ok $? "a layer of every kind of entry exported: $(one "$out")"
# type+mode owner size-or-device mtime name (-> target)
unsquashfs -lln "$k/k.sqfs" 2>/dev/null |
	sed -E 's/ +/ /g; s/ [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5} / /; s| squashfs-root| |; s|  | |' >"$k/list"
cat >"$k/want" <<'EOF'
drwxr-xr-x 0/0 
brw-r--r-- 0/0 7, 0 /b
-rw-r--r-- 0/0 4 /cap
crw-r--r-- 0/0 1, 3 /c
drwxr-x--- 5/6 /d
-rw-r----- 1000/100 6 /d/f
-rw-r----- 1000/100 6 /d/g
-rw-r----- 1000/100 6 /h
drwxr-xr-x 0/0 /o
-rw-r--r-- 0/0 2 /o/a
prw-r--r-- 0/0 0 /p
lrwxrwxrwx 0/0 9 /s -> ../target
crw-r--r-- 0/0 0, 0 /w
EOF
sed -E 's/^(d[^ ]+ [^ ]+) [0-9]+ /\1 /' "$k/list" | sort >"$k/list2"
sort "$k/want" | diff - "$k/list2" | sed 's/^/#   /'
is "$(sed -E 's/^(d[^ ]+ [^ ]+) [0-9]+ /\1 /' "$k/list" | sort | md5sum)" "$(sort "$k/want" | md5sum)" \
	"unsquashfs lists every entry: the whiteout a 0/0 character device, owners numeric, the devices, the symlink"
unsquashfs -lln "$k/k.sqfs" 2>/dev/null | grep -q ' 2009-02-13 23:31 squashfs-root/d/f$'
ok $? "mtimes kept (to the second; the root's too)"
unsquashfs -q -d "$k/x" "$k/k.sqfs" >/dev/null 2>&1
is "$(getfattr --only-values -n trusted.overlay.opaque "$k/x/o" 2>/dev/null)" y \
	"unsquashfs extracts the opaque directory's trusted.overlay.opaque=y"
is "$(getfattr --only-values -n user.a "$k/x/d/f" 2>/dev/null) $(getcap "$k/x/cap" | awk '{ print $2 }')" \
	"b cap_net_raw=ep" "and the user xattr and the file capability"
is "$(stat -c '%i %h' "$k/x/d/f") $(stat -c '%i' "$k/x/d/g" "$k/x/h" | tr '\n' ' ')" \
	"$(stat -c '%i %h' "$k/x/d/f") $(stat -c '%i' "$k/x/d/f" "$k/x/d/f" | tr '\n' ' ')" \
	"the three names of the hardlink group are one inode with 3 links"
is "$(getfattr -d -m- -h "$k/x/w" 2>/dev/null | grep -c =)" 0 "the whiteout carries no xattr"

# --- refusals: a clear error, nothing left behind, the save file untouched
: >"$u/neg"; touch -h -d @-1 "$u/neg"
"$P" init --file "$k/n.dat" --size 16M --quiet && "$P" save --upper "$u" --file "$k/n.dat" --quiet
out=$("$P" export --file "$k/n.dat" --squashfs "$k/n.sqfs" 2>&1); rc=$?
case $out in *neg*1970*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 100 ] && [ $m = 0 ] && [ ! -e "$k/n.sqfs" ] && [ ! -e "$k/n.sqfs.tmp" ]; echo $?)" \
	"a mtime before 1970 is refused, naming the file (exit $rc): $(one "$out")"
rm -f "$u/neg"
"$P" init --file "$k/l.dat" --size 16M --quiet && "$P" save --upper "$u" --file "$k/l.dat" --lower "$W/lower.sqfs" --quiet
sum=$(md5sum <"$k/l.dat")
echo other >"$k/other.sqfs"
out=$("$P" export --file "$k/l.dat" --lower "$k/other.sqfs" --squashfs "$k/o.sqfs" 2>&1); rc=$?
case $out in *"use --any-lower"*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 100 ] && [ $m = 0 ] && [ ! -e "$k/o.sqfs" ] && [ ! -e "$k/o.sqfs.tmp" ]; echo $?)" \
	"a save made over another lower is refused (exit $rc), nothing written: $(one "$out")"
out=$("$P" export --file "$k/l.dat" --squashfs "$k/o.sqfs" --merge "$k/other.sqfs" 2>&1); rc=$?
ok "$([ $rc = 100 ] && [ ! -e "$k/o.sqfs" ] && [ ! -e "$k/o.sqfs.tmp" ] && [ ! -e "$k/o.sqfs.layer.tmp" ]; echo $?)" \
	"--merge over another lower than the save's is refused too (exit $rc)"
"$P" export --file "$k/l.dat" --lower "$k/other.sqfs" --any-lower --squashfs "$k/o.sqfs" --quiet 2>/dev/null
ok $? "--any-lower exports it"
out=$("$P" export --file "$k/l.dat" --squashfs "$k/nodir/o.sqfs" 2>&1); rc=$?
case $out in *nodir/o.sqfs.tmp*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 111 ] && [ $m = 0 ]; echo $?)" "OUT in a missing directory: exit $rc: $(one "$out")"
out=$("$P" export --file "$k/l.dat" --squashfs - 2>&1); rc=$?
is "$rc" 100 "a squashfs to standard output: usage error: $(one "$out")"
out=$("$P" export --file "$k/l.dat" --squashfs "$k/o2.sqfs" --zstd 2>&1); rc=$?
is "$rc" 100 "--squashfs with --zstd: usage error"
f=$W/full
mkdir -p "$f" && mount -t tmpfs -o size=2m tmpfs "$f" || bail tmpfs
head -c 3M /dev/urandom >"$u/big"
"$P" init --file "$k/b.dat" --size 16M --quiet && "$P" save --upper "$u" --file "$k/b.dat" --quiet
out=$("$P" export --file "$k/b.dat" --squashfs "$f/b.sqfs" 2>&1); rc=$?
ok "$([ $rc = 111 ] && [ -z "$(ls "$f")" ]; echo $?)" "a full disk: exit $rc, nothing left behind: $(one "$out" | cut -c1-300)"
rm -f "$u/big"
is "$(md5sum <"$k/l.dat")" "$sum" "the save file is unchanged by every export"

# --- persist init over a save file: the reset after a remaster
out=$("$P" init --file "$k/l.dat" </dev/null 2>&1); rc=$?
ok "$([ $rc = 100 ] && [ "$(md5sum <"$k/l.dat")" = "$sum" ]; echo $?)" \
	"no terminal and no --yes: refused (exit $rc), the save file untouched: $(one "$out")"
out=$("$P" init --file "$k/l.dat" --size 8M --yes 2>&1); rc=$?
ok "$([ $rc = 100 ] && [ "$(md5sum <"$k/l.dat")" = "$sum" ]; echo $?)" "--size over a save file: refused: $(one "$out")"
if command -v script >/dev/null; then
	out=$(printf 'no\n' | script -qec "$P init --file $k/l.dat" /dev/null 2>&1); rc=$?
	ok "$([ $rc = 100 ] && [ "$(md5sum <"$k/l.dat")" = "$sum" ]; echo $?)" "on a terminal, answered no: untouched"
	out=$(printf 'yes\n' | script -qec "$P init --file $k/l.dat" /dev/null 2>&1); rc=$?
	ok "$([ $rc = 0 ] && [ "$(md5sum <"$k/l.dat")" != "$sum" ]; echo $?)" "on a terminal, answered yes: reset: $(one "$out" | tr -d '\r')"
fi
"$P" save --upper "$u" --file "$k/l.dat" --quiet
size=$(stat -c %s "$k/l.dat")
out=$("$P" init --file "$k/l.dat" --yes 2>&1); rc=$?
mkdir "$k/r"
"$P" restore --file "$k/l.dat" --into "$k/r" --quiet 2>/dev/null
ok "$([ $rc = 0 ] && [ -z "$(ls -A "$k/r")" ] && [ "$(stat -c %s "$k/l.dat")" = "$size" ]; echo $?)" \
	"--yes resets it: a restore gives nothing, the size is kept: $(one "$out")"
"$P" log --file "$k/l.dat" | awk 'NR > 1' >"$k/log"
is "$(wc -l <"$k/log") $(awk '{ print $4 }' "$k/log")" "1 0" "persist log: one generation, of no entries"
"$P" save --upper "$u" --file "$k/l.dat" --quiet && "$P" verify --file "$k/l.dat" >/dev/null
ok $? "the reset save file takes a save again and verifies"
echo notasave >"$k/plain"
out=$("$P" init --file "$k/plain" --size 4M --yes 2>&1); rc=$?
ok "$([ $rc = 100 ] && [ "$(cat "$k/plain")" = notasave ]; echo $?)" "a file that is not a save file is never replaced: $(one "$out")"
done_testing
