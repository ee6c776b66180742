# update.sh: the A/B update campaign (tests/powercut/update-vfat.t, update-exfat.t) and its
# control (naive-update.t), sourced after campaign.sh. The disk behind powercut is the boot medium
# itself, a vfat one or, with PCUFS=exfat, an exFAT one (read on the host through exfat-fuse).
#   pc_update_prepare            after pc_prepare: slot A's image old.sqfs (the campaign's root,
#                                /etc/slot-marker A, the new images in /opt/new.sqfs and
#                                /opt/new2.sqfs with their sha256), the new images new.sqfs and
#                                new2.sqfs (markers B and B2), a save file made on
#                                the host over slot A (persist.dat), and the boot medium ($PCUFS)
#                                $PCD/medium.img holding them, one spare MiB after it for marks
#   pc_update_record NAME FROM MODE STEPS IMG [BIMG]  one recording in $PCD/NAME (its own PCD), the
#                                medium FROM as its base (the previous recording's final image,
#                                slot B holding BIMG): booted with live.persist=/persist.dat, the
#                                workload's STEPS (workload.sh update|naive-update) with the image
#                                IMG (new or new2); the marks file starts with what
#                                the base holds (mark 0 ACK) and, when the base's record has a
#                                pending slot with tries, the init's count of a try (mark 0 START);
#                                PC_APPEND: more kernel parameters (live.slot=A: no try counted)
#   pc_update_sweep NAME MODE    pc_sweep of that recording; adds to the totals UCUTS USTATES UVIOL
#   pc_update_boots N            boots N crash images of the sweeps whose host check passed, both
#                                slots among them: each must come up on the slot the host check
#                                predicted, its /etc/slot-marker saying so
#   pc_update_fat_boots N        boots N distinct crash images whose host check spared what fsck
#                                said of the slot files of an update under way (verdict
#                                fat=repair): on vfat the init must repair the medium's FAT before it
#                                mounts it (the save file is on it), slot A must boot, the update
#                                run again must succeed, fsck.fat -n then find only the dirty bit,
#                                and the record say slot B pending (exfat: no repair at boot,
#                                slot A boots; the update again makes the slot files anew)
#   pc_update_campaign           update-vfat.t, update-exfat.t: the recordings, sweeps and boots
#   pc_naive_update_campaign     naive-update.t: the peers' cp over live/root.sqfs, recorded and
#                                swept the same way; it must show violations "neither"
# The rc of the campaign's images does not mark a boot good by itself (the minimal recipe's does):
# the workload's mark-good step does it, between its marks.
. "$PCLIB/slotrec.sh"
: "${PCUFS:=vfat}"

