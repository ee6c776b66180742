#!/usr/bin/env bash
# tests/cli/images.t: the image scripts' command lines (images/lib.sh): every script has a --help
# that exits 0, an option without its value or an unknown option exits 100 with a message that
# names it, and --size reads sizes in the project's one language (lib/number.h: decimal, the
# suffixes K M G T P or KiB ..., any case; 0x10, 1KB, -1 refused), rounded up to MiB.
# Disk layout: none (everything here is refused, or read, before an image is written).
. "$(dirname "$0")/../lib/tap.sh"
I=$TOP/images
W=$(mktemp -d /tmp/overlive-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT

for s in mkimage mkiso mkmedium write-stick; do
	"$I/$s.sh" --help > "$W/out" 2>&1
	ok $? "$s.sh --help exits 0"
	grep -q "^usage: $s.sh" "$W/out"
	ok $? "  and starts with its usage line"
done

# refused SCRIPT WANT ARGS...: exit 100, WANT in the message
refused() {
	local s=$1 want=$2
	shift 2
	"$I/$s.sh" "$@" > "$W/out" 2> "$W/err"
	is $? 100 "$s.sh $* is a usage error"
	grep -qF -- "$want" "$W/err"
	ok $? "  saying '$want': $(tail -n 1 "$W/err")"
}
refused mkimage "mkimage: fatal: --kernel needs a value" --kernel
refused mkimage "mkimage: fatal: --append needs a value" --out x --append
refused mkimage "mkimage: fatal: unknown option '--bogus'" --bogus
refused mkimage "mkimage: fatal: missing a required option" --out x
refused mkiso "mkiso: fatal: --console needs a value" --console
refused mkiso "mkiso: fatal: unknown option '--size'" --size 1G
refused mkmedium "mkmedium: fatal: give the KIND, SQFS and OUT" vfat
refused write-stick "write-stick: fatal: unknown option '--force'" --force a b
refused write-stick "write-stick: fatal: give IMAGE and /dev/DISK" a

# to_mib, as mkimage --size uses it
PROG=test
. "$I/lib.sh"
mib() { (to_mib --size "$1") 2>&1; }
for c in 0:0 1:1 1048576:1 1048577:2 010:1 1K:1 1024k:1 512M:512 512MiB:512 512mib:512 4G:4096 \
	1gib:1024 2T:2097152 1P:1073741824; do
	is "$(mib "${c%:*}")" "${c#*:}" "--size ${c%:*} is ${c#*:} MiB"
done
for s in 0x10 1KB 1B -1 +1 M '' "1 M" 1.5G 1K5 99999999999999999999; do
	r=$(mib "$s")
	case $r in
	"test: fatal: --size '$s': expects a number of bytes"* | "test: fatal: --size '$s': too large") ok 0 "--size '$s' is refused: $r" ;;
	*) ok 1 "--size '$s' is refused (got '$r')" ;;
	esac
done
done_testing
