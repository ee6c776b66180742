/*
 * layers.c: the lower stage: the read-only layers. Squashfs files beside live.root on the medium
 * (or inside an ISO file on it), checked (verify.c), optionally copied into RAM (toram.c), stacked
 * as the overlay's lower layers: live.root at the bottom, the others above it in name order.
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
#include "lower.h"

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

/*
 * The layers, bottom first: live.layers as given, else live.root then the other *.sqfs by name.
 * live.root's name among the layers given stands for the slot booted (base).
 */
static int list_layers(struct init_ctx *c, const char *dir, const char *base, struct layer *L, int *n)
{
	const char *root = strrchr(c->cfg.root, '/') + 1;
	int r;

	*n = 0;
	if (c->cfg.layers[0]) {
		char names[CONFIG_STR], *save = NULL;
		memcpy(names, c->cfg.layers, sizeof names);
		for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if ((r = add_layer(L, n, dir, strcmp(t, root) ? t : base)) < 0)
				return failx(c, r, "list each file once, at most 8 (live.layers=root.sqfs,apps.sqfs)",
					     "use live.layers=%s: %s", c->cfg.layers,
					     r == -EEXIST ? "a file is named twice" : "too many or too long names");
		return 0;
	}
	if ((r = add_layer(L, n, dir, base)) < 0)
		return fail(c, r, NULL, "use the root image name %s", base);
	int dfd = openat(c->rootfd, at_root(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return 0;       /* the base layer's open says what is wrong */
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 5 && !strcmp(de->d_name + len - 5, ".sqfs") && strcmp(de->d_name, base) &&
		    strcmp(de->d_name, c->slot_other) &&
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

/* Checks (and copies) one layer; the hash is compared when live.verify asks. */
static int check_layer(struct init_ctx *c, const char *dir, size_t imglen, struct layer *l, int to_ram)
{
	struct probe_result pr;
	struct stat st;
	char got[65], dst[sizeof l->path];
	int fd, out = -1, r;

	fd = openat(c->rootfd, at_root(l->path), O_RDONLY | O_CLOEXEC);
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
	if (to_ram && (out = toram_create(c, l, dst, sizeof dst)) < 0) {
		close(fd);
		return out;
	}
	r = layer_hash(c, fd, out, l, to_ram ? (c->cfg.verify ? "toram+verify" : "toram") : "verify", got);
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
	return layer_verify(c, dir, l, got);
}

static int mount_layer(struct init_ctx *c, const struct layer *l, const char *at)
{
	char loop[32];
	int fd, loopfd = -1, r;

	if ((r = mkdir_p(c->rootfd, at, 0755)) < 0)
		return fail(c, r, NULL, "create %s", at);
	fd = openat(c->rootfd, at_root(l->path), O_RDONLY | O_CLOEXEC);
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
	fd = openat(c->rootfd, at_root(iso.path), O_RDONLY | O_CLOEXEC);
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
	if ((r = modules_load_fs(c, "iso9660")) == 0 && (r = mkdir_p(c->rootfd, ISO_DIR, 0755)) == 0)
		r = c->sys->mount(loop, ISO_DIR, "iso9660", MS_RDONLY, NULL);
	close(loopfd);
	if (r < 0)
		return fail(c, r, NULL, "mount the ISO file %s", c->cfg.iso);
	log_msg(c, LOG_INFO, "ISO %s ('%s') on %s", c->cfg.iso, pr.label, ISO_DIR);
	return 0;
}

int mount_lower(struct init_ctx *c)
{
	struct layer L[MAX_LAYERS];
	char dir[CONFIG_STR + 64], *slash;
	const char *img = MEDIUM_DIR;
	int n, r, to_ram = c->cfg.toram;
	size_t used;

	snprintf(c->lowerdir, sizeof c->lowerdir, "%s", LOWER_DIR);
	if (c->medium_is_lower) {
		if (c->cfg.toram || c->cfg.verify || c->cfg.layers[0] || c->cfg.iso[0])
			log_msg(c, LOG_WARN, "live.toram, live.verify, live.layers and live.iso need squashfs files; the medium %s is a squashfs partition: ignored",
				c->medium_dev);
		if ((r = mkdir_p(c->rootfd, LOWER_DIR, 0755)) < 0)
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
	/* two root image slots (docs/updates.md): not inside an ISO file; with layers named, when
	 * live.root is one of them (a try is counted only for a slot that is used) */
	char base[128], named[CONFIG_STR + 2], me[sizeof base + 2];
	snprintf(base, sizeof base, "%s", slash + 1);
	snprintf(named, sizeof named, ",%s,", c->cfg.layers);
	snprintf(me, sizeof me, ",%s,", base);
	if (!c->cfg.iso[0] && (!c->cfg.layers[0] || strstr(named, me)) &&
	    (r = slot_choose(c, dir, slash + 1, base, sizeof base)) < 0)
		return r;
	if ((r = list_layers(c, dir, base, L, &n)) < 0)
		return r;
	if (to_ram && (to_ram = toram_prepare(c, L, n)) < 0)
		return to_ram;
	for (int i = 0; i < n; i++)
		if ((r = check_layer(c, dir, strlen(img), &L[i], to_ram)) < 0)
			return r;
	if ((r = mount_layer(c, &L[0], LOWER_DIR)) < 0)
		return r;
	if (n > 1) {
		if ((r = mkdir_p(c->rootfd, LAYERS_DIR, 0755)) < 0 ||
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
		toram_release(c);
	return 0;
}
