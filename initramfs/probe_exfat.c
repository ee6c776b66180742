/* probe_exfat.c: exFAT main boot region, checked as the kernel and blkid do; LABEL from the root. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "probe.h"

/* Main boot sector offsets (exFAT specification 3.1), little-endian. */
enum {
	XB_JUMP = 0,			/* EB 76 90 */
	XB_FSNAME = 3,			/* "EXFAT   " */
	XB_ZERO = 11, XB_ZERO_LEN = 53,	/* where a FAT's BPB would be: must be zero */
	XB_VOLUME_LENGTH = 72,		/* u64, sectors */
	XB_FAT_OFFSET = 80,		/* u32, sectors */
	XB_FAT_LENGTH = 84,		/* u32, sectors */
	XB_HEAP_OFFSET = 88,		/* u32, sectors */
	XB_CLUSTER_COUNT = 92,		/* u32 */
	XB_ROOT_CLUSTER = 96,		/* u32 */
	XB_SERIAL = 100,		/* u32 */
	XB_FLAGS = 106,			/* u16, left out of the checksum (it changes at mount) */
	XB_SECTOR_SHIFT = 108,		/* 9..12 */
	XB_CLUSTER_SHIFT = 109,		/* at most 25 - sector shift (32 MiB clusters) */
	XB_FATS = 110,			/* 1 or 2 */
	XB_PERCENT = 112,		/* left out of the checksum */
	XB_SIGNATURE = 510,		/* 55 AA */
	XB_SUMMED_SECTORS = 11,		/* the boot checksum covers sectors 0-10; sector 11 repeats it */
	XB_MAX_SECTOR = 4096,
};

/* Directory entries: 32 bytes; the volume label is type 0x83, up to 11 UTF-16LE units at byte 2. */
enum {
	XD_SIZE = 32, XD_END = 0x00, XD_LABEL = 0x83, XD_LABEL_UNITS = 11,
	ROOT_MAX_ENTRIES = 4096,	/* bound on the root directory scan (128 KiB; mkfs puts the label first) */
	FIRST_CLUSTER = 2,
};

/* The boot region checksum (spec 3.4) over one sector of the eleven, index i of them. */
uint32_t probe_exfat_checksum(uint32_t sum, const unsigned char *sector, size_t len, unsigned i)
{
	for (size_t k = 0; k < len; k++) {
		if (i == 0 && (k == XB_FLAGS || k == XB_FLAGS + 1 || k == XB_PERCENT))
			continue;
		sum = ((sum & 1) ? 0x80000000u : 0) + (sum >> 1) + sector[k];
	}
	return sum;
}

struct exfat_geom {
	unsigned sector_shift, cluster_shift;
	uint64_t fat_offset, heap_offset;	/* bytes */
	uint32_t clusters;
};

/* The kernel's exfat_read_boot_sector checks and blkid's exfat_valid_superblock, together. */
static int exfat_geometry(const unsigned char *bs, struct exfat_geom *g)
{
	uint64_t fat_len = get_le32(bs + XB_FAT_LENGTH), fat_off = get_le32(bs + XB_FAT_OFFSET);
	uint64_t heap = get_le32(bs + XB_HEAP_OFFSET);

	if (memcmp(bs + XB_JUMP, "\xeb\x76\x90", 3) || memcmp(bs + XB_FSNAME, "EXFAT   ", 8) ||
	    bs[XB_SIGNATURE] != 0x55 || bs[XB_SIGNATURE + 1] != 0xaa)
		return -ENOENT;
	for (unsigned i = 0; i < XB_ZERO_LEN; i++)
		if (bs[XB_ZERO + i])
			return -ENOENT;
	if (bs[XB_FATS] != 1 && bs[XB_FATS] != 2)
		return -ENOENT;
	g->sector_shift = bs[XB_SECTOR_SHIFT];
	g->cluster_shift = bs[XB_CLUSTER_SHIFT];
	if (g->sector_shift < 9 || g->sector_shift > 12 || g->cluster_shift > 25 - g->sector_shift)
		return -ENOENT;
	g->clusters = get_le32(bs + XB_CLUSTER_COUNT);
	/* the FAT holds an entry for every cluster and the two reserved ones; the heap follows the FATs */
	if ((fat_len << g->sector_shift) < ((uint64_t)g->clusters + FIRST_CLUSTER) * 4)
		return -ENOENT;
	if (heap < fat_off + fat_len * bs[XB_FATS])
		return -ENOENT;
	g->fat_offset = fat_off << g->sector_shift;
	g->heap_offset = heap << g->sector_shift;
	return 0;
}

