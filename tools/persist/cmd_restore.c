/* cmd_restore.c: the restore and verify commands, and the start restore shares with export. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "cli.h"
#include "io.h"
#include "report.h"

/*
 * --lower against the lower the generation restored or exported records (its BEGIN, in the log):
 * refused unless --any-lower. Without --at, a newest generation saved over another image (the
 * other slot's, after an update and a rebase) gives way to the newest one saved over this one:
 * its number is returned (0: the one loaded stands).
 */
static uint64_t check_lower(const struct opts *o, const struct pfile *pf, const struct pgenlist *log,
			    const char *verb, const char *doing)
{
	uint64_t gen = o->at ? o->at_gen : pf->hdr.gen, size = pf->hdr.lower_size;
	uint32_t crc = pf->hdr.lower_crc;
	struct lower_id lower;
	size_t i;
	int r;

	for (i = log->n; i-- > 0;)
		if (log->v[i].gen == gen) {
			size = log->v[i].lower_size;
			crc = log->v[i].lower_crc;
			break;
		}
	if (!o->lower) {
		if (size && !o->quiet)
			warn_msg(0, "no --lower given: not checking the lower image");
		return 0;
	}
	r = lower_identify(o->lower, &lower);
	if (r)
		die_msg(EXIT_SYSTEM, r, "unable to read the lower image %s", o->lower);
	if (!size)
		warn_msg(0, "%s records no lower image: cannot check it matches %s", o->file, o->lower);
	else if (lower.size != size || lower.crc != crc) {
		for (i = log->n; !o->at && !o->any_lower && i-- > 0;)
			if (log->v[i].lower_size == lower.size && log->v[i].lower_crc == lower.crc) {
				warn_msg(0, "generation %llu of %s is over another image than %s: %s generation %llu, "
					 "the newest over it", (unsigned long long)gen, o->file, o->lower, doing,
					 (unsigned long long)log->v[i].gen);
				return log->v[i].gen;
			}
		if (!o->any_lower)
			die_msg(EXIT_USAGE, 0, "unable to %s %s: it was saved over a different lower image "
				"than %s; use --any-lower to %s anyway", verb, o->file, o->lower, verb);
		warn_msg(0, "%s was saved over a different lower image than %s; %s anyway",
			 o->file, o->lower, doing);
	}
	return 0;
}

/*
 * The save file opened read-only and the generation --at names (default: the newest, or the
 * newest saved over --lower) replayed with every record checked, then the lower checked (restore
 * and export): exits on failure.
 */
void open_generation(struct opts *o, struct pfile *pf, struct pstate *st, const char *verb,
		     const char *doing, const char *done)
{
	struct pgenlist log = { 0 };
	uint64_t other;
	int r = pf_open(pf, o->file, 0);

	if (r)
		die_msg(exit_code(r), 0, "unable to open %s: %s", o->file, perr_why(&pf->err, r));
	/* read front to back twice (the check, then the data): a larger readahead */
	(void)posix_fadvise(pf->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = pf_load(pf, o->at ? o->at_gen : UINT64_MAX, PCHECK_CRC, st, &log);
	if (r >= 0 && (other = check_lower(o, pf, &log, verb, doing))) {
		state_free(st);
		o->at = "";
		o->at_gen = other;
		r = pf_load(pf, other, PCHECK_CRC, st, NULL);
	}
	genlist_free(&log);
	if (r < 0)
		die_msg(r == -ENOENT ? EXIT_USAGE : exit_code(r), 0, "unable to read %s: %s; nothing %s",
			o->file, pf->err.msg, done);
	if (r == 1)
		warn_msg(0, "%s", pf->err.msg);
}

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
	uint64_t gen = o->at ? o->at_gen : pf.hdr.gen;
	if (!o->quiet)
		printf("persist: restored generation %llu: %zu entries, %llu bytes of data, %.2f s\n",
		       (unsigned long long)gen, st.count, (unsigned long long)st.bytes, (double)(mono_ms() - t0) / 1000);
	/* for the init's boot counting (docs/updates.md) and scripts; the restore stands either way */
	if (o->gen_file) {
		char num[24];
		snprintf(num, sizeof num, "%llu\n", (unsigned long long)gen);
		if ((r = write_text(o->gen_file, num)) < 0)
			warn_msg(-r, "restored, but unable to write the generation to %s", o->gen_file);
	}
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
