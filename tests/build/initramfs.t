#!/usr/bin/env bash
# tests/build/initramfs.t: out/initramfs.img holds every default-class module and a working
# rescue busybox in at most 2 MB (2,000,000 bytes) compressed, in a format the kernel unpacks.
# Reads the image ./build.sh made; the module list comes from modpick on $MODULE_TREE (build.sh
# test sets it; else the kernel tree in cache/).
. "$(dirname "$0")/../lib/tap.sh"
: "${INITRAMFS_MAX:=2000000}"
img=$O/initramfs.img
[ -f "$img" ] || skip_all "build first: ./build.sh"
command -v cpio >/dev/null || skip_all "cpio is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

size=$(stat -c %s "$img")
ok $((size > INITRAMFS_MAX)) "the initramfs is $size bytes compressed: at most the $INITRAMFS_MAX of the target"

# The kernel unpacks xz only with a CRC32 (or no) check; zstd as it is.
case "$(head -c 6 "$img" | od -An -tx1 | tr -d ' ')" in
fd377a585a00)
	check=$(xz --robot --list "$img" | awk '$1 == "totals" { print $7 }')
	is "$check" CRC32 "xz initramfs: its check is CRC32, which the kernel's xz decoder verifies"
	unpack=(xz -dc "$img") ;;
28b52ffd*)
	ok 0 "zstd initramfs"
	unpack=(zstd -dc "$img") ;;
*)
	ok 1 "the initramfs is xz or zstd"
	unpack=(cat "$img") ;;
esac
"${unpack[@]}" > "$tmp/i.cpio"
cpio -t < "$tmp/i.cpio" 2>/dev/null | sort > "$tmp/list"
grep -qx init "$tmp/list" && grep -qx bin/busybox "$tmp/list" && grep -qx bin/sh "$tmp/list"
ok $? "it holds /init, /bin/busybox and /bin/sh"

# Every module modpick picks by default (all classes) is in it.
tree=${MODULE_TREE:-$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | sort -V | tail -n 1)}
if [ -x "$O/bin/modpick" ] && [ -d "$tree/kernel" ]; then
	"$O/bin/modpick" --tree "$tree" --list 2>/dev/null | awk '{ gsub(/-/, "_", $1); print "lib/modules/" $1 ".ko" }' |
		sort > "$tmp/want"
	n=$(wc -l < "$tmp/want")
	missing=$(comm -23 "$tmp/want" "$tmp/list" | tr '\n' ' ')
	ok $(( n < 40 || ${#missing} > 0 )) "it holds all $n default-class modules${missing:+ (missing: $missing)}"
	grep -qx lib/modules/modules.idx "$tmp/list"
	ok $? "it holds the module index"
else
	skip 2 "no module tree (set MODULE_TREE=lib/modules/VERSION)"
fi

# The rescue shell: the busybox in the image runs a shell with the applets a rescue needs.
(cd "$tmp" && cpio -i --quiet --to-stdout bin/busybox < i.cpio > busybox) && chmod +x "$tmp/busybox"
out=$("$tmp/busybox" sh -c 'echo "shell-$((6 * 7))"' 2>&1)
is "$out" shell-42 "its busybox runs a shell"
applets="sh ls cat cp mv rm mkdir mount umount dmesg insmod lsmod blkid switch_root reboot poweroff
	ps grep sed less vi sync mknod ln echo test sleep hexdump dd losetup find head tail wc df free
	chroot setsid cttyhack"
have=$("$tmp/busybox" --list 2>/dev/null)
lacking=$(for a in $applets; do grep -qx "$a" <<< "$have" || printf '%s ' "$a"; done)
ok ${#lacking} "its busybox has the rescue applets${lacking:+ (lacking: $lacking)}"
bbsize=$(stat -c %s "$tmp/busybox")
file "$tmp/busybox" | grep -q 'statically linked'
ok $? "its busybox is static ($bbsize bytes)"

# The FAT check before a save file is written: Debian's fsck.fat, static, finds a fresh FAT clean.
if grep -qx bin/fsck.fat "$tmp/list"; then
	(cd "$tmp" && cpio -i --quiet --to-stdout bin/fsck.fat < i.cpio > fsck.fat) && chmod +x "$tmp/fsck.fat"
	file "$tmp/fsck.fat" | grep -q 'statically linked'
	ok $? "its fsck.fat is static ($(stat -c %s "$tmp/fsck.fat") bytes)"
	if command -v mkfs.vfat >/dev/null; then
		mkfs.vfat -C "$tmp/f.img" 4096 >/dev/null && "$tmp/fsck.fat" -n "$tmp/f.img" >/dev/null
		ok $? "its fsck.fat finds a fresh FAT clean"
	else
		skip 1 "mkfs.vfat is not installed (dosfstools)"
	fi
else
	skip 2 "the initramfs has no fsck.fat: build.sh had no dosfstools source (see its deps stage); FATs are written unchecked"
fi
done_testing
