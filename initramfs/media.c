/* media.c: finds the live medium among the block devices, by superblock, waiting for late ones. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "init.h"
#include "io.h"

#define MAX_DEVICES 128
#define POLL_MS 50

enum match_kind { BY_LABEL, BY_UUID, BY_PARTLABEL, BY_PATH };

struct media_spec {
	enum match_kind kind;
	const char *value;
};

struct seen {
	char name[32];
	char partname[64];
	unsigned long long bytes;
	struct probe_result fs;
	int err;                    /* probe result: 0, -ENOENT (no filesystem) or -errno */
};

static const struct { const char *prefix; enum match_kind kind; } spec_kinds[] = {
	{ "LABEL=", BY_LABEL }, { "UUID=", BY_UUID }, { "PARTLABEL=", BY_PARTLABEL }, { "/dev/", BY_PATH },
};

static int parse_spec(const char *s, struct media_spec *m)
{
	for (size_t i = 0; i < sizeof spec_kinds / sizeof spec_kinds[0]; i++) {
		size_t n = strlen(spec_kinds[i].prefix);
		if (!strncmp(s, spec_kinds[i].prefix, n)) {
			m->kind = spec_kinds[i].kind;
			m->value = spec_kinds[i].kind == BY_PATH ? s : s + n;
			return 0;
		}
	}
	return -EINVAL;
}

/* Reads KEY=value from a sysfs uevent text. */
static void uevent_get(const char *text, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (const char *p = text; *p; ) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = len - kl - 1;
			if (vl >= cap)
				vl = cap - 1;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return;
		}
		p += len + (eol ? 1 : 0);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->name, ((const struct seen *)b)->name);
}

/* One pass over /sys/class/block: fills seen[] (sorted by name) and returns the count. */
static int scan(struct init_ctx *c, struct seen *seen, int max)
{
	char path[320], text[512];
	struct dirent *de;
	int n = 0, dfd = openat(c->sysfd, "class/block", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	while ((de = readdir(d)) && n < max) {
		struct seen *s = &seen[n];
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len >= sizeof s->name)
			continue;
		memset(s, 0, sizeof *s);
		memcpy(s->name, de->d_name, len + 1);
		snprintf(path, sizeof path, "%s/uevent", de->d_name);
		if (read_small_file(dfd, path, text, sizeof text) == 0) {
			char devname[32];
			uevent_get(text, "DEVNAME", devname, sizeof devname);
			if (devname[0])
				snprintf(s->name, sizeof s->name, "%s", devname);
			uevent_get(text, "PARTNAME", s->partname, sizeof s->partname);
		}
		snprintf(path, sizeof path, "%s/size", de->d_name);
		if (read_small_file(dfd, path, text, sizeof text) == 0)
			s->bytes = strtoull(text, NULL, 10) * 512;
		n++;
	}
	closedir(d);
	qsort(seen, (size_t)n, sizeof seen[0], by_name);
	return n;
}

static void probe_one(struct init_ctx *c, struct seen *s)
{
	int fd;

	if (s->bytes == 0) {
		s->err = -ENOMEDIUM;
		return;
	}
	fd = openat(c->devfd, s->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		s->err = -errno;
		return;
	}
	s->err = probe_fd(fd, &s->fs);
	close(fd);
}

