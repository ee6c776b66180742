/* initramfs/t/probe.c: the superblock probers against images made by the real tools, blkid as oracle. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "probe.h"
#include "tap.h"

enum { PREFIX_MAX = 4 << 20 };	/* bytes of each image kept in memory for probe_buf and fuzzing */

/* One image: how to make it, and what we read back. */
struct image {
	const char *name;
	const char *tool;		/* must be on PATH, else the case is skipped */
	const char *size;		/* for truncate -s, NULL when the tool makes the file */
	const char *need;		/* a file the tool needs (skipped without it) */
	int none;			/* blkid finds no filesystem on it, and neither may we */
	const char *argv[16];		/* "@" stands for the image path, "%" for the source dir */
	char path[4096];
	unsigned char *buf;		/* the first len bytes of the image */
	size_t len;
	off_t file_size;
	int made;
};

/* check_edit below refers to some of these by index */
static struct image images[] = {
	{ .name = "ext4", .tool = "mkfs.ext4", .size = "8M",
	  .argv = { "mkfs.ext4", "-q", "-F", "-L", "overlive root", "@" } },
	{ .name = "ext4 4k 64bit", .tool = "mkfs.ext4", .size = "64M",
	  .argv = { "mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "64bit", "-L", "BIG4K", "@" } },
	{ .name = "ext4 no label", .tool = "mkfs.ext4", .size = "8M",
	  .argv = { "mkfs.ext4", "-q", "-F", "@" } },
	{ .name = "ext3", .tool = "mkfs.ext3", .size = "8M",
	  .argv = { "mkfs.ext3", "-q", "-F", "-L", "live3", "@" } },
	{ .name = "ext2", .tool = "mkfs.ext2", .size = "4M",
	  .argv = { "mkfs.ext2", "-q", "-F", "-L", "live2", "@" } },
	{ .name = "fat12", .tool = "mkfs.vfat", .size = "2M",
	  .argv = { "mkfs.vfat", "-F", "12", "-n", "LIVE12", "@" } },
	{ .name = "fat16", .tool = "mkfs.vfat", .size = "32M",
	  .argv = { "mkfs.vfat", "-F", "16", "-n", "LIVE 16", "@" } },
	{ .name = "fat32", .tool = "mkfs.vfat", .size = "40M",
	  .argv = { "mkfs.vfat", "-F", "32", "-s", "1", "-n", "LIVE32", "@" } },
	{ .name = "fat16 no label", .tool = "mkfs.vfat", .size = "16M",
	  .argv = { "mkfs.vfat", "-F", "16", "@" } },
	{ .name = "iso9660", .tool = "xorriso", .size = NULL,
	  .argv = { "xorriso", "-as", "mkisofs", "-quiet", "-V", "OVERLIVE_ISO", "-o", "@", "%" } },
	{ .name = "iso9660 joliet", .tool = "xorriso", .size = NULL,
	  .argv = { "xorriso", "-as", "mkisofs", "-quiet", "-J", "-V",
		    "Mixed Case Long Label Name 12345", "-o", "@", "%" } },
	{ .name = "iso9660 joliet short", .tool = "xorriso", .size = NULL,
	  .argv = { "xorriso", "-as", "mkisofs", "-quiet", "-J", "-V", "live cd", "-o", "@", "%" } },
	{ .name = "squashfs", .tool = "mksquashfs", .size = NULL,
	  .argv = { "mksquashfs", "%", "@", "-quiet", "-no-progress", "-noappend", "-comp", "gzip" } },
	{ .name = "ext4 16-byte label", .tool = "mkfs.ext4", .size = "8M",
	  .argv = { "mkfs.ext4", "-q", "-F", "-L", "0123456789abcdef", "@" } },
	{ .name = "fat32 4k sectors", .tool = "mkfs.vfat", .size = "300M",
	  .argv = { "mkfs.vfat", "-F", "32", "-S", "4096", "-s", "1", "-n", "Live usb", "@" } },
	{ .name = "fat16 2k sectors", .tool = "mkfs.vfat", .size = "64M",
	  .argv = { "mkfs.vfat", "-F", "16", "-S", "2048", "-n", "F16_2K", "@" } },
	{ .name = "iso9660 hybrid el torito", .tool = "xorriso", .size = NULL,
	  .need = "/usr/lib/ISOLINUX/isohdpfx.bin",
	  .argv = { "xorriso", "-as", "mkisofs", "-quiet", "-J", "-V", "Boot Me", "-b", "hello",
		    "-no-emul-boot", "-isohybrid-mbr", "/usr/lib/ISOLINUX/isohdpfx.bin", "-o", "@",
		    "%" } },
	/* exFAT (exfatprogs): the label is UTF-16 in the root directory; clusters from one sector up */
	{ .name = "exfat", .tool = "mkfs.exfat", .size = "64M",
	  .argv = { "mkfs.exfat", "-L", "OVERLIVE X", "@" } },
	{ .name = "exfat no label", .tool = "mkfs.exfat", .size = "16M",
	  .argv = { "mkfs.exfat", "@" } },
	{ .name = "exfat 512-byte clusters", .tool = "mkfs.exfat", .size = "8M",
	  .argv = { "mkfs.exfat", "-c", "512", "-L", "tiny", "@" } },
	{ .name = "exfat 256k clusters", .tool = "mkfs.exfat", .size = "80M",
	  .argv = { "mkfs.exfat", "-c", "256K", "-L", "ELEVENCHARS", "@" } },
	{ .name = "exfat 2k clusters packed bitmap", .tool = "mkfs.exfat", .size = "24M",
	  .argv = { "mkfs.exfat", "-c", "2K", "--pack-bitmap", "-L", "packed", "@" } },
	{ .name = "exfat utf-16 label", .tool = "mkfs.exfat", .size = "32M",
	  .argv = { "sh", "-c", "LC_ALL=C.UTF-8 mkfs.exfat -L 'Über 😀 é' \"$0\"", "@" } },
	/* whole disks: a partition table and boot code, a FAT inside a partition; nothing at 0 */
	{ .name = "gpt disk", .tool = "sfdisk", .size = "8M", .none = 1,
	  .need = "/usr/lib/syslinux/mbr/gptmbr.bin",
	  .argv = { "sh", "-c", "printf 'label: gpt\\n,,U\\n' | sfdisk -q \"$0\" && "
		    "mkfs.vfat --offset 2048 -n PART \"$0\" && "
		    "dd if=/usr/lib/syslinux/mbr/gptmbr.bin of=\"$0\" conv=notrunc", "@" } },
	{ .name = "mbr disk", .tool = "sfdisk", .size = "8M", .none = 1,
	  .need = "/usr/lib/syslinux/mbr/mbr.bin",
	  .argv = { "sh", "-c", "printf 'label: dos\\n,,c\\n' | sfdisk -q \"$0\" && "
		    "mkfs.vfat --offset 2048 -n PART \"$0\" && "
		    "dd if=/usr/lib/syslinux/mbr/mbr.bin of=\"$0\" conv=notrunc", "@" } },
};
#define N_IMAGES (sizeof images / sizeof images[0])

static char tmpdir[] = "/tmp/probe-t.XXXXXX";

static int run(const char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int have_tool(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* blkid -p -o udev: ID_FS_TYPE, and LABEL and UUID from their _ENC forms (\xHH undone: non-ASCII
 * labels arrive as UTF-8, where -o export would print M- escapes). */
static int blkid_says(const char *path, struct probe_result *w)
{
	char cmd[4200], line[1024];
	FILE *p;

	memset(w, 0, sizeof *w);
	snprintf(cmd, sizeof cmd, "blkid -p -o udev '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof line, p)) {
		char *v = strchr(line, '='), *dst = NULL, *o;
		size_t cap = 0;
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "ID_FS_TYPE"))
			dst = w->type, cap = sizeof w->type;
		else if (!strcmp(line, "ID_FS_LABEL_ENC"))
			dst = w->label, cap = sizeof w->label;
		else if (!strcmp(line, "ID_FS_UUID_ENC"))
			dst = w->uuid, cap = sizeof w->uuid;
		if (!dst)
			continue;
		o = dst;
		for (; *v && *v != '\n' && (size_t)(o - dst) < cap - 1; v++) {
			unsigned x;
			if (v[0] == '\\' && v[1] == 'x' && sscanf(v + 2, "%2x", &x) == 1) {
				*o++ = (char)x;
				v += 3;
				continue;
			}
			*o++ = *v;
		}
		*o = '\0';
	}
	pclose(p);
	return w->type[0] ? 0 : -1;
}

static int make_image(struct image *im, const char *srcdir)
{
	const char *argv[16];
	size_t i;

	snprintf(im->path, sizeof im->path, "%s/img%d", tmpdir, (int)(im - images));
	if (im->size) {
		const char *t[] = { "truncate", "-s", im->size, im->path, NULL };
		if (run(t))
			return -1;
	}
	for (i = 0; im->argv[i]; i++)
		argv[i] = !strcmp(im->argv[i], "@") ? im->path :
			  !strcmp(im->argv[i], "%") ? srcdir : im->argv[i];
	argv[i] = NULL;
	return run(argv);
}

static int load_prefix(struct image *im)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = open(im->path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	im->file_size = st.st_size;
	im->len = st.st_size < PREFIX_MAX ? (size_t)st.st_size : PREFIX_MAX;
	im->buf = malloc(im->len);
	while (im->buf && got < im->len && (n = read(fd, im->buf + got, im->len - got)) > 0)
		got += (size_t)n;
	close(fd);
	return im->buf && got == im->len ? 0 : -1;
}

static int well_formed(const struct probe_result *r)
{
	return memchr(r->type, 0, sizeof r->type) && memchr(r->label, 0, sizeof r->label) &&
	       memchr(r->uuid, 0, sizeof r->uuid);
}

/* probe_buf on a private copy of exactly len bytes, so ASan sees any read past the end. */
static int probe_exact(const unsigned char *buf, size_t len, struct probe_result *r)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	if (!copy)
		abort();
	memcpy(copy, buf, len);
	rc = probe_buf(copy, len, r);
	free(copy);
	return rc;
}

static void check_against_blkid(struct image *im)
{
	struct probe_result got, want, fromfd;
	char what[128];
	int fd, rc;

	if (blkid_says(im->path, &want)) {
		ok(0, "%s: blkid identifies the image", im->name);
		return;
	}
	fd = open(im->path, O_RDONLY);
	rc = probe_fd(fd, &fromfd);
	if (fd >= 0)
		close(fd);
	snprintf(what, sizeof what, "%s: probe_fd finds it", im->name);
	is_int(rc, 0, what);
	snprintf(what, sizeof what, "%s: type as blkid", im->name);
	is_str(fromfd.type, want.type, what);
	snprintf(what, sizeof what, "%s: LABEL as blkid", im->name);
	is_str(fromfd.label, want.label, what);
	snprintf(what, sizeof what, "%s: UUID as blkid", im->name);
	is_str(fromfd.uuid, want.uuid, what);
	ok(fromfd.size > 0 && fromfd.size <= (unsigned long long)im->file_size,
	   "%s: size %llu within the file's %lld", im->name, fromfd.size, (long long)im->file_size);

	rc = probe_exact(im->buf, im->len, &got);
	ok(rc == 0 && !strcmp(got.type, fromfd.type) && !strcmp(got.label, fromfd.label) &&
	   !strcmp(got.uuid, fromfd.uuid) && got.size == fromfd.size,
	   "%s: probe_buf on the first %zu bytes agrees with probe_fd", im->name, im->len);
}

/* An image where blkid sees no filesystem: probe_fd and probe_buf must not see one either. */
static void check_nothing(struct image *im)
{
	struct probe_result want, got;
	int fd, rc;

	ok(blkid_says(im->path, &want) != 0, "%s: blkid finds no filesystem", im->name);
	fd = open(im->path, O_RDONLY);
	rc = probe_fd(fd, &got);
	if (fd >= 0)
		close(fd);
	ok(rc == -ENOENT, "%s: probe_fd finds none either (%d %s)", im->name, rc, got.type);
	rc = probe_exact(im->buf, im->len, &got);
	ok(rc == -ENOENT, "%s: probe_buf finds none either", im->name);
}

/* Cuts the image at many offsets: each cut gives -ENOENT or the same type, never a crash. */
static void check_truncations(struct image *im, const char *want_type)
{
	static const size_t marks[] = { 0, 1, 2, 3, 4, 40, 82, 90, 96, 510, 511, 512, 513, 1024, 1080,
					1082, 1124, 2044, 2047, 2048, 4096, 32768, 32769, 32774,
					32808, 32848, 33615, 34816, 36864, 65536 };
	unsigned n = 0, bad = 0, found = 0;
	struct probe_result r;

	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		if (marks[i] > im->len)
			continue;
		int rc = probe_exact(im->buf, marks[i], &r);
		n++;
		if (rc == 0)
			found++;
		if (!(rc == -ENOENT || (rc == 0 && !strcmp(r.type, want_type) && well_formed(&r))))
			bad++;
	}
	for (size_t cut = 0; cut < im->len && cut < 1 << 20; cut += cut < 65536 ? 509 : 65521) {
		int rc = probe_exact(im->buf, cut, &r);
		n++;
		if (rc == 0)
			found++;
		if (!(rc == -ENOENT || (rc == 0 && !strcmp(r.type, want_type) && well_formed(&r))))
			bad++;
	}
	ok(bad == 0, "%s: %u truncations each give no match or %s (%u found)", im->name, n, want_type,
	   found);

