/*
 * slotrec.h: the slot record (live/slots beside the root image): which of the two root image
 * slots is good, which one is pending and how many boots it has left. The init reads it and
 * counts a pending slot's tries down; overlive-update writes it. The layout is docs/updates.md's
 * "The slot record"; this file and slotrec.c are its only definition.
 */
#ifndef OVERLIVE_SLOTREC_H
#define OVERLIVE_SLOTREC_H
#include <stddef.h>
#include <stdint.h>

#define SLOTREC_FILE        "slots"  /* beside live.root on the medium */
#define SLOTREC_COPY_SIZE   512      /* one copy is one sector: a torn write tears one copy only */
#define SLOTREC_COPY_STRIDE 4096     /* copy i at i * 4096: never in the same sector or page */
#define SLOTREC_COPIES      2
#define SLOTREC_FILE_SIZE   (SLOTREC_COPIES * SLOTREC_COPY_STRIDE)
#define SLOTREC_TRIES       3        /* the boots a new image gets to be marked good */
#define SLOTREC_MAX_TRIES   15
#define SLOT_NONE           0xff
/* a slot's own checksum beside its image (NAME.sha256: one sha256sum line), written by
 * overlive-update before the record names the slot; live.verify reads it before SHA256SUMS */
#define SLOT_SUM_SUFFIX     ".sha256"

enum { SLOT_A = 0, SLOT_B = 1 };

struct slotrec {
	uint64_t gen;       /* each write is the newest copy's + 1, into the other copy */
	uint8_t good;       /* SLOT_A or SLOT_B: the slot that reached its goal last */
	uint8_t pending;    /* the slot being tried, or SLOT_NONE */
	uint8_t tries;      /* boots the pending slot has left (0 with SLOT_NONE) */
	/* The save file's generations (docs/updates.md, "A save that breaks the boot"); both 0 in a
	 * version 1 record: generations not counted yet. */
	uint8_t save_boots; /* boots since the last one marked good that restored a newer generation */
	uint64_t save_good; /* the save file's generation the last boot marked good restored; 0: none */
};
/* A save generation newer than save_good is restored this many boots without a mark; then save_good's. */
#define SLOTREC_SAVE_TRIES  3
/* save_boots past this: neither reached the goal: a clean boot, the save file only read. */
#define SLOTREC_SAVE_GIVEUP (2 * SLOTREC_SAVE_TRIES)

/* The record as one copy's bytes (the sector; its unused tail is zero). */
void slotrec_encode(const struct slotrec *r, unsigned char out[SLOTREC_COPY_SIZE]);
/* One copy: 0; -ENOENT all zero (never written); -EBADMSG with *why said. */
int slotrec_decode(const unsigned char *copy, size_t len, struct slotrec *r, const char **why);
/*
 * The whole file (len bytes, short or empty allowed): 0 with the newest valid copy in *r and its
 * index in *newest; -ENOENT when no copy was ever written (no record: boot as without one);
 * -EBADMSG when no copy is valid, or both hold one generation with different contents (*why).
 */
int slotrec_choose(const unsigned char *file, size_t len, struct slotrec *r, int *newest, const char **why);
/* Where a copy lies in the file. */
static inline long slotrec_copy_off(int i) { return (long)i * SLOTREC_COPY_STRIDE; }
/* The record as it is, as "good A, pending B with 2 tries" (for messages; the save part is not said). */
void slotrec_describe(const struct slotrec *r, char *out, size_t cap);
/* 'A' or 'B'; '-' for SLOT_NONE. */
static inline char slot_letter(int s) { return s == SLOT_A ? 'A' : s == SLOT_B ? 'B' : '-'; }
/*
 * The file name of a slot from slot A's (live.root's last part): A is it as it is, B has "-b"
 * before its ".sqfs" (root.sqfs, root-b.sqfs). 0, or -ENAMETOOLONG.
 */
int slot_file_name(const char *a_name, int slot, char *out, size_t cap);

#endif
