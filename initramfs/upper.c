/* upper.c: a persistent upper (an ext4 partition, or an ext4 image file on the medium); live.data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init.h"

#define DEVICE_WAIT 5           /* seconds for a disk upper or live.data: usually on the medium's disk */
#define PERSIST_LABEL "persistence"

/* The formatters we may find in the initramfs, best first; busybox's makes ext2 (no journal). */
static const char *const formatters[][6] = {
	{ "/sbin/mkfs.ext4", "-q", "-F", "-L", PERSIST_LABEL, NULL },
	{ "/bin/busybox", "mke2fs", "-L", PERSIST_LABEL, NULL, NULL },
};

/* Runs the first formatter present on dev; 0 or -errno. */
static int format_ext(const char *dev)
{
	for (size_t i = 0; i < sizeof formatters / sizeof formatters[0]; i++) {
		const char *argv[8];
		int n = 0, st;

		if (access(formatters[i][0], X_OK) < 0)
			continue;
		while (n < 6 && formatters[i][n])
			argv[n] = formatters[i][n], n++;
		argv[n++] = dev;
		argv[n] = NULL;
		pid_t pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0)
				dup2(null, 1);
			execv(argv[0], (char *const *)argv);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0)
			return -errno;
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
	}
	return -ENOENT;
}

/* Says why persistence is not used; the caller falls back to a tmpfs. Returns -ENOENT. */
static int not_used(struct init_ctx *c, const char *why)
{
	log_msg(c, LOG_WARN, "persistence live.upper=%s%s not used: %s", c->cfg.upper == UPPER_FILE ? "file:" : "",
		c->cfg.upper_spec, why);
	log_msg(c, LOG_WARN, "using a tmpfs upper instead: changes made in this boot will be lost at shutdown");
	return -ENOENT;
}

/*
 * Checks what dev (or the image file behind it) holds. An ext2/3/4 file system is used as it is;
 * an empty target is formatted only with live.upper.create; anything else is never touched.
 */
static int check_or_create(struct init_ctx *c, const char *dev, int fd, const char *what, char *why, size_t cap)
{
	struct probe_result pr;
	int r = probe_fd(fd, &pr);

	if (r == 0 && !strncmp(pr.type, "ext", 3))
		return 0;
	if (r == 0) {
		snprintf(why, cap, "%s holds a %s file system, not ext4 (left as it is)", what, pr.type);
		return -EMEDIUMTYPE;
	}
	if (r != -ENOENT) {
		snprintf(why, cap, "unable to read %s: %s", what, strerror(-r));
		return r;
	}
	if (!c->cfg.upper_create) {
		snprintf(why, cap, "%s has no file system; add live.upper.create to format it", what);
		return -ENOENT;
	}
	log_msg(c, LOG_NOTICE, "live.upper.create: formatting %s (%s) as ext", what, dev);
	if ((r = format_ext(dev)) < 0) {
		snprintf(why, cap, "unable to format %s: %s", what,
			 r == -ENOENT ? "no mkfs.ext4 or busybox in the initramfs" : strerror(-r));
		return r;
	}
	return 0;
}

/* upper/ and work/ on a fresh file system; the work dir is the overlay's and must be empty or reusable. */
static int make_dirs(int rootfd, char *why, size_t cap)
{
	static const char *const dirs[] = { UPPER_DIR "/upper", UPPER_DIR "/work" };

	for (size_t i = 0; i < 2; i++)
		if (mkdirat(rootfd, at_root(dirs[i]), 0755) < 0 && errno != EEXIST) {
			int e = errno;
			snprintf(why, cap, "unable to create %s: %s", dirs[i], strerror(e));
			return -e;
		}
	return 0;
}

