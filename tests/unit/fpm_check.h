/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The promises control/fpm.h makes about every delivered event, checked field by field, for
 * tests/unit/test_fpm.c and tests/fuzz/fuzz_fpm.c. Each check returns NULL or what is broken.
 */
#ifndef NPR_TEST_FPM_CHECK_H
#define NPR_TEST_FPM_CHECK_H

#include <string.h>

#include "npr/addr.h"
#include "fpm.h"

static inline bool
fpm_check_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* route_family: the route's (an IPv6 route has no IPv4 gateway), 0 for a next-hop object. */
static inline const char *
fpm_check_nh(uint8_t route_family, const struct fpm_nh *nh)
{
	if (nh->weight < 1 || nh->weight > NPR_GROUP_MAX_WEIGHT)
		return "next hop weight out of 1..256";
	if (nh->family == 0)
		return nh->ifindex == 0 ? "next hop with neither gateway nor interface"
		       : !fpm_check_zero(nh->gw, sizeof(nh->gw)) ? "gateway bytes without a family"
								 : NULL;
	if (nh->family != NPR_AF_INET && nh->family != NPR_AF_INET6)
		return "next hop family neither 0, 4 nor 6";
	if (route_family == NPR_AF_INET6 && nh->family == NPR_AF_INET)
		return "IPv4 gateway on an IPv6 route";
	if (npr_bad_unicast(nh->family, nh->gw) != NULL)
		return "gateway not a unicast address";
	if (npr_is_ll6(nh->family, nh->gw) && nh->ifindex == 0)
		return "link-local gateway without interface";
	return NULL;
}

static inline const char *
fpm_check_route(const struct fpm_route *r)
{
	if (r->family != NPR_AF_INET && r->family != NPR_AF_INET6)
		return "route family neither 4 nor 6";
	if (r->plen > npr_hostlen(r->family))
		return "prefix length beyond the family";
	if (npr_prefix_host_bits(r->family, r->prefix, r->plen))
		return "prefix with host bits";
	if (r->family == NPR_AF_INET && !fpm_check_zero(r->prefix + 4, 12))
		return "IPv4 prefix with bytes beyond 4";
	if (r->kind > NPR_NH_PROHIBIT || (r->kind == 0 && !r->del))
		return "route kind out of range";
	if (r->n_nh > NPR_GROUP_MAX_MEMBERS)
		return "too many next hops";
	if (r->n_nh != 0 && r->nh_id != 0)
		return "both next hops and a next-hop id";
	if (r->kind != NPR_NH_FORWARD && r->kind != 0 && (r->n_nh != 0 || r->nh_id != 0))
		return "next hops on a blackhole, unreachable or prohibit route";
	if (r->kind == NPR_NH_FORWARD && !r->del && r->n_nh == 0 && r->nh_id == 0)
		return "unicast route without next hop";
	for (unsigned i = 0; i < r->n_nh; i++) {
		const char *why = fpm_check_nh(r->family, &r->nh[i]);
		if (why != NULL)
			return why;
	}
	return NULL;
}

static inline const char *
fpm_check_nexthop(const struct fpm_nexthop *n)
{
	if (n->id == 0)
		return "next-hop id 0";
	if (n->del)
		return n->blackhole || n->family != 0 || n->protocol != 0 || n->n_grp != 0 ||
				       !fpm_check_zero(&n->nh, sizeof(n->nh))
			       ? "delete with more than an id"
			       : NULL;
	if (n->family != 0 && n->family != NPR_AF_INET && n->family != NPR_AF_INET6)
		return "next-hop family neither 0, 4 nor 6";
	if (n->n_grp > NPR_GROUP_MAX_MEMBERS)
		return "too many group members";
	if (n->blackhole || n->n_grp != 0) {
		if (n->blackhole && n->n_grp != 0)
			return "both blackhole and group";
		if (!fpm_check_zero(&n->nh, sizeof(n->nh)))
			return "blackhole or group with a next hop";
		for (unsigned i = 0; i < n->n_grp; i++) {
			if (n->grp[i].id == 0 || n->grp[i].id == n->id)
				return "group member id 0 or the group's own";
			if (n->grp[i].weight < 1 || n->grp[i].weight > NPR_GROUP_MAX_WEIGHT)
				return "group member weight out of 1..256";
			for (unsigned j = 0; j < i; j++)
				if (n->grp[j].id == n->grp[i].id)
					return "group member twice";
		}
		return NULL;
	}
	if (n->nh.family != 0 && n->nh.family != n->family)
		return "gateway family not the next hop's";
	return fpm_check_nh(0, &n->nh);
}

/* A text for ops->error or ops->skip: one line, not empty. */
static inline const char *
fpm_check_text(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return "empty text";
	if (strchr(s, '\n') != NULL)
		return "text of more than one line";
	return NULL;
}

#endif
