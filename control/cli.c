/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control: program and inspect the data plane over its shared-memory rings.
 *
 * Every command turns into request messages (proto.h). A command runs them one by one and
 * stops at the first rejection; `batch FILE` first turns every line into messages (nothing is
 * sent if a line is wrong), then sends them pipelined between BATCH_BEGIN and BATCH_COMMIT.
 * Names (interfaces, ports) and free ids come from dumps taken before anything is sent, kept
 * in a local copy that the commands update as they go, so a batch line can use an interface
 * or next hop that an earlier line of the same batch creates.
 *
 * Exit codes: 0 ok, 1 a request was rejected (or names an unknown object), 2 usage error,
 * 3 no data plane (not running, gone, not answering, or the session lock is taken).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npr/proto.h"
#include "npr/shm.h"
#include "npr/addr.h"
#include "client.h"
#include "dump.h"
#include "json.h"
#include "load.h"
#include "apply.h"

#define PROG "nprouter-control"
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_ARGS 128
#define MAX_REPORTED 20

enum { EXIT_OK = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_NODP = 3 };

struct qmsg {
	void *msg;
	char *what;
};

struct ctl {
	const char *shm;
	bool json_out;
	int timeout_ms;
	struct npr_client *c;
	struct json j;
	const char *what; /* the command being run, for error messages */

	/* local copies of the data plane's objects, loaded on first use */
	bool have_ifaces, have_ports, have_nhs, have_info;
	struct npr_dump_iface *ifaces;
	size_t n_ifaces;
	struct npr_dump_port *ports;
	size_t n_ports;
	struct npr_dump_nh *nhs;
	size_t n_nhs;
	struct npr_info info;

	/* batch mode: messages are queued, not sent */
	bool batch;
	struct qmsg *q;
	size_t nq, capq;

	/* mutation results for --json */
	uint32_t created_nh;
};

/* ---- errors ---- */

static int err_out(struct ctl *x, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
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

#define USAGE(x, ...) err_out(x, EXIT_USAGE, __VA_ARGS__)
#define REJECTED(x, ...) err_out(x, EXIT_REJECTED, __VA_ARGS__)

static int
reply_error(struct ctl *x, const struct npr_reply *rep)
{
	return REJECTED(x, "%s%s%s", npr_strstatus(rep->status), rep->msg[0] != '\0' ? ": " : "",
			rep->msg);
}

static int
client_error(struct ctl *x, int rc)
{
	return err_out(x, EXIT_NODP, "%s", npr_strstatus(rc));
}

/* ---- talking to the data plane ---- */

static int
ctl_open(struct ctl *x)
{
	if (x->c != NULL)
		return 0;
	char err[256];
	x->c = npr_client_open(x->shm, x->timeout_ms, err, sizeof(err));
	if (x->c == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return EXIT_NODP;
	}
	return 0;
}

/* Send one request and wait for its reply. Exit code: 0 (check rep->status), or 3. */
static int
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

static int
ctl_call_simple(struct ctl *x, uint16_t type, struct npr_reply *rep)
{
	struct npr_msg_hdr h = { .type = type, .len = sizeof(h) };
	return ctl_call(x, &h, rep, NULL, NULL);
}

/* A configuration message: sent now (exit code 1 if rejected) or queued in batch mode. */
static int
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

/* Each entry of a dump to fn, as it arrives. */
static int
ctl_dump(struct ctl *x, uint32_t kind, dump_entry_fn fn, void *ctx)
{
	struct dump_status st;
	int rc = ctl_open(x);
	if (rc != 0)
		return rc;
	return dump_result(x, dump_each(x->c, kind, fn, ctx, x->timeout_ms, &st), &st);
}

/* Every entry of a dump, in *vec (freed by the caller, also on error). */
static int
ctl_collect(struct ctl *x, uint32_t kind, struct dump_vec *vec)
{
	struct dump_status st;
	int rc = ctl_open(x);
	if (rc != 0) {
		memset(vec, 0, sizeof(*vec));
		return rc;
	}
	rc = dump_result(x, dump_collect(x->c, kind, vec, x->timeout_ms, &st), &st);
	if (rc == 0 && st.oom)
		rc = REJECTED(x, "out of memory");
	return rc;
}

/* The local copy of one kind of object: *arr and *n replaced by a fresh dump on success. */
static int
need_dump(struct ctl *x, bool *have, uint32_t kind, void *arrp, size_t *n)
{
	if (*have)
		return 0;
	struct dump_vec vec;
	int rc = ctl_collect(x, kind, &vec);
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

static int
need_ifaces(struct ctl *x)
{
	return need_dump(x, &x->have_ifaces, NPR_DUMP_IFACES, &x->ifaces, &x->n_ifaces);
}

static int
need_ports(struct ctl *x)
{
	return need_dump(x, &x->have_ports, NPR_DUMP_PORTS, &x->ports, &x->n_ports);
}

static int
need_nhs(struct ctl *x)
{
	return need_dump(x, &x->have_nhs, NPR_DUMP_NHS, &x->nhs, &x->n_nhs);
}

static void
info_entry(void *ctx, const void *entry)
{
	memcpy(ctx, entry, sizeof(struct npr_info));
}

static int
need_info(struct ctl *x)
{
	if (x->have_info)
		return 0;
	int rc = ctl_dump(x, NPR_DUMP_INFO, info_entry, &x->info);
	x->have_info = rc == 0;
	return rc;
}

/* ---- the local copy ---- */

static struct npr_dump_iface *
iface_by_name(struct ctl *x, const char *name)
{
	for (size_t i = 0; i < x->n_ifaces; i++)
		if (strncmp(x->ifaces[i].name, name, NPR_NAME_LEN) == 0)
			return &x->ifaces[i];
	return NULL;
}

static struct npr_dump_iface *
iface_by_id(struct ctl *x, uint16_t ifid)
{
	for (size_t i = 0; i < x->n_ifaces; i++)
		if (x->ifaces[i].ifid == ifid)
			return &x->ifaces[i];
	return NULL;
}

static const char *
iface_name(struct ctl *x, uint16_t ifid, char *buf, size_t len)
{
	const struct npr_dump_iface *ifc = iface_by_id(x, ifid);
	if (ifc == NULL)
		snprintf(buf, len, "if%u", ifid);
	else
		snprintf(buf, len, "%.*s", (int)NPR_NAME_LEN, ifc->name);
	return buf;
}

static struct npr_dump_port *
port_by_id(struct ctl *x, uint16_t id)
{
	for (size_t i = 0; i < x->n_ports; i++)
		if (x->ports[i].port_id == id)
			return &x->ports[i];
	return NULL;
}

static struct npr_dump_nh *
nh_by_id(struct ctl *x, uint32_t id)
{
	for (size_t i = 0; i < x->n_nhs; i++)
		if (x->nhs[i].nh_id == id)
			return &x->nhs[i];
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Lowest next hop id not in use, 0 if none is free. */
static uint32_t
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

static int
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

static int
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

static int
parse_id(struct ctl *x, const char *s, const char *what, uint32_t *id)
{
	uint64_t v;
	if (parse_uint(s, NPR_TARGET_ID_MASK, &v) < 0 || v == 0)
		return USAGE(x, "bad %s id '%s' (1..%u)", what, s != NULL ? s : "",
			     NPR_TARGET_ID_MASK);
	*id = (uint32_t)v;
	return 0;
}

static bool
mac_zero(const uint8_t *m)
{
	static const uint8_t z[6];
	return memcmp(m, z, 6) == 0;
}

static bool
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
static int
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

/* ---- interfaces ---- */

static int
cmd_iface_set(struct ctl *x, int argc, char **argv)
{
	if (argc < 1)
		return USAGE(x, "usage: interface set NAME port PORT [mac MAC] [mtu N] [up|down]");
	const char *name = argv[0];
	if (!valid_ifname(name))
		return USAGE(x, "bad interface name '%s' (1..%u of A-Z a-z 0-9 _ - . : @)", name,
			     NPR_NAME_LEN - 1);
	int rc = need_ifaces(x);
	if (rc == 0)
		rc = need_ports(x);
	if (rc != 0)
		return rc;

	const char *port_s = NULL;
	uint8_t mac[6] = { 0 };
	bool have_mac = false, have_mtu = false;
	uint64_t mtu = 0;
	int up = -1;
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i];
		if (strcmp(k, "up") == 0) {
			up = 1;
		} else if (strcmp(k, "down") == 0) {
			up = 0;
		} else if (i + 1 < argc && strcmp(k, "port") == 0) {
			port_s = argv[++i];
		} else if (i + 1 < argc && strcmp(k, "mac") == 0) {
			if (npr_parse_mac(argv[++i], mac) < 0)
				return USAGE(x, "bad MAC '%s' (aa:bb:cc:dd:ee:ff)", argv[i]);
			have_mac = true;
		} else if (i + 1 < argc && strcmp(k, "mtu") == 0) {
			if (parse_uint(argv[++i], 9000, &mtu) < 0 || mtu < 68)
				return USAGE(x, "bad MTU '%s' (68..9000)", argv[i]);
			have_mtu = true;
		} else {
			return USAGE(x, "unexpected '%s'", k);
		}
	}

	const struct npr_dump_iface *old = iface_by_name(x, name);
	const struct npr_dump_port *port = NULL;
	if (port_s != NULL) {
		uint64_t pid;
		if (parse_uint(port_s, UINT16_MAX, &pid) == 0) {
			port = port_by_id(x, (uint16_t)pid);
		} else {
			for (size_t i = 0; i < x->n_ports; i++)
				if (strncmp(x->ports[i].name, port_s, sizeof(x->ports[i].name)) ==
				    0)
					port = &x->ports[i];
		}
		if (port == NULL)
			return REJECTED(x, "no port '%s' (see show ports)", port_s);
	} else if (old != NULL) {
		port = port_by_id(x, old->port_id);
	} else {
		return USAGE(x, "a new interface needs port PORT");
	}

	struct npr_msg_iface_set m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_IFACE_SET;
	m.hdr.len = sizeof(m);
	m.port_id = port != NULL ? port->port_id : old->port_id;
	snprintf(m.name, sizeof(m.name), "%s", name);
	if (old != NULL) {
		/* unspecified settings keep their values */
		m.ifid = old->ifid;
		m.mtu = old->mtu;
		m.flags = old->flags;
		/* a MAC set earlier stays; the port's own MAC is asked for as zero, so that it
		 * follows the port */
		if (port == NULL || memcmp(old->mac, port->mac, sizeof(old->mac)) != 0)
			memcpy(m.mac, old->mac, sizeof(m.mac));
	} else {
		bool used[NPR_MAX_IFACES] = { false };
		for (size_t i = 0; i < x->n_ifaces; i++)
			if (x->ifaces[i].ifid < NPR_MAX_IFACES)
				used[x->ifaces[i].ifid] = true;
		unsigned id = 0;
		while (id < NPR_MAX_IFACES && used[id])
			id++;
		if (id == NPR_MAX_IFACES)
			return REJECTED(x, "no free interface id (%u in use)", NPR_MAX_IFACES);
		m.ifid = (uint16_t)id;
		m.flags = NPR_IFACE_F_UP; /* new interfaces start up unless told "down" */
	}
	if (have_mac)
		memcpy(m.mac, mac, sizeof(m.mac));
	if (have_mtu)
		m.mtu = (uint16_t)mtu;
	if (up == 1)
		m.flags |= NPR_IFACE_F_UP;
	else if (up == 0)
		m.flags &= (uint16_t)~NPR_IFACE_F_UP;

	rc = ctl_emit(x, &m);
	if (rc != 0)
		return rc;
	/* keep the local copy in step for later batch lines */
	struct npr_dump_iface *ifc = iface_by_name(x, name);
	if (ifc == NULL) {
		struct npr_dump_iface *a = realloc(x->ifaces, (x->n_ifaces + 1) * sizeof(*a));
		if (a == NULL)
			return REJECTED(x, "out of memory");
		x->ifaces = a;
		ifc = &x->ifaces[x->n_ifaces++];
	}
	memset(ifc, 0, sizeof(*ifc));
	ifc->ifid = m.ifid;
	ifc->port_id = m.port_id;
	ifc->mtu = m.mtu;
	ifc->flags = m.flags;
	memcpy(ifc->mac, mac_zero(m.mac) && port != NULL ? port->mac : m.mac, sizeof(ifc->mac));
	memcpy(ifc->name, m.name, NPR_NAME_LEN);
	return 0;
}

static int
cmd_iface_del(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: interface del NAME");
	uint16_t ifid;
	int rc = lookup_iface(x, argv[0], &ifid);
	if (rc != 0)
		return rc;
	struct npr_msg_iface_del m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_IFACE_DEL;
	m.hdr.len = sizeof(m);
	m.ifid = ifid;
	rc = ctl_emit(x, &m);
	if (rc != 0)
		return rc;
	struct npr_dump_iface *ifc = iface_by_id(x, ifid);
	*ifc = x->ifaces[--x->n_ifaces];
	return 0;
}

/* ---- addresses and neighbours ---- */

/* "dev NAME" as the only remaining words (plus "lladdr MAC" if mac != NULL). */
static int
parse_dev_lladdr(struct ctl *x, int argc, char **argv, uint16_t *ifid, uint8_t *mac, bool *have_mac)
{
	const char *dev = NULL;
	if (have_mac != NULL)
		*have_mac = false;
	for (int i = 0; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "dev") == 0) {
			dev = argv[++i];
		} else if (mac != NULL && i + 1 < argc && strcmp(argv[i], "lladdr") == 0) {
			if (npr_parse_mac(argv[++i], mac) < 0)
				return USAGE(x, "bad MAC '%s' (aa:bb:cc:dd:ee:ff)", argv[i]);
			*have_mac = true;
		} else {
			return USAGE(x, "unexpected '%s'", argv[i]);
		}
	}
	if (dev == NULL)
		return USAGE(x, "missing dev NAME");
	return lookup_iface(x, dev, ifid);
}

