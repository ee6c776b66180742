#!/usr/bin/env bash
# bench/peers.sh: overlive against its peers, Debian's live-boot and dracut's dmsquash-live, and
# against the floor (the kernel with an initramfs holding only a static init): when the root's
# init starts (guest uptime), same kernel, same QEMU command, same medium, same root, boots
# alternating, BENCH_BOOTS of each; writes peers.md. Behind BENCH_PEERS=1: the first run
# debootstraps a bookworm chroot into cache/peers (Debian's archive, once) and builds the peers'
# initrds there; later runs work from that cache. Never fails the bench run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
: "${BENCH_BOOTS:=3}"
: "${BENCH_PEERS:=0}"
: "${ACCEL:=tcg}"
: "${PEERS_CACHE:=$TOP/cache/peers}"     # the chroot and the initrds built in it
: "${PEERS_TIMEOUT:=300}"                # seconds a boot may take to reach the root's init
: "${PEERS_MIRROR:=}"                    # Debian mirror for debootstrap (default: apt's)
: "${PEERS_ICOUNT:=}"                    # N: every boot instruction-clocked (-icount shift=N)
export ACCEL
md=$B/peers.md
W=$B/peers.d
rm -f "$md"
if [ "$BENCH_PEERS" != 1 ]; then
	note "peers: not measured (live-boot, dracut, the floor): BENCH_PEERS=1 ./build.sh bench measures them (it needs Debian's archive once)"
	exit 0
fi
rm -rf "$W" && mkdir -p "$W/logs"
chroot_dir=$PEERS_CACHE/bookworm
: "${MODULE_TREE:=$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | head -n 1)}"
KVER=$(basename "${MODULE_TREE:-none}")
KCONFIG=$MODULE_TREE/../../../boot/config-$KVER
: "${PEERS_KINDS:=overlive live-boot dracut floor modfloor disk}"   # the boot kinds, in the order each round boots them
KINDS=$PEERS_KINDS
# each boot kind's kernel command line (besides console=ttyS0 panic=-1 quiet, from qemu.sh/here)
declare -A APPEND=(
	[overlive]="live.media=LABEL=OVERLIVE"
	[live-boot]="boot=live"
	[dracut]="root=live:LABEL=OVERLIVE rd.live.image rd.live.overlay.overlayfs=1"
	[floor]=""
	[modfloor]=""
	[disk]=""      # overlive's GPT disk image through SeaBIOS + syslinux: mkimage.sh writes its line
)
stop() { note "peers: not measured: $*"; exit 0; }

for f in vmlinuz initramfs.img bin/mkcpio; do
	[ -e "$O/$f" ] || stop "$O/$f is missing (run ./build.sh first)"
done
[ -d "$MODULE_TREE/kernel" ] || stop "no kernel module tree (MODULE_TREE=$MODULE_TREE)"
command -v qemu-system-x86_64 >/dev/null || stop "qemu-system-x86_64 is not installed"

