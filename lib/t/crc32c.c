/* crc32c.c: known answers for lib/crc32c. */
#include "tap.h"
#include "crc32c.h"

int main(void)
{
	unsigned char zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof ones);
	is_int(crc32c(0, "123456789", 9), 0xe3069283, "check value of 123456789");
	is_int(crc32c(0, zeros, 32), 0x8a9136aa, "32 zero bytes (RFC 3720)");
	is_int(crc32c(0, ones, 32), 0x62a8ab43, "32 0xff bytes (RFC 3720)");
	is_int(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283, "chained equals whole");
	is_int(crc32c(0, "", 0), 0, "empty");
	return tap_done(0);
}
