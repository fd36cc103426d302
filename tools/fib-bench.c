/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fib-bench: load a prefix file (one "prefix/len" a line, optional trailing fields, .gz ok)
 * into our FIB and, unless --no-dpdk, into rte_lpm/rte_fib (IPv4) or rte_lpm6/rte_fib6
 * (IPv6); print one line per structure:
 *   load time (set loop + commit), routes/s, memory and bytes/prefix,
 *   lookup rate single and bulk-32 over 1M destinations (random host bits inside a random
 *   prefix of the table; ours through fib4_lookup_bulk / fib6_lookup_bulk, which for a hot
 *   IPv4 FIB, fib.h FIB_HOT_LINES, are single lookups: the full tables are not hot),
 *   single-update rate (replace the value of a random existing prefix; delete + re-add),
 *   each update made visible (fib_commit) on its own.
 * Next hops: a hash of the prefix, 1..2^20 (fits every structure's next-hop width).
 * Memory: ours is fib_mem_bytes (root + live nodes, no RIB); DPDK's is the rte_malloc heap
 * growth, which includes their RIB and preallocated tables.
 *
 * usage: fib-bench [--no-dpdk] [--updates N] FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <rte_eal.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "npr/util.h"
#include "fib.h"

#define NDST (1u << 20)
#define BULK 32u
#define NH_MAX (1u << 20)

struct pfx {
	uint8_t p[16];
	uint8_t plen;
	uint32_t nh;
};

struct table {
	int family;
	struct pfx *v;
	unsigned n;
	uint32_t *dst4;	     /* NDST host-order IPv4 destinations */
	uint8_t (*dst6)[16]; /* NDST IPv6 destinations */
	uint32_t *want;	     /* our FIB's answers, to cross-check the others */
	unsigned nupd;
};

struct result {
	const char *name;
	double load_s;
	uint64_t mem;
	double single_mlps, bulk_mlps;
	double replace_kups, deladd_kups;
	uint64_t mismatches;
	const char *note;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static volatile uint64_t sink; /* keeps lookup loops from being optimised away */

static uint64_t
rnd(void)
{
	return npr_rand(&rng_state);
}

static uint32_t
nh_of(const uint8_t *p, unsigned plen)
{
	uint64_t h = 0xcbf29ce484222325ull ^ plen;
	for (unsigned i = 0; i < 16; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (uint32_t)((h ^ (h >> 31)) % NH_MAX) + 1;
}

static uint32_t
v4(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static int
load_file(const char *path, struct table *t)
{
	char line[512];
	gzFile gz = gzopen(path, "rb");
	if (gz == NULL)
		return -errno;
	unsigned cap = 1 << 16;
	t->v = malloc(cap * sizeof(*t->v));
	t->n = 0;
	t->family = 0;
	while (t->v != NULL && gzgets(gz, line, sizeof(line)) != NULL) {
		char *slash = strchr(line, '/');
		if (slash == NULL)
			continue;
		*slash = 0;
		if (t->family == 0)
			t->family = strchr(line, ':') ? 6 : 4;
		if (t->n == cap) {
			cap *= 2;
			t->v = realloc(t->v, cap * sizeof(*t->v));
			if (t->v == NULL)
				break;
		}
		struct pfx *x = &t->v[t->n];
		memset(x, 0, sizeof(*x));
		if (inet_pton(t->family == 4 ? AF_INET : AF_INET6, line, x->p) != 1) {
			fprintf(stderr, "bad prefix: %s\n", line);
			continue;
		}
		x->plen = (uint8_t)atoi(slash + 1);
		x->nh = nh_of(x->p, x->plen);
		t->n++;
	}
	gzclose(gz);
	return t->v == NULL ? -ENOMEM : 0;
}

static void
make_dsts(struct table *t)
{
	unsigned nb = t->family == 4 ? 4 : 16;
	uint8_t a[16];
	if (t->family == 4)
		t->dst4 = malloc(NDST * sizeof(uint32_t));
	else
		t->dst6 = malloc(NDST * sizeof(*t->dst6));
	t->want = malloc(NDST * sizeof(uint32_t));
	if ((t->dst4 == NULL && t->dst6 == NULL) || t->want == NULL)
		abort();
	for (unsigned i = 0; i < NDST; i++) {
		const struct pfx *x = &t->v[rnd() % t->n];
		for (unsigned j = 0; j < 16; j++)
			a[j] = j < nb ? (uint8_t)rnd() : 0;
		for (unsigned b = 0; b < x->plen; b++) {
			uint8_t bit = (uint8_t)(0x80u >> (b % 8));
			a[b / 8] = (uint8_t)((a[b / 8] & ~bit) | (x->p[b / 8] & bit));
		}
		if (t->family == 4)
			t->dst4[i] = v4(a);
		else
			memcpy(t->dst6[i], a, 16);
	}
}

/* --- ours ---------------------------------------------------------------------------- */

static void
bench_ours(struct table *t, struct result *r)
{
	struct fib_conf conf = { .family = t->family, .max_routes = t->n + t->n / 4 };
	struct fib *f = fib_create(&conf);
	if (f == NULL) {
		r->note = "fib_create failed";
		return;
	}
	r->name = t->family == 4 ? "npr fib4" : "npr fib6";

	double t0 = npr_now_s();
	for (unsigned i = 0; i < t->n; i++) {
		int rc = fib_set(f, t->v[i].p, t->v[i].plen, t->v[i].nh);
		if (rc < 0) {
			fprintf(stderr, "fib_set: %s\n", strerror(-rc));
			exit(1);
		}
	}
	fib_commit(f);
	r->load_s = npr_now_s() - t0;
	r->mem = fib_mem_bytes(f);

	uint64_t sum = 0;
	double best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		if (t->family == 4)
			for (unsigned i = 0; i < NDST; i++)
				sum += fib4_lookup(f, t->dst4[i]);
		else
			for (unsigned i = 0; i < NDST; i++)
				sum += fib6_lookup(f, t->dst6[i]);
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->single_mlps = NDST / best / 1e6;
	best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i += BULK) {
			if (t->family == 4) {
				fib4_lookup_bulk(f, &t->dst4[i], &t->want[i], BULK);
			} else {
				const uint8_t *pp[BULK];
				for (unsigned j = 0; j < BULK; j++)
					pp[j] = t->dst6[i + j];
				fib6_lookup_bulk(f, pp, &t->want[i], BULK);
			}
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->bulk_mlps = NDST / best / 1e6;
	uint64_t sum2 = 0;
	for (unsigned i = 0; i < NDST; i++)
		sum2 += t->want[i];
	if (sum != 3 * sum2)
		r->note = "single and bulk lookups disagree";
	sink = sum;

	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		fib_set(f, x->p, x->plen, (uint32_t)(rnd() % NH_MAX) + 1);
		fib_commit(f);
	}
	r->replace_kups = t->nupd / (npr_now_s() - t0) / 1e3;
	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd / 2; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		fib_del(f, x->p, x->plen);
		fib_commit(f);
		fib_set(f, x->p, x->plen, x->nh);
		fib_commit(f);
	}
	r->deladd_kups = (t->nupd / 2 * 2) / (npr_now_s() - t0) / 1e3;
	fib_free(f);
}

/* --- DPDK ---------------------------------------------------------------------------- */

static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats s;
	if (rte_malloc_get_socket_stats(0, &s) < 0)
		return 0;
	return s.heap_allocsz_bytes;
}

static uint64_t
check(const struct table *t, const uint32_t *got)
{
	uint64_t bad = 0;
	for (unsigned i = 0; i < NDST; i++)
		bad += got[i] != t->want[i];
	return bad;
}

static void
bench_lpm(struct table *t, struct result *r, uint32_t *got)
{
	struct rte_lpm_config c = { .max_rules = t->n + 16, .number_tbl8s = 1 << 16 };
	size_t m0 = heap_used();
	struct rte_lpm *lpm = rte_lpm_create("bench_lpm", 0, &c);
	r->name = "rte_lpm";
	if (lpm == NULL) {
		r->note = "rte_lpm_create failed";
		return;
	}
	double t0 = npr_now_s();
	for (unsigned i = 0; i < t->n; i++)
		if (rte_lpm_add(lpm, v4(t->v[i].p), t->v[i].plen, t->v[i].nh) < 0) {
			r->note = "rte_lpm_add failed";
			break;
		}
	r->load_s = npr_now_s() - t0;
	r->mem = heap_used() - m0;

	uint64_t sum = 0;
	double best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i++) {
			uint32_t nh = 0;
			rte_lpm_lookup(lpm, t->dst4[i], &nh);
			sum += nh;
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->single_mlps = NDST / best / 1e6;
	best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i += BULK)
			rte_lpm_lookup_bulk(lpm, &t->dst4[i], &got[i], BULK);
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->bulk_mlps = NDST / best / 1e6;
	for (unsigned i = 0; i < NDST; i++)
		got[i] = (got[i] & RTE_LPM_LOOKUP_SUCCESS) ? got[i] & 0xffffff : 0;
	r->mismatches = check(t, got);
	sink = sum;

	/* rte_lpm updates are slow on a full table (linear rule search): fewer of them */
	unsigned nupd = t->nupd < 20000 ? t->nupd : 20000;
	t0 = npr_now_s();
	for (unsigned i = 0; i < nupd; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_lpm_add(lpm, v4(x->p), x->plen, (uint32_t)(rnd() % NH_MAX) + 1);
	}
	r->replace_kups = nupd / (npr_now_s() - t0) / 1e3;
	t0 = npr_now_s();
	for (unsigned i = 0; i < nupd / 2; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_lpm_delete(lpm, v4(x->p), x->plen);
		rte_lpm_add(lpm, v4(x->p), x->plen, x->nh);
	}
	r->deladd_kups = (nupd / 2 * 2) / (npr_now_s() - t0) / 1e3;
	rte_lpm_free(lpm);
}

