/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's route tables (fpm_state.c keeps one per family): open addressing with
 * linear probing and backward-shift deletion, compact entries, on huge pages when large (a
 * lookup in tens of MB of 4 KiB pages misses the TLB as often as the cache). Entries move on
 * insertion and removal (moves counts them): slots are valid until the next one.
 *
 * An entry, alen = 4 (IPv4, 12 bytes) or 16 (IPv6, 24 bytes):
 *
 *   0        alen   +1      +2      +3      +4               +8
 *   +--------+------+-------+-------+-------+----------------+
 *   | prefix | plen | proto | flags |  why  | object index   |
 *   +--------+------+-------+-------+-------+----------------+
 *    \___ key ____/
 *
 * flags RF_*: the table uses RF_USED; the others are the state's (fpm_state.c).
 */
#ifndef NPR_CTL_FPM_RTAB_H
#define NPR_CTL_FPM_RTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "npr/util.h"

#define RF_USED 0x01u
#define RF_INST 0x02u
#define RF_FAILED 0x04u
#define RF_SEEN 0x08u

struct rtab {
	uint8_t *e;
	void *map; /* e's mapping when it has its own (map_len bytes); NULL: calloc */
	size_t map_len;
	uint32_t mask, n;
	unsigned alen, esize;
	uint64_t moves; /* insertions and removals: entries may have moved */
};

static inline uint8_t *
rt_at(const struct rtab *t, uint32_t i)
{
	return t->e + (size_t)i * t->esize;
}

static inline uint8_t *
rt_flags(const struct rtab *t, uint8_t *e)
{
	return e + t->alen + 2;
}

static inline uint32_t
rt_obj(const struct rtab *t, const uint8_t *e)
{
	uint32_t v;
	memcpy(&v, e + t->alen + 4, 4);
	return v;
}

static inline void
rt_set_obj(const struct rtab *t, uint8_t *e, uint32_t v)
{
	memcpy(e + t->alen + 4, &v, 4);
}

static inline uint32_t
rt_hash(const struct rtab *t, const uint8_t *key)
{
	if (t->alen == 4) { /* prefix and length in one word, mixed (MurmurHash3's fmix64) */
		uint64_t v = 0;
		memcpy(&v, key, 5);
		v ^= v >> 33;
		v *= 0xff51afd7ed558ccdull;
		v ^= v >> 33;
		v *= 0xc4ceb9fe1a85ec53ull;
		v ^= v >> 33;
		return (uint32_t)v;
	}
	return (uint32_t)(npr_hash(key, 17, 0x7274) >> 32);
}

/* An empty table of cap slots (a power of two). 0 or -ENOMEM. */
int rtab_init(struct rtab *t, unsigned alen, uint32_t cap);
void rtab_free(struct rtab *t);
/* Slot of key (prefix and plen), or -1. */
int64_t rt_find(const struct rtab *t, const uint8_t *key);
/* Twice the slots. 0 or -ENOMEM (the table unchanged). */
int rt_grow(struct rtab *t);
/* A new entry for key (absent): flags RF_USED, why PENDING (counted by the caller). Slot,
 * or -1 if out of memory. */
int64_t rt_insert(struct rtab *t, const uint8_t *key);
/* Remove slot i (backward shift: the entries after it may move into it). */
void rt_remove(struct rtab *t, uint32_t i);

#endif
