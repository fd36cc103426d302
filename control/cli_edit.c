/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control's configuration commands: interfaces, addresses, neighbours, next hops,
 * groups and routes, one at a time or queued for a batch, and `route get` / `route load`
 * (see cli.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npr/addr.h"
#include "cli.h"
#include "load.h"

/* ---- interfaces ---- */

int
cmd_iface_set(struct ctl *x, int argc, char **argv)
{
	if (argc < 1)
		return USAGE(x, "usage: interface set NAME port PORT [mac MAC] [mtu N] [up|down]");
	const char *name = argv[0];
	if (!valid_ifname(name))
		return USAGE(x, "bad interface name '%s' (1..%u of A-Z a-z 0-9 _ - . : @)", name,
			     NPR_NAME_LEN - 1);
	int rc = need_ifaces(x);
	if (rc == 0)
		rc = need_ports(x);
	if (rc != 0)
		return rc;

	const char *port_s = NULL;
	uint8_t mac[6] = { 0 };
	bool have_mac = false, have_mtu = false;
	uint64_t mtu = 0;
	int up = -1;
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i];
		if ((strcmp(k, "up") == 0 || strcmp(k, "down") == 0) && up >= 0) {
			return USAGE(x, "'%s' after '%s': say up or down once", k,
				     up ? "up" : "down");
		} else if (strcmp(k, "up") == 0) {
			up = 1;
		} else if (strcmp(k, "down") == 0) {
			up = 0;
		} else if ((strcmp(k, "port") == 0 && port_s != NULL) ||
			   (strcmp(k, "mac") == 0 && have_mac) ||
			   (strcmp(k, "mtu") == 0 && have_mtu)) {
			return USAGE(x, "'%s' given twice", k);
		} else if (i + 1 < argc && strcmp(k, "port") == 0) {
			port_s = argv[++i];
		} else if (i + 1 < argc && strcmp(k, "mac") == 0) {
			if (npr_parse_mac(argv[++i], mac) < 0)
				return USAGE(x, "bad MAC '%s' (aa:bb:cc:dd:ee:ff)", argv[i]);
			have_mac = true;
		} else if (i + 1 < argc && strcmp(k, "mtu") == 0) {
			if (parse_uint(argv[++i], 9000, &mtu) < 0 || mtu < 68)
				return USAGE(x, "bad MTU '%s' (68..9000)", argv[i]);
			have_mtu = true;
		} else {
			return USAGE(x, "unexpected '%s'", k);
		}
	}

	const struct npr_dump_iface *old = iface_by_name(x, name);
	const struct npr_dump_port *port = NULL;
	if (port_s != NULL) {
		uint64_t pid;
		if (parse_uint(port_s, UINT16_MAX, &pid) == 0) {
			port = port_by_id(x, (uint16_t)pid);
		} else {
			for (size_t i = 0; i < x->n_ports; i++)
				if (strncmp(x->ports[i].name, port_s, sizeof(x->ports[i].name)) ==
				    0)
					port = &x->ports[i];
		}
		if (port == NULL)
			return REJECTED(x, "no port '%s' (see show ports)", port_s);
	} else if (old != NULL) {
		port = port_by_id(x, old->port_id);
	} else {
		return USAGE(x, "a new interface needs port PORT");
	}

	struct npr_msg_iface_set m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_IFACE_SET;
	m.hdr.len = sizeof(m);
	m.port_id = port != NULL ? port->port_id : old->port_id;
	snprintf(m.name, sizeof(m.name), "%s", name);
	if (old != NULL) {
		/* unspecified settings keep their values */
		m.ifid = old->ifid;
		m.mtu = old->mtu;
		m.flags = old->flags;
		/* a MAC set earlier stays; the port's own MAC is asked for as zero, so that it
		 * follows the port */
		if (port == NULL || memcmp(old->mac, port->mac, sizeof(old->mac)) != 0)
			memcpy(m.mac, old->mac, sizeof(m.mac));
	} else {
		bool used[NPR_MAX_IFACES] = { false };
		for (size_t i = 0; i < x->n_ifaces; i++)
			if (x->ifaces[i].ifid < NPR_MAX_IFACES)
				used[x->ifaces[i].ifid] = true;
		unsigned id = 0;
		while (id < NPR_MAX_IFACES && used[id])
			id++;
		if (id == NPR_MAX_IFACES)
			return REJECTED(x, "no free interface id (%u in use)", NPR_MAX_IFACES);
		m.ifid = (uint16_t)id;
		m.flags = NPR_IFACE_F_UP; /* new interfaces start up unless told "down" */
	}
	if (have_mac)
		memcpy(m.mac, mac, sizeof(m.mac));
	if (have_mtu)
		m.mtu = (uint16_t)mtu;
	if (up == 1)
		m.flags |= NPR_IFACE_F_UP;
	else if (up == 0)
		m.flags &= (uint16_t)~NPR_IFACE_F_UP;

	rc = ctl_emit(x, &m);
	if (rc != 0)
		return rc;
	/* keep the local copy in step for later batch lines */
	struct npr_dump_iface *ifc = iface_by_name(x, name);
	if (ifc == NULL) {
		struct npr_dump_iface *a = realloc(x->ifaces, (x->n_ifaces + 1) * sizeof(*a));
		if (a == NULL)
			return REJECTED(x, "out of memory");
		x->ifaces = a;
		ifc = &x->ifaces[x->n_ifaces++];
	}
	memset(ifc, 0, sizeof(*ifc));
	ifc->ifid = m.ifid;
	ifc->port_id = m.port_id;
	ifc->mtu = m.mtu;
	ifc->flags = m.flags;
	memcpy(ifc->mac, npr_mac_zero(m.mac) && port != NULL ? port->mac : m.mac, sizeof(ifc->mac));
	memcpy(ifc->name, m.name, NPR_NAME_LEN);
	return 0;
}

