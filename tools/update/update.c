/*
 * update.c: overlive-update, the A/B root image updater (docs/updates.md): writes a new image
 * into the slot that is not the good one, checks it, makes it durable, and only then sets the
 * slot record to "that slot pending, 3 tries"; --mark-good makes the slot this boot runs the good
 * one; --status shows the record. It reads and writes the record with the init's own code
 * (initramfs/slotio.c) and checks an image with the init's prober (initramfs/probe.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "cmdline.h"
#include "io.h"
#include "number.h"
#include "probe.h"
#include "report.h"
#include "sha256.h"
#include "slotio.h"
#include "update.h"

#define LIVE_MEDIUM "/run/live/medium"
#define LIVE_PERSIST_ENV "/run/live/persist.env"   /* the init writes it when a save file is in use */
#define CHUNK       (1u << 20)

static const char usage[] =
	"usage: overlive-update NEW.sqfs [--sha256 HEX] [--medium DIR] [--root PATH]\n"
	"       overlive-update --mark-good [--medium DIR]\n"
	"       overlive-update --status [--medium DIR] [--root PATH]\n"
	"\n"
	"Writes NEW.sqfs into the root image slot that is not the good one (slot A is live.root,\n"
	"live/root.sqfs; slot B is live/root-b.sqfs), checks it (a squashfs, and its SHA-256 against\n"
	"HEX when given, read back from the medium), makes it durable, and only then sets the slot\n"
	"record (live/slots) to \"that slot pending, 3 tries\": the next boots try it; a boot that\n"
	"runs overlive-update --mark-good makes it the good slot; after 3 boots without that the\n"
	"init goes back to the good slot by itself.\n"
	"\n"
	"  --sha256 HEX   the image's expected SHA-256 (64 hex digits, as sha256sum prints it)\n"
	"  --medium DIR   the medium's mounted file system (default in the live system: " LIVE_MEDIUM ")\n"
	"  --root PATH    slot A's path on the medium (live.root; default /live/root.sqfs, or what\n"
	"                 this boot used)\n"
	"  --mark-good    this boot's slot (the init wrote it in " SLOT_RUN_FILE ") becomes the good one\n"
	"  --status       the record: the good slot, the pending slot and its tries, this boot's slot\n"
	"  --help         this text\n"
	"\n"
	"Exit status: 0 done, 100 bad usage or input (nothing written), 111 a system failure.\n";

struct upd {
	const char *image, *sha256, *medium, *root;
	int mark_good, status;
	int booted;                 /* this boot's slot (from SLOT_RUN_FILE), or -1 */
	int save_said;              /* SLOT_RUN_FILE names the save's generation restored (save=) */
	uint64_t save_gen;          /* ... it: 0 when this boot restored none */
	char dev[64];               /* the medium's device, from SLOT_RUN_FILE, or "" */
	char dir[512];              /* the slots' directory */
	char name[2][128];          /* the slots' file names */
	int dfd;
	int remounted;              /* the medium was read-only and is read-write for now */
	struct slotrec rec;
	int newest, have;           /* have: 1 a valid record, 0 none yet */
};

/* SLOT_RUN_FILE: one line of key=value words (the kernel command line's tokenizer reads it). */
static void read_run_file(struct upd *u, char *root, size_t cap)
{
	char text[512], word[256], *k, *v;
	const char *pos = text;

	u->booted = -1;
	if (read_small_file(AT_FDCWD, SLOT_RUN_FILE, text, sizeof text) < 0)
		return;
	while (cmdline_next(&pos, word, sizeof word) > 0) {
		cmdline_split(word, &k, &v);
		if (!v)
			continue;
		if (!strcmp(k, "slot") && (!strcmp(v, "A") || !strcmp(v, "B")))
			u->booted = v[0] == 'A' ? SLOT_A : SLOT_B;
		else if (!strcmp(k, "root"))
			snprintf(root, cap, "%s", v);
		else if (!strcmp(k, "dev"))
			snprintf(u->dev, sizeof u->dev, "%s", v);
		else if (!strcmp(k, "save"))
			u->save_said = parse_u64(v, &u->save_gen) == 0;
	}
}

