/*
 * slot.c: which root image slot boots (docs/updates.md). The slot record beside live.root names
 * the good slot and a pending one with its tries; a pending slot's try is counted down on the
 * medium, durably, before the slot is used; a slot whose tries ran out gives way to the good one.
 * Why is said on the console and kept for /run/live/update.log; /run/live/slot tells the live
 * system (overlive-update --mark-good, from the root image) which slot it runs. The same record
 * counts the boots that restore the save file since one was marked good (save_try): the last
 * good generation, then a clean boot, when they do not reach the system's goal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "init.h"
#include "io.h"
#include "slotio.h"

/* Says a line at level and keeps it for update.log. */
static void note(struct init_ctx *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct init_ctx *c, int level, const char *fmt, ...)
{
	char line[400];
	va_list ap;
	size_t used = strlen(c->slot_log);

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_msg(c, level, "%s", line);
	if (used < sizeof c->slot_log)
		snprintf(c->slot_log + used, sizeof c->slot_log - used, "%s\n", line);
}

/* Whether the slot's file holds a squashfs (the prober's answer). */
static int holds_squashfs(int dfd, const char *name)
{
	struct probe_result pr;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return 0;
	r = probe_fd(fd, &pr);
	close(fd);
	return r == 0 && !strcmp(pr.type, "squashfs");
}

