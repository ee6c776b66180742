/* report.c: formats the one message grammar to stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

static void vreport(const char *kind, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (err < 0)
		err = -err;
	if (err)
		fprintf(stderr, "%s: %s%s: %s\n", prog_name, kind, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s%s\n", prog_name, kind, msg);
}

void warn_msg(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", err, fmt, ap);
	va_end(ap);
}

void die_msg(int code, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("fatal: ", err, fmt, ap);
	va_end(ap);
	exit(code);
}

void info_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
}
