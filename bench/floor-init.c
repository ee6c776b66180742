/* floor-init.c: the bench's floor, an initramfs /init that prints the guest uptime and powers off.
 * bench/peers.sh builds it static (musl-gcc) into an initramfs holding nothing else, so its boot
 * is the kernel's own cost: what any initramfs pays before its first instruction. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	char line[128] = "peers: uptime ";
	size_t off = sizeof "peers: uptime " - 1;
	ssize_t n;
	int fd;

	/* the uptime first: this is the moment being measured */
	(void)mount("proc", "/proc", "proc", 0, NULL);
	fd = open("/proc/uptime", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, line + off, sizeof line - off - 1);
	if (n <= 0) {
		static const char err[] = "peers: unable to read /proc/uptime\n";
		(void)write(2, err, sizeof err - 1);
	} else {
		/* /proc/uptime is "UP IDLE\n": keep UP, end the line after it */
		size_t i = off;
		while (i < off + (size_t)n && line[i] != ' ' && line[i] != '\n')
			i++;
		line[i++] = '\n';
		fd = open("/dev/console", O_WRONLY | O_NOCTTY);
		(void)write(fd < 0 ? 1 : fd, line, i);
	}
	sync();
	(void)reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