int
cmd_iface_del(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: interface del NAME");
	uint16_t ifid;
	int rc = lookup_iface(x, argv[0], &ifid);
	if (rc != 0)
		return rc;
	struct npr_msg_iface_del m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_IFACE_DEL;
	m.hdr.len = sizeof(m);
	m.ifid = ifid;
	rc = ctl_emit(x, &m);
	if (rc != 0)
		return rc;
	struct npr_dump_iface *ifc = iface_by_id(x, ifid);
	*ifc = x->ifaces[--x->n_ifaces];
	return 0;
}

/* ---- addresses and neighbours ---- */

/* "dev NAME" as the only remaining words (plus "lladdr MAC" if mac != NULL). */
static int
parse_dev_lladdr(struct ctl *x, int argc, char **argv, uint16_t *ifid, uint8_t *mac, bool *have_mac)
{
	const char *dev = NULL;
	if (have_mac != NULL)
		*have_mac = false;
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "dev") == 0 && dev != NULL) ||
		    (strcmp(argv[i], "lladdr") == 0 && have_mac != NULL && *have_mac)) {
			return USAGE(x, "'%s' given twice", argv[i]);
		} else if (i + 1 < argc && strcmp(argv[i], "dev") == 0) {
			dev = argv[++i];
		} else if (mac != NULL && i + 1 < argc && strcmp(argv[i], "lladdr") == 0) {
			if (npr_parse_mac(argv[++i], mac) < 0)
				return USAGE(x, "bad MAC '%s' (aa:bb:cc:dd:ee:ff)", argv[i]);
			*have_mac = true;
		} else {
			return USAGE(x, "unexpected '%s'", argv[i]);
		}
	}
	if (dev == NULL)
		return USAGE(x, "missing dev NAME");
	return lookup_iface(x, dev, ifid);
}

static int
bad_addr(struct ctl *x, const char *s)
{
	return USAGE(x, "bad address '%s'", s);
}

static int
cmd_addr(struct ctl *x, int argc, char **argv, uint16_t type)
{
	if (argc < 3)
		return USAGE(x, "usage: address add|del ADDR/LEN dev NAME");
	struct npr_msg_addr m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	int fam;
	if (npr_parse_ifaddr(argv[0], &fam, m.addr, &m.plen) < 0) {
		char why[128];
		return USAGE(x, "bad address '%s': %s", argv[0],
			     npr_prefix_strerror(argv[0], why, sizeof(why)));
	}
	m.family = (uint8_t)fam;
	int rc = parse_dev_lladdr(x, argc - 1, argv + 1, &m.ifid, NULL, NULL);
	if (rc != 0)
		return rc;
	return ctl_emit(x, &m);
}

