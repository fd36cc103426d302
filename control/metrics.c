/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition (format 0.0.4) of the data plane's counters (metrics.h).
 *
 * Every family gets "# HELP" and "# TYPE" lines once, then its samples; a family is written
 * whole before the next (the format wants a family's samples together). Counters end in
 * _total and carry the data plane's 64-bit counts as integers; gauges do not. Every series
 * that can exist is written from the first scrape, zeros included, so that rate() and
 * increase() have a start. Counters restart from zero with the data plane and after
 * `stats clear` (Prometheus treats a decrease as a reset).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* ---- the text buffer ---- */

void
mtext_printf(struct mtext *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		size_t room = t->cap - t->len;
		va_start(ap, fmt);
		int n = vsnprintf(t->s != NULL ? t->s + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap == 0 ? 16384 : t->cap;
		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(t->s, cap);
		if (s == NULL) {
			t->oom = true;
			if (t->s != NULL)
				t->s[t->len] = '\0';
			return;
		}
		t->s = s;
		t->cap = cap;
	}
}

void
mtext_free(struct mtext *t)
{
	free(t->s);
	*t = (struct mtext){ 0 };
}

/* ---- writing families and samples ---- */

enum kind { COUNTER, GAUGE };

/* "# HELP name help" (help escaped: backslash, newline) and "# TYPE name type". */
static void
family(struct mtext *t, const char *name, enum kind k, const char *help)
{
	mtext_printf(t, "# HELP %s ", name);
	for (const char *p = help; *p != '\0'; p++) {
		if (*p == '\\')
			mtext_printf(t, "\\\\");
		else if (*p == '\n')
			mtext_printf(t, "\\n");
		else
			mtext_printf(t, "%c", *p);
	}
	mtext_printf(t, "\n# TYPE %s %s\n", name, k == COUNTER ? "counter" : "gauge");
}

/* A label value as the format quotes it (backslash, double quote, newline escaped), at
 * most n bytes of v (device names are fixed arrays, maybe without a NUL). */
static void
label_value(struct mtext *t, const char *v, size_t n)
{
	for (size_t i = 0; i < n && v[i] != '\0'; i++) {
		if (v[i] == '\\' || v[i] == '"')
			mtext_printf(t, "\\%c", v[i]);
		else if (v[i] == '\n')
			mtext_printf(t, "\\n");
		else
			mtext_printf(t, "%c", v[i]);
	}
}

/* name{labels} v: labels already formatted ("" for none). */
static void
sample_u64(struct mtext *t, const char *name, const char *labels, uint64_t v)
{
	if (labels[0] != '\0')
		mtext_printf(t, "%s{%s} %" PRIu64 "\n", name, labels, v);
	else
		mtext_printf(t, "%s %" PRIu64 "\n", name, v);
}

static void
sample_double(struct mtext *t, const char *name, const char *labels, double v)
{
	if (labels[0] != '\0')
		mtext_printf(t, "%s{%s} %.15g\n", name, labels, v);
	else
		mtext_printf(t, "%s %.15g\n", name, v);
}

static void
scalar_u64(struct mtext *t, const char *name, enum kind k, const char *help, uint64_t v)
{
	family(t, name, k, help);
	sample_u64(t, name, "", v);
}

/* "NO_ROUTE" -> "no_route": label values and metric name parts. */
static const char *
lower(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[i] = '\0';
	return buf;
}

static const char *const family_label[2] = { "ipv4", "ipv6" };

/* ---- the data plane as a whole ---- */

static void
write_totals(struct mtext *t, const struct npr_stats *st)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
		{ "nprouter_messages_applied_total", "Ring requests the data plane applied.",
		  offsetof(struct npr_stats, msgs_ok) },
		{ "nprouter_messages_rejected_total", "Ring requests the data plane rejected.",
		  offsetof(struct npr_stats, msgs_err) },
		{ "nprouter_exceptions_handled_total",
		  "Exceptions the control thread took off the workers' rings.",
		  offsetof(struct npr_stats, exc_handled) },
		{ "nprouter_ring_resets_total", "Corrupt request rings recovered.",
		  offsetof(struct npr_stats, ring_resets) },
		{ "nprouter_replies_dropped_total", "Replies no session was there to read.",
		  offsetof(struct npr_stats, replies_dropped) },
		{ "nprouter_batches_aborted_total",
		  "Batches of sessions that died or stayed silent, aborted by the data plane.",
		  offsetof(struct npr_stats, batches_aborted) },
		{ "nprouter_layout_repairs_total",
		  "Shared-memory segment layouts rewritten after another process wrote them.",
		  offsetof(struct npr_stats, layout_repairs) },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)st + c[i].off, sizeof(v));
		scalar_u64(t, c[i].name, COUNTER, c[i].help, v);
	}
	family(t, "nprouter_uptime_seconds", GAUGE, "Seconds since the data plane started.");
	sample_double(t, "nprouter_uptime_seconds", "", (double)st->uptime_ns * 1e-9);
	family(t, "nprouter_counters_age_seconds", GAUGE,
	       "Seconds the counters cover: since the data plane started or the last stats clear.");
	sample_double(t, "nprouter_counters_age_seconds", "", (double)st->counted_ns * 1e-9);
	scalar_u64(t, "nprouter_mbufs_in_use", GAUGE,
		   "Packet buffers out of the pool (rings, queues, slow path, in flight).",
		   st->mbufs_in_use);
	scalar_u64(t, "nprouter_mbufs_capacity", GAUGE, "Packet buffers in the pool.",
		   st->mbufs_total);
}

