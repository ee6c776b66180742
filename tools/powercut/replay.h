/* replay.h: crash images made offline from a record log (the dm-log-writes method). */
#ifndef POWERCUT_REPLAY_H
#define POWERCUT_REPLAY_H
#include <stddef.h>
#include <stdint.h>
#include "cut.h"

struct replay_args {
	const char *log, *base, *out;
	uint64_t epoch;  /* cut while these writes are unflushed (after flush `epoch` was done) */
	uint64_t writes; /* and only after write number `writes` (0: at the epoch's end) */
	struct cut_spec spec;
};

struct replay_result {
	uint64_t writes, flushes; /* the position of the cut, as the server counts */
	struct cut_stats st;
	int truncated;            /* the log ended in a partial record */
	const char *what;         /* on error: which file or "position" failed */
};

/*
 * Copies base to out, plays the log onto out through the same cache as the server, and
 * cuts at the position. 0 or -errno; -ERANGE when the log has no such position, -EINVAL
 * when it is corrupt or base's size is not the logged one.
 */
int replay_run(const struct replay_args *a, struct replay_result *res);

/*
 * Counts the writes of each epoch: *counts (malloc'd, *n entries; the caller frees) holds
 * the writes done after flush i and before flush i+1. 0 or -errno.
 */
int replay_scan(const char *log, uint64_t **counts, size_t *n, int *truncated);

#endif
