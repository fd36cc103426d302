/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the slow path (dataplane/slowpath/, icmp.c) over a real cfg (cfg/)
 * programmed with hand-encoded records: ARP and ND answers, resolution with retries, queue
 * bounds and failure, aging, ICMP errors and echo replies, rate limit, fragmentation, and
 * the connected routes / learnt neighbours of cfg, and host ports (what goes to the host
 * stack, what is copied there, what it sends and what of that is dropped) through a fake
 * host_tx. Frames are built and checked byte by byte here; checksums are verified with an
 * independent computation (ref_sum). Time is driven by the test. Every test gets a fresh cfg
 * and slow path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "cfg.h"
#include "fib.h"
#include "fwd.h"
#include "slowpath.h"
#include "ref.h"

#define NH_MAX 64u
#define SEC 1000000000ull
#define MSEC 1000000ull
#define T0 (100 * SEC)
#define MAX_SENT 256u
#define EXC_ARP NPR_EXC_ARP

static struct rte_mempool *pool;
static struct cfg *C;
static struct slowpath *SP;
static struct rte_mbuf *sent[MAX_SENT];
static unsigned n_sent;
static int tx_refuse; /* the inject ring is "full" */
static struct npr_reply last;
/* the fake host ports: frames given to the host stack, and what they answer */
#define MAX_HOST 16u
static uint8_t host_frame[MAX_HOST][256];
static uint32_t host_len[MAX_HOST];
static unsigned host_ifid[MAX_HOST], n_host;
static int host_rc;
static uint32_t dump_count;		 /* entries in the dump chunks since reset */
static struct npr_dump_neigh dump_neigh; /* the last neighbour entry dumped */

static const uint8_t R0[6] = { 0x02, 0, 0, 0, 0, 0x01 };    /* lan, port 0 */
static const uint8_t R1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 }; /* wan, port 1 */
static const uint8_t H0[6] = { 0x02, 0xaa, 0, 0, 0, 0x02 }; /* host on lan */
static const uint8_t G1[6] = { 0x02, 0xbb, 0, 0, 0, 0x02 }; /* gateway on wan */
static const uint8_t H9[6] = { 0x02, 0xbb, 0, 0, 0, 0x09 };
static const uint8_t BC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- byte helpers and the reference checksum (independent of icmp.c) ---- */

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* one's complement sum, folded, not inverted; 0xffff for a message whose checksum is right */
static unsigned
ref_sum(const uint8_t *p, size_t n, const uint8_t *pre, size_t npre)
{
	unsigned long s = 0;
	for (size_t i = 0; i < npre; i += 2)
		s += (unsigned long)pre[i] << 8 | pre[i + 1];
	for (size_t i = 0; i < n; i++)
		s += i % 2 == 0 ? (unsigned long)p[i] << 8 : p[i];
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned)s;
}

static unsigned
ref_sum6(const uint8_t *ip6, const uint8_t *l4, size_t n)
{
	uint8_t pre[40] = { 0 };
	memcpy(pre, ip6 + 8, 32);
	pre[34] = (uint8_t)(n >> 8);
	pre[35] = (uint8_t)n;
	pre[39] = ip6[6];
	return ref_sum(l4, n, pre, 40);
}

static void
a4(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, a), 1);
}

static void
a6(uint8_t *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static unsigned
eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, unsigned et)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, et);
	return 14;
}

static unsigned
arp(uint8_t *f, const uint8_t *edst, unsigned op, const uint8_t *sha, const char *spa,
    const uint8_t *tha, const char *tpa)
{
	uint8_t *a = f + eth(f, edst, sha, 0x0806), x[16];
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	a4(x, spa);
	memcpy(a + 14, x, 4);
	memset(a + 18, 0, 6);
	if (tha != NULL)
		memcpy(a + 18, tha, 6);
	a4(x, tpa);
	memcpy(a + 24, x, 4);
	return 42;
}

/* IPv4 + payload of plen bytes with protocol proto (payload pattern), header checksum set */
static unsigned
ip4(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, const char *src, const char *dst,
    unsigned ttl, unsigned proto, unsigned frag, unsigned plen)
{
	uint8_t *ip = f + eth(f, edst, esrc, 0x0800), x[16];
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + plen);
	put16(ip + 4, 0x4242);
	put16(ip + 6, frag);
	ip[8] = (uint8_t)ttl;
	ip[9] = (uint8_t)proto;
	a4(x, src);
	memcpy(ip + 12, x, 4);
	a4(x, dst);
	memcpy(ip + 16, x, 4);
	for (unsigned i = 0; i < plen; i++)
		ip[20 + i] = (uint8_t)(i * 13 + 7);
	put16(ip + 10, 0xffff - ref_sum(ip, 20, NULL, 0));
	return 14 + 20 + plen;
}

static unsigned
udp4(uint8_t *f, const uint8_t *edst, const char *src, const char *dst, unsigned ttl, unsigned frag,
     unsigned plen)
{
	unsigned n = ip4(f, edst, H0, src, dst, ttl, 17, frag, 8 + plen);
	put16(f + 34, 33434);
	put16(f + 36, 33434);
	put16(f + 38, 8 + plen);
	put16(f + 40, 0); /* no UDP checksum */
	return n;
}

static unsigned
echo4(uint8_t *f, const char *src, const char *dst, unsigned plen)
{
	unsigned n = ip4(f, R0, H0, src, dst, 64, 1, 0, 8 + plen);
	uint8_t *icmp = f + 34;
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x1234);
	put16(icmp + 6, 7);
	put16(icmp + 2, 0xffff - ref_sum(icmp, 8 + plen, NULL, 0));
	return n;
}

static unsigned
ip6(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, const char *src, const char *dst,
    unsigned hlim, unsigned nh, unsigned plen)
{
	uint8_t *ip = f + eth(f, edst, esrc, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, plen);
	ip[6] = (uint8_t)nh;
	ip[7] = (uint8_t)hlim;
	a6(ip + 8, src);
	a6(ip + 24, dst);
	for (unsigned i = 0; i < plen; i++)
		ip[40 + i] = (uint8_t)(i * 11 + 5);
	return 14 + 40 + plen;
}

static void
fix_icmp6(uint8_t *f, unsigned plen)
{
	uint8_t *ip = f + 14, *icmp = ip + 40;
	put16(icmp + 2, 0);
	put16(icmp + 2, 0xffff - ref_sum6(ip, icmp, plen));
}

static unsigned
echo6(uint8_t *f, const char *src, const char *dst, unsigned plen)
{
	unsigned n = ip6(f, R0, H0, src, dst, 64, 58, 8 + plen);
	uint8_t *icmp = f + 54;
	icmp[0] = 128;
	icmp[1] = 0;
	put16(icmp + 4, 0x4321);
	put16(icmp + 6, 9);
	fix_icmp6(f, 8 + plen);
	return n;
}

/* neighbour solicitation from src (MAC smac) for target, with a source link-layer option */
static unsigned
ns6(uint8_t *f, const uint8_t *edst, const uint8_t *smac, const char *src, const char *dst,
    const char *target)
{
	unsigned n = ip6(f, edst, smac, src, dst, 255, 58, 32);
	uint8_t *icmp = f + 54;
	memset(icmp, 0, 32);
	icmp[0] = 135;
	a6(icmp + 8, target);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, smac, 6);
	fix_icmp6(f, 32);
	return n;
}

static unsigned
na6(uint8_t *f, const uint8_t *edst, const uint8_t *smac, const char *src, const char *dst,
    const char *target, unsigned flags)
{
	unsigned n = ip6(f, edst, smac, src, dst, 255, 58, 32);
	uint8_t *icmp = f + 54;
	memset(icmp, 0, 32);
	icmp[0] = 136;
	icmp[4] = (uint8_t)flags;
	a6(icmp + 8, target);
	icmp[24] = 2;
	icmp[25] = 1;
	memcpy(icmp + 26, smac, 6);
	fix_icmp6(f, 32);
	return n;
}

/* ---- the data plane around the slow path ---- */

static void
emit(void *ctx, const void *rec, uint32_t len)
{
	(void)ctx;
	const struct npr_msg_hdr *h = rec;
	if (h->type == NPR_MSG_REPLY && len == sizeof(last))
		memcpy(&last, rec, sizeof(last));
	if (h->type == NPR_MSG_DUMP_CHUNK) {
		const struct npr_msg_dump_chunk *ch = rec;
		dump_count += ch->count;
		if ((ch->kind == NPR_DUMP_NEIGHS || ch->kind == NPR_DUMP_NEIGHS_LEARNT) &&
		    ch->count > 0)
			memcpy(&dump_neigh, ch->data + (ch->count - 1) * sizeof(dump_neigh),
			       sizeof(dump_neigh));
	}
}

