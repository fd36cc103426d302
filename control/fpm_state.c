/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's mirror and its mapping onto data-plane objects (fpm_state.h): zebra's
 * routes and its stream applied frame by frame. The next-hop objects the routes forward by,
 * and their ids, are fpm_objects.c's; the flush and the sessions with zebra and the data
 * plane (replay, attach, resync, withdrawal) are fpm_session.c's; what the files share is in
 * fpm_state_int.h. Layers:
 *
 *   routes     two tables (IPv4, IPv6) of compact entries (fpm_rtab.h: layout below)
 *   output     route messages gathered per family
 *   frames     a frame's events copied as they come; whole frames gathered (64) and applied
 *              in order, each with its net effect, the table slots of the ones ahead
 *              prefetched (a lookup in a full table is a cache miss)
 *   refusals   what a refused message means for the routes and objects it named
 *
 * Memory: 12 bytes an IPv4 route (24 IPv6) in a table at most 3/4 full, sized in powers of
 * two: 25-34 bytes a route (28 for the full table).
 *
 * Route entries are laid out in fpm_rtab.h (the tables). Their flags: RF_USED, RF_INST (we
 * sent it; the data plane has it with the object's target), RF_FAILED (an ADD was refused:
 * the data plane may still hold an older target), RF_SEEN (replayed in the current replay
 * when equal to st->seen_bit). The installed target is not
 * stored: an object keeps its data-plane id for life, so it is the object's; when an
 * object's id or usability changes, the routes using it are walked again (rescan).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "npr/addr.h"
#include "npr/util.h"
#include "fpm_state_int.h"
#include "grow.h"

#define DEFAULT_NH_MAX 65536u
#define DEFAULT_GROUP_MAX 4096u

/* ---------------------------------------------------------------------------------------- */
/* Saying things once */

bool
fpm_once_hit(struct fpm_once *o, const char *key, uint64_t *count)
{
	unsigned i;
	for (i = 0; i < o->n; i++)
		if (strncmp(o->k[i].key, key, FPM_ONCE_KEYLEN - 1) == 0)
			break;
	if (i == o->n) {
		if (o->n < FPM_ONCE_KEYS) {
			o->n++;
			snprintf(o->k[i].key, sizeof(o->k[i].key), "%s", key);
			o->k[i].count = 0;
		} else {
			i = FPM_ONCE_KEYS - 1;
		}
	}
	uint64_t n = ++o->k[i].count;
	if (count != NULL)
		*count = n;
	return n == 1 || n % FPM_ONCE_EVERY == 0;
}

unsigned
fpm_distance(uint8_t protocol)
{
	switch (protocol) {
	case 196: /* FRR's RTPROT_ZSTATIC: zebra's static routes */
	case RTPROT_STATIC:
		return 1;
	case RTPROT_BGP:
		return 20;
	case RTPROT_EIGRP:
		return 90;
	case RTPROT_BABEL:
		return 100;
	case RTPROT_OSPF:
		return 110;
	case RTPROT_ISIS:
	case 197: /* FRR's RTPROT_OPENFABRIC */
		return 115;
	case RTPROT_RIP:
	case 190: /* FRR's RTPROT_RIPNG */
		return 120;
	}
	return FPM_DISTANCE_OTHER;
}

const char *
fpm_why_name(enum fpm_why w)
{
	static const char *const n[] = {
		[FPM_WHY_OK] = "installed",	      [FPM_WHY_PENDING] = "pending",
		[FPM_WHY_NO_IFACE] = "no interface",  [FPM_WHY_RFC5549] = "ipv4 over ipv6",
		[FPM_WHY_FAMILY] = "family mismatch", [FPM_WHY_CONNECTED] = "connected",
		[FPM_WHY_GROUP] = "bad group",	      [FPM_WHY_NO_ID] = "no free id",
		[FPM_WHY_REJECTED] = "refused",
	};
	return w < FPM_WHY_MAX ? n[w] : "?";
}

/* ---------------------------------------------------------------------------------------- */
/* Types */

