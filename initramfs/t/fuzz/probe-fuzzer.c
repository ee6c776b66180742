/*
 * probe-fuzzer.c: the libFuzzer harness of the superblock probers and the partition-table reader.
 * The input is the start of a device. Modes: "all" (probe_buf: the table in order, then the
 * PARTUUIDs), "gpt" (probe_partuuid), and one per entry of probe.c's table, named as there: a
 * prober added to the table is fuzzed with no change here (tests/fuzz/run.sh asks FUZZ_MODE=list).
 * Properties (docs/fuzzing.md):
 *   - a prober never uses a byte past the device's end: every read goes through probe_read
 *     (linked with --wrap=probe_read); one past the end is refused as the device would refuse it,
 *     and its destination is poisoned for ASan, so a prober that uses those bytes anyway is caught;
 *     the bytes themselves are an exact-size heap copy (ASan catches a direct overread);
 *   - the same input gives the same verdict twice (result, type, LABEL, UUID, size).
 */
#include <errno.h>
#include <sanitizer/asan_interface.h>
#include "fuzz.h"
#include "probe.h"

#define FUZZ_PROBE_MODES 32
const char *fuzz_modes[FUZZ_PROBE_MODES] = { "all", "gpt" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t n = 2;

	(void)argc; (void)argv;
	for (size_t i = 0; probers[i].fn; i++) {
		fuzz_assert(n + 1 < FUZZ_PROBE_MODES, "more probers than FUZZ_PROBE_MODES");
		fuzz_modes[n++] = probers[i].name;
	}
	return 0;
}

/* The reads refused past the device's end, whose destinations were poisoned. */
#define POISON_MAX 64
static struct {
	void *p;
	size_t n;
} poisoned[POISON_MAX];
static size_t npoisoned;
static const struct probe_src *device;

int __real_probe_read(const struct probe_src *src, void *dst, size_t len, uint64_t off);
int __wrap_probe_read(const struct probe_src *src, void *dst, size_t len, uint64_t off)
{
	fuzz_assert(device && src->fd == device->fd && src->buf == device->buf && src->len == device->len,
		    "a prober read from a device it was not given");
	if (off > src->len || src->len - off < len) {
		if (npoisoned < POISON_MAX) {
			poisoned[npoisoned].p = dst;
			poisoned[npoisoned++].n = len;
		}
		ASAN_POISON_MEMORY_REGION(dst, len);
		return -ENOENT;
	}
	ASAN_UNPOISON_MEMORY_REGION(dst, len);
	return __real_probe_read(src, dst, len, off);
}

static void unpoison(void)
{
	while (npoisoned) {
		npoisoned--;
		ASAN_UNPOISON_MEMORY_REGION(poisoned[npoisoned].p, poisoned[npoisoned].n);
	}
}

/* One verdict: every prober's, or the chosen one's, and the PARTUUIDs of partitions 1, 2, 129. */
struct verdict {
	int r;
	struct probe_result res;
	int pr[3];
	char partuuid[3][64];
};

static void run(int mode, const struct probe_src *src, struct verdict *v)
{
	static const unsigned partno[3] = { 1, 2, 129 };

	memset(v, 0, sizeof *v);
	device = src;
	if (mode == 0)
		v->r = probe_buf(src->buf, src->len, &v->res);
	else if (mode > 1)
		v->r = probers[mode - 2].fn(src, &v->res);
	if (mode <= 1)
		for (int i = 0; i < 3; i++)
			v->pr[i] = probe_partuuid(src, partno[i], v->partuuid[i], sizeof v->partuuid[i]);
	unpoison();
	device = NULL;
	fuzz_assert(v->res.type[sizeof v->res.type - 1] == 0 && v->res.label[sizeof v->res.label - 1] == 0 &&
		    v->res.uuid[sizeof v->res.uuid - 1] == 0, "a result string without its NUL");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int mode = fuzz_mode();
	struct probe_src src = { .fd = -1, .buf = data, .len = size };
	struct verdict a, b;

	run(mode, &src, &a);
	run(mode, &src, &b);
	fuzz_assert(memcmp(&a, &b, sizeof a) == 0, "the same device gave two verdicts (%d '%s', then %d '%s')",
		    a.r, a.res.type, b.r, b.res.type);
	return 0;
}