static int
bad_addr(struct ctl *x, const char *s)
{
	return USAGE(x, "bad address '%s'", s);
}

static int
cmd_addr(struct ctl *x, int argc, char **argv, uint16_t type)
{
	if (argc < 3)
		return USAGE(x, "usage: address add|del ADDR/LEN dev NAME");
	struct npr_msg_addr m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	int fam;
	if (npr_parse_ifaddr(argv[0], &fam, m.addr, &m.plen) < 0) {
		char why[128];
		return USAGE(x, "bad address '%s': %s", argv[0],
			     npr_prefix_strerror(argv[0], why, sizeof(why)));
	}
	m.family = (uint8_t)fam;
	int rc = parse_dev_lladdr(x, argc - 1, argv + 1, &m.ifid, NULL, NULL);
	if (rc != 0)
		return rc;
	return ctl_emit(x, &m);
}

static int
cmd_addr_add(struct ctl *x, int argc, char **argv)
{
	return cmd_addr(x, argc, argv, NPR_MSG_ADDR_ADD);
}

static int
cmd_addr_del(struct ctl *x, int argc, char **argv)
{
	return cmd_addr(x, argc, argv, NPR_MSG_ADDR_DEL);
}

static int
cmd_neigh(struct ctl *x, int argc, char **argv, uint16_t type)
{
	if (argc < 3)
		return USAGE(x, "usage: neighbor set ADDR dev NAME lladdr MAC | neighbor del ADDR "
				"dev NAME");
	struct npr_msg_neigh m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	int fam;
	if (npr_parse_addr(argv[0], &fam, m.addr) < 0)
		return bad_addr(x, argv[0]);
	m.family = (uint8_t)fam;
	bool have_mac;
	int rc = parse_dev_lladdr(x, argc - 1, argv + 1, &m.ifid,
				  type == NPR_MSG_NEIGH_SET ? m.mac : NULL, &have_mac);
	if (rc != 0)
		return rc;
	if (type == NPR_MSG_NEIGH_SET && !have_mac)
		return USAGE(x, "neighbor set needs lladdr MAC");
	return ctl_emit(x, &m);
}

static int
cmd_neigh_set(struct ctl *x, int argc, char **argv)
{
	return cmd_neigh(x, argc, argv, NPR_MSG_NEIGH_SET);
}

static int
cmd_neigh_del(struct ctl *x, int argc, char **argv)
{
	return cmd_neigh(x, argc, argv, NPR_MSG_NEIGH_DEL);
}

/* ---- next hops ---- */

static const char *const nh_kind_names[] = {
	[NPR_NH_FORWARD] = "forward",
	[NPR_NH_BLACKHOLE] = "blackhole",
	[NPR_NH_UNREACHABLE] = "unreachable",
	[NPR_NH_PROHIBIT] = "prohibit",
};

static const char *
nh_kind_name(unsigned kind)
{
	if (kind < sizeof(nh_kind_names) / sizeof(nh_kind_names[0]) && nh_kind_names[kind] != NULL)
		return nh_kind_names[kind];
	return "?";
}

static int
special_kind(const char *s)
{
	for (int k = NPR_NH_BLACKHOLE; k <= NPR_NH_PROHIBIT; k++)
		if (strcmp(s, nh_kind_names[k]) == 0)
			return k;
	return 0;
}

/* Fill the body of m (all but nh_id) from "via GW dev NAME [lladdr MAC]",
 * "dev NAME lladdr MAC" or "blackhole|unreachable|prohibit". */
static int
parse_nh_spec(struct ctl *x, int argc, char **argv, struct npr_msg_nh_set *m)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = NPR_MSG_NH_SET;
	m->hdr.len = sizeof(*m);
	if (argc == 1 && special_kind(argv[0]) != 0) {
		m->kind = (uint8_t)special_kind(argv[0]);
		return 0;
	}
	m->kind = NPR_NH_FORWARD;
	int i = 0;
	if (argc >= 2 && strcmp(argv[0], "via") == 0) {
		int fam;
		if (npr_parse_addr(argv[1], &fam, m->gw) < 0)
			return bad_addr(x, argv[1]);
		m->family = (uint8_t)fam;
		i = 2;
	}
	bool have_mac;
	int rc = parse_dev_lladdr(x, argc - i, argv + i, &m->ifid, m->mac, &have_mac);
	if (rc != 0)
		return rc;
	if (have_mac)
		m->flags |= NPR_NH_F_MAC;
	if (m->family == 0 && !have_mac)
		return USAGE(x, "a next hop without a gateway needs lladdr MAC");
	return 0;
}