/* ---- ports ---- */

static void
write_ports(struct mtext *t, const struct npr_stats *st, const struct metrics_input *in)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
		{ "nprouter_port_rx_packets_total", "Packets the port received (driver count).",
		  offsetof(struct npr_port_stats, ipackets) },
		{ "nprouter_port_tx_packets_total", "Packets the port sent (driver count).",
		  offsetof(struct npr_port_stats, opackets) },
		{ "nprouter_port_rx_bytes_total", "Bytes the port received (driver count).",
		  offsetof(struct npr_port_stats, ibytes) },
		{ "nprouter_port_tx_bytes_total", "Bytes the port sent (driver count).",
		  offsetof(struct npr_port_stats, obytes) },
		{ "nprouter_port_rx_missed_total",
		  "Packets the port dropped because no receive descriptor was free.",
		  offsetof(struct npr_port_stats, imissed) },
		{ "nprouter_port_rx_errors_total", "Erroneous packets the port received.",
		  offsetof(struct npr_port_stats, ierrors) },
		{ "nprouter_port_tx_errors_total", "Packets the port failed to send.",
		  offsetof(struct npr_port_stats, oerrors) },
		{ "nprouter_port_rx_nombuf_total",
		  "Receive buffer allocation failures on the port.",
		  offsetof(struct npr_port_stats, rx_nombuf) },
	};
	unsigned np = st->n_ports < NPR_MAX_PORTS ? st->n_ports : NPR_MAX_PORTS;
	unsigned nw = st->n_workers < NPR_MAX_WORKERS ? st->n_workers : NPR_MAX_WORKERS;
	unsigned nq = nw < NPR_STATS_QUEUES ? nw : NPR_STATS_QUEUES;
	char lb[64];

	family(t, "nprouter_port_info", GAUGE, "The data plane's ports: DPDK port id and device.");
	for (size_t i = 0; i < in->n_ports; i++) {
		mtext_printf(t, "nprouter_port_info{port=\"%u\",device=\"", in->ports[i].port_id);
		label_value(t, in->ports[i].name, sizeof(in->ports[i].name));
		mtext_printf(t, "\"} 1\n");
	}
	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		family(t, c[k].name, COUNTER, c[k].help);
		for (unsigned i = 0; i < np; i++) {
			uint64_t v;
			memcpy(&v, (const char *)&st->port[i] + c[k].off, sizeof(v));
			snprintf(lb, sizeof(lb), "port=\"%u\"", st->port[i].port_id);
			sample_u64(t, c[k].name, lb, v);
		}
	}
	family(t, "nprouter_port_rx_unseen_total", COUNTER,
	       "af_packet ports: frames the Linux netdev received that nprouter never saw as such "
	       "(ring overruns, IPv4 fragments the kernel reassembled).");
	for (unsigned i = 0; i < np; i++) {
		if (!(st->port[i].flags & NPR_PORT_F_UNSEEN))
			continue;
		snprintf(lb, sizeof(lb), "port=\"%u\"", st->port[i].port_id);
		sample_u64(t, "nprouter_port_rx_unseen_total", lb, st->port[i].rx_unseen);
	}
	family(t, "nprouter_port_link_up", GAUGE,
	       "1 if the port's link is up, as the driver says.");
	for (unsigned i = 0; i < np; i++) {
		snprintf(lb, sizeof(lb), "port=\"%u\"", st->port[i].port_id);
		sample_u64(t, "nprouter_port_link_up", lb, st->port[i].link_up ? 1 : 0);
	}
	family(t, "nprouter_port_link_downs_total", COUNTER,
	       "memif ports: times the peer left; 0 for other ports.");
	for (unsigned i = 0; i < np; i++) {
		snprintf(lb, sizeof(lb), "port=\"%u\"", st->port[i].port_id);
		sample_u64(t, "nprouter_port_link_downs_total", lb, st->port[i].link_downs);
	}
	for (int dir = 0; dir < 2; dir++) {
		const char *name = dir == 0 ? "nprouter_port_queue_rx_packets_total"
					    : "nprouter_port_queue_tx_packets_total";
		family(t, name, COUNTER,
		       dir == 0
			       ? "Packets received on the port's queue (queue q is worker q's; "
				 "0 where the driver does not count per queue)."
			       : "Packets sent on the port's queue (queue q is worker q's; 0 where "
				 "the driver does not count per queue).");
		for (unsigned i = 0; i < np; i++)
			for (unsigned q = 0; q < nq; q++) {
				snprintf(lb, sizeof(lb), "port=\"%u\",queue=\"%u\"",
					 st->port[i].port_id, q);
				sample_u64(t, name, lb,
					   dir == 0 ? st->port[i].q_ipackets[q]
						    : st->port[i].q_opackets[q]);
			}
	}
}

