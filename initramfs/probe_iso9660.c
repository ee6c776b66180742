/* probe_iso9660.c: ISO 9660 primary volume descriptor (+ Joliet label), as blkid reports it. */
#include <errno.h>
#include <string.h>
#include "probe.h"

/*
 * Volume descriptors are 2048-byte sectors from sector 16 on: type, "CD001", version.
 * Numbers are "both-endian": the little-endian copy followed by the big-endian one.
 */
enum {
	ISO_SECTOR = 2048,
	ISO_VD_START = 16 * ISO_SECTOR,
	ISO_VD_MAX = 16,		/* descriptors looked at after the PVD (as blkid) */
	VD_TYPE = 0, VD_ID = 1,
	VD_VOLUME_ID = 40,		/* 32 bytes, a-characters, space padded */
	VD_SPACE_SIZE = 80,		/* both-endian u32: LE at 80, BE at 84, in logical blocks */
	VD_ESCAPES = 88,		/* SVD: Joliet's "%/@", "%/C" or "%/E" */
	VD_BLOCK_SIZE = 128,		/* both-endian u16: LE at 128, BE at 130 */
	VD_CREATED = 813,		/* 17-byte dates: YYYYMMDDHHMMSSCC + GMT offset */
	VD_MODIFIED = 830,
	VD_SIZE = 847,			/* what we read of a descriptor */
	VD_SUPPLEMENTARY = 2, VD_END = 255,
};

/* blkid's UUID: the date digits as "YYYY-MM-DD-HH-MM-SS-CC"; an all-'0' date with no offset is unset. */
static int set_uuid_from_date(struct probe_result *r, const unsigned char *d)
{
	static const unsigned char dash_after[16] = { [3] = 1, [5] = 1, [7] = 1, [9] = 1, [11] = 1, [13] = 1 };
	size_t i, n = 0, zeros = 0;

	for (i = 0; i < 16; i++)
		zeros += d[i] == '0';
	if (zeros == 16 && d[16] == 0)
		return 0;
	for (i = 0; i < 16; i++) {
		if (!d[i])
			break;
		r->uuid[n++] = (char)d[i];
		if (dash_after[i])
			r->uuid[n++] = '-';
	}
	r->uuid[n] = '\0';
	return 1;
}

/* Does the UCS-2 name (16 units) spell the first 16 bytes of the ASCII one? */
static int joliet_eq_ascii(const unsigned char *ucs, const unsigned char *ascii)
{
	for (size_t i = 0; i < 16; i++)
		if (ucs[2 * i] != 0 || ucs[2 * i + 1] != ascii[i])
			return 0;
	return 1;
}

int probe_iso9660(const struct probe_src *src, struct probe_result *r)
{
	unsigned char pvd[VD_SIZE], vd[VD_SIZE];
	uint32_t blocks;
	uint16_t bsize;
	int err;

	err = probe_read(src, pvd, sizeof pvd, ISO_VD_START);
	if (err)
		return err;
	/* blkid goes by the "CD001" of the first descriptor; on a sane image it is the PVD. */
	if (memcmp(pvd + VD_ID, "CD001", 5) != 0)
		return -ENOENT;
	probe_set_type(r, "iso9660");

	blocks = get_le32(pvd + VD_SPACE_SIZE);
	bsize = get_le16(pvd + VD_BLOCK_SIZE);
	if (blocks == get_be32(pvd + VD_SPACE_SIZE + 4) && bsize == get_be16(pvd + VD_BLOCK_SIZE + 2))
		r->size = (unsigned long long)blocks * bsize;

	if (!set_uuid_from_date(r, pvd + VD_MODIFIED))
		(void)set_uuid_from_date(r, pvd + VD_CREATED);

	/* A Joliet SVD's label wins unless it only repeats (a 16-character cut of) the PVD's. */
	for (unsigned i = 0; i < ISO_VD_MAX; i++) {
		if (probe_read(src, vd, sizeof vd, ISO_VD_START + (uint64_t)(i + 1) * ISO_SECTOR))
			break;
		if (vd[VD_TYPE] == VD_END)
			break;
		if (vd[VD_TYPE] != VD_SUPPLEMENTARY)
			continue;
		if (memcmp(vd + VD_ESCAPES, "%/@", 3) && memcmp(vd + VD_ESCAPES, "%/C", 3) &&
		    memcmp(vd + VD_ESCAPES, "%/E", 3))
			continue;
		if (joliet_eq_ascii(vd + VD_VOLUME_ID, pvd + VD_VOLUME_ID))
			break;
		probe_set_label_utf16(r, vd + VD_VOLUME_ID, 32, 1);
		return 0;
	}
	probe_set_label(r, pvd + VD_VOLUME_ID, 32);
	return 0;
}
