/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The diff: a configuration and the running state -> a plan (see apply.h for the identity
 * of objects and the order of the phases, plan.h for the plan).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hset.h"
#include "npr/addr.h"
#include "plan.h"

/* ---- ids ---- */

struct idmap {
	uint64_t *used; /* bitmap of ids in use (running) or taken (new) */
	uint32_t max;	/* ids 1..max-1 */
	uint32_t next;	/* lowest id that may be free */
};

static int
idmap_init(struct idmap *m, uint32_t max)
{
	m->max = max;
	m->next = 1;
	m->used = calloc((max + 63) / 64 + 1, sizeof(uint64_t));
	return m->used == NULL ? -ENOMEM : 0;
}

static void
idmap_set(struct idmap *m, uint32_t id)
{
	if (id < m->max)
		m->used[id / 64] |= 1ull << (id % 64);
}

static uint32_t
idmap_take(struct idmap *m)
{
	while (m->next < m->max && (m->used[m->next / 64] >> (m->next % 64)) & 1)
		m->next++;
	if (m->next >= m->max)
		return 0;
	idmap_set(m, m->next);
	return m->next++;
}

/* ---- the diff ---- */

struct nh_key {
	uint8_t kind, family;
	uint16_t ifid;
	uint8_t gw[16];
};

struct diff {
	const struct config *cfg;
	const struct running *rs;
	const struct plan_opts *o;
	struct plan *p;
	struct config_msgs *errs;
	FILE *out; /* change lines, or NULL */

	uint16_t *d_ifid;  /* per config interface */
	uint16_t *d_port;  /* per config interface */
	int *rs_of_ifid;   /* running interface index by ifid, -1 */
	uint32_t *d_nhid;  /* per config next hop */
	uint32_t *d_grpid; /* per config group */
	struct nh_key *rs_nhkey;
	struct npr_group_member *rs_sorted; /* running groups' members, sorted by id */
	struct plan_routes acc;		    /* the route message being filled */
	bool oom;
};

