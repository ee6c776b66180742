/* export.h: persist export's layer writer (export.c) and what it counts. */
#ifndef OVERLIVE_PERSIST_EXPORT_H
#define OVERLIVE_PERSIST_EXPORT_H
#include "persist.h"
#include "tarw.h"

struct xnames;
struct export {
	struct tarw t;		/* where the layer goes (the caller sets t.out and t.ctx) */
	struct perr err;	/* why it failed, when it says */
	uint64_t entries, bytes, whiteouts, opaque, links, sockets;
	char socket1[256];	/* the first socket left out, for the warning */
	/* private */
	struct u64map first, data;
	struct xnames *xn;
	uint64_t pos;
};
int export_oci(struct export *x, struct pfile *pf, const struct pstate *st);
void export_free(struct export *x);

#endif
