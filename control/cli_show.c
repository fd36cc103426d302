/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control's `show` printers: one table or one JSON document per kind of object
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

/* ---- show ---- */

static void
show_port_entry(struct ctl *x, const struct npr_dump_port *p)
{
	char mac[NPR_MAC_STRLEN];
	char ifs[128] = "";
	for (size_t i = 0; i < x->n_ifaces; i++) {
		if (x->ifaces[i].port_id != p->port_id)
			continue;
		size_t n = strlen(ifs);
		snprintf(ifs + n, sizeof(ifs) - n, "%s%.*s", n > 0 ? "," : "", (int)NPR_NAME_LEN,
			 x->ifaces[i].name);
	}
	npr_format_mac(p->mac, mac);
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "port_id", p->port_id);
		char name[sizeof(p->name) + 1];
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(p->name), p->name);
		json_kv_str(&x->j, "name", name);
		json_kv_u64(&x->j, "n_rxq", p->n_rxq);
		json_kv_u64(&x->j, "n_txq", p->n_txq);
		json_kv_str(&x->j, "mac", mac);
		json_kv_u64(&x->j, "max_mtu", p->max_mtu);
		char why[sizeof(p->mtu_why) + 1];
		snprintf(why, sizeof(why), "%.*s", (int)sizeof(p->mtu_why), p->mtu_why);
		json_kv_str(&x->j, "max_mtu_by", why);
		json_obj_end(&x->j);
	} else {
		printf("%-5u %-24.*s %-4u %-4u %-18s %-7u %-16s %.*s\n", p->port_id,
		       (int)sizeof(p->name), p->name, p->n_rxq, p->n_txq, mac, p->max_mtu,
		       ifs[0] != '\0' ? ifs : "-", (int)sizeof(p->mtu_why), p->mtu_why);
	}
}

static int
show_ports(struct ctl *x)
{
	int rc = need_ports(x);
	if (rc == 0)
		rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		printf("%-5s %-24s %-4s %-4s %-18s %-7s %-16s %s\n", "PORT", "DEVICE", "RXQ", "TXQ",
		       "MAC", "MAX-MTU", "INTERFACES", "MAX-MTU SET BY");
	for (size_t i = 0; i < x->n_ports; i++)
		show_port_entry(x, &x->ports[i]);
	if (x->json_out)
		json_arr_end(&x->j);
	return 0;
}

static int
show_ifaces(struct ctl *x)
{
	int rc = need_ifaces(x);
	if (rc == 0)
		rc = need_ports(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		printf("%-4s %-16s %-5s %-20s %-18s %-5s %s\n", "ID", "NAME", "PORT", "DEVICE",
		       "MAC", "MTU", "STATE");
	for (size_t i = 0; i < x->n_ifaces; i++) {
		const struct npr_dump_iface *f = &x->ifaces[i];
		const struct npr_dump_port *p = port_by_id(x, f->port_id);
		char mac[NPR_MAC_STRLEN], name[NPR_NAME_LEN + 1], dev[64];
		npr_format_mac(f->mac, mac);
		snprintf(name, sizeof(name), "%.*s", (int)NPR_NAME_LEN, f->name);
		snprintf(dev, sizeof(dev), "%.*s", p != NULL ? (int)sizeof(p->name) : 1,
			 p != NULL ? p->name : "?");
		bool up = f->flags & NPR_IFACE_F_UP;
		if (x->json_out) {
			json_obj_begin(&x->j);
			json_kv_u64(&x->j, "id", f->ifid);
			json_kv_str(&x->j, "name", name);
			json_kv_u64(&x->j, "port_id", f->port_id);
			json_kv_str(&x->j, "device", dev);
			json_kv_str(&x->j, "mac", mac);
			json_kv_u64(&x->j, "mtu", f->mtu);
			json_kv_bool(&x->j, "up", up);
			json_obj_end(&x->j);
		} else {
			printf("%-4u %-16s %-5u %-20s %-18s %-5u %s\n", f->ifid, name, f->port_id,
			       dev, mac, f->mtu, up ? "up" : "down");
		}
	}
	if (x->json_out)
		json_arr_end(&x->j);
	return 0;
}

static void
show_addr_entry(void *ctx, const void *e)
{
	struct ctl *x = ctx;
	const struct npr_dump_addr *a = e;
	char p[NPR_PREFIX_STRLEN], dev[NPR_NAME_LEN + 8];
	npr_format_prefix(a->family, a->addr, a->plen, p, sizeof(p));
	iface_name(x, a->ifid, dev, sizeof(dev));
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "address", p);
		json_kv_u64(&x->j, "family", a->family);
		json_kv_str(&x->j, "dev", dev);
		json_kv_u64(&x->j, "ifid", a->ifid);
		json_obj_end(&x->j);
	} else {
		printf("%-44s %s\n", p, dev);
	}
}

