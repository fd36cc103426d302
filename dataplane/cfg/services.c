/* SPDX-License-Identifier: BSD-3-Clause */
/* Router services: what the slow path reads and learns (layer 5). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

uint64_t
cfg_version(const struct cfg *c)
{
	return c->version;
}

int
cfg_iface_get(const struct cfg *c, unsigned ifid, struct cfg_iface *out)
{
	if (ifid >= NPR_MAX_IFACES || !c->ifc[ifid].cfg.used)
		return -ENOENT;
	const struct ifc_cfg *i = &c->ifc[ifid].cfg;
	memset(out, 0, sizeof(*out));
	out->ifid = (uint16_t)ifid;
	out->port_id = i->port_id;
	out->mtu = i->mtu;
	out->up = (i->flags & NPR_IFACE_F_UP) != 0;
	memcpy(out->mac, ifc_mac(c, ifid), 6);
	memcpy(out->name, i->name, sizeof(out->name));
	return 0;
}

int
cfg_iface_by_port(const struct cfg *c, unsigned port_id)
{
	if (port_id >= NPR_MAX_PORTS || c->port_owner[port_id] < 0)
		return -ENOENT;
	return c->port_owner[port_id];
}

unsigned
cfg_addrs(const struct cfg *c, struct cfg_addr *out, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++) {
		const struct addr *a = &c->addr[i];
		if (!a->used)
			continue;
		if (n < max) {
			out[n].ifid = a->ifid;
			out[n].family = a->family;
			out[n].plen = a->plen;
			memcpy(out[n].a, a->a, 16);
		}
		n++;
	}
	return n;
}

int
cfg_addr_local(const struct cfg *c, unsigned family, const uint8_t *a)
{
	uint8_t k[16] = { 0 };

	memcpy(k, a, family == NPR_AF_INET ? 4 : 16); /* IPv4: only 4 bytes count */
	int slot = addr_find(c, (uint8_t)family, k);
	return slot < 0 ? -ENOENT : c->addr[slot].ifid;
}

int
cfg_addr_pick(const struct cfg *c, unsigned ifid, unsigned family, const uint8_t *dst, uint8_t *src)
{
	int best = -1, score = 0;

	/* 3: its subnet holds dst; 2: same scope (link-local or not); 1: any */
	for (uint32_t i = 0; i < CFG_ADDR_MAX && score < 3; i++) {
		const struct addr *a = &c->addr[i];
		int sc = 1;
		if (!a->used || a->ifid != ifid || a->family != family)
			continue;
		if (npr_same_prefix((int)family, a->a, dst, a->plen))
			sc = 3;
		else if (npr_is_ll6(family, a->a) == npr_is_ll6(family, dst))
			sc = 2;
		if (sc > score) {
			score = sc;
			best = (int)i;
		}
	}
	if (best < 0)
		return -ENOENT;
	memcpy(src, c->addr[best].a, 16);
	return 0;
}

int
cfg_route_get(const struct cfg *c, unsigned family, const uint8_t *dst, uint32_t flow_hash,
	      struct cfg_route *r)
{
	uint32_t v, id;

