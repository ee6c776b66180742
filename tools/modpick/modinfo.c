/* modinfo.c: locates the .modinfo section of an ELF64 little-endian module, bounds-checked. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "byteorder.h"
#include "modinfo.h"

/* ELF64 offsets we use (read with byteorder.h: no alignment, no host endianness). */
enum {
	EH_SIZE = 64,      /* sizeof(Elf64_Ehdr) */
	EH_TYPE = 16, EH_SHOFF = 40, EH_SHENTSIZE = 58, EH_SHNUM = 60, EH_SHSTRNDX = 62,
	SH_SIZE = 64,      /* sizeof(Elf64_Shdr) */
	SH_NAME = 0, SH_TYPE = 4, SH_OFFSET = 24, SH_SIZEF = 32,
	ET_REL = 1, SHT_NOBITS = 8,
	SHN_LORESERVE = 0xff00,
};

/* Is [off, off+size) inside [0, len)? Written so that no sum can overflow. */
static int inside(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

int modinfo_parse(const void *buf, size_t len, struct modinfo *mi)
{
	const unsigned char *b = buf, *sh, *str;
	uint64_t shoff, stroff, strsize;
	unsigned shnum, shstrndx, i;

	mi->sec = NULL;
	mi->len = 0;
	if (len < EH_SIZE || memcmp(b, "\177ELF", 4) != 0)
		return -ENOEXEC;
	if (b[4] != 2 || b[5] != 1 || b[6] != 1)   /* ELFCLASS64, ELFDATA2LSB, EV_CURRENT */
		return -ENOEXEC;
	if (get_le16(b + EH_TYPE) != ET_REL)
		return -ENOEXEC;
	shoff = get_le64(b + EH_SHOFF);
	shnum = get_le16(b + EH_SHNUM);
	shstrndx = get_le16(b + EH_SHSTRNDX);
	/* shnum 0 or SHN_XINDEX mean "too many sections": a module never needs that. */
	if (get_le16(b + EH_SHENTSIZE) != SH_SIZE || shnum == 0 || shnum >= SHN_LORESERVE)
		return -EINVAL;
	if (shstrndx >= shnum || !inside(shoff, (uint64_t)shnum * SH_SIZE, len))
		return -EINVAL;
	sh = b + shoff;
	str = sh + (size_t)shstrndx * SH_SIZE;
	if (get_le32(str + SH_TYPE) == SHT_NOBITS)
		return -EINVAL;
	stroff = get_le64(str + SH_OFFSET);
	strsize = get_le64(str + SH_SIZEF);
	if (!inside(stroff, strsize, len))
		return -EINVAL;
	for (i = 0; i < shnum; i++) {
		const unsigned char *s = sh + (size_t)i * SH_SIZE;
		uint64_t name = get_le32(s + SH_NAME), off, size;
		static const char want[] = ".modinfo";

		/* the name must fit, with its NUL, inside the section-name table */
		if (name >= strsize || strsize - name < sizeof want)
			continue;
		if (memcmp(b + stroff + name, want, sizeof want) != 0)
			continue;
		if (get_le32(s + SH_TYPE) == SHT_NOBITS)
			return -EINVAL;
		off = get_le64(s + SH_OFFSET);
		size = get_le64(s + SH_SIZEF);
		if (!inside(off, size, len))
			return -EINVAL;
		mi->sec = (const char *)b + off;
		mi->len = size;
		return 0;
	}
	return -ENOEXEC;
}

int modinfo_next(const struct modinfo *mi, size_t *pos, const char **key, size_t *klen,
		 const char **val, size_t *vlen)
{
	while (*pos < mi->len) {
		const char *s = mi->sec + *pos;
		size_t rest = mi->len - *pos, n = strnlen(s, rest);
		const char *eq = memchr(s, '=', n);

		*pos += n < rest ? n + 1 : n;   /* step over the NUL when there is one */
		if (!eq || eq == s)
			continue;
		*key = s;
		*klen = eq - s;
		*val = eq + 1;
		*vlen = n - *klen - 1;
		return 1;
	}
	return 0;
}

int modinfo_get(const struct modinfo *mi, const char *key, char *out, size_t cap)
{
	size_t pos = 0, klen, vlen, want = strlen(key);
	const char *k, *v;

	while (modinfo_next(mi, &pos, &k, &klen, &v, &vlen)) {
		if (klen != want || memcmp(k, key, klen) != 0)
			continue;
		if (vlen >= cap)
			return -E2BIG;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return 0;
	}
	return -ENOENT;
}
