#!/bin/bash
# export.t: persist export --oci-layer, checked by readers that share no code with its writer.
# Random trees: the equivalence test's generator (opgen) works on a real overlay over a lower it
# made; the upper is saved, exported as an OCI layer (plain, zstd or gzip by seed), and the layer
# applied over a copy of the lower by an independent applier (ociapply.py: Python's tarfile and
# the spec's whiteout rules; and umoci, when installed, through an OCI layout of two layers); the
# result must equal the merged view path by path (treesum: type, mode, owner, size, contents,
# mtime, symlink target, rdev, xattrs, which paths share an inode). Sockets, which a tar cannot
# hold, are left out of both sides. Odd seeds mount with redirect_dir=on: an upper with redirects
# must be refused, naming the attribute, with nothing written.
# Then a layer holding every kind of entry, listed entry by entry by tarfile and GNU tar; a save
# made over another lower (refused unless --any-lower); bad input; the save file never written.
# Disk layout: everything on tmpfs mounts under a temporary directory; the lower is a directory.
# EXPORT_SEEDS=N (default 16) cases of OPS=N (default 30) operations; SEED=N one case.
. "$(dirname "$0")/../lib/tap.sh"

: "${SEEDS:=${EXPORT_SEEDS:-16}}" "${OPS:=30}"
. "$TOP/tests/lib/mounts.sh"
overlay_test opgen treesum census
command -v python3 >/dev/null || skip_all "no python3 (the independent applier)"
APPLY=$TOP/tests/overlay/ociapply.py
UMOCI=$(command -v umoci)

scratch_dir ex || bail "cannot make a scratch directory"
mkdir -p "$W/lower"
mount -t tmpfs -o size=256m tmpfs "$W/lower" || bail "cannot mount tmpfs"
"$H/opgen" "$W/lower" 7 600 lower
LOWER=$W/lower
mount -o remount,ro "$LOWER"
# the lower as a layer of its own (GNU tar), for umoci's image
if [ -n "$UMOCI" ]; then
	tar -C "$LOWER" --xattrs --xattrs-include='*' --numeric-owner -cf "$W/lower.tar" . 2>/dev/null ||
		bail "cannot tar the lower"
fi

