/* helpers.h: temporary images for the powercut unit tests (header only). */
#ifndef POWERCUT_T_HELPERS_H
#define POWERCUT_T_HELPERS_H
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temporary image of size bytes filled with fill; the name goes to path (64 bytes). */
static int temp_image(char *path, size_t size, int fill) __attribute__((unused));
static int temp_image(char *path, size_t size, int fill)
{
	int fd;
	unsigned char *b = malloc(size);

	strcpy(path, "/tmp/powercut-t.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || !b) {
		perror("temp image");
		exit(2);
	}
	memset(b, fill, size);
	if (pwrite(fd, b, size, 0) != (ssize_t)size) {
		perror("temp image");
		exit(2);
	}
	free(b);
	return fd;
}

/* 1 when len bytes at off in fd all equal v. */
static int image_is(int fd, size_t off, size_t len, int v) __attribute__((unused));
static int image_is(int fd, size_t off, size_t len, int v)
{
	unsigned char *b = malloc(len);
	size_t i;
	int ok = b && pread(fd, b, len, (off_t)off) == (ssize_t)len;

	for (i = 0; ok && i < len; i++)
		ok = b[i] == (unsigned char)v;
	free(b);
	return ok;
}

/* 1 when two files hold the same first len bytes. */
static int images_equal(int a, int b, size_t len) __attribute__((unused));
static int images_equal(int a, int b, size_t len)
{
	unsigned char *x = malloc(len), *y = malloc(len);
	int ok = x && y && pread(a, x, len, 0) == (ssize_t)len &&
		 pread(b, y, len, 0) == (ssize_t)len && memcmp(x, y, len) == 0;

	free(x);
	free(y);
	return ok;
}

#endif
