/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB writer side: the RIB kept per 8-bit region, the node builder and the publisher.
 * The reader side (lookups) and the node encoding are in fib.h.
 *
 * RIB layout (writer only, never read by the workers):
 *
 *   root: pfx[(1 << len) | bits] for len 0..16     painted[65536] / plen1[65536]
 *         child[65536] -> struct region (level 1)  best root prefix per /16 slot
 *
 *   region at level k (k = 1..14) covers key bits 16 + 8(k-1) .. 16 + 8k - 1, i.e. one byte:
 *     pfx[]   own prefixes, sorted by idx = (1 << sublen) | bits (sublen 1..8), which is also
 *             the painting order (shorter first)
 *     kid[]   child regions sorted by slot
 *     inherited  what the parent paints at our slot (the fallback for our 256 slots)
 *     entry      what the parent currently shows at our slot (leaf, or ref to our node)
 *
 * fib_set/fib_del touch the RIB and mark regions dirty (per-level lists). fib_commit:
 *   phase 1, top-down: regions with children repaint and push `inherited` down (a change
 *            makes the child dirty); root slots whose painted value changed are pushed to
 *            their level-1 child or, with no child, stored into the root directly;
 *   phase 2, bottom-up: every dirty region computes its runs; when they start where the
 *            live node's do (a next hop replaced: the common update), the changed entries
 *            are stored into the live node in place and nothing else changes. Otherwise it
 *            builds a new node (or collapses to a leaf, or is removed when empty) and
 *            publishes it with one release store: into the root,
 *            into the parent's live node when the parent is clean and both the old and the
 *            new entry are node refs (a node ref is always a run of its own), or else by
 *            marking the parent dirty (it is shallower, so it is built later in this phase).
 * Replaced nodes are retired with a QSBR token and freed by fib_reclaim.
 *
 * Memory: nodes live in one arena of 64-byte lines (mmap, MAP_NORESERVE), with free lists per
 * size (1..17 lines) and a bump pointer. The worst case of rebuilding every region is tracked
 * (wc_lines: a region with p prefixes and c children has at most 1 + 2(p + c) runs); fib_set
 * refuses with -ENOSPC when the never-used tail of the arena could not hold it, so fib_commit
 * never runs out of lines whatever the free lists look like. Conservative: lines sitting in
 * the free lists do not count, so keep max_mem generous (the default is ~10x a full table).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include <rte_rcu_qsbr.h>

#include "fib.h"
#include "retire.h"

#define ROOT_SLOTS 65536u
#define ROOT_PFX (1u << 17) /* (1 << len) | bits, len 0..16 */
#define MAX_LEVEL 14	    /* IPv6: 16 + 14 * 8 = 128 bits */
#define MAX_CLASS 17	    /* lines of a 256-run node: 36 + 4 * 256 bytes */
#define NODE_HDR 36u	    /* bm[4] + rank[4] */
#define MAX_LINES 0x7fffffffu
#define SET_SLACK 64u /* lines one fib_set may add to the worst case (<= 1 + 2 * 14) */
#define MIN_MEM (64ull << 20)
#define MEM_PER_V4 96ull
#define MEM_PER_V6 512ull
#define DEFAULT_ROUTES (1u << 20)

struct pfx {
	uint16_t idx; /* (1 << sublen) | bits, 2..511 */
	uint32_t val;
};

/* Writer only. */
struct region {
	struct region *parent; /* NULL: child of the root */
	uint32_t pslot;	       /* slot in the parent: 0..255, or 0..65535 under the root */
	uint8_t level;	       /* 1..14 */
	bool dirty;	       /* queued in fib->dirty[level] */
	bool published;	       /* entry is what the parent shows (false until first commit) */
	uint8_t node_lines;    /* size of the live node when entry is a node ref */
	uint16_t npfx, cappfx;
	uint16_t nkid, capkid;
	uint32_t inherited;
	uint32_t entry;
	struct pfx *pfx;
	uint8_t *kslot;
	struct region **kid;
};

struct rlist {
	struct region **v;
	uint32_t n, cap;
};

/*
 * Concurrency: readers touch only rd (root entries and node lines, through fib.h). Everything
 * else belongs to the single writer. Node lines become reader-visible by a release store of
 * their ref and are written again only after fib_reclaim saw the QSBR grace period end.
 */
struct fib {
	struct fib_rd rd; /* first: readers reach it through fib_rd() without a call */
	struct rte_rcu_qsbr *qsbr;
	unsigned nbytes;    /* 4 or 16 */
	unsigned max_level; /* 2 or 14 */
	uint32_t max_routes;
	uint32_t count;

