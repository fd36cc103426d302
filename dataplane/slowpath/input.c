/* SPDX-License-Identifier: BSD-3-Clause */
/* What the slow path receives: packets to forward again, ARP, neighbour discovery, ICMP
 * echo, and other traffic to the router, which goes to the host stack when host ports are on
 * (layer 4, sp_int.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "icmp.h"
#include "pkt.h"
#include "sp_int.h"

/* ---------------------------------------------------------------------------------------- */
/* forwarding (next hop unresolved, too big) */

/* A packet the workers could not forward by themselves: route it again (the tables may
 * have changed) and send it, queue it, fragment it or answer with an ICMP error. */

void
sp_forward(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now)
{
	struct ipinfo pi;
	struct cfg_route r;

	if (ip_parse(m, &pi) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP);
		return;
	}
	cfg_route_get(sp->conf.cfg, pi.family, pi.dst, fwd_flow_hash(m), &r);
	switch (r.kind) {
	case CFG_RT_NONE:
		icmp_unreach(sp, m, ifid, pi.family, NPR_EXC_NO_ROUTE, now);
		return;
	case CFG_RT_UNREACHABLE:
		icmp_unreach(sp, m, ifid, pi.family, NPR_EXC_UNREACHABLE, now);
		return;
	case CFG_RT_PROHIBIT:
		icmp_unreach(sp, m, ifid, pi.family, NPR_EXC_PROHIBIT, now);
		return;
	case CFG_RT_LOCAL:
		if (pi.family == NPR_AF_INET)
			ip4_local(sp, m, ifid, now);
		else
			ip6_input(sp, m, ifid, false, now);
		return;
	case CFG_RT_FORWARD:
		break;
	case CFG_RT_DOWN:
		drop(sp, m, NPR_SLOW_IFACE_DOWN_DROP);
		return;
	default: /* blackhole, not programmed */
		drop(sp, m, NPR_SLOW_NO_ROUTE_DROP);
		return;
	}
	if (!sp->ifs[r.ifid].up) {
		drop(sp, m, NPR_SLOW_IFACE_DOWN_DROP);
		return;
	}
	if (pi.ttl <= 1) {
		icmp_time_exceeded(sp, m, ifid, pi.family, now);
		return;
	}
	if (pi.family == NPR_AF_INET && is_subnet_bcast4(sp, pi.dst)) {
		drop(sp, m, NPR_SLOW_MCAST_DROP); /* directed broadcast: not forwarded */
		return;
	}
	if (r.mtu != 0 && pi.len > r.mtu) {
		if (pi.family == NPR_AF_INET6) {
			icmp_error(sp, m, ifid, ICMP6_TOO_BIG, 0, r.mtu, NPR_SLOW_ICMP_TOOBIG_TX,
				   now);
			return;
		}
		if (pi.df) {
			icmp_error(sp, m, ifid, ICMP4_UNREACH, ICMP4_FRAG_NEEDED, r.mtu,
				   NPR_SLOW_ICMP_TOOBIG_TX, now);
			return;
		}
		pkt_ip4_ttl_dec(pi.ip);
		fragment4(sp, m, &pi, &r, HOLD_FWD, now);
		return;
	}
	if (pi.family == NPR_AF_INET)
		pkt_ip4_ttl_dec(pi.ip);
	else
		pkt_ip6_hlim_dec(pi.ip);
	CNT(sp, SLOW_FWD);
	m->hash.usr = HOLD_FWD;
	nb_output(sp, m, &r, now);
}

/* ---------------------------------------------------------------------------------------- */
/* ARP */

