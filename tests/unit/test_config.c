/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YANG configuration (control/config*.c) and its diff (control/diff.c), without a data plane:
 *
 *   - the examples in conf/ parse into the objects the files describe (hand-checked
 *     expectations below);
 *   - every file of the invalid corpus (tests/yang/invalid) fails with its expected error;
 *   - plans are run through a small simulator of the data plane's rules (sim_apply: ids must
 *     exist, no deletion of what is still used, unique names and ports, ...), which stands in
 *     for the dump of the next apply. After every transition A -> B: the plan is accepted, a
 *     second plan for B is empty (idempotence), and the resulting state, described by names
 *     and addresses, equals the state of B applied to an empty data plane. Changing one route
 *     of a large config gives one message with one entry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/addr.h"
#include "apply.h"
#include "config.h"

#ifndef NPR_SOURCE_DIR
#define NPR_SOURCE_DIR "."
#endif

static struct config_yang *Y;

/* ---- a data plane simulator: applies plan messages to a struct running ---- */

struct sim {
	struct running rs;
	bool sync;
	/* touched during a SYNC, by kind: parallel to the rs arrays */
	bool *t_iface, *t_addr, *t_neigh, *t_nh, *t_group, *t_r4, *t_r6;
};

static void
sim_init(struct sim *s, unsigned n_ports)
{
	memset(s, 0, sizeof(*s));
	s->rs.info.nh_max = 65536;
	s->rs.info.group_max = 4096;
	s->rs.info.route4_max = 1 << 20;
	s->rs.info.route6_max = 1 << 18;
	s->rs.port = calloc(n_ports, sizeof(*s->rs.port));
	s->rs.n_port = n_ports;
	for (unsigned i = 0; i < n_ports; i++) {
		s->rs.port[i].port_id = (uint16_t)i;
		snprintf(s->rs.port[i].name, sizeof(s->rs.port[i].name), "net_pcap%u", i);
		uint8_t mac[6] = { 0x02, 0x70, 0x63, 0x61, 0x70, (uint8_t)i };
		memcpy(s->rs.port[i].mac, mac, 6);
	}
	size_t big = 1 << 16;
	s->t_iface = calloc(NPR_MAX_IFACES, 1);
	s->t_addr = calloc(big, 1);
	s->t_neigh = calloc(big, 1);
	s->t_nh = calloc(big, 1);
	s->t_group = calloc(big, 1);
	s->t_r4 = calloc(big, 1);
	s->t_r6 = calloc(big, 1);
	s->rs.iface = calloc(NPR_MAX_IFACES, sizeof(*s->rs.iface));
	s->rs.addr = calloc(big, sizeof(*s->rs.addr));
	s->rs.neigh = calloc(big, sizeof(*s->rs.neigh));
	s->rs.nh = calloc(big, sizeof(*s->rs.nh));
	s->rs.group = calloc(big, sizeof(*s->rs.group));
	s->rs.member = calloc(big * 8, sizeof(*s->rs.member));
	s->rs.r4 = calloc(big, sizeof(*s->rs.r4));
	s->rs.r6 = calloc(big, sizeof(*s->rs.r6));
}

static void
sim_free(struct sim *s)
{
	running_free(&s->rs);
	free(s->t_iface);
	free(s->t_addr);
	free(s->t_neigh);
	free(s->t_nh);
	free(s->t_group);
	free(s->t_r4);
	free(s->t_r6);
}

static int
find_iface(const struct sim *s, unsigned ifid)
{
	for (size_t i = 0; i < s->rs.n_iface; i++)
		if (s->rs.iface[i].ifid == ifid)
			return (int)i;
	return -1;
}

static int
find_nh(const struct sim *s, uint32_t id)
{
	for (size_t i = 0; i < s->rs.n_nh; i++)
		if (s->rs.nh[i].nh_id == id)
			return (int)i;
	return -1;
}

static int
find_group(const struct sim *s, uint32_t id)
{
	for (size_t i = 0; i < s->rs.n_group; i++)
		if (s->rs.group[i].id == id)
			return (int)i;
	return -1;
}

static bool
target_exists(const struct sim *s, uint32_t t)
{
	if (t & NPR_TARGET_GROUP)
		return find_group(s, t & NPR_TARGET_ID_MASK) >= 0;
	return find_nh(s, t) >= 0;
}

static unsigned
nh_refs(const struct sim *s, uint32_t id)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->rs.n4; i++)
		n += s->rs.r4[i].target == id;
	for (size_t i = 0; i < s->rs.n6; i++)
		n += s->rs.r6[i].target == id;
	for (size_t g = 0; g < s->rs.n_group; g++)
		for (uint32_t k = 0; k < s->rs.group[g].n; k++)
			n += s->rs.member[s->rs.group[g].first + k].nh_id == id;
	return n;
}

static unsigned
group_refs(const struct sim *s, uint32_t id)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->rs.n4; i++)
		n += s->rs.r4[i].target == (NPR_TARGET_GROUP | id);
	for (size_t i = 0; i < s->rs.n6; i++)
		n += s->rs.r6[i].target == (NPR_TARGET_GROUP | id);
	return n;
}

static bool
iface_used(const struct sim *s, unsigned ifid)
{
	for (size_t i = 0; i < s->rs.n_nh; i++)
		if (s->rs.nh[i].kind == NPR_NH_FORWARD && s->rs.nh[i].ifid == ifid)
			return true;
	for (size_t i = 0; i < s->rs.n_addr; i++)
		if (s->rs.addr[i].ifid == ifid)
			return true;
	for (size_t i = 0; i < s->rs.n_neigh; i++)
		if (s->rs.neigh[i].ifid == ifid)
			return true;
	return false;
}

/* Remove element i of an array of n, and of its touched array. */
#define DEL_AT(arr, t, n, i)                                                                       \
	do {                                                                                       \
		(arr)[i] = (arr)[(n)-1];                                                           \
		(t)[i] = (t)[(n)-1];                                                               \
		(n)--;                                                                             \
	} while (0)

static int
route_find4(const struct sim *s, uint32_t prefix, uint8_t plen)
{
	for (size_t i = 0; i < s->rs.n4; i++)
		if (s->rs.r4[i].prefix == prefix && s->rs.r4[i].plen == plen)
			return (int)i;
	return -1;
}

static int
route_find6(const struct sim *s, const uint8_t *prefix, uint8_t plen)
{
	for (size_t i = 0; i < s->rs.n6; i++)
		if (s->rs.r6[i].plen == plen && memcmp(s->rs.r6[i].prefix, prefix, 16) == 0)
			return (int)i;
	return -1;
}

