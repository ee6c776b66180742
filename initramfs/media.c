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
#include "devspec.h"
#include "io.h"
#include "number.h"

#define MAX_DEVICES 128
#define POLL_MS 50

struct seen {
	char name[32];
	char partname[64];
	char disk[32];              /* the whole disk of a partition (DEVNAME), "" for a whole disk */
	unsigned partno;            /* its number in the disk's table, 0 for a whole disk */
	char partuuid[40];          /* "" until read (PARTUUID= only) or when it has none */
	unsigned long long bytes;
	struct probe_result fs;
	int err;                    /* probe result: 0, -ENOENT (no filesystem) or -errno */
};

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

/* A partition's number and its disk: NAME/partition, and the DEVNAME of the directory above it. */
static void scan_partition(int dfd, const char *entry, struct seen *s)
{
	char path[320], text[512];
	uint64_t n;

	snprintf(path, sizeof path, "%s/partition", entry);
	if (read_small_file(dfd, path, text, sizeof text) < 0)
		return;
	text[strcspn(text, "\n")] = '\0';
	snprintf(path, sizeof path, "%s/../uevent", entry);
	if (parse_u64(text, &n) || n == 0 || n > 0xffff || read_small_file(dfd, path, text, sizeof text) < 0)
		return;
	uevent_get(text, "DEVNAME", s->disk, sizeof s->disk);
	if (s->disk[0])
		s->partno = (unsigned)n;
}

