/* journal.c: unit tests of the codec, writer, reader and restore, with crafted bad save files. */
#include "tap.h"
#include "helpers.h"

static char base[64];

static void path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", base, name);
}

static void test_paths(void)
{
	static const char *const good[] = { ".", "a", "a/b", "a.b/..c/...", "x/y/z" };
	static const char *const bad[] = { "", "..", "a/..", "../a", "/abs", "a//b", "a/", "./a", "a/./b" };
	char longname[300], longpath[4200];
	size_t i;

	for (i = 0; i < sizeof good / sizeof *good; i++)
		is_int(path_check(good[i], strlen(good[i])), 0, good[i]);
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		ok(path_check(bad[i], strlen(bad[i])) == -EINVAL, "path '%s' refused", bad[i]);
	ok(path_check("a\0b", 3) == -EINVAL, "path with NUL refused");
	memset(longname, 'n', 256);
	longname[256] = 0;
	ok(path_check(longname, 256) == -EINVAL, "256-byte component refused");
	ok(path_check(longname, 255) == 0, "255-byte component accepted");
	for (i = 0; i < 4096; i++)
		longpath[i] = i % 100 == 99 ? '/' : 'p';
	ok(path_check(longpath, 4096) == -EINVAL, "4096-byte path refused");
	/* every string of up to 7 of 'a', '.' and '/' against the rule spelled out another way */
	{
		char s[8];
		int bad_n = 0, len, k;
		for (len = 1; len <= 7; len++) {
			int total = 1;
			for (k = 0; k < len; k++)
				total *= 3;
			for (int c = 0; c < total; c++) {
				int x = c, want = 1;
				for (k = 0; k < len; k++, x /= 3)
					s[k] = "a./"[x % 3];
				s[len] = 0;
				if (strcmp(s, ".") != 0) {
					char copy[8], *save, *comp;
					strcpy(copy, s);
					want = s[0] != '/' && s[len - 1] != '/' && !strstr(s, "//");
					for (comp = strtok_r(copy, "/", &save); want && comp; comp = strtok_r(NULL, "/", &save))
						want = strcmp(comp, ".") && strcmp(comp, "..");
				}
				if ((path_check(s, (size_t)len) == 0) != want && bad_n++ < 3)
					tap_diag("path_check('%s') is %d, the rule says %s", s, path_check(s, (size_t)len),
						 want ? "good" : "bad");
			}
		}
		ok(bad_n == 0, "path_check agrees with the rule on all 3,279 strings of up to 7 of 'a', '.', '/'");
	}
}