static int
send_rec(void *m, uint16_t type, uint32_t len)
{
	struct npr_msg_hdr *h = m;
	h->type = type;
	h->version = NPR_ABI_VERSION;
	h->len = len;
	cfg_handle(C, m, len, emit, NULL);
	return last.status;
}

#define OK(x)                                                                                      \
	do {                                                                                       \
		int rc_ = (x);                                                                     \
		if (rc_ != 0)                                                                      \
			fail_msg("%s: %d %s", #x, rc_, last.msg);                                  \
	} while (0)

/* how many entries a dump of kind has (the last neighbour one in dump_neigh) */
static uint32_t
dump_n(uint32_t kind)
{
	struct npr_msg_dump_req m;
	memset(&m, 0, sizeof(m));
	m.kind = kind;
	dump_count = 0;
	assert_int_equal(send_rec(&m, NPR_MSG_DUMP_REQ, sizeof(m)), 0);
	return dump_count;
}

static int
iface(unsigned ifid, unsigned port, const uint8_t *mac, unsigned mtu, bool up, const char *name)
{
	struct npr_msg_iface_set m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.port_id = (uint16_t)port;
	m.mtu = (uint16_t)mtu;
	m.flags = up ? NPR_IFACE_F_UP : 0;
	memcpy(m.mac, mac, 6);
	snprintf(m.name, sizeof(m.name), "%s", name);
	return send_rec(&m, NPR_MSG_IFACE_SET, sizeof(m));
}

static int
addr(uint16_t type, unsigned ifid, const char *a, unsigned plen)
{
	struct npr_msg_addr m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.family = strchr(a, ':') ? NPR_AF_INET6 : NPR_AF_INET;
	m.plen = (uint8_t)plen;
	if (m.family == NPR_AF_INET)
		a4(m.addr, a);
	else
		a6(m.addr, a);
	return send_rec(&m, type, sizeof(m));
}

static int
neigh(uint16_t type, unsigned ifid, const char *a, const uint8_t *mac)
{
	struct npr_msg_neigh m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.family = strchr(a, ':') ? NPR_AF_INET6 : NPR_AF_INET;
	if (m.family == NPR_AF_INET)
		a4(m.addr, a);
	else
		a6(m.addr, a);
	if (mac != NULL)
		memcpy(m.mac, mac, 6);
	return send_rec(&m, type, sizeof(m));
}

static int
nh(uint32_t id, unsigned kind, unsigned ifid, const char *gw)
{
	struct npr_msg_nh_set m;
	memset(&m, 0, sizeof(m));
	m.nh_id = id;
	m.kind = (uint8_t)kind;
	if (gw != NULL) {
		m.ifid = (uint16_t)ifid;
		m.family = strchr(gw, ':') ? NPR_AF_INET6 : NPR_AF_INET;
		if (m.family == NPR_AF_INET)
			a4(m.gw, gw);
		else
			a6(m.gw, gw);
	}
	return send_rec(&m, NPR_MSG_NH_SET, sizeof(m));
}

static int
route(const char *pfx, unsigned plen, uint32_t target)
{
	uint64_t buf[8] = { 0 };
	if (strchr(pfx, ':') != NULL) {
		struct npr_msg_route6 *m = (struct npr_msg_route6 *)buf;
		m->count = 1;
		a6(m->r[0].prefix, pfx);
		m->r[0].plen = (uint8_t)plen;
		m->r[0].target = target;
		return send_rec(m, NPR_MSG_ROUTE6_ADD, sizeof(*m) + 24);
	}
	struct npr_msg_route4 *m = (struct npr_msg_route4 *)buf;
	uint8_t a[16];
	m->count = 1;
	a4(a, pfx);
	memcpy(&m->r[0].prefix, a, 4);
	m->r[0].plen = (uint8_t)plen;
	m->r[0].target = target;
	return send_rec(m, NPR_MSG_ROUTE4_ADD, sizeof(*m) + 16);
}

static int
tx(void *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	if (tx_refuse || n_sent == MAX_SENT)
		return -ENOBUFS;
	sent[n_sent++] = m;
	return 0;
}

static int
host_tx(void *ctx, unsigned ifid, const void *f, uint32_t len)
{
	(void)ctx;
	if (host_rc != 0)
		return host_rc;
	assert_true(n_host < MAX_HOST);
	memcpy(host_frame[n_host], f, len < 256 ? len : 256);
	host_len[n_host] = len;
	host_ifid[n_host++] = ifid;
	return 0;
}

static void
clear_sent(void)
{
	for (unsigned i = 0; i < n_sent; i++)
		rte_pktmbuf_free(sent[i]);
	n_sent = 0;
}

static const uint8_t *
frame(unsigned i)
{
	assert_true(i < n_sent);
	return rte_pktmbuf_mtod(sent[i], const uint8_t *);
}

static void __attribute__((unused)) dump_counters(void)
{
	uint64_t v[NPR_STATS_SLOW_SLOTS];
	sp_counters(SP, v);
	for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
		if (v[i] != 0)
			fprintf(stderr, "  %s %lu\n", npr_slow_name(i), (unsigned long)v[i]);
}

static uint64_t
counter(unsigned c)
{
	uint64_t v[NPR_STATS_SLOW_SLOTS];
	sp_counters(SP, v);
	return v[c];
}

/* one exception: frame f received on port with reason */
static void
input(const uint8_t *f, unsigned len, uint16_t port, unsigned reason, uint64_t now)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	char *d = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(d);
	memcpy(d, f, len);
	m->port = port;
	m->hash.usr = reason;
	sp_input(SP, m, now);
}

static struct slowpath *
make_sp(uint32_t rate, uint32_t burst)
{
	struct sp_conf sc = { .cfg = C,
			      .pool = pool,
			      .tx = tx,
			      .icmp_rate = rate,
			      .icmp_burst = burst,
			      .retry_ms = 1000,
			      .retries = 3,
			      .reachable_ms = 30000,
			      .hold_max = 16 };
	struct slowpath *sp = sp_create(&sc);
	assert_non_null(sp);
	return sp;
}

/*
 *   lan (0, port 0, R0, MTU 1500): 192.0.2.1/24, 2001:db8::1/64
 *   wan (1, port 1, R1, MTU 1400): 198.51.100.1/24, 2001:db8:1::1/64
 *   nh 1 via 198.51.100.2 dev wan (ARP), nh 2 via 2001:db8:1::2 dev wan (ND),
 *   nh 3 unreachable, nh 4 prohibit, nh 5 blackhole
 *   10.0.0.0/8 -> 1, 10.5.0.0/16 -> 3, 10.6.0.0/16 -> 4, 10.7.0.0/16 -> 5,
 *   2001:db8:100::/48 -> 2
 */
static int
setup_each(void **state)
{
	(void)state;
	struct cfg_conf cc = { .nh_max = NH_MAX,
			       .group_max = 8,
			       .route4_max = 1000,
			       .route6_max = 1000,
			       .instance_id = 1,
			       .n_ports = 2,
			       .n_workers = 1 };
	for (unsigned p = 0; p < 2; p++) {
		cc.port[p].port_id = (uint16_t)p;
		cc.port[p].n_rxq = cc.port[p].n_txq = 1;
		memcpy(cc.port[p].mac, p == 0 ? R0 : R1, 6);
	}
	C = cfg_create(&cc);
	assert_non_null(C);
	OK(iface(0, 0, R0, 1500, true, "lan"));
	OK(iface(1, 1, R1, 1400, true, "wan"));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "192.0.2.1", 24));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "2001:db8::1", 64));
	OK(addr(NPR_MSG_ADDR_ADD, 1, "198.51.100.1", 24));
	OK(addr(NPR_MSG_ADDR_ADD, 1, "2001:db8:1::1", 64));
	OK(nh(1, NPR_NH_FORWARD, 1, "198.51.100.2"));
	OK(nh(2, NPR_NH_FORWARD, 1, "2001:db8:1::2"));
	OK(nh(3, NPR_NH_UNREACHABLE, 0, NULL));
	OK(nh(4, NPR_NH_PROHIBIT, 0, NULL));
	OK(nh(5, NPR_NH_BLACKHOLE, 0, NULL));
	OK(route("10.0.0.0", 8, 1));
	OK(route("10.5.0.0", 16, 3));
	OK(route("10.6.0.0", 16, 4));
	OK(route("10.7.0.0", 16, 5));
	OK(route("2001:db8:100::", 48, 2));
	SP = make_sp(1000, 1000);
	sp_periodic(SP, T0); /* gratuitous ARPs and advertisements */
	tx_refuse = 0;
	n_host = 0;
	host_rc = 0;
	return 0;
}

