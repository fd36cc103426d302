/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM stream decoder (control/fpm.c) on frames built byte by byte here, laid out as FRR
 * 8.4's zebra (dplane_fpm_nl, rt_netlink.c) writes them: RTA_DST and RTA_PRIORITY 20 in every
 * route, a delete that carries no type and no next hop, an update as RTM_DELROUTE +
 * RTM_NEWROUTE in one frame, groups of AF_UNSPEC.
 *
 * Every event is checked against the promises of fpm.h (fpm_check.h) and written as one line
 * of text into a log, so that a test states what it expects as text and two ways of feeding
 * the same stream compare as strings.
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

#include <linux/netlink.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include "npr/addr.h"
#include "npr/util.h"
#include "fpm.h"
#include "fpm_check.h"

/* ---- frame builder: nothing of the decoder is used to build ---- */

struct fb {
	uint8_t b[1 << 17];
	size_t len;
	size_t frame, msg; /* where the open frame and message start */
};

static void
put(struct fb *f, const void *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
pad4(struct fb *f)
{
	while (f->len % 4 != 0)
		f->b[f->len++] = 0;
}

static void
frame_begin(struct fb *f)
{
	f->frame = f->len;
	put(f, "\0\0\0\0", 4);
}

/* version 1, type 1 (netlink), length big-endian including the header */
static void
frame_end(struct fb *f)
{
	size_t n = f->len - f->frame;
	assert_true(n <= 65535);
	f->b[f->frame] = 1;
	f->b[f->frame + 1] = 1;
	f->b[f->frame + 2] = (uint8_t)(n >> 8);
	f->b[f->frame + 3] = (uint8_t)n;
}

static void
msg_begin(struct fb *f, uint16_t type)
{
	struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE };
	if (type == RTM_NEWROUTE || type == RTM_NEWNEXTHOP)
		h.nlmsg_flags |= NLM_F_REPLACE;
	f->msg = f->len;
	put(f, &h, sizeof(h));
}

static void
msg_end(struct fb *f)
{
	pad4(f);
	uint32_t n = (uint32_t)(f->len - f->msg);
	memcpy(f->b + f->msg, &n, sizeof(n));
}

static void
attr(struct fb *f, uint16_t type, const void *p, size_t n)
{
	uint16_t len = (uint16_t)(4 + n);
	put(f, &len, 2);
	put(f, &type, 2);
	put(f, p != NULL ? p : "", n);
	pad4(f);
}

static void
attr32(struct fb *f, uint16_t type, uint32_t v)
{
	attr(f, type, &v, 4);
}

/* A nest or an rtnexthop: remember where it starts, patch its 16-bit length at the end. */
static size_t
nest_begin(struct fb *f, uint16_t type)
{
	size_t at = f->len;
	attr(f, type, NULL, 0);
	return at;
}

static size_t
rtnh_begin(struct fb *f, uint8_t flags, uint8_t hops, int ifindex)
{
	struct rtnexthop h = { .rtnh_flags = flags, .rtnh_hops = hops, .rtnh_ifindex = ifindex };
	size_t at = f->len;
	put(f, &h, sizeof(h));
	return at;
}

static void
len_end(struct fb *f, size_t at)
{
	uint16_t len = (uint16_t)(f->len - at);
	memcpy(f->b + at, &len, 2);
}

static void
ip(int af, const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(af, s, out), 1);
}

static void
gw(struct fb *f, int af, const char *s)
{
	uint8_t a[16];
	ip(af, s, a);
	attr(f, RTA_GATEWAY, a, af == AF_INET ? 4 : 16);
}

/* struct rtvia: a 16-bit family, then the address */
static void
via6(struct fb *f, const char *s)
{
	uint8_t v[18];
	uint16_t af = AF_INET6;
	memcpy(v, &af, 2);
	ip(AF_INET6, s, v + 2);
	attr(f, RTA_VIA, v, sizeof(v));
}

/* A route message as zebra starts it: rtmsg, RTA_DST, RTA_PRIORITY 20. Add next hops, then
 * msg_end. table 0: RTA_TABLE is not sent (rtm_table says it). */
static void
route_begin(struct fb *f, uint16_t type, int af, const char *dst, uint8_t plen, uint8_t rtype,
	    uint8_t table)
{
	struct rtmsg r = {
		.rtm_family = (uint8_t)af,
		.rtm_dst_len = plen,
		.rtm_table = table,
		.rtm_protocol = type == RTM_DELROUTE ? RTPROT_STATIC : 186 /* RTPROT_BGP */,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = rtype,
	};
	uint8_t a[16];
	msg_begin(f, type);
	put(f, &r, sizeof(r));
	ip(af, dst, a);
	attr(f, RTA_DST, a, af == AF_INET ? 4 : 16);
	attr32(f, RTA_PRIORITY, 20);
}

static void
nh_begin(struct fb *f, uint16_t type, uint8_t family, uint32_t id)
{
	struct nhmsg n = { .nh_family = family, .nh_protocol = type == RTM_DELNEXTHOP ? 0 : 11 };
	msg_begin(f, type);
	put(f, &n, sizeof(n));
	attr32(f, NHA_ID, id);
}

/* ---- recorder: every event checked, and written as a line ---- */

struct rec {
	char log[1 << 16];
	size_t len;
	bool quiet; /* no text (the random test) */
	unsigned routes, nexthops, ends, errors, skips;
	unsigned multipath, groups; /* routes with several next hops, groups */
	const char *broken;	    /* the first broken promise */
};

