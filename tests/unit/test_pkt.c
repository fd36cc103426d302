/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/pkt.h (no EAL): the RFC 1624 TTL update against a full checksum
 * recompute, the Ethernet / IPv4 / IPv6 checks (every verdict), MAC rewrite and flow hash.
 * References here are written independently of pkt.h: byte-wise, big-endian arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "npr/util.h"
#include "pkt.h"

/* ---- independent references ---- */

static uint64_t rng_state = 0x9d2c5680a5a5f00dull;

static uint64_t
rnd(void)
{
	return npr_rand(&rng_state);
}

/* One's complement sum of big-endian 16-bit words, byte by byte (RFC 1071). */
static uint16_t
ref_sum(const uint8_t *p, unsigned len)
{
	uint32_t s = 0;
	for (unsigned i = 0; i < len; i += 2)
		s += ((uint32_t)p[i] << 8) | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Checksum a full recompute would store: checksum field taken as zero. */
static uint16_t
ref_cksum(const uint8_t *ip, unsigned hlen)
{
	uint8_t tmp[60];
	memcpy(tmp, ip, hlen);
	tmp[10] = tmp[11] = 0;
	return (uint16_t)~ref_sum(tmp, hlen);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A valid IPv4 header: ihl words, total length tot, TTL 64, proto 17, given addresses. */
static void
mk_ip4(uint8_t *ip, unsigned ihl, unsigned tot, uint32_t src, uint32_t dst)
{
	memset(ip, 0, ihl * 4);
	ip[0] = (uint8_t)(0x40 | ihl);
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	for (unsigned i = 20; i < ihl * 4; i++)
		ip[i] = 1; /* NOP options */
	put16(ip + 10, ref_cksum(ip, ihl * 4));
}

/* ---- TTL decrement with incremental checksum ---- */

static void
test_ttl_incremental(void **state)
{
	static const uint16_t edge[] = { 0x0000, 0x0001, 0x0002, 0x00ff, 0x0100, 0x7fff,
					 0x8000, 0xfeff, 0xff00, 0xfffd, 0xfffe };
	unsigned n_edge = 0, n_neg0 = 0, n_opt = 0;
	(void)state;

	for (unsigned it = 0; it < 200000; it++) {
		uint8_t ip[60], orig[60];
		unsigned ihl = 5 + (unsigned)(rnd() % 11), hlen = ihl * 4;
		unsigned ttl = 2 + (unsigned)(rnd() % 254);

		for (unsigned i = 0; i < hlen; i++)
			ip[i] = (uint8_t)rnd();
		ip[0] = (uint8_t)(0x40 | ihl);
		ip[8] = (uint8_t)ttl;
		if (it % 4 == 0) {
			/* steer the checksum to an edge value through the ID field */
			uint16_t target = edge[rnd() % (sizeof(edge) / sizeof(edge[0]))], s;
			uint32_t id;
			put16(ip + 4, 0);
			put16(ip + 10, 0);
			s = ref_sum(ip, hlen);
			id = (uint16_t)~target + (uint32_t)(uint16_t)~s; /* ~target - s */
			id = (id & 0xffff) + (id >> 16);
			put16(ip + 4, (uint16_t)id);
			put16(ip + 10, ref_cksum(ip, hlen));
			assert_int_equal(get16(ip + 10), target);
			n_edge++;
		} else {
			put16(ip + 10, ref_cksum(ip, hlen));
		}
		/* 0xffff is the other one's complement zero: a valid checksum field too */
		if (get16(ip + 10) == 0 && (rnd() & 1)) {
			put16(ip + 10, 0xffff);
			n_neg0++;
		}
		n_opt += ihl > 5;
		assert_int_equal(ref_sum(ip, hlen), 0xffff);
		assert_true(pkt_ip4_cksum_ok(ip, hlen));
		memcpy(orig, ip, hlen);

		pkt_ip4_ttl_dec(ip);

		assert_int_equal(ip[8], ttl - 1);
		assert_int_equal(get16(ip + 10), ref_cksum(ip, hlen));
		assert_int_equal(ref_sum(ip, hlen), 0xffff);
		assert_true(pkt_ip4_cksum_ok(ip, hlen));
		for (unsigned i = 0; i < hlen; i++)
			if (i != 8 && i != 10 && i != 11)
				assert_int_equal(ip[i], orig[i]);
	}
	assert_true(n_edge > 40000);
	assert_true(n_neg0 > 100);
	assert_true(n_opt > 150000);
}

/*
 * The verdict against the reference on headers with any checksum field, valid or not: random
 * bytes, and bytes drawn mostly from 0xff / 0x00 so that the 64-bit additions carry out (and
 * the all-zero header, whose sum is 0, not 0xffff).
 */
static void
cksum_verdict(void)
{
	static const uint8_t pick[4] = { 0xff, 0xff, 0x00, 0xfe };

	for (unsigned it = 0; it < 200000; it++) {
		uint8_t ip[60];
		unsigned ihl = 5 + (unsigned)(rnd() % 11), hlen = ihl * 4, mode = it % 4;

		for (unsigned i = 0; i < hlen; i++)
			ip[i] = mode == 0 ? (uint8_t)rnd() : pick[rnd() % 4];
		if (mode == 3) /* a valid field on a carry-heavy header */
			put16(ip + 10, ref_cksum(ip, hlen));
		assert_int_equal(pkt_ip4_cksum_ok(ip, hlen) != 0, ref_sum(ip, hlen) == 0xffff);
	}
	for (unsigned hlen = 20; hlen <= 60; hlen += 4) {
		uint8_t ip[60];

		memset(ip, 0, sizeof(ip));
		assert_false(pkt_ip4_cksum_ok(ip, hlen));
		memset(ip, 0xff, sizeof(ip));
		assert_true(pkt_ip4_cksum_ok(ip, hlen));
	}
}

/* The software check against the reference, on valid and one-bit-corrupted headers. */
static void
test_cksum_check(void **state)
{
	(void)state;
	for (unsigned it = 0; it < 50000; it++) {
		uint8_t ip[60];
		unsigned ihl = 5 + (unsigned)(rnd() % 11), hlen = ihl * 4;

		for (unsigned i = 0; i < hlen; i++)
			ip[i] = (uint8_t)rnd();
		put16(ip + 10, ref_cksum(ip, hlen));
		assert_true(pkt_ip4_cksum_ok(ip, hlen));
		ip[rnd() % hlen] ^= (uint8_t)(1u << (rnd() % 8));
		assert_false(pkt_ip4_cksum_ok(ip, hlen));
	}
	cksum_verdict();
}

/* ---- IPv4 checks ---- */

#define DROP(r) (PKT_DROP | NPR_DROP_##r)
#define EXC(r) (PKT_EXC | NPR_EXC_##r)

static const uint32_t A_SRC = 0x0a000001; /* 10.0.0.1 */
static const uint32_t A_DST = 0xc6336401; /* 198.51.100.1 */

static unsigned
check4(const uint8_t *ip, uint32_t seg, uint32_t l3, uint64_t ol, uint32_t *len)
{
	*len = 0xdead;
	return pkt_ip4_check(ip, seg, l3, ol, len);
}

static void
test_ip4_check(void **state)
{
	uint8_t ip[80];
	uint32_t len;
	(void)state;

	/* valid, no padding; with options; with padding */
	mk_ip4(ip, 5, 20, A_SRC, A_DST);
	assert_int_equal(check4(ip, 20, 20, 0, &len), PKT_OK);
	assert_int_equal(len, 20);
	mk_ip4(ip, 15, 60, A_SRC, A_DST);
	assert_int_equal(check4(ip, 60, 60, 0, &len), PKT_OK);
	assert_int_equal(len, 60);
	mk_ip4(ip, 5, 28, A_SRC, A_DST);
	assert_int_equal(check4(ip, 46, 46, 0, &len), PKT_OK);
	assert_int_equal(len, 28);
	/* total length may extend past the first segment */
	mk_ip4(ip, 5, 1500, A_SRC, A_DST);
	assert_int_equal(check4(ip, 64, 1500, 0, &len), PKT_OK);
	assert_int_equal(len, 1500);

	/* TRUNCATED: fewer than 20 bytes, whatever they hold */
	mk_ip4(ip, 5, 20, A_SRC, A_DST);
	assert_int_equal(check4(ip, 19, 19, 0, &len), DROP(TRUNCATED));
	assert_int_equal(len, 0xdead);
	ip[0] = 0x65;
	assert_int_equal(check4(ip, 0, 0, 0, &len), DROP(TRUNCATED));

	/* BAD_VERSION: 6 and 0 (checksum fixed so it is the version that fails) */
	mk_ip4(ip, 5, 20, A_SRC, A_DST);
	ip[0] = 0x65;
	put16(ip + 10, ref_cksum(ip, 20));
	assert_int_equal(check4(ip, 20, 20, 0, &len), DROP(BAD_VERSION));
	ip[0] = 0x05;
	assert_int_equal(check4(ip, 20, 20, 0, &len), DROP(BAD_VERSION));

	/* BAD_IHL: 0..4 */
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		mk_ip4(ip, 5, 20, A_SRC, A_DST);
		ip[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(check4(ip, 20, 20, 0, &len), DROP(BAD_IHL));
	}

	/* TRUNCATED: IHL says more than the segment holds */
	mk_ip4(ip, 6, 24, A_SRC, A_DST);
	assert_int_equal(check4(ip, 23, 23, 0, &len), DROP(TRUNCATED));
	mk_ip4(ip, 15, 60, A_SRC, A_DST);
	assert_int_equal(check4(ip, 56, 60, 0, &len), DROP(TRUNCATED));

	/* BAD_CHECKSUM, and the offload flags */
	mk_ip4(ip, 5, 20, A_SRC, A_DST);
	ip[11] ^= 0x01;
	assert_int_equal(check4(ip, 20, 20, 0, &len), DROP(BAD_CHECKSUM));
	assert_int_equal(check4(ip, 20, 20, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, &len),
			 DROP(BAD_CHECKSUM));
	assert_int_equal(check4(ip, 20, 20, RTE_MBUF_F_RX_IP_CKSUM_GOOD, &len), PKT_OK);
	ip[11] ^= 0x01;
	assert_int_equal(check4(ip, 20, 20, RTE_MBUF_F_RX_IP_CKSUM_BAD, &len), DROP(BAD_CHECKSUM));
	/* a checksum error in the options */
	mk_ip4(ip, 8, 32, A_SRC, A_DST);
	ip[30] ^= 0x80;
	assert_int_equal(check4(ip, 32, 32, 0, &len), DROP(BAD_CHECKSUM));

	/* BAD_LENGTH: total length below the header, or beyond the frame */
	mk_ip4(ip, 5, 19, A_SRC, A_DST);
	assert_int_equal(check4(ip, 20, 20, 0, &len), DROP(BAD_LENGTH));
	mk_ip4(ip, 6, 20, A_SRC, A_DST);
	assert_int_equal(check4(ip, 24, 24, 0, &len), DROP(BAD_LENGTH));
	mk_ip4(ip, 5, 0, A_SRC, A_DST);
	assert_int_equal(check4(ip, 20, 20, 0, &len), DROP(BAD_LENGTH));
	mk_ip4(ip, 5, 47, A_SRC, A_DST);
	assert_int_equal(check4(ip, 46, 46, 0, &len), DROP(BAD_LENGTH));
	mk_ip4(ip, 5, 65535, A_SRC, A_DST);
	assert_int_equal(check4(ip, 64, 9000, 0, &len), DROP(BAD_LENGTH));
}

static uint32_t
a4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (a << 24) | (b << 16) | (c << 8) | d;
}

static void
test_ip4_addr(void **state)
{
	const struct {
		uint32_t src, dst;
		unsigned v;
	} c[] = {
		{ a4(10, 0, 0, 1), a4(198, 51, 100, 1), PKT_OK },
		{ a4(1, 0, 0, 0), a4(223, 255, 255, 255), PKT_OK },
		{ a4(126, 255, 255, 255), a4(128, 0, 0, 0), PKT_OK },
		{ a4(223, 255, 255, 254), a4(1, 1, 1, 1), PKT_OK },
		{ a4(0, 0, 0, 0), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		{ a4(0, 1, 2, 3), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		{ a4(127, 0, 0, 1), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		{ a4(224, 0, 0, 1), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		{ a4(239, 255, 255, 255), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		{ a4(240, 0, 0, 1), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		{ a4(255, 255, 255, 255), a4(10, 0, 0, 1), DROP(BAD_SRC) },
		/* DHCP-style initialisation: 0.0.0.0 to the limited broadcast, for the slow path */
		{ a4(0, 0, 0, 0), a4(255, 255, 255, 255), EXC(L2_MULTICAST) },
		{ a4(0, 1, 0, 0), a4(255, 255, 255, 255), DROP(BAD_SRC) },
		{ a4(10, 0, 0, 1), a4(0, 0, 0, 0), DROP(BAD_DST) },
		{ a4(10, 0, 0, 1), a4(0, 255, 255, 255), DROP(BAD_DST) },
		{ a4(10, 0, 0, 1), a4(127, 0, 0, 1), DROP(BAD_DST) },
		{ a4(10, 0, 0, 1), a4(240, 0, 0, 0), DROP(BAD_DST) },
		{ a4(10, 0, 0, 1), a4(255, 255, 255, 254), DROP(BAD_DST) },
		{ a4(10, 0, 0, 1), a4(255, 255, 255, 255), EXC(L2_MULTICAST) },
		{ a4(10, 0, 0, 1), a4(224, 0, 0, 5), EXC(L2_MULTICAST) },
		{ a4(10, 0, 0, 1), a4(239, 255, 255, 255), EXC(L2_MULTICAST) },
		/* source checked first */
		{ a4(127, 0, 0, 1), a4(127, 0, 0, 1), DROP(BAD_SRC) },
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		unsigned v = pkt_ip4_addr_check(c[i].src, c[i].dst);
		if (v != c[i].v)
			fail_msg("case %u: %08x -> %08x: got %#x want %#x", i, c[i].src, c[i].dst,
				 v, c[i].v);
	}
}

/* ---- Ethernet ---- */

static void
mk_eth(uint8_t *f, const uint8_t *dst, uint16_t et)
{
	static const uint8_t src[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, et);
}

static void
test_eth(void **state)
{
	static const uint8_t me[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
	static const uint8_t other[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x02 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast6[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 };
	/* byte 0 in the low byte */
	uint64_t my = 0x010100000002ull;
	uint8_t f[64];
	(void)state;

	memset(f, 0xee, sizeof(f));
	memcpy(f, me, 6); /* pkt_mac_load reads 8 bytes: bytes 6, 7 must not matter */
	assert_int_equal(pkt_mac_load(f), my);

	mk_eth(f, me, 0x0800);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), PKT_IP4);
	assert_int_equal(pkt_eth_check(f, 14, my, 1), PKT_IP4);
	assert_int_equal(pkt_eth_check(f, 13, my, 1), DROP(TRUNCATED));
	assert_int_equal(pkt_eth_check(f, 0, my, 1), DROP(TRUNCATED));
	assert_int_equal(pkt_eth_check(f, 60, my, 0), DROP(IFACE_DOWN));
	mk_eth(f, me, 0x86dd);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), PKT_IP6);
	mk_eth(f, me, 0x0806);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), EXC(ARP));
	mk_eth(f, me, 0x8100);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), DROP(BAD_ETHERTYPE));
	mk_eth(f, me, 0x88cc);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), DROP(BAD_ETHERTYPE));
	mk_eth(f, me, 0x0008); /* byte-swapped IPv4 */
	assert_int_equal(pkt_eth_check(f, 60, my, 1), DROP(BAD_ETHERTYPE));

	mk_eth(f, other, 0x0800);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), DROP(NOT_FOR_US));
	assert_int_equal(pkt_eth_check(f, 60, my, 0), DROP(NOT_FOR_US));
	/* same low 5 bytes, last byte differs: must not match */
	mk_eth(f, me, 0x0800);
	f[5] ^= 0x80;
	assert_int_equal(pkt_eth_check(f, 60, my, 1), DROP(NOT_FOR_US));

	mk_eth(f, bcast, 0x0806);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), EXC(ARP));
	assert_int_equal(pkt_eth_check(f, 60, my, 0), DROP(IFACE_DOWN));
	mk_eth(f, bcast, 0x0800);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), EXC(L2_MULTICAST));
	mk_eth(f, mcast6, 0x86dd);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), EXC(L2_MULTICAST));
	mk_eth(f, mcast6, 0x88cc);
	assert_int_equal(pkt_eth_check(f, 60, my, 1), EXC(L2_MULTICAST));
}

