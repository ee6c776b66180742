#!/usr/bin/env bash
# persist-vfat.t: power cuts during persist saves and compactions on a vfat data disk.
# One QEMU run records every write of the workload (tests/powercut/lib/workload.sh persist);
# crash images for every flush epoch are then made offline and checked on the host
# (tests/powercut/lib/pc-check); a few are booted. Zero violations expected.
# POWERCUT=full: a longer workload and more subsets per epoch.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
pc_prepare persist-vfat
rounds=4
[ "$POWERCUT" = full ] && rounds=16
t0=$SECONDS
pc_record vfat persist $rounds
pc_sweep vfat persist
ok $([ "$CUTS" -ge 15 ]; echo $?) "vfat/persist: $CUTS cuts swept over every flush epoch"
is "$VIOLATIONS" 0 "vfat/persist: no violation in $STATES distinct crash images"
pc_table_row persist-vfat $((SECONDS - t0))

# A few crash images booted for real: the init must restore the generation the host check found.
nboot=1
[ "$POWERCUT" = full ] && nboot=4
pc_boot_cuts vfat persist $nboot '--torn'

# Cuts during the workload's persist init (before its ACK: not counted in the sweep): such a crash
# image booted must give a working persist init and save at the next clean stop. 4 with POWERCUT=full.
ninit=2
[ "$POWERCUT" = full ] && ninit=4
pc_boot_init_cuts vfat $ninit

# Cuts during recovery: a crash image booted behind powercut --record, every flush epoch of that
# boot cut again and checked in the original cut's window (lib/recovery.sh). 3 with POWERCUT=full.
nrec=1
[ "$POWERCUT" = full ] && nrec=3
pc_recoveries vfat $nrec '--torn .* :: ok gen=[1-9]'
done_testing
