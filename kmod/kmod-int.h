/* kmod-int.h: the loader's state (struct modloader), shared by its files (not part of the API). */
#ifndef OVERLIVE_KMOD_INT_H
#define OVERLIVE_KMOD_INT_H
#include <stddef.h>
#include <stdint.h>
#include "kmod.h"

enum { MOD_BASE = 1, MOD_OPTIONAL = 2, MOD_LATE = 4 };
enum { ST_NONE, ST_LOADED, ST_FAILED };

struct modload_mod {
	const char *name;        /* normalized: '-' written as '_' */
	uint16_t *deps;          /* indexes of modules before this one */
	uint16_t ndeps;
	unsigned char flags, state;
	int err;                 /* -errno of a failed load */
	int pack_at;             /* its place in the pack (s lines), or -1: a file of its own */
	uint64_t pack_bytes;     /* its size in the pack */
	uint32_t pack_crc;       /* and its CRC32C */
};

/* The pack (modidx.h): read through a decoder process, as far as asked, never backwards. */
struct modload_pack {
	const char *file;        /* relative to dirfd; NULL: the index names no pack */
	uint16_t *order;         /* module indexes in pack order */
	int n;
	int next;                /* order[next] is the next module the stream holds */
	uint64_t total;          /* bytes of the decoded pack */
	int fd;                  /* the decoder's output, -1 when not running */
	int pid;
	int err;                 /* the first failure: every later fetch returns it */
};

struct modload_alias {
	const char *pattern;
	size_t prefix;           /* length of the literal text before the first glob character */
	uint16_t mod;
};

struct modloader {
	int dirfd;
	struct modload_ops ops;
	modload_log_fn log;
	void *log_arg;
	char *buf;               /* the index text, cut into strings in place */
	const char *krel;
	struct modload_mod *mods;
	int nmods;
	struct modload_alias *aliases;
	int naliases;
	uint16_t *depbuf;
	struct modload_stats st;
	int late_ok;             /* coldplug may load MOD_LATE drivers (modload_allow_late) */
	int late_held;           /* coldplug matched a MOD_LATE driver and held it back */
	const char *const *unxz; /* the decoder command (modload_config) */
	modload_decode_fn decode; /* or the decoder function, run in a child (modload_config) */
	struct modload_pack pack;
};

/* index.c: parses text (NUL-terminated, modified in place) into ml's tables. */
int modload_index_parse(struct modloader *ml, char *text);
/* index.c: the module named name ('-' == '_'), or -1. */
int modload_find(const struct modloader *ml, const char *name);
/* pack.c: makes module i's NAME.ko in dirfd out of the pack (and every module before it in the
 * pack). 0, -ENOENT when it is not in the pack, or -errno of a damaged pack or a failed decoder. */
int modload_pack_fetch(struct modloader *ml, int i);
/* load.c: loads module i after its dependencies; 1 newly loaded, 0 already, -errno failed. */
int modload_at(struct modloader *ml, int i);
/* load.c: CLOCK_MONOTONIC in nanoseconds, for the load and pack timings. */
uint64_t modload_now_ns(void);
/* load.c: formats one message and hands it to the log callback. */
void modload_log(const struct modloader *ml, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
