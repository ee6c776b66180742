/* scan.c: walks the upper directory into a sorted list of entries (metadata only, no data). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "persist.h"
#include "vec.h"

struct xa {
	char *name;
	unsigned char *val;
	uint32_t vlen;
};

static int xa_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xa *)a)->name, ((const struct xa *)b)->name);
}

static void abs_path(char *buf, size_t cap, const char *upper, const char *rel)
{
	if (strcmp(rel, ".") == 0)
		snprintf(buf, cap, "%s", upper);
	else
		snprintf(buf, cap, "%s/%s", upper, rel);
}

/* Reads, classifies (metatable.c) and encodes the xattrs of one entry. */
static int read_xattrs(const char *abs, struct pentry *e, struct perr *err)
{
	char *names = NULL, *n;
	struct xa v[PF_XATTR_COUNT_MAX];
	uint32_t nv = 0, total = 0, i;
	ssize_t len = llistxattr(abs, NULL, 0), got;
	int r = 0, whiteout = 0;

	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	if (len == 0)
		return 0;
	names = malloc((size_t)len + 1);
	if (!names)
		return -ENOMEM;
	len = llistxattr(abs, names, (size_t)len);
	if (len < 0) {
		r = -errno;
		goto out;
	}
	for (n = names; n < names + len; n += strlen(n) + 1) {
		enum xact a = xattr_action(n);
		if (a == XA_DROP)
			continue;
		if (a == XA_REFUSE) {
			r = perr_set(err, -ENOTSUP, "%s has %s, which persist does not know how to keep", abs, n);
			goto out;
		}
		if (a == XA_WHITEOUT) {
			whiteout = 1;
			continue;
		}
		if (nv == PF_XATTR_COUNT_MAX) {
			r = perr_set(err, -E2BIG, "%s has more than %d xattrs", abs, PF_XATTR_COUNT_MAX);
			goto out;
		}
		got = lgetxattr(abs, n, NULL, 0);
		if (got < 0 || got > PF_XATTR_BYTES_MAX) {
			r = got < 0 ? -errno : -E2BIG;
			goto out;
		}
		v[nv].name = n;
		v[nv].val = malloc((size_t)got + 1);
		if (!v[nv].val) {
			r = -ENOMEM;
			goto out;
		}
		got = lgetxattr(abs, n, v[nv].val, (size_t)got);
		if (got < 0) {
			r = -errno;
			free(v[nv].val);
			goto out;
		}
		v[nv].vlen = (uint32_t)got;
		nv++;
		/* The kernel reads only exactly "y" as opaque; anything else is not opaque: drop it. */
		if (a == XA_OPAQUE && !(got == 1 && v[nv - 1].val[0] == 'y'))
			free(v[--nv].val);
	}
	if (whiteout && e->type == PT_FILE && e->size == 0) {
		/* An xattr-style whiteout (kernels >= 6.7): converted to the char 0/0 form. */
		e->type = PT_WHITEOUT;
		e->rdev = 0;
		goto out;
	}
	qsort(v, nv, sizeof v[0], xa_cmp);
	for (i = 0; i < nv; i++)
		total += 8 + (uint32_t)strlen(v[i].name) + v[i].vlen;
	if (total > PF_XATTR_BYTES_MAX) {
		r = perr_set(err, -E2BIG, "%s has more than %d bytes of xattrs", abs, PF_XATTR_BYTES_MAX);
		goto out;
	}
	if (total) {
		unsigned char *p = e->xattrs = malloc(total);
		if (!p) {
			r = -ENOMEM;
			goto out;
		}
		for (i = 0; i < nv; i++) {
			uint16_t nl = (uint16_t)strlen(v[i].name);
			put_le16(p, nl);
			put_le16(p + 2, 0);
			put_le32(p + 4, v[i].vlen);
			memcpy(p + 8, v[i].name, nl);
			memcpy(p + 8 + nl, v[i].val, v[i].vlen);
			p += 8 + nl + v[i].vlen;
		}
		e->nxattr = nv;
		e->xattr_len = total;
	}
out:
	for (i = 0; i < nv; i++)
		free(v[i].val);
	free(names);
	return r;
}

