/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the counters module (dataplane/stats.c): the snapshot gathers what each
 * source holds, worker counters are summed per reason in the printout, and the one clock
 * runs forward. No EAL: no ports exist, so port counters read as zero.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwd.h"
#include "stats.h"

static struct fwd_worker *wk[2];

static int
setup(void **state)
{
	(void)state;
	for (unsigned w = 0; w < 2; w++) {
		wk[w] = calloc(1, sizeof(*wk[w]));
		assert_non_null(wk[w]);
		wk[w]->stats.lcore_id = 3 + w;
		wk[w]->stats.rx_pkts = 100 * (w + 1);
		wk[w]->stats.tx_pkts = 90 * (w + 1);
		wk[w]->stats.fwd4_pkts = 80 * (w + 1);
		wk[w]->stats.fwd6_pkts = 10 * (w + 1);
		wk[w]->stats.drop[NPR_DROP_MAX - 1] = 5 + w;
		wk[w]->stats.exc[0] = 7;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(wk[0]);
	free(wk[1]);
	return 0;
}

static struct stats
two_workers(void)
{
	struct stats s;
	stats_init(&s);
	s.n_ports = 1;
	s.port_id[0] = 7; /* no such port without EAL: its counters read as zero */
	s.n_workers = 2;
	s.workers = wk;
	s.exc_handled = 14;
	return s;
}

static void
test_fill(void **state)
{
	(void)state;
	static struct npr_stats st;
	struct stats s = two_workers();

	memset(&st, 0xa5, sizeof(st));
	stats_fill(&s, &st);
	assert_int_equal(st.n_ports, 1);
	assert_int_equal(st.port[0].port_id, 7);
	assert_int_equal(st.port[0].ipackets, 0);
	assert_int_equal(st.port[1].port_id, 0); /* the rest is zeroed, not left over */
	assert_int_equal(st.n_workers, 2);
	assert_memory_equal(&st.worker[0], &wk[0]->stats, sizeof(st.worker[0]));
	assert_memory_equal(&st.worker[1], &wk[1]->stats, sizeof(st.worker[1]));
	assert_int_equal(st.exc_handled, 14);
	assert_int_equal(st.msgs_ok, 0); /* cfg's to fill */
	for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
		assert_int_equal(st.slow[i], 0); /* no slow path yet */
	assert_int_equal(st.mbufs_total, 0);	 /* nor a packet buffer pool */
	assert_int_equal(st.mbufs_in_use, 0);
}

static void
test_clock(void **state)
{
	(void)state;
	struct stats s = two_workers();
	struct timespec nap = { 0, 2000000 };
	uint64_t a = stats_uptime_ns(&s);
	nanosleep(&nap, NULL);
	uint64_t b = stats_uptime_ns(&s);
	assert_true(b >= a + 2000000);
	assert_true(b < 10ull * 1000000000ull);
}

static void
test_print(void **state)
{
	(void)state;
	struct stats s = two_workers();
	char *buf = NULL, line[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	stats_print(&s, f);
	fclose(f);
	assert_non_null(strstr(buf, "--- nprouter counters (uptime "));
	assert_non_null(strstr(buf, "\nport 7 ?"));
	assert_non_null(strstr(buf, "\nworker 0 lcore 3 rx 100 tx 90 fwd4 80 fwd6 10\n"));
	assert_non_null(strstr(buf, "\nworker 1 lcore 4 rx 200 tx 180 fwd4 160 fwd6 20\n"));
	/* reasons summed over the workers */
	snprintf(line, sizeof(line), "\ndrop %-14s 11  (", npr_drop_name(NPR_DROP_MAX - 1));
	assert_non_null(strstr(buf, line));
	snprintf(line, sizeof(line), "\nexception %-11s 14  (", npr_exc_name(0));
	assert_non_null(strstr(buf, line));
	free(buf);
}

/* stats clear: every worker counter reads zero after it (the workers' own memory is not
 * written: a baseline is subtracted), and counts what comes after. */
static void
test_clear(void **state)
{
	(void)state;
	static struct stats s;
	static struct npr_stats st;
	s = two_workers();
	stats_clear(&s);
	stats_fill(&s, &st);
	for (unsigned w = 0; w < 2; w++) {
		assert_int_equal(st.worker[w].lcore_id, 3 + w);
		assert_int_equal(st.worker[w].rx_pkts, 0);
		assert_int_equal(st.worker[w].drop[NPR_DROP_MAX - 1], 0);
		assert_int_equal(st.worker[w].exc[0], 0);
		assert_int_equal(wk[w]->stats.rx_pkts, 100 * (w + 1)); /* untouched */
	}
	wk[1]->stats.rx_pkts += 5;
	wk[1]->stats.drop[0] += 2;
	stats_fill(&s, &st);
	assert_int_equal(st.worker[1].rx_pkts, 5);
	assert_int_equal(st.worker[1].drop[0], 2);
	assert_int_equal(st.worker[0].rx_pkts, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
