/* journal.c: the reader: opens a save file, picks a header slot, replays committed transactions. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crc32c.h"
#include "io.h"
#include "persist.h"

static int bad(struct pfile *pf, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct pfile *pf, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pf->err, sizeof pf->err, fmt, ap);
	va_end(ap);
	return err;
}

uint64_t pf_area_base(const struct phdr *h, uint32_t area)
{
	return PF_DATA_START + (uint64_t)area * h->area_size;
}

static int read_slot(struct pfile *pf, int slot, struct phdr *h)
{
	unsigned char b[PF_HDR_LEN];
	size_t got;
	int r = pread_all(pf->fd, b, sizeof b, (off_t)slot * PF_SLOT_SIZE, &got);

	if (r)
		return r;
	if (got != sizeof b)
		return -EBADMSG;
	r = hdr_decode(b, h);
	/* Larger is fine: grow extends the file (durably) before a header adopts the new size. */
	if (r == 0 && h->file_size > pf->size)
		r = -EBADMSG;
	return r;
}

int pf_open(struct pfile *pf, const char *path, int writable)
{
	struct phdr h[2];
	int r[2], i;
	struct stat st;

	memset(pf, 0, sizeof *pf);
	pf->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (pf->fd < 0) {
		int e = errno;
		return bad(pf, -e, "%s", strerror(e));
	}
	/* One writer at a time: a second save would interleave its records with ours. */
	if (writable && flock(pf->fd, LOCK_EX | LOCK_NB) < 0)
		return bad(pf, -errno, errno == EWOULDBLOCK ? "another persist is writing it" : "cannot lock it: %s",
			   strerror(errno));
	if (fstat(pf->fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return bad(pf, -EINVAL, "not a regular file");
	pf->size = (uint64_t)st.st_size;
	if (pf->size < PF_MIN_SIZE)
		return bad(pf, -EBADMSG, "too small to be a save file (%llu bytes)",
			   (unsigned long long)pf->size);
	for (i = 0; i < 2; i++) {
		r[i] = read_slot(pf, i, &h[i]);
		if (r[i] && r[i] != -EBADMSG && r[i] != -EPROTONOSUPPORT)
			return r[i];
	}
	if (r[0] && r[1]) {
		if (r[0] == -EPROTONOSUPPORT || r[1] == -EPROTONOSUPPORT)
			return bad(pf, -EPROTONOSUPPORT, "unknown save file version (this persist reads version %d)",
				   PF_VERSION);
		return bad(pf, -EBADMSG, "no valid header (not a save file, or damaged)");
	}
	pf->slot = r[0] ? 1 : r[1] ? 0 : (h[1].seq > h[0].seq);
	pf->hdr = h[pf->slot];
	pf->alt_valid = r[!pf->slot] == 0;
	if (pf->alt_valid)
		pf->alt = h[!pf->slot];
	return 0;
}

void pf_close(struct pfile *pf)
{
	if (pf->fd > 0)
		close(pf->fd);
	free(pf->rbuf);
	free(pf->win);
	pf->fd = -1;
	pf->rbuf = NULL;
	pf->win = NULL;
}

/* Falls back to the other slot's header (when the chosen one's records are damaged). */
int pf_pick_alt(struct pfile *pf)
{
	struct phdr t;

	if (!pf->alt_valid)
		return -ENOENT;
	t = pf->hdr;
	pf->hdr = pf->alt;
	pf->alt = t;
	pf->slot = !pf->slot;
	return 0;
}

/* The record buffer grows to the largest record read (bounded by PF_REC_MAX). */
static int rbuf_need(struct pfile *pf, size_t n)
{
	unsigned char *b;

	if (n <= pf->rcap)
		return 0;
	n = n < 4096 ? 4096 : n;
	b = realloc(pf->rbuf, n);
	if (!b)
		return -ENOMEM;
	pf->rbuf = b;
	pf->rcap = n;
	return 0;
}

/*
 * Reads n bytes at absolute offset off. Small reads go through a 64 KiB window (a journal of many
 * small records costs few syscalls); large ones go straight to dst, so that a metadata-only replay
 * that skips DATA payloads does not read them.
 */
#define PF_WINDOW (64 * 1024)
static int pf_pread(struct pfile *pf, void *dst, size_t n, uint64_t off, size_t *got)
{
	int r;

	if (off >= pf->win_off && off + n <= pf->win_off + pf->win_len) {
		memcpy(dst, pf->win + (off - pf->win_off), n);
		*got = n;
		return 0;
	}
	if (n >= PF_WINDOW / 2)
		return pread_all(pf->fd, dst, n, (off_t)off, got);
	if (!pf->win && !(pf->win = malloc(PF_WINDOW)))
		return -ENOMEM;
	pf->win_len = 0;
	pf->win_off = off;
	r = pread_all(pf->fd, pf->win, PF_WINDOW, (off_t)off, &pf->win_len);
	if (r)
		return r;
	*got = n < pf->win_len ? n : pf->win_len;
	memcpy(dst, pf->win, *got);
	return 0;
}

/* CRC32C over le64(epoch), then the record from its type field on. */
uint32_t rec_crc(uint64_t epoch, const unsigned char *rec, uint32_t len)
{
	unsigned char e[8];

	put_le64(e, epoch);
	return crc32c(crc32c(0, e, 8), rec + 4, PF_REC_HDR - 4 + (size_t)len);
}

/*
 * Reads the record at area offset off (below end) into pf->rbuf and checks it. Without
 * want_data a DATA record's payload is not read (only its 8-byte offset): the catalogue does
 * not need it, and a save must not cost a read of every byte ever saved.
 */
int pf_read_rec(struct pfile *pf, const struct phdr *h, uint64_t off, uint64_t end, int want_data,
		uint32_t *type, uint32_t *len, uint64_t *next)
{
	uint64_t base = pf_area_base(h, h->area);
	unsigned char *b;
	size_t got;
	int r;

	if ((r = rbuf_need(pf, PF_REC_HDR)))
		return r;
	b = pf->rbuf;

	if (end - off < PF_REC_HDR)
		return bad(pf, -EBADMSG, "truncated record at area offset %llu", (unsigned long long)off);
	r = pf_pread(pf, b, PF_REC_HDR, base + off, &got);
	if (r)
		return r;
	if (got != PF_REC_HDR)
		return bad(pf, -EBADMSG, "file ends inside a record");
	*type = get_le32(b + 4);
	*len = get_le32(b + 8);
	if (*type == 0 || *type >= REC_TYPES || get_le32(b + 12) != 0 || *len > PF_REC_MAX ||
	    rec_size(*len) > end - off)
		return bad(pf, -EBADMSG, "bad record header at area offset %llu", (unsigned long long)off);
	size_t want = *len;
	if (*type == REC_DATA && !want_data)
		want = *len < 8 ? *len : 8;
	if ((r = rbuf_need(pf, PF_REC_HDR + want + 8)))
		return r;
	b = pf->rbuf;
	r = pf_pread(pf, b + PF_REC_HDR, want, base + off + PF_REC_HDR, &got);
	if (r)
		return r;
	if (got != want)
		return bad(pf, -EBADMSG, "file ends inside a record");
	if (want == *len && rec_crc(h->epoch, b, *len) != get_le32(b))
		return bad(pf, -EBADMSG, "checksum mismatch in record at area offset %llu",
			   (unsigned long long)off);
	*next = off + rec_size(*len);
	return 0;
}

static int gen_add(struct pgenlist *l, const struct pgen *g)
{
	if (!l)
		return 0;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct pgen *v = realloc(l->v, nc * sizeof *v);
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n++] = *g;
	return 0;
}

void genlist_free(struct pgenlist *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

struct data_run {
	int active;
	uint64_t start, min_off;
};

static int replay(struct pfile *pf, const struct phdr *h, uint64_t stop_gen, int check_data,
		  struct pstate *st, struct pgenlist *log, int depth)
{
	uint64_t off = 0, next, last_gen = 0, last_end = 0;
	int in_txn = 0, found = 0, r;
	uint32_t type, len;
	struct pgen cur = { 0 };
	struct data_run dr = { 0 };
	unsigned char *p;

	if ((r = rbuf_need(pf, 4096)))
		return r;

	if (depth > PF_ROLLBACK_DEPTH)
		return bad(pf, -EBADMSG, "rollbacks nested too deep");
	while (off < h->end && !found) {
		r = pf_read_rec(pf, h, off, h->end, check_data, &type, &len, &next);
		if (r)
			return r;
		p = pf->rbuf + PF_REC_HDR;
		if ((type == REC_BEGIN) == in_txn)
			return bad(pf, -EBADMSG, "record outside a transaction at area offset %llu",
				   (unsigned long long)off);
		if (dr.active && type != REC_DATA && type != REC_ENTRY)
			return bad(pf, -EBADMSG, "data without an owner at area offset %llu",
				   (unsigned long long)off);
		cur.nrec++;
		switch (type) {
		case REC_BEGIN: {
			if (len != PF_BEGIN_LEN)
				return bad(pf, -EBADMSG, "bad BEGIN record");
			memset(&cur, 0, sizeof cur);
			cur.gen = get_le64(p);
			cur.time_ns = get_le64(p + 8);
			cur.kind = get_le32(p + 16);
			cur.lower_size = get_le64(p + 24);
			cur.lower_crc = get_le32(p + 32);
			cur.start = off;
			cur.nrec = 1;
			if (cur.gen != (last_gen ? last_gen + 1 : h->epoch) || cur.kind == 0 ||
			    cur.kind >= TXN_KINDS)
				return bad(pf, -EBADMSG, "generation %llu out of sequence",
					   (unsigned long long)cur.gen);
			if (cur.gen > stop_gen)
				return bad(pf, -ENOENT, "generation %llu is not in the journal",
					   (unsigned long long)stop_gen);
			in_txn = 1;
			break;
		}
		case REC_ENTRY: {
			struct pentry e;
			r = entry_decode(p, len, &e);
			if (r == -ENOMEM)
				return r;
			if (r)
				return bad(pf, -EBADMSG, "bad entry at area offset %llu", (unsigned long long)off);
			if (e.flags & EF_DATA) {
				/* DATA records precede their ENTRY, so it can carry the content CRC. */
				if (dr.active && dr.min_off > e.size) {
					entry_free(&e);
					return bad(pf, -EBADMSG, "data beyond the file size at area offset %llu",
						   (unsigned long long)off);
				}
				e.data_off = dr.active ? (int64_t)dr.start : -1;
			} else if (dr.active) {
				entry_free(&e);
				return bad(pf, -EBADMSG, "data without an owner at area offset %llu",
					   (unsigned long long)off);
			} else if (e.flags & EF_KEEP) {
				/* the data of the same path's previous entry, which must have had some */
				const struct pentry *old = state_get(st, e.path);
				if (!old || old->type != PT_FILE || old->size != e.size ||
				    !(old->flags & (EF_DATA | EF_KEEP))) {
					entry_free(&e);
					return bad(pf, -EBADMSG, "KEEP entry without data at area offset %llu",
						   (unsigned long long)off);
				}
				e.data_off = old->data_off;
			}
			dr.active = 0;
			r = state_put(st, &e);
			if (r) {
				entry_free(&e);
				return r;
			}
			break;
		}
		case REC_DATA: {
			uint64_t o = get_le64(p), n = len - 8;
			if (!dr.active) {
				dr.active = 1;
				dr.start = off;
				dr.min_off = 0;
			}
			if (len <= 8 || o < dr.min_off || n > PF_DATA_CHUNK || o > (1ull << 50))
				return bad(pf, -EBADMSG, "misplaced data at area offset %llu", (unsigned long long)off);
			dr.min_off = o + n;
			break;
		}
		case REC_DELETE:
			if (len == 0 || path_check((const char *)p, len))
				return bad(pf, -EBADMSG, "bad path in DELETE at area offset %llu",
					   (unsigned long long)off);
			p[len] = 0;
			if (state_del(st, (const char *)p))
				return bad(pf, -EBADMSG, "DELETE of a path not in the state");
			break;
		case REC_ROLLBACK: {
			uint64_t g;
			if (len != 8)
				return bad(pf, -EBADMSG, "bad ROLLBACK record");
			g = get_le64(p);
			if (!last_gen || g > last_gen || g < h->epoch)
				return bad(pf, -EBADMSG, "ROLLBACK to a generation not before it");
			state_free(st);
			r = state_init(st);
			if (!r)
				r = replay(pf, h, g, 0, st, NULL, depth + 1);
			if (r)
				return r;
			cur.target = g;
			break;
		}
		case REC_COMMIT:
			if (len != 24 || get_le64(p) != cur.gen || get_le32(p + 8) != cur.nrec ||
			    get_le32(p + 12) != st->count || get_le64(p + 16) != st->bytes)
				return bad(pf, -EBADMSG, "bad COMMIT for generation %llu", (unsigned long long)cur.gen);
			cur.end = next;
			cur.entries = (uint32_t)st->count;
			cur.bytes = st->bytes;
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
		return bad(pf, -EBADMSG, "committed range ends inside a transaction");
	if (stop_gen != UINT64_MAX && !found)
		return bad(pf, -ENOENT, "generation %llu is not in the journal", (unsigned long long)stop_gen);
	if (stop_gen == UINT64_MAX && (last_gen != (h->end ? h->gen : 0) || last_end != h->end))
		return bad(pf, -EBADMSG, "header generation %llu does not match the journal",
			   (unsigned long long)h->gen);
	return 0;
}

int pf_replay(struct pfile *pf, const struct phdr *h, uint64_t stop_gen, int check_data,
	      struct pstate *st, struct pgenlist *log)
{
	return replay(pf, h, stop_gen, check_data, st, log, 0);
}

/* Loads the state at gen at (UINT64_MAX: the newest), falling back to the other slot if damaged. */
int pf_load(struct pfile *pf, uint64_t at, int check_data, struct pstate *st, struct pgenlist *log)
{
	int r = state_init(st);

	if (r)
		return r;
	r = pf_replay(pf, &pf->hdr, at, check_data, st, log);
	if (r == -EBADMSG && pf->alt_valid && at == UINT64_MAX) {
		char why[256];
		snprintf(why, sizeof why, "%s", pf->err);
		state_free(st);
		if (log)
			genlist_free(log);
		pf_pick_alt(pf);
		r = state_init(st);
		if (!r)
			r = pf_replay(pf, &pf->hdr, at, check_data, st, log);
		if (r == 0) {
			snprintf(pf->err, sizeof pf->err, "newest generation damaged (%.150s), using generation %llu",
				 why, (unsigned long long)pf->hdr.gen);
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
