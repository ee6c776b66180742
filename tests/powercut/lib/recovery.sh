# recovery.sh: power cuts during recovery, the boot that comes up on a crash image (sourced after
# campaign.sh). A cut while the init mounts the data disk and restores a save, while the kernel
# replays a journal, or while the live system writes back what that boot changed, must leave a
# medium from which the next boot recovers the same state.
#   pc_recovery_campaign FS MODE CUT VERDICT CMDLINE CHECK...
#       FS       vfat | ext4 (torn writes as pc_torn says)
#       MODE     the campaign's mode: persist, or upper (the data disk is the overlay's upper; on
#                vfat it is the medium itself, as pc_medium_drive says)
#       CUT      replay arguments ("--epoch E [--writes W] --policy ...") over $PC_RLOG and
#                $PC_RBASE (default: the campaign's $PCD/record.log and $PCD/base.img): the cut
#                that made the crash image to recover from
#       VERDICT  CHECK's last line for that crash image ("ok gen=G hash=H window=A..S")
#       CMDLINE  the kernel command line of the recovery boot
#       CHECK    the host checker, run for each image; the word @IMAGE@ stands for the image
#     Boots the crash image as the data disk behind `powercut --record` (the wiring of pc_record),
#     waits for the shell, for $PC_RBOOTMSG on the console (default for persist: the init's
#     "restored") and for $PC_RBOOTCMD to succeed in the guest (default for upper: the upper is
#     the ext4 data disk, mounted read-write), has the guest print its view hash
#     ($PC_RVIEW prints "view=HASH"), runs `sync` and kills QEMU. Then every flush epoch of that
#     boot's record log is cut (base: the crash image; pc_recovery_cuts) and CHECK must print
#     VERDICT again for every crash-of-crash image: the same generation, hash and window (CHECK
#     is given the original cut's marks and position). Anything else is a violation "recovery",
#     printed with a replay line that chains the cuts ($PC_RPRE: the commands that make
#     $PC_RBASE again, for a recovery from a recovery cut).
#     Sets RBOOT (0: the boot came up and the guest's hash is VERDICT's hash=), RWRITES REPOCHS
#     (writes and flushes in the boot's log), RCUTS RSTATES RVIOLATIONS, RDIR (the work files,
#     $PCD/recoveryN/: base.img, record.log, writes, verdicts, console.log) and RC0 (the replay
#     command that made RDIR/base.img).
#   pc_recovery_pick VERDICTS N REGEX   N ok lines of pc_sweep's verdicts file matching REGEX,
#                                       spread over the run, as "CUT :: VERDICT"
#   pc_recovery_journal_cut DIR         the last `--policy none` cut of DIR's recovery log whose
#                                       image's ext4 journal holds a committed transaction
#                                       (empty: none)
#   pc_recoveries FS N REGEX [MODE]  the campaigns' part: N picked crash images, each
#                                       through pc_recovery_campaign with `pc-check MODE FS`
#                                       (MODE: persist, the default, or upper; on ext4 also one
#                                       recovery from a cut of the first recovery), TAP results
# The recovery boot's clock is PC_RDATE (default: two days after now), as a machine switched on
# again after a power failure may well be: with the recording's date the atime a restore sets on
# vfat rewrites the very bytes that are there, and the cut would have nothing to choose from.
# The `sync` only brings forward the writeback the kernel does by itself within 30 s (atime,
# the FAT, an ext4 journal commit), so the log holds every write a normal boot makes to the disk.
: "${PC_RVIEW:=$PC_VIEW}"
: "${PC_RDATE:=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%S)}"
PC_RN=0