__attribute__((format(printf, 2, 3))) static void
logf_(struct rec *rc, const char *fmt, ...)
{
	if (rc->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(rc->log + rc->len, sizeof(rc->log) - rc->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(rc->log) - rc->len);
	rc->len += (size_t)n;
}

static void
broke(struct rec *rc, const char *why)
{
	if (why != NULL && rc->broken == NULL)
		rc->broken = why;
}

static void
log_nh(struct rec *rc, const struct fpm_nh *nh)
{
	char s[NPR_ADDR_STRLEN];
	logf_(rc, " [%s if %u w %u%s]",
	      nh->family != 0 ? npr_format_addr(nh->family, nh->gw, s, sizeof(s)) : "-",
	      nh->ifindex, nh->weight, nh->onlink ? " onlink" : "");
}

static void
on_route(void *ctx, const struct fpm_route *r)
{
	struct rec *rc = ctx;
	char s[NPR_PREFIX_STRLEN];
	rc->routes++;
	rc->multipath += r->n_nh > 1;
	broke(rc, fpm_check_route(r));
	logf_(rc, "route %s %s kind %u proto %u metric %u", r->del ? "del" : "new",
	      npr_format_prefix(r->family, r->prefix, r->plen, s, sizeof(s)), r->kind, r->protocol,
	      r->metric);
	if (r->nh_id != 0)
		logf_(rc, " nhid %u", r->nh_id);
	for (unsigned i = 0; i < r->n_nh; i++)
		log_nh(rc, &r->nh[i]);
	logf_(rc, "\n");
}

static void
on_nexthop(void *ctx, const struct fpm_nexthop *n)
{
	struct rec *rc = ctx;
	rc->nexthops++;
	rc->groups += n->n_grp != 0;
	broke(rc, fpm_check_nexthop(n));
	if (n->del) {
		logf_(rc, "nh del %u\n", n->id);
		return;
	}
	logf_(rc, "nh new %u family %u proto %u", n->id, n->family, n->protocol);
	if (n->blackhole)
		logf_(rc, " blackhole");
	else if (n->n_grp != 0) {
		logf_(rc, " group");
		for (unsigned i = 0; i < n->n_grp; i++)
			logf_(rc, " %u/%u", n->grp[i].id, n->grp[i].weight);
	} else
		log_nh(rc, &n->nh);
	logf_(rc, "\n");
}

static void
on_frame_end(void *ctx)
{
	struct rec *rc = ctx;
	rc->ends++;
	logf_(rc, "end\n");
}

static void
on_skip(void *ctx, enum fpm_skip why, const char *what)
{
	struct rec *rc = ctx;
	rc->skips++;
	broke(rc, fpm_check_text(what));
	logf_(rc, "skip %s: %s\n", fpm_skip_name(why), what);
}

static void
on_error(void *ctx, const char *what)
{
	struct rec *rc = ctx;
	rc->errors++;
	broke(rc, fpm_check_text(what));
	logf_(rc, "error: %s\n", what);
}

static const struct fpm_ops ops = {
	.route = on_route,
	.nexthop = on_nexthop,
	.frame_end = on_frame_end,
	.skip = on_skip,
	.error = on_error,
};

static struct fb fb;
static struct fpm_reader reader, reader2;
static struct rec rec, rec2;

static void
rec_reset(struct rec *rc)
{
	memset(rc, 0, sizeof(*rc));
}

/* The counters must agree with the callbacks. */
static void
check_stats(const struct fpm_reader *r, const struct rec *rc)
{
	assert_null(rc->broken);
	assert_int_equal(r->stats.routes, rc->routes);
	assert_int_equal(r->stats.nexthops, rc->nexthops);
	assert_int_equal(r->stats.frames, rc->ends);
	assert_int_equal(r->stats.errors, rc->errors);
}

/* Feed the whole builder to a fresh reader of the main table; returns the log. */
static const char *
decode(void)
{
	fpm_reader_init(&reader, 0);
	rec_reset(&rec);
	assert_int_equal(fpm_feed(&reader, fb.b, fb.len, &ops, &rec), 0);
	check_stats(&reader, &rec);
	return rec.log;
}

static int
setup(void **state)
{
	(void)state;
	fb.len = 0;
	return 0;
}

/* ---- routes ---- */

static void
test_route4_gateway_oif(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET, "192.0.2.1");
	attr32(&fb, RTA_OIF, 3);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(), "route new 10.1.0.0/16 kind 1 proto 186 metric 20 "
				      "[192.0.2.1 if 3 w 1]\nend\n");
	assert_int_equal(reader.stats.frames, 1);
	assert_int_equal(reader.stats.messages, 1);
	assert_int_equal(reader.stats.bytes, fb.len);
}

static void
test_route6(void **state)
{
	(void)state;
	/* a gateway, a link-local gateway, an interface route, the default route */
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8:1::", 48, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET6, "2001:db8::1");
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8:2::", 64, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET6, "fe80::1");
	attr32(&fb, RTA_OIF, 4);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8:3::", 64, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 5);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "::", 0, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET6, "fe80::2");
	attr32(&fb, RTA_OIF, 4);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(
		decode(),
		"route new 2001:db8:1::/48 kind 1 proto 186 metric 20 "
		"[2001:db8::1 if 2 w 1]\nend\n"
		"route new 2001:db8:2::/64 kind 1 proto 186 metric 20 [fe80::1 if 4 w 1]\n"
		"end\n"
		"route new 2001:db8:3::/64 kind 1 proto 186 metric 20 [- if 5 w 1]\nend\n"
		"route new ::/0 kind 1 proto 186 metric 20 [fe80::2 if 4 w 1]\nend\n");
}

/* RTA_MULTIPATH as zebra writes ECMP without next-hop groups: rtnh_hops = weight - 1. */
static void
test_multipath(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "198.51.100.0", 24, RTN_UNICAST, RT_TABLE_MAIN);
	size_t mp = nest_begin(&fb, RTA_MULTIPATH);
	size_t h = rtnh_begin(&fb, 0, 0, 2);
	gw(&fb, AF_INET, "192.0.2.1");
	len_end(&fb, h);
	h = rtnh_begin(&fb, 0, 4, 3);
	gw(&fb, AF_INET, "192.0.2.2");
	attr32(&fb, RTA_FLOW, 7); /* tag as realm: not read */
	len_end(&fb, h);
	h = rtnh_begin(&fb, RTNH_F_ONLINK, 255, 4);
	gw(&fb, AF_INET, "203.0.113.9");
	len_end(&fb, h);
	len_end(&fb, mp);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(), "route new 198.51.100.0/24 kind 1 proto 186 metric 20 "
				      "[192.0.2.1 if 2 w 1] [192.0.2.2 if 3 w 5] "
				      "[203.0.113.9 if 4 w 256 onlink]\nend\n");
}

static void
test_route_special_kinds(void **state)
{
	(void)state;
	static const uint8_t types[] = { RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT };
	frame_begin(&fb);
	for (unsigned i = 0; i < 3; i++) {
		char dst[16];
		snprintf(dst, sizeof(dst), "10.%u.0.0", i);
		route_begin(&fb, RTM_NEWROUTE, AF_INET, dst, 16, types[i], RT_TABLE_MAIN);
		msg_end(&fb);
	}
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8::", 32, RTN_BLACKHOLE, RT_TABLE_MAIN);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(), "route new 10.0.0.0/16 kind 2 proto 186 metric 20\n"
				      "route new 10.1.0.0/16 kind 3 proto 186 metric 20\n"
				      "route new 10.2.0.0/16 kind 4 proto 186 metric 20\n"
				      "route new 2001:db8::/32 kind 2 proto 186 metric 20\n"
				      "end\n");
}

/* With "fpm use-next-hop-groups" (zebra's default) a route names a next-hop object. */
static void
test_route_nh_id(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.9.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_NH_ID, 42);
	uint8_t src[4];
	ip(AF_INET, "192.0.2.7", src);
	attr(&fb, RTA_PREFSRC, src, 4);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(),
			    "route new 10.9.0.0/16 kind 1 proto 186 metric 20 nhid 42\nend\n");
}