static void
show_neigh_any(struct ctl *x, const struct npr_dump_neigh *n, bool learnt)
{
	char a[INET6_ADDRSTRLEN], dev[NPR_NAME_LEN + 8], mac[NPR_MAC_STRLEN];
	npr_format_addr(n->family, n->addr, a, sizeof(a));
	iface_name(x, n->ifid, dev, sizeof(dev));
	npr_format_mac(n->mac, mac);
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "address", a);
		json_kv_u64(&x->j, "family", n->family);
		json_kv_str(&x->j, "dev", dev);
		json_kv_str(&x->j, "lladdr", mac);
		if (learnt)
			json_kv_bool(&x->j, "learnt", true);
		json_obj_end(&x->j);
	} else {
		printf("%-40s %-16s %s%s\n", a, dev, mac, learnt ? "  learnt" : "");
	}
}

static void
show_neigh_entry(void *ctx, const void *e)
{
	show_neigh_any(ctx, e, false);
}

static void
show_learnt_entry(void *ctx, const void *e)
{
	show_neigh_any(ctx, e, true);
}

/* Configured neighbours, then those the data plane learnt (ARP / ND). */
static int
show_neighs(struct ctl *x)
{
	int rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		puts("ADDRESS                                  DEV              LLADDR");
	rc = ctl_dump(x, NPR_DUMP_NEIGHS, show_neigh_entry, x);
	if (rc == 0) {
		struct dump_status st;
		rc = dump_each(x->c, NPR_DUMP_NEIGHS_LEARNT, NPR_DUMP_F_ALL_ORIGINS,
			       show_learnt_entry, x, x->timeout_ms, &st);
		/* a data plane without the kind (EINVAL) has nothing learnt to show; chunks that
		 * do not add up are skipped */
		if (rc < 0)
			rc = client_error(x, rc);
		else if (st.rep.status != 0 && st.rep.status != -EINVAL)
			rc = reply_error(x, &st.rep);
	}
	if (x->json_out)
		json_arr_end(&x->j);
	return rc;
}

/* Next hops by origin, then id. */
static int
cmp_nh(const void *a, const void *b)
{
	const struct npr_dump_nh *x = a, *y = b;
	if (x->origin != y->origin)
		return x->origin < y->origin ? -1 : 1;
	return x->nh_id < y->nh_id ? -1 : x->nh_id > y->nh_id;
}

/* Every origin's next hops (ids are per origin: nexthop 3 of config is not that of zebra). */
static int
show_nhs(struct ctl *x)
{
	int rc = need_all_nhs(x);
	if (rc == 0)
		rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->n_all_nhs > 1)
		qsort(x->all_nhs, x->n_all_nhs, sizeof(*x->all_nhs), cmp_nh);
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		printf("%-8s %-12s %-40s %-16s %-26s %-6s %s\n", "ID", "KIND", "GATEWAY", "DEV",
		       "LLADDR", "REFS", "ORIGIN");
	for (size_t i = 0; i < x->n_all_nhs; i++) {
		const struct npr_dump_nh *nh = &x->all_nhs[i];
		bool fwd = nh->kind == NPR_NH_FORWARD;
		char gw[INET6_ADDRSTRLEN] = "-", dev[NPR_NAME_LEN + 8] = "-", mac[40] = "-";
		if (nh->family != 0)
			npr_format_addr(nh->family, nh->gw, gw, sizeof(gw));
		if (fwd) {
			iface_name(x, nh->ifid, dev, sizeof(dev));
			if (nh->flags & (NPR_NH_F_MAC | NPR_NH_F_RESOLVED))
				npr_format_mac(nh->mac, mac);
			else
				snprintf(mac, sizeof(mac), "unresolved");
			if (nh->flags & NPR_NH_F_MAC)
				strcat(mac, " (static)");
		}
		if (x->json_out) {
			json_obj_begin(&x->j);
			json_kv_u64(&x->j, "id", nh->nh_id);
			json_kv_str(&x->j, "kind", nh_kind_name(nh->kind));
			if (nh->family != 0)
				json_kv_str(&x->j, "gateway", gw);
			if (fwd) {
				json_kv_str(&x->j, "dev", dev);
				json_kv_u64(&x->j, "ifid", nh->ifid);
				json_kv_bool(&x->j, "resolved",
					     nh->flags & (NPR_NH_F_MAC | NPR_NH_F_RESOLVED));
				json_kv_bool(&x->j, "static_mac", nh->flags & NPR_NH_F_MAC);
				if (nh->flags & (NPR_NH_F_MAC | NPR_NH_F_RESOLVED)) {
					char m[NPR_MAC_STRLEN];
					json_kv_str(&x->j, "lladdr", npr_format_mac(nh->mac, m));
				}
			}
			json_kv_u64(&x->j, "refcnt", nh->refcnt);
			json_kv_str(&x->j, "origin", npr_origin_name(nh->origin));
			json_kv_bool(&x->j, "inline", nh->flags & NPR_NH_F_INLINE);
			json_obj_end(&x->j);
		} else {
			/* inline: made by a route command, goes with its last route */
			printf("%-8" PRIu32 " %-12s %-40s %-16s %-26s %-6" PRIu32 " %s%s\n",
			       nh->nh_id, nh_kind_name(nh->kind), gw, dev, mac, nh->refcnt,
			       npr_origin_name(nh->origin),
			       nh->flags & NPR_NH_F_INLINE ? " (inline)" : "");
		}
	}
	if (x->json_out)
		json_arr_end(&x->j);
	return 0;
}

