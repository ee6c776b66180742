/* export.c: a replayed generation as a layer tar through tarw: OCI form (.wh. whiteouts), or overlay form for sqfstar. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "export.h"

#define WH ".wh."
#define OPQ ".wh..wh..opq"

static const char tar_type[PT_TYPES] = {
	[PT_FILE] = TAR_FILE, [PT_DIR] = TAR_DIR, [PT_SYMLINK] = TAR_SYMLINK, [PT_CHR] = TAR_CHR,
	[PT_BLK] = TAR_BLK, [PT_FIFO] = TAR_FIFO,
};

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/*
 * What of an entry's xattrs goes into the layer: what persist keeps (metatable.c) outside
 * trusted.overlay.*, which describes this upper's relation to its lower, not the file. Opaque
 * becomes the OCI layer's opaque marker, or stays as it is in overlay form; a redirect, a metacopy or anything else of overlay's own
 * that the save holds cannot be said in a layer: refused.
 */
struct xnames {			/* NUL-terminated copies of the kept names */
	char name[PF_XATTR_COUNT_MAX][PF_NAME_MAX + 1];
};

static int xattrs_of(struct export *x, const struct pentry *e, struct tar_xattr *out, uint32_t *n)
{
	struct xnames *xn = x->xn;
	struct perr *err = &x->err;
	static const char ovl[] = "trusted.overlay.";
	uint32_t off = 0, i;

	*n = 0;
	for (i = 0; i < e->nxattr; i++) {
		uint16_t nl = get_le16(e->xattrs + off);
		uint32_t vl = get_le32(e->xattrs + off + 4);
		char *nbuf = xn->name[*n];
		enum xact a;

		memcpy(nbuf, e->xattrs + off + 8, nl);
		nbuf[nl] = 0;
		off += 8 + nl + vl;
		a = xattr_action(nbuf);
		if (a == XA_DROP || (a == XA_OPAQUE && !x->overlay))
			continue;
		if (!strcmp(nbuf, "trusted.overlay.redirect"))
			return perr_set(err, -EINVAL, "%s is a renamed lower directory (trusted.overlay.redirect): a "
					"layer cannot say that its contents come from another lower path; copy it "
					"instead of renaming it (cp -a, then remove the old name), save, and export again",
					e->path);
		if ((a != XA_KEEP && a != XA_OPAQUE) || (a == XA_KEEP && !strncmp(nbuf, ovl, sizeof ovl - 1)))
			return perr_set(err, -EINVAL, "%s has %s, which only this upper's overlay understands: a "
					"layer cannot carry it; export refuses what it cannot say", e->path, nbuf);
		out[*n].name = nbuf;
		out[*n].value = e->xattrs + off - vl;
		out[*n].vlen = vl;
		(*n)++;
	}
	return 0;
}

static int put_chunk(void *ctx, uint64_t off, const void *p, size_t n)
{
	struct export *x = ctx;
	int r;

	if (off < x->pos)
		return perr_set(&x->err, -EINVAL, "data records out of order");
	r = tarw_zeros(&x->t, off - x->pos);	/* a hole: zeros (no sparse entries in a layer) */
	if (!r)
		r = tarw_data(&x->t, p, n);
	x->pos = off + n;
	return r;
}

/* One tar entry; data from d (a regular file's, maybe another member of its group), or none. */
static int put(struct export *x, struct pfile *pf, const struct pentry *e, const char *path, char type,
	       const char *link, const struct pentry *d)
{
	struct tar_xattr xa[PF_XATTR_COUNT_MAX];
	struct tar_ent t = {
		.path = path, .link = link, .type = type, .mode = e->mode & 07777, .uid = e->uid, .gid = e->gid,
		.mtime_sec = e->mtime_sec, .mtime_nsec = e->mtime_nsec, .size = d ? d->size : 0, .xattr = xa,
	};
	int r;

	if (type == TAR_CHR || type == TAR_BLK) {
		t.devmajor = major((dev_t)e->rdev);
		t.devminor = minor((dev_t)e->rdev);
	}
	if (type != TAR_LINK && e->type != PT_WHITEOUT) {
		r = xattrs_of(x, e, xa, &t.nxattr);
		if (r)
			return r;
	}
	r = tarw_entry(&x->t, &t);
	if (r)
		return r;
	if (d) {
		x->pos = 0;
		r = pf_entry_data(pf, d, put_chunk, x);
		if (r == -EINVAL || r == -EBADMSG)
			return x->err.msg[0] ? r : perr_set(&x->err, r, "%s: %s", d->path, pf->err.msg);
		if (r)
			return r;
		r = tarw_zeros(&x->t, d->size - x->pos);
		x->bytes += d->size;
		if (x->pr)
			progress_bytes(x->pr, d->size);
	}
	if (x->pr)
		progress_entry(x->pr);
	x->entries++;
	return r ? r : tarw_pad(&x->t);
}

/* A whiteout or opaque marker p: an empty regular file, mode 0, owned by root, e's mtime. */
static int marker(struct export *x, const struct pentry *e, const char *p)
{
	return put(x, NULL, &(struct pentry){ .path = (char *)p, .type = PT_WHITEOUT, .mtime_sec = e->mtime_sec,
					      .mtime_nsec = e->mtime_nsec }, p, TAR_FILE, NULL, NULL);
}