void
arp_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *a = f + PKT_ETH_LEN;
	uint8_t spa[16] = { 0 }, tpa[16] = { 0 }, sha[6];

	if (m->data_len < PKT_ETH_LEN + 28 || get16(f + 12) != 0x0806 || get16(a) != 1 ||
	    get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
	    (get16(a + 6) != 1 && get16(a + 6) != 2)) {
		drop(sp, m, NPR_SLOW_ARP_BAD);
		return;
	}
	unsigned op = get16(a + 6);
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	memcpy(tpa, a + 24, 4);
	if ((sha[0] & 1) || memcmp(sha, ZERO16, 6) == 0) {
		drop(sp, m, NPR_SLOW_ARP_BAD);
		return;
	}
	CNT(sp, ARP_RX);
	/* the host stack learns its neighbours from them too (its answers are dropped:
	 * host_output) */
	host_copy(sp, m, ifid);
	bool for_us = ours_on(sp, ifid, NPR_AF_INET, tpa);
	/* RFC 826: update an entry we have; add the sender when it asks for us (it is about to
	 * talk to us) and is on our subnet. A sender claiming our own address is not learnt. */
	if (memcmp(spa, ZERO16, 4) != 0 && cfg_addr_local(sp->conf.cfg, NPR_AF_INET, spa) < 0 &&
	    !is_subnet_bcast4(sp, spa))
		nb_learn(sp, ifid, NPR_AF_INET, spa, sha,
			 for_us && on_subnet(sp, ifid, NPR_AF_INET, spa), now);
	if (op != 1) {
		rte_pktmbuf_free(m);
		return;
	}
	if (!for_us) {
		drop(sp, m, NPR_SLOW_ARP_NOT_OURS);
		return;
	}
	/* the reply: re-use the request's mbuf */
	uint8_t *r = rte_pktmbuf_mtod(m, uint8_t *) + PKT_ETH_LEN;
	arp_build(r, 2, sp->ifs[ifid].mac, tpa, sha, spa);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (PKT_ETH_LEN + 28)));
	if_send(sp, m, ifid, sha);
	CNT(sp, ARP_REPLY_TX);
}

/* ---------------------------------------------------------------------------------------- */
/* IPv6: neighbour discovery, echo, port unreachable */

/* The link-layer address option of type `type` in ND options [p, p + n), or NULL; -1 in *bad
 * if an option is malformed (RFC 4861 4.6: length 0). */
static const uint8_t *
nd_opt(const uint8_t *p, uint32_t n, uint8_t type, bool *bad)
{
	const uint8_t *found = NULL;

	while (n >= 2) {
		uint32_t l = p[1] * 8u;
		if (l == 0 || l > n) {
			*bad = true;
			return NULL;
		}
		if (p[0] == type && l >= 8)
			found = p + 2;
		p += l;
		n -= l;
	}
	return found;
}

static void
nd_ns_input(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, unsigned ifid,
	    uint64_t now)
{
	const uint8_t *icmp = pi->ip + 40, *target = icmp + 8;
	uint32_t ilen = pi->len - 40;
	bool bad = false, dad = memcmp(pi->src, ZERO16, 16) == 0;
	uint8_t smc[16];

	const uint8_t *sll = nd_opt(icmp + 24, ilen - 24, ND_OPT_SLLA, &bad);
	nd_solicited_node(smc, target);
	/* RFC 4861 7.1.1 (hop limit and code checked by the caller) */
	if (bad || target[0] == 0xff || (dad && (sll != NULL || memcmp(pi->dst, smc, 16) != 0))) {
		drop(sp, m, NPR_SLOW_ND_BAD);
		return;
	}
	CNT(sp, ND_RX);
	if (!ours_on(sp, ifid, NPR_AF_INET6, target)) {
		rte_pktmbuf_free(m);
		return;
	}
	uint8_t sender[16], dst[16], dmac[6], tgt[16];
	memcpy(sender, pi->src, 16);
	memcpy(tgt, target, 16);
	if (dad) {
		memcpy(dst, ALL_NODES, 16);
		ip6_mcast_mac(dmac, dst);
	} else {
		memcpy(dst, sender, 16);
		/* reply to the option's address, else to the frame's source */
		memcpy(dmac, sll != NULL ? sll : rte_pktmbuf_mtod(m, uint8_t *) + 6, 6);
		if (sll != NULL && on_subnet(sp, ifid, NPR_AF_INET6, sender))
			nb_learn(sp, ifid, NPR_AF_INET6, sender, sll, true, now);
	}
	rte_pktmbuf_free(m);
	uint8_t *ip;
	size_t cap;
	struct rte_mbuf *n = frame_new(sp, &ip, &cap);
	if (n == NULL)
		return;
	uint32_t flags = ND_NA_ROUTER | ND_NA_OVERRIDE | (dad ? 0 : ND_NA_SOLICITED);
	frame_done(n, nd_na(ip, tgt, dst, tgt, flags, sp->ifs[ifid].mac), 0x86dd);
	if_send(sp, n, ifid, dmac);
	CNT(sp, NA_TX);
}

