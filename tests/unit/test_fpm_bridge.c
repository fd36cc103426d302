/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's mirror (control/fpm_state.c) driven with decoded events (fpm.h) as FRR
 * zebra's stream gives them, and a sink that writes every data-plane message it is handed as
 * one line of text: a test states the messages it expects, in order, as text.
 *
 *   NH 1 fwd if 0 via 192.0.2.1 | NH 2 blackhole | GROUP 1 = 1:1 2:3 | NHDEL 1 | GROUPDEL 1
 *   ADD4 10.0.0.0/8>n1/186/20 10.1.0.0/16>g1/186/20 | DEL4 10.0.0.0/8 | SYNC_BEGIN | SYNC_END
 *
 * Interfaces: ifindex 10, 11, 12 are nprouter's interfaces 0, 1, 2; any other is unknown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "npr/addr.h"
#include "fpm.h"
#include "fpm_state.h"

/* ---- the sink ---- */

struct sink {
	char text[1 << 20];
	size_t len;
	unsigned n_msgs;
	unsigned ifid_calls;
	unsigned logs;
	char last_log[512];
	/* the last route message, as sent (for refusals) */
	_Alignas(8) uint8_t last_route[NPR_MSG_MAX];
};

static struct sink S;
static struct fpm_state *st;
static bool dpm_on; /* the random test's model of the data plane sees every message */
static void dpm_msg(const struct npr_msg_hdr *m);

static void
out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(S.text + S.len, sizeof(S.text) - S.len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(S.text) - S.len);
	S.len += (size_t)n;
}

static const char *
kind_name(unsigned k)
{
	return k == NPR_NH_FORWARD	 ? "fwd"
	       : k == NPR_NH_BLACKHOLE	 ? "blackhole"
	       : k == NPR_NH_UNREACHABLE ? "unreachable"
	       : k == NPR_NH_PROHIBIT	 ? "prohibit"
					 : "?";
}

static void
target_text(uint32_t t)
{
	if (t & NPR_TARGET_GROUP)
		out("g%u", t & NPR_TARGET_ID_MASK);
	else
		out("n%u", t);
}

static void
sink_msg(void *ctx, const struct npr_msg_hdr *m)
{
	(void)ctx;
	char a[NPR_PREFIX_STRLEN];
	S.n_msgs++;
	assert_true(m->len % 8 == 0 && m->len <= NPR_MSG_MAX);
	if (dpm_on)
		dpm_msg(m);
	if (S.len > 0)
		out(" | ");
	switch (m->type) {
	case NPR_MSG_NH_SET: {
		const struct npr_msg_nh_set *n = (const void *)m;
		assert_int_equal(m->len, sizeof(*n));
		out("NH %u %s", n->nh_id, kind_name(n->kind));
		if (n->kind == NPR_NH_FORWARD) {
			out(" if %u", n->ifid);
			if (n->family != 0)
				out(" via %s", npr_format_addr(n->family, n->gw, a, sizeof(a)));
		} else {
			assert_int_equal(n->family, 0);
			assert_int_equal(n->ifid, 0);
		}
		break;
	}
	case NPR_MSG_GROUP_SET: {
		const struct npr_msg_group_set *g = (const void *)m;
		assert_int_equal(m->len, (sizeof(*g) + g->n_members * 8 + 7) & ~7u);
		unsigned sum = 0;
		out("GROUP %u =", g->group_id);
		for (unsigned i = 0; i < g->n_members; i++) {
			out(" %u:%u", g->members[i].nh_id, g->members[i].weight);
			assert_true(g->members[i].weight >= 1 &&
				    g->members[i].weight <= NPR_GROUP_MAX_WEIGHT);
			sum += g->members[i].weight;
		}
		assert_true(sum <= NPR_GROUP_MAX_SLOTS);
		break;
	}
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL: {
		const struct npr_msg_id *d = (const void *)m;
		out("%s %u", m->type == NPR_MSG_NH_DEL ? "NHDEL" : "GROUPDEL", d->id);
		break;
	}
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_DEL: {
		const struct npr_msg_route4 *r = (const void *)m;
		bool del = m->type == NPR_MSG_ROUTE4_DEL;
		assert_true(r->count >= 1 && r->count <= NPR_ROUTE4_MAX);
		assert_int_equal(m->len, (sizeof(*r) + r->count * 12 + 7) & ~7u);
		memcpy(S.last_route, m, m->len);
		out("%s", del ? "DEL4" : "ADD4");
		for (unsigned i = 0; i < r->count && i < 8; i++) {
			const struct npr_route4 *e = &r->r[i];
			out(" %s", npr_format_prefix(NPR_AF_INET, (const uint8_t *)&e->prefix,
						     e->plen, a, sizeof(a)));
			assert_int_equal(e->origin, 0);
			if (del) {
				assert_int_equal(e->target, 0);
				continue;
			}
			out(">");
			target_text(e->target);
			out("/%u/%u", e->proto, e->distance);
		}
		if (r->count > 8)
			out(" ...%u", r->count);
		break;
	}
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_DEL: {
		const struct npr_msg_route6 *r = (const void *)m;
		bool del = m->type == NPR_MSG_ROUTE6_DEL;
		assert_true(r->count >= 1 && r->count <= NPR_ROUTE6_MAX);
		assert_int_equal(m->len, sizeof(*r) + r->count * 24);
		memcpy(S.last_route, m, m->len);
		out("%s", del ? "DEL6" : "ADD6");
		for (unsigned i = 0; i < r->count && i < 8; i++) {
			const struct npr_route6 *e = &r->r[i];
			out(" %s",
			    npr_format_prefix(NPR_AF_INET6, e->prefix, e->plen, a, sizeof(a)));
			if (del)
				continue;
			out(">");
			target_text(e->target);
			out("/%u/%u", e->proto, e->distance);
		}
		if (r->count > 8)
			out(" ...%u", r->count);
		break;
	}
	case NPR_MSG_SYNC_BEGIN:
		out("SYNC_BEGIN");
		break;
	case NPR_MSG_SYNC_END:
		out("SYNC_END");
		break;
	default:
		fail_msg("unexpected message type %u", m->type);
	}
}

static int
sink_ifid(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	S.ifid_calls++;
	return ifindex >= 10 && ifindex <= 12 ? (int)ifindex - 10 : -1;
}

static void
sink_log(void *ctx, const char *line)
{
	(void)ctx;
	S.logs++;
	snprintf(S.last_log, sizeof(S.last_log), "%s", line);
}

static const struct fpm_sink sink = {
	.ctx = NULL, .msg = sink_msg, .ifid = sink_ifid, .log = sink_log
};

/* What was sent since the last call, then forget it. */
static const char *
sent(void)
{
	static char copy[sizeof(S.text)];
	memcpy(copy, S.text, S.len + 1);
	S.len = 0;
	S.text[0] = '\0';
	return copy;
}

#define EXPECT(want) assert_string_equal(sent(), want)

static int
setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof(S));
	st = fpm_state_new(&sink, 0, 0);
	assert_non_null(st);
	assert_int_equal(fpm_state_attach(st, 100, 50, NULL, 0, NULL, 0), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fpm_state_free(st);
	st = NULL;
	return 0;
}

/* ---- events ---- */

static void
prefix(struct fpm_route *r, const char *p)
{
	int fam;
	assert_int_equal(npr_parse_prefix(p, &fam, r->prefix, &r->plen), 0);
	r->family = (uint8_t)fam;
}

