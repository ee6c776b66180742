/*
 * lower.c: the read-only layers. Squashfs files beside live.root on the medium (or inside an ISO
 * file on it), checked against live/SHA256SUMS, optionally copied into RAM, stacked as the
 * overlay's lower layers: live.root at the bottom, the others above it in name order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"
#include "io.h"
#include "sha256.h"

#define MAX_LAYERS     8
#define MANIFEST       "SHA256SUMS"
#define MANIFEST_MAX   (64 * 1024)
#define COPY_CHUNK     (1024 * 1024)
#define RAM_SPARE_MIB  64          /* what toram leaves free for the system at the least */

struct layer {
	char name[64];              /* file name beside live.root */
	char path[CONFIG_STR + 96]; /* where it is read from now (the medium, the ISO or RAM) */
	unsigned long long size;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct layer *)a)->name, ((const struct layer *)b)->name);
}

static int add_layer(struct layer *L, int *n, const char *dir, const char *name)
{
	if (*n >= MAX_LAYERS)
		return -E2BIG;
	if (strlen(name) >= sizeof L[*n].name)
		return -ENAMETOOLONG;
	for (int i = 0; i < *n; i++)
		if (!strcmp(L[i].name, name))
			return -EEXIST;
	snprintf(L[*n].name, sizeof L[*n].name, "%s", name);
	snprintf(L[*n].path, sizeof L[*n].path, "%s/%s", dir, name);
	(*n)++;
	return 0;
}

/* The layers, bottom first: live.layers as given, else live.root then the other *.sqfs by name. */
static int list_layers(struct init_ctx *c, const char *dir, const char *base, struct layer *L, int *n)
{
	int r;

	*n = 0;
	if (c->cfg.layers[0]) {
		char names[CONFIG_STR], *save = NULL;
		memcpy(names, c->cfg.layers, sizeof names);
		for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if ((r = add_layer(L, n, dir, t)) < 0)
				return failx(c, r, "list each file once, at most 8 (live.layers=root.sqfs,apps.sqfs)",
					     "use live.layers=%s: %s", c->cfg.layers,
					     r == -EEXIST ? "a file is named twice" : "too many or too long names");
		return 0;
	}
	if ((r = add_layer(L, n, dir, base)) < 0)
		return fail(c, r, NULL, "use the root image name %s", base);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return 0;       /* the base layer's open says what is wrong */
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 5 && !strcmp(de->d_name + len - 5, ".sqfs") && strcmp(de->d_name, base) &&
		    add_layer(L, n, dir, de->d_name) == -E2BIG) {
			log_msg(c, LOG_WARN, "more than %d layers in %s: %s and later names left out",
				MAX_LAYERS, dir, de->d_name);
			break;
		}
	}
	closedir(d);
	qsort(L + 1, (size_t)(*n - 1), sizeof L[0], by_name);
	return 0;
}

/* The expected hash of name from dir/SHA256SUMS (sha256sum's format). */
static int manifest_lookup(const char *dir, const char *name, char hex[65])
{
	char path[CONFIG_STR + 96], *text = malloc(MANIFEST_MAX);
	int r;

	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
	r = read_small_file(AT_FDCWD, path, text, MANIFEST_MAX);
	if (r == 0) {
		r = -ENOENT;
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *f = l + 64;
			if (strlen(l) < 66 || f[0] != ' ' || (f[1] != ' ' && f[1] != '*'))
				continue;
			if (strcmp(f + 2, name))
				continue;
			memcpy(hex, l, 64);
			hex[64] = '\0';
			r = 0;
			break;
		}
	}
	free(text);
	return r;
}