/*
 * Fills e from st, the lstat of one entry of the upper at path (e takes it over, even on failure),
 * and for a symlink its target, read at name under the directory dfd. No xattrs yet. -ENOENT when
 * it vanished.
 */
static int fill_entry(int dfd, const char *name, const struct stat *st, char *path, struct pentry *e)
{
	char tgt[PF_TARGET_MAX + 2];
	ssize_t n;

	memset(e, 0, sizeof *e);
	e->data_off = -1;
	e->path = path;
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: e->type = PT_FILE; e->size = (uint64_t)st->st_size; break;
	case S_IFDIR: e->type = PT_DIR; break;
	case S_IFLNK: e->type = PT_SYMLINK; break;
	case S_IFCHR: e->type = st->st_rdev == makedev(0, 0) ? PT_WHITEOUT : PT_CHR; break;
	case S_IFBLK: e->type = PT_BLK; break;
	case S_IFIFO: e->type = PT_FIFO; break;
	case S_IFSOCK: e->type = PT_SOCK; break;
	default: entry_free(e); return -EINVAL;
	}
	if (e->type == PT_CHR || e->type == PT_BLK)
		e->rdev = (uint64_t)st->st_rdev;
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime_sec = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e->ctime_sec = st->st_ctim.tv_sec;
	e->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	e->ino = st->st_ino;
	e->nlink = st->st_nlink;
	if (!e->path)
		return -ENOMEM;
	if (e->type == PT_SYMLINK) {
		n = readlinkat(dfd, name, tgt, sizeof tgt);
		if (n < 0 || n > PF_TARGET_MAX || n == 0) {
			int r = n < 0 ? -errno : -ENAMETOOLONG;
			entry_free(e);
			return r;
		}
		e->target = strndup(tgt, (size_t)n);
		if (!e->target) {
			entry_free(e);
			return -ENOMEM;
		}
		e->size = (uint64_t)n;
	}
	return 0;
}

/* Fills e from one path of the upper: stat, symlink target, xattrs. -ENOENT when it vanished. */
int scan_path(const char *upper, const char *rel, struct pentry *e, struct perr *err)
{
	char abs[8192];
	struct stat st;
	int r;

	memset(e, 0, sizeof *e);
	abs_path(abs, sizeof abs, upper, rel);
	if (lstat(abs, &st) < 0)
		return -errno;
	if ((r = fill_entry(AT_FDCWD, abs, &st, strdup(rel), e)))
		return r;
	if ((r = read_xattrs(abs, e, err)))
		entry_free(e);
	return r;
}

static int sc_push(struct scan *sc, struct pentry *e)
{
	int r = vec_reserve((void **)&sc->v, &sc->cap, sc->n, sizeof *sc->v, 256);

	if (r)
		return r;
	if (sc->n >= PF_ENTRIES_MAX)
		return -E2BIG;
	sc->v[sc->n++] = *e;
	return 0;
}

/*
 * Sorts the n names of v in strcmp order, tmp holding as many: a merge sort, bottom up (musl's
 * qsort, a smoothsort, took a fifth of a one-file save's scan; a directory's names are distinct,
 * so any sort gives the same order).
 */
static void sort_names(char **v, char **tmp, size_t n)
{
	size_t w, lo;

	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			size_t mid = n - lo > w ? lo + w : n, hi = n - lo > 2 * w ? lo + 2 * w : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi)
				tmp[k++] = strcmp(v[b], v[a]) < 0 ? v[b++] : v[a++];
			while (a < mid)
				tmp[k++] = v[a++];
			while (b < hi)
				tmp[k++] = v[b++];
		}
		memcpy(v, tmp, n * sizeof *v);
	}
}

/* room for index n of a growable array (vec_reserve doubles once a call) */
static int room(void **v, size_t *cap, size_t n, size_t elem)
{
	int r = 0;

	while (!r && n >= *cap)
		r = vec_reserve(v, cap, *cap, elem, 64);
	return r;
}

/*
 * The children of the directory at rel, stat'ed by name under its open descriptor (a lookup of
 * one name, not of the whole path: most of a scan's time was walking the paths): lv->kids[0 ..
 * *nkids), sorted by name, each with its path and stat (type 0: vanished since the listing), no
 * xattrs yet. lv is the scratch of this depth, kept from one directory to the next (no
 * allocation and release of the lists for every directory).
 */
