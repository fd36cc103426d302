/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The walk: a validated libyang tree -> interfaces, addresses, neighbours and raw routes
 * (see config_build.h; config.h for the mapping).
 *
 * The walk reads the validated libyang tree once, keeping the routes in a raw form (prefix,
 * the next hop as written) with their tree node for error paths; next hops are resolved
 * after the walk, when every route is known, since a gateway may be reachable only through
 * another route. Gateways are few, so their resolution is cached; routes are many, so the
 * walk reads values through lyd_get_value and our own parsers, never through XPath.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>
#include <libyang/plugins_types.h>

#include "npr/addr.h"
#include "config_build.h"
#include "grow.h"

#define MTU_DEFAULT 1500u
#define MTU_MIN 68u
#define MTU_MAX 9000u

/* ---- reading values ---- */

static bool
named(const struct lyd_node *n, const char *name)
{
	return n->schema != NULL && strcmp(n->schema->name, name) == 0;
}

static bool
module_is(const struct lyd_node *n, const char *mod)
{
	return n->schema != NULL && strcmp(n->schema->module->name, mod) == 0;
}

static const char *
val(const struct lyd_node *n)
{
	return lyd_get_value(n);
}

/* The binary value libyang keeps for ietf-inet-types prefixes and addresses, which saves
 * printing and re-parsing a million of them. Returns false (use the string) if the value is
 * not stored by the plugin we know. */
static bool
plugin_is(const struct lyd_node *n, const char *id)
{
	const struct lysc_type *t = ((const struct lyd_node_term *)n)->value.realtype;
	return t != NULL && t->plugin != NULL && t->plugin->id != NULL &&
	       strcmp(t->plugin->id, id) == 0;
}

static bool
prefix_bin(const struct lyd_node *n, int family, uint8_t addr[16], uint8_t *plen)
{
	const struct lyd_value *v = &((const struct lyd_node_term *)n)->value;
	if (family == NPR_AF_INET && plugin_is(n, "libyang 2 - ipv4-prefix, version 1")) {
		const struct lyd_value_ipv4_prefix *p;
		LYD_VALUE_GET(v, p);
		memset(addr, 0, 16);
		memcpy(addr, &p->addr, sizeof(p->addr));
		*plen = p->prefix;
		return true;
	}
	if (family == NPR_AF_INET6 && plugin_is(n, "libyang 2 - ipv6-prefix, version 1")) {
		const struct lyd_value_ipv6_prefix *p;
		LYD_VALUE_GET(v, p);
		memcpy(addr, &p->addr, sizeof(p->addr));
		*plen = p->prefix;
		return true;
	}
	return false;
}

/* 1: got it, 0: use the string, -1: it has a zone */
static int
addr_bin(const struct lyd_node *n, int family, uint8_t addr[16])
{
	const struct lyd_value *v = &((const struct lyd_node_term *)n)->value;
	if (family == NPR_AF_INET && plugin_is(n, "libyang 2 - ipv4-address, version 1")) {
		const struct lyd_value_ipv4_address *a;
		LYD_VALUE_GET(v, a);
		memset(addr, 0, 16);
		memcpy(addr, &a->addr, sizeof(a->addr));
		return a->zone != NULL ? -1 : 1;
	}
	if (family == NPR_AF_INET6 && plugin_is(n, "libyang 2 - ipv6-address, version 1")) {
		const struct lyd_value_ipv6_address *a;
		LYD_VALUE_GET(v, a);
		memcpy(addr, &a->addr, sizeof(a->addr));
		return a->zone != NULL ? -1 : 1;
	}
	return 0;
}

/* a within prefix/plen */
static bool
valid_ifname(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.' ||
		      *s == ':' || *s == '@'))
			return false;
	return true;
}

/* ---- the walk ---- */

/* "FILE: /data/path: reason" */
void
build_error(struct build *b, const struct lyd_node *n, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (b->errs->n >= CONFIG_MAX_REPORTED) {
		b->errs->n_total++; /* skip building the path */
		return;
	}
	char *path = n != NULL ? lyd_path(n, LYD_PATH_STD, NULL, 0) : NULL;
	if (path != NULL)
		config_msgs_add(b->errs, "%s: %s: %s", b->name, path, reason);
	else
		config_msgs_add(b->errs, "%s: %s", b->name, reason);
	free(path);
}

