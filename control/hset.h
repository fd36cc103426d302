/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hash set of indices into the caller's own array (open addressing, linear probing, no
 * deletion): the caller keeps the objects, the set keeps (index, 32 hash bits) and asks the
 * caller whether an object equals the key. Used to deduplicate and diff the configuration.
 * One thread at a time.
 */
#ifndef NPR_CTL_HSET_H
#define NPR_CTL_HSET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npr/util.h"

struct hset_slot {
	uint32_t idx1; /* index + 1; 0: empty */
	uint32_t h;
};

struct hset {
	struct hset_slot *slot;
	uint32_t mask;
	uint32_t n;
};

/* The key equals object idx. */
typedef bool (*hset_eq_fn)(const void *ctx, uint32_t idx, const void *key);

static inline int
hset_init(struct hset *s, size_t expected)
{
	size_t cap = 16;
	while (cap < expected + expected / 2 + 1)
		cap <<= 1;
	if (cap > (1ull << 31))
		return -ENOMEM;
	s->slot = calloc(cap, sizeof(*s->slot));
	if (s->slot == NULL)
		return -ENOMEM;
	s->mask = (uint32_t)cap - 1;
	s->n = 0;
	return 0;
}

static inline void
hset_free(struct hset *s)
{
	free(s->slot);
	s->slot = NULL;
	s->mask = 0;
	s->n = 0;
}

/* The index of the object equal to key, or -1. */
static inline int64_t
hset_find(const struct hset *s, uint64_t hash, hset_eq_fn eq, const void *ctx, const void *key)
{
	uint32_t h = (uint32_t)(hash >> 32), i = h & s->mask;

	for (;; i = (i + 1) & s->mask) {
		const struct hset_slot *e = &s->slot[i];
		if (e->idx1 == 0)
			return -1;
		if (e->h == h && eq(ctx, e->idx1 - 1, key))
			return e->idx1 - 1;
	}
}

static inline int
hset_grow(struct hset *s)
{
	struct hset old = *s;
	size_t cap = ((size_t)s->mask + 1) * 2;

	if (cap > (1ull << 31))
		return -ENOMEM;
	s->slot = calloc(cap, sizeof(*s->slot));
	if (s->slot == NULL) {
		*s = old;
		return -ENOMEM;
	}
	s->mask = (uint32_t)cap - 1;
	for (uint32_t i = 0; i <= old.mask; i++) {
		if (old.slot[i].idx1 == 0)
			continue;
		uint32_t j = old.slot[i].h & s->mask;
		while (s->slot[j].idx1 != 0)
			j = (j + 1) & s->mask;
		s->slot[j] = old.slot[i];
	}
	free(old.slot);
	return 0;
}

/* Add idx (whose object hashes to hash) without checking for an equal one. 0 or -ENOMEM. */
static inline int
hset_add(struct hset *s, uint64_t hash, uint32_t idx)
{
	if ((s->n + 1) * 4ull > ((uint64_t)s->mask + 1) * 3 && hset_grow(s) < 0)
		return -ENOMEM;
	uint32_t h = (uint32_t)(hash >> 32), i = h & s->mask;
	while (s->slot[i].idx1 != 0)
		i = (i + 1) & s->mask;
	s->slot[i].idx1 = idx + 1;
	s->slot[i].h = h;
	s->n++;
	return 0;
}

#endif