static bool
is_address(const struct sim *s, int family, const uint8_t *a, unsigned plen)
{
	if (plen != (family == NPR_AF_INET ? 32u : 128u))
		return false;
	for (size_t i = 0; i < s->rs.n_addr; i++)
		if (s->rs.addr[i].family == family && memcmp(s->rs.addr[i].addr, a, 16) == 0)
			return true;
	return false;
}

static int
sim_msg(struct sim *s, const uint8_t *m)
{
	struct npr_msg_hdr h;
	memcpy(&h, m, sizeof(h));
	struct running *rs = &s->rs;
	switch (h.type) {
	case NPR_MSG_IFACE_SET: {
		struct npr_msg_iface_set x;
		memcpy(&x, m, sizeof(x));
		if (x.ifid >= NPR_MAX_IFACES || x.port_id >= rs->n_port)
			return -EINVAL;
		for (size_t i = 0; i < rs->n_iface; i++) {
			if (rs->iface[i].ifid == x.ifid)
				continue;
			if (rs->iface[i].port_id == x.port_id)
				return -EBUSY;
			if (strncmp(rs->iface[i].name, x.name, NPR_NAME_LEN) == 0)
				return -EEXIST;
		}
		/* as the data plane: at most what the port carries; 0: 1500 or that */
		unsigned pmax = rs->port[x.port_id].max_mtu != 0 ? rs->port[x.port_id].max_mtu
								 : NPR_MTU_MAX;
		if (x.mtu > pmax)
			return -ERANGE;
		int i = find_iface(s, x.ifid);
		if (i < 0)
			i = (int)rs->n_iface++;
		struct npr_dump_iface *f = &rs->iface[i];
		memset(f, 0, sizeof(*f));
		f->ifid = x.ifid;
		f->port_id = x.port_id;
		f->mtu = (uint16_t)(x.mtu != 0 ? x.mtu : pmax < 1500 ? pmax : 1500);
		f->flags = x.flags;
		static const uint8_t z[6];
		memcpy(f->mac, memcmp(x.mac, z, 6) != 0 ? x.mac : rs->port[x.port_id].mac, 6);
		memcpy(f->name, x.name, NPR_NAME_LEN);
		s->t_iface[i] = true;
		return 0;
	}
	case NPR_MSG_IFACE_DEL: {
		struct npr_msg_iface_del x;
		memcpy(&x, m, sizeof(x));
		int i = find_iface(s, x.ifid);
		if (i < 0)
			return -ENOENT;
		if (iface_used(s, x.ifid))
			return -EBUSY;
		DEL_AT(rs->iface, s->t_iface, rs->n_iface, (size_t)i);
		return 0;
	}
	case NPR_MSG_ADDR_ADD:
	case NPR_MSG_ADDR_DEL: {
		struct npr_msg_addr x;
		memcpy(&x, m, sizeof(x));
		if (find_iface(s, x.ifid) < 0)
			return -ENODEV;
		int k = -1;
		for (size_t i = 0; i < rs->n_addr; i++)
			if (rs->addr[i].family == x.family &&
			    memcmp(rs->addr[i].addr, x.addr, 16) == 0)
				k = (int)i;
		if (h.type == NPR_MSG_ADDR_DEL) {
			if (k < 0 || rs->addr[k].ifid != x.ifid)
				return -ENOENT;
			DEL_AT(rs->addr, s->t_addr, rs->n_addr, (size_t)k);
			return 0;
		}
		if (k >= 0 && rs->addr[k].ifid != x.ifid)
			return -EEXIST;
		unsigned hl = x.family == NPR_AF_INET ? 32 : 128;
		if (k < 0 &&
		    ((x.family == NPR_AF_INET && route_find4(s, *(uint32_t *)x.addr, 32) >= 0) ||
		     (x.family == NPR_AF_INET6 && route_find6(s, x.addr, (uint8_t)hl) >= 0)))
			return -EEXIST;
		if (k < 0)
			k = (int)rs->n_addr++;
		struct npr_dump_addr *a = &rs->addr[k];
		memset(a, 0, sizeof(*a));
		a->ifid = x.ifid;
		a->family = x.family;
		a->plen = x.plen;
		memcpy(a->addr, x.addr, 16);
		s->t_addr[k] = true;
		return 0;
	}
	case NPR_MSG_NEIGH_SET:
	case NPR_MSG_NEIGH_DEL: {
		struct npr_msg_neigh x;
		memcpy(&x, m, sizeof(x));
		if (find_iface(s, x.ifid) < 0)
			return -ENODEV;
		int k = -1;
		for (size_t i = 0; i < rs->n_neigh; i++)
			if (rs->neigh[i].ifid == x.ifid && rs->neigh[i].family == x.family &&
			    memcmp(rs->neigh[i].addr, x.addr, 16) == 0)
				k = (int)i;
		if (h.type == NPR_MSG_NEIGH_DEL) {
			if (k < 0)
				return -ENOENT;
			DEL_AT(rs->neigh, s->t_neigh, rs->n_neigh, (size_t)k);
			return 0;
		}
		if (k < 0)
			k = (int)rs->n_neigh++;
		struct npr_dump_neigh *n = &rs->neigh[k];
		memset(n, 0, sizeof(*n));
		n->ifid = x.ifid;
		n->family = x.family;
		memcpy(n->mac, x.mac, 6);
		memcpy(n->addr, x.addr, 16);
		s->t_neigh[k] = true;
		return 0;
	}
	case NPR_MSG_NH_SET: {
		struct npr_msg_nh_set x;
		memcpy(&x, m, sizeof(x));
		if (x.nh_id == 0 || x.nh_id >= rs->info.nh_max)
			return -EINVAL;
		if (x.kind == NPR_NH_FORWARD && find_iface(s, x.ifid) < 0)
			return -ENODEV;
		int k = find_nh(s, x.nh_id);
		if (k >= 0 && x.kind != NPR_NH_FORWARD) {
			for (size_t g = 0; g < rs->n_group; g++)
				for (uint32_t j = 0; j < rs->group[g].n; j++)
					if (rs->member[rs->group[g].first + j].nh_id == x.nh_id)
						return -EBUSY;
		}
		if (k < 0)
			k = (int)rs->n_nh++;
		struct npr_dump_nh *n = &rs->nh[k];
		memset(n, 0, sizeof(*n));
		n->nh_id = x.nh_id;
		n->kind = x.kind;
		n->family = x.family;
		n->ifid = x.ifid;
		n->flags = x.flags;
		memcpy(n->mac, x.mac, 6);
		memcpy(n->gw, x.gw, 16);
		s->t_nh[k] = true;
		return 0;
	}
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL: {
		struct npr_msg_id x;
		memcpy(&x, m, sizeof(x));
		if (h.type == NPR_MSG_NH_DEL) {
			int k = find_nh(s, x.id);
			if (k < 0)
				return -ENOENT;
			if (nh_refs(s, x.id) > 0)
				return -EBUSY;
			DEL_AT(rs->nh, s->t_nh, rs->n_nh, (size_t)k);
			return 0;
		}
		int k = find_group(s, x.id);
		if (k < 0)
			return -ENOENT;
		if (group_refs(s, x.id) > 0)
			return -EBUSY;
		DEL_AT(rs->group, s->t_group, rs->n_group, (size_t)k);
		return 0;
	}
	case NPR_MSG_GROUP_SET: {
		struct npr_msg_group_set x;
		memcpy(&x, m, sizeof(x));
		if (x.group_id == 0 || x.group_id >= rs->info.group_max || x.n_members == 0 ||
		    x.n_members > NPR_GROUP_MAX_MEMBERS)
			return -EINVAL;
		struct npr_group_member mb[NPR_GROUP_MAX_MEMBERS];
		memcpy(mb, m + sizeof(x), x.n_members * sizeof(mb[0]));
		unsigned total = 0;
		for (unsigned i = 0; i < x.n_members; i++) {
			int k = find_nh(s, mb[i].nh_id);
			if (k < 0)
				return -ENOENT;
			if (rs->nh[k].kind != NPR_NH_FORWARD || mb[i].weight == 0 ||
			    mb[i].weight > NPR_GROUP_MAX_WEIGHT)
				return -EINVAL;
			for (unsigned j = 0; j < i; j++)
				if (mb[j].nh_id == mb[i].nh_id)
					return -EINVAL;
			total += mb[i].weight;
		}
		if (total > NPR_GROUP_MAX_SLOTS)
			return -EINVAL;
		int k = find_group(s, x.group_id);
		if (k < 0)
			k = (int)rs->n_group++;
		/* members appended (old ones become garbage: fine for a test) */
		rs->group[k] = (struct running_group){ .id = x.group_id,
						       .first = (uint32_t)rs->n_member,
						       .n = x.n_members };
		memcpy(&rs->member[rs->n_member], mb, x.n_members * sizeof(mb[0]));
		rs->n_member += x.n_members;
		s->t_group[k] = true;
		return 0;
	}
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_DEL: {
		struct npr_msg_route4 x;
		memcpy(&x, m, sizeof(x));
		if (x.count == 0 || x.count > NPR_ROUTE4_MAX ||
		    h.len != ((sizeof(x) + x.count * sizeof(struct npr_route4) + 7) & ~7u))
			return -EINVAL;
		for (uint32_t i = 0; i < x.count; i++) {
			struct npr_route4 r;
			memcpy(&r, m + sizeof(x) + i * sizeof(r), sizeof(r));
			int k = route_find4(s, r.prefix, r.plen);
			if (h.type == NPR_MSG_ROUTE4_DEL) {
				if (k < 0 || r.target != 0)
					return -ENOENT;
				DEL_AT(rs->r4, s->t_r4, rs->n4, (size_t)k);
				continue;
			}
			if (!target_exists(s, r.target))
				return -ENOENT;
			if (is_address(s, NPR_AF_INET, (const uint8_t *)&r.prefix, r.plen))
				return -EEXIST;
			if (k < 0)
				k = (int)rs->n4++;
			rs->r4[k] = r;
			s->t_r4[k] = true;
		}
		return 0;
	}
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_DEL: {
		struct npr_msg_route6 x;
		memcpy(&x, m, sizeof(x));
		if (x.count == 0 || x.count > NPR_ROUTE6_MAX ||
		    h.len != sizeof(x) + x.count * sizeof(struct npr_route6))
			return -EINVAL;
		for (uint32_t i = 0; i < x.count; i++) {
			struct npr_route6 r;
			memcpy(&r, m + sizeof(x) + i * sizeof(r), sizeof(r));
			int k = route_find6(s, r.prefix, r.plen);
			if (h.type == NPR_MSG_ROUTE6_DEL) {
				if (k < 0 || r.target != 0)
					return -ENOENT;
				DEL_AT(rs->r6, s->t_r6, rs->n6, (size_t)k);
				continue;
			}
			if (!target_exists(s, r.target))
				return -ENOENT;
			if (is_address(s, NPR_AF_INET6, r.prefix, r.plen))
				return -EEXIST;
			if (k < 0)
				k = (int)rs->n6++;
			rs->r6[k] = r;
			s->t_r6[k] = true;
		}
		return 0;
	}
	case NPR_MSG_SYNC_BEGIN:
		s->sync = true;
		memset(s->t_iface, 0, NPR_MAX_IFACES);
		memset(s->t_addr, 0, 1 << 16);
		memset(s->t_neigh, 0, 1 << 16);
		memset(s->t_nh, 0, 1 << 16);
		memset(s->t_group, 0, 1 << 16);
		memset(s->t_r4, 0, 1 << 16);
		memset(s->t_r6, 0, 1 << 16);
		return 0;
	case NPR_MSG_SYNC_END:
		if (!s->sync)
			return -EINVAL;
		s->sync = false;
		for (size_t i = rs->n4; i-- > 0;)
			if (!s->t_r4[i])
				DEL_AT(rs->r4, s->t_r4, rs->n4, i);
		for (size_t i = rs->n6; i-- > 0;)
			if (!s->t_r6[i])
				DEL_AT(rs->r6, s->t_r6, rs->n6, i);
		for (size_t i = rs->n_group; i-- > 0;)
			if (!s->t_group[i]) {
				if (group_refs(s, rs->group[i].id) > 0)
					return -EBUSY;
				DEL_AT(rs->group, s->t_group, rs->n_group, i);
			}
		for (size_t i = rs->n_nh; i-- > 0;)
			if (!s->t_nh[i]) {
				if (nh_refs(s, rs->nh[i].nh_id) > 0)
					return -EBUSY;
				DEL_AT(rs->nh, s->t_nh, rs->n_nh, i);
			}
		for (size_t i = rs->n_neigh; i-- > 0;)
			if (!s->t_neigh[i])
				DEL_AT(rs->neigh, s->t_neigh, rs->n_neigh, i);
		for (size_t i = rs->n_addr; i-- > 0;)
			if (!s->t_addr[i])
				DEL_AT(rs->addr, s->t_addr, rs->n_addr, i);
		for (size_t i = rs->n_iface; i-- > 0;)
			if (!s->t_iface[i]) {
				if (iface_used(s, rs->iface[i].ifid))
					return -EBUSY;
				DEL_AT(rs->iface, s->t_iface, rs->n_iface, i);
			}
		return 0;
	}
	return -EOPNOTSUPP;
}

