/* toram.c: live.toram: the layers copied into a tmpfs, then the medium let go. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lower.h"
#include "io.h"

#define RAM_SPARE_MIB  64          /* what toram leaves free for the system at the least */

static unsigned long long mem_available(int rootfd)
{
	char text[4096], *p;

	if (read_small_file(rootfd, "proc/meminfo", text, sizeof text) < 0 ||
	    !(p = strstr(text, "MemAvailable:")))
		return 0;
	return strtoull(p + 13, NULL, 10) * 1024;
}

int toram_prepare(struct init_ctx *c, const struct layer *L, int n)
{
	unsigned long long need = 0, avail;
	char opts[64];
	int r;

	for (int i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(c->rootfd, at_root(L[i].path), &st, 0) == 0)
			need += (unsigned long long)st.st_size;
	}
	avail = mem_available(c->rootfd);
	if (need + ((unsigned long long)RAM_SPARE_MIB << 20) > avail) {
		log_msg(c, LOG_WARN, "live.toram: the layers need %llu MiB of RAM and %llu MiB is available (keeping %d MiB free): running from the medium instead",
			need >> 20, avail >> 20, RAM_SPARE_MIB);
		return 0;
	}
	snprintf(opts, sizeof opts, "mode=0755,size=%llu", need + (1 << 20));
	if ((r = mkdir_p(c->rootfd, RAM_DIR, 0755)) < 0 ||
	    (r = c->sys->mount("tmpfs", RAM_DIR, "tmpfs", MS_NOSUID | MS_NODEV, opts)) < 0)
		return fail(c, r, NULL, "mount a tmpfs for live.toram (%s)", opts);
	log_msg(c, LOG_NOTICE, "live.toram: copying %d layer(s), %llu MiB, into RAM", n, need >> 20);
	return 1;
}

int toram_create(struct init_ctx *c, const struct layer *l, char *dst, size_t cap)
{
	int out;

	snprintf(dst, cap, "%s/%.63s", RAM_DIR, l->name);
	out = openat(c->rootfd, at_root(dst), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (out < 0)
		return fail(c, -errno, NULL, "create %s", dst);
	return out;
}

void toram_release(struct init_ctx *c)
{
	if (c->cfg.persist_path[0] && !c->cfg.persist_dev[0]) {
		log_msg(c, LOG_NOTICE, "live.toram: the medium stays mounted: the save file is on it");
		return;
	}
	if (c->cfg.iso[0])
		(void)c->sys->umount(ISO_DIR, 0);
	if (c->sys->umount(MEDIUM_DIR, 0) == 0)
		log_msg(c, LOG_NOTICE, "live.toram: %s is no longer used and can be removed", c->medium_dev);
	else
		log_msg(c, LOG_WARN, "live.toram: unable to unmount %s; it is still in use", c->medium_dev);
}
