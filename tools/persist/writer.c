/* writer.c: appends one transaction in place, commits it durably, then flips the header slot. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1   /* <linux/fs.h>; not every libc's headers say it */
#endif
#include "crc32c.h"
#include "io.h"
#include "persist.h"
#include "vec.h"

#define WBUF_SIZE (4u * 1024 * 1024)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int w_flush(struct pwriter *w)
{
	int r;

	if (!w->blen)
		return 0;
	w->pf->win_len = 0;	/* the reader's window and PACK may hold what we overwrite */
	w->pf->z.pk_at = w->pf->z.blob_at = 0;
	r = pwrite_all(w->pf->fd, w->buf, w->blen, (off_t)(w->base + w->bstart));
	if (r)
		return r;
	w->bstart += w->blen;
	w->blen = 0;
	return 0;
}

/* One record from up to two payload parts, CRC seeded with the area's epoch, into the area. */
static int w_out(struct pwriter *w, uint32_t type, const void *a, size_t na, const void *b, size_t nb)
{
	uint32_t len = (uint32_t)(na + nb);
	uint64_t sz = rec_size(len);
	unsigned char *p;
	int r;

	if (na + nb > PF_REC_MAX)
		return -E2BIG;
	if (sz > w->limit - w->pos)
		return -ENOSPC;
	if (w->blen + sz > WBUF_SIZE && (r = w_flush(w)))
		return r;
	p = w->buf + w->blen;
	memset(p, 0, (size_t)sz);
	put_le32(p + 4, type);
	put_le32(p + 8, len);
	if (na)
		memcpy(p + PF_REC_HDR, a, na);
	if (nb)
		memcpy(p + PF_REC_HDR + na, b, nb);
	put_le32(p, rec_crc(w->next.epoch, p, len));
	w->blen += (size_t)sz;
	w->pos += sz;
	w->nrec++;
	w->written += sz;
	return 0;
}

/* The BLOB being filled: the small files' bytes, one frame; its REFs in pack[0] get its offset. */
static int blob_flush(struct pwriter *w)
{
	unsigned char h[PF_PACK_HDR];
	uint64_t at = w->pos;
	size_t zn, i;
	int r;

	if (!w->bllen)
		return 0;
	if (w->bllen < PF_REC_HDR) {	/* a BLOB's raw length is at least 16, as a PACK's */
		memset(w->blob + w->bllen, 0, PF_REC_HDR - w->bllen);
		w->bllen = PF_REC_HDR;
	}
	if ((r = pz_pack(&w->z, w->blob, w->bllen, w->pz, pz_pack_bound(), &zn)))
		return r;
	put_le32(h, (uint32_t)w->bllen);
	put_le32(h + 4, crc32c(0, w->blob, w->bllen));
	if ((r = w_out(w, REC_BLOB, h, sizeof h, w->pz, zn)))
		return r;
	for (i = 0; i < w->nrefs; i++)
		put_le64(w->pack[0] + w->refs[i], at);
	w->nrefs = 0;
	w->bllen = 0;
	return 0;
}

/*
 * The PACK being filled, compressed into one PACK record (u32 raw length, u32 CRC32C of the raw
 * bytes, the frame), after the BLOB its REFs point into. The first PACK flushed after a mark is
 * kept in pack[1], so that a rewind to the mark can take back the records it held from before the
 * mark (version 3; version 4 flushes everything at a mark).
 */
static int pack_flush(struct pwriter *w)
{
	unsigned char h[PF_PACK_HDR];
	unsigned char *t;
	size_t zn;
	int r;

	if ((r = blob_flush(w)))
		return r;
	if (!w->plen[0])
		return 0;
	if ((r = pz_pack(&w->z, w->pack[0], w->plen[0], w->pz, pz_pack_bound(), &zn)))
		return r;
	put_le32(h, (uint32_t)w->plen[0]);
	put_le32(h + 4, crc32c(0, w->pack[0], w->plen[0]));
	if ((r = w_out(w, REC_PACK, h, sizeof h, w->pz, zn)))
		return r;
	w->nrec--;	/* the records in it are counted, not the PACK */
	if (w->flushes++ == w->marked) {
		t = w->pack[1];
		w->pack[1] = w->pack[0];
		w->pack[0] = t;
		w->plen[1] = w->plen[0];
	}
	w->plen[0] = 0;
	return 0;
}

