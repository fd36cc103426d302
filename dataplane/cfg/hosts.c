/* SPDX-License-Identifier: BSD-3-Clause */
/* Derived routes: connected subnets of the addresses, host routes to neighbours (layer 3). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

/* The connected route that addresses want for a subnet key, 0 for none: the first address
 * (slot order) of that family whose subnet it is. Host-length and IPv6 link-local addresses
 * have none (fe80::/64 is on every link). */
static uint32_t
conn_want(const struct cfg *c, int fam, const uint8_t *key)
{
	unsigned alen = alen_of(fam), family = fam == F4 ? NPR_AF_INET : NPR_AF_INET6;
	uint8_t p[16];

	if (key[alen] >= 8 * alen)
		return 0;
	for (uint32_t i = 0; i < CFG_ADDR_MAX; i++) {
		const struct addr *a = &c->addr[i];
		if (!a->used || a->family != family || a->plen != key[alen] ||
		    npr_is_ll6(family, a->a))
			continue;
		memcpy(p, a->a, alen);
		npr_prefix_mask(family, p, a->plen);
		if (memcmp(p, key, alen) == 0)
			return NPR_TARGET_LOCAL | NPR_TARGET_CONNECTED | a->ifid;
	}
	return 0;
}

void
subnet_key(uint8_t *key, const struct addr *a)
{
	int fam = a->family == NPR_AF_INET ? F4 : F6;
	unsigned alen = alen_of(fam);

	memset(key, 0, RT_KEY_MAX);
	memcpy(key, a->a, alen);
	npr_prefix_mask(a->family, key, a->plen);
	key[alen] = a->plen;
	key[alen + 1] = 1;
}

/*
 * Make the RIB's route for a subnet key what the addresses want: a route someone configured
 * on that exact prefix wins (it stays; the connected route comes back when it goes). Needs
 * room for one undo record and one route entry. Fails only if the FIB does.
 */
int
conn_fix(struct cfg *c, int fam, const uint8_t *key)
{
	unsigned alen = alen_of(fam);
	uint8_t *e = ht_find(&c->rt[fam], key);
	uint32_t want, cur = 0;

	if (e != NULL) {
		cur = rt_val(e, alen)->target;
		if (!(cur & NPR_TARGET_CONNECTED))
			return 0;
	}
	if (cur == 0 && c->addr_plen[fam][key[alen]] == 0)
		return 0;
	want = conn_want(c, fam, key);
	if (cur == want)
		return 0;
	struct rt_val v = rtv(want, 0, NPR_ORIGIN_NONE, 0, 0);
	return rt_apply(c, fam, key, e, want != 0 ? &v : NULL);
}

/* Is the longest route in the RIB covering addr the connected route of interface ifid? */
static bool
on_link(const struct cfg *c, unsigned ifid, int fam, const uint8_t *addr)
{
	unsigned alen = alen_of(fam);
	uint8_t key[RT_KEY_MAX];

	for (int plen = (int)(8 * alen); plen >= 0; plen--) {
		memset(key, 0, sizeof(key));
		memcpy(key, addr, alen);
		npr_prefix_mask(family_of(fam), key, (unsigned)plen);
		key[alen] = (uint8_t)plen;
		key[alen + 1] = 1;
		uint8_t *e = ht_find(&c->rt[fam], key);
		if (e == NULL)
			continue;
		uint32_t t = rt_val(e, alen)->target;
		return (t & NPR_TARGET_LOCAL) && (t & NPR_TARGET_CONNECTED) &&
		       (t & 0xffffu) == ifid;
	}
	return false;
}

static int
host_alloc(struct cfg *c)
{
	uint64_t v;
	int rc = retire_pop(&c->host_ids, &v, false);
	if (rc == -ENOENT)
		return -ENOSPC;
	if (rc < 0)
		return -EAGAIN; /* the oldest free id may still be seen by a worker */
	uint32_t k = (uint32_t)v;
	c->host[k].used = 1;
	c->host[k].pos = c->n_host;
	c->host_list[c->n_host++] = k;
	return (int)k;
}

/* Take k out of the list of used entries (it keeps its word until host_free). */
static void
host_unlist(struct cfg *c, uint32_t k)
{
	struct host *h = &c->host[k];
	uint32_t last = c->host_list[--c->n_host];

	c->host_list[h->pos] = last;
	c->host[last].pos = h->pos;
}

