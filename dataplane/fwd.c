/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker fast path: rx burst -> L2/L3 checks -> bulk LPM -> next hop / ECMP -> rewrite -> tx.
 *
 *   stage 1  per packet: Ethernet, IPv4 (RFC 1812 5.2.2, 5.3.7) or IPv6 (RFC 8200) checks;
 *            survivors are collected per family with their destination
 *   stage 2  one bulk lookup per family for the whole burst (IPv4: started in stage 1 when
 *            the burst is all IPv4 and passed the fast checks, unless the FIB is small
 *            enough to stay in the caches, fib_hot: then single lookups after the checks
 *            cost fewer instructions, +5 % on v4-small, docs/performance.md)
 *   stage 3  per packet: route value -> next hop word -> TTL / hop limit, rewrite, stage for tx
 *   end      drops freed in one call, exceptions enqueued to w->exc in one call
 *
 * Stages 1 and 3 each start with a lean pass for the common packet (pkt_ip4_fast /
 * pkt_ip6_fast; fwd_nexthop_fast), in functions of their own so that their loops stay in
 * registers. When it took the whole burst, which is the usual case, that is all; otherwise a
 * second pass walks the burst in order and gives the other packets the ordered checks
 * (fwd_check, fwd_nexthop), so that the output keeps the input's order. On the bench
 * machine this took the checks from 11.8 to 7.5 cycles per packet (docs/performance.md).
 *
 * Each packet leaves each stage through one exit: fwd_exit (drop or exception) or staging.
 *
 * Accounting, per worker (w->stats; only this worker writes it):
 *   rx_pkts = (sum(drop[]) - drop[TX_FULL] - drop[LINK_DOWN]) + sum(exc[]) + fwd4_pkts +
 *             fwd6_pkts
 *   fwd4_pkts + fwd6_pkts = tx_pkts + drop[TX_FULL] + drop[LINK_DOWN] + (staged, not yet
 *                           flushed)
 * i.e. a packet is counted once by fwd_process (drop, exception, or fwd4/fwd6 when staged),
 * and a staged packet once more by fwd_flush (tx_pkts, or drop TX_FULL / LINK_DOWN); after a
 * flush, rx_pkts = sum(drop[]) + sum(exc[]) + tx_pkts. Frames the slow path hands over
 * (fwd_inject) count in inject_pkts and then as tx_pkts or a drop: rx_pkts + inject_pkts on
 * the left.
 * Headers must sit in the first segment (as every PMD delivers them); lengths are checked
 * against the whole packet.
 *
 * Not done here: IPv4 options are forwarded untouched; packets that need an answer or an
 * ICMP error (no route, unreachable / prohibit routes, TTL expiry, larger than the egress MTU,
 * unresolved next hop) leave as exceptions for the slow path (slowpath/), which also hands
 * packets back through w->inject (fwd_inject: stats.inject_pkts).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <time.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "fwd.h"
#include "pkt.h"

#ifdef NPR_CYCLE_STATS
/*
 * Benchmark builds only (meson -Dcycle_stats=true, read by tools/bench): TSC cycles per
 * pipeline stage. Marks form one chain per worker: each adds the cycles since the previous
 * mark to its stage, so the stages add up to the worker's whole time. "idle" takes polls that
 * received nothing (and down ports); "rx" takes the rx burst plus the loop overhead before it.
 * One slot per worker, written only by it, read by it when it stops (printed then).
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_cycles.h>

enum { CYC_IDLE, CYC_RX, CYC_CHECK, CYC_LOOKUP, CYC_NEXTHOP, CYC_TX, CYC_MAX };

struct fwd_cycles {
	uint64_t last;
	uint64_t pkts;
	uint64_t c[CYC_MAX];
} __rte_cache_aligned;

static struct fwd_cycles fwd_cyc[NPR_MAX_WORKERS];

static inline void
cyc_mark(const struct fwd_worker *w, unsigned stage)
{
	struct fwd_cycles *c = &fwd_cyc[w->idx % NPR_MAX_WORKERS];
	uint64_t now = rte_rdtsc();

	c->c[stage] += now - c->last;
	c->last = now;
}

static void
cyc_print(const struct fwd_worker *w)
{
	static const char *const name[CYC_MAX] = {
		"idle", "rx", "checks", "lookup", "nexthop", "tx"
	};
	const struct fwd_cycles *c = &fwd_cyc[w->idx % NPR_MAX_WORKERS];
	double pkts = c->pkts != 0 ? (double)c->pkts : 1.0, busy = 0;
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "cycles worker %u packets %" PRIu64 " tsc_hz %" PRIu64,
		     w->idx, c->pkts, rte_get_tsc_hz());
	for (unsigned s = 0; s < CYC_MAX && n > 0 && (size_t)n < sizeof(line); s++) {
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %.1f", name[s],
			      (double)c->c[s] / pkts);
		busy += s != CYC_IDLE ? (double)c->c[s] / pkts : 0;
	}
	printf("%s busy %.1f (cycles per packet)\n", line, busy);
	fflush(stdout);
}

#define CYC_START(w) (fwd_cyc[(w)->idx % NPR_MAX_WORKERS].last = rte_rdtsc())
#define CYC_MARK(w, s) cyc_mark(w, s)
#define CYC_PKTS(w, n) (fwd_cyc[(w)->idx % NPR_MAX_WORKERS].pkts += (n))
#define CYC_PRINT(w) cyc_print(w)
#else
#define CYC_START(w) ((void)0)
#define CYC_MARK(w, s) ((void)0)
#define CYC_PKTS(w, n) ((void)0)
#define CYC_PRINT(w) ((void)0)
#endif

/* How many packets ahead stage 1 prefetches packet data. */
#define FWD_PREFETCH 4u

