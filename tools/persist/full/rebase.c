/*
 * rebase.c: a save carried from the image it was made over (OLD) onto another (NEW), path by
 * path (docs/persist-format.md, "Rebase"): what only repeats OLD goes, so that NEW shows; what
 * both the user and the update changed is a conflict, the user's kept. Written by the save writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "io.h"
#include "rebase.h"

static const char *const act_names[RB_ACTS] = {
	[RB_KEEP] = "kept", [RB_DROP] = "dropped", [RB_NEWDATA] = "new-content",
	[RB_DROP_WHITEOUT] = "dropped-whiteout", [RB_DROP_OPAQUE] = "dropped-opaque", [RB_CONFLICT] = "conflict",
};

const char *rb_act_name(enum rb_act a)
{
	return act_names[a];
}

/* PATH in a mounted image: 1 and e filled, 0 when the image has no such path, or -errno. */
static int tree_entry(const char *dir, const char *path, struct pentry *e, struct perr *err)
{
	int r = scan_path(dir, path, e, err);

	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	return r ? r : 1;
}

/* Mode, owner and xattrs (and mtime when with_mtime) the same? */
static int same_meta(const struct pentry *a, const struct pentry *b, int with_mtime)
{
	if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid || a->nxattr != b->nxattr ||
	    a->xattr_len != b->xattr_len || (a->xattr_len && memcmp(a->xattrs, b->xattrs, a->xattr_len)))
		return 0;
	return !with_mtime || (a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec);
}

/* Type, symlink target, rdev and size the same (what a file's bytes are compared after)? */
static int same_shape(const struct pentry *a, const struct pentry *b)
{
	if (a->type != b->type || a->rdev != b->rdev || a->size != b->size)
		return 0;
	return (a->target == NULL) == (b->target == NULL) && (!a->target || !strcmp(a->target, b->target));
}