static void change(struct diff *d, enum plan_kind k, char sign, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
change(struct diff *d, enum plan_kind k, char sign, const char *fmt, ...)
{
	struct plan_count *c = &d->p->count[k];
	if (sign == '+')
		c->added++;
	else if (sign == '~')
		c->changed++;
	else
		c->removed++;
	d->p->n_changes++;
	if (d->out == NULL)
		return;
	va_list ap;
	fprintf(d->out, "%c ", sign);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
}

static void
msg(struct diff *d, int ph, const void *m)
{
	if (plan_msg(d->p, ph, m) < 0)
		d->oom = true;
}

/* NH_DEL or GROUP_DEL of one id */
static void
msg_del_id(struct diff *d, int ph, uint16_t type, uint32_t id)
{
	struct npr_msg_id m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	m.id = id;
	msg(d, ph, &m);
}

static int
cmp_member(const void *a, const void *b)
{
	const struct npr_group_member *x = a, *y = b;
	if (x->nh_id != y->nh_id)
		return x->nh_id < y->nh_id ? -1 : 1;
	return (int)x->weight - (int)y->weight;
}

/* Give configured interface i the id of the first running interface not yet matched that is
 * bound to its port (by_port) or has its name. */
static bool
take_iface(struct diff *d, size_t i, bool *rs_matched, bool by_port)
{
	const struct running *rs = d->rs;
	for (size_t k = 0; k < rs->n_iface; k++) {
		if (rs_matched[k])
			continue;
		if (by_port ? rs->iface[k].port_id != d->d_port[i]
			    : strncmp(rs->iface[k].name, d->cfg->iface[i].name, NPR_NAME_LEN) != 0)
			continue;
		rs_matched[k] = true;
		d->d_ifid[i] = rs->iface[k].ifid;
		return true;
	}
	return false;
}

static void
diff_ifaces(struct diff *d)
{
	const struct config *cfg = d->cfg;
	const struct running *rs = d->rs;
	struct plan *p = d->p;
	bool rs_matched[NPR_MAX_IFACES] = { false }; /* by running index */
	bool id_taken[NPR_MAX_IFACES] = { false };
	char mac[NPR_MAC_STRLEN];

	for (size_t i = 0; i < rs->n_iface; i++)
		if (rs->iface[i].ifid < NPR_MAX_IFACES) {
			id_taken[rs->iface[i].ifid] = true;
			d->rs_of_ifid[rs->iface[i].ifid] = (int)i;
			snprintf(p->ifname[rs->iface[i].ifid], NPR_NAME_LEN, "%.*s",
				 (int)NPR_NAME_LEN - 1, rs->iface[i].name);
		}
	/* 1. the interface bound to the same port; 2. the one with the same name (its port is
	 * then wanted by nobody); 3. a free id */
	bool assigned[NPR_MAX_IFACES] = { false };
	for (size_t i = 0; i < cfg->n_iface; i++) {
		int pi = config_port_index(&cfg->iface[i], rs->port, rs->n_port);
		if (pi < 0) {
			config_msgs_add(d->errs, "interface %s: the data plane has no port %s",
					cfg->iface[i].name, cfg->iface[i].port);
			continue;
		}
		d->d_port[i] = rs->port[pi].port_id;
		assigned[i] = take_iface(d, i, rs_matched, true);
	}
	for (size_t i = 0; i < cfg->n_iface; i++)
		if (!assigned[i])
			assigned[i] = take_iface(d, i, rs_matched, false);
	for (size_t i = 0; i < cfg->n_iface; i++) {
		if (assigned[i])
			continue;
		unsigned id = 0;
		while (id < NPR_MAX_IFACES && id_taken[id])
			id++;
		if (id == NPR_MAX_IFACES) {
			config_msgs_add(d->errs, "no free interface id for %s", cfg->iface[i].name);
			return;
		}
		id_taken[id] = true;
		d->d_ifid[i] = (uint16_t)id;
		assigned[i] = true;
	}

	/* Names move between ids: an interface whose name another one takes gets a temporary
	 * name first ('#' is not allowed in configured names). */
	bool tmp[NPR_MAX_IFACES] = { false };
	for (size_t i = 0; i < cfg->n_iface; i++) {
		for (size_t k = 0; k < rs->n_iface; k++) {
			const struct npr_dump_iface *r = &rs->iface[k];
			if (r->ifid == d->d_ifid[i] || tmp[r->ifid] ||
			    strncmp(r->name, cfg->iface[i].name, NPR_NAME_LEN) != 0)
				continue;
			struct npr_msg_iface_set m;
			memset(&m, 0, sizeof(m));
			m.hdr.type = NPR_MSG_IFACE_SET;
			m.hdr.len = sizeof(m);
			m.ifid = r->ifid;
			m.port_id = r->port_id;
			m.mtu = r->mtu;
			m.flags = r->flags;
			snprintf(m.name, sizeof(m.name), "#tmp%u", r->ifid);
			msg(d, PH_TMP_NAME, &m);
			tmp[r->ifid] = true;
		}
	}

	for (size_t i = 0; i < cfg->n_iface; i++) {
		const struct config_iface *f = &cfg->iface[i];
		uint16_t id = d->d_ifid[i];
		int pi = config_port_index(f, rs->port, rs->n_port);
		if (pi < 0)
			continue;
		const uint8_t *eff_mac = f->has_mac ? f->mac : rs->port[pi].mac;
		struct npr_msg_iface_set m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_IFACE_SET;
		m.hdr.len = sizeof(m);
		m.ifid = id;
		m.port_id = d->d_port[i];
		m.mtu = config_iface_mtu(f, &rs->port[pi]);
		m.flags = f->up ? NPR_IFACE_F_UP : 0;
		if (f->has_mac)
			memcpy(m.mac, f->mac, sizeof(m.mac));
		snprintf(m.name, sizeof(m.name), "%s", f->name);
		snprintf(p->ifname[id], NPR_NAME_LEN, "%s", f->name);
		int ri = d->rs_of_ifid[id];
		const struct npr_dump_iface *r = ri >= 0 ? &rs->iface[ri] : NULL;
		bool same = r != NULL && r->port_id == m.port_id && r->mtu == m.mtu &&
			    r->flags == m.flags && memcmp(r->mac, eff_mac, sizeof(r->mac)) == 0 &&
			    strncmp(r->name, m.name, NPR_NAME_LEN) == 0 && !tmp[id];
		if (same && !d->o->resync)
			continue;
		msg(d, PH_IFACE_SET, &m);
		if (same) {
			p->n_resent++;
			continue;
		}
		change(d, PK_IFACE, r == NULL ? '+' : '~',
		       "interface %s (id %u) port %.*s mtu %u %s%s%s", f->name, id,
		       (int)sizeof(rs->port[pi].name), rs->port[pi].name, m.mtu,
		       f->up ? "up" : "down", f->has_mac ? " mac " : "",
		       f->has_mac ? npr_format_mac(f->mac, mac) : "");
	}
	for (size_t k = 0; k < rs->n_iface; k++) {
		if (rs_matched[k])
			continue;
		struct npr_msg_iface_del m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_IFACE_DEL;
		m.hdr.len = sizeof(m);
		m.ifid = rs->iface[k].ifid;
		msg(d, PH_IFACE_DEL, &m);
		change(d, PK_IFACE, '-', "interface %.*s (id %u)", (int)NPR_NAME_LEN,
		       rs->iface[k].name, rs->iface[k].ifid);
	}
}

/* Addresses: (family, address) -> interface, prefix length. Few: plain loops. */
static void
diff_addrs(struct diff *d)
{
	const struct config *cfg = d->cfg;
	const struct running *rs = d->rs;
	char a[NPR_PREFIX_STRLEN];

	for (size_t k = 0; k < rs->n_addr; k++) {
		const struct npr_dump_addr *r = &rs->addr[k];
		const struct config_addr *w = NULL;
		for (size_t i = 0; i < cfg->n_addr && w == NULL; i++)
			if (cfg->addr[i].family == r->family &&
			    memcmp(cfg->addr[i].addr, r->addr, sizeof(cfg->addr[i].addr)) == 0)
				w = &cfg->addr[i];
		if (w != NULL && d->d_ifid[w->iface] == r->ifid)
			continue;
		struct npr_msg_addr m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_ADDR_DEL;
		m.hdr.len = sizeof(m);
		m.ifid = r->ifid;
		m.family = r->family;
		m.plen = r->plen;
		memcpy(m.addr, r->addr, sizeof(m.addr));
		msg(d, PH_DEL, &m);
		if (w == NULL) /* else counted when added on its new interface */
			change(d, PK_ADDR, '-', "address %s dev %s",
			       npr_format_prefix(r->family, r->addr, r->plen, a, sizeof(a)),
			       r->ifid < NPR_MAX_IFACES ? d->p->ifname[r->ifid] : "?");
	}
	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *w = &cfg->addr[i];
		uint16_t ifid = d->d_ifid[w->iface];
		const struct npr_dump_addr *r = NULL;
		for (size_t k = 0; k < rs->n_addr && r == NULL; k++)
			if (rs->addr[k].family == w->family &&
			    memcmp(rs->addr[k].addr, w->addr, sizeof(rs->addr[k].addr)) == 0)
				r = &rs->addr[k];
		bool same = r != NULL && r->ifid == ifid && r->plen == w->plen;
		if (same && !d->o->resync)
			continue;
		struct npr_msg_addr m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_ADDR_ADD;
		m.hdr.len = sizeof(m);
		m.ifid = ifid;
		m.family = w->family;
		m.plen = w->plen;
		memcpy(m.addr, w->addr, sizeof(m.addr));
		msg(d, PH_ADD, &m);
		if (same)
			d->p->n_resent++;
		else
			change(d, PK_ADDR, r == NULL ? '+' : '~', "address %s dev %s",
			       npr_format_prefix(w->family, w->addr, w->plen, a, sizeof(a)),
			       d->p->ifname[ifid]);
	}
}

