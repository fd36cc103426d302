/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's sessions (fpm_state.h): how the mirror settles what it owes the data plane
 * (flush), and the life of its sessions with zebra and with the data plane around the routes
 * and objects fpm_state.c and fpm_objects.c keep:
 *
 *   flush      routes whose object changed walked again, gathered messages sent, objects no
 *              longer used freed, their data-plane ids deleted (groups first)
 *   replay     zebra's replay as mark and sweep, inside one data-plane sync (SYNC_BEGIN/END)
 *   attach     a new data plane: fresh ids for every object, nothing sent yet; then resync
 *   withdraw   every route and object of the origin gone, in an empty sync
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fpm_state_int.h"

/* ---------------------------------------------------------------------------------------- */
/* Output */

static void
emit_simple(struct fpm_state *st, uint16_t type)
{
	struct npr_msg_hdr h = { .type = type, .len = sizeof(h) };
	fpm_emit(st, &h);
}

static void
emit_id_del(struct fpm_state *st, uint8_t cls, uint32_t id)
{
	struct npr_msg_id m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = cls == CL_GROUP ? NPR_MSG_GROUP_DEL : NPR_MSG_NH_DEL;
	m.hdr.len = sizeof(m);
	m.id = id;
	fpm_emit(st, &m);
}

/* ---------------------------------------------------------------------------------------- */
/* Flush */

/* Walk every route whose object changed what it offers. */
static void
rescan(struct fpm_state *st)
{
	if (st->n_aff == 0)
		return;
	st->st.rescans++;
	for (int fam = 0; fam < 2; fam++) {
		struct rtab *t = &st->rt[fam];
		for (uint32_t i = 0; i <= t->mask; i++) {
			uint8_t *e = rt_at(t, i);
			if (!(*rt_flags(t, e) & RF_USED))
				continue;
			const struct fo *o = &st->obj[rt_obj(t, e)];
			if (!o->affected)
				continue;
			uint8_t pre = *rt_flags(t, e) & (RF_INST | RF_FAILED);
			fpm_route_settle(st, fam, e, pre, (pre & RF_INST) ? o->prev_target : 0,
					 e[t->alen + 1]);
		}
	}
	for (size_t i = 0; i < st->n_aff; i++)
		st->obj[st->aff[i]].affected = false;
	st->n_aff = 0;
}

static void
free_unused(struct fpm_state *st)
{
	/* freeing a group drops its members' counts: they join the list as it is walked */
	for (size_t i = 0; i < st->n_zero; i++) {
		uint32_t idx = st->zero[i];
		struct fo *o = &st->obj[idx];
		o->on_zero = false;
		if (o->keyk == 0 || o->refs > 0 || (o->keyk == FK_ZEBRA && o->zdef))
			continue;
		fpm_obj_free(st, idx);
	}
	st->n_zero = 0;
}

static void
send_deletions(struct fpm_state *st)
{
	/* groups first: they hold next hops */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < st->n_del; i++) {
			const struct iddel *d = &st->del[i];
			if ((d->cls == CL_GROUP) != (pass == 0))
				continue;
			emit_id_del(st, d->cls, d->id);
			fpm_id_free(fpm_space_of(st, d->cls), d->id);
		}
	st->n_del = 0;
}

void
fpm_state_flush(struct fpm_state *st)
{
	fpm_frames_apply(st);
	rescan(st);
	fpm_rbuf_send(st, 0);
	fpm_rbuf_send(st, 1);
	free_unused(st);
	send_deletions(st);
}

/* ---------------------------------------------------------------------------------------- */
/* Sessions */

bool
fpm_state_replay_open(const struct fpm_state *st)
{
	return st->replay_open;
}

static void
sync_begin(struct fpm_state *st)
{
	fpm_state_flush(st);
	emit_simple(st, NPR_MSG_SYNC_BEGIN);
	st->dp_sync_open = true;
	st->dp_epoch++;
}

void
fpm_state_replay_begin(struct fpm_state *st)
{
	fpm_frame_reset(st);
	sync_begin(st);
	st->replay_open = true;
	st->replay_epoch++;
	st->seen_bit ^= RF_SEEN;
	st->replay_routes = st->replay_objects = 0;
}

void
fpm_state_zebra_lost(struct fpm_state *st)
{
	fpm_frame_reset(st);
	fpm_state_flush(st);
	st->replay_open = false;
}

