/* SPDX-License-Identifier: BSD-3-Clause */
/* The slow path's helpers: who is on which subnet, frames, sending, the ICMP token bucket,
 * IP parsing (layer 1, sp_int.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "icmp.h"
#include "pkt.h"
#include "sp_int.h"

/* addr is on a subnet of an address of ifid (link-local IPv6: always on-link) */
bool
on_subnet(const struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a)
{
	if (npr_is_ll6((int)family, a))
		return true;
	for (unsigned i = 0; i < sp->n_addr; i++) {
		const struct cfg_addr *x = &sp->addr[i];
		if (x->ifid == ifid && x->family == family &&
		    npr_same_prefix(x->family, x->a, a, x->plen))
			return true;
	}
	return false;
}

/* The broadcast address of a connected IPv4 subnet (directed broadcast: never resolved or
 * forwarded, RFC 2644). */
bool
is_subnet_bcast4(const struct slowpath *sp, const uint8_t *a)
{
	for (unsigned i = 0; i < sp->n_addr; i++) {
		const struct cfg_addr *x = &sp->addr[i];
		if (x->family != NPR_AF_INET || x->plen >= 31 ||
		    !npr_same_prefix(x->family, x->a, a, x->plen))
			continue;
		uint32_t v =
			(uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		uint32_t host = (1u << (32 - x->plen)) - 1;
		if ((v & host) == host)
			return true;
	}
	return false;
}

/* An address of ours on ifid (IPv6: its link-local address too). */
bool
ours_on(const struct slowpath *sp, unsigned ifid, unsigned family, const uint8_t *a)
{
	if (family == NPR_AF_INET6 && memcmp(a, sp->ifs[ifid].ll, 16) == 0)
		return true;
	return cfg_addr_local(sp->conf.cfg, family, a) == (int)ifid;
}

void
drop(struct slowpath *sp, struct rte_mbuf *m, unsigned counter)
{
	sp->cnt[counter]++;
	rte_pktmbuf_free(m);
}

/* A fresh mbuf with room for a frame: *ip points after the Ethernet header, *cap is what
 * fits there. Append the frame length with frame_done. */
struct rte_mbuf *
frame_new(struct slowpath *sp, uint8_t **ip, size_t *cap)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sp->conf.pool);

	if (m == NULL) {
		CNT(sp, NOMBUF);
		return NULL;
	}
	*ip = rte_pktmbuf_mtod(m, uint8_t *) + PKT_ETH_LEN;
	*cap = rte_pktmbuf_tailroom(m) - PKT_ETH_LEN;
	return m;
}

void
frame_done(struct rte_mbuf *m, size_t ip_len, uint16_t ethertype)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	rte_pktmbuf_append(m, (uint16_t)(PKT_ETH_LEN + ip_len));
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
}

/* Send a complete frame (MACs written here) out of port. */
static void
eth_send(struct slowpath *sp, struct rte_mbuf *m, uint16_t port, const uint8_t *dst,
	 const uint8_t *src)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	m->port = port;
	m->ol_flags = 0;
	if (sp->conf.tx(sp->conf.tx_ctx, m) < 0) {
		drop(sp, m, NPR_SLOW_INJECT_FULL);
		return;
	}
	CNT(sp, INJECT_TX);
}

void
if_send(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, const uint8_t *dst)
{
	eth_send(sp, m, sp->ifs[ifid].port, dst, sp->ifs[ifid].mac);
}

/* ICMP error token bucket; the credit is refilled lazily, by the time elapsed. */
bool
bucket_take(struct slowpath *sp, uint64_t now)
{
	if (now > sp->last) {
		uint64_t c = sp->credit + (now - sp->last);
		sp->credit = c > sp->depth ? sp->depth : c;
	}
	sp->last = now;
	if (sp->credit < sp->cost)
		return false;
	sp->credit -= sp->cost;
	return true;
}

/* ---------------------------------------------------------------------------------------- */
/* IP parsing */

/* 0 if m holds a whole IPv4 or IPv6 datagram (the workers checked it; checked again). */
int
ip_parse(struct rte_mbuf *m, struct ipinfo *pi)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t l3 = m->data_len >= PKT_ETH_LEN ? m->data_len - PKT_ETH_LEN : 0;
	uint16_t et = m->data_len >= PKT_ETH_LEN ? get16(f + 12) : 0;

	memset(pi, 0, sizeof(*pi));
	pi->ip = f + PKT_ETH_LEN;
	if (et == 0x0800 && l3 >= 20 && (pi->ip[0] >> 4) == 4) {
		pi->family = NPR_AF_INET;
		pi->hlen = (pi->ip[0] & 0xfu) * 4u;
		pi->len = get16(pi->ip + 2);
		if (pi->hlen < 20 || pi->len < pi->hlen || pi->len > l3)
			return -EINVAL;
		uint16_t fr = get16(pi->ip + 6);
		pi->df = (fr & 0x4000) != 0;
		pi->frag = (fr & 0x3fff) != 0;
		pi->first = (fr & 0x1fff) == 0;
		pi->ttl = pi->ip[8];
		pi->proto = pi->ip[9];
		pi->src = pi->ip + 12;
		pi->dst = pi->ip + 16;
		return 0;
	}
	if (et == 0x86dd && l3 >= 40 && (pi->ip[0] >> 4) == 6) {
		pi->family = NPR_AF_INET6;
		pi->hlen = 40;
		pi->len = 40u + get16(pi->ip + 4);
		if (pi->len > l3)
			return -EINVAL;
		pi->first = true;
		pi->proto = pi->ip[6];
		pi->ttl = pi->ip[7];
		pi->src = pi->ip + 8;
		pi->dst = pi->ip + 24;
		return 0;
	}
	return -EINVAL;
}
