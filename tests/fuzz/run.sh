#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer harnesses (make fuzz), makes their seed corpora with the
# real tools, runs each harness's every mode for SECONDS, one after another, and prints the table
# (docs/fuzzing.md). A crash is minimized into the harness's saved inputs (DIR/t/fuzz/NAME/),
# with the command that replays it beside it. Exit 1 when a harness crashed or did not build.
#
#   tests/fuzz/run.sh SECONDS [PARSER...]      PARSER: a harness (initramfs-probe) or harness-mode
#                                              (initramfs-probe-ext); default all
# Environment: O (the build output, default out), MODULE_TREE (modules for the .modinfo seeds),
# FUZZ_NICE (default 10), FUZZ_TABLE (also write the table there, as Markdown), FUZZ_RUNS (also
# stop a parser after that many executions: a long run's "10 M each" without wasting the fast ones'),
# FUZZ_SPLIT=1 (SECONDS is a harness's, shared by its modes, 2 s each at least: what CI runs).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$TOP"
: "${O:=$TOP/out}"
: "${FUZZ_NICE:=10}"
: "${FUZZ_TABLE:=}"
SECONDS_EACH=${1:?usage: tests/fuzz/run.sh SECONDS [PARSER...]}
shift
F=$O/fuzz
# the harnesses' sandboxes (the save file's restore, persist.conf) on tmpfs when there is one, a
# directory for each run, removed after it (libFuzzer ends a run without the harness's atexit)
: "${FUZZ_TMPDIR:=$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}"

say() { printf '==> fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: fatal: %s\n' "$*" >&2; exit 1; }

case "$SECONDS_EACH" in
'' | *[!0-9]* | 0) echo "fuzz: unable to run: SECONDS must be a whole number of seconds above 0 (got '$SECONDS_EACH'), e.g. ./build.sh fuzz 60" >&2; exit 100 ;;
esac

# ------------------------------------------------------------- the harnesses
# harness (out/fuzz/NAME), its source directory, the largest input it is given
HARNESSES=(
	"tools-persist-save     tools/persist/t/fuzz/save       65536"
	"initramfs-probe        initramfs/t/fuzz/probe          65536"
	"initramfs-cmdline      initramfs/t/fuzz/cmdline        4096"
	"initramfs-manifest     initramfs/t/fuzz/manifest       8192"
	"tools-persist-conf     tools/persist/t/fuzz/conf       8192"
	"tools-modpick-modinfo  tools/modpick/t/fuzz/modinfo    65536"
	"tools-powercut-nbd     tools/powercut/t/fuzz/nbd       16384"
	"lib-slotrec            lib/t/fuzz/slotrec              16384"
)

# Debian's clang-14 (build.sh's package list) installs clang-14; the package clang adds clang
: "${FUZZ_CC:=$(command -v clang-14 || command -v clang || echo clang-14)}"
command -v "$FUZZ_CC" >/dev/null ||
	die "no $FUZZ_CC: install clang-14 and libclang-rt-14-dev (./build.sh installs them as root), or set FUZZ_CC"
mkdir -p "$F"
say "building the harnesses with $(basename "$FUZZ_CC") -fsanitize=fuzzer,address,undefined"
make -s -j"${JOBS:-$(nproc)}" O="$O" FUZZ_CC="$FUZZ_CC" fuzz >"$F/build.log" 2>&1 || { tail -20 "$F/build.log" >&2; die "the harnesses did not build (all of it: $F/build.log)"; }
[ -x "$O/bin/persist" ] || make -s O="$O" "$O/bin/persist" >>"$F/build.log" 2>&1 ||
	die "no $O/bin/persist for the save-file seeds (run ./build.sh first)"

[ -x "$O/bin/overlive-update" ] || make -s O="$O" "$O/bin/overlive-update" >>"$F/build.log" 2>&1 ||
	die "no $O/bin/overlive-update for the slot record's seeds (run ./build.sh first)"
# ------------------------------------------------------------- seed corpora, made by the real tools
# seeds_NAME DIR: writes the harness's seeds into DIR (an empty directory)
head64k() { head -c 65536 "$1" > "$2"; rm -f "$1"; }

