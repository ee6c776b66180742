#!/usr/bin/env bash
# bench/persist.sh: persist save / restore / one-file incremental save against tar -czf, tar -xzf
# and cp -a of the same generated upper on the same medium type: an ext4 image loop-mounted on
# the host, and a vfat disk inside the live system in QEMU (this host's kernel may lack vfat).
# Writes persist.md and persist.tsv.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if [ "$BENCH_FULL" = 1 ]; then
	: "${BENCH_FILES:=10000}" "${BENCH_MB:=200}" "${BENCH_VFAT_FILES:=2000}" "${BENCH_VFAT_MB:=40}"
else
	: "${BENCH_FILES:=2000}" "${BENCH_MB:=40}" "${BENCH_VFAT_FILES:=1000}" "${BENCH_VFAT_MB:=8}"
fi
: "${BENCH_REPS:=1}"
: "${ACCEL:=tcg}"
W=$B/persist.d
md=$B/persist.md tsv=$B/persist.tsv
: > "$md"; : > "$tsv"
[ -x "$O/bin/persist" ] || { note "persist: not measured: no $O/bin/persist (run ./build.sh)"; exit 0; }
[ "$(id -u)" = 0 ] || { note "persist: not measured: needs root for loop and tmpfs mounts"; exit 0; }

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null; done
	mounted=()
}
trap cleanup EXIT
mnt() { mkdir -p "${@: -1}" && mount "$@" && mounted+=("${@: -1}"); }

# results MEDIUM FILE: the steps' output into the tsv (medium name value status)
results() { awk -v m="$1" '$1 ~ /^(save|tar_c|cp_save|restore|tar_x|cp_restore|save_inc|tar_inc)$/ && NF == 3 { print m "\t" $1 "\t" $2 "\t" $3 } $1 == "size" { print m "\tsize_" $2 "\t" $3 "\t0" } $1 == "entries" { print m "\tentries\t" $2 "\t0" } $1 == "check" { print m "\tcheck\t" $3 "\t0" }' "$2" >> "$tsv"; }

# ---- ext4 on the host
rm -rf "$W" && mkdir -p "$W"
mnt -t tmpfs -o size=$((BENCH_MB * 3 + 256))m tmpfs "$W/src"
mnt -t tmpfs -o size=$((BENCH_MB * 4 + 256))m tmpfs "$W/dst"
say "persist: generating the upper: $BENCH_FILES small files + $BENCH_MB MB"
"$TOP/bench/gentree.sh" "$W/src/upper" "$BENCH_FILES" "$BENCH_MB" 4
truncate -s $((BENCH_MB * 6 + 300))M "$W/ext4.img"
if mkfs.ext4 -q -F "$W/ext4.img" && mnt -o loop "$W/ext4.img" "$W/ext4"; then
	say "persist: ext4 (loop), $BENCH_REPS repetition(s)"
	PERSIST=$O/bin/persist "$TOP/bench/persist-steps.sh" "$W/src/upper" "$W/ext4" "$W/dst/x" "$BENCH_REPS" > "$W/ext4.out"
	results ext4 "$W/ext4.out"
else
	note "persist: ext4 not measured: unable to make or loop-mount an ext4 image"
fi
cleanup

# ---- vfat inside the live system (QEMU): the same steps with busybox tar and cp
vfat_ok=0
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v mcopy >/dev/null || [ ! -f "$O/minimal.sqfs" ]; then
	note "persist: vfat not measured: needs qemu-system-x86_64, mtools and a build"
else
	say "persist: vfat in QEMU ($ACCEL): $BENCH_VFAT_FILES small files + $BENCH_VFAT_MB MB"
	"$TOP/bench/gentree.sh" "$W/vtree/upper" "$BENCH_VFAT_FILES" "$BENCH_VFAT_MB" 4
	tar -cf "$W/vtree.tar" -C "$W/vtree" upper
	rm -rf "$W/vtree"
	mkfs.vfat -C -n BENCHV "$W/vfat.img" $(( (BENCH_VFAT_MB * 6 + 200) * 1024 )) >/dev/null
	export MTOOLS_SKIP_CHECK=1
	mcopy -i "$W/vfat.img" "$W/vtree.tar" ::tree.tar && mcopy -i "$W/vfat.img" "$TOP/bench/persist-steps.sh" ::steps.sh
	"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$W/medium.img"
	if QEMU_MEM=$((BENCH_VFAT_MB * 5 + 768)) "$TOP/bench/guest-run.sh" "$W/vfat.out" \
		"mkdir -p /mnt/b && mount -t vfat /dev/vdb /mnt/b && tar -xf /mnt/b/tree.tar -C /tmp && rm /mnt/b/tree.tar && mkdir -p /tmp/dst && sh /mnt/b/steps.sh /tmp/upper /mnt/b /tmp/dst/x $BENCH_REPS" \
		-drive "file=$W/medium.img,format=raw,if=virtio" -drive "file=$W/vfat.img,format=raw,if=virtio"; then
		results vfat "$W/vfat.out"
		vfat_ok=1
	else
		note "persist: vfat in QEMU did not finish ($(tail -n 2 "$W/vfat.out" 2>/dev/null | tr '\n' ' '))"
	fi
	rm -f "$W/vfat.img" "$W/vtree.tar" "$W/medium.img"
