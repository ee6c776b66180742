/* codec.c: encode and decode the save file's header and entries; check untrusted paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "crc32c.h"
#include "persist.h"

uint64_t rec_size(uint32_t len)
{
	return (PF_REC_HDR + (uint64_t)len + 7) & ~(uint64_t)7;
}

void hdr_encode(const struct phdr *h, unsigned char b[PF_HDR_LEN])
{
	memset(b, 0, PF_HDR_LEN);
	memcpy(b, PF_MAGIC, 8);
	/* an uncompressed file stays version 1, which a persist from before compression reads; a zstd
	 * file is 2, 3 or 4, as it was made (every header copies the one before) */
	put_le32(b + 8, h->comp == PC_NONE ? PF_VERSION_PLAIN : h->version >= PF_VERSION_ZDATA ? h->version : PF_VERSION);
	put_le32(b + 12, PF_HDR_LEN);
	put_le64(b + 16, h->seq);
	put_le64(b + 24, h->gen);
	put_le64(b + 32, h->file_size);
	put_le64(b + 40, h->area_size);
	put_le32(b + 48, h->area);
	put_le32(b + 52, h->flags);
	put_le64(b + 56, h->epoch);
	put_le64(b + 64, h->end);
	put_le64(b + 72, h->time_ns);
	put_le64(b + 80, h->lower_size);
	put_le32(b + 88, h->lower_crc);
	put_le32(b + 92, h->entries);
	put_le64(b + 96, h->bytes);
	if (h->comp != PC_NONE)
		put_le32(b + 104, h->comp);
	put_le32(b + PF_HDR_CRC, crc32c(0, b, PF_HDR_CRC));
}

/* BEGIN: u64 gen, u64 time_ns, u32 kind, u32 why (0 but in a rollback the init wrote; readers
 * before it ignore it), u64 lower size, u32 lower crc, u32 0. */
void begin_encode(const struct rec_begin *b, unsigned char p[PF_BEGIN_LEN])
{
	memset(p, 0, PF_BEGIN_LEN);
	put_le64(p, b->gen);
	put_le64(p + 8, b->time_ns);
	put_le32(p + 16, b->kind);
	put_le32(p + 20, b->why);
	put_le64(p + 24, b->lower_size);
	put_le32(p + 32, b->lower_crc);
}

/* The payload of len bytes; -EBADMSG unless it is a BEGIN's length (the caller checks the rest). */
int begin_decode(const unsigned char *p, uint32_t len, struct rec_begin *b)
{
	if (len != PF_BEGIN_LEN)
		return -EBADMSG;
	b->gen = get_le64(p);
	b->time_ns = get_le64(p + 8);
	b->kind = get_le32(p + 16);
	b->why = get_le32(p + 20);
	b->lower_size = get_le64(p + 24);
	b->lower_crc = get_le32(p + 32);
	return 0;
}

/* COMMIT: u64 gen, u32 records in the transaction, u32 entries in the state, u64 data bytes. */
void commit_encode(const struct rec_commit *c, unsigned char p[PF_COMMIT_LEN])
{
	put_le64(p, c->gen);
	put_le32(p + 8, c->nrec);
	put_le32(p + 12, c->entries);
	put_le64(p + 16, c->bytes);
}

int commit_decode(const unsigned char *p, uint32_t len, struct rec_commit *c)
{
	if (len != PF_COMMIT_LEN)
		return -EBADMSG;
	c->gen = get_le64(p);
	c->nrec = get_le32(p + 8);
	c->entries = get_le32(p + 12);
	c->bytes = get_le64(p + 16);
	return 0;
}

/* REF: u64 a BLOB's area offset, u32 an offset in its raw bytes, u32 zero */
void ref_encode(uint64_t blob, uint32_t in, unsigned char p[PF_REF_LEN])
{
	put_le64(p, blob);
	put_le32(p + 8, in);
	put_le32(p + 12, 0);
}

int ref_decode(const unsigned char *p, uint32_t len, uint64_t *blob, uint32_t *in)
{
	if (len != PF_REF_LEN || get_le32(p + 12) != 0)
		return -EBADMSG;
	*blob = get_le64(p);
	*in = get_le32(p + 8);
	return 0;
}

