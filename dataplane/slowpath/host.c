/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host ports, the slow path's side (layer 2, sp_int.h): what is for the router and not answered
 * here goes to the host stack as the whole frame (punted), ARP and NS/NA go there as a copy,
 * and what the host stack sends leaves by the interface's port. The TAPs, their descriptors
 * and the netlink that keeps them in step are hostif.c's; here they are conf.host_tx, and
 * frames come back through sp_host_input.
 *
 *   to the host stack    counted HOST_TO_KERNEL; dropped as HOST_DROP when the interface has
 *                        no host port (its name was taken) or the TAP's queue is full, under
 *                        the caller's counter (LOCAL_DROP, MCAST_DROP) when the write failed
 *   from the host stack  HOST_FROM_KERNEL when handed to a worker; HOST_DROP when runt, larger
 *                        than the interface's MTU, or an ARP reply / neighbour advertisement
 *                        for one of the router's addresses (the slow path answers those: the
 *                        link would see every answer twice)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "icmp.h"
#include "pkt.h"
#include "sp_int.h"

bool
host_link_group(unsigned family, const uint8_t *dst)
{
	if (family == NPR_AF_INET)
		return (dst[0] == 224 && dst[1] == 0 && dst[2] == 0) ||
		       (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255);
	return dst[0] == 0xff && (dst[1] & 0x0f) == 0x02; /* scope 2: link-local */
}

/* 0 or what conf.host_tx returned. sp_input linearized every frame it passes on. */
static int
host_write(struct slowpath *sp, const struct rte_mbuf *m, unsigned ifid)
{
	if (m->nb_segs != 1)
		return -EINVAL;
	return sp->conf.host_tx(sp->conf.host_ctx, ifid, rte_pktmbuf_mtod(m, const void *),
				m->data_len);
}

bool
host_punt(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, unsigned fail)
{
	if (sp->conf.host_tx == NULL)
		return false;
	int rc = host_write(sp, m, ifid);
	if (rc == 0) {
		CNT(sp, HOST_TO_KERNEL);
		rte_pktmbuf_free(m);
	} else if (rc == -ENODEV || rc == -EAGAIN || rc == -ENOBUFS) {
		drop(sp, m, NPR_SLOW_HOST_DROP);
	} else {
		drop(sp, m, fail);
	}
	return true;
}

void
host_copy(struct slowpath *sp, const struct rte_mbuf *m, unsigned ifid)
{
	if (sp->conf.host_tx == NULL)
		return;
	if (host_write(sp, m, ifid) == 0)
		CNT(sp, HOST_TO_KERNEL);
	else
		CNT(sp, HOST_DROP);
}

/* An ARP reply or a neighbour advertisement about one of the router's addresses (any
 * interface's: the host stack answers for all of them on every link, the router does not)
 * or about ifid's link-local address. */
static bool
dup_answer(const struct slowpath *sp, unsigned ifid, const uint8_t *f, uint32_t len)
{
	const uint8_t *l3 = f + PKT_ETH_LEN;
	uint16_t et = get16(f + 12);
	uint8_t a[16] = { 0 };

	if (et == 0x0806 && len >= PKT_ETH_LEN + 28 && get16(l3 + 6) == 2) {
		memcpy(a, l3 + 14, 4); /* the sender's protocol address: whom it answers for */
		return cfg_addr_local(sp->conf.cfg, NPR_AF_INET, a) >= 0;
	}
	/* the host stack puts no extension header before ND messages (RFC 4861 needs hop
	 * limit 255 and nothing to hide the type) */
	if (et == 0x86dd && len >= PKT_ETH_LEN + 40 + 24 && l3[6] == 58 && l3[40] == ICMP6_NA) {
		const uint8_t *target = l3 + 40 + 8;
		return memcmp(target, sp->ifs[ifid].ll, 16) == 0 ||
		       cfg_addr_local(sp->conf.cfg, NPR_AF_INET6, target) >= 0;
	}
	return false;
}

/* f copied into a fresh mbuf, chained when it does not fit one (MTU above the buffer size).
 * NULL: out of mbufs (counted). */
static struct rte_mbuf *
host_mbuf(struct slowpath *sp, const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	while (off < len) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(sp->conf.pool);
		if (s == NULL)
			goto fail;
		uint32_t n = RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(s));
		memcpy(rte_pktmbuf_append(s, (uint16_t)n), f + off, n);
		off += n;
		if (head == NULL) {
			head = s;
		} else if (rte_pktmbuf_chain(head, s) < 0) {
			rte_pktmbuf_free(s);
			goto fail;
		}
	}
	return head;
fail:
	rte_pktmbuf_free(head);
	CNT(sp, NOMBUF);
	return NULL;
}

void
host_output(struct slowpath *sp, unsigned ifid, const uint8_t *f, uint32_t len)
{
	const struct sp_if *x = &sp->ifs[ifid];

	if (len < PKT_ETH_LEN || len - PKT_ETH_LEN > x->mtu || dup_answer(sp, ifid, f, len)) {
		CNT(sp, HOST_DROP);
		return;
	}
	struct rte_mbuf *m = host_mbuf(sp, f, len);
	if (m == NULL)
		return;
	m->port = x->port;
	m->ol_flags = 0;
	if (sp->conf.tx(sp->conf.tx_ctx, m) < 0) {
		drop(sp, m, NPR_SLOW_INJECT_FULL);
		return;
	}
	CNT(sp, INJECT_TX);
	CNT(sp, HOST_FROM_KERNEL);
}
