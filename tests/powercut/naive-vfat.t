#!/usr/bin/env bash
# naive-vfat.t: the control. The same workload saved the way the peers do (busybox tar to a
# temporary file, fsync, rename over save.tar, fsync the directory) on a vfat data disk, cut at
# every flush epoch like the persist campaigns. The simulator must catch lost or torn saves:
# a control that finds nothing fails (the campaign would be blind). pc_naive_campaign in
# lib/campaign.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
pc_prepare naive-vfat
pc_naive_campaign vfat "lost|torn"
done_testing
