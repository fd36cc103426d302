/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the data plane's request handler (dataplane/cfg/: cfg_handle_session)
 * on arbitrary ring records from up to eight sessions, with the slow path's neighbour calls
 * in between. No EAL (as tests/unit/test_cfg.c): qsbr and stats NULL. One cfg for every input
 * (making one costs more than most inputs), emptied after each by resyncs of every origin
 * (reset()); with NPR_FUZZ_FRESH=1 (replay.c sets it) a new one for each.
 *
 * Input: a sequence of steps, each one control byte c, then its operands:
 *   c & 7    the session (0..7)
 *   c >> 3   0..19  a record: u16 n, then 8 * (n % 8193) bytes (missing ones zero); its
 *                   header gets the ABI version and the record's length, the rest as given
 *            20..23 a raw record: u16 n, then n bytes, nothing fixed
 *            24..25 the session ends (cfg_session_end: its batch is aborted)
 *            26     cfg_periodic
 *            27..28 cfg_neigh_learn: ifid u8, family bit, address 16, MAC 6
 *            29..31 cfg_neigh_forget: ifid u8, family bit, address 16
 *
 * Checked after every step (cfg_check.h): the answer is well framed (chunks, then one reply,
 * the request's seq, a reason with every error); a rejected change outside a batch changes
 * nothing (every dump, the workers' tables and FIB lookups of every route, before and after);
 * outside batches the invariants hold after every change. At the end every session's batch
 * is aborted and the invariants are checked once more.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_check.h"
#include "fib.h"
#include "fwd.h"
#include "fuzz.h"

#define NH_MAX 16u
#define GROUP_MAX 8u
#define CHECK_SID 0u /* dumps for the checks: any session, outside batches */

static struct cfg *
make_cfg(void)
{
	static const uint16_t ids[4] = { 0, 1, 2, 5 };
	struct cfg_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.nh_max = NH_MAX;
	cc.group_max = GROUP_MAX;
	cc.route4_max = 256;
	cc.route6_max = 256;
	cc.instance_id = 0x1122334455667788ull;
	cc.n_ports = 4;
	cc.n_workers = 2;
	for (unsigned i = 0; i < 4; i++) {
		cc.port[i].port_id = ids[i];
		cc.port[i].n_rxq = 2;
		cc.port[i].n_txq = 3;
		uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(0x10 + ids[i]) };
		memcpy(cc.port[i].mac, mac, 6);
		snprintf(cc.port[i].name, sizeof(cc.port[i].name), "net_ring%u", i);
	}
	struct cfg *c = cfg_create(&cc);
	if (c == NULL)
		fuzz_fail("cfg_create: %s", strerror(errno));
	return c;
}

/* ---- snapshots: everything a rejected request must leave as it was ---- */

struct snap {
	uint8_t *b;
	size_t n, cap;
};

static void
sput(struct snap *s, const void *p, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2 + 4096;
		s->b = realloc(s->b, s->cap);
		if (s->b == NULL)
			fuzz_fail("out of memory");
	}
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static size_t sort_size;

static int
cmp_bytes(const void *a, const void *b)
{
	return memcmp(a, b, sort_size);
}

static void
must(const char *why, const char *what)
{
	if (why != NULL)
		fuzz_fail("%s: %s", what, why);
}

static void
snap_take(struct cfg *c, struct snap *s)
{
	static const uint32_t kinds[] = { NPR_DUMP_IFACES,	  NPR_DUMP_ADDRS,  NPR_DUMP_NEIGHS,
					  NPR_DUMP_NEIGHS_LEARNT, NPR_DUMP_NHS,	   NPR_DUMP_GROUPS,
					  NPR_DUMP_ROUTES4,	  NPR_DUMP_ROUTES6 };
	const struct fwd_tables *t = cfg_tables(c);
	uint8_t *d;
	size_t dl;
	uint32_t n;

	s->n = 0;
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		must(cfg_check_dump(c, CHECK_SID, kinds[i], NPR_DUMP_F_ALL_ORIGINS, &d, &dl, &n),
		     "snapshot dump");
		size_t es = cfg_check_entry_size(kinds[i]);
		if (es != 0 && n > 1) { /* hash table order is not kept by a roll back */
			sort_size = es;
			qsort(d, n, es, cmp_bytes);
		}
		sput(s, &kinds[i], 4);
		sput(s, &n, 4);
		sput(s, d, dl);
		/* what the FIB does with every route's first address */
		for (uint32_t j = 0; kinds[i] == NPR_DUMP_ROUTES4 && j < n; j++) {
			struct npr_route4 r;
			memcpy(&r, d + j * sizeof(r), sizeof(r));
			uint32_t v = fib4_lookup(t->fib4, ntohl(r.prefix));
			sput(s, &v, 4);
		}
		for (uint32_t j = 0; kinds[i] == NPR_DUMP_ROUTES6 && j < n; j++) {
			struct npr_route6 r;
			memcpy(&r, d + j * sizeof(r), sizeof(r));
			uint32_t v = fib6_lookup(t->fib6, r.prefix);
			sput(s, &v, 4);
		}
		free(d);
	}
	must(cfg_check_dump(c, CHECK_SID, NPR_DUMP_INFO, 0, &d, &dl, &n), "snapshot info");
	struct npr_info in;
	memcpy(&in, d, sizeof(in));
	free(d);
	in.uptime_ns = 0;
	in.fib4_bytes = in.fib6_bytes = 0;
	memset(in.txn, 0, sizeof(in.txn)); /* bookkeeping: a refused transaction counts there */
	sput(s, &in, sizeof(in));
	/* what the workers see */
	for (uint32_t i = 0; i < t->nh_max; i++) {
		uint64_t w = atomic_load(&t->nh[i]);
		sput(s, &w, 8);
	}
	for (uint32_t i = 0; i < t->group_max; i++) {
		const struct fwd_group *g = atomic_load(&t->group[i]);
		sput(s, &g, sizeof(g));
	}
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++) {
		uint64_t m = atomic_load(&t->port[i].mac);
		uint32_t u = atomic_load(&t->port[i].up), mtu = atomic_load(&t->port[i].mtu);
		sput(s, &m, 8);
		sput(s, &u, 4);
		sput(s, &mtu, 4);
	}
}