static void
diff_neighs(struct diff *d)
{
	const struct config *cfg = d->cfg;
	const struct running *rs = d->rs;
	char a[INET6_ADDRSTRLEN], mac[NPR_MAC_STRLEN];

	for (size_t k = 0; k < rs->n_neigh; k++) {
		const struct npr_dump_neigh *r = &rs->neigh[k];
		bool wanted = false;
		for (size_t i = 0; i < cfg->n_neigh && !wanted; i++)
			wanted = d->d_ifid[cfg->neigh[i].iface] == r->ifid &&
				 cfg->neigh[i].family == r->family &&
				 memcmp(cfg->neigh[i].addr, r->addr, sizeof(cfg->neigh[i].addr)) ==
					 0;
		if (wanted)
			continue;
		struct npr_msg_neigh m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_NEIGH_DEL;
		m.hdr.len = sizeof(m);
		m.ifid = r->ifid;
		m.family = r->family;
		memcpy(m.addr, r->addr, sizeof(m.addr));
		msg(d, PH_DEL, &m);
		change(d, PK_NEIGH, '-', "neighbor %s dev %s",
		       npr_format_addr(r->family, r->addr, a, sizeof(a)),
		       r->ifid < NPR_MAX_IFACES ? d->p->ifname[r->ifid] : "?");
	}
	for (size_t i = 0; i < cfg->n_neigh; i++) {
		const struct config_neigh *w = &cfg->neigh[i];
		uint16_t ifid = d->d_ifid[w->iface];
		const struct npr_dump_neigh *r = NULL;
		for (size_t k = 0; k < rs->n_neigh && r == NULL; k++)
			if (rs->neigh[k].ifid == ifid && rs->neigh[k].family == w->family &&
			    memcmp(rs->neigh[k].addr, w->addr, sizeof(rs->neigh[k].addr)) == 0)
				r = &rs->neigh[k];
		bool same = r != NULL && memcmp(r->mac, w->mac, sizeof(r->mac)) == 0;
		if (same && !d->o->resync)
			continue;
		struct npr_msg_neigh m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_NEIGH_SET;
		m.hdr.len = sizeof(m);
		m.ifid = ifid;
		m.family = w->family;
		memcpy(m.mac, w->mac, sizeof(m.mac));
		memcpy(m.addr, w->addr, sizeof(m.addr));
		msg(d, PH_ADD, &m);
		if (same)
			d->p->n_resent++;
		else
			change(d, PK_NEIGH, r == NULL ? '+' : '~', "neighbor %s dev %s lladdr %s",
			       npr_format_addr(w->family, w->addr, a, sizeof(a)),
			       d->p->ifname[ifid], npr_format_mac(w->mac, mac));
	}
}

