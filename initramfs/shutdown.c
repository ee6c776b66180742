/*
 * shutdown.c: the exit environment's side of the last save. The init's binary, left by exitenv.c
 * as /run/initramfs/shutdown, runs in one of two ways:
 *   - as PID 1, exec'ed by systemd (or any init that follows systemd's "shutdown to initramfs"
 *     protocol) after every process is gone and the old root is read-only under /oldroot, with
 *     the verb in argv[1] (poweroff, reboot, halt, kexec): it saves, then does what the verb says;
 *   - as "/run/initramfs/shutdown save" from a busybox recipe's rc.shutdown, after it stopped
 *     everyone: it saves, and the recipe's init powers off.
 * Either way the save is the same code: the save file (created when it is missing or empty, as
 * live.persist.size= says) from the upper, with what /proc/cmdline said at boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "io.h"

/*
 * Finds a mount exitenv.c left under /run/initramfs: in the exit environment itself, or, where the
 * switch into it bound /run/initramfs without its submounts (systemd 252 does), under the old
 * root, which stays attached at /oldroot. 0 and buf set, or -ENOENT.
 */
static int kept(const char *root, const char *old, const char *name, char *buf, size_t cap)
{
	const char *const at[] = { root, old };
	struct stat top, st;

	for (size_t i = 0; i < 2; i++) {
		snprintf(buf, cap, "%s%s", at[i], i ? EXIT_DIR : "");
		if (stat(*buf ? buf : "/", &top) < 0)
			continue;
		snprintf(buf, cap, "%s%s%s", at[i], i ? EXIT_DIR : "", name);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev != top.st_dev)
			return 0;	/* a mount point: the bind */
	}
	return -ENOENT;
}

/* root: where the exit environment is ("" when it is /, as PID 1); old: the live system's root. */
static int save(struct init_ctx *c, const char *root, const char *old, char *dev, size_t devcap)
{
	char cmdline[4096], file[512], upper[256], lower[512], bin[256];
	struct config_result res;
	struct stat st;
	int n = 0, r;
	char *argv[12];

	config_defaults(&c->cfg);
	if ((r = read_small_file(AT_FDCWD, "/proc/cmdline", cmdline, sizeof cmdline)) < 0) {
		log_msg(c, LOG_ERR, "shutdown: unable to read /proc/cmdline (%s): the changes are not saved", strerror(-r));
		return r;
	}
	(void)config_parse(&c->cfg, cmdline, &res);	/* the boot said what was wrong with it */
	c->cfg.debug = 1;				/* every line on the console, once */
	dev[0] = '\0';
	snprintf(file, sizeof file, "%s%s", root, EXIT_NOSAVE);
	if (read_small_file(AT_FDCWD, file, cmdline, sizeof cmdline) == 0) {
		log_msg(c, LOG_WARN, "shutdown: not saving: %s; the save file is left as it is (repair the FAT "
			"with fsck.fat on another machine)", cmdline);
		return 0;
	}
	if (!c->cfg.persist_path[0] || kept(root, old, EXIT_SAVEDEV, dev, devcap) < 0) {
		dev[0] = '\0';
		log_msg(c, LOG_INFO, "shutdown: no save file (live.persist=): nothing to save");
		return 0;
	}
	if (kept(root, old, EXIT_UPPER, upper, sizeof upper - 8) < 0) {
		log_msg(c, LOG_ERR, "shutdown: the upper was not kept under %s: the changes are not saved", EXIT_DIR);
		return -ENOENT;
	}
	strcat(upper, "/upper");
	snprintf(file, sizeof file, "%s%s", dev, c->cfg.persist_path);
	snprintf(bin, sizeof bin, "%s%s", root, EXIT_PERSIST);
	snprintf(lower, sizeof lower, "%s%s%s", old, MEDIUM_DIR, c->cfg.root);
	/* the live system's shutdown may have made it read-only: the save writes it again */
	if ((r = c->sys->mount(NULL, dev, NULL, MS_REMOUNT, NULL)) < 0) {
		log_msg(c, LOG_ERR, "shutdown: unable to write the save file's filesystem (%s): the changes are not "
			"saved; the previous save is kept", strerror(-r));
		return r;
	}
	if (stat(file, &st) < 0 || st.st_size == 0) {
		/* missing, or empty (a cut during an earlier init can leave that): init takes it over */
		char *init_argv[] = { "persist", "init", "--file", file, "--size",
				      c->cfg.persist_size[0] ? c->cfg.persist_size : "64M", "--quiet", NULL };
		log_msg(c, LOG_NOTICE, "shutdown: creating the save file %s (%s)", c->cfg.persist_path, init_argv[5]);
		if ((r = run_persist(bin, init_argv)) != 0) {
			log_msg(c, LOG_ERR, "shutdown: unable to create the save file %s (persist exit %d): the changes "
				"are not saved", c->cfg.persist_path, r);
			return -EIO;
		}
	}
	argv[n++] = "persist";
	argv[n++] = "save";
	argv[n++] = "--file";
	argv[n++] = file;
	argv[n++] = "--upper";
	argv[n++] = upper;
	if (stat(lower, &st) == 0 && S_ISREG(st.st_mode)) {
		argv[n++] = "--lower";
		argv[n++] = lower;
	}
	argv[n] = NULL;
	r = run_persist(bin, argv);
	if (r != 0) {
		log_msg(c, LOG_ERR, "shutdown: persist save failed (exit %d, said above): the previous save is kept, "
			"newer changes are not", r);
		return -EIO;
	}
	log_msg(c, LOG_NOTICE, "shutdown: the changes are saved in %s%s%s", c->cfg.persist_dev,
		c->cfg.persist_dev[0] ? ":" : "", c->cfg.persist_path);
	return 0;
}

