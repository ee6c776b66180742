/* index.c: parses modules.idx, the text index written by modpick (format in modidx.h, docs/kmod.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kmod-int.h"
#include "modidx.h"
#include "number.h"

/* Same name when '-' and '_' are taken as one character. */
static int name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return 0;
	return *a == *b;
}

int modload_find(const struct modloader *ml, const char *name)
{
	int i;

	for (i = 0; i < ml->nmods; i++)
		if (name_eq(ml->mods[i].name, name))
			return i;
	return -1;
}

/* Cuts the next space-separated word off *p; NULL at the end of the line. */
static char *word(char **p)
{
	char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	e = strchr(s, ' ');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

/* Counts lines and words so that every table is allocated once, at its checked size. */
static int count(const char *t, int *nmods, int *nalias, int *nstored, long *nwords)
{
	*nmods = *nalias = *nstored = 0;
	*nwords = 0;
	for (; *t; t++) {
		if (t[0] == MODIDX_MODULE && t[1] == ' ')
			++*nmods;
		else if (t[0] == MODIDX_ALIAS && t[1] == ' ')
			++*nalias;
		else if (t[0] == MODIDX_STORED && t[1] == ' ')
			++*nstored;
		for (; *t && *t != '\n'; t++)
			*nwords += *t == ' ';
		if (!*t)
			break;
	}
	if (*nmods > MODIDX_MAX_MODULES || *nalias > MODIDX_MAX_ALIASES || *nstored > MODIDX_MAX_MODULES)
		return -E2BIG;
	return 0;
}

static int parse_module(struct modloader *ml, char *rest, uint16_t **dp)
{
	struct modload_mod *m = &ml->mods[ml->nmods];
	char *name = word(&rest), *flags = word(&rest), *dep;

	if (!name || !flags || !modidx_name_ok(name) || modload_find(ml, name) >= 0)
		return -EINVAL;
	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	m->name = name;
	m->pack_at = -1;
	if (flags[0] == MODIDX_BASE)
		m->flags = MOD_BASE;
	else if (flags[0] != MODIDX_DEMAND)
		return -EINVAL;
	flags++;
	if (*flags == MODIDX_OPTIONAL)
		m->flags |= MOD_OPTIONAL, flags++;
	if (*flags == MODIDX_LATE && !(m->flags & MOD_BASE))
		m->flags |= MOD_LATE, flags++;
	if (*flags)
		return -EINVAL;
	m->deps = *dp;
	while ((dep = word(&rest))) {
		int d = modload_find(ml, dep);

		/* a dependency must come earlier: that is what makes the order a load order */
		if (d < 0)
			return -EINVAL;
		if (m->ndeps >= MODIDX_MAX_DEPS)
			return -E2BIG;
		m->deps[m->ndeps++] = d;
	}
	*dp += m->ndeps;
	ml->nmods++;
	return 0;
}

static int parse_alias(struct modloader *ml, char *rest)
{
	struct modload_alias *a = &ml->aliases[ml->naliases];
	char *name = word(&rest);
	int m;

	if (!name || (m = modload_find(ml, name)) < 0 || !*rest)
		return -EINVAL;
	a->pattern = rest;
	a->prefix = strcspn(rest, "*?[\\");
	a->mod = m;
	ml->naliases++;
	return 0;
}

/* p FORMAT FILE: once, before its s lines; FILE a name in the module directory. */
static int parse_pack(struct modloader *ml, char *rest)
{
	char *format = word(&rest), *file = word(&rest);

	if (ml->pack.file || !format || !file || *rest || strcmp(format, MODIDX_PACK_XZ) != 0 ||
	    !modidx_name_ok(file) || strcmp(file, ".") == 0 || strcmp(file, "..") == 0)
		return -EINVAL;
	ml->pack.file = file;
	return 0;
}

/* s NAME BYTES CRC32C: the next module of the pack, a module of the index not yet in it. */
static int parse_stored(struct modloader *ml, char *rest)
{
	char *name = word(&rest), *bytes = word(&rest), *crc = word(&rest);
	uint64_t n;
	uint32_t sum;
	int m;

	if (!ml->pack.file || !name || !bytes || !crc || *rest || (m = modload_find(ml, name)) < 0 ||
	    ml->mods[m].pack_at >= 0 || parse_u64(bytes, &n) != 0 || modidx_crc_parse(crc, &sum) != 0)
		return -EINVAL;
	if (n > MODIDX_MAX_MODULE || ml->pack.total + n > MODIDX_MAX_PACK_BYTES)
		return -E2BIG;
	ml->mods[m].pack_at = ml->pack.n;
	ml->mods[m].pack_bytes = n;
	ml->mods[m].pack_crc = sum;
	ml->pack.order[ml->pack.n++] = m;
	ml->pack.total += n;
	return 0;
}

int modload_index_parse(struct modloader *ml, char *text)
{
	int nmods, nalias, nstored, err, first = 1;
	long nwords;
	char *line, *next;
	uint16_t *dp;

	err = count(text, &nmods, &nalias, &nstored, &nwords);
	if (err)
		return err;
	ml->mods = calloc(nmods + 1, sizeof *ml->mods);
	ml->aliases = calloc(nalias + 1, sizeof *ml->aliases);
	ml->depbuf = calloc(nwords + 1, sizeof *ml->depbuf);
	ml->pack.order = calloc(nstored + 1, sizeof *ml->pack.order);
	if (!ml->mods || !ml->aliases || !ml->depbuf || !ml->pack.order)
		return -ENOMEM;
	ml->krel = "";
	dp = ml->depbuf;
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (first) {
			if (strcmp(line, MODIDX_MAGIC) != 0)
				return -EINVAL;
			first = 0;
			continue;
		}
		if (line[0] == MODIDX_COMMENT || line[0] == '\0')
			continue;
		if (line[1] != ' ')
			return -EINVAL;
		switch (line[0]) {
		case MODIDX_MODULE:
			err = parse_module(ml, line + 2, &dp);
			break;
		case MODIDX_ALIAS:
			err = parse_alias(ml, line + 2);
			break;
		case MODIDX_PACK:
			err = parse_pack(ml, line + 2);
			break;
		case MODIDX_STORED:
			err = parse_stored(ml, line + 2);
			break;
		case MODIDX_RELEASE:
			ml->krel = line + 2;
			err = 0;
			break;
		default:
			err = -EINVAL;   /* an unknown line kind: a newer format we cannot follow */
		}
		if (err)
			return err;
	}
	return first ? -EINVAL : 0;
}
