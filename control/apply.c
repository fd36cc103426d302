/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dump, diff and push a YANG configuration (see apply.h), and the `apply` command.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "dump.h"
#include "grow.h"
#include "hset.h"
#include "json.h"
#include "npr/addr.h"

#define PROG "nprouter-control"

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- dump ---- */

/* The dump of one kind into *vec, or why not in err. */
static int
dump_kind(struct npr_client *c, uint32_t kind, struct dump_vec *vec, int timeout_ms, char *err,
	  size_t errlen)
{
	struct dump_status st;
	int rc = dump_collect(c, kind, vec, timeout_ms, &st);
	if (rc < 0) {
		snprintf(err, errlen, "dump: %s", npr_strstatus(rc));
		return rc;
	}
	if (st.rep.status != 0) {
		snprintf(err, errlen, "dump %u rejected: %s%s%s", kind,
			 npr_strstatus(st.rep.status), st.rep.msg[0] != '\0' ? ": " : "",
			 st.rep.msg);
		return -EPROTO;
	}
	if (st.oom) {
		snprintf(err, errlen, "dump: out of memory");
		return -ENOMEM;
	}
	if (st.n_bad > 0) {
		snprintf(err, errlen, "dump %u: malformed chunk from the data plane", kind);
		return -EPROTO;
	}
	return 0;
}

/* Groups as dumped -> running.group (where each one's members start) and running.member. */
static int
take_groups(struct running *rs, struct dump_vec *vec)
{
	const struct npr_dump_group *g = vec->v;
	rs->group = calloc(vec->n + 1, sizeof(*rs->group));
	if (rs->group == NULL)
		return -ENOMEM;
	uint32_t first = 0;
	for (size_t i = 0; i < vec->n; i++) {
		rs->group[i] = (struct running_group){ .id = g[i].group_id,
						       .first = first,
						       .n = g[i].n_members };
		first += g[i].n_members;
	}
	rs->n_group = vec->n;
	rs->member = vec->member;
	rs->n_member = vec->n_member;
	vec->member = NULL;
	dump_vec_free(vec);
	return 0;
}

int
running_dump(struct npr_client *c, struct running *rs, int timeout_ms, char *err, size_t errlen)
{
	static const uint32_t kinds[] = { NPR_DUMP_INFO,   NPR_DUMP_PORTS,   NPR_DUMP_IFACES,
					  NPR_DUMP_ADDRS,  NPR_DUMP_NEIGHS,  NPR_DUMP_NHS,
					  NPR_DUMP_GROUPS, NPR_DUMP_ROUTES4, NPR_DUMP_ROUTES6 };
	memset(rs, 0, sizeof(*rs));
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct dump_vec vec;
		int rc = dump_kind(c, kinds[k], &vec, timeout_ms, err, errlen);
		if (rc < 0) {
			dump_vec_free(&vec);
			return rc;
		}
		switch (kinds[k]) {
		case NPR_DUMP_INFO:
			if (vec.n >= 1)
				memcpy(&rs->info, vec.v, sizeof(rs->info));
			dump_vec_free(&vec);
			break;
		case NPR_DUMP_PORTS:
			rs->port = vec.v;
			rs->n_port = vec.n;
			break;
		case NPR_DUMP_IFACES:
			rs->iface = vec.v;
			rs->n_iface = vec.n;
			break;
		case NPR_DUMP_ADDRS:
			rs->addr = vec.v;
			rs->n_addr = vec.n;
			break;
		case NPR_DUMP_NEIGHS:
			rs->neigh = vec.v;
			rs->n_neigh = vec.n;
			break;
		case NPR_DUMP_NHS:
			rs->nh = vec.v;
			rs->n_nh = vec.n;
			break;
		case NPR_DUMP_GROUPS:
			if (take_groups(rs, &vec) < 0) {
				dump_vec_free(&vec);
				snprintf(err, errlen, "dump: out of memory");
				return -ENOMEM;
			}
			break;
		case NPR_DUMP_ROUTES4:
			rs->r4 = vec.v;
			rs->n4 = vec.n;
			break;
		case NPR_DUMP_ROUTES6:
			rs->r6 = vec.v;
			rs->n6 = vec.n;
			break;
		}
	}
	/* the router's own addresses are not routes of ours */
	size_t n = 0;
	for (size_t i = 0; i < rs->n4; i++)
		if (!(rs->r4[i].target & NPR_TARGET_LOCAL))
			rs->r4[n++] = rs->r4[i];
	rs->n4 = n;
	n = 0;
	for (size_t i = 0; i < rs->n6; i++)
		if (!(rs->r6[i].target & NPR_TARGET_LOCAL))
			rs->r6[n++] = rs->r6[i];
	rs->n6 = n;
	return 0;
}

