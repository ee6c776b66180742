/*
 * kmod/t/coldplug.c: base loading and modalias coldplug against a fake module directory and a
 * fake sysfs tree, with finit_module replaced by a recorder.
 */
#include "kmod.h"
#include "modrec.h"
#include "tap.h"
#include "tmptree.h"

/*
 * The index modpick writes for: fs (base; depends libfs, softdep pre: crypto-sum, which
 * sum_fast and sum provide), sum (base), sum_fast (base, optional), and on demand hc (USB
 * host, depends core), usb_stor (depends core, scsi), disk (depends scsi), net. Aliases of
 * core ("usbcore-thing") and sum ("crypto-sum") are not device aliases: not in the index.
 */
static const char fixture[] =
	MODIDX_MAGIC "\n"
	"k 6.1.0-test\n"
	MODIDX_LEGEND "\n"
	"m core d\n"
	"m hc d core\n"
	"m scsi d\n"
	"m usb_stor d core scsi\n"
	"m disk d scsi\n"
	"m net d\n"
	"m ide dl scsi\n"
	"m libfs b\n"
	"m sum_fast bo\n"
	"m sum b\n"
	"m fs b libfs sum_fast sum\n"
	"a hc pci:v*d*sv*sd*bc0Csc03i30*\n"
	"a usb_stor usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*\n"
	"a usb_stor usb:v*p*d*dc*dsc*dp*ic08isc06ip62in*\n"
	"a disk scsi:t-0x00*\n"
	"a net pci:v00008086d0000100Esv*sd*bc*sc*i*\n"
	"a ide pci:v00008086d00007010sv*sd*bc*sc*i*\n";
static const char *const fixture_mods[] = {
	"core", "hc", "scsi", "usb_stor", "disk", "net", "ide", "libfs", "sum_fast", "sum", "fs",
};

/* mods/: the index and a NAME.ko per module holding its name (what modrec_finit reads). */
static int build_fixture(int top)
{
	char path[64];
	size_t i;
	int err;

	if (mkdirs(top, "mods") || mkdirs(top, "sys/devices"))
		return -EIO;
	err = write_str(top, "mods/" MODIDX_FILE, fixture);
	for (i = 0; i < sizeof fixture_mods / sizeof *fixture_mods && !err; i++) {
		snprintf(path, sizeof path, "mods/%s.ko", fixture_mods[i]);
		err = write_str(top, path, fixture_mods[i]);
	}
	return err;
}

static struct modloader *open_loader(int top, struct modrec *r, struct modload_ops *ops)
{
	struct modload_config cfg = { 0 };
	struct modloader *ml = NULL;
	int err;

	memset(r, 0, sizeof *r);
	ops->finit_module = modrec_finit;
	ops->arg = r;
	cfg.dirfd = openat(top, "mods", O_RDONLY | O_DIRECTORY);
	cfg.index = MODIDX_FILE;
	cfg.ops = ops;
	cfg.log = modrec_log;
	cfg.log_arg = r;
	err = modload_new(&cfg, &ml);
	if (err)
		tap_diag("modload_new: %s", strerror(-err));
	/* the loader keeps using the fd: it is closed with the test's process */
	return ml;
}

