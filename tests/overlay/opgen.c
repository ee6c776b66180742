/* opgen.c: a seeded random generator of filesystem operations on a tree (the overlay's merged view). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/*
 * usage: opgen DIR SEED COUNT [lower]
 * Deterministic from SEED and the tree it starts from. Most operations act on an entry that
 * exists: before each one the tree is listed (sorted, so the choice does not depend on readdir
 * order) and a path of the wanted type is picked from it. On an overlay that gives what the kernel
 * can leave in an upper: copy-ups by data and metadata changes and by ln, several hardlink groups
 * (of lower and upper files, across directories, renamed, unlinked and linked again, chmod/chown/
 * utime/xattr on one name), fifos, sockets, device nodes, whiteouts, opaque directories (a lower
 * directory removed and made again) and, with redirect_dir=on, renamed lower directories.
 * "lower" builds a lower tree instead: it mostly grows.
 */

#define MAXENT 4096

struct rng { uint64_t s; };

struct ent { char path[256]; mode_t mode; nlink_t nlink; };

struct gen {
	struct rng r;
	int dfd, lower;
	const char *root;
	struct ent *v;	/* the tree as listed before the operation, sorted by path */
	size_t n;
	char big[400000];
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

static unsigned pick(struct rng *r, unsigned n) { return (unsigned)(next(r) % n); }

static const char *const names[] = { "a", "b", "c", "dd", "e" };

static int path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

/* Lists every entry under rel (not rel itself) into g->v, unsorted; bounded by MAXENT. */
static void list(struct gen *g, const char *rel)
{
	DIR *d;
	struct dirent *de;
	int fd = openat(g->dfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) && g->n < MAXENT) {
		struct ent *e = &g->v[g->n];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(e->path, sizeof e->path, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
		    sizeof e->path - 16 || fstatat(g->dfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		e->mode = st.st_mode;
		e->nlink = st.st_nlink;
		g->n++;
		if (S_ISDIR(st.st_mode)) {
			char sub[256];
			strcpy(sub, e->path);
			list(g, sub);
		}
	}
	closedir(d);
}

static void relist(struct gen *g)
{
	g->n = 0;
	list(g, "");
	if (g->n)	/* qsort of a NULL array, even of 0 elements, is undefined */
		qsort(g->v, g->n, sizeof *g->v, path_cmp);
}

/* What an operation wants to act on. */
enum want { ANY, REG, LINKED, DIR_, NONDIR };

static int fits(const struct ent *e, enum want w)
{
	switch (w) {
	case ANY: return 1;
	case REG: return S_ISREG(e->mode);
	case LINKED: return S_ISREG(e->mode) && e->nlink > 1;
	case DIR_: return S_ISDIR(e->mode);
	case NONDIR: return !S_ISDIR(e->mode);
	}
	return 0;
}

/* An existing path of the wanted kind (LINKED falls back to REG), or NULL when there is none. */
static const char *existing(struct gen *g, enum want w)
{
	size_t i, k = 0;
	unsigned c;

	for (i = 0; i < g->n; i++)
		k += (size_t)fits(&g->v[i], w);
	if (!k)
		return w == LINKED ? existing(g, REG) : NULL;
	c = pick(&g->r, (unsigned)k);
	for (i = 0; i < g->n; i++)
		if (fits(&g->v[i], w) && c-- == 0)
			return g->v[i].path;
	return NULL;
}

/* A random path, mostly new: in an existing directory (or the top) under a short name. */
static void new_path(struct gen *g, char *buf, size_t cap)
{
	const char *dir = pick(&g->r, 3) ? existing(g, DIR_) : NULL;
	unsigned k = pick(&g->r, 4);

	if (dir && strlen(dir) > 200)
		dir = NULL;
	if (k == 0)
		snprintf(buf, cap, "%s%s%s", dir ? dir : "", dir ? "/" : "", names[pick(&g->r, 5)]);
	else
		snprintf(buf, cap, "%s%s%c%u", dir ? dir : "", dir ? "/" : "", "hlnx"[k - 1], pick(&g->r, 12));
}

/* A random path in the old style (names from a small set, depth 1-3): collisions on purpose. */
static void rand_path(struct rng *r, char *buf, size_t cap)
{
	unsigned depth = 1 + pick(r, 3), i;
	size_t len = 0;

	buf[0] = 0;
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "/" : "", names[pick(r, 5)]);
}

/*
 * Random bytes, or, for half of the buffers, random letters of a 4-letter alphabet (which zstd
 * compresses, so that a save file holds both ZDATA and DATA records); the same draws either way.
 */
static void fill(struct rng *r, char *buf, size_t n)
{
	size_t i;
	uint64_t v = next(r);
	int text = (int)(v >> 63);

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = next(r);
		buf[i] = (char)(v >> (8 * (i % 8)));
		if (text)
			buf[i] = (char)("acgt"[(unsigned char)buf[i] & 3]);
	}
}

