/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's next-hop objects and their data-plane ids: the part of the mirror
 * (fpm_state.h) that follows the data plane's next-hop model. The routes, frames and sessions
 * that use them are fpm_state.c's; what both files share is in fpm_state_int.h. Layers:
 *
 *   ids        our data-plane ids: bitmaps of used and reserved ids, next-fit allocation
 *   objects    next-hop objects (zebra's, inline ones, the special kinds), keyed by an
 *              open-addressing map; evaluation (usable or why not), programming, references
 *
 * Memory: an object ~80 bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/util.h"
#include "fpm_state_int.h"
#include "grow.h"

/* ---------------------------------------------------------------------------------------- */
/* Types */

struct okey {
	uint8_t keyk;
	uint8_t type; /* FK_INLINE: FO_NH or FO_GROUP */
	uint32_t zid;
	const struct fpm_nh *nh;
	const struct fo_member *mb;
	uint16_t n_mb;
};

/* ---------------------------------------------------------------------------------------- */
/* Ids */

int
fpm_ids_size(struct idspace *s, uint32_t max)
{
	size_t words = (max + 63) / 64;
	uint64_t *u = calloc(words, sizeof(*u)), *r = calloc(words, sizeof(*r));
	if (u == NULL || r == NULL) {
		free(u);
		free(r);
		return -ENOMEM;
	}
	free(s->used);
	free(s->resv);
	s->used = u;
	s->resv = r;
	s->max = max;
	s->hint = 1;
	return 0;
}

bool
fpm_id_test(const uint64_t *b, uint32_t id)
{
	return (b[id / 64] >> (id % 64)) & 1;
}

void
fpm_id_set(uint64_t *b, uint32_t id, bool on)
{
	if (on)
		b[id / 64] |= 1ull << (id % 64);
	else
		b[id / 64] &= ~(1ull << (id % 64));
}

/* Next fit from the hint: an id just freed is used again only after every other free one,
 * so that a deletion the data plane refuses (its answer comes later) rarely meets a new
 * object with its id. 0 if none is free. */
uint32_t
fpm_id_alloc(struct idspace *s)
{
	uint32_t n = s->max, words = (n + 63) / 64;
	if (n < 2)
		return 0;
	uint32_t id = s->hint < n && s->hint != 0 ? s->hint : 1;
	uint32_t w = id / 64;
	/* every word once from the hint's, then the hint's word again for the ids below it */
	for (uint32_t k = 0; k <= words; k++) {
		uint64_t busy = s->used[w] | s->resv[w];
		if (w == 0)
			busy |= 1; /* id 0 */
		if (k == 0)
			busy |= (1ull << (id % 64)) - 1;
		if (busy != ~0ull) {
			uint32_t got = w * 64 + (uint32_t)__builtin_ctzll(~busy);
			if (got < n) {
				fpm_id_set(s->used, got, true);
				s->hint = got + 1;
				return got;
			}
		}
		w = w + 1 == words ? 0 : w + 1;
	}
	return 0;
}

void
fpm_id_free(struct idspace *s, uint32_t id)
{
	if (id != 0 && id < s->max)
		fpm_id_set(s->used, id, false);
}

struct idspace *
fpm_space_of(struct fpm_state *st, uint8_t cls)
{
	return &st->ids[cls == CL_GROUP ? 1 : 0];
}

/* ---------------------------------------------------------------------------------------- */
/* Object map */

static uint32_t
okey_hash(const struct okey *k)
{
	uint8_t b[8 + 24 + NPR_GROUP_MAX_MEMBERS * 8];
	size_t n = 0;
	b[n++] = k->keyk;
	b[n++] = k->type;
	memcpy(b + n, &k->zid, 4);
	n += 4;
	if (k->nh != NULL) {
		memcpy(b + n, &k->nh->ifindex, 4);
		n += 4;
		b[n++] = k->nh->family;
		b[n++] = k->nh->onlink;
		memcpy(b + n, k->nh->gw, 16);
		n += 16;
	}
	for (unsigned i = 0; i < k->n_mb; i++) {
		memcpy(b + n, &k->mb[i].obj, 4);
		memcpy(b + n + 4, &k->mb[i].weight, 2);
		n += 6;
	}
	uint64_t h = npr_hash(b, n, 0x66706d);
	return (uint32_t)(h >> 32) | 1u; /* never 0 */
}

static bool
okey_eq(const struct fo *o, const struct okey *k)
{
	if (o->keyk != k->keyk)
		return false;
	if (k->keyk != FK_INLINE)
		return o->zid == k->zid;
	if (o->type != k->type)
		return false;
	if (k->type == FO_NH)
		return o->nh.ifindex == k->nh->ifindex && o->nh.family == k->nh->family &&
		       o->nh.onlink == k->nh->onlink && memcmp(o->nh.gw, k->nh->gw, 16) == 0;
	if (o->n_mb != k->n_mb)
		return false;
	for (unsigned i = 0; i < k->n_mb; i++)
		if (o->mb[i].obj != k->mb[i].obj || o->mb[i].weight != k->mb[i].weight)
			return false;
	return true;
}

static uint32_t
omap_find(const struct fpm_state *st, const struct okey *k, uint32_t h)
{
	const struct omap *m = &st->map;
	if (m->s == NULL)
		return 0;
	for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
		if (m->s[i].idx == 0)
			return 0;
		if (m->s[i].h == h && okey_eq(&st->obj[m->s[i].idx], k))
			return m->s[i].idx;
	}
}

