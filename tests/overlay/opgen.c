/* opgen.c: a seeded random generator of filesystem operations on a tree (the overlay's merged view). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* usage: opgen DIR SEED COUNT [lower]   (deterministic from SEED and the tree it starts from) */

struct rng { uint64_t s; };

static uint64_t next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

static unsigned pick(struct rng *r, unsigned n) { return (unsigned)(next(r) % n); }

static const char *const names[] = { "a", "b", "c", "dd", "e" };

static void rand_path(struct rng *r, char *buf, size_t cap)
{
	unsigned depth = 1 + pick(r, 3), i;
	size_t len = 0;

	buf[0] = 0;
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "/" : "", names[pick(r, 5)]);
}

static void fill(struct rng *r, char *buf, size_t n)
{
	size_t i;
	uint64_t v = next(r);

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = next(r);
		buf[i] = (char)(v >> (8 * (i % 8)));
	}
}

static size_t rand_len(struct rng *r)
{
	switch (pick(r, 8)) {
	case 0: return 0;
	case 1: return 65536 + pick(r, 200000);
	default: return pick(r, 5000);
	}
}

static int rm_fn(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p) < 0 ? 0 : 0;
}

static char big[300000];

static void op(struct rng *r, int dfd, const char *root, int lower)
{
	char p[256], q[256], full[4096];
	int fd, kind = (int)pick(r, 22);
	struct timespec ts[2];

	rand_path(r, p, sizeof p);
	rand_path(r, q, sizeof q);
	if (lower && (kind >= 5 && kind <= 8))
		kind = 9 + (kind & 1);	/* a lower mostly grows: directories to delete later */
	switch (kind) {
	case 0: case 1: /* create or overwrite */
		fd = openat(dfd, p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, 0644);
		if (fd >= 0) {
			size_t n = rand_len(r);
			fill(r, big, n);
			if (write(fd, big, n) < 0) {}
			close(fd);
		}
		break;
	case 2: /* append */
		fd = openat(dfd, p, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0) {
			size_t n = pick(r, 3000);
			fill(r, big, n);
			if (write(fd, big, n) < 0) {}
			close(fd);
		}
		break;
	case 3: /* truncate, sometimes larger: a hole */
		fd = openat(dfd, p, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0) {
			if (ftruncate(fd, pick(r, 2) ? pick(r, 4000) : 100000 + pick(r, 2000000)) < 0) {}
			close(fd);
		}
		break;
	case 4: /* a write far out: a sparse file */
		fd = openat(dfd, p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (fd >= 0) {
			size_t n = 1 + pick(r, 5000);
			fill(r, big, n);
			if (pwrite(fd, big, n, (off_t)pick(r, 3000000)) < 0) {}
			close(fd);
		}
		break;
	case 5: case 6:
		(void)unlinkat(dfd, p, 0);
		break;
	case 7:
		(void)unlinkat(dfd, p, AT_REMOVEDIR);
		break;
	case 8: /* remove a whole tree, then make the directory again: opaque over a lower dir */
		snprintf(full, sizeof full, "%s/%s", root, p);
		(void)nftw(full, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
		if (mkdirat(dfd, p, 0755) == 0) {
			snprintf(full, sizeof full, "%s/new", p);
			fd = openat(dfd, full, O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd >= 0)
				close(fd);
		}
		break;
	case 9: case 10:
		(void)mkdirat(dfd, p, 0700 | pick(r, 0100));
		break;
	case 11:
		(void)renameat(dfd, p, dfd, q);
		break;
	case 12:
		snprintf(full, sizeof full, "../%s/t%u", q, pick(r, 100));
		(void)symlinkat(pick(r, 2) ? q : full, dfd, p);
		break;
	case 13:
		(void)linkat(dfd, p, dfd, q, 0);
		break;
	case 14: {
		static const mode_t fmt[] = { S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK };
		mode_t m = fmt[pick(r, 4)];
		(void)mknodat(dfd, p, m | 0640, m == S_IFCHR || m == S_IFBLK ? makedev(1 + pick(r, 8), pick(r, 9)) : 0);
		break;
	}
	case 15:
		(void)fchmodat(dfd, pick(r, 20) ? p : ".", 0700 | pick(r, 010000) , 0);
		break;
	case 16:
		(void)fchownat(dfd, p, pick(r, 3), pick(r, 3), AT_SYMLINK_NOFOLLOW);
		break;
	case 17:
		ts[0].tv_sec = ts[1].tv_sec = 1000000000 + pick(r, 100000000);
		ts[0].tv_nsec = ts[1].tv_nsec = pick(r, 1000000000);
		(void)utimensat(dfd, pick(r, 20) ? p : ".", ts, AT_SYMLINK_NOFOLLOW);
		break;
	case 18: case 19: {
		static const char *const xn[] = { "trusted.t0", "trusted.t1", "security.s0", "trusted.t2" };
		size_t n = pick(r, 40);
		fill(r, big, n);
		snprintf(full, sizeof full, "%s/%s", root, p);
		(void)lsetxattr(full, xn[pick(r, 4)], big, n, 0);
		break;
	}
	case 20:
		snprintf(full, sizeof full, "%s/%s", root, p);
		(void)lremovexattr(full, pick(r, 2) ? "trusted.t0" : "security.s0");
		break;
	case 21: /* a copy-up by a metadata change only, or a deep directory */
		if (lower)
			(void)mkdirat(dfd, p, 0755);
		else
			(void)fchmodat(dfd, p, 0600 | pick(r, 0100), 0);
		break;
	}
}

int main(int argc, char **argv)
{
	struct rng r;
	long i, n;
	int dfd;

	if (argc < 4) {
		fprintf(stderr, "usage: opgen DIR SEED COUNT [lower]\n");
		return 100;
	}
	r.s = strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
	n = atol(argv[3]);
	dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		perror(argv[1]);
		return 111;
	}
	for (i = 0; i < n; i++)
		op(&r, dfd, argv[1], argc > 4);
	return 0;
}
