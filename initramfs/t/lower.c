/* initramfs/t/lower.c: the lower stage in a fake tree with a recording seam: the layers stacked in
 * order up to the overlay's lowerdir=, live.verify (a layer missing from the manifest, a mismatch,
 * =warn), live.toram (the copies, too little RAM), a file that is not a squashfs. */
#include "sha256.h"
#include "stagetest.h"

#define LIVE "run/live/medium/live/"
#define SQ_LEN 20000

/* The medium as mount_medium leaves it: root.sqfs and the layers beside it, and what it is. */
static int medium(struct tree *t, struct init_ctx *c, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		char path[128];
		unsigned char *b = squashfs_bytes(SQ_LEN, (unsigned char)('a' + i));
		int r;
		snprintf(path, sizeof path, LIVE "%s", names[i]);
		r = put_file(t->root, path, b, SQ_LEN);
		free(b);
		if (r < 0)
			return r;
	}
	ctx_medium(c, "/dev/fakea", "ext4", "OVERLIVE");
	return put_str(t->root, LIVE "notes.txt", "not a layer\n");
}

/* sha256sum's line for a layer file of the fake medium. */
static void sum_line(struct tree *t, const char *name, char *line, size_t cap)
{
	unsigned char *b = malloc(SQ_LEN), d[32];
	char path[128], hex[65];
	struct sha256 h;
	int fd;

	snprintf(path, sizeof path, LIVE "%s", name);
	fd = openat(t->root, path, O_RDONLY | O_CLOEXEC);
	if (!b || fd < 0 || read(fd, b, SQ_LEN) != SQ_LEN)
		abort();
	close(fd);
	sha256_init(&h);
	sha256_update(&h, b, SQ_LEN);
	sha256_final(&h, d);
	sha256_hex(d, hex);
	snprintf(line, cap, "%s  %s\n", hex, name);
	free(b);
}

static void stacked(void)
{
	static const char *const names[] = { "zz.sqfs", "root.sqfs", "apps.sqfs" };
	struct tree t;
	struct init_ctx c;
	char buf[2048];

	if (case_start(&t, &c, 9) < 0)
		return;
	medium(&t, &c, names, 3);
	is_int(mount_lower(&c), 0, "three layers: the lower stage succeeds");
	is_str(calls("loop", buf, sizeof buf),
	       "loop loop0 /root/" LIVE "root.sqfs ro\n"
	       "loop loop1 /root/" LIVE "zz.sqfs ro\n"
	       "loop loop2 /root/" LIVE "apps.sqfs ro\n", "  each layer on its own read-only loop device");
	is_str(calls("mount", buf, sizeof buf),
	       "mount /dev/loop0 /run/live/lower squashfs ro -\n"
	       "mount tmpfs /run/live/layers tmpfs nosuid,nodev mode=0755,size=64k\n"
	       "mount /dev/loop1 /run/live/layers/2-zz.sqfs squashfs ro -\n"
	       "mount /dev/loop2 /run/live/layers/1-apps.sqfs squashfs ro -\n",
	       "  live.root on the lower, the others above it by name");
	is_int(mount_upper(&c), 0, "the upper: a tmpfs");
	is_int(mount_overlay(&c), 0, "the overlay");
	is_str(call("mount overlay"),
	       "mount overlay /newroot overlay - lowerdir=/run/live/layers/2-zz.sqfs:/run/live/layers/1-apps.sqfs:"
	       "/run/live/lower,upperdir=/run/live/upper/upper,workdir=/run/live/upper/work",
	       "  lowerdir= top first: zz, apps, then live.root");
	ok(!strstr(call("mount overlay"), "notes"), "  a file that is not *.sqfs is no layer");

	/* live.layers= as given, bottom first */
	ctx_next(&c, &t);
	medium(&t, &c, names, 0);
	snprintf(c.cfg.layers, sizeof c.cfg.layers, "apps.sqfs,root.sqfs");
	is_int(mount_lower(&c), 0, "live.layers=apps.sqfs,root.sqfs");
	is_str(c.lowerdir, "/run/live/layers/1-root.sqfs:/run/live/lower", "  apps at the bottom, root above it");
	ok(strstr(call("loop loop0"), LIVE "apps.sqfs"), "  the bottom one is the first named");
	case_end(&t, &c);
}

