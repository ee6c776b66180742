/* sys.c: the real privileged syscalls behind the seam, each a one-line wrapper. */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sys.h"

static int ret(long r) { return r < 0 ? -errno : 0; }

static int r_mount(const char *s, const char *d, const char *t, unsigned long f, const char *o)
{
	return ret(mount(s, d, t, f, o));
}
static int r_umount(const char *d, int f) { return ret(umount2(d, f)); }
static int r_finit(int fd, const char *p, int f) { return ret(syscall(SYS_finit_module, fd, p, f)); }
static int r_ioctl_int(int fd, unsigned long q, unsigned long a)
{
	int r = ioctl(fd, q, a);

	return r < 0 ? -errno : r;
}
static int r_ioctl_ptr(int fd, unsigned long q, void *a) { return ret(ioctl(fd, q, a)); }
static int r_chroot(const char *p) { return ret(chroot(p)); }

const struct sysops sys_real = {
	.mount = r_mount,
	.umount = r_umount,
	.finit_module = r_finit,
	.ioctl_int = r_ioctl_int,
	.ioctl_ptr = r_ioctl_ptr,
	.chroot = r_chroot,
};