/* Reads in (and writes out, when out >= 0), hashing, with a progress line every tenth. */
static int copy_hash(struct init_ctx *c, int in, int out, const struct layer *l, const char *what,
		     char hex[65])
{
	unsigned char *buf = malloc(COPY_CHUNK), d[32];
	unsigned long long done = 0;
	struct sha256 h;
	int r = 0, tenth = 0;
	double t0 = uptime_seconds();

	if (!buf)
		return -ENOMEM;
	sha256_init(&h);
	for (;;) {
		size_t got;
		if ((r = read_all(in, buf, COPY_CHUNK, &got)) < 0 || got == 0)
			break;
		sha256_update(&h, buf, got);
		if (out >= 0 && (r = write_all(out, buf, got)) < 0)
			break;
		done += got;
		int now_tenth = l->size ? (int)(done * 10 / l->size) : 10;
		if (now_tenth > tenth && l->size > 8 * COPY_CHUNK) {
			tenth = now_tenth;
			log_msg(c, LOG_NOTICE, "%s %s: %d%% (%llu of %llu MiB)", what, l->name, tenth * 10,
				done >> 20, l->size >> 20);
		}
	}
	free(buf);
	if (r < 0)
		return r;
	sha256_final(&h, d);
	sha256_hex(d, hex);
	log_msg(c, LOG_INFO, "%s %s: %llu bytes in %.3f s", what, l->name, done, uptime_seconds() - t0);
	return 0;
}

static unsigned long long mem_available(void)
{
	char text[4096], *p;

	if (read_small_file(AT_FDCWD, "/proc/meminfo", text, sizeof text) < 0 ||
	    !(p = strstr(text, "MemAvailable:")))
		return 0;
	return strtoull(p + 13, NULL, 10) * 1024;
}

/* Checks (and copies) one layer; the hash is compared when live.verify asks. */
static int check_layer(struct init_ctx *c, const char *dir, size_t imglen, struct layer *l, int to_ram)
{
	struct probe_result pr;
	struct stat st;
	char got[65], want[65], dst[sizeof l->path];
	int fd, out = -1, r;

	fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(c, -errno, "check live.root=/live.layers= and the files on the medium (in the rescue shell: ls /run/live/medium/live)",
			    "open the root image %s on %s (%s label '%s')", l->path + imglen,
			    c->medium_dev, c->medium.type, c->medium.label);
	r = probe_fd(fd, &pr);
	if (r < 0 || strcmp(pr.type, "squashfs") || fstat(fd, &st) < 0) {
		close(fd);
		return failx(c, -EINVAL, "rebuild the image (./build.sh) or point live.root= at a squashfs file",
			     "use the root image %s on %s: it is not a squashfs (found: %s)", l->path + imglen,
			     c->medium_dev, r < 0 ? "no known filesystem" : pr.type);
	}
	l->size = (unsigned long long)st.st_size;
	if (!to_ram && !c->cfg.verify) {
		close(fd);
		return 0;
	}
	if (to_ram) {
		snprintf(dst, sizeof dst, "%s/%.63s", RAM_DIR, l->name);
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (out < 0) {
			close(fd);
			return fail(c, -errno, NULL, "create %s", dst);
		}
	}
	r = copy_hash(c, fd, out, l, to_ram ? (c->cfg.verify ? "toram+verify" : "toram") : "verify", got);
	close(fd);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		return fail(c, r, to_ram ? "boot without live.toram, or with more RAM" : "check the medium",
			    "read %s%s", l->path, to_ram ? " into RAM" : "");
	if (to_ram)
		memcpy(l->path, dst, sizeof l->path);
	if (!c->cfg.verify)
		return 0;
	r = manifest_lookup(dir, l->name, want);
	if (r < 0) {
		failx(c, r, "rebuild the medium with ./build.sh (it writes live/" MANIFEST "), or boot without live.verify",
		      "verify %s: no checksum for it in %s/%s", l->name, dir, MANIFEST);
	} else if (strcmp(got, want)) {
		failx(c, -EBADMSG, "the file is damaged: write the image to the stick again (or boot with live.verify=warn)",
		      "verify %s: SHA-256 mismatch: expected %s, found %s", l->name, want, got);
		r = -EBADMSG;
	} else {
		log_msg(c, LOG_NOTICE, "verify %s: SHA-256 %s ok", l->name, got);
		return 0;
	}
	if (c->cfg.verify == 2) {       /* live.verify=warn */
		report_failure(c, r, LOG_WARN);
		log_msg(c, LOG_WARN, "live.verify=warn: booting anyway");
		return 0;
	}
	return r;
}

