/* classes.c: the named groups of modules modpick picks by default (docs/modpick.md lists them). */
#include <string.h>
#include "pick.h"

#define B PICK_BASE
#define OPT PICK_OPTIONAL

/*
 * The overlay's own filesystems load at every boot. The medium's filesystem loads by name once
 * its superblock is known (the init probes superblocks itself), so a vfat stick costs no ext4.
 */
static const struct pick_want fs[] = {
	{ "overlay", B }, { "squashfs", B }, { "loop", B },
	/* ext4 needs a crc32c driver: crc32c-intel fails without SSE4.2 (QEMU TCG) */
	{ "ext4", 0 }, { "crc32c_generic", 0 }, { "crc32c_intel", OPT },
	/* Debian's FAT default iocharset is ascii: without nls_ascii vfat mounts fail */
	{ "vfat", 0 }, { "nls_cp437", 0 }, { "nls_ascii", 0 },
	{ "isofs", 0 },
	{ NULL, 0 },
};

/* Loaded on demand by modalias. virtio_pci is the transport no dependency field names. */
static const struct pick_want virtio[] = {
	{ "virtio_pci", 0 }, { "virtio_blk", 0 }, { "virtio_scsi", 0 }, { NULL, 0 },
};
/* PIIX IDE: every QEMU pc machine has one, and it rarely holds the medium: held back until a
 * search finds nothing without it (its 0.4 s of libata and scsi_mod then paid only by who needs it). */
static const struct pick_want sata[] = { { "ahci", 0 }, { "ata_piix", PICK_LATE }, { NULL, 0 } };
static const struct pick_want nvme[] = { { "nvme", 0 }, { NULL, 0 } };
static const struct pick_want usb[] = {
	{ "xhci_pci", 0 }, { "ehci_pci", 0 }, { "ohci_pci", 0 }, { "uhci_hcd", 0 },
	{ "usb_storage", 0 }, { "uas", 0 }, { NULL, 0 },
};
static const struct pick_want scsi[] = { { "sd_mod", 0 }, { "sr_mod", 0 }, { NULL, 0 } };
static const struct pick_want mmc[] = { { "sdhci_pci", 0 }, { "mmc_block", 0 }, { NULL, 0 } };

const struct pick_class pick_classes[] = {
	{ "fs", "overlay, squashfs, loop at boot; ext4, vfat, isofs by name", fs, 1 },
	{ "virtio", "virtio PCI transport, block and SCSI", virtio, 1 },
	{ "sata", "AHCI and Intel PIIX (QEMU's default CD-ROM)", sata, 1 },
	{ "nvme", "NVMe", nvme, 1 },
	{ "usb", "USB host controllers, usb-storage and UAS", usb, 1 },
	{ "scsi", "SCSI disk and CD-ROM", scsi, 1 },
	{ "mmc", "SD/MMC on PCI", mmc, 1 },
	{ NULL, NULL, NULL, 0 },
};

const struct pick_class *pick_class_find(const char *name)
{
	const struct pick_class *c;

	for (c = pick_classes; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
