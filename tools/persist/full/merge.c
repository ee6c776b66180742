/* merge.c: export --merge: a layer over its lower, merged by the kernel's overlayfs, made one squashfs by mksquashfs. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "export.h"

/*
 * The merge is overlayfs's own (whiteouts remove, opaque directories replace, exactly as the live
 * system showed them): the layer and the lower mounted read-only in a mount namespace of this
 * process alone, so that no mount outlives it, not even after a kill; the merged view read by
 * mksquashfs, which writes out.
 */
int merge_image(const char *layer, const char *lower, const char *out, int progress, struct perr *err)
{
	const char *tdir = getenv("TMPDIR");
	char top[4096], d[3][4096 + 16], opt[2 * (4096 + 16) + 16];
	const char *img[2] = { layer, lower };	/* on d[0] and d[1], merged on d[2] */
	int i, made = 0, r = 0;
	pid_t pid;

	snprintf(top, sizeof top, "%s/persist-merge.XXXXXX", tdir && *tdir ? tdir : "/tmp");
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return perr_set(err, -errno, "a merge mounts the images: run it as root");
	if (!mkdtemp(top))
		return -errno;
	for (i = 0; i < 3 && !r; i++) {
		snprintf(d[i], sizeof d[i], "%s/%d", top, i);
		if (mkdir(d[i], 0700) < 0)
			r = -errno;
		made = i + 1;
	}
	snprintf(opt, sizeof opt, "ro,lowerdir=%s:%s", d[0], d[1]);
	/* the two images (by the mount program, which sets up their loop devices), then the overlay */
	for (i = 0; i < 3 && !r; i++) {
		pid = prog_start((char *[]){ "mount", "-t", i < 2 ? "squashfs" : "overlay", "-o", i < 2 ? "ro,loop" : opt,
					     i < 2 ? (char *)img[i] : "overlay", d[i], NULL }, 2, NULL);
		r = pid < 0 ? -errno : prog_wait(pid, "mount", err);
	}
	if (!r) {
		pid = prog_start((char *[]){ "mksquashfs", d[2], (char *)out, "-noappend", "-comp", "zstd", "-quiet",
					     progress ? NULL : "-no-progress", NULL }, 2, NULL);
		r = pid < 0 ? -errno : prog_wait(pid, "mksquashfs", err);
	}
	for (i = made - 1; i >= 0; i--) {
		(void)umount2(d[i], MNT_DETACH);
		(void)rmdir(d[i]);
	}
	(void)rmdir(top);
	return r;
}
