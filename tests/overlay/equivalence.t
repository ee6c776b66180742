#!/bin/bash
# equivalence.t: random operations on a real overlay (squashfs or directory lower, tmpfs upper),
# incremental persist saves, restore into a fresh tmpfs, a second overlay over the same lower:
# the merged views must be equal entry by entry. Also an older generation (--at), compact, rollback.
# Odd seeds mount with redirect_dir=on, so that renamed lower directories carry redirect xattrs.
# Disk layout: everything on tmpfs mounts under a temporary directory; the lower is a squashfs
# image mounted with -o loop when mksquashfs and loop devices work, else a plain directory.
# SEEDS=N (default 12), OPS=N per seed (default 500), LONG=1: 200 seeds of 2000 ops. SEED=N: one seed.
. "$(dirname "$0")/../lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (mounts overlay and tmpfs)"
grep -qw overlay /proc/filesystems || skip_all "no overlay filesystem in this kernel"
P=$O/bin/persist
[ -x "$P" ] || skip_all "no $P: run make first"
command -v cc >/dev/null || skip_all "no C compiler for the test helpers"

if [ -n "${LONG:-}" ]; then : "${SEEDS:=200}" "${OPS:=2000}"; else : "${SEEDS:=12}" "${OPS:=500}"; fi
BATCHES=4
H=$O/tests-overlay
mkdir -p "$H"
cc -O2 -o "$H/opgen" "$TOP/tests/overlay/opgen.c" || bail "cannot build opgen"
cc -O2 -o "$H/treesum" "$TOP/tests/overlay/treesum.c" || bail "cannot build treesum"