static int
cmd_nh_set(struct ctl *x, int argc, char **argv)
{
	if (argc < 2)
		return USAGE(x, "usage: nexthop set ID (via GW dev NAME [lladdr MAC] | dev NAME "
				"lladdr MAC | blackhole | unreachable | prohibit)");
	uint32_t id;
	int rc = parse_id(x, argv[0], "next hop", &id);
	if (rc != 0)
		return rc;
	struct npr_msg_nh_set m;
	rc = parse_nh_spec(x, argc - 1, argv + 1, &m);
	if (rc != 0)
		return rc;
	m.nh_id = id;
	rc = need_nhs(x);
	if (rc == 0)
		rc = ctl_emit(x, &m);
	if (rc == 0)
		rc = nh_cache_set(x, &m);
	return rc;
}

static int
cmd_id_del(struct ctl *x, int argc, char **argv, uint16_t type, const char *what)
{
	if (argc != 1)
		return USAGE(x, "usage: %s del ID", what);
	uint32_t id;
	int rc = parse_id(x, argv[0], what, &id);
	if (rc != 0)
		return rc;
	struct npr_msg_id m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = sizeof(m);
	m.id = id;
	return ctl_emit(x, &m);
}

static int
cmd_nh_del(struct ctl *x, int argc, char **argv)
{
	int rc = need_nhs(x);
	if (rc == 0)
		rc = cmd_id_del(x, argc, argv, NPR_MSG_NH_DEL, "nexthop");
	if (rc == 0) {
		struct npr_dump_nh *nh = nh_by_id(x, (uint32_t)strtoul(argv[0], NULL, 10));
		if (nh != NULL)
			*nh = x->nhs[--x->n_nhs];
	}
	return rc;
}

/* A next hop equal to the spec: the same kind, and for FORWARD the same interface, gateway
 * and MAC setting. 0 if none. */
static uint32_t
nh_find(struct ctl *x, const struct npr_msg_nh_set *m)
{
	for (size_t i = 0; i < x->n_nhs; i++) {
		const struct npr_dump_nh *nh = &x->nhs[i];
		if (nh->kind != m->kind)
			continue;
		if (m->kind != NPR_NH_FORWARD)
			return nh->nh_id;
		if (nh->ifid != m->ifid || nh->family != m->family ||
		    (nh->family != 0 && memcmp(nh->gw, m->gw, sizeof(nh->gw)) != 0) ||
		    (nh->flags & NPR_NH_F_MAC) != (m->flags & NPR_NH_F_MAC) ||
		    ((m->flags & NPR_NH_F_MAC) && memcmp(nh->mac, m->mac, sizeof(nh->mac)) != 0))
			continue;
		return nh->nh_id;
	}
	return 0;
}

/* ---- groups ---- */

static int
cmd_group_set(struct ctl *x, int argc, char **argv)
{
	if (argc < 2)
		return USAGE(x, "usage: group set ID NH[:WEIGHT] [NH[:WEIGHT] ...]");
	uint32_t id;
	int rc = parse_id(x, argv[0], "group", &id);
	if (rc != 0)
		return rc;
	unsigned n = (unsigned)argc - 1;
	if (n > NPR_GROUP_MAX_MEMBERS)
		return USAGE(x, "%u members: at most %u", n, NPR_GROUP_MAX_MEMBERS);
	size_t len = sizeof(struct npr_msg_group_set) + n * sizeof(struct npr_group_member);
	struct npr_msg_group_set *m = calloc(1, len);
	if (m == NULL)
		return REJECTED(x, "out of memory");
	m->hdr.type = NPR_MSG_GROUP_SET;
	m->hdr.len = (uint32_t)len;
	m->group_id = id;
	m->n_members = (uint16_t)n;
	unsigned slots = 0;
	for (unsigned i = 0; i < n; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", argv[1 + i]);
		char *colon = strchr(buf, ':');
		uint64_t w = 1;
		if (colon != NULL) {
			*colon = '\0';
			if (parse_uint(colon + 1, NPR_GROUP_MAX_WEIGHT, &w) < 0 || w == 0) {
				free(m);
				return USAGE(x, "bad weight in '%s' (1..%u)", argv[1 + i],
					     NPR_GROUP_MAX_WEIGHT);
			}
		}
		rc = parse_id(x, buf, "next hop", &m->members[i].nh_id);
		if (rc != 0) {
			free(m);
			return rc;
		}
		m->members[i].weight = (uint16_t)w;
		slots += (unsigned)w;
	}
	if (slots > NPR_GROUP_MAX_SLOTS) {
		free(m);
		return USAGE(x, "weights add up to %u: at most %u", slots, NPR_GROUP_MAX_SLOTS);
	}
	rc = ctl_emit(x, m);
	free(m);
	return rc;
}

static int
cmd_group_del(struct ctl *x, int argc, char **argv)
{
	return cmd_id_del(x, argc, argv, NPR_MSG_GROUP_DEL, "group");
}

/* ---- routes ---- */

/* Human description of a route target: "via 192.0.2.2 dev port1 (nexthop 3)". */
static const char *
describe_target(struct ctl *x, uint32_t target, char *buf, size_t len)
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
	const struct npr_dump_nh *nh = nh_by_id(x, id);
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

static int
route_msg(struct ctl *x, int fam, const uint8_t *addr, uint8_t plen, uint32_t target,
	  uint16_t type4, uint16_t type6)
{
	union {
		struct npr_msg_route4 m4;
		struct npr_msg_route6 m6;
		uint8_t raw[sizeof(struct npr_msg_route6) + sizeof(struct npr_route6)];
	} u;
	memset(&u, 0, sizeof(u));
	if (fam == NPR_AF_INET) {
		u.m4.hdr.type = type4;
		u.m4.hdr.len = (sizeof(u.m4) + sizeof(struct npr_route4) + 7) & ~7u;
		u.m4.count = 1;
		memcpy(&u.m4.r[0].prefix, addr, sizeof(u.m4.r[0].prefix));
		u.m4.r[0].plen = plen;
		u.m4.r[0].target = target;
	} else {
		u.m6.hdr.type = type6;
		u.m6.hdr.len = sizeof(u.m6) + sizeof(struct npr_route6);
		u.m6.count = 1;
		memcpy(u.m6.r[0].prefix, addr, sizeof(u.m6.r[0].prefix));
		u.m6.r[0].plen = plen;
		u.m6.r[0].target = target;
	}
	return ctl_emit(x, &u);
}

static int
parse_route_prefix(struct ctl *x, const char *s, int *fam, uint8_t addr[16], uint8_t *plen)
{
	if (npr_parse_prefix(s, fam, addr, plen) < 0) {
		char why[128];
		return USAGE(x, "bad prefix '%s': %s", s, npr_prefix_strerror(s, why, sizeof(why)));
	}
	return 0;
}

static int
cmd_route_set(struct ctl *x, int argc, char **argv, bool replace)
{
	if (argc < 2)
		return USAGE(x,
			     "usage: route add|replace PREFIX (nexthop ID | group ID | via GW dev "
			     "NAME [lladdr MAC] | blackhole | unreachable | prohibit)");
	int fam;
	uint8_t addr[16], plen;
	int rc = parse_route_prefix(x, argv[0], &fam, addr, &plen);
	if (rc != 0)
		return rc;
	uint32_t target;
	if (strcmp(argv[1], "nexthop") == 0 || strcmp(argv[1], "group") == 0) {
		if (argc != 3)
			return USAGE(x, "usage: route add PREFIX %s ID", argv[1]);
		rc = parse_id(x, argv[2], argv[1][0] == 'n' ? "next hop" : "group", &target);
		if (rc != 0)
			return rc;
		if (argv[1][0] == 'g')
			target |= NPR_TARGET_GROUP;
	} else {
		/* an inline next hop: reuse an equal one, or create one with the lowest free id */
		struct npr_msg_nh_set m;
		rc = parse_nh_spec(x, argc - 1, argv + 1, &m);
		if (rc == 0)
			rc = need_nhs(x);
		if (rc == 0)
			rc = need_info(x);
		if (rc != 0)
			return rc;
		target = nh_find(x, &m);
		if (target == 0) {
			m.nh_id = nh_free_id(x);
			if (m.nh_id == 0)
				return REJECTED(x, "no free next hop id (%u in use)",
						x->info.nh_max);
			rc = ctl_emit(x, &m);
			if (rc == 0)
				rc = nh_cache_set(x, &m);
			if (rc != 0)
				return rc;
			target = m.nh_id;
			x->created_nh = m.nh_id;
		}
	}
	return route_msg(x, fam, addr, plen, target,
			 replace ? NPR_MSG_ROUTE4_REPLACE : NPR_MSG_ROUTE4_ADD,
			 replace ? NPR_MSG_ROUTE6_REPLACE : NPR_MSG_ROUTE6_ADD);
}

