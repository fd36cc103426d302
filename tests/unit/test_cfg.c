/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the control-thread state machine (dataplane/cfg/): hand-encoded request
 * records go through cfg_handle, replies and dump chunks are captured, and the results are
 * compared with expectations computed here (reference route tables, word encodings, slot
 * counts). No EAL: qsbr NULL, stats NULL.
 *
 * A rejected request must change nothing: expect_err() takes a full snapshot (every dump,
 * sorted; the published next hop words, group pointers and port table; FIB lookups of probe
 * addresses) before and after and compares them.
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
#include <time.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "npr/util.h"
#include "cfg.h"
#include "cfg_check.h"
#include "fib.h"
#include "fwd.h"

/* ---------------------------------------------------------------------------------------- */
/* Harness */

#define NH_MAX 64u
#define GROUP_MAX 16u

static struct cfg *C;

struct cap {
	uint8_t *buf;
	size_t len, cap;
	unsigned n;
};
static struct cap cap;
static struct npr_reply last;
static uint32_t seqno = 1000;

static void
emit_cb(void *ctx, const void *rec, uint32_t len)
{
	(void)ctx;
	assert_true(len >= sizeof(struct npr_msg_hdr));
	assert_true(len % 8 == 0);
	assert_true(len <= NPR_MSG_MAX);
	if (cap.len + len > cap.cap) {
		cap.cap = (cap.len + len) * 2;
		cap.buf = realloc(cap.buf, cap.cap);
		assert_non_null(cap.buf);
	}
	memcpy(cap.buf + cap.len, rec, len);
	cap.len += len;
	cap.n++;
}

static const uint8_t port_mac[3][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x10 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x11 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x15 },
};
static const uint16_t port_ids[3] = { 0, 1, 5 };

static struct cfg_conf
test_conf(void)
{
	struct cfg_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.nh_max = NH_MAX;
	cc.group_max = GROUP_MAX;
	cc.route4_max = 200000;
	cc.route6_max = 20000;
	cc.instance_id = 0x1122334455667788ull;
	cc.n_ports = 3;
	cc.n_workers = 2;
	for (unsigned i = 0; i < 3; i++) {
		cc.port[i].port_id = port_ids[i];
		cc.port[i].n_rxq = 2;
		cc.port[i].n_txq = 3;
		memcpy(cc.port[i].mac, port_mac[i], 6);
		snprintf(cc.port[i].name, sizeof(cc.port[i].name), "net_ring%u", i);
	}
	return cc;
}

static unsigned SID; /* the session requests come from (setup: 0) */

static int
setup(void **state)
{
	(void)state;
	struct cfg_conf cc = test_conf();
	C = cfg_create(&cc);
	assert_non_null(C);
	SID = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cfg_free(C);
	C = NULL;
	return 0;
}

static void
hdr(void *m, uint16_t type, uint32_t len)
{
	struct npr_msg_hdr h = { .type = type, .version = NPR_ABI_VERSION, .len = len };
	memcpy(m, &h, sizeof(h));
}

/* Send one record as is; check the framing of what comes back: zero or more DUMP_CHUNKs,
 * then exactly one reply, all with seq want_seq. Returns the reply status. */
static int
xsend_raw(const void *rec, uint32_t len, uint32_t want_seq)
{
	cap.len = 0;
	cap.n = 0;
	cfg_handle_session(C, SID, rec, len, emit_cb, NULL);
	assert_true(cap.n >= 1);
	size_t off = 0;
	for (unsigned i = 0; i < cap.n; i++) {
		struct npr_msg_hdr h;
		memcpy(&h, cap.buf + off, sizeof(h));
		assert_int_equal(h.version, NPR_ABI_VERSION);
		assert_int_equal(h.seq, want_seq);
		assert_int_equal(h.reserved, 0);
		if (i + 1 < cap.n) {
			assert_int_equal(h.type, NPR_MSG_DUMP_CHUNK);
		} else {
			assert_int_equal(h.type, NPR_MSG_REPLY);
			assert_int_equal(h.len, sizeof(struct npr_reply));
			memcpy(&last, cap.buf + off, sizeof(last));
		}
		off += h.len;
	}
	assert_int_equal(off, cap.len);
	assert_non_null(memchr(last.msg, 0, sizeof(last.msg)));
	return last.status;
}

/* Send with a fresh seq written into the header. */
static int
xsend(void *rec, uint32_t len)
{
	uint32_t seq = ++seqno;
	memcpy((uint8_t *)rec + offsetof(struct npr_msg_hdr, seq), &seq, 4);
	return xsend_raw(rec, len, seq);
}

static int
simple(uint16_t type)
{
	if (type == NPR_MSG_HELLO) {
		struct npr_msg_hello m = { .origin = NPR_ORIGIN_CONFIG };
		hdr(&m.hdr, type, sizeof(m));
		return xsend(&m, sizeof(m));
	}
	struct npr_msg_hdr h;
	hdr(&h, type, sizeof(h));
	return xsend(&h, sizeof(h));
}

static void
mk_iface(struct npr_msg_iface_set *m, uint16_t ifid, uint16_t port, uint16_t mtu, uint16_t flags,
	 const char *name)
{
	memset(m, 0, sizeof(*m));
	hdr(m, NPR_MSG_IFACE_SET, sizeof(*m));
	m->ifid = ifid;
	m->port_id = port;
	m->mtu = mtu;
	m->flags = flags;
	memcpy(m->name, name, strnlen(name, sizeof(m->name)));
}

static int
iface_set(uint16_t ifid, uint16_t port, uint16_t flags, const char *name)
{
	struct npr_msg_iface_set m;
	mk_iface(&m, ifid, port, 0, flags, name);
	return xsend(&m, sizeof(m));
}

static int
iface_del(uint16_t ifid)
{
	struct npr_msg_iface_del m;
	memset(&m, 0, sizeof(m));
	hdr(&m, NPR_MSG_IFACE_DEL, sizeof(m));
	m.ifid = ifid;
	return xsend(&m, sizeof(m));
}

static void
ip4(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, a), 1);
}

static void
ip6(uint8_t *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void
mk_addr(struct npr_msg_addr *m, uint16_t type, uint16_t ifid, uint8_t fam, uint8_t plen,
	const char *s)
{
	memset(m, 0, sizeof(*m));
	hdr(m, type, sizeof(*m));
	m->ifid = ifid;
	m->family = fam;
	m->plen = plen;
	if (fam == 4)
		ip4(m->addr, s);
	else
		ip6(m->addr, s);
}

static int
addr_op(uint16_t type, uint16_t ifid, uint8_t fam, uint8_t plen, const char *s)
{
	struct npr_msg_addr m;
	mk_addr(&m, type, ifid, fam, plen, s);
	return xsend(&m, sizeof(m));
}

static void
mk_neigh(struct npr_msg_neigh *m, uint16_t type, uint16_t ifid, uint8_t fam, const char *s,
	 const uint8_t *mac)
{
	memset(m, 0, sizeof(*m));
	hdr(m, type, sizeof(*m));
	m->ifid = ifid;
	m->family = fam;
	if (mac != NULL)
		memcpy(m->mac, mac, 6);
	if (fam == 4)
		ip4(m->addr, s);
	else
		ip6(m->addr, s);
}

static int
neigh_op(uint16_t type, uint16_t ifid, uint8_t fam, const char *s, const uint8_t *mac)
{
	struct npr_msg_neigh m;
	mk_neigh(&m, type, ifid, fam, s, mac);
	return xsend(&m, sizeof(m));
}

static void
mk_nh(struct npr_msg_nh_set *m, uint32_t id, uint8_t kind, uint16_t ifid, uint8_t fam,
      const char *gw, const uint8_t *mac)
{
	memset(m, 0, sizeof(*m));
	hdr(m, NPR_MSG_NH_SET, sizeof(*m));
	m->nh_id = id;
	m->kind = kind;
	m->ifid = ifid;
	m->family = fam;
	if (fam == 4)
		ip4(m->gw, gw);
	else if (fam == 6)
		ip6(m->gw, gw);
	if (mac != NULL) {
		memcpy(m->mac, mac, 6);
		m->flags = NPR_NH_F_MAC;
	}
}

static int
nh_set(uint32_t id, uint8_t kind, uint16_t ifid, uint8_t fam, const char *gw, const uint8_t *mac)
{
	struct npr_msg_nh_set m;
	mk_nh(&m, id, kind, ifid, fam, gw, mac);
	return xsend(&m, sizeof(m));
}

static int
id_del(uint16_t type, uint32_t id)
{
	struct npr_msg_id m;
	memset(&m, 0, sizeof(m));
	hdr(&m, type, sizeof(m));
	m.id = id;
	return xsend(&m, sizeof(m));
}

static uint8_t msgbuf[NPR_MSG_MAX + 64];

static uint32_t
mk_group(uint32_t gid, unsigned n, const uint32_t *nh, const uint16_t *w)
{
	struct npr_msg_group_set m;
	uint32_t len = (uint32_t)(sizeof(m) + 8 * n);
	memset(msgbuf, 0, len);
	memset(&m, 0, sizeof(m));
	hdr(&m, NPR_MSG_GROUP_SET, len);
	m.group_id = gid;
	m.n_members = (uint16_t)n;
	memcpy(msgbuf, &m, sizeof(m));
	for (unsigned i = 0; i < n; i++) {
		struct npr_group_member mb = { .nh_id = nh[i], .weight = w[i] };
		memcpy(msgbuf + sizeof(m) + 8 * i, &mb, 8);
	}
	return len;
}

static int
group_set(uint32_t gid, unsigned n, const uint32_t *nh, const uint16_t *w)
{
	uint32_t len = mk_group(gid, n, nh, w);
	return xsend(msgbuf, len);
}

/* IPv4 routes: prefix in host order here. */
struct r4 {
	uint32_t prefix;
	uint8_t plen;
	uint32_t target;
};

static uint32_t
mk_route4(uint16_t type, const struct r4 *r, uint32_t n)
{
	struct npr_msg_route4 m;
	uint32_t len = (uint32_t)(sizeof(m) + ((12 * n + 7) & ~7u));
	memset(msgbuf, 0, len);
	memset(&m, 0, sizeof(m));
	hdr(&m, type, len);
	m.count = n;
	memcpy(msgbuf, &m, sizeof(m));
	for (uint32_t i = 0; i < n; i++) {
		struct npr_route4 e;
		memset(&e, 0, sizeof(e));
		e.prefix = htonl(r[i].prefix);
		e.plen = r[i].plen;
		e.target = r[i].target;
		memcpy(msgbuf + sizeof(m) + 12 * i, &e, 12);
	}
	return len;
}

static int
route4(uint16_t type, const struct r4 *r, uint32_t n)
{
	return xsend(msgbuf, mk_route4(type, r, n));
}

static int
route4_1(uint16_t type, const char *p, uint8_t plen, uint32_t target)
{
	uint8_t a[16];
	ip4(a, p);
	struct r4 r = { .prefix = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3],
			.plen = plen,
			.target = target };
	return route4(type, &r, 1);
}

struct r6 {
	uint8_t prefix[16];
	uint8_t plen;
	uint32_t target;
};

static uint32_t
mk_route6(uint16_t type, const struct r6 *r, uint32_t n)
{
	struct npr_msg_route6 m;
	uint32_t len = (uint32_t)(sizeof(m) + 24 * n);
	memset(msgbuf, 0, len);
	memset(&m, 0, sizeof(m));
	hdr(&m, type, len);
	m.count = n;
	memcpy(msgbuf, &m, sizeof(m));
	for (uint32_t i = 0; i < n; i++) {
		struct npr_route6 e;
		memset(&e, 0, sizeof(e));
		memcpy(e.prefix, r[i].prefix, 16);
		e.plen = r[i].plen;
		e.target = r[i].target;
		memcpy(msgbuf + sizeof(m) + 24 * i, &e, 24);
	}
	return len;
}

static int
route6_1(uint16_t type, const char *p, uint8_t plen, uint32_t target)
{
	struct r6 r = { .plen = plen, .target = target };
	ip6(r.prefix, p);
	return xsend(msgbuf, mk_route6(type, &r, 1));
}

static uint64_t
lookup(uint8_t fam, const char *s)
{
	struct npr_msg_lookup m;
	memset(&m, 0, sizeof(m));
	hdr(&m, NPR_MSG_LOOKUP, sizeof(m));
	m.family = fam;
	if (fam == 4)
		ip4(m.addr, s);
	else
		ip6(m.addr, s);
	assert_int_equal(xsend(&m, sizeof(m)), 0);
	return last.value;
}

/* Run a dump: the entries of every chunk, concatenated (malloc'd). Returns the count. */
static uint32_t
dump(uint32_t kind, uint8_t **out, size_t *outlen)
{
	struct npr_msg_dump_req m;
	memset(&m, 0, sizeof(m));
	hdr(&m, NPR_MSG_DUMP_REQ, sizeof(m));
	m.kind = kind;
	assert_int_equal(xsend(&m, sizeof(m)), 0);
	uint8_t *o = malloc(cap.len + 1);
	size_t ol = 0, off = 0;
	uint32_t count = 0;
	assert_non_null(o);
	for (unsigned i = 0; i + 1 < cap.n; i++) {
		struct npr_msg_dump_chunk ch;
		memcpy(&ch, cap.buf + off, sizeof(ch));
		assert_int_equal(ch.kind, kind);
		assert_true(ch.count > 0);
		/* entries: fixed sizes, or walk the groups */
		size_t dl = 0;
		if (kind == NPR_DUMP_GROUPS) {
			for (uint32_t k = 0; k < ch.count; k++) {
				struct npr_dump_group g;
				memcpy(&g, cap.buf + off + sizeof(ch) + dl, sizeof(g));
				dl += sizeof(g) + 8u * g.n_members;
			}
		} else {
			size_t es = kind == NPR_DUMP_PORTS     ? sizeof(struct npr_dump_port)
				    : kind == NPR_DUMP_IFACES  ? sizeof(struct npr_dump_iface)
				    : kind == NPR_DUMP_ADDRS   ? sizeof(struct npr_dump_addr)
				    : kind == NPR_DUMP_NEIGHS  ? sizeof(struct npr_dump_neigh)
				    : kind == NPR_DUMP_NHS     ? sizeof(struct npr_dump_nh)
				    : kind == NPR_DUMP_ROUTES4 ? sizeof(struct npr_route4)
				    : kind == NPR_DUMP_ROUTES6 ? sizeof(struct npr_route6)
				    : kind == NPR_DUMP_INFO    ? sizeof(struct npr_info)
							       : sizeof(struct npr_stats);
			dl = es * ch.count;
		}
		/* the chunk is exactly its entries, padded to 8 with zeros */
		assert_int_equal(ch.hdr.len, (sizeof(ch) + dl + 7) & ~(size_t)7);
		for (size_t p = sizeof(ch) + dl; p < ch.hdr.len; p++)
			assert_int_equal(cap.buf[off + p], 0);
		memcpy(o + ol, cap.buf + off + sizeof(ch), dl);
		ol += dl;
		count += ch.count;
		off += ch.hdr.len;
	}
	assert_int_equal(last.value, count);
	*out = o;
	if (outlen != NULL)
		*outlen = ol;
	return count;
}

static size_t sort_size;
static int
cmp_bytes(const void *a, const void *b)
{
	return memcmp(a, b, sort_size);
}

static uint32_t
dump_sorted(uint32_t kind, size_t esize, uint8_t **out)
{
	uint32_t n = dump(kind, out, NULL);
	sort_size = esize;
	qsort(*out, n, esize, cmp_bytes);
	return n;
}

static uint64_t
mac48(const uint8_t *m)
{
	return (uint64_t)m[0] | (uint64_t)m[1] << 8 | (uint64_t)m[2] << 16 | (uint64_t)m[3] << 24 |
	       (uint64_t)m[4] << 32 | (uint64_t)m[5] << 40;
}