static void
show_group_entry(void *ctx, const void *e)
{
	struct ctl *x = ctx;
	const struct npr_dump_group *g = e;
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "id", g->group_id);
		json_kv_str(&x->j, "origin", npr_origin_name(g->origin));
		json_kv_u64(&x->j, "refcnt", g->refcnt);
		json_key(&x->j, "members");
		json_arr_begin(&x->j);
		for (unsigned i = 0; i < g->n_members; i++) {
			json_obj_begin(&x->j);
			json_kv_u64(&x->j, "nexthop", g->members[i].nh_id);
			json_kv_u64(&x->j, "weight", g->members[i].weight);
			json_obj_end(&x->j);
		}
		json_arr_end(&x->j);
		json_obj_end(&x->j);
		return;
	}
	printf("%-8" PRIu32 " %-6" PRIu32, g->group_id, g->refcnt);
	for (unsigned i = 0; i < g->n_members; i++)
		printf(" %" PRIu32 ":%u", g->members[i].nh_id, g->members[i].weight);
	if (g->origin != NPR_ORIGIN_NONE)
		printf(" [%s]", npr_origin_name(g->origin));
	putchar('\n');
}

/* What made a route, as zebra's rtm_protocol says (rtnetlink's RTPROT_* numbers). */
static const char *
proto_name(unsigned p)
{
	switch (p) {
	case 2:
		return "kernel";
	case 11:
		return "zebra";
	case 42:
		return "babel";
	case 186:
		return "bgp";
	case 187:
		return "isis";
	case 188:
		return "ospf";
	case 189:
		return "rip";
	case 190:
		return "ripng";
	case 191:
		return "nhrp";
	case 192:
		return "eigrp";
	case 193:
		return "ldp";
	case 194:
		return "sharp";
	case 195:
		return "pbr";
	case 196:
		return "static";
	case 197:
		return "openfabric";
	}
	return NULL;
}

/* One route of a dump: origin is the entry's byte (with NPR_ORIGIN_F_INACTIVE). */
static void
show_route_entry(struct ctl *x, int fam, const uint8_t *prefix, uint8_t plen, uint8_t origin_b,
		 uint8_t proto, uint8_t dist, uint32_t target)
{
	char p[NPR_PREFIX_STRLEN], desc[160], who[64] = "";
	unsigned origin = origin_b & ~NPR_ORIGIN_F_INACTIVE;
	bool active = !(origin_b & NPR_ORIGIN_F_INACTIVE);
	npr_format_prefix(fam, prefix, plen, p, sizeof(p));
	describe_target(x, origin, target, desc, sizeof(desc));
	if (origin != NPR_ORIGIN_NONE) {
		const char *pn = proto != 0 ? proto_name(proto) : NULL;
		char pbuf[16];
		if (proto != 0 && pn == NULL)
			snprintf(pbuf, sizeof(pbuf), "proto %u", proto);
		snprintf(who, sizeof(who), " [%s%s%s %u%s]", npr_origin_name(origin),
			 proto != 0 ? " " : "",
			 proto == 0   ? ""
			 : pn != NULL ? pn
				      : pbuf,
			 dist, active ? "" : ", inactive");
	}
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "prefix", p);
		json_kv_u64(&x->j, "target", target);
		json_kv_str(&x->j, "origin", npr_origin_name(origin));
		if (origin != NPR_ORIGIN_NONE) {
			json_kv_u64(&x->j, "distance", dist);
			json_kv_u64(&x->j, "proto", proto);
			json_kv_bool(&x->j, "active", active);
		}
		if ((target & NPR_TARGET_LOCAL) && (target & NPR_TARGET_CONNECTED)) {
			char dev[NPR_NAME_LEN + 8];
			json_kv_bool(&x->j, "local", true); /* the router's own, as the flags say */
			json_kv_bool(&x->j, "connected", true);
			json_kv_str(&x->j, "dev",
				    iface_name(x, target & 0xffffu, dev, sizeof(dev)));
		} else if (target & NPR_TARGET_LOCAL)
			json_kv_bool(&x->j, "local", true);
		else if (target & NPR_TARGET_GROUP)
			json_kv_u64(&x->j, "group", target & NPR_TARGET_ID_MASK);
		else
			json_kv_u64(&x->j, "nexthop", target & NPR_TARGET_ID_MASK);
		json_obj_end(&x->j);
	} else {
		printf("%s %s%s\n", p, desc, who);
	}
}