void
running_free(struct running *rs)
{
	free(rs->port);
	free(rs->iface);
	free(rs->addr);
	free(rs->neigh);
	free(rs->nh);
	free(rs->group);
	free(rs->member);
	free(rs->r4);
	free(rs->r6);
	memset(rs, 0, sizeof(*rs));
}

/* ---- plan: messages by phase ---- */

static void *
ph_reserve(struct plan *p, int ph, size_t len)
{
	struct plan_phase *f = &p->ph[ph];
	if (grow_array(&f->buf, &f->cap, f->len + len, 1) < 0)
		return NULL;
	void *r = f->buf + f->len;
	memset(r, 0, len);
	f->len += len;
	return r;
}

static int
ph_msg(struct plan *p, int ph, const void *msg)
{
	const struct npr_msg_hdr *h = msg;
	void *d = ph_reserve(p, ph, h->len);
	if (d == NULL)
		return -ENOMEM;
	memcpy(d, msg, h->len);
	p->ph[ph].n_msgs++;
	return 0;
}

/* Route entries are packed into messages of up to NPR_ROUTE4_MAX / NPR_ROUTE6_MAX. */
struct route_acc {
	int ph;
	uint16_t type;
	size_t off; /* of the open message in its phase, SIZE_MAX if none */
	uint32_t count;
};

static void
route_close(struct plan *p, struct route_acc *a)
{
	if (a->off == SIZE_MAX)
		return;
	struct plan_phase *f = &p->ph[a->ph];
	size_t len = f->len - a->off;
	size_t padded = (len + 7) & ~(size_t)7;
	if (padded > len)
		ph_reserve(p, a->ph, padded - len); /* zeroes; cannot fail: see route_entry */
	struct npr_msg_route4 h;		    /* same head as npr_msg_route6 */
	memset(&h, 0, sizeof(h));
	h.hdr.type = a->type;
	h.hdr.len = (uint32_t)padded;
	h.count = a->count;
	memcpy(f->buf + a->off, &h, sizeof(h));
	f->n_msgs++;
	a->off = SIZE_MAX;
	a->count = 0;
}

static int
route_entry(struct plan *p, struct route_acc *a, int ph, uint16_t type, const void *e, size_t esize)
{
	uint32_t max = esize == sizeof(struct npr_route4) ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
	if (a->off != SIZE_MAX && (a->ph != ph || a->type != type || a->count == max))
		route_close(p, a);
	if (a->off == SIZE_MAX) {
		/* room for the header, a full message and its padding, so that route_close's
		 * reserve never reallocates */
		struct plan_phase *f = &p->ph[ph];
		size_t need = sizeof(struct npr_msg_route4) + max * esize + 8;
		if (grow_array(&f->buf, &f->cap, f->len + need, 1) < 0)
			return -ENOMEM;
		a->ph = ph;
		a->type = type;
		a->off = f->len;
		a->count = 0;
		ph_reserve(p, ph, sizeof(struct npr_msg_route4));
	}
	void *d = ph_reserve(p, ph, esize);
	if (d == NULL)
		return -ENOMEM;
	memcpy(d, e, esize);
	a->count++;
	return 0;
}

/* ---- plan: ids ---- */

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

/* ---- plan: descriptions ---- */

