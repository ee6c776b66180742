/* cut.c: the cut policies (none, prefix, random, torn at a tear unit) over a seeded generator. */
#include <errno.h>
#include <string.h>
#include "cut.h"

/* splitmix64: tiny, good enough, and the same everywhere, so a seed replays anywhere. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Bytes kept when write w is torn at a random multiple of unit (a power of two) strictly
 * inside it; 0, drawing nothing, if there is none. With unit 512 this is the sector tear
 * that seeds made before the tear unit existed replay with.
 */
static uint32_t torn_len(const struct cut_write *w, uint64_t unit, uint64_t *rs)
{
	uint64_t first = (w->off | (unit - 1)) + 1, end = w->off + w->len, count;

	if (first >= end)
		return 0;
	count = (end - 1 - first) / unit + 1;
	return (uint32_t)(first + unit * (next_rand(rs) % count) - w->off);
}

static const char *const policy_names[] = {
	[CUT_NONE] = "none", [CUT_PREFIX] = "prefix", [CUT_RANDOM] = "random",
};

const char *cut_policy_name(enum cut_policy p)
{
	return (unsigned)p < sizeof policy_names / sizeof policy_names[0] ? policy_names[p] : "?";
}

int cut_policy_parse(const char *name, enum cut_policy *p)
{
	size_t i;

	for (i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
		if (strcmp(name, policy_names[i]) == 0) {
			*p = (enum cut_policy)i;
			return 0;
		}
	return -EINVAL;
}

int cut_tear_unit_check(uint64_t unit)
{
	return unit >= CUT_SECTOR && unit <= CUT_TEAR_MAX && (unit & (unit - 1)) == 0 ? 0 : -EINVAL;
}

void cut_plan(const struct cut_spec *spec, const struct cut_write *w, size_t n,
	      uint32_t *keep_len, struct cut_stats *st)
{
	uint64_t rs = spec->seed, unit = spec->tear_unit ? spec->tear_unit : CUT_SECTOR;
	size_t i, seen = 0, keep = 0;

	memset(st, 0, sizeof *st);
	for (i = 0; i < n; i++)
		st->unflushed += !w[i].durable;
	if (spec->policy == CUT_PREFIX) {
		if (spec->keep < 0)
			keep = (size_t)(next_rand(&rs) % (st->unflushed + 1));
		else
			keep = (uint64_t)spec->keep < st->unflushed ? (size_t)spec->keep : st->unflushed;
		st->keep = keep;
	}
	for (i = 0; i < n; i++) {
		uint32_t k = 0;

		if (w[i].durable) {
			keep_len[i] = w[i].len;
			continue;
		}
		switch (spec->policy) {
		case CUT_NONE:
			break;
		case CUT_PREFIX:
			/* The write after the prefix was in flight: with torn, part of it landed. */
			if (seen < keep)
				k = w[i].len;
			else if (seen == keep && spec->torn)
				k = torn_len(&w[i], unit, &rs);
			break;
		case CUT_RANDOM:
			if (next_rand(&rs) & 1) {
				k = w[i].len;
				if (spec->torn && (next_rand(&rs) & 3) == 0) {
					uint32_t t = torn_len(&w[i], unit, &rs);
					if (t)
						k = t;
				}
			}
			break;
		}
		seen++;
		keep_len[i] = k;
		if (k == w[i].len && k)
			st->kept++;
		else if (k)
			st->torn++;
		else
			st->dropped++;
	}
}
