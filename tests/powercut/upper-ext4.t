#!/usr/bin/env bash
# upper-ext4.t: power cuts while the live system changes files on a disk upper (live.upper=, an
# ext4 data disk): copy-ups, fsynced appends and in-place overwrites, renames of lower and upper
# files, deletions of lower files (whiteouts), a lower file renamed over another, a lower
# directory removed and made again (opaque). One QEMU run records every write
# (tests/powercut/lib/workload.sh upper); every flush epoch's crash images are made offline and
# checked on the host (pc-check upper): the journal replays, e2fsck is clean, and the merged view
# is the guest's view after one operation between the last durable one and the last started (a
# renamed file under exactly one name, whiteouts and opaque directories still hiding the lower),
# the same at a second mount. A few crash images are booted. POWERCUT=full: more rounds, more
# subsets per epoch.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/lib/qemu.sh"
. "$TOP/tests/powercut/lib/campaign.sh"
. "$TOP/tests/powercut/lib/recovery.sh"
. "$TOP/tests/powercut/lib/upper.sh"
pc_prepare upper-ext4
pc_upper_campaign ext4 upper-ext4
done_testing