static const char *const kind_names[] = { [NPR_NH_FORWARD] = "forward",
					  [NPR_NH_BLACKHOLE] = "blackhole",
					  [NPR_NH_UNREACHABLE] = "unreachable",
					  [NPR_NH_PROHIBIT] = "prohibit" };

static const char *
nh_text(const struct plan *p, unsigned kind, unsigned family, unsigned ifid, const uint8_t *gw,
	char *buf, size_t len)
{
	if (kind != NPR_NH_FORWARD) {
		snprintf(buf, len, "%s", kind <= NPR_NH_PROHIBIT ? kind_names[kind] : "?");
		return buf;
	}
	char a[INET6_ADDRSTRLEN] = "";
	if (family != 0)
		npr_format_addr((int)family, gw, a, sizeof(a));
	snprintf(buf, len, "%s%s%sdev %.*s", family != 0 ? "via " : "", a, family != 0 ? " " : "",
		 (int)NPR_NAME_LEN, ifid < NPR_MAX_IFACES ? p->ifname[ifid] : "?");
	return buf;
}

const char *
plan_describe(const struct plan *p, size_t msg, uint32_t entry, char *buf, size_t len)
{
	char a[NPR_PREFIX_STRLEN], b[160];
	if (msg >= p->n_msgs) {
		snprintf(buf, len, "message %zu", msg);
		return buf;
	}
	const uint8_t *m = p->buf + p->off[msg];
	struct npr_msg_hdr h;
	memcpy(&h, m, sizeof(h));
	switch (h.type) {
	case NPR_MSG_IFACE_SET: {
		struct npr_msg_iface_set s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "interface %.*s (id %u, port %u)", (int)NPR_NAME_LEN, s.name,
			 s.ifid, s.port_id);
		break;
	}
	case NPR_MSG_IFACE_DEL: {
		struct npr_msg_iface_del s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "removing interface %.*s (id %u)", (int)NPR_NAME_LEN,
			 s.ifid < NPR_MAX_IFACES ? p->ifname[s.ifid] : "?", s.ifid);
		break;
	}
	case NPR_MSG_ADDR_ADD:
	case NPR_MSG_ADDR_DEL: {
		struct npr_msg_addr s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "%s address %s on interface %.*s",
			 h.type == NPR_MSG_ADDR_ADD ? "adding" : "removing",
			 npr_format_prefix(s.family, s.addr, s.plen, a, sizeof(a)),
			 (int)NPR_NAME_LEN, s.ifid < NPR_MAX_IFACES ? p->ifname[s.ifid] : "?");
		break;
	}
	case NPR_MSG_NEIGH_SET:
	case NPR_MSG_NEIGH_DEL: {
		struct npr_msg_neigh s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "%s neighbor %s on interface %.*s",
			 h.type == NPR_MSG_NEIGH_SET ? "setting" : "removing",
			 npr_format_addr(s.family, s.addr, a, sizeof(a)), (int)NPR_NAME_LEN,
			 s.ifid < NPR_MAX_IFACES ? p->ifname[s.ifid] : "?");
		break;
	}
	case NPR_MSG_NH_SET: {
		struct npr_msg_nh_set s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "next hop %u (%s)", s.nh_id,
			 nh_text(p, s.kind, s.family, s.ifid, s.gw, b, sizeof(b)));
		break;
	}
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL: {
		struct npr_msg_id s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "removing %s %u",
			 h.type == NPR_MSG_NH_DEL ? "next hop" : "group", s.id);
		break;
	}
	case NPR_MSG_GROUP_SET: {
		struct npr_msg_group_set s;
		memcpy(&s, m, sizeof(s));
		snprintf(buf, len, "group %u (%u members)", s.group_id, s.n_members);
		break;
	}
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_DEL: {
		struct npr_msg_route4 s;
		struct npr_route4 r = { 0 };
		memcpy(&s, m, sizeof(s));
		if (entry < s.count)
			memcpy(&r, m + sizeof(s) + (size_t)entry * sizeof(r), sizeof(r));
		snprintf(buf, len, "%s route %s%s",
			 h.type == NPR_MSG_ROUTE4_ADD ? "adding" : "removing",
			 npr_format_prefix(NPR_AF_INET, (const uint8_t *)&r.prefix, r.plen, a,
					   sizeof(a)),
			 "");
		break;
	}
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_DEL: {
		struct npr_msg_route6 s;
		struct npr_route6 r = { 0 };
		memcpy(&s, m, sizeof(s));
		if (entry < s.count)
			memcpy(&r, m + sizeof(s) + (size_t)entry * sizeof(r), sizeof(r));
		snprintf(buf, len, "%s route %s",
			 h.type == NPR_MSG_ROUTE6_ADD ? "adding" : "removing",
			 npr_format_prefix(NPR_AF_INET6, r.prefix, r.plen, a, sizeof(a)));
		break;
	}
	case NPR_MSG_SYNC_BEGIN:
		snprintf(buf, len, "resync begin");
		break;
	case NPR_MSG_SYNC_END:
		snprintf(buf, len, "resync end");
		break;
	default:
		snprintf(buf, len, "message type %u", h.type);
	}
	return buf;
}

