/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker fast path: rx burst -> L2/L3 checks -> bulk LPM -> next hop / ECMP -> rewrite -> tx.
 *
 *   stage 1  per packet: Ethernet, IPv4 (RFC 1812 5.2.2, 5.3.7) or IPv6 (RFC 8200) checks;
 *            survivors are collected per family with their destination
 *   stage 2  one fib4_lookup_bulk and one fib6_lookup_bulk for the whole burst
 *   stage 3  per packet: route value -> next hop word -> TTL / hop limit, rewrite, stage for tx
 *   end      drops freed in one call, exceptions enqueued to w->exc in one call
 *
 * Each packet leaves each stage through one exit: fwd_exit (drop or exception) or staging.
 *
 * Accounting, per worker (w->stats; only this worker writes it):
 *   rx_pkts = (sum(drop[]) - drop[TX_FULL]) + sum(exc[]) + fwd4_pkts + fwd6_pkts
 *   fwd4_pkts + fwd6_pkts = tx_pkts + drop[TX_FULL] + (staged, not yet flushed)
 * i.e. a packet is counted once by fwd_process (drop, exception, or fwd4/fwd6 when staged),
 * and a staged packet once more by fwd_flush (tx_pkts, or drop TX_FULL); after a flush,
 * rx_pkts = sum(drop[]) + sum(exc[]) + tx_pkts. Frames the slow path hands over (fwd_inject)
 * count in inject_pkts and then as tx_pkts or a drop: rx_pkts + inject_pkts on the left.
 * Headers must sit in the first segment (as every PMD delivers them); lengths are checked
 * against the whole packet.
 *
 * Not done here: IPv4 options are forwarded untouched; packets that need an answer or an
 * ICMP error (no route, unreachable / prohibit routes, TTL expiry, larger than the egress MTU,
 * unresolved next hop) leave as exceptions for the slow path (slowpath.c), which also hands
 * packets back through w->inject (fwd_inject: stats.inject_pkts).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
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

/* What one burst collects between the stages; lives on the worker's stack. */
struct fwd_burst {
	unsigned n_drop, n_exc, n4, n6;
	struct rte_mbuf *drop[FWD_BURST];
	struct rte_mbuf *exc[FWD_BURST];
	uint8_t exc_reason[FWD_BURST]; /* kept here: once enqueued, an mbuf is not ours */
	struct rte_mbuf *m4[FWD_BURST];
	uint32_t dst4[FWD_BURST]; /* host byte order */
	uint32_t val4[FWD_BURST];
	struct rte_mbuf *m6[FWD_BURST];
	const uint8_t *dst6[FWD_BURST];
	uint32_t val6[FWD_BURST];
};

/* The single exit of a packet that is not forwarded: v is PKT_DROP|reason or PKT_EXC|reason. */
static inline void
fwd_exit(struct fwd_worker *w, struct fwd_burst *b, struct rte_mbuf *m, unsigned v)
{
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
	sent = rte_eth_tx_burst((uint16_t)p, w->txq[p], w->tx[p], n);
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&w->tx[p][sent], n - sent);
		stat_add(&w->stats.drop[NPR_DROP_TX_FULL], n - sent);
	}
	stat_add(&w->stats.tx_pkts, sent);
	w->tx_n[p] = 0;
}

/* Rewrite the Ethernet header for next hop wd and stage the packet on its port. Returns the
 * port's tx_pending bit: the caller gathers them in a local and stores w->tx_pending once per
 * burst rather than with a read-modify-write of the worker per packet. */