static struct fpm_nh
gw(const char *addr, uint32_t ifindex, uint16_t weight)
{
	struct fpm_nh nh = { .ifindex = ifindex, .weight = weight };
	if (addr != NULL) {
		int fam;
		assert_int_equal(npr_parse_addr(addr, &fam, nh.gw), 0);
		nh.family = (uint8_t)fam;
	}
	return nh;
}

/* A route over a zebra next-hop object. */
static struct fpm_route
r_nhid(const char *p, uint8_t proto, uint32_t nh_id)
{
	struct fpm_route r;
	memset(&r, 0, sizeof(r));
	prefix(&r, p);
	r.kind = NPR_NH_FORWARD;
	r.protocol = proto;
	r.metric = 20;
	r.nh_id = nh_id;
	return r;
}

/* A route with its next hops inline (n of them). */
static struct fpm_route
r_inline(const char *p, uint8_t proto, unsigned n, const struct fpm_nh *nh)
{
	struct fpm_route r;
	memset(&r, 0, sizeof(r));
	prefix(&r, p);
	r.kind = NPR_NH_FORWARD;
	r.protocol = proto;
	r.metric = 20;
	r.n_nh = n;
	memcpy(r.nh, nh, n * sizeof(*nh));
	return r;
}

static struct fpm_route
r_del(const char *p)
{
	struct fpm_route r;
	memset(&r, 0, sizeof(r));
	prefix(&r, p);
	r.del = true;
	return r;
}

static void
frame_route(const struct fpm_route *r)
{
	fpm_state_route(st, r);
	fpm_state_frame_end(st);
}

static void
nh_single(uint32_t id, const char *addr, uint32_t ifindex)
{
	struct fpm_nexthop n;
	memset(&n, 0, sizeof(n));
	n.id = id;
	n.nh = gw(addr, ifindex, 1);
	n.family = n.nh.family != 0 ? n.nh.family : NPR_AF_INET;
	n.protocol = 11;
	fpm_state_nexthop(st, &n);
	fpm_state_frame_end(st);
}

/* members: pairs id, weight; n pairs */
static void
nh_group(uint32_t id, unsigned n, const uint32_t *pairs)
{
	struct fpm_nexthop g;
	memset(&g, 0, sizeof(g));
	g.id = id;
	g.n_grp = n;
	for (unsigned i = 0; i < n; i++) {
		g.grp[i].id = pairs[2 * i];
		g.grp[i].weight = (uint16_t)pairs[2 * i + 1];
	}
	fpm_state_nexthop(st, &g);
	fpm_state_frame_end(st);
}

static void
nh_del(uint32_t id)
{
	struct fpm_nexthop n;
	memset(&n, 0, sizeof(n));
	n.del = true;
	n.id = id;
	fpm_state_nexthop(st, &n);
	fpm_state_frame_end(st);
}

static const struct fpm_state_stats *
stats(void)
{
	return fpm_state_stats(st);
}

/* ---- tests ---- */

/* zebra's route update, RTM_DELROUTE + RTM_NEWROUTE in one frame: one ADD, never a DEL. */
static void
test_update_in_one_frame(void **state)
{
	(void)state;
	struct fpm_nh a = gw("192.0.2.1", 10, 1), b = gw("192.0.2.2", 10, 1);
	struct fpm_route r = r_inline("10.0.0.0/8", RTPROT_BGP, 1, &a);
	frame_route(&r);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.0.0.0/8>n1/186/20");

	struct fpm_route d = r_del("10.0.0.0/8"), n = r_inline("10.0.0.0/8", RTPROT_BGP, 1, &b);
	fpm_state_route(st, &d);
	fpm_state_route(st, &n);
	fpm_state_frame_end(st);
	fpm_state_flush(st);
	/* the new next hop first, the route replaced in place, the old next hop after it */
	EXPECT("NH 2 fwd if 0 via 192.0.2.2 | ADD4 10.0.0.0/8>n2/186/20 | NHDEL 1");

	/* the same update with nothing changed: nothing to send */
	fpm_state_route(st, &d);
	fpm_state_route(st, &n);
	fpm_state_frame_end(st);
	fpm_state_flush(st);
	EXPECT("");

	/* a delete, and a delete of something unknown */
	frame_route(&d);
	frame_route(&d);
	fpm_state_flush(st);
	EXPECT("DEL4 10.0.0.0/8 | NHDEL 2");
	assert_int_equal(stats()->routes[0], 0);
	assert_int_equal(stats()->objects, 0);
}

/* A group before its members; routes on it wait; members change in place. */
static void
test_group_before_members(void **state)
{
	(void)state;
	const uint32_t m[] = { 1, 1, 2, 3 };
	nh_group(100, 2, m);
	struct fpm_route r = r_nhid("10.0.0.0/8", RTPROT_OSPF, 100);
	frame_route(&r);
	fpm_state_flush(st);
	EXPECT("");
	assert_int_equal(stats()->why[FPM_WHY_PENDING], 1);

	nh_single(1, "192.0.2.1", 10);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1");
	nh_single(2, "198.51.100.1", 11);
	fpm_state_flush(st);
	EXPECT("NH 2 fwd if 1 via 198.51.100.1 | GROUP 1 = 1:1 2:3 | ADD4 10.0.0.0/8>g1/188/110");
	assert_int_equal(stats()->why[FPM_WHY_PENDING], 0);
	assert_int_equal(stats()->why[FPM_WHY_OK], 1);

	/* a member changes: in place, the routes untouched */
	nh_single(2, "198.51.100.9", 11);
	fpm_state_flush(st);
	EXPECT("NH 2 fwd if 1 via 198.51.100.9");
	/* the group changes: in place */
	const uint32_t m2[] = { 2, 1 };
	nh_group(100, 1, m2);
	fpm_state_flush(st);
	EXPECT("GROUP 1 = 2:1");

	/* zebra deletes the route, then the objects */
	struct fpm_route d = r_del("10.0.0.0/8");
	frame_route(&d);
	nh_del(100);
	nh_del(1);
	nh_del(2);
	fpm_state_flush(st);
	EXPECT("DEL4 10.0.0.0/8 | GROUPDEL 1 | NHDEL 2 | NHDEL 1");
	assert_int_equal(stats()->objects, 0);
}

/* Routes naming an object not defined yet wait, counted, and go in when it comes. */
static void
test_pending_routes(void **state)
{
	(void)state;
	struct fpm_route a = r_nhid("10.1.0.0/16", RTPROT_BGP, 7),
			 b = r_nhid("10.2.0.0/16", RTPROT_BGP, 7),
			 c = r_nhid("2001:db8:1::/48", RTPROT_BGP, 8);
	frame_route(&a);
	frame_route(&b);
	frame_route(&c);
	fpm_state_flush(st);
	EXPECT("");
	assert_int_equal(stats()->why[FPM_WHY_PENDING], 3);
	assert_int_equal(stats()->routes[0], 2);
	assert_int_equal(stats()->routes[1], 1);

	nh_single(7, "192.0.2.1", 10);
	nh_single(8, "fe80::1", 12);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 2 via fe80::1 | "
	       "ADD4 10.1.0.0/16>n1/186/20 10.2.0.0/16>n1/186/20 | ADD6 2001:db8:1::/48>n2/186/20");
	assert_int_equal(stats()->why[FPM_WHY_PENDING], 0);
	assert_int_equal(stats()->why[FPM_WHY_OK], 3);

	/* an object that becomes unusable takes its routes out, and back */
	nh_single(7, "192.0.2.1", 99);
	fpm_state_flush(st);
	EXPECT("DEL4 10.1.0.0/16 10.2.0.0/16");
	assert_int_equal(stats()->why[FPM_WHY_NO_IFACE], 2);
	nh_single(7, "192.0.2.1", 10);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.1.0.0/16>n1/186/20 10.2.0.0/16>n1/186/20");
}