	/* The same through a file descriptor: a short file reads as a short device. */
	char path[4200];
	snprintf(path, sizeof path, "%s/cut", tmpdir);
	bad = 0;
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, im->buf, marks[i] < im->len ? marks[i] : im->len) < 0) {
			bad++;
		} else {
			int rc = probe_fd(fd, &r);
			if (!(rc == -ENOENT || (rc == 0 && !strcmp(r.type, want_type))))
				bad++;
		}
		if (fd >= 0)
			close(fd);
	}
	ok(bad == 0, "%s: truncated files through probe_fd give no match or %s", im->name, want_type);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Images with hand-made lies: each must give a clean answer (and stay inside its bytes). */
static void check_garbage(void)
{
	unsigned char *b = calloc(1, 1 << 20);
	struct probe_result r;
	uint64_t seed = 42;
	unsigned bad = 0;

	if (!b)
		abort();
	is_int(probe_exact(b, 1 << 20, &r), -ENOENT, "1 MiB of zeros: no match");
	is_int(probe_exact(b, 0, &r), -ENOENT, "empty buffer: no match");
	is_int(probe_buf(NULL, 0, &r), -ENOENT, "NULL buffer: no match");
	is_int(probe_fd(-1, &r), -EBADF, "bad fd: -EBADF");
	for (int k = 0; k < 200; k++) {
		for (size_t i = 0; i < 70000; i++)
			b[i] = (unsigned char)rng_next(&seed);
		int rc = probe_exact(b, 70000, &r);
		if (!(rc == -ENOENT || (rc == 0 && well_formed(&r))))
			bad++;
	}
	ok(bad == 0, "200 random 70 KB buffers: clean answers");

	/* squashfs: magic with a lying block size, then an old major version */
	memset(b, 0, 4096);
	memcpy(b, "hsqs", 4);
	b[12] = 0x00, b[13] = 0x00, b[14] = 0x02;	/* block_size 128 KiB */
	b[22] = 16;					/* block_log says 64 KiB */
	b[28] = 4;
	is_int(probe_exact(b, 4096, &r), -ENOENT, "squashfs: block_size and block_log disagree");
	b[22] = 17;
	is_int(probe_exact(b, 4096, &r), 0, "squashfs: consistent fields are found");
	b[28] = 3;
	is_int(probe_exact(b, 4096, &r), -ENOENT, "squashfs: major 3 is not ours");
	is_int(probe_exact(b, 95, &r), -ENOENT, "squashfs: superblock cut short");

	/* ext: the bare magic is an ext2 of unknown size; absurd block sizes are refused */
	memset(b, 0, 8192);
	b[1024 + 56] = 0x53, b[1024 + 57] = 0xef;
	is_int(probe_exact(b, 8192, &r), 0, "ext: a bare magic reads as a filesystem");
	is_str(r.type, "ext2", "ext: no features means ext2");
	is_str(r.uuid, "", "ext: zero UUID prints as none");
	b[1024 + 24] = 40;
	is_int(probe_exact(b, 8192, &r), -ENOENT, "ext: 2^50-byte blocks refused");
	b[1024 + 24] = 6;
	memset(b + 1024 + 4, 0xff, 4);
	b[1024 + 96] = 0x80;				/* 64bit */
	memset(b + 1024 + 336, 0xff, 4);
	is_int(probe_exact(b, 8192, &r), 0, "ext: huge block count still found");
	ok(r.size == 0, "ext: a size that overflows is reported as unknown");
	b[1024 + 96] = 0x08;				/* journal device */
	is_int(probe_exact(b, 8192, &r), -ENOENT, "ext: an external journal is not a filesystem");
	b[1024 + 96] = 0x04;				/* needs_recovery, no journal */
	is_int(probe_exact(b, 8192, &r), -ENOENT, "ext: recovery without a journal is nothing");
	b[1024 + 92] = 0x04;				/* has_journal */
	is_int(probe_exact(b, 8192, &r), 0, "ext: recovery with a journal is found");
	is_str(r.type, "ext3", "ext: journal and only old features is ext3");
	b[1024 + 96] = 0x44;				/* + extents */
	is_int(probe_exact(b, 8192, &r), 0, "ext: with extents found");
	is_str(r.type, "ext4", "ext: extents make it ext4");

	/* vfat: a FAT32 whose root directory chain loops on itself, and absurd geometry */
	memset(b, 0, 1 << 20);
	b[0] = 0xeb, b[1] = 0x58, b[2] = 0x90;
	b[11] = 0x00, b[12] = 0x02;			/* 512-byte sectors */
	b[13] = 1;					/* 1 sector per cluster */
	b[14] = 32;					/* reserved */
	b[16] = 2;					/* FATs */
	b[21] = 0xf8;
	memcpy(b + 32, "\x00\x00\x01\x00", 4);		/* 65536 sectors */
	memcpy(b + 36, "\x04\x00\x00\x00", 4);		/* fat32 length 4 sectors */
	memcpy(b + 44, "\x02\x00\x00\x00", 4);		/* root cluster 2 */
	memcpy(b + 82, "FAT32   ", 8);
	b[510] = 0x55, b[511] = 0xaa;
	memcpy(b + 32 * 512 + 8, "\xff\xff\xff\x0f", 4);	/* cluster 2: end of chain */
	memcpy(b + 71, "BOOTLABEL  ", 11);
	is_int(probe_exact(b, 1 << 20, &r), 0, "vfat: hand-made FAT32 found");
	is_str(r.label, "BOOTLABEL", "vfat: boot-sector label when the root has none");
	memcpy(b + 32 * 512 + 8, "\x02\x00\x00\x00", 4);	/* cluster 2 → cluster 2 */
	memset(b + (32 + 8) * 512, 'A', 512);		/* a root cluster full of plain names */
	for (int i = 0; i < 16; i++)
		b[(32 + 8) * 512 + i * 32 + 11] = 0x20;
	is_int(probe_exact(b, 1 << 20, &r), 0, "vfat: a looping root chain ends");
	memcpy(b + 44, "\xff\xff\xff\x7f", 4);		/* root cluster far past the end */
	is_int(probe_exact(b, 1 << 20, &r), 0, "vfat: root cluster out of range still probes");
	b[13] = 3;
	is_int(probe_exact(b, 1 << 20, &r), -ENOENT, "vfat: cluster size not a power of two");
	b[13] = 1;
	b[11] = 0x00, b[12] = 0x00;
	is_int(probe_exact(b, 1 << 20, &r), -ENOENT, "vfat: zero sector size");
	b[12] = 0x02;
	b[16] = 0;
	is_int(probe_exact(b, 1 << 20, &r), -ENOENT, "vfat: no FAT");
	b[16] = 255;
	memset(b + 32, 0xff, 8);			/* 4G sectors, huge FATs */
	r.type[0] = 'x';
	int rc = probe_exact(b, 1 << 20, &r);
	ok(rc == -ENOENT || (rc == 0 && well_formed(&r)), "vfat: huge geometry gives a clean answer");

	/* iso9660: a run of supplementary descriptors with no terminator */
	memset(b, 0, 1 << 20);
	for (int i = 16; i < 64; i++) {
		b[i * 2048] = i == 16 ? 1 : 2;
		memcpy(b + i * 2048 + 1, "CD001", 5);
		memcpy(b + i * 2048 + 88, "%/E", 3);
		memset(b + i * 2048 + 40, 0xd8, 32);	/* lone surrogates */
	}
	rc = probe_exact(b, 1 << 20, &r);
	ok(rc == 0 && well_formed(&r) && !strcmp(r.type, "iso9660"),
	   "iso9660: endless descriptors and lone surrogates: found, well formed");
	is_str(r.uuid, "", "iso9660: no dates means no UUID");
	memset(b + 16 * 2048 + 80, 0x01, 8);
	memset(b + 16 * 2048 + 128, 0x02, 4);
	is_int(probe_exact(b, 1 << 20, &r), 0, "iso9660: consistent both-endian fields");
	is_int(r.size, 0x01010101ull * 0x0202, "iso9660: size from the both-endian fields");
	b[16 * 2048 + 84] = 0;
	is_int(probe_exact(b, 1 << 20, &r), 0, "iso9660: disagreeing both-endian fields");
	is_int(r.size, 0, "iso9660: disagreeing size is unknown");
	free(b);
}

