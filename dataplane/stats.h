/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's counters in one place: the snapshot that STATS_REQ returns (struct
 * npr_stats, proto.h), what STATS_CLEAR clears, the periodic and exit printout, and the one
 * clock that uptime is read from (INFO and STATS alike).
 *
 * main fills in the sources as the parts come up; a source not there yet (NULL, 0) reads as
 * zero. Worker counters are read without locks: each is a naturally aligned 64-bit word
 * written by one worker only. The message counters belong to cfg, which adds them.
 *
 * Thread: the control thread only.
 */
#ifndef NPR_STATS_H
#define NPR_STATS_H

#include <net/if.h>
#include <stdint.h>
#include <stdio.h>

#include "npr/proto.h"

struct fwd_worker;
struct slowpath;
struct shm_server;
struct rte_mempool;

struct stats {
	uint64_t start_ns; /* CLOCK_MONOTONIC at start (npr_now_ns) */
	uint64_t clear_ns; /* ... at the last stats_clear (start_ns before one) */
	unsigned n_ports;
	uint16_t port_id[NPR_MAX_PORTS];
	unsigned n_workers;
	struct fwd_worker *const *workers; /* [n_workers] */
	const struct slowpath *sp;
	const struct shm_server *shm;
	uint32_t (*link_downs)(uint16_t port_id); /* NULL: 0 (main: portgate_link_downs) */
	const struct rte_mempool *pool;		  /* the packet buffers: mbufs_in_use */
	uint64_t exc_handled; /* exceptions the control thread took off the workers' rings */
	/* af_packet ports: the Linux netdev they are bound to ("": none) and its rx_packets
	 * when the port's counters were last zeroed (rx_unseen = what it received since, less
	 * what the port passed on) */
	char netdev[NPR_MAX_PORTS][IF_NAMESIZE];
	uint64_t netdev_base[NPR_MAX_PORTS];
	/* at the last stats_clear: what stats_fill subtracts (the workers' counters are
	 * theirs alone, and so are a software port's: never zeroed from here) */
	struct npr_port_stats port_base[NPR_MAX_PORTS];
	struct npr_worker_stats base[NPR_MAX_WORKERS];
	uint64_t slow_base[NPR_STATS_SLOW_SLOTS];
	uint64_t exc_base;
};

/* Zero every source and start the clock. */
void stats_init(struct stats *s);
uint64_t stats_uptime_ns(const struct stats *s);
/* Port idx (the order of port_id[]) is bound to Linux netdev name: report what that
 * received and the port did not pass on (rx_unseen). Call once its counters start. */
void stats_watch_netdev(struct stats *s, unsigned idx, const char *name);
/* Everything in st but the message counters (msgs_ok, msgs_err). st is overwritten. */
void stats_fill(const struct stats *s, struct npr_stats *st);
/* Every counter to zero: the ports', the workers' and the slow path's counters belong to
 * the threads that write them, so a baseline is taken that stats_fill subtracts. */
void stats_clear(struct stats *s);
/* The human-readable summary printed every --stats-interval and at exit. */
void stats_print(const struct stats *s, FILE *out);

#endif
