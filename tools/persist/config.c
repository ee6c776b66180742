/* config.c: include/exclude lists beside the save file, /run/live/persist.env, the lower's identity. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crc32c.h"
#include "io.h"
#include "persist.h"
#include "vec.h"

#define CONF_MAX_PATTERNS 4096
/* A line of persist.env or a patterns file, with its NUL: a word or key, and a path (or pattern). */
#define CONF_LINE_MAX (PF_PATH_MAX + 1 + 64)

/*
 * One line of f into buf (cap bytes), without its newline, NUL-terminated: 1, 0 at the end of the
 * file, -E2BIG when it does not fit, -EINVAL for a NUL byte, -errno for a read error. A line that
 * does not fit is never split into two: its tail would be read as a line of its own.
 */
static int next_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == 0)
			return -EINVAL;
		if (n + 1 >= cap)
			return -E2BIG;
		buf[n++] = (char)ch;
	}
	if (ch == EOF && ferror(f))
		return errno ? -errno : -EIO;
	if (ch == EOF && n == 0)
		return 0;
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = 0;
	return 1;
}

/* Why next_line refused line lineno of path, into err; the error for the caller (-EINVAL). */
static int line_error(int r, const char *path, int lineno, size_t cap, struct perr *err)
{
	if (r == -E2BIG)
		return perr_set(err, -EINVAL, "%s:%d: the line is longer than %zu bytes", path, lineno, cap - 1);
	if (r == -EINVAL)
		return perr_set(err, -EINVAL, "%s:%d: the line holds a NUL byte", path, lineno);
	return r;
}

static int add(char ***v, size_t *n, size_t *cap, const char *s)
{
	int r;

	if (*n >= CONF_MAX_PATTERNS)
		return -E2BIG;
	if ((r = vec_reserve((void **)v, cap, *n, sizeof **v, 8)))
		return r;
	while (*s == '/')
		s++;
	(*v)[*n] = strdup(s);
	if (!(*v)[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/*
 * FILE.conf, else persist.conf in FILE's directory; neither is fine (everything is saved).
 * Lines: "include PATTERN", "exclude PATTERN", "# comment", blank.
 */
int patterns_load(const char *savefile, struct patterns *p, struct perr *err)
{
	char path[PF_PATH_MAX + 16], line[CONF_LINE_MAX], *d;
	FILE *f;
	int r = 0, got, lineno = 0;

	memset(p, 0, sizeof *p);
	snprintf(path, sizeof path, "%s.conf", savefile);
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		char *copy = strdup(savefile);
		if (!copy)
			return -ENOMEM;
		d = dirname(copy);
		snprintf(path, sizeof path, "%s/persist.conf", d);
		free(copy);
		f = fopen(path, "re");
	}
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (got = next_line(f, line, sizeof line)) != 0) {
		char *s = line, *arg;
		lineno++;
		if (got < 0) {
			r = line_error(got, path, lineno, sizeof line, err);
			break;
		}
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			continue;
		arg = s + strcspn(s, " \t");
		if (*arg)
			*arg++ = 0;
		arg += strspn(arg, " \t");
		if (!*arg) {
			r = perr_set(err, -EINVAL, "%s:%d: a pattern is missing", path, lineno);
		} else if (strcmp(s, "include") == 0) {
			r = add(&p->inc, &p->ninc, &p->capinc, arg);
		} else if (strcmp(s, "exclude") == 0) {
			r = add(&p->exc, &p->nexc, &p->capexc, arg);
		} else {
			r = perr_set(err, -EINVAL, "%s:%d: unknown word '%s' (include or exclude)", path, lineno, s);
		}
		if (r == -E2BIG)
			perr_set(err, r, "%s:%d: more than %d patterns", path, lineno, CONF_MAX_PATTERNS);
	}
	fclose(f);
	if (r)
		patterns_free(p);
	return r;
}

void patterns_free(struct patterns *p)
{
	size_t i;

	for (i = 0; i < p->ninc; i++)
		free(p->inc[i]);
	for (i = 0; i < p->nexc; i++)
		free(p->exc[i]);
	free(p->inc);
	free(p->exc);
	memset(p, 0, sizeof *p);
}

/* Does one of the n patterns v match path itself? */
static int match_one(char **v, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(v[i], path, 0) == 0)
			return 1;
	return 0;
}

