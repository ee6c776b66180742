/* persist.h: the save file's types, limits and the interfaces between persist's files. */
#ifndef OVERLIVE_PERSIST_H
#define OVERLIVE_PERSIST_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "byteorder.h"

/* On-disk constants (docs/persist-format.md). */
#define PF_MAGIC "OVLPERS1"
#define PF_VERSION 4		/* the newest this persist reads and writes (zstd, PACKs of entries, BLOBs) */
#define PF_VERSION_PLAIN 1	/* no compression field: what persist before zstd wrote and reads */
#define PF_VERSION_ZDATA 2	/* zstd, ZDATA records only: what persist before PACK wrote */
#define PF_VERSION_PACK 3	/* zstd, PACKs of entries and small data: what persist before BLOB wrote */
#define PF_SLOT_SIZE 4096
#define PF_HDR_LEN 160
#define PF_HDR_CRC 156		/* the header's CRC32C (of the bytes before it) */
#define PF_DATA_START 8192
#define PF_INIT_SUFFIX ".init"	/* pf_create writes PATH.init, then renames it to PATH */
#define PF_REC_HDR 16
#define PF_ENTRY_FIXED 96
#define PF_BEGIN_LEN 40
#define PF_COMMIT_LEN 24
#define PF_ZDATA_HDR 16		/* ZDATA payload: u64 offset, u32 raw length, u32 zero, then the frame */
#define PF_PACK_HDR 8		/* PACK payload: u32 raw length, u32 CRC32C of the raw bytes, then the frame */
#define PF_PACK_DATA_MAX (256 * 1024)	/* a DATA record of at most this many bytes goes into a PACK (v3); a
					 * file of at most this many bytes into a BLOB (v4) */
#define PF_REF_LEN 16		/* REF payload: u64 a BLOB's area offset, u32 offset in its raw bytes, u32 zero */
#define PF_PACK_RATIO 16	/* a PACK's raw bytes are at most this many times its payload's */
#define PF_TXN_ALIGN 4096	/* transactions start on their own block */
#define PF_CONFLICTS ".persist-conflicts"	/* a rebase's conflicts list: in the state, never restored */

/* Limits: checked before allocating or looping on anything read from a file. */
#define PF_PATH_MAX 4095
#define PF_NAME_MAX 255
#define PF_TARGET_MAX 4095
#define PF_XATTR_COUNT_MAX 1024
#define PF_XATTR_BYTES_MAX 65536
#define PF_DATA_CHUNK (1024 * 1024)	/* also the most a ZDATA record may decompress to */
#define PF_REC_MAX (PF_DATA_CHUNK + 8 + 65536)	/* also bounds a PACK's frame */
#define PF_ENTRY_PAYLOAD_MAX (PF_ENTRY_FIXED + PF_PATH_MAX + PF_TARGET_MAX + PF_XATTR_BYTES_MAX)
#define PF_ENTRIES_MAX (16u * 1024 * 1024)
#define PF_MIN_SIZE (PF_DATA_START + 2 * 65536)
#define PF_MAX_SIZE (1ull << 44)
#define PF_SAVE_RETRIES 5

enum rec_type { REC_BEGIN = 1, REC_ENTRY, REC_DATA, REC_DELETE, REC_COMMIT, REC_ROLLBACK, REC_ZDATA, REC_PACK,
		REC_BLOB, REC_REF, REC_TYPES };
/* A save file's compression of its DATA (header field, persist init --compress). */
enum pcomp { PC_NONE, PC_ZSTD, PC_KINDS };
#define PF_ZSTD_LEVEL 1		/* docs/persist-format.md, "Compression": why 1 */
enum txn_kind { TXN_SAVE = 1, TXN_FULL, TXN_COMPACT, TXN_ROLLBACK, TXN_KINDS };
enum ptype { PT_FILE = 1, PT_DIR, PT_SYMLINK, PT_CHR, PT_BLK, PT_FIFO, PT_SOCK, PT_WHITEOUT, PT_TYPES };
/*
 * ENTRY flags. EF_RECENT: the entry's ctime was less than PF_RECENT_NS before the save that wrote
 * it began, so a change in the same timestamp tick as its last one, after the save read it, may
 * have left its ctime as it was: the next save compares it rather than take "same inode, same
 * ctime" for "unchanged".
 */
