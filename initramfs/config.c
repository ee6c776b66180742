/* config.c: the declared table of live.* kernel parameters and its parser. */
#include <stdio.h>
#include <string.h>
#include "cmdline.h"
#include "config.h"
#include "devspec.h"
#include "number.h"

typedef const char *(*setter)(struct config *c, const char *value);

struct param {
	const char *key;
	setter set;
	const char *help;
	int soft;	/* a bad value only warns (the feature stays off); the boot goes on */
};

static const char *copy_str(char *dst, size_t cap, const char *v)
{
	if (!v || !*v)
		return "needs a value";
	if (strlen(v) >= cap)
		return "value too long";
	memcpy(dst, v, strlen(v) + 1);
	return NULL;
}

/* A device as lib/devspec.h names one, kept as given. */
static const char *set_device(char *dst, size_t cap, const char *v)
{
	struct devspec d;
	const char *why = devspec_parse(v, &d);

	return why ? why : copy_str(dst, cap, v);
}

static const char *set_media(struct config *c, const char *v) { return set_device(c->media, sizeof c->media, v); }

static int has_dotdot(const char *v)
{
	for (const char *p = v; *p; ) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		p += strspn(p, "/");
	}
	return 0;
}

static const char *set_path(char *dst, size_t cap, const char *v)
{
	if (!v || v[0] != '/')
		return "expects an absolute path";
	if (has_dotdot(v))
		return "must not contain ..";
	return copy_str(dst, cap, v);
}

static const char *set_root(struct config *c, const char *v) { return set_path(c->root, sizeof c->root, v); }
static const char *set_init(struct config *c, const char *v) { return set_path(c->init, sizeof c->init, v); }

static const char *set_upper(struct config *c, const char *v)
{
	const char *why;

	if (v && !strcmp(v, "tmpfs")) {
		c->upper = UPPER_TMPFS;
		c->upper_spec[0] = '\0';
		return NULL;
	}
	if (v && !strncmp(v, "file:", 5)) {
		if ((why = set_path(c->upper_spec, sizeof c->upper_spec, v + 5)) != NULL)
			return why;
		c->upper = UPPER_FILE;
		return NULL;
	}
	if ((why = set_device(c->upper_spec, sizeof c->upper_spec, v)) != NULL)
		return v && (v[0] == '/' || strchr(v, '=')) ? why : "unknown upper (tmpfs, file:/PATH or " DEVSPEC_FORMS ")";
	c->upper = UPPER_DEVICE;
	return NULL;
}

static const char *set_data(struct config *c, const char *v) { return set_device(c->data, sizeof c->data, v); }

static const char *set_create(struct config *c, const char *v)
{
	c->upper_create = !v || strcmp(v, "0") != 0;
	return NULL;
}

/* A tmpfs size= for the upper: a percentage of RAM, or a size (lib/number.h), passed on in bytes. */
static const char *set_size(struct config *c, const char *v)
{
	char pct[4];
	size_t len = v ? strlen(v) : 0;
	uint64_t n;
	int r;

	if (!len)
		return "needs a value";
	if (v[len - 1] == '%') {
		if (len - 1 < sizeof pct) {
			memcpy(pct, v, len - 1);
			pct[len - 1] = '\0';
		}
		if (len - 1 >= sizeof pct || parse_u64(pct, &n) || n == 0 || n > 100)
			return "expects a percentage of RAM from 1% to 100%";
		return copy_str(c->size, sizeof c->size, v);
	}
	if ((r = parse_size(v, &n)) != 0)
		return size_why(r);
	if (n == 0)
		return "a size of 0";
	snprintf(c->size, sizeof c->size, "%llu", (unsigned long long)n);
	return NULL;
}

static const char *set_wait(struct config *c, const char *v)
{
	uint64_t n;

	if (!v || !*v)
		return "needs a number of seconds";
	if (parse_u64(v, &n) || n > 3600)
		return "expects seconds, 0 to 3600";
	c->wait = (unsigned)n;
	return NULL;
}

static const char *set_break(struct config *c, const char *v)
{
	if (!v || !*v)
		v = "switch";
	if (stage_known(v))
		return copy_str(c->brk, sizeof c->brk, v);
	return "unknown stage (see docs/kernel-parameters.md)";
}

