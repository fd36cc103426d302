/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the data plane's request handler (dataplane/cfg/) promises, checked from outside, for
 * tests/unit/test_cfg.c and tests/fuzz/fuzz_cfg.c. No cmocka: each check returns NULL or what
 * is broken (text in a static buffer, valid until the next check).
 *
 *   cfg_check_answer      the records cfg_handle emitted for one request: zero or more
 *                         DUMP_CHUNKs, then exactly one reply, every one well framed and with
 *                         the request's seq
 *   cfg_check_dump        a dump's entries, its chunks checked (sizes, padding, count)
 *   cfg_check_invariants  outside batches: what the workers see (next-hop words, groups,
 *                         ports) follows from the dumps (neighbours configured and learnt),
 *                         and every reference count equals the references the dumps show
 */
#ifndef NPR_TEST_CFG_CHECK_H
#define NPR_TEST_CFG_CHECK_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/proto.h"
#include "cfg.h"
#include "fwd.h"

/* Records emitted by cfg_handle, back to back. */
struct cfg_check_cap {
	uint8_t *buf;
	size_t len, cap;
	unsigned n;
	bool bad; /* a record of a bad size, or out of memory */
};

static char cfg_check_why[256];

static inline const char *cfg_check_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline const char *
cfg_check_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cfg_check_why, sizeof(cfg_check_why), fmt, ap);
	va_end(ap);
	return cfg_check_why;
}

/* A cfg_emit_fn: ctx is a struct cfg_check_cap. */
static inline void
cfg_check_emit(void *ctx, const void *rec, uint32_t len)
{
	struct cfg_check_cap *k = ctx;
	if (len < sizeof(struct npr_msg_hdr) || len % 8 != 0 || len > NPR_MSG_MAX)
		k->bad = true;
	if (k->len + len > k->cap) {
		size_t ncap = (k->len + len) * 2;
		uint8_t *nb = realloc(k->buf, ncap);
		if (nb == NULL) {
			k->bad = true;
			return;
		}
		k->buf = nb;
		k->cap = ncap;
	}
	memcpy(k->buf + k->len, rec, len);
	k->len += len;
	k->n++;
}

static inline void
cfg_check_cap_reset(struct cfg_check_cap *k)
{
	k->len = 0;
	k->n = 0;
	k->bad = false;
}

static inline void
cfg_check_cap_free(struct cfg_check_cap *k)
{
	free(k->buf);
	memset(k, 0, sizeof(*k));
}

/* The answer to one request whose seq was seq (0 for a record shorter than a header): its
 * reply in *rep. */
static inline const char *
cfg_check_answer(const struct cfg_check_cap *k, uint32_t seq, struct npr_reply *rep)
{
	size_t off = 0;
	if (k->bad)
		return "a record of a bad size emitted (or out of memory)";
	if (k->n < 1)
		return "no reply";
	for (unsigned i = 0; i < k->n; i++) {
		struct npr_msg_hdr h;
		memcpy(&h, k->buf + off, sizeof(h));
		if (h.version != NPR_ABI_VERSION || h.reserved != 0)
			return cfg_check_fail("record %u: version %u, reserved %u", i, h.version,
					      h.reserved);
		if (h.seq != seq)
			return cfg_check_fail("record %u: seq %u, the request's %u", i, h.seq, seq);
		if (h.len < sizeof(h) || h.len > k->len - off)
			return cfg_check_fail("record %u: length %u", i, h.len);
		if (i + 1 < k->n && h.type != NPR_MSG_DUMP_CHUNK)
			return cfg_check_fail("record %u of %u: type %u, not a dump chunk", i, k->n,
					      h.type);
		if (i + 1 == k->n) {
			if (h.type != NPR_MSG_REPLY || h.len != sizeof(*rep))
				return cfg_check_fail("last record: type %u length %u, not a reply",
						      h.type, h.len);
			memcpy(rep, k->buf + off, sizeof(*rep));
		}
		off += h.len;
	}
	if (off != k->len)
		return "records' lengths do not add up";
	if (memchr(rep->msg, 0, sizeof(rep->msg)) == NULL)
		return "reply text not NUL-terminated";
	if (rep->status > 0)
		return cfg_check_fail("reply status %d", rep->status);
	if (rep->status < 0 && rep->msg[0] == '\0')
		return cfg_check_fail("error %d without a reason", rep->status);
	if (k->n > 1 && rep->status != 0)
		return "dump chunks before an error";
	return NULL;
}