static int
cmd_route_add(struct ctl *x, int argc, char **argv)
{
	return cmd_route_set(x, argc, argv, false);
}

static int
cmd_route_replace(struct ctl *x, int argc, char **argv)
{
	return cmd_route_set(x, argc, argv, true);
}

static int
cmd_route_del(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: route del PREFIX");
	int fam;
	uint8_t addr[16], plen;
	int rc = parse_route_prefix(x, argv[0], &fam, addr, &plen);
	if (rc != 0)
		return rc;
	return route_msg(x, fam, addr, plen, 0, NPR_MSG_ROUTE4_DEL, NPR_MSG_ROUTE6_DEL);
}

static int
cmd_route_get(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: route get ADDR");
	struct npr_msg_lookup m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = NPR_MSG_LOOKUP;
	m.hdr.len = sizeof(m);
	int fam;
	if (npr_parse_addr(argv[0], &fam, m.addr) < 0)
		return bad_addr(x, argv[0]);
	m.family = (uint8_t)fam;
	struct npr_reply rep;
	int rc = ctl_call(x, &m, &rep, NULL, NULL);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	uint32_t target = (uint32_t)rep.value;
	char a[INET6_ADDRSTRLEN], desc[160];
	npr_format_addr(fam, m.addr, a, sizeof(a));
	if (target != 0) {
		rc = need_nhs(x);
		if (rc == 0)
			rc = need_ifaces(x);
		if (rc != 0)
			return rc;
		describe_target(x, target, desc, sizeof(desc));
	}
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "address", a);
		json_kv_bool(&x->j, "found", target != 0);
		if (target != 0) {
			json_kv_u64(&x->j, "target", target);
			json_kv_str(&x->j, "description", desc);
		}
		json_obj_end(&x->j);
	} else if (target == 0) {
		printf("%s: no route\n", a);
	} else {
		printf("%s %s\n", a, desc);
	}
	return 0;
}

/* ---- route load ---- */

static int
cmd_route_load(struct ctl *x, int argc, char **argv)
{
	static struct load_opts o;
	char why[160];
	if (load_parse_args(argc, argv, &o, why, sizeof(why)) < 0)
		return USAGE(x,
			     "%s (usage: route load FILE [--nexthops ID[,ID...]] [--batch] "
			     "[--replace])",
			     why);
	struct load_table t;
	struct load_result res = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = load_parse_file(&o, &t, stderr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res.parse_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (rc < 0) {
		size_t n_bad = t.n_bad;
		load_table_free(&t);
		if (rc == -EINVAL)
			return USAGE(x, "%zu bad line%s, nothing sent", n_bad,
				     n_bad == 1 ? "" : "s");
		return EXIT_USAGE; /* load_parse_file said why */
	}
	rc = ctl_open(x);
	if (rc == 0)
		rc = load_push(x->c, &o, &t, x->timeout_ms, &res, stderr);
	load_table_free(&t);
	if (rc != 0)
		return rc;
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "routes", res.n4 + res.n6);
		json_kv_u64(&x->j, "ipv4", res.n4);
		json_kv_u64(&x->j, "ipv6", res.n6);
		json_kv_double(&x->j, "parse_s", res.parse_s);
		json_kv_double(&x->j, "push_s", res.push_s);
		json_kv_double(&x->j, "routes_per_s",
			       res.push_s > 0 ? (double)(res.n4 + res.n6) / res.push_s : 0);
		json_obj_end(&x->j);
	} else {
		load_print_summary(stdout, &res);
	}
	return 0;
}

/* ---- show ---- */

static void
show_port_entry(struct ctl *x, const struct npr_dump_port *p)
{
	char mac[NPR_MAC_STRLEN];
	char ifs[128] = "";
	for (size_t i = 0; i < x->n_ifaces; i++) {
		if (x->ifaces[i].port_id != p->port_id)
			continue;
		size_t n = strlen(ifs);
		snprintf(ifs + n, sizeof(ifs) - n, "%s%.*s", n > 0 ? "," : "", (int)NPR_NAME_LEN,
			 x->ifaces[i].name);
	}
	npr_format_mac(p->mac, mac);
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "port_id", p->port_id);
		char name[sizeof(p->name) + 1];
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(p->name), p->name);
		json_kv_str(&x->j, "name", name);
		json_kv_u64(&x->j, "n_rxq", p->n_rxq);
		json_kv_u64(&x->j, "n_txq", p->n_txq);
		json_kv_str(&x->j, "mac", mac);
		json_obj_end(&x->j);
	} else {
		printf("%-5u %-24.*s %-4u %-4u %-18s %s\n", p->port_id, (int)sizeof(p->name),
		       p->name, p->n_rxq, p->n_txq, mac, ifs[0] != '\0' ? ifs : "-");
	}
}

static int
show_ports(struct ctl *x)
{
	int rc = need_ports(x);
	if (rc == 0)
		rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		printf("%-5s %-24s %-4s %-4s %-18s %s\n", "PORT", "DEVICE", "RXQ", "TXQ", "MAC",
		       "INTERFACES");
	for (size_t i = 0; i < x->n_ports; i++)
		show_port_entry(x, &x->ports[i]);
	if (x->json_out)
		json_arr_end(&x->j);
	return 0;
}

static int
show_ifaces(struct ctl *x)
{
	int rc = need_ifaces(x);
	if (rc == 0)
		rc = need_ports(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		printf("%-4s %-16s %-5s %-20s %-18s %-5s %s\n", "ID", "NAME", "PORT", "DEVICE",
		       "MAC", "MTU", "STATE");
	for (size_t i = 0; i < x->n_ifaces; i++) {
		const struct npr_dump_iface *f = &x->ifaces[i];
		const struct npr_dump_port *p = port_by_id(x, f->port_id);
		char mac[NPR_MAC_STRLEN], name[NPR_NAME_LEN + 1], dev[64];
		npr_format_mac(f->mac, mac);
		snprintf(name, sizeof(name), "%.*s", (int)NPR_NAME_LEN, f->name);
		snprintf(dev, sizeof(dev), "%.*s", p != NULL ? (int)sizeof(p->name) : 1,
			 p != NULL ? p->name : "?");
		bool up = f->flags & NPR_IFACE_F_UP;
		if (x->json_out) {
			json_obj_begin(&x->j);
			json_kv_u64(&x->j, "id", f->ifid);
			json_kv_str(&x->j, "name", name);
			json_kv_u64(&x->j, "port_id", f->port_id);
			json_kv_str(&x->j, "device", dev);
			json_kv_str(&x->j, "mac", mac);
			json_kv_u64(&x->j, "mtu", f->mtu);
			json_kv_bool(&x->j, "up", up);
			json_obj_end(&x->j);
		} else {
			printf("%-4u %-16s %-5u %-20s %-18s %-5u %s\n", f->ifid, name, f->port_id,
			       dev, mac, f->mtu, up ? "up" : "down");
		}
	}
	if (x->json_out)
		json_arr_end(&x->j);
	return 0;
}

static void
show_addr_entry(void *ctx, const void *e)
{
	struct ctl *x = ctx;
	const struct npr_dump_addr *a = e;
	char p[NPR_PREFIX_STRLEN], dev[NPR_NAME_LEN + 8];
	npr_format_prefix(a->family, a->addr, a->plen, p, sizeof(p));
	iface_name(x, a->ifid, dev, sizeof(dev));
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "address", p);
		json_kv_u64(&x->j, "family", a->family);
		json_kv_str(&x->j, "dev", dev);
		json_kv_u64(&x->j, "ifid", a->ifid);
		json_obj_end(&x->j);
	} else {
		printf("%-44s %s\n", p, dev);
	}
}

static void
show_neigh_any(struct ctl *x, const struct npr_dump_neigh *n, bool learnt)
{
	char a[INET6_ADDRSTRLEN], dev[NPR_NAME_LEN + 8], mac[NPR_MAC_STRLEN];
	npr_format_addr(n->family, n->addr, a, sizeof(a));
	iface_name(x, n->ifid, dev, sizeof(dev));
	npr_format_mac(n->mac, mac);
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "address", a);
		json_kv_u64(&x->j, "family", n->family);
		json_kv_str(&x->j, "dev", dev);
		json_kv_str(&x->j, "lladdr", mac);
		if (learnt)
			json_kv_bool(&x->j, "learnt", true);
		json_obj_end(&x->j);
	} else {
		printf("%-40s %-16s %s%s\n", a, dev, mac, learnt ? "  learnt" : "");
	}
}

static void
show_neigh_entry(void *ctx, const void *e)
{
	show_neigh_any(ctx, e, false);
}

static void
show_learnt_entry(void *ctx, const void *e)
{
	show_neigh_any(ctx, e, true);
}

