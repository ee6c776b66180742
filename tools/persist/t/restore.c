/* restore.c: unit tests of the restore's directory fd cache and of its threads (a failure stops them all). */
#include <sys/resource.h>
#include "tap.h"
#include "helpers.h"

static char base[64];

static void path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", base, name);
}

/* Entries in /proc/self/DIR (fd, task): what a restore must give back when it returns. */
static int count_self(const char *dir)
{
	char p[64];

	snprintf(p, sizeof p, "/proc/self/%s", dir);
	return count_entries(p);
}

static void test_dirfds(void)
{
	char root[256], out[256], p[300];
	struct dirfds d;
	struct dwalk w = { .fd = -1 };
	const char *name;
	int rfd, fd, fds0;

	path(root, sizeof root, "dc"); path(out, sizeof out, "dc-outside");
	mkdir(root, 0700); mkdir(out, 0700);
	snprintf(p, sizeof p, "%s/a", root); mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/a/b", root); mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/c", root); mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/c/e", root); mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/s", root); (void)symlink(out, p);
	rfd = open(root, O_RDONLY | O_DIRECTORY);
	fds0 = count_self("fd");
	is_int(dirfds_init(&d, rfd, 2), 0, "dirfds: init, room for 2");
	is_int(dirfds_add(&d, "a", openat(rfd, "a", O_RDONLY | O_DIRECTORY)), 0, "dirfds: a kept");
	is_int(dirfds_add(&d, "a/b", openat(rfd, "a/b", O_RDONLY | O_DIRECTORY)), 0, "dirfds: a/b kept");
	is_int(dirfds_add(&d, "c", openat(rfd, "c", O_RDONLY | O_DIRECTORY)), 0, "dirfds: c past the budget: no error");
	is_int(count_self("fd"), fds0 + 2, "dirfds: the fd past the budget was closed, not kept");
	ok(dirfds_get(&d, "a/bx", 1) >= 0 && dirfds_get(&d, "a/b", 3) >= 0, "dirfds: a and a/b found by length");
	is_int(dirfds_get(&d, "c", 1), -1, "dirfds: c not cached");
	is_int(dirfds_get(&d, "ab", 2), -1, "dirfds: a path not added is not found");
	ok(dirfds_parent(&d, &w, "top", &name, &fd) == 0 && fd == rfd && strcmp(name, "top") == 0,
	   "dirfds: a top-level name: the root fd");
	ok(dirfds_parent(&d, &w, "a/b/x", &name, &fd) == 0 && fd == dirfds_get(&d, "a/b", 3) && w.fd < 0 &&
	   strcmp(name, "x") == 0, "dirfds: a/b/x: a/b's cached fd, no walk");
	ok(dirfds_parent(&d, &w, "c/e/y", &name, &fd) == 0 && fd == w.fd && fd >= 0 && strcmp(w.path, "c/e") == 0,
	   "dirfds: c/e/y: walked to c/e (not cached)");
	int walked = w.fd;
	ok(dirfds_parent(&d, &w, "c/e/z", &name, &fd) == 0 && fd == walked, "dirfds: c/e/z: the same walk reused");
	int r = dirfds_parent(&d, &w, "s/x", &name, &fd);
	ok(r == -ENOTDIR || r == -ELOOP, "dirfds: through a symlink: refused (%d)", r);
	r = dirfds_parent(&d, &w, "a/nothere/x", &name, &fd);
	is_int(r, -ENOENT, "dirfds: a missing component: -ENOENT");
	dwalk_done(&w);
	dirfds_free(&d);
	is_int(count_self("fd"), fds0, "dirfds: every fd closed at the end");
	is_int(count_entries(out), 0, "dirfds: nothing created outside");
	close(rfd);
}

/* A file of the crafted tree: its bytes are a function of its index. */
struct spec {
	const char *path;
	uint32_t type;
	uint64_t size, datalen;	/* datalen < size: a hole at the end */
};

static unsigned char byte_of(size_t file, uint64_t i)
{
	uint32_t x = (uint32_t)(file * 0x9e3779b1u + i * 0x85ebca77u);

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	return (unsigned char)(x >> 24);
}

