/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's configuration state: interfaces, addresses, neighbours, next hops,
 * groups and routes, kept by the one thread that writes the forwarding tables (fwd.h).
 *
 * cfg_handle takes one request record that has already been copied out of the shared ring
 * (the control process can no longer change it), validates every field, applies it (or, in a
 * batch, stages it) and emits its reply. It never trusts the request: any byte pattern gives
 * an error reply, never a crash and never a partial change.
 *
 * Thread: everything here runs on the control thread only.
 */
#ifndef NPR_CFG_H
#define NPR_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "npr/proto.h"
#include "fwd.h"

struct rte_rcu_qsbr;
struct stats;

struct cfg_port {
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t n_txq;
	uint8_t mac[6];
	char name[48];
	/* the largest L3 packet the port carries whole (0: NPR_MTU_MAX) and what sets it, for
	 * people: an interface MTU above it is refused */
	uint16_t max_mtu;
	char mtu_why[32];
};

#define CFG_SESSIONS 8u /* control sessions at once (shared-memory slots) */

struct cfg_conf {
	uint32_t nh_max;    /* next hop ids 1..nh_max-1, for each origin */
	uint32_t group_max; /* group ids 1..group_max-1, for each origin */
	uint32_t route4_max;
	uint32_t route6_max;
	uint64_t instance_id;
	unsigned n_ports;
	struct cfg_port port[NPR_MAX_PORTS];
	unsigned n_workers;
	struct rte_rcu_qsbr *qsbr; /* NULL: no concurrent readers (tests) */
	/* the counters STATS_REQ reports and STATS_CLEAR clears, and the uptime clock
	 * (stats.h); NULL: none (tests) */
	struct stats *stats;
};

/* Emit one record toward the control process; must not fail (it waits for room). */
typedef void (*cfg_emit_fn)(void *ctx, const void *rec, uint32_t len);

struct cfg;

/* NULL with errno set on failure. Allocates the forwarding tables and the FIBs. */
struct cfg *cfg_create(const struct cfg_conf *conf);
void cfg_free(struct cfg *c);
/* The tables the workers read. */
const struct fwd_tables *cfg_tables(const struct cfg *c);
/* Handle one request record of len bytes (len as the ring gave it; the header is untrusted)
 * of session sid (< CFG_SESSIONS). cfg_handle: session 0. */
void cfg_handle_session(struct cfg *c, unsigned sid, const void *rec, uint32_t len,
			cfg_emit_fn emit, void *ctx);
void cfg_handle(struct cfg *c, const void *rec, uint32_t len, cfg_emit_fn emit, void *ctx);
/* The session whose batch is open (only its requests may be handled until it ends), or -1. */
int cfg_batch_owner(const struct cfg *c);
/* Session sid is gone (its process died, or it left a batch idle too long): abort its
 * batch if it has one open. Returns the number of messages dropped with it (0: none). */
uint32_t cfg_session_end(struct cfg *c, unsigned sid);
/* Periodic housekeeping: reclaim memory after grace periods. */
void cfg_periodic(struct cfg *c);
/* Message counters for stats. */
void cfg_counters(const struct cfg *c, uint64_t *ok, uint64_t *err);
/* What INFO and STATS_REQ answer (show info, show stats), for the control thread's other
 * readers (telemetry.h): sizes, route counts and FIB memory; every counter (stats_fill plus
 * cfg's message counters). st is overwritten. */
void cfg_info(const struct cfg *c, struct npr_info *in);
void cfg_stats(const struct cfg *c, struct npr_stats *st);

/*
 * Router services: the slow path's view of the configuration (slowpath/). Control thread
 * only, like everything here; none of these runs inside a transaction. Addresses are 16
 * bytes, network order, IPv4 in the first 4 (the rest zero); families are NPR_AF_*.
 */
struct cfg_iface {
	uint16_t ifid;
	uint16_t port_id;
	uint16_t mtu;
	bool up;
	uint8_t mac[6]; /* effective */
	char name[NPR_NAME_LEN];
};

struct cfg_addr {
	uint16_t ifid;
	uint8_t family;
	uint8_t plen;
	uint8_t a[16];
};

enum cfg_rt_kind {
	CFG_RT_NONE = 0, /* no route */
	CFG_RT_LOCAL,	 /* an address of the router */
	CFG_RT_FORWARD,	 /* out of ifid/port_id; mac if has_mac, else resolve nh */
	CFG_RT_BLACKHOLE,
	CFG_RT_UNREACHABLE,
	CFG_RT_PROHIBIT,
	CFG_RT_DOWN,	/* egress interface down or gone */
	CFG_RT_INVALID, /* next hop or group not programmed */
};

struct cfg_route {
	unsigned kind; /* enum cfg_rt_kind */
	uint16_t ifid;
	uint16_t port_id;
	uint16_t mtu;
	bool has_mac;
	uint8_t mac[6];
	uint8_t nh_family; /* of nh */
	uint8_t nh[16];	   /* whom to resolve: the gateway, or the destination itself */
};

/* Bumped by every publish: what the slow path caches from here may have changed. */
uint64_t cfg_version(const struct cfg *c);
/* 0, or -ENOENT: no such interface. */
int cfg_iface_get(const struct cfg *c, unsigned ifid, struct cfg_iface *out);
/* The interface bound to a port, or -ENOENT. */
int cfg_iface_by_port(const struct cfg *c, unsigned port_id);
/* The router's addresses: fills up to max, returns how many there are. */
unsigned cfg_addrs(const struct cfg *c, struct cfg_addr *out, unsigned max);
/* The interface of router address a, or -ENOENT. */
int cfg_addr_local(const struct cfg *c, unsigned family, const uint8_t *a);
/* A source address on ifid for a packet to dst: one whose subnet holds dst, else one of the
 * same scope, else any of that family on ifid. 0, or -ENOENT: none. */
int cfg_addr_pick(const struct cfg *c, unsigned ifid, unsigned family, const uint8_t *dst,
		  uint8_t *src);
/* What the published tables do with dst; flow_hash picks an ECMP member as the workers do
 * (fwd_flow_hash). 0, or -EINVAL (family). */
int cfg_route_get(const struct cfg *c, unsigned family, const uint8_t *dst, uint32_t flow_hash,
		  struct cfg_route *r);
/* A neighbour (configured or learnt): 0 or -ENOENT. mac, learnt may be NULL. */
int cfg_neigh_get(const struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a,
		  uint8_t *mac, bool *learnt);
/* Learn or update a neighbour (dynamic), published at once with the next hops and host
 * routes that depend on it. -EEXIST: configured (static) there, unchanged; -EAGAIN: a batch is
 * open (try later); -ENOENT: no such interface; -EINVAL: bad address or MAC; -ENOSPC/-ENOMEM. */
int cfg_neigh_learn(struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a,
		    const uint8_t *mac);
/* Forget a learnt neighbour. -ENOENT: none learnt there; -EAGAIN: a batch is open. */
int cfg_neigh_forget(struct cfg *c, unsigned ifid, unsigned family, const uint8_t *a);

#endif
