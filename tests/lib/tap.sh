# tap.sh: TAP for the shell-script system tests (sourced). Counts, plans at the end.
# Usage: . tests/lib/tap.sh; ok COND-EXIT "name"; is GOT WANT "name"; skip_all "why"; done_testing
TAP_N=0
TAP_FAILED=0

ok() { # ok STATUS NAME: STATUS is a command's exit status (0 = pass)
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() { # is GOT WANT NAME
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

diag() { echo "# $*"; }

skip() { # skip COUNT WHY
	local i
	for ((i = 0; i < $1; i++)); do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # skip $2"
	done
}

need() { # need CMD... [-- PACKAGE]: skips the whole test unless every CMD is on PATH
	local c pkg='' cmds=()
	while [ $# -gt 0 ]; do [ "$1" = -- ] && { pkg=$2; break; }; cmds+=("$1"); shift; done
	for c in "${cmds[@]}"; do
		command -v "$c" >/dev/null || skip_all "$c is not installed${pkg:+ (apt-get install $pkg)}"
	done
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

bail() { echo "Bail out! $*"; exit 255; }

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}

# The repository's top and its build output, wherever the test is started from.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${O:=$TOP/out}"
