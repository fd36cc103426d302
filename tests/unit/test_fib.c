/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB unit tests. Every lookup is checked against an independent reference:
 *   - small random tables: a plain array of prefixes scanned linearly (obviously right);
 *   - the real full tables: one hash set of (length, masked prefix) probed longest first.
 * Values of real-table prefixes are a hash of the prefix (see pfx_hash).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "npr/util.h"
#include "fib.h"
#include "ref.h"
#include "retire.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOW 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW 1
#endif
#endif
#ifndef SLOW
#define SLOW 0
#endif

/* --- helpers ------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	return npr_rand(&rng_state);
}

static unsigned
rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

struct pfx {
	uint8_t p[16];
	uint8_t plen;
	uint32_t val;
};

static uint32_t
pfx_hash(const uint8_t *p, unsigned plen)
{
	uint64_t h = 0xcbf29ce484222325ull ^ plen;
	for (unsigned i = 0; i < 16; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	uint32_t v = (uint32_t)h & FIB_VALUE_MAX;
	return v ? v : 1;
}

static uint32_t
v4_host(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Address in p/plen with the host bits from r. */
static void
addr_in(const struct pfx *x, unsigned nbytes, uint8_t *a)
{
	for (unsigned i = 0; i < nbytes; i++)
		a[i] = (uint8_t)rnd();
	for (unsigned i = nbytes; i < 16; i++)
		a[i] = 0;
	for (unsigned i = 0; i < nbytes; i++) {
		if (x->plen >= 8 * (i + 1)) {
			a[i] = x->p[i];
		} else if (x->plen > 8 * i) {
			uint8_t m = (uint8_t)(0xff00u >> (x->plen - 8 * i));
			a[i] = (uint8_t)((x->p[i] & m) | (a[i] & ~m));
		}
	}
}

/* First (last = 0) or last (last = 1) address of a prefix, then step by +-1 if asked. */
static void
addr_edge(const struct pfx *x, unsigned nbytes, int last, int step, uint8_t *a)
{
	memcpy(a, x->p, 16);
	for (unsigned b = x->plen; b < 8 * nbytes; b++)
		if (last)
			a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	if (step > 0) {
		for (int i = (int)nbytes - 1; i >= 0 && ++a[i] == 0; i--)
			;
	} else if (step < 0) {
		for (int i = (int)nbytes - 1; i >= 0 && a[i]-- == 0; i--)
			;
	}
}

/* --- linear reference ---------------------------------------------------------------- */

struct lref {
	struct pfx *v;
	unsigned n, cap;
	unsigned nbytes;
};

static int
lref_find(const struct lref *r, const uint8_t *p, unsigned plen)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->v[i].plen == plen && memcmp(r->v[i].p, p, r->nbytes) == 0)
			return (int)i;
	return -1;
}

