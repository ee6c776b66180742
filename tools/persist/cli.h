/* cli.h: persist's command table and what its command-line parser hands to each command. */
#ifndef OVERLIVE_PERSIST_CLI_H
#define OVERLIVE_PERSIST_CLI_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "persist.h"

/* Where the live system's defaults are (PERSIST_ENV=path names another file). */
#define PERSIST_ENV_DEFAULT "/run/live/persist.env"

/* Every option of every command; a command's entry says which of them it takes. */
enum cli_opt { OPT_UPPER, OPT_FILE, OPT_INTO, OPT_SIZE, OPT_COMPRESS, OPT_AT, OPT_LOWER, OPT_ANY_LOWER,
	       OPT_JSON, OPT_QUIET, OPT_SKIP_BUSY, OPT_OCI_LAYER, OPT_GZIP, OPT_ZSTD, OPT_SQUASHFS, OPT_MERGE,
	       OPT_YES, OPT_OLD, OPT_NEW, OPT_DRY_RUN, OPT_GEN_FILE, OPT_FAILED_BOOTS, OPT_COUNT };
#define TAKES(opt) (1u << (opt))

struct command;
struct opts {
	const char *file, *upper, *lower, *into, *size, *at; /* as given (or from persist.env) */
	const char *compress;
	const char *oci_layer, *squashfs, *merge;             /* export --oci-layer, --squashfs, --merge */
	const char *old_img, *new_img;                        /* rebase --old, --new */
	const char *gen_file;                                 /* restore --gen-file */
	const char *failed_boots;                             /* rollback --failed-boots */
	uint64_t size_bytes, at_gen, comp;                   /* --size, --at and --compress, parsed */
	uint64_t nfailed;                                     /* --failed-boots, parsed */
	int json, any_lower, quiet, skip_busy, gzip, zstd, yes, dry_run;
	const char *arg;                                      /* the positional argument */
	const struct command *cmd;
	struct live_env env;
};

struct command {
	const char *name;
	int (*run)(struct opts *o);
	const char *arg;   /* the one positional argument it takes (NULL: none) */
	unsigned takes;    /* TAKES() of each option it accepts (--help: all of them) */
	unsigned needs;    /* of those, the ones its synopsis shows without brackets */
	const char *help;
};

/* persist's command line (entry.c), the main of the program named persist: its exit status (bad usage exits 100 there). */
int persist_main(int argc, char **argv);

extern const struct command commands[];
extern const size_t ncommands;
/* The commands only out/bin/persist has (tools/persist/full/), weak: the initramfs's has none. */
extern const struct command more_commands[] __attribute__((weak));
extern const size_t nmore_commands __attribute__((weak));

/* The i-th command: commands[], then more_commands[]; NULL past the last. */
const struct command *command_at(size_t i);
const struct command *command_find(const char *name);
/* "rollback GEN [--file F] [--quiet]", from the tables. Returns the length it wanted. */
size_t cli_synopsis(const struct command *c, char *buf, size_t cap);
/* The --help text: the synopsis, the command's help, each of its options. */
void cli_help(const struct command *c, FILE *f);
/*
 * Parses argv[2..argc) for c into o (fields not given stay as they are). Returns 0, 1 for --help,
 * or -EINVAL with err saying which word is wrong and why. Never prints.
 */
int cli_parse(const struct command *c, int argc, char **argv, struct opts *o, struct perr *err);

int exit_code(int err);
void usage_line(const struct command *c, FILE *f);
void need(const struct opts *o, const char *val, const char *flag);
void json_str(const char *s);

int cmd_init(struct opts *o);
int cmd_save(struct opts *o);
int cmd_restore(struct opts *o);
int cmd_status(struct opts *o);
int cmd_log(struct opts *o);
int cmd_rollback(struct opts *o);
int cmd_verify(struct opts *o);
int cmd_compact(struct opts *o);
int cmd_grow(struct opts *o);
/* pf_open, pf_load of --at's generation into st, --lower checked (a newest generation over another
 * lower gives way to the newest over it: o->at_gen says which): what restore and export start with */
void open_generation(struct opts *o, struct pfile *pf, struct pstate *st, const char *verb,
		     const char *doing, const char *done);

#endif
