/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lock-free longest-prefix-match FIB for IPv4 and IPv6: a 16-8-8-... multibit trie whose
 * 8-bit nodes are run-length compressed with a bitmap and a popcount (after Poptrie,
 * Asai & Ohara, SIGCOMM 2015, with one 8-bit stride per level instead of 6).
 *
 *   key:   | 16 bits root | 8 bits | 8 bits | ...            (IPv4: 2 levels, IPv6: up to 14)
 *
 *   root: uint32_t entry[65536]  (256 KiB, direct index by the top 16 bits)
 *
 *   entry (32 bits):  1 | node line index (31)      -> descend into a node
 *                     0 | leaf value (31)            -> done; 0 means "no route"
 *
 *   node (covers 256 slots of the next 8 bits; 64-byte aligned, 1..17 cache lines):
 *     +--------------------------------+-----------+-----------------------------------+
 *     | bm[4]: 256-bit run-start bitmap| rank[4]   | e[0..n-1]: one entry per run       |
 *     | bit i set: slot i starts a run | popcount  | (leaf value or child node ref)     |
 *     | (bit 0 always set)             | of bm[<w] |                                    |
 *     +--------------------------------+-----------+-----------------------------------+
 *      0                              32          36                       36 + 4n bytes
 *     Slot s resolves to e[rank[s/64] + popcount(bm[s/64] & ((2 << (s%64)) - 1)) - 1].
 *     A node with up to 7 runs fits one cache line. Equal neighbouring leaves share a run;
 *     a child node ref is always a run of its own. A region whose 256 slots would be one
 *     leaf run is not a node: its parent holds the leaf directly.
 *
 * Concurrency contract:
 *   - Readers (workers) call the lookup functions at any time, without locks, while inside a
 *     QSBR read-side section (they report quiescent states between bursts).
 *   - One writer (the control thread) calls everything else. fib_set/fib_del change only the
 *     writer's RIB and mark regions dirty; fib_commit rebuilds the dirty nodes into fresh
 *     memory and publishes each with a single 32-bit release store (a root slot, or a child
 *     ref inside a live parent node). A lookup therefore sees, for each prefix, the old or the
 *     new result, never a mix. Replaced nodes are retired and returned to the allocator by
 *     fib_reclaim once every registered reader has passed a quiescent state.
 *   - fib_commit also sets rd.hot (relaxed), a hint that chooses how IPv4 lookups walk
 *     (FIB_HOT_LINES); it guards nothing, as both ways read the same published nodes.
 *
 * Errors: functions return 0 or -errno; fib_create returns NULL with errno set.
 */
#ifndef NPR_FIB_H
#define NPR_FIB_H

#include <stdint.h>
#include <stdatomic.h>

#include <rte_common.h>
#include <rte_prefetch.h>

struct rte_rcu_qsbr;

#define FIB_VALUE_MAX 0x7fffffffu /* leaf values: 1..FIB_VALUE_MAX; 0 = no route */
#define FIB_NODE_FLAG 0x80000000u
#define FIB_LINE 64u

struct fib_conf {
	int family;		   /* 4 or 6 */
	uint32_t max_routes;	   /* fib_set fails with -ENOSPC beyond this; 0 = no limit */
	uint64_t max_mem;	   /* bytes reserved for nodes; 0 = derived from max_routes
				    * (96 B/route IPv4, 512 B/route IPv6, >= 64 MiB; virtual
				    * only: untouched memory costs nothing) */
	struct rte_rcu_qsbr *qsbr; /* readers' QSBR variable; NULL: free at once (no readers) */
};

/* What readers touch: kept first in struct fib so that lookups need no call. */
struct fib_rd {
	_Atomic uint32_t *root; /* 65536 entries */
	const uint8_t *lines;	/* node arena base: node ref r lives at lines + 64 * (r & ~FLAG) */
	int family;
	_Atomic uint32_t hot; /* 1: live nodes <= FIB_HOT_LINES (fib_commit sets it; a hint) */
};