/* Edits a copy of an image, asks blkid and the prober about it, and compares. */
static void check_edit(const struct image *im, const char *what, const char *label,
		       void (*edit)(unsigned char *, size_t, const struct image *))
{
	char path[4200];
	struct probe_result got, want;
	unsigned char *copy;
	int fd, rc;

	if (!im->made) {
		tap_skip(2, "image not made");
		return;
	}
	copy = malloc(im->len);
	memcpy(copy, im->buf, im->len);
	edit(copy, im->len, im);
	snprintf(path, sizeof path, "%s/edit", tmpdir);
	const char *cp[] = { "cp", "--sparse=always", im->path, path, NULL };
	if (run(cp))
		abort();
	fd = open(path, O_RDWR);
	if (fd < 0 || pwrite(fd, copy, im->len, 0) != (ssize_t)im->len)
		abort();
	rc = probe_fd(fd, &got);
	close(fd);
	if (blkid_says(path, &want)) {
		is_int(rc, -ENOENT, what);
		ok(1, "%s: blkid agrees there is nothing", what);
	} else {
		is_int(rc, 0, what);
		if (label)
			snprintf(want.label, sizeof want.label, "%s", label);
		ok(!strcmp(got.type, want.type) && !strcmp(got.label, want.label) &&
		   !strcmp(got.uuid, want.uuid),
		   "%s: as blkid (got %s '%s' %s, want %s '%s' %s)", what, got.type, got.label, got.uuid,
		   want.type, want.label, want.uuid);
	}
	free(copy);
}

