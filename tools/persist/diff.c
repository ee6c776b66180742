/* diff.c: decides how an upper entry changed since the catalogue of the last save. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "persist.h"

static int same_view(const struct pentry *a, const struct pentry *b)
{
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->rdev != b->rdev || a->xattr_len != b->xattr_len || a->nxattr != b->nxattr)
		return 0;
	if ((a->target == NULL) != (b->target == NULL) || (a->target && strcmp(a->target, b->target)))
		return 0;
	return a->xattr_len == 0 || memcmp(a->xattrs, b->xattrs, a->xattr_len) == 0;
}

int is_opaque(const struct pentry *e)
{
	uint32_t n;
	const unsigned char *v = xattr_find(e, "trusted.overlay.opaque", &n);

	return v && n == 1 && v[0] == 'y';
}

/* The content CRC of the scanned regular file e, read from the upper now: 0 and e->crc set, or -errno. */
static int upper_crc(const char *upper, struct pentry *e)
{
	char abs[8192];
	int fd, r;

	snprintf(abs, sizeof abs, "%s/%s", upper, e->path);
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = file_content_crc(fd, e->size, &e->crc);
	close(fd);
	e->crc_known = r == 0;
	return r;
}

/*
 * CH_NONE: same inode, same ctime (nothing can have changed without changing ctime), unless the
 *   catalogue entry has EF_RECENT: then CH_RECHECK, compared as for CH_TOUCH.
 * CH_TOUCH: a new inode or ctime but the same view, e.g. the first save after a restore; for a
 *   regular file this reads its data to compare the content CRC. CH_MOD: anything else.
 * A member of a hardlink group (in_group) is only compared by its metadata here: its content is
 * compared once for the whole group, by scan_changes.
 */
int entry_compare(const char *upper, struct pentry *now, const struct pentry *was, int in_group)
{
	if (!same_view(now, was) || (in_group != 0) != (was->group != 0))
		return CH_MOD;
	int same = now->ino == was->ino && now->ctime_sec == was->ctime_sec && now->ctime_nsec == was->ctime_nsec;
	int touch = same ? CH_RECHECK : CH_TOUCH;

	if (same && !(was->flags & EF_RECENT))	/* (never set in a file before version 4) */
		return CH_NONE;
	if (now->type != PT_FILE || in_group)
		return touch;
	return upper_crc(upper, now) == 0 && now->crc == was->crc ? touch : CH_MOD;
}

/* How many catalogue entries each hardlink group id has. */
static int count_ids(const struct pstate *st, struct u64map *m)
{
	size_t i;
	int r = u64map_init(m, 64);

	for (i = 0; !r && i < st->nbucket; i++)
		for (const struct pnode *n = st->bucket[i]; n; n = n->next)
			if (n->e.group) {
				size_t *c = u64map_at(m, n->e.group, NULL);
				if (!c) {
					r = -ENOMEM;
					break;
				}
				++*c;
			}
	if (r)
		u64map_free(m);
	return r;
}

/*
 * A group whose members all look unchanged is unchanged (CH_NONE) or the same content under new
 * inodes (CH_TOUCH) only when the catalogue holds it as one group of exactly these members, with
 * one member holding the data; anything else rewrites the whole group (CH_MOD), under a new id.
 */
static int group_verdict(const char *upper, const struct pstate *st, struct scan *sc, struct sgroup *g,
			 const int *chg, const struct u64map *ids)
{
	const struct pentry *keeper = NULL;
	const size_t *count;
	uint64_t id = 0;
	int touched = 0, recheck = 1;	/* recheck: every member not CH_NONE is CH_RECHECK */
	size_t m;

	for (m = 0; m < g->n; m++) {
		size_t i = g->member[m];
		const struct pentry *e = &sc->v[i], *was;
		if (chg[i] != CH_NONE && chg[i] != CH_TOUCH && chg[i] != CH_RECHECK)
			return CH_MOD;
		was = scan_cat(st, &sc->v[i]);
		if (!was || !was->group || (id && was->group != id))
			return CH_MOD;
		id = was->group;
		touched |= chg[i] != CH_NONE;
		recheck &= chg[i] != CH_TOUCH;
		if (was->type != e->type)
			return CH_MOD;
		if (was->flags & (EF_DATA | EF_KEEP)) {
			if (keeper)
				return CH_MOD;
			keeper = was;
			g->keeper = i;
		}
	}
	count = u64map_get(ids, id);
	if (!count || *count != g->n || (!keeper && sc->v[g->lead].type == PT_FILE))
		return CH_MOD;
	g->was = id;
	if (!touched)
		return CH_NONE;
	int touch = recheck ? CH_RECHECK : CH_TOUCH;
	if (sc->v[g->lead].type != PT_FILE)
		return touch;	/* a symlink, fifo, socket or device: its metadata is all there is */
	/* new inodes or ctime, the same metadata: the same content? (read once, for the group) */
	struct pentry *k = &sc->v[g->keeper];
	if (upper_crc(upper, k) || k->crc != keeper->crc || k->size != keeper->size)
		return CH_MOD;
	return touch;
}

/*
 * How each scanned entry changed since the catalogue st (NULL: a full save, everything is new).
 * The members of a hardlink group change together: they all get the group's verdict.
 */
int scan_changes(const char *upper, const struct pstate *st, struct scan *sc, int *chg)
{
	struct u64map ids = { 0 };
	size_t i;
	int r;

	for (i = 0; i < sc->n; i++) {
		struct pentry *e = &sc->v[i];
		const struct pentry *was = scan_cat(st, e);
		chg[i] = was ? entry_compare(upper, e, was, e->sgroup != 0) : CH_ADD;
	}
	if (!sc->ngroups)
		return 0;
	if (st && (r = count_ids(st, &ids)))
		return r;
	for (i = 0; i < sc->ngroups; i++) {
		struct sgroup *g = &sc->groups[i];
		g->was = 0;
		g->id = 0;
		g->chg = g->n < 2 ? CH_NONE : st ? group_verdict(upper, st, sc, g, chg, &ids) : CH_ADD;
	}
	for (i = 0; i < sc->n; i++)
		if (sc->v[i].sgroup)
			chg[i] = sc->groups[sc->v[i].sgroup - 1].chg;
	u64map_free(&ids);
	return 0;
}