static void test_codec(void)
{
	struct pentry e = { 0 }, d;
	unsigned char buf[1024], x[64], hb[PF_HDR_LEN];
	struct phdr h = { 0 }, h2;
	uint32_t vl;

	put_le16(x, 11); put_le16(x + 2, 0); put_le32(x + 4, 1); memcpy(x + 8, "trusted.abcy", 12);
	e.path = "dir/link";
	e.target = "../t";
	e.type = PT_SYMLINK;
	e.mode = 0777;
	e.size = 4;
	e.uid = 7;
	e.mtime_sec = -5;
	e.mtime_nsec = 999999999;
	e.xattrs = x;
	e.nxattr = 1;
	e.xattr_len = 8 + 11 + 1;
	memcpy(x + 8, "trusted.abc", 11);
	x[19] = 'y';
	entry_encode(&e, buf);
	is_int(entry_decode(buf, entry_encoded_len(&e), &d), 0, "entry decodes");
	is_str(d.path, "dir/link", "path round trip");
	is_str(d.target, "../t", "target round trip");
	ok(d.mtime_sec == -5 && d.mtime_nsec == 999999999 && d.uid == 7, "times and owner round trip");
	ok(xattr_find(&d, "trusted.abc", &vl) && vl == 1, "xattr round trip");
	entry_free(&d);
	ok(entry_decode(buf, entry_encoded_len(&e) - 1, &d) == -EINVAL, "short entry refused");
	put_le64(buf + 24, 1ull << 60);
	ok(entry_decode(buf, entry_encoded_len(&e), &d) == -EINVAL, "absurd size refused");
	entry_encode(&e, buf);
	put_le32(buf + 88, 100000);
	ok(entry_decode(buf, entry_encoded_len(&e), &d) == -EINVAL, "absurd xattr count refused");

	h.seq = 3; h.gen = 2; h.file_size = 1 << 20; h.area_size = ((1 << 20) - PF_DATA_START) / 2 & ~4095;
	h.epoch = 1; h.end = 4096;
	hdr_encode(&h, hb);
	is_int(hdr_decode(hb, &h2), 0, "header decodes");
	ok(h2.seq == 3 && h2.gen == 2 && h2.end == 4096, "header round trip");
	for (int bit = 0; bit < PF_HDR_LEN * 8; bit += 7) {
		hb[bit / 8] ^= 1 << (bit % 8);
		if (hdr_decode(hb, &h2) == 0)
			break;
		hb[bit / 8] ^= 1 << (bit % 8);
		if (bit + 7 >= PF_HDR_LEN * 8)
			ok(1, "every tested header bit flip detected");
	}

	/* BEGIN and COMMIT: the layout of persist-format.md, byte for byte, and back */
	struct rec_begin rb = { .gen = 9, .time_ns = 123456789, .kind = TXN_ROLLBACK, .lower_size = 1 << 30,
				.lower_crc = 0xdeadbeef, .why = 3 }, rb2;
	struct rec_commit rc = { .gen = 9, .nrec = 3, .entries = 70000, .bytes = 5ull << 33 }, rc2;
	memset(buf, 0xa5, PF_BEGIN_LEN);
	begin_encode(&rb, buf);
	ok(get_le64(buf) == 9 && get_le64(buf + 8) == 123456789 && get_le32(buf + 16) == TXN_ROLLBACK &&
	   get_le32(buf + 20) == 3 && get_le64(buf + 24) == 1 << 30 && get_le32(buf + 32) == 0xdeadbeef &&
	   get_le32(buf + 36) == 0, "BEGIN: gen, time, kind, why, lower size, lower crc, 0");
	ok(begin_decode(buf, PF_BEGIN_LEN, &rb2) == 0 && rb2.gen == rb.gen && rb2.time_ns == rb.time_ns &&
	   rb2.kind == rb.kind && rb2.why == rb.why && rb2.lower_size == rb.lower_size && rb2.lower_crc == rb.lower_crc,
	   "BEGIN round trip");
	ok(begin_decode(buf, PF_BEGIN_LEN - 8, &rb2) == -EBADMSG, "BEGIN of another length refused");
	commit_encode(&rc, buf);
	ok(get_le64(buf) == 9 && get_le32(buf + 8) == 3 && get_le32(buf + 12) == 70000 &&
	   get_le64(buf + 16) == 5ull << 33, "COMMIT: gen, records, entries, bytes");
	ok(commit_decode(buf, PF_COMMIT_LEN, &rc2) == 0 && !memcmp(&rc, &rc2, sizeof rc), "COMMIT round trip");
	ok(commit_decode(buf, PF_COMMIT_LEN + 8, &rc2) == -EBADMSG, "COMMIT of another length refused");
}

/* A small upper: files, a sparse file, dirs, a symlink, hardlinks, a fifo. */
static void make_upper(const char *up)
{
	char p[512], big[70000];
	int fd;

	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/d", up); mkdir(p, 0750);
	snprintf(p, sizeof p, "%s/d/e", up); mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/d/f", up); put_file(p, "hello\n", 6);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7);
	snprintf(p, sizeof p, "%s/big", up); put_file(p, big, sizeof big);
	snprintf(p, sizeof p, "%s/sparse", up);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	(void)pwrite(fd, "x", 1, 3000000);
	close(fd);
	snprintf(p, sizeof p, "%s/d/link", up); (void)symlink("../big", p);
	char a[512], b[512];
	snprintf(a, sizeof a, "%s/d/f", up); snprintf(b, sizeof b, "%s/hard", up); (void)link(a, b);
	snprintf(p, sizeof p, "%s/fifo", up); (void)mkfifo(p, 0640);
}

static int same_file(const char *a, const char *b)
{
	char x[80000], y[80000];
	size_t gx, gy;
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY), r = 0;

	if (fa >= 0 && fb >= 0 && pread_all(fa, x, sizeof x, 0, &gx) == 0 && pread_all(fb, y, sizeof y, 0, &gy) == 0)
		r = gx == gy && memcmp(x, y, gx) == 0;
	if (fa >= 0) close(fa);
	if (fb >= 0) close(fb);
	return r;
}

