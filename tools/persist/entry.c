/*
 * entry.c: persist's entry: find the command, parse its command line, fill in the live defaults.
 * persist is a name of the init's program (initramfs/main.c runs this under it, argv[0]).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "report.h"

static void usage_all(FILE *f)
{
	const struct command *c;
	char syn[256];
	size_t i;

	fprintf(f, "usage: persist COMMAND [OPTIONS]   (persist COMMAND --help for one command)\n\n");
	for (i = 0; (c = command_at(i)); i++) {
		cli_synopsis(c, syn, sizeof syn);
		fprintf(f, "  persist %s\n", syn);
	}
	fprintf(f, "\nDefaults come from " PERSIST_ENV_DEFAULT " (PERSIST_FILE, PERSIST_UPPER, PERSIST_LOWER;\n"
		   "another file with PERSIST_ENV=path); flags override. Exit 100: bad usage or input, 111: system failure.\n");
}

/* persist.env's values where the command line gave none; a missing file is no defaults. */
static void env_defaults(struct opts *o)
{
	const char *path = getenv("PERSIST_ENV");
	struct perr err = { "" };
	int r;

	if (!path)
		path = PERSIST_ENV_DEFAULT;
	r = live_env_load(path, &o->env, &err);
	if (r == -ENOENT)
		return;
	if (r && err.msg[0])
		die_msg(EXIT_USAGE, 0, "unable to read the live defaults: %s (correct it, or name another file "
			"with PERSIST_ENV=)", err.msg);
	if (r)
		die_msg(EXIT_SYSTEM, r, "unable to read the live defaults %s", path);
	if (!o->file && o->env.file[0])
		o->file = o->env.file;
	if (!o->upper && o->env.upper[0])
		o->upper = o->env.upper;
	if (!o->lower && o->env.lower[0])
		o->lower = o->env.lower;
}

/*
 * The initramfs's persist has not the commands of tools/persist/full/ (export, rebase, conflicts:
 * cli.h, more_commands): for a command it does not know it runs the root image's persist, when
 * there is one and it is another program; else it says where they are.
 */
static void run_full(char **argv)
{
	static const char *const paths[] = { "/usr/sbin/persist", "/usr/local/sbin/persist", "/usr/bin/persist" };
	struct stat self, st;
	size_t i;

	if (&nmore_commands || stat("/proc/self/exe", &self))
		return;
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (stat(paths[i], &st) == 0 && (st.st_dev != self.st_dev || st.st_ino != self.st_ino) &&
		    access(paths[i], X_OK) == 0) {
			execv(paths[i], argv);
			warn_msg(errno, "unable to run %s", paths[i]);
		}
	usage_all(stderr);
	die_msg(EXIT_USAGE, 0, "unable to run '%s': no such command in the initramfs's persist (export, rebase and "
		"conflicts are commands of the root image's /usr/sbin/persist, or of out/bin/persist on a host, "
		"which are not here)", argv[1]);
}

int persist_main(int argc, char **argv)
{
	const struct command *cmd;
	struct opts o = { 0 };
	struct perr err = { "" };
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_all(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	cmd = command_find(argv[1]);
	if (!cmd) {
		run_full(argv);
		usage_all(stderr);
		die_msg(EXIT_USAGE, 0, "unable to run '%s': no such command", argv[1]);
	}
	r = cli_parse(cmd, argc, argv, &o, &err);
	if (r == 1) {
		cli_help(cmd, stdout);
		return 0;
	}
	if (r) {
		usage_line(cmd, stderr);
		die_msg(EXIT_USAGE, 0, "%s", err.msg);
	}
	env_defaults(&o);
	return cmd->run(&o);
}