/* ---- plan: the diff ---- */

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
	struct route_acc acc;
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
	if (ph_msg(d->p, ph, m) < 0)
		d->oom = true;
}

static int
cmp_member(const void *a, const void *b)
{
	const struct npr_group_member *x = a, *y = b;
	if (x->nh_id != y->nh_id)
		return x->nh_id < y->nh_id ? -1 : 1;
	return (int)x->weight - (int)y->weight;
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
		for (size_t k = 0; k < rs->n_iface; k++)
			if (!rs_matched[k] && rs->iface[k].port_id == d->d_port[i]) {
				rs_matched[k] = true;
				d->d_ifid[i] = rs->iface[k].ifid;
				assigned[i] = true;
				break;
			}
	}
	for (size_t i = 0; i < cfg->n_iface; i++) {
		if (assigned[i])
			continue;
		for (size_t k = 0; k < rs->n_iface; k++)
			if (!rs_matched[k] &&
			    strncmp(rs->iface[k].name, cfg->iface[i].name, NPR_NAME_LEN) == 0) {
				rs_matched[k] = true;
				d->d_ifid[i] = rs->iface[k].ifid;
				assigned[i] = true;
				break;
			}
	}
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
		m.mtu = f->mtu;
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
		       (int)sizeof(rs->port[pi].name), rs->port[pi].name, f->mtu,
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
		       nh_text(d->p, m.kind, m.family, m.ifid, m.gw, t, sizeof(t)));
	}
	for (size_t k = 0; k < rs->n_nh; k++) {
		if (rs_used[k])
			continue;
		const struct npr_dump_nh *r = &rs->nh[k];
		struct npr_msg_id m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_NH_DEL;
		m.hdr.len = sizeof(m);
		m.id = r->nh_id;
		msg(d, PH_NH_DEL, &m);
		change(d, PK_NH, '-', "nexthop %u %s", r->nh_id,
		       nh_text(d->p, r->kind, r->family, r->ifid, r->gw, t, sizeof(t)));
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
		struct npr_msg_id dm;
		memset(&dm, 0, sizeof(dm));
		dm.hdr.type = NPR_MSG_GROUP_DEL;
		dm.hdr.len = sizeof(dm);
		dm.id = rs->group[k].id;
		msg(d, PH_GROUP_DEL, &dm);
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
				 nh_text(d->p, w->kind, w->family,
					 w->kind == NPR_NH_FORWARD ? d->d_ifid[w->iface] : 0, w->gw,
					 t, sizeof(t)),
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
		if (route_entry(d->p, &d->acc, PH_ROUTE, f->add, e, f->size) < 0)
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
		if (route_entry(d->p, &d->acc, PH_DEL, f->del, e, f->size) < 0)
			d->oom = true;
		change(d, f->kind, '-', "route %s",
		       d->out == NULL ? "" : route_prefix_text(f, e, a, sizeof(a)));
	}
	free(seen);
	hset_free(&h);
}