static int list_dir(const char *upper, const char *rel, struct scan_lvl *lv, size_t *nkids, struct perr *err)
{
	size_t nn = 0, len = 0, i, inited = 0, rl = strcmp(rel, ".") == 0 ? 0 : strlen(rel) + 1;
	char abs[8192], dbuf[16384];
	long got;
	int fd, r = 0;

	*nkids = 0;
	abs_path(abs, sizeof abs, upper, rel);
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : perr_set(err, -errno, "%.500s", abs);
	/*
	 * The names, one after the other in lv->names (offsets in lv->off: the buffer may move),
	 * read with getdents64 into a buffer on the stack: readdir's DIR is allocated and freed
	 * with every directory, which musl's allocator turns into an mmap and a munmap each.
	 */
	while (!r && (got = syscall(SYS_getdents64, fd, dbuf, sizeof dbuf)) > 0) {
		for (long at = 0; at < got && !r;) {
			const struct dirent64_raw { uint64_t ino; int64_t off; unsigned short reclen;
						    unsigned char type; char name[]; } *de = (const void *)(dbuf + at);
			size_t n = strlen(de->name) + 1;
			at += de->reclen;
			if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0)
				continue;
			if ((r = room((void **)&lv->off, &lv->offcap, nn, sizeof *lv->off)) ||
			    (r = room((void **)&lv->names, &lv->namecap, len + n, 1)))
				break;
			memcpy(lv->names + len, de->name, n);
			lv->off[nn++] = len;
			len += n;
		}
	}
	if (!r && got < 0)
		r = perr_set(err, -errno, "%.500s", abs);
	if (!r && nn)
		r = room((void **)&lv->sorted, &lv->sortcap, 2 * nn, sizeof *lv->sorted);	/* and sort_names' tmp */
	if (!r && nn)
		r = room((void **)&lv->kids, &lv->kidcap, nn, sizeof *lv->kids);
	if (!r && nn) {
		for (i = 0; i < nn; i++)
			lv->sorted[i] = lv->names + lv->off[i];
		sort_names(lv->sorted, lv->sorted + nn, nn);
		memset(lv->kids, 0, nn * sizeof *lv->kids);
		inited = nn;	/* (what the level held before are copies now owned by the scan) */
	}
	for (i = 0; i < nn && !r; i++) {
		const char *name = lv->sorted[i];
		struct pentry *k = &lv->kids[i];
		size_t nl = strlen(name);
		char *path = malloc(rl + nl + 1);
		struct stat st;
		if (!path) {
			r = -ENOMEM;
			break;
		}
		if (rl) {
			memcpy(path, rel, rl - 1);
			path[rl - 1] = '/';
		}
		memcpy(path + rl, name, nl + 1);
		/* rel is a checked path, and a name from getdents64 has no '/' or NUL and is not . or ..:
		 * the name and the length are what path_check of the whole path would find wrong */
		if (rl + nl > PF_PATH_MAX || path_check(name, nl)) {
			r = perr_set(err, -ENAMETOOLONG, "%s/%s: path too long to save", upper, path);
			free(path);
			break;
		}
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			free(path);
		} else {
			r = fill_entry(fd, name, &st, path, k);
		}
		if (r == -ENOENT) {
			memset(k, 0, sizeof *k);	/* vanished during the scan: as if deleted */
			r = 0;
		} else if (r && !err->msg[0]) {
			perr_set(err, r, "%s/%.*s", upper, (int)nl, name);
		}
	}
	close(fd);
	if (r) {
		for (i = 0; i < inited; i++)
			entry_free(&lv->kids[i]);
		return r;
	}
	*nkids = nn;
	return 0;
}

const struct pentry *scan_cat(const struct pstate *st, struct pentry *e)
{
	if (!st)
		return NULL;
	if (!e->cat_known) {
		e->cat = state_get(st, e->path);
		e->cat_known = 1;
	}
	return e->cat;
}

/*
 * An entry with the inode and ctime of its catalogue entry has its xattrs (ctime changes with
 * them), unless that entry has EF_RECENT: then they are read. 1 when e has them from the
 * catalogue (an xattr whiteout's type included), 0 when they must be read.
 */
