/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Addresses, prefixes and MACs as both processes handle them: what the wire protocol
 * carries (proto.h: 16 bytes in network order, an IPv4 address in the first 4 and the rest
 * zero; families NPR_AF_INET / NPR_AF_INET6), the rules both sides apply to them, and their
 * text forms. The data plane validates with the same functions the control side uses to
 * give an early, friendlier error, so the two cannot drift apart.
 *
 * Pure functions, no state: any thread. Built into libnprcommon (include/meson.build).
 */
#ifndef NPR_ADDR_H
#define NPR_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"

#define NPR_ADDR_STRLEN 46			/* INET6_ADDRSTRLEN */
#define NPR_PREFIX_STRLEN (NPR_ADDR_STRLEN + 4) /* "ADDR/128" */
#define NPR_MAC_STRLEN 18			/* "xx:xx:xx:xx:xx:xx" */

/* Bytes of an address of family NPR_AF_INET (4) or anything else (16). */
static inline unsigned
npr_alen(int family)
{
	return family == NPR_AF_INET ? 4 : 16;
}

/* Bits of an address: 32 or 128. */
static inline unsigned
npr_hostlen(int family)
{
	return 8 * npr_alen(family);
}

static inline bool
npr_mac_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* An IPv6 link-local address (fe80::/10); false for IPv4. */
static inline bool
npr_is_ll6(int family, const uint8_t *a)
{
	return family == NPR_AF_INET6 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ---- rules ---- */

/* Does the prefix have bits set beyond plen? */
bool npr_prefix_host_bits(int family, const uint8_t *a, unsigned plen);
/* Clear the bits beyond plen (only the family's bytes are touched). */
void npr_prefix_mask(int family, uint8_t *a, unsigned plen);
/* Are a and b in the same prefix of length plen? */
bool npr_same_prefix(int family, const uint8_t *a, const uint8_t *b, unsigned plen);
/* Why a (16 protocol bytes) is not a unicast host address, in words that follow the address
 * ("is multicast"), or NULL if it is one. IPv4: bytes 4..15 must be zero. */
const char *npr_bad_unicast(int family, const uint8_t *a);
/* Why m is not a unicast MAC ("is zero", "is multicast"), or NULL. */
const char *npr_bad_unicast_mac(const uint8_t *m);

/* ---- text ----
 * Syntax accepted:
 *   IPv4: exactly four decimal octets 0..255; a leading zero ("010") is rejected because
 *         inet_aton would read it as octal. IPv6: anything inet_pton(AF_INET6) takes (no
 *         zone "%eth0"). Prefix length: decimal, no sign, no leading zero, 0..32 / 0..128.
 *   No whitespace anywhere. MAC: exactly six pairs of hex digits separated by ':'.
 * Returns 0 or -EINVAL; family out is NPR_AF_*; addr is always filled to 16 bytes.
 * npr_parse_prefix rejects a prefix with bits set beyond its length (as the data plane
 * does); npr_prefix_strerror then explains it with the canonical prefix. */
int npr_parse_addr(const char *s, int *family, uint8_t addr[16]);
int npr_parse_prefix(const char *s, int *family, uint8_t addr[16], uint8_t *plen);
/* ADDR/LEN with host bits allowed (an interface address: 192.0.2.1/24). */
int npr_parse_ifaddr(const char *s, int *family, uint8_t addr[16], uint8_t *plen);
int npr_parse_mac(const char *s, uint8_t mac[6]);
/* Why s is not a valid prefix, in words ("host bits set: the prefix is 10.0.0.0/8",
 * "prefix length 33 > 32", ...); "valid prefix" if it is. Returns buf. */
const char *npr_prefix_strerror(const char *s, char *buf, size_t len);

/* Formatters return buf; "?" for an unknown family. family may also be AF_INET/AF_INET6. */
const char *npr_format_addr(int family, const uint8_t *addr, char *buf, size_t len);
const char *npr_format_prefix(int family, const uint8_t *addr, unsigned plen, char *buf,
			      size_t len);
/* buf: at least NPR_MAC_STRLEN bytes. */
const char *npr_format_mac(const uint8_t *m, char *buf);

#endif
