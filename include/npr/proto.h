/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter control <-> data plane protocol (ABI version NPR_ABI_VERSION).
 *
 * Every message is a record in one of the two shared-memory rings (see ring.h):
 *   request ring: control -> data plane     reply ring: data plane -> control
 *
 * A record is a struct npr_msg_hdr followed by a type-specific body; hdr.len is the total
 * length in bytes, a multiple of 8, at most NPR_MSG_MAX. All integers are host byte order
 * (both processes run on the same host); addresses are network byte order (as on the wire).
 * Every reserved or padding field must be zero: the data plane rejects a message whose
 * reserved bytes are not zero, so that later versions can give them a meaning.
 *
 * Every request gets exactly one reply (struct npr_reply) carrying the request's seq, except
 * dump requests, which get zero or more NPR_MSG_DUMP_CHUNK records (same seq) and then one
 * reply. Requests are processed in order.
 *
 * Objects:
 *   interface  id 0..NPR_MAX_IFACES-1, bound to one DPDK port, has a name, MAC, MTU, up/down.
 *              Its MTU is at most what the port carries (npr_dump_port.max_mtu, ABI 3): a
 *              larger one is refused (-ERANGE), naming the port, its limit and what sets it.
 *   address    (interface, family, address, prefix length): the router's own address; it installs
 *              a host route whose target is NPR_TARGET_LOCAL (packets to it leave the fast path)
 *              and the route to its connected subnet (NPR_TARGET_CONNECTED), unless a route to
 *              that exact prefix exists; removing the address removes both, and the neighbours
 *              learnt on that subnet.
 *   neighbour  (interface, family, address) -> MAC. Gateway next hops without an explicit MAC
 *              take their MAC from here; changing it changes no route. Configured (static)
 *              neighbours never age; the data plane also learns neighbours itself with ARP / ND
 *              (dynamic: aged, listed by NPR_DUMP_NEIGHS_LEARNT, not by NPR_DUMP_NEIGHS, never
 *              removed by SYNC_END). NEIGH_SET on a learnt one makes it static; NEIGH_DEL
 *              removes either.
 *   next hop   id 1..nh_max-1: forward (interface + gateway, MAC explicit or from neighbours),
 *              blackhole, unreachable or prohibit.
 *   group      id 1..group_max-1: weighted list of forward next hops (ECMP); flows are kept on
 *              one member by a hash of the 5-tuple.
 *   route      (family, prefix, length) -> target: a next hop id, or NPR_TARGET_GROUP | group id.
 *
 * Semantics:
 *   - ROUTE_ADD creates the route or replaces its target if it exists (replace semantics).
 *     ROUTE_REPLACE fails with -ENOENT if the route does not exist. ROUTE_DEL fails with -ENOENT
 *     if it does not exist.
 *   - A prefix with bits set beyond its length is rejected with -EINVAL (never normalised).
 *   - A route to a next hop or group that does not exist is rejected with -ENOENT; deleting a
 *     next hop or group that a route or group still uses fails with -EBUSY.
 *   - Route messages carry up to NPR_ROUTE4_MAX / NPR_ROUTE6_MAX entries; outside a batch a
 *     route message is applied whole or not at all; reply.index names the first bad entry.
 *   - BATCH_BEGIN ... BATCH_COMMIT: every message in between is validated when it arrives (and
 *     gets its reply), but nothing reaches the forwarding tables before the commit. If any of
 *     them failed, or BATCH_ABORT is sent, the whole batch is dropped and the commit reply
 *     carries -ECANCELED. The commit itself cannot fail once its messages validated.
 *   - SYNC_BEGIN ... SYNC_END: a full resync. Every object set or added in between is kept;
 *     every object not re-sent is removed at SYNC_END. Send it inside a batch to make the
 *     resync atomic. It touches only the objects of the session's origin (below).
 *
 * Sessions and origins (ABI 2):
 *   - Up to NPR_SHM_SLOTS control sessions at once (shm.h), each on its own pair of rings. A
 *     session opens with HELLO, which names its origin: who it speaks for (enum npr_origin).
 *   - Next hop and group ids are per origin: nh 5 of the config daemon and nh 5 of the FPM
 *     bridge are two objects. A route or group refers to its own origin's next hops only.
 *   - Routes belong to an origin. Several origins may hold the same prefix; the FIB gets the
 *     one with the lowest administrative distance (a route's distance, 0 in a request meaning
 *     the origin's default, npr_origin_distance), ties to the lower origin number. The others
 *     wait, and the best of them takes over when the selected one goes. A route of any client
 *     origin hides the connected route on the same prefix (which comes back when it goes);
 *     the router's own addresses cannot be routed elsewhere.
 *   - Interfaces, addresses and configured neighbours are shared, owned by the origin that
 *     set them last; a resync removes only what its origin owns.
 *   - Dumps show the session's own origin's objects, or every origin's with
 *     NPR_DUMP_F_ALL_ORIGINS (each entry then says its origin).
 *   - A batch is exclusive: while one session's batch is open, the others wait (at most one
 *     batch; a batch whose session dies or stays silent for NPR_BATCH_IDLE_MS is aborted).
 */