int
cmd_addr_add(struct ctl *x, int argc, char **argv)
{
	return cmd_addr(x, argc, argv, NPR_MSG_ADDR_ADD);
}

int
cmd_addr_del(struct ctl *x, int argc, char **argv)
{
	return cmd_addr(x, argc, argv, NPR_MSG_ADDR_DEL);
}

static int
cmd_neigh(struct ctl *x, int argc, char **argv, uint16_t type)
{
	if (argc < 3)
		return USAGE(x, "usage: neighbor set ADDR dev NAME lladdr MAC | neighbor del ADDR "
				"dev NAME");
	struct npr_msg_neigh m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	int fam;
	if (npr_parse_addr(argv[0], &fam, m.addr) < 0)
		return bad_addr(x, argv[0]);
	m.family = (uint8_t)fam;
	bool have_mac;
	int rc = parse_dev_lladdr(x, argc - 1, argv + 1, &m.ifid,
				  type == NPR_MSG_NEIGH_SET ? m.mac : NULL, &have_mac);
	if (rc != 0)
		return rc;
	if (type == NPR_MSG_NEIGH_SET && !have_mac)
		return USAGE(x, "neighbor set needs lladdr MAC");
	return ctl_emit(x, &m);
}

int
cmd_neigh_set(struct ctl *x, int argc, char **argv)
{
	return cmd_neigh(x, argc, argv, NPR_MSG_NEIGH_SET);
}

int
cmd_neigh_del(struct ctl *x, int argc, char **argv)
{
	return cmd_neigh(x, argc, argv, NPR_MSG_NEIGH_DEL);
}

/* ---- next hops ---- */

/* Fill the body of m (all but nh_id) from "via GW dev NAME [lladdr MAC]",
 * "dev NAME lladdr MAC" or "blackhole|unreachable|prohibit". */
static int
parse_nh_spec(struct ctl *x, int argc, char **argv, struct npr_msg_nh_set *m)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = NPR_MSG_NH_SET;
	m->hdr.len = sizeof(*m);
	if (argc >= 1 && special_kind(argv[0]) != 0) {
		if (argc > 1) /* name the word that is too many, not the kind */
			return USAGE(x, "unexpected '%s' after '%s'", argv[1], argv[0]);
		m->kind = (uint8_t)special_kind(argv[0]);
		return 0;
	}
	m->kind = NPR_NH_FORWARD;
	int i = 0;
	if (argc >= 2 && strcmp(argv[0], "via") == 0) {
		int fam;
		if (npr_parse_addr(argv[1], &fam, m->gw) < 0)
			return bad_addr(x, argv[1]);
		m->family = (uint8_t)fam;
		i = 2;
	}
	bool have_mac;
	int rc = parse_dev_lladdr(x, argc - i, argv + i, &m->ifid, m->mac, &have_mac);
	if (rc != 0)
		return rc;
	if (have_mac)
		m->flags |= NPR_NH_F_MAC;
	if (m->family == 0 && !have_mac)
		return USAGE(x, "a next hop without a gateway needs lladdr MAC");
	return 0;
}

int
cmd_nh_set(struct ctl *x, int argc, char **argv)
{
	if (argc < 2)
		return USAGE(x, "usage: nexthop set ID (via GW dev NAME [lladdr MAC] | dev NAME "
				"lladdr MAC | blackhole | unreachable | prohibit)");
	uint32_t id;
	int rc = parse_id(x, argv[0], "next hop", &id);
	if (rc != 0)
		return rc;
	struct npr_msg_nh_set m;
	rc = parse_nh_spec(x, argc - 1, argv + 1, &m);
	if (rc != 0)
		return rc;
	m.nh_id = id;
	rc = need_nhs(x);
	if (rc == 0)
		rc = ctl_emit(x, &m);
	if (rc == 0)
		rc = nh_cache_set(x, &m);
	return rc;
}

static int
cmd_id_del(struct ctl *x, int argc, char **argv, uint16_t type, const char *what)
{
	if (argc != 1)
		return USAGE(x, "usage: %s del ID", what);
	uint32_t id;
	int rc = parse_id(x, argv[0], what, &id);
	if (rc != 0)
		return rc;
	return emit_id(x, type, id);
}