/*
 * Records a PACK holds (persist-format.md): in version 3 the entries and the small data; in
 * version 4 the entries and REFs, never data, and not the ENTRY that owns a run of outer data
 * records (it stands right after them).
 */
static int packed(const struct pwriter *w, uint32_t type, size_t len)
{
	if (!w->pack[0])
		return 0;
	if (w->blob)
		return (type == REC_ENTRY && !w->run) || type == REC_DELETE || type == REC_ROLLBACK || type == REC_REF;
	return type == REC_ENTRY || type == REC_DELETE || type == REC_ROLLBACK ||
	       (type == REC_DATA && len <= 8 + PF_PACK_DATA_MAX);
}

/*
 * One record: into the PACK being filled (the records packed() names; no CRC of its own) or into
 * the area, after the PACK before it, so that the records stay in their order.
 */
static int w_rec(struct pwriter *w, uint32_t type, const void *a, size_t na, const void *b, size_t nb)
{
	uint64_t sz = rec_size((uint32_t)(na + nb));
	unsigned char *p;
	int r;

	if (!packed(w, type, na + nb)) {
		if ((r = pack_flush(w)) || (r = w_out(w, type, a, na, b, nb)))
			return r;
		w->run = rec_is_data(type);
		return 0;
	}
	w->run = 0;
	if (w->plen[0] + sz > PF_DATA_CHUNK && (r = pack_flush(w)))
		return r;
	p = w->pack[0] + w->plen[0];
	memset(p, 0, (size_t)sz);
	put_le32(p + 4, type);
	put_le32(p + 8, (uint32_t)(na + nb));
	if (na)
		memcpy(p + PF_REC_HDR, a, na);
	if (nb)
		memcpy(p + PF_REC_HDR + na, b, nb);
	w->plen[0] += (size_t)sz;
	w->nrec++;
	return 0;
}

int w_begin(struct pwriter *w, struct pfile *pf, int fresh_area, uint32_t kind,
	    const struct lower_id *lower)
{
	return w_begin_why(w, pf, fresh_area, kind, 0, lower);
}

int w_begin_why(struct pwriter *w, struct pfile *pf, int fresh_area, uint32_t kind, uint32_t why,
		const struct lower_id *lower)
{
	unsigned char b[PF_BEGIN_LEN];
	struct rec_begin rb;

	memset(w, 0, sizeof *w);
	w->pf = pf;
	w->next = pf->hdr;
	w->next.seq++;
	w->next.gen++;
	if (fresh_area) {
		w->next.area = !pf->hdr.area;
		w->next.epoch = w->next.gen;
		w->next.end = 0;
	}
	w->base = pf_area_base(&w->next, w->next.area);
	/*
	 * A transaction starts on a fresh 4 KiB block: a torn write of the block it starts in can
	 * then never damage the committed records before it (flash rewrites whole pages).
	 */
	w->pos = w->bstart = (w->next.end + PF_TXN_ALIGN - 1) & ~(uint64_t)(PF_TXN_ALIGN - 1);
	w->limit = w->next.area_size;
	if (w->pos > w->limit)
		return -ENOSPC;
	w->next.time_ns = now_ns();
	w->next.lower_size = lower ? lower->size : 0;
	w->next.lower_crc = lower ? lower->crc : 0;
	w->buf = malloc(WBUF_SIZE);
	if (!w->buf)
		return -ENOMEM;
	if (w->next.comp == PC_ZSTD && w->next.version >= PF_VERSION_PACK) {
		w->pack[0] = malloc(PF_DATA_CHUNK);
		w->pack[1] = malloc(PF_DATA_CHUNK);
		w->pz = malloc(pz_pack_bound());
		if (!w->pack[0] || !w->pack[1] || !w->pz)
			return -ENOMEM;
		if (w->next.version >= PF_VERSION && !(w->blob = malloc(PF_DATA_CHUNK)))
			return -ENOMEM;
	}
	rb = (struct rec_begin){ .gen = w->next.gen, .time_ns = w->next.time_ns, .kind = kind, .why = why,
				 .lower_size = w->next.lower_size, .lower_crc = w->next.lower_crc };
	begin_encode(&rb, b);
	return w_rec(w, REC_BEGIN, b, sizeof b, NULL, 0);
}

