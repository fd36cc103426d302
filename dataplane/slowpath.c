/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path (see slowpath.h): ARP, neighbour discovery, ICMP, resolution queues.
 *
 * Neighbour cache, one entry per (interface, family, address) being resolved or learnt:
 *
 *   (none) --packet to an unknown next hop--> INCOMPLETE: request every retry_ms, packets
 *            queued (at most hold_max, the oldest dropped first)
 *   INCOMPLETE --reply--> REACHABLE (published to cfg, queue sent)
 *   INCOMPLETE --retries unanswered--> FAILED: queue dropped (host unreachable for forwarded
 *            packets); new packets dropped the same way for retry_ms, then the entry goes
 *   REACHABLE --reachable_ms--> PROBE: unicast requests every retry_ms; an answer (or any
 *            ARP / NS from it) makes it REACHABLE again; retries unanswered: forgotten (cfg
 *            too), "expired"
 *
 * Configured neighbours live in cfg only and are used as they are. A learnt neighbour that a
 * batch kept from being published (cfg_neigh_learn -EAGAIN) is still used here and published
 * on a later tick.
 *
 * Thread: the control thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "cfg.h"
#include "fwd.h"
#include "icmp.h"
#include "pkt.h"
#include "slowpath.h"

#define SP_HOLD_CAP 64u
#define SP_HOLD_TOTAL 2048u    /* packets queued for all neighbours together */
#define SP_TICK_NS 10000000ull /* timers are looked at every 10 ms */
#define MS 1000000ull

/* GONE: to be forgotten, but cfg refused while a batch was open: retried every tick */
enum nb_state { NB_FREE = 0, NB_INCOMPLETE, NB_REACHABLE, NB_PROBE, NB_FAILED, NB_GONE };

/* Held packets remember in m->hash.usr whether they were being forwarded (a failed
 * resolution then sends "host unreachable" about them) or were the router's own. */
enum { HOLD_OWN = 0, HOLD_FWD = 1 };

struct sp_nb {
	uint8_t addr[16];
	uint16_t ifid;
	uint8_t family;
	uint8_t state; /* enum nb_state */
	uint8_t mac[6];
	uint8_t probes;	   /* requests sent in this state */
	uint8_t published; /* cfg has it as a learnt neighbour */
	uint16_t n_hold;
	uint32_t next;	   /* hash chain: index + 1, 0 ends it */
	uint32_t pos;	   /* index in the used list */
	uint64_t deadline; /* next timer */
	struct rte_mbuf **hold;
};

struct sp_if {
	bool used, up;
	uint16_t port, mtu;
	uint8_t mac[6];
	uint8_t ll[16]; /* fe80:: + EUI-64 of mac */
};

struct slowpath {
	struct sp_conf conf;
	uint64_t cnt[NPR_STATS_SLOW_SLOTS];

	struct sp_nb *nb;
	uint32_t nb_max;
	uint32_t *bucket, bucket_mask;
	uint32_t *used, n_used;
	uint32_t *freel, n_free;
	struct rte_mbuf **hold_mem;
	uint32_t held;

	/* ICMP error token bucket, as nanoseconds of credit: an error costs `cost` */
	uint64_t credit, cost, depth, last;

	/* what was read from cfg at `version` */
	uint64_t version;
	bool synced;
	struct sp_if ifs[NPR_MAX_IFACES];
	struct cfg_addr *addr, *addr_new;
	unsigned n_addr;

	uint16_t ip_id;
	uint64_t last_tick;
	bool ticked;
};

#define CNT(sp, name) ((sp)->cnt[NPR_SLOW_##name]++)

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO16[16];
static const uint8_t ALL_NODES[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

/* ---------------------------------------------------------------------------------------- */
/* helpers */

static inline unsigned
alen(unsigned family)
{
	return family == NPR_AF_INET ? 4 : 16;
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool
is_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static bool
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t m = (uint8_t)(0xff00u >> rem);
	return ((a[full] ^ b[full]) & m) == 0;
}

/* addr is on a subnet of an address of ifid (link-local IPv6: always on-link) */
static bool
on_subnet(const struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a)
{
	if (family == NPR_AF_INET6 && is_ll6(a))
		return true;
	for (unsigned i = 0; i < sp->n_addr; i++) {
		const struct cfg_addr *x = &sp->addr[i];
		if (x->ifid == ifid && x->family == family && prefix_eq(x->a, a, x->plen))
			return true;
	}
	return false;
}

/* The broadcast address of a connected IPv4 subnet (directed broadcast: never resolved or
 * forwarded, RFC 2644). */
static bool
is_subnet_bcast4(const struct slowpath *sp, const uint8_t *a)
{
	for (unsigned i = 0; i < sp->n_addr; i++) {
		const struct cfg_addr *x = &sp->addr[i];
		if (x->family != NPR_AF_INET || x->plen >= 31 || !prefix_eq(x->a, a, x->plen))
			continue;
		uint32_t v =
			(uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		uint32_t host = (1u << (32 - x->plen)) - 1;
		if ((v & host) == host)
			return true;
	}
	return false;
}

/* An address of ours on ifid (IPv6: its link-local address too). */
static bool
ours_on(const struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a)
{
	if (family == NPR_AF_INET6 && memcmp(a, sp->ifs[ifid].ll, 16) == 0)
		return true;
	return cfg_addr_local(sp->conf.cfg, family, a) == (int)ifid;
}

static void
drop(struct slowpath *sp, struct rte_mbuf *m, unsigned counter)
{
	sp->cnt[counter]++;
	rte_pktmbuf_free(m);
}

/* A fresh mbuf with room for a frame: *ip points after the Ethernet header, *cap is what
 * fits there. Append the frame length with frame_done. */
static struct rte_mbuf *
frame_new(struct slowpath *sp, uint8_t **ip, size_t *cap)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sp->conf.pool);

	if (m == NULL) {
		CNT(sp, NOMBUF);
		return NULL;
	}
	*ip = rte_pktmbuf_mtod(m, uint8_t *) + PKT_ETH_LEN;
	*cap = rte_pktmbuf_tailroom(m) - PKT_ETH_LEN;
	return m;
}

static void
frame_done(struct rte_mbuf *m, size_t ip_len, uint16_t ethertype)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	rte_pktmbuf_append(m, (uint16_t)(PKT_ETH_LEN + ip_len));
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
}

/* Send a complete frame (MACs written here) out of port. */
static void
eth_send(struct slowpath *sp, struct rte_mbuf *m, uint16_t port, const uint8_t *dst,
	 const uint8_t *src)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	m->port = port;
	m->ol_flags = 0;
	if (sp->conf.tx(sp->conf.tx_ctx, m) < 0) {
		drop(sp, m, NPR_SLOW_INJECT_FULL);
		return;
	}
	CNT(sp, INJECT_TX);
}

