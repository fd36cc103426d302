/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the packet paths: the worker pipeline (dataplane/fwd.c: fwd_process,
 * fwd_flush, fwd_inject) and the slow path (dataplane/slowpath/, icmp.c) on arbitrary frames,
 * wired as main.c wires them: exceptions from the worker go to sp_input, what the slow path
 * sends goes through the worker's inject ring and out of the ports, what it gives the host
 * stack goes to a fake host_tx. EAL without hugepages or PCI; three net_ring ports (ids 0..2)
 * stand in for NICs. The router (as tests/fuzz/gen_seeds.py's topology()):
 *
 *   lan  (port 0, MTU 1500): 192.0.2.1/24, 2001:db8::1/64
 *   wan  (port 1, MTU 1400): 198.51.100.1/24, 2001:db8:1::1/64, neighbour 198.51.100.2
 *   wan2 (port 2, MTU 9000): 203.0.113.1/24, neighbour 2001:db8:2::2
 *   nh 1 via 198.51.100.2 dev wan, nh 2 via 2001:db8:1::2 dev wan (unresolved),
 *   nh 3 via 203.0.113.2 dev wan2 with its MAC, nh 4 unreachable, 5 prohibit, 6 blackhole,
 *   group 1 = nh 1 + 2 x nh 3
 *   10/8 -> 1, 10.5/16 -> 4, 10.6/16 -> 5, 10.7/16 -> 6, 172.16/12 -> group 1,
 *   2001:db8:100::/48 -> 2, ::/0 -> 2
 * Port MACs 02:00:00:00:00:10 + port id; port 3 has no interface (nor device).
 *
 * Input: one byte of options (bit 0: host ports; bit 1: host_tx fails with -EAGAIN; bit 2:
 * an ICMP bucket of one token a second), then steps, each a byte c, then its operands:
 *   c & 7 = 0..2  a frame received on port (c >> 3) & 3: u16 length (% 8193), the bytes (the
 *                 missing ones zero); with c & 0x20 (or beyond 4096 bytes) in two segments,
 *                 split at 128 + u16 % (length - 128): headers stay in the first, as every
 *                 PMD delivers them; with c & 0x40 its checksums made right first (IPv4
 *                 header, ICMP, ICMPv6), so that mutated frames get past them to what the
 *                 checks guard. Frames gather into a burst (32 at most, one port).
 *           3     the burst goes through the worker now
 *           4     time goes on by u16 ms; the slow path's timers run (sp_periodic)
 *           5     the host stack sends a frame on interface u8 % 4: u16 length (% 9100), bytes
 *           6     a configuration change (u8 picks one, below)
 *           7     the inject ring is full (or no longer)
 *
 * After every burst: the worker's counters add up (rx + injected = drops + exceptions + tx),
 * every frame the ports sent was counted and is sane (from the port's MAC; IPv4 with a valid
 * header checksum, TTL >= 1, lengths that agree; IPv6 lengths that agree, hop limit >= 1;
 * no IP datagram beyond the egress interface's MTU), frames from the host stack aside. After
 * every input: no mbuf is left out of the pool. The cfg is kept between inputs (making one
 * costs milliseconds): learnt neighbours are forgotten and, if the input changed the
 * configuration, a resync puts the router back; with NPR_FUZZ_FRESH=1 (replay.c) a new cfg
 * for every input. With NPR_FUZZ_COLD=1 the router also has 2,112 filler routes (a /24 in
 * each of as many /16s of 60/8..68/8, via nh 1), enough that the IPv4 FIB is not hot
 * (dataplane/fib.h, FIB_HOT_LINES) and the worker takes the path of full tables; the suite
 * replays the inputs both ways (fuzz_fwd, fuzz_fwd_cold).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cfg.h"
#include "cfg_check.h"
#include "fwd.h"
#include "slowpath.h"
#include "fuzz.h"

#define N_PORTS 3u
#define SEC 1000000000ull
#define MSEC 1000000ull
#define T0 (100 * SEC)
#define MAX_FRAME 8192u
#define MAX_HOST_FRAME 9100u
#define SEG_ROOM 4096u
#define RING_SIZE 1024u
#define MAX_HOST_SENT 64u

static struct rte_mempool *pool;
static struct rte_ring *rxr[N_PORTS], *txr[N_PORTS];
static struct rte_ring *exc_ring, *inject_ring;
static struct fwd_worker *W;
static _Atomic uint32_t port_closed[NPR_MAX_PORTS]; /* the port gate (portgate.h): all open */
static volatile int stop_flag;
static struct cfg *C;
static struct slowpath *SP;
static bool fresh, verbose;
static bool cold; /* NPR_FUZZ_COLD set: filler routes make the IPv4 FIB cold (fib_hot) */

static int tx_refuse;					/* step 7: the inject ring is "full" */
static int host_rc;					/* what the fake host_tx returns */
static const struct rte_mbuf *host_sent[MAX_HOST_SENT]; /* frames the host stack sent */
static unsigned n_host_sent;
static bool in_host_input;

/* ---- the router ---- */

static void
port_mac(unsigned p, uint8_t *mac)
{
	static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0x10 };
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(0x10 + p);
}

static void
emit_ignore(void *ctx, const void *rec, uint32_t len)
{
	struct npr_reply *rep = ctx;
	const struct npr_msg_hdr *h = rec;
	if (h->type == NPR_MSG_REPLY && len == sizeof(*rep))
		memcpy(rep, rec, sizeof(*rep));
}

/* One request on session 0; its status (the reason in rep). route() below passes IPv6 routes
 * as the IPv4 type + 3 (ROUTE4_ADD + 3 = ROUTE6_ADD, and so on). */
static int
req(void *m, uint16_t type, uint32_t len, struct npr_reply *rep)
{
	struct npr_msg_hdr h = { .type = type, .version = NPR_ABI_VERSION, .len = len };
	memcpy(m, &h, sizeof(h));
	memset(rep, 0, sizeof(*rep));
	rep->status = -EPROTO;
	cfg_handle(C, m, len, emit_ignore, rep);
	return rep->status;
}

static void
a16(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, a) != 1)
		fuzz_fail("bad address %s", s);
}