/*
 * A FIB whose nodes take at most this many lines (128 KiB: with the root lines the traffic
 * touches, a quarter of a 1 MiB L2) stays in the caches under forwarding: its lookups hit,
 * prefetching them level by level across a batch hides nothing, and a loop of single
 * lookups runs fewer instructions. fib4_lookup_bulk and the forwarding path choose by it
 * (fib_hot); both ways give the same results. IPv6 lookups always go level by level: single
 * ones measured slower even on a FIB in L1 (docs/performance.md, "Issue 15").
 */
#define FIB_HOT_LINES 2048u

struct fib_node {
	uint64_t bm[4];
	uint8_t rank[4];
	_Atomic uint32_t e[];
};

struct fib;

struct fib *fib_create(const struct fib_conf *conf);
void fib_free(struct fib *f);

/* Writer only. prefix: network byte order, 4 (IPv4) or 16 (IPv6) bytes.
 * fib_set: add, or replace the value of an existing route. -EINVAL: plen out of range, host
 * bits set beyond plen, or value 0 / > FIB_VALUE_MAX; -ENOSPC: max_routes or max_mem reached.
 * fib_del: -ENOENT if absent. Neither is visible to readers before fib_commit. */
int fib_set(struct fib *f, const uint8_t *prefix, uint8_t plen, uint32_t value);
int fib_del(struct fib *f, const uint8_t *prefix, uint8_t plen);
/* Writer only: exact-match read of the RIB (pending changes included). -ENOENT if absent. */
int fib_get(const struct fib *f, const uint8_t *prefix, uint8_t plen, uint32_t *value);
/* Writer only: publish every pending change. Cannot fail (set/del reserve what it needs). */
void fib_commit(struct fib *f);
/* Writer only: free retired nodes whose grace period has ended. Returns how many. */
unsigned fib_reclaim(struct fib *f);
/* Writer only: call cb for every route (pending changes included); stops and returns cb's
 * value if it is non-zero. Order: unspecified. */
int fib_walk(const struct fib *f,
	     int (*cb)(void *ctx, const uint8_t *prefix, uint8_t plen, uint32_t value), void *ctx);
uint32_t fib_count(const struct fib *f);
/* Bytes of the reader-visible structure (root + live nodes). */
uint64_t fib_mem_bytes(const struct fib *f);

static inline const struct fib_rd *
fib_rd(const struct fib *f)
{
	return (const struct fib_rd *)f;
}

static inline const struct fib_node *
fib__node(const struct fib_rd *rd, uint32_t ref)
{
	return (const struct fib_node *)(rd->lines + (uint64_t)(ref & ~FIB_NODE_FLAG) * FIB_LINE);
}

/* Where slot s of node n is: its run's entry (which may lie on another line than bm/rank). */
static inline const _Atomic uint32_t *
fib__slot_at(const struct fib_node *n, unsigned s)
{
	unsigned w = s >> 6;
	uint64_t m = n->bm[w] & ((2ull << (s & 63)) - 1);
	unsigned r = n->rank[w] + (unsigned)__builtin_popcountll(m) - 1;
	return &n->e[r];
}

static inline uint32_t
fib__slot(const struct fib_node *n, unsigned s)
{
	return atomic_load_explicit(fib__slot_at(n, s), memory_order_acquire);
}

/* Reader: longest-prefix match of one IPv4 address (host byte order). 0 = no route. */
static inline uint32_t
fib4_lookup(const struct fib *f, uint32_t addr)
{
	const struct fib_rd *rd = fib_rd(f);
	uint32_t e = atomic_load_explicit(&rd->root[addr >> 16], memory_order_acquire);
	if (e & FIB_NODE_FLAG) {
		e = fib__slot(fib__node(rd, e), (addr >> 8) & 0xff);
		if (e & FIB_NODE_FLAG)
			e = fib__slot(fib__node(rd, e), addr & 0xff);
	}
	return e;
}

