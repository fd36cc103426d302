/* SPDX-License-Identifier: BSD-3-Clause */
/* The message table and the entry point: framing, dispatch, commit or roll back (layer 7). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

_Static_assert(sizeof(struct npr_msg_route4) == sizeof(struct npr_msg_route6),
	       "route messages share one head");

/* ---- variable record lengths: the count in the record gives the length ---- */

static int
group_len(struct rq *q, uint64_t *want)
{
	uint16_t nm;

	memcpy(&nm, q->rec + offsetof(struct npr_msg_group_set, n_members), sizeof(nm));
	if (nm < 1 || nm > NPR_GROUP_MAX_MEMBERS)
		return fail(q, -EINVAL, 0, "group: %u members (1..%u)", nm, NPR_GROUP_MAX_MEMBERS);
	*want = sizeof(struct npr_msg_group_set) + (uint64_t)nm * sizeof(struct npr_group_member);
	return 0;
}

static int
route_len(struct rq *q, uint64_t *want)
{
	bool v4 = q->h.type <= NPR_MSG_ROUTE4_DEL;
	uint32_t n, max = v4 ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
	uint64_t esize = v4 ? sizeof(struct npr_route4) : sizeof(struct npr_route6);

	memcpy(&n, q->rec + offsetof(struct npr_msg_route4, count), sizeof(n));
	if (n < 1 || n > max)
		return fail(q, -EINVAL, 0, "route count %u out of range (1..%u)", n, max);
	*want = sizeof(struct npr_msg_route4) + ((n * esize + 7) & ~7ull); /* padded to 8 */
	return 0;
}

/* ---- the message table: adding a request type is one line ---- */

struct msg_type {
	const char *name;
	uint32_t size; /* the record's size; with var_len, the head it needs to read the count */
	int (*var_len)(struct rq *q, uint64_t *want); /* NULL: fixed size */
	bool mutating; /* a transaction: committed on success, rolled back on failure */
	int (*handler)(struct rq *q);
};

