/* kmod.h: the boot-time module loader: loads the modules of modules.idx (base, then coldplug by modalias). */
#ifndef OVERLIVE_KMOD_H
#define OVERLIVE_KMOD_H
#include <stdint.h>
#include "modidx.h"

/* The index's limits are in modidx.h (a bigger one is refused with -E2BIG); the walk's are here. */
#define MODLOAD_MAX_DEPTH    24     /* directory levels walked below the sysfs fd */
#define MODLOAD_MAX_MODALIAS 4096   /* bytes read from one modalias file */
#define MODLOAD_SKIP_TOP     "virtual" /* the directory of sysfd coldplug does not walk */

/* Message levels, as syslog and /dev/kmsg number them. */
enum { MODLOAD_LOG_ERR = 3, MODLOAD_LOG_WARNING = 4, MODLOAD_LOG_INFO = 6, MODLOAD_LOG_DEBUG = 7 };

/* The init decides where messages go (one complete line, no newline, per call). */
typedef void (*modload_log_fn)(void *arg, int level, const char *msg);

/*
 * The seam for the privileged call: finit_module(2) returning 0 or -errno. NULL members (or
 * a NULL struct) mean the real system call. Tests put a recorder here.
 */
struct modload_ops {
	int (*finit_module)(void *arg, int fd, const char *params, int flags);
	void *arg;
};

/*
 * A decoder run as a function in a child process (fork, no exec): the pack on in, the decoded
 * bytes onto out; 0 when the stream was whole, else -errno. Its result is the child's exit status.
 */
typedef int (*modload_decode_fn)(int in, int out);
/* The built-in xz decoder (kmod/xzdec.c), or NULL when the init was built without its source. */
extern const modload_decode_fn modload_xz_builtin;

struct modload_config {
	int dirfd;                     /* the directory holding the .ko files and the index */
	const char *index;             /* path of the index relative to dirfd: MODIDX_FILE */
	const struct modload_ops *ops; /* NULL: the real finit_module */
	modload_log_fn log;            /* NULL: silent */
	void *log_arg;
	/*
	 * The command that decodes the index's pack (FORMAT xz) from its stdin to its stdout, e.g.
	 * { "/bin/busybox", "unxz", "-c", NULL } (a name without '/' is looked up in PATH). NULL:
	 * a module that is only in the pack fails to load with -ENOEXEC.
	 */
	const char *const *unxz;
	/* The decoder as a function (modload_xz_builtin); when set, unxz is not used. */
	modload_decode_fn decode;
};

struct modloader;

struct modload_stats {
	int loaded;         /* modules loaded (or found already loaded: EEXIST) */
	int failed;         /* modules that failed (optional or not) */
	uint64_t load_ns;   /* time spent inside finit_module */
	uint64_t pack_bytes;    /* bytes of the pack decoded so far ... */
	uint64_t pack_total;    /* ... of this many (0: no pack) */
	uint64_t pack_ns;       /* time spent decoding it and writing its modules out */
};

/* Reads and checks the index. 0, or -errno (-EINVAL for a malformed index, -E2BIG over a limit). */
int modload_new(const struct modload_config *cfg, struct modloader **out);
/* Stops the pack's decoder if it runs (and reaps it), then frees ml. NULL is fine. */
void modload_free(struct modloader *ml);
/* Makes every module of the pack a file NAME.ko (for a rescue shell's insmod). 0 or -errno. */
int modload_unpack_all(struct modloader *ml);
/* Stops the pack's decoder if it runs: before the initramfs goes away. Later fetches fail. */
void modload_pack_stop(struct modloader *ml);

/* The kernel release the index was made for ("k" line), or "" when it does not say. */
const char *modload_kernel_release(const struct modloader *ml);

/*
 * Loads every base module in index order (dependencies come first). EEXIST counts as loaded.
 * An optional module that fails is logged as a warning and skipped; a required one is logged
 * as an error naming it, the others are still tried, and the first such -errno is returned.
 */
int modload_base(struct modloader *ml);

/*
 * Loads one module of the index by name ('-' and '_' are the same), its dependencies first.
 * 0, -ENOENT when the index has no such module, or the -errno of the failed load.
 */
int modload_by_name(struct modloader *ml, const char *name);

/*
 * Reads every "modalias" file under sysfd (e.g. an fd of /sys/devices: a relative walk that
 * follows no symlink, goes at most MODLOAD_MAX_DEPTH levels deep and skips sysfd's own
 * MODLOAD_SKIP_TOP directory: devices without hardware), matches each against the
 * index's alias patterns (fnmatch globs) and loads the matching modules, dependencies first,
 * each at most once per loader (a module that failed is not retried). Returns how many
 * modules it newly loaded (0 once nothing new appears), or -errno when sysfd cannot be read.
 * Load failures are logged, not returned. A late driver (modules.idx flag l) is held back until
 * modload_allow_late.
 */
int modload_coldplug(struct modloader *ml, int sysfd);

/* Lets coldplug load late drivers from now on; 1 when one was held back (coldplug again), else 0. */
int modload_allow_late(struct modloader *ml);

/*
 * The modules whose alias patterns match modalias: up to max names into names[] (pointers
 * into ml). Returns the number of matches (may exceed max). Loads nothing.
 */
int modload_lookup(const struct modloader *ml, const char *modalias, const char **names, int max);

void modload_get_stats(const struct modloader *ml, struct modload_stats *st);

#endif