/* The slow path again, with host ports (the fake host_tx); nothing sent yet. */
static void
host_on(void)
{
	struct sp_conf sc = { .cfg = C,
			      .pool = pool,
			      .tx = tx,
			      .host_tx = host_tx,
			      .icmp_rate = 1000,
			      .icmp_burst = 1000,
			      .hold_max = 16 };
	sp_free(SP);
	SP = sp_create(&sc);
	assert_non_null(SP);
	sp_periodic(SP, T0);
	clear_sent();
}

/* the last frame given to the host stack is f (len bytes), on ifid */
static void
check_host(unsigned n, const uint8_t *f, unsigned len, unsigned ifid)
{
	assert_int_equal(n_host, n);
	assert_int_equal(host_len[n - 1], len);
	assert_int_equal(host_ifid[n - 1], ifid);
	assert_memory_equal(host_frame[n - 1], f, len < 256 ? len : 256);
}

static int
teardown_each(void **state)
{
	(void)state;
	clear_sent();
	sp_free(SP);
	cfg_free(C);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	return 0;
}

/* the word the workers read for next hop id */
static uint64_t
word(uint32_t id)
{
	return atomic_load(&cfg_tables(C)->nh[id]);
}

/* what the published IPv4 FIB does with a, as a next hop word */
static uint64_t
word_for4(const char *a)
{
	uint8_t x[16];
	a4(x, a);
	uint32_t v = fib4_lookup(cfg_tables(C)->fib4,
				 (uint32_t)x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3]);
	return v == 0 || (v & NPR_TARGET_LOCAL) ? 0 : word(v);
}

/* ---- tests ---- */

static void
test_garp(void **state)
{
	(void)state;
	/* setup: one gratuitous ARP per IPv4 address, one advertisement per IPv6 one */
	assert_int_equal(n_sent, 4);
	assert_int_equal(counter(NPR_SLOW_ARP_GRATUITOUS_TX), 2);
	assert_int_equal(counter(NPR_SLOW_NA_TX), 2);
	bool seen = false;
	for (unsigned i = 0; i < n_sent; i++) {
		const uint8_t *f = frame(i);
		if (get16(f + 12) != 0x0806 || sent[i]->port != 1)
			continue;
		uint8_t want[42], a[16];
		arp(want, BC, 1, R1, "198.51.100.1", NULL, "198.51.100.1");
		assert_int_equal(rte_pktmbuf_pkt_len(sent[i]), 42);
		assert_memory_equal(f, want, 42);
		seen = true;
		a4(a, "198.51.100.1");
		assert_memory_equal(f + 28, a, 4);
	}
	assert_true(seen);
	clear_sent();
	/* interface down and up again: announced again; no change: nothing */
	sp_periodic(SP, T0 + SEC);
	assert_int_equal(n_sent, 0);
	OK(iface(1, 1, R1, 1400, false, "wan"));
	sp_periodic(SP, T0 + 2 * SEC);
	assert_int_equal(n_sent, 0);
	OK(iface(1, 1, R1, 1400, true, "wan"));
	sp_periodic(SP, T0 + 3 * SEC);
	assert_int_equal(n_sent, 2);
	assert_int_equal(counter(NPR_SLOW_ARP_GRATUITOUS_TX), 3);
}

static void
test_arp_reply(void **state)
{
	uint8_t f[128], want[42], mac[6];
	uint8_t h[16];
	bool learnt = false;
	(void)state;

	clear_sent();
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0 + MSEC);
	assert_int_equal(n_sent, 1);
	arp(want, H0, 2, R0, "192.0.2.1", H0, "192.0.2.2");
	memcpy(want + 6, R0, 6); /* from the router's MAC */
	assert_int_equal(rte_pktmbuf_pkt_len(sent[0]), 42);
	assert_memory_equal(frame(0), want, 42);
	assert_int_equal(sent[0]->port, 0);
	/* the sender asked for us and is on our subnet: learnt, with a host route */
	a4(h, "192.0.2.2");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, mac, &learnt), 0);
	assert_memory_equal(mac, H0, 6);
	assert_true(learnt);
	/* listed as learnt, not with the configured neighbours */
	assert_int_equal(dump_n(NPR_DUMP_NEIGHS), 0);
	assert_int_equal(dump_n(NPR_DUMP_NEIGHS_LEARNT), 1);
	assert_memory_equal(dump_neigh.addr, h, 16);
	assert_memory_equal(dump_neigh.mac, H0, 6);
	assert_int_equal(word_for4("192.0.2.2"), fwd_nh_pack(FWD_NH_FORWARD, 0, ref_mac64(H0)));
	/* other hosts of the subnet are still resolved by the slow path */
	assert_int_equal(fwd_nh_kind(word_for4("192.0.2.3")), FWD_NH_UNRESOLVED);
	clear_sent();

	/* not ours: no answer */
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.77");
	input(f, 42, 0, EXC_ARP, T0 + 2 * MSEC);
	assert_int_equal(n_sent, 0);
	assert_int_equal(counter(NPR_SLOW_ARP_NOT_OURS), 1);
	/* our address, but asked on the other interface: not ours there */
	arp(f, BC, 1, G1, "198.51.100.2", NULL, "192.0.2.1");
	input(f, 42, 1, EXC_ARP, T0 + 3 * MSEC);
	assert_int_equal(n_sent, 0);
	/* a sender off our subnets is answered but not learnt */
	arp(f, BC, 1, H9, "10.9.9.9", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0 + 4 * MSEC);
	assert_int_equal(n_sent, 1);
	a4(h, "10.9.9.9");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	clear_sent();
	/* malformed: wrong hardware type, multicast sender */
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	f[15] = 6;
	input(f, 42, 0, EXC_ARP, T0 + 5 * MSEC);
	arp(f, BC, 1, BC, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0 + 5 * MSEC);
	input(f, 30, 0, EXC_ARP, T0 + 5 * MSEC);
	assert_int_equal(n_sent, 0);
	assert_int_equal(counter(NPR_SLOW_ARP_BAD), 3);
	/* a static neighbour is not replaced by what ARP says */
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.5", G1));
	arp(f, BC, 1, H9, "192.0.2.5", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0 + 6 * MSEC);
	a4(h, "192.0.2.5");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, mac, &learnt), 0);
	assert_memory_equal(mac, G1, 6);
	assert_false(learnt);
	assert_int_equal(dump_n(NPR_DUMP_NEIGHS), 1);
	/* NEIGH_SET on a learnt one makes it configured; NEIGH_DEL removes a learnt one */
	a4(h, "192.0.2.2");
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H9));
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, mac, &learnt), 0);
	assert_false(learnt);
	assert_int_equal(dump_n(NPR_DUMP_NEIGHS_LEARNT), 0);
	assert_int_equal(word_for4("192.0.2.2"), fwd_nh_pack(FWD_NH_FORWARD, 0, ref_mac64(H9)));
	sp_periodic(SP, T0 + 10 * MSEC); /* the slow path lets go of it */
	OK(neigh(NPR_MSG_NEIGH_DEL, 0, "192.0.2.2", NULL));
	assert_int_equal(fwd_nh_kind(word_for4("192.0.2.2")), FWD_NH_UNRESOLVED);
}

/* A packet to an unresolved gateway: request, queue, reply, queue sent; the next hop is then
 * in the workers' table. */
static void
test_resolve(void **state)
{
	uint8_t f[256], orig[256], want[42];
	(void)state;

	clear_sent();
	unsigned n = udp4(orig, R0, "192.0.2.2", "10.1.2.3", 64, 0, 30);
	memcpy(f, orig, n);
	assert_int_equal(fwd_nh_kind(word(1)), FWD_NH_UNRESOLVED);
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + MSEC);
	assert_int_equal(n_sent, 1);
	arp(want, BC, 1, R1, "198.51.100.1", NULL, "198.51.100.2");
	assert_memory_equal(frame(0), want, 42);
	assert_int_equal(sent[0]->port, 1);
	assert_int_equal(counter(NPR_SLOW_HOLD_QUEUED), 1);
	clear_sent();
	/* a second packet waits too; no second request before the retry interval */
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + 2 * MSEC);
	sp_periodic(SP, T0 + 500 * MSEC);
	assert_int_equal(n_sent, 0);
	/* the reply */
	arp(f, R1, 2, G1, "198.51.100.2", R1, "198.51.100.1");
	input(f, 42, 1, EXC_ARP, T0 + 600 * MSEC);
	assert_int_equal(n_sent, 2);
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *o = frame(i);
		assert_int_equal(sent[i]->port, 1);
		assert_int_equal(rte_pktmbuf_pkt_len(sent[i]), n);
		assert_memory_equal(o, G1, 6);
		assert_memory_equal(o + 6, R1, 6);
		assert_int_equal(o[22], 63); /* TTL - 1 */
		assert_int_equal(ref_sum(o + 14, 20, NULL, 0), 0xffff);
		/* the rest as it came: header before the TTL, protocol, addresses, payload */
		assert_memory_equal(o + 14, orig + 14, 8);
		assert_int_equal(o[23], orig[23]);
		assert_memory_equal(o + 26, orig + 26, n - 26);
	}
	assert_int_equal(counter(NPR_SLOW_HOLD_SENT), 2);
	assert_int_equal(counter(NPR_SLOW_NEIGH_RESOLVED), 1);
	assert_int_equal(counter(NPR_SLOW_SLOW_FWD), 2);
	assert_int_equal(word(1), fwd_nh_pack(FWD_NH_FORWARD, 1, ref_mac64(G1)));
	/* a gateway is not on-link by itself: 198.51.100.2 is, so it has a host route too */
	assert_int_equal(word_for4("198.51.100.2"), fwd_nh_pack(FWD_NH_FORWARD, 1, ref_mac64(G1)));
}