static uint8_t
fam(const char *s)
{
	return strchr(s, ':') ? NPR_AF_INET6 : NPR_AF_INET;
}

static int
iface(unsigned ifid, unsigned port, unsigned mtu, bool up, const char *name, struct npr_reply *rep)
{
	struct npr_msg_iface_set m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.port_id = (uint16_t)port;
	m.mtu = (uint16_t)mtu;
	m.flags = up ? NPR_IFACE_F_UP : 0;
	snprintf(m.name, sizeof(m.name), "%s", name);
	return req(&m, NPR_MSG_IFACE_SET, sizeof(m), rep);
}

static int
addr(uint16_t type, unsigned ifid, const char *a, unsigned plen, struct npr_reply *rep)
{
	struct npr_msg_addr m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.family = fam(a);
	m.plen = (uint8_t)plen;
	a16(m.addr, a);
	return req(&m, type, sizeof(m), rep);
}

static int
neigh(uint16_t type, unsigned ifid, const char *a, unsigned mac_last, struct npr_reply *rep)
{
	struct npr_msg_neigh m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.family = fam(a);
	a16(m.addr, a);
	if (type == NPR_MSG_NEIGH_SET) {
		const uint8_t mac[6] = { 0x02, 0xbb, 0, 0, 0, (uint8_t)mac_last };
		memcpy(m.mac, mac, 6);
	}
	return req(&m, type, sizeof(m), rep);
}

static int
nh(uint32_t id, unsigned kind, unsigned ifid, const char *gw, unsigned mac_last,
   struct npr_reply *rep)
{
	struct npr_msg_nh_set m;
	memset(&m, 0, sizeof(m));
	m.nh_id = id;
	m.kind = (uint8_t)kind;
	m.ifid = (uint16_t)ifid;
	if (gw != NULL) {
		m.family = fam(gw);
		a16(m.gw, gw);
	}
	if (mac_last != 0) {
		const uint8_t mac[6] = { 0x02, 0xcc, 0, 0, 0, (uint8_t)mac_last };
		memcpy(m.mac, mac, 6);
		m.flags = NPR_NH_F_MAC;
	}
	return req(&m, NPR_MSG_NH_SET, sizeof(m), rep);
}