static bool
rs_nh_eq(const void *ctx, uint32_t idx, const void *key)
{
	return memcmp(&((const struct diff *)ctx)->rs_nhkey[idx], key, sizeof(struct nh_key)) == 0;
}

static void
diff_nhs(struct diff *d, struct idmap *ids)
{
	const struct config *cfg = d->cfg;
	const struct running *rs = d->rs;
	struct hset h;
	char t[160];

	bool *rs_used = calloc(rs->n_nh + 1, sizeof(bool));
	d->rs_nhkey = calloc(rs->n_nh + 1, sizeof(*d->rs_nhkey));
	if (rs_used == NULL || d->rs_nhkey == NULL || hset_init(&h, rs->n_nh) < 0) {
		free(rs_used);
		d->oom = true;
		return;
	}
	for (size_t k = 0; k < rs->n_nh; k++) {
		const struct npr_dump_nh *r = &rs->nh[k];
		idmap_set(ids, r->nh_id);
		if (r->flags & NPR_NH_F_MAC)
			continue; /* set by hand with a MAC: never one of ours */
		struct nh_key *key = &d->rs_nhkey[k];
		key->kind = r->kind;
		key->family = r->family;
		key->ifid = r->ifid;
		memcpy(key->gw, r->gw, sizeof(key->gw));
		if (hset_add(&h, npr_hash(key, sizeof(*key), 7), (uint32_t)k) < 0)
			d->oom = true;
	}
	for (size_t i = 0; i < cfg->n_nh && !d->oom; i++) {
		const struct config_nh *w = &cfg->nh[i];
		struct nh_key key;
		memset(&key, 0, sizeof(key));
		key.kind = w->kind;
		key.family = w->family;
		if (w->kind == NPR_NH_FORWARD) {
			key.ifid = d->d_ifid[w->iface];
			memcpy(key.gw, w->gw, sizeof(key.gw));
		}
		int64_t k = hset_find(&h, npr_hash(&key, sizeof(key), 7), rs_nh_eq, d, &key);
		if (k >= 0 && rs_used[k])
			k = -1; /* cannot happen: config next hops are distinct */
		struct npr_msg_nh_set m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_NH_SET;
		m.hdr.len = sizeof(m);
		m.kind = key.kind;
		m.family = key.family;
		m.ifid = key.ifid;
		memcpy(m.gw, key.gw, sizeof(m.gw));
		if (k >= 0) {
			rs_used[k] = true;
			d->d_nhid[i] = rs->nh[k].nh_id;
			if (!d->o->resync)
				continue;
			m.nh_id = d->d_nhid[i];
			msg(d, PH_NH, &m);
			d->p->n_resent++;
			continue;
		}
		m.nh_id = idmap_take(ids);
		if (m.nh_id == 0) {
			config_msgs_add(
				d->errs,
				"the data plane's next hop table (ids 1..%" PRIu32
				") has no room for the next hops of both the old and the new "
				"configuration: restart it with a larger --nexthops",
				ids->max - 1);
			break;
		}
		d->d_nhid[i] = m.nh_id;
		msg(d, PH_NH, &m);
		change(d, PK_NH, '+', "nexthop %u %s", m.nh_id,
		       plan_nh_text(d->p, m.kind, m.family, m.ifid, m.gw, t, sizeof(t)));
	}
	for (size_t k = 0; k < rs->n_nh; k++) {
		if (rs_used[k])
			continue;
		const struct npr_dump_nh *r = &rs->nh[k];
		msg_del_id(d, PH_NH_DEL, NPR_MSG_NH_DEL, r->nh_id);
		change(d, PK_NH, '-', "nexthop %u %s", r->nh_id,
		       plan_nh_text(d->p, r->kind, r->family, r->ifid, r->gw, t, sizeof(t)));
	}
	free(rs_used);
	hset_free(&h);
}

