#!/usr/bin/env bash
# bench/scaling.sh: persist full save and restore time for uppers of 1k, 10k (and with
# BENCH_FULL=1 100k) entries: per-entry cost, a flag on super-linear growth; writes scaling.md,
# scaling.tsv and persist-scaling.svg.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if [ "$BENCH_FULL" = 1 ]; then : "${BENCH_SCALE:=1000 10000 100000}"; else : "${BENCH_SCALE:=1000 10000}"; fi
: "${BENCH_SCALE_REPS:=3}"
W=$B/scaling.d md=$B/scaling.md tsv=$B/scaling.tsv
: > "$md"; : > "$tsv"
[ -x "$O/bin/persist" ] || { note "scaling: not measured: no $O/bin/persist (run ./build.sh)"; exit 0; }
[ "$(id -u)" = 0 ] || { note "scaling: not measured: needs root for loop and tmpfs mounts"; exit 0; }
P=$O/bin/persist
mounted=()
cleanup() { local i; for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null; done; mounted=(); }
trap cleanup EXIT
mnt() { mkdir -p "${@: -1}" && mount "$@" && mounted+=("${@: -1}"); }
rm -rf "$W" && mkdir -p "$W"
mnt -t tmpfs -o size=2g tmpfs "$W/t" || { note "scaling: not measured: unable to mount a tmpfs"; exit 0; }
truncate -s 1200M "$W/ext4.img"
{ mkfs.ext4 -q -F "$W/ext4.img" && mnt -o loop "$W/ext4.img" "$W/m"; } || { note "scaling: not measured: unable to loop-mount ext4"; exit 0; }
for n in $BENCH_SCALE; do
	files=$(( n * 100 / 101 ))     # 100 files a directory: n entries in all
	rm -rf "$W/t/upper" && "$TOP/bench/gentree.sh" "$W/t/upper" "$files" 0
	entries=$(find "$W/t/upper" | wc -l)
	reps=$BENCH_SCALE_REPS; [ "$n" -ge 100000 ] && reps=1
	say "scaling: $entries entries, $reps repetition(s)"
	for r in $(seq 1 "$reps"); do
		rm -f "$W/m/p.dat"; rm -rf "$W/t/into" && mkdir "$W/t/into"
		"$P" init --file "$W/m/p.dat" --size $(( n / 1000 * 6 + 64 ))M >/dev/null 2>&1 || { note "scaling: persist init failed at $n"; break; }
		if timeit ts "$P" save --upper "$W/t/upper" --file "$W/m/p.dat" --quiet &&
			timeit tr "$P" restore --file "$W/m/p.dat" --into "$W/t/into" --quiet; then
			printf '%s\t%s\t%s\t%s\n' "$n" "$entries" "$ts" "$tr" >> "$tsv"
		else
			note "scaling: save or restore failed at $n entries"
		fi
	done
done
rm -rf "$W/t/upper" "$W/t/into"
cleanup
rm -f "$W/ext4.img"

# per-entry costs (median seconds / entries) and the growth against the smallest upper
awk -F'\t' '{ k = $1; e[k] = $2; s[k] = s[k] " " $3; r[k] = r[k] " " $4; if (!(k in seen)) { seen[k] = 1; ord[++n] = k } }
	function med(str,   a, m, i, j, t) { m = split(str, a, " "); for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t } return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
	END { for (i = 1; i <= n; i++) { k = ord[i]; printf "%s\t%s\t%.4f\t%.4f\n", k, e[k], med(s[k]), med(r[k]) } }' "$tsv" > "$W/med.tsv"
{
	echo "## Scaling: persist save and restore against the number of entries"
	echo
	echo "Small files only (200-4000 bytes, 100 a directory), upper and restore target on tmpfs, save file on a loop-mounted"
	echo "ext4 image; median of $BENCH_SCALE_REPS repetitions (1 at 100k). Baseline = the cost per entry at the smallest upper;"
	echo "ratio = per-entry cost / baseline (fixed costs make small uppers dear per entry; "marginal" is the cost of each
entry added since the previous size). Flagged **super-linear** when the per-entry cost or the marginal cost (against
the previous step's) grew above 1.5 (noise makes 1.0-1.5 inconclusive; one run at 100k)."
	echo "Command: \`BENCH_SCALE='$BENCH_SCALE' bench/scaling.sh\`. Raw figures: \`out/bench/scaling.tsv\`."
	echo
	echo "| entries | save | per entry | ratio to smallest | marginal per entry | restore | per entry | ratio to smallest | marginal per entry | growth |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' 'NR == 1 { bs = $3 / $2; br = $4 / $2 }
		{ ps = $3 / $2; pr = $4 / $2; rs = ps / bs; rr = pr / br
		  ms = (NR == 1) ? "-" : sprintf("%.1f µs", ($3 - le3) / ($2 - le2) * 1e6)
		  mr = (NR == 1) ? "-" : sprintf("%.1f µs", ($4 - le4) / ($2 - le2) * 1e6)
		  # super-linear: the cost per entry, or the marginal cost against the previous step, grew above 1.5x
		  gs = (NR > 2 && pms > 0) ? (($3 - le3) / ($2 - le2)) / pms : 0
		  gr = (NR > 2 && pmr > 0) ? (($4 - le4) / ($2 - le2)) / pmr : 0
		  flag = (rs > 1.5 || rr > 1.5 || gs > 1.5 || gr > 1.5) ? "**super-linear**" : (NR == 1 ? "baseline" : "linear (not above 1.5)")
		  if (NR > 2) flag = flag sprintf(" (marginal vs previous: save %.2f, restore %.2f)", gs, gr)
		  if (NR > 1) { pms = ($3 - le3) / ($2 - le2); pmr = ($4 - le4) / ($2 - le2) }
		  printf "| %d | %.3f s | %.1f µs | %.2f | %s | %.3f s | %.1f µs | %.2f | %s | %s |\n", $2, $3, ps * 1e6, rs, ms, $4, pr * 1e6, rr, mr, flag
		  le2 = $2; le3 = $3; le4 = $4 }' "$W/med.tsv"
	echo
} >> "$md"
"$TOP/bench/scaling-svg.sh" "$W/med.tsv" "$B/persist-scaling.svg" || note "scaling: unable to draw persist-scaling.svg"
exit 0
