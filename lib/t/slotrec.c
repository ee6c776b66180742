/*
 * lib/t/slotrec.c: the slot record's copy against the bytes docs/updates.md lays out (written by
 * hand from the table, not by slotrec_encode), crafted copies it must refuse, and the choice
 * between two copies after the writes and the torn writes a power cut can leave.
 */
#include <errno.h>
#include <string.h>
#include "byteorder.h"
#include "crc32c.h"
#include "slotrec.h"
#include "tap.h"

static unsigned char file[SLOTREC_FILE_SIZE];

/* A copy with a valid CRC after a crafted change. */
static void recrc(unsigned char *p) { put_le32(p + 28, crc32c_tables(0, p, 28)); }

static int refused(const unsigned char *p, const char *want_why)
{
	struct slotrec r;
	const char *why = NULL;
	int e = slotrec_decode(p, SLOTREC_COPY_SIZE, &r, &why);
	if (e != -EBADMSG || !why || !strstr(why, want_why)) {
		tap_diag("got %d (%s), wanted -EBADMSG with '%s'", e, why ? why : "no why", want_why);
		return 0;
	}
	return 1;
}

static void put_copy(int i, uint64_t gen, int good, int pending, int tries)
{
	struct slotrec r = { .gen = gen, .good = (uint8_t)good, .pending = (uint8_t)pending, .tries = (uint8_t)tries };
	slotrec_encode(&r, file + slotrec_copy_off(i));
}

