/* slotrec.c: the slot record's one copy as bytes, and the choice between its two copies. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "byteorder.h"
#include "crc32c.h"
#include "slotrec.h"

/*
 * One copy, little-endian (docs/updates.md): the magic, the version, the length, the generation,
 * the good slot, the pending slot, its tries; version 1: a zero byte, then the CRC32C of the 28
 * bytes before it; version 2: the save's boot count, the save's good generation, then the CRC32C
 * of the 36 bytes before it. A record without the save part is written as version 1, which the
 * inits before version 2 read.
 */
enum {
	SR_MAGIC = 0,       /* 8 bytes "OVLSLOTS" */
	SR_VERSION = 8,     /* u32, 1 or 2 */
	SR_LENGTH = 12,     /* u32, the bytes the CRC follows: 28 or 36 */
	SR_GEN = 16,        /* u64, >= 1 */
	SR_GOOD = 24,       /* u8 */
	SR_PENDING = 25,    /* u8 */
	SR_TRIES = 26,      /* u8 */
	SR_SAVE_BOOTS = 27, /* u8; version 1: 0 */
	SR_CRC1 = 28,       /* version 1: u32 over bytes 0..27 */
	SR_SAVE_GOOD = 28,  /* version 2: u64 */
	SR_CRC2 = 36,       /* version 2: u32 over bytes 0..35 */
};
static const char sr_magic[8] = { 'O', 'V', 'L', 'S', 'L', 'O', 'T', 'S' };

void slotrec_encode(const struct slotrec *r, unsigned char out[SLOTREC_COPY_SIZE])
{
	int v2 = r->save_boots || r->save_good;
	unsigned crc_at = v2 ? SR_CRC2 : SR_CRC1;

	memset(out, 0, SLOTREC_COPY_SIZE);
	memcpy(out + SR_MAGIC, sr_magic, sizeof sr_magic);
	put_le32(out + SR_VERSION, v2 ? 2 : 1);
	put_le32(out + SR_LENGTH, crc_at);
	put_le64(out + SR_GEN, r->gen);
	out[SR_GOOD] = r->good;
	out[SR_PENDING] = r->pending;
	out[SR_TRIES] = r->tries;
	if (v2) {
		out[SR_SAVE_BOOTS] = r->save_boots;
		put_le64(out + SR_SAVE_GOOD, r->save_good);
	}
	put_le32(out + crc_at, crc32c(0, out, crc_at));
}

int slotrec_decode(const unsigned char *p, size_t len, struct slotrec *r, const char **why)
{
	size_t n = len < SLOTREC_COPY_SIZE ? len : SLOTREC_COPY_SIZE, i;

	for (i = 0; i < n && !p[i]; i++)
		;
	if (i == n)
		return -ENOENT;
	*why = "the copy is cut short";
	if (len < SLOTREC_COPY_SIZE)
		return -EBADMSG;
	uint32_t version = get_le32(p + SR_VERSION), crc_at = version == 2 ? SR_CRC2 : SR_CRC1;

	*why = "no slot record magic";
	if (memcmp(p + SR_MAGIC, sr_magic, sizeof sr_magic))
		return -EBADMSG;
	*why = "a version or length this program does not know (a newer overlive wrote it)";
	if ((version != 1 && version != 2) || get_le32(p + SR_LENGTH) != crc_at)
		return -EBADMSG;
	*why = "its checksum does not match (a torn or damaged write)";
	if (get_le32(p + crc_at) != crc32c(0, p, crc_at))
		return -EBADMSG;
	r->gen = get_le64(p + SR_GEN);
	r->good = p[SR_GOOD];
	r->pending = p[SR_PENDING];
	r->tries = p[SR_TRIES];
	r->save_boots = version == 2 ? p[SR_SAVE_BOOTS] : 0;
	r->save_good = version == 2 ? get_le64(p + SR_SAVE_GOOD) : 0;
	*why = "generation 0";
	if (!r->gen)
		return -EBADMSG;
	*why = "the good slot is neither A nor B";
	if (r->good != SLOT_A && r->good != SLOT_B)
		return -EBADMSG;
	*why = "the pending slot is neither A, B nor none, or is the good one";
	if ((r->pending != SLOT_A && r->pending != SLOT_B && r->pending != SLOT_NONE) || r->pending == r->good)
		return -EBADMSG;
	*why = "more tries than a record may hold, or tries without a pending slot";
	if (r->tries > SLOTREC_MAX_TRIES || (r->pending == SLOT_NONE && r->tries))
		return -EBADMSG;
	*why = "a reserved byte is not zero";
	if (version == 1 && p[SR_SAVE_BOOTS])
		return -EBADMSG;
	*why = "a save boot count without a good save generation";
	if (r->save_boots && !r->save_good)
		return -EBADMSG;
	*why = NULL;
	return 0;
}

int slotrec_choose(const unsigned char *file, size_t len, struct slotrec *r, int *newest, const char **why)
{
	struct slotrec c[SLOTREC_COPIES];
	const char *w[SLOTREC_COPIES] = { NULL, NULL };
	int e[SLOTREC_COPIES], best = -1, written = 0;

	for (int i = 0; i < SLOTREC_COPIES; i++) {
		size_t off = (size_t)slotrec_copy_off(i);
		e[i] = slotrec_decode(file + (off < len ? off : len), off < len ? len - off : 0, &c[i], &w[i]);
		if (e[i] != -ENOENT)
			written = 1;
		if (e[i] == 0 && (best < 0 || c[i].gen > c[best].gen))
			best = i;
	}
	if (!written)
		return -ENOENT;
	if (best < 0) {
		*why = w[0] ? w[0] : w[1];
		return -EBADMSG;
	}
	int other = 1 - best;
	if (e[other] == 0 && c[other].gen == c[best].gen && (c[other].good != c[best].good ||
	    c[other].pending != c[best].pending || c[other].tries != c[best].tries ||
	    c[other].save_boots != c[best].save_boots || c[other].save_good != c[best].save_good)) {
		*why = "its two copies hold one generation with different contents";
		return -EBADMSG;
	}
	*r = c[best];
	*newest = best;
	*why = NULL;
	return 0;
}

void slotrec_describe(const struct slotrec *r, char *out, size_t cap)
{
	if (r->pending == SLOT_NONE)
		snprintf(out, cap, "good %c, nothing pending", slot_letter(r->good));
	else
		snprintf(out, cap, "good %c, pending %c with %u %s left", slot_letter(r->good),
			 slot_letter(r->pending), r->tries, r->tries == 1 ? "try" : "tries");
}

int slot_file_name(const char *a, int slot, char *out, size_t cap)
{
	size_t len = strlen(a);
	int n;

	if (slot == SLOT_A)
		n = snprintf(out, cap, "%s", a);
	else if (len > 5 && !strcmp(a + len - 5, ".sqfs"))
		n = snprintf(out, cap, "%.*s-b.sqfs", (int)(len - 5), a);
	else
		n = snprintf(out, cap, "%s-b", a);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