#ifndef NPR_PROTO_H
#define NPR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define NPR_ABI_VERSION 4u
#define NPR_SHM_MAGIC 0x5245545541525031ull /* "1PRAUTER" little-endian, arbitrary */

#define NPR_MSG_MAX 65536u /* largest record, header included */
#define NPR_MTU_MIN 68u	   /* interface MTUs: L3, the same for IPv4 and IPv6 */
#define NPR_MTU_MAX 9000u
#define NPR_MTU_DEFAULT 1500u
#define NPR_NAME_LEN 16u /* interface names: NUL-terminated, at most 15 chars */
#define NPR_MAX_IFACES 256u
#define NPR_MAX_PORTS 64u
#define NPR_MAX_WORKERS 64u
#define NPR_GROUP_MAX_MEMBERS 64u
#define NPR_GROUP_MAX_WEIGHT 256u /* per member; sum of weights <= NPR_GROUP_MAX_SLOTS */
#define NPR_GROUP_MAX_SLOTS 1024u

#define NPR_ROUTE4_MAX 4096u
#define NPR_ROUTE6_MAX 2048u

/* Route targets: a next hop id, or a group id with this flag. */
#define NPR_TARGET_GROUP 0x40000000u
#define NPR_TARGET_LOCAL 0x20000000u /* only in dumps and lookups: an address of the router */
/* Only in dumps and lookups, always with NPR_TARGET_LOCAL: the connected subnet of an address,
 * target = NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | interface id. Hosts on it are resolved
 * with ARP / neighbour discovery. (A plain NPR_TARGET_LOCAL is the address itself.) */
#define NPR_TARGET_CONNECTED 0x10000000u
#define NPR_TARGET_ID_MASK 0x1fffffffu

enum npr_family { NPR_AF_INET = 4, NPR_AF_INET6 = 6 };

/* Who a session speaks for. NONE is the data plane itself (connected and local routes). */
enum npr_origin {
	NPR_ORIGIN_NONE = 0,
	NPR_ORIGIN_CONFIG = 1, /* the YANG configuration (nprouter-control apply / run) */
	NPR_ORIGIN_CLI = 2,    /* an operator's commands (nprouter-control CLI, load) */
	NPR_ORIGIN_ZEBRA = 3,  /* FRR's zebra through the FPM bridge */
	NPR_ORIGIN_MAX = 4,
};
#define NPR_ORIGIN_F_INACTIVE 0x80u /* dumps: a route that is not the selected one */
#define NPR_BATCH_IDLE_MS 5000u

static inline const char *
npr_origin_name(unsigned o)
{
	static const char *const n[] = { "connected", "config", "cli", "zebra" };
	return o < NPR_ORIGIN_MAX ? n[o] : "?";
}

/* Administrative distance of a route sent with distance 0. */
static inline unsigned
npr_origin_distance(unsigned o)
{
	return o == NPR_ORIGIN_NONE ? 0 : o == NPR_ORIGIN_ZEBRA ? 20 : 1;
}

enum npr_msg_type {
	NPR_MSG_NONE = 0,
	/* requests */
	NPR_MSG_HELLO = 1, /* struct npr_msg_hello. Opens a session: aborts a batch a dead
			    * session left open on this slot. reply.value = data plane instance
			    * id, reply.index = the session's slot */
	NPR_MSG_IFACE_SET = 2,
	NPR_MSG_IFACE_DEL = 3,
	NPR_MSG_ADDR_ADD = 4,
	NPR_MSG_ADDR_DEL = 5,
	NPR_MSG_NEIGH_SET = 6,
	NPR_MSG_NEIGH_DEL = 7,
	NPR_MSG_NH_SET = 8,
	NPR_MSG_NH_DEL = 9,
	NPR_MSG_GROUP_SET = 10,
	NPR_MSG_GROUP_DEL = 11,
	NPR_MSG_ROUTE4_ADD = 12,
	NPR_MSG_ROUTE4_REPLACE = 13,
	NPR_MSG_ROUTE4_DEL = 14,
	NPR_MSG_ROUTE6_ADD = 15,
	NPR_MSG_ROUTE6_REPLACE = 16,
	NPR_MSG_ROUTE6_DEL = 17,
	NPR_MSG_BATCH_BEGIN = 18,
	NPR_MSG_BATCH_COMMIT = 19,
	NPR_MSG_BATCH_ABORT = 20,
	NPR_MSG_SYNC_BEGIN = 21,
	NPR_MSG_SYNC_END = 22,
	NPR_MSG_STATS_REQ = 23, /* reply: one DUMP_CHUNK of kind NPR_DUMP_STATS, then a reply */
	NPR_MSG_DUMP_REQ = 24,
	NPR_MSG_LOOKUP = 25, /* FIB lookup of one address, answered in reply.value */
	NPR_MSG_STATS_CLEAR = 26,
	NPR_MSG_REQ_LAST = NPR_MSG_STATS_CLEAR,
	/* replies */
	NPR_MSG_REPLY = 0x8001,
	NPR_MSG_DUMP_CHUNK = 0x8002,
};