/* Leaves the save file's filesystem clean: written back, read-only (a FAT's dirty bit cleared). */
static void settle(struct init_ctx *c, const char *dev)
{
	int r;

	sync();
	if (!dev[0])
		return;
	if ((r = c->sys->mount(NULL, dev, NULL, MS_REMOUNT | MS_RDONLY, NULL)) < 0 && r != -EINVAL)
		log_msg(c, LOG_WARN, "shutdown: unable to make the save file's filesystem read-only: %s", strerror(-r));
	(void)c->sys->umount(dev, 0);
	sync();
}

static const struct {
	const char *verb;
	unsigned cmd;
} verbs[] = {
	{ "poweroff", RB_POWER_OFF }, { "reboot", RB_AUTOBOOT }, { "halt", RB_HALT_SYSTEM },
	{ "kexec", LINUX_REBOOT_CMD_KEXEC },
};

int shutdown_main(int argc, char **argv)
{
	struct init_ctx c = { .sys = &sys_real, .kmsg = -1, .rootfd = -1, .sysfd = -1, .devfd = -1 };
	const char *verb = argc > 1 ? argv[1] : "";
	unsigned cmd = RB_POWER_OFF;
	size_t i;

	if (getpid() == 1) {
		/* systemd binds /dev, /proc and /sys into the exit environment; another init may not */
		if (access("/proc/self", F_OK) < 0)
			(void)mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		if (access("/dev/kmsg", F_OK) < 0)
			(void)mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	}
	log_open(&c);
	c.cfg.debug = 1;
	if (getpid() != 1) {
		if (strcmp(verb, "save")) {
			fprintf(stderr, "usage: %s%s save   (as PID 1: %s poweroff|reboot|halt|kexec)\n"
				"Saves the live system's changes into its save file, as the end of a shutdown does.\n",
				EXIT_DIR, EXIT_SHUTDOWN, EXIT_SHUTDOWN);
			return strcmp(verb, "--help") ? 100 : 0;
		}
		char dev[256];
		return save(&c, EXIT_DIR, "", dev, sizeof dev) ? 1 : 0;
	}
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verb, verbs[i].verb))
			cmd = verbs[i].cmd;
	log_msg(&c, LOG_NOTICE, "shutdown: the live system has stopped; saving, then %s", verb[0] ? verb : "poweroff");
	char dev[256];
	(void)save(&c, "", "/oldroot", dev, sizeof dev);
	settle(&c, dev);
	if (cmd == RB_AUTOBOOT)
		log_msg(&c, LOG_NOTICE, "shutdown: rebooting");
	else
		log_msg(&c, LOG_NOTICE, "shutdown: %s", cmd == LINUX_REBOOT_CMD_KEXEC ? "starting the kexec kernel" :
			cmd == RB_HALT_SYSTEM ? "halted" : "powering off");
	(void)reboot(cmd);
	if (cmd == LINUX_REBOOT_CMD_KEXEC)	/* no kernel loaded: reboot, as systemd does */
		(void)reboot(RB_AUTOBOOT);
	for (;;)	/* PID 1 never exits */
		pause();
}
