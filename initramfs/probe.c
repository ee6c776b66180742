/* probe.c: the table of superblock probers and the entry points that run it. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "io.h"
#include "probe.h"

/*
 * Order matters only for images that carry two signatures. Magic at a fixed place first
 * (squashfs at 0, iso9660 at 32 KiB: a hybrid ISO also has an MBR and maybe a FAT image),
 * then ext (magic at 1080), exFAT (its name at 3 and a checksummed boot region), and vfat last,
 * whose boot-sector checks are the loosest.
 */
const struct prober probers[] = {
	{ "squashfs", probe_squashfs },
	{ "iso9660", probe_iso9660 },
	{ "ext", probe_ext4 },
	{ "exfat", probe_exfat },
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

/* UTF-16 (len bytes) to UTF-8 as blkid's ul_encode_to_utf8: pairs joined, a lone surrogate kept. */
void probe_set_label_utf16(struct probe_result *r, const unsigned char *s, size_t len, int big_endian)
{
	unsigned char out[sizeof r->label];
	size_t i, n = 0;

	for (i = 0; i + 1 < len; i += 2) {
		uint32_t c = big_endian ? get_be16(s + i) : get_le16(s + i);
		if (c == 0)
			break;
		if (c >= 0xd800 && c <= 0xdbff && i + 3 < len) {
			uint32_t lo = big_endian ? get_be16(s + i + 2) : get_le16(s + i + 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (n + 4 >= sizeof out)
			break;
		if (c < 0x80) {
			out[n++] = (unsigned char)c;
		} else if (c < 0x800) {
			out[n++] = (unsigned char)(0xc0 | c >> 6);
			out[n++] = (unsigned char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[n++] = (unsigned char)(0xe0 | c >> 12);
			out[n++] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
			out[n++] = (unsigned char)(0x80 | (c & 0x3f));
		} else {
			out[n++] = (unsigned char)(0xf0 | c >> 18);
			out[n++] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
			out[n++] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
			out[n++] = (unsigned char)(0x80 | (c & 0x3f));
		}
	}
	probe_set_label(r, out, n);
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