/* The size of one entry of a dump kind; 0 for groups (variable). */
static inline size_t
cfg_check_entry_size(uint32_t kind)
{
	switch (kind) {
	case NPR_DUMP_PORTS:
		return sizeof(struct npr_dump_port);
	case NPR_DUMP_IFACES:
		return sizeof(struct npr_dump_iface);
	case NPR_DUMP_ADDRS:
		return sizeof(struct npr_dump_addr);
	case NPR_DUMP_NEIGHS:
	case NPR_DUMP_NEIGHS_LEARNT:
		return sizeof(struct npr_dump_neigh);
	case NPR_DUMP_NHS:
		return sizeof(struct npr_dump_nh);
	case NPR_DUMP_ROUTES4:
		return sizeof(struct npr_route4);
	case NPR_DUMP_ROUTES6:
		return sizeof(struct npr_route6);
	case NPR_DUMP_INFO:
		return sizeof(struct npr_info);
	case NPR_DUMP_GROUPS:
		return 0;
	default:
		return sizeof(struct npr_stats);
	}
}

/* The chunks of a successful dump of kind in k (the reply last, value = the count): every
 * entry concatenated into *out (malloc'd, the caller frees it, also on error), their bytes in
 * *outlen, their number in *count. */
static inline const char *
cfg_check_chunks(const struct cfg_check_cap *k, uint32_t kind, const struct npr_reply *rep,
		 uint8_t **out, size_t *outlen, uint32_t *count)
{
	uint8_t *o = malloc(k->len + 1);
	size_t ol = 0, off = 0;
	uint32_t n = 0;
	*out = o;
	*outlen = 0;
	*count = 0;
	if (o == NULL)
		return "out of memory";
	for (unsigned i = 0; i + 1 < k->n; i++) {
		struct npr_msg_dump_chunk ch;
		memcpy(&ch, k->buf + off, sizeof(ch));
		if (ch.hdr.len < sizeof(ch))
			return cfg_check_fail("chunk %u: length %u", i, ch.hdr.len);
		if (ch.kind != kind || ch.count == 0)
			return cfg_check_fail("chunk %u: kind %u (want %u), count %u", i, ch.kind,
					      kind, ch.count);
		size_t es = cfg_check_entry_size(kind), dl = 0;
		if (es != 0) {
			dl = es * ch.count;
		} else {
			for (uint32_t j = 0; j < ch.count; j++) {
				struct npr_dump_group g;
				if (sizeof(ch) + dl + sizeof(g) > ch.hdr.len)
					return cfg_check_fail("chunk %u: group %u past the end", i,
							      j);
				memcpy(&g, k->buf + off + sizeof(ch) + dl, sizeof(g));
				dl += sizeof(g) + 8u * g.n_members;
			}
		}
		/* the chunk is exactly its entries, padded to 8 with zeros */
		if (ch.hdr.len != ((sizeof(ch) + dl + 7) & ~(size_t)7))
			return cfg_check_fail("chunk %u: length %u for %zu bytes of %u entries", i,
					      ch.hdr.len, dl, ch.count);
		for (size_t p = sizeof(ch) + dl; p < ch.hdr.len; p++)
			if (k->buf[off + p] != 0)
				return cfg_check_fail("chunk %u: padding not zero", i);
		memcpy(o + ol, k->buf + off + sizeof(ch), dl);
		ol += dl;
		n += ch.count;
		off += ch.hdr.len;
	}
	if (rep->value != n)
		return cfg_check_fail("dump of kind %u: %u entries, the reply says %llu", kind, n,
				      (unsigned long long)rep->value);
	*outlen = ol;
	*count = n;
	return NULL;
}

/* Run a dump of kind (flags NPR_DUMP_F_*) on session sid: see cfg_check_chunks. */
static inline const char *
cfg_check_dump(struct cfg *c, unsigned sid, uint32_t kind, uint32_t flags, uint8_t **out,
	       size_t *outlen, uint32_t *count)
{
	struct cfg_check_cap k = { 0 };
	struct npr_msg_dump_req m;
	struct npr_reply rep;
	const char *why;

	*out = NULL;
	*outlen = 0;
	*count = 0;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_DUMP_REQ;
	m.hdr.version = NPR_ABI_VERSION;
	m.hdr.len = sizeof(m);
	m.hdr.seq = 0xc0ffee;
	m.kind = kind;
	m.flags = flags;
	cfg_handle_session(c, sid, &m, sizeof(m), cfg_check_emit, &k);
	why = cfg_check_answer(&k, m.hdr.seq, &rep);
	if (why == NULL && rep.status != 0)
		why = cfg_check_fail("dump of kind %u: status %d: %s", kind, rep.status, rep.msg);
	if (why == NULL)
		why = cfg_check_chunks(&k, kind, &rep, out, outlen, count);
	cfg_check_cap_free(&k);
	return why;
}