/* Without next-hop groups: next hops and lists are shared by value, counted, deleted with
 * their last route. */
static void
test_inline_dedup(void **state)
{
	(void)state;
	struct fpm_nh a = gw("192.0.2.1", 10, 1), b = gw("192.0.2.2", 10, 2);
	struct fpm_nh ab[2] = { a, b }, ba[2] = { b, a };
	struct fpm_route r1 = r_inline("10.1.0.0/16", RTPROT_BGP, 1, &a),
			 r2 = r_inline("10.2.0.0/16", RTPROT_BGP, 1, &a),
			 r3 = r_inline("10.3.0.0/16", RTPROT_BGP, 2, ab),
			 r4 = r_inline("10.4.0.0/16", RTPROT_BGP, 2, ba);
	frame_route(&r1);
	frame_route(&r2);
	frame_route(&r3);
	frame_route(&r4);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 0 via 192.0.2.2 | GROUP 1 = 1:1 2:2 | "
	       "ADD4 10.1.0.0/16>n1/186/20 10.2.0.0/16>n1/186/20 10.3.0.0/16>g1/186/20 "
	       "10.4.0.0/16>g1/186/20");
	assert_int_equal(stats()->objects, 3);

	/* other weights: another group */
	struct fpm_nh b1 = b;
	b1.weight = 1;
	struct fpm_nh ab1[2] = { a, b1 };
	struct fpm_route r5 = r_inline("10.5.0.0/16", RTPROT_BGP, 2, ab1);
	frame_route(&r5);
	fpm_state_flush(st);
	EXPECT("GROUP 2 = 1:1 2:1 | ADD4 10.5.0.0/16>g2/186/20");

	struct fpm_route d1 = r_del("10.1.0.0/16"), d3 = r_del("10.3.0.0/16"),
			 d4 = r_del("10.4.0.0/16"), d5 = r_del("10.5.0.0/16"),
			 d2 = r_del("10.2.0.0/16");
	frame_route(&d3);
	fpm_state_flush(st);
	EXPECT("DEL4 10.3.0.0/16"); /* r4 still uses the group */
	frame_route(&d4);
	frame_route(&d5);
	fpm_state_flush(st);
	/* next hop 2 goes with its last group; next hop 1 stays for r1, r2 */
	EXPECT("DEL4 10.4.0.0/16 10.5.0.0/16 | GROUPDEL 1 | GROUPDEL 2 | NHDEL 2");
	frame_route(&d1);
	frame_route(&d2);
	fpm_state_flush(st);
	EXPECT("DEL4 10.1.0.0/16 10.2.0.0/16 | NHDEL 1");
	assert_int_equal(stats()->objects, 0);

	/* the same next hop twice in a list: one member, the weights added */
	struct fpm_nh aa[2] = { a, a }, aab[3] = { a, b, a };
	struct fpm_route r6 = r_inline("10.6.0.0/16", RTPROT_BGP, 2, aa),
			 r7 = r_inline("10.7.0.0/16", RTPROT_BGP, 3, aab);
	frame_route(&r6);
	frame_route(&r7);
	fpm_state_flush(st);
	EXPECT("NH 3 fwd if 0 via 192.0.2.1 | NH 4 fwd if 0 via 192.0.2.2 | GROUP 3 = 3:2 4:2 | "
	       "ADD4 10.6.0.0/16>n3/186/20 10.7.0.0/16>g3/186/20");
}

/* Weights summing beyond the data plane's 1024 slots are scaled down, each kept >= 1. */
static void
test_weights(void **state)
{
	(void)state;
	uint32_t pairs[2 * 64];
	char addr[32];
	for (unsigned i = 0; i < 64; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%u", i + 1);
		nh_single(1000 + i, addr, 10);
		pairs[2 * i] = 1000 + i;
		pairs[2 * i + 1] = i == 0 ? 256 : i < 4 ? 100 : 1;
	}
	fpm_state_flush(st);
	sent();
	nh_group(1, 64, pairs);
	fpm_state_flush(st);
	/* sum 256 + 300 + 60 = 616: fits, unchanged */
	const char *t = sent();
	assert_non_null(strstr(t, "GROUP 1 = 1:256 2:100 3:100 4:100 5:1 "));
	assert_int_equal(stats()->weights_scaled, 0);

	for (unsigned i = 0; i < 64; i++)
		pairs[2 * i + 1] = i < 2 ? 256 : i < 32 ? 128 : 1; /* 512 + 3840 + 32 = 4384 */
	nh_group(1, 64, pairs);
	fpm_state_flush(st);
	t = sent();
	/* budget 1024 - 64 = 960: 256 * 960 / 4384 = 56, 128 -> 28, 1 -> 1 (raised) */
	assert_non_null(strstr(t, "GROUP 1 = 1:56 2:56 3:28 "));
	assert_non_null(strstr(t, " 32:28 33:1 "));
	assert_int_equal(stats()->weights_scaled, 1);

	for (unsigned i = 0; i < 64; i++)
		pairs[2 * i + 1] = 256; /* 16384: each 960 / 64 = 15 */
	nh_group(1, 64, pairs);
	fpm_state_flush(st);
	t = sent();
	assert_non_null(strstr(t, "GROUP 1 = 1:15 2:15 "));
}

/* Connected routes (protocol kernel over interface-only next hops) are dropped; a kernel
 * route with a gateway is kept, at distance 150. */
static void
test_connected(void **state)
{
	(void)state;
	struct fpm_nh dev = gw(NULL, 10, 1), via = gw("192.0.2.1", 10, 1);
	struct fpm_route c = r_inline("192.0.2.0/24", RTPROT_KERNEL, 1, &dev),
			 k = r_inline("10.9.0.0/16", RTPROT_KERNEL, 1, &via),
			 s = r_inline("10.8.0.0/16", 196, 1, &dev);
	frame_route(&c);
	frame_route(&k);
	frame_route(&s);
	fpm_state_flush(st);
	/* the interface next hop is made for the static route over it */
	EXPECT("NH 1 fwd if 0 | NH 2 fwd if 0 via 192.0.2.1 | ADD4 10.9.0.0/16>n2/2/150 "
	       "10.8.0.0/16>n1/196/1");
	assert_int_equal(stats()->why[FPM_WHY_CONNECTED], 1);
	assert_int_equal(stats()->why[FPM_WHY_OK], 2);

	/* the same in NHG mode */
	nh_single(5, NULL, 11);
	struct fpm_route c6 = r_nhid("2001:db8:5::/64", RTPROT_KERNEL, 5);
	frame_route(&c6);
	fpm_state_flush(st);
	EXPECT("NH 3 fwd if 1");
	assert_int_equal(stats()->why[FPM_WHY_CONNECTED], 2);
}

/* Next hops on an interface nprouter does not have: not installed, counted. */
static void
test_unknown_ifindex(void **state)
{
	(void)state;
	struct fpm_nh lo = gw("192.0.2.1", 1, 1), ok = gw("192.0.2.2", 11, 1);
	struct fpm_nh both[2] = { lo, ok };
	struct fpm_route a = r_inline("10.1.0.0/16", RTPROT_BGP, 1, &lo),
			 b = r_inline("10.2.0.0/16", RTPROT_BGP, 2, both);
	frame_route(&a);
	frame_route(&b);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 1 via 192.0.2.2");
	assert_int_equal(stats()->why[FPM_WHY_NO_IFACE], 2);
	/* the interface is looked up once per next hop */
	unsigned calls = S.ifid_calls;
	frame_route(&a);
	fpm_state_flush(st);
	assert_int_equal(S.ifid_calls, calls);
}