/*
 * Counters have one writer (this worker) and concurrent readers (the control thread's stats
 * dump). A relaxed atomic load and store make those reads race-free (no torn values) without
 * a locked read-modify-write: on x86 this is a plain load, add and store.
 */
static inline void
stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

#define FWD_PORT_NONE 0xffu /* fwd_nexthop_fast: left to fwd_nexthop */
_Static_assert(FWD_BURST <= 32 && FWD_BURST <= FIB_BULK,
	       "a bit per packet in a uint32_t; one fib4_lookup_rest per burst");

/* What one burst collects between the stages; lives on the worker's stack. */
struct fwd_burst {
	unsigned n_drop, n_exc;
	unsigned rx_port;
	uint32_t fast6; /* bit i: m6[i] passed pkt_ip6_fast */
	struct rte_mbuf *drop[FWD_BURST];
	struct rte_mbuf *exc[FWD_BURST];
	uint8_t exc_reason[FWD_BURST]; /* kept here: once enqueued, an mbuf is not ours */
	struct rte_mbuf *m4[FWD_BURST];
	uint32_t dst4[FWD_BURST]; /* host byte order */
	uint32_t val4[FWD_BURST];
	struct rte_mbuf *m6[FWD_BURST];
	const uint8_t *dst6[FWD_BURST];
	uint32_t val6[FWD_BURST];
	uint8_t port[FWD_BURST];	 /* stage 3 first pass: the egress port of packet i */
	struct rte_mbuf *out[FWD_BURST]; /* forwarded, in order, to send on out_port[i] */
	uint8_t out_port[FWD_BURST];
};

/* ---- punt policing (exceptions only: off the common path) ---- */

void
fwd_punt_set(struct fwd_worker *w, unsigned cls, uint32_t rate, uint32_t burst, uint64_t tsc_hz)
{
	for (unsigned port = 0; port < NPR_MAX_PORTS; port++) {
		struct fwd_policer *p = &w->punt[port][cls];
		p->tat = 0;
		p->cost = rate == 0 ? 0 : RTE_MAX(tsc_hz / rate, (uint64_t)1);
		p->tol = p->cost * (burst > 0 ? burst - 1 : 0);
	}
}

static inline uint16_t
fwd_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What a packet for the router (or multicast) is, from its L4 header when it has one in the
 * first segment: ND, echo request, BGP, or the default class dflt. */
static unsigned
fwd_punt_l4(const uint8_t *l4, uint32_t avail, unsigned proto, int v6, unsigned dflt)
{
	if (proto == (v6 ? 58u : 1u) && avail >= 1) {
		if (v6 && l4[0] >= 133 && l4[0] <= 137)
			return NPR_PUNT_ND;
		if (l4[0] == (v6 ? 128 : 8) && dflt == NPR_PUNT_LOCAL)
			return NPR_PUNT_ECHO;
	} else if (proto == 6 && avail >= 4 && dflt == NPR_PUNT_LOCAL) {
		if (fwd_get16(l4) == 179 || fwd_get16(l4 + 2) == 179)
			return NPR_PUNT_BGP;
	}
	return dflt;
}

unsigned
fwd_punt_class(const struct rte_mbuf *m, unsigned reason)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *ip = f + PKT_ETH_LEN;
	uint32_t seg = m->data_len;
	unsigned dflt;

	switch (reason) {
	case NPR_EXC_ARP:
		return NPR_PUNT_ARP;
	case NPR_EXC_UNRESOLVED:
		return NPR_PUNT_RESOLVE;
	case NPR_EXC_TOO_BIG:
		return NPR_PUNT_TOO_BIG;
	case NPR_EXC_TTL_EXPIRED:
	case NPR_EXC_NO_ROUTE:
	case NPR_EXC_UNREACHABLE:
	case NPR_EXC_PROHIBIT:
		return NPR_PUNT_ICMP_ERR;
	case NPR_EXC_L2_MULTICAST:
		dflt = NPR_PUNT_MCAST;
		break;
	default:
		dflt = NPR_PUNT_LOCAL;
		break;
	}
	if (seg < PKT_ETH_LEN + 20)
		return dflt;
	uint16_t et = fwd_get16(f + 12);
	if (et == 0x0800) {
		uint32_t ihl = (ip[0] & 0xfu) * 4u;
		/* a later fragment has no L4 header */
		if ((fwd_get16(ip + 6) & 0x1fff) != 0 || ihl < 20 || PKT_ETH_LEN + ihl > seg)
			return dflt;
		return fwd_punt_l4(ip + ihl, seg - PKT_ETH_LEN - ihl, ip[9], 0, dflt);
	}
	if (et == 0x86dd && seg >= PKT_ETH_LEN + 40)
		return fwd_punt_l4(ip + 40, seg - PKT_ETH_LEN - 40, ip[6], 1, dflt);
	return dflt;
}

/* What a policed exception counts as among the drops: the route's own verdict where it has
 * one (only the ICMP error is lost), else POLICED. */
static const uint8_t fwd_policed_drop[NPR_EXC_MAX] = {
	[NPR_EXC_ARP] = NPR_DROP_POLICED,	  [NPR_EXC_L2_MULTICAST] = NPR_DROP_POLICED,
	[NPR_EXC_TTL_EXPIRED] = NPR_DROP_POLICED, [NPR_EXC_LOCAL] = NPR_DROP_POLICED,
	[NPR_EXC_UNRESOLVED] = NPR_DROP_POLICED,  [NPR_EXC_IP_OPTIONS] = NPR_DROP_POLICED,
	[NPR_EXC_NO_ROUTE] = NPR_DROP_NO_ROUTE,	  [NPR_EXC_UNREACHABLE] = NPR_DROP_UNREACHABLE,
	[NPR_EXC_PROHIBIT] = NPR_DROP_PROHIBIT,	  [NPR_EXC_TOO_BIG] = NPR_DROP_POLICED,
};

