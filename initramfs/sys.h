/* sys.h: the one seam for privileged syscalls, so tests can replace them. */
#ifndef OVERLIVE_SYS_H
#define OVERLIVE_SYS_H

/* Each returns 0 or -errno; ioctl_int returns the ioctl's result (LOOP_CTL_GET_FREE: a number). */
struct sysops {
	int (*mount)(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *data);
	int (*umount)(const char *dst, int flags);
	int (*finit_module)(int fd, const char *params, int flags);
	int (*ioctl_int)(int fd, unsigned long req, unsigned long arg);
	int (*ioctl_ptr)(int fd, unsigned long req, void *arg);
	int (*chroot)(const char *path);
};

extern const struct sysops sys_real;

#endif
