# campaign.sh: power-cut campaigns by the dm-log-writes method (sourced by tests/powercut/*.t).
#   pc_prepare NAME                 checks, then builds the guest root and the boot medium in $PCD
#   pc_record FS MODE ROUNDS [VARIANT]  one QEMU run: the workload runs ROUNDS rounds with a data disk
#                                   (FS vfat|ext4|exfat, label PDATA) served by `powercut --record`:
#                                   MODE persist|naive save to it, MODE upper is the overlay's
#                                   upper on it (live.upper=; FS vfat: the data disk is the medium
#                                   with the upper in live/persistence.img, live.upper=file:);
#                                   upper keeps the guest's view after every operation in
#                                   $PCD/states/J; VARIANT goes to the workload (workload.sh);
#                                   MODE update|naive-update: the data disk is the boot medium
#                                   $PCD/medium.img itself (lib/update.sh), booted with the save
#                                   file on it (live.persist=/persist.dat); PC_APPEND: more
#                                   kernel parameters
#   pc_sweep FS MODE                crash images offline for every flush epoch (several subsets
#                                   each; PC_CUTS=FUNCTION: another cut list than pc_cuts), each
#                                   checked by pc-check; sets CUTS STATES VIOLATIONS
#   pc_boot_cut IMAGE WANT_HASH [MODE FS]  boots a crash image as the data disk (live.persist, or
#                                   live.upper for MODE upper; FS vfat: the image is the medium
#                                   with live.upper=file:); 0 when the init restored (or mounted)
#                                   the state of hash WANT_HASH and the shell came up
#   pc_boot_cuts FS MODE N REGEX    boots N of the sweep's passed crash images (pc_boot_cut)
#   pc_boot_init_cuts FS N          boots N distinct crash images of the cut persist init: the next
#                                   persist init and save must work, the restore after them too
#   pc_table_row WORKLOAD SECONDS   the campaign table (header and its row; also in $PCD/row)
#   pc_persist_campaign FS KEY=VALUE...  the persist campaign of persist-FS.t, each step above in
#                                   turn (pc_record ... pc_recoveries; needs recovery.sh sourced)
#   pc_naive_campaign FS KINDS      the control of naive-FS.t: the peers' tar-and-rename save on
#                                   FS, swept like the persist campaigns; it must show violations,
#                                   among them one of KINDS (a regex: lost|torn)
#   pc_need_fs FS                   skips the test (skip_all) when this host cannot make or read FS
#   pc_count SHORT/FULL             SHORT, or FULL with POWERCUT=full: a campaign's size
# POWERCUT=full sweeps more subsets per epoch over a longer workload (>= 1,000 cuts in all).
# Work files stay in $O/powercut/NAME (PC_WORK=DIR: DIR/NAME) so that every printed replay line
# works after the test.
: "${POWERCUT:=short}"
PCLIB=$TOP/tests/powercut/lib
PC=$O/bin/powercut
DATA_MIB=16          # the data filesystem; the disk has one more MiB for the workload's marks

pc_need_fs() {
	export PATH=$PATH:/sbin:/usr/sbin
	case $1 in
	exfat)
		command -v mkfs.exfat >/dev/null && command -v fsck.exfat >/dev/null || skip_all "exfatprogs is not installed"
		command -v mount.exfat-fuse >/dev/null && [ -c /dev/fuse ] ||
			skip_all "reading exFAT crash images needs exfat-fuse and /dev/fuse (the host kernel may have no exfat)" ;;
	esac
}

