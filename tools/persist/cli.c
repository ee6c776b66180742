/* cli.c: persist's commands and options, one table each, and the strict parser that joins them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "number.h"
#include "report.h"

/* An option: a flag (no metavar; an int in struct opts) or a value (a string, maybe a number too). */
struct cli_option {
	const char *name, *metavar, *help;
	size_t off;                                  /* the int or the const char * it sets */
	int (*number)(const char *s, uint64_t *out); /* a value that is a number: its parser, */
	const char *(*why)(int err);                 /* why it refused one, */
	size_t num_off;                              /* and where the number goes */
	const char *elsewhere;                       /* why a command that does not take it refuses it */
};

static const char *comp_why(int err)
{
	return "must be zstd or none";
}

#define OFF(field) offsetof(struct opts, field)
static const struct cli_option options[OPT_COUNT] = {
	[OPT_UPPER] = { "upper", "DIR", "the overlay's upper directory (PERSIST_UPPER)", OFF(upper) },
	[OPT_FILE] = { "file", "F", "the save file (PERSIST_FILE)", OFF(file) },
	[OPT_INTO] = { "into", "DIR", "the empty directory to restore into", OFF(into) },
	[OPT_SIZE] = { "size", "SIZE", "the save file's size (grow: its new size)", OFF(size), parse_size, size_why, OFF(size_bytes) },
	[OPT_AT] = { "at", "GEN", "the generation to restore or export (persist log lists them; default: the newest)",
		     OFF(at), parse_u64, number_why, OFF(at_gen) },
	[OPT_LOWER] = { "lower", "SQFS", "the lower image, to record or check its identity (PERSIST_LOWER)",
			OFF(lower) },
	[OPT_ANY_LOWER] = { "any-lower", NULL, "restore (export) even a save made over a different lower image",
			    OFF(any_lower) },
	[OPT_JSON] = { "json", NULL, "print JSON", OFF(json) },
	[OPT_QUIET] = { "quiet", NULL, "print nothing but warnings and errors", OFF(quiet) },
	[OPT_SKIP_BUSY] = { "skip-busy", NULL, "a file that keeps changing while it is read keeps its last saved "
			    "version (or stays out) and is named, instead of failing the save", OFF(skip_busy) },
	[OPT_COMPRESS] = { "compress", "C", "how its data is stored: zstd (the default: level 1, a block that does "
			   "not compress stays as it is) or none", OFF(compress), pcomp_parse, comp_why, OFF(comp),
			   "a save file's compression is chosen once, by persist init, and every later command keeps "
			   "the one its header records; to change it, init a new file and save into it" },
	[OPT_OCI_LAYER] = { "oci-layer", "OUT", "the OCI layer tar to write (OUT.tmp first, then renamed; - is "
			    "standard output)", OFF(oci_layer) },
	[OPT_GZIP] = { "gzip", NULL, "compress the layer with the gzip program (a .tar.gz layer)", OFF(gzip) },
	[OPT_ZSTD] = { "zstd", NULL, "compress the layer with zstd, level 1 (a .tar.zst layer)", OFF(zstd) },
	[OPT_SQUASHFS] = { "squashfs", "OUT", "the squashfs layer to write (as --oci-layer's OUT)", OFF(squashfs) },
	[OPT_MERGE] = { "merge", "SQFS", "--squashfs OUT is then SQFS with the changes applied", OFF(merge) },
	[OPT_YES] = { "yes", NULL, "reset without asking", OFF(yes) },
	[OPT_OLD] = { "old", "SQFS", "the image it was saved over", OFF(old_img) },
	[OPT_NEW] = { "new", "SQFS", "the image to rebase it onto", OFF(new_img) },
	[OPT_DRY_RUN] = { "dry-run", NULL, "write nothing: say what would be done", OFF(dry_run) },
	[OPT_GEN_FILE] = { "gen-file", "G", "then write the generation restored to G (a number and a newline)",
			   OFF(gen_file) },
	[OPT_FAILED_BOOTS] = { "failed-boots", "N", "the init's: N boots without a mark made it go back (persist log "
			       "says so)", OFF(failed_boots), parse_u64, number_why, OFF(nfailed) },
};
#undef OFF

