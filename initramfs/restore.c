/* restore.c: the restore stage: a save file (tools/persist) replayed into the tmpfs upper. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init.h"
#include "io.h"
#include "number.h"
#include "rmtree.h"

#define RESTORE_TMP  UPPER_DIR "/restore"
#define RESTORE_GEN  UPPER_DIR "/restore.gen"   /* the generation restored (restore's --gen-file) */

/* Runs the persist at bin with argv on the console; its exit status, or -errno when it could not run. */
int run_persist(const char *bin, char *const argv[])
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *envp[] = { "PATH=/bin", "PERSIST_ENV=/nonexistent", NULL };
		execve(bin, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 127 ? -ENOENT : WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int persist_on_medium(const struct init_ctx *c)
{
	const char *d = c->cfg.persist_dev;

	return !d[0] || !strcmp(d, c->cfg.media) || device_is(&c->medium_found, d);
}

/*
 * Mounts the save file's device read-write: the boot medium (remounted) or its own device. A FAT
 * is checked (and repaired) first; one beyond repair is mounted read-only, or stays so: *ro is set
 * and ro_why says why.
 */
static int mount_save_device(struct init_ctx *c, char *dir, size_t cap, int *ro, char *ro_why, size_t ro_cap)
{
	struct found_device d;
	int r;

	if (!c->cfg.persist_dev[0] || !strcmp(c->cfg.persist_dev, c->cfg.media)) {
		if (c->medium_is_lower)
			return failx(c, -EROFS, "name the save file's device: live.persist=LABEL=...:/PATH",
				     "keep a save file on %s: it is a squashfs partition", c->medium_dev);
		snprintf(dir, cap, "%s", MEDIUM_DIR);
		if (c->medium_fat_bad[0]) {
			*ro = 1;
			snprintf(ro_why, ro_cap, "the FAT of the medium %s cannot be repaired: %s", c->medium_dev,
				 c->medium_fat_bad);
			return 0;
		}
		if (!c->medium_checked && !strcmp(c->medium.type, "vfat"))
			log_msg(c, LOG_WARN, "the medium %s is written unchecked: live.persist= named it otherwise than "
				"live.media= does, so the check before its mount did not know (name it the same way)",
				c->medium_dev);
		r = c->sys->mount(NULL, MEDIUM_DIR, NULL, MS_REMOUNT, NULL);
		if (r < 0)
			return fail(c, r, "check the medium's write-protect switch, or run fsck on it",
				    "remount the medium %s read-write for the save file", c->medium_dev);
		return 0;
	}
	if ((r = device_find(c, "live.persist", c->cfg.persist_dev, c->cfg.wait, &d)) < 0)
		return r;
	if (!strcmp(d.dev, c->medium_dev)) {   /* the medium, named another way */
		c->cfg.persist_dev[0] = '\0';
		return mount_save_device(c, dir, cap, ro, ro_why, ro_cap);
	}
	if ((r = modules_load_fs(c, d.fs.type)) < 0)
		return r;
	unsigned long flags = 0;
	if (!strcmp(d.fs.type, "vfat")) {
		char why[256];
		if (fat_check(c, d.dev, "the save file's device", why, sizeof why) < 0) {
			*ro = 1;
			flags = MS_RDONLY;
			snprintf(ro_why, ro_cap, "the FAT of %s cannot be repaired: %s", d.dev, why);
		}
	}
	(void)mkdirat(c->rootfd, at_root(PERSIST_DIR), 0755);
	r = c->sys->mount(d.dev, PERSIST_DIR, mount_type(d.fs.type), flags, NULL);
	if (r < 0)
		return fail(c, r, "check the device with fsck", "mount %s (%s) for the save file", d.dev, d.fs.type);
	snprintf(dir, cap, "%s", PERSIST_DIR);
	return 0;
}

/*
 * exFAT: the temporary of a persist init a power cut stopped may hold clusters its allocation
 * bitmap already calls free (the bitmap and the entry set go out in any order within one flush).
 * Left there, those clusters could be handed to another file in this boot, and the next init's
 * unlink would then free them under it. Removed now, before anything else writes to the
 * filesystem, the unlink only frees what nothing else holds; there is no fsck.exfat here.
 */
static void remove_exfat_init_temp(struct init_ctx *c, const char *dir, const char *tmp)
{
	struct statfs fs;
	int fd;

	fd = openat(c->rootfd, at_root(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstatfs(fd, &fs) == 0 && fs.f_type == EXFAT_SUPER_MAGIC && unlinkat(c->rootfd, at_root(tmp), 0) == 0) {
		(void)syncfs(fd);
		log_msg(c, LOG_NOTICE, "removed %s, left by a persist init a power cut stopped, before anything "
			"else wrote to the exFAT", tmp);
	}
	close(fd);
}

/*
 * live.persist: restores the save file into the upper before the overlay exists. A save file that
 * cannot be used (missing device, corrupt, another lower) means a clean boot with a message and
 * the file untouched; only a failure of the initramfs itself stops the boot.
 */
int restore_save_file(struct init_ctx *c)
{
	char dir[64], file[CONFIG_STR + 64], lower[sizeof MEDIUM_DIR + sizeof c->slot_image], at[24], ro_why[400] = "";
	char *argv[16];
	int n = 0, r, ro = 0;

	if (!c->cfg.persist_path[0])
		return 0;
	/* A disk upper keeps the changes itself; a restore would have to replace it. */
	if (c->upper_on_disk) {
		log_msg(c, LOG_WARN, "live.persist=%s%s%s ignored: the upper is the disk live.upper=%s%s, which keeps "
			"the changes itself (use one or the other); the save file is untouched", c->cfg.persist_dev,
			c->cfg.persist_dev[0] ? ":" : "", c->cfg.persist_path,
			c->cfg.upper == UPPER_FILE ? "file:" : "", c->cfg.upper_spec);
		return 0;
	}
	if ((r = mount_save_device(c, dir, sizeof dir, &ro, ro_why, sizeof ro_why)) < 0) {
		report_failure(c, r, LOG_WARN);
		log_msg(c, LOG_WARN, "booting without the saved changes: nothing was read or written");
		return 0;
	}
	snprintf(file, sizeof file, "%s%s", dir, c->cfg.persist_path);
	/* the exit environment keeps it for the save at shutdown, unless it must stay read-only */
	if (ro)
		snprintf(c->persist_ro, sizeof c->persist_ro, "%s", ro_why);
	else
		snprintf(c->persist_dir, sizeof c->persist_dir, "%s", dir);
	/* The live system's persist finds everything here (paths as they are after the switch). */
	snprintf(c->persist_env, sizeof c->persist_env,
		 "PERSIST_FILE=%s\nPERSIST_UPPER=%s/upper\n%s%s%s", file, UPPER_DIR,
		 c->medium_is_lower ? "" : "PERSIST_LOWER=", c->medium_is_lower ? "" : MEDIUM_DIR,
		 c->medium_is_lower ? "" : root_image(c));
	if (!c->medium_is_lower)
		strcat(c->persist_env, "\n");
	if (c->cfg.persist_size[0]) {
		size_t used = strlen(c->persist_env);
		snprintf(c->persist_env + used, sizeof c->persist_env - used, "PERSIST_SIZE=%s\n", c->cfg.persist_size);
	}
	if (ro) {
		/* for the live system's persist; the exit environment does not save (shutdown.c) */
		size_t used = strlen(c->persist_env);
		snprintf(c->persist_env + used, sizeof c->persist_env - used, "PERSIST_READONLY=fat\n");
		log_msg(c, LOG_WARN, "%s: the save file is only read in this boot, nothing is saved at shutdown "
			"(repair the FAT with fsck.fat on another machine)", ro_why);
	}
	/* the temporary of a persist init a cut stopped (persist's PF_INIT_SUFFIX) */
	char tmp[sizeof file + 8];
	snprintf(tmp, sizeof tmp, "%s.init", file);
	if (c->fat_unchecked) {
		/* its chain may run into free clusters, and the next init's unlink of it then turns
		 * the FAT read-only (docs/persist-format.md) */
		if (faccessat(c->rootfd, at_root(tmp), F_OK, 0) == 0)
			log_msg(c, LOG_WARN, "%s is left from a persist init a power cut stopped, and its FAT was not "
				"checked: run fsck.fat -a on that device on another machine, or the next persist init "
				"may find the FAT read-only", tmp);
	}
	if (!ro)
		remove_exfat_init_temp(c, dir, tmp);
	if (faccessat(c->rootfd, at_root(file), F_OK, 0) < 0) {
		log_msg(c, LOG_NOTICE, "no save file %s yet: booting clean (persist init and save create it)",
			file);
		return 0;
	}
	long long try_at = save_try(c);
	if (try_at < 0) {
		c->persist_dir[0] = '\0';	/* the shutdown saves nothing: persist_ro says why */
		return 0;
	}
	/*
	 * The first boot that goes back to the last good generation writes that into the save file
	 * (persist rollback): persist log shows the generations skipped, and the boot after a mark
	 * restores the good state, not again the newest that failed. Without it (a read-only save
	 * device, a full file) the restore below still takes the good generation.
	 */
	if (try_at > 0 && c->slot_rec.save_boots == SLOTREC_SAVE_TRIES + 1 && c->persist_dir[0]) {
		char g[24], nb[8], *rb[] = { "persist", "rollback", "--quiet", "--failed-boots", nb, "--file", file, g, NULL };
		snprintf(g, sizeof g, "%lld", try_at);
		snprintf(nb, sizeof nb, "%d", SLOTREC_SAVE_TRIES);
		if ((r = run_persist(PERSIST_BIN, rb)) != 0)
			log_msg(c, LOG_WARN, "unable to record the rollback to generation %lld in %s (%s %d): this "
				"boot restores it all the same", try_at, file, r < 0 ? "error" : "persist exit", r < 0 ? -r : r);
	}
	if (mkdirat(c->rootfd, at_root(RESTORE_TMP), 0755) < 0)
		return fail(c, -errno, NULL, "create %s", RESTORE_TMP);
	argv[n++] = "persist";
	argv[n++] = "restore";
	argv[n++] = "--file";
	argv[n++] = file;
	argv[n++] = "--into";
	argv[n++] = RESTORE_TMP;
	if (!c->medium_is_lower) {
		snprintf(lower, sizeof lower, "%s%s", MEDIUM_DIR, root_image(c));
		argv[n++] = "--lower";
		argv[n++] = lower;
	}
	if (c->cfg.persist_at >= 0 || try_at > 0) {
		snprintf(at, sizeof at, "%lld", c->cfg.persist_at >= 0 ? (long long)c->cfg.persist_at : try_at);
		argv[n++] = "--at";
		argv[n++] = at;
	}
	argv[n++] = "--gen-file";
	argv[n++] = RESTORE_GEN;
	argv[n] = NULL;
	double t0 = uptime_seconds();
	r = run_persist(PERSIST_BIN, argv);
	if (r != 0) {
		/* A bad save never half-applies: the partial tree goes, the file stays as it is. */
		(void)rmtree_at(c->rootfd, at_root(RESTORE_TMP));
		log_msg(c, LOG_WARN, "unable to restore %s (%s %d): booting clean; the save file is untouched "
			"(persist verify and persist log tell more)", file,
			r < 0 ? "error" : "persist exit", r < 0 ? -r : r);
		return 0;
	}
	/* The restored tree becomes the upper in one rename; upper/ is empty and unused until now. */
	if (unlinkat(c->rootfd, at_root(UPPER_DIR "/upper"), AT_REMOVEDIR) < 0 ||
	    renameat(c->rootfd, at_root(RESTORE_TMP), c->rootfd, at_root(UPPER_DIR "/upper")) < 0)
		return fail(c, -errno, NULL, "put the restored tree in place as %s/upper", UPPER_DIR);
	log_msg(c, LOG_NOTICE, "restored %s in %.3f s", file, uptime_seconds() - t0);
	char gen[24];
	if (read_small_file(c->rootfd, at_root(RESTORE_GEN), gen, sizeof gen) >= 0)
		(void)parse_digits(gen, &(const char *){ NULL }, &c->save_gen);
	(void)unlinkat(c->rootfd, at_root(RESTORE_GEN), 0);
	return 0;
}