	/* Node arena (lines of 64 bytes, line 0 unused). */
	uint8_t *arena;
	size_t arena_size;
	uint32_t arena_lines;
	uint32_t bump;
	uint32_t freelist[MAX_CLASS + 1];
	uint64_t live_lines; /* lines of published nodes */
	uint64_t wc_lines;   /* worst case of rebuilding every region */

	/* Retired nodes (line << 32 | lines); at most arena_lines since each holds >= 1 line. */
	struct retire ret;

	/* Root RIB. */
	uint32_t *root_pfx;
	uint32_t *painted;
	uint8_t *plen1; /* length + 1 of the painting prefix, 0 = none */
	struct region **child;
	uint16_t *rdirty;
	uint8_t *rdflag;
	uint32_t nrdirty;

	/* Dirty regions per level; capacity >= regions of that level so commit never grows. */
	struct rlist dirty[MAX_LEVEL + 1];
	uint32_t nregions[MAX_LEVEL + 1];
};

/* --- arena --------------------------------------------------------------------------- */

static inline unsigned
lines_for(unsigned runs)
{
	return (NODE_HDR + 4 * runs + FIB_LINE - 1) / FIB_LINE;
}

static inline struct fib_node *
wnode(struct fib *f, uint32_t line)
{
	return (struct fib_node *)(f->arena + (uint64_t)line * FIB_LINE);
}

static uint32_t
lines_alloc(struct fib *f, unsigned n)
{
	uint32_t l = f->freelist[n];
	if (l != 0) {
		memcpy(&f->freelist[n], f->arena + (uint64_t)l * FIB_LINE, sizeof(uint32_t));
		return l;
	}
	if (n <= f->arena_lines - f->bump) {
		l = f->bump;
		f->bump += n;
		return l;
	}
	/* Split a bigger free block (only reached if the reserve check was bypassed). */
	for (unsigned c = n + 1; c <= MAX_CLASS; c++) {
		l = f->freelist[c];
		if (l == 0)
			continue;
		memcpy(&f->freelist[c], f->arena + (uint64_t)l * FIB_LINE, sizeof(uint32_t));
		uint32_t rest = l + n;
		memcpy(f->arena + (uint64_t)rest * FIB_LINE, &f->freelist[c - n], sizeof(uint32_t));
		f->freelist[c - n] = rest;
		return l;
	}
	return 0;
}

static void
lines_free(struct fib *f, uint32_t line, unsigned n)
{
	/* Poison the entries: a reader that wrongly still held the node would see 0x7f7f7f7f
	 * (which the concurrency test flags) rather than plausible stale data. */
	memset(f->arena + (uint64_t)line * FIB_LINE + NODE_HDR, 0x7f, n * FIB_LINE - NODE_HDR);
	memcpy(f->arena + (uint64_t)line * FIB_LINE, &f->freelist[n], sizeof(uint32_t));
	f->freelist[n] = line;
}

/* Writer: a node no reader will reach after the next grace period. */
static void
retire(struct fib *f, uint32_t ref, unsigned nlines)
{
	/* stamped at the end of the commit, after the last store that unlinks it */
	retire_push(&f->ret, (uint64_t)(ref & ~FIB_NODE_FLAG) << 32 | nlines);
	f->live_lines -= nlines;
}

unsigned
fib_reclaim(struct fib *f)
{
	unsigned n = 0;
	uint64_t v;
	while (retire_pop(&f->ret, &v, false) == 0) {
		lines_free(f, (uint32_t)(v >> 32), (unsigned)(v & 0xffffffffu));
		n++;
	}
	return n;
}

/* --- regions ------------------------------------------------------------------------- */

static inline uint64_t
region_wc(const struct region *r)
{
	unsigned runs = 1 + 2 * ((unsigned)r->npfx + r->nkid);
	return lines_for(runs < 256 ? runs : 256);
}

static void
mark_dirty(struct fib *f, struct region *r)
{
	if (!r->dirty) {
		struct rlist *l = &f->dirty[r->level];
		r->dirty = true;
		l->v[l->n++] = r;
	}
}

static struct region *
region_new(struct fib *f, struct region *parent, uint32_t pslot, unsigned level)
{
	struct rlist *l = &f->dirty[level];
	if (l->cap < f->nregions[level] + 1) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		struct region **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	struct region *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->parent = parent;
	r->pslot = pslot;
	r->level = (uint8_t)level;
	f->nregions[level]++;
	f->wc_lines += region_wc(r);
	return r;
}

static void
region_destroy(struct fib *f, struct region *r)
{
	f->nregions[r->level]--;
	f->wc_lines -= region_wc(r);
	free(r->pfx);
	free(r->kslot);
	free(r->kid);
	free(r);
}

