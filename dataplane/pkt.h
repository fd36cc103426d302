/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fast-path packet helpers for the workers (fwd.c): Ethernet classification, IPv4/IPv6 header
 * validation (RFC 1812 5.2.2 and 5.3.7, RFC 8200), TTL / hop limit decrement with the RFC 1624
 * incremental checksum update, MAC rewrite and the ECMP flow hash.
 *
 * All static inline, no state, no allocation, nothing that can block: safe on any thread.
 * None of them reads past the byte counts it is given.
 *
 * Verdicts: the check functions return a small unsigned code,
 *   0                      PKT_OK: go on
 *   PKT_IP4, PKT_IP6       pkt_eth_check only: go on as IPv4 / IPv6
 *   PKT_DROP | npr_drop    drop, counted under that reason
 *   PKT_EXC | npr_exc      hand to the slow path with that reason
 */
#ifndef NPR_PKT_H
#define NPR_PKT_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>

#include "npr/proto.h"

#define PKT_OK 0u
#define PKT_IP4 1u
#define PKT_IP6 2u
#define PKT_DROP 0x100u
#define PKT_EXC 0x200u
#define PKT_REASON(v) ((v)&0xffu)

#define PKT_ETH_LEN 14u
#define PKT_IP4_LEN 20u
#define PKT_IP6_LEN 40u

#define PKT_MAC_MASK 0xffffffffffffull

/* Native-order loads from any alignment. */
static inline uint64_t
pkt_load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
pkt_load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- Ethernet ---- */

/* The 6 bytes at p as a 48-bit MAC value, byte 0 in the low byte (as fwd_nh_mac). */
static inline uint64_t
pkt_mac_load(const uint8_t *p)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	/* one 8-byte load; the caller guarantees 8 readable bytes (a frame has 14) */
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v & PKT_MAC_MASK;
#else
	uint64_t v = 0;
	for (unsigned i = 0; i < 6; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
#endif
}

/* Rewrite destination and source MAC (the first 12 bytes of the frame). */
static inline void
pkt_eth_set_macs(uint8_t *frame, uint64_t dst, uint64_t src)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint64_t lo = (dst & PKT_MAC_MASK) | (src << 48);
	uint32_t hi = (uint32_t)(src >> 16);
	memcpy(frame, &lo, sizeof(lo));
	memcpy(frame + 8, &hi, sizeof(hi));
#else
	for (unsigned i = 0; i < 6; i++) {
		frame[i] = (uint8_t)(dst >> (8 * i));
		frame[6 + i] = (uint8_t)(src >> (8 * i));
	}
#endif
}

/*
 * L2 input. seg_len: bytes in the first segment. port_mac/port_up: the receive port's.
 * Order: runt; unicast not ours (NOT_FOR_US); port without an up interface (IFACE_DOWN, for
 * group frames too: a down interface takes no ARP or ND); group bit set (ARP or L2_MULTICAST,
 * whatever the ethertype: the slow path decides); ARP; IPv4/IPv6; anything else, VLAN tags
 * included, is BAD_ETHERTYPE.
 */
static inline unsigned
pkt_eth_check(const uint8_t *frame, uint32_t seg_len, uint64_t port_mac, uint32_t port_up)
{
	uint64_t dst;
	uint16_t et;

	if (unlikely(seg_len < PKT_ETH_LEN))
		return PKT_DROP | NPR_DROP_TRUNCATED;
	dst = pkt_mac_load(frame);
	memcpy(&et, frame + 12, sizeof(et));
	if (likely(dst == port_mac)) {
		if (unlikely(port_up == 0))
			return PKT_DROP | NPR_DROP_IFACE_DOWN;
		if (likely(et == RTE_BE16(RTE_ETHER_TYPE_IPV4)))
			return PKT_IP4;
		if (likely(et == RTE_BE16(RTE_ETHER_TYPE_IPV6)))
			return PKT_IP6;
		if (et == RTE_BE16(RTE_ETHER_TYPE_ARP))
			return PKT_EXC | NPR_EXC_ARP;
		return PKT_DROP | NPR_DROP_BAD_ETHERTYPE;
	}
	if ((dst & 1) == 0) /* I/G bit: first bit on the wire of byte 0 */
		return PKT_DROP | NPR_DROP_NOT_FOR_US;
	if (unlikely(port_up == 0))
		return PKT_DROP | NPR_DROP_IFACE_DOWN;
	if (et == RTE_BE16(RTE_ETHER_TYPE_ARP))
		return PKT_EXC | NPR_EXC_ARP;
	return PKT_EXC | NPR_EXC_L2_MULTICAST;
}

