/* SPDX-License-Identifier: BSD-3-Clause */
/* Addresses, prefixes and MACs: rules and text forms (addr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "npr/addr.h"

static bool
all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The mask byte i of a prefix of length plen. */
static inline uint8_t
mask_byte(unsigned i, unsigned plen)
{
	unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
	return (uint8_t)(0xff00u >> keep);
}

bool
npr_prefix_host_bits(int family, const uint8_t *a, unsigned plen)
{
	for (unsigned i = 0; i < npr_alen(family); i++)
		if (a[i] & ~mask_byte(i, plen))
			return true;
	return false;
}

void
npr_prefix_mask(int family, uint8_t *a, unsigned plen)
{
	for (unsigned i = 0; i < npr_alen(family); i++)
		a[i] &= mask_byte(i, plen);
}

bool
npr_same_prefix(int family, const uint8_t *a, const uint8_t *b, unsigned plen)
{
	for (unsigned i = 0; i < npr_alen(family); i++)
		if ((a[i] ^ b[i]) & mask_byte(i, plen))
			return false;
	return true;
}

const char *
npr_bad_unicast(int family, const uint8_t *a)
{
	if (family == NPR_AF_INET) {
		if (!all_zero(a + 4, 12))
			return "has bytes set beyond the IPv4 address";
		if (all_zero(a, 4))
			return "is unspecified";
		if (a[0] == 0) /* RFC 1122 3.2.1.3: a source only while booting; never forwarded */
			return "is in 0.0.0.0/8 (this network)";
		if (a[0] == 127)
			return "is a loopback address";
		if (a[0] >= 224)
			return "is multicast, broadcast or reserved";
		return NULL;
	}
	if (all_zero(a, 16))
		return "is unspecified";
	if (all_zero(a, 15) && a[15] == 1)
		return "is the loopback address";
	if (a[0] == 0xff)
		return "is multicast";
	return NULL;
}

const char *
npr_bad_unicast_mac(const uint8_t *m)
{
	if (npr_mac_zero(m))
		return "is zero";
	if (m[0] & 1)
		return "is multicast";
	return NULL;
}

/* ---- parsers ---- */

/* Decimal 0..max from s[0..n): digits only, no leading zero. -1 if not. */
static long
parse_dec(const char *s, size_t n, long max)
{
	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

static int
parse_ip4(const char *s, size_t n, uint8_t out[4])
{
	const char *end = s + n;
	for (int i = 0; i < 4; i++) {
		const char *p = s;
		while (p < end && *p != '.')
			p++;
		if ((p == end) != (i == 3))
			return -EINVAL;
		long v = parse_dec(s, (size_t)(p - s), 255);
		if (v < 0 || p - s > 3)
			return -EINVAL;
		out[i] = (uint8_t)v;
		s = p + 1;
	}
	return 0;
}

/* Address in s[0..n), no prefix length. */
static int
parse_addr_n(const char *s, size_t n, int *family, uint8_t addr[16])
{
	uint8_t a[16] = { 0 };
	if (memchr(s, ':', n) != NULL) {
		char tmp[NPR_ADDR_STRLEN + 1];
		if (n >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET6, tmp, a) != 1)
			return -EINVAL;
		*family = NPR_AF_INET6;
	} else {
		if (parse_ip4(s, n, a) < 0)
			return -EINVAL;
		*family = NPR_AF_INET;
	}
	memcpy(addr, a, 16);
	return 0;
}

int
npr_parse_addr(const char *s, int *family, uint8_t addr[16])
{
	if (s == NULL)
		return -EINVAL;
	return parse_addr_n(s, strlen(s), family, addr);
}

/* "ADDR/LEN": 0, -EINVAL (malformed), or -EDOM (host bits set; outputs filled). */
static int
parse_cidr(const char *s, int *family, uint8_t addr[16], uint8_t *plen)
{
	if (s == NULL)
		return -EINVAL;
	const char *slash = strchr(s, '/');
	if (slash == NULL)
		return -EINVAL;
	int fam;
	uint8_t a[16];
	if (parse_addr_n(s, (size_t)(slash - s), &fam, a) < 0)
		return -EINVAL;
	long len = parse_dec(slash + 1, strlen(slash + 1), (long)npr_hostlen(fam));
	if (len < 0)
		return -EINVAL;
	*family = fam;
	memcpy(addr, a, 16);
	*plen = (uint8_t)len;
	return npr_prefix_host_bits(fam, a, (unsigned)len) ? -EDOM : 0;
}

int
npr_parse_prefix(const char *s, int *family, uint8_t addr[16], uint8_t *plen)
{
	return parse_cidr(s, family, addr, plen) == 0 ? 0 : -EINVAL;
}

int
npr_parse_ifaddr(const char *s, int *family, uint8_t addr[16], uint8_t *plen)
{
	int rc = parse_cidr(s, family, addr, plen);
	return rc == -EDOM ? 0 : rc;
}

const char *
npr_prefix_strerror(const char *s, char *buf, size_t len)
{
	int fam;
	uint8_t a[16], plen;
	int rc = parse_cidr(s, &fam, a, &plen);

	if (rc == 0) {
		snprintf(buf, len, "valid prefix");
	} else if (rc == -EDOM) {
		char canon[NPR_PREFIX_STRLEN];
		npr_prefix_mask(fam, a, plen);
		snprintf(buf, len, "host bits set beyond /%u: the prefix is %s", plen,
			 npr_format_prefix(fam, a, plen, canon, sizeof(canon)));
	} else if (s == NULL || s[0] == '\0') {
		snprintf(buf, len, "empty prefix");
	} else {
		const char *slash = strchr(s, '/');
		if (slash == NULL) {
			snprintf(buf, len, "missing /LENGTH");
		} else if (parse_addr_n(s, (size_t)(slash - s), &fam, a) < 0) {
			snprintf(buf, len, "bad address '%.*s'",
				 (int)(slash - s < 60 ? slash - s : 60), s);
		} else {
			long max = (long)npr_hostlen(fam);
			long v = parse_dec(slash + 1, strlen(slash + 1), LONG_MAX / 10);
			if (v > max)
				snprintf(buf, len, "prefix length %ld > %ld", v, max);
			else
				snprintf(buf, len, "bad prefix length '%.20s'", slash + 1);
		}
	}
	return buf;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
npr_parse_mac(const char *s, uint8_t mac[6])
{
	if (s == NULL || strlen(s) != 17)
		return -EINVAL;
	uint8_t m[6];
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
}

/* ---- formatters ---- */

const char *
npr_format_addr(int family, const uint8_t *addr, char *buf, size_t len)
{
	int af = family == NPR_AF_INET || family == AF_INET	? AF_INET
		 : family == NPR_AF_INET6 || family == AF_INET6 ? AF_INET6
								: -1;
	if (af < 0 || inet_ntop(af, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *
npr_format_prefix(int family, const uint8_t *addr, unsigned plen, char *buf, size_t len)
{
	char a[NPR_ADDR_STRLEN];
	snprintf(buf, len, "%s/%u", npr_format_addr(family, addr, a, sizeof(a)), plen);
	return buf;
}

const char *
npr_format_mac(const uint8_t *m, char *buf)
{
	snprintf(buf, NPR_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return buf;
}