struct grp_key {
	const struct npr_group_member *m;
	uint32_t n;
};

static bool
rs_grp_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct diff *d = ctx;
	const struct running_group *g = &d->rs->group[idx];
	const struct grp_key *k = key;
	return g->n == k->n && memcmp(&d->rs_sorted[g->first], k->m, k->n * sizeof(*k->m)) == 0;
}

static void
diff_groups(struct diff *d, struct idmap *ids)
{
	const struct config *cfg = d->cfg;
	const struct running *rs = d->rs;
	struct hset h;

	bool *rs_used = calloc(rs->n_group + 1, sizeof(bool));
	d->rs_sorted = calloc(rs->n_member + 1, sizeof(*d->rs_sorted));
	if (rs_used == NULL || d->rs_sorted == NULL || hset_init(&h, rs->n_group) < 0) {
		free(rs_used);
		d->oom = true;
		return;
	}
	if (rs->n_member > 0)
		memcpy(d->rs_sorted, rs->member, rs->n_member * sizeof(*rs->member));
	for (size_t k = 0; k < rs->n_group; k++) {
		const struct running_group *g = &rs->group[k];
		idmap_set(ids, g->id);
		qsort(&d->rs_sorted[g->first], g->n, sizeof(*d->rs_sorted), cmp_member);
		if (hset_add(&h, npr_hash(&d->rs_sorted[g->first], g->n * sizeof(*d->rs_sorted), 8),
			     (uint32_t)k) < 0)
			d->oom = true;
	}
	uint8_t raw[sizeof(struct npr_msg_group_set) +
		    NPR_GROUP_MAX_MEMBERS * sizeof(struct npr_group_member)];
	struct npr_msg_group_set *m = (struct npr_msg_group_set *)raw;
	for (size_t i = 0; i < cfg->n_group && !d->oom; i++) {
		const struct config_group *w = &cfg->group[i];
		memset(raw, 0, sizeof(raw));
		for (uint32_t j = 0; j < w->n; j++) {
			m->members[j].nh_id = d->d_nhid[cfg->member[w->first + j].nh];
			m->members[j].weight = cfg->member[w->first + j].weight;
		}
		qsort(m->members, w->n, sizeof(m->members[0]), cmp_member);
		m->hdr.type = NPR_MSG_GROUP_SET;
		m->hdr.len = (uint32_t)(sizeof(*m) + w->n * sizeof(m->members[0]));
		m->n_members = (uint16_t)w->n;
		struct grp_key key = { m->members, w->n };
		int64_t k = hset_find(&h, npr_hash(m->members, w->n * sizeof(m->members[0]), 8),
				      rs_grp_eq, d, &key);
		if (k >= 0 && !rs_used[k]) {
			rs_used[k] = true;
			d->d_grpid[i] = rs->group[k].id;
			if (!d->o->resync)
				continue;
			m->group_id = d->d_grpid[i];
			msg(d, PH_GROUP, m);
			d->p->n_resent++;
			continue;
		}
		m->group_id = idmap_take(ids);
		if (m->group_id == 0) {
			config_msgs_add(d->errs,
					"the data plane's group table (ids 1..%" PRIu32
					") has no room for the groups of both the old and the new "
					"configuration: restart it with a larger --groups",
					ids->max - 1);
			break;
		}
		d->d_grpid[i] = m->group_id;
		msg(d, PH_GROUP, m);
		if (d->out != NULL) {
			char list[NPR_GROUP_MAX_MEMBERS * 16] = "";
			for (uint32_t j = 0; j < w->n; j++) {
				size_t n = strlen(list);
				snprintf(list + n, sizeof(list) - n, " %u:%u", m->members[j].nh_id,
					 m->members[j].weight);
			}
			change(d, PK_GROUP, '+', "group %u members (nexthop:weight)%s", m->group_id,
			       list);
		} else {
			change(d, PK_GROUP, '+', "group");
		}
	}
	for (size_t k = 0; k < rs->n_group; k++) {
		if (rs_used[k])
			continue;
		msg_del_id(d, PH_GROUP_DEL, NPR_MSG_GROUP_DEL, rs->group[k].id);
		change(d, PK_GROUP, '-', "group %u", rs->group[k].id);
	}
	free(rs_used);
	hset_free(&h);
}

