/* cmd_restore.c: the restore and verify commands. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "cli.h"
#include "report.h"

static int dir_is_empty(int fd)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* Restore checks every record's CRC before it creates anything, and makes everything in a staging
 * directory that becomes the target's only when all of it was made and checked: all or nothing. */
int cmd_restore(struct opts *o)
{
	struct pfile pf;
	struct pstate st;
	struct progress pr;
	struct perr err = { "" };
	struct rlimit rl;
	uint64_t t0 = mono_ms();
	int r, fd;

	need(o, o->file, "--file");
	need(o, o->into, "--into");
	open_generation(o, &pf, &st, "restore", "restoring", "restored");
	fd = open(o->into, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_msg(EXIT_SYSTEM, -errno, "unable to open %s", o->into);
	r = dir_is_empty(fd);
	if (r < 0)
		die_msg(EXIT_SYSTEM, r, "unable to read %s", o->into);
	if (!r)
		die_msg(EXIT_USAGE, 0, "unable to restore into %s: it is not empty", o->into);
	/* restore keeps a directory fd per directory restored: as many as the hard limit allows */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	progress_init(&pr, !o->quiet, "restoring");
	r = persist_restore(&pf, &st, fd, 0, &pr, &err);
	progress_done(&pr);
	if (r)
		die_msg(exit_code(r), 0, "unable to restore into %s: %s", o->into, perr_why(&err, r));
	if (!o->quiet)
		printf("persist: restored generation %llu: %zu entries, %llu bytes of data, %.2f s\n",
		       (unsigned long long)(o->at ? o->at_gen : pf.hdr.gen), st.count,
		       (unsigned long long)st.bytes, (double)(mono_ms() - t0) / 1000);
	close(fd);
	state_free(&st);
	pf_close(&pf);
	return 0;
}

int cmd_verify(struct opts *o)
{
	struct pfile pf;
	struct pstate st;
	struct pgenlist log = { 0 };
	int r;

	need(o, o->file, "--file");
	r = pf_open(&pf, o->file, 0);
	if (r)
		die_msg(exit_code(r), 0, "unable to verify %s: %s", o->file, perr_why(&pf.err, r));
	r = pf_load(&pf, UINT64_MAX, PCHECK_ALL, &st, &log);
	if (r < 0)
		die_msg(exit_code(r), 0, "unable to verify %s: %s", o->file, pf.err.msg);
	if (r == 1)
		warn_msg(0, "%s", pf.err.msg);
	printf("persist: %s is %s: generation %llu, %zu generations in the active half, %zu entries, "
	       "%llu bytes of data, %llu of %llu journal bytes used, compression %s (%llu of %llu data "
	       "records compressed), version %u, %llu data records in PACKs\n",
	       o->file, r == 1 ? "usable (damaged newest generation)" : "good",
	       (unsigned long long)pf.hdr.gen, log.n, st.count, (unsigned long long)st.bytes,
	       (unsigned long long)pf.hdr.end, (unsigned long long)pf.hdr.area_size, pcomp_name(pf.hdr.comp),
	       (unsigned long long)(pf.nzdata + pf.npacked), (unsigned long long)pf.ndata, pf.hdr.version,
	       (unsigned long long)pf.npacked);
	genlist_free(&log);
	state_free(&st);
	pf_close(&pf);
	return r == 1 ? EXIT_USAGE : 0;
}