pc_update_prepare() {
	local r=$PCD/root
	PCUPD=$PCD
	sed -i '/trying=yes/,/overlive-update --mark-good/d' "$r/etc/rc"
	! grep -q 'mark-good' "$r/etc/rc" || bail "unable to take the mark-good out of the campaign root's rc"
	install -D -m 0644 "$PCLIB/slotrec.sh" "$r/usr/lib/pc-slotrec.sh"
	local i
	for i in new new2; do
		cp -a "$r" "$PCD/root-b"
		echo "B${i#new}" > "$PCD/root-b/etc/slot-marker"
		head -c $((40960 * ${i#new}0 + 1)) /dev/urandom > "$PCD/root-b/etc/$i.bin"   # new2 is longer
		mksquashfs "$PCD/root-b" "$PCD/$i.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null ||
			bail "unable to make the new image $i"
		rm -rf "$PCD/root-b"
	done
	echo A > "$r/etc/slot-marker"
	for i in new new2; do
		cp "$PCD/$i.sqfs" "$r/opt/$i.sqfs"
		sha256sum < "$PCD/$i.sqfs" | cut -c1-64 > "$r/opt/$i.sqfs.sha256"
	done
	mksquashfs "$r" "$PCD/old.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null ||
		bail "unable to make slot A's image"
	# a save over slot A, made here with the real tool: a file the user saved in it
	mkdir -p "$PCD/save-upper/root"
	echo "saved before the update" > "$PCD/save-upper/root/saved"
	"$O/bin/persist" init --file "$PCD/persist.dat" --size 256K --quiet &&
		"$O/bin/persist" save --quiet --upper "$PCD/save-upper" --file "$PCD/persist.dat" --lower "$PCD/old.sqfs" ||
		bail "unable to make the save file"
	EXTRA="$PCD/persist.dat:persist.dat" "$TOP/images/mkmedium.sh" "$PCUFS" "$PCD/old.sqfs" "$PCD/medium.img" OVERLIVE ||
		bail "unable to make the medium"
	truncate -s $(($(stat -c %s "$PCD/medium.img") + 1048576)) "$PCD/medium.img"
	diag "update: slot A $(stat -c %s "$PCD/old.sqfs") bytes, the new image $(stat -c %s "$PCD/new.sqfs") bytes, medium $(($(stat -c %s "$PCD/medium.img") / 1048576)) MiB"
}

# pc_update_base_record IMAGE: the record a medium image holds, as pc-check reads it (slotrec.sh)
pc_update_base_record() {
	local d=$PC_TMPFS/base-rec loop
	rm -rf "$d" && mkdir -p "$d"
	if [ "$PCUFS" = exfat ]; then
		mkdir "$d/x"
		loop=$(losetup -f --show "$1") &&
			if mount.exfat-fuse -o ro "$loop" "$d/x" >/dev/null 2>&1; then
				cp -r "$d/x/live" "$d/"
				umount "$d/x"
			fi
		[ -z "$loop" ] || losetup -d "$loop"
	else
		MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$1" ::live "$d/" 2>/dev/null
	fi
	"$O/bin/overlive-update" --status --medium "$d" 2>&1 | slotrec_canon
	rm -rf "$d"
}

pc_update_record() {
	local name=$1 from=$2 mode=$3 steps=$4 img=$5 bimg=${6:--} r g good pend tries f
	local dir=$PCUPD/$name
	rm -rf "$dir" && mkdir -p "$dir" || bail "unable to make $dir"
	cp "$from" "$dir/medium.img"
	ln -s ../old.sqfs "$dir/root.sqfs" || bail "unable to link the images into $dir"
	for f in new.sqfs new2.sqfs persist.dat; do ln -s "../$f" "$dir/$f"; done
	r=$(pc_update_base_record "$from")
	PCD=$dir pc_record "$PCUFS" "$mode" "$steps" "$img"
	img=$bimg
	{
		echo "mark 0 ACK op=base rec=$r img=$img"
		if [ "$r" != none ]; then
			IFS=/ read -r g good pend tries <<< "$r"
			[ "$pend" != - ] && [ "$tries" -gt 0 ] && [ -z "${PC_APPEND:-}" ] && echo "mark 0 START op=boot rec=$((g + 1))/$good/$pend/$((tries - 1)) img=$img"
		fi
		cat "$dir/marks"
	} > "$dir/marks.new" && mv "$dir/marks.new" "$dir/marks"
}

# pc_update_cuts FS MODE: the cut list of an update recording. Short: pc_cuts. Full: pc_cuts's full
# list and, for each epoch with writes, every prefix, and 24 random and 8 prefix subsets torn at
# sectors (the image's 1 MiB writes and the FAT's multi-sector ones tear anywhere): the few
# epochs of an update hold its every step, so they are cut densely.
pc_update_cuts() {
	local e first last n k s
	pc_cuts "$@"
	[ "$POWERCUT" = full ] || return 0
	while read -r _ e first last; do
		n=$((last - first + 1))
		[ $n -gt 0 ] || continue
		for ((k = 1; k < n; k++)); do echo "$e 0 --policy prefix --keep $k"; done
		for ((s = 1; s <= 24; s++)); do echo "$e 0 --policy random --torn --seed $((e * 100 + 10 + s))"; done
		for ((s = 1; s <= 8; s++)); do echo "$e 0 --policy prefix --torn --seed $((e * 100 + 50 + s))"; done
	done < <(grep '^epoch ' "$PCD/marks")
}

UCUTS=0 USTATES=0 UVIOL=0 UKINDS=
pc_update_sweep() {
	PCD=$PCUPD/$1 PC_CUTS=${PC_CUTS:-pc_update_cuts} pc_sweep "$PCUFS" "$2"
	UCUTS=$((UCUTS + CUTS)) USTATES=$((USTATES + STATES)) UVIOL=$((UVIOL + VIOLATIONS)) UKINDS="$UKINDS $VKINDS"
	diag "update/$1: $CUTS cuts, $STATES states, $VIOLATIONS violations"
}

pc_update_boots() {
	local n=$1 name e w rest args want marker slot k=0
	[ "$n" -gt 0 ] || return 0
	# half of them predicted on slot A, half on slot B, spread over the sweeps
	for want in A B; do
		for name in $(ls -d "$PCUPD"/rec*/ | xargs -n 1 basename); do
			grep " :: ok slot=$want " "$PCUPD/$name/verdicts" | sed "s|^|$name |"
		done > "$PCUPD/boot-candidates-$want"
	done
	{
		awk -v n=$(((n + 1) / 2)) -v t="$(wc -l < "$PCUPD/boot-candidates-B")" \
			'{ for (k = 1; k <= n; k++) if (NR == int(t * k / (n + 1)) + 1) print }' "$PCUPD/boot-candidates-B"
		awk -v n=$((n / 2)) -v t="$(wc -l < "$PCUPD/boot-candidates-A")" \
			'{ for (k = 1; k <= n; k++) if (NR == int(t * k / (n + 1)) + 1) print }' "$PCUPD/boot-candidates-A"
	} > "$PCUPD/boots"
	while read -r name e w rest; do
		args=${rest%% :: *}
		want=$(echo "$rest" | sed -n 's/.* :: ok slot=\([AB]\) img=\([a-z0-9]*\) .*/\1 \2/p')
		# the marker of the image the host found in that slot: A, B (new), B2 (new2)
		case $want in "A old") want=A/A ;; "B new") want=B/B ;; "B new2") want=B/B2 ;; *) want="? $want" ;; esac
		PCD=$PCUPD/$name pc_replay_to "$PCUPD/boot.img" "$e" "$w" $args
		qemu_start "live.media=LABEL=OVERLIVE $(pc_live_arg update "$PCUFS")" -drive "file=$PCUPD/boot.img,format=raw,if=virtio"
		slot= marker=
		if qemu_expect 'overlive# ' 180 >/dev/null &&
			qemu_run 'echo "booted=$(sed -n "s/^slot=\([AB]\) .*/\1/p" /run/live/slot)/$(cat /etc/slot-marker)"'; then
			slot=$(grep -a '^booted=' "$QLOG" | tail -n 1 | tr -d '\r' | cut -d= -f2)
		fi
		qemu_send 'poweroff -f'
		qemu_stop
		is "$slot" "$want" "update: boot after the cut $name epoch $e ($args): the init boots slot ${want%/*}, as the host predicted, and it is that image"
		[ "$slot" = "$want" ] || qemu_show 15
	done < "$PCUPD/boots"
}

