/*
 * rollback.c: the reader replays chained rollbacks in linear time and gets every generation's
 * state right: chains of 1,000 rollbacks (each to the generation before the current one, and a
 * crafted one to the current one), measured against a save file of as many plain saves, and a
 * random tree of saves and rollbacks checked against the upper as it was at each save.
 */
#include <time.h>
#include "tap.h"
#include "helpers.h"

static char base[64];

/* Every entry's path, type, mode, size and mtime, sorted: a state or a scanned upper. */
static char *listing(struct pentry **v, size_t n)
{
	size_t cap = 64 + n * 64, len = 0, i;
	char *s = malloc(cap);

	for (i = 0; s && i < n; i++) {
		const struct pentry *e = v[i];
		size_t need = strlen(e->path) + 96;
		if (len + need >= cap) {
			char *t = realloc(s, cap = 2 * cap + need);
			if (!t) {
				free(s);
				return NULL;
			}
			s = t;
		}
		len += (size_t)snprintf(s + len, cap - len, "%s %u %o %llu %lld.%u\n", e->path, e->type, e->mode,
					(unsigned long long)e->size, (long long)e->mtime_sec, e->mtime_nsec);
	}
	if (s)
		s[len] = 0;
	return s;
}

static char *state_listing(const struct pstate *st)
{
	struct pentry **v;
	int n = state_sorted(st, &v);
	char *s = n < 0 ? NULL : listing(v, (size_t)n);

	if (n >= 0)
		free(v);
	return s;
}

static char *upper_listing(const char *up)
{
	struct scan sc;
	struct pentry **v;
	char *s = NULL;
	size_t i;

	if (scan_upper(up, NULL, NULL, &sc) == 0 && (v = malloc((sc.n + 1) * sizeof *v))) {
		for (i = 0; i < sc.n; i++)
			v[i] = &sc.v[i];
		qsort(v, sc.n, sizeof *v, path_cmp);
		s = listing(v, sc.n);
		free(v);
	}
	scan_free(&sc);
	return s;
}

/* Loads gen at (UINT64_MAX: newest) of file: its listing, the records read and the CPU time taken. */
static char *load(const char *file, uint64_t at, uint64_t *reads, double *cpu, char *err, size_t errlen)
{
	struct pfile pf;
	struct pstate st;
	struct timespec a, b;
	char *s = NULL;

	if (pf_open(&pf, file, 0)) {
		snprintf(err, errlen, "open: %.400s", pf.err.msg);
		pf_close(&pf);
		return NULL;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	if (pf_load(&pf, at, PCHECK_ALL, &st, NULL) == 0) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		s = state_listing(&st);
		state_free(&st);
	} else {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		snprintf(err, errlen, "load: %.400s", pf.err.msg);
	}
	if (reads)
		*reads = pf.nread;
	if (cpu)
		*cpu = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	pf_close(&pf);
	return s;
}

static int save(const char *file, const char *up)
{
	struct save_result res;

	return persist_save(file, up, NULL, NULL, 0, &res);
}

static int rollback(const char *file, uint64_t gen)
{
	struct pfile pf;
	struct save_result res;
	int r = pf_open(&pf, file, 1);

	if (!r)
		r = persist_rollback(&pf, gen, 0, &res);
	pf_close(&pf);
	return r;
}

/*
 * A transaction only a crafted file has: a ROLLBACK naming the current generation itself (roll),
 * or a save of no records; its COMMIT claims de more entries and db more bytes than the state has.
 */
static int crafted(const char *file, int roll, uint32_t de, uint64_t db)
{
	struct pfile pf;
	struct pwriter w = { 0 };
	int r = pf_open(&pf, file, 1);
	uint32_t entries = pf.hdr.entries;
	uint64_t bytes = pf.hdr.bytes;

	if (!r)
		r = w_begin(&w, &pf, 0, roll ? TXN_ROLLBACK : TXN_SAVE, NULL);
	if (!r && roll)
		r = w_rollback(&w, pf.hdr.gen);
	if (!r)
		r = w_commit(&w, entries + de, bytes + db);
	w_abort(&w);
	pf_close(&pf);
	return r;
}