/* The medium's directory of the slots, their names, and the record. */
static void open_medium(struct upd *u)
{
	static char root[256];
	const char *why = NULL, *slash;
	int e;

	read_run_file(u, root, sizeof root);
	if (!u->medium) {
		if (u->booted < 0 && access(LIVE_MEDIUM, F_OK) < 0)
			die_msg(EXIT_USAGE, 0, "unable to find the medium: this is not a live system booted by overlive "
				"(no %s); name the medium's mounted file system with --medium DIR", SLOT_RUN_FILE);
		u->medium = LIVE_MEDIUM;
	} else {
		/* this boot's slot still counts (the medium named may be this boot's, mounted
		 * elsewhere, as after live.toram); its device may not be this one's */
		u->dev[0] = '\0';
	}
	if (!u->root)
		u->root = root[0] ? root : "/live/root.sqfs";
	slash = strrchr(u->root, '/');
	if (u->root[0] != '/' || !slash[1] || strstr(u->root, ".."))
		die_msg(EXIT_USAGE, 0, "unable to use --root %s: give slot A's absolute path on the medium, e.g. "
			"/live/root.sqfs", u->root);
	snprintf(u->dir, sizeof u->dir, "%s%.*s", u->medium, (int)(slash - u->root), u->root);
	if (slot_file_name(slash + 1, SLOT_A, u->name[0], sizeof u->name[0]) < 0 ||
	    slot_file_name(slash + 1, SLOT_B, u->name[1], sizeof u->name[1]) < 0)
		die_msg(EXIT_USAGE, 0, "unable to name the slots of %s: the name is too long", u->root);
	u->dfd = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u->dfd < 0)
		die_msg(errno == ENOENT ? EXIT_USAGE : EXIT_SYSTEM, errno, "unable to open the medium's directory %s "
			"(check --medium and --root)", u->dir);
	e = slotio_load(u->dfd, SLOTREC_FILE, &u->rec, &u->newest, &why);
	if (e == -EBADMSG)
		die_msg(EXIT_USAGE, 0, "unable to use the slot record %s/%s: it is damaged (%s). The init boots slot A "
			"(%s) meanwhile; nothing was changed. To start over, boot the slot you trust with live.slot=A "
			"or B and remove %s/%s: the next update writes a new record", u->dir, SLOTREC_FILE, why,
			u->name[0], u->dir, SLOTREC_FILE);
	if (e < 0 && e != -ENOENT)
		die_msg(EXIT_SYSTEM, e, "unable to read the slot record %s/%s", u->dir, SLOTREC_FILE);
	u->have = e == 0;
}

/* The medium read-write while we write (the live system mounts it read-only), then back. */
static void writable(struct upd *u)
{
	struct statvfs vfs;

	if (fstatvfs(u->dfd, &vfs) == 0 && !(vfs.f_flag & ST_RDONLY))
		return;
	if (mount(NULL, u->medium, NULL, MS_REMOUNT | MS_NOATIME, NULL) < 0)
		die_msg(EXIT_SYSTEM, errno, "unable to make the medium %s writable (mount -o remount,rw)", u->medium);
	u->remounted = 1;
}

static void read_only_again(struct upd *u)
{
	if (u->remounted && mount(NULL, u->medium, NULL, MS_REMOUNT | MS_RDONLY | MS_NOATIME, NULL) < 0)
		warn_msg(errno, "unable to make the medium %s read-only again (it is, at the next boot)", u->medium);
}

/* Writes the record's next generation into the copy that does not hold the newest. */
static int store(struct upd *u, struct slotrec *n)
{
	int e;

	if (!u->have && (e = slotio_create(u->dfd, SLOTREC_FILE)) < 0)
		return e;
	n->gen = u->have ? u->rec.gen + 1 : 1;
	e = slotio_store(u->dfd, SLOTREC_FILE, NULL, n, u->have ? 1 - u->newest : 0);
	if (e == 0) {
		u->newest = u->have ? 1 - u->newest : 0;
		u->rec = *n;
		u->have = 1;
	}
	return e;
}

static int cmd_status(struct upd *u)
{
	char what[96];

	open_medium(u);
	if (u->have) {
		slotrec_describe(&u->rec, what, sizeof what);
		printf("record: %s (generation %llu)\n", what, (unsigned long long)u->rec.gen);
		if (u->rec.pending != SLOT_NONE && !u->rec.tries)
			printf("slot %c used its tries without being marked good: the init boots slot %c\n",
			       slot_letter(u->rec.pending), slot_letter(u->rec.good));
	} else {
		printf("record: none (%s/%s): the init boots slot A\n", u->dir, SLOTREC_FILE);
	}
	for (int s = SLOT_A; s <= SLOT_B; s++) {
		struct stat st;
		if (fstatat(u->dfd, u->name[s], &st, 0) == 0)
			printf("slot %c: %s/%s, %lld bytes\n", slot_letter(s), u->dir, u->name[s], (long long)st.st_size);
		else
			printf("slot %c: %s/%s, absent\n", slot_letter(s), u->dir, u->name[s]);
	}
	if (u->booted >= 0)
		printf("this boot: slot %c\n", slot_letter(u->booted));
	return 0;
}

