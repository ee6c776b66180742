/*
 * tools/modpick/t/fuzz/modinfo-fuzzer.c: a libFuzzer target for the .modinfo reader
 * (docs/modpick.md says how to build and run it; it is not part of `make tests`).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "modinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modinfo mi;
	size_t pos = 0, kl, vl;
	const char *k, *v;
	char val[64];
	int r = modinfo_parse(data, size, &mi);

	if (r != 0 && r != -ENOEXEC && r != -EINVAL)
		abort();
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
