/* initramfs/t/upper.c: the mount-medium, upper and restore stages in a fake tree with a recording seam:
 * a disk upper that is the medium itself, one on its own partition, an image file on the medium,
 * an empty target left alone, and the save file beside a disk upper, not there yet, on its own
 * device, on a squashfs partition. */
#include "stagetest.h"

/* The medium fakea (ext4 OVERLIVE), found and probed as the find-medium stage leaves it. */
static int setup(struct tree *t, struct init_ctx *c, int n)
{
	unsigned char sb[2048];

	if (case_start(t, c, n) < 0)
		return -1;
	ext4_sb(sb, "OVERLIVE", 0x11);
	add_device(t, "fakea", NULL, 8192, sb, sizeof sb);
	ctx_medium(c, "/dev/fakea", "ext4", "OVERLIVE");
	mkdirs_at(t->root, "run/live/medium/live");
	return 0;
}

static void upper_is_medium(void)
{
	struct tree t;
	struct init_ctx c;
	char buf[1024];

	if (setup(&t, &c, 6) < 0)
		return;
	c.cfg.upper = UPPER_DEVICE;
	snprintf(c.cfg.upper_spec, sizeof c.cfg.upper_spec, "LABEL=OVERLIVE");
	is_int(mount_upper(&c), 0, "a disk upper that is the medium itself: the boot goes on");
	ok(logged(&c, "<4>overlive: persistence live.upper=LABEL=OVERLIVE not used: /dev/fakea is the live medium itself"),
	   "  refused, and why");
	ok(logged(&c, "using a tmpfs upper instead: changes made in this boot will be lost at shutdown"),
	   "  the tmpfs said");
	is_str(calls("mount", buf, sizeof buf), "mount tmpfs /run/live/upper tmpfs nosuid,nodev mode=0755,size=50%\n",
	       "  only the tmpfs is mounted");
	is_int(c.upper_on_disk, 0, "  the upper is not on disk");
	ok(faccessat(t.root, "run/live/upper/upper", F_OK, 0) == 0 && faccessat(t.root, "run/live/upper/work", F_OK, 0) == 0,
	   "  upper/ and work/ made");
	case_end(&t, &c);
}

static void upper_partition(void)
{
	struct tree t;
	struct init_ctx c;
	unsigned char sb[2048], *sq = squashfs_bytes(4096, 0x5a);
	char buf[1024];

	if (setup(&t, &c, 12) < 0) {
		free(sq);
		return;
	}
	ext4_sb(sb, "persistence", 0x33);
	add_device(&t, "fakeb", NULL, 8192, sb, sizeof sb);
	add_device(&t, "fakec", "blank", 8192, "", 0);
	add_device(&t, "fakesq", "squashed", 8, sq, 4096);
	c.cfg.upper = UPPER_DEVICE;
	snprintf(c.cfg.upper_spec, sizeof c.cfg.upper_spec, "LABEL=persistence");
	is_int(mount_upper(&c), 0, "a disk upper on its own partition");
	is_str(calls("mount", buf, sizeof buf), "mount /dev/fakeb /run/live/upper ext4 noatime -\n", "  mounted as ext4, nothing else");
	is_int(c.upper_on_disk, 1, "  the upper is on disk");
	ok(faccessat(t.root, "run/live/upper/upper", F_OK, 0) == 0, "  upper/ made on it");

	/* the restore stage then leaves the save file alone */
	snprintf(c.cfg.persist_path, sizeof c.cfg.persist_path, "/live/save.persist");
	seam_reset(&t);
	is_int(restore_save_file(&c), 0, "a save file beside a disk upper: the boot goes on");
	ok(logged(&c, "live.persist=/live/save.persist ignored: the upper is the disk live.upper=LABEL=persistence"),
	   "  ignored, and why");
	is_int(seam.n, 0, "  no call at all");

	/* an empty target is not formatted without live.upper.create (and never without asking) */
	ctx_next(&c, &t);
	unlinkat(t.root, "run/live/upper/upper", AT_REMOVEDIR);     /* the tmpfs would be a fresh one */
	unlinkat(t.root, "run/live/upper/work", AT_REMOVEDIR);
	ctx_medium(&c, "/dev/fakea", "ext4", "OVERLIVE");
	c.cfg.upper = UPPER_DEVICE;
	snprintf(c.cfg.upper_spec, sizeof c.cfg.upper_spec, "PARTLABEL=blank");
	is_int(mount_upper(&c), 0, "an empty partition as the upper: the boot goes on");
	ok(logged(&c, "not used: /dev/fakec has no file system; add live.upper.create to format it"), "  left alone, and how to use it");
	is_str(call("mount"), "mount tmpfs /run/live/upper tmpfs nosuid,nodev mode=0755,size=50%", "  a tmpfs instead");

	/* another filesystem is never touched */
	ctx_next(&c, &t);
	unlinkat(t.root, "run/live/upper/upper", AT_REMOVEDIR);
	unlinkat(t.root, "run/live/upper/work", AT_REMOVEDIR);
	ctx_medium(&c, "/dev/fakea", "ext4", "OVERLIVE");
	c.cfg.upper = UPPER_DEVICE;
	c.cfg.upper_create = 1;     /* even when asked to format: fakesq is not empty */
	snprintf(c.cfg.upper_spec, sizeof c.cfg.upper_spec, "PARTLABEL=squashed");
	is_int(mount_upper(&c), 0, "a squashfs partition as the upper: the boot goes on");
	ok(logged(&c, "not used: /dev/fakesq holds a squashfs file system, not ext4 (left as it is)"), "  left alone, and why");
	is_str(call("mount"), "mount tmpfs /run/live/upper tmpfs nosuid,nodev mode=0755,size=50%", "  a tmpfs instead");
	case_end(&t, &c);
	free(sq);
}