static int matches(const struct media_spec *m, const struct seen *s)
{
	switch (m->kind) {
	case BY_LABEL:
		return s->err == 0 && !strcmp(s->fs.label, m->value);
	case BY_UUID:
		return s->err == 0 && !strcasecmp(s->fs.uuid, m->value);
	case BY_PARTLABEL:
		return !strcmp(s->partname, m->value);
	case BY_PATH:
		return !strcmp(s->name, m->value + strlen("/dev/"));
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Why a device is not the one asked for, in a few words. */
static void why_not(const struct media_spec *m, const struct seen *s, char *why, size_t cap)
{
	if (s->err == -ENOMEDIUM)
		snprintf(why, cap, "empty (no medium)");
	else if (s->err == -ENOENT && m->kind != BY_PARTLABEL && m->kind != BY_PATH)
		snprintf(why, cap, "no filesystem overlive reads");
	else if (s->err < 0 && s->err != -ENOENT)
		snprintf(why, cap, "unreadable: %s", strerror(-s->err));
	else if (m->kind == BY_LABEL)
		snprintf(why, cap, s->fs.label[0] ? "label is '%s', not '%s'" : "no label%s, not '%s'",
			 s->fs.label, m->value);
	else if (m->kind == BY_UUID)
		snprintf(why, cap, "another UUID");
	else if (m->kind == BY_PARTLABEL)
		snprintf(why, cap, s->partname[0] ? "partition name '%s', not '%s'" : "no partition name%s, not '%s'",
			 s->partname, m->value);
	else
		snprintf(why, cap, "not %s", m->value);
}

/* The "why not" table: every block device, what it holds, why it was not taken, the drivers. */
static void report(struct init_ctx *c, const struct media_spec *m, struct seen *seen, int n)
{
	char why[128], mods[1024], line[256];
	size_t used = 0;
	FILE *f;

	log_msg(c, LOG_ERR, "no device matches %s; block devices seen (%d):", m->value, n);
	log_msg(c, LOG_ERR, "  %-8s %8s %-8s %-16s %-36s %-14s %s", "DEVICE", "SIZE", "TYPE", "LABEL",
		"UUID", "PARTLABEL", "WHY NOT");
	for (int i = 0; i < n; i++) {
		struct seen *s = &seen[i];
		if (m->kind == BY_PARTLABEL || m->kind == BY_PATH)
			probe_one(c, s);        /* those kinds match without reading superblocks */
		const char *type = s->err == 0 ? s->fs.type : s->err == -ENOENT ? "-" :
				   s->err == -ENOMEDIUM ? "empty" : "?";
		why_not(m, s, why, sizeof why);
		log_msg(c, LOG_ERR, "  %-8s %7lluM %-8s %-16s %-36s %-14s %s", s->name, s->bytes >> 20, type,
			s->err == 0 && s->fs.label[0] ? s->fs.label : "-",
			s->err == 0 && s->fs.uuid[0] ? s->fs.uuid : "-", s->partname[0] ? s->partname : "-", why);
	}
	mods[0] = '\0';
	if ((f = fopen("/proc/modules", "re"))) {
		while (fgets(line, sizeof line, f) && used + 40 < sizeof mods) {
			line[strcspn(line, " ")] = '\0';
			used += (size_t)snprintf(mods + used, sizeof mods - used, "%s%s", used ? " " : "", line);
		}
		fclose(f);
	}
	log_msg(c, LOG_ERR, "drivers loaded: %s", mods[0] ? mods : "(none)");
}

int device_find(struct init_ctx *c, const char *param, const char *spec, unsigned wait_s,
		struct found_device *out)
{
	struct seen seen[MAX_DEVICES];
	struct media_spec m;
	double deadline = now() + wait_s;
	int n, passes = 0;

	if (parse_spec(spec, &m) < 0)
		return failx(c, -EINVAL, "use LABEL=..., UUID=..., PARTLABEL=... or /dev/NAME",
			     "understand %s=%s: not a device", param, spec);
	for (;;) {
		int found = -1, again = 0;

		n = scan(c, seen, MAX_DEVICES);
		for (int i = 0; i < n; i++) {
			if (m.kind != BY_PATH && m.kind != BY_PARTLABEL)
				probe_one(c, &seen[i]);
			if (!matches(&m, &seen[i]))
				continue;
			if (found < 0)
				found = i;
			else
				again = 1;
		}
		passes++;
		if (found >= 0) {
			struct seen *s = &seen[found];
			if (m.kind == BY_PATH || m.kind == BY_PARTLABEL)
				probe_one(c, s);
			if (again)
				log_msg(c, LOG_WARN, "more than one device matches %s=%s; using /dev/%s",
					param, spec, s->name);
			snprintf(out->dev, sizeof out->dev, "/dev/%s", s->name);
			if (s->err < 0)
				return fail(c, s->err, "check the device; is it formatted (ext4, vfat, iso9660, squashfs)?",
					    "read a filesystem on /dev/%s (%s=%s)", s->name, param, spec);
			out->fs = s->fs;
			log_msg(c, LOG_INFO, "%s %s: %s label '%s' uuid '%s' after %d scans",
				strcmp(param, "live.media") ? param : "medium", out->dev, s->fs.type, s->fs.label, s->fs.uuid, passes);
			return 0;
		}
		if (now() >= deadline)
			break;
		/* Drivers for what appeared since (a USB disk behind its controller); else wait. */
		if (modules_coldplug(c) <= 0)
			usleep(POLL_MS * 1000);
	}
	report(c, &m, seen, n);
	return fail(c, -ENODEV,
		    "check that the device is attached and its label (devices seen are listed above), or wait longer (live.wait=)",
		    "find the device %s=%s within %u s", param, spec, wait_s);
}

int media_find(struct init_ctx *c)
{
	struct found_device d;
	int r = device_find(c, "live.media", c->cfg.media, c->cfg.wait, &d);

	if (r == -ENODEV)
		return fail(c, r,
			    "check that the medium is attached and its label; set live.media= (devices seen are listed above) or a longer live.wait=",
			    "find the live medium %s within %u s", c->cfg.media, c->cfg.wait);
	if (r < 0)
		return r;
	memcpy(c->medium_dev, d.dev, sizeof c->medium_dev);
	c->medium = d.fs;
	c->medium_is_lower = !strcmp(d.fs.type, "squashfs");
	return 0;
}
