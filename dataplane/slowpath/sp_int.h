/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path, inside: what the files of dataplane/slowpath/ share. The contract is
 * dataplane/slowpath.h; nothing outside this folder includes this header.
 *
 * Rooms, each using only the ones above it:
 *
 *   1 base.c      subnets and addresses of the router, frames, sending, the ICMP error token
 *                 bucket, IP parsing
 *   2 host.c      host ports: frames to the host stack (punted or copied) and from it
 *   3 output.c    the neighbour cache and resolution (hold queues, ARP requests, neighbour
 *                 solicitations), routed output, ICMP errors
 *   4 input.c     forwarding what the workers could not (unresolved, too big), ARP, ND,
 *                 ICMP echo, other traffic to the router (to the host stack)
 *   5 slowpath.c  sp_input, sp_host_input, sp_periodic (timers), sp_sync (configuration
 *                 changes), create/free
 *
 * Thread: the control thread only.
 */
#ifndef NPR_SP_INT_H
#define NPR_SP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "npr/addr.h"
#include "npr/proto.h"
#include "cfg.h"
#include "fwd.h"
#include "slowpath.h"

struct rte_mbuf;

#define SP_HOLD_CAP 64u
#define SP_HOLD_TOTAL 2048u	       /* packets queued for all neighbours together */
#define SP_HOLD_IF (SP_HOLD_TOTAL / 4) /* ... and for those of one interface */
#define SP_TICK_NS 10000000ull	       /* timers are looked at every 10 ms */
#define MS 1000000ull

/* GONE: to be forgotten, but cfg refused while a batch was open: retried every tick */
enum nb_state { NB_FREE = 0, NB_INCOMPLETE, NB_REACHABLE, NB_PROBE, NB_FAILED, NB_GONE };

/* Held packets remember in m->hash.usr whether they were being forwarded (a failed
 * resolution then sends "host unreachable" about them) or were the router's own. */
enum { HOLD_OWN = 0, HOLD_FWD = 1 };

struct sp_nb {
	uint8_t addr[16];
	uint16_t ifid;
	uint8_t family;
	uint8_t state; /* enum nb_state */
	uint8_t mac[6];
	uint8_t probes;	   /* requests sent in this state */
	uint8_t published; /* cfg has it as a learnt neighbour */
	uint16_t n_hold;
	uint32_t next;	   /* hash chain: index + 1, 0 ends it */
	uint32_t pos;	   /* index in the used list */
	uint64_t deadline; /* next timer */
	struct rte_mbuf **hold;
};

struct sp_if {
	bool used, up;
	uint16_t port, mtu;
	uint8_t mac[6];
	uint8_t ll[16]; /* fe80:: + EUI-64 of mac */
};

struct slowpath {
	struct sp_conf conf;
	uint64_t cnt[NPR_STATS_SLOW_SLOTS];

	struct sp_nb *nb;
	uint32_t nb_max;
	uint32_t *bucket, bucket_mask;
	uint32_t *used, n_used;
	uint32_t *freel, n_free;
	struct rte_mbuf **hold_mem;
	uint32_t held;
	/* per interface, so that a flood to one subnet cannot starve the others: entries not
	 * resolved (INCOMPLETE, FAILED), at most unres_max each, and packets held */
	uint32_t unres[NPR_MAX_IFACES], unres_max;
	uint32_t held_if[NPR_MAX_IFACES];

	/* ICMP error token bucket, as nanoseconds of credit: an error costs `cost` */
	uint64_t credit, cost, depth, last;

	/* what was read from cfg at `version` */
	uint64_t version;
	bool synced;
	struct sp_if ifs[NPR_MAX_IFACES];
	struct cfg_addr *addr, *addr_new;
	unsigned n_addr;

	uint16_t ip_id;
	uint64_t last_tick;
	bool ticked;
};

