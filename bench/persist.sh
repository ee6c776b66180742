#!/usr/bin/env bash
# bench/persist.sh: persist save / restore / one-file incremental save against tar -czf, tar -xzf,
# tar | zstd and cp -a of the same generated upper on the same medium: an ext4 image loop-mounted
# on the host (the base tree and a live session's), and inside the live system in QEMU (this
# host's kernel may lack vfat) two vfat disks in the same boot, one as fast as QEMU goes and one
# throttled to a USB stick's speed (BENCH_STICK). Writes persist.md and persist.tsv.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if [ "$BENCH_FULL" = 1 ]; then
	: "${BENCH_FILES:=10000}" "${BENCH_MB:=200}" "${BENCH_LIVE_FILES:=10000}" "${BENCH_LIVE_MB:=200}"
	: "${BENCH_VFAT_FILES:=4000}" "${BENCH_VFAT_MB:=60}"
else
	: "${BENCH_FILES:=2000}" "${BENCH_MB:=40}" "${BENCH_LIVE_FILES:=2000}" "${BENCH_LIVE_MB:=40}"
	: "${BENCH_VFAT_FILES:=1000}" "${BENCH_VFAT_MB:=8}"
fi
# the guest's steps at BENCH_FULL's sizes take long under TCG
[ "$BENCH_FULL" = 1 ] && : "${GUEST_TIMEOUT:=3000}" && export GUEST_TIMEOUT
# the stick: bytes a second written and read (QEMU's -drive throttling)
: "${BENCH_STICK:=throttling.bps-write=20000000,throttling.bps-read=40000000}"
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
results() { awk -v m="$1" '$1 ~ /^(save|tar_c|tar_zc|cp_save|restore|tar_x|tar_zx|cp_restore|save_inc|save_inc_warm|tar_inc)$/ && NF == 3 { print m "\t" $1 "\t" $2 "\t" $3 } $1 == "size" { print m "\tsize_" $2 "\t" $3 "\t0" } $1 == "entries" { print m "\tentries\t" $2 "\t0" } $1 == "check" { print m "\tcheck\t" $3 "\t0" }' "$2" >> "$tsv"; }

# ---- ext4 on the host: the base tree, then a live session's
rm -rf "$W" && mkdir -p "$W"
for tree in base live; do
	if [ $tree = base ]; then files=$BENCH_FILES mb=$BENCH_MB m=ext4; else files=$BENCH_LIVE_FILES mb=$BENCH_LIVE_MB m=ext4-live; fi
	mnt -t tmpfs -o size=$((mb * 3 + files / 20 + 256))m tmpfs "$W/src"
	mnt -t tmpfs -o size=$((mb * 5 + files / 10 + 256))m tmpfs "$W/dst"
	say "persist: generating the $tree upper: $files small files + $mb MB"
	if [ $tree = base ]; then "$TOP/bench/gentree.sh" "$W/src/upper" "$files" "$mb" 4
	else "$TOP/bench/gentree.sh" -m live "$W/src/upper" "$files" "$mb"; fi
	truncate -s $((mb * 7 + files / 10 + 300))M "$W/ext4.img"
	if mkfs.ext4 -q -F "$W/ext4.img" && mnt -o loop "$W/ext4.img" "$W/ext4"; then
		say "persist: ext4 (loop), $tree upper, $BENCH_REPS repetition(s)"
		PERSIST=$O/bin/persist "$TOP/bench/persist-steps.sh" "$W/src/upper" "$W/ext4" "$W/dst/x" "$BENCH_REPS" > "$W/$m.out"
		results $m "$W/$m.out"
	else
		note "persist: ext4 not measured: unable to make or loop-mount an ext4 image"
	fi
	cleanup
	rm -f "$W/ext4.img"
done

# ---- vfat inside the live system (QEMU), the same steps with busybox tar and cp, and the host's
# zstd (its loader and libraries copied in): a disk as fast as QEMU goes, then one throttled to a
# stick's speed, in the same boot; the page cache is dropped before each restore, as after a boot
vfat_ok=0
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v mcopy >/dev/null || [ ! -f "$O/minimal.sqfs" ]; then
	note "persist: vfat not measured: needs qemu-system-x86_64, mtools and a build"