/* Apply every message; on failure say which and return its error. Transactions: a copy is
 * not kept, the tests expect success. */
static int
sim_apply(struct sim *s, const struct plan *p)
{
	for (size_t i = 0; i < p->n_msgs; i++) {
		int rc = sim_msg(s, p->buf + p->off[i]);
		if (rc < 0) {
			char what[300];
			print_error("message %zu (%s) rejected: %s\n", i,
				    plan_describe(p, i, 0, what, sizeof(what)), strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < s->rs.n_nh; i++)
		s->rs.nh[i].refcnt = nh_refs(s, s->rs.nh[i].nh_id);
	return 0;
}

/* ---- state described by names, for comparisons ---- */

static const char *
ifname(const struct sim *s, unsigned ifid)
{
	int i = find_iface(s, ifid);
	return i < 0 ? "?" : s->rs.iface[i].name;
}

static void
nh_desc(const struct sim *s, uint32_t id, char *buf, size_t len)
{
	int k = find_nh(s, id);
	if (k < 0) {
		snprintf(buf, len, "missing-nh-%u", id);
		return;
	}
	const struct npr_dump_nh *n = &s->rs.nh[k];
	char a[INET6_ADDRSTRLEN] = "-";
	if (n->family != 0)
		npr_format_addr(n->family, n->gw, a, sizeof(a));
	snprintf(buf, len, "k%u/%s/%s", n->kind,
		 n->kind == NPR_NH_FORWARD ? ifname(s, n->ifid) : "-", a);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
target_desc(const struct sim *s, uint32_t t, char *buf, size_t len)
{
	if (!(t & NPR_TARGET_GROUP)) {
		nh_desc(s, t, buf, len);
		return;
	}
	int g = find_group(s, t & NPR_TARGET_ID_MASK);
	if (g < 0) {
		snprintf(buf, len, "missing-group");
		return;
	}
	char *items[NPR_GROUP_MAX_MEMBERS];
	const struct running_group *gr = &s->rs.group[g];
	for (uint32_t i = 0; i < gr->n; i++) {
		char d[100];
		nh_desc(s, s->rs.member[gr->first + i].nh_id, d, sizeof(d));
		items[i] = malloc(120);
		snprintf(items[i], 120, "%s*%u", d, s->rs.member[gr->first + i].weight);
	}
	qsort(items, gr->n, sizeof(items[0]), cmp_str);
	size_t o = (size_t)snprintf(buf, len, "group{");
	for (uint32_t i = 0; i < gr->n; i++) {
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s,", items[i]);
		free(items[i]);
	}
	snprintf(buf + o, o < len ? len - o : 0, "}");
}

struct lines {
	char **l;
	size_t n, cap;
};

static void
add_line(struct lines *L, const char *fmt, ...)
{
	if (L->n == L->cap) {
		L->cap = L->cap == 0 ? 64 : 2 * L->cap;
		L->l = realloc(L->l, L->cap * sizeof(*L->l));
	}
	va_list ap;
	va_start(ap, fmt);
	assert_true(vasprintf(&L->l[L->n++], fmt, ap) >= 0);
	va_end(ap);
}

/* Everything the data plane forwards with, by names: ids do not matter. */
static void
describe(const struct sim *s, struct lines *L)
{
	const struct running *rs = &s->rs;
	char a[INET6_ADDRSTRLEN + 8], t[2048];
	memset(L, 0, sizeof(*L));
	for (size_t i = 0; i < rs->n_iface; i++) {
		const struct npr_dump_iface *f = &rs->iface[i];
		add_line(L, "if %s port %u mtu %u flags %u mac %02x%02x%02x%02x%02x%02x", f->name,
			 f->port_id, f->mtu, f->flags, f->mac[0], f->mac[1], f->mac[2], f->mac[3],
			 f->mac[4], f->mac[5]);
	}
	for (size_t i = 0; i < rs->n_addr; i++)
		add_line(L, "addr %s %s", ifname(s, rs->addr[i].ifid),
			 npr_format_prefix(rs->addr[i].family, rs->addr[i].addr, rs->addr[i].plen,
					   a, sizeof(a)));
	for (size_t i = 0; i < rs->n_neigh; i++)
		add_line(L, "neigh %s %s %02x%02x", ifname(s, rs->neigh[i].ifid),
			 npr_format_addr(rs->neigh[i].family, rs->neigh[i].addr, a, sizeof(a)),
			 rs->neigh[i].mac[4], rs->neigh[i].mac[5]);
	for (size_t i = 0; i < rs->n4; i++) {
		target_desc(s, rs->r4[i].target, t, sizeof(t));
		add_line(L, "route %s %s",
			 npr_format_prefix(NPR_AF_INET, (const uint8_t *)&rs->r4[i].prefix,
					   rs->r4[i].plen, a, sizeof(a)),
			 t);
	}
	for (size_t i = 0; i < rs->n6; i++) {
		target_desc(s, rs->r6[i].target, t, sizeof(t));
		add_line(L, "route %s %s",
			 npr_format_prefix(NPR_AF_INET6, rs->r6[i].prefix, rs->r6[i].plen, a,
					   sizeof(a)),
			 t);
	}
	/* nothing left over: every next hop and group is used */
	for (size_t i = 0; i < rs->n_nh; i++)
		if (nh_refs(s, rs->nh[i].nh_id) == 0)
			add_line(L, "unused nexthop %u", rs->nh[i].nh_id);
	for (size_t i = 0; i < rs->n_group; i++)
		if (group_refs(s, rs->group[i].id) == 0)
			add_line(L, "unused group %u", rs->group[i].id);
	qsort(L->l, L->n, sizeof(L->l[0]), cmp_str);
}

static void
lines_free(struct lines *L)
{
	for (size_t i = 0; i < L->n; i++)
		free(L->l[i]);
	free(L->l);
}

static void
assert_same_state(const struct sim *a, const struct sim *b)
{
	struct lines la, lb;
	describe(a, &la);
	describe(b, &lb);
	for (size_t i = 0; i < la.n && i < lb.n; i++)
		if (strcmp(la.l[i], lb.l[i]) != 0) {
			print_error("state differs at line %zu: '%s' vs '%s'\n", i, la.l[i],
				    lb.l[i]);
			break;
		}
	assert_int_equal(la.n, lb.n);
	for (size_t i = 0; i < la.n; i++)
		assert_string_equal(la.l[i], lb.l[i]);
	lines_free(&la);
	lines_free(&lb);
}

/* ---- loading ---- */

static void
load_ok(const char *path, struct config *cfg)
{
	struct config_msgs errs = { 0 }, warns = { 0 };
	int rc = config_load(Y, path, NULL, cfg, &errs, &warns);
	if (rc != 0)
		config_msgs_print(&errs, stderr, "unexpected error: ");
	assert_int_equal(rc, 0);
	config_msgs_free(&errs);
	config_msgs_free(&warns);
}

static void
load_mem_ok(const char *text, struct config *cfg)
{
	struct config_msgs errs = { 0 };
	int rc = config_load_mem(Y, text, strlen(text), text[0] == '{', "mem", cfg, &errs, NULL);
	if (rc != 0)
		config_msgs_print(&errs, stderr, "unexpected error: ");
	assert_int_equal(rc, 0);
	config_msgs_free(&errs);
}

static const struct npr_route4 *
r4_of(const struct config *cfg, const char *prefix)
{
	int fam;
	uint8_t a[16], plen;
	assert_int_equal(npr_parse_prefix(prefix, &fam, a, &plen), 0);
	for (size_t i = 0; i < cfg->n4; i++)
		if (memcmp(&cfg->r4[i].prefix, a, 4) == 0 && cfg->r4[i].plen == plen)
			return &cfg->r4[i];
	fail_msg("no route %s", prefix);
	return NULL;
}

/* "via GW dev IF" of a config next hop */
static void
cfg_nh_text(const struct config *cfg, uint32_t nh, char *buf, size_t len)
{
	const struct config_nh *n = &cfg->nh[nh];
	char a[INET6_ADDRSTRLEN] = "-";
	if (n->family != 0)
		npr_format_addr(n->family, n->gw, a, sizeof(a));
	snprintf(buf, len, "%u %s %s", n->kind,
		 n->kind == NPR_NH_FORWARD ? cfg->iface[n->iface].name : "-", a);
}

static void
test_example_2port(void **state)
{
	(void)state;
	struct config cfg;
	char t[200];
	load_ok(NPR_SOURCE_DIR "/conf/router-2port.json", &cfg);
	assert_int_equal(cfg.n_iface, 2);
	assert_string_equal(cfg.iface[0].name, "wan");
	assert_string_equal(cfg.iface[0].port, "net_pcap0");
	assert_false(cfg.iface[0].has_mac);
	assert_string_equal(cfg.iface[1].name, "lan");
	assert_true(cfg.iface[1].has_mac);
	assert_int_equal(cfg.iface[1].mac[5], 0x01);
	assert_int_equal(cfg.iface[1].mtu, 1500);
	assert_int_equal(cfg.n_addr, 4);
	assert_int_equal(cfg.n_neigh, 2);
	/* 2 static per family (connected routes are the data plane's) */
	assert_int_equal(cfg.n4, 2);
	assert_int_equal(cfg.n6, 2);
	assert_int_equal(cfg.n_static4, 2);
	assert_int_equal(cfg.n_static6, 2);
	assert_int_equal(cfg.n_group, 0);
	/* 4 gateways */
	assert_int_equal(cfg.n_nh, 4);
	cfg_nh_text(&cfg, r4_of(&cfg, "0.0.0.0/0")->target, t, sizeof(t));
	assert_string_equal(t, "1 wan 192.0.2.254");
	cfg_nh_text(&cfg, r4_of(&cfg, "203.0.113.0/24")->target, t, sizeof(t));
	assert_string_equal(t, "1 lan 198.51.100.2");
	config_free(&cfg);
}

static void
test_example_ecmp(void **state)
{
	(void)state;
	struct config cfg;
	char t[200];
	load_ok(NPR_SOURCE_DIR "/conf/ecmp.json", &cfg);
	assert_int_equal(cfg.n_iface, 3);
	assert_int_equal(cfg.n_group, 3); /* 2:1, 1:1 for IPv4; 3:1 for IPv6 */
	uint32_t t0 = r4_of(&cfg, "0.0.0.0/0")->target;
	assert_true(t0 & CONFIG_GROUP);
	const struct config_group *g = &cfg.group[t0 & NPR_TARGET_ID_MASK];
	assert_int_equal(g->n, 2);
	unsigned w[2] = { 0, 0 };
	for (unsigned i = 0; i < 2; i++) {
		const struct config_member *m = &cfg.member[g->first + i];
		cfg_nh_text(&cfg, m->nh, t, sizeof(t));
		if (strcmp(t, "1 up1 10.0.1.2") == 0)
			w[0] = m->weight;
		else if (strcmp(t, "1 up2 10.0.2.2") == 0)
			w[1] = m->weight;
	}
	assert_int_equal(w[0], 2);
	assert_int_equal(w[1], 1);
	uint32_t t1 = r4_of(&cfg, "192.0.2.0/24")->target;
	assert_true(t1 & CONFIG_GROUP);
	assert_int_not_equal(t0, t1);
	config_free(&cfg);
}

static void
test_example_blackhole(void **state)
{
	(void)state;
	struct config cfg;
	char t[200];
	load_ok(NPR_SOURCE_DIR "/conf/blackhole.xml", &cfg);
	assert_int_equal(cfg.n_iface, 2);
	assert_int_equal(cfg.iface[0].mtu, 1600);
	assert_true(cfg.iface[0].has_mtu);
	assert_false(cfg.iface[1].has_mtu);
	assert_true(cfg.iface[0].up);
	assert_false(cfg.iface[1].up);
	cfg_nh_text(&cfg, r4_of(&cfg, "10.0.0.0/8")->target, t, sizeof(t));
	assert_string_equal(t, "2 - -");
	assert_int_equal(r4_of(&cfg, "10.0.0.0/8")->target, r4_of(&cfg, "198.18.0.0/15")->target);
	cfg_nh_text(&cfg, r4_of(&cfg, "172.16.0.0/12")->target, t, sizeof(t));
	assert_string_equal(t, "3 - -");
	cfg_nh_text(&cfg, r4_of(&cfg, "192.168.0.0/16")->target, t, sizeof(t));
	assert_string_equal(t, "4 - -");
	/* /31: the gateway is the other address of the subnet */
	cfg_nh_text(&cfg, r4_of(&cfg, "0.0.0.0/0")->target, t, sizeof(t));
	assert_string_equal(t, "1 core 192.0.2.0");
	assert_int_equal(cfg.n4, 5);
	assert_int_equal(cfg.n6, 3);
	config_free(&cfg);
}

/* ---- the invalid corpus ---- */

static void
test_invalid_corpus(void **state)
{
	(void)state;
	FILE *f = fopen(NPR_SOURCE_DIR "/tests/yang/invalid/expected.tsv", "r");
	assert_non_null(f);
	char line[1024];
	unsigned n = 0;
	struct npr_dump_port ports[3];
	memset(ports, 0, sizeof(ports));
	for (unsigned i = 0; i < 3; i++) {
		snprintf(ports[i].name, sizeof(ports[i].name), "net_pcap%u", i);
		/* as a data plane with the default buffers says */
		ports[i].max_mtu = 2030;
		snprintf(ports[i].mtu_why, sizeof(ports[i].mtu_why), "mbuf data room 2048 - 18");
	}
	struct npr_info info = {
		.nh_max = 65536, .group_max = 4096, .route4_max = 2097152, .route6_max = 524288
	};
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		char *file = strtok(line, "\t"), *want = strtok(NULL, "\t"),
		     *needs = strtok(NULL, "\t");
		assert_non_null(want);
		char path[512];
		snprintf(path, sizeof(path), NPR_SOURCE_DIR "/tests/yang/invalid/%s", file);
		struct config cfg;
		struct config_msgs errs = { 0 };
		int rc = config_load(Y, path, file, &cfg, &errs, NULL);
		if (needs != NULL && strcmp(needs, "dataplane") == 0) {
			assert_int_equal(rc, 0);
			rc = config_check_dataplane(&cfg, file, ports, 3, &info, &errs);
		}
		if (rc == 0)
			fail_msg("%s was accepted", file);
		bool found = false;
		for (size_t i = 0; i < errs.n; i++) {
			found |= strstr(errs.line[i], want) != NULL;
			/* every error names the file */
			assert_true(strncmp(errs.line[i], file, strlen(file)) == 0);
		}
		if (!found) {
			config_msgs_print(&errs, stderr, "  got: ");
			fail_msg("%s: no error contains '%s'", file, want);
		}
		config_msgs_free(&errs);
		config_free(&cfg);
		n++;
	}
	fclose(f);
	assert_true(n >= 25);
}

static void
test_host_bits_xml(void **state)
{
	(void)state;
	static const char xml[] =
		"<routing xmlns=\"urn:ietf:params:xml:ns:yang:ietf-routing\">\n"
		"<control-plane-protocols><control-plane-protocol><type>static</type><name>s</"
		"name>\n"
		"<static-routes><ipv6 "
		"xmlns=\"urn:ietf:params:xml:ns:yang:ietf-ipv6-unicast-routing\">\n"
		"<route><destination-prefix> 2001:db8::1/32 </destination-prefix>\n"
		"<next-hop><special-next-hop>blackhole</special-next-hop></next-hop></route>\n"
		"</ipv6></static-routes></control-plane-protocol></control-plane-protocols></"
		"routing>\n";
	struct config cfg;
	struct config_msgs errs = { 0 };
	assert_int_equal(config_load_mem(Y, xml, strlen(xml), false, "x.xml", &cfg, &errs, NULL),
			 -EINVAL);
	assert_true(errs.n >= 1);
	assert_non_null(strstr(errs.line[0], "x.xml:4:"));
	assert_non_null(strstr(errs.line[0], "2001:db8::/32"));
	config_msgs_free(&errs);
	config_free(&cfg);
}

/* A configuration saved as NETCONF sends it, inside <config> of the NETCONF namespace
 * (default or prefixed): the same configuration as without; another namespace is refused. */
static void
test_netconf_wrapper(void **state)
{
	(void)state;
	FILE *f = fopen(NPR_SOURCE_DIR "/conf/blackhole.xml", "r");
	assert_non_null(f);
	static char body[65536], text[70000];
	size_t n = fread(body, 1, sizeof(body) - 1, f);
	fclose(f);
	body[n] = '\0';
	const char *data = strstr(body, "?>") + 2; /* after the XML declaration */
	struct config plain, wrapped;
	load_mem_ok(body, &plain);
	static const char *const open_tags[] = {
		"<config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">",
		"<nc:config xmlns:nc='urn:ietf:params:xml:ns:netconf:base:1.0'>",
	};
	static const char *const close_tags[] = { "</config>", "</nc:config >" };
	for (unsigned k = 0; k < 2; k++) {
		snprintf(text, sizeof(text), "<?xml version=\"1.0\"?>\n%s%s\n%s\n<!-- end -->\n",
			 open_tags[k], data, close_tags[k]);
		load_mem_ok(text, &wrapped);
		assert_int_equal(wrapped.n_iface, plain.n_iface);
		assert_int_equal(wrapped.n4, plain.n4);
		assert_int_equal(wrapped.n6, plain.n6);
		assert_memory_equal(wrapped.r4, plain.r4, plain.n4 * sizeof(*plain.r4));
		config_free(&wrapped);
	}
	/* another namespace: not a NETCONF wrapper, libyang says what it is */
	snprintf(text, sizeof(text), "<config xmlns=\"urn:example:other\">%s</config>", data);
	struct config_msgs errs = { 0 };
	assert_int_equal(
		config_load_mem(Y, text, strlen(text), false, "x.xml", &wrapped, &errs, NULL),
		-EINVAL);
	config_msgs_free(&errs);
	config_free(&wrapped);
	config_free(&plain);
}

/* ---- generated configurations ---- */

/* n routes 10.(i/256).(i%256).0/24 and 2001:db8:i::/48 over 2 or 3 ports; every 7th route
 * is ECMP; shift changes the gateway of route number `shift_at` (or none if < 0). */
static char *
gen_config(unsigned n, unsigned ports, int shift_at, int drop_at)
{
	size_t cap = 4096 + (size_t)n * 400, o = 0;
	char *b = malloc(cap);
	o += (size_t)snprintf(b + o, cap - o, "{\"ietf-interfaces:interfaces\":{\"interface\":[");
	for (unsigned p = 0; p < ports; p++)
		o += (size_t)snprintf(
			b + o, cap - o,
			"%s{\"name\":\"p%u\",\"type\":\"iana-if-type:ethernetCsmacd\","
			"\"nprouter:port\":\"net_pcap%u\","
			"\"ietf-ip:ipv4\":{\"address\":[{\"ip\":\"100.64.%u.1\",\"prefix-length\":"
			"24}],"
			"\"neighbor\":[{\"ip\":\"100.64.%u.2\",\"link-layer-address\":\"02:00:00:"
			"00:%02x:02\"}]},"
			"\"ietf-ip:ipv6\":{\"address\":[{\"ip\":\"fd00:%u::1\",\"prefix-length\":"
			"64}]}}",
			p ? "," : "", p, p, p, p, p, p);
	o += (size_t)snprintf(b + o, cap - o,
			      "]},\"ietf-routing:routing\":{\"control-plane-protocols\":{"
			      "\"control-plane-protocol\":[{\"type\":\"ietf-routing:static\","
			      "\"name\":\"gen\",\"static-routes\":{");
	for (int fam = 4; fam <= 6; fam += 2) {
		o += (size_t)snprintf(b + o, cap - o,
				      "%s\"ietf-ipv%d-unicast-routing:ipv%d\":{\"route\":[",
				      fam == 6 ? "," : "", fam, fam);
		bool first = true;
		for (unsigned i = 0; i < n; i++) {
			if ((int)i == drop_at)
				continue;
			unsigned g = (i + ((int)i == shift_at)) % ports;
			char pfx[64], gw1[64], gw2[64];
			if (fam == 4) {
				snprintf(pfx, sizeof(pfx), "10.%u.%u.0/24", i / 256, i % 256);
				snprintf(gw1, sizeof(gw1), "100.64.%u.%u", g, 2 + (i / 3) % 3);
				snprintf(gw2, sizeof(gw2), "100.64.%u.9", (g + 1) % ports);
			} else {
				snprintf(pfx, sizeof(pfx), "2001:db8:%x::/48", i);
				snprintf(gw1, sizeof(gw1), "fd00:%u::%u", g, 2 + (i / 3) % 3);
				snprintf(gw2, sizeof(gw2), "fd00:%u::9", (g + 1) % ports);
			}
			if (i % 7 == 3)
				o += (size_t)snprintf(b + o, cap - o,
						      "%s{\"destination-prefix\":\"%s\",\"next-"
						      "hop\":{\"next-hop-list\":"
						      "{\"next-hop\":[{\"index\":\"a\",\"next-hop-"
						      "address\":\"%s\","
						      "\"nprouter:weight\":%u},{\"index\":\"b\","
						      "\"next-hop-address\":"
						      "\"%s\"}]}}}",
						      first ? "" : ",", pfx, gw1, 1 + i % 3, gw2);
			else
				o += (size_t)snprintf(
					b + o, cap - o,
					"%s{\"destination-prefix\":\"%s\",\"next-hop\":"
					"{\"next-hop-address\":\"%s\"}}",
					first ? "" : ",", pfx, gw1);
			first = false;
		}
		o += (size_t)snprintf(b + o, cap - o, "]}");
	}
	o += (size_t)snprintf(b + o, cap - o, "}}]}}}");
	assert_true(o < cap);
	return b;
}

static const char *const examples[] = {
	NPR_SOURCE_DIR "/conf/router-2port.json",
	NPR_SOURCE_DIR "/conf/ecmp.json",
	NPR_SOURCE_DIR "/conf/blackhole.xml",
};

/* Plan cfg against s, apply it, and check the result against cfg applied to an empty data
 * plane; then a second plan must be empty. Returns the first plan's message count. */
static size_t
transition(struct sim *s, const struct config *cfg, bool resync, struct plan_count *count)
{
	struct plan p;
	struct config_msgs errs = { 0 };
	struct plan_opts o = { .resync = resync };
	assert_int_equal(plan_build(cfg, &s->rs, &o, &p, &errs), 0);
	assert_int_equal(sim_apply(s, &p), 0);
	size_t n = p.n_msgs;
	if (count != NULL)
		memcpy(count, p.count, sizeof(p.count));
	plan_free(&p);

	struct plan again;
	assert_int_equal(plan_build(cfg, &s->rs, NULL, &again, &errs), 0);
	if (again.n_msgs != 0) {
		for (size_t i = 0; i < again.n_msgs; i++) {
			char what[300];
			print_error("left over: %s\n",
				    plan_describe(&again, i, 0, what, sizeof(what)));
		}
	}
	assert_int_equal(again.n_msgs, 0);
	assert_int_equal(again.n_changes, 0);
	plan_free(&again);

	struct sim fresh;
	sim_init(&fresh, (unsigned)s->rs.n_port);
	memcpy(fresh.rs.port, s->rs.port, s->rs.n_port * sizeof(*fresh.rs.port));
	assert_int_equal(plan_build(cfg, &fresh.rs, NULL, &p, &errs), 0);
	assert_int_equal(sim_apply(&fresh, &p), 0);
	plan_free(&p);
	assert_same_state(s, &fresh);
	sim_free(&fresh);
	return n;
}

static void
test_transitions(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 4);
	struct config cfg[5];
	for (int i = 0; i < 3; i++)
		load_ok(examples[i], &cfg[i]);
	char *g = gen_config(300, 3, -1, -1);
	load_mem_ok(g, &cfg[3]);
	free(g);
	g = gen_config(300, 2, -1, -1);
	load_mem_ok(g, &cfg[4]);
	free(g);
	/* every ordered pair, through a fixed walk */
	static const int walk[] = { 0, 1, 2, 0, 3, 1, 4, 3, 2, 4, 0, 2, 1, 3, 4, 1, 0 };
	for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++)
		transition(&s, &cfg[walk[i]], false, NULL);
	for (int i = 0; i < 5; i++)
		config_free(&cfg[i]);
	sim_free(&s);
}