/* IPv4 over IPv6 next hops (RFC 5549) is not supported yet: skipped, counted, logged. */
static void
test_rfc5549(void **state)
{
	(void)state;
	struct fpm_nh v6 = gw("fe80::1", 10, 1), ll = gw("169.254.0.1", 10, 1);
	ll.onlink = true;
	struct fpm_route a = r_inline("10.1.0.0/16", RTPROT_BGP, 1, &v6),
			 b = r_inline("10.2.0.0/16", RTPROT_BGP, 1, &ll);
	frame_route(&a);
	frame_route(&b);
	nh_single(9, "2001:db8::1", 10);
	struct fpm_route c = r_nhid("10.3.0.0/16", RTPROT_BGP, 9),
			 d = r_nhid("2001:db8:3::/48", RTPROT_BGP, 9);
	frame_route(&c);
	frame_route(&d);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via fe80::1 | NH 2 fwd if 0 via 169.254.0.1 | "
	       "NH 3 fwd if 0 via 2001:db8::1 | ADD6 2001:db8:3::/48>n3/186/20");
	assert_int_equal(stats()->why[FPM_WHY_RFC5549], 3);
	assert_non_null(strstr(S.last_log, "RFC 5549") != NULL ? S.last_log : NULL);
}

/* blackhole, unreachable, prohibit routes: one next hop of each kind, shared; a zebra
 * blackhole object is its own. */
static void
test_special_kinds(void **state)
{
	(void)state;
	struct fpm_route a = r_nhid("10.1.0.0/16", 196, 0), b = r_nhid("10.2.0.0/16", 196, 0),
			 c = r_nhid("10.3.0.0/16", 196, 0);
	a.kind = b.kind = NPR_NH_BLACKHOLE;
	c.kind = NPR_NH_UNREACHABLE;
	frame_route(&a);
	frame_route(&b);
	frame_route(&c);
	struct fpm_nexthop bh;
	memset(&bh, 0, sizeof(bh));
	bh.id = 50;
	bh.blackhole = true;
	fpm_state_nexthop(st, &bh);
	fpm_state_frame_end(st);
	struct fpm_route d = r_nhid("10.4.0.0/16", RTPROT_BGP, 50);
	frame_route(&d);
	fpm_state_flush(st);
	EXPECT("NH 1 blackhole | NH 2 unreachable | NH 3 blackhole | "
	       "ADD4 10.1.0.0/16>n1/196/1 10.2.0.0/16>n1/196/1 10.3.0.0/16>n2/196/1 "
	       "10.4.0.0/16>n3/186/20");
	/* a blackhole object that becomes a gateway: another id (a forward next hop) */
	nh_single(50, "192.0.2.1", 10);
	fpm_state_flush(st);
	EXPECT("NH 4 fwd if 0 via 192.0.2.1 | ADD4 10.4.0.0/16>n4/186/20 | NHDEL 3");
}

/* zebra (re)connects: SYNC_BEGIN; what it replays is sent again even if unchanged, with the
 * objects it uses; what it does not replay is deleted; SYNC_END. */
static void
test_replay_sweep(void **state)
{
	(void)state;
	fpm_state_replay_begin(st);
	nh_single(1, "192.0.2.1", 10);
	nh_single(2, "192.0.2.2", 10);
	struct fpm_route a = r_nhid("10.1.0.0/16", RTPROT_BGP, 1),
			 b = r_nhid("10.2.0.0/16", RTPROT_BGP, 2);
	struct fpm_nh x = gw("192.0.2.3", 11, 1);
	struct fpm_route c = r_inline("10.3.0.0/16", RTPROT_BGP, 1, &x);
	frame_route(&a);
	frame_route(&b);
	frame_route(&c);
	struct fpm_sweep sw;
	fpm_state_replay_end(st, &sw);
	EXPECT("SYNC_BEGIN | NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 0 via 192.0.2.2 | "
	       "NH 3 fwd if 1 via 192.0.2.3 | "
	       "ADD4 10.1.0.0/16>n1/186/20 10.2.0.0/16>n2/186/20 10.3.0.0/16>n3/186/20 | SYNC_END");
	assert_int_equal(sw.routes_seen, 3);
	assert_int_equal(sw.objects_seen, 2);
	assert_int_equal(sw.routes_swept, 0);
	assert_false(fpm_state_replay_open(st));

	/* outside a replay an unchanged route is not sent again */
	frame_route(&a);
	fpm_state_flush(st);
	EXPECT("");

	/* zebra leaves and comes back with less: route b, object 2 and c's next hop are gone */
	fpm_state_zebra_lost(st);
	fpm_state_replay_begin(st);
	nh_single(1, "192.0.2.1", 10);
	frame_route(&a);
	fpm_state_replay_end(st, &sw);
	/* the sweep walks the table: in its order */
	const char *t = sent();
	const char *head = "SYNC_BEGIN | NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.1.0.0/16>n1/186/20 "
			   "| DEL4 10.";
	assert_true(strncmp(t, head, strlen(head)) == 0);
	assert_non_null(strstr(t, "10.2.0.0/16"));
	assert_non_null(
		strstr(t, "10.3.0.0/16 | NHDEL ") != NULL ? t : strstr(t, "10.2.0.0/16 | NHDEL "));
	assert_non_null(strstr(t, "NHDEL 2"));
	assert_non_null(strstr(t, "NHDEL 3 | SYNC_END") != NULL ? t
								: strstr(t, "NHDEL 2 | SYNC_END"));
	assert_int_equal(sw.routes_swept, 2);
	assert_int_equal(sw.objects_swept, 1);
	assert_int_equal(stats()->routes[0], 1);
	assert_int_equal(stats()->objects, 1);

	/* a replay that re-sends a route but not its (unchanged) object: the object is sent
	 * again in the sync all the same, or SYNC_END would remove it under the route */
	fpm_state_replay_begin(st);
	frame_route(&a);
	fpm_state_replay_end(st, &sw);
	EXPECT("SYNC_BEGIN | NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.1.0.0/16>n1/186/20 | SYNC_END");
}

/* A bridge restarted: the ids our origin holds in the data plane are avoided until a sweep
 * removed them. */
