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

#endif