#define T(opt) TAKES(OPT_##opt)
const struct command commands[] = {
	{ "init", cmd_init, NULL, T(FILE) | T(SIZE) | T(COMPRESS) | T(YES) | T(QUIET), T(FILE),
	  "Create the save file F and preallocate SIZE bytes, then fsync it and its directory. F must not\n"
	  "exist (or be empty). This is the only step that allocates. Its header records how its data is\n"
	  "stored (--compress), for good. Over a save file: empties it (asks first, or --yes)." },
	{ "save", cmd_save, NULL, T(UPPER) | T(FILE) | T(LOWER) | T(QUIET) | T(SKIP_BUSY), 0,
	  "Append what changed in the upper DIR since the last save as a new generation, durable before\n"
	  "the command returns. Include/exclude patterns come from F.conf or persist.conf beside F." },
	{ "restore", cmd_restore, NULL, T(FILE) | T(INTO) | T(AT) | T(LOWER) | T(ANY_LOWER) | T(QUIET) | T(GEN_FILE),
	  T(INTO),
	  "Verify the save file, then recreate generation GEN (default: the newest) in the empty DIR." },
	{ "status", cmd_status, NULL, T(UPPER) | T(FILE) | T(JSON), 0,
	  "What changed in the upper since the last save: A added, M modified, D deleted (a new\n"
	  "whiteout, or an upper entry removed), R replaced (a new opaque directory)." },
	{ "diff", cmd_status, NULL, T(UPPER) | T(FILE) | T(JSON), 0,
	  "Like status, with each entry's type." },
	{ "log", cmd_log, NULL, T(FILE) | T(JSON), 0,
	  "The generations in the save file: number, time, kind, entries, data bytes, journal bytes." },
	{ "rollback", cmd_rollback, "GEN", T(FILE) | T(QUIET) | T(FAILED_BOOTS), 0,
	  "Make GEN's state the newest generation: the next restore (boot) gets it." },
	{ "verify", cmd_verify, NULL, T(FILE), 0,
	  "Read every record of the save file and check its checksums and structure." },
	{ "grow", cmd_grow, NULL, T(FILE) | T(SIZE) | T(QUIET), T(SIZE),
	  "Make the save file larger, in place and crash-safely: the file is extended and synced first,\n"
	  "then a header adopts the new size (the active half is compacted into the first half first)." },
	{ "compact", cmd_compact, NULL, T(FILE) | T(QUIET), 0,
	  "Rewrite the live state into the other half of the save file; older generations are dropped." },
};
#undef T
const size_t ncommands = sizeof commands / sizeof commands[0];

const struct command *command_at(size_t i)
{
	if (i < ncommands)
		return &commands[i];
	i -= ncommands;
	return &nmore_commands && i < nmore_commands ? &more_commands[i] : NULL;
}

