/* picktest.h: helpers shared by modpick's unit tests: fabricated modules, the real module tree. */
#ifndef OVERLIVE_PICKTEST_H
#define OVERLIVE_PICKTEST_H
#include <stdint.h>
#include "byteorder.h"
#include "tmptree.h"

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
	put_le16(b + 16, 1);           /* ET_REL */
	put_le16(b + 18, 62);          /* EM_X86_64 */
	put_le32(b + 20, 1);
	put_le64(b + 40, l->sh_off);
	put_le16(b + 52, 64);
	put_le16(b + 58, 64);
	put_le16(b + 60, FAKE_SHNUM);
	put_le16(b + 62, FAKE_SH_STR);
	memcpy(b + l->info_off, info, info_len);
	memcpy(b + l->str_off, names, sizeof names);
	sh = b + l->sh_off + FAKE_SH_INFO * 64;
	put_le32(sh + 0, 1);           /* ".modinfo" at 1 */
	put_le32(sh + 4, 1);           /* SHT_PROGBITS */
	put_le64(sh + 24, l->info_off);
	put_le64(sh + 32, info_len);
	sh = b + l->sh_off + FAKE_SH_STR * 64;
	put_le32(sh + 0, 10);          /* ".shstrtab" at 10 */
	put_le32(sh + 4, 3);           /* SHT_STRTAB */
	put_le64(sh + 24, l->str_off);
	put_le64(sh + 32, l->str_len);
	return b;
}

/* The byte address of a section header field (for lying about offsets and sizes). */
static unsigned char *fake_sh(unsigned char *b, const struct fake_elf *l, int sec, int field)
{
	return b + l->sh_off + sec * 64 + field;
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

#endif