static int
group(uint32_t gid, unsigned n, const uint32_t *ids, const uint16_t *w, struct npr_reply *rep)
{
	uint64_t buf[32];
	struct npr_msg_group_set *m = (struct npr_msg_group_set *)buf;
	memset(buf, 0, sizeof(buf));
	m->group_id = gid;
	m->n_members = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		m->members[i].nh_id = ids[i];
		m->members[i].weight = w[i];
	}
	return req(m, NPR_MSG_GROUP_SET, (uint32_t)(sizeof(*m) + 8 * n + 7) & ~7u, rep);
}

static int
route(uint16_t type, const char *pfx, unsigned plen, uint32_t target, struct npr_reply *rep)
{
	uint64_t buf[8];
	uint8_t a[16];
	memset(buf, 0, sizeof(buf));
	a16(a, pfx);
	if (fam(pfx) == NPR_AF_INET6) {
		struct npr_msg_route6 *m = (struct npr_msg_route6 *)buf;
		m->count = 1;
		memcpy(m->r[0].prefix, a, 16);
		m->r[0].plen = (uint8_t)plen;
		m->r[0].target = target;
		return req(m, (uint16_t)(type + 3), sizeof(*m) + 24, rep);
	}
	struct npr_msg_route4 *m = (struct npr_msg_route4 *)buf;
	m->count = 1;
	memcpy(&m->r[0].prefix, a, 4);
	m->r[0].plen = (uint8_t)plen;
	m->r[0].target = target;
	return req(m, type, sizeof(*m) + 16, rep);
}

#define MUST(x)                                                                                    \
	do {                                                                                       \
		if ((x) != 0)                                                                      \
			return #x;                                                                 \
	} while (0)

/* The router above, on an empty cfg or (inside SYNC_BEGIN / SYNC_END) over a changed one.
 * NULL, or the request that failed. */
static const char *
topology(void)
{
	struct npr_reply r;
	static const uint32_t g_ids[2] = { 1, 3 };
	static const uint16_t g_w[2] = { 1, 2 };
	MUST(iface(0, 0, 1500, true, "lan", &r));
	MUST(iface(1, 1, 1400, true, "wan", &r));
	MUST(iface(2, 2, 9000, true, "wan2", &r));
	MUST(addr(NPR_MSG_ADDR_ADD, 0, "192.0.2.1", 24, &r));
	MUST(addr(NPR_MSG_ADDR_ADD, 0, "2001:db8::1", 64, &r));
	MUST(addr(NPR_MSG_ADDR_ADD, 1, "198.51.100.1", 24, &r));
	MUST(addr(NPR_MSG_ADDR_ADD, 1, "2001:db8:1::1", 64, &r));
	MUST(addr(NPR_MSG_ADDR_ADD, 2, "203.0.113.1", 24, &r));
	MUST(neigh(NPR_MSG_NEIGH_SET, 1, "198.51.100.2", 2, &r));
	MUST(neigh(NPR_MSG_NEIGH_SET, 2, "2001:db8:2::2", 3, &r));
	MUST(nh(1, NPR_NH_FORWARD, 1, "198.51.100.2", 0, &r));
	MUST(nh(2, NPR_NH_FORWARD, 1, "2001:db8:1::2", 0, &r));
	MUST(nh(3, NPR_NH_FORWARD, 2, "203.0.113.2", 3, &r));
	MUST(nh(4, NPR_NH_UNREACHABLE, 0, NULL, 0, &r));
	MUST(nh(5, NPR_NH_PROHIBIT, 0, NULL, 0, &r));
	MUST(nh(6, NPR_NH_BLACKHOLE, 0, NULL, 0, &r));
	MUST(group(1, 2, g_ids, g_w, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "10.0.0.0", 8, 1, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "10.5.0.0", 16, 4, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "10.6.0.0", 16, 5, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "10.7.0.0", 16, 6, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "172.16.0.0", 12, NPR_TARGET_GROUP | 1, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "2001:db8:100::", 48, 2, &r));
	MUST(route(NPR_MSG_ROUTE4_ADD, "::", 0, 2, &r));
	/* cold: a /24 alone in each of FIB_HOT_LINES + 64 /16s of 60/8..68/8, a node line each */
	for (unsigned i = 0; cold && i < FIB_HOT_LINES + 64; i++) {
		char p[32];
		snprintf(p, sizeof(p), "%u.%u.7.0", 60 + i / 256, i % 256);
		MUST(route(NPR_MSG_ROUTE4_ADD, p, 24, 1, &r));
	}
	return NULL;
}

