/* kmod/t/index.c: the loader's parser of modules.idx: every malformed index refused, limits kept. */
#include "kmod-int.h"
#include "tap.h"
#include "tmptree.h"

static int read_back(int dirfd, const char *text, struct modloader **ml)
{
	struct modload_config cfg = { .dirfd = dirfd, .index = "t.idx" };

	if (text && write_str(dirfd, "t.idx", text) != 0)
		return -EIO;
	return modload_new(&cfg, ml);
}

struct bad_index {
	const char *what, *text;
	int want;
};

static const struct bad_index bads[] = {
	{ "empty", "", -EINVAL },
	{ "no magic", "m a b\n", -EINVAL },
	{ "future version", "overlive-modules 2\nm a b\n", -EINVAL },
	{ "unknown line kind", "overlive-modules 1\nx a b\n", -EINVAL },
	{ "line kind without space", "overlive-modules 1\nma b\n", -EINVAL },
	{ "forward dependency", "overlive-modules 1\nm a b c\nm c b\n", -EINVAL },
	{ "self dependency", "overlive-modules 1\nm a b a\n", -EINVAL },
	{ "bad flags", "overlive-modules 1\nm a x\n", -EINVAL },
	{ "too many flags", "overlive-modules 1\nm a boo\n", -EINVAL },
	{ "missing flags", "overlive-modules 1\nm a\n", -EINVAL },
	{ "a base module cannot be late", "overlive-modules 1\nm a bl\n", -EINVAL },
	{ "late before optional", "overlive-modules 1\nm a dlo\n", -EINVAL },
	{ "late twice", "overlive-modules 1\nm a dll\n", -EINVAL },
	{ "duplicate module", "overlive-modules 1\nm a b\nm a-x d\nm a_x d\n", -EINVAL },
	{ "alias of unknown module", "overlive-modules 1\nm a b\na z pci:*\n", -EINVAL },
	{ "alias without pattern", "overlive-modules 1\nm a b\na a\n", -EINVAL },
	{ "name with a slash", "overlive-modules 1\nm ../a b\n", -EINVAL },
	{ "pack twice", "overlive-modules 1\nm a b\np xz x.xz\np xz y.xz\n", -EINVAL },
	{ "pack of an unknown format", "overlive-modules 1\nm a b\np gz x.gz\n", -EINVAL },
	{ "pack without a file", "overlive-modules 1\nm a b\np xz\n", -EINVAL },
	{ "pack file in another directory", "overlive-modules 1\nm a b\np xz ../x.xz\n", -EINVAL },
	{ "pack file ..", "overlive-modules 1\nm a b\np xz ..\n", -EINVAL },
	{ "pack with a word too many", "overlive-modules 1\nm a b\np xz x.xz y\n", -EINVAL },
	{ "stored before the pack", "overlive-modules 1\nm a b\ns a 1 00000000\n", -EINVAL },
	{ "stored unknown module", "overlive-modules 1\nm a b\np xz x.xz\ns z 1 00000000\n", -EINVAL },
	{ "stored twice", "overlive-modules 1\nm a b\np xz x.xz\ns a 1 00000000\ns a 1 00000000\n", -EINVAL },
	{ "stored size not decimal", "overlive-modules 1\nm a b\np xz x.xz\ns a 0x10 00000000\n", -EINVAL },
	{ "stored without its CRC", "overlive-modules 1\nm a b\np xz x.xz\ns a 1\n", -EINVAL },
	{ "stored CRC of 7 digits", "overlive-modules 1\nm a b\np xz x.xz\ns a 1 0000000\n", -EINVAL },
	{ "stored CRC of 9 digits", "overlive-modules 1\nm a b\np xz x.xz\ns a 1 000000000\n", -EINVAL },
	{ "stored CRC in upper case", "overlive-modules 1\nm a b\np xz x.xz\ns a 1 ABCDEF00\n", -EINVAL },
	{ "stored CRC not hex", "overlive-modules 1\nm a b\np xz x.xz\ns a 1 0000000g\n", -EINVAL },
	{ "stored module over the limit", "overlive-modules 1\nm a b\np xz x.xz\ns a 67108865 00000000\n", -E2BIG },
	{ "pack over the limit", "overlive-modules 1\nm a b\nm c b\nm d b\nm e b\nm f b\np xz x.xz\n"
	  "s a 67108864 00000000\ns c 67108864 00000000\ns d 67108864 00000000\n"
	  "s e 67108864 00000000\ns f 1 00000000\n", -E2BIG },
	{ "name too long", "overlive-modules 1\n"
	  "m aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b\n", -EINVAL },
};

static void malformed(int dir)
{
	struct modloader *ml;
	size_t i;
	char *big;
	int err, n;

	for (i = 0; i < sizeof bads / sizeof *bads; i++) {
		ml = NULL;
		is_int(read_back(dir, bads[i].text, &ml), bads[i].want, bads[i].what);
		modload_free(ml);
	}
	ml = NULL;
	is_int(read_back(dir, "overlive-modules 1\n# c\n\nk 6.1\nm a bo\nm b d a\nm c dl\nm e dol\na b x:*\n"
			 "p xz x.xz\ns b 12 0123abcd\ns a 0 00000000\n", &ml), 0,
	       "comments, blank lines, all kinds");
	modload_free(ml);
	ml = NULL;
	write_file(dir, "t.idx", "overlive-modules 1\nm a b\0m c d\n", 30);
	is_int(read_back(dir, NULL, &ml), -EINVAL, "NUL inside the index");
	big = malloc(64 * (MODIDX_MAX_MODULES + 2));
	n = sprintf(big, "overlive-modules 1\n");
	for (i = 0; i <= MODIDX_MAX_MODULES; i++)
		n += sprintf(big + n, "m m%zu d\n", i);
	ml = NULL;
	is_int(read_back(dir, big, &ml), -E2BIG, "more modules than the limit");
	free(big);
	unlinkat(dir, "t.idx", 0);
	err = read_back(dir, NULL, &ml);
	is_int(err, -ENOENT, "no index");
}

int main(void)
{
	char path[4096];
	int dir;

	if (make_tmpdir(path, sizeof path, "index") != 0) {
		tap_skip(1, "no temporary directory");
		return tap_done(0);
	}
	dir = open(path, O_RDONLY | O_DIRECTORY);
	malformed(dir);
	close(dir);
	rm_tree(path);
	return tap_done(0);
}
