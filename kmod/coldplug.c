/* coldplug.c: walks sysfs for modalias files and loads the modules whose alias patterns match. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io.h"
#include "kmod-int.h"

static int alias_match(const struct modload_alias *a, const char *modalias)
{
	/* the literal head of the pattern ("pci:v", "usb:v") rejects most pairs cheaply */
	if (strncmp(a->pattern, modalias, a->prefix) != 0)
		return 0;
	return fnmatch(a->pattern, modalias, 0) == 0;
}

int modload_lookup(const struct modloader *ml, const char *modalias, const char **names, int max)
{
	int i, j, n = 0;

	for (i = 0; i < ml->naliases; i++) {
		const struct modload_alias *a = &ml->aliases[i];

		if (!alias_match(a, modalias))
			continue;
		/* a module with several matching patterns is named once */
		for (j = 0; j < i; j++)
			if (ml->aliases[j].mod == a->mod && alias_match(&ml->aliases[j], modalias))
				break;
		if (j < i)
			continue;
		if (n < max)
			names[n] = ml->mods[a->mod].name;
		n++;
	}
	return n;
}

struct walk {
	struct modloader *ml;
	int loaded;
};

static void plug(struct walk *w, const char *modalias)
{
	struct modloader *ml = w->ml;
	int i, before;

	for (i = 0; i < ml->naliases; i++) {
		const struct modload_alias *a = &ml->aliases[i];

		if (ml->mods[a->mod].state != ST_NONE || !alias_match(a, modalias))
			continue;
		if ((ml->mods[a->mod].flags & MOD_LATE) && !ml->late_ok) {
			ml->late_held = 1;
			continue;
		}
		modload_log(ml, MODLOAD_LOG_DEBUG, "%s matches %s", modalias, ml->mods[a->mod].name);
		/* counts the dependencies newly loaded on the way too */
		before = ml->st.loaded;
		(void)modload_at(ml, a->mod);
		w->loaded += ml->st.loaded - before;
	}
}

static void read_modalias(struct walk *w, int dirfd)
{
	char buf[MODLOAD_MAX_MODALIAS];
	size_t n;

	/* the caller saw a regular file, not a symlink, under this name */
	if (read_small_file(dirfd, "modalias", buf, sizeof buf) != 0)
		return;
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	if (n)
		plug(w, buf);
}

/* Walks the directory dirfd (which it closes), depth levels below the top. */
static int walk_dir(struct walk *w, int dirfd, int depth)
{
	struct dirent *de;
	DIR *d;

	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		unsigned char type = de->d_type;
		int fd;

		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_REG && strcmp(de->d_name, "modalias") == 0) {
			read_modalias(w, dirfd);
			continue;
		}
		if (type != DT_DIR || depth >= MODLOAD_MAX_DEPTH)
			continue;
		/* /sys/devices/virtual: devices with no hardware behind them (ttys, loop, mem, net
		 * tunnels), nearly half of sysfs's entries and no modalias a driver here matches;
		 * every walk under TCG is the dearer for them */
		if (depth == 0 && strcmp(de->d_name, MODLOAD_SKIP_TOP) == 0)
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			(void)walk_dir(w, fd, depth + 1);
	}
	closedir(d);
	return 0;
}

int modload_allow_late(struct modloader *ml)
{
	int held = !ml->late_ok && ml->late_held;

	ml->late_ok = 1;
	return held;
}

int modload_coldplug(struct modloader *ml, int sysfd)
{
	struct walk w = { ml, 0 };
	int fd, err;

	fd = openat(sysfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = walk_dir(&w, fd, 0);
	return err < 0 ? err : w.loaded;
}
