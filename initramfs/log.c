/* log.c: the init's log: /dev/kmsg with the "overlive:" prefix, and the console when needed. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "init.h"
#include "io.h"

double uptime_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void log_open(struct init_ctx *c)
{
	char buf[64];

	c->kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	c->console_level = 7;
	/* /proc/sys/kernel/printk starts with console_loglevel: messages below it reach the console. */
	if (read_small_file(AT_FDCWD, "/proc/sys/kernel/printk", buf, sizeof buf) == 0)
		c->console_level = atoi(buf);
}

static void vlog(struct init_ctx *c, int level, const char *fmt, va_list ap)
{
	char msg[768], line[800];
	int n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (c->kmsg >= 0) {
		n = snprintf(line, sizeof line, "<%d>overlive: %s\n", level, msg);
		(void)write_all(c->kmsg, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
	/* The kernel echoes kmsg lines below console_loglevel; say the rest ourselves when they matter. */
	if (c->kmsg < 0 || (level >= c->console_level && (level <= LOG_WARN || c->cfg.debug))) {
		n = snprintf(line, sizeof line, "overlive: %s\n", msg);
		(void)write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
}

void log_msg(struct init_ctx *c, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(c, level, fmt, ap);
	va_end(ap);
}

void log_stage(struct init_ctx *c, const char *stage)
{
	c->stage = stage;
	log_msg(c, LOG_INFO, "stage=%s t=%.3f", stage, uptime_seconds());
}

static int vfail(struct init_ctx *c, int err, int says_why, const char *hint, const char *fmt, va_list ap)
{
	vsnprintf(c->what, sizeof c->what, fmt, ap);
	snprintf(c->hint, sizeof c->hint, "%s", hint ? hint : "");
	c->what_says_why = says_why;
	return err;
}

int fail(struct init_ctx *c, int err, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = vfail(c, err, 0, hint, fmt, ap);
	va_end(ap);
	return err;
}

int failx(struct init_ctx *c, int err, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = vfail(c, err, 1, hint, fmt, ap);
	va_end(ap);
	return err;
}
