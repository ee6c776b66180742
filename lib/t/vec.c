/* vec.c: unit tests of the growable-array rule. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "tap.h"
#include "vec.h"

int main(void)
{
	int *v = NULL;
	size_t cap = 0, n, grows = 0, last = 0;
	int bad = 0;

	for (n = 0; n < 1000; n++) {
		if (vec_reserve((void **)&v, &cap, n, sizeof *v, 4)) {
			bad = 1;
			break;
		}
		if (cap != last)
			grows++, last = cap;
		v[n] = (int)n;
	}
	ok(!bad && cap >= 1000 && grows == 9, "1000 elements in 9 doublings from 4 (cap %zu, %zu growths)", cap, grows);
	for (n = 0; n < 1000 && !bad; n++)
		bad = v[n] != (int)n;
	ok(!bad, "the elements survive every growth");
	is_int(vec_reserve((void **)&v, &cap, 10, sizeof *v, 4), 0, "room already there: nothing to do");
	size_t huge = SIZE_MAX / 2 + 1;
	void *p = v;
	is_int(vec_reserve(&p, &huge, huge, 8, 4), -EOVERFLOW, "a size past SIZE_MAX is refused, not wrapped");
	ok(p == v, "and the array is untouched");
	free(v);
	return tap_done(0);
}
