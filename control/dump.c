/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dump requests and the decoding of their chunks (see dump.h).
 */
#include <string.h>

#include "dump.h"
#include "grow.h"

/* The largest entry: the statistics, or a group with all its members. */
#define GROUP_ENTRY_MAX                                                                            \
	(sizeof(struct npr_dump_group) + NPR_GROUP_MAX_MEMBERS * sizeof(struct npr_group_member))
#define ENTRY_MAX                                                                                  \
	(sizeof(struct npr_stats) > GROUP_ENTRY_MAX ? sizeof(struct npr_stats) : GROUP_ENTRY_MAX)

struct decode {
	uint32_t kind;
	dump_entry_fn fn;
	void *ctx;
	size_t n_bad;
	uint64_t entry[(ENTRY_MAX + 7) / 8]; /* the aligned copy handed on */
};

static void
chunk_cb(void *ctx, const struct npr_msg_dump_chunk *chunk)
{
	struct decode *d = ctx;
	if (chunk->kind != d->kind || chunk->hdr.len < sizeof(*chunk)) {
		d->n_bad++;
		return;
	}
	size_t avail = chunk->hdr.len - sizeof(*chunk);
	size_t esize = npr_dump_entry_size(d->kind);
	const uint8_t *p = chunk->data;
	for (uint32_t i = 0; i < chunk->count; i++) {
		size_t size = esize;
		if (avail < size) {
			d->n_bad++;
			return;
		}
		if (d->kind == NPR_DUMP_GROUPS) {
			struct npr_dump_group g;
			memcpy(&g, p, sizeof(g));
			if (g.n_members > NPR_GROUP_MAX_MEMBERS) {
				d->n_bad++;
				return;
			}
			size += (size_t)g.n_members * sizeof(struct npr_group_member);
			if (avail < size) {
				d->n_bad++;
				return;
			}
		}
		memcpy(d->entry, p, size);
		d->fn(d->ctx, d->entry);
		p += size;
		avail -= size;
	}
}

int
dump_each(struct npr_client *c, uint32_t kind, uint32_t flags, dump_entry_fn fn, void *ctx,
	  int timeout_ms, struct dump_status *st)
{
	struct decode d = { .kind = kind, .fn = fn, .ctx = ctx };
	struct npr_msg_dump_req m;
	memset(&m, 0, sizeof(m));
	memset(st, 0, sizeof(*st));
	if (kind == NPR_DUMP_STATS) {
		m.hdr.type = NPR_MSG_STATS_REQ;
		m.hdr.len = sizeof(m.hdr);
	} else {
		m.hdr.type = NPR_MSG_DUMP_REQ;
		m.hdr.len = sizeof(m);
		m.kind = kind;
		m.flags = flags;
	}
	int rc = npr_client_call(c, &m, &st->rep, chunk_cb, &d, timeout_ms);
	st->n_bad = d.n_bad;
	return rc;
}

struct collect {
	uint32_t kind;
	size_t size;
	struct dump_vec *vec;
	bool oom;
};

static void
collect_entry(void *ctx, const void *entry)
{
	struct collect *cl = ctx;
	struct dump_vec *v = cl->vec;
	if (cl->oom || grow_array(&v->v, &v->cap, v->n + 1, cl->size) < 0) {
		cl->oom = true;
		return;
	}
	memcpy((uint8_t *)v->v + v->n * cl->size, entry, cl->size);
	if (cl->kind == NPR_DUMP_GROUPS) {
		const struct npr_dump_group *g = entry;
		if (grow_array(&v->member, &v->cap_member, v->n_member + g->n_members,
			       sizeof(*v->member)) < 0) {
			cl->oom = true;
			return;
		}
		if (g->n_members > 0)
			memcpy(&v->member[v->n_member], g->members,
			       g->n_members * sizeof(*v->member));
		v->n_member += g->n_members;
	}
	v->n++;
}

int
dump_collect(struct npr_client *c, uint32_t kind, uint32_t flags, struct dump_vec *vec,
	     int timeout_ms, struct dump_status *st)
{
	struct collect cl = { .kind = kind, .size = npr_dump_entry_size(kind), .vec = vec };
	memset(vec, 0, sizeof(*vec));
	int rc = dump_each(c, kind, flags, collect_entry, &cl, timeout_ms, st);
	st->oom = cl.oom;
	return rc;
}

void
dump_vec_free(struct dump_vec *vec)
{
	free(vec->v);
	free(vec->member);
	memset(vec, 0, sizeof(*vec));
}
