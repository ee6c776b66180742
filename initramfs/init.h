/* init.h: the state of the init, one struct passed down through every stage. */
#ifndef OVERLIVE_INIT_H
#define OVERLIVE_INIT_H
#include "config.h"
#include "probe.h"
#include "slotrec.h"
#include "sys.h"

/* Where the init puts things inside the initramfs before moving them into the new root. */
#define LIVE_DIR     "/run/live"
#define MEDIUM_DIR   LIVE_DIR "/medium"
#define LOWER_DIR    LIVE_DIR "/lower"
#define UPPER_DIR    LIVE_DIR "/upper"
#define PERSIST_DIR  LIVE_DIR "/persist"
#define DATA_DIR     LIVE_DIR "/data"      /* live.data: an ext4 the live system uses itself */
#define ISO_DIR      LIVE_DIR "/iso"       /* live.iso: the ISO file's filesystem */
#define RAM_DIR      LIVE_DIR "/ram"       /* live.toram: the layers' copies */
#define LAYERS_DIR   LIVE_DIR "/layers"    /* the layers above the base one */
#define NEWROOT      "/newroot"
#define PERSIST_BIN  "/bin/persist"       /* this program by the name persist (main.c), a link to /init */

/* The exit environment (exitenv.c, shutdown.c): the live system's /run/initramfs holds these. */
#define EXIT_DIR      "/run/initramfs"
#define EXIT_SHUTDOWN "/shutdown"          /* this init, run by systemd as PID 1 at the very end */
#define EXIT_PERSIST  "/bin/persist"       /* the same file again: persist (main.c) */
#define EXIT_UPPER    "/upper"             /* a bind of UPPER_DIR: upper/ and work/ */
#define EXIT_SAVEDEV  "/savedev"           /* a bind of the filesystem that holds the save file */
#define LIVE_PERSIST  LIVE_DIR "/bin/persist"
#define SAVE_UNIT     "overlive-save"      /* the systemd service (and timer) that saves now */
#define EXIT_NOSAVE   "/not-saving"        /* why the save file may not be written in this boot */

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };

/* A block device found by device_find (media.c). */
struct found_device {
	char dev[64];               /* /dev/NAME */
	char partname[64];          /* its GPT partition name, or "" */
	char partuuid[40];          /* its PARTUUID (see lib/devspec.h), or "" */
	struct probe_result fs;
};

struct init_ctx {
	struct config cfg;
	const struct sysops *sys;
	int kmsg;                   /* /dev/kmsg, or -1 */
	int console_level;          /* the kernel's console_loglevel: lines below it reach the console */
	const char *stage;          /* the stage running now, for messages */
	int rootfd;                 /* "/": the init's paths (/run/live/...) are opened below it (at_root()) */
	int sysfd, devfd;           /* /sys and /dev, relative walks only (a test points them elsewhere) */
	void *modloader;            /* the module loader (struct modloader, kmod/), or NULL */
	char **argv;                /* the kernel's arguments for the root's init */

