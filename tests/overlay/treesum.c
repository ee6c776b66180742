/* treesum.c: prints one line per entry of a tree (sorted) with everything the merged view shows. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <unistd.h>

/*
 * usage: treesum MERGED [UPPER]
 * One line per entry, sorted by path:
 *   path mode uid gid size hash [symlink-target] rdev mtime=S.NS xattrs... nlink=N link=FIRST
 * nlink is the merged view's link count (- for directories, whose count overlayfs makes up);
 * link= names the first path (in sorted order) of the entry's hardlink group, - for a regular file
 * with one link. Naming each member by its group's least path determines the partition exactly,
 * so two listings are equal only if the same paths share inodes.
 * Hardlink groups: a file present in UPPER is keyed by its upper inode. The merged view reports a
 * copied-up file's st_ino from its lower origin (the origin xattr, which persist drops on purpose)
 * and another link of the same upper inode with the upper's: the groups are the upper's truth.
 */

struct ent { char *path; ino_t ino; dev_t dev; nlink_t nlink; int isreg; char *line; const char *group; };
static struct ent *v;
static const char *upper;
static size_t n, cap;

static int cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

static uint64_t hash_file(const char *p)
{
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[65536];
	ssize_t k;
	int fd = open(p, O_RDONLY | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	while ((k = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < k; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static int xcmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *root, const char *rel)
{
	char abs[8192], line[16384], tgt[4096] = "", xs[8192] = "";
	struct stat st;
	size_t len = 0;

	snprintf(abs, sizeof abs, "%s%s%s", root, *rel ? "/" : "", rel);
	if (lstat(abs, &st) < 0) {
		perror(abs);
		exit(1);
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t k = readlink(abs, tgt, sizeof tgt - 1);
		tgt[k > 0 ? k : 0] = 0;
	}
	char names[8192];
	ssize_t nl = llistxattr(abs, names, sizeof names);
	char *xv[256];
	int nx = 0;
	for (ssize_t o = 0; nl > 0 && o < nl && nx < 256; o += (ssize_t)strlen(names + o) + 1)
		xv[nx++] = names + o;
	qsort(xv, (size_t)nx, sizeof *xv, xcmp);
	for (int i = 0; i < nx; i++) {
		unsigned char val[1024];
		ssize_t vl = lgetxattr(abs, xv[i], val, sizeof val);
		len += (size_t)snprintf(xs + len, sizeof xs - len, " %s=", xv[i]);
		for (ssize_t j = 0; j < vl && len < sizeof xs - 3; j++)
			len += (size_t)snprintf(xs + len, sizeof xs - len, "%02x", val[j]);
	}
	snprintf(line, sizeof line, "%o %u %u %lld %016llx [%s] %u:%u mtime=%lld.%09ld%s",
		 st.st_mode, st.st_uid, st.st_gid, S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,
		 S_ISREG(st.st_mode) ? (unsigned long long)hash_file(abs) : 0ull, tgt,
		 S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? major(st.st_rdev) : 0,
		 S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? minor(st.st_rdev) : 0,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, xs);
	if (n == cap) {
		cap = cap ? cap * 2 : 1024;
		v = realloc(v, cap * sizeof *v);
		if (!v) {
			perror("treesum");
			exit(1);
		}
	}
	v[n].path = strdup(*rel ? rel : ".");
	v[n].ino = st.st_ino;
	v[n].dev = st.st_dev;
	if (upper && !S_ISDIR(st.st_mode)) {
		struct stat ust;
		char up[8192];
		snprintf(up, sizeof up, "%s/%s", upper, rel);
		if (lstat(up, &ust) == 0 && (ust.st_mode & S_IFMT) == (st.st_mode & S_IFMT)) {
			v[n].ino = ust.st_ino;
			v[n].dev = (dev_t)-1;
		}
	}
	v[n].nlink = S_ISDIR(st.st_mode) ? 0 : st.st_nlink;
	v[n].isreg = !S_ISDIR(st.st_mode);	/* anything but a directory can have hardlinks */
	v[n].line = strdup(line);
	v[n].group = NULL;
	n++;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(abs);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char sub[4096];
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
			walk(root, sub);
		}
		if (d)
			closedir(d);
	}
}

/* Hardlink groups: non-directories with nlink > 1 by (dev, ino), ties by path: each run is a group. */
static int key_cmp(const void *a, const void *b)
{
	const struct ent *x = *(struct ent *const *)a, *y = *(struct ent *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return strcmp(x->path, y->path);
}

int main(int argc, char **argv)
{
	struct ent **k;
	size_t i, j, nk = 0;

	if (argc != 2 && argc != 3)
		return 100;
	upper = argc == 3 ? argv[2] : NULL;
	walk(argv[1], "");
	qsort(v, n, sizeof *v, cmp);
	k = malloc((n + 1) * sizeof *k);
	if (!k) {
		perror("treesum");
		return 1;
	}
	for (i = 0; i < n; i++)
		if (v[i].isreg && v[i].nlink > 1)
			k[nk++] = &v[i];
	qsort(k, nk, sizeof *k, key_cmp);
	for (i = 0; i < nk; i = j)
		for (j = i; j < nk && k[j]->dev == k[i]->dev && k[j]->ino == k[i]->ino; j++)
			k[j]->group = k[i]->path;
	for (i = 0; i < n; i++) {
		char nl[32] = "-";
		if (v[i].nlink)
			snprintf(nl, sizeof nl, "%lu", (unsigned long)v[i].nlink);
		printf("%s %s nlink=%s link=%s\n", v[i].path, v[i].line, nl, v[i].group ? v[i].group : "-");
	}
	free(k);
	return 0;
}