static void
show_route4_entry(void *ctx, const void *e)
{
	const struct npr_route4 *r = e;
	show_route_entry(ctx, NPR_AF_INET, (const uint8_t *)&r->prefix, r->plen, r->origin,
			 r->proto, r->distance, r->target);
}

static void
show_route6_entry(void *ctx, const void *e)
{
	const struct npr_route6 *r = e;
	show_route_entry(ctx, NPR_AF_INET6, r->prefix, r->plen, r->origin, r->proto, r->distance,
			 r->target);
}

static int
show_stream(struct ctl *x, uint32_t kind, dump_entry_fn fn, const char *header)
{
	int rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else if (header != NULL)
		puts(header);
	rc = ctl_dump(x, kind, fn, x);
	if (x->json_out)
		json_arr_end(&x->j);
	return rc;
}

static int
cmp_route4(const void *a, const void *b)
{
	const struct npr_route4 *x = a, *y = b;
	uint32_t px = ntohl(x->prefix), py = ntohl(y->prefix);
	if (px != py)
		return px < py ? -1 : 1;
	if (x->plen != y->plen)
		return (int)x->plen - (int)y->plen;
	return (int)x->origin - (int)y->origin; /* the selected one first */
}

static int
cmp_route6(const void *a, const void *b)
{
	const struct npr_route6 *x = a, *y = b;
	int c = memcmp(x->prefix, y->prefix, sizeof(x->prefix));
	if (c != 0)
		return c;
	if (x->plen != y->plen)
		return (int)x->plen - (int)y->plen;
	return (int)x->origin - (int)y->origin; /* the selected one first */
}

/* Routes come in the data plane's hash order: collect and sort them, so that the output is
 * the same for the same table (a struct npr_route4 or npr_route6 a route: 1M IPv4 routes are
 * 12 MB). */
static int
show_routes(struct ctl *x, int which)
{
	struct dump_vec v4 = { 0 }, v6 = { 0 };
	int rc = need_nhs(x);
	if (rc == 0)
		rc = need_all_nhs(x);
	if (rc == 0)
		rc = need_ifaces(x);
	if (rc == 0 && which != 6)
		rc = ctl_collect(x, NPR_DUMP_ROUTES4, &v4);
	if (rc == 0 && which != 4)
		rc = ctl_collect(x, NPR_DUMP_ROUTES6, &v6);
	if (rc == 0) {
		struct npr_route4 *r4 = v4.v;
		struct npr_route6 *r6 = v6.v;
		if (v4.n > 1)
			qsort(r4, v4.n, sizeof(*r4), cmp_route4);
		if (v6.n > 1)
			qsort(r6, v6.n, sizeof(*r6), cmp_route6);
		if (x->json_out)
			json_arr_begin(&x->j);
		for (size_t i = 0; i < v4.n; i++)
			show_route4_entry(x, &r4[i]);
		for (size_t i = 0; i < v6.n; i++)
			show_route6_entry(x, &r6[i]);
		if (x->json_out)
			json_arr_end(&x->j);
	}
	dump_vec_free(&v4);
	dump_vec_free(&v6);
	return rc;
}

/* Each worker's queue of each port (queue q is worker q's), as the driver counts them. */
static void
print_queues(const struct npr_stats *st, unsigned np, unsigned nw)
{
	printf("%-5s %-6s %-7s %14s %14s\n", "PORT", "QUEUE", "WORKER", "RX", "TX");
	for (unsigned i = 0; i < np; i++)
		for (unsigned q = 0; q < nw && q < NPR_STATS_QUEUES; q++)
			printf("%-5u %-6u %-7u %14" PRIu64 " %14" PRIu64 "\n", st->port[i].port_id,
			       q, q, st->port[i].q_ipackets[q], st->port[i].q_opackets[q]);
	if (nw > NPR_STATS_QUEUES)
		printf("(queues above %u are not counted separately)\n", NPR_STATS_QUEUES - 1);
}