	struct found_device medium_found; /* the medium: its names (device_is) */
	char medium_dev[64];        /* /dev/NAME of the medium */
	struct probe_result medium; /* what its superblock said */
	int medium_is_lower;        /* the medium is itself the squashfs (a raw partition) */
	char lowerdir[1024];        /* the overlay's lowerdir=, top layer first */
	char persist_env[1024];     /* /run/live/persist.env for the live system's persist, or "" */
	char persist_dir[64];       /* where the save file's filesystem is mounted, or "" (no save file) */
	char persist_ro[400];       /* why the save file may not be written in this boot, or "" */
	int upper_on_disk;          /* the upper is live.upper='s ext4, not a tmpfs */
	int medium_checked;         /* the medium's FAT was checked before its first mount */
	char medium_fat_bad[256];   /* why the medium's FAT must not be written (beyond repair), or "" */
	int fat_unchecked;          /* a FAT was to be checked and this initramfs has no fsck.fat */
	int slot_active;            /* the root image is slot A or B of live.root (slot.c) */
	int slot_record;            /* ... and the medium has a valid slot record */
	int slot_booted;            /* the slot this boot uses (SLOT_A, SLOT_B) */
	int slot_trying;            /* ... a pending one, whose try was counted */
	char slot_other[128];       /* the other slot's file name: never a layer */
	char slot_log[1024];        /* what slot.c said, for /run/live/update.log */
	char slot_image[CONFIG_STR + 128]; /* the booted slot's image on the medium (/live/root-b.sqfs), or "" */
	char slot_dir[64];          /* the slot record's directory (slot_file: the record file is there) */
	int slot_file, slot_newest; /* ... and slot_rec its newest copy, when slot_record */
	struct slotrec slot_rec;
	uint64_t save_gen;          /* the save file's generation restored (restore's --gen-file), or 0 */
	int save_mark;              /* overlive-update --mark-good is to record this boot's save (slot.c) */

	/* A stage that fails says what it was doing and what the user can try; main reports it. */
	char what[320];
	char hint[320];
	int what_says_why;          /* what[] already holds the reason: no errno text after it */
};

