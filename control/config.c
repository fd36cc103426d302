/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YANG configuration files -> struct config (see config.h for the mapping).
 *
 * The walk reads the validated libyang tree once, keeping the routes in a raw form (prefix,
 * the next hop as written) with their tree node for error paths; next hops are resolved
 * after the walk, when every route is known, since a gateway may be reachable only through
 * another route. Gateways are few, so their resolution is cached; routes are many, so the
 * walk reads values through lyd_get_value and our own parsers, never through XPath.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libyang/libyang.h>
#include <libyang/plugins_types.h>

#include "npr/addr.h"
#include "config.h"
#include "hset.h"

#define MTU_DEFAULT 1500u
#define MTU_MIN 68u
#define MTU_MAX 9000u
#define RESOLVE_MAX_DEPTH 4

struct config_yang {
	struct ly_ctx *ctx;
};

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- messages ---- */

void
config_msgs_add(struct config_msgs *m, const char *fmt, ...)
{
	m->n_total++;
	if (m->n >= CONFIG_MAX_REPORTED)
		return;
	if (m->line == NULL) {
		m->line = calloc(CONFIG_MAX_REPORTED, sizeof(*m->line));
		if (m->line == NULL)
			return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) >= 0)
		m->line[m->n++] = s;
	va_end(ap);
}

void
config_msgs_print(const struct config_msgs *m, FILE *f, const char *prefix)
{
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "%s%s\n", prefix, m->line[i]);
	if (m->n_total > m->n)
		fprintf(f, "%s... and %zu more\n", prefix, m->n_total - m->n);
}

void
config_msgs_free(struct config_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->line[i]);
	free(m->line);
	memset(m, 0, sizeof(*m));
}

/* ---- the libyang context ---- */

static const char *const modules[] = {
	"ietf-interfaces",
	"iana-if-type",
	"ietf-ip",
	"ietf-routing",
	"ietf-ipv4-unicast-routing",
	"ietf-ipv6-unicast-routing",
	"nprouter",
};

struct config_yang *
config_yang_open(const char *path, char *err, size_t errlen)
{
	char dirs[4096];
	const char *env = getenv("NPR_YANG_PATH");

	if (path == NULL) {
		snprintf(dirs, sizeof(dirs),
			 "%s%s" NPR_YANG_DIR
#ifdef NPR_YANG_OWN_DIR
			 ":" NPR_YANG_OWN_DIR
#endif
#ifdef NPR_YANG_SRC_DIR
			 ":" NPR_YANG_SRC_DIR
#endif
			 ,
			 env != NULL ? env : "", env != NULL && env[0] != '\0' ? ":" : "");
		path = dirs;
	}
	struct config_yang *y = calloc(1, sizeof(*y));
	if (y == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Keep every message in the context's list (we print them with the file name). */
	ly_log_options(LY_LOSTORE);
	if (ly_ctx_new(NULL, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD, &y->ctx) !=
	    LY_SUCCESS) {
		snprintf(err, errlen, "cannot create a libyang context");
		free(y);
		errno = ENOMEM;
		return NULL;
	}
	/* every directory of the path that exists, in order */
	char *list = strdup(path), *save = NULL;
	if (list == NULL) {
		snprintf(err, errlen, "out of memory");
		config_yang_close(y);
		errno = ENOMEM;
		return NULL;
	}
	for (char *dir = strtok_r(list, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save))
		if (access(dir, R_OK | X_OK) == 0)
			ly_ctx_set_searchdir(y->ctx, dir);
	free(list);
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		if (ly_ctx_load_module(y->ctx, modules[i], NULL, NULL) != NULL)
			continue;
		const struct ly_err_item *e = ly_err_first(y->ctx);
		snprintf(err, errlen, "cannot load YANG module %s from %s%s%s", modules[i], path,
			 e != NULL ? ": " : "", e != NULL ? e->msg : "");
		config_yang_close(y);
		errno = ENOENT;
		return NULL;
	}
	ly_err_clean(y->ctx, NULL);
	return y;
}