/* Checks magic, version, CRC and geometry against itself; the caller checks the real file size. */
int hdr_decode(const unsigned char *b, struct phdr *h)
{
	if (memcmp(b, PF_MAGIC, 8) != 0)
		return -EBADMSG;
	if (get_le32(b + PF_HDR_CRC) != crc32c(0, b, PF_HDR_CRC))
		return -EBADMSG;
	uint32_t version = get_le32(b + 8);
	if (version < PF_VERSION_PLAIN || version > PF_VERSION || get_le32(b + 12) != PF_HDR_LEN)
		return -EPROTONOSUPPORT;
	/* version 1 has no compression field (its bytes are reserved); 2, 3 and 4 name one */
	h->version = version;
	h->comp = version == PF_VERSION_PLAIN ? PC_NONE : get_le32(b + 104);
	if (version != PF_VERSION_PLAIN && (h->comp == PC_NONE || h->comp >= PC_KINDS))
		return -EPROTONOSUPPORT;
	h->seq = get_le64(b + 16);
	h->gen = get_le64(b + 24);
	h->file_size = get_le64(b + 32);
	h->area_size = get_le64(b + 40);
	h->area = get_le32(b + 48);
	h->flags = get_le32(b + 52);
	h->epoch = get_le64(b + 56);
	h->end = get_le64(b + 64);
	h->time_ns = get_le64(b + 72);
	h->lower_size = get_le64(b + 80);
	h->lower_crc = get_le32(b + 88);
	h->entries = get_le32(b + 92);
	h->bytes = get_le64(b + 96);
	if (h->area > 1 || h->flags != 0 || h->file_size > PF_MAX_SIZE || h->file_size < PF_MIN_SIZE)
		return -EBADMSG;
	if (h->area_size % 4096 || h->area_size == 0 ||
	    h->area_size > (h->file_size - PF_DATA_START) / 2 || h->end > h->area_size)
		return -EBADMSG;
	return 0;
}

/*
 * A relative path without empty, "." or ".." components and without NUL; "." alone is the root.
 * Component by component with memchr (a word at a time): every catalogue entry's path is checked
 * at each load, and a byte loop was a tenth of a one-file save.
 */
int path_check(const char *p, size_t len)
{
	const char *s = p, *end = p + len;

	if (len == 1 && p[0] == '.')
		return 0;
	if (len == 0 || len > PF_PATH_MAX || memchr(p, 0, len))
		return -EINVAL;
	for (;;) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		size_t n = (size_t)((slash ? slash : end) - s);
		if (n == 0 || n > PF_NAME_MAX)
			return -EINVAL;
		if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')))
			return -EINVAL;
		if (!slash)
			return 0;
		s = slash + 1;
	}
}

size_t entry_encoded_len(const struct pentry *e)
{
	return PF_ENTRY_FIXED + strlen(e->path) + (e->target ? strlen(e->target) : 0) + e->xattr_len;
}

void entry_encode(const struct pentry *e, unsigned char *b)
{
	size_t pl = strlen(e->path), tl = e->target ? strlen(e->target) : 0;

	memset(b, 0, PF_ENTRY_FIXED);
	put_le32(b, e->type);
	put_le32(b + 4, e->mode);
	put_le32(b + 8, e->uid);
	put_le32(b + 12, e->gid);
	put_le64(b + 16, e->rdev);
	put_le64(b + 24, e->size);
	put_le64(b + 32, (uint64_t)e->mtime_sec);
	put_le32(b + 40, e->mtime_nsec);
	put_le32(b + 44, e->flags);
	put_le64(b + 48, e->ino);
	put_le64(b + 56, (uint64_t)e->ctime_sec);
	put_le32(b + 64, e->ctime_nsec);
	put_le32(b + 68, e->crc);
	put_le64(b + 72, e->group);
	put_le32(b + 80, pl);
	put_le32(b + 84, tl);
	put_le32(b + 88, e->nxattr);
	put_le32(b + 92, e->xattr_len);
	memcpy(b + PF_ENTRY_FIXED, e->path, pl);
	if (tl)
		memcpy(b + PF_ENTRY_FIXED + pl, e->target, tl);
	if (e->xattr_len)
		memcpy(b + PF_ENTRY_FIXED + pl + tl, e->xattrs, e->xattr_len);
}

