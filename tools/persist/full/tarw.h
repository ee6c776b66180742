/* tarw.h: persist's tar writer (tarw.c): pax-extended ustar entries into a sink. */
#ifndef OVERLIVE_PERSIST_TARW_H
#define OVERLIVE_PERSIST_TARW_H
#include <stddef.h>
#include <stdint.h>

enum { TAR_FILE = '0', TAR_LINK = '1', TAR_SYMLINK = '2', TAR_CHR = '3', TAR_BLK = '4', TAR_DIR = '5',
       TAR_FIFO = '6', TAR_PAX = 'x' };

struct tar_xattr {
	const char *name;
	const unsigned char *value;
	uint32_t vlen;
};

/* One entry: owners numeric (no names are written), mode without the type bits. */
struct tar_ent {
	const char *path;	/* as it goes into the archive (a directory's ends in '/') */
	const char *link;	/* symlink target or hardlink's first path; else NULL */
	char type;		/* TAR_* */
	uint32_t mode, uid, gid, devmajor, devminor, mtime_nsec;
	int64_t mtime_sec;
	uint64_t size;		/* the data the caller writes after the header */
	const struct tar_xattr *xattr;
	uint32_t nxattr;
};

struct tarw {
	int (*out)(void *ctx, const void *p, size_t n);	/* 0 or -errno */
	void *ctx;
	uint64_t written;
	unsigned char *pax;	/* the pax records being built */
	size_t plen, pcap;
};

int tarw_entry(struct tarw *t, const struct tar_ent *e);
int tarw_data(struct tarw *t, const void *p, size_t n);
int tarw_zeros(struct tarw *t, uint64_t n);
int tarw_pad(struct tarw *t);	/* zeros to the next 512-byte block, after an entry's data */
int tarw_end(struct tarw *t);
void tarw_free(struct tarw *t);

#endif
