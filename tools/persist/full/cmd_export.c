/* cmd_export.c: the export command (a generation as an OCI layer tar, plain, gzip or zstd, or a squashfs
 * layer, written atomically), in out/bin/persist only (tools/persist/full/). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>
#include "full.h"
#include "export.h"
#include "io.h"
#include "report.h"

#define OBUF (1u << 16)

/* Where the tar goes: fd (the temporary, stdout, or gzip's pipe), through zstd when asked. */
struct osink {
	int fd;
	ZSTD_CCtx *z;
	unsigned char *buf, *zbuf;
	size_t n, zcap;
};

static int sink_flush(struct osink *s, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { s->buf, s->n, 0 };
	int r;

	if (!s->z) {
		r = write_all(s->fd, s->buf, s->n);
		s->n = 0;
		return r;
	}
	for (;;) {
		ZSTD_outBuffer out = { s->zbuf, s->zcap, 0 };
		size_t left = ZSTD_compressStream2(s->z, &out, &in, end);
		if (ZSTD_isError(left))
			return -EIO;
		if ((r = write_all(s->fd, s->zbuf, out.pos)))
			return r;
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			break;
	}
	s->n = 0;
	return 0;
}

static int sink_put(void *ctx, const void *p, size_t n)
{
	struct osink *s = ctx;
	const unsigned char *b = p;
	int r;

	while (n) {
		size_t k = OBUF - s->n < n ? OBUF - s->n : n;
		memcpy(s->buf + s->n, b, k);
		s->n += k;
		b += k;
		n -= k;
		if (s->n == OBUF && (r = sink_flush(s, ZSTD_e_continue)))
			return r;
	}
	return 0;
}

