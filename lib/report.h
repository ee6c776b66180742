/* report.h: the one family of messages: "prog: unable to VERB OBJECT: reason". */
#ifndef OVERLIVE_REPORT_H
#define OVERLIVE_REPORT_H

/* Exit codes: bad usage or input, and system failures (the daemontools convention). */
enum { EXIT_USAGE = 100, EXIT_SYSTEM = 111 };

/* Each program defines this once, beside main. */
extern const char *prog_name;

/* "prog: warning: MESSAGE[: strerror(err)]"; err 0 means no reason. err may be negative. */
void warn_msg(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "prog: fatal: MESSAGE[: strerror(err)]", then exit(code). */
void die_msg(int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/* "prog: MESSAGE" to stderr, no reason, for plain information. */
void info_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