	memset(r, 0, sizeof(*r));
	if (family != NPR_AF_INET && family != NPR_AF_INET6)
		return -EINVAL;
	v = fib_lookup_addr(c->t.fib4, c->t.fib6, (int)family, dst);
	r->kind = CFG_RT_NONE;
	if (v == 0)
		return 0;
	r->kind = CFG_RT_LOCAL;
	if (v & NPR_TARGET_LOCAL)
		return 0;
	r->kind = CFG_RT_INVALID;
	id = v;
	if (v & NPR_TARGET_GROUP) {
		uint32_t gid = v & NPR_TARGET_ID_MASK;
		if (gid >= c->conf.group_max)
			return 0;
		const struct fwd_group *g =
			atomic_load_explicit(&c->t.group[gid], memory_order_relaxed);
		if (g == NULL || g->n_slots == 0)
			return 0;
		id = g->nh[((uint64_t)flow_hash * g->n_slots) >> 32];
	}
	if (id >= c->t.nh_max)
		return 0;
	uint64_t w = atomic_load_explicit(&c->t.nh[id], memory_order_relaxed);
	switch (fwd_nh_kind(w)) {
	case FWD_NH_BLACKHOLE:
		r->kind = CFG_RT_BLACKHOLE;
		return 0;
	case FWD_NH_UNREACHABLE:
		r->kind = CFG_RT_UNREACHABLE;
		return 0;
	case FWD_NH_PROHIBIT:
		r->kind = CFG_RT_PROHIBIT;
		return 0;
	case FWD_NH_IFACE_DOWN:
		r->kind = CFG_RT_DOWN;
		return 0;
	case FWD_NH_FORWARD:
	case FWD_NH_UNRESOLVED:
		break;
	default:
		return 0;
	}
	unsigned p = fwd_nh_port(w);
	if (p >= NPR_MAX_PORTS || c->port_owner[p] < 0) {
		r->kind = CFG_RT_DOWN;
		return 0;
	}
	r->kind = CFG_RT_FORWARD;
	r->port_id = (uint16_t)p;
	r->ifid = (uint16_t)c->port_owner[p];
	r->mtu = c->ifc[r->ifid].cfg.mtu;
	if (fwd_nh_kind(w) == FWD_NH_FORWARD) {
		uint64_t m = fwd_nh_mac(w);
		r->has_mac = true;
		for (int i = 0; i < 6; i++)
			r->mac[i] = (uint8_t)(m >> (8 * i));
	}
	r->nh_family = (uint8_t)family;
	memcpy(r->nh, dst, family == NPR_AF_INET ? 4 : 16);
	if (id < c->conf.nh_max && c->nh[id].cfg.family != 0) {
		r->nh_family = c->nh[id].cfg.family;
		memcpy(r->nh, c->nh[id].cfg.gw, 16);
	}
	return 0;
}

int
cfg_neigh_get(const struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a, uint8_t *mac,
	      bool *learnt)
{
	if (ifid >= NPR_MAX_IFACES)
		return -ENOENT;
	const struct nb *e = nb_find(c, (uint16_t)ifid, (uint8_t)family, a);
	if (e == NULL || !e->has_neigh)
		return -ENOENT;
	if (mac != NULL)
		memcpy(mac, e->mac, 6);
	if (learnt != NULL)
		*learnt = e->dynamic;
	return 0;
}

int
cfg_neigh_learn(struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a, const uint8_t *mac)
{
	struct nb k, *e;

	if (ifid >= NPR_MAX_IFACES || !c->ifc[ifid].cfg.used)
		return -ENOENT;
	if ((family != NPR_AF_INET && family != NPR_AF_INET6) ||
	    npr_bad_unicast(family, a) != NULL || npr_bad_unicast_mac(mac) != NULL)
		return -EINVAL;
	/* a transaction is open: publishing now would publish it too */
	if (c->batch_active || c->n_undo != 0)
		return -EAGAIN;
	nb_key(&k, (uint16_t)ifid, (uint8_t)family, a);
	e = ht_find(&c->nb, &k);
	if (e != NULL && e->has_neigh) {
		if (!e->dynamic)
			return -EEXIST;
		if (memcmp(e->mac, mac, 6) == 0)
			return 0;
	} else if (c->n_neigh >= CFG_NEIGH_MAX) {
		return -ENOSPC;
	}
	if (ht_reserve(&c->nb, 1) < 0)
		return -ENOMEM;
	nb_apply(c, &k, true, mac, 0, true, NPR_ORIGIN_NONE);
	publish(c);
	return 0;
}

int
cfg_neigh_forget(struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a)
{
	struct nb k, *e;

	if (ifid >= NPR_MAX_IFACES)
		return -ENOENT;
	if (c->batch_active || c->n_undo != 0)
		return -EAGAIN;
	nb_key(&k, (uint16_t)ifid, (uint8_t)family, a);
	e = ht_find(&c->nb, &k);
	if (e == NULL || !e->has_neigh || !e->dynamic)
		return -ENOENT;
	nb_apply(c, &k, false, NULL, 0, false, 0);
	publish(c);
	return 0;
}
