/* config.h: the kernel parameters the init understands, parsed once into one struct. */
#ifndef OVERLIVE_CONFIG_H
#define OVERLIVE_CONFIG_H
#include <stddef.h>

/* tmpfs; an ext4 partition found by spec; an ext4 image file on the medium (through a loop device) */
enum upper_kind { UPPER_TMPFS, UPPER_DEVICE, UPPER_FILE };

#define CONFIG_STR 256

struct config {
	char media[CONFIG_STR];     /* live.media: LABEL=, UUID=, PARTLABEL=, PARTUUID= or /dev/... */
	char root[CONFIG_STR];      /* live.root: the squashfs on the medium */
	enum upper_kind upper;      /* live.upper */
	char upper_spec[CONFIG_STR]; /* UPPER_DEVICE: LABEL=, UUID=, PARTLABEL=, /dev/...; UPPER_FILE: /PATH */
	int upper_create;           /* live.upper.create: may format a disk upper that holds no file system */
	char data[CONFIG_STR];      /* live.data: an ext4 device for the live system ("" = none) */
	char size[32];              /* live.size: tmpfs size= option */
	unsigned wait;              /* live.wait: seconds to wait for the medium */
	char init[CONFIG_STR];      /* live.init: the root's init */
	char brk[32];               /* live.break: stop before this stage ("" = never) */
	int debug;                  /* live.debug: echo every log line on the console */
	char persist_dev[CONFIG_STR]; /* live.persist=[DEVICE:]PATH: the save file's device ("" = the medium) */
	char persist_path[CONFIG_STR];/* ... and its path there ("" = no journal) */
	long persist_at;            /* live.persist.at: the generation to restore (-1 = the newest) */
	char persist_size[24];      /* live.persist.size: the size a shutdown's persist init gives a new save file */
	unsigned autosave;          /* live.persist.autosave: seconds between saves in the live system (0 = off) */
	int toram;                  /* live.toram: copy the layers into RAM, free the medium */
	int verify;                 /* live.verify: 0 no, 1 stop on a mismatch, 2 (=warn) boot anyway */
	char layers[CONFIG_STR];    /* live.layers=a.sqfs,b.sqfs: the layers, bottom first ("" = all) */
	char iso[CONFIG_STR];       /* live.iso=/PATH: the layers are inside this ISO file on the medium */
	int slot;                   /* live.slot: 0 A, 1 B, -1 as the slot record says */
};

/* A problem found while parsing: the word and what is wrong with it. */
struct config_issue {
	char word[96];
	const char *why;
	int fatal;                  /* a bad value of a known key; unknown keys and soft keys only warn */
};

#define CONFIG_MAX_ISSUES 8

struct config_result {
	struct config_issue issue[CONFIG_MAX_ISSUES];
	int n;
};

void config_defaults(struct config *c);
/* Parses a kernel command line; issues are collected, never printed. Returns the fatal count. */
int config_parse(struct config *c, const char *cmdline, struct config_result *res);
/* Whether live.break may name this stage (stages.c). */
int stage_known(const char *name);

#endif
