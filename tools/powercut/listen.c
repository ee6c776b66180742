/* listen.c: binds the unix socket, refusing a live one and replacing a stale one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "listen.h"

/* 1 when a server accepts connections on path. */
static int alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
	close(fd);
	return r;
}

int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) > LISTEN_PATH_MAX || sizeof sa.sun_path < LISTEN_PATH_MAX + 5)
		return -ENAMETOOLONG;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		strcpy(sa.sun_path, path);
		if (alive(&sa))
			return -EADDRINUSE;
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s.new", path);
	(void)unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 1) ||
	    rename(sa.sun_path, path)) {
		err = -errno;
		(void)unlink(sa.sun_path);
		close(fd);
		return err;
	}
	return fd;
}