fresh() { mkdir -p "$1" && mount -t tmpfs -o size=512m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt"; }
overlay() { mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$1/up,workdir=$1/wk$XOPT" "$1/mnt"; }
# nosock LISTING: without sockets (treesum's mode 14xxxx), and without the link count of an entry
# not in the upper: the merged view shows a lower file's count from the lower, which still counts
# the names of its group that were copied up (the applied layer does not: they were replaced), and
# so names itself as its group when all the others were
nosock() {
	awk 'NR == FNR { up[$0] = 1; next }
	     $2 !~ /^14/ { if (!($1 in up)) { sub(/ nlink=[^ ]*/, ""); sub(" link=" $1 "$", " link=-") } print }' \
		<(cd "$d/up" && find . -mindepth 1 -printf '%P\n'; echo .) "$1"
}
one() { printf '%s' "$1" | tr '\n' ' '; }	# a message on one line, for a test's name
differs() { diff "$1" "$2" | grep '^[<>]' | head -n 8 | cut -c1-400 | sed 's/^/#   /'; }

# apply_py LAYER OUT: the lower copied, the layer applied by ociapply.py, listed
apply_py() {
	local a=$W/a
	mkdir -p "$a" && mount -t tmpfs -o size=512m tmpfs "$a" || return 1
	cp -a --preserve=all "$LOWER/." "$a/" && python3 "$APPLY" "$1" "$a" && "$H/treesum" "$a" "$a" >"$2"
	local rc=$?
	umount "$a"
	return $rc
}
# apply_umoci LAYER OUT: an OCI layout of the lower's layer and this one, unpacked by umoci
apply_umoci() {
	local a=$W/u rc
	mkdir -p "$a" && mount -t tmpfs -o size=512m tmpfs "$a" || return 1
	umoci init --layout "$a/img" && umoci new --image "$a/img:t" &&
		umoci raw add-layer --image "$a/img:t" "$W/lower.tar" &&
		umoci raw add-layer --image "$a/img:t" "$1" &&
		umoci raw unpack --image "$a/img:t" "$a/root" >/dev/null && "$H/treesum" "$a/root" "$a/root" >"$2"
	rc=$?
	umount "$a"
	return $rc
}

# --- random trees
nexp=0 nref=0 nsock=0
for ((s = ${SEED:-1}; s <= ${SEED:-$SEEDS}; s++)); do
	d=$W/c
	fresh "$d" || bail "tmpfs"
	XOPT=
	((s % 2)) && XOPT=,redirect_dir=on
	overlay "$d" || bail "cannot mount the overlay (seed $s)"
	"$H/opgen" "$d/mnt" "$((s * 100))" "$OPS" >/dev/null 2>&1
	"$H/treesum" "$d/mnt" "$d/up" >"$d/view" || bail "treesum of the merged view (seed $s)"
	umount "$d/mnt"
	"$P" init --file "$d/save.dat" --size 64M --quiet && "$P" save --upper "$d/up" --file "$d/save.dat" --quiet ||
		bail "seed $s: persist save failed"
	sum=$(md5sum <"$d/save.dat")
	case $((s % 3)) in 0) c=(--zstd) l=$d/l.tar.zst ;; 1) c=(--gzip) l=$d/l.tar.gz ;; *) c=() l=$d/l.tar ;; esac
	redirects=$("$H/census" "$d/up" | tr ' ' '\n' | awk -F= '$1 == "redirects" { print $2 }')
	out=$("$P" export --file "$d/save.dat" --oci-layer "$l" "${c[@]}" --quiet 2>&1)
	rc=$?
	if [ "${redirects:-0}" -gt 0 ]; then
		nref=$((nref + 1))
		case $out in *trusted.overlay.redirect*) m=ok ;; *) m=bad ;; esac
		ok "$([ $rc = 100 ] && [ $m = ok ] && [ ! -e "$l" ] && [ ! -e "$l.tmp" ]; echo $?)" \
			"seed $s: an upper with $redirects redirects is refused (exit $rc), nothing written"
		[ $m = ok ] || diag "$out"
	else
		nexp=$((nexp + 1))
		[ $rc = 0 ] || { diag "$out"; ok 1 "seed $s: export"; umount "$d"; continue; }
		case $out in *socket*) nsock=$((nsock + 1)) ;; esac
		lt=$l
		# tarfile reads gzip itself; umoci's add-layer takes a plain tar (it compresses it itself)
		[ "${c[0]}" = --zstd ] && { zstd -qdc "$l" >"$d/l.tar" || bail "zstd -d"; lt=$d/l.tar; }
		[ "${c[0]}" = --gzip ] && { gzip -dc "$l" >"$d/l.tar" || bail "gzip -d"; lt=$d/l.tar; }
		nosock "$d/view" >"$d/want"
		if apply_py "$lt" "$d/got"; then
			nosock "$d/got" >"$d/got2"
			cmp -s "$d/want" "$d/got2" || differs "$d/want" "$d/got2"
			ok "$(cmp -s "$d/want" "$d/got2"; echo $?)" \
				"seed $s${c:+ ${c[0]}}: the layer applied by tarfile over the lower gives the merged view ($(wc -l <"$d/want") paths)"
		else
			ok 1 "seed $s: ociapply.py failed"
		fi
		if [ -n "$UMOCI" ]; then
			if apply_umoci "$lt" "$d/ugot" 2>"$d/uerr"; then
				# an empty xattr value: a pax record without a value deletes the key (POSIX), so Go's
				# archive/tar (umoci, docker, containerd) drops it; GNU tar and tarfile keep it
				nosock "$d/ugot" >"$d/ugot2"
				sed 's/ [^ =]*= / /g' "$d/want" >"$d/uwant"
				cmp -s "$d/uwant" "$d/ugot2" || differs "$d/uwant" "$d/ugot2"
				ok "$(cmp -s "$d/uwant" "$d/ugot2"; echo $?)" "seed $s: umoci's unpack of lower + layer gives the merged view"
			else
				ok 1 "seed $s: umoci failed: $(tail -n 2 "$d/uerr")"
			fi
		fi
	fi
	is "$(md5sum <"$d/save.dat")" "$sum" "seed $s: the save file is unchanged by export"
	umount "$d"
done
diag "$nexp layers applied, $nref uppers with redirects refused, $nsock with sockets left out"