static void
test_eth_set_macs(void **state)
{
	uint8_t f[20];
	static const uint8_t want_dst[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	static const uint8_t want_src[6] = { 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };
	(void)state;

	memset(f, 0x5a, sizeof(f));
	pkt_eth_set_macs(f, 0x665544332211ull, 0xf6e5d4c3b2a1ull);
	assert_memory_equal(f, want_dst, 6);
	assert_memory_equal(f + 6, want_src, 6);
	for (unsigned i = 12; i < sizeof(f); i++)
		assert_int_equal(f[i], 0x5a);
	/* stray high bits in the 64-bit values do not leak */
	pkt_eth_set_macs(f, 0xffff665544332211ull, 0xf6e5d4c3b2a1ull);
	assert_memory_equal(f, want_dst, 6);
	assert_memory_equal(f + 6, want_src, 6);
}

/* ---- IPv6 ---- */

static void
mk_ip6(uint8_t *ip, unsigned plen, const char *src, const char *dst)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)plen);
	ip[6] = 17;
	ip[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
}

static void
test_ip6_check(void **state)
{
	const struct {
		const char *src, *dst;
		unsigned v;
	} c[] = {
		{ "2001:db8::1", "2001:db8:1::1", PKT_OK },
		{ "fe80::1", "2001:db8:1::1", PKT_OK }, /* scoped source: refused after lookup */
		{ "::", "2001:db8:1::1", PKT_OK },
		{ "ff02::1", "2001:db8:1::1", DROP(BAD_SRC) },
		{ "ff0e::1", "2001:db8:1::1", DROP(BAD_SRC) },
		{ "::1", "2001:db8:1::1", DROP(BAD_SRC) },
		{ "2001:db8::1", "::1", DROP(BAD_DST) },
		{ "2001:db8::1", "::", DROP(BAD_DST) },
		{ "2001:db8::1", "::2", PKT_OK },
		{ "2001:db8::1", "1::1", PKT_OK },
		{ "2001:db8::1", "ff02::1", EXC(L2_MULTICAST) },
		{ "2001:db8::1", "ff02::1:ff00:1", EXC(L2_MULTICAST) },
		{ "2001:db8::1", "fe80::1", EXC(LOCAL) },
		{ "2001:db8::1", "febf::1", EXC(LOCAL) },
		{ "2001:db8::1", "fec0::1", PKT_OK },
		{ "fe80::1", "fe80::2", EXC(LOCAL) },
	};
	uint8_t ip[80];
	uint32_t len;
	(void)state;

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		mk_ip6(ip, 8, c[i].src, c[i].dst);
		len = 0;
		unsigned v = pkt_ip6_check(ip, 48, 48, &len);
		if (v != c[i].v)
			fail_msg("case %u: %s -> %s: got %#x want %#x", i, c[i].src, c[i].dst, v,
				 c[i].v);
		if (v == PKT_OK)
			assert_int_equal(len, 48);
	}
	assert_true(pkt_ip6_src_scoped(ip + 8)); /* last case: from fe80::1 */

	mk_ip6(ip, 8, "2001:db8::1", "2001:db8:1::1");
	assert_false(pkt_ip6_src_scoped(ip + 8));
	assert_int_equal(pkt_ip6_check(ip, 39, 39, &len), DROP(TRUNCATED));
	assert_int_equal(pkt_ip6_check(ip, 48, 60, &len), PKT_OK); /* padding */
	assert_int_equal(len, 48);
	assert_int_equal(pkt_ip6_check(ip, 47, 47, &len), DROP(BAD_LENGTH));
	assert_int_equal(pkt_ip6_check(ip, 40, 48, &len), PKT_OK); /* payload in later segs */
	put16(ip + 4, 0);					   /* jumbogram */
	assert_int_equal(pkt_ip6_check(ip, 48, 48, &len), DROP(BAD_LENGTH));
	put16(ip + 4, 65535);
	assert_int_equal(pkt_ip6_check(ip, 48, 9000, &len), DROP(BAD_LENGTH));
	put16(ip + 4, 8);
	ip[0] = 0x40;
	assert_int_equal(pkt_ip6_check(ip, 48, 48, &len), DROP(BAD_VERSION));
	ip[0] = 0x6f; /* traffic class bits do not matter */
	assert_int_equal(pkt_ip6_check(ip, 48, 48, &len), PKT_OK);

	mk_ip6(ip, 8, "::", "2001:db8::1");
	assert_true(pkt_ip6_src_scoped(ip + 8));
	mk_ip6(ip, 8, "fe80::1", "2001:db8::1");
	assert_true(pkt_ip6_src_scoped(ip + 8));
	mk_ip6(ip, 8, "febf:ffff::1", "2001:db8::1");
	assert_true(pkt_ip6_src_scoped(ip + 8));
	mk_ip6(ip, 8, "fec0::1", "2001:db8::1");
	assert_false(pkt_ip6_src_scoped(ip + 8));
	mk_ip6(ip, 8, "::1:0:0:0:0", "2001:db8::1");
	assert_false(pkt_ip6_src_scoped(ip + 8));

	mk_ip6(ip, 8, "2001:db8::1", "2001:db8:1::1");
	pkt_ip6_hlim_dec(ip);
	assert_int_equal(ip[7], 63);
}

