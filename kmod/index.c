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

int kmod_find(const struct kmod_ctx *ctx, const char *name)
{
	int i;

	for (i = 0; i < ctx->nmods; i++)
		if (name_eq(ctx->mods[i].name, name))
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

static int parse_module(struct kmod_ctx *ctx, char *rest, uint16_t **dp)
{
	struct kmod_mod *m = &ctx->mods[ctx->nmods];
	char *name = word(&rest), *flags = word(&rest), *dep;

	if (!name || !flags || !modidx_name_ok(name) || kmod_find(ctx, name) >= 0)
		return -EINVAL;
	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	m->name = name;
	if (flags[0] == MODIDX_BASE)
		m->flags = MOD_BASE;
	else if (flags[0] != MODIDX_DEMAND)
		return -EINVAL;
	if (flags[1] == MODIDX_OPTIONAL)
		m->flags |= MOD_OPTIONAL;
	else if (flags[1])
		return -EINVAL;
	if (flags[1] && flags[2])
		return -EINVAL;
	m->deps = *dp;
	while ((dep = word(&rest))) {
		int d = kmod_find(ctx, dep);

		/* a dependency must come earlier: that is what makes the order a load order */
		if (d < 0)
			return -EINVAL;
		if (m->ndeps >= MODIDX_MAX_DEPS)
			return -E2BIG;
		m->deps[m->ndeps++] = d;
	}
	*dp += m->ndeps;
	ctx->nmods++;
	return 0;
}

static int parse_alias(struct kmod_ctx *ctx, char *rest)
{
	struct kmod_alias *a = &ctx->aliases[ctx->naliases];
	char *name = word(&rest);
	int m;

	if (!name || (m = kmod_find(ctx, name)) < 0 || !*rest)
		return -EINVAL;
	a->pattern = rest;
	a->prefix = strcspn(rest, "*?[\\");
	a->mod = m;
	ctx->naliases++;
	return 0;
}

int kmod_index_parse(struct kmod_ctx *ctx, char *text)
{
	int nmods, nalias, err, first = 1;
	long nwords;
	char *line, *next;
	uint16_t *dp;

	err = count(text, &nmods, &nalias, &nwords);
	if (err)
		return err;
	ctx->mods = calloc(nmods + 1, sizeof *ctx->mods);
	ctx->aliases = calloc(nalias + 1, sizeof *ctx->aliases);
	ctx->depbuf = calloc(nwords + 1, sizeof *ctx->depbuf);
	if (!ctx->mods || !ctx->aliases || !ctx->depbuf)
		return -ENOMEM;
	ctx->krel = "";
	dp = ctx->depbuf;
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
			err = parse_module(ctx, line + 2, &dp);
			break;
		case MODIDX_ALIAS:
			err = parse_alias(ctx, line + 2);
			break;
		case MODIDX_RELEASE:
			ctx->krel = line + 2;
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