static void
test_minimal_diff(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3);
	struct config base, one, dropped;
	char *g = gen_config(2000, 3, -1, -1);
	load_mem_ok(g, &base);
	free(g);
	g = gen_config(2000, 3, 1000, -1); /* route 1000 (IPv4 and IPv6) moves to another gateway */
	load_mem_ok(g, &one);
	free(g);
	g = gen_config(2000, 3, -1, 1500);
	load_mem_ok(g, &dropped);
	free(g);
	struct plan_count c[PK_MAX];
	transition(&s, &base, false, c);
	assert_int_equal(c[PK_ROUTE4].added, base.n4);

	/* the same file again: nothing */
	assert_int_equal(transition(&s, &base, false, c), 0);

	/* one route per family changed, to gateways already in use: one entry each */
	assert_int_equal(transition(&s, &one, false, c), 2);
	assert_int_equal(c[PK_ROUTE4].changed, 1);
	assert_int_equal(c[PK_ROUTE6].changed, 1);
	assert_int_equal(c[PK_ROUTE4].added + c[PK_ROUTE4].removed, 0);
	assert_int_equal(c[PK_NH].added + c[PK_NH].removed + c[PK_GROUP].added, 0);

	/* one route removed per family, and route 1000 back: an add and a delete message per
	 * family */
	assert_int_equal(transition(&s, &dropped, false, c), 4);
	assert_int_equal(c[PK_ROUTE4].removed, 1);
	assert_int_equal(c[PK_ROUTE6].removed, 1);
	assert_int_equal(c[PK_ROUTE4].changed, 1); /* route 1000 goes back */

	config_free(&base);
	config_free(&one);
	config_free(&dropped);
	sim_free(&s);
}