/* ---- flow hash ---- */

static void
test_flow_hash(void **state)
{
	uint8_t ip[64], ip2[64];
	uint32_t h0, h;
	(void)state;

	/* IPv4 UDP, first fragment: ports count */
	mk_ip4(ip, 5, 28, A_SRC, A_DST);
	put16(ip + 20, 1000);
	put16(ip + 22, 53);
	h0 = pkt_flow_hash4(ip, 28);
	assert_int_equal(h0, pkt_flow_hash4(ip, 28));
	memcpy(ip2, ip, 28);
	ip2[8] = 3; /* TTL, checksum, ID: not part of the flow */
	ip2[10] ^= 0xff;
	ip2[4] ^= 0x55;
	assert_int_equal(pkt_flow_hash4(ip2, 28), h0);
	put16(ip2 + 20, 1001);
	assert_int_not_equal(pkt_flow_hash4(ip2, 28), h0);
	/* ports not present: not read */
	assert_int_not_equal(pkt_flow_hash4(ip, 23), h0);
	assert_int_equal(pkt_flow_hash4(ip, 23), pkt_flow_hash4(ip2, 23));
	/* non-first fragment: ports ignored; first fragment (MF only) keeps them */
	put16(ip + 6, 0x0001);
	put16(ip2 + 6, 0x0001);
	assert_int_equal(pkt_flow_hash4(ip, 28), pkt_flow_hash4(ip2, 28));
	put16(ip + 6, 0x2000);
	assert_int_equal(pkt_flow_hash4(ip, 28), h0);
	put16(ip + 6, 0);
	/* ICMP: no ports */
	ip[9] = 1;
	ip2[9] = 1;
	put16(ip2 + 6, 0);
	assert_int_equal(pkt_flow_hash4(ip, 28), pkt_flow_hash4(ip2, 28));
	ip[9] = 6;
	assert_int_not_equal(pkt_flow_hash4(ip, 28), h0);
	/* options shift the ports */
	mk_ip4(ip, 6, 32, A_SRC, A_DST);
	put16(ip + 24, 1000);
	put16(ip + 26, 53);
	assert_int_equal(pkt_flow_hash4(ip, 32), h0);
	/* addresses */
	mk_ip4(ip2, 5, 28, A_SRC + 1, A_DST);
	put16(ip2 + 20, 1000);
	put16(ip2 + 22, 53);
	assert_int_not_equal(pkt_flow_hash4(ip2, 28), h0);

	/* IPv6 */
	mk_ip6(ip, 8, "2001:db8::1", "2001:db8:1::1");
	put16(ip + 40, 1000);
	put16(ip + 42, 53);
	h0 = pkt_flow_hash6(ip, 48);
	memcpy(ip2, ip, 48);
	ip2[7] = 1;
	ip2[1] = 0xff; /* traffic class / flow label: ignored */
	assert_int_equal(pkt_flow_hash6(ip2, 48), h0);
	put16(ip2 + 42, 54);
	assert_int_not_equal(pkt_flow_hash6(ip2, 48), h0);
	assert_int_equal(pkt_flow_hash6(ip, 43), pkt_flow_hash6(ip2, 43));
	ip2[6] = 0; /* hop-by-hop first: ports not looked at */
	ip[6] = 0;
	assert_int_equal(pkt_flow_hash6(ip, 48), pkt_flow_hash6(ip2, 48));
	ip2[39] ^= 1;
	assert_int_not_equal(pkt_flow_hash6(ip, 48), pkt_flow_hash6(ip2, 48));

	/* spread: the top bit (2-way ECMP) and 1024 slots are balanced over ports */
	unsigned top = 0, slots[16] = { 0 };
	mk_ip4(ip, 5, 28, A_SRC, A_DST);
	for (unsigned p = 0; p < 16000; p++) {
		put16(ip + 20, (uint16_t)(1024 + p));
		h = pkt_flow_hash4(ip, 28);
		top += h >> 31;
		slots[((uint64_t)h * 16) >> 32]++;
	}
	assert_in_range(top, 7500, 8500);
	for (unsigned i = 0; i < 16; i++)
		assert_in_range(slots[i], 800, 1200);
}

