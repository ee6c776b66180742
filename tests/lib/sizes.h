/* sizes.h: the sizes the docs promise (docs/persist.md, docs/kernel-parameters.md), one table that
 * every parser of a size is tested against: lib's, persist's --size, the init's live.*size=. */
#ifndef OVERLIVE_SIZES_H
#define OVERLIVE_SIZES_H
#include <errno.h>
#include <stdint.h>

static const struct size_case {
	const char *text;
	int err;           /* 0, -EINVAL or -ERANGE */
	uint64_t bytes;
} size_cases[] __attribute__((unused)) = {
	{ "0", 0, 0 },
	{ "4096", 0, 4096 },
	{ "007", 0, 7 },
	{ "1K", 0, 1ull << 10 }, { "1k", 0, 1ull << 10 }, { "1KiB", 0, 1ull << 10 }, { "1kib", 0, 1ull << 10 },
	{ "1KIB", 0, 1ull << 10 },
	{ "256M", 0, 256ull << 20 }, { "256m", 0, 256ull << 20 }, { "256MiB", 0, 256ull << 20 },
	{ "4G", 0, 4ull << 30 }, { "4g", 0, 4ull << 30 }, { "4GiB", 0, 4ull << 30 },
	{ "1T", 0, 1ull << 40 }, { "1t", 0, 1ull << 40 }, { "1TiB", 0, 1ull << 40 },
	{ "2P", 0, 2ull << 50 }, { "2p", 0, 2ull << 50 }, { "2PiB", 0, 2ull << 50 },
	{ "16383P", 0, 16383ull << 50 },
	{ "17179869183G", 0, 17179869183ull << 30 },
	{ "18446744073709551615", 0, UINT64_MAX },
	/* too large for 64 bits */
	{ "16384P", -ERANGE, 0 }, { "17179869184G", -ERANGE, 0 }, { "18446744073709551616", -ERANGE, 0 },
	{ "99999999999999999999999K", -ERANGE, 0 },
	/* not a size */
	{ "", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "-5M", -EINVAL, 0 }, { "+5", -EINVAL, 0 },
	{ " 5", -EINVAL, 0 }, { "5 ", -EINVAL, 0 }, { "5 M", -EINVAL, 0 }, { "M", -EINVAL, 0 },
	{ "12MB", -EINVAL, 0 }, { "1KB", -EINVAL, 0 }, { "1B", -EINVAL, 0 }, { "5X", -EINVAL, 0 },
	{ "1E", -EINVAL, 0 }, { "1.5G", -EINVAL, 0 }, { "0x10", -EINVAL, 0 }, { "1Ki", -EINVAL, 0 },
	{ "1iB", -EINVAL, 0 }, { "1GiBs", -EINVAL, 0 }, { "1GG", -EINVAL, 0 }, { "big", -EINVAL, 0 },
	{ "99999999999999999999999x", -EINVAL, 0 },
};
#define N_SIZE_CASES (sizeof size_cases / sizeof size_cases[0])

#endif
