/* tools/persist/t/zdata.c: zstd save files of version 2 (docs/persist-format.md, "Compression"): round trips, crafted ZDATA records, old files. */
#include <zstd.h>
#include "helpers.h"
#include "tap.h"

static char dir[] = "/tmp/persist-zdata-XXXXXX";
static char up[256], target[256];

/* The same bytes, size and (for the sparse file) no more blocks than the original has: cp -a's view. */
static int same_file(const char *rel)
{
	char a[512], b[512];
	struct stat sa, sb;
	size_t na, nb;
	unsigned char *x, *y;
	int same;

	snprintf(a, sizeof a, "%s/%s", up, rel);
	snprintf(b, sizeof b, "%s/%s", target, rel);
	if (stat(a, &sa) || stat(b, &sb) || sa.st_size != sb.st_size || sa.st_mode != sb.st_mode)
		return 0;
	x = slurp(a, &na);
	y = slurp(b, &nb);
	same = x && y && na == nb && !memcmp(x, y, na) && sb.st_blocks <= sa.st_blocks + 8;
	free(x);
	free(y);
	return same;
}

static uint64_t seed = 88172645463325252ull;
static unsigned char rnd8(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (unsigned char)seed;
}

static void make_tree(void)
{
	static unsigned char big[5 * 1024 * 1024 + 123];
	char p[512];
	size_t i;
	int fd;

	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/d", up);
	mkdir(p, 0755);
	/* compressible: text with repeats, several chunks and a partial last one */
	for (i = 0; i < sizeof big; i++)
		big[i] = "the quick brown fox jumps over the lazy dog 0123456789\n"[(i * 7 / 5) % 55] ^ (i % 4096 == 0);
	snprintf(p, sizeof p, "%s/d/text", up);
	spill(p, big, sizeof big);
	/* incompressible: random bytes, 1.5 chunks */
	for (i = 0; i < 1536 * 1024; i++)
		big[i] = rnd8();
	snprintf(p, sizeof p, "%s/d/random", up);
	spill(p, big, 1536 * 1024);
	/* small ones: below the ZDATA header, just above, compressible */
	snprintf(p, sizeof p, "%s/tiny", up);
	put_file(p, "x", 1);
	snprintf(p, sizeof p, "%s/seventeen", up);
	put_file(p, "aaaaaaaaaaaaaaaaa", 17);
	snprintf(p, sizeof p, "%s/empty", up);
	put_file(p, "", 0);
	/* sparse: 64 MiB with two data extents */
	snprintf(p, sizeof p, "%s/sparse", up);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		(void)pwrite_all(fd, "middle of nowhere, middle of nowhere, middle of nowhere", 55, 20 << 20);
		(void)pwrite_all(fd, big, 70000, 40 << 20);
		(void)ftruncate(fd, 64 << 20);
		close(fd);
	}
}

static const char *const files[] = { "d/text", "d/random", "tiny", "seventeen", "empty", "sparse" };
#define NFILES (sizeof files / sizeof files[0])

/* How many records of each type the active area holds up to its committed end. */
static void count_types(const char *file, unsigned cnt[REC_TYPES])
{
	struct pfile pf;
	uint64_t off = 0, next;
	uint32_t type, len;

	memset(cnt, 0, REC_TYPES * sizeof *cnt);
	if (pf_open(&pf, file, 0))
		return;
	while (off < pf.hdr.end && !pf_read_rec(&pf, &pf.hdr, off, pf.hdr.end, 0, &type, &len, &next)) {
		cnt[type]++;
		off = type == REC_COMMIT ? (next + PF_TXN_ALIGN - 1) & ~(uint64_t)(PF_TXN_ALIGN - 1) : next;
	}
	pf_close(&pf);
}