static uint32_t
map_target(const struct diff *d, uint32_t t)
{
	if (t & CONFIG_GROUP)
		return NPR_TARGET_GROUP | d->d_grpid[t & NPR_TARGET_ID_MASK];
	return d->d_nhid[t];
}

static const char *
target_text(const struct diff *d, uint32_t target, char *buf, size_t len)
{
	uint32_t id = target & NPR_TARGET_ID_MASK;
	if (target & NPR_TARGET_GROUP) {
		snprintf(buf, len, "group %u", id);
		return buf;
	}
	/* a desired next hop (the ones routes are sent to) */
	for (size_t i = 0; i < d->cfg->n_nh; i++)
		if (d->d_nhid[i] == id) {
			const struct config_nh *w = &d->cfg->nh[i];
			char t[160];
			snprintf(buf, len, "%s (nexthop %u)",
				 plan_nh_text(d->p, w->kind, w->family,
					      w->kind == NPR_NH_FORWARD ? d->d_ifid[w->iface] : 0,
					      w->gw, t, sizeof(t)),
				 id);
			return buf;
		}
	snprintf(buf, len, "nexthop %u", id);
	return buf;
}

/* The route diff is one for both families: an entry is the family's struct, read through
 * this description. Both structs start with the prefix, followed by its length. */
struct route_family {
	int af;		     /* NPR_AF_INET / NPR_AF_INET6 */
	enum plan_kind kind; /* PK_ROUTE4 / PK_ROUTE6 */
	uint16_t add, del;   /* message types */
	size_t size;	     /* of an entry */
	size_t alen;	     /* prefix bytes; the prefix length is the byte after them */
	size_t target;	     /* offset of the target */
};