# ---- the chroot: bookworm minbase with live-boot, initramfs-tools, dracut-core and dracut-live
# apt_mirror: the Debian mirror apt uses here (deb822 or one-line sources), else deb.debian.org
apt_mirror() {
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^deb / && $2 ~ /\/debian\/?$/ { print $2; exit } /^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit }')
	echo "${m:-http://deb.debian.org/debian}"
}
# in_chroot DIR CMD...: CMD inside DIR with /proc, /sys and /dev mounted, unmounted after
in_chroot() {
	local dir=$1 rc
	shift
	mount -t proc proc "$dir/proc" && mount -t sysfs sysfs "$dir/sys" && mount --bind /dev "$dir/dev" || {
		umount "$dir/dev" "$dir/sys" "$dir/proc" 2>/dev/null
		return 1
	}
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"
	rc=$?
	umount "$dir/dev" "$dir/sys" "$dir/proc"
	return $rc
}
# make_chroot: $chroot_dir, once: debootstrap (minbase, no systemd: dracut uses its shell init)
# and the peers' packages
make_chroot() {
	local tmp=$chroot_dir.tmp log=$PEERS_CACHE/bookworm.log mirror
	[ "$(id -u)" -eq 0 ] || { echo "debootstrap and chroot need root: run BENCH_PEERS=1 ./build.sh bench as root once"; return 1; }
	rm -rf "$tmp" && mkdir -p "$tmp" && : > "$log"
	command -v debootstrap >/dev/null || { echo "debootstrap is not installed"; return 1; }
	mirror=${PEERS_MIRROR:-$(apt_mirror)}
	say "peers: chroot: debootstrap --variant=minbase bookworm from $mirror (once; a few minutes)"
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >> "$log" 2>&1 ||
		{ echo "debootstrap failed: $(tail -n 3 "$log" | tr '\n' ' ')"; return 1; }
	cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null
	say "peers: chroot: apt-get install live-boot initramfs-tools dracut-core dracut-live"
	# dracut-core, not dracut: the dracut package conflicts with initramfs-tools (both are
	# Debian's linux-initramfs-tool), dracut-core holds the dracut command itself
	{ in_chroot "$tmp" apt-get update &&
		in_chroot "$tmp" apt-get install -y --no-install-recommends \
			live-boot live-boot-initramfs-tools initramfs-tools dracut-core dracut-live busybox zstd; } >> "$log" 2>&1 ||
		{ echo "apt-get in the chroot failed: $(tail -n 3 "$log" | tr '\n' ' ')"; return 1; }
	in_chroot "$tmp" apt-get clean >> "$log" 2>&1
	rm -rf "$chroot_dir" && mv "$tmp" "$chroot_dir" && touch "$chroot_dir/.done"
}
# put_kernel: the project's module tree (and config) in the chroot, depmod'ed; no kernel package.
# FRESH=1 when it was copied now (the initrds built from an older copy are stale)
FRESH=0
put_kernel() {
	local dest=$chroot_dir/lib/modules/$KVER
	[ -e "$dest/.from" ] && [ "$(cat "$dest/.from")" = "$MODULE_TREE" ] && [ -e "$dest/modules.dep" ] && return 0
	rm -rf "$dest" && mkdir -p "$chroot_dir/lib/modules" "$chroot_dir/boot" &&
		cp -a "$MODULE_TREE" "$dest" &&
		{ [ ! -f "$KCONFIG" ] || cp "$KCONFIG" "$chroot_dir/boot/config-$KVER"; } &&
		chroot "$chroot_dir" depmod -a "$KVER" && echo "$MODULE_TREE" > "$dest/.from" && FRESH=1
}
mkdir -p "$PEERS_CACHE"
if [ ! -e "$chroot_dir/.done" ]; then
	why=$(make_chroot) || stop "unable to make the chroot $chroot_dir: $why"
else
	say "peers: reusing the chroot $chroot_dir"
fi
put_kernel || stop "unable to put the kernel modules $KVER into the chroot"

# ---- the initrds, built once per kernel in the chroot (again with PEERS_REBUILD=1)
# build_initrd KIND CMD...: CMD (in the chroot) writes /tmp/peers-initrd.img, kept as KIND.img
ird=$PEERS_CACHE/initrd-$KVER
mkdir -p "$ird"
build_initrd() {
	local kind=$1 log=$ird/$1.log
	shift
	[ -s "$ird/$kind.img" ] && [ "${PEERS_REBUILD:-0}" != 1 ] && [ $FRESH = 0 ] && return 0
	say "peers: building the $kind initrd: $*"
	rm -f "$chroot_dir/tmp/peers-initrd.img"
	if in_chroot "$chroot_dir" "$@" > "$log" 2>&1 && [ -s "$chroot_dir/tmp/peers-initrd.img" ]; then
		mv "$chroot_dir/tmp/peers-initrd.img" "$ird/$kind.img"
	else
		note "peers: $kind: not measured: unable to build its initrd ($(tail -n 2 "$log" | tr '\n' ' '))"
		return 1
	fi
}
declare -A BUILD=(
	[live-boot]="mkinitramfs -o /tmp/peers-initrd.img $KVER"
	[dracut]="dracut --no-hostonly --add dmsquash-live --force /tmp/peers-initrd.img $KVER"
)
declare -A INITRD=([overlive]=$O/initramfs.img)
for kind in live-boot dracut; do
	# shellcheck disable=SC2086
	build_initrd "$kind" ${BUILD[$kind]} && INITRD[$kind]=$ird/$kind.img
