/* SPDX-License-Identifier: BSD-3-Clause */
/* Session requests: hello, batches, resync (layer 6). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

/* room for a route key or a neighbour key */
#define KEY_MAX (NB_KLEN > RT_KEY_MAX ? NB_KLEN : RT_KEY_MAX)

/* ---------------------------------------------------------------------------------------- */
/* Sync */

int
h_sync_begin(struct rq *q)
{
	struct cfg *c = q->c;
	int rc;

	if ((rc = undo_reserve(c, 1)) < 0)
		return fail(q, rc, 0, "out of memory");
	unsigned o = q->origin;
	struct undo *u = undo_push(c, U_SYNC, 0);
	u->u.sync.gen = c->gen[o];
	u->u.sync.active = c->sync_active[o];
	u->u.sync.origin = (uint8_t)o;
	c->gen[o]++;
	c->sync_active[o] = true;
	return 0;
}

/* Objects of origin o on interface ifid: its next hops, addresses, configured neighbours. */
static uint32_t
own_users(const struct cfg *c, unsigned o, unsigned ifid)
{
	uint32_t n = 0;
	for (uint32_t id = nh_int(c, o, 1); id < nh_int(c, o, c->wire_nh); id++)
		n += c->nh[id].cfg.used && c->nh[id].cfg.kind == NPR_NH_FORWARD &&
		     c->nh[id].cfg.ifid == ifid;
	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++)
		n += c->addr[i].used && c->addr[i].origin == o && c->addr[i].ifid == ifid;
	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		n += e->used && e->has_neigh && !e->dynamic && e->origin == o && e->ifid == ifid;
	}
	return n;
}

/* A route entry (c->rt or c->alt) of origin o that the sync did not re-send. */
static bool
rt_stale(const struct cfg *c, const uint8_t *e, unsigned alen, unsigned o)
{
	const struct rt_val *v = rt_val((uint8_t *)e, alen);
	return !(v->target & NPR_TARGET_LOCAL) && v->origin == o && v->gen != c->gen[o];
}