struct npr_msg_hdr {
	uint16_t type;	   /* enum npr_msg_type */
	uint16_t version;  /* NPR_ABI_VERSION */
	uint32_t len;	   /* total record length in bytes, header included, multiple of 8 */
	uint32_t seq;	   /* chosen by the sender of the request, echoed in replies */
	uint32_t reserved; /* 0 */
};

struct npr_msg_hello {
	struct npr_msg_hdr hdr;
	uint8_t origin; /* enum npr_origin, not NONE */
	uint8_t reserved[3];
	uint32_t pid;		 /* of the client, for people: show sessions, logs */
	char name[NPR_NAME_LEN]; /* of the client program, NUL-terminated */
};

/* ---- interfaces ---- */
#define NPR_IFACE_F_UP 0x1u
struct npr_msg_iface_set {
	struct npr_msg_hdr hdr;
	uint16_t ifid;	  /* < NPR_MAX_IFACES */
	uint16_t port_id; /* DPDK port id, must be a port the data plane uses */
	uint16_t mtu;	  /* L3 MTU, 68..the port's max_mtu (npr_dump_port, at most NPR_MTU_MAX);
			   * 0: 1500, or the port's max_mtu if that is less */
	uint16_t flags;	  /* NPR_IFACE_F_* */
	uint8_t mac[6];	  /* all zero: the port's own MAC */
	uint8_t reserved[2];
	char name[NPR_NAME_LEN];
};

struct npr_msg_iface_del {
	struct npr_msg_hdr hdr;
	uint16_t ifid;
	uint8_t reserved[6];
};

/* ---- addresses and neighbours ---- */
struct npr_msg_addr {
	struct npr_msg_hdr hdr;
	uint16_t ifid;
	uint8_t family; /* enum npr_family */
	uint8_t plen;	/* prefix length of the connected subnet */
	uint8_t reserved[4];
	uint8_t addr[16]; /* IPv4 uses the first 4 bytes, the rest zero */
};

struct npr_msg_neigh {
	struct npr_msg_hdr hdr;
	uint16_t ifid;
	uint8_t family;
	uint8_t reserved;
	uint8_t mac[6]; /* ignored (zero) for NEIGH_DEL */
	uint8_t reserved2[6];
	uint8_t addr[16];
};

/* ---- next hops ---- */
enum npr_nh_kind {
	NPR_NH_FORWARD = 1,
	NPR_NH_BLACKHOLE = 2,
	NPR_NH_UNREACHABLE = 3,
	NPR_NH_PROHIBIT = 4,
};
#define NPR_NH_F_MAC 0x1u /* mac is given; otherwise it comes from the neighbour table */
/* Made by a route command for its own route ("route add P via GW dev IF"): nprouter-control
 * deletes it once no route or group uses it, as a route's inline next hop goes with the
 * route. The data plane only keeps the flag (NPR_DUMP_NHS reports it). */
#define NPR_NH_F_INLINE 0x4u
struct npr_msg_nh_set {
	struct npr_msg_hdr hdr;
	uint32_t nh_id; /* 1..nh_max-1 */
	uint8_t kind;	/* enum npr_nh_kind */
	uint8_t family; /* of gw; 0 with no gateway (directly connected / special kinds) */
	uint16_t ifid;	/* FORWARD only; 0 otherwise */
	uint8_t mac[6];
	uint16_t flags; /* NPR_NH_F_* */
	uint8_t gw[16];
};

struct npr_msg_id { /* NH_DEL, GROUP_DEL */
	struct npr_msg_hdr hdr;
	uint32_t id;
	uint32_t reserved;
};

/* ---- ECMP groups ---- */
struct npr_group_member {
	uint32_t nh_id;
	uint16_t weight; /* 1..NPR_GROUP_MAX_WEIGHT */
	uint16_t reserved;
};
struct npr_msg_group_set {
	struct npr_msg_hdr hdr;
	uint32_t group_id;
	uint16_t n_members; /* 1..NPR_GROUP_MAX_MEMBERS */
	uint16_t reserved;
	struct npr_group_member members[]; /* hdr.len = sizeof(*this) + 8 * n, rounded to 8 */
};

/* ---- routes ---- */
/* In requests, origin is 0 (the session's own); in dumps it is the route's origin, with
 * NPR_ORIGIN_F_INACTIVE when another origin's route on the prefix is the selected one.
 * proto: what the origin says made the route (zebra: the kernel's rtm_protocol, e.g. 186 for
 * BGP), kept and shown, no meaning to the data plane. distance: administrative distance,
 * 0 for the origin's default (npr_origin_distance); ignored for DEL. */
struct npr_route4 {
	uint32_t prefix; /* network byte order */
	uint8_t plen;	 /* 0..32 */
	uint8_t origin;
	uint8_t proto;
	uint8_t distance;
	uint32_t target; /* nh id or NPR_TARGET_GROUP|group id; ignored (0) for DEL */
};
struct npr_route6 {
	uint8_t prefix[16];
	uint8_t plen; /* 0..128 */
	uint8_t origin;
	uint8_t proto;
	uint8_t distance;
	uint32_t target;
};
struct npr_msg_route4 {
	struct npr_msg_hdr hdr;
	uint32_t count; /* 1..NPR_ROUTE4_MAX */
	uint32_t reserved;
	struct npr_route4 r[];
};
struct npr_msg_route6 {
	struct npr_msg_hdr hdr;
	uint32_t count; /* 1..NPR_ROUTE6_MAX */
	uint32_t reserved;
	struct npr_route6 r[];
};

