/* listen.h: the server's unix socket, ready the moment it appears. */
#ifndef POWERCUT_LISTEN_H
#define POWERCUT_LISTEN_H

/* Room left in sun_path for the temporary ".new" name. */
#define LISTEN_PATH_MAX (108 - 5)

/*
 * Listens on path with a backlog of one. The socket is bound as "PATH.new" and renamed into
 * place once it listens, so its appearance means "ready". Returns the fd, or -EADDRINUSE (a
 * live server answers there), -EEXIST (a file that is not a socket), -ENAMETOOLONG, -errno.
 * A stale socket (nobody answers) is replaced.
 */
int listen_unix(const char *path);

#endif
