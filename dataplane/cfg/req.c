/* SPDX-License-Identifier: BSD-3-Clause */
/* Requests that change objects: validate every field, reserve, apply with undo (layer 5). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

int __attribute__((format(printf, 4, 5)))
fail(struct rq *q, int rc, uint32_t index, const char *fmt, ...)
{
	va_list ap;

	q->rep->index = index;
	va_start(ap, fmt);
	vsnprintf(q->rep->msg, sizeof(q->rep->msg), fmt, ap);
	va_end(ap);
	return rc;
}
/* ---------------------------------------------------------------------------------------- */
/* Field checks shared by several requests */

int
check_ifid(struct rq *q, uint32_t ifid, bool must_exist)
{
	if (ifid >= NPR_MAX_IFACES)
		return fail(q, -EINVAL, 0, "interface id %u out of range (0..%u)", ifid,
			    NPR_MAX_IFACES - 1);
	if (must_exist && !q->c->ifc[ifid].cfg.used)
		return fail(q, -ENOENT, 0, "interface %u does not exist", ifid);
	return 0;
}

int
check_family(struct rq *q, unsigned family)
{
	if (family != NPR_AF_INET && family != NPR_AF_INET6)
		return fail(q, -EINVAL, 0, "family %u is neither 4 nor 6", family);
	return 0;
}

static int
check_unicast_ip(struct rq *q, const char *what, unsigned family, const uint8_t *a)
{
	char s[NPR_ADDR_STRLEN];
	const char *why = npr_bad_unicast(family, a);
	if (why != NULL)
		return fail(q, -EINVAL, 0, "%s %s %s", what, fmt_ip(family, a, s), why);
	return 0;
}

static int
check_unicast_mac(struct rq *q, const char *what, const uint8_t *m)
{
	char s[NPR_MAC_STRLEN];
	if (npr_mac_zero(m))
		return fail(q, -EINVAL, 0, "%s MAC is zero", what);
	if (m[0] & 1)
		return fail(q, -EINVAL, 0, "%s MAC %s is multicast", what, npr_format_mac(m, s));
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Interfaces */
int
h_iface_set(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_iface_set m;
	struct ifc_cfg n;
	char sm[NPR_MAC_STRLEN];
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if ((rc = check_ifid(q, m.ifid, false)) < 0)
		return rc;
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	const char *nul = memchr(m.name, 0, sizeof(m.name));
	if (nul == NULL)
		return fail(q, -EINVAL, 0, "interface name is not NUL-terminated");
	size_t nl = (size_t)(nul - m.name);
	if (nl == 0)
		return fail(q, -EINVAL, 0, "interface name is empty");
	for (size_t i = 0; i < nl; i++)
		if (m.name[i] < 0x21 || m.name[i] > 0x7e)
			return fail(q, -EINVAL, 0, "interface name has a non-printable byte at %zu",
				    i);
	if (!all_zero(nul, sizeof(m.name) - nl))
		return fail(q, -EINVAL, 0, "interface name has bytes after its NUL");
	if (m.mtu != 0 && (m.mtu < NPR_MTU_MIN || m.mtu > NPR_MTU_MAX))
		return fail(q, -EINVAL, 0, "MTU %u out of range (%u..%u)", m.mtu, NPR_MTU_MIN,
			    NPR_MTU_MAX);
	if (m.flags & ~NPR_IFACE_F_UP)
		return fail(q, -EINVAL, 0, "unknown interface flags 0x%x",
			    m.flags & ~NPR_IFACE_F_UP);
	if (!npr_mac_zero(m.mac) && (m.mac[0] & 1))
		return fail(q, -EINVAL, 0, "interface MAC %s is multicast",
			    npr_format_mac(m.mac, sm));
	if (m.port_id >= NPR_MAX_PORTS || c->port_idx[m.port_id] < 0)
		return fail(q, -ENODEV, 0, "port %u is not a port of this data plane", m.port_id);
	/* what the port carries: a larger MTU would be promised to the hosts (and to path MTU
	 * discovery) and then lost on the way in */
	const struct cfg_port *cp = &c->conf.port[c->port_idx[m.port_id]];
	uint32_t pmax = cp->max_mtu != 0 ? cp->max_mtu : NPR_MTU_MAX;
	uint32_t mtu = m.mtu != 0 ? m.mtu : NPR_MTU_DEFAULT < pmax ? NPR_MTU_DEFAULT : pmax;
	if (mtu > pmax)
		return fail(q, -ERANGE, 0,
			    "interface %s: MTU %u above what port %u (%s) carries: %u (%s)", m.name,
			    mtu, m.port_id, cp->name, pmax,
			    cp->mtu_why[0] != '\0' ? cp->mtu_why : "its limit");
	int owner = c->port_owner[m.port_id];
	if (owner >= 0 && owner != m.ifid)
		return fail(q, -EBUSY, 0, "port %u is already bound to interface %d (%s)",
			    m.port_id, owner, c->ifc[owner].cfg.name);
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++)
		if (i != m.ifid && c->ifc[i].cfg.used && strcmp(c->ifc[i].cfg.name, m.name) == 0)
			return fail(q, -EEXIST, 0, "name %s is already used by interface %u",
				    m.name, i);
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");

	memset(&n, 0, sizeof(n));
	n.used = 1;
	n.port_id = m.port_id;
	n.mtu = (uint16_t)mtu;
	n.flags = m.flags;
	memcpy(n.mac, m.mac, 6);
	memcpy(n.name, m.name, sizeof(n.name));
	n.origin = (uint8_t)q->origin;
	n.gen = c->gen[q->origin];
	undo_push(c, U_IFC, m.ifid)->u.ifc = c->ifc[m.ifid].cfg;
	ifc_apply(c, m.ifid, &n);
	return 0;
}

