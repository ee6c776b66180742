/* tools/mkcpio/t/mkcpio.c: mkcpio's archives unpacked by GNU cpio and compared; bad specs rejected. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mkcpio.h"
#include "tap.h"

static char tmpdir[] = "/tmp/mkcpio-t.XXXXXX";
static pid_t parent;	/* a child that dies through die_msg runs atexit too */
static char errtext[4096];

static void put_file(const char *rel, const void *data, size_t len, mode_t mode)
{
	char p[4200];
	int fd;

	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	fchmod(fd, mode);
	close(fd);
}

static void put_dir(const char *rel, mode_t mode)
{
	char p[4200];

	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		abort();
	chmod(p, mode);
}

/* Runs the command in a child (it may die_msg); stdin from in_path if given. Returns the exit code. */
static int run_cli(const char *in_path, const char *const args[])
{
	char errpath[4200];
	int argc = 0, st;
	pid_t pid;

	while (args[argc])
		argc++;
	snprintf(errpath, sizeof errpath, "%s/stderr", tmpdir);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int o = open("/dev/null", O_WRONLY);
		dup2(e, 2);
		dup2(o, 1);
		if (in_path) {
			int i = open(in_path, O_RDONLY);
			dup2(i, 0);
		}
		_exit(mkcpio_cli(argc, (char **)args));
	}
	waitpid(pid, &st, 0);
	errtext[0] = '\0';
	FILE *f = fopen(errpath, "r");
	if (f) {
		size_t n = fread(errtext, 1, sizeof errtext - 1, f);
		errtext[n] = '\0';
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *b;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb) < 0)
		return NULL;
	b = malloc((size_t)sb.st_size + 1);
	if (b && read(fd, b, (size_t)sb.st_size) != sb.st_size) {
		free(b);
		b = NULL;
	}
	close(fd);
	if (b)
		b[sb.st_size] = '\0';
	*len = (size_t)sb.st_size;
	return b;
}