static inline uint64_t
cfg_check_mac48(const uint8_t *m)
{
	return (uint64_t)m[0] | (uint64_t)m[1] << 8 | (uint64_t)m[2] << 16 | (uint64_t)m[3] << 24 |
	       (uint64_t)m[4] << 32 | (uint64_t)m[5] << 40;
}

/* The body of cfg_check_invariants, over the dumps d[] (every origin's objects). */
struct cfg_check_dumps {
	uint8_t *ifs, *nhs, *nbs, *grs, *r4, *r6;
	size_t grl;
	uint32_t n_if, n_nh, n_nb, n_gr, n_r4, n_r6;
	uint32_t *nh_refs, *grp_refs;
	bool *nh_seen, *gr_seen;
};

static inline const char *
cfg_check_refs(const struct cfg_check_dumps *d, uint32_t nh_max, uint32_t group_max)
{
	for (uint32_t i = 0; i < d->n_r4 + d->n_r6; i++) {
		uint32_t tg, o;
		if (i < d->n_r4) {
			struct npr_route4 r;
			memcpy(&r, d->r4 + i * sizeof(r), sizeof(r));
			tg = r.target;
			o = r.origin & ~NPR_ORIGIN_F_INACTIVE;
		} else {
			struct npr_route6 r;
			memcpy(&r, d->r6 + (i - d->n_r4) * sizeof(r), sizeof(r));
			tg = r.target;
			o = r.origin & ~NPR_ORIGIN_F_INACTIVE;
		}
		if (tg & NPR_TARGET_LOCAL) /* the router's own: addresses, connected subnets */
			continue;
		if (o < 1 || o >= NPR_ORIGIN_MAX)
			return cfg_check_fail("route of origin %u", o);
		uint32_t id = tg & NPR_TARGET_ID_MASK;
		if ((tg & NPR_TARGET_GROUP) ? id >= group_max : id >= nh_max)
			return cfg_check_fail("route target 0x%x out of range", tg);
		if (tg & NPR_TARGET_GROUP)
			d->grp_refs[(o - 1) * group_max + id]++;
		else
			d->nh_refs[(o - 1) * nh_max + id]++;
	}
	return NULL;
}

static inline const char *
cfg_check_groups(struct cfg *c, const struct cfg_check_dumps *d, uint32_t nh_max,
		 uint32_t group_max)
{
	const struct fwd_tables *t = cfg_tables(c);
	size_t off = 0;
	for (uint32_t i = 0; i < d->n_gr; i++) {
		struct npr_dump_group g;
		memcpy(&g, d->grs + off, sizeof(g));
		if (g.origin < 1 || g.origin >= NPR_ORIGIN_MAX || g.group_id >= group_max)
			return cfg_check_fail("group %u of origin %u", g.group_id, g.origin);
		uint32_t gi = (g.origin - 1u) * group_max + g.group_id;
		d->gr_seen[gi] = true;
		if (g.refcnt != d->grp_refs[gi])
			return cfg_check_fail("group %u/%u: refcnt %u, %u routes use it", g.origin,
					      g.group_id, g.refcnt, d->grp_refs[gi]);
		const struct fwd_group *fg = atomic_load(&t->group[gi]);
		if (fg == NULL)
			return cfg_check_fail("group %u/%u not published", g.origin, g.group_id);
		uint32_t total = 0;
		for (uint32_t k = 0; k < g.n_members; k++) {
			struct npr_group_member mb;
			memcpy(&mb, d->grs + off + sizeof(g) + 8 * k, 8);
			if (mb.nh_id >= nh_max)
				return cfg_check_fail("group %u/%u: member %u", g.origin,
						      g.group_id, mb.nh_id);
			uint32_t ni = (g.origin - 1u) * nh_max + mb.nh_id;
			d->nh_refs[ni]++;
			total += mb.weight;
			uint32_t cnt = 0;
			for (uint32_t s = 0; s < fg->n_slots; s++)
				cnt += fg->nh[s] == ni;
			if (cnt != mb.weight)
				return cfg_check_fail("group %u/%u: next hop %u has %u slots, "
						      "weight %u",
						      g.origin, g.group_id, mb.nh_id, cnt,
						      mb.weight);
		}
		if (fg->n_slots != total)
			return cfg_check_fail("group %u/%u: %u slots, weights add up to %u",
					      g.origin, g.group_id, fg->n_slots, total);
		off += sizeof(g) + 8u * g.n_members;
	}
	for (uint32_t i = 1; i < (NPR_ORIGIN_MAX - 1) * group_max; i++)
		if (!d->gr_seen[i] && atomic_load(&t->group[i]) != NULL)
			return cfg_check_fail("group slot %u published but not dumped", i);
	return NULL;
}