enum { EF_DATA = 1, EF_KEEP = 2, EF_RECENT = 4 };
#define PF_RECENT_NS 2000000000LL	/* 2 s: above any timestamp tick (FAT's 2 s included) */
/* Only a version 4 file has EF_RECENT (a reader of an older version refuses it): in the others an
 * entry without it may still be recent, so "same inode, same ctime" is trusted as before. */
#define pf_has_recent(h) ((h)->version >= PF_VERSION)
/* The catalogue a scan of a save into a file with header h may take xattrs from (scan_upper) */
#define pf_scan_catalogue(h, st) (pf_has_recent(h) ? (st) : NULL)

/* One entry of the upper, as scanned or as held in the journal's state (the catalogue). */
struct pentry {
	char *path;		/* relative, "." is the upper's root */
	char *target;		/* symlink target or NULL */
	unsigned char *xattrs;	/* encoded: (u16 nlen, u16 0, u32 vlen, name, value)*, sorted by name */
	uint32_t nxattr, xattr_len;
	uint32_t type, mode, uid, gid, flags, crc, mtime_nsec, ctime_nsec;
	int64_t mtime_sec, ctime_sec;
	uint64_t rdev, size, ino, group;
	int64_t data_off;	/* area offset of the first DATA record, -1 when none */
	uint64_t nlink;		/* scan only */
	int crc_known;		/* scan only: crc holds the content CRC */
	size_t sgroup;		/* scan only: 1 + its hardlink group's index in scan.groups, 0 = none */
	const struct pentry *cat;	/* scan only: its catalogue entry (NULL: none), when cat_known */
	int cat_known;
};

/* The state replayed from the journal: path -> entry. */
struct pnode {
	struct pnode *next;
	size_t h;		/* hash of e.path (state.c) */
	struct pentry e;
};
struct pstate {
	struct pnode **bucket;
	size_t nbucket, count;
	uint64_t bytes;		/* sum of regular file sizes */
	struct pslab *slabs;	/* the nodes, allocated PF_SLAB_NODES at a time (state.c) */
	size_t slab_left;
	struct pnode *spare;	/* nodes taken out, for the next ones put in */
};

struct phdr {
	uint64_t seq, gen, file_size, area_size, epoch, end, time_ns, lower_size, bytes;
	uint32_t area, flags, lower_crc, entries;
	uint32_t comp;		/* enum pcomp */
	uint32_t version;	/* 1, 2 or 3: what the file was made as (every header copies it) */
};

/* One committed generation, as listed by log. */
struct pgen {
	uint64_t gen, time_ns, start, end, lower_size, bytes, target;
	uint32_t kind, nrec, entries, lower_crc, why;	/* why: BEGIN's (struct rec_begin) */
};
struct pgenlist {
	struct pgen *v;
	size_t n, cap;
};

/*
 * What went wrong, said once where it is known (perr_set) and carried unchanged up to the top,
 * which reports it with perr_why: every layer of persist uses this one carrier.
 */