/* Index of the first prefix with idx >= key. */
static inline unsigned
pfx_lower(const struct region *r, unsigned key)
{
	unsigned lo = 0, hi = r->npfx;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (r->pfx[mid].idx < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline unsigned
kid_lower(const struct region *r, unsigned slot)
{
	unsigned lo = 0, hi = r->nkid;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (r->kslot[mid] < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
kid_insert(struct fib *f, struct region *r, unsigned i, struct region *c)
{
	if (r->nkid == r->capkid) {
		unsigned cap = r->capkid ? r->capkid * 2 : 2;
		uint8_t *ks = realloc(r->kslot, cap);
		if (ks == NULL)
			return -ENOMEM;
		r->kslot = ks;
		struct region **kv = realloc(r->kid, cap * sizeof(*kv));
		if (kv == NULL)
			return -ENOMEM;
		r->kid = kv;
		r->capkid = (uint16_t)cap;
	}
	f->wc_lines -= region_wc(r);
	memmove(&r->kslot[i + 1], &r->kslot[i], r->nkid - i);
	memmove(&r->kid[i + 1], &r->kid[i], (r->nkid - i) * sizeof(r->kid[0]));
	r->kslot[i] = (uint8_t)c->pslot;
	r->kid[i] = c;
	r->nkid++;
	f->wc_lines += region_wc(r);
	return 0;
}

static void
kid_remove(struct fib *f, struct region *r, unsigned slot)
{
	unsigned i = kid_lower(r, slot);
	f->wc_lines -= region_wc(r);
	memmove(&r->kslot[i], &r->kslot[i + 1], r->nkid - i - 1);
	memmove(&r->kid[i], &r->kid[i + 1], (r->nkid - i - 1) * sizeof(r->kid[0]));
	r->nkid--;
	f->wc_lines += region_wc(r);
}

/* Region of `level` holding prefixes whose first bytes are p; created on the way if asked. */
static struct region *
region_find(struct fib *f, const uint8_t *p, unsigned level, bool create)
{
	unsigned slot = ((unsigned)p[0] << 8) | p[1];
	struct region *r = f->child[slot];
	if (r == NULL) {
		if (!create)
			return NULL;
		r = region_new(f, NULL, slot, 1);
		if (r == NULL)
			return NULL;
		r->inherited = f->painted[slot];
		f->child[slot] = r;
		mark_dirty(f, r);
	}
	for (unsigned l = 2; l <= level; l++) {
		unsigned s = p[l];
		unsigned i = kid_lower(r, s);
		if (i < r->nkid && r->kslot[i] == s) {
			r = r->kid[i];
			continue;
		}
		if (!create)
			return NULL;
		struct region *c = region_new(f, r, s, l);
		if (c == NULL)
			return NULL;
		if (kid_insert(f, r, i, c) < 0) {
			region_destroy(f, c);
			return NULL;
		}
		/* The parent's slot turns into a node ref, and it sets our inherited value. */
		mark_dirty(f, r);
		mark_dirty(f, c);
		r = c;
	}
	return r;
}

/* --- root painting ------------------------------------------------------------------- */

static inline void
root_touch(struct fib *f, unsigned s)
{
	if (!f->rdflag[s]) {
		f->rdflag[s] = 1;
		f->rdirty[f->nrdirty++] = (uint16_t)s;
	}
}

/* A root prefix of length len was added or its value replaced. */
static void
root_paint_add(struct fib *f, unsigned len, unsigned bits, uint32_t v)
{
	unsigned lo = bits << (16 - len), n = 1u << (16 - len);
	for (unsigned s = lo; s < lo + n; s++) {
		if (f->plen1[s] > len + 1)
			continue;
		f->plen1[s] = (uint8_t)(len + 1);
		if (f->painted[s] != v) {
			f->painted[s] = v;
			root_touch(f, s);
		}
	}
}

/* A root prefix of length len was deleted: slots it painted fall back to a shorter one. */
static void
root_paint_del(struct fib *f, unsigned len, unsigned bits)
{
	unsigned lo = bits << (16 - len), n = 1u << (16 - len);
	for (unsigned s = lo; s < lo + n; s++) {
		if (f->plen1[s] != len + 1)
			continue;
		uint32_t v = 0;
		unsigned l1 = 0;
		for (int l = (int)len - 1; l >= 0; l--) {
			uint32_t x = f->root_pfx[(1u << l) | (s >> (16 - l))];
			if (x != 0) {
				v = x;
				l1 = (unsigned)l + 1;
				break;
			}
		}
		f->plen1[s] = (uint8_t)l1;
		if (f->painted[s] != v) {
			f->painted[s] = v;
			root_touch(f, s);
		}
	}
}

/* --- set / del / get ----------------------------------------------------------------- */

static int
check_prefix(const struct fib *f, const uint8_t *p, unsigned plen)
{
	if (p == NULL || plen > f->nbytes * 8)
		return -EINVAL;
	for (unsigned i = plen / 8; i < f->nbytes; i++) {
		uint8_t m = i == plen / 8 ? (uint8_t)(0xffu >> (plen % 8)) : 0xff;
		if (p[i] & m)
			return -EINVAL;
	}
	return 0;
}

static inline unsigned
root_idx(const uint8_t *p, unsigned plen)
{
	unsigned top = ((unsigned)p[0] << 8) | p[1];
	return (1u << plen) | (plen ? top >> (16 - plen) : 0);
}

/* Level, and idx within that level's region, of a prefix longer than /16. */
static inline unsigned
sub_key(const uint8_t *p, unsigned plen, unsigned *level)
{
	unsigned lv = (plen - 9) / 8;
	unsigned sublen = plen - 16 - 8 * (lv - 1);
	*level = lv;
	return (1u << sublen) | ((unsigned)p[lv + 1] >> (8 - sublen));
}

int
fib_set(struct fib *f, const uint8_t *prefix, uint8_t plen, uint32_t value)
{
	int rc = check_prefix(f, prefix, plen);
	if (rc < 0)
		return rc;
	if (value == 0 || value > FIB_VALUE_MAX)
		return -EINVAL;

	if (plen <= 16) {
		unsigned idx = root_idx(prefix, plen);
		uint32_t old = f->root_pfx[idx];
		if (old == value)
			return 0;
		if (old == 0 && f->count >= f->max_routes)
			return -ENOSPC;
		f->root_pfx[idx] = value;
		if (old == 0)
			f->count++;
		root_paint_add(f, plen, idx & ((1u << plen) - 1), value);
		return 0;
	}

	unsigned level;
	unsigned key = sub_key(prefix, plen, &level);
	struct region *r = region_find(f, prefix, level, false);
	unsigned i = 0;
	if (r != NULL) {
		i = pfx_lower(r, key);
		if (i < r->npfx && r->pfx[i].idx == key) {
			if (r->pfx[i].val != value) {
				r->pfx[i].val = value;
				mark_dirty(f, r);
			}
			return 0;
		}
	}
	if (f->count >= f->max_routes)
		return -ENOSPC;
	if (f->wc_lines + SET_SLACK > f->arena_lines - f->bump)
		return -ENOSPC;
	if (r == NULL) {
		r = region_find(f, prefix, level, true);
		if (r == NULL)
			return -ENOMEM; /* regions made on the way are empty: dropped at commit */
		i = 0;
	}
	if (r->npfx == r->cappfx) {
		unsigned cap = r->cappfx ? r->cappfx * 2 : 2;
		struct pfx *v = realloc(r->pfx, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		r->pfx = v;
		r->cappfx = (uint16_t)cap;
	}
	f->wc_lines -= region_wc(r);
	memmove(&r->pfx[i + 1], &r->pfx[i], (r->npfx - i) * sizeof(r->pfx[0]));
	r->pfx[i].idx = (uint16_t)key;
	r->pfx[i].val = value;
	r->npfx++;
	f->wc_lines += region_wc(r);
	f->count++;
	mark_dirty(f, r);
	return 0;
}

int
fib_del(struct fib *f, const uint8_t *prefix, uint8_t plen)
{
	int rc = check_prefix(f, prefix, plen);
	if (rc < 0)
		return rc;

	if (plen <= 16) {
		unsigned idx = root_idx(prefix, plen);
		if (f->root_pfx[idx] == 0)
			return -ENOENT;
		f->root_pfx[idx] = 0;
		f->count--;
		root_paint_del(f, plen, idx & ((1u << plen) - 1));
		return 0;
	}

	unsigned level;
	unsigned key = sub_key(prefix, plen, &level);
	struct region *r = region_find(f, prefix, level, false);
	if (r == NULL)
		return -ENOENT;
	unsigned i = pfx_lower(r, key);
	if (i >= r->npfx || r->pfx[i].idx != key)
		return -ENOENT;
	f->wc_lines -= region_wc(r);
	memmove(&r->pfx[i], &r->pfx[i + 1], (r->npfx - i - 1) * sizeof(r->pfx[0]));
	r->npfx--;
	f->wc_lines += region_wc(r);
	f->count--;
	mark_dirty(f, r);
	return 0;
}

int
fib_get(const struct fib *f, const uint8_t *prefix, uint8_t plen, uint32_t *value)
{
	int rc = check_prefix(f, prefix, plen);
	if (rc < 0)
		return rc;
	uint32_t v = 0;
	if (plen <= 16) {
		v = f->root_pfx[root_idx(prefix, plen)];
	} else {
		unsigned level;
		unsigned key = sub_key(prefix, plen, &level);
		struct region *r = region_find((struct fib *)f, prefix, level, false);
		if (r != NULL) {
			unsigned i = pfx_lower(r, key);
			if (i < r->npfx && r->pfx[i].idx == key)
				v = r->pfx[i].val;
		}
	}
	if (v == 0)
		return -ENOENT;
	if (value != NULL)
		*value = v;
	return 0;
}

/* --- commit -------------------------------------------------------------------------- */

static void
region_paint(const struct region *r, uint32_t *paint)
{
	for (unsigned s = 0; s < 256; s++)
		paint[s] = r->inherited;
	unsigned i = 0;
	/* Sorted by idx: shorter prefixes first, the full-length ones (one slot each) last. */
	for (; i < r->npfx && r->pfx[i].idx < 256; i++) {
		unsigned idx = r->pfx[i].idx;
		unsigned sublen = 31 - (unsigned)__builtin_clz(idx);
		unsigned span = 256u >> sublen;
		uint32_t *d = paint + (idx - (1u << sublen)) * span;
		uint32_t v = r->pfx[i].val;
		for (unsigned j = 0; j < span; j++)
			d[j] = v;
	}
	for (; i < r->npfx; i++)
		paint[r->pfx[i].idx - 256] = r->pfx[i].val;
}

/* bm bit s set where e[s] != e[s - 1] (e[-1] must be readable and differ from e[0]). */
static inline void
run_starts(const uint32_t *e, uint64_t *bm)
{
	for (unsigned w = 0; w < 4; w++) {
		uint64_t b = 0;
#ifdef __SSE2__
		for (unsigned j = 0; j < 64; j += 4) {
			const uint32_t *p = e + w * 64 + j;
			__m128i cur = _mm_loadu_si128((const __m128i *)p);
			__m128i prev = _mm_loadu_si128((const __m128i *)(p - 1));
			unsigned eq = (unsigned)_mm_movemask_ps(
				_mm_castsi128_ps(_mm_cmpeq_epi32(cur, prev)));
			b |= (uint64_t)(~eq & 0xfu) << j;
		}
#else
		for (unsigned j = 0; j < 64; j++)
			b |= (uint64_t)(e[w * 64 + j] != e[w * 64 + j - 1]) << j;
#endif
		bm[w] = b;
	}
}

/*
 * run[0..n) = the values of e's runs (e[s] for every s whose bit is set in bm); returns n.
 * run has room for 256 (a group of four is stored whole at run + n, and n <= s). With SSSE3 one
 * shuffle packs four slots at a time (fib-bench del+add +8 % IPv4, update and del+add +6 % IPv6, on
 * the Intel machine); the scalar loop does one slot per iteration without a branch, as a loop over
 * the set bits costs a mispredicted exit per word.
 */
static inline unsigned
runs_compact(const uint32_t *e, const uint64_t *bm, uint32_t *run)
{
	unsigned n = 0;
#ifdef __SSSE3__
	/* pack[m]: a pshufb control that moves the 32-bit lanes set in m to the front */
#define L(x) 4 * (x), 4 * (x) + 1, 4 * (x) + 2, 4 * (x) + 3
#define P(a, b, c, d)                                                                              \
	{                                                                                          \
		L(a), L(b), L(c), L(d)                                                             \
	}
	static const uint8_t pack[16][16] __rte_aligned(16) = {
		P(0, 0, 0, 0), P(0, 0, 0, 0), P(1, 0, 0, 0), P(0, 1, 0, 0),
		P(2, 0, 0, 0), P(0, 2, 0, 0), P(1, 2, 0, 0), P(0, 1, 2, 0),
		P(3, 0, 0, 0), P(0, 3, 0, 0), P(1, 3, 0, 0), P(0, 1, 3, 0),
		P(2, 3, 0, 0), P(0, 2, 3, 0), P(1, 2, 3, 0), P(0, 1, 2, 3),
	};
#undef P
#undef L
	for (unsigned s = 0; s < 256; s += 4) {
		unsigned m = (unsigned)(bm[s >> 6] >> (s & 63)) & 0xf;
		__m128i v = _mm_loadu_si128((const __m128i *)(e + s));
		v = _mm_shuffle_epi8(v, _mm_load_si128((const __m128i *)pack[m]));
		_mm_storeu_si128((__m128i *)(run + n), v);
		n += (unsigned)__builtin_popcount(m);
	}
#else
	for (unsigned s = 0; s < 256; s++) {
		run[n] = e[s];
		n += (unsigned)(bm[s >> 6] >> (s & 63)) & 1;
	}
#endif
	return n;
}

/* Run index of slot s in a node (the same arithmetic as fib__slot). */
static inline unsigned
node_run(const struct fib_node *n, unsigned s)
{
	unsigned w = s >> 6;
	uint64_t m = n->bm[w] & ((2ull << (s & 63)) - 1);
	return n->rank[w] + (unsigned)__builtin_popcountll(m) - 1;
}

/* Tell the parent (or the root) that r now resolves to `entry`. */
static void
publish(struct fib *f, struct region *r, uint32_t old, uint32_t entry)
{
	struct region *p = r->parent;
	if (p == NULL) {
		/* Release: the node's contents are visible before the ref. */
		atomic_store_explicit(&f->rd.root[r->pslot], entry, memory_order_release);
	} else if (p->dirty) {
		/* Built later in this phase; it embeds r->entry. */
	} else if ((old & FIB_NODE_FLAG) && (entry & FIB_NODE_FLAG)) {
		/* Our old ref is a run of its own in the parent's live node: swap it in place. */
		struct fib_node *n = wnode(f, p->entry & ~FIB_NODE_FLAG);
		atomic_store_explicit(&n->e[node_run(n, r->pslot)], entry, memory_order_release);
	} else {
		mark_dirty(f, p);
	}
}

static void
region_remove(struct fib *f, struct region *r)
{
	struct region *p = r->parent;
	if (r->published && (r->entry & FIB_NODE_FLAG))
		retire(f, r->entry, r->node_lines);
	if (p == NULL) {
		f->child[r->pslot] = NULL;
		atomic_store_explicit(&f->rd.root[r->pslot], f->painted[r->pslot],
				      memory_order_release);
	} else {
		kid_remove(f, p, r->pslot);
		mark_dirty(f, p);
	}
	region_destroy(f, r);
}

/* Phase 1: push the painted value at each child's slot down as its inherited value. */
static void
region_push_down(struct fib *f, struct region *r)
{
	uint32_t paint[256];
	region_paint(r, paint);
	for (unsigned i = 0; i < r->nkid; i++) {
		struct region *c = r->kid[i];
		uint32_t v = paint[r->kslot[i]];
		if (c->inherited != v) {
			c->inherited = v;
			mark_dirty(f, c);
		}
	}
}

/* Phase 2: build r's node (or leaf) from its paint and its children's entries; publish. */
static void
region_build(struct fib *f, struct region *r)
{
	uint32_t buf[257], run[256];
	uint32_t *e = buf + 1; /* e[-1] exists so that slot 0 compares like the others */
	uint64_t bm[4];
	unsigned n;

	r->dirty = false;
	if (r->npfx == 0 && r->nkid == 0) {
		region_remove(f, r);
		return;
	}
	/* The prefixes are painted and the live node compared below; both are most likely
	 * cold: let them come meanwhile. */
	for (unsigned i = 0; i < r->npfx; i += FIB_LINE / sizeof(r->pfx[0]))
		rte_prefetch0(&r->pfx[i]);
	if (r->published && (r->entry & FIB_NODE_FLAG))
		for (unsigned l = 0; l < r->node_lines; l++)
			rte_prefetch0(wnode(f, (r->entry & ~FIB_NODE_FLAG) + l));
	region_paint(r, e);
	for (unsigned i = 0; i < r->nkid; i++)
		e[r->kslot[i]] = r->kid[i]->entry;
	e[-1] = ~e[0];

	run_starts(e, bm);
	n = runs_compact(e, bm, run);

	uint32_t old = r->entry, entry;
	unsigned nl = 0;
	if (n == 1) {
		entry = run[0]; /* one leaf run: no node */
	} else if (r->published && (old & FIB_NODE_FLAG) &&
		   memcmp(wnode(f, old & ~FIB_NODE_FLAG)->bm, bm, sizeof(bm)) == 0) {
		/* The same runs: the live node takes the changed entries in place, one release
		 * store each (a child's node is built before its ref is stored), and the parent
		 * keeps its ref. A reader sees each slot's old or new entry, as it would across a
		 * swapped node; no node is allocated, written whole, or retired. */
		struct fib_node *o = wnode(f, old & ~FIB_NODE_FLAG);
		for (unsigned i = 0; i < n; i++)
			if (atomic_load_explicit(&o->e[i], memory_order_relaxed) != run[i])
				atomic_store_explicit(&o->e[i], run[i], memory_order_release);
		return;
	} else {
		nl = lines_for(n);
		uint32_t line = lines_alloc(f, nl);
		if (line == 0)
			abort(); /* cannot happen: fib_set reserved the worst case */
		struct fib_node *nd = wnode(f, line);
		unsigned rank = 0;
		for (unsigned w = 0; w < 4; w++) {
			nd->bm[w] = bm[w];
			nd->rank[w] = (uint8_t)rank;
			rank += (unsigned)__builtin_popcountll(bm[w]);
		}
		/* Not yet reachable: relaxed stores, ordered by the release that publishes it. */
		for (unsigned i = 0; i < n; i++)
			atomic_store_explicit(&nd->e[i], run[i], memory_order_relaxed);
		f->live_lines += nl;
		entry = FIB_NODE_FLAG | line;
	}

	if (r->published && old == entry)
		return;
	r->entry = entry;
	publish(f, r, r->published ? old : 0, entry);
	if (r->published && (old & FIB_NODE_FLAG))
		retire(f, old, r->node_lines);
	r->node_lines = (uint8_t)nl;
	r->published = true;
}

void
fib_commit(struct fib *f)
{
	fib_reclaim(f);

	/* Root slots repainted by /0../16 changes. */
	for (uint32_t i = 0; i < f->nrdirty; i++) {
		unsigned s = f->rdirty[i];
		struct region *c = f->child[s];
		f->rdflag[s] = 0;
		if (c != NULL) {
			if (c->inherited != f->painted[s]) {
				c->inherited = f->painted[s];
				mark_dirty(f, c);
			}
		} else if (atomic_load_explicit(&f->rd.root[s], memory_order_relaxed) !=
			   f->painted[s]) {
			atomic_store_explicit(&f->rd.root[s], f->painted[s], memory_order_release);
		}
	}
	f->nrdirty = 0;

	/* Phase 1, top-down: inherited values. */
	for (unsigned l = 1; l < f->max_level; l++) {
		struct rlist *dl = &f->dirty[l];
		for (uint32_t i = 0; i < dl->n; i++)
			if (dl->v[i]->nkid != 0)
				region_push_down(f, dl->v[i]);
	}
	/* Phase 2, bottom-up: build and publish; parents may be queued on shallower lists. */
	for (unsigned l = f->max_level; l >= 1; l--) {
		struct rlist *dl = &f->dirty[l];
		for (uint32_t i = 0; i < dl->n; i++)
			region_build(f, dl->v[i]);
		dl->n = 0;
	}

	/* stored only when it changes: workers read this line every burst, and a store at every
	 * commit would take it from their caches at the update rate */
	uint32_t hot = f->live_lines <= FIB_HOT_LINES;
	if (atomic_load_explicit(&f->rd.hot, memory_order_relaxed) != hot)
		atomic_store_explicit(&f->rd.hot, hot, memory_order_relaxed);
	/* Readers that pass a quiescent state after this no longer see the retired nodes. */
	retire_stamp(&f->ret);
	if (f->qsbr == NULL)
		fib_reclaim(f);
}

/* --- walk / stats -------------------------------------------------------------------- */

static int
walk_region(const struct fib *f, const struct region *r, uint8_t *key,
	    int (*cb)(void *, const uint8_t *, uint8_t, uint32_t), void *ctx)
{
	unsigned b = r->level + 1; /* byte this region covers */
	uint8_t p[16];
	int rc;

	for (unsigned i = 0; i < r->npfx; i++) {
		unsigned idx = r->pfx[i].idx;
		unsigned sublen = 31 - (unsigned)__builtin_clz(idx);
		memset(p, 0, sizeof(p));
		memcpy(p, key, b);
		p[b] = (uint8_t)((idx - (1u << sublen)) << (8 - sublen));
		rc = cb(ctx, p, (uint8_t)(16 + 8 * (r->level - 1) + sublen), r->pfx[i].val);
		if (rc != 0)
			return rc;
	}
	for (unsigned i = 0; i < r->nkid; i++) {
		key[b] = r->kslot[i];
		rc = walk_region(f, r->kid[i], key, cb, ctx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
fib_walk(const struct fib *f,
	 int (*cb)(void *ctx, const uint8_t *prefix, uint8_t plen, uint32_t value), void *ctx)
{
	uint8_t p[16];
	int rc;

	for (unsigned idx = 1; idx < ROOT_PFX; idx++) {
		if (f->root_pfx[idx] == 0)
			continue;
		unsigned len = 31 - (unsigned)__builtin_clz(idx);
		unsigned top = (idx - (1u << len)) << (16 - len);
		memset(p, 0, sizeof(p));
		p[0] = (uint8_t)(top >> 8);
		p[1] = (uint8_t)top;
		rc = cb(ctx, p, (uint8_t)len, f->root_pfx[idx]);
		if (rc != 0)
			return rc;
	}
	for (unsigned s = 0; s < ROOT_SLOTS; s++) {
		if (f->child[s] == NULL)
			continue;
		memset(p, 0, sizeof(p));
		p[0] = (uint8_t)(s >> 8);
		p[1] = (uint8_t)s;
		rc = walk_region(f, f->child[s], p, cb, ctx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

uint32_t
fib_count(const struct fib *f)
{
	return f->count;
}

uint64_t
fib_mem_bytes(const struct fib *f)
{
	return ROOT_SLOTS * sizeof(uint32_t) + f->live_lines * FIB_LINE;
}

/* --- create / free ------------------------------------------------------------------- */

#define HUGE_SIZE ((size_t)2 << 20)
#define ROOT_MAP HUGE_SIZE /* the root's 256 KiB, alone in one (huge) page */
_Static_assert(ROOT_SLOTS * sizeof(uint32_t) <= ROOT_MAP, "the root fits its mapping");

/* n rounded up to a multiple of 2 MiB. */
static size_t
huge_round(size_t n)
{
	return (n + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
}

/*
 * Anonymous memory, reserved only (MAP_NORESERVE), starting on a 2 MiB boundary; size a
 * multiple of 2 MiB. Transparent huge pages can then back all of it: a lookup that walks the
 * full IPv4 table touches three random lines, and on 4 KiB pages each may also miss the TLB
 * (measured: a 5.6 MiB arena at an unaligned address got 2 of its 3 huge pages).
 */
static void *
map(size_t size)
{
	size_t span = size + HUGE_SIZE, head, tail;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
	head = a - (uintptr_t)p;
	tail = span - head - size;
	if (head != 0)
		munmap(p, head);
	if (tail != 0)
		munmap((uint8_t *)a + size, tail);
	madvise((void *)a, size, MADV_HUGEPAGE); /* best effort: THP may be off */
	return (void *)a;
}

struct fib *
fib_create(const struct fib_conf *conf)
{
	if (conf == NULL || (conf->family != 4 && conf->family != 6)) {
		errno = EINVAL;
		return NULL;
	}
	struct fib *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	f->qsbr = conf->qsbr;
	f->nbytes = conf->family == 4 ? 4 : 16;
	f->max_level = conf->family == 4 ? 2 : MAX_LEVEL;
	f->max_routes = conf->max_routes ? conf->max_routes : UINT32_MAX;
	f->rd.family = conf->family;
	atomic_init(&f->rd.hot, 1);

	uint64_t mem = conf->max_mem;
	if (mem == 0) {
		uint64_t routes = conf->max_routes ? conf->max_routes : DEFAULT_ROUTES;
		mem = routes * (conf->family == 4 ? MEM_PER_V4 : MEM_PER_V6);
		if (mem < MIN_MEM)
			mem = MIN_MEM;
	}
	uint64_t lines = mem / FIB_LINE;
	if (lines > MAX_LINES)
		lines = MAX_LINES;
	if (lines < 2 * MAX_CLASS)
		lines = 2 * MAX_CLASS;
	f->arena_lines = (uint32_t)lines;
	f->arena_size = huge_round(lines * FIB_LINE);
	f->bump = 1; /* line 0 is "no node" */
	f->arena = map(f->arena_size);
	int ret_rc = retire_init(&f->ret, f->qsbr, lines);
	f->rd.root = map(ROOT_MAP);
	f->root_pfx = calloc(ROOT_PFX, sizeof(uint32_t));
	f->painted = calloc(ROOT_SLOTS, sizeof(uint32_t));
	f->plen1 = calloc(ROOT_SLOTS, 1);
	f->child = calloc(ROOT_SLOTS, sizeof(struct region *));
	f->rdirty = calloc(ROOT_SLOTS, sizeof(uint16_t));
	f->rdflag = calloc(ROOT_SLOTS, 1);
	if (f->arena == NULL || ret_rc < 0 || f->rd.root == NULL || f->root_pfx == NULL ||
	    f->painted == NULL || f->plen1 == NULL || f->child == NULL || f->rdirty == NULL ||
	    f->rdflag == NULL) {
		fib_free(f);
		errno = ENOMEM;
		return NULL;
	}
	f->rd.lines = f->arena;
	return f;
}

static void
free_region(struct region *r)
{
	for (unsigned i = 0; i < r->nkid; i++)
		free_region(r->kid[i]);
	free(r->pfx);
	free(r->kslot);
	free(r->kid);
	free(r);
}

void
fib_free(struct fib *f)
{
	if (f == NULL)
		return;
	if (f->child != NULL)
		for (unsigned s = 0; s < ROOT_SLOTS; s++)
			if (f->child[s] != NULL)
				free_region(f->child[s]);
	for (unsigned l = 0; l <= MAX_LEVEL; l++)
		free(f->dirty[l].v);
	if (f->arena != NULL)
		munmap(f->arena, f->arena_size);
	retire_fini(&f->ret);
	if (f->rd.root != NULL)
		munmap((void *)f->rd.root, ROOT_MAP);
	free(f->root_pfx);
	free(f->painted);
	free(f->plen1);
	free(f->child);
	free(f->rdirty);
	free(f->rdflag);
	free(f);
}
