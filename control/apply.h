/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applying a YANG configuration (config.h) to the running data plane, in three steps:
 *
 *   dump      the data plane's objects over the ring (struct running, running.h); the control
 *             side keeps no state of its own, so whoever changed the data plane before, the
 *             diff is right
 *   diff      struct config + struct running -> struct plan (plan.h, diff.c): the messages that
 *             turn the one into the other, choosing data plane ids (existing objects keep theirs)
 *   push      the plan as one batch (BATCH_BEGIN ... BATCH_COMMIT, push.h): the data plane moves
 *             to the new configuration at the commit, or, if any message is rejected, not at all
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
#include <stdio.h>

#include "config.h"
#include "plan.h"
#include "push.h"
#include "running.h"

/* Summary of a plan and its times, as text or JSON. */
void plan_print_summary(FILE *f, const struct plan *p, const struct apply_times *t,
			const char *name, bool dry_run, bool json);

/* The `apply` and `run` commands of nprouter-control (argv[0] is the first word after the
 * command). They return the process exit code: 0 ok, 1 invalid or rejected, 2 usage,
 * 3 no data plane. */
int apply_main(const char *shm, int timeout_ms, bool json, int argc, char **argv);
int daemon_main(const char *shm, int timeout_ms, int argc, char **argv);

#endif