int
cmd_nh_del(struct ctl *x, int argc, char **argv)
{
	int rc = need_nhs(x);
	if (rc == 0)
		rc = cmd_id_del(x, argc, argv, NPR_MSG_NH_DEL, "nexthop");
	if (rc == 0) {
		struct npr_dump_nh *nh = nh_by_id(x, (uint32_t)strtoul(argv[0], NULL, 10));
		if (nh != NULL)
			*nh = x->nhs[--x->n_nhs];
	}
	return rc;
}

/* A next hop equal to the spec: the same kind, and for FORWARD the same interface, gateway
 * and MAC setting. 0 if none. */
static uint32_t
nh_find(struct ctl *x, const struct npr_msg_nh_set *m)
{
	for (size_t i = 0; i < x->n_nhs; i++) {
		const struct npr_dump_nh *nh = &x->nhs[i];
		if (nh->kind != m->kind)
			continue;
		if (m->kind != NPR_NH_FORWARD)
			return nh->nh_id;
		if (nh->ifid != m->ifid || nh->family != m->family ||
		    (nh->family != 0 && memcmp(nh->gw, m->gw, sizeof(nh->gw)) != 0) ||
		    (nh->flags & NPR_NH_F_MAC) != (m->flags & NPR_NH_F_MAC) ||
		    ((m->flags & NPR_NH_F_MAC) && memcmp(nh->mac, m->mac, sizeof(nh->mac)) != 0))
			continue;
		return nh->nh_id;
	}
	return 0;
}

/* ---- groups ---- */

int
cmd_group_set(struct ctl *x, int argc, char **argv)
{
	if (argc < 2)
		return USAGE(x, "usage: group set ID NH[:WEIGHT] [NH[:WEIGHT] ...]");
	uint32_t id;
	int rc = parse_id(x, argv[0], "group", &id);
	if (rc != 0)
		return rc;
	unsigned n = (unsigned)argc - 1;
	if (n > NPR_GROUP_MAX_MEMBERS)
		return USAGE(x, "%u members: at most %u", n, NPR_GROUP_MAX_MEMBERS);
	size_t len = sizeof(struct npr_msg_group_set) + n * sizeof(struct npr_group_member);
	struct npr_msg_group_set *m = calloc(1, len);
	if (m == NULL)
		return REJECTED(x, "out of memory");
	m->hdr.type = NPR_MSG_GROUP_SET;
	m->hdr.len = (uint32_t)len;
	m->group_id = id;
	m->n_members = (uint16_t)n;
	unsigned slots = 0;
	for (unsigned i = 0; i < n; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", argv[1 + i]);
		char *colon = strchr(buf, ':');
		uint64_t w = 1;
		if (colon != NULL) {
			*colon = '\0';
			if (parse_uint(colon + 1, NPR_GROUP_MAX_WEIGHT, &w) < 0 || w == 0) {
				free(m);
				return USAGE(x, "bad weight in '%s' (1..%u)", argv[1 + i],
					     NPR_GROUP_MAX_WEIGHT);
			}
		}
		rc = parse_id(x, buf, "next hop", &m->members[i].nh_id);
		if (rc != 0) {
			free(m);
			return rc;
		}
		m->members[i].weight = (uint16_t)w;
		slots += (unsigned)w;
	}
	if (slots > NPR_GROUP_MAX_SLOTS) {
		free(m);
		return USAGE(x, "weights add up to %u: at most %u", slots, NPR_GROUP_MAX_SLOTS);
	}
	rc = ctl_emit(x, m);
	free(m);
	if (rc == 0 && !x->batch) /* a member it had before */
		nh_sweep_inline(x);
	return rc;
}

int
cmd_group_del(struct ctl *x, int argc, char **argv)
{
	int rc = cmd_id_del(x, argc, argv, NPR_MSG_GROUP_DEL, "group");
	if (rc == 0 && !x->batch) /* its members */
		nh_sweep_inline(x);
	return rc;
}

/* ---- routes ---- */