/* RFC 5549 as the kernel takes it: an IPv4 route through an IPv6 gateway. */
static void
test_route_via(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.5.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	via6(&fb, "fe80::5");
	attr32(&fb, RTA_OIF, 6);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.6.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	size_t mp = nest_begin(&fb, RTA_MULTIPATH);
	size_t h = rtnh_begin(&fb, 0, 0, 6);
	via6(&fb, "fe80::5");
	len_end(&fb, h);
	h = rtnh_begin(&fb, 0, 1, 7);
	via6(&fb, "2001:db8::7");
	len_end(&fb, h);
	len_end(&fb, mp);
	msg_end(&fb);
	/* and as zebra 8.4 writes it: 169.254.0.1 on the interface, onlink */
	struct rtmsg r;
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.7.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	memcpy(&r, fb.b + fb.msg + NLMSG_HDRLEN, sizeof(r));
	r.rtm_flags |= RTNH_F_ONLINK;
	memcpy(fb.b + fb.msg + NLMSG_HDRLEN, &r, sizeof(r));
	gw(&fb, AF_INET, "169.254.0.1");
	attr32(&fb, RTA_OIF, 6);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(),
			    "route new 10.5.0.0/16 kind 1 proto 186 metric 20 [fe80::5 if 6 w 1]\n"
			    "route new 10.6.0.0/16 kind 1 proto 186 metric 20 [fe80::5 if 6 w 1] "
			    "[2001:db8::7 if 7 w 2]\n"
			    "route new 10.7.0.0/16 kind 1 proto 186 metric 20 "
			    "[169.254.0.1 if 6 w 1 onlink]\nend\n");
}

/* zebra's update: RTM_DELROUTE (no type, no next hop, the old protocol) then RTM_NEWROUTE,
 * in one frame; frame_end once, after both. */
static void
test_update_frame(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_DELROUTE, AF_INET, "10.8.0.0", 16, RTN_UNSPEC, RT_TABLE_MAIN);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.8.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET, "192.0.2.8");
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_DELROUTE, AF_INET6, "2001:db8:8::", 48, RTN_UNSPEC, RT_TABLE_MAIN);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(), "route del 10.8.0.0/16 kind 0 proto 4 metric 20\n"
				      "route new 10.8.0.0/16 kind 1 proto 186 metric 20 "
				      "[192.0.2.8 if 2 w 1]\nend\n"
				      "route del 2001:db8:8::/48 kind 0 proto 4 metric 20\nend\n");
	assert_int_equal(reader.stats.messages, 3);
}

/* ---- next-hop objects ---- */

static void
test_nexthops(void **state)
{
	(void)state;
	uint8_t a[16];
	frame_begin(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 1);
	ip(AF_INET, "192.0.2.1", a);
	attr(&fb, NHA_GATEWAY, a, 4);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET6, 2);
	ip(AF_INET6, "fe80::2", a);
	attr(&fb, NHA_GATEWAY, a, 16);
	attr32(&fb, NHA_OIF, 3);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb); /* an interface next hop */
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 3);
	attr32(&fb, NHA_OIF, 4);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 4);
	attr(&fb, NHA_BLACKHOLE, NULL, 0);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb); /* a group: weights are sent minus one */
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_UNSPEC, 10);
	struct nexthop_grp g[3] = { { .id = 1, .weight = 0 },
				    { .id = 2, .weight = 1 },
				    { .id = 3, .weight = 255 } };
	attr(&fb, NHA_GROUP, g, sizeof(g));
	uint16_t gt = NEXTHOP_GRP_TYPE_MPATH;
	attr(&fb, NHA_GROUP_TYPE, &gt, 2);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	nh_begin(&fb, RTM_DELNEXTHOP, AF_UNSPEC, 10);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb); /* a gateway with nh_family AF_UNSPEC, as zebra sends some */
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_UNSPEC, 11);
	ip(AF_INET, "192.0.2.9", a);
	attr(&fb, NHA_GATEWAY, a, 4);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(), "nh new 1 family 4 proto 11 [192.0.2.1 if 2 w 1]\nend\n"
				      "nh new 2 family 6 proto 11 [fe80::2 if 3 w 1]\nend\n"
				      "nh new 3 family 4 proto 11 [- if 4 w 1]\nend\n"
				      "nh new 4 family 4 proto 11 blackhole\nend\n"
				      "nh new 10 family 0 proto 11 group 1/1 2/2 3/256\nend\n"
				      "nh del 10\nend\n"
				      "nh new 11 family 4 proto 11 [192.0.2.9 if 2 w 1]\nend\n");
}

static void
test_nexthop_errors(void **state)
{
	(void)state;
	uint8_t a[16] = { 0 };
	frame_begin(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 1); /* a 16-byte gateway in an AF_INET one */
	ip(AF_INET6, "2001:db8::1", a);
	attr(&fb, NHA_GATEWAY, a, 16);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET6, 2); /* link-local without interface */
	ip(AF_INET6, "fe80::1", a);
	attr(&fb, NHA_GATEWAY, a, 16);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_UNSPEC, 3);
	struct nexthop_grp g[2] = { { .id = 1 }, { .id = 1, .weight = 3 } };
	attr(&fb, NHA_GROUP, g, sizeof(g));
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_UNSPEC, 4);
	struct nexthop_grp big[NPR_GROUP_MAX_MEMBERS + 1];
	memset(big, 0, sizeof(big));
	for (unsigned i = 0; i <= NPR_GROUP_MAX_MEMBERS; i++)
		big[i].id = 100 + i;
	attr(&fb, NHA_GROUP, big, sizeof(big));
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 5); /* nothing to forward by */
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 0); /* id 0 */
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 6);
	attr(&fb, NHA_BLACKHOLE, NULL, 0);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	/* unsupported: resilient group, FDB next hop (EVPN), encapsulation */
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_UNSPEC, 7);
	attr(&fb, NHA_GROUP, g, sizeof(g[0]));
	uint16_t gt = NEXTHOP_GRP_TYPE_RES;
	attr(&fb, NHA_GROUP_TYPE, &gt, 2);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 8);
	ip(AF_INET, "192.0.2.1", a);
	attr(&fb, NHA_GATEWAY, a, 4);
	attr(&fb, NHA_FDB, NULL, 0);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 9);
	attr32(&fb, NHA_OIF, 2);
	uint16_t et = 1; /* LWTUNNEL_ENCAP_MPLS */
	attr(&fb, NHA_ENCAP_TYPE, &et, 2);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, 28 /* AF_MPLS */, 11);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 12); /* and a good one after all that */
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(
		decode(),
		"error: RTM_NEWNEXTHOP id 1: NHA_GATEWAY is 16 bytes, family 2 wants 4\n"
		"error: RTM_NEWNEXTHOP id 2: gateway fe80::1 is link-local but has no interface\n"
		"error: RTM_NEWNEXTHOP id 3: NHA_GROUP: id 1 twice\n"
		"error: RTM_NEWNEXTHOP id 4: NHA_GROUP has 65 members, at most 64\n"
		"error: RTM_NEWNEXTHOP id 5: none of NHA_GATEWAY, NHA_OIF, NHA_BLACKHOLE, "
		"NHA_GROUP\n"
		"error: RTM_NEWNEXTHOP id 0: NHA_ID is 0\n"
		"error: RTM_NEWNEXTHOP id 6: NHA_BLACKHOLE with NHA_GATEWAY or NHA_OIF\n"
		"skip unsupported: RTM_NEWNEXTHOP id 7: unsupported (group type 1)\n"
		"skip unsupported: RTM_NEWNEXTHOP id 8: unsupported (NHA_FDB)\n"
		"skip unsupported: RTM_NEWNEXTHOP id 9: unsupported (NHA_ENCAP)\n"
		"skip family: RTM_NEWNEXTHOP id 11: skipped (family 28)\n"
		"nh new 12 family 4 proto 11 [- if 2 w 1]\nend\n");
	assert_int_equal(reader.stats.skipped[FPM_SKIP_UNSUPPORTED], 3);
	assert_int_equal(reader.stats.skipped[FPM_SKIP_FAMILY], 1);
	assert_int_equal(reader.stats.messages, 12);
}

