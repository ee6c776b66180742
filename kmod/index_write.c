/* index_write.c: writes modules.idx, the index the init reads (format in docs/kmod.md). */
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
};

static int put_alias(void *arg, const char *alias)
{
	struct out *o = arg;

	if (pick_alias_useful(alias))
		fprintf(o->f, "a %s %s\n", o->name, alias);
	return 0;
}

int pick_write_index(int fd, const struct pick_tree *t, const int *order, int n, const char *krel)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i, e, err = 0;

	if (!f)
		return -errno;
	fprintf(f, "overlive-modules 1\n");
	if (krel && *krel)
		fprintf(f, "k %s\n", krel);
	fprintf(f, "# m NAME FLAGS DEPS: b base, d on demand, o optional; a MODULE PATTERN\n");
	for (i = 0; i < n; i++) {
		const struct pick_mod *m = &t->mods[order[i]];

		fprintf(f, "m %s %c%s", m->name, (m->flags & PICK_BASE) ? 'b' : 'd',
			(m->flags & PICK_OPTIONAL) ? "o" : "");
		for (e = 0; e < m->nedges; e++)
			fprintf(f, " %s", t->mods[m->edges[e]].name);
		fputc('\n', f);
	}
	/* patterns of the modules wanted on demand; their helpers load as dependencies */
	for (i = 0; i < n && !err; i++) {
		const struct pick_mod *m = &t->mods[order[i]];
		struct out o = { f, m->name };

		if ((m->flags & PICK_WANTED) && !(m->flags & PICK_BASE))
			err = pick_each(m, "alias", put_alias, &o);
	}
	if (fclose(f) != 0 && !err)
		err = -ENOMEM;
	if (!err)
		err = write_all(fd, text, len);
	free(text);
	return err;
}
