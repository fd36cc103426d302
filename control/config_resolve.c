/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes, next hops and groups: the raw routes of the walk checked against each other and
 * the addresses, their gateways resolved to next hops, next-hop lists to groups, into
 * struct config (see config_build.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/addr.h"
#include "config_build.h"
#include "grow.h"

#define RESOLVE_MAX_DEPTH 4

/* ---- routes, next hops, groups ---- */

struct route_key {
	uint8_t family, plen;
	uint8_t prefix[16];
};

static uint64_t
route_hash(int family, const uint8_t *prefix, unsigned plen)
{
	struct route_key k = { .family = (uint8_t)family, .plen = (uint8_t)plen };
	memcpy(k.prefix, prefix, family == NPR_AF_INET ? 4 : 16);
	return npr_hash(&k, sizeof(k), 2);
}

static bool
route_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct raw_route *r = &((const struct build *)ctx)->rr[idx];
	const struct route_key *k = key;
	return r->family == k->family && r->plen == k->plen &&
	       memcmp(r->prefix, k->prefix, sizeof(r->prefix)) == 0;
}

static int64_t
route_find(const struct build *b, int family, const uint8_t *prefix, unsigned plen)
{
	struct route_key k = { .family = (uint8_t)family, .plen = (uint8_t)plen };
	memcpy(k.prefix, prefix, sizeof(k.prefix));
	return hset_find(&b->routes, route_hash(family, prefix, plen), route_eq, b, &k);
}

static bool
nh_eq(const void *ctx, uint32_t idx, const void *key)
{
	return memcmp(&((const struct config *)ctx)->nh[idx], key, sizeof(struct config_nh)) == 0;
}

/* The next hop index for n, created if new; -1 if out of memory. */
static int64_t
nh_get(struct build *b, const struct config_nh *n)
{
	struct config *cfg = b->cfg;
	uint64_t h = npr_hash(n, sizeof(*n), 3);
	int64_t i = hset_find(&b->nhs, h, nh_eq, cfg, n);
	if (i >= 0)
		return i;
	if (grow_array(&cfg->nh, &cfg->cap_nh, cfg->n_nh + 1, sizeof(*n)) < 0 ||
	    hset_add(&b->nhs, h, (uint32_t)cfg->n_nh) < 0) {
		b->oom = true;
		return -1;
	}
	cfg->nh[cfg->n_nh] = *n;
	return (int64_t)cfg->n_nh++;
}

static int64_t
nh_forward(struct build *b, uint16_t iface, int family, const uint8_t *gw)
{
	struct config_nh n;
	memset(&n, 0, sizeof(n));
	n.kind = NPR_NH_FORWARD;
	n.iface = iface;
	if (gw != NULL) {
		n.family = (uint8_t)family;
		memcpy(n.gw, gw, sizeof(n.gw));
	}
	return nh_get(b, &n);
}

/* The interface with the longest connected subnet holding a (-1 if none); iface >= 0
 * restricts the search to that interface. */
static int
connected_iface(const struct build *b, int family, const uint8_t *a, int iface)
{
	const struct config *cfg = b->cfg;
	int best = -1, best_len = -1;
	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *ad = &cfg->addr[i];
		if (ad->family != family || (iface >= 0 && ad->iface != iface))
			continue;
		if (ad->plen > best_len && npr_same_prefix(family, a, ad->addr, ad->plen)) {
			best = ad->iface;
			best_len = ad->plen;
		}
	}
	return best;
}

static int
neighbor_iface(const struct build *b, int family, const uint8_t *a, int iface)
{
	const struct config *cfg = b->cfg;
	for (size_t i = 0; i < cfg->n_neigh; i++) {
		const struct config_neigh *n = &cfg->neigh[i];
		if (n->family == family && (iface < 0 || n->iface == iface) &&
		    memcmp(n->addr, a, sizeof(n->addr)) == 0)
			return n->iface;
	}
	return -1;
}

static bool
gw_eq(const void *ctx, uint32_t idx, const void *key)
{
	return memcmp(&((const struct build *)ctx)->gw[idx].k, key, sizeof(struct gw_key)) == 0;
}

static int64_t resolve(struct build *b, size_t self, const struct raw_member *m, int depth,
		       char *why, size_t whylen);

/* A gateway with no interface given, not on a connected subnet: through the most specific
 * other route holding it, which must have one next hop. */
