/* helpers.h: shared by persist's unit tests: temp trees, a save file built through the API. */
#ifndef PERSIST_T_HELPERS_H
#define PERSIST_T_HELPERS_H
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crc32c.h"
#include "io.h"
#include "persist.h"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	(void)remove(p);
	return 0;
}

static void __attribute__((unused)) rm_rf(const char *p)
{
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A temporary directory of the program's own, $TMPDIR/NAME.XXXXXX, removed at exit: its path. */
static char sandbox_path[128];
static void __attribute__((unused)) sandbox_rm(void)
{
	rm_rf(sandbox_path);
}
static __attribute__((unused)) const char *sandbox_dir(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(sandbox_path, sizeof sandbox_path, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(sandbox_path)) {
		perror("unable to create a temporary directory");
		abort();
	}
	atexit(sandbox_rm);
	return sandbox_path;
}

static int __attribute__((unused)) count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void __attribute__((unused)) put_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		(void)write_all(fd, data, n);
		close(fd);
	}
}

/* The threads load_restore asks for (0: one per online CPU). */
/* The bytes of a file, or NULL; *n its length. */
static __attribute__((unused)) unsigned char *slurp(const char *path, size_t *n)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b && pread_all(fd, b, (size_t)st.st_size, 0, n)) {
		free(b);
		b = NULL;
	}
	close(fd);
	return b;
}

static void __attribute__((unused)) spill(const char *path, const unsigned char *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		(void)write_all(fd, b, n);
		close(fd);
	}
}

/*
 * A zstd frame's content size field (a 4-byte one) set to n: a frame that claims other than it
 * holds. Its header: magic, FHD (content size field flag in bits 7-6, single segment bit 5,
 * dictionary id flag in bits 1-0), the window byte unless single segment, the dictionary id.
 */
static void __attribute__((unused)) zframe_claim(unsigned char *f, uint32_t n)
{
	unsigned fhd = f[4], at = 5 + !((fhd >> 5) & 1) + (unsigned[]){ 0, 1, 2, 4 }[fhd & 3];

	if ((fhd >> 6) == 2)
		put_le32(f + at, n);
}

/*
 * The newest generation of file replayed by its own header (no fallback to the other slot), its
 * data checked: the state's entries, or -1 when it does not load; msg says why ("loaded").
 */
static long __attribute__((unused)) replay_verdict(const char *file, char *msg, size_t cap)
{
	struct pfile pf;
	struct pstate st;
	long n = -1;
	int r = pf_open(&pf, file, 0);

	snprintf(msg, cap, "%s", r ? pf.err.msg : "opened");
	if (!r && !(r = state_init(&st))) {
		r = pf_replay(&pf, &pf.hdr, UINT64_MAX, PCHECK_ALL, &st, NULL);
		snprintf(msg, cap, "%s", r ? pf.err.msg : "loaded");
		n = r ? -1 : (long)st.count;
		state_free(&st);
	}
	pf_close(&pf);
	return n;
}

static unsigned restore_threads __attribute__((unused));

/* The records the last load_restore read (what the reader's linear bound is stated in). */
static uint64_t load_nread __attribute__((unused));

/* Loads the newest state (or at), restores it into dir: 0, 1 (fell back to the older slot) or -errno. */
static int __attribute__((unused)) load_restore(const char *file, uint64_t at, const char *dir,
						  struct perr *err, size_t *entries)
{
	struct pfile pf;
	struct pstate st;
	struct progress pr;
	int r, fd;

	r = pf_open(&pf, file, 0);
	if (r) {
		perr_set(err, r, "open: %.400s", pf.err.msg);
		pf_close(&pf);
		return r;
	}
	int fell = r = pf_load(&pf, at, PCHECK_CRC, &st, NULL);
	load_nread = pf.nread;
	if (r < 0) {
		perr_set(err, r, "load: %.400s", pf.err.msg);
		pf_close(&pf);
		return r;
	}
	if (entries)
		*entries = st.count;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	progress_init(&pr, 0, "restoring");
	r = fd < 0 ? -errno : persist_restore(&pf, &st, fd, restore_threads, &pr, err);
	if (fd >= 0)
		close(fd);
	state_free(&st);
	pf_close(&pf);
	return r ? r : fell;	/* 1: restored the other slot's (older) generation */
}

/*
 * The records of the active area up to its committed end as they are stored, by type: a PACK
 * counts as one (pf_read_rec shows the records in it instead). Area offsets of the first of
 * each type into first (when not NULL; -1: none).
 */
static void __attribute__((unused)) count_stored(const char *file, unsigned cnt[REC_TYPES], int64_t first[REC_TYPES])
{
	struct pfile pf;
	unsigned char h[PF_REC_HDR];
	uint64_t off = 0, base;
	size_t got;

	memset(cnt, 0, REC_TYPES * sizeof *cnt);
	for (int t = 0; first && t < REC_TYPES; t++)
		first[t] = -1;
	if (pf_open(&pf, file, 0)) {
		pf_close(&pf);
		return;
	}
	base = pf_area_base(&pf.hdr, pf.hdr.area);
	while (off + PF_REC_HDR <= pf.hdr.end && !pread_all(pf.fd, h, sizeof h, (off_t)(base + off), &got) &&
	       got == sizeof h) {
		uint32_t type = get_le32(h + 4);
		if (type == 0 || type >= REC_TYPES)
			break;
		if (first && first[type] < 0)
			first[type] = (int64_t)off;
		cnt[type]++;
		off += rec_size(get_le32(h + 8));
		if (type == REC_COMMIT)
			off = (off + PF_TXN_ALIGN - 1) & ~(uint64_t)(PF_TXN_ALIGN - 1);
	}
	pf_close(&pf);
}

#endif
