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

#include <stdint.h>
#include <stdio.h>

#include "npr/proto.h"

struct fwd_worker;
struct slowpath;
struct shm_server;
struct rte_mempool;

struct stats {
	uint64_t start_ns; /* CLOCK_MONOTONIC at start (npr_now_ns) */
	unsigned n_ports;
	uint16_t port_id[NPR_MAX_PORTS];
	unsigned n_workers;
	struct fwd_worker *const *workers; /* [n_workers] */
	const struct slowpath *sp;
	const struct shm_server *shm;
	const struct rte_mempool *pool; /* the packet buffers: mbufs_in_use */
	uint64_t exc_handled; /* exceptions the control thread took off the workers' rings */
	/* at the last stats_clear: what stats_fill subtracts (the workers' counters are
	 * theirs alone: never zeroed from here) */
	struct npr_worker_stats base[NPR_MAX_WORKERS];
	uint64_t slow_base[NPR_STATS_SLOW_SLOTS];
	uint64_t exc_base;
};

/* Zero every source and start the clock. */
void stats_init(struct stats *s);
uint64_t stats_uptime_ns(const struct stats *s);
/* Everything in st but the message counters (msgs_ok, msgs_err). st is overwritten. */
void stats_fill(const struct stats *s, struct npr_stats *st);
/* Every counter to zero: ports are reset; the workers' and the slow path's counters belong
 * to their threads, so a baseline is taken that stats_fill subtracts. */
void stats_clear(struct stats *s);
/* The human-readable summary printed every --stats-interval and at exit. */
void stats_print(const struct stats *s, FILE *out);

#endif