static void
lref_set(struct lref *r, const uint8_t *p, unsigned plen, uint32_t val)
{
	int i = lref_find(r, p, plen);
	if (i >= 0) {
		r->v[i].val = val;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	memcpy(r->v[r->n].p, p, r->nbytes);
	r->v[r->n].plen = (uint8_t)plen;
	r->v[r->n].val = val;
	r->n++;
}

static void
lref_del(struct lref *r, unsigned i)
{
	r->v[i] = r->v[--r->n];
}

static uint32_t
lref_lookup(const struct lref *r, const uint8_t *a)
{
	int best = -1;
	uint32_t v = 0;
	for (unsigned i = 0; i < r->n; i++) {
		if ((int)r->v[i].plen > best && ref_covers(r->v[i].p, r->v[i].plen, a)) {
			best = r->v[i].plen;
			v = r->v[i].val;
		}
	}
	return v;
}

/* --- hash reference (full tables) ----------------------------------------------------- */

struct href {
	struct pfx *t; /* val 0: empty or deleted (key kept) */
	uint8_t *used;
	size_t cap;
	unsigned nbytes;
	unsigned nlen;
	uint8_t lens[129]; /* lengths ever present, longest first */
	uint8_t has_len[129];
};

static size_t
href_slot(const struct href *h, const uint8_t *p, unsigned plen)
{
	uint64_t x = pfx_hash(p, plen) * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(x >> 17) & (h->cap - 1);
	while (h->used[i] && (h->t[i].plen != plen || memcmp(h->t[i].p, p, 16) != 0))
		i = (i + 1) & (h->cap - 1);
	return i;
}

static void
href_init(struct href *h, size_t n, unsigned nbytes)
{
	memset(h, 0, sizeof(*h));
	h->cap = 1;
	while (h->cap < 2 * n)
		h->cap <<= 1;
	h->t = calloc(h->cap, sizeof(*h->t));
	h->used = calloc(h->cap, 1);
	h->nbytes = nbytes;
	assert_non_null(h->t);
	assert_non_null(h->used);
}

static void
href_set(struct href *h, const uint8_t *p, unsigned plen, uint32_t val)
{
	size_t i = href_slot(h, p, plen);
	if (!h->used[i]) {
		h->used[i] = 1;
		memcpy(h->t[i].p, p, 16);
		h->t[i].plen = (uint8_t)plen;
	}
	h->t[i].val = val;
	if (!h->has_len[plen]) {
		h->has_len[plen] = 1;
		h->nlen = 0;
		for (int l = 128; l >= 0; l--)
			if (h->has_len[l])
				h->lens[h->nlen++] = (uint8_t)l;
	}
}

static uint32_t
href_lookup(const struct href *h, const uint8_t *a)
{
	for (unsigned k = 0; k < h->nlen; k++) {
		uint8_t p[16];
		memcpy(p, a, 16);
		ref_mask(p, h->lens[k], 16);
		size_t i = href_slot(h, p, h->lens[k]);
		if (h->used[i] && h->t[i].val != 0)
			return h->t[i].val;
	}
	return 0;
}

static void
href_free(struct href *h)
{
	free(h->t);
	free(h->used);
}

/* --- checks -------------------------------------------------------------------------- */

/* Look up n addresses (16-byte buffers) singly and in bulk (IPv4: both ways, fib_hot's and
 * level by level, whatever the table's size); compare with want[]. */
static void
check_addrs(const struct fib *f, int family, uint8_t (*a)[16], const uint32_t *want, unsigned n)
{
	uint32_t got[64];
	for (unsigned i = 0; i < n; i++) {
		uint32_t v = family == 4 ? fib4_lookup(f, v4_host(a[i])) : fib6_lookup(f, a[i]);
		if (v != want[i]) {
			char s[64];
			inet_ntop(family == 4 ? AF_INET : AF_INET6, a[i], s, sizeof(s));
			fail_msg("lookup %s: got %#x want %#x", s, v, want[i]);
		}
	}
	for (unsigned i = 0; i < n;) {
		unsigned k = 1 + rndn(64);
		if (k > n - i)
			k = n - i;
		if (family == 4) {
			uint32_t h[64];
			for (unsigned j = 0; j < k; j++)
				h[j] = v4_host(a[i + j]);
			fib4_lookup_bulk(f, h, got, k);
			for (unsigned j = 0; j < k; j++)
				assert_int_equal(got[j], want[i + j]);
			fib4_lookup_levels(f, h, got, k);
		} else {
			const uint8_t *pp[64];
			for (unsigned j = 0; j < k; j++)
				pp[j] = a[i + j];
			fib6_lookup_bulk(f, pp, got, k);
		}
		for (unsigned j = 0; j < k; j++)
			assert_int_equal(got[j], want[i + j]);
		i += k;
	}
}

/* Random and boundary addresses around prefixes of a linear reference. */
static void
check_lref(const struct fib *f, int family, const struct lref *r, unsigned nrand, unsigned nedge)
{
	enum { B = 64 };
	uint8_t a[B][16];
	uint32_t want[B];
	unsigned nb = family == 4 ? 4 : 16, k = 0;
	for (unsigned i = 0; i < nrand + nedge; i++) {
		if (r->n == 0 || i < nrand / 4) {
			memset(a[k], 0, 16);
			for (unsigned j = 0; j < nb; j++)
				a[k][j] = (uint8_t)rnd();
		} else if (i < nrand) {
			addr_in(&r->v[rndn(r->n)], nb, a[k]);
		} else {
			addr_edge(&r->v[rndn(r->n)], nb, (int)rndn(2), (int)rndn(3) - 1, a[k]);
		}
		want[k] = lref_lookup(r, a[k]);
		if (++k == B) {
			check_addrs(f, family, a, want, k);
			k = 0;
		}
	}
	check_addrs(f, family, a, want, k);
}

/* --- random tables ------------------------------------------------------------------- */

static unsigned
rand_len(int family)
{
	unsigned x = rndn(100);
	if (family == 4) {
		if (x < 3)
			return rndn(8);
		if (x < 40)
			return 8 + rndn(25);
		if (x < 70)
			return 16 + rndn(9);
		return 20 + rndn(13);
	}
	if (x < 2)
		return rndn(16);
	if (x < 8)
		return 128;
	if (x < 50)
		return 16 + rndn(49);
	if (x < 90)
		return 28 + rndn(21);
	return 64 + rndn(65);
}

/* Random prefix near existing ones: clustered bases, nesting by extension or truncation. */
static void
rand_pfx(int family, const struct lref *r, const uint8_t (*bases)[16], struct pfx *x)
{
	unsigned nb = family == 4 ? 4 : 16;
	unsigned plen = rand_len(family);
	unsigned how = rndn(10);
	memset(x, 0, sizeof(*x));
	if (r->n > 0 && how < 5) {
		/* nested: inside or around an existing prefix */
		addr_in(&r->v[rndn(r->n)], nb, x->p);
	} else {
		memcpy(x->p, bases[rndn(8)], 16);
		unsigned from = how < 8 ? (family == 4 ? 16 : 32) : 0;
		for (unsigned b = from; b < 8 * nb; b++)
			if (rnd() & 1)
				x->p[b / 8] ^= (uint8_t)(0x80u >> (b % 8));
	}
	ref_mask(x->p, plen, nb);
	x->plen = (uint8_t)plen;
}

static uint32_t
rand_val(void)
{
	static const uint32_t special[] = { 1, 0x40000005, 0x20000000, FIB_VALUE_MAX, 0x7ffffffe };
	if (rndn(10) == 0)
		return special[rndn(5)];
	return 1 + rndn(FIB_VALUE_MAX);
}

static void
random_family(int family, unsigned steps)
{
	struct fib_conf c = { .family = family, .max_routes = 100000 };
	struct fib *f = fib_create(&c);
	struct lref r = { .nbytes = family == 4 ? 4 : 16 };
	uint8_t bases[8][16];
	assert_non_null(f);
	memset(bases, 0, sizeof(bases));
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < r.nbytes; j++)
			bases[i][j] = (uint8_t)rnd();
	/* two bases share a /16 with another, so level-1 regions fill up */
	memcpy(bases[1], bases[0], 2);
	memcpy(bases[3], bases[2], family == 4 ? 3 : 6);

	for (unsigned step = 0; step < steps; step++) {
		unsigned op = rndn(100);
		/* grow first, then hover around a steady size */
		unsigned target = steps / 8;
		if (r.n == 0 || op < (r.n < target ? 60u : 35u)) {
			struct pfx x;
			rand_pfx(family, &r, (const uint8_t(*)[16])bases, &x);
			x.val = rand_val();
			assert_int_equal(fib_set(f, x.p, x.plen, x.val), 0);
			lref_set(&r, x.p, x.plen, x.val);
		} else if (op < 70) {
			unsigned i = rndn(r.n);
			uint32_t v = rand_val();
			assert_int_equal(fib_set(f, r.v[i].p, r.v[i].plen, v), 0);
			r.v[i].val = v;
		} else {
			unsigned i = rndn(r.n);
			assert_int_equal(fib_del(f, r.v[i].p, r.v[i].plen), 0);
			assert_int_equal(fib_del(f, r.v[i].p, r.v[i].plen), -ENOENT);
			lref_del(&r, i);
		}
		if (rndn(16) == 0) {
			fib_commit(f);
			assert_int_equal(fib_count(f), r.n);
			check_lref(f, family, &r, 24, 16);
		}
	}
	fib_commit(f);
	check_lref(f, family, &r, SLOW ? 5000 : 20000, SLOW ? 5000 : 20000);
	for (unsigned i = 0; i < r.n; i++) {
		uint32_t v;
		assert_int_equal(fib_get(f, r.v[i].p, r.v[i].plen, &v), 0);
		assert_int_equal(v, r.v[i].val);
	}

	/* delete everything: the structure shrinks back to the root */
	while (r.n > 0) {
		unsigned i = rndn(r.n);
		assert_int_equal(fib_del(f, r.v[i].p, r.v[i].plen), 0);
		lref_del(&r, i);
		if (rndn(64) == 0) {
			fib_commit(f);
			check_lref(f, family, &r, 16, 16);
		}
	}
	fib_commit(f);
	assert_int_equal(fib_count(f), 0);
	assert_int_equal(fib_mem_bytes(f), 65536 * 4);
	check_lref(f, family, &r, 1000, 0);
	free(r.v);
	fib_free(f);
}

