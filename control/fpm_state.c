/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's mirror and its mapping onto data-plane objects (fpm_state.h). Layers:
 *
 *   ids        our data-plane ids: bitmaps of used and reserved ids, next-fit allocation
 *   objects    next-hop objects (zebra's, inline ones, the special kinds), keyed by an
 *              open-addressing map; evaluation (usable or why not), programming, references
 *   routes     two tables (IPv4, IPv6) of compact entries (fpm_rtab.h: layout below)
 *   output     route messages gathered per family, object messages, deferred deletions
 *   frames     a frame's events copied as they come; whole frames gathered (64) and applied
 *              in order, each with its net effect, the table slots of the ones ahead
 *              prefetched (a lookup in a full table is a cache miss)
 *   sessions   replay (mark and sweep), attach and resync, withdrawal, refusals
 *
 * Memory: 12 bytes an IPv4 route (24 IPv6) in a table at most 3/4 full, sized in powers of
 * two: 25-34 bytes a route (28 for the full table); an object ~80 bytes.
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
#include "fpm_rtab.h"
#include "fpm_state.h"
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

enum { FO_UNDEF, FO_NH, FO_GROUP };		    /* what an object is */
enum { FK_ZEBRA = 1, FK_INLINE, FK_SPECIAL };	    /* how it is keyed */
enum { CL_NONE, CL_NH_FWD, CL_NH_OTHER, CL_GROUP }; /* its data-plane id's kind */

/* flags an object's next hops have, for the route checks */
#define OF_GW4 0x1u  /* an IPv4 gateway */
#define OF_GW6 0x2u  /* an IPv6 gateway */
#define OF_V4LL 0x4u /* 169.254.0.1 onlink: FRR's IPv4-over-IPv6 (RFC 5549) stand-in */
#define OF_NOGW 0x8u /* forward next hops, none with a gateway */

struct fo_member {
	uint32_t obj;
	uint16_t weight;
	uint16_t reserved;
};

struct fo {
	uint8_t type;	 /* FO_* */
	uint8_t keyk;	 /* FK_*; 0: free */
	uint8_t why;	 /* enum fpm_why: usable or why not */
	uint8_t flags;	 /* OF_* */
	uint8_t kind;	 /* FO_NH: enum npr_nh_kind */
	uint8_t cls;	 /* CL_* of dpid */
	bool programmed; /* the data plane has dpid (sent) */
	bool zdef;	 /* FK_ZEBRA: zebra defined it (not deleted) */
	bool refused;	 /* the data plane refused its set: until redefined */
	bool affected;	 /* its routes need a walk (rescan) */
	bool on_zero;	 /* in st->zero */
	int16_t ifid;	 /* FO_NH forward: nprouter's interface, -1 none */
	uint16_t n_mb;
	uint32_t zid; /* FK_ZEBRA: zebra's id; FK_SPECIAL: the kind */
	uint32_t dpid;
	uint32_t refs;	      /* routes and groups of the mirror using it */
	uint32_t sent_epoch;  /* st->dp_epoch when last sent */
	uint32_t zseen;	      /* st->replay_epoch when zebra last defined it */
	uint32_t hash;	      /* of its key, for the map */
	uint32_t prev_target; /* the target its routes had before it became affected */
	struct fpm_nh nh;     /* FO_NH forward */
	struct fo_member *mb; /* FO_GROUP: sorted by obj for inline groups */
};

/* key → object index: open addressing, linear probing, backward-shift deletion */
struct omap {
	struct {
		uint32_t idx; /* 0: empty */
		uint32_t h;
	} * s;
	uint32_t mask, n;
};

struct okey {
	uint8_t keyk;
	uint8_t type; /* FK_INLINE: FO_NH or FO_GROUP */
	uint32_t zid;
	const struct fpm_nh *nh;
	const struct fo_member *mb;
	uint16_t n_mb;
};

struct rbuf {
	uint16_t type; /* of the message gathered; 0 none */
	uint32_t n;
	_Alignas(8) uint8_t m[NPR_MSG_MAX];
};

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

struct iddel {
	uint8_t cls;
	uint32_t id;
};

struct idspace {
	uint32_t max;	/* ids 1..max-1 */
	uint64_t *used; /* ours now */
	uint64_t *resv; /* taken by someone we do not know: avoided until a sweep */
	uint32_t hint;	/* next-fit start */
};

struct fpm_state {
	struct fpm_sink sink;
	struct fpm_state_stats st;
	struct fpm_once once;

	struct idspace ids[2]; /* 0: next hops, 1: groups */

	struct fo *obj; /* [0] unused */
	size_t n_obj, cap_obj;
	uint32_t *free_obj;
	size_t n_free, cap_free;
	struct omap map;
	uint32_t *zero; /* objects whose count fell to 0 (or new): freed in flush if still */
	size_t n_zero, cap_zero;
	uint32_t *aff; /* affected objects */
	size_t n_aff, cap_aff;
	struct iddel *del; /* data-plane objects to delete after the routes */
	size_t n_del, cap_del;
	uint32_t special[NPR_NH_PROHIBIT + 1];
	uint32_t last_zid, last_zobj; /* the zebra object found last: routes come in runs */

	struct rtab rt[2];
	struct rbuf rb[2];

	uint8_t *arena; /* the events of the frames not applied yet */
	size_t n_arena, cap_arena;
	struct fev *fe;
	size_t n_fe, cap_fe;
	size_t *fend; /* where each whole frame's events end in fe */
	size_t n_fend, cap_fend;
	size_t open_fe, open_arena; /* where the frame being delivered starts */
	bool frame_bad;
	struct touch *tch;
	size_t n_tch, cap_tch;

	bool mute; /* nothing is handed to the sink (attach: for the data plane that went) */
	bool replay_open;
	bool dp_sync_open;
	uint8_t seen_bit;
	uint32_t replay_epoch;
	uint32_t dp_epoch;
	uint64_t replay_routes, replay_objects;
};

/* ---------------------------------------------------------------------------------------- */
/* Logging */

static void slog(struct fpm_state *st, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Say it the first time for key, then every FPM_ONCE_EVERY times with the count. */
static void
slog(struct fpm_state *st, const char *key, const char *fmt, ...)
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
/* Ids */

static int
ids_size(struct idspace *s, uint32_t max)
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

static bool
id_test(const uint64_t *b, uint32_t id)
{
	return (b[id / 64] >> (id % 64)) & 1;
}

static void
id_set(uint64_t *b, uint32_t id, bool on)
{
	if (on)
		b[id / 64] |= 1ull << (id % 64);
	else
		b[id / 64] &= ~(1ull << (id % 64));
}

/* Next fit from the hint: an id just freed is used again only after every other free one,
 * so that a deletion the data plane refuses (its answer comes later) rarely meets a new
 * object with its id. 0 if none is free. */
static uint32_t
id_alloc(struct idspace *s)
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
				id_set(s->used, got, true);
				s->hint = got + 1;
				return got;
			}
		}
		w = w + 1 == words ? 0 : w + 1;
	}
	return 0;
}