static int64_t
resolve_by_route(struct build *b, size_t self, const struct raw_member *m, int depth, char *why,
		 size_t whylen)
{
	char s[INET6_ADDRSTRLEN], p[NPR_PREFIX_STRLEN];
	uint8_t masked[16];
	int64_t ri = -1;

	npr_format_addr(m->family, m->gw, s, sizeof(s));
	for (int len = (int)npr_hostlen(m->family); len >= 0 && ri < 0; len--) {
		memcpy(masked, m->gw, sizeof(masked));
		npr_prefix_mask(m->family, masked, (uint8_t)len);
		ri = route_find(b, m->family, masked, (unsigned)len);
		if (ri >= 0 && ((size_t)ri == self || b->rr[ri].kind == RAW_DROPPED))
			ri = -1;
	}
	if (ri < 0) {
		snprintf(why, whylen,
			 "gateway %s is unreachable: no connected subnet, static neighbor or "
			 "other route holds it",
			 s);
		return -1;
	}
	const struct raw_route *r = &b->rr[ri];
	npr_format_prefix(r->family, r->prefix, r->plen, p, sizeof(p));
	if (depth >= RESOLVE_MAX_DEPTH) {
		snprintf(why, whylen, "gateway %s: routes resolve through each other (via %s)", s,
			 p);
		return -1;
	}
	switch (r->kind) {
	case RAW_SPECIAL:
		snprintf(why, whylen, "gateway %s is reachable only through the special route %s",
			 s, p);
		return -1;
	case RAW_LIST:
		snprintf(why, whylen,
			 "gateway %s is reachable only through the next-hop-list route %s; give "
			 "outgoing-interface",
			 s, p);
		return -1;
	case RAW_SIMPLE: {
		const struct raw_member *via = &b->rm[r->first];
		if (!via->has_gw) /* the route says the prefix is on that link */
			return nh_forward(b, (uint16_t)via->iface, m->family, m->gw);
		return resolve(b, (size_t)ri, via, depth + 1, why, whylen);
	}
	default:
		snprintf(why, whylen, "gateway %s: no usable route", s);
		return -1;
	}
}

/* The next hop index of member m of route self, or -1 with the reason in why. */
static int64_t
resolve(struct build *b, size_t self, const struct raw_member *m, int depth, char *why,
	size_t whylen)
{
	const struct config *cfg = b->cfg;
	char s[INET6_ADDRSTRLEN];

	if (!m->has_gw)
		return nh_forward(b, (uint16_t)m->iface, 0, NULL);

	struct gw_key k;
	memset(&k, 0, sizeof(k));
	k.iface = m->iface;
	k.family = m->family;
	memcpy(k.gw, m->gw, sizeof(k.gw));
	uint64_t h = npr_hash(&k, sizeof(k), 4);
	int64_t gi = hset_find(&b->gws, h, gw_eq, b, &k);
	if (gi >= 0)
		return b->gw[gi].nh;

	npr_format_addr(m->family, m->gw, s, sizeof(s));
	for (size_t i = 0; i < cfg->n_addr; i++)
		if (cfg->addr[i].family == m->family &&
		    memcmp(cfg->addr[i].addr, m->gw, sizeof(cfg->addr[i].addr)) == 0 &&
		    (!npr_is_ll6(m->family, m->gw) || cfg->addr[i].iface == m->iface)) {
			/* (a link-local address is ours only on its own link) */
			snprintf(why, whylen,
				 "gateway %s is an address of this router (interface %s)", s,
				 cfg->iface[cfg->addr[i].iface].name);
			return -1;
		}
	int iface = -1;
	if (m->iface >= 0) {
		const bool *en = m->family == NPR_AF_INET ? b->en4 : b->en6;
		if (!en[m->iface]) {
			snprintf(why, whylen, "gateway %s: IPv%d is not enabled on interface %s", s,
				 m->family, cfg->iface[m->iface].name);
			return -1;
		}
		if (connected_iface(b, m->family, m->gw, m->iface) >= 0 ||
		    npr_is_ll6(m->family, m->gw) ||
		    neighbor_iface(b, m->family, m->gw, m->iface) >= 0) {
			iface = m->iface;
		} else {
			snprintf(why, whylen,
				 "gateway %s is not reachable through interface %s (no connected "
				 "subnet or static neighbor of that interface holds it)",
				 s, cfg->iface[m->iface].name);
			return -1;
		}
	} else if (npr_is_ll6(m->family, m->gw)) {
		snprintf(why, whylen, "gateway %s is link-local: give outgoing-interface", s);
		return -1;
	} else {
		iface = connected_iface(b, m->family, m->gw, -1);
		if (iface < 0)
			iface = neighbor_iface(b, m->family, m->gw, -1);
		if (iface < 0) /* not cached: the answer depends on the route asking */
			return resolve_by_route(b, self, m, depth, why, whylen);
	}
	int64_t nh = nh_forward(b, (uint16_t)iface, m->family, m->gw);
	if (nh < 0)
		return -1;
	if (grow_array(&b->gw, &b->cap_gw, b->n_gw + 1, sizeof(*b->gw)) < 0 ||
	    hset_add(&b->gws, h, (uint32_t)b->n_gw) < 0) {
		b->oom = true;
		return -1;
	}
	b->gw[b->n_gw].k = k;
	b->gw[b->n_gw].nh = (uint32_t)nh;
	b->n_gw++;
	return nh;
}

