/* SPDX-License-Identifier: BSD-3-Clause */
/* The message table and the entry point: framing, dispatch, commit or roll back (layer 7). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

static const char *const type_names[] = {
	[NPR_MSG_HELLO] = "HELLO",
	[NPR_MSG_IFACE_SET] = "IFACE_SET",
	[NPR_MSG_IFACE_DEL] = "IFACE_DEL",
	[NPR_MSG_ADDR_ADD] = "ADDR_ADD",
	[NPR_MSG_ADDR_DEL] = "ADDR_DEL",
	[NPR_MSG_NEIGH_SET] = "NEIGH_SET",
	[NPR_MSG_NEIGH_DEL] = "NEIGH_DEL",
	[NPR_MSG_NH_SET] = "NH_SET",
	[NPR_MSG_NH_DEL] = "NH_DEL",
	[NPR_MSG_GROUP_SET] = "GROUP_SET",
	[NPR_MSG_GROUP_DEL] = "GROUP_DEL",
	[NPR_MSG_ROUTE4_ADD] = "ROUTE4_ADD",
	[NPR_MSG_ROUTE4_REPLACE] = "ROUTE4_REPLACE",
	[NPR_MSG_ROUTE4_DEL] = "ROUTE4_DEL",
	[NPR_MSG_ROUTE6_ADD] = "ROUTE6_ADD",
	[NPR_MSG_ROUTE6_REPLACE] = "ROUTE6_REPLACE",
	[NPR_MSG_ROUTE6_DEL] = "ROUTE6_DEL",
	[NPR_MSG_BATCH_BEGIN] = "BATCH_BEGIN",
	[NPR_MSG_BATCH_COMMIT] = "BATCH_COMMIT",
	[NPR_MSG_BATCH_ABORT] = "BATCH_ABORT",
	[NPR_MSG_SYNC_BEGIN] = "SYNC_BEGIN",
	[NPR_MSG_SYNC_END] = "SYNC_END",
	[NPR_MSG_STATS_REQ] = "STATS_REQ",
	[NPR_MSG_DUMP_REQ] = "DUMP_REQ",
	[NPR_MSG_LOOKUP] = "LOOKUP",
	[NPR_MSG_STATS_CLEAR] = "STATS_CLEAR",
};
/* ---------------------------------------------------------------------------------------- */
/* Dispatch */

/* Fixed record lengths; 0: variable (checked by body_len). */
static const uint32_t fixed_len[NPR_MSG_REQ_LAST + 1] = {
	[NPR_MSG_HELLO] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_IFACE_SET] = sizeof(struct npr_msg_iface_set),
	[NPR_MSG_IFACE_DEL] = sizeof(struct npr_msg_iface_del),
	[NPR_MSG_ADDR_ADD] = sizeof(struct npr_msg_addr),
	[NPR_MSG_ADDR_DEL] = sizeof(struct npr_msg_addr),
	[NPR_MSG_NEIGH_SET] = sizeof(struct npr_msg_neigh),
	[NPR_MSG_NEIGH_DEL] = sizeof(struct npr_msg_neigh),
	[NPR_MSG_NH_SET] = sizeof(struct npr_msg_nh_set),
	[NPR_MSG_NH_DEL] = sizeof(struct npr_msg_id),
	[NPR_MSG_GROUP_DEL] = sizeof(struct npr_msg_id),
	[NPR_MSG_BATCH_BEGIN] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_BATCH_COMMIT] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_BATCH_ABORT] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_SYNC_BEGIN] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_SYNC_END] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_STATS_REQ] = sizeof(struct npr_msg_hdr),
	[NPR_MSG_DUMP_REQ] = sizeof(struct npr_msg_dump_req),
	[NPR_MSG_LOOKUP] = sizeof(struct npr_msg_lookup),
	[NPR_MSG_STATS_CLEAR] = sizeof(struct npr_msg_hdr),
};

