/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/telemetry*.c. The snapshot double buffer: one writer publishes snapshots whose
 * every word carries its generation while reader threads copy them: no copy may mix two
 * publications (a torn read), and a reader sees generations in order. The replies, for the
 * largest data plane with every counter at its widest: each fits DPDK 22.11's 16 KiB (which
 * would drop what does not, silently), lists stop in time, bad parameters get an error of
 * printable text. No EAL.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_telemetry.h>

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

/* ---------------------------------------------------------------------------------------- */
/* The replies, through a stand-in for DPDK's telemetry data API (-Wl,--wrap): it keeps the
 * tree, enforces the library's limits, and measures the JSON that DPDK 22.11 would write
 * (compact, as telemetry.c's output_json does), which must fit its 16 KiB. */

#define TEL_OUT_MAX 16384 /* DPDK 22.11: MAX_OUTPUT_LEN */

enum { F_U64, F_STR, F_SUB };
struct fake_entry {
	char name[RTE_TEL_MAX_STRING_LEN];
	int kind;
	uint64_t u;
	char s[RTE_TEL_MAX_STRING_LEN];
	struct fake *sub;
};
struct fake {
	int array; /* 0: dict */
	unsigned n;
	struct fake_entry e[RTE_TEL_MAX_ARRAY_ENTRIES];
};
static unsigned refused; /* entries the library would have refused or cut */

static bool
valid_name(const char *n)
{
	for (; *n != '\0'; n++)
		if (!isalnum((unsigned char)*n) && *n != '_' && *n != '/')
			return false;
	return true;
}

struct rte_tel_data *__wrap_rte_tel_data_alloc(void);
struct rte_tel_data *
__wrap_rte_tel_data_alloc(void)
{
	return (struct rte_tel_data *)calloc(1, sizeof(struct fake));
}

static void
fake_free(struct fake *f)
{
	if (f == NULL)
		return;
	for (unsigned i = 0; i < f->n; i++)
		fake_free(f->e[i].sub);
	free(f);
}

void __wrap_rte_tel_data_free(struct rte_tel_data *d);
void
__wrap_rte_tel_data_free(struct rte_tel_data *d)
{
	fake_free((struct fake *)d);
}

int __wrap_rte_tel_data_start_dict(struct rte_tel_data *d);
int
__wrap_rte_tel_data_start_dict(struct rte_tel_data *d)
{
	struct fake *f = (struct fake *)d;
	f->array = 0;
	f->n = 0;
	return 0;
}

int __wrap_rte_tel_data_start_array(struct rte_tel_data *d, enum rte_tel_value_type t);
int
__wrap_rte_tel_data_start_array(struct rte_tel_data *d, enum rte_tel_value_type t)
{
	struct fake *f = (struct fake *)d;
	assert_int_equal(t, RTE_TEL_U64_VAL);
	f->array = 1;
	f->n = 0;
	return 0;
}

static struct fake_entry *
dict_add(struct rte_tel_data *d, const char *name, int kind)
{
	struct fake *f = (struct fake *)d;
	if (f->array || f->n >= RTE_TEL_MAX_DICT_ENTRIES || !valid_name(name) ||
	    strlen(name) >= RTE_TEL_MAX_STRING_LEN) {
		refused++;
		return NULL;
	}
	struct fake_entry *e = &f->e[f->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kind = kind;
	return e;
}

int __wrap_rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t v);
int
__wrap_rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	struct fake_entry *e = dict_add(d, name, F_U64);
	if (e == NULL)
		return -EINVAL;
	e->u = v;
	return 0;
}

int __wrap_rte_tel_data_add_dict_string(struct rte_tel_data *d, const char *name, const char *v);
int
__wrap_rte_tel_data_add_dict_string(struct rte_tel_data *d, const char *name, const char *v)
{
	struct fake_entry *e = dict_add(d, name, F_STR);
	if (e == NULL)
		return -EINVAL;
	if (strlen(v) >= RTE_TEL_MAX_STRING_LEN)
		refused++;
	snprintf(e->s, sizeof(e->s), "%s", v);
	return 0;
}

int __wrap_rte_tel_data_add_dict_container(struct rte_tel_data *d, const char *name,
					   struct rte_tel_data *v, int keep);
int
__wrap_rte_tel_data_add_dict_container(struct rte_tel_data *d, const char *name,
				       struct rte_tel_data *v, int keep)
{
	assert_int_equal(keep, 0);
	struct fake_entry *e = dict_add(d, name, F_SUB);
	if (e == NULL)
		return -EINVAL;
	e->sub = (struct fake *)v;
	return 0;
}

int __wrap_rte_tel_data_add_array_u64(struct rte_tel_data *d, uint64_t v);
int
__wrap_rte_tel_data_add_array_u64(struct rte_tel_data *d, uint64_t v)
{
	struct fake *f = (struct fake *)d;
	if (!f->array || f->n >= RTE_TEL_MAX_ARRAY_ENTRIES) {
		refused++;
		return -ENOSPC;
	}
	f->e[f->n].kind = F_U64;
	f->e[f->n++].u = v;
	return 0;
}

/* The JSON's length, as DPDK writes it: no spaces; a string's quotes and backslashes
 * escaped. */
