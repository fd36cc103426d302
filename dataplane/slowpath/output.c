/* SPDX-License-Identifier: BSD-3-Clause */
/* What the slow path sends: the neighbour cache and its resolution (ARP/ND requests, hold
 * queues), routed output, ICMP errors (layer 3, sp_int.h). The two call each other: a
 * failed resolution sends host-unreachable errors, which are routed like any output. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "icmp.h"
#include "pkt.h"
#include "sp_int.h"

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

struct sp_nb *
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

struct sp_nb *
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
	sp->unres[ifid]++;
	e->deadline = now;
	e->next = *b;
	*b = idx + 1;
	e->pos = sp->n_used;
	sp->used[sp->n_used++] = idx;
	return e;
}

/* The entry's queue must be empty. */
void
nb_delete(struct slowpath *sp, struct sp_nb *e)
{
	uint32_t idx = (uint32_t)(e - sp->nb), *p;
	uint32_t last = sp->used[--sp->n_used];

	if (e->state == NB_INCOMPLETE || e->state == NB_FAILED)
		sp->unres[e->ifid]--;
	for (p = &sp->bucket[nb_hash(e->ifid, e->family, e->addr) & sp->bucket_mask]; *p != idx + 1;
	     p = &sp->nb[*p - 1].next)
		;
	*p = e->next;
	sp->used[e->pos] = last;
	sp->nb[last].pos = e->pos;
	e->state = NB_FREE;
	sp->freel[sp->n_free++] = idx;
}

static bool too_big(struct slowpath *sp, struct rte_mbuf *m, const struct cfg_route *r,
		    uint64_t now);

/* Send what waits for e to mac, but not beyond the interface's MTU, which may have shrunk
 * meanwhile (too_big). */
static void
nb_flush_hold(struct slowpath *sp, struct sp_nb *e, const uint8_t *mac, uint64_t now)
{
	struct rte_mbuf *q[SP_HOLD_CAP];
	unsigned n = e->n_hold;
	struct cfg_route r = { .kind = CFG_RT_FORWARD, .ifid = e->ifid, .has_mac = true };

	/* out of the entry first: errors about what is too big may be routed through it */
	memcpy(q, e->hold, n * sizeof(q[0]));
	sp->held -= n;
	sp->held_if[e->ifid] -= n;
	e->n_hold = 0;
	memcpy(r.mac, mac, 6);
	for (unsigned i = 0; i < n; i++) {
		if (too_big(sp, q[i], &r, now))
			continue;
		if_send(sp, q[i], e->ifid, mac);
		CNT(sp, HOLD_SENT);
	}
}

/* Drop what waits for e; about forwarded packets, "host unreachable" (RFC 1812 4.3.3.1). */
void
nb_fail_hold(struct slowpath *sp, struct sp_nb *e, uint64_t now)
{
	struct rte_mbuf *q[SP_HOLD_CAP];
	unsigned n = e->n_hold;

	/* out of the entry first: the errors are routed, maybe through this very entry */
	memcpy(q, e->hold, n * sizeof(q[0]));
	sp->held -= n;
	sp->held_if[e->ifid] -= n;
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
	if (e->n_hold == sp->conf.hold_max || sp->held == SP_HOLD_TOTAL ||
	    sp->held_if[e->ifid] >= SP_HOLD_IF) {
		if (e->n_hold == 0) {
			drop(sp, m, NPR_SLOW_HOLD_OVERFLOW);
			return;
		}
		/* the oldest goes: the newest packets are the ones worth sending */
		drop(sp, e->hold[0], NPR_SLOW_HOLD_OVERFLOW);
		memmove(e->hold, e->hold + 1, (e->n_hold - 1) * sizeof(e->hold[0]));
		e->n_hold--;
		sp->held--;
		sp->held_if[e->ifid]--;
	}
	e->hold[e->n_hold++] = m;
	sp->held++;
	sp->held_if[e->ifid]++;
	CNT(sp, HOLD_QUEUED);
}

/* ARP request or neighbour solicitation for e: to its MAC (refresh) or to everyone. */
void
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
void
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
	if (e->state == NB_INCOMPLETE || e->state == NB_FAILED)
		sp->unres[e->ifid]--;
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
			nb_flush_hold(sp, e, smac, now);
		nb_fail_hold(sp, e, now);
		nb_delete(sp, e);
		return;
	}
	nb_flush_hold(sp, e, e->mac, now);
}

