/* replay.c: plays a record log onto a copy of the base image and cuts it at a position. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cache.h"
#include "io.h"
#include "nbd.h"
#include "record.h"
#include "replay.h"
#include "vec.h"

static int copy_image(int from, int to, uint64_t size, unsigned char *buf, size_t cap)
{
	uint64_t off = 0;
	size_t got;
	int r;

	if (ftruncate(to, (off_t)size))
		return -errno;
	while (off < size) {
		size_t n = size - off < cap ? (size_t)(size - off) : cap;
		r = pread_all(from, buf, n, (off_t)off, &got);
		if (r)
			return r;
		if (got < n)
			return -EINVAL; /* shrank under us */
		r = pwrite_all(to, buf, n, (off_t)off);
		if (r)
			return r;
		off += n;
	}
	return 0;
}

static int file_size(int fd, uint64_t *size)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

/* Plays entries until the position; returns 0 there, -ERANGE if the log ends first. */
static int play(const struct replay_args *a, struct record *rec, struct cache *c,
		unsigned char *buf, struct replay_result *res)
{
	struct rec_entry e;
	int r;

	for (;;) {
		if (res->flushes == a->epoch && a->writes && res->writes == a->writes)
			return 0;
		r = record_next(rec, &e, buf, NBD_MAX_LEN);
		if (r < 0)
			return r;
		if (r == 0) /* the end of the run is a cut too (the client went away) */
			return res->flushes == a->epoch && !a->writes ? 0 : -ERANGE;
		if (e.type == REC_FLUSH) {
			if (res->flushes == a->epoch)
				return a->writes ? -ERANGE : 0;
			r = cache_flush(c);
			if (r)
				return r;
			res->flushes++;
			continue;
		}
		res->writes++;
		r = cache_write(c, e.type == REC_WRITE ? buf : NULL, e.off, e.len, e.fua);
		if (r)
			return r;
	}
}

int replay_run(const struct replay_args *a, struct replay_result *res)
{
	struct record rec = { 0 };
	struct cache c;
	unsigned char *buf = NULL;
	int base = -1, out = -1, r;
	uint64_t size = 0;

	memset(res, 0, sizeof *res);
	cache_init(&c, -1, 0, UINT64_MAX);
	res->what = a->log;
	r = record_open(&rec, a->log);
	if (r)
		goto done;
	res->what = a->base;
	base = open(a->base, O_RDONLY | O_CLOEXEC);
	if (base < 0 || (r = file_size(base, &size))) {
		r = base < 0 ? -errno : r;
		goto done;
	}
	if (size != rec.size) {
		r = -EINVAL;
		goto done;
	}
	buf = malloc(NBD_MAX_LEN);
	r = -ENOMEM;
	if (!buf)
		goto done;
	res->what = a->out;
	out = open(a->out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0 || (r = copy_image(base, out, size, buf, NBD_MAX_LEN))) {
		r = out < 0 ? -errno : r;
		goto done;
	}
	cache_init(&c, out, size, UINT64_MAX);
	res->what = "position";
	r = play(a, &rec, &c, buf, res);
	if (r == -EINVAL)
		res->what = a->log;
	if (r)
		goto done;
	res->what = a->out;
	r = cache_cut(&c, &a->spec, &res->st);
done:
	res->truncated = rec.truncated;
	cache_free(&c);
	(void)record_close(&rec);
	free(buf);
	if (base >= 0)
		close(base);
	if (out >= 0 && close(out) && !r)
		r = -errno;
	return r;
}

int replay_scan(const char *log, uint64_t **counts, size_t *n, int *truncated)
{
	struct record rec;
	struct rec_entry e;
	uint64_t *v = NULL;
	size_t cap = 0, len = 1;
	unsigned char *buf = malloc(NBD_MAX_LEN);
	int r = buf ? record_open(&rec, log) : -ENOMEM;

	if (r) {
		free(buf);
		return r;
	}
	for (;;) {
		size_t had = cap;

		if (vec_reserve((void **)&v, &cap, len - 1, sizeof *v, 16)) {
			r = -ENOMEM;
			break;
		}
		memset(v + had, 0, (cap - had) * sizeof *v);
		r = record_next(&rec, &e, buf, NBD_MAX_LEN);
		if (r <= 0)
			break;
		if (e.type == REC_FLUSH)
			len++;
		else
			v[len - 1]++;
	}
	*truncated = rec.truncated;
	(void)record_close(&rec);
	free(buf);
	if (r < 0) {
		free(v);
		return r;
	}
	*counts = v;
	*n = len;
	return 0;
}