/* Configured neighbours, then those the data plane learnt (ARP / ND). */
static int
show_neighs(struct ctl *x)
{
	int rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		puts("ADDRESS                                  DEV              LLADDR");
	rc = ctl_dump(x, NPR_DUMP_NEIGHS, show_neigh_entry, x);
	if (rc == 0) {
		struct dump_status st;
		rc = dump_each(x->c, NPR_DUMP_NEIGHS_LEARNT, show_learnt_entry, x, x->timeout_ms,
			       &st);
		/* a data plane without the kind (EINVAL) has nothing learnt to show; chunks that
		 * do not add up are skipped */
		if (rc < 0)
			rc = client_error(x, rc);
		else if (st.rep.status != 0 && st.rep.status != -EINVAL)
			rc = reply_error(x, &st.rep);
	}
	if (x->json_out)
		json_arr_end(&x->j);
	return rc;
}

static int
show_nhs(struct ctl *x)
{
	int rc = need_nhs(x);
	if (rc == 0)
		rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->n_nhs > 1) /* nh_id is the first member */
		qsort(x->nhs, x->n_nhs, sizeof(*x->nhs), cmp_u32);
	if (x->json_out)
		json_arr_begin(&x->j);
	else
		printf("%-8s %-12s %-40s %-16s %-26s %s\n", "ID", "KIND", "GATEWAY", "DEV",
		       "LLADDR", "REFS");
	for (size_t i = 0; i < x->n_nhs; i++) {
		const struct npr_dump_nh *nh = &x->nhs[i];
		bool fwd = nh->kind == NPR_NH_FORWARD;
		char gw[INET6_ADDRSTRLEN] = "-", dev[NPR_NAME_LEN + 8] = "-", mac[40] = "-";
		if (nh->family != 0)
			npr_format_addr(nh->family, nh->gw, gw, sizeof(gw));
		if (fwd) {
			iface_name(x, nh->ifid, dev, sizeof(dev));
			if (nh->flags & (NPR_NH_F_MAC | NPR_NH_F_RESOLVED))
				npr_format_mac(nh->mac, mac);
			else
				snprintf(mac, sizeof(mac), "unresolved");
			if (nh->flags & NPR_NH_F_MAC)
				strcat(mac, " (static)");
		}
		if (x->json_out) {
			json_obj_begin(&x->j);
			json_kv_u64(&x->j, "id", nh->nh_id);
			json_kv_str(&x->j, "kind", nh_kind_name(nh->kind));
			if (nh->family != 0)
				json_kv_str(&x->j, "gateway", gw);
			if (fwd) {
				json_kv_str(&x->j, "dev", dev);
				json_kv_u64(&x->j, "ifid", nh->ifid);
				json_kv_bool(&x->j, "resolved",
					     nh->flags & (NPR_NH_F_MAC | NPR_NH_F_RESOLVED));
				json_kv_bool(&x->j, "static_mac", nh->flags & NPR_NH_F_MAC);
				if (nh->flags & (NPR_NH_F_MAC | NPR_NH_F_RESOLVED)) {
					char m[NPR_MAC_STRLEN];
					json_kv_str(&x->j, "lladdr", npr_format_mac(nh->mac, m));
				}
			}
			json_kv_u64(&x->j, "refcnt", nh->refcnt);
			json_obj_end(&x->j);
		} else {
			printf("%-8" PRIu32 " %-12s %-40s %-16s %-26s %" PRIu32 "\n", nh->nh_id,
			       nh_kind_name(nh->kind), gw, dev, mac, nh->refcnt);
		}
	}
	if (x->json_out)
		json_arr_end(&x->j);
	return 0;
}

static void
show_group_entry(void *ctx, const void *e)
{
	struct ctl *x = ctx;
	const struct npr_dump_group *g = e;
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "id", g->group_id);
		json_kv_u64(&x->j, "refcnt", g->refcnt);
		json_key(&x->j, "members");
		json_arr_begin(&x->j);
		for (unsigned i = 0; i < g->n_members; i++) {
			json_obj_begin(&x->j);
			json_kv_u64(&x->j, "nexthop", g->members[i].nh_id);
			json_kv_u64(&x->j, "weight", g->members[i].weight);
			json_obj_end(&x->j);
		}
		json_arr_end(&x->j);
		json_obj_end(&x->j);
		return;
	}
	printf("%-8" PRIu32 " %-6" PRIu32, g->group_id, g->refcnt);
	for (unsigned i = 0; i < g->n_members; i++)
		printf(" %" PRIu32 ":%u", g->members[i].nh_id, g->members[i].weight);
	putchar('\n');
}

static void
show_route_entry(struct ctl *x, int fam, const uint8_t *prefix, uint8_t plen, uint32_t target)
{
	char p[NPR_PREFIX_STRLEN], desc[160];
	npr_format_prefix(fam, prefix, plen, p, sizeof(p));
	describe_target(x, target, desc, sizeof(desc));
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_str(&x->j, "prefix", p);
		json_kv_u64(&x->j, "target", target);
		if ((target & NPR_TARGET_LOCAL) && (target & NPR_TARGET_CONNECTED)) {
			char dev[NPR_NAME_LEN + 8];
			json_kv_bool(&x->j, "local", true); /* the router's own, as the flags say */
			json_kv_bool(&x->j, "connected", true);
			json_kv_str(&x->j, "dev",
				    iface_name(x, target & 0xffffu, dev, sizeof(dev)));
		} else if (target & NPR_TARGET_LOCAL)
			json_kv_bool(&x->j, "local", true);
		else if (target & NPR_TARGET_GROUP)
			json_kv_u64(&x->j, "group", target & NPR_TARGET_ID_MASK);
		else
			json_kv_u64(&x->j, "nexthop", target & NPR_TARGET_ID_MASK);
		json_obj_end(&x->j);
	} else {
		printf("%s %s\n", p, desc);
	}
}

static void
show_route4_entry(void *ctx, const void *e)
{
	const struct npr_route4 *r = e;
	show_route_entry(ctx, NPR_AF_INET, (const uint8_t *)&r->prefix, r->plen, r->target);
}

static void
show_route6_entry(void *ctx, const void *e)
{
	const struct npr_route6 *r = e;
	show_route_entry(ctx, NPR_AF_INET6, r->prefix, r->plen, r->target);
}

static int
show_stream(struct ctl *x, uint32_t kind, dump_entry_fn fn, const char *header)
{
	int rc = need_ifaces(x);
	if (rc != 0)
		return rc;
	if (x->json_out)
		json_arr_begin(&x->j);
	else if (header != NULL)
		puts(header);
	rc = ctl_dump(x, kind, fn, x);
	if (x->json_out)
		json_arr_end(&x->j);
	return rc;
}

static int
cmp_route4(const void *a, const void *b)
{
	const struct npr_route4 *x = a, *y = b;
	uint32_t px = ntohl(x->prefix), py = ntohl(y->prefix);
	if (px != py)
		return px < py ? -1 : 1;
	return (int)x->plen - (int)y->plen;
}

static int
cmp_route6(const void *a, const void *b)
{
	const struct npr_route6 *x = a, *y = b;
	int c = memcmp(x->prefix, y->prefix, sizeof(x->prefix));
	return c != 0 ? c : (int)x->plen - (int)y->plen;
}

/* Routes come in the data plane's hash order: collect and sort them, so that the output is
 * the same for the same table (a struct npr_route4 or npr_route6 a route: 1M IPv4 routes are
 * 12 MB). */
