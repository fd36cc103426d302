/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path: what the workers hand to the control thread (exceptions, fwd.h) and what
 * the router originates.
 *
 *   ARP          answers requests for the router's addresses; resolves next hops (requests
 *                with retries, then failure); learns from replies and from requests for us;
 *                refreshes learnt entries (unicast probe) and ages out those that stop
 *                answering; gratuitous ARP when an address comes up.
 *   IPv6 ND      the same with neighbour solicitations / advertisements, for the router's
 *                addresses and each interface's link-local address (EUI-64 of its MAC).
 *   ICMP(v6)     echo replies; time exceeded; destination unreachable (no route, unreachable
 *                and prohibit routes, port unreachable for UDP to the router, failed
 *                resolution); fragmentation needed / packet too big. Errors are rate-limited
 *                by one token bucket and never sent about an ICMP error, a broadcast or
 *                multicast, a non-first fragment or an invalid source (RFC 1812 4.3.2.7,
 *                RFC 4443 2.4).
 *   forwarding   packets whose next hop was unresolved wait in a bounded queue per neighbour
 *                and go out once it answers; IPv4 without DF larger than the egress MTU is
 *                fragmented here.
 *   host ports   with conf.host_tx (hostif.h: a Linux TAP per interface), what is for the
 *                router and not answered above goes to the host stack as the whole frame, on
 *                the interface it arrived on: TCP, UDP, ICMP other than echo requests, IPv4
 *                fragments, link-local multicast (224.0.0.0/24, ff02::/16) and the limited
 *                broadcast. ARP and NS/NA are handled here and copied there too, so that the
 *                host stack knows its neighbours. What the host stack sends (sp_host_input)
 *                leaves by the interface's port, except its ARP replies and neighbour
 *                advertisements for the router's addresses (answered here already).
 *
 * Learnt neighbours are published through cfg_neigh_learn (the workers then forward to them
 * without us); configured (static) ones are never aged. Everything the slow path sends goes
 * through conf.tx (main.c: a worker's inject ring), each mbuf with m->port = its tx port.
 *
 * Thread: the control thread only (the same as cfg/): no locks. Time comes from the caller
 * (now, nanoseconds, monotonic), so that tests can drive the timers.
 */
#ifndef NPR_SLOWPATH_H
#define NPR_SLOWPATH_H

#include <stdint.h>

#include "npr/proto.h"

struct cfg;
struct rte_mbuf;
struct rte_mempool;

struct sp_conf {
	struct cfg *cfg;
	struct rte_mempool *pool; /* for what the slow path builds */
	/* Send one frame on m->port; takes the mbuf. 0, or < 0: not taken (the slow path frees
	 * it and counts INJECT_FULL). */
	int (*tx)(void *ctx, struct rte_mbuf *m);
	void *tx_ctx;
	/* Host ports: give one frame to the host stack on interface ifid's host port (copied
	 * before it returns). 0; -ENODEV: that interface has none; -EAGAIN / -ENOBUFS: its
	 * queue is full; another -errno: the write failed. NULL: host ports are off. */
	int (*host_tx)(void *ctx, unsigned ifid, const void *frame, uint32_t len);
	void *host_ctx;
	/* 0: the default in brackets */
	uint32_t icmp_rate;    /* ICMP errors per second, all kinds together [100] */
	uint32_t icmp_burst;   /* token bucket depth [50] */
	uint32_t retry_ms;     /* resolution: interval between requests [1000] */
	uint32_t retries;      /* requests (and refresh probes) before giving up [3] */
	uint32_t reachable_ms; /* a learnt neighbour is probed again after this [30000] */
	uint32_t hold_max;     /* packets queued per unresolved neighbour [16], at most 64 */
	uint32_t neigh_max;    /* neighbours the slow path tracks [4096] */
};

struct slowpath;

/* NULL with errno set. */
struct slowpath *sp_create(const struct sp_conf *conf);
/* Frees every queued packet. */
void sp_free(struct slowpath *sp);
/* One exception from a worker: reason in m->hash.usr (fwd_exc_reason), rx port in m->port.
 * Takes the mbuf. */
void sp_input(struct slowpath *sp, struct rte_mbuf *m, uint64_t now);
/* A frame the host stack sent on interface ifid's host port (copied: the caller keeps
 * frame): out of the interface's port, or dropped and counted. */
void sp_host_input(struct slowpath *sp, unsigned ifid, const void *frame, uint32_t len,
		   uint64_t now);
/* Timers (retries, refresh, aging), the ICMP bucket, and configuration changes (gratuitous
 * ARP, flushing neighbours of removed addresses or interfaces that went down). Call often
 * (every millisecond or so). */
void sp_periodic(struct slowpath *sp, uint64_t now);
/* Counters, enum npr_slow: out[NPR_STATS_SLOW_SLOTS]. */
void sp_counters(const struct slowpath *sp, uint64_t *out);

#endif
