/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB under real concurrency: reader pthreads look up addresses while the writer churns
 * routes and reclaims nodes through an rte_rcu_qsbr (no EAL).
 *
 * Each group has one static covering route and a few churned prefixes nested inside it
 * (lengths from /15 to /32, or /20 to /128). A churned prefix k is only ever absent or set
 * to one of its two values 2k+1, 2k+2. So a lookup of address a may legally return the
 * static value or one of the two values of any churned prefix that covers a; anything else
 * (a torn node, a freed node read after reclaim: freed entries are poisoned) is an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

#include "npr/util.h"
#include "fib.h"
#include "ref.h"

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

#define NREADERS 2
#define NGROUPS 48
#define NCHURN 12
#define STATIC_VAL 1000000u
#define RUN_NS (3ull * 1000000000ull)

struct churn {
	uint8_t p[16];
	uint8_t plen;
	uint8_t state; /* writer only: 0 absent, 1 or 2 = which value */
};

struct group {
	uint8_t p[16]; /* static cover */
	uint8_t plen;
	struct churn c[NCHURN];
};

struct ctx {
	int family;
	unsigned nbytes;
	struct fib *f;
	struct rte_rcu_qsbr *q;
	struct group g[NGROUPS];
	atomic_bool stop;
	atomic_uint_fast64_t lookups;
	atomic_uint_fast64_t errors;
};

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint32_t
churn_val(unsigned g, unsigned k, unsigned which)
{
	return 2 * (g * NCHURN + k) + which; /* which: 1 or 2 */
}

/* Random address inside p/plen. */
static void
addr_in(const uint8_t *p, unsigned plen, unsigned nbytes, uint64_t *s, uint8_t *a)
{
	memset(a, 0, 16);
	for (unsigned i = 0; i < nbytes; i++)
		a[i] = (uint8_t)rnd(s);
	for (unsigned b = 0; b < plen; b++) {
		uint8_t bit = (uint8_t)(0x80u >> (b % 8));
		a[b / 8] = (uint8_t)((a[b / 8] & ~bit) | (p[b / 8] & bit));
	}
}

static bool
legal(const struct ctx *c, unsigned g, const uint8_t *a, uint32_t v)
{
	if (v == STATIC_VAL + g)
		return true;
	for (unsigned k = 0; k < NCHURN; k++) {
		const struct churn *ch = &c->g[g].c[k];
		if ((v == churn_val(g, k, 1) || v == churn_val(g, k, 2)) &&
		    ref_covers(ch->p, ch->plen, a))
			return true;
	}
	return false;
}

static uint32_t
lookup(const struct ctx *c, const uint8_t *a)
{
	if (c->family == 4)
		return fib4_lookup(c->f, ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) |
						 ((uint32_t)a[2] << 8) | a[3]);
	return fib6_lookup(c->f, a);
}

struct reader_arg {
	struct ctx *c;
	unsigned id;
};

static void *
reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct ctx *c = ra->c;
	uint64_t seed = 0x1234567ull + ra->id * 7919, n = 0, err = 0;
	enum { B = 32 };
	uint8_t a[B][16];
	unsigned grp[B];
	uint32_t val[B];

	rte_rcu_qsbr_thread_register(c->q, ra->id);
	rte_rcu_qsbr_thread_online(c->q, ra->id);
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		for (unsigned i = 0; i < B; i++) {
			unsigned g = (unsigned)(rnd(&seed) % NGROUPS);
			unsigned k = (unsigned)(rnd(&seed) % (NCHURN + 1));
			const uint8_t *p = k < NCHURN ? c->g[g].c[k].p : c->g[g].p;
			unsigned plen = k < NCHURN ? c->g[g].c[k].plen : c->g[g].plen;
			addr_in(p, plen, c->nbytes, &seed, a[i]);
			grp[i] = g;
		}
		if (n & B) {
			for (unsigned i = 0; i < B; i++)
				val[i] = lookup(c, a[i]);
		} else if (c->family == 4) {
			uint32_t h[B];
			for (unsigned i = 0; i < B; i++)
				h[i] = ((uint32_t)a[i][0] << 24) | ((uint32_t)a[i][1] << 16) |
				       ((uint32_t)a[i][2] << 8) | a[i][3];
			fib4_lookup_levels(c->f, h, val, B); /* the prefetching way, at any size */
		} else {
			const uint8_t *pp[B];
			for (unsigned i = 0; i < B; i++)
				pp[i] = a[i];
			fib6_lookup_bulk(c->f, pp, val, B);
		}
		for (unsigned i = 0; i < B; i++) {
			if (!legal(c, grp[i], a[i], val[i])) {
				if (err < 5)
					fprintf(stderr,
						"reader %u: group %u got illegal value %#x\n",
						ra->id, grp[i], val[i]);
				err++;
			}
		}
		n += B;
		/* Between batches we hold no FIB pointer. */
		rte_rcu_qsbr_quiescent(c->q, ra->id);
	}
	rte_rcu_qsbr_thread_offline(c->q, ra->id);
	rte_rcu_qsbr_thread_unregister(c->q, ra->id);
	atomic_fetch_add(&c->lookups, n);
	atomic_fetch_add(&c->errors, err);
	return NULL;
}