/* Forget a learnt neighbour (here and in cfg) and what waited for it. */
void
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

/* IPv4 without DF over a smaller MTU (r->mtu): fragments, each sent like the original would
 * be. */
void
fragment4(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi,
	  const struct cfg_route *r, unsigned kind, uint64_t now)
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
		fm->hash.usr = kind;
		CNT(sp, FRAG_TX);
		nb_output(sp, fm, r, now);
		off += n;
	}
	rte_pktmbuf_free(m);
}

/*
 * Whether m's datagram is larger than the MTU of r's interface now, and then what sp_forward
 * does with one (a forwarded packet's TTL is already decremented): IPv4 without DF goes in
 * fragments along r; about a forwarded packet otherwise, "fragmentation needed" or "packet
 * too big"; the router's own datagrams are dropped (it does not fragment IPv6). The workers
 * and sp_forward check the MTU of what they send, but a datagram the router builds (an echo
 * reply as large as the request, to a source routed out of another interface) or one that
 * waited for its neighbour while the MTU shrank gets here unchecked.
 */
static bool
too_big(struct slowpath *sp, struct rte_mbuf *m, const struct cfg_route *r, uint64_t now)
{
	struct ipinfo pi;
	uint16_t mtu = sp->ifs[r->ifid].mtu;

	if (mtu == 0 || ip_parse(m, &pi) < 0 || pi.len <= mtu)
		return false;
	struct cfg_route fr = *r;
	fr.mtu = mtu;
	if (pi.family == NPR_AF_INET && !pi.df) {
		fragment4(sp, m, &pi, &fr, m->hash.usr, now);
		return true;
	}
	int in = m->hash.usr == HOLD_FWD && m->port < NPR_MAX_PORTS
			 ? cfg_iface_by_port(sp->conf.cfg, m->port)
			 : -1;
	if (in < 0)
		drop(sp, m, NPR_SLOW_NO_ROUTE_DROP);
	else if (pi.family == NPR_AF_INET)
		icmp_error(sp, m, (unsigned)in, ICMP4_UNREACH, ICMP4_FRAG_NEEDED, mtu,
			   NPR_SLOW_ICMP_TOOBIG_TX, now);
	else
		icmp_error(sp, m, (unsigned)in, ICMP6_TOO_BIG, 0, mtu, NPR_SLOW_ICMP_TOOBIG_TX,
			   now);
	return true;
}

/* Send m (frame with room for Ethernet, IP datagram after it) along route r: to its MAC, a
 * known neighbour, or queued while the next hop is resolved; not beyond the MTU (too_big). */
void
nb_output(struct slowpath *sp, struct rte_mbuf *m, const struct cfg_route *r, uint64_t now)
{
	uint8_t mac[6];
	struct sp_nb *e;

	if (too_big(sp, m, r, now))
		return;
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
		sp->held_if[e->ifid]++;
		nb_fail_hold(sp, e, now);
		return;
	}
	if (e == NULL) {
		if (r->nh_family == NPR_AF_INET && is_subnet_bcast4(sp, r->nh)) {
			drop(sp, m, NPR_SLOW_MCAST_DROP);
			return;
		}
		if (sp->unres[r->ifid] >= sp->unres_max) {
			drop(sp, m, NPR_SLOW_NEIGH_LIMIT);
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
void
ip_output(struct slowpath *sp, struct rte_mbuf *m, unsigned family, const uint8_t *dst,
	  unsigned ifid, uint64_t now)
{
	struct cfg_route r;

	m->hash.usr = HOLD_OWN;
	if (npr_is_ll6((int)family, dst)) {
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
void
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
	memcpy(dst, pi.src, npr_alen(pi.family));
	/* the source: an address of the interface the packet came in on */
	if (cfg_addr_pick(sp->conf.cfg, ifid, pi.family, dst, src) < 0) {
		/* none there: any of the router's, else (IPv6) the link-local one */
		bool found = false;
		for (unsigned i = 0; i < sp->n_addr && !found; i++) {
			const struct cfg_addr *a = &sp->addr[i];
			if (a->family == pi.family && !npr_is_ll6(a->family, a->a)) {
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

void
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

void
icmp_time_exceeded(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned family,
		   uint64_t now)
{
	icmp_error(sp, m, ifid, family == NPR_AF_INET ? ICMP4_TIME_EXCEEDED : ICMP6_TIME_EXCEEDED,
		   0, 0, NPR_SLOW_ICMP_TTL_TX, now);
}
