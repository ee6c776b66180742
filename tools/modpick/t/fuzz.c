/*
 * tools/modpick/t/fuzz.c: the .modinfo reader under seeded mutation (real .ko bytes when
 * MODULE_TREE is set, a fabricated module otherwise), then the saved inputs of
 * tools/modpick/t/fuzz/saved/. MODINFO_FUZZ_SECONDS (default 3) and MODINFO_FUZZ_SEED replay a run;
 * a failing input is written to $TMPDIR and named, to be kept in tools/modpick/t/fuzz/saved/.
 */
#include <dirent.h>
#include <time.h>
#include "modinfo.h"
#include "tap.h"
#include "picktest.h"

/* xorshift64*: small, seedable, the same sequence on every machine */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* 0: clean error, 1: success inside the buffer, -1: broken contract */
static int check(const unsigned char *b, size_t len)
{
	struct modinfo mi;
	size_t pos = 0, kl, vl;
	const char *k, *v;
	int r = modinfo_parse(b, len, &mi);

	if (r == -ENOEXEC || r == -EINVAL)
		return 0;
	if (r != 0)
		return -1;
	if (mi.len > len || (const unsigned char *)mi.sec < b ||
	    (size_t)((const unsigned char *)mi.sec - b) > len - mi.len)
		return -1;
	while (modinfo_next(&mi, &pos, &k, &kl, &v, &vl))
		if (v + vl > mi.sec + mi.len || k + kl >= v)
			return -1;
	return 1;
}

struct seed {
	unsigned char *b;
	size_t len;
	size_t hot[4][2];   /* ranges worth mutating: ELF header, section headers, names, .modinfo */
};

static void find_hot(struct seed *s)
{
	const unsigned char *b = s->b;
	struct modinfo mi;
	size_t shoff = get_le64(b + 40), shnum = get_le16(b + 60);

	s->hot[0][0] = 0, s->hot[0][1] = 64;
	s->hot[1][0] = shoff, s->hot[1][1] = shnum * 64;
	s->hot[2][0] = 0, s->hot[2][1] = 64;
	if (modinfo_parse(b, s->len, &mi) == 0)
		s->hot[3][0] = (const unsigned char *)mi.sec - b, s->hot[3][1] = mi.len;
	else
		s->hot[3][0] = 0, s->hot[3][1] = 64;
}

static const uint64_t interesting[] = {
	0, 1, 7, 8, 63, 64, 0x7f, 0xff, 0xffff, 0xff00, 0x7fffffff, 0xffffffff, 1ull << 32,
	UINT64_MAX, UINT64_MAX - 63, 1ull << 63,
};

/* One mutation of a copy of s into c (len *n); returns the new length. */
static size_t mutate(const struct seed *s, unsigned char *c, uint64_t *r)
{
	size_t len = s->len, off;
	const size_t *hot = s->hot[rnd(r) % 4];
	int k, count = 1 + rnd(r) % 4;

	memcpy(c, s->b, len);
	for (k = 0; k < count; k++) {
		off = hot[1] ? hot[0] + rnd(r) % hot[1] : rnd(r) % len;
		if (off >= len)
			off = rnd(r) % len;
		switch (rnd(r) % 5) {
		case 0:
			c[off] ^= 1u << (rnd(r) % 8);
			break;
		case 1:
			c[off] = rnd(r);
			break;
		case 2: {   /* an interesting value over a field, or the file's own length */
			uint64_t v = rnd(r) % 3 ? interesting[rnd(r) % (sizeof interesting / 8)]
						: len - rnd(r) % 128;
			int w = 1 << (rnd(r) % 4), i;

			for (i = 0; i < w && off + i < len; i++)
				c[off + i] = v >> (8 * i);
			break;
		}
		case 3:
			len = rnd(r) % (len + 1);
			break;
		default:   /* erase a NUL in .modinfo: an unterminated string */
			off = s->hot[3][0] + (s->hot[3][1] ? rnd(r) % s->hot[3][1] : 0);
			if (off < len)
				c[off] = 'x';
		}
		if (len == 0)
			break;
	}
	return len;
}

