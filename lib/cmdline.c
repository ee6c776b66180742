/* cmdline.c: splits the kernel command line into words as the kernel's next_arg() does. */
#include <errno.h>
#include <string.h>
#include "cmdline.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_next(const char **pos, char *word, size_t cap)
{
	const char *p = *pos;
	size_t n = 0;
	int quoted = 0, too_long = 0;

	while (is_space(*p))
		p++;
	if (!*p) {
		*pos = p;
		return 0;
	}
	for (; *p && (quoted || !is_space(*p)); p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < cap)
			word[n++] = *p;
		else
			too_long = 1;
	}
	if (cap)
		word[n] = '\0';
	*pos = p;
	return too_long ? -E2BIG : 1;
}

void cmdline_split(char *word, char **key, char **value)
{
	char *eq = strchr(word, '=');

	*key = word;
	*value = NULL;
	if (eq) {
		*eq = '\0';
		*value = eq + 1;
	}
}