static uint64_t
word(uint32_t id)
{
	return atomic_load(&cfg_tables(C)->nh[id]);
}

static const struct fwd_group *
pub_group(uint32_t id)
{
	return atomic_load(&cfg_tables(C)->group[id]);
}

/* ---------------------------------------------------------------------------------------- */
/* Snapshots */

struct snap {
	uint8_t *b;
	size_t n, cap;
};

static void
sput(struct snap *s, const void *p, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2 + 4096;
		s->b = realloc(s->b, s->cap);
		assert_non_null(s->b);
	}
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static uint32_t probe4[512];
static uint8_t probe6[256][16];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
init_probes(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	for (unsigned i = 0; i < 512; i++) {
		uint32_t a = (uint32_t)rnd();
		if (i % 4 == 1)
			a = 0x0a000000u | (a & 0x00ffffffu); /* 10/8 */
		if (i % 4 == 2)
			a = 0xc0a80000u | (a & 0xffffu); /* 192.168/16 */
		probe4[i] = a;
	}
	for (unsigned i = 0; i < 256; i++) {
		for (unsigned k = 0; k < 16; k++)
			probe6[i][k] = (uint8_t)rnd();
		if (i % 2) { /* 2001:db8::/32 */
			probe6[i][0] = 0x20;
			probe6[i][1] = 0x01;
			probe6[i][2] = 0x0d;
			probe6[i][3] = 0xb8;
		}
	}
}

static void
snap_take(struct snap *s)
{
	static const struct {
		uint32_t kind;
		size_t es;
	} k[] = {
		{ NPR_DUMP_IFACES, sizeof(struct npr_dump_iface) },
		{ NPR_DUMP_ADDRS, sizeof(struct npr_dump_addr) },
		{ NPR_DUMP_NEIGHS, sizeof(struct npr_dump_neigh) },
		{ NPR_DUMP_NHS, sizeof(struct npr_dump_nh) },
		{ NPR_DUMP_ROUTES4, sizeof(struct npr_route4) },
		{ NPR_DUMP_ROUTES6, sizeof(struct npr_route6) },
	};
	const struct fwd_tables *t = cfg_tables(C);
	uint8_t *d;
	size_t dl;

	init_probes();
	s->n = 0;
	for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		uint32_t n = dump_sorted(k[i].kind, k[i].es, &d);
		sput(s, &k[i].kind, 4);
		sput(s, &n, 4);
		sput(s, d, n * k[i].es);
		/* probe every route's first address too */
		for (uint32_t j = 0; k[i].kind == NPR_DUMP_ROUTES4 && j < n; j++) {
			struct npr_route4 r;
			memcpy(&r, d + j * sizeof(r), sizeof(r));
			uint32_t v = fib4_lookup(t->fib4, ntohl(r.prefix));
			sput(s, &v, 4);
		}
		for (uint32_t j = 0; k[i].kind == NPR_DUMP_ROUTES6 && j < n; j++) {
			struct npr_route6 r;
			memcpy(&r, d + j * sizeof(r), sizeof(r));
			uint32_t v = fib6_lookup(t->fib6, r.prefix);
			sput(s, &v, 4);
		}
		free(d);
	}
	uint32_t n = dump(NPR_DUMP_GROUPS, &d, &dl);
	sput(s, &n, 4);
	sput(s, d, dl);
	free(d);
	dump(NPR_DUMP_INFO, &d, NULL);
	struct npr_info in;
	memcpy(&in, d, sizeof(in));
	free(d);
	in.uptime_ns = 0;
	in.fib4_bytes = in.fib6_bytes = 0;
	memset(in.txn, 0, sizeof(in.txn)); /* bookkeeping: a refused transaction counts there */
	sput(s, &in, sizeof(in));
	/* what the workers see */
	for (uint32_t i = 0; i < t->nh_max; i++) {
		uint64_t w = atomic_load(&t->nh[i]);
		sput(s, &w, 8);
	}
	for (uint32_t i = 0; i < t->group_max; i++) {
		const struct fwd_group *g = atomic_load(&t->group[i]);
		sput(s, &g, sizeof(g));
	}
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++) {
		uint64_t m = atomic_load(&t->port[i].mac);
		uint32_t u = atomic_load(&t->port[i].up);
		sput(s, &m, 8);
		sput(s, &u, 4);
	}
	for (unsigned i = 0; i < 512; i++) {
		uint32_t v = fib4_lookup(t->fib4, probe4[i]);
		sput(s, &v, 4);
	}
	for (unsigned i = 0; i < 256; i++) {
		uint32_t v = fib6_lookup(t->fib6, probe6[i]);
		sput(s, &v, 4);
	}
}

static void
snap_free(struct snap *s)
{
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static void
snap_equal(const struct snap *a, const struct snap *b)
{
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->b, b->b, a->n);
}

/* Send a request that must fail with status want (and msg containing text, if given) and
 * check that nothing changed. */
static void
expect_err_at(void *rec, uint32_t len, int want, const char *text, const char *file, int line)
{
	struct snap a = { 0 }, b = { 0 };
	snap_take(&a);
	int rc = xsend(rec, len);
	if (rc != want || last.msg[0] == 0 || (text != NULL && strstr(last.msg, text) == NULL))
		fail_msg("%s:%d: status %d (want %d), msg \"%s\" (want \"%s\")", file, line, rc,
			 want, last.msg, text != NULL ? text : "");
	struct npr_reply r = last;
	snap_take(&b);
	snap_equal(&a, &b);
	last = r; /* for the caller's checks of index and msg */
	snap_free(&a);
	snap_free(&b);
}
#define expect_err(rec, len, want, text) expect_err_at(rec, len, want, text, __FILE__, __LINE__)

#define OK(expr)                                                                                   \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != 0)                                                                      \
			fail_msg("%s: status %d: %s", #expr, rc_, last.msg);                       \
	} while (0)

/* ---------------------------------------------------------------------------------------- */
/* Independent consistency check (outside batches, cfg_check.h): what the workers see follows
 * from the dumps, and every reference count equals the references in the dumps. */

static void
check_invariants(void)
{
	const char *why = cfg_check_invariants(C, SID, NH_MAX, GROUP_MAX);
	if (why != NULL)
		fail_msg("invariants: %s", why);
}

/* ---------------------------------------------------------------------------------------- */
/* A small topology used by several tests */

static const uint8_t mac_a[6] = { 0x02, 0xaa, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0xbb, 0, 0, 0, 0x02 };
static const uint8_t mac_c[6] = { 0x02, 0xcc, 0, 0, 0, 0x03 };

static void
base_topology(void)
{
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));
	OK(iface_set(1, 1, NPR_IFACE_F_UP, "eth1"));
	OK(nh_set(1, NPR_NH_FORWARD, 0, 4, "10.0.0.2", NULL));
	OK(nh_set(2, NPR_NH_FORWARD, 1, 4, "10.1.0.2", mac_b));
	OK(nh_set(3, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL));
	OK(nh_set(4, NPR_NH_FORWARD, 1, 6, "fe80::2", NULL));
	OK(neigh_op(NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.2", mac_a));
	uint32_t mb[2] = { 1, 2 };
	uint16_t w[2] = { 1, 3 };
	OK(group_set(1, 2, mb, w));
	OK(addr_op(NPR_MSG_ADDR_ADD, 0, 4, 24, "10.0.0.1"));
	OK(addr_op(NPR_MSG_ADDR_ADD, 1, 6, 64, "2001:db8:1::1"));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "0.0.0.0", 0, 1));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "192.168.0.0", 16, NPR_TARGET_GROUP | 1));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "172.16.0.0", 12, 3));
	OK(route6_1(NPR_MSG_ROUTE6_ADD, "2001:db8:100::", 48, 2));
	OK(route6_1(NPR_MSG_ROUTE6_ADD, "::", 0, NPR_TARGET_GROUP | 1));
}

/* ---------------------------------------------------------------------------------------- */
/* Tests: basics and malformed records */

static void
test_hello(void **state)
{
	(void)state;
	OK(simple(NPR_MSG_HELLO));
	assert_int_equal(last.value, 0x1122334455667788ull);
	assert_int_equal(last.index, 0);
	assert_string_equal(last.msg, "");
	uint64_t ok, err;
	cfg_counters(C, &ok, &err);
	assert_int_equal(ok, 1);
	assert_int_equal(err, 0);
}

static void
test_header_errors(void **state)
{
	(void)state;
	uint8_t b[NPR_MSG_MAX + 16];
	struct npr_msg_hdr h;

	base_topology();
	memset(b, 0, sizeof(b));
	/* truncated header: no seq to echo */
	for (uint32_t l = 0; l < 16; l++) {
		memset(b, 0xee, 16);
		xsend_raw(b, l, 0);
		assert_int_equal(last.status, -EINVAL);
		assert_non_null(strstr(last.msg, "truncated"));
	}
	/* hdr.len differs from the record length */
	hdr(&h, NPR_MSG_HELLO, 24);
	memcpy(b, &h, 16);
	expect_err(b, 16, -EINVAL, "does not match"); /* xsend_raw checked the seq echo */
	/* not a multiple of 8 */
	hdr(b, NPR_MSG_HELLO, 20);
	expect_err(b, 20, -EINVAL, "multiple of 8");
	/* too long */
	hdr(b, NPR_MSG_HELLO, NPR_MSG_MAX + 8);
	expect_err(b, NPR_MSG_MAX + 8, -EINVAL, "exceeds");
	/* wrong version */
	hdr(&h, NPR_MSG_HELLO, 16);
	h.version = 1;
	memcpy(b, &h, 16);
	char want[64];
	snprintf(want, sizeof(want), "ABI version 1, expected %u", NPR_ABI_VERSION);
	expect_err(b, 16, -EPROTO, want);
	/* reserved */
	hdr(&h, NPR_MSG_HELLO, 16);
	h.reserved = 1;
	memcpy(b, &h, 16);
	expect_err(b, 16, -EINVAL, "reserved");
	/* unknown types, replies sent as requests */
	hdr(b, 77, 16);
	expect_err(b, 16, -EOPNOTSUPP, "unknown message type 77");
	hdr(b, 0, 16);
	expect_err(b, 16, -EOPNOTSUPP, "unknown message type 0");
	hdr(b, NPR_MSG_REQ_LAST + 1, 16);
	expect_err(b, 16, -EOPNOTSUPP, "unknown message type");
	hdr(b, NPR_MSG_REPLY, 16);
	expect_err(b, 16, -EINVAL, "is a reply");
	hdr(b, NPR_MSG_DUMP_CHUNK, 24);
	expect_err(b, 24, -EINVAL, "is a reply");
	uint64_t ok, err;
	cfg_counters(C, &ok, &err);
	assert_true(err >= 26);
	check_invariants();
}

static void
test_body_length(void **state)
{
	(void)state;
	uint8_t b[256];
	/* every fixed-size type, 8 bytes short and 8 bytes long */
	static const struct {
		uint16_t type;
		uint32_t len;
	} f[] = {
		{ NPR_MSG_HELLO, 40 },	     { NPR_MSG_IFACE_SET, 48 },
		{ NPR_MSG_IFACE_DEL, 24 },   { NPR_MSG_ADDR_ADD, 40 },
		{ NPR_MSG_ADDR_DEL, 40 },    { NPR_MSG_NEIGH_SET, 48 },
		{ NPR_MSG_NEIGH_DEL, 48 },   { NPR_MSG_NH_SET, 48 },
		{ NPR_MSG_NH_DEL, 24 },	     { NPR_MSG_GROUP_DEL, 24 },
		{ NPR_MSG_BATCH_BEGIN, 16 }, { NPR_MSG_BATCH_COMMIT, 16 },
		{ NPR_MSG_BATCH_ABORT, 16 }, { NPR_MSG_SYNC_BEGIN, 16 },
		{ NPR_MSG_SYNC_END, 16 },    { NPR_MSG_STATS_REQ, 16 },
		{ NPR_MSG_DUMP_REQ, 24 },    { NPR_MSG_LOOKUP, 40 },
		{ NPR_MSG_STATS_CLEAR, 16 },
	};
	base_topology();
	memset(b, 0, sizeof(b));
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].len > 16) {
			hdr(b, f[i].type, f[i].len - 8);
			expect_err(b, f[i].len - 8, -EINVAL, "expected");
		}
		hdr(b, f[i].type, f[i].len + 8);
		expect_err(b, f[i].len + 8, -EINVAL, "expected");
	}
	/* variable ones: too short to hold their count */
	hdr(b, NPR_MSG_GROUP_SET, 16);
	expect_err(b, 16, -EINVAL, "too short");
	hdr(b, NPR_MSG_ROUTE4_ADD, 16);
	expect_err(b, 16, -EINVAL, "too short");
	/* group: n_members and length disagree; n out of range */
	uint32_t mb[2] = { 1, 2 };
	uint16_t w[2] = { 1, 1 };
	uint32_t len = mk_group(2, 2, mb, w);
	hdr(msgbuf, NPR_MSG_GROUP_SET, len + 8);
	expect_err(msgbuf, len + 8, -EINVAL, "expected 40");
	len = mk_group(2, 2, mb, w);
	msgbuf[offsetof(struct npr_msg_group_set, n_members)] = 0;
	expect_err(msgbuf, len, -EINVAL, "0 members");
	msgbuf[offsetof(struct npr_msg_group_set, n_members)] = 65;
	expect_err(msgbuf, len, -EINVAL, "65 members");
	/* routes: count 0, count too large, count vs length (rounded up to 8 for IPv4) */
	struct r4 r[3] = { { 0x0a0a0000, 16, 1 }, { 0x0a0b0000, 16, 1 }, { 0x0a0c0000, 16, 1 } };
	len = mk_route4(NPR_MSG_ROUTE4_ADD, r, 3);
	assert_int_equal(len, 24 + 40);
	uint32_t cnt = 0;
	memcpy(msgbuf + 16, &cnt, 4);
	expect_err(msgbuf, len, -EINVAL, "count 0");
	cnt = NPR_ROUTE4_MAX + 1;
	memcpy(msgbuf + 16, &cnt, 4);
	expect_err(msgbuf, len, -EINVAL, "count 4097");
	cnt = 2;
	memcpy(msgbuf + 16, &cnt, 4);
	expect_err(msgbuf, len, -EINVAL, "expected 48");
	len = mk_route4(NPR_MSG_ROUTE4_ADD, r, 3);
	hdr(msgbuf, NPR_MSG_ROUTE4_ADD, len - 8); /* unpadded 60 rounded down */
	expect_err(msgbuf, len - 8, -EINVAL, "expected 64");
	/* padding of an odd count must be zero */
	len = mk_route4(NPR_MSG_ROUTE4_ADD, r, 3);
	msgbuf[len - 1] = 1;
	expect_err(msgbuf, len, -EINVAL, "padding");
	struct r6 r6 = { .plen = 64, .target = 1 };
	ip6(r6.prefix, "2001:db8:5::");
	len = mk_route6(NPR_MSG_ROUTE6_ADD, &r6, 1);
	cnt = NPR_ROUTE6_MAX + 1;
	memcpy(msgbuf + 16, &cnt, 4);
	expect_err(msgbuf, len, -EINVAL, "count 2049");
	cnt = 2;
	memcpy(msgbuf + 16, &cnt, 4);
	expect_err(msgbuf, len, -EINVAL, "expected 72");
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Interfaces */

