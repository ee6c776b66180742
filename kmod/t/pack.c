/*
 * kmod/t/pack.c: modules out of the index's pack (modidx.h), made by the host's real xz and
 * decoded by it (a command, as busybox's unxz) and by the built-in decoder (kmod/xzdec.c, a
 * function in a child): only as far as asked, a damaged or mismatched pack refused, no module
 * ever loaded half written, the decoder always reaped.
 */
#include <sys/wait.h>
#include "crc32c.h"
#include "kmod-int.h"
#include "modrec.h"
#include "tap.h"
#include "tmptree.h"

/* Each module's bytes are its name (the recorder reads them back); pack order is the index's. */
static const char *const mods[] = { "libfs", "sum", "fs", "core", "hc", "scsi", "disk", "net" };
enum { NMODS = sizeof mods / sizeof *mods };
static const char index_head[] =
	MODIDX_MAGIC "\n"
	"m libfs b\n"
	"m sum b\n"
	"m fs b libfs sum\n"
	"m core d\n"
	"m hc d core\n"
	"m scsi d\n"
	"m disk d scsi\n"
	"m net d\n"
	"p xz " MODIDX_PACK_FILE "\n";
static const char *const xz_dc[] = { "xz", "-dc", NULL };
/* The decoder under test: NULL the command xz_dc, else this function (the built-in one). */
static modload_decode_fn decoder;
/* The pack's xz check: the tests' packs carry a CRC32, the build's none (docs/kmod.md). */
static const char *check = "crc32";

static char top[4096];

static void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(1);
}

/* The index with s lines for the modules (size of each = its name, plus delta for the last one;
 * the CRC32C of its bytes, but for the module named wrong_crc). */
static void write_index(int dir, int delta, const char *wrong_crc)
{
	char text[2048];
	int n = snprintf(text, sizeof text, "%s", index_head);

	for (int i = 0; i < NMODS; i++) {
		uint32_t crc = crc32c(0, mods[i], strlen(mods[i]));

		if (wrong_crc && strcmp(mods[i], wrong_crc) == 0)
			crc ^= 1;
		n += snprintf(text + n, sizeof text - n, "s %s %zu %08x\n", mods[i],
			      strlen(mods[i]) + (i == NMODS - 1 ? delta : 0), (unsigned)crc);
	}
	write_str(dir, MODIDX_FILE, text);
}

/* Every module file there holds its own bytes: nothing damaged became a module. */
static int files_whole(int dir, int *nfiles)
{
	char path[8192];

	*nfiles = 0;
	for (int i = 0; i < NMODS; i++) {
		size_t len;
		unsigned char *p;

		snprintf(path, sizeof path, "%s/%s.ko", top, mods[i]);
		if (!(p = slurp(path, &len)))
			continue;
		++*nfiles;
		if (len != strlen(mods[i]) || memcmp(p, mods[i], len) != 0) {
			free(p);
			return 0;
		}
		free(p);
	}
	return 1;
}

/* The pack: every module's bytes in order, then extra, compressed by xz; damage flips one byte. */
static int write_pack(int dir, const char *extra, int damage)
{
	char raw[1024] = "", cmd[16384];
	int n = 0;

	for (int i = 0; i < NMODS; i++)
		n += snprintf(raw + n, sizeof raw - n, "%s", mods[i]);
	snprintf(raw + n, sizeof raw - n, "%s", extra);
	write_str(dir, "raw", raw);
	snprintf(cmd, sizeof cmd, "xz -9 --check=%s -c '%s/raw' > '%s/%s'", check, top, top, MODIDX_PACK_FILE);
	if (system(cmd) != 0)
		return -1;
	if (damage) {
		size_t len;
		unsigned char *p;

		snprintf(cmd, sizeof cmd, "%s/%s", top, MODIDX_PACK_FILE);
		p = slurp(cmd, &len);
		if (!p || len < 40)
			return -1;
		p[len / 2] ^= 0x55;
		write_file(dir, MODIDX_PACK_FILE, p, len);
		free(p);
	}
	return 0;
}

static void clear_modules(int dir)
{
	char f[64];

	for (int i = 0; i < NMODS; i++) {
		snprintf(f, sizeof f, "%s.ko", mods[i]);
		unlinkat(dir, f, 0);
		snprintf(f, sizeof f, "%s.ko.part", mods[i]);
		unlinkat(dir, f, 0);
	}
}

static int exists(int dir, const char *name)
{
	char f[64];

	snprintf(f, sizeof f, "%s.ko", name);
	return faccessat(dir, f, F_OK, 0) == 0;
}

