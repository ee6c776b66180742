#!/usr/bin/env bash
# upper-file.t: the disk-upper campaign of upper-ext4.t with the upper in an ext4 image file on a
# vfat medium (live.upper=file:/live/persistence.img, the way to persist on a FAT stick): the
# medium itself is the disk behind powercut, the overlay's writes reach it through a loop device
# and the vfat file's data. Each crash image: fsck.fat -n clean but for the dirty bit, mtools reads
# the image file out, then the checks of upper-ext4.t on it.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
. "$TOP/tests/powercut/lib/upper.sh"
pc_prepare upper-file
pc_upper_campaign vfat upper-file
done_testing