/* ---- Internet checksum (RFC 1071) ---- */

/* Fold a sum of 16/32-bit words (< 2^63) to its 16-bit one's complement sum. */
static inline uint32_t
pkt_csum_fold(uint64_t s)
{
	s = (s >> 32) + (s & 0xffffffffu);
	s = (s >> 32) + (s & 0xffffffffu);
	s = (s >> 16) + (s & 0xffffu);
	s = (s >> 16) + (s & 0xffffu);
	return (uint32_t)s;
}

/* True if the IPv4 header (hlen bytes, a multiple of 4, >= 20) sums to 0xffff. The sum is
 * taken over native 64- and 32-bit words: one's complement addition commutes with byte
 * swapping and 2^16 = 1 (mod 0xffff), so a carry out of bit 63 is added back at bit 0 and only
 * the all-ones result matters. */
static inline int
pkt_ip4_cksum_ok(const uint8_t *ip, uint32_t hlen)
{
	uint64_t a, b, s;
	uint32_t c;

	memcpy(&a, ip, sizeof(a));
	memcpy(&b, ip + 8, sizeof(b));
	memcpy(&c, ip + 16, sizeof(c));
	s = a + b;
	s += s < a; /* end-around carry; never wraps again: s <= 2^64 - 2 before it */
	s = (s >> 32) + (s & 0xffffffffu) + c;
	for (uint32_t i = PKT_IP4_LEN; unlikely(i < hlen); i += 4) {
		uint32_t o;
		memcpy(&o, ip + i, sizeof(o));
		s += o;
	}
	return pkt_csum_fold(s) == 0xffff;
}

/* ---- IPv4 ---- */

/*
 * RFC 1812 5.2.2 header checks. seg_len: IP bytes in the first segment; l3_len: IP bytes in
 * the whole frame (it may carry Ethernet padding). ol_flags: the driver's checksum verdict
 * replaces the software check when it is GOOD or BAD. On PKT_OK, *tot_len is the IP total
 * length, in [IHL*4, l3_len].
 */
static inline unsigned
pkt_ip4_check(const uint8_t *ip, uint32_t seg_len, uint32_t l3_len, uint64_t ol_flags,
	      uint32_t *tot_len)
{
	const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;
	uint32_t hlen, len;
	uint64_t ck;

	if (unlikely(seg_len < PKT_IP4_LEN))
		return PKT_DROP | NPR_DROP_TRUNCATED;
	if (unlikely((ip[0] >> 4) != 4))
		return PKT_DROP | NPR_DROP_BAD_VERSION;
	hlen = (ip[0] & 0xfu) * 4u;
	if (unlikely(hlen < PKT_IP4_LEN))
		return PKT_DROP | NPR_DROP_BAD_IHL;
	if (unlikely(hlen > seg_len))
		return PKT_DROP | NPR_DROP_TRUNCATED;
	ck = ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(ck == RTE_MBUF_F_RX_IP_CKSUM_BAD))
		return PKT_DROP | NPR_DROP_BAD_CHECKSUM;
	if (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && unlikely(!pkt_ip4_cksum_ok(ip, hlen)))
		return PKT_DROP | NPR_DROP_BAD_CHECKSUM;
	len = rte_be_to_cpu_16(h->total_length);
	if (unlikely(len < hlen || len > l3_len))
		return PKT_DROP | NPR_DROP_BAD_LENGTH;
	*tot_len = len;
	return PKT_OK;
}

/*
 * RFC 1812 5.3.7 address checks (host byte order).
 * Source: 0/8 (except 0.0.0.0 to the limited broadcast: an initialisation procedure such as
 * DHCP, for the slow path), 127/8, 224/4 multicast, 240/4 and 255.255.255.255: BAD_SRC.
 * Destination: 0/8, 127/8, 240/4: BAD_DST; 224/4 and 255.255.255.255: L2_MULTICAST (the slow
 * path decides what to do with them; they are never forwarded here).
 */