void
build_warn(struct build *b, const struct lyd_node *n, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	if (b->warns == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	char *path = n != NULL ? lyd_path(n, LYD_PATH_STD, NULL, 0) : NULL;
	config_msgs_add(b->warns, "%s: %s%s%s", b->name, path != NULL ? path : "",
			path != NULL ? ": " : "", reason);
	free(path);
}

static bool
ifname_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct config *cfg = ctx;
	return strcmp(cfg->iface[idx].name, key) == 0;
}

static int
iface_index(const struct build *b, const char *name)
{
	int64_t i =
		hset_find(&b->ifnames, npr_hash(name, strlen(name), 1), ifname_eq, b->cfg, name);
	return (int)i;
}

/* An ietf-ip address or neighbor list entry. */
static void
walk_addr(struct build *b, const struct lyd_node *e, int family, uint16_t ifi, bool neighbor)
{
	struct config *cfg = b->cfg;
	const struct lyd_node *ipn = NULL;
	const char *ip = NULL, *lladdr = NULL;
	long plen = -1;

	for (const struct lyd_node *c = lyd_child(e); c != NULL; c = c->next) {
		if (named(c, "ip")) {
			ip = val(c);
			ipn = c;
		} else if (named(c, "prefix-length")) {
			plen = strtol(val(c), NULL, 10);
		} else if (named(c, "link-layer-address")) {
			lladdr = val(c);
		}
	}
	if (ip == NULL)
		return; /* libyang requires it */
	uint8_t a[16] = { 0 };
	int fam;
	if (npr_parse_addr(ip, &fam, a) < 0 || fam != family) {
		build_error(b, ipn, "'%s' is not an IPv%d address", ip, family);
		return;
	}
	const char *why = npr_bad_unicast(family, a);
	if (why != NULL) {
		build_error(b, ipn, "%s %s", ip, why);
		return;
	}
	if (neighbor) {
		struct config_neigh n = { .iface = ifi, .family = (uint8_t)family };
		memcpy(n.addr, a, sizeof(n.addr));
		if (lladdr == NULL || npr_parse_mac(lladdr, n.mac) < 0) {
			build_error(b, e, "link-layer-address '%s' is not an Ethernet MAC address",
				    lladdr != NULL ? lladdr : "");
			return;
		}
		if (npr_bad_unicast_mac(n.mac) != NULL) { /* zero or multicast */
			build_error(b, e, "link-layer-address %s is not a unicast MAC address",
				    lladdr);
			return;
		}
		if (grow_array(&cfg->neigh, &cfg->cap_neigh, cfg->n_neigh + 1, sizeof(n)) < 0) {
			b->oom = true;
			return;
		}
		cfg->neigh[cfg->n_neigh++] = n;
		return;
	}
	if (plen < 1 || plen > (long)npr_hostlen(family)) {
		build_error(b, e, "prefix-length %ld: the data plane needs 1..%u", plen,
			    npr_hostlen(family));
		return;
	}
	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *o = &cfg->addr[i];
		if (o->family == family && memcmp(o->addr, a, sizeof(o->addr)) == 0) {
			build_error(b, ipn, "address %s is also on interface %s", ip,
				    cfg->iface[o->iface].name);
			return;
		}
	}
	struct config_addr n = { .iface = ifi, .family = (uint8_t)family, .plen = (uint8_t)plen };
	memcpy(n.addr, a, sizeof(n.addr));
	if (grow_array(&cfg->addr, &cfg->cap_addr, cfg->n_addr + 1, sizeof(n)) < 0) {
		b->oom = true;
		return;
	}
	cfg->addr[cfg->n_addr++] = n;
}

/* ietf-ip ipv4 / ipv6 container: addresses and neighbours when enabled; returns its MTU. */
static long
walk_ip(struct build *b, const struct lyd_node *ipc, int family, uint16_t ifi, bool *enabled)
{
	long mtu = 0;
	*enabled = true;
	for (const struct lyd_node *c = lyd_child(ipc); c != NULL; c = c->next)
		if (named(c, "enabled") && strcmp(val(c), "false") == 0)
			*enabled = false;
	for (const struct lyd_node *c = lyd_child(ipc); c != NULL; c = c->next) {
		if (named(c, "mtu")) {
			mtu = strtol(val(c), NULL, 10);
			if (mtu > (long)MTU_MAX) {
				build_error(b, c, "MTU %ld: the data plane takes %u..%u", mtu,
					    MTU_MIN, MTU_MAX);
				mtu = 0;
			}
		} else if (*enabled && (named(c, "address") || named(c, "neighbor"))) {
			walk_addr(b, c, family, ifi, named(c, "neighbor"));
		}
	}
	return mtu;
}