/* [DEVICE:]/PATH, the device as live.media takes it; without one, the save file is on the medium. */
static const char *set_persist(struct config *c, const char *v)
{
	const char *sep;
	struct devspec d;

	if (!v || !*v)
		return "expects [LABEL=...:]/PATH of the save file";
	if (v[0] == '/') {
		c->persist_dev[0] = '\0';
		return set_path(c->persist_path, sizeof c->persist_path, v);
	}
	sep = strstr(v, ":/");
	if (!sep || (size_t)(sep - v) >= sizeof c->persist_dev)
		return "expects [LABEL=...:]/PATH of the save file";
	char dev[CONFIG_STR];
	memcpy(dev, v, (size_t)(sep - v));
	dev[sep - v] = '\0';
	if (devspec_parse(dev, &d))
		return "the device before ':' is " DEVSPEC_FORMS;
	const char *why = set_path(c->persist_path, sizeof c->persist_path, sep + 1);
	if (!why)
		memcpy(c->persist_dev, dev, strlen(dev) + 1);
	return why;
}

static const char *set_persist_at(struct config *c, const char *v)
{
	uint64_t n;

	if (parse_u64(v, &n) || n > 0x7fffffffULL)
		return "expects a generation number (persist log lists them)";
	c->persist_at = (long)n;
	return NULL;
}

/* A size as persist init --size takes it (the same parser); passed on as given. */
static const char *set_persist_size(struct config *c, const char *v)
{
	uint64_t n;
	int r;

	if ((r = parse_size(v, &n)) != 0)
		return size_why(r);
	if (n == 0)
		return "a size of 0";
	return copy_str(c->persist_size, sizeof c->persist_size, v);
}

/* An interval as systemd writes one: N with s, sec, m, min or h (seconds without); 0 is off. */
static const char *set_autosave(struct config *c, const char *v)
{
	static const struct { const char *unit; unsigned mult; } units[] = {
		{ "", 1 }, { "s", 1 }, { "sec", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 },
	};
	const char *why = "expects an interval such as 10min, 30s or 1h (0: off); autosave is off";
	const char *end;
	uint64_t n;

	c->autosave = 0;
	if (!v || parse_digits(v, &end, &n))
		return why;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strcmp(end, units[i].unit)) {
			if (n > 7 * 24 * 3600 / units[i].mult)
				return "an interval of more than a week; autosave is off";
			if (n && n * units[i].mult < 10)
				return "an interval below 10 s; autosave is off";
			c->autosave = (unsigned)(n * units[i].mult);
			return NULL;
		}
	return why;
}

static const char *set_toram(struct config *c, const char *v)
{
	c->toram = !v || strcmp(v, "0") != 0;
	return NULL;
}

static const char *set_verify(struct config *c, const char *v)
{
	if (!v || !strcmp(v, "1") || !strcmp(v, "yes"))
		c->verify = 1;
	else if (!strcmp(v, "warn"))
		c->verify = 2;
	else if (!strcmp(v, "0") || !strcmp(v, "no"))
		c->verify = 0;
	else
		return "expects nothing, warn or 0";
	return NULL;
}

/* Names of squashfs files beside live.root, comma-separated, bottom first. */
static const char *set_layers(struct config *c, const char *v)
{
	if (!v || !*v)
		return "expects file names, e.g. root.sqfs,apps.sqfs";
	for (const char *p = v; *p; p++)
		if (*p == '/' || *p == ' ')
			return "expects plain file names beside live.root, comma-separated";
	if (strstr(v, ",,") || v[0] == ',' || v[strlen(v) - 1] == ',' || strstr(v, ".."))
		return "expects file names, e.g. root.sqfs,apps.sqfs";
	return copy_str(c->layers, sizeof c->layers, v);
}

static const char *set_iso(struct config *c, const char *v) { return set_path(c->iso, sizeof c->iso, v); }

/* live.slot=A|B: boot that root image slot (docs/updates.md), whatever the slot record says. */
static const char *set_slot(struct config *c, const char *v)
{
	if (v && (!strcmp(v, "A") || !strcmp(v, "a")))
		c->slot = 0;
	else if (v && (!strcmp(v, "B") || !strcmp(v, "b")))
		c->slot = 1;
	else
		return "expects A or B";
	return NULL;
}

static const char *set_debug(struct config *c, const char *v)
{
	c->debug = !v || strcmp(v, "0") != 0;
	return NULL;
}

