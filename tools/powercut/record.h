/* record.h: the record log: every write and flush a client sent, for offline crash images. */
#ifndef POWERCUT_RECORD_H
#define POWERCUT_RECORD_H
#include <stdint.h>
#include <stdio.h>

enum rec_type { REC_WRITE = 1, REC_ZERO = 2, REC_TRIM = 3, REC_FLUSH = 4 };

struct rec_entry {
	uint8_t type;
	uint8_t fua;
	uint64_t off;
	uint32_t len; /* payload bytes follow only for REC_WRITE */
};

struct record {
	FILE *f;
	uint64_t size;  /* the image size the log was made for */
	int truncated;  /* the reader met a partial last record (the writer was killed) */
};

/* Creates (truncates) a log for an image of size bytes. 0 or -errno. */
int record_create(struct record *r, const char *path, uint64_t size);
int record_append(struct record *r, const struct rec_entry *e, const void *data);
/* Writes out, fsyncs (a writer) and closes. 0 or -errno; accepts a never-opened record. */
int record_close(struct record *r);

/* Opens a log for reading and checks its header (-EINVAL when it is not a log). */
int record_open(struct record *r, const char *path);
/* Reads the next entry; data receives up to max bytes. 1, 0 at the end, -EINVAL if corrupt. */
int record_next(struct record *r, struct rec_entry *e, void *data, uint32_t max);

#endif
