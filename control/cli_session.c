/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control's session with the data plane: errors, requests, dumps and the local copy
 * of interfaces, ports and next hops (see cli.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/addr.h"
#include "cli.h"

/* ---- errors ---- */

int
err_out(struct ctl *x, int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", PROG);
	if (x != NULL && x->what != NULL)
		fprintf(stderr, "%s: ", x->what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
reply_error(struct ctl *x, const struct npr_reply *rep)
{
	return REJECTED(x, "%s%s%s", npr_strstatus(rep->status), rep->msg[0] != '\0' ? ": " : "",
			rep->msg);
}

int
client_error(struct ctl *x, int rc)
{
	return err_out(x, EXIT_NODP, "%s", npr_strstatus(rc));
}

/* ---- talking to the data plane ---- */

int
ctl_open(struct ctl *x)
{
	if (x->c != NULL)
		return 0;
	char err[256];
	x->c = npr_client_open(x->shm, NPR_ORIGIN_CLI, x->timeout_ms, err, sizeof(err));
	if (x->c == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return EXIT_NODP;
	}
	return 0;
}

/* Send one request and wait for its reply. Exit code: 0 (check rep->status), or 3. */
int
ctl_call(struct ctl *x, void *msg, struct npr_reply *rep,
	 void (*chunk_cb)(void *ctx, const struct npr_msg_dump_chunk *chunk), void *ctx)
{
	int rc = ctl_open(x);
	if (rc != 0)
		return rc;
	rc = npr_client_call(x->c, msg, rep, chunk_cb, ctx, x->timeout_ms);
	if (rc < 0)
		return client_error(x, rc);
	return 0;
}

int
ctl_call_simple(struct ctl *x, uint16_t type, struct npr_reply *rep)
{
	struct npr_msg_hdr h = { .type = type, .len = sizeof(h) };
	return ctl_call(x, &h, rep, NULL, NULL);
}

/* A configuration message: sent now (exit code 1 if rejected) or queued in batch mode. */
int
ctl_emit(struct ctl *x, void *msg)
{
	const struct npr_msg_hdr *h = msg;
	if (x->batch) {
		if (x->nq == x->capq) {
			size_t ncap = x->capq == 0 ? 256 : 2 * x->capq;
			struct qmsg *q = realloc(x->q, ncap * sizeof(*q));
			if (q == NULL)
				return REJECTED(x, "out of memory");
			x->q = q;
			x->capq = ncap;
		}
		void *copy = malloc(h->len);
		char *what = strdup(x->what != NULL ? x->what : "");
		if (copy == NULL || what == NULL) {
			free(copy);
			free(what);
			return REJECTED(x, "out of memory");
		}
		memcpy(copy, msg, h->len);
		x->q[x->nq++] = (struct qmsg){ copy, what };
		return 0;
	}
	struct npr_reply rep;
	int rc = ctl_call(x, msg, &rep, NULL, NULL);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	return 0;
}

/* ---- dumps ---- */

/* A dump that came back whole: exit code 0, else the error printed and its exit code. */
static int
dump_result(struct ctl *x, int rc, const struct dump_status *st)
{
	if (rc < 0)
		return client_error(x, rc);
	if (st->rep.status != 0)
		return reply_error(x, &st->rep);
	if (st->n_bad > 0)
		return REJECTED(x, "malformed dump from the data plane (%zu bad chunks)",
				st->n_bad);
	return 0;
}

/* Each entry of a dump to fn, as it arrives: every origin's objects (what people see). */
int
ctl_dump(struct ctl *x, uint32_t kind, dump_entry_fn fn, void *ctx)
{
	struct dump_status st;
	int rc = ctl_open(x);
	if (rc != 0)
		return rc;
	return dump_result(
		x, dump_each(x->c, kind, NPR_DUMP_F_ALL_ORIGINS, fn, ctx, x->timeout_ms, &st), &st);
}

struct stats_ctx {
	struct npr_stats *st;
	bool got;
};

static void
stats_entry(void *ctx, const void *e)
{
	struct stats_ctx *s = ctx;
	memcpy(s->st, e, sizeof(struct npr_stats));
	s->got = true;
}

int
ctl_stats(struct ctl *x, struct npr_stats *st)
{
	struct stats_ctx sc = { .st = st };
	struct dump_status ds;
	int rc = ctl_open(x);
	if (rc != 0)
		return rc;
	rc = dump_each(x->c, NPR_DUMP_STATS, 0, stats_entry, &sc, x->timeout_ms, &ds);
	if (rc < 0)
		return client_error(x, rc);
	if (ds.rep.status != 0)
		return reply_error(x, &ds.rep);
	if (!sc.got || ds.n_bad > 0)
		return REJECTED(x, "the data plane sent no statistics");
	return 0;
}

/* Every entry of a dump, in *vec (freed by the caller, also on error): every origin's
 * objects, or with flags 0 the CLI's own (next hops and groups the CLI edits). */
static int
collect_flags(struct ctl *x, uint32_t kind, uint32_t flags, struct dump_vec *vec)
{
	struct dump_status st;
	int rc = ctl_open(x);
	if (rc != 0) {
		memset(vec, 0, sizeof(*vec));
		return rc;
	}
	rc = dump_result(x, dump_collect(x->c, kind, flags, vec, x->timeout_ms, &st), &st);
	if (rc == 0 && st.oom)
		rc = REJECTED(x, "out of memory");
	return rc;
}

int
ctl_collect(struct ctl *x, uint32_t kind, struct dump_vec *vec)
{
	return collect_flags(x, kind, NPR_DUMP_F_ALL_ORIGINS, vec);
}

/* The local copy of one kind of object: *arr and *n replaced by a fresh dump on success. */
static int
need_dump(struct ctl *x, bool *have, uint32_t kind, uint32_t flags, void *arrp, size_t *n)
{
	if (*have)
		return 0;
	struct dump_vec vec;
	int rc = collect_flags(x, kind, flags, &vec);
	if (rc != 0) {
		dump_vec_free(&vec);
		return rc;
	}
	void **arr = arrp;
	free(*arr);
	*arr = vec.v;
	*n = vec.n;
	*have = true;
	return 0;
}

int
need_ifaces(struct ctl *x)
{
	return need_dump(x, &x->have_ifaces, NPR_DUMP_IFACES, NPR_DUMP_F_ALL_ORIGINS, &x->ifaces,
			 &x->n_ifaces);
}

int
need_ports(struct ctl *x)
{
	return need_dump(x, &x->have_ports, NPR_DUMP_PORTS, 0, &x->ports, &x->n_ports);
}

int
need_nhs(struct ctl *x)
{
	return need_dump(x, &x->have_nhs, NPR_DUMP_NHS, 0, &x->nhs, &x->n_nhs);
}

int
need_all_nhs(struct ctl *x)
{
	return need_dump(x, &x->have_all_nhs, NPR_DUMP_NHS, NPR_DUMP_F_ALL_ORIGINS, &x->all_nhs,
			 &x->n_all_nhs);
}

static void
info_entry(void *ctx, const void *entry)
{
	memcpy(ctx, entry, sizeof(struct npr_info));
}

int
need_info(struct ctl *x)
{
	if (x->have_info)
		return 0;
	int rc = ctl_dump(x, NPR_DUMP_INFO, info_entry, &x->info);
	x->have_info = rc == 0;
	return rc;
}

/* ---- the local copy ---- */

struct npr_dump_iface *
iface_by_name(struct ctl *x, const char *name)
{
	for (size_t i = 0; i < x->n_ifaces; i++)
		if (strncmp(x->ifaces[i].name, name, NPR_NAME_LEN) == 0)
			return &x->ifaces[i];
	return NULL;
}

struct npr_dump_iface *
iface_by_id(struct ctl *x, uint16_t ifid)
{
	for (size_t i = 0; i < x->n_ifaces; i++)
		if (x->ifaces[i].ifid == ifid)
			return &x->ifaces[i];
	return NULL;
}

const char *
iface_name(struct ctl *x, uint16_t ifid, char *buf, size_t len)
{
	const struct npr_dump_iface *ifc = iface_by_id(x, ifid);
	if (ifc == NULL)
		snprintf(buf, len, "if%u", ifid);
	else
		snprintf(buf, len, "%.*s", (int)NPR_NAME_LEN, ifc->name);
	return buf;
}

struct npr_dump_port *
port_by_id(struct ctl *x, uint16_t id)
{
	for (size_t i = 0; i < x->n_ports; i++)
		if (x->ports[i].port_id == id)
			return &x->ports[i];
	return NULL;
}

struct npr_dump_nh *
nh_by_id(struct ctl *x, uint32_t id)
{
	for (size_t i = 0; i < x->n_nhs; i++)
		if (x->nhs[i].nh_id == id)
			return &x->nhs[i];
	return NULL;
}

int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Lowest next hop id not in use, 0 if none is free. */
uint32_t
nh_free_id(struct ctl *x)
{
	uint32_t max = x->info.nh_max; /* ids 1..nh_max-1 */
	uint32_t *ids = malloc((x->n_nhs + 1) * sizeof(*ids));
	if (ids == NULL)
		return 0;
	for (size_t i = 0; i < x->n_nhs; i++)
		ids[i] = x->nhs[i].nh_id;
	qsort(ids, x->n_nhs, sizeof(*ids), cmp_u32);
	uint32_t want = 1;
	for (size_t i = 0; i < x->n_nhs && ids[i] <= want; i++)
		if (ids[i] == want)
			want++;
	free(ids);
	return want < max ? want : 0;
}

int
ctl_txn_begin(struct ctl *x)
{
	struct npr_reply rep;
	int rc = ctl_open(x);
	if (rc != 0)
		return rc;
	rc = npr_client_batch_begin(x->c, &rep, x->timeout_ms);
	if (rc < 0)
		return client_error(x, rc);
	if (rep.status != 0)
		return reply_error(x, &rep);
	x->have_nhs = false; /* read again inside: what other sessions did before is in it */
	return 0;
}

int
ctl_txn_end(struct ctl *x, int rc)
{
	struct npr_reply rep;
	if (rc == EXIT_NODP)
		return rc;
	int end = ctl_call_simple(x, rc == 0 ? NPR_MSG_BATCH_COMMIT : NPR_MSG_BATCH_ABORT, &rep);
	if (rc != 0)
		return rc;
	if (end != 0)
		return end;
	return rep.status != 0 ? reply_error(x, &rep) : 0;
}

int
emit_id(struct ctl *x, uint16_t type, uint32_t id)
{
	struct npr_msg_id m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	m.id = id;
	return ctl_emit(x, &m);
}

static bool
unused_inline(const struct npr_dump_nh *nh)
{
	return (nh->flags & NPR_NH_F_INLINE) && nh->refcnt == 0;
}

static void
sweep(struct ctl *x)
{
	/* a look first: the usual command leaves none, and then no transaction is made (each
	 * counts in the origin's configuration generation) */
	size_t i = 0;
	x->have_nhs = false;
	if (need_nhs(x) != 0)
		return;
	while (i < x->n_nhs && !unused_inline(&x->nhs[i]))
		i++;
	/* then in a transaction of its own: no other session can take one of them, or make a
	 * new one under a freed id, between the dump and the deletions */
	if (i == x->n_nhs || ctl_txn_begin(x) != 0)
		return;
	int rc = need_nhs(x);
	for (i = 0; rc == 0 && i < x->n_nhs; i++)
		if (unused_inline(&x->nhs[i]))
			rc = emit_id(x, NPR_MSG_NH_DEL, x->nhs[i].nh_id);
	ctl_txn_end(x, rc);
}

void
nh_sweep_inline(struct ctl *x)
{
	if (x->c == NULL)
		return;
	/* its errors (rare: a transaction that times out behind another session's) say what
	 * failed, after a command that did what it was asked */
	const char *what = x->what;
	x->what = "afterwards, deleting unused inline next hops";
	sweep(x);
	x->what = what;
	x->have_nhs = false;
}

int
nh_cache_set(struct ctl *x, const struct npr_msg_nh_set *m)
{
	struct npr_dump_nh *nh = nh_by_id(x, m->nh_id);
	if (nh == NULL) {
		struct npr_dump_nh *a = realloc(x->nhs, (x->n_nhs + 1) * sizeof(*a));
		if (a == NULL)
			return REJECTED(x, "out of memory");
		x->nhs = a;
		nh = &x->nhs[x->n_nhs++];
		memset(nh, 0, sizeof(*nh));
	}
	uint32_t refcnt = nh->refcnt;
	memset(nh, 0, sizeof(*nh));
	nh->nh_id = m->nh_id;
	nh->kind = m->kind;
	nh->family = m->family;
	nh->ifid = m->ifid;
	memcpy(nh->mac, m->mac, sizeof(nh->mac));
	nh->flags = m->flags;
	memcpy(nh->gw, m->gw, sizeof(nh->gw));
	nh->refcnt = refcnt;
	return 0;
}

/* ---- small parsers ---- */

int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return -EINVAL;
	uint64_t v = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
parse_id(struct ctl *x, const char *s, const char *what, uint32_t *id)
{
	uint64_t v;
	if (parse_uint(s, NPR_TARGET_ID_MASK, &v) < 0 || v == 0)
		return USAGE(x, "bad %s id '%s' (1..%u)", what, s != NULL ? s : "",
			     NPR_TARGET_ID_MASK);
	*id = (uint32_t)v;
	return 0;
}

bool
valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= NPR_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
		      ch == ':' || ch == '@'))
			return false;
	}
	return true;
}