static void
test_reserved_ids(void **state)
{
	(void)state;
	const uint32_t nhs[] = { 1, 2, 3, 5 }, grps[] = { 1 };
	assert_int_equal(fpm_state_attach(st, 100, 50, nhs, 4, grps, 1), 0);
	fpm_state_replay_begin(st);
	nh_single(1, "192.0.2.1", 10);
	nh_single(2, "192.0.2.2", 10);
	nh_single(3, "192.0.2.3", 10);
	const uint32_t m[] = { 1, 1, 2, 1 };
	nh_group(10, 2, m);
	struct fpm_route a = r_nhid("10.1.0.0/16", RTPROT_BGP, 10);
	frame_route(&a);
	fpm_state_replay_end(st, NULL);
	EXPECT("SYNC_BEGIN | NH 4 fwd if 0 via 192.0.2.1 | NH 6 fwd if 0 via 192.0.2.2 | "
	       "NH 7 fwd if 0 via 192.0.2.3 | GROUP 2 = 4:1 6:1 | ADD4 10.1.0.0/16>g2/186/20 | "
	       "SYNC_END");
	/* the sweep succeeded: the ids are free again (next fit: after the others) */
	fpm_state_sync_done(st, 0);
	for (uint32_t i = 0; i < 92; i++) {
		char a4[32];
		snprintf(a4, sizeof(a4), "198.51.100.%u", i + 1);
		nh_single(200 + i, a4, 10);
	}
	fpm_state_flush(st);
	const char *t = sent();
	assert_non_null(strstr(t, "NH 99 fwd if 0 via 198.51.100.92"));
	nh_single(300, "203.0.113.1", 10);
	nh_single(301, "203.0.113.2", 10);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 203.0.113.1 | NH 2 fwd if 0 via 203.0.113.2");
	/* all taken: routes over a new one are not installed, counted */
	nh_single(302, "203.0.113.3", 10);
	nh_single(303, "203.0.113.4", 10);
	nh_single(304, "203.0.113.5", 10);
	struct fpm_route z = r_nhid("10.99.0.0/16", RTPROT_BGP, 304);
	frame_route(&z);
	fpm_state_flush(st);
	EXPECT("NH 3 fwd if 0 via 203.0.113.3 | NH 5 fwd if 0 via 203.0.113.4");
	assert_int_equal(stats()->why[FPM_WHY_NO_ID], 1);
}

/* A frame with a malformed message: none of its events applied. */
static void
test_frame_error(void **state)
{
	(void)state;
	struct fpm_nh a = gw("192.0.2.1", 10, 1), b = gw("192.0.2.2", 10, 1);
	struct fpm_route r = r_inline("10.0.0.0/8", RTPROT_BGP, 1, &a);
	frame_route(&r);
	fpm_state_flush(st);
	sent();
	struct fpm_route d = r_del("10.0.0.0/8"), n = r_inline("10.0.0.0/8", RTPROT_BGP, 1, &b);
	fpm_state_route(st, &d);
	fpm_state_frame_error(st); /* the RTM_NEWROUTE after it was malformed */
	fpm_state_frame_end(st);
	fpm_state_flush(st);
	EXPECT("");
	assert_int_equal(stats()->frames_dropped, 1);
	assert_int_equal(stats()->routes[0], 1);
	/* the next frame is whole */
	fpm_state_route(st, &d);
	fpm_state_route(st, &n);
	fpm_state_frame_end(st);
	fpm_state_flush(st);
	EXPECT("NH 2 fwd if 0 via 192.0.2.2 | ADD4 10.0.0.0/8>n2/186/20 | NHDEL 1");
}

/* Route messages hold up to 4096 entries (2048 for IPv6); the operation of a family does
 * not change within one. */
static void
test_message_sizes(void **state)
{
	(void)state;
	nh_single(1, "192.0.2.1", 10);
	for (uint32_t i = 0; i < 5000; i++) {
		char p[32];
		snprintf(p, sizeof(p), "10.%u.%u.0/24", i / 256, i % 256);
		struct fpm_route r = r_nhid(p, RTPROT_BGP, 1);
		frame_route(&r);
	}
	struct fpm_route d = r_del("10.0.0.0/24"), a = r_nhid("10.0.0.0/24", RTPROT_BGP, 1);
	frame_route(&d);
	frame_route(&a);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.0.0.0/24>n1/186/20 10.0.1.0/24>n1/186/20 "
	       "10.0.2.0/24>n1/186/20 10.0.3.0/24>n1/186/20 10.0.4.0/24>n1/186/20 "
	       "10.0.5.0/24>n1/186/20 10.0.6.0/24>n1/186/20 10.0.7.0/24>n1/186/20 ...4096 | "
	       "ADD4 10.16.0.0/24>n1/186/20 10.16.1.0/24>n1/186/20 10.16.2.0/24>n1/186/20 "
	       "10.16.3.0/24>n1/186/20 10.16.4.0/24>n1/186/20 10.16.5.0/24>n1/186/20 "
	       "10.16.6.0/24>n1/186/20 10.16.7.0/24>n1/186/20 ...904 | DEL4 10.0.0.0/24 | "
	       "ADD4 10.0.0.0/24>n1/186/20");
	assert_int_equal(stats()->route_adds, 5001);
	assert_int_equal(stats()->route_dels, 1);
}

/* A message the data plane refuses: the bad entry is dropped, the rest sent again; a missing
 * target drops every entry naming it. */
static void
test_refused(void **state)
{
	(void)state;
	nh_single(1, "192.0.2.1", 10);
	nh_single(2, "192.0.2.2", 10);
	const char *p[] = { "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16" };
	for (int i = 0; i < 4; i++) {
		struct fpm_route r = r_nhid(p[i], RTPROT_BGP, i < 2 ? 1 : 2);
		frame_route(&r);
	}
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 0 via 192.0.2.2 | "
	       "ADD4 10.1.0.0/16>n1/186/20 10.2.0.0/16>n1/186/20 10.3.0.0/16>n2/186/20 "
	       "10.4.0.0/16>n2/186/20");
	_Alignas(8) uint8_t msg[NPR_MSG_MAX];
	memcpy(msg, S.last_route, sizeof(msg));
	struct npr_reply rep = { .status = -EEXIST, .index = 1 };
	snprintf(rep.msg, sizeof(rep.msg), "route 1: 10.2.0.0/16 is a local address");
	fpm_state_rejected(st, (const struct npr_msg_hdr *)msg, &rep);
	EXPECT("ADD4 10.1.0.0/16>n1/186/20 10.3.0.0/16>n2/186/20 10.4.0.0/16>n2/186/20");
	assert_int_equal(stats()->why[FPM_WHY_REJECTED], 1);
	assert_non_null(strstr(S.last_log, "10.2.0.0/16: EEXIST"));

	memcpy(msg, S.last_route, sizeof(msg));
	rep.status = -ENOENT;
	rep.index = 1;
	fpm_state_rejected(st, (const struct npr_msg_hdr *)msg, &rep);
	EXPECT("ADD4 10.1.0.0/16>n1/186/20");
	assert_int_equal(stats()->why[FPM_WHY_REJECTED], 3);

	/* a refused route is deleted when zebra deletes it (the data plane may hold an older
	 * target) */
	struct fpm_route d = r_del("10.3.0.0/16");
	frame_route(&d);
	fpm_state_flush(st);
	EXPECT("DEL4 10.3.0.0/16");

	/* a refused next hop: its routes are withdrawn until zebra sends it again (and a
	 * refused route over it is tried again then) */
	struct npr_msg_nh_set nh = { .hdr = { .type = NPR_MSG_NH_SET, .len = sizeof(nh) },
				     .nh_id = 1 };
	rep.status = -ENOENT;
	rep.index = 0;
	fpm_state_rejected(st, &nh.hdr, &rep);
	fpm_state_flush(st);
	EXPECT("DEL4 10.1.0.0/16 10.2.0.0/16");
	nh_single(1, "192.0.2.1", 10);
	fpm_state_flush(st);
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.1.0.0/16>n1/186/20 10.2.0.0/16>n1/186/20");
}

/* A data plane restart: attach (every object a new id, interfaces looked up again), then
 * the whole mirror inside SYNC_BEGIN / SYNC_END. */