static void
if_send(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, const uint8_t *dst)
{
	eth_send(sp, m, sp->ifs[ifid].port, dst, sp->ifs[ifid].mac);
}

/* ICMP error token bucket; the credit is refilled lazily, by the time elapsed. */
static bool
bucket_take(struct slowpath *sp, uint64_t now)
{
	if (now > sp->last) {
		uint64_t c = sp->credit + (now - sp->last);
		sp->credit = c > sp->depth ? sp->depth : c;
	}
	sp->last = now;
	if (sp->credit < sp->cost)
		return false;
	sp->credit -= sp->cost;
	return true;
}

/* ---------------------------------------------------------------------------------------- */
/* neighbour cache */

static uint32_t
nb_hash(unsigned ifid, unsigned family, const uint8_t *a)
{
	uint32_t h = 2166136261u ^ ifid ^ (family << 16);

	for (unsigned i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h ^ (h >> 15);
}

static struct sp_nb *
nb_lookup(struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a)
{
	uint32_t i = sp->bucket[nb_hash(ifid, family, a) & sp->bucket_mask];

	while (i != 0) {
		struct sp_nb *e = &sp->nb[i - 1];
		if (e->ifid == ifid && e->family == family && memcmp(e->addr, a, 16) == 0)
			return e;
		i = e->next;
	}
	return NULL;
}

static struct sp_nb *
nb_create(struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a, uint64_t now)
{
	if (sp->n_free == 0)
		return NULL;
	uint32_t idx = sp->freel[--sp->n_free];
	struct sp_nb *e = &sp->nb[idx];
	uint32_t *b = &sp->bucket[nb_hash(ifid, family, a) & sp->bucket_mask];
	struct rte_mbuf **hold = e->hold;

	memset(e, 0, sizeof(*e));
	e->hold = hold;
	memcpy(e->addr, a, 16);
	e->ifid = (uint16_t)ifid;
	e->family = (uint8_t)family;
	e->state = NB_INCOMPLETE;
	e->deadline = now;
	e->next = *b;
	*b = idx + 1;
	e->pos = sp->n_used;
	sp->used[sp->n_used++] = idx;
	return e;
}

/* The entry's queue must be empty. */
static void
nb_delete(struct slowpath *sp, struct sp_nb *e)
{
	uint32_t idx = (uint32_t)(e - sp->nb), *p;
	uint32_t last = sp->used[--sp->n_used];

	for (p = &sp->bucket[nb_hash(e->ifid, e->family, e->addr) & sp->bucket_mask]; *p != idx + 1;
	     p = &sp->nb[*p - 1].next)
		;
	*p = e->next;
	sp->used[e->pos] = last;
	sp->nb[last].pos = e->pos;
	e->state = NB_FREE;
	sp->freel[sp->n_free++] = idx;
}

static void icmp_error(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint8_t type,
		       uint8_t code, uint32_t rest, unsigned counter, uint64_t now);

/* Send what waits for e to mac. */
static void
nb_flush_hold(struct slowpath *sp, struct sp_nb *e, const uint8_t *mac)
{
	for (unsigned i = 0; i < e->n_hold; i++) {
		if_send(sp, e->hold[i], e->ifid, mac);
		CNT(sp, HOLD_SENT);
	}
	sp->held -= e->n_hold;
	e->n_hold = 0;
}

/* Drop what waits for e; about forwarded packets, "host unreachable" (RFC 1812 4.3.3.1). */
static void
nb_fail_hold(struct slowpath *sp, struct sp_nb *e, uint64_t now)
{
	struct rte_mbuf *q[SP_HOLD_CAP];
	unsigned n = e->n_hold;

	/* out of the entry first: the errors are routed, maybe through this very entry */
	memcpy(q, e->hold, n * sizeof(q[0]));
	sp->held -= n;
	e->n_hold = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = q[i];
		CNT(sp, HOLD_FAILED);
		if (m->hash.usr != HOLD_FWD || m->port >= NPR_MAX_PORTS) {
			rte_pktmbuf_free(m);
			continue;
		}
		int in = cfg_iface_by_port(sp->conf.cfg, m->port);
		if (in < 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (e->family == NPR_AF_INET)
			icmp_error(sp, m, (unsigned)in, ICMP4_UNREACH, ICMP4_HOST_UNREACH, 0,
				   NPR_SLOW_ICMP_UNREACH_TX, now);
		else
			icmp_error(sp, m, (unsigned)in, ICMP6_UNREACH, ICMP6_ADDR_UNREACH, 0,
				   NPR_SLOW_ICMP_UNREACH_TX, now);
	}
}

static void
nb_hold(struct slowpath *sp, struct sp_nb *e, struct rte_mbuf *m)
{
	if (e->n_hold == sp->conf.hold_max || sp->held == SP_HOLD_TOTAL) {
		if (e->n_hold == 0) {
			drop(sp, m, NPR_SLOW_HOLD_OVERFLOW);
			return;
		}
		/* the oldest goes: the newest packets are the ones worth sending */
		drop(sp, e->hold[0], NPR_SLOW_HOLD_OVERFLOW);
		memmove(e->hold, e->hold + 1, (e->n_hold - 1) * sizeof(e->hold[0]));
		e->n_hold--;
		sp->held--;
	}
	e->hold[e->n_hold++] = m;
	sp->held++;
	CNT(sp, HOLD_QUEUED);
}

/* ARP request or neighbour solicitation for e: to its MAC (refresh) or to everyone. */
static void
nb_solicit(struct slowpath *sp, struct sp_nb *e, bool unicast)
{
	const struct sp_if *ifc = &sp->ifs[e->ifid];
	uint8_t *ip, src[16] = { 0 }, dmac[6];
	size_t cap, len;
	struct rte_mbuf *m = frame_new(sp, &ip, &cap);

	if (m == NULL)
		return;
	if (e->family == NPR_AF_INET) {
		/* the sender address: one of ours on that subnet; 0.0.0.0 if the interface has
		 * none (RFC 5227 probe form: still answered) */
		if (cfg_addr_pick(sp->conf.cfg, e->ifid, NPR_AF_INET, e->addr, src) < 0)
			memset(src, 0, 4);
		arp_build(ip, 1, ifc->mac, src, NULL, e->addr);
		frame_done(m, 28, 0x0806);
		if_send(sp, m, e->ifid, unicast ? e->mac : BCAST);
		CNT(sp, ARP_REQUEST_TX);
		return;
	}
	uint8_t dst[16];
	if (cfg_addr_pick(sp->conf.cfg, e->ifid, NPR_AF_INET6, e->addr, src) < 0)
		memcpy(src, ifc->ll, 16);
	if (unicast) {
		memcpy(dst, e->addr, 16);
		memcpy(dmac, e->mac, 6);
	} else {
		nd_solicited_node(dst, e->addr);
		ip6_mcast_mac(dmac, dst);
	}
	len = nd_ns(ip, src, dst, e->addr, ifc->mac);
	frame_done(m, len, 0x86dd);
	if_send(sp, m, e->ifid, dmac);
	CNT(sp, NS_TX);
}

/*
 * A neighbour answered (or spoke to us): remember it, publish it, send what waited for it.
 * create: make an entry if there is none (a request for our address from a host on the
 * subnet); otherwise only an entry we have is updated (a reply we asked for).
 */
static void
nb_learn(struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a, const uint8_t *mac,
	 bool create, uint64_t now)
{
	struct sp_nb *e = nb_lookup(sp, ifid, family, a);
	bool learnt = false;

	if (e == NULL) {
		if (!create)
			return;
		/* a configured neighbour stays as configured */
		if (cfg_neigh_get(sp->conf.cfg, ifid, family, a, NULL, &learnt) == 0 && !learnt)
			return;
		e = nb_create(sp, ifid, family, a, now);
		if (e == NULL)
			return;
	}
	if (e->state == NB_INCOMPLETE)
		CNT(sp, NEIGH_RESOLVED);
	if (e->state != NB_REACHABLE && e->state != NB_PROBE)
		CNT(sp, NEIGH_LEARNED);
	else if (memcmp(e->mac, mac, 6) != 0)
		CNT(sp, NEIGH_LEARNED);
	memcpy(e->mac, mac, 6);
	e->state = NB_REACHABLE;
	e->probes = 0;
	e->deadline = now + sp->conf.reachable_ms * MS;
	int rc = cfg_neigh_learn(sp->conf.cfg, ifid, family, a, mac);
	e->published = rc == 0;
	if (rc == -EEXIST) { /* configured meanwhile: that MAC is the one to use */
		uint8_t smac[6];
		if (cfg_neigh_get(sp->conf.cfg, ifid, family, a, smac, NULL) == 0)
			nb_flush_hold(sp, e, smac);
		nb_fail_hold(sp, e, now);
		nb_delete(sp, e);
		return;
	}
	nb_flush_hold(sp, e, e->mac);
}

/* Forget a learnt neighbour (here and in cfg) and what waited for it. */
static void
nb_forget(struct slowpath *sp, struct sp_nb *e, unsigned counter, uint64_t now)
{
	sp->cnt[counter]++;
	nb_fail_hold(sp, e, now);
	if (e->published &&
	    cfg_neigh_forget(sp->conf.cfg, e->ifid, e->family, e->addr) == -EAGAIN) {
		e->state = NB_GONE; /* a batch is open: sp_periodic tries again */
		e->deadline = now;
		return;
	}
	nb_delete(sp, e);
}

/* ---------------------------------------------------------------------------------------- */
/* output */

/* Send m (frame with room for Ethernet, IP datagram after it) along route r: to its MAC, a
 * known neighbour, or queued while the next hop is resolved. */
static void
nb_output(struct slowpath *sp, struct rte_mbuf *m, const struct cfg_route *r, uint64_t now)
{
	uint8_t mac[6];
	struct sp_nb *e;

	if (r->has_mac) {
		if_send(sp, m, r->ifid, r->mac);
		return;
	}
	if (cfg_neigh_get(sp->conf.cfg, r->ifid, r->nh_family, r->nh, mac, NULL) == 0) {
		if_send(sp, m, r->ifid, mac);
		return;
	}
	e = nb_lookup(sp, r->ifid, r->nh_family, r->nh);
	if (e != NULL && (e->state == NB_REACHABLE || e->state == NB_PROBE)) {
		if_send(sp, m, r->ifid, e->mac);
		return;
	}
	if (e != NULL && (e->state == NB_FAILED || e->state == NB_GONE)) {
		e->hold[0] = m; /* the same path as a queue that failed */
		e->n_hold = 1;
		sp->held++;
		nb_fail_hold(sp, e, now);
		return;
	}
	if (e == NULL) {
		if (r->nh_family == NPR_AF_INET && is_subnet_bcast4(sp, r->nh)) {
			drop(sp, m, NPR_SLOW_MCAST_DROP);
			return;
		}
		e = nb_create(sp, r->ifid, r->nh_family, r->nh, now);
		if (e == NULL) {
			drop(sp, m, NPR_SLOW_HOLD_OVERFLOW);
			return;
		}
		nb_hold(sp, e, m);
		e->probes = 1;
		e->deadline = now + sp->conf.retry_ms * MS;
		nb_solicit(sp, e, false);
		return;
	}
	nb_hold(sp, e, m);
}

/* A datagram the router originates (ICMP): routed to dst; link-local IPv6 destinations go
 * out of ifid. */
static void
ip_output(struct slowpath *sp, struct rte_mbuf *m, unsigned family, const uint8_t *dst,
	  unsigned ifid, uint64_t now)
{
	struct cfg_route r;

	m->hash.usr = HOLD_OWN;
	if (family == NPR_AF_INET6 && is_ll6(dst)) {
		memset(&r, 0, sizeof(r));
		r.kind = CFG_RT_FORWARD;
		r.ifid = (uint16_t)ifid;
		r.nh_family = NPR_AF_INET6;
		memcpy(r.nh, dst, 16);
	} else {
		cfg_route_get(sp->conf.cfg, family, dst, fwd_flow_hash(m), &r);
	}
	if (r.kind != CFG_RT_FORWARD || !sp->ifs[r.ifid].up) {
		drop(sp, m, NPR_SLOW_NO_ROUTE_DROP);
		return;
	}
	nb_output(sp, m, &r, now);
}

/* ---------------------------------------------------------------------------------------- */
/* IP parsing */

struct ipinfo {
	unsigned family;
	uint8_t *ip;
	uint32_t len; /* the datagram */
	uint32_t hlen;
	const uint8_t *src, *dst;
	uint8_t proto; /* IPv6: the fixed header's next header */
	uint8_t ttl;
	bool df, frag, first; /* IPv4 */
};

/* 0 if m holds a whole IPv4 or IPv6 datagram (the workers checked it; checked again). */
static int
ip_parse(struct rte_mbuf *m, struct ipinfo *pi)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t l3 = m->data_len >= PKT_ETH_LEN ? m->data_len - PKT_ETH_LEN : 0;
	uint16_t et = m->data_len >= PKT_ETH_LEN ? get16(f + 12) : 0;

	memset(pi, 0, sizeof(*pi));
	pi->ip = f + PKT_ETH_LEN;
	if (et == 0x0800 && l3 >= 20 && (pi->ip[0] >> 4) == 4) {
		pi->family = NPR_AF_INET;
		pi->hlen = (pi->ip[0] & 0xfu) * 4u;
		pi->len = get16(pi->ip + 2);
		if (pi->hlen < 20 || pi->len < pi->hlen || pi->len > l3)
			return -EINVAL;
		uint16_t fr = get16(pi->ip + 6);
		pi->df = (fr & 0x4000) != 0;
		pi->frag = (fr & 0x3fff) != 0;
		pi->first = (fr & 0x1fff) == 0;
		pi->ttl = pi->ip[8];
		pi->proto = pi->ip[9];
		pi->src = pi->ip + 12;
		pi->dst = pi->ip + 16;
		return 0;
	}
	if (et == 0x86dd && l3 >= 40 && (pi->ip[0] >> 4) == 6) {
		pi->family = NPR_AF_INET6;
		pi->hlen = 40;
		pi->len = 40u + get16(pi->ip + 4);
		if (pi->len > l3)
			return -EINVAL;
		pi->first = true;
		pi->proto = pi->ip[6];
		pi->ttl = pi->ip[7];
		pi->src = pi->ip + 8;
		pi->dst = pi->ip + 24;
		return 0;
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------------------------------- */
/* ICMP errors */

/* RFC 1812 4.3.2.7 / RFC 4443 2.4 (e): when no error may be sent about a packet. */
static bool
error_forbidden(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, uint8_t type)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	if (pi->family == NPR_AF_INET) {
		const uint8_t *s = pi->src, *d = pi->dst;
		if (f[0] & 1) /* link-layer broadcast or multicast */
			return true;
		if (d[0] >= 224 || is_subnet_bcast4(sp, d))
			return true;
		if (s[0] == 0 || s[0] == 127 || s[0] >= 224 || is_subnet_bcast4(sp, s))
			return true;
		if (!pi->first) /* only about the first fragment */
			return true;
		if (pi->proto == 1) {
			if (pi->len < pi->hlen + 1)
				return true;
			uint8_t t = pi->ip[pi->hlen];
			/* errors (and unknown types) get no error back; queries do */
			if (!(t == 0 || t == 8 || (t >= 13 && t <= 18)))
				return true;
		}
		return false;
	}
	/* packet too big may answer multicast (RFC 4443 2.4 (e.3)) */
	if (type != ICMP6_TOO_BIG && ((f[0] & 1) || pi->dst[0] == 0xff))
		return true;
	if (pi->src[0] == 0xff || memcmp(pi->src, ZERO16, 16) == 0)
		return true;
	if (pi->proto == 58) {
		if (pi->len < 41)
			return true;
		if (pi->ip[40] < 128) /* an error message */
			return true;
	}
	return false;
}

/* Send an ICMP error about m (from interface ifid) and free m. */
static void
icmp_error(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint8_t type, uint8_t code,
	   uint32_t rest, unsigned counter, uint64_t now)
{
	struct ipinfo pi;
	uint8_t src[16] = { 0 }, dst[16] = { 0 }, *ip;
	size_t cap, len;

	if (ip_parse(m, &pi) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP);
		return;
	}
	if (error_forbidden(sp, m, &pi, type)) {
		drop(sp, m, NPR_SLOW_ICMP_SUPPRESSED);
		return;
	}
	if (!bucket_take(sp, now)) {
		drop(sp, m, NPR_SLOW_ICMP_RATELIMITED);
		return;
	}
	memcpy(dst, pi.src, alen(pi.family));
	/* the source: an address of the interface the packet came in on */
	if (cfg_addr_pick(sp->conf.cfg, ifid, pi.family, dst, src) < 0) {
		/* none there: any of the router's, else (IPv6) the link-local one */
		bool found = false;
		for (unsigned i = 0; i < sp->n_addr && !found; i++) {
			const struct cfg_addr *a = &sp->addr[i];
			if (a->family == pi.family && (a->family == NPR_AF_INET || !is_ll6(a->a))) {
				memcpy(src, a->a, 16);
				found = true;
			}
		}
		if (!found && pi.family == NPR_AF_INET6) {
			memcpy(src, sp->ifs[ifid].ll, 16);
			found = true;
		}
		if (!found) {
			drop(sp, m, NPR_SLOW_NO_ROUTE_DROP);
			return;
		}
	}
	struct rte_mbuf *n = frame_new(sp, &ip, &cap);
	if (n == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	if (pi.family == NPR_AF_INET)
		len = icmp4_error(ip, cap, src, dst, type, code, rest, pi.ip, pi.len, sp->ip_id++);
	else
		len = icmp6_error(ip, cap, src, dst, type, code, rest, pi.ip, pi.len);
	rte_pktmbuf_free(m);
	if (len == 0) {
		drop(sp, n, NPR_SLOW_NOMBUF);
		return;
	}
	frame_done(n, len, pi.family == NPR_AF_INET ? 0x0800 : 0x86dd);
	sp->cnt[counter]++;
	ip_output(sp, n, pi.family, dst, ifid, now);
}

static void
icmp_unreach(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned family, unsigned kind,
	     uint64_t now)
{
	uint8_t t = family == NPR_AF_INET ? ICMP4_UNREACH : ICMP6_UNREACH, c;

	switch (kind) {
	case NPR_EXC_PROHIBIT:
		c = family == NPR_AF_INET ? ICMP4_ADMIN_PROHIB : ICMP6_ADMIN_PROHIB;
		break;
	case NPR_EXC_UNREACHABLE:
		c = family == NPR_AF_INET ? ICMP4_HOST_UNREACH : ICMP6_NO_ROUTE;
		break;
	default: /* no route */
		c = family == NPR_AF_INET ? ICMP4_NET_UNREACH : ICMP6_NO_ROUTE;
		break;
	}
	icmp_error(sp, m, ifid, t, c, 0, NPR_SLOW_ICMP_UNREACH_TX, now);
}

static void
icmp_time_exceeded(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned family,
		   uint64_t now)
{
	icmp_error(sp, m, ifid, family == NPR_AF_INET ? ICMP4_TIME_EXCEEDED : ICMP6_TIME_EXCEEDED,
		   0, 0, NPR_SLOW_ICMP_TTL_TX, now);
}

/* ---------------------------------------------------------------------------------------- */
/* forwarding (next hop unresolved, too big) */

/* IPv4 without DF over a smaller MTU: fragments, each sent like the original would be. */
static void
fragment4(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi,
	  const struct cfg_route *r, uint64_t now)
{
	size_t hl_first = pi->hlen, hl_rest = ip4_frag_hlen(pi->ip);
	size_t payload = pi->len - pi->hlen, off = 0;

	if (r->mtu < hl_first + 8 || r->mtu < hl_rest + 8) {
		drop(sp, m, NPR_SLOW_NO_ROUTE_DROP);
		return;
	}
	bool mf = (get16(pi->ip + 6) & 0x2000) != 0;
	while (off < payload) {
		size_t hl = off == 0 ? hl_first : hl_rest;
		size_t n = payload - off;
		if (hl + n > r->mtu)
			n = (r->mtu - hl) & ~(size_t)7;
		uint8_t *ip;
		size_t cap;
		struct rte_mbuf *fm = frame_new(sp, &ip, &cap);
		if (fm == NULL)
			break;
		size_t len =
			ip4_fragment(ip, cap, pi->ip, pi->len, off, n, off + n < payload || mf);
		if (len == 0) {
			drop(sp, fm, NPR_SLOW_NOMBUF);
			break;
		}
		frame_done(fm, len, 0x0800);
		fm->port = m->port;
		fm->hash.usr = HOLD_FWD;
		CNT(sp, FRAG_TX);
		nb_output(sp, fm, r, now);
		off += n;
	}
	rte_pktmbuf_free(m);
}

/* A packet the workers could not forward by themselves: route it again (the tables may
 * have changed) and send it, queue it, fragment it or answer with an ICMP error. */
static void sp_forward(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now);

static void ip4_local(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now);
static void ip6_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, bool mcast,
		      uint64_t now);

