/* SPDX-License-Identifier: BSD-3-Clause */
/* Requests that read: dumps, stats, lookups (layer 6). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "stats.h"

/* ---------------------------------------------------------------------------------------- */
/* Dumps */

struct dumper {
	struct rq *q;
	uint32_t kind;
	uint32_t count;
	uint32_t off;
	uint64_t total;
};

static void
dump_flush(struct dumper *d)
{
	struct cfg *c = d->q->c;
	struct npr_msg_dump_chunk ch;

	if (d->count == 0)
		return;
	uint32_t len = (d->off + 7) & ~7u;
	memset(c->buf + d->off, 0, len - d->off);
	memset(&ch, 0, sizeof(ch));
	ch.hdr.type = NPR_MSG_DUMP_CHUNK;
	ch.hdr.version = NPR_ABI_VERSION;
	ch.hdr.len = len;
	ch.hdr.seq = d->q->h.seq;
	ch.kind = d->kind;
	ch.count = d->count;
	memcpy(c->buf, &ch, sizeof(ch));
	d->q->emit(d->q->ctx, c->buf, len);
	d->off = sizeof(ch);
	d->count = 0;
}

static void
dump_add(struct dumper *d, const void *e, uint32_t n)
{
	if (((d->off + n + 7) & ~7u) > NPR_MSG_MAX)
		dump_flush(d);
	memcpy(d->q->c->buf + d->off, e, n);
	d->off += n;
	d->count++;
	d->total++;
}

void
cfg_info(const struct cfg *c, struct npr_info *in)
{
	memset(in, 0, sizeof(*in));
	in->instance_id = c->conf.instance_id;
	in->abi_version = NPR_ABI_VERSION;
	in->n_ports = c->conf.n_ports;
	in->n_workers = c->conf.n_workers;
	in->n_ifaces = c->n_ifc;
	in->nh_max = c->wire_nh;
	in->group_max = c->wire_grp;
	in->route4_max = c->conf.route4_max;
	in->route6_max = c->conf.route6_max;
	in->route4_count = c->n_user_routes[F4] + c->n_local_routes[F4];
	in->route6_count = c->n_user_routes[F6] + c->n_local_routes[F6];
	in->fib4_bytes = fib_mem_bytes(c->t.fib4);
	in->fib6_bytes = fib_mem_bytes(c->t.fib6);
	in->uptime_ns = c->conf.stats != NULL ? stats_uptime_ns(c->conf.stats) : 0;
	for (unsigned o = 0; o < NPR_ORIGIN_MAX; o++) {
		in->route4_by_origin[o] = c->n_origin[F4][o];
		in->route6_by_origin[o] = c->n_origin[F6][o];
		in->txn[o] = c->txn[o];
	}
}

static void
dump_route(struct dumper *d, int fam, const uint8_t *x, const struct rt_val *v, bool sel)
{
	const struct cfg *c = d->q->c;
	uint8_t origin = (uint8_t)(v->origin | (sel ? 0 : NPR_ORIGIN_F_INACTIVE));
	uint32_t target = target_wire(c, v->target);

	if (fam == F4) {
		struct npr_route4 e = { .plen = x[4],
					.origin = origin,
					.proto = v->proto,
					.distance = v->dist,
					.target = target };
		memcpy(&e.prefix, x, 4);
		dump_add(d, &e, sizeof(e));
	} else {
		struct npr_route6 e = { .plen = x[16],
					.origin = origin,
					.proto = v->proto,
					.distance = v->dist,
					.target = target };
		memcpy(e.prefix, x, 16);
		dump_add(d, &e, sizeof(e));
	}
}

