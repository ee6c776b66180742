/* cache.h: a disk's volatile write cache over a raw image: writes since the last flush. */
#ifndef POWERCUT_CACHE_H
#define POWERCUT_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include "cut.h"

/* Bounds of the cache; past them a write fails with -ENOBUFS. */
#define CACHE_MAX_ENTRIES (1U << 20)
#define CACHE_DEFAULT_BYTES (1ULL << 30)

enum cache_kind { CACHE_WRITE, CACHE_ZERO };

struct cache_ent {
	uint64_t off;
	uint32_t len;
	uint8_t kind;
	uint8_t durable;     /* FUA: already on the medium, kept here for read and write order */
	unsigned char *data; /* NULL for CACHE_ZERO */
};

struct cache {
	int fd;              /* the image, read-write */
	uint64_t size;
	struct cache_ent *ents; /* oldest first */
	size_t n, cap;
	uint64_t bytes, max_bytes;
};

void cache_init(struct cache *c, int fd, uint64_t size, uint64_t max_bytes);
void cache_free(struct cache *c);

/* The disk as the client sees it: the image with the cached writes over it, in order. */
int cache_read(struct cache *c, void *buf, uint64_t off, uint32_t len);
/* data NULL writes zeroes (WRITE_ZEROES, TRIM). fua writes through and fdatasyncs first. */
int cache_write(struct cache *c, const void *data, uint64_t off, uint32_t len, int fua);
/* Writes every cached write through in order, fdatasyncs, empties the cache. */
int cache_flush(struct cache *c);
/* The power cut: writes through what spec keeps, in order, fdatasyncs, empties the cache. */
int cache_cut(struct cache *c, const struct cut_spec *spec, struct cut_stats *st);

#endif
