#!/usr/bin/env bash
# bench/scaling.sh: how persist's costs grow with what it reads, in three series (BENCH_SERIES):
# files (full save and restore of 1k, 10k, with BENCH_FULL=1 100k small-file entries), hardlinks
# (the same with a tenth of the entries hardlink pairs, plus a save with nothing changed and a save
# right after a restore) and rollbacks (verify and restore of a save file holding 10, 100, 1000
# chained rollbacks, against one holding as many plain saves). Every series goes through
# cost_table (bench/lib.sh): cost per unit and a flag on super-linear growth. Writes scaling.md,
# scaling.tsv, scaling-hardlinks.tsv, scaling-rollbacks.tsv and persist-scaling.svg (files).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if [ "$BENCH_FULL" = 1 ]; then : "${BENCH_SCALE:=1000 10000 100000}"; else : "${BENCH_SCALE:=1000 10000}"; fi
: "${BENCH_SCALE_REPS:=3}"
: "${BENCH_SERIES:=files hardlinks rollbacks}"
: "${BENCH_HARDLINK_SCALE:=$BENCH_SCALE}"
: "${BENCH_ROLLBACKS:=10 100 1000}"
: "${BENCH_ROLLBACK_REPS:=3}"
: "${BENCH_ROLLBACK_TIMEOUT:=10}"
W=$B/scaling.d md=$B/scaling.md tsv=$B/scaling.tsv htsv=$B/scaling-hardlinks.tsv rtsv=$B/scaling-rollbacks.tsv
: > "$md"; : > "$tsv"; : > "$htsv"; : > "$rtsv"
[ -x "$O/bin/persist" ] || { note "scaling: not measured: no $O/bin/persist (run ./build.sh)"; exit 0; }
[ "$(id -u)" = 0 ] || { note "scaling: not measured: needs root for loop and tmpfs mounts"; exit 0; }
P=$O/bin/persist
mounted=()
cleanup() { local i; for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null; done; mounted=(); }
trap cleanup EXIT
mnt() { mkdir -p "${@: -1}" && mount "$@" && mounted+=("${@: -1}"); }

# same_tree A B: B holds A's files with A's contents and A's hardlink groups (a check, not timed)
same_tree() {
	local s n
	n=$(diff -rq "$1" "$2" | wc -l)
	[ "$n" = 0 ] || { echo "$n files differ"; return 1; }
	for s in "$1" "$2"; do
		(cd "$s" && find . -type f -links +1 -printf '%i %P\n' | sort -k1,1 -k2 |
			awk '$1 != i { if (NR > 1) print g; i = $1; g = $2; next } { g = g " " $2 } END { if (NR) print g }' | sort)
	done | sort | uniq -u | grep -q . && { echo "hardlink groups differ"; return 1; }
	return 0
}