#define FIXED(st) .size = sizeof(st), .var_len = NULL
#define VAR(st, fn) .size = sizeof(st), .var_len = fn
#define MSG(type, len_rule, mut, fn)                                                               \
	[NPR_MSG_##type] = { .name = #type, len_rule, .mutating = mut, .handler = fn }

static const struct msg_type msg_types[NPR_MSG_REQ_LAST + 1] = {
	MSG(HELLO, FIXED(struct npr_msg_hello), false, h_hello),
	MSG(IFACE_SET, FIXED(struct npr_msg_iface_set), true, h_iface_set),
	MSG(IFACE_DEL, FIXED(struct npr_msg_iface_del), true, h_iface_del),
	MSG(ADDR_ADD, FIXED(struct npr_msg_addr), true, h_addr),
	MSG(ADDR_DEL, FIXED(struct npr_msg_addr), true, h_addr),
	MSG(NEIGH_SET, FIXED(struct npr_msg_neigh), true, h_neigh),
	MSG(NEIGH_DEL, FIXED(struct npr_msg_neigh), true, h_neigh),
	MSG(NH_SET, FIXED(struct npr_msg_nh_set), true, h_nh_set),
	MSG(NH_DEL, FIXED(struct npr_msg_id), true, h_id_del),
	MSG(GROUP_SET, VAR(struct npr_msg_group_set, group_len), true, h_group_set),
	MSG(GROUP_DEL, FIXED(struct npr_msg_id), true, h_id_del),
	MSG(ROUTE4_ADD, VAR(struct npr_msg_route4, route_len), true, h_route),
	MSG(ROUTE4_REPLACE, VAR(struct npr_msg_route4, route_len), true, h_route),
	MSG(ROUTE4_DEL, VAR(struct npr_msg_route4, route_len), true, h_route),
	MSG(ROUTE6_ADD, VAR(struct npr_msg_route6, route_len), true, h_route),
	MSG(ROUTE6_REPLACE, VAR(struct npr_msg_route6, route_len), true, h_route),
	MSG(ROUTE6_DEL, VAR(struct npr_msg_route6, route_len), true, h_route),
	MSG(BATCH_BEGIN, FIXED(struct npr_msg_hdr), false, h_batch),
	MSG(BATCH_COMMIT, FIXED(struct npr_msg_hdr), false, h_batch),
	MSG(BATCH_ABORT, FIXED(struct npr_msg_hdr), false, h_batch),
	MSG(SYNC_BEGIN, FIXED(struct npr_msg_hdr), true, h_sync_begin),
	MSG(SYNC_END, FIXED(struct npr_msg_hdr), true, h_sync_end),
	MSG(STATS_REQ, FIXED(struct npr_msg_hdr), false, h_stats),
	MSG(DUMP_REQ, FIXED(struct npr_msg_dump_req), false, h_dump),
	MSG(LOOKUP, FIXED(struct npr_msg_lookup), false, h_lookup),
	MSG(STATS_CLEAR, FIXED(struct npr_msg_hdr), false, h_stats_clear),
};

/* The record's length against its type's rule. */
static int
body_len(struct rq *q, const struct msg_type *mt)
{
	uint64_t want = mt->size;
	int rc;

	if (mt->var_len != NULL) {
		if (q->len < mt->size)
			return fail(q, -EINVAL, 0, "%s: record of %u bytes is too short", mt->name,
				    q->len);
		if ((rc = mt->var_len(q, &want)) < 0)
			return rc;
	}
	if (q->len != want)
		return fail(q, -EINVAL, 0, "%s: record length %u, expected %u", mt->name, q->len,
			    (uint32_t)want);
	return 0;
}

/* The header: everything but the body. */
static int
check_header(struct rq *q)
{
	if (q->len < sizeof(struct npr_msg_hdr))
		return fail(q, -EINVAL, 0, "truncated header (%u bytes)", q->len);
	memcpy(&q->h, q->rec, sizeof(q->h));
	q->rep->hdr.seq = q->h.seq;
	if (q->h.len != q->len)
		return fail(q, -EINVAL, 0, "header length %u does not match record length %u",
			    q->h.len, q->len);
	if (q->len % 8 != 0)
		return fail(q, -EINVAL, 0, "record length %u is not a multiple of 8", q->len);
	if (q->len > NPR_MSG_MAX)
		return fail(q, -EINVAL, 0, "record length %u exceeds %u", q->len, NPR_MSG_MAX);
	if (q->h.version != NPR_ABI_VERSION)
		return fail(q, -EPROTO, 0, "ABI version %u, expected %u", q->h.version,
			    NPR_ABI_VERSION);
	if (q->h.reserved != 0)
		return fail(q, -EINVAL, 0, "reserved header field is not zero");
	if (q->h.type == NPR_MSG_REPLY || q->h.type == NPR_MSG_DUMP_CHUNK)
		return fail(q, -EINVAL, 0, "message type 0x%x is a reply, not a request",
			    q->h.type);
	if (q->h.type > NPR_MSG_REQ_LAST || msg_types[q->h.type].handler == NULL)
		return fail(q, -EOPNOTSUPP, 0, "unknown message type %u", q->h.type);
	return body_len(q, &msg_types[q->h.type]);
}

void
cfg_handle_session(struct cfg *c, unsigned sid, const void *rec, uint32_t len, cfg_emit_fn emit,
		   void *ctx)
{
	struct npr_reply rep;
	struct rq q = { .c = c, .rec = rec, .len = len, .rep = &rep, .emit = emit, .ctx = ctx };
	int rc;

	memset(&rep, 0, sizeof(rep));
	rep.hdr.type = NPR_MSG_REPLY;
	rep.hdr.version = NPR_ABI_VERSION;
	rep.hdr.len = sizeof(rep);
	if (sid >= CFG_SESSIONS)
		sid = CFG_SESSIONS - 1; /* callers pass their slot; never out of the array */
	q.sid = sid;
	q.origin = c->sess[sid].origin;

	rc = check_header(&q);
	/* Another session's batch is open: the server holds our requests until it ends; one
	 * that gets here anyway is refused, never staged into someone else's batch. */
	bool other = c->batch_active && c->batch_owner != (int)sid;
	bool lost = c->sess[sid].batch_lost && rc == 0 && q.h.type != NPR_MSG_HELLO;
	if (lost && (msg_types[q.h.type].mutating || q.h.type == NPR_MSG_BATCH_COMMIT ||
		     q.h.type == NPR_MSG_BATCH_ABORT)) {
		/* the rest of a batch the data plane aborted must not be applied piece by piece:
		 * refused until the session ends it (COMMIT or ABORT) or says HELLO again */
		if (q.h.type == NPR_MSG_BATCH_COMMIT || q.h.type == NPR_MSG_BATCH_ABORT)
			c->sess[sid].batch_lost = 0;
		rc = q.h.type == NPR_MSG_BATCH_ABORT
			     ? 0
			     : fail(&q, -ECANCELED, 0,
				    "the batch was aborted (the session was silent for %u ms)",
				    NPR_BATCH_IDLE_MS);
	} else if (rc == 0 && other && q.h.type != NPR_MSG_HELLO)
		rc = fail(&q, -EBUSY, 0, "session %d has a batch open", c->batch_owner);
	else if (rc == 0 && c->batch_active && c->batch_poisoned &&
		 q.h.type != NPR_MSG_BATCH_COMMIT && q.h.type != NPR_MSG_BATCH_ABORT &&
		 q.h.type != NPR_MSG_HELLO)
		rc = fail(&q, -ECANCELED, 0, "the batch failed; send BATCH_ABORT");
	else if (rc == 0) {
		const struct msg_type *mt = &msg_types[q.h.type];
		bool in_batch = c->batch_active;
		rc = mt->handler(&q);
		if (mt->mutating) {
			if (rc < 0)
				rollback(c); /* in a batch, the whole batch */
			else if (!in_batch)
				publish(c);
		}
		/* a resync outside a batch is a transaction of its own (in one, the batch is) */
		if (q.h.type == NPR_MSG_SYNC_END && !in_batch)
			txn_result(c, q.origin, rc);
		if (in_batch && c->batch_active && mt->mutating)
			c->batch_msgs++;
	}
	/* Any failure inside a batch drops the batch: its sender expects all or nothing. */
	if (rc < 0 && c->batch_active && !other && !c->batch_poisoned) {
		rollback(c);
		c->batch_poisoned = true;
		c->batch_status = rc;
	}
	rep.status = rc;
	if (rc < 0)
		c->msgs_err++;
	else
		c->msgs_ok++;
	emit(ctx, &rep, sizeof(rep));
}

void
cfg_handle(struct cfg *c, const void *rec, uint32_t len, cfg_emit_fn emit, void *ctx)
{
	cfg_handle_session(c, 0, rec, len, emit, ctx);
}

int
cfg_batch_owner(const struct cfg *c)
{
	return c->batch_active ? c->batch_owner : -1;
}

uint32_t
cfg_session_end(struct cfg *c, unsigned sid)
{
	if (!c->batch_active || c->batch_owner != (int)sid)
		return 0;
	if (!c->batch_poisoned)
		rollback(c);
	c->batch_active = false;
	c->sess[sid].batch_lost = 1;
	txn_result(c, c->sess[sid].origin, -ECONNABORTED);
	return c->batch_msgs + 1;
}
