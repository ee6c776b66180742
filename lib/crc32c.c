/* crc32c.c: CRC32C (Castagnoli): the x86 crc32 instruction where the CPU has it, else slicing-by-8 tables. */
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif
#include "crc32c.h"

/*
 * The slicing-by-8 tables (table k advances a byte k+1 positions), made from the reflected
 * polynomial 0x82F63B78 at the first use instead of stored: 8 KB of constants are 8 KB of the
 * initramfs that no compressor shrinks, and making them takes microseconds. Written once, under
 * pthread_once, before any reader sees them (persist's restore workers call in from several
 * threads); from then on a constant, like the CPU's answer kept beside them.
 */
static struct crc32c_consts {
	uint32_t table[8][256];
	int hw;		/* the CPU has SSE4.2's crc32 instruction */
} crc32c_k;
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static int cpu_has_crc32(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	unsigned a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
#else
	return 0;
#endif
}

static void crc32c_make(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc32c_k.table[0][i] = c;
	}
	for (int k = 1; k < 8; k++)
		for (int i = 0; i < 256; i++) {
			uint32_t prev = crc32c_k.table[k - 1][i];
			crc32c_k.table[k][i] = crc32c_k.table[0][prev & 0xff] ^ (prev >> 8);
		}
	crc32c_k.hw = cpu_has_crc32();
}

static const struct crc32c_consts *crc32c_consts(void)
{
	(void)pthread_once(&crc32c_once, crc32c_make);
	return &crc32c_k;
}

static uint32_t crc32c_table_update(uint32_t crc, const void *buf, size_t len)
{
	const uint32_t (*crc32c_table)[256] = crc32c_consts()->table;
	const unsigned char *p = buf;

	while (len && ((uintptr_t)p & 7)) {
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32(lo);
		hi = __builtin_bswap32(hi);
#endif
		lo ^= crc;
		crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
		      crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
		      crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
		      crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * SSE4.2's crc32 instruction computes exactly this polynomial, eight bytes a cycle or so: ten
 * times the tables, which is most of what a restore spends in user time (every byte is checked
 * twice). Which one runs is the CPU's answer (cpuid), read once with the tables.
 */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_consts()->hw ? crc32c_hw_update(crc, buf, len) : crc32c_table_update(crc, buf, len);
}
#else
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_table_update(crc, buf, len);
}
#endif

/* The tables alone, whatever the CPU (the unit test compares the two). */
uint32_t crc32c_tables(uint32_t seed, const void *buf, size_t len)
{
	return ~crc32c_table_update(~seed, buf, len);
}

uint32_t crc32c(uint32_t seed, const void *buf, size_t len)
{
	return ~crc32c_update(~seed, buf, len);
}