struct perr {
	char msg[512];
};
int perr_set(struct perr *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *perr_why(const struct perr *e, int r);
int perr_at(struct perr *e, int r, uint64_t off);	/* -EBADMSG's message + " at area offset OFF" */	/* the message, else strerror(r) */

/* The compression state of one thread (zdata.c); zeroed is empty. */
struct pzstd {
	void *cctx, *dctx;
	unsigned char *buf;	/* PF_DATA_CHUNK: a decompressed record, or a compressed one */
	unsigned char *pk;	/* the last PACK read, expanded (journal.c): PF_DATA_CHUNK */
	uint64_t pk_at;		/* its absolute file offset + 1 (0: none) */
	uint64_t blob_at;	/* or: the BLOB it holds, expanded (fdata.c), its absolute offset + 1 */
	uint64_t pk_next;	/* the area offset of the record after it */
	uint32_t pk_len;	/* its raw length */
	int content_crc;	/* set before the first use: the caller checks the raw bytes by the entry's
				 * content CRC (restore), so the frames' own checksums are not computed */
};

/*
 * A record inside a PACK has an offset of its own: the PACK's area offset (a multiple of 8) and
 * its offset in the PACK's raw bytes, with bit 62 set. The PACK's own offset stands for its first
 * record. pf_off_in: is off a record's offset within a committed range that ends at end?
 */
#define PF_OFF_INNER (1ull << 62)
static inline uint64_t pf_off_inner(uint64_t pack, uint32_t in)
{
	return in ? PF_OFF_INNER | (uint64_t)(in / 8) << 40 | pack / 8 : pack;
}
/* A file's data in a BLOB (version 4): the BLOB's area offset / 8 in bits 0-39, the offset in its
 * raw bytes / 8 in bits 40-60, bit 61 set (a state's data location, never a record's offset). */
#define PF_OFF_BLOB (1ull << 61)
static inline uint64_t pf_off_blob(uint64_t blob, uint32_t in)
{
	return PF_OFF_BLOB | (uint64_t)(in / 8) << 40 | blob / 8;
}
static inline void pf_off_blob_split(uint64_t loc, uint64_t *blob, uint32_t *in)
{
	*blob = (loc & ((1ull << 40) - 1)) * 8;
	*in = (uint32_t)((loc >> 40) & ((1u << 21) - 1)) * 8;
}
static inline int pf_off_in(uint64_t off, uint64_t end)
{
	return (off & PF_OFF_INNER) || off < end;
}

/* An open save file and the header chosen from its two slots. */
struct pfile {
	int fd;
	uint64_t size;
	struct phdr hdr;	/* the chosen header */
	int slot;		/* its slot */
	struct phdr alt;	/* the other slot's header, when valid */
	int alt_valid;
	struct perr err;	/* what was wrong, for the top to report */
	unsigned char *rbuf;	/* one record */
	size_t rcap;
	unsigned char *win;	/* read window (journal.c) */
	uint64_t win_off;
	size_t win_len;
	uint64_t nread;		/* records read so far (what the replay's bound is stated in) */
	uint64_t ndata, nzdata;	/* the last replay's data records in its committed range, and its ZDATA */
	uint64_t npacked;	/* ... and its data records in PACKs */
	int in_pack;		/* the last record read came out of a PACK */
	struct pzstd z;		/* the reader's decompression */
};

struct lower_id {
	uint64_t size;
	uint32_t crc;
};

/* The payloads of the BEGIN and COMMIT records that frame a transaction. */
struct rec_begin {
	uint64_t gen, time_ns, lower_size;
	uint32_t kind, lower_crc;
	uint32_t why;	/* a rollback the init wrote: the boots without a mark before it; else 0 */
};
struct rec_commit {
	uint64_t gen, bytes;	/* bytes: data bytes in the state */
	uint32_t nrec, entries;	/* records in the transaction, entries in the state */
};

/* codec.c */
void begin_encode(const struct rec_begin *b, unsigned char buf[PF_BEGIN_LEN]);
int begin_decode(const unsigned char *buf, uint32_t len, struct rec_begin *b);
void commit_encode(const struct rec_commit *c, unsigned char buf[PF_COMMIT_LEN]);
int commit_decode(const unsigned char *buf, uint32_t len, struct rec_commit *c);
void ref_encode(uint64_t blob, uint32_t in, unsigned char buf[PF_REF_LEN]);
int ref_decode(const unsigned char *buf, uint32_t len, uint64_t *blob, uint32_t *in);	/* -EBADMSG */
void hdr_encode(const struct phdr *h, unsigned char buf[PF_HDR_LEN]);
int hdr_decode(const unsigned char *buf, struct phdr *h);
int path_check(const char *p, size_t len);
size_t entry_encoded_len(const struct pentry *e);
void entry_encode(const struct pentry *e, unsigned char *buf);
int entry_decode(const unsigned char *p, size_t len, struct pentry *e);
int entry_check(const unsigned char *p, size_t len, struct pentry *e);	/* no path, target, xattrs: no allocation */
int xattrs_check(const unsigned char *x, uint32_t n, uint32_t len);
const unsigned char *xattr_find(const struct pentry *e, const char *name, uint32_t *vlen);
void entry_free(struct pentry *e);
int entry_copy(struct pentry *dst, const struct pentry *src);
const char *ptype_name(uint32_t t);
const char *txn_kind_name(uint32_t k);
uint64_t rec_size(uint32_t len);
const char *pcomp_name(uint32_t c);
int pcomp_parse(const char *s, uint64_t *c);	/* "zstd" or "none"; -EINVAL otherwise */

/* zdata.c: the bytes of DATA and ZDATA records (struct pzstd above) */
void pz_free(struct pzstd *z);
/* n raw bytes compressed into z->buf; 0 with *zn = 0 when the frame would not be smaller than max */
int pz_compress(struct pzstd *z, const void *p, size_t n, size_t max, size_t *zn);
/* A PACK's raw bytes (at most PF_DATA_CHUNK) as one frame into out (cap bytes: pz_pack_bound) */
size_t pz_pack_bound(void);
int pz_pack(struct pzstd *z, const void *p, size_t n, void *out, size_t cap, size_t *zn);
/* A PACK's or BLOB's payload expanded into z->pk (bounded by PF_DATA_CHUNK, checked against its CRC32C);
 * -EBADMSG, err says why (what: "PACK" or "BLOB"). _head: its raw length, bounded, from its first 8 bytes. */
int pz_unpack(struct pzstd *z, const unsigned char *payload, uint32_t len, const char *what, struct perr *err);
int pz_unpack_head(const unsigned char *payload, uint32_t len, const char *what, uint32_t *n, struct perr *err);
/* One data record's payload as read: its offset in the file and raw length (no decompression),
 * at most PF_DATA_CHUNK (checked here, for both types: the one place). */
int data_rec_head(uint32_t type, const unsigned char *payload, uint32_t len, uint64_t *off, uint32_t *n);
/*
 * One data record's raw bytes: DATA's point into the payload, ZDATA's are decompressed into
 * z->buf, bounded by PF_DATA_CHUNK, and must be exactly the length the record says. -EBADMSG
 * (err says why) for a record that lies; what restore calls for each record.
 */
int data_rec_decode(struct pzstd *z, uint32_t type, const unsigned char *payload, uint32_t len,
		    uint64_t *off, const unsigned char **bytes, uint32_t *n, struct perr *err);
static inline int rec_is_data(uint32_t type)
{
	return type == REC_DATA || type == REC_ZDATA;
}

/* state.c */
int state_init(struct pstate *s);
void state_free(struct pstate *s);
struct pentry *state_get(const struct pstate *s, const char *path);
int state_put(struct pstate *s, struct pentry *e);	/* takes e's contents */
int state_swap(struct pstate *s, struct pentry *e, struct pentry *old);
int state_del(struct pstate *s, const char *path);
int state_take(struct pstate *s, const char *path, struct pentry *out);
int state_sorted(const struct pstate *s, struct pentry ***out);
int path_cmp(const void *a, const void *b);

/* journal.c: the reader */
int pf_rbuf_need(struct pfile *pf, size_t n);
int pf_open(struct pfile *pf, const char *path, int writable);
void pf_close(struct pfile *pf);
int pf_pick_alt(struct pfile *pf);
uint64_t pf_area_base(const struct phdr *h, uint32_t area);
uint32_t rec_crc(uint64_t epoch, const unsigned char *rec, uint32_t len);
/* The checksums of a save file's image in memory made right again (both header slots, then each valid
 * header's records up to its end): for the fuzzers, whose mutations must reach the record parser. */
void pf_fix_checksums(unsigned char *img, size_t size);
int pf_read_rec(struct pfile *pf, const struct phdr *h, uint64_t off, uint64_t end, int want_data,
		uint32_t *type, uint32_t *len, uint64_t *next);
/*
 * How much of each data record the replay checks (every other record is always read whole and
 * CRC-checked): META only its head (offset, lengths: the catalogue of save, status, log);
 * CRC its whole payload against the record CRC (restore, whose writing expands each ZDATA
 * frame once, checked as it goes); ALL also expands every ZDATA frame (verify, grow).
 */
enum pcheck { PCHECK_META, PCHECK_CRC, PCHECK_ALL };
/* replay.c: h's area into st up to stop_gen (UINT64_MAX: all), checking data as check says. */
int pf_replay(struct pfile *pf, const struct phdr *h, uint64_t stop_gen, enum pcheck check,
	      struct pstate *st, struct pgenlist *log);
int pf_load(struct pfile *pf, uint64_t at, enum pcheck check, struct pstate *st, struct pgenlist *log);
void genlist_free(struct pgenlist *l);

/* fslimit.c: the largest file the file system of fd (or of path's directory) can hold. */
struct pf_fslimit {
	uint64_t max;		/* bytes; UINT64_MAX when the file system sets none a save file meets */
	const char *fs;		/* its name when it has a limit ("vfat"), else "" */
};
int pf_fs_limit(int fd, struct pf_fslimit *l);
int pf_fs_limit_of_dir(const char *path, struct pf_fslimit *l);
/* -EFBIG with the refusal said in e: the limit, what was not done (done), and what to do. */
int pf_fs_limit_refuse(struct perr *e, const struct pf_fslimit *l, const char *done);

/* writer.c */
struct pwriter {
	struct pfile *pf;
	struct phdr next;	/* header to write at commit */
	uint64_t base, pos, limit;
	uint32_t nrec, entries;
	uint64_t bytes, written;
	unsigned char *buf;
	size_t blen;
	uint64_t bstart;
	struct pzstd z;		/* the writer's compression (a zstd file) */
	unsigned char *pack[2];	/* version 3: the PACK being filled (raw records), the one flushed before it */
	size_t plen[2];
	unsigned flushes;	/* PACKs flushed so far */
	unsigned marked;	/* flushes at the last w_mark: pack[1] keeps the first PACK flushed after it */
	unsigned char *pz;	/* a PACK's frame */
	unsigned char *blob;	/* version 4: the BLOB being filled (small files' bytes) */
	size_t bllen;
	size_t *refs, nrefs, refcap;	/* where in pack[0] its REFs wait for its area offset */
	int run;		/* the last record written was outer data: its ENTRY goes outside too */
	int64_t recent_since;	/* a save's start (ns, CLOCK_REALTIME): entries whose ctime is less
				 * than PF_RECENT_NS before it get EF_RECENT; 0: flags as they are */
};
struct wmark {
	uint64_t pos;
	uint32_t nrec;
	uint64_t written;
	size_t plen;
	unsigned flushes;
};
int w_mark(struct pwriter *w, struct wmark *m);
void w_rewind(struct pwriter *w, struct wmark m);
int w_begin(struct pwriter *w, struct pfile *pf, int fresh_area, uint32_t kind,
	    const struct lower_id *lower);
/* w_begin with the BEGIN's why (struct rec_begin) */
int w_begin_why(struct pwriter *w, struct pfile *pf, int fresh_area, uint32_t kind, uint32_t why,
		const struct lower_id *lower);
int w_entry(struct pwriter *w, const struct pentry *e);
int w_data(struct pwriter *w, uint64_t off, const void *p, size_t n);	/* ZDATA when it compresses */
int w_small(struct pwriter *w, const void *p, size_t n, const struct pentry *e);	/* v4: bytes, REF, ENTRY */
int w_copy(struct pwriter *w, uint32_t type, const void *payload, size_t len);	/* a record as read */
int w_delete(struct pwriter *w, const char *path);
int w_rollback(struct pwriter *w, uint64_t gen);
int w_commit(struct pwriter *w, uint32_t entries, uint64_t bytes);
void w_abort(struct pwriter *w);
int pf_create(const char *path, uint64_t size, uint32_t comp);	/* version 4 for zstd, 1 for none */
int pf_create_version(const char *path, uint64_t size, uint32_t comp, uint32_t version);

/* publish.c: every header write (init, commit, grow) goes through pf_publish */
int pf_publish(struct pfile *pf, const struct phdr *next);
extern int (*pf_hdr_sync)(int fd);	/* fdatasync, 0 or -errno; a test may count or fail it */

/* metatable.c: what happens to each xattr */
enum xact { XA_KEEP, XA_DROP, XA_OPAQUE, XA_WHITEOUT, XA_REFUSE };
enum xact xattr_action(const char *name);
int xattr_restorable(const char *name, const unsigned char *v, uint32_t vlen);

/* u64map.c: 64-bit key -> size_t value */
struct u64map {
	uint64_t *key;
	size_t *val;
	unsigned char *used;
	size_t cap, n;
};
int u64map_init(struct u64map *m, size_t expect);
void u64map_free(struct u64map *m);
size_t *u64map_at(struct u64map *m, uint64_t key, int *created);
const size_t *u64map_get(const struct u64map *m, uint64_t key);

/* scan.c */
struct patterns;
/* A hardlink group of a scan: one inode met under two or more scanned paths. */
struct sgroup {
	uint64_t ino;
	size_t lead, n;		/* its first member (scan order) and how many it has */
	size_t *member;		/* the members' indices in scan order (into scan.members) */
	int chg;		/* how the group changed, as a whole (diff.c) */
	uint64_t was;		/* CH_NONE, CH_TOUCH: its catalogue id (the same members as now) */
	size_t keeper;		/* CH_TOUCH: the member whose catalogue entry holds the data */
	uint64_t id;		/* the id this save writes it under */
	int skip;		/* --skip-busy: its first member kept changing, so it keeps its state */
};
/* The scan's scratch for one depth of the walk: a directory's names and children (scan.c). */
struct scan_lvl {
	char *names, **sorted;
	size_t *off, namecap, offcap, sortcap, kidcap;
	struct pentry *kids;
};
struct scan {
	struct pentry *v;
	struct pentry **sorted;
	size_t n, cap;
	struct sgroup *groups;
	size_t ngroups, *members;
	struct perr err;
	const struct pstate *was;	/* the catalogue, or NULL: an unchanged entry's xattrs come from it */
	struct scan_lvl *lvl;
	size_t nlvl, lvlcap;
};
int scan_upper(const char *upper, const struct patterns *pat, const struct pstate *was, struct scan *sc);
void scan_free(struct scan *sc);
int scan_has(struct scan *sc, const char *path);
int scan_path(const char *upper, const char *rel, struct pentry *e, struct perr *err);
const struct pentry *scan_cat(const struct pstate *st, struct pentry *e);	/* e's catalogue entry, looked up once */

/* data.c */
int walk_data(int fd, uint64_t size, void *buf, int (*fn)(void *ctx, uint64_t off, const void *p, size_t n),
	      void *ctx);
uint32_t content_crc_step(uint32_t crc, uint64_t off, const void *p, size_t n);
int file_content_crc(int fd, uint64_t size, uint32_t *crc);

/*
 * fdata.c: a saved regular file's data (e from a state pf_load replayed), each record read and
 * checked again and handed to fn in the order saved; then the content CRC. 0, fn's error, or
 * -errno with pf->err saying why.
 */
int pf_blob_bytes(struct pfile *pf, int64_t data_off, uint64_t n, const unsigned char **p);
int pf_entry_data(struct pfile *pf, const struct pentry *e,
		  int (*fn)(void *ctx, uint64_t off, const void *p, size_t n), void *ctx);

/* diff.c */
/* CH_RECHECK: as CH_TOUCH, but only because its catalogue entry has EF_RECENT (same inode and
 * ctime, same view, same content): written again, but alone it is no reason for a generation. */
enum change { CH_NONE, CH_TOUCH, CH_ADD, CH_MOD, CH_DEL, CH_REPLACE, CH_RECHECK };
int entry_compare(const char *upper, struct pentry *now, const struct pentry *was, int in_group);
int scan_changes(const char *upper, const struct pstate *st, struct scan *sc, int *chg);
int is_opaque(const struct pentry *e);

/* progress.c: a status line on a terminal for long work, nothing otherwise */
struct progress {
	int on, shown;
	const char *what;
	uint64_t n, total, bytes, start_ms, last_ms;
};
void progress_init(struct progress *p, int on, const char *what);
void progress_total(struct progress *p, uint64_t total);
void progress_entry(struct progress *p);
void progress_bytes(struct progress *p, uint64_t n);
void progress_done(struct progress *p);
uint64_t mono_ms(void);

/* save.c */
struct save_result {
	uint64_t gen, entries_written, deletes, bytes, state_entries, busy;
	uint64_t rechecked;	/* entries written again only because of EF_RECENT (not in entries_written) */
	int full;
	struct perr err, warn;	/* why it failed; what the caller should warn about */
};
/* persist_save's flags: a progress line; a busy file keeps its last saved version (named in warn) */
enum { SAVE_PROGRESS = 1, SAVE_SKIP_BUSY = 2 };
int persist_save(const char *file, const char *upper, const struct patterns *pat,
		 const struct lower_id *lower, unsigned flags, struct save_result *res);
int persist_compact(struct pfile *pf, struct save_result *res);
int persist_rollback(struct pfile *pf, uint64_t gen, uint32_t why, struct save_result *res);
int persist_grow(struct pfile *pf, const char *path, uint64_t size, struct save_result *res);
int sync_dir_of(const char *path);	/* fsync of path's directory (grow.c) */
/* reset.c: the save file's state emptied, crash-safely, its lower identity lower (or none) */
int persist_reset(struct pfile *pf, const struct lower_id *lower, struct save_result *res);

/* dirfds.c: the restore target's directories by path (filled first, then only read, by any thread) */
struct dirfds {
	int rootfd;
	struct u64map map;	/* hash of the path -> index into v */
	struct {
		int fd;
		const char *path;
	} *v;
	size_t n, cap, max;	/* max: how many fds it may keep open */
};
struct dwalk {			/* one thread's last directory walked to (one not in the cache) */
	int fd;
	char path[PF_PATH_MAX + 1];
};
int dirfds_init(struct dirfds *d, int rootfd, size_t max);
void dirfds_free(struct dirfds *d);
int dirfds_add(struct dirfds *d, const char *path, int fd);
int dirfds_get(const struct dirfds *d, const char *path, size_t len);
int dirfds_parent(const struct dirfds *d, struct dwalk *w, const char *path, const char **name, int *fd);
void dwalk_done(struct dwalk *w);

/* restore.c */
int persist_restore(struct pfile *pf, const struct pstate *st, int rootfd, unsigned nthreads,
		    struct progress *pr, struct perr *err);

/* config.c */
struct patterns {
	char **inc, **exc;
	size_t ninc, nexc, capinc, capexc;
};
int patterns_load(const char *savefile, struct patterns *p, struct perr *err);
void patterns_free(struct patterns *p);
enum { PAT_INC = 1, PAT_EXC = 2 };
unsigned patterns_step(const struct patterns *p, const char *path, unsigned parent);
int patterns_wanted(const struct patterns *p, unsigned v);
int patterns_want(const struct patterns *p, const char *path);
int lower_identify(const char *path, struct lower_id *id);
struct live_env {
	char file[4096], upper[4096], lower[4096];
};
int live_env_load(const char *path, struct live_env *env, struct perr *err);

#endif