/* ---- one input ---- */

static bool
mutating(uint16_t type)
{
	return (type >= NPR_MSG_IFACE_SET && type <= NPR_MSG_ROUTE6_DEL) ||
	       type == NPR_MSG_SYNC_BEGIN || type == NPR_MSG_SYNC_END;
}

static void
invariants(struct cfg *c, const char *when)
{
	if (cfg_batch_owner(c) >= 0)
		return;
	const char *why = cfg_check_invariants(c, CHECK_SID, NH_MAX, GROUP_MAX);
	if (why != NULL)
		fuzz_fail("invariants after %s: %s", when, why);
}

/* One request from session sid (header filled in here): its status. */
static int
send_simple(struct cfg *c, unsigned sid, void *m, uint16_t type, uint32_t len)
{
	struct cfg_check_cap k = { 0 };
	struct npr_reply rep = { 0 };
	struct npr_msg_hdr h = { .type = type, .version = NPR_ABI_VERSION, .len = len, .seq = 7 };
	memcpy(m, &h, sizeof(h));
	cfg_handle_session(c, sid, m, len, cfg_check_emit, &k);
	const char *why = cfg_check_answer(&k, 7, &rep);
	cfg_check_cap_free(&k);
	if (why != NULL)
		fuzz_fail("reset: answer to type %u: %s", type, why);
	return rep.status;
}

/* Whether cfg has no object of any origin left. */
static bool
empty(struct cfg *c)
{
	static const uint32_t kinds[] = { NPR_DUMP_IFACES, NPR_DUMP_ADDRS,  NPR_DUMP_NEIGHS,
					  NPR_DUMP_NHS,	   NPR_DUMP_GROUPS, NPR_DUMP_ROUTES4,
					  NPR_DUMP_ROUTES6 };
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		uint8_t *d;
		size_t dl;
		uint32_t n;
		must(cfg_check_dump(c, CHECK_SID, kinds[i], NPR_DUMP_F_ALL_ORIGINS, &d, &dl, &n),
		     "reset dump");
		free(d);
		if (n != 0)
			return false;
	}
	return true;
}

/*
 * Back to a cfg as cfg_create made it, the way a control process would: every batch ends,
 * then each origin resyncs with nothing (SYNC_BEGIN, SYNC_END: all its objects go), until
 * nothing is left; each session then says HELLO as CONFIG, the origin of a session before
 * its HELLO. What cannot be seen from outside stays (counters, table capacities, the FIB's
 * free lists). false: something is left (the caller makes a new cfg).
 */
static bool
reset(struct cfg *c)
{
	for (unsigned sid = 0; sid < CFG_SESSIONS; sid++)
		cfg_session_end(c, sid);
	for (unsigned round = 0; round < 3 && !empty(c); round++) {
		for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
			struct npr_msg_hello m = { .origin = (uint8_t)o };
			struct npr_msg_hdr h;
			send_simple(c, 0, &m, NPR_MSG_HELLO, sizeof(m));
			send_simple(c, 0, &h, NPR_MSG_SYNC_BEGIN, sizeof(h));
			send_simple(c, 0, &h, NPR_MSG_SYNC_END, sizeof(h));
		}
	}
	for (unsigned sid = 0; sid < CFG_SESSIONS; sid++) {
		struct npr_msg_hello m = { .origin = NPR_ORIGIN_CONFIG };
		if (send_simple(c, sid, &m, NPR_MSG_HELLO, sizeof(m)) != 0)
			return false;
	}
	cfg_periodic(c);
	return empty(c);
}