const struct command *command_find(const char *name)
{
	size_t i;

	const struct command *c;

	for (i = 0; (c = command_at(i)); i++)
		if (strcmp(name, c->name) == 0)
			return c;
	return NULL;
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

size_t cli_synopsis(const struct command *c, char *buf, size_t cap)
{
	size_t len = 0;
	int i;

	if (cap)
		buf[0] = 0;
	append(buf, cap, &len, "%s", c->name);
	if (c->arg)
		append(buf, cap, &len, " %s", c->arg);
	for (i = 0; i < OPT_COUNT; i++) {
		const struct cli_option *p = &options[i];
		int bare = (c->needs & TAKES(i)) != 0;
		if (!(c->takes & TAKES(i)))
			continue;
		append(buf, cap, &len, " %s--%s%s%s%s", bare ? "" : "[", p->name, p->metavar ? " " : "",
		       p->metavar ? p->metavar : "", bare ? "" : "]");
	}
	return len;
}

void usage_line(const struct command *c, FILE *f)
{
	char syn[256];

	cli_synopsis(c, syn, sizeof syn);
	fprintf(f, "usage: persist %s\n", syn);
}

void cli_help(const struct command *c, FILE *f)
{
	char flag[32];
	int i;

	usage_line(c, f);
	fprintf(f, "\n%s\n\n", c->help);
	for (i = 0; i < OPT_COUNT; i++) {
		const struct cli_option *p = &options[i];
		if (!(c->takes & TAKES(i)))
			continue;
		snprintf(flag, sizeof flag, "--%s%s%s", p->name, p->metavar ? " " : "", p->metavar ? p->metavar : "");
		fprintf(f, "  %-16s %s", flag, p->help);
		fprintf(f, "\n");
		if (p->why)
			fprintf(f, "  %-16s %s %s\n", "", p->metavar, p->why(-EINVAL));
	}
	fprintf(f, "  %-16s %s\n", "--help", "this text");
}

void need(const struct opts *o, const char *val, const char *flag)
{
	if (!val) {
		usage_line(o->cmd, stderr);
		die_msg(EXIT_USAGE, 0, "unable to run %s: %s is needed (or a " PERSIST_ENV_DEFAULT ")",
			o->cmd->name, flag);
	}
}

/* The option of c named by word ("--name" or "--name=value"), or NULL. */
static const struct cli_option *option_of(const struct command *c, const char *word, size_t len)
{
	int i;

	if (len < 3 || word[0] != '-' || word[1] != '-')
		return NULL;
	for (i = 0; i < OPT_COUNT; i++)
		if ((c->takes & TAKES(i)) && strlen(options[i].name) == len - 2 &&
		    !strncmp(word + 2, options[i].name, len - 2))
			return &options[i];
	return NULL;
}

#define FAIL(...) return perr_set(err, -EINVAL, __VA_ARGS__)

int cli_parse(const struct command *c, int argc, char **argv, struct opts *o, struct perr *err)
{
	int i, words_only = 0;

	o->cmd = c;
	for (i = 2; i < argc; i++) {
		const char *w = argv[i], *v, *eq;
		const struct cli_option *p;
		size_t len;
		int r;

		if (words_only || w[0] != '-' || !w[1]) {
			if (!c->arg)
				FAIL("unable to use '%s': persist %s takes no arguments", w, c->name);
			if (o->arg)
				FAIL("unable to use '%s': persist %s takes one argument, %s", w, c->name, c->arg);
			o->arg = w;
			continue;
		}
		if (!strcmp(w, "--")) {
			words_only = 1;
			continue;
		}
		if (!strcmp(w, "--help") || !strcmp(w, "-h"))
			return 1;
		eq = strchr(w, '=');
		len = eq ? (size_t)(eq - w) : strlen(w);
		p = option_of(c, w, len);
		if (!p) {
			/* an option of another command may say why this one does not take it */
			p = option_of(&(struct command){ .takes = ~0u }, w, len);
			if (p && p->elsewhere)
				FAIL("unable to use %.*s with persist %s: %s", (int)len, w, c->name, p->elsewhere);
			FAIL("unable to use %.*s: persist %s takes no such option", (int)len, w, c->name);
		}
		if (!p->metavar) {
			if (eq)
				FAIL("unable to use %s: --%s takes no value", w, p->name);
			*(int *)((char *)o + p->off) = 1;
			continue;
		}
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			FAIL("unable to use --%s: it needs a value, %s", p->name, p->metavar);
		if (!*v)
			FAIL("unable to use --%s: its value %s is empty", p->name, p->metavar);
		if (p->number && (r = p->number(v, (uint64_t *)((char *)o + p->num_off))) != 0)
			FAIL("unable to use --%s %s: %s", p->name, v, p->why(r));
		*(const char **)((char *)o + p->off) = v;
	}
	if (c->arg && !o->arg)
		FAIL("unable to run persist %s: %s is needed", c->name, c->arg);
	return 0;
}