static void
setup_groups(struct ctx *c, uint64_t *s)
{
	static const uint8_t len4[] = { 15, 16, 17, 20, 23, 24, 25, 28, 31, 32 };
	static const uint8_t len6[] = { 21, 24, 32, 40, 47, 48, 56, 64, 100, 127, 128 };
	for (unsigned g = 0; g < NGROUPS; g++) {
		struct group *gr = &c->g[g];
		memset(gr, 0, sizeof(*gr));
		if (c->family == 4) {
			gr->p[0] = 10;
			gr->p[1] = (uint8_t)(g * 4); /* 10.(4g).0.0/14 */
			gr->plen = 14;
		} else {
			gr->p[0] = 0x20;
			gr->p[1] = (uint8_t)g;
			gr->p[2] = 0x10; /* 20gg:1000::/20 */
			gr->plen = 20;
		}
		for (unsigned k = 0; k < NCHURN; k++) {
			struct churn *ch = &gr->c[k];
			bool dup;
			do {
				unsigned plen = c->family == 4 ? len4[rnd(s) % sizeof(len4)]
							       : len6[rnd(s) % sizeof(len6)];
				/* nest: inside an earlier churned prefix half of the time */
				if (k > 0 && (rnd(s) & 1)) {
					const struct churn *o = &gr->c[rnd(s) % k];
					addr_in(o->p, o->plen, c->nbytes, s, ch->p);
				} else {
					addr_in(gr->p, gr->plen, c->nbytes, s, ch->p);
				}
				if (c->family == 6 && (rnd(s) & 1))
					memset(ch->p + 7, 0, 9); /* share deep regions */
				ref_mask(ch->p, plen, 16);
				ch->plen = (uint8_t)plen;
				dup = false;
				for (unsigned j = 0; j < k; j++)
					dup |= gr->c[j].plen == ch->plen &&
					       memcmp(gr->c[j].p, ch->p, 16) == 0;
			} while (dup);
		}
	}
}

/* After the run: exact check against the writer's final state. */
static void
final_check(struct ctx *c, uint64_t *s)
{
	for (unsigned i = 0; i < 20000; i++) {
		unsigned g = (unsigned)(rnd(s) % NGROUPS), k = (unsigned)(rnd(s) % (NCHURN + 1));
		uint8_t a[16];
		const struct group *gr = &c->g[g];
		addr_in(k < NCHURN ? gr->c[k].p : gr->p, k < NCHURN ? gr->c[k].plen : gr->plen,
			c->nbytes, s, a);
		int best = gr->plen;
		uint32_t want = STATIC_VAL + g;
		for (unsigned j = 0; j < NCHURN; j++) {
			const struct churn *ch = &gr->c[j];
			if (ch->state && ch->plen > best && ref_covers(ch->p, ch->plen, a)) {
				best = ch->plen;
				want = churn_val(g, j, ch->state);
			}
		}
		assert_int_equal(lookup(c, a), want);
	}
}

static void
run(int family)
{
	struct ctx *c = calloc(1, sizeof(*c));
	uint64_t seed = 42 + (uint64_t)family;
	assert_non_null(c);
	c->family = family;
	c->nbytes = family == 4 ? 4 : 16;

	size_t qs = rte_rcu_qsbr_get_memsize(NREADERS);
	c->q = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(qs, RTE_CACHE_LINE_SIZE));
	assert_non_null(c->q);
	memset(c->q, 0, qs);
	assert_int_equal(rte_rcu_qsbr_init(c->q, NREADERS), 0);

	struct fib_conf conf = { .family = family, .max_routes = 10000, .qsbr = c->q };
	c->f = fib_create(&conf);
	assert_non_null(c->f);
	setup_groups(c, &seed);
	for (unsigned g = 0; g < NGROUPS; g++)
		assert_int_equal(fib_set(c->f, c->g[g].p, c->g[g].plen, STATIC_VAL + g), 0);
	fib_commit(c->f);

	pthread_t th[NREADERS];
	struct reader_arg ra[NREADERS];
	for (unsigned i = 0; i < NREADERS; i++) {
		ra[i] = (struct reader_arg){ c, i };
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	}

	uint64_t t0 = npr_now_ns(), changes = 0, commits = 0, reclaimed = 0;
	unsigned pending = 0, batch = 1;
	while (npr_now_ns() - t0 < RUN_NS) {
		unsigned g = (unsigned)(rnd(&seed) % NGROUPS), k = (unsigned)(rnd(&seed) % NCHURN);
		struct churn *ch = &c->g[g].c[k];
		unsigned next = (unsigned)(rnd(&seed) % 3);
		if (next == 0) {
			int rc = fib_del(c->f, ch->p, ch->plen);
			assert_int_equal(rc, ch->state ? 0 : -ENOENT);
		} else {
			assert_int_equal(fib_set(c->f, ch->p, ch->plen, churn_val(g, k, next)), 0);
		}
		ch->state = (uint8_t)next;
		changes++;
		if (++pending >= batch) {
			fib_commit(c->f);
			commits++;
			pending = 0;
			batch = (rnd(&seed) & 1) ? 1 : 1 + (unsigned)(rnd(&seed) % 8);
		}
		if ((changes & 7) == 0)
			reclaimed += fib_reclaim(c->f);
	}
	fib_commit(c->f);
	atomic_store(&c->stop, true);
	for (unsigned i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	reclaimed += fib_reclaim(c->f);

	printf("IPv%d: %" PRIu64 " lookups by %d readers, %" PRIu64 " changes, %" PRIu64
	       " commits, %" PRIu64 " nodes reclaimed, %" PRIu64 " illegal results\n",
	       family, (uint64_t)atomic_load(&c->lookups), NREADERS, changes, commits, reclaimed,
	       (uint64_t)atomic_load(&c->errors));
	assert_int_equal(atomic_load(&c->errors), 0);
	assert_true(atomic_load(&c->lookups) > 10000);
	assert_true(reclaimed > 100);
	final_check(c, &seed);

	fib_free(c->f);
	free(c->q);
	free(c);
}

static void
test_concurrent_v4(void **state)
{
	(void)state;
	run(4);
}

static void
test_concurrent_v6(void **state)
{
	(void)state;
	run(6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_v4),
		cmocka_unit_test(test_concurrent_v6),
	};
	(void)SLOW;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