/* Unanswered: three requests a second apart, then the queue is dropped with "host
 * unreachable" to the sender; new packets fail at once for a while. */
static void
test_resolve_fail(void **state)
{
	uint8_t f[256], orig[256];
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0)); /* where the errors go */
	clear_sent();
	unsigned n = udp4(orig, R0, "192.0.2.2", "198.51.100.9", 64, 0, 30);
	memcpy(f, orig, n);
	for (unsigned i = 0; i < 20; i++) /* 16 fit */
		input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + MSEC);
	assert_int_equal(counter(NPR_SLOW_HOLD_QUEUED), 20);
	assert_int_equal(counter(NPR_SLOW_HOLD_OVERFLOW), 4);
	assert_int_equal(n_sent, 1);
	sp_periodic(SP, T0 + 1001 * MSEC);
	sp_periodic(SP, T0 + 2001 * MSEC);
	assert_int_equal(n_sent, 3);
	assert_int_equal(counter(NPR_SLOW_ARP_REQUEST_TX), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_memory_equal(frame(i), BC, 6);
	clear_sent();
	sp_periodic(SP, T0 + 3001 * MSEC);
	assert_int_equal(counter(NPR_SLOW_NEIGH_FAILED), 1);
	assert_int_equal(counter(NPR_SLOW_HOLD_FAILED), 16);
	assert_int_equal(n_sent, 16); /* host unreachable for each (the bucket allows it) */
	const uint8_t *o = frame(0), *ip = o + 14, *icmp = ip + 20;
	uint8_t a[16];
	assert_memory_equal(o, H0, 6);
	assert_int_equal(get16(o + 12), 0x0800);
	a4(a, "192.0.2.1"); /* from the interface the packet came in on */
	assert_memory_equal(ip + 12, a, 4);
	a4(a, "192.0.2.2");
	assert_memory_equal(ip + 16, a, 4);
	assert_int_equal(ip[9], 1);
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 1);
	assert_int_equal(get16(ip + 2), 20 + 8 + (n - 14));
	assert_int_equal(ref_sum(ip, 20, NULL, 0), 0xffff);
	assert_int_equal(ref_sum(icmp, get16(ip + 2) - 20, NULL, 0), 0xffff);
	/* the datagram as queued: TTL already decremented for forwarding */
	assert_memory_equal(icmp + 8, orig + 14, 8);
	assert_int_equal(icmp[8 + 8], 63);
	assert_memory_equal(icmp + 8 + 9, orig + 14 + 9, 1);
	assert_memory_equal(icmp + 8 + 12, orig + 14 + 12, n - 14 - 12);
	clear_sent();
	/* failed: a new packet gets its error at once, no new request */
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + 3500 * MSEC);
	assert_int_equal(n_sent, 1);
	assert_int_equal(frame(0)[34], 3);
	clear_sent();
	/* later, a new resolution */
	sp_periodic(SP, T0 + 4100 * MSEC);
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + 4200 * MSEC);
	assert_int_equal(n_sent, 1);
	assert_int_equal(get16(frame(0) + 12), 0x0806);
}

/* A flood to many hosts of one subnet: unresolved entries on that interface stop at an
 * eighth of the table (512 here), the rest is dropped and counted, and a new host on another
 * interface is still resolved. */
static void
test_resolve_flood(void **state)
{
	uint8_t f[256], want[42];
	char dst[64];
	(void)state;

	clear_sent();
	for (unsigned i = 0; i < 800; i++) {
		snprintf(dst, sizeof(dst), "2001:db8:1::%x", 0x1000 + i);
		unsigned n = ip6(f, R0, H0, "2001:db8::9", dst, 64, 17, 8);
		input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + MSEC);
		clear_sent();
	}
	assert_int_equal(counter(NPR_SLOW_NEIGH_LIMIT), 800 - 512);
	assert_int_equal(counter(NPR_SLOW_NS_TX), 512);
	unsigned n = udp4(f, R1, "198.51.100.9", "192.0.2.77", 64, 0, 30);
	input(f, n, 1, NPR_EXC_UNRESOLVED, T0 + 2 * MSEC);
	assert_int_equal(n_sent, 1);
	arp(want, BC, 1, R0, "192.0.2.1", NULL, "192.0.2.77");
	assert_memory_equal(frame(0), want, 42);
	assert_int_equal(counter(NPR_SLOW_NEIGH_LIMIT), 800 - 512);
	/* once they fail and go, that interface resolves again */
	for (unsigned t = 1; t <= 5; t++)
		sp_periodic(SP, T0 + t * 1001 * MSEC);
	clear_sent();
	uint64_t limited = counter(NPR_SLOW_NEIGH_LIMIT);
	n = ip6(f, R0, H0, "2001:db8::9", "2001:db8:1::7777", 64, 17, 8);
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0 + 6000 * MSEC);
	assert_int_equal(counter(NPR_SLOW_NEIGH_LIMIT), limited);
	assert_int_equal(n_sent, 1);
	assert_int_equal(get16(frame(0) + 12), 0x86dd);
}

/* Learnt neighbours are probed (unicast) after reachable_ms and forgotten if silent. */
static void
test_aging(void **state)
{
	uint8_t f[128], h[16];
	(void)state;

	clear_sent();
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0);
	arp(f, BC, 1, H9, "192.0.2.9", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0);
	clear_sent();
	sp_periodic(SP, T0 + 29 * SEC);
	assert_int_equal(n_sent, 0);
	sp_periodic(SP, T0 + 30 * SEC);
	assert_int_equal(n_sent, 2);
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *o = frame(i);
		assert_int_equal(get16(o + 12), 0x0806);
		assert_int_equal(get16(o + 20), 1);
		assert_true(memcmp(o, H0, 6) == 0 || memcmp(o, H9, 6) == 0); /* unicast */
	}
	clear_sent();
	/* H9 answers; H0 does not */
	arp(f, R0, 2, H9, "192.0.2.9", R0, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0 + 30 * SEC + 10 * MSEC);
	a4(h, "192.0.2.2");
	for (unsigned s = 31; s <= 34; s++)
		sp_periodic(SP, T0 + s * SEC);
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	assert_int_equal(fwd_nh_kind(word_for4("192.0.2.2")), FWD_NH_UNRESOLVED);
	assert_int_equal(counter(NPR_SLOW_NEIGH_EXPIRED), 1);
	a4(h, "192.0.2.9");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), 0);
	/* configured neighbours never age */
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.7", H0));
	clear_sent();
	sp_periodic(SP, T0 + 200 * SEC);
	sp_periodic(SP, T0 + 300 * SEC);
	a4(h, "192.0.2.7");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), 0);
}