static void
id_free(struct idspace *s, uint32_t id)
{
	if (id != 0 && id < s->max)
		id_set(s->used, id, false);
}

static struct idspace *
space_of(struct fpm_state *st, uint8_t cls)
{
	return &st->ids[cls == CL_GROUP ? 1 : 0];
}

/* ---------------------------------------------------------------------------------------- */
/* Output */

static void
emit(struct fpm_state *st, void *m)
{
	const struct npr_msg_hdr *h = m;
	if (st->mute)
		return;
	if (h->type <= NPR_MSG_REQ_LAST)
		st->st.msgs[h->type]++;
	st->sink.msg(st->sink.ctx, h);
}

static void
emit_simple(struct fpm_state *st, uint16_t type)
{
	struct npr_msg_hdr h = { .type = type, .len = sizeof(h) };
	emit(st, &h);
}

static void
emit_id_del(struct fpm_state *st, uint8_t cls, uint32_t id)
{
	struct npr_msg_id m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = cls == CL_GROUP ? NPR_MSG_GROUP_DEL : NPR_MSG_NH_DEL;
	m.hdr.len = sizeof(m);
	m.id = id;
	emit(st, &m);
}

static unsigned
rt_max(int fam)
{
	return fam == 0 ? NPR_ROUTE4_MAX : NPR_ROUTE6_MAX;
}