static size_t fat16_root(const unsigned char *b)
{
	return ((size_t)get_le16(b + 14) + (size_t)get_le16(b + 22) * b[16]) * get_le16(b + 11);
}

static void edit_fat_bootlabel(unsigned char *b, size_t len, const struct image *im)
{
	memcpy(b + 43, "OTHER BOOT ", 11);
}

static void edit_fat_no_rootlabel(unsigned char *b, size_t len, const struct image *im)
{
	memcpy(b + 43, "BOOTONLY   ", 11);
	b[fat16_root(b)] = 0xe5;	/* the root's label entry deleted */
}

static void edit_fat_noname_root(unsigned char *b, size_t len, const struct image *im)
{
	memcpy(b + 43, "BOOTONLY   ", 11);
	memcpy(b + fat16_root(b), "NO NAME    ", 11);
}

static void edit_iso_no_mdate(unsigned char *b, size_t len, const struct image *im)
{
	memset(b + 32768 + 830, '0', 16);
	b[32768 + 830 + 16] = 0;
	memcpy(b + 32768 + 813, "2001020304050607", 16);
}

static void edit_ext_flip_csum(unsigned char *b, size_t len, const struct image *im)
{
	b[1024 + 1020] ^= 1;
}

static void edit_ext_clear_uuid(unsigned char *b, size_t len, const struct image *im)
{
	memset(b + 1024 + 104, 0, 16);
}