/* Small files mostly: a run of hundreds of cases must stay fast. */
static size_t rand_len(struct rng *r)
{
	switch (pick(r, 16)) {
	case 0: case 1: return 0;
	case 2: return 65536 + pick(r, 100000);
	default: return pick(r, 3000);
	}
}

/* rm -r through the directory fd; never follows a symlink. */
static void remove_tree(int dfd, const char *p)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd;

	if (fstatat(dfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		(void)unlinkat(dfd, p, 0);
		return;
	}
	fd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_tree(fd, de->d_name);
	closedir(d);
	(void)unlinkat(dfd, p, AT_REMOVEDIR);
}

static void write_file(struct gen *g, const char *p, int flags, size_t n)
{
	int fd = openat(g->dfd, p, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | flags, 0644);

	if (fd < 0)
		return;
	fill(&g->r, g->big, n);
	if (write(fd, g->big, n) < 0) {}
	close(fd);
}

/* The operations, by weight; the lower build uses its own weights (deletions rare). */
enum kind {
	K_CREATE, K_APPEND, K_TRUNC, K_SPARSE, K_UNLINK, K_UNLINK_RAND, K_RMDIR, K_OPAQUE, K_MKDIR,
	K_RENAME, K_RENAME_LINKED, K_RENAME_OVER, K_SYMLINK, K_LINK, K_RELINK, K_UNLINK_LINKED,
	K_MKNOD, K_CHMOD, K_CHOWN, K_UTIME, K_SETX, K_RMX, K_OLD, K_MANY, NKIND
};
static const unsigned weight[NKIND] = {
	[K_CREATE] = 10, [K_APPEND] = 4, [K_TRUNC] = 2, [K_SPARSE] = 2, [K_UNLINK] = 7, [K_UNLINK_RAND] = 1,
	[K_RMDIR] = 2, [K_OPAQUE] = 3, [K_MKDIR] = 4, [K_RENAME] = 6, [K_RENAME_LINKED] = 3, [K_RENAME_OVER] = 2,
	[K_SYMLINK] = 3, [K_LINK] = 12, [K_RELINK] = 5, [K_UNLINK_LINKED] = 3, [K_MKNOD] = 4, [K_CHMOD] = 4,
	[K_CHOWN] = 3, [K_UTIME] = 3, [K_SETX] = 4, [K_RMX] = 1, [K_OLD] = 4, [K_MANY] = 1,
};
static const unsigned lower_weight[NKIND] = {
	[K_CREATE] = 20, [K_APPEND] = 2, [K_SPARSE] = 1, [K_UNLINK] = 1, [K_MKDIR] = 14, [K_RENAME] = 2,
	[K_SYMLINK] = 4, [K_LINK] = 4, [K_MKNOD] = 3, [K_CHMOD] = 2, [K_CHOWN] = 2, [K_UTIME] = 2,
	[K_SETX] = 4, [K_OLD] = 4,
};

static enum kind pick_kind(struct gen *g)
{
	const unsigned *w = g->lower ? lower_weight : weight;
	unsigned total = 0, c;
	int k;

	for (k = 0; k < NKIND; k++)
		total += w[k];
	c = pick(&g->r, total);
	for (k = 0; k < NKIND; k++) {
		if (c < w[k])
			return (enum kind)k;
		c -= w[k];
	}
	return K_CREATE;
}