/*
 * This boot is good: its slot, when it was the pending one, becomes the good one; the save's
 * generation it restored becomes the last good one and the boots counted since are forgotten
 * (docs/updates.md, "A save that breaks the boot").
 */
static int cmd_mark_good(struct upd *u)
{
	struct slotrec n;
	char done[160] = "";
	int e, slot, save;

	open_medium(u);
	if (u->booted < 0)
		die_msg(EXIT_USAGE, 0, "unable to mark this boot good: %s does not say which slot booted (run it in "
			"the live system that overlive's init started)", SLOT_RUN_FILE);
	n = u->rec;
	if (!u->have)
		n = (struct slotrec){ .good = (uint8_t)u->booted, .pending = SLOT_NONE };
	slot = u->have && u->rec.pending == u->booted;
	if (slot) {
		n.good = (uint8_t)u->booted;
		n.pending = SLOT_NONE;
		n.tries = 0;
	}
	if (u->save_said && (u->save_gen || n.save_good)) {
		n.save_good = u->save_gen ? u->save_gen : n.save_good;
		n.save_boots = 0;
	}
	save = n.save_good != u->rec.save_good || n.save_boots != u->rec.save_boots;
	if (!slot && !save) {
		printf("overlive-update: slot %c is running; nothing to mark (%s)\n", slot_letter(u->booted),
		       !u->have && !u->save_said ? "no slot record" : u->booted == u->rec.good || !u->have ?
		       "it is the good slot" : "it is not the pending slot");
		return 0;
	}
	if (faccessat(u->dfd, SLOTREC_FILE, F_OK, 0) < 0) {
		printf("overlive-update: slot %c is running; no slot record file %s/%s, so this boot's save is not "
		       "recorded (an image made by ./build.sh image has one; overlive-update NEW.sqfs makes one)\n",
		       slot_letter(u->booted), u->dir, SLOTREC_FILE);
		return 0;
	}
	/* through the device when the init said which: the medium stays read-only */
	if (u->dev[0] && u->have) {
		n.gen = u->rec.gen + 1;
		e = slotio_store(u->dfd, SLOTREC_FILE, u->dev, &n, 1 - u->newest);
	} else if (u->dev[0]) {
		n.gen = 1;
		e = slotio_store(u->dfd, SLOTREC_FILE, u->dev, &n, 0);
	} else {
		e = -EXDEV;
	}
	if (e == -EXDEV) {
		writable(u);
		e = store(u, &n);
		read_only_again(u);
	}
	if (e < 0)
		die_msg(EXIT_SYSTEM, e, "unable to mark this boot good in %s/%s (the record is as it was: the init "
			"counts its tries down)", u->dir, SLOTREC_FILE);
	if (slot)
		snprintf(done, sizeof done, "slot %c (%s) is the good slot now", slot_letter(u->booted),
			 u->name[u->booted]);
	if (save)
		snprintf(done + strlen(done), sizeof done - strlen(done), "%sthe save's generation %llu is the last "
			 "good one", slot ? "; " : "", (unsigned long long)n.save_good);
	printf("overlive-update: %s\n", done);
	return 0;
}

/* Copies n bytes of in to out (in place, from byte 0), hashing them. */
static int copy_hash(int in, int out, unsigned long long n, char hex[65])
{
	unsigned char *buf = malloc(CHUNK), d[32];
	struct sha256 h;
	unsigned long long done = 0;
	int e = 0;

	if (!buf)
		return -ENOMEM;
	sha256_init(&h);
	while (!e && done < n) {
		size_t want = n - done < CHUNK ? (size_t)(n - done) : CHUNK, got;
		if ((e = pread_all(in, buf, want, (off_t)done, &got)) < 0)
			break;
		if (got != want) {
			e = -EIO;   /* the source got shorter while it was read */
			break;
		}
		sha256_update(&h, buf, got);
		if (out >= 0)
			e = pwrite_all(out, buf, got, (off_t)done);
		done += got;
	}
	free(buf);
	sha256_final(&h, d);
	sha256_hex(d, hex);
	return e;
}

#define SUM_NAME_MAX (sizeof ((struct upd *)0)->name[0] + sizeof SLOT_SUM_SUFFIX)
/* the name of SLOT's own checksum file beside its image: NAME.sha256 */
static const char *sum_name(const struct upd *u, int slot, char buf[SUM_NAME_MAX])
{
	snprintf(buf, SUM_NAME_MAX, "%s" SLOT_SUM_SUFFIX, u->name[slot]);
	return buf;
}