/* Area offset of the first record of type t with a payload of at least min bytes (or -1). */
static int64_t find_rec(const char *file, uint32_t want, uint32_t min, uint64_t *base, uint64_t *epoch)
{
	struct pfile pf;
	uint64_t off = 0, next;
	uint32_t type, len;
	int64_t at = -1;

	if (pf_open(&pf, file, 0))
		return -1;
	*base = pf_area_base(&pf.hdr, pf.hdr.area);
	*epoch = pf.hdr.epoch;
	while (off < pf.hdr.end && !pf_read_rec(&pf, &pf.hdr, off, pf.hdr.end, 0, &type, &len, &next)) {
		if (type == want && len >= min) {
			at = (int64_t)off;
			break;
		}
		off = type == REC_COMMIT ? (next + PF_TXN_ALIGN - 1) & ~(uint64_t)(PF_TXN_ALIGN - 1) : next;
	}
	pf_close(&pf);
	return at;
}

/*
 * Copies the save file src to dst, lets fix change the record at area offset at (its payload
 * and length, the buffer holds PF_REC_MAX), then, when crc, recomputes its CRC: a crafted file.
 */
static void craft(const char *src, const char *dst, int64_t at, uint64_t base, uint64_t epoch, int crc,
		  void (*fix)(unsigned char *rec))
{
	size_t n;
	unsigned char *img = slurp(src, &n);

	if (!img || at < 0)
		return;
	fix(img + base + (uint64_t)at);
	if (crc)
		put_le32(img + base + (uint64_t)at, rec_crc(epoch, img + base + (uint64_t)at, get_le32(img + base + (uint64_t)at + 8)));
	spill(dst, img, n);
	free(img);
}

static void raw_plus_one(unsigned char *r) { put_le32(r + PF_REC_HDR + 8, get_le32(r + PF_REC_HDR + 8) + 1); }
static void raw_minus_one(unsigned char *r) { put_le32(r + PF_REC_HDR + 8, get_le32(r + PF_REC_HDR + 8) - 1); }
static void raw_huge(unsigned char *r) { put_le32(r + PF_REC_HDR + 8, 0xfffffff0u); }
static void raw_over_limit(unsigned char *r) { put_le32(r + PF_REC_HDR + 8, PF_DATA_CHUNK + 1); }
static void raw_zero(unsigned char *r) { put_le32(r + PF_REC_HDR + 8, 0); }
static void zero_field(unsigned char *r) { put_le32(r + PF_REC_HDR + 12, 1); }
static void flip_frame(unsigned char *r) { r[PF_REC_HDR + PF_ZDATA_HDR + (get_le32(r + 8) - PF_ZDATA_HDR) / 2] ^= 0x40; }
/* raw length = stored length: ZDATA only when the frame is smaller */
static void raw_is_stored(unsigned char *r) { put_le32(r + PF_REC_HDR + 8, get_le32(r + 8) - PF_ZDATA_HDR); }
static void as_data(unsigned char *r) { put_le32(r + 4, REC_DATA); }
static void as_zdata(unsigned char *r) { put_le32(r + 4, REC_ZDATA); }

/*
 * A bomb: the ZDATA record's frame replaced by one of 2 MiB of zeros (a few dozen bytes), its raw
 * length saying 1 MiB (the limit) and the rest of the old frame's room filled by a skippable frame,
 * so that the record's length and the CRC still fit.
 */
static void bomb(unsigned char *r)
{
	static unsigned char zeros[2 << 20];
	uint32_t len = get_le32(r + 8), room = len - PF_ZDATA_HDR;
	size_t z = ZSTD_compress(r + PF_REC_HDR + PF_ZDATA_HDR, room, zeros, sizeof zeros, 1);

	if (ZSTD_isError(z) || z + 8 > room)
		return;
	put_le32(r + PF_REC_HDR + 8, PF_DATA_CHUNK);
	put_le32(r + PF_REC_HDR + PF_ZDATA_HDR + z, 0x184D2A50u);	/* a skippable frame */
	put_le32(r + PF_REC_HDR + PF_ZDATA_HDR + z + 4, room - (uint32_t)z - 8);
}

/* A bomb that says what it is: 2 MiB of zeros, the record saying 2 MiB too (over the limit). */
static void bomb_2m(unsigned char *r)
{
	bomb(r);
	put_le32(r + PF_REC_HDR + 8, 2 << 20);
}

/*
 * The same bomb, its frame header saying 1 MiB (the content size field patched): the frame's
 * own claim agrees with the record's, and only the decompression's bounded output stops it.
 */