int
h_sync_end(struct rq *q)
{
	struct cfg *c = q->c;
	unsigned o = q->origin;
	uint32_t gen = c->gen[o];
	uint32_t n_rt = 0, n_grp = 0, n_nh = 0, n_nb = 0, n_addr = 0, n_ifc = 0, n_kept = 0;
	uint64_t stale = 1;
	int rc = 0;

	if (!c->sync_active[o])
		return fail(q, -EINVAL, 0, "no sync in progress");

	/* Count what goes, to reserve the undo log (an address takes two records). */
	for (int fam = F4; fam <= F6; fam++) {
		unsigned alen = alen_of(fam);
		const struct htab *ts[2] = { &c->rt[fam], &c->alt[fam] };
		for (int k = 0; k < 2; k++)
			for (uint32_t i = 0; i < ts[k]->cap; i++) {
				uint8_t *e = ht_at(ts[k], i);
				if (ht_used(ts[k], e) && rt_stale(c, e, alen, o))
					n_rt++;
			}
	}
	for (uint32_t i = 0; i < c->nb.cap; i++) {
		const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
		if (e->used && e->has_neigh && !e->dynamic && e->origin == o && e->gen != gen)
			n_nb++;
	}
	/* an address takes two records, and up to two for connected routes after; a route
	 * up to four (route_del) */
	stale += 4ull * n_rt + n_nb + c->n_grp + c->n_nh + 4ull * c->n_addr + c->n_ifc;
	if ((rc = undo_reserve(c, stale)) < 0)
		return fail(q, rc, 0, "out of memory");
	uint8_t(*keys)[KEY_MAX] = malloc(((size_t)(n_rt > n_nb ? n_rt : n_nb) + 1) * KEY_MAX);
	if (keys == NULL)
		return fail(q, -ENOMEM, 0, "out of memory");

	/* Routes first (they hold the groups and next hops), collected before deleting since
	 * a deletion moves entries in the table. Route keys: the origin's alt entries have
	 * the route key as their prefix. */
	if ((rc = ht_reserve(&c->rt[F4], 1)) < 0 || (rc = ht_reserve(&c->rt[F6], 1)) < 0 ||
	    (rc = ht_reserve(&c->alt[F4], 1)) < 0 || (rc = ht_reserve(&c->alt[F6], 1)) < 0) {
		free(keys);
		return fail(q, rc, 0, "out of memory");
	}
	for (int fam = F4; fam <= F6 && rc == 0; fam++) {
		unsigned alen = alen_of(fam);
		const struct htab *ts[2] = { &c->rt[fam], &c->alt[fam] };
		uint32_t n = 0;
		for (int k = 0; k < 2; k++)
			for (uint32_t i = 0; i < ts[k]->cap; i++) {
				uint8_t *e = ht_at(ts[k], i);
				if (ht_used(ts[k], e) && rt_stale(c, e, alen, o)) {
					memcpy(keys[n], e, alen + 1);
					keys[n][alen + 1] = 1;
					n++;
				}
			}
		for (uint32_t i = 0; i < n && rc == 0; i++) {
			rc = route_del(c, fam, keys[i], ht_find(&c->rt[fam], keys[i]), o);
			if (rc < 0)
				fail(q, rc, 0, "FIB: %s", strerror(-rc));
		}
	}
	uint32_t g0 = grp_int(c, o, 1), g1 = grp_int(c, o, c->wire_grp);
	for (uint32_t id = g0; id < g1 && rc == 0; id++) {
		if (!c->grp[id].used || c->grp[id].gen == gen)
			continue;
		/* -EBUSY in words of the sync; -ENOMEM keeps grp_del's own reason */
		if ((rc = grp_del(q, id)) == -EBUSY)
			fail(q, rc, 0, "sync: group %u was not re-sent but routes still use it",
			     grp_wire(c, id));
		n_grp++;
	}
	uint32_t h0 = nh_int(c, o, 1), h1 = nh_int(c, o, c->wire_nh);
	for (uint32_t id = h0; id < h1 && rc == 0; id++) {
		if (!c->nh[id].cfg.used || c->nh[id].cfg.gen == gen)
			continue;
		if ((rc = nh_del(q, id)) < 0)
			fail(q, rc, 0, "sync: next hop %u was not re-sent but is still used",
			     nh_wire(c, id));
		n_nh++;
	}
	if (rc == 0) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < c->nb.cap; i++) {
			const struct nb *e = (const struct nb *)ht_at(&c->nb, i);
			if (e->used && e->has_neigh && !e->dynamic && e->origin == o &&
			    e->gen != gen)
				memcpy(keys[n++], e, NB_KLEN);
		}
		for (uint32_t i = 0; i < n; i++)
			nb_remove_logged(c, keys[i]);
		n_nb = n;
	}
	for (uint32_t i = 0; i < CFG_ADDR_MAX && rc == 0; i++) {
		const struct addr *a = &c->addr[i];
		if (!a->used || a->origin != o || a->gen == gen)
			continue;
		int fam = a->family == NPR_AF_INET ? F4 : F6;
		uint8_t key[RT_KEY_MAX], *e;
		struct addr z = { 0 };
		rt_key(key, fam, a->a, (uint8_t)(8 * alen_of(fam)));
		e = ht_find(&c->rt[fam], key);
		if (e != NULL && (rc = rt_apply(c, fam, key, e, NULL)) < 0) {
			fail(q, rc, 0, "FIB: %s", strerror(-rc));
			break;
		}
		struct addr old = *a;
		undo_push(c, U_ADDR, i)->u.addr = *a;
		addr_apply(c, i, &z);
		n_addr++;
		subnet_key(key, &old);
		if ((rc = conn_fix(c, fam, key)) < 0)
			fail(q, rc, 0, "FIB: %s", strerror(-rc));
	}
	/* connected routes back where a removed route hid one */
	if (rc == 0 && ((rc = ht_reserve(&c->rt[F4], c->n_addr)) < 0 ||
			(rc = ht_reserve(&c->rt[F6], c->n_addr)) < 0))
		fail(q, rc, 0, "out of memory");
	for (uint32_t i = 0; i < CFG_ADDR_MAX && rc == 0; i++) {
		uint8_t key[RT_KEY_MAX];
		if (!c->addr[i].used)
			continue;
		subnet_key(key, &c->addr[i]);
		if ((rc = conn_fix(c, c->addr[i].family == NPR_AF_INET ? F4 : F6, key)) < 0)
			fail(q, rc, 0, "FIB: %s", strerror(-rc));
	}
	for (uint32_t id = 0; id < NPR_MAX_IFACES && rc == 0; id++) {
		const struct ifc *i = &c->ifc[id];
		struct ifc_cfg z = { 0 };
		if (!i->cfg.used || i->cfg.origin != o || i->cfg.gen == gen)
			continue;
		/* another origin's objects on it: it stays (theirs to remove first), learnt
		 * neighbours and all; our own re-sent on an interface that was not: an error */
		uint32_t learnt = 0;
		for (uint32_t k = 0; k < c->nb.cap; k++) {
			const struct nb *e = (const struct nb *)ht_at(&c->nb, k);
			learnt += e->used && e->has_neigh && e->dynamic && e->ifid == id;
		}
		if ((i->n_nh || i->n_addr || i->n_neigh > learnt) && own_users(c, o, id) == 0) {
			n_kept++;
			continue;
		}
		if ((rc = nb_flush_learnt(c, id)) < 0) {
			fail(q, rc, 0, "out of memory");
			break;
		}
		if (i->n_nh || i->n_addr || i->n_neigh) {
			rc = fail(q, -EBUSY, 0,
				  "sync: interface %u was not re-sent but is still used", id);
			break;
		}
		undo_push(c, U_IFC, id)->u.ifc = i->cfg;
		ifc_apply(c, id, &z);
		n_ifc++;
	}
	free(keys);
	if (rc < 0)
		return rc; /* the caller rolls back; the sync stays open */
	struct undo *u = undo_push(c, U_SYNC, 0);
	u->u.sync.gen = gen;
	u->u.sync.active = 1;
	u->u.sync.origin = (uint8_t)o;
	c->sync_active[o] = false;
	snprintf(q->rep->msg, sizeof(q->rep->msg),
		 "removed %u routes %u groups %u nhs %u neighs %u addrs %u ifaces%s", n_rt, n_grp,
		 n_nh, n_nb, n_addr, n_ifc,
		 n_kept != 0 ? "; kept interfaces other origins use" : "");
	return 0;
}
/* ---------------------------------------------------------------------------------------- */
/* Batches */