int
h_iface_del(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_iface_del m;
	struct ifc_cfg n;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_ifid(q, m.ifid, true)) < 0)
		return rc;
	const struct ifc *i = &c->ifc[m.ifid];
	if ((rc = nb_flush_learnt(c, m.ifid)) < 0)
		return fail(q, rc, 0, "out of memory");
	if (i->n_nh || i->n_addr || i->n_neigh)
		return fail(q, -EBUSY, 0,
			    "interface %u is used by %u next hops, %u addresses, %u neighbours",
			    m.ifid, i->n_nh, i->n_addr, i->n_neigh);
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	undo_push(c, U_IFC, m.ifid)->u.ifc = i->cfg;
	memset(&n, 0, sizeof(n));
	ifc_apply(c, m.ifid, &n);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Addresses */

static int
addr_route_reserve(struct cfg *c, int fam)
{
	/* the host route, the address, up to two connected routes */
	int rc = undo_reserve(c, 4);
	if (rc == 0)
		rc = ht_reserve(&c->rt[fam], 2);
	return rc;
}

/* After an address change: the connected routes of the old and new subnets. */
static int
addr_conn_fix(struct rq *q, int fam, const struct addr *old, const struct addr *n)
{
	uint8_t key[RT_KEY_MAX];
	int rc = 0;

	if (old != NULL && old->used) {
		subnet_key(key, old);
		rc = conn_fix(q->c, fam, key);
	}
	if (rc == 0 && n != NULL && n->used) {
		subnet_key(key, n);
		rc = conn_fix(q->c, fam, key);
	}
	return rc < 0 ? fail(q, rc, 0, "FIB: connected route: %s", strerror(-rc)) : 0;
}

