/* verify.c: live.verify: a layer's SHA-256 compared with its line in live/SHA256SUMS. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lower.h"
#include "io.h"
#include "sha256.h"
#include "slotrec.h"

#define MANIFEST       "SHA256SUMS"
#define MANIFEST_MAX   (64 * 1024)
#define COPY_CHUNK     (1024 * 1024)

int manifest_find(char *text, const char *name, char hex[65])
{
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f = l + 64;
		if (strlen(l) < 66 || f[0] != ' ' || (f[1] != ' ' && f[1] != '*'))
			continue;
		if (strcmp(f + 2, name))
			continue;
		memcpy(hex, l, 64);
		hex[64] = '\0';
		return 0;
	}
	return -ENOENT;
}

/*
 * The expected hash of name: from its own dir/NAME.sha256 (one sha256sum line, which
 * overlive-update writes beside the image of the slot it writes, before the record names it), else
 * from dir/SHA256SUMS (the build's, for the images it made).
 */
static int manifest_lookup(int rootfd, const char *dir, const char *name, char hex[65])
{
	char path[CONFIG_STR + 96], *text = malloc(MANIFEST_MAX);
	int r = -ENOENT;

	if (!text)
		return -ENOMEM;
	for (int k = 0; k < 2 && r == -ENOENT; k++) {
		if (k == 0)
			snprintf(path, sizeof path, "%s/%s" SLOT_SUM_SUFFIX, dir, name);
		else
			snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
		r = read_small_file(rootfd, at_root(path), text, MANIFEST_MAX);
		if (r == 0)
			r = manifest_find(text, name, hex);
	}
	free(text);
	return r;
}

int layer_hash(struct init_ctx *c, int in, int out, const struct layer *l, const char *what, char hex[65])
{
	unsigned char *buf = malloc(COPY_CHUNK), d[32];
	unsigned long long done = 0;
	struct sha256 h;
	int r = 0, tenth = 0;
	double t0 = uptime_seconds();

	if (!buf)
		return -ENOMEM;
	sha256_init(&h);
	for (;;) {
		size_t got;
		if ((r = read_all(in, buf, COPY_CHUNK, &got)) < 0 || got == 0)
			break;
		sha256_update(&h, buf, got);
		if (out >= 0 && (r = write_all(out, buf, got)) < 0)
			break;
		done += got;
		int now_tenth = l->size ? (int)(done * 10 / l->size) : 10;
		if (now_tenth > tenth && l->size > 8 * COPY_CHUNK) {
			tenth = now_tenth;
			log_msg(c, LOG_NOTICE, "%s %s: %d%% (%llu of %llu MiB)", what, l->name, tenth * 10,
				done >> 20, l->size >> 20);
		}
	}
	free(buf);
	if (r < 0)
		return r;
	sha256_final(&h, d);
	sha256_hex(d, hex);
	log_msg(c, LOG_INFO, "%s %s: %llu bytes in %.3f s", what, l->name, done, uptime_seconds() - t0);
	return 0;
}

int layer_verify(struct init_ctx *c, const char *dir, const struct layer *l, const char *got)
{
	char want[65];
	int r = manifest_lookup(c->rootfd, dir, l->name, want);

	if (r < 0) {
		failx(c, r, "rebuild the medium with ./build.sh (it writes live/" MANIFEST "), or boot without live.verify",
		      "verify %s: no checksum for it in %s/%s", l->name, dir, MANIFEST);
	} else if (strcmp(got, want)) {
		failx(c, -EBADMSG, "the file is damaged: write the image to the stick again (or boot with live.verify=warn)",
		      "verify %s: SHA-256 mismatch: expected %s, found %s", l->name, want, got);
		r = -EBADMSG;
	} else {
		log_msg(c, LOG_NOTICE, "verify %s: SHA-256 %s ok", l->name, got);
		return 0;
	}
	if (c->cfg.verify == 2) {       /* live.verify=warn */
		report_failure(c, r, LOG_WARN);
		log_msg(c, LOG_WARN, "live.verify=warn: booting anyway");
		return 0;
	}
	return r;
}
