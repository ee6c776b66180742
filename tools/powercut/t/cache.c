/* t/cache.c: the volatile cache on a temporary image: overlays, flush order, FUA, cuts. */
#include <errno.h>
#include <stdint.h>
#include "cache.h"
#include "helpers.h"
#include "tap.h"

#define SIZE (64 * 1024)
#define BASE 0x11

static unsigned char buf[SIZE], pat[SIZE];

/* Caches writes 0..n-1, write i filling block i (4 KiB) with 0x40 + i. */
static void block_writes(struct cache *c, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(pat, 0x40 + i, 4096);
		(void)cache_write(c, pat, (uint64_t)i * 4096, 4096, 0);
	}
}

/* Runs a cut of n block writes on a fresh image; returns its fd (for comparing). */
static int cut_blocks(const struct cut_spec *spec, int n, struct cut_stats *st)
{
	char path[64];
	struct cache c;
	int fd = temp_image(path, SIZE, BASE);

	unlink(path);
	cache_init(&c, fd, SIZE, CACHE_DEFAULT_BYTES);
	block_writes(&c, n);
	if (cache_cut(&c, spec, st))
		tap_diag("cut failed");
	cache_free(&c);
	return fd;
}

/* 1 when block i of fd is wholly new or wholly old, and says which in *kept. */
static int block_state(int fd, int i, int *kept)
{
	if (image_is(fd, (size_t)i * 4096, 4096, 0x40 + i))
		return *kept = 1;
	*kept = 0;
	return image_is(fd, (size_t)i * 4096, 4096, BASE);
}

