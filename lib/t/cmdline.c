/* lib/t/cmdline.c: the command-line tokenizer against the kernel's quoting rules. */
#include <errno.h>
#include "cmdline.h"
#include "tap.h"

int main(void)
{
	const char *p = "  console=ttyS0 live.media=\"LABEL=MY STICK\" quiet\tx=\"\"  ";
	char w[64], small[8], *k, *v;

	is_int(cmdline_next(&p, w, sizeof w), 1, "first word");
	is_str(w, "console=ttyS0", "plain word");
	is_int(cmdline_next(&p, w, sizeof w), 1, "quoted word");
	is_str(w, "live.media=LABEL=MY STICK", "quotes removed, space kept");
	cmdline_split(w, &k, &v);
	is_str(k, "live.media", "key before the first =");
	is_str(v, "LABEL=MY STICK", "value keeps later =");
	is_int(cmdline_next(&p, w, sizeof w), 1, "flag word");
	cmdline_split(w, &k, &v);
	ok(v == NULL, "flag has no value");
	is_int(cmdline_next(&p, w, sizeof w), 1, "empty quoted value");
	is_str(w, "x=", "empty value");
	is_int(cmdline_next(&p, w, sizeof w), 0, "end");
	p = "toolongword next";
	is_int(cmdline_next(&p, small, sizeof small), -E2BIG, "long word reported");
	is_int(cmdline_next(&p, small, sizeof small), 1, "tokenizer recovers after a long word");
	is_str(small, "next", "next word intact");
	return tap_done(0);
}
