/* SPDX-License-Identifier: BSD-3-Clause */
/* Create, free, housekeeping (layer 8). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

const struct fwd_tables *
cfg_tables(const struct cfg *c)
{
	return &c->t;
}

void
cfg_counters(const struct cfg *c, uint64_t *ok, uint64_t *err)
{
	*ok = c->msgs_ok;
	*err = c->msgs_err;
}

void
cfg_periodic(struct cfg *c)
{
	fib_reclaim(c->t.fib4);
	fib_reclaim(c->t.fib6);
	grp_reclaim(c, false);
	/* host routes that waited for a grace period (never inside a transaction) */
	if (c->host_retry && !c->batch_active && c->n_undo == 0)
		hosts_sync(c);
}

struct cfg *
cfg_create(const struct cfg_conf *conf)
{
	struct cfg *c;
	int rc = -EINVAL;

	/* internal next hops follow the configured ids (a slice per client origin), below the
	 * CONNECTED bit of targets */
	const uint64_t slices = NPR_ORIGIN_MAX - 1;
	if (conf == NULL || conf->nh_max < 2 ||
	    slices * conf->nh_max > NPR_TARGET_CONNECTED - NPR_MAX_IFACES - CFG_HOST_MAX ||
	    conf->group_max < 1 || slices * conf->group_max > NPR_TARGET_ID_MASK + 1u ||
	    conf->n_ports > NPR_MAX_PORTS || conf->route4_max > FIB_VALUE_MAX ||
	    conf->route6_max > FIB_VALUE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->conf = *conf;
	c->wire_nh = conf->nh_max;
	c->wire_grp = conf->group_max;
	c->conf.nh_max = (uint32_t)(slices * conf->nh_max);
	c->conf.group_max = (uint32_t)(slices * conf->group_max);
	conf = &c->conf; /* the internal sizes from here on */
	memset(c->port_idx, -1, sizeof(c->port_idx));
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++)
		c->port_owner[i] = -1;
	for (unsigned i = 0; i < conf->n_ports; i++) {
		unsigned p = conf->port[i].port_id;
		if (p >= NPR_MAX_PORTS || c->port_idx[p] >= 0)
			goto fail;
		c->port_idx[p] = (int8_t)i;
	}
	for (unsigned o = 0; o < NPR_ORIGIN_MAX; o++)
		c->gen[o] = 1;
	for (unsigned i = 0; i < CFG_SESSIONS; i++)
		c->sess[i].origin = NPR_ORIGIN_CONFIG;
	c->batch_owner = -1;
	rc = -ENOMEM;
	c->host_max = c->wire_nh < CFG_HOST_MIN	  ? CFG_HOST_MIN
		      : c->wire_nh > CFG_HOST_MAX ? CFG_HOST_MAX
						  : c->wire_nh;
	c->t.nh_max = conf->nh_max + NPR_MAX_IFACES + c->host_max;
	c->t.group_max = conf->group_max;
	c->t.qsbr = conf->qsbr;
	for (unsigned i = 0; i < NPR_MAX_PORTS; i++) {
		atomic_init(&c->t.port[i].mac, 0);
		atomic_init(&c->t.port[i].up, 0);
	}
	c->t.nh = malloc(c->t.nh_max * sizeof(*c->t.nh));
	c->host = calloc(c->host_max, sizeof(*c->host));
	c->host_list = calloc(c->host_max, sizeof(*c->host_list));
	c->t.group = malloc(conf->group_max * sizeof(*c->t.group));
	c->nh = calloc(conf->nh_max, sizeof(*c->nh));
	c->grp = calloc(conf->group_max, sizeof(*c->grp));
	c->buf = malloc(NPR_MSG_MAX);
	c->stats = malloc(sizeof(*c->stats));
	if (c->t.nh == NULL || c->t.group == NULL || c->nh == NULL || c->grp == NULL ||
	    c->buf == NULL || c->stats == NULL || c->host == NULL || c->host_list == NULL ||
	    retire_init(&c->grp_old, conf->qsbr, 64) < 0 ||
	    retire_init(&c->host_ids, conf->qsbr, c->host_max) < 0)
		goto fail;
	for (uint32_t i = 0; i < c->t.nh_max; i++)
		atomic_init(&c->t.nh[i], fwd_nh_pack(FWD_NH_INVALID, 0, 0));
	for (uint32_t k = 0; k < c->host_max; k++)
		retire_push_done(&c->host_ids, k);
	for (uint32_t i = 0; i < conf->group_max; i++)
		atomic_init(&c->t.group[i], NULL);
	if (dirty_init(&c->nh_dirty, c->t.nh_max) < 0 ||
	    dirty_init(&c->grp_dirty, conf->group_max) < 0 ||
	    ht_init(&c->rt[F4], RT_ESIZE(4), RT_KLEN(4), 1024) < 0 ||
	    ht_init(&c->rt[F6], RT_ESIZE(16), RT_KLEN(16), 1024) < 0 ||
	    ht_init(&c->alt[F4], ALT_ESIZE(4), ALT_KLEN(4), 64) < 0 ||
	    ht_init(&c->alt[F6], ALT_ESIZE(16), ALT_KLEN(16), 64) < 0 ||
	    ht_init(&c->nb, sizeof(struct nb), NB_KLEN, 256) < 0)
		goto fail;

	/* the FIBs also hold the routers' own host routes */
	/* and their connected subnets, and the host routes to neighbours */
	struct fib_conf fc4 = { .family = 4,
				.max_routes = conf->route4_max + 2 * CFG_ADDR_MAX + c->host_max,
				.qsbr = conf->qsbr };
	struct fib_conf fc6 = { .family = 6,
				.max_routes = conf->route6_max + 2 * CFG_ADDR_MAX + c->host_max,
				.qsbr = conf->qsbr };
	c->t.fib4 = fib_create(&fc4);
	if (c->t.fib4 == NULL)
		goto fail_errno;
	c->t.fib6 = fib_create(&fc6);
	if (c->t.fib6 == NULL)
		goto fail_errno;
	return c;

fail_errno:
	rc = -errno;
fail:
	cfg_free(c);
	errno = -rc;
	return NULL;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	if (c->t.fib4 != NULL && c->t.fib6 != NULL && c->nh_dirty.flag != NULL &&
	    c->grp_dirty.flag != NULL)
		rollback(c); /* an open batch: free what it made */
	if (c->grp != NULL && c->t.group != NULL) {
		for (uint32_t id = 1; id < c->conf.group_max; id++) {
			struct grp_ver *pub = grp_published(c, id);
			if (c->grp[id].ver != NULL && c->grp[id].ver != pub)
				free(c->grp[id].ver);
			free(pub);
		}
	}
	grp_reclaim(c, true);
	retire_fini(&c->grp_old);
	retire_fini(&c->host_ids);
	if (c->t.fib4 != NULL)
		fib_free(c->t.fib4);
	if (c->t.fib6 != NULL)
		fib_free(c->t.fib6);
	free(c->rt[F4].slot);
	free(c->rt[F6].slot);
	free(c->alt[F4].slot);
	free(c->alt[F6].slot);
	free(c->nb.slot);
	free(c->nh_dirty.flag);
	free(c->nh_dirty.list);
	free(c->grp_dirty.flag);
	free(c->grp_dirty.list);
	free(c->undo);
	free((void *)c->t.nh);
	free((void *)c->t.group);
	free(c->nh);
	free(c->grp);
	free(c->buf);
	free(c->stats);
	free(c->host);
	free(c->host_list);
	free(c);
}