static inline uint64_t
fwd_stage(struct fwd_worker *w, const struct fwd_tables *t, struct rte_mbuf *m, uint64_t wd)
{
	unsigned p = fwd_nh_port(wd);
	uint64_t smac = atomic_load_explicit(&t->port[p].mac, memory_order_relaxed);

	pkt_eth_set_macs(rte_pktmbuf_mtod(m, uint8_t *), fwd_nh_mac(wd), smac);
	if (unlikely(w->tx_n[p] == FWD_BURST)) /* fwd_process called twice without a flush */
		fwd_flush_port(w, p);
	w->tx[p][w->tx_n[p]++] = m;
	return 1ull << p;
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

static void
fwd_burst(struct fwd_worker *w, uint16_t rx_port, struct rte_mbuf **pkts, unsigned n)
{
	const struct fwd_tables *t = w->t;
	struct fwd_burst b;
	uint64_t port_mac = 0, pend = 0;
	uint32_t port_up = 0;
	unsigned i, v, n4 = 0, n6 = 0, fwd4 = 0, fwd6 = 0;

	b.n_drop = b.n_exc = b.n4 = b.n6 = 0;
	if (likely(rx_port < NPR_MAX_PORTS)) {
		port_mac = atomic_load_explicit(&t->port[rx_port].mac, memory_order_relaxed);
		port_up = atomic_load_explicit(&t->port[rx_port].up, memory_order_relaxed);
	}

	for (i = 0; i < n && i < FWD_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	/* stage 1: checks. The survivor counts stay in locals (b's address escapes, so b.n4 would
	 * be a load and a store per packet, chained from one packet to the next). */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + PKT_ETH_LEN;
		uint32_t seg = m->data_len, len;

		if (i + FWD_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FWD_PREFETCH], void *));

		v = pkt_eth_check(f, seg, port_mac, port_up);
		if (likely(v == PKT_IP4)) {
			const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;
			uint32_t dst;

			v = pkt_ip4_check(ip, seg - PKT_ETH_LEN, m->pkt_len - PKT_ETH_LEN,
					  m->ol_flags, &len);
			if (unlikely(v != PKT_OK))
				goto out;
			dst = rte_be_to_cpu_32(h->dst_addr);
			v = pkt_ip4_addr_check(rte_be_to_cpu_32(h->src_addr), dst);
			if (unlikely(v != PKT_OK))
				goto out;
			if (unlikely(fwd_trim(m, PKT_ETH_LEN + len) != 0)) {
				v = PKT_DROP | NPR_DROP_BAD_LENGTH;
				goto out;
			}
			b.m4[n4] = m;
			b.dst4[n4++] = dst;
			continue;
		}
		if (likely(v == PKT_IP6)) {
			v = pkt_ip6_check(ip, seg - PKT_ETH_LEN, m->pkt_len - PKT_ETH_LEN, &len);
			if (unlikely(v != PKT_OK))
				goto out;
			if (unlikely(fwd_trim(m, PKT_ETH_LEN + len) != 0)) {
				v = PKT_DROP | NPR_DROP_BAD_LENGTH;
				goto out;
			}
			b.m6[n6] = m;
			b.dst6[n6++] = ((const struct rte_ipv6_hdr *)ip)->dst_addr;
			continue;
		}
	out:
		fwd_exit(w, &b, m, v);
	}
	b.n4 = n4;
	b.n6 = n6;

	CYC_MARK(w, CYC_CHECK);

	/* stage 2: lookups, each family in one interleaved pass */
	if (b.n4 != 0)
		fib4_lookup_bulk(t->fib4, b.dst4, b.val4, b.n4);
	if (b.n6 != 0)
		fib6_lookup_bulk(t->fib6, b.dst6, b.val6, b.n6);
	CYC_MARK(w, CYC_LOOKUP);

	/* stage 3: next hop, TTL, rewrite, stage */
	for (i = 0; i < b.n4; i++) {
		struct rte_mbuf *m = b.m4[i];
		uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, PKT_ETH_LEN);
		uint32_t val = b.val4[i];
		uint64_t wd = 0;

		if (unlikely(val == 0))
			v = PKT_EXC | NPR_EXC_NO_ROUTE; /* the slow path sends ICMP */
		else if (unlikely(val & NPR_TARGET_LOCAL))
			v = PKT_EXC | NPR_EXC_LOCAL;
		else
			v = fwd_route(t, val, ip, m->data_len - PKT_ETH_LEN, 0,
				      ((struct rte_ipv4_hdr *)ip)->time_to_live,
				      m->pkt_len - PKT_ETH_LEN, &wd);
		if (unlikely(v != PKT_OK)) {
			fwd_exit(w, &b, m, v);
			continue;
		}
		pkt_ip4_ttl_dec(ip);
		pend |= fwd_stage(w, t, m, wd);
		fwd4++;
	}
	for (i = 0; i < b.n6; i++) {
		struct rte_mbuf *m = b.m6[i];
		uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, PKT_ETH_LEN);
		uint32_t val = b.val6[i];
		uint64_t wd = 0;

		if (unlikely(val == 0))
			v = PKT_EXC | NPR_EXC_NO_ROUTE;
		else if (unlikely(val & NPR_TARGET_LOCAL))
			v = PKT_EXC | NPR_EXC_LOCAL;
		else if (unlikely(pkt_ip6_src_scoped(((struct rte_ipv6_hdr *)ip)->src_addr)))
			v = PKT_DROP | NPR_DROP_BAD_SRC; /* RFC 4291: :: and fe80::/10 stay local */
		else
			v = fwd_route(t, val, ip, m->data_len - PKT_ETH_LEN, 1,
				      ((struct rte_ipv6_hdr *)ip)->hop_limits,
				      m->pkt_len - PKT_ETH_LEN, &wd);
		if (unlikely(v != PKT_OK)) {
			fwd_exit(w, &b, m, v);
			continue;
		}
		pkt_ip6_hlim_dec(ip);
		pend |= fwd_stage(w, t, m, wd);
		fwd6++;
	}

	w->tx_pending |= pend;
	if (b.n_drop != 0)
		rte_pktmbuf_free_bulk(b.drop, b.n_drop);
	if (b.n_exc != 0)
		fwd_exc_flush(w, &b);
	stat_add(&w->stats.rx_pkts, n);
	stat_add(&w->stats.fwd4_pkts, fwd4);
	stat_add(&w->stats.fwd6_pkts, fwd6);
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
 */
int
fwd_worker_main(void *arg)
{
	struct fwd_worker *w = arg;
	const struct fwd_tables *t = w->t;
	struct rte_mbuf *pkts[FWD_BURST];

	if (t->qsbr != NULL)
		rte_rcu_qsbr_thread_online(t->qsbr, w->idx);
	CYC_START(w);
	while (*w->stop == 0) {
		unsigned busy = 0;

		for (unsigned q = 0; q < w->n_rxq; q++) {
			const struct fwd_rxq *rq = &w->rxq[q];
			/* An administratively down port receives nothing: frames wait in the
			 * device (or its pcap file) until an interface is up on it. */
			uint32_t up =
				atomic_load_explicit(&t->port[rq->port].up, memory_order_relaxed);
			if (up == 0) {
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
	}
	fwd_flush(w);
	if (t->qsbr != NULL)
		rte_rcu_qsbr_thread_offline(t->qsbr, w->idx);
	CYC_PRINT(w);
	return 0;
}
