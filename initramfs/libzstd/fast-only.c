/*
 * fast-only.c: stands in for zstd's double-fast, lazy and optimal block compressors, its
 * super-block splitter and its long-distance matcher in persist's small libzstd
 * (initramfs/libzstd.sh). persist compresses at level 1 (PF_ZSTD_LEVEL, checked at compile time
 * in tools/persist/zdata.c) without a dictionary, a target block size or long-distance matching,
 * which uses only the fast compressor (level 1 of every size class in lib/compress/clevels.h; zstd
 * turns long-distance matching on by itself only for btopt and up), but zstd_compress.c names
 * every strategy in one table and calls the matcher where it is enabled, so the linker keeps them
 * all: 34 KB of code, 17 KB of the initramfs after xz, and double-fast another 5 KB (2 KB). zstd 1.5.6's ZSTD_EXCLUDE_*_BLOCK_COMPRESSOR options do this upstream; 1.5.4 (bookworm) has
 * none. Reaching one of these is a bug of persist (another level or a dictionary): abort, never a
 * wrong frame.
 */
#include <stdlib.h>
#include "compress/zstd_compress_internal.h"
#include "compress/zstd_double_fast.h"
#include "compress/zstd_lazy.h"
#include "compress/zstd_opt.h"
#include "compress/zstd_compress_superblock.h"
#include "compress/zstd_ldm.h"

#define NOT_HERE(name)                                                                             \
	size_t name(ZSTD_matchState_t *ms, seqStore_t *seqStore, U32 rep[ZSTD_REP_NUM], void const *src, \
		    size_t srcSize)                                                                \
	{                                                                                          \
		abort();                                                                           \
	}

NOT_HERE(ZSTD_compressBlock_doubleFast)
NOT_HERE(ZSTD_compressBlock_doubleFast_dictMatchState)
NOT_HERE(ZSTD_compressBlock_doubleFast_extDict)
NOT_HERE(ZSTD_compressBlock_btlazy2)
NOT_HERE(ZSTD_compressBlock_btlazy2_dictMatchState)
NOT_HERE(ZSTD_compressBlock_btlazy2_extDict)
NOT_HERE(ZSTD_compressBlock_greedy)
NOT_HERE(ZSTD_compressBlock_greedy_dedicatedDictSearch)
NOT_HERE(ZSTD_compressBlock_greedy_dedicatedDictSearch_row)
NOT_HERE(ZSTD_compressBlock_greedy_dictMatchState)
NOT_HERE(ZSTD_compressBlock_greedy_dictMatchState_row)
NOT_HERE(ZSTD_compressBlock_greedy_extDict)
NOT_HERE(ZSTD_compressBlock_greedy_extDict_row)
NOT_HERE(ZSTD_compressBlock_greedy_row)
NOT_HERE(ZSTD_compressBlock_lazy)
NOT_HERE(ZSTD_compressBlock_lazy2)
NOT_HERE(ZSTD_compressBlock_lazy2_dedicatedDictSearch)
NOT_HERE(ZSTD_compressBlock_lazy2_dedicatedDictSearch_row)
NOT_HERE(ZSTD_compressBlock_lazy2_dictMatchState)
NOT_HERE(ZSTD_compressBlock_lazy2_dictMatchState_row)
NOT_HERE(ZSTD_compressBlock_lazy2_extDict)
NOT_HERE(ZSTD_compressBlock_lazy2_extDict_row)
NOT_HERE(ZSTD_compressBlock_lazy2_row)
NOT_HERE(ZSTD_compressBlock_lazy_dedicatedDictSearch)
NOT_HERE(ZSTD_compressBlock_lazy_dedicatedDictSearch_row)
NOT_HERE(ZSTD_compressBlock_lazy_dictMatchState)
NOT_HERE(ZSTD_compressBlock_lazy_dictMatchState_row)
NOT_HERE(ZSTD_compressBlock_lazy_extDict)
NOT_HERE(ZSTD_compressBlock_lazy_extDict_row)
NOT_HERE(ZSTD_compressBlock_lazy_row)
NOT_HERE(ZSTD_compressBlock_btopt)
NOT_HERE(ZSTD_compressBlock_btopt_dictMatchState)
NOT_HERE(ZSTD_compressBlock_btopt_extDict)
NOT_HERE(ZSTD_compressBlock_btultra)
NOT_HERE(ZSTD_compressBlock_btultra2)
NOT_HERE(ZSTD_compressBlock_btultra_dictMatchState)
NOT_HERE(ZSTD_compressBlock_btultra_extDict)

/* a dictionary's loading for the double-fast, lazy and optimal strategies */
void ZSTD_fillDoubleHashTable(ZSTD_matchState_t *ms, void const *end, ZSTD_dictTableLoadMethod_e dtlm,
			      ZSTD_tableFillPurpose_e tfp)
{
	abort();
}

U32 ZSTD_insertAndFindFirstIndex(ZSTD_matchState_t *ms, const BYTE *ip)
{
	abort();
}

void ZSTD_row_update(ZSTD_matchState_t *const ms, const BYTE *ip)
{
	abort();
}

void ZSTD_dedicatedDictSearch_lazy_loadDictionary(ZSTD_matchState_t *ms, const BYTE *const ip)
{
	abort();
}

void ZSTD_updateTree(ZSTD_matchState_t *ms, const BYTE *ip, const BYTE *iend)
{
	abort();
}

/* only with ZSTD_c_targetCBlockSize */
size_t ZSTD_compressSuperBlock(ZSTD_CCtx *zc, void *dst, size_t dstCapacity, void const *src, size_t srcSize,
			       unsigned lastBlock)
{
	abort();
}

/* long-distance matching: its sizes are 0 while it is off (as zstd_ldm.c says), the rest unreachable */
size_t ZSTD_ldm_getTableSize(ldmParams_t params)
{
	if (params.enableLdm == ZSTD_ps_enable)
		abort();
	return 0;
}

size_t ZSTD_ldm_getMaxNbSeq(ldmParams_t params, size_t maxChunkSize)
{
	if (params.enableLdm == ZSTD_ps_enable)
		abort();
	return 0;
}

void ZSTD_ldm_adjustParameters(ldmParams_t *params, ZSTD_compressionParameters const *cParams)
{
	abort();
}

void ZSTD_ldm_fillHashTable(ldmState_t *state, const BYTE *ip, const BYTE *iend, ldmParams_t const *params)
{
	abort();
}

size_t ZSTD_ldm_generateSequences(ldmState_t *ldms, rawSeqStore_t *sequences, ldmParams_t const *params,
				  void const *src, size_t srcSize)
{
	abort();
}

size_t ZSTD_ldm_blockCompress(rawSeqStore_t *rawSeqStore, ZSTD_matchState_t *ms, seqStore_t *seqStore,
			      U32 rep[ZSTD_REP_NUM], ZSTD_paramSwitch_e useRowMatchFinder, void const *src,
			      size_t srcSize)
{
	abort();
}

void ZSTD_ldm_skipSequences(rawSeqStore_t *rawSeqStore, size_t srcSize, U32 const minMatch)
{
	abort();
}

void ZSTD_ldm_skipRawSeqStoreBytes(rawSeqStore_t *rawSeqStore, size_t nbBytes)
{
	abort();
}