static int xattrs_kept(const struct pstate *st, struct pentry *e)
{
	const struct pentry *w = scan_cat(st, e);

	if (!w || (w->flags & EF_RECENT) || w->ino != e->ino || w->ctime_sec != e->ctime_sec ||
	    w->ctime_nsec != e->ctime_nsec)
		return 0;
	if (w->type == PT_WHITEOUT && e->type == PT_FILE && e->size == 0) {
		e->type = PT_WHITEOUT;	/* the xattr form, as read_xattrs converts it */
		e->rdev = 0;
		return 1;
	}
	if (w->type != e->type)
		return 0;
	if (w->xattr_len) {
		if (!(e->xattrs = malloc(w->xattr_len)))
			return 0;
		memcpy(e->xattrs, w->xattrs, w->xattr_len);
		e->nxattr = w->nxattr;
		e->xattr_len = w->xattr_len;
	}
	return 1;
}

/* e's xattrs, from the catalogue or read (its path's buffer on this frame, not the walk's) */
static int entry_xattrs(const char *upper, struct scan *sc, struct pentry *e)
{
	char abs[8192];
	int r;

	if (xattrs_kept(sc->was, e))
		return 0;
	abs_path(abs, sizeof abs, upper, e->path);
	r = read_xattrs(abs, e, &sc->err);
	if (r && r != -ENOENT && !sc->err.msg[0])
		perr_set(&sc->err, r, "%s", abs);
	return r;
}

/*
 * Visits the scanned entry e at e->path (stat and target known) and, for a directory, its
 * children; pv is what the patterns said of its parent (patterns_step).
 */
static int walk(const char *upper, struct pentry *e, const struct patterns *pat, unsigned pv, struct scan *sc,
		int depth)
{
	size_t idx = sc->n, nk = 0, i;
	struct scan_lvl *lv;
	int root = strcmp(e->path, ".") == 0, r;
	unsigned v = root ? 0 : patterns_step(pat, e->path, pv);
	int wanted = root || patterns_wanted(pat, v);

	if (depth > 2048) {
		entry_free(e);
		return -ELOOP;
	}
	r = entry_xattrs(upper, sc, e);
	if (r == -ENOENT) {
		entry_free(e);
		return 0;	/* vanished during the scan: as if deleted */
	}
	if (r) {
		entry_free(e);
		return r;
	}
	if ((r = sc_push(sc, e))) {
		entry_free(e);
		return r;
	}
	if (sc->v[idx].type != PT_DIR)
		goto done;
	if ((size_t)depth >= sc->nlvl) {
		if ((r = vec_reserve((void **)&sc->lvl, &sc->lvlcap, (size_t)depth + 1, sizeof *sc->lvl, 16)))
			return r;
		memset(sc->lvl + sc->nlvl, 0, ((size_t)depth + 1 - sc->nlvl) * sizeof *sc->lvl);
		sc->nlvl = (size_t)depth + 1;
	}
	lv = &sc->lvl[depth];
	if ((r = list_dir(upper, sc->v[idx].path, lv, &nk, &sc->err)))
		return r;
	for (i = 0; i < nk; i++) {
		struct pentry k = sc->lvl[depth].kids[i];	/* (the levels may move as they grow) */
		if (!k.type)
			continue;
		if (!r)
			r = walk(upper, &k, pat, v, sc, depth + 1);
		else
			entry_free(&k);
	}
	if (r)
		return r;
done:
	/* Not wanted and nothing wanted below: drop it (ancestors of wanted entries stay). */
	if (!wanted && sc->n == idx + 1) {
		entry_free(&sc->v[idx]);
		sc->n--;
	}
	return 0;
}

/* A file, symlink, fifo, socket or device node with other links (whiteouts share one inode, but
 * that is overlay's way of making them, not a link of the user's: never grouped). */
static int groupable(const struct pentry *e)
{
	return e->nlink > 1 && e->type != PT_DIR && e->type != PT_WHITEOUT;
}