static void
test_iface(void **state)
{
	(void)state;
	struct npr_msg_iface_set m;
	const struct fwd_tables *t = cfg_tables(C);
	uint8_t *d;

	/* unbound ports: MAC 0, down */
	for (unsigned p = 0; p < NPR_MAX_PORTS; p++) {
		assert_int_equal(atomic_load(&t->port[p].mac), 0);
		assert_int_equal(atomic_load(&t->port[p].up), 0);
	}
	OK(iface_set(3, 5, NPR_IFACE_F_UP, "wan0"));
	assert_int_equal(atomic_load(&t->port[5].mac), mac48(port_mac[2]));
	assert_int_equal(atomic_load(&t->port[5].up), 1);
	assert_int_equal(dump(NPR_DUMP_IFACES, &d, NULL), 1);
	struct npr_dump_iface e;
	memcpy(&e, d, sizeof(e));
	free(d);
	assert_int_equal(e.ifid, 3);
	assert_int_equal(e.port_id, 5);
	assert_int_equal(e.mtu, 1500);
	assert_int_equal(e.flags, NPR_IFACE_F_UP);
	assert_memory_equal(e.mac, port_mac[2], 6);
	assert_string_equal(e.name, "wan0");

	/* update in place: MTU, MAC override, name, down */
	mk_iface(&m, 3, 5, 9000, 0, "wan-uplink.1234");
	memcpy(m.mac, mac_c, 6);
	OK(xsend(&m, sizeof(m)));
	assert_int_equal(atomic_load(&t->port[5].mac), mac48(mac_c));
	assert_int_equal(atomic_load(&t->port[5].up), 0);
	dump(NPR_DUMP_IFACES, &d, NULL);
	memcpy(&e, d, sizeof(e));
	free(d);
	assert_int_equal(e.mtu, 9000);
	assert_memory_equal(e.mac, mac_c, 6);
	assert_string_equal(e.name, "wan-uplink.1234");

	/* rebinding to another free port */
	OK(iface_set(3, 1, NPR_IFACE_F_UP, "wan0"));
	assert_int_equal(atomic_load(&t->port[5].mac), 0);
	assert_int_equal(atomic_load(&t->port[1].mac), mac48(port_mac[1]));
	assert_int_equal(atomic_load(&t->port[1].up), 1);
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));

	/* errors */
	mk_iface(&m, 256, 5, 0, 1, "x");
	expect_err(&m, sizeof(m), -EINVAL, "interface id 256 out of range");
	mk_iface(&m, 4, 7, 0, 1, "x");
	expect_err(&m, sizeof(m), -ENODEV, "port 7 is not a port of this data plane");
	mk_iface(&m, 4, 64, 0, 1, "x");
	expect_err(&m, sizeof(m), -ENODEV, "port 64");
	mk_iface(&m, 4, 0, 0, 1, "x");
	expect_err(&m, sizeof(m), -EBUSY, "already bound to interface 0");
	mk_iface(&m, 4, 5, 0, 1, "eth0");
	expect_err(&m, sizeof(m), -EEXIST, "eth0");
	mk_iface(&m, 4, 5, 0, 1, "0123456789abcdef");
	expect_err(&m, sizeof(m), -EINVAL, "not NUL-terminated");
	mk_iface(&m, 4, 5, 0, 1, "");
	expect_err(&m, sizeof(m), -EINVAL, "empty");
	mk_iface(&m, 4, 5, 0, 1, "a b");
	expect_err(&m, sizeof(m), -EINVAL, "non-printable");
	mk_iface(&m, 4, 5, 0, 1, "a\x01");
	expect_err(&m, sizeof(m), -EINVAL, "non-printable");
	mk_iface(&m, 4, 5, 0, 1, "ab");
	m.name[5] = 'x';
	expect_err(&m, sizeof(m), -EINVAL, "after its NUL");
	mk_iface(&m, 4, 5, 67, 1, "x");
	expect_err(&m, sizeof(m), -EINVAL, "MTU 67");
	mk_iface(&m, 4, 5, 9001, 1, "x");
	expect_err(&m, sizeof(m), -EINVAL, "MTU 9001");
	mk_iface(&m, 4, 5, 0, 3, "x");
	expect_err(&m, sizeof(m), -EINVAL, "flags");
	mk_iface(&m, 4, 5, 0, 1, "x");
	m.mac[0] = 0x01;
	expect_err(&m, sizeof(m), -EINVAL, "multicast");
	mk_iface(&m, 4, 5, 0, 1, "x");
	m.reserved[1] = 1;
	expect_err(&m, sizeof(m), -EINVAL, "reserved");
	/* renaming onto another interface's name */
	mk_iface(&m, 3, 1, 0, 1, "eth0");
	expect_err(&m, sizeof(m), -EEXIST, "already used by interface 0");

	struct npr_msg_iface_del dm;
	memset(&dm, 0, sizeof(dm));
	hdr(&dm, NPR_MSG_IFACE_DEL, sizeof(dm));
	dm.ifid = 9;
	expect_err(&dm, sizeof(dm), -ENOENT, "interface 9 does not exist");
	dm.ifid = 300;
	expect_err(&dm, sizeof(dm), -EINVAL, "out of range");
	dm.ifid = 3;
	dm.reserved[5] = 1;
	expect_err(&dm, sizeof(dm), -EINVAL, "reserved");

	/* in use: next hop, address, neighbour */
	OK(nh_set(7, NPR_NH_FORWARD, 3, 0, NULL, mac_a));
	dm.reserved[5] = 0;
	expect_err(&dm, sizeof(dm), -EBUSY, "1 next hops");
	OK(id_del(NPR_MSG_NH_DEL, 7));
	OK(addr_op(NPR_MSG_ADDR_ADD, 3, 4, 24, "10.3.0.1"));
	expect_err(&dm, sizeof(dm), -EBUSY, "1 addresses");
	OK(addr_op(NPR_MSG_ADDR_DEL, 3, 4, 24, "10.3.0.1"));
	OK(neigh_op(NPR_MSG_NEIGH_SET, 3, 6, "fe80::9", mac_a));
	expect_err(&dm, sizeof(dm), -EBUSY, "1 neighbours");
	OK(neigh_op(NPR_MSG_NEIGH_DEL, 3, 6, "fe80::9", NULL));
	OK(iface_del(3));
	assert_int_equal(atomic_load(&t->port[1].mac), 0);
	assert_int_equal(atomic_load(&t->port[1].up), 0);
	/* the port is free again */
	OK(iface_set(5, 1, 0, "eth1"));
	check_invariants();
}

static void
test_iface_down(void **state)
{
	(void)state;
	base_topology();
	uint64_t w1 = word(1), w2 = word(2), w4 = word(4);
	assert_int_equal(w1, fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_a)));
	assert_int_equal(w2, fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_b)));
	assert_int_equal(w4, fwd_nh_pack(FWD_NH_UNRESOLVED, 1, 0));
	OK(iface_set(1, 1, 0, "eth1"));
	assert_int_equal(word(2), fwd_nh_pack(FWD_NH_IFACE_DOWN, 1, 0));
	assert_int_equal(word(4), fwd_nh_pack(FWD_NH_IFACE_DOWN, 1, 0));
	assert_int_equal(word(1), w1);
	assert_int_equal(atomic_load(&cfg_tables(C)->port[1].up), 0);
	check_invariants();
	OK(iface_set(1, 1, NPR_IFACE_F_UP, "eth1"));
	assert_int_equal(word(2), w2);
	assert_int_equal(word(4), w4);
	assert_int_equal(atomic_load(&cfg_tables(C)->port[1].up), 1);
	/* rebinding moves the next hops to the new port */
	OK(iface_set(1, 5, NPR_IFACE_F_UP, "eth1"));
	assert_int_equal(word(2), fwd_nh_pack(FWD_NH_FORWARD, 5, mac48(mac_b)));
	check_invariants();
}

/* Ports that carry less than 9000: an interface MTU above a port's limit is refused, naming
 * the port, the limit and what sets it, and nothing changes; no MTU (0) means 1500, or the
 * port's limit if that is less; the limit follows a rebinding. */
static int
setup_limits(void **state)
{
	(void)state;
	struct cfg_conf cc = test_conf();
	cc.port[1].max_mtu = 1456; /* port id 1 */
	snprintf(cc.port[1].mtu_why, sizeof(cc.port[1].mtu_why), "af_packet framesz 1536 - 80");
	cc.port[2].max_mtu = 2030; /* port id 5 */
	snprintf(cc.port[2].mtu_why, sizeof(cc.port[2].mtu_why), "mbuf data room 2048 - 18");
	C = cfg_create(&cc);
	assert_non_null(C);
	SID = 0;
	return 0;
}

static void
test_iface_port_limit(void **state)
{
	(void)state;
	struct npr_msg_iface_set m;
	struct npr_dump_iface e;
	uint8_t *d;

	/* the ports say what they carry */
	size_t len;
	assert_int_equal(dump(NPR_DUMP_PORTS, &d, &len), 3);
	const struct npr_dump_port *p = (const struct npr_dump_port *)d;
	assert_int_equal(p[0].max_mtu, NPR_MTU_MAX); /* no limit given: nprouter's */
	assert_string_equal(p[0].mtu_why, "nprouter's maximum");
	assert_int_equal(p[1].port_id, 1);
	assert_int_equal(p[1].max_mtu, 1456);
	assert_string_equal(p[1].mtu_why, "af_packet framesz 1536 - 80");
	assert_int_equal(p[2].max_mtu, 2030);
	free(d);

	/* up to the limit: fine */
	mk_iface(&m, 0, 5, 2030, NPR_IFACE_F_UP, "core");
	OK(xsend(&m, sizeof(m)));
	OK(addr_op(NPR_MSG_ADDR_ADD, 0, 4, 24, "192.0.2.1"));
	/* above it: refused, and nothing changes (expect_err compares every dump) */
	mk_iface(&m, 0, 5, 9000, NPR_IFACE_F_UP, "core");
	expect_err(&m, sizeof(m), -ERANGE,
		   "interface core: MTU 9000 above what port 5 (net_ring2) carries: 2030 (mbuf "
		   "data room 2048 - 18)");
	mk_iface(&m, 0, 5, 2031, 0, "core");
	expect_err(&m, sizeof(m), -ERANGE, "MTU 2031 above what port 5");
	/* a new interface too */
	mk_iface(&m, 1, 1, 1500, NPR_IFACE_F_UP, "wan");
	expect_err(&m, sizeof(m), -ERANGE,
		   "interface wan: MTU 1500 above what port 1 (net_ring1) carries: 1456 "
		   "(af_packet framesz 1536 - 80)");
	assert_int_equal(dump(NPR_DUMP_IFACES, &d, NULL), 1);
	free(d);
	/* no MTU given: 1500, or what the port carries if that is less */
	mk_iface(&m, 1, 1, 0, NPR_IFACE_F_UP, "wan");
	OK(xsend(&m, sizeof(m)));
	mk_iface(&m, 2, 0, 0, NPR_IFACE_F_UP, "lan");
	OK(xsend(&m, sizeof(m)));
	assert_int_equal(dump(NPR_DUMP_IFACES, &d, NULL), 3);
	for (unsigned i = 0; i < 3; i++) {
		memcpy(&e, d + i * sizeof(e), sizeof(e));
		assert_int_equal(e.mtu, e.ifid == 0 ? 2030 : e.ifid == 1 ? 1456 : 1500);
	}
	free(d);
	/* the workers check against it */
	assert_int_equal(atomic_load(&cfg_tables(C)->port[1].mtu), 1456);
	assert_int_equal(atomic_load(&cfg_tables(C)->port[5].mtu), 2030);
	/* moving an interface to a port that carries less than its MTU: refused */
	OK(iface_del(1));
	mk_iface(&m, 0, 1, 2030, NPR_IFACE_F_UP, "core");
	expect_err(&m, sizeof(m), -ERANGE, "MTU 2030 above what port 1 (net_ring1) carries: 1456");
	mk_iface(&m, 0, 1, 1400, NPR_IFACE_F_UP, "core");
	OK(xsend(&m, sizeof(m)));
	/* inside a batch: the whole batch goes */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	mk_iface(&m, 0, 1, 1280, NPR_IFACE_F_UP, "core");
	OK(xsend(&m, sizeof(m)));
	mk_iface(&m, 2, 0, 9000, NPR_IFACE_F_UP, "lan");
	assert_int_equal(xsend(&m, sizeof(m)), 0); /* port 0 carries 9000 */
	mk_iface(&m, 3, 5, 4000, NPR_IFACE_F_UP, "dmz");
	assert_int_equal(xsend(&m, sizeof(m)), -ERANGE);
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -ECANCELED);
	assert_int_equal(dump(NPR_DUMP_IFACES, &d, NULL), 2);
	for (unsigned i = 0; i < 2; i++) {
		memcpy(&e, d + i * sizeof(e), sizeof(e));
		assert_int_equal(e.mtu, e.ifid == 0 ? 1400 : 1500);
	}
	free(d);
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Addresses */

static void
test_addr(void **state)
{
	(void)state;
	struct npr_msg_addr m;
	uint8_t *d;

	base_topology();
	assert_int_equal(lookup(4, "10.0.0.1"), NPR_TARGET_LOCAL);
	/* the address's subnet is connected (hosts on it are resolved by the slow path) */
	assert_int_equal(lookup(4, "10.0.0.3"), NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | 0);
	assert_int_equal(lookup(4, "10.0.1.3"), 1); /* the default route */
	assert_int_equal(lookup(6, "2001:db8:1::1"), NPR_TARGET_LOCAL);
	assert_int_equal(lookup(6, "2001:db8:1::2"), NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | 1);
	assert_int_equal(lookup(6, "2001:db8:2::2"), NPR_TARGET_GROUP | 1);
	assert_int_equal(dump(NPR_DUMP_ADDRS, &d, NULL), 2);
	free(d);
	/* the host routes show in the route dumps */
	uint32_t n = dump_sorted(NPR_DUMP_ROUTES4, sizeof(struct npr_route4), &d);
	bool found = false;
	for (uint32_t i = 0; i < n; i++) {
		struct npr_route4 r;
		memcpy(&r, d + i * sizeof(r), sizeof(r));
		if (r.prefix == htonl(0x0a000001) && r.plen == 32) {
			assert_int_equal(r.target, NPR_TARGET_LOCAL);
			found = true;
		}
	}
	assert_true(found);
	free(d);

	/* re-adding is idempotent; a new prefix length updates it */
	OK(addr_op(NPR_MSG_ADDR_ADD, 0, 4, 16, "10.0.0.1"));
	dump(NPR_DUMP_ADDRS, &d, NULL);
	struct npr_dump_addr a;
	memcpy(&a, d, sizeof(a));
	free(d);
	assert_int_equal(a.plen, 16);

	/* conflicts */
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "10.0.0.1");
	expect_err(&m, sizeof(m), -EEXIST, "already on interface 0");
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.9.9.9", 32, 1));
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "10.9.9.9");
	expect_err(&m, sizeof(m), -EEXIST, "a route to 10.9.9.9/32 exists");
	struct r4 r = { 0x0a000001, 32, 2 };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EEXIST,
		   "route 0: 10.0.0.1/32 is a local address");
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_REPLACE, &r, 1), -EEXIST, "local address");
	r.target = 0;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_DEL, &r, 1), -ENOENT, "does not exist");

	/* field checks */
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 0, "10.5.0.1");
	expect_err(&m, sizeof(m), -EINVAL, "prefix length 0");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 33, "10.5.0.1");
	expect_err(&m, sizeof(m), -EINVAL, "prefix length 33");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 6, 129, "2001:db8::5");
	expect_err(&m, sizeof(m), -EINVAL, "prefix length 129");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "10.5.0.1");
	m.family = 5;
	expect_err(&m, sizeof(m), -EINVAL, "family 5");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "224.0.0.1");
	expect_err(&m, sizeof(m), -EINVAL, "multicast");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "0.0.0.0");
	expect_err(&m, sizeof(m), -EINVAL, "unspecified");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 8, "0.0.0.1"); /* the workers drop 0/8 */
	expect_err(&m, sizeof(m), -EINVAL, "address 0.0.0.1 is in 0.0.0.0/8");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 6, 64, "ff02::1");
	expect_err(&m, sizeof(m), -EINVAL, "multicast");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "10.5.0.1");
	m.addr[7] = 1;
	expect_err(&m, sizeof(m), -EINVAL, "beyond the IPv4 address");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 9, 4, 24, "10.5.0.1");
	expect_err(&m, sizeof(m), -ENOENT, "interface 9 does not exist");
	mk_addr(&m, NPR_MSG_ADDR_ADD, 1, 4, 24, "10.5.0.1");
	m.reserved[3] = 1;
	expect_err(&m, sizeof(m), -EINVAL, "reserved");
	mk_addr(&m, NPR_MSG_ADDR_DEL, 1, 4, 24, "10.0.0.1");
	expect_err(&m, sizeof(m), -ENOENT, "not on interface 1");
	/* as ip addr del: the prefix length must be the address's (/16 since above) */
	mk_addr(&m, NPR_MSG_ADDR_DEL, 0, 4, 24, "10.0.0.1");
	expect_err(&m, sizeof(m), -ENOENT, "10.0.0.1/24 is not on interface 0 (10.0.0.1/16 is)");
	/* a gateway that is one of the router's addresses would never resolve */
	struct npr_msg_nh_set nm;
	mk_nh(&nm, 20, NPR_NH_FORWARD, 1, 4, "10.0.0.1", NULL);
	expect_err(&nm, sizeof(nm), -EINVAL,
		   "next hop 20: gateway 10.0.0.1 is an address of this router (interface ");
	mk_nh(&nm, 20, NPR_NH_FORWARD, 0, 6, "2001:db8:1::1", NULL);
	expect_err(&nm, sizeof(nm), -EINVAL, "gateway 2001:db8:1::1 is an address of this router");
	/* a link-local address is ours on its own link only: fe80::1 on eth0 can be a
	 * neighbour's on eth1 */
	OK(addr_op(NPR_MSG_ADDR_ADD, 0, 6, 64, "fe80::1"));
	mk_nh(&nm, 20, NPR_NH_FORWARD, 0, 6, "fe80::1", NULL);
	expect_err(&nm, sizeof(nm), -EINVAL, "gateway fe80::1 is an address of this router");
	OK(nh_set(20, NPR_NH_FORWARD, 1, 6, "fe80::1", NULL));
	OK(id_del(NPR_MSG_NH_DEL, 20));
	OK(addr_op(NPR_MSG_ADDR_DEL, 0, 6, 64, "fe80::1"));

	OK(addr_op(NPR_MSG_ADDR_DEL, 0, 4, 16, "10.0.0.1"));
	assert_int_equal(lookup(4, "10.0.0.1"), 1);
	OK(addr_op(NPR_MSG_ADDR_DEL, 1, 6, 64, "2001:db8:1::1"));
	assert_int_equal(dump(NPR_DUMP_ADDRS, &d, NULL), 0);
	free(d);
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Next hops and neighbours */

