/* modrec.h: a recorder behind the module loader's seams (kmod.h): finit_module calls, log lines. */
#ifndef OVERLIVE_MODREC_H
#define OVERLIVE_MODREC_H
/* not every test uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kmod.h"

enum { MODREC_MAX = 64 };

struct modrec {
	char calls[MODREC_MAX][64];  /* what each loaded file holds: the tests write NAME.ko as "NAME" */
	int n;
	const char *fail;            /* this module fails with err */
	int err;
	const char *exists;          /* this one says EEXIST */
	char log[MODREC_MAX][256];   /* "LEVEL message" */
	int nlog;
};

static int modrec_finit(void *arg, int fd, const char *params, int flags)
{
	struct modrec *r = arg;
	char name[64] = "";
	ssize_t n = pread(fd, name, sizeof name - 1, 0);

	name[n > 0 ? n : 0] = '\0';
	if (r->n < MODREC_MAX)
		snprintf(r->calls[r->n++], sizeof r->calls[0], "%s", name);
	if (r->fail && strcmp(name, r->fail) == 0)
		return r->err;
	if (r->exists && strcmp(name, r->exists) == 0)
		return -EEXIST;
	return 0;
}

static void modrec_log(void *arg, int level, const char *msg)
{
	struct modrec *r = arg;

	if (r->nlog < MODREC_MAX)
		snprintf(r->log[r->nlog++], sizeof r->log[0], "%d %s", level, msg);
}

/* Was a line holding needle logged? */
static int modrec_logged(const struct modrec *r, const char *needle)
{
	int i;

	for (i = 0; i < r->nlog; i++)
		if (strstr(r->log[i], needle))
			return 1;
	return 0;
}

/* "a b c": the recorded calls since call number from */
static const char *modrec_calls(const struct modrec *r, int from, char *buf, size_t cap)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = from; i < r->n; i++)
		len += snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", i > from ? " " : "",
				r->calls[i]);
	return buf;
}

#endif
