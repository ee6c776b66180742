/* fdata.c: a saved regular file's data, record by record: what restore writes and export copies. */
#include <errno.h>
#include "persist.h"

/*
 * The record at off of a file's data run: its type, and for a DATA record the file offset and
 * the bytes that belong there. Every record was checked before anything was created; it is
 * checked again as it is read here (the file may have changed since). The one place a record's
 * stored bytes become the file's bytes: a compressed record is expanded here.
 */
static int data_rec(struct pfile *pf, uint64_t off, uint32_t *type, uint64_t *at, const unsigned char **p,
		    size_t *n, uint64_t *next)
{
	uint32_t len, n32;
	int r = pf_read_rec(pf, &pf->hdr, off, pf->hdr.end, 1, type, &len, next);

	if (r || !rec_is_data(*type))
		return r;
	r = data_rec_decode(&pf->z, *type, pf->rbuf + PF_REC_HDR, len, at, p, &n32, &pf->err);
	*n = n32;
	return r;
}

/*
 * A small file's n bytes in a BLOB (version 4): the BLOB at the location's area offset read,
 * checked and expanded (kept for the next file: a BLOB holds many), then n bytes at its place.
 */
int pf_blob_bytes(struct pfile *pf, int64_t data_off, uint64_t n, const unsigned char **p)
{
	uint64_t blob, at, next;
	uint32_t in, type, len;
	int r;

	pf_off_blob_split((uint64_t)data_off, &blob, &in);
	at = pf_area_base(&pf->hdr, pf->hdr.area) + blob + 1;
	if (pf->z.blob_at != at) {
		if ((r = pf_read_rec(pf, &pf->hdr, blob, pf->hdr.end, 1, &type, &len, &next)))
			return r;
		if (type != REC_BLOB)
			return perr_set(&pf->err, -EBADMSG, "no BLOB at area offset %llu", (unsigned long long)blob);
		if ((r = pz_unpack(&pf->z, pf->rbuf + PF_REC_HDR, len, "BLOB", &pf->err)))
			return perr_at(&pf->err, r, blob);
		pf->z.blob_at = at;
	}
	if (in > pf->z.pk_len || n > pf->z.pk_len - in)
		return perr_set(&pf->err, -EBADMSG, "data beyond the BLOB at area offset %llu", (unsigned long long)blob);
	*p = pf->z.pk + in;
	return 0;
}

int pf_entry_data(struct pfile *pf, const struct pentry *e,
		  int (*fn)(void *ctx, uint64_t off, const void *p, size_t n), void *ctx)
{
	uint64_t off = (uint64_t)e->data_off, next, o;
	const unsigned char *p;
	uint32_t type, crc = 0;
	size_t n;
	int r;

	if (e->data_off >= 0 && (e->data_off & PF_OFF_BLOB)) {
		if ((r = pf_blob_bytes(pf, e->data_off, e->size, &p)))
			return r;
		crc = content_crc_step(0, 0, p, (size_t)e->size);
		if ((r = fn(ctx, 0, p, (size_t)e->size)))
			return r;
	} else if (e->data_off >= 0) {
		while (pf_off_in(off, pf->hdr.end)) {
			r = data_rec(pf, off, &type, &o, &p, &n, &next);
			if (r)
				return r;
			if (!rec_is_data(type))
				break;
			if (o > e->size || n > e->size - o)
				return perr_set(&pf->err, -EINVAL, "data beyond the file's size");
			crc = content_crc_step(crc, o, p, n);
			r = fn(ctx, o, p, n);
			if (r)
				return r;
			off = next;
		}
	}
	if (crc != e->crc)
		return perr_set(&pf->err, -EBADMSG, "content checksum mismatch");
	return 0;
}
