/* tools/persist/t/config.c: persist.env and the patterns file: a line is read whole or refused. */
#include <fnmatch.h>
#include "helpers.h"
#include "tap.h"

static char dir[] = "/tmp/persist-config-XXXXXX";

static void put_text(const char *name, const char *text, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	put_file(path, text, strlen(text));
}

/* KEY= and a value of n bytes of fill, then tail, as one line. */
static char *long_line(const char *key, size_t n, const char *tail)
{
	size_t k = strlen(key), t = strlen(tail);
	char *s = malloc(k + n + t + 2);

	memcpy(s, key, k);
	memset(s + k, 'a', n);
	memcpy(s + k + n, tail, t);
	memcpy(s + k + n + t, "\n", 2);
	return s;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The rule as docs/persist.md states it, by brute force: does a pattern match path or a prefix of it ending at a '/'? */
static int oracle_match(char **v, size_t n, const char *path)
{
	char buf[512];
	size_t i, k;

	snprintf(buf, sizeof buf, "%s", path);
	for (k = strlen(buf); k > 0; k--) {
		if (buf[k] != 0 && buf[k] != '/')
			continue;
		char c = buf[k];
		buf[k] = 0;
		for (i = 0; i < n; i++)
			if (fnmatch(v[i], buf, 0) == 0)
				return 1;
		buf[k] = c;
	}
	return 0;
}

static int oracle_want(const struct patterns *p, const char *path)
{
	return (!p->ninc || oracle_match(p->inc, p->ninc, path)) && !oracle_match(p->exc, p->nexc, path);
}

/*
 * The scan against the rule: random trees and patterns; the scan keeps exactly the wanted paths
 * and the ancestors of wanted paths (the brute force above decides which), and patterns_want
 * agrees with the brute force on every path.
 */
static void test_scan_patterns(void)
{
	static const char *const names[] = { "etc", "a.cache", "x", "log", "keep", "b" };
	static const char *const pats[] = { "etc", "*.cache", "etc/x", "*/log", "x*", "keep", "*/b/*", "a.cache/x" };
	char up[256], conf[320], file[300], paths[64][128];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int round, bad = 0, badwant = 0, np;

	snprintf(up, sizeof up, "%s/sp", dir);
	snprintf(file, sizeof file, "%s/sp.dat", dir);
	snprintf(conf, sizeof conf, "%s.conf", file);
	for (round = 0; round < 200; round++) {
		struct patterns pat;
		struct perr pe;
		struct scan sc;
		FILE *f = fopen(conf, "w");
		int i, j;
		rm_rf(up);
		mkdir(up, 0755);
		for (i = 0; i < (int)(rnd(&x) % 4); i++)
			fprintf(f, "include %s\n", pats[rnd(&x) % 8]);
		for (i = 0; i < (int)(rnd(&x) % 4); i++)
			fprintf(f, "exclude %s\n", pats[rnd(&x) % 8]);
		fclose(f);
		if (patterns_load(file, &pat, &pe)) {
			bad = 1;
			break;
		}
		/* a tree: each new path a child of an earlier directory (or the top), files at the leaves */
		np = 0;
		for (i = 0; i < 24; i++) {
			int parent = np && rnd(&x) % 4 ? (int)(rnd(&x) % (uint64_t)np) : -1;
			char p[300], *pp = parent < 0 ? "" : paths[parent];
			struct stat st;
			snprintf(paths[np], sizeof paths[np], "%s%s%s", pp, *pp ? "/" : "", names[rnd(&x) % 6]);
			if (parent >= 0) {	/* only under a directory */
				snprintf(p, sizeof p, "%s/%s", up, pp);
				if (stat(p, &st) || !S_ISDIR(st.st_mode))
					continue;
			}
			snprintf(p, sizeof p, "%s/%s", up, paths[np]);
			if (lstat(p, &st) == 0)
				continue;
			if (rnd(&x) % 3)
				mkdir(p, 0755);
			else
				put_file(p, "f", 1);
			np++;
		}
		if (scan_upper(up, &pat, NULL, &sc)) {
			bad = 1;
			patterns_free(&pat);
			break;
		}
		for (i = 0; i < np; i++) {
			int kept = 0, want = oracle_want(&pat, paths[i]);
			size_t n = strlen(paths[i]), k;
			for (j = 0; j < np && !want; j++)	/* an ancestor of a wanted path is kept */
				want = !strncmp(paths[j], paths[i], n) && paths[j][n] == '/' && oracle_want(&pat, paths[j]);
			for (k = 0; k < sc.n; k++)
				kept |= !strcmp(sc.v[k].path, paths[i]);
			if (kept != want && !bad) {
				tap_diag("round %d: %s %s, the rule says %s", round, paths[i], kept ? "kept" : "dropped",
					 want ? "keep" : "drop");
				bad = 1;
			}
			if (patterns_want(&pat, paths[i]) != oracle_want(&pat, paths[i]))
				badwant = 1;
		}
		scan_free(&sc);
		patterns_free(&pat);
		if (bad)
			break;
	}
	ok(!bad, "200 random trees and pattern files: the scan keeps the paths the rule wants and their ancestors");
	ok(!badwant, "  and patterns_want agrees with the rule on every path");
	unlink(conf);
	rm_rf(up);
}

int main(void)
{
	struct live_env env;
	struct patterns pat;
	char path[512], file[512], *text, *s;
	struct perr pe;

	if (!mkdtemp(dir))
		return tap_done(0);

	put_text("good.env", "# written by the init\nPERSIST_FILE=/run/live/medium/persist.dat\n"
		   "PERSIST_UPPER='/run/live/upper/upper'\r\nPERSIST_LOWER=\"/live/root.sqfs\"\n"
		   "PERSIST_SIZE=64M\nnot a setting\n\nOTHER=x", path, sizeof path);
	is_int(live_env_load(path, &env, &pe), 0, "a good persist.env");
	is_str(env.file, "/run/live/medium/persist.dat", "  PERSIST_FILE");
	is_str(env.upper, "/run/live/upper/upper", "  PERSIST_UPPER, quotes and CR removed");
	is_str(env.lower, "/live/root.sqfs", "  PERSIST_LOWER");
	snprintf(path, sizeof path, "%s/none.env", dir);
	is_int(live_env_load(path, &env, &pe), -ENOENT, "a missing persist.env is -ENOENT");

	/*
	 * A 5000-byte PERSIST_UPPER line. Read through a 4200-byte buffer, its tail from byte 4199 was
	 * a line of its own: PERSIST_FILE=/evil//// (the slashes pad it to 5000; the same file).
	 */
	text = malloc(6000);
	strcpy(text, "PERSIST_FILE=/good.dat\nPERSIST_UPPER=/");
	s = text + strlen("PERSIST_FILE=/good.dat\n");
	memset(s + 15, 'a', 4199 - 15);
	memcpy(s + 4199, "PERSIST_FILE=/evil", 18);
	memset(s + 4199 + 18, '/', 5000 - 4199 - 18);
	strcpy(s + 5000, "\n");
	put_text("long.env", text, path, sizeof path);
	pe.msg[0] = 0;
	is_int(live_env_load(path, &env, &pe), -EINVAL, "a 5000-byte line is an error");
	ok(strstr(pe.msg, path) && strstr(pe.msg, ":2:") && strstr(pe.msg, "longer than"), "  naming the file and line: %s", pe.msg);
	ok(strncmp(env.file, "/evil", 5) != 0 && !env.file[0], "  PERSIST_FILE is not /evil (nothing is kept)");
	free(text);

	/* a value that fits the line but not its field: an error, not a shorter value */
	s = long_line("PERSIST_LOWER=/", 4100, "");
	put_text("value.env", s, path, sizeof path);
	is_int(live_env_load(path, &env, &pe), -EINVAL, "a 4101-byte value is an error");
	ok(strstr(pe.msg, ":1:") && strstr(pe.msg, "PERSIST_LOWER is longer than 4095"), "  %s", pe.msg);
	free(s);
	s = long_line("PERSIST_UPPER=/", 4094, "");
	put_text("max.env", s, path, sizeof path);
	is_int(live_env_load(path, &env, &pe), 0, "a 4095-byte value fits");
	is_int(strlen(env.upper), 4095, "  whole");
	free(s);
	snprintf(path, sizeof path, "%s/nul.env", dir);
	put_file(path, "PERSIST_FILE=/a\0/evil\n", 22);
	is_int(live_env_load(path, &env, &pe), -EINVAL, "a NUL byte is an error");

	/* patterns: the same reader */
	snprintf(file, sizeof file, "%s/p.dat", dir);
	s = long_line("exclude ", 5000, "\ninclude etc");
	s[8 + 5000] = 'x';	/* one line */
	put_text("p.dat.conf", s, path, sizeof path);
	is_int(patterns_load(file, &pat, &pe), -EINVAL, "a 5000-byte pattern line is an error");
	ok(strstr(pe.msg, "p.dat.conf:1:") && strstr(pe.msg, "longer than"), "  naming the file and line: %s", pe.msg);
	ok(pat.ninc == 0 && pat.nexc == 0, "  and no patterns are kept");
	free(s);
	put_text("p.dat.conf", "# ok\r\ninclude etc\r\n\nexclude *.cache", path, sizeof path);
	is_int(patterns_load(file, &pat, &pe), 0, "CRLF lines, no final newline");
	ok(pat.ninc == 1 && pat.nexc == 1 && !strcmp(pat.inc[0], "etc") && !strcmp(pat.exc[0], "*.cache"),
	   "  include etc, exclude *.cache");
	patterns_free(&pat);
	test_scan_patterns();
	rm_rf(dir);
	return tap_done(0);
}