/* The PARTUUID of a partition (when its uevent did not say): read from its disk's partition table. */
static void read_partuuid(struct init_ctx *c, struct seen *s)
{
	int fd;

	if (s->partuuid[0] || !s->partno)
		return;
	fd = openat(c->devfd, s->disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct probe_src src = { .fd = fd };
	if (probe_partuuid(&src, s->partno, s->partuuid, sizeof s->partuuid) < 0)
		s->partuuid[0] = '\0';
	close(fd);
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
			uevent_get(text, "PARTUUID", s->partuuid, sizeof s->partuuid);
		}
		scan_partition(dfd, de->d_name, s);
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

/* Whether the spec's kind is read from the superblock (else from sysfs or the partition table). */
static int by_superblock(const struct devspec *m)
{
	return m->kind == DEVSPEC_LABEL || m->kind == DEVSPEC_UUID;
}

/*
 * The name a device goes by in a spec of this kind: its filesystem's label or UUID (fs NULL when
 * no filesystem was read), its partition's name or PARTUUID, or its DEVNAME. The one rule of
 * device_find's search and of device_is.
 */
static const char *name_by(enum devspec_kind kind, const struct probe_result *fs, const char *partname,
			   const char *partuuid, const char *devname)
{
	switch (kind) {
	case DEVSPEC_LABEL:
		return fs ? fs->label : NULL;
	case DEVSPEC_UUID:
		return fs ? fs->uuid : NULL;
	case DEVSPEC_PARTLABEL:
		return partname;
	case DEVSPEC_PARTUUID:
		return partuuid;
	case DEVSPEC_PATH:
		return devname;
	}
	return NULL;
}

static int matches(struct init_ctx *c, const struct devspec *m, struct seen *s)
{
	if (m->kind == DEVSPEC_PARTUUID)
		read_partuuid(c, s);
	return devspec_matches(m, name_by(m->kind, s->err == 0 ? &s->fs : NULL, s->partname, s->partuuid, s->name));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Why a device is not the one asked for, in a few words. */
static void why_not(const struct devspec *m, const struct seen *s, char *why, size_t cap)
{
	if (s->err == -ENOMEDIUM)
		snprintf(why, cap, "empty (no medium)");
	else if (s->err == -ENOENT && by_superblock(m))
		snprintf(why, cap, "no filesystem overlive reads (" PROBE_TYPES ")");
	else if (s->err < 0 && s->err != -ENOENT)
		snprintf(why, cap, "unreadable: %s", strerror(-s->err));
	else if (m->kind == DEVSPEC_LABEL)
		snprintf(why, cap, s->fs.label[0] ? "label is '%s', not '%s'" : "no label%s, not '%s'",
			 s->fs.label, m->value);
	else if (m->kind == DEVSPEC_UUID)
		snprintf(why, cap, "another UUID");
	else if (m->kind == DEVSPEC_PARTLABEL)
		snprintf(why, cap, s->partname[0] ? "partition name '%s', not '%s'" : "no partition name%s, not '%s'",
			 s->partname, m->value);
	else if (m->kind == DEVSPEC_PARTUUID)
		snprintf(why, cap, s->partuuid[0] ? "PARTUUID is %s" : s->partno ? "no PARTUUID%s (no partition table read)" :
			 "not a partition%s", s->partuuid);
	else
		snprintf(why, cap, "not /dev/%s", m->value);
}

/* The "why not" table: every block device, what it holds, why it was not taken, the drivers. */
static void report(struct init_ctx *c, const char *spec, const struct devspec *m, struct seen *seen, int n)
{
	char why[128], mods[1024], line[256];
	size_t used = 0;
	FILE *f;

	log_msg(c, LOG_ERR, "no device matches %s; block devices seen (%d):", spec, n);
	log_msg(c, LOG_ERR, "  %-8s %8s %-8s %-16s %-36s %-14s %s", "DEVICE", "SIZE", "TYPE", "LABEL",
		"UUID", "PARTLABEL", "WHY NOT");
	for (int i = 0; i < n; i++) {
		struct seen *s = &seen[i];
		if (!by_superblock(m))
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
	struct devspec m;
	double deadline = now() + wait_s;
	const char *why = devspec_parse(spec, &m);
	int n, passes = 0;

	if (why)
		return failx(c, -EINVAL, "use " DEVSPEC_FORMS, "understand %s=%s: %s", param, spec, why);
	for (;;) {
		int found = -1, again = 0;

		n = scan(c, seen, MAX_DEVICES);
		for (int i = 0; i < n; i++) {
			if (by_superblock(&m))
				probe_one(c, &seen[i]);
			if (!matches(c, &m, &seen[i]))
				continue;
			if (found < 0)
				found = i;
			else
				again = 1;
		}
		passes++;
		if (found >= 0) {
			struct seen *s = &seen[found];
			if (!by_superblock(&m))
				probe_one(c, s);
			if (again)
				log_msg(c, LOG_WARN, "more than one device matches %s=%s; using /dev/%s",
					param, spec, s->name);
			snprintf(out->dev, sizeof out->dev, "/dev/%s", s->name);
			read_partuuid(c, s);
			memcpy(out->partname, s->partname, sizeof out->partname);
			memcpy(out->partuuid, s->partuuid, sizeof out->partuuid);
			if (s->err < 0)
				return fail(c, s->err, "check the device; is it formatted (" PROBE_TYPES ")?",
					    "read a filesystem on /dev/%s (%s=%s)", s->name, param, spec);
			out->fs = s->fs;
			log_msg(c, LOG_INFO, "%s %s: %s label '%s' uuid '%s' after %d scans",
				strcmp(param, "live.media") ? param : "medium", out->dev, s->fs.type, s->fs.label, s->fs.uuid, passes);
			return 0;
		}
		if (now() >= deadline)
			break;
		/* Drivers for what appeared since (a USB disk behind its controller); else wait. */
		if (modules_coldplug(c) <= 0 && modules_coldplug_late(c) <= 0)
			usleep(POLL_MS * 1000);
	}
	report(c, spec, &m, seen, n);
	return fail(c, -ENODEV,
		    "check that the device is attached and its label (devices seen are listed above), or wait longer (live.wait=)",
		    "find the device %s=%s within %u s", param, spec, wait_s);
}

int device_is(const struct found_device *d, const char *spec)
{
	struct devspec m;

	if (devspec_parse(spec, &m) || strncmp(d->dev, "/dev/", 5))
		return 0;
	return devspec_matches(&m, name_by(m.kind, &d->fs, d->partname, d->partuuid, d->dev + 5));
}

int medium_find(struct init_ctx *c)
{
	struct found_device d;
	int r = device_find(c, "live.media", c->cfg.media, c->cfg.wait, &d);

	if (r == -ENODEV)
		return fail(c, r,
			    "check that the medium is attached and its label; set live.media= (devices seen are listed above) or a longer live.wait=",
			    "find the live medium %s within %u s", c->cfg.media, c->cfg.wait);
	if (r < 0)
		return r;
	c->medium_found = d;
	memcpy(c->medium_dev, d.dev, sizeof c->medium_dev);
	c->medium = d.fs;
	c->medium_is_lower = !strcmp(d.fs.type, "squashfs");
	return 0;
}