static int
route_msg(struct ctl *x, int fam, const uint8_t *addr, uint8_t plen, uint32_t target,
	  uint16_t type4, uint16_t type6)
{
	union {
		struct npr_msg_route4 m4;
		struct npr_msg_route6 m6;
		uint8_t raw[sizeof(struct npr_msg_route6) + sizeof(struct npr_route6)];
	} u;
	memset(&u, 0, sizeof(u));
	if (fam == NPR_AF_INET) {
		u.m4.hdr.type = type4;
		u.m4.hdr.len = (sizeof(u.m4) + sizeof(struct npr_route4) + 7) & ~7u;
		u.m4.count = 1;
		memcpy(&u.m4.r[0].prefix, addr, sizeof(u.m4.r[0].prefix));
		u.m4.r[0].plen = plen;
		u.m4.r[0].target = target;
	} else {
		u.m6.hdr.type = type6;
		u.m6.hdr.len = sizeof(u.m6) + sizeof(struct npr_route6);
		u.m6.count = 1;
		memcpy(u.m6.r[0].prefix, addr, sizeof(u.m6.r[0].prefix));
		u.m6.r[0].plen = plen;
		u.m6.r[0].target = target;
	}
	return ctl_emit(x, &u);
}

/* ROUTE4/6_ADD, or with replace ROUTE4/6_REPLACE. */
static int
route_set_msg(struct ctl *x, int fam, const uint8_t *addr, uint8_t plen, uint32_t target,
	      bool replace)
{
	return route_msg(x, fam, addr, plen, target,
			 replace ? NPR_MSG_ROUTE4_REPLACE : NPR_MSG_ROUTE4_ADD,
			 replace ? NPR_MSG_ROUTE6_REPLACE : NPR_MSG_ROUTE6_ADD);
}

static int
parse_route_prefix(struct ctl *x, const char *s, int *fam, uint8_t addr[16], uint8_t *plen)
{
	if (npr_parse_prefix(s, fam, addr, plen) < 0) {
		char why[128];
		return USAGE(x, "bad prefix '%s': %s", s, npr_prefix_strerror(s, why, sizeof(why)));
	}
	return 0;
}

/* The route to an inline next hop m: an equal one of ours, or a new one (NPR_NH_F_INLINE). */
static int
route_inline(struct ctl *x, struct npr_msg_nh_set *m, int fam, const uint8_t addr[16], uint8_t plen,
	     bool replace)
{
	int rc = need_nhs(x);
	if (rc == 0)
		rc = need_info(x);
	if (rc != 0)
		return rc;
	uint32_t target = nh_find(x, m);
	if (target == 0) {
		m->nh_id = nh_free_id(x);
		if (m->nh_id == 0)
			return REJECTED(x, "no free next hop id (all %u in use)",
					x->info.nh_max - 1);
		m->flags |= NPR_NH_F_INLINE; /* nh_sweep_inline deletes it with its last route */
		rc = ctl_emit(x, m);
		if (rc == 0)
			rc = nh_cache_set(x, m);
		if (rc != 0)
			return rc;
		target = m->nh_id;
		x->created_nh = m->nh_id;
	}
	return route_set_msg(x, fam, addr, plen, target, replace);
}

static int
cmd_route_set(struct ctl *x, int argc, char **argv, bool replace)
{
	if (argc < 2)
		return USAGE(x,
			     "usage: route add|replace PREFIX (nexthop ID | group ID | via GW dev "
			     "NAME [lladdr MAC] | blackhole | unreachable | prohibit)");
	int fam;
	uint8_t addr[16], plen;
	int rc = parse_route_prefix(x, argv[0], &fam, addr, &plen);
	if (rc != 0)
		return rc;
	if (strcmp(argv[1], "nexthop") == 0 || strcmp(argv[1], "group") == 0) {
		uint32_t target;
		if (argc != 3)
			return USAGE(x, "usage: route add PREFIX %s ID", argv[1]);
		rc = parse_id(x, argv[2], argv[1][0] == 'n' ? "next hop" : "group", &target);
		if (rc != 0)
			return rc;
		if (argv[1][0] == 'g')
			target |= NPR_TARGET_GROUP;
		rc = route_set_msg(x, fam, addr, plen, target, replace);
	} else {
		/* an inline next hop. Outside batch files it and the route go in one
		 * transaction: no other session's sweep sees it unused, nor reuses its id,
		 * before the route holds it. */
		struct npr_msg_nh_set m;
		rc = parse_nh_spec(x, argc - 1, argv + 1, &m);
		if (rc != 0)
			return rc;
		if (x->batch)
			return route_inline(x, &m, fam, addr, plen, replace);
		if ((rc = ctl_txn_begin(x)) != 0)
			return rc;
		rc = ctl_txn_end(x, route_inline(x, &m, fam, addr, plen, replace));
	}
	if (rc == 0 && !x->batch) /* the replaced route's inline next hop (add replaces too) */
		nh_sweep_inline(x);
	return rc;
}

