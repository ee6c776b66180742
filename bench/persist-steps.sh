#!/bin/sh
# bench/persist-steps.sh SRC MEDIUM DST REPS: times persist against tar and cp -a on one medium
# (POSIX sh and busybox tools, so it runs on the host and inside the live system). SRC is the
# upper, MEDIUM a directory on the medium under test, DST an empty directory for restores.
# Prints "NAME SECONDS STATUS" per timed step and "size NAME BYTES"; PERSIST names the program,
# ZSTD the zstd command for the tar | zstd steps (empty: not measured). COLD=1 drops the page cache
# before each restore (root; the guest does, the shared host does not), as after a boot.
src=$1 med=$2 dst=$3 reps=${4:-1}
: "${PERSIST:=persist}" "${ZSTD=zstd}" "${COLD:=0}"
command -v "${ZSTD%% *}" > /dev/null 2>&1 || ZSTD=
cold() { [ "$COLD" = 1 ] || return 0; sync; echo 3 > /proc/sys/vm/drop_caches; }
if [ "$(date +%N)" != "%N" ] && [ "$(date +%N)" != N ]; then
	clock() { date +%s.%N; }
else
	clock() { read -r up _ < /proc/uptime; echo "$up"; }
fi
t() {
	name=$1; shift
	s=$(clock); "$@" > /dev/null 2>> "$dst.err"; rc=$?; e=$(clock)
	echo "$name $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }') $rc"
}
kb=$(du -sk "$src" | cut -f1)
size=$(( (kb * 3 / 1024) + 64 ))M     # halves hold the live state once, plus room
first=$(find "$src" -type f -size -8k | head -n 1)   # a small file: the one-file save
# the upper older than 2 s at the full save, as a user's changes are: entries changed less than 2 s
# before a save are compared again by the next one (persist-format.md), which would put a compare
# of the last files made into the one-file save
sleep 2.1
i=0
while [ $i -lt "$reps" ]; do
	i=$((i + 1))
	rm -rf "$med/p.dat" "$med/u.tar.gz" "$med/u.tar.zst" "$med/u2.tar.gz" "$med/cp" "$dst/p" "$dst/t" "$dst/z" "$dst/c"
	mkdir -p "$dst/p" "$dst/t" "$dst/z"
	"$PERSIST" init --file "$med/p.dat" --size "$size" > /dev/null 2>> "$dst.err" || echo "error persist-init"
	sync -f "$med/p.dat" 2>/dev/null || sync
	t save "$PERSIST" save --upper "$src" --file "$med/p.dat" --quiet
	t tar_c sh -c "tar -czf '$med/u.tar.gz' -C '$src' . && (sync -f '$med/u.tar.gz' 2>/dev/null || sync)"
	[ -n "$ZSTD" ] && t tar_zc sh -c "tar -cf - -C '$src' . | $ZSTD -T0 -q -o '$med/u.tar.zst' && (sync -f '$med/u.tar.zst' 2>/dev/null || sync)"
	t cp_save sh -c "cp -a '$src' '$med/cp'; r=\$?; (sync -f '$med' 2>/dev/null || sync); exit \$r"
	cold; t restore "$PERSIST" restore --file "$med/p.dat" --into "$dst/p" --quiet
	cold; t tar_x tar -xzf "$med/u.tar.gz" -C "$dst/t"
	[ -n "$ZSTD" ] && { cold; t tar_zx sh -c "$ZSTD -dc -q '$med/u.tar.zst' | tar -xf - -C '$dst/z'"; }
	cold; t cp_restore cp -a "$med/cp" "$dst/c"
	if [ $i = 1 ]; then
		if diff -r "$src" "$dst/p" > /dev/null 2>&1; then echo "check restore same"; else echo "check restore differs"; fi
	fi
	echo "change $i" >> "$first"
	t save_inc "$PERSIST" save --upper "$src" --file "$med/p.dat" --quiet
	# the next one-file save, as in a session: what the save before read is in the page cache
	echo "change $i again" >> "$first"
	t save_inc_warm "$PERSIST" save --upper "$src" --file "$med/p.dat" --quiet
	t tar_inc sh -c "tar -czf '$med/u2.tar.gz' -C '$src' . && (sync -f '$med/u2.tar.gz' 2>/dev/null || sync)"
	if [ $i = 1 ]; then
		echo "size save $("$PERSIST" log --file "$med/p.dat" --json | awk -F'"journal_bytes":' 'NF > 1 { split($2, a, ","); print a[1]; exit }')"
		echo "size save_inc $("$PERSIST" log --file "$med/p.dat" --json | awk -F'"journal_bytes":' 'NF > 1 { split($2, a, ","); n++; if (n == 2) v = a[1] } END { print v }')"
		echo "size tar_gz $(wc -c < "$med/u.tar.gz")"
		[ -n "$ZSTD" ] && echo "size tar_zst $(wc -c < "$med/u.tar.zst")"
		echo "size upper_kb $kb"
		echo "entries $(find "$src" | wc -l)"
	fi
done
rm -rf "$med/p.dat" "$med/u.tar.gz" "$med/u.tar.zst" "$med/u2.tar.gz" "$med/cp" "$dst/p" "$dst/t" "$dst/z" "$dst/c"
