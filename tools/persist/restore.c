/* restore.c: recreates a replayed state under a directory fd, with *at() calls, never following a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "io.h"
#include "persist.h"

struct rctx {
	struct pfile *pf;
	int rootfd, cachefd;
	char cached[PF_PATH_MAX + 1];
	struct perr *err;
	struct u64map groups;	/* hardlink group id -> 1 + the index of its primary (the member with data) */
	struct pentry **v;	/* the state, sorted */
	struct progress *pr;
};

static int fail(struct rctx *c, int r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct rctx *c, int r, const char *path, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return perr_set(c->err, r < 0 ? r : -EINVAL, "%s: %s%s%s", path, what, r < 0 ? ": " : "",
			r < 0 ? strerror(-r) : "");
}

/* Opens the directory that holds path, walking each component with O_NOFOLLOW from the root fd. */
static int open_parent(struct rctx *c, const char *path, const char **name, int *fd)
{
	const char *slash = strrchr(path, '/');
	char comp[PF_NAME_MAX + 1];
	size_t plen;
	int cur, next;
	const char *p;

	*name = slash ? slash + 1 : path;
	if (!slash) {
		*fd = c->rootfd;
		return 0;
	}
	plen = (size_t)(slash - path);
	if (c->cachefd >= 0 && strlen(c->cached) == plen && memcmp(c->cached, path, plen) == 0) {
		*fd = c->cachefd;
		return 0;
	}
	if (c->cachefd >= 0)
		close(c->cachefd);
	c->cachefd = -1;
	cur = c->rootfd;
	for (p = path; p < slash;) {
		const char *e = memchr(p, '/', (size_t)(slash - p));
		size_t n = (size_t)((e ? e : slash) - p);
		memcpy(comp, p, n);
		comp[n] = 0;
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cur != c->rootfd)
			close(cur);
		if (next < 0)
			return -errno;
		cur = next;
		p += n + 1;
	}
	memcpy(c->cached, path, plen);
	c->cached[plen] = 0;
	c->cachefd = cur;
	*fd = cur;
	return 0;
}

/* xattrs through an fd, or for non-openable types through /proc/self/fd/DIR/NAME without following. */
static int set_xattrs(struct rctx *c, const struct pentry *e, int fd, int pfd, const char *name)
{
	uint32_t off = 0, i;
	char nbuf[PF_NAME_MAX + 1], lpath[64 + PF_NAME_MAX];

	snprintf(lpath, sizeof lpath, "/proc/self/fd/%d/%s", pfd, name);
	for (i = 0; i < e->nxattr; i++) {
		uint16_t nl = get_le16(e->xattrs + off);
		uint32_t vl = get_le32(e->xattrs + off + 4);
		const unsigned char *v = e->xattrs + off + 8 + nl;
		memcpy(nbuf, e->xattrs + off + 8, nl);
		nbuf[nl] = 0;
		if (!xattr_restorable(nbuf, v, vl))
			return fail(c, -EINVAL, e->path, "refusing xattr %s", nbuf);
		int r = fd >= 0 ? fsetxattr(fd, nbuf, v, vl, 0) : lsetxattr(lpath, nbuf, v, vl, 0);
		if (r < 0)
			return fail(c, -errno, e->path, "unable to set xattr %s", nbuf);
		off += 8 + nl + vl;
	}
	return 0;
}

static int write_data(struct rctx *c, const struct pentry *e, int fd)
{
	struct pfile *pf = c->pf;
	uint64_t off = (uint64_t)e->data_off, next;
	uint32_t type, len, crc = 0;
	int r;

	if (e->data_off >= 0) {
		while (off < pf->hdr.end) {
			r = pf_read_rec(pf, &pf->hdr, off, pf->hdr.end, 1, &type, &len, &next);
			if (r)
				return fail(c, r, e->path, "%s", pf->err.msg);
			if (!rec_is_data(type))
				break;
			const unsigned char *p;
			uint64_t o;
			uint32_t n;
			r = data_rec_decode(&pf->z, type, pf->rbuf + PF_REC_HDR, len, &o, &p, &n, &pf->err);
			if (r)
				return fail(c, r, e->path, "%s", pf->err.msg);
			if (o > e->size || n > e->size - o)
				return fail(c, -EINVAL, e->path, "data beyond the file's size");
			crc = content_crc_step(crc, o, p, n);
			r = pwrite_all(fd, p, n, (off_t)o);
			if (r)
				return fail(c, r, e->path, "unable to write");
			progress_bytes(c->pr, n);
			off = next;
		}
	}
	if (crc != e->crc)
		return fail(c, -EBADMSG, e->path, "content checksum mismatch");
	if (ftruncate(fd, (off_t)e->size) < 0)
		return fail(c, -errno, e->path, "unable to set the size");
	return 0;
}

static int set_owner_mode(struct rctx *c, const struct pentry *e, int fd, int pfd, const char *name)
{
	int r = fd >= 0 ? fchown(fd, e->uid, e->gid) : fchownat(pfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);

	if (r < 0)
		return fail(c, -errno, e->path, "unable to set the owner");
	if (e->type == PT_SYMLINK)
		return 0;
	r = fd >= 0 ? fchmod(fd, e->mode) : fchmodat(pfd, name, e->mode, 0);
	if (r < 0)
		return fail(c, -errno, e->path, "unable to set the mode");
	return 0;
}

static int set_times(struct rctx *c, const struct pentry *e, int pfd, const char *name)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = e->mtime_sec;
	ts[0].tv_nsec = ts[1].tv_nsec = e->mtime_nsec;
	if ((strcmp(e->path, ".") == 0 ? futimens(c->rootfd, ts) : utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW)) < 0)
		return fail(c, -errno, e->path, "unable to set the times");
	return 0;
}

