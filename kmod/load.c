/* load.c: the loader (struct modloader) and module loading through finit_module, dependencies first. */
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

void modload_log(const struct modloader *ml, int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!ml->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ml->log(ml->log_arg, level, msg);
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

int modload_new(const struct modload_config *cfg, struct modloader **out)
{
	struct modloader *ml;
	int err;

	*out = NULL;
	ml = calloc(1, sizeof *ml);
	if (!ml)
		return -ENOMEM;
	ml->dirfd = cfg->dirfd;
	if (cfg->ops)
		ml->ops = *cfg->ops;
	if (!ml->ops.finit_module)
		ml->ops.finit_module = real_finit_module;
	ml->log = cfg->log;
	ml->log_arg = cfg->log_arg;
	ml->unxz = cfg->unxz;
	ml->decode = cfg->decode;
	ml->pack.fd = -1;
	err = read_index(cfg->dirfd, cfg->index, &ml->buf);
	if (!err)
		err = modload_index_parse(ml, ml->buf);
	if (err) {
		modload_free(ml);
		return err;
	}
	*out = ml;
	return 0;
}

void modload_free(struct modloader *ml)
{
	if (!ml)
		return;
	modload_pack_stop(ml);
	free(ml->pack.order);
	free(ml->mods);
	free(ml->aliases);
	free(ml->depbuf);
	free(ml->buf);
	free(ml);
}

const char *modload_kernel_release(const struct modloader *ml)
{
	return ml->krel;
}

uint64_t modload_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* One finit_module of NAME.ko; the module's state records the outcome. */
static int load_one(struct modloader *ml, struct modload_mod *m)
{
	char file[MODIDX_NAME_MAX + sizeof ".ko"];
	uint64_t t0, dt = 0;
	int fd, err;

	snprintf(file, sizeof file, "%s.ko", m->name);
	fd = openat(ml->dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && m->pack_at >= 0) {
		/* not a file yet: the pack holds it (the fetch says why when it cannot) */
		err = modload_pack_fetch(ml, m - ml->mods);
		fd = err ? -1 : openat(ml->dirfd, file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && !err)
			err = -errno;
		if (err)
			errno = -err;
	}
	if (fd < 0) {
		err = -errno;
	} else {
		t0 = modload_now_ns();
		err = ml->ops.finit_module(ml->ops.arg, fd, "", 0);
		dt = modload_now_ns() - t0;
		ml->st.load_ns += dt;
		close(fd);
	}
	if (err == -EEXIST) {
		modload_log(ml, MODLOAD_LOG_DEBUG, "module %s: already loaded", m->name);
		err = 0;
	} else if (!err) {
		modload_log(ml, MODLOAD_LOG_INFO, "loaded module %s (%llu.%03llu ms)", m->name,
			 (unsigned long long)(dt / 1000000), (unsigned long long)(dt / 1000 % 1000));
	}
	if (!err) {
		m->state = ST_LOADED;
		ml->st.loaded++;
		return 1;
	}
	m->state = ST_FAILED;
	m->err = err;
	ml->st.failed++;
	if (m->flags & MOD_OPTIONAL)
		modload_log(ml, MODLOAD_LOG_WARNING, "optional module %s not loaded, skipped: %s", m->name,
			 strerror(-err));
	else
		modload_log(ml, MODLOAD_LOG_ERR, "unable to load module %s: %s", m->name, strerror(-err));
	return err;
}

int modload_at(struct modloader *ml, int i)
{
	struct modload_mod *m = &ml->mods[i];
	int d, err;

	if (m->state == ST_LOADED)
		return 0;
	if (m->state == ST_FAILED)
		return m->err;
	/* dependencies have lower indexes (the parser checked it), so this recursion ends */
	for (d = 0; d < m->ndeps; d++) {
		struct modload_mod *dep = &ml->mods[m->deps[d]];

		err = modload_at(ml, m->deps[d]);
		if (err < 0 && !(dep->flags & MOD_OPTIONAL)) {
			/* the module cannot link without it: do not try, say why */
			m->state = ST_FAILED;
			m->err = err;
			ml->st.failed++;
			modload_log(ml, (m->flags & MOD_OPTIONAL) ? MODLOAD_LOG_WARNING : MODLOAD_LOG_ERR,
				 "unable to load module %s: its dependency %s failed", m->name, dep->name);
			return err;
		}
	}
	return load_one(ml, m);
}

int modload_base(struct modloader *ml)
{
	int i, err, first = 0;

	for (i = 0; i < ml->nmods; i++) {
		if (!(ml->mods[i].flags & MOD_BASE))
			continue;
		err = modload_at(ml, i);
		if (err < 0 && !(ml->mods[i].flags & MOD_OPTIONAL) && !first)
			first = err;
	}
	return first;
}

int modload_by_name(struct modloader *ml, const char *name)
{
	int i = modload_find(ml, name);

	if (i < 0)
		return -ENOENT;
	i = modload_at(ml, i);
	return i < 0 ? i : 0;
}

void modload_get_stats(const struct modloader *ml, struct modload_stats *st)
{
	*st = ml->st;
	st->pack_total = ml->pack.total;
}
