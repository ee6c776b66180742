/* probe.c: the table of superblock probers and the entry points that run it. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "io.h"
#include "probe.h"

/*
 * Order matters only for images that carry two signatures. Magic at a fixed place first
 * (squashfs at 0, iso9660 at 32 KiB: a hybrid ISO also has an MBR and maybe a FAT image),
 * then ext (magic at 1080), and vfat last, whose boot-sector checks are the loosest.
 */
const struct prober probers[] = {
	{ "squashfs", probe_squashfs },
	{ "iso9660", probe_iso9660 },
	{ "ext", probe_ext4 },
	{ "vfat", probe_vfat },
	{ NULL, NULL },
};

int probe_read(const struct probe_src *src, void *dst, size_t len, uint64_t off)
{
	size_t got;
	int err;

	if (src->fd < 0) {
		if (off > src->len || src->len - off < len)
			return -ENOENT;
		memcpy(dst, src->buf + off, len);
		return 0;
	}
	if (off > (uint64_t)INT64_MAX - len)
		return -ENOENT;
	err = pread_all(src->fd, dst, len, (off_t)off, &got);
	if (err)
		return err;
	return got == len ? 0 : -ENOENT;
}

void probe_set_type(struct probe_result *r, const char *type)
{
	size_t n = strlen(type);

	if (n >= sizeof r->type)
		n = sizeof r->type - 1;
	memcpy(r->type, type, n);
	r->type[n] = '\0';
}

static int is_blank(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

void probe_set_label(struct probe_result *r, const unsigned char *s, size_t len)
{
	size_t n = 0;

	while (n < len && n < sizeof r->label - 1 && s[n])
		n++;
	while (n && is_blank(s[n - 1]))
		n--;
	memcpy(r->label, s, n);
	r->label[n] = '\0';
}

/* Runs the probers in order; a read error is reported only when nothing was found. */
static int probe_src_run(const struct probe_src *src, struct probe_result *r)
{
	int first_err = 0;

	for (size_t i = 0; probers[i].fn; i++) {
		memset(r, 0, sizeof *r);
		int err = probers[i].fn(src, r);
		if (err == 0)
			return 0;
		if (err != -ENOENT && !first_err)
			first_err = err;
	}
	memset(r, 0, sizeof *r);
	return first_err ? first_err : -ENOENT;
}

int probe_fd(int fd, struct probe_result *r)
{
	struct probe_src src = { .fd = fd };

	if (fd < 0)
		return -EBADF;
	return probe_src_run(&src, r);
}

int probe_buf(const unsigned char *buf, size_t len, struct probe_result *r)
{
	struct probe_src src = { .fd = -1, .buf = buf, .len = buf ? len : 0 };

	return probe_src_run(&src, r);
}
