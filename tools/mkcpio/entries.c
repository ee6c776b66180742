/* entries.c: the list of archive members, indexed by path, with the duplicate rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mkcpio.h"
#include "vec.h"

int mk_init(struct mkcpio *st)
{
	memset(st, 0, sizeof *st);
	st->out = -1;
	st->next_ino = 1;
	st->obuf = malloc(MKCPIO_OUTBUF);
	return st->obuf ? 0 : -ENOMEM;
}

void mk_free(struct mkcpio *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->ents[i].path);
		free(st->ents[i].src);
	}
	free(st->ents);
	free(st->slots);
	free(st->obuf);
	st->ents = NULL;
	st->slots = NULL;
	st->obuf = NULL;
	st->n = st->cap = st->nslots = 0;
}

int mk_norm_path(struct mkcpio *st, const char *in, char *dst)
{
	size_t n = 0;
	const char *p = in;

	while (*p) {
		const char *part;
		size_t len;

		while (*p == '/')
			p++;
		part = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - part);
		if (!len)
			break;
		if ((len == 1 && part[0] == '.') || (len == 2 && part[0] == '.' && part[1] == '.')) {
			snprintf(st->why, sizeof st->why, "path '%s' has a '.' or '..' part", in);
			return -EINVAL;
		}
		if (n + !!n + len > MKCPIO_MAX_PATH) {
			snprintf(st->why, sizeof st->why, "path '%.64s...' is longer than %d bytes", in,
				 MKCPIO_MAX_PATH);
			return -ENAMETOOLONG;
		}
		if (n)
			dst[n++] = '/';
		memcpy(dst + n, part, len);
		n += len;
	}
	dst[n] = '\0';
	if (!n) {
		snprintf(st->why, sizeof st->why, "path '%s' names the archive's root, which needs no entry", in);
		return -EINVAL;
	}
	return 0;
}

/* FNV-1a over the path bytes. */
static size_t hash_path(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return (size_t)h;
}

static size_t *slot_of(struct mkcpio *st, const char *path, size_t len)
{
	size_t mask = st->nslots - 1, i = hash_path(path, len) & mask;

	for (;; i = (i + 1) & mask) {
		size_t k = st->slots[i];
		if (!k)
			return &st->slots[i];
		const char *q = st->ents[k - 1].path;
		if (strncmp(q, path, len) == 0 && q[len] == '\0')
			return &st->slots[i];
	}
}

struct entry *mk_find(struct mkcpio *st, const char *path, size_t len)
{
	size_t k;

	if (!st->nslots)
		return NULL;
	k = *slot_of(st, path, len);
	return k ? &st->ents[k - 1] : NULL;
}

/* Keeps the index at most half full. */
static int grow(struct mkcpio *st)
{
	if (vec_reserve((void **)&st->ents, &st->cap, st->n, sizeof *st->ents, 256))
		return -ENOMEM;
	if ((st->n + 1) * 2 > st->nslots) {
		size_t nslots = st->nslots ? st->nslots * 2 : 512;
		size_t *old = st->slots, oldn = st->nslots;
		st->slots = calloc(nslots, sizeof *st->slots);
		if (!st->slots) {
			st->slots = old;
			return -ENOMEM;
		}
		st->nslots = nslots;
		for (size_t i = 0; i < oldn; i++)
			if (old[i]) {
				const char *p = st->ents[old[i] - 1].path;
				*slot_of(st, p, strlen(p)) = old[i];
			}
		free(old);
	}
	return 0;
}

static const char *where(const struct entry *e, char *buf, size_t cap)
{
	if (!e->line)
		snprintf(buf, cap, "an automatic parent");
	else
		snprintf(buf, cap, "%s line %u", e->spec, e->line);
	return buf;
}

int mk_add(struct mkcpio *st, const struct entry *e)
{
	size_t len = strlen(e->path), *slot;
	struct entry *old, *ne;
	char w[300];
	int err;

	if (st->n >= MKCPIO_MAX_ENTRIES) {
		snprintf(st->why, sizeof st->why, "more than %d entries", MKCPIO_MAX_ENTRIES);
		return -E2BIG;
	}
	err = grow(st);
	if (err) {
		snprintf(st->why, sizeof st->why, "out of memory");
		return err;
	}
	slot = slot_of(st, e->path, len);
	old = *slot ? &st->ents[*slot - 1] : NULL;
	if (old) {
		/* Weak entries are directories (a tree's, or a parent made on the way): they merge
		 * with a directory of the same path, and an explicit dir line overrides them. */
		int old_dir = (old->mode & 0170000) == 0040000, new_dir = (e->mode & 0170000) == 0040000;
		if (e->weak && old_dir)
			return 0;
		if (old->weak && new_dir) {
			old->dropped = 1;
		} else {
			snprintf(st->why, sizeof st->why, "duplicate path '/%s' (first at %s)", e->path,
				 where(old, w, sizeof w));
			return -EEXIST;
		}
	}
	ne = &st->ents[st->n];
	*ne = *e;
	ne->emitted = ne->dropped = 0;
	ne->path = strdup(e->path);
	ne->src = e->src ? strdup(e->src) : NULL;
	if (!ne->path || (e->src && !ne->src)) {
		free(ne->path);
		free(ne->src);
		snprintf(st->why, sizeof st->why, "out of memory");
		return -ENOMEM;
	}
	*slot = ++st->n;
	return 0;
}