static struct image *image_named(const char *name)
{
	for (size_t i = 0; i < N_IMAGES; i++)
		if (!strcmp(images[i].name, name))
			return &images[i];
	abort();
}

/* exFAT (512-byte sectors, as mkfs.exfat makes them on a file): the boot checksum made right again. */
static void exfat_reseal(unsigned char *b)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < 11; i++)
		sum = probe_exfat_checksum(sum, b + i * 512, 512, i);
	for (unsigned k = 0; k < 512; k += 4)
		put_le32(b + 11 * 512 + k, sum);
}

/* The root directory's volume-label entry (type 0x83) in the first root cluster, or NULL. */
static unsigned char *exfat_label_entry(unsigned char *b, size_t len)
{
	unsigned shift = b[108] + b[109];
	uint64_t off = ((uint64_t)get_le32(b + 88) << b[108]) + ((uint64_t)(get_le32(b + 96) - 2) << shift);

	for (uint64_t i = 0; i < (1ull << shift) / 32 && off + i * 32 + 32 <= len; i++)
		if (b[off + i * 32] == 0x83)
			return b + off + i * 32;
	return NULL;
}

static void edit_exfat_flags(unsigned char *b, size_t len, const struct image *im)
{
	b[106] |= 2;		/* VolumeDirty, outside the checksum (the kernel sets it at mount) */
	b[112] = 77;		/* PercentInUse, likewise */
}

