/* kmodtest.h: helpers shared by kmod's unit tests: fabricated modules, temp trees, files. */
#ifndef OVERLIVE_KMODTEST_H
#define OVERLIVE_KMODTEST_H
/* not every test uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_le(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		*p++ = v & 0xff;
		v >>= 8;
	}
}

/* Layout of a fabricated module, so tests can lie in precise places. */
struct fake_elf {
	size_t len, info_off, info_len, str_off, str_len, sh_off;
};
enum { FAKE_SH_NULL, FAKE_SH_INFO, FAKE_SH_STR, FAKE_SHNUM };

/*
 * A minimal ELF64 LE relocatable: header, .modinfo (info, info_len bytes), .shstrtab, then
 * three section headers. Returns a malloc'ed buffer of exactly l->len bytes.
 */
static unsigned char *fake_elf(const char *info, size_t info_len, struct fake_elf *l)
{
	static const char names[] = "\0.modinfo\0.shstrtab";
	unsigned char *b, *sh;

	l->info_off = 64;
	l->info_len = info_len;
	l->str_off = l->info_off + info_len;
	l->str_len = sizeof names;
	l->sh_off = (l->str_off + l->str_len + 7) & ~(size_t)7;
	l->len = l->sh_off + FAKE_SHNUM * 64;
	b = calloc(1, l->len);
	if (!b)
		abort();
	memcpy(b, "\177ELF\2\1\1", 7);
	put_le(b + 16, 1, 2);           /* ET_REL */
	put_le(b + 18, 62, 2);          /* EM_X86_64 */
	put_le(b + 20, 1, 4);
	put_le(b + 40, l->sh_off, 8);
	put_le(b + 52, 64, 2);
	put_le(b + 58, 64, 2);
	put_le(b + 60, FAKE_SHNUM, 2);
	put_le(b + 62, FAKE_SH_STR, 2);
	memcpy(b + l->info_off, info, info_len);
	memcpy(b + l->str_off, names, sizeof names);
	sh = b + l->sh_off + FAKE_SH_INFO * 64;
	put_le(sh + 0, 1, 4);           /* ".modinfo" at 1 */
	put_le(sh + 4, 1, 4);           /* SHT_PROGBITS */
	put_le(sh + 24, l->info_off, 8);
	put_le(sh + 32, info_len, 8);
	sh = b + l->sh_off + FAKE_SH_STR * 64;
	put_le(sh + 0, 10, 4);          /* ".shstrtab" at 10 */
	put_le(sh + 4, 3, 4);           /* SHT_STRTAB */
	put_le(sh + 24, l->str_off, 8);
	put_le(sh + 32, l->str_len, 8);
	return b;
}

/* The byte address of a section header field (for lying about offsets and sizes). */
static unsigned char *fake_sh(unsigned char *b, const struct fake_elf *l, int sec, int field)
{
	return b + l->sh_off + sec * 64 + field;
}

static int write_file(int dirfd, const char *path, const void *data, size_t len)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, data, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -EIO;
}

static int write_str(int dirfd, const char *path, const char *s)
{
	return write_file(dirfd, path, s, strlen(s));
}

/* mkdir -p relative to dirfd */
static int mkdirs(int dirfd, const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdirat(dirfd, buf, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory; its path in buf. */
static int make_tmpdir(char *buf, size_t cap, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, cap, "%s/overlive-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	return mkdtemp(buf) ? 0 : -errno;
}

/* $MODULE_TREE, when it names a module tree; NULL (and why) otherwise. */
static const char *module_tree(const char **why)
{
	const char *t = getenv("MODULE_TREE");
	char kernel[4096];
	struct stat st;

	if (!t || !*t) {
		*why = "MODULE_TREE is not set (build.sh exports it)";
		return NULL;
	}
	snprintf(kernel, sizeof kernel, "%s/kernel", t);
	if (stat(kernel, &st) != 0 || !S_ISDIR(st.st_mode)) {
		*why = "MODULE_TREE has no kernel/ directory";
		return NULL;
	}
	return t;
}

/* Reads a whole file into a malloc'ed buffer of exactly its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !(b = malloc(st.st_size ? st.st_size : 1))) {
		close(fd);
		return NULL;
	}
	if (read(fd, b, st.st_size) != st.st_size) {
		free(b);
		close(fd);
		return NULL;
	}
	close(fd);
	*len = st.st_size;
	return b;
}

#endif