/* After the FIB no longer points at it (committed): the word goes, the id waits for a grace
 * period before it is reused. */
static void
host_free(struct cfg *c, uint32_t k)
{
	memset(&c->host[k], 0, sizeof(c->host[k]));
	atomic_store_explicit(&c->t.nh[host_id(c, k)], fwd_nh_pack(FWD_NH_INVALID, 0, 0),
			      memory_order_release);
	retire_push(&c->host_ids, k); /* at most host_max ids: always room */
	retire_stamp(&c->host_ids);
}

static void
host_publish_word(struct cfg *c, uint32_t k)
{
	/* release: pairs with the worker's acquire load of the word, which it reaches from a
	 * FIB entry published after this store */
	atomic_store_explicit(&c->t.nh[host_id(c, k)], int_word(c, host_id(c, k)),
			      memory_order_release);
}

/*
 * Host routes are derived from the committed state: a neighbour (configured or learnt) whose
 * address is on a connected subnet of its interface (the longest RIB route covering it is
 * that connected route) gets addr/32 or /128 -> its own FORWARD next hop in the FIB. Runs
 * after publish, outside transactions. The FIB is checked with fib_get, so that a configured
 * route that overwrote or deleted the same prefix (possible: host routes are not in the RIB)
 * is noticed and repaired. Order: new next hop words before the FIB entries that use them;
 * removed entries committed before their words are cleared.
 */
void
hosts_sync(struct cfg *c)
{
	uint32_t gone[64], n_gone = 0;
	bool changed[2] = { false, false };

	c->host_dirty = false;
	c->host_retry = false;
	for (uint32_t i = 0; i < c->n_host;) {
		uint32_t k = c->host_list[i], v;
		struct host *h = &c->host[k];
		int fam = h->family == NPR_AF_INET ? F4 : F6;
		unsigned hl = 8 * alen_of(fam);
		struct fib *f = fib_of(c, fam);
		struct nb *e = nb_find(c, h->ifid, h->family, h->addr);
		bool ours = fib_get(f, h->addr, (uint8_t)hl, &v) == 0 && v == host_id(c, k);

		if (e != NULL && e->has_neigh && e->hnh == k + 1 &&
		    on_link(c, h->ifid, fam, h->addr)) {
			if (memcmp(h->mac, e->mac, 6) != 0) {
				memcpy(h->mac, e->mac, 6);
				host_publish_word(c, k);
			}
			if (!ours && fib_set(f, h->addr, (uint8_t)hl, host_id(c, k)) == 0)
				changed[fam] = true;
			i++;
			continue;
		}
		if (e != NULL && e->hnh == k + 1)
			e->hnh = 0;
		if (ours && fib_del(f, h->addr, (uint8_t)hl) == 0)
			changed[fam] = true;
		if (n_gone == RTE_DIM(gone)) { /* finish the rest on the next round */
			c->host_retry = true;
			i++;
			continue;
		}
		gone[n_gone++] = k;
		host_unlist(c, k); /* the last one moves to i: no i++ */
	}
	for (uint32_t i = 0; i < c->nb.cap && !c->host_retry; i++) {
		struct nb *e = (struct nb *)ht_at(&c->nb, i);
		if (!e->used || !e->has_neigh || e->hnh != 0)
			continue;
		int fam = e->family == NPR_AF_INET ? F4 : F6;
		if (!on_link(c, e->ifid, fam, e->addr))
			continue;
		int k = host_alloc(c);
		if (k < 0) {
			c->host_retry = k == -EAGAIN;
			break;
		}
		struct host *h = &c->host[k];
		h->family = e->family;
		h->ifid = e->ifid;
		memcpy(h->mac, e->mac, 6);
		memcpy(h->addr, e->addr, 16);
		host_publish_word(c, (uint32_t)k);
		if (fib_set(fib_of(c, fam), e->addr, (uint8_t)(8 * alen_of(fam)),
			    host_id(c, (uint32_t)k)) < 0) {
			host_unlist(c, (uint32_t)k); /* FIB full: the slow path forwards to it */
			host_free(c, (uint32_t)k);
			continue;
		}
		e->hnh = (uint32_t)k + 1;
		changed[fam] = true;
	}
	for (int fam = F4; fam <= F6; fam++)
		if (changed[fam])
			fib_commit(fib_of(c, fam));
	for (uint32_t i = 0; i < n_gone; i++)
		host_free(c, gone[i]);
}
