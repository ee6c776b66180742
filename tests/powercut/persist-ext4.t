#!/usr/bin/env bash
# persist-ext4.t: power cuts during persist saves and compactions on an ext4 data disk.
# As persist-vfat.t (one recorded QEMU run, crash images for every flush epoch checked on the
# host after the kernel replayed the journal, then e2fsck -fn), and with POWERCUT=full two boots
# of crash images. Torn writes tear at 4 KiB boundaries (--tear-unit 4096), as ext4 expects of a
# disk: see pc_cuts in lib/campaign.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
pc_prepare persist-ext4
rounds=4
[ "$POWERCUT" = full ] && rounds=16
t0=$SECONDS
pc_record ext4 persist $rounds
pc_sweep ext4 persist
ok $([ "$CUTS" -ge 15 ]; echo $?) "ext4/persist: $CUTS cuts swept over every flush epoch"
is "$VIOLATIONS" 0 "ext4/persist: no violation in $STATES distinct crash images"
pc_table_row persist-ext4 $((SECONDS - t0))

# Booted crash images: with POWERCUT=full only (persist-vfat.t boots one in the short run).
: > "$PCD/boots"
[ "$POWERCUT" = full ] && grep -- '--policy random' "$PCD/verdicts" | grep ' :: ok' > "$PCD/random-ok" &&
	awk -v t="$(wc -l < "$PCD/random-ok")" 'NR == int(t / 3) + 1 || NR == int(t * 2 / 3) + 1' "$PCD/random-ok" > "$PCD/boots"
while read -r e w rest; do
	args=${rest%% :: *}
	want=$(echo "$rest" | sed -n 's/.* hash=\([0-9a-f]*\) .*/\1/p')
	cmd="$PC replay --log $PCD/record.log --base $PCD/base.img --out $PCD/boot.img --epoch $e"
	[ "$w" = 0 ] || cmd="$cmd --writes $w"
	$cmd $args >/dev/null 2>&1
	pc_boot_cut "$PCD/boot.img" "$want"
	ok $? "ext4/persist: boot after the cut at epoch $e ($args): restored the state the host found"
done < "$PCD/boots"
done_testing
