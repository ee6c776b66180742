#!/usr/bin/env bash
# upper-control.t: the disk-upper campaign's control. The workload of upper-ext4.t runs with the
# upper remounted nobarrier: ext4 then never asks the disk to flush, so an fsync or sync returns
# while its writes may still sit in the disk's volatile cache. The same sweep and checks must find
# operations lost after the guest was told they were durable: this shows that the campaign sees
# what the disk upper relies on (the barriers ext4 sends by default).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
pc_prepare upper-control
t0=$SECONDS
PC_QUIET_VIOLATIONS=1

# The cuts that can show it: an epoch in which the guest wrote a mark saying operations are durable
# (DONE durable=1, SYNC). Without barriers the writes of that fsync or sync share the epoch with the
# mark, so a subset may keep the mark and drop them. Each such epoch: its end, and seeded subsets.
control_cuts() {
	local e first last s nseed
	nseed=$(pc_count 6/24)
	while read -r _ e first last; do
		echo "$e 0 --policy none"
		awk -v f="$first" -v l="$last" '$1 == "mark" && $2 >= f && $2 <= l && ($3 == "SYNC" || $6 == "durable=1") { m = 1 }
			END { exit !m }' "$PCD/marks" || continue
		for ((s = 1; s <= nseed; s++)); do echo "$e 0 --policy random --seed $((e * 100 + s))"; done
	done < <(grep '^epoch ' "$PCD/marks")
}
pc_record ext4 upper "$(pc_count 4/12)" nobarrier
PC_CUTS=control_cuts pc_sweep ext4 upper
ok $([ "$CUTS" -ge 30 ]; echo $?) "ext4/upper nobarrier: $CUTS cuts swept over every flush epoch"
lost=$(echo "$VKINDS" | tr ' ' '\n' | grep -c '^lost$')
diag "ext4/upper nobarrier: violation kinds: $(echo "$VKINDS" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{ printf "%s %s, ", $1, $2 }')"
ok $([ "$lost" -gt 0 ]; echo $?) "ext4/upper nobarrier: the campaign finds $lost cuts that lost what an fsync or sync had returned for"
pc_table_row upper-nobarrier $((SECONDS - t0))
done_testing
