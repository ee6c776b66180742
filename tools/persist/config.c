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

#define CONF_MAX_PATTERNS 4096

static int add(char ***v, size_t *n, const char *s)
{
	char **nv;

	if (*n >= CONF_MAX_PATTERNS)
		return -E2BIG;
	nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	while (*s == '/')
		s++;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/*
 * FILE.conf, else persist.conf in FILE's directory; neither is fine (everything is saved).
 * Lines: "include PATTERN", "exclude PATTERN", "# comment", blank.
 */
int patterns_load(const char *savefile, struct patterns *p, char *err, size_t errlen)
{
	char path[4096 + 16], line[4096 + 16], *d;
	FILE *f;
	int r = 0, lineno = 0;

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
	while (fgets(line, sizeof line, f) && !r) {
		char *s = line, *arg;
		lineno++;
		s[strcspn(s, "\r\n")] = 0;
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			continue;
		arg = s + strcspn(s, " \t");
		if (*arg)
			*arg++ = 0;
		arg += strspn(arg, " \t");
		if (!*arg) {
			snprintf(err, errlen, "%s:%d: a pattern is missing", path, lineno);
			r = -EINVAL;
		} else if (strcmp(s, "include") == 0) {
			r = add(&p->inc, &p->ninc, arg);
		} else if (strcmp(s, "exclude") == 0) {
			r = add(&p->exc, &p->nexc, arg);
		} else {
			snprintf(err, errlen, "%s:%d: unknown word '%s' (include or exclude)", path, lineno, s);
			r = -EINVAL;
		}
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

/* Does a pattern match path or one of its ancestors? */
static int match_any(char **v, size_t n, const char *path)
{
	char buf[PF_PATH_MAX + 1];
	size_t i, len = strlen(path);

	if (len > PF_PATH_MAX)
		return 0;
	memcpy(buf, path, len + 1);
	for (;;) {
		for (i = 0; i < n; i++)
			if (fnmatch(v[i], buf, 0) == 0)
				return 1;
		char *s = strrchr(buf, '/');
		if (!s)
			return 0;
		*s = 0;
	}
}

/* Saved when no include list or it (or an ancestor) is included, and nothing excludes it. */
int patterns_want(const struct patterns *p, const char *path)
{
	if (!p)
		return 1;
	if (p->ninc && !match_any(p->inc, p->ninc, path))
		return 0;
	return !match_any(p->exc, p->nexc, path);
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

/* KEY=VALUE lines (PERSIST_FILE, PERSIST_UPPER, PERSIST_LOWER); optional quotes; unknown keys ignored. */
int live_env_load(const char *path, struct live_env *env)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "PERSIST_FILE", offsetof(struct live_env, file) },
		{ "PERSIST_UPPER", offsetof(struct live_env, upper) },
		{ "PERSIST_LOWER", offsetof(struct live_env, lower) },
	};
	char line[4200];
	FILE *f = fopen(path, "re");

	memset(env, 0, sizeof *env);
	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		char *eq = strchr(line, '='), *v;
		size_t i, n;
		if (!eq || line[0] == '#')
			continue;
		*eq = 0;
		v = eq + 1;
		v[strcspn(v, "\r\n")] = 0;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(line, keys[i].key) == 0)
				snprintf((char *)env + keys[i].off, sizeof env->file, "%s", v);
	}
	fclose(f);
	return 0;
}