/*
 * Bulk lookups walk level by level (IPv4: unless the FIB is hot, FIB_HOT_LINES): every lookup
 * of the batch loads its entry at one level, prefetches the node it leads to, and only then
 * does any lookup go one level down, so the cache misses of a level overlap.
 *
 * IPv6 lookups end at very different depths (a /48 takes five levels, a /32 three), so
 * fib6 keeps the lookups still descending in a list (act) that shrinks from level to level
 * without branches: a lookup that reached a leaf costs nothing below, and no branch depends
 * on how deep each one goes (a leaf prefetches the arena's first line, which is harmless).
 * Measured with tools/fib-bench on the full tables, this made fib6 bulk lookups 1.5 x as
 * fast and fib4 ones (nearly all two levels deep) slower, so fib4 keeps one pass per level.
 *
 * Each level takes two passes, as fib4_lookup_rest does: the first finds every lookup's entry
 * from the node's bitmap line (prefetched one level up) and prefetches it, the second reads
 * them. A node of more than 7 runs keeps most of its entries on other lines than its bitmap,
 * and reading each entry at once left those misses one after the other: two passes took fib6
 * bulk lookups from 37 to 62 M/s on the Intel machine (docs/performance.md), though the loop
 * runs more instructions. (Fewer instructions alone, with everything in registers, made the
 * one-pass loop slower: 37 -> 33 M/s; it was waiting on the entries, not on instructions.)
 */
#define FIB_BULK 32u

static inline uint32_t
fib__is_node(uint32_t e)
{
	return e >> 31; /* FIB_NODE_FLAG */
}

static inline void
fib__prefetch(const struct fib_rd *rd, uint32_t e)
{
	rte_prefetch0(fib__node(rd, e & (0u - fib__is_node(e))));
}

/* Reader: the first level of an IPv4 lookup (host byte order): the root entry, with a prefetch
 * of the node it leads to. fib4_lookup_rest finishes lookups started this way, so a caller
 * can start each one as soon as it has the address and let the node arrive meanwhile. */
static inline uint32_t
fib4_lookup_start(const struct fib *f, uint32_t addr)
{
	const struct fib_rd *rd = fib_rd(f);
	uint32_t e = atomic_load_explicit(&rd->root[addr >> 16], memory_order_acquire);
	if (e & FIB_NODE_FLAG)
		rte_prefetch0(fib__node(rd, e));
	return e;
}

/* Reader: finish n <= FIB_BULK lookups whose val[i] = fib4_lookup_start(f, addr[i]), level by
 * level so that each level's loads are prefetched together. */
static inline void
fib4_lookup_rest(const struct fib *f, const uint32_t *addr, uint32_t *val, unsigned n)
{
	const struct fib_rd *rd = fib_rd(f);
	const _Atomic uint32_t *at[FIB_BULK];
	uint32_t deeper = 0; /* any lookup left to do at the next level */
	unsigned i;
	for (i = 0; i < n; i++)
		deeper |= val[i];
	if (!(deeper & FIB_NODE_FLAG))
		return;
	/* the node's bitmap line is there (prefetched by fib4_lookup_start): find each entry
	 * and prefetch it before reading any, as the run's entry is often on another line */
	for (i = 0; i < n; i++) {
		if (val[i] & FIB_NODE_FLAG) {
			at[i] = fib__slot_at(fib__node(rd, val[i]), (addr[i] >> 8) & 0xff);
			rte_prefetch0(at[i]);
		}
	}
	deeper = 0;
	for (i = 0; i < n; i++) {
		if (val[i] & FIB_NODE_FLAG) {
			val[i] = atomic_load_explicit(at[i], memory_order_acquire);
			deeper |= val[i];
			if (val[i] & FIB_NODE_FLAG)
				rte_prefetch0(fib__node(rd, val[i]));
		}
	}
	if (!(deeper & FIB_NODE_FLAG))
		return;
	for (i = 0; i < n; i++) {
		if (val[i] & FIB_NODE_FLAG)
			val[i] = fib__slot(fib__node(rd, val[i]), addr[i] & 0xff);
	}
}

