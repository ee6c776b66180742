/* cmd_admin.c: the init, log, rollback and compact commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "number.h"
#include "report.h"

/*
 * init over an existing save file: reset it (after a remaster, so that the save does not hold
 * what the new image holds). Asks on a terminal; without one, only --yes resets.
 */
static int init_reset(struct opts *o)
{
	struct pfile pf;
	struct save_result res;
	char answer[16] = "";
	int r = pf_open(&pf, o->file, 1);

	if (r)
		return -EEXIST;	/* not a save file we can open: never replaced (pf_create refuses) */
	if (o->size || o->compress)
		die_msg(EXIT_USAGE, 0, "unable to reset %s: a reset keeps its size and compression", o->file);
	if (!o->yes) {
		if (isatty(0))
			fprintf(stderr, "persist: empty the save file %s, dropping all it holds? Type yes: ", o->file);
		if (!isatty(0) || !fgets(answer, sizeof answer, stdin) || strcmp(answer, "yes\n"))
			die_msg(EXIT_USAGE, 0, "unable to reset the save file %s: not confirmed (on a terminal, or by "
				"--yes); nothing was touched", o->file);
	}
	r = persist_reset(&pf, NULL, &res);	/* the next save records its lower */
	if (r)
		die_msg(exit_code(r), 0, "unable to reset %s: %s", o->file, perr_why(&res.err, r));
	if (!o->quiet)
		printf("persist: reset %s: generation %llu is empty\n", o->file, (unsigned long long)res.gen);
	pf_close(&pf);
	return 0;
}

int cmd_init(struct opts *o)
{
	uint64_t size = o->size_bytes;
	int r;

	need(o, o->file, "--file");
	if (init_reset(o) == 0)	/* F is a save file: reset it; else create it (an empty or no F) */
		return 0;
	need(o, o->size, "--size");
	if (!o->compress)
		o->comp = PC_ZSTD;
	r = pf_create(o->file, size, (uint32_t)o->comp);
	if (r == -ERANGE)
		die_msg(EXIT_USAGE, 0, "unable to create %s: size must be between %d KiB and 16 TiB",
			o->file, PF_MIN_SIZE / 1024);
	if (r == -EFBIG) {
		struct pf_fslimit lim;
		struct perr e;
		(void)pf_fs_limit_of_dir(o->file, &lim);
		(void)pf_fs_limit_refuse(&e, &lim, "nothing was written");
		die_msg(EXIT_USAGE, 0, "unable to create %s: %s", o->file, e.msg);
	}
	if (r == -ENOSPC)
		die_msg(EXIT_SYSTEM, 0, "unable to create %s: its file system has less than the %llu bytes asked "
			"free (nothing was written); give a smaller --size or free some room", o->file,
			(unsigned long long)size);
	if (r)
		die_msg(r == -EEXIST ? EXIT_USAGE : EXIT_SYSTEM, r, "unable to create %s", o->file);
	if (!o->quiet)
		printf("persist: created %s: %llu bytes, two halves of %llu bytes, compression %s\n", o->file,
		       (unsigned long long)(size & ~4095ull),
		       (unsigned long long)((((size & ~4095ull) - PF_DATA_START) / 2) & ~4095ull),
		       pcomp_name((uint32_t)o->comp));
	return 0;
}

