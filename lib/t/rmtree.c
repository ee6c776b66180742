/* rmtree.c: unit tests of the tree removal: everything below goes, nothing a symlink points at, nothing on another device. */
#include <sys/mount.h>
#include "rmtree.h"
#include "tap.h"
#include "tmptree.h"

static int exists(int dirfd, const char *p)
{
	struct stat st;

	return fstatat(dirfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int main(void)
{
	char base[] = "/tmp/rmtree.XXXXXX";
	int bfd, r, i, mounted;

	if (!mkdtemp(base))
		return 1;
	bfd = open(base, O_RDONLY | O_DIRECTORY);
	/* a tree with files, a fifo, an empty and a read-only directory, and symlinks out of it */
	mkdirs(bfd, "keep/inner");
	write_str(bfd, "keep/inner/f", "outside");
	mkdirs(bfd, "t/a/b/c");
	mkdirs(bfd, "t/empty");
	write_str(bfd, "t/a/b/c/f", "x");
	write_str(bfd, "t/top", "y");
	mkfifoat(bfd, "t/a/fifo", 0600);
	symlinkat("../../keep", bfd, "t/a/to-dir");
	symlinkat("../../keep/inner/f", bfd, "t/a/to-file");
	fchmodat(bfd, "t/a/b", 0500, 0);
	r = rmtree_at(bfd, "t");
	ok(r == 0 && !exists(bfd, "t"), "the tree is gone (%d)", r);
	ok(exists(bfd, "keep/inner/f") && exists(bfd, "keep/inner"), "what its symlinks pointed at is untouched");
	is_int(rmtree_at(bfd, "t"), 0, "a name that is not there: nothing to do");
	write_str(bfd, "plain", "z");
	ok(rmtree_at(bfd, "plain") == 0 && !exists(bfd, "plain"), "a file by itself");
	symlinkat("keep", bfd, "link");
	ok(rmtree_at(bfd, "link") == 0 && !exists(bfd, "link") && exists(bfd, "keep/inner/f"),
	   "a symlink to a directory: the link goes, not the directory");

	/* the contents of a directory, the directory itself kept */
	mkdirs(bfd, "c/x/y");
	write_str(bfd, "c/x/y/f", "1");
	write_str(bfd, "c/g", "2");
	r = rmtree_contents(openat(bfd, "c", O_RDONLY | O_DIRECTORY));
	ok(r == 0 && exists(bfd, "c") && !exists(bfd, "c/x") && !exists(bfd, "c/g"), "contents: all of it, the directory kept (%d)", r);

	/* as deep as a save file's path can go */
	mkdirat(bfd, "d", 0700);
	int dfd = openat(bfd, "d", O_RDONLY | O_DIRECTORY), cur = dfd;
	for (i = 0; i < RMTREE_DEPTH_MAX - 1 && cur >= 0; i++) {
		int next;
		mkdirat(cur, "n", 0700);
		next = openat(cur, "n", O_RDONLY | O_DIRECTORY);
		if (cur != dfd)
			close(cur);
		cur = next;
	}
	if (cur >= 0 && cur != dfd)
		close(cur);
	close(dfd);
	r = rmtree_at(bfd, "d");
	ok(r == 0 && !exists(bfd, "d"), "a tree %d directories deep (%d)", RMTREE_DEPTH_MAX, r);

	/* a mount below: it is not entered, and the error says why the tree stays */
	mkdirs(bfd, "m/mnt");
	{
		char mp[64];
		snprintf(mp, sizeof mp, "%s/m/mnt", base);
		mounted = mount("rmtree-test", mp, "tmpfs", 0, "size=1m") == 0;
		if (mounted) {
			int mfd = open(mp, O_RDONLY | O_DIRECTORY);
			write_str(mfd, "on-the-mount", "m");
			r = rmtree_at(bfd, "m");
			ok(r == -EXDEV && exists(mfd, "on-the-mount"), "a mount below: not entered, -EXDEV (%d)", r);
			close(mfd);
			umount(mp);
			ok(rmtree_at(bfd, "m") == 0 && !exists(bfd, "m"), "  unmounted: the rest goes");
		} else {
			tap_skip(2, "cannot mount a tmpfs here (not root)");
		}
	}
	rmtree_contents(bfd);
	rmdir(base);
	return tap_done(0);
}
