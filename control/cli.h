/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control's parts (cli.c has the overview of the program):
 *
 *   cli.c          options, usage, main
 *   cli_cmd.c      the command table, dispatch, `hello`, `stats clear`, `apply`, `run`, `fpm`,
 *                  `metrics`
 *   cli_session.c  errors, requests, dumps and the local copy of the data plane's objects
 *   cli_edit.c     interface, address, neighbor, nexthop, group and route commands
 *   cli_show.c     `show`
 *   cli_watch.c    `show stats --watch`, `top`: the live view (its arithmetic: rates.c)
 *   cli_batch.c    `batch FILE`
 *
 * Every command function takes the words after its name and returns the process exit code
 * (EXIT_*), having printed why on stderr if it is not 0. One thread; one struct ctl a run.
 */
#ifndef NPR_CTL_CLI_H
#define NPR_CTL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"
#include "client.h"
#include "dump.h"
#include "json.h"

#define PROG "nprouter-control"
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_ARGS 128
#define MAX_REPORTED 20

enum { EXIT_OK = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_NODP = 3 };

struct qmsg {
	void *msg;
	char *what;
};

struct ctl {
	const char *shm;
	bool json_out;
	int timeout_ms;
	bool timeout_set; /* --timeout was given */
	struct npr_client *c;
	struct json j;
	const char *what; /* the command being run, for error messages */

	/* local copies of the data plane's objects, loaded on first use */
	bool have_ifaces, have_ports, have_nhs, have_info;
	struct npr_dump_iface *ifaces;
	size_t n_ifaces;
	struct npr_dump_port *ports;
	size_t n_ports;
	struct npr_dump_nh *nhs; /* the CLI's own (origin CLI): what it edits */
	size_t n_nhs;
	bool have_all_nhs;
	struct npr_dump_nh *all_nhs; /* every origin's: what it shows */
	size_t n_all_nhs;
	struct npr_info info;

	/* batch mode: messages are queued, not sent */
	bool batch;
	struct qmsg *q;
	size_t nq, capq;

	/* mutation results for --json */
	uint32_t created_nh;
};

/* ---- cli_session.c: errors ---- */

