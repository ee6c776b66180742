/*
 * cmdline-fuzzer.c: the libFuzzer harness of the kernel command line table (config.c): the input
 * is a command line. Properties (docs/fuzzing.md): every string of the result ends inside its
 * field, at most CONFIG_MAX_ISSUES issues are kept, and the same line parses the same twice.
 */
#include "config.h"
#include "fuzz.h"

const char *fuzz_modes[] = { "cmdline", NULL };

static void terminated(const char *s, size_t cap, const char *what)
{
	fuzz_assert(memchr(s, 0, cap) != NULL, "%s has no NUL in its %zu bytes", what, cap);
}

static int parse(const char *line, struct config *c, struct config_result *res)
{
	memset(c, 0, sizeof *c);
	memset(res, 0, sizeof *res);
	config_defaults(c);
	return config_parse(c, line, res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config a, b;
	static struct config_result ra, rb;
	char *line;
	int fa, fb;

	(void)fuzz_mode();
	if (size > 65536 || !(line = malloc(size + 1)))
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	fa = parse(line, &a, &ra);
	fb = parse(line, &b, &rb);
	free(line);
	fuzz_assert(fa == fb && memcmp(&a, &b, sizeof a) == 0 && ra.n == rb.n,
		    "the same command line parsed two ways (%d, then %d fatal issues)", fa, fb);
	fuzz_assert(ra.n >= 0 && ra.n <= CONFIG_MAX_ISSUES && fa >= 0,
		    "%d issues kept, %d fatal", ra.n, fa);
	for (int i = 0; i < ra.n; i++) {
		terminated(ra.issue[i].word, sizeof ra.issue[i].word, "an issue's word");
		fuzz_assert(ra.issue[i].why != NULL, "an issue without its why");
	}
#define T(f) terminated(a.f, sizeof a.f, #f)
	T(media); T(root); T(upper_spec); T(data); T(size); T(init); T(brk);
	T(persist_dev); T(persist_path); T(persist_size); T(layers); T(iso);
#undef T
	return 0;
}