static void
sp_forward(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now)
{
	struct ipinfo pi;
	struct cfg_route r;

	if (ip_parse(m, &pi) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP);
		return;
	}
	cfg_route_get(sp->conf.cfg, pi.family, pi.dst, fwd_flow_hash(m), &r);
	switch (r.kind) {
	case CFG_RT_NONE:
		icmp_unreach(sp, m, ifid, pi.family, NPR_EXC_NO_ROUTE, now);
		return;
	case CFG_RT_UNREACHABLE:
		icmp_unreach(sp, m, ifid, pi.family, NPR_EXC_UNREACHABLE, now);
		return;
	case CFG_RT_PROHIBIT:
		icmp_unreach(sp, m, ifid, pi.family, NPR_EXC_PROHIBIT, now);
		return;
	case CFG_RT_LOCAL:
		if (pi.family == NPR_AF_INET)
			ip4_local(sp, m, ifid, now);
		else
			ip6_input(sp, m, ifid, false, now);
		return;
	case CFG_RT_FORWARD:
		break;
	case CFG_RT_DOWN:
		drop(sp, m, NPR_SLOW_IFACE_DOWN_DROP);
		return;
	default: /* blackhole, not programmed */
		drop(sp, m, NPR_SLOW_NO_ROUTE_DROP);
		return;
	}
	if (!sp->ifs[r.ifid].up) {
		drop(sp, m, NPR_SLOW_IFACE_DOWN_DROP);
		return;
	}
	if (pi.ttl <= 1) {
		icmp_time_exceeded(sp, m, ifid, pi.family, now);
		return;
	}
	if (pi.family == NPR_AF_INET && is_subnet_bcast4(sp, pi.dst)) {
		drop(sp, m, NPR_SLOW_MCAST_DROP); /* directed broadcast: not forwarded */
		return;
	}
	if (r.mtu != 0 && pi.len > r.mtu) {
		if (pi.family == NPR_AF_INET6) {
			icmp_error(sp, m, ifid, ICMP6_TOO_BIG, 0, r.mtu, NPR_SLOW_ICMP_TOOBIG_TX,
				   now);
			return;
		}
		if (pi.df) {
			icmp_error(sp, m, ifid, ICMP4_UNREACH, ICMP4_FRAG_NEEDED, r.mtu,
				   NPR_SLOW_ICMP_TOOBIG_TX, now);
			return;
		}
		pkt_ip4_ttl_dec(pi.ip);
		fragment4(sp, m, &pi, &r, now);
		return;
	}
	if (pi.family == NPR_AF_INET)
		pkt_ip4_ttl_dec(pi.ip);
	else
		pkt_ip6_hlim_dec(pi.ip);
	CNT(sp, SLOW_FWD);
	m->hash.usr = HOLD_FWD;
	nb_output(sp, m, &r, now);
}

