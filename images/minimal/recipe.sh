#!/usr/bin/env bash
# images/minimal/recipe.sh ROOT: the minimal live system: busybox, a root shell on the console,
# clean poweroff/reboot, and overlive's own tools. Runs without root (owners are fixed by mksquashfs).
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
: "${BUSYBOX:=/bin/busybox}"
: "${TOOLS_DIR:=}"                  # out/bin: persist, overlive-update, when built

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,mnt,var/log,usr/bin,usr/sbin}
chmod 1777 "$root/tmp"
install -m 0755 "$BUSYBOX" "$root/bin/busybox"
# One symlink per applet, where the applet says it belongs.
"$BUSYBOX" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
ln -sf /bin/busybox "$root/sbin/init"
cp -a "$here/rootfs/." "$root/"
if [ -n "$TOOLS_DIR" ]; then
	for t in persist overlive-update; do
		[ -x "$TOOLS_DIR/$t" ] && install -m 0755 "$TOOLS_DIR/$t" "$root/usr/sbin/$t"
	done
fi
exit 0
