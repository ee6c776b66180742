/*
 * nbd-fuzzer.c: the libFuzzer harness of the power-cut simulator's NBD server side: the input is
 * what a client sends (handshake, then requests), served against a 1 MiB image through the cache
 * as tools/powercut serves QEMU. Properties (docs/fuzzing.md): the session always ends (the input
 * runs out: end of stream); the same input gives the same replies and the same end twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cache.h"
#include "crc32c.h"
#include "fuzz.h"
#include "nbd.h"
#include "serve.h"

const char *fuzz_modes[] = { "nbd", NULL };

#define FUZZ_IMAGE (1u << 20)
#define FUZZ_INPUT_MAX (128u << 10)	/* what the socket holds before the server reads */
#define FUZZ_STEPS_MAX 100000

static unsigned char *buf;
static int img = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	signal(SIGPIPE, SIG_IGN);
	buf = malloc(NBD_MAX_LEN);
	img = memfd_create("image", 0);
	if (!buf || img < 0 || ftruncate(img, FUZZ_IMAGE))
		abort();
	return 0;
}

/* What the client received, folded into a CRC, as it arrives (drained after each step). */
static void drain(int fd, uint32_t *crc)
{
	unsigned char b[65536];
	ssize_t n;

	while ((n = recv(fd, b, sizeof b, MSG_DONTWAIT)) > 0)
		*crc = crc32c(*crc, b, (size_t)n);
}

struct verdict {
	int hs, end;
	uint64_t steps;
	uint32_t replies;
};

static struct verdict session(const uint8_t *data, size_t size)
{
	struct nbd_export ex = { .size = FUZZ_IMAGE, .tflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
				 NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES };
	struct verdict v = { 0, 0, 0, 0 };
	struct cache cache;
	struct serve s = { 0 };
	int sv[2], big = 4 << 20;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (size && send(sv[1], data, size, 0) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);	/* the server reads the input, then the end of the stream */
	/* the server never blocks on a reply the client does not read: it fails with EAGAIN instead */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	v.hs = nbd_handshake(sv[0], &ex);
	drain(sv[1], &v.replies);
	if (v.hs == NBD_HS_TRANSMIT) {
		if (ftruncate(img, 0) || ftruncate(img, FUZZ_IMAGE))
			abort();
		cache_init(&cache, img, FUZZ_IMAGE, 4u << 20);
		s.fd = sv[0];
		s.cache = &cache;
		s.buf = buf;
		do {
			v.end = serve_step(&s);
			drain(sv[1], &v.replies);
			v.steps++;
		} while ((v.end == SERVE_MORE || v.end == SERVE_CUT_WRITE || v.end == SERVE_CUT_FLUSH) &&
			 v.steps < FUZZ_STEPS_MAX);
		cache_free(&cache);
		fuzz_assert(v.steps < FUZZ_STEPS_MAX, "the session did not end after %d requests", FUZZ_STEPS_MAX);
	}
	close(sv[0]);
	close(sv[1]);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict a, b;

	(void)fuzz_mode();
	if (size > FUZZ_INPUT_MAX)
		return 0;
	a = session(data, size);
	b = session(data, size);
	fuzz_assert(memcmp(&a, &b, sizeof a) == 0, "the same client gave two sessions (handshake %d, end %d after %llu; then %d, %d after %llu)",
		    a.hs, a.end, (unsigned long long)a.steps, b.hs, b.end, (unsigned long long)b.steps);
	return 0;
}