/* Whether an exception may go to the slow path: its class's bucket has a token. Else it is
 * counted (policed[class]) and the caller drops it. */
static __rte_noinline int
fwd_punt_ok(struct fwd_worker *w, const struct rte_mbuf *m, unsigned reason, unsigned rx_port)
{
	unsigned cls = fwd_punt_class(m, reason);
	struct fwd_policer *p = &w->punt[rx_port % NPR_MAX_PORTS][cls];

	if (p->cost == 0)
		return 1;
	uint64_t now = rte_rdtsc(), t = p->tat > now ? p->tat : now;
	if (t - now > p->tol) {
		stat_add(&w->stats.policed[cls], 1);
		return 0;
	}
	p->tat = t + p->cost;
	return 1;
}

/* The single exit of a packet that is not forwarded: v is PKT_DROP|reason or PKT_EXC|reason. */
static inline void
fwd_exit(struct fwd_worker *w, struct fwd_burst *b, struct rte_mbuf *m, unsigned v)
{
	if ((v & PKT_EXC) && unlikely(!fwd_punt_ok(w, m, PKT_REASON(v), b->rx_port)))
		v = PKT_DROP | fwd_policed_drop[PKT_REASON(v) % NPR_EXC_MAX];
	if (v & PKT_EXC) {
		m->hash.usr = PKT_REASON(v);
		b->exc_reason[b->n_exc] = (uint8_t)PKT_REASON(v);
		b->exc[b->n_exc++] = m;
	} else {
		stat_add(&w->stats.drop[PKT_REASON(v)], 1);
		b->drop[b->n_drop++] = m;
	}
}

/* Cut Ethernet padding: the frame becomes exactly Ethernet header + IP datagram. */
static inline int
fwd_trim(struct rte_mbuf *m, uint32_t frame_len)
{
	uint32_t excess = m->pkt_len - frame_len;

	if (likely(excess == 0))
		return 0;
	if (likely(m->nb_segs == 1)) {
		m->data_len = (uint16_t)frame_len;
		m->pkt_len = frame_len;
		return 0;
	}
	/* padding spread over segments: give up (BAD_LENGTH) rather than walk the chain */
	return rte_pktmbuf_trim(m, (uint16_t)excess);
}

/* Whether port p can send a datagram of len bytes now: an interface is up on it and len fits
 * its MTU (0: no limit). */
static inline int
fwd_port_fits(const struct fwd_port *fp, uint32_t len)
{
	uint32_t up = atomic_load_explicit(&fp->up, memory_order_relaxed);
	uint32_t mtu = atomic_load_explicit(&fp->mtu, memory_order_relaxed);

	return up != 0 && len <= (mtu != 0 ? mtu : UINT32_MAX);
}

static inline uint64_t
fwd_port_mac(const struct fwd_port *fp)
{
	return atomic_load_explicit(&fp->mac, memory_order_relaxed);
}

/* Next-hop kinds other than FORWARD / UNRESOLVED, as verdicts; unknown kinds are invalid. */
static const uint16_t fwd_kind_verdict[16] = {
	[FWD_NH_INVALID] = PKT_DROP | NPR_DROP_NH_INVALID,
	[FWD_NH_FORWARD] = PKT_DROP | NPR_DROP_NH_INVALID,    /* not used: handled before */
	[FWD_NH_UNRESOLVED] = PKT_DROP | NPR_DROP_NH_INVALID, /* not used: handled before */
	[FWD_NH_BLACKHOLE] = PKT_DROP | NPR_DROP_BLACKHOLE,
	[FWD_NH_UNREACHABLE] = PKT_EXC | NPR_EXC_UNREACHABLE, /* the slow path sends ICMP */
	[FWD_NH_PROHIBIT] = PKT_EXC | NPR_EXC_PROHIBIT,
	[FWD_NH_IFACE_DOWN] = PKT_DROP | NPR_DROP_IFACE_DOWN,
	[7] = PKT_DROP | NPR_DROP_NH_INVALID,
	[8] = PKT_DROP | NPR_DROP_NH_INVALID,
	[9] = PKT_DROP | NPR_DROP_NH_INVALID,
	[10] = PKT_DROP | NPR_DROP_NH_INVALID,
	[11] = PKT_DROP | NPR_DROP_NH_INVALID,
	[12] = PKT_DROP | NPR_DROP_NH_INVALID,
	[13] = PKT_DROP | NPR_DROP_NH_INVALID,
	[14] = PKT_DROP | NPR_DROP_NH_INVALID,
	[15] = PKT_DROP | NPR_DROP_NH_INVALID,
};

/*
 * Route value (non-zero, not LOCAL) -> forwarding decision. ip/avail: the datagram, for the
 * ECMP flow hash; ttl: TTL or hop limit; len: the datagram's length, for the egress MTU. On
 * PKT_OK, *word is a FORWARD next hop whose port is valid and up. Order: group/next hop
 * resolution, the next hop's kind, egress port, then TTL (RFC 1812 5.3.1: the TTL is checked
 * only for packets that would be forwarded, so blackholes stay silent and LOCAL, handled by
 * the caller, wins over TTL_EXPIRED), then the MTU (TOO_BIG: the slow path sends
 * "fragmentation needed" / "packet too big", or fragments IPv4 without DF).
 * Caller is inside the QSBR read-side section: groups read here stay valid.
 */
