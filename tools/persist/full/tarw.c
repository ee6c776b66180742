/* tarw.c: a small POSIX (pax) tar writer for export: ustar headers, pax records when a field does not fit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tarw.h"

#define TAR_BLOCK 512

static int tw_put(struct tarw *t, const void *p, size_t n)
{
	int r = t->out(t->ctx, p, n);

	if (!r)
		t->written += n;
	return r;
}

int tarw_zeros(struct tarw *t, uint64_t n)
{
	static const unsigned char z[4096];
	int r = 0;

	while (n && !r) {
		size_t k = n < sizeof z ? (size_t)n : sizeof z;
		r = tw_put(t, z, k);
		n -= k;
	}
	return r;
}

int tarw_data(struct tarw *t, const void *p, size_t n)
{
	return tw_put(t, p, n);
}

int tarw_pad(struct tarw *t)
{
	return tarw_zeros(t, (TAR_BLOCK - t->written % TAR_BLOCK) % TAR_BLOCK);
}

/* An octal field of w bytes (w - 1 digits and a NUL); 0 when it does not fit (a pax record says it). */
static int octal(char *f, size_t w, uint64_t v)
{
	uint64_t lim = 1ull << (3 * (w - 1));

	snprintf(f, w, "%0*llo", (int)(w - 1), (unsigned long long)(v < lim ? v : 0));
	return v < lim;
}

/* A pax record "LEN key=value\n", LEN counting itself. */
static int pax_rec(struct tarw *t, const char *key, const void *val, size_t vlen)
{
	size_t body = 1 + strlen(key) + 1 + vlen + 1, len = body, digits;
	char num[24];
	unsigned char *p;

	for (;;) {
		digits = (size_t)snprintf(num, sizeof num, "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	if (t->plen + len > t->pcap) {
		size_t cap = (t->plen + len) * 2;
		p = realloc(t->pax, cap);
		if (!p)
			return -ENOMEM;
		t->pax = p;
		t->pcap = cap;
	}
	p = t->pax + t->plen;
	memcpy(p, num, digits);
	p[digits] = ' ';
	memcpy(p + digits + 1, key, strlen(key));
	p[digits + 1 + strlen(key)] = '=';
	memcpy(p + digits + 2 + strlen(key), val, vlen);
	p[len - 1] = '\n';
	t->plen += len;
	return 0;
}

static int pax_str(struct tarw *t, const char *key, const char *s)
{
	return pax_rec(t, key, s, strlen(s));
}

static int header(struct tarw *t, const char *name, char type, const struct tar_ent *e, uint64_t size,
		  const char *link)
{
	unsigned char h[TAR_BLOCK];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof h);
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	octal((char *)h + 100, 8, e->mode & 07777);
	octal((char *)h + 108, 8, e->uid);
	octal((char *)h + 116, 8, e->gid);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, e->mtime_sec >= 0 ? (uint64_t)e->mtime_sec : 0);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (type == TAR_CHR || type == TAR_BLK) {
		octal((char *)h + 329, 8, e->devmajor);
		octal((char *)h + 337, 8, e->devminor);
	}
	for (i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	return tw_put(t, h, sizeof h);
}

/*
 * One entry's header: a pax extended header first when the path or link is 100 bytes or
 * longer, a number does not fit its octal field, the mtime has nanoseconds or is before
 * 1970, or the entry has xattrs (SCHILY.xattr.NAME, as GNU tar, libarchive and the OCI
 * appliers read them). The caller writes the data (size bytes) and tarw_pad after it.
 */
int tarw_entry(struct tarw *t, const struct tar_ent *e)
{
	char name[100], num[48], key[16 + 256];
	int64_t s = e->mtime_sec;
	uint32_t i;
	int r = 0;

	t->plen = 0;
	if (strlen(e->path) >= 100)
		r = pax_str(t, "path", e->path);
	if (!r && e->link && strlen(e->link) >= 100)
		r = pax_str(t, "linkpath", e->link);
	if (!r && e->size >= (1ull << 33)) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)e->size);
		r = pax_str(t, "size", num);
	}
	if (!r && e->uid >= (1u << 21)) {
		snprintf(num, sizeof num, "%u", e->uid);
		r = pax_str(t, "uid", num);
	}
	if (!r && e->gid >= (1u << 21)) {
		snprintf(num, sizeof num, "%u", e->gid);
		r = pax_str(t, "gid", num);
	}
	if (!r && (e->mtime_nsec || s < 0 || (uint64_t)s >= (1ull << 33))) {
		/* a negative time with a fraction: -(|s + 1|).(1e9 - nsec), e.g. -2 s + 0.5 s is -1.5 */
		if (s < 0 && e->mtime_nsec)
			snprintf(num, sizeof num, "-%lld.%09u", -(long long)(s + 1), 1000000000u - e->mtime_nsec);
		else
			snprintf(num, sizeof num, "%lld.%09u", (long long)s, e->mtime_nsec);
		r = pax_str(t, "mtime", num);
	}
	for (i = 0; !r && i < e->nxattr; i++) {
		snprintf(key, sizeof key, "SCHILY.xattr.%s", e->xattr[i].name);
		r = pax_rec(t, key, e->xattr[i].value, e->xattr[i].vlen);
	}
	if (r)
		return r;
	if (t->plen) {
		/* the pax header's own name: informative only (readers take the records) */
		const char *base = strrchr(e->path, '/');
		snprintf(name, sizeof name, "PaxHeaders/%.80s", base ? base + 1 : e->path);
		r = header(t, name, TAR_PAX, e, t->plen, NULL);
		if (!r)
			r = tw_put(t, t->pax, t->plen);
		if (!r)
			r = tarw_pad(t);
		if (r)
			return r;
	}
	return header(t, e->path, e->type, e, e->size, e->link);
}

/* The end of the archive: two zero blocks. */
int tarw_end(struct tarw *t)
{
	return tarw_zeros(t, 2 * TAR_BLOCK);
}

void tarw_free(struct tarw *t)
{
	free(t->pax);
	t->pax = NULL;
	t->pcap = t->plen = 0;
}
