/* pack.c: modules out of the index's pack: one xz stream decoded by a child process, only as far as asked. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "crc32c.h"
#include "io.h"
#include "kmod-int.h"

extern char **environ;

#define PACK_BUF (128u << 10)   /* bytes moved from the decoder to a module file per read */
#define PACK_AHEAD (1 << 20)    /* the pipe: what the decoder may write before the loader reads (Linux's pipe-max-size) */

/* The child of a function decoder: the pack on in, the pipe on out, nothing else of ours. It
 * decodes ahead of the loader up to PACK_AHEAD bytes, at the lowest priority: on one CPU it takes
 * only the time the init leaves idle (waiting for a USB disk), on more it runs beside the init. */
static void pack_child(modload_decode_fn decode, int in, int rd, int out)
{
	close(rd);   /* else a reader that stops would leave it blocked, not given SIGPIPE */
	(void)fcntl(out, F_SETPIPE_SZ, PACK_AHEAD);   /* a smaller pipe only decodes less ahead */
	(void)setpriority(PRIO_PROCESS, 0, 19);
	_exit(decode(in, out) == 0 ? 0 : 1);
}

/* Runs the decoder with the pack on its stdin (a function: on in) and a pipe on its stdout; the
 * pipe is ours. */
static int pack_start(struct modloader *ml)
{
	struct modload_pack *p = &ml->pack;
	posix_spawn_file_actions_t fa;
	int in, out[2], err = 0;
	pid_t pid;

	if (!ml->decode && (!ml->unxz || !ml->unxz[0]))
		return -ENOEXEC;
	in = openat(ml->dirfd, p->file, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) != 0) {
		err = -errno;
		close(in);
		return err;
	}
	if (ml->decode) {
		pid = fork();
		if (pid == 0)
			pack_child(ml->decode, in, out[0], out[1]);
		if (pid < 0)
			err = -errno;
	} else {
		/* the child's stdin and stdout; dup2 clears close-on-exec on the copies only */
		err = -posix_spawn_file_actions_init(&fa);
		if (!err)
			err = -posix_spawn_file_actions_adddup2(&fa, in, 0);
		if (!err)
			err = -posix_spawn_file_actions_adddup2(&fa, out[1], 1);
		if (!err)
			err = -posix_spawnp(&pid, ml->unxz[0], &fa, NULL, (char *const *)ml->unxz, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	close(in);
	close(out[1]);
	if (err) {
		close(out[0]);
		return err;
	}
	p->fd = out[0];
	p->pid = pid;
	return 0;
}

/* Ends the decoder: asked to stop (it may be blocked writing) or done; 0 when it exited 0. */
static int pack_reap(struct modload_pack *p, int stop)
{
	int status = 0;

	if (p->fd < 0)
		return 0;
	if (stop)
		(void)kill(p->pid, SIGTERM);
	close(p->fd);
	p->fd = -1;
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBADMSG;
}

/* Moves the next module's bytes out of the stream into NAME.ko once their CRC32C is right (a
 * file already there wins, but the bytes are checked all the same). */
static int pack_next(struct modloader *ml, char *buf)
{
	struct modload_pack *p = &ml->pack;
	struct modload_mod *m = &ml->mods[p->order[p->next]];
	char file[MODIDX_NAME_MAX + sizeof ".ko"], tmp[sizeof file + sizeof ".part"];
	uint64_t left = m->pack_bytes;
	uint32_t crc = 0;
	int out, err = 0;

	snprintf(file, sizeof file, "%s.ko", m->name);
	snprintf(tmp, sizeof tmp, "%s.part", file);
	if (faccessat(ml->dirfd, file, F_OK, 0) == 0) {
		out = -1;
	} else {
		/* written under another name first: a half-written module is never loaded */
		out = openat(ml->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
		if (out < 0)
			return -errno;
	}
	while (left > 0 && !err) {
		size_t want = left < PACK_BUF ? left : PACK_BUF;
		size_t got = 0;

		err = read_all(p->fd, buf, want, &got);
		if (!err && got < want)
			err = -EBADMSG;   /* the stream ends before the index says it does */
		crc = crc32c(crc, buf, got);
		if (!err && out >= 0)
			err = write_all(out, buf, got);
		left -= got;
		ml->st.pack_bytes += got;
	}
	if (!err && crc != m->pack_crc)
		err = -EBADMSG;   /* damaged: the stream's own check would say so only at its end */
	if (out >= 0) {
		if (close(out) != 0 && !err)
			err = -errno;
		if (!err && renameat(ml->dirfd, tmp, ml->dirfd, file) != 0)
			err = -errno;
		if (err)
			(void)unlinkat(ml->dirfd, tmp, 0);
	}
	if (!err)
		p->next++;
	return err;
}

/* After the last module: the stream must end there, and the decoder must say it was whole. */
static int pack_finish(struct modload_pack *p, char *buf)
{
	size_t got = 0;
	int err = read_all(p->fd, buf, 1, &got);

	if (!err && got)
		err = -EBADMSG;   /* more bytes than the index says */
	return pack_reap(p, 0) ?: err;
}

int modload_pack_fetch(struct modloader *ml, int i)
{
	struct modload_pack *p = &ml->pack;
	struct modload_mod *m = &ml->mods[i];
	uint64_t t0, dt, b0 = ml->st.pack_bytes;
	char *buf;
	int err = 0;

	if (!p->file || m->pack_at < 0)
		return -ENOENT;
	if (m->pack_at < p->next)
		return -ENOENT;   /* it came out of the pack already and its file is gone */
	if (p->err)
		return p->err;
	buf = malloc(PACK_BUF);
	if (!buf)
		return -ENOMEM;
	t0 = modload_now_ns();
	if (p->fd < 0 && p->next == 0)
		err = pack_start(ml);
	else if (p->fd < 0)
		err = -ECANCELED;   /* stopped by modload_pack_stop */
	while (!err && p->next <= m->pack_at)
		err = pack_next(ml, buf);
	if (!err && p->next == p->n)
		err = pack_finish(p, buf);
	dt = modload_now_ns() - t0;
	ml->st.pack_ns += dt;
	free(buf);
	if (!err)   /* the bench's timeline draws these (bench/boot.sh) */
		modload_log(ml, MODLOAD_LOG_INFO, "decoded module %s from the pack (%llu.%03llu ms, %llu bytes)",
			    m->name, (unsigned long long)(dt / 1000000), (unsigned long long)(dt / 1000 % 1000),
			    (unsigned long long)(ml->st.pack_bytes - b0));
	if (err) {
		(void)pack_reap(p, 1);
		p->err = err;
		modload_log(ml, MODLOAD_LOG_ERR, "unable to decode module %s from the pack %s: %s",
			    m->name, p->file, err == -EBADMSG ? "the pack is damaged or does not match "
			    "the index (the decoder said why, above)" : strerror(-err));
	}
	return err;
}

int modload_unpack_all(struct modloader *ml)
{
	struct modload_pack *p = &ml->pack;

	return p->file && p->next < p->n ? modload_pack_fetch(ml, p->order[p->n - 1]) : 0;
}

void modload_pack_stop(struct modloader *ml)
{
	if (ml && ml->pack.fd >= 0)
		(void)pack_reap(&ml->pack, 1);
}