/* Records what failed (printf-style) and the hint; returns err (a -errno) for the caller. */
int fail(struct init_ctx *c, int err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same, when the message itself says why, so no errno text follows it. */
int failx(struct init_ctx *c, int err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* stages.c: the boot, in order, ending with a NULL name; live.break=NAME stops before NAME. */
struct stage {
	const char *name;
	int (*run)(struct init_ctx *c);
};
extern const struct stage init_stages[];

/* log.c */
void log_open(struct init_ctx *c);
void log_msg(struct init_ctx *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_stage(struct init_ctx *c, const char *stage);
double uptime_seconds(void);

/* emergency.c: explains c->what and c->hint with err, then the rescue shell; never returns. */
void emergency(struct init_ctx *c, int err) __attribute__((noreturn));
/* Says what c->what and c->hint hold, at level (a failure the boot survives: LOG_WARN). */
void report_failure(struct init_ctx *c, int err, int level);
/* A rescue shell on purpose (live.break); returns when the shell exits. */
void rescue_shell(struct init_ctx *c, const char *why);

/* modules.c */
int modules_load_base(struct init_ctx *c);
int modules_coldplug(struct init_ctx *c);
/* Once a search found nothing: lets the late drivers (legacy IDE) load; how many loaded. */
int modules_coldplug_late(struct init_ctx *c);
/* Before the switch: logs the module pack's cost and stops its decoder. */
void modules_done(struct init_ctx *c);
/* Before a rescue shell: every module of the pack as a file in /lib/modules. */
void modules_unpack_all(struct init_ctx *c);
/* Loads the driver(s) of a probed filesystem type ("ext4", "vfat", ...); 0 or fail()'s -errno. */
int modules_load_fs(struct init_ctx *c, const char *type);

/* media.c */
/*
 * Finds the block device matching spec (lib/devspec.h: LABEL=, UUID=, PARTLABEL=, PARTUUID=,
 * /dev/NAME) within wait_s
 * seconds, loading drivers for devices that appear meanwhile. param names the kernel parameter
 * in messages. On timeout it lists the devices seen and returns -ENODEV (after fail()). A device
 * found whose filesystem is unknown returns its probe error (-ENOENT: none) with out->dev set.
 */
int device_find(struct init_ctx *c, const char *param, const char *spec, unsigned wait_s,
		struct found_device *out);
/* Whether spec (lib/devspec.h) names the device found: the same rule as device_find's. */
int device_is(const struct found_device *d, const char *spec);
/* The boot medium: device_find for live.media, into c->medium*. */
int medium_find(struct init_ctx *c);
/* loopdev.c: attaches fd to a free loop device, read-only; *loopfd must stay open until mount. */
int loop_attach(struct init_ctx *c, int fd, char *name, size_t cap, int *loopfd);
/* The same, read-write (fd must be open O_RDWR): for a persistence image file. */
int loop_attach_rw(struct init_ctx *c, int fd, char *name, size_t cap, int *loopfd);
/* Read-write over len bytes at off of fd (a block device open O_RDWR). */
int loop_attach_range(struct init_ctx *c, int fd, uint64_t off, uint64_t len, char *name, size_t cap, int *loopfd);
/* fatmap.c: the byte offset on the FAT device devfd of filefd's clusters when they are one run
 * (0), -EXDEV when they are not, or -errno. */
int fat_file_extent(int devfd, int filefd, uint64_t *off);

/* upper.c: a persistent upper on a partition or an image file, or -ENOENT to use a tmpfs. */
int upper_persistent(struct init_ctx *c);
/* live.data=SPEC: mounts that ext4 read-write on DATA_DIR for the live system; warns and goes on. */
void data_mount(struct init_ctx *c);

/* mounts.c */
/* A path of the init ("/run/live/medium") as openat(c->rootfd, ...) takes it: without the '/'. The
 * seam's calls take the path itself: at boot the root is "/", a test's tree only mirrors it. */
const char *at_root(const char *path);
/* mkdir -p of the init's path below dirfd (c->rootfd). */
int mkdir_p(int dirfd, const char *path, unsigned mode);
/* The mount type of a probed filesystem type (ext2 and ext3 mount with the ext4 driver). */
const char *mount_type(const char *probed);
int mount_medium(struct init_ctx *c);
int mount_lower(struct init_ctx *c);
int mount_upper(struct init_ctx *c);
int mount_overlay(struct init_ctx *c);
int move_mounts(struct init_ctx *c);

/* fatcheck.c: fsck.fat on dev (what names it in messages) before the init writes to it: 0 when
 * clean, repaired (said on the console) or unchecked (no fsck.fat: said); -EUCLEAN when beyond
 * repair, with why filled: then nothing may write to it. dev must not be mounted. */
int fat_check(struct init_ctx *c, const char *dev, const char *what, char *why, size_t cap);

/* restore.c: the restore stage */
/* The save file of live.persist= lives on the medium (as far as its spec tells before a search). */
int persist_on_medium(const struct init_ctx *c);
int restore_save_file(struct init_ctx *c);
int run_persist(const char *bin, char *const argv[]);

/* exitenv.c: /run/initramfs of the new root, for the save at shutdown */
int exitenv_prepare(struct init_ctx *c);
/* Writes text as the file path (0644, created or truncated); 0 or -errno. */

/* slot.c: the root image slot to boot (docs/updates.md): its file name beside base_a (live.root's
 * last part) in base; the pending slot's try counted down on the medium first. 0 or fail()'s. */
int slot_choose(struct init_ctx *c, const char *dir, const char *base_a, char *base, size_t cap);
/* The root image this boot uses, as a path on the medium: live.root, or the slot booted. */
static inline const char *root_image(const struct init_ctx *c) { return c->slot_image[0] ? c->slot_image : c->cfg.root; }
/* Once the new root's /run is there: /run/live/slot, /run/live/update.log, and in a boot that
 * tries a pending slot the systemd unit that marks it good. */
void slot_write_run(struct init_ctx *c);
/*
 * live.persist beside a slot record: the boots since the last one marked good are counted on the
 * medium before the restore (docs/updates.md, "A save that breaks the boot"). Returns the
 * generation to restore (--at), 0 for the newest, or -1: a clean boot, the save file only read
 * (why in c->persist_ro).
 */
long long save_try(struct init_ctx *c);
/* shutdown.c: the same binary as /run/initramfs/shutdown; never returns as PID 1 */
int shutdown_main(int argc, char **argv);

/* switchroot.c */
int check_init(struct init_ctx *c);
int switch_root(struct init_ctx *c);

#endif
