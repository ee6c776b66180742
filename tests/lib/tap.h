/* tap.h: the Test Anything Protocol for our C unit tests, header only. */
#ifndef OVERLIVE_TAP_H
#define OVERLIVE_TAP_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* lib/report.c wants the program's name; a test binary is one program. */
const char *prog_name = "test";

static void tap_plan(int n) __attribute__((unused));
static void tap_plan(int n) { printf("1..%d\n", n); fflush(stdout); }

static int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static void tap_skip(int count, const char *why) __attribute__((unused));
static void tap_skip(int count, const char *why)
{
	while (count-- > 0)
		printf("ok %d # skip %s\n", ++tap_n, why);
	fflush(stdout);
}

static void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Ends the test: prints the plan when none was given up front, and the exit status. */
static int tap_done(int planned) __attribute__((unused));
static int tap_done(int planned)
{
	if (!planned)
		printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)
static int tap_is_int(long long got, long long want, const char *name) __attribute__((unused));
static int tap_is_int(long long got, long long want, const char *name)
{
	return tap_ok(got == want, "%s (got %lld, want %lld)", name, got, want);
}
#define is_int(got, want, name) tap_is_int((long long)(got), (long long)(want), (name))
static int tap_is_str(const char *got, const char *want, const char *name) __attribute__((unused));
static int tap_is_str(const char *got, const char *want, const char *name)
{
	return tap_ok(got && want && strcmp(got, want) == 0, "%s (got '%s', want '%s')", name,
		      got ? got : "(null)", want ? want : "(null)");
}
#define is_str(got, want, name) tap_is_str((got), (want), (name))

#endif
