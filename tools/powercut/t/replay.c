/* t/replay.c: the record log and offline replay: a replayed cut equals the live one. */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include "cache.h"
#include "helpers.h"
#include "record.h"
#include "replay.h"
#include "tap.h"

#define SIZE (64 * 1024)
#define BASE 0x11

struct op {
	uint8_t type, fua;
	uint32_t off, len;
	int fill;
};

/* epoch 0: 2 writes; epoch 1: 4 (one FUA, one zeroes); epoch 2: 1, never flushed */
static const struct op ops[] = {
	{ REC_WRITE, 0, 0, 4096, 'a' }, { REC_WRITE, 0, 4096, 4096, 'b' }, { REC_FLUSH, 0, 0, 0, 0 },
	{ REC_WRITE, 0, 8192, 4096, 'c' }, { REC_ZERO, 0, 0, 512, 0 },
	{ REC_WRITE, 1, 12288, 512, 'f' }, { REC_WRITE, 0, 8192, 8192, 'd' },
	{ REC_FLUSH, 0, 0, 0, 0 }, { REC_WRITE, 0, 20480, 4096, 'e' },
};
#define NOPS (sizeof ops / sizeof ops[0])

static unsigned char data[SIZE];

/* The server's way: ops through a cache up to (epoch, writes), then the cut. */
static int live(const char *path, uint64_t epoch, uint64_t writes, const struct cut_spec *spec)
{
	struct cache c;
	struct cut_stats st;
	uint64_t w = 0, e = 0;
	size_t i;
	int fd = open(path, O_RDWR);

	cache_init(&c, fd, SIZE, CACHE_DEFAULT_BYTES);
	for (i = 0; i < NOPS; i++) {
		if (e == epoch && writes && w == writes)
			break;
		if (ops[i].type == REC_FLUSH) {
			if (e == epoch)
				break;
			cache_flush(&c);
			e++;
			continue;
		}
		memset(data, ops[i].fill, ops[i].len);
		cache_write(&c, ops[i].type == REC_WRITE ? data : NULL, ops[i].off, ops[i].len,
			    ops[i].fua);
		w++;
	}
	cache_cut(&c, spec, &st);
	cache_free(&c);
	return fd;
}

static void make_log(const char *log)
{
	struct record r;
	size_t i;

	record_create(&r, log, SIZE);
	for (i = 0; i < NOPS; i++) {
		struct rec_entry e = { .type = ops[i].type, .fua = ops[i].fua, .off = ops[i].off,
				       .len = ops[i].len };
		memset(data, ops[i].fill, ops[i].len);
		record_append(&r, &e, data);
	}
	if (record_close(&r))
		tap_diag("record_close failed");
}