static uint64_t newest(const char *file)
{
	struct pfile pf;
	uint64_t g = pf_open(&pf, file, 0) ? 0 : pf.hdr.gen;

	pf_close(&pf);
	return g;
}

#define CHAIN 1000

/* min CPU time of three loads, and the records the last one read */
static double best_load(const char *file, uint64_t *reads, char **list)
{
	char err[512];
	double best = 1e9, t;
	int i;

	for (i = 0; i < 3; i++) {
		free(*list);
		*list = load(file, UINT64_MAX, reads, &t, err, sizeof err);
		if (!*list)
			tap_diag("%s", err);
		if (t < best)
			best = t;
	}
	return best;
}

static void test_chains(void)
{
	char up[256], chain[256], plain[256], cfile[256], f[300], err[512];
	char *l1 = NULL, *l2 = NULL, *got = NULL;
	uint64_t rc = 0, rp = 0, rx = 0, g;
	int bad = 0, i;
	double tc, tp, tx;

	snprintf(up, sizeof up, "%s/up", base);
	snprintf(chain, sizeof chain, "%s/chain.dat", base);
	snprintf(plain, sizeof plain, "%s/plain.dat", base);
	snprintf(cfile, sizeof cfile, "%s/crafted.dat", base);
	mkdir(up, 0755);
	snprintf(f, sizeof f, "%s/a", up);
	put_file(f, "1", 1);
	/* one generation a 4 KiB block: 1,002 of them fit a half of 16 MiB */
	is_int(pf_create(chain, 16 << 20, PC_NONE), 0, "chain file created");
	is_int(save(chain, up), 0, "generation 1");
	l1 = upper_listing(up);
	snprintf(f, sizeof f, "%s/b", up);
	put_file(f, "22", 2);
	is_int(save(chain, up), 0, "generation 2");
	l2 = upper_listing(up);
	for (i = 0; i < CHAIN && !bad; i++)
		bad = rollback(chain, newest(chain) - 1) != 0;
	ok(!bad, "%d rollbacks, each to the generation before the current one", CHAIN);
	is_int(newest(chain), CHAIN + 2, "the newest generation");

	/* a plain file of as many generations: a save after each change */
	is_int(pf_create(plain, 16 << 20, PC_NONE), 0, "plain file created");
	for (i = 0, bad = 0; i < CHAIN + 2 && !bad; i++) {
		snprintf(f, sizeof f, "%s/b", up);
		put_file(f, i % 2 ? "22" : "333", i % 2 ? 2 : 3);
		bad = save(plain, up) != 0;
	}
	ok(!bad, "%d plain saves", CHAIN + 2);

	/* crafted: every rollback names the current generation (the old reader doubled its work each time) */
	is_int(pf_create(cfile, 16 << 20, PC_NONE), 0, "crafted file created");
	save(cfile, up);
	for (i = 0, bad = 0; i < CHAIN && !bad; i++)
		bad = crafted(cfile, 1, 0, 0) != 0;
	ok(!bad, "%d rollbacks to the current generation", CHAIN);

	tc = best_load(chain, &rc, &got);
	ok(got && strcmp(got, (CHAIN + 2) % 2 ? l1 : l2) == 0, "the chain's newest state is generation %d's",
	   (CHAIN + 2) % 2 ? 1 : 2);
	tp = best_load(plain, &rp, &got);
	ok(got != NULL, "the plain file loads");
	tx = best_load(cfile, &rx, &got);
	ok(got != NULL, "the crafted file loads");
	tap_diag("records read: chain %llu, plain %llu, crafted %llu; CPU: chain %.4f s, plain %.4f s, crafted %.4f s",
		 (unsigned long long)rc, (unsigned long long)rp, (unsigned long long)rx, tc, tp, tx);
	/* a file without rollbacks is read once; one with them up to its first ROLLBACK, then twice */
	ok(rc <= 2 * 3 * (CHAIN + 2) && rc <= 2 * rp, "the chain reads at most twice its records and no more than "
	   "twice the plain file's (%llu, %llu)", (unsigned long long)rc, (unsigned long long)rp);
	ok(rx <= 2 * rp, "the crafted chain reads no more than twice the plain file's records (%llu)",
	   (unsigned long long)rx);
	ok(tc <= 5 * tp + 0.01 && tx <= 5 * tp + 0.01, "loading a chain costs no more than 5x a plain file of as many "
	   "generations (%.1fx, %.1fx)", tc / (tp > 0 ? tp : 1e-9), tx / (tp > 0 ? tp : 1e-9));

	/* every generation of the chain, in the middle too, is the state it names */
	for (g = 1, bad = 0; g <= CHAIN + 2; g += 97) {
		free(got);
		got = load(chain, g, NULL, NULL, err, sizeof err);
		if (!got || strcmp(got, g % 2 ? l1 : l2)) {
			tap_diag("generation %llu: %s", (unsigned long long)g, got ? "wrong state" : err);
			bad = 1;
		}
	}
	ok(!bad, "--at every 97th generation of the chain gives the state it rolled back to");
	free(got);
	free(l1);
	free(l2);
	rm_rf(up);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random saves and rollbacks (to any earlier generation); every generation checked at the end. */
static void test_random_tree(void)
{
	char up[256], file[256], f[300], err[512], *want[400] = { 0 }, *got;
	uint64_t s = 0x1234567, g;
	int i, bad = 0, nroll = 0;

	snprintf(up, sizeof up, "%s/rup", base);
	snprintf(file, sizeof file, "%s/tree.dat", base);
	mkdir(up, 0755);
	is_int(pf_create(file, 8 << 20, PC_NONE), 0, "tree file created");
	for (i = 0; i < 300 && !bad; i++) {
		uint64_t cur = newest(file);
		if (cur > 1 && rnd(&s) % 3 == 0) {
			uint64_t to = 1 + rnd(&s) % (cur - 1);
			bad = rollback(file, to) != 0;
			want[cur + 1] = want[to] ? strdup(want[to]) : NULL;
			nroll++;
			continue;
		}
		/* change the upper: a new file, a rewrite, a removal */
		snprintf(f, sizeof f, "%s/f%llu", up, (unsigned long long)(rnd(&s) % 12));
		if (rnd(&s) % 4 == 0)
			unlink(f);
		else
			put_file(f, "data-data-data", 1 + rnd(&s) % 14);
		if (save(file, up) < 0) {
			bad = 1;
			break;
		}
		if (newest(file) != cur)
			want[newest(file)] = upper_listing(up);
	}
	ok(!bad, "300 steps: saves and %d rollbacks to random earlier generations", nroll);
	for (g = 1, bad = 0; g <= newest(file) && g < 400; g++) {
		if (!want[g])
			continue;
		got = load(file, g, NULL, NULL, err, sizeof err);
		if (!got || strcmp(got, want[g])) {
			tap_diag("generation %llu: %s", (unsigned long long)g, got ? "wrong state" : err);
			bad = 1;
		}
		free(got);
	}
	ok(!bad, "each of %llu generations loads the state its save or rollback made",
	   (unsigned long long)newest(file));
	for (i = 0; i < 400; i++)
		free(want[i]);
	rm_rf(up);
}

/* An upper base/NAME holding the file a ("1"), and the save file's path base/FILE (f: a scratch path) */
static void small_upper(char up[256], char file[256], char f[300], const char *name, const char *fname)
{
	snprintf(up, 256, "%s/%s", base, name);
	snprintf(file, 256, "%s/%s", base, fname);
	mkdir(up, 0755);
	snprintf(f, 300, "%s/a", up);
	put_file(f, "1", 1);
}

/*
 * A COMMIT whose entry count or byte total is not what its generation's records make is refused,
 * in a file without rollbacks (read in one pass) and in one with (the tree's two passes): the
 * load falls back to the generation before it, whose state it gives.
 */
static void test_bad_commit(void)
{
	static const struct { uint32_t de; uint64_t db; int roll; const char *what; } c[] = {
		{ 1, 0, 0, "one entry more, no rollback" },
		{ 0, 1, 0, "one byte more, no rollback" },
		{ 1, 0, 1, "one entry more, after a rollback" },
		{ 0, 7, 1, "seven bytes more, after a rollback" },
	};
	char up[256], file[256], f[300], err[512], *got, *want;
	struct pfile pf;
	struct pstate st;
	size_t i;
	int r;

	small_upper(up, file, f, "bup", "bad.dat");
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		uint64_t g;
		pf_create(file, 4 << 20, PC_NONE);
		save(file, up);
		snprintf(f, sizeof f, "%s/b%zu", up, i);
		put_file(f, "22", 2);
		save(file, up);
		if (c[i].roll)
			rollback(file, 1);
		g = newest(file);
		ok(crafted(file, 0, c[i].de, c[i].db) == 0, "%s: the crafted save written", c[i].what);
		want = load(file, g, NULL, NULL, err, sizeof err);
		got = NULL;
		r = pf_open(&pf, file, 0);
		if (!r && (r = pf_load(&pf, UINT64_MAX, PCHECK_ALL, &st, NULL)) >= 0) {
			got = state_listing(&st);
			state_free(&st);
		}
		ok(r == 1 && strstr(pf.err.msg, "bad COMMIT"), "%s: refused (%d: %s)", c[i].what, r, pf.err.msg);
		ok(want && got && !strcmp(got, want), "%s: generation %llu before it loaded instead", c[i].what,
		   (unsigned long long)g);
		pf_close(&pf);
		free(got);
		free(want);
		unlink(file);
	}
	rm_rf(up);
}

