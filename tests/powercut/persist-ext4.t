#!/usr/bin/env bash
# persist-ext4.t: power cuts during persist saves and compactions on an ext4 data disk.
# As persist-vfat.t (one recorded QEMU run, crash images for every flush epoch checked on the
# host after the kernel replayed the journal, then e2fsck -fn; pc_persist_campaign in
# lib/campaign.sh). Torn writes tear at 4 KiB boundaries (--tear-unit 4096), as ext4 expects of
# a disk: see pc_torn in lib/campaign.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
pc_prepare persist-ext4
# Counts are SHORT/FULL (POWERCUT=full). Booted crash images with POWERCUT=full only
# (persist-vfat.t boots one in the short run; the restore does not depend on the filesystem);
# one boot of a cut persist init; one recovery cut again.
pc_persist_campaign ext4 rounds=4/16 \
	boots=0/2 boot_cut='--policy random' \
	inits=1/4 \
	recoveries=1/3 recovery_cut='--policy random .*'
done_testing
