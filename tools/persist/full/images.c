/* images.c: an image file mounted read-only through a loop device, for a rebase to read its tree. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "probe.h"
#include "rebase.h"
#include "sys.h"

/* A squashfs whole (the init's prober, the size its superblock says), on a fresh directory. */
int image_mount(struct image *im, struct perr *err)
{
	struct init_ctx c = { .sys = &sys_real };
	struct probe_result pr;
	struct stat st;
	char loop[32];
	int fd, lfd = -1, r;

	im->dir[0] = 0;
	fd = open(im->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return perr_set(err, -errno, "unable to open the image %s: %s", im->file, strerror(errno));
	r = -EINVAL;
	if (probe_fd(fd, &pr) < 0 || strcmp(pr.type, "squashfs"))
		perr_set(err, r, "%s is not a squashfs image", im->file);
	else if ((unsigned long long)st.st_size < pr.size)
		perr_set(err, r, "%s is cut short (%llu bytes, its superblock says %llu)", im->file,
			 (unsigned long long)st.st_size, pr.size);
	else if ((r = lower_identify(im->file, &im->id)))
		perr_set(err, r, "unable to read %s: %s", im->file, strerror(-r));
	if (r)
		goto out;
	const char *tmp = getenv("TMPDIR");
	snprintf(im->dir, sizeof im->dir, "%.40s/persist-image.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	c.devfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.devfd < 0 || !mkdtemp(im->dir)) {
		r = perr_set(err, -errno, "unable to make a directory to mount %s on: %s", im->file, strerror(errno));
		im->dir[0] = 0;
		goto out;
	}
	r = loop_attach(&c, fd, loop, sizeof loop, &lfd);
	if (r)
		perr_set(err, r, "unable to attach %s to a loop device: %s", im->file, strerror(-r));
	else if (mount(loop, im->dir, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
		r = perr_set(err, -errno, "unable to mount %s (%s): %s", im->file, loop, strerror(errno));
	if (r) {
		rmdir(im->dir);
		im->dir[0] = 0;
	}
out:
	if (lfd >= 0)
		close(lfd);	/* the mount is its only user now: it goes with the mount (autoclear) */
	if (c.devfd > 0)
		close(c.devfd);
	close(fd);
	return r;
}

void image_unmount(struct image *im)
{
	if (!im->dir[0])
		return;
	(void)umount2(im->dir, MNT_DETACH);
	(void)rmdir(im->dir);
	im->dir[0] = 0;
}
