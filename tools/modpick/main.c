/* main.c: modpick: picks the modules an initramfs needs from a kernel module tree. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crc32c.h"
#include "io.h"
#include "kmod.h"
#include "pick.h"
#include "report.h"

const char *prog_name = "modpick";

#define MAX_WANT 1024

static const char usage[] =
	"usage: modpick --tree MODULE_TREE [--out DIR] [--class NAME]... [--module NAME]...\n"
	"               [--pack] [--list] [--help]\n"
	"\n"
	"Reads every kernel/**/*.ko of MODULE_TREE (lib/modules/VERSION), takes the wanted\n"
	"modules with their dependencies (depends, softdep pre:), copies them flat into DIR as\n"
	"NAME.ko and writes DIR/modules.idx, the load order and alias patterns the init reads.\n"
	"\n"
	"  --tree DIR      the module tree (required)\n"
	"  --out DIR       where the modules and modules.idx go (required unless --list)\n"
	"  --class NAME    a group of modules (repeatable; default: every class below)\n"
	"  --module NAME   one more module ('-' and '_' are the same). It loads on demand when\n"
	"                  it has device aliases (pci:, usb:, ...), else at every boot\n"
	"  --pack          the modules not as files but one after the other in DIR/" MODIDX_PACK_RAW ",\n"
	"                  in index order; the index names it " MODIDX_PACK_FILE ", which the build\n"
	"                  makes of it with xz (the init decodes it only as far as a boot needs)\n"
	"  --list          print the picked modules: name, flags, bytes, path, dependencies\n"
	"  --help          this text\n"
	"\n"
	"Exit: 0 done, 100 bad usage or an unknown module or class, 111 system failure.\n"
	"\n"
	"Classes:\n";

struct opts {
	const char *tree, *out;
	const char *classes[64];
	int nclasses;
	const char *modules[MAX_WANT];
	int nmodules;
	int list;
	int pack;
};

struct state {
	struct opts o;
	struct pick_tree t;
	struct pick_want want[MAX_WANT];
	int nwant;
	int *order;
	int norder;
	char krel[256];
};

static void print_usage(FILE *f)
{
	const struct pick_class *c;
	const struct pick_want *w;

	fputs(usage, f);
	for (c = pick_classes; c->name; c++) {
		fprintf(f, "  %-7s %s:", c->name, c->what);
		for (w = c->mods; w->name; w++)
			fprintf(f, " %s%s", w->name, (w->flags & PICK_OPTIONAL) ? "(optional)" : "");
		fputc('\n', f);
	}
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "class", required_argument, NULL, 'c' },
		{ "module", required_argument, NULL, 'm' },
		{ "list", no_argument, NULL, 'l' },
		{ "pack", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 't': o->tree = optarg; break;
		case 'o': o->out = optarg; break;
		case 'l': o->list = 1; break;
		case 'p': o->pack = 1; break;
		case 'h': print_usage(stdout); exit(0);
		case 'c':
			if (!pick_class_find(optarg))
				die_msg(EXIT_USAGE, 0, "unable to pick class '%s': no such class "
					"(see modpick --help)", optarg);
			if (o->nclasses == (int)(sizeof o->classes / sizeof *o->classes))
				die_msg(EXIT_USAGE, 0, "unable to pick class '%s': too many --class", optarg);
			o->classes[o->nclasses++] = optarg;
			break;
		case 'm':
			if (o->nmodules == MAX_WANT)
				die_msg(EXIT_USAGE, 0, "unable to pick module '%s': more than %d --module",
					optarg, MAX_WANT);
			o->modules[o->nmodules++] = optarg;
			break;
		default:
			fprintf(stderr, "%s: try 'modpick --help'\n", prog_name);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		die_msg(EXIT_USAGE, 0, "unable to use argument '%s': modpick takes options only",
			argv[optind]);
	if (!o->tree)
		die_msg(EXIT_USAGE, 0, "unable to pick modules: --tree MODULE_TREE is missing");
	if (!o->out && !o->list)
		die_msg(EXIT_USAGE, 0, "unable to pick modules: say where with --out DIR (or --list)");
}

static int has_device_alias(void *arg, const char *alias)
{
	return pick_alias_useful(alias);   /* nonzero stops the walk */
}