/* An existing interface by name (exit code 1 if there is none). */
int
lookup_iface(struct ctl *x, const char *name, uint16_t *ifid)
{
	*ifid = 0;
	int rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	const struct npr_dump_iface *ifc = iface_by_name(x, name);
	if (ifc == NULL)
		return REJECTED(x, "no interface '%s' (see show interfaces)", name);
	*ifid = ifc->ifid;
	return 0;
}

/* ---- names ---- */

static const char *const nh_kind_names[] = {
	[NPR_NH_FORWARD] = "forward",
	[NPR_NH_BLACKHOLE] = "blackhole",
	[NPR_NH_UNREACHABLE] = "unreachable",
	[NPR_NH_PROHIBIT] = "prohibit",
};

const char *
nh_kind_name(unsigned kind)
{
	if (kind < sizeof(nh_kind_names) / sizeof(nh_kind_names[0]) && nh_kind_names[kind] != NULL)
		return nh_kind_names[kind];
	return "?";
}

int
special_kind(const char *s)
{
	for (int k = NPR_NH_BLACKHOLE; k <= NPR_NH_PROHIBIT; k++)
		if (strcmp(s, nh_kind_names[k]) == 0)
			return k;
	return 0;
}

/* Human description of a route target of an origin: "via 192.0.2.2 dev port1 (nexthop 3)";
 * other origins' next hops come from the all-origins copy (need_all_nhs), if loaded. */