static void
test_resync(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3);
	struct config a, b;
	load_ok(examples[0], &a);
	load_ok(examples[1], &b);
	transition(&s, &b, false, NULL);
	/* Someone added things by hand: a next hop with a static MAC and a route to it. */
	uint8_t buf[64];
	struct npr_msg_nh_set *nh = (void *)buf;
	memset(buf, 0, sizeof(buf));
	nh->hdr.type = NPR_MSG_NH_SET;
	nh->hdr.len = sizeof(*nh);
	nh->nh_id = 999;
	nh->kind = NPR_NH_FORWARD;
	nh->ifid = s.rs.iface[0].ifid;
	nh->flags = NPR_NH_F_MAC;
	nh->mac[0] = 2;
	assert_int_equal(sim_msg(&s, buf), 0);
	uint8_t rt[40];
	struct npr_msg_route4 m;
	struct npr_route4 r = { .prefix = htonl(0x0a630000), .plen = 16, .target = 999 };
	memset(&m, 0, sizeof(m));
	memset(rt, 0, sizeof(rt));
	m.hdr.type = NPR_MSG_ROUTE4_ADD;
	m.hdr.len = sizeof(rt);
	m.count = 1;
	memcpy(rt, &m, sizeof(m));
	memcpy(rt + sizeof(m), &r, sizeof(r));
	assert_int_equal(sim_msg(&s, rt), 0);
	/* a resync to a (different) configuration removes them */
	transition(&s, &a, true, NULL);
	assert_int_equal(find_nh(&s, 999), -1);
	config_free(&a);
	config_free(&b);
	sim_free(&s);
}

