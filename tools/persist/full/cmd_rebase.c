/* cmd_rebase.c: the rebase and conflicts commands, which only out/bin/persist has (not the initramfs's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "full.h"
#include "rebase.h"
#include "report.h"


static void print_item(const struct opts *o, int *first, const struct rb_item *it)
{
	if (o->json) {
		printf("%s\n  {\"path\":", *first ? "" : ",");
		json_str(it->e->path);
		printf(",\"type\":\"%s\",\"action\":\"%s\",\"note\":", ptype_name(it->e->type), rb_act_name(it->act));
		json_str(it->why);
		printf("}");
	} else {
		printf("%-16s %s  # %s\n", rb_act_name(it->act), it->e->path, it->why);
	}
	*first = 0;
}

static int same_id(const struct phdr *h, const struct lower_id *id)
{
	return h->lower_size == id->size && h->lower_crc == id->crc;
}

int cmd_rebase(struct opts *o)
{
	struct rebase rb = { .err = { "" } };
	struct image old = { .file = o->old_img }, new = { .file = o->new_img };
	int r, code = 0, first = 1;
	size_t i;
	char msg[700] = "";

	need(o, o->file, "--file");
	need(o, o->old_img, "--old");
	need(o, o->new_img, "--new");
	r = pf_open(&rb.pf, o->file, !o->dry_run);
	if (r)
		die_msg(exit_code(r), 0, "unable to open %s: %s; nothing was changed", o->file, perr_why(&rb.pf.err, r));
	r = pf_load(&rb.pf, UINT64_MAX, PCHECK_CRC, &rb.st, NULL);
	if (r)
		die_msg(r == 1 ? EXIT_USAGE : exit_code(r), 0, "unable to rebase %s: %s%s; nothing was changed", o->file,
			rb.pf.err.msg, r == 1 ? " (its newest generation is damaged: persist verify says more)" : "");
	if ((r = image_mount(&old, &rb.err)) || (r = image_mount(&new, &rb.err))) {
		snprintf(msg, sizeof msg, "%s", rb.err.msg);
		code = r == -EINVAL ? EXIT_USAGE : EXIT_SYSTEM;
		goto out;
	}
	if (rb.pf.hdr.lower_size && same_id(&rb.pf.hdr, &new.id)) {
		if (!o->quiet && !o->json)
			printf("persist: generation %llu of %s is over %s already: nothing to rebase\n",
			       (unsigned long long)rb.pf.hdr.gen, o->file, o->new_img);
		if (o->json)
			printf("[]\n");
		goto out;
	}
	if (rb.pf.hdr.lower_size && !same_id(&rb.pf.hdr, &old.id)) {
		snprintf(msg, sizeof msg, "generation %llu of %s was saved over another image than %s: give the image "
			 "it was saved over as --old (the slot it booted from)", (unsigned long long)rb.pf.hdr.gen,
			 o->file, o->old_img);
		code = EXIT_USAGE;
		goto out;
	}
	if (!rb.pf.hdr.lower_size)
		warn_msg(0, "%s records no lower image: taking %s as the one it was saved over", o->file, o->old_img);
	rb.old_dir = old.dir;
	rb.new_dir = new.dir;
	if ((r = rebase_plan(&rb))) {
		snprintf(msg, sizeof msg, "%s", perr_why(&rb.err, r));
		code = exit_code(r);
		goto out;
	}
	if (!o->dry_run && (r = rebase_write(&rb, &new.id))) {
		snprintf(msg, sizeof msg, "%s", perr_why(&rb.err, r));
		code = exit_code(r);
		goto out;
	}
	if (o->json)
		printf("[");
	for (i = 0; i < rb.n && !o->quiet; i++)
		if (o->json || !(rb.items[i].act == RB_KEEP && rb.items[i].e->type == PT_DIR && !is_opaque(rb.items[i].e)))
			print_item(o, &first, &rb.items[i]);
	if (o->json)
		printf("%s]\n", first ? "" : "\n");
	else if (!o->quiet)
		printf("persist: %s generation %llu onto %s%s%llu: %zu copies of the old image's files dropped, %zu "
		       "files given the new image's content under your metadata, %zu whiteouts and %zu opaque "
		       "directories dropped, %zu conflicts (yours kept%s), %zu kept\n",
		       o->dry_run ? "would rebase" : "rebased", (unsigned long long)rb.pf.hdr.gen - !o->dry_run,
		       o->new_img, o->dry_run ? " (dry run: nothing written), as generation " : " as generation ",
		       (unsigned long long)(o->dry_run ? rb.pf.hdr.gen + 1 : rb.gen), rb.count[RB_DROP],
		       rb.count[RB_NEWDATA], rb.count[RB_DROP_WHITEOUT], rb.count[RB_DROP_OPAQUE],
		       rb.count[RB_CONFLICT], rb.count[RB_CONFLICT] ? "; persist conflicts lists them" : "",
		       rb.count[RB_KEEP]);
out:
	image_unmount(&new);
	image_unmount(&old);
	rebase_free(&rb);
	state_free(&rb.st);
	pf_close(&rb.pf);
	if (code)
		die_msg(code, 0, "unable to rebase %s onto %s: %s; nothing was changed", o->file, o->new_img, msg);
	return 0;
}

struct buf_ctx {
	char *p;
	size_t cap;
};

static int buf_fn(void *ctx, uint64_t off, const void *p, size_t n)
{
	struct buf_ctx *b = ctx;

	if (off > b->cap || n > b->cap - off)
		return -EBADMSG;
	memcpy(b->p + off, p, n);
	return 0;
}

/* GEN's state (or the newest that has a conflicts list, below GEN when at is 0) into st. */
static const struct pentry *find_list(const struct opts *o, struct pfile *pf, struct pstate *st, uint64_t *gen)
{
	struct pgenlist log = { 0 };
	const struct pentry *e;
	int r = pf_load(pf, o->at ? o->at_gen : UINT64_MAX, PCHECK_CRC, st, &log);
	size_t i;

	if (r < 0)
		die_msg(r == -ENOENT ? EXIT_USAGE : exit_code(r), 0, "unable to read %s: %s", o->file, pf->err.msg);
	*gen = o->at ? o->at_gen : pf->hdr.gen;
	e = state_get(st, PF_CONFLICTS);
	/* a save after the rebase drops the list from its state (it is not in the upper): look back */
	for (i = log.n; !e && !o->at && i-- > 0;) {
		state_free(st);
		r = pf_load(pf, log.v[i].gen, PCHECK_CRC, st, NULL);
		if (r < 0)
			die_msg(exit_code(r), 0, "unable to read %s: %s", o->file, pf->err.msg);
		*gen = log.v[i].gen;
		e = state_get(st, PF_CONFLICTS);
	}
	genlist_free(&log);
	return e;
}

