/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK telemetry commands over the control thread's snapshots (telemetry.h), which
 * telemetry_snap.c keeps. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "npr/util.h"
#include "cfg.h"
#include "telemetry.h"

/* A command's copy of the last snapshot. */
struct snap {
	uint64_t at_ns;
	struct npr_info info;
	struct npr_stats st;
};

/* Device names and limits: written by telemetry_init before any command is registered,
 * read-only afterwards. */
static unsigned n_names;
static struct {
	char name[48];
	uint16_t max_mtu;
} port_info[NPR_MAX_PORTS];

/* ---------------------------------------------------------------------------------------- */
/* Replies. DPDK 22.11 writes a reply of at most 16 KiB and silently leaves out what does not
 * fit, so each reply keeps an upper bound of its JSON size and lists stop before it. */

#define REPLY_BUDGET 15000u

struct out {
	size_t bytes; /* upper bound of the JSON written so far */
	bool failed;  /* a container could not be had, or the library refused an entry */
};

static void
put_u64(struct out *o, struct rte_tel_data *d, const char *name, uint64_t v)
{
	if (rte_tel_data_add_dict_u64(d, name, v) != 0)
		o->failed = true;
	o->bytes += strlen(name) + 24; /* "name":, 20 digits */
}

static void
put_str(struct out *o, struct rte_tel_data *d, const char *name, const char *v)
{
	if (rte_tel_data_add_dict_string(d, name, v) < 0)
		o->failed = true;
	o->bytes += strlen(name) + 2 * strlen(v) + 8; /* escapes at most double it */
}

/* A dict or u64 array to nest under name in d (the library frees it with d); NULL if none
 * could be had (o->failed). */
static struct rte_tel_data *
put_sub(struct out *o, struct rte_tel_data *d, const char *name, bool array)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (c == NULL) {
		o->failed = true;
		return NULL;
	}
	if (array)
		rte_tel_data_start_array(c, RTE_TEL_U64_VAL);
	else
		rte_tel_data_start_dict(c);
	if (rte_tel_data_add_dict_container(d, name, c, 0) != 0) {
		rte_tel_data_free(c);
		o->failed = true;
		return NULL;
	}
	o->bytes += strlen(name) + 8;
	return c;
}

static void
put_array_u64(struct out *o, struct rte_tel_data *d, const char *name, const uint64_t *v,
	      unsigned n)
{
	struct rte_tel_data *a = put_sub(o, d, name, true);

	for (unsigned i = 0; a != NULL && i < n; i++) {
		if (rte_tel_data_add_array_u64(a, v[i]) != 0)
			o->failed = true;
		o->bytes += 21;
	}
}