static void upper_file(void)
{
	struct tree t;
	struct init_ctx c;
	unsigned char sb[2048];
	char buf[1024];

	if (setup(&t, &c, 6) < 0)
		return;
	ext4_sb(sb, "persistence", 0x44);
	put_file(t.root, "run/live/medium/live/persistence.img", sb, sizeof sb);
	truncate_at(t.root, "run/live/medium/live/persistence.img", 1 << 20);
	c.cfg.upper = UPPER_FILE;
	snprintf(c.cfg.upper_spec, sizeof c.cfg.upper_spec, "/live/persistence.img");
	is_int(mount_medium(&c), 0, "the medium of an image file");
	is_str(call("mount"), "mount /dev/fakea /run/live/medium ext4 noatime -", "  mounted read-write for it");
	is_int(mount_upper(&c), 0, "an image file on the medium as the upper");
	is_str(call("loop"), "loop loop0 /root/run/live/medium/live/persistence.img rw", "  on a read-write loop device");
	is_str(calls("mount /dev/loop", buf, sizeof buf), "mount /dev/loop0 /run/live/upper ext4 noatime -\n",
	       "  mounted from it as ext4");
	is_int(c.upper_on_disk, 1, "  the upper is on disk");

	/* without it, the medium is read-only */
	ctx_next(&c, &t);
	ctx_medium(&c, "/dev/fakea", "ext2", "OVERLIVE");
	is_int(mount_medium(&c), 0, "the medium of a tmpfs upper");
	is_str(call("mount"), "mount /dev/fakea /run/live/medium ext4 ro -", "  read-only, ext2 by the ext4 driver");
	case_end(&t, &c);
}

static void restore(void)
{
	struct tree t;
	struct init_ctx c;
	unsigned char sb[2048];
	char buf[1024];

	if (setup(&t, &c, 12) < 0)
		return;
	snprintf(c.cfg.persist_path, sizeof c.cfg.persist_path, "/live/save.persist");
	mkdirs_at(t.root, "run/live/upper/upper");
	is_int(restore_save_file(&c), 0, "a save file not there yet: the boot goes on");
	is_str(calls("mount", buf, sizeof buf), "mount - /run/live/medium - remount -\n", "  the medium remounted read-write");
	ok(logged(&c, "no save file /run/live/medium/live/save.persist yet: booting clean"), "  said");
	is_str(c.persist_env, "PERSIST_FILE=/run/live/medium/live/save.persist\nPERSIST_UPPER=/run/live/upper/upper\n"
	       "PERSIST_LOWER=/run/live/medium/live/root.sqfs\n", "  the live system's persist told where everything is");
	is_str(c.persist_dir, "/run/live/medium", "  kept for the save at shutdown");

	/* on its own device */
	ctx_next(&c, &t);
	ctx_medium(&c, "/dev/fakea", "ext4", "OVERLIVE");
	ext4_sb(sb, "SAVES", 0x55);
	add_device(&t, "fakeb", NULL, 8192, sb, sizeof sb);
	snprintf(c.cfg.persist_dev, sizeof c.cfg.persist_dev, "LABEL=SAVES");
	snprintf(c.cfg.persist_path, sizeof c.cfg.persist_path, "/save.persist");
	c.cfg.wait = 0;
	is_int(restore_save_file(&c), 0, "a save file on its own device");
	is_str(calls("mount", buf, sizeof buf), "mount /dev/fakeb /run/live/persist ext4 - -\n", "  that device mounted");
	is_str(c.persist_dir, "/run/live/persist", "  kept for the save at shutdown");

	/* the medium is a squashfs partition: no place for it */
	ctx_next(&c, &t);
	ctx_medium(&c, "/dev/fakea", "squashfs", "");
	c.medium_is_lower = 1;
	snprintf(c.cfg.persist_path, sizeof c.cfg.persist_path, "/save.persist");
	is_int(restore_save_file(&c), 0, "a save file on a squashfs partition: the boot goes on");
	ok(logged(&c, "warning: unable to keep a save file on /dev/fakea: it is a squashfs partition"), "  refused, and why");
	ok(logged(&c, "booting without the saved changes: nothing was read or written"), "  nothing touched");
	is_int(seam.n, 0, "  no call at all");

	/* a save file persist cannot restore: the partial tree goes, the boot is clean */
	ctx_next(&c, &t);
	ctx_medium(&c, "/dev/fakea", "ext4", "OVERLIVE");
	snprintf(c.cfg.persist_path, sizeof c.cfg.persist_path, "/live/save.persist");
	put_str(t.root, "run/live/medium/live/save.persist", "not a save file");
	if (access(PERSIST_BIN, F_OK) == 0) {
		tap_skip(3, "this machine has a " PERSIST_BIN " (the restore would run it)");
	} else {
		is_int(restore_save_file(&c), 0, "a save file that cannot be restored (no persist here): the boot goes on");
		ok(logged(&c, "unable to restore /run/live/medium/live/save.persist (error 2): booting clean"), "  said");
		ok(faccessat(t.root, "run/live/upper/restore", F_OK, 0) < 0 &&
		   faccessat(t.root, "run/live/upper/upper", F_OK, 0) == 0, "  the partial tree gone, upper/ as it was");
	}
	case_end(&t, &c);
}

int main(void)
{
	upper_is_medium();
	upper_partition();
	upper_file();
	restore();
	return tap_done(0);
}
