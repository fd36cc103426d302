/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rates from two STATS snapshots, for the live view (`show stats --watch`, `top`): per port
 * packets and bits a second, per worker packets a second and the share of its loop that was
 * busy or asleep, and the drop and exception reasons by rate. Pure arithmetic: no I/O, no
 * clock (the snapshots carry theirs: counted_ns, tsc_hz), so a unit test checks it.
 *
 * The interval is what counted_ns advanced between the two. When the counters started over
 * in between (a stats clear or another data plane: counted_ns went back, the ports or
 * workers changed) or there is no earlier snapshot, the rates are averages since they
 * started (since_start). A single counter that went back starts over from zero.
 */
#ifndef NPR_CTL_RATES_H
#define NPR_CTL_RATES_H

#include <stdbool.h>
#include <stdint.h>

#include "npr/proto.h"

struct port_rate {
	uint16_t port_id;
	bool link_up;
	double rx_pps, tx_pps;
	double rx_bps, tx_bps; /* bits (the driver's byte counts, times 8) */
	double missed_ps;      /* imissed + rx_nombuf */
	double errors_ps;      /* ierrors + oerrors */
};

struct worker_rate {
	uint32_t lcore_id;
	double rx_pps, tx_pps;
	double busy_pct;   /* of the loop's turns, those that received (0 with no turn) */
	double asleep_pct; /* of the interval, the time it napped (0..100) */
};

struct reason_rate {
	unsigned reason; /* enum npr_drop or enum npr_exc */
	double per_s;	 /* summed over the workers */
	uint64_t total;	 /* since the counters started */
};

struct stats_rates {
	double interval_s;
	bool since_start;
	unsigned n_ports, n_workers;
	struct port_rate port[NPR_MAX_PORTS];
	struct worker_rate worker[NPR_MAX_WORKERS];
	double rx_pps, tx_pps, rx_bps, tx_bps; /* all ports */
	/* reasons with a count, highest rate first (then highest total, then reason order) */
	struct reason_rate drop[NPR_DROP_MAX];
	unsigned n_drop;
	struct reason_rate exc[NPR_EXC_MAX];
	unsigned n_exc;
};

/* Rates from prev (NULL: none) to cur into *r. */
void stats_rates(const struct npr_stats *prev, const struct npr_stats *cur, struct stats_rates *r);

#endif
