#!/usr/bin/env bash
# tests/cli/powercut.t: powercut's numbers are read in the project's one language (lib/number.h):
# decimal digits only for counts and seeds ("010" is ten, "0x10" and "-1" are refused as persist
# refuses them), sizes with its suffixes for --tear-unit; each refusal exits 100 and names the
# option, the value and the rule.
# Disk layout: none (the command line is read before any socket or image is opened).
. "$(dirname "$0")/../lib/tap.sh"

P=$O/bin/powercut
[ -x "$P" ] || skip_all "no $P: run make first"
W=$(mktemp -d /tmp/overlive-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT

"$P" --help > "$W/out" 2>&1
ok $? "powercut --help exits 0"

# accepted: ARGS... (followed by --help, which exits 0 once every option before it is read)
accepted() {
	"$P" "$@" --help > "$W/out" 2> "$W/err"
	is $? 0 "powercut $* is accepted: $(head -c 200 "$W/err")"
}
# refused: the words the message must hold | ARGS...
refused() {
	local want=$1
	shift
	"$P" "$@" --help > "$W/out" 2> "$W/err"
	is $? 100 "powercut $* is a usage error"
	grep -qF -- "$want" "$W/err"
	ok $? "  naming '$want': $(tail -n 1 "$W/err")"
}
accepted --seed 010
accepted --seed 18446744073709551615
accepted --cut-after-write 7 --cut-at-flush 0 --cut-after-ms 250 --keep 3
accepted --tear-unit 4096
accepted --tear-unit 4K
accepted --tear-unit 1MiB
refused "unable to use --seed '0x10': expects a decimal number" --seed 0x10
refused "unable to use --keep '-1': expects a decimal number" --keep -1
refused "unable to use --cut-at-flush '+2': expects a decimal number" --cut-at-flush +2
refused "unable to use --epoch ' 3': expects a decimal number" --epoch " 3"
refused "unable to use --seed '18446744073709551616': too large" --seed 18446744073709551616
refused "unable to use --cut-after-write '': expects a decimal number" --cut-after-write ""
refused "unable to use --tear-unit '4KB': expects a number of bytes" --tear-unit 4KB
refused "unable to use --tear-unit '2M': not a power of two" --tear-unit 2M
refused "unable to use --tear-unit '1000': not a power of two" --tear-unit 1000
# decimal, not octal: 01000 would be 512, a good tear unit
refused "unable to use --tear-unit '01000': not a power of two" --tear-unit 01000

done_testing