pc_prepare() {
	PCNAME=$1
	[ "$(id -u)" = 0 ] || skip_all "needs root (loop and overlay mounts of the crash images)"
	command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
	command -v musl-gcc >/dev/null || skip_all "musl-gcc is not installed"
	command -v mcopy >/dev/null || skip_all "mtools is not installed"
	[ -d "$O/root-minimal" ] && [ -x "$O/bin/persist" ] && [ -x "$PC" ] || skip_all "build first: ./build.sh"
	[ -x "$O/tests-overlay/treesum" ] || skip_all "no $O/tests-overlay/treesum: run make tests"
	case $POWERCUT in short | full) ;; *) bail "POWERCUT=$POWERCUT: use short or full" ;; esac
	PCD=${PC_WORK:-$O/powercut}/$PCNAME
	rm -rf "$PCD" && mkdir -p "$PCD" || bail "unable to make $PCD"
	musl-gcc -static -O2 -o "$PCD/treesum" "$TOP/tests/overlay/treesum.c" || bail "unable to build treesum for the guest"
	local root=$PCD/root
	cp -a "$O/root-minimal" "$root"
	install -m 0755 "$PCD/treesum" "$root/usr/bin/treesum"
	install -m 0755 "$PCLIB/workload.sh" "$root/usr/bin/pc-workload"
	mkdir -p "$root/opt/demo/new"
	local i
	for i in 0 1 2 3 4 5; do echo "lower file $i" > "$root/opt/demo/a$i"; done
	for i in 0 1 2 3; do mkdir -p "$root/opt/demo/d$i/sub"; echo "lower $i" > "$root/opt/demo/d$i/sub/x"; done
	head -c 8192 /dev/urandom > "$root/opt/demo/big"
	echo "lower log" > "$root/opt/demo/log"
	mksquashfs "$root" "$PCD/root.sqfs" -comp zstd -all-root -noappend -no-progress -quiet >/dev/null ||
		bail "unable to make the squashfs"
	"$TOP/images/mkmedium.sh" vfat "$PCD/root.sqfs" "$PCD/medium.img" OVERLIVE || bail "unable to make the medium"
	mkdir -p "$PCD/mnt"
	PC_TMPFS=$PCD/tmpfs PC_LOWER=$PCD/lower
	mkdir -p "$PC_TMPFS" "$PC_LOWER"
	mount -t tmpfs -o size=512m tmpfs "$PC_TMPFS" || bail "unable to mount a tmpfs on $PC_TMPFS"
	mount -t squashfs -o ro,loop "$PCD/root.sqfs" "$PC_LOWER" || { umount "$PC_TMPFS"; bail "unable to mount the squashfs"; }
	PC_TREESUM=$O/tests-overlay/treesum
	export PC_TMPFS PC_LOWER PC_TREESUM O
	trap 'pc_cleanup' EXIT
}

pc_cleanup() {
	qemu_stop >/dev/null 2>&1
	[ -n "${PCSERVER:-}" ] && kill -9 "$PCSERVER" 2>/dev/null
	umount "$PC_LOWER" 2>/dev/null
	umount "$PC_TMPFS" 2>/dev/null
	rm -rf "$QDIR" "$PCD/root" "$PCD/crash.img"
}

# pc_data_image FS MODE OUT: the data disk: FS labelled PDATA (upper on vfat: the medium)
pc_data_image() {
	local fs=$1 mode=$2 out=$3
	rm -f "$out"
	case $mode in update | naive-update) cp "$PCD/medium.img" "$out"; return ;; esac
	case $fs in
	vfat) mkfs.vfat -C -n PDATA "$out" $((DATA_MIB * 1024)) >/dev/null ;;
	ext4) truncate -s ${DATA_MIB}M "$out" && mkfs.ext4 -q -F -b 4096 -L PDATA "$out" >/dev/null ;;
	exfat) truncate -s ${DATA_MIB}M "$out" && PATH=$PATH:/sbin:/usr/sbin mkfs.exfat -L PDATA "$out" >/dev/null ;;
	esac || return 1
	if [ "$mode" = upper ] && [ "$fs" = vfat ]; then
		# live.upper=file: the medium itself, with an ext4 image file on it, is the data disk
		truncate -s ${DATA_MIB}M "$PCD/upper.img" && mkfs.ext4 -q -F -b 4096 -L persistence "$PCD/upper.img" &&
			EXTRA="$PCD/upper.img:live/persistence.img" "$TOP/images/mkmedium.sh" vfat "$PCD/root.sqfs" "$out" OVERLIVE ||
			return 1
		truncate -s $(($(stat -c %s "$out") + 1048576)) "$out"
		return
	fi
	# persist: no save file (the workload's persist init makes it); upper: the init makes upper/
	# and work/ at its first boot
	truncate -s $(((DATA_MIB + 1) * 1048576)) "$out"
}