static void
test_nd(void **state)
{
	uint8_t f[256], mc[16], a[16], mac[6];
	(void)state;

	clear_sent();
	/* NS for our address to its solicited-node group */
	ns6(f, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 0x01 }, H0, "2001:db8::2",
	    "ff02::1:ff00:1", "2001:db8::1");
	input(f, 14 + 40 + 32, 0, NPR_EXC_L2_MULTICAST, T0);
	assert_int_equal(n_sent, 1);
	const uint8_t *o = frame(0), *ip = o + 14, *icmp = ip + 40;
	assert_memory_equal(o, H0, 6);
	assert_memory_equal(o + 6, R0, 6);
	assert_int_equal(get16(o + 12), 0x86dd);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255);
	a6(a, "2001:db8::1");
	assert_memory_equal(ip + 8, a, 16);
	a6(a, "2001:db8::2");
	assert_memory_equal(ip + 24, a, 16);
	assert_int_equal(get16(ip + 4), 32);
	assert_int_equal(icmp[0], 136);
	assert_int_equal(icmp[4], 0xe0); /* router, solicited, override */
	a6(a, "2001:db8::1");
	assert_memory_equal(icmp + 8, a, 16);
	assert_int_equal(icmp[24], 2);
	assert_memory_equal(icmp + 26, R0, 6);
	assert_int_equal(ref_sum6(ip, icmp, 32), 0xffff);
	/* the sender was learnt */
	a6(a, "2001:db8::2");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET6, a, mac, NULL), 0);
	assert_memory_equal(mac, H0, 6);
	clear_sent();
	/* our link-local address (EUI-64 of R0) is answered too, from itself */
	ns6(f, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 0x01 }, H0, "fe80::aa:ff:fe00:2",
	    "ff02::1:ff00:1", "fe80::ff:fe00:1");
	input(f, 14 + 40 + 32, 0, NPR_EXC_L2_MULTICAST, T0);
	assert_int_equal(n_sent, 1);
	a6(a, "fe80::ff:fe00:1");
	assert_memory_equal(frame(0) + 14 + 8, a, 16);
	clear_sent();
	/* bad: hop limit not 255, bad checksum, someone else's target */
	ns6(f, R0, H0, "2001:db8::2", "2001:db8::1", "2001:db8::1");
	f[14 + 7] = 64;
	input(f, 14 + 40 + 32, 0, NPR_EXC_LOCAL, T0);
	ns6(f, R0, H0, "2001:db8::2", "2001:db8::1", "2001:db8::1");
	f[14 + 40 + 30] ^= 1;
	input(f, 14 + 40 + 32, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_ND_BAD), 2);
	ns6(f, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 0x07 }, H0, "2001:db8::2",
	    "ff02::1:ff00:7", "2001:db8::7");
	input(f, 14 + 40 + 32, 0, NPR_EXC_L2_MULTICAST, T0);
	assert_int_equal(n_sent, 0);

	/* resolution of a gateway with NS, answered by NA */
	uint8_t g[256];
	unsigned n = ip6(g, R0, H0, "2001:db8::2", "2001:db8:100::5", 64, 17, 16);
	input(g, n, 0, NPR_EXC_UNRESOLVED, T0 + MSEC);
	assert_int_equal(n_sent, 1);
	o = frame(0);
	ip = o + 14;
	icmp = ip + 40;
	a6(a, "2001:db8:1::2");
	memcpy(mc, (const uint8_t[]){ 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff }, 13);
	memcpy(mc + 13, a + 13, 3);
	assert_memory_equal(o, ((const uint8_t[]){ 0x33, 0x33, 0xff, a[13], a[14], a[15] }), 6);
	assert_memory_equal(ip + 24, mc, 16);
	a6(a, "2001:db8:1::1");
	assert_memory_equal(ip + 8, a, 16);
	assert_int_equal(ip[7], 255);
	assert_int_equal(icmp[0], 135);
	a6(a, "2001:db8:1::2");
	assert_memory_equal(icmp + 8, a, 16);
	assert_int_equal(icmp[24], 1);
	assert_memory_equal(icmp + 26, R1, 6);
	assert_int_equal(ref_sum6(ip, icmp, get16(ip + 4)), 0xffff);
	clear_sent();
	na6(f, R1, G1, "2001:db8:1::2", "2001:db8:1::1", "2001:db8:1::2", 0x60);
	input(f, 14 + 40 + 32, 1, NPR_EXC_LOCAL, T0 + 2 * MSEC);
	assert_int_equal(n_sent, 1);
	o = frame(0);
	assert_memory_equal(o, G1, 6);
	assert_int_equal(o[14 + 7], 63);
	assert_int_equal(word(2), fwd_nh_pack(FWD_NH_FORWARD, 1, ref_mac64(G1)));
	/* an unsolicited NA for an unknown target teaches nothing */
	na6(f, R1, H9, "2001:db8:1::9", "ff02::1", "2001:db8:1::9", 0x20);
	input(f, 14 + 40 + 32, 1, NPR_EXC_L2_MULTICAST, T0 + 3 * MSEC);
	a6(a, "2001:db8:1::9");
	assert_int_equal(cfg_neigh_get(C, 1, NPR_AF_INET6, a, NULL, NULL), -ENOENT);
}

static void
test_echo(void **state)
{
	uint8_t f[256];
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "2001:db8::2", H0));
	clear_sent();
	unsigned n = echo4(f, "192.0.2.2", "198.51.100.1", 56); /* our other address */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(n_sent, 1);
	const uint8_t *o = frame(0), *ip = o + 14;
	assert_memory_equal(o, H0, 6);
	assert_int_equal(rte_pktmbuf_pkt_len(sent[0]), n);
	assert_memory_equal(ip + 12, f + 14 + 16, 4); /* swapped */
	assert_memory_equal(ip + 16, f + 14 + 12, 4);
	assert_int_equal(ip[9], 1);
	assert_int_equal(ref_sum(ip, 20, NULL, 0), 0xffff);
	assert_int_equal(ip[34 - 14], 0);	      /* echo reply */
	assert_memory_equal(ip + 24, f + 38, n - 38); /* id, seq, data */
	assert_int_equal(ref_sum(ip + 20, n - 34, NULL, 0), 0xffff);
	clear_sent();
	/* a bad checksum gets nothing */
	f[40] ^= 0xff;
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(n_sent, 0);

	n = echo6(f, "2001:db8::2", "2001:db8:1::1", 40);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(n_sent, 1);
	o = frame(0);
	ip = o + 14;
	assert_memory_equal(ip + 8, f + 14 + 24, 16);
	assert_memory_equal(ip + 24, f + 14 + 8, 16);
	assert_int_equal(ip[40], 129);
	assert_memory_equal(ip + 44, f + 58, n - 58);
	assert_int_equal(ref_sum6(ip, ip + 40, n - 54), 0xffff);
	assert_int_equal(counter(NPR_SLOW_ECHO_TX), 2);
}

/* check an ICMP(v4) error frame i: type, code, quoted original, source address */
static void
check_err4(unsigned i, unsigned type, unsigned code, const uint8_t *orig, unsigned olen,
	   const char *src)
{
	const uint8_t *o = frame(i), *ip = o + 14, *icmp = ip + 20;
	uint8_t a[16];
	unsigned q = olen - 14 < 548 ? olen - 14 : 548;

	assert_int_equal(get16(o + 12), 0x0800);
	a4(a, src);
	assert_memory_equal(ip + 12, a, 4);
	assert_memory_equal(ip + 16, orig + 14 + 12, 4); /* to the original's source */
	assert_int_equal(ip[9], 1);
	assert_int_equal(icmp[0], type);
	assert_int_equal(icmp[1], code);
	assert_int_equal(get16(ip + 2), 28 + q);
	assert_true(get16(ip + 2) <= 576);
	assert_int_equal(ref_sum(ip, 20, NULL, 0), 0xffff);
	assert_int_equal(ref_sum(icmp, 8 + q, NULL, 0), 0xffff);
	assert_memory_equal(icmp + 8, orig + 14, q);
}

static void
test_errors(void **state)
{
	uint8_t f[1600];
	unsigned n;
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "2001:db8::2", H0));
	clear_sent();
	n = udp4(f, R0, "192.0.2.2", "10.1.2.3", 1, 0, 20);
	input(f, n, 0, NPR_EXC_TTL_EXPIRED, T0);
	check_err4(0, 11, 0, f, n, "192.0.2.1");
	n = udp4(f, R0, "192.0.2.2", "10.99.0.1", 64, 0, 1000); /* quoted up to 576 */
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	check_err4(1, 3, 0, f, n, "192.0.2.1");
	n = udp4(f, R0, "192.0.2.2", "10.5.0.1", 64, 0, 20);
	input(f, n, 0, NPR_EXC_UNREACHABLE, T0);
	check_err4(2, 3, 1, f, n, "192.0.2.1");
	n = udp4(f, R0, "192.0.2.2", "10.6.0.1", 64, 0, 20);
	input(f, n, 0, NPR_EXC_PROHIBIT, T0);
	check_err4(3, 3, 13, f, n, "192.0.2.1");
	n = udp4(f, R0, "192.0.2.2", "192.0.2.1", 64, 0, 20); /* UDP to us */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_err4(4, 3, 3, f, n, "192.0.2.1");
	assert_int_equal(n_sent, 5);
	assert_int_equal(counter(NPR_SLOW_ICMP_TTL_TX), 1);
	assert_int_equal(counter(NPR_SLOW_ICMP_UNREACH_TX), 4);
	clear_sent();

	/* IPv6: hop limit, no route, port unreachable, from the ingress interface's address */
	uint8_t a[16];
	n = ip6(f, R0, H0, "2001:db8::2", "2001:db8:100::5", 1, 17, 24);
	input(f, n, 0, NPR_EXC_TTL_EXPIRED, T0);
	n = ip6(f, R0, H0, "2001:db8::2", "2001:db8:999::5", 64, 17, 1400);
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	assert_int_equal(n_sent, 2);
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *ip = frame(i) + 14, *icmp = ip + 40;
		unsigned plen = get16(ip + 4);
		a6(a, "2001:db8::1");
		assert_memory_equal(ip + 8, a, 16);
		a6(a, "2001:db8::2");
		assert_memory_equal(ip + 24, a, 16);
		assert_int_equal(icmp[0], i == 0 ? 3 : 1);
		assert_int_equal(icmp[1], 0);
		assert_true(40 + plen <= 1280);
		assert_int_equal(ref_sum6(ip, icmp, plen), 0xffff);
	}
	assert_memory_equal(frame(1) + 14 + 48, f + 14, 1280 - 48); /* the second, quoted */
	assert_int_equal(get16(frame(1) + 18), 1280 - 40);
	clear_sent();

	/* never about an ICMP error, a broadcast, a multicast, a later fragment, a bad source */
	uint64_t sup = counter(NPR_SLOW_ICMP_SUPPRESSED);
	n = ip4(f, R0, H0, "192.0.2.2", "10.99.0.1", 64, 1, 0, 36);
	f[34] = 3; /* an ICMP unreachable */
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	n = udp4(f, BC, "192.0.2.2", "10.99.0.1", 64, 0, 20);
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	n = udp4(f, R0, "192.0.2.2", "10.99.0.1", 64, 100, 20); /* offset 800 */
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	n = udp4(f, R0, "0.0.0.0", "10.99.0.1", 64, 0, 20);
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	n = udp4(f, R0, "192.0.2.255", "10.99.0.1", 64, 0, 20); /* a subnet broadcast */
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	n = ip6(f, R0, H0, "2001:db8::2", "2001:db8:999::5", 64, 58, 16);
	f[54] = 1; /* ICMPv6 destination unreachable */
	input(f, n, 0, NPR_EXC_NO_ROUTE, T0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(counter(NPR_SLOW_ICMP_SUPPRESSED) - sup, 6);
	/* a blackhole stays silent: the workers drop it; if one comes here anyway, dropped */
	n = udp4(f, R0, "192.0.2.2", "10.7.0.1", 64, 0, 20);
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0);
	assert_int_equal(n_sent, 0);
}

