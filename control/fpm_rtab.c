/* SPDX-License-Identifier: BSD-3-Clause */
/* The FPM bridge's route tables (fpm_rtab.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fpm_rtab.h"
#include "fpm_state.h"

#define HUGE_2M (2u << 20)

/* A large table gets a mapping of its own, 2 MiB aligned and advised to the kernel as huge
 * pages: random lookups in tens of MB of 4 KiB pages miss the TLB as often as the cache.
 * (Zeroed either way.) */

int
rtab_init(struct rtab *t, unsigned alen, uint32_t cap)
{
	size_t bytes = (size_t)cap * (alen + 8);
	memset(t, 0, sizeof(*t));
	t->alen = alen;
	t->esize = alen + 8;
	if (bytes >= HUGE_2M) {
		size_t len = bytes + HUGE_2M;
		void *m =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			uintptr_t a = ((uintptr_t)m + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1);
			madvise((void *)a, bytes, MADV_HUGEPAGE); /* a hint: fine if refused */
			t->map = m;
			t->map_len = len;
			t->e = (uint8_t *)a;
		}
	}
	if (t->e == NULL)
		t->e = calloc(cap, t->esize);
	if (t->e == NULL)
		return -ENOMEM;
	t->mask = cap - 1;
	return 0;
}

void
rtab_free(struct rtab *t)
{
	if (t->map != NULL)
		munmap(t->map, t->map_len);
	else
		free(t->e);
	t->e = NULL;
	t->map = NULL;
}

/* Slot of key, or -1. */

int64_t
rt_find(const struct rtab *t, const uint8_t *key)
{
	if (t->alen == 4) { /* prefix and length compared as one word */
		uint64_t k = 0;
		memcpy(&k, key, 5);
		for (uint32_t i = rt_hash(t, key) & t->mask;; i = (i + 1) & t->mask) {
			const uint8_t *e = rt_at(t, i);
			if (!(e[6] & RF_USED))
				return -1;
			uint64_t v = 0;
			memcpy(&v, e, 5);
			if (v == k)
				return i;
		}
	}
	for (uint32_t i = rt_hash(t, key) & t->mask;; i = (i + 1) & t->mask) {
		uint8_t *e = rt_at(t, i);
		if (!(*rt_flags(t, e) & RF_USED))
			return -1;
		if (memcmp(e, key, 17) == 0)
			return i;
	}
}

int
rt_grow(struct rtab *t)
{
	struct rtab n;
	if ((uint64_t)t->mask + 1 >= (1ull << 31) || rtab_init(&n, t->alen, (t->mask + 1) * 2) < 0)
		return -ENOMEM;
	/* in blocks: the new slots of a block are loaded (prefetched) before it is moved, as
	 * each is a cache miss in a table larger than the cache */
	enum { BLOCK = 16 };
	uint32_t at[BLOCK], home[BLOCK];
	for (uint32_t i = 0; i <= t->mask;) {
		unsigned k = 0;
		for (; i <= t->mask && k < BLOCK; i++) {
			const uint8_t *e = rt_at(t, i);
			if (!(e[t->alen + 2] & RF_USED))
				continue;
			at[k] = i;
			home[k] = rt_hash(&n, e) & n.mask;
			__builtin_prefetch(rt_at(&n, home[k]), 1);
			k++;
		}
		for (unsigned j = 0; j < k; j++) {
			uint32_t d = home[j];
			while (*rt_flags(&n, rt_at(&n, d)) & RF_USED)
				d = (d + 1) & n.mask;
			memcpy(rt_at(&n, d), rt_at(t, at[j]), t->esize);
		}
	}
	n.n = t->n;
	n.moves = t->moves + 1;
	rtab_free(t);
	*t = n;
	return 0;
}

/* A new entry for key (absent): flags RF_USED, why PENDING (counted by the caller). Slot,
 * or -1 if out of memory. */

int64_t
rt_insert(struct rtab *t, const uint8_t *key)
{
	if ((t->n + 1) * 4ull > ((uint64_t)t->mask + 1) * 3 && rt_grow(t) < 0)
		return -1;
	uint32_t i = rt_hash(t, key) & t->mask;
	while (*rt_flags(t, rt_at(t, i)) & RF_USED)
		i = (i + 1) & t->mask;
	uint8_t *e = rt_at(t, i);
	memset(e, 0, t->esize);
	memcpy(e, key, t->alen + 1);
	*rt_flags(t, e) = RF_USED;
	e[t->alen + 3] = FPM_WHY_PENDING;
	t->n++;
	t->moves++;
	return i;
}

/* Remove slot i (backward shift: the entries after it may move into it). */

void
rt_remove(struct rtab *t, uint32_t i)
{
	for (uint32_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
		uint8_t *e = rt_at(t, j);
		if (!(*rt_flags(t, e) & RF_USED))
			break;
		uint32_t home = rt_hash(t, e) & t->mask;
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			memcpy(rt_at(t, i), e, t->esize);
			i = j;
		}
	}
	memset(rt_at(t, i), 0, t->esize);
	t->n--;
	t->moves++;
}