/* Hand on the route message gathered for fam, if any. */
static void
rbuf_send(struct fpm_state *st, int fam)
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
	emit(st, m);
	b->n = 0;
	b->type = 0;
}

/* Add one route entry (target 0 for DEL) to fam's message. */
static void
rbuf_add(struct fpm_state *st, int fam, bool del, const uint8_t *key, uint8_t proto,
	 uint32_t target)
{
	struct rbuf *b = &st->rb[fam];
	uint16_t type = fam == 0 ? (del ? NPR_MSG_ROUTE4_DEL : NPR_MSG_ROUTE4_ADD)
				 : (del ? NPR_MSG_ROUTE6_DEL : NPR_MSG_ROUTE6_ADD);
	/* one operation per message, in the order they happen */
	if (b->n > 0 && b->type != type)
		rbuf_send(st, fam);
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
		rbuf_send(st, fam);
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

static void
zero_push(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	if (o->on_zero ||
	    grow_array(&st->zero, &st->cap_zero, st->n_zero + 1, sizeof(uint32_t)) < 0)
		return;
	o->on_zero = true;
	st->zero[st->n_zero++] = idx;
}

static void
ref(struct fpm_state *st, uint32_t idx)
{
	st->obj[idx].refs++;
}

static void
unref(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	if (o->refs > 0 && --o->refs == 0)
		zero_push(st, idx);
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
	zero_push(st, idx);
	return idx;
}

static void
defer_del(struct fpm_state *st, uint8_t cls, uint32_t id)
{
	if (grow_array(&st->del, &st->cap_del, st->n_del + 1, sizeof(*st->del)) < 0) {
		id_free(space_of(st, cls), id); /* the sweep will remove it */
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
			defer_del(st, o->cls, o->dpid);
		else
			id_free(space_of(st, o->cls), o->dpid);
	}
	o->dpid = 0;
	o->cls = CL_NONE;
	o->programmed = false;
}

static void
obj_clear_members(struct fpm_state *st, struct fo *o)
{
	struct fo_member *mb = o->mb;
	uint16_t n = o->n_mb;
	o->mb = NULL;
	o->n_mb = 0;
	for (unsigned i = 0; i < n; i++)
		unref(st, mb[i].obj);
	free(mb);
}

static void
obj_free(struct fpm_state *st, uint32_t idx)
{
	struct fo *o = &st->obj[idx];
	obj_drop_id(st, o);
	obj_clear_members(st, &st->obj[idx]);
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

static uint32_t
obj_target(const struct fo *o)
{
	if (o->why != FPM_WHY_OK)
		return 0;
	return o->cls == CL_GROUP ? NPR_TARGET_GROUP | o->dpid : o->dpid;
}

static uint8_t
obj_cls(const struct fo *o)
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
static void
obj_eval(const struct fpm_state *st, const struct fo *o, uint8_t *why, uint8_t *flags)
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

static void obj_send(struct fpm_state *st, uint32_t idx);

/* While the data plane's sync is open, an object used by what we send must have been sent
 * in it too, or SYNC_END removes it (and fails: it is in use). */
static void
ensure_sent(struct fpm_state *st, uint32_t idx)
{
	const struct fo *o = &st->obj[idx];
	if (st->dp_sync_open && o->programmed && o->why == FPM_WHY_OK &&
	    o->sent_epoch != st->dp_epoch)
		obj_send(st, idx);
}

/* NH_SET / GROUP_SET of a usable object with its id. */
static void
obj_send(struct fpm_state *st, uint32_t idx)
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
		emit(st, &m);
	} else {
		_Alignas(8) uint8_t buf[sizeof(struct npr_msg_group_set) +
					NPR_GROUP_MAX_MEMBERS * sizeof(struct npr_group_member)];
		struct npr_msg_group_set *m = (struct npr_msg_group_set *)buf;
		uint16_t w[NPR_GROUP_MAX_MEMBERS];
		unsigned n = o->n_mb;
		for (unsigned i = 0; i < n; i++)
			ensure_sent(st, o->mb[i].obj);
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
		emit(st, m);
	}
	o->programmed = true;
	o->sent_epoch = st->dp_epoch;
}