static void
test_resync(void **state)
{
	(void)state;
	nh_single(1, "192.0.2.1", 10);
	nh_single(2, "192.0.2.2", 11);
	const uint32_t m[] = { 1, 1, 2, 1 };
	nh_group(3, 2, m);
	struct fpm_route a = r_nhid("10.1.0.0/16", RTPROT_BGP, 3),
			 b = r_nhid("10.2.0.0/16", RTPROT_BGP, 7),
			 c = r_nhid("2001:db8::/32", RTPROT_BGP, 1);
	frame_route(&a);
	frame_route(&b);
	frame_route(&c);
	fpm_state_flush(st);
	sent();
	assert_int_equal(fpm_state_attach(st, 100, 50, NULL, 0, NULL, 0), 0);
	assert_int_equal(fpm_state_resync(st), 1); /* c: IPv4 gateway under IPv6 */
	EXPECT("SYNC_BEGIN | NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 1 via 192.0.2.2 | "
	       "GROUP 1 = 1:1 2:1 | ADD4 10.1.0.0/16>g1/186/20 | SYNC_END");
	assert_int_equal(stats()->why[FPM_WHY_FAMILY], 1);
	assert_int_equal(stats()->why[FPM_WHY_PENDING], 1);

	/* during zebra's replay the resync leaves the sync open for its end */
	fpm_state_replay_begin(st);
	assert_int_equal(fpm_state_attach(st, 100, 50, NULL, 0, NULL, 0), 0);
	fpm_state_resync(st);
	EXPECT("SYNC_BEGIN | SYNC_BEGIN | NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 1 via "
	       "192.0.2.2 | GROUP 1 = 1:1 2:1 | ADD4 10.1.0.0/16>g1/186/20");
	nh_single(1, "192.0.2.1", 10);
	nh_single(2, "192.0.2.2", 11);
	nh_group(3, 2, m);
	frame_route(&a);
	fpm_state_replay_end(st, NULL);
	/* route b (pending) was not replayed: gone from the mirror, never in the data plane */
	EXPECT("NH 1 fwd if 0 via 192.0.2.1 | NH 2 fwd if 1 via 192.0.2.2 | GROUP 1 = 1:1 2:1 | "
	       "ADD4 10.1.0.0/16>g1/186/20 | SYNC_END");
	assert_int_equal(stats()->routes[0], 1);
}

/* The hold time ran out: SYNC_BEGIN + SYNC_END alone, the mirror emptied. */
static void
test_withdraw_all(void **state)
{
	(void)state;
	nh_single(1, "192.0.2.1", 10);
	struct fpm_route a = r_nhid("10.1.0.0/16", RTPROT_BGP, 1);
	frame_route(&a);
	fpm_state_flush(st);
	sent();
	fpm_state_zebra_lost(st);
	assert_int_equal(fpm_state_withdraw_all(st), 1);
	EXPECT("SYNC_BEGIN | SYNC_END");
	assert_int_equal(stats()->routes[0], 0);
	assert_int_equal(stats()->objects, 0);
	assert_int_equal(stats()->why[FPM_WHY_OK], 0);
	/* and it starts again from nothing */
	fpm_state_replay_begin(st);
	nh_single(1, "192.0.2.1", 10);
	frame_route(&a);
	fpm_state_replay_end(st, NULL);
	EXPECT("SYNC_BEGIN | NH 1 fwd if 0 via 192.0.2.1 | ADD4 10.1.0.0/16>n1/186/20 | SYNC_END");
}

/* ---- a model of the data plane and of zebra, for the random test ----
 * The data plane applies every message with the real one's rules (a target must exist, an
 * object in use cannot go, group members are forward next hops, SYNC_END removes what was
 * not set since SYNC_BEGIN and fails if that is in use): a message it would refuse fails
 * the test. zebra's model says what each route should forward by; after every flush the
 * data plane's route, resolved to (interface, gateway, weight) lists, must be exactly that.
 * Prefixes: 10.A.B.0/24 with A < 16 (index A * 256 + B). */

#define NR 4096
#define NNH 100
#define NGRP 50

struct dpm {
	uint32_t gen;
	bool sync;
	struct {
		bool used;
		uint8_t kind;
		uint16_t ifid;
		uint32_t gw, rrefs, grefs, gen;
	} nh[NNH];
	struct {
		bool used;
		unsigned n;
		uint32_t mid[NPR_GROUP_MAX_MEMBERS];
		uint16_t w[NPR_GROUP_MAX_MEMBERS];
		uint32_t refs, gen;
	} grp[NGRP];
	struct {
		uint32_t target, gen; /* target 0: none */
	} rt[NR];
};
static struct dpm D;

static int
dpm_index(const struct npr_route4 *e)
{
	const uint8_t *p = (const uint8_t *)&e->prefix;
	if (e->plen != 24 || p[0] != 10 || p[1] >= 16 || p[3] != 0)
		return -1;
	return p[1] * 256 + p[2];
}

static void
dpm_target_ref(uint32_t t, int d)
{
	if (t == 0)
		return;
	if (t & NPR_TARGET_GROUP)
		D.grp[t & NPR_TARGET_ID_MASK].refs += (uint32_t)d;
	else
		D.nh[t].rrefs += (uint32_t)d;
}

static void
dpm_group_members(unsigned g, int d)
{
	for (unsigned i = 0; i < D.grp[g].n; i++)
		D.nh[D.grp[g].mid[i]].grefs += (uint32_t)d;
}