int main(void)
{
	char base[64], img[64], log[] = "/tmp/powercut-log.XXXXXX", out[] = "/tmp/powercut-out.XXXXXX";
	static const struct { uint64_t epoch, writes; struct cut_spec spec; } cases[] = {
		{ 0, 1, { CUT_NONE, 0, -1, 0, 0 } },
		{ 0, 0, { CUT_PREFIX, 3, 1, 0, 0 } },
		{ 1, 0, { CUT_RANDOM, 5, -1, 1, 0 } },
		{ 1, 0, { CUT_RANDOM, 5, -1, 1, 4096 } },
		{ 1, 4, { CUT_PREFIX, 9, -1, 1, 512 } },
		{ 1, 4, { CUT_PREFIX, 9, -1, 1, 1024 } },
		{ 1, 5, { CUT_RANDOM, 11, -1, 0, 0 } },
		{ 2, 0, { CUT_NONE, 0, -1, 0, 0 } },
		{ 2, 0, { CUT_PREFIX, 0, 1, 0, 0 } },
	};
	struct replay_args a = { .log = log, .base = base, .out = out };
	struct replay_result res;
	uint64_t *counts;
	size_t i, n;
	int fd, bfd, ofd, truncated, r;

	bfd = temp_image(base, SIZE, BASE);
	close(mkstemp(log));
	close(mkstemp(out));
	make_log(log);

	r = replay_scan(log, &counts, &n, &truncated);
	ok(!r && n == 3 && counts[0] == 2 && counts[1] == 4 && counts[2] == 1 && !truncated,
	   "scan: three epochs of 2, 4 and 1 writes");
	if (!r)
		free(counts);

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		close(temp_image(img, SIZE, BASE));
		fd = live(img, cases[i].epoch, cases[i].writes, &cases[i].spec);
		a.epoch = cases[i].epoch;
		a.writes = cases[i].writes;
		a.spec = cases[i].spec;
		r = replay_run(&a, &res);
		ofd = open(out, O_RDONLY);
		ok(!r && images_equal(fd, ofd, SIZE), "replay %s seed %llu tear unit %u at epoch "
		   "%llu write %llu equals the live cut", cut_policy_name(a.spec.policy),
		   (unsigned long long)a.spec.seed, a.spec.tear_unit, (unsigned long long)a.epoch,
		   (unsigned long long)a.writes);
		close(ofd);
		close(fd);
		unlink(img);
	}
	a.epoch = 1;
	a.writes = 0;
	a.spec = (struct cut_spec){ .policy = CUT_NONE };
	r = replay_run(&a, &res);
	ofd = open(out, O_RDONLY);
	ok(!r && image_is(ofd, 0, 4096, 'a') && image_is(ofd, 4096, 4096, 'b') &&
	   image_is(ofd, 8192, 4096, BASE) && image_is(ofd, 12288, 512, 'f'),
	   "epoch 1, none: epoch 0 and the FUA write, nothing else");
	ok(res.flushes == 1 && res.writes == 6 && res.st.unflushed == 3 && res.st.dropped == 3,
	   "and the position and counts of the cut");
	close(ofd);

	a.epoch = 3;
	is_int(replay_run(&a, &res), -ERANGE, "an epoch past the log: ERANGE");
	a.epoch = 0;
	a.writes = 3;
	is_int(replay_run(&a, &res), -ERANGE, "a write past the epoch: ERANGE");
	a.writes = 0;
	if (ftruncate(bfd, SIZE / 2))
		return 2;
	is_int(replay_run(&a, &res), -EINVAL, "a base of the wrong size: EINVAL");
	if (ftruncate(bfd, SIZE))
		return 2;

	/* a partial last record (a killed server) is the end of the log */
	fd = open(log, O_RDWR);
	if (fd < 0 || ftruncate(fd, lseek(fd, 0, SEEK_END) - 100))
		return 2;
	a.epoch = 2;
	r = replay_run(&a, &res);
	ok(!r && res.truncated && res.writes == 6, "a truncated log replays up to its tear");
	/* a damaged entry header */
	if (pwrite(fd, "XXXX", 4, 16) != 4)
		return 2;
	close(fd);
	is_int(replay_run(&a, &res), -EINVAL, "a damaged entry: EINVAL");
	/* damaged logs: random bytes changed, replayed at random positions */
	{
		uint64_t x = 99;
		int fine = 1, k;
		struct stat lst;

		make_log(log);
		for (k = 0; k < 200; k++) {
			unsigned char byte;

			fd = open(log, O_RDWR);
			if (fd < 0 || fstat(fd, &lst))
				return 2;
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			byte = (unsigned char)(x >> 56);
			if (pwrite(fd, &byte, 1, (off_t)((x >> 16) % (uint64_t)lst.st_size)) != 1)
				return 2;
			close(fd);
			a.epoch = (x >> 8) % 4;
			a.writes = (x >> 12) % 3;
			a.spec.policy = (enum cut_policy)((x >> 20) % 3);
			r = replay_run(&a, &res);
			fine &= r == 0 || r == -EINVAL || r == -ERANGE;
		}
		ok(fine, "200 damaged logs: replayed, refused as corrupt or as too short");
	}
	unlink(log);
	unlink(out);
	unlink(base);
	close(bfd);
	return tap_done(0);
}