static size_t
json_len(const struct fake *f)
{
	size_t n = 2 + (f->n > 0 ? f->n - 1 : 0); /* brackets, commas */
	char num[24];

	for (unsigned i = 0; i < f->n; i++) {
		const struct fake_entry *e = &f->e[i];
		if (!f->array)
			n += strlen(e->name) + 3; /* "name": */
		switch (e->kind) {
		case F_U64:
			n += (size_t)snprintf(num, sizeof(num), "%" PRIu64, e->u);
			break;
		case F_STR:
			n += 2;
			for (const char *c = e->s; *c != '\0'; c++)
				n += *c == '"' || *c == '\\' ? 2 : 1;
			break;
		default:
			n += json_len(e->sub);
		}
	}
	return n;
}

static const struct fake_entry *
find(const struct fake *f, const char *name)
{
	for (unsigned i = 0; i < f->n; i++)
		if (strcmp(f->e[i].name, name) == 0)
			return &f->e[i];
	return NULL;
}

/* Publish a snapshot of the largest data plane, every counter at its widest. */
static void
publish_largest(void)
{
	memset(&w_info, 0xff, sizeof(w_info));
	memset(&w_st, 0xff, sizeof(w_st));
	w_st.n_ports = NPR_MAX_PORTS;
	w_st.n_workers = NPR_MAX_WORKERS;
	w_st.counted_ns = 1000000000;
	w_st.tsc_hz = 1000000000;
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++) {
		w_st.port[i].flags = NPR_PORT_F_UNSEEN;
		w_st.port[i].link_up = 1;
	}
	for (unsigned w = 0; w < NPR_MAX_WORKERS; w++) {
		w_st.worker[w].lcore_id = 127;
		w_st.worker[w].polls = 1000;
		w_st.worker[w].busy_polls = 500;
		w_st.worker[w].nap_cycles = 0;
	}
	telemetry_publish(&w_info, &w_st, npr_now_ns());
}

/* cmd's reply: fits DPDK's 16 KiB, nothing refused; the caller frees it. */
static struct fake *
ask(const char *cmd, const char *params)
{
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	refused = 0;
	assert_int_equal(telemetry_handle(cmd, params, (struct rte_tel_data *)f), 0);
	size_t len = strlen(cmd) + 5 + json_len(f); /* {"cmd":...} */
	print_message("%s%s%s: %zu bytes of JSON, %u entries\n", cmd, params ? "," : "",
		      params ? params : "", len, f->n);
	assert_true(len <= TEL_OUT_MAX);
	assert_int_equal(refused, 0);
	return f;
}

static void
test_replies_fit(void **state)
{
	const char *all[] = { "/nprouter/info",	   "/nprouter/stats", "/nprouter/ports",
			      "/nprouter/workers", "/nprouter/drops", "/nprouter/fib" };

	(void)state;
	publish_largest();
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct fake *f = ask(all[i], NULL);
		assert_null(find(f, "error"));
		fake_free(f);
	}
	/* one item alone: the last port, the last worker with its reasons */
	struct fake *f = ask("/nprouter/ports", "63");
	assert_non_null(find(f, "q_ipackets"));
	fake_free(f);
	f = ask("/nprouter/workers", "63");
	assert_non_null(find(f, "drops"));
	fake_free(f);
}

/* A list that does not fit names the command for the rest; the items it has are 0..k-1. */
static void
test_lists_stop_in_time(void **state)
{
	const char *lists[] = { "/nprouter/ports", "/nprouter/workers" };

	(void)state;
	publish_largest();
	for (size_t i = 0; i < 2; i++) {
		struct fake *f = ask(lists[i], NULL);
		const struct fake_entry *more = find(f, "not_listed");
		unsigned k = 0;
		char key[8];
		for (;; k++) {
			snprintf(key, sizeof(key), "%u", k);
			if (find(f, key) == NULL)
				break;
		}
		assert_non_null(more);
		print_message("  %u listed; not_listed: %s\n", k, more->s);
		assert_true(k > 0 && k < 64);
		assert_non_null(strstr(more->s, lists[i]));
		fake_free(f);
	}
}

static void
test_bad_parameters(void **state)
{
	const char *bad[][2] = { { "/nprouter/ports", "64" },	{ "/nprouter/ports", "-1" },
				 { "/nprouter/ports", "1x" },	{ "/nprouter/workers", "" },
				 { "/nprouter/workers", "99" }, { "/nprouter/drops", "\"\\\xff" },
				 { "/nprouter/stats", "1" },	{ "/nprouter/fib", "a" },
				 { "/nprouter/info", "x" },	{ "/nprouter/nothing", NULL } };

	(void)state;
	publish_largest();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fake *f = ask(bad[i][0], bad[i][1]);
		if (bad[i][1] != NULL && bad[i][1][0] == '\0') {
			/* an empty parameter is no parameter */
			assert_null(find(f, "error"));
		} else {
			assert_int_equal(f->n, 1);
			assert_non_null(find(f, "error"));
			print_message("  -> %s\n", f->e[0].s);
			for (const char *c = f->e[0].s; *c != '\0'; c++)
				assert_true(*c >= 0x20 && *c < 0x7f);
		}
		fake_free(f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_before_publish),
		cmocka_unit_test(test_read_what_was_published),
		cmocka_unit_test(test_no_torn_read),
		cmocka_unit_test(test_replies_fit),
		cmocka_unit_test(test_lists_stop_in_time),
		cmocka_unit_test(test_bad_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