/* a route touched in the current frame, as it was before */
struct touch {
	uint8_t fam; /* 0 IPv4, 1 IPv6 */
	uint8_t key[17];
	uint8_t pre_flags; /* RF_INST / RF_FAILED */
	uint8_t pre_proto;
	uint32_t pre_target;
	int64_t slot; /* where it is now (-1: gone), valid while the table's moves is */
	uint64_t moves;
};

struct fev {
	uint8_t type; /* 1 route, 2 next hop */
	size_t off, len;
};

/* ---------------------------------------------------------------------------------------- */
/* Logging */

/* Say it the first time for key, then every FPM_ONCE_EVERY times with the count. */
void
fpm_slog(struct fpm_state *st, const char *key, const char *fmt, ...)
{
	uint64_t n;
	if (!fpm_once_hit(&st->once, key, &n))
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 1 && len > 0 && (size_t)len < sizeof(line))
		snprintf(line + len, sizeof(line) - (size_t)len, " (%" PRIu64 " times)", n);
	st->sink.log(st->sink.ctx, line);
}

/* ---------------------------------------------------------------------------------------- */
/* Output */

static unsigned
rt_max(int fam)
{
	return fam == 0 ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
}

/* Hand on the route message gathered for fam, if any. */
void
fpm_rbuf_send(struct fpm_state *st, int fam)
{
	struct rbuf *b = &st->rb[fam];
	if (b->n == 0)
		return;
	size_t esz = fam == 0 ? sizeof(struct npr_route4) : sizeof(struct npr_route6);
	size_t len = sizeof(struct npr_msg_route4) + b->n * esz;
	size_t padded = (len + 7) & ~(size_t)7;
	struct npr_msg_route4 *m = (struct npr_msg_route4 *)b->m;
	memset(b->m + len, 0, padded - len);
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->hdr.type = b->type;
	m->hdr.len = (uint32_t)padded;
	m->count = b->n;
	m->reserved = 0;
	fpm_emit(st, m);
	b->n = 0;
	b->type = 0;
}

/* Add one route entry (target 0 for DEL) to fam's message. */
void
fpm_rbuf_add(struct fpm_state *st, int fam, bool del, const uint8_t *key, uint8_t proto,
	     uint32_t target)
{
	struct rbuf *b = &st->rb[fam];
	uint16_t type = fam == 0 ? (del ? NPR_MSG_ROUTE4_DEL : NPR_MSG_ROUTE4_ADD)
				 : (del ? NPR_MSG_ROUTE6_DEL : NPR_MSG_ROUTE6_ADD);
	/* one operation per message, in the order they happen */
	if (b->n > 0 && b->type != type)
		fpm_rbuf_send(st, fam);
	b->type = type;
	uint8_t *p = b->m + sizeof(struct npr_msg_route4);
	if (fam == 0) {
		struct npr_route4 r = { .plen = key[4] };
		memcpy(&r.prefix, key, 4);
		if (!del) {
			r.proto = proto;
			r.distance = (uint8_t)fpm_distance(proto);
			r.target = target;
		}
		memcpy(p + b->n * sizeof(r), &r, sizeof(r));
	} else {
		struct npr_route6 r = { .plen = key[16] };
		memcpy(r.prefix, key, 16);
		if (!del) {
			r.proto = proto;
			r.distance = (uint8_t)fpm_distance(proto);
			r.target = target;
		}
		memcpy(p + b->n * sizeof(r), &r, sizeof(r));
	}
	b->n++;
	if (del)
		st->st.route_dels++;
	else
		st->st.route_adds++;
	if (b->n == rt_max(fam))
		fpm_rbuf_send(st, fam);
}

/* ---------------------------------------------------------------------------------------- */
/* Routes */

static void
set_why(struct fpm_state *st, const struct rtab *t, uint8_t *e, uint8_t why)
{
	uint8_t *w = e + t->alen + 3;
	st->st.why[*w]--;
	st->st.why[why]++;
	*w = why;
}

/* Remove a route whose data-plane side is settled; drops its reference. */
void
fpm_route_forget(struct fpm_state *st, int fam, uint32_t slot)
{
	struct rtab *t = &st->rt[fam];
	uint8_t *e = rt_at(t, slot);
	uint32_t obj = rt_obj(t, e);
	st->st.why[e[t->alen + 3]]--;
	st->st.routes[fam]--;
	rt_remove(t, slot);
	if (obj != 0)
		fpm_unref(st, obj);
}