# pc_recovery_cuts FS MODE EPOCHS: the cut list of a recovery log, one "EPOCH WRITES POLICY-ARGS"
# per line. A recovery writes little, so every prefix of a small epoch is cut (K = 1..n; K = 0 is
# `none`), and seeded random subsets, and torn ones (pc_torn), stand for the other orders.
pc_recovery_cuts() {
	local fs=$1 e first last n k s plim=8 nrand=2 torn
	torn=$(pc_torn "$fs" "$2")
	[ "$POWERCUT" = full ] && plim=64 nrand=6
	while read -r _ e first last; do
		n=$((last - first + 1))
		echo "$e 0 --policy none"
		[ $n -gt 0 ] || continue
		if [ $n -le $plim ]; then
			for ((k = 1; k <= n; k++)); do echo "$e 0 --policy prefix --keep $k"; done
		else
			for ((s = 1; s <= nrand; s++)); do echo "$e 0 --policy prefix --seed $((e * 100 + 50 + s))"; done
		fi
		for ((s = 1; s <= nrand; s++)); do
			echo "$e 0 --policy random --seed $((e * 100 + s))"
			echo "$e 0 --policy random $torn --seed $((e * 100 + 20 + s))"
			echo "$e 0 --policy prefix $torn --seed $((e * 100 + 40 + s))"
		done
		[ "$POWERCUT" = full ] && [ $n -gt 1 ] &&
			echo "$e $((first + n / 2)) --policy random $torn --seed $((e * 100 + 99))"
	done < <(grep '^epoch ' "$3")
}

# pc_recovery_writes LOG: one line per write of a record log: "N epoch=E TYPE[+fua] OFFSET+LENGTH"
pc_recovery_writes() {
	perl -e '
		open(my $f, "<:raw", $ARGV[0]) or die "unable to open $ARGV[0]: $!\n";
		read($f, my $h, 16) == 16 or die "short log\n";
		my ($n, $e) = (0, 0);
		my %t = (1 => "write", 2 => "zeroes", 3 => "trim");
		while (read($f, my $x, 20) == 20) {
			my (undef, $type, $flags, undef, $off, $len) = unpack("V C C v Q< V", $x);
			if ($type == 4) { $e++; next; }
			$n++;
			printf "%d epoch=%d %s%s %d+%d\n", $n, $e, $t{$type}, $flags & 1 ? "+fua" : "", $off, $len;
			seek($f, $len, 1) if $type == 1;
		}' "$1"
}

