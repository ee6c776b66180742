/* rebase.h: carrying a save onto a new image (rebase.c, images.c, cmd_rebase.c; docs/updates.md). */
#ifndef OVERLIVE_PERSIST_REBASE_H
#define OVERLIVE_PERSIST_REBASE_H
#include "persist.h"

/* images.c: a squashfs image file mounted read-only on a directory of its own, through a loop device. */
struct image {
	const char *file;
	char dir[64];           /* where it is mounted, "" when not */
	struct lower_id id;     /* what a save records of it */
};
int image_mount(struct image *im, struct perr *err);
void image_unmount(struct image *im);

/* What a rebase does with one entry of the save (docs/persist-format.md, "Rebase"). */
enum rb_act { RB_KEEP, RB_DROP, RB_NEWDATA, RB_DROP_WHITEOUT, RB_DROP_OPAQUE, RB_CONFLICT, RB_ACTS };
struct rb_item {
	const struct pentry *e; /* the save's entry */
	enum rb_act act;
	const char *why;
	struct pentry merged;   /* RB_NEWDATA: the new image's file under the user's metadata;
	                         * RB_DROP_OPAQUE: the entry without its opaque xattr */
};
struct rebase {
	struct pfile pf;
	struct pstate st;
	struct pentry **v;      /* the state, sorted */
	struct rb_item *items;
	size_t n, count[RB_ACTS];
	const char *old_dir, *new_dir;
	uint64_t gen;           /* the generation written */
	struct perr err;
};
const char *rb_act_name(enum rb_act a);
/* Decides every entry of the state (r->st, loaded) against the two mounted trees. */
int rebase_plan(struct rebase *r);
/* Writes the plan as a new generation recorded over lower (the conflicts list with it). */
int rebase_write(struct rebase *r, const struct lower_id *lower);
void rebase_free(struct rebase *r);

#endif