static __rte_always_inline unsigned
fwd_route(const struct fwd_tables *t, uint32_t val, const uint8_t *ip, uint32_t avail, int v6,
	  unsigned ttl, uint32_t len, uint64_t *word)
{
	uint32_t id = val;
	uint64_t wd;
	unsigned kind, p;

	if (val & NPR_TARGET_GROUP) {
		const struct fwd_group *g;
		uint32_t gid = val & NPR_TARGET_ID_MASK, h;

		if (unlikely(gid >= t->group_max))
			return PKT_DROP | NPR_DROP_NH_INVALID;
		/* acquire: pairs with the control thread's publishing store of a filled group */
		g = atomic_load_explicit(&t->group[gid], memory_order_acquire);
		if (unlikely(g == NULL || g->n_slots == 0))
			return PKT_DROP | NPR_DROP_NH_INVALID;
		h = v6 ? pkt_flow_hash6(ip, avail) : pkt_flow_hash4(ip, avail);
		id = g->nh[((uint64_t)h * g->n_slots) >> 32];
	}
	if (unlikely(id >= t->nh_max))
		return PKT_DROP | NPR_DROP_NH_INVALID;
	/* acquire: pairs with the release store that replaces a next hop word whole */
	wd = atomic_load_explicit(&t->nh[id], memory_order_acquire);
	kind = fwd_nh_kind(wd);
	if (likely(kind == FWD_NH_FORWARD)) {
		p = fwd_nh_port(wd);
		if (unlikely(p >= NPR_MAX_PORTS))
			return PKT_DROP | NPR_DROP_NH_INVALID;
		if (unlikely(atomic_load_explicit(&t->port[p].up, memory_order_relaxed) == 0))
			return PKT_DROP | NPR_DROP_IFACE_DOWN;
		if (unlikely(ttl <= 1))
			return PKT_EXC | NPR_EXC_TTL_EXPIRED;
		uint32_t mtu = atomic_load_explicit(&t->port[p].mtu, memory_order_relaxed);
		if (unlikely(len > mtu) && mtu != 0)
			return PKT_EXC | NPR_EXC_TOO_BIG;
		*word = wd;
		return PKT_OK;
	}
	if (kind == FWD_NH_UNRESOLVED)
		return ttl <= 1 ? PKT_EXC | NPR_EXC_TTL_EXPIRED : PKT_EXC | NPR_EXC_UNRESOLVED;
	return fwd_kind_verdict[kind];
}

static void
fwd_flush_port(struct fwd_worker *w, unsigned p)
{
	uint16_t n = w->tx_n[p], sent;

	if (n == 0)
		return;
	/* A closed gate: the driver may be unmapping the port's queues (portgate.h). */
	if (unlikely(atomic_load_explicit(&w->port_closed[p], memory_order_acquire) != 0)) {
		rte_pktmbuf_free_bulk(w->tx[p], n);
		stat_add(&w->stats.drop[NPR_DROP_LINK_DOWN], n);
		w->tx_n[p] = 0;
		return;
	}
	sent = rte_eth_tx_burst((uint16_t)p, w->txq[p], w->tx[p], n);
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&w->tx[p][sent], n - sent);
		stat_add(&w->stats.drop[NPR_DROP_TX_FULL], n - sent);
	}
	stat_add(&w->stats.tx_pkts, sent);
	w->tx_n[p] = 0;
}

/*
 * The ordered checks, for what pkt_ip4_fast / pkt_ip6_fast refused: PKT_IP4 (with *dst, host
 * order), PKT_IP6, or the packet's drop or exception verdict. Trims Ethernet padding.
 */
static unsigned
fwd_check(struct rte_mbuf *m, uint64_t port_mac, uint32_t port_up, uint32_t *dst)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + PKT_ETH_LEN;
	uint32_t seg = m->data_len, len;
	unsigned v;

	v = pkt_eth_check(f, seg, port_mac, port_up);
	if (v == PKT_IP4) {
		const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;

		v = pkt_ip4_check(ip, seg - PKT_ETH_LEN, m->pkt_len - PKT_ETH_LEN, m->ol_flags,
				  &len);
		if (v != PKT_OK)
			return v;
		*dst = rte_be_to_cpu_32(h->dst_addr);
		v = pkt_ip4_addr_check(rte_be_to_cpu_32(h->src_addr), *dst);
		if (v != PKT_OK)
			return v;
		return fwd_trim(m, PKT_ETH_LEN + len) == 0 ? PKT_IP4
							   : PKT_DROP | NPR_DROP_BAD_LENGTH;
	}
	if (v == PKT_IP6) {
		v = pkt_ip6_check(ip, seg - PKT_ETH_LEN, m->pkt_len - PKT_ETH_LEN, &len);
		if (v != PKT_OK)
			return v;
		return fwd_trim(m, PKT_ETH_LEN + len) == 0 ? PKT_IP6
							   : PKT_DROP | NPR_DROP_BAD_LENGTH;
	}
	return v;
}

static inline uint32_t
fwd_src4(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *h =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, PKT_ETH_LEN);
	return rte_be_to_cpu_32(h->src_addr);
}

/* An IPv4 packet from or to 169.254/16 (RFC 3927 7): fine for the router itself (PKT_IP4: it
 * goes on to its LOCAL route), never forwarded. Rare: its own lookup, here. */
static __rte_noinline unsigned
fwd_link_local4(const struct fwd_tables *t, const struct rte_mbuf *m, uint32_t dst)
{
	if (fib4_lookup(t->fib4, dst) & NPR_TARGET_LOCAL)
		return PKT_IP4;
	return pkt_ip4_link_local(fwd_src4(m)) ? PKT_DROP | NPR_DROP_BAD_SRC
					       : PKT_DROP | NPR_DROP_BAD_DST;
}

/*
 * Stage 3 for the packets fwd_burst's first pass left over (and, in order, those it took):
 * m is the packet, val its route value, p the port the first pass rewrote it for, or
 * FWD_PORT_NONE. v6: the family. Adds what is forwarded to b->out, the rest leaves by fwd_exit.
 * Returns the port bit of a forwarded packet, else 0.
 */
