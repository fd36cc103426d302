/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plans: message buffers by phase, route packing, descriptions (see plan.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "npr/addr.h"
#include "plan.h"

/* ---- messages by phase ---- */

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

int
plan_msg(struct plan *p, int ph, const void *msg)
{
	const struct npr_msg_hdr *h = msg;
	void *d = ph_reserve(p, ph, h->len);
	if (d == NULL)
		return -ENOMEM;
	memcpy(d, msg, h->len);
	p->ph[ph].n_msgs++;
	return 0;
}

void
plan_routes_close(struct plan *p, struct plan_routes *a)
{
	if (a->off == SIZE_MAX)
		return;
	struct plan_phase *f = &p->ph[a->ph];
	size_t len = f->len - a->off;
	size_t padded = (len + 7) & ~(size_t)7;
	if (padded > len)
		ph_reserve(p, a->ph, padded - len); /* zeroes; cannot fail: see plan_route */
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

int
plan_route(struct plan *p, struct plan_routes *a, int ph, uint16_t type, const void *e,
	   size_t esize)
{
	uint32_t max = esize == sizeof(struct npr_route4) ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
	if (a->off != SIZE_MAX && (a->ph != ph || a->type != type || a->count == max))
		plan_routes_close(p, a);
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

/* ---- the whole plan ---- */

int
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

void
plan_free(struct plan *p)
{
	for (int i = 0; i < PH_MAX; i++)
		free(p->ph[i].buf);
	free(p->buf);
	free(p->off);
	memset(p, 0, sizeof(*p));
}

/* ---- descriptions ---- */

static const char *const kind_names[] = { [NPR_NH_FORWARD] = "forward",
					  [NPR_NH_BLACKHOLE] = "blackhole",
					  [NPR_NH_UNREACHABLE] = "unreachable",
					  [NPR_NH_PROHIBIT] = "prohibit" };

const char *
plan_nh_text(const struct plan *p, unsigned kind, unsigned family, unsigned ifid, const uint8_t *gw,
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
			 plan_nh_text(p, s.kind, s.family, s.ifid, s.gw, b, sizeof(b)));
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
