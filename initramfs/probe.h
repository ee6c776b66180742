/* probe.h: identify a filesystem from its superblock (type, LABEL and UUID as blkid prints them). */
#ifndef OVERLIVE_PROBE_H
#define OVERLIVE_PROBE_H
#include <stddef.h>
#include <stdint.h>
#include "byteorder.h"

struct probe_result {
	char type[16];			/* the mount type: ext4 ext3 ext2 exfat vfat iso9660 squashfs */
	char label[256];		/* as blkid prints LABEL, "" if none */
	char uuid[64];			/* as blkid prints UUID, "" if none */
	unsigned long long size;	/* filesystem size in bytes when the superblock says, else 0 */
};

/* 0 found; -ENOENT no known filesystem; -errno when reading failed and nothing was found. */
int probe_fd(int fd, struct probe_result *r);
/* The same on bytes in memory; a short buffer reads as a short device. */
int probe_buf(const unsigned char *buf, size_t len, struct probe_result *r);

struct probe_src;
/*
 * partuuid.c: the PARTUUID of partition partno (1-based) of the disk, as blkid prints it: 0; -ENOENT
 * when the disk has no partition table or no such entry; -EINVAL for a malformed GPT; -errno.
 */
int probe_partuuid(const struct probe_src *disk, unsigned partno, char *out, size_t cap);

/* ---- for the probers (probe_*.c) ---- */

/* Where the bytes come from: a file descriptor or a buffer. */
struct probe_src {
	int fd;				/* -1 for a buffer */
	const unsigned char *buf;
	size_t len;
};

/* Reads exactly len bytes at off: 0, -ENOENT past the end (no filesystem there), or -errno. */
int probe_read(const struct probe_src *src, void *dst, size_t len, uint64_t off);

/* Copies len raw bytes as a label: stops at the first NUL, drops trailing blanks (as blkid). */
void probe_set_label(struct probe_result *r, const unsigned char *s, size_t len);
/* UTF-16 (big- or little-endian, len bytes) as a UTF-8 label: stops at a NUL unit, drops trailing blanks. */
void probe_set_label_utf16(struct probe_result *r, const unsigned char *s, size_t len, int big_endian);
void probe_set_type(struct probe_result *r, const char *type);
/* The exFAT boot region checksum, one sector at a time (sector i of the eleven summed). */
uint32_t probe_exfat_checksum(uint32_t sum, const unsigned char *sector, size_t len, unsigned i);

typedef int (*prober_fn)(const struct probe_src *src, struct probe_result *r);
int probe_squashfs(const struct probe_src *src, struct probe_result *r);
int probe_iso9660(const struct probe_src *src, struct probe_result *r);
int probe_ext4(const struct probe_src *src, struct probe_result *r);
int probe_exfat(const struct probe_src *src, struct probe_result *r);
int probe_vfat(const struct probe_src *src, struct probe_result *r);

/* The table probe_fd and probe_buf run, in order, ended by { NULL, NULL } (the fuzz harness has a
 * mode for each: initramfs/t/fuzz/probe-fuzzer.c). */
struct prober {
	const char *name;
	prober_fn fn;
};
extern const struct prober probers[];

/* What the probers know, for messages. */
#define PROBE_TYPES "ext2/3/4, vfat, exfat, iso9660, squashfs"

#endif