static int new_loader(int dir, struct modrec *r, const char *const *unxz, struct modloader **ml)
{
	static struct modload_ops ops;
	struct modload_config cfg = { .dirfd = dir, .index = MODIDX_FILE, .ops = &ops,
				      .log = modrec_log, .log_arg = r, .unxz = unxz };

	if (unxz == xz_dc)
		cfg.decode = decoder;

	memset(r, 0, sizeof *r);
	ops.finit_module = modrec_finit;
	ops.arg = r;
	return modload_new(&cfg, ml);
}

/* No child left behind: every decoder the loader started was reaped. */
static int no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void on_demand(int dir)
{
	struct modloader *ml = NULL;
	struct modload_stats st;
	struct modrec r;
	char buf[512];

	clear_modules(dir);
	write_index(dir, 0, NULL);
	is_int(new_loader(dir, &r, xz_dc, &ml), 0, "an index with a pack is read");
	is_int(modload_base(ml), 0, "the base modules load out of the pack");
	is_str(modrec_calls(&r, 0, buf, sizeof buf), "libfs sum fs", "each with its own bytes, in order");
	ok(!exists(dir, "core") && !exists(dir, "net"), "the pack is decoded no further than the last base module");
	modload_get_stats(ml, &st);
	is_int((int)st.pack_bytes, 10, "10 bytes of it decoded");
	is_int((int)st.pack_total, 27, "of 27");
	is_int(modload_by_name(ml, "disk"), 0, "a later module loads on demand");
	is_str(modrec_calls(&r, 3, buf, sizeof buf), "scsi disk", "after its dependency");
	ok(exists(dir, "core") && exists(dir, "hc") && !exists(dir, "net"),
	   "the modules before it in the pack became files on the way, none after it");
	is_int(modload_by_name(ml, "hc"), 0, "a module already out of the pack loads from its file");
	is_int(modload_by_name(ml, "net"), 0, "the last module");
	modload_get_stats(ml, &st);
	ok(st.pack_bytes == st.pack_total, "the whole pack decoded, not a byte more");
	ok(ml->pack.fd < 0 && no_children(), "the decoder was reaped once the pack ended");
	ok(faccessat(dir, "net.ko.part", F_OK, 0) != 0, "no partial file is left");
	modload_free(ml);
}

static void file_wins_and_stop(int dir)
{
	struct modloader *ml = NULL;
	struct modrec r;
	char buf[512];

	clear_modules(dir);
	write_str(dir, "scsi.ko", "mine");
	is_int(new_loader(dir, &r, xz_dc, &ml), 0, "loader");
	is_int(modload_by_name(ml, "disk"), 0, "a module after a file of the same name as a pack module");
	is_str(modrec_calls(&r, 0, buf, sizeof buf), "mine disk", "the file already there wins over the pack");
	modload_pack_stop(ml);
	ok(ml->pack.fd < 0 && no_children(), "stop: the running decoder is ended and reaped");
	is_int(modload_by_name(ml, "net"), -ECANCELED, "after the stop, the pack gives nothing more");
	ok(modrec_logged(&r, "unable to decode module net"), "and says which module it could not give");
	modload_free(ml);

	clear_modules(dir);
	is_int(new_loader(dir, &r, xz_dc, &ml), 0, "loader");
	is_int(modload_unpack_all(ml), 0, "unpack all (for a rescue shell)");
	ok(exists(dir, "libfs") && exists(dir, "net") && r.n == 0, "every module is a file; none was loaded");
	modload_free(ml);
	ok(no_children(), "no decoder left");
}