# What a booted guest is asked and shows: its view of /opt/demo ("view=HASH"), a disk upper in use,
# a save restored by the init.
PC_VIEW='echo view=$(treesum /opt/demo /run/live/upper/upper/opt/demo | md5sum | cut -c1-32)'
PC_UPPER_MOUNTED='grep -q " /run/live/upper ext4 rw" /proc/mounts'
PC_RESTORED='restored /run/live/persist/persist.dat'

# pc_serve DISK DIR: `powercut --record DIR/record.log` serving DISK on DIR/sock, started (in
# PCSERVER) and listening when this returns
pc_serve() {
	local i
	rm -f "$2/sock"
	"$PC" --socket "$2/sock" --record "$2/record.log" "$1" >"$2/server.out" 2>"$2/server.err" &
	PCSERVER=$!
	for i in $(seq 100); do [ -S "$2/sock" ] && break; sleep 0.05; done
	[ -S "$2/sock" ] || bail "powercut did not start: $(cat "$2/server.err")"
}

# pc_nbd DIR: QEMU's options for the data disk pc_serve serves from DIR
pc_nbd() {
	echo "-blockdev driver=nbd,node-name=d0,server.type=unix,server.path=$1/sock,export=disk,discard=unmap" \
		"-device virtio-blk-pci,drive=d0"
}

# pc_unplug DIR: the cut: QEMU killed (the record log already holds every write before it), the
# server gone, the console kept in DIR/console.log
pc_unplug() {
	kill -9 "$QPID" 2>/dev/null
	qemu_stop >/dev/null 2>&1
	wait "$PCSERVER"
	PCSERVER=
	tr -d '\r' < "$QLOG" > "$1/console.log"
}

# pc_marks DIR: marks.pl's epochs and marks of DIR/record.log (the marks area: base.img's last MiB)
pc_marks() {
	perl "$PCLIB/marks.pl" "$1/record.log" $(($(stat -c %s "$1/base.img") - 1048576))
}