done

# ---- the floor: an initramfs holding only bench/floor-init.c, static, as /init
if make_floor "$W/floor"; then
	INITRD[floor]=$W/floor/initramfs.img
else
	note "peers: floor: not measured: unable to build its initramfs (${MUSLCC:-musl-gcc}, bench/floor-init.c)"
fi

# ---- the root: the minimal image's recipe, with an /sbin/init that prints the uptime and
# powers off; the medium: ext4 LABEL=OVERLIVE with that one squashfs where each boot looks
root=$W/root
rm -rf "$root" && mkdir -p "$root"
"$TOP/images/minimal/recipe.sh" "$root" >/dev/null || stop "unable to make the root (images/minimal/recipe.sh)"
rm -f "$root/sbin/init"
cat > "$root/sbin/init" <<'INIT'
#!/bin/sh
# the peers bench's root init: the guest uptime now, then power off
[ -r /proc/uptime ] || mount -t proc proc /proc
read -r up _ < /proc/uptime
echo "peers: uptime $up" > /dev/console
# after the moment measured: the modules loaded, oldest first (/proc/modules lists the newest
# first), for the module floor
mods=
while read -r m _; do mods="$m $mods"; done < /proc/modules
echo "peers: modules $mods" > /dev/console
poweroff -f
INIT
chmod 0755 "$root/sbin/init"
mksquashfs "$root" "$W/root.sqfs" -comp zstd -noappend -no-progress -quiet -all-root >/dev/null ||
	stop "unable to make the root's squashfs"
EXTRA="$W/root.sqfs:live/filesystem.squashfs $W/root.sqfs:LiveOS/squashfs.img" \
	"$TOP/images/mkmedium.sh" ext4 "$W/root.sqfs" "$W/medium.img" OVERLIVE || stop "unable to make the medium (images/mkmedium.sh)"

# the disk kind: overlive's own GPT disk image (images/mkimage.sh) of that root, booted whole by
# SeaBIOS and syslinux from virtio-blk, as a user's stick is (the uptime starts at the kernel, so
# the firmware's and the loader's time is not in it; the report gives the wall time apart)
if [[ " $KINDS " == *" disk "* ]]; then
	if "$TOP/images/mkimage.sh" --kernel "$O/vmlinuz" --initrd "$O/initramfs.img" --sqfs "$W/root.sqfs" \
		--out "$W/disk.img" --console "console=ttyS0" --append "panic=-1 quiet" > "$W/disk.log" 2>&1; then
		INITRD[disk]=$O/initramfs.img
		APPEND[disk]="($(grep -o 'command line: .*' "$W/disk.log" | cut -d' ' -f3- | sed 's/^console=ttyS0 //; s/ panic=-1 quiet$//'), from syslinux)"
	else
		note "peers: disk: not measured: unable to make the disk image ($(tail -n 1 "$W/disk.log"))"
	fi
fi