static void add_want(struct state *s, const char *name, unsigned flags)
{
	if (s->nwant == MAX_WANT)
		die_msg(EXIT_USAGE, 0, "unable to pick module %s: more than %d wanted", name, MAX_WANT);
	s->want[s->nwant].name = name;
	s->want[s->nwant++].flags = flags;
}

static void collect_wants(struct state *s)
{
	const struct pick_class *c;
	const struct pick_want *w;
	int i;

	for (c = pick_classes; c->name; c++) {
		int take = s->o.nclasses == 0 && c->is_default;

		for (i = 0; i < s->o.nclasses; i++)
			take |= strcmp(s->o.classes[i], c->name) == 0;
		for (w = c->mods; take && w->name; w++)
			add_want(s, w->name, w->flags);
	}
	for (i = 0; i < s->o.nmodules; i++) {
		const char *name = s->o.modules[i];
		int m = pick_tree_find(&s->t, name);

		if (m < 0)
			die_msg(EXIT_USAGE, 0, "unable to pick module %s: no such module in %s "
				"(check the name; '-' and '_' are the same)", name, s->o.tree);
		add_want(s, name, pick_each(&s->t.mods[m], "alias", has_device_alias, NULL) ? 0 :
			 PICK_BASE);
	}
}

/* The kernel release is the first word of vermagic; every module must agree on it. */
static void find_release(struct state *s)
{
	int i;

	for (i = 0; i < s->norder; i++) {
		struct pick_mod *m = &s->t.mods[s->order[i]];
		struct modinfo mi = { m->info, m->info_len };
		char vm[256];

		if (modinfo_get(&mi, "vermagic", vm, sizeof vm) != 0)
			continue;
		vm[strcspn(vm, " ")] = '\0';
		if (!s->krel[0])
			snprintf(s->krel, sizeof s->krel, "%s", vm);
		else if (strcmp(s->krel, vm) != 0)
			die_msg(EXIT_USAGE, 0, "unable to pick module %s: built for %s, not %s "
				"(one tree, one kernel)", m->name, vm, s->krel);
	}
}

