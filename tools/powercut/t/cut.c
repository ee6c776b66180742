/* t/cut.c: the cut policies alone: counts, determinism, durable writes, torn boundaries. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "cut.h"
#include "tap.h"

#define N 16

static void writes(struct cut_write *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		w[i].off = i * 4096;
		w[i].len = 4096;
		w[i].durable = 0;
	}
}

int main(void)
{
	struct cut_write w[N];
	struct cut_stats st, st2;
	uint32_t k[N], k2[N];
	struct cut_spec spec = { .policy = CUT_NONE, .keep = -1 };
	enum cut_policy p;
	size_t i;
	int same, differ = 0, s, full;

	writes(w, N);
	w[3].durable = 1;
	cut_plan(&spec, w, N, k, &st);
	is_int(st.unflushed, N - 1, "none: the durable write is not counted as unflushed");
	is_int(st.dropped, N - 1, "none: every unflushed write dropped");
	is_int(k[3], 4096, "none: a durable write survives");
	is_int(k[0] + k[15], 0, "none: others do not");

	spec.policy = CUT_PREFIX;
	spec.keep = 5;
	cut_plan(&spec, w, N, k, &st);
	is_int(st.kept, 5, "prefix 5: five kept");
	ok(k[0] == 4096 && k[1] == 4096 && k[2] == 4096 && k[4] == 4096 && k[5] == 4096 &&
	   k[6] == 0, "prefix 5: the first five unflushed writes (the durable one is skipped)");
	spec.keep = 100;
	cut_plan(&spec, w, N, k, &st);
	is_int(st.kept, N - 1, "prefix longer than the cache keeps everything");

	spec.keep = -1;
	spec.seed = 42;
	cut_plan(&spec, w, N, k, &st);
	cut_plan(&spec, w, N, k2, &st2);
	ok(memcmp(k, k2, sizeof k) == 0 && st.keep == st2.keep, "prefix: same seed, same K (%zu)",
	   st.keep);
	is_int(st.kept + st.dropped, N - 1, "prefix: kept + dropped = unflushed");

	spec.policy = CUT_RANDOM;
	spec.seed = 7;
	cut_plan(&spec, w, N, k, &st);
	cut_plan(&spec, w, N, k2, &st2);
	ok(memcmp(k, k2, sizeof k) == 0, "random: same seed, same subset");
	is_int(st.kept + st.dropped + st.torn, N - 1, "random: counts add up");
	for (s = 1; s <= 20; s++) {
		spec.seed = (uint64_t)s;
		cut_plan(&spec, w, N, k2, &st2);
		differ += memcmp(k, k2, sizeof k) != 0;
	}
	ok(differ > 10, "random: other seeds choose other subsets (%d of 20)", differ);

	/* torn: boundaries are absolute sector boundaries strictly inside the write */
	w[0].off = 100;
	w[0].len = 1000; /* one interior boundary: 512 */
	w[1].off = 8192;
	w[1].len = 300;  /* none */
	spec.policy = CUT_PREFIX;
	spec.keep = 0;
	spec.torn = 1;
	cut_plan(&spec, w, N, k, &st);
	is_int(k[0], 412, "torn prefix: the write after the prefix ends at sector 512");
	is_int(st.torn, 1, "torn prefix: one torn write");
	is_int(k[1], 0, "torn prefix: nothing after the torn write");
	spec.keep = 1;
	cut_plan(&spec, w, N, k, &st);
	is_int(k[1], 0, "torn prefix: a write inside one sector cannot tear");
	is_int(st.torn + st.kept, 1, "torn prefix: so it is dropped");
	writes(w, N);
	spec.policy = CUT_RANDOM;
	same = 1;
	full = 0;
	for (s = 1; s <= 20; s++) {
		spec.seed = (uint64_t)s;
		cut_plan(&spec, w, N, k, &st);
		for (i = 0; i < N; i++) {
			same &= k[i] % 512 == 0 && k[i] <= 4096;
			full += st.torn;
		}
	}
	ok(same, "torn random: every kept length is whole sectors");
	ok(full > 0, "torn random: some writes are torn over 20 seeds");

	ok(cut_policy_parse("random", &p) == 0 && p == CUT_RANDOM, "policy names parse");
	ok(cut_policy_parse("some", &p) == -EINVAL, "an unknown policy is refused");
	is_str(cut_policy_name(CUT_PREFIX), "prefix", "policy names print");
	return tap_done(0);
}
