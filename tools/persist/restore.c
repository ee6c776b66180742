/* restore.c: recreates a replayed state under a directory fd, with *at() calls, never following a symlink, files by several threads. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "io.h"
#include "persist.h"
#include "rmtree.h"

#define RESTORE_WORKERS_MAX 16
#define BATCH_ENTRIES 64		/* a worker takes this many entries at a time... */
#define BATCH_BYTES (4u << 20)		/* ...or as many as hold this much data */
#define DIRFDS_MAX 16384		/* directories kept open at most (kernel memory: a few MB) */

struct rctx {
	struct pfile *pf;
	int rootfd;		/* where entries are created: the staging directory, then the target */
	int target;		/* the target (the caller's fd) */
	struct dirfds dirs;	/* every directory created, while fds allow */
	struct u64map groups;	/* hardlink group id -> 1 + the index of its primary (the member with data) */
	struct pentry **v;	/* the state, sorted */
	struct progress *pr;
	pthread_mutex_t plock;	/* the progress line, when workers run */
	size_t *work, nwork;	/* what the workers create: indices into v */
	size_t *batch, nbatch;	/* batch k is work[batch[k] .. batch[k + 1]) */
	size_t next;		/* the next batch to take (atomic) */
	int stop;		/* a worker failed: the others stop (atomic) */
	struct worker *failed;	/* the one that failed first */
};

/* One thread's share of the work: its own read buffers over the shared fd, its own walks and error. */
struct worker {
	struct rctx *c;
	struct pfile pf;
	struct dwalk walk, walk2;
	struct perr err;
	int r;
	pthread_t tid;
};

static int fail(struct worker *w, int r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct worker *w, int r, const char *path, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return perr_set(&w->err, r < 0 ? r : -EINVAL, "%s: %s%s%s", path, what, r < 0 ? ": " : "",
			r < 0 ? strerror(-r) : "");
}

static void progress_add(struct rctx *c, uint64_t entries, uint64_t bytes)
{
	if (!c->pr->on)
		return;
	pthread_mutex_lock(&c->plock);
	while (entries--)
		progress_entry(c->pr);
	if (bytes)
		progress_bytes(c->pr, bytes);
	pthread_mutex_unlock(&c->plock);
}

/* xattrs through an fd, or for non-openable types through /proc/self/fd/DIR/NAME without following. */
static int set_xattrs(struct worker *w, const struct pentry *e, int fd, int pfd, const char *name)
{
	uint32_t off = 0, i;
	char nbuf[PF_NAME_MAX + 1], lpath[64 + PF_NAME_MAX];

	if (!e->nxattr)
		return 0;
	snprintf(lpath, sizeof lpath, "/proc/self/fd/%d/%s", pfd, name);
	for (i = 0; i < e->nxattr; i++) {
		uint16_t nl = get_le16(e->xattrs + off);
		uint32_t vl = get_le32(e->xattrs + off + 4);
		const unsigned char *v = e->xattrs + off + 8 + nl;
		memcpy(nbuf, e->xattrs + off + 8, nl);
		nbuf[nl] = 0;
		if (!xattr_restorable(nbuf, v, vl))
			return fail(w, -EINVAL, e->path, "refusing xattr %s", nbuf);
		int r = fd >= 0 ? fsetxattr(fd, nbuf, v, vl, 0) : lsetxattr(lpath, nbuf, v, vl, 0);
		if (r < 0)
			return fail(w, -errno, e->path, "unable to set xattr %s", nbuf);
		off += 8 + nl + vl;
	}
	return 0;
}

/* One chunk of a file's data written where it belongs (pf_entry_data's callback). */
struct wdata {
	struct worker *w;
	int fd;
	uint64_t filled;
};

static int write_chunk(void *ctx, uint64_t off, const void *p, size_t n)
{
	struct wdata *d = ctx;
	int r;

	if (__atomic_load_n(&d->w->c->stop, __ATOMIC_RELAXED))
		return -ECANCELED;
	r = pwrite_all(d->fd, p, n, (off_t)off);
	if (r)
		return perr_set(&d->w->pf.err, r, "unable to write");
	progress_add(d->w->c, 0, n);
	d->filled = off + n > d->filled ? off + n : d->filled;
	return 0;
}

