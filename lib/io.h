/* io.h: read/write loops that finish the job or say why not. All return 0 or -errno. */
#ifndef OVERLIVE_IO_H
#define OVERLIVE_IO_H
#include <stddef.h>
#include <sys/types.h>

int write_all(int fd, const void *buf, size_t len);
/* Reads len bytes; with got NULL a short read is -EIO, else *got is the count read. */
int read_all(int fd, void *buf, size_t len, size_t *got);
int pwrite_all(int fd, const void *buf, size_t len, off_t off);
/* Reads up to len bytes at off; *got says how many (short only at end of file). */
int pread_all(int fd, void *buf, size_t len, off_t off, size_t *got);
/* Reads a small file relative to dirfd into buf (NUL-terminated, at most cap-1 bytes). */
int read_small_file(int dirfd, const char *path, char *buf, size_t cap);
/* Creates or truncates path (mode 0644) and writes text into it (not synced). */
int write_text(const char *path, const char *text);

#endif