/* ---- dumps, lookups ---- */
enum npr_dump_kind {
	NPR_DUMP_PORTS = 1,
	NPR_DUMP_IFACES = 2,
	NPR_DUMP_ADDRS = 3,
	NPR_DUMP_NEIGHS = 4,
	NPR_DUMP_NHS = 5,
	NPR_DUMP_GROUPS = 6,
	NPR_DUMP_ROUTES4 = 7,
	NPR_DUMP_ROUTES6 = 8,
	NPR_DUMP_STATS = 9,
	NPR_DUMP_INFO = 10,	     /* one struct npr_info */
	NPR_DUMP_NEIGHS_LEARNT = 11, /* struct npr_dump_neigh: neighbours learnt by ARP / ND */
};
#define NPR_DUMP_F_ALL_ORIGINS 0x1u /* every origin's objects, not only the session's */
struct npr_msg_dump_req {
	struct npr_msg_hdr hdr;
	uint32_t kind;	/* enum npr_dump_kind */
	uint32_t flags; /* NPR_DUMP_F_* */
};
/* Chunk: entries of one kind, each entry the struct named for that kind below (groups are
 * variable: struct npr_dump_group + members). The final npr_reply ends the dump. */
struct npr_msg_dump_chunk {
	struct npr_msg_hdr hdr;
	uint32_t kind;
	uint32_t count;
	uint8_t data[];
};

struct npr_dump_port {
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t n_txq;
	uint8_t mac[6];
	char name[48];	  /* DPDK device name, e.g. net_pcap0 or 0000:01:00.0 */
	uint16_t max_mtu; /* the largest L3 packet the port carries whole (ABI 3) */
	uint8_t reserved[2];
	char mtu_why[32]; /* what sets max_mtu, e.g. "mbuf data room 2048 - 18" */
};
/* IFACES: struct npr_msg_iface_set without its header */
struct npr_dump_iface {
	uint16_t ifid;
	uint16_t port_id;
	uint16_t mtu;
	uint16_t flags;
	uint8_t mac[6]; /* effective MAC */
	uint8_t origin; /* the origin that set it last */
	uint8_t reserved;
	char name[NPR_NAME_LEN];
};
struct npr_dump_addr {
	uint16_t ifid;
	uint8_t family;
	uint8_t plen;
	uint8_t origin;
	uint8_t reserved[3];
	uint8_t addr[16];
};
struct npr_dump_neigh {
	uint16_t ifid;
	uint8_t family;
	uint8_t origin; /* configured ones: who set it; learnt ones: NPR_ORIGIN_NONE */
	uint8_t mac[6];
	uint8_t reserved2[6];
	uint8_t addr[16];
};
struct npr_dump_nh {
	uint32_t nh_id;
	uint8_t kind;
	uint8_t family;
	uint16_t ifid;
	uint8_t mac[6]; /* effective MAC (zero if unresolved) */
	uint16_t flags; /* as set (NPR_NH_F_MAC, _INLINE); NPR_NH_F_RESOLVED if a MAC is known */
	uint8_t gw[16];
	uint32_t refcnt; /* routes and groups using it */
	uint8_t origin;
	uint8_t reserved[3];
};
#define NPR_NH_F_RESOLVED 0x2u
struct npr_dump_group {
	uint32_t group_id;
	uint16_t n_members;
	uint8_t origin;
	uint8_t reserved;
	uint32_t refcnt;
	uint32_t reserved2;
	struct npr_group_member members[]; /* entry size: 16 + 8 * n_members */
};
/* ROUTES4: struct npr_route4; ROUTES6: struct npr_route6 (targets include NPR_TARGET_LOCAL) */

/* An origin's configuration transactions: batches (BATCH_BEGIN ... COMMIT) and resyncs
 * outside a batch (SYNC_BEGIN ... SYNC_END; inside a batch the batch is the transaction).
 * Single messages outside a batch are not counted here (msgs_ok, msgs_err count them). A
 * transaction fails when one of its messages was refused (commit answered -ECANCELED), when
 * its session aborts it (BATCH_ABORT) or goes away or stays silent with it open, or when
 * SYNC_END outside a batch is refused. Wall-clock times, for people and monitoring. */
struct npr_txn_stats {
	uint64_t generation;	 /* transactions committed since the data plane started */
	uint64_t failed;	 /* transactions that failed: nothing of them was applied */
	uint64_t commit_unix_ns; /* CLOCK_REALTIME of the last commit; 0: none yet */
	uint64_t failed_unix_ns; /* ... of the last failure; 0: none yet */
	int32_t last_status;	 /* the last transaction's result: 0 committed, or the -errno of the
				  * message that failed it (-ECANCELED: aborted by its session,
				  * -ECONNABORTED: its session went away or stayed silent) */
	uint32_t reserved;
};

