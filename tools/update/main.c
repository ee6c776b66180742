/* main.c: overlive-update, the A/B root image updater (update.c; docs/updates.md). */
#include "update.h"

const char *prog_name = "overlive-update";

int main(int argc, char **argv)
{
	return update_main(argc, argv);
}
