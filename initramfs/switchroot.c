/* switchroot.c: checks the new root, frees the initramfs, and makes the overlay the root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "init.h"

#define MAX_DEPTH 64

/* Resolves the init inside the new root, as it will be after the switch (absolute symlinks too). */
int check_init(struct init_ctx *c)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	struct stat st;
	int root, fd;

	root = open(NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail(c, -errno, NULL, "open %s", NEWROOT);
	fd = (int)syscall(SYS_openat2, root, c->cfg.init, &how, sizeof how);
	int err = fd < 0 ? -errno : 0;
	close(root);
	if (fd >= 0) {
		if (fstat(fd, &st) < 0)
			err = -errno;
		else if (!S_ISREG(st.st_mode))
			err = -EACCES;
		else if (!(st.st_mode & 0111))
			err = -EACCES;
		close(fd);
	}
	if (err < 0)
		return fail(c, err, "set live.init= to a program of the root (for a shell: live.init=/bin/sh)",
			    "find the root's init %s in the live system", c->cfg.init);
	return 0;
}

/* Removes what is on the initramfs, depth first, never leaving its device. */
static void remove_tree(int dfd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < MAX_DEPTH) {
				int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0)
					remove_tree(sub, dev, depth + 1);
			}
			(void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		} else {
			(void)unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

void remove_tree_at(int dirfd, const char *path)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	remove_tree(fd, st.st_dev, 0);
	(void)unlinkat(dirfd, path, AT_REMOVEDIR);
}

int switch_root(struct init_ctx *c)
{
	struct statfs sfs;
	struct stat root, newroot;
	int fd, r;

	/* Check every precondition before the first irreversible step. */
	if (getpid() != 1)
		return failx(c, -EPERM, NULL, "switch root: not PID 1");
	if (statfs("/", &sfs) < 0 || (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC))
		return failx(c, -EINVAL, NULL, "switch root: / is not the initramfs (ramfs or tmpfs)");
	if (stat("/", &root) < 0 || stat(NEWROOT, &newroot) < 0)
		return fail(c, -errno, NULL, "stat / and %s", NEWROOT);
	if (root.st_dev == newroot.st_dev)
		return failx(c, -EINVAL, NULL, "switch root: %s is not a mount of its own", NEWROOT);

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		remove_tree(fd, root.st_dev, 0);
	if (chdir(NEWROOT) < 0)
		return fail(c, -errno, NULL, "enter %s", NEWROOT);
	if ((r = c->sys->mount(".", "/", NULL, MS_MOVE, NULL)) < 0)
		return fail(c, r, NULL, "move %s to /", NEWROOT);
	if ((r = c->sys->chroot(".")) < 0)
		return fail(c, r, NULL, "chroot into the new root");
	if (chdir("/") < 0)
		return fail(c, -errno, NULL, "enter the new root");
	return 0;
}
