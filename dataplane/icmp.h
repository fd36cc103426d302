/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet builders for the slow path (slowpath/): IPv4/IPv6 headers, ICMP and ICMPv6 errors
 * and echo replies, ARP, neighbour solicitations and advertisements, IPv4 fragments.
 *
 * Pure functions on caller buffers: no state, no allocation, safe on any thread. Addresses
 * are network byte order; IPv4 addresses are 4 bytes here. Builders write at ip (the IP
 * header; the caller keeps 14 bytes before it for Ethernet) and return the IP datagram's
 * length, or 0 if it does not fit in cap bytes.
 *
 * Checksums are the RFC 1071 one's complement sum of big-endian 16-bit words.
 */
#ifndef NPR_ICMP_H
#define NPR_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define ICMP4_ERR_MAX 576u  /* RFC 1812 4.3.2.3: an ICMP error is at most 576 bytes */
#define ICMP6_ERR_MAX 1280u /* RFC 4443 2.4 (c): at most the IPv6 minimum MTU */
#define ICMP_TTL 64u	    /* TTL / hop limit of what the router originates */

/* ICMPv4 types and codes used here */
#define ICMP4_ECHO_REPLY 0
#define ICMP4_UNREACH 3
#define ICMP4_ECHO 8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_NET_UNREACH 0
#define ICMP4_HOST_UNREACH 1
#define ICMP4_PORT_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_ADMIN_PROHIB 13

/* ICMPv6 */
#define ICMP6_UNREACH 1
#define ICMP6_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_ECHO 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_NS 135
#define ICMP6_NA 136
#define ICMP6_NO_ROUTE 0
#define ICMP6_ADMIN_PROHIB 1
#define ICMP6_ADDR_UNREACH 3
#define ICMP6_PORT_UNREACH 4
#define ND_NA_ROUTER 0x80000000u
#define ND_NA_SOLICITED 0x40000000u
#define ND_NA_OVERRIDE 0x20000000u
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2

/* One's complement sum of n bytes (big-endian words; an odd last byte is padded), added to
 * s; icmp_fold gives the checksum field's value (host order). */
uint32_t icmp_sum(const void *p, size_t n, uint32_t s);
uint16_t icmp_fold(uint32_t s);
/* Sum of the IPv6 pseudo-header (RFC 8200 8.1). */
uint32_t icmp6_pseudo(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nh);
/* 0 if the ICMPv6 message (len bytes at icmp) has a good checksum for src/dst. */
int icmp6_check(const uint8_t *src, const uint8_t *dst, const uint8_t *icmp, uint32_t len);

/* IPv4 header without options (20 bytes), checksum included. frag: flags and offset. */
void ip4_hdr(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint8_t ttl,
	     uint16_t tot_len, uint16_t id, uint16_t frag);
void ip6_hdr(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hlim,
	     uint16_t payload_len);

/* ICMP error about orig (orig_len bytes from its IP header): as much of orig as fits in
 * ICMP4_ERR_MAX / ICMP6_ERR_MAX (and cap). rest: the 32-bit word after the checksum (the MTU
 * of "fragmentation needed" in its low 16 bits; of "packet too big" whole). */
size_t icmp4_error(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst, uint8_t type,
		   uint8_t code, uint32_t rest, const uint8_t *orig, size_t orig_len, uint16_t id);
size_t icmp6_error(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst, uint8_t type,
		   uint8_t code, uint32_t rest, const uint8_t *orig, size_t orig_len);

/* Echo reply to a checked echo request (the ICMP message icmp, len bytes) from src (the
 * requester) to dst (the router's address that was pinged): reply goes dst -> src. */
size_t icmp4_echo_reply(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst,
			const uint8_t *icmp, size_t len, uint16_t id);
size_t icmp6_echo_reply(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst,
			const uint8_t *icmp, size_t len);

/* ARP for IPv4 over Ethernet (28 bytes at arp); tha may be NULL (zero). */
void arp_build(uint8_t *arp, unsigned op, const uint8_t *sha, const uint8_t *spa,
	       const uint8_t *tha, const uint8_t *tpa);

/* Neighbour solicitation for target, with a source link-layer option when sll != NULL. */
size_t nd_ns(uint8_t *ip, const uint8_t *src, const uint8_t *dst, const uint8_t *target,
	     const uint8_t *sll);
/* Neighbour advertisement (flags: ND_NA_*) with a target link-layer option. */
size_t nd_na(uint8_t *ip, const uint8_t *src, const uint8_t *dst, const uint8_t *target,
	     uint32_t flags, const uint8_t *tll);

/* ff02::1:ffXX:XXXX for target, and its Ethernet group 33:33:ff:XX:XX:XX. */
void nd_solicited_node(uint8_t *mc, const uint8_t *target);
void ip6_mcast_mac(uint8_t *mac, const uint8_t *group);
/* fe80::/64 with the modified EUI-64 interface identifier of mac (RFC 4291 2.5.1). */
void ip6_ll_from_mac(uint8_t *a, const uint8_t *mac);

/* IPv4 fragment k of the datagram orig (its header first, len bytes, TTL already set): data
 * bytes [off, off + n) of its payload, more: MF to set (the last fragment keeps orig's MF).
 * Fragments after the first keep only the options marked copied (RFC 791). */
size_t ip4_fragment(uint8_t *ip, size_t cap, const uint8_t *orig, size_t len, size_t off, size_t n,
		    int more);
/* Header length a fragment other than the first has (options filtered). */
size_t ip4_frag_hlen(const uint8_t *orig);

#endif
