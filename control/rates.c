/* SPDX-License-Identifier: BSD-3-Clause */
/* Rates from two STATS snapshots (rates.h). */
#include <stdlib.h>
#include <string.h>

#include "rates.h"

/* What a counter advanced; one that went back started over (from zero). */
static uint64_t
delta(uint64_t was, uint64_t now)
{
	return now >= was ? now - was : now;
}

/* Did the counters start over between prev and cur (or is there no prev)? */
static bool
started_over(const struct npr_stats *prev, const struct npr_stats *cur)
{
	if (prev == NULL || cur->counted_ns <= prev->counted_ns || cur->n_ports != prev->n_ports ||
	    cur->n_workers != prev->n_workers || cur->tsc_hz != prev->tsc_hz)
		return true;
	unsigned np = cur->n_ports < NPR_MAX_PORTS ? cur->n_ports : NPR_MAX_PORTS;
	for (unsigned i = 0; i < np; i++)
		if (cur->port[i].port_id != prev->port[i].port_id)
			return true;
	return false;
}

static int
cmp_reason(const void *a, const void *b)
{
	const struct reason_rate *x = a, *y = b;
	if (x->per_s != y->per_s)
		return x->per_s > y->per_s ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

/* The reasons (drop or exception: which) with a count, by rate. */
static unsigned
reasons(const struct npr_stats *prev, const struct npr_stats *cur, unsigned nw, double secs,
	bool exc, struct reason_rate *out)
{
	unsigned n = 0, max = exc ? NPR_EXC_MAX : NPR_DROP_MAX;
	for (unsigned i = 0; i < max; i++) {
		uint64_t total = 0, d = 0;
		for (unsigned w = 0; w < nw; w++) {
			uint64_t now = exc ? cur->worker[w].exc[i] : cur->worker[w].drop[i];
			uint64_t was = prev == NULL ? 0
				       : exc	    ? prev->worker[w].exc[i]
						    : prev->worker[w].drop[i];
			total += now;
			d += delta(was, now);
		}
		if (total == 0)
			continue;
		out[n++] = (struct reason_rate){ .reason = i,
						 .per_s = secs > 0 ? (double)d / secs : 0,
						 .total = total };
	}
	qsort(out, n, sizeof(*out), cmp_reason);
	return n;
}

void
stats_rates(const struct npr_stats *prev, const struct npr_stats *cur, struct stats_rates *r)
{
	memset(r, 0, sizeof(*r));
	r->since_start = started_over(prev, cur);
	if (r->since_start)
		prev = NULL;
	uint64_t ns = prev != NULL ? cur->counted_ns - prev->counted_ns : cur->counted_ns;
	double secs = (double)ns * 1e-9;
	double per = secs > 0 ? 1.0 / secs : 0;
	r->interval_s = secs;
	r->n_ports = cur->n_ports < NPR_MAX_PORTS ? cur->n_ports : NPR_MAX_PORTS;
	r->n_workers = cur->n_workers < NPR_MAX_WORKERS ? cur->n_workers : NPR_MAX_WORKERS;

	static const struct npr_port_stats zp;
	for (unsigned i = 0; i < r->n_ports; i++) {
		const struct npr_port_stats *c = &cur->port[i], *p = prev ? &prev->port[i] : &zp;
		struct port_rate *o = &r->port[i];
		o->port_id = c->port_id;
		o->link_up = c->link_up != 0;
		o->rx_pps = (double)delta(p->ipackets, c->ipackets) * per;
		o->tx_pps = (double)delta(p->opackets, c->opackets) * per;
		o->rx_bps = 8.0 * (double)delta(p->ibytes, c->ibytes) * per;
		o->tx_bps = 8.0 * (double)delta(p->obytes, c->obytes) * per;
		o->missed_ps = (double)(delta(p->imissed, c->imissed) +
					delta(p->rx_nombuf, c->rx_nombuf)) *
			       per;
		o->errors_ps =
			(double)(delta(p->ierrors, c->ierrors) + delta(p->oerrors, c->oerrors)) *
			per;
		r->rx_pps += o->rx_pps;
		r->tx_pps += o->tx_pps;
		r->rx_bps += o->rx_bps;
		r->tx_bps += o->tx_bps;
	}

	static const struct npr_worker_stats zw;
	double cycles = secs * (double)cur->tsc_hz;
	for (unsigned w = 0; w < r->n_workers; w++) {
		const struct npr_worker_stats *c = &cur->worker[w],
					      *p = prev ? &prev->worker[w] : &zw;
		struct worker_rate *o = &r->worker[w];
		o->lcore_id = c->lcore_id;
		o->rx_pps = (double)delta(p->rx_pkts, c->rx_pkts) * per;
		o->tx_pps = (double)delta(p->tx_pkts, c->tx_pkts) * per;
		uint64_t polls = delta(p->polls, c->polls);
		uint64_t busy = delta(p->busy_polls, c->busy_polls);
		o->busy_pct =
			polls > 0 ? 100.0 * (double)(busy < polls ? busy : polls) / (double)polls
				  : 0;
		double nap = (double)delta(p->nap_cycles, c->nap_cycles);
		o->asleep_pct = cycles > 0 ? 100.0 * nap / cycles : 0;
		if (o->asleep_pct > 100)
			o->asleep_pct = 100;
	}
	r->n_drop = reasons(prev, cur, r->n_workers, secs, false, r->drop);
	r->n_exc = reasons(prev, cur, r->n_workers, secs, true, r->exc);
}