W=$(mktemp -d /tmp/overlive-eq.XXXXXX)
cleanup() {
	for m in $(awk -v w="$W" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT

# The lower: built by the same generator on a plain directory, then squashed if possible.
mkdir -p "$W/lowertree" "$W/lower"
mount -t tmpfs -o size=256m tmpfs "$W/lowertree" || bail "cannot mount tmpfs"
"$H/opgen" "$W/lowertree" 7 3000 lower
LOWER=$W/lowertree
if command -v mksquashfs >/dev/null &&
	mksquashfs "$W/lowertree" "$W/lower.sqfs" -quiet -no-progress -noappend -xattrs >/dev/null 2>&1 &&
	mount -t squashfs -o loop,ro "$W/lower.sqfs" "$W/lower" 2>/dev/null; then
	LOWER=$W/lower
	LOWERARG=(--lower "$W/lower.sqfs")
	diag "lower: squashfs image, $(find "$LOWER" | wc -l) entries"
else
	LOWERARG=()
	mount -o remount,ro "$W/lowertree" 2>/dev/null
	diag "lower: plain directory (no mksquashfs or loop)"
fi

overlay() { # overlay UPPER WORK MNT; $XOPT adds options (redirect_dir=on for odd seeds)
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$1,workdir=$2$XOPT" "$3"
}

fresh() { # fresh DIR: an empty tmpfs with up/ wk/ mnt/
	mkdir -p "$1" && mount -t tmpfs -o size=512m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt"
}

fail_seed() { diag "FAILED: seed $1 ($2); replay with SEED=$1 OPS=$OPS $0"; }

run_seed() { # run_seed SEED: 0 when all views match
	local s=$1 d=$W/s$s r=$W/r$s b per=$((OPS / BATCHES)) mid
	XOPT=
	((s % 2)) && XOPT=,redirect_dir=on	# renamed lower directories get trusted.overlay.redirect
	fresh "$d" || return 1
	overlay "$d/up" "$d/wk" "$d/mnt" || { fail_seed "$s" "mount"; return 1; }
	"$P" init --file "$d/save.dat" --size 32M --quiet || return 1
	mid=$((1 + s % BATCHES))
	for ((b = 1; b <= BATCHES; b++)); do
		"$H/opgen" "$d/mnt" "$((s * 100 + b))" "$per"
		"$P" save --upper "$d/up" --file "$d/save.dat" "${LOWERARG[@]}" --quiet ||
			{ fail_seed "$s" "save $b"; return 1; }
		"$H/treesum" "$d/mnt" "$d/up" >"$d/view.$b"
	done
	# status after a save: nothing to report
	if [ -n "$("$P" status --upper "$d/up" --file "$d/save.dat")" ]; then
		fail_seed "$s" "status not empty after save"
		"$P" status --upper "$d/up" --file "$d/save.dat" | head -5 | sed 's/^/#   /'
		return 1
	fi
	check_restore() { # check_restore TAG WANTVIEW [--at GEN]
		local tag=$1 want=$2
		shift 2
		fresh "$r" || return 1
		"$P" restore --file "$d/save.dat" --into "$r/up" "${LOWERARG[@]}" --quiet "$@" ||
			{ fail_seed "$s" "restore $tag"; umount "$r"; return 1; }
		overlay "$r/up" "$r/wk" "$r/mnt" || { fail_seed "$s" "mount restored $tag"; umount "$r"; return 1; }
		"$H/treesum" "$r/mnt" "$r/up" >"$d/got.$tag"
		umount "$r/mnt"; umount "$r"
		if ! cmp -s "$want" "$d/got.$tag"; then
			fail_seed "$s" "merged views differ after restore $tag"
			diff "$want" "$d/got.$tag" | head -10 | sed 's/^/#   /'
			return 1
		fi
	}
	check_restore last "$d/view.$BATCHES" || return 1
	check_restore "at$mid" "$d/view.$mid" --at "$mid" || return 1
	if ((s % 2)); then
		"$P" compact --file "$d/save.dat" --quiet || { fail_seed "$s" "compact"; return 1; }
		check_restore compact "$d/view.$BATCHES" || return 1
	fi
	if ((s % 3 == 0)); then
		local g
		g=$("$P" log --file "$d/save.dat" | awk 'NR == 2 { print $1 }')
		"$P" rollback "$((g))" --file "$d/save.dat" --quiet 2>/dev/null ||
			[ "$g" = "$("$P" log --file "$d/save.dat" | awk 'END { print $1 }')" ] ||
			{ fail_seed "$s" "rollback"; return 1; }
		[ "$g" -le 1 ] && check_restore rollback "$d/view.1" || true
	fi
	"$P" verify --file "$d/save.dat" >/dev/null || { fail_seed "$s" "verify"; return 1; }
	umount "$d/mnt"; umount "$d"
	return 0
}

if [ -n "${SEED:-}" ]; then SEEDLIST=$SEED; else SEEDLIST=$(seq 1 "$SEEDS"); fi
nfail=0 nseeds=0
t0=$SECONDS
for s in $SEEDLIST; do
	nseeds=$((nseeds + 1))
	if ! run_seed "$s"; then
		nfail=$((nfail + 1))
		for m in $(awk -v w="$W/" 'index($2, w) == 1 && $2 !~ /lower/ { print $2 }' /proc/mounts | sort -r); do
			umount "$m" 2>/dev/null
		done
	fi
done
diag "$nseeds seeds x $OPS operations in $((SECONDS - t0)) s"
is "$nfail" 0 "merged views equal after save/restore, --at, compact and rollback over $nseeds seeds"

# A save file is untouched by a failing restore, and a restore refuses a different lower.
if [ ${#LOWERARG[@]} -gt 0 ]; then
	fresh "$W/x"
	"$P" init --file "$W/x/s.dat" --size 1M --quiet
	mkdir "$W/x/up/d" && echo hi >"$W/x/up/d/f"
	"$P" save --upper "$W/x/up" --file "$W/x/s.dat" --lower "$W/lower.sqfs" --quiet
	head -c 70000 /dev/zero >"$W/x/other.sqfs"
	mkdir "$W/x/r"
	"$P" restore --file "$W/x/s.dat" --into "$W/x/r" --lower "$W/x/other.sqfs" 2>/dev/null
	is "$?" 100 "restore over a different lower image is refused (exit 100)"
	"$P" restore --file "$W/x/s.dat" --into "$W/x/r" --lower "$W/x/other.sqfs" --any-lower --quiet 2>/dev/null
	is "$?" 0 "--any-lower restores anyway"
else
	skip 2 "no squashfs lower"
fi
done_testing