static void
test_nh_neigh(void **state)
{
	(void)state;
	struct npr_msg_nh_set m;
	struct npr_msg_neigh nm;
	uint8_t *d;

	base_topology();
	/* nh 1: gateway 10.0.0.2 on eth0, MAC from the neighbour */
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_a)));
	OK(neigh_op(NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.2", mac_c));
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_c)));
	OK(neigh_op(NPR_MSG_NEIGH_DEL, 0, 4, "10.0.0.2", NULL));
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_UNRESOLVED, 0, 0));
	check_invariants();
	/* several next hops on one gateway, one with an explicit MAC (not affected) */
	OK(nh_set(10, NPR_NH_FORWARD, 0, 4, "10.0.0.2", NULL));
	OK(nh_set(11, NPR_NH_FORWARD, 0, 4, "10.0.0.2", mac_b));
	OK(nh_set(12, NPR_NH_FORWARD, 1, 4, "10.0.0.2", NULL)); /* other interface */
	OK(neigh_op(NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.2", mac_a));
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_a)));
	assert_int_equal(word(10), fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_a)));
	assert_int_equal(word(11), fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_b)));
	assert_int_equal(word(12), fwd_nh_pack(FWD_NH_UNRESOLVED, 1, 0));
	/* IPv6 gateway */
	OK(neigh_op(NPR_MSG_NEIGH_SET, 1, 6, "fe80::2", mac_c));
	assert_int_equal(word(4), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_c)));
	/* a next hop that moves to another gateway leaves the old one's list */
	OK(nh_set(10, NPR_NH_FORWARD, 1, 6, "fe80::2", NULL));
	assert_int_equal(word(10), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_c)));
	OK(neigh_op(NPR_MSG_NEIGH_DEL, 0, 4, "10.0.0.2", NULL));
	assert_int_equal(word(10), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_c)));
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_UNRESOLVED, 0, 0));
	check_invariants();
	/* directly connected host: no gateway, explicit MAC */
	OK(nh_set(13, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	assert_int_equal(word(13), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_a)));
	OK(nh_set(14, NPR_NH_UNREACHABLE, 0, 0, NULL, NULL));
	OK(nh_set(15, NPR_NH_PROHIBIT, 0, 0, NULL, NULL));
	assert_int_equal(word(3), fwd_nh_pack(FWD_NH_BLACKHOLE, 0, 0));
	assert_int_equal(word(14), fwd_nh_pack(FWD_NH_UNREACHABLE, 0, 0));
	assert_int_equal(word(15), fwd_nh_pack(FWD_NH_PROHIBIT, 0, 0));

	/* replace in place: the route keeps pointing at the id, the word changes */
	assert_int_equal(lookup(4, "172.16.1.1"), 3);
	OK(nh_set(3, NPR_NH_FORWARD, 1, 0, NULL, mac_c));
	assert_int_equal(lookup(4, "172.16.1.1"), 3);
	assert_int_equal(word(3), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_c)));

	/* dump: effective MAC, flags, refcnt */
	uint32_t n = dump(NPR_DUMP_NHS, &d, NULL);
	assert_int_equal(n, 10);
	for (uint32_t i = 0; i < n; i++) {
		struct npr_dump_nh e;
		memcpy(&e, d + i * sizeof(e), sizeof(e));
		if (e.nh_id == 1) {
			assert_int_equal(e.flags, 0);
			assert_true(mac48(e.mac) == 0);
			assert_int_equal(e.refcnt, 2); /* default route + group 1 */
		}
		if (e.nh_id == 2) {
			assert_int_equal(e.flags, NPR_NH_F_MAC | NPR_NH_F_RESOLVED);
			assert_memory_equal(e.mac, mac_b, 6);
			assert_int_equal(e.refcnt, 2); /* 2001:db8:100::/48 + group 1 */
		}
		if (e.nh_id == 4) {
			assert_int_equal(e.flags, NPR_NH_F_RESOLVED);
			assert_memory_equal(e.mac, mac_c, 6);
			assert_int_equal(e.family, 6);
		}
	}
	free(d);
	check_invariants();

	/* field errors */
	mk_nh(&m, 0, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL);
	expect_err(&m, sizeof(m), -EINVAL, "next hop id 0 out of range (1..63)");
	mk_nh(&m, NH_MAX, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL);
	expect_err(&m, sizeof(m), -EINVAL, "next hop id 64 out of range");
	mk_nh(&m, 20, 0, 0, 0, NULL, NULL);
	expect_err(&m, sizeof(m), -EINVAL, "unknown kind 0");
	mk_nh(&m, 20, 5, 0, 0, NULL, NULL);
	expect_err(&m, sizeof(m), -EINVAL, "unknown kind 5");
	mk_nh(&m, 20, NPR_NH_BLACKHOLE, 1, 0, NULL, NULL);
	expect_err(&m, sizeof(m), -EINVAL, "takes no interface");
	mk_nh(&m, 20, NPR_NH_BLACKHOLE, 0, 4, "10.0.0.9", NULL);
	expect_err(&m, sizeof(m), -EINVAL, "takes no interface");
	mk_nh(&m, 20, NPR_NH_PROHIBIT, 0, 0, NULL, mac_a);
	expect_err(&m, sizeof(m), -EINVAL, "takes no interface");
	mk_nh(&m, 20, NPR_NH_FORWARD, 9, 4, "10.0.0.9", NULL);
	expect_err(&m, sizeof(m), -ENOENT, "interface 9 does not exist");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", NULL);
	m.family = 5;
	expect_err(&m, sizeof(m), -EINVAL, "family 5");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 0, NULL, NULL);
	m.gw[3] = 1;
	expect_err(&m, sizeof(m), -EINVAL, "gateway bytes set with family 0");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", NULL);
	m.gw[9] = 1;
	expect_err(&m, sizeof(m), -EINVAL, "beyond the IPv4 address");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "255.255.255.255", NULL);
	expect_err(&m, sizeof(m), -EINVAL, "gateway 255.255.255.255");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 6, "::", NULL);
	expect_err(&m, sizeof(m), -EINVAL, "unspecified");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", NULL);
	memcpy(m.mac, mac_a, 6);
	expect_err(&m, sizeof(m), -EINVAL, "without NPR_NH_F_MAC");
	static const uint8_t zero[6], mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 },
				      bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", zero);
	expect_err(&m, sizeof(m), -EINVAL, "MAC is zero");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", mcast);
	expect_err(&m, sizeof(m), -EINVAL, "multicast");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", bcast);
	expect_err(&m, sizeof(m), -EINVAL, "multicast");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", NULL);
	m.flags = 8;
	expect_err(&m, sizeof(m), -EINVAL, "unknown flags 0x8");
	mk_nh(&m, 20, NPR_NH_FORWARD, 0, 4, "10.0.0.9", NULL);
	m.flags = NPR_NH_F_RESOLVED;
	expect_err(&m, sizeof(m), -EINVAL, "unknown flags");
	/* NPR_NH_F_INLINE (nprouter-control's mark) is kept and reported, on any kind */
	mk_nh(&m, 20, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL);
	m.flags = NPR_NH_F_INLINE;
	OK(xsend(&m, sizeof(m)));
	mk_nh(&m, 21, NPR_NH_FORWARD, 0, 4, "10.0.0.9", mac_a);
	m.flags |= NPR_NH_F_INLINE;
	OK(xsend(&m, sizeof(m)));
	/* made with a fresh id only: never over a next hop that exists, inline or not */
	expect_err(&m, sizeof(m), -EEXIST,
		   "next hop 21 exists: an inline next hop takes a free id");
	mk_nh(&m, 1, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL);
	m.flags = NPR_NH_F_INLINE;
	expect_err(&m, sizeof(m), -EEXIST, "next hop 1 exists");
	n = dump(NPR_DUMP_NHS, &d, NULL);
	unsigned seen = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct npr_dump_nh e;
		memcpy(&e, d + i * sizeof(e), sizeof(e));
		if (e.nh_id == 20 && ++seen)
			assert_int_equal(e.flags, NPR_NH_F_INLINE);
		if (e.nh_id == 21 && ++seen)
			assert_int_equal(e.flags,
					 NPR_NH_F_MAC | NPR_NH_F_INLINE | NPR_NH_F_RESOLVED);
	}
	free(d);
	assert_int_equal(seen, 2);
	OK(id_del(NPR_MSG_NH_DEL, 20));
	OK(id_del(NPR_MSG_NH_DEL, 21));
	/* a group member must stay a forward next hop */
	mk_nh(&m, 2, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL);
	expect_err(&m, sizeof(m), -EBUSY, "group member");

	/* deletes */
	struct npr_msg_id dm;
	memset(&dm, 0, sizeof(dm));
	hdr(&dm, NPR_MSG_NH_DEL, sizeof(dm));
	dm.id = 1;
	expect_err(&dm, sizeof(dm), -EBUSY, "next hop 1 is used by 1 routes and 1 groups");
	dm.id = 3;
	expect_err(&dm, sizeof(dm), -EBUSY, "used by 1 routes");
	dm.id = 30;
	expect_err(&dm, sizeof(dm), -ENOENT, "next hop 30 does not exist");
	dm.id = 64;
	expect_err(&dm, sizeof(dm), -EINVAL, "out of range");
	dm.id = 14;
	dm.reserved = 1;
	expect_err(&dm, sizeof(dm), -EINVAL, "reserved");
	OK(id_del(NPR_MSG_NH_DEL, 14));
	assert_int_equal(word(14), 0);

	/* neighbour errors */
	mk_neigh(&nm, NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.7", zero);
	expect_err(&nm, sizeof(nm), -EINVAL, "MAC is zero");
	mk_neigh(&nm, NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.7", mcast);
	expect_err(&nm, sizeof(nm), -EINVAL, "multicast");
	mk_neigh(&nm, NPR_MSG_NEIGH_SET, 8, 4, "10.0.0.7", mac_a);
	expect_err(&nm, sizeof(nm), -ENOENT, "interface 8 does not exist");
	mk_neigh(&nm, NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.7", mac_a);
	nm.family = 0;
	expect_err(&nm, sizeof(nm), -EINVAL, "family 0");
	mk_neigh(&nm, NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.7", mac_a);
	nm.reserved2[2] = 1;
	expect_err(&nm, sizeof(nm), -EINVAL, "reserved");
	mk_neigh(&nm, NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.7", mac_a);
	nm.reserved = 1;
	expect_err(&nm, sizeof(nm), -EINVAL, "reserved");
	mk_neigh(&nm, NPR_MSG_NEIGH_DEL, 0, 4, "10.0.0.7", NULL);
	expect_err(&nm, sizeof(nm), -ENOENT, "no neighbour 10.0.0.7 on interface 0");
	OK(neigh_op(NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.7", mac_a));
	mk_neigh(&nm, NPR_MSG_NEIGH_DEL, 0, 4, "10.0.0.7", mac_a);
	expect_err(&nm, sizeof(nm), -EINVAL, "carries a MAC");
	assert_int_equal(dump(NPR_DUMP_NEIGHS, &d, NULL), 2);
	free(d);
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Groups */

static void
test_group(void **state)
{
	(void)state;
	uint8_t *d;
	base_topology();
	for (uint32_t i = 20; i < 40; i++)
		OK(nh_set(i, NPR_NH_FORWARD, i % 2, 0, NULL, mac_a));

	/* weights 3:1 -> 4 slots, interleaved (not A A A B in one block... B is not last) */
	uint32_t mb[64];
	uint16_t w[64];
	mb[0] = 20, w[0] = 3, mb[1] = 21, w[1] = 1;
	OK(group_set(2, 2, mb, w));
	const struct fwd_group *g = pub_group(2);
	assert_non_null(g);
	assert_int_equal(g->n_slots, 4);
	/* equal weights alternate */
	mb[0] = 20, w[0] = 2, mb[1] = 21, w[1] = 2;
	OK(group_set(3, 2, mb, w));
	g = pub_group(3);
	assert_int_equal(g->n_slots, 4);
	assert_true(g->nh[0] != g->nh[1] && g->nh[1] != g->nh[2] && g->nh[2] != g->nh[3]);
	/* random weights: slot counts equal the weights, and the members are spread: in every
	 * prefix of k slots a member has k * w / total slots, give or take 2 (in blocks, a
	 * member would be up to w * (1 - w / total) off) */
	for (int it = 0; it < 50; it++) {
		unsigned n = 1 + (unsigned)(rnd() % 16), total = 0;
		for (unsigned i = 0; i < n; i++) {
			mb[i] = 20 + i;
			w[i] = (uint16_t)(1 + rnd() % 60);
			total += w[i];
		}
		OK(group_set(4, n, mb, w));
		g = pub_group(4);
		assert_int_equal(g->n_slots, total);
		for (unsigned i = 0; i < n; i++) {
			unsigned cnt = 0;
			for (unsigned s = 0; s < total; s++) {
				cnt += g->nh[s] == mb[i];
				double ideal = (double)(s + 1) * w[i] / total;
				assert_true(cnt < ideal + 2 && cnt > ideal - 2);
			}
			assert_int_equal(cnt, w[i]);
		}
	}
	/* max slots: 4 x 256 = 1024 */
	for (unsigned i = 0; i < 4; i++)
		mb[i] = 20 + i, w[i] = 256;
	OK(group_set(5, 4, mb, w));
	assert_int_equal(pub_group(5)->n_slots, 1024);
	check_invariants();

	/* a new version is published on change, none when identical (resync) */
	const struct fwd_group *g1 = pub_group(1);
	mb[0] = 1, w[0] = 1, mb[1] = 2, w[1] = 3;
	OK(group_set(1, 2, mb, w));
	assert_ptr_equal(pub_group(1), g1);
	w[1] = 2;
	OK(group_set(1, 2, mb, w));
	assert_ptr_not_equal(pub_group(1), g1);
	assert_int_equal(pub_group(1)->n_slots, 3);
	assert_int_equal(lookup(4, "192.168.3.4"), NPR_TARGET_GROUP | 1);

	/* errors */
	uint32_t len;
	mb[0] = 20, w[0] = 1, mb[1] = 21, w[1] = 1, mb[2] = 20, w[2] = 1;
	len = mk_group(6, 3, mb, w);
	expect_err(msgbuf, len, -EINVAL, "member 2: next hop 20 is listed twice");
	assert_int_equal(last.index, 2);
	w[2] = 0, mb[2] = 22;
	len = mk_group(6, 3, mb, w);
	expect_err(msgbuf, len, -EINVAL, "member 2: weight 0 out of range");
	assert_int_equal(last.index, 2);
	w[2] = 257;
	len = mk_group(6, 3, mb, w);
	expect_err(msgbuf, len, -EINVAL, "weight 257");
	for (unsigned i = 0; i < 5; i++)
		mb[i] = 20 + i, w[i] = 256;
	len = mk_group(6, 5, mb, w);
	expect_err(msgbuf, len, -EINVAL, "weights sum to 1280, more than 1024");
	mb[0] = 20, w[0] = 1, mb[1] = 50, w[1] = 1;
	len = mk_group(6, 2, mb, w);
	expect_err(msgbuf, len, -ENOENT, "member 1: next hop 50 does not exist");
	assert_int_equal(last.index, 1);
	mb[1] = 3; /* blackhole */
	len = mk_group(6, 2, mb, w);
	expect_err(msgbuf, len, -EINVAL, "not a forward next hop");
	mb[1] = 0;
	len = mk_group(6, 2, mb, w);
	expect_err(msgbuf, len, -EINVAL, "out of range");
	mb[1] = 21;
	len = mk_group(0, 2, mb, w);
	expect_err(msgbuf, len, -EINVAL, "group id 0 out of range (1..15)");
	len = mk_group(GROUP_MAX, 2, mb, w);
	expect_err(msgbuf, len, -EINVAL, "group id 16");
	len = mk_group(6, 2, mb, w);
	msgbuf[sizeof(struct npr_msg_group_set) + 8 + 6] = 1; /* member 1 reserved */
	expect_err(msgbuf, len, -EINVAL, "member 1: reserved");
	len = mk_group(6, 2, mb, w);
	msgbuf[offsetof(struct npr_msg_group_set, reserved)] = 1;
	expect_err(msgbuf, len, -EINVAL, "reserved");

	/* in use */
	struct npr_msg_id dm;
	memset(&dm, 0, sizeof(dm));
	hdr(&dm, NPR_MSG_GROUP_DEL, sizeof(dm));
	dm.id = 1;
	expect_err(&dm, sizeof(dm), -EBUSY, "group 1 is used by 2 routes");
	dm.id = 9;
	expect_err(&dm, sizeof(dm), -ENOENT, "group 9 does not exist");
	dm.id = 16;
	expect_err(&dm, sizeof(dm), -EINVAL, "out of range");
	struct npr_msg_id nd;
	memset(&nd, 0, sizeof(nd));
	hdr(&nd, NPR_MSG_NH_DEL, sizeof(nd));
	nd.id = 21;
	expect_err(&nd, sizeof(nd), -EBUSY, "groups");
	OK(id_del(NPR_MSG_GROUP_DEL, 2));
	assert_null(pub_group(2));
	assert_int_equal(dump(NPR_DUMP_GROUPS, &d, NULL), 4);
	free(d);
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Routes, compared with a reference table */

static int
cmp_r4(const void *a, const void *b)
{
	const struct r4 *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return (int)x->plen - (int)y->plen;
}

static uint32_t
mask4(uint8_t plen)
{
	return plen == 0 ? 0 : ~0u << (32 - plen);
}

static uint32_t
ref_lpm4(const struct r4 *r, uint32_t n, uint32_t a)
{
	int best = -1;
	uint32_t v = 0;
	for (uint32_t i = 0; i < n; i++)
		if ((a & mask4(r[i].plen)) == r[i].prefix && (int)r[i].plen > best) {
			best = r[i].plen;
			v = r[i].target;
		}
	return v;
}

/* Compare the ROUTES4 dump with ref (plus local host routes in loc). */
static void
check_routes4(const struct r4 *ref, uint32_t n)
{
	uint8_t *d;
	uint32_t got = dump(NPR_DUMP_ROUTES4, &d, NULL);
	assert_int_equal(got, n);
	struct r4 *g = malloc((got + 1) * sizeof(*g)), *e = malloc((n + 1) * sizeof(*e));
	for (uint32_t i = 0; i < got; i++) {
		struct npr_route4 r;
		memcpy(&r, d + i * sizeof(r), sizeof(r));
		assert_int_equal(r.proto, 0);
		assert_true(r.origin == NPR_ORIGIN_NONE || r.origin == NPR_ORIGIN_CONFIG);
		g[i] = (struct r4){ ntohl(r.prefix), r.plen, r.target };
	}
	memcpy(e, ref, n * sizeof(*e));
	qsort(g, got, sizeof(*g), cmp_r4);
	qsort(e, n, sizeof(*e), cmp_r4);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(g[i].prefix, e[i].prefix);
		assert_int_equal(g[i].plen, e[i].plen);
		assert_int_equal(g[i].target, e[i].target);
	}
	free(g);
	free(e);
	free(d);
}

/* The published FIB's answer as a route target: the internal next hops behind a connected
 * subnet (and the host routes of its neighbours) are on interface 0 for IPv4 here. */
static uint32_t
fib4_pub(uint32_t a)
{
	uint32_t v = fib4_lookup(cfg_tables(C)->fib4, a);
	return v >= NH_MAX && !(v & (NPR_TARGET_LOCAL | NPR_TARGET_GROUP))
		       ? NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | 0
		       : v;
}

static void
test_routes4(void **state)
{
	(void)state;
	enum { N = 3000 };
	struct r4 *ref = malloc((N + 16) * sizeof(*ref));
	uint32_t n = 0;

	base_topology();
	/* the base topology's routes, as the reference sees them */
	ref[n++] = (struct r4){ 0, 0, 1 };
	ref[n++] = (struct r4){ 0xc0a80000, 16, NPR_TARGET_GROUP | 1 };
	ref[n++] = (struct r4){ 0xac100000, 12, 3 };
	ref[n++] = (struct r4){ 0x0a000001, 32, NPR_TARGET_LOCAL };
	ref[n++] = (struct r4){ 0x0a000000, 24, NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | 0 };
	uint32_t base = n;
	/* N random distinct routes in 10/8 */
	while (n < base + N) {
		uint8_t plen = (uint8_t)(9 + rnd() % 24);
		uint32_t p = (0x0a000000u | ((uint32_t)rnd() & 0x00ffffffu)) & mask4(plen);
		uint32_t t = rnd() % 3 == 0 ? (NPR_TARGET_GROUP | 1) : (uint32_t)(1 + rnd() % 4);
		bool dup = false;
		for (uint32_t i = base; i < n && !dup; i++)
			dup = ref[i].prefix == p && ref[i].plen == plen;
		if ((p == 0x0a000001 && plen == 32) || (p == 0x0a000000 && plen == 24))
			dup = true;
		if (!dup)
			ref[n++] = (struct r4){ p, plen, t };
	}
	OK(route4(NPR_MSG_ROUTE4_ADD, ref + base, 1000));
	OK(route4(NPR_MSG_ROUTE4_ADD, ref + base + 1000, N - 1000));
	check_routes4(ref, n);
	for (int i = 0; i < 400; i++) {
		uint32_t a = 0x0a000000u | ((uint32_t)rnd() & 0x00ffffffu);
		if (i % 2)
			a = ref[base + rnd() % N].prefix | ((uint32_t)rnd() & 0xff);
		assert_int_equal(fib4_pub(a), ref_lpm4(ref, n, a));
	}
	check_invariants();

	/* ADD of an existing route replaces its target; REPLACE too */
	ref[base].target = 2;
	OK(route4(NPR_MSG_ROUTE4_ADD, ref + base, 1));
	ref[base + 1].target = 3;
	OK(route4(NPR_MSG_ROUTE4_REPLACE, ref + base + 1, 1));
	check_routes4(ref, n);
	check_invariants();

	/* DEL of the first 500 */
	struct r4 *del = malloc(500 * sizeof(*del));
	for (int i = 0; i < 500; i++)
		del[i] = (struct r4){ ref[base + i].prefix, ref[base + i].plen, 0 };
	OK(route4(NPR_MSG_ROUTE4_DEL, del, 500));
	memmove(ref + base, ref + base + 500, (n - base - 500) * sizeof(*ref));
	n -= 500;
	check_routes4(ref, n);
	for (int i = 0; i < 200; i++) {
		uint32_t a = del[rnd() % 500].prefix | ((uint32_t)rnd() & 0x3);
		assert_int_equal(fib4_pub(a), ref_lpm4(ref, n, a));
	}
	check_invariants();

	/* all or nothing: a REPLACE whose entry 50 is absent; a DEL of an absent one */
	struct r4 batch[100];
	for (int i = 0; i < 100; i++)
		batch[i] = (struct r4){ ref[base + i].prefix, ref[base + i].plen, 2 };
	batch[50] = (struct r4){ del[0].prefix, del[0].plen, 2 };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_REPLACE, batch, 100), -ENOENT, "route 50: ");
	assert_int_equal(last.index, 50);
	for (int i = 0; i < 100; i++)
		batch[i].target = 0;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_DEL, batch, 100), -ENOENT, "does not exist");
	assert_int_equal(last.index, 50);
	/* the same route deleted twice in one message: the second fails, nothing happens */
	batch[50] = batch[10];
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_DEL, batch, 100), -ENOENT, "route 50");
	/* an ADD message whose last entry is bad adds none of the others */
	struct r4 add[100];
	for (int i = 0; i < 100; i++)
		add[i] = (struct r4){ 0x0b000000u | (uint32_t)i << 8, 24, 1 };
	add[99].target = 33;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, add, 100), -ENOENT,
		   "route 99: next hop 33 does not exist");
	assert_int_equal(last.index, 99);

	/* field errors */
	struct r4 r = { 0x0a000001, 24, 1 };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL,
		   "route 0: prefix 10.0.0.1/24 has host bits set (10.0.0.0/24)");
	struct r4 two[2] = { { 0x0c000000, 8, 1 }, { 0x0a000001, 24, 1 } };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, two, 2), -EINVAL,
		   "route 1: prefix 10.0.0.1/24 has host bits set (10.0.0.0/24)");
	assert_int_equal(last.index, 1);
	r = (struct r4){ 0x0a000000, 33, 1 };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL,
		   "prefix length 33 out of range");
	r = (struct r4){ 0x0d000000, 8, 40 };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -ENOENT,
		   "next hop 40 does not exist");
	r.target = 64;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL, "out of range");
	r.target = 0;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL, "no target");
	r.target = NPR_TARGET_GROUP | 7;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -ENOENT, "group 7 does not exist");
	r.target = NPR_TARGET_GROUP | 16;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL, "group id 16");
	r.target = NPR_TARGET_LOCAL;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL, "reserved bits");
	r.target = 0x80000001u;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1), -EINVAL, "reserved bits");
	r.target = 1;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_REPLACE, &r, 1), -ENOENT,
		   "route 0: 13.0.0.0/8 does not exist");
	r.target = 0;
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_DEL, &r, 1), -ENOENT, "13.0.0.0/8");
	r = ref[base];
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_DEL, &r, 1), -EINVAL, "DEL carries a target");
	r.target = 1;
	uint32_t len = mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1);
	msgbuf[sizeof(struct npr_msg_route4) + 5] = 1; /* entry origin: the session's only */
	expect_err(msgbuf, len, -EINVAL, "route 0: origin 1 set");
	len = mk_route4(NPR_MSG_ROUTE4_ADD, &r, 1);
	msgbuf[20] = 1; /* header reserved */
	expect_err(msgbuf, len, -EINVAL, "reserved");
	check_routes4(ref, n);
	free(del);
	free(ref);
	check_invariants();
}

