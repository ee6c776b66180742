/* tools/persist/t/pack.c: version 3 save files (docs/persist-format.md, "Version 3: PACK records"): round trips, a rewind across a PACK, crafted PACKs, a version 2 file kept. */
#include <zstd.h>
#include "helpers.h"
#include "tap.h"

static char dir[] = "/tmp/persist-pack-XXXXXX";
static char up[256], target[256];

static uint64_t seed = 0x2545F4914F6CDD1Dull;
static unsigned rnd(unsigned n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (unsigned)(seed % n);
}

/* 600 small files (text, some the same, some random), a large one, an empty one: into up */
#define NSMALL 600
static void make_tree(void)
{
	static char big[3 * 1024 * 1024 + 5];
	char p[512], b[5000];
	size_t i, j, n = 0;

	mkdir(up, 0755);
	for (i = 0; i < NSMALL; i++) {
		if (i % 100 == 0) {
			snprintf(p, sizeof p, "%s/d%zu", up, i / 100);
			mkdir(p, 0755);
		}
		if (i % 5) {
			n = rnd(sizeof b);
			for (j = 0; j < n; j++)
				b[j] = i % 3 ? "abcdefgh ijklmnop\n"[rnd(18)] : (char)rnd(256);
		}
		snprintf(p, sizeof p, "%s/d%zu/f%zu", up, i / 100, i);
		put_file(p, b, n);
	}
	for (i = 0; i < sizeof big; i++)
		big[i] = "large text, large text\n"[i % 23];
	snprintf(p, sizeof p, "%s/large", up);
	put_file(p, big, sizeof big);
	snprintf(p, sizeof p, "%s/empty", up);
	put_file(p, "", 0);
}

/* Every regular file of up has the same bytes under target (and nothing is missing). */
static int same_files(void)
{
	char a[512], b[512];
	size_t i, na, nb;
	int bad = 0;

	for (i = 0; i < NSMALL + 2; i++) {
		if (i < NSMALL) {
			snprintf(a, sizeof a, "%s/d%zu/f%zu", up, i / 100, i);
			snprintf(b, sizeof b, "%s/d%zu/f%zu", target, i / 100, i);
		} else {
			snprintf(a, sizeof a, "%s/%s", up, i == NSMALL ? "large" : "empty");
			snprintf(b, sizeof b, "%s/%s", target, i == NSMALL ? "large" : "empty");
		}
		unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
		bad += !x || !y || na != nb || memcmp(x, y, na);
		free(x);
		free(y);
	}
	return bad == 0;
}

/*
 * A crafted file: the first PACK of src's active area rebuilt from its raw bytes changed by raw()
 * (recompressed, its CRC32C recomputed), then its payload changed by pay() (either may be NULL),
 * its record CRC recomputed, the COMMIT after it moved to follow it and the header's end set: a
 * file that is valid but for what the two functions did. A transaction of BEGIN, PACK, COMMIT.
 */
