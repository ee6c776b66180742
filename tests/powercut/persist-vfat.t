#!/usr/bin/env bash
# persist-vfat.t: power cuts during persist saves and compactions on a vfat data disk.
# One QEMU run records every write of the workload (tests/powercut/lib/workload.sh persist);
# crash images for every flush epoch are then made offline and checked on the host
# (tests/powercut/lib/pc-check); a few are booted (pc_persist_campaign in lib/campaign.sh).
# Zero violations expected. POWERCUT=full: a longer workload and more subsets per epoch.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
pc_prepare persist-vfat
# Counts are SHORT/FULL (POWERCUT=full). vfat tears at sectors (pc_torn), so the booted crash
# images and the recovery are torn ones: the init must restore the generation the host check
# found. The cut persist init (before its ACK: not counted in the sweep) is booted twice, its
# temporary's chain on vfat being what the init's FAT check must repair.
pc_persist_campaign vfat rounds=4/16 \
	boots=1/4 boot_cut='--torn' \
	inits=2/4 \
	recoveries=1/3 recovery_cut='--torn .*'
done_testing
