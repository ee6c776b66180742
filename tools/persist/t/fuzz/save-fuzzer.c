/*
 * save-fuzzer.c: the libFuzzer harness of the save-file reader: open, load (replay) with the data
 * checked, load again, restore into a sandbox. The input is the start of a save file (zeros pad it
 * to the smallest size). Modes: "fixup" recomputes the header and record checksums after every
 * mutation (pf_fix_checksums), so that mutations reach the record parser; "plain" does not.
 * Properties, checked after each input (docs/fuzzing.md):
 *   - the restore creates nothing outside its target and follows no symlink: the sandbox holds only
 *     the target, and the trap beside it (what the seeds' symlinks point at) is untouched;
 *   - the reader and the restore never hold more heap than FUZZ_ALLOC_FIXED plus
 *     FUZZ_ALLOC_PER_BYTE times the file's size (counted by malloc hooks);
 *   - the same file loads to the same verdict twice.
 */
#include <sys/mman.h>
#include "fuzz.h"
#include "helpers.h"

const char *fuzz_modes[] = { "fixup", "plain", NULL };

/* the sanitizers' allocator hooks (clang's sanitizer/allocator_interface.h; gcc ships no header) */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t), void (*f)(const volatile void *));
size_t __sanitizer_get_allocated_size(const volatile void *p);

/* The heap bound: fixed buffers (for the reader and the restore's worker each a 1 MiB decompression
 * buffer, a 1 MiB expanded PACK and zstd's context, the 64 KiB read window, a record buffer) plus a
 * few times the file: the replayed state and the restore's lists. */
#define FUZZ_ALLOC_FIXED (6u << 20)
/* (versions 3 and 4: a PACK or a BLOB holds up to PF_PACK_RATIO (16) times its bytes of records, an entry's state some
 * 2 times its record: 40, where versions 1 and 2 needed 8) */
#define FUZZ_ALLOC_PER_BYTE 40

static const char *base;
static char box[160], target[176], trap[160], bait[192], file[64];
static int memfd = -1;
static struct stat bait_st;
static volatile int counting;
static volatile size_t live, peak;

static void on_malloc(const volatile void *p, size_t n)
{
	if (counting) {
		live += n;
		if (live > peak)
			peak = live;
	}
	(void)p;
}

static void on_free(const volatile void *p)
{
	if (counting && p) {
		size_t n = __sanitizer_get_allocated_size(p);
		live = n < live ? live - n : 0;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	base = sandbox_dir("save-fuzzer");
	snprintf(box, sizeof box, "%s/box", base);
	snprintf(target, sizeof target, "%s/box/r", base);
	snprintf(trap, sizeof trap, "%s/trap", base);
	snprintf(bait, sizeof bait, "%s/trap/bait", base);
	if (mkdir(box, 0700) || mkdir(trap, 0700))
		abort();
	put_file(bait, "bait", 4);
	if (chmod(bait, 0600) || lstat(bait, &bait_st))
		abort();
	memfd = memfd_create("save", 0);
	if (memfd < 0)
		abort();
	snprintf(file, sizeof file, "/proc/self/fd/%d", memfd);
	restore_threads = 1;
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
	return 0;
}

/* The trap as it was: its one file, with its mode, owner, size, time and link count (a hardlink to
 * it made in the target counts: this runs before the target is removed). */
static void trap_untouched(void)
{
	struct stat st;

	fuzz_assert(count_entries(trap) == 1, "the restore created something in the trap (a symlink followed)");
	fuzz_assert(lstat(bait, &st) == 0 && st.st_mode == bait_st.st_mode && st.st_uid == bait_st.st_uid &&
		    st.st_gid == bait_st.st_gid && st.st_size == bait_st.st_size && st.st_nlink == bait_st.st_nlink &&
		    st.st_mtim.tv_sec == bait_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == bait_st.st_mtim.tv_nsec,
		    "the restore changed or linked the trap's file (a symlink followed)");
}

/* One load: its verdict (result, entries, records read). */
struct verdict {
	int r;
	size_t entries;
	uint64_t nread;
};

static struct verdict load(struct pfile *pf, struct pstate *st)
{
	struct verdict v = { 0, 0, 0 };

	v.r = pf_open(pf, file, 0);
	if (v.r == 0)
		v.r = pf_load(pf, UINT64_MAX, PCHECK_ALL, st, NULL);
	if (v.r >= 0)
		v.entries = st->count;
	v.nread = pf->nread;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t fsize = size < PF_MIN_SIZE ? PF_MIN_SIZE : size;
	struct pfile pf;
	struct pstate st;
	struct verdict v1, v2;
	struct perr err = { "" };
	struct progress pr;
	int fd;

	(void)fuzz_mode();	/* the mode only changes the mutator */
	if (size > 64u << 20)
		return 0;
	if (ftruncate(memfd, 0) || ftruncate(memfd, (off_t)fsize) || pwrite_all(memfd, data, size, 0))
		abort();

	live = peak = 0;
	counting = 1;
	v1 = load(&pf, &st);
	if (v1.r >= 0)
		state_free(&st);
	pf_close(&pf);
	v2 = load(&pf, &st);
	fuzz_assert(v1.r == v2.r && v1.entries == v2.entries && v1.nread == v2.nread,
		    "the same file loaded twice gave two verdicts (%d, %zu entries, %llu records; then %d, %zu, %llu)",
		    v1.r, v1.entries, (unsigned long long)v1.nread, v2.r, v2.entries, (unsigned long long)v2.nread);
	if (v2.r >= 0) {
		if (mkdir(target, 0700) || (fd = open(target, O_RDONLY | O_DIRECTORY)) < 0)
			abort();
		progress_init(&pr, 0, "restoring");
		(void)persist_restore(&pf, &st, fd, restore_threads, &pr, &err);
		close(fd);
		state_free(&st);
	}
	pf_close(&pf);
	counting = 0;
	fuzz_assert(peak <= FUZZ_ALLOC_FIXED + FUZZ_ALLOC_PER_BYTE * (uint64_t)fsize,
		    "the reader held %zu bytes of heap for a file of %zu bytes (bound: %u + %d per byte)",
		    (size_t)peak, fsize, FUZZ_ALLOC_FIXED, FUZZ_ALLOC_PER_BYTE);
	trap_untouched();
	if (v2.r >= 0)
		rm_rf(target);
	fuzz_assert(count_entries(box) == 0, "the restore created something beside its target");
	return 0;
}

#ifndef FUZZ_REPLAY
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

/* libFuzzer's mutation, then (in fixup mode) the checksums made right again */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed)
{
	(void)seed;
	size = LLVMFuzzerMutate(data, size, max);
	if (fuzz_mode() == 0)
		pf_fix_checksums(data, size);
	return size;
}
#endif
