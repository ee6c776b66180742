/* fatcheck.c: checks a FAT, and repairs what a power cut leaves, before the init writes to it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init.h"

#define FSCK_FAT      "/bin/fsck.fat"
#define FSCK_OUT_MAX  16384      /* bytes of fsck.fat's report kept; the rest is counted, not shown */
#define FSCK_LINES    40         /* lines of it on the console */
#define FSCK_PASSES   3          /* runs of fsck.fat -a before a FAT counts as beyond repair */

/*
 * Runs fsck.fat with one option on dev, its stdout then its stderr into out (NUL-terminated, cut
 * at cap; *err points at where stderr starts: a reason it gives up with); its exit status,
 * 128 + signal, or -errno when it could not run. dosfstools 4.2 exits 0 when nothing was wrong,
 * 1 when it changed something (-a) or would have (-n), and also 1 when it gives up (die(), having
 * written nothing): the caller tells these apart by running it again.
 */
static int run_fsck(const char *opt, const char *dev, char *out, size_t cap, const char **err)
{
	char *argv[] = { "fsck.fat", (char *)opt, (char *)dev, NULL };
	char *envp[] = { "PATH=/bin", NULL };
	size_t len = 0;
	int p[2], st, ef;
	pid_t pid;

	*err = out;
	out[0] = '\0';
	/* stderr apart: it is unbuffered, stdout is not, and the reason must not drown in the report */
	if ((ef = memfd_create("fsck-stderr", MFD_CLOEXEC)) < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		close(ef);
		return -e;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]), close(p[1]), close(ef);
		return -e;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		/* no terminal: fsck.fat must never wait for an answer */
		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(ef, 2);
		execve(FSCK_FAT, argv, envp);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char sink[512];
		char *dst = len + 1 < cap ? out + len : sink;
		size_t room = len + 1 < cap ? cap - 1 - len : sizeof sink;
		ssize_t n = read(p[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			len += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			close(ef);
			return -errno;
		}
	if (len && out[len - 1] != '\n' && len + 1 < cap)
		out[len++] = '\n';
	*err = out + len;
	if (len + 1 < cap) {
		ssize_t n = pread(ef, out + len, cap - 1 - len, 0);
		if (n > 0)
			len += (size_t)n;
	}
	close(ef);
	out[len] = '\0';
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 127 ? -ENOENT : WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Says fsck.fat's report line by line (without its version banner), at most FSCK_LINES lines. */
static void say_report(struct init_ctx *c, int level, const char *out)
{
	int shown = 0, more = 0;

	for (const char *l = out; *l; ) {
		size_t n = strcspn(l, "\n");
		if (n && strncmp(l, "fsck.fat ", 9)) {
			if (shown < FSCK_LINES)
				log_msg(c, level, "fsck.fat: %.*s", (int)n, l), shown++;
			else
				more++;
		}
		l += n + (l[n] == '\n');
	}
	if (more)
		log_msg(c, level, "fsck.fat: ... and %d more lines", more);
}

/* The last non-empty line of out (fsck.fat's reason when it gives up), into why. */
static void last_line(const char *out, char *why, size_t cap)
{
	const char *best = NULL;
	size_t bn = 0;

	for (const char *l = out; *l; ) {
		size_t n = strcspn(l, "\n");
		if (n)
			best = l, bn = n;
		l += n + (l[n] == '\n');
	}
	if (best)
		snprintf(why, cap, "%.*s", (int)bn, best);
	else
		snprintf(why, cap, "fsck.fat said nothing");
}

/* The repair goes to the disk itself, not only to the page cache, before anything else is written. */
static void flush_device(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int fat_check(struct init_ctx *c, const char *dev, const char *what, char *why, size_t cap)
{
	static char out[FSCK_OUT_MAX], again[FSCK_OUT_MAX];
	const char *err, *err2;
	double t0 = uptime_seconds();
	int r;

	if (access(FSCK_FAT, X_OK) < 0) {
		c->fat_unchecked = 1;
		log_msg(c, LOG_WARN, "the FAT of %s (%s) is written unchecked: this initramfs has no fsck.fat "
			"(build.sh builds it from Debian's dosfstools source: see its deps stage)", what, dev);
		return 0;
	}
	/* -a repairs what needs no question: lost clusters freed, a chain cut at a free cluster or
	 * at its file's size, the second FAT from the first, the free count, the dirty bit. */
	r = run_fsck("-a", dev, out, sizeof out, &err);
	if (r == 0) {
		log_msg(c, LOG_INFO, "checked the FAT of %s (%s): clean, in %.2f s", what, dev, uptime_seconds() - t0);
		return 0;
	}
	if (r < 0) {
		snprintf(why, cap, "unable to run %s: %s", FSCK_FAT, strerror(-r));
		return -EUCLEAN;
	}
	/* exit 1: repaired, or gave up. Another run tells which: 0 once nothing is left to change
	 * (a repair can uncover more, e.g. a chain cut short frees clusters: up to FSCK_PASSES). */
	for (int pass = 2; r == 1 && pass <= FSCK_PASSES; pass++) {
		r = run_fsck("-a", dev, again, sizeof again, &err2);
		if (r == 0) {
			flush_device(dev);
			log_msg(c, LOG_NOTICE, "repaired the FAT of %s (%s) before writing to it, in %.2f s (a power cut or "
				"an unclean stop had left it so); fsck.fat said:", what, dev, uptime_seconds() - t0);
			say_report(c, LOG_NOTICE, out);
			return 0;
		}
		if (r == 1 && strcmp(out, again))
			say_report(c, LOG_NOTICE, out), memcpy(out, again, sizeof out), err = out + (err2 - again);
	}
	log_msg(c, LOG_WARN, "the FAT of %s (%s) cannot be repaired here; fsck.fat said:", what, dev);
	say_report(c, LOG_WARN, out);
	if (r > 1)
		snprintf(why, cap, "fsck.fat %s %d", r >= 128 ? "was killed by signal" : "exited with",
			 r >= 128 ? r - 128 : r);
	else if (r < 0)
		snprintf(why, cap, "unable to run %s: %s", FSCK_FAT, strerror(-r));
	else
		last_line(*err ? err : out, why, cap);
	return -EUCLEAN;
}
