# images/lib.sh: the command-line rules the image scripts share (sourced after PROG is set):
# one message grammar, one way to take an option's value, one language for sizes.
#   die MSG...          "PROG: fatal: MSG" on stderr, exit 100 (bad usage or input)
#   fail MSG...         the same, exit 111 (a system failure: a missing tool, a failed write)
#   bad_usage MSG...    the usage (the script's usage function) on stderr, then die MSG
#   need_value "$@"     in an option loop, before reading $2: dies when the option ($1) is last
#   to_mib OPT SIZE     prints SIZE in MiB, rounded up; dies naming OPT unless SIZE is a size
#                       as lib/number.h reads one: decimal digits, optionally one of the
#                       suffixes K M G T P (or KiB MiB ...; powers of 1024, any case)

die() { echo "$PROG: fatal: $*" >&2; exit 100; }
fail() { echo "$PROG: fatal: $*" >&2; exit 111; }
bad_usage() { usage >&2; die "$@"; }
need_value() { [ $# -ge 2 ] || bad_usage "$1 needs a value"; }

to_mib() {
	local opt=$1 s=$2 n u
	n=${s%%[!0-9]*} u=${s#"$n"}
	shopt -s nocasematch
	case $u in
	'') u=0 ;;
	k | kib) u=10 ;;
	m | mib) u=20 ;;
	g | gib) u=30 ;;
	t | tib) u=40 ;;
	p | pib) u=50 ;;
	*) u=bad ;;
	esac
	shopt -u nocasematch
	[ -n "$n" ] && [ "$u" != bad ] ||
		die "$opt '$s': expects a number of bytes, optionally with one of the suffixes K M G T P (or KiB MiB GiB TiB PiB; powers of 1024, any case), e.g. 256M"
	# shell arithmetic is 64-bit signed: at most 18 digits, and no more than 2^62 bytes
	[ "${#n}" -le 18 ] && [ "$((10#$n))" -le $((1 << (62 - u))) ] || die "$opt '$s': too large"
	n=$((10#$n))
	if [ "$u" -ge 20 ]; then
		echo $((n << (u - 20)))
	else
		echo $(((n + (1 << (20 - u)) - 1) >> (20 - u)))
	fi
}
