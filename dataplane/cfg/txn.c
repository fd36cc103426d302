/* SPDX-License-Identifier: BSD-3-Clause */
/* The transaction: undo log replay, publish to the workers (layer 4). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg_int.h"

int
grp_retire_reserve(struct cfg *c)
{
	return retire_reserve(&c->grp_old, (uint64_t)c->grp_dirty.n + 1);
}

void
grp_reclaim(struct cfg *c, bool force)
{
	uint64_t v;
	while (retire_pop(&c->grp_old, &v, force) == 0)
		free((void *)(uintptr_t)v);
}

/* A published version that was just unlinked (room reserved by the request). */
static void
retire(struct cfg *c, struct grp_ver *v)
{
	retire_push(&c->grp_old, (uintptr_t)v);
}

static void
undo_one(struct cfg *c, const struct undo *u)
{
	switch (u->kind) {
	case U_RT4:
		rt_restore(c, F4, u);
		break;
	case U_RT6:
		rt_restore(c, F6, u);
		break;
	case U_ALT4:
		alt_restore(c, F4, u);
		break;
	case U_ALT6:
		alt_restore(c, F6, u);
		break;
	case U_NH:
		nh_apply(c, u->id, &u->u.nh);
		break;
	case U_GRP: {
		struct grp_ver *cur = c->grp[u->id].ver;
		grp_apply(c, u->id, u->u.grp.used, u->u.grp.ver, u->u.grp.gen);
		/* cur was made by the change being undone: nobody ever saw it */
		if (cur != NULL && cur != u->u.grp.ver && cur != grp_published(c, u->id))
			free(cur);
		break;
	}
	case U_IFC:
		ifc_apply(c, u->id, &u->u.ifc);
		break;
	case U_NB:
		nb_apply(c, u->u.nb.key, u->u.nb.had, u->u.nb.mac, u->u.nb.gen, u->u.nb.dyn,
			 u->u.nb.origin);
		break;
	case U_ADDR:
		addr_apply(c, u->id, &u->u.addr);
		break;
	case U_SYNC:
		c->gen[u->u.sync.origin] = u->u.sync.gen;
		c->sync_active[u->u.sync.origin] = u->u.sync.active;
		break;
	}
}

/* Undo everything since the last publish; what the workers see never changed. */
void
rollback(struct cfg *c)
{
	while (c->n_undo > 0) {
		c->n_undo--;
		undo_one(c, &c->undo[c->n_undo]);
	}
	/* The RIBs equal the published FIBs again; committing clears their dirty marks and
	 * publishes nothing different. */
	for (int fam = F4; fam <= F6; fam++) {
		if (c->fib_dirty[fam])
			fib_commit(fib_of(c, fam));
		c->fib_dirty[fam] = false;
	}
	dirty_clear(&c->nh_dirty);
	dirty_clear(&c->grp_dirty);
	c->ports_dirty = false;
}

/* Forget the undo log: free group versions that were replaced before anyone saw them (the
 * published ones are retired by publish). Must run before publish. A version is freed by
 * the record of the change that replaced it; records of unchanged re-sends (same) name a
 * version that some other record frees, or that stays. */
static void
undo_discard(struct cfg *c)
{
	for (uint32_t i = 0; i < c->n_undo; i++) {
		const struct undo *u = &c->undo[i];
		if (u->kind != U_GRP || u->u.grp.ver == NULL || u->u.grp.same)
			continue;
		if (u->u.grp.ver != c->grp[u->id].ver && u->u.grp.ver != grp_published(c, u->id))
			free(u->u.grp.ver);
	}
	c->n_undo = 0;
}