/* A regular file's data, from its run of DATA records, each chunk written where it belongs. */
static int write_data(struct worker *w, const struct pentry *e, int fd)
{
	struct wdata d = { w, fd, 0 };
	int r = pf_entry_data(&w->pf, e, write_chunk, &d);

	if (r == -ECANCELED)
		return r;
	if (r)
		return fail(w, r, e->path, "%s", w->pf.err.msg);
	/* a hole at the end (or no data at all): the size is set, not written */
	if (d.filled < e->size && ftruncate(fd, (off_t)e->size) < 0)
		return fail(w, -errno, e->path, "unable to set the size");
	return 0;
}

static int set_owner_mode(struct worker *w, const struct pentry *e, int fd, int pfd, const char *name)
{
	int r = fd >= 0 ? fchown(fd, e->uid, e->gid) : fchownat(pfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);

	if (r < 0)
		return fail(w, -errno, e->path, "unable to set the owner");
	if (e->type == PT_SYMLINK)
		return 0;
	r = fd >= 0 ? fchmod(fd, e->mode) : fchmodat(pfd, name, e->mode, 0);
	if (r < 0)
		return fail(w, -errno, e->path, "unable to set the mode");
	return 0;
}

/* Through the entry's own fd when there is one (no lookup), else by name without following. */
static int set_times(struct worker *w, const struct pentry *e, int fd, int pfd, const char *name)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = e->mtime_sec;
	ts[0].tv_nsec = ts[1].tv_nsec = e->mtime_nsec;
	if ((fd >= 0 ? futimens(fd, ts) : utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW)) < 0)
		return fail(w, -errno, e->path, "unable to set the times");
	return 0;
}

static const mode_t node_fmt[PT_TYPES] = {
	[PT_CHR] = S_IFCHR, [PT_BLK] = S_IFBLK, [PT_FIFO] = S_IFIFO, [PT_SOCK] = S_IFSOCK, [PT_WHITEOUT] = S_IFCHR,
};

/* A directory, kept open in the cache for its children; its times are set last. */
static int create_dir(struct worker *w, const struct pentry *e)
{
	struct rctx *c = w->c;
	const char *name;
	int pfd, fd, r;

	if (strcmp(e->path, ".") == 0)	/* the target's own: set once everything is in it */
		return 0;
	r = dirfds_parent(&c->dirs, &w->walk, e->path, &name, &pfd);
	if (r)
		return fail(w, r, e->path, "unable to open its directory");
	if (mkdirat(pfd, name, 0700) < 0)
		return fail(w, -errno, e->path, "unable to create the directory");
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(w, -errno, e->path, "unable to open");
	r = set_owner_mode(w, e, fd, -1, NULL);
	if (!r)
		r = set_xattrs(w, e, fd, -1, NULL);
	if (r) {
		close(fd);
		return r;
	}
	r = dirfds_add(&c->dirs, e->path, fd);
	return r ? fail(w, r, e->path, "unable to keep its fd") : 0;
}

