/*
 * modinfo-fuzzer.c: the libFuzzer harness of the .modinfo reader (docs/fuzzing.md: ./build.sh fuzz).
 * Seeds: the modules of the kernel package; every entry stays inside the section; the same
 * input gives the same verdict twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "modinfo.h"

const char *fuzz_modes[] = { "modinfo", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modinfo mi;
	size_t pos = 0, kl, vl;
	const char *k, *v;
	char val[64];
	int r = modinfo_parse(data, size, &mi);

	(void)fuzz_mode();
	if (r != 0 && r != -ENOEXEC && r != -EINVAL)
		abort();
	{
		struct modinfo again;
		int r2 = modinfo_parse(data, size, &again);
		fuzz_assert(r2 == r && (r || (again.sec == mi.sec && again.len == mi.len)),
			    "the same input gave two verdicts (%d, then %d)", r, r2);
	}
	if (r != 0)
		return 0;
	if ((const uint8_t *)mi.sec < data || mi.len > size ||
	    (size_t)((const uint8_t *)mi.sec - data) > size - mi.len)
		abort();
	while (modinfo_next(&mi, &pos, &k, &kl, &v, &vl))
		if (v + vl > mi.sec + mi.len)
			abort();
	(void)modinfo_get(&mi, "name", val, sizeof val);
	return 0;
}
