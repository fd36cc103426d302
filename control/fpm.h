/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FPM stream decoder: turns the bytes that FRR zebra's dplane_fpm_nl module writes to
 * its TCP peer into route and next-hop events. No I/O, no allocation, no globals: the caller
 * reads the socket and feeds what it read; the callbacks run inside fpm_feed.
 *
 * The stream is a sequence of frames:
 *
 *   0        1        2                 4
 *   +--------+--------+-----------------+------------------------------------------+
 *   | ver: 1 | type: 1| length, big end.| netlink messages, NLMSG_ALIGN'ed, host   |
 *   |        |netlink | header included | byte order, filling the rest of the frame |
 *   +--------+--------+-----------------+------------------------------------------+
 *
 * zebra puts one data-plane operation in a frame: one message, or for a route update an
 * RTM_DELROUTE followed by the RTM_NEWROUTE (ops->frame_end lets the caller apply the two
 * together). A frame may arrive split across reads, and a read may hold several frames.
 *
 * Every netlink message ends in exactly one of:
 *   delivered  RTM_NEWROUTE / RTM_DELROUTE of AF_INET / AF_INET6 in the reader's table, of
 *              type unicast, blackhole, unreachable or prohibit (ops->route); RTM_NEWNEXTHOP
 *              / RTM_DELNEXTHOP (ops->nexthop). Only a whole, valid message is delivered.
 *   skipped    a route or next hop this decoder does not hand on: another family (MPLS label
 *              routes), another table, another route type (local, multicast, ...), or
 *              something nprouter cannot forward (encapsulation, source-specific routes, FDB
 *              next hops, resilient groups): counted, and told through ops->skip.
 *              Any other message type (neighbours, links, NLMSG_DONE, ...) is only counted.
 *   an error   a malformed message: told once through ops->error, in one line naming the
 *              message type, the prefix or next-hop id when known, and what is wrong. The
 *              frame goes on with the next message while the lengths can be trusted; a bad
 *              nlmsg_len skips the rest of the frame (one error).
 * Skipped routes are checked only as far as their prefix and table. A frame header that is
 * not version 1, type 1, length >= 4 breaks the stream: fpm_feed returns -EPROTO.
 *
 * One reader per connection; not thread-safe; a callback must not feed the same reader.
 * Built into libnprfpm (control/meson.build).
 */
#ifndef NPR_CTL_FPM_H
#define NPR_CTL_FPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"

#define FPM_HDR_LEN 4u
#define FPM_FRAME_MAX 65535u /* the length field is 16 bits */
#define FPM_TYPE_SLOTS 128u  /* stats.other: by nlmsg_type, the last slot for 127 and above */

/* One next hop: a gateway, an interface, or both. */
struct fpm_nh {
	uint8_t family;	  /* of gw: NPR_AF_INET / NPR_AF_INET6; 0: none (interface route) */
	bool onlink;	  /* RTNH_F_ONLINK: the gateway is on ifindex whatever its subnets */
	uint16_t weight;  /* 1..256 */
	uint32_t ifindex; /* zebra's kernel interface index; 0: none (then family != 0) */
	uint8_t gw[16];	  /* network byte order; IPv4 in the first 4 bytes, the rest zero */
};

struct fpm_route {
	bool del;	    /* RTM_DELROUTE */
	uint8_t family;	    /* NPR_AF_INET / NPR_AF_INET6 */
	uint8_t plen;	    /* 0..32 / 0..128; no bits set in prefix beyond it */
	uint8_t kind;	    /* enum npr_nh_kind; on a delete 0 if it does not say (RTN_UNSPEC) */
	uint8_t protocol;   /* rtm_protocol: RTPROT_BGP, RTPROT_OSPF, ... */
	uint8_t prefix[16]; /* as gw above */
	uint32_t metric;    /* RTA_PRIORITY, 0 if absent */
	uint32_t nh_id;	    /* RTA_NH_ID: the route forwards by this next-hop object; 0: none */
	/* NPR_NH_FORWARD and not deleted: either nh_id or 1..NPR_GROUP_MAX_MEMBERS next hops
	 * (one with RTA_GATEWAY / RTA_VIA / RTA_OIF, several with RTA_MULTIPATH). A delete
	 * carries what it was sent (zebra sends no next hop). Other kinds: none. Only
	 * nh[0..n_nh) is set: the entries after it are not even zeroed. */
	unsigned n_nh;
	struct fpm_nh nh[NPR_GROUP_MAX_MEMBERS];
};