struct npr_info {
	uint64_t instance_id;
	uint32_t abi_version;
	uint32_t n_ports;
	uint32_t n_workers;
	uint32_t n_ifaces;
	uint32_t nh_max;
	uint32_t group_max;
	uint32_t route4_max;
	uint32_t route6_max;
	uint32_t route4_count;
	uint32_t route6_count;
	uint64_t fib4_bytes; /* memory the forwarding structures use */
	uint64_t fib6_bytes;
	uint64_t uptime_ns;
	uint32_t route4_by_origin[NPR_ORIGIN_MAX]; /* selected or not; NONE: connected, local */
	uint32_t route6_by_origin[NPR_ORIGIN_MAX];
	/* configuration transactions by origin (ABI 4; NONE stays zero) */
	struct npr_txn_stats txn[NPR_ORIGIN_MAX];
};

struct npr_msg_lookup {
	struct npr_msg_hdr hdr;
	uint8_t family;
	uint8_t reserved[7];
	uint8_t addr[16];
};

/* ---- statistics (NPR_DUMP_STATS: one struct npr_stats) ---- */
/* Drop reasons: every packet the fast path frees is counted under exactly one of these. */
#define NPR_DROP_REASONS(X)                                                                        \
	X(NOT_FOR_US, "l2 destination is not ours")                                                \
	X(BAD_ETHERTYPE, "ethertype not IPv4/IPv6/ARP")                                            \
	X(TRUNCATED, "frame shorter than its headers")                                             \
	X(BAD_VERSION, "IP version field wrong")                                                   \
	X(BAD_IHL, "IPv4 header length < 20")                                                      \
	X(BAD_CHECKSUM, "IPv4 header checksum wrong")                                              \
	X(BAD_LENGTH, "IP length inconsistent with the frame")                                     \
	X(BAD_SRC, "source address invalid (RFC 1812 5.3.7)")                                      \
	X(BAD_DST, "destination address invalid (RFC 1812 5.3.7)")                                 \
	X(NO_ROUTE, "no route")                                                                    \
	X(BLACKHOLE, "blackhole route")                                                            \
	X(UNREACHABLE, "unreachable route")                                                        \
	X(PROHIBIT, "prohibit route")                                                              \
	X(NH_INVALID, "next hop not programmed")                                                   \
	X(IFACE_DOWN, "egress interface down")                                                     \
	X(TX_FULL, "transmit queue full")                                                          \
	X(EXC_FULL, "exception ring full")                                                         \
	X(POLICED, "exception over its punt class's rate")                                         \
	X(LINK_DOWN, "egress port's link down (port gate closed)")
/* Exceptions: packets handed to the control thread (slow path). */
#define NPR_EXC_REASONS(X)                                                                         \
	X(ARP, "ARP")                                                                              \
	X(L2_MULTICAST, "broadcast or multicast frame")                                            \
	X(TTL_EXPIRED, "TTL or hop limit <= 1")                                                    \
	X(LOCAL, "addressed to the router")                                                        \
	X(UNRESOLVED, "next hop MAC unknown")                                                      \
	X(IP_OPTIONS, "reserved")                                                                  \
	X(NO_ROUTE, "no route (for ICMP unreachable)")                                             \
	X(UNREACHABLE, "unreachable route (for ICMP unreachable)")                                 \
	X(PROHIBIT, "prohibit route (for ICMP unreachable)")                                       \
	X(TOO_BIG, "larger than the egress MTU")

/* Punt classes: before the exception ring, each worker polices what it hands the slow path,
 * class by class (a token bucket each), so that a flood of one kind cannot crowd out the
 * others. Over the rate a packet is dropped: counted in policed[class] and as a drop, under
 * NO_ROUTE / UNREACHABLE / PROHIBIT for those (only their ICMP error is lost), else POLICED. */
#define NPR_PUNT_CLASSES(X)                                                                        \
	X(ARP, "ARP")                                                                              \
	X(ND, "IPv6 neighbour and router discovery")                                               \
	X(MCAST, "other broadcast and link-local multicast")                                       \
	X(ECHO, "echo requests to the router")                                                     \
	X(BGP, "BGP: TCP port 179 to the router")                                                  \
	X(LOCAL, "other packets to the router")                                                    \
	X(RESOLVE, "packets waiting for their next hop's MAC")                                     \
	X(ICMP_ERR, "no route, unreachable, prohibit, TTL expired: for an ICMP error")             \
	X(TOO_BIG, "larger than the egress MTU: to fragment or answer")

#define NPR_X_ENUM_DROP(name, text) NPR_DROP_##name,
#define NPR_X_ENUM_EXC(name, text) NPR_EXC_##name,
enum npr_drop { NPR_DROP_REASONS(NPR_X_ENUM_DROP) NPR_DROP_MAX };
enum npr_exc { NPR_EXC_REASONS(NPR_X_ENUM_EXC) NPR_EXC_MAX };
#define NPR_X_ENUM_PUNT(name, text) NPR_PUNT_##name,
enum npr_punt { NPR_PUNT_CLASSES(NPR_X_ENUM_PUNT) NPR_PUNT_MAX };
#define NPR_STATS_PUNT_SLOTS 12u

#define NPR_STATS_DROP_SLOTS 24u
#define NPR_STATS_EXC_SLOTS 12u

