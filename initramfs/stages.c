/* stages.c: the table of boot stages, and the last one: the switch into the live system. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "init.h"

/* The root's init is checked while the initramfs (and its /dev for the rescue shell) is whole. */
static int stage_move(struct init_ctx *c)
{
	int r = check_init(c);

	return r < 0 ? r : move_mounts(c);
}

static int stage_switch(struct init_ctx *c)
{
	int r;

	modules_done(c);
	if ((r = switch_root(c)) < 0)
		return r;
	log_stage(c, "exec");
	log_msg(c, LOG_NOTICE, "starting %s", c->cfg.init);
	c->argv[0] = c->cfg.init;
	execv(c->cfg.init, c->argv);
	return fail(c, -errno, "set live.init= to a program of the root", "start %s", c->cfg.init);
}

const struct stage init_stages[] = {
	{ "modules", modules_load_base },
	{ "find-medium",  medium_find },
	{ "mount-medium", mount_medium },
	{ "lower",   mount_lower },
	{ "upper",   mount_upper },
	{ "restore", restore_save_file },
	{ "overlay", mount_overlay },
	{ "move",    stage_move },
	{ "exitenv", exitenv_prepare },
	{ "switch",  stage_switch },
	{ NULL, NULL },
};

int stage_known(const char *name)
{
	for (const struct stage *s = init_stages; s->name; s++)
		if (!strcmp(s->name, name))
			return 1;
	return 0;
}
