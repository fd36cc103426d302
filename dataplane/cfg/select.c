/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes of several origins on one prefix (layer 3): which one the FIB gets.
 *
 * c->rt holds the selected route of each prefix, the one in the FIB; c->alt holds the routes
 * of the other origins on the same prefix, keyed by (prefix, plen, origin). The selected one
 * is the best by rt_better (distance, then origin). Most prefixes have one origin, so c->alt
 * is usually empty and a route change costs one probe of it more than before.
 *
 * A change of the selected route replaces the FIB value in place (fib_set on the same
 * prefix), so a prefix never goes missing between two origins' routes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cfg_int.h"

static void
alt_key(uint8_t *akey, int fam, const uint8_t *key, unsigned o)
{
	unsigned alen = alen_of(fam);
	memcpy(akey, key, alen + 1);
	akey[alen + 1] = (uint8_t)o;
	akey[alen + 2] = 1;
}

static uint8_t *
alt_find(const struct cfg *c, int fam, const uint8_t *key, unsigned o)
{
	uint8_t akey[ALT_KEY_MAX];
	if (c->n_alt[fam] == 0)
		return NULL;
	alt_key(akey, fam, key, o);
	return ht_find(&c->alt[fam], akey);
}

static void
alt_count(struct cfg *c, int fam, const struct rt_val *v, int d)
{
	/* target_ref through rt_ref would count it as selected: do the parts by hand */
	c->n_alt[fam] += (uint32_t)d;
	c->n_origin[fam][v->origin] += (uint32_t)d;
	if (v->target & NPR_TARGET_GROUP)
		c->grp[v->target & NPR_TARGET_ID_MASK].refcnt += (uint32_t)d;
	else
		c->nh[v->target].route_refs += (uint32_t)d;
}

/* Set (v) or remove (NULL) the alt entry (key, o), with an undo record. */
static void
alt_apply(struct cfg *c, int fam, const uint8_t *key, unsigned o, const struct rt_val *v)
{
	unsigned alen = alen_of(fam);
	uint8_t akey[ALT_KEY_MAX];
	uint8_t *e;

	alt_key(akey, fam, key, o);
	e = ht_find(&c->alt[fam], akey);
	struct undo *u = undo_push(c, fam == F4 ? U_ALT4 : U_ALT6, 0);
	memcpy(u->u.rt.prefix, key, alen);
	u->u.rt.plen = key[alen];
	u->u.rt.origin = (uint8_t)o;
	u->u.rt.had = e != NULL;
	if (e != NULL) {
		u->u.rt.v = *rt_val(e, alen);
		alt_count(c, fam, rt_val(e, alen), -1);
	}
	if (v == NULL) {
		if (e != NULL)
			ht_remove(&c->alt[fam], e);
		return;
	}
	if (e == NULL)
		e = ht_insert(&c->alt[fam], akey);
	*rt_val(e, alen) = *v;
	alt_count(c, fam, v, 1);
}

void
alt_restore(struct cfg *c, int fam, const struct undo *u)
{
	unsigned alen = alen_of(fam);
	uint8_t key[RT_KEY_MAX], akey[ALT_KEY_MAX];
	uint8_t *e;

	rt_key(key, fam, u->u.rt.prefix, u->u.rt.plen);
	alt_key(akey, fam, key, u->u.rt.origin);
	e = ht_find(&c->alt[fam], akey);
	if (e != NULL) {
		alt_count(c, fam, rt_val(e, alen), -1);
		if (!u->u.rt.had) {
			ht_remove(&c->alt[fam], e);
			return;
		}
	} else {
		if (!u->u.rt.had)
			return;
		e = ht_insert(&c->alt[fam], akey); /* it was there moments ago: room */
	}
	*rt_val(e, alen) = u->u.rt.v;
	alt_count(c, fam, &u->u.rt.v, 1);
}

/* The best alt entry of key, or NULL (its origin in ->origin). */
static const struct rt_val *
alt_best(const struct cfg *c, int fam, const uint8_t *key, struct rt_val *out)
{
	const struct rt_val *best = NULL;
	unsigned alen = alen_of(fam);

	if (c->n_alt[fam] == 0)
		return NULL;
	for (unsigned o = 1; o < NPR_ORIGIN_MAX; o++) {
		uint8_t *e = alt_find(c, fam, key, o);
		if (e != NULL && (best == NULL || rt_better(rt_val(e, alen), best))) {
			*out = *rt_val(e, alen);
			best = out;
		}
	}
	return best;
}

/* The selected client route of rt entry e (not local or connected), or NULL. */
static struct rt_val *
selected(int fam, uint8_t *e)
{
	if (e == NULL || (rt_val(e, alen_of(fam))->target & NPR_TARGET_LOCAL))
		return NULL;
	return rt_val(e, alen_of(fam));
}

/* If an alt route of key beats the selected one, swap them. */
static int
reselect(struct cfg *c, int fam, const uint8_t *key)
{
	if (c->n_alt[fam] == 0)
		return 0;
	uint8_t *e = ht_find(&c->rt[fam], key);
	struct rt_val *cur = selected(fam, e), best, old;

	if (cur == NULL || alt_best(c, fam, key, &best) == NULL || !rt_better(&best, cur))
		return 0;
	old = *cur;
	int rc = rt_apply(c, fam, key, e, &best);
	if (rc < 0)
		return rc;
	alt_apply(c, fam, key, best.origin, NULL);
	alt_apply(c, fam, key, old.origin, &old);
	return 0;
}

int
route_set(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, const struct rt_val *v)
{
	struct rt_val *cur = selected(fam, e);
	int rc;

	if (cur == NULL || cur->origin == v->origin) {
		/* nothing selected (or a connected route, which any client route hides), or
		 * ours: change it in place, then let a better alt take over */
		if ((rc = rt_apply(c, fam, key, e, v)) < 0)
			return rc;
		return reselect(c, fam, key);
	}
	if (!rt_better(v, cur)) {
		alt_apply(c, fam, key, v->origin, v);
		return 0;
	}
	struct rt_val old = *cur;
	if ((rc = rt_apply(c, fam, key, e, v)) < 0)
		return rc;
	if (alt_find(c, fam, key, v->origin) != NULL)
		alt_apply(c, fam, key, v->origin, NULL);
	alt_apply(c, fam, key, old.origin, &old);
	return 0;
}

int
route_del(struct cfg *c, int fam, const uint8_t *key, uint8_t *e, unsigned o)
{
	struct rt_val *cur = selected(fam, e), best;
	int rc;

	if (cur == NULL || cur->origin != o) {
		if (alt_find(c, fam, key, o) == NULL)
			return -ENOENT;
		alt_apply(c, fam, key, o, NULL);
		return 0;
	}
	if (alt_best(c, fam, key, &best) != NULL) {
		/* the next best takes over in place: no gap */
		if ((rc = rt_apply(c, fam, key, e, &best)) < 0)
			return rc;
		alt_apply(c, fam, key, best.origin, NULL);
		return 0;
	}
	if ((rc = rt_apply(c, fam, key, e, NULL)) < 0)
		return rc;
	return c->n_addr != 0 ? conn_fix(c, fam, key) : 0;
}

const struct rt_val *
route_get(const struct cfg *c, int fam, const uint8_t *key, uint8_t *e, unsigned o, bool *sel)
{
	const struct rt_val *cur = selected(fam, e);

	*sel = cur != NULL && cur->origin == o;
	if (*sel)
		return cur;
	uint8_t *a = alt_find(c, fam, key, o);
	return a != NULL ? rt_val(a, alen_of(fam)) : NULL;
}
