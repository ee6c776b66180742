/* rmtree.c: removes a directory tree through directory fds, depth first, on one device. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rmtree.h"

static int keep_first(int r, int e)
{
	return r ? r : e;
}

static int contents(int dfd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = keep_first(r, -errno);
			continue;
		}
		if (st.st_dev != dev) {
			r = keep_first(r, -EXDEV);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = depth < RMTREE_DEPTH_MAX ?
				openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
			if (sub < 0) {
				r = keep_first(r, depth < RMTREE_DEPTH_MAX ? -errno : -ELOOP);
				continue;
			}
			r = keep_first(r, contents(sub, dev, depth + 1));
		}
		if (unlinkat(dirfd(d), de->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
			r = keep_first(r, -errno);
	}
	closedir(d);
	return r;
}

int rmtree_contents(int dfd)
{
	struct stat st;

	if (fstat(dfd, &st) < 0) {
		int r = -errno;
		close(dfd);
		return r;
	}
	return contents(dfd, st.st_dev, 0);
}

int rmtree_at(int dirfd, const char *name)
{
	struct stat st;
	int fd, r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = rmtree_contents(fd);
	return keep_first(r, unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0);
}