static int craft(const char *src, const char *dst, void (*raw)(unsigned char *b, uint32_t *n),
		 void (*pay)(unsigned char *payload, uint32_t *len))
{
	static unsigned char rawb[2 * PF_DATA_CHUNK], rec[PF_REC_HDR + PF_REC_MAX + 8], commit[64];
	struct pfile pf;
	size_t size;
	unsigned char *img = slurp(src, &size), *a;
	uint64_t base, off = 0, pack = 0, clen = 0, end;
	uint32_t n, len;
	int slot, found = 0;

	if (!img || pf_open(&pf, src, 0)) {
		free(img);
		return -1;
	}
	base = pf_area_base(&pf.hdr, pf.hdr.area);
	slot = pf.slot;
	a = img + base;
	while (off < pf.hdr.end) {
		uint32_t t = get_le32(a + off + 4), l = get_le32(a + off + 8);
		if (t == REC_PACK && !found) {
			pack = off;
			found = 1;
		} else if (t == REC_COMMIT && found) {
			clen = rec_size(l);
			memcpy(commit, a + off, clen);
			break;
		}
		off += rec_size(l);
	}
	pf_close(&pf);
	if (!found || !clen) {
		free(img);
		return -1;
	}
	len = get_le32(a + pack + 8);
	n = get_le32(a + pack + PF_REC_HDR);
	if (ZSTD_decompress(rawb, n, a + pack + PF_REC_HDR + PF_PACK_HDR, len - PF_PACK_HDR) != n) {
		free(img);
		return -1;
	}
	if (raw)
		raw(rawb, &n);
	memset(rec, 0, sizeof rec);
	size_t z = ZSTD_compress(rec + PF_REC_HDR + PF_PACK_HDR, PF_REC_MAX - PF_PACK_HDR, rawb, n, 1);
	if (ZSTD_isError(z)) {
		free(img);
		return -1;
	}
	put_le32(rec + PF_REC_HDR, n);
	put_le32(rec + PF_REC_HDR + 4, crc32c(0, rawb, n));
	len = PF_PACK_HDR + (uint32_t)z;
	if (pay)
		pay(rec + PF_REC_HDR, &len);
	put_le32(rec + 4, REC_PACK);
	put_le32(rec + 8, len);
	put_le32(rec, rec_crc(pf.hdr.epoch, rec, len));
	end = pack + rec_size(len) + clen;
	if (base + end > size) {
		free(img);
		return -1;
	}
	memcpy(a + pack, rec, rec_size(len));
	memcpy(a + pack + rec_size(len), commit, clen);
	put_le64(img + slot * PF_SLOT_SIZE + 64, end);
	put_le32(img + slot * PF_SLOT_SIZE + PF_HDR_CRC, crc32c(0, img + slot * PF_SLOT_SIZE, PF_HDR_CRC));
	spill(dst, img, size);
	free(img);
	return 0;
}

static void inner_crc(unsigned char *b, uint32_t *n) { (void)n; put_le32(b, 1); }
static void inner_begin(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 4, REC_BEGIN); }
static void inner_commit(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 4, REC_COMMIT); }
static void inner_zdata(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 4, REC_ZDATA); }
static void inner_pack(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 4, REC_PACK); }
static void inner_type0(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 4, 0); }
static void inner_long(unsigned char *b, uint32_t *n) { put_le32(b + 8, *n); }
static void inner_huge(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 8, 0xfffffff0u); }
static void inner_zero(unsigned char *b, uint32_t *n) { (void)n; put_le32(b + 12, 1); }
static void cut_last(unsigned char *b, uint32_t *n) { (void)b; *n -= 8; }
/* a byte of the first file's data changed: the PACK is valid, the content CRC is not */
static void data_byte(unsigned char *b, uint32_t *n)
{
	for (uint32_t o = 0; o < *n; o += (uint32_t)rec_size(get_le32(b + o + 8)))
		if (get_le32(b + o + 4) == REC_DATA && get_le32(b + o + 8) > 8) {
			b[o + PF_REC_HDR + 8] ^= 1;
			return;
		}
}
static void pay_crc(unsigned char *p, uint32_t *len) { (void)len; put_le32(p + 4, get_le32(p + 4) ^ 1); }
static void pay_plus8(unsigned char *p, uint32_t *len) { (void)len; put_le32(p, get_le32(p) + 8); }
static void pay_odd(unsigned char *p, uint32_t *len) { (void)len; put_le32(p, get_le32(p) + 4); }
static void pay_over(unsigned char *p, uint32_t *len) { (void)len; put_le32(p, PF_DATA_CHUNK + 8); }
static void pay_huge(unsigned char *p, uint32_t *len) { (void)len; put_le32(p, 0xfffffff8u); }
static void pay_short(unsigned char *p, uint32_t *len) { (void)p; *len = PF_PACK_HDR; }
static void pay_flip(unsigned char *p, uint32_t *len) { p[PF_PACK_HDR + (*len - PF_PACK_HDR) / 2] ^= 0x10; }
/* a bomb: a frame of 2 MiB of zeros, the PACK saying 1 MiB; and the same with its frame saying 1 MiB */
static void pay_bomb(unsigned char *p, uint32_t *len)
{
	static unsigned char zeros[2 << 20];
	size_t z = ZSTD_compress(p + PF_PACK_HDR, PF_REC_MAX - PF_PACK_HDR, zeros, sizeof zeros, 1);

	put_le32(p, PF_DATA_CHUNK);
	put_le32(p + 4, crc32c(0, zeros, PF_DATA_CHUNK));
	*len = PF_PACK_HDR + (uint32_t)z;
}
static void pay_bomb_lying(unsigned char *p, uint32_t *len)
{
	pay_bomb(p, len);
	zframe_claim(p + PF_PACK_HDR, PF_DATA_CHUNK);
}

