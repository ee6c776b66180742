/* serve.c: executes NBD requests against the volatile cache, records them, spots cut points. */
#include <errno.h>
#include "nbd.h"
#include "serve.h"

static int in_range(const struct serve *s, const struct nbd_req *rq)
{
	return rq->off <= s->cache->size && rq->len <= s->cache->size - rq->off;
}

/* Answers a request: SERVE_MORE, or -errno when the connection failed. */
static int reply(struct serve *s, uint64_t handle, int err, const void *data, uint32_t len)
{
	int r = nbd_reply(s->fd, handle, err, data, len);

	return r ? r : SERVE_MORE;
}

static const uint8_t rec_types[] = {
	[NBD_CMD_WRITE] = REC_WRITE, [NBD_CMD_TRIM] = REC_TRIM,
	[NBD_CMD_WRITE_ZEROES] = REC_ZERO,
};

/* WRITE, WRITE_ZEROES, TRIM: TRIM is modelled as zeroes (what a thin device reads back). */
static int do_write(struct serve *s, const struct nbd_req *rq)
{
	int fua = !!(rq->flags & NBD_CMD_FLAG_FUA), r;
	const void *data = rq->type == NBD_CMD_WRITE ? s->buf : NULL;

	if (!in_range(s, rq) || (data && rq->len > NBD_MAX_LEN)) {
		if (data && (r = nbd_discard(s->fd, rq->len)))
			return r > 0 ? -EPROTO : r;
		return reply(s, rq->handle, EINVAL, NULL, 0);
	}
	if (data && (r = nbd_read_payload(s->fd, s->buf, rq->len)))
		return r;
	s->writes++;
	if (s->rec) {
		struct rec_entry e = { .type = rec_types[rq->type], .fua = (uint8_t)fua,
				       .off = rq->off, .len = rq->len };
		r = record_append(s->rec, &e, data);
		if (r)
			return s->rec_err = r;
	}
	r = cache_write(s->cache, data, rq->off, rq->len, fua);
	if (r == -ENOBUFS || r == -ENOMEM)
		return r;
	if (s->cut_after_write && s->writes == s->cut_after_write)
		return SERVE_CUT_WRITE;
	return reply(s, rq->handle, -r, NULL, 0);
}

static int do_flush(struct serve *s, const struct nbd_req *rq)
{
	int r;

	if (s->cut_at_flush && s->flushes + 1 == s->cut_at_flush)
		return SERVE_CUT_FLUSH;
	r = cache_flush(s->cache);
	if (!r) {
		s->flushes++;
		if (s->rec) {
			struct rec_entry e = { .type = REC_FLUSH };
			int w = record_append(s->rec, &e, NULL);
			if (w)
				return s->rec_err = w;
		}
	}
	return reply(s, rq->handle, -r, NULL, 0);
}

static int do_read(struct serve *s, const struct nbd_req *rq)
{
	int r = -EINVAL;

	if (in_range(s, rq) && rq->len <= NBD_MAX_LEN)
		r = cache_read(s->cache, s->buf, rq->off, rq->len);
	return reply(s, rq->handle, -r, s->buf, rq->len);
}

int serve_step(struct serve *s)
{
	struct nbd_req rq;
	int r = nbd_read_req(s->fd, &rq);

	if (r)
		return r > 0 ? SERVE_END : r;
	switch (rq.type) {
	case NBD_CMD_READ:
		return do_read(s, &rq);
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		return do_write(s, &rq);
	case NBD_CMD_FLUSH:
		return do_flush(s, &rq);
	case NBD_CMD_DISC:
		return SERVE_END;
	default:
		return reply(s, rq.handle, EINVAL, NULL, 0);
	}
}