# ---- the boots: A B C D A B C D ..., the same QEMU command but for -initrd and -append
. "$TOP/tests/lib/qemu-disk.sh"
diag() { QWHY=$*; }   # why qemu_expect gave up, for the note
QARGS=(-drive "file=$W/medium.img,format=raw,if=virtio,snapshot=on")
# instruction-clocked: the guest's clock advances by the instructions it runs (2^N ns each), not
# by the host's time, so a loaded host does not move the figures (it only makes them slower to get)
[ -z "$PEERS_ICOUNT" ] || QARGS+=(-icount "shift=$PEERS_ICOUNT")
tsv=$W/peers.tsv
: > "$tsv"
: > "$W/disk-wall"
declare -A FAILS=() TIMEDOUT=()
# each init's own rescue shell: overlive's, initramfs-tools' (live-boot), dracut's
GAVE_UP='overlive rescue# |\(initramfs\) |Dropping to debug shell'
# boot_one KIND N: one boot; its uptime into the tsv, or a note with the console's last lines.
# The console log decides, not qemu_expect's status: QEMU powers off right after the line.
boot_one() {
	local kind=$1 n=$2 dir=$W/$1.boot log=$W/logs/$1-$2.log try up
	mkdir -p "$dir" && ln -sf "$O/vmlinuz" "$dir/vmlinuz" && ln -sf "${INITRD[$kind]}" "$dir/initramfs.img"
	for try in 1 2; do
		QWHY=
		if [ "$kind" = disk ]; then
			qemu_disk_start bios virtio "$W/disk.img" -snapshot ${PEERS_ICOUNT:+-icount shift=$PEERS_ICOUNT}
		else
			O=$dir qemu_start "quiet ${APPEND[$kind]}" "${QARGS[@]}"
		fi
		qemu_expect "peers: uptime [0-9]|$GAVE_UP" "$PEERS_TIMEOUT" >/dev/null
		# after the uptime, the root's init lists the modules loaded (for the module floor); a
		# rescue shell's next lines, for the note
		if [[ $QMATCH == *"peers: uptime"* ]]; then
			[ "$kind" = floor ] || [ "$kind" = modfloor ] || qemu_expect 'peers: modules ' 30 >/dev/null
		else
			sleep 1
		fi
		tr -d '\r' < "$QLOG" > "$log"   # before qemu_stop types its poweroff into the console
		qemu_stop >/dev/null 2>&1
		grep -aq 'peers: uptime' "$log" || tr -d '\r' < "$QLOG" | grep -a 'peers: uptime' >> "$log"
		up=$(grep -a -m 1 -oE 'peers: uptime [0-9.]+' "$log" | cut -d' ' -f3)
		if [ -n "$up" ]; then
			printf '%s\t%s\t%s\n' "$kind" "$n" "$up" >> "$tsv"
			[ "$kind" != disk ] || printf '%s\n' "$(qemu_disk_elapsed)" >> "$W/disk-wall"
			return 0
		fi
		# a loaded host can make TCG fail the kernel's early timer check: that one, once more
		[ $try = 1 ] && grep -q 'Kernel panic' "$log" || break
		note "peers: the $kind boot $n panicked and was tried again ($(grep -m 1 -o 'Kernel panic.*' "$log" | cut -c1-80))"
	done
	FAILS[$kind]=$(( ${FAILS[$kind]:-0} + 1 ))
	case $QWHY in timeout*) TIMEDOUT[$kind]=1 ;; esac
	note "peers: the $kind boot $n did not reach the root's init (${QWHY:-its initrd gave up}); its console's last lines: $(grep -av '^$' "$log" | tail -n 8 | cut -c1-160 | sed 's/$/ ⏎/' | tr '\n' ' ')"
	return 1
}
# make_modfloor: the module floor (make_floor, bench/lib.sh) with the modules an overlive boot of
# this run loaded (its root init lists them), as the kernel's tree has them
make_modfloor() {
	local names name f all kos=()
	names=$(grep -a -h -m 1 -oE 'peers: modules .*' "$W"/logs/overlive-*.log 2>/dev/null | head -n 1 | cut -d' ' -f3-)
	[ -n "$names" ] || { note "peers: modfloor: not measured: no overlive boot listed its modules"; return 1; }
	all=$W/modfloor.ko-list
	(cd "$MODULE_TREE" && find . -name '*.ko' | sed 's|^\./||') > "$all"
	for name in $names; do
		f=$(awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
			if (b == n) { print; exit } }' "$all")
		[ -n "$f" ] && [ -f "$MODULE_TREE/$f" ] || { note "peers: modfloor: not measured: no $name in $MODULE_TREE"; return 1; }
		kos+=("$MODULE_TREE/$f")
	done
	make_floor "$W/modfloor" "${kos[@]}" || { note "peers: modfloor: not measured: unable to build its initramfs"; return 1; }
	INITRD[modfloor]=$W/modfloor/initramfs.img
	MODFLOOR_MODULES=$names
}
MODFLOOR_MODULES= MODFLOOR_TRIED=0
start=$(now)
for n in $(seq 1 "$BENCH_BOOTS"); do
	for kind in $KINDS; do
		if [ $kind = modfloor ] && [ $MODFLOOR_TRIED = 0 ]; then
			MODFLOOR_TRIED=1
			make_modfloor
		fi
		[ -n "${INITRD[$kind]:-}" ] || continue
		# a kind that timed out is not booted again (each time costs PEERS_TIMEOUT); one that
		# gave up in its rescue shell is (that is quick, and may be the load)
		[ -n "${TIMEDOUT[$kind]:-}" ] && continue
		say "peers: $kind $n/$BENCH_BOOTS"
		boot_one "$kind" "$n"
	done