static void
test_ratelimit(void **state)
{
	uint8_t f[256];
	(void)state;

	sp_free(SP);
	SP = make_sp(10, 5); /* 10 a second, 5 at once */
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	sp_periodic(SP, T0);
	clear_sent();
	unsigned n = udp4(f, R0, "192.0.2.2", "10.99.0.1", 64, 0, 20);
	for (unsigned i = 0; i < 8; i++)
		input(f, n, 0, NPR_EXC_NO_ROUTE, T0 + SEC);
	assert_int_equal(n_sent, 5);
	assert_int_equal(counter(NPR_SLOW_ICMP_RATELIMITED), 3);
	/* 250 ms later: two more tokens */
	for (unsigned i = 0; i < 4; i++)
		input(f, n, 0, NPR_EXC_NO_ROUTE, T0 + SEC + 250 * MSEC);
	assert_int_equal(n_sent, 7);
	/* much later: at most the burst */
	for (unsigned i = 0; i < 9; i++)
		input(f, n, 0, NPR_EXC_NO_ROUTE, T0 + 100 * SEC);
	assert_int_equal(n_sent, 12);
	/* echo replies are not errors: not limited */
	n = echo4(f, "192.0.2.2", "192.0.2.1", 8);
	for (unsigned i = 0; i < 10; i++)
		input(f, n, 0, NPR_EXC_LOCAL, T0 + 100 * SEC);
	assert_int_equal(n_sent, 22);
	/* the inject ring full: counted, freed */
	tx_refuse = 1;
	input(f, n, 0, NPR_EXC_LOCAL, T0 + 100 * SEC);
	assert_int_equal(counter(NPR_SLOW_INJECT_FULL), 1);
}

/* wan's MTU is 1400: DF -> fragmentation needed; no DF -> fragments; IPv6 -> too big */
static void
test_too_big(void **state)
{
	uint8_t f[3100], orig[3100], a[16];
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "2001:db8::2", H0));
	OK(neigh(NPR_MSG_NEIGH_SET, 1, "198.51.100.2", G1));
	OK(neigh(NPR_MSG_NEIGH_SET, 1, "2001:db8:1::2", G1));
	clear_sent();
	unsigned n = udp4(f, R0, "192.0.2.2", "10.1.2.3", 64, 0x4000, 1472); /* 1500, DF */
	input(f, n, 0, NPR_EXC_TOO_BIG, T0);
	assert_int_equal(n_sent, 1);
	check_err4(0, 3, 4, f, n, "192.0.2.1");
	assert_int_equal(get16(frame(0) + 14 + 20 + 6), 1400); /* next-hop MTU */
	assert_int_equal(get16(frame(0) + 14 + 20 + 4), 0);
	clear_sent();

	n = udp4(orig, R0, "192.0.2.2", "10.1.2.3", 64, 0, 2972); /* 3000 bytes, no DF */
	memcpy(f, orig, n);
	input(f, n, 0, NPR_EXC_TOO_BIG, T0);
	assert_int_equal(n_sent, 3);
	assert_int_equal(counter(NPR_SLOW_FRAG_TX), 3);
	uint8_t data[3000];
	unsigned got = 0;
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *o = frame(i), *ip = o + 14;
		unsigned tot = get16(ip + 2), fr = get16(ip + 6);
		assert_memory_equal(o, G1, 6);
		assert_int_equal(sent[i]->port, 1);
		assert_true(tot <= 1400);
		assert_int_equal(ip[8], 63);
		assert_int_equal(ref_sum(ip, 20, NULL, 0), 0xffff);
		assert_int_equal((fr & 0x1fff) * 8, got);
		assert_int_equal(!!(fr & 0x2000), i < 2);
		assert_int_equal(get16(ip + 4), 0x4242); /* same identification */
		if (i < 2)
			assert_int_equal((tot - 20) % 8, 0);
		memcpy(data + got, ip + 20, tot - 20);
		got += tot - 20;
	}
	assert_int_equal(got, n - 34);
	assert_memory_equal(data, orig + 34, got);
	clear_sent();

	n = ip6(f, R0, H0, "2001:db8::2", "2001:db8:100::5", 64, 17, 1460);
	input(f, n, 0, NPR_EXC_TOO_BIG, T0);
	assert_int_equal(n_sent, 1);
	const uint8_t *ip = frame(0) + 14, *icmp = ip + 40;
	a6(a, "2001:db8::1");
	assert_memory_equal(ip + 8, a, 16);
	assert_int_equal(icmp[0], 2);
	assert_int_equal((unsigned)get16(icmp + 4) << 16 | get16(icmp + 6), 1400);
	assert_int_equal(ref_sum6(ip, icmp, get16(ip + 4)), 0xffff);
	assert_int_equal(counter(NPR_SLOW_ICMP_TOOBIG_TX), 2);
	clear_sent();

	/* what the router sends goes within the egress MTU too: an echo reply as large as its
	 * request, to a source routed out of wan (MTU 1400), in fragments */
	n = echo4(f, "10.1.2.3", "192.0.2.1", 2000);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_ECHO_TX), 1);
	assert_int_equal(n_sent, 2);
	assert_int_equal(counter(NPR_SLOW_FRAG_TX), 5);
	for (unsigned i = 0; i < 2; i++) {
		ip = frame(i) + 14;
		assert_int_equal(sent[i]->port, 1);
		assert_true(get16(ip + 2) <= 1400);
		assert_int_equal(ref_sum(ip, 20, NULL, 0), 0xffff);
		assert_int_equal(!!(get16(ip + 6) & 0x2000), i == 0);
	}
	clear_sent();
}

/* A packet that waited for its neighbour while the interface's MTU shrank is not sent beyond
 * it: with DF, "fragmentation needed" with the new MTU. */
static void
test_too_big_held(void **state)
{
	uint8_t f[3100];
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	clear_sent();
	unsigned n = udp4(f, R0, "192.0.2.2", "198.51.100.77", 64, 0x4000, 1350); /* 1378 */
	input(f, n, 0, NPR_EXC_UNRESOLVED, T0);
	assert_int_equal(counter(NPR_SLOW_HOLD_QUEUED), 1);
	assert_int_equal(n_sent, 1); /* the ARP request */
	clear_sent();
	OK(iface(1, 1, R1, 1280, true, "wan"));
	arp(f, R1, 2, H9, "198.51.100.77", R1, "198.51.100.1");
	input(f, 42, 1, EXC_ARP, T0 + MSEC);
	assert_int_equal(counter(NPR_SLOW_HOLD_SENT), 0);
	assert_int_equal(counter(NPR_SLOW_ICMP_TOOBIG_TX), 1);
	assert_int_equal(n_sent, 1);
	const uint8_t *o = frame(0), *ip = o + 14;
	assert_int_equal(sent[0]->port, 0);
	assert_memory_equal(o, H0, 6);
	assert_int_equal(ip[9], 1);
	assert_int_equal(ip[20], 3);
	assert_int_equal(ip[21], 4);
	assert_int_equal(get16(ip + 20 + 6), 1280);
	clear_sent();
}