/* Slow path (control thread): ARP, neighbour discovery, ICMP, resolution queues. */
#define NPR_SLOW_COUNTERS(X)                                                                       \
	X(ARP_RX, "ARP packets handled")                                                           \
	X(ARP_BAD, "ARP packets malformed or not for IPv4 over Ethernet")                          \
	X(ARP_NOT_OURS, "ARP requests for addresses not ours")                                     \
	X(ARP_REPLY_TX, "ARP replies sent")                                                        \
	X(ARP_REQUEST_TX, "ARP requests sent (resolution and refresh)")                            \
	X(ARP_GRATUITOUS_TX, "gratuitous ARPs sent")                                               \
	X(ND_RX, "neighbour solicitations and advertisements handled")                             \
	X(ND_BAD, "neighbour discovery packets malformed or invalid")                              \
	X(NA_TX, "neighbour advertisements sent")                                                  \
	X(NS_TX, "neighbour solicitations sent")                                                   \
	X(NEIGH_LEARNED, "neighbours learnt or updated")                                           \
	X(NEIGH_RESOLVED, "resolutions completed")                                                 \
	X(NEIGH_FAILED, "resolutions that timed out")                                              \
	X(NEIGH_EXPIRED, "neighbours aged out (refresh unanswered)")                               \
	X(NEIGH_FLUSHED, "neighbours removed with their address or interface")                     \
	X(HOLD_QUEUED, "packets queued waiting for a neighbour")                                   \
	X(HOLD_SENT, "queued packets sent once resolved")                                          \
	X(HOLD_OVERFLOW, "packets dropped: neighbour queue full")                                  \
	X(HOLD_FAILED, "packets dropped: resolution failed")                                       \
	X(NEIGH_LIMIT, "packets dropped: too many unresolved neighbours on the interface")         \
	X(SLOW_FWD, "packets forwarded by the slow path")                                          \
	X(FRAG_TX, "fragments sent (IPv4 without DF over a smaller MTU)")                          \
	X(ECHO_RX, "echo requests to the router")                                                  \
	X(ECHO_TX, "echo replies sent")                                                            \
	X(ICMP_TTL_TX, "ICMP time exceeded sent")                                                  \
	X(ICMP_UNREACH_TX, "ICMP destination unreachable sent")                                    \
	X(ICMP_TOOBIG_TX, "ICMP fragmentation needed / packet too big sent")                       \
	X(ICMP_RATELIMITED, "ICMP errors not sent: rate limit")                                    \
	X(ICMP_SUPPRESSED, "ICMP errors not sent: about an ICMP error, broadcast, multicast...")   \
	X(LOCAL_DROP, "packets for the router with no service (dropped)")                          \
	X(MCAST_DROP, "broadcast or multicast packets ignored")                                    \
	X(NO_ROUTE_DROP, "slow-path packets with no usable route or source address")               \
	X(IFACE_DOWN_DROP, "slow-path packets for an interface that is down or gone")              \
	X(INJECT_TX, "packets handed to the workers to send")                                      \
	X(INJECT_FULL, "packets dropped: worker inject ring full")                                 \
	X(NOMBUF, "packets not built: out of buffers")                                             \
	X(HOST_TO_KERNEL, "packets for the router passed to the host stack")                       \
	X(HOST_FROM_KERNEL, "frames from the host stack sent")                                     \
	X(HOST_DROP, "frames to/from the host stack dropped: no host port, queue full, too big, "  \
		     "duplicate reply")

#define NPR_X_ENUM_SLOW(name, text) NPR_SLOW_##name,
enum npr_slow { NPR_SLOW_COUNTERS(NPR_X_ENUM_SLOW) NPR_SLOW_MAX };
#define NPR_STATS_SLOW_SLOTS 48u

struct npr_worker_stats {
	uint32_t lcore_id;
	uint32_t reserved;
	uint64_t rx_pkts;
	uint64_t tx_pkts;
	uint64_t fwd4_pkts;
	uint64_t fwd6_pkts;
	uint64_t polls;	     /* loop iterations */
	uint64_t busy_polls; /* iterations that received packets */
	uint64_t drop[NPR_STATS_DROP_SLOTS];
	uint64_t exc[NPR_STATS_EXC_SLOTS];
	/* packets the slow path handed to this worker to transmit (ARP, ND, ICMP, queued
	 * packets): rx_pkts + inject_pkts = sum(drop[]) + sum(exc[]) + tx_pkts after a flush */
	uint64_t inject_pkts;
	uint64_t policed[NPR_STATS_PUNT_SLOTS]; /* enum npr_punt; also counted in drop[] */
	uint64_t naps;				/* idle naps (--idle adaptive): the worker slept */
	uint64_t nap_cycles;			/* TSC cycles spent in them (tsc_hz: per second) */
};