/* A whiteout for path: the empty regular file DIR/.wh.NAME. */
static int whiteout(struct export *x, const struct pentry *e)
{
	const char *b = base_of(e->path);
	char p[PF_PATH_MAX + 8];

	x->whiteouts++;
	if (x->overlay)		/* overlayfs's own: a character device 0/0 */
		return put(x, NULL, e, e->path, TAR_CHR, NULL, NULL);
	snprintf(p, sizeof p, "%.*s" WH "%s", (int)(b - e->path), e->path, b);
	return marker(x, e, p);
}

static int opaque_marker(struct export *x, const struct pentry *e)
{
	char p[PF_PATH_MAX + 16];

	x->opaque++;
	if (x->overlay)		/* its xattr is the marker (xattrs_of) */
		return 0;
	if (strcmp(e->path, "."))
		snprintf(p, sizeof p, "%s/" OPQ, e->path);
	else
		snprintf(p, sizeof p, OPQ);
	return marker(x, e, p);
}

/* The first member (path order) of each hardlink group, and the member that holds its data. */
static int index_groups(struct export *x, struct pentry **v, size_t n)
{
	size_t i;
	int r;

	if ((r = u64map_init(&x->first, 64)) || (r = u64map_init(&x->data, 64)))
		return r;
	for (i = 0; i < n; i++) {
		int created;
		size_t *f;
		if (!v[i]->group)
			continue;
		if (!(f = u64map_at(&x->first, v[i]->group, &created)))
			return -ENOMEM;
		if (created)
			*f = i;
		if (v[i]->type == PT_FILE && (v[i]->flags & (EF_DATA | EF_KEEP))) {
			if (!(f = u64map_at(&x->data, v[i]->group, &created)))
				return -ENOMEM;
			*f = i;
		}
	}
	return 0;
}

/*
 * The state st (replayed from pf) as an OCI layer into x->t, in path order: parents before
 * children, an opaque directory's marker right after the directory (before its entries), a
 * hardlink group's first path a regular entry and the others tar hardlinks to it. Checks every
 * entry first (what cannot be said refuses the export before a byte is written).
 */
int export_oci(struct export *x, struct pfile *pf, const struct pstate *st)
{
	struct pentry **v = NULL;
	struct tar_xattr xa[PF_XATTR_COUNT_MAX];
	uint32_t nx;
	int n, i, pass, r = 0;

	x->xn = malloc(sizeof *x->xn);
	n = state_sorted(st, &v);
	if (n < 0 || !x->xn) {
		r = n < 0 ? n : -ENOMEM;
		goto out;
	}
	if ((r = index_groups(x, v, (size_t)n)))
		goto out;
	for (pass = 0; pass < 2 && !r; pass++) {
		for (i = 0; i < n && !r; i++) {
			const struct pentry *e = v[i];
			const size_t *f = e->group ? u64map_get(&x->first, e->group) : NULL;
			const size_t *d = e->group ? u64map_get(&x->data, e->group) : NULL;
			if (pass == 0) {
				if (x->overlay && (e->mtime_sec < 0 || e->mtime_sec > UINT32_MAX))
					r = perr_set(&x->err, -EINVAL, "%s: its mtime is not in squashfs's 1970-2106: "
						     "touch it, save, and export again", e->path);
				else if (!x->overlay && !strncmp(base_of(e->path), WH, sizeof WH - 1))
					r = perr_set(&x->err, -EINVAL, "%s: a name that begins with " WH " means a whiteout "
						     "in an OCI layer; rename it, save, and export again", e->path);
				else if (e->type != PT_WHITEOUT)
					r = xattrs_of(x, e, xa, &nx);
				if (!r && x->overlay && !strcmp(e->path, ".") && nx)
					r = perr_set(&x->err, -EINVAL, "sqfstar cannot give the root its xattr %s: remove "
						     "it, save, and export again", xa[0].name);
				if (!r && e->type == PT_FILE && e->group && !d)
					r = perr_set(&x->err, -EINVAL, "%s: hardlink group without data", e->path);
				continue;
			}
			if (e->type == PT_WHITEOUT) {
				r = whiteout(x, e);
			} else if (e->type == PT_SOCK) {
				/* tar has no sockets: hide what the lower has there, as the socket did */
				if (!x->sockets++)
					snprintf(x->socket1, sizeof x->socket1, "%s", e->path);
				r = whiteout(x, e);
			} else if (f && *f != (size_t)i) {
				r = put(x, pf, e, e->path, TAR_LINK, v[*f]->path, NULL);
				x->links++;
			} else if (e->type == PT_DIR && x->overlay && !strcmp(e->path, ".")) {
				continue;	/* the caller gives sqfstar the root's attributes */
			} else if (e->type == PT_DIR) {
				char p[PF_PATH_MAX + 2];
				snprintf(p, sizeof p, "%s/", e->path);	/* the root is "./" */
				r = put(x, pf, e, p, TAR_DIR, NULL, NULL);
				if (!r && is_opaque(e))
					r = opaque_marker(x, e);
			} else {
				r = put(x, pf, e, e->path, tar_type[e->type], e->target,
					e->type == PT_FILE ? (d ? v[*d] : e) : NULL);
			}
		}
	}
	if (!r)
		r = tarw_end(&x->t);
out:
	free(v);
	return r;
}

void export_free(struct export *x)
{
	u64map_free(&x->first);
	u64map_free(&x->data);
	tarw_free(&x->t);
	free(x->xn);
	x->xn = NULL;
}
