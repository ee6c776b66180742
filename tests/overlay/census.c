/* census.c: counts what an overlay's upper holds, so a test can show its random operations made it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/*
 * usage: census UPPER
 * Prints one line of NAME=COUNT: files dirs symlinks fifos sockets chrdevs blkdevs whiteouts
 * opaque redirects xattrs (entries with an xattr outside trusted.overlay.*), groups (hardlink
 * groups: inodes of regular files with two or more names in UPPER), members (their names),
 * xdir (groups spanning directories), copyup (groups whose inode has a lower origin).
 */

enum { FILES, DIRS, SYMLINKS, FIFOS, SOCKETS, CHRDEVS, BLKDEVS, WHITEOUTS, OPAQUE, REDIRECTS, XATTRS,
       GROUPS, MEMBERS, XDIR, COPYUP, NCOUNT };
static const char *const cname[NCOUNT] = { "files", "dirs", "symlinks", "fifos", "sockets", "chrdevs",
	"blkdevs", "whiteouts", "opaque", "redirects", "xattrs", "groups", "members", "xdir", "copyup" };

struct link { ino_t ino; char *dir; int origin; };

struct census {
	unsigned long c[NCOUNT];
	struct link *l;
	size_t nl, cap;
};

static int has_user_xattr(const char *p)
{
	char names[8192];
	ssize_t n = llistxattr(p, names, sizeof names), o;

	for (o = 0; n > 0 && o < n; o += (ssize_t)strlen(names + o) + 1)
		if (strncmp(names + o, "trusted.overlay.", 16))
			return 1;
	return 0;
}

static void walk(struct census *c, const char *p, const char *dir)
{
	struct stat st;
	char v[8];

	if (lstat(p, &st) < 0)
		return;
	if (has_user_xattr(p))
		c->c[XATTRS]++;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		c->c[FILES]++;
		if (st.st_nlink > 1) {
			if (c->nl == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 256;
				c->l = realloc(c->l, c->cap * sizeof *c->l);
				if (!c->l)
					exit(1);
			}
			c->l[c->nl].ino = st.st_ino;
			c->l[c->nl].dir = strdup(dir);
			c->l[c->nl].origin = lgetxattr(p, "trusted.overlay.origin", NULL, 0) >= 0;
			c->nl++;
		}
		break;
	case S_IFLNK: c->c[SYMLINKS]++; break;
	case S_IFIFO: c->c[FIFOS]++; break;
	case S_IFSOCK: c->c[SOCKETS]++; break;
	case S_IFBLK: c->c[BLKDEVS]++; break;
	case S_IFCHR: c->c[st.st_rdev == makedev(0, 0) ? WHITEOUTS : CHRDEVS]++; break;
	case S_IFDIR: {
		DIR *d = opendir(p);
		struct dirent *de;

		c->c[DIRS]++;
		if (lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
			c->c[OPAQUE]++;
		if (lgetxattr(p, "trusted.overlay.redirect", NULL, 0) > 0)
			c->c[REDIRECTS]++;
		while (d && (de = readdir(d))) {
			char sub[4096];
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof sub, "%s/%s", p, de->d_name);
			walk(c, sub, p);
		}
		if (d)
			closedir(d);
		break;
	}
	}
}

static int ino_cmp(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int main(int argc, char **argv)
{
	static struct census c;
	size_t i, j, m;

	if (argc != 2) {
		fprintf(stderr, "usage: census UPPER\n");
		return 100;
	}
	walk(&c, argv[1], argv[1]);
	if (c.nl)	/* qsort of a NULL array, even of 0 elements, is undefined */
		qsort(c.l, c.nl, sizeof *c.l, ino_cmp);
	for (i = 0; i < c.nl; i = j) {
		int xdir = 0, origin = c.l[i].origin;
		for (j = i + 1; j < c.nl && c.l[j].ino == c.l[i].ino; j++) {
			xdir |= strcmp(c.l[j].dir, c.l[i].dir) != 0;
			origin |= c.l[j].origin;
		}
		if (j - i < 2)
			continue;
		c.c[GROUPS]++;
		c.c[MEMBERS] += j - i;
		c.c[XDIR] += (unsigned long)xdir;
		c.c[COPYUP] += (unsigned long)origin;
	}
	for (m = 0; m < NCOUNT; m++)
		printf("%s%s=%lu", m ? " " : "", cname[m], c.c[m]);
	printf("\n");
	return 0;
}
