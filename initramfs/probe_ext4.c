/* probe_ext4.c: ext2/ext3/ext4 superblock at 1024, told apart by feature flags as blkid does. */
#include <errno.h>
#include <stdio.h>
#include "probe.h"

/* On-disk superblock offsets (little-endian). */
enum {
	EXT_SB_OFFSET = 1024, EXT_SB_SIZE = 1024,
	S_BLOCKS_LO = 4,		/* u32 */
	S_LOG_BLOCK_SIZE = 24,		/* u32: block size = 1024 << n */
	S_MAGIC = 56,			/* u16 0xEF53 */
	S_FEATURE_COMPAT = 92, S_FEATURE_INCOMPAT = 96, S_FEATURE_RO_COMPAT = 100,
	S_UUID = 104,			/* 16 bytes */
	S_VOLUME_NAME = 120,		/* 16 bytes */
	S_BLOCKS_HI = 336,		/* u32, with INCOMPAT_64BIT */
};

enum {
	COMPAT_HAS_JOURNAL = 0x0004,
	INCOMPAT_FILETYPE = 0x0002, INCOMPAT_RECOVER = 0x0004, INCOMPAT_JOURNAL_DEV = 0x0008,
	INCOMPAT_META_BG = 0x0010, INCOMPAT_64BIT = 0x0080,
	RO_COMPAT_SPARSE_SUPER = 0x0001, RO_COMPAT_LARGE_FILE = 0x0002, RO_COMPAT_BTREE_DIR = 0x0004,
	/* What ext2 and ext3 understand; anything beyond makes it ext4. */
	EXT2_INCOMPAT_SUPP = INCOMPAT_FILETYPE | INCOMPAT_META_BG,
	EXT3_INCOMPAT_SUPP = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG,
	EXT23_RO_COMPAT_SUPP = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR,
};

/* blkid's choice: journal device → not a filesystem; then ext4 if ext3 would not understand
 * it, ext3 with a journal, ext2 without. */
static const char *ext_type(uint32_t compat, uint32_t incompat, uint32_t ro_compat)
{
	if (incompat & INCOMPAT_JOURNAL_DEV)
		return NULL;
	if ((incompat & ~(uint32_t)EXT3_INCOMPAT_SUPP) || (ro_compat & ~(uint32_t)EXT23_RO_COMPAT_SUPP))
		return "ext4";
	if (compat & COMPAT_HAS_JOURNAL)
		return "ext3";
	if (incompat & ~(uint32_t)EXT2_INCOMPAT_SUPP)
		return NULL;	/* needs_recovery without a journal: nothing mounts it */
	return "ext2";
}

int probe_ext4(const struct probe_src *src, struct probe_result *r)
{
	unsigned char sb[EXT_SB_SIZE];
	uint32_t incompat, ro_compat, log_bs;
	const unsigned char *u;
	const char *type;
	uint64_t blocks;
	int err, zero = 1;

	err = probe_read(src, sb, sizeof sb, EXT_SB_OFFSET);
	if (err)
		return err;
	if (get_le16(sb + S_MAGIC) != 0xef53)
		return -ENOENT;
	incompat = get_le32(sb + S_FEATURE_INCOMPAT);
	ro_compat = get_le32(sb + S_FEATURE_RO_COMPAT);
	type = ext_type(get_le32(sb + S_FEATURE_COMPAT), incompat, ro_compat);
	if (!type)
		return -ENOENT;
	/*
	 * The superblock checksum (metadata_csum) is not checked, as blkid 2.38 does not: a medium
	 * with a damaged superblock is found, and its mount then fails with a message that says so.
	 */
	log_bs = get_le32(sb + S_LOG_BLOCK_SIZE);
	if (log_bs > 6)		/* more than 64 KiB blocks: no kernel mounts that */
		return -ENOENT;

	probe_set_type(r, type);
	probe_set_label(r, sb + S_VOLUME_NAME, 16);
	u = sb + S_UUID;
	for (int i = 0; i < 16; i++)
		zero &= u[i] == 0;
	if (!zero)
		snprintf(r->uuid, sizeof r->uuid,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
			 u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	blocks = get_le32(sb + S_BLOCKS_LO);
	if (incompat & INCOMPAT_64BIT)
		blocks |= (uint64_t)get_le32(sb + S_BLOCKS_HI) << 32;
	if (blocks <= UINT64_MAX >> (10 + log_bs))
		r->size = blocks << (10 + log_bs);
	return 0;
}
