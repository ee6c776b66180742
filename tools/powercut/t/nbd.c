/* t/nbd.c: the server against scripted clients over a socketpair: handshake, requests, errors. */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "cache.h"
#include "helpers.h"
#include "nbd.h"
#include "serve.h"
#include "tap.h"

#define SIZE (1024 * 1024)

/* A script: the bytes a client sends, written before the server starts reading. */
struct script {
	unsigned char b[65536];
	size_t n;
};

static void put(struct script *s, const void *p, size_t n)
{
	if (n)
		memcpy(s->b + s->n, p, n);
	s->n += n;
}
static void p16(struct script *s, uint16_t v) { v = htobe16(v); put(s, &v, 2); }
static void p32(struct script *s, uint32_t v) { v = htobe32(v); put(s, &v, 4); }
static void p64(struct script *s, uint64_t v) { v = htobe64(v); put(s, &v, 8); }

static void opt(struct script *s, uint32_t o, const void *data, uint32_t len)
{
	p64(s, NBD_IHAVEOPT);
	p32(s, o);
	p32(s, len);
	put(s, data, len);
}

static void go(struct script *s)
{
	p64(s, NBD_IHAVEOPT);
	p32(s, NBD_OPT_GO);
	p32(s, 4 + 4 + 2 + 2);
	p32(s, 4);
	put(s, "disk", 4);
	p16(s, 1);
	p16(s, NBD_INFO_BLOCK_SIZE);
}

static void req(struct script *s, uint16_t type, uint16_t flags, uint64_t handle, uint64_t off,
		uint32_t len, int fill)
{
	p32(s, NBD_REQ_MAGIC);
	p16(s, flags);
	p16(s, type);
	p64(s, handle);
	p64(s, off);
	p32(s, len);
	if (fill >= 0) {
		memset(s->b + s->n, fill, len);
		s->n += len;
	}
}

/* What the server's session ended in, as the child's exit status. */
enum { END_CLOSED = 20, END_DISC, END_CUT_WRITE, END_CUT_FLUSH, END_PROTO, END_OTHER };

struct session {
	unsigned char out[2 * 65536]; /* what the server sent */
	size_t n, pos;
	int end;
};

/*
 * Runs the server in a child on a socketpair, feeds it the script, collects its output.
 * The child cuts with policy none at the end, as powercut does.
 */