int main(void)
{
	/* generation 5, good A, pending B, 3 tries: the table's bytes */
	static const unsigned char want[28] = { 'O', 'V', 'L', 'S', 'L', 'O', 'T', 'S', 1, 0, 0, 0, 28, 0, 0, 0,
						5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 0 };
	unsigned char c[SLOTREC_COPY_SIZE], m[SLOTREC_COPY_SIZE];
	struct slotrec r = { .gen = 5, .good = SLOT_A, .pending = SLOT_B, .tries = 3 }, got;
	const char *why;
	char name[64], text[80];
	int newest = -1;

	slotrec_encode(&r, c);
	tap_ok(!memcmp(c, want, sizeof want), "a copy's first 28 bytes are the layout's");
	tap_ok(get_le32(c + 28) == crc32c_tables(0, want, 28), "then the CRC32C of those 28 bytes (the table code's)");
	int tail0 = 1;
	for (size_t i = 32; i < sizeof c; i++)
		tail0 &= !c[i];
	tap_ok(tail0, "the rest of the sector is zero");
	tap_ok(slotrec_decode(c, sizeof c, &got, &why) == 0 && got.gen == 5 && got.good == SLOT_A &&
	       got.pending == SLOT_B && got.tries == 3, "it decodes to the record written");

	memset(m, 0, sizeof m);
	tap_ok(slotrec_decode(m, sizeof m, &got, &why) == -ENOENT, "an all-zero copy was never written (-ENOENT)");
	memcpy(m, c, sizeof m); m[0] = 'X'; recrc(m);
	tap_ok(refused(m, "magic"), "refused: another magic");
	memcpy(m, c, sizeof m); m[17] ^= 1;
	tap_ok(refused(m, "checksum"), "refused: a flipped bit of the generation (checksum)");
	memcpy(m, c, sizeof m); m[29] ^= 0x80;
	tap_ok(refused(m, "checksum"), "refused: a flipped bit of the checksum");
	memcpy(m, c, sizeof m); m[8] = 3; recrc(m);
	tap_ok(refused(m, "version"), "refused: version 3");
	memcpy(m, c, sizeof m); m[8] = 2; recrc(m);
	tap_ok(refused(m, "length"), "refused: version 2 with version 1's length");
	memcpy(m, c, sizeof m); m[12] = 40; recrc(m);
	tap_ok(refused(m, "length"), "refused: another length");
	memcpy(m, c, sizeof m); memset(m + 16, 0, 8); recrc(m);
	tap_ok(refused(m, "generation 0"), "refused: generation 0");
	memcpy(m, c, sizeof m); m[24] = 2; recrc(m);
	tap_ok(refused(m, "good slot"), "refused: good slot 2");
	memcpy(m, c, sizeof m); m[25] = 0; recrc(m);
	tap_ok(refused(m, "pending"), "refused: pending slot = the good slot");
	memcpy(m, c, sizeof m); m[25] = 7; recrc(m);
	tap_ok(refused(m, "pending"), "refused: pending slot 7");
	memcpy(m, c, sizeof m); m[26] = SLOTREC_MAX_TRIES + 1; recrc(m);
	tap_ok(refused(m, "tries"), "refused: 16 tries");
	memcpy(m, c, sizeof m); m[25] = SLOT_NONE; recrc(m);
	tap_ok(refused(m, "tries"), "refused: tries without a pending slot");
	memcpy(m, c, sizeof m); m[27] = 1; recrc(m);
	tap_ok(refused(m, "reserved"), "refused: the reserved byte set");
	tap_ok(slotrec_decode(c, 100, &got, &why) == -EBADMSG && strstr(why, "short"), "refused: a copy cut short");

	/* version 2: the save's part (docs/updates.md's second table), by hand */
	static const unsigned char want2[36] = { 'O', 'V', 'L', 'S', 'L', 'O', 'T', 'S', 2, 0, 0, 0, 36, 0, 0, 0,
						 9, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 2,
						 0x2a, 0x01, 0, 0, 0, 0, 0, 0 };
	unsigned char c2[SLOTREC_COPY_SIZE];
	struct slotrec r2 = { .gen = 9, .good = SLOT_B, .pending = SLOT_NONE, .save_boots = 2, .save_good = 298 };
	slotrec_encode(&r2, c2);
	tap_ok(!memcmp(c2, want2, sizeof want2) && get_le32(c2 + 36) == crc32c_tables(0, want2, 36),
	       "with a save part: version 2's 36 bytes, then their CRC32C");
	tap_ok(slotrec_decode(c2, sizeof c2, &got, &why) == 0 && got.gen == 9 && got.good == SLOT_B &&
	       got.pending == SLOT_NONE && got.save_boots == 2 && got.save_good == 298, "it decodes to the record written");
	tap_ok(slotrec_decode(c, sizeof c, &got, &why) == 0 && got.save_boots == 0 && got.save_good == 0,
	       "a version 1 copy has no save part");
	memcpy(m, c2, sizeof m); memset(m + 28, 0, 8); put_le32(m + 36, crc32c_tables(0, m, 36));
	tap_ok(refused(m, "without a good save"), "refused: save boots counted without a good generation");
	memcpy(m, c2, sizeof m); m[12] = 28; put_le32(m + 36, crc32c_tables(0, m, 36));
	tap_ok(refused(m, "length"), "refused: version 2 with another length");
	memcpy(m, c2, sizeof m); m[30] ^= 4;
	tap_ok(refused(m, "checksum"), "refused: a flipped bit of the save's good generation (checksum)");

	/* the choice between the copies */
	memset(file, 0, sizeof file);
	tap_ok(slotrec_choose(file, 0, &got, &newest, &why) == -ENOENT, "an empty file: no record");
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == -ENOENT, "a zero file: no record");
	put_copy(0, 1, SLOT_A, SLOT_B, 3);
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == 0 && newest == 0 && got.tries == 3,
	       "the first write: copy 0");
	tap_ok(slotrec_choose(file, SLOTREC_COPY_SIZE, &got, &newest, &why) == 0 && newest == 0,
	       "a file that ends after copy 0 (a cut while it was made) still has it");
	put_copy(1, 2, SLOT_A, SLOT_B, 2);
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == 0 && newest == 1 && got.gen == 2 &&
	       got.tries == 2, "the second write, into copy 1: the newer generation wins");
	file[slotrec_copy_off(1) + 20] ^= 0xff;
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == 0 && newest == 0 && got.tries == 3,
	       "copy 1 torn: copy 0's older record (its tries, not fewer)");
	memset(file + slotrec_copy_off(1), 0x55, 200);
	file[slotrec_copy_off(0) + 3] ^= 1;
	why = NULL;
	int e = slotrec_choose(file, sizeof file, &got, &newest, &why);
	tap_ok(e == -EBADMSG && why, "both copies damaged: refused, with why (%s)", why ? why : "none");
	put_copy(0, 7, SLOT_B, SLOT_NONE, 0);
	put_copy(1, 7, SLOT_A, SLOT_NONE, 0);
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == -EBADMSG && strstr(why, "one generation"),
	       "two copies of one generation that differ: refused");
	put_copy(1, 7, SLOT_B, SLOT_NONE, 0);
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == 0 && got.good == SLOT_B,
	       "two equal copies of one generation: taken");
	r2.gen = 7;
	slotrec_encode(&r2, file + slotrec_copy_off(1));
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == -EBADMSG && strstr(why, "one generation"),
	       "two copies of one generation, one with a save part: refused");
	r2.gen = 8;
	slotrec_encode(&r2, file + slotrec_copy_off(1));
	tap_ok(slotrec_choose(file, sizeof file, &got, &newest, &why) == 0 && newest == 1 && got.save_good == 298,
	       "a version 2 copy newer than a version 1 copy: taken");

	tap_ok(slot_file_name("root.sqfs", SLOT_B, name, sizeof name) == 0 && !strcmp(name, "root-b.sqfs"),
	       "slot B of root.sqfs is root-b.sqfs");
	tap_ok(slot_file_name("root.sqfs", SLOT_A, name, sizeof name) == 0 && !strcmp(name, "root.sqfs"),
	       "slot A is live.root's own name");
	tap_ok(slot_file_name("image", SLOT_B, name, sizeof name) == 0 && !strcmp(name, "image-b"),
	       "a name without .sqfs gets -b");
	tap_ok(slot_file_name("root.sqfs", SLOT_B, name, 8) == -ENAMETOOLONG, "a name too long for its buffer: refused");
	r.tries = 1;
	slotrec_describe(&r, text, sizeof text);
	is_str(text, "good A, pending B with 1 try left", "described");
	return tap_done(0);
}