static void obj_update(struct fpm_state *st, uint32_t idx, bool send);

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
				obj_update(st, (uint32_t)i, id_changed && g->programmed);
				break;
			}
	}
}

/* Evaluate the object again (its definition, or a member, changed); give it an id and send
 * it when usable (send: even if it was sent already, because its content changed). When
 * what its routes see changes (usable, target, flags), they are walked at the next flush
 * and the groups holding it are updated. */
static void
obj_update(struct fpm_state *st, uint32_t idx, bool send)
{
	struct fo *o = &st->obj[idx];
	uint8_t why, flags;
	uint8_t old_why = o->why, old_flags = o->flags;
	uint32_t old_target = obj_target(o);

	obj_eval(st, o, &why, &flags);
	uint8_t cls = obj_cls(o);
	bool id_changed = false;
	if (o->dpid != 0 && cls != CL_NONE && cls != o->cls) {
		obj_drop_id(st, o); /* another kind of id: the old one goes after the routes */
		id_changed = true;
	}
	if (why == FPM_WHY_OK && o->dpid == 0) {
		o->dpid = id_alloc(space_of(st, cls));
		if (o->dpid == 0) {
			why = FPM_WHY_NO_ID;
			char key[FPM_ONCE_KEYLEN];
			snprintf(key, sizeof(key), "no id %s", cls == CL_GROUP ? "group" : "nh");
			slog(st, key,
			     "no free %s id in the data plane (%u): routes over new next hops are "
			     "not installed",
			     cls == CL_GROUP ? "group" : "next hop", space_of(st, cls)->max - 1);
		} else {
			o->cls = cls;
			id_changed = true;
		}
	}
	o->why = why;
	o->flags = flags;
	/* what the data plane holds of an object that was not usable may be out of date */
	if (why == FPM_WHY_OK && (send || !o->programmed || old_why != FPM_WHY_OK))
		obj_send(st, idx);
	o = &st->obj[idx];
	if (o->why == old_why && o->flags == old_flags && obj_target(o) == old_target)
		return;
	if (o->refs > 0)
		mark_affected(st, idx, old_target);
	if (o->type != FO_GROUP)
		update_dependents(st, idx, id_changed);
}

/* ---------------------------------------------------------------------------------------- */
/* Objects: finding them */

static uint32_t
get_zebra(struct fpm_state *st, uint32_t zid)
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

static uint32_t
find_zebra(struct fpm_state *st, uint32_t zid)
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
	obj_update(st, idx, true);
	return idx;
}

static void
nh_define(struct fpm_state *st, struct fo *o, const struct fpm_nh *nh)
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
	nh_define(st, &st->obj[idx], nh);
	obj_update(st, idx, true);
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
		ref(st, copy[i].obj);
	obj_update(st, idx, true);
	return idx;
}