/* ---------------------------------------------------------------------------------------- */
/* ARP */

static void
arp_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *a = f + PKT_ETH_LEN;
	uint8_t spa[16] = { 0 }, tpa[16] = { 0 }, sha[6];

	if (m->data_len < PKT_ETH_LEN + 28 || get16(f + 12) != 0x0806 || get16(a) != 1 ||
	    get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
	    (get16(a + 6) != 1 && get16(a + 6) != 2)) {
		drop(sp, m, NPR_SLOW_ARP_BAD);
		return;
	}
	unsigned op = get16(a + 6);
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	memcpy(tpa, a + 24, 4);
	if ((sha[0] & 1) || memcmp(sha, ZERO16, 6) == 0) {
		drop(sp, m, NPR_SLOW_ARP_BAD);
		return;
	}
	CNT(sp, ARP_RX);
	bool for_us = ours_on(sp, ifid, NPR_AF_INET, tpa);
	/* RFC 826: update an entry we have; add the sender when it asks for us (it is about to
	 * talk to us) and is on our subnet. A sender claiming our own address is not learnt. */
	if (memcmp(spa, ZERO16, 4) != 0 && cfg_addr_local(sp->conf.cfg, NPR_AF_INET, spa) < 0 &&
	    !is_subnet_bcast4(sp, spa))
		nb_learn(sp, ifid, NPR_AF_INET, spa, sha,
			 for_us && on_subnet(sp, ifid, NPR_AF_INET, spa), now);
	if (op != 1) {
		rte_pktmbuf_free(m);
		return;
	}
	if (!for_us) {
		drop(sp, m, NPR_SLOW_ARP_NOT_OURS);
		return;
	}
	/* the reply: re-use the request's mbuf */
	uint8_t *r = rte_pktmbuf_mtod(m, uint8_t *) + PKT_ETH_LEN;
	arp_build(r, 2, sp->ifs[ifid].mac, tpa, sha, spa);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (PKT_ETH_LEN + 28)));
	if_send(sp, m, ifid, sha);
	CNT(sp, ARP_REPLY_TX);
}

