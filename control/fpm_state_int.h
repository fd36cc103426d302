/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the FPM bridge's mirror: included by fpm_state.c, fpm_session.c and
 * fpm_objects.c only. The state's struct, the object types they use, and the functions one
 * calls in another: fpm_objects.c's ids and objects, fpm_state.c's log line, routes and
 * frames, and fpm_emit (here, inline).
 */
#ifndef NPR_CTL_FPM_STATE_INT_H
#define NPR_CTL_FPM_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fpm_rtab.h"
#include "fpm_state.h"

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

struct rbuf {
	uint16_t type; /* of the message gathered; 0 none */
	uint32_t n;
	_Alignas(8) uint8_t m[NPR_MSG_MAX];
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

/* struct touch and struct fev, the frames' records, are fpm_state.c's */
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
/* Output: every message goes out here (fpm_state.c's output, fpm_objects.c's object sets) */

static inline void
fpm_emit(struct fpm_state *st, void *m)
{
	const struct npr_msg_hdr *h = m;
	if (st->mute)
		return;
	if (h->type <= NPR_MSG_REQ_LAST)
		st->st.msgs[h->type]++;
	st->sink.msg(st->sink.ctx, h);
}

/* ---------------------------------------------------------------------------------------- */
/* Logging (fpm_state.c) */

void fpm_slog(struct fpm_state *st, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------------------------------- */
/* Routes, their output and the frames (fpm_state.c), for the sessions (fpm_session.c) */

/* Add one route entry (target 0 for DEL) to fam's message; hand that message on. */
void fpm_rbuf_add(struct fpm_state *st, int fam, bool del, const uint8_t *key, uint8_t proto,
		  uint32_t target);
void fpm_rbuf_send(struct fpm_state *st, int fam);
/* Remove a route whose data-plane side is settled; drops its reference. */
void fpm_route_forget(struct fpm_state *st, int fam, uint32_t slot);
/* Bring the data plane to what the mirror wants for entry e (of fam), which had pre_flags
 * (RF_INST / RF_FAILED) and, if installed, pre_target and pre_proto. */
void fpm_route_settle(struct fpm_state *st, int fam, uint8_t *e, uint8_t pre_flags,
		      uint32_t pre_target, uint8_t pre_proto);
/* Apply the whole frames gathered, in order; drop the one being delivered, apply the rest. */
void fpm_frames_apply(struct fpm_state *st);
void fpm_frame_reset(struct fpm_state *st);

/* ---------------------------------------------------------------------------------------- */
/* Ids (fpm_objects.c) */

int fpm_ids_size(struct idspace *s, uint32_t max);
bool fpm_id_test(const uint64_t *b, uint32_t id);
void fpm_id_set(uint64_t *b, uint32_t id, bool on);
uint32_t fpm_id_alloc(struct idspace *s);
void fpm_id_free(struct idspace *s, uint32_t id);
struct idspace *fpm_space_of(struct fpm_state *st, uint8_t cls);

/* ---------------------------------------------------------------------------------------- */
/* Objects: life (fpm_objects.c) */

void fpm_zero_push(struct fpm_state *st, uint32_t idx);
void fpm_ref(struct fpm_state *st, uint32_t idx);
void fpm_unref(struct fpm_state *st, uint32_t idx);
void fpm_defer_del(struct fpm_state *st, uint8_t cls, uint32_t id);
void fpm_obj_clear_members(struct fpm_state *st, struct fo *o);
void fpm_obj_free(struct fpm_state *st, uint32_t idx);

/* ---------------------------------------------------------------------------------------- */
/* Objects: what they are worth (fpm_objects.c) */

uint32_t fpm_obj_target(const struct fo *o);
uint8_t fpm_obj_cls(const struct fo *o);
void fpm_obj_eval(const struct fpm_state *st, const struct fo *o, uint8_t *why, uint8_t *flags);
void fpm_ensure_sent(struct fpm_state *st, uint32_t idx);
void fpm_obj_send(struct fpm_state *st, uint32_t idx);
void fpm_obj_update(struct fpm_state *st, uint32_t idx, bool send);

/* ---------------------------------------------------------------------------------------- */
/* Objects: finding them (fpm_objects.c) */

uint32_t fpm_find_zebra(struct fpm_state *st, uint32_t zid);
uint32_t fpm_get_zebra(struct fpm_state *st, uint32_t zid);
void fpm_nh_define(struct fpm_state *st, struct fo *o, const struct fpm_nh *nh);
uint32_t fpm_route_obj(struct fpm_state *st, const struct fpm_route *r);

#endif
