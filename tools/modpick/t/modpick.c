/* tools/modpick/t/modpick.c: the modpick command (out/bin/modpick, built by make) on the real tree. */
#include <dirent.h>
#include <sys/wait.h>
#include "kmod.h"
#include "tap.h"
#include "picktest.h"

/* Runs modpick with args, stderr into errbuf; returns its exit status. */
static int run(const char *prog, const char *const *args, char *errbuf, size_t cap)
{
	const char *argv[32] = { prog };
	int pipefd[2], status, i;
	ssize_t n, got = 0;
	pid_t pid;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(prog, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], errbuf + got, cap - 1 - got)) > 0)
		got += n;
	while (got > 0 && errbuf[got - 1] == '\n')
		got--;
	errbuf[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Same bytes in both files? */
static int same_file(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char *pa = slurp(a, &la), *pb = slurp(b, &lb);
	int same = pa && pb && la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return same;
}

/*
 * --pack against the plain copy in plain (the run before): the pack made by xz (without a check,
 * as the build makes it) and decoded by the loader itself (with the built-in decoder the init
 * uses, else xz -dc) gives every module byte for byte as the plain copy has it.
 */
static void packed(const char *prog, const char *tree, const char *dir, int plain)
{
	static const char *const xz_dc[] = { "xz", "-dc", NULL };
	struct modload_config cfg = { .index = "modules.idx", .unxz = xz_dc, .decode = modload_xz_builtin };
	struct modloader *ml = NULL;
	struct modload_stats st;
	char out[4200], err[4096], a[8400], b[8400];
	DIR *d;
	struct dirent *e;
	int n = 0, same = 0;

	snprintf(out, sizeof out, "%s/packed", dir);
	is_int(run(prog, (const char *[]){ "--tree", tree, "--out", out, "--pack", NULL }, err, sizeof err), 0,
	       "--pack");
	snprintf(a, sizeof a, "%s/ext4.ko", out);
	ok(access(a, F_OK) != 0, "with --pack no module is a file of its own");
	snprintf(a, sizeof a, "xz -T1 -1 --check=none '%s/" MODIDX_PACK_RAW "'", out);
	if (system("xz --version >/dev/null 2>&1") != 0 || system(a) != 0) {
		tap_skip(3, "no xz on this host (xz-utils)");
		return;
	}
	cfg.dirfd = open(out, O_RDONLY | O_DIRECTORY);
	is_int(modload_new(&cfg, &ml), 0, "the packed index reads back");
	is_int(ml ? modload_unpack_all(ml) : -1, 0, "the loader takes every module out of the pack");
	if (ml)
		modload_get_stats(ml, &st);
	d = fdopendir(dup(plain));
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 3, ".ko") != 0)
			continue;
		n++;
		snprintf(a, sizeof a, "%s/%s", out, e->d_name);
		snprintf(b, sizeof b, "%s/mods/%s", dir, e->d_name);
		same += same_file(a, b);
	}
	if (d)
		closedir(d);
	ok(n > 40 && same == n && ml && st.pack_bytes == st.pack_total,
	   "all %d modules out of the pack are the plain copies byte for byte (%d are)", n, same);
	modload_free(ml);
	close(cfg.dirfd);
}

int main(void)
{
	const char *why, *tree = module_tree(&why), *o = getenv("O");
	char prog[4096], dir[4096], out[4200], err[4096];
	struct modload_config cfg = { 0 };
	struct modloader *ml = NULL;
	struct stat a, b;
	int top;

	snprintf(prog, sizeof prog, "%s/bin/modpick", o && *o ? o : "out");
	if (access(prog, X_OK) != 0) {
		tap_skip(1, "modpick is not built (run make first)");
		return tap_done(0);
	}
	is_int(run(prog, (const char *[]){ "--help", NULL }, err, sizeof err), 0, "--help");
	is_int(run(prog, (const char *[]){ NULL }, err, sizeof err), 100, "no arguments: usage error");
	ok(strstr(err, "--tree") != NULL, "and says what is missing: %s", err);
	if (!tree) {
		tap_skip(8, why);
		return tap_done(0);
	}
	if (make_tmpdir(dir, sizeof dir, "modpick") != 0) {
		tap_skip(1, "no temporary directory");
		return tap_done(0);
	}
	snprintf(out, sizeof out, "%s/mods", dir);
	is_int(run(prog, (const char *[]){ "--tree", tree, "--out", out, "--module", "nosuch-mod",
		   NULL }, err, sizeof err), 100, "unknown module: exit 100");
	ok(strstr(err, "nosuch-mod") != NULL, "and the message names it: %s", err);
	is_int(run(prog, (const char *[]){ "--tree", tree, "--out", out, "--class", "nope", NULL },
		   err, sizeof err), 100, "unknown class: exit 100");
	is_int(run(prog, (const char *[]){ "--tree", tree, "--out", out, NULL }, err, sizeof err), 0,
	       "default classes");
	ok(strstr(err, "modules for") && strstr(err, "bytes"), "summary: %s", err);
	top = open(out, O_RDONLY | O_DIRECTORY);
	snprintf(err, sizeof err, "%s/kernel/fs/ext4/ext4.ko", tree);
	ok(fstatat(top, "ext4.ko", &a, 0) == 0 && stat(err, &b) == 0 && a.st_size == b.st_size,
	   "ext4.ko copied whole");
	ok(fstatat(top, "usb_storage.ko", &a, 0) == 0, "usb-storage.ko copied as usb_storage.ko");
	cfg.dirfd = top;
	cfg.index = "modules.idx";
	is_int(modload_new(&cfg, &ml), 0, "modules.idx reads back");
	modload_free(ml);
	packed(prog, tree, dir, top);
	close(top);
	rm_tree(dir);
	return tap_done(0);
}