static void
test_routes6(void **state)
{
	(void)state;
	enum { N = 1500 };
	struct r6 *ref = calloc(N + 8, sizeof(*ref));
	uint32_t n = 0;

	base_topology();
	/* reference: local 2001:db8:1::1/128, the two base routes */
	ref[n].plen = 128, ref[n].target = NPR_TARGET_LOCAL;
	ip6(ref[n++].prefix, "2001:db8:1::1");
	ref[n].plen = 64, ref[n].target = NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | 1;
	ip6(ref[n++].prefix, "2001:db8:1::");
	ref[n].plen = 48, ref[n].target = 2;
	ip6(ref[n++].prefix, "2001:db8:100::");
	ref[n].plen = 0, ref[n].target = NPR_TARGET_GROUP | 1;
	ip6(ref[n++].prefix, "::");
	uint32_t base = n;
	while (n < base + N) {
		struct r6 x = { .plen = (uint8_t)(33 + rnd() % 96),
				.target = (uint32_t)(1 + rnd() % 4) };
		ip6(x.prefix, "2001:db8::");
		for (unsigned k = 4; k < 16; k++)
			x.prefix[k] = (uint8_t)rnd();
		for (unsigned k = 0; k < 16; k++) {
			unsigned keep = x.plen >= 8 * (k + 1) ? 8
					: x.plen > 8 * k      ? x.plen - 8 * k
							      : 0;
			x.prefix[k] &= (uint8_t)(0xff00u >> keep);
		}
		bool dup = false;
		for (uint32_t i = 0; i < n && !dup; i++)
			dup = ref[i].plen == x.plen && memcmp(ref[i].prefix, x.prefix, 16) == 0;
		if (!dup)
			ref[n++] = x;
	}
	OK(xsend(msgbuf, mk_route6(NPR_MSG_ROUTE6_ADD, ref + base, N)));
	uint8_t *d;
	uint32_t got = dump_sorted(NPR_DUMP_ROUTES6, sizeof(struct npr_route6), &d);
	assert_int_equal(got, n);
	struct npr_route6 *exp = calloc(n, sizeof(*exp));
	for (uint32_t i = 0; i < n; i++) {
		memcpy(exp[i].prefix, ref[i].prefix, 16);
		exp[i].plen = ref[i].plen;
		exp[i].target = ref[i].target;
		if (!(ref[i].target & NPR_TARGET_LOCAL)) {
			exp[i].origin = NPR_ORIGIN_CONFIG;
			exp[i].distance = 1;
		}
	}
	sort_size = sizeof(struct npr_route6);
	qsort(exp, n, sizeof(*exp), cmp_bytes);
	assert_memory_equal(d, exp, n * sizeof(*exp));
	free(d);
	free(exp);
	/* lookups inside each route (the most specific one in the reference wins) */
	for (uint32_t i = base; i < base + 300; i++) {
		uint8_t a[16];
		memcpy(a, ref[i].prefix, 16);
		a[15] |= 1;
		int best = -1;
		uint32_t want = 0;
		for (uint32_t j = 0; j < n; j++) {
			bool in = true;
			for (unsigned k = 0; k < 16 && in; k++) {
				unsigned keep = ref[j].plen >= 8 * (k + 1) ? 8
						: ref[j].plen > 8 * k	   ? ref[j].plen - 8 * k
									   : 0;
				uint8_t msk = (uint8_t)(0xff00u >> keep);
				in = (a[k] & msk) == ref[j].prefix[k];
			}
			if (in && (int)ref[j].plen > best) {
				best = ref[j].plen;
				want = ref[j].target;
			}
		}
		assert_int_equal(fib6_lookup(cfg_tables(C)->fib6, a), want);
	}
	check_invariants();

	/* errors */
	struct r6 r = { .plen = 64, .target = 1 };
	ip6(r.prefix, "2001:db8:7::1");
	expect_err(msgbuf, mk_route6(NPR_MSG_ROUTE6_ADD, &r, 1), -EINVAL,
		   "route 0: prefix 2001:db8:7::1/64 has host bits set (2001:db8:7::/64)");
	r.plen = 129;
	expect_err(msgbuf, mk_route6(NPR_MSG_ROUTE6_ADD, &r, 1), -EINVAL,
		   "prefix length 129 out of range (0..128)");
	ip6(r.prefix, "2001:db8:7::");
	r.plen = 48;
	expect_err(msgbuf, mk_route6(NPR_MSG_ROUTE6_REPLACE, &r, 1), -ENOENT, "does not exist");
	r.target = 0;
	expect_err(msgbuf, mk_route6(NPR_MSG_ROUTE6_DEL, &r, 1), -ENOENT, "does not exist");
	r.target = 40;
	expect_err(msgbuf, mk_route6(NPR_MSG_ROUTE6_ADD, &r, 1), -ENOENT, "next hop 40");
	/* replace and delete */
	ref[base].target = 3;
	OK(xsend(msgbuf, mk_route6(NPR_MSG_ROUTE6_REPLACE, ref + base, 1)));
	assert_int_equal(fib6_lookup(cfg_tables(C)->fib6, ref[base].prefix), 3);
	struct r6 dl = ref[base];
	dl.target = 0;
	OK(xsend(msgbuf, mk_route6(NPR_MSG_ROUTE6_DEL, &dl, 1)));
	assert_int_equal(dump(NPR_DUMP_ROUTES6, &d, NULL), n - 1);
	free(d);
	free(ref);
	check_invariants();
}

