/* main.c: persist's command line: one table of commands, shared options, the live defaults. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "number.h"
#include "report.h"

const char *prog_name = "persist";

static const struct command commands[] = {
	{ "init", cmd_init, "init --file F --size SIZE",
	  "Create the save file F and preallocate SIZE bytes (K, M, G suffixes), then fsync it and its\n"
	  "directory. F must not exist. This is the only step that allocates." },
	{ "save", cmd_save, "save [--upper DIR] [--file F] [--lower SQFS] [--quiet]",
	  "Append what changed in the upper DIR since the last save as a new generation, durable before\n"
	  "the command returns. Include/exclude patterns come from F.conf or persist.conf beside F." },
	{ "restore", cmd_restore, "restore [--file F] --into DIR [--at GEN] [--lower SQFS] [--any-lower]",
	  "Verify the save file, then recreate generation GEN (default: the newest) in the empty DIR." },
	{ "status", cmd_status, "status [--upper DIR] [--file F] [--json]",
	  "What changed in the upper since the last save: A added, M modified, D deleted (a new\n"
	  "whiteout, or an upper entry removed), R replaced (a new opaque directory)." },
	{ "diff", cmd_status, "diff [--upper DIR] [--file F] [--json]",
	  "Like status, with each entry's type." },
	{ "log", cmd_log, "log [--file F] [--json]",
	  "The generations in the save file: number, time, kind, entries, data bytes, journal bytes." },
	{ "rollback", cmd_rollback, "rollback GEN [--file F]",
	  "Make GEN's state the newest generation: the next restore (boot) gets it." },
	{ "verify", cmd_verify, "verify [--file F]",
	  "Read every record of the save file and check its checksums and structure." },
	{ "grow", cmd_grow, "grow [--file F] --size SIZE",
	  "Make the save file larger, in place and crash-safely: the file is extended and synced first,\n"
	  "then a header adopts the new size (the active half is compacted into the first half first)." },
	{ "compact", cmd_compact, "compact [--file F]",
	  "Rewrite the live state into the other half of the save file; older generations are dropped." },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage_all(FILE *f)
{
	size_t i;

	fprintf(f, "usage: persist COMMAND [OPTIONS]   (persist COMMAND --help for one command)\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  persist %s\n", commands[i].synopsis);
	fprintf(f, "\nDefaults come from /run/live/persist.env (PERSIST_FILE, PERSIST_UPPER, PERSIST_LOWER;\n"
		   "another file with PERSIST_ENV=path); flags override. Exit 100: bad usage or input, 111: system failure.\n");
}

static const struct option longopts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "upper", required_argument, NULL, 'u' },
	{ "lower", required_argument, NULL, 'l' },
	{ "into", required_argument, NULL, 'i' },
	{ "size", required_argument, NULL, 's' },
	{ "at", required_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },
	{ "any-lower", no_argument, NULL, 'A' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct opts o = { 0 };
	const char *envpath;
	size_t i;
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_all(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		usage_all(stderr);
		die_msg(EXIT_USAGE, 0, "unable to run '%s': no such command", argv[1]);
	}
	envpath = getenv("PERSIST_ENV");
	if (live_env_load(envpath ? envpath : "/run/live/persist.env", &o.env) == 0) {
		o.file = o.env.file[0] ? o.env.file : NULL;
		o.upper = o.env.upper[0] ? o.env.upper : NULL;
		o.lower = o.env.lower[0] ? o.env.lower : NULL;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o.file = optarg; break;
		case 'u': o.upper = optarg; break;
		case 'l': o.lower = optarg; break;
		case 'i': o.into = optarg; break;
		case 's': o.size = optarg; break;
		case 'a':
			if (parse_u64(optarg, &o.at))
				die_msg(EXIT_USAGE, 0, "unable to use --at %s: not a generation number", optarg);
			o.has_at = 1;
			break;
		case 'j': o.json = 1; break;
		case 'A': o.any_lower = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h':
			printf("usage: persist %s\n\n%s\n", cmd->synopsis, cmd->help);
			return 0;
		default:
			fprintf(stderr, "usage: persist %s\n", cmd->synopsis);
			return EXIT_USAGE;
		}
	}
	o.args = argv + optind;
	o.nargs = argc - optind;
	o.cmd = cmd;
	return cmd->run(&o);
}
