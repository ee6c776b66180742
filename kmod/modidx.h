/* modidx.h: the modules.idx format (docs/kmod.md) in one place: modpick writes it, the loader reads it. */
#ifndef OVERLIVE_MODIDX_H
#define OVERLIVE_MODIDX_H
#include <string.h>

#define MODIDX_FILE  "modules.idx"         /* beside the modules: module NAME is the file NAME.ko */
#define MODIDX_MAGIC "overlive-modules 1"  /* the first line: magic and version */

/* A line is one of these characters, one space, then its fields separated by one space. */
enum { MODIDX_RELEASE = 'k', MODIDX_MODULE = 'm', MODIDX_ALIAS = 'a', MODIDX_COMMENT = '#' };
/*
 * The FLAGS field of a module line: base or on demand; then, in this order and each at most once,
 * optional, and late (an on-demand driver coldplug holds back until a search for a device found
 * nothing without it: the legacy IDE that QEMU and old machines always have, and that rarely holds
 * the medium).
 */
enum { MODIDX_BASE = 'b', MODIDX_DEMAND = 'd', MODIDX_OPTIONAL = 'o', MODIDX_LATE = 'l' };
/* The comment the writer puts before the module lines, for a reader of the file. */
#define MODIDX_LEGEND "# m NAME FLAGS DEPS: b base, d on demand, o optional, l late; a MODULE PATTERN"

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

#endif
