/*
 * manifest-fuzzer.c: the libFuzzer harness of the live/SHA256SUMS reader (manifest_find): the
 * input is a manifest. It looks up "minimal.sqfs" and the name its first line ends in. Properties
 * (docs/fuzzing.md): a hash found is 64 bytes that the input holds as a line "HASH  NAME" or
 * "HASH *NAME" (an oracle written without manifest_find's loop); the same text gives the same
 * answer twice.
 */
#include <errno.h>
#include "lower.h"
#include "fuzz.h"

const char *fuzz_modes[] = { "manifest", NULL };

static int lookup(const uint8_t *data, size_t size, const char *name, char hex[65])
{
	char *text = malloc(size + 1);
	int r;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	memset(hex, 0, 65);
	r = manifest_find(text, name, hex);
	free(text);
	return r;
}

/* Whether text (up to its first NUL) holds the line hex, a blank, ' ' or '*', name. */
static int has_line(const uint8_t *data, size_t size, const char *hex, const char *name)
{
	size_t nl = strlen(name), end = strnlen((const char *)data, size);

	for (size_t at = 0; at + 66 + nl <= end; at++) {
		if (at && data[at - 1] != '\n')
			continue;
		if (memcmp(data + at, hex, 64) || data[at + 64] != ' ' || (data[at + 65] != ' ' && data[at + 65] != '*'))
			continue;
		if (memcmp(data + at + 66, name, nl) == 0 && (at + 66 + nl == end || data[at + 66 + nl] == '\n'))
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[256] = "minimal.sqfs", hex[65], again[65];
	const char *nl;

	(void)fuzz_mode();
	if (size > 65536)
		return 0;
	nl = memchr(data, '\n', size);
	if (size > 66 && (!nl || (size_t)(nl - (const char *)data) > 66)) {
		size_t n = (nl ? (size_t)(nl - (const char *)data) : size) - 66;
		n = n < sizeof name - 1 ? n : sizeof name - 1;
		memcpy(name, data + 66, n);
		name[n] = 0;
		name[strcspn(name, "\n")] = 0;
	}
	for (int k = 0; k < 2; k++) {
		const char *want = k ? "minimal.sqfs" : name;
		int r = lookup(data, size, want, hex), r2 = lookup(data, size, want, again);
		fuzz_assert(r == r2 && strcmp(hex, again) == 0, "the same manifest answered two ways for %s", want);
		fuzz_assert(r == 0 || r == -ENOENT, "manifest_find returned %d", r);
		if (r == 0)
			fuzz_assert(strlen(hex) == 64 && has_line(data, size, hex, want),
				    "the hash found for %s is not on a line of the manifest that names it", want);
	}
	return 0;
}