static void
make_cfg(void)
{
	struct cfg_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.nh_max = 16;
	cc.group_max = 8;
	cc.route4_max = cold ? 4096 : 256;
	cc.route6_max = 256;
	cc.instance_id = 1;
	cc.n_ports = N_PORTS;
	cc.n_workers = 1;
	for (unsigned p = 0; p < N_PORTS; p++) {
		cc.port[p].port_id = (uint16_t)p;
		cc.port[p].n_rxq = cc.port[p].n_txq = 1;
		port_mac(p, cc.port[p].mac);
		snprintf(cc.port[p].name, sizeof(cc.port[p].name), "fz%u", p);
	}
	C = cfg_create(&cc);
	if (C == NULL)
		fuzz_fail("cfg_create: %s", strerror(errno));
	const char *why = topology();
	if (why != NULL)
		fuzz_fail("topology: %s", why);
	W->t = cfg_tables(C);
	if (fib_hot(W->t->fib4) == cold)
		fuzz_fail("the IPv4 FIB is %s, not %s", cold ? "hot" : "cold",
			  cold ? "cold" : "hot");
}

/* After an input that changed it: the router back as topology() says, with the resync a
 * control process would do. false: it did not work (the caller makes a new cfg). */
static bool
restore(void)
{
	struct npr_msg_hdr h;
	struct npr_reply r;
	if (req(&h, NPR_MSG_SYNC_BEGIN, sizeof(h), &r) != 0)
		return false;
	const char *why = topology();
	if (why != NULL) {
		if (verbose)
			fprintf(stderr, "restore: %s: %s\n", why, r.msg);
		req(&h, NPR_MSG_SYNC_END, sizeof(h), &r);
		return false;
	}
	return req(&h, NPR_MSG_SYNC_END, sizeof(h), &r) == 0;
}

/* Forget every neighbour the slow path taught cfg. */
static void
forget_learnt(void)
{
	uint8_t *d;
	size_t dl;
	uint32_t n;
	const char *why = cfg_check_dump(C, 0, NPR_DUMP_NEIGHS_LEARNT, 0, &d, &dl, &n);
	if (why != NULL)
		fuzz_fail("learnt neighbours: %s", why);
	for (uint32_t i = 0; i < n; i++) {
		struct npr_dump_neigh e;
		memcpy(&e, d + i * sizeof(e), sizeof(e));
		if (cfg_neigh_forget(C, e.ifid, e.family, e.addr) != 0)
			fuzz_fail("cannot forget a learnt neighbour");
	}
	free(d);
}

/* ---- what the slow path sends ---- */

static int
inject_tx(void *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	if (tx_refuse)
		return -ENOBUFS;
	if (rte_ring_sp_enqueue(inject_ring, m) != 0)
		return -ENOBUFS;
	if (in_host_input && n_host_sent < MAX_HOST_SENT)
		host_sent[n_host_sent++] = m;
	return 0;
}

static int
host_tx(void *ctx, unsigned ifid, const void *frame, uint32_t len)
{
	(void)ctx;
	if (ifid >= NPR_MAX_IFACES || frame == NULL || len < 14)
		fuzz_fail("host_tx: interface %u, %u bytes", ifid, len);
	/* the whole frame must be readable */
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < len; i++)
		sink ^= ((const uint8_t *)frame)[i];
	(void)sink;
	return host_rc;
}

/* ---- checks on what left ---- */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static unsigned
sum16(const uint8_t *p, size_t n)
{
	unsigned long s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (unsigned long)p[i] << 8 | p[i + 1];
	if (n % 2)
		s += (unsigned long)p[n - 1] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned)s;
}