static void save_failure(const unsigned char *b, size_t len, uint64_t seed, long iter)
{
	char path[4096];
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof path, "%s/modinfo-fuzz-%llu-%ld", tmp && *tmp ? tmp : "/tmp",
		 (unsigned long long)seed, iter);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && write(fd, b, len) == (ssize_t)len)
		tap_diag("failing input saved as %s: keep it in tools/modpick/t/fuzz/saved/", path);
	if (fd >= 0)
		close(fd);
}

static void fuzz(struct seed *seeds, int nseeds, uint64_t seed, double seconds)
{
	uint64_t r = seed ? seed : 1;
	struct timespec t0, t;
	long iter = 0, fails = 0, wins = 0;
	size_t max = 0;
	unsigned char *c, *exact;
	int i;

	for (i = 0; i < nseeds; i++) {
		find_hot(&seeds[i]);
		if (seeds[i].len > max)
			max = seeds[i].len;
	}
	c = malloc(max);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		const struct seed *s = &seeds[rnd(&r) % nseeds];
		size_t len = mutate(s, c, &r);
		int res;

		/* an exact-size copy, so that ASan sees any read past the end */
		exact = malloc(len ? len : 1);
		memcpy(exact, c, len);
		res = check(exact, len);
		if (res < 0 && fails++ < 5)
			save_failure(exact, len, seed, iter);
		wins += res == 1;
		free(exact);
		iter++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	free(c);
	tap_diag("seed %llu: %ld mutations in %.1f s, %ld still parsed", (unsigned long long)seed,
		 iter, seconds, wins);
	is_int(fails, 0, "no mutation breaks the reader's contract");
	ok(iter > 1000, "the fuzzer ran (%ld mutations)", iter);
}

/* Replays tools/modpick/t/fuzz/saved/ * (from the top of the tree, where prove runs). */
static void replay(void)
{
	const char *dir = "tools/modpick/t/fuzz/saved";
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0, bad = 0;

	if (!d) {
		tap_skip(1, "no tools/modpick/t/fuzz/saved here (run from the top of the tree)");
		return;
	}
	while ((de = readdir(d))) {
		unsigned char *b;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		b = slurp(path, &len);
		if (!b)
			continue;
		n++;
		if (check(b, len) < 0) {
			bad++;
			tap_diag("saved input %s breaks the contract", de->d_name);
		}
		free(b);
	}
	closedir(d);
	ok(n > 0 && bad == 0, "%d saved inputs replay cleanly (%d bad)", n, bad);
}

int main(void)
{
	static const char *const ko[] = { "kernel/lib/crc16.ko", "kernel/drivers/block/virtio_blk.ko",
					  "kernel/fs/isofs/isofs.ko" };
	static const char info[] = "name=fake\0depends=a,b\0alias=pci:v*d*\0vermagic=6.1.0 SMP";
	const char *why, *tree = module_tree(&why), *env;
	struct seed seeds[4];
	struct fake_elf l;
	uint64_t seed;
	double seconds = 3;
	int n = 0;
	size_t i;

	env = getenv("MODINFO_FUZZ_SEED");
	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	env = getenv("MODINFO_FUZZ_SECONDS");
	if (env)
		seconds = strtod(env, NULL);
	seeds[n].b = fake_elf(info, sizeof info - 1, &l);
	seeds[n++].len = l.len;
	if (tree) {
		for (i = 0; i < sizeof ko / sizeof *ko; i++) {
			char path[4096];

			snprintf(path, sizeof path, "%s/%s", tree, ko[i]);
			seeds[n].b = slurp(path, &seeds[n].len);
			if (seeds[n].b && check(seeds[n].b, seeds[n].len) == 1)
				n++;
		}
	} else {
		tap_diag("fuzzing a fabricated module only: %s", why);
	}
	fuzz(seeds, n, seed, seconds);
	replay();
	while (n-- > 0)
		free(seeds[n].b);
	return tap_done(0);
}