#define NPR_PORT_F_UNSEEN 0x1u /* rx_unseen is known for this port */
#define NPR_STATS_QUEUES 16u   /* queues per port with their own counters (DPDK's too) */
struct npr_port_stats {
	uint16_t port_id;
	uint8_t flags;	     /* NPR_PORT_F_* */
	uint8_t link_up;     /* 1: link up (as the driver says), 0: down */
	uint32_t link_downs; /* memif ports: times the peer left since start; others 0 */
	uint64_t ipackets;
	uint64_t opackets;
	uint64_t ibytes;
	uint64_t obytes;
	uint64_t imissed;
	uint64_t ierrors;
	uint64_t oerrors;
	uint64_t rx_nombuf;
	/* af_packet: frames its Linux netdev received that nprouter never saw as such: dropped
	 * because the ring was full, or IPv4 fragments the kernel reassembled first (their
	 * datagram comes as one frame, cut to the ring's frame size). Valid with
	 * NPR_PORT_F_UNSEEN (ABI 3) */
	uint64_t rx_unseen;
	/* per queue, as the driver counts them (ABI 4): queue q is worker q's (npr_stats
	 * n_workers queues per port), the first NPR_STATS_QUEUES of them; 0 where the driver
	 * does not count per queue */
	uint64_t q_ipackets[NPR_STATS_QUEUES];
	uint64_t q_opackets[NPR_STATS_QUEUES];
};

struct npr_stats {
	uint64_t tsc_hz;
	uint64_t uptime_ns;
	uint32_t n_ports;
	uint32_t n_workers;
	uint64_t exc_handled;	  /* exceptions the control thread consumed */
	uint64_t msgs_ok;	  /* ring messages applied */
	uint64_t msgs_err;	  /* ring messages rejected */
	uint64_t ring_resets;	  /* corrupt request ring recoveries */
	uint64_t replies_dropped; /* replies no session was there to read */
	uint64_t batches_aborted; /* batches of sessions that died or stayed silent */
	uint64_t layout_repairs;  /* segment layouts rewritten after another process wrote them */
	struct npr_port_stats port[NPR_MAX_PORTS];
	struct npr_worker_stats worker[NPR_MAX_WORKERS];
	uint64_t slow[NPR_STATS_SLOW_SLOTS]; /* enum npr_slow */
	/* gauges, not counters (stats clear leaves them): the packet buffer pool's size and the
	 * buffers out of it (in rings and queues, held by the slow path, in flight); buffers in
	 * the per-lcore caches count as free */
	uint64_t mbufs_total;
	uint64_t mbufs_in_use;
	uint64_t counted_ns; /* since start or the last stats clear: what the counters cover */
};

/* ---- replies ---- */
struct npr_reply {
	struct npr_msg_hdr hdr; /* type NPR_MSG_REPLY, seq of the request */
	int32_t status;		/* 0 or -errno */
	uint32_t index;		/* for multi-entry messages: first bad entry */
	uint64_t value;		/* HELLO: instance id; LOOKUP: target (0: no route), in the
				 * namespace of the route's origin, which index gives */
	char msg[224];		/* human-readable detail, NUL-terminated, empty on success (ABI 3:
				 * 224 bytes, was 96) */
};

/* ---- layout checks: these structs are an ABI between two processes ---- */
_Static_assert(sizeof(struct npr_msg_hdr) == 16, "hdr");
_Static_assert(sizeof(struct npr_msg_hello) == 40, "hello");
_Static_assert(sizeof(struct npr_msg_iface_set) == 48, "iface_set");
_Static_assert(offsetof(struct npr_msg_iface_set, name) == 32, "iface_set.name");
_Static_assert(sizeof(struct npr_msg_iface_del) == 24, "iface_del");
_Static_assert(sizeof(struct npr_msg_addr) == 40, "addr");
_Static_assert(offsetof(struct npr_msg_addr, addr) == 24, "addr.addr");
_Static_assert(sizeof(struct npr_msg_neigh) == 48, "neigh");
_Static_assert(offsetof(struct npr_msg_neigh, addr) == 32, "neigh.addr");
_Static_assert(sizeof(struct npr_msg_nh_set) == 48, "nh_set");
_Static_assert(offsetof(struct npr_msg_nh_set, gw) == 32, "nh_set.gw");
_Static_assert(sizeof(struct npr_msg_id) == 24, "id");
_Static_assert(sizeof(struct npr_group_member) == 8, "member");
_Static_assert(sizeof(struct npr_msg_group_set) == 24, "group_set");
_Static_assert(sizeof(struct npr_route4) == 12, "route4");
_Static_assert(sizeof(struct npr_route6) == 24, "route6");
_Static_assert(sizeof(struct npr_msg_route4) == 24, "msg_route4");
_Static_assert(sizeof(struct npr_msg_route6) == 24, "msg_route6");
_Static_assert(sizeof(struct npr_msg_route4) + NPR_ROUTE4_MAX * sizeof(struct npr_route4) <=
		       NPR_MSG_MAX,
	       "route4 max");
_Static_assert(sizeof(struct npr_msg_route6) + NPR_ROUTE6_MAX * sizeof(struct npr_route6) <=
		       NPR_MSG_MAX,
	       "route6 max");