/* Why the route is not installable, or OK with its target. */
static uint8_t
route_eval(const struct fpm_state *st, int fam, const uint8_t *e, uint32_t *target)
{
	const struct rtab *t = &st->rt[fam];
	const struct fo *o = &st->obj[rt_obj(t, e)];
	*target = 0;
	if (e[t->alen + 1] == RTPROT_KERNEL && (o->flags & OF_NOGW))
		return FPM_WHY_CONNECTED;
	if (o->why != FPM_WHY_OK)
		return o->why;
	if (fam == 0 && (o->flags & (OF_GW6 | OF_V4LL)))
		return FPM_WHY_RFC5549;
	if (fam == 1 && (o->flags & OF_GW4))
		return FPM_WHY_FAMILY;
	*target = fpm_obj_target(o);
	return FPM_WHY_OK;
}

static void
log_route_why(struct fpm_state *st, int fam, const uint8_t *e, uint8_t why)
{
	if (why != FPM_WHY_RFC5549 && why != FPM_WHY_FAMILY && why != FPM_WHY_GROUP)
		return;
	char p[NPR_PREFIX_STRLEN];
	const struct rtab *t = &st->rt[fam];
	const struct fo *o = &st->obj[rt_obj(t, e)];
	npr_format_prefix(fam == 0 ? NPR_AF_INET : NPR_AF_INET6, e, e[t->alen], p, sizeof(p));
	if (why == FPM_WHY_RFC5549)
		fpm_slog(st, "rfc5549",
			 "%s: IPv4 over an IPv6 next hop (RFC 5549) is not supported yet: not "
			 "installed",
			 p);
	else if (why == FPM_WHY_FAMILY)
		fpm_slog(st, "family", "%s: IPv6 route over an IPv4 gateway: not installed", p);
	else
		fpm_slog(st, "group",
			 "%s: next-hop group %u has a member that is not a forward next hop: not "
			 "installed",
			 p, o->zid);
}

/* Bring the data plane to what the mirror wants for entry e (of fam), which had pre_flags
 * (RF_INST / RF_FAILED) and, if installed, pre_target and pre_proto. */