/* The object a route event forwards by (not referenced yet), 0 if out of memory. */
static uint32_t
route_obj(struct fpm_state *st, const struct fpm_route *r)
{
	if (r->kind != NPR_NH_FORWARD)
		return get_special(st, r->kind);
	if (r->nh_id != 0)
		return get_zebra(st, r->nh_id);
	if (r->n_nh == 1)
		return get_inline_nh(st, &r->nh[0]);
	return get_inline_group(st, r->nh, r->n_nh);
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
static void
route_forget(struct fpm_state *st, int fam, uint32_t slot)
{
	struct rtab *t = &st->rt[fam];
	uint8_t *e = rt_at(t, slot);
	uint32_t obj = rt_obj(t, e);
	st->st.why[e[t->alen + 3]]--;
	st->st.routes[fam]--;
	rt_remove(t, slot);
	if (obj != 0)
		unref(st, obj);
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
	*target = obj_target(o);
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
		slog(st, "rfc5549",
		     "%s: IPv4 over an IPv6 next hop (RFC 5549) is not supported yet: not "
		     "installed",
		     p);
	else if (why == FPM_WHY_FAMILY)
		slog(st, "family", "%s: IPv6 route over an IPv4 gateway: not installed", p);
	else
		slog(st, "group",
		     "%s: next-hop group %u has a member that is not a forward next hop: not "
		     "installed",
		     p, o->zid);
}

/* Bring the data plane to what the mirror wants for entry e (of fam), which had pre_flags
 * (RF_INST / RF_FAILED) and, if installed, pre_target and pre_proto. */
static void
route_settle(struct fpm_state *st, int fam, uint8_t *e, uint8_t pre_flags, uint32_t pre_target,
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
		ensure_sent(st, rt_obj(t, e));
		if (!(pre_flags & RF_INST) || pre_target != target || pre_proto != proto ||
		    st->dp_sync_open)
			rbuf_add(st, fam, false, e, proto, target);
		*f = (uint8_t)((*f & ~RF_FAILED) | RF_INST);
	} else {
		if (pre_flags & (RF_INST | RF_FAILED))
			rbuf_add(st, fam, true, e, 0, 0);
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
			c->pre_target = obj_target(&st->obj[rt_obj(t, e)]);
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
		slog(st, "oom", "out of memory: a route is not mirrored");
		return;
	}
	if (r->del) {
		if (c->slot >= 0)
			route_forget(st, fam, (uint32_t)c->slot); /* settled at the frame's end */
		c->slot = -1;
		c->moves = t->moves;
		return;
	}
	/* finding or making its object may not move routes */
	uint32_t obj = route_obj(st, r);
	if (obj == 0) {
		slog(st, "oom", "out of memory: a route is not mirrored");
		return;
	}
	ref(st, obj);
	int64_t s = c->slot;
	if (s < 0) {
		s = rt_insert(t, key);
		if (s < 0) {
			unref(st, obj);
			slog(st, "oom", "out of memory: a route is not mirrored");
			return;
		}
		st->st.routes[fam]++;
		st->st.why[FPM_WHY_PENDING]++;
		c->slot = s;
		c->moves = t->moves;
	} else {
		uint32_t old = rt_obj(t, rt_at(t, (uint32_t)s));
		if (old != 0)
			unref(st, old);
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
		uint32_t idx = find_zebra(st, ev->id);
		if (idx == 0)
			return;
		/* undefined at once (a group defined before the flush must not take it); its
		 * data-plane object goes when nothing uses it (in flush if nothing does now;
		 * zebra deletes the users first), and what still uses it waits for a new
		 * definition */
		st->obj[idx].zdef = false;
		obj_clear_members(st, &st->obj[idx]);
		st->obj[idx].type = FO_UNDEF;
		obj_update(st, idx, false);
		if (st->obj[idx].refs == 0)
			zero_push(st, idx);
		return;
	}
	uint32_t idx = get_zebra(st, ev->id);
	if (idx == 0) {
		slog(st, "oom", "out of memory: a next-hop object is not mirrored");
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
			slog(st, "oom", "out of memory: a next-hop object is not mirrored");
			return;
		}
		for (unsigned i = 0; i < ev->n_grp; i++) {
			uint32_t m = get_zebra(st, ev->grp[i].id);
			if (m == 0) {
				for (unsigned k = 0; k < i; k++)
					unref(st, mb[k].obj);
				free(mb);
				slog(st, "oom", "out of memory: a next-hop object is not mirrored");
				return;
			}
			ref(st, m);
			mb[i] = (struct fo_member){ .obj = m, .weight = ev->grp[i].weight };
		}
		obj_clear_members(st, &st->obj[idx]);
		o = &st->obj[idx];
		o->type = FO_GROUP;
		o->mb = mb;
		o->n_mb = (uint16_t)ev->n_grp;
	} else {
		obj_clear_members(st, o);
		o = &st->obj[idx];
		if (ev->blackhole) {
			o->type = FO_NH;
			o->kind = NPR_NH_BLACKHOLE;
			memset(&o->nh, 0, sizeof(o->nh));
			o->ifid = -1;
		} else {
			nh_define(st, o, &ev->nh);
			if (o->ifid < 0 && o->nh.ifindex == 0)
				slog(st, "nh no oif",
				     "next-hop object %u has no interface: routes over it are not "
				     "installed",
				     ev->id);
		}
	}
	obj_update(st, idx, true);
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
		slog(st, "oom", "out of memory: a frame is dropped");
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
			route_settle(st, c->fam, rt_at(t, (uint32_t)s), c->pre_flags, c->pre_target,
				     c->pre_proto);
		else if (c->pre_flags & (RF_INST | RF_FAILED))
			rbuf_add(st, c->fam, true, c->key, 0, 0);
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
static void
frames_apply(struct fpm_state *st)
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
static void
frame_reset(struct fpm_state *st)
{
	frame_drop_open(st);
	frames_apply(st);
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
		slog(st, "oom", "out of memory: a frame is dropped");
		frame_drop_open(st);
		return;
	}
	st->fend[st->n_fend++] = st->n_fe;
	st->open_fe = st->n_fe;
	st->open_arena = st->n_arena;
	if (st->n_fend >= FRAME_BATCH)
		frames_apply(st);
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
			route_settle(st, fam, e, pre, (pre & RF_INST) ? o->prev_target : 0,
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
		obj_free(st, idx);
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
			id_free(space_of(st, d->cls), d->id);
		}
	st->n_del = 0;
}

