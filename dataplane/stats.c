/* SPDX-License-Identifier: BSD-3-Clause */
/* The data plane's counters: snapshot, clear, printout (stats.h). */
#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "npr/util.h"
#include "fwd.h"
#include "shm_server.h"
#include "slowpath.h"
#include "stats.h"

void
stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	s->start_ns = npr_now_ns();
}

uint64_t
stats_uptime_ns(const struct stats *s)
{
	return npr_now_ns() - s->start_ns;
}

/* The counters as they are, without the baseline. */
static void
fill_raw(const struct stats *s, struct npr_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->tsc_hz = rte_get_tsc_hz();
	st->uptime_ns = stats_uptime_ns(s);
	st->n_ports = s->n_ports;
	st->n_workers = s->n_workers;
	st->exc_handled = s->exc_handled;
	if (s->sp != NULL)
		sp_counters(s->sp, st->slow);
	if (s->shm != NULL)
		shm_server_counters(s->shm, &st->ring_resets, &st->replies_dropped,
				    &st->batches_aborted, &st->layout_repairs);
	if (s->pool != NULL) {
		st->mbufs_total = s->pool->size;
		st->mbufs_in_use = rte_mempool_in_use_count(s->pool);
	}
	for (unsigned i = 0; i < s->n_ports; i++) {
		struct rte_eth_stats es;
		struct npr_port_stats *p = &st->port[i];
		p->port_id = s->port_id[i];
		if (rte_eth_stats_get(s->port_id[i], &es) == 0) {
			p->ipackets = es.ipackets;
			p->opackets = es.opackets;
			p->ibytes = es.ibytes;
			p->obytes = es.obytes;
			p->imissed = es.imissed;
			p->ierrors = es.ierrors;
			p->oerrors = es.oerrors;
			p->rx_nombuf = es.rx_nombuf;
		}
	}
	for (unsigned w = 0; w < s->n_workers; w++) {
		/* A relaxed atomic load reads each word whole, without slowing the worker. */
		const uint64_t *src = (const uint64_t *)&s->workers[w]->stats;
		uint64_t *dst = (uint64_t *)&st->worker[w];
		for (size_t i = 0; i < sizeof(struct npr_worker_stats) / 8; i++)
			dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

void
stats_fill(const struct stats *s, struct npr_stats *st)
{
	fill_raw(s, st);
	st->exc_handled -= s->exc_base;
	for (unsigned i = 0; i < NPR_STATS_SLOW_SLOTS; i++)
		st->slow[i] -= s->slow_base[i];
	for (unsigned w = 0; w < s->n_workers; w++) {
		uint64_t *dst = (uint64_t *)&st->worker[w];
		const uint64_t *b = (const uint64_t *)&s->base[w];
		/* the first word is lcore_id + reserved: not a counter */
		for (size_t i = 1; i < sizeof(struct npr_worker_stats) / 8; i++)
			dst[i] -= b[i];
	}
}

void
stats_clear(struct stats *s)
{
	static struct npr_stats raw; /* 10s of KiB: not on the stack */

	for (unsigned i = 0; i < s->n_ports; i++)
		rte_eth_stats_reset(s->port_id[i]);
	fill_raw(s, &raw);
	s->exc_base = raw.exc_handled;
	memcpy(s->slow_base, raw.slow, sizeof(s->slow_base));
	memcpy(s->base, raw.worker, s->n_workers * sizeof(s->base[0]));
}

void
stats_print(const struct stats *s, FILE *out)
{
	static struct npr_stats st; /* 10s of KiB: not on the stack */

	stats_fill(s, &st);
	fprintf(out,
		"--- nprouter counters (uptime %.1f s; packet buffers %" PRIu64
		" in use of %" PRIu64 ")\n",
		(double)st.uptime_ns / 1e9, st.mbufs_in_use, st.mbufs_total);
	for (unsigned i = 0; i < st.n_ports; i++) {
		char name[RTE_ETH_NAME_MAX_LEN] = "?";
		rte_eth_dev_get_name_by_port(st.port[i].port_id, name);
		fprintf(out,
			"port %u %-20s rx %" PRIu64 " tx %" PRIu64 " missed %" PRIu64
			" rx-errors %" PRIu64 " tx-errors %" PRIu64 "\n",
			st.port[i].port_id, name, st.port[i].ipackets, st.port[i].opackets,
			st.port[i].imissed, st.port[i].ierrors, st.port[i].oerrors);
	}
	uint64_t drop[NPR_DROP_MAX] = { 0 }, exc[NPR_EXC_MAX] = { 0 }, pol[NPR_PUNT_MAX] = { 0 };
	for (unsigned w = 0; w < st.n_workers; w++) {
		const struct npr_worker_stats *ws = &st.worker[w];
		fprintf(out,
			"worker %u lcore %u rx %" PRIu64 " tx %" PRIu64 " fwd4 %" PRIu64
			" fwd6 %" PRIu64 "\n",
			w, ws->lcore_id, ws->rx_pkts, ws->tx_pkts, ws->fwd4_pkts, ws->fwd6_pkts);
		for (unsigned r = 0; r < NPR_DROP_MAX; r++)
			drop[r] += ws->drop[r];
		for (unsigned r = 0; r < NPR_EXC_MAX; r++)
			exc[r] += ws->exc[r];
		for (unsigned r = 0; r < NPR_PUNT_MAX; r++)
			pol[r] += ws->policed[r];
	}
	for (unsigned r = 0; r < NPR_DROP_MAX; r++)
		if (drop[r] != 0)
			fprintf(out, "drop %-14s %" PRIu64 "  (%s)\n", npr_drop_name(r), drop[r],
				npr_drop_text(r));
	for (unsigned r = 0; r < NPR_EXC_MAX; r++)
		if (exc[r] != 0)
			fprintf(out, "exception %-11s %" PRIu64 "  (%s)\n", npr_exc_name(r), exc[r],
				npr_exc_text(r));
	for (unsigned r = 0; r < NPR_PUNT_MAX; r++)
		if (pol[r] != 0)
			fprintf(out, "policed %-13s %" PRIu64 "  (%s)\n", npr_punt_name(r), pol[r],
				npr_punt_text(r));
	for (unsigned r = 0; r < NPR_SLOW_MAX; r++)
		if (st.slow[r] != 0)
			fprintf(out, "slowpath %-17s %" PRIu64 "  (%s)\n", npr_slow_name(r),
				st.slow[r], npr_slow_text(r));
	fflush(out);
}
