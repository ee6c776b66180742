/* rmtree.h: removing a directory tree through directory fds. All return 0 or the first -errno. */
#ifndef OVERLIVE_RMTREE_H
#define OVERLIVE_RMTREE_H

/* The deepest tree removed: a path of 4095 bytes has at most 2048 components. */
#define RMTREE_DEPTH_MAX 2048

/*
 * Removes everything the directory dfd holds (dfd is closed), depth first, never following a
 * symlink and never leaving dfd's device (a mount below is left as it is, and so is its mount
 * point). It goes on past an entry it cannot remove and returns the first error.
 */
int rmtree_contents(int dfd);
/* Removes name under dirfd: a file, a symlink or a node, or a directory with all below it. */
int rmtree_at(int dirfd, const char *name);

#endif