static int
show_routes(struct ctl *x, int which)
{
	struct dump_vec v4 = { 0 }, v6 = { 0 };
	int rc = need_nhs(x);
	if (rc == 0)
		rc = need_ifaces(x);
	if (rc == 0 && which != 6)
		rc = ctl_collect(x, NPR_DUMP_ROUTES4, &v4);
	if (rc == 0 && which != 4)
		rc = ctl_collect(x, NPR_DUMP_ROUTES6, &v6);
	if (rc == 0) {
		struct npr_route4 *r4 = v4.v;
		struct npr_route6 *r6 = v6.v;
		if (v4.n > 1)
			qsort(r4, v4.n, sizeof(*r4), cmp_route4);
		if (v6.n > 1)
			qsort(r6, v6.n, sizeof(*r6), cmp_route6);
		if (x->json_out)
			json_arr_begin(&x->j);
		for (size_t i = 0; i < v4.n; i++)
			show_route4_entry(x, &r4[i]);
		for (size_t i = 0; i < v6.n; i++)
			show_route6_entry(x, &r6[i]);
		if (x->json_out)
			json_arr_end(&x->j);
	}
	dump_vec_free(&v4);
	dump_vec_free(&v6);
	return rc;
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

static int
show_stats(struct ctl *x)
{
	static struct npr_stats st;
	struct stats_ctx sc = { .st = &st };
	struct dump_status ds;
	int rc = ctl_open(x);
	if (rc != 0)
		return rc;
	rc = dump_each(x->c, NPR_DUMP_STATS, stats_entry, &sc, x->timeout_ms, &ds);
	if (rc < 0)
		return client_error(x, rc);
	if (ds.rep.status != 0)
		return reply_error(x, &ds.rep);
	if (!sc.got || ds.n_bad > 0)
		return REJECTED(x, "the data plane sent no statistics");
	rc = need_ports(x);
	if (rc != 0)
		return rc;

	unsigned np = st.n_ports < NPR_MAX_PORTS ? st.n_ports : NPR_MAX_PORTS;
	unsigned nw = st.n_workers < NPR_MAX_WORKERS ? st.n_workers : NPR_MAX_WORKERS;
	uint64_t drop[NPR_DROP_MAX] = { 0 }, exc[NPR_EXC_MAX] = { 0 }, drop_total = 0,
		 exc_total = 0;
	for (unsigned w = 0; w < nw; w++) {
		for (unsigned i = 0; i < NPR_DROP_MAX; i++)
			drop[i] += st.worker[w].drop[i];
		for (unsigned i = 0; i < NPR_EXC_MAX; i++)
			exc[i] += st.worker[w].exc[i];
	}
	for (unsigned i = 0; i < NPR_DROP_MAX; i++)
		drop_total += drop[i];
	for (unsigned i = 0; i < NPR_EXC_MAX; i++)
		exc_total += exc[i];

	if (x->json_out) {
		struct json *j = &x->j;
		json_obj_begin(j);
		json_kv_u64(j, "uptime_ns", st.uptime_ns);
		json_kv_u64(j, "tsc_hz", st.tsc_hz);
		json_kv_u64(j, "exc_handled", st.exc_handled);
		json_kv_u64(j, "msgs_ok", st.msgs_ok);
		json_kv_u64(j, "msgs_err", st.msgs_err);
		json_kv_u64(j, "ring_resets", st.ring_resets);
		json_key(j, "ports");
		json_arr_begin(j);
		for (unsigned i = 0; i < np; i++) {
			const struct npr_port_stats *p = &st.port[i];
			json_obj_begin(j);
			json_kv_u64(j, "port_id", p->port_id);
			json_kv_u64(j, "ipackets", p->ipackets);
			json_kv_u64(j, "opackets", p->opackets);
			json_kv_u64(j, "ibytes", p->ibytes);
			json_kv_u64(j, "obytes", p->obytes);
			json_kv_u64(j, "imissed", p->imissed);
			json_kv_u64(j, "ierrors", p->ierrors);
			json_kv_u64(j, "oerrors", p->oerrors);
			json_kv_u64(j, "rx_nombuf", p->rx_nombuf);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_key(j, "workers");
		json_arr_begin(j);
		for (unsigned w = 0; w < nw; w++) {
			const struct npr_worker_stats *ws = &st.worker[w];
			json_obj_begin(j);
			json_kv_u64(j, "lcore", ws->lcore_id);
			json_kv_u64(j, "rx_pkts", ws->rx_pkts);
			json_kv_u64(j, "tx_pkts", ws->tx_pkts);
			json_kv_u64(j, "fwd4_pkts", ws->fwd4_pkts);
			json_kv_u64(j, "fwd6_pkts", ws->fwd6_pkts);
			json_kv_u64(j, "polls", ws->polls);
			json_kv_u64(j, "busy_polls", ws->busy_polls);
			json_kv_u64(j, "inject_pkts", ws->inject_pkts);
			json_key(j, "drops");
			json_obj_begin(j);
			for (unsigned i = 0; i < NPR_DROP_MAX; i++)
				json_kv_u64(j, npr_drop_name(i), ws->drop[i]);
			json_obj_end(j);
			json_key(j, "exceptions");
			json_obj_begin(j);
			for (unsigned i = 0; i < NPR_EXC_MAX; i++)
				json_kv_u64(j, npr_exc_name(i), ws->exc[i]);
			json_obj_end(j);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_key(j, "drops");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_DROP_MAX; i++)
			json_kv_u64(j, npr_drop_name(i), drop[i]);
		json_obj_end(j);
		json_kv_u64(j, "drops_total", drop_total);
		json_key(j, "exceptions");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_EXC_MAX; i++)
			json_kv_u64(j, npr_exc_name(i), exc[i]);
		json_obj_end(j);
		json_kv_u64(j, "exceptions_total", exc_total);
		json_key(j, "slowpath");
		json_obj_begin(j);
		for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
			json_kv_u64(j, npr_slow_name(i), st.slow[i]);
		json_obj_end(j);
		json_obj_end(j);
		return 0;
	}

	printf("uptime %.1f s; messages applied %" PRIu64 ", rejected %" PRIu64
	       "; exceptions handled %" PRIu64 "; ring resets %" PRIu64 "\n\n",
	       (double)st.uptime_ns * 1e-9, st.msgs_ok, st.msgs_err, st.exc_handled,
	       st.ring_resets);
	printf("%-5s %-16s %14s %14s %12s %12s %12s %12s\n", "PORT", "DEVICE", "RX", "TX",
	       "RX-MISSED", "RX-ERRORS", "TX-ERRORS", "RX-NOMBUF");
	uint64_t sum[6] = { 0 };
	for (unsigned i = 0; i < np; i++) {
		const struct npr_port_stats *p = &st.port[i];
		const struct npr_dump_port *dp = port_by_id(x, p->port_id);
		printf("%-5u %-16.*s %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %12" PRIu64 "\n",
		       p->port_id, 16, dp != NULL ? dp->name : "?", p->ipackets, p->opackets,
		       p->imissed, p->ierrors, p->oerrors, p->rx_nombuf);
		uint64_t v[sizeof(sum) / sizeof(sum[0])] = {
			p->ipackets, p->opackets, p->imissed, p->ierrors, p->oerrors, p->rx_nombuf
		};
		for (size_t k = 0; k < sizeof(sum) / sizeof(sum[0]); k++)
			sum[k] += v[k];
	}
	printf("%-22s %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
	       " %12" PRIu64 "\n\n",
	       "total", sum[0], sum[1], sum[2], sum[3], sum[4], sum[5]);

	printf("%-7s %-6s %14s %14s %14s %14s %6s\n", "WORKER", "LCORE", "RX", "TX", "FORWARDED4",
	       "FORWARDED6", "BUSY%");
	uint64_t wsum[4] = { 0 };
	for (unsigned w = 0; w < nw; w++) {
		const struct npr_worker_stats *ws = &st.worker[w];
		double busy =
			ws->polls > 0 ? 100.0 * (double)ws->busy_polls / (double)ws->polls : 0;
		printf("%-7u %-6" PRIu32 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64
		       " %6.1f\n",
		       w, ws->lcore_id, ws->rx_pkts, ws->tx_pkts, ws->fwd4_pkts, ws->fwd6_pkts,
		       busy);
		wsum[0] += ws->rx_pkts;
		wsum[1] += ws->tx_pkts;
		wsum[2] += ws->fwd4_pkts;
		wsum[3] += ws->fwd6_pkts;
	}
	printf("%-14s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n\n", "total",
	       wsum[0], wsum[1], wsum[2], wsum[3]);

	printf("drops:\n");
	for (unsigned i = 0; i < NPR_DROP_MAX; i++)
		if (drop[i] != 0)
			printf("  %-16s %14" PRIu64 "  %s\n", npr_drop_name(i), drop[i],
			       npr_drop_text(i));
	printf("  %-16s %14" PRIu64 "\n", "total", drop_total);
	printf("exceptions:\n");
	for (unsigned i = 0; i < NPR_EXC_MAX; i++)
		if (exc[i] != 0)
			printf("  %-16s %14" PRIu64 "  %s\n", npr_exc_name(i), exc[i],
			       npr_exc_text(i));
	printf("  %-16s %14" PRIu64 "\n", "total", exc_total);
	uint64_t inj = 0;
	for (unsigned w = 0; w < nw; w++)
		inj += st.worker[w].inject_pkts;
	printf("slow path (ARP, ND, ICMP; %" PRIu64 " packets sent through the workers):\n", inj);
	for (unsigned i = 0; i < NPR_SLOW_MAX; i++)
		if (st.slow[i] != 0)
			printf("  %-18s %12" PRIu64 "  %s\n", npr_slow_name(i), st.slow[i],
			       npr_slow_text(i));
	return 0;
}

static int
show_info(struct ctl *x)
{
	int rc = need_info(x);
	if (rc != 0)
		return rc;
	const struct npr_info *in = &x->info;
	if (x->json_out) {
		struct json *j = &x->j;
		json_obj_begin(j);
		json_kv_u64(j, "instance_id", in->instance_id);
		json_kv_u64(j, "abi_version", in->abi_version);
		json_kv_u64(j, "n_ports", in->n_ports);
		json_kv_u64(j, "n_workers", in->n_workers);
		json_kv_u64(j, "n_ifaces", in->n_ifaces);
		json_kv_u64(j, "nh_max", in->nh_max);
		json_kv_u64(j, "group_max", in->group_max);
		json_kv_u64(j, "route4_max", in->route4_max);
		json_kv_u64(j, "route6_max", in->route6_max);
		json_kv_u64(j, "route4_count", in->route4_count);
		json_kv_u64(j, "route6_count", in->route6_count);
		json_kv_u64(j, "fib4_bytes", in->fib4_bytes);
		json_kv_u64(j, "fib6_bytes", in->fib6_bytes);
		json_kv_u64(j, "uptime_ns", in->uptime_ns);
		json_obj_end(j);
		return 0;
	}
	printf("instance     %016" PRIx64 "\n", in->instance_id);
	printf("ABI version  %" PRIu32 " (this control: %u)\n", in->abi_version, NPR_ABI_VERSION);
	printf("uptime       %.1f s\n", (double)in->uptime_ns * 1e-9);
	printf("ports        %" PRIu32 "\nworkers      %" PRIu32 "\ninterfaces   %" PRIu32 "\n",
	       in->n_ports, in->n_workers, in->n_ifaces);
	printf("next hops    ids 1..%" PRIu32 "\ngroups       ids 1..%" PRIu32 "\n",
	       in->nh_max > 0 ? in->nh_max - 1 : 0, in->group_max > 0 ? in->group_max - 1 : 0);
	printf("IPv4 routes  %" PRIu32 " of %" PRIu32 ", FIB %.1f MiB", in->route4_count,
	       in->route4_max, (double)in->fib4_bytes / 1048576.0);
	if (in->route4_count > 0)
		printf(" (%.1f bytes/prefix)", (double)in->fib4_bytes / in->route4_count);
	printf("\nIPv6 routes  %" PRIu32 " of %" PRIu32 ", FIB %.1f MiB", in->route6_count,
	       in->route6_max, (double)in->fib6_bytes / 1048576.0);
	if (in->route6_count > 0)
		printf(" (%.1f bytes/prefix)", (double)in->fib6_bytes / in->route6_count);
	putchar('\n');
	return 0;
}

static int
cmd_show(struct ctl *x, int argc, char **argv)
{
	if (argc < 1)
		return USAGE(x, "usage: show interfaces|ports|addresses|neighbors|nexthops|groups|"
				"routes [4|6]|stats|info");
	const char *w = argv[0];
	if (strcmp(w, "routes") == 0 || strcmp(w, "route") == 0) {
		int which = 0;
		if (argc == 2 && (strcmp(argv[1], "4") == 0 || strcmp(argv[1], "6") == 0))
			which = argv[1][0] - '0';
		else if (argc != 1)
			return USAGE(x, "usage: show routes [4|6]");
		return show_routes(x, which);
	}
	if (argc != 1)
		return USAGE(x, "unexpected '%s'", argv[1]);
	if (strcmp(w, "interfaces") == 0 || strcmp(w, "interface") == 0 || strcmp(w, "ifaces") == 0)
		return show_ifaces(x);
	if (strcmp(w, "ports") == 0)
		return show_ports(x);
	if (strcmp(w, "addresses") == 0 || strcmp(w, "address") == 0 || strcmp(w, "addr") == 0)
		return show_stream(x, NPR_DUMP_ADDRS, show_addr_entry,
				   "ADDRESS                                      DEV");
	if (strcmp(w, "neighbors") == 0 || strcmp(w, "neighbours") == 0 ||
	    strcmp(w, "neighbor") == 0 || strcmp(w, "neigh") == 0)
		return show_neighs(x);
	if (strcmp(w, "nexthops") == 0 || strcmp(w, "nexthop") == 0 || strcmp(w, "nh") == 0)
		return show_nhs(x);
	if (strcmp(w, "groups") == 0 || strcmp(w, "group") == 0)
		return show_stream(x, NPR_DUMP_GROUPS, show_group_entry,
				   "ID       REFS   MEMBERS (NEXTHOP:WEIGHT)");
	if (strcmp(w, "stats") == 0)
		return show_stats(x);
	if (strcmp(w, "info") == 0)
		return show_info(x);
	return USAGE(x, "show what? '%s'", w);
}

/* ---- misc commands ---- */

static int
cmd_stats_clear(struct ctl *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return USAGE(x, "usage: stats clear");
	struct npr_msg_hdr h = { .type = NPR_MSG_STATS_CLEAR, .len = sizeof(h) };
	return ctl_emit(x, &h);
}

static int
cmd_hello(struct ctl *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return USAGE(x, "usage: hello");
	struct npr_reply rep;
	int rc = ctl_call_simple(x, NPR_MSG_HELLO, &rep);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	uint64_t inst = npr_client_instance(x->c);
	if (x->json_out) {
		json_obj_begin(&x->j);
		json_kv_u64(&x->j, "instance_id", inst);
		json_obj_end(&x->j);
	} else {
		printf("data plane up, instance %016" PRIx64 "\n", inst);
	}
	return 0;
}

static int cmd_batch(struct ctl *x, int argc, char **argv);

/* YANG configuration: apply.c and daemon.c */
static int
cmd_apply(struct ctl *x, int argc, char **argv)
{
	int rc = apply_main(x->shm, x->timeout_ms, x->json_out, argc, argv);
	if (x->json_out)
		x->j.need_comma[0] = true; /* apply printed its own document */
	return rc;
}

static int
cmd_run(struct ctl *x, int argc, char **argv)
{
	return daemon_main(x->shm, x->timeout_ms, argc, argv);
}

/* ---- command table ---- */

struct cmd {
	const char *w1, *w2; /* w2 NULL: one word */
	int (*fn)(struct ctl *x, int argc, char **argv);
	bool in_batch; /* may appear in a batch file */
};

static const struct cmd cmds[] = {
	{ "interface", "set", cmd_iface_set, true },
	{ "interface", "del", cmd_iface_del, true },
	{ "address", "add", cmd_addr_add, true },
	{ "address", "del", cmd_addr_del, true },
	{ "neighbor", "set", cmd_neigh_set, true },
	{ "neighbor", "del", cmd_neigh_del, true },
	{ "nexthop", "set", cmd_nh_set, true },
	{ "nexthop", "del", cmd_nh_del, true },
	{ "group", "set", cmd_group_set, true },
	{ "group", "del", cmd_group_del, true },
	{ "route", "add", cmd_route_add, true },
	{ "route", "replace", cmd_route_replace, true },
	{ "route", "del", cmd_route_del, true },
	{ "route", "get", cmd_route_get, false },
	{ "route", "load", cmd_route_load, false },
	{ "show", NULL, cmd_show, false },
	{ "stats", "clear", cmd_stats_clear, false },
	{ "batch", NULL, cmd_batch, false },
	{ "hello", NULL, cmd_hello, false },
	{ "apply", NULL, cmd_apply, false },
	{ "run", NULL, cmd_run, false },
};

static const char *
canonical_word(const char *w)
{
	static const char *const alias[][2] = {
		{ "iface", "interface" }, { "addr", "address" }, { "neighbour", "neighbor" },
		{ "neigh", "neighbor" },  { "nh", "nexthop" },	 { "delete", "del" },
		{ "remove", "del" },
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(w, alias[i][0]) == 0)
			return alias[i][1];
	return w;
}

static int
run_command(struct ctl *x, int argc, char **argv, bool in_batch)
{
	if (argc == 0)
		return USAGE(x, "missing command (try --help)");
	const char *w1 = canonical_word(argv[0]);
	const char *w2 = argc > 1 ? canonical_word(argv[1]) : "";
	bool known = false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct cmd *c = &cmds[i];
		if (strcmp(c->w1, w1) != 0)
			continue;
		known = true;
		if (c->w2 != NULL && strcmp(c->w2, w2) != 0)
			continue;
		if (in_batch && !c->in_batch)
			return USAGE(x, "'%s%s%s' cannot be used in a batch", c->w1,
				     c->w2 != NULL ? " " : "", c->w2 != NULL ? c->w2 : "");
		int skip = c->w2 != NULL ? 2 : 1;
		return c->fn(x, argc - skip, argv + skip);
	}
	if (known && w2[0] == '\0')
		return USAGE(x, "'%s' needs a subcommand (try --help)", w1);
	if (known)
		return USAGE(x, "unknown subcommand '%s %s' (try --help)", w1, w2);
	return USAGE(x, "unknown command '%s' (try --help)", argv[0]);
}

