/* emergency.c: the one fatal path of PID 1: explain, then a rescue shell, never a panic. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init.h"

#define RESCUE_SHELL "/bin/sh"

/* Runs the shell on the console as a session leader and waits, reaping orphans meanwhile. */
static int run_shell(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *argv[] = { "sh", NULL };
		char *envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=linux",
				 "PS1=overlive rescue# ", NULL };
		int fd;

		setsid();
		fd = open("/dev/console", O_RDWR);
		if (fd < 0)     /* after the move stage, /dev lives in the new root */
			fd = open(NEWROOT "/dev/console", O_RDWR);
		if (fd >= 0) {
			(void)ioctl(fd, TIOCSCTTY, 1);
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		execve(RESCUE_SHELL, argv, envp);
		_exit(127);
	}
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? -ENOENT : 0;
		if (w < 0 && errno != EINTR)
			return -errno;
	}
}

void rescue_shell(struct init_ctx *c, const char *why)
{
	log_msg(c, LOG_WARN, "%s: rescue shell before stage %s; exit the shell to go on booting",
		why, c->stage ? c->stage : "?");
	modules_unpack_all(c);
	if (run_shell() == -ENOENT)
		log_msg(c, LOG_WARN, "no rescue shell (%s) in this initramfs; going on", RESCUE_SHELL);
}

void report_failure(struct init_ctx *c, int err, int level)
{
	const char *kind = level <= LOG_ERR ? "fatal: " : "warning: ";

	if (err < 0)
		err = -err;
	if (c->what_says_why)
		log_msg(c, level, "%sunable to %s", kind, c->what);
	else
		log_msg(c, level, "%sunable to %s: %s", kind, c->what[0] ? c->what : "boot",
			err ? strerror(err) : "failed");
	log_msg(c, level, "%s at stage=%s t=%.3f%s%s", level <= LOG_ERR ? "failed" : "noticed",
		c->stage ? c->stage : "?", uptime_seconds(), c->hint[0] ? "; try: " : "", c->hint);
}

void emergency(struct init_ctx *c, int err)
{
	report_failure(c, err, LOG_ERR);
	modules_unpack_all(c);
	for (;;) {
		log_msg(c, LOG_ERR, "starting the rescue shell (%s); 'reboot -f' restarts the machine",
			RESCUE_SHELL);
		if (run_shell() == -ENOENT) {
			log_msg(c, LOG_ERR, "no rescue shell in this initramfs; halted, power off to restart");
			for (;;)
				pause();
		}
	}
}