static void edit_exfat_label_deleted(unsigned char *b, size_t len, const struct image *im)
{
	unsigned char *e = exfat_label_entry(b, len);
	if (e)
		e[0] = 0x03;	/* an unused label entry */
}

static void edit_exfat_label_long(unsigned char *b, size_t len, const struct image *im)
{
	unsigned char *e = exfat_label_entry(b, len);
	if (e) {
		e[1] = 15;	/* more than the 11 units there is room for */
		for (int i = 0; i < 11; i++)
			put_le16(e + 2 + 2 * i, (uint16_t)('a' + i));
	}
}

/*
 * Boot sectors the kernel refuses to mount (exfat_read_boot_sector) though the checksum is made
 * right again: no medium, whatever blkid says. The unedited image, resealed, must still be found.
 */
static void check_exfat_refused(const struct image *im)
{
	static const struct { const char *what; size_t off; unsigned char v; } lies[] = {
		{ "three FATs", 110, 3 }, { "no FAT", 110, 0 },
		{ "8 KiB sectors", 108, 13 }, { "256-byte sectors", 108, 8 },
		{ "64 MiB clusters", 109, 17 },
		{ "a FAT too short for its clusters", 84, 1 }, { "the heap before the FAT's end", 88, 1 },
		{ "a FAT BPB field not zero", 13, 8 }, { "another jump", 1, 0x3c },
		{ "another name", 3, 'F' }, { "no 55AA", 511, 0 },
	};
	struct probe_result r;
	unsigned char *b;

	if (!im->made) {
		tap_skip(3 + (int)(sizeof lies / sizeof lies[0]), "exfat image not made");
		return;
	}
	b = malloc(im->len);
	memcpy(b, im->buf, im->len);
	exfat_reseal(b);
	ok(probe_exact(b, im->len, &r) == 0 && !strcmp(r.type, "exfat"), "exfat: resealed unedited: found");
	/* blkid 2.38 takes a boot region whose checksum is wrong; the kernel (exfat_verify_boot_region) does not */
	b[200] ^= 0x5a;
	is_int(probe_exact(b, im->len, &r), -ENOENT, "exfat with a changed boot code, not resealed: refused, as the kernel does");
	b[200] ^= 0x5a;
	for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
		memcpy(b, im->buf, im->len);
		if (lies[i].off == 84 || lies[i].off == 88) {
			b[lies[i].off + 1] = b[lies[i].off + 2] = b[lies[i].off + 3] = 0;
		}
		b[lies[i].off] = lies[i].v;
		exfat_reseal(b);
		int rc = probe_exact(b, im->len, &r);
		ok(rc == -ENOENT, "exfat with %s: refused, as the kernel does (%d)", lies[i].what, rc);
	}
	/* a root chain that loops on itself: the scan ends, no label, still exfat */
	memcpy(b, im->buf, im->len);
	unsigned char *e = exfat_label_entry(b, im->len);
	uint32_t root = get_le32(b + 96);
	if (e) {
				size_t fat = ((size_t)get_le32(b + 80) << b[108]) + root * 4;
		unsigned shift = b[108] + b[109];
		size_t off = ((size_t)get_le32(b + 88) << b[108]) + ((size_t)(root - 2) << shift);
		for (size_t k = 0; k < (1u << shift) && off + k < im->len; k += 32)
			b[off + k] = 0x05;
		put_le32(b + fat, root);
	}
	ok(probe_exact(b, im->len, &r) == 0 && !r.label[0], "exfat: a root chain looping on itself ends, no label");
	free(b);
}