/* "nprouter-control: WHAT: message" on stderr; returns code. */
int err_out(struct ctl *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define USAGE(x, ...) err_out(x, EXIT_USAGE, __VA_ARGS__)
#define REJECTED(x, ...) err_out(x, EXIT_REJECTED, __VA_ARGS__)
int reply_error(struct ctl *x, const struct npr_reply *rep);
int client_error(struct ctl *x, int rc);

/* ---- cli_session.c: requests ---- */

int ctl_open(struct ctl *x);
/* Send one request and wait for its reply. Exit code: 0 (check rep->status), or 3. */
int ctl_call(struct ctl *x, void *msg, struct npr_reply *rep,
	     void (*chunk_cb)(void *ctx, const struct npr_msg_dump_chunk *chunk), void *ctx);
int ctl_call_simple(struct ctl *x, uint16_t type, struct npr_reply *rep);
/* A configuration message: sent now (exit code 1 if rejected) or queued in batch mode. */
int ctl_emit(struct ctl *x, void *msg);

/* ---- cli_session.c: dumps and the local copy ---- */

/* Each entry of a dump to fn, as it arrives. */
int ctl_dump(struct ctl *x, uint32_t kind, dump_entry_fn fn, void *ctx);
/* One STATS snapshot into *st. Exit code: 0, 1 (no statistics in the answer), 3. */
int ctl_stats(struct ctl *x, struct npr_stats *st);
/* Every entry of a dump, in *vec (freed by the caller, also on error). */
int ctl_collect(struct ctl *x, uint32_t kind, struct dump_vec *vec);
int need_ifaces(struct ctl *x);
int need_ports(struct ctl *x);
int need_nhs(struct ctl *x);
int need_all_nhs(struct ctl *x);
int need_info(struct ctl *x);

struct npr_dump_iface *iface_by_name(struct ctl *x, const char *name);
struct npr_dump_iface *iface_by_id(struct ctl *x, uint16_t ifid);
/* The interface's name, or "if<ID>" if there is none. */
const char *iface_name(struct ctl *x, uint16_t ifid, char *buf, size_t len);
struct npr_dump_port *port_by_id(struct ctl *x, uint16_t id);
struct npr_dump_nh *nh_by_id(struct ctl *x, uint32_t id);
int cmp_u32(const void *a, const void *b);
/* Lowest next hop id not in use, 0 if none is free. */
uint32_t nh_free_id(struct ctl *x);
/* One command's messages as one data-plane transaction (outside batch files): begin, then
 * end with the command's exit code, which commits on 0 and aborts otherwise. Other sessions
 * wait meanwhile, so what the command reads inside (need_nhs) stays true until it commits. */
int ctl_txn_begin(struct ctl *x);
int ctl_txn_end(struct ctl *x, int rc);
/* A message with only an id (NH_DEL, GROUP_DEL, ...), sent or queued as ctl_emit. */
int emit_id(struct ctl *x, uint16_t type, uint32_t id);
/* Delete this client's inline next hops (NPR_NH_F_INLINE) that no route or group uses any
 * more, in one transaction, after a command that may have dropped a reference (route, group,
 * route load --replace, batch). Outside batch files only (it talks to the data plane). */
void nh_sweep_inline(struct ctl *x);
/* Record a next hop just set in the local copy. */
int nh_cache_set(struct ctl *x, const struct npr_msg_nh_set *m);
/* An existing interface by name (exit code 1 if there is none). */
int lookup_iface(struct ctl *x, const char *name, uint16_t *ifid);

/* ---- cli_session.c: words and names ---- */

/* Decimal 0..max, digits only. 0 or -EINVAL. */
int parse_uint(const char *s, uint64_t max, uint64_t *out);
/* An object id 1..NPR_TARGET_ID_MASK (exit code 2 if it is not one). */
int parse_id(struct ctl *x, const char *s, const char *what, uint32_t *id);
bool valid_ifname(const char *s);
const char *nh_kind_name(unsigned kind);
/* blackhole, unreachable, prohibit: the kind; 0 for any other word */
int special_kind(const char *s);
/* Human description of a route target: "via 192.0.2.2 dev port1 (nexthop 3)". */
const char *describe_target(struct ctl *x, unsigned origin, uint32_t target, char *buf, size_t len);

/* ---- the commands ---- */

/* cli_edit.c */
int cmd_iface_set(struct ctl *x, int argc, char **argv);
int cmd_iface_del(struct ctl *x, int argc, char **argv);
int cmd_addr_add(struct ctl *x, int argc, char **argv);
int cmd_addr_del(struct ctl *x, int argc, char **argv);
int cmd_neigh_set(struct ctl *x, int argc, char **argv);
int cmd_neigh_del(struct ctl *x, int argc, char **argv);
int cmd_nh_set(struct ctl *x, int argc, char **argv);
int cmd_nh_del(struct ctl *x, int argc, char **argv);
int cmd_group_set(struct ctl *x, int argc, char **argv);
int cmd_group_del(struct ctl *x, int argc, char **argv);
int cmd_route_add(struct ctl *x, int argc, char **argv);
int cmd_route_replace(struct ctl *x, int argc, char **argv);
int cmd_route_del(struct ctl *x, int argc, char **argv);
int cmd_route_get(struct ctl *x, int argc, char **argv);
int cmd_route_load(struct ctl *x, int argc, char **argv);
/* cli_show.c */
int cmd_show(struct ctl *x, int argc, char **argv);
/* cli_watch.c: `show stats --watch [SECONDS]` and `top [SECONDS]` (argv: after the word) */
int cmd_watch(struct ctl *x, int argc, char **argv);
/* cli_batch.c */
int cmd_batch(struct ctl *x, int argc, char **argv);
/* Every line of a batch file f (named path in messages) into queued messages (x->q), nothing
 * sent: 0, or the worst exit code of its lines (each bad one printed on stderr). */
int batch_parse(struct ctl *x, FILE *f, const char *path);
/* cli_cmd.c: run one command line (in_batch: only the commands a batch may hold). */
int run_command(struct ctl *x, int argc, char **argv, bool in_batch);

#endif