/* route4_max: a message that would exceed it fails whole with -ENOSPC */
static void
test_route_limit(void **state)
{
	(void)state;
	struct cfg_conf cc = test_conf();
	cc.route4_max = 10;
	cfg_free(C);
	C = cfg_create(&cc);
	assert_non_null(C);
	base_topology(); /* 3 user routes */
	struct r4 r[8];
	for (int i = 0; i < 8; i++)
		r[i] = (struct r4){ 0x0b000000u | (uint32_t)i << 16, 16, 1 };
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, r, 8), -ENOSPC,
		   "route 7: route table full");
	assert_int_equal(last.index, 7);
	OK(route4(NPR_MSG_ROUTE4_ADD, r, 7));
	/* replacing an existing one needs no room */
	r[0].target = 2;
	OK(route4(NPR_MSG_ROUTE4_ADD, r, 1));
	expect_err(msgbuf, mk_route4(NPR_MSG_ROUTE4_ADD, r + 7, 1), -ENOSPC, "full");
	/* addresses do not count against it */
	OK(addr_op(NPR_MSG_ADDR_ADD, 1, 4, 24, "10.1.0.1"));
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Batches */

static void
test_batch(void **state)
{
	(void)state;
	struct snap a = { 0 }, b = { 0 };
	base_topology();

	/* staged changes are invisible until the commit */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(20, NPR_NH_FORWARD, 0, 0, NULL, mac_c));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "20.0.0.0", 8, 20));
	OK(route4_1(NPR_MSG_ROUTE4_REPLACE, "172.16.0.0", 12, 20));
	OK(nh_set(2, NPR_NH_FORWARD, 1, 4, "10.1.0.2", mac_c)); /* in place */
	OK(iface_set(0, 0, 0, "eth0"));				/* down */
	uint32_t mb[2] = { 20, 2 };
	uint16_t w[2] = { 1, 1 };
	const struct fwd_group *g1 = pub_group(1);
	OK(group_set(1, 2, mb, w));
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "0.0.0.0", 0, 0));
	assert_int_equal(lookup(4, "20.1.1.1"), 1); /* the default route, still */
	assert_int_equal(lookup(4, "172.16.1.1"), 3);
	assert_int_equal(word(20), 0);
	assert_int_equal(word(2), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_b)));
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_FORWARD, 0, mac48(mac_a)));
	assert_int_equal(atomic_load(&cfg_tables(C)->port[0].up), 1);
	assert_ptr_equal(pub_group(1), g1);
	OK(simple(NPR_MSG_BATCH_COMMIT));
	assert_string_equal(last.msg, "committed 7 messages");
	assert_int_equal(lookup(4, "20.1.1.1"), 20);
	assert_int_equal(lookup(4, "172.16.1.1"), 20);
	assert_int_equal(lookup(4, "8.8.8.8"), 0);
	assert_int_equal(word(20), fwd_nh_pack(FWD_NH_IFACE_DOWN, 0, 0));
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_IFACE_DOWN, 0, 0));
	assert_int_equal(word(2), fwd_nh_pack(FWD_NH_FORWARD, 1, mac48(mac_c)));
	assert_int_equal(atomic_load(&cfg_tables(C)->port[0].up), 0);
	assert_ptr_not_equal(pub_group(1), g1);
	check_invariants();

	/* abort restores everything */
	snap_take(&a);
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));
	OK(nh_set(21, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	OK(group_set(3, 2, mb, w));
	OK(group_set(1, 1, mb, w));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "21.0.0.0", 8, NPR_TARGET_GROUP | 3));
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "20.0.0.0", 8, 0));
	OK(id_del(NPR_MSG_NH_DEL, 3)); /* no route uses it any more */
	OK(neigh_op(NPR_MSG_NEIGH_DEL, 0, 4, "10.0.0.2", NULL));
	OK(addr_op(NPR_MSG_ADDR_DEL, 0, 4, 24, "10.0.0.1"));
	OK(addr_op(NPR_MSG_ADDR_ADD, 1, 4, 24, "10.1.0.1"));
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(simple(NPR_MSG_SYNC_END));
	assert_int_equal(lookup(4, "21.1.1.1"), 0);
	assert_int_equal(lookup(4, "10.0.0.1"), NPR_TARGET_LOCAL);
	OK(simple(NPR_MSG_BATCH_ABORT));
	snap_take(&b);
	snap_equal(&a, &b);
	check_invariants();

	/* a failed message poisons the batch */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(22, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "22.0.0.0", 8, 22));
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "23.0.0.0", 8, 55), -ENOENT);
	assert_int_equal(nh_set(23, NPR_NH_FORWARD, 1, 0, NULL, mac_a), -ECANCELED);
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -ECANCELED);
	snap_take(&b);
	snap_equal(&a, &b);
	/* and the batch is over: a commit now is an error */
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -EINVAL);
	assert_int_equal(simple(NPR_MSG_BATCH_ABORT), -EINVAL);
	/* HELLO (a new session) drops a batch left open by a dead one, staged work included */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(24, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "24.0.0.0", 8, 24));
	OK(simple(NPR_MSG_HELLO));
	assert_non_null(strstr(last.msg, "aborted a batch"));
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -EINVAL);
	assert_int_equal(lookup(4, "24.1.1.1"), 0);
	snap_take(&b);
	snap_equal(&a, &b);
	/* and a poisoned one too */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "23.0.0.0", 8, 55), -ENOENT);
	OK(simple(NPR_MSG_HELLO));
	assert_int_equal(simple(NPR_MSG_BATCH_ABORT), -EINVAL);
	snap_take(&b);
	snap_equal(&a, &b);
	/* nested begin: -EALREADY, and the batch is dropped */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(22, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	assert_int_equal(simple(NPR_MSG_BATCH_BEGIN), -EALREADY);
	OK(simple(NPR_MSG_BATCH_ABORT));
	snap_take(&b);
	snap_equal(&a, &b);
	/* a malformed record inside a batch poisons it too */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(22, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	struct npr_msg_hdr h;
	hdr(&h, NPR_MSG_HELLO, 16);
	h.version = 9;
	assert_int_equal(xsend(&h, sizeof(h)), -EPROTO);
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -ECANCELED);
	snap_take(&b);
	snap_equal(&a, &b);

	/* deleting routes, a group and its next hops in one batch */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "192.168.0.0", 16, 0));
	OK(route6_1(NPR_MSG_ROUTE6_DEL, "::", 0, 0));
	OK(id_del(NPR_MSG_GROUP_DEL, 1));
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "20.0.0.0", 8, 0));
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "172.16.0.0", 12, 0));
	OK(id_del(NPR_MSG_NH_DEL, 20));
	assert_non_null(pub_group(1));
	assert_true(word(20) != 0);
	OK(simple(NPR_MSG_BATCH_COMMIT));
	assert_null(pub_group(1));
	assert_int_equal(word(20), 0);
	assert_int_equal(lookup(4, "192.168.1.1"), 0);
	check_invariants();
	/* a group set twice and deleted in one batch, then committed (no leak under ASan) */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	mb[0] = 2, mb[1] = 4;
	OK(group_set(2, 2, mb, w));
	OK(group_set(2, 1, mb, w));
	OK(id_del(NPR_MSG_GROUP_DEL, 2));
	OK(group_set(2, 2, mb, w));
	OK(simple(NPR_MSG_BATCH_COMMIT));
	assert_int_equal(pub_group(2)->n_slots, 2);
	check_invariants();
	snap_free(&a);
	snap_free(&b);
	/* left open: cfg_free (teardown) must drop it without leaks or double frees */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(30, NPR_NH_FORWARD, 1, 0, NULL, mac_a));
	OK(group_set(2, 1, mb, w));
	OK(group_set(5, 2, mb, w));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "40.0.0.0", 8, NPR_TARGET_GROUP | 5));
}

/* Replaced groups wait for a grace period: a reader that has not reported a quiescent state
 * can still read the old version after cfg_periodic (ASan would flag a use after free). */
/* A batch that replaces a group, sends the same members again (a resync inside the batch),
 * then replaces it again: the version in between was never published and must be freed
 * once at the commit (a double free before; ASan sees it). Rolled back, the same. */
static void
test_batch_group_resend(void **state)
{
	(void)state;
	base_topology();
	uint32_t mb[2] = { 1, 2 };
	uint16_t w1[2] = { 1, 1 }, w2[2] = { 2, 1 };

	for (int commit = 1; commit >= 0; commit--) {
		const struct fwd_group *g0 = pub_group(1);
		OK(simple(NPR_MSG_BATCH_BEGIN));
		OK(group_set(1, 2, mb, w1));
		OK(group_set(1, 2, mb, w1)); /* unchanged within the batch */
		OK(group_set(1, 2, mb, commit ? w2 : w1));
		OK(simple(commit ? NPR_MSG_BATCH_COMMIT : NPR_MSG_BATCH_ABORT));
		const struct fwd_group *g = pub_group(1);
		assert_non_null(g);
		if (commit) {
			assert_ptr_not_equal(g, g0);
			assert_int_equal(g->n_slots, 3);
		} else {
			assert_ptr_equal(g, g0);
		}
		check_invariants();
	}
}

static void
test_qsbr(void **state)
{
	(void)state;
	size_t sz = RTE_ALIGN(rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	struct rte_rcu_qsbr *v = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);
	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(v, 0), 0);
	rte_rcu_qsbr_thread_online(v, 0);
	struct cfg_conf cc = test_conf();
	cc.qsbr = v;
	cfg_free(C);
	C = cfg_create(&cc);
	assert_non_null(C);
	assert_ptr_equal(cfg_tables(C)->qsbr, v);

	base_topology();
	const struct fwd_group *old = pub_group(1);
	uint32_t mb[2] = { 1, 2 };
	uint16_t w[2] = { 2, 2 };
	OK(group_set(1, 2, mb, w));
	assert_ptr_not_equal(pub_group(1), old);
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "192.168.0.0", 16, 0));
	OK(route6_1(NPR_MSG_ROUTE6_DEL, "::", 0, 0));
	OK(id_del(NPR_MSG_GROUP_DEL, 1));
	for (int i = 0; i < 3; i++)
		cfg_periodic(C);
	/* still readable: the reader is online and has not passed a quiescent state */
	assert_int_equal(old->n_slots, 4);
	assert_int_equal(old->nh[0] + old->nh[1] + old->nh[2] + old->nh[3], 1 + 3 * 2);
	rte_rcu_qsbr_quiescent(v, 0);
	cfg_periodic(C); /* frees both retired versions (LSan checks none is left) */
	check_invariants();
	cfg_free(C);
	C = NULL;
	free(v);
}

/* ---------------------------------------------------------------------------------------- */
/* Sync: compare with a fresh data plane that received only what was re-sent */

static void
resend_subset(void)
{
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));
	OK(nh_set(1, NPR_NH_FORWARD, 0, 4, "10.0.0.2", NULL));
	OK(nh_set(3, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL));
	OK(neigh_op(NPR_MSG_NEIGH_SET, 0, 4, "10.0.0.2", mac_a));
	OK(addr_op(NPR_MSG_ADDR_ADD, 0, 4, 24, "10.0.0.1"));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "0.0.0.0", 0, 1));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "172.16.0.0", 12, 1)); /* re-sent, new target */
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "30.0.0.0", 8, 3));    /* new */
}

static void
test_sync(void **state)
{
	(void)state;
	struct snap want = { 0 }, got = { 0 };

	/* the expectation: a fresh instance given only the re-sent objects */
	resend_subset();
	snap_take(&want);
	cfg_free(C);
	struct cfg_conf cc = test_conf();
	C = cfg_create(&cc);

	base_topology();
	OK(neigh_op(NPR_MSG_NEIGH_SET, 1, 4, "10.1.0.9", mac_c));
	for (uint32_t i = 0; i < 200; i++) {
		struct r4 r = { 0x0b000000u | i << 8, 24, 2 };
		OK(route4(NPR_MSG_ROUTE4_ADD, &r, 1));
	}
	OK(simple(NPR_MSG_SYNC_BEGIN));
	resend_subset();
	/* nothing is removed before the end */
	assert_int_equal(lookup(4, "11.0.5.1"), 2);
	OK(simple(NPR_MSG_SYNC_END));
	assert_string_equal(last.msg,
			    "removed 203 routes 1 groups 2 nhs 1 neighs 1 addrs 1 ifaces");
	snap_take(&got);
	snap_equal(&want, &got);
	check_invariants();
	assert_int_equal(simple(NPR_MSG_SYNC_END), -EINVAL);

	/* a stale next hop that a fresh route uses: SYNC_END fails, changes nothing, and the
	 * sync stays open until the next hop is re-sent */
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));
	OK(nh_set(1, NPR_NH_FORWARD, 0, 4, "10.0.0.2", NULL));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "30.0.0.0", 8, 3)); /* nh 3 not re-sent */
	struct npr_msg_hdr h;
	hdr(&h, NPR_MSG_SYNC_END, sizeof(h));
	expect_err(&h, sizeof(h), -EBUSY, "next hop 3 was not re-sent");
	OK(nh_set(3, NPR_NH_BLACKHOLE, 0, 0, NULL, NULL));
	OK(simple(NPR_MSG_SYNC_END));
	assert_string_equal(last.msg, "removed 2 routes 0 groups 0 nhs 1 neighs 1 addrs 0 ifaces");
	assert_int_equal(lookup(4, "30.1.1.1"), 3);
	assert_int_equal(lookup(4, "8.8.8.8"), 0);
	check_invariants();

	/* a sync inside a batch: atomic, and an abort restores all */
	snap_take(&want);
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));
	OK(simple(NPR_MSG_SYNC_END));
	OK(simple(NPR_MSG_BATCH_ABORT));
	snap_take(&got);
	snap_equal(&want, &got);
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(iface_set(0, 0, NPR_IFACE_F_UP, "eth0"));
	OK(simple(NPR_MSG_SYNC_END));
	assert_int_equal(lookup(4, "30.1.1.1"), 3); /* not yet */
	OK(simple(NPR_MSG_BATCH_COMMIT));
	assert_int_equal(lookup(4, "30.1.1.1"), 0);
	uint8_t *d;
	assert_int_equal(dump(NPR_DUMP_NHS, &d, NULL), 0);
	free(d);
	assert_int_equal(dump(NPR_DUMP_IFACES, &d, NULL), 1);
	free(d);
	check_invariants();
	snap_free(&want);
	snap_free(&got);
}