/* Address removal takes its connected route and the neighbours learnt on it. */
static void
test_connected(void **state)
{
	uint8_t f[128], h[16];
	(void)state;

	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0);
	a4(h, "192.0.2.2");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), 0);
	assert_int_equal(fwd_nh_kind(word_for4("192.0.2.2")), FWD_NH_FORWARD);
	/* a learnt neighbour is not configuration: a resync keeps it; here the resync sends
	 * the interfaces only */
	struct npr_msg_hdr hm = { 0 };
	OK(send_rec(&hm, NPR_MSG_SYNC_BEGIN, sizeof(hm)));
	OK(iface(0, 0, R0, 1500, true, "lan"));
	OK(iface(1, 1, R1, 1400, true, "wan"));
	OK(send_rec(&hm, NPR_MSG_SYNC_END, sizeof(hm)));
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), 0);
	/* nothing was re-sent: every address went, and its subnet's neighbours with it */
	sp_periodic(SP, T0 + MSEC);
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	assert_int_equal(word_for4("192.0.2.2"), 0);
	assert_int_equal(counter(NPR_SLOW_NEIGH_FLUSHED), 1);

	/* again, with ADDR_DEL; an interface going down flushes too */
	OK(addr(NPR_MSG_ADDR_ADD, 0, "192.0.2.1", 24));
	OK(addr(NPR_MSG_ADDR_ADD, 1, "198.51.100.1", 24));
	input(f, 42, 0, EXC_ARP, T0 + 2 * MSEC);
	arp(f, BC, 1, G1, "198.51.100.2", NULL, "198.51.100.1");
	input(f, 42, 1, EXC_ARP, T0 + 2 * MSEC);
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), 0);
	OK(addr(NPR_MSG_ADDR_DEL, 0, "192.0.2.1", 24));
	assert_int_equal(word_for4("192.0.2.2"), 0); /* the host route went with the subnet */
	sp_periodic(SP, T0 + 3 * MSEC);
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	OK(iface(1, 1, R1, 1400, false, "wan"));
	sp_periodic(SP, T0 + 4 * MSEC);
	a4(h, "198.51.100.2");
	assert_int_equal(cfg_neigh_get(C, 1, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	assert_int_equal(counter(NPR_SLOW_NEIGH_FLUSHED), 3);
	/* an interface with only learnt neighbours can be deleted (they go with it) */
	OK(iface(1, 1, R1, 1400, true, "wan"));
	sp_periodic(SP, T0 + 5 * MSEC);
	input(f, 42, 1, EXC_ARP, T0 + 6 * MSEC);
	assert_int_equal(cfg_neigh_get(C, 1, NPR_AF_INET, h, NULL, NULL), 0);
	OK(addr(NPR_MSG_ADDR_DEL, 1, "198.51.100.1", 24));
	struct npr_msg_iface_del idel = { .ifid = 1 };
	OK(send_rec(&idel, NPR_MSG_IFACE_DEL, sizeof(idel)));
	assert_int_equal(cfg_neigh_get(C, 1, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	sp_periodic(SP, T0 + 7 * MSEC);
	uint8_t d[16] = { 0 };
	struct cfg_route r;
	a4(d, "198.51.100.2");
	assert_int_equal(cfg_route_get(C, NPR_AF_INET, d, 0, &r), 0);
	assert_int_equal(r.kind, CFG_RT_NONE);
}

/* A batch left open: learning waits (nothing half-published), then goes through. */
static void
test_batch_open(void **state)
{
	uint8_t f[128], h[16];
	(void)state;

	struct npr_msg_hdr hm = { 0 };
	OK(send_rec(&hm, NPR_MSG_BATCH_BEGIN, sizeof(hm)));
	OK(route("10.8.0.0", 16, 1));
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0);
	a4(h, "192.0.2.2");
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), -ENOENT);
	assert_int_equal(word_for4("10.8.0.1"), word_for4("10.1.0.1")); /* via 10/8 still */
	OK(send_rec(&hm, NPR_MSG_BATCH_COMMIT, sizeof(hm)));
	sp_periodic(SP, T0 + 20 * MSEC);
	assert_int_equal(cfg_neigh_get(C, 0, NPR_AF_INET, h, NULL, NULL), 0);
	assert_int_equal(fwd_nh_kind(word_for4("192.0.2.2")), FWD_NH_FORWARD);
}

/* Host ports: what is for the router and not answered here goes to the host stack whole,
 * on the interface it came in on; echo requests are still answered here. */
static void
test_host_punt(void **state)
{
	uint8_t f[256];
	unsigned n;
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	OK(neigh(NPR_MSG_NEIGH_SET, 0, "2001:db8::2", H0));
	host_on();
	n = ip4(f, R0, H0, "192.0.2.2", "192.0.2.1", 64, 6, 0, 20); /* TCP (BGP, SSH) */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_host(1, f, n, 0);
	/* UDP (BFD) to the other interface's address: no port unreachable, to the host stack
	 * on the interface it arrived on */
	n = udp4(f, R0, "192.0.2.2", "198.51.100.1", 64, 0, 24);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_host(2, f, n, 0);
	/* the first fragment of an echo request: the host stack reassembles it */
	n = ip4(f, R0, H0, "192.0.2.2", "192.0.2.1", 64, 1, 0x2000, 40);
	f[34] = 8;
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_host(3, f, n, 0);
	assert_int_equal(n_sent, 0);
	/* an echo request: answered here */
	n = echo4(f, "192.0.2.2", "192.0.2.1", 8);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(n_host, 3);
	/* an echo reply (the host stack pinged) is the host stack's */
	f[34] = 0;
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_host(4, f, n, 0);
	/* IPv6: TCP to a global address and to our link-local one; someone else's link-local
	 * address is dropped; echo answered here */
	n = ip6(f, R0, H0, "2001:db8::2", "2001:db8::1", 64, 6, 20);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_host(5, f, n, 0);
	n = ip6(f, R1, G1, "fe80::2", "fe80::ff:fe00:101", 64, 6, 20);
	input(f, n, 1, NPR_EXC_LOCAL, T0);
	check_host(6, f, n, 1);
	n = ip6(f, R0, H0, "fe80::2", "fe80::99", 64, 6, 20);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	n = ip6(f, R0, H0, "2001:db8::2", "2001:db8::1", 64, 17, 20); /* UDP */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	check_host(7, f, n, 0);
	n = echo6(f, "2001:db8::2", "2001:db8::1", 8);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(n_sent, 2);
	assert_int_equal(n_host, 7);
	assert_int_equal(counter(NPR_SLOW_HOST_TO_KERNEL), 7);
	assert_int_equal(counter(NPR_SLOW_ECHO_TX), 2);
	assert_int_equal(counter(NPR_SLOW_LOCAL_DROP), 1);
	assert_int_equal(counter(NPR_SLOW_ICMP_UNREACH_TX), 0);
}

