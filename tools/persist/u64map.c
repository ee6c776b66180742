/* u64map.c: an open-addressing hash from 64-bit keys to a size_t value (inode -> group, id -> count). */
#include <errno.h>
#include <stdlib.h>
#include "persist.h"

int u64map_init(struct u64map *m, size_t expect)
{
	m->cap = 16;
	while (m->cap < 2 * expect + 1)
		m->cap *= 2;
	m->n = 0;
	m->key = malloc(m->cap * sizeof *m->key);
	m->val = calloc(m->cap, sizeof *m->val);
	m->used = calloc(m->cap, 1);
	if (!m->key || !m->val || !m->used) {
		u64map_free(m);
		return -ENOMEM;
	}
	return 0;
}

void u64map_free(struct u64map *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
	m->key = NULL;
	m->val = NULL;
	m->used = NULL;
	m->cap = m->n = 0;
}

static size_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static size_t find(const struct u64map *m, uint64_t key)
{
	size_t i = mix(key) & (m->cap - 1);

	while (m->used[i] && m->key[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct u64map *m)
{
	struct u64map b;
	size_t i;
	int r = u64map_init(&b, m->cap);

	if (r)
		return r;
	for (i = 0; i < m->cap; i++)
		if (m->used[i]) {
			size_t j = find(&b, m->key[i]);
			b.used[j] = 1;
			b.key[j] = m->key[i];
			b.val[j] = m->val[i];
			b.n++;
		}
	u64map_free(m);
	*m = b;
	return 0;
}

/* The value of key, inserted as 0 when absent (*created says which); NULL when out of memory. */
size_t *u64map_at(struct u64map *m, uint64_t key, int *created)
{
	size_t i = find(m, key);

	if (created)
		*created = !m->used[i];
	if (m->used[i])
		return &m->val[i];
	if (2 * (m->n + 1) > m->cap) {
		if (grow(m))
			return NULL;
		i = find(m, key);
	}
	m->used[i] = 1;
	m->key[i] = key;
	m->val[i] = 0;
	m->n++;
	return &m->val[i];
}

/* The value of key, or NULL when absent. */
const size_t *u64map_get(const struct u64map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = find(m, key);
	return m->used[i] ? &m->val[i] : NULL;
}