# --- every kind of entry, listed entry by entry by tarfile (and GNU tar for links and xattrs)
k=$W/k
fresh "$k" || bail tmpfs
u=$k/up
xs=$(printf 'x%.0s' {1..60}) ys=$(printf 'y%.0s' {1..60})
long=l/$xs/$ys
mkdir -p "$u/d" "$u/o" "$u/o-b" "$u/l/$xs"
printf 'hello\n' >"$u/d/f"; ln "$u/d/f" "$u/d/g"; ln "$u/d/f" "$u/h"
chown 1000:100 "$u/d/f"; chmod 0640 "$u/d/f"; setfattr -n user.a -v b "$u/d/f"
truncate -s 1M "$u/sp"; printf x | dd of="$u/sp" bs=1 seek=524288 conv=notrunc status=none
ln -s ../target "$u/s"; mknod "$u/c" c 1 3; mknod "$u/b" b 7 0; mkfifo "$u/p"; mknod "$u/w" c 0 0
setfattr -n trusted.overlay.opaque -v y "$u/o"; echo a >"$u/o/a"; echo ob >"$u/o-b/z"
echo cap >"$u/cap"; setcap cap_net_raw+ep "$u/cap" || bail "setcap"
echo long >"$u/$long"; echo neg >"$u/neg"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$u/so"
chown 5:6 "$u/d"; chmod 0750 "$u/d"
find "$u" -exec touch -h -d @1234567890 {} +
touch -d @1234567890.123456789 "$u/d/f"; touch -d @-1.5 "$u/neg"	# before 1970, with a fraction
"$P" init --file "$k/save.dat" --size 16M --quiet && "$P" save --upper "$u" --file "$k/save.dat" --quiet || bail "save"
out=$("$P" export --file "$k/save.dat" --oci-layer "$k/k.tar" 2>&1)
ok $? "a layer of every kind of entry exported"
case $out in *"1 socket left out"*so*) r=0 ;; *) r=1; diag "$out" ;; esac
ok $r "the socket is named in a warning"
# name type mode uid gid size link dev mtime uname gname sparse xattrs, in archive order (tarfile)
python3 -c '
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    x = " ".join("%s=%s" % (k[13:], v.encode("utf-8", "surrogateescape").hex())
                 for k, v in sorted(m.pax_headers.items()) if k.startswith("SCHILY.xattr."))
    dev = "%d,%d" % (m.devmajor, m.devminor) if m.ischr() or m.isblk() else "-"
    print(m.name + "/" if m.isdir() else m.name, m.type.decode(), "%o" % m.mode, m.uid, m.gid, m.size, m.linkname or "-", dev,
          m.pax_headers.get("mtime", str(m.mtime)), m.uname or "-", m.gname or "-", m.issparse(), x)
' "$k/k.tar" >"$k/list"
T=1234567890
cat >"$k/want" <<EOF
./ 5 755 0 0 0 - - $T - - False 
.wh.so 0 0 0 0 0 - - $T - - False 
.wh.w 0 0 0 0 0 - - $T - - False 
b 4 644 0 0 0 - 7,0 $T - - False 
c 3 644 0 0 0 - 1,3 $T - - False 
cap 0 644 0 0 4 - - $T - - False security.capability=0100000200200000000000000000000000000000
d/ 5 750 5 6 0 - - $T - - False 
d/f 0 640 1000 100 6 - - $T.123456789 - - False user.a=62
d/g 1 640 1000 100 0 d/f - $T.123456789 - - False 
h 1 640 1000 100 0 d/f - $T.123456789 - - False 
l/ 5 755 0 0 0 - - $T - - False 
l/$xs/ 5 755 0 0 0 - - $T - - False 
$long 0 644 0 0 5 - - $T - - False 
neg 0 644 0 0 4 - - -1.500000000 - - False 
o/ 5 755 0 0 0 - - $T - - False 
o/.wh..wh..opq 0 0 0 0 0 - - $T - - False 
o/a 0 644 0 0 2 - - $T - - False 
o-b/ 5 755 0 0 0 - - $T - - False 
o-b/z 0 644 0 0 3 - - $T - - False 
p 6 644 0 0 0 - - $T - - False 
s 2 777 0 0 0 ../target - $T - - False 
sp 0 644 0 0 1048576 - - $T - - False 
EOF
diff <(sort "$k/want") <(sort "$k/list") | sed 's/^/#   /'
is "$(sort "$k/list" | md5sum)" "$(sort "$k/want" | md5sum)" \
	"every entry as it should be (type, mode, owner, size, link, device, mtime, xattrs; no names, not sparse)"
# order: parents before children, each opaque marker right after its directory, no path twice
python3 -c '
import sys, tarfile
names = [m.name.rstrip("/") for m in tarfile.open(sys.argv[1])]
bad, seen = [], set()
for i, n in enumerate(names):
    p = n.rsplit("/", 1)[0] if "/" in n else "."
    if n.endswith(".wh..wh..opq") and names[i - 1] != p: bad.append("marker not right after its directory: " + n)
    if n != "." and p not in seen: bad.append("child before parent: " + n)
    if n in seen: bad.append("twice: " + n)
    seen.add(n)