static inline unsigned
pkt_ip4_addr_check(uint32_t src, uint32_t dst)
{
	uint32_t s8 = src >> 24, d8 = dst >> 24;

	if (unlikely(s8 == 0 || s8 == 127 || s8 >= 224)) {
		if (!(src == 0 && dst == 0xffffffffu))
			return PKT_DROP | NPR_DROP_BAD_SRC;
	}
	if (unlikely(d8 == 0 || d8 == 127 || d8 >= 224)) {
		if (d8 == 0 || d8 == 127)
			return PKT_DROP | NPR_DROP_BAD_DST;
		if (d8 < 240 || dst == 0xffffffffu)
			return PKT_EXC | NPR_EXC_L2_MULTICAST;
		return PKT_DROP | NPR_DROP_BAD_DST;
	}
	return PKT_OK;
}

/* 169.254.0.0/16 (RFC 3927): a router must not forward packets from or to it (section 7);
 * packets to one of the router's own such addresses are fine. a: host order. */
static inline int
pkt_ip4_link_local(uint32_t a)
{
	return (a >> 16) == 0xa9feu;
}

/*
 * TTL - 1 with the RFC 1624 (eqn. 3) incremental update HC' = ~(~HC + ~m + m'), m being the
 * 16-bit word TTL|protocol. With m' = m - 0x0100, ~m + m' = 0xfeff; the sum is done on the
 * stored (network order) words, so the constant is 0xfeff in network order. The result is
 * never 0xffff, like a full recompute. The caller has checked TTL > 1.
 */
static inline void
pkt_ip4_ttl_dec(uint8_t *ip)
{
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;
	uint32_t s = (uint16_t)~h->hdr_checksum + (uint32_t)RTE_BE16(0xfeff);

	s = (s & 0xffffu) + (s >> 16);
	h->hdr_checksum = (uint16_t)~s;
	h->time_to_live--;
}

/* ---- IPv6 ---- */

/* Addresses that must never be forwarded as a source (RFC 4291 2.5.2, 2.5.6): the unspecified
 * address and link-local fe80::/10. They are fine addressed to the router itself. */
static inline int
pkt_ip6_src_scoped(const uint8_t *src)
{
	return (src[0] == 0xfe && (src[1] & 0xc0) == 0x80) ||
	       (pkt_load64(src) == 0 && pkt_load64(src + 8) == 0);
}

/*
 * RFC 8200 header checks plus address checks. seg_len / l3_len as for IPv4. On PKT_OK,
 * *tot_len = 40 + payload length, in [41, l3_len]. Payload length 0 (a jumbogram, RFC 2675)
 * is BAD_LENGTH. Source ff00::/8 or ::1: BAD_SRC; destination ::1 or ::: BAD_DST;
 * destination ff00::/8: L2_MULTICAST; destination fe80::/10: LOCAL (never forwarded).
 */
static inline unsigned
pkt_ip6_check(const uint8_t *ip, uint32_t seg_len, uint32_t l3_len, uint32_t *tot_len)
{
	const struct rte_ipv6_hdr *h = (const struct rte_ipv6_hdr *)ip;
	const uint8_t *src = h->src_addr, *dst = h->dst_addr;
	uint32_t len;
	uint64_t d0, d1;

	if (unlikely(seg_len < PKT_IP6_LEN))
		return PKT_DROP | NPR_DROP_TRUNCATED;
	if (unlikely((ip[0] >> 4) != 6))
		return PKT_DROP | NPR_DROP_BAD_VERSION;
	len = rte_be_to_cpu_16(h->payload_len);
	if (unlikely(len == 0 || len + PKT_IP6_LEN > l3_len))
		return PKT_DROP | NPR_DROP_BAD_LENGTH;
	if (unlikely(src[0] == 0xff))
		return PKT_DROP | NPR_DROP_BAD_SRC;
	if (unlikely(pkt_load64(src) == 0 && pkt_load64(src + 8) == RTE_BE64(1)))
		return PKT_DROP | NPR_DROP_BAD_SRC;
	d0 = pkt_load64(dst);
	d1 = pkt_load64(dst + 8);
	if (unlikely(d0 == 0 && (d1 == 0 || d1 == RTE_BE64(1))))
		return PKT_DROP | NPR_DROP_BAD_DST;
	if (unlikely(dst[0] == 0xff))
		return PKT_EXC | NPR_EXC_L2_MULTICAST;
	if (unlikely(dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80))
		return PKT_EXC | NPR_EXC_LOCAL;
	*tot_len = len + PKT_IP6_LEN;
	return PKT_OK;
}

static inline void
pkt_ip6_hlim_dec(uint8_t *ip)
{
	((struct rte_ipv6_hdr *)ip)->hop_limits--;
}

/* ---- the common case, checked in one predictable run ---- */