# pc_guest_view [COMMAND]: the guest's view hash (COMMAND prints "view=HASH"; default PC_VIEW), in
# VIEW; 1 when it did not come
pc_guest_view() {
	VIEW=
	qemu_send "${1:-$PC_VIEW}"
	qemu_expect '^view=[0-9a-f]{32}' 60 >/dev/null || return 1
	VIEW=${QMATCH#view=}
	VIEW=${VIEW:0:32}
}

pc_record() {
	local fs=$1 mode=$2 rounds=$3 variant=${4:-} t0=$SECONDS
	pc_data_image "$fs" "$mode" "$PCD/data.img" || bail "unable to make the data disk"
	cp "$PCD/data.img" "$PCD/base.img"
	pc_serve "$PCD/data.img" "$PCD"
	qemu_start "live.media=LABEL=OVERLIVE $(pc_live_arg "$mode" "$fs")${PC_APPEND:+ $PC_APPEND}" $(pc_medium_drive "$mode" "$fs") $(pc_nbd "$PCD")
	qemu_expect 'overlive# ' 180 >/dev/null
	ok $? "$fs/$mode: the live system booted with the data disk behind powercut --record${PC_APPEND:+ ($PC_APPEND)}"
	qemu_run "pc-workload $mode $rounds $variant" 900
	local r=$?
	ok $r "$fs/$mode: the workload ran $rounds rounds"
	[ $r = 0 ] || qemu_show 20
	pc_unplug "$PCD"
	pc_marks "$PCD" > "$PCD/marks" || bail "unable to read the record log"
	local console log
	console=$(grep -c '^PC \(START\|ACK\|DONE\|SYNC\) ' "$PCD/console.log")
	log=$(grep -c '^mark ' "$PCD/marks")
	is "$log" "$console" "$fs/$mode: every mark printed on the console is in the record log, in order"
	[ "$mode" = upper ] && pc_states
	diag "$fs/$mode: $(grep -c '^epoch ' "$PCD/marks") flush epochs, $(tail -n 1 "$PCD/marks" | cut -d' ' -f4) writes, $log marks, recorded in $((SECONDS - t0)) s"
}

# pc_live_arg MODE FS: the kernel parameter that puts the data disk to use
pc_live_arg() {
	case $1/$2 in
	upper/vfat) echo "live.upper=file:/live/persistence.img" ;;
	update/* | naive-update/*) echo "live.persist=/persist.dat" ;;
	upper/*) echo "live.upper=LABEL=PDATA" ;;
	*) echo "live.persist=LABEL=PDATA:/persist.dat" ;;
	esac
}

# pc_medium_drive MODE FS: QEMU's option for the boot medium, unless the data disk is the medium
# (a persistence image file on vfat, an update)
pc_medium_drive() {
	case $1/$2 in
	upper/vfat | update/* | naive-update/*) ;;
	*) echo "-drive file=$PCD/medium.img,format=raw,if=virtio" ;;
	esac
}

# upper: the guest's merged view after every operation J, from its "PCL J" console lines, into
# $PCD/states/J; each must hash to what the DONE mark in the record log says
pc_states() {
	local j h want bad=0
	rm -rf "$PCD/states" && mkdir "$PCD/states"
	awk -v d="$PCD/states" '$1 == "PCL" { j = $2; sub(/^PCL [0-9]+ /, ""); print > (d "/" j) }' "$PCD/console.log"
	while read -r _ _ _ j h _; do
		j=${j#j=} want=${h#hash=}
		h=$(md5sum < "$PCD/states/$j" 2>/dev/null | cut -c1-32)
		[ "$h" = "$want" ] || { bad=$((bad + 1)); diag "state $j: console listing hashes to $h, the mark says $want"; }
	done < <(grep '^mark [0-9]* DONE ' "$PCD/marks")
	is "$bad" 0 "upper: the console holds the view after each of $(ls "$PCD/states" | wc -l) operations, as the marks hash it"
}

# pc_torn FS MODE: the replay options of a torn cut. An ext4 (the data disk's, or the one in the
# image file of MODE upper on vfat) tears at 4 KiB, not at 512-byte sectors: ext4 writes its
# superblock (1 KiB inside a block, outside the journal) as one block, and a sector tear inside it
# leaves a superblock whose checksum fails and a filesystem the kernel refuses to mount. Real disks
# write 4 KiB atomically; that is the kernel's contract with them, not something persist can
# change. vfat and persist's own writes tear at sectors.
pc_torn() {
	if [ "$1" = ext4 ] || [ "$2" = upper ]; then echo "--torn --tear-unit 4096"; else echo "--torn"; fi
}

# pc_cuts FS MODE: the cut list, one "EPOCH WRITES POLICY-ARGS" per line (WRITES 0 = the epoch's end).
pc_cuts() {
	local e first last n mid torn
	torn=$(pc_torn "$1" "$2")
	while read -r _ e first last; do
		n=$((last - first + 1))
		if [ "$POWERCUT" != full ]; then   # short: one cut per epoch, alternating
			if [ $((e % 2)) = 0 ] || [ $n = 0 ]; then echo "$e 0 --policy none"
			else echo "$e 0 --policy random $torn --seed $((e * 10 + 1))"; fi
			continue
		fi
		echo "$e 0 --policy none"
		[ $n -gt 0 ] || continue
		echo "$e 0 --policy random $torn --seed $((e * 10 + 1))"
		echo "$e 0 --policy prefix --seed $((e * 10 + 2))"
		echo "$e 0 --policy prefix $torn --seed $((e * 10 + 3))"
		echo "$e 0 --policy random --seed $((e * 10 + 4))"
		echo "$e 0 --policy random --seed $((e * 10 + 5))"
		[ $n -gt 1 ] || continue
		mid=$((first + n / 2))
		echo "$e $mid --policy random $torn --seed $((e * 10 + 6))"
		echo "$e $mid --policy prefix $torn --seed $((e * 10 + 7))"
	done < <(grep '^epoch ' "$PCD/marks")
}

# pc_cuts_every FS MODE: pc_cuts's full list (every policy of POWERCUT=full) whatever POWERCUT says
pc_cuts_every() { POWERCUT=full pc_cuts "$@"; }

# pc_verdict CHECK...: runs a checker (pc-check) and prints its verdict as one line: its "ok ..."
# line, its violations joined by ';', or "violation check: ..." when it could not check
pc_verdict() {
	local out
	out=$("$@" </dev/null 2>&1)
	case $? in
	0) echo "$out" | tail -n 1 ;;
	1) echo "$out" | grep '^violation' | tr '\n' ';' ;;
	*) echo "violation check: $(echo "$out" | tail -n 2 | tr '\n' ' ')" ;;
	esac
}

pc_sweep() {
	local fs=$1 mode=$2 e w args line upto sum verdict cmd out t0=$SECONDS
	declare -A seen
	CUTS=0 STATES=0 VIOLATIONS=0 VKINDS=
	: > "$PCD/verdicts"
	while read -r e w args; do
		# the image is made on the tmpfs (no fdatasync cost); the printed line makes it in $PCD
		cmd="--epoch $e"
		[ "$w" = 0 ] || cmd="$cmd --writes $w"
		cmd="$cmd $args"
		line=$($PC replay --log "$PCD/record.log" --base "$PCD/base.img" --out "$PC_TMPFS/crash.img" $cmd 2>"$PCD/replay.err") || { diag "replay failed: $cmd: $(cat "$PCD/replay.err")"; VIOLATIONS=$((VIOLATIONS + 1)); continue; }
		CUTS=$((CUTS + 1))
		upto=$(echo "$line" | sed -n 's/.* writes=\([0-9]*\) .*/\1/p')
		sum=$(md5sum < "$PC_TMPFS/crash.img" | cut -c1-32)
		if [ -n "${seen[$sum]:-}" ]; then
			verdict=${seen[$sum]}
		else
			STATES=$((STATES + 1))
			verdict=$(pc_verdict "$PCLIB/pc-check" "$mode" "$fs" "$PC_TMPFS/crash.img" "$PCD/marks" "$upto" "$PCD/root.sqfs")
			seen[$sum]=$verdict
		fi
		echo "$e $w $args :: $verdict" >> "$PCD/verdicts"
		case $verdict in
		ok*) ;;
		*)
			VIOLATIONS=$((VIOLATIONS + 1))
			VKINDS="$VKINDS $(echo "$verdict" | grep -o 'violation [a-z]*' | cut -d' ' -f2 | tr '\n' ' ')"
			if [ "${PC_QUIET_VIOLATIONS:-0}" = 0 ] || [ "$VIOLATIONS" -le 3 ]; then
				diag "$fs/$mode: $verdict"
				diag "  replay: $PC replay --log $PCD/record.log --base $PCD/base.img --out $PCD/crash.img $cmd && O=$O $PCLIB/pc-check $mode $fs $PCD/crash.img $PCD/marks $upto $PCD/root.sqfs"
			fi ;;
		esac
	done < <("${PC_CUTS:-pc_cuts}" "$fs" "$mode")
	diag "$fs/$mode: $CUTS cuts checked in $((SECONDS - t0)) s"
}