static void
dpm_msg(const struct npr_msg_hdr *m)
{
	switch (m->type) {
	case NPR_MSG_NH_SET: {
		const struct npr_msg_nh_set *n = (const void *)m;
		assert_true(n->nh_id >= 1 && n->nh_id < NNH);
		if (D.nh[n->nh_id].grefs > 0)
			assert_int_equal(n->kind, NPR_NH_FORWARD);
		if (n->kind == NPR_NH_FORWARD)
			assert_true(n->ifid < 3);
		D.nh[n->nh_id].used = true;
		D.nh[n->nh_id].kind = n->kind;
		D.nh[n->nh_id].ifid = n->ifid;
		memcpy(&D.nh[n->nh_id].gw, n->gw, 4);
		D.nh[n->nh_id].gen = D.gen;
		break;
	}
	case NPR_MSG_GROUP_SET: {
		const struct npr_msg_group_set *g = (const void *)m;
		assert_true(g->group_id >= 1 && g->group_id < NGRP);
		for (unsigned i = 0; i < g->n_members; i++) {
			uint32_t id = g->members[i].nh_id;
			assert_true(id >= 1 && id < NNH);
			if (!D.nh[id].used || D.nh[id].kind != NPR_NH_FORWARD)
				fail_msg("GROUP %u: member %u missing or not forward", g->group_id,
					 id);
		}
		if (D.grp[g->group_id].used)
			dpm_group_members(g->group_id, -1);
		D.grp[g->group_id].used = true;
		D.grp[g->group_id].n = g->n_members;
		for (unsigned i = 0; i < g->n_members; i++) {
			D.grp[g->group_id].mid[i] = g->members[i].nh_id;
			D.grp[g->group_id].w[i] = g->members[i].weight;
		}
		dpm_group_members(g->group_id, 1);
		D.grp[g->group_id].gen = D.gen;
		break;
	}
	case NPR_MSG_NH_DEL: {
		uint32_t id = ((const struct npr_msg_id *)m)->id;
		if (!D.nh[id].used || D.nh[id].rrefs || D.nh[id].grefs)
			fail_msg("NHDEL %u: missing or in use (%u routes, %u groups)", id,
				 D.nh[id].rrefs, D.nh[id].grefs);
		D.nh[id].used = false;
		break;
	}
	case NPR_MSG_GROUP_DEL: {
		uint32_t id = ((const struct npr_msg_id *)m)->id;
		if (!D.grp[id].used || D.grp[id].refs)
			fail_msg("GROUPDEL %u: missing or in use", id);
		dpm_group_members(id, -1);
		D.grp[id].used = false;
		break;
	}
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_DEL: {
		const struct npr_msg_route4 *r = (const void *)m;
		for (unsigned i = 0; i < r->count; i++) {
			const struct npr_route4 *e = &r->r[i];
			int k = dpm_index(e);
			assert_true(k >= 0);
			if (m->type == NPR_MSG_ROUTE4_DEL) {
				if (D.rt[k].target == 0)
					fail_msg("DEL4 of a route the data plane does not have");
				dpm_target_ref(D.rt[k].target, -1);
				D.rt[k].target = 0;
				continue;
			}
			uint32_t t = e->target, id = t & NPR_TARGET_ID_MASK;
			if ((t & NPR_TARGET_GROUP) ? !D.grp[id].used : !D.nh[id].used)
				fail_msg("ADD4 to a missing target %x", t);
			dpm_target_ref(t, 1);
			dpm_target_ref(D.rt[k].target, -1);
			D.rt[k].target = t;
			D.rt[k].gen = D.gen;
		}
		break;
	}
	case NPR_MSG_SYNC_BEGIN:
		D.gen++;
		D.sync = true;
		break;
	case NPR_MSG_SYNC_END:
		assert_true(D.sync);
		D.sync = false;
		for (int k = 0; k < NR; k++)
			if (D.rt[k].target != 0 && D.rt[k].gen != D.gen) {
				dpm_target_ref(D.rt[k].target, -1);
				D.rt[k].target = 0;
			}
		for (unsigned g = 1; g < NGRP; g++)
			if (D.grp[g].used && D.grp[g].gen != D.gen) {
				if (D.grp[g].refs)
					fail_msg("SYNC_END: group %u not re-sent but in use", g);
				dpm_group_members(g, -1);
				D.grp[g].used = false;
			}
		for (unsigned n = 1; n < NNH; n++)
			if (D.nh[n].used && D.nh[n].gen != D.gen) {
				if (D.nh[n].rrefs || D.nh[n].grefs)
					fail_msg("SYNC_END: next hop %u not re-sent but in use", n);
				D.nh[n].used = false;
			}
		break;
	default:
		fail_msg("message %u in the random test", m->type);
	}
}

/* zebra's side */
struct zm_nh {
	uint8_t ifindex;
	uint8_t gw; /* 192.0.2.GW */
	uint16_t weight;
};
struct zm {
	struct {
		bool def;
		unsigned n_grp; /* 0: a single next hop */
		uint32_t mid[2];
		uint16_t w[2];
		struct zm_nh nh;
	} obj[16];
	struct {
		uint8_t type; /* 0 none, 1 inline, 2 object */
		uint32_t id;
		unsigned n;
		struct zm_nh nh[3];
	} rt[NR];
};
static struct zm Z;

/* forwarding as a sorted list of ifid << 16 | gw << 8 | weight; n = 0: none */
static unsigned
fw_norm(uint32_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	if (n == 1)
		v[0] = (v[0] & ~0xffu) | 1;
	return n;
}

static bool
zm_nh(const struct zm_nh *h, uint32_t *v)
{
	if (h->ifindex < 10 || h->ifindex > 12)
		return false;
	*v = (uint32_t)(h->ifindex - 10) << 16 | (uint32_t)h->gw << 8 | h->weight;
	return true;
}

static unsigned
zm_expect(int k, uint32_t *v)
{
	unsigned n = 0;
	if (Z.rt[k].type == 1) {
		for (unsigned i = 0; i < Z.rt[k].n; i++)
			if (!zm_nh(&Z.rt[k].nh[i], &v[n++]))
				return 0;
		return fw_norm(v, n);
	}
	if (Z.rt[k].type != 2 || !Z.obj[Z.rt[k].id].def)
		return 0;
	const __typeof__(Z.obj[0]) *o = &Z.obj[Z.rt[k].id];
	if (o->n_grp == 0)
		return zm_nh(&o->nh, &v[0]) ? fw_norm(v, 1) : 0;
	for (unsigned i = 0; i < o->n_grp; i++) {
		const __typeof__(Z.obj[0]) *m = &Z.obj[o->mid[i]];
		if (!m->def || m->n_grp != 0 || !zm_nh(&m->nh, &v[n]))
			return 0;
		v[n] = (v[n] & ~0xffu) | o->w[i];
		n++;
	}
	return fw_norm(v, n);
}

static unsigned
dpm_forwarding(int k, uint32_t *v)
{
	uint32_t t = D.rt[k].target, n = 0;
	if (t == 0)
		return 0;
	if (!(t & NPR_TARGET_GROUP)) {
		v[0] = (uint32_t)D.nh[t].ifid << 16 | (D.nh[t].gw >> 24) << 8 | 1;
		return 1;
	}
	const __typeof__(D.grp[0]) *g = &D.grp[t & NPR_TARGET_ID_MASK];
	for (unsigned i = 0; i < g->n; i++, n++)
		v[n] = (uint32_t)D.nh[g->mid[i]].ifid << 16 | (D.nh[g->mid[i]].gw >> 24) << 8 |
		       g->w[i];
	return fw_norm(v, n);
}

static void
check_model(void)
{
	uint64_t zn = 0;
	sent(); /* the text is not looked at here */
	for (int k = 0; k < NR; k++) {
		uint32_t want[8], got[NPR_GROUP_MAX_MEMBERS];
		unsigned nw = zm_expect(k, want), ng = dpm_forwarding(k, got);
		zn += Z.rt[k].type != 0;
		if (nw != ng || memcmp(want, got, nw * sizeof(want[0])) != 0)
			fail_msg("10.%d.%d.0/24: zebra wants %u next hops (%x), the data plane has "
				 "%u (%x); zebra: type %u id %u (defined %d, group of %u)",
				 k / 256, k % 256, nw, nw ? want[0] : 0, ng, ng ? got[0] : 0,
				 Z.rt[k].type, Z.rt[k].id, Z.obj[Z.rt[k].id % 16].def,
				 Z.obj[Z.rt[k].id % 16].n_grp);
	}
	assert_int_equal(zn, stats()->routes[0]);
}

static void
zm_send_obj(uint32_t id)
{
	const __typeof__(Z.obj[0]) *o = &Z.obj[id];
	if (o->n_grp == 0) {
		char a[32];
		snprintf(a, sizeof(a), "192.0.2.%u", o->nh.gw);
		nh_single(id, a, o->nh.ifindex);
	} else {
		uint32_t pairs[4] = { o->mid[0], o->w[0], o->mid[1], o->w[1] };
		nh_group(id, o->n_grp, pairs);
	}
}

static void
zm_send_route(int k)
{
	char p[32];
	snprintf(p, sizeof(p), "10.%d.%d.0/24", k / 256, k % 256);
	if (Z.rt[k].type == 2) {
		struct fpm_route r = r_nhid(p, RTPROT_OSPF, Z.rt[k].id);
		frame_route(&r);
		return;
	}
	struct fpm_nh nh[3];
	for (unsigned i = 0; i < Z.rt[k].n; i++) {
		char a[32];
		snprintf(a, sizeof(a), "192.0.2.%u", Z.rt[k].nh[i].gw);
		nh[i] = gw(a, Z.rt[k].nh[i].ifindex, Z.rt[k].nh[i].weight);
	}
	struct fpm_route r = r_inline(p, RTPROT_BGP, Z.rt[k].n, nh);
	frame_route(&r);
}

