/* devspec.c: LABEL=, UUID=, PARTLABEL=, PARTUUID= and /dev/NAME, parsed and compared. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "devspec.h"

static const char *const prefixes[] = {
	[DEVSPEC_LABEL] = "LABEL=", [DEVSPEC_UUID] = "UUID=", [DEVSPEC_PARTLABEL] = "PARTLABEL=",
	[DEVSPEC_PARTUUID] = "PARTUUID=", [DEVSPEC_PATH] = "/dev/",
};

const char *devspec_prefix(enum devspec_kind kind)
{
	return prefixes[kind];
}

/* n hex digits at s; returns s + n, or NULL. */
static const char *hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return NULL;
	return s + n;
}

/* A GPT GUID (8-4-4-4-12 hex digits) or an MBR signature and partition (8-2 hex digits). */
static int partuuid_ok(const char *s)
{
	static const size_t guid[] = { 8, 4, 4, 4, 12 };
	const char *p = hex_run(s, 8);

	if (p && p[0] == '-' && hex_run(p + 1, 2) && p[3] == '\0')
		return 1;
	p = s;
	for (size_t i = 0; p && i < sizeof guid / sizeof guid[0]; i++) {
		p = hex_run(p, guid[i]);
		if (p && i + 1 < sizeof guid / sizeof guid[0])
			p = *p == '-' ? p + 1 : NULL;
	}
	return p && *p == '\0';
}

const char *devspec_parse(const char *s, struct devspec *d)
{
	for (size_t k = 0; s && k < sizeof prefixes / sizeof prefixes[0]; k++) {
		size_t n = strlen(prefixes[k]);
		if (strncmp(s, prefixes[k], n))
			continue;
		if (!s[n])
			return k == DEVSPEC_PATH ? "names no device after /dev/" : "needs a value after '='";
		if (k == DEVSPEC_PARTUUID && !partuuid_ok(s + n))
			return "PARTUUID= takes a GPT partition GUID (8-4-4-4-12 hex digits) or an MBR "
			       "signature and partition number (SSSSSSSS-NN)";
		d->kind = (enum devspec_kind)k;
		d->value = s + n;
		return NULL;
	}
	return "expects " DEVSPEC_FORMS;
}

int devspec_matches(const struct devspec *d, const char *value)
{
	if (!value || !value[0])
		return 0;
	if (d->kind == DEVSPEC_UUID || d->kind == DEVSPEC_PARTUUID)
		return !strcasecmp(d->value, value);
	return !strcmp(d->value, value);
}