/* Link-local groups and broadcasts go to the host stack; other groups are dropped. */
static void
test_host_mcast(void **state)
{
	static const uint8_t M5[6] = { 0x01, 0, 0x5e, 0, 0, 5 }, M1[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t f[256];
	unsigned n;
	(void)state;

	host_on();
	n = ip4(f, M5, H0, "192.0.2.2", "224.0.0.5", 1, 89, 0, 40); /* OSPF hello */
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	check_host(1, f, n, 0);
	n = ip4(f, M5, H0, "192.0.2.2", "239.1.2.3", 8, 17, 0, 40);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	n = udp4(f, BC, "192.0.2.2", "255.255.255.255", 64, 0, 20);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	check_host(2, f, n, 0);
	n = udp4(f, BC, "192.0.2.2", "192.0.2.255", 64, 0, 20); /* the subnet's broadcast */
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	check_host(3, f, n, 0);
	/* IPv6: a router advertisement to all nodes, MLD (hop-by-hop first), an echo request
	 * to all nodes (the host stack answers it); site scope is dropped */
	n = ip6(f, M1, H0, "fe80::2", "ff02::1", 255, 58, 16);
	f[54] = 134;
	fix_icmp6(f, 16);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	check_host(4, f, n, 0);
	n = ip6(f, M1, H0, "fe80::2", "ff02::16", 1, 0, 16);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	check_host(5, f, n, 0);
	n = echo6(f, "fe80::2", "ff02::1", 8);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	check_host(6, f, n, 0);
	n = ip6(f, M1, H0, "2001:db8::2", "ff05::2", 8, 17, 16);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	assert_int_equal(n_host, 6);
	assert_int_equal(n_sent, 0);
	assert_int_equal(counter(NPR_SLOW_MCAST_DROP), 2);
}

/* ARP and NS/NA: handled here, and a copy to the host stack. */
static void
test_host_copy(void **state)
{
	uint8_t f[256];
	(void)state;

	host_on();
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0);
	assert_int_equal(n_sent, 1); /* answered */
	assert_int_equal(get16(frame(0) + 20), 2);
	check_host(1, f, 42, 0);
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.77"); /* someone else's */
	input(f, 42, 0, EXC_ARP, T0);
	assert_int_equal(n_sent, 1);
	check_host(2, f, 42, 0);
	arp(f, R1, 2, G1, "198.51.100.2", R1, "198.51.100.1"); /* a reply */
	input(f, 42, 1, EXC_ARP, T0);
	check_host(3, f, 42, 1);
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	f[14 + 5] = 16; /* malformed: not copied */
	input(f, 42, 0, EXC_ARP, T0);
	assert_int_equal(n_host, 3);
	ns6(f, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 0x01 }, H0, "2001:db8::2",
	    "ff02::1:ff00:1", "2001:db8::1");
	input(f, 14 + 40 + 32, 0, NPR_EXC_L2_MULTICAST, T0);
	assert_int_equal(n_sent, 2); /* the advertisement */
	check_host(4, f, 14 + 40 + 32, 0);
	na6(f, R1, G1, "2001:db8:1::2", "2001:db8:1::1", "2001:db8:1::2", 0x60);
	input(f, 14 + 40 + 32, 1, NPR_EXC_LOCAL, T0);
	check_host(5, f, 14 + 40 + 32, 1);
	f[14 + 7] = 64; /* invalid (hop limit): not copied */
	input(f, 14 + 40 + 32, 1, NPR_EXC_LOCAL, T0);
	assert_int_equal(n_host, 5);
	/* no host port there: the copy is dropped, the request still answered */
	host_rc = -ENODEV;
	arp(f, BC, 1, H0, "192.0.2.2", NULL, "192.0.2.1");
	input(f, 42, 0, EXC_ARP, T0);
	assert_int_equal(n_sent, 3);
	assert_int_equal(counter(NPR_SLOW_HOST_DROP), 1);
	assert_int_equal(counter(NPR_SLOW_HOST_TO_KERNEL), 5);
}

/* When the host stack cannot take a packet, and without host ports. */
static void
test_host_fail(void **state)
{
	uint8_t f[256];
	unsigned n = ip4(f, R0, H0, "192.0.2.2", "192.0.2.1", 64, 6, 0, 20);
	(void)state;

	OK(neigh(NPR_MSG_NEIGH_SET, 0, "192.0.2.2", H0));
	/* off: no service (LOCAL_DROP), UDP gets port unreachable, fragments are dropped */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_LOCAL_DROP), 1);
	n = ip4(f, R0, H0, "192.0.2.2", "192.0.2.1", 64, 1, 0x2000, 40);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_LOCAL_DROP), 2);
	n = udp4(f, R0, "192.0.2.2", "192.0.2.1", 64, 0, 20);
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_ICMP_UNREACH_TX), 1);
	assert_int_equal(counter(NPR_SLOW_HOST_DROP) + counter(NPR_SLOW_HOST_TO_KERNEL), 0);

	host_on();
	n = udp4(f, R0, "192.0.2.2", "192.0.2.1", 64, 0, 20);
	host_rc = -ENODEV; /* no host port on that interface (its name was taken) */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	host_rc = -EAGAIN; /* the TAP's queue is full */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_HOST_DROP), 2);
	host_rc = -EIO; /* the write failed */
	input(f, n, 0, NPR_EXC_LOCAL, T0);
	assert_int_equal(counter(NPR_SLOW_LOCAL_DROP), 1);
	n = ip4(f, (const uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 5 }, H0, "192.0.2.2", "224.0.0.5", 1, 89,
		0, 40);
	input(f, n, 0, NPR_EXC_L2_MULTICAST, T0);
	assert_int_equal(counter(NPR_SLOW_MCAST_DROP), 1);
	assert_int_equal(n_sent, 0); /* never a port unreachable with host ports */
	assert_int_equal(n_host, 0);
}

/* What the host stack sends: out of the interface's port as it is, except its answers for
 * the router's addresses, frames over the MTU and runts. */
static void
test_host_output(void **state)
{
	static uint8_t f[9100], got[9100];
	const uint8_t MC2[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	unsigned n;
	(void)state;

	host_on();
	arp(f, BC, 1, R0, "192.0.2.1", NULL, "192.0.2.2"); /* it resolves a peer */
	sp_host_input(SP, 0, f, 42, T0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0]->port, 0);
	assert_int_equal(rte_pktmbuf_pkt_len(sent[0]), 42);
	assert_memory_equal(frame(0), f, 42);
	/* its answers for the router's addresses (this interface's, another's, link-local):
	 * the slow path gave them already */
	arp(f, H0, 2, R0, "192.0.2.1", H0, "192.0.2.2");
	sp_host_input(SP, 0, f, 42, T0);
	arp(f, H0, 2, R0, "198.51.100.1", H0, "192.0.2.2");
	sp_host_input(SP, 0, f, 42, T0);
	na6(f, H0, R0, "2001:db8::1", "2001:db8::2", "2001:db8::1", 0x60);
	sp_host_input(SP, 0, f, 14 + 40 + 32, T0);
	na6(f, H0, R0, "fe80::ff:fe00:1", "fe80::2", "fe80::ff:fe00:1", 0x60);
	sp_host_input(SP, 0, f, 14 + 40 + 32, T0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(counter(NPR_SLOW_HOST_DROP), 4);
	/* other answers and its solicitations go */
	arp(f, H0, 2, R0, "192.0.2.50", H0, "192.0.2.2");
	sp_host_input(SP, 0, f, 42, T0);
	ns6(f, MC2, R0, "2001:db8::1", "ff02::1:ff00:2", "2001:db8::2");
	sp_host_input(SP, 0, f, 14 + 40 + 32, T0);
	assert_int_equal(n_sent, 3);
	assert_memory_equal(frame(2), f, 14 + 40 + 32);
	/* wan's MTU is 1400: a full frame goes, one byte more does not; nor does a runt */
	n = ip4(f, G1, R1, "198.51.100.1", "198.51.100.2", 64, 6, 0, 1380);
	sp_host_input(SP, 1, f, n, T0);
	assert_int_equal(n_sent, 4);
	assert_int_equal(sent[3]->port, 1);
	n = ip4(f, G1, R1, "198.51.100.1", "198.51.100.2", 64, 6, 0, 1381);
	sp_host_input(SP, 1, f, n, T0);
	sp_host_input(SP, 1, f, 13, T0);
	assert_int_equal(n_sent, 4);
	assert_int_equal(counter(NPR_SLOW_HOST_DROP), 6);
	assert_int_equal(counter(NPR_SLOW_HOST_FROM_KERNEL), 4);
	/* a jumbo frame (MTU 9000): chained buffers, the same bytes */
	OK(iface(0, 0, R0, 9000, true, "lan"));
	n = ip4(f, H0, R0, "192.0.2.1", "192.0.2.2", 64, 6, 0, 8980);
	sp_host_input(SP, 0, f, n, T0);
	assert_int_equal(n_sent, 5);
	assert_true(sent[4]->nb_segs > 1);
	assert_int_equal(rte_pktmbuf_pkt_len(sent[4]), n);
	assert_memory_equal(rte_pktmbuf_read(sent[4], 0, n, got), f, n);
	/* an interface down or unknown; the inject ring full */
	OK(iface(1, 1, R1, 1400, false, "wan"));
	sp_host_input(SP, 1, f, 42, T0);
	sp_host_input(SP, 7, f, 42, T0);
	assert_int_equal(counter(NPR_SLOW_IFACE_DOWN_DROP), 2);
	tx_refuse = 1;
	arp(f, BC, 1, R0, "192.0.2.1", NULL, "192.0.2.2");
	sp_host_input(SP, 0, f, 42, T0);
	assert_int_equal(counter(NPR_SLOW_INJECT_FULL), 1);
	assert_int_equal(counter(NPR_SLOW_HOST_FROM_KERNEL), 5);
}

int
main(void)
{
	char *args[] = { "test_slowpath",	  "--no-pci",	   "--no-huge",	    "-m", "128",
			 "--no-shconf",		  "--file-prefix", "test_slowpath", "-l", "0",
			 "--log-level=*:warning", "--no-telemetry" };
	int n = (int)(sizeof(args) / sizeof(args[0]));

	if (rte_eal_init(n, args) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_sp", 1023, 0, 0, 4096 + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "no mempool\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_garp, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_arp_reply, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_resolve, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_resolve_fail, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_resolve_flood, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_aging, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_nd, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_echo, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_errors, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_ratelimit, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_too_big, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_too_big_held, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_connected, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_batch_open, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_host_punt, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_host_mcast, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_host_copy, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_host_fail, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_host_output, setup_each, teardown_each),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
