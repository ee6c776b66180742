/* initramfs/t/config.c: the kernel-parameter table: defaults, values, bad values, unknown keys. */
#include <string.h>
#include "config.h"
#include "sizes.h"
#include "tap.h"

static int parse(struct config *c, const char *line, struct config_result *res)
{
	config_defaults(c);
	return config_parse(c, line, res);
}

int main(void)
{
	struct config c;
	struct config_result res;

	is_int(parse(&c, "BOOT_IMAGE=/vmlinuz quiet console=ttyS0", &res), 0, "no live.* keys: no errors");
	is_str(c.media, "LABEL=OVERLIVE", "default live.media");
	is_str(c.root, "/live/root.sqfs", "default live.root");
	is_str(c.init, "/sbin/init", "default live.init");
	is_int(c.wait, 30, "default live.wait");
	is_str(c.size, "50%", "default live.size");
	is_int(c.upper, UPPER_TMPFS, "default live.upper");
	is_str(c.brk, "", "no live.break by default");
	is_int(res.n, 0, "nothing to report");

	is_int(parse(&c, "live.media=\"LABEL=MY STICK\" live.root=/live/a.sqfs live.wait=5 "
			 "live.size=512M live.init=/bin/sh live.upper=tmpfs live.debug", &res), 0,
	       "a full set of good values");
	is_str(c.media, "LABEL=MY STICK", "quoted label with a space");
	is_str(c.root, "/live/a.sqfs", "live.root");
	is_int(c.wait, 5, "live.wait");
	is_str(c.size, "536870912", "live.size: tmpfs is given bytes");
	is_str(c.init, "/bin/sh", "live.init");
	is_int(c.debug, 1, "live.debug without a value is on");

	is_int(c.slot, -1, "no live.slot by default: the slot record decides");
	is_int(parse(&c, "live.slot=B", &res), 0, "live.slot=B");
	is_int(c.slot, 1, "  slot B");
	is_int(parse(&c, "live.slot=a", &res), 0, "live.slot=a");
	is_int(c.slot, 0, "  slot A");
	is_int(parse(&c, "live.slot=C", &res), 0, "live.slot=C is not fatal (the record decides)");
	ok(c.slot == -1 && res.n == 1 && strstr(res.issue[0].why, "A or B"), "  but named, and left to the record");

	static const char *const good_media[] = { "UUID=1234-ABCD", "PARTLABEL=overlive-root", "/dev/sda1",
						  "PARTUUID=5eed0123-01", "PARTUUID=0E24C6AF-D3A2-A841-9785-E846962B2309" };
	for (size_t i = 0; i < sizeof good_media / sizeof good_media[0]; i++) {
		char line[64];
		snprintf(line, sizeof line, "live.media=%s", good_media[i]);
		is_int(parse(&c, line, &res), 0, line);
		is_str(c.media, good_media[i], "stored as given");
	}

	static const struct { const char *line; int kind; const char *spec; } uppers[] = {
		{ "live.upper=LABEL=persistence", UPPER_DEVICE, "LABEL=persistence" },
		{ "live.upper=UUID=0f3c-aa", UPPER_DEVICE, "UUID=0f3c-aa" },
		{ "live.upper=PARTLABEL=persistence", UPPER_DEVICE, "PARTLABEL=persistence" },
		{ "live.upper=/dev/sdb2", UPPER_DEVICE, "/dev/sdb2" },
		{ "live.upper=PARTUUID=5eed0123-02", UPPER_DEVICE, "PARTUUID=5eed0123-02" },
		{ "live.upper=file:/live/persistence.img", UPPER_FILE, "/live/persistence.img" },
		{ "live.upper=LABEL=persistence live.upper=tmpfs", UPPER_TMPFS, "" },
	};
	for (size_t i = 0; i < sizeof uppers / sizeof uppers[0]; i++) {
		is_int(parse(&c, uppers[i].line, &res), 0, uppers[i].line);
		is_int(c.upper, uppers[i].kind, "  its kind");
		is_str(c.upper_spec, uppers[i].spec, "  its spec");
	}
	is_str(c.data, "", "no live.data by default");
	is_int(parse(&c, "live.data=LABEL=persistence", &res), 0, "live.data=LABEL=persistence");
	is_str(c.data, "LABEL=persistence", "  stored as given");
	is_int(parse(&c, "live.data=persistence", &res), 1, "live.data needs a device spec");
	is_int(c.upper_create, 0, "live.upper.create is off by default");
	is_int(parse(&c, "live.upper.create", &res), 0, "live.upper.create");
	ok(c.upper_create == 1 && res.n == 0, "  turns formatting on, with no warning");
	is_int(parse(&c, "live.upper.create=0", &res), 0, "live.upper.create=0");
	is_int(c.upper_create, 0, "  turns it off");
	is_int(parse(&c, "live.persist.create", &res), 0, "the old name live.persist.create is not fatal");
	is_int(c.upper_create, 1, "  and still turns formatting on");
	ok(res.n == 1 && !res.issue[0].fatal && strstr(res.issue[0].why, "live.upper.create"),
	   "  with a warning that names the new one (%s)", res.n ? res.issue[0].why : "-");
	is_int(parse(&c, "live.break=media", &res), 0, "the old stage name live.break=media");
	is_str(c.brk, "find-medium", "  stops before find-medium");
	ok(res.n == 1 && !res.issue[0].fatal && strstr(res.issue[0].why, "find-medium"), "  with a warning naming it");
	is_int(parse(&c, "live.break=medium", &res), 0, "the old stage name live.break=medium");
	is_str(c.brk, "mount-medium", "  stops before mount-medium");
	is_int(parse(&c, "live.break=find-medium", &res), 0, "live.break=find-medium");
	ok(res.n == 0, "  the new name: no warning");

	static const char *const bad[] = {
		"live.upper=file:live/p.img", "live.upper=file:/live/../p.img", "live.upper=LABEL=",
		"live.upper=file:", "live.upper=persistence",
		"live.upper=bogus", "live.media=sda1", "live.media=LABEL=", "live.wait=soon",
		"live.wait=99999", "live.root=live/root.sqfs", "live.root=/live/../etc/passwd",
		"live.init=sbin/init", "live.size=lots", "live.size=200%", "live.size=0",
		"live.break=nosuchstage", "live.media", "live.media=PARTUUID=1234-01",
		"live.upper=PARTUUID=xyz", "live.data=PARTUUID=", "live.persist=PARTUUID=12:/p.dat",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int n = parse(&c, bad[i], &res);
		ok(n == 1 && res.n == 1 && res.issue[0].fatal && !strcmp(res.issue[0].word, bad[i]),
		   "%s is refused and named (%s)", bad[i], res.n ? res.issue[0].why : "-");
	}
	parse(&c, "live.upper=bogus", &res);
	is_int(c.upper, UPPER_TMPFS, "a refused value leaves the default");

	is_int(parse(&c, "live.colour=blue live.wait=3", &res), 0, "an unknown live.* key is not fatal");
	ok(res.n == 1 && !res.issue[0].fatal && !strcmp(res.issue[0].word, "live.colour=blue"),
	   "but it is reported as a warning, by name");
	is_int(c.wait, 3, "and the rest still applies");

	is_int(parse(&c, "live.break", &res), 0, "live.break alone");
	is_str(c.brk, "switch", "means: before switch_root");
	is_int(parse(&c, "live.break=mount-medium", &res), 0, "live.break=mount-medium");
	is_str(c.brk, "mount-medium", "names a stage");
	is_int(parse(&c, "quiet", &res), 0, "no live.persist");
	ok(c.persist_path[0] == 0 && c.persist_at == -1, "means no save file and the newest generation");
	is_int(parse(&c, "live.persist=/persist.dat live.persist.at=7", &res), 0, "a save file on the medium");
	ok(c.persist_dev[0] == 0 && !strcmp(c.persist_path, "/persist.dat") && c.persist_at == 7,
	   "path on the medium, generation 7");
	is_int(parse(&c, "live.persist=\"LABEL=MY DATA:/saves/live.dat\"", &res), 0, "a save file on another device");
	is_str(c.persist_dev, "LABEL=MY DATA", "its device");
	is_str(c.persist_path, "/saves/live.dat", "its path");
	is_int(parse(&c, "live.persist=PARTUUID=5eed0123-02:/p.dat", &res), 0, "a save file on a device by PARTUUID");
	is_str(c.persist_dev, "PARTUUID=5eed0123-02", "its device");
	is_int(parse(&c, "live.persist=/p.dat live.persist.size=256M", &res), 0, "live.persist.size=256M");
	is_str(c.persist_size, "256M", "the size the shutdown's persist init is given");
	static const char *const bad_persist[] = {
		"live.persist=persist.dat", "live.persist=LABEL=X", "live.persist=sda1:/p",
		"live.persist=LABEL=X:/../p", "live.persist.at=-1", "live.persist.at=new",
		"live.persist.size=", "live.persist.size=big", "live.persist.size=12MB", "live.persist.size=0",
		"live.persist.size=-5M",
	};
	for (size_t i = 0; i < sizeof bad_persist / sizeof bad_persist[0]; i++) {
		int n = parse(&c, bad_persist[i], &res);
		ok(n == 1 && res.n == 1 && res.issue[0].fatal, "%s is refused (%s)", bad_persist[i],
		   res.n ? res.issue[0].why : "-");
	}
	/* the sizes the docs promise, as persist init --size takes them (lib/number.c, for both) */
	for (size_t i = 0; i < N_SIZE_CASES; i++) {
		const struct size_case *sc = &size_cases[i];
		int good = !sc->err && sc->bytes, fits = strlen(sc->text) < sizeof c.persist_size;
		char line[128], bytes[32];
		snprintf(line, sizeof line, "live.persist.size=\"%s\"", sc->text);
		parse(&c, line, &res);
		ok(good && fits ? res.n == 0 && !strcmp(c.persist_size, sc->text) : res.n == 1 && res.issue[0].fatal,
		   "%s is %s", line, good ? "taken as given" : "refused");
		snprintf(line, sizeof line, "live.size=\"%s\"", sc->text);
		snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)sc->bytes);
		parse(&c, line, &res);
		ok(good ? res.n == 0 && !strcmp(c.size, bytes) : res.n == 1 && res.issue[0].fatal,
		   "%s is %s", line, good ? "tmpfs size= in bytes" : "refused");
	}
	is_int(parse(&c, "live.size=100%", &res), 0, "live.size=100%");
	is_str(c.size, "100%", "  passed on as given");
	static const char *const bad_pct[] = { "live.size=0%", "live.size=101%", "live.size=%", "live.size=-5%",
					       "live.size=5M%", "live.size=1000%" };
	for (size_t i = 0; i < sizeof bad_pct / sizeof bad_pct[0]; i++) {
		int n = parse(&c, bad_pct[i], &res);
		ok(n == 1 && res.n == 1 && res.issue[0].fatal, "%s is refused", bad_pct[i]);
	}
	is_int(parse(&c, "live.wait=0 live.persist.at=0", &res), 0, "live.wait=0, live.persist.at=0");
	ok(c.wait == 0 && c.persist_at == 0, "  both 0");
	static const char *const bad_num[] = { "live.wait=+5", "live.wait= 5", "live.wait=5s", "live.wait=3601",
					       "live.persist.at=2147483648", "live.persist.at=0x10",
					       "live.persist.at=99999999999999999999" };
	for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++) {
		int n = parse(&c, bad_num[i], &res);
		ok(n == 1 && res.n == 1 && res.issue[0].fatal, "%s is refused", bad_num[i]);
	}
	is_int(parse(&c, "live.debug=0", &res), 0, "live.debug=0");
	is_int(c.debug, 0, "turns debugging off");
	return tap_done(0);
}
