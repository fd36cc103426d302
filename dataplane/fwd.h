/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding state as the workers see it, and the worker loop.
 *
 * Written only by the control thread (cfg/), read by every worker without locks:
 *   - nh[id]:     one 64-bit word per next hop, replaced with one release store, so a worker
 *                 sees the old or the new next hop whole:
 *                    63            16 15      4 3    0
 *                   | dst MAC (48)   | port(12)| kind |
 *   - group[id]:  pointer to an immutable struct fwd_group; replaced by pointer swap, the old
 *                 one freed after a QSBR grace period.
 *   - port[p]:    the MAC a port receives for and sends from, whether an interface is up on
 *                 it, and its L3 MTU; each field one aligned word, stored with release.
 *   - fib4/fib6:  see fib.h.
 * Workers report a QSBR quiescent state once per poll loop, outside any lookup and outside
 * any rx or tx burst.
 */
#ifndef NPR_FWD_H
#define NPR_FWD_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "npr/proto.h"
#include "fib.h"

enum fwd_nh_kind {
	FWD_NH_INVALID = 0,	/* not programmed: drop NH_INVALID */
	FWD_NH_FORWARD = 1,	/* rewrite and send */
	FWD_NH_UNRESOLVED = 2,	/* forward, but no MAC yet: exception UNRESOLVED */
	FWD_NH_BLACKHOLE = 3,	/* drop BLACKHOLE */
	FWD_NH_UNREACHABLE = 4, /* exception UNREACHABLE (the slow path sends ICMP) */
	FWD_NH_PROHIBIT = 5,	/* exception PROHIBIT (the slow path sends ICMP) */
	FWD_NH_IFACE_DOWN = 6,	/* drop IFACE_DOWN */
};

static inline uint64_t
fwd_nh_pack(unsigned kind, unsigned port, uint64_t mac48)
{
	return (mac48 << 16) | ((uint64_t)(port & 0xfff) << 4) | (kind & 0xf);
}
static inline unsigned
fwd_nh_kind(uint64_t w)
{
	return (unsigned)(w & 0xf);
}
static inline unsigned
fwd_nh_port(uint64_t w)
{
	return (unsigned)((w >> 4) & 0xfff);
}
/* The kind and the port bits above NPR_MAX_PORTS: (w & FWD_NH_FAST_MASK) == FWD_NH_FORWARD
 * is a FORWARD next hop on a port below NPR_MAX_PORTS, in one test. */
#define FWD_NH_FAST_MASK (0xfull | ((0xfffull & ~(uint64_t)(NPR_MAX_PORTS - 1)) << 4))
_Static_assert((NPR_MAX_PORTS & (NPR_MAX_PORTS - 1)) == 0, "NPR_MAX_PORTS: a power of two");

/* MAC as 48 bits in a uint64: byte 0 of the address in the low byte (memcpy order on x86). */
static inline uint64_t
fwd_nh_mac(uint64_t w)
{
	return w >> 16;
}

struct fwd_group {
	uint32_t n_slots; /* members expanded by weight, 1..NPR_GROUP_MAX_SLOTS */
	uint32_t nh[];	  /* nh ids */
};

struct fwd_port {
	_Atomic uint64_t mac; /* 48 bits, as fwd_nh_mac; 0 = no interface on this port */
	_Atomic uint32_t up;  /* an interface is bound to the port and up */
	_Atomic uint32_t mtu; /* L3 MTU of that interface; 0: no check (exception TOO_BIG above) */
};

struct fwd_tables {
	_Atomic uint64_t *nh;		  /* [nh_max] */
	struct fwd_group *_Atomic *group; /* [group_max] */
	uint32_t nh_max;
	uint32_t group_max;
	struct fib *fib4;
	struct fib *fib6;
	struct rte_rcu_qsbr *qsbr;
	struct fwd_port port[NPR_MAX_PORTS];
};