int
h_addr(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_addr m;
	char s[NPR_ADDR_STRLEN];
	uint8_t key[RT_KEY_MAX];
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_ifid(q, m.ifid, true)) < 0 || (rc = check_family(q, m.family)) < 0)
		return rc;
	int fam = m.family == NPR_AF_INET ? F4 : F6;
	unsigned hostlen = 8 * alen_of(fam);
	if (m.plen < 1 || m.plen > hostlen)
		return fail(q, -EINVAL, 0, "prefix length %u out of range (1..%u)", m.plen,
			    hostlen);
	if ((rc = check_unicast_ip(q, "address", m.family, m.addr)) < 0)
		return rc;
	fmt_ip(m.family, m.addr, s);
	int slot = addr_find(c, m.family, m.addr);
	rt_key(key, fam, m.addr, (uint8_t)hostlen);

	if (q->h.type == NPR_MSG_ADDR_DEL) {
		if (slot < 0 || c->addr[slot].ifid != m.ifid)
			return fail(q, -ENOENT, 0, "address %s is not on interface %u", s, m.ifid);
		if (c->addr[slot].plen != m.plen) /* as ip addr del: the prefix must match */
			return fail(q, -ENOENT, 0,
				    "address %s/%u is not on interface %u (%s/%u is)", s, m.plen,
				    m.ifid, s, c->addr[slot].plen);
		if ((rc = addr_route_reserve(c, fam)) < 0)
			return fail(q, rc, 0, "out of memory");
		uint8_t *e = ht_find(&c->rt[fam], key);
		if (e != NULL && (rc = rt_apply(c, fam, key, e, NULL)) < 0)
			return fail(q, rc, 0, "FIB: %s", strerror(-rc));
		struct addr z = { 0 }, old = c->addr[slot];
		undo_push(c, U_ADDR, (uint32_t)slot)->u.addr = c->addr[slot];
		addr_apply(c, (uint32_t)slot, &z);
		return addr_conn_fix(q, fam, &old, NULL);
	}

	struct addr n = { .used = 1, .family = m.family, .plen = m.plen, .ifid = m.ifid };
	memcpy(n.a, m.addr, 16);
	n.origin = (uint8_t)q->origin;
	n.gen = c->gen[q->origin];
	if (slot >= 0) {
		if (c->addr[slot].ifid != m.ifid)
			return fail(q, -EEXIST, 0, "address %s is already on interface %u", s,
				    c->addr[slot].ifid);
		/* re-added (resync) or new prefix length: the host route stays */
		if ((rc = addr_route_reserve(c, fam)) < 0)
			return fail(q, rc, 0, "out of memory");
		struct addr old = c->addr[slot];
		undo_push(c, U_ADDR, (uint32_t)slot)->u.addr = c->addr[slot];
		addr_apply(c, (uint32_t)slot, &n);
		return addr_conn_fix(q, fam, &old, &n);
	}
	if (ht_find(&c->rt[fam], key) != NULL)
		return fail(q, -EEXIST, 0, "a route to %s/%u exists", s, hostlen);
	for (slot = 0; slot < (int)CFG_ADDR_MAX && c->addr[slot].used; slot++)
		;
	if (slot == (int)CFG_ADDR_MAX)
		return fail(q, -ENOSPC, 0, "too many addresses (max %u)", CFG_ADDR_MAX);
	if ((rc = addr_route_reserve(c, fam)) < 0)
		return fail(q, rc, 0, "out of memory");
	struct rt_val lv = rtv(NPR_TARGET_LOCAL, 0, NPR_ORIGIN_NONE, 0, 0);
	if ((rc = rt_apply(c, fam, key, NULL, &lv)) < 0)
		return fail(q, rc, 0, "FIB: cannot add %s/%u: %s", s, hostlen, strerror(-rc));
	undo_push(c, U_ADDR, (uint32_t)slot)->u.addr = c->addr[slot];
	addr_apply(c, (uint32_t)slot, &n);
	return addr_conn_fix(q, fam, NULL, &n);
}

/* ---------------------------------------------------------------------------------------- */
/* Neighbours */