/* Concatenate the phases; index the messages. */
static int
plan_finish(struct plan *p)
{
	size_t len = 0, n = 0;
	for (int i = 0; i < PH_MAX; i++) {
		len += p->ph[i].len;
		n += p->ph[i].n_msgs;
	}
	p->buf = malloc(len + 8);
	p->off = malloc((n + 1) * sizeof(*p->off));
	if (p->buf == NULL || p->off == NULL)
		return -ENOMEM;
	for (int i = 0; i < PH_MAX; i++) {
		const uint8_t *b = p->ph[i].buf;
		size_t o = 0;
		while (o < p->ph[i].len) {
			struct npr_msg_hdr h;
			memcpy(&h, b + o, sizeof(h));
			p->off[p->n_msgs++] = (uint32_t)p->len;
			memcpy(p->buf + p->len, b + o, h.len);
			p->len += h.len;
			o += h.len;
		}
		free(p->ph[i].buf);
		memset(&p->ph[i], 0, sizeof(p->ph[i]));
	}
	return 0;
}

int
plan_build(const struct config *cfg, const struct running *rs, const struct plan_opts *o,
	   struct plan *p, struct config_msgs *errs)
{
	static const struct plan_opts none;
	memset(p, 0, sizeof(*p));
	if (o == NULL)
		o = &none;
	p->resync = o->resync;
	struct diff d = { .cfg = cfg, .rs = rs, .o = o, .p = p, .errs = errs, .out = o->changes };
	d.acc.off = SIZE_MAX;
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
	route_close(p, &d.acc);
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

void
plan_free(struct plan *p)
{
	for (int i = 0; i < PH_MAX; i++)
		free(p->ph[i].buf);
	free(p->buf);
	free(p->off);
	memset(p, 0, sizeof(*p));
}

/* ---- push ---- */

struct push_state {
	const struct plan *p;
	FILE *err;
	const char *name;
	uint32_t first_seq;
	size_t n_sent, n_errors;
};

static void
push_handler(void *ctx, const struct npr_msg_hdr *rec)
{
	struct push_state *s = ctx;
	if (rec->type != NPR_MSG_REPLY)
		return;
	const struct npr_reply *rep = (const struct npr_reply *)rec;
	size_t i = (uint32_t)(rec->seq - s->first_seq);
	if (i >= s->n_sent || rep->status == 0)
		return;
	if (rep->status == -ECANCELED && s->n_errors > 0)
		return; /* the rest of a failed batch */
	if (s->n_errors++ < CONFIG_MAX_REPORTED) {
		char what[300];
		plan_describe(s->p, i, rep->index, what, sizeof(what));
		fprintf(s->err, "%s: %s: the data plane refused %s: %s%s%s\n", PROG, s->name, what,
			npr_strstatus(rep->status), rep->msg[0] != '\0' ? ": " : "", rep->msg);
	}
}

int
plan_push(struct npr_client *c, struct plan *p, int timeout_ms, struct apply_times *t, FILE *err,
	  const char *name)
{
	struct push_state s = { .p = p, .err = err, .name = name };
	struct npr_reply rep;
	double t0 = now_s();

	if (p->n_msgs == 0) {
		t->push_s = t->commit_s = 0;
		return 0;
	}
	int rc = npr_client_batch_begin(c, &rep, timeout_ms);
	if (rc < 0)
		return rc;
	if (rep.status != 0) {
		fprintf(err, "%s: %s: BATCH_BEGIN: %s%s%s\n", PROG, name, npr_strstatus(rep.status),
			rep.msg[0] != '\0' ? ": " : "", rep.msg);
		return -ECANCELED;
	}
	npr_client_set_handler(c, push_handler, &s);
	for (size_t i = 0; i < p->n_msgs && s.n_errors == 0; i++) {
		uint32_t seq;
		rc = npr_client_send(c, p->buf + p->off[i], &seq);
		if (rc < 0)
			break;
		if (i == 0)
			s.first_seq = seq;
		s.n_sent++;
	}
	if (rc == 0)
		rc = npr_client_flush(c, timeout_ms);
	npr_client_set_handler(c, NULL, NULL);
	if (rc < 0)
		return rc;
	double t1 = now_s();
	t->push_s = t1 - t0;
	struct npr_msg_hdr h = { .len = sizeof(h) };
	if (s.n_errors > 0) {
		if (s.n_errors > CONFIG_MAX_REPORTED)
			fprintf(err, "%s: %s: ... and %zu more\n", PROG, name,
				s.n_errors - CONFIG_MAX_REPORTED);
		h.type = NPR_MSG_BATCH_ABORT;
		rc = npr_client_call(c, &h, &rep, NULL, NULL, timeout_ms);
		if (rc < 0)
			return rc;
		fprintf(err, "%s: %s: nothing applied (batch aborted)\n", PROG, name);
		return -ECANCELED;
	}
	h.type = NPR_MSG_BATCH_COMMIT;
	rc = npr_client_call(c, &h, &rep, NULL, NULL, timeout_ms);
	if (rc < 0)
		return rc;
	t->commit_s = now_s() - t1;
	if (rep.status != 0) {
		fprintf(err, "%s: %s: commit: %s%s%s; nothing applied\n", PROG, name,
			npr_strstatus(rep.status), rep.msg[0] != '\0' ? ": " : "", rep.msg);
		return -ECANCELED;
	}
	return 0;
}

/* ---- summary ---- */

static const char *const kind_label[PK_MAX] = { "interfaces", "addresses", "neighbors", "nexthops",
						"groups",     "routes4",   "routes6" };

/* One JSON document: the file name as given (UTF-8 passed through), times to the microsecond. */
static void
print_summary_json(FILE *f, const struct plan *p, const struct apply_times *t, const char *name,
		   bool dry_run)
{
	struct json j;
	json_init_text(&j, f, JSON_UTF8);
	json_obj_begin(&j);
	json_kv_str(&j, "file", name);
	json_kv_bool(&j, "dry_run", dry_run);
	json_kv_bool(&j, "resync", p->resync);
	json_kv_u64(&j, "changes", p->n_changes);
	json_kv_u64(&j, "resent", p->n_resent);
	json_kv_u64(&j, "messages", p->n_msgs);
	json_key(&j, "counts");
	json_obj_begin(&j);
	for (int k = 0; k < PK_MAX; k++) {
		json_key(&j, kind_label[k]);
		json_obj_begin(&j);
		json_kv_u64(&j, "added", p->count[k].added);
		json_kv_u64(&j, "changed", p->count[k].changed);
		json_kv_u64(&j, "removed", p->count[k].removed);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_key(&j, "time");
	json_obj_begin(&j);
	json_kv_fixed(&j, "parse_validate_s", t->parse_s + t->build_s, 6);
	json_kv_fixed(&j, "libyang_s", t->parse_s, 6);
	json_kv_fixed(&j, "checks_s", t->build_s, 6);
	json_kv_fixed(&j, "dump_s", t->dump_s, 6);
	json_kv_fixed(&j, "diff_s", t->diff_s, 6);
	json_kv_fixed(&j, "push_s", t->push_s, 6);
	json_kv_fixed(&j, "commit_s", t->commit_s, 6);
	json_kv_fixed(&j, "total_s", t->total_s, 6);
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

void
plan_print_summary(FILE *f, const struct plan *p, const struct apply_times *t, const char *name,
		   bool dry_run, bool json)
{
	if (json) {
		print_summary_json(f, p, t, name, dry_run);
		return;
	}
	if (p->n_changes == 0 && p->n_resent == 0) {
		fprintf(f, "%s: no change (the data plane already runs this configuration)\n",
			name);
	} else {
		fprintf(f, "%s: %s %zu change%s in %zu message%s%s\n", name,
			dry_run ? "would apply" : "applied", p->n_changes,
			p->n_changes == 1 ? "" : "s", p->n_msgs, p->n_msgs == 1 ? "" : "s",
			p->resync ? " (full resync)" : "");
		fprintf(f, "  %-12s %9s %9s %9s\n", "", "added", "changed", "removed");
		for (int k = 0; k < PK_MAX; k++)
			fprintf(f, "  %-12s %9zu %9zu %9zu\n", kind_label[k], p->count[k].added,
				p->count[k].changed, p->count[k].removed);
	}
	fprintf(f,
		"  time: parse+validate %.3f s (libyang %.3f s, checks %.3f s), dump %.3f s, "
		"diff %.3f s, push %.3f s, commit (in the FIB) %.3f s, total %.3f s\n",
		t->parse_s + t->build_s, t->parse_s, t->build_s, t->dump_s, t->diff_s, t->push_s,
		t->commit_s, t->total_s);
}

/* ---- apply FILE ---- */

static void
apply_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " apply [--dry-run] [--resync] [--yang-path DIRS] FILE\n"
		   "       " PROG " run [--yang-path DIRS] [--poll MS] FILE\n");
}

int
apply_main(const char *shm, int timeout_ms, bool json, int argc, char **argv)
{
	bool dry_run = false, resync = false;
	const char *path = NULL, *yang_path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
			dry_run = true;
		} else if (strcmp(argv[i], "--resync") == 0) {
			resync = true;
		} else if (strcmp(argv[i], "--yang-path") == 0 && i + 1 < argc) {
			yang_path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s: apply: unknown option '%s'\n", PROG, argv[i]);
			apply_usage(stderr);
			return 2;
		} else if (path == NULL) {
			path = argv[i];
		} else {
			apply_usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		apply_usage(stderr);
		return 2;
	}
	double t0 = now_s();
	struct apply_times t = { 0 };
	char err[512];
	struct config_yang *y = config_yang_open(yang_path, err, sizeof(err));
	if (y == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 2;
	}
	struct config cfg;
	struct config_msgs errs = { 0 }, warns = { 0 };
	int rc = config_load(y, path, path, &cfg, &errs, &warns);
	config_msgs_print(&warns, stderr, PROG ": warning: ");
	config_yang_close(y);
	if (rc < 0) {
		config_msgs_print(&errs, stderr, PROG ": ");
		config_msgs_free(&errs);
		config_msgs_free(&warns);
		config_free(&cfg);
		return 1;
	}
	t.parse_s = cfg.parse_s;
	t.build_s = cfg.build_s;