else
	say "persist: vfat in QEMU ($ACCEL), live upper: $BENCH_VFAT_FILES small files + $BENCH_VFAT_MB MB, then the stick ($BENCH_STICK)"
	"$TOP/bench/gentree.sh" -m live "$W/vtree/upper" "$BENCH_VFAT_FILES" "$BENCH_VFAT_MB"
	vkb=$(du -sk "$W/vtree/upper" | cut -f1)
	tar -cf "$W/vtree.tar" -C "$W/vtree" upper
	rm -rf "$W/vtree" "$W/z" && mkdir -p "$W/z"
	export MTOOLS_SKIP_CHECK=1
	for d in vfat stick; do
		mkfs.vfat -C -n BENCHV "$W/$d.img" $(( (vkb * 8 / 1024 + 200) * 1024 )) >/dev/null
		mcopy -i "$W/$d.img" "$TOP/bench/persist-steps.sh" ::steps.sh
	done
	mcopy -i "$W/vfat.img" "$W/vtree.tar" ::tree.tar
	zcmd=
	if zbin=$(command -v zstd) && ldd "$zbin" > "$W/z.ldd" 2>/dev/null; then
		cp "$zbin" "$W/z/zstd" && awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$W/z.ldd" |
			while read -r lib; do cp "$lib" "$W/z/"; done
		loader=$(awk '$1 ~ /^\// { print $1 }' "$W/z.ldd" | head -n 1)
		mcopy -i "$W/vfat.img" -s "$W/z" ::z && zcmd="/tmp/z/${loader##*/} --library-path /tmp/z /tmp/z/zstd"
	fi
	[ -n "$zcmd" ] || note "persist: tar | zstd not measured in QEMU: no zstd (or ldd) on the host"
	"$TOP/images/mkmedium.sh" vfat "$O/minimal.sqfs" "$W/medium.img"
	# the upper and the restore targets on a tmpfs of their own, as the live system's upper is (a
	# save reads it directly, not through the overlay, whose dentries drop_caches would drop)
	steps="COLD=1 ZSTD='$zcmd' sh /mnt/b/steps.sh /tmp/up/upper"
	if QEMU_MEM=$((vkb * 7 / 1024 + 768)) "$TOP/bench/guest-run.sh" "$W/guest.out" \
		"mkdir -p /mnt/b /mnt/s && mount -t vfat /dev/vdb /mnt/b && mount -t vfat /dev/vdc /mnt/s && cp -r /mnt/b/z /tmp/z && chmod +x /tmp/z/* && rm -r /mnt/b/z && mkdir -p /tmp/up && mount -t tmpfs -o size=80% tmpfs /tmp/up && tar -xf /mnt/b/tree.tar -C /tmp/up && rm /mnt/b/tree.tar && mkdir -p /tmp/up/dst && $steps /mnt/b /tmp/up/dst/x $BENCH_REPS | sed 's/^/vfat /' && $steps /mnt/s /tmp/up/dst/x $BENCH_REPS | sed 's/^/stick /'" \
		-drive "file=$W/medium.img,format=raw,if=virtio" -drive "file=$W/vfat.img,format=raw,if=virtio" \
		-drive "file=$W/stick.img,format=raw,if=virtio,$BENCH_STICK"; then
		for d in vfat stick; do
			sed -n "s/^$d //p" "$W/guest.out" > "$W/$d.out"
			results "$d-live" "$W/$d.out"
		done
		vfat_ok=1
	else
		note "persist: vfat in QEMU did not finish ($(tail -n 2 "$W/guest.out" 2>/dev/null | tr '\n' ' '))"
	fi
	rm -rf "$W/vfat.img" "$W/stick.img" "$W/vtree.tar" "$W/medium.img" "$W/z"
fi