int
h_neigh(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_neigh m;
	struct nb k;
	char s[NPR_ADDR_STRLEN];
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0 || !all_zero(m.reserved2, sizeof(m.reserved2)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_ifid(q, m.ifid, true)) < 0 || (rc = check_family(q, m.family)) < 0 ||
	    (rc = check_unicast_ip(q, "neighbour", m.family, m.addr)) < 0)
		return rc;
	nb_key(&k, m.ifid, m.family, m.addr);
	struct nb *e = ht_find(&c->nb, &k);
	bool had = e != NULL && e->has_neigh;

	if (q->h.type == NPR_MSG_NEIGH_DEL) {
		if (!npr_mac_zero(m.mac))
			return fail(q, -EINVAL, 0, "NEIGH_DEL carries a MAC (must be zero)");
		if (!had)
			return fail(q, -ENOENT, 0, "no neighbour %s on interface %u",
				    fmt_ip(m.family, m.addr, s), m.ifid);
	} else {
		if ((rc = check_unicast_mac(q, "neighbour", m.mac)) < 0)
			return rc;
		if (!had && c->n_neigh >= CFG_NEIGH_MAX)
			return fail(q, -ENOSPC, 0, "too many neighbours (max %u)", CFG_NEIGH_MAX);
	}
	if ((rc = undo_reserve(c, 1)) < 0 || (rc = ht_reserve(&c->nb, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	e = ht_find(&c->nb, &k); /* the reserve may have moved it */
	struct undo *u = undo_push(c, U_NB, 0);
	memcpy(u->u.nb.key, &k, NB_KLEN);
	u->u.nb.had = had;
	if (had) {
		memcpy(u->u.nb.mac, e->mac, 6);
		u->u.nb.gen = e->gen;
		u->u.nb.dyn = e->dynamic;
		u->u.nb.origin = e->origin;
	}
	/* NEIGH_SET on a learnt neighbour makes it configured (static) */
	nb_apply(c, &k, q->h.type == NPR_MSG_NEIGH_SET, m.mac, c->gen[q->origin], false, q->origin);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Next hops */

static int
check_nh_id(struct rq *q, uint32_t id, uint32_t index, const char *what)
{
	if (id == 0 || id >= q->c->wire_nh)
		return fail(q, -EINVAL, index, "%snext hop id %u out of range (1..%u)", what, id,
			    q->c->wire_nh - 1);
	return 0;
}

static int
check_grp_id(struct rq *q, uint32_t id, uint32_t index, const char *what)
{
	if (id == 0 || id >= q->c->wire_grp)
		return fail(q, -EINVAL, index, "%sgroup id %u out of range (1..%u)", what, id,
			    q->c->wire_grp - 1);
	return 0;
}

int
h_nh_set(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_nh_set m;
	struct nh_cfg n;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if ((rc = check_nh_id(q, m.nh_id, 0, "")) < 0)
		return rc;
	uint32_t id = nh_int(c, q->origin, m.nh_id);
	if (m.kind < NPR_NH_FORWARD || m.kind > NPR_NH_PROHIBIT)
		return fail(q, -EINVAL, 0, "next hop %u: unknown kind %u", m.nh_id, m.kind);
	if (m.flags & ~(NPR_NH_F_MAC | NPR_NH_F_INLINE))
		return fail(q, -EINVAL, 0, "next hop %u: unknown flags 0x%x", m.nh_id,
			    m.flags & ~(NPR_NH_F_MAC | NPR_NH_F_INLINE));
	if (m.kind != NPR_NH_FORWARD) {
		if (m.ifid != 0 || m.family != 0 || (m.flags & NPR_NH_F_MAC) ||
		    !npr_mac_zero(m.mac) || !all_zero(m.gw, sizeof(m.gw)))
			return fail(q, -EINVAL, 0,
				    "next hop %u: kind %u takes no interface, gateway or MAC",
				    m.nh_id, m.kind);
	} else {
		if ((rc = check_ifid(q, m.ifid, true)) < 0)
			return rc;
		if (m.family == 0) {
			if (!all_zero(m.gw, sizeof(m.gw)))
				return fail(q, -EINVAL, 0,
					    "next hop %u: gateway bytes set with family 0",
					    m.nh_id);
		} else if ((rc = check_family(q, m.family)) < 0 ||
			   (rc = check_unicast_ip(q, "gateway", m.family, m.gw)) < 0) {
			return rc;
		} else if ((rc = addr_find(c, m.family, m.gw)) >= 0 &&
			   (!npr_is_ll6(m.family, m.gw) || c->addr[rc].ifid == m.ifid)) {
			/* it would never resolve: ARP / ND for it is answered by ourselves (a
			 * link-local address is ours only on its own link) */
			char s[NPR_ADDR_STRLEN];
			unsigned own = c->addr[rc].ifid;
			return fail(q, -EINVAL, 0,
				    "next hop %u: gateway %s is an address of this router "
				    "(interface %.*s)",
				    m.nh_id, fmt_ip(m.family, m.gw, s), (int)NPR_NAME_LEN,
				    c->ifc[own].cfg.name);
		}
		if (m.flags & NPR_NH_F_MAC) {
			if ((rc = check_unicast_mac(q, "next hop", m.mac)) < 0)
				return rc;
		} else if (!npr_mac_zero(m.mac)) {
			return fail(q, -EINVAL, 0, "next hop %u: MAC given without NPR_NH_F_MAC",
				    m.nh_id);
		}
	}
	/* an inline next hop is made with a fresh id, never changed: a client whose view of
	 * the ids is stale (a batch file read before its batch) must not take another's */
	if ((m.flags & NPR_NH_F_INLINE) && c->nh[id].cfg.used)
		return fail(q, -EEXIST, 0,
			    "next hop %u exists: an inline next hop takes a free id (read the next "
			    "hops again)",
			    m.nh_id);
	if (c->nh[id].grp_refs != 0 && m.kind != NPR_NH_FORWARD)
		return fail(q, -EBUSY, 0, "next hop %u is a group member: it must stay forward",
			    m.nh_id);
	if ((rc = undo_reserve(c, 1)) < 0 || (rc = ht_reserve(&c->nb, 1)) < 0)
		return fail(q, rc, 0, "out of memory");

	memset(&n, 0, sizeof(n));
	n.used = 1;
	n.kind = m.kind;
	n.family = m.family;
	n.ifid = m.ifid;
	n.flags = m.flags;
	memcpy(n.mac, m.mac, 6);
	memcpy(n.gw, m.gw, 16);
	n.origin = (uint8_t)q->origin;
	n.gen = c->gen[q->origin];
	undo_push(c, U_NH, id)->u.nh = c->nh[id].cfg;
	nh_apply(c, id, &n);
	return 0;
}

int
nh_del(struct rq *q, uint32_t id)
{
	struct cfg *c = q->c;
	struct nh_cfg z = { 0 };
	const struct nh *x = &c->nh[id];

	if (!x->cfg.used)
		return fail(q, -ENOENT, 0, "next hop %u does not exist", nh_wire(c, id));
	if (x->route_refs || x->grp_refs)
		return fail(q, -EBUSY, 0, "next hop %u is used by %u routes and %u groups",
			    nh_wire(c, id), x->route_refs, x->grp_refs);
	undo_push(c, U_NH, id)->u.nh = x->cfg;
	nh_apply(c, id, &z);
	return 0;
}

int
grp_del(struct rq *q, uint32_t id)
{
	struct cfg *c = q->c;
	const struct grp *g = &c->grp[id];

	if (!g->used)
		return fail(q, -ENOENT, 0, "group %u does not exist", grp_wire(c, id));
	if (g->refcnt)
		return fail(q, -EBUSY, 0, "group %u is used by %u routes", grp_wire(c, id),
			    g->refcnt);
	if (grp_retire_reserve(c) < 0)
		return fail(q, -ENOMEM, 0, "out of memory");
	struct undo *u = undo_push(c, U_GRP, id);
	u->u.grp.used = 1;
	u->u.grp.gen = g->gen;
	u->u.grp.ver = g->ver;
	grp_apply(c, id, false, NULL, 0);
	return 0;
}

int
h_id_del(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_id m;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	if (q->h.type == NPR_MSG_NH_DEL) {
		if ((rc = check_nh_id(q, m.id, 0, "")) < 0)
			return rc;
		return nh_del(q, nh_int(c, q->origin, m.id));
	}
	if ((rc = check_grp_id(q, m.id, 0, "")) < 0)
		return rc;
	return grp_del(q, grp_int(c, q->origin, m.id));
}

/* ---------------------------------------------------------------------------------------- */
/* Groups */

int
h_group_set(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_group_set m;
	struct npr_group_member mb[NPR_GROUP_MAX_MEMBERS];
	uint32_t total = 0;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	memcpy(mb, q->rec + sizeof(m), (size_t)m.n_members * sizeof(mb[0]));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_grp_id(q, m.group_id, 0, "")) < 0)
		return rc;
	for (uint32_t i = 0; i < m.n_members; i++) {
		uint32_t w = mb[i].nh_id, id = nh_int(c, q->origin, w);
		if (mb[i].reserved != 0)
			return fail(q, -EINVAL, i, "member %u: reserved bytes are not zero", i);
		if ((rc = check_nh_id(q, w, i, "member: ")) < 0)
			return rc;
		if (!c->nh[id].cfg.used)
			return fail(q, -ENOENT, i, "member %u: next hop %u does not exist", i, w);
		if (c->nh[id].cfg.kind != NPR_NH_FORWARD)
			return fail(q, -EINVAL, i,
				    "member %u: next hop %u is not a forward next hop", i, w);
		if (mb[i].weight < 1 || mb[i].weight > NPR_GROUP_MAX_WEIGHT)
			return fail(q, -EINVAL, i, "member %u: weight %u out of range (1..%u)", i,
				    mb[i].weight, NPR_GROUP_MAX_WEIGHT);
		for (uint32_t j = 0; j < i; j++)
			if (mb[j].nh_id == w)
				return fail(q, -EINVAL, i, "member %u: next hop %u is listed twice",
					    i, w);
		total += mb[i].weight;
	}
	if (total > NPR_GROUP_MAX_SLOTS)
		return fail(q, -EINVAL, 0, "weights sum to %u, more than %u slots", total,
			    NPR_GROUP_MAX_SLOTS);
	if ((rc = undo_reserve(c, 1)) < 0 || (rc = grp_retire_reserve(c)) < 0)
		return fail(q, rc, 0, "out of memory");
	/* from here on, ids are internal */
	uint32_t gid = grp_int(c, q->origin, m.group_id);
	for (uint32_t i = 0; i < m.n_members; i++)
		mb[i].nh_id = nh_int(c, q->origin, mb[i].nh_id);

	struct grp *g = &c->grp[gid];
	struct undo *u;
	if (g->used && g->ver->n_members == m.n_members &&
	    memcmp(g->ver->m, mb, m.n_members * sizeof(mb[0])) == 0) {
		/* unchanged (a resync): keep the published version */
		u = undo_push(c, U_GRP, gid);
		u->u.grp.used = 1;
		u->u.grp.same = 1;
		u->u.grp.gen = g->gen;
		u->u.grp.ver = g->ver;
		g->gen = c->gen[q->origin];
		return 0;
	}
	struct grp_ver *v =
		malloc(sizeof(*v) + sizeof(struct fwd_group) + total * sizeof(uint32_t));
	if (v == NULL)
		return fail(q, -ENOMEM, 0, "out of memory");
	memset(v, 0, sizeof(*v));
	v->n_members = m.n_members;
	memcpy(v->m, mb, m.n_members * sizeof(mb[0]));
	grp_expand(v, ver_fg(v), total);
	u = undo_push(c, U_GRP, gid);
	u->u.grp.used = g->used;
	u->u.grp.gen = g->gen;
	u->u.grp.ver = g->ver;
	grp_apply(c, gid, true, v, c->gen[q->origin]);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Routes */

/* Check a route target (not for DEL), in the session's namespace; *internal: the target
 * inside. */
static int
check_target(struct rq *q, uint32_t i, uint32_t target, uint32_t *internal)
{
	struct cfg *c = q->c;
	uint32_t id = target & NPR_TARGET_ID_MASK;

	if (target == 0)
		return fail(q, -EINVAL, i, "route %u: no target", i);
	if (target & ~(NPR_TARGET_GROUP | NPR_TARGET_ID_MASK))
		return fail(q, -EINVAL, i, "route %u: target 0x%x has reserved bits set", i,
			    target);
	if (target & NPR_TARGET_GROUP) {
		if (id == 0 || id >= c->wire_grp)
			return fail(q, -EINVAL, i, "route %u: group id %u out of range (1..%u)", i,
				    id, c->wire_grp - 1);
		*internal = NPR_TARGET_GROUP | grp_int(c, q->origin, id);
		if (!c->grp[*internal & NPR_TARGET_ID_MASK].used)
			return fail(q, -ENOENT, i, "route %u: group %u does not exist", i, id);
		return 0;
	}
	if (id >= c->wire_nh)
		return fail(q, -EINVAL, i, "route %u: next hop id %u out of range (1..%u)", i, id,
			    c->wire_nh - 1);
	*internal = nh_int(c, q->origin, id);
	if (!c->nh[*internal].cfg.used)
		return fail(q, -ENOENT, i, "route %u: next hop %u does not exist", i, id);
	return 0;
}

struct rt_in {
	uint8_t prefix[16];
	uint8_t plen;
	uint8_t origin, proto, distance;
	uint32_t target;
};

static void
rt_read(int fam, const uint8_t *body, uint32_t i, struct rt_in *r)
{
	memset(r->prefix, 0, sizeof(r->prefix));
	if (fam == F4) {
		struct npr_route4 e;
		memcpy(&e, body + (size_t)i * sizeof(e), sizeof(e));
		memcpy(r->prefix, &e.prefix, 4);
		r->plen = e.plen;
		r->origin = e.origin;
		r->proto = e.proto;
		r->distance = e.distance;
		r->target = e.target;
	} else {
		struct npr_route6 e;
		memcpy(&e, body + (size_t)i * sizeof(e), sizeof(e));
		memcpy(r->prefix, e.prefix, 16);
		r->plen = e.plen;
		r->origin = e.origin;
		r->proto = e.proto;
		r->distance = e.distance;
		r->target = e.target;
	}
}

int
h_route(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_route4 m; /* same head as npr_msg_route6 */
	unsigned t = q->h.type;
	int fam = t >= NPR_MSG_ROUTE6_ADD ? F6 : F4;
	unsigned op = t - (fam == F4 ? NPR_MSG_ROUTE4_ADD
				     : NPR_MSG_ROUTE6_ADD); /* 0 add, 1 repl, 2 del */
	unsigned alen = alen_of(fam), maxlen = 8 * alen, o = q->origin;
	const uint8_t *body = q->rec + sizeof(m);
	char s[NPR_ADDR_STRLEN], s2[NPR_ADDR_STRLEN];
	struct rt_in r;
	uint32_t internal;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	/* trailing padding of an odd IPv4 count */
	size_t used = sizeof(m) + (size_t)m.count * (fam == F4 ? sizeof(struct npr_route4)
							       : sizeof(struct npr_route6));
	if (!all_zero(q->rec + used, q->len - used))
		return fail(q, -EINVAL, 0, "padding bytes are not zero");

	/* Pass 1: every field of every entry, and the targets (no entry of this message can
	 * create or remove one). */
	for (uint32_t i = 0; i < m.count; i++) {
		rt_read(fam, body, i, &r);
		if (r.origin != 0)
			return fail(q, -EINVAL, i,
				    "route %u: origin %u set (routes take the session's origin)", i,
				    r.origin);
		if (r.plen > maxlen)
			return fail(q, -EINVAL, i,
				    "route %u: prefix length %u out of range (0..%u)", i, r.plen,
				    maxlen);
		if (npr_prefix_host_bits(family_of(fam), r.prefix, r.plen)) {
			uint8_t p2[16];
			memcpy(p2, r.prefix, 16);
			npr_prefix_mask(family_of(fam), p2, r.plen);
			return fail(q, -EINVAL, i,
				    "route %u: prefix %s/%u has host bits set (%s/%u)", i,
				    fmt_ip(fam == F4 ? 4 : 6, r.prefix, s), r.plen,
				    fmt_ip(fam == F4 ? 4 : 6, p2, s2), r.plen);
		}
		if (op == 2) {
			if (r.target != 0 || r.proto != 0 || r.distance != 0)
				return fail(q, -EINVAL, i,
					    "route %u: DEL carries a target, proto or distance", i);
		} else if ((rc = check_target(q, i, r.target, &internal)) < 0) {
			return rc;
		}
	}
	/* a route change takes up to four records (select.c) */
	if ((rc = undo_reserve(c, 4ull * m.count)) < 0 ||
	    (op == 0 && (rc = ht_reserve(&c->rt[fam], m.count)) < 0) ||
	    (rc = ht_reserve(&c->alt[fam], m.count)) < 0)
		return fail(q, rc, 0, "out of memory");

	/* Pass 2: apply in order (an entry sees the ones before it); the caller undoes all
	 * of it if one fails. */
	uint32_t max = fam == F4 ? c->conf.route4_max : c->conf.route6_max;
	for (uint32_t i = 0; i < m.count; i++) {
		uint8_t key[RT_KEY_MAX];
		bool sel;
		rt_read(fam, body, i, &r);
		rt_key(key, fam, r.prefix, r.plen);
		uint8_t *e = ht_find(&c->rt[fam], key);
		const struct rt_val *mine = route_get(c, fam, key, e, o, &sel);
		if (e != NULL && rt_val(e, alen)->target == NPR_TARGET_LOCAL && op != 2)
			return fail(q, -EEXIST, i, "route %u: %s/%u is a local address", i,
				    fmt_ip(fam == F4 ? 4 : 6, r.prefix, s), r.plen);
		if (mine == NULL && op != 0)
			return fail(q, -ENOENT, i, "route %u: %s/%u does not exist", i,
				    fmt_ip(fam == F4 ? 4 : 6, r.prefix, s), r.plen);
		if (mine == NULL && c->n_user_routes[fam] + c->n_alt[fam] >= max)
			return fail(q, -ENOSPC, i, "route %u: route table full (%u routes)", i,
				    max);
		if (op == 2) {
			rc = route_del(c, fam, key, e, o);
		} else {
			check_target(q, i, r.target, &internal);
			struct rt_val v =
				rtv(internal, c->gen[o], o, r.proto,
				    r.distance != 0 ? r.distance : npr_origin_distance(o));
			rc = route_set(c, fam, key, e, &v);
		}
		if (rc < 0)
			return fail(q, rc, i, "route %u: FIB: %s", i, strerror(-rc));
	}
	return 0;
}
