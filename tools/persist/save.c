/* save.c: the writing commands' work: incremental or full save, compaction, rollback. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "persist.h"

struct data_ctx {
	struct pwriter *w;	/* NULL: a small file's bytes are held (in the read buffer) for w_small */
	uint32_t crc;
	uint64_t bytes;
	struct progress *pr;
	const void *held;
};

#define HOLE 1	/* data_fn: a small file's data is not one piece from offset 0 */

static int data_fn(void *ctx, uint64_t off, const void *p, size_t n)
{
	struct data_ctx *c = ctx;

	if (!c->w && (off || c->held))
		return HOLE;
	c->crc = content_crc_step(c->crc, off, p, n);
	c->bytes += n;
	progress_bytes(c->pr, n);
	if (!c->w) {
		c->held = p;
		return 0;
	}
	return w_data(c->w, off, p, n);
}

/* Modified within the last 200 ms (several timestamp ticks)? */
static int recent(const struct stat *st)
{
	struct timespec now;
	int64_t d;

	clock_gettime(CLOCK_REALTIME, &now);
	d = (int64_t)(now.tv_sec - st->st_ctim.tv_sec) * 1000 + (now.tv_nsec - st->st_ctim.tv_nsec) / 1000000;
	return d < 200;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Appends DATA records then the ENTRY of a regular file. The file is fstat'ed before and after
 * reading; when it changed, what was appended is rewound and the file read again (bounded), so a
 * file modified during the save is stored whole, never torn. In version 4 a small file (1 ..
 * PF_PACK_DATA_MAX bytes, no hole) is read whole first and only then handed to w_small: nothing
 * to rewind.
 */
static int save_file(struct pwriter *w, const char *upper, struct pentry *e, void *buf,
		     struct progress *pr, struct save_result *res)
{
	int small = w->blob && e->size && e->size <= PF_PACK_DATA_MAX;
	struct wmark m;
	char abs[8192];
	int attempt, r = 0;

	if (!small && (r = w_mark(w, &m)))
		return r;
	snprintf(abs, sizeof abs, "%s/%s", upper, e->path);
	for (attempt = 0; attempt < PF_SAVE_RETRIES; attempt++) {
		struct stat a, b;
		struct data_ctx c = { small ? NULL : w, 0, 0, pr, NULL };
		int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		if (fstat(fd, &a) < 0 || !S_ISREG(a.st_mode)) {
			r = S_ISREG(a.st_mode) ? -errno : -EAGAIN;
			close(fd);
			return r;
		}
		if (attempt > 0 || a.st_ino != e->ino || (uint64_t)a.st_size != e->size ||
		    a.st_ctim.tv_sec != e->ctime_sec || (uint32_t)a.st_ctim.tv_nsec != e->ctime_nsec) {
			/* Changed since the scan: take its metadata again, from the same moment on. */
			struct pentry f;
			r = scan_path(upper, e->path, &f, &res->err);
			if (r || f.type != PT_FILE) {
				close(fd);
				if (!r)
					entry_free(&f);
				return r ? r : -EAGAIN;
			}
			f.group = e->group;
			f.sgroup = e->sgroup;
			entry_free(e);
			*e = f;
			if (fstat(fd, &a) < 0) {
				close(fd);
				return -errno;
			}
			e->size = (uint64_t)a.st_size;
		}
		r = small && e->size > PF_PACK_DATA_MAX ? HOLE : walk_data(fd, e->size, buf, data_fn, &c);
		if (r == 0 && c.held && c.bytes != e->size)
			r = HOLE;
		if (r == HOLE) {	/* not small after all: as a large file, from the start */
			close(fd);
			small = 0;
			if ((r = w_mark(w, &m)))
				return r;
			attempt--;
			continue;
		}
		if (r == 0 && fstat(fd, &b) < 0)
			r = -errno;
		if (r == 0 && same_file(&a, &b) && recent(&b)) {
			/*
			 * Timestamps tick coarsely (a jiffy on 6.1): a write in the same tick as the
			 * last one leaves them unchanged. For a recently modified file, read it again
			 * and demand the same content and stat.
			 */
			uint32_t again;
			r = file_content_crc(fd, e->size, &again);
			if (r == 0 && fstat(fd, &b) < 0)
				r = -errno;
			if (r == 0 && again != c.crc)
				r = -EAGAIN;
		}
		close(fd);
		if (r == 0 && same_file(&a, &b)) {
			e->crc = c.crc;
			e->flags = EF_DATA;
			res->bytes += c.bytes;
			return c.held ? w_small(w, c.held, c.bytes, e) : w_entry(w, e);
		}
		if (r && r != -EAGAIN)
			return r;
		if (!small)
			w_rewind(w, m);
		nanosleep(&(struct timespec){ 0, 20000000 * (attempt + 1) }, NULL);	/* let a burst finish */
	}
	return perr_set(&res->err, -EBUSY, "%.300s kept changing while it was read (%d tries); stop its writer and "
			"save again", abs, PF_SAVE_RETRIES);
}

/*
 * Writes one scanned entry: keep, a KEEP entry (the catalogue's data stays, e->crc is known);
 * the primary of a hardlink group carries the data, the other members point at it.
 */
static int save_entry(struct pwriter *w, const char *upper, struct pentry *e, int keep, int primary,
		      void *buf, struct progress *pr, struct save_result *res)
{
	res->entries_written++;
	e->flags = 0;
	if (e->type != PT_FILE)
		return w_entry(w, e);
	if (keep) {
		e->flags = EF_KEEP;
		return w_entry(w, e);
	}
	if (e->group && !primary)
		return w_entry(w, e);
	return save_file(w, upper, e, buf, pr, res);
}

static int lower_same(const struct phdr *h, const struct lower_id *l)
{
	return l ? h->lower_size == l->size && h->lower_crc == l->crc : h->lower_size == 0;
}

/* Writes a transaction; fresh: the whole scan into the other area (a full save). */
/*
 * --skip-busy: an entry that kept changing while it was read is written as if it had not changed
 * since the catalogue (its last saved version stays, with its size in the state's bytes), or,
 * new since then, as if it were not there; its name goes into res->warn.
 */
static void keep_busy(const struct pentry *e, const struct pentry *was, uint64_t *bytes, uint64_t *ngone,
		      struct save_result *res)
{
	char *w = res->warn.msg;
	size_t cap = sizeof res->warn.msg, len = strlen(w);

	if (was && was->type == PT_FILE)
		*bytes += was->size;
	if (!was)
		++*ngone;
	if (res->busy++ == 0)
		len = (size_t)snprintf(w, cap, "kept changing while it was read, so its last "
				       "saved version is kept (a new file stays out):");
	if (len < cap - 1)
		snprintf(w + len, cap - len, " %s", e->path);
}

static int write_save(struct pfile *pf, const struct pstate *st, struct scan *sc, const char *upper,
		      const struct lower_id *lower, int fresh, unsigned flags, int64_t since, void *buf,
		      struct progress *pr, struct save_result *res)
{
	struct pwriter w = { 0 };
	uint64_t gen = pf->hdr.gen + 1, bytes = 0, nchanged = 0, ngroup = 0, ngone = 0;
	int *chg = NULL;
	size_t i;
	int r;

	r = w_begin(&w, pf, fresh, fresh ? TXN_FULL : TXN_SAVE, lower);
	if (r)
		goto out;
	if (pf_has_recent(&pf->hdr))
		w.recent_since = since;
	res->entries_written = res->deletes = res->bytes = res->rechecked = 0;
	res->full = fresh;
	/* Pass 1: how each entry changed (diff.c); a hardlink group changes as a whole. */
	chg = malloc((sc->n + 1) * sizeof *chg);
	if (!chg) {
		r = -ENOMEM;
		goto out;
	}
	r = scan_changes(upper, fresh ? NULL : st, sc, chg);
	/*
	 * Pass 2: write. A rewritten group gets a new id (gen << 32 | n), the same for all its
	 * members, and its first member carries the data; an unchanged group under new inodes keeps
	 * its id, and the member that held the data gets a KEEP entry.
	 */
	for (i = 0; i < sc->n && !r; i++) {
		struct pentry *e = &sc->v[i];
		struct sgroup *g = e->sgroup ? &sc->groups[e->sgroup - 1] : NULL;
		const struct pentry *was = fresh ? NULL : scan_cat(st, e);

		progress_entry(pr);
		if (chg[i] == CH_NONE) {
			bytes += e->type == PT_FILE ? e->size : 0;
			continue;
		}
		if (g && g->skip) {	/* its first member kept changing: the whole group keeps its state */
			keep_busy(e, was, &bytes, &ngone, res);
			continue;
		}
		int counted = chg[i] != CH_RECHECK;	/* a recheck alone writes no generation */
		nchanged += counted;
		if (g && (g->chg == CH_TOUCH || g->chg == CH_RECHECK)) {
			e->group = g->was;
			r = save_entry(&w, upper, e, i == g->keeper, 0, buf, pr, res);
		} else if (g) {
			if (!g->id)
				g->id = ((uint64_t)gen << 32) | ++ngroup;
			e->group = g->id;
			r = save_entry(&w, upper, e, 0, i == g->lead, buf, pr, res);
		} else {
			r = save_entry(&w, upper, e, (chg[i] == CH_TOUCH || chg[i] == CH_RECHECK) && e->type == PT_FILE,
				       0, buf, pr, res);
		}
		if (r == 0) {
			/* the size as written: a file read again (it changed since the scan) has its new one */
			bytes += e->type == PT_FILE ? e->size : 0;
			if (!counted) {
				res->entries_written--;
				res->rechecked++;
			}
		} else if ((r == -ENOENT || r == -EAGAIN) && !g) {
			/* Removed (or replaced by another type) since the scan: as if deleted before it. */
			e->type = 0;
			ngone++;
			res->entries_written--;
			r = 0;
		} else if (r == -EBUSY && (flags & SAVE_SKIP_BUSY) && !fresh && (!g || i == g->lead)) {
			/* (a full save cannot keep the last saved version: it fails instead, naming the file) */
			keep_busy(e, was, &bytes, &ngone, res);
			if (g)
				g->skip = 1;
			nchanged -= counted;
			res->entries_written--;
			res->err.msg[0] = '\0';
			r = 0;
		}
	}
	/*
	 * Catalogue entries gone from the upper (or now excluded): delete them. When every entry of
	 * the catalogue is a path the scan still holds (a save's paths are unique, so counting them
	 * tells), there is none: no sort of either list (most of an unchanged upper's save).
	 */
	size_t present = 0;
	for (i = 0; !r && !fresh && i < sc->n; i++)
		present += sc->v[i].type != 0 && scan_cat(st, &sc->v[i]) != NULL;
	if (!r && !fresh && present != st->count) {
		struct pentry **v;
		int n = state_sorted(st, &v);
		if (n < 0) {
			r = n;
			goto out;
		}
		for (int j = n - 1; j >= 0 && !r; j--)
			if (!scan_has(sc, v[j]->path)) {
				r = w_delete(&w, v[j]->path);
				res->deletes++;
				nchanged++;
			}
		free(v);
	}
	if (r)
		goto out;
	if (!fresh && nchanged == 0 && lower_same(&pf->hdr, lower) && pf->hdr.end) {
		res->gen = pf->hdr.gen;
		res->state_entries = sc->n;
		r = 1;	/* nothing to save */
		goto out;
	}
	r = w_commit(&w, (uint32_t)(sc->n - ngone), bytes);
	if (!r) {
		res->gen = gen;
		res->state_entries = sc->n - ngone;
	}
out:
	free(chg);
	w_abort(&w);
	return r;
}

int persist_save(const char *file, const char *upper, const struct patterns *pat,
		 const struct lower_id *lower, unsigned flags, struct save_result *res)
{
	struct pfile pf;
	struct pstate st = { 0 };
	struct scan sc = { 0 };
	struct progress pr;
	struct lower_id kept;
	struct timespec t0;
	int64_t since;
	void *buf = NULL;
	int r, loaded = 0;

	memset(res, 0, sizeof *res);
	progress_init(&pr, (flags & SAVE_PROGRESS) != 0, "saving");
	r = pf_open(&pf, file, 1);
	if (r) {
		perr_set(&res->err, r, "%s: %s", file, perr_why(&pf.err, r));
		goto out;
	}
	r = pf_load(&pf, UINT64_MAX, PCHECK_META, &st, NULL);
	if (r < 0) {
		perr_set(&res->err, r, "%s: %s", file, pf.err.msg);
		goto out;
	}
	if (r == 1)
		res->warn = pf.err;
	loaded = 1;
	if (!lower && pf.hdr.lower_size) {
		/* no --lower this time: the identity recorded before still holds */
		kept.size = pf.hdr.lower_size;
		kept.crc = pf.hdr.lower_crc;
		lower = &kept;
	}
	/* before the scan: every read of the upper by this save comes after it (EF_RECENT) */
	clock_gettime(CLOCK_REALTIME, &t0);
	since = (int64_t)t0.tv_sec * 1000000000LL + t0.tv_nsec;
	r = scan_upper(upper, pat, pf_scan_catalogue(&pf.hdr, &st), &sc);
	if (r) {
		perr_set(&res->err, r, "scan %.200s: %.290s", upper, perr_why(&sc.err, r));
		goto out;
	}
	progress_total(&pr, sc.n);
	buf = malloc(PF_DATA_CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = write_save(&pf, &st, &sc, upper, lower, 0, flags, since, buf, &pr, res);
	if (r == -ENOSPC) {
		/* The active area is full: a full save into the other one (the old one stays intact). */
		scan_free(&sc);
		r = scan_upper(upper, pat, pf_scan_catalogue(&pf.hdr, &st), &sc);
		if (!r)
			r = write_save(&pf, &st, &sc, upper, lower, 1, flags, since, buf, &pr, res);
		if (r == -ENOSPC)
			perr_set(&res->err, r, "%s is too small for the upper's %zu entries: make it larger with "
				 "persist grow", file, sc.n);
	}
out:
	progress_done(&pr);
	free(buf);
	scan_free(&sc);
	if (loaded)
		state_free(&st);
	pf_close(&pf);
	return r;
}

/* Copies the data run at data_off of the old area into w, each record as it is (ZDATA stays compressed). */
static int copy_data(struct pfile *pf, const struct phdr *old, int64_t data_off, struct pwriter *w,
		     uint64_t *bytes)
{
	uint64_t off = (uint64_t)data_off, next;
	uint32_t type, len;
	int r;

	if (data_off < 0)
		return 0;
	while (pf_off_in(off, old->end)) {
		uint64_t o;
		uint32_t n;
		r = pf_read_rec(pf, old, off, old->end, 1, &type, &len, &next);
		if (r)
			return r;
		if (!rec_is_data(type))
			break;
		if (data_rec_head(type, pf->rbuf + PF_REC_HDR, len, &o, &n))
			return perr_set(&pf->err, -EBADMSG, "bad data record at area offset %llu",
					(unsigned long long)off);
		r = w_copy(w, type, pf->rbuf + PF_REC_HDR, len);
		if (r)
			return r;
		*bytes += n;
		off = next;
	}
	return 0;
}

/* Rewrites the live state into the other area as one transaction (persist-format.md). */
int persist_compact(struct pfile *pf, struct save_result *res)
{
	struct pstate st;
	struct pentry **v = NULL;
	struct pwriter w = { 0 };
	struct phdr old = pf->hdr;
	struct lower_id lower = { old.lower_size, old.lower_crc };
	int n, i, r;

	memset(res, 0, sizeof *res);
	r = pf_load(pf, UINT64_MAX, PCHECK_META, &st, NULL);
	if (r < 0) {
		res->err = pf->err;
		return r;
	}
	old = pf->hdr;
	n = state_sorted(&st, &v);
	if (n < 0) {
		r = n;
		goto out;
	}
	r = w_begin(&w, pf, 1, TXN_COMPACT, old.lower_size ? &lower : NULL);
	for (i = 0; i < n && !r; i++) {
		struct pentry *e = v[i];
		const unsigned char *p;
		int data = e->type == PT_FILE && (e->flags & (EF_DATA | EF_KEEP));
		if (data)
			e->flags = EF_DATA | (e->flags & EF_RECENT);
		if (data && e->data_off >= 0 && (e->data_off & PF_OFF_BLOB)) {
			/* a small file's bytes in a BLOB: into the BLOB w fills, with its entry */
			r = pf_blob_bytes(pf, e->data_off, e->size, &p);
			if (!r && !(r = w_small(&w, p, (size_t)e->size, e)))
				res->bytes += e->size;
		} else {
			if (data)
				r = copy_data(pf, &old, e->data_off, &w, &res->bytes);
			if (!r)
				r = w_entry(&w, e);
		}
		res->entries_written++;
	}
	if (!r)
		r = w_commit(&w, (uint32_t)st.count, st.bytes);
	if (r == -ENOSPC)
		perr_set(&res->err, r, "the live state does not fit in half of the save file");
	else if (r && !res->err.msg[0])
		perr_set(&res->err, r, "%s", perr_why(&pf->err, r));
	res->gen = pf->hdr.gen;
	res->state_entries = st.count;
out:
	w_abort(&w);
	free(v);
	state_free(&st);
	return r;
}

/* Appends a generation whose state is that of gen: the next restore (boot) gets it. why: the
 * boots without a mark that made the init go back (0: the user's rollback). */
int persist_rollback(struct pfile *pf, uint64_t gen, uint32_t why, struct save_result *res)
{
	struct pstate st;
	struct pwriter w = { 0 };
	struct lower_id lower;
	int r;

	memset(res, 0, sizeof *res);
	if (gen >= pf->hdr.gen) {
		return perr_set(&res->err, -EINVAL, "generation %llu is not older than the current %llu",
				(unsigned long long)gen, (unsigned long long)pf->hdr.gen);
	}
	r = pf_load(pf, gen, PCHECK_META, &st, NULL);
	if (r < 0) {
		res->err = pf->err;
		return r;
	}
	lower.size = pf->hdr.lower_size;
	lower.crc = pf->hdr.lower_crc;
	r = w_begin_why(&w, pf, 0, TXN_ROLLBACK, why, lower.size ? &lower : NULL);
	if (!r)
		r = w_rollback(&w, gen);
	if (!r)
		r = w_commit(&w, (uint32_t)st.count, st.bytes);
	if (r == -ENOSPC)
		perr_set(&res->err, r, "the save file is full: run persist compact first");
	res->gen = pf->hdr.gen;
	res->state_entries = st.count;
	w_abort(&w);
	state_free(&st);
	return r;
}
