/* SPDX-License-Identifier: BSD-3-Clause */
/* Object state: apply and undo per kind of object, and the next hop words (layer 2). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

uint64_t
mac48(const uint8_t *m)
{
	uint64_t v = 0;
	for (int i = 5; i >= 0; i--)
		v = (v << 8) | m[i];
	return v;
}

/* ---------------------------------------------------------------------------------------- */
/* Undo log and dirty sets */

int
undo_reserve(struct cfg *c, uint64_t n)
{
	uint64_t need = (uint64_t)c->n_undo + n, cap = c->undo_cap;

	if (need <= cap)
		return 0;
	if (need > UINT32_MAX / 2)
		return -ENOMEM;
	while (cap < need)
		cap = cap < 64 ? 64 : cap * 2;
	struct undo *u = realloc(c->undo, cap * sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	c->undo = u;
	c->undo_cap = (uint32_t)cap;
	return 0;
}

/* Room was reserved. */
struct undo *
undo_push(struct cfg *c, uint32_t kind, uint32_t id)
{
	struct undo *u = &c->undo[c->n_undo++];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->id = id;
	return u;
}

void
dirty_mark(struct dirty *d, uint32_t id)
{
	if (!d->flag[id]) {
		d->flag[id] = 1;
		d->list[d->n++] = id;
	}
}

void
dirty_clear(struct dirty *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		d->flag[d->list[i]] = 0;
	d->n = 0;
}

int
dirty_init(struct dirty *d, uint32_t max)
{
	d->flag = calloc(max, 1);
	d->list = calloc(max, sizeof(uint32_t));
	d->n = 0;
	return d->flag == NULL || d->list == NULL ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Neighbour table */

void
nb_key(struct nb *k, uint16_t ifid, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addr, 16);
	k->ifid = ifid;
	k->family = family;
	k->used = 1;
}

struct nb *
nb_find(const struct cfg *c, uint16_t ifid, uint8_t family, const uint8_t *addr)
{
	struct nb k;
	nb_key(&k, ifid, family, addr);
	return ht_find(&c->nb, &k);
}

/* A next hop whose MAC comes from the neighbour table. */
static bool
nh_indexed(const struct nh_cfg *n)
{
	return n->used && n->kind == NPR_NH_FORWARD && n->family != 0 && !(n->flags & NPR_NH_F_MAC);
}

static void
nb_mark_nhs(struct cfg *c, const struct nb *e)
{
	for (uint32_t id = e->nh_head; id != 0; id = c->nh[id].gw_next)
		dirty_mark(&c->nh_dirty, id);
}

/* Set (has) or clear the neighbour of a key; dyn: learnt, not configured. Room for one entry
 * must be reserved. */
void
nb_apply(struct cfg *c, const void *key, bool has, const uint8_t *mac, uint32_t gen, bool dyn,
	 unsigned origin)
{
	struct nb *e = ht_find(&c->nb, key);

	if (e == NULL) {
		if (!has)
			return;
		e = ht_insert(&c->nb, key);
	}
	bool was = e->has_neigh;
	bool changed = was != has || (has && memcmp(e->mac, mac, 6) != 0);
	if (was != has) {
		c->n_neigh += has ? 1 : -1;
		c->ifc[e->ifid].n_neigh += has ? 1 : -1;
	}
	e->has_neigh = has;
	e->dynamic = has && dyn;
	if (has)
		memcpy(e->mac, mac, 6);
	else
		memset(e->mac, 0, 6);
	e->gen = has ? gen : 0;
	e->origin = has && !dyn ? (uint8_t)origin : NPR_ORIGIN_NONE;
	if (changed) {
		nb_mark_nhs(c, e);
		c->host_dirty = true;
	}
	if (!has && e->nh_head == 0)
		ht_remove(&c->nb, e);
}

/* ---------------------------------------------------------------------------------------- */
/* Next hops */

const uint8_t *
ifc_mac(const struct cfg *c, unsigned ifid)
{
	const struct ifc_cfg *i = &c->ifc[ifid].cfg;
	if (!npr_mac_zero(i->mac))
		return i->mac;
	return c->conf.port[c->port_idx[i->port_id]].mac;
}

/* The MAC a forward next hop sends to, if known. */
bool
nh_eff_mac(const struct cfg *c, const struct nh_cfg *n, uint8_t *mac)
{
	if (n->flags & NPR_NH_F_MAC) {
		memcpy(mac, n->mac, 6);
		return true;
	}
	if (n->family != 0) {
		const struct nb *e = nb_find(c, n->ifid, n->family, n->gw);
		if (e != NULL && e->has_neigh) {
			memcpy(mac, e->mac, 6);
			return true;
		}
	}
	memset(mac, 0, 6);
	return false;
}

/* The FIB value of a RIB target: a connected route goes to its interface's next hop. */
static uint32_t
fib_val(const struct cfg *c, uint32_t target)
{
	if ((target & NPR_TARGET_LOCAL) && (target & NPR_TARGET_CONNECTED))
		return conn_id(c, target & 0xffffu);
	return target;
}

bool
nh_live(const struct cfg *c, uint32_t id)
{
	if (id < c->conf.nh_max)
		return c->nh[id].cfg.used;
	if (id < host_id(c, 0))
		return c->ifc[id - c->conf.nh_max].cfg.used;
	return c->host[id - host_id(c, 0)].used;
}

/* Connected next hop: the slow path resolves each host (UNRESOLVED). Host route: FORWARD. */
uint64_t
int_word(const struct cfg *c, uint32_t id)
{
	unsigned ifid, kind = FWD_NH_UNRESOLVED;
	uint64_t mac = 0;

	if (id < host_id(c, 0)) {
		ifid = id - c->conf.nh_max;
	} else {
		const struct host *h = &c->host[id - host_id(c, 0)];
		if (!h->used)
			return fwd_nh_pack(FWD_NH_INVALID, 0, 0);
		ifid = h->ifid;
		kind = FWD_NH_FORWARD;
		mac = mac48(h->mac);
	}
	const struct ifc_cfg *i = &c->ifc[ifid].cfg;
	if (!i->used)
		return fwd_nh_pack(FWD_NH_INVALID, 0, 0);
	if (!(i->flags & NPR_IFACE_F_UP))
		return fwd_nh_pack(FWD_NH_IFACE_DOWN, i->port_id, 0);
	return fwd_nh_pack(kind, i->port_id, mac);
}

uint64_t
nh_word(const struct cfg *c, uint32_t id)
{
	const struct nh_cfg *n = &c->nh[id].cfg;
	uint8_t mac[6];

	if (id >= c->conf.nh_max)
		return int_word(c, id);
	if (!n->used)
		return fwd_nh_pack(FWD_NH_INVALID, 0, 0);
	switch (n->kind) {
	case NPR_NH_BLACKHOLE:
		return fwd_nh_pack(FWD_NH_BLACKHOLE, 0, 0);
	case NPR_NH_UNREACHABLE:
		return fwd_nh_pack(FWD_NH_UNREACHABLE, 0, 0);
	case NPR_NH_PROHIBIT:
		return fwd_nh_pack(FWD_NH_PROHIBIT, 0, 0);
	default:
		break;
	}
	const struct ifc_cfg *i = &c->ifc[n->ifid].cfg;
	if (!(i->flags & NPR_IFACE_F_UP))
		return fwd_nh_pack(FWD_NH_IFACE_DOWN, i->port_id, 0);
	if (!nh_eff_mac(c, n, mac))
		return fwd_nh_pack(FWD_NH_UNRESOLVED, i->port_id, 0);
	return fwd_nh_pack(FWD_NH_FORWARD, i->port_id, mac48(mac));
}

static void
gw_link(struct cfg *c, uint32_t id)
{
	const struct nh_cfg *n = &c->nh[id].cfg;
	struct nb k, *e;

	nb_key(&k, n->ifid, n->family, n->gw);
	e = ht_find(&c->nb, &k);
	if (e == NULL)
		e = ht_insert(&c->nb, &k);
	c->nh[id].gw_prev = 0;
	c->nh[id].gw_next = e->nh_head;
	if (e->nh_head != 0)
		c->nh[e->nh_head].gw_prev = id;
	e->nh_head = id;
}

static void
gw_unlink(struct cfg *c, uint32_t id)
{
	struct nh *x = &c->nh[id];
	struct nb *e = nb_find(c, x->cfg.ifid, x->cfg.family, x->cfg.gw);

	if (x->gw_next != 0)
		c->nh[x->gw_next].gw_prev = x->gw_prev;
	if (x->gw_prev != 0)
		c->nh[x->gw_prev].gw_next = x->gw_next;
	else if (e != NULL)
		e->nh_head = x->gw_next;
	x->gw_prev = x->gw_next = 0;
	if (e != NULL && e->nh_head == 0 && !e->has_neigh)
		ht_remove(&c->nb, e);
}

/* Move next hop id to configuration n (used or not). Room for one neighbour-table entry must
 * be reserved if n is indexed. */
void
nh_apply(struct cfg *c, uint32_t id, const struct nh_cfg *n)
{
	struct nh *x = &c->nh[id];

	if (x->cfg.used) {
		c->n_nh--;
		if (x->cfg.kind == NPR_NH_FORWARD)
			c->ifc[x->cfg.ifid].n_nh--;
		if (nh_indexed(&x->cfg))
			gw_unlink(c, id);
	}
	x->cfg = *n;
	if (n->used) {
		c->n_nh++;
		if (n->kind == NPR_NH_FORWARD)
			c->ifc[n->ifid].n_nh++;
		if (nh_indexed(n))
			gw_link(c, id);
	}
	dirty_mark(&c->nh_dirty, id);
}

/* ---------------------------------------------------------------------------------------- */
/* Groups */

void
grp_apply(struct cfg *c, uint32_t id, bool used, struct grp_ver *ver, uint32_t gen)
{
	struct grp *g = &c->grp[id];

	if (g->used) {
		c->n_grp--;
		for (uint32_t i = 0; i < g->ver->n_members; i++)
			c->nh[g->ver->m[i].nh_id].grp_refs--;
	}
	if (used) {
		c->n_grp++;
		for (uint32_t i = 0; i < ver->n_members; i++)
			c->nh[ver->m[i].nh_id].grp_refs++;
	}
	if (g->used != used || g->ver != (used ? ver : NULL))
		dirty_mark(&c->grp_dirty, id);
	g->used = used;
	g->ver = used ? ver : NULL;
	g->gen = used ? gen : 0;
}

/* Spread the members over the slots by weight, interleaved (smooth weighted round robin):
 * weights 3 and 1 give A A B A rather than A A A B, so that a slot range taken by a hash
 * hits every member in proportion. */
void
grp_expand(const struct grp_ver *v, struct fwd_group *fg, uint32_t total)
{
	int32_t cur[NPR_GROUP_MAX_MEMBERS] = { 0 };

	for (uint32_t s = 0; s < total; s++) {
		uint32_t best = 0;
		for (uint32_t i = 0; i < v->n_members; i++) {
			cur[i] += v->m[i].weight;
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= (int32_t)total;
		fg->nh[s] = v->m[best].nh_id;
	}
	fg->n_slots = total;
}

/* ---------------------------------------------------------------------------------------- */
/* Interfaces and addresses */

static void
ifc_mark_nhs(struct cfg *c, unsigned ifid)
{
	if (c->ifc[ifid].n_nh == 0)
		return;
	for (uint32_t id = 1; id < c->conf.nh_max; id++) {
		const struct nh_cfg *n = &c->nh[id].cfg;
		if (n->used && n->kind == NPR_NH_FORWARD && n->ifid == ifid)
			dirty_mark(&c->nh_dirty, id);
	}
}

void
ifc_apply(struct cfg *c, unsigned id, const struct ifc_cfg *n)
{
	struct ifc_cfg *o = &c->ifc[id].cfg;

	if (o->used != n->used || o->port_id != n->port_id || o->flags != n->flags ||
	    memcmp(o->mac, n->mac, 6) != 0 || o->mtu != n->mtu)
		c->ports_dirty = true;
	if (o->used != n->used || o->port_id != n->port_id ||
	    ((o->flags ^ n->flags) & NPR_IFACE_F_UP)) {
		ifc_mark_nhs(c, id);
		/* internal next hops on it: the connected one and host routes */
		dirty_mark(&c->nh_dirty, conn_id(c, id));
		for (uint32_t i = 0; i < c->n_host; i++)
			if (c->host[c->host_list[i]].ifid == id)
				dirty_mark(&c->nh_dirty, host_id(c, c->host_list[i]));
	}
	c->host_dirty = true;
	if (o->used) {
		c->port_owner[o->port_id] = -1;
		c->n_ifc--;
	}
	if (n->used) {
		c->port_owner[n->port_id] = (int16_t)id;
		c->n_ifc++;
	}
	*o = *n;
}

void
addr_apply(struct cfg *c, uint32_t slot, const struct addr *n)
{
	struct addr *o = &c->addr[slot];

	if (o->used) {
		c->ifc[o->ifid].n_addr--;
		c->n_addr--;
		c->addr_plen[o->family == NPR_AF_INET ? F4 : F6][o->plen]--;
	}
	if (n->used) {
		c->ifc[n->ifid].n_addr++;
		c->n_addr++;
		c->addr_plen[n->family == NPR_AF_INET ? F4 : F6][n->plen]++;
	}
	*o = *n;
	c->host_dirty = true;
}

int
addr_find(const struct cfg *c, uint8_t family, const uint8_t *a)
{
	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++)
		if (c->addr[i].used && c->addr[i].family == family &&
		    memcmp(c->addr[i].a, a, 16) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Routes */

void
rt_key(uint8_t *key, int fam, const uint8_t *prefix, uint8_t plen)
{
	unsigned alen = alen_of(fam);
	memcpy(key, prefix, alen);
	key[alen] = plen;
	key[alen + 1] = 1;
}

static void
target_ref(struct cfg *c, uint32_t target, int d)
{
	if (target & NPR_TARGET_LOCAL)
		return;
	if (target & NPR_TARGET_GROUP)
		c->grp[target & NPR_TARGET_ID_MASK].refcnt += (uint32_t)d;
	else
		c->nh[target].route_refs += (uint32_t)d;
}

/* Local and connected routes (the router's own) do not count against route4/6_max. */
static void
rt_count(struct cfg *c, int fam, const struct rt_val *v, int d)
{
	if (v->target & NPR_TARGET_LOCAL)
		c->n_local_routes[fam] += (uint32_t)d;
	else
		c->n_user_routes[fam] += (uint32_t)d;
	c->n_origin[fam][v->origin] += (uint32_t)d;
}

void
rt_ref(struct cfg *c, int fam, const struct rt_val *v, int d)
{
	target_ref(c, v->target, d);
	rt_count(c, fam, v, d);
}

static void
rt_log(struct cfg *c, int fam, const uint8_t *key, const uint8_t *e)
{
	unsigned alen = alen_of(fam);
	struct undo *u = undo_push(c, fam == F4 ? U_RT4 : U_RT6, 0);
	memcpy(u->u.rt.prefix, key, alen);
	u->u.rt.plen = key[alen];
	u->u.rt.had = e != NULL;
	if (e != NULL)
		u->u.rt.v = *rt_val((uint8_t *)e, alen);
}

/* Set (v != NULL) or delete (v == NULL, e must exist) the selected route of a key; e: its
 * entry or NULL. Room for one undo record and one table entry must be reserved. Fails only
 * if the FIB does, before anything changed. */
int
rt_apply(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, const struct rt_val *v)
{
	unsigned alen = alen_of(fam);
	struct fib *f = fib_of(c, fam);
	int rc;

	if (v != NULL && e != NULL && rt_val(e, alen)->target == v->target) {
		/* same forwarding: no FIB change, only who and what it says */
		rt_log(c, fam, key, e);
		rt_count(c, fam, rt_val(e, alen), -1);
		*rt_val(e, alen) = *v;
		rt_count(c, fam, v, 1);
		return 0;
	}
	rc = v != NULL ? fib_set(f, key, key[alen], fib_val(c, v->target))
		       : fib_del(f, key, key[alen]);
	if (rc < 0)
		return rc;
	c->fib_dirty[fam] = true;
	rt_log(c, fam, key, e);
	if (e != NULL)
		rt_ref(c, fam, rt_val(e, alen), -1);
	if (v == NULL) {
		ht_remove(&c->rt[fam], e);
		return 0;
	}
	if (e == NULL)
		e = ht_insert(&c->rt[fam], key);
	*rt_val(e, alen) = *v;
	rt_ref(c, fam, v, 1);
	return 0;
}

/* Undo a route change: put back what was there before (the FIB ops re-create or re-delete
 * a state the FIB was in moments ago, within the room it had then). */
void
rt_restore(struct cfg *c, int fam, const struct undo *u)
{
	unsigned alen = alen_of(fam);
	struct fib *f = fib_of(c, fam);
	uint8_t key[RT_KEY_MAX];
	uint8_t *e;
	int rc;

	rt_key(key, fam, u->u.rt.prefix, u->u.rt.plen);
	e = ht_find(&c->rt[fam], key);
	if (u->u.rt.had) {
		if (e != NULL && rt_val(e, alen)->target == u->u.rt.v.target) {
			rt_count(c, fam, rt_val(e, alen), -1);
			*rt_val(e, alen) = u->u.rt.v;
			rt_count(c, fam, rt_val(e, alen), 1);
			return;
		}
		rc = fib_set(f, key, u->u.rt.plen, fib_val(c, u->u.rt.v.target));
		if (e != NULL)
			rt_ref(c, fam, rt_val(e, alen), -1);
		else
			e = ht_insert(&c->rt[fam], key);
		*rt_val(e, alen) = u->u.rt.v;
		rt_ref(c, fam, rt_val(e, alen), 1);
	} else {
		if (e == NULL)
			return;
		rc = fib_del(f, key, u->u.rt.plen);
		rt_ref(c, fam, rt_val(e, alen), -1);
		ht_remove(&c->rt[fam], e);
	}
	if (rc < 0)
		fprintf(stderr, "cfg: FIB rollback failed (%s): RIB and FIB may differ\n",
			strerror(-rc));
	c->fib_dirty[fam] = true;
}

void
nb_remove_logged(struct cfg *c, const void *key)
{
	const struct nb *e = ht_find(&c->nb, key);
	struct undo *u = undo_push(c, U_NB, 0);

	memcpy(u->u.nb.key, key, NB_KLEN);
	u->u.nb.had = 1;
	u->u.nb.dyn = e->dynamic;
	memcpy(u->u.nb.mac, e->mac, 6);
	u->u.nb.gen = e->gen;
	u->u.nb.origin = e->origin;
	nb_apply(c, key, false, NULL, 0, false, 0);
}

/* Remove the neighbours learnt on an interface (it is being deleted), with undo records. */
int
nb_flush_learnt(struct cfg *c, unsigned ifid)
{
	uint32_t n = 0;
	int rc;

	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		n += e->used && e->has_neigh && e->dynamic && e->ifid == ifid;
	}
	if (n == 0)
		return 0;
	uint8_t(*keys)[NB_KLEN] = malloc((size_t)n * NB_KLEN);
	if (keys == NULL || (rc = undo_reserve(c, n)) < 0) {
		free(keys);
		return -ENOMEM;
	}
	n = 0;
	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		if (e->used && e->has_neigh && e->dynamic && e->ifid == ifid)
			memcpy(keys[n++], e, NB_KLEN);
	}
	for (uint32_t i = 0; i < n; i++)
		nb_remove_logged(c, keys[i]);
	free(keys);
	return 0;
}