/* A save file holding specs (one generation); bad: the index of a file given a wrong content CRC, or -1. */
static int craft_tree(const char *file, const struct spec *s, size_t n, long bad)
{
	static unsigned char chunk[PF_DATA_CHUNK];
	struct pfile pf;
	struct pwriter w;
	uint64_t bytes = 0;
	size_t i;
	int r;

	unlink(file);
	r = pf_create(file, 64 << 20, PC_ZSTD);
	if (!r)
		r = pf_open(&pf, file, 1);
	if (!r)
		r = w_begin(&w, &pf, 0, TXN_SAVE, NULL);
	for (i = 0; i < n && !r; i++) {
		struct pentry e = { 0 };
		uint32_t crc = 0;
		e.path = (char *)s[i].path;
		e.type = s[i].type;
		e.mode = s[i].type == PT_DIR ? 0755 : 0640;
		e.uid = getuid();
		e.gid = getgid();
		e.mtime_sec = 1000000 + (int64_t)i;
		e.data_off = -1;
		if (e.type == PT_FILE) {
			e.size = s[i].size;
			bytes += e.size;
			for (uint64_t o = 0; o < s[i].datalen && !r; o += PF_DATA_CHUNK) {
				size_t k = s[i].datalen - o < PF_DATA_CHUNK ? (size_t)(s[i].datalen - o) : PF_DATA_CHUNK;
				for (size_t j = 0; j < k; j++)
					chunk[j] = byte_of(i, o + j);
				crc = content_crc_step(crc, o, chunk, k);
				r = w_data(&w, o, chunk, k);
			}
			e.flags = s[i].datalen ? EF_DATA : 0;
			e.crc = (long)i == bad ? crc ^ 1 : crc;
		}
		if (!r)
			r = w_entry(&w, &e);
	}
	if (!r)
		r = w_commit(&w, (uint32_t)n, bytes);
	pf_close(&pf);
	return r;
}

/* Flips a byte in the middle of file index i's data in the save file (found by its bytes). */
static int flip_data(const char *file, size_t i)
{
	unsigned char want[64], *img;
	struct stat st;
	int fd = open(file, O_RDWR), r = -ENOENT;

	for (size_t j = 0; j < sizeof want; j++)
		want[j] = byte_of(i, j);
	if (fd < 0 || fstat(fd, &st) < 0 || !(img = malloc((size_t)st.st_size)))
		return -errno;
	if (pread(fd, img, (size_t)st.st_size, 0) == st.st_size) {
		unsigned char *at = memmem(img, (size_t)st.st_size, want, sizeof want);
		if (at) {
			at[sizeof want / 2] ^= 0x20;
			r = pwrite_all(fd, at, 1, (off_t)(at - img + sizeof want / 2));
		}
	}
	free(img);
	close(fd);
	return r;
}

/* 0 when dir holds exactly what specs say (type, size, bytes, mode, mtime); else the index + 1 of the first difference. */
static size_t tree_differs(const char *dir, const struct spec *s, size_t n)
{
	static unsigned char buf[1 << 16];
	char p[512];
	size_t i;

	for (i = 0; i < n; i++) {
		struct stat st;
		snprintf(p, sizeof p, "%s/%s", dir, s[i].path);
		if (lstat(p, &st) < 0 || st.st_mtime != 1000000 + (time_t)i)
			return i + 1;
		if (s[i].type == PT_DIR) {
			if (!S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0755)
				return i + 1;
			continue;
		}
		if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0640 || (uint64_t)st.st_size != s[i].size)
			return i + 1;
		int fd = open(p, O_RDONLY);
		uint64_t o = 0;
		ssize_t got;
		while (fd >= 0 && (got = read(fd, buf, sizeof buf)) > 0) {
			for (ssize_t j = 0; j < got; j++, o++)
				if (buf[j] != (o < s[i].datalen ? byte_of(i, o) : 0))
					got = -1;
			if (got < 0)
				break;
		}
		if (fd >= 0)
			close(fd);
		if (fd < 0 || o != s[i].size)
			return i + 1;
	}
	return 0;
}

#define NDIRS 8
#define BAD 170		/* d4/f04 */
#define PERDIR 40
static char names[NDIRS * PERDIR + 16][32];

/* The tree: ".", NDIRS directories of PERDIR files, a nested directory, a 3 MiB file, a hole at an end. */
static size_t make_specs(struct spec *s)
{
	size_t n = 0, d, f;

	s[n++] = (struct spec){ ".", PT_DIR, 0, 0 };
	for (d = 0; d < NDIRS; d++) {
		snprintf(names[n], sizeof names[n], "d%zu", d);
		s[n].path = names[n];
		s[n++].type = PT_DIR;
		for (f = 0; f < PERDIR; f++) {
			snprintf(names[n], sizeof names[n], "d%zu/f%02zu", d, f);
			s[n].path = names[n];
			s[n].type = PT_FILE;
			s[n].size = s[n].datalen = (d * PERDIR + f) * 37 % 5000;
			n++;
		}
	}
	s[n++] = (struct spec){ "d3/big", PT_FILE, 3 * PF_DATA_CHUNK + 5, 3 * PF_DATA_CHUNK + 5 };
	s[n++] = (struct spec){ "d3/holey", PT_FILE, 100000, 10 };
	s[n++] = (struct spec){ "d3/sub", PT_DIR, 0, 0 };
	s[n++] = (struct spec){ "d3/sub/deeper", PT_DIR, 0, 0 };
	s[n++] = (struct spec){ "d3/sub/deeper/leaf", PT_FILE, 4097, 4097 };
	return n;
}

