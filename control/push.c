/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pushing a plan as one batch (see push.h).
 */
#include <errno.h>
#include <stdio.h>

#include "npr/util.h"
#include "push.h"

#define PROG "nprouter-control"

struct push_state {
	struct plan *p;
	FILE *err;
	const char *name;
};

static void *
push_msg(void *ctx, size_t i)
{
	struct push_state *s = ctx;
	return s->p->buf + s->p->off[i];
}

static void
push_rejected(void *ctx, size_t i, const struct npr_reply *rep, size_t nth)
{
	struct push_state *s = ctx;
	if (nth < CONFIG_MAX_REPORTED) {
		char what[300];
		plan_describe(s->p, i, rep->index, what, sizeof(what));
		fprintf(s->err, "%s: %s: the data plane refused %s: %s%s%s\n", PROG, s->name, what,
			npr_strstatus(rep->status), rep->msg[0] != '\0' ? ": " : "", rep->msg);
	}
}

int
plan_push(struct npr_client *c, struct plan *p, int timeout_ms, struct apply_times *t, FILE *err,
	  const char *name)
{
	struct push_state s = { .p = p, .err = err, .name = name };
	struct npr_reply rep;
	double t0 = npr_now_s();

	if (p->n_msgs == 0) {
		t->push_s = t->commit_s = 0;
		return 0;
	}
	int rc = npr_client_batch_begin(c, &rep, timeout_ms);
	if (rc < 0)
		return rc;
	if (rep.status != 0) {
		fprintf(err, "%s: %s: BATCH_BEGIN: %s%s%s\n", PROG, name, npr_strstatus(rep.status),
			rep.msg[0] != '\0' ? ": " : "", rep.msg);
		return -ECANCELED;
	}
	size_t n_errors;
	rc = npr_client_pipeline(c, p->n_msgs, push_msg, push_rejected, &s, timeout_ms, &n_errors);
	if (rc < 0)
		return rc;
	double t1 = npr_now_s();
	t->push_s = t1 - t0;
	struct npr_msg_hdr h = { .len = sizeof(h) };
	if (n_errors > 0) {
		if (n_errors > CONFIG_MAX_REPORTED)
			fprintf(err, "%s: %s: ... and %zu more\n", PROG, name,
				n_errors - CONFIG_MAX_REPORTED);
		h.type = NPR_MSG_BATCH_ABORT;
		rc = npr_client_call(c, &h, &rep, NULL, NULL, timeout_ms);
		if (rc < 0)
			return rc;
		fprintf(err, "%s: %s: nothing applied (batch aborted)\n", PROG, name);
		return -ECANCELED;
	}
	h.type = NPR_MSG_BATCH_COMMIT;
	rc = npr_client_call(c, &h, &rep, NULL, NULL, timeout_ms);
	if (rc < 0)
		return rc;
	t->commit_s = npr_now_s() - t1;
	if (rep.status != 0) {
		fprintf(err, "%s: %s: commit: %s%s%s; nothing applied\n", PROG, name,
			npr_strstatus(rep.status), rep.msg[0] != '\0' ? ": " : "", rep.msg);
		return -ECANCELED;
	}
	return 0;
}