_Static_assert(offsetof(struct npr_route4, prefix) == 0 &&
		       offsetof(struct npr_route4, plen) ==
			       sizeof(((struct npr_route4 *)0)->prefix),
	       "route4: prefix, then its length");
_Static_assert(offsetof(struct npr_route6, prefix) == 0 &&
		       offsetof(struct npr_route6, plen) ==
			       sizeof(((struct npr_route6 *)0)->prefix),
	       "route6: prefix, then its length");

static const struct route_family family4 = {
	.af = NPR_AF_INET,
	.kind = PK_ROUTE4,
	.add = NPR_MSG_ROUTE4_ADD,
	.del = NPR_MSG_ROUTE4_DEL,
	.size = sizeof(struct npr_route4),
	.alen = sizeof(((struct npr_route4 *)0)->prefix),
	.target = offsetof(struct npr_route4, target),
};

static const struct route_family family6 = {
	.af = NPR_AF_INET6,
	.kind = PK_ROUTE6,
	.add = NPR_MSG_ROUTE6_ADD,
	.del = NPR_MSG_ROUTE6_DEL,
	.size = sizeof(struct npr_route6),
	.alen = sizeof(((struct npr_route6 *)0)->prefix),
	.target = offsetof(struct npr_route6, target),
};

/* Entries of one family: the running ones, or the configured ones. */
struct route_table {
	const struct route_family *f;
	const uint8_t *r;
	size_t n;
};

static const uint8_t *
route_at(const struct route_table *t, size_t i)
{
	return t->r + i * t->f->size;
}

static uint8_t
route_plen(const struct route_family *f, const uint8_t *e)
{
	return e[f->alen];
}

static uint32_t
route_target(const struct route_family *f, const uint8_t *e)
{
	uint32_t t;
	memcpy(&t, e + f->target, sizeof(t));
	return t;
}

/* Identity: the prefix and its length. */
static uint64_t
route_hash(const struct route_family *f, const uint8_t *e)
{
	return npr_hash(e, f->alen + 1, 6);
}

static bool
route_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct route_table *t = ctx;
	return memcmp(route_at(t, idx), key, t->f->alen + 1) == 0;
}

static const char *
route_prefix_text(const struct route_family *f, const uint8_t *e, char *buf, size_t len)
{
	return npr_format_prefix(f->af, e, route_plen(f, e), buf, len);
}

static void
diff_routes(struct diff *d, const struct route_table *want, const struct route_table *have)
{
	const struct route_family *f = want->f;
	struct hset h;
	char a[NPR_PREFIX_STRLEN], t1[200], t2[200];
	uint8_t e[sizeof(struct npr_route6)]; /* the entry sent */

	uint8_t *seen = calloc(have->n + 1, 1);
	if (seen == NULL || hset_init(&h, have->n) < 0) {
		free(seen);
		d->oom = true;
		return;
	}
	for (size_t k = 0; k < have->n; k++)
		if (hset_add(&h, route_hash(f, route_at(have, k)), (uint32_t)k) < 0)
			d->oom = true;
	for (size_t i = 0; i < want->n && !d->oom; i++) {
		memcpy(e, route_at(want, i), f->size);
		uint32_t target = map_target(d, route_target(f, e));
		memcpy(e + f->target, &target, sizeof(target));
		int64_t k = hset_find(&h, route_hash(f, e), route_eq, have, e);
		bool same = false;
		if (k >= 0) {
			seen[k] = 1;
			same = route_target(f, route_at(have, (size_t)k)) == target;
		}
		if (same && !d->o->resync)
			continue;
		if (plan_route(d->p, &d->acc, PH_ROUTE, f->add, e, f->size) < 0)
			d->oom = true;
		if (same) {
			d->p->n_resent++;
		} else if (d->out == NULL) {
			change(d, f->kind, k < 0 ? '+' : '~', "route");
		} else {
			route_prefix_text(f, e, a, sizeof(a));
			target_text(d, target, t1, sizeof(t1));
			if (k < 0)
				change(d, f->kind, '+', "route %s %s", a, t1);
			else
				change(d, f->kind, '~', "route %s %s (was %s)", a, t1,
				       target_text(d, route_target(f, route_at(have, (size_t)k)),
						   t2, sizeof(t2)));
		}
	}
	for (size_t k = 0; k < have->n && !d->oom; k++) {
		if (seen[k])
			continue;
		/* a deletion: the prefix and its length, the rest zero */
		memset(e, 0, sizeof(e));
		memcpy(e, route_at(have, k), f->alen + 1);
		if (plan_route(d->p, &d->acc, PH_DEL, f->del, e, f->size) < 0)
			d->oom = true;
		change(d, f->kind, '-', "route %s",
		       d->out == NULL ? "" : route_prefix_text(f, e, a, sizeof(a)));
	}
	free(seen);
	hset_free(&h);
}

