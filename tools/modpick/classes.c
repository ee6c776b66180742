/* classes.c: the named groups of modules modpick picks by default (docs/modpick.md lists them). */
#include <string.h>
#include "pick.h"

#define B PICK_BASE
#define OPT PICK_OPTIONAL
#define E PICK_EARLY

/*
 * The overlay's own filesystems load at every boot. The medium's filesystem loads by name once
 * its superblock is known (the init probes superblocks itself), so a vfat stick costs no ext4.
 * E: early in the pack (modidx.h), which is decoded only as far as a boot needs: what most boots
 * load comes first, the FAT of every stick and image before ext4's 2.5 MB.
 */
static const struct pick_want fs[] = {
	{ "overlay", B }, { "squashfs", B }, { "loop", B },
	/* Debian's FAT default iocharset is ascii: without nls_ascii vfat mounts fail */
	{ "vfat", E }, { "nls_cp437", E }, { "nls_ascii", E },
	{ "isofs", E },
	/* ext4 needs a crc32c driver: crc32c-intel fails without SSE4.2 (QEMU TCG) */
	{ "ext4", E }, { "crc32c_generic", E }, { "crc32c_intel", E | OPT },
	/* the stick that came formatted (SDXC's filesystem): loaded by name, as vfat, but after ext4
	 * in the pack, since what our own images and tests boot is FAT or ext4 */
	{ "exfat", 0 },
	{ NULL, 0 },
};

/* Loaded on demand by modalias. virtio_pci is the transport no dependency field names.
 * Early: QEMU's disk, found before the medium's filesystem is known. */
static const struct pick_want virtio[] = {
	{ "virtio_pci", E }, { "virtio_blk", E }, { "virtio_scsi", 0 }, { NULL, 0 },
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

/* In pack order (what is not early comes in this order): the SCSI disk that AHCI, USB and
 * virtio-scsi all need before their own drivers. */
const struct pick_class pick_classes[] = {
	{ "virtio", "virtio PCI transport, block and SCSI", virtio, 1 },
	{ "fs", "overlay, squashfs, loop at boot; vfat, isofs, ext4, exfat by name", fs, 1 },
	{ "scsi", "SCSI disk and CD-ROM", scsi, 1 },
	{ "sata", "AHCI and Intel PIIX (QEMU's default CD-ROM)", sata, 1 },
	{ "nvme", "NVMe", nvme, 1 },
	{ "usb", "USB host controllers, usb-storage and UAS", usb, 1 },
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