static int
omap_insert(struct omap *m, uint32_t h, uint32_t idx)
{
	if (m->s == NULL || (m->n + 1) * 4ull > ((uint64_t)m->mask + 1) * 3) {
		uint32_t cap = m->s == NULL ? 256 : (m->mask + 1) * 2;
		__typeof__(m->s) s = calloc(cap, sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		if (m->s != NULL)
			for (uint32_t i = 0; i <= m->mask; i++) {
				if (m->s[i].idx == 0)
					continue;
				uint32_t j = m->s[i].h & (cap - 1);
				while (s[j].idx != 0)
					j = (j + 1) & (cap - 1);
				s[j] = m->s[i];
			}
		free(m->s);
		m->s = s;
		m->mask = cap - 1;
	}
	uint32_t i = h & m->mask;
	while (m->s[i].idx != 0)
		i = (i + 1) & m->mask;
	m->s[i].idx = idx;
	m->s[i].h = h;
	m->n++;
	return 0;
}

static void
omap_remove(struct omap *m, uint32_t h, uint32_t idx)
{
	uint32_t i = h & m->mask;
	while (m->s[i].idx != idx) {
		if (m->s[i].idx == 0)
			return;
		i = (i + 1) & m->mask;
	}
	/* backward shift: move later entries of the cluster into the hole when their home
	 * slot allows it */
	for (uint32_t j = (i + 1) & m->mask;; j = (j + 1) & m->mask) {
		if (m->s[j].idx == 0)
			break;
		uint32_t home = m->s[j].h & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->s[i] = m->s[j];
			i = j;
		}
	}
	m->s[i].idx = 0;
	m->n--;
}

/* ---------------------------------------------------------------------------------------- */
/* Objects: life */

void
fpm_zero_push(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	if (o->on_zero ||
	    grow_array(&st->zero, &st->cap_zero, st->n_zero + 1, sizeof(uint32_t)) < 0)
		return;
	o->on_zero = true;
	st->zero[st->n_zero++] = idx;
}

void
fpm_ref(struct fpm_state *st, uint32_t idx)
{
	st->obj[idx].refs++;
}

void
fpm_unref(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	if (o->refs > 0 && --o->refs == 0)
		fpm_zero_push(st, idx);
}