/* e as the writer encodes it: with EF_RECENT when its ctime is recent for this save (recent_since) */
static void w_encode(const struct pwriter *w, const struct pentry *e, unsigned char *b)
{
	struct pentry c = *e;

	if (w->recent_since && c.ctime_sec * 1000000000LL + c.ctime_nsec > w->recent_since - PF_RECENT_NS)
		c.flags |= EF_RECENT;
	entry_encode(&c, b);
}

int w_entry(struct pwriter *w, const struct pentry *e)
{
	size_t n = entry_encoded_len(e);
	unsigned char *b;
	int r;

	if (n > PF_ENTRY_PAYLOAD_MAX)
		return -E2BIG;
	b = malloc(n);
	if (!b)
		return -ENOMEM;
	w_encode(w, e, b);
	r = w_rec(w, REC_ENTRY, b, n, NULL, 0);
	free(b);
	return r;
}

/*
 * n raw bytes at file offset off. In a zstd file they are a ZDATA record when the frame makes the
 * payload smaller than a DATA record's, else (they do not compress) a DATA record, as they are;
 * in version 3 a chunk of at most PF_PACK_DATA_MAX bytes is a DATA record in a PACK (compressed
 * with the records beside it); in version 4 data records are never packed (w_small is).
 */
int w_data(struct pwriter *w, uint64_t off, const void *p, size_t n)
{
	unsigned char o[PF_ZDATA_HDR] = { 0 };
	size_t zn = 0;
	int r;

	put_le64(o, off);
	if (w->next.comp == PC_ZSTD && n > PF_ZDATA_HDR && !packed(w, REC_DATA, 8 + n)) {
		r = pz_compress(&w->z, p, n, n - (PF_ZDATA_HDR - 8), &zn);
		if (r)
			return r;
	}
	if (!zn)
		return w_rec(w, REC_DATA, o, 8, p, n);
	put_le32(o + 8, (uint32_t)n);
	return w_rec(w, REC_ZDATA, o, PF_ZDATA_HDR, w->z.buf, zn);
}

/*
 * Version 4: a small file's n bytes (1 .. PF_PACK_DATA_MAX), whole, into the BLOB being filled at
 * a multiple of 8, then a REF to them and its ENTRY e into the PACK, the two together: the REF
 * stands for the file's data run, and a BLOB is never written between them. The REF gets the
 * BLOB's area offset when the BLOB is written (blob_flush, before the PACK).
 */
int w_small(struct pwriter *w, const void *p, size_t n, const struct pentry *e)
{
	unsigned char ref[PF_REF_LEN];
	size_t at, en = entry_encoded_len(e);
	int r;

	if (!w->blob || n == 0 || n > PF_PACK_DATA_MAX || en > PF_ENTRY_PAYLOAD_MAX)
		return -EINVAL;
	/* room first, so that the REF's place in pack[0] is known (a PACK's flush writes its BLOB) */
	if (w->bllen + n > PF_DATA_CHUNK && (r = blob_flush(w)))
		return r;
	if (w->plen[0] + rec_size(PF_REF_LEN) + rec_size((uint32_t)en) > PF_DATA_CHUNK && (r = pack_flush(w)))
		return r;
	if ((r = vec_reserve((void **)&w->refs, &w->refcap, w->nrefs, sizeof *w->refs, 256)))
		return r;
	ref_encode(0, (uint32_t)w->bllen, ref);	/* the BLOB's offset: when it is written */
	at = w->plen[0] + PF_REC_HDR;
	memcpy(w->blob + w->bllen, p, n);
	memset(w->blob + w->bllen + n, 0, (8 - n % 8) % 8);
	if ((r = w_rec(w, REC_REF, ref, sizeof ref, NULL, 0)))
		return r;
	w->refs[w->nrefs++] = at;
	w->bllen += (n + 7) & ~(size_t)7;
	return w_entry(w, e);
}