static int
show_stats(struct ctl *x)
{
	static struct npr_stats st;
	int rc = ctl_stats(x, &st);
	if (rc == 0)
		rc = need_ports(x);
	if (rc != 0)
		return rc;

	unsigned np = st.n_ports < NPR_MAX_PORTS ? st.n_ports : NPR_MAX_PORTS;
	unsigned nw = st.n_workers < NPR_MAX_WORKERS ? st.n_workers : NPR_MAX_WORKERS;
	uint64_t drop[NPR_DROP_MAX] = { 0 }, exc[NPR_EXC_MAX] = { 0 }, pol[NPR_PUNT_MAX] = { 0 },
		 drop_total = 0, exc_total = 0, pol_total = 0;
	for (unsigned w = 0; w < nw; w++) {
		for (unsigned i = 0; i < NPR_PUNT_MAX; i++)
			pol[i] += st.worker[w].policed[i];
		for (unsigned i = 0; i < NPR_DROP_MAX; i++)
			drop[i] += st.worker[w].drop[i];
		for (unsigned i = 0; i < NPR_EXC_MAX; i++)
			exc[i] += st.worker[w].exc[i];
	}
	for (unsigned i = 0; i < NPR_DROP_MAX; i++)
		drop_total += drop[i];
	for (unsigned i = 0; i < NPR_EXC_MAX; i++)
		exc_total += exc[i];
	for (unsigned i = 0; i < NPR_PUNT_MAX; i++)
		pol_total += pol[i];

	if (x->json_out) {
		struct json *j = &x->j;
		json_obj_begin(j);
		json_kv_u64(j, "uptime_ns", st.uptime_ns);
		json_kv_u64(j, "tsc_hz", st.tsc_hz);
		json_kv_u64(j, "counted_ns", st.counted_ns);
		json_kv_u64(j, "exc_handled", st.exc_handled);
		json_kv_u64(j, "msgs_ok", st.msgs_ok);
		json_kv_u64(j, "msgs_err", st.msgs_err);
		json_kv_u64(j, "ring_resets", st.ring_resets);
		json_kv_u64(j, "replies_dropped", st.replies_dropped);
		json_kv_u64(j, "batches_aborted", st.batches_aborted);
		json_kv_u64(j, "layout_repairs", st.layout_repairs);
		json_kv_u64(j, "mbufs_total", st.mbufs_total);
		json_kv_u64(j, "mbufs_in_use", st.mbufs_in_use);
		json_key(j, "ports");
		json_arr_begin(j);
		for (unsigned i = 0; i < np; i++) {
			const struct npr_port_stats *p = &st.port[i];
			json_obj_begin(j);
			json_kv_u64(j, "port_id", p->port_id);
			json_kv_u64(j, "link_up", p->link_up);
			json_kv_u64(j, "link_downs", p->link_downs);
			json_kv_u64(j, "ipackets", p->ipackets);
			json_kv_u64(j, "opackets", p->opackets);
			json_kv_u64(j, "ibytes", p->ibytes);
			json_kv_u64(j, "obytes", p->obytes);
			json_kv_u64(j, "imissed", p->imissed);
			json_kv_u64(j, "ierrors", p->ierrors);
			json_kv_u64(j, "oerrors", p->oerrors);
			json_kv_u64(j, "rx_nombuf", p->rx_nombuf);
			if (p->flags & NPR_PORT_F_UNSEEN)
				json_kv_u64(j, "rx_unseen", p->rx_unseen);
			json_key(j, "queues"); /* queue q: worker q's */
			json_arr_begin(j);
			for (unsigned q = 0; q < nw && q < NPR_STATS_QUEUES; q++) {
				json_obj_begin(j);
				json_kv_u64(j, "queue", q);
				json_kv_u64(j, "ipackets", p->q_ipackets[q]);
				json_kv_u64(j, "opackets", p->q_opackets[q]);
				json_obj_end(j);
			}
			json_arr_end(j);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_key(j, "workers");
		json_arr_begin(j);
		for (unsigned w = 0; w < nw; w++) {
			const struct npr_worker_stats *ws = &st.worker[w];
			json_obj_begin(j);
			json_kv_u64(j, "lcore", ws->lcore_id);
			json_kv_u64(j, "rx_pkts", ws->rx_pkts);
			json_kv_u64(j, "tx_pkts", ws->tx_pkts);
			json_kv_u64(j, "fwd4_pkts", ws->fwd4_pkts);
			json_kv_u64(j, "fwd6_pkts", ws->fwd6_pkts);
			json_kv_u64(j, "polls", ws->polls);
			json_kv_u64(j, "busy_polls", ws->busy_polls);
			json_kv_u64(j, "naps", ws->naps);
			json_kv_u64(j, "nap_cycles", ws->nap_cycles);
			json_kv_u64(j, "inject_pkts", ws->inject_pkts);
			json_key(j, "drops");
			json_obj_begin(j);
			for (unsigned i = 0; i < NPR_DROP_MAX; i++)
				json_kv_u64(j, npr_drop_name(i), ws->drop[i]);
			json_obj_end(j);
			json_key(j, "exceptions");
			json_obj_begin(j);
			for (unsigned i = 0; i < NPR_EXC_MAX; i++)
				json_kv_u64(j, npr_exc_name(i), ws->exc[i]);
			json_obj_end(j);
			json_key(j, "policed");
			json_obj_begin(j);
			for (unsigned i = 0; i < NPR_PUNT_MAX; i++)
				json_kv_u64(j, npr_punt_name(i), ws->policed[i]);
			json_obj_end(j);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_key(j, "drops");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_DROP_MAX; i++)
			json_kv_u64(j, npr_drop_name(i), drop[i]);
		json_obj_end(j);
		json_kv_u64(j, "drops_total", drop_total);
		json_key(j, "exceptions");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_EXC_MAX; i++)
			json_kv_u64(j, npr_exc_name(i), exc[i]);
		json_obj_end(j);
		json_kv_u64(j, "exceptions_total", exc_total);
		json_key(j, "policed");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_PUNT_MAX; i++)
			json_kv_u64(j, npr_punt_name(i), pol[i]);
		json_obj_end(j);
		json_kv_u64(j, "policed_total", pol_total);
		json_key(j, "slowpath");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
			json_kv_u64(j, npr_slow_name(i), st.slow[i]);
		json_obj_end(j);
		json_obj_end(j);
		return 0;
	}

	printf("uptime %.1f s; messages applied %" PRIu64 ", rejected %" PRIu64
	       "; exceptions handled %" PRIu64 "; ring resets %" PRIu64 "\n",
	       (double)st.uptime_ns * 1e-9, st.msgs_ok, st.msgs_err, st.exc_handled,
	       st.ring_resets);
	if (st.replies_dropped + st.batches_aborted + st.layout_repairs > 0)
		printf("replies dropped %" PRIu64 "; batches aborted %" PRIu64
		       "; segment layout repairs %" PRIu64 "\n",
		       st.replies_dropped, st.batches_aborted, st.layout_repairs);
	printf("packet buffers %" PRIu64 " in use of %" PRIu64 "\n\n", st.mbufs_in_use,
	       st.mbufs_total);
	/* RX-UNSEEN: frames the Linux netdev of an af_packet port received and nprouter never
	 * saw as such: ring overruns, IPv4 fragments the kernel reassembled ("-": not known for
	 * that kind of port) */
	printf("%-5s %-16s %-5s %14s %14s %12s %12s %12s %12s %12s\n", "PORT", "DEVICE", "LINK",
	       "RX", "TX", "RX-MISSED", "RX-ERRORS", "TX-ERRORS", "RX-NOMBUF", "RX-UNSEEN");
	uint64_t sum[7] = { 0 };
	bool any_unseen = false;
	for (unsigned i = 0; i < np; i++) {
		const struct npr_port_stats *p = &st.port[i];
		const struct npr_dump_port *dp = port_by_id(x, p->port_id);
		char unseen[24] = "-";
		if (p->flags & NPR_PORT_F_UNSEEN) {
			snprintf(unseen, sizeof(unseen), "%" PRIu64, p->rx_unseen);
			any_unseen = true;
		}
		printf("%-5u %-16.*s %-5s %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %12" PRIu64 " %12s\n",
		       p->port_id, 16, dp != NULL ? dp->name : "?", p->link_up ? "up" : "down",
		       p->ipackets, p->opackets, p->imissed, p->ierrors, p->oerrors, p->rx_nombuf,
		       unseen);
		uint64_t v[sizeof(sum) / sizeof(sum[0])] = { p->ipackets, p->opackets, p->imissed,
							     p->ierrors,  p->oerrors,  p->rx_nombuf,
							     p->rx_unseen };
		for (size_t k = 0; k < sizeof(sum) / sizeof(sum[0]); k++)
			sum[k] += v[k];
	}
	char unseen_sum[24] = "-";
	if (any_unseen)
		snprintf(unseen_sum, sizeof(unseen_sum), "%" PRIu64, sum[6]);
	printf("%-28s %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
	       " %12" PRIu64 " %12s\n",
	       "total", sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], unseen_sum);
	if (nw > 1)
		print_queues(&st, np, nw);
	for (unsigned i = 0; i < np; i++)
		if (st.port[i].link_downs != 0)
			printf("port %u: link went down %" PRIu32 " times (memif peer left)\n",
			       st.port[i].port_id, st.port[i].link_downs);
	putchar('\n');

	/* BUSY%: of the polls, those that received; ASLEEP%: of the time counted, the naps of an
	 * idle worker (--idle adaptive) */
	printf("%-7s %-6s %14s %14s %14s %14s %6s %7s\n", "WORKER", "LCORE", "RX", "TX",
	       "FORWARDED4", "FORWARDED6", "BUSY%", "ASLEEP%");
	uint64_t wsum[4] = { 0 };
	double span = (double)st.counted_ns * 1e-9 * (double)st.tsc_hz;
	for (unsigned w = 0; w < nw; w++) {
		const struct npr_worker_stats *ws = &st.worker[w];
		double busy =
			ws->polls > 0 ? 100.0 * (double)ws->busy_polls / (double)ws->polls : 0;
		double asleep = span > 0 ? 100.0 * (double)ws->nap_cycles / span : 0;
		printf("%-7u %-6" PRIu32 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64
		       " %6.1f %7.1f\n",
		       w, ws->lcore_id, ws->rx_pkts, ws->tx_pkts, ws->fwd4_pkts, ws->fwd6_pkts,
		       busy, asleep > 100 ? 100.0 : asleep);
		wsum[0] += ws->rx_pkts;
		wsum[1] += ws->tx_pkts;
		wsum[2] += ws->fwd4_pkts;
		wsum[3] += ws->fwd6_pkts;
	}
	printf("%-14s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n\n", "total",
	       wsum[0], wsum[1], wsum[2], wsum[3]);

	printf("drops:\n");
	for (unsigned i = 0; i < NPR_DROP_MAX; i++)
		if (drop[i] != 0)
			printf("  %-16s %14" PRIu64 "  %s\n", npr_drop_name(i), drop[i],
			       npr_drop_text(i));
	printf("  %-16s %14" PRIu64 "\n", "total", drop_total);
	printf("exceptions:\n");
	for (unsigned i = 0; i < NPR_EXC_MAX; i++)
		if (exc[i] != 0)
			printf("  %-16s %14" PRIu64 "  %s\n", npr_exc_name(i), exc[i],
			       npr_exc_text(i));
	printf("  %-16s %14" PRIu64 "\n", "total", exc_total);
	if (pol_total != 0) {
		printf("punt policing (exceptions over their class's rate, dropped; in drops "
		       "too):\n");
		for (unsigned i = 0; i < NPR_PUNT_MAX; i++)
			if (pol[i] != 0)
				printf("  %-16s %14" PRIu64 "  %s\n", npr_punt_name(i), pol[i],
				       npr_punt_text(i));
		printf("  %-16s %14" PRIu64 "\n", "total", pol_total);
	}
	uint64_t inj = 0;
	for (unsigned w = 0; w < nw; w++)
		inj += st.worker[w].inject_pkts;
	printf("slow path (ARP, ND, ICMP; %" PRIu64 " packets sent through the workers):\n", inj);
	for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
		if (st.slow[i] != 0)
			printf("  %-18s %12" PRIu64 "  %s\n", npr_slow_name(i), st.slow[i],
			       npr_slow_text(i));
	return 0;
}

