#!/usr/bin/env bash
# tests/images/nonroot.t: the whole image build runs as an unprivileged user: ./build.sh image
# --recipe minimal --persist file, run through setpriv as uid/gid 65534 into a fresh output
# directory, makes a GPT image whose files belong to root inside (mksquashfs -all-root,
# mkfs.ext4 root_owner) without one loop mount. Disks: none booted (boot.t boots the same build).
. "$(dirname "$0")/../lib/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to switch to an unprivileged user with setpriv"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) is not installed"
[ -f "$O/vmlinuz" ] || skip_all "build first: ./build.sh"
: "${MODULE_TREE:=$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | head -n 1)}"
[ -d "$MODULE_TREE" ] || skip_all "no kernel module tree (run ./build.sh once, or set MODULE_TREE=)"
export PATH=$PATH:/sbin:/usr/sbin
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir "$T/out" "$T/home" && chown 65534:65534 "$T/out" "$T/home"
# the user must reach the tree and the kernel to build from them
setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$TOP/build.sh" -a -r "$O/vmlinuz" -a -x "$MODULE_TREE" ||
	skip_all "uid 65534 cannot read $TOP, $O/vmlinuz or $MODULE_TREE"

start=$SECONDS
setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH="$PATH" HOME="$T/home" TMPDIR="$T/home" \
	O="$T/out" KERNEL="$O/vmlinuz" MODULES="$MODULE_TREE" \
	"$TOP/build.sh" image --recipe minimal --name nr --persist file --size 300M > "$T/log" 2>&1
st=$?
is "$st" 0 "./build.sh image --recipe minimal --persist file runs as uid 65534"
[ "$st" -eq 0 ] || tail -n 20 "$T/log" | sed 's/^/# /'
diag "non-root image build: $((SECONDS - start)) s"
img=$T/out/nr.img
is "$(tail -n 1 "$T/log")" "$img" "it prints the image on its last line"
is "$(stat -c %u "$img" 2>/dev/null)" 65534 "the image belongs to the user who built it"
is "$(stat -c %s "$img" 2>/dev/null)" $((300 << 20)) "the image has the --size asked for"
! grep -qi 'loop\|permission denied\|operation not permitted' "$T/log"
ok $? "no loop device and no permission error on the way" || grep -i 'loop\|denied\|not permitted' "$T/log" | sed 's/^/# /'
if [ "$st" -eq 0 ]; then
	MTOOLS_SKIP_CHECK=1 mcopy -i "$img@@1048576" ::live/persistence.img "$T/p.ext4" &&
		e2fsck -fn "$T/p.ext4" >/dev/null 2>&1 &&
		debugfs -R 'stat /' "$T/p.ext4" 2>/dev/null | grep -q 'User: *0 *Group: *0'
	ok $? "the persistence file is a clean ext4 whose root directory belongs to root"
	unsquashfs -lls "$T/out/nr.sqfs" 2>/dev/null | awk 'NF >= 6 { n++; if ($2 != "root/root") bad = 1 } END { exit bad || n < 100 }'
	ok $? "every file of the squashfs belongs to root"
else
	skip 2 "no image"
fi
done_testing
