/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the YANG configuration loader, as `nprouter-control apply` runs it on a
 * file: config_load_mem (control/config_yang.c: the host-bits scan, the NETCONF <config>
 * unwrap, libyang's parse and validation, the walk and the resolution into struct config),
 * then for a valid configuration config_check_dataplane and plan_build (control/diff.c)
 * against an empty data plane, and the plan's messages into that data plane: a real cfg
 * (dataplane/cfg/, no EAL, as tests/unit/test_cfg.c) with four ports net_pcap0..3, whose
 * dumps give the running state as running_dump would. The libyang context is made once (it
 * takes a long time: the IETF modules), and so is the cfg, emptied after each input by a
 * resync to nothing (what `apply --resync` of an empty configuration sends).
 *
 * Input: the file. JSON or XML as config_load decides: the first non-blank byte '<' is XML,
 * anything else JSON.
 *
 * Checked: every error and warning is a line of text; a valid configuration keeps the promises
 * of config.h (indices in range, no host bits, no duplicate prefix, groups of two or more
 * distinct next hops, weights in range); the plan's messages are framed (lengths, types) and
 * it adds what the configuration has; the data plane takes every message of the plan of a
 * configuration that passed config_check_dataplane (one batch, as plan_push sends it), and
 * its invariants hold after (tests/unit/cfg_check.h); a resync to nothing leaves nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/addr.h"
#include "cfg.h"
#include "cfg_check.h"
#include "config.h"
#include "plan.h"
#include "running.h"
#include "fuzz.h"

#define NH_MAX 64u
#define GROUP_MAX 16u

static struct config_yang *Y;
static struct cfg *C;
static bool verbose; /* NPR_FUZZ_VERBOSE: what came out, on stderr */

static struct cfg *
make_cfg(void)
{
	struct cfg_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.nh_max = NH_MAX;
	cc.group_max = GROUP_MAX;
	cc.route4_max = 1024;
	cc.route6_max = 1024;
	cc.instance_id = 7;
	cc.n_ports = 4;
	cc.n_workers = 1;
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(0x10 + i) };
		cc.port[i].port_id = (uint16_t)i;
		cc.port[i].n_rxq = cc.port[i].n_txq = 1;
		memcpy(cc.port[i].mac, mac, 6);
		snprintf(cc.port[i].name, sizeof(cc.port[i].name), "net_pcap%u", i);
	}
	struct cfg *c = cfg_create(&cc);
	if (c == NULL)
		fuzz_fail("cfg_create: %s", strerror(errno));
	return c;
}

/* One request of the data plane's session 0 (header version and seq set here): its reply. */
static struct npr_reply
send_rec(const void *msg, uint32_t seq)
{
	struct npr_msg_hdr h;
	struct cfg_check_cap k = { 0 };
	struct npr_reply rep = { 0 };
	memcpy(&h, msg, sizeof(h));
	uint8_t *r = malloc(h.len);
	if (r == NULL)
		fuzz_fail("out of memory");
	memcpy(r, msg, h.len);
	h.version = NPR_ABI_VERSION;
	h.seq = seq;
	memcpy(r, &h, sizeof(h));
	cfg_handle(C, r, h.len, cfg_check_emit, &k);
	free(r);
	const char *why = cfg_check_answer(&k, seq, &rep);
	if (why != NULL)
		fuzz_fail("answer to a message of type %u: %s", h.type, why);
	cfg_check_cap_free(&k);
	return rep;
}

static struct npr_reply
send_simple(uint16_t type)
{
	struct npr_msg_hdr h = { .type = type, .len = sizeof(h) };
	return send_rec(&h, 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512];
	Y = config_yang_open(NULL, err, sizeof(err));
	if (Y == NULL)
		fuzz_fail("config_yang_open: %s", err);
	C = make_cfg();
	struct npr_msg_hello m = { .hdr = { .type = NPR_MSG_HELLO, .len = sizeof(m) },
				   .origin = NPR_ORIGIN_CONFIG };
	snprintf(m.name, sizeof(m.name), "fuzz_yang");
	if (send_rec(&m, 1).status != 0)
		fuzz_fail("HELLO refused");
	verbose = getenv("NPR_FUZZ_VERBOSE") != NULL;
	return 0;
}