# pc_boot_cut IMAGE HASH: the crash image as the data disk of a normal boot
pc_boot_cut() {
	local img=$1 want=$2 mode=${3:-persist} fs=${4:-}
	qemu_start "live.media=LABEL=OVERLIVE $(pc_live_arg "$mode" "$fs")" $(pc_medium_drive "$mode" "$fs") \
		-drive "file=$img,format=raw,if=virtio"
	qemu_expect 'overlive# ' 180 >/dev/null || { qemu_stop; return 1; }
	if [ "$mode" = upper ]; then
		qemu_run "$PC_UPPER_MOUNTED" ||
			{ diag "the upper is not the ext4 data disk"; qemu_show 10; qemu_stop; return 1; }
	else
		grep -aq "$PC_RESTORED" "$QLOG" || { diag "no restore message"; qemu_show 10; qemu_stop; return 1; }
	fi
	pc_guest_view || { qemu_stop; return 1; }
	qemu_send 'poweroff -f'
	qemu_stop
	[ "$VIEW" = "$want" ] || { diag "booted view $VIEW, want $want"; return 1; }
}

# pc_boot_cuts FS MODE N REGEX: boots N crash images of the sweep whose cut matches REGEX and whose
# host check passed, spread over the run; one TAP result each
pc_boot_cuts() {
	local fs=$1 mode=$2 n=$3 re=$4 e w rest args want cmd
	: > "$PCD/boots"
	[ "$n" -gt 0 ] || return 0
	grep -- "$re" "$PCD/verdicts" | grep ' :: ok' | grep -v ' :: ok gen=none' > "$PCD/boot-candidates"
	awk -v n="$n" -v t="$(wc -l < "$PCD/boot-candidates")" \
		'{ for (k = 1; k <= n; k++) if (NR == int(t * k / (n + 1)) + 1) print }' "$PCD/boot-candidates" > "$PCD/boots"
	while read -r e w rest; do
		args=${rest%% :: *}
		want=$(echo "$rest" | sed -n 's/.* hash=\([0-9a-f]*\) .*/\1/p')
		cmd="$PC replay --log $PCD/record.log --base $PCD/base.img --out $PCD/boot.img --epoch $e"
		[ "$w" = 0 ] || cmd="$cmd --writes $w"
		$cmd $args >/dev/null 2>&1
		pc_boot_cut "$PCD/boot.img" "$want" "$mode" "$fs"
		ok $? "$fs/$mode: boot after the cut at epoch $e ($args): the live system came up with the state the host found"
	done < "$PCD/boots"
}

