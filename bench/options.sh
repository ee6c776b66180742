#!/usr/bin/env bash
# bench/options.sh: what live.verify and live.toram cost, in guest seconds per 100 MB under the
# machine's QEMU accelerator: the lower stage (stage=lower to the next stage line) of one medium
# with a 100 MB incompressible layer, booted plain, with live.verify, live.toram and both.
# Writes $B/options.md; never fails.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/qemu.sh"
out=$B/options.md
: "${BENCH_OPTIONS_MB:=100}"

mkdir -p "$QDIR/big/opt"
head -c "${BENCH_OPTIONS_MB}M" /dev/urandom > "$QDIR/big/opt/blob"
mksquashfs "$QDIR/big" "$QDIR/big.sqfs" -noappend -no-progress -quiet -noD -noI -noF >/dev/null
rm -rf "$QDIR/big"
LAYERS="$QDIR/big.sqfs" "$TOP/images/mkmedium.sh" ext4 "$O/minimal.sqfs" "$QDIR/medium.img" >/dev/null
mb=$(awk -v b="$(( $(stat -c %s "$QDIR/big.sqfs") + $(stat -c %s "$O/minimal.sqfs") ))" 'BEGIN { printf "%.1f", b / 1048576 }')

# lower_stage APPEND: seconds from stage=lower to the stage after it, or -
lower_stage() {
	qemu_start "quiet $1" -drive "file=$QDIR/medium.img,format=raw,if=virtio,snapshot=on"
	if qemu_expect 'overlive# ' 240 >/dev/null && qemu_run 'dmesg | grep -o "stage=[a-z-]* t=[0-9.]*" > /dev/console'; then
		tr -d '\r' < "$QLOG" | grep -o 'stage=[a-z-]* t=[0-9.]*' | awk -F'[= ]' '
			$2 == "lower" { t = $4; next } t != "" && !done { printf "%.3f\n", $4 - t; done = 1 }
			END { if (!done) print "-" }' | tail -n 1
	else
		echo -
	fi
	qemu_stop
}

plain=$(lower_stage "")
verify=$(lower_stage "live.verify")
toram=$(lower_stage "live.toram")
both=$(lower_stage "live.toram live.verify")
per100() { awk -v x="$1" -v p="$plain" -v mb="$mb" 'BEGIN { if (x == "-" || p == "-") print "-"; else printf "%.3f\n", (x - p) * 100 / mb }'; }
{
	echo "## Boot options: live.verify and live.toram (issue 8)"
	echo
	echo "One ext4 medium with the minimal root and a ${BENCH_OPTIONS_MB} MB incompressible layer ($mb MiB of squashfs in all),"
	echo "virtio, QEMU ${ACCEL:-tcg}; the lower stage's guest time, one boot each. Ratio = with the option / plain."
	echo
	row "boot" "lower stage" "ratio to plain" "cost per 100 MB" "command"
	row "---" "---" "---" "---" "---"
	row "plain" "$(fmt_s "$plain")" "1.00" "-" "\`bench/options.sh\`"
	row "live.verify" "$(fmt_s "$verify")" "$(ratio "$verify" "$plain")" "$(fmt_s "$(per100 "$verify")")" "same"
	row "live.toram" "$(fmt_s "$toram")" "$(ratio "$toram" "$plain")" "$(fmt_s "$(per100 "$toram")")" "same"
	row "live.toram live.verify (hashed while copying)" "$(fmt_s "$both")" "$(ratio "$both" "$plain")" "$(fmt_s "$(per100 "$both")")" "same"
	echo
} > "$out"
[ "$plain" != - ] || note "options: the plain boot gave no stage lines"
cat "$out" >&2
exit 0