static void run(int img, const struct script *sc, uint64_t cut_write, uint64_t cut_flush,
		struct session *ss)
{
	int sv[2], st;
	pid_t pid;
	ssize_t got;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	pid = fork();
	if (pid == 0) {
		struct nbd_export ex = { .size = SIZE, .tflags = 0x6d };
		struct cache c;
		struct serve s = { .fd = sv[1], .cache = &c, .cut_after_write = cut_write,
				   .cut_at_flush = cut_flush };
		struct cut_spec none = { .policy = CUT_NONE };
		struct cut_stats cs;
		int r;

		close(sv[0]);
		cache_init(&c, img, SIZE, CACHE_DEFAULT_BYTES);
		s.buf = malloc(NBD_MAX_LEN);
		r = nbd_handshake(sv[1], &ex);
		if (r == NBD_HS_CLOSED)
			_exit(END_CLOSED);
		while (r == 0)
			r = serve_step(&s);
		cache_cut(&c, &none, &cs);
		cache_free(&c);
		free(s.buf);
		_exit(r == SERVE_END ? END_DISC : r == SERVE_CUT_WRITE ? END_CUT_WRITE :
		      r == SERVE_CUT_FLUSH ? END_CUT_FLUSH : r == -EPROTO ? END_PROTO : END_OTHER);
	}
	close(sv[1]);
	if (write(sv[0], sc->b, sc->n) != (ssize_t)sc->n)
		exit(2);
	shutdown(sv[0], SHUT_WR);
	ss->n = ss->pos = 0;
	for (;;) {
		static unsigned char junk[65536]; /* what does not fit is read and dropped */
		int full = ss->n == sizeof ss->out;

		got = read(sv[0], full ? junk : ss->out + ss->n, full ? sizeof junk :
			   sizeof ss->out - ss->n);
		if (got <= 0)
			break;
		if (!full)
			ss->n += (size_t)got;
	}
	close(sv[0]);
	waitpid(pid, &st, 0);
	ss->end = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t take(struct session *ss, size_t n)
{
	uint64_t v = 0;

	while (n-- && ss->pos < ss->n)
		v = v << 8 | ss->out[ss->pos++];
	return v;
}

/* 1 when the next option reply has this option, type and length. */
static int opt_reply(struct session *ss, uint32_t o, uint32_t type, uint32_t len)
{
	return take(ss, 8) == NBD_REP_MAGIC && take(ss, 4) == o && take(ss, 4) == type &&
	       take(ss, 4) == len;
}

/* The next simple reply's error code for handle, or -1 when it is not that reply. */
static long reply(struct session *ss, uint64_t handle)
{
	long err;

	if (take(ss, 4) != NBD_SIMPLE_MAGIC)
		return -1;
	err = (long)take(ss, 4);
	return take(ss, 8) == handle ? err : -1;
}

/* 1 when the next len bytes of the output all equal v. */
static int data_is(struct session *ss, size_t len, int v)
{
	int ok = ss->pos + len <= ss->n;
	size_t i;

	for (i = 0; ok && i < len; i++)
		ok = ss->out[ss->pos + i] == v;
	ss->pos += len;
	return ok;
}

static int greeting(struct session *ss)
{
	return take(ss, 8) == NBD_MAGIC && take(ss, 8) == NBD_IHAVEOPT && take(ss, 2) == 3;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random requests after a good handshake: the server answers or ends, and never crashes. */
static void fuzz(int img, struct script *sc, struct session *ss)
{
	uint64_t s = 0x1234567;
	int i, j, clean = 0;

	for (i = 0; i < 60; i++) {
		sc->n = 0;
		p32(sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
		go(sc);
		for (j = 0; j < 12; j++) {
			uint16_t type = (uint16_t)(rnd(&s) % 9);
			uint64_t off = rnd(&s) % 3 ? rnd(&s) % (SIZE + 8192) : rnd(&s);
			uint32_t len = rnd(&s) % 5 ? (uint32_t)(rnd(&s) % 4096) : (uint32_t)rnd(&s);
			int payload = type == NBD_CMD_WRITE && len <= 4096;

			req(sc, type, (uint16_t)(rnd(&s) % 4), (uint64_t)j, off, len,
			    payload ? (int)(rnd(&s) & 0xff) : -1);
		}
		if (rnd(&s) % 2) /* and sometimes a torn tail */
			sc->n -= rnd(&s) % 30;
		run(img, sc, 0, 0, ss);
		clean += ss->end == END_DISC || ss->end == END_PROTO;
	}
	is_int(clean, 60, "60 random request streams: each ends in a disconnect or a protocol error");
}

int main(void)
{
	static struct script sc;
	static struct session ss;
	char path[64];
	int img = temp_image(path, SIZE, 0);

	unlink(path);

	/* 1: the QEMU way: STRUCTURED_REPLY refused, GO, then every command */
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	opt(&sc, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	opt(&sc, 99, "abc", 3);
	opt(&sc, NBD_OPT_LIST, NULL, 0);
	go(&sc);
	req(&sc, NBD_CMD_WRITE, 0, 1, 4096, 4096, 0xab);
	req(&sc, NBD_CMD_READ, 0, 2, 4096, 4096, -1);
	req(&sc, NBD_CMD_FLUSH, 0, 3, 0, 0, -1);
	req(&sc, NBD_CMD_WRITE_ZEROES, 0, 4, 4096, 512, -1);
	req(&sc, NBD_CMD_TRIM, 0, 5, 5120, 512, -1);
	req(&sc, NBD_CMD_READ, 0, 6, 4096, 2048, -1);
	req(&sc, NBD_CMD_READ, 0, 7, SIZE - 512, 1024, -1);
	req(&sc, NBD_CMD_WRITE, 0, 8, SIZE, 512, 0x77);
	req(&sc, NBD_CMD_READ, 0, 9, 0, NBD_MAX_LEN + 512, -1);
	req(&sc, 42, 0, 10, 0, 0, -1);
	req(&sc, NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 11, 0, 512, 0xcd);
	req(&sc, NBD_CMD_WRITE, 0, 12, 8192, 512, 0xee);
	req(&sc, NBD_CMD_READ, 0, 13, UINT64_MAX - 511, 1024, -1);
	req(&sc, NBD_CMD_READ, 0, 14, 8192, 512, -1);
	req(&sc, NBD_CMD_DISC, 0, 15, 0, 0, -1);
	run(img, &sc, 0, 0, &ss);
	ok(greeting(&ss), "greeting: NBDMAGIC, IHAVEOPT, FIXED_NEWSTYLE|NO_ZEROES");
	ok(opt_reply(&ss, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_UNSUP, 0),
	   "STRUCTURED_REPLY: ERR_UNSUP");
	ok(opt_reply(&ss, 99, NBD_REP_ERR_UNSUP, 0), "an unknown option: ERR_UNSUP");
	ok(opt_reply(&ss, NBD_OPT_LIST, NBD_REP_SERVER, 8) && take(&ss, 4) == 4 &&
	   take(&ss, 4) == 0x6469736b && opt_reply(&ss, NBD_OPT_LIST, NBD_REP_ACK, 0),
	   "LIST: one export, \"disk\"");
	ok(opt_reply(&ss, NBD_OPT_GO, NBD_REP_INFO, 12) && take(&ss, 2) == NBD_INFO_EXPORT &&
	   take(&ss, 8) == SIZE && take(&ss, 2) == 0x6d, "GO: INFO_EXPORT with size and flags");
	ok(opt_reply(&ss, NBD_OPT_GO, NBD_REP_INFO, 14) && take(&ss, 2) == NBD_INFO_BLOCK_SIZE &&
	   take(&ss, 4) == 512 && take(&ss, 4) == 4096 && take(&ss, 4) == 32 << 20,
	   "GO: INFO_BLOCK_SIZE 512/4096/32M");
	ok(opt_reply(&ss, NBD_OPT_GO, NBD_REP_ACK, 0), "GO: ACK");
	is_int(reply(&ss, 1), 0, "WRITE");
	ok(reply(&ss, 2) == 0 && data_is(&ss, 4096, 0xab), "READ sees the write");
	is_int(reply(&ss, 3), 0, "FLUSH");
	is_int(reply(&ss, 4), 0, "WRITE_ZEROES");
	is_int(reply(&ss, 5), 0, "TRIM");
	ok(reply(&ss, 6) == 0 && data_is(&ss, 512, 0) && data_is(&ss, 512, 0xab) &&
	   data_is(&ss, 512, 0) && data_is(&ss, 512, 0xab),
	   "READ sees zeroes and trim as zeroes");
	is_int(reply(&ss, 7), EINVAL, "READ past the end: EINVAL");
	is_int(reply(&ss, 8), EINVAL, "WRITE past the end: EINVAL, payload skipped");
	is_int(reply(&ss, 9), EINVAL, "READ over 32 MiB: EINVAL");
	is_int(reply(&ss, 10), EINVAL, "an unknown command: EINVAL");
	is_int(reply(&ss, 11), 0, "WRITE with FUA");
	is_int(reply(&ss, 12), 0, "WRITE");
	is_int(reply(&ss, 13), EINVAL, "READ with an offset that wraps: EINVAL");
	ok(reply(&ss, 14) == 0 && data_is(&ss, 512, 0xee), "READ of the last write");
	is_int(ss.pos, ss.n, "nothing after DISC");
	is_int(ss.end, END_DISC, "DISC ends the session");
	ok(image_is(img, 4096, 4096, 0xab), "after the cut: the flushed write is on the image");
	ok(image_is(img, 0, 512, 0xcd), "after the cut: the FUA write is on the image");
	ok(image_is(img, 8192, 512, 0), "after the cut: the unflushed write is not");

	/* 2: EXPORT_NAME without NO_ZEROES, then the client hangs up */
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE);
	opt(&sc, NBD_OPT_EXPORT_NAME, "disk", 4);
	req(&sc, NBD_CMD_READ, 0, 1, 4096, 512, -1);
	run(img, &sc, 0, 0, &ss);
	ok(greeting(&ss) && take(&ss, 8) == SIZE && take(&ss, 2) == 0x6d && data_is(&ss, 124, 0),
	   "EXPORT_NAME: size, flags and 124 zeroes");
	ok(reply(&ss, 1) == 0 && data_is(&ss, 512, 0xab), "READ after EXPORT_NAME");
	is_int(ss.end, END_DISC, "the end of the stream ends the session");

	/* 3: ABORT */
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	opt(&sc, NBD_OPT_ABORT, NULL, 0);
	run(img, &sc, 0, 0, &ss);
	ok(greeting(&ss) && opt_reply(&ss, NBD_OPT_ABORT, NBD_REP_ACK, 0), "ABORT: ACK");
	is_int(ss.end, END_CLOSED, "ABORT closes before transmission");

	/* 4: protocol errors end the session */
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	go(&sc);
	p32(&sc, 0xdeadbeef);
	put(&sc, "0123456789012345678901234", 24);
	run(img, &sc, 0, 0, &ss);
	is_int(ss.end, END_PROTO, "a request with a bad magic: protocol error");
	sc.n = 0;
	p32(&sc, 0x80);
	run(img, &sc, 0, 0, &ss);
	is_int(ss.end, END_PROTO, "unknown client flags: refused");
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	opt(&sc, NBD_OPT_GO, "xx", 2);
	opt(&sc, NBD_OPT_ABORT, NULL, 0);
	run(img, &sc, 0, 0, &ss);
	ok(greeting(&ss) && opt_reply(&ss, NBD_OPT_GO, NBD_REP_ERR_INVALID, 0),
	   "a malformed GO: ERR_INVALID");
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	go(&sc);
	req(&sc, NBD_CMD_WRITE, 0, 1, 0, 4096, -1); /* the payload never comes */
	run(img, &sc, 0, 0, &ss);
	is_int(ss.end, END_PROTO, "a write cut short by the end of the stream: protocol error");

	/* 5: cut triggers */
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	go(&sc);
	req(&sc, NBD_CMD_WRITE, 0, 1, 65536, 512, 0x31);
	req(&sc, NBD_CMD_FLUSH, 0, 2, 0, 0, -1);
	req(&sc, NBD_CMD_WRITE, 0, 3, 65536, 512, 0x32);
	req(&sc, NBD_CMD_WRITE, 0, 4, 65536, 512, 0x33);
	run(img, &sc, 2, 0, &ss);
	ok(greeting(&ss) && opt_reply(&ss, NBD_OPT_GO, NBD_REP_INFO, 12) &&
	   (ss.pos += 12, opt_reply(&ss, NBD_OPT_GO, NBD_REP_INFO, 14)) &&
	   (ss.pos += 14, opt_reply(&ss, NBD_OPT_GO, NBD_REP_ACK, 0)), "handshake");
	ok(reply(&ss, 1) == 0 && reply(&ss, 2) == 0, "write 1 and the flush answered");
	is_int(ss.n - ss.pos, 0, "write 2 is not answered");
	is_int(ss.end, END_CUT_WRITE, "--cut-after-write 2 cuts at write 2");
	ok(image_is(img, 65536, 512, 0x31), "the flushed write survives, write 2 does not");
	sc.n = 0;
	p32(&sc, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	go(&sc);
	req(&sc, NBD_CMD_WRITE, 0, 1, 131072, 512, 0x41);
	req(&sc, NBD_CMD_FLUSH, 0, 2, 0, 0, -1);
	run(img, &sc, 0, 1, &ss);
	is_int(ss.end, END_CUT_FLUSH, "--cut-at-flush 1 cuts at the first flush");
	ok(image_is(img, 131072, 512, 0), "the flush was not done: its write is lost");

	fuzz(img, &sc, &ss);
	return tap_done(0);
}
