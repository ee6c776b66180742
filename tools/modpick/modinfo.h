/* modinfo.h: reads the .modinfo section of a kernel module (.ko, ELF64 little-endian). */
#ifndef OVERLIVE_MODINFO_H
#define OVERLIVE_MODINFO_H
#include <stddef.h>

/* A module file larger than this is refused before it is mapped (the largest in Debian's 6.1 is ~15 MB). */
#define MODINFO_MAX_FILE (256u << 20)

/* The .modinfo section: "key=value" strings, each ended by NUL (the last one maybe by the end). */
struct modinfo {
	const char *sec;  /* points into the caller's buffer */
	size_t len;
};

/*
 * Finds .modinfo in the ELF image buf[0..len). Every header field is checked against len
 * before use. Returns 0, -ENOEXEC when buf is not an ELF64 little-endian relocatable object
 * (or has no .modinfo), -EINVAL when its headers point outside the file or contradict themselves.
 */
int modinfo_parse(const void *buf, size_t len, struct modinfo *mi);

/*
 * Iterates over the key=value pairs: *pos starts at 0. Returns 1 and sets key/klen/val/vlen
 * (val is not NUL-terminated when it ends the section: use vlen), 0 at the end. Strings
 * without '=' and empty padding are skipped.
 */
int modinfo_next(const struct modinfo *mi, size_t *pos, const char **key, size_t *klen,
		 const char **val, size_t *vlen);

/* The first value of key, copied NUL-terminated into out (cap bytes). 0, -ENOENT, -E2BIG. */
int modinfo_get(const struct modinfo *mi, const char *key, char *out, size_t cap);

#endif
