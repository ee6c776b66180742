/* record.c: writes and reads the record log (format in docs/powercut.md). */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "record.h"

static const char log_magic[8] = { 'P', 'C', 'U', 'T', 'L', 'O', 'G', '1' };
#define ENTRY_MAGIC 0x50435752U /* "PCWR" */
#define ENTRY_SIZE 20

int record_create(struct record *r, const char *path, uint64_t size)
{
	unsigned char h[16];
	uint64_t le = htole64(size);

	memset(r, 0, sizeof *r);
	r->f = fopen(path, "wbe");
	if (!r->f)
		return -errno;
	r->size = size;
	memcpy(h, log_magic, 8);
	memcpy(h + 8, &le, 8);
	if (fwrite(h, sizeof h, 1, r->f) != 1)
		return -EIO;
	return 0;
}

int record_append(struct record *r, const struct rec_entry *e, const void *data)
{
	unsigned char h[ENTRY_SIZE] = { 0 };
	uint32_t m = htole32(ENTRY_MAGIC), len = htole32(e->len);
	uint64_t off = htole64(e->off);

	memcpy(h, &m, 4);
	h[4] = e->type;
	h[5] = e->fua;
	memcpy(h + 8, &off, 8);
	memcpy(h + 16, &len, 4);
	if (fwrite(h, sizeof h, 1, r->f) != 1)
		return -EIO;
	if (e->type == REC_WRITE && e->len && fwrite(data, e->len, 1, r->f) != 1)
		return -EIO;
	return 0;
}

int record_close(struct record *r)
{
	int err = 0;

	if (!r->f)
		return 0;
	if (fflush(r->f))
		err = -errno;
	else if (fsync(fileno(r->f)) && errno != EINVAL && errno != EBADF)
		err = -errno;
	if (fclose(r->f) && !err)
		err = -errno;
	r->f = NULL;
	return err;
}

int record_open(struct record *r, const char *path)
{
	unsigned char h[16];
	uint64_t le;

	memset(r, 0, sizeof *r);
	r->f = fopen(path, "rbe");
	if (!r->f)
		return -errno;
	if (fread(h, sizeof h, 1, r->f) != 1 || memcmp(h, log_magic, 8)) {
		fclose(r->f);
		r->f = NULL;
		return -EINVAL;
	}
	memcpy(&le, h + 8, 8);
	r->size = le64toh(le);
	return 0;
}

int record_next(struct record *r, struct rec_entry *e, void *data, uint32_t max)
{
	unsigned char h[ENTRY_SIZE];
	uint32_t m, len;
	uint64_t off;
	size_t got = fread(h, 1, sizeof h, r->f);

	if (got == 0 && feof(r->f))
		return 0;
	if (got < sizeof h) {
		r->truncated = 1;
		return 0;
	}
	memcpy(&m, h, 4);
	memcpy(&off, h + 8, 8);
	memcpy(&len, h + 16, 4);
	e->type = h[4];
	e->fua = h[5];
	e->off = le64toh(off);
	e->len = le32toh(len);
	if (le32toh(m) != ENTRY_MAGIC || e->type < REC_WRITE || e->type > REC_FLUSH || e->fua > 1)
		return -EINVAL;
	if (e->off > r->size || e->len > r->size - e->off)
		return -EINVAL;
	if (e->type == REC_WRITE) {
		if (e->len > max)
			return -EINVAL;
		if (e->len && fread(data, e->len, 1, r->f) != 1) {
			r->truncated = 1;
			return 0;
		}
	}
	return 1;
}