/* SLOT's own checksum file (a sha256sum line: live.verify's), made durable; written in place (the
 * line's length is the same for every image of a slot) */
static int write_sum(struct upd *u, int slot, const char *hex)
{
	char name[SUM_NAME_MAX], line[64 + 3 + sizeof u->name[0]];
	int n = snprintf(line, sizeof line, "%s  %s\n", hex, u->name[slot]), fd, e = 0;

	fd = openat(u->dfd, sum_name(u, slot, name), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if ((e = pwrite_all(fd, line, (size_t)n, 0)) == 0 && (ftruncate(fd, n) < 0 || fsync(fd) < 0))
		e = -errno;
	close(fd);
	if (!e && fsync(u->dfd) < 0)
		e = -errno;
	return e;
}

static int cmd_update(struct upd *u)
{
	struct probe_result pr;
	struct slotrec n;
	struct stat st;
	char src_hex[65], back_hex[65];
	int in, out, target, e;

	if (u->sha256) {
		size_t i;
		for (i = 0; u->sha256[i] && strchr("0123456789abcdefABCDEF", u->sha256[i]); i++)
			;
		if (i != 64 || u->sha256[i])
			die_msg(EXIT_USAGE, 0, "unable to use --sha256 %s: give the 64 hex digits sha256sum prints", u->sha256);
	}
	in = open(u->image, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0)
		die_msg(errno == ENOENT ? EXIT_USAGE : EXIT_SYSTEM, errno, "unable to open the new image %s", u->image);
	if (probe_fd(in, &pr) < 0 || strcmp(pr.type, "squashfs"))
		die_msg(EXIT_USAGE, 0, "unable to use %s: it is not a squashfs image (found: %s); nothing was written",
			u->image, pr.type[0] ? pr.type : "no known file system");
	/* a file as it is; a device up to the squashfs's end, rounded up to 4 KiB as mksquashfs pads */
	unsigned long long n_bytes = S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : (pr.size + 4095) & ~4095ull;
	if (n_bytes < pr.size)
		die_msg(EXIT_USAGE, 0, "unable to use %s: it is cut short (%llu bytes, its superblock says %llu); "
			"nothing was written", u->image, n_bytes, pr.size);
	if ((e = copy_hash(in, -1, n_bytes, src_hex)) < 0)
		die_msg(EXIT_SYSTEM, e, "unable to read the new image %s", u->image);
	if (u->sha256 && strcasecmp(src_hex, u->sha256))
		die_msg(EXIT_USAGE, 0, "unable to use %s: its SHA-256 is %s, not the %s given; nothing was written "
			"(fetch the image again)", u->image, src_hex, u->sha256);

	open_medium(u);
	target = u->have ? 1 - u->rec.good : SLOT_B;
	if (target == u->booted)
		die_msg(EXIT_USAGE, 0, "unable to write slot %c: this boot runs it (pending, not yet good). Run "
			"overlive-update --mark-good if this system works, or reboot (the init goes back to slot %c "
			"after its tries), then update again; nothing was written", slot_letter(target),
			slot_letter(1 - target));
	writable(u);
	/*
	 * No record: no boot relies on the record's file or on slot B's, and either may be left half
	 * made by a first update that a power cut stopped (its directory entry on the medium, its
	 * clusters not yet in the FAT or the exFAT bitmap: fsck finds it broken, and a write in place
	 * would go to clusters the file system may give another file). They are made anew, and the
	 * slot's checksum file with them.
	 */
	if (!u->have) {
		char sum[SUM_NAME_MAX];
		const char *stale[] = { SLOTREC_FILE, u->name[target], sum_name(u, target, sum) };
		for (size_t i = 0; i < 3; i++)
			if (unlinkat(u->dfd, stale[i], 0) < 0 && errno != ENOENT)
				die_msg(EXIT_SYSTEM, errno, "unable to remove %s/%s, left by an update that did not finish "
					"(nothing else was changed; check the medium with fsck)", u->dir, stale[i]);
		if (fsync(u->dfd) < 0)
			die_msg(EXIT_SYSTEM, errno, "unable to sync the medium's directory %s", u->dir);
	}
	/* a slot being written is never pending: a boot during the copy takes the good one */
	if (u->have && u->rec.pending == target) {
		n = u->rec;
		n.pending = SLOT_NONE;
		n.tries = 0;
		if ((e = store(u, &n)) < 0)
			die_msg(EXIT_SYSTEM, e, "unable to set the slot record %s/%s before writing slot %c", u->dir,
				SLOTREC_FILE, slot_letter(target));
	}
	/* in place: a file long enough is overwritten, never truncated (its clusters stay), and grows
	 * only when the new image is longer; what lies past the squashfs's end is not read */
	out = openat(u->dfd, u->name[target], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (out < 0)
		die_msg(EXIT_SYSTEM, errno, "unable to open slot %c's file %s/%s", slot_letter(target), u->dir,
			u->name[target]);
	info_msg("writing %s (%llu bytes) into slot %c, %s/%s", u->image, n_bytes, slot_letter(target), u->dir,
		 u->name[target]);
	if ((e = copy_hash(in, out, n_bytes, back_hex)) < 0 || (fsync(out) < 0 && (e = -errno)) ||
	    (fsync(u->dfd) < 0 && (e = -errno)))
		die_msg(EXIT_SYSTEM, e, "unable to write slot %c's file %s/%s (the good slot %c is untouched and "
			"still boots)", slot_letter(target), u->dir, u->name[target], slot_letter(1 - target));
	close(in);
	/* read back what the medium holds, not the cache's copy */
	(void)posix_fadvise(out, 0, 0, POSIX_FADV_DONTNEED);
	if (probe_fd(out, &pr) < 0 || strcmp(pr.type, "squashfs") ||
	    (e = copy_hash(out, -1, n_bytes, back_hex)) < 0 || strcmp(back_hex, src_hex))
		die_msg(EXIT_SYSTEM, e, "unable to verify slot %c's file %s/%s: what the medium gives back is not "
			"the image written (check the medium; the good slot %c still boots)", slot_letter(target),
			u->dir, u->name[target], slot_letter(1 - target));
	close(out);
	if ((e = write_sum(u, target, src_hex)) < 0)
		die_msg(EXIT_SYSTEM, e, "unable to write slot %c's checksum %s/%s" SLOT_SUM_SUFFIX " (the good slot %c "
			"still boots; run the update again)", slot_letter(target), u->dir, u->name[target],
			slot_letter(1 - target));
	n = u->rec;	/* the save's part as it is (none without a record) */
	n.good = u->have ? u->rec.good : SLOT_A;
	n.pending = (uint8_t)target;
	n.tries = SLOTREC_TRIES;
	if ((e = store(u, &n)) < 0)
		die_msg(EXIT_SYSTEM, e, "unable to set slot %c pending in %s/%s (the image is written; run the "
			"update again)", slot_letter(target), u->dir, SLOTREC_FILE);
	read_only_again(u);
	printf("overlive-update: slot %c holds %s (sha256 %s), checked; the next boot tries it (%d tries); "
	       "overlive-update --mark-good in it makes it the good slot\n", slot_letter(target), u->image,
	       src_hex, SLOTREC_TRIES);
	/* a save file in use (the init wrote persist.env): how its changes reach the new image */
	if (access(LIVE_PERSIST_ENV, F_OK) == 0)
		printf("overlive-update: the saved changes are over slot %c's image; to carry them onto slot %c's: "
		       "persist save, then persist rebase --old %s/%s --new %s/%s, then reboot (docs/updates.md, "
		       "\"Saved changes across an update\")\n", slot_letter(1 - target), slot_letter(target), u->dir,
		       u->name[u->booted >= 0 ? u->booted : 1 - target], u->dir, u->name[target]);
	return 0;
}

int update_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sha256", required_argument, NULL, 's' }, { "medium", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' }, { "mark-good", no_argument, NULL, 'g' },
		{ "status", no_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct upd u = { .dfd = -1, .booted = -1 };
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': u.sha256 = optarg; break;
		case 'm': u.medium = optarg; break;
		case 'r': u.root = optarg; break;
		case 'g': u.mark_good = 1; break;
		case 'S': u.status = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			die_msg(EXIT_USAGE, 0, "unable to use the option %s: see overlive-update --help", argv[optind - 1]);
		}
	}
	if (u.mark_good + u.status + (optind < argc) != 1 || argc - optind > 1 ||
	    ((u.mark_good || u.status) && u.sha256) || (u.mark_good && u.root))
		die_msg(EXIT_USAGE, 0, "unable to tell what to do: give one image, or --mark-good, or --status "
			"(overlive-update --help)");
	if (u.status)
		return cmd_status(&u);
	if (u.mark_good)
		return cmd_mark_good(&u);
	u.image = argv[optind];
	return cmd_update(&u);
}
