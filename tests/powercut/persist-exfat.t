#!/usr/bin/env bash
# persist-exfat.t: power cuts during persist saves and compactions on an exFAT data disk, as most
# large USB sticks come formatted. As persist-vfat.t (one recorded QEMU run, crash images for every
# flush epoch checked on the host, a few booted; pc_persist_campaign in lib/campaign.sh). exFAT
# keeps a checksum over each file's directory entry set, a valid-data length beside the size, and
# may mark a file contiguous with no FAT chain: the save file, preallocated and then written in
# place only, must survive a torn write of all of that. Torn writes tear at 512-byte sectors
# (pc_torn). The host kernel may lack exfat: pc-check runs fsck.exfat -n on each crash image and
# reads the save file through exfat-fuse. Zero violations expected. POWERCUT=full: more rounds,
# more subsets per epoch, more booted and recovered crash images.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
pc_need_fs exfat
pc_prepare persist-exfat
# Counts are SHORT/FULL (POWERCUT=full).
pc_persist_campaign exfat rounds=4/16 \
	boots=1/4 boot_cut='--torn' \
	inits=1/4 \
	recoveries=1/3 recovery_cut='--torn .*'
done_testing
