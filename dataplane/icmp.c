/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet builders for the slow path: see icmp.h. Byte-level code, big-endian fields written
 * byte by byte, so that nothing depends on the host's byte order or alignment.
 */
#include <string.h>

#include "icmp.h"

static inline void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffffu);
}

uint32_t
icmp_sum(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;
	uint64_t acc = s;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < n)
		acc += (uint32_t)b[i] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t
icmp_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)~s;
}

uint32_t
icmp6_pseudo(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nh)
{
	uint8_t tail[8] = { 0 };

	put32(tail, len);
	tail[7] = nh;
	return icmp_sum(tail, 8, icmp_sum(dst, 16, icmp_sum(src, 16, 0)));
}

int
icmp6_check(const uint8_t *src, const uint8_t *dst, const uint8_t *icmp, uint32_t len)
{
	/* the sum over everything, checksum field included, folds to 0xffff */
	uint32_t s = icmp_sum(icmp, len, icmp6_pseudo(src, dst, len, 58));
	return icmp_fold(s) == 0 ? 0 : -1;
}

void
ip4_hdr(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint8_t ttl,
	uint16_t tot_len, uint16_t id, uint16_t frag)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, tot_len);
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = ttl;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, icmp_fold(icmp_sum(ip, 20, 0)));
}

void
ip6_hdr(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hlim,
	uint16_t payload_len)
{
	memset(ip, 0, 8);
	ip[0] = 0x60;
	put16(ip + 4, payload_len);
	ip[6] = nh;
	ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

size_t
icmp4_error(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst, uint8_t type,
	    uint8_t code, uint32_t rest, const uint8_t *orig, size_t orig_len, uint16_t id)
{
	if (cap < 28 + 28)
		return 0;
	size_t q = min3(orig_len, ICMP4_ERR_MAX - 28, cap - 28);
	uint8_t *icmp = ip + 20;

	icmp[0] = type;
	icmp[1] = code;
	put16(icmp + 2, 0);
	put32(icmp + 4, rest);
	memcpy(icmp + 8, orig, q);
	put16(icmp + 2, icmp_fold(icmp_sum(icmp, 8 + q, 0)));
	ip4_hdr(ip, src, dst, 1, ICMP_TTL, (uint16_t)(28 + q), id, 0);
	return 28 + q;
}

size_t
icmp6_error(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst, uint8_t type,
	    uint8_t code, uint32_t rest, const uint8_t *orig, size_t orig_len)
{
	if (cap < 48 + 40)
		return 0;
	size_t q = min3(orig_len, ICMP6_ERR_MAX - 48, cap - 48);
	uint8_t *icmp = ip + 40;

	icmp[0] = type;
	icmp[1] = code;
	put16(icmp + 2, 0);
	put32(icmp + 4, rest);
	memcpy(icmp + 8, orig, q);
	put16(icmp + 2,
	      icmp_fold(icmp_sum(icmp, 8 + q, icmp6_pseudo(src, dst, (uint32_t)(8 + q), 58))));
	ip6_hdr(ip, src, dst, 58, ICMP_TTL, (uint16_t)(8 + q));
	return 48 + q;
}

size_t
icmp4_echo_reply(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst,
		 const uint8_t *icmp, size_t len, uint16_t id)
{
	if (len < 8 || cap < 20 + len || 20 + len > 65535)
		return 0;
	uint8_t *r = ip + 20;

	memmove(r, icmp, len);
	r[0] = ICMP4_ECHO_REPLY;
	r[1] = 0;
	put16(r + 2, 0);
	put16(r + 2, icmp_fold(icmp_sum(r, len, 0)));
	ip4_hdr(ip, dst, src, 1, ICMP_TTL, (uint16_t)(20 + len), id, 0);
	return 20 + len;
}

size_t
icmp6_echo_reply(uint8_t *ip, size_t cap, const uint8_t *src, const uint8_t *dst,
		 const uint8_t *icmp, size_t len)
{
	if (len < 8 || cap < 40 + len || len > 65535)
		return 0;
	uint8_t *r = ip + 40;

	memmove(r, icmp, len);
	r[0] = ICMP6_ECHO_REPLY;
	r[1] = 0;
	put16(r + 2, 0);
	put16(r + 2, icmp_fold(icmp_sum(r, len, icmp6_pseudo(dst, src, (uint32_t)len, 58))));
	ip6_hdr(ip, dst, src, 58, ICMP_TTL, (uint16_t)len);
	return 40 + len;
}

void
arp_build(uint8_t *arp, unsigned op, const uint8_t *sha, const uint8_t *spa, const uint8_t *tha,
	  const uint8_t *tpa)
{
	put16(arp, 1); /* Ethernet */
	put16(arp + 2, 0x0800);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, op);
	memcpy(arp + 8, sha, 6);
	memcpy(arp + 14, spa, 4);
	if (tha != NULL)
		memcpy(arp + 18, tha, 6);
	else
		memset(arp + 18, 0, 6);
	memcpy(arp + 24, tpa, 4);
}

