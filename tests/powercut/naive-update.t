#!/usr/bin/env bash
# naive-update.t: the control of update-vfat.t. The new image copied the way a user would without
# overlive-update: `cp new.sqfs live/root.sqfs && sync` in the live system (the medium remounted
# read-write), the same medium, recording and host check (pc-check naive-update): live/root.sqfs
# must be the old image or the new one. Cut at every flush epoch with every policy (pc_cuts_every:
# one recording is short), the simulator must find a stick holding neither: a control that finds
# none fails (the campaign would be blind). lib/update.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/update.sh"
[ -x "$O/bin/overlive-update" ] || skip_all "build first: ./build.sh (no $O/bin/overlive-update)"
pc_prepare naive-update
pc_naive_update_campaign
done_testing