void
fpm_route_settle(struct fpm_state *st, int fam, uint8_t *e, uint8_t pre_flags, uint32_t pre_target,
		 uint8_t pre_proto)
{
	struct rtab *t = &st->rt[fam];
	uint32_t target;
	uint8_t why = route_eval(st, fam, e, &target);
	uint8_t *f = rt_flags(t, e);
	uint8_t proto = e[t->alen + 1];
	if (why != e[t->alen + 3]) {
		set_why(st, t, e, why);
		log_route_why(st, fam, e, why);
	}
	if (why == FPM_WHY_OK) {
		fpm_ensure_sent(st, rt_obj(t, e));
		if (!(pre_flags & RF_INST) || pre_target != target || pre_proto != proto ||
		    st->dp_sync_open)
			fpm_rbuf_add(st, fam, false, e, proto, target);
		*f = (uint8_t)((*f & ~RF_FAILED) | RF_INST);
	} else {
		if (pre_flags & (RF_INST | RF_FAILED))
			fpm_rbuf_add(st, fam, true, e, 0, 0);
		*f &= (uint8_t) ~(RF_INST | RF_FAILED);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Applying events */

static int
key_of(const struct fpm_route *r, uint8_t *key)
{
	unsigned alen = npr_alen(r->family);
	memcpy(key, r->prefix, alen);
	key[alen] = r->plen;
	return r->family == NPR_AF_INET ? 0 : 1;
}

/* The frame's record of a route: its state before the frame, noted the first time the frame
 * touches it. Returns it with its slot now (-1: absent), or NULL if out of memory. */
static struct touch *
touch(struct fpm_state *st, int fam, const uint8_t *key)
{
	struct rtab *t = &st->rt[fam];
	unsigned kl = t->alen + 1;
	for (size_t i = 0; i < st->n_tch; i++) {
		struct touch *c = &st->tch[i];
		if (c->fam == fam && memcmp(c->key, key, kl) == 0) {
			if (c->moves != t->moves) {
				c->slot = rt_find(t, key);
				c->moves = t->moves;
			}
			return c;
		}
	}
	if (grow_array(&st->tch, &st->cap_tch, st->n_tch + 1, sizeof(*st->tch)) < 0)
		return NULL;
	struct touch *c = &st->tch[st->n_tch++];
	memset(c, 0, sizeof(*c));
	c->fam = (uint8_t)fam;
	memcpy(c->key, key, kl);
	c->slot = rt_find(t, key);
	c->moves = t->moves;
	if (c->slot >= 0) {
		uint8_t *e = rt_at(t, (uint32_t)c->slot);
		c->pre_flags = *rt_flags(t, e) & (RF_INST | RF_FAILED);
		c->pre_proto = e[t->alen + 1];
		if (c->pre_flags & RF_INST)
			c->pre_target = fpm_obj_target(&st->obj[rt_obj(t, e)]);
	}
	return c;
}

static void
apply_route(struct fpm_state *st, const struct fpm_route *r)
{
	uint8_t key[17];
	int fam = key_of(r, key);
	struct rtab *t = &st->rt[fam];

	st->st.route_events++;
	struct touch *c = touch(st, fam, key);
	if (c == NULL) {
		fpm_slog(st, "oom", "out of memory: a route is not mirrored");
		return;
	}
	if (r->del) {
		if (c->slot >= 0)
			fpm_route_forget(st, fam,
					 (uint32_t)c->slot); /* settled at the frame's end */
		c->slot = -1;
		c->moves = t->moves;
		return;
	}
	/* finding or making its object may not move routes */
	uint32_t obj = fpm_route_obj(st, r);
	if (obj == 0) {
		fpm_slog(st, "oom", "out of memory: a route is not mirrored");
		return;
	}
	fpm_ref(st, obj);
	int64_t s = c->slot;
	if (s < 0) {
		s = rt_insert(t, key);
		if (s < 0) {
			fpm_unref(st, obj);
			fpm_slog(st, "oom", "out of memory: a route is not mirrored");
			return;
		}
		st->st.routes[fam]++;
		st->st.why[FPM_WHY_PENDING]++;
		c->slot = s;
		c->moves = t->moves;
	} else {
		uint32_t old = rt_obj(t, rt_at(t, (uint32_t)s));
		if (old != 0)
			fpm_unref(st, old);
	}
	uint8_t *e = rt_at(t, (uint32_t)s);
	rt_set_obj(t, e, obj);
	e[t->alen + 1] = r->protocol;
	uint8_t *f = rt_flags(t, e);
	*f = (uint8_t)((*f & ~RF_SEEN) | st->seen_bit);
	if (st->replay_open)
		st->replay_routes++;
}

static void
apply_nexthop(struct fpm_state *st, const struct fpm_nexthop *ev)
{
	st->st.nexthop_events++;
	if (ev->del) {
		uint32_t idx = fpm_find_zebra(st, ev->id);
		if (idx == 0)
			return;
		/* undefined at once (a group defined before the flush must not take it); its
		 * data-plane object goes when nothing uses it (in flush if nothing does now;
		 * zebra deletes the users first), and what still uses it waits for a new
		 * definition */
		st->obj[idx].zdef = false;
		fpm_obj_clear_members(st, &st->obj[idx]);
		st->obj[idx].type = FO_UNDEF;
		fpm_obj_update(st, idx, false);
		if (st->obj[idx].refs == 0)
			fpm_zero_push(st, idx);
		return;
	}
	uint32_t idx = fpm_get_zebra(st, ev->id);
	if (idx == 0) {
		fpm_slog(st, "oom", "out of memory: a next-hop object is not mirrored");
		return;
	}
	struct fo *o = &st->obj[idx];
	o->zdef = true;
	o->zseen = st->replay_epoch;
	o->refused = false;
	if (st->replay_open)
		st->replay_objects++;
	if (ev->n_grp > 0) {
		struct fo_member *mb = malloc(ev->n_grp * sizeof(*mb));
		if (mb == NULL) {
			fpm_slog(st, "oom", "out of memory: a next-hop object is not mirrored");
			return;
		}
		for (unsigned i = 0; i < ev->n_grp; i++) {
			uint32_t m = fpm_get_zebra(st, ev->grp[i].id);
			if (m == 0) {
				for (unsigned k = 0; k < i; k++)
					fpm_unref(st, mb[k].obj);
				free(mb);
				fpm_slog(st, "oom",
					 "out of memory: a next-hop object is not mirrored");
				return;
			}
			fpm_ref(st, m);
			mb[i] = (struct fo_member){ .obj = m, .weight = ev->grp[i].weight };
		}
		fpm_obj_clear_members(st, &st->obj[idx]);
		o = &st->obj[idx];
		o->type = FO_GROUP;
		o->mb = mb;
		o->n_mb = (uint16_t)ev->n_grp;
	} else {
		fpm_obj_clear_members(st, o);
		o = &st->obj[idx];
		if (ev->blackhole) {
			o->type = FO_NH;
			o->kind = NPR_NH_BLACKHOLE;
			memset(&o->nh, 0, sizeof(o->nh));
			o->ifid = -1;
		} else {
			fpm_nh_define(st, o, &ev->nh);
			if (o->ifid < 0 && o->nh.ifindex == 0)
				fpm_slog(st, "nh no oif",
					 "next-hop object %u has no interface: routes over it are "
					 "not installed",
					 ev->id);
		}
	}
	fpm_obj_update(st, idx, true);
}

/* ---------------------------------------------------------------------------------------- */
/* Frames */

static void *
arena_put(struct fpm_state *st, const void *p, size_t len, uint8_t type)
{
	size_t off = (st->n_arena + 7) & ~(size_t)7;
	if (grow_array(&st->arena, &st->cap_arena, off + len, 1) < 0 ||
	    grow_array(&st->fe, &st->cap_fe, st->n_fe + 1, sizeof(*st->fe)) < 0) {
		st->frame_bad = true;
		fpm_slog(st, "oom", "out of memory: a frame is dropped");
		return NULL;
	}
	memcpy(st->arena + off, p, len);
	st->n_arena = off + len;
	st->fe[st->n_fe++] = (struct fev){ .type = type, .off = off, .len = len };
	return st->arena + off;
}

void
fpm_state_route(struct fpm_state *st, const struct fpm_route *r)
{
	arena_put(st, r, offsetof(struct fpm_route, nh) + r->n_nh * sizeof(r->nh[0]), 1);
}

void
fpm_state_nexthop(struct fpm_state *st, const struct fpm_nexthop *nh)
{
	arena_put(st, nh, offsetof(struct fpm_nexthop, grp) + nh->n_grp * sizeof(nh->grp[0]), 2);
}

void
fpm_state_frame_error(struct fpm_state *st)
{
	st->frame_bad = true;
}

/* Drop the events of the frame being delivered. */
static void
frame_drop_open(struct fpm_state *st)
{
	st->n_fe = st->open_fe;
	st->n_arena = st->open_arena;
	st->frame_bad = false;
}

/* The frame's events, then its net effect on each route it touched. */
static void
frame_apply(struct fpm_state *st, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct fev *f = &st->fe[i];
		if (f->type == 1) {
			struct fpm_route r;
			memcpy(&r, st->arena + f->off, f->len);
			apply_route(st, &r);
		} else {
			struct fpm_nexthop nh;
			memcpy(&nh, st->arena + f->off, f->len);
			apply_nexthop(st, &nh);
		}
	}
	for (size_t i = 0; i < st->n_tch; i++) {
		const struct touch *c = &st->tch[i];
		struct rtab *t = &st->rt[c->fam];
		int64_t s = c->moves == t->moves ? c->slot : rt_find(t, c->key);
		if (s >= 0)
			fpm_route_settle(st, c->fam, rt_at(t, (uint32_t)s), c->pre_flags,
					 c->pre_target, c->pre_proto);
		else if (c->pre_flags & (RF_INST | RF_FAILED))
			fpm_rbuf_add(st, c->fam, true, c->key, 0, 0);
	}
	st->n_tch = 0;
}

/* Start loading the table slots the routes of a frame will look at. */
static void
frame_prefetch(const struct fpm_state *st, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct fev *f = &st->fe[i];
		if (f->type != 1)
			continue;
		const uint8_t *r = st->arena + f->off;
		uint8_t family, key[17];
		memcpy(&family, r + offsetof(struct fpm_route, family), 1);
		const struct rtab *t = &st->rt[family == NPR_AF_INET ? 0 : 1];
		memcpy(key, r + offsetof(struct fpm_route, prefix), t->alen);
		memcpy(key + t->alen, r + offsetof(struct fpm_route, plen), 1);
		__builtin_prefetch(rt_at(t, rt_hash(t, key) & t->mask));
	}
}

