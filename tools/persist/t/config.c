/* tools/persist/t/config.c: persist.env and the patterns file: a line is read whole or refused. */
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
	rm_rf(dir);
	return tap_done(0);
}
