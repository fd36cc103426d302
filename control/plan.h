/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A plan: the messages that turn the running state (running.h) into a configuration
 * (config.h), built by the diff (diff.c, plan_build) and sent by plan_push (push.h).
 *
 * Messages are collected by phase, in the order the batch must send them (see apply.h), then
 * concatenated by plan_finish. Route entries are packed into ROUTE4/ROUTE6 messages of up to
 * NPR_ROUTE4_MAX / NPR_ROUTE6_MAX entries. plan.c keeps the message buffers and describes
 * messages for people; diff.c decides what goes in them.
 *
 * Errors: 0 or -ENOMEM; the diff's reasons go to a struct config_msgs. One thread per plan.
 */
#ifndef NPR_CTL_PLAN_H
#define NPR_CTL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npr/proto.h"
#include "config.h"
#include "running.h"

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

/* ---- for diff.c: filling a plan ---- */

/* Append one message (hdr.len bytes) to a phase. 0 or -ENOMEM. */
int plan_msg(struct plan *p, int ph, const void *msg);

/* The route message being filled: entries go into it until it is full, or an entry of
 * another phase or type comes. Start with PLAN_ROUTES_INIT; end with plan_routes_close. */
struct plan_routes {
	int ph;
	uint16_t type;
	size_t off; /* of the open message in its phase, SIZE_MAX if none */
	uint32_t count;
};
#define PLAN_ROUTES_INIT                                                                           \
	{                                                                                          \
		.off = SIZE_MAX                                                                    \
	}

/* Add one entry (a struct npr_route4 or npr_route6, esize bytes) of a message of this type.
 * 0 or -ENOMEM. */
int plan_route(struct plan *p, struct plan_routes *a, int ph, uint16_t type, const void *e,
	       size_t esize);
void plan_routes_close(struct plan *p, struct plan_routes *a);

/* Concatenate the phases and index the messages (plan.buf, plan.off). 0 or -ENOMEM. */
int plan_finish(struct plan *p);

/* "via 192.0.2.1 dev wan", "blackhole": a next hop for change lines and errors */
const char *plan_nh_text(const struct plan *p, unsigned kind, unsigned family, unsigned ifid,
			 const uint8_t *gw, char *buf, size_t len);

#endif
