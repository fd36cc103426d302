/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM stream decoder (fpm.h). Layers, outermost first:
 *   fpm_feed      gathers frames from the byte stream (whole frames are read in place)
 *   frame_header  checks version, type and length; a bad one breaks the stream
 *   frame_body    walks the netlink messages of a frame
 *   route_msg, nexthop_msg   decode one message into an event on the stack, deliver it whole
 *
 * Every read from the frame goes through memcpy: a frame sits at any offset of the caller's
 * buffer, so no netlink struct may be read through a pointer into it.
 *
 * Attributes are walked by hand, not with libmnl: libmnl reads struct nlattr through a pointer
 * (it needs 4-byte alignment that a frame at an arbitrary offset does not have) and its walk
 * stops silently at an attribute whose length overruns the message, which we must report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "npr/addr.h"
#include "fpm.h"

#define FPM_VERSION 1
#define FPM_TYPE_NETLINK 1
#define FPM_TYPE_PROTOBUF 2

/* ---- reading ---- */

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* One attribute's payload; p == NULL: absent. */
struct attr {
	const uint8_t *p;
	uint16_t len;
};

/* Walk the attributes in p[0..len) into tb[0..max]: the last of a type wins, types above max
 * are ignored (flag bits masked off). Returns 0, or -1 with the reason in why. */
static int
attr_walk(const uint8_t *p, size_t len, struct attr *tb, unsigned max, char *why, size_t wlen)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	size_t off = 0;
	while (len - off >= sizeof(struct rtattr)) {
		uint16_t alen = get16(p + off);
		uint16_t type = get16(p + off + 2) & NLA_TYPE_MASK;
		if (alen < sizeof(struct rtattr) || alen > len - off) {
			snprintf(why, wlen,
				 "attribute type %u: rta_len %u out of bounds (%zu bytes left)",
				 type, alen, len - off);
			return -1;
		}
		if (type <= max) {
			tb[type].p = p + off + sizeof(struct rtattr);
			tb[type].len = (uint16_t)(alen - sizeof(struct rtattr));
		}
		off += min_size(RTA_ALIGN(alen), len - off);
	}
	if (off != len) {
		snprintf(why, wlen, "%zu stray bytes after the last attribute", len - off);
		return -1;
	}
	return 0;
}

/* ---- reporting ---- */

/* One message being decoded, and what names it in its texts: "RTM_NEWROUTE 10.0.0.0/8",
 * "RTM_NEWNEXTHOP id 7". The name is formatted only when a text needs it: most messages
 * need none, and formatting every prefix would cost more than decoding it. */
struct msg {
	struct fpm_reader *r;
	const struct fpm_ops *ops;
	void *ctx;
	const char *type; /* "RTM_NEWROUTE", ... */
	bool has_prefix, has_id;
	uint8_t family, plen;
	uint32_t id;
	const uint8_t *prefix; /* 16 bytes */
};

static int
msg_name(const struct msg *m, char *buf, size_t len)
{
	if (m->has_prefix) {
		char s[NPR_PREFIX_STRLEN];
		return snprintf(buf, len, "%s %s", m->type,
				npr_format_prefix(m->family, m->prefix, m->plen, s, sizeof(s)));
	}
	if (m->has_id)
		return snprintf(buf, len, "%s id %u", m->type, m->id);
	return snprintf(buf, len, "%s", m->type);
}

#define TEXT_MAX 256

static void
report_error(struct fpm_reader *r, const struct fpm_ops *ops, void *ctx, const char *text)
{
	r->stats.errors++;
	if (ops->error != NULL)
		ops->error(ctx, text);
}

