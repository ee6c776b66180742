/* cli.h: what main.c hands to each command. */
#ifndef OVERLIVE_PERSIST_CLI_H
#define OVERLIVE_PERSIST_CLI_H
#include <stdint.h>
#include "persist.h"

struct command;
struct opts {
	const char *file, *upper, *lower, *into, *size;
	uint64_t at;
	int has_at, json, any_lower, quiet, nargs;
	char **args;
	const struct command *cmd;
	struct live_env env;
};
struct command {
	const char *name;
	int (*run)(struct opts *o);
	const char *synopsis, *help;
};

int exit_code(int err);
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

#endif
