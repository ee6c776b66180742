#!/usr/bin/env bash
# images/debian-kiosk/recipe.sh ROOT: the debian recipe as a kiosk: one service (kiosk.conf:
# KIOSK_APP, as KIOSK_USER on the console) restarted whenever it dies, no console login, and a
# root reset at every boot but for the paths persist.conf keeps (the image puts it beside the
# save file: only home/kiosk/data by default). A browser instead of the demo: docs/images.md.
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kiosk.conf"
DEBIAN_INCLUDE=${KIOSK_PACKAGES:-} "$here/../debian/recipe.sh" "$root"
cp -a "$here/rootfs/." "$root/"
install -m 0644 "$here/kiosk.conf" "$root/etc/kiosk.conf"
echo "$KIOSK_USER:x:$KIOSK_UID:$KIOSK_UID:kiosk:/home/$KIOSK_USER:/bin/sh" >> "$root/etc/passwd"
echo "$KIOSK_USER:x:$KIOSK_UID:" >> "$root/etc/group"
echo "$KIOSK_USER:!:19000::::::" >> "$root/etc/shadow"
mkdir -p "$root/home/$KIOSK_USER/data"
chown -R "$KIOSK_UID:$KIOSK_UID" "$root/home/$KIOSK_USER"
# the service, and no login on any console (what systemctl enable and mask would link)
sed -i "s|@APP@|$KIOSK_APP|; s|@USER@|$KIOSK_USER|; s|@POWEROFF@|$KIOSK_POWEROFF_STATUS|" \
	"$root/etc/systemd/system/kiosk.service"
ln -sf ../kiosk.service "$root/etc/systemd/system/multi-user.target.wants/kiosk.service"
for u in getty@tty1.service serial-getty@ttyS0.service serial-getty@hvc0.service console-getty.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
echo kiosk > "$root/etc/hostname"
exit 0
