/* zdata.c: the bytes of DATA and ZDATA records: zstd for the writer, bounded decompression for the reader. */
#include <errno.h>
#include <stdlib.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_d_forceIgnoreChecksum */
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>
#include "crc32c.h"
#include "persist.h"

void pz_free(struct pzstd *z)
{
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z->buf);
	free(z->pk);
	z->cctx = z->dctx = NULL;
	z->buf = z->pk = NULL;
	z->pk_at = z->blob_at = 0;
}

static int pz_buf(struct pzstd *z)
{
	if (!z->buf && !(z->buf = malloc(PF_DATA_CHUNK)))
		return -ENOMEM;
	return 0;
}

/* the initramfs's libzstd keeps only the compressor of level 1 (initramfs/libzstd/fast-only.c) */
_Static_assert(PF_ZSTD_LEVEL == 1, "another level needs zstd's other compressors back in initramfs/libzstd.sh");

/*
 * Level 1 with a hash table of 2^16 entries (256 KiB) instead of the 2^13-2^14 level 1 picks for
 * 128 KiB-1 MiB: the same fast compressor, which then finds matches across the whole chunk or
 * PACK (2-6 % smaller on bench/gentree.sh's trees, persist-format.md "Compression").
 */
#define PF_ZSTD_HASHLOG 16

static int pz_cctx(struct pzstd *z, int checksum)
{
	if (!z->cctx) {
		if (!(z->cctx = ZSTD_createCCtx()))
			return -ENOMEM;
		if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, PF_ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_hashLog, PF_ZSTD_HASHLOG)))
			return -EINVAL;
	}
	/* a compression that stopped (its frame did not fit) leaves the session open: reset it */
	if (ZSTD_isError(ZSTD_CCtx_reset(z->cctx, ZSTD_reset_session_only)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, checksum)))
		return -EINVAL;
	return 0;
}

/*
 * Compresses n raw bytes (at most PF_DATA_CHUNK) at PF_ZSTD_LEVEL into z->buf. A frame that
 * would not be smaller than max bytes is not wanted: *zn = 0 (the caller stores the bytes as
 * they are). The frame records its content size, which the reader compares with the record's,
 * and a checksum of its content (XXH64), which the decompression checks.
 */
int pz_compress(struct pzstd *z, const void *p, size_t n, size_t max, size_t *zn)
{
	size_t r;
	int e;

	*zn = 0;
	if (n > PF_DATA_CHUNK)
		return -E2BIG;
	if (max > PF_DATA_CHUNK)
		max = PF_DATA_CHUNK;
	if (pz_buf(z))
		return -ENOMEM;
	/* the frame's checksum of its content: a frame that decodes to other bytes fails to decode */
	if ((e = pz_cctx(z, 1)))
		return e;
	/* a destination of max - 1 bytes: zstd fails with dstSize_tooSmall when it does not fit */
	r = ZSTD_compress2(z->cctx, z->buf, max ? max - 1 : 0, p, n);
	if (ZSTD_isError(r)) {
		if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
			return 0;
		return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
	}
	*zn = r;
	return 0;
}

/* DATA: u64 offset, bytes. ZDATA: u64 offset, u32 raw length, u32 zero, a frame shorter than that. */
int data_rec_head(uint32_t type, const unsigned char *payload, uint32_t len, uint64_t *off, uint32_t *n)
{
	if (type == REC_DATA) {
		if (len <= 8 || len - 8 > PF_DATA_CHUNK)
			return -EBADMSG;
		*off = get_le64(payload);
		*n = len - 8;
		return 0;
	}
	if (type != REC_ZDATA || len <= PF_ZDATA_HDR || get_le32(payload + 12) != 0)
		return -EBADMSG;
	*off = get_le64(payload);
	*n = get_le32(payload + 8);
	/* the bound first: nothing is allocated or decompressed for a length over the limit */
	if (*n == 0 || *n > PF_DATA_CHUNK || len - PF_ZDATA_HDR >= *n)
		return -EBADMSG;
	return 0;
}

int data_rec_decode(struct pzstd *z, uint32_t type, const unsigned char *payload, uint32_t len,
		    uint64_t *off, const unsigned char **bytes, uint32_t *n, struct perr *err)
{
	unsigned long long declared;
	size_t r;

	if (data_rec_head(type, payload, len, off, n))
		return perr_set(err, -EBADMSG, "bad data record (its lengths disagree or exceed %d bytes)",
				PF_DATA_CHUNK);
	if (type == REC_DATA) {
		*bytes = payload + 8;
		return 0;
	}
	declared = ZSTD_getFrameContentSize(payload + PF_ZDATA_HDR, len - PF_ZDATA_HDR);
	if (declared != *n)
		return perr_set(err, -EBADMSG, "compressed data whose frame does not say its %u bytes", *n);
	if (pz_buf(z))
		return -ENOMEM;
	if (!z->dctx) {
		if (!(z->dctx = ZSTD_createDCtx()))
			return -ENOMEM;
		/* the frame's XXH64 checks what the content CRC checks too: one pass over the bytes less */
		if (z->content_crc &&
		    ZSTD_isError(ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum)))
			return -EINVAL;
	}
	/* into a buffer of exactly n bytes: a frame that would give more fails, it cannot grow */
	r = ZSTD_decompressDCtx(z->dctx, z->buf, *n, payload + PF_ZDATA_HDR, len - PF_ZDATA_HDR);
	if (ZSTD_isError(r) || r != *n)
		return perr_set(err, -EBADMSG, "compressed data that does not decompress to its %u bytes", *n);
	*bytes = z->buf;
	return 0;
}