static int mount_layer(struct init_ctx *c, const struct layer *l, const char *at)
{
	char loop[32];
	int fd, loopfd = -1, r;

	if ((r = mkdir_p(at, 0755)) < 0)
		return fail(c, r, NULL, "create %s", at);
	fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(c, -errno, NULL, "open %s", l->path);
	r = loop_attach(c, fd, loop, sizeof loop, &loopfd);
	close(fd);
	if (r < 0)
		return fail(c, r, "check that the loop driver is in the initramfs", "attach %s to a loop device", l->path);
	r = c->sys->mount(loop, at, "squashfs", MS_RDONLY, NULL);
	close(loopfd);
	if (r < 0)
		return fail(c, r, "check the image: it may be damaged (rebuild it, or try live.verify)",
			    "mount the squashfs %s from %s", l->path, loop);
	log_msg(c, LOG_INFO, "layer %s on %s at %s, %llu bytes", l->name, loop, at, l->size);
	return 0;
}

/* live.iso: the layers are inside an ISO file on the medium. */
static int mount_iso(struct init_ctx *c)
{
	struct layer iso = { .name = "iso" };
	struct probe_result pr;
	char loop[32];
	int fd, loopfd = -1, r;

	snprintf(iso.path, sizeof iso.path, "%s%s", MEDIUM_DIR, c->cfg.iso);
	fd = open(iso.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(c, -errno, "check live.iso= and the files on the medium", "open the ISO file %s on %s",
			    c->cfg.iso, c->medium_dev);
	if (probe_fd(fd, &pr) < 0 || strcmp(pr.type, "iso9660")) {
		close(fd);
		return failx(c, -EINVAL, "point live.iso= at an ISO 9660 image", "use %s: it is not an ISO 9660 image",
			     c->cfg.iso);
	}
	r = loop_attach(c, fd, loop, sizeof loop, &loopfd);
	close(fd);
	if (r < 0)
		return fail(c, r, NULL, "attach %s to a loop device", c->cfg.iso);
	if ((r = modules_load_fs(c, "iso9660")) == 0 && (r = mkdir_p(ISO_DIR, 0755)) == 0)
		r = c->sys->mount(loop, ISO_DIR, "iso9660", MS_RDONLY, NULL);
	close(loopfd);
	if (r < 0)
		return fail(c, r, NULL, "mount the ISO file %s", c->cfg.iso);
	log_msg(c, LOG_INFO, "ISO %s ('%s') on %s", c->cfg.iso, pr.label, ISO_DIR);
	return 0;
}

/* After toram, the medium can go unless something on it is still needed. */
static void release_medium(struct init_ctx *c)
{
	if (c->cfg.persist_path[0] && !c->cfg.persist_dev[0]) {
		log_msg(c, LOG_NOTICE, "live.toram: the medium stays mounted: the save file is on it");
		return;
	}
	if (c->cfg.iso[0])
		(void)c->sys->umount(ISO_DIR, 0);
	if (c->sys->umount(MEDIUM_DIR, 0) == 0)
		log_msg(c, LOG_NOTICE, "live.toram: %s is no longer used and can be removed", c->medium_dev);
	else
		log_msg(c, LOG_WARN, "live.toram: unable to unmount %s; it is still in use", c->medium_dev);
}

int mount_lower(struct init_ctx *c)
{
	struct layer L[MAX_LAYERS];
	char dir[CONFIG_STR + 64], *slash;
	const char *img = MEDIUM_DIR;
	unsigned long long need = 0;
	int n, r, to_ram = c->cfg.toram;
	size_t used;

	snprintf(c->lowerdir, sizeof c->lowerdir, "%s", LOWER_DIR);
	if (c->medium_is_lower) {
		struct layer part = { .name = "partition" };
		snprintf(part.path, sizeof part.path, "%s", c->medium_dev);
		if (c->cfg.toram || c->cfg.verify || c->cfg.layers[0] || c->cfg.iso[0])
			log_msg(c, LOG_WARN, "live.toram, live.verify, live.layers and live.iso need squashfs files; the medium %s is a squashfs partition: ignored",
				c->medium_dev);
		if ((r = mkdir_p(LOWER_DIR, 0755)) < 0)
			return fail(c, r, NULL, "create %s", LOWER_DIR);
		if ((r = c->sys->mount(c->medium_dev, LOWER_DIR, "squashfs", MS_RDONLY, NULL)) < 0)
			return fail(c, r, "check that the partition holds an intact squashfs",
				    "mount the squashfs partition %s", c->medium_dev);
		return 0;
	}
	if (c->cfg.iso[0]) {
		if ((r = mount_iso(c)) < 0)
			return r;
		img = ISO_DIR;
	}
	snprintf(dir, sizeof dir, "%s%s", img, c->cfg.root);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if ((r = list_layers(c, dir, slash + 1, L, &n)) < 0)
		return r;
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(L[i].path, &st) == 0)
			need += (unsigned long long)st.st_size;
	}
	if (to_ram) {
		unsigned long long avail = mem_available();
		if (need + ((unsigned long long)RAM_SPARE_MIB << 20) > avail) {
			log_msg(c, LOG_WARN, "live.toram: the layers need %llu MiB of RAM and %llu MiB is available (keeping %d MiB free): running from the medium instead",
				need >> 20, avail >> 20, RAM_SPARE_MIB);
			to_ram = 0;
		} else {
			char opts[64];
			snprintf(opts, sizeof opts, "mode=0755,size=%llu", need + (1 << 20));
			if ((r = mkdir_p(RAM_DIR, 0755)) < 0 ||
			    (r = c->sys->mount("tmpfs", RAM_DIR, "tmpfs", MS_NOSUID | MS_NODEV, opts)) < 0)
				return fail(c, r, NULL, "mount a tmpfs for live.toram (%s)", opts);
			log_msg(c, LOG_NOTICE, "live.toram: copying %d layer(s), %llu MiB, into RAM", n, need >> 20);
		}
	}
	for (int i = 0; i < n; i++)
		if ((r = check_layer(c, dir, strlen(img), &L[i], to_ram)) < 0)
			return r;
	if ((r = mount_layer(c, &L[0], LOWER_DIR)) < 0)
		return r;
	if (n > 1) {
		if ((r = mkdir_p(LAYERS_DIR, 0755)) < 0 ||
		    (r = c->sys->mount("tmpfs", LAYERS_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")) < 0)
			return fail(c, r, NULL, "mount a tmpfs for the layers on %s", LAYERS_DIR);
		/* overlayfs takes the top layer first: lowerdir=top:...:base */
		c->lowerdir[0] = '\0';
		used = 0;
		for (int i = n - 1; i >= 1; i--) {
			char at[sizeof L[i].name + sizeof LAYERS_DIR + 8];
			snprintf(at, sizeof at, "%s/%d-%s", LAYERS_DIR, i, L[i].name);
			if ((r = mount_layer(c, &L[i], at)) < 0)
				return r;
			used += (size_t)snprintf(c->lowerdir + used, sizeof c->lowerdir - used, "%s:", at);
		}
		snprintf(c->lowerdir + used, sizeof c->lowerdir - used, "%s", LOWER_DIR);
		if (used >= sizeof c->lowerdir - sizeof LOWER_DIR)
			return failx(c, -E2BIG, "use fewer or shorter layer names", "stack %d layers: the names are too long", n);
	}
	if (to_ram)
		release_medium(c);
	return 0;
}
