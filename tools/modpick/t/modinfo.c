/* tools/modpick/t/modinfo.c: the .modinfo reader on fabricated modules, broken ones, and real ones. */
#include "modinfo.h"
#include "tap.h"
#include "picktest.h"

static const char info[] = "license=GPL\0alias=virtio:d00000002v*\0depends=virtio,virtio_ring\0"
			   "\0\0noequals\0=novalue\0name=virtio_blk\0vermagic=6.1.0-56-amd64 SMP";

static int is_err(int r)
{
	return r == -ENOEXEC || r == -EINVAL;
}

/* A successful parse must point inside the buffer; walking it must stay inside too. */
static int sane(const unsigned char *b, size_t len, int r, const struct modinfo *mi)
{
	size_t pos = 0, kl, vl;
	const char *k, *v;

	if (r != 0)
		return is_err(r);
	if ((const unsigned char *)mi->sec < b || mi->len > len ||
	    (const unsigned char *)mi->sec - b > (ptrdiff_t)(len - mi->len))
		return 0;
	while (modinfo_next(mi, &pos, &k, &kl, &v, &vl))
		if (v + vl > mi->sec + mi->len)
			return 0;
	return 1;
}

static int parse(unsigned char *b, size_t len)
{
	struct modinfo mi;
	int r = modinfo_parse(b, len, &mi);

	return sane(b, len, r, &mi) ? r : 1;
}

static void fabricated(void)
{
	struct fake_elf l;
	unsigned char *b = fake_elf(info, sizeof info - 1, &l), *c;
	struct modinfo mi;
	char val[64], small[4];
	size_t pos = 0, kl, vl, n;
	const char *k, *v;
	int r, pairs = 0, bad = 0;

	is_int(modinfo_parse(b, l.len, &mi), 0, "fabricated module parses");
	ok(mi.sec == (const char *)b + l.info_off && mi.len == sizeof info - 1, "section found");
	while (modinfo_next(&mi, &pos, &k, &kl, &v, &vl))
		pairs++;
	is_int(pairs, 5, "key=value pairs (padding, no '=', empty key skipped)");
	is_int(modinfo_get(&mi, "name", val, sizeof val), 0, "name");
	is_str(val, "virtio_blk", "name value");
	is_int(modinfo_get(&mi, "depends", val, sizeof val), 0, "depends");
	is_str(val, "virtio,virtio_ring", "depends value");
	is_int(modinfo_get(&mi, "vermagic", val, sizeof val), 0, "last string without NUL");
	is_str(val, "6.1.0-56-amd64 SMP", "vermagic ends at the section end");
	is_int(modinfo_get(&mi, "softdep", val, sizeof val), -ENOENT, "absent key");
	is_int(modinfo_get(&mi, "name", small, sizeof small), -E2BIG, "value too long for buffer");

	/* truncated at every length: the section headers are at the end, so all must fail */
	for (n = 0; n < l.len; n++) {
		c = malloc(n ? n : 1);
		memcpy(c, b, n);
		r = modinfo_parse(c, n, &mi);
		bad += !is_err(r);
		free(c);
	}
	is_int(bad, 0, "every truncation gives -ENOEXEC or -EINVAL");

	/* every single bit flipped: no crash, and any success stays inside the buffer */
	bad = 0;
	for (n = 0; n < l.len * 8; n++) {
		c = malloc(l.len);
		memcpy(c, b, l.len);
		c[n / 8] ^= 1u << (n % 8);
		bad += parse(c, l.len) == 1;
		free(c);
	}
	is_int(bad, 0, "every bit flip parses sanely or fails cleanly");
	free(b);
}

struct lie {
	const char *what;
	int sec, field, width;  /* sec -1: the ELF header */
	uint64_t value;         /* ~0 - k means len - k below */
	int want;
};

#define LEN(k) (UINT64_MAX - (k))

static const struct lie lies[] = {
	{ "modinfo size one past the end", FAKE_SH_INFO, 32, 8, LEN(0) , -EINVAL },
	{ "modinfo size huge", FAKE_SH_INFO, 32, 8, 1ull << 62, -EINVAL },
	{ "modinfo size wraps offset", FAKE_SH_INFO, 32, 8, UINT64_MAX - 10, -EINVAL },
	{ "modinfo offset past end", FAKE_SH_INFO, 24, 8, 1ull << 40, -EINVAL },
	{ "modinfo offset -1", FAKE_SH_INFO, 24, 8, UINT64_MAX, -EINVAL },
	{ "modinfo is NOBITS", FAKE_SH_INFO, 4, 4, 8, -EINVAL },
	{ "shstrtab size huge", FAKE_SH_STR, 32, 8, 1ull << 33, -EINVAL },
	{ "shstrtab offset wraps", FAKE_SH_STR, 24, 8, UINT64_MAX - 2, -EINVAL },
	{ "shstrtab is NOBITS", FAKE_SH_STR, 4, 4, 8, -EINVAL },
	{ "section name past shstrtab", FAKE_SH_INFO, 0, 4, 0xfffffff0u, -ENOEXEC },
	{ "section name crosses shstrtab end", FAKE_SH_INFO, 0, 4, 15, -ENOEXEC },
	{ "e_shoff past end", -1, 40, 8, 1ull << 50, -EINVAL },
	{ "e_shoff wraps", -1, 40, 8, UINT64_MAX - 63, -EINVAL },
	{ "e_shnum too big for the file", -1, 60, 2, 200, -EINVAL },
	{ "e_shnum zero", -1, 60, 2, 0, -EINVAL },
	{ "e_shnum SHN_XINDEX", -1, 60, 2, 0xffff, -EINVAL },
	{ "e_shentsize 40", -1, 58, 2, 40, -EINVAL },
	{ "e_shstrndx out of range", -1, 62, 2, 3, -EINVAL },
	{ "e_shstrndx points at .modinfo", -1, 62, 2, 1, -ENOEXEC },
	{ "ELF32", -1, 4, 1, 1, -ENOEXEC },
	{ "big-endian", -1, 5, 1, 2, -ENOEXEC },
	{ "ET_EXEC", -1, 16, 2, 2, -ENOEXEC },
	{ "bad magic", -1, 1, 1, 'X', -ENOEXEC },
	{ "no .modinfo name", FAKE_SH_INFO, 0, 4, 10, -ENOEXEC },
};