static inline uint64_t
fwd_nexthop(struct fwd_worker *w, struct fwd_burst *b, unsigned *k, struct rte_mbuf *m,
	    uint32_t val, int v6, unsigned p)
{
	const struct fwd_tables *t = w->t;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + PKT_ETH_LEN;
	uint64_t wd = 0;
	unsigned v;

	if (p == FWD_PORT_NONE) {
		if (val == 0)
			v = PKT_EXC | NPR_EXC_NO_ROUTE; /* the slow path sends ICMP */
		else if (val & NPR_TARGET_LOCAL)
			v = PKT_EXC | NPR_EXC_LOCAL;
		else if (v6 && pkt_ip6_src_scoped(((struct rte_ipv6_hdr *)ip)->src_addr))
			v = PKT_DROP | NPR_DROP_BAD_SRC; /* RFC 4291: :: and fe80::/10 stay local */
		else
			v = fwd_route(t, val, ip, m->data_len - PKT_ETH_LEN, v6,
				      v6 ? ((struct rte_ipv6_hdr *)ip)->hop_limits
					 : ((struct rte_ipv4_hdr *)ip)->time_to_live,
				      m->pkt_len - PKT_ETH_LEN, &wd);
		if (v != PKT_OK) {
			fwd_exit(w, b, m, v);
			return 0;
		}
		if (v6)
			pkt_ip6_hlim_dec(ip);
		else
			pkt_ip4_ttl_dec(ip);
		p = fwd_nh_port(wd);
		pkt_eth_set_macs(f, fwd_nh_mac(wd), fwd_port_mac(&t->port[p]));
	}
	b->out[*k] = m;
	b->out_port[(*k)++] = (uint8_t)p;
	return 1ull << p;
}

/* Stage k packets (out, on the ports of pmask; out_port[i] when more than one) on the ports'
 * tx arrays, which fwd_flush sends. The usual burst goes to one port whose array is empty:
 * one copy. */
static void
fwd_stage(struct fwd_worker *w, struct rte_mbuf *const *out, const uint8_t *out_port, unsigned k,
	  uint64_t pmask)
{
	unsigned p = (unsigned)__builtin_ctzll(pmask);

	if (likely((pmask & (pmask - 1)) == 0 && w->tx_n[p] == 0)) {
		memcpy(w->tx[p], out, k * sizeof(out[0]));
		w->tx_n[p] = (uint16_t)k;
	} else {
		for (unsigned i = 0; i < k; i++) {
			p = out_port[i];
			if (unlikely(w->tx_n[p] == FWD_BURST)) /* called twice without a flush */
				fwd_flush_port(w, p);
			w->tx[p][w->tx_n[p]++] = out[i];
		}
	}
	w->tx_pending |= pmask;
}

/* Hand the burst's exceptions to the control thread; what does not fit is dropped. */
static void
fwd_exc_flush(struct fwd_worker *w, struct fwd_burst *b)
{
	unsigned k = 0, i;

	if (likely(w->exc != NULL))
		k = rte_ring_sp_enqueue_burst(w->exc, (void *const *)b->exc, b->n_exc, NULL);
	for (i = 0; i < k; i++)
		stat_add(&w->stats.exc[b->exc_reason[i]], 1);
	if (unlikely(k < b->n_exc)) {
		rte_pktmbuf_free_bulk(&b->exc[k], b->n_exc - k);
		stat_add(&w->stats.drop[NPR_DROP_EXC_FULL], b->n_exc - k);
	}
}

/*
 * Stage 3's first pass over one family: the packets whose route is a plain next hop of kind
 * FORWARD on a port that is up, whose TTL / hop limit is > 1 and whose datagram fits the
 * port's MTU get their TTL decremented and their Ethernet header rewritten here, and their
 * port stored in port[i]; the others get FWD_PORT_NONE. Returns how many were done. fast
 * (IPv6 only): the packets that may take this way, those that passed pkt_ip6_fast, which
 * includes the source address test. Next hop ids are below NPR_TARGET_CONNECTED, so val - 1 <
 * nh_lim rules out 0 (no route) and the GROUP and LOCAL flags too.
 */
static __rte_always_inline unsigned
fwd_nexthop_fast(const struct fwd_tables *t, struct rte_mbuf *const *m, const uint32_t *val,
		 unsigned n, uint32_t fast, int v6, uint8_t *port, uint64_t *pmask)
{
	uint32_t nh_lim = RTE_MIN(t->nh_max, NPR_TARGET_CONNECTED) - 1;
	_Atomic uint64_t *const nh = t->nh;
	unsigned done = 0;
	uint64_t pm = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *f, *ip;
		uint64_t wd;
		unsigned p;

		port[i] = FWD_PORT_NONE;
		if (unlikely(val[i] - 1 >= nh_lim || (v6 && !(fast >> (i & 31) & 1))))
			continue;
		wd = atomic_load_explicit(&nh[val[i]], memory_order_acquire);
		if (unlikely((wd & FWD_NH_FAST_MASK) != FWD_NH_FORWARD))
			continue; /* another kind, or a port number out of range */
		p = fwd_nh_port(wd);
		f = rte_pktmbuf_mtod(m[i], uint8_t *);
		ip = f + PKT_ETH_LEN;
		if (unlikely(!fwd_port_fits(&t->port[p], m[i]->pkt_len - PKT_ETH_LEN) ||
			     (v6 ? ip[7] : ip[8]) <= 1))
			continue;
		if (v6)
			pkt_ip6_hlim_dec(ip);
		else
			pkt_ip4_ttl_dec(ip);
		pkt_eth_set_macs(f, fwd_nh_mac(wd), fwd_port_mac(&t->port[p]));
		port[i] = (uint8_t)p;
		pm |= 1ull << p;
		done++;
	}
	*pmask |= pm;
	return done;
}

