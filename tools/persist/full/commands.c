/* commands.c: the commands only out/bin/persist (the root image's /usr/sbin/persist) has: they
 * are not needed to boot, and the initramfs, whose size is bounded, goes without them (its persist
 * says where they are: entry.c). cli.c finds them after its own (cli.h: more_commands). */
#include "cli.h"
#include "full.h"

#define T(opt) TAKES(OPT_##opt)
const struct command more_commands[] = {
	{ "export", cmd_export, NULL,
	  T(FILE) | T(AT) | T(LOWER) | T(ANY_LOWER) | T(QUIET) | T(OCI_LAYER) | T(GZIP) | T(ZSTD) | T(SQUASHFS) |
	  T(MERGE), 0,
	  "Write generation GEN (default: the newest) as an OCI image layer: a tar of the changes, with\n"
	  "whiteouts as .wh.NAME and opaque directories as .wh..wh..opq; or as a squashfs layer (or root\n"
	  "image) in overlay form. Never writes to the save file." },
	{ "rebase", cmd_rebase, NULL, T(FILE) | T(OLD) | T(NEW) | T(DRY_RUN) | T(JSON) | T(QUIET),
	  T(OLD) | T(NEW),
	  "Carry the newest generation from the image it was saved over (--old) onto another (--new),\n"
	  "path by path, as a new generation recorded over the new image: a copy of an old file whose\n"
	  "content you did not change is dropped (the new image's shows; where you changed only its\n"
	  "metadata, the new image's content gets your metadata), a whiteout or opaque directory over\n"
	  "nothing of the new image is dropped, and a path you and the update both changed is a\n"
	  "conflict: yours is kept and listed (persist conflicts). The older generations stay. Both\n"
	  "images are mounted read-only through loop devices (root)." },
	{ "conflicts", cmd_conflicts, NULL, T(FILE) | T(AT) | T(JSON), 0,
	  "The paths a rebase found changed both by you and by the update (of generation GEN, or of\n"
	  "the newest rebase): yours is kept; the new image's is under " LIVE_LOWER " once booted." },
};
#undef T
const size_t nmore_commands = sizeof more_commands / sizeof more_commands[0];