/* Walks an encoded xattr list: count and bytes must agree, names sorted, unique, NUL-free. */
int xattrs_check(const unsigned char *x, uint32_t n, uint32_t len)
{
	uint32_t off = 0, i;
	const unsigned char *prev = NULL;
	uint16_t prevlen = 0;

	if (n > PF_XATTR_COUNT_MAX || len > PF_XATTR_BYTES_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		if (len - off < 8)
			return -EINVAL;
		uint16_t nl = get_le16(x + off);
		uint32_t vl = get_le32(x + off + 4);
		if (nl == 0 || nl > PF_NAME_MAX || get_le16(x + off + 2) != 0 ||
		    vl > len - off - 8 || nl > len - off - 8 - vl)
			return -EINVAL;
		const unsigned char *name = x + off + 8;
		if (memchr(name, 0, nl))
			return -EINVAL;
		if (prev) {
			int c = memcmp(prev, name, prevlen < nl ? prevlen : nl);
			if (c > 0 || (c == 0 && prevlen >= nl))
				return -EINVAL;
		}
		prev = name;
		prevlen = nl;
		off += 8 + nl + vl;
	}
	return off == len ? 0 : -EINVAL;
}

const unsigned char *xattr_find(const struct pentry *e, const char *name, uint32_t *vlen)
{
	uint32_t off = 0, i;
	size_t want = strlen(name);

	for (i = 0; i < e->nxattr; i++) {
		uint16_t nl = get_le16(e->xattrs + off);
		uint32_t vl = get_le32(e->xattrs + off + 4);
		if (nl == want && memcmp(e->xattrs + off + 8, name, nl) == 0) {
			*vlen = vl;
			return e->xattrs + off + 8 + nl;
		}
		off += 8 + nl + vl;
	}
	return NULL;
}