/* "2026-12-07 11:02:03 (42 s ago)" for a CLOCK_REALTIME in ns; "never" for 0. */
static const char *
when(uint64_t unix_ns, char *buf, size_t len)
{
	if (unix_ns == 0)
		return "never";
	time_t t = (time_t)(unix_ns / 1000000000u);
	struct tm tm;
	char ts[32];
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	double ago = difftime(time(NULL), t);
	snprintf(buf, len, "%s (%.0f s ago)", ts, ago > 0 ? ago : 0);
	return buf;
}

/* Configuration transactions by client origin: batches and resyncs (npr_txn_stats). */
static void
show_txn(const struct npr_info *in)
{
	printf("config transactions (batches, resyncs):\n");
	for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
		const struct npr_txn_stats *t = &in->txn[o];
		char a[64];
		printf("  %-7s generation %" PRIu64 ", failed %" PRIu64, npr_origin_name(o),
		       t->generation, t->failed);
		if (t->generation + t->failed == 0) {
			printf("\n");
			continue;
		}
		printf("; last %s", t->last_status == 0 ? "committed" : "failed: ");
		if (t->last_status != 0)
			printf("%s", npr_strstatus(t->last_status));
		printf("\n          last commit %s", when(t->commit_unix_ns, a, sizeof(a)));
		printf(", last failure %s\n", when(t->failed_unix_ns, a, sizeof(a)));
	}
}

