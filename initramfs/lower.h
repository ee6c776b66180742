/* lower.h: the read-only layers, shared by their list and mounts (layers.c), the manifest check
 * of live.verify (verify.c) and the copy of live.toram (toram.c). */
#ifndef OVERLIVE_LOWER_H
#define OVERLIVE_LOWER_H
#include "init.h"

#define MAX_LAYERS 8

struct layer {
	char name[64];              /* file name beside live.root */
	char path[CONFIG_STR + 96]; /* where it is read from now (the medium, the ISO or RAM) */
	unsigned long long size;
};

/* verify.c */
/* Reads in (and writes out, when out >= 0), hashing into hex, with a progress line every tenth;
 * what names the job in the log lines. 0 or -errno. */
int layer_hash(struct init_ctx *c, int in, int out, const struct layer *l, const char *what, char hex[65]);
/* Compares got with l's line in dir/SHA256SUMS: 0 when equal (or live.verify=warn, after the
 * warning), else fail()'s -errno. */
int layer_verify(struct init_ctx *c, const char *dir, const struct layer *l, const char *got);
/* The hash of name in a SHA256SUMS text (sha256sum's lines: 64 hex digits, two blanks or " *", the
 * name), NUL-terminated and cut up by strtok: 0 with hex, or -ENOENT when no line names it. */
int manifest_find(char *text, const char *name, char hex[65]);

/* toram.c */
/* Whether the n layers fit in RAM: 1 with the tmpfs for their copies mounted, 0 when they do not
 * fit (said: they are read from the medium), or fail()'s -errno. */
int toram_prepare(struct init_ctx *c, const struct layer *L, int n);
/* Creates l's copy in RAM, its path in dst: the open fd, or fail()'s -errno. */
int toram_create(struct init_ctx *c, const struct layer *l, char *dst, size_t cap);
/* After the copy, the medium goes unless something on it is still needed. */
void toram_release(struct init_ctx *c);

#endif