/* A new object with key k (not in the map): refs 0, on the zero list. 0 if out of memory. */
static uint32_t
obj_new(struct fpm_state *st, const struct okey *k, uint32_t h)
{
	uint32_t idx;
	if (st->n_free > 0) {
		idx = st->free_obj[--st->n_free];
	} else {
		if (grow_array(&st->obj, &st->cap_obj, st->n_obj + 1, sizeof(struct fo)) < 0)
			return 0;
		idx = (uint32_t)st->n_obj++;
	}
	if (omap_insert(&st->map, h, idx) < 0) {
		if (grow_array(&st->free_obj, &st->cap_free, st->n_free + 1, sizeof(uint32_t)) == 0)
			st->free_obj[st->n_free++] = idx;
		return 0;
	}
	struct fo *o = &st->obj[idx];
	memset(o, 0, sizeof(*o));
	o->keyk = k->keyk;
	o->type = FO_UNDEF;
	o->why = FPM_WHY_PENDING;
	o->zid = k->zid;
	o->hash = h;
	o->ifid = -1;
	st->st.objects++;
	if (k->keyk == FK_ZEBRA)
		st->st.zebra_objects++;
	fpm_zero_push(st, idx);
	return idx;
}

void
fpm_defer_del(struct fpm_state *st, uint8_t cls, uint32_t id)
{
	if (grow_array(&st->del, &st->cap_del, st->n_del + 1, sizeof(*st->del)) < 0) {
		fpm_id_free(fpm_space_of(st, cls), id); /* the sweep will remove it */
		return;
	}
	st->del[st->n_del++] = (struct iddel){ cls, id };
}

/* Forget the object's data-plane id: deleted after the routes moved away if it was sent. */
static void
obj_drop_id(struct fpm_state *st, struct fo *o)
{
	if (o->dpid != 0) {
		if (o->programmed)
			fpm_defer_del(st, o->cls, o->dpid);
		else
			fpm_id_free(fpm_space_of(st, o->cls), o->dpid);
	}
	o->dpid = 0;
	o->cls = CL_NONE;
	o->programmed = false;
}

void
fpm_obj_clear_members(struct fpm_state *st, struct fo *o)
{
	struct fo_member *mb = o->mb;
	uint16_t n = o->n_mb;
	o->mb = NULL;
	o->n_mb = 0;
	for (unsigned i = 0; i < n; i++)
		fpm_unref(st, mb[i].obj);
	free(mb);
}

void
fpm_obj_free(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	obj_drop_id(st, o);
	fpm_obj_clear_members(st, &st->obj[idx]);
	o = &st->obj[idx];
	omap_remove(&st->map, o->hash, idx);
	st->st.objects--;
	if (o->keyk == FK_ZEBRA)
		st->st.zebra_objects--;
	if (o->keyk == FK_SPECIAL)
		st->special[o->zid] = 0;
	if (st->last_zobj == idx)
		st->last_zobj = 0;
	o->keyk = 0;
	if (grow_array(&st->free_obj, &st->cap_free, st->n_free + 1, sizeof(uint32_t)) == 0)
		st->free_obj[st->n_free++] = idx;
}

/* ---------------------------------------------------------------------------------------- */
/* Objects: what they are worth */

uint32_t
fpm_obj_target(const struct fo *o)
{
	if (o->why != FPM_WHY_OK)
		return 0;
	return o->cls == CL_GROUP ? NPR_TARGET_GROUP | o->dpid : o->dpid;
}

uint8_t
fpm_obj_cls(const struct fo *o)
{
	if (o->type == FO_GROUP)
		return CL_GROUP;
	if (o->type == FO_NH)
		return o->kind == NPR_NH_FORWARD ? CL_NH_FWD : CL_NH_OTHER;
	return CL_NONE;
}

static bool
is_v4ll_stand_in(const struct fpm_nh *nh)
{
	static const uint8_t a[4] = { 169, 254, 0, 1 };
	return nh->family == NPR_AF_INET && nh->onlink && memcmp(nh->gw, a, 4) == 0;
}