static const struct param params[] = {
	{ "live.media", set_media, "the medium: " DEVSPEC_FORMS, 0 },
	{ "live.root",  set_root,  "the squashfs on the medium", 0 },
	{ "live.upper", set_upper, "the writable layer: tmpfs, an ext4 partition, or file:/PATH on the medium", 0 },
	{ "live.upper.create", set_create, "format a disk upper (partition or file:) that holds no file system", 0 },
	{ "live.data", set_data, "an ext4 partition mounted on /run/live/data for the live system", 0 },
	{ "live.size",  set_size,  "size of a tmpfs upper (tmpfs size=)", 0 },
	{ "live.wait",  set_wait,  "seconds to wait for the medium", 0 },
	{ "live.init",  set_init,  "the root's init", 0 },
	{ "live.break", set_break, "open the rescue shell before a stage", 0 },
	{ "live.debug", set_debug, "echo every log line on the console", 0 },
	{ "live.persist", set_persist, "the save file to restore into the tmpfs upper: [DEVICE:]/PATH", 0 },
	{ "live.persist.at", set_persist_at, "restore this generation instead of the newest", 0 },
	{ "live.persist.size", set_persist_size, "the size of a save file the shutdown creates (persist init --size)", 0 },
	{ "live.persist.autosave", set_autosave, "save every interval too (10min, 30s, 1h; 0 or unset: off)", 1 },
	{ "live.toram", set_toram, "copy the layers into RAM; the medium can then be removed", 0 },
	{ "live.verify", set_verify, "check each layer against live/SHA256SUMS (=warn: boot anyway)", 0 },
	{ "live.layers", set_layers, "the layers beside live.root, bottom first", 0 },
	{ "live.iso", set_iso, "the layers are inside this ISO file on the medium", 0 },
	{ "live.slot", set_slot, "boot root image slot A (live.root) or B (its -b.sqfs), whatever live/slots says", 1 },
};

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->media, "LABEL=OVERLIVE");
	strcpy(c->root, "/live/root.sqfs");
	c->upper = UPPER_TMPFS;
	strcpy(c->size, "50%");
	c->wait = 30;
	strcpy(c->init, "/sbin/init");
	c->persist_at = -1;
	c->slot = -1;
}

/*
 * Words a boot entry written for an older overlive may carry: each still works as its new name,
 * with a warning that names the new one. A NULL old value stands for any value (kept as given).
 */
static const struct renamed {
	const char *key, *value;        /* the old word */
	const char *now_key, *now_value;
	const char *why;
} renamed[] = {
	{ "live.persist.create", NULL, "live.upper.create", NULL,
	  "renamed live.upper.create (it formats the disk upper, not the save file); still works" },
	{ "live.break", "media", "live.break", "find-medium", "the stage is now find-medium; still works" },
	{ "live.break", "medium", "live.break", "mount-medium", "the stage is now mount-medium; still works" },
};

static const struct renamed *renamed_word(const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
		if (!strcmp(key, renamed[i].key) && (!renamed[i].value || (value && !strcmp(value, renamed[i].value))))
			return &renamed[i];
	return NULL;
}

static void add_issue(struct config_result *res, const char *word, const char *why, int fatal)
{
	if (res->n >= CONFIG_MAX_ISSUES)
		return;
	snprintf(res->issue[res->n].word, sizeof res->issue[res->n].word, "%s", word);
	res->issue[res->n].why = why;
	res->issue[res->n].fatal = fatal;
	res->n++;
}

int config_parse(struct config *c, const char *cmdline, struct config_result *res)
{
	char word[CONFIG_STR + 32], copy[sizeof word], *key, *value;
	int r, fatal = 0;

	res->n = 0;
	while ((r = cmdline_next(&cmdline, word, sizeof word)) != 0) {
		if (r < 0) {
			if (!strncmp(word, "live.", 5)) {
				add_issue(res, word, "word too long", 1);
				fatal++;
			}
			continue;
		}
		memcpy(copy, word, sizeof word);
		cmdline_split(word, &key, &value);
		if (strncmp(key, "live.", 5))
			continue;
		const struct renamed *rn = renamed_word(key, value);
		if (rn) {
			add_issue(res, copy, rn->why, 0);
			key = (char *)rn->now_key;
			if (rn->now_value)
				value = (char *)rn->now_value;
		}
		size_t i;
		for (i = 0; i < sizeof params / sizeof params[0]; i++)
			if (!strcmp(key, params[i].key))
				break;
		if (i == sizeof params / sizeof params[0]) {
			add_issue(res, copy, "unknown parameter, ignored", 0);
			continue;
		}
		const char *why = params[i].set(c, value);
		if (why) {
			add_issue(res, copy, why, !params[i].soft);
			fatal += !params[i].soft;
		}
	}
	return fatal;
}