/* A program (gzip, sqfstar, mksquashfs) reading a pipe (*wfd, when wfd) with stdout on fd. */
pid_t prog_start(char *const argv[], int fd, int *wfd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (dup2(p[0], 0) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	if (pid < 0 || !wfd)
		close(p[1]);
	if (pid < 0)
		return -1;
	if (wfd)
		*wfd = p[1];
	return pid;
}

/* Waits for it: 0, or -EIO with err saying why (a program's own message is on stderr already). */
int prog_wait(pid_t pid, const char *name, struct perr *err)
{
	int status;

	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return perr_set(err, -EIO, "there is no %s program on PATH: install it (Debian: %s)", name,
				strcmp(name, "gzip") ? "squashfs-tools" : "gzip");
	return perr_set(err, -EIO, "%s %s %d (its message is above)", name,
			WIFEXITED(status) ? "exited with" : "was killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/*
 * sqfstar reading the tar from a pipe into path. It ignores a tar's root entry: the root's mode
 * comes from the save's "." by -root-mode; its -root-uid, -root-gid and -root-time do nothing in
 * Debian's 4.5.1 (the root is 0:0, its mtime the export's time: docs/persist.md says so).
 */
static pid_t sqfstar_start(const struct pstate *st, const char *path, int *wfd)
{
	const struct pentry *root = state_get(st, ".");	/* a save always has it (scan.c) */
	char mode[8];

	snprintf(mode, sizeof mode, "%o", root ? root->mode & 07777 : 0755);
	return prog_start((char *[]){ "sqfstar", "-quiet", "-no-progress", "-force", "-comp", "zstd", "-root-mode",
				      mode, (char *)path, NULL }, 2, wfd);
}

int cmd_export(struct opts *o)
{
	struct pfile pf;
	struct pstate st;
	struct progress pr;
	struct export x = { .err = { "" } };
	struct osink s = { .fd = -1 };
	const char *out = o->squashfs ? o->squashfs : o->oci_layer;
	const char *comp = o->squashfs ? "squashfs" : o->zstd ? "zstd" : o->gzip ? "gzip" : "none";
	char tmp[4096 + 8], layer[4096 + 16];
	struct stat sf, so;
	pid_t kid = -1;
	int to_stdout, ofd = -1, r;
	FILE *say;

	need(o, o->file, "--file");
	if (!o->oci_layer == !o->squashfs || ((o->gzip || o->zstd) && o->squashfs) || (o->gzip && o->zstd) ||
	    (o->merge && !o->squashfs) || (o->squashfs && !strcmp(o->squashfs, "-"))) {
		usage_line(o->cmd, stderr);
		die_msg(EXIT_USAGE, 0, "unable to export: give --oci-layer (maybe --gzip or --zstd) or --squashfs "
			"FILE (maybe --merge)");
	}
	to_stdout = !strcmp(out, "-");
	say = to_stdout ? stderr : stdout;
	if (o->merge && !o->lower)
		o->lower = o->merge;	/* the changes go over it: the save must have been made over it */
	open_generation(o, &pf, &st, "export", "exporting", "exported");
	if (to_stdout) {
		if (isatty(1))
			die_msg(EXIT_USAGE, 0, "unable to export to standard output: it is a terminal; redirect "
				"it (> layer.tar) or give a file name");
		ofd = 1;
	} else {
		/* never over the save file (rename would replace it) */
		if (fstat(pf.fd, &sf) == 0 && stat(out, &so) == 0 && sf.st_dev == so.st_dev && sf.st_ino == so.st_ino)
			die_msg(EXIT_USAGE, 0, "unable to export to %s: it is the save file; give another name", out);
		if (strlen(out) > 4096)
			die_msg(EXIT_USAGE, 0, "unable to export to %s: the name is too long", out);
		snprintf(tmp, sizeof tmp, "%s.tmp", out);
		snprintf(layer, sizeof layer, "%s.layer.tmp", out);
		ofd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (ofd < 0)
			die_msg(EXIT_SYSTEM, -errno, "unable to create %s", tmp);
	}
	(void)signal(SIGPIPE, SIG_IGN);	/* a reader (or gzip) that goes away is an error to report */
	s.fd = ofd;
	s.buf = malloc(OBUF);
	r = s.buf ? 0 : -ENOMEM;
	if (!r && o->zstd) {
		/* level 1: the one the initramfs's libzstd compresses at (zdata.c) */
		s.zcap = ZSTD_CStreamOutSize();
		s.zbuf = malloc(s.zcap);
		s.z = ZSTD_createCCtx();
		if (!s.zbuf || !s.z || ZSTD_isError(ZSTD_CCtx_setParameter(s.z, ZSTD_c_compressionLevel, PF_ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(s.z, ZSTD_c_checksumFlag, 1)))
			r = -ENOMEM;
	}
	if (!r && o->gzip && (kid = prog_start((char *[]){ "gzip", "-n", "-c", NULL }, ofd, &s.fd)) < 0)
		r = -errno;
	/* a squashfs: the tar in overlay form into sqfstar, which writes OUT.tmp (a merge's layer first) */
	if (!r && o->squashfs && (kid = sqfstar_start(&st, o->merge ? layer : tmp, &s.fd)) < 0)
		r = -errno;
	x.t.out = sink_put;
	x.t.ctx = &s;
	x.overlay = o->squashfs != NULL;
	progress_init(&pr, !o->quiet && !to_stdout, "exporting");
	x.pr = &pr;
	if (!r)
		r = export_oci(&x, &pf, &st);
	if (!r)
		r = sink_flush(&s, ZSTD_e_end);
	progress_done(&pr);
	if (kid > 0) {
		/* our failure is the reason, and the program is stopped; unless our write failed because
		 * the program had gone (EPIPE): then its failure is */
		if (r && r != -EPIPE)
			(void)kill(kid, SIGKILL);
		close(s.fd);
		if (!r || r == -EPIPE)
			r = prog_wait(kid, o->gzip ? "gzip" : "sqfstar", &x.err);
		else
			(void)waitpid(kid, NULL, 0);
	}
	if (!r && o->merge)
		r = merge_image(layer, o->merge, tmp, !o->quiet && isatty(2), &x.err);
	if (o->merge)
		(void)unlink(layer);
	if (o->squashfs) {	/* sqfstar (mksquashfs) wrote it by name: the file to sync is the one there now */
		close(ofd);
		ofd = r ? -1 : open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (!r && ofd < 0)
			r = -errno;
	}
	if (!r && !to_stdout && fsync(ofd) < 0)
		r = -errno;
	if (!to_stdout && ofd >= 0)
		close(ofd);
	if (!r && !to_stdout && rename(tmp, out) < 0)
		r = -errno;
	if (r) {
		if (!to_stdout)
			(void)unlink(tmp);
		die_msg(exit_code(r), 0, "unable to export %s%s%s: %s; %s", o->file, to_stdout ? "" : " to ",
			to_stdout ? "" : out, perr_why(&x.err, r),
			to_stdout ? "what was written to standard output is not a whole layer"
				  : "nothing was written under that name");
	}
	if (!to_stdout)
		(void)sync_dir_of(out);	/* the file was synced before the rename */
	if (x.sockets)
		warn_msg(0, "%llu socket%s left out (a tar cannot hold one; a whiteout hides what the lower has "
			 "there), the first %s", (unsigned long long)x.sockets, x.sockets > 1 ? "s" : "", x.socket1);
	if (!o->quiet)
		fprintf(say, "persist: exported generation %llu of %s %s %s (%s): %llu entries, "
			"%llu whiteouts, %llu opaque directories, %llu hardlinks, %llu bytes of data\n",
			(unsigned long long)(o->at ? o->at_gen : pf.hdr.gen), o->file,
			o->merge ? "merged into the root image" : o->squashfs ? "as the layer" : "as an OCI layer",
			to_stdout ? "on standard output" : out, o->merge ? o->merge : comp,
			(unsigned long long)x.entries, (unsigned long long)x.whiteouts,
			(unsigned long long)x.opaque, (unsigned long long)x.links, (unsigned long long)x.bytes);
	ZSTD_freeCCtx(s.z);
	free(s.buf);
	free(s.zbuf);
	export_free(&x);
	state_free(&st);
	pf_close(&pf);
	return 0;
}