static const char *const xnames[] = { "trusted.t0", "trusted.t1", "security.s0", "user.u0" };

static void op(struct gen *g)
{
	struct rng *r = &g->r;
	char p[256], q[256], full[4096];
	const char *e;
	struct timespec ts[2];

	relist(g);
	new_path(g, q, sizeof q);
	switch (pick_kind(g)) {
	case K_CREATE: /* a new file, or an existing one overwritten (a copy-up) */
		e = pick(r, 2) ? existing(g, REG) : NULL;
		write_file(g, e ? e : q, O_CREAT | O_TRUNC, rand_len(r));
		break;
	case K_APPEND:
		if ((e = existing(g, REG)))
			write_file(g, e, O_APPEND, pick(r, 2000));
		break;
	case K_TRUNC: /* sometimes larger: a hole */
		if ((e = existing(g, REG))) {
			int fd = openat(g->dfd, e, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
			if (fd >= 0) {
				if (ftruncate(fd, pick(r, 2) ? pick(r, 4000) : 100000 + pick(r, 300000)) < 0) {}
				close(fd);
			}
		}
		break;
	case K_SPARSE: { /* a write far out: a sparse file */
		int fd;
		e = existing(g, REG);
		fd = openat(g->dfd, e && pick(r, 2) ? e : q, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (fd >= 0) {
			size_t n = 1 + pick(r, 3000);
			fill(r, g->big, n);
			if (pwrite(fd, g->big, n, (off_t)pick(r, 400000)) < 0) {}
			close(fd);
		}
		break;
	}
	case K_UNLINK: /* of a lower entry: a whiteout */
		if ((e = existing(g, NONDIR)))
			(void)unlinkat(g->dfd, e, 0);
		break;
	case K_UNLINK_RAND:
		rand_path(r, p, sizeof p);
		(void)unlinkat(g->dfd, p, 0);
		break;
	case K_RMDIR:
		if ((e = existing(g, DIR_)))
			(void)unlinkat(g->dfd, e, AT_REMOVEDIR);
		break;
	case K_OPAQUE: /* rm -r, then the directory again: opaque over a lower directory */
		if ((e = existing(g, DIR_))) {
			snprintf(p, sizeof p, "%s", e);
			remove_tree(g->dfd, p);
			if (mkdirat(g->dfd, p, 0755) == 0 && pick(r, 2)) {
				snprintf(full, sizeof full, "%s/new", p);
				write_file(g, full, O_CREAT | O_EXCL, pick(r, 100));
			}
		}
		break;
	case K_MKDIR:
		(void)mkdirat(g->dfd, q, 0700 | pick(r, 0100));
		break;
	case K_RENAME: /* anything, directories too (lower ones: redirects when redirect_dir=on) */
		if ((e = existing(g, pick(r, 3) ? ANY : DIR_)))
			(void)renameat(g->dfd, e, g->dfd, q);
		break;
	case K_RENAME_LINKED:
		if ((e = existing(g, LINKED)))
			(void)renameat(g->dfd, e, g->dfd, q);
		break;
	case K_RENAME_OVER: { /* one existing entry over another */
		const char *a = existing(g, NONDIR), *b = existing(g, NONDIR);
		if (a && b) {
			snprintf(p, sizeof p, "%s", a);
			(void)renameat(g->dfd, p, g->dfd, b);
		}
		break;
	}
	case K_SYMLINK:
		snprintf(full, sizeof full, "../%s/t%u", q, pick(r, 100));
		e = existing(g, ANY);
		(void)symlinkat(pick(r, 2) && e ? e : full, g->dfd, q);
		break;
	case K_LINK: /* a new name for a regular file (a lower one: copy-up by ln), now and then for a
		      * symlink, fifo, socket or device node (they have links too) */
		if ((e = existing(g, pick(r, 8) ? REG : NONDIR)))
			(void)linkat(g->dfd, e, g->dfd, q, 0);
		break;
	case K_RELINK: /* one more name for a group */
		if ((e = existing(g, LINKED)))
			(void)linkat(g->dfd, e, g->dfd, q, 0);
		break;
	case K_UNLINK_LINKED:
		if ((e = existing(g, LINKED)))
			(void)unlinkat(g->dfd, e, 0);
		break;
	case K_MKNOD: {
		static const mode_t fmt[] = { S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK };
		mode_t m = fmt[pick(r, 4)];
		(void)mknodat(g->dfd, q, m | 0640,
			      m == S_IFCHR || m == S_IFBLK ? makedev(1 + pick(r, 8), pick(r, 9)) : 0);
		break;
	}
	case K_CHMOD: /* a metadata-only copy-up; on a link, every name sees it */
		e = existing(g, pick(r, 2) ? LINKED : pick(r, 8) ? NONDIR : ANY);
		if (e && pick(r, 20))
			(void)fchmodat(g->dfd, e, 0600 | pick(r, 010000), 0);
		else
			(void)fchmodat(g->dfd, ".", 0700 | pick(r, 0100), 0);
		break;
	case K_CHOWN:
		if ((e = existing(g, pick(r, 2) ? LINKED : ANY)))
			(void)fchownat(g->dfd, e, pick(r, 3), pick(r, 3), AT_SYMLINK_NOFOLLOW);
		break;
	case K_UTIME:
		e = existing(g, pick(r, 2) ? LINKED : ANY);
		ts[0].tv_sec = ts[1].tv_sec = 1000000000 + pick(r, 100000000);
		ts[0].tv_nsec = ts[1].tv_nsec = pick(r, 1000000000);
		(void)utimensat(g->dfd, e && pick(r, 20) ? e : ".", ts, AT_SYMLINK_NOFOLLOW);
		break;
	case K_SETX: {
		size_t n = pick(r, 40);
		if (!(e = existing(g, pick(r, 2) ? LINKED : ANY)))
			break;
		fill(r, g->big, n);
		snprintf(full, sizeof full, "%s/%s", g->root, e);
		(void)lsetxattr(full, xnames[pick(r, 4)], g->big, n, 0);
		break;
	}
	case K_RMX:
		if ((e = existing(g, ANY))) {
			snprintf(full, sizeof full, "%s/%s", g->root, e);
			(void)lremovexattr(full, xnames[pick(r, 4)]);
		}
		break;
	case K_OLD: /* the old generator's random paths: operations that mostly fail */
		rand_path(r, p, sizeof p);
		rand_path(r, q, sizeof q);
		if (pick(r, 2)) {
			struct stat st;	/* persist groups regular files only: link nothing else */
			if (fstatat(g->dfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
				(void)linkat(g->dfd, p, g->dfd, q, 0);
		}
		else if (pick(r, 2))
			(void)renameat(g->dfd, p, g->dfd, q);
		else
			(void)mkdirat(g->dfd, p, 0755);
		break;
	case K_MANY: { /* a directory of many small files, some the same as the one before (persist's PACKs) */
		size_t n = 20 + pick(r, 100), len = 0;
		if (mkdirat(g->dfd, q, 0755) < 0)
			break;
		for (size_t i = 0; i < n; i++) {
			int fd;
			snprintf(full, sizeof full, "%s/m%zu", q, i);
			fd = openat(g->dfd, full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600 | pick(r, 0100));
			if (fd < 0)
				continue;
			if (!len || pick(r, 4))
				fill(r, g->big, len = pick(r, 2000));
			if (write(fd, g->big, len) < 0) {}
			close(fd);
		}
		break;
	}
	case NKIND:
		break;
	}
}

int main(int argc, char **argv)
{
	static struct gen g;
	long i, n;

	if (argc < 4) {
		fprintf(stderr, "usage: opgen DIR SEED COUNT [lower]\n");
		return 100;
	}
	g.r.s = strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
	n = atol(argv[3]);
	g.lower = argc > 4;
	g.root = argv[1];
	g.v = malloc(MAXENT * sizeof *g.v);
	g.dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (!g.v || g.dfd < 0) {
		fprintf(stderr, "opgen: unable to open %s: %s\n", argv[1], strerror(errno));
		return 111;
	}
	for (i = 0; i < n; i++)
		op(&g);
	return 0;
}
