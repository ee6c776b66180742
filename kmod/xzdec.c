/* xzdec.c: the pack's built-in decoder, XZ Embedded from Debian's busybox source, run in the loader's child. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "io.h"
#include "kmod.h"

/*
 * XZ Embedded (Lasse Collin's, public domain) is the xz decoder busybox's unxz wraps; its files
 * come from the busybox source the build already fetches for the rescue shell (the Makefile's
 * XZ_SRC, -I'd). Compiled here at -O2 whatever the rest of the init is built with: under TCG,
 * the -Os busybox applet decoded the pack about 1.3 times slower (docs/kmod.md). Without that
 * source the init has no built-in decoder and runs the configured command instead.
 */
#if defined(__has_include) && __has_include("xz_dec_lzma2.c")
#pragma GCC optimize("O2")
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-function"
#define XZ_DEC_DYNALLOC            /* the dictionary grows as the stream needs it */
#define XZ_EXTERN static
#define XZ_INTERNAL_CRC32 0        /* ours, below */
#define NOINLINE __attribute__((noinline))
#define XZ_DEC_MEMLIMIT (64u << 20) /* the dictionary's limit: the build's is 16 MiB */
#define XZ_BUF (64u << 10)
static inline uint32_t xz_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint32_t xz_get_be32(const uint8_t *p)
{
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}
#define get_unaligned_le32(p) xz_get_le32((const uint8_t *)(p))
#define get_unaligned_be32(p) xz_get_be32((const uint8_t *)(p))

/* The stream's own CRC32, bit by bit: the build writes the pack with --check=none (each module's
 * CRC32C in the index is the check that counts), so this runs only on other packs. */
static uint32_t xz_crc32(const uint8_t *buf, size_t size, uint32_t crc)
{
	crc = ~crc;
	while (size--) {
		crc ^= *buf++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

#include "xz_config.h"
#include "xz_dec_lzma2.c"
#include "xz_dec_stream.c"

/* The pack on in, decoded onto out: 0 when the stream was whole and ended, else -errno or
 * -EBADMSG (damaged, truncated, an option this decoder lacks). */
static int xz_decode(int in, int out)
{
	uint8_t *inbuf = malloc(XZ_BUF), *outbuf = malloc(XZ_BUF);
	struct xz_buf b = { .in = inbuf, .out = outbuf, .out_size = XZ_BUF };
	struct xz_dec *s = xz_dec_init(XZ_DYNALLOC, XZ_DEC_MEMLIMIT);
	int err = inbuf && outbuf && s ? 0 : -ENOMEM;

	while (!err) {
		enum xz_ret r;

		if (b.in_pos == b.in_size) {
			size_t got = 0;

			err = read_all(in, inbuf, XZ_BUF, &got);
			b.in_size = got;
			b.in_pos = 0;
			if (err)
				break;
		}
		r = xz_dec_run(s, &b);
		if ((b.out_pos == b.out_size || r != XZ_OK) && b.out_pos) {
			err = write_all(out, outbuf, b.out_pos);
			b.out_pos = 0;
		}
		if (err || r == XZ_STREAM_END)
			break;
		if (r != XZ_OK)
			err = r == XZ_MEM_ERROR ? -ENOMEM : -EBADMSG;
		else if (b.in_size == 0)
			err = -EBADMSG;   /* the file ends inside the stream */
	}
	xz_dec_end(s);
	free(inbuf);
	free(outbuf);
	return err;
}
const modload_decode_fn modload_xz_builtin = xz_decode;
#else
const modload_decode_fn modload_xz_builtin = NULL;
#endif