static void test_round_trip(void)
{
	char up[256], file[256], r1[256], a[512], b[512], tgt[64];
	struct perr err = { "" };
	struct save_result res;
	struct stat s1, s2;
	size_t n;

	path(up, sizeof up, "up"); path(file, sizeof file, "s.dat"); path(r1, sizeof r1, "r1");
	make_upper(up);
	is_int(pf_create(file, 1 << 20, PC_NONE), 0, "init 1 MiB");
	ok(pf_create(file, 1 << 20, PC_NONE) == -EEXIST, "init refuses an existing file");
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "first save");
	ok(res.gen == 1 && res.entries_written == 9, "gen 1 wrote 9 entries (got gen %llu, %llu)",
	   (unsigned long long)res.gen, (unsigned long long)res.entries_written);
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 1, "nothing changed: nothing written");
	snprintf(a, sizeof a, "%s/d/f", up); put_file(a, "changed!\n", 9);
	snprintf(a, sizeof a, "%s/big", up); unlink(a);
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "incremental save");
	ok(res.deletes == 1 && res.entries_written == 3, "it wrote the changed hardlink group and the root, one delete (%llu, %llu)",
	   (unsigned long long)res.entries_written, (unsigned long long)res.deletes);
	mkdir(r1, 0700);
	is_int(load_restore(file, UINT64_MAX, r1, &err, &n), 0, "restore newest");
	snprintf(a, sizeof a, "%s/d/f", up); snprintf(b, sizeof b, "%s/d/f", r1);
	ok(same_file(a, b), "content restored");
	snprintf(b, sizeof b, "%s/hard", r1);
	ok(stat(b, &s1) == 0 && s1.st_nlink == 2, "hardlink restored");
	snprintf(b, sizeof b, "%s/big", r1);
	ok(access(b, F_OK) < 0, "deleted file gone");
	snprintf(b, sizeof b, "%s/sparse", r1);
	ok(stat(b, &s1) == 0 && s1.st_size == 3000001 && s1.st_blocks < 64, "sparse file restored sparse");
	snprintf(b, sizeof b, "%s/d/link", r1);
	ok(readlink(b, tgt, sizeof tgt) == 6 && memcmp(tgt, "../big", 6) == 0, "symlink restored");
	snprintf(a, sizeof a, "%s/d", up); snprintf(b, sizeof b, "%s/d", r1);
	ok(stat(a, &s1) == 0 && stat(b, &s2) == 0 && s1.st_mode == s2.st_mode &&
	   s1.st_mtim.tv_sec == s2.st_mtim.tv_sec && s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec, "dir mode and mtime");
	snprintf(b, sizeof b, "%s/fifo", r1);
	ok(stat(b, &s1) == 0 && S_ISFIFO(s1.st_mode) && (s1.st_mode & 07777) == 0640, "fifo restored");
	rm_rf(r1);
	mkdir(r1, 0700);
	is_int(load_restore(file, 1, r1, &err, &n), 0, "restore --at 1");
	snprintf(a, sizeof a, "%s/big", r1);
	ok(access(a, F_OK) == 0, "gen 1 still has big");
	rm_rf(r1);

	/* after a restore, the first save finds nothing new in the data (KEEP, no data rewritten) */
	mkdir(r1, 0700);
	load_restore(file, UINT64_MAX, r1, &err, &n);
	is_int(persist_save(file, r1, NULL, NULL, 0, &res), 0, "save of a restored tree");
	ok(res.bytes == 0, "no data rewritten, the hardlink group included (got %llu)", (unsigned long long)res.bytes);
	rm_rf(r1);
}

