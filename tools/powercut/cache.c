/* cache.c: the volatile write cache: overlay reads, in-order write-through, cuts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cache.h"
#include "io.h"
#include "vec.h"

static const unsigned char zeroes[65536];

void cache_init(struct cache *c, int fd, uint64_t size, uint64_t max_bytes)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->size = size;
	c->max_bytes = max_bytes;
}

static void drop_all(struct cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->ents[i].data);
	c->n = 0;
	c->bytes = 0;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	drop_all(c);
	free(c->ents);
	c->ents = NULL;
	c->cap = 0;
}

int cache_read(struct cache *c, void *buf, uint64_t off, uint32_t len)
{
	uint64_t end = off + len;
	size_t got, i;
	int r;

	if (off > c->size || len > c->size - off)
		return -EINVAL;
	r = pread_all(c->fd, buf, len, (off_t)off, &got);
	if (r)
		return r;
	memset((char *)buf + got, 0, len - got); /* a sparse tail past the file's end */
	for (i = 0; i < c->n; i++) {
		const struct cache_ent *e = &c->ents[i];
		uint64_t a = e->off > off ? e->off : off;
		uint64_t b = e->off + e->len < end ? e->off + e->len : end;

		if (a >= b)
			continue;
		if (e->data)
			memcpy((char *)buf + (a - off), e->data + (a - e->off), b - a);
		else
			memset((char *)buf + (a - off), 0, b - a);
	}
	return 0;
}

/* Puts len bytes of e (from its start) on the image. */
static int apply(struct cache *c, const struct cache_ent *e, uint32_t len)
{
	uint32_t done = 0;
	int r;

	if (e->data)
		return pwrite_all(c->fd, e->data, len, (off_t)e->off);
	while (done < len) {
		uint32_t n = len - done < sizeof zeroes ? len - done : sizeof zeroes;
		r = pwrite_all(c->fd, zeroes, n, (off_t)(e->off + done));
		if (r)
			return r;
		done += n;
	}
	return 0;
}

static int sync_image(struct cache *c)
{
	return fdatasync(c->fd) ? -errno : 0;
}

int cache_write(struct cache *c, const void *data, uint64_t off, uint32_t len, int fua)
{
	struct cache_ent e = { .off = off, .len = len, .durable = !!fua };
	int r;

	if (off > c->size || len > c->size - off)
		return -EINVAL;
	if (!len)
		return 0;
	if (c->n >= CACHE_MAX_ENTRIES || (data && c->bytes + len > c->max_bytes))
		return -ENOBUFS;
	if (vec_reserve((void **)&c->ents, &c->cap, c->n, sizeof *c->ents, 64))
		return -ENOMEM;
	e.kind = data ? CACHE_WRITE : CACHE_ZERO;
	if (data) {
		e.data = malloc(len);
		if (!e.data)
			return -ENOMEM;
		memcpy(e.data, data, len);
	}
	if (fua) {
		r = apply(c, &e, len);
		if (!r)
			r = sync_image(c);
		if (r) {
			free(e.data);
			return r;
		}
	}
	c->ents[c->n++] = e;
	if (data)
		c->bytes += len;
	return 0;
}

int cache_flush(struct cache *c)
{
	size_t i;
	int r;

	for (i = 0; i < c->n; i++) {
		r = apply(c, &c->ents[i], c->ents[i].len);
		if (r)
			return r;
	}
	r = sync_image(c);
	if (r)
		return r;
	drop_all(c);
	return 0;
}

int cache_cut(struct cache *c, const struct cut_spec *spec, struct cut_stats *st)
{
	struct cut_write *w = NULL;
	uint32_t *keep = NULL;
	size_t i;
	int r = -ENOMEM;

	w = calloc(c->n ? c->n : 1, sizeof *w);
	keep = calloc(c->n ? c->n : 1, sizeof *keep);
	if (!w || !keep)
		goto out;
	for (i = 0; i < c->n; i++) {
		w[i].off = c->ents[i].off;
		w[i].len = c->ents[i].len;
		w[i].durable = c->ents[i].durable;
	}
	cut_plan(spec, w, c->n, keep, st);
	/* In order, so a durable write is not overwritten by an older one that survived. */
	for (i = 0; i < c->n; i++)
		if (keep[i]) {
			r = apply(c, &c->ents[i], keep[i]);
			if (r)
				goto out;
		}
	r = sync_image(c);
	if (!r)
		drop_all(c);
out:
	free(w);
	free(keep);
	return r;
}