# pc_boot_init_cuts FS N: the crash images of the workload's first step, the persist init cut before
# its ACK (the host's verdict "ok gen=none": no save yet), booted as what a stick is after a cut
# during the first shutdown's init. N distinct ones, those that hold the init's temporary first
# (on vfat the cut can leave its chain running into free clusters: the init's FAT check must
# repair it before the next init removes it; on exFAT the init removes it before anything writes,
# and the boot writes a file of the user's onto the stick). Each boot makes a change and powers off cleanly:
# the minimal recipe's shutdown runs persist init and persist save. Three results each: that
# shutdown saw no FAT or save error; (vfat) fsck.fat -n then finds the data disk clean, dirty bit
# included; the next boot restores the save.
pc_boot_init_cuts() {
	local fs=$1 n=$2 e w rest args sum tmp r k=0
	local live="live.media=LABEL=OVERLIVE $(pc_live_arg persist "$fs") live.persist.size=1M"
	declare -A seen
	: > "$PCD/init-boots"
	[ "$n" -gt 0 ] || return 0
	while read -r e w rest; do
		args=${rest%% :: *}
		pc_replay_to "$PC_TMPFS/crash.img" "$e" "$w" $args || continue
		sum=$(md5sum < "$PC_TMPFS/crash.img" | cut -c1-32)
		[ -z "${seen[$sum]:-}" ] || continue
		seen[$sum]=1
		tmp=1
		[ "$fs" = vfat ] && MTOOLS_SKIP_CHECK=1 mdir -b -i "$PC_TMPFS/crash.img" :: 2>/dev/null | grep -q 'persist\.dat\.init$' && tmp=0
		# exFAT: those whose temporary fsck.exfat finds broken first (clusters free in the bitmap)
		[ "$fs" = exfat ] && PATH=$PATH:/sbin:/usr/sbin fsck.exfat -n "$PC_TMPFS/crash.img" 2>/dev/null | grep -q '^ERROR: /persist\.dat\.init: ' && tmp=0
		echo "$tmp $e $w $args" >> "$PCD/init-boots"
	done < <(grep ' :: ok gen=none' "$PCD/verdicts")
	sort -s -n -k1,1 "$PCD/init-boots" | head -n "$n" > "$PCD/init-boots.picked"
	[ -s "$PCD/init-boots.picked" ] || { ok 1 "$fs/persist: crash images of the cut persist init to boot"; return; }
	while read -r tmp e w args; do
		k=$((k + 1))
		local what="$fs/persist: after the cut during persist init at epoch $e ($args$([ "$tmp" = 0 ] && echo ', its temporary left'))"
		pc_replay_to "$PCD/init-boot.img" "$e" "$w" $args
		qemu_start "$live" $(pc_medium_drive persist "$fs") -drive "file=$PCD/init-boot.img,format=raw,if=virtio"
		r=1
		# exFAT: a file the user writes onto the stick in that boot takes clusters: none of them may
		# be ones the cut temporary claimed (the init removed it first; fsck.exfat -n below)
		local user=true
		[ "$fs" = exfat ] && user="head -c 262144 /dev/urandom > /run/live/persist/user.dat && sync"
		if qemu_expect 'overlive# ' 180 >/dev/null && qemu_run "echo init-cut-$k > /root/init-cut && $user"; then
			qemu_send 'poweroff'
			qemu_expect 'overlive-minimal: stopped' 120 >/dev/null &&
				! grep -aq 'FAT-fs.*error\|Read-only file system\|unable to create the save file\|persist save failed' "$QLOG" && r=0
		fi
		ok $r "$what: the next boot's shutdown made the save file and saved, no FAT error"
		[ $r = 0 ] || qemu_show 15
		for _ in $(seq 100); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
		qemu_stop
		tr -d '\r' < "$QLOG" > "$PCD/init-boot-$k.console"    # what the init repaired, kept for a look
		if [ "$fs" = vfat ]; then
			fsck.fat -n "$PCD/init-boot.img" > "$PCD/init-boot.fsck" 2>&1
			ok $? "$what: then fsck.fat -n finds nothing, the dirty bit included" || sed 's/^/# | /' "$PCD/init-boot.fsck"
		elif [ "$fs" = exfat ]; then
			PATH=$PATH:/sbin:/usr/sbin fsck.exfat -n "$PCD/init-boot.img" > "$PCD/init-boot.fsck" 2>&1
			ok $? "$what: then fsck.exfat -n finds nothing" || sed 's/^/# | /' "$PCD/init-boot.fsck"
		fi
		qemu_start "$live" $(pc_medium_drive persist "$fs") -drive "file=$PCD/init-boot.img,format=raw,if=virtio"
		r=1
		qemu_expect 'overlive# ' 180 >/dev/null && grep -aq "$PC_RESTORED" "$QLOG" &&
			qemu_run "test \"\$(cat /root/init-cut)\" = init-cut-$k" && r=0
		ok $r "$what: the boot after restores that save"
		[ $r = 0 ] || qemu_show 15
		qemu_send 'poweroff -f'
		qemu_stop
	done < "$PCD/init-boots.picked"
}

