/* data.c: walks a regular file's data segments (SEEK_DATA/SEEK_HOLE) in chunks of at most 1 MiB. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "crc32c.h"
#include "io.h"
#include "persist.h"

/*
 * Calls fn for each chunk of data below size; holes are skipped. A file that ends before size
 * (it shrank while we read) is -EAGAIN: the caller re-reads it.
 */
int walk_data(int fd, uint64_t size, void *buf, int (*fn)(void *ctx, uint64_t off, const void *p, size_t n),
	      void *ctx)
{
	uint64_t pos = 0;

	while (pos < size) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				return 0;	/* only a hole up to the end */
			return -errno;
		}
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			return -errno;
		if ((uint64_t)h > size)
			h = (off_t)size;
		for (pos = (uint64_t)d; pos < (uint64_t)h;) {
			size_t n = (uint64_t)h - pos < PF_DATA_CHUNK ? (size_t)((uint64_t)h - pos) : PF_DATA_CHUNK;
			size_t got;
			int r = pread_all(fd, buf, n, (off_t)pos, &got);
			if (r)
				return r;
			if (got != n)
				return -EAGAIN;
			r = fn(ctx, pos, buf, n);
			if (r)
				return r;
			pos += n;
		}
		if ((uint64_t)d >= size)
			break;
	}
	return 0;
}

/* The content CRC: CRC32C chained over (le64 offset, le64 length, bytes) of every chunk. */
uint32_t content_crc_step(uint32_t crc, uint64_t off, const void *p, size_t n)
{
	unsigned char h[16];

	put_le64(h, off);
	put_le64(h + 8, n);
	return crc32c(crc32c(crc, h, 16), p, n);
}

static int crc_fn(void *ctx, uint64_t off, const void *p, size_t n)
{
	uint32_t *crc = ctx;

	*crc = content_crc_step(*crc, off, p, n);
	return 0;
}

int file_content_crc(int fd, uint64_t size, uint32_t *crc)
{
	void *buf = malloc(PF_DATA_CHUNK);
	int r;

	if (!buf)
		return -ENOMEM;
	*crc = 0;
	r = walk_data(fd, size, buf, crc_fn, crc);
	free(buf);
	return r;
}