/* ---------------------------------------------------------------------------------------- */
/* Dumps, stats, info, lookups */

static void
test_dump_stats(void **state)
{
	(void)state;
	uint8_t *d;
	base_topology();

	assert_int_equal(dump(NPR_DUMP_PORTS, &d, NULL), 3);
	for (unsigned i = 0; i < 3; i++) {
		struct npr_dump_port p;
		memcpy(&p, d + i * sizeof(p), sizeof(p));
		assert_int_equal(p.port_id, port_ids[i]);
		assert_int_equal(p.n_rxq, 2);
		assert_int_equal(p.n_txq, 3);
		assert_memory_equal(p.mac, port_mac[i], 6);
		char name[16];
		snprintf(name, sizeof(name), "net_ring%u", i);
		assert_string_equal(p.name, name);
	}
	free(d);
	assert_int_equal(dump(NPR_DUMP_INFO, &d, NULL), 1);
	struct npr_info in;
	memcpy(&in, d, sizeof(in));
	free(d);
	assert_int_equal(in.instance_id, 0x1122334455667788ull);
	assert_int_equal(in.abi_version, NPR_ABI_VERSION);
	assert_int_equal(in.n_ports, 3);
	assert_int_equal(in.n_workers, 2);
	assert_int_equal(in.n_ifaces, 2);
	assert_int_equal(in.nh_max, NH_MAX);
	assert_int_equal(in.group_max, GROUP_MAX);
	assert_int_equal(in.route4_max, 200000);
	assert_int_equal(in.route6_max, 20000);
	assert_int_equal(in.route4_count, 5); /* with the connected subnets */
	assert_int_equal(in.route6_count, 4);
	assert_true(in.fib4_bytes > 0);

	/* groups: variable entries */
	size_t dl;
	assert_int_equal(dump(NPR_DUMP_GROUPS, &d, &dl), 1);
	assert_int_equal(dl, 16 + 2 * 8);
	struct npr_dump_group g;
	memcpy(&g, d, sizeof(g));
	assert_int_equal(g.group_id, 1);
	assert_int_equal(g.n_members, 2);
	assert_int_equal(g.refcnt, 2);
	struct npr_group_member mb;
	memcpy(&mb, d + 16 + 8, 8);
	assert_int_equal(mb.nh_id, 2);
	assert_int_equal(mb.weight, 3);
	free(d);

	/* dump errors */
	struct npr_msg_dump_req m;
	memset(&m, 0, sizeof(m));
	hdr(&m, NPR_MSG_DUMP_REQ, sizeof(m));
	m.kind = 99;
	expect_err(&m, sizeof(m), -EINVAL, "unknown dump kind 99");
	m.kind = 0;
	expect_err(&m, sizeof(m), -EINVAL, "unknown dump kind 0");
	m.kind = NPR_DUMP_NHS;
	m.flags = 2;
	expect_err(&m, sizeof(m), -EINVAL, "unknown dump flags 0x2");

	/* stats: one chunk with the counters */
	uint64_t ok, err;
	cfg_counters(C, &ok, &err);
	OK(simple(NPR_MSG_STATS_REQ));
	assert_int_equal(cap.n, 2);
	struct npr_msg_dump_chunk ch;
	memcpy(&ch, cap.buf, sizeof(ch));
	assert_int_equal(ch.kind, NPR_DUMP_STATS);
	assert_int_equal(ch.count, 1);
	assert_int_equal(ch.hdr.len, (sizeof(ch) + sizeof(struct npr_stats) + 7) & ~7ul);
	struct npr_stats st;
	memcpy(&st, cap.buf + sizeof(ch), sizeof(st));
	assert_int_equal(st.msgs_ok, ok);
	assert_int_equal(st.msgs_err, err);
	assert_int_equal(st.n_ports, 3);
	assert_int_equal(st.n_workers, 2);
	assert_true(err == 3);
	OK(simple(NPR_MSG_STATS_CLEAR));
	cfg_counters(C, &ok, &err);
	assert_int_equal(ok, 1);
	assert_int_equal(err, 0);

	/* lookup errors */
	struct npr_msg_lookup lk;
	memset(&lk, 0, sizeof(lk));
	hdr(&lk, NPR_MSG_LOOKUP, sizeof(lk));
	lk.family = 5;
	expect_err(&lk, sizeof(lk), -EINVAL, "family 5");
	lk.family = 4;
	lk.addr[4] = 1;
	expect_err(&lk, sizeof(lk), -EINVAL, "beyond");
	lk.addr[4] = 0;
	lk.reserved[6] = 1;
	expect_err(&lk, sizeof(lk), -EINVAL, "reserved");
	assert_int_equal(lookup(4, "172.31.255.255"), 3);
	assert_int_equal(lookup(4, "172.32.0.0"), 1);
	assert_int_equal(lookup(6, "2001:db8:100:ffff::1"), 2);

	/* a big dump spans several chunks (each checked by dump()) */
	struct r4 *r = malloc(NPR_ROUTE4_MAX * sizeof(*r));
	for (uint32_t i = 0; i < NPR_ROUTE4_MAX; i++)
		r[i] = (struct r4){ 0x0b000000u | i << 8, 24, 1 };
	OK(route4(NPR_MSG_ROUTE4_ADD, r, NPR_ROUTE4_MAX));
	for (uint32_t i = 0; i < NPR_ROUTE4_MAX; i++)
		r[i] = (struct r4){ 0x0c000000u | i << 8, 24, 2 };
	OK(route4(NPR_MSG_ROUTE4_ADD, r, NPR_ROUTE4_MAX));
	assert_int_equal(dump(NPR_DUMP_ROUTES4, &d, NULL), 2 * NPR_ROUTE4_MAX + 5);
	assert_true(cap.n >= 3);
	free(d);
	free(r);
	check_invariants();
}

/* ---------------------------------------------------------------------------------------- */
/* Fuzz: random records and mutated valid ones. A rejected one changes nothing; an accepted
 * one must be of a kind that may succeed, and the state stays self-consistent. */

static uint32_t template(unsigned k, uint8_t *b)
{
	struct npr_msg_iface_set is;
	struct npr_msg_addr am;
	struct npr_msg_neigh nm;
	struct npr_msg_nh_set ns;
	struct npr_msg_id id;
	struct npr_msg_dump_req dr;
	struct npr_msg_lookup lk;
	uint32_t mb[3] = { 1, 2, 4 };
	uint16_t w[3] = { 5, 1, 2 };
	struct r4 r4[3] = { { 0x0a140000, 16, 1 },
			    { 0x0a150000, 16, NPR_TARGET_GROUP | 1 },
			    { 0xc0a80000, 16, 3 } };
	struct r6 r6 = { .plen = 48, .target = 2 };
	uint32_t len;

	switch (k % 15) {
	case 0:
		mk_iface(&is, 2, 5, 1400, 1, "eth2");
		memcpy(b, &is, len = sizeof(is));
		break;
	case 1:
		mk_addr(&am, NPR_MSG_ADDR_ADD, 1, 4, 24, "10.1.0.1");
		memcpy(b, &am, len = sizeof(am));
		break;
	case 2:
		mk_neigh(&nm, NPR_MSG_NEIGH_SET, 1, 6, "fe80::2", mac_c);
		memcpy(b, &nm, len = sizeof(nm));
		break;
	case 3:
		mk_nh(&ns, 9, NPR_NH_FORWARD, 1, 6, "fe80::9", NULL);
		memcpy(b, &ns, len = sizeof(ns));
		break;
	case 4:
		memset(&id, 0, sizeof(id));
		hdr(&id, NPR_MSG_NH_DEL, sizeof(id));
		id.id = 4;
		memcpy(b, &id, len = sizeof(id));
		break;
	case 5:
		len = mk_group(2, 3, mb, w);
		memcpy(b, msgbuf, len);
		break;
	case 6:
		len = mk_route4(NPR_MSG_ROUTE4_ADD, r4, 3);
		memcpy(b, msgbuf, len);
		break;
	case 7:
		len = mk_route4(NPR_MSG_ROUTE4_REPLACE, r4 + 2, 1);
		memcpy(b, msgbuf, len);
		break;
	case 8:
		r4[2].target = 0;
		len = mk_route4(NPR_MSG_ROUTE4_DEL, r4 + 2, 1);
		memcpy(b, msgbuf, len);
		break;
	case 9:
		ip6(r6.prefix, "2001:db8:200::");
		len = mk_route6(NPR_MSG_ROUTE6_ADD, &r6, 1);
		memcpy(b, msgbuf, len);
		break;
	case 10:
		memset(&dr, 0, sizeof(dr));
		hdr(&dr, NPR_MSG_DUMP_REQ, sizeof(dr));
		dr.kind = NPR_DUMP_NHS;
		memcpy(b, &dr, len = sizeof(dr));
		break;
	case 11:
		memset(&lk, 0, sizeof(lk));
		hdr(&lk, NPR_MSG_LOOKUP, sizeof(lk));
		lk.family = 4;
		ip4(lk.addr, "192.168.1.1");
		memcpy(b, &lk, len = sizeof(lk));
		break;
	case 12:
		memset(&id, 0, sizeof(id));
		hdr(&id, NPR_MSG_GROUP_DEL, sizeof(id));
		id.id = 1;
		memcpy(b, &id, len = sizeof(id));
		break;
	case 13:
		mk_neigh(&nm, NPR_MSG_NEIGH_DEL, 0, 4, "10.0.0.2", NULL);
		memcpy(b, &nm, len = sizeof(nm));
		break;
	default:
		mk_addr(&am, NPR_MSG_ADDR_DEL, 0, 4, 24, "10.0.0.1");
		memcpy(b, &am, len = sizeof(am));
		break;
	}
	return len;
}

static void
test_fuzz(void **state)
{
	(void)state;
	struct snap base = { 0 }, now = { 0 };
	unsigned iters = 100000, accepted = 0;
	const char *e = getenv("NPR_FUZZ_ITERS");
	if (e != NULL)
		iters = (unsigned)strtoul(e, NULL, 0);

	base_topology();
	snap_take(&base);
	for (unsigned it = 0; it < iters; it++) {
		uint32_t len, mode = (uint32_t)(rnd() % 10);
		uint8_t *b;
		if (mode < 3) {
			/* random bytes, random length (exact-size buffer for ASan) */
			len = (uint32_t)(rnd() % 160);
			b = malloc(len + 1);
			for (uint32_t i = 0; i < len; i++)
				b[i] = (uint8_t)rnd();
			if (mode == 2 && len >= 16) /* plausible header, random body */
			{
				static const uint16_t types[] = {
					NPR_MSG_IFACE_SET,  NPR_MSG_IFACE_DEL,
					NPR_MSG_ADDR_ADD,   NPR_MSG_ADDR_DEL,
					NPR_MSG_NEIGH_SET,  NPR_MSG_NEIGH_DEL,
					NPR_MSG_NH_SET,	    NPR_MSG_NH_DEL,
					NPR_MSG_GROUP_SET,  NPR_MSG_GROUP_DEL,
					NPR_MSG_ROUTE4_ADD, NPR_MSG_ROUTE4_DEL,
					NPR_MSG_ROUTE6_ADD, NPR_MSG_ROUTE6_REPLACE,
					NPR_MSG_DUMP_REQ,   NPR_MSG_LOOKUP,
					NPR_MSG_REPLY,	    77
				};
				len &= ~7u;
				hdr(b, types[rnd() % (sizeof(types) / sizeof(types[0]))], len);
			}
		} else {
			/* a valid record with 1..3 random bytes changed */
			uint8_t t[256];
			len = template((unsigned)rnd(), t);
			b = malloc(len);
			memcpy(b, t, len);
			unsigned nflip = 1 + (unsigned)(rnd() % 3);
			for (unsigned f = 0; f < nflip; f++) {
				uint32_t pos = (uint32_t)(rnd() % len);
				if (pos >= 8 && pos < 12)
					continue; /* keep the seq: xsend sets it anyway */
				b[pos] = rnd() % 2 ? (uint8_t)rnd()
						   : (uint8_t)(b[pos] ^ (1u << (rnd() % 8)));
			}
		}
		uint16_t type = 0;
		if (len >= 16) {
			memcpy(&type, b, 2);
			uint32_t seq = ++seqno;
			memcpy(b + 8, &seq, 4);
			xsend_raw(b, len, seq);
		} else {
			xsend_raw(b, len, 0);
		}
		free(b);
		bool mutating = type >= NPR_MSG_IFACE_SET && type <= NPR_MSG_ROUTE6_DEL;
		if (last.status == 0 && mutating) {
			/* a mutation that is still valid: take it as the new baseline */
			accepted++;
			check_invariants();
			snap_take(&base);
			continue;
		}
		if (last.status == 0)
			assert_true(type == NPR_MSG_HELLO || type == NPR_MSG_DUMP_REQ ||
				    type == NPR_MSG_LOOKUP || type == NPR_MSG_STATS_REQ ||
				    type == NPR_MSG_STATS_CLEAR);
		else
			assert_true(last.msg[0] != 0);
		snap_take(&now);
		snap_equal(&base, &now);
	}
	check_invariants();
	print_message("fuzz: %u records, %u mutated ones accepted\n", iters, accepted);
	snap_free(&base);
	snap_free(&now);
}

/* ---------------------------------------------------------------------------------------- */
/* Cost of a full route message beyond the FIB's own cost */

static void
test_perf(void **state)
{
	(void)state;
	enum { N = NPR_ROUTE4_MAX, ROUNDS = 8 };
	struct r4 *r = malloc(N * sizeof(*r));
	double best_cfg = 1e9, best_fib = 1e9;

	base_topology();
	/* a base load of 64K routes so that the tables are not trivially small */
	for (uint32_t k = 0; k < 16; k++) {
		for (uint32_t i = 0; i < N; i++)
			r[i] = (struct r4){ 0x50000000u | (k * N + i) << 8, 24, 1 + i % 4 };
		OK(route4(NPR_MSG_ROUTE4_ADD, r, N));
	}
	for (int round = 0; round < ROUNDS; round++) {
		for (uint32_t i = 0; i < N; i++)
			r[i] = (struct r4){ 0x20000000u | ((uint32_t)rnd() & 0x0fffff00u), 24,
					    1 + i % 4 };
		/* distinct prefixes: ids in the low bits of the random ones */
		for (uint32_t i = 0; i < N; i++)
			r[i].prefix = (r[i].prefix & 0xfff00000u) | i << 8;
		uint32_t len = mk_route4(NPR_MSG_ROUTE4_ADD, r, N);
		double t0 = npr_now_s();
		OK(xsend(msgbuf, len));
		double t1 = npr_now_s();
		for (uint32_t i = 0; i < N; i++)
			r[i].target = 0;
		OK(route4(NPR_MSG_ROUTE4_DEL, r, N));
		/* the FIB alone, same prefixes */
		struct fib_conf fc = { .family = 4, .max_routes = 200000 };
		struct fib *f = fib_create(&fc);
		assert_non_null(f);
		double t2 = npr_now_s();
		for (uint32_t i = 0; i < N; i++) {
			uint8_t p[4];
			uint32_t be = htonl(r[i].prefix);
			memcpy(p, &be, 4);
			assert_int_equal(fib_set(f, p, 24, 1 + i % 4), 0);
		}
		fib_commit(f);
		double t3 = npr_now_s();
		fib_free(f);
		best_cfg = t1 - t0 < best_cfg ? t1 - t0 : best_cfg;
		best_fib = t3 - t2 < best_fib ? t3 - t2 : best_fib;
	}
	/* printed, not asserted: timings belong in benchmarks, never in pass/fail */
	print_message("perf: %u-route message: %.3f ms through cfg, %.3f ms FIB alone\n", N,
		      best_cfg * 1e3, best_fib * 1e3);
	free(r);
	check_invariants();
}

