/* fuzz.h: what the libFuzzer harnesses (DIR/t/fuzz/NAME-fuzzer.c) share: modes and property checks. */
#ifndef OVERLIVE_FUZZ_H
#define OVERLIVE_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* lib/report.c wants the program's name (the replay test's comes from tap.h). */
#ifndef FUZZ_REPLAY
const char *prog_name = "fuzz";
#endif

/*
 * A harness's modes, NULL-terminated, the first the default: FUZZ_MODE=NAME picks one (the probe
 * harness has one mode per prober, filled in by its LLVMFuzzerInitialize; the save-file harness
 * "fixup" and "plain"). FUZZ_MODE=list prints them, one a line, and exits (what tests/fuzz/run.sh
 * asks). The replay test (tests/lib/fuzz_replay.c) runs every saved input in every mode.
 */
extern const char *fuzz_modes[];

static inline int fuzz_mode(void)
{
	const char *m = getenv("FUZZ_MODE");

	if (!m || !*m)
		return 0;
	if (strcmp(m, "list") == 0) {
		for (int i = 0; fuzz_modes[i]; i++)
			printf("%s\n", fuzz_modes[i]);
		fflush(stdout);
		_exit(0);	/* not exit(): libFuzzer takes that for a harness gone wrong */
	}
	for (int i = 0; fuzz_modes[i]; i++)
		if (strcmp(fuzz_modes[i], m) == 0)
			return i;
	fprintf(stderr, "fuzz: unknown FUZZ_MODE '%s' (this harness has:", m);
	for (int i = 0; fuzz_modes[i]; i++)
		fprintf(stderr, " %s", fuzz_modes[i]);
	fprintf(stderr, ")\n");
	abort();
}

/* A property beyond "no crash": when it fails, say which and abort (libFuzzer saves the input). */
#define fuzz_assert(cond, ...)                                                       \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz: property failed: " __VA_ARGS__);      \
			fprintf(stderr, " (%s:%d)\n", __FILE__, __LINE__);           \
			abort();                                                     \
		}                                                                    \
	} while (0)

#endif