struct crafted {
	const char *name;
	void (*raw)(unsigned char *b, uint32_t *n);
	void (*pay)(unsigned char *p, uint32_t *len);
	const char *why;	/* what the error must say ("loaded": the reader takes it) */
};
static const struct crafted crafted[] = {
	{ "an inner record with a CRC", inner_crc, NULL, "bad record header at offset 0 of the PACK" },
	{ "a BEGIN inside", inner_begin, NULL, "bad record header at offset 0 of the PACK" },
	{ "a COMMIT inside", inner_commit, NULL, "bad record header at offset 0 of the PACK" },
	{ "a ZDATA inside", inner_zdata, NULL, "bad record header at offset 0 of the PACK" },
	{ "a PACK inside", inner_pack, NULL, "bad record header at offset 0 of the PACK" },
	{ "an inner record of type 0", inner_type0, NULL, "bad record header at offset 0 of the PACK" },
	{ "an inner record as long as the PACK", inner_long, NULL, "bad record header at offset 0 of the PACK" },
	{ "an inner record of 4 GiB", inner_huge, NULL, "bad record header at offset 0 of the PACK" },
	{ "an inner record's reserved field set", inner_zero, NULL, "bad record header at offset 0 of the PACK" },
	{ "the last record cut short", cut_last, NULL, "of the PACK" },
	{ "the CRC32C of the raw bytes wrong", NULL, pay_crc, "do not match their checksum" },
	{ "the raw length 8 more than the frame's", NULL, pay_plus8, "frame does not say" },
	{ "the raw length not a multiple of 8", NULL, pay_odd, "is not 16" },
	{ "the raw length over 1 MiB", NULL, pay_over, "is not 16" },
	{ "the raw length 4 GiB", NULL, pay_huge, "is not 16" },
	{ "no frame", NULL, pay_short, "bad PACK record" },
	{ "a flipped bit in the frame, CRC fixed", NULL, pay_flip, "PACK" },
	{ "a bomb: 2 MiB of zeros saying 1 MiB", NULL, pay_bomb, "at most 16 times" },
	{ "a bomb whose frame says 1 MiB", NULL, pay_bomb_lying, "at most 16 times" },
	{ "a byte of a file's data changed", data_byte, NULL, "loaded" },
};

