/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running state: every object of the data plane, read with dumps (dump.h) over the ring
 * at the start of each apply. The control side keeps no state of its own between applies,
 * so whoever changed the data plane before, the diff (plan.h) starts from what is there.
 * The router's own addresses and connected subnets (targets with NPR_TARGET_LOCAL) are left
 * out of the routes: the data plane installs them with the addresses.
 *
 * Errors: 0 or -errno, with a line for people in err. One thread at a time, like the client.
 */
#ifndef NPR_CTL_RUNNING_H
#define NPR_CTL_RUNNING_H

#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"
#include "client.h"

struct running_group {
	uint32_t id;
	uint32_t first; /* in running.member, as dumped */
	uint32_t n;
};

/* The data plane's objects, as dumped. */
struct running {
	struct npr_info info;
	struct npr_dump_port *port;
	size_t n_port;
	struct npr_dump_iface *iface;
	size_t n_iface;
	struct npr_dump_addr *addr;
	size_t n_addr;
	struct npr_dump_neigh *neigh;
	size_t n_neigh;
	struct npr_dump_nh *nh;
	size_t n_nh;
	struct running_group *group;
	size_t n_group;
	struct npr_group_member *member;
	size_t n_member;
	struct npr_route4 *r4; /* without the routers' own addresses (NPR_TARGET_LOCAL) */
	size_t n4;
	struct npr_route6 *r6;
	size_t n6;
};

/* Dump everything. 0, -EPROTO (a dump was rejected or malformed; why in err), or the
 * client's -errno (data plane gone, timeout). */
int running_dump(struct npr_client *c, struct running *rs, int timeout_ms, char *err,
		 size_t errlen);
void running_free(struct running *rs);

#endif