/* A pack that is damaged, shorter or longer than its index, or a decoder that does not run. */
static void refusals(int dir)
{
	struct modloader *ml = NULL;
	struct modrec r;
	static const char *const missing[] = { "/nonexistent/unxz", NULL };
	static const char *const fails[] = { "false", NULL };
	int n;

	clear_modules(dir);
	if (write_pack(dir, "", 1) != 0)
		bail("unable to make a damaged pack");
	new_loader(dir, &r, xz_dc, &ml);
	is_int(modload_unpack_all(ml), -EBADMSG, "a damaged pack is refused");
	ok(modrec_logged(&r, "the pack is damaged"), "the message says the pack is damaged");
	ok(files_whole(dir, &n) && n < NMODS, "no damaged bytes became a module file");
	ok(faccessat(dir, "libfs.ko.part", F_OK, 0) != 0 && faccessat(dir, "net.ko.part", F_OK, 0) != 0,
	   "no partial file is left");
	is_int(modload_by_name(ml, "net"), -EBADMSG, "every later fetch gives the same error");
	ok(no_children(), "the decoder was reaped");
	modload_free(ml);

	clear_modules(dir);
	write_pack(dir, "", 0);
	write_index(dir, 0, "hc");
	new_loader(dir, &r, xz_dc, &ml);
	is_int(modload_by_name(ml, "core"), 0, "the module before one whose bytes do not match its CRC32C loads");
	is_int(modload_by_name(ml, "hc"), -EBADMSG, "the one that does not match is refused");
	ok(!exists(dir, "hc") && r.n == 1 && files_whole(dir, &n), "it never becomes a file, nor is it loaded");
	modload_free(ml);

	clear_modules(dir);
	write_pack(dir, "", 0);
	write_index(dir, 5, NULL);
	new_loader(dir, &r, xz_dc, &ml);
	is_int(modload_base(ml), 0, "an index that says the pack is longer: what comes before still loads");
	is_int(modload_by_name(ml, "net"), -EBADMSG, "the module the stream ends inside is refused");
	ok(!exists(dir, "net"), "and never becomes a file");
	modload_free(ml);

	clear_modules(dir);
	write_pack(dir, "trailing", 0);
	write_index(dir, 0, NULL);
	new_loader(dir, &r, xz_dc, &ml);
	is_int(modload_unpack_all(ml), -EBADMSG, "a pack longer than its index is refused at its end");
	modload_free(ml);
	ok(no_children(), "the decoder was reaped");

	clear_modules(dir);
	write_pack(dir, "", 0);
	new_loader(dir, &r, missing, &ml);
	is_int(modload_base(ml), -ENOENT, "a decoder that is not there: -ENOENT");
	ok(modrec_logged(&r, "unable to decode module libfs"), "named in the message");
	modload_free(ml);
	new_loader(dir, &r, fails, &ml);
	is_int(modload_base(ml), -EBADMSG, "a decoder that fails: the pack is refused");
	modload_free(ml);
	new_loader(dir, &r, NULL, &ml);
	is_int(modload_base(ml), -ENOEXEC, "no decoder configured: -ENOEXEC");
	modload_free(ml);
	ok(no_children(), "no decoder left");
}

static int fails_fn(int in, int out)
{
	return -EIO;
}

/* The built-in decoder's own refusals: a CRC32 that does not match the stream (every module's
 * bytes right), a decoder function that fails. */
static void builtin_refusals(int dir)
{
	struct modloader *ml = NULL;
	struct modrec r;
	char path[8192];
	unsigned char *p;
	size_t len;

	clear_modules(dir);
	write_index(dir, 0, NULL);
	if (write_pack(dir, "", 0) != 0)
		bail("unable to make the pack with xz");
	/* the block's CRC32 is the 4 bytes before the index: the footer (12 bytes) says its size */
	snprintf(path, sizeof path, "%s/%s", top, MODIDX_PACK_FILE);
	p = slurp(path, &len);
	if (!p || len < 40)
		bail("unable to read the pack back");
	size_t index = ((size_t)p[len - 8] | (size_t)p[len - 7] << 8 | (size_t)p[len - 6] << 16 |
			(size_t)p[len - 5] << 24) * 4 + 4;
	p[len - 12 - index - 1] ^= 0x01;
	write_file(dir, MODIDX_PACK_FILE, p, len);
	free(p);
	new_loader(dir, &r, xz_dc, &ml);
	is_int(modload_unpack_all(ml), -EBADMSG, "built-in: a stream whose CRC32 does not match is refused at its end");
	ok(no_children(), "the decoder was reaped");
	modload_free(ml);

	clear_modules(dir);
	write_pack(dir, "", 0);
	decoder = fails_fn;
	new_loader(dir, &r, xz_dc, &ml);
	is_int(modload_base(ml), -EBADMSG, "a decoder function that fails: the pack is refused");
	ok(files_whole(dir, &(int){ 0 }) && !exists(dir, "libfs") && no_children(), "nothing became a module; reaped");
	modload_free(ml);
	decoder = modload_xz_builtin;
}

int main(void)
{
	int dir;

	if (system("xz --version >/dev/null 2>&1") != 0) {
		tap_skip(1, "no xz on this host (xz-utils): the pack cannot be made");
		return tap_done(0);
	}
	if (make_tmpdir(top, sizeof top, "pack") != 0) {
		tap_skip(1, "no temporary directory");
		return tap_done(0);
	}
	dir = open(top, O_RDONLY | O_DIRECTORY);
	if (write_pack(dir, "", 0) != 0)
		bail("unable to make the pack with xz");
	on_demand(dir);
	file_wins_and_stop(dir);
	refusals(dir);
	if (modload_xz_builtin) {
		/* the same again with the built-in decoder, on packs with a CRC32 and on the build's */
		decoder = modload_xz_builtin;
		write_pack(dir, "", 0);
		on_demand(dir);
		file_wins_and_stop(dir);
		refusals(dir);
		builtin_refusals(dir);
		check = "none";
		write_pack(dir, "", 0);
		on_demand(dir);
		refusals(dir);
	} else {
		tap_skip(1, "the built-in xz decoder is not compiled in (no XZ Embedded source: XZ_SRC)");
	}
	close(dir);
	rm_tree(top);
	return tap_done(0);
}