static void
test_interface_swap(void **state)
{
	(void)state;
	static const char a[] =
		"{\"ietf-interfaces:interfaces\":{\"interface\":["
		"{\"name\":\"x\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":\"net_"
		"pcap0\","
		"\"ietf-ip:ipv4\":{\"address\":[{\"ip\":\"10.0.0.1\",\"prefix-length\":24}]}},"
		"{\"name\":\"y\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":\"net_"
		"pcap1\","
		"\"ietf-ip:ipv4\":{\"address\":[{\"ip\":\"10.0.1.1\",\"prefix-length\":24}]}}]}}";
	static const char b[] =
		"{\"ietf-interfaces:interfaces\":{\"interface\":["
		"{\"name\":\"y\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":\"net_"
		"pcap0\","
		"\"ietf-ip:ipv4\":{\"address\":[{\"ip\":\"10.0.0.1\",\"prefix-length\":24}]}},"
		"{\"name\":\"x\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":\"net_"
		"pcap2\","
		"\"ietf-ip:ipv4\":{\"address\":[{\"ip\":\"10.0.1.1\",\"prefix-length\":24}]}}]}}";
	struct sim s;
	sim_init(&s, 3);
	struct config ca, cb;
	load_mem_ok(a, &ca);
	load_mem_ok(b, &cb);
	transition(&s, &ca, false, NULL);
	transition(&s, &cb, false, NULL);
	transition(&s, &ca, false, NULL);
	config_free(&ca);
	config_free(&cb);
	sim_free(&s);
}

