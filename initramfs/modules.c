/* modules.c: the init's side of kmod/: base modules at boot, then drivers for the devices present. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "init.h"
#include "kmod.h"

#define MODULE_DIR   "/lib/modules"

/* The decoder of the module pack (docs/kmod.md): the built-in one (kmod/xzdec.c), else the
 * rescue shell's busybox (Debian's busybox-static, which the build uses when it has no busybox
 * source, has unxz). */
static const char *const unxz[] = { "/bin/busybox", "unxz", "-c", NULL };

static void modload_to_log(void *arg, int level, const char *msg)
{
	log_msg(arg, level, "%s", msg);
}

static int seam_finit(void *arg, int fd, const char *params, int flags)
{
	const struct init_ctx *c = arg;

	return c->sys->finit_module(fd, params, flags);
}

int modules_load_base(struct init_ctx *c)
{
	struct modload_ops ops = { .finit_module = seam_finit, .arg = c };
	struct modload_config cfg = { .index = MODIDX_FILE, .ops = &ops, .log = modload_to_log, .log_arg = c,
				      .unxz = unxz, .decode = modload_xz_builtin };
	struct modloader *ml;
	double t0 = uptime_seconds();
	int r, loaded = 0;

	cfg.dirfd = open(MODULE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfg.dirfd < 0) {
		log_msg(c, LOG_WARN, "no %s in the initramfs: the kernel's built-in drivers only", MODULE_DIR);
		return 0;
	}
	/* the loader copies cfg and ops, and opens the .ko files through dirfd: it stays open. */
	r = modload_new(&cfg, &ml);
	if (r < 0) {
		close(cfg.dirfd);
		return fail(c, r, "rebuild the initramfs (./build.sh)", "read the module index %s/%s",
			    MODULE_DIR, MODIDX_FILE);
	}
	c->modloader = ml;
	if ((r = modload_base(ml)) < 0)
		return fail(c, r, "rebuild the initramfs with modules of this kernel (the failing module is named above)",
			    "load the base kernel modules");
	/* One round for the controllers present; the media stage goes on while it waits. */
	loaded = modules_coldplug(c);
	struct modload_stats st;
	modload_get_stats(ml, &st);
	log_msg(c, LOG_INFO, "modules: %d loaded (%d for devices present), %d failed, %.3f s",
		st.loaded, loaded > 0 ? loaded : 0, st.failed, uptime_seconds() - t0);
	return 0;
}

/* Before the switch: says what the pack cost and stops its decoder, whose files are going away. */
void modules_done(struct init_ctx *c)
{
	struct modload_stats st;

	if (!c->modloader)
		return;
	modload_get_stats(c->modloader, &st);
	if (st.pack_total)
		log_msg(c, LOG_INFO, "modules: %d loaded; pack: %llu of %llu bytes decoded, %.3f s",
			st.loaded, (unsigned long long)st.pack_bytes, (unsigned long long)st.pack_total,
			st.pack_ns / 1e9);
	modload_pack_stop(c->modloader);
}

/* For a rescue shell: every module a file in /lib/modules, so that insmod can load any of them. */
void modules_unpack_all(struct init_ctx *c)
{
	if (c->modloader && modload_unpack_all(c->modloader) == 0)
		log_msg(c, LOG_INFO, "modules: every module of the pack is in %s for insmod", MODULE_DIR);
}

/* The modules a filesystem type needs besides its own driver (Debian's FAT charset is ascii). */
static const struct fs_modules {
	const char *type;
	const char *mods[4];
} fs_modules[] = {
	{ "ext2", { "ext4" } }, { "ext3", { "ext4" } }, { "ext4", { "ext4" } },
	{ "vfat", { "vfat", "nls_cp437", "nls_ascii" } },
	{ "iso9660", { "isofs" } },
	{ "exfat", { "exfat" } },
};

int modules_load_fs(struct init_ctx *c, const char *type)
{
	for (size_t i = 0; c->modloader && i < sizeof fs_modules / sizeof fs_modules[0]; i++) {
		if (strcmp(fs_modules[i].type, type))
			continue;
		for (int m = 0; m < 4 && fs_modules[i].mods[m]; m++) {
			int r = modload_by_name(c->modloader, fs_modules[i].mods[m]);
			/* -ENOENT: not in this initramfs; built in, or the mount will say */
			if (r < 0 && r != -ENOENT)
				return fail(c, r, "rebuild the initramfs with this kernel's modules",
					    "load the %s driver %s", type, fs_modules[i].mods[m]);
		}
	}
	return 0;
}

int modules_coldplug_late(struct init_ctx *c)
{
	if (!c->modloader || !modload_allow_late(c->modloader))
		return 0;
	log_msg(c, LOG_INFO, "modules: not found yet; now the drivers held back (legacy IDE)");
	return modules_coldplug(c);
}

/* One coldplug round over /sys/devices: how many drivers it newly loaded. */
int modules_coldplug(struct init_ctx *c)
{
	int fd, n;

	if (!c->modloader)
		return 0;
	fd = openat(c->sysfd, "devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = modload_coldplug(c->modloader, fd);
	close(fd);
	return n;
}
