#!/usr/bin/env bash
# update-vfat.t: power cuts during an A/B root image update (docs/updates.md) on a vfat stick.
# The disk behind powercut is the boot medium itself: live/root.sqfs (slot A), a save file
# persist.dat made over slot A, one spare MiB for the marks. Recording 1: slot A's live system
# runs overlive-update on the new image (in its /opt, with its sha256): the copy into
# live/root-b.sqfs, the read-back, the switch of the record live/slots. Recording 2, from its final
# image: the boot that tries slot B (the init counts a try down through the device) and
# overlive-update --mark-good. POWERCUT=full adds recording 3: slot B never marked good, booted
# four times from recording 1's image (tries 2, 1, 0, then back on slot A). Every flush epoch of
# each is cut and checked on the host (pc-check update): the slot the init would boot holds
# exactly its image, the record is the old or the new one, tries never go up, the save file is
# untouched, fsck.fat -n clean but for the dirty bit. A few crash images are booted: the init
# must pick the slot the host predicted. The control is naive-update.t. lib/update.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/update.sh"
[ -x "$O/bin/overlive-update" ] || skip_all "build first: ./build.sh (no $O/bin/overlive-update)"
pc_prepare update-vfat
pc_update_campaign
done_testing
