/*
 * exitenv.c: the boot side of the last save: before the switch, the init leaves itself (as
 * /run/initramfs/shutdown) and persist in the new root's /run/initramfs, with bind mounts of the
 * upper and of the save file's filesystem there, which a distribution's shutdown does not unmount
 * (systemd only remounts what is below /run/initramfs read-only). It also gives the live system
 * /run/live/bin/persist and, for systemd, the save service and its timer in /run/systemd/system.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "io.h"

/* Copies the file from into to (mode), through a temporary name. */
static int copy_file(const char *from, const char *to, unsigned mode)
{
	char buf[65536], tmp[256];
	int in, out, r = 0;
	ssize_t n;

	snprintf(tmp, sizeof tmp, "%s.tmp", to);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while (!r && (n = read(in, buf, sizeof buf)) != 0)
		r = n < 0 ? -errno : write_all(out, buf, (size_t)n);
	close(in);
	if (close(out) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, to) < 0)
		r = -errno;
	if (r)
		(void)unlink(tmp);
	return r;
}

/*
 * systemd: "systemctl start overlive-save" saves now; the timer (live.persist.autosave=) every
 * interval. Units in /run/systemd/system need nothing installed in the root.
 */
static int write_units(struct init_ctx *c)
{
	char timer[512];
	int r;

	if ((r = mkdir_p(c->rootfd, NEWROOT "/run/systemd/system", 0755)) < 0)
		return r;
	r = write_text(NEWROOT "/run/systemd/system/" SAVE_UNIT ".service",
		       "# written by overlive's init at boot: saves the changes into the save file (live.persist=)\n"
		       "[Unit]\n"
		       "Description=Save the live system's changes (overlive persist save)\n"
		       "Documentation=file:" LIVE_DIR "/persist.env\n"
		       "ConditionPathExists=" LIVE_DIR "/persist.env\n"
		       "DefaultDependencies=no\n"
		       "Conflicts=shutdown.target\n"
		       "\n[Service]\n"
		       "Type=oneshot\n"
		       "ExecStart=" LIVE_PERSIST " save --skip-busy\n");
	if (r || !c->cfg.autosave)
		return r;
	snprintf(timer, sizeof timer,
		 "# written by overlive's init at boot: live.persist.autosave=%us\n"
		 "[Unit]\n"
		 "Description=Save the live system's changes every %u s (overlive)\n"
		 "\n[Timer]\n"
		 "OnBootSec=%us\n"
		 "OnUnitInactiveSec=%us\n"
		 "AccuracySec=1s\n", c->cfg.autosave, c->cfg.autosave, c->cfg.autosave, c->cfg.autosave);
	if ((r = write_text(NEWROOT "/run/systemd/system/" SAVE_UNIT ".timer", timer)) < 0)
		return r;
	if ((r = mkdir_p(c->rootfd, NEWROOT "/run/systemd/system/timers.target.wants", 0755)) < 0)
		return r;
	(void)unlink(NEWROOT "/run/systemd/system/timers.target.wants/" SAVE_UNIT ".timer");
	return symlink("../" SAVE_UNIT ".timer", NEWROOT "/run/systemd/system/timers.target.wants/" SAVE_UNIT ".timer") < 0
		       ? -errno : 0;
}

int exitenv_prepare(struct init_ctx *c)
{
	static const char *const dirs[] = { "", "/bin", EXIT_UPPER, EXIT_SAVEDEV, "/oldroot", "/dev", "/proc",
					    "/sys", "/run" };
	char path[256], autosave[32];
	int r;

	if (!c->persist_dir[0] && !c->persist_ro[0])
		return 0;	/* no save file: nothing to save at the end */
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, sizeof path, "%s%s%s", NEWROOT, EXIT_DIR, dirs[i]);
		if ((r = mkdir_p(c->rootfd, path, 0755)) < 0)
			return fail(c, r, NULL, "create %s", path);
	}
	if ((r = copy_file("/init", NEWROOT EXIT_DIR EXIT_SHUTDOWN, 0755)) < 0)
		return fail(c, r, NULL, "copy the init into %s (the save at shutdown)", EXIT_DIR);
	/* persist is the init's program by another name (initramfs/main.c): one copy, two names */
	(void)unlink(NEWROOT EXIT_DIR EXIT_PERSIST);
	if (link(NEWROOT EXIT_DIR EXIT_SHUTDOWN, NEWROOT EXIT_DIR EXIT_PERSIST) < 0)
		return fail(c, -errno, NULL, "link %s%s to %s%s (persist, for the save at shutdown)", EXIT_DIR,
			    EXIT_PERSIST, EXIT_DIR, EXIT_SHUTDOWN);
	/* the live system's persist is the same file (one tmpfs: a link costs nothing) */
	if ((r = mkdir_p(c->rootfd, NEWROOT LIVE_DIR "/bin", 0755)) < 0 ||
	    (link(NEWROOT EXIT_DIR EXIT_PERSIST, NEWROOT LIVE_PERSIST) < 0 && errno != EEXIST))
		log_msg(c, LOG_WARN, "unable to make %s: save with %s%s instead", LIVE_PERSIST, EXIT_DIR, EXIT_PERSIST);
	if (c->persist_ro[0]) {
		/* the save file must stay as it is: the shutdown says why and saves nothing */
		if ((r = write_text(NEWROOT EXIT_DIR EXIT_NOSAVE, c->persist_ro)) < 0)
			return fail(c, r, NULL, "write %s%s", EXIT_DIR, EXIT_NOSAVE);
		return 0;
	}
	/* what the last save needs, where the shutdown leaves it mounted */
	snprintf(path, sizeof path, "%s%s", NEWROOT, c->persist_dir);
	if ((r = c->sys->mount(NEWROOT UPPER_DIR, NEWROOT EXIT_DIR EXIT_UPPER, NULL, MS_BIND, NULL)) < 0 ||
	    (r = c->sys->mount(path, NEWROOT EXIT_DIR EXIT_SAVEDEV, NULL, MS_BIND, NULL)) < 0)
		return fail(c, r, NULL, "keep the upper and the save file's filesystem under %s", EXIT_DIR);
	if ((r = write_units(c)) < 0)
		log_msg(c, LOG_WARN, "unable to write the systemd units for saving (%s): save with %s save",
			strerror(-r), LIVE_PERSIST);
	snprintf(autosave, sizeof autosave, "%u\n", c->cfg.autosave);
	if ((r = write_text(NEWROOT LIVE_DIR "/autosave", autosave)) < 0)
		log_msg(c, LOG_WARN, "unable to write %s/autosave: %s", LIVE_DIR, strerror(-r));
	log_msg(c, LOG_INFO, "the save at shutdown is ready: %s%s, %s save saves now%s", EXIT_DIR, EXIT_SHUTDOWN,
		LIVE_PERSIST, c->cfg.autosave ? ", autosave on" : "");
	return 0;
}