/* ---- what is skipped ---- */

static void
test_skipped(void **state)
{
	(void)state;
	frame_begin(&fb);
	/* a VRF's table, by rtm_table and by RTA_TABLE (ids >= 256: rtm_table is 0) */
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, RTN_UNICAST, 10);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, RTN_UNICAST, RT_TABLE_UNSPEC);
	attr32(&fb, RTA_TABLE, 1000);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "192.0.2.1", 32, RTN_LOCAL, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "ff00::", 8, RTN_MULTICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	/* a route with an MPLS label (encapsulation), a source-specific route */
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET, "192.0.2.1");
	attr32(&fb, RTA_OIF, 2);
	uint16_t et = 1;
	attr(&fb, RTA_ENCAP_TYPE, &et, 2);
	size_t n = nest_begin(&fb, RTA_ENCAP);
	attr32(&fb, 1 /* MPLS_IPTUNNEL_DST */, htonl(100 << 12 | 1 << 8));
	len_end(&fb, n);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.2.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	size_t mp = nest_begin(&fb, RTA_MULTIPATH);
	size_t h = rtnh_begin(&fb, 0, 0, 2);
	gw(&fb, AF_INET, "192.0.2.1");
	attr(&fb, RTA_ENCAP_TYPE, &et, 2);
	len_end(&fb, h);
	len_end(&fb, mp);
	msg_end(&fb);
	msg_begin(&fb, RTM_NEWROUTE);
	struct rtmsg r = { .rtm_family = AF_INET6,
			   .rtm_dst_len = 64,
			   .rtm_src_len = 48,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_type = RTN_UNICAST };
	put(&fb, &r, sizeof(r));
	uint8_t a[16];
	ip(AF_INET6, "2001:db8:1::", a);
	attr(&fb, RTA_DST, a, 16);
	ip(AF_INET6, "2001:db8:2::", a);
	attr(&fb, RTA_SRC, a, 16);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	/* an MPLS label route (zebra's LSPs) */
	msg_begin(&fb, RTM_NEWROUTE);
	struct rtmsg mr = { .rtm_family = 28,
			    .rtm_dst_len = 20,
			    .rtm_table = RT_TABLE_MAIN,
			    .rtm_type = RTN_UNICAST };
	put(&fb, &mr, sizeof(mr));
	attr32(&fb, RTA_DST, htonl(16 << 12 | 1 << 8));
	msg_end(&fb);
	/* other message types: an EVPN MAC (RTM_NEWNEIGH), a link, NLMSG_DONE, NLMSG_NOOP */
	msg_begin(&fb, RTM_NEWNEIGH);
	put(&fb, "\x07\0\0\0\x05\0\0\0\x02\0\x02\0", 12); /* ndmsg, AF_BRIDGE */
	msg_end(&fb);
	msg_begin(&fb, RTM_NEWLINK);
	msg_end(&fb);
	msg_begin(&fb, NLMSG_DONE);
	msg_end(&fb);
	msg_begin(&fb, NLMSG_NOOP);
	msg_end(&fb);
	msg_begin(&fb, 0xffff);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(
		decode(),
		"skip table: RTM_NEWROUTE 10.0.0.0/8: ignored (table 10)\n"
		"skip table: RTM_NEWROUTE 10.0.0.0/8: ignored (table 1000)\n"
		"skip route type: RTM_NEWROUTE 192.0.2.1/32: ignored (type local)\n"
		"skip route type: RTM_NEWROUTE ff00::/8: ignored (type multicast)\n"
		"skip unsupported: RTM_NEWROUTE 10.1.0.0/16: unsupported (RTA_ENCAP)\n"
		"skip unsupported: RTM_NEWROUTE 10.2.0.0/16: unsupported (next hop 1: RTA_ENCAP)\n"
		"skip unsupported: RTM_NEWROUTE 2001:db8:1::/64: unsupported (source-specific, "
		"src_len 48)\n"
		"skip family: RTM_NEWROUTE: skipped (family 28)\n"
		"end\n");
	assert_int_equal(reader.stats.skipped[FPM_SKIP_TABLE], 2);
	assert_int_equal(reader.stats.skipped[FPM_SKIP_ROUTE_TYPE], 2);
	assert_int_equal(reader.stats.skipped[FPM_SKIP_UNSUPPORTED], 3);
	assert_int_equal(reader.stats.skipped[FPM_SKIP_FAMILY], 1);
	assert_int_equal(reader.stats.other[RTM_NEWNEIGH], 1);
	assert_int_equal(reader.stats.other[RTM_NEWLINK], 1);
	assert_int_equal(reader.stats.other[NLMSG_DONE], 1);
	assert_int_equal(reader.stats.other[NLMSG_NOOP], 1);
	assert_int_equal(reader.stats.other[FPM_TYPE_SLOTS - 1], 1);
	assert_int_equal(reader.stats.messages, 13);
	assert_int_equal(reader.stats.errors, 0);
	assert_string_equal(fpm_skip_name(FPM_SKIP_ROUTE_TYPE), "route type");
}

/* The accepted table is the reader's: a VRF's table through RTA_TABLE. */
static void
test_table_parameter(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, RTN_UNICAST, RT_TABLE_UNSPEC);
	attr32(&fb, RTA_TABLE, 1000);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	fpm_reader_init(&reader, 1000);
	rec_reset(&rec);
	assert_int_equal(fpm_feed(&reader, fb.b, fb.len, &ops, &rec), 0);
	check_stats(&reader, &rec);
	assert_string_equal(rec.log,
			    "route new 10.0.0.0/8 kind 1 proto 186 metric 20 [- if 2 w 1]\n"
			    "skip table: RTM_NEWROUTE 10.0.0.0/8: ignored (table 254)\n"
			    "end\n");
}