static char *dup_bytes(const unsigned char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

/*
 * Checks one ENTRY payload and decodes its fixed part into e (path, target and xattrs NULL: no
 * allocation, for a replay's first pass, which needs only the flags, type and size).
 */
int entry_check(const unsigned char *b, size_t len, struct pentry *e)
{
	uint32_t pl, tl;

	memset(e, 0, sizeof *e);
	e->data_off = -1;
	if (len < PF_ENTRY_FIXED)
		return -EINVAL;
	e->type = get_le32(b);
	e->mode = get_le32(b + 4);
	e->uid = get_le32(b + 8);
	e->gid = get_le32(b + 12);
	e->rdev = get_le64(b + 16);
	e->size = get_le64(b + 24);
	e->mtime_sec = (int64_t)get_le64(b + 32);
	e->mtime_nsec = get_le32(b + 40);
	e->flags = get_le32(b + 44);
	e->ino = get_le64(b + 48);
	e->ctime_sec = (int64_t)get_le64(b + 56);
	e->ctime_nsec = get_le32(b + 64);
	e->crc = get_le32(b + 68);
	e->group = get_le64(b + 72);
	pl = get_le32(b + 80);
	tl = get_le32(b + 84);
	e->nxattr = get_le32(b + 88);
	e->xattr_len = get_le32(b + 92);
	if (e->type == 0 || e->type >= PT_TYPES || e->mode > 07777 || e->mtime_nsec >= 1000000000 ||
	    e->ctime_nsec >= 1000000000 || (e->flags & ~(uint32_t)(EF_DATA | EF_KEEP | EF_RECENT)) ||
	    (e->flags & (EF_DATA | EF_KEEP)) == (EF_DATA | EF_KEEP))
		return -EINVAL;
	if (((e->flags & (EF_DATA | EF_KEEP)) && e->type != PT_FILE) || (e->type != PT_FILE && e->size != 0 && e->type != PT_SYMLINK))
		return -EINVAL;
	if (e->size > (1ull << 50) || (e->group && (e->type == PT_DIR || e->type == PT_WHITEOUT)))
		return -EINVAL;
	if (e->type == PT_WHITEOUT && e->rdev != 0)
		return -EINVAL;
	if (pl > PF_PATH_MAX || tl > PF_TARGET_MAX || e->xattr_len > PF_XATTR_BYTES_MAX ||
	    (uint64_t)PF_ENTRY_FIXED + pl + tl + e->xattr_len != len)
		return -EINVAL;
	if ((e->type == PT_SYMLINK) != (tl != 0) || path_check((const char *)b + PF_ENTRY_FIXED, pl))
		return -EINVAL;
	if (tl && memchr(b + PF_ENTRY_FIXED + pl, 0, tl))
		return -EINVAL;
	if (xattrs_check(b + PF_ENTRY_FIXED + pl + tl, e->nxattr, e->xattr_len))
		return -EINVAL;
	if (e->type == PT_SYMLINK && e->size != tl)
		return -EINVAL;
	if (pl == 1 && b[PF_ENTRY_FIXED] == '.' && e->type != PT_DIR)
		return -EINVAL;
	return 0;
}

/* Decodes and checks one ENTRY payload; e owns new allocations on success. */
int entry_decode(const unsigned char *b, size_t len, struct pentry *e)
{
	uint32_t pl, tl;
	int r = entry_check(b, len, e);

	if (r)
		return r;
	pl = get_le32(b + 80);
	tl = get_le32(b + 84);
	e->path = dup_bytes(b + PF_ENTRY_FIXED, pl);
	e->target = tl ? dup_bytes(b + PF_ENTRY_FIXED + pl, tl) : NULL;
	e->xattrs = e->xattr_len ? (unsigned char *)dup_bytes(b + PF_ENTRY_FIXED + pl + tl, e->xattr_len) : NULL;
	if (!e->path || (tl && !e->target) || (e->xattr_len && !e->xattrs)) {
		entry_free(e);
		return -ENOMEM;
	}
	return 0;
}

void entry_free(struct pentry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->target);
	free(e->xattrs);
	e->path = e->target = NULL;
	e->xattrs = NULL;
}

int entry_copy(struct pentry *d, const struct pentry *s)
{
	*d = *s;
	d->path = strdup(s->path);
	d->target = s->target ? strdup(s->target) : NULL;
	d->xattrs = s->xattr_len ? malloc(s->xattr_len) : NULL;
	if (!d->path || (s->target && !d->target) || (s->xattr_len && !d->xattrs)) {
		entry_free(d);
		return -ENOMEM;
	}
	if (s->xattr_len)
		memcpy(d->xattrs, s->xattrs, s->xattr_len);
	return 0;
}

static const char *const ptype_names[PT_TYPES] = {
	[PT_FILE] = "file", [PT_DIR] = "dir", [PT_SYMLINK] = "symlink", [PT_CHR] = "char",
	[PT_BLK] = "block", [PT_FIFO] = "fifo", [PT_SOCK] = "socket", [PT_WHITEOUT] = "whiteout",
};

const char *ptype_name(uint32_t t)
{
	return t < PT_TYPES && ptype_names[t] ? ptype_names[t] : "?";
}

static const char *const kind_names[TXN_KINDS] = {
	[TXN_SAVE] = "save", [TXN_FULL] = "full", [TXN_COMPACT] = "compact", [TXN_ROLLBACK] = "rollback",
};

const char *txn_kind_name(uint32_t k)
{
	return k < TXN_KINDS && kind_names[k] ? kind_names[k] : "?";
}

static const char *const pcomp_names[PC_KINDS] = { [PC_NONE] = "none", [PC_ZSTD] = "zstd" };

const char *pcomp_name(uint32_t c)
{
	return c < PC_KINDS ? pcomp_names[c] : "?";
}

int pcomp_parse(const char *s, uint64_t *c)
{
	uint32_t i;

	for (i = 0; i < PC_KINDS; i++)
		if (strcmp(s, pcomp_names[i]) == 0) {
			*c = i;
			return 0;
		}
	return -EINVAL;
}
