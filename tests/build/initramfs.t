#!/usr/bin/env bash
# tests/build/initramfs.t: out/initramfs.img holds every default-class module (in the module
# pack) and a working rescue busybox in at most 2 MB (2,000,000 bytes), in archives the kernel
# unpacks.
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

# Two archives, as the kernel unpacks them one after the other: the compressed one (xz only with
# a CRC32 or no check; zstd as it is), then, on a 4-byte boundary, the uncompressed one that holds
# only the module pack. Its start is the first newc magic of the image (an xz or zstd stream
# holds none).
case "$(head -c 6 "$img" | od -An -tx1 | tr -d ' ')" in
fd377a585a00)
	unpack=(xz -dc --single-stream)
	xz -dc --single-stream < "$img" > /dev/null
	ok $? "the first archive is xz" ;;
28b52ffd*)
	ok 0 "the first archive is zstd"
	unpack=(zstd -dc) ;;
*)
	ok 1 "the first archive is xz or zstd"
	unpack=(cat) ;;
esac
second=$(grep -obUa -m 1 070701 "$img" | head -n 1 | cut -d: -f1)
ok $(( ${second:-1} % 4 )) "the second archive starts on a 4-byte boundary (at ${second:-none})"
head -c "${second:-0}" "$img" > "$tmp/first"
"${unpack[@]}" < "$tmp/first" > "$tmp/i.cpio" 2>/dev/null
[ "${unpack[0]}" != xz ] || { xz --robot --list "$tmp/first" 2>/dev/null | awk '$1 == "totals" { print $7 }' | grep -qx CRC32; }
ok $? "its check is CRC32 when it is xz (the kernel's xz decoder verifies no other)"
cpio -t < "$tmp/i.cpio" 2>/dev/null | sort > "$tmp/list"
grep -qx init "$tmp/list" && grep -qx bin/busybox "$tmp/list" && grep -qx bin/sh "$tmp/list"
ok $? "it holds /init, /bin/busybox and /bin/sh"
grep -qx lib/modules/modules.idx "$tmp/list"
ok $? "it holds the module index"

# persist is the init's program by another name (initramfs/main.c): /bin/persist leads to /init,
# and run under that name it is persist; by any other name outside PID 1 it refuses to be the init.
is "$(cpio -tv < "$tmp/i.cpio" 2>/dev/null | awk '$NF == "/init" && $(NF - 2) == "bin/persist" { print $1 }')" lrwxrwxrwx \
	"/bin/persist is a link to /init"
(cd "$tmp" && cpio -i --quiet --to-stdout init < i.cpio > init-prog) && chmod +x "$tmp/init-prog" && ln -s init-prog "$tmp/persist"
"$tmp/persist" --help > "$tmp/persist-help" 2>&1
ok $(( $? != 0 )) "the initramfs's /init runs as persist by that name (persist --help exits 0)"
grep -q '^usage: persist COMMAND' "$tmp/persist-help"
ok $? "and says persist's usage"
# The commands of the full persist (tools/persist/full/) are not in the initramfs's: it runs the
# root's /usr/sbin/persist for them, or says where they are (docs/persist.md).
if [ -e /usr/sbin/persist ] || [ -e /usr/local/sbin/persist ] || [ -e /usr/bin/persist ]; then
	skip 2 "this host has a persist in /usr/sbin, /usr/local/sbin or /usr/bin (the initramfs's would run it)"
else
	"$tmp/persist" export --help > "$tmp/export-out" 2>&1
	ok $(( $? != 100 )) "the initramfs's persist has no export: exit 100 (no root persist to run)"
	grep -q "no such command in the initramfs's persist.*root image's /usr/sbin/persist" "$tmp/export-out"
	ok $? "  and says where it is"
fi
"$tmp/init-prog" > "$tmp/init-out" 2>&1
st=$?
is "$st $(grep -c 'outside PID 1' "$tmp/init-out")" "100 1" "outside PID 1 the init refuses to boot this machine (exit 100, says why)"
(cd "$tmp" && cpio -i --quiet -d lib/modules/modules.idx < i.cpio)
tail -c +$((${second:-0} + 1)) "$img" > "$tmp/second.cpio"
is "$(cpio -t < "$tmp/second.cpio" 2>/dev/null | tr '\n' ' ')" "lib lib/modules lib/modules/modules.pack.xz " \
	"the second archive holds only the module pack (and its directories)"
(cd "$tmp" && cpio -i --quiet -d lib/modules/modules.pack.xz < second.cpio)
check=$(xz --robot --list "$tmp/lib/modules/modules.pack.xz" 2>/dev/null | awk '$1 == "totals" { print $7 }')
is "$check" None "the pack is xz without a stream check (each module's CRC32C in the index is the loader's check)"

# Every module modpick picks by default (all classes) is in the pack, byte for byte as in the
# module tree, at the place its index line says (read here with tail/head and cmp, not with our
# loader; the CRC32Cs are the loader's own check, tested in kmod/t/pack.c).
tree=${MODULE_TREE:-$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | sort -V | tail -n 1)}
if [ -x "$O/bin/modpick" ] && [ -d "$tree/kernel" ] && xz -dc "$tmp/lib/modules/modules.pack.xz" > "$tmp/pack" 2>/dev/null; then
	"$O/bin/modpick" --tree "$tree" --list 2>/dev/null | awk '{ gsub(/-/, "_", $1); print $1, $4 }' | sort > "$tmp/want"
	n=$(wc -l < "$tmp/want")
	awk '$1 == "s" { print $2, $3 }' "$tmp/lib/modules/modules.idx" > "$tmp/stored"
	is "$(cut -d' ' -f1 "$tmp/stored" | sort | tr '\n' ' ')" "$(cut -d' ' -f1 "$tmp/want" | tr '\n' ' ')" \
		"the pack holds exactly the $n default-class modules"
	off=0 bad=''
	while read -r name bytes; do
		path=$(awk -v m="$name" '$1 == m { print $2 }' "$tmp/want")
		tail -c +$((off + 1)) "$tmp/pack" | head -c "$bytes" | cmp -s - "$tree/$path" || bad+="$name "
		off=$((off + bytes))
	done < "$tmp/stored"
	ok $(( ${#bad} > 0 || off != $(stat -c %s "$tmp/pack") )) "each module is its tree's file byte for byte, in index order, and nothing else is${bad:+ (differ: $bad)}"
else
	skip 2 "no module tree (set MODULE_TREE=lib/modules/VERSION) or the pack does not decode"
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
# no name resolver (initramfs/busybox-nonet.c): musl's would read these files
! grep -qaE '/etc/(resolv\.conf|hosts)' "$tmp/busybox"
ok $? "its busybox carries no name resolver (the initramfs has no network)"
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
