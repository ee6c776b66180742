/* t/cut.c: the cut policies alone: counts, determinism, durable writes, tears and tear units. */
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

/*
 * Plans made by cut.c before the tear unit existed (torn, default sector tears): the default
 * unit must reproduce them, so that old seeds replay the same images. Written oldest first
 * as (offset, length); unaligned ones exercise the absolute sector boundaries.
 */
#define G 12
static const struct { uint64_t off; uint32_t len; } golden_writes[G] = {
	{ 0, 4096 }, { 4096, 8192 }, { 100, 1000 }, { 1024, 1024 }, { 65536, 65536 },
	{ 512, 512 }, { 3000, 20000 }, { 1 << 20, 131072 }, { 7, 3 }, { 1536, 4096 },
	{ 40960, 12288 }, { 2048, 1536 },
};
static const struct { enum cut_policy policy; uint64_t seed; uint32_t k[G]; } golden[] = {
	{ CUT_PREFIX, 1, { 4096, 8192, 1000, 1024, 65536, 512, 9800, 0, 0, 0, 0, 0 } },
	{ CUT_PREFIX, 7, { 4096, 8192, 1000, 1024, 65536, 512, 20000, 131072, 3, 4096, 12288, 512 } },
	{ CUT_PREFIX, 42, { 4096, 8192, 1000, 1024, 65536, 512, 20000, 131072, 3, 3072, 0, 0 } },
	{ CUT_PREFIX, 77, { 4096, 8192, 1000, 1024, 20480, 0, 0, 0, 0, 0, 0, 0 } },
	{ CUT_PREFIX, 12345, { 4096, 6656, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ CUT_RANDOM, 1, { 4096, 0, 1000, 0, 65536, 0, 0, 131072, 0, 0, 0, 1536 } },
	{ CUT_RANDOM, 7, { 512, 8192, 1000, 0, 65536, 512, 0, 0, 0, 0, 12288, 1024 } },
	{ CUT_RANDOM, 42, { 4096, 0, 0, 0, 0, 512, 20000, 131072, 0, 3072, 12288, 512 } },
	{ CUT_RANDOM, 77, { 3072, 8192, 0, 0, 65536, 512, 0, 131072, 0, 4096, 0, 0 } },
	{ CUT_RANDOM, 12345, { 0, 8192, 0, 1024, 0, 0, 20000, 131072, 0, 1536, 0, 0 } },
};

/* FNV-1a over every plan of seeds 0..999, each policy, torn or not, of 64 pseudo-random
 * writes (every ninth durable); 0x372bbf54682f3c97 before the tear unit existed. */
static uint64_t plans_hash(uint32_t unit)
{
	struct cut_write w[64];
	struct cut_stats st;
	uint32_t k[64];
	uint64_t h = 0xcbf29ce484222325ULL, x = 1;
	int pol, torn, s, i;

	for (i = 0; i < 64; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		w[i].off = (x >> 33) % (1U << 24);
		w[i].len = 1 + (uint32_t)((x >> 13) % 70000);
		w[i].durable = i % 9 == 4;
	}
	for (pol = CUT_NONE; pol <= CUT_RANDOM; pol++)
		for (torn = 0; torn <= 1; torn++)
			for (s = 0; s < 1000; s++) {
				struct cut_spec spec = { .policy = (enum cut_policy)pol,
					.seed = (uint64_t)s, .keep = -1, .torn = torn, .tear_unit = unit };

				cut_plan(&spec, w, 64, k, &st);
				for (i = 0; i < 64; i++) {
					h ^= k[i];
					h *= 0x100000001b3ULL;
				}
			}
	return h;
}

/* Over many seeds and both policies, with unit u: every torn write ends on a multiple of u
 * strictly inside it; returns the number of torn writes seen, or -1 on a misplaced tear. */
static int tears_on_unit(const struct cut_write *w, size_t n, uint32_t u)
{
	struct cut_stats st;
	uint32_t k[64];
	int s, pol, torn = 0;
	size_t i;

	for (pol = CUT_PREFIX; pol <= CUT_RANDOM; pol++)
		for (s = 0; s < 300; s++) {
			struct cut_spec spec = { .policy = (enum cut_policy)pol, .seed = (uint64_t)s,
				.keep = -1, .torn = 1, .tear_unit = u };

			cut_plan(&spec, w, n, k, &st);
			for (i = 0; i < n; i++) {
				if (k[i] == 0 || k[i] == w[i].len)
					continue;
				if (k[i] > w[i].len || (w[i].off + k[i]) % u)
					return -1;
				torn++;
			}
			if ((size_t)torn < st.torn)
				return -1;
		}
	return torn;
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

	/* the default tear unit (0 or 512) makes the plans it made before it was a parameter */
	{
		struct cut_write gw[G];
		uint32_t u;

		for (i = 0; i < G; i++) {
			gw[i].off = golden_writes[i].off;
			gw[i].len = golden_writes[i].len;
			gw[i].durable = 0;
		}
		for (u = 0; u <= CUT_SECTOR; u += CUT_SECTOR) {
			same = 1;
			for (s = 0; s < (int)(sizeof golden / sizeof golden[0]); s++) {
				spec = (struct cut_spec){ .policy = golden[s].policy,
					.seed = golden[s].seed, .keep = -1, .torn = 1, .tear_unit = u };
				cut_plan(&spec, gw, G, k, &st);
				same &= memcmp(k, golden[s].k, sizeof golden[s].k) == 0;
			}
			ok(same, "tear unit %u: prefix and random plans of 5 seeds as before", u);
			ok(plans_hash(u) == 0x372bbf54682f3c97ULL, "tear unit %u: 6,000 plans as "
			   "before", u);
		}
		ok(plans_hash(4096) != 0x372bbf54682f3c97ULL, "tear unit 4096: other plans");
	}

	/* tears land on absolute multiples of the unit, inside the write */
	{
		struct cut_write rw[64];
		uint64_t x = 5;
		uint32_t u;
		int t;

		for (i = 0; i < 64; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			rw[i].off = ((x >> 33) % 8192) * 512;   /* sector-aligned, as NBD sends */
			rw[i].len = (1 + (uint32_t)((x >> 20) % 64)) * 512;
			rw[i].durable = 0;
		}
		for (u = 512; u <= 65536; u *= 8) {
			t = tears_on_unit(rw, 64, u);
			ok(t > 0, "tear unit %u: %d torn writes, each ends on a multiple of %u", u, t, u);
		}
		for (i = 0, full = 0; i < 64; i++)
			full += (rw[i].off | (CUT_TEAR_MAX - 1)) + 1 < rw[i].off + rw[i].len;
		t = tears_on_unit(rw, 64, CUT_TEAR_MAX);
		ok(full > 0 && t > 0, "tear unit 1 MiB: %d torn writes, each ends on a MiB (writes "
		   "crossing one: %d)", t, full);
	}

	/* a write inside one unit, or exactly one aligned unit, is never torn */
	{
		struct cut_write uw[4] = {
			{ 4096, 4096, 0 },        /* one aligned unit */
			{ 8192 + 512, 3072, 0 },  /* inside one unit, unaligned */
			{ 16384, 512, 0 },        /* one sector */
			{ 20480, 4096, 0 },
		};
		int none_torn = 1, dropped = 0, whole = 0;

		spec = (struct cut_spec){ .policy = CUT_PREFIX, .keep = 0, .torn = 1,
					  .tear_unit = 4096 };
		for (s = 0; s < 3; s++) {
			spec.keep = s;
			cut_plan(&spec, uw, 4, k, &st);
			none_torn &= st.torn == 0;
			dropped += k[s] == 0;
		}
		ok(none_torn && dropped == 3, "tear unit 4096, prefix: the in-flight write within one "
		   "unit is dropped, not torn");
		spec.policy = CUT_RANDOM;
		for (s = 1; s <= 200; s++) {
			spec.seed = (uint64_t)s;
			cut_plan(&spec, uw, 4, k, &st);
			none_torn &= st.torn == 0;
			whole += (int)st.kept;
		}
		ok(none_torn && whole > 200, "tear unit 4096, random: such writes are kept whole or "
		   "dropped (%d kept whole over 200 seeds)", whole);
		spec.tear_unit = 512;
		cut_plan(&spec, uw, 4, k, &st);
		for (s = 1, full = 0; s <= 50; s++) {
			spec.seed = (uint64_t)s;
			cut_plan(&spec, uw, 4, k, &st);
			full += (int)st.torn;
		}
		ok(full > 0, "the same writes tear at 512 (%d torn over 50 seeds)", full);

		/* one unit boundary inside: the tear is there and nowhere else */
		uw[0].off = 2048;
		uw[0].len = 8192;   /* crosses 4096 and 8192; ends at 10240 */
		uw[1].off = 6144;
		uw[1].len = 4096;   /* crosses 8192 only */
		spec = (struct cut_spec){ .policy = CUT_PREFIX, .keep = 0, .torn = 1,
					  .tear_unit = 4096 };
		same = 1;
		for (s = 1; s <= 40; s++) {
			spec.seed = (uint64_t)s;
			spec.keep = 0;
			cut_plan(&spec, uw, 4, k, &st);
			same &= k[0] == 2048 || k[0] == 6144;
			spec.keep = 1;
			cut_plan(&spec, uw, 4, k, &st);
			same &= k[1] == 2048 && st.torn == 1;
		}
		ok(same, "tear unit 4096: a write from 2048 tears at 4096 or 8192, one from 6144 "
		   "at 8192 only");
	}

	ok(cut_tear_unit_check(512) == 0 && cut_tear_unit_check(4096) == 0 &&
	   cut_tear_unit_check(1 << 20) == 0, "tear units 512, 4096 and 1 MiB are accepted");
	ok(cut_tear_unit_check(0) == -EINVAL && cut_tear_unit_check(256) == -EINVAL &&
	   cut_tear_unit_check(3072) == -EINVAL && cut_tear_unit_check(2 << 20) == -EINVAL &&
	   cut_tear_unit_check(1ULL << 40) == -EINVAL, "0, 256, 3072, 2 MiB, 1 TiB are refused");

	ok(cut_policy_parse("random", &p) == 0 && p == CUT_RANDOM, "policy names parse");
	ok(cut_policy_parse("some", &p) == -EINVAL, "an unknown policy is refused");
	is_str(cut_policy_name(CUT_PREFIX), "prefix", "policy names print");
	return tap_done(0);
}