# ---- the report
v() { awk -F'\t' -v m="$1" -v k="$2" '$1 == m && $2 == k { print $3 }' "$tsv" | median; }
st() { awk -F'\t' -v m="$1" -v k="$2" '$1 == m && $2 == k && $4 != 0 { print "exit " $4; exit }' "$tsv"; }
target() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "-"; else print (r >= t) ? "met" : "not met" }'; }
mb() { awk -v b="$1" 'BEGIN { if (b == "-" || b == "") print "-"; else if (b < 1e5) printf "%d bytes", b; else printf "%.1f MB", b / 1e6 }'; }
if "$O/bin/persist" --help 2>&1 | grep -q -- '--compress'; then comp="zstd, \`persist init\`'s default"; else comp="none (this persist does not compress)"; fi
{
	echo "## persist against tar and cp -a (wall clock, ratios within one run)"
	echo
	echo "On ext4 (host): the base upper, $BENCH_FILES small files + $BENCH_MB MB in 4 large files of base64 text (\`BENCH_FULL=$BENCH_FULL\`;"
	echo "the issue's size is \`BENCH_FULL=1\`: 10,000 files + 200 MB), and a live session's upper (\`bench/gentree.sh -m live\`:"
	echo "configuration, a browser profile, apt lists, incompressible .deb files), $BENCH_LIVE_FILES files + $BENCH_LIVE_MB MB; upper and restore"
	echo "target on tmpfs, the save file, tar.gz, tar.zst and cp -a copy on a loop-mounted ext4 image; GNU tar, coreutils, zstd;"
	echo "page caches warm. On vfat: the live upper, $BENCH_VFAT_FILES files + $BENCH_VFAT_MB MB, inside the live system (QEMU $ACCEL, busybox"
	echo "tar/cp, the host's zstd, the upper and the restore targets on a tmpfs of their own, as the live system's upper is) on a virtio disk as fast as QEMU goes (**vfat**) and on one"
	echo "throttled to a USB stick's speed (**stick**: \`$BENCH_STICK\`, bytes a second), in the same boot; the guest drops"
	echo "its page cache before each restore (as after a boot). Every write step ends with a sync of the medium (persist syncs"
	echo "itself). Median of $BENCH_REPS repetition(s). Ratio = baseline time / persist time (above 1: persist is faster); sizes:"
	echo "persist / the other. persist's compression: $comp. tar | zstd is \`tar -cf - | zstd -T0\` (level 3)."
	echo
	for m in ext4 ext4-live vfat-live stick-live; do
		grep -q "^$m	" "$tsv" || continue
		n=$(v "$m" entries)
		echo "### $m ($n entries, $(mb "$(awk -v k="$(v "$m" size_upper_kb)" 'BEGIN { print k * 1024 }')") upper, restore check: $(awk -F'\t' -v m="$m" '$1 == m && $2 == "check" { print $3; exit }' "$tsv"))"
		echo
		echo "| figure | persist | baseline | ratio | target | command |"
		echo "|---|---|---|---|---|---|"
		case $m in
		ext4) c="\`BENCH_FILES=$BENCH_FILES BENCH_MB=$BENCH_MB bench/persist.sh\` (steps: \`bench/persist-steps.sh UPPER MEDIUM DST\`)" ;;
		ext4-live) c="\`BENCH_LIVE_FILES=$BENCH_LIVE_FILES BENCH_LIVE_MB=$BENCH_LIVE_MB bench/persist.sh\`" ;;
		*) c="\`BENCH_VFAT_FILES=$BENCH_VFAT_FILES BENCH_VFAT_MB=$BENCH_VFAT_MB bench/persist.sh\` (in the guest: \`sh steps.sh\`)" ;;
		esac
		p=$(v "$m" save) b=$(v "$m" tar_c); r=$(ratio "$b" "$p")
		echo "| full save | $(fmt_s "$p") | tar -czf $(fmt_s "$b") $(st "$m" tar_c) | $r | issue 5 ≥ 3: $(target "$r" 3) | $c |"
		b=$(v "$m" tar_zc); r=$(ratio "$b" "$p")
		echo "| full save | $(fmt_s "$p") | tar \\| zstd $(fmt_s "$b") $(st "$m" tar_zc) | $r | - | same |"
		b=$(v "$m" cp_save); r=$(ratio "$b" "$p")
		echo "| full save | $(fmt_s "$p") | cp -a $(fmt_s "$b") $(st "$m" cp_save) | $r | issue 22 ≥ 3: $(target "$r" 3) | same |"
		p=$(v "$m" restore) b=$(v "$m" tar_x); r=$(ratio "$b" "$p")
		echo "| restore | $(fmt_s "$p") $(st "$m" restore) | tar -xzf $(fmt_s "$b") | $r | issue 5 ≥ 3: $(target "$r" 3) | same |"
		b=$(v "$m" tar_zx); r=$(ratio "$b" "$p")
		echo "| restore | $(fmt_s "$p") | zstd -d \\| tar -x $(fmt_s "$b") $(st "$m" tar_zx) | $r | - | same |"
		b=$(v "$m" cp_restore); r=$(ratio "$b" "$p")
		echo "| restore | $(fmt_s "$p") | cp -a $(fmt_s "$b") $(st "$m" cp_restore) | $r | issue 22 ≥ 1: $(target "$r" 1) | same |"
		p=$(v "$m" save_inc) b=$(v "$m" tar_inc); r=$(ratio "$b" "$p")
		echo "| one-file incremental save | $(fmt_s "$p") | full tar -czf $(fmt_s "$b") | $r | issue 5 ≥ 50: $(target "$r" 50); issue 22 ≥ 100: $(target "$r" 100) | same |"
		p=$(v "$m" save_inc_warm); r=$(ratio "$b" "$p")
		echo "| the next one-file save (what the one before read cached) | $(fmt_s "$p") | full tar -czf $(fmt_s "$b") | $r | issue 22 ≥ 100: $(target "$r" 100) | same |"
		p=$(v "$m" size_save) b=$(v "$m" size_tar_gz)
		echo "| save size (full generation) | $(mb "$p") | tar.gz $(mb "$b") | $(ratio "$p" "$b") | - | \`persist log --json\` (journal_bytes) |"
		b=$(v "$m" size_tar_zst)
		echo "| save size (full generation) | $(mb "$p") | tar.zst $(mb "$b") | $(ratio "$p" "$b") | - | \`wc -c\` |"
		b=$(v "$m" size_upper_kb); b=$(awk -v k="$b" 'BEGIN { print (k == "-") ? "-" : k * 1024 }')
		echo "| save size (full generation) | $(mb "$p") | the upper (du) $(mb "$b") | $(ratio "$p" "$b") | - | \`du -sk\` |"
		p=$(v "$m" size_save_inc) b=$(v "$m" size_tar_gz)
		echo "| save size (one-file generation) | $(mb "$p") | tar.gz $(mb "$b") | $(ratio "$p" "$b") | - | same |"
		echo
	done
	echo "Raw figures: \`out/bench/persist.tsv\`. The base upper's large files are base64 text (gzip saves about 25 %); the live"
	echo "upper is about two fifths incompressible."
	echo
} >> "$md"
exit 0