void
fpm_state_flush(struct fpm_state *st)
{
	frames_apply(st);
	rescan(st);
	rbuf_send(st, 0);
	rbuf_send(st, 1);
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
	frame_reset(st);
	sync_begin(st);
	st->replay_open = true;
	st->replay_epoch++;
	st->seen_bit ^= RF_SEEN;
	st->replay_routes = st->replay_objects = 0;
}

void
fpm_state_zebra_lost(struct fpm_state *st)
{
	frame_reset(st);
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
				ensure_sent(st, (uint32_t)i);
		}
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk != 0 && o->programmed && o->why != FPM_WHY_OK) {
			defer_del(st, o->cls, o->dpid);
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
	frame_reset(st);
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
				rbuf_add(st, fam, true, e, 0, 0);
			route_forget(st, fam, i);
			sw.routes_swept++;
		}
	}
	/* zebra's objects it did not replay, unless something still uses them */
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk == FK_ZEBRA && o->zdef && o->zseen != st->replay_epoch &&
		    o->refs == 0) {
			o->zdef = false;
			zero_push(st, (uint32_t)i);
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
	frame_reset(st);
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
	frame_reset(st);
	rescan(st);
	free_unused(st);
	st->mute = false;
	uint32_t max[2] = { nh_max != 0 ? nh_max : st->ids[0].max,
			    group_max != 0 ? group_max : st->ids[1].max };
	for (int k = 0; k < 2; k++) {
		if (ids_size(&st->ids[k], max[k]) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_nh; i++)
		if (nh_taken[i] != 0 && nh_taken[i] < max[0])
			id_set(st->ids[0].resv, nh_taken[i], true);
	for (size_t i = 0; i < n_group; i++)
		if (group_taken[i] != 0 && group_taken[i] < max[1])
			id_set(st->ids[1].resv, group_taken[i], true);
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
			nh_define(st, o, &nh);
		}
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 1; i < st->n_obj; i++) {
			struct fo *o = &st->obj[i];
			if (o->keyk == 0 || (o->type == FO_GROUP) != (pass == 1))
				continue;
			uint8_t why, flags;
			obj_eval(st, o, &why, &flags);
			o->why = why;
			o->flags = flags;
			if (why == FPM_WHY_OK) {
				uint8_t cls = obj_cls(o);
				o->dpid = id_alloc(space_of(st, cls));
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
				obj_send(st, (uint32_t)i);
		}
	for (int fam = 0; fam < 2; fam++) {
		struct rtab *t = &st->rt[fam];
		for (uint32_t i = 0; i <= t->mask; i++) {
			uint8_t *e = rt_at(t, i);
			if (!(*rt_flags(t, e) & RF_USED))
				continue;
			route_settle(st, fam, e, 0, 0, 0);
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
	frames_apply(st);
	for (size_t i = 1; i < st->n_obj; i++) {
		struct fo *o = &st->obj[i];
		if (o->keyk == 0 || o->type != FO_NH || o->kind != NPR_NH_FORWARD)
			continue;
		int16_t old = o->ifid;
		struct fpm_nh nh = o->nh;
		nh_define(st, o, &nh);
		if (st->obj[i].ifid != old)
			obj_update(st, (uint32_t)i, true);
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
			slog(st, k, "the data plane refused %s %s: %s%s%s", msg_name(msg->type), p,
			     errno_name(rep->status), rep->msg[0] != '\0' ? ": " : "", rep->msg);
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
				ensure_sent(st, rt_obj(t, e));
				rbuf_add(st, fam, false, e, e[t->alen + 1], tg);
			} /* else the rescan of its object withdraws it */
		} else if (del) {
			rbuf_add(st, fam, true, key, 0, 0);
		}
	}
	if (n_dropped < count)
		st->st.resent++;
	rbuf_send(st, fam);
}