/* The two families apart, each in a function of its own (registers, as fwd_check_fast). */
static __rte_noinline unsigned
fwd_nexthop_fast4(const struct fwd_tables *t, struct rte_mbuf *const *m, const uint32_t *val,
		  unsigned n, uint8_t *port, uint64_t *pmask)
{
	return fwd_nexthop_fast(t, m, val, n, 0, 0, port, pmask);
}

static __rte_noinline unsigned
fwd_nexthop_fast6(const struct fwd_tables *t, struct rte_mbuf *const *m, const uint32_t *val,
		  unsigned n, uint32_t fast, uint8_t *port, uint64_t *pmask)
{
	return fwd_nexthop_fast(t, m, val, n, fast, 1, port, pmask);
}

static inline uint32_t
fwd_mask(unsigned n)
{
	return n >= 32 ? ~0u : (1u << n) - 1;
}

/* How many packets behind the checks fwd_check_fast starts their lookups: their root slots
 * were prefetched that many packets earlier. */
#define FWD_LOOKUP_LAG 8u

/*
 * Stage 1's first pass (fwd_burst): the fast checks over pkts[0..n). Returns the IPv4 packets
 * that passed as a bit mask, their destinations (host order) in dst4[i], and the IPv6 ones in
 * *f6. Trims padding. With start, it also starts the IPv4 lookups (val4[i] = fib4_lookup_start):
 * the root slot is prefetched when the destination is known and read FWD_LOOKUP_LAG packets later,
 * which prefetches the node below, so that the lookup stage finds both in the cache. Inlined
 * into two small functions of their own (start folds away), each keeping its loop in
 * registers. (Starting the IPv6 lookups here too measured 0.97 on v6-full and 0.94 on
 * v4-small: the loop's registers. Doing the whole IPv4 lookup here for a hot FIB measured
 * 0.99 on v4-small and 0.94 on v4-tiny.)
 */
static __rte_always_inline uint32_t
fwd_check_fast(struct rte_mbuf *const *pkts, unsigned n, uint64_t fast_mac, const struct fib *fib4,
	       uint32_t *dst4, uint32_t *val4, uint32_t *f6, int start)
{
	uint32_t f4 = 0, g6 = 0;
	unsigned i, j;

	for (i = 0; i < n && i < FWD_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t l3 = m->pkt_len - PKT_ETH_LEN, len;

		if (i + FWD_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FWD_PREFETCH], void *));
		if (start && i >= FWD_LOOKUP_LAG && (f4 >> (j = i - FWD_LOOKUP_LAG) & 1))
			val4[j] = fib4_lookup_start(fib4, dst4[j]);
		if (likely(pkt_ip4_fast(f, m->data_len, l3, m->ol_flags, fast_mac, &dst4[i],
					&len))) {
			if (unlikely(len != l3) && fwd_trim(m, PKT_ETH_LEN + len) != 0)
				continue; /* fwd_check says BAD_LENGTH */
			if (start)
				fib4_lookup_prefetch(fib4, dst4[i]);
			f4 |= 1u << i;
		} else if (pkt_ip6_fast(f, m->data_len, l3, fast_mac, &len)) {
			if (unlikely(len != l3) && fwd_trim(m, PKT_ETH_LEN + len) != 0)
				continue;
			g6 |= 1u << i;
		}
	}
	for (j = n > FWD_LOOKUP_LAG ? n - FWD_LOOKUP_LAG : 0; start && j < n; j++)
		if (f4 >> j & 1)
			val4[j] = fib4_lookup_start(fib4, dst4[j]);
	*f6 = g6;
	return f4;
}

/* The fast checks with the IPv4 lookups started (a FIB that misses the caches), or without
 * (a hot one: fib_hot; single lookups after the checks cost fewer instructions). */
static __rte_noinline uint32_t
fwd_check_fast_start(struct rte_mbuf *const *pkts, unsigned n, uint64_t fast_mac,
		     const struct fib *fib4, uint32_t *dst4, uint32_t *val4, uint32_t *f6)
{
	return fwd_check_fast(pkts, n, fast_mac, fib4, dst4, val4, f6, 1);
}

static __rte_noinline uint32_t
fwd_check_fast_only(struct rte_mbuf *const *pkts, unsigned n, uint64_t fast_mac, uint32_t *dst4,
		    uint32_t *f6)
{
	return fwd_check_fast(pkts, n, fast_mac, NULL, dst4, NULL, f6, 0);
}

/*
 * One burst (n <= FWD_BURST). Each stage first runs a lean pass that handles the common
 * packet and flags it (stage 1: pkt_ip4_fast / pkt_ip6_fast; stage 3: fwd_nexthop_fast);
 * when every packet was flagged, which is the usual burst, nothing else runs. Otherwise a
 * second pass walks the burst in order, keeps the flagged packets and gives the others the
 * ordered checks (fwd_check, fwd_nexthop): the output keeps the input's order.
 */
