/* metatable.c: the metadata table: what happens to each xattr of the upper (persist-format.md). */
#include <string.h>
#include "persist.h"

static const struct {
	const char *name;
	int prefix;
	enum xact act;
} xattr_table[] = {
	{ "trusted.overlay.opaque", 0, XA_OPAQUE },	/* kept only as exactly "y" */
	{ "trusted.overlay.whiteout", 0, XA_WHITEOUT },	/* xattr-style whiteout -> char 0/0 */
	{ "trusted.overlay.redirect", 0, XA_KEEP },
	{ "trusted.overlay.protattr", 0, XA_KEEP },
	{ "trusted.overlay.origin", 0, XA_DROP },
	{ "trusted.overlay.impure", 0, XA_DROP },
	{ "trusted.overlay.nlink", 0, XA_DROP },
	{ "trusted.overlay.upper", 0, XA_DROP },
	{ "trusted.overlay.uuid", 0, XA_DROP },
	{ "trusted.overlay.metacopy", 0, XA_REFUSE },
	{ "trusted.overlay.", 1, XA_REFUSE },		/* unknown: never a silent drop */
	{ "", 1, XA_KEEP },				/* security.*, system.*, user.*, trusted.* */
};

enum xact xattr_action(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof xattr_table / sizeof xattr_table[0]; i++) {
		size_t n = strlen(xattr_table[i].name);
		if (xattr_table[i].prefix ? strncmp(name, xattr_table[i].name, n) == 0
					  : strcmp(name, xattr_table[i].name) == 0)
			return xattr_table[i].act;
	}
	return XA_REFUSE;
}

/* Restore accepts from a (untrusted) save file only what save itself would have written. */
int xattr_restorable(const char *name, const unsigned char *v, uint32_t vlen)
{
	switch (xattr_action(name)) {
	case XA_KEEP:
		return 1;
	case XA_OPAQUE:
		return vlen == 1 && v[0] == 'y';
	default:
		return 0;
	}
}
