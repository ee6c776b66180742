/* crc32c.c: known answers for lib/crc32c. */
#include "tap.h"
#include "crc32c.h"

/* the bytewise definition, bit by bit: the reference the tables must reproduce */
static uint32_t c2_of(const unsigned char *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return c;
}

int main(void)
{
	unsigned char zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof ones);
	is_int(crc32c(0, "123456789", 9), 0xe3069283, "check value of 123456789");
	is_int(crc32c(0, zeros, 32), 0x8a9136aa, "32 zero bytes (RFC 3720)");
	is_int(crc32c(0, ones, 32), 0x62a8ab43, "32 0xff bytes (RFC 3720)");
	is_int(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283, "chained equals whole");
	is_int(crc32c(0, "", 0), 0, "empty");
	/* the tables are made at the first call: the same known answers through them */
	is_int(crc32c_tables(0, "123456789", 9), 0xe3069283, "the tables: check value of 123456789");
	is_int(crc32c_tables(0, ones, 32), 0x62a8ab43, "the tables: 32 0xff bytes (RFC 3720)");
	{
		unsigned char big[1000];
		uint32_t whole, parts;
		int i, bad = 0;
		for (i = 0; i < 1000; i++)
			big[i] = (unsigned char)(i * 31 + 7);
		whole = crc32c(0, big, 1000);
		for (i = 0; i <= 1000; i += 7) {
			parts = crc32c(crc32c(0, big, (size_t)i), big + i, (size_t)(1000 - i));
			bad += parts != whole;
		}
		is_int(bad, 0, "any split and alignment gives the same CRC");
		is_int(~c2_of(big, 1000), whole, "matches the bitwise definition over 1000 bytes");
		is_int(crc32c_tables(0, big, 1000), whole, "the tables agree with what this CPU runs");
		is_int(crc32c_tables(0, big + 3, 997), ~c2_of(big + 3, 997), "the tables at an odd address match the bitwise definition");
	}
	{
		/* every length and alignment up to 64, seeded: the crc32 instruction path against the tables */
		unsigned char buf[128];
		int bad = 0;
		for (int i = 0; i < 128; i++)
			buf[i] = (unsigned char)(i * 131 + 17);
		for (int a = 0; a < 8; a++)
			for (int n = 0; n <= 64; n++)
				bad += crc32c(0x1234567u, buf + a, (size_t)n) != crc32c_tables(0x1234567u, buf + a, (size_t)n);
		is_int(bad, 0, "every alignment and length: the same CRC as the tables");
	}
	return tap_done(0);
}