/* ---- workers ---- */

static void
write_workers(struct mtext *t, const struct npr_stats *st)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
		{ "nprouter_worker_rx_packets_total", "Packets the worker received.",
		  offsetof(struct npr_worker_stats, rx_pkts) },
		{ "nprouter_worker_tx_packets_total", "Packets the worker sent.",
		  offsetof(struct npr_worker_stats, tx_pkts) },
		{ "nprouter_worker_injected_packets_total",
		  "Packets the slow path handed the worker to send (ARP, ND, ICMP, queued).",
		  offsetof(struct npr_worker_stats, inject_pkts) },
		{ "nprouter_worker_polls_total", "Turns of the worker's loop.",
		  offsetof(struct npr_worker_stats, polls) },
		{ "nprouter_worker_busy_polls_total", "Turns of the worker's loop that received.",
		  offsetof(struct npr_worker_stats, busy_polls) },
		{ "nprouter_worker_naps_total", "Times the idle worker slept (--idle adaptive).",
		  offsetof(struct npr_worker_stats, naps) },
	};
	unsigned nw = st->n_workers < NPR_MAX_WORKERS ? st->n_workers : NPR_MAX_WORKERS;
	char lb[96], nm[32];

	family(t, "nprouter_worker_info", GAUGE, "The data plane's workers: index and lcore.");
	for (unsigned w = 0; w < nw; w++)
		mtext_printf(t, "nprouter_worker_info{worker=\"%u\",lcore=\"%" PRIu32 "\"} 1\n", w,
			     st->worker[w].lcore_id);
	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		family(t, c[k].name, COUNTER, c[k].help);
		for (unsigned w = 0; w < nw; w++) {
			uint64_t v;
			memcpy(&v, (const char *)&st->worker[w] + c[k].off, sizeof(v));
			snprintf(lb, sizeof(lb), "worker=\"%u\"", w);
			sample_u64(t, c[k].name, lb, v);
		}
	}
	family(t, "nprouter_worker_forwarded_packets_total", COUNTER,
	       "Packets the worker forwarded, by family.");
	for (unsigned w = 0; w < nw; w++)
		for (int f = 0; f < 2; f++) {
			snprintf(lb, sizeof(lb), "worker=\"%u\",family=\"%s\"", w, family_label[f]);
			sample_u64(t, "nprouter_worker_forwarded_packets_total", lb,
				   f == 0 ? st->worker[w].fwd4_pkts : st->worker[w].fwd6_pkts);
		}
	family(t, "nprouter_worker_nap_seconds_total", COUNTER,
	       "Seconds the idle worker slept (--idle adaptive).");
	for (unsigned w = 0; w < nw; w++) {
		snprintf(lb, sizeof(lb), "worker=\"%u\"", w);
		sample_double(t, "nprouter_worker_nap_seconds_total", lb,
			      st->tsc_hz > 0 ? (double)st->worker[w].nap_cycles / (double)st->tsc_hz
					     : 0.0);
	}
	family(t, "nprouter_worker_drops_total", COUNTER,
	       "Packets the worker dropped, by reason (every packet is forwarded, dropped under "
	       "one reason, or handed to the slow path).");
	for (unsigned w = 0; w < nw; w++)
		for (unsigned i = 0; i < NPR_DROP_MAX; i++) {
			snprintf(lb, sizeof(lb), "worker=\"%u\",reason=\"%s\"", w,
				 lower(npr_drop_name(i), nm, sizeof(nm)));
			sample_u64(t, "nprouter_worker_drops_total", lb, st->worker[w].drop[i]);
		}
	family(t, "nprouter_worker_exceptions_total", COUNTER,
	       "Packets the worker handed to the slow path, by reason.");
	for (unsigned w = 0; w < nw; w++)
		for (unsigned i = 0; i < NPR_EXC_MAX; i++) {
			snprintf(lb, sizeof(lb), "worker=\"%u\",reason=\"%s\"", w,
				 lower(npr_exc_name(i), nm, sizeof(nm)));
			sample_u64(t, "nprouter_worker_exceptions_total", lb, st->worker[w].exc[i]);
		}
	family(t, "nprouter_worker_policed_total", COUNTER,
	       "Exceptions over their punt class's rate, dropped (counted as drops too).");
	for (unsigned w = 0; w < nw; w++)
		for (unsigned i = 0; i < NPR_PUNT_MAX; i++) {
			snprintf(lb, sizeof(lb), "worker=\"%u\",class=\"%s\"", w,
				 lower(npr_punt_name(i), nm, sizeof(nm)));
			sample_u64(t, "nprouter_worker_policed_total", lb,
				   st->worker[w].policed[i]);
		}
}

