/*
 * tools/modpick/t/realtree.c: the build side on the real module tree ($MODULE_TREE): the closure,
 * the load order, alias matching on real modalias strings, and coldplug of a fake QEMU sysfs.
 */
#include "kmod.h"
#include "pick.h"
#include "modrec.h"
#include "tap.h"
#include "picktest.h"

struct match {
	const char *what, *modalias, *want;  /* want: a module that must match, "" for none */
	int exactly_one;
};

static const struct match matches[] = {
	{ "virtio block device", "virtio:d00000002v00001AF4", "virtio_blk", 1 },
	{ "virtio SCSI device", "virtio:d00000008v00001AF4", "virtio_scsi", 1 },
	{ "virtio PCI transport", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
	  "virtio_pci", 1 },
	{ "ICH9 AHCI by PCI class", "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01", "ahci", 0 },
	{ "QEMU NVMe", "pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02", "nvme", 0 },
	{ "qemu-xhci", "pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30", "xhci_pci", 0 },
	{ "PIIX3 IDE (QEMU's -cdrom)", "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80",
	  "ata_piix", 0 },
	{ "USB mass storage", "usb:v46F4p0001d0000dc00dsc00dp00ic08isc06ip50in00", "usb_storage", 0 },
	{ "SCSI disk", "scsi:t-0x00", "sd_mod", 1 },
	{ "SCSI CD-ROM", "scsi:t-0x05", "sr_mod", 1 },
	{ "e1000 network card", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", "", 0 },
	{ "QEMU VGA", "pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00", "", 0 },
	{ "Q35 host bridge", "pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00", "", 0 },
};

static int in_closure(const struct pick_tree *t, const char *name)
{
	int i = pick_tree_find(t, name);

	return i >= 0 && (t->mods[i].flags & PICK_IN);
}

static struct pick_want defaults[256];

static int default_wants(void)
{
	const struct pick_class *c;
	const struct pick_want *w;
	int n = 0;

	for (c = pick_classes; c->name; c++)
		for (w = c->mods; c->is_default && w->name; w++)
			defaults[n++] = *w;
	return n;
}

/* A Q35 guest with a virtio disk: which drivers does coldplug load, and in what order? */
static void coldplug_q35(int dir)
{
	static const char *const devs[][2] = {
		{ "pci0000:00/0000:00:00.0", "pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00" },
		{ "pci0000:00/0000:00:01.0", "pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00" },
		{ "pci0000:00/0000:00:02.0", "pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00" },
		{ "pci0000:00/0000:00:1f.0", "pci:v00008086d00002918sv00001AF4sd00001100bc06sc01i00" },
		{ "pci0000:00/0000:00:1f.3", "pci:v00008086d00002930sv00001AF4sd00001100bc0Csc05i00" },
		{ "pci0000:00/0000:00:03.0", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00" },
	};
	struct modrec r = { .n = 0 };
	struct modload_ops ops = { modrec_finit, &r };
	struct modload_config cfg = { .dirfd = dir, .index = "modules.idx", .ops = &ops };
	struct modloader *ml = NULL;
	char buf[1024], path[256];
	size_t i;
	int sys;

	mkdirs(dir, "sys");
	sys = openat(dir, "sys", O_RDONLY | O_DIRECTORY);
	for (i = 0; i < sizeof devs / sizeof *devs; i++) {
		mkdirs(sys, devs[i][0]);
		snprintf(path, sizeof path, "%s/modalias", devs[i][0]);
		write_str(sys, path, devs[i][1]);
	}
	is_int(modload_new(&cfg, &ml), 0, "loader on the real index");
	if (!ml) {
		tap_skip(4, "no loader");
		close(sys);
		return;
	}
	is_int(modload_coldplug(ml, sys), 5, "Q35 with a virtio disk: the transport and its helpers");
	is_str(modrec_calls(&r, 0, buf, sizeof buf),
	       "virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio virtio_pci",
	       "dependencies first; nothing for the e1000e, VGA, LPC, SMBus");
	mkdirs(sys, "pci0000:00/0000:00:03.0/virtio0");
	write_str(sys, "pci0000:00/0000:00:03.0/virtio0/modalias", "virtio:d00000002v00001AF4");
	is_int(modload_coldplug(ml, sys), 1, "then the virtio device: its driver alone");
	is_str(modrec_calls(&r, 5, buf, sizeof buf), "virtio_blk", "virtio_blk");
	is_int(modload_coldplug(ml, sys), 0, "then nothing new");
	modload_free(ml);
	close(sys);
}

int main(void)
{
	static const struct pick_want ext4[] = { { "ext4", 0 } };
	const char *why, *tree = module_tree(&why);
	struct pick_tree t = { 0 };
	struct modload_config cfg = { 0 };
	struct modloader *ml = NULL;
	char bad[256], dir[4096];
	int *order, *pos, norder, missing, i, e, fd, late = 0, nwant, top, err;
	size_t k;

	if (!tree) {
		tap_skip(1, why);
		return tap_done(0);
	}
	fd = open(tree, O_RDONLY | O_DIRECTORY);
	is_int(pick_tree_scan(fd, &t), 0, "module tree scanned");
	close(fd);
	tap_diag("%d modules, %d files skipped, %d duplicate names", t.n, t.skipped, t.duplicates);
	ok(t.n > 1000, "a real tree holds many modules");
	order = calloc(t.n, sizeof *order);
	pos = calloc(t.n, sizeof *pos);

	is_int(pick_closure(&t, ext4, 1, order, &norder, bad, sizeof bad, &missing), 0, "ext4 closure");
	ok(in_closure(&t, "jbd2") && in_closure(&t, "mbcache") && in_closure(&t, "crc16"),
	   "ext4 needs jbd2, mbcache, crc16");
	ok(in_closure(&t, "crc32c_generic"), "softdep pre: crypto-crc32c brings a crc32c driver");

	nwant = default_wants();
	err = pick_closure(&t, defaults, nwant, order, &norder, bad, sizeof bad, &missing);
	is_int(err, 0, "every default class module exists");
	if (err)
		tap_diag("missing: %s", bad);
	for (i = 0; i < norder; i++)
		pos[order[i]] = i;
	for (i = 0; i < norder; i++) {
		const struct pick_mod *m = &t.mods[order[i]];

		for (e = 0; e < m->nedges; e++)
			if (pos[m->edges[e]] >= i) {
				late++;
				tap_diag("%s before its dependency %s", m->name, t.mods[m->edges[e]].name);
			}
	}
	ok(norder > 30 && late == 0, "load order of %d modules: every dependency first", norder);
	i = pick_tree_find(&t, "crc32c_intel");
	ok(i >= 0 && (t.mods[i].flags & PICK_OPTIONAL) && !(t.mods[i].flags & PICK_BASE),
	   "crc32c-intel: on demand (with ext4), optional");
	i = pick_tree_find(&t, "ext4");
	ok(i >= 0 && !(t.mods[i].flags & (PICK_OPTIONAL | PICK_BASE)),
	   "ext4: on demand, loaded by name once the medium is known");
	i = pick_tree_find(&t, "virtio_pci");
	ok(i >= 0 && !(t.mods[i].flags & (PICK_OPTIONAL | PICK_BASE)), "virtio_pci: on demand");
	i = pick_tree_find(&t, "overlay");
	ok(i >= 0 && t.mods[i].flags & PICK_BASE, "overlay: base");

	if (make_tmpdir(dir, sizeof dir, "realtree") != 0) {
		tap_skip(1, "no temporary directory");
		goto done;
	}
	top = open(dir, O_RDONLY | O_DIRECTORY);
	fd = openat(top, "modules.idx", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	is_int(pick_write_index(fd, &t, order, norder, "6.1", NULL), 0, "index of the default classes");
	close(fd);
	for (i = 0; i < norder; i++) {
		snprintf(bad, sizeof bad, "%s.ko", t.mods[order[i]].name);
		write_str(top, bad, t.mods[order[i]].name);
	}
	cfg.dirfd = top;
	cfg.index = "modules.idx";
	is_int(modload_new(&cfg, &ml), 0, "index read back");
	for (k = 0; ml && k < sizeof matches / sizeof *matches; k++) {
		const struct match *m = &matches[k];
		const char *names[8];
		int n = modload_lookup(ml, m->modalias, names, 8), found = 0, j;

		for (j = 0; j < n && j < 8; j++)
			found |= strcmp(names[j], m->want) == 0;
		if (!*m->want)
			is_int(n, 0, m->what);
		else
			ok(found && (!m->exactly_one || n == 1), "%s matches %s (%d matches)", m->what,
			   m->want, n);
	}
	modload_free(ml);
	coldplug_q35(top);
	close(top);
	rm_tree(dir);
done:
	free(order);
	free(pos);
	pick_tree_free(&t);
	return tap_done(0);
}
