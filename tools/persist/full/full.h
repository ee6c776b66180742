/* full.h: the commands of out/bin/persist that the initramfs's persist has not (commands.c). */
#ifndef OVERLIVE_PERSIST_FULL_H
#define OVERLIVE_PERSIST_FULL_H
#include "cli.h"

#define LIVE_LOWER "/run/live/lower"	/* where the live system has its image (the new one, once booted) */

int cmd_export(struct opts *o);	/* cmd_export.c */
int cmd_rebase(struct opts *o);	/* cmd_rebase.c */
int cmd_conflicts(struct opts *o);

#endif