static void
nd_na_input(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, unsigned ifid,
	    uint64_t now)
{
	const uint8_t *icmp = pi->ip + 40, *target = icmp + 8;
	uint32_t ilen = pi->len - 40, flags = (uint32_t)get16(icmp + 4) << 16 | get16(icmp + 6);
	bool bad = false;

	const uint8_t *tll = nd_opt(icmp + 24, ilen - 24, ND_OPT_TLLA, &bad);
	if (bad || target[0] == 0xff || (pi->dst[0] == 0xff && (flags & ND_NA_SOLICITED)) ||
	    ours_on(sp, ifid, NPR_AF_INET6, target)) {
		drop(sp, m, NPR_SLOW_ND_BAD);
		return;
	}
	CNT(sp, ND_RX);
	struct sp_nb *e = nb_lookup(sp, ifid, NPR_AF_INET6, target);
	if (e != NULL) {
		if (tll != NULL && (e->state == NB_INCOMPLETE || e->state == NB_FAILED ||
				    (flags & ND_NA_OVERRIDE) || memcmp(tll, e->mac, 6) == 0)) {
			uint8_t mac[6], t[16];
			memcpy(mac, tll, 6);
			memcpy(t, target, 16);
			nb_learn(sp, ifid, NPR_AF_INET6, t, mac, false, now);
		} else if (tll == NULL && (flags & ND_NA_SOLICITED) &&
			   (e->state == NB_REACHABLE || e->state == NB_PROBE)) {
			e->state = NB_REACHABLE; /* confirmed, same MAC */
			e->probes = 0;
			e->deadline = now + sp->conf.reachable_ms * MS;
		}
	}
	rte_pktmbuf_free(m);
}