const char *
describe_target(struct ctl *x, unsigned origin, uint32_t target, char *buf, size_t len)
{
	uint32_t id = target & NPR_TARGET_ID_MASK;
	if ((target & NPR_TARGET_LOCAL) && (target & NPR_TARGET_CONNECTED)) {
		char dev[NPR_NAME_LEN + 8];
		snprintf(buf, len, "dev %s (connected)",
			 iface_name(x, target & 0xffffu, dev, sizeof(dev)));
		return buf;
	}
	if (target & NPR_TARGET_LOCAL) {
		snprintf(buf, len, "local");
		return buf;
	}
	if (target & NPR_TARGET_GROUP) {
		snprintf(buf, len, "group %" PRIu32, id);
		return buf;
	}
	const struct npr_dump_nh *nh = NULL;
	if (origin == NPR_ORIGIN_CLI) {
		nh = nh_by_id(x, id);
	} else {
		for (size_t i = 0; i < x->n_all_nhs && nh == NULL; i++)
			if (x->all_nhs[i].nh_id == id && x->all_nhs[i].origin == origin)
				nh = &x->all_nhs[i];
	}
	if (nh == NULL) {
		snprintf(buf, len, "nexthop %" PRIu32, id);
		return buf;
	}
	if (nh->kind != NPR_NH_FORWARD) {
		snprintf(buf, len, "%s (nexthop %" PRIu32 ")", nh_kind_name(nh->kind), id);
		return buf;
	}
	char gw[INET6_ADDRSTRLEN + 8] = "", dev[NPR_NAME_LEN + 8];
	if (nh->family != 0) {
		char a[INET6_ADDRSTRLEN];
		snprintf(gw, sizeof(gw), "via %s ",
			 npr_format_addr(nh->family, nh->gw, a, sizeof(a)));
	}
	snprintf(buf, len, "%sdev %s (nexthop %" PRIu32 ")", gw,
		 iface_name(x, nh->ifid, dev, sizeof(dev)), id);
	return buf;
}