# pc_replay_to OUT EPOCH WRITES ARGS...: the crash image of that cut (as pc_sweep made it) in OUT
pc_replay_to() {
	local out=$1 e=$2 w=$3
	shift 3
	if [ "$w" = 0 ]; then
		$PC replay --log "$PCD/record.log" --base "$PCD/base.img" --out "$out" --epoch "$e" "$@" >/dev/null 2>&1
	else
		$PC replay --log "$PCD/record.log" --base "$PCD/base.img" --out "$out" --epoch "$e" --writes "$w" "$@" >/dev/null 2>&1
	fi
}

# the table goes to stderr too, where prove shows it without -v; $PCD/row keeps the row
pc_table_row() {
	local row
	row=$(printf '%-14s %7s %7s %11s %7ss' "$1" "$CUTS" "$STATES" "$VIOLATIONS" "$2")
	echo "$row" > "$PCD/row"
	printf '# %-14s %7s %7s %11s %8s\n# %s\n' workload cuts states violations time "$row" | tee /dev/stderr
}

pc_count() {
	if [ "$POWERCUT" = full ]; then echo "${1#*/}"; else echo "${1%/*}"; fi
}

# pc_persist_campaign FS KEY=VALUE...: persist saves and compactions on an FS (vfat|ext4|exfat) data
# disk, after pc_prepare. One recorded QEMU run of ROUNDS workload rounds; crash images for every
# flush epoch checked on the host (at least 15 cuts, no violation); then crash images booted for
# real: BOOTS of the sweep's passed ones whose cut matches BOOT_CUT (pc_boot_cuts), INITS of the
# cut first persist init (pc_boot_init_cuts), and RECOVERIES whose cut matches RECOVERY_CUT cut
# again during their recovery (pc_recoveries). Each count is SHORT/FULL (pc_count); a count of
# 0 boots none. Keys: rounds (default 4/16), boots, boot_cut, inits, recoveries, recovery_cut.
pc_persist_campaign() {
	local fs=$1 kv t0=$SECONDS
	local rounds=4/16 boots=0/0 boot_cut=. inits=0/0 recoveries=0/0 recovery_cut=.
	shift
	for kv; do
		case ${kv%%=*} in
		rounds|boots|boot_cut|inits|recoveries|recovery_cut) printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
		*) bail "pc_persist_campaign: no key ${kv%%=*} (rounds boots boot_cut inits recoveries recovery_cut)" ;;
		esac
	done
	pc_record "$fs" persist "$(pc_count $rounds)"
	pc_sweep "$fs" persist
	ok $([ "$CUTS" -ge 15 ]; echo $?) "$fs/persist: $CUTS cuts swept over every flush epoch"
	is "$VIOLATIONS" 0 "$fs/persist: no violation in $STATES distinct crash images"
	pc_table_row "$PCNAME" $((SECONDS - t0))
	pc_boot_cuts "$fs" persist "$(pc_count $boots)" "$boot_cut"
	pc_boot_init_cuts "$fs" "$(pc_count $inits)"
	[ "$(pc_count $recoveries)" -gt 0 ] || return 0
	pc_recoveries "$fs" "$(pc_count $recoveries)" "$recovery_cut :: ok gen=[1-9]"
}

