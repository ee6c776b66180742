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
done_testing