static void
check_frame(unsigned port, struct rte_mbuf *m)
{
	uint8_t f[MAX_HOST_FRAME + 64];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	bool from_host = false;

	for (unsigned i = 0; i < n_host_sent; i++)
		from_host |= host_sent[i] == m;
	if (len < 14 || len > sizeof(f))
		fuzz_fail("a frame of %u bytes sent on port %u", len, port);
	const uint8_t *p = rte_pktmbuf_read(m, 0, len, f);
	if (p == NULL)
		fuzz_fail("a frame shorter than its pkt_len");
	if (from_host)
		return; /* the host stack's frames go as they are */
	uint8_t mac[6];
	port_mac(port, mac);
	if (memcmp(p + 6, mac, 6) != 0)
		fuzz_fail("a frame on port %u not from the port's MAC", port);
	struct cfg_iface ci;
	int ifid = cfg_iface_by_port(C, port);
	uint32_t mtu = ifid >= 0 && cfg_iface_get(C, (unsigned)ifid, &ci) == 0 ? ci.mtu : 0;
	if (mtu == 0)
		mtu = 1500;
	const uint8_t *ip = p + 14;
	uint32_t l3 = len - 14;
	switch (get16(p + 12)) {
	case 0x0800: {
		unsigned ihl = (ip[0] & 0xfu) * 4u;
		if (l3 < 20 || ip[0] >> 4 != 4 || ihl < 20 || ihl > l3)
			fuzz_fail("a bad IPv4 header sent on port %u", port);
		if (get16(ip + 2) < ihl || get16(ip + 2) > l3)
			fuzz_fail("IPv4 total length %u in a frame of %u", get16(ip + 2), len);
		if (sum16(ip, ihl) != 0xffff)
			fuzz_fail("IPv4 header checksum wrong on port %u", port);
		if (ip[8] == 0)
			fuzz_fail("IPv4 TTL 0 sent on port %u", port);
		if (get16(ip + 2) > mtu)
			fuzz_fail("IPv4 datagram of %u bytes on port %u, MTU %u", get16(ip + 2),
				  port, mtu);
		break;
	}
	case 0x86dd:
		if (l3 < 40 || ip[0] >> 4 != 6 || 40u + get16(ip + 4) > l3)
			fuzz_fail("a bad IPv6 header sent on port %u", port);
		if (ip[7] == 0)
			fuzz_fail("IPv6 hop limit 0 sent on port %u", port);
		if (40u + get16(ip + 4) > mtu)
			fuzz_fail("IPv6 packet of %u bytes on port %u, MTU %u", 40u + get16(ip + 4),
				  port, mtu);
		break;
	case 0x0806:
		if (l3 < 28)
			fuzz_fail("a short ARP packet sent on port %u", port);
		break;
	default:
		fuzz_fail("ethertype 0x%04x sent on port %u", get16(p + 12), port);
	}
}