size_t pz_pack_bound(void)
{
	return ZSTD_compressBound(PF_DATA_CHUNK);
}

/*
 * A PACK's frame: its content size, no checksum of its own (the PACK carries the CRC32C of its raw
 * bytes, which the fuzzers' fix-up can recompute, so that their mutations reach the records inside).
 */
int pz_pack(struct pzstd *z, const void *p, size_t n, void *out, size_t cap, size_t *zn)
{
	size_t r;
	int e;

	if (n > PF_DATA_CHUNK)
		return -E2BIG;
	if ((e = pz_cctx(z, 0)))
		return e;
	r = ZSTD_compress2(z->cctx, out, cap, p, n);
	if (ZSTD_isError(r))
		return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
	/*
	 * A frame more than PF_PACK_RATIO times smaller than its raw bytes (zeros, say) is followed
	 * by a skippable frame of zeros, so that the reader's bound holds for every PACK written.
	 */
	size_t need = n / PF_PACK_RATIO + 1 > PF_PACK_HDR + r ? n / PF_PACK_RATIO + 1 - PF_PACK_HDR - r : 0;
	if (need) {
		need = need < 8 ? 8 : need;
		if (r + need > cap)
			return -E2BIG;
		memset((unsigned char *)out + r, 0, need);
		put_le32((unsigned char *)out + r, 0x184D2A50u);	/* zstd's skippable frame magic */
		put_le32((unsigned char *)out + r + 4, (uint32_t)(need - 8));
		r += need;
	}
	*zn = r;
	return 0;
}

/*
 * A PACK's or a BLOB's head (what: its name, for the message): u32 raw length, 16 .. PF_DATA_CHUNK
 * in 8s and at most PF_PACK_RATIO times the payload's len, checked before anything is allocated
 * or decompressed (what a file expands to is bounded by its size: no bomb of tiny PACKs).
 */
int pz_unpack_head(const unsigned char *payload, uint32_t len, const char *what, uint32_t *n, struct perr *err)
{
	if (len <= PF_PACK_HDR)
		return perr_set(err, -EBADMSG, "bad %s record", what);
	*n = get_le32(payload);
	if (*n < PF_REC_HDR || *n > PF_DATA_CHUNK || *n % 8)
		return perr_set(err, -EBADMSG, "a %s whose raw length (%u) is not 16 .. %d bytes in 8s", what, *n,
				PF_DATA_CHUNK);
	if (*n / PF_PACK_RATIO > len)
		return perr_set(err, -EBADMSG, "a %s of %u bytes that says it holds %u (at most %d times as many)", what,
				len, *n, PF_PACK_RATIO);
	return 0;
}

/* The whole payload: u32 raw length (pz_unpack_head), u32 CRC32C, a frame; expanded into z->pk */
int pz_unpack(struct pzstd *z, const unsigned char *payload, uint32_t len, const char *what, struct perr *err)
{
	uint32_t n;
	size_t r;
	int e;

	z->pk_at = z->blob_at = 0;
	if ((e = pz_unpack_head(payload, len, what, &n, err)))
		return e;
	if (ZSTD_getFrameContentSize(payload + PF_PACK_HDR, len - PF_PACK_HDR) != n)
		return perr_set(err, -EBADMSG, "a %s whose frame does not say its %u bytes", what, n);
	if (!z->pk && !(z->pk = malloc(PF_DATA_CHUNK)))
		return -ENOMEM;
	if (!z->dctx && !(z->dctx = ZSTD_createDCtx()))
		return -ENOMEM;
	/* into a buffer of exactly n bytes: a frame that would give more fails, it cannot grow */
	r = ZSTD_decompressDCtx(z->dctx, z->pk, n, payload + PF_PACK_HDR, len - PF_PACK_HDR);
	if (ZSTD_isError(r) || r != n)
		return perr_set(err, -EBADMSG, "a %s that does not decompress to its %u bytes", what, n);
	if (crc32c(0, z->pk, n) != get_le32(payload + 4))
		return perr_set(err, -EBADMSG, "a %s whose %u bytes do not match their checksum", what, n);
	z->pk_len = n;
	return 0;
}
