/* serve.h: the transmission phase: one NBD request at a time against the cache. */
#ifndef POWERCUT_SERVE_H
#define POWERCUT_SERVE_H
#include <stdint.h>
#include "cache.h"
#include "record.h"

struct serve {
	int fd;               /* the connection */
	struct cache *cache;
	struct record *rec;   /* NULL unless recording */
	unsigned char *buf;   /* NBD_MAX_LEN bytes */
	uint64_t writes;      /* WRITE, WRITE_ZEROES and TRIM requests taken, counted from 1 */
	uint64_t flushes;     /* FLUSH requests done; also the epoch of the cached writes */
	uint64_t cut_after_write, cut_at_flush; /* 0: never */
	int rec_err;          /* set when the record log failed (serve_step returned it) */
};

enum serve_event {
	SERVE_MORE,      /* the request was answered */
	SERVE_END,       /* the client disconnected (DISC or end of stream) */
	SERVE_CUT_WRITE, /* write cut_after_write is in the cache, unanswered: cut now */
	SERVE_CUT_FLUSH, /* flush cut_at_flush arrived, not done: cut now */
};

/*
 * Reads, executes and answers one request. Returns a serve_event, or -errno for what ends
 * the session: -EPROTO (the client broke the protocol), -ENOBUFS (the cache is full), a
 * failed record log or connection. Image I/O errors go to the client as NBD errors.
 */
int serve_step(struct serve *s);

#endif