/*
 * Most packets a router sees are unicast IPv4 without options or IPv6 between global
 * addresses, addressed to the receiving port, well formed and with TTL to spare. The fast
 * checks below accept exactly such packets, with a few wide loads and a chain of branches
 * that all go the same way for them. Whatever they refuse goes through the ordered checks above,
 * which decide; a packet the fast check accepts passes those too, with the same result (the
 * unit tests compare the two on mutated headers). TTL / hop limit > 1 is part of the fast
 * test only so that the common packet needs no second look; it is checked again after the
 * route lookup, whose verdict comes first (RFC 1812 5.3.1).
 *
 * port_mac: the receiving port's MAC, or PKT_FAST_PORT_DOWN when no interface is up on it
 * (a value no 48-bit address matches).
 */
#define PKT_FAST_PORT_DOWN (1ull << 48)

/* First octets never forwarded as IPv4 source or destination: 0/8, 127/8, 224/4 and 240/4
 * (RFC 1812 5.3.7; multicast and broadcast go to the slow path), and 169/8 for its link-local
 * 169.254/16 (RFC 3927 7); the ordered checks decide. */
static const uint8_t pkt_ip4_octet_special[256] = {
	[0] = 1,   [127] = 1, [169] = 1, [224] = 1, [225] = 1, [226] = 1, [227] = 1,
	[228] = 1, [229] = 1, [230] = 1, [231] = 1, [232] = 1, [233] = 1, [234] = 1,
	[235] = 1, [236] = 1, [237] = 1, [238] = 1, [239] = 1, [240] = 1, [241] = 1,
	[242] = 1, [243] = 1, [244] = 1, [245] = 1, [246] = 1, [247] = 1, [248] = 1,
	[249] = 1, [250] = 1, [251] = 1, [252] = 1, [253] = 1, [254] = 1, [255] = 1,
};

/* First octets of IPv6 addresses the ordered checks look at: ::/8 (::, ::1, IPv4-mapped),
 * fe00::/8 (link-local) and ff00::/8 (multicast). */
static const uint8_t pkt_ip6_octet_special[256] = { [0x00] = 1, [0xfe] = 1, [0xff] = 1 };

/* x is a multiple of the odd number 0xffff exactly when x times its inverse modulo 2^64 is at
 * most UINT64_MAX / 0xffff (the divisibility test of Hacker's Delight, 10-17). */
#define PKT_INV_FFFF 0xfffefffefffeffffull /* 0xffff * this = 1 (mod 2^64) */
#define PKT_MAX_FFFF (UINT64_MAX / 0xffff)

/* A 32-bit constant written in network order, as a native load of those bytes sees it. */
#define PKT_W32(x) RTE_BE32(x)

/* The fast checks' common start: ip_len bytes of IP header in the first segment, addressed
 * to port_mac, and the three bytes from the ethertype on, under mask, as want. */
static inline int
pkt_fast_l2(const uint8_t *f, uint32_t seg_len, uint32_t ip_len, uint64_t port_mac, uint32_t mask,
	    uint32_t want)
{
	if (unlikely(seg_len < PKT_ETH_LEN + ip_len))
		return 0;
	if (unlikely((pkt_load64(f) & PKT_MAC_MASK) != port_mac))
		return 0;
	return likely((pkt_load32(f + 12) & mask) == want);
}

/*
 * IPv4, IHL 5, to port_mac, checksum right (and not flagged bad by the driver), total length
 * in [20, l3_len], source and destination outside 0/8, 127/8 and 224/3, TTL > 1. seg_len:
 * bytes in the first segment; l3_len: IP bytes in the whole frame. On success returns 1 with
 * *dst (host order) and *tot_len set. The header is read as five 32-bit words, which also
 * make its checksum: their sum is a multiple of 0xffff exactly when the ten 16-bit words
 * add up to all ones in one's complement (RFC 1071: any order and byte order; 2^16 = 1 mod
 * 0xffff; the version byte keeps the sum above 0).
 */