#define FRAME_BATCH 64	 /* whole frames gathered before they are applied */
#define PREFETCH_AHEAD 8 /* frames */

/* Apply the whole frames gathered, in order: a table lookup misses the cache, so the slots
 * of the frames a few ahead are loaded meanwhile. Called before anything reads or changes
 * the mirror otherwise. */
void
fpm_frames_apply(struct fpm_state *st)
{
	size_t n = st->n_fend;
	if (n == 0)
		return;
	for (size_t k = 0; k < n && k < PREFETCH_AHEAD; k++)
		frame_prefetch(st, k == 0 ? 0 : st->fend[k - 1], st->fend[k]);
	for (size_t k = 0; k < n; k++) {
		size_t a = k + PREFETCH_AHEAD;
		if (a < n)
			frame_prefetch(st, st->fend[a - 1], st->fend[a]);
		frame_apply(st, k == 0 ? 0 : st->fend[k - 1], st->fend[k]);
	}
	/* a frame being delivered stays, moved to the front */
	size_t done = st->fend[n - 1], rest = st->n_fe - done;
	size_t base = rest > 0 ? st->fe[done].off : st->n_arena;
	memmove(st->fe, st->fe + done, rest * sizeof(*st->fe));
	for (size_t i = 0; i < rest; i++)
		st->fe[i].off -= base;
	memmove(st->arena, st->arena + base, st->n_arena - base);
	st->n_fe = rest;
	st->n_arena -= base;
	st->open_fe = 0;
	st->open_arena = 0;
	st->n_fend = 0;
}