static void
bench_fib(struct table *t, struct result *r, uint32_t *got)
{
	struct rte_fib_conf c = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = 0,
		.max_routes = (int)t->n + 16,
		.dir24_8 = { .nh_sz = RTE_FIB_DIR24_8_4B, .num_tbl8 = 1 << 16 },
	};
	uint64_t nh64[BULK];
	size_t m0 = heap_used();
	struct rte_fib *fib = rte_fib_create("bench_fib", 0, &c);
	r->name = "rte_fib dir24_8";
	if (fib == NULL) {
		r->note = "rte_fib_create failed";
		return;
	}
	double t0 = npr_now_s();
	for (unsigned i = 0; i < t->n; i++)
		if (rte_fib_add(fib, v4(t->v[i].p), t->v[i].plen, t->v[i].nh) < 0) {
			r->note = "rte_fib_add failed";
			break;
		}
	r->load_s = npr_now_s() - t0;
	r->mem = heap_used() - m0;

	double best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i++) {
			rte_fib_lookup_bulk(fib, &t->dst4[i], nh64, 1);
			got[i] = (uint32_t)nh64[0];
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->single_mlps = NDST / best / 1e6;
	best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i += BULK) {
			rte_fib_lookup_bulk(fib, &t->dst4[i], nh64, BULK);
			for (unsigned j = 0; j < BULK; j++)
				got[i + j] = (uint32_t)nh64[j];
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->bulk_mlps = NDST / best / 1e6;
	r->mismatches = check(t, got);

	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_fib_add(fib, v4(x->p), x->plen, (rnd() % NH_MAX) + 1);
	}
	r->replace_kups = t->nupd / (npr_now_s() - t0) / 1e3;
	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd / 2; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_fib_delete(fib, v4(x->p), x->plen);
		rte_fib_add(fib, v4(x->p), x->plen, x->nh);
	}
	r->deladd_kups = (t->nupd / 2 * 2) / (npr_now_s() - t0) / 1e3;
	rte_fib_free(fib);
}

