/* nbd.h: the NBD wire protocol as QEMU 7.2 speaks it (fixed newstyle, simple replies). */
#ifndef POWERCUT_NBD_H
#define POWERCUT_NBD_H
#include <stdint.h>

#define NBD_MAGIC        0x4e42444d41474943ULL /* "NBDMAGIC" */
#define NBD_IHAVEOPT     0x49484156454f5054ULL /* "IHAVEOPT" */
#define NBD_REP_MAGIC    0x0003e889045565a9ULL
#define NBD_REQ_MAGIC    0x25609513U
#define NBD_SIMPLE_MAGIC 0x67446698U

/* handshake flags (server) and client flags */
enum { NBD_FLAG_FIXED_NEWSTYLE = 1, NBD_FLAG_NO_ZEROES = 2 };
/* transmission flags */
enum {
	NBD_FLAG_HAS_FLAGS = 1, NBD_FLAG_READ_ONLY = 2, NBD_FLAG_SEND_FLUSH = 4,
	NBD_FLAG_SEND_FUA = 8, NBD_FLAG_SEND_TRIM = 32, NBD_FLAG_SEND_WRITE_ZEROES = 64,
};
/* options */
enum {
	NBD_OPT_EXPORT_NAME = 1, NBD_OPT_ABORT = 2, NBD_OPT_LIST = 3, NBD_OPT_INFO = 6,
	NBD_OPT_GO = 7, NBD_OPT_STRUCTURED_REPLY = 8,
};
/* option replies */
#define NBD_REP_ACK         1U
#define NBD_REP_SERVER      2U
#define NBD_REP_INFO        3U
#define NBD_REP_ERR_UNSUP   0x80000001U
#define NBD_REP_ERR_INVALID 0x80000003U
#define NBD_REP_ERR_TOO_BIG 0x80000009U
enum { NBD_INFO_EXPORT = 0, NBD_INFO_BLOCK_SIZE = 3 };
/* commands and their flags */
enum {
	NBD_CMD_READ = 0, NBD_CMD_WRITE = 1, NBD_CMD_DISC = 2, NBD_CMD_FLUSH = 3,
	NBD_CMD_TRIM = 4, NBD_CMD_WRITE_ZEROES = 6,
};
enum { NBD_CMD_FLAG_FUA = 1 };

/* Block sizes we advertise; NBD_MAX_LEN also bounds every request. */
#define NBD_MIN_BLOCK 512U
#define NBD_PREF_BLOCK 4096U
#define NBD_MAX_LEN (32U << 20)
/* Option payloads larger than this are read and discarded, then refused. */
#define NBD_MAX_OPT 4096U

struct nbd_export {
	uint64_t size;
	uint16_t tflags;
};

/* What the handshake ended in. */
enum { NBD_HS_TRANSMIT = 0, NBD_HS_CLOSED = 1 };

/*
 * Runs the server side of the fixed-newstyle handshake on fd. Returns NBD_HS_TRANSMIT when
 * the client chose the export (GO or EXPORT_NAME), NBD_HS_CLOSED when it aborted or hung up,
 * or -errno (-EPROTO for a client that breaks the protocol).
 */
int nbd_handshake(int fd, const struct nbd_export *ex);

struct nbd_req {
	uint16_t flags, type;
	uint64_t handle, off;
	uint32_t len;
};

/* Reads one request header. Returns 0, 1 at a clean end of stream, or -errno (-EPROTO). */
int nbd_read_req(int fd, struct nbd_req *rq);
/* Reads a write's payload: 0, or -errno (-EPROTO when the stream ends inside it). */
int nbd_read_payload(int fd, void *buf, uint32_t len);
/* Sends a simple reply; err is a positive errno (0 = success), data is sent only on success. */
int nbd_reply(int fd, uint64_t handle, int err, const void *data, uint32_t len);
/* Reads and throws away len bytes (the payload of a refused write). */
int nbd_discard(int fd, uint64_t len);
/* The NBD error code for a positive errno. */
uint32_t nbd_errno(int err);

#endif
