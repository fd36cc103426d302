/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running state, dumped kind by kind (see running.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "running.h"

/* The dump of one kind into *vec, or why not in err. */
static int
dump_kind(struct npr_client *c, uint32_t kind, struct dump_vec *vec, int timeout_ms, char *err,
	  size_t errlen)
{
	struct dump_status st;
	int rc = dump_collect(c, kind, 0, vec, timeout_ms, &st);
	if (rc < 0) {
		snprintf(err, errlen, "dump: %s", npr_strstatus(rc));
		return rc;
	}
	if (st.rep.status != 0) {
		snprintf(err, errlen, "dump %u rejected: %s%s%s", kind,
			 npr_strstatus(st.rep.status), st.rep.msg[0] != '\0' ? ": " : "",
			 st.rep.msg);
		return -EPROTO;
	}
	if (st.oom) {
		snprintf(err, errlen, "dump: out of memory");
		return -ENOMEM;
	}
	if (st.n_bad > 0) {
		snprintf(err, errlen, "dump %u: malformed chunk from the data plane", kind);
		return -EPROTO;
	}
	return 0;
}

/* Groups as dumped -> running.group (where each one's members start) and running.member. */
static int
take_groups(struct running *rs, struct dump_vec *vec)
{
	const struct npr_dump_group *g = vec->v;
	rs->group = calloc(vec->n + 1, sizeof(*rs->group));
	if (rs->group == NULL)
		return -ENOMEM;
	uint32_t first = 0;
	for (size_t i = 0; i < vec->n; i++) {
		rs->group[i] = (struct running_group){ .id = g[i].group_id,
						       .first = first,
						       .n = g[i].n_members };
		first += g[i].n_members;
	}
	rs->n_group = vec->n;
	rs->member = vec->member;
	rs->n_member = vec->n_member;
	vec->member = NULL;
	dump_vec_free(vec);
	return 0;
}

int
running_dump(struct npr_client *c, struct running *rs, int timeout_ms, char *err, size_t errlen)
{
	static const uint32_t kinds[] = { NPR_DUMP_INFO,   NPR_DUMP_PORTS,   NPR_DUMP_IFACES,
					  NPR_DUMP_ADDRS,  NPR_DUMP_NEIGHS,  NPR_DUMP_NHS,
					  NPR_DUMP_GROUPS, NPR_DUMP_ROUTES4, NPR_DUMP_ROUTES6 };
	memset(rs, 0, sizeof(*rs));
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct dump_vec vec;
		int rc = dump_kind(c, kinds[k], &vec, timeout_ms, err, errlen);
		if (rc < 0) {
			dump_vec_free(&vec);
			return rc;
		}
		switch (kinds[k]) {
		case NPR_DUMP_INFO:
			if (vec.n >= 1)
				memcpy(&rs->info, vec.v, sizeof(rs->info));
			dump_vec_free(&vec);
			break;
		case NPR_DUMP_PORTS:
			rs->port = vec.v;
			rs->n_port = vec.n;
			break;
		case NPR_DUMP_IFACES:
			rs->iface = vec.v;
			rs->n_iface = vec.n;
			break;
		case NPR_DUMP_ADDRS:
			rs->addr = vec.v;
			rs->n_addr = vec.n;
			break;
		case NPR_DUMP_NEIGHS:
			rs->neigh = vec.v;
			rs->n_neigh = vec.n;
			break;
		case NPR_DUMP_NHS:
			rs->nh = vec.v;
			rs->n_nh = vec.n;
			break;
		case NPR_DUMP_GROUPS:
			if (take_groups(rs, &vec) < 0) {
				dump_vec_free(&vec);
				snprintf(err, errlen, "dump: out of memory");
				return -ENOMEM;
			}
			break;
		case NPR_DUMP_ROUTES4:
			rs->r4 = vec.v;
			rs->n4 = vec.n;
			break;
		case NPR_DUMP_ROUTES6:
			rs->r6 = vec.v;
			rs->n6 = vec.n;
			break;
		}
	}
	/* the router's own addresses are not routes of ours */
	size_t n = 0;
	for (size_t i = 0; i < rs->n4; i++)
		if (!(rs->r4[i].target & NPR_TARGET_LOCAL))
			rs->r4[n++] = rs->r4[i];
	rs->n4 = n;
	n = 0;
	for (size_t i = 0; i < rs->n6; i++)
		if (!(rs->r6[i].target & NPR_TARGET_LOCAL))
			rs->r6[n++] = rs->r6[i];
	rs->n6 = n;
	return 0;
}

void
running_free(struct running *rs)
{
	free(rs->port);
	free(rs->iface);
	free(rs->addr);
	free(rs->neigh);
	free(rs->nh);
	free(rs->group);
	free(rs->member);
	free(rs->r4);
	free(rs->r6);
	memset(rs, 0, sizeof(*rs));
}
