/* slotio.c: the slot record's two copies read from and written into its file on the medium. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io.h"
#include "slotio.h"

int slotio_load(int dirfd, const char *name, struct slotrec *r, int *newest, const char **why)
{
	unsigned char buf[SLOTREC_FILE_SIZE];
	size_t got = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	e = pread_all(fd, buf, sizeof buf, 0, &got);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return e < 0 ? e : slotrec_choose(buf, got, r, newest, why);
}

/* The byte of the device where the file's byte off lies: FIBMAP of the block holding it. */
static int device_offset(int fd, long off, off_t *at)
{
	int bsz = 0, blk;

	if (ioctl(fd, FIGETBSZ, &bsz) < 0)
		return -errno;
	if (bsz < SLOTREC_COPY_SIZE || (SLOTREC_COPY_STRIDE % bsz && bsz % SLOTREC_COPY_STRIDE))
		return -EXDEV;
	blk = (int)(off / bsz);
	if (ioctl(fd, FIBMAP, &blk) < 0)
		return errno == EINVAL || errno == ENOTTY ? -EXDEV : -errno;
	if (blk <= 0)
		return -EXDEV;      /* a hole, or data kept inline: no sector of its own */
	*at = (off_t)blk * bsz + off % bsz;
	return 0;
}

/*
 * One copy onto the device at byte at, bypassing its cache (O_DIRECT): the write is the copy's
 * own logical sector and nothing else, so a torn write cannot reach a neighbour's bytes (a
 * buffered write would write the whole 4 KiB page around it, other files' sectors included).
 */
static int device_write(const char *dev, off_t at, const unsigned char *sec)
{
	void *buf = NULL;
	size_t got;
	int fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC), lbs = SLOTREC_COPY_SIZE, e = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKSSZGET, &lbs) < 0 || lbs < SLOTREC_COPY_SIZE || lbs > SLOTREC_COPY_STRIDE || (lbs & (lbs - 1)))
		lbs = SLOTREC_COPY_SIZE;
	off_t base = at - at % lbs;
	if (posix_memalign(&buf, 4096, (size_t)lbs)) {
		close(fd);
		return -ENOMEM;
	}
	/* a logical sector larger than the copy holds the rest of the record file's own bytes */
	if (lbs > SLOTREC_COPY_SIZE && (e = pread_all(fd, buf, (size_t)lbs, base, &got)) == 0 && got != (size_t)lbs)
		e = -EIO;
	if (!e) {
		memcpy((unsigned char *)buf + (at - base), sec, SLOTREC_COPY_SIZE);
		e = pwrite_all(fd, buf, (size_t)lbs, base);
	}
	if (!e && fdatasync(fd) < 0)
		e = -errno;
	free(buf);
	close(fd);
	return e;
}

int slotio_store(int dirfd, const char *name, const char *dev, const struct slotrec *r, int copy)
{
	unsigned char sec[SLOTREC_COPY_SIZE];
	struct stat st;
	off_t at = slotrec_copy_off(copy);
	int fd, e;

	slotrec_encode(r, sec);
	fd = openat(dirfd, name, (dev ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < SLOTREC_FILE_SIZE) {
		e = fstat(fd, &st) < 0 ? -errno : -EINVAL;   /* never extend it here: in place only */
		goto out;
	}
	if (dev) {
		if ((e = device_offset(fd, (long)at, &at)) == 0)
			e = device_write(dev, at, sec);
	} else if ((e = pwrite_all(fd, sec, sizeof sec, at)) == 0 && fdatasync(fd) < 0) {
		e = -errno;
	}
out:
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return e;
}

int slotio_create(int dirfd, const char *name)
{
	static const unsigned char zero[SLOTREC_FILE_SIZE];
	struct stat st;
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644), e = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		e = -errno;
	else if (st.st_size < SLOTREC_FILE_SIZE)
		e = pwrite_all(fd, zero + st.st_size, (size_t)(SLOTREC_FILE_SIZE - st.st_size), st.st_size);
	if (!e && fsync(fd) < 0)
		e = -errno;
	close(fd);
	if (!e && fsync(dirfd) < 0)
		e = -errno;
	return e;
}