/* The reply for a bad request: {"error": "..."} (the command names itself in the reply). */
static int __attribute__((format(printf, 2, 3))) fail(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

/* params to echo in an error: printable ASCII only (DPDK 22.11's JSON escaping indexes a
 * table with signed chars), and short. */
static const char *
shown(const char *params, char *buf, size_t len)
{
	size_t i = 0;

	for (; params[i] != '\0' && i + 4 < len; i++)
		buf[i] = params[i] >= 0x20 && params[i] < 0x7f ? params[i] : '?';
	snprintf(buf + i, len - i, "%s", params[i] != '\0' ? "..." : "");
	return buf;
}

/* A decimal index below n in params: 0, or -1. */
static int
parse_index(const char *params, unsigned n, unsigned *v)
{
	char *end;

	if (params[0] < '0' || params[0] > '9')
		return -1;
	errno = 0;
	unsigned long x = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0' || x >= n)
		return -1;
	*v = (unsigned)x;
	return 0;
}

static void
put_age(struct out *o, struct rte_tel_data *d, const struct snap *s)
{
	uint64_t now = npr_now_ns();
	put_u64(o, d, "snapshot_age_ms", now > s->at_ns ? (now - s->at_ns) / 1000000u : 0);
}

static void
put_by_origin(struct out *o, struct rte_tel_data *d, const char *name, const uint32_t *n)
{
	struct rte_tel_data *c = put_sub(o, d, name, false);

	for (unsigned i = 0; c != NULL && i < NPR_ORIGIN_MAX; i++)
		put_u64(o, c, npr_origin_name(i), n[i]);
}

/* route counts per family and per origin, FIB memory, capacities */
static void
put_fib(struct out *o, struct rte_tel_data *d, const struct npr_info *in)
{
	put_u64(o, d, "route4_count", in->route4_count);
	put_u64(o, d, "route6_count", in->route6_count);
	put_u64(o, d, "route4_max", in->route4_max);
	put_u64(o, d, "route6_max", in->route6_max);
	put_u64(o, d, "fib4_bytes", in->fib4_bytes);
	put_u64(o, d, "fib6_bytes", in->fib6_bytes);
	put_by_origin(o, d, "route4_by_origin", in->route4_by_origin);
	put_by_origin(o, d, "route6_by_origin", in->route6_by_origin);
}

/* Each origin's configuration transactions (npr_txn_stats), one dict per field keyed by
 * origin: DPDK 22.11 nests containers one level deep only. last_errno: 0 committed. */
static void
put_txn(struct out *o, struct rte_tel_data *d, const struct npr_info *in)
{
	static const char *const names[] = { "txn_generation", "txn_failed", "txn_commit_unix_ns",
					     "txn_failed_unix_ns", "txn_last_errno" };

	for (unsigned f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		struct rte_tel_data *c = put_sub(o, d, names[f], false);
		for (unsigned i = 1; c != NULL && i < NPR_ORIGIN_MAX; i++) {
			const struct npr_txn_stats *t = &in->txn[i];
			uint64_t v[] = {
				t->generation, t->failed, t->commit_unix_ns, t->failed_unix_ns,
				(uint64_t)(t->last_status < 0 ? -(int64_t)t->last_status : 0)
			};
			put_u64(o, c, npr_origin_name(i), v[f]);
		}
	}
}

static int
cmd_info(const struct snap *s, const char *params, struct rte_tel_data *d, struct out *o)
{
	const struct npr_info *in = &s->info;
	char id[20];

	(void)params;
	rte_tel_data_start_dict(d);
	put_u64(o, d, "instance_id", in->instance_id);
	snprintf(id, sizeof(id), "%016" PRIx64, in->instance_id);
	put_str(o, d, "instance", id);
	put_u64(o, d, "abi_version", in->abi_version);
	put_u64(o, d, "n_ports", in->n_ports);
	put_u64(o, d, "n_workers", in->n_workers);
	put_u64(o, d, "n_ifaces", in->n_ifaces);
	put_u64(o, d, "uptime_ns", in->uptime_ns);
	put_u64(o, d, "nh_max", in->nh_max);
	put_u64(o, d, "group_max", in->group_max);
	put_fib(o, d, in);
	put_txn(o, d, in);
	put_u64(o, d, "mbufs_total", s->st.mbufs_total);
	put_u64(o, d, "snapshot_interval_ms", TELEMETRY_PERIOD_MS);
	put_age(o, d, s);
	return 0;
}

static int
cmd_fib(const struct snap *s, const char *params, struct rte_tel_data *d, struct out *o)
{
	(void)params;
	rte_tel_data_start_dict(d);
	put_fib(o, d, &s->info);
	put_u64(o, d, "nh_max", s->info.nh_max);
	put_u64(o, d, "group_max", s->info.group_max);
	put_age(o, d, s);
	return 0;
}

static unsigned
n_workers_of(const struct npr_stats *st)
{
	return st->n_workers < NPR_MAX_WORKERS ? st->n_workers : NPR_MAX_WORKERS;
}

static unsigned
n_ports_of(const struct npr_stats *st)
{
	return st->n_ports < NPR_MAX_PORTS ? st->n_ports : NPR_MAX_PORTS;
}

/* The drop reasons of workers [w0, w1), and their total. */
static void
put_drops(struct out *o, struct rte_tel_data *d, const struct npr_stats *st, unsigned w0,
	  unsigned w1)
{
	uint64_t total = 0;
	for (unsigned r = 0; r < NPR_DROP_MAX; r++) {
		uint64_t n = 0;
		for (unsigned w = w0; w < w1; w++)
			n += st->worker[w].drop[r];
		put_u64(o, d, npr_drop_name(r), n);
		total += n;
	}
	put_u64(o, d, "total", total);
}

static void
put_reasons(struct out *o, struct rte_tel_data *d, const struct npr_stats *st, unsigned w0,
	    unsigned w1)
{
	struct rte_tel_data *c = put_sub(o, d, "drops", false);
	if (c != NULL)
		put_drops(o, c, st, w0, w1);
	c = put_sub(o, d, "exceptions", false);
	uint64_t total = 0;
	for (unsigned r = 0; c != NULL && r < NPR_EXC_MAX; r++) {
		uint64_t n = 0;
		for (unsigned w = w0; w < w1; w++)
			n += st->worker[w].exc[r];
		put_u64(o, c, npr_exc_name(r), n);
		total += n;
	}
	if (c != NULL)
		put_u64(o, c, "total", total);
	c = put_sub(o, d, "policed", false);
	total = 0;
	for (unsigned r = 0; c != NULL && r < NPR_PUNT_MAX; r++) {
		uint64_t n = 0;
		for (unsigned w = w0; w < w1; w++)
			n += st->worker[w].policed[r];
		put_u64(o, c, npr_punt_name(r), n);
		total += n;
	}
	if (c != NULL)
		put_u64(o, c, "total", total);
}

static int
cmd_stats(const struct snap *s, const char *params, struct rte_tel_data *d, struct out *o)
{
	const struct npr_stats *st = &s->st;
	unsigned nw = n_workers_of(st);
	uint64_t sum[5] = { 0 };

	(void)params;
	for (unsigned w = 0; w < nw; w++) {
		sum[0] += st->worker[w].rx_pkts;
		sum[1] += st->worker[w].tx_pkts;
		sum[2] += st->worker[w].fwd4_pkts;
		sum[3] += st->worker[w].fwd6_pkts;
		sum[4] += st->worker[w].inject_pkts;
	}
	rte_tel_data_start_dict(d);
	put_u64(o, d, "uptime_ns", st->uptime_ns);
	put_u64(o, d, "counted_ns", st->counted_ns);
	put_u64(o, d, "rx_pkts", sum[0]);
	put_u64(o, d, "tx_pkts", sum[1]);
	put_u64(o, d, "fwd4_pkts", sum[2]);
	put_u64(o, d, "fwd6_pkts", sum[3]);
	put_u64(o, d, "inject_pkts", sum[4]);
	put_u64(o, d, "exc_handled", st->exc_handled);
	put_u64(o, d, "msgs_ok", st->msgs_ok);
	put_u64(o, d, "msgs_err", st->msgs_err);
	put_u64(o, d, "ring_resets", st->ring_resets);
	put_u64(o, d, "replies_dropped", st->replies_dropped);
	put_u64(o, d, "batches_aborted", st->batches_aborted);
	put_u64(o, d, "layout_repairs", st->layout_repairs);
	put_u64(o, d, "mbufs_total", st->mbufs_total);
	put_u64(o, d, "mbufs_in_use", st->mbufs_in_use);
	put_reasons(o, d, st, 0, nw);
	struct rte_tel_data *c = put_sub(o, d, "slowpath", false);
	for (unsigned r = 0; c != NULL && r < NPR_SLOW_MAX; r++)
		put_u64(o, c, npr_slow_name(r), st->slow[r]);
	put_age(o, d, s);
	return 0;
}

static int
cmd_drops(const struct snap *s, const char *params, struct rte_tel_data *d, struct out *o)
{
	unsigned nw = n_workers_of(&s->st), w = 0;
	char buf[40];

	if (params != NULL && params[0] != '\0' && parse_index(params, nw, &w) != 0)
		return fail(d, "no worker '%s': give a worker index (0..%u) or nothing",
			    shown(params, buf, sizeof(buf)), nw - 1);
	rte_tel_data_start_dict(d);
	if (params != NULL && params[0] != '\0')
		put_drops(o, d, &s->st, w, w + 1);
	else
		put_drops(o, d, &s->st, 0, nw);
	put_age(o, d, s);
	return 0;
}

/* One port's counters into d. */
static void
put_port(struct out *o, struct rte_tel_data *d, const struct npr_stats *st, unsigned i)
{
	const struct npr_port_stats *p = &st->port[i];
	unsigned nq = n_workers_of(st) < NPR_STATS_QUEUES ? n_workers_of(st) : NPR_STATS_QUEUES;

	put_u64(o, d, "port_id", p->port_id);
	if (i < n_names) {
		put_str(o, d, "name", port_info[i].name);
		put_u64(o, d, "max_mtu", port_info[i].max_mtu);
	}
	put_u64(o, d, "link_up", p->link_up);
	put_u64(o, d, "link_downs", p->link_downs);
	put_u64(o, d, "ipackets", p->ipackets);
	put_u64(o, d, "opackets", p->opackets);
	put_u64(o, d, "ibytes", p->ibytes);
	put_u64(o, d, "obytes", p->obytes);
	put_u64(o, d, "imissed", p->imissed);
	put_u64(o, d, "ierrors", p->ierrors);
	put_u64(o, d, "oerrors", p->oerrors);
	put_u64(o, d, "rx_nombuf", p->rx_nombuf);
	if (p->flags & NPR_PORT_F_UNSEEN)
		put_u64(o, d, "rx_unseen", p->rx_unseen);
	/* queue q is worker q's */
	put_array_u64(o, d, "q_ipackets", p->q_ipackets, nq);
	put_array_u64(o, d, "q_opackets", p->q_opackets, nq);
}

static void
put_worker(struct out *o, struct rte_tel_data *d, const struct npr_stats *st, unsigned w)
{
	const struct npr_worker_stats *ws = &st->worker[w];
	/* of the polls, those that received; of the time counted, the naps */
	double span = (double)st->counted_ns * 1e-9 * (double)st->tsc_hz;
	uint64_t busy = ws->polls > 0 ? ws->busy_polls * 1000 / ws->polls : 0;
	uint64_t asleep = span > 0 ? (uint64_t)(1000.0 * (double)ws->nap_cycles / span + 0.5) : 0;

	put_u64(o, d, "lcore", ws->lcore_id);
	put_u64(o, d, "rx_pkts", ws->rx_pkts);
	put_u64(o, d, "tx_pkts", ws->tx_pkts);
	put_u64(o, d, "fwd4_pkts", ws->fwd4_pkts);
	put_u64(o, d, "fwd6_pkts", ws->fwd6_pkts);
	put_u64(o, d, "inject_pkts", ws->inject_pkts);
	put_u64(o, d, "polls", ws->polls);
	put_u64(o, d, "busy_polls", ws->busy_polls);
	put_u64(o, d, "busy_permille", busy);
	put_u64(o, d, "naps", ws->naps);
	put_u64(o, d, "nap_cycles", ws->nap_cycles);
	put_u64(o, d, "asleep_permille", asleep > 1000 ? 1000 : asleep);
}

/* A dict of items keyed by index, as many as fit the reply; the others by parameter. */
static int
put_list(const struct snap *s, struct rte_tel_data *d, struct out *o, unsigned n, const char *what,
	 const char *cmd,
	 void (*one)(struct out *, struct rte_tel_data *, const struct npr_stats *, unsigned))
{
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n && !o->failed; i++) {
		char key[16];
		struct out item = { 0 };
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (c == NULL)
			return -1;
		rte_tel_data_start_dict(c);
		one(&item, c, &s->st, i);
		if (o->bytes + item.bytes + 16 > REPLY_BUDGET - 200) {
			char more[RTE_TEL_MAX_STRING_LEN];
			rte_tel_data_free(c);
			snprintf(more, sizeof(more), "%s %u to %u: %s,INDEX", what, i, n - 1, cmd);
			put_str(o, d, "not_listed", more);
			break;
		}
		snprintf(key, sizeof(key), "%u", i);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0) {
			rte_tel_data_free(c);
			return -1;
		}
		o->bytes += item.bytes + 16;
		o->failed |= item.failed;
	}
	put_age(o, d, s);
	return 0;
}

