/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applying a YANG configuration (config.h) to the running data plane, in three steps:
 *
 *   dump      the data plane's objects over the ring (struct running); the control side keeps
 *             no state of its own, so whoever changed the data plane before, the diff is right
 *   diff      struct config + struct running -> struct plan: the messages that turn the one
 *             into the other, choosing data plane ids (existing objects keep theirs)
 *   push      the plan as one batch (BATCH_BEGIN ... BATCH_COMMIT): the data plane moves to
 *             the new configuration at the commit, or, if any message is rejected, not at all
 *
 * Identity: an interface is the same if it is bound to the same port (else: has the same
 * name); an address is (family, address); a neighbour (interface, family, address); a route
 * (family, prefix, length); next hops and groups are matched by content, so an unchanged
 * route keeps its target id. Unchanged objects send nothing: applying the same file twice
 * sends no message, and changing one route sends one route entry (plus a new next hop or
 * group if its target is new, and the deletion of one nobody uses any more).
 *
 * Order inside the batch, so that every message is valid when it arrives:
 *   interfaces renamed out of the way of a name another one takes (temporary names),
 *   interfaces set; neighbours, addresses and routes deleted; addresses added, neighbours
 *   set; next hops; groups; routes added or re-targeted; groups, next hops, interfaces
 *   deleted.
 * A resync (after a data plane restart, or --resync) also re-sends every unchanged object
 * inside SYNC_BEGIN / SYNC_END, so that the data plane drops anything not re-sent.
 */
#ifndef NPR_CTL_APPLY_H
#define NPR_CTL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npr/proto.h"
#include "client.h"
#include "config.h"

struct running_group {
	uint32_t id;
	uint32_t first; /* in running.member, as dumped */
	uint32_t n;
};

/* The data plane's objects, as dumped. */
struct running {
	struct npr_info info;
	struct npr_dump_port *port;
	size_t n_port;
	struct npr_dump_iface *iface;
	size_t n_iface;
	struct npr_dump_addr *addr;
	size_t n_addr;
	struct npr_dump_neigh *neigh;
	size_t n_neigh;
	struct npr_dump_nh *nh;
	size_t n_nh;
	struct running_group *group;
	size_t n_group;
	struct npr_group_member *member;
	size_t n_member;
	struct npr_route4 *r4; /* without the routers' own addresses (NPR_TARGET_LOCAL) */
	size_t n4;
	struct npr_route6 *r6;
	size_t n6;
};

/* Dump everything. 0, -EPROTO (a dump was rejected or malformed; why in err), or the
 * client's -errno (data plane gone, timeout). */
int running_dump(struct npr_client *c, struct running *rs, int timeout_ms, char *err,
		 size_t errlen);
void running_free(struct running *rs);

enum plan_kind { PK_IFACE, PK_ADDR, PK_NEIGH, PK_NH, PK_GROUP, PK_ROUTE4, PK_ROUTE6, PK_MAX };

struct plan_count {
	size_t added, changed, removed;
};

struct plan_phase {
	uint8_t *buf;
	size_t len, cap;
	size_t n_msgs;
};

enum plan_phase_id {
	PH_SYNC_BEGIN,
	PH_TMP_NAME,
	PH_IFACE_SET,
	PH_DEL,
	PH_ADD,
	PH_NH,
	PH_GROUP,
	PH_ROUTE,
	PH_GROUP_DEL,
	PH_NH_DEL,
	PH_IFACE_DEL,
	PH_SYNC_END,
	PH_MAX
};

struct plan {
	struct plan_phase ph[PH_MAX];
	struct plan_count count[PK_MAX];
	size_t n_changes; /* objects added, changed or removed */
	size_t n_resent;  /* unchanged objects re-sent (resync) */
	bool resync;
	/* interface names by id (the final ones, or the old ones of deleted interfaces) */
	char ifname[NPR_MAX_IFACES][NPR_NAME_LEN];
	/* filled by plan_finish: every message back to back, and where each starts */
	uint8_t *buf;
	size_t len;
	uint32_t *off;
	size_t n_msgs;
};

struct plan_opts {
	bool resync;
	FILE *changes; /* non-NULL: one line per change ("+ route ...", "- address ...") */
};

/* Diff. 0, or -EINVAL with the reasons in errs (the data plane's tables are too small for
 * the transition, an interface's port is gone), or -ENOMEM. */
int plan_build(const struct config *cfg, const struct running *rs, const struct plan_opts *o,
	       struct plan *p, struct config_msgs *errs);
void plan_free(struct plan *p);
/* "ROUTE4_ADD (entry 12: 10.0.0.0/8 -> nexthop 3)" for error messages */
const char *plan_describe(const struct plan *p, size_t msg, uint32_t entry, char *buf, size_t len);

struct apply_times {
	double parse_s; /* libyang parse + validate */
	double build_s; /* our walk and checks */
	double dump_s, diff_s, push_s, commit_s, total_s;
};

/* Send the plan as one batch; errors are printed on err as "NAME: ...". 0 committed (or
 * nothing to send), -ECANCELED rejected and nothing applied, or the client's -errno. */
int plan_push(struct npr_client *c, struct plan *p, int timeout_ms, struct apply_times *t,
	      FILE *err, const char *name);

/* Summary of a plan and its times, as text or JSON. */
void plan_print_summary(FILE *f, const struct plan *p, const struct apply_times *t,
			const char *name, bool dry_run, bool json);

/* The `apply` and `run` commands of nprouter-control (argv[0] is the first word after the
 * command). They return the process exit code: 0 ok, 1 invalid or rejected, 2 usage,
 * 3 no data plane. */
int apply_main(const char *shm, int timeout_ms, bool json, int argc, char **argv);
int daemon_main(const char *shm, int timeout_ms, int argc, char **argv);

#endif