/* ---- batch ---- */

struct batch_state {
	struct ctl *x;
	uint32_t first_seq;
	size_t n_sent;
	size_t n_errors;
};

static void
batch_handler(void *ctx, const struct npr_msg_hdr *rec)
{
	struct batch_state *b = ctx;
	if (rec->type != NPR_MSG_REPLY)
		return;
	const struct npr_reply *rep = (const struct npr_reply *)rec;
	size_t i = (uint32_t)(rec->seq - b->first_seq);
	if (i >= b->n_sent || rep->status == 0)
		return;
	/* after a failure the data plane cancels the rest of the batch: not new errors */
	if (rep->status == -ECANCELED && b->n_errors > 0)
		return;
	if (b->n_errors++ < MAX_REPORTED)
		fprintf(stderr, "%s: %s: %s%s%s\n", PROG, b->x->q[i].what,
			npr_strstatus(rep->status), rep->msg[0] != '\0' ? ": " : "", rep->msg);
}

/* Split a line into words; '#' starts a comment. Returns the number of words, -1 if too many. */
static int
split_words(char *line, char **argv, int max)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t\r\n", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		argv[n++] = w;
	}
	return n;
}

static int
batch_send(struct ctl *x, const char *path)
{
	struct batch_state b = { .x = x };
	struct npr_reply rep;
	char what[300];
	snprintf(what, sizeof(what), "batch %s", path);
	x->what = what;

	int rc = npr_client_batch_begin(x->c, &rep, x->timeout_ms);
	if (rc < 0)
		return client_error(x, rc);
	if (rep.status != 0)
		return reply_error(x, &rep);
	npr_client_set_handler(x->c, batch_handler, &b);
	for (size_t i = 0; i < x->nq && b.n_errors == 0; i++) {
		uint32_t seq;
		rc = npr_client_send(x->c, x->q[i].msg, &seq);
		if (rc < 0)
			return client_error(x, rc);
		if (i == 0)
			b.first_seq = seq;
		b.n_sent++;
	}
	rc = npr_client_flush(x->c, x->timeout_ms);
	if (rc < 0)
		return client_error(x, rc);
	npr_client_set_handler(x->c, NULL, NULL);
	if (b.n_errors > 0) {
		if (b.n_errors > MAX_REPORTED)
			fprintf(stderr, "%s: %s: ... and %zu more errors\n", PROG, what,
				b.n_errors - MAX_REPORTED);
		rc = ctl_call_simple(x, NPR_MSG_BATCH_ABORT, &rep);
		if (rc != 0)
			return rc;
		return REJECTED(x, "aborted, nothing applied");
	}
	rc = ctl_call_simple(x, NPR_MSG_BATCH_COMMIT, &rep);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	return 0;
}