static uint64_t
sum(const uint64_t *v, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Everything the ports sent: checked, counted, freed. */
static uint64_t
drain_ports(void)
{
	uint64_t n = 0;
	for (unsigned p = 0; p < N_PORTS; p++) {
		void *e[64];
		unsigned k;
		while ((k = rte_ring_dequeue_burst(txr[p], e, 64, NULL)) != 0) {
			for (unsigned i = 0; i < k; i++) {
				check_frame(p, e[i]);
				rte_pktmbuf_free(e[i]);
			}
			n += k;
		}
	}
	return n;
}

static uint64_t sent_total; /* frames taken from the ports' tx rings this input */
static uint64_t now;

/* The worker's counters against what the ports sent. */
static void
check_counts(void)
{
	const struct npr_worker_stats *s = &W->stats;
	uint64_t left = s->rx_pkts + s->inject_pkts;
	uint64_t right = sum(s->drop, NPR_DROP_MAX) + sum(s->exc, NPR_EXC_MAX) + s->tx_pkts;
	if (left != right)
		fuzz_fail(
			"worker counters: rx %llu + injected %llu != drops + exceptions + tx %llu",
			(unsigned long long)s->rx_pkts, (unsigned long long)s->inject_pkts,
			(unsigned long long)right);
	if (s->tx_pkts != sent_total)
		fuzz_fail("worker counted %llu sent, the ports have %llu",
			  (unsigned long long)s->tx_pkts, (unsigned long long)sent_total);
}

/* What the slow path queued: through the worker, out of the ports. */
static void
run_inject(void)
{
	for (unsigned guard = 0; guard < 1000 && !rte_ring_empty(inject_ring); guard++) {
		fwd_inject(W);
		fwd_flush(W);
		sent_total += drain_ports();
	}
	if (!rte_ring_empty(inject_ring))
		fuzz_fail("the inject ring does not drain");
}

static void
run_exceptions(void)
{
	void *e[64];
	unsigned k;
	while ((k = rte_ring_dequeue_burst(exc_ring, e, 64, NULL)) != 0)
		for (unsigned i = 0; i < k; i++)
			sp_input(SP, e[i], now);
	run_inject();
}

static struct rte_mbuf *burst[FWD_BURST];
static unsigned n_burst, burst_port;

static void
run_burst(void)
{
	if (n_burst > 0) {
		fwd_process(W, (uint16_t)burst_port, burst, (uint16_t)n_burst);
		n_burst = 0;
		fwd_flush(W);
		sent_total += drain_ports();
		run_exceptions();
	}
	check_counts();
}

/* ---- building frames ---- */

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The checksums of frame f (len bytes) made right where its headers let them be found:
 * the IPv4 header, then ICMP in an unfragmented or first fragment, or ICMPv6 right after the
 * IPv6 header. */
static void
fix_checksums(uint8_t *f, uint32_t len)
{
	if (len < 14)
		return;
	uint8_t *ip = f + 14;
	uint32_t l3 = len - 14;
	if (get16(f + 12) == 0x0800 && l3 >= 20) {
		unsigned ihl = (ip[0] & 0xfu) * 4u;
		if (ihl < 20 || ihl > l3)
			return;
		put16(ip + 10, 0);
		put16(ip + 10, 0xffff - sum16(ip, ihl));
		unsigned tot = get16(ip + 2);
		if (ip[9] == 1 && tot >= ihl + 4 && tot <= l3 && (get16(ip + 6) & 0x1fff) == 0) {
			put16(ip + ihl + 2, 0);
			put16(ip + ihl + 2, 0xffff - sum16(ip + ihl, tot - ihl));
		}
	} else if (get16(f + 12) == 0x86dd && l3 >= 44 && ip[6] == 58) {
		uint32_t n = get16(ip + 4);
		if (n < 4 || 40 + n > l3)
			return;
		uint8_t *icmp = ip + 40;
		put16(icmp + 2, 0);
		unsigned long s = sum16(ip + 8, 32) + (n >> 16) + (n & 0xffff) + 58;
		s += sum16(icmp, n);
		while (s > 0xffff)
			s = (s & 0xffff) + (s >> 16);
		put16(icmp + 2, 0xffff - (unsigned)s);
	}
}

static struct rte_mbuf *
mbuf_of(const uint8_t *f, uint32_t len, uint32_t split)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		fuzz_fail("mbuf pool empty: %u in use", rte_mempool_in_use_count(pool));
	uint32_t first = split != 0 ? split : len;
	memcpy(rte_pktmbuf_append(m, (uint16_t)first), f, first);
	if (split != 0) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(pool);
		if (s == NULL)
			fuzz_fail("mbuf pool empty");
		memcpy(rte_pktmbuf_append(s, (uint16_t)(len - split)), f + split, len - split);
		if (rte_pktmbuf_chain(m, s) != 0)
			fuzz_fail("cannot chain");
	}
	return m;
}

