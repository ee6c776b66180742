/* cmdline.h: tokenizer for the kernel command line (words, double quotes, key=value). */
#ifndef OVERLIVE_CMDLINE_H
#define OVERLIVE_CMDLINE_H
#include <stddef.h>

/*
 * Copies the next word at *pos into word (cap bytes, NUL-terminated) and advances *pos.
 * Double quotes group spaces and are removed, as the kernel does. Returns 1 for a word,
 * 0 at the end, -E2BIG when a word does not fit (it is skipped).
 */
int cmdline_next(const char **pos, char *word, size_t cap);

/* Splits "key=value" in place: *value is NULL when there is no '='. */
void cmdline_split(char *word, char **key, char **value);

#endif
