/* main.c: persist as a program of its own (out/bin/persist, the root image's /usr/sbin/persist):
 * every command of the initramfs's persist, and rebase and conflicts (docs/persist.md). */
#include "cli.h"

const char *prog_name = "persist";

int main(int argc, char **argv)
{
	return persist_main(argc, argv);
}