struct group_key {
	const struct config_member *m;
	uint32_t n;
};

static bool
group_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct config *cfg = ctx;
	const struct group_key *k = key;
	const struct config_group *g = &cfg->group[idx];
	return g->n == k->n && memcmp(&cfg->member[g->first], k->m, k->n * sizeof(*k->m)) == 0;
}

/* Target of a next-hop-list route: a group, or a next hop if the list has only one. */
static int64_t
list_target(struct build *b, size_t ri, char *why, size_t whylen)
{
	struct config *cfg = b->cfg;
	const struct raw_route *r = &b->rr[ri];
	struct config_member m[NPR_GROUP_MAX_MEMBERS];
	uint32_t n = 0, total = 0;

	if (r->n > NPR_GROUP_MAX_MEMBERS) {
		snprintf(why, whylen, "the next-hop list has %u entries: at most %u", r->n,
			 NPR_GROUP_MAX_MEMBERS);
		return -1;
	}
	for (uint32_t i = 0; i < r->n; i++) {
		int64_t nh = resolve(b, ri, &b->rm[r->first + i], 0, why, whylen);
		if (nh < 0)
			return -1;
		uint16_t w = b->rm[r->first + i].weight;
		total += w;
		uint32_t j = 0;
		while (j < n && m[j].nh != (uint32_t)nh)
			j++;
		if (j < n) { /* two entries reach the same next hop: one member, both weights */
			if (m[j].weight + w > NPR_GROUP_MAX_WEIGHT) {
				snprintf(why, whylen,
					 "entries of the next-hop list lead to the same next hop "
					 "with "
					 "weights adding up to more than %u",
					 NPR_GROUP_MAX_WEIGHT);
				return -1;
			}
			m[j].weight = (uint16_t)(m[j].weight + w);
			continue;
		}
		/* insertion sort by next hop index: equal lists compare equal */
		while (j > 0 && m[j - 1].nh > (uint32_t)nh) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = (struct config_member){ .nh = (uint32_t)nh, .weight = w };
		n++;
	}
	if (total > NPR_GROUP_MAX_SLOTS) {
		snprintf(why, whylen, "the weights of the next-hop list add up to %u: at most %u",
			 total, NPR_GROUP_MAX_SLOTS);
		return -1;
	}
	if (n == 1)
		return m[0].nh;
	struct group_key k = { m, n };
	uint64_t h = npr_hash(m, n * sizeof(m[0]), 5);
	int64_t gi = hset_find(&b->groups, h, group_eq, cfg, &k);
	if (gi >= 0)
		return CONFIG_GROUP | (uint32_t)gi;
	if (grow_array(&cfg->group, &cfg->cap_group, cfg->n_group + 1, sizeof(*cfg->group)) < 0 ||
	    hset_add(&b->groups, h, (uint32_t)cfg->n_group) < 0) {
		b->oom = true;
		return -1;
	}
	if (grow_array(&cfg->member, &cfg->cap_member, cfg->n_member + n, sizeof(*m)) < 0) {
		b->oom = true;
		return -1;
	}
	cfg->group[cfg->n_group] =
		(struct config_group){ .first = (uint32_t)cfg->n_member, .n = n };
	memcpy(&cfg->member[cfg->n_member], m, n * sizeof(m[0]));
	cfg->n_member += n;
	return CONFIG_GROUP | (uint32_t)cfg->n_group++;
}

static int64_t
special_target(struct build *b, unsigned kind)
{
	struct config_nh n;
	memset(&n, 0, sizeof(n));
	n.kind = (uint8_t)kind;
	return nh_get(b, &n);
}

/* Duplicates, routes on router addresses. Connected subnets are indexed too (the data plane
 * installs their routes itself, with each address): to find subnets on two interfaces and
 * static routes that replace a connected one. */
