/*
 * main.c: overlive's PID 1: finds the medium, mounts squashfs + upper + overlay, switch_roots.
 * One program, three names (argv[0]): the init (any other name, as PID 1 only), persist
 * (tools/persist: /bin/persist is a link to /init, so the two share their C library and lib/),
 * and the exit environment's shutdown (shutdown.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "init.h"
#include "io.h"
#include "report.h"

const char *prog_name = "overlive";

/* The API filesystems and the console, before anything can be said. */
static void early(void)
{
	int fd;

	(void)mkdir("/dev", 0755);
	(void)mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	(void)mkdir("/proc", 0755);
	(void)mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	(void)mkdir("/sys", 0755);
	(void)mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* The kernel rate-limits userspace lines to /dev/kmsg (10 per 5 s): every stage line counts. */
	fd = open("/proc/sys/kernel/printk_devkmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)write_all(fd, "on\n", 3);
		close(fd);
	}
}

static int configure(struct init_ctx *c)
{
	char cmdline[4096];
	struct config_result res;
	int r;

	config_defaults(&c->cfg);
	r = read_small_file(AT_FDCWD, "/proc/cmdline", cmdline, sizeof cmdline);
	if (r < 0)
		return fail(c, r, NULL, "read /proc/cmdline");
	int fatal = config_parse(&c->cfg, cmdline, &res);
	for (int i = 0; i < res.n; i++)
		log_msg(c, res.issue[i].fatal ? LOG_ERR : LOG_WARN, "kernel parameter %s: %s",
			res.issue[i].word, res.issue[i].why);
	if (fatal)
		return failx(c, -EINVAL, "fix the kernel parameter named above (docs/kernel-parameters.md lists them)",
			    "use the kernel parameters (%d bad)", fatal);
	return 0;
}

int main(int argc, char **argv)
{
	struct init_ctx c = { .sys = &sys_real, .kmsg = -1, .rootfd = -1, .sysfd = -1, .devfd = -1 };
	int r;

	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "persist")) {
		prog_name = "persist";
		return persist_main(argc, argv);
	}
	/* the exit environment's /run/initramfs/shutdown */
	if (!strcmp(base, "shutdown"))
		return shutdown_main(argc, argv);
	/* the init outside PID 1 is a mistake, not a boot: it would mount over this system's /dev */
	if (getpid() != 1)
		die_msg(EXIT_USAGE, 0, "unable to run as '%s' outside PID 1: this program is the initramfs's init, "
			"and persist or shutdown by those names (a link named persist runs persist)", base);
	c.argv = argv;
	early();
	log_open(&c);
	log_stage(&c, "early");
	c.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c.sysfd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c.devfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	log_stage(&c, "config");
	if ((r = configure(&c)) < 0)
		emergency(&c, r);
	for (const struct stage *s = init_stages; s->name; s++) {
		c.stage = s->name;
		if (!strcmp(c.cfg.brk, s->name))
			rescue_shell(&c, "live.break");
		log_stage(&c, s->name);
		if ((r = s->run(&c)) < 0)
			emergency(&c, r);
	}
	emergency(&c, -EINVAL);  /* not reached: the switch stage execs or fails */
}
