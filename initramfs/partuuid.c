/*
 * partuuid.c: a partition's PARTUUID, read from its disk's partition table the way the kernel's
 * root=PARTUUID= and blkid see it: a GPT entry's unique partition GUID, or for an MBR disk its
 * signature and the partition number, "ssssssss-nn".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "probe.h"

#define MBR_SIG_OFF   440
#define MBR_PART_OFF  446
#define MBR_TYPE_GPT  0xee
#define GPT_HDR_MIN   92
#define GPT_ENTRY_MIN 128

/* The GUID at p as blkid prints it: the first three fields little-endian, the rest in byte order. */
static void guid_format(const unsigned char *p, char *out, size_t cap)
{
	snprintf(out, cap, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", get_le32(p), get_le16(p + 4),
		 get_le16(p + 6), p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
}

/* The GPT whose header is at LBA 1 of sector bytes: the unique GUID of entry partno. */
static int gpt_partuuid(const struct probe_src *disk, unsigned sector, unsigned partno, char *out, size_t cap)
{
	unsigned char h[GPT_HDR_MIN], e[32];
	uint32_t hsize, count, esize;
	uint64_t lba;
	int r;

	if ((r = probe_read(disk, h, sizeof h, sector)) < 0)
		return r;
	if (memcmp(h, "EFI PART", 8))
		return -ENOENT;
	hsize = get_le32(h + 12);
	lba = get_le64(h + 72);
	count = get_le32(h + 80);
	esize = get_le32(h + 84);
	if (hsize < GPT_HDR_MIN || hsize > sector || esize < GPT_ENTRY_MIN || esize % 8 || esize > 4096 ||
	    lba < 2 || lba > UINT64_MAX / sector / 2 || partno > count)
		return -EINVAL;
	if ((r = probe_read(disk, e, sizeof e, lba * sector + (uint64_t)(partno - 1) * esize)) < 0)
		return r;
	static const unsigned char unused[16];
	if (!memcmp(e, unused, sizeof unused))
		return -ENOENT;                 /* an empty entry: no such partition */
	guid_format(e + 16, out, cap);
	return 0;
}

int probe_partuuid(const struct probe_src *disk, unsigned partno, char *out, size_t cap)
{
	unsigned char mbr[512];
	int r, gpt = 0;

	if (partno == 0)
		return -EINVAL;
	if ((r = probe_read(disk, mbr, sizeof mbr, 0)) < 0)
		return r;
	if (mbr[510] != 0x55 || mbr[511] != 0xaa)
		return -ENOENT;
	for (int i = 0; i < 4; i++)
		gpt |= mbr[MBR_PART_OFF + 16 * i + 4] == MBR_TYPE_GPT;
	if (!gpt) {
		snprintf(out, cap, "%08x-%02x", get_le32(mbr + MBR_SIG_OFF), partno);
		return 0;
	}
	/* The header sits in LBA 1: 512-byte sectors on most disks, 4096 on some. */
	r = gpt_partuuid(disk, 512, partno, out, cap);
	if (r == -ENOENT || r == -EINVAL) {
		int r4 = gpt_partuuid(disk, 4096, partno, out, cap);
		if (r4 != -ENOENT)
			r = r4;
	}
	return r;
}
