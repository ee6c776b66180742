/* crc32c.h: CRC32C (Castagnoli, iSCSI/ext4); its tables are made once, at the first call, thread-safe. */
#ifndef OVERLIVE_CRC32C_H
#define OVERLIVE_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* The standard CRC32C: crc32c(0, "123456789", 9) == 0xe3069283. Chain with seed = previous result. */
uint32_t crc32c(uint32_t seed, const void *buf, size_t len);
/* The raw register update (no inversions), for callers that keep the register themselves. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* The same CRC through the tables whatever the CPU has (a test's reference). */
uint32_t crc32c_tables(uint32_t seed, const void *buf, size_t len);

#endif
