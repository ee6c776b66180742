/* pick.h: the build side: a scanned module tree, classes, the closure and the index writer. */
#ifndef OVERLIVE_PICK_H
#define OVERLIVE_PICK_H
#include <stddef.h>
#include <stdint.h>
#include "modidx.h"
#include "modinfo.h"

#define PICK_MAX_TREE   65536   /* modules in one tree */
#define PICK_MAX_DEPTH  16      /* directory levels below kernel/ */

/* What is wanted of a module (a class entry or --module) and what the closure made of it. */
enum { PICK_BASE = 1, PICK_OPTIONAL = 2, PICK_WANTED = 4, PICK_IN = 8, PICK_LATE = 16, PICK_EARLY = 32 };

struct pick_mod {
	char name[MODIDX_NAME_MAX + 1];  /* normalized: '-' written as '_' */
	char *path;                       /* relative to the tree's top */
	uint64_t size;
	char *info;                       /* own copy of the .modinfo section */
	size_t info_len;
	int *edges;                       /* resolved depends, then softdep pre: (tree indexes) */
	unsigned char *hard;              /* edges[i] is a depends (1) or a softdep (0) */
	int nedges;                       /* -1 until resolved */
	unsigned char want, flags, visit; /* asked for (PICK_*), result (PICK_*), DFS state */
};

struct pick_tree {
	struct pick_mod *mods;
	int n;
	size_t cap;      /* allocated mods[] (vec_reserve) */
	int skipped;     /* files under kernel/ not read: compressed modules, unreadable ELF */
	int duplicates;  /* second files of a module name already seen (the first path wins) */
};

struct pick_want {
	const char *name;
	unsigned flags;  /* PICK_BASE, PICK_OPTIONAL, PICK_LATE, PICK_EARLY (early in the pack) */
};

struct pick_class {
	const char *name;
	const char *what;
	const struct pick_want *mods;   /* ends with a NULL name */
	int is_default;
};

extern const struct pick_class pick_classes[];   /* ends with a NULL name */
const struct pick_class *pick_class_find(const char *name);

/* Copies '-' as '_' into out (cap bytes). 0 or -E2BIG. */
int pick_norm(const char *name, char *out, size_t cap);

/* Reads every kernel/ ** / *.ko under rootfd. 0 or -errno; sorted by path. */
int pick_tree_scan(int rootfd, struct pick_tree *t);
/* Adds one module from its .modinfo (copied); name NULL takes it from the info or path. */
int pick_tree_add(struct pick_tree *t, const char *name, const char *path, uint64_t size,
		  const char *info, size_t info_len);
int pick_tree_find(const struct pick_tree *t, const char *name);
void pick_tree_free(struct pick_tree *t);

/* Calls fn for every value of key in m's .modinfo (NUL-terminated copy of at most cap-1 bytes). */
int pick_each(const struct pick_mod *m, const char *key, int (*fn)(void *arg, const char *val),
	      void *arg);

/*
 * Marks the closure of the wanted modules (depends plus softdep pre:) and returns in order[]
 * (tree indexes, t->n long at most) a load order: every module after its dependencies.
 * Sets each module's flags: PICK_IN, PICK_BASE (reached from a base module), PICK_OPTIONAL
 * (no required module reaches it through depends), PICK_WANTED. Errors name the culprit in
 * bad: -ENOENT unknown module (an optional wanted one is dropped and counted in *nmissing),
 * -ELOOP a dependency cycle, -E2BIG a field too long.
 */
int pick_closure(struct pick_tree *t, const struct pick_want *want, int nwant, int *order,
		 int *norder, char *bad, size_t badcap, int *nmissing);

/* Keeps an alias in the index? Device aliases only ("bus:..."), not "devname:" or "fs-ext4". */
int pick_alias_useful(const char *alias);

/* A module as it went into the pack. */
struct pick_packed {
	uint64_t bytes;
	uint32_t crc;    /* CRC32C */
};

/* Writes the index text (modidx.h, docs/kmod.md) for order[] to fd; with packed (each module of
 * order[] as it went into the pack), the pack's p and s lines too. 0, -E2BIG past a limit of
 * modidx.h (the loader would refuse it), or -errno. */
int pick_write_index(int fd, const struct pick_tree *t, const int *order, int n, const char *krel,
		     const struct pick_packed *packed);

#endif