pc_recovery_campaign() {
	local fs=$1 mode=$2 cut=$3 verdict=$4 cmdline=$5
	shift 5
	local R want got line sum v e w args cmd a t0=$SECONDS bootmsg bootcmd
	case $mode in
	upper) bootmsg=${PC_RBOOTMSG:-} bootcmd=${PC_RBOOTCMD-$PC_UPPER_MOUNTED} ;;
	*) bootmsg=${PC_RBOOTMSG-$PC_RESTORED} bootcmd=${PC_RBOOTCMD:-} ;;
	esac
	local -a check
	declare -A seen
	PC_RN=$((PC_RN + 1))
	R=$PCD/recovery$PC_RN
	RBOOT=1 RWRITES=0 REPOCHS=0 RCUTS=0 RSTATES=0 RVIOLATIONS=0
	rm -rf "$R" && mkdir -p "$R" || bail "unable to make $R"
	want=$(echo "$verdict" | sed -n 's/.* hash=\([0-9a-f]*\).*/\1/p')
	RDIR=$R
	# the chained replay line's first part: the cut to recover from, made again as the base
	RC0="$PC replay --log ${PC_RLOG:-$PCD/record.log} --base ${PC_RBASE:-$PCD/base.img} --out $R/base.img $cut"
	$RC0 >/dev/null 2>"$R/replay.err" || { diag "replay failed: $cut: $(cat "$R/replay.err")"; RVIOLATIONS=1; return 1; }
	cp "$R/base.img" "$R/disk.img"

	# the recovery boot, its data disk recorded
	pc_serve "$R/disk.img" "$R"
	qemu_start "$cmdline" -rtc "base=$PC_RDATE" $(pc_medium_drive "$mode" "$fs") $(pc_nbd "$R")
	got=
	if ! qemu_expect 'overlive# ' 180 >/dev/null; then
		qemu_show 10
	elif [ -n "$bootmsg" ] && ! grep -aq -- "$bootmsg" "$QLOG"; then
		diag "recovery boot: no '$bootmsg' on the console"
		qemu_show 10
	elif [ -n "$bootcmd" ] && ! qemu_run "$bootcmd" 60; then
		diag "recovery boot: '$bootcmd' failed in the guest"
		qemu_show 10
	else
		pc_guest_view "$PC_RVIEW" && got=$VIEW
		qemu_run sync 120 || diag "recovery boot: sync in the guest failed"
	fi
	pc_unplug "$R"
	if [ -n "$got" ] && [ "$got" = "$want" ]; then
		RBOOT=0
	else
		diag "recovery boot: guest view '${got:-none}', the host check found $want"
	fi

	# what the boot wrote
	pc_marks "$R" > "$R/epochs" || bail "unable to read the record log $R/record.log"
	pc_recovery_writes "$R/record.log" > "$R/writes" || bail "unable to list the writes of $R/record.log"
	RWRITES=$(wc -l < "$R/writes")
	REPOCHS=$(($(grep -c '^epoch ' "$R/epochs") - 1))
	grep -q '^mark ' "$R/epochs" && diag "recovery boot: it wrote into the marks area: $(grep '^mark ' "$R/epochs" | head -n 2)"
	diag "recovery boot ($cut${PC_RPRE:+, of a recovery}): $REPOCHS flushes, $RWRITES writes ($(grep -c '+fua' "$R/writes") FUA):" \
		"$(head -n 12 "$R/writes" | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $3, $4 }')$([ "$RWRITES" -gt 12 ] && echo ", ...")"

	# every flush epoch of the boot cut again, each crash-of-crash image checked in the same window
	while read -r e w args; do
		cmd="--epoch $e"
		[ "$w" = 0 ] || cmd="$cmd --writes $w"
		cmd="$cmd $args"
		line=$($PC replay --log "$R/record.log" --base "$R/base.img" --out "$PC_TMPFS/rcrash.img" $cmd 2>"$R/replay.err") ||
			{ diag "replay failed: $cmd: $(cat "$R/replay.err")"; RVIOLATIONS=$((RVIOLATIONS + 1)); continue; }
		RCUTS=$((RCUTS + 1))
		sum=$(md5sum < "$PC_TMPFS/rcrash.img" | cut -c1-32)
		if [ -n "${seen[$sum]:-}" ]; then
			v=${seen[$sum]}
		else
			RSTATES=$((RSTATES + 1))
			check=()
			for a in "$@"; do
				[ "$a" = @IMAGE@ ] && a=$PC_TMPFS/rcrash.img
				check+=("$a")
			done
			v=$(pc_verdict "${check[@]}")
			seen[$sum]=$v
		fi
		echo "$e $w $args :: $v" >> "$R/verdicts"
		# the same state (generation and hash, or operation and hash); not the window, which pc_sweep
		# may have taken from another cut that left the same image
		[ "${v%% window=*}" = "${verdict%% window=*}" ] && continue
		RVIOLATIONS=$((RVIOLATIONS + 1))
		if [ "${PC_QUIET_VIOLATIONS:-0}" = 0 ] || [ "$RVIOLATIONS" -le 3 ]; then
			diag "$fs: violation recovery: after the recovery cut $cmd: '$v', want '$verdict'"
			check=()
			for a in "$@"; do
				[ "$a" = @IMAGE@ ] && a=$R/crash.img
				check+=("$a")
			done
			diag "  replay: ${PC_RPRE:-}$RC0 && $PC replay --log $R/record.log --base $R/base.img --out $R/crash.img $cmd && O=$O ${check[*]}"
		fi
	done < <(pc_recovery_cuts "$fs" "$mode" "$R/epochs")
	rm -f "$PC_TMPFS/rcrash.img" "$R/disk.img"
	diag "recovery: $RCUTS cuts, $RSTATES states, $RVIOLATIONS violations ($((SECONDS - t0)) s)"
	[ $RBOOT = 0 ] && [ $RVIOLATIONS = 0 ]
}

pc_recovery_pick() {
	local verdicts=$1 n=$2 re=$3
	grep -E -- "$re" "$verdicts" | grep ' :: ok ' |
		awk -v n="$n" '{ l[NR] = $0 } END { for (k = 1; k <= n && k <= NR; k++) print l[int(NR * k / (n + 1)) + 1] }' |
		while read -r e w rest; do
			if [ "$w" = 0 ]; then echo "--epoch $e ${rest}"; else echo "--epoch $e --writes $w ${rest}"; fi
		done
}