/* Send every usable object whose last send is from before the data plane's sync (next
 * hops, then groups); delete from the data plane those it holds that are no longer usable
 * (no route uses them any more: groups, then next hops). */
static void
settle_objects(struct fpm_state *st)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 1; i < st->n_obj; i++) {
			struct fo *o = &st->obj[i];
			if (o->keyk == 0 || !o->programmed || (o->type == FO_GROUP) != (pass == 1))
				continue;
			if (o->why == FPM_WHY_OK)
				fpm_ensure_sent(st, (uint32_t)i);
		}
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk != 0 && o->programmed && o->why != FPM_WHY_OK) {
			fpm_defer_del(st, o->cls, o->dpid);
			o->dpid = 0;
			o->cls = CL_NONE;
			o->programmed = false;
		}
	}
	send_deletions(st);
}

static void
sync_end(struct fpm_state *st)
{
	fpm_state_flush(st);
	settle_objects(st);
	emit_simple(st, NPR_MSG_SYNC_END);
	st->dp_sync_open = false;
}

void
fpm_state_replay_end(struct fpm_state *st, struct fpm_sweep *out)
{
	fpm_frame_reset(st);
	struct fpm_sweep sw = { .routes_seen = st->replay_routes,
				.objects_seen = st->replay_objects };
	fpm_state_flush(st);
	/* routes zebra did not replay: the entries after a removed one move into its slot,
	 * so the slot is looked at again */
	for (int fam = 0; fam < 2; fam++) {
		struct rtab *t = &st->rt[fam];
		for (uint32_t i = 0; i <= t->mask;) {
			uint8_t *e = rt_at(t, i);
			uint8_t f = *rt_flags(t, e);
			if (!(f & RF_USED) || (f & RF_SEEN) == st->seen_bit) {
				i++;
				continue;
			}
			if (f & (RF_INST | RF_FAILED))
				fpm_rbuf_add(st, fam, true, e, 0, 0);
			fpm_route_forget(st, fam, i);
			sw.routes_swept++;
		}
	}
	/* zebra's objects it did not replay, unless something still uses them */
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk == FK_ZEBRA && o->zdef && o->zseen != st->replay_epoch &&
		    o->refs == 0) {
			o->zdef = false;
			fpm_zero_push(st, (uint32_t)i);
			sw.objects_swept++;
		}
	}
	st->st.swept_routes += sw.routes_swept;
	st->st.swept_objects += sw.objects_swept;
	sync_end(st);
	st->replay_open = false;
	if (out != NULL)
		*out = sw;
}

static void
mirror_clear(struct fpm_state *st)
{
	for (int fam = 0; fam < 2; fam++) {
		struct rtab *t = &st->rt[fam];
		memset(t->e, 0, ((size_t)t->mask + 1) * t->esize);
		t->n = 0;
		st->st.routes[fam] = 0;
	}
	for (size_t i = 1; i < st->n_obj; i++)
		free(st->obj[i].mb);
	st->n_obj = 1;
	st->n_free = 0;
	if (st->map.s != NULL)
		memset(st->map.s, 0, ((size_t)st->map.mask + 1) * sizeof(st->map.s[0]));
	st->map.n = 0;
	memset(st->special, 0, sizeof(st->special));
	st->last_zobj = 0;
	st->n_zero = st->n_aff = st->n_del = 0;
	memset(st->st.why, 0, sizeof(st->st.why));
	st->st.objects = st->st.zebra_objects = 0;
	for (int k = 0; k < 2; k++) {
		struct idspace *s = &st->ids[k];
		memset(s->used, 0, (s->max + 63) / 64 * sizeof(uint64_t));
		s->hint = 1;
	}
}

uint64_t
fpm_state_withdraw_all(struct fpm_state *st)
{
	uint64_t n = st->st.routes[0] + st->st.routes[1];
	fpm_frame_reset(st);
	fpm_state_flush(st);
	/* nothing between: the data plane removes every object of our origin */
	emit_simple(st, NPR_MSG_SYNC_BEGIN);
	emit_simple(st, NPR_MSG_SYNC_END);
	st->dp_sync_open = false;
	st->replay_open = false;
	st->rb[0].n = st->rb[1].n = 0;
	mirror_clear(st);
	st->st.withdrawn_routes += n;
	return n;
}