size_t
nd_ns(uint8_t *ip, const uint8_t *src, const uint8_t *dst, const uint8_t *target,
      const uint8_t *sll)
{
	uint8_t *icmp = ip + 40;
	uint32_t len = sll != NULL ? 32 : 24;

	memset(icmp, 0, len);
	icmp[0] = ICMP6_NS;
	memcpy(icmp + 8, target, 16);
	if (sll != NULL) {
		icmp[24] = ND_OPT_SLLA;
		icmp[25] = 1; /* in units of 8 bytes */
		memcpy(icmp + 26, sll, 6);
	}
	put16(icmp + 2, icmp_fold(icmp_sum(icmp, len, icmp6_pseudo(src, dst, len, 58))));
	/* RFC 4861 7.1.1: hop limit 255, so that the receiver knows it was not forwarded */
	ip6_hdr(ip, src, dst, 58, 255, (uint16_t)len);
	return 40 + len;
}

size_t
nd_na(uint8_t *ip, const uint8_t *src, const uint8_t *dst, const uint8_t *target, uint32_t flags,
      const uint8_t *tll)
{
	uint8_t *icmp = ip + 40;
	const uint32_t len = 32;

	memset(icmp, 0, len);
	icmp[0] = ICMP6_NA;
	put32(icmp + 4, flags);
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, tll, 6);
	put16(icmp + 2, icmp_fold(icmp_sum(icmp, len, icmp6_pseudo(src, dst, len, 58))));
	ip6_hdr(ip, src, dst, 58, 255, (uint16_t)len);
	return 40 + len;
}

void
nd_solicited_node(uint8_t *mc, const uint8_t *target)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	memcpy(mc, pfx, 13);
	memcpy(mc + 13, target + 13, 3);
}

void
ip6_mcast_mac(uint8_t *mac, const uint8_t *group)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

void
ip6_ll_from_mac(uint8_t *a, const uint8_t *mac)
{
	memset(a, 0, 16);
	a[0] = 0xfe;
	a[1] = 0x80;
	a[8] = mac[0] ^ 0x02; /* universal/local bit inverted */
	a[9] = mac[1];
	a[10] = mac[2];
	a[11] = 0xff;
	a[12] = 0xfe;
	a[13] = mac[3];
	a[14] = mac[4];
	a[15] = mac[5];
}

/* The options of orig that fragments after the first carry (copied flag), padded to 4. */
static size_t
frag_opts(uint8_t *out, const uint8_t *orig)
{
	size_t hlen = (orig[0] & 0xfu) * 4u, i = 20, n = 0;

	while (i < hlen) {
		uint8_t t = orig[i];
		if (t == 0) /* end of options list */
			break;
		if (t == 1) { /* no-operation: not copied */
			i++;
			continue;
		}
		if (i + 1 >= hlen || orig[i + 1] < 2 || i + orig[i + 1] > hlen)
			break; /* malformed: keep what came before */
		if (t & 0x80) {
			if (out != NULL)
				memcpy(out + n, orig + i, orig[i + 1]);
			n += orig[i + 1];
		}
		i += orig[i + 1];
	}
	while (n % 4 != 0) {
		if (out != NULL)
			out[n] = 0;
		n++;
	}
	return n;
}

size_t
ip4_frag_hlen(const uint8_t *orig)
{
	return 20 + frag_opts(NULL, orig);
}

size_t
ip4_fragment(uint8_t *ip, size_t cap, const uint8_t *orig, size_t len, size_t off, size_t n,
	     int more)
{
	size_t hlen0 = (orig[0] & 0xfu) * 4u, hlen;
	uint32_t frag0 = (uint32_t)orig[6] << 8 | orig[7];

	if (hlen0 + off + n > len)
		return 0;
	hlen = off == 0 ? hlen0 : ip4_frag_hlen(orig);
	if (hlen + n > cap || hlen + n > 65535)
		return 0;
	memcpy(ip, orig, 20);
	if (off == 0)
		memcpy(ip + 20, orig + 20, hlen0 - 20);
	else
		frag_opts(ip + 20, orig);
	ip[0] = (uint8_t)(0x40 | (hlen / 4));
	put16(ip + 2, (uint32_t)(hlen + n));
	/* offset in 8-byte units, after the original's (it may be a fragment itself); DF is
	 * clear (we only fragment such datagrams) */
	put16(ip + 6, (more ? 0x2000u : 0) + (frag0 & 0x1fffu) + (uint32_t)(off / 8));
	put16(ip + 10, 0);
	put16(ip + 10, icmp_fold(icmp_sum(ip, hlen, 0)));
	memcpy(ip + hlen, orig + hlen0 + off, n);
	return hlen + n;
}