struct fpm_group_member {
	uint32_t id;	 /* another next-hop object */
	uint16_t weight; /* 1..256 */
};

struct fpm_nexthop {
	bool del;	  /* RTM_DELNEXTHOP: only id is set */
	bool blackhole;	  /* NHA_BLACKHOLE: no nh, no group */
	uint8_t family;	  /* nh_family: NPR_AF_*, 0 (AF_UNSPEC: zebra's groups) */
	uint8_t protocol; /* nh_protocol */
	uint32_t id;	  /* NHA_ID, never 0 */
	struct fpm_nh nh; /* not a group, not a blackhole: the next hop (weight 1) */
	unsigned n_grp;	  /* NHA_GROUP: 1..NPR_GROUP_MAX_MEMBERS distinct members, not id */
	struct fpm_group_member grp[NPR_GROUP_MAX_MEMBERS];
};

enum fpm_skip {
	FPM_SKIP_FAMILY,      /* neither IPv4 nor IPv6 (zebra's MPLS label routes) */
	FPM_SKIP_TABLE,	      /* a route of another table (a VRF) */
	FPM_SKIP_ROUTE_TYPE,  /* local, broadcast, anycast, multicast, throw, nat, ... */
	FPM_SKIP_UNSUPPORTED, /* encapsulation, source-specific, FDB next hop, resilient group */
	FPM_SKIP_REASONS,
};

/* Counters for operators: the caller may read or zero them between calls. */
struct fpm_stats {
	uint64_t bytes;			    /* fed */
	uint64_t frames;		    /* with a valid header, decoded */
	uint64_t messages;		    /* netlink messages in them, whatever became of them */
	uint64_t routes;		    /* ops->route events */
	uint64_t nexthops;		    /* ops->nexthop events */
	uint64_t errors;		    /* ops->error calls */
	uint64_t skipped[FPM_SKIP_REASONS]; /* route and next-hop messages, by reason */
	uint64_t other[FPM_TYPE_SLOTS];	    /* other messages, by nlmsg_type */
};

/* Callbacks; any may be NULL. The event and text pointers are valid during the call only. */
struct fpm_ops {
	void (*route)(void *ctx, const struct fpm_route *r);
	void (*nexthop)(void *ctx, const struct fpm_nexthop *nh);
	/* After the last message of every decoded frame (even an empty one). */
	void (*frame_end)(void *ctx);
	/* A route or next-hop message skipped: "RTM_NEWROUTE 10.0.0.0/8: ignored (table 10)". */
	void (*skip)(void *ctx, enum fpm_skip why, const char *what);
	/* A malformed message, a frame cut short, or a broken stream, in one line. */
	void (*error)(void *ctx, const char *what);
};

struct fpm_reader {
	uint32_t table; /* the routing table delivered; others are skipped */
	struct fpm_stats stats;
	/* private: the frame being gathered */
	uint32_t have;
	uint8_t buf[FPM_FRAME_MAX];
};

/* table: the kernel table id whose routes are delivered; 0 means RT_TABLE_MAIN (254).
 * Zeroes the counters. */
void fpm_reader_init(struct fpm_reader *r, uint32_t table);
/* A new connection: drops a partial frame; keeps the table and the counters. */
void fpm_reader_reset(struct fpm_reader *r);
/* Decode buf[0..n): every whole frame now complete; a partial one is kept for the next call.
 * Returns 0, or -EPROTO if the stream is broken (a frame header is invalid, told through
 * ops->error): the caller must close the connection; the bytes after that header are not
 * read and the reader is reset. */
int fpm_feed(struct fpm_reader *r, const uint8_t *buf, size_t n, const struct fpm_ops *ops,
	     void *ctx);
/* Decode one whole frame, header included, with r's table and counters (r's partial frame
 * is left alone). Returns 0, or -EPROTO if the header is invalid or its length is not len. */
int fpm_frame(struct fpm_reader *r, const uint8_t *frame, size_t len, const struct fpm_ops *ops,
	      void *ctx);

/* "family", "table", "route type", "unsupported" */
const char *fpm_skip_name(enum fpm_skip why);

#endif