pc_update_fat_boots() {
	local n=$1 name e w rest args sum k=0 r what out
	declare -A seen
	[ "$n" -gt 0 ] || return 0
	for name in $(ls -d "$PCUPD"/rec*/ | xargs -n 1 basename); do
		grep ' :: ok .* fat=repair' "$PCUPD/$name/verdicts" | sed "s|^|$name |"
	done > "$PCUPD/fat-candidates"
	[ -s "$PCUPD/fat-candidates" ] || { diag "update: no crash image left slot files for fsck to repair"; return 0; }
	while read -r name e w rest && [ "$k" -lt "$n" ]; do
		args=${rest%% :: *}
		PCD=$PCUPD/$name pc_replay_to "$PCUPD/fat.img" "$e" "$w" $args || continue
		sum=$(md5sum < "$PCUPD/fat.img" | cut -c1-32)
		[ -z "${seen[$sum]:-}" ] || continue
		seen[$sum]=1 k=$((k + 1))
		what="update: after the cut $name epoch $e ($args), slot files fsck finds broken"
		qemu_start "live.media=LABEL=OVERLIVE $(pc_live_arg update "$PCUFS")" -drive "file=$PCUPD/fat.img,format=raw,if=virtio"
		r=1
		if [ "$PCUFS" = vfat ]; then
			qemu_expect 'overlive# ' 180 >/dev/null && grep -aq 'repaired the FAT of the medium' "$QLOG" &&
				qemu_run 'grep -q "^slot=A " /run/live/slot' && r=0
			ok $r "$what: the init repaired the medium's FAT and booted slot A"
		else
			# no repair at boot for exFAT: the medium is mounted read-only, nothing reads the files
			qemu_expect 'overlive# ' 180 >/dev/null && qemu_run 'grep -q "^slot=A " /run/live/slot' && r=0
			ok $r "$what: slot A boots"
		fi
		[ $r = 0 ] || qemu_show 15
		qemu_run 'overlive-update /opt/new.sqfs --sha256 $(cat /opt/new.sqfs.sha256) && sync' 300
		ok $? "$what: the update run again in that boot succeeds"
		grep -aq 'FAT-fs.*error\|exFAT-fs.*error' "$QLOG" && { diag "a file system error in that boot:"; grep -a 'FAT-fs' "$QLOG" | head -n 3 | sed 's/^/# | /'; }
		qemu_send 'poweroff -f'
		qemu_stop
		if [ "$PCUFS" = vfat ]; then
			out=$(fsck.fat -n "$PCUPD/fat.img" 2>&1 | grep -v -e '^fsck.fat ' -e '^Dirty bit is set' -e 'Automatically removing dirty bit' \
				-e '^Leaving filesystem unchanged' -e '^$' -e ': [0-9]* files, [0-9]*/[0-9]* clusters$')
		else
			out=$(PATH=$PATH:/sbin:/usr/sbin fsck.exfat -n "$PCUPD/fat.img" 2>&1 | grep -v -e '^exfatprogs version' -e '^$' -e ': clean\. directories [0-9]*, files [0-9]*$')
		fi
		is "$out" "" "$what: then fsck -n finds the medium clean (but for vfat's dirty bit)"
		is "$(pc_update_base_record "$PCUPD/fat.img" | cut -d/ -f2-)" "A/B/3" "$what: and the record says slot B pending, 3 tries"
	done < "$PCUPD/fat-candidates"
}

