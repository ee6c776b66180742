/*
 * replay.c: the reader's replay: an area's committed transactions into the state of one
 * generation, in time linear in the records however its rollbacks chain.
 *
 * A generation's state is its parent's state plus its own records; the parent is the generation
 * before it, or for a rollback the generation it names. So the generations form a tree; without a
 * rollback, a chain, replayed in one pass that checks each record and applies it as it reads it.
 * With one, the replay starts again in two passes. Pass 1
 * reads every record once, checks everything that needs no state and builds the tree. Pass 2
 * walks the tree depth first from the area's first generation with one state: it applies each
 * generation's records once and checks its COMMIT against the state; a generation that is not an
 * ancestor of the one wanted (the spine) keeps an undo log, replayed when its subtree is done, so
 * the spine's children are visited last and the walk ends holding the wanted state. Every record
 * is read three times at most (the one pass up to the first ROLLBACK, then two) and applied twice
 * and undone once at most: O(records) time; the undo log holds
 * at most one entry per record of the off-spine subtree being visited: O(records) memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "persist.h"
#include "vec.h"

#define NONE ((size_t)-1)
#define LEAVE ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define REPLAY_TREE 2	/* scan_area, applying as it reads, met a ROLLBACK */

/* One committed generation of the area, as pass 1 found it. */
struct gnode {
	uint64_t from, commit;	/* area offsets: its first state record, its COMMIT record */
	size_t parent;		/* the generation its state starts from (NONE: the empty state) */
	size_t child, sibling;	/* the generation tree */
	uint64_t bytes;		/* what its COMMIT says of the state */
	uint32_t entries;
	int spine;		/* the generation wanted or one of its ancestors: never undone */
	size_t mark;		/* the undo log's length when it was entered */
};
struct gtree {
	struct gnode *v;
	size_t n, cap;
};

/* What one applied record replaced: old.path NULL means path was absent. */
struct undo_rec {
	char *path;
	struct pentry old;
};
struct undo {
	struct undo_rec *v;
	size_t n, cap;
};

static int gen_add(struct pgenlist *l, const struct pgen *g)
{
	int r;

	if (!l)
		return 0;
	if ((r = vec_reserve((void **)&l->v, &l->cap, l->n, sizeof *l->v, 16)))
		return r;
	l->v[l->n++] = *g;
	return 0;
}

