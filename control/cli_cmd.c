/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control's commands (see cli.h): the command table and its dispatch
 * (run_command), and the commands too small for a file of their own: `hello`, `stats clear`,
 * and the entry points of `apply`, `run`, `fpm` and `metrics`. A library with the other cli_*.c
 * files, so that a fuzz harness can run batch lines without the program's main.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "cli.h"
#include "fpm_bridge.h"
#include "metrics.h"

/* ---- misc commands ---- */

static int
cmd_stats_clear(struct ctl *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return USAGE(x, "usage: stats clear");
	struct npr_msg_hdr h = { .type = NPR_MSG_STATS_CLEAR, .len = sizeof(h) };
	return ctl_emit(x, &h);
}

static int
cmd_hello(struct ctl *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return USAGE(x, "usage: hello");
	struct npr_reply rep;
	struct npr_msg_hello m = { .hdr = { .type = NPR_MSG_HELLO, .len = sizeof(m) },
				   .origin = NPR_ORIGIN_CLI,
				   .pid = (uint32_t)getpid() };
	snprintf(m.name, sizeof(m.name), "%s", program_invocation_short_name);
	int rc = ctl_call(x, &m, &rep, NULL, NULL);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	uint64_t inst = npr_client_instance(x->c);
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "instance_id", inst);
		json_kv_u64(&x->j, "session", rep.index);
		json_obj_end(&x->j);
	} else {
		printf("data plane up, instance %016" PRIx64 ", session %u\n", inst, rep.index);
	}
	return 0;
}

/* YANG configuration: apply.c and daemon.c */
static int
cmd_apply(struct ctl *x, int argc, char **argv)
{
	int rc = apply_main(x->shm, x->timeout_ms, x->json_out, argc, argv);
	if (x->json_out)
		x->j.need_comma[0] = true; /* apply printed its own document */
	return rc;
}

static int
cmd_run(struct ctl *x, int argc, char **argv)
{
	return daemon_main(x->shm, x->timeout_ms, argc, argv);
}

/* FRR zebra's routes: fpm_bridge.c */
static int
cmd_fpm(struct ctl *x, int argc, char **argv)
{
	return fpm_main(x->shm, x->timeout_ms, argc, argv);
}

/* Prometheus exporter: metrics*.c. Without --timeout it waits its own default (2 s, under
 * Prometheus's scrape timeout), not the CLI's. */
static int
cmd_metrics(struct ctl *x, int argc, char **argv)
{
	return metrics_main(x->shm, x->timeout_set ? x->timeout_ms : -2, argc, argv);
}

/* ---- command table ---- */

struct cmd {
	const char *w1, *w2; /* w2 NULL: one word */
	int (*fn)(struct ctl *x, int argc, char **argv);
	bool in_batch; /* may appear in a batch file */
};

static const struct cmd cmds[] = {
	{ "interface", "set", cmd_iface_set, true },
	{ "interface", "del", cmd_iface_del, true },
	{ "address", "add", cmd_addr_add, true },
	{ "address", "del", cmd_addr_del, true },
	{ "neighbor", "set", cmd_neigh_set, true },
	{ "neighbor", "del", cmd_neigh_del, true },
	{ "nexthop", "set", cmd_nh_set, true },
	{ "nexthop", "del", cmd_nh_del, true },
	{ "group", "set", cmd_group_set, true },
	{ "group", "del", cmd_group_del, true },
	{ "route", "add", cmd_route_add, true },
	{ "route", "replace", cmd_route_replace, true },
	{ "route", "del", cmd_route_del, true },
	{ "route", "get", cmd_route_get, false },
	{ "route", "load", cmd_route_load, false },
	{ "show", NULL, cmd_show, false },
	{ "stats", "clear", cmd_stats_clear, false },
	{ "batch", NULL, cmd_batch, false },
	{ "hello", NULL, cmd_hello, false },
	{ "apply", NULL, cmd_apply, false },
	{ "run", NULL, cmd_run, false },
	{ "fpm", NULL, cmd_fpm, false },
	{ "metrics", NULL, cmd_metrics, false },
	{ "top", NULL, cmd_watch, false },
};

static const char *
canonical_word(const char *w)
{
	static const char *const alias[][2] = {
		{ "iface", "interface" }, { "addr", "address" }, { "neighbour", "neighbor" },
		{ "neigh", "neighbor" },  { "nh", "nexthop" },	 { "delete", "del" },
		{ "remove", "del" },
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(w, alias[i][0]) == 0)
			return alias[i][1];
	return w;
}

int
run_command(struct ctl *x, int argc, char **argv, bool in_batch)
{
	if (argc == 0)
		return USAGE(x, "missing command (try --help)");
	const char *w1 = canonical_word(argv[0]);
	const char *w2 = argc > 1 ? canonical_word(argv[1]) : "";
	bool known = false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct cmd *c = &cmds[i];
		if (strcmp(c->w1, w1) != 0)
			continue;
		known = true;
		if (c->w2 != NULL && strcmp(c->w2, w2) != 0)
			continue;
		if (in_batch && !c->in_batch)
			return USAGE(x, "'%s%s%s' cannot be used in a batch", c->w1,
				     c->w2 != NULL ? " " : "", c->w2 != NULL ? c->w2 : "");
		int skip = c->w2 != NULL ? 2 : 1;
		return c->fn(x, argc - skip, argv + skip);
	}
	if (known && w2[0] == '\0')
		return USAGE(x, "'%s' needs a subcommand (try --help)", w1);
	if (known)
		return USAGE(x, "unknown subcommand '%s %s' (try --help)", w1, w2);
	return USAGE(x, "unknown command '%s' (try --help)", argv[0]);
}
