/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live view's arithmetic (control/rates.c): rates between two hand-made STATS snapshots,
 * averages since the start when there is no earlier one or the counters started over, busy
 * and asleep shares, and the reasons by rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rates.h"

#define NEAR(a, b) assert_true((a) > (b)-1e-6 && (a) < (b) + 1e-6)

static struct npr_stats a, b;
static struct stats_rates r;

/* a: 10 s counted; b: 2 s later */
static void
fill(void)
{
	memset(&a, 0, sizeof(a));
	a.tsc_hz = 1000000000ull;
	a.counted_ns = 10000000000ull;
	a.uptime_ns = 10000000000ull;
	a.n_ports = 2;
	a.n_workers = 2;
	a.port[0].port_id = 0;
	a.port[1].port_id = 5;
	a.port[0].ipackets = 1000;
	a.port[0].ibytes = 100000;
	a.port[1].opackets = 990;
	a.port[1].obytes = 99000;
	a.port[0].imissed = 10;
	a.worker[0].lcore_id = 1;
	a.worker[0].rx_pkts = 1000;
	a.worker[0].polls = 5000;
	a.worker[0].busy_polls = 1000;
	a.worker[0].nap_cycles = 4000000000ull;
	a.worker[1].lcore_id = 2;
	a.worker[0].drop[NPR_DROP_NO_ROUTE] = 30;
	a.worker[1].drop[NPR_DROP_BAD_CHECKSUM] = 100;
	a.worker[1].exc[NPR_EXC_ARP] = 2;
	b = a;
	b.counted_ns += 2000000000ull;
	b.uptime_ns += 2000000000ull;
	b.port[0].ipackets += 2000;  /* 1000/s */
	b.port[0].ibytes += 250000;  /* 125000 B/s = 1 Mb/s */
	b.port[1].opackets += 3000;  /* 1500/s */
	b.port[1].obytes += 500000;  /* 2 Mb/s */
	b.port[0].imissed += 4;	     /* 2/s */
	b.port[0].rx_nombuf += 2;    /* 1/s */
	b.port[1].oerrors += 6;	     /* 3/s */
	b.worker[0].rx_pkts += 2000; /* 1000/s */
	b.worker[0].tx_pkts += 1000; /* 500/s */
	b.worker[0].polls += 1000;   /* 250 busy: 25 % */
	b.worker[0].busy_polls += 250;
	b.worker[0].nap_cycles += 500000000ull; /* 0.5 s of 2: 25 % */
	b.worker[1].polls += 10;
	b.worker[0].drop[NPR_DROP_NO_ROUTE] += 20; /* 10/s, since the start 50 */
	b.worker[1].drop[NPR_DROP_NO_ROUTE] += 20; /* and 10/s on worker 1 */
	b.worker[1].drop[NPR_DROP_TX_FULL] += 2;   /* 1/s, total 2 */
	b.worker[1].exc[NPR_EXC_TTL_EXPIRED] += 8; /* 4/s */
}

static void
test_interval(void **state)
{
	(void)state;
	fill();
	stats_rates(&a, &b, &r);
	assert_false(r.since_start);
	NEAR(r.interval_s, 2.0);
	assert_int_equal(r.n_ports, 2);
	assert_int_equal(r.port[1].port_id, 5);
	NEAR(r.port[0].rx_pps, 1000);
	NEAR(r.port[0].rx_bps, 1e6);
	NEAR(r.port[0].tx_pps, 0);
	NEAR(r.port[1].tx_pps, 1500);
	NEAR(r.port[1].tx_bps, 2e6);
	NEAR(r.port[0].missed_ps, 3);
	NEAR(r.port[1].errors_ps, 3);
	NEAR(r.rx_pps, 1000);
	NEAR(r.tx_bps, 2e6);
	assert_int_equal(r.n_workers, 2);
	assert_int_equal(r.worker[1].lcore_id, 2);
	NEAR(r.worker[0].rx_pps, 1000);
	NEAR(r.worker[0].tx_pps, 500);
	NEAR(r.worker[0].busy_pct, 25);
	NEAR(r.worker[0].asleep_pct, 25);
	NEAR(r.worker[1].busy_pct, 0);
	/* drops by rate: NO_ROUTE 20/s (both workers), TX_FULL 1/s, BAD_CHECKSUM 0/s (100) */
	assert_int_equal(r.n_drop, 3);
	assert_int_equal(r.drop[0].reason, NPR_DROP_NO_ROUTE);
	NEAR(r.drop[0].per_s, 20);
	assert_int_equal(r.drop[0].total, 70);
	assert_int_equal(r.drop[1].reason, NPR_DROP_TX_FULL);
	NEAR(r.drop[1].per_s, 1);
	assert_int_equal(r.drop[2].reason, NPR_DROP_BAD_CHECKSUM);
	NEAR(r.drop[2].per_s, 0);
	assert_int_equal(r.drop[2].total, 100);
	assert_int_equal(r.n_exc, 2);
	assert_int_equal(r.exc[0].reason, NPR_EXC_TTL_EXPIRED);
	NEAR(r.exc[0].per_s, 4);
	assert_int_equal(r.exc[1].reason, NPR_EXC_ARP);
}