/* Drop the frame being delivered (the connection went), apply the whole ones. */
void
fpm_frame_reset(struct fpm_state *st)
{
	frame_drop_open(st);
	fpm_frames_apply(st);
}

void
fpm_state_frame_end(struct fpm_state *st)
{
	if (st->frame_bad) {
		if (st->n_fe > st->open_fe)
			st->st.frames_dropped++;
		frame_drop_open(st);
		return;
	}
	if (st->n_fe == st->open_fe)
		return; /* nothing for us in it */
	if (grow_array(&st->fend, &st->cap_fend, st->n_fend + 1, sizeof(size_t)) < 0) {
		st->st.frames_dropped++;
		fpm_slog(st, "oom", "out of memory: a frame is dropped");
		frame_drop_open(st);
		return;
	}
	st->fend[st->n_fend++] = st->n_fe;
	st->open_fe = st->n_fe;
	st->open_arena = st->n_arena;
	if (st->n_fend >= FRAME_BATCH)
		fpm_frames_apply(st);
}

/* ---------------------------------------------------------------------------------------- */
/* Refusals */

static const char *
msg_name(uint16_t type)
{
	switch (type) {
	case NPR_MSG_NH_SET:
		return "NH_SET";
	case NPR_MSG_NH_DEL:
		return "NH_DEL";
	case NPR_MSG_GROUP_SET:
		return "GROUP_SET";
	case NPR_MSG_GROUP_DEL:
		return "GROUP_DEL";
	case NPR_MSG_ROUTE4_ADD:
		return "ROUTE4_ADD";
	case NPR_MSG_ROUTE4_DEL:
		return "ROUTE4_DEL";
	case NPR_MSG_ROUTE6_ADD:
		return "ROUTE6_ADD";
	case NPR_MSG_ROUTE6_DEL:
		return "ROUTE6_DEL";
	case NPR_MSG_SYNC_BEGIN:
		return "SYNC_BEGIN";
	case NPR_MSG_SYNC_END:
		return "SYNC_END";
	}
	return "message";
}

static const char *
errno_name(int status)
{
	const char *n = strerrorname_np(status < 0 ? -status : status);
	return n != NULL ? n : "error";
}

