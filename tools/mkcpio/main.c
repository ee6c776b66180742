/* main.c: mkcpio, the newc cpio writer for the initramfs; the command itself is in cli.c. */
#include "mkcpio.h"

const char *prog_name = "mkcpio";

int main(int argc, char **argv)
{
	return mkcpio_cli(argc, argv);
}
