/* tree.c: adds a host directory to the archive, recursively, in sorted order, owners 0:0. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mkcpio.h"
#include "vec.h"

struct walk {
	struct mkcpio *st;
	const char *spec;
	unsigned line;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted; *names is a malloc'd array of malloc'd strings. */
static int list_dir(struct walk *w, const char *src, char ***names, size_t *count)
{
	DIR *d = opendir(src);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int err = 0;

	if (!d) {
		err = -errno;
		snprintf(w->st->why, sizeof w->st->why, "cannot open directory %s: %s", src, strerror(-err));
		return err;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n >= MKCPIO_MAX_ENTRIES || vec_reserve((void **)&v, &cap, n, sizeof *v, 64)) {
			err = -ENOMEM;
			break;
		}
		if (!(v[n] = strdup(de->d_name))) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		snprintf(w->st->why, sizeof w->st->why, "cannot list directory %s: %s", src, strerror(-err));
		while (n)
			free(v[--n]);
		free(v);
		return err;
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_names);
	*names = v;
	*count = n;
	return 0;
}

static int add_one(struct walk *w, const char *dst, const char *src, const struct stat *sb,
		   int depth);

static int walk_dir(struct walk *w, const char *dst, const char *src, int depth)
{
	char **names = NULL, *cdst = NULL, *csrc = NULL;
	size_t n = 0, i;
	struct stat sb;
	int err;

	if (depth > MKCPIO_MAX_DEPTH) {
		snprintf(w->st->why, sizeof w->st->why, "%s is nested deeper than %d levels", src,
			 MKCPIO_MAX_DEPTH);
		return -ELOOP;
	}
	err = list_dir(w, src, &names, &n);
	if (err)
		return err;
	cdst = malloc(MKCPIO_MAX_PATH + 1);
	csrc = malloc(MKCPIO_MAX_PATH + 1);
	if (!cdst || !csrc) {
		err = -ENOMEM;
		snprintf(w->st->why, sizeof w->st->why, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		int a = snprintf(cdst, MKCPIO_MAX_PATH + 1, "%s%s%s", dst, *dst ? "/" : "", names[i]);
		int b = snprintf(csrc, MKCPIO_MAX_PATH + 1, "%s/%s", src, names[i]);
		if (a > MKCPIO_MAX_PATH || b > MKCPIO_MAX_PATH) {
			err = -ENAMETOOLONG;
			snprintf(w->st->why, sizeof w->st->why, "path under %s longer than %d bytes", src,
				 MKCPIO_MAX_PATH);
			goto out;
		}
		if (lstat(csrc, &sb) < 0) {
			err = -errno;
			snprintf(w->st->why, sizeof w->st->why, "cannot stat %s: %s", csrc, strerror(errno));
			goto out;
		}
		err = add_one(w, cdst, csrc, &sb, depth);
		if (err)
			goto out;
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(cdst);
	free(csrc);
	return err;
}

static int add_one(struct walk *w, const char *dst, const char *src, const struct stat *sb,
		   int depth)
{
	struct entry e = { .path = (char *)dst, .mode = sb->st_mode & 07777, .spec = w->spec,
			   .line = w->line };
	char target[MKCPIO_MAX_PATH + 1];
	ssize_t len;
	int err;

	switch (sb->st_mode & S_IFMT) {
	case S_IFDIR:
		/* a tree's directories merge with other trees and give way to explicit dir lines */
		e.mode |= S_IFDIR;
		e.weak = 1;
		err = mk_add(w->st, &e);
		return err ? err : walk_dir(w, dst, src, depth + 1);
	case S_IFREG:
		e.mode |= S_IFREG;
		e.src = (char *)src;
		return mk_add(w->st, &e);
	case S_IFLNK:
		len = readlink(src, target, sizeof target);
		if (len < 0 || (size_t)len >= sizeof target) {
			err = len < 0 ? -errno : -ENAMETOOLONG;
			snprintf(w->st->why, sizeof w->st->why, "cannot read symlink %s: %s", src,
				 strerror(-err));
			return err;
		}
		target[len] = '\0';
		e.mode |= S_IFLNK;
		e.src = target;
		return mk_add(w->st, &e);
	default:
		snprintf(w->st->why, sizeof w->st->why,
			 "%s is not a directory, file or symlink (use a nod line for devices)", src);
		return -EINVAL;
	}
}

int mk_add_tree(struct mkcpio *st, const char *dst, const char *srcdir, const char *spec,
		unsigned line)
{
	struct walk w = { .st = st, .spec = spec, .line = line };
	struct stat sb;

	if (stat(srcdir, &sb) < 0) {
		int err = -errno;
		snprintf(st->why, sizeof st->why, "cannot stat %s: %s", srcdir, strerror(-err));
		return err;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(st->why, sizeof st->why, "%s is not a directory", srcdir);
		return -ENOTDIR;
	}
	if (!*dst)
		return walk_dir(&w, dst, srcdir, 0);
	return add_one(&w, dst, srcdir, &sb, 0);
}