static void
test_random_v4(void **state)
{
	(void)state;
	random_family(4, SLOW ? 20000 : 60000);
}

static void
test_random_v6(void **state)
{
	(void)state;
	random_family(6, SLOW ? 20000 : 60000);
}

/* --- edge cases ---------------------------------------------------------------------- */

static struct fib *
mk(int family, uint32_t max_routes, uint64_t max_mem)
{
	struct fib_conf c = { .family = family, .max_routes = max_routes, .max_mem = max_mem };
	struct fib *f = fib_create(&c);
	assert_non_null(f);
	return f;
}

static int
set4(struct fib *f, const char *s, unsigned plen, uint32_t v)
{
	uint8_t b[4];
	assert_int_equal(inet_pton(AF_INET, s, b), 1);
	return fib_set(f, b, (uint8_t)plen, v);
}

static int
del4(struct fib *f, const char *s, unsigned plen)
{
	uint8_t b[4];
	assert_int_equal(inet_pton(AF_INET, s, b), 1);
	return fib_del(f, b, (uint8_t)plen);
}

static uint32_t
lk4(struct fib *f, const char *s)
{
	uint8_t b[4];
	assert_int_equal(inet_pton(AF_INET, s, b), 1);
	return fib4_lookup(f, v4_host(b));
}

