/*
 * stagetest.h: what the stage tests share: a fake tree in a temporary directory (root/ for the
 * init's paths, sys/class/block and dev/ for the block devices), superblocks written as bytes,
 * a recording seam whose mount, umount and ioctls record the calls and return what the test says,
 * and the init's log read back from a memfd.
 */
#ifndef OVERLIVE_STAGETEST_H
#define OVERLIVE_STAGETEST_H
/* not every test uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "tap.h"

/* ---- the fake tree ---- */

struct tree {
	char dir[256];
	int top, root, sys, dev;
};

static int mkdirs_at(int dirfd, const char *path)
{
	char buf[512];

	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || !*p) {
			char saved = *p;
			*p = '\0';
			if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = saved;
			if (!saved)
				return 0;
		}
	}
}

/* Writes len bytes of data at path below dirfd, creating its directory; 0 or -errno. */
static int put_file(int dirfd, const char *path, const void *data, size_t len)
{
	char parent[512], *slash;
	int fd, r = 0;

	snprintf(parent, sizeof parent, "%s", path);
	if ((slash = strrchr(parent, '/'))) {
		*slash = '\0';
		if ((r = mkdirs_at(dirfd, parent)) < 0)
			return r;
	}
	fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	close(fd);
	return r;
}

static int put_str(int dirfd, const char *path, const char *s)
{
	return put_file(dirfd, path, s, strlen(s));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int tree_make(struct tree *t, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(t->dir, sizeof t->dir, "%s/overlive-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(t->dir))
		return -errno;
	t->top = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->top < 0 || mkdirs_at(t->top, "root/proc") || mkdirs_at(t->top, "sys/class/block") ||
	    mkdirs_at(t->top, "dev"))
		return -EIO;
	t->root = openat(t->top, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->sys = openat(t->top, "sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->dev = openat(t->top, "dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* loop devices: plain files the fake LOOP_CONFIGURE fills from their backing file */
	put_str(t->dev, "loop-control", "");
	for (int i = 0; i < 8; i++) {
		char name[16];
		snprintf(name, sizeof name, "loop%d", i);
		put_str(t->dev, name, "");
	}
	return t->root < 0 || t->sys < 0 || t->dev < 0 ? -EIO : 0;
}

static void tree_free(struct tree *t)
{
	close(t->root), close(t->sys), close(t->dev), close(t->top);
	(void)nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int truncate_at(int dirfd, const char *path, unsigned long long len)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if ((unsigned long long)lseek(fd, 0, SEEK_END) < len && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A block device as sysfs and devtmpfs show it: class/block/NAME/{uevent,size} and dev/NAME with
 * content (len bytes, padded with zeros to sectors * 512; sectors 0: no medium, no node). */
static int add_device_at(int sysdir, int devdir, const char *name, const char *partname,
			 unsigned long long sectors, const void *content, size_t len)
{
	char path[128], text[256];
	int r;

	/* the init runs helpers (mkfs, fsck.fat) on /dev/NAME: a fake must be no device of this machine */
	snprintf(path, sizeof path, "/dev/%s", name);
	if (access(path, F_OK) == 0) {
		printf("Bail out! %s exists on this machine: a fake device must not have its name\n", path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/uevent", name);
	snprintf(text, sizeof text, "MAJOR=254\nMINOR=0\nDEVNAME=%s\nDEVTYPE=%s\n%s%s%s", name,
		 partname ? "partition" : "disk", partname ? "PARTNAME=" : "", partname ? partname : "",
		 partname ? "\n" : "");
	if ((r = put_str(sysdir, path, text)) < 0)
		return r;
	snprintf(path, sizeof path, "%s/size", name);
	snprintf(text, sizeof text, "%llu\n", sectors);
	if ((r = put_str(sysdir, path, text)) < 0)
		return r;
	if (!sectors)
		return 0;
	if ((r = put_file(devdir, name, content, len)) < 0)
		return r;
	return truncate_at(devdir, name, sectors * 512);
}

static int add_device(struct tree *t, const char *name, const char *partname, unsigned long long sectors,
		      const void *content, size_t len)
{
	int sysdir = openat(t->sys, "class/block", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = add_device_at(sysdir, t->dev, name, partname, sectors, content, len);

	close(sysdir);
	return r;
}

/* ---- superblocks as bytes ---- */

static void le(unsigned char *p, unsigned long long v, int n)
{
	while (n-- > 0)
		*p++ = v & 0xff, v >>= 8;
}

/* An ext4 superblock (2048 bytes, the one at 1024); uuid_byte fills the UUID. */
static void ext4_sb(unsigned char *b, const char *label, unsigned char uuid_byte)
{
	unsigned char *sb = b + 1024;

	memset(b, 0, 2048);
	le(sb + 4, 4096, 4);            /* blocks */
	le(sb + 24, 0, 4);              /* 1 KiB blocks */
	le(sb + 56, 0xef53, 2);
	le(sb + 96, 0x0002 | 0x0040, 4); /* filetype, extents: ext4 */
	memset(sb + 104, uuid_byte, 16);
	snprintf((char *)sb + 120, 16, "%s", label);
}

/* A squashfs 4 file of len bytes (>= 96): the superblock, then fill. */
static unsigned char *squashfs_bytes(size_t len, unsigned char fill)
{
	unsigned char *b = malloc(len);

	if (!b)
		abort();
	memset(b, fill, len);
	memset(b, 0, 96);
	memcpy(b, "hsqs", 4);
	le(b + 12, 131072, 4);
	le(b + 22, 17, 2);
	le(b + 28, 4, 2);
	le(b + 40, len, 8);
	return b;
}

/* ---- the recording seam ---- */

#define MAX_CALLS 64

struct call {
	char line[640];             /* "mount SRC DST TYPE FLAGS DATA", "umount DST", "loop NAME FILE ro" */
};

static struct seam {
	struct call calls[MAX_CALLS];
	int n;
	int next_loop;
	const char *fail_dst;       /* a mount on this path fails with fail_err */
	int fail_err;
	char top[256];              /* the tree's directory: cut from recorded backing paths */
} seam;

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	va_list ap;

	if (seam.n >= MAX_CALLS)
		return;
	va_start(ap, fmt);
	vsnprintf(seam.calls[seam.n++].line, sizeof seam.calls[0].line, fmt, ap);
	va_end(ap);
}

static const char *flag_names(unsigned long f, char *buf, size_t cap)
{
	static const struct { unsigned long bit; const char *name; } names[] = {
		{ MS_RDONLY, "ro" }, { MS_NOSUID, "nosuid" }, { MS_NODEV, "nodev" }, { MS_NOATIME, "noatime" },
		{ MS_REMOUNT, "remount" }, { MS_MOVE, "move" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (f & names[i].bit)
			used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? "," : "", names[i].name);
	if (!used)
		snprintf(buf, cap, "-");
	return buf;
}

static int fake_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	char f[64];

	record("mount %s %s %s %s %s", src ? src : "-", dst, type ? type : "-", flag_names(flags, f, sizeof f),
	       data ? data : "-");
	return seam.fail_dst && !strcmp(dst, seam.fail_dst) ? seam.fail_err : 0;
}

static int fake_umount(const char *dst, int flags)
{
	record("umount %s", dst);
	return 0;
}

static int fake_finit(int fd, const char *params, int flags)
{
	record("finit_module");
	return 0;
}

static int fake_ioctl_int(int fd, unsigned long req, unsigned long arg)
{
	if (req == LOOP_CTL_GET_FREE)
		return seam.next_loop++ % 8;
	record("ioctl %lu", req);
	return -ENOTTY;
}

/* The path behind an open fd, the tree's directory cut off. */
static void fd_path(int fd, char *buf, size_t cap)
{
	char link[64];
	size_t tl = strlen(seam.top);
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (tl && !strncmp(buf, seam.top, tl))
		memmove(buf, buf + tl, strlen(buf + tl) + 1);
}

/* LOOP_CONFIGURE: recorded with its backing file; the fake loop device gets the bytes it shows. */
static int fake_ioctl_ptr(int fd, unsigned long req, void *arg)
{
	const struct loop_config *lc = arg;
	char dev[256], file[256];
	static unsigned char buf[1 << 16];
	unsigned long long off, end;
	int out;

	if (req != LOOP_CONFIGURE) {
		record("ioctl %lu", req);
		return -ENOTTY;
	}
	fd_path(fd, dev, sizeof dev);
	fd_path((int)lc->fd, file, sizeof file);
	record("loop %s %s %s", strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev, file,
	       lc->info.lo_flags & LO_FLAGS_READ_ONLY ? "ro" : "rw");
	snprintf(dev, sizeof dev, "/proc/self/fd/%d", fd);
	if ((out = open(dev, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return -errno;
	off = lc->info.lo_offset;
	end = lc->info.lo_sizelimit ? off + lc->info.lo_sizelimit : ~0ull;
	for (;;) {
		size_t want = end - off < sizeof buf ? (size_t)(end - off) : sizeof buf;
		ssize_t n = want ? pread((int)lc->fd, buf, want, (off_t)off) : 0;
		if (n <= 0 || write(out, buf, (size_t)n) != n)
			break;
		off += (unsigned long long)n;
	}
	close(out);
	return 0;
}

static int fake_chroot(const char *path)
{
	record("chroot %s", path);
	return -EPERM;
}

static const struct sysops fake_sys = {
	.mount = fake_mount, .umount = fake_umount, .finit_module = fake_finit,
	.ioctl_int = fake_ioctl_int, .ioctl_ptr = fake_ioctl_ptr, .chroot = fake_chroot,
};

static void seam_reset(const struct tree *t)
{
	memset(&seam, 0, sizeof seam);
	snprintf(seam.top, sizeof seam.top, "%s", t->dir);
}

/* The recorded calls starting with prefix, one per line. */
static const char *calls(const char *prefix, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < seam.n; i++)
		if (!strncmp(seam.calls[i].line, prefix, strlen(prefix)))
			used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s\n", seam.calls[i].line);
	return buf;
}

/* The first recorded call starting with prefix, or "". */
static const char *call(const char *prefix)
{
	for (int i = 0; i < seam.n; i++)
		if (!strncmp(seam.calls[i].line, prefix, strlen(prefix)))
			return seam.calls[i].line;
	return "";
}

/* ---- the context and its log ---- */

static int case_before;         /* tap_failed when the context was made: explain() says more if it grew */

static void ctx_init(struct init_ctx *c, const struct tree *t)
{
	memset(c, 0, sizeof *c);
	config_defaults(&c->cfg);
	c->sys = &fake_sys;
	c->kmsg = memfd_create("kmsg", MFD_CLOEXEC);
	c->console_level = 8;       /* the "kernel" echoes everything: nothing on stderr */
	c->stage = "test";
	c->rootfd = t->root;
	c->sysfd = t->sys;
	c->devfd = t->dev;
	seam_reset(t);
	case_before = tap_failed;
}

/* The medium as the find-medium stage leaves it. */
static void ctx_medium(struct init_ctx *c, const char *dev, const char *type, const char *label)
{
	snprintf(c->medium_dev, sizeof c->medium_dev, "%s", dev);
	snprintf(c->medium.type, sizeof c->medium.type, "%s", type);
	snprintf(c->medium.label, sizeof c->medium.label, "%s", label);
	snprintf(c->medium_found.dev, sizeof c->medium_found.dev, "%s", dev);
	c->medium_found.fs = c->medium;
}

/* The log so far (a static buffer). */
static const char *log_text(const struct init_ctx *c)
{
	static char text[1 << 16];
	ssize_t n = pread(c->kmsg, text, sizeof text - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	return text;
}

static int logged(const struct init_ctx *c, const char *needle)
{
	return strstr(log_text(c), needle) != NULL;
}

/* When a check on this context failed: what it failed with, its log and the calls it made. */
static void explain(const struct init_ctx *c)
{
	char *copy, *save = NULL;

	if (tap_failed == case_before)
		return;
	tap_diag("what: %s; hint: %s", c->what, c->hint);
	copy = strdup(log_text(c));
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		tap_diag("  log: %s", l);
	free(copy);
	for (int i = 0; i < seam.n; i++)
		tap_diag("  call: %s", seam.calls[i].line);
}

/* A case: a fresh tree and context, or its n checks skipped (and -1). */
static int case_start(struct tree *t, struct init_ctx *c, int n)
{
	if (tree_make(t, "stage") < 0) {
		tap_skip(n, "no temporary directory");
		return -1;
	}
	ctx_init(c, t);
	return 0;
}

/* The next context in the same tree, after the last one explained. */
static void ctx_next(struct init_ctx *c, const struct tree *t)
{
	explain(c);
	close(c->kmsg);
	ctx_init(c, t);
}

static void case_end(struct tree *t, struct init_ctx *c)
{
	explain(c);
	close(c->kmsg);
	tree_free(t);
}

#endif
