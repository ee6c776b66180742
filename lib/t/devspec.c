/* lib/t/devspec.c: every device form parsed, every malformed one refused with its reason, matching. */
#include <string.h>
#include "devspec.h"
#include "tap.h"

int main(void)
{
	static const struct { const char *text; int ok; enum devspec_kind kind; const char *value; } cases[] = {
		{ "LABEL=OVERLIVE", 1, DEVSPEC_LABEL, "OVERLIVE" },
		{ "LABEL=my stick", 1, DEVSPEC_LABEL, "my stick" },
		{ "UUID=1234-ABCD", 1, DEVSPEC_UUID, "1234-ABCD" },
		{ "PARTLABEL=overlive-root", 1, DEVSPEC_PARTLABEL, "overlive-root" },
		{ "PARTUUID=0e24c6af-d3a2-a841-9785-e846962b2309", 1, DEVSPEC_PARTUUID, "0e24c6af-d3a2-a841-9785-e846962b2309" },
		{ "PARTUUID=0E24C6AF-D3A2-A841-9785-E846962B2309", 1, DEVSPEC_PARTUUID, "0E24C6AF-D3A2-A841-9785-E846962B2309" },
		{ "PARTUUID=1234abcd-01", 1, DEVSPEC_PARTUUID, "1234abcd-01" },
		{ "/dev/vda1", 1, DEVSPEC_PATH, "vda1" },
		{ "/dev/mmcblk0p2", 1, DEVSPEC_PATH, "mmcblk0p2" },
		{ "LABEL=", 0, 0, NULL }, { "UUID=", 0, 0, NULL }, { "PARTLABEL=", 0, 0, NULL },
		{ "PARTUUID=", 0, 0, NULL }, { "/dev/", 0, 0, NULL },
		{ "PARTUUID=1234-01", 0, 0, NULL },             /* a signature is 8 hex digits */
		{ "PARTUUID=1234abcd-1", 0, 0, NULL },          /* the partition is 2 */
		{ "PARTUUID=1234abcd-01x", 0, 0, NULL },
		{ "PARTUUID=0e24c6af-d3a2-a841-9785-e846962b230", 0, 0, NULL },
		{ "PARTUUID=0e24c6af-d3a2-a841-9785-e846962b2309a", 0, 0, NULL },
		{ "PARTUUID=0e24c6afd3a2-a841-9785-e846962b2309", 0, 0, NULL },
		{ "PARTUUID=ge24c6af-d3a2-a841-9785-e846962b2309", 0, 0, NULL },
		{ "PARTUUID=1234abcd-01/PARTNROFF=1", 0, 0, NULL },
		{ "label=OVERLIVE", 0, 0, NULL }, { "OVERLIVE", 0, 0, NULL }, { "", 0, 0, NULL },
		{ "dev/sda", 0, 0, NULL }, { "/sda", 0, 0, NULL }, { "tmpfs", 0, 0, NULL },
	};
	struct devspec d;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *why = devspec_parse(cases[i].text, &d);
		if (cases[i].ok)
			ok(!why && d.kind == cases[i].kind && !strcmp(d.value, cases[i].value), "'%s' names a device by %s%s",
			   cases[i].text, devspec_prefix(cases[i].kind), cases[i].value);
		else
			ok(why && why[0], "'%s' is refused: %s", cases[i].text, why ? why : "(accepted)");
	}
	ok(devspec_parse(NULL, &d) != NULL, "NULL is refused");
	ok(strstr(devspec_parse("PARTUUID=12", &d), "SSSSSSSS-NN") != NULL, "a bad PARTUUID's reason shows both forms");
	ok(strstr(devspec_parse("XYZ=1", &d), "PARTUUID=") != NULL, "an unknown form's reason lists every form");

	devspec_parse("UUID=1234-abcd", &d);
	ok(devspec_matches(&d, "1234-ABCD"), "UUID= matches without regard to case");
	devspec_parse("PARTUUID=1234ABCD-0A", &d);
	ok(devspec_matches(&d, "1234abcd-0a"), "PARTUUID= matches without regard to case");
	devspec_parse("LABEL=Stick", &d);
	ok(!devspec_matches(&d, "STICK"), "LABEL= is compared exactly, as blkid and the kernel do");
	ok(!devspec_matches(&d, "") && !devspec_matches(&d, NULL), "nothing matches an empty or missing value");
	devspec_parse("/dev/vda1", &d);
	ok(devspec_matches(&d, "vda1") && !devspec_matches(&d, "vda"), "/dev/NAME matches the DEVNAME exactly");
	return tap_done(0);
}