/* A record read from this file, copied as it is (compaction: no second compression). */
int w_copy(struct pwriter *w, uint32_t type, const void *payload, size_t len)
{
	return w_rec(w, type, payload, len, NULL, 0);
}

int w_delete(struct pwriter *w, const char *path)
{
	return w_rec(w, REC_DELETE, path, strlen(path), NULL, 0);
}

int w_rollback(struct pwriter *w, uint64_t gen)
{
	unsigned char b[8];

	put_le64(b, gen);
	return w_rec(w, REC_ROLLBACK, b, 8, NULL, 0);
}

/*
 * Version 4 writes what it holds first (the BLOB, then the PACK): only outer data records follow
 * a mark until its file's ENTRY, so a rewind has nothing in memory to take back.
 */
int w_mark(struct pwriter *w, struct wmark *m)
{
	int r = w->blob ? pack_flush(w) : 0;

	*m = (struct wmark){ w->pos, w->nrec, w->written, w->plen[0], w->flushes };
	w->marked = w->flushes;
	return r;
}

/* Forgets what was appended since the mark: nothing points at it, a later record overwrites it. */
void w_rewind(struct pwriter *w, struct wmark m)
{
	if (w->flushes != m.flushes) {	/* the PACK of the mark was flushed since: it is in pack[1] */
		unsigned char *t = w->pack[0];
		w->pack[0] = w->pack[1];
		w->pack[1] = t;
		w->flushes = m.flushes;
	}
	w->plen[0] = m.plen;
	if (m.pos >= w->bstart) {
		w->blen = (size_t)(m.pos - w->bstart);
	} else {
		w->bstart = m.pos;
		w->blen = 0;
	}
	w->pos = m.pos;
	w->nrec = m.nrec;
	w->written = m.written;
	w->run = 0;
}

/*
 * The commit protocol: COMMIT record, fdatasync (the transaction is durable), then the header
 * published (pf_publish: the generation is acknowledged). See persist-format.md.
 */
int w_commit(struct pwriter *w, uint32_t entries, uint64_t bytes)
{
	struct rec_commit c = { .gen = w->next.gen, .entries = entries, .bytes = bytes };
	unsigned char b[PF_COMMIT_LEN];
	struct pfile *pf = w->pf;
	int r;

	/* what is held first: a BLOB written is a record of the transaction, counted */
	if ((r = pack_flush(w)))
		return r;
	c.nrec = w->nrec + 1;
	commit_encode(&c, b);
	r = w_rec(w, REC_COMMIT, b, sizeof b, NULL, 0);
	if (!r)
		r = w_flush(w);
	if (!r && fdatasync(pf->fd) < 0)
		r = -errno;
	if (r)
		return r;
	w->next.end = w->pos;
	w->next.entries = entries;
	w->next.bytes = bytes;
	r = pf_publish(pf, &w->next);
	if (!r)
		w_abort(w);
	return r;
}

void w_abort(struct pwriter *w)
{
	free(w->buf);
	free(w->pack[0]);
	free(w->pack[1]);
	free(w->pz);
	free(w->blob);
	free(w->refs);
	w->buf = w->pz = w->pack[0] = w->pack[1] = w->blob = NULL;
	w->refs = NULL;
	w->nrefs = w->refcap = 0;
	pz_free(&w->z);
}

/*
 * Creates and preallocates a save file: the only step that allocates (persist-format.md). The file
 * is written under a temporary name beside it (PATH.init), made durable, then renamed into place
 * and synced again with its directory: a power cut leaves no save file, an empty one or a whole
 * one, never a file the next save cannot use and init refuses to replace. A temporary left by a
 * cut is this function's own, and the next init replaces it, as it replaces an empty PATH.
 */