static inline int
pkt_ip4_fast(const uint8_t *f, uint32_t seg_len, uint32_t l3_len, uint64_t ol_flags,
	     uint64_t port_mac, uint32_t *dst, uint32_t *tot_len)
{
	const uint8_t *ip = f + PKT_ETH_LEN;
	uint32_t w0, w2, w3, w4, tl;

	/* ethertype, version and IHL, as stored: 08 00 45 */
	if (unlikely(!pkt_fast_l2(f, seg_len, PKT_IP4_LEN, port_mac, PKT_W32(0xffffff00u),
				  PKT_W32(0x08004500u))))
		return 0;
	w0 = pkt_load32(ip);
	w2 = pkt_load32(ip + 8);
	w3 = pkt_load32(ip + 12);
	w4 = pkt_load32(ip + 16);
	tl = rte_be_to_cpu_32(w0) & 0xffff;
	if (unlikely(tl - PKT_IP4_LEN > l3_len - PKT_IP4_LEN))
		return 0;
	if (unlikely(ip[8] <= 1 || pkt_ip4_octet_special[ip[12]] | pkt_ip4_octet_special[ip[16]]))
		return 0;
	if (unlikely(((uint64_t)w0 + pkt_load32(ip + 4) + w2 + w3 + w4) * PKT_INV_FFFF >
		     PKT_MAX_FFFF))
		return 0;
	if (unlikely((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD))
		return 0;
	*dst = rte_be_to_cpu_32(w4);
	*tot_len = tl;
	return 1;
}

/*
 * IPv6 to port_mac with payload length in [1, l3_len - 40], hop limit > 1, and source and
 * destination outside ::/8, fe00::/8 and ff00::/8. On success returns 1 with *tot_len set.
 */
static inline int
pkt_ip6_fast(const uint8_t *f, uint32_t seg_len, uint32_t l3_len, uint64_t port_mac,
	     uint32_t *tot_len)
{
	const struct rte_ipv6_hdr *h = (const struct rte_ipv6_hdr *)(f + PKT_ETH_LEN);
	uint32_t pl;

	/* ethertype and version, as stored: 86 dd 6x */
	if (unlikely(!pkt_fast_l2(f, seg_len, PKT_IP6_LEN, port_mac, PKT_W32(0xfffff000u),
				  PKT_W32(0x86dd6000u))))
		return 0;
	pl = rte_be_to_cpu_16(h->payload_len);
	if (unlikely(pl - 1 >= l3_len - PKT_IP6_LEN || h->hop_limits <= 1))
		return 0;
	if (unlikely(pkt_ip6_octet_special[h->src_addr[0]] | pkt_ip6_octet_special[h->dst_addr[0]]))
		return 0;
	*tot_len = pl + PKT_IP6_LEN;
	return 1;
}

/* ---- flow hash (ECMP) ---- */

/* A multiply-xor chain with a 64-bit finaliser: deterministic, cheap, well mixed in the high
 * bits (the ECMP slot is (hash * n_slots) >> 32). Not symmetric, not keyed. */
#define PKT_HASH_K 0x9e3779b97f4a7c15ull

static inline uint64_t
pkt_hash_mix(uint64_t h, uint64_t w)
{
	return (h ^ w) * PKT_HASH_K;
}

static inline uint32_t
pkt_hash_final(uint64_t h)
{
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* avail: IP bytes readable and inside the datagram (at most the total length). Ports are used
 * for TCP and UDP in a first (or only) fragment whose L4 ports are present. */
static inline uint32_t
pkt_flow_hash4(const uint8_t *ip, uint32_t avail)
{
	const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;
	uint32_t hlen = (ip[0] & 0xfu) * 4u;
	uint64_t x = h->next_proto_id;
	uint32_t ports;

	if ((h->next_proto_id == IPPROTO_TCP || h->next_proto_id == IPPROTO_UDP) &&
	    (h->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) == 0 && hlen >= PKT_IP4_LEN &&
	    hlen + 4 <= avail) {
		memcpy(&ports, ip + hlen, sizeof(ports));
		x |= (uint64_t)ports << 32;
	}
	return pkt_hash_final(pkt_hash_mix(pkt_hash_mix(0, pkt_load64(ip + 12)), x));
}

/* Ports only when the next header right after the fixed header is TCP or UDP. */
static inline uint32_t
pkt_flow_hash6(const uint8_t *ip, uint32_t avail)
{
	const struct rte_ipv6_hdr *h = (const struct rte_ipv6_hdr *)ip;
	uint64_t x = h->proto, hv = 0;
	uint32_t ports;

	if ((h->proto == IPPROTO_TCP || h->proto == IPPROTO_UDP) && PKT_IP6_LEN + 4 <= avail) {
		memcpy(&ports, ip + PKT_IP6_LEN, sizeof(ports));
		x |= (uint64_t)ports << 32;
	}
	for (unsigned i = 8; i < 40; i += 8)
		hv = pkt_hash_mix(hv, pkt_load64(ip + i));
	return pkt_hash_final(pkt_hash_mix(hv, x));
}

#endif