/* A port that carries less than 1500: an interface on it without an MTU gets what the port
 * carries (and stays unchanged on the next apply); an explicit MTU above it is an error that
 * names the interface, the port, its limit and why, before anything is sent. */
static void
test_port_mtu_limit(void **state)
{
	(void)state;
	static const char implicit[] =
		"{\"ietf-interfaces:interfaces\":{\"interface\":["
		"{\"name\":\"lan\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":"
		"\"net_pcap0\"},"
		"{\"name\":\"wan\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":"
		"\"net_pcap1\"}]}}";
	static const char explicit[] =
		"{\"ietf-interfaces:interfaces\":{\"interface\":["
		"{\"name\":\"wan\",\"type\":\"iana-if-type:ethernetCsmacd\",\"nprouter:port\":"
		"\"net_pcap1\",\"ietf-ip:ipv4\":{\"mtu\":1500}}]}}";
	struct sim s;
	sim_init(&s, 2);
	s.rs.port[1].max_mtu = 1456;
	snprintf(s.rs.port[1].mtu_why, sizeof(s.rs.port[1].mtu_why), "af_packet framesz 1536 - 80");
	struct config ci, ce;
	load_mem_ok(implicit, &ci);
	load_mem_ok(explicit, &ce);
	struct config_msgs errs = { 0 };
	assert_int_equal(
		config_check_dataplane(&ci, "f", s.rs.port, s.rs.n_port, &s.rs.info, &errs), 0);
	transition(&s, &ci, false, NULL);
	for (size_t i = 0; i < s.rs.n_iface; i++)
		assert_int_equal(s.rs.iface[i].mtu, s.rs.iface[i].port_id == 1 ? 1456 : 1500);
	assert_int_equal(
		config_check_dataplane(&ce, "f", s.rs.port, s.rs.n_port, &s.rs.info, &errs),
		-EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.line[0], "f: /ietf-interfaces:interfaces/interface[name='wan']: "
					  "MTU 1500 above what port net_pcap1 carries: 1456 "
					  "(af_packet framesz 1536 - 80)");
	config_msgs_free(&errs);
	/* the data plane would refuse it too: the plan's push fails */
	struct plan p;
	assert_int_equal(plan_build(&ce, &s.rs, NULL, &p, &errs), 0);
	assert_int_equal(sim_apply(&s, &p), -ERANGE);
	plan_free(&p);
	config_free(&ci);
	config_free(&ce);
	sim_free(&s);
}