static void
bench_lpm6(struct table *t, struct result *r, uint32_t *got)
{
	struct rte_lpm6_config c = { .max_rules = t->n + 16, .number_tbl8s = 1 << 18 };
	int32_t nh32[BULK];
	size_t m0 = heap_used();
	struct rte_lpm6 *lpm = rte_lpm6_create("bench_lpm6", 0, &c);
	r->name = "rte_lpm6";
	if (lpm == NULL) {
		r->note = "rte_lpm6_create failed";
		return;
	}
	double t0 = npr_now_s();
	for (unsigned i = 0; i < t->n; i++)
		if (rte_lpm6_add(lpm, t->v[i].p, t->v[i].plen, t->v[i].nh) < 0) {
			r->note = "rte_lpm6_add failed";
			break;
		}
	r->load_s = npr_now_s() - t0;
	r->mem = heap_used() - m0;

	double best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i++) {
			uint32_t nh = 0;
			got[i] = rte_lpm6_lookup(lpm, t->dst6[i], &nh) == 0 ? nh : 0;
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->single_mlps = NDST / best / 1e6;
	best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i += BULK) {
			rte_lpm6_lookup_bulk_func(lpm, &t->dst6[i], nh32, BULK);
			for (unsigned j = 0; j < BULK; j++)
				got[i + j] = nh32[j] < 0 ? 0 : (uint32_t)nh32[j];
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->bulk_mlps = NDST / best / 1e6;
	r->mismatches = check(t, got);

	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_lpm6_add(lpm, x->p, x->plen, (uint32_t)(rnd() % NH_MAX) + 1);
	}
	r->replace_kups = t->nupd / (npr_now_s() - t0) / 1e3;
	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd / 2; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_lpm6_delete(lpm, x->p, x->plen);
		rte_lpm6_add(lpm, x->p, x->plen, x->nh);
	}
	r->deladd_kups = (t->nupd / 2 * 2) / (npr_now_s() - t0) / 1e3;
	rte_lpm6_free(lpm);
}