static int
show_info(struct ctl *x)
{
	int rc = need_info(x);
	if (rc != 0)
		return rc;
	const struct npr_info *in = &x->info;
	if (x->json_out) {
		struct json *j = &x->j;
		json_obj_begin(j);
		json_kv_u64(j, "instance_id", in->instance_id);
		json_kv_u64(j, "abi_version", in->abi_version);
		json_kv_u64(j, "n_ports", in->n_ports);
		json_kv_u64(j, "n_workers", in->n_workers);
		json_kv_u64(j, "n_ifaces", in->n_ifaces);
		json_kv_u64(j, "nh_max", in->nh_max);
		json_kv_u64(j, "group_max", in->group_max);
		json_kv_u64(j, "route4_max", in->route4_max);
		json_kv_u64(j, "route6_max", in->route6_max);
		json_kv_u64(j, "route4_count", in->route4_count);
		json_kv_u64(j, "route6_count", in->route6_count);
		json_kv_u64(j, "fib4_bytes", in->fib4_bytes);
		json_kv_u64(j, "fib6_bytes", in->fib6_bytes);
		json_kv_u64(j, "uptime_ns", in->uptime_ns);
		for (int f = 4; f <= 6; f += 2) {
			json_key(j, f == 4 ? "route4_by_origin" : "route6_by_origin");
			json_obj_begin(j);
			for (unsigned o = 0; o < NPR_ORIGIN_MAX; o++)
				json_kv_u64(j, npr_origin_name(o),
					    f == 4 ? in->route4_by_origin[o]
						   : in->route6_by_origin[o]);
			json_obj_end(j);
		}
		json_key(j, "transactions");
		json_obj_begin(j);
		for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
			const struct npr_txn_stats *t = &in->txn[o];
			json_key(j, npr_origin_name(o));
			json_obj_begin(j);
			json_kv_u64(j, "generation", t->generation);
			json_kv_u64(j, "failed", t->failed);
			json_kv_u64(j, "commit_unix_ns", t->commit_unix_ns);
			json_kv_u64(j, "failed_unix_ns", t->failed_unix_ns);
			json_kv_i64(j, "last_status", t->last_status);
			json_obj_end(j);
		}
		json_obj_end(j);
		json_obj_end(j);
		return 0;
	}
	printf("instance     %016" PRIx64 "\n", in->instance_id);
	printf("ABI version  %" PRIu32 " (this control: %u)\n", in->abi_version, NPR_ABI_VERSION);
	printf("uptime       %.1f s\n", (double)in->uptime_ns * 1e-9);
	printf("ports        %" PRIu32 "\nworkers      %" PRIu32 "\ninterfaces   %" PRIu32 "\n",
	       in->n_ports, in->n_workers, in->n_ifaces);
	printf("next hops    ids 1..%" PRIu32 "\ngroups       ids 1..%" PRIu32 "\n",
	       in->nh_max > 0 ? in->nh_max - 1 : 0, in->group_max > 0 ? in->group_max - 1 : 0);
	/* the capacity counts the clients' routes; the router's own (connected, local) come on
	 * top of it, so they are shown apart */
	for (int f = 4; f <= 6; f += 2) {
		const uint32_t *by = f == 4 ? in->route4_by_origin : in->route6_by_origin;
		uint32_t all = f == 4 ? in->route4_count : in->route6_count, clients = 0;
		for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++)
			clients += by[o]; /* selected or waiting: what the capacity counts */
		uint64_t bytes = f == 4 ? in->fib4_bytes : in->fib6_bytes;
		printf("IPv%d routes  %" PRIu32 " of %" PRIu32 " from clients, %" PRIu32
		       " connected/local; FIB %.1f MiB",
		       f, clients, f == 4 ? in->route4_max : in->route6_max, by[0],
		       (double)bytes / 1048576.0);
		if (all > 0)
			printf(" (%.1f bytes/prefix)", (double)bytes / all);
		putchar('\n');
	}
	for (int f = 4; f <= 6; f += 2) {
		const uint32_t *n = f == 4 ? in->route4_by_origin : in->route6_by_origin;
		printf("  IPv%d by origin", f);
		for (unsigned o = 0; o < NPR_ORIGIN_MAX; o++)
			printf("%s %s %" PRIu32, o == 0 ? "" : ",", npr_origin_name(o), n[o]);
		putchar('\n');
	}
	show_txn(in);
	return 0;
}