#define CNT(sp, name) ((sp)->cnt[NPR_SLOW_##name]++)

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO16[16];
static const uint8_t ALL_NODES[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- 1. base.c ---------------------------------------------------------------------- */

/* addr is on a subnet of an address of ifid (link-local IPv6: always on-link) */
bool on_subnet(const struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a);
/* The broadcast address of a connected IPv4 subnet (directed broadcast: never resolved or
 * forwarded, RFC 2644). */
bool is_subnet_bcast4(const struct slowpath *sp, const uint8_t *a);
/* An address of ours on ifid (IPv6: its link-local address too). */
bool ours_on(const struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a);
/* Count m under counter and free it. */
void drop(struct slowpath *sp, struct rte_mbuf *m, unsigned counter);
/* A fresh mbuf with room for a frame: *ip points after the Ethernet header, *cap is what
 * fits there. Append the frame length with frame_done. NULL: out of mbufs (counted). */
struct rte_mbuf *frame_new(struct slowpath *sp, uint8_t **ip, size_t *cap);
void frame_done(struct rte_mbuf *m, size_t ip_len, uint16_t ethertype);
/* Send a complete frame (MACs written here) out of interface ifid. */
void if_send(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, const uint8_t *dst);
/* Take one ICMP error's credit from the token bucket: false if none is left. */
bool bucket_take(struct slowpath *sp, uint64_t now);

struct ipinfo {
	unsigned family;
	uint8_t *ip;
	uint32_t len; /* the datagram */
	uint32_t hlen;
	const uint8_t *src, *dst;
	uint8_t proto; /* IPv6: the fixed header's next header */
	uint8_t ttl;
	bool df, frag, first; /* IPv4 */
};

/* 0 if m holds a whole IPv4 or IPv6 datagram (the workers checked it; checked again). */
int ip_parse(struct rte_mbuf *m, struct ipinfo *pi);

/* ---- 2. host.c ---------------------------------------------------------------------- */

/* Link-local multicast or the limited broadcast (224.0.0.0/24, 255.255.255.255, ff02::/16):
 * for every host on the link, the host stack included. */
bool host_link_group(unsigned family, const uint8_t *dst);
/* Give m (received on ifid, for the router) to the host stack and free it, counted
 * HOST_TO_KERNEL, or dropped: HOST_DROP when there is no host port on ifid or its queue is
 * full, `fail` when the write failed. false: host ports are off; m is left to the caller
 * (who does what the router did without them). */
bool host_punt(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned fail);
/* A copy of m to the host stack (ARP, NS/NA: the slow path handles them too); m stays. */
void host_copy(struct slowpath *sp, const struct rte_mbuf *m, unsigned ifid);
/* What the host stack sent on ifid's host port: checked, copied and sent (sp_host_input). */
void host_output(struct slowpath *sp, unsigned ifid, const uint8_t *f, uint32_t len);

/* ---- 3. output.c -------------------------------------------------------------------- */

struct sp_nb *nb_lookup(struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a);
struct sp_nb *nb_create(struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a,
			uint64_t now);
/* The entry's queue must be empty. */
void nb_delete(struct slowpath *sp, struct sp_nb *e);
/* Drop what waits for e; about forwarded packets, "host unreachable" (RFC 1812 4.3.3.1). */
void nb_fail_hold(struct slowpath *sp, struct sp_nb *e, uint64_t now);
/* ARP request or neighbour solicitation for e: to its MAC (refresh) or to everyone. */
void nb_solicit(struct slowpath *sp, struct sp_nb *e, bool unicast);
/* A neighbour answered (or spoke to us): remember it, publish it, send what waited for it.
 * create: make an entry if there is none. */
void nb_learn(struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a,
	      const uint8_t *mac, bool create, uint64_t now);
/* Forget a learnt neighbour (here and in cfg) and what waited for it. */
void nb_forget(struct slowpath *sp, struct sp_nb *e, unsigned counter, uint64_t now);
/* IPv4 without DF over a smaller MTU (r->mtu): fragments (tagged kind, HOLD_*), each sent
 * along r; m is freed. */
void fragment4(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi,
	       const struct cfg_route *r, unsigned kind, uint64_t now);
/* Send m along route r: to its MAC, a known neighbour, or queued while it is resolved; a
 * datagram beyond the interface's MTU is fragmented, answered with an ICMP error or dropped. */
void nb_output(struct slowpath *sp, struct rte_mbuf *m, const struct cfg_route *r, uint64_t now);
/* A datagram the router originates: routed to dst; link-local IPv6 goes out of ifid. */
void ip_output(struct slowpath *sp, struct rte_mbuf *m, unsigned family, const uint8_t *dst,
	       unsigned ifid, uint64_t now);
/* Send an ICMP error about m (from interface ifid) and free m. */
void icmp_error(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint8_t type, uint8_t code,
		uint32_t rest, unsigned counter, uint64_t now);
/* Destination unreachable for an exception kind (NPR_EXC_*). */
void icmp_unreach(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned family,
		  unsigned kind, uint64_t now);
void icmp_time_exceeded(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned family,
			uint64_t now);

/* ---- 4. input.c --------------------------------------------------------------------- */

/* A packet the workers could not forward by themselves: route it again (the tables may
 * have changed) and send it, queue it, fragment it or answer with an ICMP error. */
void sp_forward(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now);
void arp_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now);
/* IPv6 to the router (unicast) or to a group on the link (mcast). */
void ip6_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, bool mcast, uint64_t now);
/* IPv4 to one of the router's addresses. */
void ip4_local(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now);
/* IPv4 to a group or a broadcast address (link-layer broadcast or multicast). */
void ip4_mcast(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid);

#endif