# pc_naive_campaign FS KINDS: the control, after pc_prepare. The workload saved the way the peers
# do (busybox tar to a temporary file, fsync, rename over save.tar, fsync the directory) on an FS
# data disk, cut at every flush epoch; the simulator must catch violations, among them of KINDS.
pc_naive_campaign() {
	local fs=$1 want=$2 rounds t0=$SECONDS kinds
	rounds=$(pc_count 4/16)
	PC_QUIET_VIOLATIONS=1
	pc_record "$fs" naive "$rounds"
	pc_sweep "$fs" naive
	ok $([ "$CUTS" -ge 15 ]; echo $?) "$fs/naive: $CUTS cuts swept over every flush epoch"
	ok $([ "$VIOLATIONS" -gt 0 ]; echo $?) "$fs/naive: the control shows violations ($VIOLATIONS in $CUTS cuts)"
	kinds=$(echo $VKINDS | tr ' ' '\n' | sort | uniq -c | awk '{ printf "%s %s, ", $1, $2 }')
	diag "$fs/naive: violation kinds: ${kinds%, }" | tee /dev/stderr
	echo "$VKINDS" | grep -qwE "$want"
	ok $? "$fs/naive: among them $want (not only a leftover temporary name)"
	pc_table_row "$PCNAME" $((SECONDS - t0))
}