int pf_create(const char *path, uint64_t size, uint32_t comp)
{
	return pf_create_version(path, size, comp, comp == PC_NONE ? PF_VERSION_PLAIN : PF_VERSION);
}

/* version: 3 (or 2, what persist before PACK made: for the tests of old files) for zstd, 1 for none */
int pf_create_version(const char *path, uint64_t size, uint32_t comp, uint32_t version)
{
	struct phdr hd = { 0 };
	unsigned char *zero = NULL;
	char *tmp = NULL, *dcopy = NULL;
	struct stat st;
	uint64_t done;
	int fd = -1, dfd = -1, r = 0, made = 0, empty = 0;

	if (size < PF_MIN_SIZE || size > PF_MAX_SIZE)
		return -ERANGE;
	if (comp >= PC_KINDS || (comp == PC_NONE) != (version == PF_VERSION_PLAIN) || version > PF_VERSION)
		return -EINVAL;
	size &= ~(uint64_t)4095;
	/* An empty file holds nothing to lose: what a cut of an older init, or of this one's rename on
	 * vfat, can leave. Anything else is never replaced. */
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode) || st.st_size != 0)
			return -EEXIST;
		empty = 1;
	} else if (errno != ENOENT) {
		return -errno;
	}
	/* More than its file system holds in one file (FAT: 4 GiB - 1): refused before anything is written */
	struct pf_fslimit lim;
	if (pf_fs_limit_of_dir(path, &lim) == 0 && size > lim.max)
		return -EFBIG;
	tmp = malloc(strlen(path) + sizeof PF_INIT_SUFFIX);
	dcopy = strdup(path);
	/* Room first: writing zeros until the file system is full would leave it full, and the file
	 * system is the user's (the medium, a data partition). */
	struct statvfs fs;
	if (dcopy && statvfs(dirname(strcpy(dcopy, path)), &fs) == 0 &&
	    (uint64_t)fs.f_bavail * fs.f_frsize < size) {
		free(tmp);
		free(dcopy);
		return -ENOSPC;
	}
	if (dcopy)
		strcpy(dcopy, path);
	zero = calloc(1, PF_DATA_CHUNK);
	if (!tmp || !dcopy || !zero) {
		r = -ENOMEM;
		goto out;
	}
	strcpy(tmp, path);
	strcat(tmp, PF_INIT_SUFFIX);
	if (unlink(tmp) < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	made = 1;
	for (done = 0; done < size && !r; done += PF_DATA_CHUNK) {
		uint64_t n = size - done < PF_DATA_CHUNK ? size - done : PF_DATA_CHUNK;
		r = write_all(fd, zero, (size_t)n);
	}
	if (r)
		goto out;
	hd.seq = 1;
	hd.file_size = size;
	hd.area_size = ((size - PF_DATA_START) / 2) & ~(uint64_t)4095;
	hd.epoch = 1;
	hd.time_ns = now_ns();
	hd.comp = comp;		/* every later header copies it: it never changes */
	hd.version = version;
	/* slot A: the new file's slot B (zeros) counts as the one read; fsync for its size too */
	r = pf_publish(&(struct pfile){ .fd = fd, .slot = 1 }, &hd);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (r)
		goto out;
	/* RENAME_NOREPLACE where the file system has it; else the check above stands for it */
	if (empty)
		r = rename(tmp, path) < 0 ? -errno : 0;
	else if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EINVAL || r == -ENOSYS)
			r = rename(tmp, path) < 0 ? -errno : 0;
	}
	if (r)
		goto out;
	/*
	 * The file again, then its directory. vfat's rename writes the new directory entry with no
	 * clusters and size 0 and leaves the file's own inode to fill them in at its next write-back:
	 * synced now, or a cut after the directory's fsync finds an empty save file.
	 */
	if (fsync(fd) < 0 || (dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) < 0)
		r = -errno;   /* the file is in place; only its durability is unsure: say so */
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (r && made)
		(void)unlink(tmp);   /* gone already once renamed */
	free(tmp);
	free(dcopy);
	free(zero);
	return r;
}
