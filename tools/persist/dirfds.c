/* dirfds.c: the restore target's directories kept open by path, so that creating an entry costs no walk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "persist.h"
#include "vec.h"

/* FNV-1a over the path's bytes: the map's key; a lookup compares the path, so a collision only costs a walk. */
static uint64_t path_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ull;
	return h;
}

int dirfds_init(struct dirfds *d, int rootfd, size_t max)
{
	memset(d, 0, sizeof *d);
	d->rootfd = rootfd;
	d->max = max;
	return u64map_init(&d->map, 64);
}

void dirfds_free(struct dirfds *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		close(d->v[i].fd);
	free(d->v);
	u64map_free(&d->map);
	memset(d, 0, sizeof *d);
	d->rootfd = -1;
}

/*
 * Keeps fd (a directory opened under the root as path) for dirfds_parent. It takes fd in every
 * case: when the cache is full, or another path has the same hash, it closes it and that
 * directory is walked to instead. path must outlive the cache (the state's strings do).
 */
int dirfds_add(struct dirfds *d, const char *path, int fd)
{
	size_t *slot;
	int created;

	if (d->n >= d->max)
		goto drop;
	if (vec_reserve((void **)&d->v, &d->cap, d->n, sizeof *d->v, 64) ||
	    !(slot = u64map_at(&d->map, path_hash(path, strlen(path)), &created))) {
		close(fd);
		return -ENOMEM;
	}
	if (!created)
		goto drop;
	*slot = d->n;
	d->v[d->n].fd = fd;
	d->v[d->n++].path = path;
	return 0;
drop:
	close(fd);
	return 0;
}

/* The cached fd of the directory path[0..len), or -1. */
int dirfds_get(const struct dirfds *d, const char *path, size_t len)
{
	const size_t *slot = u64map_get(&d->map, path_hash(path, len));

	if (!slot || strlen(d->v[*slot].path) != len || memcmp(d->v[*slot].path, path, len))
		return -1;
	return d->v[*slot].fd;
}

/* Opens path[0..len) from the root one component at a time, never following a symlink. */
static int walk(const struct dirfds *d, const char *path, size_t len)
{
	char comp[PF_NAME_MAX + 1];
	const char *p = path, *end = path + len;
	int cur = d->rootfd, next;

	while (p < end) {
		const char *e = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((e ? e : end) - p);
		if (n > PF_NAME_MAX) {
			next = -1;
			errno = ENAMETOOLONG;
		} else {
			memcpy(comp, p, n);
			comp[n] = 0;
			next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (cur != d->rootfd)
			close(cur);
		if (next < 0)
			return -errno;
		cur = next;
		p += n + 1;
	}
	return cur;
}

/*
 * The fd of the directory that holds path, and its last component in *name: the root, a cached
 * directory, or else w's (the caller's own) last walked directory, walked to again when it is
 * not that one. Each thread has its own w; the cache is only read, so threads share it.
 */
int dirfds_parent(const struct dirfds *d, struct dwalk *w, const char *path, const char **name, int *fd)
{
	const char *slash = strrchr(path, '/');
	size_t len;
	int r;

	*name = slash ? slash + 1 : path;
	if (!slash) {
		*fd = d->rootfd;
		return 0;
	}
	len = (size_t)(slash - path);
	if ((*fd = dirfds_get(d, path, len)) >= 0)
		return 0;
	if (w->fd >= 0 && strlen(w->path) == len && memcmp(w->path, path, len) == 0) {
		*fd = w->fd;
		return 0;
	}
	dwalk_done(w);
	if (len == 0 || len > PF_PATH_MAX)
		return -EINVAL;
	r = walk(d, path, len);
	if (r < 0)
		return r;
	memcpy(w->path, path, len);
	w->path[len] = 0;
	w->fd = *fd = r;
	return 0;
}

void dwalk_done(struct dwalk *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->path[0] = 0;
}