# series_files: small files only, 100 a directory: full save, save with nothing changed, restore
series_files() {
	local n files entries reps r ts ti tr
	for n in $BENCH_SCALE; do
		files=$(( n * 100 / 101 ))     # 100 files a directory: n entries in all
		rm -rf "$W/t/upper" && "$TOP/bench/gentree.sh" "$W/t/upper" "$files" 0
		# older than 2 s at the save, as an upper changed before a save is: a save compares
		# the entries changed in the 2 s before the last save again (flag RECENT), which would
		# make the save with nothing changed right after a full save of a new tree a full compare
		sleep 2.1
		entries=$(find "$W/t/upper" | wc -l)
		# every size the same repetitions, 100k too: the first restore after a 100k tree was made
		# ran 1.3x slower than the next two (15.5 against 11.4-11.8 us an entry, the same save
		# file), which alone flagged the restore super-linear when 100k had one repetition
		reps=$BENCH_SCALE_REPS
		say "scaling: files: $entries entries, $reps repetition(s)"
		for r in $(seq 1 "$reps"); do
			rm -f "$W/m/p.dat"; rm -rf "$W/t/into" && mkdir "$W/t/into"
			"$P" init --file "$W/m/p.dat" --size $(( n / 1000 * 6 + 64 ))M >/dev/null 2>&1 || { note "scaling: persist init failed at $n"; break; }
			if timeit ts "$P" save --upper "$W/t/upper" --file "$W/m/p.dat" --quiet &&
				timeit ti "$P" save --upper "$W/t/upper" --file "$W/m/p.dat" --quiet &&
				timeit tr "$P" restore --file "$W/m/p.dat" --into "$W/t/into" --quiet; then
				printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$entries" "$ts" "$tr" "$ti" >> "$tsv"
			else
				note "scaling: save or restore failed at $n entries"
			fi
		done
	done
	rm -rf "$W/t/upper" "$W/t/into"
	medians "$tsv" > "$W/med.tsv"
	{
		echo "## Scaling: persist save and restore against the number of entries"
		echo
		echo "Small files only (200-4000 bytes, 100 a directory), upper and restore target on tmpfs, save file on a loop-mounted"
		echo "ext4 image; median of $BENCH_SCALE_REPS repetitions at every size. Baseline = the cost per entry at the smallest upper;"
		echo "ratio = per-entry cost / baseline (fixed costs make small uppers dear per entry; \"marginal\" is the cost of each"
		echo "entry added since the previous size). Flagged **super-linear** when the per-entry cost or the marginal cost (against"
		echo "the previous step's) grew above 1.5 (noise makes 1.0-1.5 inconclusive)."
		echo "The save with nothing changed runs right after the full save, into the same save file; the tree is made 2 s"
		echo "before the first repetition's full save (entries changed less than 2 s before a save are compared again by the"
		echo "next one, persist-format.md)."
		echo "Command: \`BENCH_SERIES=files BENCH_SCALE='$BENCH_SCALE' bench/scaling.sh\`. Raw figures: \`out/bench/scaling.tsv\`"
		echo "(n, entries, save, restore, save with nothing changed)."
		echo
		cost_table "$W/med.tsv" entries entry 3:save 4:restore "5:save, nothing changed"
		echo
	} >> "$md"
	"$TOP/bench/scaling-svg.sh" "$W/med.tsv" "$B/persist-scaling.svg" || note "scaling: unable to draw persist-scaling.svg"
}

# series_hardlinks: n entries of which n/10 are the second names of hardlink pairs: full save,
# save with nothing changed, restore, save of the restored tree (every group has new inodes);
# columns 3-5 as in the files series, so ratio_table can divide one by the other
series_hardlinks() {
	local n links files entries reps r ts ti tr ta bad d
	for n in $BENCH_HARDLINK_SCALE; do
		links=$(( n / 10 )) files=$(( (n - n / 10) * 100 / 101 ))
		rm -rf "$W/t/upper" && "$TOP/bench/gentree.sh" -l "$links" "$W/t/upper" "$files" 0
		entries=$(find "$W/t/upper" | wc -l)
		reps=$BENCH_SCALE_REPS
		say "scaling: hardlinks: $entries entries, $links hardlink pairs, $reps repetition(s)"
		for r in $(seq 1 "$reps"); do
			rm -f "$W/m/p.dat"; rm -rf "$W/t/into" && mkdir "$W/t/into"
			"$P" init --file "$W/m/p.dat" --size $(( n * 8 / 1000 + 64 ))M >/dev/null 2>&1 || { note "scaling: hardlinks: persist init failed at $n"; break; }
			if timeit ts "$P" save --upper "$W/t/upper" --file "$W/m/p.dat" --quiet &&
				timeit ti "$P" save --upper "$W/t/upper" --file "$W/m/p.dat" --quiet &&
				timeit tr "$P" restore --file "$W/m/p.dat" --into "$W/t/into" --quiet &&
				timeit ta "$P" save --upper "$W/t/into" --file "$W/m/p.dat" --quiet; then
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$entries" "$ts" "$tr" "$ti" "$ta" >> "$htsv"
			else
				note "scaling: hardlinks: a save or the restore failed at $n entries"
				continue
			fi
			if [ "$r" = 1 ] && ! d=$(same_tree "$W/t/upper" "$W/t/into"); then
				note "scaling: hardlinks: the restore of $entries entries is not the upper: $d"
				bad+="$entries ($d), "
			fi
		done
	done
	rm -rf "$W/t/upper" "$W/t/into"
	medians "$htsv" > "$W/hmed.tsv"
	{
		echo "## Scaling: hardlinks"
		echo
		echo "As the series above, with a tenth of the entries the second names of hardlink pairs (\`bench/gentree.sh -l\`: pairs"
		echo "across directories; 10,000 pairs at 100k). Full save into a new save file, then a save with nothing changed, the"
		echo "restore, and a save of the restored tree into the same file (new inodes, the same contents: every file and group is read and compared, no data is written). Same flags;"
		echo "the third table divides by the files series at the same size (flagged when that ratio is above 1.5 and grew above"
		echo "1.5 times its value at the smallest size). Command: \`BENCH_SERIES=hardlinks BENCH_HARDLINK_SCALE='$BENCH_HARDLINK_SCALE' bench/scaling.sh\`."
		echo "Raw figures: \`out/bench/scaling-hardlinks.tsv\` (n, entries, save, restore, save with nothing changed, save after restore)."
		echo
		cost_table "$W/hmed.tsv" entries entry "3:full save" 4:restore
		echo
		cost_table "$W/hmed.tsv" entries entry "5:save, nothing changed" "6:save after restore"
		echo
		if [ -s "$W/med.tsv" ]; then
			ratio_table "$W/hmed.tsv" "$W/med.tsv" entries "with hardlinks" "files only" "3:full save" 4:restore "5:save, nothing changed"
			echo
		fi
		[ -z "${bad:-}" ] || { echo "**The restored tree differed from the upper** at: ${bad%, } entries (checked once per size)."; echo; }
	} >> "$md"
}

