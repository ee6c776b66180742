/* tools/persist/t/cli.c: each command takes only its own options and arguments; --help for all. */
#include <errno.h>
#include <string.h>
#include "cli.h"
#include "sizes.h"
#include "tap.h"

/* Parses "persist WORDS..." (space-separated) for its command: the parser's return. */
static int run(const char *line, struct opts *o, char *err, size_t cap)
{
	static char buf[512];
	char *argv[32], *save = NULL, *w;
	int argc = 0;
	const struct command *c;
	struct perr pe = { "" };
	int r;

	snprintf(buf, sizeof buf, "persist %s", line);
	for (w = strtok_r(buf, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	memset(o, 0, sizeof *o);
	err[0] = 0;
	c = command_find(argv[1]);
	if (!c)
		return -ENOENT;
	r = cli_parse(c, argc, argv, o, &pe);

	snprintf(err, cap, "%s", pe.msg);
	return r;
}

/* Whether the synopsis names the option flag (a whole word: --lower is not --any-lower). */
static int shows(const char *syn, const char *flag)
{
	const char *p;

	for (p = strstr(syn, flag); p; p = strstr(p + 1, flag))
		if ((p == syn || p[-1] == ' ' || p[-1] == '[') && strchr(" ]", p[strlen(flag)]))
			return 1;
	return 0;
}

int main(void)
{
	/* the synopses docs/persist.md shows */
	static const char *const synopsis[] = {
		"init --file F [--size SIZE] [--compress C] [--quiet] [--yes]",
		"save [--upper DIR] [--file F] [--lower SQFS] [--quiet] [--skip-busy]",
		"restore [--file F] --into DIR [--at GEN] [--lower SQFS] [--any-lower] [--quiet] [--gen-file G]",
		"status [--upper DIR] [--file F] [--json]",
		"diff [--upper DIR] [--file F] [--json]",
		"log [--file F] [--json]",
		"rollback GEN [--file F] [--quiet] [--failed-boots N]",
		"verify [--file F]",
		"grow [--file F] --size SIZE [--quiet]",
		"compact [--file F] [--quiet]",
		/* out/bin/persist's only (tools/persist/full/) */
		"export [--file F] [--at GEN] [--lower SQFS] [--any-lower] [--quiet] [--oci-layer OUT] [--gzip] [--zstd] "
		"[--squashfs OUT] [--merge SQFS]",
		"rebase [--file F] [--json] [--quiet] --old SQFS --new SQFS [--dry-run]",
		"conflicts [--file F] [--at GEN] [--json]",
	};
	static const char *const every[] = { "--upper d", "--file f", "--into d", "--size 1M", "--at 1",
					     "--lower l", "--any-lower", "--json", "--quiet", "--skip-busy",
					     "--compress zstd", "--oci-layer o", "--gzip", "--zstd" };
	struct opts o;
	char err[512], line[256], syn[256];
	size_t i, j;

	for (i = 0; command_at(i); i++)
		;
	is_int(i, sizeof synopsis / sizeof synopsis[0], "every command has its synopsis");
	is_int(ncommands, 10, "  the initramfs's persist has 10 of them (the rest: more_commands)");
	for (i = 0; command_at(i) && i < sizeof synopsis / sizeof synopsis[0]; i++) {
		const struct command *c = command_at(i);
		cli_synopsis(c, syn, sizeof syn);
		is_str(syn, synopsis[i], "synopsis from the tables");
		snprintf(line, sizeof line, "%s --help", c->name);
		is_int(run(line, &o, err, sizeof err), 1, line);
		snprintf(line, sizeof line, "%s -h", c->name);
		is_int(run(line, &o, err, sizeof err), 1, line);
		/* each option is taken exactly when the synopsis shows it */
		for (j = 0; j < sizeof every / sizeof every[0]; j++) {
			char flag[32];
			int shown;
			snprintf(flag, sizeof flag, "%.*s", (int)strcspn(every[j], " "), every[j]);
			snprintf(line, sizeof line, "%s%s %s", c->name, c->arg ? " 7" : "", every[j]);
			shown = shows(syn, flag);
			if (shown)
				is_int(run(line, &o, err, sizeof err), 0, line);
			else
				ok(run(line, &o, err, sizeof err) == -EINVAL && strstr(err, flag) &&
				   strstr(err, c->name), "%s: refused (%s)", line, err);
		}
		snprintf(line, sizeof line, "%s%s extra", c->name, c->arg ? " 7" : "");
		ok(run(line, &o, err, sizeof err) == -EINVAL && strstr(err, "'extra'"), "%s: refused (%s)", line, err);
	}

	ok(run("log --into /etc", &o, err, sizeof err) == -EINVAL && !strcmp(err,
	   "unable to use --into: persist log takes no such option"), "log --into /etc: %s", err);
	ok(run("log --bogus", &o, err, sizeof err) == -EINVAL && strstr(err, "--bogus"), "%s", err);
	ok(run("log --fil f", &o, err, sizeof err) == -EINVAL, "no abbreviations: %s", err);
	ok(run("log -f f", &o, err, sizeof err) == -EINVAL && strstr(err, "-f:"), "no short options: %s", err);
	ok(run("log --file", &o, err, sizeof err) == -EINVAL && strstr(err, "needs a value"), "%s", err);
	ok(run("log --file=", &o, err, sizeof err) == -EINVAL && strstr(err, "empty"), "%s", err);
	ok(run("log --json=yes", &o, err, sizeof err) == -EINVAL && strstr(err, "no value"), "%s", err);
	is_int(run("log --file=a.dat --json", &o, err, sizeof err), 0, "--file=VALUE");
	ok(!strcmp(o.file, "a.dat") && o.json, "  sets the file and the flag");
	is_int(run("save --upper u --file f --upper v", &o, err, sizeof err), 0, "a repeated option");
	is_str(o.upper, "v", "  the last one counts");
	is_int(run("log --file -", &o, err, sizeof err), 0, "a value may start with -");
	is_str(o.file, "-", "  taken as the value");

	ok(run("rollback", &o, err, sizeof err) == -EINVAL && strstr(err, "GEN is needed"), "%s", err);
	ok(run("rollback 3 4", &o, err, sizeof err) == -EINVAL && strstr(err, "'4'"), "%s", err);
	is_int(run("rollback --file f 3 --quiet", &o, err, sizeof err), 0, "rollback GEN among options");
	ok(o.arg && !strcmp(o.arg, "3") && o.quiet, "  GEN is 3");
	is_int(run("rollback -- 5", &o, err, sizeof err), 0, "-- ends the options");
	is_str(o.arg, "5", "  GEN after --");
	ok(run("verify -- --file", &o, err, sizeof err) == -EINVAL && strstr(err, "no arguments"), "%s", err);

	/* --compress: init's, zstd or none; any other command refuses it and says why */
	is_int(run("init --file f --size 1M --compress none", &o, err, sizeof err), 0, "init --compress none");
	ok(o.compress && o.comp == PC_NONE, "  no compression");
	is_int(run("init --file f --size 1M --compress=zstd", &o, err, sizeof err), 0, "init --compress=zstd");
	ok(o.compress && o.comp == PC_ZSTD, "  zstd");
	ok(run("init --file f --size 1M --compress gzip", &o, err, sizeof err) == -EINVAL &&
	   strstr(err, "--compress gzip") && strstr(err, "zstd or none"), "%s", err);
	ok(run("init --file f --size 1M --compress ZSTD", &o, err, sizeof err) == -EINVAL, "names are exact: %s", err);
	for (i = 0; command_at(i); i++) {
		const struct command *c = command_at(i);
		if (!strcmp(c->name, "init"))
			continue;
		snprintf(line, sizeof line, "%s%s --compress none", c->name, c->arg ? " 7" : "");
		ok(run(line, &o, err, sizeof err) == -EINVAL && strstr(err, "chosen once, by persist init"),
		   "%s: refused (%s)", line, err);
	}

	is_int(run("restore --into d --at 12", &o, err, sizeof err), 0, "restore --at 12");
	ok(o.at && o.at_gen == 12, "  generation 12");
	ok(run("restore --into d --at -1", &o, err, sizeof err) == -EINVAL && strstr(err, "--at -1"), "%s", err);
	ok(run("restore --into d --at 1x", &o, err, sizeof err) == -EINVAL && strstr(err, "decimal"), "%s", err);

	/* persist's --size against the sizes the docs promise (the init's live.persist.size= too) */
	for (i = 0; i < N_SIZE_CASES; i++) {
		const struct size_case *sc = &size_cases[i];
		char *argv[] = { "persist", "init", "--file", "f", "--size", (char *)sc->text, NULL };
		int r;
		memset(&o, 0, sizeof o);
		struct perr pe = { "" };
		r = cli_parse(command_find("init"), 6, argv, &o, &pe);
		snprintf(err, sizeof err, "%s", pe.msg);
		if (!sc->err)
			ok(r == 0 && o.size_bytes == sc->bytes, "init --size '%s' is %llu bytes", sc->text,
			   (unsigned long long)sc->bytes);
		else
			ok(r == -EINVAL && strstr(err, sc->err == -ERANGE ? "too large" : sc->text[0] ? "K M G T P" : "empty"),
			   "init --size '%s' refused: %s", sc->text, err);
	}
	return tap_done(0);
}