int main(void)
{
	char file[300], bad[300], v2[300], msg[512], p[600];
	struct save_result res;
	struct perr err = { "" };
	unsigned cnt[REC_TYPES];
	size_t i, n;
	int r;

	if (!mkdtemp(dir))
		return tap_done(0);
	snprintf(up, sizeof up, "%s/up", dir);
	snprintf(target, sizeof target, "%s/r", dir);
	snprintf(file, sizeof file, "%s/p.dat", dir);
	snprintf(bad, sizeof bad, "%s/bad.dat", dir);
	snprintf(v2, sizeof v2, "%s/v2.dat", dir);
	make_tree();

	/* a round trip: the small files and the entries in PACKs, the large file's chunks as ZDATA */
	is_int(pf_create_version(file, 64 << 20, PC_ZSTD, PF_VERSION_PACK), 0, "init: a zstd file");
	{
		struct pfile pf;
		ok(pf_open(&pf, file, 0) == 0 && pf.hdr.version == 3, "  of version 3");
		pf_close(&pf);
	}
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "save 600 small files and a large one");
	count_stored(file, cnt, NULL);
	ok(cnt[REC_PACK] >= 2 && cnt[REC_ZDATA] == 3 && cnt[REC_ENTRY] == 0 && cnt[REC_DATA] == 0,
	   "  stored: %u PACK, %u ZDATA, no ENTRY or DATA outside", cnt[REC_PACK], cnt[REC_ZDATA]);
	ok(replay_verdict(file, msg, sizeof msg) == NSMALL + 6 + 3, "  loads: %s", msg);
	mkdir(target, 0700);
	for (unsigned t = 1; t <= 3; t++) {
		restore_threads = t;
		r = load_restore(file, UINT64_MAX, target, &err, &n);
		ok(r == 0, "  restores with %u thread(s) (%s)", t, r ? err.msg : "");
		ok(same_files(), "    every file the same");
		rm_rf(target);
		mkdir(target, 0700);
	}
	restore_threads = 0;
	/* an incremental save (one file changed, one deleted) and a compaction keep the rest */
	snprintf(p, sizeof p, "%s/d1/f101", up);
	put_file(p, "changed", 7);
	snprintf(p, sizeof p, "%s/d2/f202", up);
	unlink(p);
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "an incremental save");
	ok(res.entries_written == 2 && res.deletes == 1, "  %llu entries written, %llu deleted",
	   (unsigned long long)res.entries_written, (unsigned long long)res.deletes);
	{
		struct pfile pf;
		pf_open(&pf, file, 1);
		is_int(persist_compact(&pf, &res), 0, "compact");
		pf_close(&pf);
	}
	r = load_restore(file, UINT64_MAX, target, &err, &n);
	ok(r == 0, "  restores (%s)", r ? err.msg : "");
	{
		snprintf(p, sizeof p, "%s/d2/f202", target);
		struct stat st;
		ok(lstat(p, &st) < 0 && errno == ENOENT, "  the deleted file is gone");
		snprintf(p, sizeof p, "%s/d2/f202", up);
		put_file(p, "", 0);	/* same_files compares it: empty on both sides */
		snprintf(p, sizeof p, "%s/d2/f202", target);
		put_file(p, "", 0);
		ok(same_files(), "  every other file the same, the changed one too");
	}
	rm_rf(target);

	/*
	 * A rewind across a PACK flush (a file that changed while it was read, save.c): the records
	 * before the mark stay, whether the PACK that held them was flushed after it or not.
	 */
	for (int flush = 0; flush < 2; flush++) {
		char f2[300];
		struct pfile pf;
		struct pwriter w;
		struct pentry e = { 0 };
		static unsigned char blob[PF_PACK_DATA_MAX];
		struct wmark m;
		snprintf(f2, sizeof f2, "%s/w%d.dat", dir, flush);
		pf_create_version(f2, 16 << 20, PC_ZSTD, PF_VERSION_PACK);
		pf_open(&pf, f2, 1);
		r = w_begin(&w, &pf, 0, TXN_SAVE, NULL);
		e.path = ".";
		e.type = PT_DIR;
		e.mode = 0755;
		r = r ? r : w_entry(&w, &e);
		e.type = PT_FILE;
		e.mode = 0644;
		/* before the mark: 3 files of 256 KiB of random bytes, almost a whole PACK */
		for (int k = 0; k < 3 && !r; k++) {
			char name[16];
			for (i = 0; i < sizeof blob; i++)
				blob[i] = (unsigned char)rnd(256);
			snprintf(name, sizeof name, "k%d", k);
			e.path = name;
			e.size = sizeof blob;
			e.flags = EF_DATA;
			e.crc = content_crc_step(0, 0, blob, sizeof blob);
			r = w_data(&w, 0, blob, sizeof blob);
			r = r ? r : w_entry(&w, &e);
		}
		w_mark(&w, &m);
		/* after it: a file whose data fills the PACK (flush 1) or not, then taken back */
		e.path = "gone";
		e.size = flush ? sizeof blob : 10;
		r = r ? r : w_data(&w, 0, blob, (size_t)e.size);
		r = r ? r : w_entry(&w, &e);
		ok(r == 0 && (w.flushes != m.flushes) == flush, "rewind %s a PACK flush: the writer flushed %u",
		   flush ? "across" : "without", w.flushes - m.flushes);
		w_rewind(&w, m);
		e.path = "kept";
		e.size = 5;
		e.crc = content_crc_step(0, 0, "after", 5);
		r = r ? r : w_data(&w, 0, "after", 5);
		r = r ? r : w_entry(&w, &e);
		r = r ? r : w_commit(&w, 5, 3 * sizeof blob + 5);
		w_abort(&w);
		pf_close(&pf);
		is_int(r, 0, "  committed");
		mkdir(target, 0700);
		r = load_restore(f2, UINT64_MAX, target, &err, &n);
		ok(r == 0 && n == 5, "  loads and restores the 4 files written before the mark and after the rewind (%s)",
		   r ? err.msg : "");
		snprintf(p, sizeof p, "%s/gone", target);
		struct stat st;
		ok(lstat(p, &st) < 0, "  the file taken back is not there");
		rm_rf(target);
	}

	/* crafted PACKs (a file of one save): the reader says why, and a restore creates nothing */
	{
		snprintf(p, sizeof p, "%s/small", dir);
		mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/small/a", dir);
		put_file(p, "some text some text some text", 29);
		snprintf(p, sizeof p, "%s/small/b", dir);
		put_file(p, "other", 5);
		char one[300], small[300];
		snprintf(one, sizeof one, "%s/one.dat", dir);
		snprintf(small, sizeof small, "%s/small", dir);
		pf_create_version(one, 1 << 20, PC_ZSTD, PF_VERSION_PACK);
		is_int(persist_save(one, small, NULL, NULL, 0, &res), 0, "a file of one save of 3 entries");
		is_int(craft(one, bad, NULL, NULL), 0, "  rebuilt unchanged by the crafting");
		ok(replay_verdict(bad, msg, sizeof msg) == 3, "  that loads (%s)", msg);
		for (i = 0; i < sizeof crafted / sizeof crafted[0]; i++) {
			const struct crafted *c = &crafted[i];
			if (craft(one, bad, c->raw, c->pay)) {
				ok(0, "%s: crafted", c->name);
				continue;
			}
			long got = replay_verdict(bad, msg, sizeof msg);
			ok(strcmp(c->why, "loaded") ? got < 0 && strstr(msg, c->why) : got == 3, "%s: %s", c->name, msg);
			mkdir(target, 0700);
			r = load_restore(bad, UINT64_MAX, target, &err, &n);
			if (!strcmp(c->why, "loaded"))
				ok(r < 0 && strstr(err.msg, "content checksum mismatch"), "  found as the file is written (%s)",
				   err.msg);
			else
				ok(r != 0 && count_entries(target) == 0, "  restore: nothing created (%d, %d entries)", r,
				   count_entries(target));
			rm_rf(target);
		}
		/* media damage: a bit of the stored frame, the record CRC not fixed */
		{
			size_t len;
			unsigned char *img = slurp(one, &len);
			int64_t first[REC_TYPES];
			struct pfile pf;
			count_stored(one, cnt, first);
			pf_open(&pf, one, 0);
			uint64_t at = pf_area_base(&pf.hdr, pf.hdr.area) + (uint64_t)first[REC_PACK];
			pf_close(&pf);
			img[at + PF_REC_HDR + PF_PACK_HDR + 4] ^= 0x20;
			spill(bad, img, len);
			ok(replay_verdict(bad, msg, sizeof msg) < 0 && strstr(msg, "checksum mismatch"), "media damage in a PACK: %s", msg);
			/* the same PACK in a file whose header says version 2: not a record of that version */
			img[at + PF_REC_HDR + PF_PACK_HDR + 4] ^= 0x20;
			for (int s = 0; s < 2; s++) {
				put_le32(img + s * PF_SLOT_SIZE + 8, PF_VERSION_ZDATA);
				put_le32(img + s * PF_SLOT_SIZE + PF_HDR_CRC, crc32c(0, img + s * PF_SLOT_SIZE, PF_HDR_CRC));
			}
			spill(bad, img, len);
			ok(replay_verdict(bad, msg, sizeof msg) < 0 && strstr(msg, "bad record header at area offset"),
			   "a PACK in a version 2 file: %s", msg);
			/* pf_fix_checksums (the fuzzers' fix-up) makes a changed PACK's two checksums right */
			free(img);
			img = slurp(one, &len);
			put_le32(img + at + PF_REC_HDR + 4, get_le32(img + at + PF_REC_HDR + 4) ^ 0xff);
			spill(bad, img, len);
			ok(replay_verdict(bad, msg, sizeof msg) < 0, "a PACK's CRC32C changed: refused (%s)", msg);
			pf_fix_checksums(img, len);
			spill(bad, img, len);
			ok(replay_verdict(bad, msg, sizeof msg) == 3, "  after pf_fix_checksums: loads (%s)", msg);
			free(img);
		}
	}

	/* small files of zeros: the writer pads their PACK so that it expands at most 16 times */
	{
		char zf[300], zd[300];
		static char zeros[60000];
		int64_t first[REC_TYPES];
		snprintf(zd, sizeof zd, "%s/zeros", dir);
		mkdir(zd, 0755);
		for (i = 0; i < 40; i++) {
			snprintf(p, sizeof p, "%s/z%zu", zd, i);
			put_file(p, zeros, sizeof zeros);
		}
		snprintf(zf, sizeof zf, "%s/z.dat", dir);
		pf_create_version(zf, 16 << 20, PC_ZSTD, PF_VERSION_PACK);
		is_int(persist_save(zf, zd, NULL, NULL, 0, &res), 0, "save 40 files of 60,000 zeros");
		count_stored(zf, cnt, first);
		{
			struct pfile pf;
			unsigned char h[PF_REC_HDR + PF_PACK_HDR];
			pf_open(&pf, zf, 0);
			(void)pread_all(pf.fd, h, sizeof h, (off_t)(pf_area_base(&pf.hdr, pf.hdr.area) + (uint64_t)first[REC_PACK]), &n);
			pf_close(&pf);
			ok(cnt[REC_PACK] >= 3 && get_le32(h + PF_REC_HDR) / PF_PACK_RATIO <= get_le32(h + 8),
			   "  %u PACKs, the first of %u bytes holding %u", cnt[REC_PACK], get_le32(h + 8), get_le32(h + PF_REC_HDR));
		}
		mkdir(target, 0700);
		r = load_restore(zf, UINT64_MAX, target, &err, &n);
		snprintf(p, sizeof p, "%s/z39", target);
		unsigned char *got = slurp(p, &n);
		ok(r == 0 && got && n == sizeof zeros && !memcmp(got, zeros, n), "  restores (%s)", r ? err.msg : "");
		free(got);
		rm_rf(target);
	}

	/* a version 2 file (persist before PACK): read, and appended to as version 2 */
	{
		size_t len;
		unsigned char *img = slurp("tools/persist/t/old/v2-two-generations.bin", &len), *whole = calloc(1, PF_MIN_SIZE);
		if (!img || !whole || len > PF_MIN_SIZE) {
			tap_skip(5, "no tools/persist/t/old/v2-two-generations.bin here (run from the top of the tree)");
		} else {
			struct pfile pf;
			memcpy(whole, img, len);
			spill(v2, whole, PF_MIN_SIZE);
			ok(replay_verdict(v2, msg, sizeof msg) == 9, "the version 2 file of main's persist loads: %s", msg);
			snprintf(p, sizeof p, "%s/small/c", dir);
			put_file(p, "a third file, for a version 2 save", 34);
			snprintf(p, sizeof p, "%s/small", dir);
			is_int(persist_save(v2, p, NULL, NULL, 0, &res), 0, "  a save into it");
			r = pf_open(&pf, v2, 0);
			ok(r == 0 && pf.hdr.version == PF_VERSION_ZDATA && pf.hdr.gen == 3,
			   "  it stays version 2 (generation %llu)", (unsigned long long)pf.hdr.gen);
			pf_close(&pf);
			count_stored(v2, cnt, NULL);
			ok(cnt[REC_PACK] == 0 && cnt[REC_ENTRY] > 0, "  no PACK in it: %u ENTRY records", cnt[REC_ENTRY]);
			mkdir(target, 0700);
			r = load_restore(v2, UINT64_MAX, target, &err, &n);
			snprintf(p, sizeof p, "%s/c", target);
			unsigned char *got = slurp(p, &len);
			ok(r == 0 && n == 4 && got && len == 34, "  restores its 4 entries (%s)", r ? err.msg : "");
			free(got);
			rm_rf(target);
		}
		free(img);
		free(whole);
	}
	rm_rf(dir);
	return tap_done(0);
}