static void
check_msgs(const struct config_msgs *m, const char *what)
{
	if (m->n > m->n_total || m->n > CONFIG_MAX_REPORTED)
		fuzz_fail("%s: %zu lines kept of %zu", what, m->n, m->n_total);
	for (size_t i = 0; i < m->n; i++)
		if (m->line[i] == NULL || m->line[i][0] == '\0')
			fuzz_fail("%s: line %zu empty", what, i);
}

static int
cmp4(const void *a, const void *b)
{
	const struct npr_route4 *x = a, *y = b;
	if (x->prefix != y->prefix)
		return memcmp(&x->prefix, &y->prefix, 4);
	return x->plen - y->plen;
}

static int
cmp6(const void *a, const void *b)
{
	const struct npr_route6 *x = a, *y = b;
	int c = memcmp(x->prefix, y->prefix, 16);
	return c != 0 ? c : x->plen - y->plen;
}

static void
check_target(const struct config *c, uint32_t t)
{
	if (t & CONFIG_GROUP) {
		if ((t & ~CONFIG_GROUP) >= c->n_group)
			fuzz_fail("route to group %u of %zu", t & ~CONFIG_GROUP, c->n_group);
	} else if (t >= c->n_nh) {
		fuzz_fail("route to next hop %u of %zu", t, c->n_nh);
	}
}

/* What config.h promises of a configuration that loaded. */
static void
check_config(const struct config *c)
{
	for (size_t i = 0; i < c->n_iface; i++) {
		const struct config_iface *f = &c->iface[i];
		if (memchr(f->name, 0, sizeof(f->name)) == NULL || f->name[0] == '\0' ||
		    memchr(f->port, 0, sizeof(f->port)) == NULL)
			fuzz_fail("interface %zu: name or port not a string", i);
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->iface[k].name, f->name) == 0)
				fuzz_fail("interface %s twice", f->name);
	}
	for (size_t i = 0; i < c->n_addr; i++) {
		const struct config_addr *a = &c->addr[i];
		if (a->iface >= c->n_iface ||
		    (a->family != NPR_AF_INET && a->family != NPR_AF_INET6) ||
		    a->plen > npr_hostlen(a->family))
			fuzz_fail("address %zu: interface %u family %u /%u", i, a->iface, a->family,
				  a->plen);
	}
	for (size_t i = 0; i < c->n_neigh; i++) {
		const struct config_neigh *n = &c->neigh[i];
		if (n->iface >= c->n_iface ||
		    (n->family != NPR_AF_INET && n->family != NPR_AF_INET6))
			fuzz_fail("neighbour %zu: interface %u family %u", i, n->iface, n->family);
	}
	for (size_t i = 0; i < c->n_nh; i++) {
		const struct config_nh *n = &c->nh[i];
		if (n->kind < NPR_NH_FORWARD || n->kind > NPR_NH_PROHIBIT)
			fuzz_fail("next hop %zu: kind %u", i, n->kind);
		if (n->kind == NPR_NH_FORWARD && n->iface >= c->n_iface)
			fuzz_fail("next hop %zu: interface %u of %zu", i, n->iface, c->n_iface);
		if (n->family != 0 && npr_bad_unicast(n->family, n->gw) != NULL)
			fuzz_fail("next hop %zu: gateway not unicast", i);
	}
	for (size_t i = 0; i < c->n_group; i++) {
		const struct config_group *g = &c->group[i];
		if (g->n < 2 || g->n > NPR_GROUP_MAX_MEMBERS || g->first > c->n_member ||
		    g->n > c->n_member - g->first)
			fuzz_fail("group %zu: members %u..+%u of %zu", i, g->first, g->n,
				  c->n_member);
		for (uint32_t k = 0; k < g->n; k++) {
			const struct config_member *m = &c->member[g->first + k];
			if (m->nh >= c->n_nh || m->weight < 1 || m->weight > NPR_GROUP_MAX_WEIGHT)
				fuzz_fail("group %zu: member %u: next hop %u weight %u", i, k,
					  m->nh, m->weight);
			if (k > 0 && c->member[g->first + k - 1].nh >= m->nh)
				fuzz_fail("group %zu: members not sorted and distinct", i);
		}
	}
	if (c->n_static4 != c->n4 || c->n_static6 != c->n6)
		fuzz_fail("static route counts");
	for (size_t i = 0; i < c->n4; i++) {
		uint8_t a[16] = { 0 };
		memcpy(a, &c->r4[i].prefix, 4);
		if (c->r4[i].plen > 32 || npr_prefix_host_bits(NPR_AF_INET, a, c->r4[i].plen))
			fuzz_fail("IPv4 route %zu: bad prefix", i);
		check_target(c, c->r4[i].target);
	}
	for (size_t i = 0; i < c->n6; i++) {
		if (c->r6[i].plen > 128 ||
		    npr_prefix_host_bits(NPR_AF_INET6, c->r6[i].prefix, c->r6[i].plen))
			fuzz_fail("IPv6 route %zu: bad prefix", i);
		check_target(c, c->r6[i].target);
	}
	/* no prefix twice */
	struct npr_route4 *r4 = malloc((c->n4 + 1) * sizeof(*r4));
	struct npr_route6 *r6 = malloc((c->n6 + 1) * sizeof(*r6));
	if (r4 == NULL || r6 == NULL)
		fuzz_fail("out of memory");
	if (c->n4 > 0)
		memcpy(r4, c->r4, c->n4 * sizeof(*r4));
	if (c->n6 > 0)
		memcpy(r6, c->r6, c->n6 * sizeof(*r6));
	qsort(r4, c->n4, sizeof(*r4), cmp4);
	qsort(r6, c->n6, sizeof(*r6), cmp6);
	for (size_t i = 1; i < c->n4; i++)
		if (cmp4(&r4[i - 1], &r4[i]) == 0)
			fuzz_fail("an IPv4 prefix twice");
	for (size_t i = 1; i < c->n6; i++)
		if (cmp6(&r6[i - 1], &r6[i]) == 0)
			fuzz_fail("an IPv6 prefix twice");
	free(r4);
	free(r6);
}