/* Writes v into a field of width bytes (1, 2, 4 or 8), little-endian. */
static void put_field(unsigned char *p, uint64_t v, int width)
{
	switch (width) {
	case 1: p[0] = (unsigned char)v; break;
	case 2: put_le16(p, (uint16_t)v); break;
	case 4: put_le32(p, (uint32_t)v); break;
	default: put_le64(p, v); break;
	}
}

static void lying(void)
{
	size_t i;

	for (i = 0; i < sizeof lies / sizeof *lies; i++) {
		const struct lie *x = &lies[i];
		struct fake_elf l;
		unsigned char *b = fake_elf(info, sizeof info - 1, &l);
		uint64_t v = x->value;
		struct modinfo mi;

		if (v == LEN(0))
			v = l.len - l.info_off + 1;
		put_field(x->sec < 0 ? b + x->field : fake_sh(b, &l, x->sec, x->field), v, x->width);
		is_int(modinfo_parse(b, l.len, &mi), x->want, x->what);
		free(b);
	}
	{
		unsigned char junk[200];

		memset(junk, 0xff, sizeof junk);
		is_int(modinfo_parse(junk, sizeof junk, &(struct modinfo){ 0 }), -ENOEXEC, "garbage");
		is_int(modinfo_parse(junk, 0, &(struct modinfo){ 0 }), -ENOEXEC, "empty file");
	}
}

/*
 * Cuts a real module at lengths step apart, and at every length near the end of its section
 * headers. Cut before their end, the module must fail; after it, only the appended signature
 * is lost and the module still parses. Returns the number of cuts, counts the wrong ones.
 */
static int truncations(const unsigned char *b, size_t len, size_t step, int *bad)
{
	struct modinfo mi;
	size_t shend = get_le64(b + 40) + 64 * (size_t)get_le16(b + 60), n;
	unsigned char *c;
	int tries = 0, r;

	if (shend > len) {
		++*bad;
		return 0;
	}
	for (n = 0; n < len; tries++) {
		c = malloc(n ? n : 1);
		memcpy(c, b, n);
		r = modinfo_parse(c, n, &mi);
		*bad += n < shend ? !is_err(r) : r != 0;
		free(c);
		if (n + 200 < shend)
			n = n + step < shend - 200 ? n + step : shend - 200;
		else
			n += n > shend + 200 ? step : 1;
	}
	return tries;
}

static void real(void)
{
	static const char *const ko[] = { "kernel/fs/ext4/ext4.ko", "kernel/lib/crc16.ko",
					  "kernel/drivers/block/virtio_blk.ko" };
	const char *why, *tree = module_tree(&why);
	char path[4096], val[256];
	struct modinfo mi;
	unsigned char *b;
	size_t len, i;
	int bad = 0, tries = 0;

	if (!tree) {
		tap_skip(8, why);
		return;
	}
	snprintf(path, sizeof path, "%s/%s", tree, ko[0]);
	b = slurp(path, &len);
	if (!b) {
		tap_skip(8, "MODULE_TREE has no kernel/fs/ext4/ext4.ko");
		return;
	}
	is_int(modinfo_parse(b, len, &mi), 0, "ext4.ko parses");
	is_int(modinfo_get(&mi, "name", val, sizeof val), 0, "ext4 has a name");
	is_str(val, "ext4", "ext4 name");
	modinfo_get(&mi, "depends", val, sizeof val);
	is_str(val, "jbd2,mbcache,crc16", "ext4 depends");
	modinfo_get(&mi, "softdep", val, sizeof val);
	is_str(val, "pre: crypto-crc32c", "ext4 softdep");
	ok(modinfo_get(&mi, "vermagic", val, sizeof val) == 0 && strchr(val, ' '), "ext4 vermagic '%s'",
	   val);
	tries = truncations(b, len, 65521, &bad);
	is_int(bad, 0, "truncated ext4.ko: fails cleanly before the headers' end, parses after");
	tap_diag("%d truncations of ext4.ko (%zu bytes)", tries, len);
	free(b);
	bad = 0;
	for (i = 1; i < sizeof ko / sizeof *ko; i++) {
		snprintf(path, sizeof path, "%s/%s", tree, ko[i]);
		b = slurp(path, &len);
		bad += !b || modinfo_parse(b, len, &mi) != 0;
		if (b && i == 1) {
			tries = truncations(b, len, 1, &bad);
			tap_diag("%d truncations of crc16.ko (%zu bytes)", tries, len);
		}
		free(b);
	}
	is_int(bad, 0, "crc16.ko and virtio_blk.ko parse, crc16.ko truncated at every length fails "
	       "cleanly before its section headers end");
}

int main(void)
{
	fabricated();
	lying();
	real();
	return tap_done(0);
}