# rb_gen F: the save file's current generation and the count of generations in its active half
# (persist log --json), under the step timeout
rb_gen() {
	timeout "$BENCH_ROLLBACK_TIMEOUT" "$P" log --file "$1" --json |
		awk '/"gen":/ { n++ } /"current":true/ { sub(/.*"gen":/, ""); sub(/,.*/, ""); g = $0 } END { print g, n }'
}
# rb_step KIND F UPPER: one more generation: chain: a rollback to the generation before the current
# one (whose state is then itself a rollback's); plain: a save of a changed file
rb_step() {
	local g
	if [ "$1" = chain ]; then
		g=$(( rb_cur[chain] - 1 ))
		timeout "$BENCH_ROLLBACK_TIMEOUT" "$P" rollback "$g" --file "$2" >/dev/null
	else
		printf '%s\n' "${rb_cur[plain]}" > "$3/b"
		timeout "$BENCH_ROLLBACK_TIMEOUT" "$P" save --upper "$3" --file "$2" --quiet
	fi
}

# series_rollbacks: chained rollbacks (gen k rolls back to k-2: every load replays each target
# again, recursively) against plain saves, the same number of generations in a save file of the
# same size; each series is built up step by step and stops at the first step over the timeout
series_rollbacks() {
	local max n kind f up r tv tr rc mib step sizes g
	declare -gA rb_cur=() rb_done=() rb_dnf=()
	read -ra sizes <<< "$BENCH_ROLLBACKS"
	read -ra sizes <<< "$(printf '%s\n' "${sizes[@]}" | sort -n | tr '\n' ' ')"
	max=${sizes[${#sizes[@]} - 1]}
	mib=$(( ((max + 3) * 2 * 4096 + 8192 + 65536 + 1048575) / 1048576 ))    # a 4 KiB block per generation, two halves
	for kind in plain chain; do
		f=$W/m/$kind.dat up=$W/t/rb-$kind
		rm -f "$f"; rm -rf "$up" && mkdir -p "$up" && echo a > "$up/a"
		if ! { "$P" init --file "$f" --size "${mib}M" >/dev/null 2>&1 && "$P" save --upper "$up" --file "$f" --quiet &&
			echo b > "$up/b" && "$P" save --upper "$up" --file "$f" --quiet; }; then
			note "scaling: rollbacks: unable to make the $kind save file"
			return 0
		fi
		read -r g _ < <(rb_gen "$f")
		rb_cur[$kind]=${g:-2} rb_done[$kind]=0
	done
	for n in "${sizes[@]}"; do
		for kind in plain chain; do
			[ -z "${rb_dnf[$kind]:-}" ] || continue
			f=$W/m/$kind.dat up=$W/t/rb-$kind
			say "scaling: rollbacks: $kind to $n generations"
			while [ "${rb_done[$kind]}" -lt "$n" ]; do
				rb_step "$kind" "$f" "$up"; rc=$?
				step="$([ "$kind" = chain ] && echo rollback || echo save) $(( ${rb_done[$kind]} + 1 ))"
				if [ "$rc" = 124 ]; then
					rb_dnf[$kind]="did not finish at $n: $step took over ${BENCH_ROLLBACK_TIMEOUT} s"
					break
				elif [ "$rc" != 0 ]; then
					rb_dnf[$kind]="failed at $n: $step exited with $rc"
					break
				fi
				rb_done[$kind]=$(( ${rb_done[$kind]} + 1 )) rb_cur[$kind]=$(( ${rb_cur[$kind]} + 1 ))
			done
			[ -z "${rb_dnf[$kind]:-}" ] || continue
			# every generation still in the active half: the save file was big enough not to compact
			[ "$(rb_gen "$f")" = "${rb_cur[$kind]} $(( n + 2 ))" ] || { rb_dnf[$kind]="failed at $n: the log does not show generation ${rb_cur[$kind]} and $(( n + 2 )) generations"; continue; }
			for r in $(seq 1 "$BENCH_ROLLBACK_REPS"); do
				rm -rf "$W/t/into" && mkdir "$W/t/into"
				timeit tv timeout "$BENCH_ROLLBACK_TIMEOUT" "$P" verify --file "$f" >/dev/null &&
					timeit tr timeout "$BENCH_ROLLBACK_TIMEOUT" "$P" restore --file "$f" --into "$W/t/into" --quiet
				rc=$?
				if [ "$rc" = 0 ]; then
					printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$n" "$tv" "$tr" >> "$rtsv"
				else
					rb_dnf[$kind]="did not finish at $n: verify or restore $([ "$rc" = 124 ] && echo "took over ${BENCH_ROLLBACK_TIMEOUT} s" || echo "exited with $rc")"
					break
				fi
			done
		done
	done
	rm -rf "$W/t/into" "$W/t"/rb-* "$W/m"/{plain,chain}.dat
	for kind in plain chain; do
		awk -F'\t' -v OFS='\t' -v k="$kind" '$1 == k { print $2, $3, $4, $5 }' "$rtsv" > "$W/rb-$kind.raw"
		medians "$W/rb-$kind.raw" > "$W/rb-$kind.med"
		[ -z "${rb_dnf[$kind]:-}" ] || note "scaling: rollbacks: the $kind series ${rb_dnf[$kind]}"
	done
	{
		echo "## Scaling: chained rollbacks"
		echo
		echo "A save file of ${mib} MiB with two saves, then N rollbacks each to the generation before the current one (so generation"
		echo "k is generation k-2's state, itself a rollback's): the chain. The baseline is a save file of the same size with the same"
		echo "number of generations made by saves (one small file changed each time): plain. Timed: \`persist verify\` and"
		echo "\`persist restore\` of the whole file, median of $BENCH_ROLLBACK_REPS. Each series is built up one step at a time and"
		echo "stops at the first step (rollback, save, verify or restore) over ${BENCH_ROLLBACK_TIMEOUT} s. Per rollback = time / N; flags"
		echo "as above; the last table divides chain by plain (flagged when that ratio is above 1.5 and grew above 1.5 times"
		echo "its value at the smallest N). Command: \`BENCH_SERIES=rollbacks BENCH_ROLLBACKS='$BENCH_ROLLBACKS' bench/scaling.sh\`."
		echo "Raw figures: \`out/bench/scaling-rollbacks.tsv\` (series, N, N, verify, restore)."
		echo
		for kind in chain plain; do
			echo "**$kind**$([ -n "${rb_dnf[$kind]:-}" ] && echo ": ${rb_dnf[$kind]}")"
			echo
			if [ -s "$W/rb-$kind.med" ]; then cost_table "$W/rb-$kind.med" rollbacks rollback 3:verify 4:restore; else echo "(no size finished)"; fi
			echo
		done
		if [ -s "$W/rb-chain.med" ] && [ -s "$W/rb-plain.med" ]; then
			echo "**chain / plain**"
			echo
			ratio_table "$W/rb-chain.med" "$W/rb-plain.med" rollbacks chain plain 3:verify 4:restore
			echo
		fi
	} >> "$md"
}

rm -rf "$W" && mkdir -p "$W"
mnt -t tmpfs -o size=2g tmpfs "$W/t" || { note "scaling: not measured: unable to mount a tmpfs"; exit 0; }
truncate -s 1200M "$W/ext4.img"
# inode tables and journal written now: no ext4lazyinit in the background of the first series
{ mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$W/ext4.img" && mnt -o loop "$W/ext4.img" "$W/m"; } || { note "scaling: not measured: unable to loop-mount ext4"; exit 0; }
for s in $BENCH_SERIES; do
	case $s in
	files | hardlinks | rollbacks) "series_$s" ;;
	*) note "scaling: no series '$s' (files, hardlinks, rollbacks)" ;;
	esac
done
cleanup
rm -f "$W/ext4.img"
exit 0