/* ---- entry point ---- */

int
plan_build(const struct config *cfg, const struct running *rs, const struct plan_opts *o,
	   struct plan *p, struct config_msgs *errs)
{
	static const struct plan_opts none;
	memset(p, 0, sizeof(*p));
	if (o == NULL)
		o = &none;
	p->resync = o->resync;
	struct diff d = { .cfg = cfg,
			  .rs = rs,
			  .o = o,
			  .p = p,
			  .errs = errs,
			  .out = o->changes,
			  .acc = PLAN_ROUTES_INIT };
	size_t err_before = errs->n_total;
	struct idmap nh_ids = { 0 }, grp_ids = { 0 };

	d.d_ifid = calloc(cfg->n_iface + 1, sizeof(*d.d_ifid));
	d.d_port = calloc(cfg->n_iface + 1, sizeof(*d.d_port));
	d.rs_of_ifid = malloc(NPR_MAX_IFACES * sizeof(*d.rs_of_ifid));
	d.d_nhid = calloc(cfg->n_nh + 1, sizeof(*d.d_nhid));
	d.d_grpid = calloc(cfg->n_group + 1, sizeof(*d.d_grpid));
	if (d.d_ifid == NULL || d.d_port == NULL || d.rs_of_ifid == NULL || d.d_nhid == NULL ||
	    d.d_grpid == NULL || idmap_init(&nh_ids, rs->info.nh_max) < 0 ||
	    idmap_init(&grp_ids, rs->info.group_max) < 0) {
		d.oom = true;
		goto out;
	}
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++)
		d.rs_of_ifid[i] = -1;

	if (o->resync) {
		struct npr_msg_hdr h = { .type = NPR_MSG_SYNC_BEGIN, .len = sizeof(h) };
		msg(&d, PH_SYNC_BEGIN, &h);
	}
	diff_ifaces(&d);
	if (errs->n_total > err_before)
		goto out;
	diff_addrs(&d);
	diff_neighs(&d);
	diff_nhs(&d, &nh_ids);
	if (errs->n_total > err_before || d.oom)
		goto out;
	diff_groups(&d, &grp_ids);
	if (errs->n_total > err_before || d.oom)
		goto out;
	diff_routes(&d, &(struct route_table){ &family4, (const uint8_t *)cfg->r4, cfg->n4 },
		    &(struct route_table){ &family4, (const uint8_t *)rs->r4, rs->n4 });
	diff_routes(&d, &(struct route_table){ &family6, (const uint8_t *)cfg->r6, cfg->n6 },
		    &(struct route_table){ &family6, (const uint8_t *)rs->r6, rs->n6 });
	plan_routes_close(p, &d.acc);
	if (o->resync) {
		struct npr_msg_hdr h = { .type = NPR_MSG_SYNC_END, .len = sizeof(h) };
		msg(&d, PH_SYNC_END, &h);
	}
	if (!d.oom && plan_finish(p) < 0)
		d.oom = true;
out:
	free(d.d_ifid);
	free(d.d_port);
	free(d.rs_of_ifid);
	free(d.d_nhid);
	free(d.d_grpid);
	free(d.rs_nhkey);
	free(d.rs_sorted);
	free(nh_ids.used);
	free(grp_ids.used);
	if (d.oom) {
		config_msgs_add(errs, "out of memory");
		return -ENOMEM;
	}
	return errs->n_total > err_before ? -EINVAL : 0;
}