/* ---- the fast checks against the ordered ones ---- */

/* What fwd.c concludes from the ordered checks for a frame: 1 if it goes on to the lookup as
 * IPv4 (4) or IPv6 (6) with its TTL / hop limit above 1 (and, IPv6, a source that may be
 * forwarded), with *dst4 / *tot set; 0 otherwise. */
static int
ordered_ok(const uint8_t *f, uint32_t seg, uint32_t l3, uint64_t ol, uint64_t mac, int fam,
	   uint32_t *dst4, uint32_t *tot)
{
	const uint8_t *ip = f + PKT_ETH_LEN;
	unsigned v = pkt_eth_check(f, seg, mac, 1);

	if (fam == 4 && v == PKT_IP4) {
		if (pkt_ip4_check(ip, seg - PKT_ETH_LEN, l3, ol, tot) != PKT_OK)
			return 0;
		*dst4 = ((uint32_t)ip[16] << 24) | ((uint32_t)ip[17] << 16) |
			((uint32_t)ip[18] << 8) | ip[19];
		if (pkt_ip4_addr_check(((uint32_t)ip[12] << 24) | ((uint32_t)ip[13] << 16) |
					       ((uint32_t)ip[14] << 8) | ip[15],
				       *dst4) != PKT_OK)
			return 0;
		return ip[8] > 1;
	}
	if (fam == 6 && v == PKT_IP6) {
		if (pkt_ip6_check(ip, seg - PKT_ETH_LEN, l3, tot) != PKT_OK)
			return 0;
		return ip[7] > 1 && !pkt_ip6_src_scoped(ip + 8);
	}
	return 0;
}

