/* progress.c: one status line on stderr, rewritten in place, when stderr is a terminal. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "persist.h"
#include "report.h"

#define PROGRESS_AFTER_MS 700
#define PROGRESS_EVERY_MS 200

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void progress_init(struct progress *p, int on, const char *what)
{
	p->on = on && isatty(2);
	p->shown = 0;
	p->what = what;
	p->n = p->total = p->bytes = 0;
	p->start_ms = p->last_ms = mono_ms();
}

void progress_total(struct progress *p, uint64_t total)
{
	p->total = total;
}

static void show(struct progress *p)
{
	uint64_t now;

	if (!p->on)
		return;
	now = mono_ms();
	if (now - p->start_ms < PROGRESS_AFTER_MS || now - p->last_ms < PROGRESS_EVERY_MS)
		return;
	p->last_ms = now;
	p->shown = 1;
	fprintf(stderr, "\r%s: %s: %llu/%llu entries, %llu MiB ", prog_name, p->what,
		(unsigned long long)p->n, (unsigned long long)p->total,
		(unsigned long long)(p->bytes >> 20));
}

void progress_entry(struct progress *p)
{
	p->n++;
	show(p);
}

void progress_bytes(struct progress *p, uint64_t n)
{
	p->bytes += n;
	show(p);
}

void progress_done(struct progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r\033[K");
	p->shown = 0;
}
