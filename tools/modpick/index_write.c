/* index_write.c: writes modules.idx, the index the init reads (format in modidx.h, docs/kmod.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io.h"
#include "pick.h"

int pick_alias_useful(const char *alias)
{
	const char *c = alias;

	while (islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_')
		c++;
	if (c == alias || *c != ':' || strncmp(alias, "devname:", 8) == 0)
		return 0;
	return strpbrk(alias, "\n\r") == NULL && c[1] != '\0';
}

struct out {
	FILE *f;
	const char *name;
	int naliases;
};

static int put_alias(void *arg, const char *alias)
{
	struct out *o = arg;

	if (!pick_alias_useful(alias))
		return 0;
	if (++o->naliases > MODIDX_MAX_ALIASES)
		return -E2BIG;
	fprintf(o->f, "%c %s %s\n", MODIDX_ALIAS, o->name, alias);
	return 0;
}

int pick_write_index(int fd, const struct pick_tree *t, const int *order, int n, const char *krel,
		     const struct pick_packed *packed)
{
	uint64_t total = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	struct out o = { NULL, NULL, 0 };
	int i, e, err = 0;

	/* what the loader would refuse is not written */
	if (n > MODIDX_MAX_MODULES)
		return -E2BIG;
	for (i = 0; i < n; i++)
		if (t->mods[order[i]].nedges > MODIDX_MAX_DEPS)
			return -E2BIG;
	for (i = 0; packed && i < n; i++)
		if (packed[i].bytes > MODIDX_MAX_MODULE || (total += packed[i].bytes) > MODIDX_MAX_PACK_BYTES)
			return -E2BIG;
	f = open_memstream(&text, &len);
	if (!f)
		return -errno;
	fprintf(f, "%s\n", MODIDX_MAGIC);
	if (krel && *krel)
		fprintf(f, "%c %s\n", MODIDX_RELEASE, krel);
	fprintf(f, "%s\n", MODIDX_LEGEND);
	for (i = 0; i < n; i++) {
		const struct pick_mod *m = &t->mods[order[i]];

		fprintf(f, "%c %s %c", MODIDX_MODULE, m->name,
			(m->flags & PICK_BASE) ? MODIDX_BASE : MODIDX_DEMAND);
		if (m->flags & PICK_OPTIONAL)
			fputc(MODIDX_OPTIONAL, f);
		if ((m->flags & PICK_LATE) && !(m->flags & PICK_BASE))
			fputc(MODIDX_LATE, f);
		for (e = 0; e < m->nedges; e++)
			fprintf(f, " %s", t->mods[m->edges[e]].name);
		fputc('\n', f);
	}
	if (packed) {
		fprintf(f, "%c %s %s\n", MODIDX_PACK, MODIDX_PACK_XZ, MODIDX_PACK_FILE);
		for (i = 0; i < n; i++)
			fprintf(f, "%c %s %llu %08x\n", MODIDX_STORED, t->mods[order[i]].name,
				(unsigned long long)packed[i].bytes, (unsigned)packed[i].crc);
	}
	/* patterns of the modules wanted on demand; their helpers load as dependencies */
	o.f = f;
	for (i = 0; i < n && !err; i++) {
		const struct pick_mod *m = &t->mods[order[i]];

		o.name = m->name;
		if ((m->flags & PICK_WANTED) && !(m->flags & PICK_BASE))
			err = pick_each(m, "alias", put_alias, &o);
	}
	if (fclose(f) != 0 && !err)
		err = -ENOMEM;
	if (!err && len > MODIDX_MAX_BYTES)
		err = -E2BIG;
	if (!err)
		err = write_all(fd, text, len);
	free(text);
	return err;
}
