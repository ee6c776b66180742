/*
 * initramfs/t/slotio.c: the slot record on a file system (slotio.c), through the file: made once
 * as zeros, then written in place only (the same inode, size and blocks after every write: what
 * keeps a FAT's metadata as it was), each write into the copy that is not the newest, a file too
 * short refused rather than extended, and a record read back whatever was cached. (Through the
 * device: tests/boot/update.t on vfat, update-exfat.t on exFAT.)
 */
#include <errno.h>
#include "slotio.h"
#include "tap.h"
#include "tmptree.h"

int main(void)
{
	char dir[256];
	struct slotrec r = { .good = SLOT_A, .pending = SLOT_B, .tries = 3 }, got;
	struct stat a, b;
	const char *why;
	int newest = -1, dfd, e;

	if (make_tmpdir(dir, sizeof dir, "slotio") < 0 || (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		tap_skip(1, "no temporary directory");
		return tap_done(0);
	}
	is_int(slotio_load(dfd, SLOTREC_FILE, &got, &newest, &why), -ENOENT, "no file: no record (-ENOENT)");
	is_int(slotio_create(dfd, SLOTREC_FILE), 0, "slotio_create makes the file");
	ok(fstatat(dfd, SLOTREC_FILE, &a, 0) == 0 && a.st_size == SLOTREC_FILE_SIZE, "  of 8192 bytes");
	is_int(slotio_load(dfd, SLOTREC_FILE, &got, &newest, &why), -ENOENT, "  all zero: still no record");
	r.gen = 1;
	is_int(slotio_store(dfd, SLOTREC_FILE, NULL, &r, 0), 0, "generation 1 into copy 0");
	ok(slotio_load(dfd, SLOTREC_FILE, &got, &newest, &why) == 0 && newest == 0 && got.tries == 3, "  read back");
	r.gen = 2;
	r.tries = 2;
	is_int(slotio_store(dfd, SLOTREC_FILE, NULL, &r, 1), 0, "generation 2 into copy 1");
	ok(slotio_load(dfd, SLOTREC_FILE, &got, &newest, &why) == 0 && newest == 1 && got.tries == 2,
	   "  the newer copy is read");
	ok(fstatat(dfd, SLOTREC_FILE, &b, 0) == 0 && b.st_ino == a.st_ino && b.st_size == a.st_size &&
	   b.st_blocks == a.st_blocks, "in place: the same inode, size and blocks after both writes");
	unsigned char *bytes;
	size_t len;
	char path[300];
	snprintf(path, sizeof path, "%s/%s", dir, SLOTREC_FILE);
	bytes = slurp(path, &len);
	ok(bytes && len == SLOTREC_FILE_SIZE && !memcmp(bytes, "OVLSLOTS", 8) && !memcmp(bytes + 4096, "OVLSLOTS", 8) &&
	   bytes[26] == 3 && bytes[4096 + 26] == 2, "each copy at its own offset (0 and 4096), as read with read()");
	free(bytes);
	is_int(slotio_create(dfd, SLOTREC_FILE), 0, "slotio_create on the full file again");
	ok(slotio_load(dfd, SLOTREC_FILE, &got, &newest, &why) == 0 && got.gen == 2, "  leaves the record as it was");

	/* a file shorter than the record: refused, never extended by a write */
	int fd = openat(dfd, "short", O_WRONLY | O_CREAT, 0644);
	close(fd);
	e = slotio_store(dfd, "short", NULL, &r, 1);
	ok(e == -EINVAL && fstatat(dfd, "short", &b, 0) == 0 && b.st_size == 0, "a write into a short file: refused, the file stays empty");
	/* a copy that is garbage (a torn write): the other one is read */
	fd = openat(dfd, SLOTREC_FILE, O_WRONLY);
	ok(fd >= 0 && pwrite(fd, "torn", 4, 4096 + 20) == 4, "copy 1 damaged by hand");
	close(fd);
	ok(slotio_load(dfd, SLOTREC_FILE, &got, &newest, &why) == 0 && newest == 0 && got.gen == 1 && got.tries == 3,
	   "  copy 0 (generation 1, 3 tries) is read");
	close(dfd);
	rm_tree(dir);
	return tap_done(0);
}
