/*
 * fuzz.c: the reader's fuzz entry: a seeded mutation loop over a real save file (with the checksums
 * fixed up most of the time, so that mutations reach the parser), then load + restore into a
 * sandbox; nothing may crash (ASan/UBSan) or appear outside the target. Replays the saved inputs in tools/persist/t/fuzz/.
 * PERSIST_FUZZ_SECONDS (default 2), PERSIST_FUZZ_SEED; a crash writes its input to /tmp/persist-fuzz-crash.bin:
 * copy it into t/fuzz/ as a regression file.
 */
#include <sanitizer/common_interface_defs.h>
#include <time.h>
#include "tap.h"
#include "helpers.h"


static unsigned char *cur;
static size_t cur_len;

static void on_death(void)
{
	int fd = open("/tmp/persist-fuzz-crash.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		(void)write_all(fd, cur, cur_len);
		close(fd);
	}
	fprintf(stderr, "fuzz: crashing input written to /tmp/persist-fuzz-crash.bin\n");
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void mutate(unsigned char *img, size_t used, uint64_t *s)
{
	int n = 1 + (int)(rnd(s) % 4);

	while (n--) {
		size_t at = (size_t)(rnd(s) % used);
		if (at < PF_DATA_START && at % PF_SLOT_SIZE >= PF_HDR_LEN)
			at = at / PF_SLOT_SIZE * PF_SLOT_SIZE + at % PF_HDR_LEN;	/* only the used header bytes */
		switch (rnd(s) % 5) {
		case 0: img[at] ^= (unsigned char)(1u << (rnd(s) % 8)); break;
		case 1: img[at] = (unsigned char)rnd(s); break;
		case 2: {
			static const uint32_t v[] = { 0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu, 4095, 4096, 16, 8 };
			if (at + 4 <= used)
				put_le32(img + at, v[rnd(s) % (sizeof v / sizeof *v)]);
			break;
		}
		case 3: {
			size_t from = (size_t)(rnd(s) % used), len = 1 + (size_t)(rnd(s) % 64);
			if (from + len <= used && at + len <= used)
				memmove(img + at, img + from, len);
			break;
		}
		default:
			if (at + 8 <= used)
				put_le64(img + at, rnd(s) % 3 ? rnd(s) % 70000 : rnd(s));
		}
	}
}

/* Writes the first len bytes of img over the save file (of the right size already). */
static int run_one(const char *file, const unsigned char *img, size_t len, const char *box, const char *target)
{
	struct perr err = { "" };
	size_t n;
	int fd = open(file, O_WRONLY | O_CREAT, 0600), r;

	if (fd < 0)
		return -errno;
	(void)pwrite_all(fd, img, len, 0);
	close(fd);
	mkdir(target, 0700);
	r = load_restore(file, UINT64_MAX, target, &err, &n);
	rm_rf(target);
	if (count_entries(box) != 0)
		return -EEXIST;	/* something outside the target */
	return r;
}

int main(void)
{
	char base[64] = "/tmp/persist-fuzz.XXXXXX", up[128], file[128], box[128], target[160], p[256];
	const char *env = getenv("PERSIST_FUZZ_SECONDS"), *senv = getenv("PERSIST_FUZZ_SEED");
	double seconds = env ? atof(env) : 2;
	uint64_t seed = senv ? strtoull(senv, NULL, 10) : (uint64_t)time(NULL), s;
	struct save_result res;
	unsigned char *img, *work;
	size_t size, used, iter = 0, loaded = 0, escaped = 0, slow = 0;
	struct timespec t0, t;
	int fd, replayed = 0, bad = 0;

	__sanitizer_set_death_callback(on_death);
	if (!mkdtemp(base))
		return 1;
	snprintf(up, sizeof up, "%s/up", base);
	snprintf(file, sizeof file, "%s/s.dat", base);
	snprintf(box, sizeof box, "%s/box", base);
	snprintf(target, sizeof target, "%s/box/r", base);
	mkdir(up, 0755);
	mkdir(box, 0700);
	snprintf(p, sizeof p, "%s/d", up); mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/d/f", up); put_file(p, "some data", 9);
	snprintf(p, sizeof p, "%s/d/l", up); (void)symlink("f", p);
	snprintf(p, sizeof p, "%s/h", up); { char a[256]; snprintf(a, sizeof a, "%s/d/f", up); (void)link(a, p); }
	snprintf(p, sizeof p, "%s/x", up); put_file(p, "x", 1);
	/* a zstd file (version 4): a file larger than a BLOB takes (ZDATA records), the small ones in
	 * BLOBs, the entries in PACKs */
	{
		static char text[PF_PACK_DATA_MAX + 3000];
		for (size_t i = 0; i < sizeof text; i++)
			text[i] = "compressible text, compressible text\n"[i % 37];
		snprintf(p, sizeof p, "%s/z", up); put_file(p, text, sizeof text);
	}
	size = PF_MIN_SIZE;
	pf_create(file, size, PC_ZSTD);
	persist_save(file, up, NULL, NULL, 0, &res);
	snprintf(p, sizeof p, "%s/x", up); unlink(p);
	snprintf(p, sizeof p, "%s/y", up); put_file(p, "yyyy", 4);
	persist_save(file, up, NULL, NULL, 0, &res);
	{
		struct pfile pf;
		pf_open(&pf, file, 1);
		persist_rollback(&pf, 1, 0, &res);
		pf_close(&pf);
	}
	img = malloc(size);
	work = malloc(size);
	fd = open(file, O_RDONLY);
	pread_all(fd, img, size, 0, &used);
	close(fd);
	ok(used == size, "seed save file built (%zu bytes)", used);
	{
		/* the mutations must reach the compressed path: the seed holds ZDATA, PACK and BLOB records */
		struct pfile pf;
		unsigned cnt[REC_TYPES];
		count_stored(file, cnt, NULL);
		pf_open(&pf, file, 0);
		ok(pf.hdr.comp == PC_ZSTD && pf.hdr.version == PF_VERSION && cnt[REC_ZDATA] > 0 && cnt[REC_PACK] > 0 &&
		   cnt[REC_BLOB] > 0, "the seed is a version 4 file with %u ZDATA, %u PACK and %u BLOB records",
		   cnt[REC_ZDATA], cnt[REC_PACK], cnt[REC_BLOB]);
		pf_close(&pf);
	}
	{
		struct pfile pf;
		pf_open(&pf, file, 0);
		used = PF_DATA_START + (pf.hdr.end > pf.alt.end ? pf.hdr.end : pf.alt.end) + 64;
		pf_close(&pf);
	}
	is_int(run_one(file, img, size, box, target), 0, "the unmutated file restores");
	{
		/* pf_fix_checksums, checked by the reader: a BEGIN's time changed in both slots' areas and
		 * both headers' times changed fail to load; fixed up, the same bytes load */
		struct pfile pf;
		uint64_t b0, b1;
		pf_open(&pf, file, 0);
		b0 = pf_area_base(&pf.hdr, 0);
		b1 = pf_area_base(&pf.hdr, 1);
		pf_close(&pf);
		memcpy(work, img, size);
		for (int sl = 0; sl < 2; sl++)
			work[sl * PF_SLOT_SIZE + 72] ^= 0x5a;	/* time_ns */
		work[b0 + PF_REC_HDR + 8] ^= 0x5a;		/* the BEGIN's time_ns */
		work[b1 + PF_REC_HDR + 8] ^= 0x5a;
		ok(run_one(file, work, size, box, target) < 0, "a save file with its times changed fails to load");
		pf_fix_checksums(work, size);
		is_int(run_one(file, work, size, box, target), 0, "after pf_fix_checksums, the same file restores");
	}

	/* replay saved inputs: each is the start of a save file, padded with zeros to its size */
	{
		DIR *d = opendir("tools/persist/t/fuzz");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char rp[512];
			size_t got;
			if (!strstr(de->d_name, ".bin"))
				continue;
			snprintf(rp, sizeof rp, "tools/persist/t/fuzz/%s", de->d_name);
			memset(work, 0, size);
			fd = open(rp, O_RDONLY);
			if (fd < 0)
				continue;
			pread_all(fd, work, size, 0, &got);
			close(fd);
			int r = run_one(file, work, size, box, target);
			if (r == -EEXIST)
				bad++;
			replayed++;
		}
		if (d)
			closedir(d);
	}
	ok(bad == 0, "%d saved inputs replayed without harm", replayed);

	tap_diag("fuzz seed %llu for %.1f s (PERSIST_FUZZ_SEED, PERSIST_FUZZ_SECONDS)", (unsigned long long)seed, seconds);
	cur = work;
	cur_len = used;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = seed * 2654435761u + 1;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
			break;
		memcpy(work, img, used);
		mutate(work, used, &s);
		if (rnd(&s) % 4)
			pf_fix_checksums(work, size);
		int r = run_one(file, work, used, box, target);
		if (r == -EEXIST)
			escaped++;
		/* linear: each slot's replay reads a record (16 bytes at least) twice at most */
		if (load_nread > 2 * 2 * (size / PF_REC_HDR) + 4)
			slow++;
		if (r >= 0)
			loaded++;
		iter++;
	}
	ok(escaped == 0, "%zu mutated inputs: none created anything outside the target (%zu restored)", iter, loaded);
	ok(iter > 10, "the fuzz loop ran");
	ok(slow == 0, "no input made the reader read more than twice its records per header slot (%zu did)", slow);
	rm_rf(base);
	free(img);
	free(work);
	return tap_done(0);
}