/* What running_dump finds in the (empty) data plane: its ports and sizes. */
static void
empty_running(struct running *rs, struct npr_dump_port *ports)
{
	uint8_t *d;
	size_t dl;
	uint32_t n;
	memset(rs, 0, sizeof(*rs));
	const char *why = cfg_check_dump(C, 0, NPR_DUMP_PORTS, 0, &d, &dl, &n);
	if (why != NULL || n != 4)
		fuzz_fail("ports: %s", why != NULL ? why : "not 4");
	memcpy(ports, d, dl);
	free(d);
	rs->port = ports;
	rs->n_port = n;
	why = cfg_check_dump(C, 0, NPR_DUMP_INFO, 0, &d, &dl, &n);
	if (why != NULL || n != 1)
		fuzz_fail("info: %s", why != NULL ? why : "not 1");
	memcpy(&rs->info, d, sizeof(rs->info));
	free(d);
}

/* The plan into the data plane, as plan_push sends it: one batch. */
static void
apply(const struct plan *p)
{
	struct npr_reply rep = send_simple(NPR_MSG_BATCH_BEGIN);
	if (rep.status != 0)
		fuzz_fail("BATCH_BEGIN: %s", rep.msg);
	for (size_t i = 0; i < p->n_msgs; i++) {
		rep = send_rec(p->buf + p->off[i], (uint32_t)i + 2);
		if (rep.status != 0) {
			char what[300];
			plan_describe(p, i, rep.index, what, sizeof(what));
			fuzz_fail("the data plane refused %s of a valid configuration: %d %s", what,
				  rep.status, rep.msg);
		}
	}
	rep = send_simple(NPR_MSG_BATCH_COMMIT);
	if (rep.status != 0)
		fuzz_fail("BATCH_COMMIT: %s", rep.msg);
	const char *why = cfg_check_invariants(C, 0, NH_MAX, GROUP_MAX);
	if (why != NULL)
		fuzz_fail("invariants after the plan: %s", why);
}