/* A rollback's why (the init's --failed-boots) is in its generation of the log; a user's is 0, as
 * every other generation's. */
static void test_why(void)
{
	char up[256], file[256], f[300];
	struct pgenlist log = { 0 };
	struct save_result res;
	struct pstate st;
	struct pfile pf;
	int r;

	small_upper(up, file, f, "wup", "why.dat");
	pf_create(file, 4 << 20, PC_ZSTD);
	save(file, up);
	snprintf(f, sizeof f, "%s/b", up);
	put_file(f, "22", 2);
	save(file, up);
	r = pf_open(&pf, file, 1);
	if (!r)
		r = persist_rollback(&pf, 1, 3, &res);
	pf_close(&pf);
	ok(r == 0, "a rollback with why 3 written");
	rollback(file, 2);
	r = pf_open(&pf, file, 0);
	if (!r)
		r = pf_load(&pf, UINT64_MAX, PCHECK_META, &st, &log);
	ok(r == 0 && log.n == 4, "its file loads: 4 generations (%d, %zu)", r, log.n);
	if (r == 0 && log.n == 4) {
		ok(log.v[2].kind == TXN_ROLLBACK && log.v[2].target == 1 && log.v[2].why == 3,
		   "generation 3: the rollback to 1, why 3 (%u)", log.v[2].why);
		ok(log.v[3].kind == TXN_ROLLBACK && log.v[3].why == 0 && log.v[0].why == 0 && log.v[1].why == 0,
		   "the user's rollback and the saves: why 0");
		state_free(&st);
	}
	genlist_free(&log);
	pf_close(&pf);
	unlink(file);
	rm_rf(up);
}

int main(void)
{
	snprintf(base, sizeof base, "%s/persist-rb.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(base))
		return 1;
	test_chains();
	test_random_tree();
	test_bad_commit();
	test_why();
	rm_rf(base);
	return tap_done(0);
}