_Static_assert(sizeof(struct npr_msg_dump_req) == 24, "dump_req");
_Static_assert(sizeof(struct npr_msg_dump_chunk) == 24, "dump_chunk");
_Static_assert(sizeof(struct npr_dump_port) == 96, "dump_port");
_Static_assert(sizeof(struct npr_dump_iface) == 32, "dump_iface");
_Static_assert(sizeof(struct npr_dump_addr) == 24, "dump_addr");
_Static_assert(sizeof(struct npr_dump_neigh) == 32, "dump_neigh");
_Static_assert(sizeof(struct npr_dump_nh) == 40, "dump_nh");
_Static_assert(sizeof(struct npr_dump_group) == 16, "dump_group");
_Static_assert(sizeof(struct npr_txn_stats) == 40, "txn_stats");
_Static_assert(sizeof(struct npr_info) == 104 + 40 * NPR_ORIGIN_MAX, "info");
_Static_assert(offsetof(struct npr_info, txn) == 104, "info.txn");
_Static_assert(sizeof(struct npr_msg_lookup) == 40, "lookup");
_Static_assert(sizeof(struct npr_worker_stats) ==
		       80 + 8 * (NPR_STATS_DROP_SLOTS + NPR_STATS_EXC_SLOTS + NPR_STATS_PUNT_SLOTS),
	       "worker_stats");
_Static_assert(sizeof(struct npr_port_stats) == 80 + 2 * 8 * NPR_STATS_QUEUES, "port_stats");
_Static_assert(offsetof(struct npr_port_stats, link_downs) == 4, "port_stats.link_downs");
_Static_assert(NPR_DROP_MAX <= NPR_STATS_DROP_SLOTS, "drop slots");
_Static_assert(NPR_EXC_MAX <= NPR_STATS_EXC_SLOTS, "exc slots");
_Static_assert(NPR_PUNT_MAX <= NPR_STATS_PUNT_SLOTS, "punt slots");
_Static_assert(NPR_SLOW_MAX <= NPR_STATS_SLOW_SLOTS, "slow slots");
_Static_assert(sizeof(struct npr_stats) + sizeof(struct npr_msg_dump_chunk) <= NPR_MSG_MAX,
	       "stats fit a chunk");
_Static_assert(sizeof(struct npr_reply) == 256, "reply");

/* Size of one entry of a dump chunk of this kind (groups: without their members); 0 for an
 * unknown kind. */
static inline size_t
npr_dump_entry_size(uint32_t kind)
{
	switch (kind) {
	case NPR_DUMP_PORTS:
		return sizeof(struct npr_dump_port);
	case NPR_DUMP_IFACES:
		return sizeof(struct npr_dump_iface);
	case NPR_DUMP_ADDRS:
		return sizeof(struct npr_dump_addr);
	case NPR_DUMP_NEIGHS:
	case NPR_DUMP_NEIGHS_LEARNT:
		return sizeof(struct npr_dump_neigh);
	case NPR_DUMP_NHS:
		return sizeof(struct npr_dump_nh);
	case NPR_DUMP_GROUPS:
		return sizeof(struct npr_dump_group);
	case NPR_DUMP_ROUTES4:
		return sizeof(struct npr_route4);
	case NPR_DUMP_ROUTES6:
		return sizeof(struct npr_route6);
	case NPR_DUMP_STATS:
		return sizeof(struct npr_stats);
	case NPR_DUMP_INFO:
		return sizeof(struct npr_info);
	}
	return 0;
}

/* Names for printing, shared by both programs. */
#define NPR_X_NAME(name, text) #name,
#define NPR_X_TEXT(name, text) text,
static inline const char *
npr_drop_name(unsigned i)
{
	static const char *const n[] = { NPR_DROP_REASONS(NPR_X_NAME) };
	return i < NPR_DROP_MAX ? n[i] : "?";
}
static inline const char *
npr_drop_text(unsigned i)
{
	static const char *const n[] = { NPR_DROP_REASONS(NPR_X_TEXT) };
	return i < NPR_DROP_MAX ? n[i] : "?";
}
static inline const char *
npr_exc_name(unsigned i)
{
	static const char *const n[] = { NPR_EXC_REASONS(NPR_X_NAME) };
	return i < NPR_EXC_MAX ? n[i] : "?";
}
static inline const char *
npr_exc_text(unsigned i)
{
	static const char *const n[] = { NPR_EXC_REASONS(NPR_X_TEXT) };
	return i < NPR_EXC_MAX ? n[i] : "?";
}
static inline const char *
npr_punt_name(unsigned i)
{
	static const char *const n[] = { NPR_PUNT_CLASSES(NPR_X_NAME) };
	return i < NPR_PUNT_MAX ? n[i] : "?";
}
static inline const char *
npr_punt_text(unsigned i)
{
	static const char *const n[] = { NPR_PUNT_CLASSES(NPR_X_TEXT) };
	return i < NPR_PUNT_MAX ? n[i] : "?";
}
static inline const char *
npr_slow_name(unsigned i)
{
	static const char *const n[] = { NPR_SLOW_COUNTERS(NPR_X_NAME) };
	return i < NPR_SLOW_MAX ? n[i] : "?";
}
static inline const char *
npr_slow_text(unsigned i)
{
	static const char *const n[] = { NPR_SLOW_COUNTERS(NPR_X_TEXT) };
	return i < NPR_SLOW_MAX ? n[i] : "?";
}

#endif