static uint8_t rec[NPR_MSG_MAX + 8];
static struct cfg *C;
static bool fresh;   /* NPR_FUZZ_FRESH set: a new cfg for every input (replay.c sets it) */
static bool verbose; /* NPR_FUZZ_VERBOSE set: every request and its answer on stderr */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *e = getenv("NPR_FUZZ_FRESH");
	fresh = e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
	verbose = getenv("NPR_FUZZ_VERBOSE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	if (C == NULL)
		C = make_cfg();
	struct cfg *c = C;
	struct cfg_check_cap k = { 0 };
	struct snap before = { 0 }, after = { 0 };
	bool have_before = false;
	uint32_t seq = 1;

	while (fuzz_more(&in)) {
		uint8_t ctl = fuzz_u8(&in);
		unsigned sid = ctl & 7u, op = ctl >> 3;

		if (op >= 24) { /* not a request */
			uint8_t fam, a[16], mac[6];
			unsigned ifid;
			if (op <= 25) {
				cfg_session_end(c, sid);
			} else if (op == 26) {
				cfg_periodic(c);
			} else {
				ifid = fuzz_u8(&in);
				fam = (fuzz_u8(&in) & 1) ? NPR_AF_INET6 : NPR_AF_INET;
				fuzz_bytes(&in, a, 16);
				if (fam == NPR_AF_INET)
					memset(a + 4, 0, 12);
				if (op <= 28) {
					fuzz_bytes(&in, mac, 6);
					cfg_neigh_learn(c, ifid, fam, a, mac);
				} else {
					cfg_neigh_forget(c, ifid, fam, a);
				}
			}
			have_before = false;
			invariants(c, "a slow path call");
			continue;
		}

		/* a record, as the ring server copied it out: exact size (ASan sees overreads) */
		uint32_t len;
		if (op < 20) {
			len = 8u * (fuzz_u16(&in) % 8193u);
			fuzz_bytes(&in, rec, len);
			if (len >= sizeof(struct npr_msg_hdr)) {
				struct npr_msg_hdr h;
				memcpy(&h, rec, sizeof(h));
				h.version = NPR_ABI_VERSION;
				h.len = len;
				memcpy(rec, &h, sizeof(h));
			}
		} else {
			len = fuzz_u16(&in);
			fuzz_bytes(&in, rec, len);
		}
		uint16_t type = 0;
		uint32_t want_seq = 0;
		if (len >= sizeof(struct npr_msg_hdr)) {
			want_seq = seq++;
			memcpy(rec + offsetof(struct npr_msg_hdr, seq), &want_seq, 4);
			memcpy(&type, rec, 2);
		}
		uint8_t *r = malloc(len != 0 ? len : 1);
		if (r == NULL)
			fuzz_fail("out of memory");
		memcpy(r, rec, len);

		bool batch_before = cfg_batch_owner(c) >= 0;
		/* only a request that may change something is compared (snapshots cost more
		 * than the rest): a mutating type, framed well enough to reach its handler */
		bool compare = !batch_before && mutating(type) && len % 8 == 0 &&
			       memcmp(rec + offsetof(struct npr_msg_hdr, len), &len, 4) == 0;
		if (compare && !have_before) {
			snap_take(c, &before);
			have_before = true;
		}
		cfg_check_cap_reset(&k);
		cfg_handle_session(c, sid, r, len, cfg_check_emit, &k);
		free(r);
		struct npr_reply rep = { 0 };
		const char *why = cfg_check_answer(&k, want_seq, &rep);
		if (why != NULL)
			fuzz_fail("answer to a record of type %u from session %u: %s", type, sid,
				  why);
		if (verbose)
			fprintf(stderr, "session %u type %u len %u: %d %s\n", sid, type, len,
				rep.status, rep.msg);
		if (rep.status == 0 && !mutating(type) && type != NPR_MSG_HELLO &&
		    type != NPR_MSG_DUMP_REQ && type != NPR_MSG_LOOKUP &&
		    type != NPR_MSG_STATS_REQ && type != NPR_MSG_STATS_CLEAR &&
		    type != NPR_MSG_BATCH_BEGIN && type != NPR_MSG_BATCH_COMMIT &&
		    type != NPR_MSG_BATCH_ABORT)
			fuzz_fail("type %u accepted", type);
		bool batch_after = cfg_batch_owner(c) >= 0;
		if (batch_before || batch_after) {
			have_before = false; /* staged or rolled back: no longer comparable */
			continue;
		}
		if (rep.status == 0 &&
		    (mutating(type) || type == NPR_MSG_HELLO || type == NPR_MSG_BATCH_COMMIT)) {
			have_before = false;
			invariants(c, "an accepted request");
			continue;
		}
		/* rejected: nothing changed */
		if (!compare)
			continue;
		snap_take(c, &after);
		if (after.n != before.n || memcmp(after.b, before.b, after.n) != 0)
			fuzz_fail("a request of type %u (status %d: %s) changed the state", type,
				  rep.status, rep.msg);
	}
	for (unsigned sid = 0; sid < CFG_SESSIONS; sid++)
		cfg_session_end(c, sid);
	invariants(c, "the end");
	cfg_check_cap_free(&k);
	free(before.b);
	free(after.b);
	if (fresh || !reset(c)) {
		cfg_free(c);
		C = NULL;
	}
	return 0;
}
