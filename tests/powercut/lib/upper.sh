# upper.sh: the disk-upper campaign, for tests/powercut/upper-*.t (sourced after campaign.sh).
#   pc_upper_campaign FS NAME   FS ext4: the data disk is the upper's ext4 (live.upper=LABEL=);
#                               FS vfat: the data disk is the vfat medium with the upper in the
#                               ext4 image live/persistence.img (live.upper=file:)
# One QEMU run records the workload (workload.sh upper), every flush epoch's crash images are
# checked on the host (pc-check upper), the cuts among operations in flight are counted by kind,
# a few crash images are booted, and the boots that recover from a few are cut again
# (lib/recovery.sh). Needs recovery.sh sourced.
pc_upper_campaign() {
	local fs=$1 name=$2 t0=$SECONDS inflight k c
	pc_record "$fs" upper "$(pc_count 4/12)"
	pc_sweep "$fs" upper
	ok $([ "$CUTS" -ge 30 ]; echo $?) "$fs/upper: $CUTS cuts swept over every flush epoch"
	is "$VIOLATIONS" 0 "$fs/upper: no violation in $STATES distinct crash images"
	pc_table_row "$name" $((SECONDS - t0))
	# the cuts that fell among operations started and not yet durable, by kind (one cut counts once a kind)
	inflight=$(sed -n 's/.* open=\([^ ]*\).*/\1/p' "$PCD/verdicts" | grep -v '^-$' |
		awk -F, '{ delete s; for (i = 1; i <= NF; i++) if (!s[$i]++) n[$i]++ } END { for (k in n) printf "%s %d\n", k, n[k] }' | sort)
	diag "$fs/upper: cuts with operations in flight, by kind: $(echo "$inflight" | tr '\n' ' ')"
	for k in mv rm mkdir write; do
		c=$(echo "$inflight" | awk -v k=$k '$1 == k { print $2 }')
		ok $([ "${c:-0}" -gt 0 ]; echo $?) "$fs/upper: ${c:-0} cuts fell while a $k was in flight (started, not yet durable)"
	done

	# Crash images booted for real: the init mounts the upper (after the journal replay) and the live
	# system's view must be the one the host check found.
	pc_boot_cuts "$fs" upper "$(pc_count 1/3)" '--policy random'

	# Cuts during recovery (lib/recovery.sh): the boot that replays the upper's journal and mounts
	# the overlay (which empties work/), cut again at every flush epoch: the same view after each.
	pc_recoveries "$fs" "$(pc_count 1/3)" '--policy random .* :: ok state=[1-9]' upper
}
