/* export.h: persist export's layer writer (export.c) and what it counts. */
#ifndef OVERLIVE_PERSIST_EXPORT_H
#define OVERLIVE_PERSIST_EXPORT_H
#include "persist.h"
#include <sys/types.h>
#include "tarw.h"

struct xnames;
struct export {
	struct tarw t;		/* where the layer goes (the caller sets t.out and t.ctx) */
	struct perr err;	/* why it failed, when it says */
	int overlay;		/* overlay form (whiteouts 0/0 devices, opaque by xattr), for a squashfs */
	struct progress *pr;	/* a progress line, or NULL */
	uint64_t entries, bytes, whiteouts, opaque, links, sockets;
	char socket1[256];	/* the first socket left out, for the warning */
	/* private */
	struct u64map first, data;
	struct xnames *xn;
	uint64_t pos;
};
/* persist export --squashfs --merge (merge.c): a root image out, the layer over the lower applied by overlayfs */
int merge_image(const char *layer, const char *lower, const char *out, int progress, struct perr *err);
/* a program reading a pipe (*wfd, or none) with stdout on fd; its exit checked (err: why) */
pid_t prog_start(char *const argv[], int fd, int *wfd);
int prog_wait(pid_t pid, const char *name, struct perr *err);
int export_oci(struct export *x, struct pfile *pf, const struct pstate *st);
void export_free(struct export *x);

#endif