static int
set6(struct fib *f, const char *s, unsigned plen, uint32_t v)
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	return fib_set(f, b, (uint8_t)plen, v);
}

static int
del6(struct fib *f, const char *s, unsigned plen)
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	return fib_del(f, b, (uint8_t)plen);
}

static uint32_t
lk6(struct fib *f, const char *s)
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	return fib6_lookup(f, b);
}

static void
test_edges_v4(void **state)
{
	(void)state;
	struct fib *f = mk(4, 1000, 0);

	assert_int_equal(lk4(f, "1.2.3.4"), 0);
	assert_int_equal(set4(f, "0.0.0.0", 0, 7), 0);
	assert_int_equal(lk4(f, "1.2.3.4"), 0); /* not visible before commit */
	fib_commit(f);
	assert_int_equal(lk4(f, "1.2.3.4"), 7);
	assert_int_equal(lk4(f, "255.255.255.255"), 7);

	/* /16 and /17 boundaries */
	assert_int_equal(set4(f, "10.1.0.0", 16, 16), 0);
	assert_int_equal(set4(f, "10.1.0.0", 17, 17), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.0.255.255"), 7);
	assert_int_equal(lk4(f, "10.1.0.0"), 17);
	assert_int_equal(lk4(f, "10.1.127.255"), 17);
	assert_int_equal(lk4(f, "10.1.128.0"), 16);
	assert_int_equal(lk4(f, "10.1.255.255"), 16);
	assert_int_equal(lk4(f, "10.2.0.0"), 7);

	/* host routes and the last route of a region */
	uint64_t mem = fib_mem_bytes(f);
	assert_int_equal(set4(f, "10.1.200.9", 32, 0x40000005), 0);
	assert_int_equal(set4(f, "10.1.200.10", 32, 0x20000000), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.200.9"), 0x40000005);
	assert_int_equal(lk4(f, "10.1.200.10"), 0x20000000);
	assert_int_equal(lk4(f, "10.1.200.8"), 16);
	assert_int_equal(lk4(f, "10.1.200.11"), 16);
	assert_true(fib_mem_bytes(f) > mem);
	assert_int_equal(del4(f, "10.1.200.9", 32), 0);
	assert_int_equal(del4(f, "10.1.200.10", 32), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.200.9"), 16);
	assert_int_equal(fib_mem_bytes(f), mem);

	/* replacing the /16 under a region updates the region's fallback */
	assert_int_equal(set4(f, "10.1.5.0", 24, 24), 0);
	fib_commit(f);
	assert_int_equal(set4(f, "10.1.0.0", 16, 160), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.5.1"), 24);
	assert_int_equal(lk4(f, "10.1.6.1"), 17);
	assert_int_equal(lk4(f, "10.1.130.1"), 160);
	assert_int_equal(del4(f, "10.1.0.0", 16), 0);
	assert_int_equal(del4(f, "0.0.0.0", 0), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.130.1"), 0);
	assert_int_equal(lk4(f, "10.1.5.1"), 24);
	assert_int_equal(lk4(f, "10.1.1.1"), 17);
	assert_int_equal(lk4(f, "1.1.1.1"), 0);

	/* a /24 region that collapses to one leaf: 2 /25 with the same value */
	assert_int_equal(set4(f, "10.1.5.0", 25, 24), 0);
	assert_int_equal(set4(f, "10.1.5.128", 25, 24), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.5.200"), 24);
	assert_int_equal(set4(f, "10.1.5.128", 25, 99), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.5.200"), 99);
	assert_int_equal(lk4(f, "10.1.5.100"), 24);

	/* EINVAL */
	uint8_t b[4] = { 10, 1, 0, 1 };
	assert_int_equal(fib_set(f, b, 33, 1), -EINVAL);
	assert_int_equal(fib_set(f, b, 24, 1), -EINVAL); /* host bits */
	assert_int_equal(fib_del(f, b, 24), -EINVAL);
	assert_int_equal(fib_set(f, b, 32, 0), -EINVAL);
	assert_int_equal(fib_set(f, b, 32, 0x80000000u), -EINVAL);
	assert_int_equal(fib_set(f, b, 32, 0xffffffffu), -EINVAL);
	assert_int_equal(fib_set(f, b, 32, FIB_VALUE_MAX), 0);
	uint8_t z[4] = { 128, 0, 0, 0 };
	assert_int_equal(fib_set(f, z, 0, 1), -EINVAL);
	assert_int_equal(fib_set(f, z, 1, 1), 0);

	/* ENOENT */
	assert_int_equal(del4(f, "10.9.0.0", 16), -ENOENT);
	assert_int_equal(del4(f, "10.1.5.0", 26), -ENOENT);
	assert_int_equal(del4(f, "10.1.0.0", 16), -ENOENT);
	uint32_t v;
	assert_int_equal(fib_get(f, b, 32, &v), 0);
	assert_int_equal(v, FIB_VALUE_MAX);
	assert_int_equal(fib_get(f, b, 31, &v), -EINVAL);
	b[3] = 0;
	assert_int_equal(fib_get(f, b, 31, &v), -ENOENT);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.1.0.1"), FIB_VALUE_MAX);
	assert_int_equal(lk4(f, "200.1.0.1"), 1);
	fib_free(f);

	fib_free(NULL);
	struct fib_conf bad = { .family = 5 };
	errno = 0;
	assert_null(fib_create(&bad));
	assert_int_equal(errno, EINVAL);
}

static void
test_edges_v6(void **state)
{
	(void)state;
	struct fib *f = mk(6, 1000, 0);

	assert_int_equal(set6(f, "::", 0, 1), 0);
	assert_int_equal(set6(f, "2001:db8::", 32, 32), 0);
	assert_int_equal(set6(f, "2001:db8::1", 128, 128), 0);
	assert_int_equal(set6(f, "2001:db8::", 127, 127), 0);
	assert_int_equal(set6(f, "2001::", 16, 16), 0);
	assert_int_equal(set6(f, "2001:8000::", 17, 17), 0);
	fib_commit(f);
	assert_int_equal(lk6(f, "::1"), 1);
	assert_int_equal(lk6(f, "2001:db8::1"), 128);
	assert_int_equal(lk6(f, "2001:db8::"), 127);
	assert_int_equal(lk6(f, "2001:db8::2"), 32);
	assert_int_equal(lk6(f, "2001:db9::"), 16);
	assert_int_equal(lk6(f, "2001:7fff::"), 16);
	assert_int_equal(lk6(f, "2001:8000::"), 17);
	assert_int_equal(lk6(f, "2001:ffff:ffff::"), 17);
	assert_int_equal(lk6(f, "2002::"), 1);

	uint64_t mem = fib_mem_bytes(f);
	assert_int_equal(set6(f, "2001:db8:1:2:3:4:5:6", 128, 5), 0);
	fib_commit(f);
	assert_int_equal(lk6(f, "2001:db8:1:2:3:4:5:6"), 5);
	assert_int_equal(lk6(f, "2001:db8:1:2:3:4:5:7"), 32);
	assert_true(fib_mem_bytes(f) > mem);
	assert_int_equal(del6(f, "2001:db8:1:2:3:4:5:6", 128), 0);
	fib_commit(f);
	assert_int_equal(lk6(f, "2001:db8:1:2:3:4:5:6"), 32);
	assert_int_equal(fib_mem_bytes(f), mem);

	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	assert_int_equal(fib_set(f, b, 129, 1), -EINVAL);
	b[15] = 1;
	assert_int_equal(fib_set(f, b, 120, 1), -EINVAL);
	assert_int_equal(fib_set(f, b, 128, 0), -EINVAL);
	assert_int_equal(del6(f, "2001:db8::1", 127), -EINVAL);
	assert_int_equal(del6(f, "2001:db8::", 48), -ENOENT);
	assert_int_equal(del6(f, "2001:db8::", 32), 0);
	assert_int_equal(del6(f, "2001:db8::", 32), -ENOENT);
	fib_commit(f);
	assert_int_equal(lk6(f, "2001:db8::2"), 16);
	fib_free(f);
}

static void
test_enospc(void **state)
{
	(void)state;
	/* max_routes */
	struct fib *f = mk(4, 10, 0);
	char s[32];
	for (unsigned i = 0; i < 10; i++) {
		snprintf(s, sizeof(s), "10.%u.0.0", i);
		assert_int_equal(set4(f, s, 24, i + 1), 0);
	}
	assert_int_equal(set4(f, "10.99.0.0", 24, 1), -ENOSPC);
	assert_int_equal(set4(f, "10.0.0.0", 24, 99), 0); /* replace still fine */
	assert_int_equal(del4(f, "10.1.0.0", 24), 0);
	assert_int_equal(set4(f, "10.99.0.0", 24, 1), 0);
	fib_commit(f);
	assert_int_equal(lk4(f, "10.99.0.1"), 1);
	assert_int_equal(lk4(f, "10.0.0.1"), 99);
	fib_free(f);

	/* max_mem: a tiny arena refuses in fib_set, and what was accepted commits correctly */
	for (int fam = 4; fam <= 6; fam += 2) {
		struct lref r = { .nbytes = fam == 4 ? 4 : 16 };
		f = mk(fam, 0, 64 * 1024);
		int rc = 0;
		unsigned n = 0;
		while (rc == 0 && n < 100000) {
			struct pfx x;
			memset(&x, 0, sizeof(x));
			for (unsigned j = 0; j < 3; j++)
				x.p[j] = (uint8_t)rnd();
			x.p[3] = (uint8_t)(rnd() & 0xf0);
			x.plen = 28;
			x.val = 1 + rndn(1000);
			rc = fib_set(f, x.p, x.plen, x.val);
			if (rc == 0) {
				lref_set(&r, x.p, x.plen, x.val);
				n++;
				if (rndn(50) == 0)
					fib_commit(f);
			}
		}
		assert_int_equal(rc, -ENOSPC);
		assert_true(n > 50);
		fib_commit(f);
		fib_reclaim(f);
		check_lref(f, fam, &r, 2000, 2000);
		/* replace and delete still work at the limit */
		r.v[1].val = 4242;
		assert_int_equal(fib_set(f, r.v[1].p, r.v[1].plen, 4242), 0);
		for (unsigned i = 0; i < 10; i++) {
			assert_int_equal(fib_del(f, r.v[0].p, r.v[0].plen), 0);
			lref_del(&r, 0);
		}
		fib_commit(f);
		check_lref(f, fam, &r, 2000, 2000);
		free(r.v);
		fib_free(f);
	}
}

struct walk_ctx {
	struct lref seen;
	unsigned calls, stop_at;
};

static int
walk_cb(void *ctx, const uint8_t *p, uint8_t plen, uint32_t v)
{
	struct walk_ctx *w = ctx;
	assert_true(lref_find(&w->seen, p, plen) < 0); /* no duplicates */
	lref_set(&w->seen, p, plen, v);
	if (++w->calls == w->stop_at)
		return 42;
	return 0;
}

static void
test_walk(void **state)
{
	(void)state;
	for (int fam = 4; fam <= 6; fam += 2) {
		struct fib *f = mk(fam, 0, 0);
		struct lref r = { .nbytes = fam == 4 ? 4 : 16 };
		uint8_t bases[8][16];
		memset(bases, 0, sizeof(bases));
		for (unsigned i = 0; i < 8; i++)
			for (unsigned j = 0; j < r.nbytes; j++)
				bases[i][j] = (uint8_t)rnd();
		for (unsigned i = 0; i < 3000; i++) {
			struct pfx x;
			rand_pfx(fam, &r, (const uint8_t(*)[16])bases, &x);
			x.val = rand_val();
			assert_int_equal(fib_set(f, x.p, x.plen, x.val), 0);
			lref_set(&r, x.p, x.plen, x.val);
			if (i % 5 == 0) {
				unsigned k = rndn(r.n);
				assert_int_equal(fib_del(f, r.v[k].p, r.v[k].plen), 0);
				lref_del(&r, k);
			}
			if (i == 1500)
				fib_commit(f);
		}
		/* pending changes included */
		struct walk_ctx w = { .seen = { .nbytes = r.nbytes } };
		assert_int_equal(fib_walk(f, walk_cb, &w), 0);
		assert_int_equal(w.seen.n, r.n);
		assert_int_equal(fib_count(f), r.n);
		for (unsigned i = 0; i < r.n; i++) {
			int k = lref_find(&w.seen, r.v[i].p, r.v[i].plen);
			assert_true(k >= 0);
			assert_int_equal(w.seen.v[k].val, r.v[i].val);
		}
		free(w.seen.v);
		struct walk_ctx w2 = { .seen = { .nbytes = r.nbytes }, .stop_at = 10 };
		assert_int_equal(fib_walk(f, walk_cb, &w2), 42);
		assert_int_equal(w2.calls, 10);
		free(w2.seen.v);
		free(r.v);
		fib_free(f);
	}
}

/* --- real tables ------------------------------------------------------------------- */

static int
load_file(const char *name, int family, struct pfx **out, unsigned *n)
{
	const char *dir = getenv("NPR_DATA_DIR");
	char path[4096], line[256];
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/data", name);
	gzFile gz = gzopen(path, "rb");
	if (gz == NULL)
		return -ENOENT;
	unsigned cap = 1 << 18;
	struct pfx *v = malloc(cap * sizeof(*v));
	assert_non_null(v);
	*n = 0;
	while (gzgets(gz, line, sizeof(line)) != NULL) {
		char *slash = strchr(line, '/');
		if (slash == NULL)
			continue;
		*slash = 0;
		if (*n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		struct pfx *x = &v[*n];
		memset(x, 0, sizeof(*x));
		assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, line, x->p), 1);
		x->plen = (uint8_t)atoi(slash + 1);
		x->val = pfx_hash(x->p, x->plen);
		(*n)++;
	}
	gzclose(gz);
	*out = v;
	return 0;
}

static void
check_href(const struct fib *f, int family, const struct href *h, const struct pfx *v, unsigned n,
	   unsigned nlook)
{
	enum { B = 64 };
	uint8_t a[B][16];
	uint32_t want[B];
	unsigned nb = family == 4 ? 4 : 16, k = 0;
	for (unsigned i = 0; i < nlook; i++) {
		unsigned what = rndn(10);
		if (what < 2) {
			memset(a[k], 0, 16);
			for (unsigned j = 0; j < nb; j++)
				a[k][j] = (uint8_t)rnd();
		} else if (what < 7) {
			addr_in(&v[rndn(n)], nb, a[k]);
		} else {
			addr_edge(&v[rndn(n)], nb, (int)rndn(2), (int)rndn(3) - 1, a[k]);
		}
		want[k] = href_lookup(h, a[k]);
		if (++k == B) {
			check_addrs(f, family, a, want, k);
			k = 0;
		}
	}
	check_addrs(f, family, a, want, k);
}

static void
full_table(int family, const char *file)
{
	struct pfx *v;
	unsigned n;
	if (load_file(file, family, &v, &n) < 0) {
		printf("skipping: %s not found (set NPR_DATA_DIR)\n", file);
		skip();
	}
	unsigned nlook = SLOW ? 60000 : 400000;
	struct fib *f = mk(family, 2000000, 0);
	struct href h;
	href_init(&h, n, 16);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(fib_set(f, v[i].p, v[i].plen, v[i].val), 0);
		href_set(&h, v[i].p, v[i].plen, v[i].val);
	}
	fib_commit(f);
	assert_int_equal(fib_count(f), n);
	printf("%s: %u prefixes, %.1f bytes/prefix\n", file, n, (double)fib_mem_bytes(f) / n);
	check_href(f, family, &h, v, n, nlook);

	/* shuffle, delete a random half, replace a random quarter, commits now and then */
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = rndn(i + 1);
		struct pfx t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (unsigned i = 0; i < n / 2; i++) {
		assert_int_equal(fib_del(f, v[i].p, v[i].plen), 0);
		href_set(&h, v[i].p, v[i].plen, 0);
		if (i % 9973 == 0)
			fib_commit(f);
	}
	for (unsigned i = n / 2; i < n / 2 + n / 4; i++) {
		v[i].val = 1 + rndn(FIB_VALUE_MAX);
		assert_int_equal(fib_set(f, v[i].p, v[i].plen, v[i].val), 0);
		href_set(&h, v[i].p, v[i].plen, v[i].val);
		if (i % 7919 == 0)
			fib_commit(f);
	}
	fib_commit(f);
	assert_int_equal(fib_count(f), n - n / 2);
	check_href(f, family, &h, v, n, nlook);

	/* one at a time with a commit each */
	for (unsigned i = 0; i < (SLOW ? 2000u : 20000u); i++) {
		unsigned k = rndn(n);
		if (k < n / 2) {
			uint32_t val = 1 + rndn(FIB_VALUE_MAX);
			int rc = fib_set(f, v[k].p, v[k].plen, val);
			assert_int_equal(rc, 0);
			href_set(&h, v[k].p, v[k].plen, val);
		} else {
			int rc = fib_del(f, v[k].p, v[k].plen);
			uint8_t key[16];
			memcpy(key, v[k].p, 16);
			size_t s = href_slot(&h, key, v[k].plen);
			assert_int_equal(rc, h.t[s].val ? 0 : -ENOENT);
			href_set(&h, v[k].p, v[k].plen, 0);
		}
		fib_commit(f);
	}
	check_href(f, family, &h, v, n, nlook / 4);

	/* everything out: back to the bare root */
	for (unsigned i = 0; i < n; i++)
		fib_del(f, v[i].p, v[i].plen);
	fib_commit(f);
	assert_int_equal(fib_count(f), 0);
	assert_int_equal(fib_mem_bytes(f), 65536 * 4);
	href_free(&h);
	free(v);
	fib_free(f);
}

static void
test_full_v4(void **state)
{
	(void)state;
	full_table(4, "ipv4-full-table.txt.gz");
}

static void
test_full_v6(void **state)
{
	(void)state;
	full_table(6, "ipv6-full-table.txt.gz");
}

/* The FIB's retire queue is sized for every line of the arena: a queue that keeps being
 * emptied must keep using its first entries, not run round the whole ring (which touched all
 * of it, tens of MiB of RSS, under steady route churn). FIFO order and the values are kept. */
static void
test_retire_restart(void **state)
{
	(void)state;
	struct retire r;
	uint64_t v;
	assert_int_equal(retire_init(&r, NULL, 1u << 20), 0);
	for (uint64_t round = 0; round < 1000; round++) {
		for (uint64_t i = 0; i < 100; i++)
			retire_push(&r, round * 100 + i);
		assert_int_equal(retire_pop(&r, &v, false), -EAGAIN); /* not stamped yet */
		retire_stamp(&r);
		for (uint64_t i = 0; i < 60; i++) {
			assert_int_equal(retire_pop(&r, &v, false), 0);
			assert_int_equal(v, round * 100 + i);
		}
		retire_push_done(&r, 7); /* behind the stamped ones, done at once */
		for (uint64_t i = 60; i < 100; i++) {
			assert_int_equal(retire_pop(&r, &v, false), 0);
			assert_int_equal(v, round * 100 + i);
		}
		assert_int_equal(retire_pop(&r, &v, false), 0);
		assert_int_equal(v, 7);
		assert_int_equal(retire_pop(&r, &v, false), -ENOENT);
		assert_int_equal(r.tail, 0); /* emptied: back at the start */
	}
	/* never emptied: positions go on, and the ring wraps as before */
	for (uint64_t i = 0; i < 3 * r.cap; i++) {
		retire_push_done(&r, i);
		if (i > 0) {
			assert_int_equal(retire_pop(&r, &v, false), 0);
			assert_int_equal(v, i - 1);
		}
	}
	assert_int_equal(retire_count(&r), 1);
	retire_fini(&r);
}

/* fib_hot follows the published nodes: set while they take at most FIB_HOT_LINES lines,
 * clear beyond, set again once routes are gone; lookups agree either way. A /24 alone in
 * its /16 takes one node line. */
static void
test_hot(void **state)
{
	(void)state;
	struct fib_conf c = { .family = 4 };
	struct fib *f = fib_create(&c);
	unsigned n = FIB_HOT_LINES + 100;
	assert_non_null(f);
	assert_true(fib_hot(f));
	for (unsigned i = 0; i < n; i++) {
		uint8_t p[4] = { (uint8_t)(i >> 8), (uint8_t)i, 7, 0 };
		assert_int_equal(fib_set(f, p, 24, i + 1), 0);
		if (i + 1 == FIB_HOT_LINES || i == FIB_HOT_LINES) { /* the boundary */
			assert_true(fib_hot(f));		    /* not published yet */
			fib_commit(f);
			assert_int_equal(fib_hot(f), i + 1 == FIB_HOT_LINES);
		}
	}
	fib_commit(f);
	assert_false(fib_hot(f));
	for (unsigned i = 0; i < n; i += 97) {
		uint32_t a[2] = { i << 16 | 7u << 8 | 9, i << 16 | 8u << 8 }, v[2];
		fib4_lookup_bulk(f, a, v, 2);
		assert_int_equal(v[0], i + 1);
		assert_int_equal(v[1], 0);
	}
	for (unsigned i = 0; i < 200; i++) {
		uint8_t p[4] = { (uint8_t)(i >> 8), (uint8_t)i, 7, 0 };
		assert_int_equal(fib_del(f, p, 24), 0);
	}
	fib_commit(f);
	assert_true(fib_hot(f));
	for (unsigned i = 0; i < n; i += 97) {
		uint32_t a[2] = { i << 16 | 7u << 8 | 9, i << 16 | 8u << 8 }, v[2];
		fib4_lookup_bulk(f, a, v, 2);
		assert_int_equal(v[0], i < 200 ? 0 : i + 1);
		assert_int_equal(v[1], 0);
	}
	fib_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges_v4),       cmocka_unit_test(test_edges_v6),
		cmocka_unit_test(test_enospc),	       cmocka_unit_test(test_walk),
		cmocka_unit_test(test_random_v4),      cmocka_unit_test(test_random_v6),
		cmocka_unit_test(test_full_v4),	       cmocka_unit_test(test_full_v6),
		cmocka_unit_test(test_retire_restart), cmocka_unit_test(test_hot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