/* Bytes that make a field interesting: the boundaries the checks look at. */
static uint8_t
pick_byte(void)
{
	static const uint8_t v[] = { 0,	   1,	 2,    0x45, 0x46, 0x40, 0x60, 0x7f, 0x80, 0xdf,
				     0xe0, 0xef, 0xf0, 0xfe, 0xff, 0x08, 0x86, 0xdd, 0x11, 0x20 };
	return rnd() & 1 ? v[rnd() % sizeof(v)] : (uint8_t)rnd();
}

/*
 * pkt_ip4_fast / pkt_ip6_fast must never accept what the ordered checks refuse, and when they
 * accept, must give the same destination and length. On frames that differ from a good one
 * in a field or two, they must also accept whatever the ordered checks accept except for the
 * cases they leave to them on purpose (IPv4 options, a checksum the driver vouched for,
 * special first octets, 169/8), so that they are exercised both ways.
 */
static void
test_fast_checks(void **state)
{
	static const uint8_t me[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
	const uint64_t my = 0x010100000002ull;
	unsigned agree[2] = { 0, 0 }, accepted[2] = { 0, 0 };
	(void)state;

	for (unsigned it = 0; it < 400000; it++) {
		uint8_t f[128];
		int fam = it & 1 ? 6 : 4, ok, fast;
		uint32_t seg, l3, dst = 0, tot = 0, fdst = 0xdeadbeef, ftot = 0xdeadbeef;
		uint64_t ol = RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
		unsigned flips = (unsigned)(rnd() % 4), refix = rnd() % 4 != 0;

		memset(f, 0, sizeof(f));
		if (fam == 4) {
			unsigned ihl = rnd() % 8 == 0 ? 5 + (unsigned)(rnd() % 11) : 5;
			mk_eth(f, me, 0x0800);
			mk_ip4(f + 14, ihl, ihl * 4 + (unsigned)(rnd() % 40),
			       (uint32_t)rnd() | 0x01000000, (uint32_t)rnd() | 0x01000000);
		} else {
			mk_eth(f, me, 0x86dd);
			mk_ip6(f + 14, (unsigned)(rnd() % 40), "2001:db8::1", "2001:db8:1::1");
			for (unsigned i = 0; i < 32; i++)
				f[14 + 8 + i] = (uint8_t)rnd();
		}
		for (unsigned k = 0; k < flips; k++) {
			unsigned at = (unsigned)(rnd() % (fam == 4 ? 34 : 54));
			f[at] = pick_byte();
		}
		if (fam == 4 && refix && (f[14] & 0xf) >= 5) { /* mostly keep the checksum right */
			unsigned hl = (f[14] & 0xfu) * 4;
			put16(f + 24, ref_cksum(f + 14, hl));
		}
		seg = 14 + (fam == 4 ? 20 : 40) + (uint32_t)(rnd() % 60);
		if (rnd() % 16 == 0)
			seg = (uint32_t)(rnd() % seg);
		l3 = seg >= 14 ? seg - 14 : 0;
		if (rnd() % 8 == 0)
			ol = rnd() & 1 ? RTE_MBUF_F_RX_IP_CKSUM_GOOD : RTE_MBUF_F_RX_IP_CKSUM_BAD;
		ok = seg >= 14 && ordered_ok(f, seg, l3, ol, my, fam, &dst, &tot);
		fast = fam == 4 ? pkt_ip4_fast(f, seg, l3, ol, my, &fdst, &ftot)
				: pkt_ip6_fast(f, seg, l3, my, &ftot);
		if (fast && !ok) {
			print_message("iteration %u: fast accepts what the ordered checks refuse\n",
				      it);
			fail();
		}
		if (fast) {
			assert_int_equal(ftot, tot);
			if (fam == 4)
				assert_int_equal(fdst, dst);
			accepted[fam == 6]++;
		}
		/* the cases left to the ordered checks on purpose */
		if (ok && !fast) {
			const uint8_t *ip = f + 14;
			/* IPv4: options, a checksum vouched for, 169/8 (RFC 3927 7) */
			int left = fam == 4 ? (ip[0] != 0x45 || ol == RTE_MBUF_F_RX_IP_CKSUM_GOOD ||
					       ip[12] == 169 || ip[16] == 169)
					    : (ip[8] == 0 || ip[8] == 0xfe || ip[24] == 0 ||
					       ip[24] == 0xfe);
			if (!left) {
				print_message("iteration %u: fast refuses a plain packet\n", it);
				fail();
			}
		}
		agree[fam == 6] += ok == fast;
		/* the down port: nothing passes */
		if (fam == 4)
			assert_false(
				pkt_ip4_fast(f, seg, l3, ol, PKT_FAST_PORT_DOWN, &fdst, &ftot));
		else
			assert_false(pkt_ip6_fast(f, seg, l3, PKT_FAST_PORT_DOWN, &ftot));
	}
	/* a down port matches no frame, not even one sent to 00:00:00:00:00:00 */
	{
		static const uint8_t zero[6] = { 0 };
		uint8_t f[128];
		uint32_t d, t;

		memset(f, 0, sizeof(f));
		mk_eth(f, zero, 0x0800);
		mk_ip4(f + 14, 5, 40, A_SRC, A_DST);
		assert_true(pkt_ip4_fast(f, 54, 40, 0, 0, &d, &t));
		assert_false(pkt_ip4_fast(f, 54, 40, 0, PKT_FAST_PORT_DOWN, &d, &t));
		mk_eth(f, zero, 0x86dd);
		mk_ip6(f + 14, 8, "2001:db8::1", "2001:db8:1::1");
		assert_true(pkt_ip6_fast(f, 62, 48, 0, &t));
		assert_false(pkt_ip6_fast(f, 62, 48, PKT_FAST_PORT_DOWN, &t));
	}
	/* both ways exercised: many accepted, many refused */
	print_message("fast checks: accepted %u IPv4, %u IPv6 of 200000 each\n", accepted[0],
		      accepted[1]);
	assert_in_range(accepted[0], 20000, 180000);
	assert_in_range(accepted[1], 20000, 180000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_incremental),
		cmocka_unit_test(test_cksum_check),
		cmocka_unit_test(test_ip4_check),
		cmocka_unit_test(test_ip4_addr),
		cmocka_unit_test(test_eth),
		cmocka_unit_test(test_eth_set_macs),
		cmocka_unit_test(test_ip6_check),
		cmocka_unit_test(test_flow_hash),
		cmocka_unit_test(test_fast_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