static int
body_len(struct rq *q)
{
	unsigned t = q->h.type;
	uint64_t want = fixed_len[t];
	uint32_t n;

	if (want == 0) {
		if (q->len < 24)
			return fail(q, -EINVAL, 0, "%s: record of %u bytes is too short",
				    type_names[t], q->len);
		if (t == NPR_MSG_GROUP_SET) {
			uint16_t nm;
			memcpy(&nm, q->rec + offsetof(struct npr_msg_group_set, n_members),
			       sizeof(nm));
			if (nm < 1 || nm > NPR_GROUP_MAX_MEMBERS)
				return fail(q, -EINVAL, 0, "group: %u members (1..%u)", nm,
					    NPR_GROUP_MAX_MEMBERS);
			want = sizeof(struct npr_msg_group_set) + 8ull * nm;
		} else {
			bool v4 = t <= NPR_MSG_ROUTE4_DEL;
			uint32_t max = v4 ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
			memcpy(&n, q->rec + offsetof(struct npr_msg_route4, count), sizeof(n));
			if (n < 1 || n > max)
				return fail(q, -EINVAL, 0, "route count %u out of range (1..%u)", n,
					    max);
			want = sizeof(struct npr_msg_route4) +
			       (((uint64_t)n * (v4 ? sizeof(struct npr_route4)
						   : sizeof(struct npr_route6)) +
				 7) &
				~7ull);
		}
	}
	if (q->len != want)
		return fail(q, -EINVAL, 0, "%s: record length %u, expected %u", type_names[t],
			    q->len, (uint32_t)want);
	return 0;
}

static bool
mutating(unsigned t)
{
	return (t >= NPR_MSG_IFACE_SET && t <= NPR_MSG_ROUTE6_DEL) || t == NPR_MSG_SYNC_BEGIN ||
	       t == NPR_MSG_SYNC_END;
}

static int
dispatch(struct rq *q)
{
	switch (q->h.type) {
	case NPR_MSG_HELLO:
		return h_hello(q);
	case NPR_MSG_IFACE_SET:
		return h_iface_set(q);
	case NPR_MSG_IFACE_DEL:
		return h_iface_del(q);
	case NPR_MSG_ADDR_ADD:
	case NPR_MSG_ADDR_DEL:
		return h_addr(q);
	case NPR_MSG_NEIGH_SET:
	case NPR_MSG_NEIGH_DEL:
		return h_neigh(q);
	case NPR_MSG_NH_SET:
		return h_nh_set(q);
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL:
		return h_id_del(q);
	case NPR_MSG_GROUP_SET:
		return h_group_set(q);
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_REPLACE:
	case NPR_MSG_ROUTE4_DEL:
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_REPLACE:
	case NPR_MSG_ROUTE6_DEL:
		return h_route(q);
	case NPR_MSG_BATCH_BEGIN:
	case NPR_MSG_BATCH_COMMIT:
	case NPR_MSG_BATCH_ABORT:
		return h_batch(q);
	case NPR_MSG_SYNC_BEGIN:
		return h_sync_begin(q);
	case NPR_MSG_SYNC_END:
		return h_sync_end(q);
	case NPR_MSG_STATS_REQ:
		return h_stats(q);
	case NPR_MSG_DUMP_REQ:
		return h_dump(q);
	case NPR_MSG_LOOKUP:
		return h_lookup(q);
	case NPR_MSG_STATS_CLEAR:
		return h_stats_clear(q);
	}
	return fail(q, -EOPNOTSUPP, 0, "unknown message type %u", q->h.type);
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
	if (q->h.type == NPR_MSG_NONE || q->h.type > NPR_MSG_REQ_LAST)
		return fail(q, -EOPNOTSUPP, 0, "unknown message type %u", q->h.type);
	return body_len(q);
}

void
cfg_handle(struct cfg *c, const void *rec, uint32_t len, cfg_emit_fn emit, void *ctx)
{
	struct npr_reply rep;
	struct rq q = { .c = c, .rec = rec, .len = len, .rep = &rep, .emit = emit, .ctx = ctx };
	int rc;

	memset(&rep, 0, sizeof(rep));
	rep.hdr.type = NPR_MSG_REPLY;
	rep.hdr.version = NPR_ABI_VERSION;
	rep.hdr.len = sizeof(rep);

	rc = check_header(&q);
	if (rc == 0 && c->batch_active && c->batch_poisoned && q.h.type != NPR_MSG_BATCH_COMMIT &&
	    q.h.type != NPR_MSG_BATCH_ABORT && q.h.type != NPR_MSG_HELLO)
		rc = fail(&q, -ECANCELED, 0, "the batch failed; send BATCH_ABORT");
	else if (rc == 0) {
		bool in_batch = c->batch_active;
		rc = dispatch(&q);
		if (mutating(q.h.type)) {
			if (rc < 0)
				rollback(c); /* in a batch, the whole batch */
			else if (!in_batch)
				publish(c);
		}
		if (in_batch && c->batch_active && mutating(q.h.type))
			c->batch_msgs++;
	}
	/* Any failure inside a batch drops the batch: its sender expects all or nothing. */
	if (rc < 0 && c->batch_active && !c->batch_poisoned) {
		rollback(c);
		c->batch_poisoned = true;
	}
	rep.status = rc;
	if (rc < 0)
		c->msgs_err++;
	else
		c->msgs_ok++;
	emit(ctx, &rep, sizeof(rep));
}