/* Appends the module at path to out; *copied says how many bytes and their CRC32C. */
static int copy_module(int treefd, const char *path, int out, struct pick_packed *copied)
{
	char buf[65536];
	int in, err = 0;
	ssize_t n;

	copied->bytes = copied->crc = 0;
	in = openat(treefd, path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	while (!err && (n = read(in, buf, sizeof buf)) != 0) {
		err = n < 0 ? -errno : write_all(out, buf, n);
		if (n > 0) {
			copied->bytes += n;
			copied->crc = crc32c(copied->crc, buf, n);
		}
	}
	close(in);
	return err;
}

/* The modules into outfd: each as NAME.ko, or all, in index order, into the one pack file. */
static int copy_modules(const struct state *s, int treefd, int outfd, struct pick_packed *packed, char *bad,
			size_t badcap)
{
	char file[MODIDX_NAME_MAX + sizeof ".ko"];
	int i, out = -1, err = 0;

	if (s->o.pack) {
		out = openat(outfd, MODIDX_PACK_RAW, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0)
			return -errno;
	}
	for (i = 0; i < s->norder && !err; i++) {
		const struct pick_mod *m = &s->t.mods[s->order[i]];

		snprintf(bad, badcap, "%s", m->path);
		if (!s->o.pack) {
			snprintf(file, sizeof file, "%s.ko", m->name);
			out = openat(outfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (out < 0)
				return -errno;
		}
		err = copy_module(treefd, m->path, out, &packed[i]);
		if (!s->o.pack && close(out) != 0 && !err)
			err = -errno;
	}
	if (s->o.pack && close(out) != 0 && !err)
		err = -errno;
	return err;
}

/* Reads the index back with the init's own parser: a disagreement fails the build, not the boot. */
static void check_index(int outfd, const char *out)
{
	struct modload_config cfg = { .dirfd = outfd, .index = MODIDX_FILE };
	struct modloader *ml;
	int err = modload_new(&cfg, &ml);

	if (err)
		die_msg(EXIT_SYSTEM, err, "unable to read back %s/%s with the init's parser "
			"(a modpick bug: please report it)", out, MODIDX_FILE);
	modload_free(ml);
}

static int count_firmware(void *arg, const char *val)
{
	++*(int *)arg;
	return 0;
}

static void list(const struct state *s)
{
	int i, e;

	for (i = 0; i < s->norder; i++) {
		const struct pick_mod *m = &s->t.mods[s->order[i]];

		printf("%-20s %-5s %8llu %s", m->name,
		       (m->flags & PICK_BASE) ? ((m->flags & PICK_OPTIONAL) ? "base?" : "base") :
		       ((m->flags & PICK_OPTIONAL) ? "dem?" : "dem"),
		       (unsigned long long)m->size, m->path);
		for (e = 0; e < m->nedges; e++)
			printf("%s%s", e ? "," : " <- ", s->t.mods[m->edges[e]].name);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	struct state s;
	char bad[256] = "";
	int treefd, outfd, fd, i, err, missing, nbase = 0, nopt = 0, nfw = 0;
	unsigned long long bytes = 0;
	struct pick_packed *packed = NULL;

	memset(&s, 0, sizeof s);
	parse_args(&s.o, argc, argv);
	treefd = open(s.o.tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (treefd < 0)
		die_msg(EXIT_USAGE, errno, "unable to open module tree %s", s.o.tree);
	err = pick_tree_scan(treefd, &s.t);
	if (err)
		die_msg(err == -ENOENT ? EXIT_USAGE : EXIT_SYSTEM, err,
			"unable to read module tree %s/kernel", s.o.tree);
	if (s.t.n == 0)
		die_msg(EXIT_USAGE, 0, "unable to pick modules: no uncompressed .ko under %s/kernel "
			"(%d compressed or unreadable files skipped)", s.o.tree, s.t.skipped);
	collect_wants(&s);
	s.order = calloc(s.t.n, sizeof *s.order);
	if (!s.order)
		die_msg(EXIT_SYSTEM, ENOMEM, "unable to pick modules");
	err = pick_closure(&s.t, s.want, s.nwant, s.order, &s.norder, bad, sizeof bad, &missing);
	if (err == -ENOENT)
		die_msg(EXIT_USAGE, 0, "unable to pick module %s: no such module in %s", bad, s.o.tree);
	if (err)
		die_msg(err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, err, "unable to pick module %s", bad);
	if (missing)
		warn_msg(0, "%d optional modules are not in %s: left out", missing, s.o.tree);
	find_release(&s);
	if (s.o.list)
		list(&s);
	for (i = 0; i < s.norder; i++) {
		const struct pick_mod *m = &s.t.mods[s.order[i]];

		bytes += m->size;
		nbase += !!(m->flags & PICK_BASE);
		nopt += !!(m->flags & PICK_OPTIONAL);
		(void)pick_each(m, "firmware", count_firmware, &nfw);
	}
	if (s.o.out) {
		if (mkdir(s.o.out, 0755) != 0 && errno != EEXIST)
			die_msg(EXIT_SYSTEM, errno, "unable to create %s", s.o.out);
		outfd = open(s.o.out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (outfd < 0)
			die_msg(EXIT_SYSTEM, errno, "unable to open %s", s.o.out);
		packed = calloc(s.norder + 1, sizeof *packed);
		err = packed ? copy_modules(&s, treefd, outfd, packed, bad, sizeof bad) : -ENOMEM;
		if (err)
			die_msg(EXIT_SYSTEM, err, "unable to copy %s/%s to %s", s.o.tree, bad, s.o.out);
		fd = openat(outfd, MODIDX_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		err = fd < 0 ? -errno : pick_write_index(fd, &s.t, s.order, s.norder, s.krel,
							 s.o.pack ? packed : NULL);
		if (fd >= 0 && close(fd) != 0 && !err)
			err = -errno;
		if (err)
			die_msg(err == -E2BIG ? EXIT_USAGE : EXIT_SYSTEM, err, "unable to write %s/%s",
				s.o.out, MODIDX_FILE);
		check_index(outfd, s.o.out);
		close(outfd);
	}
	info_msg("%d modules for %s (%d at boot, %d on demand, %d optional), %llu bytes%s%s",
		 s.norder, s.krel[0] ? s.krel : "an unknown kernel", nbase, s.norder - nbase, nopt,
		 bytes, s.o.out ? " in " : "", s.o.out ? s.o.out : "");
	if (nfw)
		info_msg("note: the picked modules name %d firmware files; none are copied", nfw);
	pick_tree_free(&s.t);
	free(packed);
	free(s.order);
	close(treefd);
	return 0;
}
