/* tmptree.h: temporary trees for unit tests: files and directories under a dirfd, removal, slurping. */
#ifndef OVERLIVE_TMPTREE_H
#define OVERLIVE_TMPTREE_H
/* not every test uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(int dirfd, const char *path, const void *data, size_t len)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, data, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -EIO;
}

static int write_str(int dirfd, const char *path, const char *s)
{
	return write_file(dirfd, path, s, strlen(s));
}

/* mkdir -p relative to dirfd */
static int mkdirs(int dirfd, const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdirat(dirfd, buf, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory; its path in buf. */
static int make_tmpdir(char *buf, size_t cap, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, cap, "%s/overlive-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	return mkdtemp(buf) ? 0 : -errno;
}

/* Reads a whole file into a malloc'ed buffer of exactly its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !(b = malloc(st.st_size ? st.st_size : 1))) {
		close(fd);
		return NULL;
	}
	if (read(fd, b, st.st_size) != st.st_size) {
		free(b);
		close(fd);
		return NULL;
	}
	close(fd);
	*len = st.st_size;
	return b;
}

#endif
