/* reset.c: a save file emptied in place (persist init over it, after a remaster): one empty compaction. */
#include <string.h>
#include "persist.h"

/*
 * The reset is a compaction of no entries into the other half: its header is written only after
 * the empty generation is durable, so a power cut leaves the old generations or the empty one.
 * The save file keeps its size and compression; its lower becomes lower (or none).
 */
int persist_reset(struct pfile *pf, const struct lower_id *lower, struct save_result *res)
{
	struct pwriter w = { 0 };
	int r;

	memset(res, 0, sizeof *res);
	r = w_begin(&w, pf, 1, TXN_COMPACT, lower);
	if (!r)
		r = w_commit(&w, 0, 0);
	if (r)
		perr_set(&res->err, r, "%s", perr_why(&pf->err, r));
	res->gen = pf->hdr.gen;
	w_abort(&w);
	return r;
}