int
h_batch(struct rq *q)
{
	struct cfg *c = q->c;

	switch (q->h.type) {
	case NPR_MSG_BATCH_BEGIN:
		if (c->batch_active)
			return fail(q, -EALREADY, 0, "a batch is already open");
		c->batch_active = true;
		c->batch_owner = (int)q->sid;
		c->batch_poisoned = false;
		c->batch_status = 0;
		c->batch_msgs = 0;
		return 0;
	case NPR_MSG_BATCH_COMMIT:
		if (!c->batch_active)
			return fail(q, -EINVAL, 0, "no batch open");
		c->batch_active = false;
		if (c->batch_poisoned) {
			txn_result(c, q->origin, c->batch_status);
			return fail(q, -ECANCELED, 0, "batch failed: nothing committed");
		}
		publish(c);
		txn_result(c, q->origin, 0);
		snprintf(q->rep->msg, sizeof(q->rep->msg), "committed %u messages", c->batch_msgs);
		return 0;
	default: /* ABORT */
		if (!c->batch_active)
			return fail(q, -EINVAL, 0, "no batch open");
		c->batch_active = false;
		if (!c->batch_poisoned)
			rollback(c);
		txn_result(c, q->origin, c->batch_poisoned ? c->batch_status : -ECANCELED);
		return 0;
	}
}

int
h_hello(struct rq *q)
{
	struct cfg *c = q->c;
	struct npr_msg_hello m;
	struct sess *ss = &c->sess[q->sid];

	memcpy(&m, q->rec, sizeof(m));
	if (!all_zero(m.reserved, sizeof(m.reserved)))
		return fail(q, -EINVAL, 0, "reserved bytes are not zero");
	if (m.origin == NPR_ORIGIN_NONE || m.origin >= NPR_ORIGIN_MAX)
		return fail(q, -EINVAL, 0, "origin %u is not a client origin (1..%u)", m.origin,
			    NPR_ORIGIN_MAX - 1);
	if (memchr(m.name, 0, sizeof(m.name)) == NULL)
		return fail(q, -EINVAL, 0, "client name is not NUL-terminated");
	/* HELLO opens a session on this slot. A batch this slot still has open belongs to a
	 * session that died: drop it, or the new session's requests would be staged into it
	 * and never applied. (Another slot's open batch is that session's business.) */
	if (c->batch_active && c->batch_owner == (int)q->sid) {
		uint32_t n = c->batch_msgs;
		cfg_session_end(c, q->sid);
		c->batches_dropped++;
		snprintf(q->rep->msg, sizeof(q->rep->msg),
			 "aborted a batch of %u messages left open by an earlier session", n);
		fprintf(stderr,
			"control: session %u opened with a batch of %u messages still open from "
			"a session that went away: aborted it\n",
			q->sid, n);
	}
	ss->origin = m.origin;
	ss->hello = 1;
	ss->batch_lost = 0;
	ss->pid = m.pid;
	memcpy(ss->name, m.name, sizeof(ss->name));
	q->rep->value = c->conf.instance_id;
	q->rep->index = q->sid;
	return 0;
}