/* ---- the slow path: one counter each, its own words as help ---- */

/* The counter's name in a metric name: lower case, but NS (neighbour solicitations) would
 * read as nanoseconds to Prometheus's linter (promtool check metrics). */
static const char *
slow_metric_part(unsigned i, char *buf, size_t len)
{
	if (i == NPR_SLOW_NS_TX)
		return "solicitations_tx";
	return lower(npr_slow_name(i), buf, len);
}

static void
write_slowpath(struct mtext *t, const struct npr_stats *st)
{
	char name[96], nm[32];
	for (unsigned i = 0; i < NPR_SLOW_MAX; i++) {
		snprintf(name, sizeof(name), "nprouter_slowpath_%s_total",
			 slow_metric_part(i, nm, sizeof(nm)));
		char help[160];
		snprintf(help, sizeof(help), "Slow path: %s.", npr_slow_text(i));
		scalar_u64(t, name, COUNTER, help, st->slow[i]);
	}
}

/* ---- INFO: sizes, routes, FIB memory, configuration transactions ---- */

static void
write_info(struct mtext *t, const struct npr_info *in)
{
	char lb[96];

	family(t, "nprouter_info", GAUGE,
	       "The data plane instance and its protocol (ABI) version.");
	mtext_printf(t, "nprouter_info{instance_id=\"%016" PRIx64 "\",abi=\"%" PRIu32 "\"} 1\n",
		     in->instance_id, in->abi_version);
	scalar_u64(t, "nprouter_ports", GAUGE, "Ports the data plane uses.", in->n_ports);
	scalar_u64(t, "nprouter_workers", GAUGE, "Worker lcores.", in->n_workers);
	scalar_u64(t, "nprouter_interfaces", GAUGE, "Interfaces configured.", in->n_ifaces);
	scalar_u64(t, "nprouter_nexthops_capacity", GAUGE, "Next hop ids each origin may use.",
		   in->nh_max > 0 ? in->nh_max - 1 : 0);
	scalar_u64(t, "nprouter_groups_capacity", GAUGE, "ECMP group ids each origin may use.",
		   in->group_max > 0 ? in->group_max - 1 : 0);
	family(t, "nprouter_routes_capacity", GAUGE,
	       "Routes the clients may hold, by family (connected and local routes come on top).");
	for (int f = 0; f < 2; f++) {
		snprintf(lb, sizeof(lb), "family=\"%s\"", family_label[f]);
		sample_u64(t, "nprouter_routes_capacity", lb,
			   f == 0 ? in->route4_max : in->route6_max);
	}
	family(t, "nprouter_routes", GAUGE,
	       "Routes by family and origin, selected or waiting (origin connected: the "
	       "router's connected and local routes).");
	for (int f = 0; f < 2; f++)
		for (unsigned o = 0; o < NPR_ORIGIN_MAX; o++) {
			snprintf(lb, sizeof(lb), "family=\"%s\",origin=\"%s\"", family_label[f],
				 npr_origin_name(o));
			sample_u64(t, "nprouter_routes", lb,
				   f == 0 ? in->route4_by_origin[o] : in->route6_by_origin[o]);
		}
	family(t, "nprouter_fib_routes", GAUGE, "Prefixes in the FIB, by family.");
	for (int f = 0; f < 2; f++) {
		snprintf(lb, sizeof(lb), "family=\"%s\"", family_label[f]);
		sample_u64(t, "nprouter_fib_routes", lb,
			   f == 0 ? in->route4_count : in->route6_count);
	}
	family(t, "nprouter_fib_memory_bytes", GAUGE,
	       "Memory the forwarding structures use, by family.");
	for (int f = 0; f < 2; f++) {
		snprintf(lb, sizeof(lb), "family=\"%s\"", family_label[f]);
		sample_u64(t, "nprouter_fib_memory_bytes", lb,
			   f == 0 ? in->fib4_bytes : in->fib6_bytes);
	}

	/* configuration transactions, client origins only */
	family(t, "nprouter_config_generation", GAUGE,
	       "Configuration transactions (batches, resyncs outside a batch) the origin "
	       "committed since the data plane started.");
	for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
		snprintf(lb, sizeof(lb), "origin=\"%s\"", npr_origin_name(o));
		sample_u64(t, "nprouter_config_generation", lb, in->txn[o].generation);
	}
	family(t, "nprouter_config_failures_total", COUNTER,
	       "Configuration transactions of the origin that failed (nothing of them applied).");
	for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
		snprintf(lb, sizeof(lb), "origin=\"%s\"", npr_origin_name(o));
		sample_u64(t, "nprouter_config_failures_total", lb, in->txn[o].failed);
	}
	family(t, "nprouter_config_last_success", GAUGE,
	       "1 if the origin's last configuration transaction committed, 0 if it failed "
	       "(origins with none yet are left out).");
	for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
		if (in->txn[o].generation + in->txn[o].failed == 0)
			continue;
		snprintf(lb, sizeof(lb), "origin=\"%s\"", npr_origin_name(o));
		sample_u64(t, "nprouter_config_last_success", lb,
			   in->txn[o].last_status == 0 ? 1 : 0);
	}
	family(t, "nprouter_config_last_status", GAUGE,
	       "The origin's last configuration transaction's result: 0 committed, else the "
	       "errno that failed it (ECANCELED: aborted by its session, ECONNABORTED: its "
	       "session went away).");
	for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
		if (in->txn[o].generation + in->txn[o].failed == 0)
			continue;
		snprintf(lb, sizeof(lb), "origin=\"%s\"", npr_origin_name(o));
		int32_t s = in->txn[o].last_status;
		sample_u64(t, "nprouter_config_last_status", lb,
			   s < 0 ? (uint64_t)(-(int64_t)s) : (uint64_t)s);
	}
	for (int k = 0; k < 2; k++) {
		const char *name = k == 0 ? "nprouter_config_last_commit_timestamp_seconds"
					  : "nprouter_config_last_failure_timestamp_seconds";
		family(t, name, GAUGE,
		       k == 0 ? "Unix time of the origin's last committed configuration "
				"transaction (left out: none yet)."
			      : "Unix time of the origin's last failed configuration transaction "
				"(left out: none yet).");
		for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
			uint64_t ns =
				k == 0 ? in->txn[o].commit_unix_ns : in->txn[o].failed_unix_ns;
			if (ns == 0)
				continue;
			snprintf(lb, sizeof(lb), "origin=\"%s\"", npr_origin_name(o));
			sample_double(t, name, lb, (double)ns * 1e-9);
		}
	}
}

int
metrics_format(struct mtext *t, const struct metrics_input *in)
{
	scalar_u64(t, "nprouter_up", GAUGE,
		   "1 if the data plane answered this scrape, 0 if it is not running or did not "
		   "answer in time.",
		   in->up ? 1 : 0);
	if (in->up) {
		family(t, "nprouter_scrape_duration_seconds", GAUGE,
		       "Seconds the exporter took to read the data plane.");
		sample_double(t, "nprouter_scrape_duration_seconds", "", in->scrape_seconds);
		write_info(t, in->info);
		write_totals(t, in->st);
		write_ports(t, in->st, in);
		write_workers(t, in->st);
		write_slowpath(t, in->st);
	}
	mtext_printf(t, "%s", ""); /* a NUL even for an empty buffer */
	return t->oom ? -ENOMEM : 0;
}