/* A configuration change the slow path must follow (a few of them, picked by k). */
static void
change(unsigned k)
{
	struct npr_reply r;
	static const uint32_t one[1] = { 1 };
	static const uint16_t w1[1] = { 1 };
	switch (k % 12) {
	case 0:
		iface(1, 1, 1400, false, "wan", &r);
		break;
	case 1:
		iface(1, 1, 1400, true, "wan", &r);
		break;
	case 2:
		neigh(NPR_MSG_NEIGH_DEL, 1, "198.51.100.2", 0, &r);
		break;
	case 3:
		neigh(NPR_MSG_NEIGH_SET, 1, "198.51.100.2", 9, &r);
		break;
	case 4:
		iface(1, 1, 1280, true, "wan", &r);
		break;
	case 5:
		route(NPR_MSG_ROUTE4_DEL, "10.0.0.0", 8, 0, &r);
		break;
	case 6:
		group(1, 1, one, w1, &r);
		break;
	case 7:
		addr(NPR_MSG_ADDR_DEL, 0, "192.0.2.1", 24, &r);
		break;
	case 8:
		route(NPR_MSG_ROUTE4_ADD, "0.0.0.0", 0, 1, &r);
		break;
	case 9:
		iface(0, 0, 576, true, "lan", &r);
		break;
	case 10:
		nh(2, NPR_NH_FORWARD, 0, "2001:db8::7", 0, &r);
		break;
	default:
		addr(NPR_MSG_ADDR_ADD, 2, "2001:db8:2::1", 64, &r);
		break;
	}
	if (verbose)
		fprintf(stderr, "change %u: %d %s\n", k % 12, r.status, r.msg);
}

/* NPR_FUZZ_VERBOSE: what the input did, in counters */
static void
print_counters(void)
{
	const struct npr_worker_stats *s = &W->stats;
	uint64_t v[NPR_STATS_SLOW_SLOTS];
	fprintf(stderr, "worker: rx %llu injected %llu tx %llu\n", (unsigned long long)s->rx_pkts,
		(unsigned long long)s->inject_pkts, (unsigned long long)s->tx_pkts);
	for (unsigned i = 0; i < NPR_DROP_MAX; i++)
		if (s->drop[i] != 0)
			fprintf(stderr, "  drop %s %llu\n", npr_drop_name(i),
				(unsigned long long)s->drop[i]);
	for (unsigned i = 0; i < NPR_EXC_MAX; i++)
		if (s->exc[i] != 0)
			fprintf(stderr, "  exception %s %llu\n", npr_exc_name(i),
				(unsigned long long)s->exc[i]);
	sp_counters(SP, v);
	for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
		if (v[i] != 0)
			fprintf(stderr, "  slow %s %llu\n", npr_slow_name(i),
				(unsigned long long)v[i]);
}

/* ---- libFuzzer ---- */