print(" ".join(bad)); sys.exit(1 if bad else 0)
' "$k/k.tar" | sed 's/^/# /'
ok "${PIPESTATUS[0]}" "parents before children, the opaque marker right after its directory, no path twice"
tar --list --verbose --xattrs --numeric-owner -f "$k/k.tar" >"$k/gnu" 2>&1
grep -q ' d/g link to d/f$' "$k/gnu" && grep -q ' h link to d/f$' "$k/gnu" && grep -q '^crw.* 1,3 .* c$' "$k/gnu" &&
	grep -q '^-rw-r-----\* 1000/100 .* d/f$' "$k/gnu"
r=$?
[ $r = 0 ] || sed 's/^/#   /' "$k/gnu"
ok $r "GNU tar lists the hardlinks, the device and the xattrs"
mkdir "$k/x" && tar -C "$k/x" --xattrs --xattrs-include='*' -xf "$k/k.tar" 2>"$k/xerr"
is "$(getcap "$k/x/cap" | awk '{ print $2 }')" "cap_net_raw=ep" "GNU tar restores the file capability from the layer"

# pax record lengths across a digit (a record counts its own length's digits), paths across 100
q=$W/q
fresh "$q" || bail tmpfs
for n in $(seq 70 95) $(seq 975 1000) $(seq 9970 9990); do
	mkdir -p "$q/up/$(printf 'p%.0s' $(seq 1 $((n % 60 + 40))))"
	f=$q/up/$(printf 'p%.0s' $(seq 1 $((n % 60 + 40))))/$n
	: >"$f"; setfattr -n user.v -v "$(printf 'a%.0s' $(seq 1 "$n"))" "$f"
done
"$P" init --file "$q/s.dat" --size 8M --quiet && "$P" save --upper "$q/up" --file "$q/s.dat" --quiet &&
	"$P" export --file "$q/s.dat" --oci-layer "$q/q.tar" --quiet 2>/dev/null || bail "export of the pax cases"
python3 -c '
import sys, tarfile
bad = 0
for m in tarfile.open(sys.argv[1]):
    if m.isreg() and "/" in m.name:
        n = int(m.name.rsplit("/", 1)[1]); v = m.pax_headers.get("SCHILY.xattr.user.v", "")
        d = m.name.rsplit("/", 1)[0]
        if v != "a" * n or d != "p" * (n % 60 + 40): bad += 1; print("# bad:", m.name[:20], n, len(v))
sys.exit(bad)
' "$q/q.tar"
ok $? "xattr records of 70-95, 975-1000, 9970-9990 bytes and paths of 42-141 bytes read back by tarfile"

tar -xOf "$k/k.tar" sp | cmp - "$u/sp"
ok $? "a file with a hole comes out whole (its bytes, zeros in the hole)"

# the same generation, the same bytes: to a file again, to standard output, through gzip -n
"$P" export --file "$k/save.dat" --oci-layer "$k/k2.tar" --quiet 2>/dev/null &&
	"$P" export --file "$k/save.dat" --oci-layer - --quiet 2>/dev/null >"$k/k3.tar" &&
	"$P" export --file "$k/save.dat" --oci-layer "$k/k.tar.gz" --gzip --quiet 2>/dev/null &&
	"$P" export --file "$k/save.dat" --oci-layer "$k/k.tar.gz2" --gzip --quiet 2>/dev/null &&
	cmp "$k/k.tar" "$k/k2.tar" && cmp "$k/k.tar" "$k/k3.tar" && cmp "$k/k.tar.gz" "$k/k.tar.gz2" &&
	gzip -dc "$k/k.tar.gz" | cmp - "$k/k.tar"
ok $? "exports of one generation are byte-identical (file, standard output, gzip)"

# --at: an older generation's layer is the one exported when it was the newest
echo later >"$u/later"; rm "$u/h"
"$P" save --upper "$u" --file "$k/save.dat" --quiet
"$P" export --file "$k/save.dat" --at 1 --oci-layer "$k/at1.tar" --quiet 2>/dev/null && cmp -s "$k/at1.tar" "$k/k.tar"
ok $? "--at 1 after a second save exports generation 1's layer, byte for byte"
"$P" export --file "$k/save.dat" --oci-layer "$k/g2.tar" --quiet 2>/dev/null
python3 -c '
import sys, tarfile
n = {m.name for m in tarfile.open(sys.argv[1])}
sys.exit(0 if "later" in n and "h" not in n else 1)' "$k/g2.tar"
ok $? "the newest generation's layer has the new file and not the removed link"