seeds_initramfs-probe() {
	local d=$1 t
	t=$(mktemp -d)
	for fs in ext2 ext3 ext4; do
		truncate -s 8M "$t/i" && mkfs."$fs" -q -F -L "lab-$fs" "$t/i" && head64k "$t/i" "$d/$fs"
	done
	# exFAT: the FAT and the cluster heap aligned to 4 KiB (mkfs.exfat's default puts the root
	# directory, and so the label entry, past the 64 KiB the harness reads); ASCII and UTF-16 labels
	truncate -s 8M "$t/i" && mkfs.exfat -L EXFAT -b 4K -c 4K "$t/i" >/dev/null && head64k "$t/i" "$d/exfat"
	truncate -s 8M "$t/i" && mkfs.exfat -L "Stické" -b 4K -c 32K "$t/i" >/dev/null && head64k "$t/i" "$d/exfat-utf16"
	truncate -s 1M "$t/i" && mkfs.vfat -F 12 -n FAT12 "$t/i" >/dev/null && head64k "$t/i" "$d/vfat12"
	truncate -s 16M "$t/i" && mkfs.vfat -F 16 -n FAT16 "$t/i" >/dev/null && head64k "$t/i" "$d/vfat16"
	truncate -s 64M "$t/i" && mkfs.vfat -F 32 -n FAT32 "$t/i" >/dev/null && head64k "$t/i" "$d/vfat32"
	mkdir -p "$t/tree/sub" && echo hello > "$t/tree/sub/f"
	mksquashfs "$t/tree" "$t/i" -quiet -noappend >/dev/null && head64k "$t/i" "$d/squashfs"
	xorriso -as mkisofs -quiet -V ISOLABEL -o "$t/i" "$t/tree" 2>/dev/null && head64k "$t/i" "$d/iso9660"
	truncate -s 4M "$t/i" && printf 'label: gpt\n,1M\n,1M\n' | sfdisk -q "$t/i" >/dev/null && head64k "$t/i" "$d/gpt"
	truncate -s 4M "$t/i" && printf 'label: dos\n,1M\n,1M\n' | sfdisk -q "$t/i" >/dev/null && head64k "$t/i" "$d/mbr"
	rm -rf "$t"
}

# persist save files: v1 (uncompressed) and v4 (zstd: small files' bytes in BLOBs, REFs and
# entries in PACKs, and ZDATA for a file larger than a BLOB takes), two generations, of an upper
# with a hardlink, symlinks and a directory l/ beside a symlink m -> ../../trap (the harness's
# trap: a one-byte mutation of l/x into m/x asks the restore to follow it); and the v2 file (zstd,
# ZDATA only) of persist before PACK and the v3 one (PACKs of entries and small data) of persist
# before BLOB, tools/persist/t/old/. Trimmed of their trailing zeros.
seeds_tools-persist-save() {
	local d=$1 t p=$O/bin/persist c
	t=$(mktemp -d)
	mkdir -p "$t/up/d" "$t/up/l"
	echo data > "$t/up/d/f"; ln -s f "$t/up/d/s"; ln "$t/up/d/f" "$t/up/h"
	echo x > "$t/up/l/x"; ln -s ../../trap "$t/up/m"; seq 1 400 > "$t/up/z"; mkfifo "$t/up/p"
	cp tools/persist/t/old/v2-two-generations.bin "$d/zstd-v2"
	cp tools/persist/t/old/v3-two-generations.bin "$d/zstd-v3"
	for c in none zstd; do
		[ $c = zstd ] && yes 'a line of text' | head -c 300000 > "$t/up/big"
		"$p" init --file "$t/$c" --size 136K --compress $c --quiet
		"$p" save --file "$t/$c" --upper "$t/up" --quiet
		echo more >> "$t/up/d/f"; rm -f "$t/up/z"
		"$p" save --file "$t/$c" --upper "$t/up" --quiet
		seq 1 400 > "$t/up/z"
		perl -0777 -pe 's/\0+\z//' "$t/$c" > "$d/$c"
	done
	rm -rf "$t"
}

# the kernel parameters of docs/kernel-parameters.md, one a line and all on one line
seeds_initramfs-cmdline() {
	local d=$1
	grep -o '`live\.[^`]*`' docs/kernel-parameters.md | tr -d '`' | sort -u > "$d/words"
	tr '\n' ' ' < "$d/words" > "$d/all"
	printf 'console=ttyS0 live.media=LABEL=LIVE live.upper=/upper.img live.persist=/persist.dat live.persist.at=3 live.wait=5 live.debug live.break=upper' > "$d/line"
}

