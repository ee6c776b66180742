/* modules.c: loads the kernel modules listed in /lib/modules/load.order, in that order. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "init.h"
#include "io.h"

#define MODULE_DIR   "/lib/modules"
#define ORDER_FILE   MODULE_DIR "/load.order"
#define ORDER_MAX    16384

/* Each line: NAME [optional]. A required module that fails stops the boot; an optional one warns. */
int modules_load_base(struct init_ctx *c)
{
	char list[ORDER_MAX], path[128];
	int r, count = 0;

	r = read_small_file(AT_FDCWD, ORDER_FILE, list, sizeof list);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return fail(c, r, NULL, "read %s", ORDER_FILE);
	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64], flag[16] = "";
		if (sscanf(line, "%63s %15s", name, flag) < 1 || name[0] == '#')
			continue;
		double t0 = uptime_seconds();
		snprintf(path, sizeof path, "%s/%s.ko", MODULE_DIR, name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : c->sys->finit_module(fd, "", 0);
		if (fd >= 0)
			close(fd);
		if (r == -EEXIST)
			r = 0;
		if (r < 0 && !strcmp(flag, "optional")) {
			log_msg(c, LOG_INFO, "module %s (optional) not loaded: %s", name, strerror(-r));
			continue;
		}
		if (r < 0)
			return fail(c, r, "rebuild the initramfs with this module for this kernel",
				    "load the kernel module %s", name);
		count++;
		log_msg(c, LOG_DEBUG, "module %s loaded in %.3f s", name, uptime_seconds() - t0);
	}
	log_msg(c, LOG_INFO, "%d modules loaded", count);
	return 0;
}

/* The fixed list loads every driver up front; scanning for new hardware comes with kmod/. */
int modules_coldplug(struct init_ctx *c)
{
	return 0;
}
