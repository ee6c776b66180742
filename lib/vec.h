/* vec.h: room for one more element in a growable array (the one growth rule of the project). */
#ifndef OVERLIVE_VEC_H
#define OVERLIVE_VEC_H
#include <stddef.h>

/*
 * Makes sure *v (n elements of elem bytes in use, *cap allocated) has room for one more: it
 * doubles, starting at first elements. 0, or -ENOMEM (-EOVERFLOW past SIZE_MAX) with *v untouched.
 */
int vec_reserve(void **v, size_t *cap, size_t n, size_t elem, size_t first);

#endif
