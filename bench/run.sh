#!/usr/bin/env bash
# bench/run.sh: every benchmark (sizes, boot, persist, scaling) into out/bench/report.md with the
# pictures out/bench/boot-timeline.svg and out/bench/persist-scaling.svg. Never fails: a part
# that cannot run says so in the report. BENCH_FULL=1 for the issue's sizes (much longer);
# BENCH_PEERS=1 to measure live-boot, dracut and the floor too (bench/peers.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
: > "$B/notes.md"
PARTS="size boot persist scaling options attach peers"
rm -f "$B/report.md" "$B"/{size,boot,persist,scaling,options,attach,peers}.md
start=$(now)
times=()
for part in $PARTS; do
	t=$(now)
	say "---- $part"
	"$TOP/bench/$part.sh" || note "$part: the script stopped with status $? (its figures may be partial)"
	times+=("$part $(elapsed "$t") s")
done
{
	echo "# overlive benchmarks"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo -)$(git -C "$TOP" diff --quiet 2>/dev/null || echo ' (with local changes)'),"
	echo "$(nproc) CPUs, QEMU accelerator ${ACCEL:-tcg}, \`BENCH_FULL=$BENCH_FULL\` ($([ "$BENCH_FULL" = 1 ] && echo "the issue's sizes" || echo "reduced default sizes; BENCH_FULL=1 for the issue's"))."
	echo "The machine is shared and noisy: compare the ratios (both sides measured in this run), not the seconds."
	echo "Reproduce everything with \`./build.sh bench\` (or \`bench/run.sh\` after \`./build.sh\`)."
	echo
	for part in $PARTS; do
		[ -s "$B/$part.md" ] && cat "$B/$part.md"
	done
	echo "## Pictures"
	echo
	for f in boot-timeline.svg persist-scaling.svg; do
		if [ -s "$B/$f" ]; then echo "- [$f]($f)"; else echo "- $f: not drawn"; fi
	done
	echo
	echo "## Not measured, or measured with trouble"
	echo
	if [ -s "$B/notes.md" ]; then cat "$B/notes.md"; else echo "- nothing: every figure above was measured"; fi
	echo
	echo "Bench time: $(elapsed "$start") s ($(IFS=,; echo "${times[*]}" | sed 's/,/, /g'))."
} > "$B/report.md"
say "report: $B/report.md"
exit 0
