/*
 * initramfs/t/partuuid.c: PARTUUIDs read from partition tables made by sfdisk, with sfdisk and blkid
 * as the oracles: GPT entries (512- and 4096-byte sectors), MBR signatures, empty and unused
 * entries, malformed headers, and random damage (no crash, only a clean refusal or an answer).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probe.h"
#include "tap.h"

#define DISK_BYTES (8 << 20)

static char dir[] = "/tmp/partuuid-t-XXXXXX";

/* Runs a shell command; its first line of output into out (lower-cased). 0 on success. */
static int run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	int st;

	out[0] = '\0';
	if (!p)
		return -1;
	if (!fgets(out, (int)cap, p))
		out[0] = '\0';
	st = pclose(p);
	out[strcspn(out, "\n")] = '\0';
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return st;
}

static unsigned char *slurp(const char *path, size_t len)
{
	unsigned char *b = calloc(1, len);
	FILE *f = fopen(path, "rb");

	if (!b || !f || fread(b, 1, len, f) != len) {
		if (f)
			fclose(f);
		free(b);
		return NULL;
	}
	fclose(f);
	return b;
}

static int partuuid(const unsigned char *b, size_t len, unsigned n, char *out)
{
	struct probe_src src = { .fd = -1, .buf = b, .len = len };
	return probe_partuuid(&src, n, out, 64);
}

int main(void)
{
	char cmd[512], want[128], got[64], img[64];
	unsigned char *gpt, *mbr, *g4;
	int r;

	if (system("command -v sfdisk >/dev/null && command -v blkid >/dev/null") != 0) {
		tap_skip(1, "sfdisk and blkid (util-linux, fdisk) are needed as oracles");
		return tap_done(0);
	}
	if (!mkdtemp(dir))
		return 1;

	/* GPT: three partitions, sfdisk names their GUIDs */
	snprintf(img, sizeof img, "%s/gpt.img", dir);
	snprintf(cmd, sizeof cmd, "truncate -s %d %s && printf 'label: gpt\\n,1M,L\\n,1M,L\\n,1M,L\\n' | sfdisk -q %s",
		 DISK_BYTES, img, img);
	ok(system(cmd) == 0, "sfdisk makes a GPT disk with three partitions");
	gpt = slurp(img, DISK_BYTES);
	ok(gpt != NULL, "read it back");
	for (unsigned n = 1; gpt && n <= 3; n++) {
		snprintf(cmd, sizeof cmd, "sfdisk --part-uuid %s %u", img, n);
		run(cmd, want, sizeof want);
		r = partuuid(gpt, DISK_BYTES, n, got);
		ok(r == 0 && !strcmp(got, want), "GPT partition %u: %s (sfdisk: %s)", n, r ? strerror(-r) : got, want);
	}
	if (gpt) {
		is_int(partuuid(gpt, DISK_BYTES, 4, got), -ENOENT, "GPT: an unused entry is no partition");
		is_int(partuuid(gpt, DISK_BYTES, 129, got), -EINVAL, "GPT: past the entry count");
		is_int(partuuid(gpt, DISK_BYTES, 0, got), -EINVAL, "partition 0 does not exist");
		is_int(partuuid(gpt, 1024, 1, got), -ENOENT, "a disk cut short before the entries");

		/* the same table laid out for 4096-byte sectors: header in LBA 1, entries from LBA 2 */
		g4 = calloc(1, DISK_BYTES);
		memcpy(g4, gpt, 512);
		memcpy(g4 + 4096, gpt + 512, 512);
		memcpy(g4 + 8192, gpt + 1024, 128 * 128);
		snprintf(cmd, sizeof cmd, "sfdisk --part-uuid %s 2", img);
		run(cmd, want, sizeof want);
		r = partuuid(g4, DISK_BYTES, 2, got);
		ok(r == 0 && !strcmp(got, want), "GPT on 4096-byte sectors, partition 2: %s", r ? strerror(-r) : got);

		/* a malformed header: entry size 0, then a header size past the sector */
		unsigned char *bad = malloc(DISK_BYTES);
		memcpy(bad, gpt, DISK_BYTES);
		memset(bad + 512 + 84, 0, 4);
		is_int(partuuid(bad, DISK_BYTES, 1, got), -EINVAL, "GPT with entry size 0 is refused");
		memcpy(bad, gpt, DISK_BYTES);
		bad[512 + 13] = 0x10;
		is_int(partuuid(bad, DISK_BYTES, 1, got), -EINVAL, "GPT with a header larger than its sector is refused");

		/* random damage to the first 64 KiB: an answer or a clean error, never a crash (ASan) */
		srand(7);
		int odd = 0;
		for (int i = 0; i < 20000; i++) {
			memcpy(bad, gpt, 64 << 10);
			for (int k = 0; k < 1 + rand() % 8; k++)
				bad[512 + rand() % (16 << 10)] = (unsigned char)rand();
			r = partuuid(bad, DISK_BYTES, 1 + (unsigned)(rand() % 200), got);
			if (r != 0 && r != -ENOENT && r != -EINVAL)
				odd++;
			if (r == 0 && strlen(got) != 36)
				odd++;
		}
		is_int(odd, 0, "20000 damaged tables: each an answer in GUID form or -ENOENT/-EINVAL");
		free(bad);
		free(g4);
	}

	/* MBR: the disk signature and the partition number; blkid names the signature */
	snprintf(img, sizeof img, "%s/mbr.img", dir);
	snprintf(cmd, sizeof cmd, "truncate -s %d %s && printf 'label: dos\\nlabel-id: 0x1234abcd\\n,1M,83\\n,1M,5\\n,512K,83\\n' | sfdisk -q %s",
		 DISK_BYTES, img, img);
	ok(system(cmd) == 0, "sfdisk makes an MBR disk with a primary and a logical partition");
	mbr = slurp(img, DISK_BYTES);
	snprintf(cmd, sizeof cmd, "blkid -p -o value -s PTUUID %s", img);
	run(cmd, want, sizeof want);
	is_str(want, "1234abcd", "blkid reads the signature sfdisk wrote");
	if (mbr) {
		r = partuuid(mbr, DISK_BYTES, 1, got);
		ok(r == 0 && !strcmp(got, "1234abcd-01"), "MBR partition 1: %s", r ? strerror(-r) : got);
		r = partuuid(mbr, DISK_BYTES, 5, got);
		ok(r == 0 && !strcmp(got, "1234abcd-05"), "MBR logical partition 5: %s", r ? strerror(-r) : got);
		memset(mbr + 510, 0, 2);
		is_int(partuuid(mbr, DISK_BYTES, 1, got), -ENOENT, "no 0x55AA: no partition table");
	}
	free(gpt);
	free(mbr);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done(0);
}
