/* switchroot.c: checks the new root, frees the initramfs, and makes the overlay the root. */
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
#include "rmtree.h"


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

	/* what is on the initramfs goes, depth first, never leaving its device */
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		(void)rmtree_contents(fd);
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