static int restore_with(const char *file, const char *into, unsigned threads, struct perr *err)
{
	size_t n;

	rm_rf(into);
	mkdir(into, 0700);
	restore_threads = threads;
	return load_restore(file, UINT64_MAX, into, err, &n);
}

static void test_threads(void)
{
	static struct spec s[NDIRS * PERDIR + 16];
	char file[256], into[256], out[256];
	struct perr err = { "" };
	struct rlimit rl, low;
	size_t n = make_specs(s), bad;
	int fds0, r;

	path(file, sizeof file, "t.dat"); path(into, sizeof into, "into"); path(out, sizeof out, "outside");
	mkdir(out, 0700);
	ok(craft_tree(file, s, n, -1) == 0, "a save file of %zu entries", n);
	fds0 = count_self("fd");
	r = restore_with(file, into, 1, &err);
	ok(r == 0 && tree_differs(into, s, n) == 0, "one thread: every entry as saved (%d %s)", r, err.msg);
	r = restore_with(file, into, 4, &err);
	bad = tree_differs(into, s, n);
	ok(r == 0 && bad == 0, "four threads: the same tree (%d %s, first wrong %zu)", r, err.msg, bad);
	is_int(count_self("task"), 1, "four threads: all joined when it returns");
	is_int(count_self("fd"), fds0, "four threads: no fd left open");

	/* no room for directory fds: every parent is walked to, the result is the same */
	getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = 96;
	if (setrlimit(RLIMIT_NOFILE, &low) == 0) {
		r = restore_with(file, into, 4, &err);
		ok(r == 0 && tree_differs(into, s, n) == 0, "no fds to spare for the cache: the same tree (%d %s)", r,
		   err.msg);
		setrlimit(RLIMIT_NOFILE, &rl);
	} else {
		tap_skip(1, "cannot lower RLIMIT_NOFILE here");
	}

	/* a file whose data does not match its checksum: one worker fails, all stop, the error names it */
	ok(craft_tree(file, s, n, BAD) == 0, "a save file with a bad content checksum in %s", s[BAD].path);
	r = restore_with(file, into, 4, &err);
	ok(r == -EBADMSG && strstr(err.msg, s[BAD].path) && strstr(err.msg, "checksum"),
	   "four threads, one bad file: the restore fails naming it (%d %s)", r, err.msg);
	is_int(count_self("task"), 1, "after the failure: every thread joined");
	is_int(count_self("fd"), fds0, "after the failure: no fd left open");
	ok(access(into, F_OK) == 0 && count_entries(out) == 0, "after the failure: nothing outside the target");
	is_int(count_entries(into), 0, "after the failure: the target is empty (what was made is removed)");
	r = restore_with(file, into, 1, &err);
	ok(r == -EBADMSG && strstr(err.msg, s[BAD].path), "one thread, the same bad file: the same error (%s)", err.msg);

	/* the last record of the file, found after everything else was made: the target stays empty */
	ok(craft_tree(file, s, n, (int)n - 1) == 0, "a save file with a bad content checksum in its last file, %s",
	   s[n - 1].path);
	for (unsigned th = 1; th <= 4; th += 3) {
		r = restore_with(file, into, th, &err);
		ok(r == -EBADMSG && strstr(err.msg, s[n - 1].path) && count_entries(into) == 0,
		   "%u thread(s), the last file bad: refused, the target empty (%d, %d entries, %s)", th, r,
		   count_entries(into), err.msg);
	}
	/* a top-level entry named as the staging directory: the staging directory takes another name */
	{
		static struct spec s2[3];
		s2[0] = (struct spec){ ".", PT_DIR, 0, 0 };
		s2[1] = (struct spec){ ".persist-restore", PT_DIR, 0, 0 };
		s2[2] = (struct spec){ ".persist-restore/f", PT_FILE, 100, 100 };
		ok(craft_tree(file, s2, 3, -1) == 0, "a save file with a top-level .persist-restore");
		r = restore_with(file, into, 2, &err);
		ok(r == 0 && tree_differs(into, s2, 3) == 0 && count_entries(into) == 1,
		   "  restored as saved, nothing else in the target (%d %s, %d entries)", r, err.msg,
		   count_entries(into));
	}

	/* one flipped byte in a DATA record: found by the check before anything is created */
	ok(craft_tree(file, s, n, -1) == 0 && flip_data(file, BAD) == 0, "a save file with a byte of %s's data flipped",
	   s[BAD].path);
	r = restore_with(file, into, 4, &err);
	ok(r != 0 && count_entries(into) == 0, "a damaged DATA record: refused before anything is created (%d, %d entries, %s)",
	   r, count_entries(into), err.msg);
	rm_rf(into);
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/persist-r.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	test_dirfds();
	test_threads();
	rm_rf(base);
	return tap_done(0);
}