static int from_partition(struct init_ctx *c, char *why, size_t cap)
{
	struct found_device d;
	int r, fd;

	memset(&d, 0, sizeof d);
	r = device_find(c, "live.upper", c->cfg.upper_spec, DEVICE_WAIT, &d);
	if (r == -ENODEV) {
		snprintf(why, cap, "no such device within %d s (the devices seen are listed above)", DEVICE_WAIT);
		return r;
	}
	if (r < 0 && !(r == -ENOENT && d.dev[0])) {     /* -ENOENT: found, no file system yet */
		snprintf(why, cap, "%s%s%s", d.dev[0] ? d.dev : "", d.dev[0] ? ": " : "", strerror(-r));
		return r;
	}
	if (!strcmp(d.dev, c->medium_dev)) {
		snprintf(why, cap, "%s is the live medium itself", d.dev);
		return -EBUSY;
	}
	fd = openat(c->devfd, d.dev + strlen("/dev/"), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, cap, "unable to open %s: %s", d.dev, strerror(-r));
		return r;
	}
	r = check_or_create(c, d.dev, fd, d.dev, why, cap);
	close(fd);
	if (r < 0)
		return r;
	if ((r = modules_load_fs(c, "ext4")) < 0) {
		snprintf(why, cap, "unable to load the ext4 driver: %s", strerror(-r));
		return r;
	}
	r = c->sys->mount(d.dev, UPPER_DIR, "ext4", MS_NOATIME, NULL);
	if (r < 0) {
		snprintf(why, cap, "unable to mount %s as ext4: %s (check it with e2fsck on another machine)",
			 d.dev, strerror(-r));
		return r;
	}
	log_msg(c, LOG_INFO, "upper: %s (label '%s')", d.dev, d.fs.label);
	return 0;
}

/*
 * The image's own loop device. On a FAT whose copy of the image is one run of clusters the loop
 * covers that byte range of the medium's device, and the FAT stays mounted read-only: in-place
 * writes need no FAT metadata, so it is never dirty (clean at every stop, nothing to repair after
 * a cut). Otherwise the medium is remounted read-write and the loop goes through the file.
 */
static int attach_image(struct init_ctx *c, const char *path, char *loop, size_t lcap, int *loopfd,
			char *why, size_t cap)
{
	struct stat st;
	uint64_t off;
	int r, fd, dev;

	fd = openat(c->rootfd, at_root(path), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, cap, "unable to open %s on the medium %s for writing: %s", c->cfg.upper_spec,
			 c->medium_dev, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, cap, "%s is not a regular file", c->cfg.upper_spec);
		return -EINVAL;
	}
	if (!strcmp(c->medium.type, "vfat")) {
		dev = openat(c->devfd, c->medium_dev + strlen("/dev/"), O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			r = -errno;
			close(fd);
			snprintf(why, cap, "unable to open the medium %s for writing: %s", c->medium_dev, strerror(-r));
			return r;
		}
		r = fat_file_extent(dev, fd, &off);
		if (r == 0)
			r = loop_attach_range(c, dev, off, (uint64_t)st.st_size, loop, lcap, loopfd);
		close(dev);
		if (r == 0) {
			close(fd);
			log_msg(c, LOG_INFO, "upper: %s is one run of clusters at byte %llu of %s: written there, "
				"the FAT stays read-only", c->cfg.upper_spec, (unsigned long long)off, c->medium_dev);
			return 0;
		}
		log_msg(c, LOG_NOTICE, "%s is not written through its clusters on %s (%s): the medium is mounted read-write "
			"for it, and its FAT is clean only after a clean stop (copy the image anew to make it one run)",
			c->cfg.upper_spec, c->medium_dev, r == -EXDEV ? "fragmented, or a FAT12" : strerror(-r));
		r = c->sys->mount(NULL, MEDIUM_DIR, NULL, MS_REMOUNT | MS_NOATIME, NULL);
		if (r < 0) {
			close(fd);
			snprintf(why, cap, "unable to remount the medium %s read-write: %s", c->medium_dev, strerror(-r));
			return r;
		}
	}
	close(fd);
	fd = openat(c->rootfd, at_root(path), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, cap, "unable to open %s on the medium %s for writing: %s", c->cfg.upper_spec,
			 c->medium_dev, strerror(-r));
		return r;
	}
	r = loop_attach_rw(c, fd, loop, lcap, loopfd);
	close(fd);
	if (r < 0)
		snprintf(why, cap, "unable to attach %s to a loop device: %s", c->cfg.upper_spec, strerror(-r));
	return r;
}