/* ---------------------------------------------------------------------------------------- */
/* IPv6: neighbour discovery, echo, port unreachable */

/* The link-layer address option of type `type` in ND options [p, p + n), or NULL; -1 in *bad
 * if an option is malformed (RFC 4861 4.6: length 0). */
static const uint8_t *
nd_opt(const uint8_t *p, uint32_t n, uint8_t type, bool *bad)
{
	const uint8_t *found = NULL;

	while (n >= 2) {
		uint32_t l = p[1] * 8u;
		if (l == 0 || l > n) {
			*bad = true;
			return NULL;
		}
		if (p[0] == type && l >= 8)
			found = p + 2;
		p += l;
		n -= l;
	}
	return found;
}

static void
nd_ns_input(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, unsigned ifid,
	    uint64_t now)
{
	const uint8_t *icmp = pi->ip + 40, *target = icmp + 8;
	uint32_t ilen = pi->len - 40;
	bool bad = false, dad = memcmp(pi->src, ZERO16, 16) == 0;
	uint8_t smc[16];

	const uint8_t *sll = nd_opt(icmp + 24, ilen - 24, ND_OPT_SLLA, &bad);
	nd_solicited_node(smc, target);
	/* RFC 4861 7.1.1 (hop limit and code checked by the caller) */
	if (bad || target[0] == 0xff || (dad && (sll != NULL || memcmp(pi->dst, smc, 16) != 0))) {
		drop(sp, m, NPR_SLOW_ND_BAD);
		return;
	}
	CNT(sp, ND_RX);
	if (!ours_on(sp, ifid, NPR_AF_INET6, target)) {
		rte_pktmbuf_free(m);
		return;
	}
	uint8_t sender[16], dst[16], dmac[6], tgt[16];
	memcpy(sender, pi->src, 16);
	memcpy(tgt, target, 16);
	if (dad) {
		memcpy(dst, ALL_NODES, 16);
		ip6_mcast_mac(dmac, dst);
	} else {
		memcpy(dst, sender, 16);
		/* reply to the option's address, else to the frame's source */
		memcpy(dmac, sll != NULL ? sll : rte_pktmbuf_mtod(m, uint8_t *) + 6, 6);
		if (sll != NULL && on_subnet(sp, ifid, NPR_AF_INET6, sender))
			nb_learn(sp, ifid, NPR_AF_INET6, sender, sll, true, now);
	}
	rte_pktmbuf_free(m);
	uint8_t *ip;
	size_t cap;
	struct rte_mbuf *n = frame_new(sp, &ip, &cap);
	if (n == NULL)
		return;
	uint32_t flags = ND_NA_ROUTER | ND_NA_OVERRIDE | (dad ? 0 : ND_NA_SOLICITED);
	frame_done(n, nd_na(ip, tgt, dst, tgt, flags, sp->ifs[ifid].mac), 0x86dd);
	if_send(sp, n, ifid, dmac);
	CNT(sp, NA_TX);
}

