# bench/lib.sh: helpers shared by the bench scripts (sourced): clocks, medians, ratios, report rows.
# Every script writes its part of the report to $B/NAME.md and says what it could not measure.
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${O:=$TOP/out}"
: "${B:=$O/bench}"
: "${BENCH_FULL:=0}"
mkdir -p "$B"

say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
# elapsed START: seconds since START (from now), 3 decimals
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# timeit VAR CMD...: runs CMD, puts its wall time in seconds into VAR; returns CMD's status
timeit() {
	local __v=$1 __t __r
	shift
	__t=$(now)
	"$@"
	__r=$?
	printf -v "$__v" '%s' "$(elapsed "$__t")"
	return $__r
}
# median of the numbers on stdin (one a line); "-" when there are none
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; if (m == int(m)) print m; else printf "%.3f\n", m }'; }
# ratio A B: A/B with 2 decimals, "-" when either is missing or B is 0
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"; else { r = a / b; if (r != 0 && r < 0.01) printf "%.2e\n", r; else printf "%.2f\n", r } }'; }
# fmt_s SECONDS: "1.234 s" (or "-")
fmt_s() { [ "$1" = - ] || [ -z "$1" ] && echo - || echo "$1 s"; }
# row CELLS...: one markdown table row
row() { local IFS='|'; printf '| %s |\n' "$*" | sed 's/|/ | /g; s/^ | /| /; s/ |  |$/ |/'; }
# note TEXT: a line for the report's "could not measure" list (and the terminal)
note() { say "$*"; printf -- '- %s\n' "$*" >> "$B/notes.md"; }