/* Truncations and bit flips of a real save file: a clear error, or an acknowledged generation. */
static void test_damage(void)
{
	char up[256], file[256], bad[256], r2[256], out[256], p[512];
	struct perr err = { "" };
	unsigned char *img, orig;
	struct pfile pf;
	struct save_result res;
	size_t size = 1 << 20, n, k;
	uint64_t end;
	int fd, wrong = 0, good = 0, errors = 0, r;

	path(up, sizeof up, "small"); path(file, sizeof file, "d.dat"); path(bad, sizeof bad, "bad.dat");
	path(r2, sizeof r2, "box/r"); path(out, sizeof out, "box");
	mkdir(out, 0700);
	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/sub", up); mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/f", up); put_file(p, "first version", 13);
	snprintf(p, sizeof p, "%s/g", up); put_file(p, "gg", 2);
	pf_create(file, size, PC_NONE);
	persist_save(file, up, NULL, NULL, 0, &res);
	snprintf(p, sizeof p, "%s/sub/f", up); put_file(p, "second", 6);
	snprintf(p, sizeof p, "%s/g", up); unlink(p);
	persist_save(file, up, NULL, NULL, 0, &res);
	img = malloc(size);
	fd = open(file, O_RDONLY);
	pread_all(fd, img, size, 0, &n);
	close(fd);
	pf_open(&pf, file, 0);
	end = pf_area_base(&pf.hdr, pf.hdr.area) + pf.hdr.end;
	pf_close(&pf);
	/* truncated at every offset of the headers and the journal, then every 509th */
	fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	write_all(fd, img, size);
	for (k = size; k-- > 0;) {
		if (k > end + 4096 && k % 509)
			continue;
		(void)ftruncate(fd, (off_t)k);
		if (pf_open(&pf, bad, 0) == 0)
			wrong++;
		pf_close(&pf);
	}
	close(fd);
	is_int(wrong, 0, "a save file truncated at any offset never opens");
	/* one bit flipped in every byte of the headers' used part and of the committed journal */
	fd = open(bad, O_RDWR | O_TRUNC, 0600);
	write_all(fd, img, size);
	wrong = 0;
	for (k = 0; k < end; k++) {
		if (k % PF_SLOT_SIZE >= PF_HDR_LEN && k < PF_DATA_START)
			continue;
		orig = img[k] ^ (unsigned char)(1u << (k % 8));
		pwrite_all(fd, &orig, 1, (off_t)k);
		mkdir(r2, 0700);
		r = load_restore(bad, UINT64_MAX, r2, &err, &n);
		if (r == 0 || r == 1)
			good++;
		else if (r == -EBADMSG || r == -EPROTONOSUPPORT)
			errors++;
		else {
			wrong++;
			tap_diag("flip at %zu: %d %s", k, r, err.msg);
		}
		rm_rf(r2);
		if (count_entries(out) != 0)
			wrong++;
		pwrite_all(fd, &img[k], 1, (off_t)k);
	}
	close(fd);
	ok(wrong == 0 && good > 0, "bit flips: %d restored an acknowledged generation, %d refused, %d otherwise",
	   good, errors, wrong);
	free(img);
}

/* Save files written by a hostile writer: every path trick must fail cleanly inside the target. */
static int craft(const char *file, struct pentry *v, int n, const char *delete_path)
{
	struct pfile pf;
	struct pwriter w;
	uint64_t bytes = 0;
	int r, i;

	for (i = 0; i < n; i++)
		bytes += v[i].type == PT_FILE ? v[i].size : 0;
	unlink(file);
	r = pf_create(file, 1 << 20, PC_NONE);
	if (!r)
		r = pf_open(&pf, file, 1);
	if (!r)
		r = w_begin(&w, &pf, 0, TXN_SAVE, NULL);
	for (i = 0; i < n && !r; i++)
		r = w_entry(&w, &v[i]);
	if (!r && delete_path)
		r = w_delete(&w, delete_path);
	if (!r)
		r = w_commit(&w, (uint32_t)n, bytes);
	pf_close(&pf);
	return r;
}