/* Usable or why not, and the flags of its next hops; no id considered. */
void
fpm_obj_eval(const struct fpm_state *st, const struct fo *o, uint8_t *why, uint8_t *flags)
{
	*flags = 0;
	*why = FPM_WHY_OK;
	if (o->type == FO_UNDEF) {
		*why = FPM_WHY_PENDING;
		return;
	}
	if (o->type == FO_NH) {
		if (o->kind != NPR_NH_FORWARD)
			return;
		*flags = o->nh.family == NPR_AF_INET	? OF_GW4
			 : o->nh.family == NPR_AF_INET6 ? OF_GW6
							: OF_NOGW;
		if (is_v4ll_stand_in(&o->nh))
			*flags |= OF_V4LL;
		if (o->ifid < 0)
			*why = FPM_WHY_NO_IFACE;
		else if (o->refused)
			*why = FPM_WHY_REJECTED;
		return;
	}
	uint8_t f = OF_NOGW, w = FPM_WHY_OK;
	for (unsigned i = 0; i < o->n_mb; i++) {
		const struct fo *m = &st->obj[o->mb[i].obj];
		uint8_t mw = m->why;
		if (m->type == FO_UNDEF)
			mw = FPM_WHY_PENDING;
		else if (m->type != FO_NH || m->kind != NPR_NH_FORWARD)
			mw = FPM_WHY_GROUP;
		/* the first member's trouble, a pending one before any other */
		if (w == FPM_WHY_OK || (mw == FPM_WHY_PENDING && w != FPM_WHY_PENDING))
			w = mw;
		if (m->type == FO_NH)
			f = (uint8_t)((f & (m->flags | ~OF_NOGW)) | (m->flags & ~OF_NOGW));
	}
	*flags = f;
	*why = o->refused && w == FPM_WHY_OK ? FPM_WHY_REJECTED : w;
}

/* Weights that fit the data plane's group: each 1..256 already; the sum at most
 * NPR_GROUP_MAX_SLOTS, scaled down in proportion if needed, each kept >= 1. */
static bool
scale_weights(const struct fo_member *mb, unsigned n, uint16_t *w)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += mb[i].weight;
	if (sum <= NPR_GROUP_MAX_SLOTS) {
		for (unsigned i = 0; i < n; i++)
			w[i] = mb[i].weight;
		return false;
	}
	/* room for the ones raised to 1: sum(floor) <= budget, + at most n */
	uint32_t budget = NPR_GROUP_MAX_SLOTS - n;
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = (uint32_t)mb[i].weight * budget / sum;
		w[i] = (uint16_t)(s < 1 ? 1 : s);
	}
	return true;
}

/* While the data plane's sync is open, an object used by what we send must have been sent
 * in it too, or SYNC_END removes it (and fails: it is in use). */
void
fpm_ensure_sent(struct fpm_state *st, uint32_t idx)
{
	const struct fo *o = &st->obj[idx];
	if (st->dp_sync_open && o->programmed && o->why == FPM_WHY_OK &&
	    o->sent_epoch != st->dp_epoch)
		fpm_obj_send(st, idx);
}

/* NH_SET / GROUP_SET of a usable object with its id. */
void
fpm_obj_send(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	if (o->type == FO_NH) {
		struct npr_msg_nh_set m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = NPR_MSG_NH_SET;
		m.hdr.len = sizeof(m);
		m.nh_id = o->dpid;
		m.kind = o->kind;
		if (o->kind == NPR_NH_FORWARD) {
			m.family = o->nh.family;
			m.ifid = (uint16_t)o->ifid;
			memcpy(m.gw, o->nh.gw, 16);
		}
		fpm_emit(st, &m);
	} else {
		_Alignas(8) uint8_t buf[sizeof(struct npr_msg_group_set) +
					NPR_GROUP_MAX_MEMBERS * sizeof(struct npr_group_member)];
		struct npr_msg_group_set *m = (struct npr_msg_group_set *)buf;
		uint16_t w[NPR_GROUP_MAX_MEMBERS];
		unsigned n = o->n_mb;
		for (unsigned i = 0; i < n; i++)
			fpm_ensure_sent(st, o->mb[i].obj);
		o = &st->obj[idx];
		if (scale_weights(o->mb, n, w))
			st->st.weights_scaled++;
		memset(buf, 0, sizeof(buf));
		m->hdr.type = NPR_MSG_GROUP_SET;
		m->hdr.len = (uint32_t)(sizeof(*m) + n * sizeof(m->members[0]));
		m->group_id = o->dpid;
		m->n_members = (uint16_t)n;
		for (unsigned i = 0; i < n; i++) {
			struct npr_group_member gm = { .nh_id = st->obj[o->mb[i].obj].dpid,
						       .weight = w[i] };
			memcpy(&m->members[i], &gm, sizeof(gm));
		}
		fpm_emit(st, m);
	}
	o->programmed = true;
	o->sent_epoch = st->dp_epoch;
}

