/* cut.h: which unflushed writes survive a power cut, chosen by a policy and a seed. */
#ifndef POWERCUT_CUT_H
#define POWERCUT_CUT_H
#include <stddef.h>
#include <stdint.h>

#define CUT_SECTOR 512U         /* the default and smallest tear unit */
#define CUT_TEAR_MAX (1U << 20) /* the largest tear unit */

enum cut_policy { CUT_NONE, CUT_PREFIX, CUT_RANDOM };

struct cut_spec {
	enum cut_policy policy;
	uint64_t seed;
	int64_t keep; /* prefix length; -1 draws it from the seed */
	int torn;     /* a kept write may end at a tear-unit boundary inside it */
	uint32_t tear_unit; /* torn writes end at its multiples on the disk; a power of two that
			     * cut_tear_unit_check accepts, or 0 for CUT_SECTOR */
};

/* One write in the volatile cache, oldest first. Durable ones (FUA) always survive. */
struct cut_write {
	uint64_t off;
	uint32_t len;
	int durable;
};

struct cut_stats {
	size_t unflushed; /* writes that were not durable */
	size_t kept, torn, dropped; /* of those: whole, partly, not at all */
	size_t keep;      /* the prefix length used (prefix policy) */
};

/*
 * Chooses the survivors: keep_len[i] is how many bytes from the start of write i reach the
 * medium (0 dropped, len whole, in between torn: the write ends at a disk offset that is a
 * multiple of the tear unit). A write with no such offset strictly inside it is never torn.
 * Deterministic in spec and the writes' offsets, lengths and durability.
 */
void cut_plan(const struct cut_spec *spec, const struct cut_write *w, size_t n,
	      uint32_t *keep_len, struct cut_stats *st);

const char *cut_policy_name(enum cut_policy p);
/* 0, or -EINVAL for an unknown name. */
int cut_policy_parse(const char *name, enum cut_policy *p);
/* 0 when unit is a power of two from CUT_SECTOR to CUT_TEAR_MAX, else -EINVAL. */
int cut_tear_unit_check(uint64_t unit);

#endif
