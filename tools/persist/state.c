/* state.c: the catalogue replayed from the journal, a hash map path -> entry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "persist.h"

/* A path's hash, eight bytes at a time (a path is tens of bytes; a byte at a time was most of a lookup). */
static size_t hash(const char *s)
{
	size_t len = strlen(s);
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return (size_t)(h ^ (h >> 29));
}

/*
 * The nodes come from slabs of PF_SLAB_NODES (a catalogue of 100,000 entries was 100,000 mallocs
 * and frees, most of a metadata-only replay's time in musl's allocator); a node taken out goes to
 * s->spare for the next one put in. Slabs are freed with the state.
 */
#define PF_SLAB_NODES 1024
struct pslab {
	struct pslab *next;
	struct pnode v[PF_SLAB_NODES];
};

static struct pnode *node_new(struct pstate *s)
{
	struct pnode *n = s->spare;

	if (n) {
		s->spare = n->next;
	} else {
		if (!s->slab_left) {
			struct pslab *b = malloc(sizeof *b);
			if (!b)
				return NULL;
			b->next = s->slabs;
			s->slabs = b;
			s->slab_left = PF_SLAB_NODES;
		}
		n = &s->slabs->v[--s->slab_left];
	}
	memset(n, 0, sizeof *n);
	return n;
}

static void node_put(struct pstate *s, struct pnode *n)
{
	n->next = s->spare;
	s->spare = n;
}

int state_init(struct pstate *s)
{
	memset(s, 0, sizeof *s);
	s->nbucket = 1024;
	s->bucket = calloc(s->nbucket, sizeof *s->bucket);
	return s->bucket ? 0 : -ENOMEM;
}

void state_free(struct pstate *s)
{
	size_t i;

	if (!s->bucket)
		return;
	for (i = 0; i < s->nbucket; i++) {
		struct pnode *n = s->bucket[i], *next;
		for (; n; n = next) {
			next = n->next;
			entry_free(&n->e);
		}
	}
	while (s->slabs) {
		struct pslab *b = s->slabs;
		s->slabs = b->next;
		free(b);
	}
	free(s->bucket);
	memset(s, 0, sizeof *s);
}

/* Where path's node is, or would go, in its bucket's chain; h is hash(path). */
static struct pnode **slot_of(const struct pstate *s, const char *path, size_t h)
{
	struct pnode **pp = &s->bucket[h & (s->nbucket - 1)];

	while (*pp && ((*pp)->h != h || strcmp((*pp)->e.path, path) != 0))
		pp = &(*pp)->next;
	return pp;
}

struct pentry *state_get(const struct pstate *s, const char *path)
{
	struct pnode *n = *slot_of(s, path, hash(path));

	return n ? &n->e : NULL;
}

static int grow(struct pstate *s)
{
	size_t nb = s->nbucket * 2, i;
	struct pnode **b = calloc(nb, sizeof *b);

	if (!b)
		return -ENOMEM;
	for (i = 0; i < s->nbucket; i++) {
		struct pnode *n = s->bucket[i], *next;
		for (; n; n = next) {
			next = n->next;
			size_t at = n->h & (nb - 1);
			n->next = b[at];
			b[at] = n;
		}
	}
	free(s->bucket);
	s->bucket = b;
	s->nbucket = nb;
	return 0;
}

/*
 * Inserts or replaces; the state takes over e's allocations (and e is cleared). The entry it
 * replaces goes to *old when old is given (old->path NULL: there was none), else it is freed.
 */
int state_swap(struct pstate *s, struct pentry *e, struct pentry *old)
{
	size_t h = hash(e->path);
	struct pnode **pp = slot_of(s, e->path, h), *n = *pp;

	if (old)
		memset(old, 0, sizeof *old);
	if (n) {
		if (n->e.type == PT_FILE)
			s->bytes -= n->e.size;
		if (old)
			*old = n->e;
		else
			entry_free(&n->e);
	} else {
		if (s->count >= PF_ENTRIES_MAX)
			return -E2BIG;
		if (s->count >= s->nbucket && grow(s) == 0)
			pp = slot_of(s, e->path, h);
		n = node_new(s);
		if (!n)
			return -ENOMEM;
		n->h = h;
		*pp = n;
		s->count++;
	}
	n->e = *e;
	if (e->type == PT_FILE)
		s->bytes += e->size;
	memset(e, 0, sizeof *e);
	return 0;
}

int state_put(struct pstate *s, struct pentry *e)
{
	return state_swap(s, e, NULL);
}

/* Removes path; its entry goes to *out when out is given, else it is freed. */
int state_take(struct pstate *s, const char *path, struct pentry *out)
{
	struct pnode **pp = slot_of(s, path, hash(path)), *n = *pp;

	if (!n)
		return -ENOENT;
	*pp = n->next;
	if (n->e.type == PT_FILE)
		s->bytes -= n->e.size;
	if (out)
		*out = n->e;
	else
		entry_free(&n->e);
	node_put(s, n);
	s->count--;
	return 0;
}

int state_del(struct pstate *s, const char *path)
{
	return state_take(s, path, NULL);
}

int path_cmp(const void *a, const void *b)
{
	const struct pentry *x = *(struct pentry *const *)a, *y = *(struct pentry *const *)b;

	/* "." (the root) first, then byte order: a parent is a prefix of its children. */
	if (strcmp(x->path, ".") == 0 || strcmp(y->path, ".") == 0)
		return (strcmp(y->path, ".") == 0) - (strcmp(x->path, ".") == 0);
	return strcmp(x->path, y->path);
}

/* An array of pointers into the state, sorted so that parents come before children. */
int state_sorted(const struct pstate *s, struct pentry ***out)
{
	struct pentry **v = malloc((s->count + 1) * sizeof *v);
	size_t i, k = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < s->nbucket; i++)
		for (struct pnode *n = s->bucket[i]; n; n = n->next)
			v[k++] = &n->e;
	qsort(v, k, sizeof *v, path_cmp);
	*out = v;
	return (int)k;
}