/* The object's routes must be walked again at the next flush. */
static void
mark_affected(struct fpm_state *st, uint32_t idx, uint32_t prev_target)
{
	struct fo *o = &st->obj[idx];
	if (o->affected || grow_array(&st->aff, &st->cap_aff, st->n_aff + 1, sizeof(uint32_t)) < 0)
		return;
	o->affected = true;
	o->prev_target = prev_target;
	st->aff[st->n_aff++] = idx;
}

/* Groups holding member m see their member change. */
static void
update_dependents(struct fpm_state *st, uint32_t m, bool id_changed)
{
	for (size_t i = 1; i < st->n_obj; i++) {
		const struct fo *g = &st->obj[i];
		if (g->keyk == 0 || g->type != FO_GROUP)
			continue;
		for (unsigned k = 0; k < g->n_mb; k++)
			if (g->mb[k].obj == m) {
				fpm_obj_update(st, (uint32_t)i, id_changed && g->programmed);
				break;
			}
	}
}

/* Evaluate the object again (its definition, or a member, changed); give it an id and send
 * it when usable (send: even if it was sent already, because its content changed). When
 * what its routes see changes (usable, target, flags), they are walked at the next flush
 * and the groups holding it are updated. */
void
fpm_obj_update(struct fpm_state *st, uint32_t idx, bool send)
{
	struct fo *o = &st->obj[idx];
	uint8_t why, flags;
	uint8_t old_why = o->why, old_flags = o->flags;
	uint32_t old_target = fpm_obj_target(o);

	fpm_obj_eval(st, o, &why, &flags);
	uint8_t cls = fpm_obj_cls(o);
	bool id_changed = false;
	if (o->dpid != 0 && cls != CL_NONE && cls != o->cls) {
		obj_drop_id(st, o); /* another kind of id: the old one goes after the routes */
		id_changed = true;
	}
	if (why == FPM_WHY_OK && o->dpid == 0) {
		o->dpid = fpm_id_alloc(fpm_space_of(st, cls));
		if (o->dpid == 0) {
			why = FPM_WHY_NO_ID;
			char key[FPM_ONCE_KEYLEN];
			snprintf(key, sizeof(key), "no id %s", cls == CL_GROUP ? "group" : "nh");
			fpm_slog(st, key,
				 "no free %s id in the data plane (%u): routes over new next hops "
				 "are not installed",
				 cls == CL_GROUP ? "group" : "next hop",
				 fpm_space_of(st, cls)->max - 1);
		} else {
			o->cls = cls;
			id_changed = true;
		}
	}
	o->why = why;
	o->flags = flags;
	/* what the data plane holds of an object that was not usable may be out of date */
	if (why == FPM_WHY_OK && (send || !o->programmed || old_why != FPM_WHY_OK))
		fpm_obj_send(st, idx);
	o = &st->obj[idx];
	if (o->why == old_why && o->flags == old_flags && fpm_obj_target(o) == old_target)
		return;
	if (o->refs > 0)
		mark_affected(st, idx, old_target);
	if (o->type != FO_GROUP)
		update_dependents(st, idx, id_changed);
}

/* ---------------------------------------------------------------------------------------- */
/* Objects: finding them */

uint32_t
fpm_get_zebra(struct fpm_state *st, uint32_t zid)
{
	if (st->last_zobj != 0 && st->last_zid == zid)
		return st->last_zobj;
	struct okey k = { .keyk = FK_ZEBRA, .zid = zid };
	uint32_t h = okey_hash(&k);
	uint32_t idx = omap_find(st, &k, h);
	if (idx == 0)
		idx = obj_new(st, &k, h);
	st->last_zid = zid;
	st->last_zobj = idx;
	return idx;
}

uint32_t
fpm_find_zebra(struct fpm_state *st, uint32_t zid)
{
	struct okey k = { .keyk = FK_ZEBRA, .zid = zid };
	return omap_find(st, &k, okey_hash(&k));
}