static int
cmd_ports(const struct snap *s, const char *params, struct rte_tel_data *d, struct out *o)
{
	unsigned np = n_ports_of(&s->st), i;
	char buf[40];

	if (params == NULL || params[0] == '\0')
		return put_list(s, d, o, np, "ports", "/nprouter/ports", put_port);
	if (parse_index(params, np, &i) != 0)
		return fail(
			d,
			"no port index '%s': give 0..%u (the order of /nprouter/ports) or nothing",
			shown(params, buf, sizeof(buf)), np - 1);
	rte_tel_data_start_dict(d);
	put_port(o, d, &s->st, i);
	put_age(o, d, s);
	return 0;
}

static int
cmd_workers(const struct snap *s, const char *params, struct rte_tel_data *d, struct out *o)
{
	unsigned nw = n_workers_of(&s->st), w;
	char buf[40];

	if (params == NULL || params[0] == '\0')
		return put_list(s, d, o, nw, "workers", "/nprouter/workers", put_worker);
	if (parse_index(params, nw, &w) != 0)
		return fail(d, "no worker '%s': give a worker index (0..%u) or nothing",
			    shown(params, buf, sizeof(buf)), nw - 1);
	rte_tel_data_start_dict(d);
	put_worker(o, d, &s->st, w);
	put_reasons(o, d, &s->st, w, w + 1);
	put_age(o, d, s);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(const struct snap *, const char *, struct rte_tel_data *, struct out *);
	bool takes_index;
	const char *help;
} cmds[] = {
	{ "/nprouter/info", cmd_info, false,
	  "Instance, ABI, ports, workers, uptime, route counts per family and origin, FIB memory, "
	  "capacities. No parameter" },
	{ "/nprouter/stats", cmd_stats, false,
	  "Totals: packets, drops and exceptions by reason, policed per punt class, slow path, "
	  "ring and mbuf counters. No parameter" },
	{ "/nprouter/ports", cmd_ports, true,
	  "Per port: link, rx/tx/missed/errors/nombuf/unseen, per queue. Parameter: port index "
	  "(optional)" },
	{ "/nprouter/workers", cmd_workers, true,
	  "Per worker: lcore, rx, tx, forwarded, busy and asleep shares. Parameter: worker index "
	  "(optional)" },
	{ "/nprouter/drops", cmd_drops, true,
	  "Drops by reason, all workers or one. Parameter: worker index (optional)" },
	{ "/nprouter/fib", cmd_fib, false,
	  "Routes per family and origin, FIB memory, capacities. No parameter" },
};