static void bomb_lying(unsigned char *r)
{
	bomb(r);
	zframe_claim(r + PF_REC_HDR + PF_ZDATA_HDR, PF_DATA_CHUNK);
}

struct crafted {
	const char *name;
	uint32_t type;		/* the record to change */
	int crc;		/* its CRC recomputed (a crafted file) or not (media damage) */
	void (*fix)(unsigned char *rec);
	const char *why;	/* what the error must say */
	int plain;		/* in the uncompressed file */
};

static const struct crafted crafted[] = {
	{ "raw length one more than the frame's", REC_ZDATA, 1, raw_plus_one, "frame does not say", 0 },
	{ "raw length one less than the frame's", REC_ZDATA, 1, raw_minus_one, "frame does not say", 0 },
	{ "raw length 4 GiB", REC_ZDATA, 1, raw_huge, "misplaced data", 0 },
	{ "raw length one over the 1 MiB limit", REC_ZDATA, 1, raw_over_limit, "misplaced data", 0 },
	{ "raw length 0", REC_ZDATA, 1, raw_zero, "misplaced data", 0 },
	{ "raw length = stored length", REC_ZDATA, 1, raw_is_stored, "misplaced data", 0 },
	{ "nonzero reserved field", REC_ZDATA, 1, zero_field, "misplaced data", 0 },
	{ "a flipped bit in the frame, CRC fixed", REC_ZDATA, 1, flip_frame, "decompress", 0 },
	{ "a flipped bit in the frame (media damage)", REC_ZDATA, 0, flip_frame, "checksum mismatch", 0 },
	{ "a ZDATA record read as DATA", REC_ZDATA, 1, as_data, "loaded", 0 },
	{ "a DATA record read as ZDATA", REC_DATA, 1, as_zdata, "misplaced data", 0 },
	{ "ZDATA in an uncompressed file", REC_DATA, 1, as_zdata, "bad record header", 1 },
	{ "a bomb: 2 MiB of zeros saying 1 MiB", REC_ZDATA, 1, bomb, "frame does not say", 0 },
	{ "a bomb whose frame says 1 MiB", REC_ZDATA, 1, bomb_lying, "does not decompress", 0 },
	{ "a bomb of 2 MiB saying so", REC_ZDATA, 1, bomb_2m, "misplaced data", 0 },
};

