/* initramfs/t/media.c: the find-medium stage against a fake /sys and /dev: a missing medium (the why-not
 * table), one found late, two with the same label, a squashfs partition. */
#include <pthread.h>
#include <sys/inotify.h>
#include <time.h>
#include "stagetest.h"

static void missing(void)
{
	struct tree t;
	struct init_ctx c;
	unsigned char sb[2048];
	int r;

	if (case_start(&t, &c, 8) < 0)
		return;
	ext4_sb(sb, "OTHER", 0x11);
	add_device(&t, "fakea", NULL, 8192, sb, sizeof sb);
	add_device(&t, "fakecd", NULL, 0, NULL, 0);                /* a drive with no disc */
	add_device(&t, "fakeb", NULL, 8192, "", 0);                /* zeros: no filesystem */
	snprintf(c.cfg.media, sizeof c.cfg.media, "LABEL=OVERLIVE");
	c.cfg.wait = 0;
	r = medium_find(&c);
	is_int(r, -ENODEV, "missing medium: -ENODEV");
	ok(strstr(c.what, "find the live medium LABEL=OVERLIVE within 0 s"), "the error names the spec and the wait");
	ok(strstr(c.hint, "live.media=") && strstr(c.hint, "live.wait="), "the hint names live.media= and live.wait=");
	ok(logged(&c, "no device matches LABEL=OVERLIVE; block devices seen (3):"), "the why-not table: its title");
	ok(logged(&c, "WHY NOT"), "the why-not table: its header");
	ok(logged(&c, "label is 'OTHER', not 'OVERLIVE'"), "  fakea: another label");
	ok(logged(&c, "empty (no medium)"), "  fakecd: empty");
	ok(logged(&c, "no filesystem overlive reads"), "  fakeb: no filesystem");
	case_end(&t, &c);
}

/* The "driver" of the late medium: once the first scan has closed class/block, the device appears
 * there in one rename (sysfs shows a device whole). */
struct late {
	struct tree *t;
	int ino;
};

static void *appear(void *arg)
{
	struct late *l = arg;
	char buf[4096] __attribute__((aligned(8)));
	unsigned char sb[2048];
	int stage;

	for (int seen = 0; !seen; ) {
		ssize_t n = read(l->ino, buf, sizeof buf);
		if (n <= 0)
			return NULL;
		for (char *p = buf; p < buf + n; ) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (e->len == 0 && (e->mask & IN_CLOSE_NOWRITE))
				seen = 1;       /* class/block itself closed: a scan ended */
			p += sizeof *e + e->len;
		}
	}
	ext4_sb(sb, "OVERLIVE", 0x22);
	mkdirs_at(l->t->top, "staging");
	stage = openat(l->t->top, "staging", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	add_device_at(stage, l->t->dev, "fakel", NULL, 8192, sb, sizeof sb);
	renameat(stage, "fakel", l->t->sys, "class/block/fakel");
	close(stage);
	return NULL;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void late(void)
{
	struct tree t;
	struct init_ctx c;
	struct late l;
	pthread_t th;
	char path[512];
	const char *p;
	double t0;
	int r, scans = 0;

	if (case_start(&t, &c, 5) < 0)
		return;
	snprintf(path, sizeof path, "%s/sys/class/block", t.dir);
	l.t = &t;
	l.ino = inotify_init1(IN_CLOEXEC);
	if (l.ino < 0 || inotify_add_watch(l.ino, path, IN_CLOSE_NOWRITE) < 0 ||
	    pthread_create(&th, NULL, appear, &l)) {
		tap_skip(5, "no inotify or no thread");
		case_end(&t, &c);
		return;
	}
	snprintf(c.cfg.media, sizeof c.cfg.media, "LABEL=OVERLIVE");
	c.cfg.wait = 20;
	t0 = seconds();
	r = medium_find(&c);
	pthread_join(th, NULL);
	close(l.ino);
	is_int(r, 0, "medium found late: found");
	is_str(c.medium_dev, "/dev/fakel", "  the device that appeared");
	p = strstr(log_text(&c), "label 'OVERLIVE'");
	if (p && (p = strstr(p, " after ")))
		scans = atoi(p + 7);
	ok(scans >= 2, "  not on the first scan (after %d scans)", scans);
	ok(seconds() - t0 < 10, "  without waiting for live.wait= to run out");
	is_str(c.medium.type, "ext4", "  its superblock read");
	case_end(&t, &c);
}

static void same_label(void)
{
	struct tree t;
	struct init_ctx c;
	unsigned char sb[2048];

	if (case_start(&t, &c, 4) < 0)
		return;
	ext4_sb(sb, "OVERLIVE", 0xbb);
	add_device(&t, "fakeb", NULL, 8192, sb, sizeof sb);
	ext4_sb(sb, "OVERLIVE", 0xaa);
	add_device(&t, "fakea", NULL, 8192, sb, sizeof sb);
	snprintf(c.cfg.media, sizeof c.cfg.media, "LABEL=OVERLIVE");
	is_int(medium_find(&c), 0, "two devices with the same label: found");
	is_str(c.medium_dev, "/dev/fakea", "  the first by name is taken");
	ok(logged(&c, "<4>overlive: more than one device matches live.media=LABEL=OVERLIVE; using /dev/fakea"),
	   "  a warning names both the spec and the one taken");
	is_str(c.medium.uuid, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "  its superblock, not the other's");
	case_end(&t, &c);
}

static void squashfs_partition(void)
{
	struct tree t;
	struct init_ctx c;
	unsigned char *sq = squashfs_bytes(4096, 0x5a);

	if (case_start(&t, &c, 3) < 0) {
		free(sq);
		return;
	}
	add_device(&t, "fakea", NULL, 8192, "", 0);
	add_device(&t, "fakea2", "overlive-root", 8, sq, 4096);
	snprintf(c.cfg.media, sizeof c.cfg.media, "PARTLABEL=overlive-root");
	is_int(medium_find(&c), 0, "a squashfs partition by PARTLABEL: found");
	is_str(c.medium_dev, "/dev/fakea2", "  the partition");
	is_int(c.medium_is_lower, 1, "  it is the lower itself");
	case_end(&t, &c);
	free(sq);
}

int main(void)
{
	missing();
	late();
	same_label();
	squashfs_partition();
	return tap_done(0);
}