int cmd_conflicts(struct opts *o)
{
	struct pfile pf;
	struct pstate st;
	const struct pentry *e;
	struct buf_ctx b = { 0 };
	uint64_t gen;
	int r, first = 1;
	size_t at;

	need(o, o->file, "--file");
	r = pf_open(&pf, o->file, 0);
	if (r)
		die_msg(exit_code(r), 0, "unable to open %s: %s", o->file, perr_why(&pf.err, r));
	e = find_list(o, &pf, &st, &gen);
	if (e && e->size > PF_ENTRIES_MAX * 2ull * (PF_PATH_MAX + 1))
		die_msg(EXIT_USAGE, 0, "unable to read the conflicts of %s: its list is %llu bytes", o->file,
			(unsigned long long)e->size);
	if (e && !(b.p = calloc(1, (size_t)e->size + 1)))
		die_msg(EXIT_SYSTEM, -ENOMEM, "unable to read the conflicts of %s", o->file);
	b.cap = e ? (size_t)e->size : 0;
	if (e && (r = pf_entry_data(&pf, e, buf_fn, &b)))
		die_msg(exit_code(r), 0, "unable to read the conflicts of %s: %s", o->file, perr_why(&pf.err, r));
	if (o->json)
		printf("[");
	else if (!e)
		printf("persist: no generation of %s%s has a rebase's conflicts\n", o->file, o->at ? " at --at" : "");
	for (at = 0; at < b.cap;) {
		const char *path = b.p + at, *why = path + strnlen(path, b.cap - at) + 1;
		if (why >= b.p + b.cap || why + strnlen(why, (size_t)(b.p + b.cap - why)) >= b.p + b.cap ||
		    path_check(path, strlen(path)))
			die_msg(EXIT_USAGE, 0, "unable to read the conflicts of %s: generation %llu's list is damaged "
				"at byte %zu", o->file, (unsigned long long)gen, at);
		if (o->json) {
			printf("%s\n  {\"generation\":%llu,\"path\":", first ? "" : ",", (unsigned long long)gen);
			json_str(path);
			printf(",\"note\":");
			json_str(why);
			char full[sizeof LIVE_LOWER + PF_PATH_MAX + 1];
			snprintf(full, sizeof full, LIVE_LOWER "/%s", path);
			printf(",\"new_version\":");
			json_str(full);
			printf("}");
		} else {
			printf("C %s  # %s; yours is kept, the new image's is " LIVE_LOWER "/%s\n", path, why, path);
		}
		first = 0;
		at = (size_t)(why - b.p) + strlen(why) + 1;
	}
	if (o->json)
		printf("%s]\n", first ? "" : "\n");
	free(b.p);
	state_free(&st);
	pf_close(&pf);
	return 0;
}