static void
walk_interface(struct build *b, const struct lyd_node *ifn)
{
	struct config *cfg = b->cfg;
	struct config_iface f = { .up = true };
	const struct lyd_node *ip4 = NULL, *ip6 = NULL, *namen = NULL;
	const char *name = NULL, *type = NULL;
	long mtu = 0;

	for (const struct lyd_node *c = lyd_child(ifn); c != NULL; c = c->next) {
		if (named(c, "name")) {
			name = val(c);
			namen = c;
		} else if (named(c, "type")) {
			type = val(c);
		} else if (named(c, "enabled")) {
			f.up = strcmp(val(c), "true") == 0;
		} else if (module_is(c, "nprouter") && named(c, "port")) {
			snprintf(f.port, sizeof(f.port), "%s", val(c));
		} else if (module_is(c, "nprouter") && named(c, "mac-address")) {
			if (npr_parse_mac(val(c), f.mac) < 0)
				build_error(b, c, "'%s' is not a MAC address", val(c));
			f.has_mac = true;
		} else if (module_is(c, "nprouter") && named(c, "mtu")) {
			mtu = strtol(val(c), NULL, 10);
		} else if (module_is(c, "ietf-ip") && named(c, "ipv4")) {
			ip4 = c;
		} else if (module_is(c, "ietf-ip") && named(c, "ipv6")) {
			ip6 = c;
		}
	}
	if (name == NULL)
		return;
	if (type == NULL || strcmp(type, "iana-if-type:ethernetCsmacd") != 0) {
		build_error(b, ifn,
			    "type %s is not supported: the data plane has Ethernet interfaces "
			    "(iana-if-type:ethernetCsmacd) only",
			    type != NULL ? type : "?");
		return;
	}
	if (strlen(name) >= NPR_NAME_LEN) {
		build_error(b, namen,
			    "interface name '%s' is %zu characters long: the data plane takes at "
			    "most %u",
			    name, strlen(name), NPR_NAME_LEN - 1);
		return;
	}
	if (!valid_ifname(name)) {
		build_error(b, namen,
			    "interface name '%s' has characters other than A-Z a-z 0-9 _ - . : @",
			    name);
		return;
	}
	snprintf(f.name, sizeof(f.name), "%s", name);
	if (cfg->n_iface >= NPR_MAX_IFACES) {
		build_error(b, ifn, "more than %u interfaces", NPR_MAX_IFACES);
		return;
	}
	if (grow_array(&cfg->iface, &cfg->cap_iface, cfg->n_iface + 1, sizeof(f)) < 0) {
		b->oom = true;
		return;
	}
	uint16_t ifi = (uint16_t)cfg->n_iface;
	cfg->iface[cfg->n_iface++] = f;
	if (hset_add(&b->ifnames, npr_hash(f.name, strlen(f.name), 1), ifi) < 0)
		b->oom = true;

	long mtu4 = 0, mtu6 = 0;
	bool en4 = false, en6 = false;
	if (ip4 != NULL)
		mtu4 = walk_ip(b, ip4, NPR_AF_INET, ifi, &en4);
	if (ip6 != NULL)
		mtu6 = walk_ip(b, ip6, NPR_AF_INET6, ifi, &en6);
	b->en4[ifi] = en4;
	b->en6[ifi] = en6;
	/* our module's must statements make them agree */
	cfg->iface[ifi].has_mtu = mtu != 0 || mtu4 != 0 || mtu6 != 0;
	cfg->iface[ifi].mtu = (uint16_t)(mtu != 0    ? mtu
					 : mtu4 != 0 ? mtu4
					 : mtu6 != 0 ? mtu6
						     : MTU_DEFAULT);
}

struct raw_route *
build_new_route(struct build *b)
{
	if (grow_array(&b->rr, &b->cap_rr, b->n_rr + 1, sizeof(*b->rr)) < 0) {
		b->oom = true;
		return NULL;
	}
	struct raw_route *r = &b->rr[b->n_rr++];
	memset(r, 0, sizeof(*r));
	return r;
}

