/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Independent references the unit tests compare the code under test against: written the
 * plain way, bit by bit, and never shared with dataplane/ or include/npr/, so that a bug
 * there cannot hide in both. Header only.
 */
#ifndef NPR_TEST_REF_H
#define NPR_TEST_REF_H

#include <stdint.h>
#include <string.h>

/* Does prefix p/plen cover address a? */
static inline int
ref_covers(const uint8_t *p, unsigned plen, const uint8_t *a)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(p, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t m = (uint8_t)(0xff00u >> rest);
	return (p[full] & m) == (a[full] & m);
}

/* Clear the bits of p[0..nbytes) beyond plen. */
static inline void
ref_mask(uint8_t *p, unsigned plen, unsigned nbytes)
{
	for (unsigned b = plen; b < 8 * nbytes; b++)
		p[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
}

/* A MAC as the 48-bit value of its bytes in memory order (byte 0 lowest). */
static inline uint64_t
ref_mac64(const uint8_t *m)
{
	uint64_t v = 0;
	for (int i = 5; i >= 0; i--)
		v = (v << 8) | m[i];
	return v;
}

#endif
