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

#include <stdint.h>

#include "npr/proto.h"
#include "fwd.h"

struct rte_rcu_qsbr;

struct cfg_port {
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t n_txq;
	uint8_t mac[6];
	char name[48];
};

struct cfg_conf {
	uint32_t nh_max;     /* next hop ids 1..nh_max-1 */
	uint32_t group_max;  /* group ids 1..group_max-1 */
	uint32_t route4_max;
	uint32_t route6_max;
	uint64_t instance_id;
	unsigned n_ports;
	struct cfg_port port[NPR_MAX_PORTS];
	unsigned n_workers;
	struct rte_rcu_qsbr *qsbr; /* NULL: no concurrent readers (tests) */
	/* fills the counters part of a stats snapshot (ports, workers); may be NULL */
	void (*fill_stats)(void *ctx, struct npr_stats *st);
	void (*clear_stats)(void *ctx);
	void *stats_ctx;
};

/* Emit one record toward the control process; must not fail (it waits for room). */
typedef void (*cfg_emit_fn)(void *ctx, const void *rec, uint32_t len);

struct cfg;

/* NULL with errno set on failure. Allocates the forwarding tables and the FIBs. */
struct cfg *cfg_create(const struct cfg_conf *conf);
void cfg_free(struct cfg *c);
/* The tables the workers read. */
const struct fwd_tables *cfg_tables(const struct cfg *c);
/* Handle one request record of len bytes (len as the ring gave it; the header is untrusted). */
void cfg_handle(struct cfg *c, const void *rec, uint32_t len, cfg_emit_fn emit, void *ctx);
/* Periodic housekeeping: reclaim memory after grace periods. */
void cfg_periodic(struct cfg *c);
/* Message counters for stats. */
void cfg_counters(const struct cfg *c, uint64_t *ok, uint64_t *err);

#endif