/* Anything but a directory: a regular file with its data, a symlink, a node. */
static int create_one(struct worker *w, const struct pentry *e)
{
	const char *name;
	int pfd, fd = -1, r;

	r = dirfds_parent(&w->c->dirs, &w->walk, e->path, &name, &pfd);
	if (r)
		return fail(w, r, e->path, "unable to open its directory");
	switch (e->type) {
	case PT_FILE:
		fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return fail(w, -errno, e->path, "unable to create");
		r = write_data(w, e, fd);
		break;
	case PT_SYMLINK:
		r = symlinkat(e->target, pfd, name) < 0 ? fail(w, -errno, e->path, "unable to create the symlink") : 0;
		break;
	default:
		if (mknodat(pfd, name, node_fmt[e->type] | (e->mode & 07777), (dev_t)e->rdev) < 0)
			return fail(w, -errno, e->path, "unable to create the %s", ptype_name(e->type));
		break;
	}
	if (!r)
		r = set_owner_mode(w, e, fd, pfd, name);
	if (!r)
		r = set_xattrs(w, e, fd, pfd, name);
	if (!r)
		r = set_times(w, e, fd, pfd, name);
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

static int link_one(struct worker *w, const struct pentry *e)
{
	struct rctx *c = w->c;
	const size_t *gi = u64map_get(&c->groups, e->group);
	const struct pentry *g;
	const char *name, *pname;
	int pfd, ppfd, r;

	if (!gi)
		return fail(w, -EINVAL, e->path, "hardlink group without data");
	g = c->v[*gi - 1];
	if (g->type != e->type)
		return fail(w, -EINVAL, e->path, "hardlink group of two types");
	r = dirfds_parent(&c->dirs, &w->walk2, g->path, &pname, &ppfd);
	if (r)
		return fail(w, r, g->path, "unable to open its directory");
	r = dirfds_parent(&c->dirs, &w->walk, e->path, &name, &pfd);
	if (!r && linkat(ppfd, pname, pfd, name, 0) < 0)
		r = -errno;
	return r ? fail(w, r, e->path, "unable to link to %s", g->path) : 0;
}

/* A worker: batches of entries taken in turn until none is left or one of the workers failed. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct rctx *c = w->c;
	size_t k, i;

	while (!w->r && !__atomic_load_n(&c->stop, __ATOMIC_RELAXED) &&
	       (k = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED)) < c->nbatch) {
		for (i = c->batch[k]; i < c->batch[k + 1] && !w->r; i++) {
			if (__atomic_load_n(&c->stop, __ATOMIC_RELAXED))
				break;
			w->r = create_one(w, c->v[c->work[i]]);
			progress_add(c, 1, 0);
		}
	}
	if (w->r && w->r != -ECANCELED && !__atomic_exchange_n(&c->stop, 1, __ATOMIC_SEQ_CST))
		__atomic_store_n(&c->failed, w, __ATOMIC_RELAXED);
	dwalk_done(&w->walk);
	return NULL;
}

/* The fds a restore may keep open for directories: the limit, less room for everything else. */
static size_t fd_budget(size_t nworkers)
{
	struct rlimit rl;
	uint64_t cur, keep = 64 + 4 * (uint64_t)nworkers;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	cur = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (uint64_t)rl.rlim_cur;
	cur = cur > keep ? cur - keep : 0;
	return cur < DIRFDS_MAX ? (size_t)cur : DIRFDS_MAX;
}

/* What goes where: directories first (in order), links last, the rest to the workers in batches. */
enum { STEP_DIR, STEP_WORK, STEP_LINK };
static int step_of(const struct rctx *c, size_t i)
{
	if (c->v[i]->group && !is_primary(c, i))
		return STEP_LINK;
	return c->v[i]->type == PT_DIR ? STEP_DIR : STEP_WORK;
}

/* The workers' batches: consecutive entries in path order, so a directory's files mostly go together. */
static int plan(struct rctx *c, size_t n)
{
	size_t i, count = 0;
	uint64_t bytes = 0;

	c->work = malloc((n ? n : 1) * sizeof *c->work);
	c->batch = malloc((n + 1) * sizeof *c->batch);
	if (!c->work || !c->batch)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (step_of(c, i) != STEP_WORK)
			continue;
		if (!c->nwork || count == BATCH_ENTRIES || bytes >= BATCH_BYTES) {
			c->batch[c->nbatch++] = c->nwork;
			count = 0;
			bytes = 0;
		}
		c->work[c->nwork++] = i;
		count++;
		bytes += c->v[i]->size;
	}
	c->batch[c->nbatch] = c->nwork;
	return 0;
}

static int index_groups(struct worker *w, size_t n)
{
	struct rctx *c = w->c;
	size_t i;
	int r;

	if ((r = u64map_init(&c->groups, 64)))
		return r;
	for (i = 0; i < n; i++) {
		const struct pentry *e = c->v[i];
		size_t *gi;
		int created;
		/* a file's primary has the data; another type's is its first member (sorted) */
		if (!e->group || (e->type == PT_FILE && !(e->flags & (EF_DATA | EF_KEEP))))
			continue;
		gi = u64map_at(&c->groups, e->group, &created);
		if (!gi)
			return -ENOMEM;
		if (!created && e->type == PT_FILE)
			return fail(w, -EINVAL, e->path, "two primaries in one hardlink group");
		if (created)
			*gi = i + 1;
	}
	return 0;
}

