/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Growable arrays: the one growth rule of the control programs. An array is a pointer, a count
 * kept by the caller and a capacity; grow_array makes room, the caller stores. Capacities start
 * at 16 and double. No locking: one thread at a time per array.
 */
#ifndef NPR_CTL_GROW_H
#define NPR_CTL_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Make room for need elements of size bytes in the array *arrp points to (a pointer to any
 * object type), of capacity *cap. 0, or -ENOMEM with the array and *cap unchanged. */
static inline int
grow_array(void *arrp, size_t *cap, size_t need, size_t size)
{
	void **arr = arrp;
	if (need <= *cap)
		return 0;
	size_t ncap = *cap == 0 ? 16 : *cap;
	while (ncap < need)
		ncap *= 2;
	if (size != 0 && ncap > SIZE_MAX / size)
		return -ENOMEM;
	void *a = realloc(*arr, ncap * size);
	if (a == NULL)
		return -ENOMEM;
	*arr = a;
	*cap = ncap;
	return 0;
}

#endif
