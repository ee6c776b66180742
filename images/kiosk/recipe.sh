#!/usr/bin/env bash
# images/kiosk/recipe.sh ROOT: a kiosk: the minimal busybox system, but instead of a shell one
# service (kiosk.conf: KIOSK_APP) started at boot and restarted when it dies, a root that is reset at
# every boot (tmpfs upper), and the paths listed in KIOSK_PERSIST kept on the ext4 partition
# labelled persistence, which the init mounts on /run/live/data (live.data=), bind-mounted over them
# by /etc/rc. No console shell: live.break gives one.
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
"$here/../minimal/recipe.sh" "$root"
cp -a "$here/rootfs/." "$root/"
install -m 0644 "$here/kiosk.conf" "$root/etc/kiosk.conf"
. "$here/kiosk.conf"
echo "$KIOSK_USER:x:$KIOSK_UID:$KIOSK_UID:kiosk:/home/$KIOSK_USER:/bin/false" >> "$root/etc/passwd"
echo "$KIOSK_USER:x:$KIOSK_UID:" >> "$root/etc/group"
mkdir -p "$root/home/$KIOSK_USER"
echo kiosk > "$root/etc/hostname"
exit 0
