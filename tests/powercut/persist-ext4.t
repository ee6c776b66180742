#!/usr/bin/env bash
# persist-ext4.t: power cuts during persist saves and compactions on an ext4 data disk.
# As persist-vfat.t (one recorded QEMU run, crash images for every flush epoch checked on the
# host after the kernel replayed the journal, then e2fsck -fn), and with POWERCUT=full two boots
# of crash images. Torn writes tear at 4 KiB boundaries (--tear-unit 4096), as ext4 expects of a
# disk: see pc_cuts in lib/campaign.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
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
nboot=0
[ "$POWERCUT" = full ] && nboot=2
pc_boot_cuts ext4 persist $nboot '--policy random'

# Cuts during the workload's persist init (before its ACK: not counted in the sweep): such a crash
# image booted must give a working persist init and save at the next clean stop. 4 with POWERCUT=full.
ninit=1
[ "$POWERCUT" = full ] && ninit=4
pc_boot_init_cuts ext4 $ninit

# Cuts during recovery: a crash image booted behind powercut --record, every flush epoch of that
# boot cut again and checked in the original cut's window (lib/recovery.sh). 3 with POWERCUT=full.
nrec=1
[ "$POWERCUT" = full ] && nrec=3
pc_recoveries ext4 $nrec '--policy random .* :: ok gen=[1-9]'
done_testing