void genlist_free(struct pgenlist *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int node_add(struct gtree *t, const struct gnode *g)
{
	int r = vec_reserve((void **)&t->v, &t->cap, t->n, sizeof *t->v, 64);

	if (!r)
		t->v[t->n++] = *g;
	return r;
}

struct data_run {
	int active;		/* data records met, their ENTRY not yet */
	int ref;		/* a REF met, its ENTRY not yet: the file's size is at most avail */
	uint64_t start, min_off, avail;
};

/* The BLOBs of the transaction being read (version 4): area offset, raw length; in file order. */
struct blobs {
	struct { uint64_t off; uint32_t n; } *v;
	size_t n, cap;
};

/* The raw length of the BLOB at off in b, 0 when there is none */
static uint32_t blob_len(const struct blobs *b, uint64_t off)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->v[mid].off == off)
			return b->v[mid].n;
		if (b->v[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int undo_push(struct undo *u, const char *path, struct pentry *old)
{
	int r = vec_reserve((void **)&u->v, &u->cap, u->n, sizeof *u->v, 256);

	if (r)
		return r;
	u->v[u->n].path = strdup(path);
	if (!u->v[u->n].path)
		return -ENOMEM;
	u->v[u->n++].old = *old;
	return 0;
}

/* Takes the state back to what it was when the undo log was mark long. */
static int undo_to(struct undo *u, size_t mark, struct pstate *st)
{
	int r = 0;

	while (u->n > mark) {
		struct undo_rec *x = &u->v[--u->n];
		if (!r)
			r = x->old.path ? state_put(st, &x->old) : state_del(st, x->path);
		entry_free(&x->old);
		free(x->path);
	}
	return r;
}

/* Changes the state by e (or deletes path when e is NULL), logging what it replaced in u. */
static int change(struct pstate *st, struct pentry *e, const char *path, struct undo *u)
{
	struct pentry old;
	char *keep;
	int r;

	if (!u)
		return e ? state_put(st, e) : state_del(st, path);
	if (e) {
		keep = strdup(e->path);
		if (!keep)
			return -ENOMEM;
		r = state_swap(st, e, &old);
		if (!r && (r = undo_push(u, keep, &old)))
			entry_free(&old);
		free(keep);
		return r;
	}
	r = state_take(st, path, &old);
	if (!r && (r = undo_push(u, path, &old)))
		entry_free(&old);
	return r;
}

/*
 * An ENTRY e (decoded; this takes it over) applied to the state: its data is the run before it
 * (run, an area offset; -1: none), or for a KEEP the same path's previous entry's.
 */
static int apply_entry(struct pfile *pf, uint64_t off, struct pentry *e, int64_t run, struct pstate *st,
		       struct undo *u)
{
	int r;

	if (e->flags & EF_DATA) {
		e->data_off = run;
	} else if (e->flags & EF_KEEP) {
		/* the data of the same path's previous entry, which must have had some */
		const struct pentry *old = state_get(st, e->path);
		if (!old || old->type != PT_FILE || old->size != e->size || !(old->flags & (EF_DATA | EF_KEEP))) {
			entry_free(e);
			return perr_set(&pf->err, -EBADMSG, "KEEP entry without data at area offset %llu",
					(unsigned long long)off);
		}
		e->data_off = old->data_off;
	}
	r = change(st, e, NULL, u);
	entry_free(e);
	return r;
}

/*
 * One record of a generation, checked on its own before (pass 1), applied to the state: a data
 * record or REF starts its file's run, an ENTRY or DELETE changes the state. Any other type is
 * not one pass 1 let through here: the file changed while it was read.
 */
static int apply_rec(struct pfile *pf, uint64_t off, uint32_t type, unsigned char *p, uint32_t len,
		     int64_t *run, struct pstate *st, struct undo *u)
{
	int r;

	switch (type) {
	case REC_DATA:
	case REC_ZDATA:
		if (*run < 0)
			*run = (int64_t)off;
		return 0;
	case REC_REF: {	/* checked by pass 1: a BLOB of this transaction, a place inside it */
		uint64_t at;
		uint32_t in;
		if (ref_decode(p, len, &at, &in))
			break;
		*run = (int64_t)pf_off_blob(at, in);
		return 0;
	}
	case REC_BLOB:
		return 0;
	case REC_ENTRY: {
		struct pentry e;
		r = entry_decode(p, len, &e);
		if (r)
			return r == -ENOMEM ? r : perr_set(&pf->err, -EBADMSG, "bad entry at area offset %llu",
							   (unsigned long long)off);
		r = apply_entry(pf, off, &e, *run, st, u);
		*run = -1;
		return r;
	}
	case REC_DELETE:
		p[len] = 0;
		r = change(st, NULL, (const char *)p, u);
		return r == -ENOENT ? perr_set(&pf->err, -EBADMSG, "DELETE of a path not in the state") : r;
	}
	return perr_set(&pf->err, -EBADMSG, "the save file changed while it was read (area offset %llu)",
			(unsigned long long)off);
}

/* A generation's COMMIT against the state its records made. */
static int commit_check(struct pfile *pf, const struct pstate *st, uint32_t entries, uint64_t bytes, uint64_t gen)
{
	if (st->count != entries || st->bytes != bytes)
		return perr_set(&pf->err, -EBADMSG, "bad COMMIT for generation %llu", (unsigned long long)gen);
	return 0;
}

/*
 * Pass 1: every record up to stop_gen's COMMIT (or the end), checked on its own; the tree. With
 * st, the records are also applied to it as they are read and each COMMIT is checked (the one
 * pass of a file without rollbacks, whose generations are a chain); a ROLLBACK then returns
 * REPLAY_TREE: its generations form a tree, which needs pass 2.
 */
static int scan_area(struct pfile *pf, const struct phdr *h, uint64_t stop_gen, enum pcheck check,
		     struct gtree *t, struct pgenlist *log, struct blobs *bl, struct pstate *st)
{
	int64_t run = -1;
	uint64_t off = 0, next, last_gen = 0, last_end = 0;
	int in_txn = 0, found = 0, r;
	uint32_t type, len;
	struct pgen cur = { 0 };
	struct gnode g = { 0 };
	struct data_run dr = { 0 };
	struct rec_begin rb;
	struct rec_commit rc;
	unsigned char *p;

	pf->ndata = pf->nzdata = pf->npacked = 0;	/* what this pass counts */
	while (pf_off_in(off, h->end) && !found) {
		r = pf_read_rec(pf, h, off, h->end, check != PCHECK_META, &type, &len, &next);
		if (r)
			return r;
		p = pf->rbuf + PF_REC_HDR;
		if ((type == REC_BEGIN) == in_txn)
			return perr_set(&pf->err, -EBADMSG, "record outside a transaction at area offset %llu",
					(unsigned long long)off);
		if ((dr.active && !rec_is_data(type) && type != REC_ENTRY) || (dr.ref && type != REC_ENTRY))
			return perr_set(&pf->err, -EBADMSG, "data without an owner at area offset %llu",
					(unsigned long long)off);
		cur.nrec++;
		switch (type) {
		case REC_BEGIN:
			if (begin_decode(p, len, &rb))
				return perr_set(&pf->err, -EBADMSG, "bad BEGIN record");
			memset(&cur, 0, sizeof cur);
			cur.gen = rb.gen;
			cur.time_ns = rb.time_ns;
			cur.kind = rb.kind;
			cur.why = rb.why;
			cur.lower_size = rb.lower_size;
			cur.lower_crc = rb.lower_crc;
			cur.start = off;
			cur.nrec = 1;
			if (cur.gen != (last_gen ? last_gen + 1 : h->epoch) || cur.kind == 0 ||
			    cur.kind >= TXN_KINDS)
				return perr_set(&pf->err, -EBADMSG, "generation %llu out of sequence",
						(unsigned long long)cur.gen);
			if (cur.gen > stop_gen)
				return perr_set(&pf->err, -ENOENT, "generation %llu is not in the journal",
						(unsigned long long)stop_gen);
			memset(&g, 0, sizeof g);
			g.from = next;
			g.parent = t->n ? t->n - 1 : NONE;
			in_txn = 1;
			bl->n = 0;
			break;
		case REC_ENTRY: {
			struct pentry e;
			r = st ? entry_decode(p, len, &e) : entry_check(p, len, &e);
			if (r)
				return r == -ENOMEM ? r : perr_set(&pf->err, -EBADMSG, "bad entry at area offset %llu",
								   (unsigned long long)off);
			/* DATA records precede their ENTRY, so it can carry the content CRC. */
			if (dr.active && !(e.flags & EF_DATA))
				r = perr_set(&pf->err, -EBADMSG, "data without an owner at area offset %llu",
					     (unsigned long long)off);
			else if (dr.active && dr.min_off > e.size)
				r = perr_set(&pf->err, -EBADMSG, "data beyond the file size at area offset %llu",
					     (unsigned long long)off);
			else if (dr.ref && (!(e.flags & EF_DATA) || e.type != PT_FILE || e.size == 0 || e.size > dr.avail))
				r = perr_set(&pf->err, -EBADMSG, "a REF that is not its file's data at area offset %llu",
					     (unsigned long long)off);
			if (r && st)
				entry_free(&e);
			if (r)
				return r;
			dr.active = dr.ref = 0;
			if (st) {
				r = apply_entry(pf, off, &e, run, st, NULL);
				run = -1;
				if (r)
					return r;
			}
			break;
		}
		case REC_BLOB: {
			/* its raw length (all the catalogue reads of it); checking all, its bytes too */
			uint32_t n;
			if ((r = pz_unpack_head(p, len, "BLOB", &n, &pf->err)) ||
			    (check == PCHECK_ALL && (r = pz_unpack(&pf->z, p, len, "BLOB", &pf->err))))
				return perr_at(&pf->err, r, off);
			if ((r = vec_reserve((void **)&bl->v, &bl->cap, bl->n, sizeof *bl->v, 16)))
				return r;
			bl->v[bl->n].off = off;
			bl->v[bl->n++].n = n;
			break;
		}
		case REC_REF: {
			/* a small file's bytes in a BLOB of this transaction, before it: its data run */
			uint64_t at;
			uint32_t in, n = 0;
			if (ref_decode(p, len, &at, &in) || in % 8 || in >= (n = blob_len(bl, at)))
				return perr_set(&pf->err, -EBADMSG, "a REF to no BLOB of its transaction at area offset %llu",
						(unsigned long long)off);
			dr.ref = 1;
			dr.avail = n - in;
			pf->ndata++;
			pf->npacked++;
			if (st && (r = apply_rec(pf, off, type, p, len, &run, st, NULL)))
				return r;
			break;
		}
		case REC_DATA:
		case REC_ZDATA: {
			uint64_t o;
			uint32_t n;
			const unsigned char *bytes;
			if (!dr.active) {
				dr.active = 1;
				dr.start = off;
				dr.min_off = 0;
			}
			if (data_rec_head(type, p, len, &o, &n) || o < dr.min_off || o > (1ull << 50))
				return perr_set(&pf->err, -EBADMSG, "misplaced data at area offset %llu",
						(unsigned long long)off);
			/* checking all (verify, grow): a ZDATA record must decompress to its length */
			if (check == PCHECK_ALL && type == REC_ZDATA &&
			    (r = data_rec_decode(&pf->z, type, p, len, &o, &bytes, &n, &pf->err)))
				return perr_at(&pf->err, r, off);
			dr.min_off = o + n;
			pf->ndata++;
			pf->nzdata += type == REC_ZDATA;
			pf->npacked += pf->in_pack;
			if (st && (r = apply_rec(pf, off, type, p, len, &run, st, NULL)))
				return r;
			break;
		}
		case REC_DELETE:
			if (len == 0 || path_check((const char *)p, len))
				return perr_set(&pf->err, -EBADMSG, "bad path in DELETE at area offset %llu",
						(unsigned long long)off);
			if (st && (r = apply_rec(pf, off, type, p, len, &run, st, NULL)))
				return r;
			break;
		case REC_ROLLBACK: {
			uint64_t to;
			if (len != 8)
				return perr_set(&pf->err, -EBADMSG, "bad ROLLBACK record");
			to = get_le64(p);
			/* it replaces the state: it is the first record of its transaction, once */
			if (cur.nrec != 2)
				return perr_set(&pf->err, -EBADMSG, "ROLLBACK not first in its transaction at area offset %llu",
						(unsigned long long)off);
			if (!last_gen || to > last_gen || to < h->epoch)
				return perr_set(&pf->err, -EBADMSG, "ROLLBACK to a generation not before it");
			if (st)
				return REPLAY_TREE;
			cur.target = to;
			g.parent = (size_t)(to - h->epoch);
			g.from = next;
			break;
		}
		case REC_COMMIT:
			if (commit_decode(p, len, &rc) || rc.gen != cur.gen || rc.nrec != cur.nrec)
				return perr_set(&pf->err, -EBADMSG, "bad COMMIT for generation %llu", (unsigned long long)cur.gen);
			cur.end = next;
			cur.entries = g.entries = rc.entries;
			cur.bytes = g.bytes = rc.bytes;
			g.commit = off;
			g.child = g.sibling = NONE;
			r = st ? commit_check(pf, st, rc.entries, rc.bytes, cur.gen) : 0;
			if (!r)
				r = node_add(t, &g);
			if (!r)
				r = gen_add(log, &cur);
			if (r)
				return r;
			in_txn = 0;
			last_gen = cur.gen;
			last_end = next;
			found = cur.gen == stop_gen;
			/* the next transaction starts on its own block */
			next = (next + PF_TXN_ALIGN - 1) & ~(uint64_t)(PF_TXN_ALIGN - 1);
			break;
		}
		off = next;
	}
	if (in_txn)
		return perr_set(&pf->err, -EBADMSG, "committed range ends inside a transaction");
	if (stop_gen != UINT64_MAX && !found)
		return perr_set(&pf->err, -ENOENT, "generation %llu is not in the journal", (unsigned long long)stop_gen);
	if (stop_gen == UINT64_MAX && (last_gen != (h->end ? h->gen : 0) || last_end != h->end))
		return perr_set(&pf->err, -EBADMSG, "header generation %llu does not match the journal",
				(unsigned long long)h->gen);
	return 0;
}

/* Pass 2, one generation: its records applied to its parent's state; its COMMIT checked. */
static int apply(struct pfile *pf, const struct phdr *h, const struct gtree *t, size_t i,
		 struct pstate *st, struct undo *u)
{
	const struct gnode *g = &t->v[i];
	uint64_t off = g->from, next;
	int64_t run = -1;
	uint32_t type, len;
	int r;

	while (off != g->commit) {
		if (!pf_off_in(off, g->commit))	/* past the COMMIT pass 1 found */
			return perr_set(&pf->err, -EBADMSG, "the save file changed while it was read");
		r = pf_read_rec(pf, h, off, h->end, 0, &type, &len, &next);
		if (!r)
			r = apply_rec(pf, off, type, pf->rbuf + PF_REC_HDR, len, &run, st, u);
		if (r)
			return r;
		off = next;
	}
	return commit_check(pf, st, g->entries, g->bytes, h->epoch + i);
}

/* Pass 2: the tree depth first, the spine's children last; st ends as the last node's state. */
static int walk_tree(struct pfile *pf, const struct phdr *h, struct gtree *t, struct pstate *st)
{
	struct undo u = { 0 };
	size_t *stack, sp = 0, i, c;
	int r = 0;

	if (!t->n)
		return 0;
	for (i = t->n; i-- > 0;) {
		struct gnode *g = &t->v[i];
		if (g->parent != NONE) {
			g->sibling = t->v[g->parent].child;
			t->v[g->parent].child = i;
		}
	}
	for (i = t->n - 1; i != NONE; i = t->v[i].parent)
		t->v[i].spine = 1;
	stack = malloc(2 * t->n * sizeof *stack);
	if (!stack)
		return -ENOMEM;
	stack[sp++] = 0;
	while (sp && !r) {
		size_t x = stack[--sp];
		struct gnode *g = &t->v[x & ~LEAVE];
		if (x & LEAVE) {
			r = undo_to(&u, g->mark, st);
			continue;
		}
		if (!g->spine) {
			g->mark = u.n;
			stack[sp++] = x | LEAVE;
		}
		r = apply(pf, h, t, x, st, g->spine ? NULL : &u);
		for (c = g->child; c != NONE; c = t->v[c].sibling)
			if (t->v[c].spine)
				stack[sp++] = c;
		for (c = g->child; c != NONE; c = t->v[c].sibling)
			if (!t->v[c].spine)
				stack[sp++] = c;
	}
	(void)undo_to(&u, 0, st);	/* only after an error: the state is dropped anyway */
	free(u.v);
	free(stack);
	return r;
}

int pf_replay(struct pfile *pf, const struct phdr *h, uint64_t stop_gen, enum pcheck check,
	      struct pstate *st, struct pgenlist *log)
{
	struct gtree t = { 0 };
	struct blobs bl = { 0 };
	int r;

	if ((r = pf_rbuf_need(pf, 4096)))
		return r;
	r = scan_area(pf, h, stop_gen, check, &t, log, &bl, st);
	if (r == REPLAY_TREE) {
		/* a ROLLBACK: again from the start, in two passes */
		state_free(st);
		r = state_init(st);
		t.n = bl.n = 0;
		if (log)
			log->n = 0;
		if (!r)
			r = scan_area(pf, h, stop_gen, check, &t, log, &bl, NULL);
		if (!r)
			r = walk_tree(pf, h, &t, st);
	}
	free(bl.v);
	free(t.v);
	return r;
}

/* Loads the state at gen at (UINT64_MAX: the newest), falling back to the other slot if damaged. */
int pf_load(struct pfile *pf, uint64_t at, enum pcheck check, struct pstate *st, struct pgenlist *log)
{
	int r = state_init(st);

	if (r)
		return r;
	r = pf_replay(pf, &pf->hdr, at, check, st, log);
	if (r == -EBADMSG && pf->alt_valid && at == UINT64_MAX) {
		struct perr why = pf->err;
		state_free(st);
		if (log)
			genlist_free(log);
		pf_pick_alt(pf);
		r = state_init(st);
		if (!r)
			r = pf_replay(pf, &pf->hdr, at, check, st, log);
		if (r == 0) {
			perr_set(&pf->err, 1, "newest generation damaged (%.150s), using generation %llu",
				 why.msg, (unsigned long long)pf->hdr.gen);
		} else {
			state_free(st);
			return r;
		}
		return 1;	/* fell back: the caller warns with pf->err */
	}
	if (r)
		state_free(st);
	return r;
}
