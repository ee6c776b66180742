/*
 * fuzz_replay.c: a harness's saved inputs replayed as a unit test: linked with a libFuzzer harness
 * by the unit tests' compiler (ASan/UBSan), it runs every file of FUZZ_SAVED (the harness's
 * DIR/t/fuzz/NAME/, its minimized crashes) in every mode, and an empty input. TAP.
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include "fuzz.h"
#include "io.h"
#include "tap.h"

#define REPLAY_MAX (16u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(void)
{
	struct dirent **de = NULL;
	int n = scandir(FUZZ_SAVED, &de, NULL, by_name), files = 0;

	if (LLVMFuzzerInitialize) {
		int argc = 1;
		char *args[] = { "replay", NULL }, **argv = args;
		LLVMFuzzerInitialize(&argc, &argv);
	}
	for (int m = 0; fuzz_modes[m]; m++) {
		setenv("FUZZ_MODE", fuzz_modes[m], 1);
		LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
		ok(1, "%s: the empty input", fuzz_modes[m]);
		for (int i = 0; i < n; i++) {
			char path[512];
			size_t got;
			unsigned char *buf;
			int fd;

			if (de[i]->d_name[0] == '.' || strstr(de[i]->d_name, ".txt"))
				continue;
			snprintf(path, sizeof path, "%s/%s", FUZZ_SAVED, de[i]->d_name);
			if ((fd = open(path, O_RDONLY)) < 0 || !(buf = malloc(REPLAY_MAX))) {
				ok(0, "%s: read %s", fuzz_modes[m], path);
				continue;
			}
			(void)pread_all(fd, buf, REPLAY_MAX, 0, &got);
			close(fd);
			/* an exact-size copy, as libFuzzer gives: a read past the input's end is caught */
			unsigned char *in = malloc(got ? got : 1);
			memcpy(in, buf, got);
			free(buf);
			LLVMFuzzerTestOneInput(in, got);
			free(in);
			ok(1, "%s: %s (%zu bytes) replayed", fuzz_modes[m], path, got);
			files += m == 0;
		}
	}
	tap_diag("%d saved inputs in %s", files, FUZZ_SAVED);
	for (int i = 0; i < n; i++)
		free(de[i]);
	free(de);
	return tap_done(0);
}