int main(void)
{
	char file[300], plain[300], bad[300], one[300], onep[300], fixture[300], p[600];
	struct save_result res;
	struct perr err = { "" };
	unsigned cz[REC_TYPES], cn[REC_TYPES];
	struct stat sz, sn;
	size_t i, n;
	int r;

	if (!mkdtemp(dir))
		return tap_done(0);
	snprintf(up, sizeof up, "%s/up", dir);
	snprintf(target, sizeof target, "%s/r", dir);
	snprintf(file, sizeof file, "%s/z.dat", dir);
	snprintf(plain, sizeof plain, "%s/n.dat", dir);
	snprintf(bad, sizeof bad, "%s/bad.dat", dir);
	snprintf(one, sizeof one, "%s/one.dat", dir);
	snprintf(onep, sizeof onep, "%s/onep.dat", dir);
	make_tree();

	/* the same tree through a zstd file and an uncompressed one */
	is_int(pf_create_version(file, 64 << 20, PC_ZSTD, PF_VERSION_ZDATA), 0, "init a zstd file (version 2)");
	is_int(pf_create(plain, 64 << 20, PC_NONE), 0, "init an uncompressed file");
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "save into the zstd file");
	is_int(persist_save(plain, up, NULL, NULL, 0, &res), 0, "save into the uncompressed file");
	{
		struct pfile pf;
		ok(pf_open(&pf, file, 0) == 0 && pf.hdr.comp == PC_ZSTD, "the zstd file's header says zstd");
		pf_close(&pf);
		ok(pf_open(&pf, plain, 0) == 0 && pf.hdr.comp == PC_NONE, "the other's says none");
		pf_close(&pf);
	}
	count_types(file, cz);
	count_types(plain, cn);
	/* text: 6 records, 5 of 1 MiB; sparse: its two extents; random: 2 that never compress, nor tiny's 1 byte */
	ok(cz[REC_ZDATA] >= 6 && cz[REC_DATA] >= 3, "zstd file: %u ZDATA (text, sparse), %u DATA (random, tiny, ...)",
	   cz[REC_ZDATA], cz[REC_DATA]);
	ok(cn[REC_ZDATA] == 0 && cn[REC_DATA] == cz[REC_DATA] + cz[REC_ZDATA], "uncompressed file: no ZDATA, %u DATA",
	   cn[REC_DATA]);
	{
		struct pfile a, b;
		pf_open(&a, file, 0);
		pf_open(&b, plain, 0);
		ok(a.hdr.end * 2 < b.hdr.end, "the zstd journal is less than half as long (%llu against %llu bytes)",
		   (unsigned long long)a.hdr.end, (unsigned long long)b.hdr.end);
		ok(a.hdr.bytes == b.hdr.bytes, "the same data bytes in the state (%llu)", (unsigned long long)a.hdr.bytes);
		pf_close(&a);
		pf_close(&b);
	}
	for (int m = 0; m < 2; m++) {
		const char *f = m ? plain : file;
		mkdir(target, 0700);
		r = load_restore(f, UINT64_MAX, target, &err, &n);
		is_int(r, 0, m ? "the uncompressed file restores" : "the zstd file restores");
		for (i = 0; i < NFILES; i++)
			ok(same_file(files[i]), "  %s: %s the same", m ? "none" : "zstd", files[i]);
		rm_rf(target);
	}

	/* compaction copies ZDATA as it is */
	{
		struct pfile pf;
		unsigned c2[REC_TYPES];
		pf_open(&pf, file, 1);
		is_int(persist_compact(&pf, &res), 0, "compact the zstd file");
		pf_close(&pf);
		count_types(file, c2);
		ok(c2[REC_ZDATA] == cz[REC_ZDATA] && c2[REC_DATA] == cz[REC_DATA], "  the same ZDATA and DATA records");
		mkdir(target, 0700);
		is_int(load_restore(file, UINT64_MAX, target, &err, &n), 0, "  restores");
		for (i = 0; i < NFILES; i++)
			ok(same_file(files[i]), "  compacted: %s the same", files[i]);
		rm_rf(target);
	}

	/*
	 * Crafted and damaged records, in files of one save: the reader says why (its replay of the
	 * newest header, every frame expanded), and a restore leaves nothing in its target: a damaged
	 * record fails its CRC before anything is made (it falls back to init's empty generation 0), a
	 * crafted frame with a valid CRC fails as it is expanded, and the staging directory goes.
	 */
	is_int(pf_create_version(one, 64 << 20, PC_ZSTD, PF_VERSION_ZDATA), 0, "init a zstd file (version 2) for one save");
	is_int(persist_save(one, up, NULL, NULL, 0, &res), 0, "  one save");
	is_int(pf_create(onep, 64 << 20, PC_NONE), 0, "init an uncompressed file for one save");
	is_int(persist_save(onep, up, NULL, NULL, 0, &res), 0, "  one save");
	for (i = 0; i < sizeof crafted / sizeof crafted[0]; i++) {
		const struct crafted *c = &crafted[i];
		uint64_t base, epoch;
		/* the DATA record of the random file is large; the first ZDATA is text's */
		int64_t at = find_rec(c->plain ? onep : one, c->type, c->type == REC_DATA ? 1 << 20 : 4096, &base, &epoch);
		ok(at >= 0, "%s: a record to change", c->name);
		craft(c->plain ? onep : one, bad, at, base, epoch, c->crc, c->fix);
		(void)replay_verdict(bad, err.msg, sizeof err.msg);
		ok(strstr(err.msg, c->why), "%s: refused (%s)", c->name, err.msg);
		mkdir(target, 0700);
		r = load_restore(bad, UINT64_MAX, target, &err, &n);
		/* DATA bytes are checked by the content CRC as a file is written, a ZDATA frame as it is
		 * expanded: what was made by then is in the staging directory, which goes */
		if (!strcmp(c->why, "loaded"))
			ok(r < 0 && strstr(err.msg, "content checksum mismatch") && count_entries(target) == 0,
			   "  found while writing, nothing left in the target (%d entries, %s)", count_entries(target),
			   err.msg);
		else
			ok(r != 0 && count_entries(target) == 0, "  restore: nothing created (%d, %d entries, %s)", r,
			   count_entries(target), err.msg);
		rm_rf(target);
	}

	/* the header: version 2 names its compression; version 1 has none, whatever its reserved bytes */
	{
		size_t len;
		unsigned char *img = slurp(file, &len);
		struct pfile pf;
		if (img) {
			for (int s = 0; s < 2; s++) {
				put_le32(img + s * PF_SLOT_SIZE + 104, 7);
				put_le32(img + s * PF_SLOT_SIZE + PF_HDR_CRC, crc32c(0, img + s * PF_SLOT_SIZE, PF_HDR_CRC));
			}
			spill(bad, img, len);
			r = pf_open(&pf, bad, 0);
			ok(r == -EPROTONOSUPPORT && strstr(pf.err.msg, "compression"), "unknown compression 7: %s", pf.err.msg);
			pf_close(&pf);
			free(img);
		}
		img = slurp(plain, &len);
		if (img) {
			for (int s = 0; s < 2; s++) {
				put_le32(img + s * PF_SLOT_SIZE + 104, PC_ZSTD);
				put_le32(img + s * PF_SLOT_SIZE + PF_HDR_CRC, crc32c(0, img + s * PF_SLOT_SIZE, PF_HDR_CRC));
			}
			spill(bad, img, len);
			ok(pf_open(&pf, bad, 0) == 0 && pf.hdr.comp == PC_NONE, "version 1 with byte 104 set: still none");
			pf_close(&pf);
			free(img);
		}
	}

	/* a file of the persist before compression (version 1), two generations, kept in the tree */
	snprintf(fixture, sizeof fixture, "tools/persist/t/old/v1-two-generations.bin");
	{
		size_t len;
		unsigned char *img = slurp(fixture, &len), *whole = calloc(1, PF_MIN_SIZE);
		if (!img || !whole || len > PF_MIN_SIZE) {
			tap_skip(7, "no tools/persist/t/old/v1-two-generations.bin here (run from the top of the tree)");
		} else {
			memcpy(whole, img, len);
			spill(bad, whole, PF_MIN_SIZE);
			mkdir(target, 0700);
			is_int(load_restore(bad, UINT64_MAX, target, &err, &n), 0, "an old persist's file restores");
			is_int(n, 7, "  its 7 entries");
			unsigned char want[4096];
			for (i = 0; i < sizeof want; i++)
				want[i] = (unsigned char)(i * 7 % 251);
			snprintf(p, sizeof p, "%s/d/b.bin", target);
			unsigned char *got = slurp(p, &len);
			ok(got && len == sizeof want && !memcmp(got, want, len), "  d/b.bin as written");
			free(got);
			snprintf(p, sizeof p, "%s/d/a.txt", target);
			got = slurp(p, &len);
			ok(got && len == 2392 && !memcmp(got, "line 1 of the old file\nline 2 ", 30) &&
			   !memcmp(got + len - 25, "line 100 of the old file\n", 25), "  d/a.txt as written");
			free(got);
			snprintf(p, sizeof p, "%s/c.txt", target);
			got = slurp(p, &len);
			ok(got && len == 7 && !memcmp(got, "second\n", 7), "  c.txt, of the second generation");
			free(got);
			char l[64] = "";
			snprintf(p, sizeof p, "%s/d/l", target);
			ok(readlink(p, l, sizeof l - 1) == 5 && !strncmp(l, "a.txt", 5), "  the symlink d/l");
			snprintf(p, sizeof p, "%s/e", target);
			ok(stat(p, &sz) == 0 && sz.st_size == 0, "  the empty file e");
			rm_rf(target);
		}
		free(img);
		free(whole);
	}
	(void)sn;
	rm_rf(dir);
	return tap_done(0);
}
