/* mkcpio.h: the state of one mkcpio run and the steps over it (spec → entries → newc archive). */
#ifndef OVERLIVE_MKCPIO_H
#define OVERLIVE_MKCPIO_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	MKCPIO_MAX_ENTRIES = 1 << 20,	/* entries in one archive */
	MKCPIO_MAX_PATH = 4095,		/* bytes of an archive path or host path */
	MKCPIO_MAX_LINE = 8192,		/* bytes of a spec line */
	MKCPIO_MAX_DEPTH = 128,		/* directory levels of a tree */
	MKCPIO_OUTBUF = 1 << 16,
};

/* One archive member. path is normalised: relative, no "." or ".." or empty parts. */
struct entry {
	char *path;
	char *src;		/* file: host path to copy; slink: link target; else NULL */
	uint32_t mode;		/* with the S_IF* type bits */
	uint32_t uid, gid, rmajor, rminor;
	const char *spec;	/* where it was declared (for messages) */
	unsigned line;		/* 0: made automatically as a parent */
	unsigned char weak;	/* a tree's top or an automatic parent: an explicit entry wins */
	unsigned char emitted, dropped;
};

struct mkcpio {
	struct entry *ents;
	size_t n, cap;
	size_t *slots;		/* open-addressing index into ents (index + 1), 0 = empty */
	size_t nslots;
	uint32_t mtime;		/* SOURCE_DATE_EPOCH */
	uint32_t next_ino;
	int out;
	unsigned char *obuf;
	size_t olen;
	unsigned long long written;
	int out_failed;		/* writing the archive failed (a system error, not bad input) */
	char why[600];		/* what went wrong, for the caller to report */
};

/* entries.c */
int mk_init(struct mkcpio *st);
void mk_free(struct mkcpio *st);
/* Normalises a spec path into dst (MKCPIO_MAX_PATH + 1 bytes): 0 or -EINVAL (why set). */
int mk_norm_path(struct mkcpio *st, const char *in, char *dst);
/* Adds an entry (takes copies of path and src); a duplicate of an explicit entry is -EEXIST. */
int mk_add(struct mkcpio *st, const struct entry *e);
struct entry *mk_find(struct mkcpio *st, const char *path, size_t len);

/* spec.c: reads spec lines from f; name is for messages. 0, or -errno with st->why set. */
int mk_read_spec(struct mkcpio *st, FILE *f, const char *name);

/* tree.c: adds a host directory at archive path dst (normalised), sorted, recursively. */
int mk_add_tree(struct mkcpio *st, const char *dst, const char *srcdir, const char *spec,
		unsigned line);

/* newc.c: writes every entry (parents first) and the trailer to st->out. */
int mk_write_archive(struct mkcpio *st);

/* cli.c: the whole command, for main() and for the tests. Returns the exit code. */
int mkcpio_cli(int argc, char **argv);

#endif
