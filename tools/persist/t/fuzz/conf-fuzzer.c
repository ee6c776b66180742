/*
 * conf-fuzzer.c: the libFuzzer harness of the save file's neighbours: "conf" reads the input as
 * persist.conf (include/exclude patterns, patterns_load) and asks patterns_want of a few paths;
 * "env" reads it as /run/live/persist.env (live_env_load). Properties (docs/fuzzing.md): a
 * refusal always says why (err names the file); what is read is NUL-terminated inside its field;
 * the same text gives the same answers twice.
 */
#include "fuzz.h"
#include "helpers.h"

const char *fuzz_modes[] = { "conf", "env", NULL };

static const char *base;
static char savefile[160], conf[176], env[160];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	base = sandbox_dir("conf-fuzzer");
	snprintf(savefile, sizeof savefile, "%s/persist.dat", base);
	snprintf(conf, sizeof conf, "%s/persist.dat.conf", base);
	snprintf(env, sizeof env, "%s/persist.env", base);
	return 0;
}

static const char *const paths[] = { ".", "etc", "etc/hostname", "home/user/.cache/x", "var/log/syslog", "a/b/c/d" };
#define NPATHS (sizeof paths / sizeof paths[0])

/* One reading of conf: the result, the pattern counts, and the answer for each path. */
struct conf_verdict {
	int r;
	size_t ninc, nexc;
	int want[NPATHS];
};

static struct conf_verdict read_conf(void)
{
	struct conf_verdict v;
	struct patterns p;
	struct perr err = { "" };

	memset(&v, 0, sizeof v);
	v.r = patterns_load(savefile, &p, &err);
	fuzz_assert(v.r <= 0, "patterns_load returned %d", v.r);
	if (v.r == 0) {
		v.ninc = p.ninc;
		v.nexc = p.nexc;
		for (size_t i = 0; i < NPATHS; i++)
			v.want[i] = patterns_want(&p, paths[i]);
		patterns_free(&p);
	} else if (v.r == -EINVAL) {
		fuzz_assert(strstr(err.msg, conf) != NULL, "a refused persist.conf without its name in the why: '%s'", err.msg);
	}
	return v;
}

static int read_env(struct live_env *e)
{
	struct perr err = { "" };
	int r = live_env_load(env, e, &err);

	if (r == -EINVAL)
		fuzz_assert(strstr(err.msg, env) != NULL, "a refused persist.env without its name in the why: '%s'", err.msg);
	fuzz_assert(memchr(e->file, 0, sizeof e->file) && memchr(e->upper, 0, sizeof e->upper) &&
		    memchr(e->lower, 0, sizeof e->lower), "a persist.env value without its NUL");
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int mode = fuzz_mode();
	int fd;

	if (size > 1u << 20)
		return 0;
	fd = open(mode == 0 ? conf : env, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write_all(fd, data, size))
		abort();
	close(fd);
	if (mode == 0) {
		struct conf_verdict a = read_conf(), b = read_conf();
		fuzz_assert(memcmp(&a, &b, sizeof a) == 0, "the same persist.conf read two ways (%d, then %d)", a.r, b.r);
	} else {
		static struct live_env a, b;
		int ra = read_env(&a), rb = read_env(&b);
		fuzz_assert(ra == rb && memcmp(&a, &b, sizeof a) == 0, "the same persist.env read two ways (%d, then %d)", ra, rb);
	}
	return 0;
}