/* No earlier snapshot: averages over what the counters cover. */
static void
test_first(void **state)
{
	(void)state;
	fill();
	stats_rates(NULL, &b, &r);
	assert_true(r.since_start);
	NEAR(r.interval_s, 12.0);
	NEAR(r.port[0].rx_pps, 3000.0 / 12);
	NEAR(r.worker[0].busy_pct, 100.0 * 1250 / 6000);
	NEAR(r.worker[0].asleep_pct, 100.0 * 4.5 / 12);
	assert_int_equal(r.drop[0].reason, NPR_DROP_BAD_CHECKSUM); /* 100 in all */
	NEAR(r.drop[0].per_s, 100.0 / 12);
	NEAR(r.drop[1].per_s, 70.0 / 12);
}

/* The counters started over (stats clear, another data plane): since the start again. */
static void
test_started_over(void **state)
{
	(void)state;
	fill();
	struct npr_stats c;
	memset(&c, 0, sizeof(c));
	c.tsc_hz = a.tsc_hz;
	c.counted_ns = 500000000ull; /* cleared half a second ago */
	c.n_ports = 2;
	c.n_workers = 2;
	c.port[1].port_id = 5;
	c.port[0].ipackets = 100;
	stats_rates(&b, &c, &r);
	assert_true(r.since_start);
	NEAR(r.interval_s, 0.5);
	NEAR(r.port[0].rx_pps, 200);
	assert_int_equal(r.n_drop, 0);
	/* other ports, or as many workers but a port renumbered */
	c = b;
	c.counted_ns += 1000000000ull;
	c.n_workers = 1;
	stats_rates(&b, &c, &r);
	assert_true(r.since_start);
	c = b;
	c.counted_ns += 1000000000ull;
	c.port[1].port_id = 6;
	stats_rates(&b, &c, &r);
	assert_true(r.since_start);
	/* the same instant twice: no interval, no rate, no division by zero */
	stats_rates(&b, &b, &r);
	assert_true(r.since_start);
	NEAR(r.interval_s, 12.0);
}

/* One counter that went back (a port's own reset) starts over alone; shares stay 0..100. */
static void
test_bounds(void **state)
{
	(void)state;
	fill();
	b.port[0].ipackets = 400; /* below a's 1000: counted from zero */
	b.worker[0].nap_cycles = a.worker[0].nap_cycles + 5000000000ull; /* 5 s of naps in 2 */
	b.worker[0].busy_polls = a.worker[0].busy_polls + 5000;		 /* more than the polls */
	stats_rates(&a, &b, &r);
	assert_false(r.since_start);
	NEAR(r.port[0].rx_pps, 200);
	NEAR(r.worker[0].asleep_pct, 100);
	NEAR(r.worker[0].busy_pct, 100);
	/* tsc_hz 0 (never from a data plane): no asleep share rather than a division by zero */
	a.tsc_hz = b.tsc_hz = 0;
	stats_rates(&a, &b, &r);
	NEAR(r.worker[0].asleep_pct, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_first),
		cmocka_unit_test(test_started_over),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