static void
echo_reply(struct slowpath *sp, struct rte_mbuf *m, const struct ipinfo *pi, unsigned ifid,
	   uint64_t now)
{
	uint8_t src[16] = { 0 }, dst[16] = { 0 }, *ip;
	size_t cap, len;
	unsigned al = npr_alen(pi->family);

	CNT(sp, ECHO_RX);
	memcpy(src, pi->src, al);
	memcpy(dst, pi->dst, al);
	struct rte_mbuf *n = frame_new(sp, &ip, &cap);
	if (n == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	if (pi->family == NPR_AF_INET)
		len = icmp4_echo_reply(ip, cap, src, dst, pi->ip + pi->hlen, pi->len - pi->hlen,
				       sp->ip_id++);
	else
		len = icmp6_echo_reply(ip, cap, src, dst, pi->ip + 40, pi->len - 40);
	rte_pktmbuf_free(m);
	if (len == 0) {
		drop(sp, n, NPR_SLOW_NOMBUF);
		return;
	}
	frame_done(n, len, pi->family == NPR_AF_INET ? 0x0800 : 0x86dd);
	CNT(sp, ECHO_TX);
	ip_output(sp, n, pi->family, src, ifid, now);
}

/* IPv6 to the router (unicast) or to a group on the link (mcast). */
void
ip6_input(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, bool mcast, uint64_t now)
{
	unsigned nodrop = mcast ? NPR_SLOW_MCAST_DROP : NPR_SLOW_LOCAL_DROP;
	struct ipinfo pi;

	if (ip_parse(m, &pi) < 0 || pi.family != NPR_AF_INET6) {
		drop(sp, m, nodrop);
		return;
	}
	if (!mcast && !ours_on(sp, ifid, NPR_AF_INET6, pi.dst) &&
	    cfg_addr_local(sp->conf.cfg, NPR_AF_INET6, pi.dst) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP); /* someone else's link-local address */
		return;
	}
	const uint8_t *icmp = pi.ip + 40;
	uint8_t type = pi.proto == 58 && pi.len >= 48 ? icmp[0] : 0;
	if (type == ICMP6_NS || type == ICMP6_NA) {
		if (pi.ttl != 255 || icmp[1] != 0 || pi.len < 40 + 24 ||
		    icmp6_check(pi.src, pi.dst, icmp, pi.len - 40) != 0) {
			drop(sp, m, NPR_SLOW_ND_BAD);
			return;
		}
		host_copy(sp, m, ifid); /* as for ARP */
		if (type == ICMP6_NS)
			nd_ns_input(sp, m, &pi, ifid, now);
		else
			nd_na_input(sp, m, &pi, ifid, now);
		return;
	}
	if (type == ICMP6_ECHO && !mcast && icmp[1] == 0 &&
	    icmp6_check(pi.src, pi.dst, icmp, pi.len - 40) == 0 && pi.src[0] != 0xff &&
	    memcmp(pi.src, ZERO16, 16) != 0) {
		echo_reply(sp, m, &pi, ifid, now);
		return;
	}
	/* the rest is the host stack's: TCP, UDP, RS, RA, MLD, errors to us, groups on the link */
	if ((!mcast || host_link_group(NPR_AF_INET6, pi.dst)) && host_punt(sp, m, ifid, nodrop))
		return;
	if (pi.proto == 17 && !mcast) {
		icmp_error(sp, m, ifid, ICMP6_UNREACH, ICMP6_PORT_UNREACH, 0,
			   NPR_SLOW_ICMP_UNREACH_TX, now);
		return;
	}
	drop(sp, m, nodrop);
}

/* IPv4 to one of the router's addresses. */
void
ip4_local(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid, uint64_t now)
{
	struct ipinfo pi;

	if (ip_parse(m, &pi) < 0 || pi.family != NPR_AF_INET ||
	    cfg_addr_local(sp->conf.cfg, NPR_AF_INET, pi.dst) < 0) {
		drop(sp, m, NPR_SLOW_LOCAL_DROP);
		return;
	}
	const uint8_t *icmp = pi.ip + pi.hlen;
	uint32_t ilen = pi.len - pi.hlen;
	if (!pi.frag && pi.proto == 1 && ilen >= 8 && icmp[0] == ICMP4_ECHO && icmp[1] == 0 &&
	    icmp_fold(icmp_sum(icmp, ilen, 0)) == 0) {
		echo_reply(sp, m, &pi, ifid, now);
		return;
	}
	/* the rest is the host stack's, fragments included (it reassembles them) */
	if (host_punt(sp, m, ifid, NPR_SLOW_LOCAL_DROP))
		return;
	if (pi.proto == 17 && !pi.frag) {
		icmp_error(sp, m, ifid, ICMP4_UNREACH, ICMP4_PORT_UNREACH, 0,
			   NPR_SLOW_ICMP_UNREACH_TX, now);
		return;
	}
	drop(sp, m, NPR_SLOW_LOCAL_DROP); /* no host ports: no other service, no reassembly */
}

/* IPv4 to a group or a broadcast address: those for every host on the link (link-local
 * groups, the limited broadcast, a connected subnet's broadcast) go to the host stack; the
 * router routes no multicast. */
void
ip4_mcast(struct slowpath *sp, struct rte_mbuf *m, unsigned ifid)
{
	struct ipinfo pi;

	if (ip_parse(m, &pi) == 0 && pi.family == NPR_AF_INET &&
	    (host_link_group(NPR_AF_INET, pi.dst) || is_subnet_bcast4(sp, pi.dst)) &&
	    host_punt(sp, m, ifid, NPR_SLOW_MCAST_DROP))
		return;
	drop(sp, m, NPR_SLOW_MCAST_DROP);
}