static const mode_t node_fmt[PT_TYPES] = {
	[PT_CHR] = S_IFCHR, [PT_BLK] = S_IFBLK, [PT_FIFO] = S_IFIFO, [PT_SOCK] = S_IFSOCK, [PT_WHITEOUT] = S_IFCHR,
};

static int create_one(struct rctx *c, const struct pentry *e)
{
	const char *name;
	int pfd, fd = -1, r;

	if (strcmp(e->path, ".") == 0) {
		r = set_owner_mode(c, e, c->rootfd, -1, NULL);
		return r ? r : set_xattrs(c, e, c->rootfd, -1, NULL);
	}
	r = open_parent(c, e->path, &name, &pfd);
	if (r)
		return fail(c, r, e->path, "unable to open its directory");
	switch (e->type) {
	case PT_FILE:
		fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return fail(c, -errno, e->path, "unable to create");
		r = write_data(c, e, fd);
		break;
	case PT_DIR:
		if (mkdirat(pfd, name, 0700) < 0)
			return fail(c, -errno, e->path, "unable to create the directory");
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? fail(c, -errno, e->path, "unable to open") : 0;
		break;
	case PT_SYMLINK:
		r = symlinkat(e->target, pfd, name) < 0 ? fail(c, -errno, e->path, "unable to create the symlink") : 0;
		break;
	default:
		if (mknodat(pfd, name, node_fmt[e->type] | (e->mode & 07777), (dev_t)e->rdev) < 0)
			return fail(c, -errno, e->path, "unable to create the %s", ptype_name(e->type));
		break;
	}
	if (!r)
		r = set_owner_mode(c, e, fd, pfd, name);
	if (!r)
		r = set_xattrs(c, e, fd, pfd, name);
	if (!r && e->type != PT_DIR)
		r = set_times(c, e, pfd, name);
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * A hardlink group's primary is created, the other members are linked to it: for regular files
 * the member that holds the data (a DATA or a KEEP entry), for the other types (symlinks, fifos,
 * sockets, devices: no data) the first member in path order.
 */
static int is_primary(const struct rctx *c, size_t i)
{
	const struct pentry *e = c->v[i];
	const size_t *gi;

	if (!e->group)
		return 0;
	if (e->type == PT_FILE)
		return (e->flags & (EF_DATA | EF_KEEP)) != 0;
	gi = u64map_get(&c->groups, e->group);
	return gi && *gi == i + 1;
}

static int link_one(struct rctx *c, const struct pentry *e)
{
	const size_t *gi = u64map_get(&c->groups, e->group);
	const struct pentry *g;
	const char *name, *pname;
	int pfd, ppfd, r;

	if (!gi)
		return fail(c, -EINVAL, e->path, "hardlink group without data");
	g = c->v[*gi - 1];
	if (g->type != e->type)
		return fail(c, -EINVAL, e->path, "hardlink group of two types");
	r = open_parent(c, g->path, &pname, &ppfd);
	if (r)
		return fail(c, r, g->path, "unable to open its directory");
	ppfd = fcntl(ppfd, F_DUPFD_CLOEXEC, 3);
	if (ppfd < 0)
		return -errno;
	r = open_parent(c, e->path, &name, &pfd);
	if (!r && linkat(ppfd, pname, pfd, name, 0) < 0)
		r = -errno;
	close(ppfd);
	return r ? fail(c, r, e->path, "unable to link to %s", g->path) : 0;
}

/* The state into rootfd (an empty directory): create everything, then links, then directory times. */
int persist_restore(struct pfile *pf, const struct pstate *st, int rootfd, struct progress *pr,
		    struct perr *err)
{
	struct rctx c = { .pf = pf, .rootfd = rootfd, .cachefd = -1, .err = err, .pr = pr };
	struct pentry **v = NULL;
	int n, i, r;

	n = state_sorted(st, &v);
	if (n < 0)
		return n;
	c.v = v;
	r = u64map_init(&c.groups, 64);
	if (r)
		goto out;
	progress_total(pr, (uint64_t)n);
	for (i = 0; i < n && !r; i++) {
		size_t *gi;
		int created;
		/* a file's primary has the data; another type's is its first member (sorted) */
		if (!v[i]->group || (v[i]->type == PT_FILE && !(v[i]->flags & (EF_DATA | EF_KEEP))))
			continue;
		gi = u64map_at(&c.groups, v[i]->group, &created);
		if (!gi)
			r = -ENOMEM;
		else if (!created && v[i]->type == PT_FILE)
			r = fail(&c, -EINVAL, v[i]->path, "two primaries in one hardlink group");
		else if (created)
			*gi = (size_t)i + 1;
	}
	for (i = 0; i < n && !r; i++) {
		progress_entry(pr);
		if (v[i]->group && !is_primary(&c, (size_t)i))
			continue;
		r = create_one(&c, v[i]);
	}
	for (i = 0; i < n && !r; i++)
		if (v[i]->group && !is_primary(&c, (size_t)i))
			r = link_one(&c, v[i]);
	for (i = n - 1; i >= 0 && !r; i--) {
		const char *name;
		int pfd = rootfd;
		if (v[i]->type != PT_DIR)
			continue;
		if (strcmp(v[i]->path, ".") && (r = open_parent(&c, v[i]->path, &name, &pfd)))
			break;
		r = set_times(&c, v[i], pfd, strcmp(v[i]->path, ".") ? name : NULL);
	}
out:
	if (c.cachefd >= 0)
		close(c.cachefd);
	free(v);
	u64map_free(&c.groups);
	return r;
}