int main(void)
{
	char path[64];
	struct cache c;
	struct cut_stats st;
	struct cut_spec spec = { .policy = CUT_NONE, .keep = -1 };
	int fd, fd2, i, kept, good, nkept, r;

	fd = temp_image(path, SIZE, BASE);
	unlink(path);
	cache_init(&c, fd, SIZE, CACHE_DEFAULT_BYTES);

	memset(pat, 'A', 8192);
	is_int(cache_write(&c, pat, 0, 8192, 0), 0, "write A [0,8K)");
	ok(cache_read(&c, buf, 0, 8192) == 0 && buf[0] == 'A' && buf[8191] == 'A',
	   "a read sees the cached write");
	ok(image_is(fd, 0, 8192, BASE), "the image does not have it yet");
	memset(pat, 'B', 8192);
	is_int(cache_write(&c, pat, 4096, 8192, 0), 0, "write B [4K,12K) over A");
	is_int(cache_write(&c, NULL, 6144, 1024, 0), 0, "zeroes [6K,7K) over B");
	r = cache_read(&c, buf, 0, 16384);
	ok(!r && buf[0] == 'A' && buf[4095] == 'A' && buf[4096] == 'B' && buf[6143] == 'B' &&
	   buf[6144] == 0 && buf[7167] == 0 && buf[7168] == 'B' && buf[12287] == 'B' &&
	   buf[12288] == BASE, "overlapping writes read back newest first, base around them");
	r = cache_read(&c, buf, 5000, 3000);
	ok(!r && buf[0] == 'B' && buf[1144] == 0 && buf[2168] == 'B', "an unaligned read inside");
	is_int(cache_flush(&c), 0, "flush");
	is_int(c.n, 0, "the cache is empty after a flush");
	ok(image_is(fd, 0, 4096, 'A') && image_is(fd, 4096, 2048, 'B') &&
	   image_is(fd, 6144, 1024, 0) && image_is(fd, 7168, 5120, 'B') &&
	   image_is(fd, 12288, 4096, BASE), "flush wrote the writes through in order");

	is_int(cache_write(&c, pat, SIZE - 512, 1024, 0), -EINVAL, "a write past the end: EINVAL");
	is_int(cache_read(&c, buf, SIZE, 1), -EINVAL, "a read past the end: EINVAL");
	is_int(cache_write(&c, pat, UINT64_MAX - 100, 512, 0), -EINVAL, "an offset that wraps: EINVAL");

	/* FUA: durable at once, and an older cached write must not come back over it */
	memset(pat, 'C', 4096);
	cache_write(&c, pat, 16384, 4096, 0);
	memset(pat, 'F', 1024);
	is_int(cache_write(&c, pat, 16384, 1024, 1), 0, "a FUA write over a cached one");
	ok(image_is(fd, 16384, 1024, 'F') && image_is(fd, 17408, 3072, BASE),
	   "the FUA write alone is on the image");
	ok(cache_read(&c, buf, 16384, 4096) == 0 && buf[0] == 'F' && buf[1024] == 'C',
	   "reads see the FUA write over the cached one");
	spec.policy = CUT_PREFIX;
	spec.keep = 100;
	cache_cut(&c, &spec, &st);
	ok(image_is(fd, 16384, 1024, 'F') && image_is(fd, 17408, 3072, 'C'),
	   "a cut keeping all: the older write does not cover the FUA one");
	is_int(st.unflushed, 1, "the FUA write was not counted as unflushed");
	memset(pat, 'D', 4096);
	cache_write(&c, pat, 16384, 4096, 0);
	spec.policy = CUT_NONE;
	cache_cut(&c, &spec, &st);
	ok(image_is(fd, 16384, 1024, 'F') && image_is(fd, 17408, 3072, 'C'),
	   "a cut with policy none: the unflushed write is gone");
	is_int(st.dropped, 1, "and counted as dropped");
	cache_free(&c);
	close(fd);

	/* cache bound */
	fd = temp_image(path, SIZE, BASE);
	unlink(path);
	cache_init(&c, fd, SIZE, 8192);
	cache_write(&c, pat, 0, 4096, 0);
	cache_write(&c, pat, 0, 4096, 0);
	is_int(cache_write(&c, pat, 0, 512, 0), -ENOBUFS, "past --cache-max: ENOBUFS");
	is_int(cache_write(&c, NULL, 0, 4096, 0), 0, "zeroes take no cache bytes");
	cache_free(&c);
	close(fd);

	/* the policies on 8 block writes */
	spec.policy = CUT_NONE;
	fd = cut_blocks(&spec, 8, &st);
	for (good = 1, i = 0; i < 8; i++)
		good &= block_state(fd, i, &kept) && !kept;
	ok(good && st.dropped == 8, "none: every unflushed block is old");
	close(fd);

	spec.policy = CUT_PREFIX;
	spec.keep = 3;
	fd = cut_blocks(&spec, 8, &st);
	for (good = 1, i = 0; i < 8; i++)
		good &= block_state(fd, i, &kept) && kept == (i < 3);
	ok(good && st.kept == 3 && st.dropped == 5, "prefix 3: blocks 0-2 new, 3-7 old");
	close(fd);

	spec.keep = -1;
	spec.seed = 42;
	fd = cut_blocks(&spec, 8, &st);
	fd2 = cut_blocks(&spec, 8, &st);
	for (good = 1, i = 0; i < 8; i++)
		good &= block_state(fd, i, &kept) && kept == (i < (int)st.keep);
	ok(good, "prefix, seed 42: an in-order prefix (K=%zu)", st.keep);
	ok(images_equal(fd, fd2, SIZE), "prefix, seed 42: the same image twice");
	close(fd);
	close(fd2);

	spec.policy = CUT_RANDOM;
	spec.seed = 7;
	fd = cut_blocks(&spec, 8, &st);
	fd2 = cut_blocks(&spec, 8, &st);
	for (good = 1, nkept = 0, i = 0; i < 8; i++) {
		good &= block_state(fd, i, &kept);
		nkept += kept;
	}
	ok(good && nkept == (int)st.kept, "random, seed 7: whole blocks, %d kept as counted",
	   nkept);
	ok(images_equal(fd, fd2, SIZE), "random, seed 7: the same image twice");
	close(fd);
	close(fd2);

	/* torn: block 2 (the one after the prefix) keeps a whole number of its sectors */
	spec.policy = CUT_PREFIX;
	spec.keep = 2;
	spec.torn = 1;
	spec.seed = 3;
	fd = cut_blocks(&spec, 8, &st);
	for (i = 1; i < 8; i++)
		if (image_is(fd, 2 * 4096, (size_t)i * 512, 0x42) &&
		    image_is(fd, 2 * 4096 + (size_t)i * 512, 4096 - (size_t)i * 512, BASE))
			break;
	ok(i < 8 && st.torn == 1, "torn: block 2 is new for %d sectors, old after", i);
	ok(block_state(fd, 1, &kept) && kept && block_state(fd, 3, &kept) && !kept,
	   "torn: the prefix whole, the rest old");
	close(fd);
	return tap_done(0);
}