static void
nd_na_input(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, unsigned ifid,
	    uint64_t now)
{
	const uint8_t *icmp = pi->ip + 40, *target = icmp + 8;
	uint32_t ilen = pi->len - 40, flags = (uint32_t)get16(icmp + 4) << 16 | get16(icmp + 6);
	bool bad = false;

	const uint8_t *tll = nd_opt(icmp + 24, ilen - 24, ND_OPT_TLLA, &bad);
	if (bad || target[0] == 0xff || (pi->dst[0] == 0xff && (flags & ND_NA_SOLICITED)) ||
	    ours_on(sp, ifid, NPR_AF_INET6, target)) {
		drop(sp, m, NPR_SLOW_ND_BAD);
		return;
	}
	CNT(sp, ND_RX);
	struct sp_nb *e = nb_lookup(sp, ifid, NPR_AF_INET6, target);
	if (e != NULL) {
		if (tll != NULL && (e->state == NB_INCOMPLETE || e->state == NB_FAILED ||
				    (flags & ND_NA_OVERRIDE) || memcmp(tll, e->mac, 6) == 0)) {
			uint8_t mac[6], t[16];
			memcpy(mac, tll, 6);
			memcpy(t, target, 16);
			nb_learn(sp, ifid, NPR_AF_INET6, t, mac, false, now);
		} else if (tll == NULL && (flags & ND_NA_SOLICITED) &&
			   (e->state == NB_REACHABLE || e->state == NB_PROBE)) {
			e->state = NB_REACHABLE; /* confirmed, same MAC */
			e->probes = 0;
			e->deadline = now + sp->conf.reachable_ms * MS;
		}
	}
	rte_pktmbuf_free(m);
}

static void
echo_reply(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, unsigned ifid,
	   uint64_t now)
{
	uint8_t src[16] = { 0 }, dst[16] = { 0 }, *ip;
	size_t cap, len;
	unsigned al = alen(pi->family);

	CNT(sp, ECHO_RX);
	memcpy(src, pi->src, al);
	memcpy(dst, pi->dst, al);
	struct rte_mbuf *n = frame_new(sp, &ip, &cap);
	if (n == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	if (pi->family == NPR_AF_INET)
		len = icmp4_echo_reply(ip, cap, src, dst, pi->ip + pi->hlen, pi->len - pi->hlen,
				       sp->ip_id++);
	else
		len = icmp6_echo_reply(ip, cap, src, dst, pi->ip + 40, pi->len - 40);
	rte_pktmbuf_free(m);
	if (len == 0) {
		drop(sp, n, NPR_SLOW_NOMBUF);
		return;
	}
	frame_done(n, len, pi->family == NPR_AF_INET ? 0x0800 : 0x86dd);
	CNT(sp, ECHO_TX);
	ip_output(sp, n, pi->family, src, ifid, now);
}

/* IPv6 to the router (unicast) or to a group on the link (mcast). */
static void
ip6_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, bool mcast, uint64_t now)
{
	struct ipinfo pi;

	if (ip_parse(m, &pi) < 0 || pi.family != NPR_AF_INET6) {
		drop(sp, m, mcast ? NPR_SLOW_MCAST_DROP : NPR_SLOW_LOCAL_DROP);
		return;
	}
	unsigned nodrop = mcast ? NPR_SLOW_MCAST_DROP : NPR_SLOW_LOCAL_DROP;
	if (!mcast && !ours_on(sp, ifid, NPR_AF_INET6, pi.dst) &&
	    cfg_addr_local(sp->conf.cfg, NPR_AF_INET6, pi.dst) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP); /* someone else's link-local address */
		return;
	}
	if (pi.proto == 17 && !mcast) {
		icmp_error(sp, m, ifid, ICMP6_UNREACH, ICMP6_PORT_UNREACH, 0,
			   NPR_SLOW_ICMP_UNREACH_TX, now);
		return;
	}
	if (pi.proto != 58 || pi.len < 48) {
		drop(sp, m, nodrop);
		return;
	}
	const uint8_t *icmp = pi.ip + 40;
	uint8_t type = icmp[0];
	if (type == ICMP6_NS || type == ICMP6_NA) {
		if (pi.ttl != 255 || icmp[1] != 0 || pi.len < 40 + 24 ||
		    icmp6_check(pi.src, pi.dst, icmp, pi.len - 40) != 0) {
			drop(sp, m, NPR_SLOW_ND_BAD);
			return;
		}
		if (type == ICMP6_NS)
			nd_ns_input(sp, m, &pi, ifid, now);
		else
			nd_na_input(sp, m, &pi, ifid, now);
		return;
	}
	if (type == ICMP6_ECHO && !mcast && icmp[1] == 0 &&
	    icmp6_check(pi.src, pi.dst, icmp, pi.len - 40) == 0 && pi.src[0] != 0xff &&
	    memcmp(pi.src, ZERO16, 16) != 0) {
		echo_reply(sp, m, &pi, ifid, now);
		return;
	}
	drop(sp, m, nodrop); /* RS, RA, MLD, redirects, errors to us... */
}