static void
fwd_burst(struct fwd_worker *w, uint16_t rx_port, struct rte_mbuf **pkts, unsigned n)
{
	const struct fwd_tables *t = w->t;
	struct fwd_burst b;
	struct rte_mbuf **m4 = pkts, **m6 = b.m6, **out = b.out;
	const uint8_t *oport = b.out_port;
	uint64_t port_mac = 0, fast_mac, pmask = 0;
	uint32_t port_up = 0, f4 = 0, f6 = 0, all = fwd_mask(n);
	unsigned i, v, n4 = 0, n6 = 0, k = 0;
	int hot4 = fib_hot(t->fib4); /* read once: a started lookup is finished by lookup_rest */

	b.n_drop = b.n_exc = 0;
	b.rx_port = rx_port;
	if (likely(rx_port < NPR_MAX_PORTS)) {
		port_mac = fwd_port_mac(&t->port[rx_port]);
		port_up = atomic_load_explicit(&t->port[rx_port].up, memory_order_relaxed);
	}
	fast_mac = port_up != 0 ? port_mac : PKT_FAST_PORT_DOWN;

	/* stage 1, first pass: the fast checks */
	if (hot4)
		f4 = fwd_check_fast_only(pkts, n, fast_mac, b.dst4, &f6);
	else
		f4 = fwd_check_fast_start(pkts, n, fast_mac, t->fib4, b.dst4, b.val4, &f6);
	/* stage 1, second pass: sort by family (in place: n4 <= i), ordered checks for the rest */
	if (likely(f4 == all)) {
		n4 = n;
	} else if (f6 == all) {
		m6 = pkts;
		n6 = n;
		b.fast6 = all;
	} else {
		m4 = b.m4;
		b.fast6 = 0;
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			if (f4 >> i & 1) {
				b.dst4[n4] = b.dst4[i];
				m4[n4++] = m;
				continue;
			}
			if (f6 >> i & 1) {
				b.fast6 |= 1u << n6;
				m6[n6++] = m;
				continue;
			}
			v = fwd_check(m, port_mac, port_up, &b.dst4[n4]);
			if (v == PKT_IP4 && unlikely(pkt_ip4_link_local(b.dst4[n4]) ||
						     pkt_ip4_link_local(fwd_src4(m))))
				v = fwd_link_local4(t, m, b.dst4[n4]);
			if (v == PKT_IP4)
				m4[n4++] = m;
			else if (v == PKT_IP6)
				m6[n6++] = m;
			else
				fwd_exit(w, &b, m, v);
		}
	}
	for (i = 0; i < n6; i++)
		b.dst6[i] = rte_pktmbuf_mtod_offset(
			m6[i], const uint8_t *,
			PKT_ETH_LEN + offsetof(struct rte_ipv6_hdr, dst_addr));
	CYC_MARK(w, CYC_CHECK);

	/* stage 2: lookups, each family in one interleaved pass */
	if (likely(f4 == all) && !hot4)
		fib4_lookup_rest(t->fib4, b.dst4, b.val4, n4); /* started by fwd_check_fast */
	else if (n4 != 0)
		fib4_lookup_bulk(t->fib4, b.dst4, b.val4, n4);
	if (n6 != 0)
		fib6_lookup_bulk(t->fib6, b.dst6, b.val6, n6);
	CYC_MARK(w, CYC_LOOKUP);

	/* stage 3: next hop, TTL, rewrite; then the output, in order, staged for tx */
	if (n4 != 0) {
		if (likely(fwd_nexthop_fast4(t, m4, b.val4, n4, b.port, &pmask) == n4 && n6 == 0)) {
			out = m4;
			oport = b.port;
			k = n4;
		} else {
			for (i = 0; i < n4; i++)
				pmask |= fwd_nexthop(w, &b, &k, m4[i], b.val4[i], 0, b.port[i]);
		}
	}
	stat_add(&w->stats.fwd4_pkts, k);
	if (n6 != 0) {
		unsigned k4 = k;

		fwd_nexthop_fast6(t, m6, b.val6, n6, b.fast6, b.port, &pmask);
		for (i = 0; i < n6; i++)
			pmask |= fwd_nexthop(w, &b, &k, m6[i], b.val6[i], 1, b.port[i]);
		stat_add(&w->stats.fwd6_pkts, k - k4);
	}
	if (k != 0)
		fwd_stage(w, out, oport, k, pmask);

	if (b.n_drop != 0)
		rte_pktmbuf_free_bulk(b.drop, b.n_drop);
	if (b.n_exc != 0)
		fwd_exc_flush(w, &b);
	stat_add(&w->stats.rx_pkts, n);
	CYC_MARK(w, CYC_NEXTHOP);
}

void
fwd_process(struct fwd_worker *w, uint16_t rx_port, struct rte_mbuf **pkts, uint16_t n)
{
	while (n != 0) {
		unsigned k = RTE_MIN((unsigned)n, FWD_BURST);
		fwd_burst(w, rx_port, pkts, k);
		pkts += k;
		n = (uint16_t)(n - k);
	}
}

void
fwd_flush(struct fwd_worker *w)
{
	uint64_t pend = w->tx_pending;

	w->tx_pending = 0;
	while (pend != 0) {
		fwd_flush_port(w, (unsigned)__builtin_ctzll(pend));
		pend &= pend - 1;
	}
}

unsigned
fwd_inject(struct fwd_worker *w)
{
	struct rte_mbuf *m[FWD_BURST];
	unsigned n, i;

	/* cheap when empty: two loads of the ring's indices */
	if (likely(w->inject == NULL || rte_ring_empty(w->inject)))
		return 0;
	n = rte_ring_sc_dequeue_burst(w->inject, (void **)m, FWD_BURST, NULL);
	for (i = 0; i < n; i++) {
		unsigned p = m[i]->port;

		if (unlikely(p >= NPR_MAX_PORTS)) { /* the slow path never does this */
			rte_pktmbuf_free(m[i]);
			stat_add(&w->stats.drop[NPR_DROP_NH_INVALID], 1);
			continue;
		}
		if (unlikely(w->tx_n[p] == FWD_BURST))
			fwd_flush_port(w, p);
		w->tx[p][w->tx_n[p]++] = m[i];
		w->tx_pending |= 1ull << p;
	}
	stat_add(&w->stats.inject_pkts, n);
	return n;
}

uint32_t
fwd_flow_hash(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *ip = f + PKT_ETH_LEN;
	uint32_t seg = m->data_len, len;
	uint16_t et;

	if (seg < PKT_ETH_LEN + PKT_IP4_LEN)
		return 0;
	seg -= PKT_ETH_LEN;
	memcpy(&et, f + 12, sizeof(et));
	if (et == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		len = rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)ip)->total_length);
		len = RTE_MIN(len, seg);
		return len < PKT_IP4_LEN ? 0 : pkt_flow_hash4(ip, len);
	}
	if (et == RTE_BE16(RTE_ETHER_TYPE_IPV6) && seg >= PKT_IP6_LEN) {
		len = PKT_IP6_LEN +
		      rte_be_to_cpu_16(((const struct rte_ipv6_hdr *)ip)->payload_len);
		return pkt_flow_hash6(ip, RTE_MIN(len, seg));
	}
	return 0;
}

