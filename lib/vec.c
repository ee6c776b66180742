/* vec.c: growable arrays (vec.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "vec.h"

int vec_reserve(void **v, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	if (nc < n + 1 || nc > SIZE_MAX / elem)
		return -EOVERFLOW;
	p = realloc(*v, nc * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}
