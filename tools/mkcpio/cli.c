/* cli.c: mkcpio's command line: options, SOURCE_DATE_EPOCH, spec files in, archive out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mkcpio.h"
#include "number.h"
#include "report.h"

static const char usage[] =
	"Usage: mkcpio [-o OUT] [SPEC|-]...\n"
	"Writes a newc (\"070701\") cpio archive, uncompressed, from spec lines (stdin when no\n"
	"SPEC is given), so that an initramfs can hold device nodes and root-owned files\n"
	"without root.\n"
	"\n"
	"  -o OUT      write to OUT (through OUT.tmp, renamed when complete); default stdout\n"
	"  -h, --help  this text\n"
	"\n"
	"Spec lines (MODE octal, UID/GID/MAJOR/MINOR decimal; '#' starts a comment):\n"
	"  dir   PATH MODE UID GID\n"
	"  file  PATH SRC MODE UID GID\n"
	"  slink PATH TARGET MODE UID GID\n"
	"  nod   PATH MODE UID GID c|b MAJOR MINOR\n"
	"  tree  PATH SRCDIR      a host directory, recursively: dirs, files, symlinks;\n"
	"                         modes from the host, owners 0:0, sorted by name\n"
	"PATH is inside the archive; SRC and SRCDIR are host paths, relative to the current\n"
	"directory. Parents are written before children; missing ones are made 0755 0:0. An\n"
	"explicit dir line overrides a tree's directory; any other duplicate path is an error.\n"
	"Output is reproducible: every mtime is SOURCE_DATE_EPOCH (default 0), inode numbers\n"
	"are sequential.\n"
	"\n"
	"Exit: 0 done, 100 bad usage or spec, 111 system failure.\n";

static uint32_t epoch_from_env(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (!s || !*s)
		return 0;
	if (parse_u64(s, &v) || v > UINT32_MAX)
		die_msg(EXIT_USAGE, 0, "unable to use SOURCE_DATE_EPOCH '%s': not seconds since 1970 "
			"that fit in 32 bits", s);
	return (uint32_t)v;
}

int mkcpio_cli(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_name = NULL;
	char *tmp = NULL;
	struct mkcpio st;
	int c, err, code;

	optind = 1;	/* the tests call this more than once in one process */
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'o':
			out_name = optarg;
			break;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (mk_init(&st))
		die_msg(EXIT_SYSTEM, -ENOMEM, "unable to start");
	st.mtime = epoch_from_env();

	for (int i = optind; i < argc || i == optind; i++) {
		const char *name = i < argc ? argv[i] : "-";
		int is_stdin = !strcmp(name, "-");
		FILE *f = is_stdin ? stdin : fopen(name, "r");
		if (!f)
			die_msg(EXIT_USAGE, -errno, "unable to open spec %s", name);
		err = mk_read_spec(&st, f, is_stdin ? "stdin" : name);
		if (!is_stdin)
			fclose(f);
		if (err)
			die_msg(err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, 0, "unable to read the spec: %s",
				st.why);
		if (i >= argc)
			break;
	}

	if (out_name) {
		size_t n = strlen(out_name) + 5;
		tmp = malloc(n);
		if (!tmp)
			die_msg(EXIT_SYSTEM, -ENOMEM, "unable to start");
		snprintf(tmp, n, "%s.tmp", out_name);
		st.out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (st.out < 0)
			die_msg(EXIT_SYSTEM, -errno, "unable to create %s", tmp);
	} else {
		st.out = STDOUT_FILENO;
	}

	err = mk_write_archive(&st);
	if (!err && out_name && (fsync(st.out) < 0 || close(st.out) < 0 || rename(tmp, out_name) < 0)) {
		err = -errno;
		snprintf(st.why, sizeof st.why, "%s", strerror(errno));
		st.out_failed = 1;
		st.out = -1;
	}
	if (err) {
		if (out_name) {
			if (st.out >= 0)
				close(st.out);
			(void)unlink(tmp);
		}
		code = st.out_failed || err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE;
		die_msg(code, 0, "unable to write archive %s: %s", out_name ? out_name : "to stdout",
			st.why);
	}
	free(tmp);
	mk_free(&st);
	return 0;
}
