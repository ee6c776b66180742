#!/usr/bin/env bash
# tests/fuzz/short.t: every libFuzzer harness for 5 s (its modes share them): a harness that no
# longer builds, or that crashes or breaks one of its properties at once, fails here. The long
# runs and their table: ./build.sh fuzz, docs/fuzzing.md.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
: "${O:=$TOP/out}"

cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ] || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
	"$cc" -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
	skip_all "no clang with libFuzzer (Debian: clang-14 libclang-rt-14-dev)"
fi
out=$(O=$O FUZZ_SPLIT=1 FUZZ_CC=$cc "$TOP/tests/fuzz/run.sh" "${FUZZ_SHORT_SECONDS:-5}" 2>&1)
rc=$?
rows=$(printf '%s\n' "$out" | awk '/^parser +execs/ { t = 1; next } t && NF == 6')
if [ -z "$rows" ]; then
	printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
	ok 1 "the harnesses built and ran (run.sh exited $rc, no table)"
else
	while read -r parser execs rate cov corpus crashes; do
		[ "$crashes" = 0 ] && [ "$execs" -gt 0 ] 2>/dev/null
		ok $? "$parser: $execs execs ($rate/s, cov/ft $cov), crashes: $crashes"
	done <<< "$rows"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | grep -i 'crash\|fatal\|property' | sed 's/^/# /'
	ok $((rc != 0)) "run.sh exited $rc"
fi
done_testing
