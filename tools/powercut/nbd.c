/* nbd.c: the NBD handshake, request headers and simple replies on a connected stream. */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "io.h"
#include "nbd.h"

static void put16(unsigned char *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }
static void put32(unsigned char *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static void put64(unsigned char *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static uint16_t get16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }

/* Reads exactly len bytes: 0, 1 when the stream ended before the first byte, or -errno. */
static int read_exact(int fd, void *buf, size_t len)
{
	size_t got;
	int r = read_all(fd, buf, len, &got);

	if (r < 0)
		return r == -ECONNRESET ? 1 : r;
	if (got == 0 && len)
		return 1;
	return got < len ? -EPROTO : 0;
}

int nbd_discard(int fd, uint64_t len)
{
	unsigned char junk[4096];

	while (len) {
		size_t n = len < sizeof junk ? (size_t)len : sizeof junk;
		int r = read_exact(fd, junk, n);
		if (r)
			return r < 0 ? r : -EPROTO;
		len -= n;
	}
	return 0;
}

int nbd_read_payload(int fd, void *buf, uint32_t len)
{
	int r = read_exact(fd, buf, len);

	return r > 0 ? -EPROTO : r;
}

static int opt_reply(int fd, uint32_t opt, uint32_t type, const void *data, uint32_t len)
{
	unsigned char h[20];
	int r;

	put64(h, NBD_REP_MAGIC);
	put32(h + 8, opt);
	put32(h + 12, type);
	put32(h + 16, len);
	r = write_all(fd, h, sizeof h);
	if (!r && len)
		r = write_all(fd, data, len);
	return r;
}

static int send_export_info(int fd, uint32_t opt, const struct nbd_export *ex)
{
	unsigned char info[14];
	int r;

	put16(info, NBD_INFO_EXPORT);
	put64(info + 2, ex->size);
	put16(info + 10, ex->tflags);
	r = opt_reply(fd, opt, NBD_REP_INFO, info, 12);
	if (r)
		return r;
	/* Sent even when not asked for: the constraints hold for every client. */
	put16(info, NBD_INFO_BLOCK_SIZE);
	put32(info + 2, NBD_MIN_BLOCK);
	put32(info + 6, NBD_PREF_BLOCK);
	put32(info + 10, NBD_MAX_LEN);
	r = opt_reply(fd, opt, NBD_REP_INFO, info, 14);
	if (r)
		return r;
	return opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
}

/* GO and INFO carry u32 name length, name, u16 count, u16 info types: check the shape. */
static int go_data_ok(const unsigned char *d, uint32_t len)
{
	uint32_t nl;

	if (len < 6)
		return 0;
	nl = get32(d);
	if (nl > len - 6)
		return 0;
	return (uint64_t)nl + 6 + 2ULL * get16(d + 4 + nl) == len;
}

static const char export_name[] = "disk";

int nbd_handshake(int fd, const struct nbd_export *ex)
{
	unsigned char h[18], data[NBD_MAX_OPT];
	uint32_t cflags, opt, len;
	int no_zeroes, r;

	put64(h, NBD_MAGIC);
	put64(h + 8, NBD_IHAVEOPT);
	put16(h + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	r = write_all(fd, h, 18);
	if (r)
		return r;
	r = read_exact(fd, h, 4);
	if (r)
		return r > 0 ? NBD_HS_CLOSED : r;
	cflags = get32(h);
	if (cflags & ~(uint32_t)(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES))
		return -EPROTO;
	no_zeroes = !!(cflags & NBD_FLAG_NO_ZEROES);
	for (;;) {
		r = read_exact(fd, h, 16);
		if (r)
			return r > 0 ? NBD_HS_CLOSED : r;
		if (get64(h) != NBD_IHAVEOPT)
			return -EPROTO;
		opt = get32(h + 8);
		len = get32(h + 12);
		if (len > sizeof data) {
			r = nbd_discard(fd, len);
			if (!r)
				r = opt_reply(fd, opt, NBD_REP_ERR_TOO_BIG, NULL, 0);
			if (r)
				return r;
			continue;
		}
		r = read_exact(fd, data, len);
		if (r)
			return r > 0 ? -EPROTO : r;
		switch (opt) {
		case NBD_OPT_EXPORT_NAME: {
			unsigned char t[10 + 124] = { 0 };

			/* No reply is possible to a bad name: accept any, there is one export. */
			put64(t, ex->size);
			put16(t + 8, ex->tflags);
			r = write_all(fd, t, no_zeroes ? 10 : sizeof t);
			return r ? r : NBD_HS_TRANSMIT;
		}
		case NBD_OPT_ABORT:
			(void)opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
			return NBD_HS_CLOSED;
		case NBD_OPT_LIST: {
			unsigned char s[4 + sizeof export_name - 1];

			if (len) {
				r = opt_reply(fd, opt, NBD_REP_ERR_INVALID, NULL, 0);
				break;
			}
			put32(s, sizeof export_name - 1);
			memcpy(s + 4, export_name, sizeof export_name - 1);
			r = opt_reply(fd, opt, NBD_REP_SERVER, s, sizeof s);
			if (!r)
				r = opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
			break;
		}
		case NBD_OPT_INFO:
		case NBD_OPT_GO:
			if (!go_data_ok(data, len)) {
				r = opt_reply(fd, opt, NBD_REP_ERR_INVALID, NULL, 0);
				break;
			}
			r = send_export_info(fd, opt, ex);
			if (!r && opt == NBD_OPT_GO)
				return NBD_HS_TRANSMIT;
			break;
		default: /* STRUCTURED_REPLY, meta contexts, TLS, anything new */
			r = opt_reply(fd, opt, NBD_REP_ERR_UNSUP, NULL, 0);
			break;
		}
		if (r)
			return r;
	}
}

int nbd_read_req(int fd, struct nbd_req *rq)
{
	unsigned char h[28];
	int r = read_exact(fd, h, sizeof h);

	if (r)
		return r;
	if (get32(h) != NBD_REQ_MAGIC)
		return -EPROTO;
	rq->flags = get16(h + 4);
	rq->type = get16(h + 6);
	rq->handle = get64(h + 8);
	rq->off = get64(h + 16);
	rq->len = get32(h + 24);
	return 0;
}

/* errno to NBD error: the protocol names a few values; everything else is EIO. */
static const struct { int err; uint32_t nbd; } nbd_errs[] = {
	{ EPERM, 1 }, { EIO, 5 }, { ENOMEM, 12 }, { EINVAL, 22 }, { ENOSPC, 28 },
	{ EOVERFLOW, 75 }, { ENOTSUP, 95 }, { ESHUTDOWN, 108 },
};

uint32_t nbd_errno(int err)
{
	size_t i;

	if (!err)
		return 0;
	for (i = 0; i < sizeof nbd_errs / sizeof nbd_errs[0]; i++)
		if (nbd_errs[i].err == err)
			return nbd_errs[i].nbd;
	return 5;
}

int nbd_reply(int fd, uint64_t handle, int err, const void *data, uint32_t len)
{
	unsigned char h[16];
	int r;

	put32(h, NBD_SIMPLE_MAGIC);
	put32(h + 4, nbd_errno(err));
	put64(h + 8, handle);
	r = write_all(fd, h, sizeof h);
	if (!r && !err && len)
		r = write_all(fd, data, len);
	return r;
}