static void test_hostile(void)
{
	static const char *const paths[] = { "../evil", "/abs", "a//b", "a/../../evil", "a/./b", "" };
	char file[256], r3[256], out[256];
	struct perr err = { "" };
	struct pentry e[3];
	size_t i, n;

	path(file, sizeof file, "h.dat"); path(out, sizeof out, "box2"); path(r3, sizeof r3, "box2/r");
	mkdir(out, 0700);
	for (i = 0; i < sizeof paths / sizeof *paths; i++) {
		memset(e, 0, sizeof e);
		e[0].path = (char *)paths[i];
		e[0].type = PT_FILE;
		e[0].mode = 0644;
		int c = craft(file, e, 1, NULL);
		mkdir(r3, 0700);
		int r = load_restore(file, UINT64_MAX, r3, &err, &n);
		ok(c == 0 && r == 1 && count_entries(r3) == 0,
		   "path '%s' refused: the older (empty) generation restored (%d %d)", paths[i], c, r);
		rm_rf(r3);
	}
	/* a symlink, then an entry through it: refused, nothing outside */
	memset(e, 0, sizeof e);
	e[0].path = "s"; e[0].type = PT_SYMLINK; e[0].target = (char *)out; e[0].size = strlen(out); e[0].mode = 0777;
	e[0].uid = getuid(); e[0].gid = getgid();
	e[1].path = "s/escaped"; e[1].type = PT_FILE; e[1].mode = 0644; e[1].uid = getuid(); e[1].gid = getgid();
	craft(file, e, 2, NULL);
	mkdir(r3, 0700);
	int r = load_restore(file, UINT64_MAX, r3, &err, &n);
	ok(r < 0 && count_entries(out) == 1, "symlink escape refused (%s)", err.msg);
	rm_rf(r3);
	/* a hardlink member whose group has no data holder */
	memset(e, 0, sizeof e);
	e[0].path = "x"; e[0].type = PT_FILE; e[0].mode = 0644; e[0].group = 5; e[0].size = 3;
	e[0].uid = getuid(); e[0].gid = getgid();
	craft(file, e, 1, NULL);
	mkdir(r3, 0700);
	r = load_restore(file, UINT64_MAX, r3, &err, &n);
	ok(r < 0, "hardlink group without data refused (%d %s)", r, err.msg);
	rm_rf(r3);
	/* a DELETE of a path that was never saved */
	memset(e, 0, sizeof e);
	craft(file, e, 0, "nothing");
	mkdir(r3, 0700);
	ok(load_restore(file, UINT64_MAX, r3, &err, &n) == 1 && count_entries(r3) == 0,
	   "DELETE of an unknown path refused: the older generation restored");
	rm_rf(r3);
	/* a DELETE with '..' */
	craft(file, e, 0, "../x");
	mkdir(r3, 0700);
	ok(load_restore(file, UINT64_MAX, r3, &err, &n) == 1 && count_entries(r3) == 0,
	   "DELETE of '../x' refused: the older generation restored");
	rm_rf(r3);
	/* an xattr save would never write (unknown trusted.overlay.*) */
	unsigned char x[64];
	put_le16(x, 24); put_le16(x + 2, 0); put_le32(x + 4, 1); memcpy(x + 8, "trusted.overlay.metacopy", 24); x[32] = 'y';
	memset(e, 0, sizeof e);
	e[0].path = "m"; e[0].type = PT_DIR; e[0].mode = 0755; e[0].xattrs = x; e[0].nxattr = 1; e[0].xattr_len = 33;
	e[0].uid = getuid(); e[0].gid = getgid();
	craft(file, e, 1, NULL);
	mkdir(r3, 0700);
	ok(load_restore(file, UINT64_MAX, r3, &err, &n) < 0, "trusted.overlay.metacopy refused on restore (%s)", err.msg);
	rm_rf(r3);
	ok(count_entries(out) == 0, "nothing was ever created outside the target");
}

static void test_metatable(void)
{
	is_int(xattr_action("trusted.overlay.opaque"), XA_OPAQUE, "opaque");
	is_int(xattr_action("trusted.overlay.origin"), XA_DROP, "origin dropped");
	is_int(xattr_action("trusted.overlay.redirect"), XA_KEEP, "redirect kept");
	is_int(xattr_action("trusted.overlay.metacopy"), XA_REFUSE, "metacopy refused");
	is_int(xattr_action("trusted.overlay.newthing"), XA_REFUSE, "unknown trusted.overlay.* refused");
	is_int(xattr_action("security.selinux"), XA_KEEP, "security kept");
	is_int(xattr_action("user.x"), XA_KEEP, "user kept");
	ok(xattr_restorable("trusted.overlay.opaque", (const unsigned char *)"y", 1), "opaque y restorable");
	ok(!xattr_restorable("trusted.overlay.opaque", (const unsigned char *)"y\n", 2), "opaque y\\n not restorable");
}

static void test_patterns(void)
{
	char up[256], file[256], conf[300], p[512], r4[256];
	struct perr err = { "" };
	struct perr pe;
	struct patterns pat;
	struct save_result res;
	size_t n;
	FILE *f;

	path(up, sizeof up, "pup"); path(file, sizeof file, "p.dat"); path(r4, sizeof r4, "r4");
	snprintf(conf, sizeof conf, "%s.conf", file);
	f = fopen(conf, "w");
	fprintf(f, "# keep etc, but not its caches\ninclude /etc\nexclude *.cache\n");
	fclose(f);
	is_int(patterns_load(file, &pat, &pe), 0, "F.conf read");
	ok(patterns_want(&pat, "etc") && patterns_want(&pat, "etc/x/y") && !patterns_want(&pat, "var/log")
	   && !patterns_want(&pat, "etc/a.cache") && !patterns_want(&pat, "etc/a.cache/z"), "include/exclude semantics");
	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/etc", up); mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/etc/keep", up); put_file(p, "k", 1);
	snprintf(p, sizeof p, "%s/etc/x.cache", up); put_file(p, "c", 1);
	snprintf(p, sizeof p, "%s/var", up); mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/var/log", up); put_file(p, "l", 1);
	pf_create(file, 1 << 20, PC_NONE);
	is_int(persist_save(file, up, &pat, NULL, 0, &res), 0, "save with patterns");
	mkdir(r4, 0700);
	load_restore(file, UINT64_MAX, r4, &err, &n);
	is_int(n, 3, "root, etc and etc/keep saved");
	patterns_free(&pat);
	f = fopen(conf, "w");
	fprintf(f, "bogus line\n");
	fclose(f);
	ok(patterns_load(file, &pat, &pe) == -EINVAL && strstr(pe.msg, ":1:"), "a bad line is an error with its number");
	rm_rf(r4);
}

