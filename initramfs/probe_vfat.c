/* probe_vfat.c: FAT12/16/32 boot sector; LABEL from the root directory (else the boot sector). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "probe.h"

/* Boot sector (BPB) offsets, little-endian and unaligned. */
enum {
	BS_JUMP = 0,
	BPB_SECTOR_SIZE = 11,		/* u16 */
	BPB_CLUSTER_SIZE = 13,		/* u8, sectors per cluster */
	BPB_RESERVED = 14,		/* u16 sectors before the first FAT */
	BPB_FATS = 16,			/* u8 */
	BPB_DIR_ENTRIES = 17,		/* u16, FAT12/16 root directory entries */
	BPB_SECTORS16 = 19,		/* u16, else SECTORS32 */
	BPB_MEDIA = 21,			/* u8 */
	BPB_FAT_LENGTH16 = 22,		/* u16, 0 on FAT32 */
	BPB_SECTORS32 = 32,		/* u32 */
	/* FAT12/16 extended BPB */
	BS16_SERIAL = 39, BS16_LABEL = 43, BS16_FSTYPE = 54,
	/* FAT32 extended BPB */
	BS32_FAT_LENGTH = 36,		/* u32 */
	BS32_ROOT_CLUSTER = 44,		/* u32 */
	BS32_FSINFO = 48,		/* u16 sector */
	BS32_SERIAL = 67, BS32_LABEL = 71, BS32_FSTYPE = 82,
	BS_SIGNATURE = 510,		/* 0x55 0xAA */
	BS_SIZE = 512,
};

/* Directory entries: 32 bytes; name 11, attributes, first cluster split in two halves. */
enum {
	DE_SIZE = 32, DE_ATTR = 11, DE_CLUSTER_HI = 20, DE_CLUSTER_LO = 26,
	ATTR_VOLUME_ID = 0x08, ATTR_DIR = 0x10, ATTR_LONG_NAME = 0x0f, ATTR_MASK = 0x3f,
	DE_FREE = 0xe5,
	ROOT_MAX_ENTRIES = 4096,	/* bound on the root directory scan (128 KiB) */
	FAT32_MAX_CLUSTERS_WALKED = 99,
};

#define FAT12_MAX 0xff4u
#define FAT16_MAX 0xfff4u
#define FAT32_MAX 0x0ffffff6u

static const unsigned char no_name[11] = "NO NAME    ";

/* The signatures blkid accepts: an FS-type string, else a jump opcode plus 0x55AA. */
static int has_fat_magic(const unsigned char *bs)
{
	static const struct { const char *s; size_t len, off; } magics[] = {
		{ "MSWIN", 5, BS32_FSTYPE }, { "FAT32   ", 8, BS32_FSTYPE },
		{ "MSDOS", 5, BS16_FSTYPE }, { "FAT16   ", 8, BS16_FSTYPE },
		{ "FAT12   ", 8, BS16_FSTYPE }, { "FAT     ", 8, BS16_FSTYPE },
	};

	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
		if (memcmp(bs + magics[i].off, magics[i].s, magics[i].len) == 0)
			return 1;
	if (bs[BS_JUMP] != 0xeb && bs[BS_JUMP] != 0xe9 &&
	    !(bs[BS_SIGNATURE] == 0x55 && bs[BS_SIGNATURE + 1] == 0xaa))
		return 0;
	/* Without a FAT string: old floppies still carry 0x55AA; JFS and HPFS fake a BPB. */
	if (bs[BS_SIGNATURE] != 0x55 || bs[BS_SIGNATURE + 1] != 0xaa)
		return 0;
	if (!memcmp(bs + BS16_FSTYPE, "JFS     ", 8) || !memcmp(bs + BS16_FSTYPE, "HPFS    ", 8))
		return 0;
	return 1;
}

static int is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Geometry from the BPB, checked like blkid's fat_valid_superblock. */
struct fat_geom {
	uint32_t sector_size, cluster_size, reserved, fats, dir_entries;
	uint64_t sectors, fat_length, clusters;
	int fat32;
};

static int fat_geometry(const unsigned char *bs, struct fat_geom *g)
{
	uint64_t overhead, dir_sectors, max;

	g->sector_size = get_le16(bs + BPB_SECTOR_SIZE);
	g->cluster_size = bs[BPB_CLUSTER_SIZE];
	g->reserved = get_le16(bs + BPB_RESERVED);
	g->fats = bs[BPB_FATS];
	g->dir_entries = get_le16(bs + BPB_DIR_ENTRIES);
	if (!g->fats || !g->reserved)
		return -ENOENT;
	if (!(bs[BPB_MEDIA] >= 0xf8 || bs[BPB_MEDIA] == 0xf0))
		return -ENOENT;
	if (!is_pow2(g->cluster_size))
		return -ENOENT;
	if (!is_pow2(g->sector_size) || g->sector_size < 512 || g->sector_size > 4096)
		return -ENOENT;
	g->sectors = get_le16(bs + BPB_SECTORS16);
	if (!g->sectors)
		g->sectors = get_le32(bs + BPB_SECTORS32);
	g->fat_length = get_le16(bs + BPB_FAT_LENGTH16);
	g->fat32 = g->fat_length == 0 && get_le32(bs + BS32_FAT_LENGTH) != 0;
	if (!g->fat_length)
		g->fat_length = get_le32(bs + BS32_FAT_LENGTH);
	dir_sectors = ((uint64_t)g->dir_entries * DE_SIZE + g->sector_size - 1) / g->sector_size;
	overhead = g->reserved + g->fat_length * g->fats + dir_sectors;
	if (g->sectors < overhead)
		return -ENOENT;
	g->clusters = (g->sectors - overhead) / g->cluster_size;
	if (g->fat32)
		max = FAT32_MAX;
	else
		max = g->clusters > FAT12_MAX ? FAT16_MAX : FAT12_MAX;
	return g->clusters > max ? -ENOENT : 0;
}

