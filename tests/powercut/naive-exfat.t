#!/usr/bin/env bash
# naive-exfat.t: the control of persist-exfat.t. The same workload saved the way the peers do
# (busybox tar to a temporary file, fsync, rename over save.tar, fsync the directory) on an exFAT
# data disk, cut at every flush epoch like the persist campaigns. The simulator must catch lost
# or torn saves: a control that finds nothing fails (the campaign would be blind).
# On exFAT the kernel's fsync flushes the whole device, and no acknowledged save was lost in a
# full run (454 cuts); what the method does leave is a filesystem fsck.exfat calls corrupted (the
# temporary's clusters marked free in the bitmap while its entry holds them) and temporary names.
# So the control asks for those, and sweeps every policy of POWERCUT=full over its rounds even in
# the short run (pc_cuts_every), where one cut per epoch found only temporary names.
# pc_naive_campaign in lib/campaign.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
pc_need_fs exfat
pc_prepare naive-exfat
PC_CUTS=pc_cuts_every pc_naive_campaign exfat "lost|torn|fsck"
done_testing