fi
rm -f "$W/ext4.img"

# ---- the report
v() { awk -F'\t' -v m="$1" -v k="$2" '$1 == m && $2 == k { print $3 }' "$tsv" | median; }
st() { awk -F'\t' -v m="$1" -v k="$2" '$1 == m && $2 == k && $4 != 0 { print "exit " $4; exit }' "$tsv"; }
target() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "-"; else print (r >= t) ? "met" : "not met" }'; }
{
	echo "## persist against tar and cp -a (wall clock, ratios within one run)"
	echo
	echo "Upper on ext4: $BENCH_FILES small files + $BENCH_MB MB in 4 large files (\`BENCH_FULL=$BENCH_FULL\`; the issue's size is"
	echo "\`BENCH_FULL=1\`: 10,000 files + 200 MB), upper and restore target on tmpfs, the save file, tar.gz and cp -a copy on a"
	echo "loop-mounted ext4 image; GNU tar and coreutils. On vfat: $BENCH_VFAT_FILES files + $BENCH_VFAT_MB MB inside the live system"
	echo "(QEMU $ACCEL, busybox tar/cp, the upper in the overlay's tmpfs), because this host's kernel has no vfat. Every write"
	echo "step ends with a sync of the medium (persist syncs itself). Page caches warm. Median of $BENCH_REPS repetition(s)."
	echo "Ratio = baseline time / persist time (above 1: persist is faster); sizes: persist / tar.gz."
	echo
	for m in ext4 vfat; do
		[ "$m" = vfat ] && [ $vfat_ok = 0 ] && continue
		grep -q "^$m	" "$tsv" || continue
		n=$(v "$m" entries)
		echo "### $m ($n entries, restore check: $(awk -F'\t' -v m="$m" '$1 == m && $2 == "check" { print $3; exit }' "$tsv"))"
		echo
		echo "| figure | persist | baseline | ratio | issue 5 target | command |"
		echo "|---|---|---|---|---|---|"
		if [ "$m" = ext4 ]; then c="\`BENCH_FILES=$BENCH_FILES BENCH_MB=$BENCH_MB bench/persist.sh\` (steps: \`bench/persist-steps.sh UPPER MEDIUM DST\`)"
		else c="\`BENCH_VFAT_FILES=$BENCH_VFAT_FILES BENCH_VFAT_MB=$BENCH_VFAT_MB bench/persist.sh\` (in the guest: \`sh steps.sh\`)"; fi
		p=$(v "$m" save) b=$(v "$m" tar_c); r=$(ratio "$b" "$p")
		echo "| full save | $(fmt_s "$p") | tar -czf $(fmt_s "$b") $(st "$m" tar_c) | $r | ≥ 3: $(target "$r" 3) | $c |"
		b=$(v "$m" cp_save); r=$(ratio "$b" "$p")
		echo "| full save | $(fmt_s "$p") | cp -a $(fmt_s "$b") $(st "$m" cp_save) | $r | - | same |"
		p=$(v "$m" restore) b=$(v "$m" tar_x); r=$(ratio "$b" "$p")
		echo "| restore | $(fmt_s "$p") $(st "$m" restore) | tar -xzf $(fmt_s "$b") | $r | ≥ 3: $(target "$r" 3) | same |"
		b=$(v "$m" cp_restore); r=$(ratio "$b" "$p")
		echo "| restore | $(fmt_s "$p") | cp -a $(fmt_s "$b") $(st "$m" cp_restore) | $r | - | same |"
		p=$(v "$m" save_inc) b=$(v "$m" tar_inc); r=$(ratio "$b" "$p")
		echo "| one-file incremental save | $(fmt_s "$p") | full tar -czf $(fmt_s "$b") | $r | ≥ 50: $(target "$r" 50) | same |"
		p=$(v "$m" size_save) b=$(v "$m" size_tar_gz)
		echo "| save size, bytes (full generation) | $p | tar.gz $b | $(ratio "$p" "$b") | - | \`persist log --json\` (journal_bytes) |"
		p=$(v "$m" size_save_inc)
		echo "| save size, bytes (one-file generation) | $p | tar.gz $b | $(ratio "$p" "$b") | - | same |"
		echo
	done
	echo "Raw figures: \`out/bench/persist.tsv\`. persist does not compress; the large files are base64 text (gzip saves about 25 %)."
	echo
} >> "$md"
exit 0