static uint32_t
get_special(struct fpm_state *st, uint8_t kind)
{
	if (st->special[kind] != 0)
		return st->special[kind];
	struct okey k = { .keyk = FK_SPECIAL, .zid = kind };
	uint32_t idx = obj_new(st, &k, okey_hash(&k));
	if (idx == 0)
		return 0;
	st->obj[idx].type = FO_NH;
	st->obj[idx].kind = kind;
	st->special[kind] = idx;
	fpm_obj_update(st, idx, true);
	return idx;
}

void
fpm_nh_define(struct fpm_state *st, struct fo *o, const struct fpm_nh *nh)
{
	o->type = FO_NH;
	o->kind = NPR_NH_FORWARD;
	o->nh = *nh;
	o->nh.weight = 1;
	o->ifid = -1;
	if (nh->ifindex != 0) {
		int id = st->sink.ifid(st->sink.ctx, nh->ifindex);
		if (id >= 0 && id < (int)NPR_MAX_IFACES)
			o->ifid = (int16_t)id;
	}
}

static uint32_t
get_inline_nh(struct fpm_state *st, const struct fpm_nh *nh)
{
	struct okey k = { .keyk = FK_INLINE, .type = FO_NH, .nh = nh };
	uint32_t h = okey_hash(&k);
	uint32_t idx = omap_find(st, &k, h);
	if (idx != 0)
		return idx;
	idx = obj_new(st, &k, h);
	if (idx == 0)
		return 0;
	fpm_nh_define(st, &st->obj[idx], nh);
	fpm_obj_update(st, idx, true);
	return idx;
}

static int
cmp_member(const void *a, const void *b)
{
	const struct fo_member *x = a, *y = b;
	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

static uint32_t
get_inline_group(struct fpm_state *st, const struct fpm_nh *nh, unsigned n)
{
	struct fo_member mb[NPR_GROUP_MAX_MEMBERS];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t m = get_inline_nh(st, &nh[i]);
		if (m == 0)
			return 0;
		unsigned j = 0;
		while (j < k && mb[j].obj != m)
			j++;
		if (j < k) { /* the same next hop twice: one member, the weights added */
			uint32_t w = (uint32_t)mb[j].weight + nh[i].weight;
			mb[j].weight =
				(uint16_t)(w > NPR_GROUP_MAX_WEIGHT ? NPR_GROUP_MAX_WEIGHT : w);
			continue;
		}
		mb[k++] = (struct fo_member){ .obj = m, .weight = nh[i].weight };
	}
	if (k == 1) /* the list was one next hop, repeated */
		return mb[0].obj;
	qsort(mb, k, sizeof(mb[0]), cmp_member);
	struct okey key = { .keyk = FK_INLINE, .type = FO_GROUP, .mb = mb, .n_mb = (uint16_t)k };
	uint32_t h = okey_hash(&key);
	uint32_t idx = omap_find(st, &key, h);
	if (idx != 0)
		return idx;
	struct fo_member *copy = malloc(k * sizeof(*copy));
	if (copy == NULL)
		return 0;
	memcpy(copy, mb, k * sizeof(*copy));
	idx = obj_new(st, &key, h);
	if (idx == 0) {
		free(copy);
		return 0;
	}
	struct fo *o = &st->obj[idx];
	o->type = FO_GROUP;
	o->mb = copy;
	o->n_mb = (uint16_t)k;
	for (unsigned i = 0; i < k; i++)
		fpm_ref(st, copy[i].obj);
	fpm_obj_update(st, idx, true);
	return idx;
}

/* The object a route event forwards by (not referenced yet), 0 if out of memory. */
uint32_t
fpm_route_obj(struct fpm_state *st, const struct fpm_route *r)
{
	if (r->kind != NPR_NH_FORWARD)
		return get_special(st, r->kind);
	if (r->nh_id != 0)
		return fpm_get_zebra(st, r->nh_id);
	if (r->n_nh == 1)
		return get_inline_nh(st, &r->nh[0]);
	return get_inline_group(st, r->nh, r->n_nh);
}