/* The workers' step: nw - 1 threads and this one; 0, or the first failure (in *first). */
static int run_workers(struct rctx *c, struct worker *w, size_t nw, struct worker **first)
{
	size_t k, started = 1;

	for (k = 1; k < nw; k++, started++)
		if (pthread_create(&w[k].tid, NULL, work, &w[k]))
			break;	/* fewer threads: still correct, only slower */
	(void)work(&w[0]);
	for (k = 1; k < started; k++)
		pthread_join(w[k].tid, NULL);
	*first = c->failed;
	return c->failed ? c->failed->r : 0;
}

/*
 * The staging directory: a name in the target that no top-level entry of the state has
 * (".persist-restore", else with a number), so that moving the entries out of it never meets it.
 */
static int staging_name(const struct pentry *const *v, size_t n, char name[32])
{
	for (unsigned k = 0; k < 1000; k++) {
		size_t i;
		if (k)
			snprintf(name, 32, ".persist-restore.%u", k);
		else
			snprintf(name, 32, ".persist-restore");
		for (i = 0; i < n && strcmp(v[i]->path, name); i++)
			;
		if (i == n)
			return 0;
	}
	return -EEXIST;
}

/* The top-level entries from the staging directory into the target, which then holds everything. */
static int unstage(struct rctx *c, int sfd, const char *sname, size_t n, size_t *moved, size_t *nmoved,
		   struct perr *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = c->v[i]->path;
		if (strcmp(p, ".") == 0 || strchr(p, '/'))
			continue;
		if (renameat(sfd, p, c->target, p) < 0)
			return perr_set(err, -errno, "%s: unable to move it out of %s: %s", p, sname, strerror(errno));
		moved[(*nmoved)++] = i;
	}
	if (unlinkat(c->target, sname, AT_REMOVEDIR) < 0)
		return perr_set(err, -errno, "unable to remove %s: %s", sname, strerror(errno));
	return 0;
}

/*
 * A failed restore leaves the target as it found it, empty: the staging directory goes, and so
 * does every top-level entry already moved out of it. err gains what could not be removed.
 */
static void unmake(struct rctx *c, const char *sname, const size_t *moved, size_t nmoved, struct perr *err)
{
	int r = rmtree_at(c->target, sname), e;
	const char *what = sname;

	for (size_t k = 0; k < nmoved; k++)
		if ((e = rmtree_at(c->target, c->v[moved[k]]->path)) && !r) {
			r = e;
			what = c->v[moved[k]]->path;
		}
	if (r) {
		char was[sizeof err->msg];
		snprintf(was, sizeof was, "%s", err->msg);
		perr_set(err, -EIO, "%.300s; and unable to remove %.100s from the target (%s): remove it by hand",
			 was, what, strerror(-r));
	}
}

/*
 * The state into target (an empty directory), all or nothing. Everything is made in a staging
 * directory inside it: the directories in path order (each kept open for its children), then
 * files, symlinks and nodes by up to nthreads threads (0: as many as CPUs are online), each
 * file's data expanded and checked record by record as it is written, its content CRC at the
 * end, then the hardlinks. Only when all of that succeeded are the top-level entries moved into
 * the target, the staging directory removed, the root's metadata and the directories' times
 * (deepest first) set. A failure anywhere stops every thread and removes what was made: the
 * target is left empty.
 */
int persist_restore(struct pfile *pf, const struct pstate *st, int rootfd, unsigned nthreads,
		    struct progress *pr, struct perr *err)
{
	struct rctx c = { .pf = pf, .rootfd = -1, .target = rootfd, .pr = pr };
	struct worker *w, *failed = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nw = nthreads ? nthreads : cpus > 0 ? (size_t)cpus : 1, k, *moved = NULL, nmoved = 0;
	char sname[32];
	int n, i, r, staged = 0;

