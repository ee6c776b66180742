/* journal.c: the reader: opens a save file, picks a header slot, reads and checks one record (replay.c replays). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "crc32c.h"
#include "io.h"
#include "persist.h"

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
		return perr_set(&pf->err, -e, "%s", strerror(e));
	}
	/* One writer at a time: a second save would interleave its records with ours. */
	if (writable && flock(pf->fd, LOCK_EX | LOCK_NB) < 0)
		return perr_set(&pf->err, -errno, errno == EWOULDBLOCK ? "another persist is writing it" :
				"cannot lock it: %s", strerror(errno));
	if (fstat(pf->fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return perr_set(&pf->err, -EINVAL, "not a regular file");
	pf->size = (uint64_t)st.st_size;
	if (pf->size < PF_MIN_SIZE)
		return perr_set(&pf->err, -EBADMSG, "too small to be a save file (%llu bytes)",
				(unsigned long long)pf->size);
	for (i = 0; i < 2; i++) {
		r[i] = read_slot(pf, i, &h[i]);
		if (r[i] && r[i] != -EBADMSG && r[i] != -EPROTONOSUPPORT)
			return r[i];
	}
	if (r[0] && r[1]) {
		if (r[0] == -EPROTONOSUPPORT || r[1] == -EPROTONOSUPPORT)
			return perr_set(&pf->err, -EPROTONOSUPPORT,
					"unknown save file version or compression (this persist reads versions %d "
					"to %d, compression none and zstd)", PF_VERSION_PLAIN, PF_VERSION);
		return perr_set(&pf->err, -EBADMSG, "no valid header (not a save file, or damaged)");
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
	pz_free(&pf->z);
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
	pf->z.pk_at = pf->z.blob_at = 0;
	return 0;
}

/* The record buffer grows to the largest record read (bounded by PF_REC_MAX). */
int pf_rbuf_need(struct pfile *pf, size_t n)
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
 * Reads n bytes at absolute offset off. Small reads go through a window: 64 KiB while the reads
 * run on from the last window (a journal of many small records costs few syscalls), to the next
 * 4 KiB boundary and 4 KiB more after a jump (a metadata-only replay skipping a DATA or BLOB
 * payload needs only the next record's head: a cold catalogue read of a large save was most of
 * its time in reading 64 KiB for each). Large reads go straight to dst, so that a metadata-only
 * replay that skips DATA payloads does not read them.
 */
#define PF_WINDOW (64 * 1024)
#define PF_WINDOW_JUMP 4096
static int pf_pread(struct pfile *pf, void *dst, size_t n, uint64_t off, size_t *got)
{
	size_t want = PF_WINDOW;
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
	if (off < pf->win_off || off > pf->win_off + pf->win_len + PF_WINDOW_JUMP) {
		want = 2 * PF_WINDOW_JUMP - (size_t)(off % PF_WINDOW_JUMP);
		if (want < n)
			want = n;
	}
	pf->win_len = 0;
	pf->win_off = off;
	r = pread_all(pf->fd, pf->win, want, (off_t)off, &pf->win_len);
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

/* A record's header: u32 crc, u32 type, u32 payload length, u32 0. */
static void rec_head(const unsigned char *b, uint32_t *type, uint32_t *len)
{
	*type = get_le32(b + 4);
	*len = get_le32(b + 8);
}

/* A PACK's CRC32C of its raw bytes made right (when its frame decompresses to its raw length). */
static void fix_pack(unsigned char *r, uint32_t len)
{
	unsigned char *raw;
	uint32_t n;
	size_t got;

	if (len <= PF_PACK_HDR || (n = get_le32(r + PF_REC_HDR)) > PF_DATA_CHUNK || !(raw = malloc(n ? n : 1)))
		return;
	got = ZSTD_decompress(raw, n, r + PF_REC_HDR + PF_PACK_HDR, len - PF_PACK_HDR);
	if (!ZSTD_isError(got) && got == n)
		put_le32(r + PF_REC_HDR + 4, crc32c(0, raw, n));
	free(raw);
}

void pf_fix_checksums(unsigned char *img, size_t size)
{
	for (int slot = 0; slot < 2; slot++) {
		unsigned char *b = img + (size_t)slot * PF_SLOT_SIZE;
		struct phdr h;
		uint64_t base, off = 0;

		if (size < (size_t)slot * PF_SLOT_SIZE + PF_HDR_LEN || memcmp(b, PF_MAGIC, 8))
			continue;
		put_le32(b + PF_HDR_CRC, crc32c(0, b, PF_HDR_CRC));
		if (hdr_decode(b, &h))
			continue;
		base = pf_area_base(&h, h.area);
		while (off < h.end && base <= size && size - base >= PF_REC_HDR && off <= size - base - PF_REC_HDR) {
			unsigned char *r = img + base + off;
			uint32_t type, len;

			rec_head(r, &type, &len);
			if (type == 0 || len > PF_REC_MAX || rec_size(len) > size - base - off)
				break;
			if (type == REC_PACK || type == REC_BLOB)	/* one layout */
				fix_pack(r, len);
			put_le32(r, rec_crc(h.epoch, r, len));
			off += rec_size(len);
			if (type == REC_COMMIT)	/* the next transaction starts on its own block */
				off = (off + PF_TXN_ALIGN - 1) & ~(uint64_t)(PF_TXN_ALIGN - 1);
		}
	}
}

/*
 * The record at offset in of the PACK at area offset pack, expanded in pf->z: into pf->rbuf as
 * pf_read_rec puts an outer one. A record inside a PACK has no CRC of its own (its field is 0):
 * the PACK's record CRC covers the stored frame, its CRC32C the raw bytes. Only ENTRY, DATA,
 * DELETE and ROLLBACK are packed, and REF in version 4 (v4): BEGIN and COMMIT frame the
 * transaction outside, and a PACK or BLOB is never in a PACK.
 */
static int inner_rec(struct pfile *pf, uint64_t pack, uint32_t in, int want_data, int v4, uint32_t *type,
		     uint32_t *len, uint64_t *next)
{
	const struct pzstd *z = &pf->z;
	const unsigned char *b = z->pk + in;
	size_t want;
	int r;

	if (in > z->pk_len || z->pk_len - in < PF_REC_HDR)
		return perr_set(&pf->err, -EBADMSG, "truncated record in the PACK at area offset %llu",
				(unsigned long long)pack);
	rec_head(b, type, len);
	if (get_le32(b) != 0 || get_le32(b + 12) != 0 || *len > PF_REC_MAX || rec_size(*len) > z->pk_len - in ||
	    (*type != REC_ENTRY && *type != REC_DATA && *type != REC_DELETE && *type != REC_ROLLBACK &&
	     (*type != REC_REF || !v4)))
		return perr_set(&pf->err, -EBADMSG, "bad record header at offset %u of the PACK at area offset %llu",
				in, (unsigned long long)pack);
	want = *type == REC_DATA && !want_data && *len > 8 ? 8 : *len;
	if ((r = pf_rbuf_need(pf, PF_REC_HDR + want + 8)))
		return r;
	memcpy(pf->rbuf, b, PF_REC_HDR + want);
	pf->in_pack = 1;
	in += (uint32_t)rec_size(*len);
	*next = in < z->pk_len ? pf_off_inner(pack, in) : z->pk_next;
	pf->nread++;
	return 0;
}

/*
 * Reads the record at area offset off (below end) into pf->rbuf and checks it. Without
 * want_data a DATA record's payload is not read (only its offset and lengths): the catalogue does
 * not need it, and a save must not cost a read of every byte ever saved; nor a BLOB's (version 4:
 * only its raw length; fdata.c expands it). A PACK (version 3) is read whole, checked and
 * expanded; its offset stands for its first record, and each record in
 * it has an offset of its own (pf_off_inner): the callers see the records, never the PACK.
 */
int pf_read_rec(struct pfile *pf, const struct phdr *h, uint64_t off, uint64_t end, int want_data,
		uint32_t *type, uint32_t *len, uint64_t *next)
{
	uint64_t base = pf_area_base(h, h->area), pack = off;
	uint32_t in = 0;
	unsigned char *b;
	size_t got;
	int r;

	if (off & PF_OFF_INNER) {
		pack = (off & ((1ull << 40) - 1)) * 8;
		in = (uint32_t)((off >> 40) & ((1u << 22) - 1)) * 8;
		if (pack >= end || in == 0)
			return perr_set(&pf->err, -EBADMSG, "bad record offset");
	}
	/* the PACK expanded last (the next record of a replay, or of a file's data run) */
	if (pf->z.pk_at == base + pack + 1 && pack < end)
		return inner_rec(pf, pack, in, want_data, h->version >= PF_VERSION, type, len, next);
	if ((r = pf_rbuf_need(pf, PF_REC_HDR)))
		return r;
	b = pf->rbuf;

	if (pack > end || end - pack < PF_REC_HDR)
		return perr_set(&pf->err, -EBADMSG, "truncated record at area offset %llu", (unsigned long long)pack);
	r = pf_pread(pf, b, PF_REC_HDR, base + pack, &got);
	if (r)
		return r;
	if (got != PF_REC_HDR)
		return perr_set(&pf->err, -EBADMSG, "file ends inside a record");
	rec_head(b, type, len);
	if (*type == 0 || *type >= REC_TYPES || get_le32(b + 12) != 0 || *len > PF_REC_MAX ||
	    rec_size(*len) > end - pack || (*type == REC_ZDATA && h->comp != PC_ZSTD) ||
	    (*type == REC_PACK && h->version < PF_VERSION_PACK) || (in && *type != REC_PACK) ||
	    ((*type == REC_BLOB || *type == REC_REF) && h->version < PF_VERSION))
		return perr_set(&pf->err, -EBADMSG, "bad record header at area offset %llu", (unsigned long long)pack);
	size_t want = *len;
	/* without want_data, a data record's head only: its offset (and a ZDATA's raw length), a BLOB's
	 * raw length */
	if ((rec_is_data(*type) || *type == REC_BLOB) && !want_data) {
		size_t head = *type == REC_DATA ? 8 : *type == REC_BLOB ? PF_PACK_HDR : PF_ZDATA_HDR;
		want = *len < head ? *len : head;
	}
	if ((r = pf_rbuf_need(pf, PF_REC_HDR + want + 8)))
		return r;
	b = pf->rbuf;
	r = pf_pread(pf, b + PF_REC_HDR, want, base + pack + PF_REC_HDR, &got);
	if (r)
		return r;
	if (got != want)
		return perr_set(&pf->err, -EBADMSG, "file ends inside a record");
	if (want == *len && rec_crc(h->epoch, b, *len) != get_le32(b))
		return perr_set(&pf->err, -EBADMSG, "checksum mismatch in record at area offset %llu",
				(unsigned long long)pack);
	*next = pack + rec_size(*len);
	if (*type != REC_PACK) {
		pf->nread++;
		pf->in_pack = 0;
		return 0;
	}
	if ((r = pz_unpack(&pf->z, b + PF_REC_HDR, *len, "PACK", &pf->err)))
		return perr_at(&pf->err, r, pack);
	pf->z.pk_at = base + pack + 1;
	pf->z.pk_next = *next;
	return inner_rec(pf, pack, in, want_data, h->version >= PF_VERSION, type, len, next);
}