void
fpm_state_rejected(struct fpm_state *st, const struct npr_msg_hdr *msg, const struct npr_reply *rep)
{
	char k[FPM_ONCE_KEYLEN];
	frames_apply(st);
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
		slog(st, k,
		     "the data plane refused %s %u: %s%s%s: routes over it are not installed",
		     msg_name(msg->type), id, errno_name(rep->status),
		     rep->msg[0] != '\0' ? ": " : "", rep->msg);
		for (size_t i = 1; i < st->n_obj; i++) {
			struct fo *o = &st->obj[i];
			if (o->keyk == 0 || o->dpid != id || (o->cls == CL_GROUP) != grp)
				continue;
			o->refused = true;
			obj_update(st, (uint32_t)i, false);
			break;
		}
		return;
	}
	case NPR_MSG_NH_DEL:
	case NPR_MSG_GROUP_DEL: {
		uint32_t id;
		memcpy(&id, (const uint8_t *)msg + sizeof(*msg), 4);
		snprintf(k, sizeof(k), "%s %s", msg_name(msg->type), errno_name(rep->status));
		slog(st, k,
		     "the data plane refused %s %u: %s%s%s (kept out of use until the next "
		     "sweep)",
		     msg_name(msg->type), id, errno_name(rep->status),
		     rep->msg[0] != '\0' ? ": " : "", rep->msg);
		/* still there: not ours to give out again, unless it was given out already */
		struct idspace *s = &st->ids[msg->type == NPR_MSG_GROUP_DEL ? 1 : 0];
		if (rep->status != -ENOENT && id < s->max && !id_test(s->used, id))
			id_set(s->resv, id, true);
		return;
	}
	}
	snprintf(k, sizeof(k), "%s %s", msg_name(msg->type), errno_name(rep->status));
	slog(st, k, "the data plane refused %s: %s%s%s", msg_name(msg->type),
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
	if (ids_size(&st->ids[0], nh_max != 0 ? nh_max : DEFAULT_NH_MAX) < 0 ||
	    ids_size(&st->ids[1], group_max != 0 ? group_max : DEFAULT_GROUP_MAX) < 0 ||
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
	frames_apply(st);
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
