#!/usr/bin/env bash
# images/debian/recipe.sh ROOT: a Debian bookworm live system with systemd: debootstrap'd once into
# $CACHE/debian (reused offline after that), a root login on the serial and VGA consoles without a
# password (a live system), networking by systemd-networkd (DHCP on every wired interface), and
# /run/live/bin on PATH. Saving needs nothing of its own: the init provides persist, the save at
# shutdown and the overlive-save service and timer (docs/persist.md). Needs root (debootstrap).
# DEBIAN_MIRROR (default deb.debian.org), DEBIAN_SUITE (bookworm), DEBIAN_INCLUDE (more packages).
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
: "${CACHE:?the recipe needs CACHE (build.sh sets it)}"
: "${DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${DEBIAN_SUITE:=bookworm}"
: "${DEBIAN_INCLUDE:=}"
say() { printf '==> debian: %s\n' "$*"; }
die() { printf 'debian recipe: fatal: %s\n' "$*" >&2; exit 100; }

pkgs="systemd-sysv,udev,iproute2,less,procps${DEBIAN_INCLUDE:+,$DEBIAN_INCLUDE}"
base=$CACHE/debian/$DEBIAN_SUITE-$(echo "$pkgs" | md5sum | cut -c1-8)
if [ ! -e "$base/.done" ]; then
	[ "$(id -u)" -eq 0 ] || die "debootstrap needs root: run ./build.sh image --recipe debian as root once (later builds reuse $base)"
	command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
	say "debootstrap $DEBIAN_SUITE ($pkgs) into $base (once; a few minutes)"
	rm -rf "$base.tmp" && mkdir -p "$base.tmp"
	debootstrap --variant=minbase --include="$pkgs" "$DEBIAN_SUITE" "$base.tmp" "$DEBIAN_MIRROR" \
		> "$base.log" 2>&1 || die "debootstrap failed (the end of $base.log): $(tail -n 3 "$base.log" | tr '\n' ' ')"
	rm -rf "$base" && mv "$base.tmp" "$base" && touch "$base/.done"
else
	say "reusing $base"
fi
cp -a "$base/." "$root/"
rm -f "$root/.done"
cp -a "$here/rootfs/." "$root/"
# the units the recipe turns on (what systemctl enable would link)
mkdir -p "$root/etc/systemd/system/multi-user.target.wants" "$root/etc/systemd/system/sockets.target.wants"
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/"
ln -sf /lib/systemd/system/systemd-networkd.socket "$root/etc/systemd/system/sockets.target.wants/"
# a new machine id at every boot that has no save (systemd writes it; a save keeps it)
: > "$root/etc/machine-id"
echo overlive-debian > "$root/etc/hostname"
# the A/B updater (docs/updates.md; the init's unit runs its --mark-good after the default
# target) and the full persist (export, rebase, conflicts: docs/persist.md), when built
for t in overlive-update persist; do
	[ -n "${TOOLS_DIR:-}" ] && [ -x "$TOOLS_DIR/$t" ] && install -m 0755 "$TOOLS_DIR/$t" "$root/usr/sbin/"
done
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* 2>/dev/null || true
exit 0