# --- the lower the save was made over
echo one >"$k/lower1.sqfs"; echo two >"$k/lower2.sqfs"
"$P" init --file "$k/l.dat" --size 4M --quiet && "$P" save --upper "$u" --file "$k/l.dat" --lower "$k/lower1.sqfs" --quiet
sum=$(md5sum <"$k/l.dat")
out=$("$P" export --file "$k/l.dat" --lower "$k/lower2.sqfs" --oci-layer "$k/o.tar" 2>&1); rc=$?
case $out in *"use --any-lower"*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 100 ] && [ $m = 0 ] && [ ! -e "$k/o.tar" ] && [ ! -e "$k/o.tar.tmp" ]; echo $?)" \
	"a save made over another lower is refused (exit $rc), nothing written: $(one "$out")"
out=$("$P" export --file "$k/l.dat" --lower "$k/lower2.sqfs" --any-lower --oci-layer "$k/o.tar" 2>&1); rc=$?
case $out in *"exporting anyway"*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 0 ] && [ $m = 0 ] && [ -s "$k/o.tar" ]; echo $?)" "--any-lower exports it, with a warning"
"$P" export --file "$k/l.dat" --lower "$k/lower1.sqfs" --oci-layer "$k/o1.tar" --quiet 2>/dev/null
ok $? "over the lower it was made over: exported"

# --- bad input: a clear error, nothing written, the save file untouched
out=$("$P" export --file "$k/l.dat" --oci-layer "$k/o2.tar" --gzip --zstd 2>&1); rc=$?
is "$rc" 100 "--gzip with --zstd: usage error: $(one "$out")"
out=$("$P" export --file "$k/l.dat" --oci-layer "$k/l.dat" 2>&1); rc=$?
is "$rc" 100 "OUT is the save file: refused: $(one "$out")"
out=$("$P" export --file "$k/l.dat" --oci-layer "$k/nodir/o.tar" 2>&1); rc=$?
case $out in *nodir/o.tar.tmp*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 111 ] && [ $m = 0 ]; echo $?)" "OUT in a missing directory: exit $rc: $(one "$out")"
printf 'x\n' >"$k/not-a-save"
out=$("$P" export --file "$k/not-a-save" --oci-layer "$k/o3.tar" 2>&1); rc=$?
ok "$([ $rc = 100 ] && [ ! -e "$k/o3.tar" ]; echo $?)" "not a save file: exit $rc: $(one "$out")"
out=$(PATH=/nonexistent "$P" export --file "$k/l.dat" --oci-layer "$k/o4.tar.gz" --gzip 2>&1); rc=$?
case $out in *"no gzip program"*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc != 0 ] && [ $m = 0 ] && [ ! -e "$k/o4.tar.gz" ] && [ ! -e "$k/o4.tar.gz.tmp" ]; echo $?)" \
	"no gzip program: said, nothing left behind: $(one "$out")"
is "$(md5sum <"$k/l.dat")" "$sum" "the save file is unchanged by every export"
e=$W/e
fresh "$e" || bail tmpfs
touch "$e/up/.wh.x"
"$P" init --file "$e/s.dat" --size 4M --quiet && "$P" save --upper "$e/up" --file "$e/s.dat" --quiet
out=$("$P" export --file "$e/s.dat" --oci-layer "$e/o.tar" 2>&1); rc=$?
case $out in *".wh.x"*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 100 ] && [ $m = 0 ] && [ ! -e "$e/o.tar" ]; echo $?)" "a file named .wh.x is refused: $(one "$out")"
# a redirect: a lower directory renamed on an overlay mounted with redirect_dir=on
rm -f "$e/up/.wh.x"
dir1=$(cd "$LOWER" && find . -mindepth 1 -maxdepth 1 -type d -printf '%P\n' | sort | head -n 1)
XOPT=,redirect_dir=on
overlay "$e" && mv "$e/mnt/$dir1" "$e/mnt/renamed-$dir1" && umount "$e/mnt" || bail "rename a lower directory"
"$P" save --upper "$e/up" --file "$e/s.dat" --quiet || bail "save the redirect"
out=$("$P" export --file "$e/s.dat" --oci-layer "$e/o.tar" 2>&1); rc=$?
case $out in *"renamed-$dir1"*trusted.overlay.redirect*) m=0 ;; *) m=1 ;; esac
ok "$([ $rc = 100 ] && [ $m = 0 ] && [ ! -e "$e/o.tar" ] && [ ! -e "$e/o.tar.tmp" ]; echo $?)" \
	"a redirect is refused, naming the directory: $(one "$out")"
done_testing