/* Loads a save file image: -errno, or 0 with the generation and entry count it presents. */
static int load_image(const char *file, const unsigned char *img, size_t size, uint64_t *gen, size_t *count)
{
	struct pfile pf;
	struct pstate st;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600), r;

	write_all(fd, img, size);
	close(fd);
	r = pf_open(&pf, file, 0);
	if (!r) {
		r = pf_load(&pf, UINT64_MAX, PCHECK_ALL, &st, NULL);
		if (r >= 0) {
			*gen = pf.hdr.gen;
			*count = st.count;
			state_free(&st);
			r = 0;
		}
	}
	pf_close(&pf);
	return r;
}

static unsigned char *snapshot(const char *file, size_t size)
{
	unsigned char *b = malloc(size);
	size_t got;
	int fd = open(file, O_RDONLY);

	pread_all(fd, b, size, 0, &got);
	close(fd);
	return b;
}

/*
 * A power cut during a generation's write, simulated on images: P before it, Q after it. Until
 * the header is written, any mix of the journal's new bytes (per 512-byte sector: old, new or
 * garbage) must present P's generation; with the journal synced, any prefix of the new header
 * (a torn sector) must present P's or Q's generation, with its own state.
 */
static int cut_sweep(const char *name, const unsigned char *P, const unsigned char *Q, size_t size,
		     uint64_t gen_p, size_t n_p, uint64_t gen_q, size_t n_q)
{
	char file[256];
	unsigned char *img = malloc(size);
	uint64_t rs = 88172645463325252ull, gen;
	size_t k, count, slot = SIZE_MAX, bad = 0, trials = 0;
	int i;

	path(file, sizeof file, "cut.dat");
	for (k = 0; k < 2; k++)
		if (memcmp(P + k * PF_SLOT_SIZE, Q + k * PF_SLOT_SIZE, PF_HDR_LEN))
			slot = k;
	for (i = 0; i < 200; i++) {	/* journal bytes torn, header not yet written */
		memcpy(img, P, size);
		for (k = PF_DATA_START; k < size; k += 512) {
			if (!memcmp(P + k, Q + k, 512))
				continue;
			rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
			if (rs % 3 == 1)
				memcpy(img + k, Q + k, 512);
			else if (rs % 3 == 2)
				memset(img + k, (int)(rs >> 8), 512);
		}
		trials++;
		if (load_image(file, img, size, &gen, &count) || gen != gen_p || count != n_p)
			bad++;
	}
	for (k = 0; k <= PF_HDR_LEN && slot != SIZE_MAX; k++) {	/* the header torn at every byte */
		memcpy(img, Q, size);
		memcpy(img + slot * PF_SLOT_SIZE + k, P + slot * PF_SLOT_SIZE + k, PF_HDR_LEN - k);
		trials++;
		if (load_image(file, img, size, &gen, &count) ||
		    !((gen == gen_p && count == n_p) || (gen == gen_q && count == n_q && k >= PF_HDR_LEN - 4)))
			bad++;
	}
	ok(slot != SIZE_MAX && bad == 0, "cut during %s: %zu cut points, each presents gen %llu or %llu whole",
	   name, trials, (unsigned long long)gen_p, (unsigned long long)gen_q);
	unlink(file);
	free(img);
	return (int)bad;
}