static int open_in(const char *dir, const char *path)
{
	char abs[8192];

	snprintf(abs, sizeof abs, "%s/%s", dir, path);
	return open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Bytes [from, to) of fd are zeros (1), or not (0), or -errno. */
static int zeros(int fd, uint64_t from, uint64_t to, unsigned char *buf)
{
	while (from < to) {
		size_t n = to - from < PF_DATA_CHUNK ? (size_t)(to - from) : PF_DATA_CHUNK, got, i;
		int r = pread_all(fd, buf, n, (off_t)from, &got);
		if (r)
			return r;
		if (got != n)
			return 0;
		for (i = 0; i < n; i++)
			if (buf[i])
				return 0;
		from += n;
	}
	return 1;
}

struct cmp_ctx {
	int fd;
	uint64_t pos;           /* the end of the last chunk compared */
	unsigned char *buf;
	int differ;
};

/* One saved chunk against the image's file: the hole before it must be zeros there, the bytes the same. */
static int cmp_fn(void *ctx, uint64_t off, const void *p, size_t n)
{
	struct cmp_ctx *c = ctx;
	size_t got;
	int r = zeros(c->fd, c->pos, off, c->buf);

	if (r <= 0) {
		c->differ = 1;
		return r < 0 ? r : -ECANCELED;
	}
	r = pread_all(c->fd, c->buf, n, (off_t)off, &got);
	if (r)
		return r;
	if (got != n || memcmp(c->buf, p, n)) {
		c->differ = 1;
		return -ECANCELED;
	}
	c->pos = off + n;
	return 0;
}

/* The saved file e has exactly the bytes of PATH in dir (whose entry is t, same shape)? 1, 0, -errno. */
static int saved_same_bytes(struct rebase *rb, const struct pentry *e, const char *dir, unsigned char *buf)
{
	struct cmp_ctx c = { open_in(dir, e->path), 0, buf, 0 };
	int r;

	if (c.fd < 0)
		return -errno;
	r = pf_entry_data(&rb->pf, e, cmp_fn, &c);
	if (r == -ECANCELED && c.differ)
		r = 0;
	else if (r == 0)
		r = zeros(c.fd, c.pos, e->size, buf);
	else
		perr_set(&rb->err, r, "%s: %s", e->path, perr_why(&rb->pf.err, r));
	close(c.fd);
	return r;
}

/* PATH's bytes the same in both images (entries a and b, same shape)? 1, 0, -errno. */
static int trees_same_bytes(const char *da, const char *db, const char *path, uint64_t size, unsigned char *buf)
{
	int fa = open_in(da, path), fb = open_in(db, path), r = 1;
	unsigned char *other = malloc(PF_DATA_CHUNK);
	uint64_t pos;

	if (fa < 0 || fb < 0 || !other)
		r = !other ? -ENOMEM : -errno;
	for (pos = 0; r == 1 && pos < size;) {
		size_t n = size - pos < PF_DATA_CHUNK ? (size_t)(size - pos) : PF_DATA_CHUNK, ga, gb;
		int e = pread_all(fa, buf, n, (off_t)pos, &ga);
		if (!e)
			e = pread_all(fb, other, n, (off_t)pos, &gb);
		if (e)
			r = e;
		else if (ga != n || gb != n || memcmp(buf, other, n))
			r = 0;
		pos += n;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(other);
	return r;
}

/* Did the update change PATH (o in OLD, n in NEW; have says which exist)? mtime alone is no change. */
static int updated(struct rebase *rb, const struct pentry *o, int ho, const struct pentry *n, int hn,
		   unsigned char *buf)
{
	if (ho != hn)
		return 1;
	if (!ho)
		return 0;
	if (!same_shape(o, n) || !same_meta(o, n, 0))
		return 1;
	if (o->type != PT_FILE)
		return 0;
	int r = trees_same_bytes(rb->old_dir, rb->new_dir, o->path, o->size, buf);
	return r < 0 ? r : !r;
}

/* The entry without its opaque xattr (an opaque directory over nothing in NEW). */
static int without_opaque(const struct pentry *e, struct pentry *out)
{
	uint32_t off = 0, w = 0, i, vl;
	uint16_t nl;
	int r = entry_copy(out, e);

	if (r)
		return r;
	out->nxattr = 0;
	for (i = 0; i < e->nxattr; i++, off += 8 + nl + vl) {
		nl = get_le16(e->xattrs + off);
		vl = get_le32(e->xattrs + off + 4);
		if (nl == strlen("trusted.overlay.opaque") && !memcmp(e->xattrs + off + 8, "trusted.overlay.opaque", nl))
			continue;
		memmove(out->xattrs + w, e->xattrs + off, 8 + nl + vl);
		w += 8 + nl + vl;
		out->nxattr++;
	}
	out->xattr_len = w;
	return 0;
}

/*
 * NEW's file under the user's metadata: each of mode, owner, mtime and the xattrs is the user's
 * where it differs from OLD's (the user changed it), else NEW's.
 */
static int merge_meta(const struct pentry *e, const struct pentry *o, const struct pentry *n, struct pentry *m)
{
	int r = entry_copy(m, n);

	if (r)
		return r;
	if (e->mode != o->mode)
		m->mode = e->mode;
	if (e->uid != o->uid)
		m->uid = e->uid;
	if (e->gid != o->gid)
		m->gid = e->gid;
	if (e->mtime_sec != o->mtime_sec || e->mtime_nsec != o->mtime_nsec) {
		m->mtime_sec = e->mtime_sec;
		m->mtime_nsec = e->mtime_nsec;
	}
	if (e->xattr_len != o->xattr_len || e->nxattr != o->nxattr ||
	    (e->xattr_len && memcmp(e->xattrs, o->xattrs, e->xattr_len))) {
		free(m->xattrs);
		m->xattrs = e->xattr_len ? malloc(e->xattr_len) : NULL;
		if (e->xattr_len && !m->xattrs) {
			entry_free(m);
			return -ENOMEM;
		}
		if (e->xattr_len)
			memcpy(m->xattrs, e->xattrs, e->xattr_len);
		m->xattr_len = e->xattr_len;
		m->nxattr = e->nxattr;
	}
	m->group = 0;
	m->flags = EF_DATA;
	m->data_off = -1;
	return 0;
}

#define SET(a, w) (it->act = (a), it->why = (w))

/* One entry's verdict; o and n are PATH in OLD and NEW (ho, hn: whether there). */
static int decide(struct rebase *rb, struct rb_item *it, const struct pentry *o, int ho, const struct pentry *n,
		  int hn, unsigned char *buf)
{
	const struct pentry *e = it->e;
	int up;

	if ((up = updated(rb, o, ho, n, hn, buf)) < 0)
		return up;
	if (e->type == PT_WHITEOUT) {
		if (!hn)
			SET(RB_DROP_WHITEOUT, "the new image has no such path");
		else if (!ho)
			SET(RB_DROP_WHITEOUT, "it hid nothing of the old image");
		else if (up)
			SET(RB_CONFLICT, "you deleted it; the update changed it");
		else
			SET(RB_KEEP, "deleted");
		return 0;
	}
	if (e->type == PT_DIR) {
		if (is_opaque(e) && !(hn && n->type == PT_DIR)) {
			SET(RB_DROP_OPAQUE, "the new image has no directory there to hide");
			return without_opaque(e, &it->merged);
		}
		SET(RB_KEEP, is_opaque(e) ? "opaque: replaces the image's directory" : "directory");
		return 0;
	}
	if (e->group) {		/* a hardlink group stays whole, as saved */
		SET(up || (!ho && hn) ? RB_CONFLICT : RB_KEEP, up || (!ho && hn) ?
		    "hardlinked, and the update changed it" : "hardlinked");
		return 0;
	}
	if (!ho) {		/* the user made it: a conflict when the update made another */
		int same = hn && same_shape(e, n) && same_meta(e, n, 0);
		if (same && e->type == PT_FILE && (same = saved_same_bytes(rb, e, rb->new_dir, buf)) < 0)
			return same;
		if (hn && !same)
			SET(RB_CONFLICT, "you made it; the update made another");
		else
			SET(RB_KEEP, "yours");
		return 0;
	}
	/* the user's copy-up against OLD's file */
	int same = same_shape(e, o);
	if (same && e->type == PT_FILE && (same = saved_same_bytes(rb, e, rb->old_dir, buf)) < 0)
		return same;
	if (!same) {
		SET(up ? RB_CONFLICT : RB_KEEP, up ? "you changed it; the update changed it" : "yours");
		return 0;
	}
	if (same_meta(e, o, 1)) {
		SET(RB_DROP, "a copy of the old image's file, unchanged");
		return 0;
	}
	/* only metadata touched */
	if (!hn || o->type != n->type) {
		SET(RB_CONFLICT, hn ? "you changed its metadata; the update made it another kind of file" :
		    "you changed its metadata; the update removed it");
		return 0;
	}
	if (!up) {
		SET(RB_KEEP, "metadata only; the update left it as it was");
		return 0;
	}
	if (o->type != PT_FILE) {
		SET(RB_CONFLICT, "you changed its metadata; the update changed it");
		return 0;
	}
	SET(RB_NEWDATA, "metadata only: the new image's content under your metadata");
	return merge_meta(e, o, n, &it->merged);
}

int rebase_plan(struct rebase *rb)
{
	unsigned char *buf = malloc(PF_DATA_CHUNK);
	int n = state_sorted(&rb->st, &rb->v), r = 0;
	size_t i;

	if (n < 0 || !buf) {
		free(buf);
		return n < 0 ? n : -ENOMEM;
	}
	rb->items = calloc((size_t)n + 1, sizeof *rb->items);
	if (!rb->items) {
		free(buf);
		return -ENOMEM;
	}
	for (i = 0; i < (size_t)n && !r; i++) {
		struct rb_item *it = &rb->items[rb->n];
		struct pentry o, nw;
		int ho, hn;

		if (!strcmp(rb->v[i]->path, ".") || !strcmp(rb->v[i]->path, PF_CONFLICTS))
			continue;	/* the root stays; an earlier rebase's list is replaced */
		it->e = rb->v[i];
		ho = tree_entry(rb->old_dir, it->e->path, &o, &rb->err);
		hn = ho < 0 ? 0 : tree_entry(rb->new_dir, it->e->path, &nw, &rb->err);
		if (ho < 0 || hn < 0) {
			r = ho < 0 ? ho : hn;
			perr_set(&rb->err, r, "unable to read %s in %s: %s", it->e->path, ho < 0 ? "the old image" :
				 "the new image", rb->err.msg[0] ? rb->err.msg : strerror(-r));
		} else {
			r = decide(rb, it, &o, ho, &nw, hn, buf);
			if (r && !rb->err.msg[0])
				perr_set(&rb->err, r, "unable to compare %s: %s", it->e->path, strerror(-r));
			rb->count[it->act]++;
			rb->n++;
		}
		if (ho > 0)
			entry_free(&o);
		if (hn > 0)
			entry_free(&nw);
	}
	free(buf);
	return r;
}

struct data_ctx {
	struct pwriter *w;
	uint32_t crc;
};

static int data_fn(void *ctx, uint64_t off, const void *p, size_t n)
{
	struct data_ctx *c = ctx;

	c->crc = content_crc_step(c->crc, off, p, n);
	return w_data(c->w, off, p, n);
}

/* NEW's bytes of m->path, then its entry. */
static int write_newdata(struct rebase *rb, struct pwriter *w, struct pentry *m, void *buf)
{
	struct data_ctx c = { w, 0 };
	int fd = open_in(rb->new_dir, m->path), r;

	if (fd < 0)
		return -errno;
	r = walk_data(fd, m->size, buf, data_fn, &c);
	close(fd);
	if (r)
		return r;
	m->crc = c.crc;
	return w_entry(w, m);
}

/*
 * The conflicts list: a regular file at PF_CONFLICTS, one record per conflict, "PATH\0WHY\0";
 * in the state like any entry (old readers keep it as a file), never restored (restore.c).
 */
static int write_conflicts(struct rebase *rb, struct pwriter *w, uint64_t *bytes, uint32_t *entries)
{
	struct pentry c = { .path = PF_CONFLICTS, .type = PT_FILE, .mode = 0400, .flags = EF_DATA, .data_off = -1 };
	const struct pentry *was = state_get(&rb->st, PF_CONFLICTS);
	char *list;
	size_t len = 0, total = 1, i;
	struct timespec now;
	int r = 0;

	if (was) {
		*bytes -= was->size;
		--*entries;
	}
	for (i = 0; i < rb->n; i++)
		if (rb->items[i].act == RB_CONFLICT)
			total += strlen(rb->items[i].e->path) + strlen(rb->items[i].why) + 2;
	if (!(list = malloc(total)))
		return -ENOMEM;
	for (i = 0; i < rb->n; i++) {
		const struct rb_item *it = &rb->items[i];
		if (it->act != RB_CONFLICT)
			continue;
		memcpy(list + len, it->e->path, strlen(it->e->path) + 1);
		len += strlen(it->e->path) + 1;
		memcpy(list + len, it->why, strlen(it->why) + 1);
		len += strlen(it->why) + 1;
	}
	if (!r && !len && was)
		r = w_delete(w, PF_CONFLICTS);
	if (!r && len) {
		clock_gettime(CLOCK_REALTIME, &now);
		c.mtime_sec = now.tv_sec;
		c.mtime_nsec = (uint32_t)now.tv_nsec;
		c.size = len;
		for (i = 0; i < len && !r; i += PF_DATA_CHUNK) {
			size_t n = len - i < PF_DATA_CHUNK ? len - i : PF_DATA_CHUNK;
			c.crc = content_crc_step(c.crc, i, list + i, n);
			r = w_data(w, i, list + i, n);
		}
		if (!r)
			r = w_entry(w, &c);
		*bytes += len;
		++*entries;
	}
	free(list);
	return r;
}

int rebase_write(struct rebase *rb, const struct lower_id *lower)
{
	struct pwriter w = { 0 };
	uint64_t bytes = rb->st.bytes;
	uint32_t entries = (uint32_t)rb->st.count;
	void *buf = malloc(PF_DATA_CHUNK);
	size_t i;
	int r = buf ? w_begin(&w, &rb->pf, 0, TXN_SAVE, lower) : -ENOMEM;

	for (i = 0; i < rb->n && !r; i++) {
		struct rb_item *it = &rb->items[i];
		switch (it->act) {
		case RB_DROP:
		case RB_DROP_WHITEOUT:
			r = w_delete(&w, it->e->path);
			bytes -= it->e->type == PT_FILE ? it->e->size : 0;
			entries--;
			break;
		case RB_DROP_OPAQUE:
			r = w_entry(&w, &it->merged);
			break;
		case RB_NEWDATA:
			r = write_newdata(rb, &w, &it->merged, buf);
			bytes += it->merged.size - it->e->size;
			break;
		default:
			break;
		}
	}
	if (!r)
		r = write_conflicts(rb, &w, &bytes, &entries);
	if (!r)
		r = w_commit(&w, entries, bytes);
	if (r == -ENOSPC)
		perr_set(&rb->err, r, "the save file is full: make room with persist compact (or persist grow), then rebase again");
	else if (r && !rb->err.msg[0])
		perr_set(&rb->err, r, "%s", perr_why(&rb->pf.err, r));
	if (!r)
		rb->gen = rb->pf.hdr.gen;
	w_abort(&w);
	free(buf);
	return r;
}

void rebase_free(struct rebase *rb)
{
	for (size_t i = 0; i < rb->n; i++)
		if (rb->items[i].merged.path)
			entry_free(&rb->items[i].merged);
	free(rb->items);
	free(rb->v);
	rb->items = NULL;
	rb->v = NULL;
}
