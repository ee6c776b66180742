/* floor-init.c: the bench's floor, an initramfs /init that prints the guest uptime and powers off.
 * bench/peers.sh builds it static (musl-gcc) into an initramfs holding nothing else, so its boot
 * is the kernel's own cost: what any initramfs pays before its first instruction.
 *
 * The module floor: when the initramfs also holds /modules.list (one .ko path a line, as
 * make_floor writes it), the init first loads those modules with finit_module, uncompressed, as
 * they are in the kernel's tree (signed), retrying those whose dependencies came later in the list
 * until a round loads none, and only then reads the uptime: what loading the drivers a boot needs
 * costs the kernel itself, whatever initramfs loads them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FLOOR_MODULES 128

static void say(const char *s, size_t n)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);

	(void)write(fd < 0 ? 1 : fd, s, n);
	if (fd >= 0)
		close(fd);
}

/* Loads the modules /modules.list names; a failure is said, not fatal (the uptime still counts). */
static void load_modules(void)
{
	static char list[16384];
	char *mod[FLOOR_MODULES], msg[256];
	int done[FLOOR_MODULES] = { 0 }, err[FLOOR_MODULES] = { 0 }, n = 0, left, progress = 1;
	int fd = open("/modules.list", O_RDONLY);
	ssize_t len = fd < 0 ? -1 : read(fd, list, sizeof list - 1);

	if (fd < 0)
		return;
	close(fd);
	if (len <= 0)
		return;
	list[len] = 0;
	for (char *save, *l = strtok_r(list, "\n", &save); l && n < FLOOR_MODULES; l = strtok_r(NULL, "\n", &save))
		mod[n++] = l;
	for (left = n; left && progress;) {
		progress = 0;
		for (int i = 0; i < n; i++) {
			if (done[i])
				continue;
			fd = open(mod[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) != 0)
				err[i] = errno;
			else
				done[i] = 1, progress = 1, left--;
			if (fd >= 0)
				close(fd);
			if (err[i] == EEXIST)
				done[i] = 1, left--;
		}
	}
	for (int i = 0; i < n; i++)
		if (!done[i])
			say(msg, (size_t)snprintf(msg, sizeof msg, "peers: floor: unable to load %s: %s\n", mod[i], strerror(err[i])));
}

int main(void)
{
	char line[128] = "peers: uptime ";
	size_t off = sizeof "peers: uptime " - 1;
	ssize_t n;
	int fd;

	(void)mount("proc", "/proc", "proc", 0, NULL);
	load_modules();
	/* the uptime now: this is the moment being measured */
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
		say(line, i);
	}
	sync();
	(void)reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
