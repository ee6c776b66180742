/* fatmap.c: where a file's one contiguous cluster run lies on its FAT device, read from the FAT. */
#include <errno.h>
#include <linux/fs.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"

#define FAT_READ_CHUNK 65536u

/*
 * A persistence image on a FAT is written in place: its clusters never change. When they are one
 * run, a loop device over that byte range of the device itself does its writes, and the FAT is
 * mounted read-only: never dirty, nothing to repair after a cut, clean at every shutdown.
 * Returns 0 with *off (bytes from the device's start), -EXDEV when the file is not one run (or
 * the FAT is FAT12), or -errno. FIBMAP gives the first block; the FAT itself proves the rest.
 */
int fat_file_extent(int devfd, int filefd, uint64_t *off)
{
	unsigned char bs[512], buf[FAT_READ_CHUNK];
	struct stat st;
	int bsz = 0, blk = 0;

	if (pread(devfd, bs, sizeof bs, 0) != (ssize_t)sizeof bs)
		return -EIO;
	uint32_t bps = get_le16(bs + 11), spc = bs[13], res = get_le16(bs + 14), nfats = bs[16];
	uint32_t rootsecs = (get_le16(bs + 17) * 32u + bps - 1) / (bps ? bps : 1);
	uint32_t fatsz = get_le16(bs + 22) ? get_le16(bs + 22) : get_le32(bs + 36);
	uint32_t total = get_le16(bs + 19) ? get_le16(bs + 19) : get_le32(bs + 32);
	uint64_t data = (uint64_t)res + (uint64_t)nfats * fatsz + rootsecs;
	if (bps < 512 || (bps & (bps - 1)) || !spc || (spc & (spc - 1)) || !nfats || !fatsz || total <= data)
		return -EINVAL;
	uint64_t clusters = (total - data) / spc, csize = (uint64_t)bps * spc;
	if (clusters < 4085)
		return -EXDEV;                  /* FAT12: 12-bit entries, not worth the code */
	unsigned w = clusters < 65525 ? 2 : 4;
	uint32_t eoc = w == 2 ? 0xfff8 : 0x0ffffff8, mask = w == 2 ? 0xffff : 0x0fffffff;

	if (fstat(filefd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size % 512)
		return -EINVAL;
	if (ioctl(filefd, FIGETBSZ, &bsz) < 0 || ioctl(filefd, FIBMAP, &blk) < 0)
		return -errno;
	if (bsz <= 0 || blk <= 0)
		return -EXDEV;
	uint64_t phys = (uint64_t)(unsigned)blk * (uint64_t)bsz;
	if (phys % bps || phys / bps < data || (phys / bps - data) % spc)
		return -EXDEV;
	uint64_t first = (phys / bps - data) / spc + 2, n = ((uint64_t)st.st_size + csize - 1) / csize;
	if (first + n > clusters + 2)
		return -EXDEV;
	/* FAT[k] == k + 1 for every cluster but the last, whose entry ends the chain */
	for (uint64_t i = 0; i < n; ) {
		uint64_t take = n - i < FAT_READ_CHUNK / w ? n - i : FAT_READ_CHUNK / w;
		off_t at = (off_t)((uint64_t)res * bps + (first + i) * w);
		if (pread(devfd, buf, take * w, at) != (ssize_t)(take * w))
			return -EIO;
		for (uint64_t j = 0; j < take; j++, i++) {
			uint32_t e = (w == 2 ? get_le16(buf + j * w) : get_le32(buf + j * w)) & mask;
			if (i + 1 < n ? e != first + i + 1 : e < eoc)
				return -EXDEV;
		}
	}
	*off = phys;
	return 0;
}