/*
 * Scans up to max entries at off for the volume-label entry; *left counts down the overall
 * bound. Returns 1 found (name copied), 0 not here, -1 at the end of the directory.
 */
static int scan_dir(const struct probe_src *src, uint64_t off, uint64_t max, unsigned *left,
		    unsigned char name[11])
{
	unsigned char chunk[BS_SIZE];

	for (uint64_t i = 0; i < max; i += BS_SIZE / DE_SIZE) {
		if (probe_read(src, chunk, sizeof chunk, off + i * DE_SIZE))
			return -1;
		for (unsigned j = 0; j < BS_SIZE / DE_SIZE && i + j < max; j++) {
			const unsigned char *e = chunk + j * DE_SIZE;
			if (!*left)
				return -1;
			--*left;
			if (e[0] == 0)
				return -1;
			if (e[0] == DE_FREE || get_le16(e + DE_CLUSTER_HI) || get_le16(e + DE_CLUSTER_LO) ||
			    (e[DE_ATTR] & ATTR_MASK) == ATTR_LONG_NAME)
				continue;
			if ((e[DE_ATTR] & (ATTR_VOLUME_ID | ATTR_DIR)) == ATTR_VOLUME_ID) {
				memcpy(name, e, 11);
				return 1;
			}
		}
	}
	return 0;
}

/* FAT32: the root directory is a cluster chain; follow it a bounded number of steps. */
static int fat32_root_label(const struct probe_src *src, const struct fat_geom *g,
			    uint32_t cluster, unsigned char name[11])
{
	uint64_t fat_entries = g->fat_length * g->sector_size / 4;
	uint64_t data_start = g->reserved + g->fat_length * g->fats;
	uint64_t per_cluster = (uint64_t)g->cluster_size * g->sector_size / DE_SIZE;
	unsigned left = ROOT_MAX_ENTRIES;
	unsigned char e[4];

	for (int steps = 0; steps < FAT32_MAX_CLUSTERS_WALKED; steps++) {
		if (cluster < 2 || cluster >= fat_entries)
			return 0;
		uint64_t off = (data_start + (uint64_t)(cluster - 2) * g->cluster_size) * g->sector_size;
		int found = scan_dir(src, off, per_cluster, &left, name);
		if (found)
			return found > 0;
		if (probe_read(src, e, 4, (uint64_t)g->reserved * g->sector_size + (uint64_t)cluster * 4))
			return 0;
		cluster = get_le32(e) & 0x0fffffff;
	}
	return 0;
}

/* FAT32's FSInfo sector, when it has one, carries its signatures or is zeroed. */
static int fsinfo_ok(const struct probe_src *src, const struct fat_geom *g, uint16_t sect)
{
	unsigned char fi[BS_SIZE];

	if (!sect)
		return 1;
	if (probe_read(src, fi, sizeof fi, (uint64_t)sect * g->sector_size))
		return 0;
	if (memcmp(fi, "RRaA", 4) && memcmp(fi, "RRdA", 4) && memcmp(fi, "\0\0\0\0", 4))
		return 0;
	return !memcmp(fi + 484, "rrAa", 4) || !memcmp(fi + 484, "\0\0\0\0", 4);
}

int probe_vfat(const struct probe_src *src, struct probe_result *r)
{
	unsigned char bs[BS_SIZE], name[11];
	const unsigned char *label = NULL, *serial = NULL;
	struct fat_geom g;
	int err;

	err = probe_read(src, bs, sizeof bs, 0);
	if (err)
		return err;
	if (!has_fat_magic(bs) || fat_geometry(bs, &g))
		return -ENOENT;

	if (get_le16(bs + BPB_FAT_LENGTH16)) {
		unsigned left = ROOT_MAX_ENTRIES;
		uint64_t root = ((uint64_t)g.reserved + g.fat_length * g.fats) * g.sector_size;
		if (scan_dir(src, root, g.dir_entries, &left, name) > 0 && memcmp(name, no_name, 11))
			label = name;
		else
			label = bs + BS16_LABEL;
		serial = bs + BS16_SERIAL;
	} else if (g.fat32) {
		if (fat32_root_label(src, &g, get_le32(bs + BS32_ROOT_CLUSTER), name) &&
		    memcmp(name, no_name, 11))
			label = name;
		else
			label = bs + BS32_LABEL;
		serial = bs + BS32_SERIAL;
		if (!fsinfo_ok(src, &g, get_le16(bs + BS32_FSINFO)))
			return -ENOENT;
	}

	probe_set_type(r, "vfat");
	if (label && memcmp(label, no_name, 11))
		probe_set_label(r, label, 11);
	if (serial)
		snprintf(r->uuid, sizeof r->uuid, "%02X%02X-%02X%02X",
			 serial[3], serial[2], serial[1], serial[0]);
	r->size = g.sectors * g.sector_size;
	return 0;
}