#define FWD_BURST 32u

struct fwd_rxq {
	uint16_t port;
	uint16_t queue;
};

/* One per worker lcore; allocated cache-aligned, written only by its worker (except stop). */
/* One punt class's token bucket, as a theoretical arrival time in TSC cycles (GCRA): a packet
 * is let through when tat - now <= tol, and then moves tat on by cost. cost 0: no limit. */
struct fwd_policer {
	uint64_t tat, cost, tol;
};

struct fwd_worker {
	struct npr_worker_stats stats; /* read by the control thread without locks */
	/* this worker's share of each class's rate, per receiving port: a flood on one port
	 * leaves the others their share */
	struct fwd_policer punt[NPR_MAX_PORTS][NPR_PUNT_MAX];
	unsigned idx; /* worker index, also its QSBR thread id */
	unsigned n_rxq;
	struct fwd_rxq rxq[NPR_MAX_PORTS];
	uint16_t txq[NPR_MAX_PORTS]; /* this worker's tx queue on each port */
	uint16_t n_ports;
	struct rte_ring *exc; /* to the control thread: SP/SC */
	/* from the control thread (slow path): complete frames to send, SP/SC; NULL: none. Each
	 * mbuf's m->port is its tx port. Counted in stats.inject_pkts, then as tx/TX_FULL. */
	struct rte_ring *inject;
	const struct fwd_tables *t;
	/* [NPR_MAX_PORTS]: non-zero while the worker must not call the port's rx or tx burst
	 * (its driver is changing its queues: portgate.h). Read with acquire before each burst,
	 * between two QSBR quiescent reports. */
	const _Atomic uint32_t *port_closed;
	volatile int *stop;
	/* idle: 0 always poll; else nap when the queues stay empty (fwd_worker_main) */
	unsigned idle_adaptive;
	/* tx staging per port for the current burst */
	uint64_t tx_pending; /* bit p: tx_n[p] may be non-zero (fwd_flush visits only these) */
	uint16_t tx_n[NPR_MAX_PORTS];
	struct rte_mbuf *tx[NPR_MAX_PORTS][FWD_BURST];
} __rte_cache_aligned;

/* Exceptions carry their reason in m->hash.usr. */
static inline unsigned
fwd_exc_reason(const struct rte_mbuf *m)
{
	return m->hash.usr;
}

/* Process one received burst from rx_port: validate, look up, rewrite, stage for tx, hand
 * exceptions to w->exc, free drops; every packet is counted exactly once in w->stats
 * (tx staging counts happen at flush). Does not transmit: call fwd_flush after. */
/* Set w's share of a punt class on every port: rate packets per second (0: no limit), burst
 * packets at once (at least 1), tsc_hz the TSC's frequency. Before the worker starts. */
void fwd_punt_set(struct fwd_worker *w, unsigned cls, uint32_t rate, uint32_t burst,
		  uint64_t tsc_hz);
/* The punt class of an exception (reason, and for packets to the router what they are). */
unsigned fwd_punt_class(const struct rte_mbuf *m, unsigned reason);

void fwd_process(struct fwd_worker *w, uint16_t rx_port, struct rte_mbuf **pkts, uint16_t n);
/* Transmit what fwd_process staged; frees and counts what the port refused (TX_FULL) and what
 * went to a port whose gate is closed (LINK_DOWN). */
void fwd_flush(struct fwd_worker *w);
/* Stage what the slow path queued on w->inject (at most one burst); returns how many. Call
 * fwd_flush after. */
unsigned fwd_inject(struct fwd_worker *w);
/* The worker's main loop (rte_eal_remote_launch): poll, process, flush, quiescent state, until
 * *w->stop. */
int fwd_worker_main(void *arg);

/* Flow hash of the 5-tuple (addresses, protocol, ports when present), used for ECMP. */
uint32_t fwd_flow_hash(const struct rte_mbuf *m);

#endif