void
config_yang_close(struct config_yang *y)
{
	if (y == NULL)
		return;
	ly_ctx_destroy(y->ctx);
	free(y);
}

/* ---- small helpers ---- */

static int
grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	void **arr = arrp;
	if (n < *cap)
		return 0;
	size_t ncap = *cap == 0 ? 16 : 2 * *cap;
	void *a = realloc(*arr, ncap * size);
	if (a == NULL)
		return -ENOMEM;
	*arr = a;
	*cap = ncap;
	return 0;
}

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

static unsigned
hostlen(int family)
{
	return family == NPR_AF_INET ? 32 : 128;
}

static bool
link_local6(int family, const uint8_t *a)
{
	return family == NPR_AF_INET6 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* a within prefix/plen */
static bool
in_prefix(int family, const uint8_t *a, const uint8_t *prefix, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	(void)family;
	if (memcmp(a, prefix, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (prefix[full] & mask);
}

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

static const char *
fmt_prefix(int family, const uint8_t *a, unsigned plen, char *buf, size_t len)
{
	return npr_format_prefix(family, a, (uint8_t)plen, buf, len);
}

/* ---- the walk ---- */

enum raw_kind { RAW_SIMPLE = 1, RAW_SPECIAL, RAW_LIST, RAW_CONNECTED, RAW_DROPPED };

struct raw_member {
	int32_t iface; /* -1: not given */
	uint8_t has_gw;
	uint8_t family;
	uint16_t weight;
	uint8_t gw[16];
};

struct raw_route {
	const struct lyd_node *node; /* NULL for connected routes */
	uint8_t family, plen, kind, special;
	uint8_t prefix[16];
	uint32_t first, n; /* members; CONNECTED: first is the interface */
};

struct gw_key {
	int32_t iface;
	uint8_t family;
	uint8_t pad[3];
	uint8_t gw[16];
};

struct gw_entry {
	struct gw_key k;
	uint32_t nh;
};

struct build {
	struct config *cfg;
	const char *name;
	struct config_msgs *errs, *warns;
	bool oom;

	bool *en4, *en6; /* per interface: the family is enabled */
	struct hset ifnames;

	struct raw_route *rr;
	size_t n_rr, cap_rr;
	struct raw_member *rm;
	size_t n_rm, cap_rm;

	struct hset routes; /* (family, prefix, plen) -> rr */
	struct hset nhs;    /* struct config_nh -> cfg->nh */
	struct hset groups; /* member list -> cfg->group */
	struct hset gws;    /* resolved gateways -> gw */
	struct gw_entry *gw;
	size_t n_gw, cap_gw;
};

static void node_error(struct build *b, const struct lyd_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "FILE: /data/path: reason" */
static void
node_error(struct build *b, const struct lyd_node *n, const char *fmt, ...)
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

static void node_warn(struct build *b, const struct lyd_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
node_warn(struct build *b, const struct lyd_node *n, const char *fmt, ...)
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
		node_error(b, ipn, "'%s' is not an IPv%d address", ip, family);
		return;
	}
	const char *why = npr_bad_unicast(family, a);
	if (why != NULL) {
		node_error(b, ipn, "%s %s", ip, why);
		return;
	}
	if (neighbor) {
		struct config_neigh n = { .iface = ifi, .family = (uint8_t)family };
		memcpy(n.addr, a, sizeof(n.addr));
		if (lladdr == NULL || npr_parse_mac(lladdr, n.mac) < 0) {
			node_error(b, e, "link-layer-address '%s' is not an Ethernet MAC address",
				   lladdr != NULL ? lladdr : "");
			return;
		}
		static const uint8_t z[6];
		if ((n.mac[0] & 1) || memcmp(n.mac, z, 6) == 0) {
			node_error(b, e, "link-layer-address %s is not a unicast MAC address",
				   lladdr);
			return;
		}
		if (grow(&cfg->neigh, &cfg->cap_neigh, cfg->n_neigh, sizeof(n)) < 0) {
			b->oom = true;
			return;
		}
		cfg->neigh[cfg->n_neigh++] = n;
		return;
	}
	if (plen < 1 || plen > (long)hostlen(family)) {
		node_error(b, e, "prefix-length %ld: the data plane needs 1..%u", plen,
			   hostlen(family));
		return;
	}
	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *o = &cfg->addr[i];
		if (o->family == family && memcmp(o->addr, a, sizeof(o->addr)) == 0) {
			node_error(b, ipn, "address %s is also on interface %s", ip,
				   cfg->iface[o->iface].name);
			return;
		}
	}
	struct config_addr n = { .iface = ifi, .family = (uint8_t)family, .plen = (uint8_t)plen };
	memcpy(n.addr, a, sizeof(n.addr));
	if (grow(&cfg->addr, &cfg->cap_addr, cfg->n_addr, sizeof(n)) < 0) {
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
				node_error(b, c, "MTU %ld: the data plane takes %u..%u", mtu,
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
				node_error(b, c, "'%s' is not a MAC address", val(c));
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
		node_error(b, ifn,
			   "type %s is not supported: the data plane has Ethernet interfaces "
			   "(iana-if-type:ethernetCsmacd) only",
			   type != NULL ? type : "?");
		return;
	}
	if (strlen(name) >= NPR_NAME_LEN) {
		node_error(b, namen,
			   "interface name '%s' is %zu characters long: the data plane takes at "
			   "most %u",
			   name, strlen(name), NPR_NAME_LEN - 1);
		return;
	}
	if (!valid_ifname(name)) {
		node_error(b, namen,
			   "interface name '%s' has characters other than A-Z a-z 0-9 _ - . : @",
			   name);
		return;
	}
	snprintf(f.name, sizeof(f.name), "%s", name);
	if (cfg->n_iface >= NPR_MAX_IFACES) {
		node_error(b, ifn, "more than %u interfaces", NPR_MAX_IFACES);
		return;
	}
	if (grow(&cfg->iface, &cfg->cap_iface, cfg->n_iface, sizeof(f)) < 0) {
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
	cfg->iface[ifi].mtu = (uint16_t)(mtu != 0    ? mtu
					 : mtu4 != 0 ? mtu4
					 : mtu6 != 0 ? mtu6
						     : MTU_DEFAULT);
}

static struct raw_route *
new_route(struct build *b)
{
	if (grow(&b->rr, &b->cap_rr, b->n_rr, sizeof(*b->rr)) < 0) {
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
	if (grow(&b->rm, &b->cap_rm, b->n_rm, sizeof(*b->rm)) < 0) {
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
				node_error(b, c, "interface '%s' is not usable", val(c));
				return -EINVAL;
			}
		} else if (named(c, "next-hop-address")) {
			int bin = addr_bin(c, family, m->gw);
			if (bin == 1) {
				const char *why = npr_bad_unicast(family, m->gw);
				if (why != NULL) {
					node_error(b, c, "gateway %s %s", val(c), why);
					return -EINVAL;
				}
				m->has_gw = 1;
				m->family = (uint8_t)family;
				continue;
			}
			const char *s = val(c);
			int fam;
			if (strchr(s, '%') != NULL) {
				node_error(b, c,
					   "gateway %s: address zones are not supported (give "
					   "outgoing-interface)",
					   s);
				return -EINVAL;
			}
			if (npr_parse_addr(s, &fam, m->gw) < 0 || fam != family) {
				node_error(b, c, "'%s' is not an IPv%d address", s, family);
				return -EINVAL;
			}
			const char *why = npr_bad_unicast(family, m->gw);
			if (why != NULL) {
				node_error(b, c, "gateway %s %s", s, why);
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
	struct raw_route *r = new_route(b);
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
		node_error(b, rn, "destination-prefix '%s': %s", prefix,
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
			node_error(b, special,
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
				node_error(b, e,
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
			node_error(b, list, "empty next-hop list");
			b->n_rr--;
		}
		return;
	}
	node_error(b, rn, "route has no next hop");
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
				node_error(
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
	if (grow(&cfg->nh, &cfg->cap_nh, cfg->n_nh, sizeof(*n)) < 0 ||
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
		if (ad->plen > best_len && in_prefix(family, a, ad->addr, ad->plen)) {
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
	for (int len = (int)hostlen(m->family); len >= 0 && ri < 0; len--) {
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
	fmt_prefix(r->family, r->prefix, r->plen, p, sizeof(p));
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
		    memcmp(cfg->addr[i].addr, m->gw, sizeof(cfg->addr[i].addr)) == 0) {
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
		    link_local6(m->family, m->gw) ||
		    neighbor_iface(b, m->family, m->gw, m->iface) >= 0) {
			iface = m->iface;
		} else {
			snprintf(why, whylen,
				 "gateway %s is not reachable through interface %s (no connected "
				 "subnet or static neighbor of that interface holds it)",
				 s, cfg->iface[m->iface].name);
			return -1;
		}
	} else if (link_local6(m->family, m->gw)) {
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
	if (grow(&b->gw, &b->cap_gw, b->n_gw, sizeof(*b->gw)) < 0 ||
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
	if (grow(&cfg->group, &cfg->cap_group, cfg->n_group, sizeof(*cfg->group)) < 0 ||
	    hset_add(&b->groups, h, (uint32_t)cfg->n_group) < 0) {
		b->oom = true;
		return -1;
	}
	while (cfg->n_member + n > cfg->cap_member)
		if (grow(&cfg->member, &cfg->cap_member, cfg->cap_member, sizeof(*m)) < 0) {
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
static void
index_routes(struct build *b)
{
	struct config *cfg = b->cfg;
	char p[NPR_PREFIX_STRLEN];

	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *a = &cfg->addr[i];
		if (a->plen == hostlen(a->family) || link_local6(a->family, a->addr))
			continue;
		uint8_t pfx[16];
		memcpy(pfx, a->addr, sizeof(pfx));
		npr_prefix_mask(a->family, pfx, a->plen);
		int64_t o = route_find(b, a->family, pfx, a->plen);
		if (o >= 0) {
			if (b->rr[o].first != a->iface)
				node_error(b, NULL,
					   "subnet %s is connected to both interfaces %s and %s",
					   fmt_prefix(a->family, pfx, a->plen, p, sizeof(p)),
					   cfg->iface[b->rr[o].first].name,
					   cfg->iface[a->iface].name);
			continue;
		}
		struct raw_route *r = new_route(b);
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
			fmt_prefix(r->family, r->prefix, r->plen, p, sizeof(p));
			if (b->rr[o].kind == RAW_CONNECTED) {
				/* the data plane lets a configured route win */
				node_warn(b, r->node,
					  "%s is the connected subnet of interface %s: this route "
					  "replaces the connected route",
					  p, cfg->iface[b->rr[o].first].name);
				continue;
			}
			node_error(b, r->node,
				   "route %s is also defined in another control-plane-protocol", p);
			r->kind = RAW_DROPPED;
			continue;
		}
		if (hset_add(&b->routes, route_hash(r->family, r->prefix, r->plen), (uint32_t)i) <
		    0)
			b->oom = true;
	}
	for (size_t i = 0; i < cfg->n_addr; i++) {
		const struct config_addr *a = &cfg->addr[i];
		int64_t o = route_find(b, a->family, a->addr, hostlen(a->family));
		if (o >= 0 && b->rr[o].kind != RAW_CONNECTED && b->rr[o].kind != RAW_DROPPED) {
			node_error(b, b->rr[o].node,
				   "%s is an address of interface %s: no route can replace it",
				   fmt_prefix(a->family, a->addr, hostlen(a->family), p, sizeof(p)),
				   cfg->iface[a->iface].name);
			b->rr[o].kind = RAW_DROPPED;
		}
	}
}

static void
resolve_routes(struct build *b)
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
				node_error(b, r->node, "%s", why);
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

/* ---- libyang errors and the host-bits scan ---- */

/* "Data location "/a/b", line number 7." -> path, line */
static void
yang_error(struct config_msgs *errs, const char *name, const struct ly_err_item *e)
{
	const char *loc = e->path != NULL ? e->path : "";
	char path[1024] = "";
	long line = 0;
	const char *q = strchr(loc, '"');
	if (q != NULL) {
		const char *q2 = strrchr(loc, '"');
		if (q2 > q)
			snprintf(path, sizeof(path), "%.*s", (int)(q2 - q - 1), q + 1);
	}
	const char *ln = strstr(loc, "ine number ");
	if (ln != NULL)
		line = strtol(ln + 11, NULL, 10);
	char where[64] = "";
	if (line > 0)
		snprintf(where, sizeof(where), ":%ld", line);
	config_msgs_add(errs, "%s%s: %s%s%s", name, where, path, path[0] != '\0' ? ": " : "",
			e->msg != NULL ? e->msg : "invalid");
}

/* libyang stores prefixes with their host bits cleared, so "10.1.2.3/8" would silently become
 * 10.0.0.0/8. The data plane never normalises a prefix, and neither do we: look at the text
 * of every destination-prefix before libyang does. Returns the number of bad prefixes. */
static size_t
scan_host_bits(const char *buf, size_t len, bool json, const char *name, struct config_msgs *errs)
{
	static const char key[] = "destination-prefix";
	const size_t klen = sizeof(key) - 1;
	const char *p = buf, *end = buf + len, *lpos = buf;
	size_t line = 1, n_bad = 0;

	while (p < end) {
		const char *k = memmem(p, (size_t)(end - p), key, klen);
		if (k == NULL)
			break;
		p = k + klen;
		const char *v = p;
		if (json) {
			if (v >= end || *v != '"')
				continue;
			v++;
			while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
				v++;
			if (v >= end || *v != ':')
				continue;
			v++;
			while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
				v++;
			if (v >= end || *v != '"')
				continue;
			v++;
		} else {
			if (k > buf && k[-1] == '/')
				continue; /* "</x:destination-prefix>" */
			while (v < end && *v != '>' && *v != '<')
				v++;
			if (v >= end || *v != '>' || v[-1] == '/')
				continue;
			v++;
		}
		const char *ve = v;
		while (ve < end && ve - v < 64 && *ve != (json ? '"' : '<'))
			ve++;
		char s[72];
		size_t sl = (size_t)(ve - v);
		if (sl >= sizeof(s) - 1)
			continue;
		memcpy(s, v, sl);
		s[sl] = '\0';
		/* trim XML whitespace */
		char *sb = s;
		while (*sb == ' ' || *sb == '\t' || *sb == '\n' || *sb == '\r')
			sb++;
		size_t bl = strlen(sb);
		while (bl > 0 && (sb[bl - 1] == ' ' || sb[bl - 1] == '\t' || sb[bl - 1] == '\n' ||
				  sb[bl - 1] == '\r'))
			sb[--bl] = '\0';
		int fam;
		uint8_t a[16], plen;
		if (npr_parse_ifaddr(sb, &fam, a, &plen) < 0 ||
		    npr_parse_prefix(sb, &fam, a, &plen) == 0)
			continue; /* fine, or wrong in a way libyang explains */
		for (; lpos < k; lpos++)
			if (*lpos == '\n')
				line++;
		char why[128];
		config_msgs_add(errs, "%s:%zu: destination-prefix \"%s\": %s", name, line, sb,
				npr_prefix_strerror(sb, why, sizeof(why)));
		n_bad++;
	}
	return n_bad;
}

/* ---- entry points ---- */

void
config_free(struct config *cfg)
{
	free(cfg->iface);
	free(cfg->addr);
	free(cfg->neigh);
	free(cfg->nh);
	free(cfg->group);
	free(cfg->member);
	free(cfg->r4);
	free(cfg->r6);
	memset(cfg, 0, sizeof(*cfg));
}

static void
build_free(struct build *b)
{
	free(b->en4);
	free(b->en6);
	hset_free(&b->ifnames);
	free(b->rr);
	free(b->rm);
	hset_free(&b->routes);
	hset_free(&b->nhs);
	hset_free(&b->groups);
	hset_free(&b->gws);
	free(b->gw);
}

int
config_load_mem(struct config_yang *y, const char *buf, size_t len, bool json, const char *name,
		struct config *cfg, struct config_msgs *errs, struct config_msgs *warns)
{
	memset(cfg, 0, sizeof(*cfg));
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i == len) {
		config_msgs_add(errs,
				"%s: empty file: no configuration (an empty JSON object {} "
				"removes everything)",
				name);
		return -EINVAL;
	}
	double t0 = now_s();
	size_t n_bad = scan_host_bits(buf, len, json, name, errs);

	/* libyang wants a NUL-terminated string */
	char *text = malloc(len + 1);
	if (text == NULL) {
		config_msgs_add(errs, "%s: out of memory", name);
		return -ENOMEM;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	struct lyd_node *tree = NULL;
	ly_err_clean(y->ctx, NULL);
	LY_ERR lr = lyd_parse_data_mem(y->ctx, text, json ? LYD_JSON : LYD_XML,
				       LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, LYD_VALIDATE_NO_STATE,
				       &tree);
	free(text);
	if (lr != LY_SUCCESS) {
		size_t before = errs->n_total;
		for (const struct ly_err_item *e = ly_err_first(y->ctx); e != NULL; e = e->next)
			if (e->level == LY_LLERR)
				yang_error(errs, name, e);
		if (errs->n_total == before)
			config_msgs_add(errs, "%s: invalid (libyang error %d)", name, (int)lr);
		ly_err_clean(y->ctx, NULL);
		lyd_free_all(tree);
		return -EINVAL;
	}
	ly_err_clean(y->ctx, NULL);
	double t1 = now_s();
	cfg->parse_s = t1 - t0;

	struct build b = { .cfg = cfg, .name = name, .errs = errs, .warns = warns };
	size_t n_routes_hint = len / 64;
	b.en4 = calloc(NPR_MAX_IFACES, sizeof(bool));
	b.en6 = calloc(NPR_MAX_IFACES, sizeof(bool));
	if (b.en4 == NULL || b.en6 == NULL || hset_init(&b.ifnames, 64) < 0 ||
	    hset_init(&b.routes, n_routes_hint) < 0 || hset_init(&b.nhs, 64) < 0 ||
	    hset_init(&b.groups, 64) < 0 || hset_init(&b.gws, 64) < 0)
		b.oom = true;

	const struct lyd_node *ifs = NULL, *rt = NULL, *dp = NULL;
	for (const struct lyd_node *n = tree; n != NULL && !b.oom; n = n->next) {
		if (module_is(n, "ietf-interfaces") && named(n, "interfaces"))
			ifs = n;
		else if (module_is(n, "ietf-routing") && named(n, "routing"))
			rt = n;
		else if (module_is(n, "nprouter") && named(n, "dataplane"))
			dp = n;
	}
	/* interfaces first: routes name them */
	for (const struct lyd_node *n = ifs != NULL ? lyd_child(ifs) : NULL; n != NULL && !b.oom;
	     n = n->next)
		if (named(n, "interface"))
			walk_interface(&b, n);
	if (rt != NULL && !b.oom)
		walk_routing(&b, rt);
	if (dp != NULL)
		walk_sizing(&b, dp);
	if (!b.oom)
		index_routes(&b);
	if (!b.oom)
		resolve_routes(&b);
	if (b.oom)
		config_msgs_add(errs, "%s: out of memory", name);
	cfg->build_s = now_s() - t1;
	build_free(&b);
	lyd_free_all(tree);
	if (b.oom || errs->n_total > 0 || n_bad > 0) {
		if (errs->n_total == 0)
			config_msgs_add(errs, "%s: invalid", name);
		return b.oom ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int
config_load(struct config_yang *y, const char *path, const char *name, struct config *cfg,
	    struct config_msgs *errs, struct config_msgs *warns)
{
	memset(cfg, 0, sizeof(*cfg));
	if (name == NULL)
		name = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		config_msgs_add(errs, "%s: %s", name, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		config_msgs_add(errs, "%s: not a regular file", name);
		return -EINVAL;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	if (buf == NULL) {
		close(fd);
		config_msgs_add(errs, "%s: out of memory", name);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	len = got;
	/* the format: the first byte ('<' XML, '{' JSON), else the extension */
	size_t i = 0, nl = strlen(path);
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	bool json;
	if (i < len && (buf[i] == '<' || buf[i] == '{'))
		json = buf[i] == '{';
	else
		json = !(nl > 4 && strcmp(path + nl - 4, ".xml") == 0);
	int rc = config_load_mem(y, buf, len, json, name, cfg, errs, warns);
	free(buf);
	return rc;
}

int
config_port_index(const struct config_iface *ifc, const struct npr_dump_port *ports, size_t n_ports)
{
	for (size_t i = 0; i < n_ports; i++)
		if (strncmp(ports[i].name, ifc->port, sizeof(ports[i].name)) == 0)
			return (int)i;
	return -1;
}

int
config_check_dataplane(const struct config *cfg, const char *name,
		       const struct npr_dump_port *ports, size_t n_ports,
		       const struct npr_info *info, struct config_msgs *errs)
{
	size_t before = errs->n_total;
	for (size_t i = 0; i < cfg->n_iface; i++) {
		if (config_port_index(&cfg->iface[i], ports, n_ports) >= 0)
			continue;
		char list[512] = "";
		for (size_t k = 0; k < n_ports; k++) {
			size_t n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%.*s", k > 0 ? ", " : "",
				 (int)sizeof(ports[k].name), ports[k].name);
		}
		config_msgs_add(
			errs,
			"%s: /ietf-interfaces:interfaces/interface[name='%s']/nprouter:port: "
			"the data plane has no port %s (its ports: %s)",
			name, cfg->iface[i].name, cfg->iface[i].port, n_ports > 0 ? list : "none");
	}
	if (info == NULL)
		return errs->n_total > before ? -EINVAL : 0;
	static const char *const opt[] = { "--nexthops", "--groups", "--routes4", "--routes6" };
	static const char *const leaf[] = { "nexthops", "groups", "routes4", "routes6" };
	const uint32_t want[] = { cfg->size_nh, cfg->size_group, cfg->size_r4, cfg->size_r6 };
	const uint32_t have[] = { info->nh_max, info->group_max, info->route4_max,
				  info->route6_max };
	/* ids 1..max-1 for next hops and groups */
	const uint64_t need[] = { cfg->n_nh + 1, cfg->n_group + 1, cfg->n4, cfg->n6 };
	for (int k = 0; k < 4; k++) {
		if (want[k] != 0 && have[k] < want[k])
			config_msgs_add(errs,
					"%s: /nprouter:dataplane/%s: the data plane runs with %s "
					"%" PRIu32 ", less than the %" PRIu32
					" configured: restart it with %s %" PRIu32,
					name, leaf[k], opt[k], have[k], want[k], opt[k], want[k]);
		else if (need[k] > have[k])
			config_msgs_add(
				errs,
				"%s: the configuration needs %" PRIu64 " %s, more than the data "
				"plane's %" PRIu32 " (%s)",
				name, need[k] - (k < 2), leaf[k], have[k] - (k < 2), opt[k]);
	}
	return errs->n_total > before ? -EINVAL : 0;
}
