#!/usr/bin/env bash
# naive-vfat.t: the control. The same workload saved the way the peers do (busybox tar to a
# temporary file, fsync, rename over save.tar, fsync the directory) on a vfat data disk, cut at
# every flush epoch like the persist campaigns. The simulator must catch lost or torn saves:
# a control that finds nothing fails (the campaign would be blind).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
pc_prepare naive-vfat
rounds=4
[ "$POWERCUT" = full ] && rounds=16
t0=$SECONDS
PC_QUIET_VIOLATIONS=1
pc_record vfat naive $rounds
pc_sweep vfat naive
ok $([ "$CUTS" -ge 15 ]; echo $?) "vfat/naive: $CUTS cuts swept over every flush epoch"
ok $([ "$VIOLATIONS" -gt 0 ]; echo $?) "vfat/naive: the control shows violations ($VIOLATIONS in $CUTS cuts)"
kinds=$(echo $VKINDS | tr ' ' '\n' | sort | uniq -c | awk '{ printf "%s %s, ", $1, $2 }')
diag "vfat/naive: violation kinds: ${kinds%, }" | tee /dev/stderr
echo "$VKINDS" | grep -qwE 'lost|torn'
ok $? "vfat/naive: among them lost or torn saves (not only a leftover temporary name)"
pc_table_row naive-vfat $((SECONDS - t0))
done_testing