/* Unknown attributes are ignored, in routes, next hops and multipath members, and with the
 * nested / byte-order flag bits set. */
static void
test_unknown_attributes(void **state)
{
	(void)state;
	uint8_t junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.3.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr(&fb, 200, junk, sizeof(junk));
	attr(&fb, RTA_MAX + 1, junk, 3);
	attr(&fb, 0, NULL, 0);
	attr(&fb, RTA_METRICS | NLA_F_NESTED, junk, 4);
	size_t mp = nest_begin(&fb, RTA_MULTIPATH | NLA_F_NESTED);
	size_t h = rtnh_begin(&fb, 0, 0, 2);
	attr(&fb, 0x3fff, junk, 5);
	gw(&fb, AF_INET, "192.0.2.1");
	len_end(&fb, h);
	len_end(&fb, mp);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 5);
	attr(&fb, 99, junk, 1);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(decode(), "route new 10.3.0.0/16 kind 1 proto 186 metric 20 "
				      "[192.0.2.1 if 2 w 1]\n"
				      "nh new 5 family 4 proto 11 [- if 2 w 1]\nend\n");
}

/* ---- malformed messages ---- */

/* A message whose framing holds is skipped alone; the frame goes on. */
static void
test_malformed_routes(void **state)
{
	(void)state;
	uint8_t a[16] = { 0 };
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr(&fb, RTA_GATEWAY, "\xc0\0\x02", 3); /* a 3-byte gateway */
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.2.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2); /* host bits */
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 33, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8::", 129, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.2.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET6, "2001:db8::1"); /* wrong family without RTA_VIA */
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8::", 32, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET6, "fe80::1"); /* link-local without interface */
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.3.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	msg_end(&fb); /* no next hop at all */
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.4.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	gw(&fb, AF_INET, "224.0.0.1");
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.5.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_NH_ID, 4);
	gw(&fb, AF_INET, "192.0.2.1");
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.6.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr(&fb, RTA_OIF, a, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8::", 32, RTN_UNICAST, RT_TABLE_MAIN);
	size_t mp = nest_begin(&fb, RTA_MULTIPATH); /* 65 members */
	for (unsigned i = 0; i <= NPR_GROUP_MAX_MEMBERS; i++) {
		size_t h = rtnh_begin(&fb, 0, 0, (int)i + 1);
		len_end(&fb, h);
	}
	len_end(&fb, mp);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.7.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	mp = nest_begin(&fb, RTA_MULTIPATH); /* a member whose rtnh_len overruns */
	size_t h = rtnh_begin(&fb, 0, 0, 2);
	len_end(&fb, h);
	h = rtnh_begin(&fb, 0, 0, 3);
	gw(&fb, AF_INET, "192.0.2.1");
	len_end(&fb, h);
	fb.b[h] = 40;
	len_end(&fb, mp);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.8.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	mp = nest_begin(&fb, RTA_MULTIPATH); /* a member with neither gateway nor interface */
	h = rtnh_begin(&fb, 0, 0, 0);
	len_end(&fb, h);
	len_end(&fb, mp);
	msg_end(&fb);
	msg_begin(&fb, RTM_NEWROUTE); /* too short for struct rtmsg */
	put(&fb, "\x02\x10\0\0", 4);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.9.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 9); /* and a good one after all that */
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(
		decode(),
		"error: RTM_NEWROUTE 10.1.0.0/16: RTA_GATEWAY is 3 bytes, want 4\n"
		"error: RTM_NEWROUTE 10.1.2.0/16: host bits set beyond /16 (the prefix is "
		"10.1.0.0/16)\n"
		"error: RTM_NEWROUTE 10.1.0.0/33: dst_len 33 > 32\n"
		"error: RTM_NEWROUTE 2001:db8::/129: dst_len 129 > 128\n"
		"error: RTM_NEWROUTE 10.2.0.0/16: RTA_GATEWAY is 16 bytes, want 4 (an IPv6 gateway "
		"needs RTA_VIA)\n"
		"error: RTM_NEWROUTE 2001:db8::/32: gateway fe80::1 is link-local but has no "
		"interface\n"
		"error: RTM_NEWROUTE 10.3.0.0/16: unicast route without a next hop (RTA_GATEWAY, "
		"RTA_VIA, RTA_OIF, RTA_MULTIPATH or RTA_NH_ID)\n"
		"error: RTM_NEWROUTE 10.4.0.0/16: gateway 224.0.0.1 is multicast, broadcast or "
		"reserved\n"
		"error: RTM_NEWROUTE 10.5.0.0/16: RTA_NH_ID with a gateway\n"
		"error: RTM_NEWROUTE 10.6.0.0/16: RTA_OIF is 2 bytes, want 4\n"
		"error: RTM_NEWROUTE 2001:db8::/32: RTA_MULTIPATH has more than 64 next hops\n"
		"error: RTM_NEWROUTE 10.7.0.0/16: RTA_MULTIPATH next hop 2: rtnh_len 40 out of "
		"bounds (16 bytes left)\n"
		"error: RTM_NEWROUTE 10.8.0.0/16: next hop 1: neither a gateway nor an interface\n"
		"error: RTM_NEWROUTE: 4 bytes, too short for struct rtmsg\n"
		"route new 10.9.0.0/16 kind 1 proto 186 metric 20 [- if 9 w 1]\nend\n");
	assert_int_equal(reader.stats.errors, 14);
	assert_int_equal(reader.stats.messages, 15);
}

/* An attribute whose rta_len runs beyond the message: the message is dropped (the prefix
 * is named when it came first), the next message is read. */
