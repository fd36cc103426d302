/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM bridge's mirror of zebra's state and its mapping onto data-plane objects: decoded
 * events (fpm.h) in, data-plane request messages (proto.h) out, through a sink. No sockets, no
 * ring client, no clock: the bridge (fpm_bridge.c) owns those, and the unit tests drive this
 * module with events and read what it sent from a list.
 *
 * What it keeps (the mirror): zebra's routes of one table, (family, prefix, length) → a
 * next-hop object and the route's protocol, and zebra's next-hop objects. Everything that
 * forwards is an object of the mirror, and each maps onto one data-plane object of our
 * origin, with an id of our own (dense, allocated, never zebra's):
 *
 *   zebra next-hop object (NHG mode)   single next hop → NH_SET, group → GROUP_SET,
 *                                      blackhole → NH_SET kind BLACKHOLE; a change to it is
 *                                      an in-place set of the same id (routes unchanged)
 *   inline next hop (no NHG mode)      one object per (ifindex, family, gateway, onlink):
 *                                      NH_SET, shared by every route using it
 *   inline next-hop list (RTA_MULTIPATH)  one object per set of (inline next hop, weight):
 *                                      GROUP_SET, shared likewise
 *   blackhole / unreachable / prohibit route  one NH_SET of that kind, shared
 *
 * Objects are reference-counted by the mirror's routes and groups; an inline or special
 * object whose count falls to 0 is deleted after the routes moved away (in flush); a zebra
 * object lives until zebra deletes it. A route is installed when its object is usable:
 * defined (a route may name a zebra id not defined yet: it waits, "pending"), on an
 * interface nprouter has, of the route's family (IPv4 over an IPv6 gateway is not supported
 * yet), and not a connected route (protocol kernel over interface-only next hops: nprouter
 * makes its own from its addresses). Each route not installed is counted under one reason.
 *
 * Frames: events are applied at the end of their frame, and only then, so that a frame is
 * applied whole or not at all (fpm_state_frame_error drops it) and zebra's route update
 * (RTM_DELROUTE + RTM_NEWROUTE in one frame) becomes one ROUTE_ADD, never a DEL.
 *
 * Order of what is sent: an object before the routes and groups that use it; route entries
 * gathered into ROUTE4/6_ADD / _DEL messages of up to NPR_ROUTE4_MAX / NPR_ROUTE6_MAX
 * entries, handed on when one fills, when the operation of a family changes (so that the
 * data plane applies a prefix's changes in their order) and in fpm_state_flush; object
 * deletions only in fpm_state_flush, after the route messages.
 *
 * Resync (mark and sweep, proto.h SYNC_BEGIN/END): fpm_state_replay_begin when zebra
 * connects (SYNC_BEGIN); while the data plane's sync is open, everything zebra sends is
 * re-sent even if unchanged, with every object it uses re-sent first once, so that the data
 * plane keeps it; fpm_state_replay_end when the replay settled: the mirror's routes and
 * objects zebra did not replay are deleted explicitly, then SYNC_END removes anything of our
 * origin the mirror does not know (an earlier bridge's). After a data plane restart,
 * fpm_state_attach + fpm_state_resync send the whole mirror inside SYNC_BEGIN/END.
 *
 * One thread; the sink's callbacks must not call back into the state.
 */
#ifndef NPR_CTL_FPM_STATE_H
#define NPR_CTL_FPM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"
#include "fpm.h"

/* Administrative distance by rtm_protocol (zebra selected one route per prefix already: the
 * distance only matters against nprouter's other origins, config and cli at 1):
 *   static (196 zebra's, 4 boot) 1, bgp (186) 20, eigrp (192) 90, babel (42) 100,
 *   ospf (188) 110, isis (187) 115, openfabric (197) 115, rip / ripng (189 / 190) 120,
 *   anything else (kernel routes with a gateway, zebra 11, sharp, ...) 150. */
#define FPM_DISTANCE_OTHER 150u
unsigned fpm_distance(uint8_t protocol);

/* Why a route of the mirror (or a next-hop object) is not in the data plane. */
enum fpm_why {
	FPM_WHY_OK = 0,	   /* installed */
	FPM_WHY_PENDING,   /* its zebra next-hop object (or a member) is not defined yet */
	FPM_WHY_NO_IFACE,  /* a next hop on an interface nprouter does not have */
	FPM_WHY_RFC5549,   /* an IPv4 route over an IPv6 next hop: not supported yet */
	FPM_WHY_FAMILY,	   /* an IPv6 route over an IPv4 gateway */
	FPM_WHY_CONNECTED, /* protocol kernel over interface-only next hops: dropped */
	FPM_WHY_GROUP,	   /* a group nprouter cannot hold (a member not a forward next hop) */
	FPM_WHY_NO_ID,	   /* the data plane's next hop or group ids are all taken */
	FPM_WHY_REJECTED,  /* the data plane refused it or its next hop */
	FPM_WHY_MAX
};
const char *fpm_why_name(enum fpm_why w);

/* Where the state's output goes. Every callback is required. */
struct fpm_sink {
	void *ctx;
	/* A request for the data plane, in order (hdr.type and hdr.len set; the sink fills in
	 * version and seq). Valid during the call: a sink that keeps it copies it. */
	void (*msg)(void *ctx, const struct npr_msg_hdr *m);
	/* zebra's ifindex → nprouter's interface id, or -1 if nprouter has no such interface */
	int (*ifid)(void *ctx, uint32_t ifindex);
	/* One line for the operator (no newline); the state says each kind of trouble once
	 * (then every 10,000th time, with the count). */
	void (*log)(void *ctx, const char *line);
};

/* Counters for operators and tests. Gauges say "now"; the rest count since the start. */
struct fpm_state_stats {
	uint64_t routes[2];	   /* gauge: the mirror's IPv4, IPv6 routes */
	uint64_t why[FPM_WHY_MAX]; /* gauge: the mirror's routes by state (OK: installed) */
	uint64_t objects;	   /* gauge: next-hop objects in the mirror */
	uint64_t zebra_objects;	   /* gauge: of them, zebra's (NHG mode) */
	uint64_t route_events;	   /* applied (frames not dropped) */
	uint64_t nexthop_events;   /* applied */
	uint64_t frames_dropped;   /* frames with a malformed message: nothing applied */
	uint64_t msgs[NPR_MSG_REQ_LAST + 1]; /* messages handed to the sink, by type */
	uint64_t route_adds, route_dels;     /* route entries in them */
	uint64_t rejected;		     /* messages the data plane refused */
	uint64_t resent;		     /* route messages sent again without their bad entry */
	uint64_t weights_scaled;	     /* groups whose weights were scaled down */
	uint64_t rescans;		     /* walks of the whole mirror after an object changed */
	uint64_t swept_routes, swept_objects; /* not replayed: removed by replay_end */
	uint64_t withdrawn_routes;	      /* removed by fpm_state_withdraw_all */
};

/* What replay_end found and removed. */
struct fpm_sweep {
	uint64_t routes_seen, objects_seen; /* replayed */
	uint64_t routes_swept, objects_swept;
};

struct fpm_state;

/* nh_max, group_max: the data plane's id spaces (ids 1..max-1), or 0 for the defaults
 * until fpm_state_attach says. NULL with errno ENOMEM. */
struct fpm_state *fpm_state_new(const struct fpm_sink *sink, uint32_t nh_max, uint32_t group_max);
void fpm_state_free(struct fpm_state *st);

/* ---- events, as the decoder delivers them (fpm_ops) ---- */
void fpm_state_route(struct fpm_state *st, const struct fpm_route *r);
void fpm_state_nexthop(struct fpm_state *st, const struct fpm_nexthop *nh);
/* The frame being delivered has a malformed message: none of its events will be applied. */
void fpm_state_frame_error(struct fpm_state *st);
/* The frame is whole: its events will be applied (their net effect), or are dropped after
 * frame_error. Whole frames are gathered and applied in batches (every call below applies
 * them first), so that the table lookups of the next ones overlap. */
void fpm_state_frame_end(struct fpm_state *st);
/* Hand on what is gathered: the route messages, then the deletions of objects no longer
 * used. Call it when the socket has nothing more to read, and before waiting. */
void fpm_state_flush(struct fpm_state *st);

/* ---- zebra's sessions ---- */
/* zebra connected: SYNC_BEGIN, and a new replay (every route and object is unseen). */
void fpm_state_replay_begin(struct fpm_state *st);
/* The replay settled: what zebra did not send is deleted (explicitly), then SYNC_END. */
void fpm_state_replay_end(struct fpm_state *st, struct fpm_sweep *out);
/* zebra went away (the events of a partial frame are dropped). Nothing else changes. */
void fpm_state_zebra_lost(struct fpm_state *st);
bool fpm_state_replay_open(const struct fpm_state *st);
/* The hold time ran out: SYNC_BEGIN + SYNC_END with nothing between removes every object of
 * our origin from the data plane; the mirror is emptied. Returns the routes it held. */
uint64_t fpm_state_withdraw_all(struct fpm_state *st);

/* ---- the data plane ---- */
/* A data plane to program, at the start or after a restart (or a broken session): its id
 * spaces (0: keep), and the ids our origin holds there already, which new objects avoid
 * until the next sweep (SYNC_END) succeeds. Everything the state believed sent is
 * forgotten; every object gets a new id and is re-resolved (sink->ifid). 0 or -ENOMEM. */
int fpm_state_attach(struct fpm_state *st, uint32_t nh_max, uint32_t group_max,
		     const uint32_t *nh_taken, size_t n_nh, const uint32_t *group_taken,
		     size_t n_group);
/* Send the whole mirror: SYNC_BEGIN, the objects (next hops, then groups), the routes, and
 * SYNC_END unless a replay is open (its replay_end sends it). Returns the routes sent. */
uint64_t fpm_state_resync(struct fpm_state *st);
/* nprouter's interfaces changed: every next hop's interface is looked up again (sink->ifid);
 * those that change are sent again, and their routes follow. */
void fpm_state_ifaces_changed(struct fpm_state *st);
/* The answer to SYNC_END: when it succeeded, the ids taken at attach are free. */
void fpm_state_sync_done(struct fpm_state *st, int status);
/* The data plane refused msg (a copy of what the sink was given) with rep. Route messages:
 * the bad entry (and for a missing target, every entry with that target) is dropped and
 * counted, and the rest is sent again as the mirror now wants it. A refused object makes
 * the routes using it uninstalled. A refused deletion keeps its id out of use until the
 * next sweep. Logs once per kind. */
void fpm_state_rejected(struct fpm_state *st, const struct npr_msg_hdr *msg,
			const struct npr_reply *rep);

/* (Applies the frames gathered first.) */
const struct fpm_state_stats *fpm_state_stats(struct fpm_state *st);
/* Bytes the mirror's tables and objects take (for the stats line). */
size_t fpm_state_bytes(const struct fpm_state *st);

/* ---- saying a kind of trouble once ----
 * fpm_once_hit counts key and says whether to log this time: the first time, then every
 * 10,000th. Up to FPM_ONCE_KEYS keys (more share the last slot). */
#define FPM_ONCE_KEYS 64
#define FPM_ONCE_KEYLEN 48
#define FPM_ONCE_EVERY 10000u
struct fpm_once {
	unsigned n;
	struct {
		char key[FPM_ONCE_KEYLEN];
		uint64_t count;
	} k[FPM_ONCE_KEYS];
};
/* true: log it; *count: how many times, this one included */
bool fpm_once_hit(struct fpm_once *o, const char *key, uint64_t *count);

#endif
