/* closure.c: the modules wanted plus their depends and softdep pre:, in a valid load order. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pick.h"
#include "vec.h"

enum { V_NEW, V_ACTIVE, V_DONE };

struct resolve {
	struct pick_tree *t;
	int self;
	char *bad;
	size_t badcap;
	int *edges;
	unsigned char *hard;
	size_t n, ecap, hcap;    /* edges[] and hard[] grow side by side */
};

static int add_edge(struct resolve *r, int to, int hard)
{
	size_t i;
	int err;

	if (to == r->self)
		return 0;
	for (i = 0; i < r->n; i++)
		if (r->edges[i] == to) {
			r->hard[i] |= hard;
			return 0;
		}
	if ((err = vec_reserve((void **)&r->edges, &r->ecap, r->n, sizeof *r->edges, 8)) ||
	    (err = vec_reserve((void **)&r->hard, &r->hcap, r->n, sizeof *r->hard, 8)))
		return err == -EOVERFLOW ? -ENOMEM : err;
	r->edges[r->n] = to;
	r->hard[r->n++] = hard;
	return 0;
}

static int on_depends(void *arg, const char *val)
{
	struct resolve *r = arg;
	char buf[4096], *save = NULL, *name;
	int err;

	snprintf(buf, sizeof buf, "%s", val);
	for (name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int to = pick_tree_find(r->t, name);

		if (to < 0) {
			snprintf(r->bad, r->badcap, "%s (a dependency of %s)", name,
				 r->t->mods[r->self].name);
			return -ENOENT;
		}
		err = add_edge(r, to, 1);
		if (err)
			return err;
	}
	return 0;
}

struct alias_hit {
	const char *name;
	int found;
};

static int alias_matches(void *arg, const char *alias)
{
	struct alias_hit *h = arg;

	if (fnmatch(alias, h->name, 0) == 0)
		h->found = 1;
	return h->found;   /* stops the walk at the first hit */
}

/* A softdep names a module or an alias ("crypto-crc32c"): every module it names is taken. */
static int soft_target(struct resolve *r, const char *name)
{
	int to = pick_tree_find(r->t, name), j, err;

	if (to >= 0)
		return add_edge(r, to, 0);
	for (j = 0; j < r->t->n; j++) {
		struct alias_hit h = { name, 0 };

		(void)pick_each(&r->t->mods[j], "alias", alias_matches, &h);
		if (h.found && (err = add_edge(r, j, 0)))
			return err;
	}
	return 0;   /* nothing provides it: built into the kernel, or gone; soft means optional */
}

static int on_softdep(void *arg, const char *val)
{
	struct resolve *r = arg;
	char buf[4096], *save = NULL, *tok;
	int pre = 0, err;

	snprintf(buf, sizeof buf, "%s", val);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		size_t n = strlen(tok);

		if (tok[n - 1] == ':') {
			pre = strcmp(tok, "pre:") == 0;   /* post: modules load after: not needed */
			continue;
		}
		if (pre && (err = soft_target(r, tok)))
			return err;
	}
	return 0;
}

static int resolve(struct pick_tree *t, int i, char *bad, size_t badcap)
{
	struct pick_mod *m = &t->mods[i];
	struct resolve r = { t, i, bad, badcap, NULL, NULL, 0, 0, 0 };
	int err;

	if (m->nedges >= 0)
		return 0;
	err = pick_each(m, "depends", on_depends, &r);
	if (!err)
		err = pick_each(m, "softdep", on_softdep, &r);
	if (err == -E2BIG)
		snprintf(bad, badcap, "%s", m->name);
	if (err) {
		free(r.edges);
		free(r.hard);
		return err;
	}
	m->edges = r.edges;
	m->hard = r.hard;
	m->nedges = r.n;
	return 0;
}

/* Depth first; a module enters order[] after everything it needs. */
static int visit(struct pick_tree *t, int i, int *order, int *n, char *bad, size_t badcap,
		 int depth)
{
	struct pick_mod *m = &t->mods[i];
	int e, err;

	if (m->visit == V_DONE)
		return 0;
	if (m->visit == V_ACTIVE || depth > t->n) {
		snprintf(bad, badcap, "%s", m->name);
		return -ELOOP;
	}
	m->visit = V_ACTIVE;
	err = resolve(t, i, bad, badcap);
	for (e = 0; !err && e < m->nedges; e++)
		err = visit(t, m->edges[e], order, n, bad, badcap, depth + 1);
	if (err)
		return err;
	m->visit = V_DONE;
	m->flags |= PICK_IN;
	order[(*n)++] = i;
	return 0;
}

/* Sets bit on i and on everything it reaches (through depends only, when hard_only). */
static void spread(struct pick_tree *t, int i, unsigned char bit, int hard_only)
{
	struct pick_mod *m = &t->mods[i];
	int e;

	if (m->flags & bit)
		return;
	m->flags |= bit;
	for (e = 0; e < m->nedges; e++)
		if (!hard_only || m->hard[e])
			spread(t, m->edges[e], bit, hard_only);
}

static int want_pass(unsigned want)
{
	return (want & PICK_BASE) ? 0 : (want & PICK_EARLY) ? 1 : 2;
}

int pick_closure(struct pick_tree *t, const struct pick_want *want, int nwant, int *order,
		 int *norder, char *bad, size_t badcap, int *nmissing)
{
	/* PICK_OPTIONAL is computed as its opposite first: "required" */
	const unsigned char REQUIRED = PICK_OPTIONAL;
	int i, w, err;

	*norder = 0;
	*nmissing = 0;
	for (i = 0; i < t->n; i++)
		t->mods[i].want = t->mods[i].flags = t->mods[i].visit = 0;
	for (w = 0; w < nwant; w++) {
		i = pick_tree_find(t, want[w].name);
		if (i < 0 && (want[w].flags & PICK_OPTIONAL)) {
			++*nmissing;
			continue;
		}
		if (i < 0) {
			snprintf(bad, badcap, "%s", want[w].name);
			return -ENOENT;
		}
		/* wanted twice: base wins, early wins, required wins, not late wins */
		if (t->mods[i].want & PICK_WANTED)
			t->mods[i].want = PICK_WANTED | ((t->mods[i].want | want[w].flags) & (PICK_BASE | PICK_EARLY)) |
					  (t->mods[i].want & want[w].flags & (PICK_OPTIONAL | PICK_LATE));
		else
			t->mods[i].want = PICK_WANTED | want[w].flags;
	}
	/* The order is the pack's too (modidx.h), so the likeliest come first: base modules, then
	 * the early wants, then the rest, each group as listed and each module after its needs. */
	for (int pass = 0; pass < 3; pass++)
		for (w = 0; w < nwant; w++) {
			i = pick_tree_find(t, want[w].name);
			if (i >= 0 && want_pass(t->mods[i].want) == pass &&
			    (err = visit(t, i, order, norder, bad, badcap, 0)))
				return err;
		}
	for (i = 0; i < t->n; i++) {
		if (t->mods[i].want & PICK_BASE)
			spread(t, i, PICK_BASE, 0);
		if (t->mods[i].want && !(t->mods[i].want & PICK_OPTIONAL))
			spread(t, i, REQUIRED, 1);
	}
	for (i = 0; i < t->n; i++)
		if (t->mods[i].flags & PICK_IN)
			t->mods[i].flags = (t->mods[i].flags ^ REQUIRED) |
					   (t->mods[i].want & (PICK_WANTED | PICK_LATE));
	return 0;
}
