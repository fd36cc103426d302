/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YANG configuration: a JSON or XML file in the IETF models (ietf-interfaces, ietf-ip,
 * ietf-routing with its IPv4/IPv6 static routes) plus our augment (conf/nprouter.yang),
 * parsed and validated with libyang, then checked for meaning and turned into the desired
 * state of the data plane (struct config), in names and addresses, with no data plane ids.
 *
 *   file --libyang--> data tree --walk--> struct config --config_check_dataplane--> ready
 *        syntax, types, leafrefs,      names, resolved next      ports exist, sizes fit
 *        mandatory nodes, our musts    hops, connected routes
 *
 * What the walk adds to libyang's checks (each an error naming the data path): interface
 * names fit the data plane (15 chars), addresses are unicast, prefixes have no host bits,
 * every gateway is reachable through a connected subnet, a static neighbour or another route
 * (whose next hop it then takes), next-hop lists within the data plane's limits, no static
 * route on a router address.
 *
 * Mapping to the data plane (proto.h objects):
 *   interface            one per Ethernet interface (enabled -> up), MTU from npr:mtu,
 *                        else ipv4/mtu, else ipv6/mtu, else 1500 (or what the port
 *                        carries if that is less)
 *   address              each ietf-ip address of an enabled family (the data plane installs
 *                        the route to its connected subnet itself)
 *   neighbour            each ietf-ip neighbor
 *   next hop             one per distinct (interface, gateway), shared by every route using
 *                        it; one per special kind (blackhole, unreachable, prohibit)
 *   group                one per distinct weighted member list (next-hop-list with >= 2
 *                        distinct next hops; a list with one is a simple next hop)
 *   route                each static route (one on a connected subnet's exact prefix
 *                        replaces the connected route: a warning)
 *
 * Errors and warnings are collected as lines ("FILE:LINE: PATH: reason"); the caller prints
 * them. Not thread-safe: one config_yang per thread.
 */
#ifndef NPR_CTL_CONFIG_H
#define NPR_CTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npr/proto.h"

#define CONFIG_MAX_REPORTED 20u /* error lines kept; the rest are only counted */

/* Default YANG search path (meson option yang_dir); NPR_YANG_PATH (':'-separated) is searched
 * before it, and our own module's directory (installed and source) after it. */
#ifndef NPR_YANG_DIR
#define NPR_YANG_DIR "/usr/share/yuma/nmda-modules/ietf:/usr/share/yuma/modules/ietf"
#endif

struct config_msgs {
	char **line;
	size_t n;	/* lines kept (<= CONFIG_MAX_REPORTED) */
	size_t n_total; /* lines reported */
};

struct config_iface {
	char name[NPR_NAME_LEN];
	char port[48]; /* DPDK device name as the data plane reports it */
	uint8_t mac[6];
	bool has_mac; /* else the port's own MAC */
	bool up;
	bool has_mtu; /* else the default: 1500, or the port's max_mtu if less */
	uint16_t mtu; /* 1500 without has_mtu: config_iface_mtu gives the one to use */
};

struct config_addr {
	uint16_t iface; /* index in config.iface */
	uint8_t family; /* NPR_AF_INET / NPR_AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];
};

struct config_neigh {
	uint16_t iface;
	uint8_t family;
	uint8_t mac[6];
	uint8_t addr[16];
};

struct config_nh {
	uint8_t kind;	/* enum npr_nh_kind */
	uint8_t family; /* of gw, 0 without a gateway */
	uint16_t iface; /* FORWARD only */
	uint8_t gw[16];
};

struct config_member {
	uint32_t nh; /* index in config.nh */
	uint16_t weight;
	uint16_t reserved;
};

struct config_group {
	uint32_t first; /* in config.member, sorted by nh index */
	uint32_t n;
};

/* Route targets in struct config: index in config.nh, or CONFIG_GROUP | index in
 * config.group. (Not data plane ids: those are chosen when diffing, see apply.h.) */
#define CONFIG_GROUP NPR_TARGET_GROUP

struct config {
	struct config_iface *iface;
	size_t n_iface;
	struct config_addr *addr;
	size_t n_addr;
	struct config_neigh *neigh;
	size_t n_neigh;
	struct config_nh *nh;
	size_t n_nh;
	struct config_group *group;
	size_t n_group;
	struct config_member *member;
	size_t n_member;
	struct npr_route4 *r4; /* target as above; no duplicate prefixes */
	size_t n4;
	struct npr_route6 *r6;
	size_t n6;
	size_t n_static4, n_static6;  /* = n4, n6 (all routes here are static) */
	uint32_t size_nh, size_group; /* nprouter:dataplane sizing, 0 if not given */
	uint32_t size_r4, size_r6;
	double parse_s, build_s; /* libyang parse + validate, our walk */
	size_t cap_iface, cap_addr, cap_neigh, cap_nh, cap_group, cap_member, cap4, cap6;
};

struct config_yang;

/* A libyang context with the IETF modules and ours loaded. path: YANG search directories,
 * ':'-separated (NULL: NPR_YANG_PATH, then NPR_YANG_DIR, then our module's directories).
 * NULL with errno set and the reason in err on failure. */
struct config_yang *config_yang_open(const char *path, char *err, size_t errlen);
void config_yang_close(struct config_yang *y);

/* Parse, validate and check the file (JSON or XML: by its first byte, else by its extension)
 * into *cfg. name is how the file is named in messages (NULL: path). 0 if it is valid;
 * -EINVAL with the errors in errs; another -errno if the file cannot be read (also in errs).
 * Warnings (valid but probably not meant) go to warns (may be NULL). */
int config_load(struct config_yang *y, const char *path, const char *name, struct config *cfg,
		struct config_msgs *errs, struct config_msgs *warns);

/* Same, from a buffer; json selects the format. */
int config_load_mem(struct config_yang *y, const char *buf, size_t len, bool json, const char *name,
		    struct config *cfg, struct config_msgs *errs, struct config_msgs *warns);

/* Checks that need the running data plane: every interface bound to one of its ports, the
 * configuration within its table sizes and the sizes it was started with at least those of
 * nprouter:dataplane. 0 or -EINVAL (errors in errs). */
int config_check_dataplane(const struct config *cfg, const char *name,
			   const struct npr_dump_port *ports, size_t n_ports,
			   const struct npr_info *info, struct config_msgs *errs);

void config_free(struct config *cfg);

/* Index of the port named like cfg->iface[i].port, -1 if none. */
/* The MTU interface ifc gets on port (its own, or the data plane's default for that port). */
uint16_t config_iface_mtu(const struct config_iface *ifc, const struct npr_dump_port *port);
int config_port_index(const struct config_iface *ifc, const struct npr_dump_port *ports,
		      size_t n_ports);

void config_msgs_add(struct config_msgs *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void config_msgs_print(const struct config_msgs *m, FILE *f, const char *prefix);
void config_msgs_free(struct config_msgs *m);

#endif
