/* lib/t/number.c: decimal numbers and sizes: every suffix, overflow, garbage, the message. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "number.h"
#include "sizes.h"
#include "tap.h"

#define SUFFIX_CASE(letter, shift) { #letter, shift },
static const struct { const char *letter; unsigned shift; } every_suffix[] = { SIZE_SUFFIXES(SUFFIX_CASE) };

int main(void)
{
	static const struct { const char *text; int err; uint64_t v; } numbers[] = {
		{ "0", 0, 0 }, { "42", 0, 42 }, { "0042", 0, 42 }, { "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 }, { "99999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+1", -EINVAL, 0 }, { " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 }, { "1K", -EINVAL, 0 }, { "0x10", -EINVAL, 0 }, { "1e3", -EINVAL, 0 },
		{ "99999999999999999999x", -EINVAL, 0 },
	};
	const char *why = size_why(-EINVAL);
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
		v = 12345;
		is_int(parse_u64(numbers[i].text, &v), numbers[i].err, numbers[i].text);
		if (!numbers[i].err)
			ok(v == numbers[i].v, "  '%s' is %llu", numbers[i].text, (unsigned long long)v);
		else
			ok(v == 12345, "  a refused '%s' leaves the result alone", numbers[i].text);
	}
	is_int(parse_u64(NULL, &v), -EINVAL, "parse_u64(NULL)");
	{
		const char *end = NULL;
		ok(parse_digits("10min", &end, &v) == 0 && v == 10 && !strcmp(end, "min"), "parse_digits: 10, then min");
		ok(parse_digits("99999999999999999999s", &end, &v) == -ERANGE && !strcmp(end, "s"),
		   "parse_digits: too large, the unit still found");
		is_int(parse_digits("min", &end, &v), -EINVAL, "parse_digits: no digit");
		is_int(parse_digits(" 1", &end, &v), -EINVAL, "parse_digits: no leading space");
	}

	for (i = 0; i < N_SIZE_CASES; i++) {
		const struct size_case *sc = &size_cases[i];
		v = 12345;
		is_int(parse_size(sc->text, &v), sc->err, sc->text[0] ? sc->text : "(empty)");
		if (!sc->err)
			ok(v == sc->bytes, "  '%s' is %llu bytes", sc->text, (unsigned long long)v);
	}
	is_int(parse_size(NULL, &v), -EINVAL, "parse_size(NULL)");

	/* each suffix in both cases, with and without iB; just past its limit; and in the message */
	for (i = 0; i < sizeof every_suffix / sizeof every_suffix[0]; i++) {
		const char *l = every_suffix[i].letter;
		unsigned sh = every_suffix[i].shift;
		char s[64], lower = (char)(l[0] - 'A' + 'a'), want[8];
		snprintf(s, sizeof s, "3%s", l);
		ok(parse_size(s, &v) == 0 && v == 3ull << sh, "%s is 3 << %u", s, sh);
		snprintf(s, sizeof s, "3%c", lower);
		ok(parse_size(s, &v) == 0 && v == 3ull << sh, "%s is 3 << %u", s, sh);
		snprintf(s, sizeof s, "3%siB", l);
		ok(parse_size(s, &v) == 0 && v == 3ull << sh, "%s is 3 << %u", s, sh);
		snprintf(s, sizeof s, "3%sB", l);
		is_int(parse_size(s, &v), -EINVAL, "an ambiguous B suffix is refused");
		snprintf(s, sizeof s, "%llu%s", (unsigned long long)(UINT64_MAX >> sh), l);
		ok(parse_size(s, &v) == 0 && v == (UINT64_MAX >> sh) << sh, "%s is the largest with %s", s, l);
		snprintf(s, sizeof s, "%llu%s", (unsigned long long)(UINT64_MAX >> sh) + 1, l);
		is_int(parse_size(s, &v), -ERANGE, "one more overflows");
		snprintf(want, sizeof want, " %s ", l);
		ok(strstr(why, want) != NULL, "the message names %s", l);
		snprintf(want, sizeof want, " %siB", l);
		ok(strstr(why, want) != NULL, "the message names %siB", l);
	}
	ok(strstr(size_why(-ERANGE), "too large") != NULL, "-ERANGE says too large");
	ok(strstr(number_why(-EINVAL), "decimal") != NULL && strstr(number_why(-ERANGE), "too large"),
	   "number_why says which");
	return tap_done(0);
}
