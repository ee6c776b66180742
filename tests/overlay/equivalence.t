#!/bin/bash
# equivalence.t: random operations on a real overlay (squashfs or directory lower, tmpfs upper),
# persist saves, restores into a fresh tmpfs and a second overlay over the same lower: the merged
# views must be equal entry by entry. treesum compares every path's type, mode, owner, size,
# content hash, mtime, symlink target, rdev, xattrs, link count and hardlink identity (which paths
# share an inode). opgen makes what the kernel can leave in an upper: several hardlink groups (of
# lower files, copied up by ln, and of upper files; across directories; renamed, unlinked, linked
# again; chmod/chown/utime/xattr on one name), fifos, sockets, device nodes, whiteouts, opaque
# directories and, on odd seeds (mounted with redirect_dir=on), redirects of renamed lower dirs.
# Half of its file contents compress; now and then a round makes a directory of 20-120 small
# files, a quarter of them the same as the one before (persist's PACKs). Seeds 6-11, 18-23, ...
# save into an uncompressed file (persist init --compress none), the others into a zstd one
# (the default, version 4: small files in BLOBs, entries in PACKs).
#
# Each seed is one case. A third of them are single-generation (one round of operations, one save,
# one restore); the others are multi-generation: 2-6 rounds with a save after each and the merged
# view recorded then; every generation is restored with --at right after its save, and at the end
# every generation the log lists again. The save file is small, so that the active half fills and
# persist writes a full save into the other half (if even the whole upper does not fit, the test
# grows the file and saves again); some cases compact in the middle, some roll back at the end.
# Beside persist, a differential baseline: the final upper copied with cp -a into a fresh tmpfs
# must give the same view (the checker agrees with a known-good copy), and a negative control:
# in such a copy one hardlink is broken or moved to another group, and the checker must see it.
# Coverage (hardlink groups, whiteouts, opaque directories, ...) is counted in every saved upper
# by census and must reach set minima, so the test fails if the generator stops making them.
#
# Disk layout: everything on tmpfs mounts under a temporary directory; the lower is a squashfs
# image mounted with -o loop when mksquashfs and loop devices work, else a plain directory.
# EQUIV_SEEDS=N (or SEEDS=N; default 100) cases, OPS=N operations per round (default 30),
# SEED=N: one case. LONG=1: 1000 cases of 100 operations a round.
. "$(dirname "$0")/../lib/tap.sh"


: "${SEEDS:=${EQUIV_SEEDS:-}}"
if [ "${LONG:-0}" = 1 ]; then : "${SEEDS:=1000}" "${OPS:=100}"; else : "${SEEDS:=100}" "${OPS:=30}"; fi
. "$TOP/tests/lib/mounts.sh"
overlay_test opgen treesum census
CP_OK=1
cp --help 2>/dev/null | grep -q -- '--preserve' || CP_OK=

scratch_dir eq || bail "cannot make a scratch directory"

# The lower: built by the same generator on a plain directory, then squashed if possible.
mkdir -p "$W/lowertree" "$W/lower"
mount -t tmpfs -o size=256m tmpfs "$W/lowertree" || bail "cannot mount tmpfs"
"$H/opgen" "$W/lowertree" 7 600 lower
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
	diag "lower: plain directory (no mksquashfs or loop), $(find "$LOWER" | wc -l) entries"
fi

overlay() { # overlay UPPER WORK MNT; $XOPT adds options (redirect_dir=on for odd seeds)
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$1,workdir=$2$XOPT" "$3"
}

fresh() { # fresh DIR: an empty tmpfs with up/ wk/ mnt/
	mkdir -p "$1" && mount -t tmpfs -o size=512m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt"
}

fail_case() { diag "FAILED: seed $1 ($2); replay with SEED=$1 OPS=$OPS $0"; }

# differs WANT GOT: the first lines that differ (< in the view at the save, > in the one checked)
differs() { diff "$1" "$2" | grep '^[<>]' | head -n 8 | cut -c1-500 | sed 's/^/#   /'; }

# view_of ROOT LISTING: mount ROOT/up over the lower (ROOT/wk, ROOT/mnt), treesum the view into LISTING
view_of() {
	local rc=0
	overlay "$1/up" "$1/wk" "$1/mnt" || return 1
	"$H/treesum" "$1/mnt" "$1/up" >"$2" 2>&1 || rc=2	# its error is the listing's last line
	umount "$1/mnt"
	return $rc
}

