/* update.h: overlive-update's commands (update.c), run by main.c. */
#ifndef OVERLIVE_UPDATE_H
#define OVERLIVE_UPDATE_H
int update_main(int argc, char **argv);
#endif