int
fpm_state_attach(struct fpm_state *st, uint32_t nh_max, uint32_t group_max,
		 const uint32_t *nh_taken, size_t n_nh, const uint32_t *group_taken, size_t n_group)
{
	/* the frames gathered change the mirror; what they would send, and what was gathered
	 * or owed, was for the old data plane */
	st->mute = true;
	fpm_frame_reset(st);
	rescan(st);
	free_unused(st);
	st->mute = false;
	uint32_t max[2] = { nh_max != 0 ? nh_max : st->ids[0].max,
			    group_max != 0 ? group_max : st->ids[1].max };
	for (int k = 0; k < 2; k++) {
		if (fpm_ids_size(&st->ids[k], max[k]) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_nh; i++)
		if (nh_taken[i] != 0 && nh_taken[i] < max[0])
			fpm_id_set(st->ids[0].resv, nh_taken[i], true);
	for (size_t i = 0; i < n_group; i++)
		if (group_taken[i] != 0 && group_taken[i] < max[1])
			fpm_id_set(st->ids[1].resv, group_taken[i], true);
	st->rb[0].n = st->rb[1].n = 0;
	st->rb[0].type = st->rb[1].type = 0;
	st->n_del = 0;
	st->dp_sync_open = false;
	st->dp_epoch++;
	for (size_t i = 0; i < st->n_aff; i++)
		st->obj[st->aff[i]].affected = false;
	st->n_aff = 0;
	/* every object: no id, interface looked up again, evaluated (next hops before groups),
	 * nothing sent */
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk == 0)
			continue;
		o->dpid = 0;
		o->cls = CL_NONE;
		o->programmed = false;
		o->refused = false;
		if (o->type == FO_NH && o->kind == NPR_NH_FORWARD) {
			struct fpm_nh nh = o->nh;
			fpm_nh_define(st, o, &nh);
		}
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 1; i < st->n_obj; i++) {
			struct fo *o = &st->obj[i];
			if (o->keyk == 0 || (o->type == FO_GROUP) != (pass == 1))
				continue;
			uint8_t why, flags;
			fpm_obj_eval(st, o, &why, &flags);
			o->why = why;
			o->flags = flags;
			if (why == FPM_WHY_OK) {
				uint8_t cls = fpm_obj_cls(o);
				o->dpid = fpm_id_alloc(fpm_space_of(st, cls));
				if (o->dpid == 0)
					o->why = FPM_WHY_NO_ID;
				else
					o->cls = cls;
			}
		}
	for (int fam = 0; fam < 2; fam++) {
		struct rtab *t = &st->rt[fam];
		for (uint32_t i = 0; i <= t->mask; i++) {
			uint8_t *f = rt_flags(t, rt_at(t, i));
			*f &= (uint8_t) ~(RF_INST | RF_FAILED);
		}
	}
	return 0;
}

uint64_t
fpm_state_resync(struct fpm_state *st)
{
	uint64_t n = 0;
	sync_begin(st);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 1; i < st->n_obj; i++) {
			struct fo *o = &st->obj[i];
			if (o->keyk != 0 && o->why == FPM_WHY_OK &&
			    (o->type == FO_GROUP) == (pass == 1) && o->sent_epoch != st->dp_epoch)
				fpm_obj_send(st, (uint32_t)i);
		}
	for (int fam = 0; fam < 2; fam++) {
		struct rtab *t = &st->rt[fam];
		for (uint32_t i = 0; i <= t->mask; i++) {
			uint8_t *e = rt_at(t, i);
			if (!(*rt_flags(t, e) & RF_USED))
				continue;
			fpm_route_settle(st, fam, e, 0, 0, 0);
			if (*rt_flags(t, e) & RF_INST)
				n++;
		}
	}
	fpm_state_flush(st);
	if (!st->replay_open)
		sync_end(st);
	return n;
}

void
fpm_state_ifaces_changed(struct fpm_state *st)
{
	fpm_frames_apply(st);
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk == 0 || o->type != FO_NH || o->kind != NPR_NH_FORWARD)
			continue;
		int16_t old = o->ifid;
		struct fpm_nh nh = o->nh;
		fpm_nh_define(st, o, &nh);
		if (st->obj[i].ifid != old)
			fpm_obj_update(st, (uint32_t)i, true);
	}
}

void
fpm_state_sync_done(struct fpm_state *st, int status)
{
	if (status != 0)
		return;
	for (int k = 0; k < 2; k++) {
		struct idspace *s = &st->ids[k];
		memset(s->resv, 0, (s->max + 63) / 64 * sizeof(uint64_t));
	}
}