/* The message is malformed: tell why, prefixed with its name. Returns -1. */
__attribute__((format(printf, 2, 3))) static int
fail(struct msg *m, const char *fmt, ...)
{
	char text[TEXT_MAX];
	int n = msg_name(m, text, sizeof(text) - 2);
	n += snprintf(text + n, sizeof(text) - (size_t)n, ": ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	report_error(m->r, m->ops, m->ctx, text);
	return -1;
}

/* The message is well formed but not for us. Returns -1. */
__attribute__((format(printf, 3, 4))) static int
skip(struct msg *m, enum fpm_skip why, const char *fmt, ...)
{
	m->r->stats.skipped[why]++;
	if (m->ops->skip == NULL)
		return -1;
	char text[TEXT_MAX];
	int n = msg_name(m, text, sizeof(text) - 2);
	n += snprintf(text + n, sizeof(text) - (size_t)n, ": ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	m->ops->skip(m->ctx, why, text);
	return -1;
}

const char *
fpm_skip_name(enum fpm_skip why)
{
	switch (why) {
	case FPM_SKIP_FAMILY:
		return "family";
	case FPM_SKIP_TABLE:
		return "table";
	case FPM_SKIP_ROUTE_TYPE:
		return "route type";
	case FPM_SKIP_UNSUPPORTED:
		return "unsupported";
	case FPM_SKIP_REASONS:
		break;
	}
	return "?";
}

/* ---- next hops, as routes and next-hop objects share them ---- */

static unsigned
alen_of(uint8_t npr_family)
{
	return npr_family == NPR_AF_INET ? 4 : 16;
}

static uint8_t
npr_family_of(unsigned af)
{
	return af == AF_INET ? NPR_AF_INET : af == AF_INET6 ? NPR_AF_INET6 : 0;
}

/* A route's gateway (RTA_GATEWAY of the route's family, or RTA_VIA of either family for an
 * IPv4 route) into nh. where: "" or "next hop 2: ". */
static int
route_gateway(struct msg *m, uint8_t family, const struct attr *gw, const struct attr *via,
	      struct fpm_nh *nh, const char *where)
{
	if (gw->p != NULL && via->p != NULL)
		return fail(m, "%sboth RTA_GATEWAY and RTA_VIA", where);
	if (gw->p != NULL) {
		unsigned want = alen_of(family);
		if (gw->len != want)
			return fail(m, "%sRTA_GATEWAY is %u bytes, want %u%s", where, gw->len, want,
				    family == NPR_AF_INET && gw->len == 16
					    ? " (an IPv6 gateway needs RTA_VIA)"
					    : "");
		nh->family = family;
		memcpy(nh->gw, gw->p, want);
	} else if (via->p != NULL) {
		if (via->len < 2)
			return fail(m, "%sRTA_VIA is %u bytes, too short", where, via->len);
		uint16_t af = get16(via->p); /* struct rtvia: family, then the address */
		uint8_t vf = npr_family_of(af);
		if (vf == 0)
			return fail(m, "%sRTA_VIA family %u is neither AF_INET nor AF_INET6", where,
				    af);
		if (via->len != 2 + alen_of(vf))
			return fail(m, "%sRTA_VIA is %u bytes, want %u for family %u", where,
				    via->len, 2 + alen_of(vf), af);
		if (family == NPR_AF_INET6 && vf == NPR_AF_INET)
			return fail(m, "%sRTA_VIA: an IPv4 gateway for an IPv6 route", where);
		nh->family = vf;
		memcpy(nh->gw, via->p + 2, alen_of(vf));
	}
	return 0;
}

/* The rules every delivered next hop keeps (fpm.h). where: "" or "next hop 2: ". */
static int
check_nh(struct msg *m, const struct fpm_nh *nh, const char *where)
{
	if (nh->family == 0) {
		if (nh->ifindex == 0)
			return fail(m, "%sneither a gateway nor an interface", where);
		return 0;
	}
	char s[NPR_ADDR_STRLEN];
	const char *why = npr_bad_unicast(nh->family, nh->gw);
	if (why != NULL)
		return fail(m, "%sgateway %s %s", where,
			    npr_format_addr(nh->family, nh->gw, s, sizeof(s)), why);
	if (npr_is_ll6(nh->family, nh->gw) && nh->ifindex == 0)
		return fail(m, "%sgateway %s is link-local but has no interface", where,
			    npr_format_addr(nh->family, nh->gw, s, sizeof(s)));
	return 0;
}

/* ---- routes ---- */

static const char *
route_type_name(unsigned t)
{
	static const char *const names[] = {
		[RTN_UNSPEC] = "unspec",
		[RTN_UNICAST] = "unicast",
		[RTN_LOCAL] = "local",
		[RTN_BROADCAST] = "broadcast",
		[RTN_ANYCAST] = "anycast",
		[RTN_MULTICAST] = "multicast",
		[RTN_BLACKHOLE] = "blackhole",
		[RTN_UNREACHABLE] = "unreachable",
		[RTN_PROHIBIT] = "prohibit",
		[RTN_THROW] = "throw",
		[RTN_NAT] = "nat",
		[RTN_XRESOLVE] = "xresolve",
	};
	return t < sizeof(names) / sizeof(names[0]) && names[t] != NULL ? names[t] : "unknown";
}

/* RTA_MULTIPATH: a list of struct rtnexthop, each followed by its own attributes. */
static int
route_multipath(struct msg *m, struct fpm_route *ev, const struct attr *mp)
{
	size_t off = 0, len = mp->len;
	char where[32];

	while (off < len) {
		struct rtnexthop rtnh;
		struct attr tb[RTA_MAX + 1];
		char why[TEXT_MAX / 2];
		unsigned i = ev->n_nh;

		snprintf(where, sizeof(where), "next hop %u: ", i + 1);
		if (len - off < sizeof(rtnh))
			return fail(m, "RTA_MULTIPATH: %zu stray bytes after next hop %u",
				    len - off, i);
		memcpy(&rtnh, mp->p + off, sizeof(rtnh));
		if (rtnh.rtnh_len < sizeof(rtnh) || rtnh.rtnh_len > len - off)
			return fail(m, "RTA_MULTIPATH %srtnh_len %u out of bounds (%zu bytes left)",
				    where, rtnh.rtnh_len, len - off);
		if (i == NPR_GROUP_MAX_MEMBERS)
			return fail(m, "RTA_MULTIPATH has more than %u next hops",
				    NPR_GROUP_MAX_MEMBERS);
		if (attr_walk(mp->p + off + sizeof(rtnh), rtnh.rtnh_len - sizeof(rtnh), tb, RTA_MAX,
			      why, sizeof(why)) < 0)
			return fail(m, "RTA_MULTIPATH %s%s", where, why);
		if (tb[RTA_ENCAP].p != NULL || tb[RTA_ENCAP_TYPE].p != NULL)
			return skip(m, FPM_SKIP_UNSUPPORTED, "unsupported (%sRTA_ENCAP)", where);

		struct fpm_nh *nh = &ev->nh[i];
		memset(nh, 0, sizeof(*nh));
		nh->ifindex = (uint32_t)rtnh.rtnh_ifindex;
		nh->weight = (uint16_t)(rtnh.rtnh_hops + 1u);
		nh->onlink = (rtnh.rtnh_flags & RTNH_F_ONLINK) != 0;
		if (route_gateway(m, ev->family, &tb[RTA_GATEWAY], &tb[RTA_VIA], nh, where) < 0 ||
		    check_nh(m, nh, where) < 0)
			return -1;
		ev->n_nh = i + 1;
		off += min_size(RTNH_ALIGN(rtnh.rtnh_len), len - off);
	}
	if (ev->n_nh == 0)
		return fail(m, "RTA_MULTIPATH has no next hop");
	return 0;
}

/* The next hops of a unicast route (or of a delete): RTA_NH_ID, RTA_MULTIPATH, or one
 * next hop from RTA_GATEWAY / RTA_VIA / RTA_OIF, one way only. */
static int
route_nexthops(struct msg *m, struct fpm_route *ev, const struct rtmsg *rtm, const struct attr *tb)
{
	bool gw = tb[RTA_GATEWAY].p != NULL || tb[RTA_VIA].p != NULL;
	bool oif = tb[RTA_OIF].p != NULL;

	if (tb[RTA_NH_ID].p != NULL) {
		if (gw || oif || tb[RTA_MULTIPATH].p != NULL)
			return fail(m, "RTA_NH_ID with %s",
				    gw	  ? "a gateway"
				    : oif ? "RTA_OIF"
					  : "RTA_MULTIPATH");
		ev->nh_id = get32(tb[RTA_NH_ID].p);
		if (ev->nh_id == 0)
			return fail(m, "RTA_NH_ID is 0");
		return 0;
	}
	if (tb[RTA_MULTIPATH].p != NULL) {
		if (gw || oif)
			return fail(m, "RTA_MULTIPATH with a top-level %s",
				    gw ? "gateway" : "RTA_OIF");
		return route_multipath(m, ev, &tb[RTA_MULTIPATH]);
	}
	if (!gw && !oif)
		return 0;
	struct fpm_nh *nh = &ev->nh[0];
	memset(nh, 0, sizeof(*nh));
	nh->weight = 1;
	nh->onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
	if (oif)
		nh->ifindex = get32(tb[RTA_OIF].p);
	if (route_gateway(m, ev->family, &tb[RTA_GATEWAY], &tb[RTA_VIA], nh, "") < 0 ||
	    check_nh(m, nh, "") < 0)
		return -1;
	ev->n_nh = 1;
	return 0;
}

static int
route_kind(struct msg *m, bool del, unsigned type, uint8_t *kind)
{
	switch (type) {
	case RTN_UNICAST:
		*kind = NPR_NH_FORWARD;
		return 0;
	case RTN_BLACKHOLE:
		*kind = NPR_NH_BLACKHOLE;
		return 0;
	case RTN_UNREACHABLE:
		*kind = NPR_NH_UNREACHABLE;
		return 0;
	case RTN_PROHIBIT:
		*kind = NPR_NH_PROHIBIT;
		return 0;
	case RTN_UNSPEC:
		if (del) { /* zebra's deletes say no type */
			*kind = 0;
			return 0;
		}
		break;
	}
	return skip(m, FPM_SKIP_ROUTE_TYPE, "ignored (type %s)", route_type_name(type));
}

static void
route_msg(struct msg *m, uint16_t type, const uint8_t *p, size_t len)
{
	struct fpm_route ev;
	struct rtmsg rtm;
	struct attr tb[RTA_MAX + 1];
	char why[TEXT_MAX / 2];

	/* the next hops are zeroed as they are filled: the whole array is 1.5 KB a message */
	memset(&ev, 0, offsetof(struct fpm_route, nh));
	ev.del = type == RTM_DELROUTE;
	m->type = ev.del ? "RTM_DELROUTE" : "RTM_NEWROUTE";
	if (len < sizeof(rtm)) {
		fail(m, "%zu bytes, too short for struct rtmsg", len);
		return;
	}
	memcpy(&rtm, p, sizeof(rtm));
	ev.family = npr_family_of(rtm.rtm_family);
	if (ev.family == 0) {
		skip(m, FPM_SKIP_FAMILY, "skipped (family %u)", rtm.rtm_family);
		return;
	}
	unsigned alen = alen_of(ev.family);
	int walk = attr_walk(p + NLMSG_ALIGN(sizeof(rtm)), len - NLMSG_ALIGN(sizeof(rtm)), tb,
			     RTA_MAX, why, sizeof(why));

	/* the prefix, named in every text from here on (when it was read before a bad attribute) */
	const struct attr *dst = &tb[RTA_DST];
	if (dst->p != NULL && dst->len == alen) {
		memcpy(ev.prefix, dst->p, alen);
		m->has_prefix = true;
		m->family = ev.family;
		m->plen = rtm.rtm_dst_len;
		m->prefix = ev.prefix;
	}
	if (walk < 0) {
		fail(m, "%s", why);
		return;
	}
	if (dst->p != NULL && dst->len != alen) {
		fail(m, "RTA_DST is %u bytes, want %u", dst->len, alen);
		return;
	}
	if (rtm.rtm_dst_len > 8 * alen) {
		fail(m, "dst_len %u > %u", rtm.rtm_dst_len, 8 * alen);
		return;
	}
	if (dst->p == NULL && rtm.rtm_dst_len != 0) {
		fail(m, "dst_len %u without RTA_DST", rtm.rtm_dst_len);
		return;
	}
	if (npr_prefix_host_bits(ev.family, ev.prefix, rtm.rtm_dst_len)) {
		char s[NPR_PREFIX_STRLEN];
		uint8_t net[16];
		memcpy(net, ev.prefix, sizeof(net));
		npr_prefix_mask(ev.family, net, rtm.rtm_dst_len);
		fail(m, "host bits set beyond /%u (the prefix is %s)", rtm.rtm_dst_len,
		     npr_format_prefix(ev.family, net, rtm.rtm_dst_len, s, sizeof(s)));
		return;
	}
	ev.plen = rtm.rtm_dst_len;
	static const uint16_t u32s[] = { RTA_TABLE, RTA_PRIORITY, RTA_OIF, RTA_NH_ID };
	static const char *const u32_names[] = { "RTA_TABLE", "RTA_PRIORITY", "RTA_OIF",
						 "RTA_NH_ID" };
	for (unsigned i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		if (tb[u32s[i]].p != NULL && tb[u32s[i]].len != 4) {
			fail(m, "%s is %u bytes, want 4", u32_names[i], tb[u32s[i]].len);
			return;
		}

	/* Is it for us? */
	uint32_t table = tb[RTA_TABLE].p != NULL ? get32(tb[RTA_TABLE].p) : rtm.rtm_table;
	if (table != m->r->table) {
		skip(m, FPM_SKIP_TABLE, "ignored (table %u)", table);
		return;
	}
	if (route_kind(m, ev.del, rtm.rtm_type, &ev.kind) < 0)
		return;
	if (rtm.rtm_src_len != 0) {
		skip(m, FPM_SKIP_UNSUPPORTED, "unsupported (source-specific, src_len %u)",
		     rtm.rtm_src_len);
		return;
	}
	if (tb[RTA_ENCAP].p != NULL || tb[RTA_ENCAP_TYPE].p != NULL) {
		skip(m, FPM_SKIP_UNSUPPORTED, "unsupported (RTA_ENCAP)");
		return;
	}

	ev.protocol = rtm.rtm_protocol;
	if (tb[RTA_PRIORITY].p != NULL)
		ev.metric = get32(tb[RTA_PRIORITY].p);
	/* the next hops of a blackhole, unreachable or prohibit route are not read */
	if (ev.kind == NPR_NH_FORWARD || ev.kind == 0) {
		if (route_nexthops(m, &ev, &rtm, tb) < 0)
			return;
		if (!ev.del && ev.n_nh == 0 && ev.nh_id == 0) {
			fail(m, "unicast route without a next hop (RTA_GATEWAY, RTA_VIA, RTA_OIF, "
				"RTA_MULTIPATH or RTA_NH_ID)");
			return;
		}
	}
	m->r->stats.routes++;
	if (m->ops->route != NULL)
		m->ops->route(m->ctx, &ev);
}

/* ---- next-hop objects ---- */

/* NHA_GROUP: an array of struct nexthop_grp. */
static int
nexthop_group(struct msg *m, struct fpm_nexthop *ev, const struct attr *g)
{
	struct nexthop_grp e;
	if (g->len == 0 || g->len % sizeof(e) != 0)
		return fail(m, "NHA_GROUP is %u bytes, not a multiple of %zu", g->len, sizeof(e));
	unsigned n = g->len / sizeof(e);
	if (n > NPR_GROUP_MAX_MEMBERS)
		return fail(m, "NHA_GROUP has %u members, at most %u", n, NPR_GROUP_MAX_MEMBERS);
	for (unsigned i = 0; i < n; i++) {
		memcpy(&e, g->p + i * sizeof(e), sizeof(e));
		if (e.id == 0 || e.id == ev->id)
			return fail(m, "NHA_GROUP member %u: id %u", i + 1, e.id);
		if (e.resvd1 != 0 || e.resvd2 != 0)
			return fail(m, "NHA_GROUP member %u (id %u): reserved bytes set", i + 1,
				    e.id);
		for (unsigned j = 0; j < i; j++)
			if (ev->grp[j].id == e.id)
				return fail(m, "NHA_GROUP: id %u twice", e.id);
		ev->grp[i].id = e.id;
		ev->grp[i].weight = (uint16_t)(e.weight + 1u);
	}
	ev->n_grp = n;
	return 0;
}

static void
nexthop_msg(struct msg *m, uint16_t type, const uint8_t *p, size_t len)
{
	struct fpm_nexthop ev;
	struct nhmsg nhm;
	struct attr tb[NHA_MAX + 1];
	char why[TEXT_MAX / 2];
	const char *name = type == RTM_DELNEXTHOP ? "RTM_DELNEXTHOP" : "RTM_NEWNEXTHOP";

	memset(&ev, 0, sizeof(ev));
	ev.del = type == RTM_DELNEXTHOP;
	m->type = name;
	if (len < sizeof(nhm)) {
		fail(m, "%zu bytes, too short for struct nhmsg", len);
		return;
	}
	memcpy(&nhm, p, sizeof(nhm));
	int walk = attr_walk(p + NLMSG_ALIGN(sizeof(nhm)), len - NLMSG_ALIGN(sizeof(nhm)), tb,
			     NHA_MAX, why, sizeof(why));
	if (tb[NHA_ID].p != NULL && tb[NHA_ID].len == 4) {
		ev.id = get32(tb[NHA_ID].p);
		m->has_id = true;
		m->id = ev.id;
	}
	if (walk < 0) {
		fail(m, "%s", why);
		return;
	}
	if (tb[NHA_ID].p == NULL || tb[NHA_ID].len != 4 || ev.id == 0) {
		fail(m, "%s",
		     tb[NHA_ID].p == NULL  ? "no NHA_ID"
		     : tb[NHA_ID].len != 4 ? "NHA_ID is not 4 bytes"
					   : "NHA_ID is 0");
		return;
	}
	if (ev.del) { /* the id is all a delete needs */
		m->r->stats.nexthops++;
		if (m->ops->nexthop != NULL)
			m->ops->nexthop(m->ctx, &ev);
		return;
	}
	if (nhm.nh_family != AF_UNSPEC && nhm.nh_family != AF_INET && nhm.nh_family != AF_INET6) {
		skip(m, FPM_SKIP_FAMILY, "skipped (family %u)", nhm.nh_family);
		return;
	}
	ev.family = npr_family_of(nhm.nh_family);
	ev.protocol = nhm.nh_protocol;
	if (tb[NHA_OIF].p != NULL && tb[NHA_OIF].len != 4) {
		fail(m, "NHA_OIF is %u bytes, want 4", tb[NHA_OIF].len);
		return;
	}
	if (tb[NHA_GROUP_TYPE].p != NULL && tb[NHA_GROUP_TYPE].len != 2) {
		fail(m, "NHA_GROUP_TYPE is %u bytes, want 2", tb[NHA_GROUP_TYPE].len);
		return;
	}
	if (tb[NHA_ENCAP].p != NULL || tb[NHA_ENCAP_TYPE].p != NULL) {
		skip(m, FPM_SKIP_UNSUPPORTED, "unsupported (NHA_ENCAP)");
		return;
	}
	if (tb[NHA_FDB].p != NULL) {
		skip(m, FPM_SKIP_UNSUPPORTED, "unsupported (NHA_FDB)");
		return;
	}
	if (tb[NHA_RES_GROUP].p != NULL ||
	    (tb[NHA_GROUP_TYPE].p != NULL &&
	     get16(tb[NHA_GROUP_TYPE].p) != NEXTHOP_GRP_TYPE_MPATH)) {
		skip(m, FPM_SKIP_UNSUPPORTED, "unsupported (group type %u)",
		     tb[NHA_GROUP_TYPE].p != NULL ? get16(tb[NHA_GROUP_TYPE].p)
						  : NEXTHOP_GRP_TYPE_RES);
		return;
	}

	const struct attr *gw = &tb[NHA_GATEWAY], *oif = &tb[NHA_OIF];
	if (tb[NHA_GROUP].p != NULL) {
		if (gw->p != NULL || oif->p != NULL || tb[NHA_BLACKHOLE].p != NULL) {
			fail(m, "NHA_GROUP with NHA_GATEWAY, NHA_OIF or NHA_BLACKHOLE");
			return;
		}
		if (nexthop_group(m, &ev, &tb[NHA_GROUP]) < 0)
			return;
	} else if (tb[NHA_BLACKHOLE].p != NULL) {
		if (tb[NHA_BLACKHOLE].len != 0 || gw->p != NULL || oif->p != NULL) {
			fail(m, "NHA_BLACKHOLE %s",
			     tb[NHA_BLACKHOLE].len != 0 ? "is not an empty flag"
							: "with NHA_GATEWAY or NHA_OIF");
			return;
		}
		ev.blackhole = true;
	} else {
		if (gw->p != NULL) {
			/* zebra sends some gateway next hops with nh_family AF_UNSPEC (seen
			 * after its interfaces went and came back): the gateway's length says
			 * the family */
			if (ev.family == 0 && (gw->len == 4 || gw->len == 16))
				ev.family = gw->len == 4 ? NPR_AF_INET : NPR_AF_INET6;
			if (ev.family == 0) {
				fail(m, "NHA_GATEWAY of %u bytes with family AF_UNSPEC", gw->len);
				return;
			}
			if (gw->len != alen_of(ev.family)) {
				fail(m, "NHA_GATEWAY is %u bytes, family %u wants %u", gw->len,
				     nhm.nh_family, alen_of(ev.family));
				return;
			}
			ev.nh.family = ev.family;
			memcpy(ev.nh.gw, gw->p, gw->len);
		}
		if (oif->p != NULL)
			ev.nh.ifindex = get32(oif->p);
		ev.nh.weight = 1;
		ev.nh.onlink = (nhm.nh_flags & RTNH_F_ONLINK) != 0;
		if (gw->p == NULL && oif->p == NULL) {
			fail(m, "none of NHA_GATEWAY, NHA_OIF, NHA_BLACKHOLE, NHA_GROUP");
			return;
		}
		if (check_nh(m, &ev.nh, "") < 0)
			return;
	}
	m->r->stats.nexthops++;
	if (m->ops->nexthop != NULL)
		m->ops->nexthop(m->ctx, &ev);
}

/* ---- frames ---- */

__attribute__((format(printf, 4, 5))) static void
frame_error(struct fpm_reader *r, const struct fpm_ops *ops, void *ctx, const char *fmt, ...)
{
	char text[TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	report_error(r, ops, ctx, text);
}

/* Check the 4-byte header at p; its length into *flen. -EPROTO (told) if invalid. */
static int
frame_header(struct fpm_reader *r, const uint8_t *p, size_t *flen, const struct fpm_ops *ops,
	     void *ctx)
{
	size_t len = (size_t)p[2] << 8 | p[3];
	if (p[0] != FPM_VERSION)
		frame_error(r, ops, ctx, "FPM header: version %u, want %u", p[0], FPM_VERSION);
	else if (p[1] != FPM_TYPE_NETLINK)
		frame_error(r, ops, ctx, "FPM header: message type %u%s, want %u (netlink)", p[1],
			    p[1] == FPM_TYPE_PROTOBUF ? " (protobuf)" : "", FPM_TYPE_NETLINK);
	else if (len < FPM_HDR_LEN)
		frame_error(r, ops, ctx, "FPM header: length %zu < %u", len, FPM_HDR_LEN);
	else {
		*flen = len;
		return 0;
	}
	return -EPROTO;
}

/* The netlink messages of one frame (after its header). */
static void
frame_body(struct fpm_reader *r, const uint8_t *p, size_t len, const struct fpm_ops *ops, void *ctx)
{
	size_t off = 0;
	unsigned i = 0;

	r->stats.frames++;
	while (off < len) {
		struct nlmsghdr h;
		size_t left = len - off;
		i++;
		if (left < sizeof(h)) {
			frame_error(
				r, ops, ctx,
				"FPM frame: message %u: %zu bytes, too short for a netlink header",
				i, left);
			break;
		}
		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > left) {
			frame_error(r, ops, ctx,
				    "FPM frame: message %u (type %u): nlmsg_len %u out of bounds "
				    "(%zu bytes left); rest of the frame skipped",
				    i, h.nlmsg_type, h.nlmsg_len, left);
			break;
		}
		r->stats.messages++;
		struct msg m = { .r = r, .ops = ops, .ctx = ctx };
		const uint8_t *body = p + off + NLMSG_HDRLEN;
		size_t blen = h.nlmsg_len - NLMSG_HDRLEN;
		switch (h.nlmsg_type) {
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			route_msg(&m, h.nlmsg_type, body, blen);
			break;
		case RTM_NEWNEXTHOP:
		case RTM_DELNEXTHOP:
			nexthop_msg(&m, h.nlmsg_type, body, blen);
			break;
		default:
			r->stats.other[min_size(h.nlmsg_type, FPM_TYPE_SLOTS - 1)]++;
			break;
		}
		off += min_size(NLMSG_ALIGN(h.nlmsg_len), left);
	}
	if (ops->frame_end != NULL)
		ops->frame_end(ctx);
}

/* ---- the reader ---- */

void
fpm_reader_init(struct fpm_reader *r, uint32_t table)
{
	memset(&r->stats, 0, sizeof(r->stats));
	r->table = table != 0 ? table : RT_TABLE_MAIN;
	r->have = 0;
}

void
fpm_reader_reset(struct fpm_reader *r)
{
	r->have = 0;
}

int
fpm_frame(struct fpm_reader *r, const uint8_t *frame, size_t len, const struct fpm_ops *ops,
	  void *ctx)
{
	size_t flen;
	if (len < FPM_HDR_LEN) {
		frame_error(r, ops, ctx, "FPM header: %zu bytes, too short", len);
		return -EPROTO;
	}
	if (frame_header(r, frame, &flen, ops, ctx) < 0)
		return -EPROTO;
	if (flen != len) {
		frame_error(r, ops, ctx, "FPM header: length %zu, but the frame is %zu bytes", flen,
			    len);
		return -EPROTO;
	}
	frame_body(r, frame + FPM_HDR_LEN, flen - FPM_HDR_LEN, ops, ctx);
	return 0;
}

int
fpm_feed(struct fpm_reader *r, const uint8_t *buf, size_t n, const struct fpm_ops *ops, void *ctx)
{
	size_t flen, take;

	r->stats.bytes += n;
	while (n > 0) {
		if (r->have == 0 && n >= FPM_HDR_LEN) {
			/* a frame starts here: decode it in place if it is all here */
			if (frame_header(r, buf, &flen, ops, ctx) < 0)
				return -EPROTO;
			if (flen > n) { /* keep its start for the next call */
				memcpy(r->buf, buf, n);
				r->have = (uint32_t)n;
				return 0;
			}
			frame_body(r, buf + FPM_HDR_LEN, flen - FPM_HDR_LEN, ops, ctx);
			buf += flen;
			n -= flen;
			continue;
		}
		/* complete the partial frame in r->buf: its header, then up to its length */
		if (r->have < FPM_HDR_LEN) {
			take = min_size(FPM_HDR_LEN - r->have, n);
			memcpy(r->buf + r->have, buf, take);
			r->have += (uint32_t)take;
			buf += take;
			n -= take;
			if (r->have < FPM_HDR_LEN)
				return 0;
			if (frame_header(r, r->buf, &flen, ops, ctx) < 0) {
				r->have = 0;
				return -EPROTO;
			}
		}
		flen = (size_t)r->buf[2] << 8 | r->buf[3];
		take = min_size(flen - r->have, n);
		memcpy(r->buf + r->have, buf, take);
		r->have += (uint32_t)take;
		buf += take;
		n -= take;
		if (r->have == flen) {
			r->have = 0;
			frame_body(r, r->buf + FPM_HDR_LEN, flen - FPM_HDR_LEN, ops, ctx);
		}
	}
	return 0;
}
