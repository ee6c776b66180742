/* tree.c: scans a kernel module tree (kernel/ ** / *.ko) into a table of names and .modinfo. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pick.h"
#include "vec.h"

int pick_norm(const char *name, char *out, size_t cap)
{
	size_t i, n = strlen(name);

	if (n >= cap)
		return -E2BIG;
	for (i = 0; i <= n; i++)
		out[i] = name[i] == '-' ? '_' : name[i];
	return 0;
}

int pick_tree_find(const struct pick_tree *t, const char *name)
{
	char norm[MODIDX_NAME_MAX + 1];
	int i;

	if (pick_norm(name, norm, sizeof norm))
		return -1;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->mods[i].name, norm) == 0)
			return i;
	return -1;
}

int pick_each(const struct pick_mod *m, const char *key, int (*fn)(void *arg, const char *val),
	      void *arg)
{
	struct modinfo mi = { m->info, m->info_len };
	size_t pos = 0, klen, vlen, want = strlen(key);
	const char *k, *v;
	char val[4096];
	int err;

	while (modinfo_next(&mi, &pos, &k, &klen, &v, &vlen)) {
		if (klen != want || memcmp(k, key, klen) != 0)
			continue;
		if (vlen >= sizeof val)
			return -E2BIG;
		memcpy(val, v, vlen);
		val[vlen] = '\0';
		err = fn(arg, val);
		if (err)
			return err;
	}
	return 0;
}

/* A name the index can hold, and no ',' (it separates the names of depends=). */
static int valid_name(const char *s)
{
	return modidx_name_ok(s) && !strchr(s, ',');
}

int pick_tree_add(struct pick_tree *t, const char *name, const char *path, uint64_t size,
		  const char *info, size_t info_len)
{
	struct modinfo mi = { info, info_len };
	char from_info[MODIDX_NAME_MAX + 1], base[NAME_MAX + 1];
	struct pick_mod *m;
	int err;

	if (!name && modinfo_get(&mi, "name", from_info, sizeof from_info) == 0 &&
	    valid_name(from_info))
		name = from_info;
	if (!name) {
		const char *slash = strrchr(path, '/');
		size_t n;

		snprintf(base, sizeof base, "%s", slash ? slash + 1 : path);
		n = strlen(base);
		if (n > 3 && strcmp(base + n - 3, ".ko") == 0)
			base[n - 3] = '\0';
		name = base;
	}
	if (!valid_name(name))
		return -EINVAL;
	if (pick_tree_find(t, name) >= 0) {
		t->duplicates++;
		return 0;
	}
	if (t->n >= PICK_MAX_TREE)
		return -E2BIG;
	err = vec_reserve((void **)&t->mods, &t->cap, t->n, sizeof *t->mods, 256);
	if (err)
		return err;
	m = &t->mods[t->n];
	memset(m, 0, sizeof *m);
	m->nedges = -1;
	(void)pick_norm(name, m->name, sizeof m->name);
	m->size = size;
	m->path = strdup(path);
	m->info = malloc(info_len + 1);
	if (!m->path || !m->info) {
		free(m->path);
		free(m->info);
		return -ENOMEM;
	}
	memcpy(m->info, info, info_len);
	m->info[info_len] = '\0';
	m->info_len = info_len;
	t->n++;
	return 0;
}

/* Maps one .ko and adds it; a file that is no module is counted as skipped, not an error. */
static int add_file(struct pick_tree *t, int dirfd, const char *name, const char *path)
{
	struct modinfo mi;
	struct stat st;
	void *map;
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > MODINFO_MAX_FILE) {
		close(fd);
		t->skipped++;
		return 0;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (modinfo_parse(map, st.st_size, &mi) == 0)
		err = pick_tree_add(t, NULL, path, st.st_size, mi.sec, mi.len);
	else
		t->skipped++;
	munmap(map, st.st_size);
	return err == -EINVAL ? (t->skipped++, 0) : err;
}

static int is_ko(const char *name, int *compressed)
{
	static const char *const packed[] = { ".ko.xz", ".ko.zst", ".ko.gz" };
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof packed / sizeof *packed; i++) {
		size_t k = strlen(packed[i]);

		if (n > k && strcmp(name + n - k, packed[i]) == 0)
			*compressed = 1;
	}
	return n > 3 && strcmp(name + n - 3, ".ko") == 0;
}

/* Walks dirfd (closed here); path holds its path relative to the tree's top. */
static int scan_dir(struct pick_tree *t, int dirfd, char *path, size_t plen, int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(dirfd);
	int err = 0;

	if (!d) {
		err = -errno;
		close(dirfd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		unsigned char type = de->d_type;
		int compressed = 0, fd;

		if (de->d_name[0] == '.')
			continue;
		if (plen + 1 + n >= PATH_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, de->d_name, n + 1);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_DIR && depth < PICK_MAX_DEPTH) {
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			err = fd < 0 ? -errno : scan_dir(t, fd, path, plen + 1 + n, depth + 1);
		} else if (type == DT_REG && is_ko(de->d_name, &compressed)) {
			err = add_file(t, dirfd, de->d_name, path);
		} else if (compressed) {
			t->skipped++;
		}
	}
	path[plen] = '\0';
	closedir(d);
	return err;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct pick_mod *)a)->path, ((const struct pick_mod *)b)->path);
}

int pick_tree_scan(int rootfd, struct pick_tree *t)
{
	char path[PATH_MAX] = "kernel";
	int fd, err;

	fd = openat(rootfd, "kernel", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = scan_dir(t, fd, path, strlen(path), 0);
	if (!err && t->n)
		qsort(t->mods, t->n, sizeof *t->mods, by_path);
	return err;
}

void pick_tree_free(struct pick_tree *t)
{
	int i;

	for (i = 0; i < t->n; i++) {
		free(t->mods[i].path);
		free(t->mods[i].info);
		free(t->mods[i].edges);
		free(t->mods[i].hard);
	}
	free(t->mods);
	memset(t, 0, sizeof *t);
}