static void test_cuts(void)
{
	char up[256], file[256], p[512];
	struct save_result res;
	struct pfile pf;
	size_t size = 1 << 20, n1, n2;
	unsigned char *P, *Q, *R;

	path(up, sizeof up, "cup"); path(file, sizeof file, "c.dat");
	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/a", up); put_file(p, "one", 3);
	snprintf(p, sizeof p, "%s/dir", up); mkdir(p, 0755);
	pf_create(file, size, PC_NONE);
	persist_save(file, up, NULL, NULL, 0, &res);
	n1 = res.state_entries;
	P = snapshot(file, size);
	for (int i = 0; i < 20; i++) {
		char big[3000];
		memset(big, 'a' + i, sizeof big);
		snprintf(p, sizeof p, "%s/dir/f%d", up, i);
		put_file(p, big, sizeof big);
	}
	snprintf(p, sizeof p, "%s/a", up); unlink(p);
	persist_save(file, up, NULL, NULL, 0, &res);
	n2 = res.state_entries;
	Q = snapshot(file, size);
	cut_sweep("an incremental save", P, Q, size, 1, n1, 2, n2);
	pf_open(&pf, file, 1);
	persist_compact(&pf, &res);
	pf_close(&pf);
	R = snapshot(file, size);
	cut_sweep("a compaction", Q, R, size, 2, n2, 3, n2);
	free(P);
	free(Q);
	free(R);
}

/* grow: a cut after the extension or during the new header still presents the same generation. */
static void test_grow(void)
{
	char up[256], file[256], p[512], r5[256];
	struct perr err = { "" };
	struct save_result res;
	struct pfile pf;
	unsigned char *P, *Q, *X;
	size_t small = 1 << 20, big = 2 << 20, k, count, n;
	uint64_t gen;
	int bad = 0;

	path(up, sizeof up, "gup"); path(file, sizeof file, "g.dat"); path(r5, sizeof r5, "r5");
	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/a", up); put_file(p, "grow me", 7);
	pf_create(file, small, PC_NONE);
	persist_save(file, up, NULL, NULL, 0, &res);
	P = snapshot(file, small);
	pf_open(&pf, file, 1);
	is_int(persist_grow(&pf, file, big, &res), 0, "grow 1 MiB -> 2 MiB");
	ok(pf.hdr.file_size == big && pf.hdr.gen == 1, "the header adopted the new size, same generation");
	pf_close(&pf);
	Q = snapshot(file, big);
	X = calloc(1, big);
	memcpy(X, P, small);	/* extended and synced, header not yet written */
	path(p, sizeof p, "gcut.dat");
	if (load_image(p, X, big, &gen, &count) || gen != 1 || count != 2)
		bad++;
	for (k = 0; k <= PF_HDR_LEN; k++) {
		int slot = memcmp(X, Q, PF_HDR_LEN) ? 0 : 1;
		memcpy(X + slot * PF_SLOT_SIZE, Q + slot * PF_SLOT_SIZE, k);
		if (load_image(p, X, big, &gen, &count) || gen != 1 || count != 2)
			bad++;
	}
	is_int(bad, 0, "a cut at any point of grow presents generation 1 whole");
	snprintf(p, sizeof p, "%s/b", up); put_file(p, "after", 5);
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "save after grow");
	mkdir(r5, 0700);
	is_int(load_restore(file, UINT64_MAX, r5, &err, &n), 0, "restore after grow");
	is_int(n, 3, "three entries");
	rm_rf(r5);
	free(P);
	free(Q);
	free(X);
}

/* A save of an upper that is not there (a mistyped --upper, a mount that failed) is refused and
 * writes nothing: it was once an empty scan, saved as the deletion of every path. */
static void test_missing_upper(void)
{
	char file[256], up[256], p[300];
	struct save_result res;
	struct pfile pf;
	uint64_t gen;

	path(file, sizeof file, "mu.dat");
	path(up, sizeof up, "mu-upper");
	mkdir(up, 0755);
	snprintf(p, sizeof p, "%s/f", up);
	put_file(p, "kept", 4);
	is_int(pf_create(file, 1 << 20, PC_NONE), 0, "missing upper: init");
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "missing upper: the first save");
	gen = res.gen;
	path(p, sizeof p, "mu-no-such-upper");
	ok(persist_save(file, p, NULL, NULL, 0, &res) == -ENOENT, "a save of a missing upper fails with ENOENT");
	ok(strstr(res.err.msg, "mu-no-such-upper") && strstr(res.err.msg, strerror(ENOENT)),
	   "and says which upper and why: %s", res.err.msg);
	is_int(pf_open(&pf, file, 0), 0, "missing upper: the save file opens");
	ok(pf.hdr.gen == gen, "no generation was written");
	pf_close(&pf);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The scan's order: directories of 0 to 300 random names (and one of 2,000), each directory's
 * children in the scan in strcmp order, every name once: checked against libc's qsort of the
 * names the test made.
 */