static void
test_create_errors(void **state)
{
	(void)state;
	struct cfg_conf cc = test_conf();
	cc.nh_max = 1;
	errno = 0;
	assert_null(cfg_create(&cc));
	assert_int_equal(errno, EINVAL);
	cc = test_conf();
	cc.port[1].port_id = 64;
	assert_null(cfg_create(&cc));
	assert_int_equal(errno, EINVAL);
	cc = test_conf();
	cc.port[1].port_id = 0; /* duplicate */
	assert_null(cfg_create(&cc));
	assert_int_equal(errno, EINVAL);
	assert_null(cfg_create(NULL));
}

/* ---------------------------------------------------------------------------------------- */
/* Tests: sessions and origins */

static void
hello_as(unsigned sid, unsigned origin)
{
	SID = sid;
	struct npr_msg_hello m = { .origin = (uint8_t)origin, .pid = 42 };
	snprintf(m.name, sizeof(m.name), "test%u", sid);
	hdr(&m.hdr, NPR_MSG_HELLO, sizeof(m));
	OK(xsend(&m, sizeof(m)));
	assert_int_equal(last.index, sid);
}

/* A route message of one IPv4 entry with a distance. */
static int
route4_dist(uint16_t type, const char *p, uint8_t plen, uint32_t target, uint8_t dist)
{
	uint8_t a[16];
	ip4(a, p);
	struct r4 r = { .prefix = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3],
			.plen = plen,
			.target = target };
	uint32_t len = mk_route4(type, &r, 1);
	msgbuf[sizeof(struct npr_msg_route4) + 7] = dist;
	return xsend(msgbuf, len);
}

/* lookup, and the origin of the route found */
static uint64_t
lookup_o(const char *a, unsigned *origin)
{
	uint64_t v = lookup(4, a);
	*origin = last.index;
	return v;
}

static void
test_origins(void **state)
{
	(void)state;
	unsigned o;
	base_topology(); /* session 0, no HELLO: origin config */
	hello_as(1, NPR_ORIGIN_ZEBRA);
	/* zebra's next hop 1 is not config's next hop 1 */
	OK(nh_set(1, NPR_NH_FORWARD, 1, 4, "10.1.0.9", mac_c));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "0.0.0.0", 0, 1));
	assert_int_equal(lookup_o("8.8.8.8", &o), 1);
	assert_int_equal(o, NPR_ORIGIN_CONFIG); /* distance 1 beats zebra's 20 */
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.20.0.0", 16, 1));
	assert_int_equal(lookup_o("10.20.1.1", &o), 1);
	assert_int_equal(o, NPR_ORIGIN_ZEBRA);
	/* a route of another origin cannot be replaced or deleted from here */
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_REPLACE, "172.16.0.0", 12, 1), -ENOENT);
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_DEL, "172.16.0.0", 12, 0), -ENOENT);
	/* nor its next hops used */
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "10.21.0.0", 16, 3), -ENOENT);

	/* the CLI overrides zebra (distance 1 < 20) and zebra takes over again after */
	hello_as(2, NPR_ORIGIN_CLI);
	OK(nh_set(7, NPR_NH_FORWARD, 0, 4, "10.0.0.7", mac_a));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.20.0.0", 16, 7));
	assert_int_equal(lookup_o("10.20.1.1", &o), 7);
	assert_int_equal(o, NPR_ORIGIN_CLI);
	uint8_t *d;
	uint32_t n = dump(NPR_DUMP_ROUTES4, &d, NULL); /* the CLI's own (and local ones) */
	unsigned mine = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct npr_route4 r;
		memcpy(&r, d + i * sizeof(r), sizeof(r));
		assert_true(r.origin == NPR_ORIGIN_NONE || r.origin == NPR_ORIGIN_CLI);
		mine += r.origin == NPR_ORIGIN_CLI;
	}
	free(d);
	assert_int_equal(mine, 1);
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "10.20.0.0", 16, 0));
	assert_int_equal(lookup_o("10.20.1.1", &o), 1);
	assert_int_equal(o, NPR_ORIGIN_ZEBRA);
	/* a worse distance than the selected route waits; the better one going lets it in */
	OK(route4_dist(NPR_MSG_ROUTE4_ADD, "10.20.0.0", 16, 7, 200));
	assert_int_equal(lookup_o("10.20.1.1", &o), 1);
	assert_int_equal(o, NPR_ORIGIN_ZEBRA);
	SID = 1;
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "10.20.0.0", 16, 0));
	assert_int_equal(lookup_o("10.20.1.1", &o), 7);
	assert_int_equal(o, NPR_ORIGIN_CLI);

	/* config's default route goes: zebra's takes over */
	SID = 0;
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "0.0.0.0", 0, 0));
	assert_int_equal(lookup_o("8.8.8.8", &o), 1);
	assert_int_equal(o, NPR_ORIGIN_ZEBRA);
	/* zebra's resync sweeps zebra's routes only */
	SID = 1;
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.30.0.0", 16, 1));
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(nh_set(1, NPR_NH_FORWARD, 1, 4, "10.1.0.9", mac_c));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.30.0.0", 16, 1));
	OK(simple(NPR_MSG_SYNC_END));
	assert_int_equal(lookup(4, "8.8.8.8"), 0);
	assert_int_equal(lookup_o("10.30.1.1", &o), 1);
	assert_int_equal(lookup_o("192.168.1.1", &o), NPR_TARGET_GROUP | 1);
	assert_int_equal(o, NPR_ORIGIN_CONFIG);
	assert_int_equal(lookup_o("10.20.1.1", &o), 7);
	assert_int_equal(o, NPR_ORIGIN_CLI);
	/* next hop ids in use are per origin too */
	assert_int_equal(id_del(NPR_MSG_NH_DEL, 1), -EBUSY);
	check_invariants();

	/* a batch is exclusive: another session's requests are refused, not staged into it,
	 * and do not poison it */
	SID = 0;
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.40.0.0", 16, 1));
	SID = 1;
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "10.41.0.0", 16, 1), -EBUSY);
	assert_int_equal(cfg_batch_owner(C), 0);
	SID = 0;
	OK(simple(NPR_MSG_BATCH_COMMIT));
	assert_int_equal(lookup(4, "10.40.1.1"), 1);
	assert_int_equal(lookup(4, "10.41.1.1"), 0);
	/* a session that goes away with a batch open loses it */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.42.0.0", 16, 1));
	assert_true(cfg_session_end(C, 0) > 0);
	assert_int_equal(cfg_batch_owner(C), -1);
	assert_int_equal(cfg_session_end(C, 0), 0);
	assert_int_equal(lookup(4, "10.42.1.1"), 0);
	/* and the rest of that batch is refused, not applied piece by piece, until the session
	 * ends it */
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "10.43.0.0", 16, 1), -ECANCELED);
	assert_non_null(strstr(last.msg, "the batch was aborted"));
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -ECANCELED);
	assert_int_equal(lookup(4, "10.43.1.1"), 0);
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.43.0.0", 16, 1));
	check_invariants();
	/* a session that died with a batch open, and the next session on its slot says HELLO
	 * before anyone noticed: the HELLO drops that batch, and the statistics count it */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(route4_1(NPR_MSG_ROUTE4_ADD, "10.44.0.0", 16, 1));
	hello_as(0, NPR_ORIGIN_CONFIG);
	assert_non_null(strstr(last.msg, "aborted a batch of 1 messages left open"));
	assert_int_equal(cfg_batch_owner(C), -1);
	assert_int_equal(lookup(4, "10.44.1.1"), 0);
	OK(simple(NPR_MSG_STATS_REQ));
	struct npr_stats st;
	memcpy(&st, cap.buf + sizeof(struct npr_msg_dump_chunk), sizeof(st));
	assert_int_equal(st.batches_aborted, 1);
	check_invariants();

	/* the configuration's resync that drops everything of its own: interfaces that other
	 * origins still use stay (zebra's next hop on eth1, the CLI's on eth0), the rest goes */
	SID = 0;
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(simple(NPR_MSG_SYNC_END));
	assert_non_null(strstr(last.msg, "kept interfaces other origins use"));
	assert_int_equal(lookup_o("10.30.1.1", &o), 1); /* zebra's route */
	assert_int_equal(o, NPR_ORIGIN_ZEBRA);
	assert_int_equal(lookup(4, "192.168.1.1"), 0); /* config's went */
	check_invariants();
}

/* Random routes of three origins on a few prefixes, singly and in batches that sometimes fail,
 * against a model: each prefix's lookup is the best route (distance, then origin) of those
 * the model holds. */
static void
test_origins_random(void **state)
{
	(void)state;
	enum { P = 24, NO = 3 };
	struct cand {
		bool has;
		uint8_t dist;
		uint32_t target;
	} model[P][NO + 1], saved[P][NO + 1];
	memset(model, 0, sizeof(model));
	base_topology();
	OK(route4_1(NPR_MSG_ROUTE4_DEL, "0.0.0.0", 0, 0)); /* no route covers the test's */
	static const unsigned origin_of[NO] = { NPR_ORIGIN_CONFIG, NPR_ORIGIN_CLI,
						NPR_ORIGIN_ZEBRA };
	for (unsigned k = 0; k < NO; k++) {
		hello_as(k + 3, origin_of[k]);
		for (uint32_t id = 10; id < 14; id++)
			OK(nh_set(id, NPR_NH_FORWARD, 0, 4, "10.0.0.2", NULL));
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned step = 0; step < 3000; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		bool batch = (x >> 40) % 10 == 0;
		unsigned k = (unsigned)(x >> 8) % NO, o = origin_of[k];
		SID = k + 3;
		if (batch) {
			memcpy(saved, model, sizeof(model));
			OK(simple(NPR_MSG_BATCH_BEGIN));
		}
		unsigned ops = batch ? 1 + (unsigned)(x >> 20) % 6 : 1;
		bool failed = false;
		for (unsigned i = 0; i < ops && !failed; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned p = (unsigned)(x >> 16) % P;
			char a[32];
			snprintf(a, sizeof(a), "100.64.%u.0", p);
			struct cand *m = &model[p][o];
			if ((x >> 30) % 3 == 0) {
				int rc = route4_1(NPR_MSG_ROUTE4_DEL, a, 24, 0);
				assert_int_equal(rc, m->has ? 0 : -ENOENT);
				failed = rc != 0;
				m->has = false;
			} else {
				uint32_t t = 10 + (uint32_t)(x >> 34) % 4;
				uint8_t dist =
					(uint8_t)((x >> 38) % 4 == 0 ? 0 : 1 + (x >> 40) % 30);
				OK(route4_dist(NPR_MSG_ROUTE4_ADD, a, 24, t, dist));
				m->has = true;
				m->target = t;
				m->dist = dist != 0 ? dist : (uint8_t)npr_origin_distance(o);
			}
		}
		if (batch) {
			if (failed) {
				assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -ECANCELED);
				memcpy(model, saved, sizeof(model));
			} else {
				OK(simple(NPR_MSG_BATCH_COMMIT));
			}
		}
		for (unsigned p = 0; p < P; p++) {
			char a[32];
			snprintf(a, sizeof(a), "100.64.%u.1", p);
			int best = -1;
			for (unsigned kk = 0; kk < NO; kk++) {
				const struct cand *c = &model[p][origin_of[kk]];
				if (c->has && (best < 0 || c->dist < model[p][best].dist ||
					       (c->dist == model[p][best].dist &&
						origin_of[kk] < (unsigned)best)))
					best = (int)origin_of[kk];
			}
			unsigned got_o;
			uint64_t v = lookup_o(a, &got_o);
			if (best < 0) {
				assert_int_equal(v, 0);
			} else {
				assert_int_equal(v, model[p][best].target);
				assert_int_equal(got_o, (unsigned)best);
			}
		}
	}
	check_invariants();
}

/* Transactions by origin (npr_info.txn): batches and resyncs outside a batch, committed or
 * failed, with the failure's reason. */
static struct npr_txn_stats
txn_of(unsigned o)
{
	uint8_t *d;
	struct npr_info in;
	assert_int_equal(dump(NPR_DUMP_INFO, &d, NULL), 1);
	memcpy(&in, d, sizeof(in));
	free(d);
	for (unsigned k = 0; k < NPR_ORIGIN_MAX; k++)
		if (k != o)
			assert_int_equal(in.txn[k].generation + in.txn[k].failed, 0);
	return in.txn[o];
}

static void
test_txn_stats(void **state)
{
	(void)state;
	OK(simple(NPR_MSG_HELLO));
	unsigned o = NPR_ORIGIN_CONFIG; /* the test session's */
	struct npr_txn_stats t = txn_of(o);
	assert_int_equal(t.generation, 0);
	assert_int_equal(t.failed, 0);
	assert_int_equal(t.commit_unix_ns, 0);

	/* single messages are not transactions */
	base_topology();
	t = txn_of(o);
	assert_int_equal(t.generation + t.failed, 0);

	/* a committed batch */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(nh_set(20, NPR_NH_FORWARD, 0, 0, NULL, mac_c));
	OK(simple(NPR_MSG_BATCH_COMMIT));
	t = txn_of(o);
	assert_int_equal(t.generation, 1);
	assert_int_equal(t.failed, 0);
	assert_int_equal(t.last_status, 0);
	assert_true(t.commit_unix_ns > 1700000000ull * 1000000000u);
	assert_int_equal(t.failed_unix_ns, 0);

	/* a poisoned one: the refused message's reason */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "23.0.0.0", 8, 55), -ENOENT);
	assert_int_equal(simple(NPR_MSG_BATCH_COMMIT), -ECANCELED);
	t = txn_of(o);
	assert_int_equal(t.generation, 1);
	assert_int_equal(t.failed, 1);
	assert_int_equal(t.last_status, -ENOENT);
	assert_true(t.failed_unix_ns >= t.commit_unix_ns);

	/* aborted by its session, and poisoned then aborted */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(simple(NPR_MSG_BATCH_ABORT));
	t = txn_of(o);
	assert_int_equal(t.failed, 2);
	assert_int_equal(t.last_status, -ECANCELED);
	OK(simple(NPR_MSG_BATCH_BEGIN));
	assert_int_equal(route4_1(NPR_MSG_ROUTE4_ADD, "23.0.0.0", 8, 55), -ENOENT);
	OK(simple(NPR_MSG_BATCH_ABORT));
	t = txn_of(o);
	assert_int_equal(t.failed, 3);
	assert_int_equal(t.last_status, -ENOENT);

	/* left open by a session that went away */
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(simple(NPR_MSG_HELLO));
	t = txn_of(o);
	assert_int_equal(t.failed, 4);
	assert_int_equal(t.last_status, -ECONNABORTED);

	/* a resync outside a batch is one; inside a batch the batch is */
	OK(simple(NPR_MSG_SYNC_BEGIN));
	resend_subset();
	OK(simple(NPR_MSG_SYNC_END));
	t = txn_of(o);
	assert_int_equal(t.generation, 2);
	assert_int_equal(t.last_status, 0);
	OK(simple(NPR_MSG_BATCH_BEGIN));
	OK(simple(NPR_MSG_SYNC_BEGIN));
	OK(simple(NPR_MSG_SYNC_END));
	OK(simple(NPR_MSG_BATCH_COMMIT));
	t = txn_of(o);
	assert_int_equal(t.generation, 3);
	assert_int_equal(t.failed, 4);
	/* a refused SYNC_END outside a batch */
	assert_int_equal(simple(NPR_MSG_SYNC_END), -EINVAL);
	t = txn_of(o);
	assert_int_equal(t.failed, 5);
	assert_int_equal(t.last_status, -EINVAL);
	check_invariants();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_port_limit, setup_limits, teardown),
		cmocka_unit_test_setup_teardown(test_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nh_neigh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_group_resend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qsbr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_origins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_origins_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