static unsigned long hexfield(const char *h, int i)
{
	char f[9];

	memcpy(f, h + 6 + 8 * i, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

/*
 * Walks the archive by its own rules: magic and 4-byte alignment of every header, each
 * entry's parent earlier in the archive, sequential inodes, one mtime, the trailer last.
 */
static void check_structure(const char *path, unsigned long epoch)
{
	size_t len, off = 0, n = 0;
	char *a = slurp(path, &len), names[64][128];
	int bad_magic = 0, bad_parent = 0, bad_ino = 0, bad_mtime = 0, trailer = 0;

	if (!a) {
		ok(0, "read the archive");
		return;
	}
	while (off + 110 <= len && !trailer) {
		const char *h = a + off, *name = a + off + 110;
		unsigned long namesize, filesize;
		if (memcmp(h, "070701", 6) || off % 4) {
			bad_magic++;
			break;
		}
		namesize = hexfield(h, 11);
		filesize = hexfield(h, 6);
		if (!strcmp(name, "TRAILER!!!")) {
			trailer = 1;
		} else {
			if (hexfield(h, 0) != n + 1)
				bad_ino++;
			if (hexfield(h, 5) != epoch)
				bad_mtime++;
			const char *slash = strrchr(name, '/');
			if (slash) {
				int seen = 0;
				for (size_t i = 0; i < n && i < 64; i++)
					if (strlen(names[i]) == (size_t)(slash - name) &&
					    !strncmp(names[i], name, (size_t)(slash - name)))
						seen = 1;
				bad_parent += !seen;
			}
			if (n < 64)
				snprintf(names[n], sizeof names[n], "%s", name);
			n++;
		}
		off += (110 + namesize + 3) & ~(size_t)3;
		off += (filesize + 3) & ~(size_t)3;
	}
	ok(!bad_magic && trailer && off == len,
	   "archive: %zu entries, aligned newc headers, TRAILER!!! ends it exactly", n);
	ok(!bad_parent, "archive: every parent directory comes before its children");
	ok(!bad_ino, "archive: inode numbers are sequential from 1");
	ok(!bad_mtime, "archive: every mtime is SOURCE_DATE_EPOCH (%lu)", epoch);
	free(a);
}

/* One expected member after unpacking. */
struct want {
	const char *path;
	mode_t type, perm;
	unsigned uid, gid;
	const char *data;	/* file contents or symlink target; NULL: not checked */
	unsigned major, minor;
};

static void check_unpacked(const char *root, const struct want *w, size_t n, int as_root,
			   unsigned long epoch)
{
	char p[8400], buf[2048];
	struct stat sb;

	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/%s", root, w[i].path);
		if (!as_root && (w[i].type == S_IFCHR || w[i].type == S_IFBLK)) {
			tap_skip(1, "device nodes need root to unpack");
			continue;
		}
		if (lstat(p, &sb) < 0) {
			ok(0, "%s exists after unpacking", w[i].path);
			continue;
		}
		int good = (sb.st_mode & S_IFMT) == w[i].type;
		if (w[i].type != S_IFLNK)
			good &= (sb.st_mode & 07777) == w[i].perm;
		if (as_root)
			good &= sb.st_uid == w[i].uid && sb.st_gid == w[i].gid;
		if (w[i].type == S_IFREG) {
			size_t len;
			char *d = slurp(p, &len);
			if (w[i].data)
				good &= d && len == strlen(w[i].data) && !memcmp(d, w[i].data, len);
			good &= (unsigned long)sb.st_mtime == epoch;
			free(d);
		} else if (w[i].type == S_IFLNK) {
			ssize_t l = readlink(p, buf, sizeof buf - 1);
			buf[l > 0 ? l : 0] = '\0';
			good &= !strcmp(buf, w[i].data);
		} else if (w[i].type == S_IFCHR || w[i].type == S_IFBLK) {
			good &= major(sb.st_rdev) == w[i].major && minor(sb.st_rdev) == w[i].minor;
		}
		ok(good, "%s: type, mode %04o, owner %u:%u%s as specified", w[i].path, (unsigned)w[i].perm,
		   w[i].uid, w[i].gid,
		   w[i].type == S_IFREG ? ", contents" : w[i].type == S_IFLNK ? ", target" :
		   w[i].type == S_IFDIR ? "" : ", device numbers");
	}
}

static int files_equal(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	int eq = x && y && la == lb && !memcmp(x, y, la);

	free(x);
	free(y);
	return eq;
}

static void bad_spec(const char *text, const char *what, int want_code, const char *must_say)
{
	char spec[4200], out[4200];

	snprintf(spec, sizeof spec, "%s/bad.spec", tmpdir);
	snprintf(out, sizeof out, "%s/bad.cpio", tmpdir);
	put_file("bad.spec", text, strlen(text), 0644);
	const char *args[] = { "mkcpio", "-o", out, spec, NULL };
	int code = run_cli(NULL, args);
	char *nl = strchr(errtext, '\n');
	if (nl)
		*nl = '\0';
	ok(code == want_code && strstr(errtext, must_say) && access(out, F_OK) < 0,
	   "%s: exit %d, says '%s', no archive left (got %d: %s)", what, want_code, must_say, code,
	   errtext);
}

static void cleanup(void)
{
	char cmd[256];

	if (getpid() != parent)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	(void)system(cmd);
}

int main(void)
{
	char spec[4200], out1[4200], out2[4200], un[4200], cmd[13000], text[8192];
	unsigned char bin[1001];
	int as_root = geteuid() == 0;

	if (!mkdtemp(tmpdir)) {
		ok(0, "make a temporary directory");
		return tap_done(0);
	}
	parent = getpid();
	atexit(cleanup);
	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 7 + 1);
	bin[500] = 0;
	put_file("init.bin", bin, sizeof bin, 0644);
	put_file("empty", "", 0, 0644);
	put_dir("root", 0755);
	put_dir("root/etc", 0750);
	put_dir("root/etc/init.d", 0700);
	put_file("root/etc/hostname", "live\n", 5, 0640);
	put_file("root/etc/init.d/rcS", "#!/bin/sh\necho hi\n", 18, 0755);
	put_dir("root/bin", 0755);
	put_file("root/bin/busybox", "BB", 2, 0755);
	snprintf(cmd, sizeof cmd, "%s/root/bin/sh", tmpdir);
	if (symlink("busybox", cmd) < 0)
		abort();

	/* every entry type; /dev and /usr/lib are made as parents; /etc is overridden */
	snprintf(text, sizeof text,
		 "# a spec with every entry type\n"
		 "\n"
		 "nod /dev/console 0600 0 0 c 5 1\n"
		 "nod /dev/vda 0660 0 6 b 254 0\n"
		 "file /init %1$s/init.bin 0755 0 0\n"
		 "file /usr/lib/empty %1$s/empty 0444 012 34\n"	/* uid 12: decimal */
		 "\tslink   /linuxrc  bin/busybox 0777 0 0   # comment after fields\n"
		 "dir /run 01777 0 0\n"
		 "dir /etc 0755 0 0\n"
		 "tree / %1$s/root\n"
		 "dir //sys/ 0555 0 0\n",
		 tmpdir);
	put_file("good.spec", text, strlen(text), 0644);
	snprintf(spec, sizeof spec, "%s/good.spec", tmpdir);
	snprintf(out1, sizeof out1, "%s/one.cpio", tmpdir);
	snprintf(out2, sizeof out2, "%s/two.cpio", tmpdir);

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	const char *a1[] = { "mkcpio", "-o", out1, spec, NULL };
	is_int(run_cli(NULL, a1), 0, "mkcpio writes the archive");
	check_structure(out1, 1700000000);

	snprintf(un, sizeof un, "%s/un", tmpdir);
	mkdir(un, 0755);
	snprintf(cmd, sizeof cmd, "cd '%s' && cpio -idm --no-absolute-filenames --quiet < '%s' 2>/dev/null",
		 un, out1);
	int rc = system(cmd);
	if (system("command -v cpio >/dev/null 2>&1") != 0) {
		tap_skip(15, "cpio is not installed");
	} else {
		if (as_root)
			is_int(rc, 0, "cpio -i unpacks it");
		else
			tap_skip(1, "cpio -i cannot make device nodes without root");
		const struct want w[] = {
			{ "dev", S_IFDIR, 0755, 0, 0, NULL, 0, 0 },
			{ "dev/console", S_IFCHR, 0600, 0, 0, NULL, 5, 1 },
			{ "dev/vda", S_IFBLK, 0660, 0, 6, NULL, 254, 0 },
			{ "init", S_IFREG, 0755, 0, 0, NULL, 0, 0 },	/* data: below */
			{ "usr/lib", S_IFDIR, 0755, 0, 0, NULL, 0, 0 },
			{ "usr/lib/empty", S_IFREG, 0444, 12, 34, "", 0, 0 },
			{ "linuxrc", S_IFLNK, 0777, 0, 0, "bin/busybox", 0, 0 },
			{ "run", S_IFDIR, 01777, 0, 0, NULL, 0, 0 },
			{ "etc", S_IFDIR, 0755, 0, 0, NULL, 0, 0 },
			{ "etc/init.d", S_IFDIR, 0700, 0, 0, NULL, 0, 0 },
			{ "etc/init.d/rcS", S_IFREG, 0755, 0, 0, "#!/bin/sh\necho hi\n", 0, 0 },
			{ "etc/hostname", S_IFREG, 0640, 0, 0, "live\n", 0, 0 },
			{ "bin/busybox", S_IFREG, 0755, 0, 0, "BB", 0, 0 },
			{ "bin/sh", S_IFLNK, 0777, 0, 0, "busybox", 0, 0 },
			{ "sys", S_IFDIR, 0555, 0, 0, NULL, 0, 0 },
		};
		check_unpacked(un, w, sizeof w / sizeof w[0], as_root, 1700000000);
		/* init holds binary data with a NUL: compared byte for byte here */
		char src[4300], got[4300];
		snprintf(src, sizeof src, "%s/init.bin", tmpdir);
		snprintf(got, sizeof got, "%s/init", un);
		struct stat sb;
		ok(files_equal(src, got) && lstat(got, &sb) == 0 && (sb.st_mode & 07777) == 0755,
		   "init: 1001 binary bytes and mode 0755 intact");
	}

	const char *a2[] = { "mkcpio", "-o", out2, spec, NULL };
	is_int(run_cli(NULL, a2), 0, "second run");
	ok(files_equal(out1, out2), "two runs give byte-identical archives");
	setenv("SOURCE_DATE_EPOCH", "0", 1);
	run_cli(NULL, a2);
	ok(!files_equal(out1, out2), "another SOURCE_DATE_EPOCH gives another archive");
	unsetenv("SOURCE_DATE_EPOCH");
	const char *a3[] = { "mkcpio", "-o", out1, "-", NULL };
	is_int(run_cli(spec, a3), 0, "spec read from stdin with '-'");
	ok(files_equal(out1, out2), "stdin spec and default epoch 0 give the same bytes");
	check_structure(out1, 0);

	const char *help[] = { "mkcpio", "--help", NULL };
	is_int(run_cli(NULL, help), 0, "--help exits 0");
	const char *badopt[] = { "mkcpio", "-x", NULL };
	is_int(run_cli(NULL, badopt), 100, "an unknown option exits 100");
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	is_int(run_cli(NULL, a2), 100, "a bad SOURCE_DATE_EPOCH exits 100");
	unsetenv("SOURCE_DATE_EPOCH");

	bad_spec("dir /a 0755 0 0\nfil /b x 0644 0 0\n", "unknown type", 100, "line 2: unknown entry type 'fil'");
	bad_spec("\n\n\ndir /a 0755 0\n", "missing field", 100, "line 4: dir takes 4 fields");
	bad_spec("dir /a 0789 0 0\n", "bad octal mode", 100, "line 1: mode '0789'");
	bad_spec("dir /a 0755 root 0\n", "uid not a number", 100, "line 1: uid 'root'");
	bad_spec("dir /a 17777 0 0\n", "mode above 07777", 100, "line 1: mode '17777'");
	bad_spec("dir /a -755 0 0\n", "signed mode", 100, "line 1: mode '-755'");
	bad_spec("dir /a 0755 0x10 0\n", "hexadecimal uid (numbers are decimal)", 100, "line 1: uid '0x10'");
	bad_spec("dir /a 0755 0 +5\n", "signed gid", 100, "line 1: gid '+5'");
	bad_spec("dir /a 0755 4294967296 0\n", "uid above 2^32-1", 100, "line 1: uid '4294967296'");
	bad_spec("nod /dev/x 0600 0 0 p 1 1\n", "bad device type", 100, "line 1: device type 'p'");
	bad_spec("nod /dev/x 0600 0 0 c 4096 1\n", "major too large", 100, "line 1: major '4096'");
	bad_spec("dir /a 0755 0 0\n# x\nslink /a t 0777 0 0\n", "duplicate path", 100,
		 "line 3: duplicate path '/a' (first at ");
	bad_spec("dir /a/../b 0755 0 0\n", "'..' in a path", 100, "line 1: path '/a/../b'");
	bad_spec("dir / 0755 0 0\n", "the root", 100, "line 1: path '/' names the archive's root");
	bad_spec("tree /x /nonexistent/dir\n", "missing tree", 100, "line 1: cannot stat /nonexistent/dir");
	bad_spec("file /a /nonexistent/file 0644 0 0\n", "missing file", 100, "line 1: cannot read /nonexistent/file");
	bad_spec("slink /a t 0777 0 0\ndir /a/b 0755 0 0\n", "child of a symlink", 100,
		 "line 2 puts '/a/b' under '/a'");
	return tap_done(0);
}
