/* number.h: the one language for numbers and sizes on every command line and kernel parameter. */
#ifndef OVERLIVE_NUMBER_H
#define OVERLIVE_NUMBER_H
#include <stdint.h>

/*
 * The suffixes a size takes, each a power of 1024: the letter alone or with "iB" (K or KiB), in
 * any case. "KB", "MB" (which some read as powers of 1000) and a bare "B" are refused.
 * X(letter, shift) for each, smallest first.
 */
#define SIZE_SUFFIXES(X) X(K, 10) X(M, 20) X(G, 30) X(T, 40) X(P, 50)

/*
 * A decimal number: digits only (no sign, no spaces, no 0x), at most UINT64_MAX.
 * Returns 0, -EINVAL (empty, not all digits) or -ERANGE (too large); *out is set only on 0.
 */
int parse_u64(const char *s, uint64_t *out);

/*
 * The decimal digits at s, up to the first non-digit (*end points there), for a number with a unit
 * of its own: 0, -EINVAL (no digit) or -ERANGE (too large; *end is still set).
 */
int parse_digits(const char *s, const char **end, uint64_t *out);

/* Why parse_u64 refused a value (its return), as the reason of a message. */
const char *number_why(int err);

/* A decimal number of bytes with an optional suffix (above); 0 or -EINVAL or -ERANGE, as parse_u64. */
int parse_size(const char *s, uint64_t *out);

/* Why parse_size refused a value (its return), as the reason of a message: lists every suffix. */
const char *size_why(int err);

#endif
