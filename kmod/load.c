/* load.c: the boot-side context and module loading through finit_module, dependencies first. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "io.h"
#include "kmod-int.h"

static int real_finit_module(void *arg, int fd, const char *params, int flags)
{
	return syscall(SYS_finit_module, fd, params, flags) == 0 ? 0 : -errno;
}

void kmod_log(const struct kmod_ctx *ctx, int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_arg, level, msg);
}

static int read_index(int dirfd, const char *path, char **out)
{
	struct stat st;
	char *buf = NULL;
	int fd, err;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fstat(fd, &st) ? -errno : 0;
	if (!err && (!S_ISREG(st.st_mode) || st.st_size > MODIDX_MAX_BYTES))
		err = S_ISREG(st.st_mode) ? -E2BIG : -EINVAL;
	if (!err && !(buf = malloc(st.st_size + 1)))
		err = -ENOMEM;
	if (!err)
		err = read_all(fd, buf, st.st_size, NULL);
	if (!err) {
		buf[st.st_size] = '\0';
		if (strlen(buf) != (size_t)st.st_size)   /* a NUL inside: not our text */
			err = -EINVAL;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

int kmod_ctx_new(const struct kmod_config *cfg, struct kmod_ctx **out)
{
	struct kmod_ctx *ctx;
	int err;

	*out = NULL;
	ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return -ENOMEM;
	ctx->dirfd = cfg->dirfd;
	if (cfg->ops)
		ctx->ops = *cfg->ops;
	if (!ctx->ops.finit_module)
		ctx->ops.finit_module = real_finit_module;
	ctx->log = cfg->log;
	ctx->log_arg = cfg->log_arg;
	err = read_index(cfg->dirfd, cfg->index, &ctx->buf);
	if (!err)
		err = kmod_index_parse(ctx, ctx->buf);
	if (err) {
		kmod_ctx_free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

void kmod_ctx_free(struct kmod_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->mods);
	free(ctx->aliases);
	free(ctx->depbuf);
	free(ctx->buf);
	free(ctx);
}

const char *kmod_kernel_release(const struct kmod_ctx *ctx)
{
	return ctx->krel;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* One finit_module of NAME.ko; the module's state records the outcome. */
static int load_one(struct kmod_ctx *ctx, struct kmod_mod *m)
{
	char file[MODIDX_NAME_MAX + sizeof ".ko"];
	uint64_t t0, dt = 0;
	int fd, err;

	snprintf(file, sizeof file, "%s.ko", m->name);
	fd = openat(ctx->dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
	} else {
		t0 = now_ns();
		err = ctx->ops.finit_module(ctx->ops.arg, fd, "", 0);
		dt = now_ns() - t0;
		ctx->st.load_ns += dt;
		close(fd);
	}
	if (err == -EEXIST) {
		kmod_log(ctx, KMOD_LOG_DEBUG, "module %s: already loaded", m->name);
		err = 0;
	} else if (!err) {
		kmod_log(ctx, KMOD_LOG_INFO, "loaded module %s (%llu.%03llu ms)", m->name,
			 (unsigned long long)(dt / 1000000), (unsigned long long)(dt / 1000 % 1000));
	}
	if (!err) {
		m->state = ST_LOADED;
		ctx->st.loaded++;
		return 1;
	}
	m->state = ST_FAILED;
	m->err = err;
	ctx->st.failed++;
	if (m->flags & MOD_OPTIONAL)
		kmod_log(ctx, KMOD_LOG_WARNING, "optional module %s not loaded, skipped: %s", m->name,
			 strerror(-err));
	else
		kmod_log(ctx, KMOD_LOG_ERR, "unable to load module %s: %s", m->name, strerror(-err));
	return err;
}

int kmod_load_index(struct kmod_ctx *ctx, int i)
{
	struct kmod_mod *m = &ctx->mods[i];
	int d, err;

	if (m->state == ST_LOADED)
		return 0;
	if (m->state == ST_FAILED)
		return m->err;
	/* dependencies have lower indexes (the parser checked it), so this recursion ends */
	for (d = 0; d < m->ndeps; d++) {
		struct kmod_mod *dep = &ctx->mods[m->deps[d]];

		err = kmod_load_index(ctx, m->deps[d]);
		if (err < 0 && !(dep->flags & MOD_OPTIONAL)) {
			/* the module cannot link without it: do not try, say why */
			m->state = ST_FAILED;
			m->err = err;
			ctx->st.failed++;
			kmod_log(ctx, (m->flags & MOD_OPTIONAL) ? KMOD_LOG_WARNING : KMOD_LOG_ERR,
				 "unable to load module %s: its dependency %s failed", m->name, dep->name);
			return err;
		}
	}
	return load_one(ctx, m);
}

int kmod_load_base(struct kmod_ctx *ctx)
{
	int i, err, first = 0;

	for (i = 0; i < ctx->nmods; i++) {
		if (!(ctx->mods[i].flags & MOD_BASE))
			continue;
		err = kmod_load_index(ctx, i);
		if (err < 0 && !(ctx->mods[i].flags & MOD_OPTIONAL) && !first)
			first = err;
	}
	return first;
}

int kmod_load_name(struct kmod_ctx *ctx, const char *name)
{
	int i = kmod_find(ctx, name);

	if (i < 0)
		return -ENOENT;
	i = kmod_load_index(ctx, i);
	return i < 0 ? i : 0;
}

void kmod_get_stats(const struct kmod_ctx *ctx, struct kmod_stats *st)
{
	*st = ctx->st;
}