static int
cmd_batch(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: batch FILE ('-': standard input)");
	const char *path = argv[0];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return USAGE(x, "cannot open %s: %s", path, strerror(errno));

	/* Turn every line into messages first: nothing is sent if any line is wrong. */
	x->batch = true;
	char *line = NULL;
	size_t cap = 0, lineno = 0, n_bad = 0;
	int worst = 0;
	char what[400];
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *words[MAX_ARGS];
		char copy[300];
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "#\r\n")] = '\0';
		int n = split_words(line, words, MAX_ARGS);
		if (n == 0)
			continue;
		snprintf(what, sizeof(what), "%s:%zu: %s", path, lineno, copy);
		x->what = what;
		int rc = n < 0 ? USAGE(x, "too many words") : run_command(x, n, words, true);
		if (rc != 0) {
			n_bad++;
			if (rc > worst && rc != EXIT_NODP)
				worst = rc;
			if (rc == EXIT_NODP) {
				worst = rc;
				break;
			}
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	x->batch = false;
	x->what = NULL;
	if (worst != 0) {
		if (worst != EXIT_NODP)
			fprintf(stderr, "%s: batch %s: %zu bad lines, nothing sent\n", PROG, path,
				n_bad);
		return worst;
	}
	int rc = ctl_open(x);
	if (rc == 0)
		rc = batch_send(x, path);
	if (rc == 0 && x->json_out) {
		json_obj_begin(&x->j);
		json_kv_bool(&x->j, "ok", true);
		json_kv_u64(&x->j, "messages", x->nq);
		json_obj_end(&x->j);
	}
	return rc;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--shm NAME] [--json] [--timeout MS] COMMAND ...\n"
		"\n"
		"Program the nprouter data plane over its shared-memory rings (/dev/shm/NAME,\n"
		"default " NPR_SHM_DEFAULT_NAME
		"). Interfaces are named; ports are DPDK port ids or "
		"device names.\n"
		"\n"
		"  interface set NAME port PORT [mac MAC] [mtu N] [up|down]\n"
		"        create (lowest free id, up unless 'down') or change an interface;\n"
		"        settings not given keep their values\n"
		"  interface del NAME\n"
		"  address add|del ADDR/LEN dev NAME\n"
		"  neighbor set ADDR dev NAME lladdr MAC | neighbor del ADDR dev NAME\n"
		"  nexthop set ID via GW dev NAME [lladdr MAC]\n"
		"  nexthop set ID dev NAME lladdr MAC\n"
		"  nexthop set ID blackhole|unreachable|prohibit\n"
		"  nexthop del ID\n"
		"  group set ID NH[:WEIGHT] [NH[:WEIGHT] ...]     (weight 1..%u, default 1)\n"
		"  group del ID\n"
		"  route add|replace PREFIX TARGET\n"
		"        TARGET: nexthop ID | group ID | via GW dev NAME [lladdr MAC] |\n"
		"                blackhole | unreachable | prohibit\n"
		"        an inline TARGET reuses an equal next hop or creates one (lowest free "
		"id)\n"
		"  route del PREFIX\n"
		"  route get ADDR                 the data plane's FIB lookup for ADDR\n"
		"  route load FILE [--nexthops ID[,ID...]] [--batch] [--replace]\n"
		"        FILE (plain or .gz, '-' for stdin): lines 'PREFIX' or 'PREFIX FIELD'.\n"
		"        Without --nexthops FIELD is the next hop id. With --nexthops a list of n\n"
		"        ids: list[FIELD %% n] when FIELD is there (e.g. the origin AS), else\n"
		"        list[FNV-1a hash of the prefix bytes and length %% n]. The whole file is\n"
		"        checked before anything is sent. --batch: all or nothing;\n"
		"        --replace: ROUTE_REPLACE (every route must exist).\n"
		"  show interfaces|ports|addresses|neighbors|nexthops|groups|routes "
		"[4|6]|stats|info\n"
		"  stats clear\n"
		"  batch FILE                     one command a line ('#' comments, '-' for "
		"stdin),\n"
		"                                 applied all or nothing in one transaction\n"
		"  hello                          check that the data plane answers\n"
		"  apply [--dry-run] [--resync] FILE\n"
		"        make the data plane run the YANG configuration FILE (JSON or XML,\n"
		"        ietf-interfaces/ietf-ip/ietf-routing + nprouter.yang): validate it, diff\n"
		"        it against the data plane and send the difference as one transaction\n"
		"  run FILE                       apply FILE, then again whenever it changes (or\n"
		"                                 on SIGHUP) and after a data plane restart\n"
		"\n"
		"  --shm NAME     shared memory name (default " NPR_SHM_DEFAULT_NAME ")\n"
		"  --json         print one JSON document instead of tables\n"
		"  --timeout MS   wait for the data plane, the session lock and each answer\n"
		"                 (default %d; -1 forever)\n"
		"\n"
		"Addresses: IPv4 dotted quad (no leading zeros) or IPv6; a prefix must have no "
		"bits\n"
		"set beyond its length. MAC: aa:bb:cc:dd:ee:ff.\n"
		"Exit: 0 ok, 1 rejected, 2 usage error, 3 no data plane.\n",
		NPR_GROUP_MAX_WEIGHT, DEFAULT_TIMEOUT_MS);
}

int
main(int argc, char **argv)
{
	struct ctl x = { .timeout_ms = DEFAULT_TIMEOUT_MS };
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			x.json_out = true;
		} else if (strcmp(a, "--shm") == 0 && i + 1 < argc) {
			x.shm = argv[++i];
		} else if (strncmp(a, "--shm=", 6) == 0) {
			x.shm = a + 6;
		} else if ((strcmp(a, "--timeout") == 0 && i + 1 < argc) ||
			   strncmp(a, "--timeout=", 10) == 0) {
			const char *v = a[9] == '=' ? a + 10 : argv[++i];
			uint64_t t;
			if (strcmp(v, "-1") == 0)
				x.timeout_ms = -1;
			else if (parse_uint(v, INT32_MAX, &t) == 0)
				x.timeout_ms = (int)t;
			else
				return USAGE(NULL, "bad --timeout '%s'", v);
		} else {
			return USAGE(NULL, "unknown option '%s' (try --help)", a);
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	json_init(&x.j, stdout);

	/* "what" in error messages: the command as typed, shortened */
	char what[160] = "";
	for (int k = i; k < argc; k++) {
		size_t n = strlen(what);
		snprintf(what + n, sizeof(what) - n, "%s%s", k > i ? " " : "", argv[k]);
	}
	x.what = what;
	x.created_nh = 0;

	int rc = run_command(&x, argc - i, argv + i, false);
	if (rc == 0 && x.json_out && !x.j.need_comma[0]) {
		/* a command with no output of its own still prints one document */
		json_obj_begin(&x.j);
		json_kv_bool(&x.j, "ok", true);
		if (x.created_nh != 0)
			json_kv_u64(&x.j, "created_nexthop", x.created_nh);
		json_obj_end(&x.j);
	} else if (rc == 0 && x.created_nh != 0 && !x.json_out) {
		printf("created nexthop %" PRIu32 "\n", x.created_nh);
	}
	if (x.json_out && rc == 0)
		json_finish(&x.j);
	fflush(stdout);

	npr_client_close(x.c);
	for (size_t k = 0; k < x.nq; k++) {
		free(x.q[k].msg);
		free(x.q[k].what);
	}
	free(x.q);
	free(x.ifaces);
	free(x.ports);
	free(x.nhs);
	return rc;
}