int
h_dump(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_dump_req m;
	struct dumper d = { .q = q, .off = sizeof(struct npr_msg_dump_chunk) };

	memcpy(&m, q->rec, sizeof(m));
	if (m.flags & ~NPR_DUMP_F_ALL_ORIGINS)
		return fail(q, -EINVAL, 0, "unknown dump flags 0x%x", m.flags);
	d.kind = m.kind;
	bool all = m.flags & NPR_DUMP_F_ALL_ORIGINS;
	unsigned o = q->origin;
	switch (m.kind) {
	case NPR_DUMP_PORTS:
		for (unsigned i = 0; i < c->conf.n_ports; i++) {
			struct npr_dump_port p;
			memset(&p, 0, sizeof(p));
			p.port_id = c->conf.port[i].port_id;
			p.n_rxq = c->conf.port[i].n_rxq;
			p.n_txq = c->conf.port[i].n_txq;
			memcpy(p.mac, c->conf.port[i].mac, 6);
			memcpy(p.name, c->conf.port[i].name, sizeof(p.name));
			p.name[sizeof(p.name) - 1] = 0;
			p.max_mtu = c->conf.port[i].max_mtu != 0 ? c->conf.port[i].max_mtu
								 : NPR_MTU_MAX;
			snprintf(p.mtu_why, sizeof(p.mtu_why), "%s",
				 c->conf.port[i].max_mtu != 0 ? c->conf.port[i].mtu_why
							      : "nprouter's maximum");
			dump_add(&d, &p, sizeof(p));
		}
		break;
	case NPR_DUMP_IFACES:
		for (unsigned i = 0; i < NPR_MAX_IFACES; i++) {
			const struct ifc_cfg *x = &c->ifc[i].cfg;
			struct npr_dump_iface e;
			if (!x->used || (!all && x->origin != o))
				continue;
			memset(&e, 0, sizeof(e));
			e.ifid = (uint16_t)i;
			e.port_id = x->port_id;
			e.mtu = x->mtu;
			e.flags = x->flags;
			memcpy(e.mac, ifc_mac(c, i), 6);
			e.origin = x->origin;
			memcpy(e.name, x->name, sizeof(e.name));
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_ADDRS:
		for (unsigned i = 0; i < CFG_ADDR_MAX; i++) {
			const struct addr *a = &c->addr[i];
			struct npr_dump_addr e;
			if (!a->used || (!all && a->origin != o))
				continue;
			memset(&e, 0, sizeof(e));
			e.ifid = a->ifid;
			e.origin = a->origin;
			e.family = a->family;
			e.plen = a->plen;
			memcpy(e.addr, a->a, 16);
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_NEIGHS:
	case NPR_DUMP_NEIGHS_LEARNT:
		for (uint32_t i = 0; i < c->nb.cap; i++) {
			const struct nb *x = (const struct nb *)ht_at(&c->nb, i);
			struct npr_dump_neigh e;
			if (!x->used || !x->has_neigh ||
			    x->dynamic != (m.kind == NPR_DUMP_NEIGHS_LEARNT) ||
			    (!all && !x->dynamic && x->origin != o))
				continue;
			memset(&e, 0, sizeof(e));
			e.ifid = x->ifid;
			e.origin = x->origin;
			e.family = x->family;
			memcpy(e.mac, x->mac, 6);
			memcpy(e.addr, x->addr, 16);
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_NHS:
		for (uint32_t id = 1; id < c->conf.nh_max; id++) {
			const struct nh *x = &c->nh[id];
			struct npr_dump_nh e;
			if (!x->cfg.used || (!all && x->cfg.origin != o))
				continue;
			memset(&e, 0, sizeof(e));
			e.nh_id = nh_wire(c, id);
			e.origin = x->cfg.origin;
			e.kind = x->cfg.kind;
			e.family = x->cfg.family;
			e.ifid = x->cfg.ifid;
			e.flags = x->cfg.flags;
			if (x->cfg.kind == NPR_NH_FORWARD && nh_eff_mac(c, &x->cfg, e.mac))
				e.flags |= NPR_NH_F_RESOLVED;
			memcpy(e.gw, x->cfg.gw, 16);
			e.refcnt = x->route_refs + x->grp_refs;
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_GROUPS:
		for (uint32_t id = 1; id < c->conf.group_max; id++) {
			const struct grp *g = &c->grp[id];
			uint8_t e[sizeof(struct npr_dump_group) +
				  NPR_GROUP_MAX_MEMBERS * sizeof(struct npr_group_member)];
			struct npr_dump_group h;
			unsigned go = id / c->wire_grp + 1;
			if (!g->used || (!all && go != o))
				continue;
			memset(&h, 0, sizeof(h));
			h.group_id = grp_wire(c, id);
			h.origin = (uint8_t)go;
			h.n_members = (uint16_t)g->ver->n_members;
			h.refcnt = g->refcnt;
			memcpy(e, &h, sizeof(h));
			uint32_t ml = g->ver->n_members * (uint32_t)sizeof(struct npr_group_member);
			memcpy(e + sizeof(h), g->ver->m, ml);
			for (uint32_t k = 0; k < g->ver->n_members; k++) {
				struct npr_group_member mb;
				uint8_t *p = e + sizeof(h) + k * sizeof(mb);
				memcpy(&mb, p, sizeof(mb));
				mb.nh_id = nh_wire(c, mb.nh_id);
				memcpy(p, &mb, sizeof(mb));
			}
			dump_add(&d, e, (uint32_t)sizeof(h) + ml);
		}
		break;
	case NPR_DUMP_ROUTES4:
	case NPR_DUMP_ROUTES6: {
		/* the selected routes, then the others; local and connected ones belong to no
		 * client (origin NONE) and are in every dump */
		int fam = m.kind == NPR_DUMP_ROUTES4 ? F4 : F6;
		unsigned alen = alen_of(fam);
		for (int k = 0; k < 2; k++) {
			const struct htab *t = k == 0 ? &c->rt[fam] : &c->alt[fam];
			for (uint32_t i = 0; i < t->cap; i++) {
				uint8_t *x = ht_at(t, i);
				const struct rt_val *v = rt_val(x, alen);
				if (!ht_used(t, x) ||
				    (!all && v->origin != o && v->origin != NPR_ORIGIN_NONE))
					continue;
				dump_route(&d, fam, x, v, k == 0);
			}
		}
		break;
	}
	case NPR_DUMP_INFO: {
		struct npr_info in;
		cfg_info(c, &in);
		dump_add(&d, &in, sizeof(in));
		break;
	}
	case NPR_DUMP_STATS:
		return h_stats(q);
	default:
		return fail(q, -EINVAL, 0, "unknown dump kind %u", m.kind);
	}
	dump_flush(&d);
	q->rep->value = d.total;
	return 0;
}

void
cfg_stats(const struct cfg *c, struct npr_stats *st)
{
	if (c->conf.stats != NULL) {
		stats_fill(c->conf.stats, st);
	} else {
		memset(st, 0, sizeof(*st));
		st->n_ports = c->conf.n_ports;
		st->n_workers = c->conf.n_workers;
	}
	st->msgs_ok = c->msgs_ok;
	st->msgs_err = c->msgs_err;
	st->batches_aborted += c->batches_dropped;
}

int
h_stats(struct rq *q)
{
	struct cfg *c = q->c;
	struct dumper d = { .q = q,
			    .off = sizeof(struct npr_msg_dump_chunk),
			    .kind = NPR_DUMP_STATS };

	cfg_stats(c, c->stats);
	dump_add(&d, c->stats, sizeof(*c->stats));
	dump_flush(&d);
	q->rep->value = 1;
	return 0;
}

/* A FIB value as a target in the protocol: internal next hops are connected routes. */
static uint32_t
pub_target(const struct cfg *c, uint32_t v)
{
	if (v == 0 || (v & (NPR_TARGET_LOCAL | NPR_TARGET_GROUP)) || v < c->conf.nh_max)
		return v;
	if (v < host_id(c, 0))
		return NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | (v - c->conf.nh_max);
	if (v - host_id(c, 0) < c->host_max)
		return NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | c->host[v - host_id(c, 0)].ifid;
	return v;
}

int
h_lookup(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_lookup m;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_family(q, m.family)) < 0)
		return rc;
	if (m.family == NPR_AF_INET && !all_zero(m.addr + 4, 12))
		return fail(q, -EINVAL, 0, "bytes set beyond the IPv4 address");
	uint32_t v = fib_lookup_addr(c->t.fib4, c->t.fib6, m.family, m.addr);
	uint32_t id = v & NPR_TARGET_ID_MASK;
	/* configured next hops and groups: in their origin's namespace, the origin in index */
	if (v != 0 && (v & NPR_TARGET_GROUP)) {
		q->rep->index = id / c->wire_grp + 1;
		v = NPR_TARGET_GROUP | grp_wire(c, id);
	} else if (v != 0 && v < c->conf.nh_max) {
		q->rep->index = v / c->wire_nh + 1;
		v = nh_wire(c, v);
	}
	q->rep->value = pub_target(c, v);
	return 0;
}
int
h_stats_clear(struct rq *q)
{
	struct cfg *c = q->c;
	if (c->conf.stats != NULL)
		stats_clear(c->conf.stats);
	c->msgs_ok = c->msgs_err = 0;
	return 0;
}