static void fmt_time(uint64_t ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	/* printf, not strftime: the initramfs carries no strftime, nor the time zone code it pulls in
	 * (4 KB of the init); a time gmtime cannot express (a crafted file) is printed as seconds */
	if (!gmtime_r(&t, &tm))
		snprintf(buf, cap, "@%llu", (unsigned long long)(ns / 1000000000));
	else
		snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int cmd_log(struct opts *o)
{
	struct pfile pf;
	struct pstate st;
	struct pgenlist log = { 0 };
	size_t i;
	int r;

	need(o, o->file, "--file");
	r = pf_open(&pf, o->file, 0);
	if (r)
		die_msg(exit_code(r), 0, "unable to open %s: %s", o->file, perr_why(&pf.err, r));
	r = pf_load(&pf, UINT64_MAX, PCHECK_META, &st, &log);
	if (r < 0)
		die_msg(exit_code(r), 0, "unable to read %s: %s", o->file, pf.err.msg);
	if (r == 1)
		warn_msg(0, "%s", pf.err.msg);
	if (o->json)
		printf("[");
	else
		printf("%-6s %-20s %-8s %8s %12s %12s\n", "gen", "time (UTC)", "kind", "entries", "data bytes",
		       "journal");
	for (i = 0; i < log.n; i++) {
		const struct pgen *g = &log.v[i];
		char when[80];
		fmt_time(g->time_ns, when, sizeof when);
		if (o->json)
			printf("%s\n  {\"gen\":%llu,\"time\":\"%s\",\"kind\":\"%s\",\"entries\":%u,\"bytes\":%llu,"
			       "\"journal_bytes\":%llu,\"rollback_to\":%llu,\"failed_boots\":%u,\"current\":%s}",
			       i ? "," : "", (unsigned long long)g->gen, when, txn_kind_name(g->kind), g->entries,
			       (unsigned long long)g->bytes, (unsigned long long)(g->end - g->start),
			       (unsigned long long)g->target, g->kind == TXN_ROLLBACK ? g->why : 0,
			       g->gen == pf.hdr.gen ? "true" : "false");
		else {
			printf("%-6llu %-20s %-8s %8u %12llu %12llu%s", (unsigned long long)g->gen, when,
			       txn_kind_name(g->kind), g->entries, (unsigned long long)g->bytes,
			       (unsigned long long)(g->end - g->start),
			       g->gen == pf.hdr.gen ? "  (current)" : "");
			if (g->kind == TXN_ROLLBACK)
				printf("  to %llu", (unsigned long long)g->target);
			if (g->kind == TXN_ROLLBACK && g->why)
				printf(": by the init, the newer generations did not reach the system's goal in %u boots",
				       g->why);
			printf("\n");
		}
	}
	if (o->json)
		printf("%s]\n", log.n ? "\n" : "");
	genlist_free(&log);
	state_free(&st);
	pf_close(&pf);
	return 0;
}

static int open_rw(struct opts *o, struct pfile *pf)
{
	int r;

	need(o, o->file, "--file");
	r = pf_open(pf, o->file, 1);
	if (r)
		die_msg(exit_code(r), 0, "unable to open %s: %s", o->file, perr_why(&pf->err, r));
	return 0;
}

int cmd_rollback(struct opts *o)
{
	struct pfile pf;
	struct save_result res;
	uint64_t gen;
	int r;

	r = parse_u64(o->arg, &gen);
	if (r) {
		usage_line(o->cmd, stderr);
		die_msg(EXIT_USAGE, 0, "unable to use GEN %s: %s", o->arg, number_why(r));
	}
	open_rw(o, &pf);
	if (o->failed_boots && (o->nfailed == 0 || o->nfailed > 255)) {
		usage_line(o->cmd, stderr);
		die_msg(EXIT_USAGE, 0, "unable to use --failed-boots %s: give the boots, 1 to 255", o->failed_boots);
	}
	r = persist_rollback(&pf, gen, (uint32_t)o->nfailed, &res);
	if (r)
		die_msg(r == -ENOENT ? EXIT_USAGE : exit_code(r), 0, "unable to roll %s back to %llu: %s",
			o->file, (unsigned long long)gen, perr_why(&res.err, r));
	if (!o->quiet)
		printf("persist: generation %llu is generation %llu's state (%llu entries); the next restore gets it\n",
		       (unsigned long long)res.gen, (unsigned long long)gen, (unsigned long long)res.state_entries);
	pf_close(&pf);
	return 0;
}

int cmd_compact(struct opts *o)
{
	struct pfile pf;
	struct save_result res;
	int r;

	open_rw(o, &pf);
	r = persist_compact(&pf, &res);
	if (r)
		die_msg(exit_code(r), 0, "unable to compact %s: %s", o->file,
			perr_why(&res.err, r));	/* the old one stands */
	if (!o->quiet)
		printf("persist: compacted into generation %llu: %llu entries, %llu bytes of data, %llu journal bytes\n",
		       (unsigned long long)res.gen, (unsigned long long)res.state_entries,
		       (unsigned long long)res.bytes, (unsigned long long)pf.hdr.end);
	pf_close(&pf);
	return 0;
}

int cmd_grow(struct opts *o)
{
	struct pfile pf;
	struct save_result res;
	int r;

	need(o, o->size, "--size");
	open_rw(o, &pf);
	r = persist_grow(&pf, o->file, o->size_bytes, &res);
	if (r)
		die_msg(exit_code(r), 0, "unable to grow %s: %s", o->file, perr_why(&res.err, r));
	if (!o->quiet)
		printf("persist: %s is now %llu bytes, two halves of %llu bytes (generation %llu)\n", o->file,
		       (unsigned long long)pf.hdr.file_size, (unsigned long long)pf.hdr.area_size,
		       (unsigned long long)pf.hdr.gen);
	pf_close(&pf);
	return 0;
}