static void
test_truncated_attribute(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	size_t at = fb.len;
	attr32(&fb, RTA_OIF, 2);
	uint16_t bad = 12;
	memcpy(fb.b + at, &bad, 2);
	msg_end(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 3);
	at = fb.len;
	attr32(&fb, NHA_OIF, 2);
	bad = 3; /* shorter than an attribute header */
	memcpy(fb.b + at, &bad, 2);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.2.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	put(&fb, "\x01\x00", 2); /* 2 stray bytes; nlmsg_len covers them */
	uint32_t n = (uint32_t)(fb.len - fb.msg);
	memcpy(fb.b + fb.msg, &n, 4);
	pad4(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.3.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	assert_string_equal(
		decode(),
		"error: RTM_NEWROUTE 10.1.0.0/16: attribute type 4: rta_len 12 out of bounds (8 "
		"bytes left)\n"
		"error: RTM_NEWNEXTHOP id 3: attribute type 5: rta_len 3 out of bounds (8 bytes "
		"left)\n"
		"error: RTM_NEWROUTE 10.2.0.0/16: 2 stray bytes after the last attribute\n"
		"route new 10.3.0.0/16 kind 1 proto 186 metric 20 [- if 2 w 1]\nend\n");
}

/* An nlmsg_len beyond the frame (or below a header): the rest of the frame is skipped with
 * one error; the next frame is read. */
static void
test_nlmsg_len_beyond_frame(void **state)
{
	(void)state;
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	size_t bad = fb.len;
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.2.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	uint32_t n = 400;
	memcpy(fb.b + bad, &n, 4);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.3.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.4.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	n = 8;
	memcpy(fb.b + fb.msg, &n, 4);
	frame_end(&fb);
	frame_begin(&fb); /* 10 bytes after the last message: not a header */
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.5.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	put(&fb, "0123456789", 10);
	frame_end(&fb);
	assert_string_equal(
		decode(),
		"route new 10.1.0.0/16 kind 1 proto 186 metric 20 [- if 2 w 1]\n"
		"error: FPM frame: message 2 (type 24): nlmsg_len 400 out of bounds (104 bytes "
		"left); rest of the frame skipped\nend\n"
		"error: FPM frame: message 1 (type 24): nlmsg_len 8 out of bounds (52 bytes left); "
		"rest of the frame skipped\nend\n"
		"route new 10.5.0.0/16 kind 1 proto 186 metric 20 [- if 2 w 1]\n"
		"error: FPM frame: message 2: 10 bytes, too short for a netlink header\nend\n");
}

/* A bad frame header breaks the stream: -EPROTO, one error, nothing after it read. */
static void
test_bad_frame_header(void **state)
{
	(void)state;
	static const struct {
		uint8_t h[4];
		const char *error;
	} cases[] = {
		{ { 2, 1, 0, 4 }, "error: FPM header: version 2, want 1\n" },
		{ { 0, 1, 0, 4 }, "error: FPM header: version 0, want 1\n" },
		{ { 1, 2, 0, 4 },
		  "error: FPM header: message type 2 (protobuf), want 1 (netlink)\n" },
		{ { 1, 0, 0, 4 }, "error: FPM header: message type 0, want 1 (netlink)\n" },
		{ { 1, 1, 0, 3 }, "error: FPM header: length 3 < 4\n" },
		{ { 1, 1, 0, 0 }, "error: FPM header: length 0 < 4\n" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* a good empty frame, the bad header, another good frame */
		uint8_t s[12] = { 1, 1, 0, 4 };
		memcpy(s + 4, cases[i].h, 4);
		memcpy(s + 8, "\x01\x01\x00\x04", 4);
		char want[128];
		snprintf(want, sizeof(want), "end\n%s", cases[i].error);
		/* whole, and byte by byte (the header gathered in the reader) */
		for (unsigned step = 1; step <= 12; step += 11) {
			fpm_reader_init(&reader, 0);
			rec_reset(&rec);
			int rc = 0;
			for (size_t off = 0; off < sizeof(s) && rc == 0; off += step)
				rc = fpm_feed(&reader, s + off, step, &ops, &rec);
			assert_int_equal(rc, -EPROTO);
			assert_string_equal(rec.log, want);
			assert_int_equal(reader.stats.frames, 1);
			assert_int_equal(reader.stats.errors, 1);
			/* the reader is ready for a new connection */
			assert_int_equal(fpm_feed(&reader, s + 8, 4, &ops, &rec), 0);
			assert_int_equal(reader.stats.frames, 2);
		}
	}
	/* fpm_frame: the header's length must be the frame's */
	uint8_t f[8] = { 1, 1, 0, 8 };
	fpm_reader_init(&reader, 0);
	rec_reset(&rec);
	assert_int_equal(fpm_frame(&reader, f, 4, &ops, &rec), -EPROTO);
	assert_int_equal(fpm_frame(&reader, f, 3, &ops, &rec), -EPROTO);
	f[3] = 4;
	assert_int_equal(fpm_frame(&reader, f, 4, &ops, &rec), 0);
	assert_string_equal(rec.log, "error: FPM header: length 8, but the frame is 4 bytes\n"
				     "error: FPM header: 3 bytes, too short\nend\n");
}

/* ---- the stream ---- */

/* Several frames of several kinds, for the stream tests. */
static void
build_stream(void)
{
	fb.len = 0;
	frame_begin(&fb);
	nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, 1);
	uint8_t a[16];
	ip(AF_INET, "192.0.2.1", a);
	attr(&fb, NHA_GATEWAY, a, 4);
	attr32(&fb, NHA_OIF, 2);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_DELROUTE, AF_INET, "10.8.0.0", 16, RTN_UNSPEC, RT_TABLE_MAIN);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.8.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr32(&fb, RTA_NH_ID, 1);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb); /* an empty frame */
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET6, "2001:db8::", 32, RTN_UNICAST, RT_TABLE_MAIN);
	size_t mp = nest_begin(&fb, RTA_MULTIPATH);
	for (unsigned i = 0; i < 3; i++) {
		char g[32];
		snprintf(g, sizeof(g), "fe80::%u", i + 1);
		size_t h = rtnh_begin(&fb, 0, (uint8_t)i, (int)i + 2);
		gw(&fb, AF_INET6, g);
		len_end(&fb, h);
	}
	len_end(&fb, mp);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.1.0.0", 16, RTN_UNICAST, RT_TABLE_MAIN);
	attr(&fb, RTA_GATEWAY, "\xc0\0\x02", 3);
	msg_end(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "10.0.0.0", 8, RTN_UNICAST, 10);
	attr32(&fb, RTA_OIF, 2);
	msg_end(&fb);
	msg_begin(&fb, RTM_NEWNEIGH);
	msg_end(&fb);
	frame_end(&fb);
	frame_begin(&fb);
	route_begin(&fb, RTM_NEWROUTE, AF_INET, "0.0.0.0", 0, RTN_BLACKHOLE, RT_TABLE_MAIN);
	msg_end(&fb);
	nh_begin(&fb, RTM_DELNEXTHOP, AF_UNSPEC, 1);
	msg_end(&fb);
	frame_end(&fb);
}

static const char stream_log[] =
	"nh new 1 family 4 proto 11 [192.0.2.1 if 2 w 1]\nend\n"
	"route del 10.8.0.0/16 kind 0 proto 4 metric 20\n"
	"route new 10.8.0.0/16 kind 1 proto 186 metric 20 nhid 1\nend\n"
	"end\n"
	"route new 2001:db8::/32 kind 1 proto 186 metric 20 [fe80::1 if 2 w 1] [fe80::2 if 3 w 2] "
	"[fe80::3 if 4 w 3]\n"
	"error: RTM_NEWROUTE 10.1.0.0/16: RTA_GATEWAY is 3 bytes, want 4\n"
	"skip table: RTM_NEWROUTE 10.0.0.0/8: ignored (table 10)\n"
	"end\n"
	"route new 0.0.0.0/0 kind 2 proto 186 metric 20\n"
	"nh del 1\nend\n";

