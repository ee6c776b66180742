/* grow.c: makes a save file larger, crash-safely: extend and sync first, then adopt by a header. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "io.h"
#include "persist.h"

int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

/*
 * 1. The active half must be area 0 (its place does not move when the halves grow): compact first
 *    when it is area 1.
 * 2. Write zeros from the old end to the new size, fsync the file and its directory. A cut here
 *    leaves a longer file whose headers still describe the old geometry: still valid.
 * 3. Write a header with the new size and halves (same generation, same committed end of area 0)
 *    into the other slot, fdatasync (pf_publish). A cut here: the old or the new header, both
 *    describe area 0.
 */
int persist_grow(struct pfile *pf, const char *path, uint64_t size, struct save_result *res)
{
	struct pstate st;
	unsigned char *zero = NULL;
	struct phdr next;
	uint64_t pos;
	int r;

	memset(res, 0, sizeof *res);
	size &= ~(uint64_t)4095;
	if (size > PF_MAX_SIZE || size <= pf->hdr.file_size) {
		return perr_set(&res->err, -ERANGE, "the new size must be larger than %llu bytes",
				(unsigned long long)pf->hdr.file_size);
	}
	struct pf_fslimit lim;
	if (pf_fs_limit(pf->fd, &lim) == 0 && size > lim.max)
		return pf_fs_limit_refuse(&res->err, &lim, "nothing was changed");
	/* Room first: zeros written until the file system is full would leave it full. */
	struct statvfs fs;
	if (fstatvfs(pf->fd, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < size - pf->size)
		return perr_set(&res->err, -ENOSPC, "its file system has less than the %llu more bytes asked free "
				"(nothing was changed); give a smaller --size or free some room",
				(unsigned long long)(size - pf->size));
	r = pf_load(pf, UINT64_MAX, PCHECK_ALL, &st, NULL);
	if (r < 0) {
		res->err = pf->err;
		return r;
	}
	state_free(&st);
	if (pf->hdr.area == 1) {
		r = persist_compact(pf, res);
		if (r)
			return r;
	}
	zero = calloc(1, PF_DATA_CHUNK);
	if (!zero)
		return -ENOMEM;
	for (pos = pf->size; pos < size && !r; pos += PF_DATA_CHUNK) {
		uint64_t n = size - pos < PF_DATA_CHUNK ? size - pos : PF_DATA_CHUNK;
		r = pwrite_all(pf->fd, zero, (size_t)n, (off_t)pos);
	}
	free(zero);
	if (!r && fsync(pf->fd) < 0)
		r = -errno;
	if (!r)
		r = sync_dir_of(path);
	if (r)
		return r;
	pf->size = size;
	next = pf->hdr;
	next.seq++;
	next.file_size = size;
	next.area_size = ((size - PF_DATA_START) / 2) & ~(uint64_t)4095;
	r = pf_publish(pf, &next);
	if (r)
		return r;
	res->gen = next.gen;
	return 0;
}
