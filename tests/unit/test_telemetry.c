/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/telemetry.c: the snapshot double buffer. One writer publishes snapshots whose
 * every word carries its generation while reader threads copy them: no copy may mix two
 * publications (a torn read), and a reader sees generations in order. No EAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "npr/util.h"
#include "telemetry.h"

#define READERS 2
#define RUN_NS 400000000ull /* 0.4 s of publishing */

static struct npr_info w_info;
static struct npr_stats w_st;
static volatile int done;

struct reader {
	pthread_t t;
	uint64_t reads, torn, backwards, last;
};

static void
fill(uint64_t g)
{
	uint64_t *p = (uint64_t *)&w_st;
	for (size_t i = 0; i < sizeof(w_st) / 8; i++)
		p[i] = g;
	memset(&w_info, 0, sizeof(w_info));
	w_info.instance_id = g;
	w_info.route4_count = (uint32_t)g;
	w_info.uptime_ns = g;
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct npr_info *in = malloc(sizeof(*in));
	struct npr_stats *st = malloc(sizeof(*st));

	assert_non_null(in);
	assert_non_null(st);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		if (telemetry_read(in, st, NULL) != 0)
			continue;
		const uint64_t *p = (const uint64_t *)st;
		uint64_t g = in->instance_id;
		bool ok = in->route4_count == (uint32_t)g && in->uptime_ns == g;
		for (size_t i = 0; ok && i < sizeof(*st) / 8; i++)
			ok = p[i] == g;
		r->torn += !ok;
		r->backwards += g < r->last;
		r->last = g;
		r->reads++;
	}
	free(in);
	free(st);
	return NULL;
}

static void
test_nothing_before_publish(void **state)
{
	struct npr_info in;
	static struct npr_stats st;

	(void)state;
	assert_int_equal(telemetry_read(&in, &st, NULL), -EAGAIN);
}

static void
test_read_what_was_published(void **state)
{
	struct npr_info in;
	static struct npr_stats st;
	uint64_t at;

	(void)state;
	fill(7);
	telemetry_publish(&w_info, &w_st, 1234);
	assert_int_equal(telemetry_read(&in, &st, &at), 0);
	assert_int_equal(at, 1234);
	assert_int_equal(in.instance_id, 7);
	assert_int_equal(st.port[3].q_opackets[5], 7);
	fill(8);
	telemetry_publish(&w_info, &w_st, 2345);
	assert_int_equal(telemetry_read(&in, &st, &at), 0);
	assert_int_equal(at, 2345);
	assert_int_equal(in.route4_count, 8);
}

static void
test_no_torn_read(void **state)
{
	struct reader r[READERS];
	uint64_t g = 100, t0 = npr_now_ns();

	(void)state;
	memset(r, 0, sizeof(r));
	fill(g);
	telemetry_publish(&w_info, &w_st, npr_now_ns());
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&r[i].t, NULL, reader_main, &r[i]), 0);
	while (npr_now_ns() - t0 < RUN_NS) {
		fill(++g);
		telemetry_publish(&w_info, &w_st, npr_now_ns());
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < READERS; i++) {
		pthread_join(r[i].t, NULL);
		print_message("reader %d: %" PRIu64 " reads, %" PRIu64 " publications\n", i,
			      r[i].reads, g - 100);
		assert_true(r[i].reads > 0);
		assert_int_equal(r[i].torn, 0);
		assert_int_equal(r[i].backwards, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_before_publish),
		cmocka_unit_test(test_read_what_was_published),
		cmocka_unit_test(test_no_torn_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
