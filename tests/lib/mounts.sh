# mounts.sh: a scratch directory for tests that mount things in it (sourced).
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
