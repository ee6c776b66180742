#!/bin/bash
# unionmount.sh: amir73il/unionmount-testsuite as an outside oracle for persist.
# Not part of ./build.sh test (it needs the suite, which is not in this repo and is not fetched
# here): give its checkout as the first argument or as UMTS=DIR; without one it says skip.
#
#   tests/oracles/unionmount.sh SUITE_DIR [TEST...]
#
# 1. baseline: the suite's own `run --ov TEST`, unchanged, one test at a time (its run stops at
#    the first failing check, so one invocation per test gives a verdict per test).
# 2. oracle: the same tests run again through umts_hook.py, which at the end of each test
#    (the suite's unmount_union) unmounts the union and calls this script with --case. The case:
#      ref     the suite's lower + the suite's upper, mounted with the suite's options, treesum'd
#      persist persist init + save of that upper, restore into a fresh tmpfs, mounted over the
#              same lower with the same options, treesum'd, compared with ref
#      cp      cp -a --preserve=all of that upper into a fresh tmpfs, the same, compared with ref
#    (treesum: tests/overlay/treesum.c, every field of every path incl. hardlink groups).
# Environment: O (build dir, default out/), SUITE_ARGS (default "--ov": the run's first arguments,
# e.g. "--ov --verify"), KEEP=1 (keep the work directory), LOG (a directory for the logs and the
# per-case listings, default $O/oracles/unionmount).
set -uo pipefail

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
here=$(dirname "$self")
TOP=$(cd "$here/../.." && pwd)