int
cmd_show(struct ctl *x, int argc, char **argv)
{
	if (argc < 1)
		return USAGE(x, "usage: show interfaces|ports|addresses|neighbors|nexthops|groups|"
				"routes [4|6]|stats [--watch [SECONDS]]|info");
	const char *w = argv[0];
	if (strcmp(w, "routes") == 0 || strcmp(w, "route") == 0) {
		int which = 0;
		if (argc == 2 && (strcmp(argv[1], "4") == 0 || strcmp(argv[1], "6") == 0))
			which = argv[1][0] - '0';
		else if (argc != 1)
			return USAGE(x, "usage: show routes [4|6]");
		return show_routes(x, which);
	}
	if (strcmp(w, "stats") == 0 && argc >= 2 && strcmp(argv[1], "--watch") == 0)
		return cmd_watch(x, argc - 2, argv + 2);
	if (argc != 1)
		return USAGE(x, "unexpected '%s'", argv[1]);
	if (strcmp(w, "interfaces") == 0 || strcmp(w, "interface") == 0 || strcmp(w, "ifaces") == 0)
		return show_ifaces(x);
	if (strcmp(w, "ports") == 0)
		return show_ports(x);
	if (strcmp(w, "addresses") == 0 || strcmp(w, "address") == 0 || strcmp(w, "addr") == 0)
		return show_stream(x, NPR_DUMP_ADDRS, show_addr_entry,
				   "ADDRESS                                      DEV");
	if (strcmp(w, "neighbors") == 0 || strcmp(w, "neighbours") == 0 ||
	    strcmp(w, "neighbor") == 0 || strcmp(w, "neigh") == 0)
		return show_neighs(x);
	if (strcmp(w, "nexthops") == 0 || strcmp(w, "nexthop") == 0 || strcmp(w, "nh") == 0)
		return show_nhs(x);
	if (strcmp(w, "groups") == 0 || strcmp(w, "group") == 0)
		return show_stream(x, NPR_DUMP_GROUPS, show_group_entry,
				   "ID       REFS   MEMBERS (NEXTHOP:WEIGHT)");
	if (strcmp(w, "stats") == 0)
		return show_stats(x);
	if (strcmp(w, "info") == 0)
		return show_info(x);
	return USAGE(x, "show what? '%s'", w);
}
