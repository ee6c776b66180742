/*
 * slotio.h: the slot record (lib/slotrec.h) on the medium: read through its file, written in
 * place through its file or, on a medium mounted read-only, through the device at the sectors
 * the file system gave it. Shared by the init (slot.c) and overlive-update (tools/update/).
 */
#ifndef OVERLIVE_SLOTIO_H
#define OVERLIVE_SLOTIO_H
#include "slotrec.h"

/* What the init leaves for the live system (/run/live/slot): one line of key=value words. */
#define SLOT_RUN_FILE   "/run/live/slot"
#define SLOT_RUN_LOG    "/run/live/update.log"
#define MARK_GOOD_UNIT  "overlive-mark-good"   /* the systemd service the init writes */

/*
 * Reads the record dirfd/name: 0 with *r and *newest; -ENOENT no file or no record yet; -EBADMSG
 * damaged (*why); -errno. Its pages are dropped from the cache after the read, so that a later
 * reader sees what a write through the device put on the medium.
 */
int slotio_load(int dirfd, const char *name, struct slotrec *r, int *newest, const char **why);
/*
 * Writes r as copy `copy` in place and makes it durable (fdatasync): through the file, or with
 * dev set (the block device of the file system the file is on) through that device at the
 * copy's sector (FIBMAP), which leaves a read-only mount and every file system structure as they
 * were. 0 or -errno (-EXDEV: the file system does not say where the sector is).
 */
int slotio_store(int dirfd, const char *name, const char *dev, const struct slotrec *r, int copy);
/* Makes dirfd/name the zero record file (SLOTREC_FILE_SIZE bytes), durable with its directory;
 * a file already that long is left as it is. 0 or -errno. */
int slotio_create(int dirfd, const char *name);

#endif
