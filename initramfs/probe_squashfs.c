/* probe_squashfs.c: squashfs 4.x superblock (magic "hsqs" at 0); no label, no UUID. */
#include <errno.h>
#include "probe.h"

/* On-disk superblock, little-endian; only the fields we check (offsets from the start). */
enum {
	SQ_MAGIC = 0,		/* u32 0x73717368 "hsqs" */
	SQ_BLOCK_SIZE = 12,	/* u32 */
	SQ_BLOCK_LOG = 22,	/* u16, log2(block_size) */
	SQ_MAJOR = 28,		/* u16, 4 */
	SQ_BYTES_USED = 40,	/* u64 */
	SQ_SB_SIZE = 96,
};

int probe_squashfs(const struct probe_src *src, struct probe_result *r)
{
	unsigned char sb[SQ_SB_SIZE];
	uint32_t bs;
	uint16_t blog;
	int err;

	err = probe_read(src, sb, sizeof sb, 0);
	if (err)
		return err;
	if (get_le32(sb + SQ_MAGIC) != 0x73717368)
		return -ENOENT;
	/* Only 4.x is "squashfs" to the kernel (and to blkid); the block size must be self-consistent. */
	if (get_le16(sb + SQ_MAJOR) != 4)
		return -ENOENT;
	bs = get_le32(sb + SQ_BLOCK_SIZE);
	blog = get_le16(sb + SQ_BLOCK_LOG);
	if (blog < 12 || blog > 20 || bs != 1u << blog)
		return -ENOENT;
	probe_set_type(r, "squashfs");
	r->size = get_le64(sb + SQ_BYTES_USED);
	return 0;
}