static struct raw_member *
new_member(struct build *b)
{
	if (grow_array(&b->rm, &b->cap_rm, b->n_rm + 1, sizeof(*b->rm)) < 0) {
		b->oom = true;
		return NULL;
	}
	struct raw_member *m = &b->rm[b->n_rm++];
	memset(m, 0, sizeof(*m));
	m->iface = -1;
	m->weight = 1;
	return m;
}

/* outgoing-interface / next-hop-address (/ weight) of a simple next hop or a list entry */
static int
walk_member(struct build *b, const struct lyd_node *parent, int family, struct raw_member *m)
{
	for (const struct lyd_node *c = lyd_child(parent); c != NULL; c = c->next) {
		if (named(c, "outgoing-interface")) {
			m->iface = iface_index(b, val(c));
			if (m->iface < 0) {
				/* an interface libyang accepted but we did not (reported there) */
				build_error(b, c, "interface '%s' is not usable", val(c));
				return -EINVAL;
			}
		} else if (named(c, "next-hop-address")) {
			int bin = addr_bin(c, family, m->gw);
			if (bin == 1) {
				const char *why = npr_bad_unicast(family, m->gw);
				if (why != NULL) {
					build_error(b, c, "gateway %s %s", val(c), why);
					return -EINVAL;
				}
				m->has_gw = 1;
				m->family = (uint8_t)family;
				continue;
			}
			const char *s = val(c);
			int fam;
			if (strchr(s, '%') != NULL) {
				build_error(b, c,
					    "gateway %s: address zones are not supported (give "
					    "outgoing-interface)",
					    s);
				return -EINVAL;
			}
			if (npr_parse_addr(s, &fam, m->gw) < 0 || fam != family) {
				build_error(b, c, "'%s' is not an IPv%d address", s, family);
				return -EINVAL;
			}
			const char *why = npr_bad_unicast(family, m->gw);
			if (why != NULL) {
				build_error(b, c, "gateway %s %s", s, why);
				return -EINVAL;
			}
			m->has_gw = 1;
			m->family = (uint8_t)family;
		} else if (named(c, "weight")) {
			m->weight = (uint16_t)strtoul(val(c), NULL, 10);
		}
	}
	return 0;
}

static void
walk_route(struct build *b, const struct lyd_node *rn, int family)
{
	const struct lyd_node *pn = NULL, *nhc = NULL;

	for (const struct lyd_node *c = lyd_child(rn); c != NULL; c = c->next) {
		if (named(c, "destination-prefix"))
			pn = c;
		else if (named(c, "next-hop"))
			nhc = c;
	}
	if (pn == NULL)
		return;
	struct raw_route *r = build_new_route(b);
	if (r == NULL)
		return;
	r->node = rn;
	r->family = (uint8_t)family;
	int fam = family;
	const char *prefix = NULL;
	if (!prefix_bin(pn, family, r->prefix, &r->plen))
		prefix = val(pn);
	if (prefix != NULL &&
	    (npr_parse_prefix(prefix, &fam, r->prefix, &r->plen) < 0 || fam != family)) {
		char why[128];
		build_error(b, rn, "destination-prefix '%s': %s", prefix,
			    npr_prefix_strerror(prefix, why, sizeof(why)));
		b->n_rr--;
		return;
	}
	const struct lyd_node *list = NULL, *special = NULL;
	bool simple = false;
	for (const struct lyd_node *c = nhc != NULL ? lyd_child(nhc) : NULL; c != NULL;
	     c = c->next) {
		if (named(c, "special-next-hop"))
			special = c;
		else if (named(c, "next-hop-list"))
			list = c;
		else if (named(c, "outgoing-interface") || named(c, "next-hop-address"))
			simple = true;
	}
	if (special != NULL) {
		static const char *const kinds[] = { [NPR_NH_BLACKHOLE] = "blackhole",
						     [NPR_NH_UNREACHABLE] = "unreachable",
						     [NPR_NH_PROHIBIT] = "prohibit" };
		r->kind = RAW_SPECIAL;
		for (unsigned k = NPR_NH_BLACKHOLE; k <= NPR_NH_PROHIBIT; k++)
			if (strcmp(val(special), kinds[k]) == 0)
				r->special = (uint8_t)k;
		if (r->special == 0) {
			build_error(b, special,
				    "special-next-hop %s is not supported (blackhole, unreachable "
				    "and prohibit are)",
				    val(special));
			b->n_rr--;
		}
		return;
	}
	if (simple) {
		r->kind = RAW_SIMPLE;
		r->first = (uint32_t)b->n_rm;
		r->n = 1;
		struct raw_member *m = new_member(b);
		if (m == NULL || walk_member(b, nhc, family, m) < 0) {
			b->n_rr--;
			return;
		}
		return;
	}
	if (list != NULL) {
		r->kind = RAW_LIST;
		r->first = (uint32_t)b->n_rm;
		for (const struct lyd_node *e = lyd_child(list); e != NULL; e = e->next) {
			if (!named(e, "next-hop"))
				continue;
			struct raw_member *m = new_member(b);
			/* new_member may move b->rr: r is not used below */
			if (m == NULL || walk_member(b, e, family, m) < 0) {
				b->n_rr--;
				return;
			}
			if (!m->has_gw && m->iface < 0) {
				build_error(b, e,
					    "next hop %s has neither outgoing-interface nor "
					    "next-hop-address",
					    val(lyd_child(e)));
				b->n_rr--;
				return;
			}
		}
		r = &b->rr[b->n_rr - 1];
		r->n = (uint32_t)b->n_rm - r->first;
		if (r->n == 0) {
			build_error(b, list, "empty next-hop list");
			b->n_rr--;
		}
		return;
	}
	build_error(b, rn, "route has no next hop");
	b->n_rr--;
}

