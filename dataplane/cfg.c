/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-thread state machine: validates every request record, keeps the configuration
 * (interfaces, addresses, neighbours, next hops, groups, routes) and publishes it to the
 * forwarding tables that the workers read (fwd.h).
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
 * Router services (for the slow path, slowpath.c; same thread, outside transactions): an
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
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

#include "cfg.h"
#include "fib.h"
#include "fwd.h"

#define CFG_ADDR_MAX 1024u    /* router addresses, both families together */
#define CFG_NEIGH_MAX 262144u /* neighbour entries */
#define CFG_MTU_MIN 68u
#define CFG_MTU_MAX 9000u
#define CFG_MTU_DEF 1500u
#define CFG_HOST_MIN 1024u  /* host routes to neighbours: at least this many, */
#define CFG_HOST_MAX 65536u /* at most this many (as many as next hops in between) */

enum { F4 = 0, F6 = 1 };

static inline unsigned
alen_of(int fam)
{
	return fam == F4 ? 4 : 16;
}

/* ---------------------------------------------------------------------------------------- */
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

static uint64_t
ht_hash(const uint8_t *k, uint32_t klen)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ klen, w;

	while (klen >= 8) {
		memcpy(&w, k, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
		k += 8;
		klen -= 8;
	}
	w = 0;
	memcpy(&w, k, klen);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return h;
}

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

static int
ht_init(struct htab *t, uint32_t esize, uint32_t klen, uint32_t cap)
{
	t->slot = calloc(cap, esize);
	if (t->slot == NULL)
		return -ENOMEM;
	t->cap = cap;
	t->n = 0;
	t->esize = esize;
	t->klen = klen;
	return 0;
}

static void *
ht_find(const struct htab *t, const void *key)
{
	uint32_t mask = t->cap - 1, i = (uint32_t)ht_hash(key, t->klen) & mask;

	for (;;) {
		uint8_t *e = ht_at(t, i);
		if (!ht_used(t, e))
			return NULL;
		if (memcmp(e, key, t->klen) == 0)
			return e;
		i = (i + 1) & mask;
	}
}

/* The key must be absent and room reserved: this cannot fail. The value part is zeroed. */
static void *
ht_insert(struct htab *t, const void *key)
{
	uint32_t mask = t->cap - 1, i = (uint32_t)ht_hash(key, t->klen) & mask;
	uint8_t *e;

	while (ht_used(t, e = ht_at(t, i)))
		i = (i + 1) & mask;
	memset(e, 0, t->esize);
	memcpy(e, key, t->klen);
	t->n++;
	return e;
}

static void
ht_remove(struct htab *t, void *ep)
{
	uint32_t mask = t->cap - 1;
	uint32_t i = (uint32_t)(((uint8_t *)ep - t->slot) / t->esize), j = i;

	for (;;) {
		j = (j + 1) & mask;
		uint8_t *e = ht_at(t, j);
		if (!ht_used(t, e))
			break;
		uint32_t h = (uint32_t)ht_hash(e, t->klen) & mask;
		/* The entry at j may fill the hole at i unless its home lies in (i, j]. */
		bool stay = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!stay) {
			memcpy(ht_at(t, i), e, t->esize);
			i = j;
		}
	}
	memset(ht_at(t, i), 0, t->esize);
	t->n--;
}