	nw = nw > RESTORE_WORKERS_MAX ? RESTORE_WORKERS_MAX : nw;
	n = state_sorted(st, &c.v);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)	/* the save file's own, not the upper's (persist-format.md, "Rebase") */
		if (!strcmp(c.v[i]->path, PF_CONFLICTS))
			memmove(&c.v[i], &c.v[i + 1], (size_t)(--n - i) * sizeof *c.v);
	w = calloc(nw, sizeof *w);
	if (!w) {
		free(c.v);
		return -ENOMEM;
	}
	for (k = 0; k < nw; k++) {
		w[k].c = &c;
		w[k].pf = *pf;		/* the same fd (pread only), buffers of its own */
		w[k].pf.rbuf = w[k].pf.win = NULL;
		w[k].pf.rcap = w[k].pf.win_len = 0;
		w[k].pf.err.msg[0] = 0;
		/* a decompression state of its own; write_data checks every file's content CRC */
		w[k].pf.z = (struct pzstd){ .content_crc = 1 };
		w[k].walk.fd = w[k].walk2.fd = -1;
	}
	pthread_mutex_init(&c.plock, NULL);
	moved = malloc(((size_t)n + 1) * sizeof *moved);
	r = moved ? staging_name((const struct pentry *const *)c.v, (size_t)n, sname) : -ENOMEM;
	if (r == -EEXIST)
		perr_set(&w[0].err, r, "no name left for a staging directory in the target");
	if (!r && mkdirat(rootfd, sname, 0700) < 0)
		r = perr_set(&w[0].err, -errno, "unable to create %s in the target: %s", sname, strerror(errno));
	if (!r) {
		staged = 1;
		c.rootfd = openat(rootfd, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c.rootfd < 0)
			r = perr_set(&w[0].err, -errno, "unable to open %s: %s", sname, strerror(errno));
	}
	if (!r)
		r = dirfds_init(&c.dirs, c.rootfd, fd_budget(nw));
	if (!r)
		r = index_groups(&w[0], (size_t)n);
	if (!r)
		r = plan(&c, (size_t)n);
	if (r)
		goto out;
	progress_total(pr, (uint64_t)n);
	for (i = 0; i < n && !r; i++)
		if (step_of(&c, (size_t)i) == STEP_DIR) {
			r = create_dir(&w[0], c.v[i]);
			progress_add(&c, 1, 0);
		}
	if (!r)
		r = run_workers(&c, w, nw < c.nbatch ? nw : c.nbatch ? c.nbatch : 1, &failed);
	for (i = 0; i < n && !r; i++)
		if (step_of(&c, (size_t)i) == STEP_LINK) {
			r = link_one(&w[0], c.v[i]);
			progress_add(&c, 1, 0);
		}
	/* every entry made and every record checked: into the target (the walks now start there) */
	if (!r && (r = unstage(&c, c.rootfd, sname, (size_t)n, moved, &nmoved, &w[0].err)) == 0) {
		staged = 0;
		c.dirs.rootfd = rootfd;
		dwalk_done(&w[0].walk);
	}
	if (!r && n > 0 && strcmp(c.v[0]->path, ".") == 0) {
		r = set_owner_mode(&w[0], c.v[0], rootfd, -1, NULL);
		if (!r)
			r = set_xattrs(&w[0], c.v[0], rootfd, -1, NULL);
	}
	for (i = n - 1; i >= 0 && !r; i--) {
		const struct pentry *e = c.v[i];
		const char *name = NULL;
		int fd, pfd = -1;
		if (e->type != PT_DIR)
			continue;
		fd = strcmp(e->path, ".") == 0 ? rootfd : dirfds_get(&c.dirs, e->path, strlen(e->path));
		if (fd < 0 && (r = dirfds_parent(&c.dirs, &w[0].walk, e->path, &name, &pfd)))
			r = fail(&w[0], r, e->path, "unable to open its directory");
		if (!r)
			r = set_times(&w[0], e, fd, pfd, name);
	}
out:
	if (r)
		*err = (failed ? failed : &w[0])->err;
	for (k = 0; k < nw; k++) {
		dwalk_done(&w[k].walk);
		dwalk_done(&w[k].walk2);
		free(w[k].pf.rbuf);
		free(w[k].pf.win);
		pz_free(&w[k].pf.z);
	}
	free(w);
	dirfds_free(&c.dirs);
	if (c.rootfd >= 0)
		close(c.rootfd);
	if (r && (staged || nmoved))
		unmake(&c, sname, moved, nmoved, err);
	free(moved);
	pthread_mutex_destroy(&c.plock);
	free(c.v);
	free(c.work);
	free(c.batch);
	u64map_free(&c.groups);
	return r;
}