/*
 * Hardlinks: one group per inode met under two or more scanned paths, found with a hash by inode
 * (linear in the scan). A member gets group = its inode number (nonzero) and sgroup = 1 + the
 * group's index.
 */
static int find_groups(struct scan *sc)
{
	struct u64map byino;
	size_t i, cand = 0;
	int r;

	for (i = 0; i < sc->n; i++)
		cand += groupable(&sc->v[i]);
	if (!cand)
		return 0;
	sc->groups = calloc(cand, sizeof *sc->groups);
	if (!sc->groups)
		return -ENOMEM;
	r = u64map_init(&byino, cand);
	if (r)
		return r;
	for (i = 0; i < sc->n; i++) {
		struct pentry *e = &sc->v[i];
		size_t *g;
		int created;
		if (!groupable(e))
			continue;
		g = u64map_at(&byino, e->ino, &created);
		if (!g) {
			u64map_free(&byino);
			return -ENOMEM;
		}
		if (created) {
			*g = ++sc->ngroups;
			sc->groups[*g - 1].ino = e->ino;
			sc->groups[*g - 1].lead = i;
		}
		sc->groups[*g - 1].n++;
		e->sgroup = *g;
	}
	u64map_free(&byino);
	/* each group's members, in scan order, one run of sc->members a group */
	sc->members = malloc(cand * sizeof *sc->members);
	if (!sc->members)
		return -ENOMEM;
	for (i = 0, cand = 0; i < sc->ngroups; i++) {
		sc->groups[i].member = sc->members + cand;
		cand += sc->groups[i].n;
		sc->groups[i].n = 0;
	}
	for (i = 0; i < sc->n; i++) {
		struct pentry *e = &sc->v[i];
		struct sgroup *g = e->sgroup ? &sc->groups[e->sgroup - 1] : NULL;
		if (g)
			g->member[g->n++] = i;
	}
	for (i = 0; i < sc->n; i++) {
		struct pentry *e = &sc->v[i];
		if (!e->sgroup)
			continue;
		if (sc->groups[e->sgroup - 1].n < 2)
			e->sgroup = 0;	/* its other links are outside the scan: a plain file here */
		else
			e->group = e->ino ? e->ino : 1;
	}
	return 0;
}

/* Scans the whole upper, then finds its hardlink groups. */
int scan_upper(const char *upper, const struct patterns *pat, const struct pstate *was, struct scan *sc)
{
	int r;

	char abs[8192];
	struct pentry root;
	struct stat st;

	memset(sc, 0, sizeof *sc);
	sc->was = was;
	abs_path(abs, sizeof abs, upper, ".");
	if (lstat(abs, &st) < 0)
		return -errno;	/* never an empty scan: a save of it would delete every saved path */
	if ((r = fill_entry(AT_FDCWD, abs, &st, strdup("."), &root)))
		return r;
	r = walk(upper, &root, pat, 0, sc, 0);
	return r ? r : find_groups(sc);
}

/* Is path among the scanned entries? (sorted lookup, built on first use) */
int scan_has(struct scan *sc, const char *path)
{
	struct pentry key = { 0 }, *kp = &key, **hit;
	size_t i;

	if (!sc->sorted) {
		sc->sorted = malloc((sc->n + 1) * sizeof *sc->sorted);
		if (!sc->sorted)
			return 1;	/* out of memory: claim present, so nothing is deleted by mistake */
		for (i = 0; i < sc->n; i++)
			sc->sorted[i] = &sc->v[i];
		qsort(sc->sorted, sc->n, sizeof *sc->sorted, path_cmp);
	}
	key.path = (char *)path;
	hit = bsearch(&kp, sc->sorted, sc->n, sizeof *sc->sorted, path_cmp);
	return hit != NULL && (*hit)->type != 0;	/* type 0: vanished during the save */
}

void scan_free(struct scan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		entry_free(&sc->v[i]);
	free(sc->v);
	free(sc->sorted);
	free(sc->groups);
	free(sc->members);
	for (i = 0; i < sc->nlvl; i++) {
		free(sc->lvl[i].names);
		free(sc->lvl[i].off);
		free(sc->lvl[i].sorted);
		free(sc->lvl[i].kids);
	}
	free(sc->lvl);
	memset(sc, 0, sizeof *sc);
}
