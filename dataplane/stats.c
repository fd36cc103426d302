/* SPDX-License-Identifier: BSD-3-Clause */
/* The data plane's counters: snapshot, clear, printout (stats.h). */
#include <inttypes.h>
#include <stdio.h>
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
	s->clear_ns = s->start_ns;
}

/* rx_packets of Linux netdev name, from /proc/net/dev (the netdevs of this process's network
 * namespace, which /sys/class/net need not be). 0, or -1: not found. */
static int
netdev_rx_packets(const char *name, uint64_t *v)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	size_t n = strlen(name);
	int rc = -1;

	if (f == NULL)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f) != NULL) {
		const char *p = line + strspn(line, " ");
		unsigned long long bytes, pkts;
		/* "  NAME: rx-bytes rx-packets ..." */
		if (strncmp(p, name, n) == 0 && p[n] == ':' &&
		    sscanf(p + n + 1, "%llu %llu", &bytes, &pkts) == 2) {
			*v = pkts;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

void
stats_watch_netdev(struct stats *s, unsigned idx, const char *name)
{
	uint64_t v;

	if (idx >= NPR_MAX_PORTS || netdev_rx_packets(name, &v) < 0)
		return;
	snprintf(s->netdev[idx], sizeof(s->netdev[idx]), "%s", name);
	s->netdev_base[idx] = v;
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
	st->counted_ns = npr_now_ns() - s->clear_ns;
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
		struct rte_eth_link link;
		struct npr_port_stats *p = &st->port[i];
		p->port_id = s->port_id[i];
		p->link_up = rte_eth_link_get_nowait(s->port_id[i], &link) == 0 &&
			     link.link_status == RTE_ETH_LINK_UP;
		p->link_downs = s->link_downs != NULL ? s->link_downs(s->port_id[i]) : 0;
		if (rte_eth_stats_get(s->port_id[i], &es) == 0) {
			p->ipackets = es.ipackets;
			p->opackets = es.opackets;
			p->ibytes = es.ibytes;
			p->obytes = es.obytes;
			p->imissed = es.imissed;
			p->ierrors = es.ierrors;
			p->oerrors = es.oerrors;
			p->rx_nombuf = es.rx_nombuf;
			unsigned nq = RTE_MIN(
				s->n_workers,
				RTE_MIN(NPR_STATS_QUEUES, (unsigned)RTE_ETHDEV_QUEUE_STAT_CNTRS));
			for (unsigned q = 0; q < nq; q++) {
				p->q_ipackets[q] = es.q_ipackets[q];
				p->q_opackets[q] = es.q_opackets[q];
			}
		}
		/* raw here: the netdev's rx_packets (stats_fill makes it the difference) */
		if (s->netdev[i][0] != '\0' && netdev_rx_packets(s->netdev[i], &p->rx_unseen) == 0)
			p->flags |= NPR_PORT_F_UNSEEN;
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
	for (unsigned i = 0; i < s->n_ports; i++) {
		struct npr_port_stats *p = &st->port[i];
		const struct npr_port_stats *b = &s->port_base[i];
		p->ipackets -= b->ipackets;
		p->opackets -= b->opackets;
		p->ibytes -= b->ibytes;
		p->obytes -= b->obytes;
		p->imissed -= b->imissed;
		p->ierrors -= b->ierrors;
		p->oerrors -= b->oerrors;
		p->rx_nombuf -= b->rx_nombuf;
		for (unsigned q = 0; q < NPR_STATS_QUEUES; q++) {
			p->q_ipackets[q] -= b->q_ipackets[q];
			p->q_opackets[q] -= b->q_opackets[q];
		}
		if (p->flags & NPR_PORT_F_UNSEEN) {
			/* what the netdev received since, less what the port passed on (frames
			 * still in the ring count until the port reads them) */
			uint64_t got = p->rx_unseen - s->netdev_base[i];
			p->rx_unseen = got > p->ipackets ? got - p->ipackets : 0;
		}
	}
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

	/* no rte_eth_stats_reset: a software PMD's counters are the worker's to write (af_packet
	 * adds to them on every poll, and a reset from here can be lost) */
	fill_raw(s, &raw);
	s->clear_ns = npr_now_ns();
	memcpy(s->port_base, raw.port, s->n_ports * sizeof(s->port_base[0]));
	for (unsigned i = 0; i < s->n_ports; i++)
		if (raw.port[i].flags & NPR_PORT_F_UNSEEN)
			s->netdev_base[i] = raw.port[i].rx_unseen;
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
			" rx-errors %" PRIu64 " tx-errors %" PRIu64 " link %s",
			st.port[i].port_id, name, st.port[i].ipackets, st.port[i].opackets,
			st.port[i].imissed, st.port[i].ierrors, st.port[i].oerrors,
			st.port[i].link_up ? "up" : "down");
		if (st.port[i].link_downs != 0)
			fprintf(out, " (went down %" PRIu32 " times)", st.port[i].link_downs);
		if (st.port[i].flags & NPR_PORT_F_UNSEEN)
			fprintf(out, " unseen %" PRIu64 " (of what Linux %s received)",
				st.port[i].rx_unseen, s->netdev[i]);
		fputc('\n', out);
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
