/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's configuration state, inside: what the files of dataplane/cfg/ share.
 * The public contract is dataplane/cfg.h; nothing outside this folder includes this header.
 *
 * Rooms, each using only the ones above it in this list (sections below, in the same order):
 *
 *   1 htab.c      open-addressing hash table (routes, neighbours)
 *   2 state.c     objects: apply and undo one change per kind, next hop words, undo log
 *   3 hosts.c     derived routes: connected subnets, host routes to known neighbours
 *     select.c    routes of several origins on one prefix: which one the FIB gets
 *   4 txn.c       the transaction: roll back, publish to the workers, retire old versions
 *   5 req.c       requests that change objects: validate, reserve, apply with undo records
 *     services.c  the slow path's API (cfg.h): reads, and neighbours it learns
 *   6 session.c   HELLO, batches, SYNC_BEGIN/END (mark and sweep)
 *     dump.c      DUMP_REQ, STATS_REQ, STATS_CLEAR, LOOKUP
 *   7 msg.c       the message table, framing checks, cfg_handle: commit or roll back
 *   8 cfg.c       create, free, periodic housekeeping
 *
 * Objects reference each other (addresses install routes, routes hold next hops and groups,
 * next hops follow neighbours), so the split is by layer, not by kind of object.
 *
 * Every mutating request is a transaction:
 *
 *   check fields (stateless) -> reserve memory -> apply to our state and to the FIB RIB,
 *   logging one undo record per object changed
 *      success, no batch:  drop the undo log, publish
 *      success, in batch:  keep the undo log; publish at BATCH_COMMIT
 *      failure:            replay the undo log backwards (the whole batch, if any), then
 *                          fib_commit the RIB, which is identical to the published one
 *
 * Applying changes only our state and the FIB's RIB (invisible before fib_commit). What the
 * workers see (next hop words, group pointers, the port table) is recomputed from our state at
 * publish time for the objects marked dirty, so a rollback needs no list of pending stores:
 * once undone, our state equals what is published. Publish order keeps a worker from
 * following a reference to something not there yet: words of live next hops, live groups,
 * ports, the FIBs, and only then the removal of deleted groups and next hops.
 *
 * Router services (for the slow path, slowpath/; same thread, outside transactions): an
 * address also installs the route to its connected subnet (target LOCAL | CONNECTED | ifid in
 * the RIB, an internal next hop per interface in the FIB, UNRESOLVED: hosts are resolved by
 * the slow path); neighbours are also learnt (dynamic, cfg_neigh_learn); and every known
 * neighbour on a connected subnet gets a host route to an internal next hop carrying its MAC
 * (hosts_sync: derived state, in the FIBs only, recomputed after each publish). Internal next
 * hop ids follow the configured ones: [nh_max, nh_max + 256) per interface, then host routes.
 *
 * Thread: the control thread only; the only shared data are struct fwd_tables (see fwd.h
 * for the readers' contract) and the FIBs (fib.h).
 */
#ifndef NPR_CFG_INT_H
#define NPR_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "npr/addr.h"
#include "npr/proto.h"
#include "cfg.h"
#include "fib.h"
#include "fwd.h"
#include "retire.h"

#define CFG_ADDR_MAX 1024u    /* router addresses, both families together */
#define CFG_NEIGH_MAX 262144u /* neighbour entries */
#define CFG_HOST_MIN 1024u    /* host routes to neighbours: at least this many, */
#define CFG_HOST_MAX 65536u   /* at most this many (as many as next hops in between) */

enum { F4 = 0, F6 = 1 };

static inline unsigned
alen_of(int fam)
{
	return fam == F4 ? 4 : 16;
}

static inline int
family_of(int fam)
{
	return fam == F4 ? NPR_AF_INET : NPR_AF_INET6;
}

static inline bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The FIB's lookup of a (16 protocol bytes; IPv4 in the first 4) in the published tables. */
static inline uint32_t
fib_lookup_addr(const struct fib *f4, const struct fib *f6, int family, const uint8_t *a)
{
	if (family == NPR_AF_INET)
		return fib4_lookup(f4, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
					       (uint32_t)a[2] << 8 | a[3]);
	return fib6_lookup(f6, a);
}

/* family: NPR_AF_INET or NPR_AF_INET6; buf: NPR_ADDR_STRLEN bytes */
static inline const char *
fmt_ip(unsigned family, const uint8_t *a, char *buf)
{
	return npr_format_addr((int)family, a, buf, NPR_ADDR_STRLEN);
}

/* ---- 1. htab.c ---------------------------------------------------------------------- */
/* Open-addressing hash table (linear probing, backward-shift deletion, no tombstones).
 * An entry is esize bytes; its key is the first klen bytes, the last of which is a nonzero
 * "used" marker, so an all-zero slot is free. Growth happens only in ht_reserve, so entry
 * pointers stay valid between a reserve and the next one (ht_remove moves other entries). */

struct htab {
	uint8_t *slot;
	uint32_t cap; /* power of two; n <= 3/4 cap after ht_reserve */
	uint32_t n;
	uint32_t esize;
	uint32_t klen;
};

static inline uint8_t *
ht_at(const struct htab *t, uint32_t i)
{
	return t->slot + (size_t)i * t->esize;
}

static inline bool
ht_used(const struct htab *t, const uint8_t *e)
{
	return e[t->klen - 1] != 0;
}

int ht_init(struct htab *t, uint32_t esize, uint32_t klen, uint32_t cap);
void *ht_find(const struct htab *t, const void *key);
/* The key must be absent and room reserved: this cannot fail. The value part is zeroed. */
void *ht_insert(struct htab *t, const void *key);
/* Moves other entries: pointers into the table are stale after it. */
void ht_remove(struct htab *t, void *ep);
/* Make room for extra more entries. 0 or -ENOMEM (the table is unchanged then). */
int ht_reserve(struct htab *t, uint32_t extra);

/* ---- 2. state.c --------------------------------------------------------------------- */
/* Objects. Each has a "cfg" part (what a request sets; snapshotted whole in the undo log)
 * and derived bookkeeping (use counts, index links) kept right by the *_apply functions. */

struct ifc_cfg {
	uint8_t used;
	uint8_t origin; /* who set it last */
	uint16_t port_id;
	uint16_t mtu;
	uint16_t flags;
	uint8_t mac[6]; /* override; zero: the port's MAC */
	char name[NPR_NAME_LEN];
	uint32_t gen;
};

struct ifc {
	struct ifc_cfg cfg;
	uint32_t n_nh, n_addr, n_neigh; /* users: an interface in use cannot be deleted */
};

struct nh_cfg {
	uint8_t used;
	uint8_t kind;	/* enum npr_nh_kind */
	uint8_t family; /* of gw: 0, 4 or 6 */
	uint8_t reserved;
	uint16_t ifid;
	uint16_t flags; /* NPR_NH_F_MAC, NPR_NH_F_INLINE (kept for the client) */
	uint8_t mac[6];
	uint8_t origin; /* the owner (the id is in its slice, see nh_int) */
	uint8_t reserved2;
	uint8_t gw[16];
	uint32_t gen;
};

struct nh {
	struct nh_cfg cfg;
	uint32_t route_refs;	   /* routes whose target is this next hop */
	uint32_t grp_refs;	   /* groups that list it */
	uint32_t gw_prev, gw_next; /* list of next hops on one (ifid, family, gw): see struct nb */
};

/* One version of a group: what a GROUP_SET made. The workers see only the struct fwd_group
 * that follows it in the same allocation; a replaced version is retired (cfg.grp_old) and
 * freed after a grace period. */
struct grp_ver {
	uint32_t n_members;
	uint32_t reserved;
	struct npr_group_member m[NPR_GROUP_MAX_MEMBERS];
	/* struct fwd_group follows */
};

static inline struct fwd_group *
ver_fg(struct grp_ver *v)
{
	return v == NULL ? NULL : (struct fwd_group *)(v + 1);
}

static inline struct grp_ver *
fg_ver(struct fwd_group *fg)
{
	return fg == NULL ? NULL : (struct grp_ver *)fg - 1;
}

struct grp {
	uint8_t used;
	uint32_t gen;
	uint32_t refcnt;     /* routes whose target is this group */
	struct grp_ver *ver; /* current version (maybe not yet published); NULL if unused */
};

struct addr {
	uint8_t used;
	uint8_t family;
	uint8_t plen;
	uint8_t origin; /* who set it last */
	uint16_t ifid;
	uint16_t reserved2;
	uint32_t gen;
	uint8_t a[16];
};

/* Neighbour table entry, keyed by (address, ifid, family). It exists while it holds a
 * neighbour (has_neigh) or while gateway next hops point at that key (the list nh_head),
 * so that a neighbour change finds the next hops to recompute without a scan. */
struct nb {
	uint8_t addr[16];
	uint16_t ifid;
	uint8_t family;
	uint8_t used; /* end of key */
	uint8_t mac[6];
	uint8_t has_neigh;
	uint8_t dynamic; /* learnt by the slow path (cfg_neigh_learn), not configured */
	uint8_t origin;	 /* configured ones: who set it last */
	uint32_t gen;
	uint32_t nh_head;
	uint32_t hnh; /* 1 + host route index (struct host) while it has one; 0: none */
};
#define NB_KLEN ((uint32_t)offsetof(struct nb, used) + 1)

/* Route entries: prefix[alen], plen, used (end of key), 2 bytes pad, then struct rt_val.
 * c->rt holds the selected route of each prefix (what the FIB has); c->alt the routes of
 * other origins on the same prefixes that are not selected (select.c), keyed by prefix[alen],
 * plen, origin, used. */
struct rt_val {
	uint32_t target; /* internal nh id, NPR_TARGET_GROUP | group id, or NPR_TARGET_LOCAL */
	uint32_t gen;	 /* the origin's sync generation when last set */
	uint8_t origin;	 /* enum npr_origin; NONE for local and connected */
	uint8_t proto;
	uint8_t dist; /* administrative distance */
	uint8_t reserved;
};
#define RT_KLEN(alen) ((alen) + 2)
#define RT_ESIZE(alen) ((alen) + 4 + (uint32_t)sizeof(struct rt_val))
#define RT_KEY_MAX RT_KLEN(16u) /* the longest route key (IPv6) */
#define ALT_KLEN(alen) ((alen) + 3)
#define ALT_ESIZE(alen) ((alen) + 4 + (uint32_t)sizeof(struct rt_val))
#define ALT_KEY_MAX ALT_KLEN(16u)

static inline struct rt_val
rtv(uint32_t target, uint32_t gen, unsigned origin, unsigned proto, unsigned dist)
{
	struct rt_val v = { target, gen, (uint8_t)origin, (uint8_t)proto, (uint8_t)dist, 0 };
	return v;
}

static inline struct rt_val *
rt_val(uint8_t *e, unsigned alen)
{
	return (struct rt_val *)(e + alen + 4);
}

enum undo_kind { U_RT4 = 1, U_RT6, U_ALT4, U_ALT6, U_NH, U_GRP, U_IFC, U_NB, U_ADDR, U_SYNC };

struct undo {
	uint32_t kind;
	uint32_t id;
	union {
		struct {
			uint8_t prefix[16];
			uint8_t plen;
			uint8_t had;
			uint8_t origin; /* U_ALT*: the key's origin */
			struct rt_val v;
		} rt;
		struct nh_cfg nh;
		struct {
			uint8_t used;
			uint8_t same; /* the version stayed (members re-sent unchanged) */
			uint32_t gen;
			struct grp_ver *ver;
		} grp;
		struct ifc_cfg ifc;
		struct {
			uint8_t key[NB_KLEN];
			uint8_t had;
			uint8_t dyn;
			uint8_t mac[6];
			uint8_t origin;
			uint32_t gen;
		} nb;
		struct addr addr;
		struct {
			uint32_t gen;
			uint8_t active;
			uint8_t origin;
		} sync;
	} u;
};

struct dirty {
	uint8_t *flag; /* [max] */
	uint32_t *list;
	uint32_t n;
};

/* Host route k of a known neighbour on a connected subnet: FIB addr/32 (/128) -> internal
 * next hop host_id(k), whose word is FORWARD to mac. Freed ids are reused oldest first, after
 * a QSBR grace period (a worker may still hold the old FIB value). */
struct host {
	uint8_t used;
	uint8_t family;
	uint16_t ifid;
	uint8_t mac[6];
	uint8_t reserved[2];
	uint8_t addr[16];
	uint32_t pos; /* index in host_list */
};

/* A control session (one per shared-memory slot). */
struct sess {
	uint8_t origin; /* from HELLO; NPR_ORIGIN_CONFIG before one */
	uint8_t hello;
	uint8_t batch_lost; /* its batch was aborted (cfg_session_end): refuse until it ends it */
	uint32_t pid;
	char name[NPR_NAME_LEN];
};

struct cfg {
	struct fwd_tables t; /* what the workers read */
	/* conf.nh_max and conf.group_max are the internal id spaces: NPR_ORIGIN_MAX - 1 slices
	 * of wire_nh / wire_grp ids, one per client origin (nh_int, grp_int) */
	struct cfg_conf conf;
	uint32_t wire_nh, wire_grp;	   /* ids a session may use: 1..wire-1 */
	int8_t port_idx[NPR_MAX_PORTS];	   /* port id -> index in conf.port, -1 */
	int16_t port_owner[NPR_MAX_PORTS]; /* port id -> interface bound to it, -1 */

	struct ifc ifc[NPR_MAX_IFACES];
	struct nh *nh;	 /* [nh_max] */
	struct grp *grp; /* [group_max] */
	struct addr addr[CFG_ADDR_MAX];
	struct htab rt[2];  /* selected routes by family */
	struct htab alt[2]; /* routes not selected (select.c) */
	struct htab nb;	    /* neighbours and gateway keys */
	uint32_t n_ifc, n_nh, n_grp, n_addr, n_neigh;
	uint16_t addr_plen[2][129];		      /* addresses by family and prefix length */
	uint32_t n_user_routes[2], n_local_routes[2]; /* selected (in rt) */
	uint32_t n_alt[2];
	uint32_t n_origin[2][NPR_ORIGIN_MAX]; /* routes by origin, selected or not */

	/* transaction */
	struct undo *undo;
	uint32_t n_undo, undo_cap;
	struct dirty nh_dirty, grp_dirty;
	bool ports_dirty;
	bool fib_dirty[2];

	/* sessions, batch and sync */
	struct sess sess[CFG_SESSIONS];
	bool batch_active, batch_poisoned;
	int batch_owner; /* session of the open batch */
	uint32_t batch_msgs;
	bool sync_active[NPR_ORIGIN_MAX];	  /* per origin */
	uint32_t gen[NPR_ORIGIN_MAX];		  /* sync generation per origin */
	int32_t batch_status;			  /* the open batch's first failure (poisoned) */
	struct npr_txn_stats txn[NPR_ORIGIN_MAX]; /* transactions by origin (txn_result) */

	/* replaced group versions (pointers) waiting for a grace period; room for one per
	 * dirty group is reserved by the request that dirties it */
	struct retire grp_old;

	/* host routes (derived, see hosts_sync) */
	struct host *host; /* [host_max] */
	uint32_t host_max;
	uint32_t *host_list, n_host; /* indices of used entries */
	struct retire host_ids;	     /* free indices, reused oldest first after a grace period */
	bool host_dirty;	     /* something that host routes depend on changed */
	bool host_retry;	     /* an allocation waited for a grace period: try again */
	uint64_t version;	     /* publishes so far: the slow path re-reads what it caches */

	uint64_t msgs_ok, msgs_err;
	/* batches a HELLO found left open on its slot by a session that died (shm_server
	 * counts those it aborts itself): both are batches_aborted in the statistics */
	uint64_t batches_dropped;
	uint8_t *buf; /* NPR_MSG_MAX: one dump chunk */
	struct npr_stats *stats;
};

/* A session's next hop / group id w as an internal id: origin o's slice. */
static inline uint32_t
nh_int(const struct cfg *c, unsigned o, uint32_t w)
{
	return (o - 1) * c->wire_nh + w;
}

static inline uint32_t
grp_int(const struct cfg *c, unsigned o, uint32_t w)
{
	return (o - 1) * c->wire_grp + w;
}

/* Back: the origin's own id of an internal one (configured next hops and groups only). */
static inline uint32_t
nh_wire(const struct cfg *c, uint32_t id)
{
	return id % c->wire_nh;
}

static inline uint32_t
grp_wire(const struct cfg *c, uint32_t id)
{
	return id % c->wire_grp;
}

/* A route target in its origin's namespace (local and connected targets unchanged). */
static inline uint32_t
target_wire(const struct cfg *c, uint32_t t)
{
	if (t & NPR_TARGET_LOCAL)
		return t;
	if (t & NPR_TARGET_GROUP)
		return NPR_TARGET_GROUP | grp_wire(c, t & NPR_TARGET_ID_MASK);
	return nh_wire(c, t);
}

/* Internal next hops (after the configured ids; never in dumps). */
static inline uint32_t
conn_id(const struct cfg *c, unsigned ifid)
{
	return c->conf.nh_max + ifid;
}

static inline uint32_t
host_id(const struct cfg *c, uint32_t k)
{
	return c->conf.nh_max + NPR_MAX_IFACES + k;
}

static inline struct fib *
fib_of(const struct cfg *c, int fam)
{
	return fam == F4 ? c->t.fib4 : c->t.fib6;
}

/* The version of group id the workers see now. */
static inline struct grp_ver *
grp_published(const struct cfg *c, uint32_t id)
{
	return fg_ver(atomic_load_explicit(&c->t.group[id], memory_order_relaxed));
}

/* Undo log and dirty sets. undo_reserve: 0 or -ENOMEM; undo_push needs reserved room. */
int undo_reserve(struct cfg *c, uint64_t n);
struct undo *undo_push(struct cfg *c, uint32_t kind, uint32_t id);
int dirty_init(struct dirty *d, uint32_t max);
void dirty_mark(struct dirty *d, uint32_t id);
void dirty_clear(struct dirty *d);

uint64_t mac48(const uint8_t *m);
/* The MAC interface ifid uses: its override, else its port's. */
const uint8_t *ifc_mac(const struct cfg *c, unsigned ifid);

void nb_key(struct nb *k, uint16_t ifid, uint8_t family, const uint8_t *addr);
struct nb *nb_find(const struct cfg *c, uint16_t ifid, uint8_t family, const uint8_t *addr);
/* Set (has) or clear the neighbour of a key; dyn: learnt, not configured. Room for one entry
 * must be reserved. */
void nb_apply(struct cfg *c, const void *key, bool has, const uint8_t *mac, uint32_t gen, bool dyn,
	      unsigned origin);
/* Remove the neighbour of key (there is one) with an undo record (room reserved). */
void nb_remove_logged(struct cfg *c, const void *key);
/* Remove the neighbours learnt on an interface (it is being deleted), with undo records.
 * 0 or -ENOMEM. */
int nb_flush_learnt(struct cfg *c, unsigned ifid);

/* The MAC a forward next hop sends to, if known. */
bool nh_eff_mac(const struct cfg *c, const struct nh_cfg *n, uint8_t *mac);
bool nh_live(const struct cfg *c, uint32_t id);
/* What the workers read for next hop id (configured or internal). */
uint64_t int_word(const struct cfg *c, uint32_t id);
uint64_t nh_word(const struct cfg *c, uint32_t id);
/* Move next hop id to configuration n (used or not). Room for one neighbour-table entry must
 * be reserved if n is indexed. */
void nh_apply(struct cfg *c, uint32_t id, const struct nh_cfg *n);

void grp_apply(struct cfg *c, uint32_t id, bool used, struct grp_ver *ver, uint32_t gen);
/* Spread the members over total slots by weight, interleaved. */
void grp_expand(const struct grp_ver *v, struct fwd_group *fg, uint32_t total);

void ifc_apply(struct cfg *c, unsigned id, const struct ifc_cfg *n);
void addr_apply(struct cfg *c, uint32_t slot, const struct addr *n);
/* The slot of router address a, or -1. */
int addr_find(const struct cfg *c, uint8_t family, const uint8_t *a);

/* A route key: prefix[alen], plen, used marker. */
void rt_key(uint8_t *key, int fam, const uint8_t *prefix, uint8_t plen);
/* Set (v != NULL) or delete (v == NULL, e must exist) the selected route of a key; e: its
 * entry in c->rt or NULL. Room for one undo record and one table entry must be reserved.
 * Fails only if the FIB does, before anything changed. */
int rt_apply(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, const struct rt_val *v);
/* Undo a route change (U_RT4/6). */
void rt_restore(struct cfg *c, int fam, const struct undo *u);
/* Count a route (selected or not) in or out: its target's users and the route counters. */
void rt_ref(struct cfg *c, int fam, const struct rt_val *v, int d);

/* ---- 3. hosts.c --------------------------------------------------------------------- */

/* The subnet route key of an address. */
void subnet_key(uint8_t *key, const struct addr *a);
/* Make the RIB's route for a subnet key what the addresses want: a route someone configured
 * on that exact prefix wins. Needs room for one undo record and one route entry. Fails only
 * if the FIB does. */
int conn_fix(struct cfg *c, int fam, const uint8_t *key);
/* Recompute the host routes from the committed state (after publish, outside transactions). */
void hosts_sync(struct cfg *c);

/* select.c: routes by origin. A key is a route key (rt_key); o a client origin. */

/* Is a better than b (lower distance, then lower origin)? */
static inline bool
rt_better(const struct rt_val *a, const struct rt_val *b)
{
	return a->dist != b->dist ? a->dist < b->dist : a->origin < b->origin;
}
/* e is key's entry in c->rt (ht_find), or NULL: the callers have it at hand. */
/* Origin v->origin's route on key becomes v; the best route of the key is selected. Needs
 * room for 4 undo records, one entry in c->rt and one in c->alt. Fails only if the FIB
 * does. */
int route_set(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, const struct rt_val *v);
/* Remove origin o's route on key (-ENOENT if it has none); the next best takes over, or the
 * connected route comes back. Needs room as route_set. */
int route_del(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, unsigned o);
/* Origin o's route on key, or NULL; *selected: it is the one in the FIB. */
const struct rt_val *route_get(const struct cfg *c, int fam, const uint8_t *key, uint8_t *e,
			       unsigned o, bool *selected);
/* Undo a change of a route not selected (U_ALT4/6). */
void alt_restore(struct cfg *c, int fam, const struct undo *u);

/* ---- 4. txn.c ----------------------------------------------------------------------- */

/* Undo everything since the last publish; what the workers see never changed. */
void rollback(struct cfg *c);
/* Make the workers see our state (the undo log is dropped). */
void publish(struct cfg *c);
/* Room to retire the published version of every dirty group and one more. 0 or -ENOMEM. */
int grp_retire_reserve(struct cfg *c);
/* Free the group versions no worker can see any more (force: all of them, at teardown). */
void grp_reclaim(struct cfg *c, bool force);
/* A transaction of origin o ended (npr_txn_stats, proto.h): committed (status 0) or
 * failed (-errno), now. */
void txn_result(struct cfg *c, unsigned o, int status);

/* ---- 5. req.c: requests that change objects ----------------------------------------- */

/* One request being handled: the record (copied out of the ring), its header, the reply. */
struct rq {
	struct cfg *c;
	const uint8_t *rec;
	uint32_t len;
	unsigned sid;	 /* session */
	unsigned origin; /* its origin */
	struct npr_msg_hdr h;
	struct npr_reply *rep;
	cfg_emit_fn emit;
	void *ctx;
};

/* Set the reply's index and message; returns rc. */
int __attribute__((format(printf, 4, 5)))
fail(struct rq *q, int rc, uint32_t index, const char *fmt, ...);

int check_ifid(struct rq *q, uint32_t ifid, bool must_exist);
int check_family(struct rq *q, unsigned family);
/* Delete next hop or group id with an undo record (room reserved); fail()s if in use. */
int nh_del(struct rq *q, uint32_t id);
int grp_del(struct rq *q, uint32_t id);

/* Handlers: 0, or a negative errno with the reason in the reply (fail). The record has the
 * size its message table entry says (msg.c). */
int h_iface_set(struct rq *q);
int h_iface_del(struct rq *q);
int h_addr(struct rq *q);
int h_neigh(struct rq *q);
int h_nh_set(struct rq *q);
int h_id_del(struct rq *q);
int h_group_set(struct rq *q);
int h_route(struct rq *q);

/* ---- 6. session.c, dump.c ----------------------------------------------------------- */

int h_hello(struct rq *q);
int h_batch(struct rq *q);
int h_sync_begin(struct rq *q);
int h_sync_end(struct rq *q);

int h_dump(struct rq *q);
int h_stats(struct rq *q);
int h_lookup(struct rq *q);
int h_stats_clear(struct rq *q);

#endif