static void test_scan_order(void)
{
	static const unsigned sizes[] = { 0, 1, 2, 3, 7, 8, 9, 31, 64, 300, 2000 };
	char up[256], p[400], *want[2000], *got[2000];
	uint64_t x = 88172645463325252ull;
	size_t d, i, k;
	int bad = 0;

	path(up, sizeof up, "order");
	mkdir(up, 0755);
	for (d = 0; d < sizeof sizes / sizeof *sizes; d++) {
		snprintf(p, sizeof p, "%s/d%zu", up, d);
		mkdir(p, 0755);
	}
	for (d = 0; d < sizeof sizes / sizeof *sizes && !bad; d++) {
		struct scan sc;
		size_t n = 0, prefix;
		char dir[32];
		for (i = 0; i < sizes[d]; i++) {
			char name[24];
			unsigned len = 1 + (unsigned)(x % 12);
			for (k = 0; k < len; k++) {
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				name[k] = "ab.-_Zz09~"[x % 10];
			}
			name[len] = 0;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/d%zu/%s", up, d, name);
			if (access(p, F_OK) == 0)
				continue;
			put_file(p, "", 0);
			want[n++] = strdup(name);
		}
		qsort(want, n, sizeof *want, str_cmp);
		snprintf(dir, sizeof dir, "d%zu/", d);
		prefix = strlen(dir);
		if (scan_upper(up, NULL, NULL, &sc)) {
			bad = 1;
			break;
		}
		for (i = 0, k = 0; i < sc.n; i++)
			if (!strncmp(sc.v[i].path, dir, prefix) && k < 2000)
				got[k++] = sc.v[i].path + prefix;
		if (k != n)
			bad = 1;
		for (i = 0; i < n && !bad; i++)
			bad = strcmp(got[i], want[i]) != 0;
		if (bad)
			tap_diag("directory of %u names: the scan's order differs (%zu names seen, %zu made)", sizes[d], k, n);
		scan_free(&sc);
		for (i = 0; i < n; i++)
			free(want[i]);
	}
	ok(!bad, "the scan lists each directory's children in strcmp order, each once (0 to 2,000 names)");
	rm_rf(up);
}

/* init: written under PATH.init and renamed, so a cut leaves no file or a whole one; the next init
 * replaces a temporary a cut left behind. */
static void test_init(void)
{
	char file[256], tmp[300], other[256];
	struct pfile pf;
	struct stat st;

	path(file, sizeof file, "i.dat");
	snprintf(tmp, sizeof tmp, "%s%s", file, PF_INIT_SUFFIX);
	put_file(tmp, "half an init", 12);	/* what a cut during an earlier init leaves */
	is_int(pf_create(file, 1 << 20, PC_NONE), 0, "init over a temporary left by a cut");
	ok(lstat(tmp, &st) < 0 && errno == ENOENT, "no temporary name is left");
	ok(stat(file, &st) == 0 && st.st_size == 1 << 20, "the file has its whole size");
	is_int(pf_open(&pf, file, 0), 0, "the new file opens as a save file");
	ok(pf.hdr.gen == 0 && pf.hdr.file_size == 1 << 20, "generation 0, the size in its header");
	pf_close(&pf);
	path(other, sizeof other, "j.dat");
	put_file(other, "not a save file", 15);
	is_int(pf_create(other, 1 << 20, PC_NONE), -EEXIST, "init refuses an existing file of any content");
	ok(stat(other, &st) == 0 && st.st_size == 15, "and leaves it as it was");
	snprintf(tmp, sizeof tmp, "%s%s", other, PF_INIT_SUFFIX);
	ok(lstat(tmp, &st) < 0 && errno == ENOENT, "and makes no temporary");
	path(other, sizeof other, "e.dat");
	put_file(other, "", 0);		/* what a cut during vfat's rename can leave */
	is_int(pf_create(other, 1 << 20, PC_NONE), 0, "init replaces an empty file");
	ok(stat(other, &st) == 0 && st.st_size == 1 << 20, "with a whole save file");
	path(other, sizeof other, "no-such-dir/k.dat");
	ok(pf_create(other, 1 << 20, PC_NONE) == -ENOENT, "init in a missing directory: ENOENT");
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/persist-t.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	test_paths();
	test_codec();
	test_metatable();
	test_round_trip();
	test_init();
	test_missing_upper();
	test_scan_order();
	test_patterns();
	test_damage();
	test_cuts();
	test_grow();
	test_hostile();
	rm_rf(base);
	return tap_done(0);
}
