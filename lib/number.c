/* number.c: decimal numbers and sizes with binary suffixes, parsed strictly and overflow-checked. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "number.h"

#define SUFFIX_ROW(letter, shift) { #letter, shift },
#define SUFFIX_NAME(letter, shift) " " #letter
#define SUFFIX_IB(letter, shift) " " #letter "iB"

static const struct {
	const char *letter;
	unsigned shift;
} suffixes[] = { SIZE_SUFFIXES(SUFFIX_ROW) };

static const char size_syntax[] =
	"expects a number of bytes, optionally with one of the suffixes" SIZE_SUFFIXES(SUFFIX_NAME)
	" (or" SIZE_SUFFIXES(SUFFIX_IB) "; powers of 1024, any case), e.g. 256M";

int parse_digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	int r = *s >= '0' && *s <= '9' ? 0 : -EINVAL;

	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			r = -ERANGE;
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return r;
}

int parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_digits(s, &end, &v);
	if (r == -EINVAL || *end)
		return -EINVAL;
	if (!r)
		*out = v;
	return r;
}

const char *number_why(int err)
{
	return err == -ERANGE ? "too large: 2^64 or more" : "expects a decimal number (digits only)";
}

/* The suffix at s: its shift, or -EINVAL. "" is 0. */
static int suffix_shift(const char *s)
{
	size_t i;

	if (!*s)
		return 0;
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (!strncasecmp(s, suffixes[i].letter, 1) && (!s[1] || !strcasecmp(s + 1, "iB")))
			return (int)suffixes[i].shift;
	return -EINVAL;
}

int parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int r, shift;

	if (!s)
		return -EINVAL;
	r = parse_digits(s, &end, &v);
	if (r == -EINVAL || (shift = suffix_shift(end)) < 0)
		return -EINVAL;
	if (r || v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

const char *size_why(int err)
{
	return err == -ERANGE ? "too large: 16 EiB or more" : size_syntax;
}
