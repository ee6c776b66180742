#!/bin/sh
# The baseline: what a busybox shell-script initramfs does, step for step the same as overlive's
# init (same modules in the same order, same medium, squashfs via losetup, tmpfs, overlay,
# switch_root). Each stage is logged to the kernel log like overlive's, for the same parser.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo on > /proc/sys/kernel/printk_devkmsg
kmsg=/dev/kmsg
st() { echo "baseline: stage=$1" > "$kmsg"; }
fail() { echo "baseline: fatal: $*" > /dev/console; exec sh; }
st early
label=OVERLIVE
for w in $(cat /proc/cmdline); do case "$w" in live.media=LABEL=*) label=${w#live.media=LABEL=} ;; esac; done
st modules
while read -r tag name rest; do
	[ "$tag" = m ] && insmod "/lib/modules/$name.ko" 2>/dev/null
done < /lib/modules/modules.idx
st find-medium
n=0
until dev=$(findfs "LABEL=$label" 2>/dev/null); do
	n=$((n + 1))
	[ $n -gt 300 ] && fail "no medium LABEL=$label"
	sleep 0.1
done
st mount-medium
mkdir -p /run/live/medium /run/live/lower /run/live/upper
mount -r "$dev" /run/live/medium || fail "mount $dev"
st lower
loop=$(losetup -f) && losetup -r "$loop" /run/live/medium/live/root.sqfs || fail "losetup"
mount -t squashfs -r "$loop" /run/live/lower || fail "mount squashfs"
st upper
mount -t tmpfs -o size=50%,mode=0755 tmpfs /run/live/upper || fail "mount tmpfs"
mkdir /run/live/upper/upper /run/live/upper/work
st overlay
mount -t overlay -o lowerdir=/run/live/lower,upperdir=/run/live/upper/upper,workdir=/run/live/upper/work overlay /newroot || fail "mount overlay"
st move
for d in medium lower upper; do
	mkdir -p "/newroot/run/live/$d" && mount --move "/run/live/$d" "/newroot/run/live/$d" || fail "move $d"
done
for d in dev proc sys; do mount --move "/$d" "/newroot/$d" || fail "move /$d"; done
kmsg=/newroot/dev/kmsg
st switch
[ -x /newroot/sbin/init ] || [ -L /newroot/sbin/init ] || fail "no /sbin/init"
st exec
exec switch_root /newroot /sbin/init
