/* tools/modpick/t/index.c: modules.idx written by modpick and read back by the loader (kmod/). */
#include "kmod-int.h"
#include "pick.h"
#include "tap.h"
#include "picktest.h"

#define INFO(s) s, sizeof s - 1

static void round_trip(int dir)
{
	static const struct pick_want want[] = {
		{ "top", PICK_BASE }, { "dev", 0 }, { "opt", PICK_BASE | PICK_OPTIONAL },
	};
	struct pick_tree t = { 0 };
	struct modloader *ml = NULL;
	int order[8], norder, missing, fd, i, e, same = 1, err;
	char bad[64];
	const char *names[4];

	pick_tree_add(&t, NULL, "kernel/a/top.ko", 1, INFO("name=top\0depends=mid-one,leaf\0"
			"alias=fs-top\0softdep=pre: opt post: dev"));
	pick_tree_add(&t, NULL, "kernel/b/mid-one.ko", 1, INFO("depends=leaf"));
	pick_tree_add(&t, NULL, "kernel/c/leaf.ko", 1, INFO("name=leaf"));
	pick_tree_add(&t, NULL, "kernel/d/dev.ko", 1, INFO("name=dev\0depends=mid_one\0"
			"alias=pci:v00001AF4d*sv*sd*bc*sc*i*\0alias=devname:dev\0"
			"alias=virtio:d00000002v*\0alias=char-major-1-2"));
	pick_tree_add(&t, NULL, "kernel/e/opt.ko", 1, INFO("name=opt"));
	pick_tree_add(&t, NULL, "kernel/f/unused.ko", 1, INFO("name=unused\0alias=pci:v*"));
	is_str(t.mods[1].name, "mid_one", "name from the file when .modinfo has none, '-' as '_'");
	err = pick_closure(&t, want, 3, order, &norder, bad, sizeof bad, &missing);
	is_int(err, 0, "closure");
	is_int(norder, 5, "closure size");
	fd = openat(dir, "rt.idx", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	is_int(pick_write_index(fd, &t, order, norder, "6.1.0-rt", NULL), 0, "index written");
	close(fd);
	{
		struct modload_config cfg = { .dirfd = dir, .index = "rt.idx" };

		is_int(modload_new(&cfg, &ml), 0, "index read back");
	}
	if (!ml) {
		pick_tree_free(&t);
		return;
	}
	is_int(ml->nmods, norder, "same module count");
	for (i = 0; i < norder && i < ml->nmods; i++) {
		const struct pick_mod *m = &t.mods[order[i]];
		const struct modload_mod *k = &ml->mods[i];
		unsigned want_flags = ((m->flags & PICK_BASE) ? MOD_BASE : 0) |
				      ((m->flags & PICK_OPTIONAL) ? MOD_OPTIONAL : 0);

		same &= strcmp(m->name, k->name) == 0 && k->flags == want_flags &&
			k->ndeps == m->nedges;
		for (e = 0; e < m->nedges && e < k->ndeps; e++)
			same &= strcmp(ml->mods[k->deps[e]].name, t.mods[m->edges[e]].name) == 0;
	}
	ok(same, "names, flags and dependencies survive the round trip");
	i = modload_find(ml, "top");
	ok(i >= 0 && ml->mods[i].ndeps == 3, "top: depends plus softdep pre:, not post:");
	i = modload_find(ml, "opt");
	ok(i >= 0 && ml->mods[i].flags == (MOD_BASE | MOD_OPTIONAL), "opt: base, optional");
	i = modload_find(ml, "dev");
	ok(i >= 0 && ml->mods[i].flags == 0, "dev: on demand, required");
	i = modload_find(ml, "mid-one");
	ok(i >= 0 && ml->mods[i].flags == MOD_BASE, "mid_one: base (needed by top and dev)");
	is_int(ml->naliases, 2, "only the device aliases of the on-demand module");
	is_int(modload_lookup(ml, "virtio:d00000002v00001AF4", names, 4), 1, "alias lookup");
	is_str(names[0], "dev", "alias names its module");
	is_str(modload_kernel_release(ml), "6.1.0-rt", "kernel release");
	ok(modload_find(ml, "unused") < 0, "unwanted module left out");
	modload_free(ml);

	/* an unknown wanted module is named */
	{
		static const struct pick_want w2[] = { { "leaf", 0 }, { "gone", PICK_OPTIONAL },
						       { "nope", 0 } };

		err = pick_closure(&t, w2, 3, order, &norder, bad, sizeof bad, &missing);
		is_int(err, -ENOENT, "unknown module");
		is_str(bad, "nope", "named");
		is_int(missing, 1, "optional unknown one counted, not fatal");
	}
	pick_tree_free(&t);
}

static void cycle_and_missing_dep(void)
{
	struct pick_tree t = { 0 };
	static const struct pick_want w[] = { { "a", 0 } };
	static const struct pick_want w2[] = { { "c", 0 } };
	int order[8], norder, missing;
	char bad[128];

	pick_tree_add(&t, NULL, "a.ko", 1, INFO("name=a\0depends=b"));
	pick_tree_add(&t, NULL, "b.ko", 1, INFO("name=b\0softdep=pre: a"));
	pick_tree_add(&t, NULL, "c.ko", 1, INFO("name=c\0depends=zz"));
	is_int(pick_closure(&t, w, 1, order, &norder, bad, sizeof bad, &missing), -ELOOP,
	       "dependency cycle refused");
	is_int(pick_closure(&t, w2, 1, order, &norder, bad, sizeof bad, &missing), -ENOENT,
	       "missing dependency");
	is_str(bad, "zz (a dependency of c)", "missing dependency named with its user");
	pick_tree_free(&t);
}

/* An index the loader would refuse (over a limit of modidx.h) is not written. */
static void limits(int dir)
{
	static const struct pick_want w[] = { { "top", PICK_BASE } };
	struct pick_tree t = { 0 };
	char info[8192], name[16], bad[64];
	int order[MODIDX_MAX_DEPS + 4], norder, missing, n, i, fd;

	n = snprintf(info, sizeof info, "name=top%cdepends=", 0);
	for (i = 0; i <= MODIDX_MAX_DEPS; i++) {
		snprintf(name, sizeof name, "d%d", i);
		pick_tree_add(&t, name, name, 1, "", 0);
		n += snprintf(info + n, sizeof info - n, "%s%s", i ? "," : "", name);
	}
	pick_tree_add(&t, NULL, "top.ko", 1, info, n);
	is_int(pick_closure(&t, w, 1, order, &norder, bad, sizeof bad, &missing), 0,
	       "closure of a module with one dependency too many");
	fd = openat(dir, "big.idx", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	is_int(pick_write_index(fd, &t, order, norder, NULL, NULL), -E2BIG,
	       "more dependencies than the loader takes: not written");
	close(fd);
	pick_tree_free(&t);
}

int main(void)
{
	char path[4096];
	int dir;

	if (make_tmpdir(path, sizeof path, "index") != 0) {
		tap_skip(1, "no temporary directory");
		return tap_done(0);
	}
	dir = open(path, O_RDONLY | O_DIRECTORY);
	round_trip(dir);
	cycle_and_missing_dep();
	limits(dir);
	close(dir);
	rm_tree(path);
	return tap_done(0);
}