static void coldplug(int top)
{
	struct modload_ops ops;
	struct modrec r;
	struct modloader *ml = open_loader(top, &r, &ops);
	char buf[512], deep[512];
	int sys, n, i, len;

	ok(ml != NULL, "loader from the fabricated index");
	if (!ml)
		return;
	is_str(modload_kernel_release(ml), "6.1.0-test", "kernel release from the index");
	sys = openat(top, "sys/devices", O_RDONLY | O_DIRECTORY);

	/* only hardware that matches nothing, a symlink loop and a modalias symlink */
	mkdirs(sys, "pci0000:00/0000:00:02.0");
	write_str(sys, "pci0000:00/0000:00:02.0/modalias",
		  "pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00\n");
	symlinkat("../..", sys, "pci0000:00/0000:00:02.0/subsystem");
	write_str(top, "net-alias", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00\n");
	mkdirs(sys, "pci0000:00/0000:00:03.0");
	symlinkat("../../../../net-alias", sys, "pci0000:00/0000:00:03.0/modalias");
	/* a matching device deeper than the walk goes */
	len = snprintf(deep, sizeof deep, "deep");
	for (i = 0; i < MODLOAD_MAX_DEPTH + 2; i++)
		len += snprintf(deep + len, sizeof deep - len, "/d");
	mkdirs(sys, deep);
	snprintf(deep + len, sizeof deep - len, "/modalias");
	write_str(sys, deep, "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00\n");

	/* a matching modalias among the devices without hardware (sysfs's virtual/) */
	mkdirs(sys, MODLOAD_SKIP_TOP "/net/tun0");
	write_str(sys, MODLOAD_SKIP_TOP "/net/tun0/modalias",
		  "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00\n");

	n = modload_coldplug(ml, sys);
	is_int(n, 0, "no module for absent hardware (symlinks not followed, depth bounded, virtual/ skipped)");
	is_str(modrec_calls(&r, 0, buf, sizeof buf), "", "finit_module not called");

	/* the USB host controller appears */
	mkdirs(sys, "pci0000:00/0000:00:04.0");
	write_str(sys, "pci0000:00/0000:00:04.0/modalias",
		  "pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30\n");
	n = modload_coldplug(ml, sys);
	is_int(n, 2, "host controller: its driver and its dependency");
	is_str(modrec_calls(&r, 0, buf, sizeof buf), "core hc", "dependency first");
	ok(modrec_logged(&r, "loaded module hc (") && modrec_logged(&r, " ms)"),
	   "each load logged with its time");
	is_int(modload_coldplug(ml, sys), 0, "second call: nothing new");
	is_int(r.n, 2, "second call: no finit_module");

	/* behind it, a USB stick (bulk-only mass storage), then its SCSI disk */
	mkdirs(sys, "pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0");
	write_str(sys, "pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0/modalias",
		  "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00\n");
	n = modload_coldplug(ml, sys);
	is_int(n, 2, "USB stick: storage driver and its SCSI dependency");
	is_str(modrec_calls(&r, 2, buf, sizeof buf), "scsi usb_stor", "core not loaded twice");
	mkdirs(sys, "pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0/host0/target0:0:0/0:0:0:0");
	write_str(sys, "pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0/host0/target0:0:0/0:0:0:0/modalias",
		  "scsi:t-0x00\n");
	is_int(modload_coldplug(ml, sys), 1, "SCSI disk: its driver only");
	is_str(modrec_calls(&r, 4, buf, sizeof buf), "disk", "disk driver");
	is_int(modload_coldplug(ml, sys), 0, "then nothing new");
	ok(!modrec_logged(&r, " net"), "the absent network card's driver never loaded");

	/* a late driver (the PIIX IDE of every QEMU pc): held back until the caller allows it */
	is_int(modload_allow_late(ml), 0, "nothing held back yet: allowing late drivers asks for no round");
	modload_free(ml);
	ml = open_loader(top, &r, &ops);
	mkdirs(sys, "pci0000:00/0000:00:01.1");
	write_str(sys, "pci0000:00/0000:00:01.1/modalias",
		  "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80\n");
	modload_coldplug(ml, sys);
	ok(!modrec_logged(&r, "loaded module ide"), "the late IDE driver is held back by coldplug");
	is_int(modload_allow_late(ml), 1, "allowing it says one was held back");
	is_int(modload_coldplug(ml, sys), 1, "the next round loads it (its dependency scsi came with the USB stick)");
	ok(modrec_logged(&r, "loaded module ide"), "  ide is loaded");
	is_int(modload_allow_late(ml), 0, "allowed once: a second call asks for nothing");
	modload_free(ml);
	close(sys);
}

static void lookup(int top)
{
	struct modload_ops ops;
	struct modrec r;
	struct modloader *ml = open_loader(top, &r, &ops);
	const char *names[4];

	if (!ml) {
		tap_skip(4, "no loader");
		return;
	}
	is_int(modload_lookup(ml, "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip62in00", names, 4), 1,
	       "UAS-like interface: one module though two patterns exist");
	is_str(names[0], "usb_stor", "named once");
	is_int(modload_lookup(ml, "usbcore-thing", names, 4), 0, "dependency-only aliases not indexed");
	is_int(modload_lookup(ml, "crypto-sum", names, 4), 0, "base module aliases not indexed");
	modload_free(ml);
}

static void base(int top)
{
	struct modload_ops ops;
	struct modrec r;
	struct modloader *ml = open_loader(top, &r, &ops);
	struct modload_stats st;
	char buf[512];

	if (!ml) {
		tap_skip(10, "no loader");
		return;
	}
	r.fail = "sum_fast";
	r.err = -ENODEV;
	r.exists = "libfs";
	is_int(modload_base(ml), 0, "base: an optional failure is not an error");
	is_str(modrec_calls(&r, 0, buf, sizeof buf), "libfs sum_fast sum fs",
	       "base modules in index order, softdep pre: before its user");
	ok(modrec_logged(&r, "4 optional module sum_fast not loaded, skipped: No such device"),
	   "optional failure logged as a warning");
	modload_get_stats(ml, &st);
	is_int(st.loaded, 3, "EEXIST counts as loaded");
	is_int(st.failed, 1, "one failure");
	is_int(modload_base(ml), 0, "again: nothing to do");
	is_int(r.n, 4, "no module tried twice");
	modload_free(ml);

	ml = open_loader(top, &r, &ops);
	r.fail = "libfs";
	r.err = -ENOEXEC;
	is_int(modload_base(ml), -ENOEXEC, "a required failure is returned");
	ok(modrec_logged(&r, "3 unable to load module libfs: Exec format error"), "and named");
	ok(modrec_logged(&r, "unable to load module fs: its dependency libfs failed"),
	   "its user is not tried, and says why");
	is_str(modrec_calls(&r, 0, buf, sizeof buf), "libfs sum_fast sum",
	       "fs never reached finit_module");
	is_int(modload_by_name(ml, "usb-stor"), 0, "load by name, '-' as '_'");
	is_int(modload_by_name(ml, "nosuch"), -ENOENT, "unknown name");
	modload_free(ml);
}

int main(void)
{
	char dir[4096];
	int top;

	if (make_tmpdir(dir, sizeof dir, "coldplug") != 0) {
		tap_skip(1, "no temporary directory");
		return tap_done(0);
	}
	top = open(dir, O_RDONLY | O_DIRECTORY);
	is_int(build_fixture(top), 0, "fixture: fake modules and their index");
	coldplug(top);
	lookup(top);
	base(top);
	close(top);
	rm_tree(dir);
	return tap_done(0);
}