/* Seeded mutations of the made images for FUZZ_SECONDS (default 3): no crash, clean answers. */
static void fuzz(void)
{
	const char *secs = getenv("FUZZ_SECONDS"), *s = getenv("FUZZ_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	double limit = secs ? atof(secs) : 3.0;
	struct timespec t0, t;
	unsigned long iters = 0, found = 0, bad = 0;
	size_t pos[32];
	unsigned char old[32];
	size_t avail[N_IMAGES], n_avail = 0;
	struct probe_result r;

	for (size_t i = 0; i < N_IMAGES; i++)
		if (images[i].made)
			avail[n_avail++] = i;
	if (!n_avail) {
		tap_skip(1, "fuzz: no image was made");
		return;
	}
	if (!seed)
		seed = 1;
	tap_diag("fuzz: FUZZ_SEED=%llu FUZZ_SECONDS=%g", (unsigned long long)seed, limit);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct image *im = &images[avail[rng_next(&seed) % n_avail]];
		size_t len = im->len;
		unsigned k = 1 + rng_next(&seed) % 16;

		for (unsigned i = 0; i < k; i++) {
			uint64_t x = rng_next(&seed);
			/* mostly where the superblocks and root directories live */
			size_t p = x & 1 ? (x >> 8) % 4096 : x & 2 ? 32768 + (x >> 8) % 8192 : (x >> 8) % len;
			if (p >= len)
				p = (x >> 8) % len;
			pos[i] = p;
			old[i] = im->buf[p];
			x = rng_next(&seed);
			im->buf[p] = x & 3 ? (unsigned char)(x >> 8) : (x & 4 ? 0xff : 0);
		}
		/* im->buf is allocated to its exact length, so ASan sees reads past its end */
		size_t cut = rng_next(&seed) % 8 == 0 ? rng_next(&seed) % (len < 131072 ? len + 1 : 131073) : len;
		int rc = cut == len ? probe_buf(im->buf, len, &r) : probe_exact(im->buf, cut, &r);
		if (rc == 0)
			found++;
		if (!(rc == -ENOENT || (rc == 0 && well_formed(&r))))
			bad++;
		while (k--)
			im->buf[pos[k]] = old[k];
		iters++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < limit);
	ok(bad == 0, "fuzz: %lu mutated images, each a clean answer (%lu found)", iters, found);
}