static void
route_rejected(struct fpm_state *st, const struct npr_msg_hdr *msg, const struct npr_reply *rep)
{
	bool v6 = msg->type >= NPR_MSG_ROUTE6_ADD;
	int fam = v6 ? 1 : 0;
	bool del = msg->type == NPR_MSG_ROUTE4_DEL || msg->type == NPR_MSG_ROUTE6_DEL;
	struct rtab *t = &st->rt[fam];
	uint32_t count;
	memcpy(&count, (const uint8_t *)msg + offsetof(struct npr_msg_route4, count), 4);
	size_t esz = v6 ? sizeof(struct npr_route6) : sizeof(struct npr_route4);
	if (msg->len < sizeof(struct npr_msg_route4) ||
	    count > (msg->len - sizeof(struct npr_msg_route4)) / esz || count == 0)
		return;
	const uint8_t *body = (const uint8_t *)msg + sizeof(struct npr_msg_route4);
	uint32_t bad = rep->index < count ? rep->index : 0;

	uint8_t key[17];
	uint32_t bad_target = 0;
	size_t n_dropped = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t target;
		if (v6) {
			struct npr_route6 r;
			memcpy(&r, body + i * esz, sizeof(r));
			memcpy(key, r.prefix, 16);
			key[16] = r.plen;
			target = r.target;
		} else {
			struct npr_route4 r;
			memcpy(&r, body + i * esz, sizeof(r));
			memcpy(key, &r.prefix, 4);
			key[4] = r.plen;
			target = r.target;
		}
		if (i == bad) {
			bad_target = target;
			char p[NPR_PREFIX_STRLEN], k[FPM_ONCE_KEYLEN];
			npr_format_prefix(v6 ? NPR_AF_INET6 : NPR_AF_INET, key, key[t->alen], p,
					  sizeof(p));
			snprintf(k, sizeof(k), "%s %s", msg_name(msg->type),
				 errno_name(rep->status));
			fpm_slog(st, k, "the data plane refused %s %s: %s%s%s", msg_name(msg->type),
				 p, errno_name(rep->status), rep->msg[0] != '\0' ? ": " : "",
				 rep->msg);
		}
		/* a missing target fails every entry that names it */
		bool drop = i == bad ||
			    (!del && rep->status == -ENOENT && i > bad && target == bad_target);
		int64_t s = rt_find(t, key);
		uint8_t *e = s >= 0 ? rt_at(t, (uint32_t)s) : NULL;
		if (drop) {
			n_dropped++;
			if (e == NULL)
				continue;
			uint8_t *f = rt_flags(t, e);
			if (del) {
				*f &= (uint8_t) ~(RF_INST | RF_FAILED);
			} else {
				*f = (uint8_t)((*f & ~RF_INST) | RF_FAILED);
				set_why(st, t, e, FPM_WHY_REJECTED);
			}
			continue;
		}
		/* the message was not applied: send what the mirror wants now */
		if (e != NULL && (*rt_flags(t, e) & RF_INST)) {
			uint32_t tg;
			if (route_eval(st, fam, e, &tg) == FPM_WHY_OK) {
				fpm_ensure_sent(st, rt_obj(t, e));
				fpm_rbuf_add(st, fam, false, e, e[t->alen + 1], tg);
			} /* else the rescan of its object withdraws it */
		} else if (del) {
			fpm_rbuf_add(st, fam, true, key, 0, 0);
		}
	}
	if (n_dropped < count)
		st->st.resent++;
	fpm_rbuf_send(st, fam);
}