done
say "peers: boots done in $(elapsed "$start") s"

# ---- the report
# stat_of KIND FN: median, min or max of KIND's uptimes
stat_of() {
	local v
	v=$(awk -F'\t' -v k="$1" '$1 == k { print $3 }' "$tsv")
	case $2 in
	median) printf '%s\n' "$v" | grep . | median ;;
	min | max) printf '%s\n' "$v" | awk -v f="$2" 'NF { if (!n++ || (f == "min" ? $1 < x : $1 > x)) x = $1 }
		END { if (n) printf "%.3f\n", x; else print "-" }' ;;
	esac
}
ov=$(stat_of overlive median) fl=$(stat_of floor median)
{
	echo "## Boot against the peers: Debian live-boot, dracut dmsquash-live, the floor"
	echo
	echo "Guest uptime (\`/proc/uptime\`) when the root's \`/sbin/init\` ran, printed by that init on the serial console"
	echo "(QEMU $ACCEL, ${QEMU_MEM:-768} MiB, virtio-blk, the same kernel $KVER for all). Boots alternate"
	echo "(${KINDS// /, }, then again), $BENCH_BOOTS of each. One ext4 medium labelled OVERLIVE holds one squashfs"
	echo "(the minimal image's busybox root, its init printing the uptime and powering off) as live/root.sqfs,"
	echo "live/filesystem.squashfs and LiveOS/squashfs.img. The peers' initrds are Debian bookworm's packages' defaults,"
	echo "built in the chroot \`cache/peers/bookworm\` (docs/bench.md). The floor: the kernel with an initramfs holding"
	echo "only a static \`/init\` that prints the uptime (\`bench/floor-init.c\`); the module floor (modfloor): the same, but its"
	echo "\`/init\` first loads with \`finit_module\` the modules the first overlive boot of this run had loaded, uncompressed and"
	echo "signed as in the kernel's tree: ${MODFLOOR_MODULES:-(not built)}. Ratio = peer / overlive (above 1: overlive is faster)."
	[ -z "$PEERS_ICOUNT" ] || echo "Instruction-clocked (\`PEERS_ICOUNT=$PEERS_ICOUNT\`: \`-icount shift=$PEERS_ICOUNT\`): the guest's clock counts $((1 << PEERS_ICOUNT)) ns an instruction, not the host's time: the seconds are not a real machine's, but a loaded host does not move them."
	echo
	echo "| boot | root init reached: median | min | max | boots | ratio to overlive | initrd bytes | kernel command line |"
	echo "|---|---|---|---|---|---|---|---|"
	for kind in $KINDS; do
		m=$(stat_of "$kind" median)
		ok=$(awk -F'\t' -v k="$kind" '$1 == k' "$tsv" | wc -l)
		if [ -z "${INITRD[$kind]:-}" ]; then
			size="not built" boots=0
		else
			size=$(stat -c %s "${INITRD[$kind]}") boots="$ok of $BENCH_BOOTS"
			[ "${FAILS[$kind]:-0}" -gt 0 ] && boots="$ok of $BENCH_BOOTS, **${FAILS[$kind]} did not boot**"
			[ -n "${TIMEDOUT[$kind]:-}" ] && boots="$boots (timed out after ${PEERS_TIMEOUT} s)"
		fi
		r=$(ratio "$m" "$ov")
		[ "$kind" = overlive ] && [ "$m" != - ] && r=1
		echo "| $kind | $(fmt_s "$m") | $(fmt_s "$(stat_of "$kind" min)") | $(fmt_s "$(stat_of "$kind" max)") | $boots | $r | $size | \`console=ttyS0 panic=-1 quiet${APPEND[$kind]:+ ${APPEND[$kind]}}\` |"
	done
	echo
	gap=$(awk -v a="$ov" -v b="$fl" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }')
	echo "- **overlive − floor** (median): $(fmt_s "$gap") (issue 14's target: at most 0.400 s)."
	mf=$(stat_of modfloor median)
	if [ "$mf" != - ] && [ "$fl" != - ]; then
		echo "- **modfloor − floor** (median): $(awk -v a="$mf" -v b="$fl" 'BEGIN { printf "%.3f s", a - b }'): what loading overlive's $(echo $MODFLOOR_MODULES | wc -w) modules costs the kernel itself; no initramfs that loads them reaches the root's init sooner than the module floor."
		echo "- **overlive − modfloor** (median): $(awk -v a="$ov" -v b="$mf" 'BEGIN { printf "%.3f s", a - b }'): what overlive adds besides the kernel's loading of its modules (the unpacking of its initramfs, the pack's decoding, finding and mounting the medium, the overlay, the switch)."
	fi
	for kind in live-boot dracut; do
		pr=$(ratio "$(stat_of "$kind" median)" "$fl")
		[ "$pr" = - ] || echo "- **$kind / floor** (median): $pr: the largest ratio to $kind any initramfs could show in this run."
	done
	dk=$(stat_of disk median)
	if [ "$dk" != - ]; then
		echo "- **disk** (overlive's GPT disk image through SeaBIOS and syslinux, virtio-blk): root's init at $(fmt_s "$dk") of guest uptime (median), $(ratio "$dk" "$ov") of the \`-kernel\` boot's; live-boot / disk $(ratio "$(stat_of live-boot median)" "$dk"), dracut / disk $(ratio "$(stat_of dracut median)" "$dk"). Wall time from QEMU's start, firmware and loader included (median): $(fmt_s "$(grep . "$W/disk-wall" | median)")."
	fi
	for kind in live-boot dracut; do
		r=$(ratio "$(stat_of "$kind" median)" "$ov")
		v=-
		[ "$r" != - ] && v=$(awk -v r="$r" 'BEGIN { print (r >= 10) ? "met" : "not met" }')
		echo "- **$kind / overlive** (median): $r (target ≥ 10: $v)."
	done
	echo
	echo "Reproduce: \`BENCH_PEERS=1 bench/peers.sh\` (after \`./build.sh\`; as root). Raw figures: \`out/bench/peers.d/peers.tsv\`,"
	echo "consoles: \`out/bench/peers.d/logs/\`."
	echo
} > "$md"
exit 0