int
telemetry_handle(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct out o = { 0 };
	char buf[40];
	size_t k;

	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(cmd, cmds[k].name) == 0)
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]))
		return fail(d, "unknown command '%s'", cmd);
	if (!cmds[k].takes_index && params != NULL && params[0] != '\0')
		return fail(d, "%s takes no parameter (got '%s')", cmd,
			    shown(params, buf, sizeof(buf)));
	struct snap *s = malloc(sizeof(*s)); /* tens of KiB: not on the client thread's stack */
	if (s == NULL)
		return fail(d, "out of memory");
	int rc = telemetry_read(&s->info, &s->st, &s->at_ns);
	if (rc == 0)
		rc = cmds[k].fn(s, params, d, &o);
	else
		rc = fail(d, "no counters published yet: the data plane is starting");
	free(s);
	if (rc == 0 && o.failed)
		return fail(d, "reply too large or out of memory");
	return rc;
}

static int
on_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return telemetry_handle(cmd, params, d);
}

int
telemetry_init(const struct cfg_port *ports, unsigned n_ports, char *err, size_t errlen)
{
	n_names = n_ports < NPR_MAX_PORTS ? n_ports : NPR_MAX_PORTS;
	for (unsigned i = 0; i < n_names; i++) {
		snprintf(port_info[i].name, sizeof(port_info[i].name), "%s", ports[i].name);
		port_info[i].max_mtu = ports[i].max_mtu != 0 ? ports[i].max_mtu : NPR_MTU_MAX;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		int rc = rte_telemetry_register_cmd(cmds[k].name, on_cmd, cmds[k].help);
		if (rc != 0) {
			snprintf(err, errlen, "cannot register telemetry command %s: %s",
				 cmds[k].name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}