pc_recovery_journal_cut() {
	local dir=$1 e args
	while read -r e _ args; do
		$PC replay --log "$dir/record.log" --base "$dir/base.img" --out "$PC_TMPFS/rjournal.img" --epoch "$e" $args \
			>/dev/null 2>&1 || continue
		# a committed transaction: the next mount must replay it ("recovery complete" alone is
		# printed for any journal marked in use, even an empty one)
		debugfs -R logdump "$PC_TMPFS/rjournal.img" 2>/dev/null | grep -q 'type 2 (commit block)' || continue
		echo "--epoch $e $args"
		break
	done < <(grep -- ' --policy none :: ok ' "$dir/verdicts" | sed 's/ :: .*//' | sort -rn)
	rm -f "$PC_TMPFS/rjournal.img"
}

# pc_recovery_one FS CUT VERDICT UPTO WHAT: one recovery of the persist campaigns, with
# TAP; pc-check's window is the original cut's: the campaign's marks, UPTO its writes=
pc_recovery_one() {
	local fs=$1 cut=$2 verdict=$3 upto=$4 what=$5 mode=${6:-persist}
	pc_recovery_campaign "$fs" "$mode" "$cut" "$verdict" "live.media=LABEL=OVERLIVE $(pc_live_arg "$mode" "$fs")" \
		"$PCLIB/pc-check" "$mode" "$fs" @IMAGE@ "$PCD/marks" "$upto" "$PCD/root.sqfs"
	ok $RBOOT "$fs/$mode: recovery boot $what came up with the state the host found"
	if [ "$RWRITES" = 0 ]; then
		ok 0 "$fs/$mode: recovery wrote nothing: no cut can touch the medium ($RCUTS cuts of the unchanged image)"
	else
		ok $([ "$RCUTS" -gt 0 ]; echo $?) "$fs/$mode: $RCUTS cuts over the recovery's $RWRITES writes and $REPOCHS flushes"
	fi
	is "$RVIOLATIONS" 0 "$fs/$mode: every cut during that recovery leaves the same state ($RSTATES distinct images)"
	RT_CUTS=$((RT_CUTS + RCUTS)) RT_STATES=$((RT_STATES + RSTATES)) RT_VIOL=$((RT_VIOL + RVIOLATIONS)) RT_N=$((RT_N + 1))
}

pc_recoveries() {
	local fs=$1 n=$2 re=$3 mode=${4:-persist} p cut verdict upto jcut first=1
	local -a picks
	RT_CUTS=0 RT_STATES=0 RT_VIOL=0 RT_N=0
	pc_recovery_pick "$PCD/verdicts" "$n" "$re" > "$PCD/recoveries"
	mapfile -t picks < "$PCD/recoveries"
	[ ${#picks[@]} -gt 0 ] || { ok 1 "$fs/$mode: a crash image to recover from (none matches '$re')"; return; }
	for p in "${picks[@]}"; do
		verdict=${p#* :: } cut=${p%% :: *}
		# the original cut's position (writes=), for pc-check's window
		upto=$($PC replay --log "$PCD/record.log" --base "$PCD/base.img" --out "$PC_TMPFS/rorig.img" $cut 2>/dev/null |
			sed -n 's/.* writes=\([0-9]*\) .*/\1/p')
		rm -f "$PC_TMPFS/rorig.img"
		pc_recovery_one "$fs" "$cut" "$verdict" "$upto" "after the cut $cut" "$mode"
		[ "$fs" = ext4 ] && [ $first = 1 ] || continue
		first=0
		# ext4: the campaign's saves overwrite a preallocated file, so its crash images hold an
		# empty journal; a cut of the recovery's own journal commit leaves one to replay
		jcut=$(pc_recovery_journal_cut "$RDIR")
		if [ -z "$jcut" ]; then
			ok 1 "$fs/$mode: a cut during the recovery left a committed journal transaction to replay"
			continue
		fi
		PC_RLOG=$RDIR/record.log PC_RBASE=$RDIR/base.img PC_RPRE="$RC0 && " \
			pc_recovery_one "$fs" "$jcut" "$verdict" "$upto" "after the recovery cut $jcut" "$mode"
		grep -aq 'EXT4-fs ([a-z0-9]*): recovery complete' "$RDIR/console.log"
		ok $? "$fs/$mode: that recovery boot replayed a committed journal transaction (a cut during a journal replay)"
	done
	diag "recovery: $RT_CUTS cuts, $RT_STATES states, $RT_VIOL violations ($RT_N recovery boots)"
	return 0
}