static int from_file(struct init_ctx *c, char *why, size_t cap)
{
	char path[CONFIG_STR + sizeof MEDIUM_DIR], loop[32];
	int r, loopfd = -1;

	if (c->medium_is_lower) {
		snprintf(why, cap, "the medium is a squashfs partition, it holds no files");
		return -EINVAL;
	}
	if (c->medium_fat_bad[0]) {
		snprintf(why, cap, "the FAT of the medium %s cannot be repaired (%s): the image on it is not written",
			 c->medium_dev, c->medium_fat_bad);
		return -EUCLEAN;
	}
	snprintf(path, sizeof path, "%s%s", MEDIUM_DIR, c->cfg.upper_spec);
	if ((r = attach_image(c, path, loop, sizeof loop, &loopfd, why, cap)) < 0)
		return r;
	r = check_or_create(c, loop, loopfd, c->cfg.upper_spec, why, cap);
	if (r == 0 && (r = modules_load_fs(c, "ext4")) < 0)
		snprintf(why, cap, "unable to load the ext4 driver: %s", strerror(-r));
	if (r == 0) {
		r = c->sys->mount(loop, UPPER_DIR, "ext4", MS_NOATIME, NULL);
		if (r < 0)
			snprintf(why, cap, "unable to mount %s as ext4: %s (check it with e2fsck on another machine)",
				 c->cfg.upper_spec, strerror(-r));
	}
	close(loopfd);          /* autoclear: from now on the mount holds the loop device, or nobody */
	if (r < 0)
		return r;
	log_msg(c, LOG_INFO, "upper: %s on %s through %s", c->cfg.upper_spec, c->medium_dev, loop);
	return 0;
}

int upper_persistent(struct init_ctx *c)
{
	char why[640] = "";
	int r;

	r = c->cfg.upper == UPPER_FILE ? from_file(c, why, sizeof why) : from_partition(c, why, sizeof why);
	if (r == 0 && (r = make_dirs(c->rootfd, why, sizeof why)) < 0)
		(void)c->sys->umount(UPPER_DIR, 0);
	if (r < 0) {
		/* The medium was mounted read-write only for the image file: back to read-only. */
		if (c->cfg.upper == UPPER_FILE && !c->medium_is_lower)
			(void)c->sys->mount(NULL, MEDIUM_DIR, NULL, MS_REMOUNT | MS_RDONLY, NULL);
		return not_used(c, why);
	}
	return 0;
}

void data_mount(struct init_ctx *c)
{
	struct found_device d;
	int r;

	memset(&d, 0, sizeof d);
	r = device_find(c, "live.data", c->cfg.data, DEVICE_WAIT, &d);
	if (r == 0 && strncmp(d.fs.type, "ext", 3))
		r = -EMEDIUMTYPE;
	if (r == 0 && !strcmp(d.dev, c->medium_dev))
		r = -EBUSY;
	if (r == 0)
		r = modules_load_fs(c, "ext4");
	if (r == 0 && (mkdirat(c->rootfd, at_root(DATA_DIR), 0755) == 0 || errno == EEXIST))
		r = c->sys->mount(d.dev, DATA_DIR, "ext4", MS_NOATIME | MS_NOSUID | MS_NODEV, NULL);
	if (r < 0) {
		log_msg(c, LOG_WARN, "live.data=%s not mounted: %s%s%s", c->cfg.data, d.dev[0] ? d.dev : "not found",
			d.dev[0] ? ": " : "", r == -EMEDIUMTYPE ? "not ext4" : r == -EBUSY ? "it is the medium" : strerror(-r));
		return;
	}
	log_msg(c, LOG_INFO, "data: %s on %s", d.dev, DATA_DIR);
}