static void
test_capacity(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3);
	s.rs.info.nh_max = 4; /* ids 1..3 */
	struct config cfg;
	load_ok(examples[0], &cfg);
	struct plan p;
	struct config_msgs errs = { 0 };
	assert_int_equal(plan_build(&cfg, &s.rs, NULL, &p, &errs), -EINVAL);
	assert_true(errs.n >= 1);
	assert_non_null(strstr(errs.line[0], "--nexthops"));
	plan_free(&p);
	config_msgs_free(&errs);
	/* and config_check_dataplane says so before any diff */
	assert_int_equal(
		config_check_dataplane(&cfg, "f", s.rs.port, s.rs.n_port, &s.rs.info, &errs),
		-EINVAL);
	assert_non_null(strstr(errs.line[0], "nexthops"));
	config_msgs_free(&errs);
	config_free(&cfg);
	sim_free(&s);
}

static int
setup(void **state)
{
	(void)state;
	char err[512];
	Y = config_yang_open(NULL, err, sizeof(err));
	if (Y == NULL)
		fprintf(stderr, "%s\n", err);
	return Y == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_yang_close(Y);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_2port),
		cmocka_unit_test(test_example_ecmp),
		cmocka_unit_test(test_example_blackhole),
		cmocka_unit_test(test_invalid_corpus),
		cmocka_unit_test(test_host_bits_xml),
		cmocka_unit_test(test_netconf_wrapper),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_minimal_diff),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_interface_swap),
		cmocka_unit_test(test_port_mtu_limit),
		cmocka_unit_test(test_capacity),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