/* Make room for extra more entries. 0 or -ENOMEM (the table is unchanged then). */
static int
ht_reserve(struct htab *t, uint32_t extra)
{
	uint64_t need = (uint64_t)t->n + extra, cap = t->cap;

	if (need * 4 <= cap * 3)
		return 0;
	while (need * 4 > cap * 3)
		cap *= 2;
	if (cap > (1ull << 31))
		return -ENOMEM;
	uint8_t *ns = calloc(cap, t->esize);
	if (ns == NULL)
		return -ENOMEM;
	struct htab nt = { ns, (uint32_t)cap, 0, t->esize, t->klen };
	for (uint32_t i = 0; i < t->cap; i++) {
		uint8_t *e = ht_at(t, i);
		if (ht_used(t, e))
			memcpy(ht_insert(&nt, e), e, t->esize);
	}
	free(t->slot);
	*t = nt;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Objects. Each has a "cfg" part (what a request sets; snapshotted whole in the undo log)
 * and derived bookkeeping (use counts, index links) kept right by the *_apply functions. */

struct ifc_cfg {
	uint8_t used;
	uint8_t reserved;
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
	uint16_t flags; /* NPR_NH_F_MAC */
	uint8_t mac[6];
	uint8_t reserved2[2];
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
 * that follows it in the same allocation; a replaced version is retired through a QSBR FIFO
 * (next, token) and freed after a grace period. */
struct grp_ver {
	struct grp_ver *next;
	uint64_t token;
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
	uint8_t reserved;
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
	uint32_t gen;
	uint32_t nh_head;
	uint32_t hnh; /* 1 + host route index (struct host) while it has one; 0: none */
};
#define NB_KLEN ((uint32_t)offsetof(struct nb, used) + 1)

/* Route entries: prefix[alen], plen, used (end of key), 2 bytes pad, then struct rt_val. */
struct rt_val {
	uint32_t target; /* nh id, NPR_TARGET_GROUP | group id, or NPR_TARGET_LOCAL */
	uint32_t gen;
};
#define RT_KLEN(alen) ((alen) + 2)
#define RT_ESIZE(alen) ((alen) + 4 + (uint32_t)sizeof(struct rt_val))

static inline struct rt_val *
rt_val(uint8_t *e, unsigned alen)
{
	return (struct rt_val *)(e + alen + 4);
}

enum undo_kind { U_RT4 = 1, U_RT6, U_NH, U_GRP, U_IFC, U_NB, U_ADDR, U_SYNC };

struct undo {
	uint32_t kind;
	uint32_t id;
	union {
		struct {
			uint8_t prefix[16];
			uint8_t plen;
			uint8_t had;
			uint32_t target, gen;
		} rt;
		struct nh_cfg nh;
		struct {
			uint8_t used;
			uint32_t gen;
			struct grp_ver *ver;
		} grp;
		struct ifc_cfg ifc;
		struct {
			uint8_t key[NB_KLEN];
			uint8_t had;
			uint8_t dyn;
			uint8_t mac[6];
			uint32_t gen;
		} nb;
		struct addr addr;
		struct {
			uint32_t gen;
			uint8_t active;
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

struct host_free {
	uint32_t k;
	uint64_t token;
};

struct cfg {
	struct fwd_tables t; /* what the workers read */
	struct cfg_conf conf;
	int8_t port_idx[NPR_MAX_PORTS];	   /* port id -> index in conf.port, -1 */
	int16_t port_owner[NPR_MAX_PORTS]; /* port id -> interface bound to it, -1 */

	struct ifc ifc[NPR_MAX_IFACES];
	struct nh *nh;	 /* [nh_max] */
	struct grp *grp; /* [group_max] */
	struct addr addr[CFG_ADDR_MAX];
	struct htab rt[2]; /* routes by family */
	struct htab nb;	   /* neighbours and gateway keys */
	uint32_t n_ifc, n_nh, n_grp, n_addr, n_neigh;
	uint16_t addr_plen[2][129]; /* addresses by family and prefix length */
	uint32_t n_user_routes[2], n_local_routes[2];

	/* transaction */
	struct undo *undo;
	uint32_t n_undo, undo_cap;
	struct dirty nh_dirty, grp_dirty;
	bool ports_dirty;
	bool fib_dirty[2];

	/* batch and sync */
	bool batch_active, batch_poisoned;
	uint32_t batch_msgs;
	bool sync_active;
	uint32_t gen;

	/* retired group versions waiting for a grace period, oldest first */
	struct grp_ver *retire_head, *retire_tail;

	/* host routes (derived, see hosts_sync) */
	struct host *host; /* [host_max] */
	uint32_t host_max;
	uint32_t *host_list, n_host; /* indices of used entries */
	struct host_free *hfree;     /* FIFO of free indices: [host_max] */
	uint32_t hfree_head, hfree_n;
	bool host_dirty;  /* something that host routes depend on changed */
	bool host_retry;  /* an allocation waited for a grace period: try again */
	uint64_t version; /* publishes so far: the slow path re-reads what it caches */

	uint64_t msgs_ok, msgs_err;
	uint64_t t0_ns;
	uint8_t *buf; /* NPR_MSG_MAX: one dump chunk */
	struct npr_stats *stats;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
mac48(const uint8_t *m)
{
	uint64_t v = 0;
	for (int i = 5; i >= 0; i--)
		v = (v << 8) | m[i];
	return v;
}

static bool
mac_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static const char *
fmt_mac(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* family: NPR_AF_INET or NPR_AF_INET6; buf >= INET6_ADDRSTRLEN */
static const char *
fmt_ip(unsigned family, const uint8_t *a, char *buf)
{
	if (inet_ntop(family == NPR_AF_INET ? AF_INET : AF_INET6, a, buf, INET6_ADDRSTRLEN) == NULL)
		strcpy(buf, "?");
	return buf;
}

static bool
host_bits(const uint8_t *p, unsigned alen, unsigned plen)
{
	for (unsigned i = 0; i < alen; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : (plen > 8 * i ? plen - 8 * i : 0);
		uint8_t mask = (uint8_t)(0xff00u >> keep);
		if (p[i] & ~mask)
			return true;
	}
	return false;
}

static void
mask_prefix(uint8_t *p, unsigned alen, unsigned plen)
{
	for (unsigned i = 0; i < alen; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : (plen > 8 * i ? plen - 8 * i : 0);
		p[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* A unicast host address: why it is not, or NULL. family is 4 or 6. */
static const char *
bad_unicast(unsigned family, const uint8_t *a)
{
	if (family == NPR_AF_INET) {
		if (!all_zero(a + 4, 12))
			return "has bytes set beyond the IPv4 address";
		if (all_zero(a, 4))
			return "is unspecified";
		if (a[0] == 127)
			return "is a loopback address";
		if (a[0] >= 224)
			return "is multicast, broadcast or reserved";
		return NULL;
	}
	if (all_zero(a, 16))
		return "is unspecified";
	if (all_zero(a, 15) && a[15] == 1)
		return "is the loopback address";
	if (a[0] == 0xff)
		return "is multicast";
	return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Requests */

struct rq {
	struct cfg *c;
	const uint8_t *rec;
	uint32_t len;
	struct npr_msg_hdr h;
	struct npr_reply *rep;
	cfg_emit_fn emit;
	void *ctx;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct rq *q, int rc, uint32_t index, const char *fmt, ...)
{
	va_list ap;

	q->rep->index = index;
	va_start(ap, fmt);
	vsnprintf(q->rep->msg, sizeof(q->rep->msg), fmt, ap);
	va_end(ap);
	return rc;
}

static const char *const type_names[] = {
	[NPR_MSG_HELLO] = "HELLO",
	[NPR_MSG_IFACE_SET] = "IFACE_SET",
	[NPR_MSG_IFACE_DEL] = "IFACE_DEL",
	[NPR_MSG_ADDR_ADD] = "ADDR_ADD",
	[NPR_MSG_ADDR_DEL] = "ADDR_DEL",
	[NPR_MSG_NEIGH_SET] = "NEIGH_SET",
	[NPR_MSG_NEIGH_DEL] = "NEIGH_DEL",
	[NPR_MSG_NH_SET] = "NH_SET",
	[NPR_MSG_NH_DEL] = "NH_DEL",
	[NPR_MSG_GROUP_SET] = "GROUP_SET",
	[NPR_MSG_GROUP_DEL] = "GROUP_DEL",
	[NPR_MSG_ROUTE4_ADD] = "ROUTE4_ADD",
	[NPR_MSG_ROUTE4_REPLACE] = "ROUTE4_REPLACE",
	[NPR_MSG_ROUTE4_DEL] = "ROUTE4_DEL",
	[NPR_MSG_ROUTE6_ADD] = "ROUTE6_ADD",
	[NPR_MSG_ROUTE6_REPLACE] = "ROUTE6_REPLACE",
	[NPR_MSG_ROUTE6_DEL] = "ROUTE6_DEL",
	[NPR_MSG_BATCH_BEGIN] = "BATCH_BEGIN",
	[NPR_MSG_BATCH_COMMIT] = "BATCH_COMMIT",
	[NPR_MSG_BATCH_ABORT] = "BATCH_ABORT",
	[NPR_MSG_SYNC_BEGIN] = "SYNC_BEGIN",
	[NPR_MSG_SYNC_END] = "SYNC_END",
	[NPR_MSG_STATS_REQ] = "STATS_REQ",
	[NPR_MSG_DUMP_REQ] = "DUMP_REQ",
	[NPR_MSG_LOOKUP] = "LOOKUP",
	[NPR_MSG_STATS_CLEAR] = "STATS_CLEAR",
};

/* ---------------------------------------------------------------------------------------- */
/* Undo log and dirty sets */

static int
undo_reserve(struct cfg *c, uint64_t n)
{
	uint64_t need = (uint64_t)c->n_undo + n, cap = c->undo_cap;

	if (need <= cap)
		return 0;
	if (need > UINT32_MAX / 2)
		return -ENOMEM;
	while (cap < need)
		cap = cap < 64 ? 64 : cap * 2;
	struct undo *u = realloc(c->undo, cap * sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	c->undo = u;
	c->undo_cap = (uint32_t)cap;
	return 0;
}

/* Room was reserved. */
static struct undo *
undo_push(struct cfg *c, uint32_t kind, uint32_t id)
{
	struct undo *u = &c->undo[c->n_undo++];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->id = id;
	return u;
}

static void
dirty_mark(struct dirty *d, uint32_t id)
{
	if (!d->flag[id]) {
		d->flag[id] = 1;
		d->list[d->n++] = id;
	}
}

static void
dirty_clear(struct dirty *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		d->flag[d->list[i]] = 0;
	d->n = 0;
}

static int
dirty_init(struct dirty *d, uint32_t max)
{
	d->flag = calloc(max, 1);
	d->list = calloc(max, sizeof(uint32_t));
	d->n = 0;
	return d->flag == NULL || d->list == NULL ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Neighbour table */

static void
nb_key(struct nb *k, uint16_t ifid, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addr, 16);
	k->ifid = ifid;
	k->family = family;
	k->used = 1;
}

static struct nb *
nb_find(const struct cfg *c, uint16_t ifid, uint8_t family, const uint8_t *addr)
{
	struct nb k;
	nb_key(&k, ifid, family, addr);
	return ht_find(&c->nb, &k);
}

/* A next hop whose MAC comes from the neighbour table. */
static bool
nh_indexed(const struct nh_cfg *n)
{
	return n->used && n->kind == NPR_NH_FORWARD && n->family != 0 && !(n->flags & NPR_NH_F_MAC);
}

static void
nb_mark_nhs(struct cfg *c, const struct nb *e)
{
	for (uint32_t id = e->nh_head; id != 0; id = c->nh[id].gw_next)
		dirty_mark(&c->nh_dirty, id);
}

/* Set (has) or clear the neighbour of a key; dyn: learnt, not configured. Room for one entry
 * must be reserved. */
static void
nb_apply(struct cfg *c, const void *key, bool has, const uint8_t *mac, uint32_t gen, bool dyn)
{
	struct nb *e = ht_find(&c->nb, key);

	if (e == NULL) {
		if (!has)
			return;
		e = ht_insert(&c->nb, key);
	}
	bool was = e->has_neigh;
	bool changed = was != has || (has && memcmp(e->mac, mac, 6) != 0);
	if (was != has) {
		c->n_neigh += has ? 1 : -1;
		c->ifc[e->ifid].n_neigh += has ? 1 : -1;
	}
	e->has_neigh = has;
	e->dynamic = has && dyn;
	if (has)
		memcpy(e->mac, mac, 6);
	else
		memset(e->mac, 0, 6);
	e->gen = has ? gen : 0;
	if (changed) {
		nb_mark_nhs(c, e);
		c->host_dirty = true;
	}
	if (!has && e->nh_head == 0)
		ht_remove(&c->nb, e);
}

/* ---------------------------------------------------------------------------------------- */
/* Next hops */

static const uint8_t *
ifc_mac(const struct cfg *c, unsigned ifid)
{
	const struct ifc_cfg *i = &c->ifc[ifid].cfg;
	if (!mac_zero(i->mac))
		return i->mac;
	return c->conf.port[c->port_idx[i->port_id]].mac;
}

/* The MAC a forward next hop sends to, if known. */
static bool
nh_eff_mac(const struct cfg *c, const struct nh_cfg *n, uint8_t *mac)
{
	if (n->flags & NPR_NH_F_MAC) {
		memcpy(mac, n->mac, 6);
		return true;
	}
	if (n->family != 0) {
		const struct nb *e = nb_find(c, n->ifid, n->family, n->gw);
		if (e != NULL && e->has_neigh) {
			memcpy(mac, e->mac, 6);
			return true;
		}
	}
	memset(mac, 0, 6);
	return false;
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

/* The FIB value of a RIB target: a connected route goes to its interface's next hop. */
static uint32_t
fib_val(const struct cfg *c, uint32_t target)
{
	if ((target & NPR_TARGET_LOCAL) && (target & NPR_TARGET_CONNECTED))
		return conn_id(c, target & 0xffffu);
	return target;
}

static bool
nh_live(const struct cfg *c, uint32_t id)
{
	if (id < c->conf.nh_max)
		return c->nh[id].cfg.used;
	if (id < host_id(c, 0))
		return c->ifc[id - c->conf.nh_max].cfg.used;
	return c->host[id - host_id(c, 0)].used;
}

/* Connected next hop: the slow path resolves each host (UNRESOLVED). Host route: FORWARD. */
static uint64_t
int_word(const struct cfg *c, uint32_t id)
{
	unsigned ifid, kind = FWD_NH_UNRESOLVED;
	uint64_t mac = 0;

	if (id < host_id(c, 0)) {
		ifid = id - c->conf.nh_max;
	} else {
		const struct host *h = &c->host[id - host_id(c, 0)];
		if (!h->used)
			return fwd_nh_pack(FWD_NH_INVALID, 0, 0);
		ifid = h->ifid;
		kind = FWD_NH_FORWARD;
		mac = mac48(h->mac);
	}
	const struct ifc_cfg *i = &c->ifc[ifid].cfg;
	if (!i->used)
		return fwd_nh_pack(FWD_NH_INVALID, 0, 0);
	if (!(i->flags & NPR_IFACE_F_UP))
		return fwd_nh_pack(FWD_NH_IFACE_DOWN, i->port_id, 0);
	return fwd_nh_pack(kind, i->port_id, mac);
}

static uint64_t
nh_word(const struct cfg *c, uint32_t id)
{
	const struct nh_cfg *n = &c->nh[id].cfg;
	uint8_t mac[6];

	if (id >= c->conf.nh_max)
		return int_word(c, id);
	if (!n->used)
		return fwd_nh_pack(FWD_NH_INVALID, 0, 0);
	switch (n->kind) {
	case NPR_NH_BLACKHOLE:
		return fwd_nh_pack(FWD_NH_BLACKHOLE, 0, 0);
	case NPR_NH_UNREACHABLE:
		return fwd_nh_pack(FWD_NH_UNREACHABLE, 0, 0);
	case NPR_NH_PROHIBIT:
		return fwd_nh_pack(FWD_NH_PROHIBIT, 0, 0);
	default:
		break;
	}
	const struct ifc_cfg *i = &c->ifc[n->ifid].cfg;
	if (!(i->flags & NPR_IFACE_F_UP))
		return fwd_nh_pack(FWD_NH_IFACE_DOWN, i->port_id, 0);
	if (!nh_eff_mac(c, n, mac))
		return fwd_nh_pack(FWD_NH_UNRESOLVED, i->port_id, 0);
	return fwd_nh_pack(FWD_NH_FORWARD, i->port_id, mac48(mac));
}

static void
gw_link(struct cfg *c, uint32_t id)
{
	const struct nh_cfg *n = &c->nh[id].cfg;
	struct nb k, *e;

	nb_key(&k, n->ifid, n->family, n->gw);
	e = ht_find(&c->nb, &k);
	if (e == NULL)
		e = ht_insert(&c->nb, &k);
	c->nh[id].gw_prev = 0;
	c->nh[id].gw_next = e->nh_head;
	if (e->nh_head != 0)
		c->nh[e->nh_head].gw_prev = id;
	e->nh_head = id;
}

static void
gw_unlink(struct cfg *c, uint32_t id)
{
	struct nh *x = &c->nh[id];
	struct nb *e = nb_find(c, x->cfg.ifid, x->cfg.family, x->cfg.gw);

	if (x->gw_next != 0)
		c->nh[x->gw_next].gw_prev = x->gw_prev;
	if (x->gw_prev != 0)
		c->nh[x->gw_prev].gw_next = x->gw_next;
	else if (e != NULL)
		e->nh_head = x->gw_next;
	x->gw_prev = x->gw_next = 0;
	if (e != NULL && e->nh_head == 0 && !e->has_neigh)
		ht_remove(&c->nb, e);
}

/* Move next hop id to configuration n (used or not). Room for one neighbour-table entry must
 * be reserved if n is indexed. */
static void
nh_apply(struct cfg *c, uint32_t id, const struct nh_cfg *n)
{
	struct nh *x = &c->nh[id];

	if (x->cfg.used) {
		c->n_nh--;
		if (x->cfg.kind == NPR_NH_FORWARD)
			c->ifc[x->cfg.ifid].n_nh--;
		if (nh_indexed(&x->cfg))
			gw_unlink(c, id);
	}
	x->cfg = *n;
	if (n->used) {
		c->n_nh++;
		if (n->kind == NPR_NH_FORWARD)
			c->ifc[n->ifid].n_nh++;
		if (nh_indexed(n))
			gw_link(c, id);
	}
	dirty_mark(&c->nh_dirty, id);
}

/* ---------------------------------------------------------------------------------------- */
/* Groups */

static struct grp_ver *
grp_published(const struct cfg *c, uint32_t id)
{
	return fg_ver(atomic_load_explicit(&c->t.group[id], memory_order_relaxed));
}

static void
grp_apply(struct cfg *c, uint32_t id, bool used, struct grp_ver *ver, uint32_t gen)
{
	struct grp *g = &c->grp[id];

	if (g->used) {
		c->n_grp--;
		for (uint32_t i = 0; i < g->ver->n_members; i++)
			c->nh[g->ver->m[i].nh_id].grp_refs--;
	}
	if (used) {
		c->n_grp++;
		for (uint32_t i = 0; i < ver->n_members; i++)
			c->nh[ver->m[i].nh_id].grp_refs++;
	}
	if (g->used != used || g->ver != (used ? ver : NULL))
		dirty_mark(&c->grp_dirty, id);
	g->used = used;
	g->ver = used ? ver : NULL;
	g->gen = used ? gen : 0;
}

/* Spread the members over the slots by weight, interleaved (smooth weighted round robin):
 * weights 3 and 1 give A A B A rather than A A A B, so that a slot range taken by a hash
 * hits every member in proportion. */
static void
grp_expand(const struct grp_ver *v, struct fwd_group *fg, uint32_t total)
{
	int32_t cur[NPR_GROUP_MAX_MEMBERS] = { 0 };

	for (uint32_t s = 0; s < total; s++) {
		uint32_t best = 0;
		for (uint32_t i = 0; i < v->n_members; i++) {
			cur[i] += v->m[i].weight;
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= (int32_t)total;
		fg->nh[s] = v->m[best].nh_id;
	}
	fg->n_slots = total;
}

static void
retire(struct cfg *c, struct grp_ver *v)
{
	if (c->conf.qsbr == NULL) {
		free(v);
		return;
	}
	v->token = rte_rcu_qsbr_start(c->conf.qsbr);
	v->next = NULL;
	if (c->retire_tail != NULL)
		c->retire_tail->next = v;
	else
		c->retire_head = v;
	c->retire_tail = v;
}

/* ---------------------------------------------------------------------------------------- */
/* Interfaces and addresses */

static void
ifc_mark_nhs(struct cfg *c, unsigned ifid)
{
	if (c->ifc[ifid].n_nh == 0)
		return;
	for (uint32_t id = 1; id < c->conf.nh_max; id++) {
		const struct nh_cfg *n = &c->nh[id].cfg;
		if (n->used && n->kind == NPR_NH_FORWARD && n->ifid == ifid)
			dirty_mark(&c->nh_dirty, id);
	}
}

static void
ifc_apply(struct cfg *c, unsigned id, const struct ifc_cfg *n)
{
	struct ifc_cfg *o = &c->ifc[id].cfg;

	if (o->used != n->used || o->port_id != n->port_id || o->flags != n->flags ||
	    memcmp(o->mac, n->mac, 6) != 0 || o->mtu != n->mtu)
		c->ports_dirty = true;
	if (o->used != n->used || o->port_id != n->port_id ||
	    ((o->flags ^ n->flags) & NPR_IFACE_F_UP)) {
		ifc_mark_nhs(c, id);
		/* internal next hops on it: the connected one and host routes */
		dirty_mark(&c->nh_dirty, conn_id(c, id));
		for (uint32_t i = 0; i < c->n_host; i++)
			if (c->host[c->host_list[i]].ifid == id)
				dirty_mark(&c->nh_dirty, host_id(c, c->host_list[i]));
	}
	c->host_dirty = true;
	if (o->used) {
		c->port_owner[o->port_id] = -1;
		c->n_ifc--;
	}
	if (n->used) {
		c->port_owner[n->port_id] = (int16_t)id;
		c->n_ifc++;
	}
	*o = *n;
}

static void
addr_apply(struct cfg *c, uint32_t slot, const struct addr *n)
{
	struct addr *o = &c->addr[slot];

	if (o->used) {
		c->ifc[o->ifid].n_addr--;
		c->n_addr--;
		c->addr_plen[o->family == NPR_AF_INET ? F4 : F6][o->plen]--;
	}
	if (n->used) {
		c->ifc[n->ifid].n_addr++;
		c->n_addr++;
		c->addr_plen[n->family == NPR_AF_INET ? F4 : F6][n->plen]++;
	}
	*o = *n;
	c->host_dirty = true;
}

static int
addr_find(const struct cfg *c, uint8_t family, const uint8_t *a)
{
	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++)
		if (c->addr[i].used && c->addr[i].family == family &&
		    memcmp(c->addr[i].a, a, 16) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Routes */

static struct fib *
fib_of(struct cfg *c, int fam)
{
	return fam == F4 ? c->t.fib4 : c->t.fib6;
}

static void
rt_key(uint8_t *key, int fam, const uint8_t *prefix, uint8_t plen)
{
	unsigned alen = alen_of(fam);
	memcpy(key, prefix, alen);
	key[alen] = plen;
	key[alen + 1] = 1;
}

static void
target_ref(struct cfg *c, uint32_t target, int d)
{
	if (target & NPR_TARGET_LOCAL)
		return;
	if (target & NPR_TARGET_GROUP)
		c->grp[target & NPR_TARGET_ID_MASK].refcnt += (uint32_t)d;
	else
		c->nh[target].route_refs += (uint32_t)d;
}

/* Local and connected routes (the router's own) do not count against route4/6_max. */
static void
rt_count(struct cfg *c, int fam, uint32_t target, int d)
{
	if (target & NPR_TARGET_LOCAL)
		c->n_local_routes[fam] += (uint32_t)d;
	else
		c->n_user_routes[fam] += (uint32_t)d;
}

/* Set (target != 0) or delete (target == 0, e must exist) a route; e: its entry or NULL.
 * Room for one undo record and one table entry must be reserved. Fails only if the FIB
 * does, before anything changed. */
static int
rt_apply(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, uint32_t target, uint32_t gen)
{
	unsigned alen = alen_of(fam);
	struct fib *f = fib_of(c, fam);
	struct undo *u;
	int rc;

	if (target != 0 && e != NULL && rt_val(e, alen)->target == target) {
		u = undo_push(c, fam == F4 ? U_RT4 : U_RT6, 0);
		memcpy(u->u.rt.prefix, key, alen);
		u->u.rt.plen = key[alen];
		u->u.rt.had = 1;
		u->u.rt.target = target;
		u->u.rt.gen = rt_val(e, alen)->gen;
		rt_val(e, alen)->gen = gen;
		return 0;
	}
	rc = target != 0 ? fib_set(f, key, key[alen], fib_val(c, target))
			 : fib_del(f, key, key[alen]);
	if (rc < 0)
		return rc;
	c->fib_dirty[fam] = true;
	u = undo_push(c, fam == F4 ? U_RT4 : U_RT6, 0);
	memcpy(u->u.rt.prefix, key, alen);
	u->u.rt.plen = key[alen];
	if (e != NULL) {
		struct rt_val *v = rt_val(e, alen);
		u->u.rt.had = 1;
		u->u.rt.target = v->target;
		u->u.rt.gen = v->gen;
		target_ref(c, v->target, -1);
		rt_count(c, fam, v->target, -1);
	}
	if (target == 0) {
		ht_remove(&c->rt[fam], e);
		return 0;
	}
	if (e == NULL)
		e = ht_insert(&c->rt[fam], key);
	rt_val(e, alen)->target = target;
	rt_val(e, alen)->gen = gen;
	target_ref(c, target, 1);
	rt_count(c, fam, target, 1);
	return 0;
}

/* Undo a route change: put back what was there before (the FIB ops re-create or re-delete
 * a state the FIB was in moments ago, within the room it had then). */
static void
rt_restore(struct cfg *c, int fam, const struct undo *u)
{
	unsigned alen = alen_of(fam);
	struct fib *f = fib_of(c, fam);
	uint8_t key[20];
	uint8_t *e;
	int rc;

	rt_key(key, fam, u->u.rt.prefix, u->u.rt.plen);
	e = ht_find(&c->rt[fam], key);
	if (u->u.rt.had) {
		if (e != NULL && rt_val(e, alen)->target == u->u.rt.target) {
			rt_val(e, alen)->gen = u->u.rt.gen;
			return;
		}
		rc = fib_set(f, key, u->u.rt.plen, fib_val(c, u->u.rt.target));
		if (e != NULL) {
			target_ref(c, rt_val(e, alen)->target, -1);
			rt_count(c, fam, rt_val(e, alen)->target, -1);
		} else {
			e = ht_insert(&c->rt[fam], key);
		}
		rt_val(e, alen)->target = u->u.rt.target;
		rt_val(e, alen)->gen = u->u.rt.gen;
		target_ref(c, u->u.rt.target, 1);
		rt_count(c, fam, u->u.rt.target, 1);
	} else {
		if (e == NULL)
			return;
		rc = fib_del(f, key, u->u.rt.plen);
		target_ref(c, rt_val(e, alen)->target, -1);
		rt_count(c, fam, rt_val(e, alen)->target, -1);
		ht_remove(&c->rt[fam], e);
	}
	if (rc < 0)
		fprintf(stderr, "cfg: FIB rollback failed (%s): RIB and FIB may differ\n",
			strerror(-rc));
	c->fib_dirty[fam] = true;
}

/* ---------------------------------------------------------------------------------------- */
/* Connected routes and host routes (router services) */

static inline bool
is_ll6(unsigned family, const uint8_t *a)
{
	return family == NPR_AF_INET6 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The connected route that addresses want for a subnet key, 0 for none: the first address
 * (slot order) of that family whose subnet it is. Host-length and IPv6 link-local addresses
 * have none (fe80::/64 is on every link). */
static uint32_t
conn_want(const struct cfg *c, int fam, const uint8_t *key)
{
	unsigned alen = alen_of(fam), family = fam == F4 ? NPR_AF_INET : NPR_AF_INET6;
	uint8_t p[16];

	if (key[alen] >= 8 * alen)
		return 0;
	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++) {
		const struct addr *a = &c->addr[i];
		if (!a->used || a->family != family || a->plen != key[alen] || is_ll6(family, a->a))
			continue;
		memcpy(p, a->a, alen);
		mask_prefix(p, alen, a->plen);
		if (memcmp(p, key, alen) == 0)
			return NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | a->ifid;
	}
	return 0;
}

static void
subnet_key(uint8_t *key, const struct addr *a)
{
	int fam = a->family == NPR_AF_INET ? F4 : F6;
	unsigned alen = alen_of(fam);

	memset(key, 0, 20);
	memcpy(key, a->a, alen);
	mask_prefix(key, alen, a->plen);
	key[alen] = a->plen;
	key[alen + 1] = 1;
}

/*
 * Make the RIB's route for a subnet key what the addresses want: a route someone configured
 * on that exact prefix wins (it stays; the connected route comes back when it goes). Needs
 * room for one undo record and one route entry. Fails only if the FIB does.
 */
static int
conn_fix(struct cfg *c, int fam, const uint8_t *key)
{
	unsigned alen = alen_of(fam);
	uint8_t *e = ht_find(&c->rt[fam], key);
	uint32_t want, cur = 0;

	if (e != NULL) {
		cur = rt_val(e, alen)->target;
		if (!(cur & NPR_TARGET_CONNECTED))
			return 0;
	}
	if (cur == 0 && c->addr_plen[fam][key[alen]] == 0)
		return 0;
	want = conn_want(c, fam, key);
	if (cur == want)
		return 0;
	return rt_apply(c, fam, key, e, want, c->gen);
}

/* Is the longest route in the RIB covering addr the connected route of interface ifid? */
static bool
on_link(const struct cfg *c, unsigned ifid, int fam, const uint8_t *addr)
{
	unsigned alen = alen_of(fam);
	uint8_t key[20];

	for (int plen = (int)(8 * alen); plen >= 0; plen--) {
		memset(key, 0, sizeof(key));
		memcpy(key, addr, alen);
		mask_prefix(key, alen, (unsigned)plen);
		key[alen] = (uint8_t)plen;
		key[alen + 1] = 1;
		uint8_t *e = ht_find(&c->rt[fam], key);
		if (e == NULL)
			continue;
		uint32_t t = rt_val(e, alen)->target;
		return (t & NPR_TARGET_LOCAL) && (t & NPR_TARGET_CONNECTED) &&
		       (t & 0xffffu) == ifid;
	}
	return false;
}

static int
host_alloc(struct cfg *c)
{
	if (c->hfree_n == 0)
		return -ENOSPC;
	const struct host_free *f = &c->hfree[c->hfree_head];
	if (c->conf.qsbr != NULL && f->token != 0 &&
	    rte_rcu_qsbr_check(c->conf.qsbr, f->token, false) != 1)
		return -EAGAIN; /* the oldest free id may still be seen by a worker */
	uint32_t k = f->k;
	c->hfree_head = (c->hfree_head + 1) % c->host_max;
	c->hfree_n--;
	c->host[k].used = 1;
	c->host[k].pos = c->n_host;
	c->host_list[c->n_host++] = k;
	return (int)k;
}

/* Take k out of the list of used entries (it keeps its word until host_free). */
static void
host_unlist(struct cfg *c, uint32_t k)
{
	struct host *h = &c->host[k];
	uint32_t last = c->host_list[--c->n_host];

	c->host_list[h->pos] = last;
	c->host[last].pos = h->pos;
}

/* After the FIB no longer points at it (committed): the word goes, the id waits for a grace
 * period before it is reused. */
static void
host_free(struct cfg *c, uint32_t k)
{
	memset(&c->host[k], 0, sizeof(c->host[k]));
	atomic_store_explicit(&c->t.nh[host_id(c, k)], fwd_nh_pack(FWD_NH_INVALID, 0, 0),
			      memory_order_release);
	struct host_free *f = &c->hfree[(c->hfree_head + c->hfree_n) % c->host_max];
	f->k = k;
	f->token = c->conf.qsbr != NULL ? rte_rcu_qsbr_start(c->conf.qsbr) : 0;
	c->hfree_n++;
}

static void
host_publish_word(struct cfg *c, uint32_t k)
{
	/* release: pairs with the worker's acquire load of the word, which it reaches from a
	 * FIB entry published after this store */
	atomic_store_explicit(&c->t.nh[host_id(c, k)], int_word(c, host_id(c, k)),
			      memory_order_release);
}

/*
 * Host routes are derived from the committed state: a neighbour (configured or learnt) whose
 * address is on a connected subnet of its interface (the longest RIB route covering it is
 * that connected route) gets addr/32 or /128 -> its own FORWARD next hop in the FIB. Runs
 * after publish, outside transactions. The FIB is checked with fib_get, so that a configured
 * route that overwrote or deleted the same prefix (possible: host routes are not in the RIB)
 * is noticed and repaired. Order: new next hop words before the FIB entries that use them;
 * removed entries committed before their words are cleared.
 */
static void
hosts_sync(struct cfg *c)
{
	uint32_t gone[64], n_gone = 0;
	bool changed[2] = { false, false };

	c->host_dirty = false;
	c->host_retry = false;
	for (uint32_t i = 0; i < c->n_host;) {
		uint32_t k = c->host_list[i], v;
		struct host *h = &c->host[k];
		int fam = h->family == NPR_AF_INET ? F4 : F6;
		unsigned hl = 8 * alen_of(fam);
		struct fib *f = fib_of(c, fam);
		struct nb *e = nb_find(c, h->ifid, h->family, h->addr);
		bool ours = fib_get(f, h->addr, (uint8_t)hl, &v) == 0 && v == host_id(c, k);

		if (e != NULL && e->has_neigh && e->hnh == k + 1 &&
		    on_link(c, h->ifid, fam, h->addr)) {
			if (memcmp(h->mac, e->mac, 6) != 0) {
				memcpy(h->mac, e->mac, 6);
				host_publish_word(c, k);
			}
			if (!ours && fib_set(f, h->addr, (uint8_t)hl, host_id(c, k)) == 0)
				changed[fam] = true;
			i++;
			continue;
		}
		if (e != NULL && e->hnh == k + 1)
			e->hnh = 0;
		if (ours && fib_del(f, h->addr, (uint8_t)hl) == 0)
			changed[fam] = true;
		if (n_gone == RTE_DIM(gone)) { /* finish the rest on the next round */
			c->host_retry = true;
			i++;
			continue;
		}
		gone[n_gone++] = k;
		host_unlist(c, k); /* the last one moves to i: no i++ */
	}
	for (uint32_t i = 0; i < c->nb.cap && !c->host_retry; i++) {
		struct nb *e = (struct nb *)ht_at(&c->nb, i);
		if (!e->used || !e->has_neigh || e->hnh != 0)
			continue;
		int fam = e->family == NPR_AF_INET ? F4 : F6;
		if (!on_link(c, e->ifid, fam, e->addr))
			continue;
		int k = host_alloc(c);
		if (k < 0) {
			c->host_retry = k == -EAGAIN;
			break;
		}
		struct host *h = &c->host[k];
		h->family = e->family;
		h->ifid = e->ifid;
		memcpy(h->mac, e->mac, 6);
		memcpy(h->addr, e->addr, 16);
		host_publish_word(c, (uint32_t)k);
		if (fib_set(fib_of(c, fam), e->addr, (uint8_t)(8 * alen_of(fam)),
			    host_id(c, (uint32_t)k)) < 0) {
			host_unlist(c, (uint32_t)k); /* FIB full: the slow path forwards to it */
			host_free(c, (uint32_t)k);
			continue;
		}
		e->hnh = (uint32_t)k + 1;
		changed[fam] = true;
	}
	for (int fam = F4; fam <= F6; fam++)
		if (changed[fam])
			fib_commit(fib_of(c, fam));
	for (uint32_t i = 0; i < n_gone; i++)
		host_free(c, gone[i]);
}

/* ---------------------------------------------------------------------------------------- */
/* Transactions */

static void
undo_one(struct cfg *c, const struct undo *u)
{
	switch (u->kind) {
	case U_RT4:
		rt_restore(c, F4, u);
		break;
	case U_RT6:
		rt_restore(c, F6, u);
		break;
	case U_NH:
		nh_apply(c, u->id, &u->u.nh);
		break;
	case U_GRP: {
		struct grp_ver *cur = c->grp[u->id].ver;
		grp_apply(c, u->id, u->u.grp.used, u->u.grp.ver, u->u.grp.gen);
		/* cur was made by the change being undone: nobody ever saw it */
		if (cur != NULL && cur != u->u.grp.ver && cur != grp_published(c, u->id))
			free(cur);
		break;
	}
	case U_IFC:
		ifc_apply(c, u->id, &u->u.ifc);
		break;
	case U_NB:
		nb_apply(c, u->u.nb.key, u->u.nb.had, u->u.nb.mac, u->u.nb.gen, u->u.nb.dyn);
		break;
	case U_ADDR:
		addr_apply(c, u->id, &u->u.addr);
		break;
	case U_SYNC:
		c->gen = u->u.sync.gen;
		c->sync_active = u->u.sync.active;
		break;
	}
}

/* Undo everything since the last publish; what the workers see never changed. */
static void
rollback(struct cfg *c)
{
	while (c->n_undo > 0) {
		c->n_undo--;
		undo_one(c, &c->undo[c->n_undo]);
	}
	/* The RIBs equal the published FIBs again; committing clears their dirty marks and
	 * publishes nothing different. */
	for (int fam = F4; fam <= F6; fam++) {
		if (c->fib_dirty[fam])
			fib_commit(fib_of(c, fam));
		c->fib_dirty[fam] = false;
	}
	dirty_clear(&c->nh_dirty);
	dirty_clear(&c->grp_dirty);
	c->ports_dirty = false;
}

/* Forget the undo log: free group versions that were replaced before anyone saw them (the
 * published ones are retired by publish). Must run before publish. */
static void
undo_discard(struct cfg *c)
{
	for (uint32_t i = 0; i < c->n_undo; i++) {
		const struct undo *u = &c->undo[i];
		if (u->kind != U_GRP || u->u.grp.ver == NULL)
			continue;
		if (u->u.grp.ver != c->grp[u->id].ver && u->u.grp.ver != grp_published(c, u->id))
			free(u->u.grp.ver);
	}
	c->n_undo = 0;
}

static void
ports_publish(struct cfg *c)
{
	for (unsigned i = 0; i < c->conf.n_ports; i++) {
		unsigned p = c->conf.port[i].port_id;
		struct fwd_port *fp = &c->t.port[p];
		uint64_t mac = 0;
		uint32_t up = 0;
		uint32_t mtu = 0;
		if (c->port_owner[p] >= 0) {
			unsigned ifid = (unsigned)c->port_owner[p];
			mac = mac48(ifc_mac(c, ifid));
			up = (c->ifc[ifid].cfg.flags & NPR_IFACE_F_UP) ? 1 : 0;
			mtu = c->ifc[ifid].cfg.mtu;
		}
		/* the MTU alone needs no order: a packet checked against either is fine */
		atomic_store_explicit(&fp->mtu, mtu, memory_order_relaxed);
		/* Going down: stop accepting before the MAC changes; going up: the MAC first. */
		if (!up)
			atomic_store_explicit(&fp->up, 0, memory_order_release);
		atomic_store_explicit(&fp->mac, mac, memory_order_release);
		if (up)
			atomic_store_explicit(&fp->up, 1, memory_order_release);
	}
}

static void
publish(struct cfg *c)
{
	undo_discard(c);
	/* 1. Live next hops first: a route or group published below may point at them. The
	 * release store pairs with the worker's acquire load of the word. */
	for (uint32_t i = 0; i < c->nh_dirty.n; i++) {
		uint32_t id = c->nh_dirty.list[i];
		if (nh_live(c, id))
			atomic_store_explicit(&c->t.nh[id], nh_word(c, id), memory_order_release);
	}
	/* 2. Live groups: a fresh immutable version, published by one pointer store (release:
	 * its slots are written before the pointer). */
	for (uint32_t i = 0; i < c->grp_dirty.n; i++) {
		uint32_t id = c->grp_dirty.list[i];
		struct grp_ver *old = grp_published(c, id);
		if (c->grp[id].used && c->grp[id].ver != old) {
			atomic_store_explicit(&c->t.group[id], ver_fg(c->grp[id].ver),
					      memory_order_release);
			if (old != NULL)
				retire(c, old);
		}
	}
	/* 3. Routes. */
	for (int fam = F4; fam <= F6; fam++) {
		if (c->fib_dirty[fam]) {
			fib_commit(fib_of(c, fam));
			c->host_dirty = true;
		}
		c->fib_dirty[fam] = false;
	}
	/* 4. Ports last: a port that comes up (and starts receiving: workers poll only up
	 * ports) sees the whole configuration it came up with, routes included. */
	if (c->ports_dirty)
		ports_publish(c);
	/* 5. Removed groups and next hops: no published route or group refers to them now. */
	for (uint32_t i = 0; i < c->grp_dirty.n; i++) {
		uint32_t id = c->grp_dirty.list[i];
		struct grp_ver *old = grp_published(c, id);
		if (!c->grp[id].used && old != NULL) {
			atomic_store_explicit(&c->t.group[id], NULL, memory_order_release);
			retire(c, old);
		}
	}
	for (uint32_t i = 0; i < c->nh_dirty.n; i++) {
		uint32_t id = c->nh_dirty.list[i];
		if (!nh_live(c, id))
			atomic_store_explicit(&c->t.nh[id], fwd_nh_pack(FWD_NH_INVALID, 0, 0),
					      memory_order_release);
	}
	dirty_clear(&c->nh_dirty);
	dirty_clear(&c->grp_dirty);
	c->ports_dirty = false;
	/* 6. Host routes follow the committed state. */
	if (c->host_dirty || c->host_retry)
		hosts_sync(c);
	c->version++;
}

/* ---------------------------------------------------------------------------------------- */
/* Field checks shared by several requests */

static int
check_ifid(struct rq *q, uint32_t ifid, bool must_exist)
{
	if (ifid >= NPR_MAX_IFACES)
		return fail(q, -EINVAL, 0, "interface id %u out of range (0..%u)", ifid,
			    NPR_MAX_IFACES - 1);
	if (must_exist && !q->c->ifc[ifid].cfg.used)
		return fail(q, -ENOENT, 0, "interface %u does not exist", ifid);
	return 0;
}

static int
check_family(struct rq *q, unsigned family)
{
	if (family != NPR_AF_INET && family != NPR_AF_INET6)
		return fail(q, -EINVAL, 0, "family %u is neither 4 nor 6", family);
	return 0;
}

static int
check_unicast_ip(struct rq *q, const char *what, unsigned family, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];
	const char *why = bad_unicast(family, a);
	if (why != NULL)
		return fail(q, -EINVAL, 0, "%s %s %s", what, fmt_ip(family, a, s), why);
	return 0;
}

static int
check_unicast_mac(struct rq *q, const char *what, const uint8_t *m)
{
	char s[18];
	if (mac_zero(m))
		return fail(q, -EINVAL, 0, "%s MAC is zero", what);
	if (m[0] & 1)
		return fail(q, -EINVAL, 0, "%s MAC %s is multicast", what, fmt_mac(m, s));
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Interfaces */

/* Remove the neighbours learnt on an interface (it is being deleted), with undo records. */
static int
nb_flush_learnt(struct cfg *c, unsigned ifid)
{
	uint32_t n = 0;
	int rc;

	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		n += e->used && e->has_neigh && e->dynamic && e->ifid == ifid;
	}
	if (n == 0)
		return 0;
	uint8_t(*keys)[NB_KLEN] = malloc((size_t)n * NB_KLEN);
	if (keys == NULL || (rc = undo_reserve(c, n)) < 0) {
		free(keys);
		return -ENOMEM;
	}
	n = 0;
	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		if (e->used && e->has_neigh && e->dynamic && e->ifid == ifid)
			memcpy(keys[n++], e, NB_KLEN);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct nb *e = ht_find(&c->nb, keys[i]);
		struct undo *u = undo_push(c, U_NB, 0);
		memcpy(u->u.nb.key, keys[i], NB_KLEN);
		u->u.nb.had = 1;
		u->u.nb.dyn = 1;
		memcpy(u->u.nb.mac, e->mac, 6);
		u->u.nb.gen = e->gen;
		nb_apply(c, keys[i], false, NULL, 0, false);
	}
	free(keys);
	return 0;
}

static int
h_iface_set(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_iface_set m;
	struct ifc_cfg n;
	char sm[18];
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if ((rc = check_ifid(q, m.ifid, false)) < 0)
		return rc;
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	const char *nul = memchr(m.name, 0, sizeof(m.name));
	if (nul == NULL)
		return fail(q, -EINVAL, 0, "interface name is not NUL-terminated");
	size_t nl = (size_t)(nul - m.name);
	if (nl == 0)
		return fail(q, -EINVAL, 0, "interface name is empty");
	for (size_t i = 0; i < nl; i++)
		if (m.name[i] < 0x21 || m.name[i] > 0x7e)
			return fail(q, -EINVAL, 0, "interface name has a non-printable byte at %zu",
				    i);
	if (!all_zero(nul, sizeof(m.name) - nl))
		return fail(q, -EINVAL, 0, "interface name has bytes after its NUL");
	uint32_t mtu = m.mtu == 0 ? CFG_MTU_DEF : m.mtu;
	if (mtu < CFG_MTU_MIN || mtu > CFG_MTU_MAX)
		return fail(q, -EINVAL, 0, "MTU %u out of range (%u..%u)", mtu, CFG_MTU_MIN,
			    CFG_MTU_MAX);
	if (m.flags & ~NPR_IFACE_F_UP)
		return fail(q, -EINVAL, 0, "unknown interface flags 0x%x",
			    m.flags & ~NPR_IFACE_F_UP);
	if (!mac_zero(m.mac) && (m.mac[0] & 1))
		return fail(q, -EINVAL, 0, "interface MAC %s is multicast", fmt_mac(m.mac, sm));
	if (m.port_id >= NPR_MAX_PORTS || c->port_idx[m.port_id] < 0)
		return fail(q, -ENODEV, 0, "port %u is not a port of this data plane", m.port_id);
	int owner = c->port_owner[m.port_id];
	if (owner >= 0 && owner != m.ifid)
		return fail(q, -EBUSY, 0, "port %u is already bound to interface %d (%s)",
			    m.port_id, owner, c->ifc[owner].cfg.name);
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++)
		if (i != m.ifid && c->ifc[i].cfg.used && strcmp(c->ifc[i].cfg.name, m.name) == 0)
			return fail(q, -EEXIST, 0, "name %s is already used by interface %u",
				    m.name, i);
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");

	memset(&n, 0, sizeof(n));
	n.used = 1;
	n.port_id = m.port_id;
	n.mtu = (uint16_t)mtu;
	n.flags = m.flags;
	memcpy(n.mac, m.mac, 6);
	memcpy(n.name, m.name, sizeof(n.name));
	n.gen = c->gen;
	undo_push(c, U_IFC, m.ifid)->u.ifc = c->ifc[m.ifid].cfg;
	ifc_apply(c, m.ifid, &n);
	return 0;
}

static int
h_iface_del(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_iface_del m;
	struct ifc_cfg n;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_ifid(q, m.ifid, true)) < 0)
		return rc;
	const struct ifc *i = &c->ifc[m.ifid];
	if ((rc = nb_flush_learnt(c, m.ifid)) < 0)
		return fail(q, rc, 0, "out of memory");
	if (i->n_nh || i->n_addr || i->n_neigh)
		return fail(q, -EBUSY, 0,
			    "interface %u is used by %u next hops, %u addresses, %u neighbours",
			    m.ifid, i->n_nh, i->n_addr, i->n_neigh);
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	undo_push(c, U_IFC, m.ifid)->u.ifc = i->cfg;
	memset(&n, 0, sizeof(n));
	ifc_apply(c, m.ifid, &n);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Addresses */

static int
addr_route_reserve(struct cfg *c, int fam)
{
	/* the host route, the address, up to two connected routes */
	int rc = undo_reserve(c, 4);
	if (rc == 0)
		rc = ht_reserve(&c->rt[fam], 2);
	return rc;
}

/* After an address change: the connected routes of the old and new subnets. */
static int
addr_conn_fix(struct rq *q, int fam, const struct addr *old, const struct addr *n)
{
	uint8_t key[20];
	int rc = 0;

	if (old != NULL && old->used) {
		subnet_key(key, old);
		rc = conn_fix(q->c, fam, key);
	}
	if (rc == 0 && n != NULL && n->used) {
		subnet_key(key, n);
		rc = conn_fix(q->c, fam, key);
	}
	return rc < 0 ? fail(q, rc, 0, "FIB: connected route: %s", strerror(-rc)) : 0;
}

static int
h_addr(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_addr m;
	char s[INET6_ADDRSTRLEN];
	uint8_t key[20];
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_ifid(q, m.ifid, true)) < 0 || (rc = check_family(q, m.family)) < 0)
		return rc;
	int fam = m.family == NPR_AF_INET ? F4 : F6;
	unsigned hostlen = 8 * alen_of(fam);
	if (m.plen < 1 || m.plen > hostlen)
		return fail(q, -EINVAL, 0, "prefix length %u out of range (1..%u)", m.plen,
			    hostlen);
	if ((rc = check_unicast_ip(q, "address", m.family, m.addr)) < 0)
		return rc;
	fmt_ip(m.family, m.addr, s);
	int slot = addr_find(c, m.family, m.addr);
	rt_key(key, fam, m.addr, (uint8_t)hostlen);

	if (q->h.type == NPR_MSG_ADDR_DEL) {
		if (slot < 0 || c->addr[slot].ifid != m.ifid)
			return fail(q, -ENOENT, 0, "address %s is not on interface %u", s, m.ifid);
		if ((rc = addr_route_reserve(c, fam)) < 0)
			return fail(q, rc, 0, "out of memory");
		uint8_t *e = ht_find(&c->rt[fam], key);
		if (e != NULL && (rc = rt_apply(c, fam, key, e, 0, 0)) < 0)
			return fail(q, rc, 0, "FIB: %s", strerror(-rc));
		struct addr z = { 0 }, old = c->addr[slot];
		undo_push(c, U_ADDR, (uint32_t)slot)->u.addr = c->addr[slot];
		addr_apply(c, (uint32_t)slot, &z);
		return addr_conn_fix(q, fam, &old, NULL);
	}

	struct addr n = { .used = 1, .family = m.family, .plen = m.plen, .ifid = m.ifid };
	memcpy(n.a, m.addr, 16);
	n.gen = c->gen;
	if (slot >= 0) {
		if (c->addr[slot].ifid != m.ifid)
			return fail(q, -EEXIST, 0, "address %s is already on interface %u", s,
				    c->addr[slot].ifid);
		/* re-added (resync) or new prefix length: the host route stays */
		if ((rc = addr_route_reserve(c, fam)) < 0)
			return fail(q, rc, 0, "out of memory");
		struct addr old = c->addr[slot];
		undo_push(c, U_ADDR, (uint32_t)slot)->u.addr = c->addr[slot];
		addr_apply(c, (uint32_t)slot, &n);
		return addr_conn_fix(q, fam, &old, &n);
	}
	if (ht_find(&c->rt[fam], key) != NULL)
		return fail(q, -EEXIST, 0, "a route to %s/%u exists", s, hostlen);
	for (slot = 0; slot < (int)CFG_ADDR_MAX && c->addr[slot].used; slot++)
		;
	if (slot == (int)CFG_ADDR_MAX)
		return fail(q, -ENOSPC, 0, "too many addresses (max %u)", CFG_ADDR_MAX);
	if ((rc = addr_route_reserve(c, fam)) < 0)
		return fail(q, rc, 0, "out of memory");
	if ((rc = rt_apply(c, fam, key, NULL, NPR_TARGET_LOCAL, 0)) < 0)
		return fail(q, rc, 0, "FIB: cannot add %s/%u: %s", s, hostlen, strerror(-rc));
	undo_push(c, U_ADDR, (uint32_t)slot)->u.addr = c->addr[slot];
	addr_apply(c, (uint32_t)slot, &n);
	return addr_conn_fix(q, fam, NULL, &n);
}

/* ---------------------------------------------------------------------------------------- */
/* Neighbours */

static int
h_neigh(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_neigh m;
	struct nb k;
	char s[INET6_ADDRSTRLEN];
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0 || !all_zero(m.reserved2, sizeof(m.reserved2)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_ifid(q, m.ifid, true)) < 0 || (rc = check_family(q, m.family)) < 0 ||
	    (rc = check_unicast_ip(q, "neighbour", m.family, m.addr)) < 0)
		return rc;
	nb_key(&k, m.ifid, m.family, m.addr);
	struct nb *e = ht_find(&c->nb, &k);
	bool had = e != NULL && e->has_neigh;

	if (q->h.type == NPR_MSG_NEIGH_DEL) {
		if (!mac_zero(m.mac))
			return fail(q, -EINVAL, 0, "NEIGH_DEL carries a MAC (must be zero)");
		if (!had)
			return fail(q, -ENOENT, 0, "no neighbour %s on interface %u",
				    fmt_ip(m.family, m.addr, s), m.ifid);
	} else {
		if ((rc = check_unicast_mac(q, "neighbour", m.mac)) < 0)
			return rc;
		if (!had && c->n_neigh >= CFG_NEIGH_MAX)
			return fail(q, -ENOSPC, 0, "too many neighbours (max %u)", CFG_NEIGH_MAX);
	}
	if ((rc = undo_reserve(c, 1)) < 0 || (rc = ht_reserve(&c->nb, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	e = ht_find(&c->nb, &k); /* the reserve may have moved it */
	struct undo *u = undo_push(c, U_NB, 0);
	memcpy(u->u.nb.key, &k, NB_KLEN);
	u->u.nb.had = had;
	if (had) {
		memcpy(u->u.nb.mac, e->mac, 6);
		u->u.nb.gen = e->gen;
		u->u.nb.dyn = e->dynamic;
	}
	/* NEIGH_SET on a learnt neighbour makes it configured (static) */
	nb_apply(c, &k, q->h.type == NPR_MSG_NEIGH_SET, m.mac, c->gen, false);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Next hops */

static int
check_nh_id(struct rq *q, uint32_t id, uint32_t index, const char *what)
{
	if (id == 0 || id >= q->c->conf.nh_max)
		return fail(q, -EINVAL, index, "%snext hop id %u out of range (1..%u)", what, id,
			    q->c->conf.nh_max - 1);
	return 0;
}

static int
h_nh_set(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_nh_set m;
	struct nh_cfg n;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if ((rc = check_nh_id(q, m.nh_id, 0, "")) < 0)
		return rc;
	if (m.kind < NPR_NH_FORWARD || m.kind > NPR_NH_PROHIBIT)
		return fail(q, -EINVAL, 0, "next hop %u: unknown kind %u", m.nh_id, m.kind);
	if (m.flags & ~NPR_NH_F_MAC)
		return fail(q, -EINVAL, 0, "next hop %u: unknown flags 0x%x", m.nh_id,
			    m.flags & ~NPR_NH_F_MAC);
	if (m.kind != NPR_NH_FORWARD) {
		if (m.ifid != 0 || m.family != 0 || m.flags != 0 || !mac_zero(m.mac) ||
		    !all_zero(m.gw, sizeof(m.gw)))
			return fail(q, -EINVAL, 0,
				    "next hop %u: kind %u takes no interface, gateway or MAC",
				    m.nh_id, m.kind);
	} else {
		if ((rc = check_ifid(q, m.ifid, true)) < 0)
			return rc;
		if (m.family == 0) {
			if (!all_zero(m.gw, sizeof(m.gw)))
				return fail(q, -EINVAL, 0,
					    "next hop %u: gateway bytes set with family 0",
					    m.nh_id);
		} else if ((rc = check_family(q, m.family)) < 0 ||
			   (rc = check_unicast_ip(q, "gateway", m.family, m.gw)) < 0) {
			return rc;
		}
		if (m.flags & NPR_NH_F_MAC) {
			if ((rc = check_unicast_mac(q, "next hop", m.mac)) < 0)
				return rc;
		} else if (!mac_zero(m.mac)) {
			return fail(q, -EINVAL, 0, "next hop %u: MAC given without NPR_NH_F_MAC",
				    m.nh_id);
		}
	}
	if (c->nh[m.nh_id].grp_refs != 0 && m.kind != NPR_NH_FORWARD)
		return fail(q, -EBUSY, 0, "next hop %u is a group member: it must stay forward",
			    m.nh_id);
	if ((rc = undo_reserve(c, 1)) < 0 || (rc = ht_reserve(&c->nb, 1)) < 0)
		return fail(q, rc, 0, "out of memory");

	memset(&n, 0, sizeof(n));
	n.used = 1;
	n.kind = m.kind;
	n.family = m.family;
	n.ifid = m.ifid;
	n.flags = m.flags;
	memcpy(n.mac, m.mac, 6);
	memcpy(n.gw, m.gw, 16);
	n.gen = c->gen;
	undo_push(c, U_NH, m.nh_id)->u.nh = c->nh[m.nh_id].cfg;
	nh_apply(c, m.nh_id, &n);
	return 0;
}

static int
nh_del(struct rq *q, uint32_t id)
{
	struct cfg *c = q->c;
	struct nh_cfg z = { 0 };
	const struct nh *x = &c->nh[id];

	if (!x->cfg.used)
		return fail(q, -ENOENT, 0, "next hop %u does not exist", id);
	if (x->route_refs || x->grp_refs)
		return fail(q, -EBUSY, 0, "next hop %u is used by %u routes and %u groups", id,
			    x->route_refs, x->grp_refs);
	undo_push(c, U_NH, id)->u.nh = x->cfg;
	nh_apply(c, id, &z);
	return 0;
}

static int
grp_del(struct rq *q, uint32_t id)
{
	struct cfg *c = q->c;
	const struct grp *g = &c->grp[id];

	if (!g->used)
		return fail(q, -ENOENT, 0, "group %u does not exist", id);
	if (g->refcnt)
		return fail(q, -EBUSY, 0, "group %u is used by %u routes", id, g->refcnt);
	struct undo *u = undo_push(c, U_GRP, id);
	u->u.grp.used = 1;
	u->u.grp.gen = g->gen;
	u->u.grp.ver = g->ver;
	grp_apply(c, id, false, NULL, 0);
	return 0;
}

static int
h_id_del(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_id m;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	if (q->h.type == NPR_MSG_NH_DEL) {
		if ((rc = check_nh_id(q, m.id, 0, "")) < 0)
			return rc;
		return nh_del(q, m.id);
	}
	if (m.id == 0 || m.id >= c->conf.group_max)
		return fail(q, -EINVAL, 0, "group id %u out of range (1..%u)", m.id,
			    c->conf.group_max - 1);
	return grp_del(q, m.id);
}

/* ---------------------------------------------------------------------------------------- */
/* Groups */

static int
h_group_set(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_group_set m;
	struct npr_group_member mb[NPR_GROUP_MAX_MEMBERS];
	uint32_t total = 0;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	memcpy(mb, q->rec + sizeof(m), (size_t)m.n_members * sizeof(mb[0]));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if (m.group_id == 0 || m.group_id >= c->conf.group_max)
		return fail(q, -EINVAL, 0, "group id %u out of range (1..%u)", m.group_id,
			    c->conf.group_max - 1);
	for (uint32_t i = 0; i < m.n_members; i++) {
		uint32_t id = mb[i].nh_id;
		if (mb[i].reserved != 0)
			return fail(q, -EINVAL, i, "member %u: reserved bytes are not zero", i);
		if ((rc = check_nh_id(q, id, i, "member: ")) < 0)
			return rc;
		if (!c->nh[id].cfg.used)
			return fail(q, -ENOENT, i, "member %u: next hop %u does not exist", i, id);
		if (c->nh[id].cfg.kind != NPR_NH_FORWARD)
			return fail(q, -EINVAL, i,
				    "member %u: next hop %u is not a forward next hop", i, id);
		if (mb[i].weight < 1 || mb[i].weight > NPR_GROUP_MAX_WEIGHT)
			return fail(q, -EINVAL, i, "member %u: weight %u out of range (1..%u)", i,
				    mb[i].weight, NPR_GROUP_MAX_WEIGHT);
		for (uint32_t j = 0; j < i; j++)
			if (mb[j].nh_id == id)
				return fail(q, -EINVAL, i, "member %u: next hop %u is listed twice",
					    i, id);
		total += mb[i].weight;
	}
	if (total > NPR_GROUP_MAX_SLOTS)
		return fail(q, -EINVAL, 0, "weights sum to %u, more than %u slots", total,
			    NPR_GROUP_MAX_SLOTS);
	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");

	struct grp *g = &c->grp[m.group_id];
	struct undo *u;
	if (g->used && g->ver->n_members == m.n_members &&
	    memcmp(g->ver->m, mb, m.n_members * sizeof(mb[0])) == 0) {
		/* unchanged (a resync): keep the published version */
		u = undo_push(c, U_GRP, m.group_id);
		u->u.grp.used = 1;
		u->u.grp.gen = g->gen;
		u->u.grp.ver = g->ver;
		g->gen = c->gen;
		return 0;
	}
	struct grp_ver *v =
		malloc(sizeof(*v) + sizeof(struct fwd_group) + total * sizeof(uint32_t));
	if (v == NULL)
		return fail(q, -ENOMEM, 0, "out of memory");
	memset(v, 0, sizeof(*v));
	v->n_members = m.n_members;
	memcpy(v->m, mb, m.n_members * sizeof(mb[0]));
	grp_expand(v, ver_fg(v), total);
	u = undo_push(c, U_GRP, m.group_id);
	u->u.grp.used = g->used;
	u->u.grp.gen = g->gen;
	u->u.grp.ver = g->ver;
	grp_apply(c, m.group_id, true, v, c->gen);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Routes */

/* Check a route target (not for DEL). */
static int
check_target(struct rq *q, uint32_t i, uint32_t target)
{
	struct cfg *c = q->c;
	uint32_t id = target & NPR_TARGET_ID_MASK;

	if (target == 0)
		return fail(q, -EINVAL, i, "route %u: no target", i);
	if (target & ~(NPR_TARGET_GROUP | NPR_TARGET_ID_MASK))
		return fail(q, -EINVAL, i, "route %u: target 0x%x has reserved bits set", i,
			    target);
	if (target & NPR_TARGET_GROUP) {
		if (id == 0 || id >= c->conf.group_max)
			return fail(q, -EINVAL, i, "route %u: group id %u out of range (1..%u)", i,
				    id, c->conf.group_max - 1);
		if (!c->grp[id].used)
			return fail(q, -ENOENT, i, "route %u: group %u does not exist", i, id);
		return 0;
	}
	if (id >= c->conf.nh_max)
		return fail(q, -EINVAL, i, "route %u: next hop id %u out of range (1..%u)", i, id,
			    c->conf.nh_max - 1);
	if (!c->nh[id].cfg.used)
		return fail(q, -ENOENT, i, "route %u: next hop %u does not exist", i, id);
	return 0;
}

struct rt_in {
	uint8_t prefix[16];
	uint8_t plen;
	uint32_t target;
};

static void
rt_read(int fam, const uint8_t *body, uint32_t i, struct rt_in *r, bool *reserved_ok)
{
	memset(r->prefix, 0, sizeof(r->prefix));
	if (fam == F4) {
		struct npr_route4 e;
		memcpy(&e, body + (size_t)i * sizeof(e), sizeof(e));
		memcpy(r->prefix, &e.prefix, 4);
		r->plen = e.plen;
		r->target = e.target;
		*reserved_ok = all_zero(e.reserved, sizeof(e.reserved));
	} else {
		struct npr_route6 e;
		memcpy(&e, body + (size_t)i * sizeof(e), sizeof(e));
		memcpy(r->prefix, e.prefix, 16);
		r->plen = e.plen;
		r->target = e.target;
		*reserved_ok = all_zero(e.reserved, sizeof(e.reserved));
	}
}

static int
h_route(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_route4 m; /* same head as npr_msg_route6 */
	unsigned t = q->h.type;
	int fam = t >= NPR_MSG_ROUTE6_ADD ? F6 : F4;
	unsigned op = t - (fam == F4 ? NPR_MSG_ROUTE4_ADD
				     : NPR_MSG_ROUTE6_ADD); /* 0 add, 1 repl, 2 del */
	unsigned alen = alen_of(fam), maxlen = 8 * alen;
	const uint8_t *body = q->rec + sizeof(m);
	char s[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN];
	struct rt_in r;
	bool res_ok;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	/* trailing padding of an odd IPv4 count */
	size_t used = sizeof(m) + (size_t)m.count * (fam == F4 ? 12 : 24);
	if (!all_zero(q->rec + used, q->len - used))
		return fail(q, -EINVAL, 0, "padding bytes are not zero");

	/* Pass 1: every field of every entry, and the targets (no entry of this message can
	 * create or remove one). */
	for (uint32_t i = 0; i < m.count; i++) {
		rt_read(fam, body, i, &r, &res_ok);
		if (!res_ok)
			return fail(q, -EINVAL, i, "route %u: reserved bytes are not zero", i);
		if (r.plen > maxlen)
			return fail(q, -EINVAL, i,
				    "route %u: prefix length %u out of range (0..%u)", i, r.plen,
				    maxlen);
		if (host_bits(r.prefix, alen, r.plen)) {
			uint8_t p2[16];
			memcpy(p2, r.prefix, 16);
			mask_prefix(p2, alen, r.plen);
			return fail(q, -EINVAL, i,
				    "route %u: prefix %s/%u has host bits set (%s/%u)", i,
				    fmt_ip(fam == F4 ? 4 : 6, r.prefix, s), r.plen,
				    fmt_ip(fam == F4 ? 4 : 6, p2, s2), r.plen);
		}
		if (op == 2) {
			if (r.target != 0)
				return fail(q, -EINVAL, i, "route %u: DEL carries a target", i);
		} else if ((rc = check_target(q, i, r.target)) < 0) {
			return rc;
		}
	}
	/* a deletion may bring a connected route back: two records each */
	if ((rc = undo_reserve(c, 2ull * m.count)) < 0 ||
	    (op == 0 && (rc = ht_reserve(&c->rt[fam], m.count)) < 0))
		return fail(q, rc, 0, "out of memory");

	/* Pass 2: apply in order (an entry sees the ones before it); the caller undoes all
	 * of it if one fails. */
	uint32_t max = fam == F4 ? c->conf.route4_max : c->conf.route6_max;
	for (uint32_t i = 0; i < m.count; i++) {
		uint8_t key[20];
		rt_read(fam, body, i, &r, &res_ok);
		rt_key(key, fam, r.prefix, r.plen);
		uint8_t *e = ht_find(&c->rt[fam], key);
		bool local = e != NULL && rt_val(e, alen)->target == NPR_TARGET_LOCAL;
		/* a connected route gives way to a configured one on the same prefix (and comes
		 * back when it goes); it cannot be replaced or deleted itself */
		bool conn = e != NULL && (rt_val(e, alen)->target & NPR_TARGET_CONNECTED);
		if (local && op != 2)
			return fail(q, -EEXIST, i, "route %u: %s/%u is a local address", i,
				    fmt_ip(fam == F4 ? 4 : 6, r.prefix, s), r.plen);
		if ((e == NULL || local || conn) && op != 0)
			return fail(q, -ENOENT, i, "route %u: %s/%u does not exist", i,
				    fmt_ip(fam == F4 ? 4 : 6, r.prefix, s), r.plen);
		if ((e == NULL || conn) && c->n_user_routes[fam] >= max)
			return fail(q, -ENOSPC, i, "route %u: route table full (%u routes)", i,
				    max);
		rc = rt_apply(c, fam, key, e, op == 2 ? 0 : r.target, c->gen);
		if (rc == 0 && op == 2 && c->n_addr != 0)
			rc = conn_fix(c, fam, key);
		if (rc < 0)
			return fail(q, rc, i, "route %u: FIB: %s", i, strerror(-rc));
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Sync */

static int
h_sync_begin(struct rq *q)
{
	struct cfg *c = q->c;
	int rc;

	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	struct undo *u = undo_push(c, U_SYNC, 0);
	u->u.sync.gen = c->gen;
	u->u.sync.active = c->sync_active;
	c->gen++;
	c->sync_active = true;
	return 0;
}

static int
h_sync_end(struct rq *q)
{
	struct cfg *c = q->c;
	uint32_t n_rt = 0, n_grp = 0, n_nh = 0, n_nb = 0, n_addr = 0, n_ifc = 0;
	uint64_t stale = 1;
	int rc = 0;

	if (!c->sync_active)
		return fail(q, -EINVAL, 0, "no sync in progress");

	/* Count what goes, to reserve the undo log (an address takes two records). */
	for (int fam = F4; fam <= F6; fam++) {
		unsigned alen = alen_of(fam);
		for (uint32_t i = 0; i < c->rt[fam].cap; i++) {
			uint8_t *e = ht_at(&c->rt[fam], i);
			if (ht_used(&c->rt[fam], e) &&
			    !(rt_val(e, alen)->target & NPR_TARGET_LOCAL) &&
			    rt_val(e, alen)->gen != c->gen)
				n_rt++;
		}
	}
	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		if (e->used && e->has_neigh && !e->dynamic && e->gen != c->gen)
			n_nb++;
	}
	/* an address takes two records, and up to two for connected routes after */
	stale += (uint64_t)n_rt + n_nb + c->n_grp + c->n_nh + 4ull * c->n_addr + c->n_ifc;
	if ((rc = undo_reserve(c, stale)) < 0)
		return fail(q, rc, 0, "out of memory");
	uint8_t(*keys)[20] = malloc(((size_t)(n_rt > n_nb ? n_rt : n_nb) + 1) * 20);
	if (keys == NULL)
		return fail(q, -ENOMEM, 0, "out of memory");

	/* Routes first (they hold the groups and next hops), collected before deleting since
	 * a deletion moves entries in the table. */
	for (int fam = F4; fam <= F6 && rc == 0; fam++) {
		unsigned alen = alen_of(fam);
		uint32_t n = 0;
		for (uint32_t i = 0; i < c->rt[fam].cap; i++) {
			uint8_t *e = ht_at(&c->rt[fam], i);
			if (ht_used(&c->rt[fam], e) &&
			    !(rt_val(e, alen)->target & NPR_TARGET_LOCAL) &&
			    rt_val(e, alen)->gen != c->gen)
				memcpy(keys[n++], e, RT_KLEN(alen));
		}
		for (uint32_t i = 0; i < n && rc == 0; i++) {
			rc = rt_apply(c, fam, keys[i], ht_find(&c->rt[fam], keys[i]), 0, 0);
			if (rc < 0)
				fail(q, rc, 0, "FIB: %s", strerror(-rc));
		}
	}
	for (uint32_t id = 1; id < c->conf.group_max && rc == 0; id++) {
		if (!c->grp[id].used || c->grp[id].gen == c->gen)
			continue;
		if ((rc = grp_del(q, id)) < 0)
			fail(q, rc, 0, "sync: group %u was not re-sent but routes still use it",
			     id);
		n_grp++;
	}
	for (uint32_t id = 1; id < c->conf.nh_max && rc == 0; id++) {
		if (!c->nh[id].cfg.used || c->nh[id].cfg.gen == c->gen)
			continue;
		if ((rc = nh_del(q, id)) < 0)
			fail(q, rc, 0, "sync: next hop %u was not re-sent but is still used", id);
		n_nh++;
	}
	if (rc == 0) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < c->nb.cap; i++) {
			const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
			if (e->used && e->has_neigh && !e->dynamic && e->gen != c->gen)
				memcpy(keys[n++], e, NB_KLEN);
		}
		for (uint32_t i = 0; i < n; i++) {
			const struct nb *e = ht_find(&c->nb, keys[i]);
			struct undo *u = undo_push(c, U_NB, 0);
			memcpy(u->u.nb.key, keys[i], NB_KLEN);
			u->u.nb.had = 1;
			memcpy(u->u.nb.mac, e->mac, 6);
			u->u.nb.gen = e->gen;
			nb_apply(c, keys[i], false, NULL, 0, false);
		}
		n_nb = n;
	}
	for (uint32_t i = 0; i < CFG_ADDR_MAX && rc == 0; i++) {
		const struct addr *a = &c->addr[i];
		if (!a->used || a->gen == c->gen)
			continue;
		int fam = a->family == NPR_AF_INET ? F4 : F6;
		uint8_t key[20], *e;
		struct addr z = { 0 };
		rt_key(key, fam, a->a, (uint8_t)(8 * alen_of(fam)));
		e = ht_find(&c->rt[fam], key);
		if (e != NULL && (rc = rt_apply(c, fam, key, e, 0, 0)) < 0) {
			fail(q, rc, 0, "FIB: %s", strerror(-rc));
			break;
		}
		struct addr old = *a;
		undo_push(c, U_ADDR, i)->u.addr = *a;
		addr_apply(c, i, &z);
		n_addr++;
		subnet_key(key, &old);
		if ((rc = conn_fix(c, fam, key)) < 0)
			fail(q, rc, 0, "FIB: %s", strerror(-rc));
	}
	/* connected routes back where a removed route hid one */
	if (rc == 0 && ((rc = ht_reserve(&c->rt[F4], c->n_addr)) < 0 ||
			(rc = ht_reserve(&c->rt[F6], c->n_addr)) < 0))
		fail(q, rc, 0, "out of memory");
	for (uint32_t i = 0; i < CFG_ADDR_MAX && rc == 0; i++) {
		uint8_t key[20];
		if (!c->addr[i].used)
			continue;
		subnet_key(key, &c->addr[i]);
		if ((rc = conn_fix(c, c->addr[i].family == NPR_AF_INET ? F4 : F6, key)) < 0)
			fail(q, rc, 0, "FIB: %s", strerror(-rc));
	}
	for (uint32_t id = 0; id < NPR_MAX_IFACES && rc == 0; id++) {
		const struct ifc *i = &c->ifc[id];
		struct ifc_cfg z = { 0 };
		if (!i->cfg.used || i->cfg.gen == c->gen)
			continue;
		if ((rc = nb_flush_learnt(c, id)) < 0) {
			fail(q, rc, 0, "out of memory");
			break;
		}
		if (i->n_nh || i->n_addr || i->n_neigh) {
			rc = fail(q, -EBUSY, 0,
				  "sync: interface %u was not re-sent but is still used", id);
			break;
		}
		undo_push(c, U_IFC, id)->u.ifc = i->cfg;
		ifc_apply(c, id, &z);
		n_ifc++;
	}
	free(keys);
	if (rc < 0)
		return rc; /* the caller rolls back; the sync stays open */
	struct undo *u = undo_push(c, U_SYNC, 0);
	u->u.sync.gen = c->gen;
	u->u.sync.active = 1;
	c->sync_active = false;
	snprintf(q->rep->msg, sizeof(q->rep->msg),
		 "removed %u routes %u groups %u nhs %u neighs %u addrs %u ifaces", n_rt, n_grp,
		 n_nh, n_nb, n_addr, n_ifc);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Dumps */

struct dumper {
	struct rq *q;
	uint32_t kind;
	uint32_t count;
	uint32_t off;
	uint64_t total;
};

static void
dump_flush(struct dumper *d)
{
	struct cfg *c = d->q->c;
	struct npr_msg_dump_chunk ch;

	if (d->count == 0)
		return;
	uint32_t len = (d->off + 7) & ~7u;
	memset(c->buf + d->off, 0, len - d->off);
	memset(&ch, 0, sizeof(ch));
	ch.hdr.type = NPR_MSG_DUMP_CHUNK;
	ch.hdr.version = NPR_ABI_VERSION;
	ch.hdr.len = len;
	ch.hdr.seq = d->q->h.seq;
	ch.kind = d->kind;
	ch.count = d->count;
	memcpy(c->buf, &ch, sizeof(ch));
	d->q->emit(d->q->ctx, c->buf, len);
	d->off = sizeof(ch);
	d->count = 0;
}

static void
dump_add(struct dumper *d, const void *e, uint32_t n)
{
	if (((d->off + n + 7) & ~7u) > NPR_MSG_MAX)
		dump_flush(d);
	memcpy(d->q->c->buf + d->off, e, n);
	d->off += n;
	d->count++;
	d->total++;
}

static void
dump_info(struct cfg *c, struct npr_info *in)
{
	memset(in, 0, sizeof(*in));
	in->instance_id = c->conf.instance_id;
	in->abi_version = NPR_ABI_VERSION;
	in->n_ports = c->conf.n_ports;
	in->n_workers = c->conf.n_workers;
	in->n_ifaces = c->n_ifc;
	in->nh_max = c->conf.nh_max;
	in->group_max = c->conf.group_max;
	in->route4_max = c->conf.route4_max;
	in->route6_max = c->conf.route6_max;
	in->route4_count = c->n_user_routes[F4] + c->n_local_routes[F4];
	in->route6_count = c->n_user_routes[F6] + c->n_local_routes[F6];
	in->fib4_bytes = fib_mem_bytes(c->t.fib4);
	in->fib6_bytes = fib_mem_bytes(c->t.fib6);
	in->uptime_ns = now_ns() - c->t0_ns;
}

static int h_stats(struct rq *q);

static int
h_dump(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_dump_req m;
	struct dumper d = { .q = q, .off = sizeof(struct npr_msg_dump_chunk) };

	memcpy(&m, q->rec, sizeof(m));
	if (m.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	d.kind = m.kind;
	switch (m.kind) {
	case NPR_DUMP_PORTS:
		for (unsigned i = 0; i < c->conf.n_ports; i++) {
			struct npr_dump_port p;
			memset(&p, 0, sizeof(p));
			p.port_id = c->conf.port[i].port_id;
			p.n_rxq = c->conf.port[i].n_rxq;
			p.n_txq = c->conf.port[i].n_txq;
			memcpy(p.mac, c->conf.port[i].mac, 6);
			memcpy(p.name, c->conf.port[i].name, sizeof(p.name));
			p.name[sizeof(p.name) - 1] = 0;
			dump_add(&d, &p, sizeof(p));
		}
		break;
	case NPR_DUMP_IFACES:
		for (unsigned i = 0; i < NPR_MAX_IFACES; i++) {
			const struct ifc_cfg *x = &c->ifc[i].cfg;
			struct npr_dump_iface e;
			if (!x->used)
				continue;
			memset(&e, 0, sizeof(e));
			e.ifid = (uint16_t)i;
			e.port_id = x->port_id;
			e.mtu = x->mtu;
			e.flags = x->flags;
			memcpy(e.mac, ifc_mac(c, i), 6);
			memcpy(e.name, x->name, sizeof(e.name));
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_ADDRS:
		for (unsigned i = 0; i < CFG_ADDR_MAX; i++) {
			const struct addr *a = &c->addr[i];
			struct npr_dump_addr e;
			if (!a->used)
				continue;
			memset(&e, 0, sizeof(e));
			e.ifid = a->ifid;
			e.family = a->family;
			e.plen = a->plen;
			memcpy(e.addr, a->a, 16);
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_NEIGHS:
	case NPR_DUMP_NEIGHS_LEARNT:
		for (uint32_t i = 0; i < c->nb.cap; i++) {
			const struct nb *x = (const struct nb *)ht_at(&c->nb, i);
			struct npr_dump_neigh e;
			if (!x->used || !x->has_neigh ||
			    x->dynamic != (m.kind == NPR_DUMP_NEIGHS_LEARNT))
				continue;
			memset(&e, 0, sizeof(e));
			e.ifid = x->ifid;
			e.family = x->family;
			memcpy(e.mac, x->mac, 6);
			memcpy(e.addr, x->addr, 16);
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_NHS:
		for (uint32_t id = 1; id < c->conf.nh_max; id++) {
			const struct nh *x = &c->nh[id];
			struct npr_dump_nh e;
			if (!x->cfg.used)
				continue;
			memset(&e, 0, sizeof(e));
			e.nh_id = id;
			e.kind = x->cfg.kind;
			e.family = x->cfg.family;
			e.ifid = x->cfg.ifid;
			e.flags = x->cfg.flags;
			if (x->cfg.kind == NPR_NH_FORWARD && nh_eff_mac(c, &x->cfg, e.mac))
				e.flags |= NPR_NH_F_RESOLVED;
			memcpy(e.gw, x->cfg.gw, 16);
			e.refcnt = x->route_refs + x->grp_refs;
			dump_add(&d, &e, sizeof(e));
		}
		break;
	case NPR_DUMP_GROUPS:
		for (uint32_t id = 1; id < c->conf.group_max; id++) {
			const struct grp *g = &c->grp[id];
			uint8_t e[sizeof(struct npr_dump_group) +
				  NPR_GROUP_MAX_MEMBERS * sizeof(struct npr_group_member)];
			struct npr_dump_group h;
			if (!g->used)
				continue;
			memset(&h, 0, sizeof(h));
			h.group_id = id;
			h.n_members = (uint16_t)g->ver->n_members;
			h.refcnt = g->refcnt;
			memcpy(e, &h, sizeof(h));
			uint32_t ml = g->ver->n_members * (uint32_t)sizeof(struct npr_group_member);
			memcpy(e + sizeof(h), g->ver->m, ml);
			dump_add(&d, e, (uint32_t)sizeof(h) + ml);
		}
		break;
	case NPR_DUMP_ROUTES4:
	case NPR_DUMP_ROUTES6: {
		int fam = m.kind == NPR_DUMP_ROUTES4 ? F4 : F6;
		unsigned alen = alen_of(fam);
		const struct htab *t = &c->rt[fam];
		for (uint32_t i = 0; i < t->cap; i++) {
			uint8_t *x = ht_at(t, i);
			if (!ht_used(t, x))
				continue;
			if (fam == F4) {
				struct npr_route4 e;
				memset(&e, 0, sizeof(e));
				memcpy(&e.prefix, x, 4);
				e.plen = x[alen];
				e.target = rt_val(x, alen)->target;
				dump_add(&d, &e, sizeof(e));
			} else {
				struct npr_route6 e;
				memset(&e, 0, sizeof(e));
				memcpy(e.prefix, x, 16);
				e.plen = x[alen];
				e.target = rt_val(x, alen)->target;
				dump_add(&d, &e, sizeof(e));
			}
		}
		break;
	}
	case NPR_DUMP_INFO: {
		struct npr_info in;
		dump_info(c, &in);
		dump_add(&d, &in, sizeof(in));
		break;
	}
	case NPR_DUMP_STATS:
		return h_stats(q);
	default:
		return fail(q, -EINVAL, 0, "unknown dump kind %u", m.kind);
	}
	dump_flush(&d);
	q->rep->value = d.total;
	return 0;
}

static int
h_stats(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_stats *st = c->stats;
	struct dumper d = { .q = q,
			    .off = sizeof(struct npr_msg_dump_chunk),
			    .kind = NPR_DUMP_STATS };

	memset(st, 0, sizeof(*st));
	st->n_ports = c->conf.n_ports;
	st->n_workers = c->conf.n_workers;
	st->uptime_ns = now_ns() - c->t0_ns;
	if (c->conf.fill_stats != NULL)
		c->conf.fill_stats(c->conf.stats_ctx, st);
	st->msgs_ok = c->msgs_ok;
	st->msgs_err = c->msgs_err;
	dump_add(&d, st, sizeof(*st));
	dump_flush(&d);
	q->rep->value = 1;
	return 0;
}

/* A FIB value as a target in the protocol: internal next hops are connected routes. */
static uint32_t
pub_target(const struct cfg *c, uint32_t v)
{
	if (v == 0 || (v & (NPR_TARGET_LOCAL | NPR_TARGET_GROUP)) || v < c->conf.nh_max)
		return v;
	if (v < host_id(c, 0))
		return NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | (v - c->conf.nh_max);
	if (v - host_id(c, 0) < c->host_max)
		return NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | c->host[v - host_id(c, 0)].ifid;
	return v;
}

static int
h_lookup(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_lookup m;
	int rc;

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if ((rc = check_family(q, m.family)) < 0)
		return rc;
	if (m.family == NPR_AF_INET) {
		if (!all_zero(m.addr + 4, 12))
			return fail(q, -EINVAL, 0, "bytes set beyond the IPv4 address");
		uint32_t a = (uint32_t)m.addr[0] << 24 | (uint32_t)m.addr[1] << 16 |
			     (uint32_t)m.addr[2] << 8 | m.addr[3];
		q->rep->value = pub_target(c, fib4_lookup(c->t.fib4, a));
	} else {
		q->rep->value = pub_target(c, fib6_lookup(c->t.fib6, m.addr));
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Batches */

static int
h_batch(struct rq *q)
{
	struct cfg *c = q->c;

	switch (q->h.type) {
	case NPR_MSG_BATCH_BEGIN:
		if (c->batch_active)
			return fail(q, -EALREADY, 0, "a batch is already open");
		c->batch_active = true;
		c->batch_poisoned = false;
		c->batch_msgs = 0;
		return 0;
	case NPR_MSG_BATCH_COMMIT:
		if (!c->batch_active)
			return fail(q, -EINVAL, 0, "no batch open");
		c->batch_active = false;
		if (c->batch_poisoned)
			return fail(q, -ECANCELED, 0, "batch failed: nothing committed");
		publish(c);
		snprintf(q->rep->msg, sizeof(q->rep->msg), "committed %u messages", c->batch_msgs);
		return 0;
	default: /* ABORT */
		if (!c->batch_active)
			return fail(q, -EINVAL, 0, "no batch open");
		c->batch_active = false;
		if (!c->batch_poisoned)
			rollback(c);
		return 0;
	}
}

static int
h_hello(struct rq *q)
{
	struct cfg *c = q->c;
	/* HELLO opens a control session. A batch still open belongs to a session that died
	 * (sessions are exclusive): drop it, or the new session's requests would be staged
	 * into it and never applied. */
	if (c->batch_active) {
		if (!c->batch_poisoned)
			rollback(c);
		c->batch_active = false;
		snprintf(q->rep->msg, sizeof(q->rep->msg),
			 "aborted a batch of %u messages left open by an earlier session",
			 c->batch_msgs);
	}
	q->rep->value = c->conf.instance_id;
	return 0;
}

static int
h_stats_clear(struct rq *q)
{
	struct cfg *c = q->c;
	if (c->conf.clear_stats != NULL)
		c->conf.clear_stats(c->conf.stats_ctx);
	c->msgs_ok = c->msgs_err = 0;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch */

/* Fixed record lengths; 0: variable (checked by body_len). */
static const uint32_t fixed_len[NPR_MSG_REQ_LAST + 1] = {
	[NPR_MSG_HELLO] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_IFACE_SET] = sizeof(struct npr_msg_iface_set),
	[NPR_MSG_IFACE_DEL] = sizeof(struct npr_msg_iface_del),
	[NPR_MSG_ADDR_ADD] = sizeof(struct npr_msg_addr),
	[NPR_MSG_ADDR_DEL] = sizeof(struct npr_msg_addr),
	[NPR_MSG_NEIGH_SET] = sizeof(struct npr_msg_neigh),
	[NPR_MSG_NEIGH_DEL] = sizeof(struct npr_msg_neigh),
	[NPR_MSG_NH_SET] = sizeof(struct npr_msg_nh_set),
	[NPR_MSG_NH_DEL] = sizeof(struct npr_msg_id),
	[NPR_MSG_GROUP_DEL] = sizeof(struct npr_msg_id),
	[NPR_MSG_BATCH_BEGIN] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_BATCH_COMMIT] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_BATCH_ABORT] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_SYNC_BEGIN] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_SYNC_END] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_STATS_REQ] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_DUMP_REQ] = sizeof(struct npr_msg_dump_req),
	[NPR_MSG_LOOKUP] = sizeof(struct npr_msg_lookup),
	[NPR_MSG_STATS_CLEAR] = sizeof(struct npr_msg_hdr),
};

static int
body_len(struct rq *q)
{
	unsigned t = q->h.type;
	uint64_t want = fixed_len[t];
	uint32_t n;

	if (want == 0) {
		if (q->len < 24)
			return fail(q, -EINVAL, 0, "%s: record of %u bytes is too short",
				    type_names[t], q->len);
		if (t == NPR_MSG_GROUP_SET) {
			uint16_t nm;
			memcpy(&nm, q->rec + offsetof(struct npr_msg_group_set, n_members),
			       sizeof(nm));
			if (nm < 1 || nm > NPR_GROUP_MAX_MEMBERS)
				return fail(q, -EINVAL, 0, "group: %u members (1..%u)", nm,
					    NPR_GROUP_MAX_MEMBERS);
			want = sizeof(struct npr_msg_group_set) + 8ull * nm;
		} else {
			bool v4 = t <= NPR_MSG_ROUTE4_DEL;
			uint32_t max = v4 ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
			memcpy(&n, q->rec + offsetof(struct npr_msg_route4, count), sizeof(n));
			if (n < 1 || n > max)
				return fail(q, -EINVAL, 0, "route count %u out of range (1..%u)", n,
					    max);
			want = sizeof(struct npr_msg_route4) +
			       (((uint64_t)n * (v4 ? 12 : 24) + 7) & ~7ull);
		}
	}
	if (q->len != want)
		return fail(q, -EINVAL, 0, "%s: record length %u, expected %u", type_names[t],
			    q->len, (uint32_t)want);
	return 0;
}

static bool
mutating(unsigned t)
{
	return (t >= NPR_MSG_IFACE_SET && t <= NPR_MSG_ROUTE6_DEL) || t == NPR_MSG_SYNC_BEGIN ||
	       t == NPR_MSG_SYNC_END;
}

static int
dispatch(struct rq *q)
{
	switch (q->h.type) {
	case NPR_MSG_HELLO:
		return h_hello(q);
	case NPR_MSG_IFACE_SET:
		return h_iface_set(q);
	case NPR_MSG_IFACE_DEL:
		return h_iface_del(q);
	case NPR_MSG_ADDR_ADD:
	case NPR_MSG_ADDR_DEL:
		return h_addr(q);
	case NPR_MSG_NEIGH_SET:
	case NPR_MSG_NEIGH_DEL:
		return h_neigh(q);
	case NPR_MSG_NH_SET:
		return h_nh_set(q);
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL:
		return h_id_del(q);
	case NPR_MSG_GROUP_SET:
		return h_group_set(q);
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_REPLACE:
	case NPR_MSG_ROUTE4_DEL:
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_REPLACE:
	case NPR_MSG_ROUTE6_DEL:
		return h_route(q);
	case NPR_MSG_BATCH_BEGIN:
	case NPR_MSG_BATCH_COMMIT:
	case NPR_MSG_BATCH_ABORT:
		return h_batch(q);
	case NPR_MSG_SYNC_BEGIN:
		return h_sync_begin(q);
	case NPR_MSG_SYNC_END:
		return h_sync_end(q);
	case NPR_MSG_STATS_REQ:
		return h_stats(q);
	case NPR_MSG_DUMP_REQ:
		return h_dump(q);
	case NPR_MSG_LOOKUP:
		return h_lookup(q);
	case NPR_MSG_STATS_CLEAR:
		return h_stats_clear(q);
	}
	return fail(q, -EOPNOTSUPP, 0, "unknown message type %u", q->h.type);
}

/* The header: everything but the body. */
static int
check_header(struct rq *q)
{
	if (q->len < sizeof(struct npr_msg_hdr))
		return fail(q, -EINVAL, 0, "truncated header (%u bytes)", q->len);
	memcpy(&q->h, q->rec, sizeof(q->h));
	q->rep->hdr.seq = q->h.seq;
	if (q->h.len != q->len)
		return fail(q, -EINVAL, 0, "header length %u does not match record length %u",
			    q->h.len, q->len);
	if (q->len % 8 != 0)
		return fail(q, -EINVAL, 0, "record length %u is not a multiple of 8", q->len);
	if (q->len > NPR_MSG_MAX)
		return fail(q, -EINVAL, 0, "record length %u exceeds %u", q->len, NPR_MSG_MAX);
	if (q->h.version != NPR_ABI_VERSION)
		return fail(q, -EPROTO, 0, "ABI version %u, expected %u", q->h.version,
			    NPR_ABI_VERSION);
	if (q->h.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved header field is not zero");
	if (q->h.type == NPR_MSG_REPLY || q->h.type == NPR_MSG_DUMP_CHUNK)
		return fail(q, -EINVAL, 0, "message type 0x%x is a reply, not a request",
			    q->h.type);
	if (q->h.type == NPR_MSG_NONE || q->h.type > NPR_MSG_REQ_LAST)
		return fail(q, -EOPNOTSUPP, 0, "unknown message type %u", q->h.type);
	return body_len(q);
}

void
cfg_handle(struct cfg *c, const void *rec, uint32_t len, cfg_emit_fn emit, void *ctx)
{
	struct npr_reply rep;
	struct rq q = { .c = c, .rec = rec, .len = len, .rep = &rep, .emit = emit, .ctx = ctx };
	int rc;

	memset(&rep, 0, sizeof(rep));
	rep.hdr.type = NPR_MSG_REPLY;
	rep.hdr.version = NPR_ABI_VERSION;
	rep.hdr.len = sizeof(rep);

	rc = check_header(&q);
	if (rc == 0 && c->batch_active && c->batch_poisoned && q.h.type != NPR_MSG_BATCH_COMMIT &&
	    q.h.type != NPR_MSG_BATCH_ABORT && q.h.type != NPR_MSG_HELLO)
		rc = fail(&q, -ECANCELED, 0, "the batch failed; send BATCH_ABORT");
	else if (rc == 0) {
		bool in_batch = c->batch_active;
		rc = dispatch(&q);
		if (mutating(q.h.type)) {
			if (rc < 0)
				rollback(c); /* in a batch, the whole batch */
			else if (!in_batch)
				publish(c);
		}
		if (in_batch && c->batch_active && mutating(q.h.type))
			c->batch_msgs++;
	}
	/* Any failure inside a batch drops the batch: its sender expects all or nothing. */
	if (rc < 0 && c->batch_active && !c->batch_poisoned) {
		rollback(c);
		c->batch_poisoned = true;
	}
	rep.status = rc;
	if (rc < 0)
		c->msgs_err++;
	else
		c->msgs_ok++;
	emit(ctx, &rep, sizeof(rep));
}

/* ---------------------------------------------------------------------------------------- */

const struct fwd_tables *
cfg_tables(const struct cfg *c)
{
	return &c->t;
}

void
cfg_counters(const struct cfg *c, uint64_t *ok, uint64_t *err)
{
	*ok = c->msgs_ok;
	*err = c->msgs_err;
}

void
cfg_periodic(struct cfg *c)
{
	fib_reclaim(c->t.fib4);
	fib_reclaim(c->t.fib6);
	while (c->retire_head != NULL &&
	       rte_rcu_qsbr_check(c->conf.qsbr, c->retire_head->token, false) == 1) {
		struct grp_ver *v = c->retire_head;
		c->retire_head = v->next;
		if (c->retire_head == NULL)
			c->retire_tail = NULL;
		free(v);
	}
	/* host routes that waited for a grace period (never inside a transaction) */
	if (c->host_retry && !c->batch_active && c->n_undo == 0)
		hosts_sync(c);
}

struct cfg *
cfg_create(const struct cfg_conf *conf)
{
	struct cfg *c;
	int rc = -EINVAL;

	/* internal next hops follow the configured ids, below the CONNECTED bit of targets */
	if (conf == NULL || conf->nh_max < 2 ||
	    conf->nh_max > NPR_TARGET_CONNECTED - NPR_MAX_IFACES - CFG_HOST_MAX ||
	    conf->group_max < 1 || conf->group_max > NPR_TARGET_ID_MASK + 1u ||
	    conf->n_ports > NPR_MAX_PORTS || conf->route4_max > FIB_VALUE_MAX ||
	    conf->route6_max > FIB_VALUE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->conf = *conf;
	memset(c->port_idx, -1, sizeof(c->port_idx));
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++)
		c->port_owner[i] = -1;
	for (unsigned i = 0; i < conf->n_ports; i++) {
		unsigned p = conf->port[i].port_id;
		if (p >= NPR_MAX_PORTS || c->port_idx[p] >= 0)
			goto fail;
		c->port_idx[p] = (int8_t)i;
	}
	c->gen = 1;
	c->t0_ns = now_ns();
	rc = -ENOMEM;
	c->host_max = conf->nh_max < CFG_HOST_MIN   ? CFG_HOST_MIN
		      : conf->nh_max > CFG_HOST_MAX ? CFG_HOST_MAX
						    : conf->nh_max;
	c->t.nh_max = conf->nh_max + NPR_MAX_IFACES + c->host_max;
	c->t.group_max = conf->group_max;
	c->t.qsbr = conf->qsbr;
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++) {
		atomic_init(&c->t.port[i].mac, 0);
		atomic_init(&c->t.port[i].up, 0);
	}
	c->t.nh = malloc(c->t.nh_max * sizeof(*c->t.nh));
	c->host = calloc(c->host_max, sizeof(*c->host));
	c->host_list = calloc(c->host_max, sizeof(*c->host_list));
	c->hfree = calloc(c->host_max, sizeof(*c->hfree));
	c->t.group = malloc(conf->group_max * sizeof(*c->t.group));
	c->nh = calloc(conf->nh_max, sizeof(*c->nh));
	c->grp = calloc(conf->group_max, sizeof(*c->grp));
	c->buf = malloc(NPR_MSG_MAX);
	c->stats = malloc(sizeof(*c->stats));
	if (c->t.nh == NULL || c->t.group == NULL || c->nh == NULL || c->grp == NULL ||
	    c->buf == NULL || c->stats == NULL || c->host == NULL || c->host_list == NULL ||
	    c->hfree == NULL)
		goto fail;
	for (uint32_t i = 0; i < c->t.nh_max; i++)
		atomic_init(&c->t.nh[i], fwd_nh_pack(FWD_NH_INVALID, 0, 0));
	for (uint32_t k = 0; k < c->host_max; k++)
		c->hfree[k].k = k;
	c->hfree_n = c->host_max;
	for (uint32_t i = 0; i < conf->group_max; i++)
		atomic_init(&c->t.group[i], NULL);
	if (dirty_init(&c->nh_dirty, c->t.nh_max) < 0 ||
	    dirty_init(&c->grp_dirty, conf->group_max) < 0 ||
	    ht_init(&c->rt[F4], RT_ESIZE(4), RT_KLEN(4), 1024) < 0 ||
	    ht_init(&c->rt[F6], RT_ESIZE(16), RT_KLEN(16), 1024) < 0 ||
	    ht_init(&c->nb, sizeof(struct nb), NB_KLEN, 256) < 0)
		goto fail;

	/* the FIBs also hold the routers' own host routes */
	/* and their connected subnets, and the host routes to neighbours */
	struct fib_conf fc4 = { .family = 4,
				.max_routes = conf->route4_max + 2 * CFG_ADDR_MAX + c->host_max,
				.qsbr = conf->qsbr };
	struct fib_conf fc6 = { .family = 6,
				.max_routes = conf->route6_max + 2 * CFG_ADDR_MAX + c->host_max,
				.qsbr = conf->qsbr };
	c->t.fib4 = fib_create(&fc4);
	if (c->t.fib4 == NULL)
		goto fail_errno;
	c->t.fib6 = fib_create(&fc6);
	if (c->t.fib6 == NULL)
		goto fail_errno;
	return c;

fail_errno:
	rc = -errno;
fail:
	cfg_free(c);
	errno = -rc;
	return NULL;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	if (c->t.fib4 != NULL && c->t.fib6 != NULL && c->nh_dirty.flag != NULL &&
	    c->grp_dirty.flag != NULL)
		rollback(c); /* an open batch: free what it made */
	if (c->grp != NULL && c->t.group != NULL) {
		for (uint32_t id = 1; id < c->conf.group_max; id++) {
			struct grp_ver *pub = grp_published(c, id);
			if (c->grp[id].ver != NULL && c->grp[id].ver != pub)
				free(c->grp[id].ver);
			free(pub);
		}
	}
	while (c->retire_head != NULL) {
		struct grp_ver *v = c->retire_head;
		c->retire_head = v->next;
		free(v);
	}
	if (c->t.fib4 != NULL)
		fib_free(c->t.fib4);
	if (c->t.fib6 != NULL)
		fib_free(c->t.fib6);
	free(c->rt[F4].slot);
	free(c->rt[F6].slot);
	free(c->nb.slot);
	free(c->nh_dirty.flag);
	free(c->nh_dirty.list);
	free(c->grp_dirty.flag);
	free(c->grp_dirty.list);
	free(c->undo);
	free((void *)c->t.nh);
	free((void *)c->t.group);
	free(c->nh);
	free(c->grp);
	free(c->buf);
	free(c->stats);
	free(c->host);
	free(c->host_list);
	free(c->hfree);
	free(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Router services: what the slow path reads and learns (same thread, no transaction) */

uint64_t
cfg_version(const struct cfg *c)
{
	return c->version;
}

int
cfg_iface_get(const struct cfg *c, unsigned ifid, struct cfg_iface *out)
{
	if (ifid >= NPR_MAX_IFACES || !c->ifc[ifid].cfg.used)
		return -ENOENT;
	const struct ifc_cfg *i = &c->ifc[ifid].cfg;
	memset(out, 0, sizeof(*out));
	out->ifid = (uint16_t)ifid;
	out->port_id = i->port_id;
	out->mtu = i->mtu;
	out->up = (i->flags & NPR_IFACE_F_UP) != 0;
	memcpy(out->mac, ifc_mac(c, ifid), 6);
	return 0;
}

int
cfg_iface_by_port(const struct cfg *c, unsigned port_id)
{
	if (port_id >= NPR_MAX_PORTS || c->port_owner[port_id] < 0)
		return -ENOENT;
	return c->port_owner[port_id];
}

unsigned
cfg_addrs(const struct cfg *c, struct cfg_addr *out, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++) {
		const struct addr *a = &c->addr[i];
		if (!a->used)
			continue;
		if (n < max) {
			out[n].ifid = a->ifid;
			out[n].family = a->family;
			out[n].plen = a->plen;
			memcpy(out[n].a, a->a, 16);
		}
		n++;
	}
	return n;
}

int
cfg_addr_local(const struct cfg *c, unsigned family, const uint8_t *a)
{
	uint8_t k[16] = { 0 };

	memcpy(k, a, family == NPR_AF_INET ? 4 : 16); /* IPv4: only 4 bytes count */
	int slot = addr_find(c, (uint8_t)family, k);
	return slot < 0 ? -ENOENT : c->addr[slot].ifid;
}

static bool
in_subnet(const uint8_t *a, const uint8_t *b, unsigned alen, unsigned plen)
{
	uint8_t x[16], y[16];

	memcpy(x, a, alen);
	memcpy(y, b, alen);
	mask_prefix(x, alen, plen);
	mask_prefix(y, alen, plen);
	return memcmp(x, y, alen) == 0;
}

int
cfg_addr_pick(const struct cfg *c, unsigned ifid, unsigned family, const uint8_t *dst, uint8_t *src)
{
	unsigned alen = family == NPR_AF_INET ? 4 : 16;
	int best = -1, score = 0;

	/* 3: its subnet holds dst; 2: same scope (link-local or not); 1: any */
	for (uint32_t i = 0; i < CFG_ADDR_MAX && score < 3; i++) {
		const struct addr *a = &c->addr[i];
		int sc = 1;
		if (!a->used || a->ifid != ifid || a->family != family)
			continue;
		if (in_subnet(a->a, dst, alen, a->plen))
			sc = 3;
		else if (is_ll6(family, a->a) == is_ll6(family, dst))
			sc = 2;
		if (sc > score) {
			score = sc;
			best = (int)i;
		}
	}
	if (best < 0)
		return -ENOENT;
	memcpy(src, c->addr[best].a, 16);
	return 0;
}

int
cfg_route_get(const struct cfg *c, unsigned family, const uint8_t *dst, uint32_t flow_hash,
	      struct cfg_route *r)
{
	uint32_t v, id;

	memset(r, 0, sizeof(*r));
	if (family == NPR_AF_INET) {
		uint32_t a = (uint32_t)dst[0] << 24 | (uint32_t)dst[1] << 16 |
			     (uint32_t)dst[2] << 8 | dst[3];
		v = fib4_lookup(c->t.fib4, a);
	} else if (family == NPR_AF_INET6) {
		v = fib6_lookup(c->t.fib6, dst);
	} else {
		return -EINVAL;
	}
	r->kind = CFG_RT_NONE;
	if (v == 0)
		return 0;
	r->kind = CFG_RT_LOCAL;
	if (v & NPR_TARGET_LOCAL)
		return 0;
	r->kind = CFG_RT_INVALID;
	id = v;
	if (v & NPR_TARGET_GROUP) {
		uint32_t gid = v & NPR_TARGET_ID_MASK;
		if (gid >= c->conf.group_max)
			return 0;
		const struct fwd_group *g =
			atomic_load_explicit(&c->t.group[gid], memory_order_relaxed);
		if (g == NULL || g->n_slots == 0)
			return 0;
		id = g->nh[((uint64_t)flow_hash * g->n_slots) >> 32];
	}
	if (id >= c->t.nh_max)
		return 0;
	uint64_t w = atomic_load_explicit(&c->t.nh[id], memory_order_relaxed);
	switch (fwd_nh_kind(w)) {
	case FWD_NH_BLACKHOLE:
		r->kind = CFG_RT_BLACKHOLE;
		return 0;
	case FWD_NH_UNREACHABLE:
		r->kind = CFG_RT_UNREACHABLE;
		return 0;
	case FWD_NH_PROHIBIT:
		r->kind = CFG_RT_PROHIBIT;
		return 0;
	case FWD_NH_IFACE_DOWN:
		r->kind = CFG_RT_DOWN;
		return 0;
	case FWD_NH_FORWARD:
	case FWD_NH_UNRESOLVED:
		break;
	default:
		return 0;
	}
	unsigned p = fwd_nh_port(w);
	if (p >= NPR_MAX_PORTS || c->port_owner[p] < 0) {
		r->kind = CFG_RT_DOWN;
		return 0;
	}
	r->kind = CFG_RT_FORWARD;
	r->port_id = (uint16_t)p;
	r->ifid = (uint16_t)c->port_owner[p];
	r->mtu = c->ifc[r->ifid].cfg.mtu;
	if (fwd_nh_kind(w) == FWD_NH_FORWARD) {
		uint64_t m = fwd_nh_mac(w);
		r->has_mac = true;
		for (int i = 0; i < 6; i++)
			r->mac[i] = (uint8_t)(m >> (8 * i));
	}
	r->nh_family = (uint8_t)family;
	memcpy(r->nh, dst, family == NPR_AF_INET ? 4 : 16);
	if (id < c->conf.nh_max && c->nh[id].cfg.family != 0) {
		r->nh_family = c->nh[id].cfg.family;
		memcpy(r->nh, c->nh[id].cfg.gw, 16);
	}
	return 0;
}

int
cfg_neigh_get(const struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a, uint8_t *mac,
	      bool *learnt)
{
	if (ifid >= NPR_MAX_IFACES)
		return -ENOENT;
	const struct nb *e = nb_find(c, (uint16_t)ifid, (uint8_t)family, a);
	if (e == NULL || !e->has_neigh)
		return -ENOENT;
	if (mac != NULL)
		memcpy(mac, e->mac, 6);
	if (learnt != NULL)
		*learnt = e->dynamic;
	return 0;
}

int
cfg_neigh_learn(struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a, const uint8_t *mac)
{
	struct nb k, *e;

	if (ifid >= NPR_MAX_IFACES || !c->ifc[ifid].cfg.used)
		return -ENOENT;
	if ((family != NPR_AF_INET && family != NPR_AF_INET6) || bad_unicast(family, a) != NULL ||
	    mac_zero(mac) || (mac[0] & 1))
		return -EINVAL;
	/* a transaction is open: publishing now would publish it too */
	if (c->batch_active || c->n_undo != 0)
		return -EAGAIN;
	nb_key(&k, (uint16_t)ifid, (uint8_t)family, a);
	e = ht_find(&c->nb, &k);
	if (e != NULL && e->has_neigh) {
		if (!e->dynamic)
			return -EEXIST;
		if (memcmp(e->mac, mac, 6) == 0)
			return 0;
	} else if (c->n_neigh >= CFG_NEIGH_MAX) {
		return -ENOSPC;
	}
	if (ht_reserve(&c->nb, 1) < 0)
		return -ENOMEM;
	nb_apply(c, &k, true, mac, c->gen, true);
	publish(c);
	return 0;
}

int
cfg_neigh_forget(struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a)
{
	struct nb k, *e;

	if (ifid >= NPR_MAX_IFACES)
		return -ENOENT;
	if (c->batch_active || c->n_undo != 0)
		return -EAGAIN;
	nb_key(&k, (uint16_t)ifid, (uint8_t)family, a);
	e = ht_find(&c->nb, &k);
	if (e == NULL || !e->has_neigh || !e->dynamic)
		return -ENOENT;
	nb_apply(c, &k, false, NULL, 0, false);
	publish(c);
	return 0;
}