static uint16_t
ring_port(unsigned i)
{
	char n[32];
	struct rte_eth_conf conf;
	snprintf(n, sizeof(n), "fz%u_rx", i);
	rxr[i] = rte_ring_create(n, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(n, sizeof(n), "fz%u_tx", i);
	txr[i] = rte_ring_create(n, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(n, sizeof(n), "fz%u", i);
	int port = rte_eth_from_rings(n, &rxr[i], 1, &txr[i], 1, SOCKET_ID_ANY);
	if (port != (int)i)
		fuzz_fail("ring port %u got id %d", i, port);
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure((uint16_t)port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)port, 0, 256, SOCKET_ID_ANY, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)port, 0, RING_SIZE, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)port) != 0)
		fuzz_fail("ring port %u does not start", i);
	return (uint16_t)port;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "fuzz_fwd_%d", (int)getpid());
	char *args[] = { "fuzz_fwd", "--no-pci",    "--no-huge",	   "-m",
			 "256",	     "--no-shconf", "--file-prefix",	   prefix,
			 "-l",	     "0",	    "--log-level=*:error", "--no-telemetry" };
	int n = (int)(sizeof(args) / sizeof(args[0]));
	if (rte_eal_init(n, args) < 0)
		fuzz_fail("rte_eal_init failed");
	pool = rte_pktmbuf_pool_create("fuzz_fwd", 2047, 0, 0, SEG_ROOM + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	exc_ring =
		rte_ring_create("fz_exc", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	inject_ring = rte_ring_create("fz_inject", RING_SIZE, SOCKET_ID_ANY,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	W = rte_zmalloc("worker", sizeof(*W), RTE_CACHE_LINE_SIZE);
	if (pool == NULL || exc_ring == NULL || inject_ring == NULL || W == NULL)
		fuzz_fail("no memory for the pool, rings or worker");
	for (unsigned p = 0; p < N_PORTS; p++)
		ring_port(p);
	W->exc = exc_ring;
	W->inject = inject_ring;
	W->port_closed = port_closed; /* punt policing stays off (no limit): runs repeat */
	W->stop = &stop_flag;
	W->n_ports = N_PORTS;
	const char *e = getenv("NPR_FUZZ_FRESH");
	fresh = e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
	verbose = getenv("NPR_FUZZ_VERBOSE") != NULL;
	e = getenv("NPR_FUZZ_COLD");
	cold = e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[MAX_HOST_FRAME];
	struct fuzz_in in = { data, size };
	bool changed = false;

	if (C == NULL)
		make_cfg();
	memset(&W->stats, 0, sizeof(W->stats));
	sent_total = 0;
	n_host_sent = 0;
	tx_refuse = 0;
	now = T0;

	uint8_t opt = fuzz_u8(&in);
	struct sp_conf sc = {
		.cfg = C,
		.pool = pool,
		.tx = inject_tx,
		.host_tx = (opt & 1) ? host_tx : NULL,
		.icmp_rate = (opt & 4) ? 1 : 1000,
		.icmp_burst = (opt & 4) ? 1 : 1000,
		.retry_ms = 1000,
		.retries = 3,
		.reachable_ms = 30000,
		.hold_max = 4,
		.neigh_max = 64,
	};
	host_rc = (opt & 2) ? -EAGAIN : 0;
	SP = sp_create(&sc);
	if (SP == NULL)
		fuzz_fail("sp_create: %s", strerror(errno));
	sp_periodic(SP, now);
	run_inject();

	while (fuzz_more(&in)) {
		uint8_t c = fuzz_u8(&in);
		unsigned op = c & 7u;
		if (op <= 2) {
			unsigned port = (c >> 3) & 3u;
			uint32_t len = fuzz_u16(&in) % (MAX_FRAME + 1);
			uint32_t split = 0;
			if (((c & 0x20) || len > SEG_ROOM) && len > 128)
				split = 128 + fuzz_u16(&in) % (len - 128);
			if (len - split > SEG_ROOM || split > SEG_ROOM)
				split = len / 2;
			fuzz_bytes(&in, f, len);
			if (c & 0x40)
				fix_checksums(f, len);
			if (n_burst > 0 && (port != burst_port || n_burst == FWD_BURST))
				run_burst();
			struct rte_mbuf *m = mbuf_of(f, len, split);
			m->port = (uint16_t)port;
			burst_port = port;
			burst[n_burst++] = m;
		} else if (op == 3) {
			run_burst();
		} else if (op == 4) {
			run_burst();
			now += (uint64_t)fuzz_u16(&in) * MSEC;
			sp_periodic(SP, now);
			run_inject();
			check_counts();
		} else if (op == 5) {
			run_burst();
			unsigned ifid = fuzz_u8(&in) % 4u;
			uint32_t len = fuzz_u16(&in) % MAX_HOST_FRAME;
			fuzz_bytes(&in, f, len);
			uint8_t *copy = malloc(len != 0 ? len : 1); /* exact size, for ASan */
			if (copy == NULL)
				fuzz_fail("out of memory");
			memcpy(copy, f, len);
			in_host_input = true;
			sp_host_input(SP, ifid, copy, len, now);
			in_host_input = false;
			free(copy);
			run_inject();
			n_host_sent = 0; /* sent and freed: their addresses may come back */
			check_counts();
		} else if (op == 6) {
			run_burst();
			change(fuzz_u8(&in));
			changed = true;
			sp_periodic(SP, now);
			run_inject();
			check_counts();
		} else {
			tx_refuse = !tx_refuse;
		}
	}
	run_burst();
	tx_refuse = 0;
	if (verbose)
		print_counters();
	sp_free(SP);
	SP = NULL;
	run_inject();
	check_counts();
	if (!rte_ring_empty(exc_ring))
		fuzz_fail("exceptions left");
	forget_learnt();
	if (fresh || (changed && !restore())) {
		cfg_free(C);
		C = NULL;
	}
	if (rte_mempool_in_use_count(pool) != 0)
		fuzz_fail("%u mbufs not returned to the pool", rte_mempool_in_use_count(pool));
	return 0;
}
