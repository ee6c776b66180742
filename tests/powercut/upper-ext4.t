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
pc_prepare upper-ext4
rounds=4
[ "$POWERCUT" = full ] && rounds=12
t0=$SECONDS
pc_record ext4 upper $rounds
pc_sweep ext4 upper
ok $([ "$CUTS" -ge 30 ]; echo $?) "ext4/upper: $CUTS cuts swept over every flush epoch"
is "$VIOLATIONS" 0 "ext4/upper: no violation in $STATES distinct crash images"
pc_table_row upper-ext4 $((SECONDS - t0))
# the cuts that fell among operations started and not yet durable, by kind (one cut counts once a kind)
inflight=$(sed -n 's/.* open=\([^ ]*\).*/\1/p' "$PCD/verdicts" | grep -v '^-$' |
	awk -F, '{ delete s; for (i = 1; i <= NF; i++) if (!s[$i]++) n[$i]++ } END { for (k in n) printf "%s %d\n", k, n[k] }' | sort)
diag "ext4/upper: cuts with operations in flight, by kind: $(echo "$inflight" | tr '\n' ' ')"
for k in mv rm mkdir write; do
	c=$(echo "$inflight" | awk -v k=$k '$1 == k { print $2 }')
	ok $([ "${c:-0}" -gt 0 ]; echo $?) "ext4/upper: ${c:-0} cuts fell while a $k was in flight (started, not yet durable)"
done

# Crash images booted for real: the init mounts the upper (after the journal replay) and the live
# system's view must be the one the host check found.
nboot=1
[ "$POWERCUT" = full ] && nboot=3
grep -- '--policy random' "$PCD/verdicts" | grep ' :: ok' > "$PCD/random-ok"
awk -v n=$nboot -v t="$(wc -l < "$PCD/random-ok")" '{ for (k = 1; k <= n; k++) if (NR == int(t * k / (n + 1)) + 1) print }' \
	"$PCD/random-ok" > "$PCD/boots"
while read -r e w rest; do
	args=${rest%% :: *}
	want=$(echo "$rest" | sed -n 's/.* hash=\([0-9a-f]*\) .*/\1/p')
	cmd="$PC replay --log $PCD/record.log --base $PCD/base.img --out $PCD/boot.img --epoch $e"
	[ "$w" = 0 ] || cmd="$cmd --writes $w"
	$cmd $args >/dev/null 2>&1
	pc_boot_cut "$PCD/boot.img" "$want" upper
	ok $? "ext4/upper: boot after the cut at epoch $e ($args): the live view is the one the host found"
done < "$PCD/boots"
done_testing
