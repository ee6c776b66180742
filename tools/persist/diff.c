/* diff.c: decides how an upper entry changed since the catalogue of the last save. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "persist.h"

static int same_view(const struct pentry *a, const struct pentry *b)
{
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->rdev != b->rdev || a->xattr_len != b->xattr_len || a->nxattr != b->nxattr)
		return 0;
	if ((a->target == NULL) != (b->target == NULL) || (a->target && strcmp(a->target, b->target)))
		return 0;
	return a->xattr_len == 0 || memcmp(a->xattrs, b->xattrs, a->xattr_len) == 0;
}

int is_opaque(const struct pentry *e)
{
	uint32_t n;
	const unsigned char *v = xattr_find(e, "trusted.overlay.opaque", &n);

	return v && n == 1 && v[0] == 'y';
}

/*
 * CH_NONE: same inode, same ctime (nothing can have changed without changing ctime).
 * CH_TOUCH: a new inode or ctime but the same view, e.g. the first save after a restore; for a
 *   regular file this reads its data to compare the content CRC. CH_MOD: anything else.
 * Hardlinked files are always rewritten as a group (their ctime is shared, so they change together).
 */
int entry_compare(const char *upper, struct pentry *now, const struct pentry *was, int in_group)
{
	char abs[8192];
	int fd, r;

	if (!same_view(now, was) || (in_group != 0) != (was->group != 0))
		return CH_MOD;
	if (now->ino == was->ino && now->ctime_sec == was->ctime_sec && now->ctime_nsec == was->ctime_nsec)
		return CH_NONE;
	if (now->type != PT_FILE)
		return CH_TOUCH;
	if (in_group)
		return CH_MOD;
	snprintf(abs, sizeof abs, "%s/%s", upper, now->path);
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return CH_MOD;
	r = file_content_crc(fd, now->size, &now->crc);
	close(fd);
	if (r)
		return CH_MOD;
	now->crc_known = 1;
	return now->crc == was->crc ? CH_TOUCH : CH_MOD;
}