static inline const char *
cfg_check_nhs(struct cfg *c, const struct cfg_check_dumps *d, uint32_t nh_max)
{
	const struct fwd_tables *t = cfg_tables(c);
	for (uint32_t i = 0; i < d->n_nh; i++) {
		struct npr_dump_nh e;
		memcpy(&e, d->nhs + i * sizeof(e), sizeof(e));
		if (e.origin < 1 || e.origin >= NPR_ORIGIN_MAX || e.nh_id >= nh_max)
			return cfg_check_fail("next hop %u of origin %u", e.nh_id, e.origin);
		uint32_t ni = (e.origin - 1u) * nh_max + e.nh_id;
		d->nh_seen[ni] = true;
		if (e.refcnt != d->nh_refs[ni])
			return cfg_check_fail("next hop %u/%u: refcnt %u, %u users", e.origin,
					      e.nh_id, e.refcnt, d->nh_refs[ni]);
		uint64_t want;
		if (e.kind == NPR_NH_BLACKHOLE)
			want = fwd_nh_pack(FWD_NH_BLACKHOLE, 0, 0);
		else if (e.kind == NPR_NH_UNREACHABLE)
			want = fwd_nh_pack(FWD_NH_UNREACHABLE, 0, 0);
		else if (e.kind == NPR_NH_PROHIBIT)
			want = fwd_nh_pack(FWD_NH_PROHIBIT, 0, 0);
		else {
			struct npr_dump_iface ifc;
			bool found = false;
			for (uint32_t k = 0; k < d->n_if && !found; k++) {
				memcpy(&ifc, d->ifs + k * sizeof(ifc), sizeof(ifc));
				found = ifc.ifid == e.ifid;
			}
			if (!found)
				return cfg_check_fail("next hop %u/%u on interface %u, not dumped",
						      e.origin, e.nh_id, e.ifid);
			/* the MAC: explicit, or the neighbour's */
			const uint8_t *mac = NULL;
			if (e.flags & NPR_NH_F_MAC)
				mac = e.mac;
			for (uint32_t k = 0; k < d->n_nb && mac == NULL && e.family != 0; k++) {
				struct npr_dump_neigh nb;
				memcpy(&nb, d->nbs + k * sizeof(nb), sizeof(nb));
				if (nb.ifid == e.ifid && nb.family == e.family &&
				    memcmp(nb.addr, e.gw, 16) == 0) {
					mac = d->nbs + k * sizeof(nb) +
					      offsetof(struct npr_dump_neigh, mac);
					if (memcmp(e.mac, nb.mac, 6) != 0)
						return cfg_check_fail("next hop %u/%u: MAC not its "
								      "neighbour's",
								      e.origin, e.nh_id);
				}
			}
			if (!!(e.flags & NPR_NH_F_RESOLVED) != (mac != NULL))
				return cfg_check_fail("next hop %u/%u: resolved flag %u", e.origin,
						      e.nh_id, !!(e.flags & NPR_NH_F_RESOLVED));
			if (!(ifc.flags & NPR_IFACE_F_UP))
				want = fwd_nh_pack(FWD_NH_IFACE_DOWN, ifc.port_id, 0);
			else if (mac == NULL)
				want = fwd_nh_pack(FWD_NH_UNRESOLVED, ifc.port_id, 0);
			else
				want = fwd_nh_pack(FWD_NH_FORWARD, ifc.port_id,
						   cfg_check_mac48(mac));
		}
		if (atomic_load(&t->nh[ni]) != want)
			return cfg_check_fail("next hop %u/%u: word 0x%llx, want 0x%llx", e.origin,
					      e.nh_id, (unsigned long long)atomic_load(&t->nh[ni]),
					      (unsigned long long)want);
	}
	for (uint32_t i = 0; i < (NPR_ORIGIN_MAX - 1) * nh_max; i++)
		if (!d->nh_seen[i] && atomic_load(&t->nh[i]) != 0)
			return cfg_check_fail("next hop slot %u published but not dumped", i);
	return NULL;
}

