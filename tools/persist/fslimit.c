/* fslimit.c: the largest file the file system under a save file can hold (FAT's 32-bit size). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>
#include "persist.h"

/*
 * A FAT directory entry holds a 32-bit size: 4 GiB - 1 bytes at most, and the kernel's vfat says
 * EFBIG past it, after the zeros before were written. exFAT (64-bit sizes), ext4 and the others
 * have no limit a save file meets; exfat-fuse reports fuseblk, also without one.
 */
static const struct {
	long magic;
	const char *name;
	uint64_t max;
} limits[] = {
	{ MSDOS_SUPER_MAGIC, "vfat", 0xffffffffull },
};

int pf_fs_limit(int fd, struct pf_fslimit *l)
{
	struct statfs fs;

	l->max = UINT64_MAX;
	l->fs = "";
	if (fstatfs(fd, &fs) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
		if ((long)fs.f_type == limits[i].magic) {
			l->max = limits[i].max;
			l->fs = limits[i].name;
		}
	return 0;
}

int pf_fs_limit_refuse(struct perr *e, const struct pf_fslimit *l, const char *done)
{
	return perr_set(e, -EFBIG, "a file on its file system (%s) holds at most 4 GiB - 1 bytes (%llu; %s): give "
			"--size %lluM or less, or keep the save file on exFAT or ext4", l->fs, (unsigned long long)l->max,
			done, (unsigned long long)(l->max >> 20));
}

int pf_fs_limit_of_dir(const char *path, struct pf_fslimit *l)
{
	char *copy = strdup(path);
	int fd, r;

	l->max = UINT64_MAX;
	l->fs = "";
	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	r = pf_fs_limit(fd, l);
	close(fd);
	return r;
}