/* Several frames in one feed, then the same stream from an odd address. */
static void
test_several_frames(void **state)
{
	(void)state;
	build_stream();
	assert_string_equal(decode(), stream_log);
	assert_int_equal(reader.stats.frames, 5);
	assert_int_equal(reader.stats.messages, 9);

	static uint8_t odd[sizeof(fb.b) + 1];
	memcpy(odd + 1, fb.b, fb.len);
	fpm_reader_init(&reader, 0);
	rec_reset(&rec);
	assert_int_equal(fpm_feed(&reader, odd + 1, fb.len, &ops, &rec), 0);
	assert_string_equal(rec.log, stream_log);
}

/* The stream split at every byte into two reads, and fed byte by byte: the same events, the
 * same counters. */
static void
test_split_everywhere(void **state)
{
	(void)state;
	build_stream();
	assert_string_equal(decode(), stream_log);
	struct fpm_stats whole = reader.stats;

	for (size_t k = 0; k <= fb.len; k++) {
		fpm_reader_init(&reader2, 0);
		rec_reset(&rec2);
		assert_int_equal(fpm_feed(&reader2, fb.b, k, &ops, &rec2), 0);
		assert_int_equal(fpm_feed(&reader2, fb.b + k, fb.len - k, &ops, &rec2), 0);
		check_stats(&reader2, &rec2);
		assert_string_equal(rec2.log, stream_log);
		assert_memory_equal(&reader2.stats, &whole, sizeof(whole));
	}
	/* byte by byte, each byte from its own little buffer (no reading past what was given) */
	fpm_reader_init(&reader2, 0);
	rec_reset(&rec2);
	for (size_t i = 0; i < fb.len; i++) {
		uint8_t *one = malloc(1);
		assert_non_null(one);
		*one = fb.b[i];
		assert_int_equal(fpm_feed(&reader2, one, 1, &ops, &rec2), 0);
		free(one);
	}
	assert_string_equal(rec2.log, stream_log);
	assert_memory_equal(&reader2.stats, &whole, sizeof(whole));

	/* a reset drops a partial frame: the next connection starts clean */
	fpm_reader_init(&reader2, 0);
	rec_reset(&rec2);
	assert_int_equal(fpm_feed(&reader2, fb.b, 7, &ops, &rec2), 0);
	fpm_reader_reset(&reader2);
	assert_int_equal(fpm_feed(&reader2, fb.b, fb.len, &ops, &rec2), 0);
	assert_string_equal(rec2.log, stream_log);
}

/* A frame of the largest size, gathered across reads. */
static void
test_largest_frame(void **state)
{
	(void)state;
	frame_begin(&fb);
	unsigned n = 0;
	while (fb.len + 36 <= FPM_FRAME_MAX) { /* NEWNEXTHOP with NHA_OIF: 36 bytes */
		nh_begin(&fb, RTM_NEWNEXTHOP, AF_INET, ++n);
		attr32(&fb, NHA_OIF, 2);
		msg_end(&fb);
	}
	while (fb.len < FPM_FRAME_MAX) { /* NLMSG_NOOP of 16 bytes, then a last short one */
		msg_begin(&fb, NLMSG_NOOP);
		msg_end(&fb);
	}
	assert_true(fb.len >= FPM_FRAME_MAX);
	fb.len = FPM_FRAME_MAX;
	frame_end(&fb);
	fpm_reader_init(&reader, 0);
	rec_reset(&rec);
	rec.quiet = true;
	for (size_t off = 0; off < fb.len; off += 1000)
		assert_int_equal(fpm_feed(&reader, fb.b + off,
					  fb.len - off < 1000 ? fb.len - off : 1000, &ops, &rec),
				 0);
	check_stats(&reader, &rec);
	assert_int_equal(rec.nexthops, n);
	assert_int_equal(reader.stats.frames, 1);
	assert_int_equal(reader.stats.errors, 1); /* the cut NLMSG_NOOP */
}

/* ---- random frames ---- */

static uint64_t seed = 0x5eed1234abcdull;

static unsigned
rnd(unsigned n)
{
	return (unsigned)(npr_rand(&seed) % n);
}

/* An address of the family (AF_INET / AF_INET6) that is most often a good gateway. */
static void
random_addr(uint8_t *v, int af)
{
	memset(v, 0, 16);
	if (af == AF_INET)
		v[0] = rnd(8) ? 10 : (uint8_t)npr_rand(&seed), v[3] = (uint8_t)rnd(4);
	else if (rnd(2))
		v[0] = 0xfe, v[1] = 0x80, v[15] = (uint8_t)rnd(4);
	else
		v[0] = 0x20, v[1] = 0x01, v[15] = (uint8_t)(rnd(8) ? 1 + rnd(4) : 0);
}

/* A gateway for a route of family af: RTA_GATEWAY of its size, RTA_VIA, now and then wrong. */
static void
random_gateway(struct fb *f, int af)
{
	uint8_t v[20] = { 0 };
	int gaf = rnd(8) ? af : af == AF_INET ? AF_INET6 : AF_INET;
	if (rnd(4) != 0) {
		random_addr(v, gaf);
		attr(f, RTA_GATEWAY, v, gaf == AF_INET ? 4 : 16);
	} else {
		uint16_t vf = (uint16_t)(rnd(16) ? AF_INET6 : rnd(12));
		memcpy(v, &vf, 2);
		random_addr(v + 2, vf == AF_INET ? AF_INET : AF_INET6);
		attr(f, RTA_VIA, v, vf == AF_INET ? 6 : rnd(16) ? 18 : rnd(20));
	}
}

/* RTA_MULTIPATH of 0..4 members, most with a gateway and an interface. */
static void
random_multipath(struct fb *f, size_t end, int af)
{
	size_t mp = nest_begin(f, RTA_MULTIPATH);
	for (unsigned k = rnd(5); k > 0 && f->len + 40 < end; k--) {
		size_t h = rtnh_begin(f, (uint8_t)(rnd(2) ? RTNH_F_ONLINK : 0),
				      (uint8_t)npr_rand(&seed), (int)(rnd(8) ? 1 + rnd(4) : 0));
		if (rnd(4) != 0)
			random_gateway(f, af);
		len_end(f, h);
	}
	len_end(f, mp);
}

/* Attributes for a route of family af (0: a next-hop object): the usual ones with their
 * usual sizes most of the time, junk of any type now and then, a bad rta_len rarely. */