static void
ports_publish(struct cfg *c)
{
	for (unsigned i = 0; i < c->conf.n_ports; i++) {
		unsigned p = c->conf.port[i].port_id;
		struct fwd_port *fp = &c->t.port[p];
		uint64_t mac = 0;
		uint32_t up = 0;
		uint32_t mtu = 0;
		if (c->port_owner[p] >= 0) {
			unsigned ifid = (unsigned)c->port_owner[p];
			mac = mac48(ifc_mac(c, ifid));
			up = (c->ifc[ifid].cfg.flags & NPR_IFACE_F_UP) ? 1 : 0;
			mtu = c->ifc[ifid].cfg.mtu;
		}
		/* the MTU alone needs no order: a packet checked against either is fine */
		atomic_store_explicit(&fp->mtu, mtu, memory_order_relaxed);
		/* Going down: stop accepting before the MAC changes; going up: the MAC first. */
		if (!up)
			atomic_store_explicit(&fp->up, 0, memory_order_release);
		atomic_store_explicit(&fp->mac, mac, memory_order_release);
		if (up)
			atomic_store_explicit(&fp->up, 1, memory_order_release);
	}
}

void
publish(struct cfg *c)
{
	undo_discard(c);
	/* 1. Live next hops first: a route or group published below may point at them. The
	 * release store pairs with the worker's acquire load of the word. */
	for (uint32_t i = 0; i < c->nh_dirty.n; i++) {
		uint32_t id = c->nh_dirty.list[i];
		if (nh_live(c, id))
			atomic_store_explicit(&c->t.nh[id], nh_word(c, id), memory_order_release);
	}
	/* 2. Live groups: a fresh immutable version, published by one pointer store (release:
	 * its slots are written before the pointer). */
	for (uint32_t i = 0; i < c->grp_dirty.n; i++) {
		uint32_t id = c->grp_dirty.list[i];
		struct grp_ver *old = grp_published(c, id);
		if (c->grp[id].used && c->grp[id].ver != old) {
			atomic_store_explicit(&c->t.group[id], ver_fg(c->grp[id].ver),
					      memory_order_release);
			if (old != NULL)
				retire(c, old);
		}
	}
	/* 3. Routes. */
	for (int fam = F4; fam <= F6; fam++) {
		if (c->fib_dirty[fam]) {
			fib_commit(fib_of(c, fam));
			c->host_dirty = true;
		}
		c->fib_dirty[fam] = false;
	}
	/* 4. Ports last: a port that comes up (and starts receiving: workers poll only up
	 * ports) sees the whole configuration it came up with, routes included. */
	if (c->ports_dirty)
		ports_publish(c);
	/* 5. Removed groups and next hops: no published route or group refers to them now. */
	for (uint32_t i = 0; i < c->grp_dirty.n; i++) {
		uint32_t id = c->grp_dirty.list[i];
		struct grp_ver *old = grp_published(c, id);
		if (!c->grp[id].used && old != NULL) {
			atomic_store_explicit(&c->t.group[id], NULL, memory_order_release);
			retire(c, old);
		}
	}
	for (uint32_t i = 0; i < c->nh_dirty.n; i++) {
		uint32_t id = c->nh_dirty.list[i];
		if (!nh_live(c, id))
			atomic_store_explicit(&c->t.nh[id], fwd_nh_pack(FWD_NH_INVALID, 0, 0),
					      memory_order_release);
	}
	dirty_clear(&c->nh_dirty);
	dirty_clear(&c->grp_dirty);
	c->ports_dirty = false;
	/* Every old group version is unlinked now: one grace period covers them all. */
	retire_stamp(&c->grp_old);
	if (c->conf.qsbr == NULL)
		grp_reclaim(c, false);
	/* 6. Host routes follow the committed state. */
	if (c->host_dirty || c->host_retry)
		hosts_sync(c);
	c->version++;
}

void
txn_result(struct cfg *c, unsigned o, int status)
{
	struct timespec ts;
	if (o >= NPR_ORIGIN_MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	struct npr_txn_stats *t = &c->txn[o];
	if (status == 0) {
		t->generation++;
		t->commit_unix_ns = now;
	} else {
		t->failed++;
		t->failed_unix_ns = now;
	}
	t->last_status = status;
}
