/* perr.c: persist's one error carrier: the message is made where the error is known, once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "persist.h"

int perr_set(struct perr *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return r;
}

/* A record's -EBADMSG said again with the area offset of the record (any other r left as it is) */
int perr_at(struct perr *e, int r, uint64_t off)
{
	if (r == -EBADMSG) {
		struct perr why = *e;
		perr_set(e, r, "%.200s at area offset %llu", why.msg, (unsigned long long)off);
	}
	return r;
}

const char *perr_why(const struct perr *e, int r)
{
	return e->msg[0] ? e->msg : strerror(r < 0 ? -r : r);
}