/* Reader: n lookups, level by level so that each level's loads are prefetched together. */
static inline void
fib4_lookup_levels(const struct fib *f, const uint32_t *addr, uint32_t *val, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		val[i] = fib4_lookup_start(f, addr[i]);
	for (unsigned i = 0; i < n; i += FIB_BULK)
		fib4_lookup_rest(f, addr + i, val + i, RTE_MIN(n - i, FIB_BULK));
}

/* The root slot where a lookup of the IPv6 address addr starts. */
static inline const _Atomic uint32_t *
fib6__root_at(const struct fib_rd *rd, const uint8_t *addr)
{
	return &rd->root[((unsigned)addr[0] << 8) | addr[1]];
}

/* Reader: prefetch the root slot that fib4_lookup_start will read, as soon as the
 * destination is known. */
static inline void
fib4_lookup_prefetch(const struct fib *f, uint32_t addr)
{
	rte_prefetch0(&fib_rd(f)->root[addr >> 16]);
}

/* Reader: longest-prefix match of one IPv6 address (16 bytes, network order). */
static inline uint32_t
fib6_lookup(const struct fib *f, const uint8_t *addr)
{
	const struct fib_rd *rd = fib_rd(f);
	uint32_t e = atomic_load_explicit(fib6__root_at(rd, addr), memory_order_acquire);
	for (unsigned i = 2; (e & FIB_NODE_FLAG) && i < 16; i++)
		e = fib__slot(fib__node(rd, e), addr[i]);
	return e;
}

static inline void
fib6__bulk(const struct fib_rd *rd, const uint8_t *const *addr, uint32_t *val, unsigned n)
{
	uint8_t act[FIB_BULK];
	unsigned i, j, lvl, na = 0, nb;

	for (i = 0; i < n; i++) {
		uint32_t e = atomic_load_explicit(fib6__root_at(rd, addr[i]), memory_order_acquire);
		val[i] = e;
		act[na] = (uint8_t)i;
		na += fib__is_node(e);
		fib__prefetch(rd, e);
	}
	for (lvl = 2; na != 0 && lvl < 16; lvl++) {
		const _Atomic uint32_t *at[FIB_BULK];
		for (j = 0; j < na; j++) {
			i = act[j];
			at[j] = fib__slot_at(fib__node(rd, val[i]), addr[i][lvl]);
			rte_prefetch0(at[j]);
		}
		for (j = 0, nb = 0; j < na; j++) {
			uint32_t e;
			i = act[j];
			e = atomic_load_explicit(at[j], memory_order_acquire);
			val[i] = e;
			act[nb] = (uint8_t)i;
			nb += fib__is_node(e);
			fib__prefetch(rd, e);
		}
		na = nb;
	}
}

/* Reader: n IPv6 lookups (16 bytes each, network order), FIB_BULK at a time, level by level
 * whatever the FIB's size. */
static inline void
fib6_lookup_bulk(const struct fib *f, const uint8_t *const *addr, uint32_t *val, unsigned n)
{
	for (unsigned i = 0; i < n; i += FIB_BULK)
		fib6__bulk(fib_rd(f), addr + i, val + i, RTE_MIN(n - i, FIB_BULK));
}

/* Reader: whether the FIB is small enough to stay in the caches (FIB_HOT_LINES). */
static inline int
fib_hot(const struct fib *f)
{
	return atomic_load_explicit(&fib_rd(f)->hot, memory_order_relaxed) != 0;
}

/* Reader: n lookups, single ones in a loop when the FIB is hot, else level by level. */
static inline void
fib4_lookup_bulk(const struct fib *f, const uint32_t *addr, uint32_t *val, unsigned n)
{
	if (fib_hot(f))
		for (unsigned i = 0; i < n; i++)
			val[i] = fib4_lookup(f, addr[i]);
	else
		fib4_lookup_levels(f, addr, val, n);
}

#endif