static bool
zm_obj_used(uint32_t id)
{
	for (int k = 0; k < NR; k++)
		if (Z.rt[k].type == 2 && Z.rt[k].id == id)
			return true;
	for (unsigned i = 1; i < 16; i++)
		if (Z.obj[i].def && Z.obj[i].n_grp > 0 &&
		    (Z.obj[i].mid[0] == id || (Z.obj[i].n_grp > 1 && Z.obj[i].mid[1] == id)))
			return true;
	return false;
}

/* zebra reconnects and replays a part of what it had: routes kept at 4 in 5, the objects
 * they use, others at 1 in 2; objects first (single next hops, then groups). */
static void
zm_replay(uint64_t *seed)
{
	sent();
	fpm_state_zebra_lost(st);
	fpm_state_replay_begin(st);
	bool keep_obj[16] = { false };
	for (int k = 0; k < NR; k++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		if (Z.rt[k].type != 0 && (*seed >> 40) % 5 == 0)
			Z.rt[k].type = 0;
		if (Z.rt[k].type == 2)
			keep_obj[Z.rt[k].id] = true;
	}
	for (unsigned i = 1; i < 16; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		if (Z.obj[i].def && (*seed >> 40) % 2 == 0)
			keep_obj[i] = true;
	}
	for (unsigned i = 1; i < 16; i++)
		if (keep_obj[i] && Z.obj[i].def && Z.obj[i].n_grp > 0)
			for (unsigned m = 0; m < Z.obj[i].n_grp; m++)
				keep_obj[Z.obj[i].mid[m]] = true;
	for (unsigned i = 1; i < 16; i++)
		if (!keep_obj[i])
			Z.obj[i].def = false;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 1; i < 16; i++)
			if (Z.obj[i].def && (Z.obj[i].n_grp > 0) == (pass == 1))
				zm_send_obj(i);
	for (int k = 0; k < NR; k++)
		if (Z.rt[k].type != 0)
			zm_send_route(k);
	fpm_state_replay_end(st, NULL);
	fpm_state_sync_done(st, 0);
}

static void
test_random(void **state)
{
	(void)state;
	uint64_t seed = 12345;
	memset(&D, 0, sizeof(D));
	memset(&Z, 0, sizeof(Z));
	dpm_on = true;
	for (int round = 1; round <= 30000; round++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t x = (uint32_t)(seed >> 33);
		int k = (int)(((x >> 8) % 16) * 256 + x % 256);
		int what = (int)((x >> 12) % 10);
		if (what == 0) {
			char p[32];
			snprintf(p, sizeof(p), "10.%d.%d.0/24", k / 256, k % 256);
			struct fpm_route d = r_del(p);
			frame_route(&d);
			Z.rt[k].type = 0;
		} else if (what <= 3) {
			const struct zm_nh all[3] = { { 10, 1, 1 },
						      { 11, 2, 2 },
						      { (x >> 20) % 2 ? 12 : 13, 3, 1 } };
			unsigned n = 1 + (x >> 16) % 3, off = (x >> 18) % (4 - n);
			Z.rt[k].type = 1;
			Z.rt[k].n = n;
			memcpy(Z.rt[k].nh, all + off, n * sizeof(all[0]));
			zm_send_route(k);
		} else if (what <= 6) {
			Z.rt[k].type = 2;
			Z.rt[k].id = 1 + (x >> 16) % 4;
			zm_send_route(k);
		} else if (what == 7) {
			/* one of the route objects 1..4: a group of 11 (and 12), or one next
			 * hop (on an unknown interface at times) */
			uint32_t id = 1 + (x >> 16) % 4;
			__typeof__(Z.obj[0]) *o = &Z.obj[id];
			o->def = true;
			if ((x >> 19) % 2) {
				o->n_grp = 1 + (x >> 20) % 2;
				o->mid[0] = 11;
				o->w[0] = 1;
				o->mid[1] = 12;
				o->w[1] = 2;
			} else {
				o->n_grp = 0;
				o->nh = (struct zm_nh){ (x >> 21) % 4 == 0 ? 5 : 10,
							(x >> 20) % 2 ? 7 : 8, 1 };
			}
			zm_send_obj(id);
		} else if (what == 8) {
			/* the members 11, 12 */
			uint32_t id = 11 + (x >> 16) % 2;
			Z.obj[id].def = true;
			Z.obj[id].n_grp = 0;
			Z.obj[id].nh = (struct zm_nh){ 11, (x >> 18) % 2 ? 9 : 10, 1 };
			zm_send_obj(id);
		} else {
			/* zebra deletes an object nothing uses */
			uint32_t id = (x >> 16) % 2 ? 1 + (x >> 17) % 4 : 11 + (x >> 17) % 2;
			if (Z.obj[id].def && !zm_obj_used(id)) {
				Z.obj[id].def = false;
				nh_del(id);
			}
		}
		if (round % 17 == 0) {
			fpm_state_flush(st);
			check_model();
		}
		if (round % 3001 == 0) {
			zm_replay(&seed);
			check_model();
		}
		if (round % 7919 == 0) { /* the data plane restarts */
			memset(&D, 0, sizeof(D));
			dpm_on = true;
			assert_int_equal(fpm_state_attach(st, NNH, NGRP, NULL, 0, NULL, 0), 0);
			fpm_state_resync(st);
			fpm_state_sync_done(st, 0);
			check_model();
		}
	}
	fpm_state_flush(st);
	check_model();
	const struct fpm_state_stats *s = stats();
	uint64_t sum = 0;
	for (int w = 0; w < FPM_WHY_MAX; w++)
		sum += s->why[w];
	assert_int_equal(sum, s->routes[0] + s->routes[1]);
	assert_true(s->why[FPM_WHY_OK] > 0 && s->why[FPM_WHY_NO_IFACE] > 0);
	assert_true(s->swept_routes > 0 && s->rescans > 0);
	if (getenv("FPM_TEST_VERBOSE") != NULL) { /* what the run went through */
		fprintf(stderr, "routes %lu; by why:", (unsigned long)s->routes[0]);
		for (int w = 0; w < FPM_WHY_MAX; w++)
			fprintf(stderr, " %s %lu", fpm_why_name(w), (unsigned long)s->why[w]);
		fprintf(stderr,
			"\nadds %lu dels %lu nh sets %lu group sets %lu nh dels %lu group dels %lu "
			"rescans %lu swept %lu/%lu objects %lu\n",
			(unsigned long)s->route_adds, (unsigned long)s->route_dels,
			(unsigned long)s->msgs[NPR_MSG_NH_SET],
			(unsigned long)s->msgs[NPR_MSG_GROUP_SET],
			(unsigned long)s->msgs[NPR_MSG_NH_DEL],
			(unsigned long)s->msgs[NPR_MSG_GROUP_DEL], (unsigned long)s->rescans,
			(unsigned long)s->swept_routes, (unsigned long)s->swept_objects,
			(unsigned long)s->objects);
	}
	/* withdrawing everything empties the data plane too */
	fpm_state_withdraw_all(st);
	assert_int_equal(stats()->objects, 0);
	for (unsigned n = 1; n < NNH; n++)
		assert_false(D.nh[n].used);
	for (unsigned g = 1; g < NGRP; g++)
		assert_false(D.grp[g].used);
	dpm_on = false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_update_in_one_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_before_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_ifindex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc5549, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