static void verify(void)
{
	static const char *const names[] = { "root.sqfs", "apps.sqfs" };
	struct tree t;
	struct init_ctx c;
	char line[160], sums[400], buf[1024];

	if (case_start(&t, &c, 14) < 0)
		return;
	medium(&t, &c, names, 2);
	/* apps.sqfs is not in the manifest */
	sum_line(&t, "root.sqfs", line, sizeof line);
	snprintf(sums, sizeof sums, "%s", line);
	put_str(t.root, LIVE "SHA256SUMS", sums);
	c.cfg.verify = 1;
	is_int(mount_lower(&c), -ENOENT, "live.verify, a layer missing from the manifest: refused");
	is_str(c.what, "verify apps.sqfs: no checksum for it in /run/live/medium/live/SHA256SUMS",
	       "  the layer and the manifest named");
	ok(c.what_says_why && strstr(c.hint, "live/SHA256SUMS"), "  the message says why, the hint how");
	ok(logged(&c, "verify root.sqfs: SHA-256 ") && logged(&c, " ok"), "  the layer in it checked ok");
	is_str(calls("mount", buf, sizeof buf), "", "  nothing mounted");

	/* a mismatch: apps.sqfs listed with root.sqfs's hash */
	ctx_next(&c, &t);
	medium(&t, &c, names, 0);
	c.cfg.verify = 1;
	snprintf(sums + strlen(sums), sizeof sums - strlen(sums), "%.64s  apps.sqfs\n", line);
	put_str(t.root, LIVE "SHA256SUMS", sums);
	is_int(mount_lower(&c), -EBADMSG, "live.verify, a damaged layer: refused");
	ok(!strncmp(c.what, "verify apps.sqfs: SHA-256 mismatch: expected ", 45), "  the layer named");
	is_str(calls("mount", buf, sizeof buf), "", "  nothing mounted");

	/* live.verify=warn: the same, booting anyway */
	ctx_next(&c, &t);
	medium(&t, &c, names, 0);
	c.cfg.verify = 2;
	is_int(mount_lower(&c), 0, "live.verify=warn, a damaged layer: boots");
	ok(logged(&c, "<4>overlive: warning: unable to verify apps.sqfs: SHA-256 mismatch"), "  warned, named");
	ok(logged(&c, "live.verify=warn: booting anyway"), "  and said it boots anyway");
	ok(strstr(call("mount /dev/loop1"), "/run/live/layers/1-apps.sqfs"), "  the layer mounted");
	/* all listed, good */
	sum_line(&t, "apps.sqfs", sums, sizeof sums);
	snprintf(sums + strlen(sums), sizeof sums - strlen(sums), "%s", line);
	put_str(t.root, LIVE "SHA256SUMS", sums);
	ctx_next(&c, &t);
	medium(&t, &c, names, 0);
	c.cfg.verify = 1;
	is_int(mount_lower(&c), 0, "live.verify, both in the manifest: boots");
	ok(logged(&c, "verify apps.sqfs: SHA-256 ") && !logged(&c, "warning"), "  both checked, no warning");
	case_end(&t, &c);
}

static void toram(void)
{
	static const char *const names[] = { "root.sqfs", "apps.sqfs" };
	struct tree t;
	struct init_ctx c;
	struct stat st;

	if (case_start(&t, &c, 10) < 0)
		return;
	medium(&t, &c, names, 2);
	put_str(t.root, "proc/meminfo", "MemTotal:  2097152 kB\nMemAvailable:    1048576 kB\n");
	c.cfg.toram = 1;
	is_int(mount_lower(&c), 0, "live.toram with 1 GiB free: the lower stage succeeds");
	is_str(call("mount tmpfs /run/live/ram"), "mount tmpfs /run/live/ram tmpfs nosuid,nodev mode=0755,size=1088576",
	       "  a tmpfs the size of the layers and 1 MiB");
	ok(fstatat(t.root, "run/live/ram/apps.sqfs", &st, 0) == 0 && st.st_size == SQ_LEN, "  the copy is whole");
	is_str(call("loop loop0"), "loop loop0 /root/run/live/ram/root.sqfs ro", "  the loop reads the copy");
	is_str(call("loop loop1"), "loop loop1 /root/run/live/ram/apps.sqfs ro", "  for each layer");
	is_str(call("umount"), "umount /run/live/medium", "  then the medium is let go");
	ok(logged(&c, "live.toram: /dev/fakea is no longer used and can be removed"), "  and said so");

	/* too little RAM: read from the medium */
	ctx_next(&c, &t);
	medium(&t, &c, names, 0);
	put_str(t.root, "proc/meminfo", "MemAvailable:    65536 kB\n");
	c.cfg.toram = 1;
	is_int(mount_lower(&c), 0, "live.toram with 64 MiB free: boots");
	ok(logged(&c, "live.toram: the layers need 0 MiB of RAM and 64 MiB is available (keeping 64 MiB free): "
		  "running from the medium instead"), "  warned");
	is_str(call("loop loop0"), "loop loop0 /root/" LIVE "root.sqfs ro", "  the layers read from the medium");
	ok(!call("umount")[0] && !call("mount tmpfs /run/live/ram")[0], "  no tmpfs, the medium kept");
	case_end(&t, &c);
}

static void not_squashfs(void)
{
	struct tree t;
	struct init_ctx c;
	char buf[512];

	if (case_start(&t, &c, 6) < 0)
		return;
	medium(&t, &c, NULL, 0);
	put_str(t.root, LIVE "root.sqfs", "this is not a squashfs, just text, long enough for the probers to read it all "
		"and find nothing they know, nothing at all: text");
	is_int(mount_lower(&c), -EINVAL, "live.root is not a squashfs: refused");
	is_str(c.what, "use the root image /live/root.sqfs on /dev/fakea: it is not a squashfs (found: no known filesystem)",
	       "  named, with the medium");
	is_str(calls("mount", buf, sizeof buf), "", "  nothing mounted");

	ctx_next(&c, &t);
	medium(&t, &c, NULL, 0);
	snprintf(c.cfg.root, sizeof c.cfg.root, "/live/none.sqfs");
	is_int(mount_lower(&c), -ENOENT, "live.root names no file: refused");
	ok(strstr(c.what, "open the root image /live/none.sqfs on /dev/fakea (ext4 label 'OVERLIVE')"),
	   "  named, with the medium");
	case_end(&t, &c);
}

int main(void)
{
	stacked();
	verify();
	toram();
	not_squashfs();
	return tap_done(0);
}
