/* devspec.h: the one language for naming a block device on the kernel command line. */
#ifndef OVERLIVE_DEVSPEC_H
#define OVERLIVE_DEVSPEC_H

/*
 * The forms, as the kernel's root= and blkid name them:
 *   LABEL=L       the filesystem's label (as blkid prints LABEL)
 *   UUID=U        the filesystem's UUID (blkid's UUID), compared without regard to case
 *   PARTLABEL=N   the GPT partition's name
 *   PARTUUID=P    the partition's UUID: a GPT partition's unique GUID, or an MBR disk's signature
 *                 and the partition number, SSSSSSSS-NN in hex (as blkid and the kernel print it)
 *   /dev/NAME     the device node's name, as the kernel names it (DEVNAME)
 */
enum devspec_kind { DEVSPEC_LABEL, DEVSPEC_UUID, DEVSPEC_PARTLABEL, DEVSPEC_PARTUUID, DEVSPEC_PATH };

/* The forms in one phrase, for messages ("expects " DEVSPEC_FORMS). */
#define DEVSPEC_FORMS "LABEL=, UUID=, PARTLABEL=, PARTUUID= or /dev/NAME"

struct devspec {
	enum devspec_kind kind;
	const char *value;      /* in the parsed string: after the prefix; for /dev/NAME, NAME */
};

/*
 * Parses s into *d (which then points into s). Returns NULL, or why s names no device: an unknown
 * form, an empty value, a PARTUUID in neither form.
 */
const char *devspec_parse(const char *s, struct devspec *d);

/* The prefix of a kind ("LABEL=", ..., "/dev/"). */
const char *devspec_prefix(enum devspec_kind kind);

/* Whether a device's value (its label, UUID, partition name, PARTUUID or DEVNAME) is the one named. */
int devspec_matches(const struct devspec *d, const char *value);

#endif