# ------------------------------------------------------------------ one case (called by the hook)
if [ "${1:-}" = --case ]; then
	name=$2 lowers=$3 upper=$4 work=$5 opts=$6
	: "${OW:?--case runs under the driver only}"
	n=$(($(cat "$OW/ncase" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$OW/ncase"
	c=$OW/case
	d=$LOG/cases/$(printf %02d "$n")-$name
	mkdir -p "$d"
	printf "options=%s\nlowerdir=%s\nupperdir=%s\n" "$opts" "$lowers" "$upper" >"$d/layers"
	res() { echo "$name $*" >>"$LOG/results"; }
	# groups UP: the sets of upper paths sharing one inode, every type but directories and
	# whiteouts (char 0/0, which overlayfs may link to one inode), independent of treesum (whose
	# link= names groups of regular files only)
	groups() {
		(cd "$1" && find . ! -type d -links +1 ! \( -type c -size 0 \) -printf '%i %p\n' | sort -k2 |
			awk '{ g[$1] = g[$1] " " $2 } END { for (i in g) print g[i] }' | sort)
	}
	ovl() { mount -t overlay overlay -o "$opts,lowerdir=$lowers,upperdir=$1,workdir=$2" "$3"; }
	fresh() { mkdir -p "$1" && mount -t tmpfs -o size=256m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt"; }
	mkdir -p "$c/ref"
	if ! ovl "$upper" "$work" "$c/ref"; then res "ref=mount-failed"; exit 1; fi
	"$TS" "$c/ref" "$upper" >"$d/ref.sum"
	umount "$c/ref"
	# the same upper again, to see the listing is stable (a second mount changes nothing)
	ovl "$upper" "$work" "$c/ref" && "$TS" "$c/ref" "$upper" >"$d/ref2.sum"
	umount "$c/ref"
	if cmp -s "$d/ref.sum" "$d/ref2.sum"; then stable=stable; else stable=UNSTABLE; fi
	(cd "$upper" && find . -printf '%y %m %U:%G %s %p\n' | sort -k5) >"$d/upper.find"
	groups "$upper" >"$d/ref.groups"
	gv() { groups "$1" >"$d/$2.groups"; cmp -s "$d/ref.groups" "$d/$2.groups" && echo same || echo DIFF; }
	# persist
	verdict='' pg=- cg=-
	rm -f "$c/save.dat"
	if "$P" init --file "$c/save.dat" --size 64M --quiet >"$d/persist.log" 2>&1 &&
		"$P" save --upper "$upper" --file "$c/save.dat" --quiet >>"$d/persist.log" 2>&1 &&
		fresh "$c/p" &&
		"$P" restore --file "$c/save.dat" --into "$c/p/up" --quiet >>"$d/persist.log" 2>&1 &&
		ovl "$c/p/up" "$c/p/wk" "$c/p/mnt" >>"$d/persist.log" 2>&1; then
		"$TS" "$c/p/mnt" "$c/p/up" >"$d/persist.sum"
		if cmp -s "$d/ref.sum" "$d/persist.sum"; then verdict=equal; else verdict=DIFF; fi
		pg=$(gv "$c/p/up" persist)
	else
		verdict=ERROR
	fi
	umount "$c/p/mnt" 2>/dev/null; umount "$c/p" 2>/dev/null
	# cp -a
	cpv=
	if fresh "$c/cp" && cp -a --preserve=all "$upper/." "$c/cp/up/" 2>"$d/cp.log" &&
		ovl "$c/cp/up" "$c/cp/wk" "$c/cp/mnt" 2>>"$d/cp.log"; then
		"$TS" "$c/cp/mnt" "$c/cp/up" >"$d/cp.sum"
		if cmp -s "$d/ref.sum" "$d/cp.sum"; then cpv=equal; else cpv=DIFF; fi
		cg=$(gv "$c/cp/up" cp)
	else
		cpv=ERROR
	fi
	umount "$c/cp/mnt" 2>/dev/null; umount "$c/cp" 2>/dev/null
	# negative control: a copy that loses hardlinks and xattrs (opaque, redirect) must differ
	# wherever the upper holds any; "same" where it holds none
	negv=
	if fresh "$c/neg" && cp -a --no-preserve=links,xattr "$upper/." "$c/neg/up/" 2>"$d/neg.log" &&
		ovl "$c/neg/up" "$c/neg/wk" "$c/neg/mnt" 2>>"$d/neg.log"; then
		"$TS" "$c/neg/mnt" "$c/neg/up" >"$d/neg.sum"
		if cmp -s "$d/ref.sum" "$d/neg.sum"; then negv=same; else negv=differs; fi
	else
		negv=ERROR
	fi
	umount "$c/neg/mnt" 2>/dev/null; umount "$c/neg" 2>/dev/null
	res "entries=$(wc -l <"$d/ref.sum") upper=$(($(wc -l <"$d/upper.find") - 1)) ref=$stable persist=$verdict cp=$cpv neg=$negv groups=$(wc -l <"$d/ref.groups") persist-groups=$pg cp-groups=$cg"
	exit 0
fi

# ------------------------------------------------------------------ the driver
SUITE=${1:-${UMTS:-}}
[ $# -gt 0 ] && shift
if [ -z "$SUITE" ] || [ ! -x "$SUITE/run" ] || [ ! -d "$SUITE/tests" ]; then
	echo "skip: no unionmount-testsuite checkout (give its directory as \$1 or UMTS=DIR)"
	exit 0
fi
SUITE=$(cd "$SUITE" && pwd)
[ "$(id -u)" = 0 ] || { echo "skip: needs root (mounts overlay and tmpfs)"; exit 0; }
grep -qw overlay /proc/filesystems || { echo "skip: no overlay filesystem"; exit 0; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 0; }

O=${O:-$TOP/out}
P=$O/bin/persist
[ -x "$P" ] || (cd "$TOP" && make -s O="$O" all) || { echo "cannot build persist"; exit 1; }
TS=$O/tests-overlay/treesum
[ -x "$TS" ] || (cd "$TOP" && make -s O="$O" "$TS") || { echo "cannot build treesum"; exit 1; }
LOG=${LOG:-$O/oracles/unionmount}
rm -rf "$LOG"; mkdir -p "$LOG/baseline" "$LOG/oracle" "$LOG/cases"
read -r -a SARGS <<<"${SUITE_ARGS:---ov}"

OW=$(mktemp -d "${TMPDIR:-/tmp}/overlive-umts.XXXXXX")
cleanup() {
	for m in $(awk -v w="$OW" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$OW"
}
trap cleanup EXIT
chmod 755 "$OW" # the suite runs some checks as uid 1 (bin): the path must be searchable
mkdir -p "$OW/base" "$OW/lower" "$OW/mnt"
mount -t tmpfs umts_base "$OW/base" && mount -t tmpfs umts_lower "$OW/lower" || { echo "tmpfs"; exit 1; }
export UNIONMOUNT_BASEDIR=$OW/base UNIONMOUNT_LOWERDIR=$OW/lower UNIONMOUNT_MNTPOINT=$OW/mnt
export OW P TS LOG

# the tests the suite's run would run: its list, as the run computes it (read from its source)
if [ $# -gt 0 ]; then
	tests=("$@")
else
	case " ${SARGS[*]} " in *" --xdev "*) xdev=1 ;; *) xdev=0 ;; esac
	mapfile -t tests < <(python3 - "$SUITE/run" "$xdev" <<'EOF'
import ast, sys
src = open(sys.argv[1]).read()
tree = ast.parse(src)
names = []
for node in ast.walk(tree):
    # tests = [...] and the directory-rename tests: the else branch's += (redirect_dir, which run
    # auto-enables on this kernel), or with --xdev the if branch's (rename-exdev)
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "tests" and isinstance(node.value, ast.List):
        names += [e.value for e in node.value.elts]
    if isinstance(node, ast.If) and node.orelse and isinstance(node.orelse[0], ast.AugAssign) \
            and getattr(node.orelse[0].target, "id", "") == "tests":
        branch = node.body[0] if sys.argv[2] == "1" else node.orelse[0]
        names += [e.value for e in branch.value.elts]
print("\n".join(names))
EOF
)
fi
echo "# suite: $(git -C "$SUITE" rev-parse HEAD 2>/dev/null || cat "$SUITE/.commit" 2>/dev/null || echo unknown)"
echo "# kernel: $(uname -r); run args: ${SARGS[*]}; ${#tests[@]} tests"

# 1. baseline
bpass=0 bfail=0
for t in "${tests[@]}"; do
	(cd "$SUITE" && ./run "${SARGS[@]}" "$t") >"$LOG/baseline/$t.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then bpass=$((bpass + 1)); echo "baseline pass $t"; else
		bfail=$((bfail + 1)); echo "baseline FAIL $t (rc $rc): $(tail -1 "$LOG/baseline/$t.log")"; fi
done
(cd "$SUITE" && ./run -c) >/dev/null 2>&1
echo "# baseline: ${#tests[@]} tests, $bpass pass, $bfail fail"

# 2. oracle
opass=0 ofail=0
for t in "${tests[@]}"; do
	ORACLE_HOOK="$self --case" python3 "$here/umts_hook.py" "$SUITE" "${SARGS[@]}" "$t" \
		>"$LOG/oracle/$t.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then opass=$((opass + 1)); else ofail=$((ofail + 1)); echo "oracle run: suite FAIL $t (rc $rc)"; fi
done
(cd "$SUITE" && ./run -c) >/dev/null 2>&1
echo "# the suite under the hook: $opass pass, $ofail fail"

ncase=$(wc -l <"$LOG/results" 2>/dev/null || echo 0)
peq=$(grep -c ' persist=equal' "$LOG/results" 2>/dev/null)
ceq=$(grep -c ' cp=equal' "$LOG/results" 2>/dev/null)
unst=$(grep -c ' ref=UNSTABLE' "$LOG/results" 2>/dev/null)
ndiff=$(grep -c ' neg=differs' "$LOG/results" 2>/dev/null)
pgs=$(grep -c ' persist-groups=same' "$LOG/results" 2>/dev/null)
cgs=$(grep -c ' cp-groups=same' "$LOG/results" 2>/dev/null)
wg=$(grep -vc ' groups=0 ' "$LOG/results" 2>/dev/null)
cat "$LOG/results" 2>/dev/null | sed 's/^/case /'
for d in "$LOG"/cases/*; do
	[ -d "$d" ] || continue
	for k in persist cp; do
		if [ -f "$d/$k.groups" ] && ! cmp -s "$d/ref.groups" "$d/$k.groups"; then
			echo "# $(basename "$d"): $k: the upper's inode groups differ:"
			diff "$d/ref.groups" "$d/$k.groups" | head -10 | sed 's/^/#   /'
		fi
		if [ -f "$d/$k.sum" ] && ! cmp -s "$d/ref.sum" "$d/$k.sum"; then
			echo "# $(basename "$d"): $k differs from ref:"
			diff "$d/ref.sum" "$d/$k.sum" | head -20 | sed 's/^/#   /'
		elif [ ! -f "$d/$k.sum" ]; then
			echo "# $(basename "$d"): $k failed:"; sed 's/^/#   /' "$d/$k.log" | head -10
		fi
	done
done
echo "# cases compared: $ncase; persist equal: $peq; cp -a equal: $ceq; unstable ref listings: $unst"
echo "# negative control (cp -a --no-preserve=links,xattr) differs in $ndiff cases"
echo "# upper inode groups (find, every type): $wg cases with a group; the same after persist in $pgs, after cp -a in $cgs"
echo "# logs and listings: $LOG"
[ "$bfail" = 0 ] && [ "$ncase" -gt 0 ] && [ "$peq" = "$ncase" ] && [ "$ceq" = "$ncase" ] && [ "$pgs" = "$ncase" ]