void
fpm_state_rejected(struct fpm_state *st, const struct npr_msg_hdr *msg, const struct npr_reply *rep)
{
	char k[FPM_ONCE_KEYLEN];
	fpm_frames_apply(st);
	st->st.rejected++;
	switch (msg->type) {
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_DEL:
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_DEL:
		route_rejected(st, msg, rep);
		return;
	case NPR_MSG_NH_SET:
	case NPR_MSG_GROUP_SET: {
		bool grp = msg->type == NPR_MSG_GROUP_SET;
		uint32_t id;
		memcpy(&id, (const uint8_t *)msg + sizeof(*msg), 4);
		snprintf(k, sizeof(k), "%s %s", msg_name(msg->type), errno_name(rep->status));
		fpm_slog(st, k,
			 "the data plane refused %s %u: %s%s%s: routes over it are not installed",
			 msg_name(msg->type), id, errno_name(rep->status),
			 rep->msg[0] != '\0' ? ": " : "", rep->msg);
		for (size_t i = 1; i < st->n_obj; i++) {
			struct fo *o = &st->obj[i];
			if (o->keyk == 0 || o->dpid != id || (o->cls == CL_GROUP) != grp)
				continue;
			o->refused = true;
			fpm_obj_update(st, (uint32_t)i, false);
			break;
		}
		return;
	}
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL: {
		uint32_t id;
		memcpy(&id, (const uint8_t *)msg + sizeof(*msg), 4);
		snprintf(k, sizeof(k), "%s %s", msg_name(msg->type), errno_name(rep->status));
		fpm_slog(st, k,
			 "the data plane refused %s %u: %s%s%s (kept out of use until the next "
			 "sweep)",
			 msg_name(msg->type), id, errno_name(rep->status),
			 rep->msg[0] != '\0' ? ": " : "", rep->msg);
		/* still there: not ours to give out again, unless it was given out already */
		struct idspace *s = &st->ids[msg->type == NPR_MSG_GROUP_DEL ? 1 : 0];
		if (rep->status != -ENOENT && id < s->max && !fpm_id_test(s->used, id))
			fpm_id_set(s->resv, id, true);
		return;
	}
	}
	snprintf(k, sizeof(k), "%s %s", msg_name(msg->type), errno_name(rep->status));
	fpm_slog(st, k, "the data plane refused %s: %s%s%s", msg_name(msg->type),
		 errno_name(rep->status), rep->msg[0] != '\0' ? ": " : "", rep->msg);
}

/* ---------------------------------------------------------------------------------------- */
/* Life of the state */

struct fpm_state *
fpm_state_new(const struct fpm_sink *sink, uint32_t nh_max, uint32_t group_max)
{
	struct fpm_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->sink = *sink;
	st->seen_bit = RF_SEEN;
	st->dp_epoch = 1;
	st->replay_epoch = 1;
	if (fpm_ids_size(&st->ids[0], nh_max != 0 ? nh_max : DEFAULT_NH_MAX) < 0 ||
	    fpm_ids_size(&st->ids[1], group_max != 0 ? group_max : DEFAULT_GROUP_MAX) < 0 ||
	    rtab_init(&st->rt[0], 4, 1024) < 0 || rtab_init(&st->rt[1], 16, 256) < 0 ||
	    grow_array(&st->obj, &st->cap_obj, 1, sizeof(struct fo)) < 0) {
		fpm_state_free(st);
		errno = ENOMEM;
		return NULL;
	}
	memset(&st->obj[0], 0, sizeof(st->obj[0])); /* index 0: no object */
	st->n_obj = 1;
	return st;
}

void
fpm_state_free(struct fpm_state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 1; i < st->n_obj; i++)
		free(st->obj[i].mb);
	free(st->obj);
	free(st->free_obj);
	free(st->map.s);
	free(st->zero);
	free(st->aff);
	free(st->del);
	rtab_free(&st->rt[0]);
	rtab_free(&st->rt[1]);
	free(st->arena);
	free(st->fe);
	free(st->fend);
	free(st->tch);
	for (int k = 0; k < 2; k++) {
		free(st->ids[k].used);
		free(st->ids[k].resv);
	}
	free(st);
}

const struct fpm_state_stats *
fpm_state_stats(struct fpm_state *st)
{
	fpm_frames_apply(st);
	return &st->st;
}

size_t
fpm_state_bytes(const struct fpm_state *st)
{
	size_t b = sizeof(*st);
	for (int fam = 0; fam < 2; fam++)
		b += ((size_t)st->rt[fam].mask + 1) * st->rt[fam].esize;
	b += st->cap_obj * sizeof(struct fo);
	if (st->map.s != NULL)
		b += ((size_t)st->map.mask + 1) * sizeof(st->map.s[0]);
	for (int k = 0; k < 2; k++)
		b += 2 * ((st->ids[k].max + 63) / 64) * sizeof(uint64_t);
	return b;
}