/* FUZZ_REPLAY=FILE probes one saved input (a crash found by a longer fuzz run). */
static void replay(const char *path)
{
	struct probe_result r;
	int fd = open(path, O_RDONLY), rc;

	rc = fd < 0 ? -errno : probe_fd(fd, &r);
	if (fd >= 0)
		close(fd);
	ok(rc == 0 || rc == -ENOENT, "replay %s: clean answer (%d)", path, rc);
}

static void cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	(void)system(cmd);
}

int main(void)
{
	char srcdir[4200], file[4300];
	const char *path = getenv("PATH");
	char newpath[8192];

	if (getenv("FUZZ_REPLAY")) {
		replay(getenv("FUZZ_REPLAY"));
		return tap_done(0);
	}
	/* mkfs.* live in sbin, which a non-root PATH may lack */
	snprintf(newpath, sizeof newpath, "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	setenv("PATH", newpath, 1);
	if (!mkdtemp(tmpdir)) {
		ok(0, "make a temporary directory");
		return tap_done(0);
	}
	atexit(cleanup);
	snprintf(srcdir, sizeof srcdir, "%s/src", tmpdir);
	mkdir(srcdir, 0755);
	snprintf(file, sizeof file, "%s/hello", srcdir);
	FILE *f = fopen(file, "w");
	if (f) {
		fputs("hello\n", f);
		fclose(f);
	}

	int have_blkid = have_tool("blkid");
	for (size_t i = 0; i < N_IMAGES; i++) {
		struct image *im = &images[i];
		char why[128];
		if (!have_tool(im->tool) || !have_blkid || (im->need && access(im->need, R_OK))) {
			snprintf(why, sizeof why, "%s: %s not installed", im->name,
				 !have_blkid ? "blkid" : !have_tool(im->tool) ? im->tool : im->need);
			tap_skip(im->none ? 3 : 8, why);
			continue;
		}
		if (make_image(im, srcdir) || load_prefix(im)) {
			ok(0, "%s: make the image with %s", im->name, im->tool);
			continue;
		}
		im->made = 1;
		if (im->none) {
			check_nothing(im);
			continue;
		}
		check_against_blkid(im);
		struct probe_result r;
		(void)probe_exact(im->buf, im->len, &r);
		check_truncations(im, r.type);
	}

	check_edit(&images[6], "fat16 with another boot label", NULL, edit_fat_bootlabel);
	/*
	 * No label in the root directory (deleted, or "NO NAME"): we take the boot sector's, as
	 * the brief and current libblkid do; blkid 2.38 reports no LABEL resp. "NO NAME" here.
	 */
	check_edit(&images[6], "fat16 without a root label", "BOOTONLY", edit_fat_no_rootlabel);
	check_edit(&images[6], "fat16 with NO NAME in the root", "BOOTONLY", edit_fat_noname_root);
	check_edit(&images[9], "iso9660 without a modification date", NULL, edit_iso_no_mdate);
	check_edit(&images[0], "ext4 with a bad superblock checksum", NULL, edit_ext_flip_csum);
	check_edit(&images[4], "ext2 with a zero UUID", NULL, edit_ext_clear_uuid);
	check_edit(image_named("exfat"), "exfat dirty and 77% used", NULL, edit_exfat_flags);
	check_edit(image_named("exfat"), "exfat with its label entry unused", NULL, edit_exfat_label_deleted);
	check_edit(image_named("exfat"), "exfat with a label length past the entry", NULL, edit_exfat_label_long);
	check_exfat_refused(image_named("exfat"));
	check_garbage();
	fuzz();
	for (size_t i = 0; i < N_IMAGES; i++)
		free(images[i].buf);
	return tap_done(0);
}