/* IPv4 to one of the router's addresses. */
static void
ip4_local(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now)
{
	struct ipinfo pi;

	if (ip_parse(m, &pi) < 0 || pi.family != NPR_AF_INET || pi.frag ||
	    cfg_addr_local(sp->conf.cfg, NPR_AF_INET, pi.dst) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP); /* fragments to us are not reassembled */
		return;
	}
	if (pi.proto == 17) {
		icmp_error(sp, m, ifid, ICMP4_UNREACH, ICMP4_PORT_UNREACH, 0,
			   NPR_SLOW_ICMP_UNREACH_TX, now);
		return;
	}
	const uint8_t *icmp = pi.ip + pi.hlen;
	uint32_t ilen = pi.len - pi.hlen;
	if (pi.proto == 1 && ilen >= 8 && icmp[0] == ICMP4_ECHO && icmp[1] == 0 &&
	    icmp_fold(icmp_sum(icmp, ilen, 0)) == 0) {
		echo_reply(sp, m, &pi, ifid, now);
		return;
	}
	drop(sp, m, NPR_SLOW_LOCAL_DROP);
}

/* ---------------------------------------------------------------------------------------- */
/* configuration changes */

static void
announce(struct slowpath *sp, const struct cfg_addr *a)
{
	const struct sp_if *ifc = &sp->ifs[a->ifid];
	uint8_t *ip, dmac[6];
	size_t cap;

	if (a->family == NPR_AF_INET6 && is_ll6(a->a))
		return;
	struct rte_mbuf *m = frame_new(sp, &ip, &cap);
	if (m == NULL)
		return;
	if (a->family == NPR_AF_INET) {
		/* gratuitous ARP: a request for our own address, to everyone */
		arp_build(ip, 1, ifc->mac, a->a, NULL, a->a);
		frame_done(m, 28, 0x0806);
		if_send(sp, m, a->ifid, BCAST);
		CNT(sp, ARP_GRATUITOUS_TX);
		return;
	}
	/* unsolicited advertisement to all nodes (RFC 4861 7.2.6) */
	ip6_mcast_mac(dmac, ALL_NODES);
	frame_done(m, nd_na(ip, a->a, ALL_NODES, a->a, ND_NA_ROUTER | ND_NA_OVERRIDE, ifc->mac),
		   0x86dd);
	if_send(sp, m, a->ifid, dmac);
	CNT(sp, NA_TX);
}

static bool
addr_in(const struct cfg_addr *list, unsigned n, const struct cfg_addr *a)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].ifid == a->ifid && list[i].family == a->family &&
		    list[i].plen == a->plen && memcmp(list[i].a, a->a, 16) == 0)
			return true;
	return false;
}

/* Re-read interfaces and addresses after a change: announce addresses that came up; flush
 * neighbours of interfaces that went down and of subnets that went away; drop entries that
 * cfg no longer has (deleted or made static by the control process). */
static void
sp_sync(struct slowpath *sp, uint64_t now)
{
	struct cfg *c = sp->conf.cfg;
	uint64_t v = cfg_version(c);

	if (sp->synced && v == sp->version)
		return;
	struct sp_if old[NPR_MAX_IFACES];
	memcpy(old, sp->ifs, sizeof(old));
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++) {
		struct cfg_iface ci;
		struct sp_if *x = &sp->ifs[i];
		memset(x, 0, sizeof(*x));
		if (cfg_iface_get(c, i, &ci) < 0)
			continue;
		x->used = true;
		x->up = ci.up;
		x->port = ci.port_id;
		x->mtu = ci.mtu;
		memcpy(x->mac, ci.mac, 6);
		ip6_ll_from_mac(x->ll, ci.mac);
	}
	unsigned n = cfg_addrs(c, sp->addr_new, NPR_MAX_IFACES * 4u);
	if (n > NPR_MAX_IFACES * 4u)
		n = NPR_MAX_IFACES * 4u;
	/* announce: addresses on an up interface that were not (address new, interface just
	 * up, or its MAC changed) */
	for (unsigned i = 0; i < n; i++) {
		const struct cfg_addr *a = &sp->addr_new[i];
		const struct sp_if *x = &sp->ifs[a->ifid], *o = &old[a->ifid];
		bool was = sp->synced && o->up && memcmp(o->mac, x->mac, 6) == 0 &&
			   addr_in(sp->addr, sp->n_addr, a);
		if (x->up && !was)
			announce(sp, a);
	}
	struct cfg_addr *t = sp->addr;
	unsigned n_old = sp->n_addr;
	sp->addr = sp->addr_new;
	sp->addr_new = t;
	sp->n_addr = n;
	sp->version = v;
	sp->synced = true;
	/* neighbours: walk backwards, entries may go */
	for (uint32_t i = sp->n_used; i-- > 0;) {
		struct sp_nb *e = &sp->nb[sp->used[i]];
		const struct sp_if *x = &sp->ifs[e->ifid];
		bool learnt = false, gone = false;
		if (e->state == NB_GONE)
			continue;
		if (!x->used || !x->up || x->port != old[e->ifid].port) {
			nb_forget(sp, e, NPR_SLOW_NEIGH_FLUSHED, now);
			continue;
		}
		/* its subnet went away with an address (and no other covers it) */
		for (unsigned k = 0; k < n_old && !gone; k++) {
			const struct cfg_addr *a = &t[k];
			gone = a->ifid == e->ifid && a->family == e->family &&
			       prefix_eq(a->a, e->addr, a->plen) &&
			       !addr_in(sp->addr, sp->n_addr, a) &&
			       !on_subnet(sp, e->ifid, e->family, e->addr);
		}
		if (gone) {
			nb_forget(sp, e, NPR_SLOW_NEIGH_FLUSHED, now);
			continue;
		}
		if (!e->published)
			continue;
		if (cfg_neigh_get(c, e->ifid, e->family, e->addr, NULL, &learnt) < 0 || !learnt) {
			/* deleted, or configured now: not ours to age any more */
			nb_fail_hold(sp, e, now);
			nb_delete(sp, e);
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* entry points */

void
sp_input(struct slowpath *sp, struct rte_mbuf *m, uint64_t now)
{
	unsigned reason = fwd_exc_reason(m);
	int ifid;

	sp_sync(sp, now);
	ifid = m->port < NPR_MAX_PORTS ? cfg_iface_by_port(sp->conf.cfg, m->port) : -ENOENT;
	if (ifid < 0 || !sp->ifs[ifid].up) {
		drop(sp, m, NPR_SLOW_IFACE_DOWN_DROP);
		return;
	}
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) < 0) {
		drop(sp, m, NPR_SLOW_NOMBUF);
		return;
	}
	if (reason == NPR_EXC_ARP) {
		arp_input(sp, m, (unsigned)ifid, now);
		return;
	}
	uint16_t et = m->data_len >= PKT_ETH_LEN ? get16(rte_pktmbuf_mtod(m, uint8_t *) + 12) : 0;
	bool v6 = et == 0x86dd;
	if (et != 0x0800 && !v6) {
		drop(sp, m,
		     reason == NPR_EXC_L2_MULTICAST ? NPR_SLOW_MCAST_DROP : NPR_SLOW_LOCAL_DROP);
		return;
	}
	switch (reason) {
	case NPR_EXC_L2_MULTICAST:
		if (v6)
			ip6_input(sp, m, (unsigned)ifid, true, now);
		else
			drop(sp, m, NPR_SLOW_MCAST_DROP);
		return;
	case NPR_EXC_LOCAL:
		if (v6)
			ip6_input(sp, m, (unsigned)ifid, false, now);
		else
			ip4_local(sp, m, (unsigned)ifid, now);
		return;
	case NPR_EXC_TTL_EXPIRED:
		icmp_time_exceeded(sp, m, (unsigned)ifid, v6 ? NPR_AF_INET6 : NPR_AF_INET, now);
		return;
	case NPR_EXC_NO_ROUTE:
	case NPR_EXC_UNREACHABLE:
	case NPR_EXC_PROHIBIT:
		icmp_unreach(sp, m, (unsigned)ifid, v6 ? NPR_AF_INET6 : NPR_AF_INET, reason, now);
		return;
	case NPR_EXC_UNRESOLVED:
	case NPR_EXC_TOO_BIG:
		sp_forward(sp, m, (unsigned)ifid, now);
		return;
	default:
		drop(sp, m, NPR_SLOW_LOCAL_DROP);
	}
}