int
cmd_route_add(struct ctl *x, int argc, char **argv)
{
	return cmd_route_set(x, argc, argv, false);
}

int
cmd_route_replace(struct ctl *x, int argc, char **argv)
{
	return cmd_route_set(x, argc, argv, true);
}

int
cmd_route_del(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: route del PREFIX");
	int fam;
	uint8_t addr[16], plen;
	int rc = parse_route_prefix(x, argv[0], &fam, addr, &plen);
	if (rc != 0)
		return rc;
	rc = route_msg(x, fam, addr, plen, 0, NPR_MSG_ROUTE4_DEL, NPR_MSG_ROUTE6_DEL);
	if (rc == 0 && !x->batch)
		nh_sweep_inline(x);
	return rc;
}

int
cmd_route_get(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: route get ADDR");
	struct npr_msg_lookup m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_LOOKUP;
	m.hdr.len = sizeof(m);
	int fam;
	if (npr_parse_addr(argv[0], &fam, m.addr) < 0)
		return bad_addr(x, argv[0]);
	m.family = (uint8_t)fam;
	struct npr_reply rep;
	int rc = ctl_call(x, &m, &rep, NULL, NULL);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	uint32_t target = (uint32_t)rep.value;
	char a[INET6_ADDRSTRLEN], desc[160];
	npr_format_addr(fam, m.addr, a, sizeof(a));
	unsigned origin = rep.index; /* whose route it is (proto.h, LOOKUP) */
	if (target != 0) {
		rc = origin == NPR_ORIGIN_CLI ? need_nhs(x) : need_all_nhs(x);
		if (rc == 0)
			rc = need_ifaces(x);
		if (rc != 0)
			return rc;
		describe_target(x, origin, target, desc, sizeof(desc));
	}
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "address", a);
		json_kv_bool(&x->j, "found", target != 0);
		if (target != 0) {
			json_kv_u64(&x->j, "target", target);
			json_kv_str(&x->j, "description", desc);
			json_kv_str(&x->j, "origin", npr_origin_name(origin));
		}
		json_obj_end(&x->j);
	} else if (target == 0) {
		printf("%s: no route\n", a);
	} else {
		printf("%s %s\n", a, desc);
	}
	return 0;
}

/* ---- route load ---- */

int
cmd_route_load(struct ctl *x, int argc, char **argv)
{
	static struct load_opts o;
	char why[160];
	if (load_parse_args(argc, argv, &o, why, sizeof(why)) < 0)
		return USAGE(x,
			     "%s (usage: route load FILE [--nexthops ID[,ID...]] [--batch] "
			     "[--replace])",
			     why);
	struct load_table t;
	struct load_result res = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = load_parse_file(&o, &t, stderr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res.parse_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (rc < 0) {
		size_t n_bad = t.n_bad;
		load_table_free(&t);
		if (rc == -EINVAL)
			return USAGE(x, "%zu bad line%s, nothing sent", n_bad,
				     n_bad == 1 ? "" : "s");
		return EXIT_USAGE; /* load_parse_file said why */
	}
	rc = ctl_open(x);
	if (rc == 0)
		rc = load_push(x->c, &o, &t, x->timeout_ms, &res, stderr);
	load_table_free(&t);
	if (rc != EXIT_NODP && !x->batch) /* replaced routes' inline next hops (add replaces) */
		nh_sweep_inline(x);
	if (rc != 0)
		return rc;
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "routes", res.n4 + res.n6);
		json_kv_u64(&x->j, "ipv4", res.n4);
		json_kv_u64(&x->j, "ipv6", res.n6);
		json_kv_double(&x->j, "parse_s", res.parse_s);
		json_kv_double(&x->j, "push_s", res.push_s);
		json_kv_double(&x->j, "routes_per_s",
			       res.push_s > 0 ? (double)(res.n4 + res.n6) / res.push_s : 0);
		json_obj_end(&x->j);
	} else {
		load_print_summary(stdout, &res);
	}
	return 0;
}
