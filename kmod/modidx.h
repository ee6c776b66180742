/* modidx.h: the modules.idx format (docs/kmod.md) in one place: modpick writes it, the loader reads it. */
#ifndef OVERLIVE_MODIDX_H
#define OVERLIVE_MODIDX_H
#include <errno.h>
#include <stdint.h>
#include <string.h>

#define MODIDX_FILE  "modules.idx"         /* beside the modules: module NAME is the file NAME.ko */
#define MODIDX_MAGIC "overlive-modules 1"  /* the first line: magic and version */

/* A line is one of these characters, one space, then its fields separated by one space. */
enum {
	MODIDX_RELEASE = 'k', MODIDX_MODULE = 'm', MODIDX_ALIAS = 'a', MODIDX_COMMENT = '#',
	MODIDX_PACK = 'p',    /* p FORMAT FILE: the modules are not files but one compressed stream */
	MODIDX_STORED = 's',  /* s NAME BYTES CRC32C: the next module of the pack, in pack order */
};
/*
 * A pack is the .ko files of the modules, each whole, one after the other in the order of the s
 * lines (the likeliest first), compressed as one stream: it costs what one solid archive costs,
 * and the loader decodes it only as far as the last module a boot asks for. Each module's CRC32C
 * (8 lowercase hex digits) is checked before it becomes a file: the stream's own check comes only
 * at its end, after the modules before it were loaded.
 */
#define MODIDX_PACK_XZ        "xz"             /* the one FORMAT: an .xz stream */
#define MODIDX_PACK_FILE      "modules.pack.xz"
#define MODIDX_PACK_RAW       "modules.pack"   /* what modpick writes; the build compresses it */
#define MODIDX_MAX_PACK_BYTES (256u << 20)     /* the decoded pack */
#define MODIDX_MAX_MODULE     (64u << 20)      /* one module */
/*
 * The FLAGS field of a module line: base or on demand; then, in this order and each at most once,
 * optional, and late (an on-demand driver coldplug holds back until a search for a device found
 * nothing without it: the legacy IDE that QEMU and old machines always have, and that rarely holds
 * the medium).
 */
enum { MODIDX_BASE = 'b', MODIDX_DEMAND = 'd', MODIDX_OPTIONAL = 'o', MODIDX_LATE = 'l' };
/* The comment the writer puts before the module lines, for a reader of the file. */
#define MODIDX_LEGEND "# m NAME FLAGS DEPS: b base, d on demand, o optional, l late; a MODULE PATTERN; p FORMAT FILE; s MODULE BYTES CRC32C"

/* Limits: the loader refuses a bigger index with -E2BIG, so the writer does not write one. */
#define MODIDX_MAX_BYTES   (4u << 20)
#define MODIDX_MAX_MODULES 2048
#define MODIDX_MAX_DEPS    64      /* per module */
#define MODIDX_MAX_ALIASES 65536
#define MODIDX_NAME_MAX    55      /* bytes: the kernel's MODULE_NAME_LEN less its NUL */

/* A module name the index can hold: 1 to MODIDX_NAME_MAX bytes, no blank, control or '/'. */
static inline int modidx_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MODIDX_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s == '/' || *s == 0x7f)
			return 0;
	return 1;
}

/* The CRC32C of an s line: exactly 8 lowercase hex digits. 0 or -EINVAL. */
static inline int modidx_crc_parse(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return -EINVAL;
	}
	if (s[8])
		return -EINVAL;
	*out = v;
	return 0;
}

#endif