void
sp_periodic(struct slowpath *sp, uint64_t now)
{
	sp_sync(sp, now);
	if (sp->ticked && now < sp->last_tick + SP_TICK_NS)
		return;
	sp->ticked = true;
	sp->last_tick = now;
	for (uint32_t i = sp->n_used; i-- > 0;) {
		struct sp_nb *e = &sp->nb[sp->used[i]];
		if ((e->state == NB_REACHABLE || e->state == NB_PROBE) && !e->published)
			e->published = cfg_neigh_learn(sp->conf.cfg, e->ifid, e->family, e->addr,
						       e->mac) == 0;
		if (now < e->deadline)
			continue;
		switch (e->state) {
		case NB_INCOMPLETE:
			if (e->probes < sp->conf.retries) {
				nb_solicit(sp, e, false);
				e->probes++;
				e->deadline = now + sp->conf.retry_ms * MS;
				break;
			}
			CNT(sp, NEIGH_FAILED);
			e->state = NB_FAILED; /* new packets fail at once for a while */
			e->deadline = now + sp->conf.retry_ms * MS;
			nb_fail_hold(sp, e, now);
			break;
		case NB_REACHABLE:
			e->state = NB_PROBE;
			e->probes = 0;
			/* fall through */
		case NB_PROBE:
			if (e->probes < sp->conf.retries) {
				nb_solicit(sp, e, true);
				e->probes++;
				e->deadline = now + sp->conf.retry_ms * MS;
				break;
			}
			if (e->published &&
			    cfg_neigh_forget(sp->conf.cfg, e->ifid, e->family, e->addr) == -EAGAIN)
				break; /* a batch is open: next tick */
			e->published = 0;
			nb_forget(sp, e, NPR_SLOW_NEIGH_EXPIRED, now);
			break;
		case NB_FAILED:
			nb_delete(sp, e);
			break;
		case NB_GONE:
			if (cfg_neigh_forget(sp->conf.cfg, e->ifid, e->family, e->addr) != -EAGAIN)
				nb_delete(sp, e);
			break;
		}
	}
}

void
sp_counters(const struct slowpath *sp, uint64_t *out)
{
	memcpy(out, sp->cnt, sizeof(sp->cnt));
}

struct slowpath *
sp_create(const struct sp_conf *conf)
{
	struct slowpath *sp;

	if (conf == NULL || conf->cfg == NULL || conf->pool == NULL || conf->tx == NULL ||
	    conf->hold_max > SP_HOLD_CAP) {
		errno = EINVAL;
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return NULL;
	sp->conf = *conf;
	struct sp_conf *c = &sp->conf;
	c->icmp_rate = c->icmp_rate != 0 ? c->icmp_rate : 100;
	c->icmp_burst = c->icmp_burst != 0 ? c->icmp_burst : 50;
	c->retry_ms = c->retry_ms != 0 ? c->retry_ms : 1000;
	c->retries = c->retries != 0 ? c->retries : 3;
	c->reachable_ms = c->reachable_ms != 0 ? c->reachable_ms : 30000;
	c->hold_max = c->hold_max != 0 ? c->hold_max : 16;
	c->neigh_max = c->neigh_max != 0 ? c->neigh_max : 4096;
	sp->cost = 1000000000ull / c->icmp_rate;
	if (sp->cost == 0)
		sp->cost = 1;
	sp->depth = sp->cost * c->icmp_burst;
	sp->credit = sp->depth;

	sp->nb_max = c->neigh_max;
	uint32_t nbk = 1;
	while (nbk < sp->nb_max)
		nbk <<= 1;
	sp->bucket_mask = nbk - 1;
	sp->nb = calloc(sp->nb_max, sizeof(*sp->nb));
	sp->bucket = calloc(nbk, sizeof(*sp->bucket));
	sp->used = calloc(sp->nb_max, sizeof(*sp->used));
	sp->freel = calloc(sp->nb_max, sizeof(*sp->freel));
	sp->hold_mem = calloc((size_t)sp->nb_max * c->hold_max, sizeof(*sp->hold_mem));
	sp->addr = calloc(NPR_MAX_IFACES * 4u, sizeof(*sp->addr));
	sp->addr_new = calloc(NPR_MAX_IFACES * 4u, sizeof(*sp->addr_new));
	if (sp->nb == NULL || sp->bucket == NULL || sp->used == NULL || sp->freel == NULL ||
	    sp->hold_mem == NULL || sp->addr == NULL || sp->addr_new == NULL) {
		sp_free(sp);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < sp->nb_max; i++) {
		sp->nb[i].hold = sp->hold_mem + (size_t)i * c->hold_max;
		sp->freel[sp->n_free++] = sp->nb_max - 1 - i;
	}
	return sp;
}

void
sp_free(struct slowpath *sp)
{
	if (sp == NULL)
		return;
	for (uint32_t i = 0; sp->nb != NULL && sp->used != NULL && i < sp->n_used; i++) {
		struct sp_nb *e = &sp->nb[sp->used[i]];
		for (unsigned k = 0; k < e->n_hold; k++)
			rte_pktmbuf_free(e->hold[k]);
	}
	free(sp->nb);
	free(sp->bucket);
	free(sp->used);
	free(sp->freel);
	free(sp->hold_mem);
	free(sp->addr);
	free(sp->addr_new);
	free(sp);
}