static void
bench_fib6(struct table *t, struct result *r, uint32_t *got)
{
	struct rte_fib6_conf c = {
		.type = RTE_FIB6_TRIE,
		.default_nh = 0,
		.max_routes = (int)t->n + 16,
		.trie = { .nh_sz = RTE_FIB6_TRIE_4B, .num_tbl8 = 1 << 18 },
	};
	uint64_t nh64[BULK];
	size_t m0 = heap_used();
	struct rte_fib6 *fib = rte_fib6_create("bench_fib6", 0, &c);
	r->name = "rte_fib6 trie";
	if (fib == NULL) {
		r->note = "rte_fib6_create failed";
		return;
	}
	double t0 = npr_now_s();
	for (unsigned i = 0; i < t->n; i++)
		if (rte_fib6_add(fib, t->v[i].p, t->v[i].plen, t->v[i].nh) < 0) {
			r->note = "rte_fib6_add failed";
			break;
		}
	r->load_s = npr_now_s() - t0;
	r->mem = heap_used() - m0;

	double best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i++) {
			rte_fib6_lookup_bulk(fib, &t->dst6[i], nh64, 1);
			got[i] = (uint32_t)nh64[0];
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->single_mlps = NDST / best / 1e6;
	best = 1e9;
	for (int pass = 0; pass < 3; pass++) {
		t0 = npr_now_s();
		for (unsigned i = 0; i < NDST; i += BULK) {
			rte_fib6_lookup_bulk(fib, &t->dst6[i], nh64, BULK);
			for (unsigned j = 0; j < BULK; j++)
				got[i + j] = (uint32_t)nh64[j];
		}
		double d = npr_now_s() - t0;
		best = d < best ? d : best;
	}
	r->bulk_mlps = NDST / best / 1e6;
	r->mismatches = check(t, got);

	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_fib6_add(fib, x->p, x->plen, (rnd() % NH_MAX) + 1);
	}
	r->replace_kups = t->nupd / (npr_now_s() - t0) / 1e3;
	t0 = npr_now_s();
	for (unsigned i = 0; i < t->nupd / 2; i++) {
		struct pfx *x = &t->v[rnd() % t->n];
		rte_fib6_delete(fib, x->p, x->plen);
		rte_fib6_add(fib, x->p, x->plen, x->nh);
	}
	r->deladd_kups = (t->nupd / 2 * 2) / (npr_now_s() - t0) / 1e3;
	rte_fib6_free(fib);
}

static void
print(const struct table *t, const struct result *r)
{
	if (r->name == NULL)
		return;
	printf("%-16s load %8.1f ms %6.2f Mroutes/s  mem %10" PRIu64 " B %7.1f B/prefix  "
	       "lookup %6.1f M/s bulk32 %6.1f M/s  update %7.1f k/s del+add %7.1f k/s"
	       "  mismatches %" PRIu64 "%s%s\n",
	       r->name, r->load_s * 1e3, t->n / r->load_s / 1e6, r->mem, (double)r->mem / t->n,
	       r->single_mlps, r->bulk_mlps, r->replace_kups, r->deladd_kups, r->mismatches,
	       r->note ? "  " : "", r->note ? r->note : "");
}

int
main(int argc, char **argv)
{
	bool dpdk = true;
	struct table t = { .nupd = 200000 };
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--no-dpdk") == 0)
			dpdk = false;
		else if (strcmp(argv[i], "--updates") == 0 && i + 1 < argc)
			t.nupd = (unsigned)atoi(argv[++i]);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: %s [--no-dpdk] [--updates N] FILE\n", argv[0]);
		return 2;
	}
	int rc = load_file(argv[i], &t);
	if (rc < 0 || t.n == 0) {
		fprintf(stderr, "%s: %s\n", argv[i], rc < 0 ? strerror(-rc) : "no prefixes");
		return 1;
	}
	make_dsts(&t);
	printf("%s: %u IPv%d prefixes, %u destinations, %u updates\n", argv[i], t.n, t.family, NDST,
	       t.nupd);

	struct result ours = { 0 };
	bench_ours(&t, &ours);
	print(&t, &ours);
	if (!dpdk)
		return 0;

	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fibbench%d", (int)getpid());
	char *eal[] = { argv[0],
			"--no-pci",
			"--no-huge",
			"-m",
			"3072",
			"--no-shconf",
			prefix,
			"-l",
			"0",
			"--no-telemetry",
			"--log-level=lib.*:error",
			NULL };
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: DPDK comparison skipped\n");
		return 1;
	}
	uint32_t *got = calloc(NDST, sizeof(uint32_t));
	struct result a = { 0 }, b = { 0 };
	if (t.family == 4) {
		bench_lpm(&t, &a, got);
		print(&t, &a);
		bench_fib(&t, &b, got);
		print(&t, &b);
	} else {
		bench_lpm6(&t, &a, got);
		print(&t, &a);
		bench_fib6(&t, &b, got);
		print(&t, &b);
	}
	free(got);
	/* EAL leaves its (empty: --no-shconf) runtime directory behind; remove it */
	char rundir[PATH_MAX];
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	(void)rmdir(rundir);
	return 0;
}
