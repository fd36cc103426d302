/* SPDX-License-Identifier: BSD-3-Clause */
/* The slow path's entry points: exceptions in, timers, following the configuration,
 * create and free (layer 5, sp_int.h; the contract is slowpath.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "icmp.h"
#include "pkt.h"
#include "sp_int.h"

/* ---------------------------------------------------------------------------------------- */
/* configuration changes */

static void
announce(struct slowpath *sp, const struct cfg_addr *a)
{
	const struct sp_if *ifc = &sp->ifs[a->ifid];
	uint8_t *ip, dmac[6];
	size_t cap;

	if (npr_is_ll6(a->family, a->a))
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
			       npr_same_prefix(a->family, a->a, e->addr, a->plen) &&
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
			ip4_mcast(sp, m, (unsigned)ifid);
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
sp_host_input(struct slowpath *sp, unsigned ifid, const void *frame, uint32_t len, uint64_t now)
{
	sp_sync(sp, now);
	if (ifid >= NPR_MAX_IFACES || !sp->ifs[ifid].used || !sp->ifs[ifid].up) {
		CNT(sp, IFACE_DOWN_DROP);
		return;
	}
	host_output(sp, ifid, frame, len);
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
	sp->unres_max = sp->nb_max / 8 > 16 ? sp->nb_max / 8 : 16;
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
