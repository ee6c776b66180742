/* zdata.c: the bytes of DATA and ZDATA records: zstd for the writer, bounded decompression for the reader. */
#include <errno.h>
#include <stdlib.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_d_forceIgnoreChecksum */
#include <zstd.h>
#include <zstd_errors.h>
#include "persist.h"

void pz_free(struct pzstd *z)
{
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z->buf);
	z->cctx = z->dctx = NULL;
	z->buf = NULL;
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
 * Compresses n raw bytes (at most PF_DATA_CHUNK) at PF_ZSTD_LEVEL into z->buf. A frame that
 * would not be smaller than max bytes is not wanted: *zn = 0 (the caller stores the bytes as
 * they are). The frame records its content size, which the reader compares with the record's,
 * and a checksum of its content (XXH64), which the decompression checks.
 */
int pz_compress(struct pzstd *z, const void *p, size_t n, size_t max, size_t *zn)
{
	size_t r;

	*zn = 0;
	if (n > PF_DATA_CHUNK)
		return -E2BIG;
	if (max > PF_DATA_CHUNK)
		max = PF_DATA_CHUNK;
	if (pz_buf(z))
		return -ENOMEM;
	if (!z->cctx) {
		if (!(z->cctx = ZSTD_createCCtx()))
			return -ENOMEM;
		/* the frame's checksum of its content: a frame that decodes to other bytes fails to decode */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, PF_ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)))
			return -EINVAL;
	}
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