static void
walk_routing(struct build *b, const struct lyd_node *rt)
{
	for (const struct lyd_node *c = lyd_child(rt); c != NULL; c = c->next) {
		if (!named(c, "control-plane-protocols"))
			continue;
		for (const struct lyd_node *p = lyd_child(c); p != NULL; p = p->next) {
			const char *type = NULL;
			const struct lyd_node *sr = NULL;
			for (const struct lyd_node *k = lyd_child(p); k != NULL; k = k->next) {
				if (named(k, "type"))
					type = val(k);
				else if (named(k, "static-routes"))
					sr = k;
			}
			if (type == NULL || strcmp(type, "ietf-routing:static") != 0) {
				build_error(
					b, p,
					"protocol type %s is not supported: nprouter takes static "
					"routes (ietf-routing:static)",
					type != NULL ? type : "?");
				continue;
			}
			for (const struct lyd_node *af = sr != NULL ? lyd_child(sr) : NULL;
			     af != NULL; af = af->next) {
				int family =
					module_is(af, "ietf-ipv4-unicast-routing")   ? NPR_AF_INET
					: module_is(af, "ietf-ipv6-unicast-routing") ? NPR_AF_INET6
										     : 0;
				if (family == 0)
					continue;
				for (const struct lyd_node *r = lyd_child(af); r != NULL;
				     r = r->next)
					if (named(r, "route"))
						walk_route(b, r, family);
			}
		}
	}
}

static void
walk_sizing(struct build *b, const struct lyd_node *dp)
{
	for (const struct lyd_node *c = lyd_child(dp); c != NULL; c = c->next) {
		uint32_t v = (uint32_t)strtoul(val(c), NULL, 10);
		if (named(c, "nexthops"))
			b->cfg->size_nh = v;
		else if (named(c, "groups"))
			b->cfg->size_group = v;
		else if (named(c, "routes4"))
			b->cfg->size_r4 = v;
		else if (named(c, "routes6"))
			b->cfg->size_r6 = v;
	}
}

/* The whole tree: interfaces first (routes name them), then routes, then sizing. */
void
build_walk(struct build *b, const struct lyd_node *tree)
{
	const struct lyd_node *ifs = NULL, *rt = NULL, *dp = NULL;
	for (const struct lyd_node *n = tree; n != NULL && !b->oom; n = n->next) {
		if (module_is(n, "ietf-interfaces") && named(n, "interfaces"))
			ifs = n;
		else if (module_is(n, "ietf-routing") && named(n, "routing"))
			rt = n;
		else if (module_is(n, "nprouter") && named(n, "dataplane"))
			dp = n;
	}
	/* interfaces first: routes name them */
	for (const struct lyd_node *n = ifs != NULL ? lyd_child(ifs) : NULL; n != NULL && !b->oom;
	     n = n->next)
		if (named(n, "interface"))
			walk_interface(b, n);
	if (rt != NULL && !b->oom)
		walk_routing(b, rt);
	if (dp != NULL)
		walk_sizing(b, dp);
}
