/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building struct config from a libyang tree, shared by the files that do it (private to
 * the config library; config.h is the interface):
 *
 *   config_yang.c     parse and validate, then build_walk, build_index_routes,
 *                     build_resolve_routes
 *   config_walk.c     the walk: interfaces, addresses, neighbours into struct config, static
 *                     routes kept raw (prefix, next hops as written, tree node for errors)
 *   config_resolve.c  duplicates and routes on router addresses; gateways resolved to next
 *                     hops (a gateway may be reachable only through another route, so this
 *                     runs once every route is known), next-hop lists to groups
 *
 * Errors are collected in the build's messages as "FILE: PATH: reason"; a failed allocation
 * sets build.oom and stops the work. One build per thread.
 */
#ifndef NPR_CTL_CONFIG_BUILD_H
#define NPR_CTL_CONFIG_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "config.h"
#include "hset.h"

enum raw_kind { RAW_SIMPLE = 1, RAW_SPECIAL, RAW_LIST, RAW_CONNECTED, RAW_DROPPED };

struct raw_member {
	int32_t iface; /* -1: not given */
	uint8_t has_gw;
	uint8_t family;
	uint16_t weight;
	uint8_t gw[16];
};

struct raw_route {
	const struct lyd_node *node; /* NULL for connected routes */
	uint8_t family, plen, kind, special;
	uint8_t prefix[16];
	uint32_t first, n; /* members; CONNECTED: first is the interface */
};

struct gw_key {
	int32_t iface;
	uint8_t family;
	uint8_t pad[3];
	uint8_t gw[16];
};

struct gw_entry {
	struct gw_key k;
	uint32_t nh;
};

struct build {
	struct config *cfg;
	const char *name;
	struct config_msgs *errs, *warns;
	bool oom;

	bool *en4, *en6; /* per interface: the family is enabled */
	struct hset ifnames;

	struct raw_route *rr;
	size_t n_rr, cap_rr;
	struct raw_member *rm;
	size_t n_rm, cap_rm;

	struct hset routes; /* (family, prefix, plen) -> rr */
	struct hset nhs;    /* struct config_nh -> cfg->nh */
	struct hset groups; /* member list -> cfg->group */
	struct hset gws;    /* resolved gateways -> gw */
	struct gw_entry *gw;
	size_t n_gw, cap_gw;
};

/* "FILE: /data/path: reason" into the errors (n NULL: no path) */
void build_error(struct build *b, const struct lyd_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the same into the warnings, if the caller wants them */
void build_warn(struct build *b, const struct lyd_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* config_walk.c */
void build_walk(struct build *b, const struct lyd_node *tree);
/* A zeroed raw route at the end of build.rr, NULL (oom set) if out of memory. */
struct raw_route *build_new_route(struct build *b);

/* config_resolve.c */
void build_index_routes(struct build *b);
void build_resolve_routes(struct build *b);

#endif
