/* cmd_save.c: the save, status and diff commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "report.h"

/* Bad input (a damaged or foreign save file, a refused item) is 100, the system 111. */
int exit_code(int err)
{
	switch (err) {
	case -EBADMSG: case -EINVAL: case -EPROTONOSUPPORT: case -ENOTSUP: case -ERANGE: case -E2BIG:
	case -ENAMETOOLONG: case -EBUSY: case -EFBIG:
		return EXIT_USAGE;
	default:
		return EXIT_SYSTEM;
	}
}

void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

int cmd_save(struct opts *o)
{
	struct patterns pat;
	struct lower_id lower;
	struct save_result res;
	struct perr err = { "" };
	uint64_t t0 = mono_ms();
	int r;

	need(o, o->file, "--file");
	need(o, o->upper, "--upper");
	r = patterns_load(o->file, &pat, &err);
	if (r)
		die_msg(exit_code(r), 0, "unable to read the include/exclude list: %s",
			perr_why(&err, r));
	if (o->lower && (r = lower_identify(o->lower, &lower)))
		die_msg(EXIT_SYSTEM, r, "unable to read the lower image %s", o->lower);
	r = persist_save(o->file, o->upper, &pat, o->lower ? &lower : NULL,
			 (o->quiet ? 0 : SAVE_PROGRESS) | (o->skip_busy ? SAVE_SKIP_BUSY : 0), &res);
	patterns_free(&pat);
	if (res.warn.msg[0])
		warn_msg(0, "%s", res.warn.msg);
	if (r < 0)
		die_msg(exit_code(r), 0, "unable to save %s into %s: %s", o->upper, o->file,
			perr_why(&res.err, r));
	if (o->quiet)
		return 0;
	char again[96] = "";
	if (res.rechecked)	/* changed just before the last save: checked, the same, written again */
		snprintf(again, sizeof again, " (and %llu unchanged, written again)", (unsigned long long)res.rechecked);
	if (r == 1)
		printf("persist: nothing changed since generation %llu (%llu entries)\n",
		       (unsigned long long)res.gen, (unsigned long long)res.state_entries);
	else
		printf("persist: saved generation %llu%s: %llu entries written%s, %llu deleted, %llu bytes of data, "
		       "%.2f s (%llu entries in the save)\n",
		       (unsigned long long)res.gen, res.full ? " (full, into the other half)" : "",
		       (unsigned long long)res.entries_written, again, (unsigned long long)res.deletes,
		       (unsigned long long)res.bytes, (double)(mono_ms() - t0) / 1000,
		       (unsigned long long)res.state_entries);
	return 0;
}

static void report_change(const struct opts *o, int *first, char code, const struct pentry *e, const char *note)
{
	int diff = strcmp(o->cmd->name, "diff") == 0;

	if (o->json) {
		printf("%s\n  {\"change\":\"%c\",\"path\":", *first ? "" : ",", code);
		json_str(e->path);
		printf(",\"type\":\"%s\",\"note\":\"%s\"}", ptype_name(e->type), note);
	} else if (diff) {
		printf("%c %-8s %s%s%s\n", code, ptype_name(e->type), e->path, *note ? "  # " : "", note);
	} else {
		printf("%c %s\n", code, e->path);
	}
	*first = 0;
}

/* What a save would write now, from the merged view's angle. */
int cmd_status(struct opts *o)
{
	struct pfile pf;
	struct pstate st;
	struct patterns pat;
	struct scan sc;
	struct pentry **v = NULL;
	struct perr err = { "" };
	int r, n, first = 1, *chg;
	size_t i;

	need(o, o->file, "--file");
	need(o, o->upper, "--upper");
	r = pf_open(&pf, o->file, 0);
	if (r)
		die_msg(exit_code(r), 0, "unable to open %s: %s", o->file, perr_why(&pf.err, r));
	r = pf_load(&pf, UINT64_MAX, PCHECK_META, &st, NULL);
	if (r < 0)
		die_msg(exit_code(r), 0, "unable to read %s: %s", o->file, pf.err.msg);
	r = patterns_load(o->file, &pat, &err);
	if (r)
		die_msg(exit_code(r), 0, "unable to read the include/exclude list: %s",
			perr_why(&err, r));
	r = scan_upper(o->upper, &pat, pf_scan_catalogue(&pf.hdr, &st), &sc);
	if (r)
		die_msg(exit_code(r), 0, "unable to scan %s: %s", o->upper, perr_why(&sc.err, r));
	chg = malloc((sc.n + 1) * sizeof *chg);
	r = chg ? scan_changes(o->upper, &st, &sc, chg) : -ENOMEM;
	if (r)
		die_msg(EXIT_SYSTEM, r, "unable to compare %s with %s", o->upper, o->file);
	if (o->json)
		printf("[");
	for (i = 0; i < sc.n; i++) {
		struct pentry *e = &sc.v[i];
		const struct pentry *was = state_get(&st, e->path);
		int ch = chg[i];
		if (ch == CH_NONE || ch == CH_TOUCH || ch == CH_RECHECK)
			continue;
		if (e->type == PT_WHITEOUT)
			report_change(o, &first, 'D', e, "whiteout: deleted from the lower");
		else if (e->type == PT_DIR && is_opaque(e) && (ch == CH_ADD || !is_opaque(was)))
			report_change(o, &first, 'R', e, "opaque: replaces the lower directory");
		else
			report_change(o, &first, ch == CH_ADD ? 'A' : 'M', e, "");
	}
	n = state_sorted(&st, &v);
	for (int j = 0; j < n; j++)
		if (!scan_has(&sc, v[j]->path))
			report_change(o, &first, 'D', v[j], v[j]->type == PT_WHITEOUT ?
				      "whiteout removed: the lower entry shows again" : "removed from the upper");
	if (o->json)
		printf("%s]\n", first ? "" : "\n");
	free(v);
	free(chg);
	scan_free(&sc);
	patterns_free(&pat);
	state_free(&st);
	pf_close(&pf);
	return 0;
}