	int code = 0;
	struct npr_client *c = npr_client_open(shm, timeout_ms, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		config_free(&cfg);
		return 3;
	}
	struct running rs;
	double t1 = now_s();
	rc = running_dump(c, &rs, timeout_ms, err, sizeof(err));
	double t2 = now_s();
	t.dump_s = t2 - t1;
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		code = rc == -EPROTO || rc == -ENOMEM ? 1 : 3;
		goto out;
	}
	if (config_check_dataplane(&cfg, path, rs.port, rs.n_port, &rs.info, &errs) < 0) {
		config_msgs_print(&errs, stderr, PROG ": ");
		code = 1;
		goto out;
	}
	struct plan p;
	struct plan_opts po = { .resync = resync, .changes = dry_run && !json ? stdout : NULL };
	rc = plan_build(&cfg, &rs, &po, &p, &errs);
	t.diff_s = now_s() - t2;
	if (rc < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s: %s: %s\n", PROG, path, errs.line[i]);
		plan_free(&p);
		code = 1;
		goto out;
	}
	if (!dry_run) {
		rc = plan_push(c, &p, timeout_ms, &t, stderr, path);
		if (rc == -ECANCELED)
			code = 1;
		else if (rc < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, path, npr_strstatus(rc));
			code = 3;
		}
	}
	t.total_s = now_s() - t0;
	if (code == 0)
		plan_print_summary(stdout, &p, &t, path, dry_run, json);
	plan_free(&p);
out:
	running_free(&rs);
	npr_client_close(c);
	config_free(&cfg);
	config_msgs_free(&errs);
	config_msgs_free(&warns);
	return code;
}