# Totals over every saved upper (census), and the number of saves with at least 2 groups.
declare -A TOT NCOMP
CENSUS_KEYS="groups members xdir copyup whiteouts opaque redirects fifos sockets chrdevs blkdevs symlinks xattrs"
count_upper() { # count_upper UPPER: adds to TOT; MULTIGROUP=1 when it holds two groups or more
	local kv out
	MULTIGROUP=
	out=$("$H/census" "$1") || bail "census $1 failed (its error above)"
	for kv in $out; do
		TOT[${kv%%=*}]=$((${TOT[${kv%%=*}]:-0} + ${kv#*=}))
		[ "${kv%%=*}" = groups ] && [ "${kv#*=}" -ge 2 ] && MULTIGROUP=1
	done
	return 0
}

naged=0 nsaves=0 nfull=0 ncompact=0 ngrow=0 nrollback=0 nrollfull=0 nrestores=0 ncases=0 nmulti=0 nmultigroup=0
ncp=0 cpfail=0 nneg=0 negmissed=0 nfail=0 fullcases=0

# lastgen FILE: "GEN KIND" of the newest generation the log lists
lastgen() { "$P" log --file "$1" | awk 'NR > 1 { g = $1; k = $3 } END { print g, k }'; }

# restore_check TAG WANT --at G: restore into a fresh tmpfs, mount, compare with WANT
restore_check() {
	local tag=$1 want=$2 r=$W/r
	shift 2
	nrestores=$((nrestores + 1))
	fresh "$r" || return 1
	if ! "$P" restore --file "$d/save.dat" --into "$r/up" "${LOWERARG[@]}" --quiet "$@"; then
		fail_case "$s" "restore $tag"; umount "$r"; return 1
	fi
	view_of "$r" "$d/got" || { fail_case "$s" "the restored $tag: mount or list: $(tail -n 1 "$d/got")"; umount "$r"; return 1; }
	umount "$r"
	cmp -s "$want" "$d/got" && return 0
	fail_case "$s" "merged views differ after restore $tag ($kind case); < saved view, > restored"
	differs "$want" "$d/got"
	return 1
}

# cp_check: the differential baseline and, for the first cases with two groups, the negative control
cp_check() {
	local c=$W/c g1 g2 a b m
	ncp=$((ncp + 1))
	fresh "$c" || return 1
	cp -a --preserve=all "$d/up/." "$c/up/" || { fail_case "$s" "cp -a"; umount "$c"; return 1; }
	view_of "$c" "$d/cp" || { fail_case "$s" "mount the cp -a copy"; umount "$c"; return 1; }
	if ! cmp -s "$d/view.last" "$d/cp"; then
		fail_case "$s" "cp -a of the upper gives another view; < saved view, > the copy's"
		differs "$d/view.last" "$d/cp"
		cpfail=$((cpfail + 1)); umount "$c"; return 1
	fi
	# two members of different groups: a (of g1) and b (of g2)
	if [ "$nneg" -lt 20 ] && [ -n "$MULTIGROUP" ]; then
		read -r g1 a g2 b < <(cd "$c/up" && find . -type f -links +1 -printf '%i %P\n' | sort -k1,1n -k2 |
			awk '$1 != i { n++; i = $1; if (n <= 2) printf "%s %s ", $1, $2 } END { print "" }')
		if [ -n "$b" ]; then
			nneg=$((nneg + 1))
			m=$(dirname "$c/up/$a")
			touch -r "$m" "$c/stamp"
			if ((nneg % 2)); then	# break a's link: a copy of itself, same contents and metadata
				cp -a --preserve=all "$c/up/$a" "$c/tmp" && mv "$c/tmp" "$c/up/$a"
				m="break the link of $a"
			else			# a joins b's group: what issue 12's wrong numbering did
				ln -f "$c/up/$b" "$c/up/$a"
				m="move $a to the group of $b"
			fi
			touch -r "$c/stamp" "$(dirname "$c/up/$a")"
			if ! view_of "$c" "$d/neg"; then
				# not a control: the overlay refused the copy (e.g. ESTALE on a copied origin)
				nneg=$((nneg - 1))
			elif cmp -s "$d/view.last" "$d/neg"; then
				negmissed=$((negmissed + 1))
				diag "negative control missed: seed $s: $m in a cp -a copy left the view unchanged"
			fi
		fi
	fi
	umount "$c"
}

# run_case SEED: 0 when every view matched
run_case() {
	local s=$1 d=$W/s$1 rounds b g k gens size compact_at=0 had_full=0
	kind=single rounds=1
	if ((s % 3 != 1)); then kind=multi rounds=$((2 + s % 5)); fi
	# aged: a pause before each round after the first, so that what a round left alone is older
	# than 2 s at the next save and its entries lose flag RECENT: those saves trust inode and
	# ctime and take the xattrs from the catalogue (persist-format.md, the same timestamp tick)
	aged=0
	[ "$kind" = multi ] && ((s % 7 == 0)) && aged=1 naged=$((naged + 1))
	XOPT=
	((s % 2)) && XOPT=,redirect_dir=on	# renamed lower directories get trusted.overlay.redirect
	((rounds >= 3)) && compact_at=$((1 + s % (rounds - 1)))
	size=$((1024 + s % 4 * 256))K		# small: full saves happen
	comp=zstd
	(((s / 6) % 2)) && comp=none		# both formats, over every kind of case (s % 6)
	fresh "$d" || return 1
	overlay "$d/up" "$d/wk" "$d/mnt" || { fail_case "$s" "mount"; return 1; }
	"$P" init --file "$d/save.dat" --size "$size" --compress "$comp" --quiet || return 1
	# the header's version says the format: 1 uncompressed (what persist before zstd reads), 4 zstd
	[ "$(od -A n -t u4 -j 8 -N 4 "$d/save.dat" | tr -d ' ')" = "$([ "$comp" = zstd ] && echo 4 || echo 1)" ] ||
		{ fail_case "$s" "init --compress $comp: the header's version"; return 1; }
	NCOMP[$comp]=$((${NCOMP[$comp]:-0} + 1))
	declare -A view=()
	for ((b = 1; b <= rounds; b++)); do
		viewnow=
		((aged && b > 1)) && sleep 2.1
		"$H/opgen" "$d/mnt" "$((s * 100 + b))" "$OPS"
		if ! "$P" save --upper "$d/up" --file "$d/save.dat" "${LOWERARG[@]}" --quiet 2>"$d/err"; then
			grep -q 'too small' "$d/err" || { fail_case "$s" "save $b: $(cat "$d/err")"; return 1; }
			size=$(($(stat -c %s "$d/save.dat") * 2 + 1048576))
			"$P" grow --file "$d/save.dat" --size "$size" --quiet || { fail_case "$s" "grow"; return 1; }
			ngrow=$((ngrow + 1))
			# grow may first compact the active half: a generation with the last saved state
			read -r g k < <(lastgen "$d/save.dat")
			if [ -n "$g" ] && [ -z "${view[$g]:-}" ] && ((b > 1)); then
				cp "$d/view.last" "$d/view.$g"
				view[$g]=1
				restore_check "generation $g (grown, $k)" "$d/view.$g" --at "$g" || return 1
			fi
			"$P" save --upper "$d/up" --file "$d/save.dat" "${LOWERARG[@]}" --quiet ||
				{ fail_case "$s" "save $b after grow"; return 1; }
		fi
		nsaves=$((nsaves + 1))
		read -r g k < <(lastgen "$d/save.dat")
		[ "$k" = full ] && nfull=$((nfull + 1)) had_full=1
		count_upper "$d/up"
		[ -n "$MULTIGROUP" ] && nmultigroup=$((nmultigroup + 1))
		"$H/treesum" "$d/mnt" "$d/up" >"$d/view.$g"
		cp "$d/view.$g" "$d/view.last"
		viewnow=1	# view.last is the upper's view now: the cp -a baseline can run
		view[$g]=1
		restore_check "generation $g (round $b, $k)" "$d/view.$g" --at "$g" || return 1
		if ((b == compact_at)); then
			"$P" compact --file "$d/save.dat" --quiet || { fail_case "$s" "compact"; return 1; }
			ncompact=$((ncompact + 1))
			read -r g k < <(lastgen "$d/save.dat")
			cp "$d/view.last" "$d/view.$g"
			view[$g]=1
			restore_check "compacted generation $g" "$d/view.$g" || return 1
		fi
	done
	fullcases=$((fullcases + had_full))
	# status after a save: nothing to report
	if [ -n "$("$P" status --upper "$d/up" --file "$d/save.dat")" ]; then
		fail_case "$s" "status not empty after save"
		"$P" status --upper "$d/up" --file "$d/save.dat" | head -5 | sed 's/^/#   /'
		return 1
	fi
	# every generation the log lists (the active half), again
	gens=$("$P" log --file "$d/save.dat" | awk 'NR > 1 { print $1 }')
	if [ "$kind" = multi ]; then
		for g in $gens; do
			[ -n "${view[$g]:-}" ] || { fail_case "$s" "the log lists generation $g, never saved"; return 1; }
			restore_check "--at $g at the end" "$d/view.$g" --at "$g" || return 1
		done
	fi
	if [ -n "$CP_OK" ]; then
		viewnow=
		cp_check || return 1
	fi
	g=$(echo "$gens" | head -n 1)
	if [ "$kind" = multi ] && ((s % 3 == 0)) && [ "$g" != "$(echo "$gens" | tail -n 1)" ]; then
		local before
		before=$(lastgen "$d/save.dat")
		if "$P" rollback "$g" --file "$d/save.dat" --quiet 2>"$d/err"; then
			nrollback=$((nrollback + 1))
			restore_check "after rollback to $g" "$d/view.$g" || return 1
		elif grep -q 'the save file is full' "$d/err" && [ "$(lastgen "$d/save.dat")" = "$before" ]; then
			# no room for the rollback's generation: refused, nothing changed (the newest restores)
			nrollfull=$((nrollfull + 1))
			restore_check "after a refused rollback" "$d/view.last" || return 1
		else
			fail_case "$s" "rollback $g: $(cat "$d/err")"; return 1
		fi
	fi
	"$P" verify --file "$d/save.dat" >/dev/null || { fail_case "$s" "verify"; return 1; }
	umount "$d/mnt"; umount "$d"
	return 0
}

if [ -n "${SEED:-}" ]; then SEEDLIST=$SEED; else SEEDLIST=$(seq 1 "$SEEDS"); fi
t0=$SECONDS
for s in $SEEDLIST; do
	ncases=$((ncases + 1))
	((s % 3 != 1)) && nmulti=$((nmulti + 1))
	viewnow=
	if ! run_case "$s"; then
		nfail=$((nfail + 1))
		# the baseline runs on every case, also where persist failed (same verdict or not)
		[ -n "$CP_OK" ] && [ -n "$viewnow" ] && d=$W/s$s && cp_check
		for m in $(awk -v w="$W/" 'index($2, w) == 1 && $2 !~ /lower/ { print $2 }' /proc/mounts | sort -r); do
			umount "$m" 2>/dev/null
		done
		rm -rf "$W/s$s"
	fi
done
diag "$ncases cases ($nmulti multi-generation, $naged of them aged) x $OPS operations a round in $((SECONDS - t0)) s:" \
	"$nsaves saves ($nfull full, $ngrow after a grow), $ncompact compactions, $nrollback rollbacks ($nrollfull refused: file full), $nrestores restores"
line=
for k in $CENSUS_KEYS; do line="$line $k=${TOT[$k]:-0}"; done
diag "in the saved uppers, summed:$line"
diag "saves with two or more hardlink groups: $nmultigroup; cases with a full save: $fullcases"
diag "save files: ${NCOMP[zstd]:-0} zstd, ${NCOMP[none]:-0} uncompressed"
is "$nfail" 0 "merged views equal after every save, --at every generation, compact and rollback over $ncases cases"

# Coverage minima: the test is only as strong as what the generator makes.
if [ "$nfail" -gt 0 ]; then
	skip 1 "coverage minima: $nfail cases stopped early, their counts are partial"
elif [ -z "${SEED:-}" ] && [ "$ncases" -ge 100 ]; then
	cov=0
	[ "$nmultigroup" -ge $((ncases / 2)) ] || { cov=1; diag "too few saves with two hardlink groups"; }
	for k in groups copyup xdir whiteouts opaque fifos sockets chrdevs blkdevs symlinks xattrs; do
		[ "${TOT[$k]:-0}" -ge 20 ] || { cov=1; diag "too few $k: ${TOT[$k]:-0}"; }
	done
	[ "${TOT[redirects]:-0}" -ge 5 ] || { cov=1; diag "too few redirects: ${TOT[redirects]:-0}"; }
	[ "$fullcases" -ge 10 ] && [ "$ncompact" -ge 10 ] || { cov=1; diag "too few full saves or compactions"; }
	[ "${NCOMP[zstd]:-0}" -ge 20 ] && [ "${NCOMP[none]:-0}" -ge 20 ] || { cov=1; diag "too few cases of one format"; }
	ok $cov "coverage: hardlink groups, copy-ups by ln, whiteouts, opaque dirs, redirects, special files, full saves, both formats"
else
	skip 1 "coverage minima need the default run (100 cases or more)"
fi

if [ -n "$CP_OK" ]; then
	is "$cpfail" 0 "baseline: cp -a --preserve=all of the final upper gives the same view in $ncp cases"
	if [ "$nneg" -gt 0 ] || [ "$ncases" -ge 100 ]; then
		ok $((nneg > 0 && negmissed == 0 ? 0 : 1)) \
			"negative control: a broken or moved hardlink in the cp -a copy is seen ($((nneg - negmissed)) of $nneg)"
	else
		skip 1 "negative control: no case held two hardlink groups"
	fi
else
	skip 2 "no GNU cp with --preserve"
fi

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