/* Sectors 0-10 summed, and every u32 of sector 11 equal to the sum. */
static int checksum_ok(const struct probe_src *src, unsigned sector_shift)
{
	unsigned char sec[XB_MAX_SECTOR];
	size_t len = (size_t)1 << sector_shift;
	uint32_t sum = 0;

	for (unsigned i = 0; i < XB_SUMMED_SECTORS; i++) {
		if (probe_read(src, sec, len, (uint64_t)i << sector_shift))
			return 0;
		sum = probe_exfat_checksum(sum, sec, len, i);
	}
	if (probe_read(src, sec, len, (uint64_t)XB_SUMMED_SECTORS << sector_shift))
		return 0;
	for (size_t k = 0; k < len; k += 4)
		if (get_le32(sec + k) != sum)
			return 0;
	return 1;
}

/* The root directory's cluster chain, a bounded number of entries: the label entry, if any. */
static int root_label(const struct probe_src *src, const struct exfat_geom *g, uint32_t cluster,
		      unsigned char entry[XD_SIZE])
{
	uint64_t per_cluster = ((uint64_t)1 << (g->sector_shift + g->cluster_shift)) / XD_SIZE;
	unsigned char e[4];

	for (unsigned seen = 0; seen < ROOT_MAX_ENTRIES;) {
		if (cluster < FIRST_CLUSTER || cluster - FIRST_CLUSTER >= g->clusters)
			return 0;
		uint64_t off = g->heap_offset +
			       ((uint64_t)(cluster - FIRST_CLUSTER) << (g->sector_shift + g->cluster_shift));
		for (uint64_t i = 0; i < per_cluster && seen < ROOT_MAX_ENTRIES; i++, seen++) {
			if (probe_read(src, entry, XD_SIZE, off + i * XD_SIZE))
				return 0;
			if (entry[0] == XD_END)
				return 0;
			if (entry[0] == XD_LABEL)
				return 1;
		}
		if (probe_read(src, e, 4, g->fat_offset + (uint64_t)cluster * 4))
			return 0;
		cluster = get_le32(e);
	}
	return 0;
}

int probe_exfat(const struct probe_src *src, struct probe_result *r)
{
	unsigned char bs[512], label[XD_SIZE];
	struct exfat_geom g;
	int err;

	err = probe_read(src, bs, sizeof bs, 0);
	if (err)
		return err;
	if (exfat_geometry(bs, &g) || !checksum_ok(src, g.sector_shift))
		return -ENOENT;
	probe_set_type(r, "exfat");
	if (root_label(src, &g, get_le32(bs + XB_ROOT_CLUSTER), label)) {
		size_t units = label[1] < XD_LABEL_UNITS ? label[1] : XD_LABEL_UNITS;
		probe_set_label_utf16(r, label + 2, units * 2, 0);
	}
	snprintf(r->uuid, sizeof r->uuid, "%02X%02X-%02X%02X", bs[XB_SERIAL + 3], bs[XB_SERIAL + 2],
		 bs[XB_SERIAL + 1], bs[XB_SERIAL]);
	uint64_t sectors = get_le64(bs + XB_VOLUME_LENGTH);
	r->size = sectors >> (64 - g.sector_shift) ? 0 : sectors << g.sector_shift;
	return 0;
}
