/* index.c: parses modules.idx, the text index written by modpick (format in modidx.h, docs/kmod.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kmod-int.h"
#include "modidx.h"

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
static int count(const char *t, int *nmods, int *nalias, long *nwords)
{
	*nmods = *nalias = 0;
	*nwords = 0;
	for (; *t; t++) {
		if (t[0] == MODIDX_MODULE && t[1] == ' ')
			++*nmods;
		else if (t[0] == MODIDX_ALIAS && t[1] == ' ')
			++*nalias;
		for (; *t && *t != '\n'; t++)
			*nwords += *t == ' ';
		if (!*t)
			break;
	}
	if (*nmods > MODIDX_MAX_MODULES || *nalias > MODIDX_MAX_ALIASES)
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

int modload_index_parse(struct modloader *ml, char *text)
{
	int nmods, nalias, err, first = 1;
	long nwords;
	char *line, *next;
	uint16_t *dp;

	err = count(text, &nmods, &nalias, &nwords);
	if (err)
		return err;
	ml->mods = calloc(nmods + 1, sizeof *ml->mods);
	ml->aliases = calloc(nalias + 1, sizeof *ml->aliases);
	ml->depbuf = calloc(nwords + 1, sizeof *ml->depbuf);
	if (!ml->mods || !ml->aliases || !ml->depbuf)
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
