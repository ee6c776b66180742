/* newc.c: writes the entries as a newc ("070701") cpio archive, parents before children. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io.h"
#include "mkcpio.h"

/*
 * newc: "070701", then 13 fields of 8 hex digits (ino, mode, uid, gid, nlink, mtime, filesize,
 * devmajor, devminor, rdevmajor, rdevminor, namesize with its NUL, check), the name and its
 * NUL padded to a multiple of 4, then the data padded to a multiple of 4. A symlink's data is
 * its target. "TRAILER!!!" ends the archive.
 */

static int out_flush(struct mkcpio *st)
{
	int err = st->olen ? write_all(st->out, st->obuf, st->olen) : 0;

	if (err) {
		snprintf(st->why, sizeof st->why, "cannot write the archive: %s", strerror(-err));
		st->out_failed = 1;
	}
	st->olen = 0;
	return err;
}

static int out_write(struct mkcpio *st, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len) {
		size_t n = MKCPIO_OUTBUF - st->olen;
		if (!n) {
			int err = out_flush(st);
			if (err)
				return err;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(st->obuf + st->olen, b, n);
		st->olen += n;
		st->written += n;
		b += n;
		len -= n;
	}
	return 0;
}

static int out_pad4(struct mkcpio *st)
{
	static const unsigned char zeros[4];

	return out_write(st, zeros, (4 - st->written % 4) % 4);
}

static int header(struct mkcpio *st, uint32_t ino, uint32_t mode, uint32_t uid, uint32_t gid,
		  uint32_t nlink, uint32_t mtime, uint32_t size, uint32_t rmajor, uint32_t rminor,
		  const char *name)
{
	char h[111];
	size_t nlen = strlen(name) + 1;
	int err;

	snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino, mode, uid, gid, nlink, mtime, size, 0u, 0u, rmajor, rminor, (uint32_t)nlen, 0u);
	err = out_write(st, h, 110);
	if (!err)
		err = out_write(st, name, nlen);
	if (!err)
		err = out_pad4(st);
	return err;
}

/* Copies exactly size bytes of fd; a file that shrinks or grows meanwhile is an error. */
static int copy_data(struct mkcpio *st, int fd, const char *src, uint64_t size)
{
	unsigned char extra;
	ssize_t n;

	while (size) {
		size_t room = MKCPIO_OUTBUF - st->olen;
		if (!room) {
			int err = out_flush(st);
			if (err)
				return err;
			continue;
		}
		if (room > size)
			room = (size_t)size;
		n = read(fd, st->obuf + st->olen, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			snprintf(st->why, sizeof st->why, "cannot read %s: %s", src,
				 n < 0 ? strerror(-err) : "it shrank while being read");
			return err;
		}
		st->olen += (size_t)n;
		st->written += (size_t)n;
		size -= (size_t)n;
	}
	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		snprintf(st->why, sizeof st->why, "cannot read %s: it grew while being read", src);
		return -EIO;
	}
	return out_pad4(st);
}

static int emit_file(struct mkcpio *st, struct entry *e)
{
	struct stat sb;
	int fd, err;

	fd = open(e->src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		err = -errno;
		snprintf(st->why, sizeof st->why, "cannot read %s: %s", e->src, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err = -EINVAL;
		snprintf(st->why, sizeof st->why, "%s is not a regular file", e->src);
		goto out;
	}
	if ((uint64_t)sb.st_size > UINT32_MAX) {
		err = -EFBIG;
		snprintf(st->why, sizeof st->why, "%s is larger than newc's 4 GiB limit", e->src);
		goto out;
	}
	err = header(st, st->next_ino++, e->mode, e->uid, e->gid, 1, st->mtime, (uint32_t)sb.st_size,
		     0, 0, e->path);
	if (!err)
		err = copy_data(st, fd, e->src, (uint64_t)sb.st_size);
out:
	if (fd >= 0)
		close(fd);
	if (err && !st->out_failed) {
		/* say which spec line asked for the file */
		char msg[sizeof st->why + 300];
		size_t n = (size_t)snprintf(msg, sizeof msg, "%s line %u: %s", e->spec, e->line, st->why);
		if (n >= sizeof st->why)
			n = sizeof st->why - 1;
		memcpy(st->why, msg, n);
		st->why[n] = '\0';
	}
	return err;
}

static int emit(struct mkcpio *st, size_t i)
{
	struct entry *e = &st->ents[i];
	int err;

	e->emitted = 1;
	switch (e->mode & S_IFMT) {
	case S_IFREG:
		err = emit_file(st, e);
		break;
	case S_IFLNK:
		err = header(st, st->next_ino++, e->mode, e->uid, e->gid, 1, st->mtime,
			     (uint32_t)strlen(e->src), 0, 0, e->path);
		if (!err)
			err = out_write(st, e->src, strlen(e->src));
		if (!err)
			err = out_pad4(st);
		break;
	case S_IFDIR:
		err = header(st, st->next_ino++, e->mode, e->uid, e->gid, 2, st->mtime, 0, 0, 0, e->path);
		break;
	default:	/* character and block devices */
		err = header(st, st->next_ino++, e->mode, e->uid, e->gid, 1, st->mtime, 0, e->rmajor,
			     e->rminor, e->path);
		break;
	}
	return err;
}

/* Emits the directories above entry i first, making missing ones as 0755 root:root. */
static int emit_parents(struct mkcpio *st, size_t i)
{
	char prefix[MKCPIO_MAX_PATH + 1];
	char w[300];

	for (size_t k = 0; st->ents[i].path[k]; k++) {
		if (st->ents[i].path[k] != '/')
			continue;
		struct entry *p = mk_find(st, st->ents[i].path, k);
		if (p && (p->mode & S_IFMT) != S_IFDIR) {
			const struct entry *e = &st->ents[i];
			if (e->line)
				snprintf(w, sizeof w, "%s line %u", e->spec, e->line);
			else
				snprintf(w, sizeof w, "a tree");
			snprintf(st->why, sizeof st->why, "%s puts '/%s' under '/%s', which %s line %u made "
				 "a non-directory", w, e->path, p->path, p->spec, p->line);
			return -ENOTDIR;
		}
		if (p && p->emitted)
			continue;
		if (!p) {
			struct entry a = { .path = prefix, .mode = S_IFDIR | 0755, .weak = 1 };
			memcpy(prefix, st->ents[i].path, k);
			prefix[k] = '\0';
			int err = mk_add(st, &a);	/* may move st->ents: indexes only from here */
			if (err)
				return err;
			p = &st->ents[st->n - 1];
		}
		int err = emit(st, (size_t)(p - st->ents));
		if (err)
			return err;
	}
	return 0;
}

int mk_write_archive(struct mkcpio *st)
{
	int err = 0;

	for (size_t i = 0; i < st->n && !err; i++) {
		if (st->ents[i].emitted || st->ents[i].dropped)
			continue;
		err = emit_parents(st, i);
		if (!err)
			err = emit(st, i);
	}
	if (!err)
		err = header(st, 0, 0, 0, 0, 1, 0, 0, 0, 0, "TRAILER!!!");
	if (!err)
		err = out_flush(st);
	return err;
}