static void
random_attrs(struct fb *f, size_t end, int af)
{
	while (f->len + 24 < end && rnd(3) != 0) {
		uint16_t type = (uint16_t)(af != 0 ? rnd(32) : rnd(14));
		static const uint16_t sizes[] = { 0, 2, 3, 4, 4, 4, 8, 16, 16, 18, 6 };
		uint16_t n = sizes[rnd(sizeof(sizes) / sizeof(sizes[0]))];
		uint8_t v[24];
		for (unsigned i = 0; i < sizeof(v); i++)
			v[i] = (uint8_t)npr_rand(&seed);
		if (af != 0 && (type == RTA_GATEWAY || type == RTA_VIA)) {
			random_gateway(f, af);
			continue;
		}
		if (af != 0 && type == RTA_MULTIPATH) {
			random_multipath(f, end, af);
			continue;
		}
		if (af == 0 && type == NHA_GROUP) {
			struct nexthop_grp g[3] = {
				{ .id = rnd(16) ? 1 + rnd(3) : 0, .weight = (uint8_t)rnd(256) },
				{ .id = 4 + rnd(3) },
				{ .id = 7 + rnd(4), .resvd1 = (uint8_t)(rnd(16) == 0) },
			};
			attr(f, type, g, sizeof(g[0]) * (1 + rnd(3)));
			continue;
		}
		if (af == 0 && type == NHA_GATEWAY && rnd(2)) {
			random_addr(v, rnd(2) ? AF_INET : AF_INET6);
			n = rnd(2) ? 4 : 16;
		}
		attr(f, type, v, n);
		if (rnd(40) == 0) /* a bad rta_len */
			memcpy(f->b + f->len - ((n + 3u) & ~3u) - 4,
			       &(uint16_t){ (uint16_t)rnd(64) }, 2);
	}
}

static void
random_frame(struct fb *f)
{
	size_t start = f->len;
	size_t max = 4 + rnd(rnd(10) == 0 ? 3000 : 300);
	frame_begin(f);
	if (rnd(4) == 0) { /* pure noise */
		while (f->len - start < max)
			f->b[f->len++] = (uint8_t)npr_rand(&seed);
	} else {
		while (f->len - start + 40 < max) {
			static const uint16_t types[] = { RTM_NEWROUTE, RTM_DELROUTE,
							  RTM_NEWNEXTHOP, RTM_DELNEXTHOP,
							  RTM_NEWNEIGH };
			uint16_t type = types[rnd(5)];
			bool route = type == RTM_NEWROUTE || type == RTM_DELROUTE;
			msg_begin(f, type);
			if (route) {
				struct rtmsg r = {
					.rtm_family = rnd(2) ? AF_INET : AF_INET6,
					.rtm_dst_len = (uint8_t)(rnd(8) == 0 ? rnd(256) : rnd(33)),
					.rtm_table = rnd(8) ? RT_TABLE_MAIN : (uint8_t)rnd(256),
					.rtm_type = (uint8_t)(rnd(2) ? RTN_UNICAST : rnd(13)),
					.rtm_src_len = (uint8_t)(rnd(16) == 0),
					.rtm_flags = rnd(2) ? RTNH_F_ONLINK : 0,
				};
				put(f, &r, sizeof(r));
				if (rnd(4) != 0) { /* a prefix that is most often right */
					uint8_t d[16] = { 0 };
					d[0] = r.rtm_dst_len >= 8 || rnd(4) == 0 ? 10 : 0;
					attr(f, RTA_DST, d, r.rtm_family == AF_INET ? 4 : 16);
				}
				if (rnd(4) == 0)
					random_multipath(f, start + max, r.rtm_family);
				else if (rnd(2) != 0)
					attr32(f, RTA_OIF, rnd(3));
				random_attrs(f, start + max, r.rtm_family);
			} else {
				struct nhmsg n = { .nh_family = (uint8_t)(rnd(3) ? rnd(11) : 0),
						   .nh_flags = rnd(2) ? RTNH_F_ONLINK : 0 };
				put(f, &n, sizeof(n));
				if (rnd(8))
					attr32(f, NHA_ID, rnd(6));
				random_attrs(f, start + max, 0);
			}
			msg_end(f);
			if (rnd(30) == 0) /* a bad nlmsg_len */
				memcpy(f->b + f->msg, &(uint32_t){ rnd(200) }, 4);
		}
	}
	frame_end(f);
}

/* 10,000 random frames with a valid header: no crash (the ASan build runs this too), no
 * event that breaks a promise of fpm.h, and some events indeed delivered. */
static void
test_random_frames(void **state)
{
	(void)state;
	fpm_reader_init(&reader, 0);
	rec_reset(&rec);
	rec.quiet = true;
	for (unsigned i = 0; i < 10000; i++) {
		fb.len = 0;
		random_frame(&fb);
		/* in one read, or in two */
		size_t k = rnd(2) ? fb.len : rnd((unsigned)fb.len + 1);
		assert_int_equal(fpm_feed(&reader, fb.b, k, &ops, &rec), 0);
		assert_int_equal(fpm_feed(&reader, fb.b + k, fb.len - k, &ops, &rec), 0);
		if (rec.broken != NULL)
			fail_msg("frame %u: %s", i, rec.broken);
		assert_int_equal(reader.stats.frames, i + 1);
	}
	check_stats(&reader, &rec);
	print_message("random frames: %u routes (%u multipath), %u next hops (%u groups), "
		      "%u skipped, %u errors\n",
		      rec.routes, rec.multipath, rec.nexthops, rec.groups, rec.skips, rec.errors);
	assert_true(rec.routes > 100 && rec.multipath > 10);
	assert_true(rec.nexthops > 100 && rec.groups > 10);
	assert_true(rec.errors > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_route4_gateway_oif, setup),
		cmocka_unit_test_setup(test_route6, setup),
		cmocka_unit_test_setup(test_multipath, setup),
		cmocka_unit_test_setup(test_route_special_kinds, setup),
		cmocka_unit_test_setup(test_route_nh_id, setup),
		cmocka_unit_test_setup(test_route_via, setup),
		cmocka_unit_test_setup(test_update_frame, setup),
		cmocka_unit_test_setup(test_nexthops, setup),
		cmocka_unit_test_setup(test_nexthop_errors, setup),
		cmocka_unit_test_setup(test_skipped, setup),
		cmocka_unit_test_setup(test_table_parameter, setup),
		cmocka_unit_test_setup(test_unknown_attributes, setup),
		cmocka_unit_test_setup(test_malformed_routes, setup),
		cmocka_unit_test_setup(test_truncated_attribute, setup),
		cmocka_unit_test_setup(test_nlmsg_len_beyond_frame, setup),
		cmocka_unit_test_setup(test_bad_frame_header, setup),
		cmocka_unit_test_setup(test_several_frames, setup),
		cmocka_unit_test_setup(test_split_everywhere, setup),
		cmocka_unit_test_setup(test_largest_frame, setup),
		cmocka_unit_test_setup(test_random_frames, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