/* A resync to nothing: the data plane as make_cfg left it. */
static void
reset(void)
{
	static const uint32_t kinds[] = { NPR_DUMP_IFACES, NPR_DUMP_ADDRS,  NPR_DUMP_NEIGHS,
					  NPR_DUMP_NHS,	   NPR_DUMP_GROUPS, NPR_DUMP_ROUTES4,
					  NPR_DUMP_ROUTES6 };
	struct npr_reply rep = send_simple(NPR_MSG_SYNC_BEGIN);
	if (rep.status == 0)
		rep = send_simple(NPR_MSG_SYNC_END);
	if (rep.status != 0)
		fuzz_fail("a resync to nothing: %d %s", rep.status, rep.msg);
	cfg_periodic(C);
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		uint8_t *d;
		size_t dl;
		uint32_t n;
		const char *why =
			cfg_check_dump(C, 0, kinds[i], NPR_DUMP_F_ALL_ORIGINS, &d, &dl, &n);
		free(d);
		if (why != NULL || n != 0)
			fuzz_fail("after a resync to nothing, dump %u: %s", kinds[i],
				  why != NULL ? why : "not empty");
	}
}

static void
check_plan(const struct config *c, const struct plan *p)
{
	size_t routes = 0, off = 0;
	for (size_t i = 0; i < p->n_msgs; i++) {
		struct npr_msg_hdr h;
		if (p->off[i] != off || off + sizeof(h) > p->len)
			fuzz_fail("plan message %zu at %u, expected %zu", i, p->off[i], off);
		memcpy(&h, p->buf + off, sizeof(h));
		if (h.len < sizeof(h) || h.len % 8 != 0 || h.len > NPR_MSG_MAX ||
		    h.len > p->len - off)
			fuzz_fail("plan message %zu: length %u", i, h.len);
		if (h.type < NPR_MSG_HELLO || h.type > NPR_MSG_REQ_LAST)
			fuzz_fail("plan message %zu: type %u", i, h.type);
		if (h.type == NPR_MSG_ROUTE4_ADD || h.type == NPR_MSG_ROUTE6_ADD) {
			uint32_t n;
			memcpy(&n, p->buf + off + sizeof(h), 4);
			routes += n;
		}
		off += h.len;
	}
	if (off != p->len)
		fuzz_fail("plan: %zu bytes of messages in %zu", off, p->len);
	if (routes != c->n4 + c->n6)
		fuzz_fail("plan adds %zu routes, the configuration has %zu", routes, c->n4 + c->n6);
	if (p->count[PK_IFACE].added != c->n_iface)
		fuzz_fail("plan adds %zu interfaces of %zu", p->count[PK_IFACE].added, c->n_iface);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct config_msgs errs = { 0 }, warns = { 0 };
	size_t i = 0;
	while (i < size &&
	       (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	bool json = !(i < size && data[i] == '<');

	int rc = config_load_mem(Y, (const char *)data, size, json, "fuzz", &cfg, &errs, &warns);
	check_msgs(&errs, "errors");
	check_msgs(&warns, "warnings");
	if (rc == 0 && errs.n_total != 0)
		fuzz_fail("valid, with %zu errors", errs.n_total);
	if (rc != 0 && errs.n_total == 0)
		fuzz_fail("invalid (%d) without an error", rc);
	if (rc == 0) {
		struct running rs;
		struct npr_dump_port ports[NPR_MAX_PORTS];
		check_config(&cfg);
		empty_running(&rs, ports);
		if (config_check_dataplane(&cfg, "fuzz", rs.port, rs.n_port, &rs.info, &errs) ==
		    0) {
			struct plan p;
			struct plan_opts po = { .resync = (size & 1) != 0, .changes = NULL };
			if (plan_build(&cfg, &rs, &po, &p, &errs) == 0) {
				check_plan(&cfg, &p);
				apply(&p);
				reset();
			}
			if (verbose)
				fprintf(stderr, "plan: %zu messages, %zu changes\n", p.n_msgs,
					p.n_changes);
			plan_free(&p);
		}
		check_msgs(&errs, "errors");
	}
	if (verbose) {
		fprintf(stderr, "%s: %zu interfaces, %zu routes\n", rc == 0 ? "valid" : "invalid",
			cfg.n_iface, cfg.n4 + cfg.n6);
		config_msgs_print(&errs, stderr, "error: ");
		config_msgs_print(&warns, stderr, "warning: ");
	}
	config_free(&cfg);
	config_msgs_free(&errs);
	config_msgs_free(&warns);
	return 0;
}