/*
 * QSBR: main registers thread id w->idx before launch; the worker goes online here, reports a
 * quiescent state once per poll loop (between bursts, never inside a lookup) and goes offline
 * when it stops, so that the control thread's grace periods never wait for a stopped worker.
 * The same grace periods tell the port gate (portgate.h) that no worker is inside a burst on
 * a port it closed: every rx and tx burst follows a look at the port's gate within one loop.
 */
/*
 * Idle naps (--idle adaptive). While packets keep coming (the last two bursts less than
 * FWD_HOT_NS apart, the last one less than FWD_HOT_NS ago: rates above about 100 packets/s)
 * the worker polls as with --idle poll, since a sleeping thread wakes tens of microseconds
 * late (more in a VM) and every packet would wait for that; a lone packet (a neighbour
 * discovery, a keepalive) does not keep it awake. Otherwise, once its queues have been empty
 * for FWD_IDLE_SPINS polls, it naps: FWD_NAP_MIN_NS,
 * doubling while they stay empty, up to FWD_NAP_MAX_NS, so that the first packet after an idle
 * time T waits about T/2 at most, and at most FWD_NAP_MAX_NS (the rx ring holds what arrives
 * meanwhile). The worker is offline for QSBR while it sleeps, so grace periods (route updates,
 * the port gate) never wait for it; back online it reads the tables and gates afresh. The nap
 * is a syscall, made only when there is no packet to handle. Timer slack is set to 1 us at
 * start, so that a nap is not stretched by the default 50 us.
 */
#define FWD_IDLE_SPINS 256u
#define FWD_NAP_MIN_NS 5000ull
#define FWD_NAP_MAX_NS 1000000ull
#define FWD_HOT_NS 10000000ull

static __rte_noinline void
fwd_nap(struct fwd_worker *w, const struct fwd_tables *t, uint64_t *nap_ns, uint64_t now)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)*nap_ns };

	if (t->qsbr != NULL)
		rte_rcu_qsbr_thread_offline(t->qsbr, w->idx);
	nanosleep(&ts, NULL);
	if (t->qsbr != NULL)
		rte_rcu_qsbr_thread_online(t->qsbr, w->idx);
	stat_add(&w->stats.naps, 1);
	stat_add(&w->stats.nap_cycles, rte_rdtsc() - now);
	*nap_ns = RTE_MIN(*nap_ns * 2, FWD_NAP_MAX_NS);
}

int
fwd_worker_main(void *arg)
{
	struct fwd_worker *w = arg;
	const struct fwd_tables *t = w->t;
	struct rte_mbuf *pkts[FWD_BURST];
	uint64_t hot = FWD_HOT_NS * rte_get_tsc_hz() / 1000000000ull, last_rx = 0, prev_rx = 0,
		 nap_ns = FWD_NAP_MIN_NS;
	unsigned empty = 0;

	if (w->idle_adaptive)
		(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* 1 us, this thread */
	if (t->qsbr != NULL)
		rte_rcu_qsbr_thread_online(t->qsbr, w->idx);
	CYC_START(w);
	while (*w->stop == 0) {
		unsigned busy = 0;

		for (unsigned q = 0; q < w->n_rxq; q++) {
			const struct fwd_rxq *rq = &w->rxq[q];
			/* An administratively down port receives nothing: frames wait in the
			 * device (or its pcap file) until an interface is up on it. Nor does
			 * one whose gate is closed (portgate.h: its link is down, or its driver
			 * is changing its queues). */
			uint32_t up =
				atomic_load_explicit(&t->port[rq->port].up, memory_order_relaxed);
			uint32_t closed = atomic_load_explicit(&w->port_closed[rq->port],
							       memory_order_acquire);
			if (up == 0 || closed != 0) {
				CYC_MARK(w, CYC_IDLE);
				continue;
			}
			uint16_t n = rte_eth_rx_burst(rq->port, rq->queue, pkts, FWD_BURST);

			if (n == 0) {
				CYC_MARK(w, CYC_IDLE);
				continue;
			}
			CYC_MARK(w, CYC_RX);
			CYC_PKTS(w, n);
			busy = 1;
			fwd_process(w, rq->port, pkts, n);
			fwd_flush(w);
			CYC_MARK(w, CYC_TX);
		}
		if (unlikely(fwd_inject(w) != 0)) { /* what the slow path sends */
			busy = 1;
			fwd_flush(w);
		}
		stat_add(&w->stats.polls, 1);
		stat_add(&w->stats.busy_polls, busy);
		if (t->qsbr != NULL)
			rte_rcu_qsbr_quiescent(t->qsbr, w->idx);
		if (likely(busy)) {
			empty = 0;
			nap_ns = FWD_NAP_MIN_NS;
		} else if (w->idle_adaptive) {
			if (++empty == 1) { /* about when the last packets came */
				prev_rx = last_rx;
				last_rx = rte_rdtsc();
			}
			if (empty >= FWD_IDLE_SPINS) {
				uint64_t now = rte_rdtsc();
				if (now - last_rx >= hot || last_rx - prev_rx >= hot) {
					fwd_nap(w, t, &nap_ns, now);
					CYC_MARK(w, CYC_IDLE);
				}
			}
		}
	}
	fwd_flush(w);
	if (t->qsbr != NULL)
		rte_rcu_qsbr_thread_offline(t->qsbr, w->idx);
	CYC_PRINT(w);
	return 0;
}
