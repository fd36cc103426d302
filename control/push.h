/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pushing a plan (plan.h) to the data plane as one batch: BATCH_BEGIN, the messages
 * pipelined, then BATCH_COMMIT, or BATCH_ABORT at the first rejection, so that the data plane
 * moves to the new configuration at the commit or not at all. Rejections are reported in
 * terms of the configuration (plan_describe). One thread at a time, like the client.
 */
#ifndef NPR_CTL_PUSH_H
#define NPR_CTL_PUSH_H

#include <stdio.h>

#include "client.h"
#include "plan.h"

struct apply_times {
	double parse_s; /* libyang parse + validate */
	double build_s; /* our walk and checks */
	double dump_s, diff_s, push_s, commit_s, total_s;
};

/* Send the plan as one batch; errors are printed on err as "NAME: ...". 0 committed (or
 * nothing to send), -ECANCELED rejected and nothing applied, or the client's -errno. */
int plan_push(struct npr_client *c, struct plan *p, int timeout_ms, struct apply_times *t,
	      FILE *err, const char *name);

#endif