void
build_index_routes(struct build *b)
{
	struct config *cfg = b->cfg;
	char p[NPR_PREFIX_STRLEN];

	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *a = &cfg->addr[i];
		if (a->plen == npr_hostlen(a->family) || npr_is_ll6(a->family, a->addr))
			continue;
		uint8_t pfx[16];
		memcpy(pfx, a->addr, sizeof(pfx));
		npr_prefix_mask(a->family, pfx, a->plen);
		int64_t o = route_find(b, a->family, pfx, a->plen);
		if (o >= 0) {
			if (b->rr[o].first != a->iface)
				build_error(
					b, NULL,
					"subnet %s is connected to both interfaces %s and %s",
					npr_format_prefix(a->family, pfx, a->plen, p, sizeof(p)),
					cfg->iface[b->rr[o].first].name, cfg->iface[a->iface].name);
			continue;
		}
		struct raw_route *r = build_new_route(b);
		if (r == NULL)
			return;
		r->family = a->family;
		r->plen = a->plen;
		r->kind = RAW_CONNECTED;
		r->first = a->iface;
		memcpy(r->prefix, pfx, sizeof(r->prefix));
		if (hset_add(&b->routes, route_hash(a->family, pfx, a->plen),
			     (uint32_t)(b->n_rr - 1)) < 0)
			b->oom = true;
	}
	for (size_t i = 0; i < b->n_rr; i++) {
		struct raw_route *r = &b->rr[i];
		if (r->kind == RAW_CONNECTED)
			continue;
		int64_t o = route_find(b, r->family, r->prefix, r->plen);
		if (o >= 0) {
			npr_format_prefix(r->family, r->prefix, r->plen, p, sizeof(p));
			if (b->rr[o].kind == RAW_CONNECTED) {
				/* the data plane lets a configured route win */
				build_warn(b, r->node,
					   "%s is the connected subnet of interface %s: this route "
					   "replaces the connected route",
					   p, cfg->iface[b->rr[o].first].name);
				continue;
			}
			build_error(b, r->node,
				    "route %s is also defined in another control-plane-protocol",
				    p);
			r->kind = RAW_DROPPED;
			continue;
		}
		if (hset_add(&b->routes, route_hash(r->family, r->prefix, r->plen), (uint32_t)i) <
		    0)
			b->oom = true;
	}
	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *a = &cfg->addr[i];
		int64_t o = route_find(b, a->family, a->addr, npr_hostlen(a->family));
		if (o >= 0 && b->rr[o].kind != RAW_CONNECTED && b->rr[o].kind != RAW_DROPPED) {
			build_error(b, b->rr[o].node,
				    "%s is an address of interface %s: no route can replace it",
				    npr_format_prefix(a->family, a->addr, npr_hostlen(a->family), p,
						      sizeof(p)),
				    cfg->iface[a->iface].name);
			b->rr[o].kind = RAW_DROPPED;
		}
	}
}

void
build_resolve_routes(struct build *b)
{
	struct config *cfg = b->cfg;
	char why[300];
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < b->n_rr; i++) {
		if (b->rr[i].kind == RAW_DROPPED || b->rr[i].kind == RAW_CONNECTED)
			continue;
		if (b->rr[i].family == NPR_AF_INET)
			n4++;
		else
			n6++;
	}
	cfg->r4 = calloc(n4 + 1, sizeof(*cfg->r4));
	cfg->r6 = calloc(n6 + 1, sizeof(*cfg->r6));
	if (cfg->r4 == NULL || cfg->r6 == NULL) {
		b->oom = true;
		return;
	}
	cfg->cap4 = n4 + 1;
	cfg->cap6 = n6 + 1;
	for (size_t i = 0; i < b->n_rr && !b->oom; i++) {
		const struct raw_route *r = &b->rr[i];
		int64_t t = -1;
		why[0] = '\0';
		switch (r->kind) {
		case RAW_DROPPED:
		case RAW_CONNECTED: /* installed by the data plane with the address */
			continue;
		case RAW_SPECIAL:
			t = special_target(b, r->special);
			break;
		case RAW_SIMPLE:
			t = resolve(b, i, &b->rm[r->first], 0, why, sizeof(why));
			break;
		case RAW_LIST:
			t = list_target(b, i, why, sizeof(why));
			break;
		}
		if (t < 0) {
			if (why[0] != '\0')
				build_error(b, r->node, "%s", why);
			continue;
		}
		if (r->family == NPR_AF_INET) {
			struct npr_route4 *o = &cfg->r4[cfg->n4++];
			memcpy(&o->prefix, r->prefix, sizeof(o->prefix));
			o->plen = r->plen;
			o->target = (uint32_t)t;
			cfg->n_static4++;
		} else {
			struct npr_route6 *o = &cfg->r6[cfg->n6++];
			memcpy(o->prefix, r->prefix, sizeof(o->prefix));
			o->plen = r->plen;
			o->target = (uint32_t)t;
			cfg->n_static6++;
		}
	}
}
