/* spec.c: reads spec lines (dir, file, slink, nod, tree) into entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mkcpio.h"
#include "number.h"

enum { MAX_FIELDS = 9 };

struct line_ctx {
	struct mkcpio *st;
	const char *spec;
	unsigned line;
	char *f[MAX_FIELDS];
	int nf;
};

/* A file mode: octal digits (the spec format's rule, as gen_init_cpio's), at most 07777. */
static int parse_mode(struct line_ctx *c, const char *s, uint32_t *out)
{
	uint32_t v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '7' && v <= 07777; p++)
		v = v * 8 + (uint32_t)(*p - '0');
	if (p == s || *p || v > 07777) {
		snprintf(c->st->why, sizeof c->st->why, "mode '%s' is not an octal number up to %o",
			 s, 07777u);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* A decimal number (lib/number.h's rule), at most max. */
static int parse_dec(struct line_ctx *c, const char *s, uint32_t max, const char *what,
		     uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) || v > max) {
		snprintf(c->st->why, sizeof c->st->why, "%s '%s' is not a decimal number up to %u",
			 what, s, (unsigned)max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* MODE UID GID at fields i, i+1, i+2. */
static int parse_owner_mode(struct line_ctx *c, int i, struct entry *e)
{
	uint32_t mode = 0;
	int err;

	err = parse_mode(c, c->f[i], &mode);
	if (!err)
		err = parse_dec(c, c->f[i + 1], UINT32_MAX, "uid", &e->uid);
	if (!err)
		err = parse_dec(c, c->f[i + 2], UINT32_MAX, "gid", &e->gid);
	e->mode |= mode;
	return err;
}

static int add_checked(struct line_ctx *c, struct entry *e, char *path)
{
	int err = mk_norm_path(c->st, c->f[1], path);

	if (err)
		return err;
	e->path = path;
	e->spec = c->spec;
	e->line = c->line;
	return mk_add(c->st, e);
}

static int do_dir(struct line_ctx *c)
{
	struct entry e = { .mode = S_IFDIR };
	char path[MKCPIO_MAX_PATH + 1];

	int err = parse_owner_mode(c, 2, &e);

	return err ? err : add_checked(c, &e, path);
}

static int do_file(struct line_ctx *c)
{
	struct entry e = { .mode = S_IFREG, .src = c->f[2] };
	char path[MKCPIO_MAX_PATH + 1];

	int err = parse_owner_mode(c, 3, &e);

	return err ? err : add_checked(c, &e, path);
}

static int do_slink(struct line_ctx *c)
{
	struct entry e = { .mode = S_IFLNK, .src = c->f[2] };
	char path[MKCPIO_MAX_PATH + 1];

	if (strlen(c->f[2]) > MKCPIO_MAX_PATH) {
		snprintf(c->st->why, sizeof c->st->why, "symlink target longer than %d bytes",
			 MKCPIO_MAX_PATH);
		return -ENAMETOOLONG;
	}
	int err = parse_owner_mode(c, 3, &e);

	return err ? err : add_checked(c, &e, path);
}

static int do_nod(struct line_ctx *c)
{
	struct entry e = { 0 };
	char path[MKCPIO_MAX_PATH + 1];
	int err;

	if (!strcmp(c->f[5], "c")) {
		e.mode = S_IFCHR;
	} else if (!strcmp(c->f[5], "b")) {
		e.mode = S_IFBLK;
	} else {
		snprintf(c->st->why, sizeof c->st->why, "device type '%s' is not c or b", c->f[5]);
		return -EINVAL;
	}
	/* the kernel's dev_t: 12 bits of major, 20 of minor */
	err = parse_owner_mode(c, 2, &e);
	if (!err)
		err = parse_dec(c, c->f[6], 4095, "major", &e.rmajor);
	if (!err)
		err = parse_dec(c, c->f[7], (1u << 20) - 1, "minor", &e.rminor);
	return err ? err : add_checked(c, &e, path);
}

static int do_tree(struct line_ctx *c)
{
	char path[MKCPIO_MAX_PATH + 1];
	const char *p = c->f[1];

	/* "tree / DIR" fills the root itself */
	while (*p == '/')
		p++;
	if (!*p)
		path[0] = '\0';
	else if (mk_norm_path(c->st, c->f[1], path))
		return -EINVAL;
	return mk_add_tree(c->st, path, c->f[2], c->spec, c->line);
}

static const struct {
	const char *word;
	int nargs;
	const char *usage;
	int (*fn)(struct line_ctx *c);
} kinds[] = {
	{ "dir", 4, "dir PATH MODE UID GID", do_dir },
	{ "file", 5, "file PATH SRC MODE UID GID", do_file },
	{ "slink", 5, "slink PATH TARGET MODE UID GID", do_slink },
	{ "nod", 7, "nod PATH MODE UID GID c|b MAJOR MINOR", do_nod },
	{ "tree", 2, "tree PATH SRCDIR", do_tree },
};

/* Splits a line on blanks; a field starting with '#' starts a comment. */
static int split(struct line_ctx *c, char *s)
{
	c->nf = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s || *s == '#')
			return 0;
		if (c->nf == MAX_FIELDS) {
			snprintf(c->st->why, sizeof c->st->why, "more than %d fields", MAX_FIELDS - 1);
			return -EINVAL;
		}
		c->f[c->nf++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static int do_line(struct line_ctx *c, char *s)
{
	int err = split(c, s);

	if (err || !c->nf)
		return err;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(c->f[0], kinds[i].word))
			continue;
		if (c->nf - 1 != kinds[i].nargs) {
			snprintf(c->st->why, sizeof c->st->why, "%s takes %d fields: %s", kinds[i].word,
				 kinds[i].nargs, kinds[i].usage);
			return -EINVAL;
		}
		return kinds[i].fn(c);
	}
	snprintf(c->st->why, sizeof c->st->why, "unknown entry type '%s' (dir, file, slink, nod, tree)",
		 c->f[0]);
	return -EINVAL;
}

int mk_read_spec(struct mkcpio *st, FILE *f, const char *name)
{
	struct line_ctx c = { .st = st, .spec = name };
	char *buf = malloc(MKCPIO_MAX_LINE + 2);
	char msg[sizeof st->why + 300];
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (fgets(buf, MKCPIO_MAX_LINE + 2, f)) {
		c.line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			snprintf(st->why, sizeof st->why, "line longer than %d bytes", MKCPIO_MAX_LINE);
			err = -E2BIG;
		} else {
			err = do_line(&c, buf);
		}
		if (err) {
			/* name the place in front of the reason */
			size_t n = (size_t)snprintf(msg, sizeof msg, "%s line %u: %s", name, c.line, st->why);
			if (n >= sizeof st->why)
				n = sizeof st->why - 1;
			memcpy(st->why, msg, n);
			st->why[n] = '\0';
			goto out;
		}
	}
	if (ferror(f)) {
		err = -EIO;
		snprintf(st->why, sizeof st->why, "%s: read error", name);
	}
out:
	free(buf);
	return err;
}
