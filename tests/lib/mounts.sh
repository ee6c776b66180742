# mounts.sh: for tests that mount things: their needs (overlay_test) and a scratch directory (sourced).
#   scratch_dir NAME   sets W to a new directory /tmp/overlive-NAME.XXXXXX; at exit everything
#                      mounted below it is unmounted (deepest first, lazily if busy), then it goes
scratch_dir() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/overlive-$1.XXXXXX") || return 1
	trap scratch_cleanup EXIT
}
scratch_cleanup() {
	local m
	for m in $(awk -v w="$W" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$W"
}

# overlay_test HELPER...: what a real-overlay test needs (root, overlay, out/bin/persist, the
# tests/overlay helpers named, which `make tests` builds into $O/tests-overlay with the unit
# tests' warnings and sanitizers), else skip_all with the reason; then P is persist and H holds
# the helpers
overlay_test() {
	local t
	[ "$(id -u)" = 0 ] || skip_all "needs root (mounts overlay and tmpfs)"
	grep -qw overlay /proc/filesystems || skip_all "no overlay filesystem in this kernel"
	P=$O/bin/persist
	[ -x "$P" ] || skip_all "no $P: run make first"
	H=$O/tests-overlay
	for t in "$@"; do
		[ -x "$H/$t" ] || skip_all "no $H/$t: run make tests first"
	done
}
