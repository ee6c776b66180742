/* mounts.c: the medium, the squashfs lower, the upper and the overlay, then their move to /run/live. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "io.h"

const char *at_root(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int mkdir_p(int dirfd, const char *path, unsigned mode)
{
	char buf[256];
	size_t len;

	path = at_root(path);
	len = strlen(path);
	if (len >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdirat(dirfd, buf, mode) < 0 && errno != EEXIST)
				return -errno;
			if (!saved)
				return 0;
			*p = saved;
		}
	}
}

/* The kernel's ext4 driver mounts ext2 and ext3 too; other probe types are mount types as they are. */
const char *mount_type(const char *probed)
{
	return strncmp(probed, "ext", 3) ? probed : "ext4";
}

int mount_medium(struct init_ctx *c)
{
	int r;

	if (c->medium_is_lower)
		return 0;
	if ((r = mkdir_p(c->rootfd, MEDIUM_DIR, 0755)) < 0)
		return fail(c, r, NULL, "create %s", MEDIUM_DIR);
	if ((r = modules_load_fs(c, c->medium.type)) < 0)
		return r;
	/*
	 * A FAT the init will write to (a save file or a persistence image file on it) is checked
	 * before its first mount, when nothing holds it: a cut while it was written can leave lost
	 * clusters or a chain the kernel trips over, and it would go read-only under the save.
	 */
	if (!strcmp(c->medium.type, "vfat") &&
	    (c->cfg.upper == UPPER_FILE || (c->cfg.persist_path[0] && persist_on_medium(c)))) {
		c->medium_checked = 1;
		if (fat_check(c, c->medium_dev, "the medium", c->medium_fat_bad, sizeof c->medium_fat_bad) < 0)
			log_msg(c, LOG_WARN, "the medium %s stays read-only: %s (run fsck.fat on another machine)",
				c->medium_dev, c->medium_fat_bad);
	}
	/* Read-write only for a persistence image file on it; read-only if that is all it allows. A
	 * FAT stays read-only even then when the image's clusters are one run (upper.c maps them). */
	r = -EROFS;
	if (c->cfg.upper == UPPER_FILE && !c->medium_fat_bad[0] && strcmp(c->medium.type, "vfat"))
		r = c->sys->mount(c->medium_dev, MEDIUM_DIR, mount_type(c->medium.type), MS_NOATIME, NULL);
	if (r < 0)
		r = c->sys->mount(c->medium_dev, MEDIUM_DIR, mount_type(c->medium.type), MS_RDONLY, NULL);
	if (r < 0)
		return fail(c, r, "check the medium with fsck on another machine, or that the initramfs has the driver for it",
			    "mount the medium %s (%s) on %s", c->medium_dev, c->medium.type, MEDIUM_DIR);
	return 0;
}

int mount_upper(struct init_ctx *c)
{
	char opts[64];
	int r;

	if ((r = mkdir_p(c->rootfd, UPPER_DIR, 0755)) < 0)
		return fail(c, r, NULL, "create %s", UPPER_DIR);
	if (c->cfg.data[0])
		data_mount(c);
	if (c->cfg.upper != UPPER_TMPFS && upper_persistent(c) == 0) {
		c->upper_on_disk = 1;
		return 0;
	}
	snprintf(opts, sizeof opts, "mode=0755,size=%s", c->cfg.size);
	r = c->sys->mount("tmpfs", UPPER_DIR, "tmpfs", MS_NOSUID | MS_NODEV, opts);
	if (r < 0)
		return fail(c, r, "check live.size= (a size such as 512M or 50%)", "mount the tmpfs upper (%s)", opts);
	if (mkdirat(c->rootfd, at_root(UPPER_DIR "/upper"), 0755) < 0 ||
	    mkdirat(c->rootfd, at_root(UPPER_DIR "/work"), 0755) < 0)
		return fail(c, -errno, NULL, "create upper/ and work/ in %s", UPPER_DIR);
	return 0;
}

int mount_overlay(struct init_ctx *c)
{
	char opts[sizeof c->lowerdir + 128];
	int r;

	snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", c->lowerdir,
		 UPPER_DIR, UPPER_DIR);
	if ((r = mkdir_p(c->rootfd, NEWROOT, 0755)) < 0)
		return fail(c, r, NULL, "create %s", NEWROOT);
	r = c->sys->mount("overlay", NEWROOT, "overlay", 0, opts);
	if (r < 0)
		return fail(c, r, "check that the overlay module is in the initramfs (dmesg shows the kernel's reason)",
			    "mount the overlay (%s)", opts);
	return 0;
}

/* Moves one mount into the new root, creating its mount point there. */
static int move(struct init_ctx *c, const char *from, const char *to)
{
	int r = mkdir_p(c->rootfd, to, 0755);

	if (r < 0)
		return fail(c, r, NULL, "create %s", to);
	r = c->sys->mount(from, to, NULL, MS_MOVE, NULL);
	if (r < 0)
		return fail(c, r, NULL, "move the mount %s to %s", from, to);
	return 0;
}

int move_mounts(struct init_ctx *c)
{
	/* Everything the init mounted under /run/live, in an order where no move hides another. */
	static const char *const lives[] = { MEDIUM_DIR, ISO_DIR, RAM_DIR, LOWER_DIR, LAYERS_DIR,
					     UPPER_DIR, PERSIST_DIR, DATA_DIR };
	static const char *const apis[] = { "/dev", "/proc", "/sys" };
	struct stat live, st;
	char to[128];
	int r;

	/* /run of the live system is a fresh tmpfs that carries the live mounts, as systemd expects. */
	if ((r = mkdir_p(c->rootfd, NEWROOT "/run", 0755)) < 0)
		return fail(c, r, NULL, "create %s/run", NEWROOT);
	r = c->sys->mount("tmpfs", NEWROOT "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=20%");
	if (r < 0)
		return fail(c, r, NULL, "mount a tmpfs on %s/run", NEWROOT);
	if (fstatat(c->rootfd, at_root(LIVE_DIR), &live, 0) < 0)
		return fail(c, -errno, NULL, "stat %s", LIVE_DIR);
	for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
		/* a mount point is on another device than /run/live itself */
		if (fstatat(c->rootfd, at_root(lives[i]), &st, 0) < 0 || st.st_dev == live.st_dev)
			continue;
		snprintf(to, sizeof to, "%s%s", NEWROOT, lives[i]);
		if ((r = move(c, lives[i], to)) < 0)
			return r;
	}
	if (c->persist_env[0]) {
		int fd = openat(c->rootfd, at_root(NEWROOT LIVE_DIR "/persist.env"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write_all(fd, c->persist_env, strlen(c->persist_env)) < 0)
			log_msg(c, LOG_WARN, "unable to write %s/persist.env: persist save will need --file and --upper",
				LIVE_DIR);
		if (fd >= 0)
			close(fd);
	}
	slot_write_run(c);
	for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++) {
		snprintf(to, sizeof to, "%s%s", NEWROOT, apis[i]);
		if ((r = move(c, apis[i], to)) < 0)
			return r;
	}
	return 0;
}
