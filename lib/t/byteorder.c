/* byteorder.c: unit tests of the little- and big-endian field readers and writers. */
#include <string.h>
#include "byteorder.h"
#include "tap.h"

int main(void)
{
	const unsigned char b[9] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99 };
	unsigned char w[9];

	is_int(get_le16(b), 0x2211, "le16 reads the low byte first");
	is_int(get_be16(b), 0x1122, "be16 reads the high byte first");
	ok(get_le32(b + 1) == 0x55443322u, "le32 at an odd (unaligned) offset");
	ok(get_be32(b + 1) == 0x22334455u, "be32 at an odd offset");
	ok(get_le64(b + 1) == 0x9988776655443322ull, "le64 at an odd offset");
	ok(get_le32((const unsigned char[]){ 0, 0, 0, 0x80 }) == 0x80000000u, "le32 top bit is not sign-extended");
	memset(w, 0xee, sizeof w);
	put_le64(w + 1, 0x0102030405060708ull);
	ok(w[0] == 0xee && w[1] == 0x08 && w[8] == 0x01, "put_le64 writes 8 bytes, low first, and nothing else");
	ok(get_le64(w + 1) == 0x0102030405060708ull, "put_le64 then get_le64 round-trips");
	put_le16(w, 0xbeef);
	put_le32(w + 2, 0xdeadbeefu);
	ok(get_le16(w) == 0xbeef && get_le32(w + 2) == 0xdeadbeefu, "put_le16 and put_le32 round-trip");
	return tap_done(0);
}
