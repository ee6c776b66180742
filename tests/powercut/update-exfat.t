#!/usr/bin/env bash
# update-exfat.t: power cuts during an A/B root image update (docs/updates.md) on an exFAT stick,
# as most large USB sticks come formatted. As update-vfat.t (lib/update.sh with PCUFS=exfat): the
# disk behind powercut is the boot medium itself (live/root.sqfs, a save file persist.dat made
# over it, one spare MiB for the marks); recording 1 is the update in slot A's live system (copy,
# read-back, switch), recording 2 the boot that counts slot B's try and the mark-good, 1b a second
# update while B is pending; POWERCUT=full adds slot B never marked good, booted four times. Every
# flush epoch is cut, torn at 512-byte sectors, and each crash image checked on the host (pc-check
# update, the medium read through exfat-fuse): the record is the old or the new one, the slot the
# init boots holds exactly its image, tries never go up, the save file is untouched, fsck.exfat -n
# clean. A few crash images are booted and must come up on the slot the host predicted. exFAT
# has no FAT repair at boot (the init carries fsck.fat only): a crash image whose slot files
# fsck.exfat finds broken is counted.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
PCUFS=exfat
. "$TOP/tests/powercut/lib/update.sh"
[ -x "$O/bin/overlive-update" ] || skip_all "build first: ./build.sh (no $O/bin/overlive-update)"
pc_need_fs exfat
pc_prepare update-exfat
pc_update_campaign
done_testing