/*
 * What the patterns say of path given what they said of its parent (0 for a top-level path):
 * PAT_INC when an include pattern matches it or an ancestor, PAT_EXC the same for exclude. Only
 * path itself is matched: a walk of the tree pays for each entry once, not for every ancestor.
 */
unsigned patterns_step(const struct patterns *p, const char *path, unsigned parent)
{
	if (!p)
		return 0;
	if (!(parent & PAT_INC) && match_one(p->inc, p->ninc, path))
		parent |= PAT_INC;
	if (!(parent & PAT_EXC) && match_one(p->exc, p->nexc, path))
		parent |= PAT_EXC;
	return parent;
}

/* Saved when no include list or it (or an ancestor) is included, and nothing excludes it. */
int patterns_wanted(const struct patterns *p, unsigned v)
{
	return !p || ((!p->ninc || (v & PAT_INC)) && !(v & PAT_EXC));
}

/* patterns_wanted of path, its ancestors stepped through from the top. */
int patterns_want(const struct patterns *p, const char *path)
{
	char buf[PF_PATH_MAX + 1];
	size_t len = strlen(path), i;
	unsigned v = 0;

	if (len > PF_PATH_MAX)
		return patterns_wanted(p, 0);	/* (longer than a saved path can be: matched by nothing) */
	memcpy(buf, path, len + 1);
	for (i = 1; i < len; i++)
		if (buf[i] == '/') {
			buf[i] = 0;
			v = patterns_step(p, buf, v);
			buf[i] = '/';
		}
	return patterns_wanted(p, patterns_step(p, buf, v));
}

/* The lower image's identity: its size and the CRC32C of its first 64 KiB. */
int lower_identify(const char *path, struct lower_id *id)
{
	unsigned char buf[65536];
	struct stat st;
	size_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = pread_all(fd, buf, sizeof buf, 0, &got);
	close(fd);
	if (r)
		return r;
	id->size = S_ISBLK(st.st_mode) ? 0 : (uint64_t)st.st_size;
	if (!id->size)
		id->size = got;
	id->crc = crc32c(0, buf, got);
	return 0;
}

/*
 * KEY=VALUE lines (PERSIST_FILE, PERSIST_UPPER, PERSIST_LOWER); optional quotes; '#' lines, lines
 * without '=' and unknown keys ignored. A line too long to read whole, or a value too long for its
 * field, is an error naming the file and line (-EINVAL, err says which): never a shorter value.
 */
int live_env_load(const char *path, struct live_env *env, struct perr *err)
{
#define ENV_KEY(name, field) { name, offsetof(struct live_env, field), sizeof env->field }
	const struct {
		const char *key;
		size_t off, cap;
	} keys[] = {
		ENV_KEY("PERSIST_FILE", file),
		ENV_KEY("PERSIST_UPPER", upper),
		ENV_KEY("PERSIST_LOWER", lower),
	};
#undef ENV_KEY
	char line[CONF_LINE_MAX];
	FILE *f = fopen(path, "re");
	int got, lineno = 0, r = 0;

	memset(env, 0, sizeof *env);
	if (!f)
		return -errno;
	while (!r && (got = next_line(f, line, sizeof line)) != 0) {
		char *eq = strchr(line, '='), *v;
		size_t i, n;
		lineno++;
		if (got < 0) {
			r = line_error(got, path, lineno, sizeof line, err);
			break;
		}
		if (!eq || line[0] == '#')
			continue;
		*eq = 0;
		v = eq + 1;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
			n -= 2;
		}
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			if (strcmp(line, keys[i].key) != 0)
				continue;
			if (n >= keys[i].cap) {
				r = perr_set(err, -EINVAL, "%s:%d: %s is longer than %zu bytes", path, lineno,
					     line, keys[i].cap - 1);
				break;
			}
			memcpy((char *)env + keys[i].off, v, n + 1);
		}
	}
	fclose(f);
	if (r)
		memset(env, 0, sizeof *env);
	return r;
}