pc_update_campaign() {
	local t0=$SECONDS
	pc_update_prepare
	# 1: the update in slot A's live system: copy, verify, switch
	pc_update_record rec1 "$PCUPD/medium.img" update update new
	pc_update_sweep rec1 update
	# 2: from its final image: the boot of slot B (the init counts a try), then the mark-good
	pc_update_record rec2 "$PCUPD/rec1/data.img" update boot,mark-good new new
	pc_update_sweep rec2 update
	# 1b: from recording 1's image (slot B pending), slot A booted with live.slot=A (no try
	# counted) updates again, to a longer image: the updater first takes B out of the record,
	# then rewrites it in place and grows it, then sets it pending again
	PC_APPEND=live.slot=A pc_update_record rec1b "$PCUPD/rec1/data.img" update update new2 new
	pc_update_sweep rec1b update
	if [ "$POWERCUT" = full ]; then
		# 3: slot B never marked good: three boots count its tries down to 0, the fourth falls back
		local k from=$PCUPD/rec1/data.img
		for k in 1 2 3 4; do
			pc_update_record rec3-$k "$from" update boot new new
			pc_update_sweep rec3-$k update
			from=$PCUPD/rec3-$k/data.img
		done
	fi
	CUTS=$UCUTS STATES=$USTATES VIOLATIONS=$UVIOL
	ok $([ "$CUTS" -ge 15 ]; echo $?) "$PCUFS/update: $CUTS cuts swept over every flush epoch of every recording"
	is "$VIOLATIONS" 0 "$PCUFS/update: no violation in $STATES distinct crash images"
	PCD=$PCUPD pc_table_row "$PCNAME" $((SECONDS - t0))
	pc_update_boots "$(pc_count 2/4)"
	pc_update_fat_boots "$(pc_count 1/2)"
}

pc_naive_update_campaign() {
	local t0=$SECONDS kinds
	PC_QUIET_VIOLATIONS=1
	pc_update_prepare
	pc_update_record rec1 "$PCUPD/medium.img" naive-update - new
	PC_CUTS=pc_cuts_every pc_update_sweep rec1 naive-update
	CUTS=$UCUTS STATES=$USTATES VIOLATIONS=$UVIOL
	ok $([ "$CUTS" -ge 15 ]; echo $?) "vfat/naive-update: $CUTS cuts swept over every flush epoch"
	kinds=$(echo $UKINDS | tr ' ' '\n' | sort | uniq -c | awk '{ printf "%s %s, ", $1, $2 }')
	diag "vfat/naive-update: violation kinds: ${kinds%, }" | tee /dev/stderr
	echo "$UKINDS" | grep -qw neither
	ok $? "vfat/naive-update: the control shows violations, among them live/root.sqfs neither old nor new ($VIOLATIONS in $CUTS cuts)"
	PCD=$PCUPD pc_table_row "$PCNAME" $((SECONDS - t0))
}