seeds_initramfs-manifest() {
	local d=$1 t
	t=$(mktemp -d)
	echo a > "$t/minimal.sqfs"; echo b > "$t/layer two.sqfs"; echo c > "$t/kiosk.sqfs"
	(cd "$t" && sha256sum minimal.sqfs kiosk.sqfs > "$d/text" && sha256sum -b ./*.sqfs > "$d/binary")
	rm -rf "$t"
}

seeds_tools-persist-conf() {
	local d=$1
	printf '# what to save\ninclude /etc\ninclude home/*\nexclude /var/cache\nexclude *.tmp\n\n' > "$d/conf"
	printf 'PERSIST_FILE=/run/live/medium/persist.dat\nPERSIST_UPPER="/run/live/upper"\nPERSIST_LOWER='"'"'/run/live/medium/live/minimal.sqfs'"'"'\n# c\n' > "$d/env"
}

# the smallest modules of the kernel package, and the saved inputs of modpick's own fuzz test
seeds_tools-modpick-modinfo() {
	local d=$1
	cp tools/modpick/t/fuzz/saved/* "$d/"
	[ -n "${MODULE_TREE:-}" ] && [ -d "$MODULE_TREE" ] || return 0
	local mods
	mapfile -t mods < <(find "$MODULE_TREE" -name '*.ko' -size -60k | sort)
	cp "${mods[@]:0:40}" "$d/"
}

# the slot record as overlive-update writes it: after an update (copy 0), a second one (both
# copies), a mark-good is not possible on a host, so a third update; and the file before any copy
seeds_lib-slotrec() {
	local d=$1 t
	t=$(mktemp -d)
	mkdir -p "$t/m/live" "$t/tree"
	echo x > "$t/tree/x"
	mksquashfs "$t/tree" "$t/new.sqfs" -noappend -no-progress -quiet >/dev/null
	cp "$t/new.sqfs" "$t/m/live/root.sqfs"
	for i in 1 2 3; do
		"$O/bin/overlive-update" "$t/new.sqfs" --medium "$t/m" >/dev/null 2>&1 || return 1
		cp "$t/m/live/slots" "$d/after-update-$i"
	done
	head -c 8192 /dev/zero > "$d/zero"
	rm -rf "$t"
}

# a QEMU client's real session, recorded between qemu-io and the simulator (socat -r)
seeds_tools-powercut-nbd() {
	local d=$1 t pid spid
	t=$(mktemp -d)
	truncate -s 1M "$t/img"
	"$O/bin/powercut" --socket "$t/s1" "$t/img" >"$t/log" 2>&1 & pid=$!
	for _ in $(seq 50); do [ -S "$t/s1" ] && break; sleep 0.1; done
	socat -r "$t/session" UNIX-LISTEN:"$t/s2" UNIX-CONNECT:"$t/s1" & spid=$!
	for _ in $(seq 50); do [ -S "$t/s2" ] && break; sleep 0.1; done
	timeout 30 qemu-io -f raw "nbd+unix:///?socket=$t/s2" -c 'write -P 1 0 4k' -c 'read 0 4k' -c flush \
		-c 'discard 8k 4k' -c 'write -z 16k 4k' -c 'write -P 2 -F 512 512' >/dev/null 2>&1 || true
	sleep 0.2
	kill "$pid" "$spid" 2>/dev/null || true
	wait "$pid" "$spid" 2>/dev/null || true
	[ -s "$t/session" ] && cp "$t/session" "$d/qemu-io"
	rm -rf "$t"
}

mkdir -p "$F/seeds" "$F/corpus" "$F/crash"
for h in "${HARNESSES[@]}"; do
	read -r name _ _ <<< "$h"
	# made again after a build of persist: its seeds are save files in the format it writes
	if [ ! -d "$F/seeds/$name" ] || [ "$F/seeds/$name" -ot "$O/bin/persist" ]; then
		rm -rf "$F/seeds/$name" "$F/seeds/$name.new"
		mkdir -p "$F/seeds/$name.new"
		"seeds_$name" "$F/seeds/$name.new" || die "unable to make the seeds of $name"
		mv "$F/seeds/$name.new" "$F/seeds/$name"
	fi
done
say "seeds: $(for h in "${HARNESSES[@]}"; do read -r n _ _ <<< "$h"; printf '%s %s, ' "$n" "$(ls "$F/seeds/$n" | wc -l)"; done)"

# ------------------------------------------------------------- runs
# wanted PARSER: whether the command line asked for it (harness or harness-mode)
wanted() {
	local a
	[ $# -gt 2 ] || return 0
	for a in "${@:3}"; do [ "$a" = "$1" ] || [ "$a" = "$2" ] && return 0; done
	return 1
}

# the saved input of a crash: minimized (-minimize_crash), named by its SHA-1, beside the command
save_crash() {
	local bin=$1 mode=$2 dir=$3 art=$4 min sum
	min=$F/crash/min-$(basename "$art")
	FUZZ_MODE=$mode "$bin" -minimize_crash=1 -max_total_time=60 -artifact_prefix="$F/crash/min-" \
		-exact_artifact_path="$min" "$art" >/dev/null 2>&1 || true
	[ -s "$min" ] || cp "$art" "$min"
	sum=$(sha1sum "$min" | cut -c1-40)
	mkdir -p "$dir"
	cp "$min" "$dir/$sum"
	printf 'FUZZ_MODE=%s %s %s\n' "$mode" "out/fuzz/$(basename "$bin")" "$dir/$sum" > "$dir/$sum.txt"
	say "crash: $dir/$sum (replay: $(cat "$dir/$sum.txt"); 'make tests' replays it too)"
}

rows=() failed=0
for h in "${HARNESSES[@]}"; do
	read -r name dir maxlen <<< "$h"
	bin=$F/$name
	modes=$(FUZZ_MODE=list "$bin" 2>/dev/null) || die "$bin does not list its modes (FUZZ_MODE=list)"
	secs=$SECONDS_EACH
	if [ "${FUZZ_SPLIT:-0}" = 1 ]; then
		secs=$(( (SECONDS_EACH + $(wc -w <<< "$modes") - 1) / $(wc -w <<< "$modes") ))
		[ "$secs" -ge 2 ] || secs=2
	fi
	for mode in $modes; do
		parser=$name-$mode
		[ "$(wc -w <<< "$modes")" -gt 1 ] || parser=$name	# a harness of one mode is named alone
		wanted "$name" "$parser" "$@" || continue
		corpus=$F/corpus/$parser
		mkdir -p "$corpus"
		log=$F/$parser.log
		say "$parser: ${secs} s"
		rm -f "$F/crash/$parser-"*
		rc=0
		tmp=$(mktemp -d "$FUZZ_TMPDIR/overlive-fuzz.XXXXXX")
		# the first directory is the corpus, which grows across runs; seeds and saved inputs are read only
		TMPDIR=$tmp FUZZ_MODE=$mode nice -n "$FUZZ_NICE" "$bin" -max_total_time="$secs" -max_len="$maxlen" \
			${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$F/crash/$parser-" \
			"$corpus" "$F/seeds/$name" $( [ -d "$dir" ] && echo "$dir") >"$log" 2>&1 || rc=$?
		rm -rf "$tmp"
		# (a run that crashed at once prints no coverage line: none of these may stop the script)
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
		cov=$({ grep -o 'cov: [0-9]* ft: [0-9]*' "$log" || true; } | tail -1 | awk '{ print $2 "/" $4 }')
		corp=$(ls "$corpus" | wc -l)
		crashes=0
		for art in "$F/crash/$parser-"*; do
			[ -e "$art" ] || continue
			crashes=$((crashes + 1))
			save_crash "$bin" "$mode" "$dir" "$art"
		done
		if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
			crashes="exit-$rc"
			say "$parser: libFuzzer exited $rc without an artifact (see $log)"
		fi
		[ "$crashes" = 0 ] || failed=1
		rows+=("$parser ${execs:-0} ${rate:-0} ${cov:-?} $corp $crashes")
	done
done

table() {
	printf '| parser | execs | exec/s | cov/ft | corpus | crashes |\n|---|---:|---:|---:|---:|---:|\n'
	for r in "${rows[@]}"; do
		read -r p e s c n x <<< "$r"
		printf '| %s | %s | %s | %s | %s | %s |\n' "$p" "$e" "$s" "$c" "$n" "$x"
	done
}
printf '%-30s %12s %8s %12s %7s %8s\n' parser execs exec/s cov/ft corpus crashes
for r in "${rows[@]}"; do
	read -r p e s c n x <<< "$r"
	printf '%-30s %12s %8s %12s %7s %8s\n' "$p" "$e" "$s" "$c" "$n" "$x"
done
if [ -n "$FUZZ_TABLE" ]; then
	{ printf '%s, `%s./build.sh fuzz %s`, %s cores (load %s)\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		"${FUZZ_RUNS:+FUZZ_RUNS=$FUZZ_RUNS }" "$SECONDS_EACH" \
		"$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"; table; } > "$FUZZ_TABLE"
fi
exit $failed
