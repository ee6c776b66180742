/* loopdev.c: attaches an open file to a free loop device, read-only or read-write. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "init.h"

#define LOOP_TRIES 8

/*
 * LO_FLAGS_AUTOCLEAR detaches the device when its last user goes: the caller keeps *loopfd open
 * until mount() has returned, then closes it and the mount is the only user.
 */
static int attach(struct init_ctx *c, int fd, uint64_t off, uint64_t len, char *name, size_t cap, int *loopfd, int rw)
{
	int ctl = openat(c->devfd, "loop-control", O_RDWR | O_CLOEXEC);
	int r = -EBUSY;

	if (ctl < 0)
		return -errno;
	for (int i = 0; i < LOOP_TRIES; i++) {
		struct loop_config lc;
		int nr = c->sys->ioctl_int(ctl, LOOP_CTL_GET_FREE, 0);
		if (nr < 0) {
			r = nr;
			break;
		}
		snprintf(name, cap, "/dev/loop%d", nr);
		int lfd = openat(c->devfd, name + strlen("/dev/"), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (lfd < 0) {
			r = -errno;
			break;
		}
		memset(&lc, 0, sizeof lc);
		lc.fd = (unsigned)fd;
		lc.info.lo_flags = (rw ? 0 : LO_FLAGS_READ_ONLY) | LO_FLAGS_AUTOCLEAR;
		lc.info.lo_offset = off;
		lc.info.lo_sizelimit = len;
		r = c->sys->ioctl_ptr(lfd, LOOP_CONFIGURE, &lc);
		if (r == 0) {
			*loopfd = lfd;
			break;
		}
		close(lfd);
		if (r != -EBUSY)        /* another user took it between GET_FREE and CONFIGURE: retry */
			break;
	}
	close(ctl);
	return r;
}

int loop_attach(struct init_ctx *c, int fd, char *name, size_t cap, int *loopfd)
{
	return attach(c, fd, 0, 0, name, cap, loopfd, 0);
}

int loop_attach_rw(struct init_ctx *c, int fd, char *name, size_t cap, int *loopfd)
{
	return attach(c, fd, 0, 0, name, cap, loopfd, 1);
}

int loop_attach_range(struct init_ctx *c, int fd, uint64_t off, uint64_t len, char *name, size_t cap, int *loopfd)
{
	return attach(c, fd, off, len, name, cap, loopfd, 1);
}