int slot_choose(struct init_ctx *c, const char *dir, const char *base_a, char *base, size_t cap)
{
	char name[2][128], what[96];
	struct slotrec r = { 0 }, n;
	const char *why = NULL;
	int newest = 0, dfd, e, boot = SLOT_A;

	if (slot_file_name(base_a, SLOT_A, name[0], sizeof name[0]) < 0 ||
	    slot_file_name(base_a, SLOT_B, name[1], sizeof name[1]) < 0)
		return failx(c, -ENAMETOOLONG, "use a shorter live.root", "name the slots of %s: too long", base_a);
	c->slot_active = 1;
	dfd = openat(c->rootfd, at_root(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e = dfd < 0 ? -errno : slotio_load(dfd, SLOTREC_FILE, &r, &newest, &why);
	c->slot_record = e == 0;
	c->slot_file = dfd >= 0 && faccessat(dfd, SLOTREC_FILE, F_OK, 0) == 0;
	snprintf(c->slot_dir, sizeof c->slot_dir, "%s", dir);
	c->slot_rec = r;
	c->slot_newest = newest;
	if (c->cfg.slot >= 0) {
		boot = c->cfg.slot;
		note(c, LOG_NOTICE, "live.slot=%c: booting slot %c (%s); the slot record is left as it is",
		     slot_letter(boot), slot_letter(boot), name[boot]);
	} else if (e == -ENOENT) {
		/* no record: the medium boots as it always did */
	} else if (e == -EBADMSG) {
		note(c, LOG_WARN, "the slot record %s/%s is damaged (%s): booting slot A (%s); "
		     "overlive-update --status in the live system says more", dir, SLOTREC_FILE, why, name[0]);
	} else if (e < 0) {
		note(c, LOG_WARN, "unable to read the slot record %s/%s: %s: booting slot A (%s)", dir, SLOTREC_FILE,
		     strerror(-e), name[0]);
	} else {
		slotrec_describe(&r, what, sizeof what);
		boot = r.good;
		if (r.pending != SLOT_NONE && r.tries > 0 && !holds_squashfs(dfd, name[r.pending])) {
			note(c, LOG_WARN, "slot %c (%s) is pending but holds no squashfs: booting the good slot %c (%s)",
			     slot_letter(r.pending), name[r.pending], slot_letter(r.good), name[r.good]);
		} else if (r.pending != SLOT_NONE && r.tries > 0) {
			n = r;
			n.gen++;
			n.tries--;
			/* the try is counted on the medium before the slot is used: a boot that hangs or
			 * resets from here on has used it */
			if ((e = slotio_store(dfd, SLOTREC_FILE, c->medium_dev, &n, 1 - newest)) < 0) {
				note(c, LOG_WARN, "unable to count down the tries of slot %c on %s (%s): booting the good "
				     "slot %c (%s); %c stays pending", slot_letter(r.pending), c->medium_dev,
				     strerror(-e), slot_letter(r.good), name[r.good], slot_letter(r.pending));
			} else {
				boot = r.pending;
				c->slot_trying = 1;
				c->slot_rec = n;
				c->slot_newest = 1 - newest;
				note(c, LOG_NOTICE, "slot %c (%s) is pending: trying it, %u %s left after this boot; "
				     "overlive-update --mark-good in the live system makes it the good slot",
				     slot_letter(boot), name[boot], n.tries, n.tries == 1 ? "try" : "tries");
			}
		} else if (r.pending != SLOT_NONE) {
			note(c, LOG_WARN, "slot %c (%s) used all its tries without being marked good (its system did not "
			     "reach its goal): back on the good slot %c (%s)", slot_letter(r.pending), name[r.pending],
			     slot_letter(r.good), name[r.good]);
		} else {
			note(c, LOG_INFO, "slot %c (%s) is the good slot (%s)", slot_letter(boot), name[boot], what);
		}
	}
	if (dfd >= 0)
		close(dfd);
	c->slot_booted = boot;
	snprintf(c->slot_other, sizeof c->slot_other, "%s", name[1 - boot]);
	/* the save file's lower is the image booted (restore.c): a save over A is not B's */
	const char *slash = strrchr(c->cfg.root, '/');
	snprintf(c->slot_image, sizeof c->slot_image, "%.*s/%s", (int)(slash - c->cfg.root), c->cfg.root, name[boot]);
	snprintf(base, cap, "%s", name[boot]);
	return 0;
}

long long save_try(struct init_ctx *c)
{
	struct slotrec n;
	int dfd, e;

	/* a boot that tries a slot is counted as the slot's; live.slot= and live.persist.at= choose */
	if (!c->slot_active || !c->slot_file || c->slot_trying || c->cfg.slot >= 0 || c->cfg.persist_at >= 0)
		return 0;
	c->save_mark = 1;
	if (!c->slot_record || !c->slot_rec.save_good)
		return 0;	/* counted once a boot with this save file has been marked good */
	n = c->slot_rec;
	n.gen++;
	n.save_boots += n.save_boots < 255;
	/* counted on the medium before the restore: a boot that hangs from here on has used it */
	dfd = openat(c->rootfd, at_root(c->slot_dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e = dfd < 0 ? -errno : slotio_store(dfd, SLOTREC_FILE, c->medium_dev[0] ? c->medium_dev : NULL, &n,
					       1 - c->slot_newest);
	if (dfd >= 0)
		close(dfd);
	if (e < 0) {
		note(c, LOG_WARN, "unable to count this boot of the save file in %s/%s on %s (%s): restoring its "
		     "newest generation, uncounted", c->slot_dir, SLOTREC_FILE, c->medium_dev, strerror(-e));
		return 0;
	}
	c->slot_rec = n;
	c->slot_newest = 1 - c->slot_newest;
	if (n.save_boots <= SLOTREC_SAVE_TRIES) {
		if (n.save_boots > 1)
			note(c, LOG_NOTICE, "the save file: boot %u of %u since one was marked good (generation %llu): "
			     "restoring its newest generation", n.save_boots, SLOTREC_SAVE_TRIES,
			     (unsigned long long)n.save_good);
		return 0;
	}
	if (n.save_boots <= SLOTREC_SAVE_GIVEUP) {
		note(c, LOG_WARN, "the save file's newest generation did not reach the system's goal in %u boots (no "
		     "overlive-update --mark-good): restoring generation %llu, the last one a boot marked good; the "
		     "newer ones stay in the save file (persist log shows them, then the rollback the first such "
		     "boot records; persist rollback GEN makes one the newest again)",
		     SLOTREC_SAVE_TRIES, (unsigned long long)n.save_good);
		return (long long)n.save_good;
	}
	snprintf(c->persist_ro, sizeof c->persist_ro, "neither the save file's newest generation nor generation %llu "
		 "(the last marked good) reached the system's goal in %u boots each", (unsigned long long)n.save_good,
		 SLOTREC_SAVE_TRIES);
	note(c, LOG_WARN, "%s: booting clean, the save file only read in this boot (nothing is saved at shutdown); "
	     "after a boot marked good the newest is tried again", c->persist_ro);
	return -1;
}

/* After /run of the new root is mounted: /run/live/slot, update.log, the mark-good unit. */
void slot_write_run(struct init_ctx *c)
{
	char line[CONFIG_STR + 160];
	int r;

	if (!c->slot_active)
		return;
	snprintf(line, sizeof line, "slot=%c root=%s dev=%s record=%s trying=%s save=%llu mark=%s\n",
		 slot_letter(c->slot_booted), c->cfg.root, c->medium_dev, c->slot_record ? "yes" : "no",
		 c->slot_trying ? "yes" : "no", (unsigned long long)c->save_gen,
		 c->slot_trying || c->save_mark ? "yes" : "no");
	if ((r = write_text(NEWROOT SLOT_RUN_FILE, line)) < 0)
		log_msg(c, LOG_WARN, "unable to write %s (%s): overlive-update --mark-good will not know this boot's slot",
			SLOT_RUN_FILE, strerror(-r));
	if (c->slot_log[0] && (r = write_text(NEWROOT SLOT_RUN_LOG, c->slot_log)) < 0)
		log_msg(c, LOG_WARN, "unable to write %s: %s", SLOT_RUN_LOG, strerror(-r));
	if (!c->slot_trying && !c->save_mark)
		return;
	/* systemd: the try (of a slot, or of the save's restored generation) is good once the
	 * default target is reached (the busybox recipes' rc runs the same command at its end);
	 * units in /run/systemd/system need nothing in the root. DefaultDependencies=no: else the
	 * target that wants it is ordered after it, and it after the default target, a cycle that
	 * systemd breaks by not starting it (seen under Debian's systemd 252) */
	if ((r = mkdir_p(c->rootfd, NEWROOT "/run/systemd/system/multi-user.target.wants", 0755)) < 0 ||
	    (r = write_text(NEWROOT "/run/systemd/system/" MARK_GOOD_UNIT ".service",
			    "# written by overlive's init at boot: this boot tries a root image slot or a save\n"
			    "[Unit]\n"
			    "Description=Mark this boot good: its root image slot and save (overlive-update --mark-good)\n"
			    "Documentation=file:" SLOT_RUN_LOG "\n"
			    "DefaultDependencies=no\n"
			    "After=default.target\n"
			    "Conflicts=shutdown.target\n"
			    "Before=shutdown.target\n"
			    "ConditionPathExists=" SLOT_RUN_FILE "\n"
			    "\n[Service]\n"
			    "Type=oneshot\n"
			    "ExecStart=overlive-update --mark-good\n")) < 0 ||
	    (symlink("../" MARK_GOOD_UNIT ".service",
		     NEWROOT "/run/systemd/system/multi-user.target.wants/" MARK_GOOD_UNIT ".service") < 0 &&
	     (r = -errno) != -EEXIST))
		log_msg(c, LOG_WARN, "unable to write the systemd unit %s (%s): run overlive-update --mark-good "
			"once this system works", MARK_GOOD_UNIT, strerror(-r));
}
