/* SPDX-License-Identifier: BSD-3-Clause */
/* The open-addressing hash table of routes and neighbours (cfg_int.h: layer 1). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npr/util.h"
#include "cfg_int.h"

int
ht_init(struct htab *t, uint32_t esize, uint32_t klen, uint32_t cap)
{
	t->slot = calloc(cap, esize);
	if (t->slot == NULL)
		return -ENOMEM;
	t->cap = cap;
	t->n = 0;
	t->esize = esize;
	t->klen = klen;
	return 0;
}

void *
ht_find(const struct htab *t, const void *key)
{
	uint32_t mask = t->cap - 1, i = (uint32_t)npr_hash(key, t->klen, 0) & mask;

	for (;;) {
		uint8_t *e = ht_at(t, i);
		if (!ht_used(t, e))
			return NULL;
		if (memcmp(e, key, t->klen) == 0)
			return e;
		i = (i + 1) & mask;
	}
}

/* The key must be absent and room reserved: this cannot fail. The value part is zeroed. */
void *
ht_insert(struct htab *t, const void *key)
{
	uint32_t mask = t->cap - 1, i = (uint32_t)npr_hash(key, t->klen, 0) & mask;
	uint8_t *e;

	while (ht_used(t, e = ht_at(t, i)))
		i = (i + 1) & mask;
	memset(e, 0, t->esize);
	memcpy(e, key, t->klen);
	t->n++;
	return e;
}

void
ht_remove(struct htab *t, void *ep)
{
	uint32_t mask = t->cap - 1;
	uint32_t i = (uint32_t)(((uint8_t *)ep - t->slot) / t->esize), j = i;

	for (;;) {
		j = (j + 1) & mask;
		uint8_t *e = ht_at(t, j);
		if (!ht_used(t, e))
			break;
		uint32_t h = (uint32_t)npr_hash(e, t->klen, 0) & mask;
		/* The entry at j may fill the hole at i unless its home lies in (i, j]. */
		bool stay = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!stay) {
			memcpy(ht_at(t, i), e, t->esize);
			i = j;
		}
	}
	memset(ht_at(t, i), 0, t->esize);
	t->n--;
}

/* Make room for extra more entries. 0 or -ENOMEM (the table is unchanged then). */
int
ht_reserve(struct htab *t, uint32_t extra)
{
	uint64_t need = (uint64_t)t->n + extra, cap = t->cap;

	if (need * 4 <= cap * 3)
		return 0;
	while (need * 4 > cap * 3)
		cap *= 2;
	if (cap > (1ull << 31))
		return -ENOMEM;
	uint8_t *ns = calloc(cap, t->esize);
	if (ns == NULL)
		return -ENOMEM;
	struct htab nt = { ns, (uint32_t)cap, 0, t->esize, t->klen };
	for (uint32_t i = 0; i < t->cap; i++) {
		uint8_t *e = ht_at(t, i);
		if (ht_used(t, e))
			memcpy(ht_insert(&nt, e), e, t->esize);
	}
	free(t->slot);
	*t = nt;
	return 0;
}