static inline const char *
cfg_check_ports(struct cfg *c, const struct cfg_check_dumps *d)
{
	const struct fwd_tables *t = cfg_tables(c);
	for (unsigned p = 0; p < NPR_MAX_PORTS; p++) {
		uint64_t mac = 0;
		uint32_t up = 0;
		for (uint32_t k = 0; k < d->n_if; k++) {
			struct npr_dump_iface ifc;
			memcpy(&ifc, d->ifs + k * sizeof(ifc), sizeof(ifc));
			if (ifc.port_id == p) {
				mac = cfg_check_mac48(ifc.mac);
				up = ifc.flags & NPR_IFACE_F_UP;
			}
		}
		if (atomic_load(&t->port[p].mac) != mac || atomic_load(&t->port[p].up) != up)
			return cfg_check_fail("port %u: MAC or up not its interface's", p);
	}
	return NULL;
}

/* Outside batches: every origin's objects, dumped on session sid, against what the workers
 * see. nh_max, group_max: the cfg's (struct cfg_conf). */
static inline const char *
cfg_check_invariants(struct cfg *c, unsigned sid, uint32_t nh_max, uint32_t group_max)
{
	struct cfg_check_dumps d;
	const uint32_t all = NPR_DUMP_F_ALL_ORIGINS;
	const char *why = NULL;
	size_t l;

	memset(&d, 0, sizeof(d));
	if (why == NULL)
		why = cfg_check_dump(c, sid, NPR_DUMP_IFACES, all, &d.ifs, &l, &d.n_if);
	if (why == NULL)
		why = cfg_check_dump(c, sid, NPR_DUMP_NHS, all, &d.nhs, &l, &d.n_nh);
	if (why == NULL)
		why = cfg_check_dump(c, sid, NPR_DUMP_NEIGHS, all, &d.nbs, &l, &d.n_nb);
	if (why == NULL) { /* and the learnt ones (the slow path's), after them */
		uint8_t *lb, *nb;
		uint32_t n;
		why = cfg_check_dump(c, sid, NPR_DUMP_NEIGHS_LEARNT, all, &lb, &l, &n);
		nb = realloc(d.nbs, (d.n_nb + n) * sizeof(struct npr_dump_neigh) + 1);
		if (why == NULL && nb == NULL)
			why = "out of memory";
		if (nb != NULL)
			d.nbs = nb;
		if (why == NULL) {
			memcpy(d.nbs + d.n_nb * sizeof(struct npr_dump_neigh), lb, l);
			d.n_nb += n;
		}
		free(lb);
	}
	if (why == NULL)
		why = cfg_check_dump(c, sid, NPR_DUMP_GROUPS, all, &d.grs, &d.grl, &d.n_gr);
	if (why == NULL)
		why = cfg_check_dump(c, sid, NPR_DUMP_ROUTES4, all, &d.r4, &l, &d.n_r4);
	if (why == NULL)
		why = cfg_check_dump(c, sid, NPR_DUMP_ROUTES6, all, &d.r6, &l, &d.n_r6);
	size_t slots_nh = (NPR_ORIGIN_MAX - 1) * (size_t)nh_max;
	size_t slots_gr = (NPR_ORIGIN_MAX - 1) * (size_t)group_max;
	d.nh_refs = calloc(slots_nh, sizeof(*d.nh_refs));
	d.grp_refs = calloc(slots_gr, sizeof(*d.grp_refs));
	d.nh_seen = calloc(slots_nh, sizeof(*d.nh_seen));
	d.gr_seen = calloc(slots_gr, sizeof(*d.gr_seen));
	if (why == NULL &&
	    (d.nh_refs == NULL || d.grp_refs == NULL || d.nh_seen == NULL || d.gr_seen == NULL))
		why = "out of memory";
	if (why == NULL)
		why = cfg_check_refs(&d, nh_max, group_max);
	if (why == NULL)
		why = cfg_check_groups(c, &d, nh_max, group_max);
	if (why == NULL)
		why = cfg_check_nhs(c, &d, nh_max);
	if (why == NULL)
		why = cfg_check_ports(c, &d);
	free(d.ifs);
	free(d.nhs);
	free(d.nbs);
	free(d.grs);
	free(d.r4);
	free(d.r6);
	free(d.nh_refs);
	free(d.grp_refs);
	free(d.nh_seen);
	free(d.gr_seen);
	return why;
}

#endif
