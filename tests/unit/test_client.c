/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side: control/client.c and control/load.c against a fake data plane — a thread
 * that serves a real POSIX shm segment laid out as shm.h says — and nprouter-control itself
 * (when NPR_CONTROL names the binary, as meson sets it) run against the same fake.
 *
 * The fake data plane answers every request in order: the reply's value is an FNV-1a hash of
 * the request body, so the client side can check that nothing was lost, reordered or
 * damaged. It keeps a tiny model (interfaces, next hops, routes) for the CLI tests.
 *
 * npr_client_open ends with a HELLO call, so every open needs a fake thread that answers it.
 * HELLO is answered as the data plane does (cfg/): value = the full instance id, and a batch
 * left open by an earlier session is aborted. A paused fake still answers a HELLO at the head
 * of the request ring, so that a test can open a session to a data plane that then stalls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "npr/addr.h"
#include "npr/proto.h"
#include "npr/ring.h"
#include "npr/shm.h"
#include "npr/util.h"
#include "client.h"
#include "load.h"

/* ---- helpers ---- */

static void
sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static uint64_t
fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static unsigned name_counter;

static void
unique_name(char *buf, size_t len)
{
	snprintf(buf, len, "npr-test-%d-%u", (int)getpid(), name_counter++);
}

/* A failed assertion skips the test's cleanup: the group teardown removes every segment. */
static void
unlink_all_segments(void)
{
	for (unsigned i = 0; i < name_counter; i++) {
		char path[80];
		snprintf(path, sizeof(path), "/npr-test-%d-%u", (int)getpid(), i);
		shm_unlink(path);
	}
}

/* ---- the fake data plane ---- */

#define MODEL_MAX 64

enum fake_mode {
	FAKE_ECHO,   /* answer everything */
	FAKE_SILENT, /* consume requests, never answer (not even HELLO) */
	FAKE_PAUSED, /* do not consume, except a HELLO at the head of the ring (answered) */
};

struct fake_dp {
	char name[64];
	int fd;
	void *base;
	size_t size;
	struct npr_shm_hdr *hdr;
	struct npr_ring_ref req, rep; /* attached with the sizes we created */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_int mode;
	/* slow consumer: sleep slow_us after every slow_every requests */
	unsigned slow_every, slow_us;
	/* extra chunk of this many bytes before every plain reply (fills the reply ring) */
	uint32_t chunk_bytes;
	/* The two timers below run from the thread's start or from the last HELLO it answered,
	 * whichever is later: they start when the session is open. */
	/* set state GONE after this many ms of service (0: never) */
	unsigned die_after_ms;
	/* consume nothing (but a HELLO) for this many ms */
	unsigned start_paused_ms;
	/* HELLO answer: this status (0: the normal answer) with this message; set while stopped */
	int hello_status;
	char hello_msg[64];

	/* observations */
	atomic_uint_fast64_t n_req;
	atomic_uint_fast64_t rep_full_waits; /* times the reply ring was full */
	atomic_uint_fast64_t req_peak;	     /* highest request ring occupancy seen */
	atomic_uint_fast64_t seq_errors;     /* requests whose seq did not follow the previous */
	uint32_t last_seq;
	bool have_seq;

	/* model, under lock */
	pthread_mutex_t lock;
	struct npr_dump_iface ifaces[MODEL_MAX];
	unsigned n_ifaces;
	struct npr_dump_nh nhs[MODEL_MAX];
	unsigned n_nhs;
	struct npr_route4 r4[MODEL_MAX]; /* the first routes, for LOOKUP */
	unsigned n_r4;
	uint64_t routes4, routes6; /* entries applied */
	uint64_t staged4, staged6; /* in the open batch */
	uint64_t route_hash;	   /* order-independent sum of the applied route entries */
	uint64_t staged_hash;
	bool in_batch, batch_failed;
	unsigned n_batches_committed, n_batches_aborted;
	unsigned n_hello_aborts; /* batches a HELLO found open (also in n_batches_aborted) */
	unsigned n_nh_set, n_iface_set, n_msgs[NPR_MSG_REQ_LAST + 1];
	uint8_t buf[NPR_MSG_MAX];
};

static uint64_t
route4_hash(const struct npr_route4 *r)
{
	return fnv(r, sizeof(*r)) | 1;
}

static uint64_t
route6_hash(const struct npr_route6 *r)
{
	return fnv(r, sizeof(*r)) | 1;
}

/* Create a segment laid out per shm.h, state READY. */
static void
fake_create(struct fake_dp *f, uint64_t req_size, uint64_t rep_size)
{
	memset(f, 0, sizeof(*f));
	unique_name(f->name, sizeof(f->name));
	char path[80];
	snprintf(path, sizeof(path), "/%s", f->name);
	f->fd = shm_open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	assert_true(f->fd >= 0);
	/* one session slot; both rings of a slot have one size in shm.h: the larger */
	uint64_t ring_size = req_size > rep_size ? req_size : rep_size;
	uint64_t req_off = NPR_SHM_HDR_SIZE;
	uint64_t rep_off = req_off + sizeof(struct npr_ring) + ring_size;
	f->size = rep_off + sizeof(struct npr_ring) + ring_size;
	assert_int_equal(ftruncate(f->fd, (off_t)f->size), 0);
	f->base = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	assert_true(f->base != MAP_FAILED);
	f->hdr = f->base;
	struct npr_ring *req = (struct npr_ring *)((uint8_t *)f->base + req_off);
	struct npr_ring *rep = (struct npr_ring *)((uint8_t *)f->base + rep_off);
	npr_ring_init(req, ring_size);
	npr_ring_init(rep, ring_size);
	npr_ring_attach(&f->req, req, ring_size);
	npr_ring_attach(&f->rep, rep, ring_size);
	f->hdr->magic = NPR_SHM_MAGIC;
	f->hdr->abi_version = NPR_ABI_VERSION;
	f->hdr->hdr_size = NPR_SHM_HDR_SIZE;
	f->hdr->instance_id = 0x1234567890abcdefull;
	f->hdr->total_size = f->size;
	f->hdr->n_slots = 1;
	f->hdr->slot_off = req_off;
	f->hdr->slot_size = npr_shm_slot_size(ring_size);
	f->hdr->ring_size = ring_size;
	f->hdr->dp_pid = getpid();
	atomic_store_explicit(&f->hdr->state, NPR_SHM_READY, memory_order_release);
	pthread_mutex_init(&f->lock, NULL);
	/* two interfaces on two ports */
	for (unsigned i = 0; i < 2; i++) {
		struct npr_dump_iface *ifc = &f->ifaces[f->n_ifaces++];
		ifc->ifid = (uint16_t)i;
		ifc->port_id = (uint16_t)i;
		ifc->mtu = 1500;
		ifc->flags = NPR_IFACE_F_UP;
		uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) };
		memcpy(ifc->mac, mac, 6);
		snprintf(ifc->name, sizeof(ifc->name), "port%u", i);
	}
}

/* Emit one record, waiting for room like the real data plane does. */
static void
fake_emit(struct fake_dp *f, const void *rec, uint32_t len)
{
	bool counted = false;
	while (!atomic_load(&f->stop)) {
		int rc = npr_ring_put(&f->rep, rec, len);
		if (rc == 0)
			return;
		if (rc != -EAGAIN)
			abort(); /* not a cmocka assert: this is not the test's thread */
		if (!counted) {
			atomic_fetch_add(&f->rep_full_waits, 1);
			counted = true;
		}
		sleep_us(5);
	}
}

static void
fake_reply(struct fake_dp *f, uint32_t seq, int status, uint32_t index, uint64_t value,
	   const char *msg)
{
	struct npr_reply r;
	memset(&r, 0, sizeof(r));
	r.hdr.type = NPR_MSG_REPLY;
	r.hdr.version = NPR_ABI_VERSION;
	r.hdr.len = sizeof(r);
	r.hdr.seq = seq;
	r.status = status;
	r.index = index;
	r.value = value;
	if (msg != NULL)
		snprintf(r.msg, sizeof(r.msg), "%s", msg);
	fake_emit(f, &r, sizeof(r));
}

/* Dump: entries of size esize from arr, several per chunk. */
static void
fake_dump(struct fake_dp *f, uint32_t seq, uint32_t kind, const void *arr, size_t n, size_t esize,
	  size_t per_chunk)
{
	static uint8_t chunk[NPR_MSG_MAX];
	for (size_t i = 0; i < n; i += per_chunk) {
		size_t k = n - i < per_chunk ? n - i : per_chunk;
		struct npr_msg_dump_chunk *c = (struct npr_msg_dump_chunk *)chunk;
		size_t len = sizeof(*c) + k * esize;
		memset(chunk, 0, (len + 7) & ~(size_t)7);
		c->hdr.type = NPR_MSG_DUMP_CHUNK;
		c->hdr.version = NPR_ABI_VERSION;
		c->hdr.len = (uint32_t)((len + 7) & ~(size_t)7);
		c->hdr.seq = seq;
		c->kind = kind;
		c->count = (uint32_t)k;
		memcpy(c->data, (const uint8_t *)arr + i * esize, k * esize);
		fake_emit(f, chunk, c->hdr.len);
	}
}

static int
fake_check_target(struct fake_dp *f, uint32_t target)
{
	if (target & NPR_TARGET_GROUP)
		return 0;
	if (target == 999)
		return -ENOENT;
	(void)f;
	return 0;
}

/* ROUTE4/6 ADD: target 999 is "missing"; the message applies whole or not at all. */
static void
fake_routes(struct fake_dp *f, const struct npr_msg_hdr *h, bool v6)
{
	uint32_t count = ((const struct npr_msg_route4 *)h)->count;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t target = v6 ? ((const struct npr_msg_route6 *)h)->r[i].target
				     : ((const struct npr_msg_route4 *)h)->r[i].target;
		if (fake_check_target(f, target) < 0) {
			char msg[64];
			snprintf(msg, sizeof(msg), "next hop %u does not exist", target);
			if (f->in_batch)
				f->batch_failed = true;
			fake_reply(f, h->seq, -ENOENT, i, 0, msg);
			return;
		}
	}
	uint64_t hs = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (v6) {
			hs += route6_hash(&((const struct npr_msg_route6 *)h)->r[i]);
		} else {
			const struct npr_route4 *r = &((const struct npr_msg_route4 *)h)->r[i];
			hs += route4_hash(r);
			if (f->n_r4 < MODEL_MAX)
				f->r4[f->n_r4++] = *r;
		}
	}
	if (f->in_batch) {
		*(v6 ? &f->staged6 : &f->staged4) += count;
		f->staged_hash += hs;
	} else {
		*(v6 ? &f->routes6 : &f->routes4) += count;
		f->route_hash += hs;
	}
	fake_reply(f, h->seq, 0, 0, fnv((const uint8_t *)h + 16, h->len - 16), NULL);
}

static uint32_t
fake_lookup4(struct fake_dp *f, const uint8_t *addr)
{
	uint32_t a = ntohl(*(const uint32_t *)addr), best = 0;
	int best_len = -1;
	for (unsigned i = 0; i < f->n_r4; i++) {
		uint32_t p = ntohl(f->r4[i].prefix);
		uint32_t mask = f->r4[i].plen == 0 ? 0 : ~0u << (32 - f->r4[i].plen);
		if ((a & mask) == p && f->r4[i].plen > best_len) {
			best_len = f->r4[i].plen;
			best = f->r4[i].target;
		}
	}
	return best;
}

/* HELLO opens a session: a batch still open was left by a session that died. */
static void
fake_hello(struct fake_dp *f, const struct npr_msg_hdr *h)
{
	if (f->hello_status != 0) {
		fake_reply(f, h->seq, f->hello_status, 0, 0, f->hello_msg);
		return;
	}
	const char *msg = NULL;
	if (f->in_batch) {
		f->in_batch = false;
		f->n_batches_aborted++;
		f->n_hello_aborts++;
		msg = "aborted a batch left open by an earlier session";
	}
	fake_reply(f, h->seq, 0, 0, f->hdr->instance_id, msg);
}

static void
fake_handle(struct fake_dp *f, const struct npr_msg_hdr *h)
{
	uint64_t body_hash = fnv((const uint8_t *)h + 16, h->len - 16);
	if (h->type <= NPR_MSG_REQ_LAST)
		f->n_msgs[h->type]++;
	/* like the data plane: HELLO is answered even inside a failed batch */
	if (h->type == NPR_MSG_HELLO) {
		fake_hello(f, h);
		return;
	}
	/* like the data plane: a failed batch cancels what follows until COMMIT or ABORT */
	if (f->in_batch && f->batch_failed && h->type != NPR_MSG_BATCH_COMMIT &&
	    h->type != NPR_MSG_BATCH_ABORT) {
		fake_reply(f, h->seq, -ECANCELED, 0, 0, "the batch failed; send BATCH_ABORT");
		return;
	}
	switch (h->type) {
	case NPR_MSG_SYNC_BEGIN:
		/* a reply nobody asked for (wrong seq) before the real one: must be dropped */
		fake_reply(f, h->seq ^ 0x80000000u, -EIO, 0, 0, "bogus");
		fake_reply(f, h->seq, 0, 0, body_hash, NULL);
		return;
	case NPR_MSG_ROUTE4_ADD:
	case NPR_MSG_ROUTE4_REPLACE:
		fake_routes(f, h, false);
		return;
	case NPR_MSG_ROUTE6_ADD:
	case NPR_MSG_ROUTE6_REPLACE:
		fake_routes(f, h, true);
		return;
	case NPR_MSG_BATCH_BEGIN:
		if (f->in_batch) {
			fake_reply(f, h->seq, -EALREADY, 0, 0, "a batch is already open");
			return;
		}
		f->in_batch = true;
		f->batch_failed = false;
		f->staged4 = f->staged6 = f->staged_hash = 0;
		fake_reply(f, h->seq, 0, 0, 0, NULL);
		return;
	case NPR_MSG_BATCH_COMMIT:
	case NPR_MSG_BATCH_ABORT:
		if (h->type == NPR_MSG_BATCH_COMMIT && !f->batch_failed) {
			f->routes4 += f->staged4;
			f->routes6 += f->staged6;
			f->route_hash += f->staged_hash;
			f->n_batches_committed++;
			fake_reply(f, h->seq, 0, 0, 0, NULL);
		} else {
			f->n_batches_aborted++;
			fake_reply(f, h->seq, h->type == NPR_MSG_BATCH_ABORT ? 0 : -ECANCELED, 0, 0,
				   NULL);
		}
		f->in_batch = false;
		return;
	case NPR_MSG_NH_DEL: {
		const struct npr_msg_id *m = (const void *)h;
		unsigned i = 0, refs = 0;
		while (i < f->n_nhs && f->nhs[i].nh_id != m->id)
			i++;
		for (unsigned k = 0; k < f->n_r4; k++)
			refs += f->r4[k].target == m->id;
		if (i == f->n_nhs || refs != 0) {
			if (f->in_batch)
				f->batch_failed = true;
			fake_reply(f, h->seq, i == f->n_nhs ? -ENOENT : -EBUSY, 0, 0, "no");
			return;
		}
		f->nhs[i] = f->nhs[--f->n_nhs];
		fake_reply(f, h->seq, 0, 0, 0, NULL);
		return;
	}
	case NPR_MSG_IFACE_SET: {
		const struct npr_msg_iface_set *m = (const void *)h;
		unsigned i = 0;
		while (i < f->n_ifaces && f->ifaces[i].ifid != m->ifid)
			i++;
		if (i == f->n_ifaces && f->n_ifaces < MODEL_MAX)
			f->n_ifaces++;
		memcpy(&f->ifaces[i], &m->ifid, sizeof(f->ifaces[i]));
		f->n_iface_set++;
		fake_reply(f, h->seq, 0, 0, body_hash, NULL);
		return;
	}
	case NPR_MSG_NH_SET: {
		const struct npr_msg_nh_set *m = (const void *)h;
		unsigned i = 0;
		while (i < f->n_nhs && f->nhs[i].nh_id != m->nh_id)
			i++;
		if (i == f->n_nhs && f->n_nhs < MODEL_MAX)
			f->n_nhs++;
		struct npr_dump_nh *nh = &f->nhs[i];
		memset(nh, 0, sizeof(*nh));
		nh->nh_id = m->nh_id;
		nh->origin = NPR_ORIGIN_CLI;
		nh->kind = m->kind;
		nh->family = m->family;
		nh->ifid = m->ifid;
		memcpy(nh->mac, m->mac, 6);
		nh->flags = m->flags;
		memcpy(nh->gw, m->gw, 16);
		f->n_nh_set++;
		fake_reply(f, h->seq, 0, 0, body_hash, NULL);
		return;
	}
	case NPR_MSG_STATS_REQ: {
		static struct npr_stats st;
		memset(&st, 0, sizeof(st));
		st.uptime_ns = 2500000000ull;
		st.n_ports = 2;
		st.n_workers = 2;
		st.msgs_ok = 10;
		for (unsigned i = 0; i < 2; i++) {
			st.port[i].port_id = (uint16_t)i;
			st.port[i].ipackets = 1000 + i;
			st.port[i].opackets = 900 + i;
			st.port[i].imissed = 7;
			st.worker[i].lcore_id = i + 1;
			st.worker[i].rx_pkts = 1000;
			st.worker[i].fwd4_pkts = 800;
			st.worker[i].polls = 100;
			st.worker[i].busy_polls = 25;
		}
		st.worker[0].drop[NPR_DROP_NO_ROUTE] = 5;
		st.worker[1].drop[NPR_DROP_NO_ROUTE] = 1;
		st.worker[1].drop[NPR_DROP_BAD_CHECKSUM] = 2;
		st.worker[0].exc[NPR_EXC_ARP] = 3;
		st.port[1].link_up = 1;
		st.port[0].link_downs = 4; /* a memif port whose peer left */
		fake_dump(f, h->seq, NPR_DUMP_STATS, &st, 1, sizeof(st), 1);
		fake_reply(f, h->seq, 0, 0, 0, NULL);
		return;
	}
	case NPR_MSG_LOOKUP: {
		const struct npr_msg_lookup *m = (const void *)h;
		uint32_t t = m->family == NPR_AF_INET ? fake_lookup4(f, m->addr) : 0;
		fake_reply(f, h->seq, 0, t != 0 ? NPR_ORIGIN_CLI : 0, t,
			   NULL); /* index: its origin */
		return;
	}
	case NPR_MSG_DUMP_REQ: {
		const struct npr_msg_dump_req *m = (const void *)h;
		switch (m->kind) {
		case NPR_DUMP_IFACES:
			fake_dump(f, h->seq, m->kind, f->ifaces, f->n_ifaces, sizeof(f->ifaces[0]),
				  1);
			break;
		case NPR_DUMP_PORTS: {
			struct npr_dump_port p[2];
			memset(p, 0, sizeof(p));
			for (unsigned i = 0; i < 2; i++) {
				p[i].port_id = (uint16_t)i;
				p[i].n_rxq = p[i].n_txq = 1;
				uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) };
				memcpy(p[i].mac, mac, 6);
				snprintf(p[i].name, sizeof(p[i].name), "net_null%u", i);
			}
			/* odd-sized entries, two in one chunk: the second is unaligned */
			fake_dump(f, h->seq, m->kind, p, 2, sizeof(p[0]), 2);
			break;
		}
		case NPR_DUMP_NHS: {
			/* references: the IPv4 routes it keeps (r4), as the data plane counts */
			static struct npr_dump_nh nh[MODEL_MAX];
			for (unsigned i = 0; i < f->n_nhs; i++) {
				nh[i] = f->nhs[i];
				nh[i].refcnt = 0;
				for (unsigned k = 0; k < f->n_r4; k++)
					nh[i].refcnt += f->r4[k].target == nh[i].nh_id;
			}
			fake_dump(f, h->seq, m->kind, nh, f->n_nhs, sizeof(nh[0]), 7);
			break;
		}
		case NPR_DUMP_INFO: {
			struct npr_info in;
			memset(&in, 0, sizeof(in));
			in.instance_id = f->hdr->instance_id;
			in.abi_version = NPR_ABI_VERSION;
			in.nh_max = 1024;
			in.group_max = 256;
			in.route4_count = (uint32_t)f->routes4;
			fake_dump(f, h->seq, m->kind, &in, 1, sizeof(in), 1);
			break;
		}
		case NPR_DUMP_ROUTES4: {
			/* many chunks: 20000 synthetic routes, in descending order */
			static struct npr_route4 r[20000];
			for (uint32_t i = 0; i < 20000; i++) {
				uint32_t k = 19999 - i;
				r[i].prefix = htonl(0x0a000000u | (k << 8));
				r[i].plen = 24;
				r[i].origin = NPR_ORIGIN_CLI; /* routes the CLI made */
				r[i].distance = 1;
				r[i].target = k + 1;
			}
			fake_dump(f, h->seq, m->kind, r, 20000, sizeof(r[0]), 1000);
			break;
		}
		default:
			break;
		}
		fake_reply(f, h->seq, 0, 0, 0, NULL);
		return;
	}
	default:
		break;
	}
	/* anything else: echo. An optional chunk first, to fill the reply ring. */
	if (f->chunk_bytes > 0) {
		static uint8_t chunk[NPR_MSG_MAX];
		struct npr_msg_dump_chunk *c = (struct npr_msg_dump_chunk *)chunk;
		memset(c, 0, sizeof(*c));
		c->hdr.type = NPR_MSG_DUMP_CHUNK;
		c->hdr.len = f->chunk_bytes;
		c->hdr.seq = h->seq;
		c->kind = 0;
		memcpy(c->data, &body_hash, sizeof(body_hash));
		fake_emit(f, chunk, f->chunk_bytes);
	}
	fake_reply(f, h->seq, 0, 0, body_hash, NULL);
}

static void *
fake_run(void *arg)
{
	struct fake_dp *f = arg;
	uint64_t start = npr_now_ms();
	while (!atomic_load(&f->stop)) {
		if (f->die_after_ms != 0 && npr_now_ms() - start >= f->die_after_ms) {
			atomic_store_explicit(&f->hdr->state, NPR_SHM_GONE, memory_order_release);
			break;
		}
		uint64_t occ = atomic_load(&f->req.r->tail) - atomic_load(&f->req.r->head);
		if (occ > atomic_load(&f->req_peak))
			atomic_store(&f->req_peak, occ);
		bool paused = atomic_load(&f->mode) == FAKE_PAUSED ||
			      npr_now_ms() - start < f->start_paused_ms;
		int len = npr_ring_peek(&f->req, f->buf);
		const struct npr_msg_hdr *h = (const struct npr_msg_hdr *)f->buf;
		/* paused: only a HELLO gets through, so that the session opens first */
		if (len == 0 || (paused && (len < 0 || h->type != NPR_MSG_HELLO))) {
			sleep_us(paused ? 100 : 10);
			continue;
		}
		if (len < 0)
			abort();
		npr_ring_consume(&f->req, (uint32_t)len);
		if (f->have_seq && h->seq != f->last_seq + 1)
			atomic_fetch_add(&f->seq_errors, 1);
		f->have_seq = true;
		f->last_seq = h->seq;
		uint64_t n = atomic_fetch_add(&f->n_req, 1) + 1;
		if (atomic_load(&f->mode) == FAKE_SILENT)
			continue;
		pthread_mutex_lock(&f->lock);
		fake_handle(f, h);
		pthread_mutex_unlock(&f->lock);
		if (h->type == NPR_MSG_HELLO)
			start = npr_now_ms(); /* the session is open: the timers start now */
		if (f->slow_every != 0 && n % f->slow_every == 0)
			sleep_us(f->slow_us);
	}
	return NULL;
}

static void
fake_start(struct fake_dp *f)
{
	atomic_store(&f->stop, false);
	f->have_seq = false;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
	f->running = true;
}

static void
fake_stop(struct fake_dp *f)
{
	if (f->running) {
		atomic_store(&f->stop, true);
		pthread_join(f->thread, NULL);
		f->running = false;
	}
}

static void
fake_destroy(struct fake_dp *f)
{
	fake_stop(f);
	char path[80];
	snprintf(path, sizeof(path), "/%s", f->name);
	munmap(f->base, f->size);
	close(f->fd);
	shm_unlink(path);
	pthread_mutex_destroy(&f->lock);
}

static struct fake_dp *
fake_new(uint64_t req_size, uint64_t rep_size)
{
	struct fake_dp *f = malloc(sizeof(*f));
	assert_non_null(f);
	fake_create(f, req_size, rep_size);
	return f;
}

static void
fake_free(struct fake_dp *f)
{
	fake_destroy(f);
	free(f);
}

static struct npr_client *
open_ok(struct fake_dp *f)
{
	char err[256];
	struct npr_client *c = npr_client_open(f->name, NPR_ORIGIN_CLI, 1000, err, sizeof(err));
	if (c == NULL)
		fail_msg("open %s: %s", f->name, err);
	return c;
}

/* ---- open errors ---- */

static void
expect_open_fail(const char *name, int timeout_ms, int want_errno, const char *want_msg)
{
	char err[256] = "";
	errno = 0;
	struct npr_client *c = npr_client_open(name, NPR_ORIGIN_CLI, timeout_ms, err, sizeof(err));
	if (c != NULL)
		fail_msg("open %s succeeded, expected %s", name, want_msg);
	assert_int_equal(errno, want_errno);
	if (strstr(err, want_msg) == NULL)
		fail_msg("message '%s' lacks '%s'", err, want_msg);
	assert_null(strchr(err, '\n')); /* one line */
}

static void
test_open_missing(void **state)
{
	(void)state;
	char name[64], want[128];
	unique_name(name, sizeof(name));
	snprintf(want, sizeof(want), "no data plane running: /dev/shm/%s not found", name);
	expect_open_fail(name, 100, ENOENT, want);
	expect_open_fail("bad/name", 0, EINVAL, "bad shared memory name");
}

static void
test_open_bad_header(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);

	f->hdr->magic = 0x1122334455667788ull;
	expect_open_fail(f->name, 0, EPROTO, "bad magic");
	f->hdr->magic = NPR_SHM_MAGIC;

	f->hdr->abi_version = 99;
	char want_abi[64];
	snprintf(want_abi, sizeof(want_abi), "data plane speaks ABI 99, this control speaks %u",
		 NPR_ABI_VERSION);
	expect_open_fail(f->name, 0, EPROTONOSUPPORT, want_abi);
	f->hdr->abi_version = NPR_ABI_VERSION;

	/* a segment someone else could have made or may write: never trusted */
	assert_int_equal(fchmod(f->fd, 0666), 0);
	expect_open_fail(f->name, 0, EPERM, "anyone may write it (mode 0666)");
	assert_int_equal(fchmod(f->fd, 0600), 0);
	assert_int_equal(fchown(f->fd, 65534, (gid_t)-1), 0);
	expect_open_fail(f->name, 0, EPERM, "it belongs to uid 65534, not to root or to us");
	assert_int_equal(fchown(f->fd, 0, (gid_t)-1), 0);

	atomic_store(&f->hdr->state, NPR_SHM_INIT);
	uint64_t t0 = npr_now_ms();
	expect_open_fail(f->name, 100, EAGAIN, "still starting");
	assert_true(npr_now_ms() - t0 >= 100); /* it waited for the data plane to get ready */
	atomic_store(&f->hdr->state, NPR_SHM_GONE);
	expect_open_fail(f->name, 100, ESRCH, "gone");
	atomic_store(&f->hdr->state, NPR_SHM_READY);

	/* a data plane that died without cleaning up */
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	assert_true(child > 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	f->hdr->dp_pid = child;
	char want[64];
	snprintf(want, sizeof(want), "data plane (pid %d) is gone", (int)child);
	expect_open_fail(f->name, 0, ESRCH, want);
	f->hdr->dp_pid = getpid();

	/* rings that do not fit the segment */
	uint64_t saved = f->hdr->ring_size;
	f->hdr->ring_size = saved * 2;
	expect_open_fail(f->name, 0, EPROTO, "corrupt segment layout");
	f->hdr->ring_size = saved;
	f->hdr->slot_off = 100; /* unaligned, inside the header */
	expect_open_fail(f->name, 0, EPROTO, "corrupt segment layout");
	f->hdr->slot_off = NPR_SHM_HDR_SIZE;
	f->hdr->n_slots = 2; /* more slots than the segment holds */
	expect_open_fail(f->name, 0, EPROTO, "corrupt segment layout");
	f->hdr->n_slots = 1;
	f->req.r->mask = 0xffff; /* ring struct disagrees with the header */
	expect_open_fail(f->name, 0, EPROTO, "corrupt rings in session slot 0");
	f->req.r->mask = f->req.mask;
	f->hdr->hdr_size = 64;
	expect_open_fail(f->name, 0, EPROTO, "corrupt segment layout");
	f->hdr->hdr_size = NPR_SHM_HDR_SIZE;

	/* all fixed: it opens (HELLO needs a data plane thread) */
	fake_start(f);
	struct npr_client *c = open_ok(f);
	assert_int_equal(npr_client_instance(c), 0x1234567890abcdefull);
	npr_client_close(c);
	fake_free(f);
}

struct later {
	struct fake_dp *f;
	unsigned ms;
};

static void *
ready_later(void *arg)
{
	struct later *l = arg;
	sleep_us((long)l->ms * 1000);
	atomic_store_explicit(&l->f->hdr->state, NPR_SHM_READY, memory_order_release);
	return NULL;
}

/* A client started with the data plane waits for it to become ready. */
static void
test_open_waits_for_ready(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	atomic_store(&f->hdr->state, NPR_SHM_INIT);
	fake_start(f); /* serves the ring only: the header stays INIT until ready_later */
	struct later l = { f, 80 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, ready_later, &l), 0);
	char err[256];
	uint64_t t0 = npr_now_ms();
	struct npr_client *c = npr_client_open(f->name, NPR_ORIGIN_CLI, 3000, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_true(npr_now_ms() - t0 >= 80);
	pthread_join(t, NULL);
	npr_client_close(c);
	fake_free(f);
}

static void
test_open_lock(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	fake_start(f);
	struct npr_client *c1 = open_ok(f);
	char want[64];
	snprintf(want, sizeof(want), "all 1 control sessions of the data plane are in use");
	uint64_t t0 = npr_now_ms();
	expect_open_fail(f->name, 150, EBUSY, want);
	assert_true(npr_now_ms() - t0 >= 150);
	expect_open_fail(f->name, 150, EBUSY, "waited 1");
	/* the refused opens never reached the data plane: only c1's HELLO did */
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_msgs[NPR_MSG_HELLO], 1);
	pthread_mutex_unlock(&f->lock);
	/* the first session ends: the next one gets in */
	npr_client_close(c1);
	struct npr_client *c2 = open_ok(f);
	npr_client_close(c2);
	fake_free(f);
}

/* A data plane that does not answer the open's HELLO: the open fails and says why, without
 * keeping the session lock. */
static void
test_open_no_hello(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	char want[256];
	snprintf(want, sizeof(want), "the data plane (pid %d) does not answer on /dev/shm/%s: %s",
		 (int)getpid(), f->name, strerror(ETIMEDOUT));

	/* alive (our pid) but nobody reads the request ring */
	uint64_t t0 = npr_now_ms();
	expect_open_fail(f->name, 100, ETIMEDOUT, want);
	uint64_t dt = npr_now_ms() - t0;
	assert_true(dt >= 100 && dt < 2000);

	/* it comes back: the lock is free, and the reply to the HELLO left in the ring (not
	 * this session's seq) does not stand in for the new one */
	fake_start(f);
	struct npr_client *c = open_ok(f);
	assert_int_equal(npr_client_instance(c), 0x1234567890abcdefull);
	npr_client_close(c);
	fake_stop(f);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_msgs[NPR_MSG_HELLO], 2);
	pthread_mutex_unlock(&f->lock);

	/* a control thread that reads requests but never answers */
	atomic_store(&f->mode, FAKE_SILENT);
	fake_start(f);
	t0 = npr_now_ms();
	expect_open_fail(f->name, 100, ETIMEDOUT, want);
	dt = npr_now_ms() - t0;
	assert_true(dt >= 100 && dt < 2000);
	fake_stop(f);
	assert_int_equal(atomic_load(&f->n_req), 3); /* that HELLO was read */

	/* the data plane dies while the open waits for the answer: EPIPE, long before the
	 * timeout */
	f->die_after_ms = 50;
	fake_start(f);
	snprintf(want, sizeof(want), "the data plane (pid %d) does not answer on /dev/shm/%s: %s",
		 (int)getpid(), f->name, strerror(EPIPE));
	t0 = npr_now_ms();
	expect_open_fail(f->name, 5000, EPIPE, want);
	dt = npr_now_ms() - t0;
	assert_true(dt >= 50 && dt < 2000);
	fake_free(f);
}

/* The data plane answers HELLO with an error: the open fails with its message. */
static void
test_open_hello_error(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	f->hello_status = -EPERM;
	snprintf(f->hello_msg, sizeof(f->hello_msg), "sessions refused by the test");
	fake_start(f);
	char want[256];
	snprintf(want, sizeof(want),
		 "the data plane (pid %d) refused the session: sessions refused by the test",
		 (int)getpid());
	uint64_t t0 = npr_now_ms();
	expect_open_fail(f->name, 1000, EPROTO, want);
	assert_true(npr_now_ms() - t0 < 900); /* the answer ended the wait */
	fake_stop(f);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_msgs[NPR_MSG_HELLO], 1);
	pthread_mutex_unlock(&f->lock);

	/* the failed open let go of the lock: a session opens once HELLO succeeds */
	f->hello_status = 0;
	fake_start(f);
	struct npr_client *c = open_ok(f);
	npr_client_close(c);
	fake_free(f);
}

/* ---- request / reply ---- */

struct collected {
	uint32_t n_replies, n_chunks, n_bad;
	uint32_t first_seq;
	uint64_t *want; /* expected value per request, by seq - first_seq */
	uint32_t n_want;
	uint32_t next; /* next expected reply index: replies come in order */
};

static void
collect_handler(void *ctx, const struct npr_msg_hdr *rec)
{
	struct collected *cl = ctx;
	uint32_t i = rec->seq - cl->first_seq;
	if (i >= cl->n_want) {
		cl->n_bad++;
		return;
	}
	if (rec->type == NPR_MSG_DUMP_CHUNK) {
		const struct npr_msg_dump_chunk *c = (const void *)rec;
		uint64_t v;
		memcpy(&v, c->data, sizeof(v));
		if (v != cl->want[i])
			cl->n_bad++;
		cl->n_chunks++;
		return;
	}
	const struct npr_reply *r = (const void *)rec;
	if (i != cl->next || r->status != 0 || r->value != cl->want[i])
		cl->n_bad++;
	cl->next = i + 1;
	cl->n_replies++;
}

static void
test_call_basic(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	/* stale replies left by a dead session: the new session must never see them */
	for (uint32_t i = 0; i < 3; i++) {
		struct npr_reply r = {
			.hdr = { .type = NPR_MSG_REPLY, .len = sizeof(r), .seq = i }
		};
		r.status = -EIO;
		assert_int_equal(npr_ring_put(&f->rep, &r, sizeof(r)), 0);
	}
	fake_start(f);
	struct npr_client *c = open_ok(f);
	/* the open said HELLO, once */
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_msgs[NPR_MSG_HELLO], 1);
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(atomic_load(&f->n_req), 1);
	struct collected cl = { 0 };
	npr_client_set_handler(c, collect_handler, &cl);

	struct npr_msg_hdr h = { .type = NPR_MSG_HELLO, .len = sizeof(h) };
	struct npr_reply rep;
	assert_int_equal(npr_client_call(c, &h, &rep, NULL, NULL, 1000), 0);
	assert_int_equal(rep.status, 0);
	assert_int_equal(rep.value, 0x1234567890abcdefull); /* all 64 bits */
	assert_int_equal(rep.hdr.seq, h.seq);
	assert_int_equal(h.version, NPR_ABI_VERSION);

	/* a bogus reply (wrong seq) before the real one is dropped */
	h.type = NPR_MSG_SYNC_BEGIN;
	assert_int_equal(npr_client_call(c, &h, &rep, NULL, NULL, 1000), 0);
	assert_int_equal(rep.status, 0);
	assert_int_equal(rep.hdr.seq, h.seq);
	assert_int_equal(cl.n_replies + cl.n_bad, 0); /* nothing went to the handler */

	/* seqs are consecutive */
	uint32_t s1 = h.seq;
	h.type = NPR_MSG_HELLO;
	assert_int_equal(npr_client_call(c, &h, &rep, NULL, NULL, 1000), 0);
	assert_int_equal(h.seq, s1 + 1);
	/* ... from the open's HELLO on: the fake saw 4 requests, each seq one more */
	assert_int_equal(atomic_load(&f->n_req), 4);
	assert_int_equal(atomic_load(&f->seq_errors), 0);
	npr_client_close(c);
	fake_free(f);
}

struct dump_seen {
	uint32_t n_entries, n_chunks;
	bool order_ok;
};

static void
dump_cb(void *ctx, const struct npr_msg_dump_chunk *chunk)
{
	struct dump_seen *d = ctx;
	const struct npr_route4 *r = (const void *)chunk->data;
	for (uint32_t i = 0; i < chunk->count; i++)
		if (r[i].target != 20000 - (d->n_entries + i))
			d->order_ok = false;
	d->n_entries += chunk->count;
	d->n_chunks++;
}

static void
test_call_dump_and_pipelined(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	fake_start(f);
	struct npr_client *c = open_ok(f);
	struct collected cl = { 0 };
	uint64_t want[10];
	cl.want = want;
	cl.n_want = 10;
	npr_client_set_handler(c, collect_handler, &cl);

	/* pipelined requests first: their replies reach the handler, the dump's the callback */
	struct {
		struct npr_msg_hdr h;
		uint64_t body[3];
	} m;
	for (uint32_t i = 0; i < 10; i++) {
		memset(&m, 0, sizeof(m));
		m.h.type = NPR_MSG_GROUP_SET;
		m.h.len = sizeof(m);
		m.body[0] = i * 7919u;
		want[i] = fnv(m.body, sizeof(m.body));
		uint32_t seq;
		assert_int_equal(npr_client_send(c, &m, &seq), 0);
		if (i == 0)
			cl.first_seq = seq;
		assert_int_equal(seq, cl.first_seq + i);
	}
	struct npr_msg_dump_req d = { .hdr = { .type = NPR_MSG_DUMP_REQ, .len = sizeof(d) },
				      .kind = NPR_DUMP_ROUTES4 };
	struct dump_seen seen = { .order_ok = true };
	struct npr_reply rep;
	assert_int_equal(npr_client_call(c, &d, &rep, dump_cb, &seen, 1000), 0);
	assert_int_equal(rep.status, 0);
	assert_int_equal(seen.n_entries, 20000);
	assert_int_equal(seen.n_chunks, 20);
	assert_true(seen.order_ok);
	/* the pipelined replies came before, to the handler, in order, intact */
	assert_int_equal(cl.n_replies, 10);
	assert_int_equal(cl.n_bad, 0);
	assert_int_equal(npr_client_flush(c, 1000), 0);
	npr_client_close(c);
	fake_free(f);
}

static void
test_call_timeout(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	atomic_store(&f->mode, FAKE_PAUSED); /* answers the open's HELLO, then nothing */
	fake_start(f);
	struct npr_client *c = open_ok(f);
	struct collected cl = { 0 };
	uint64_t want[2];
	cl.want = want;
	cl.n_want = 2;
	npr_client_set_handler(c, collect_handler, &cl);

	struct {
		struct npr_msg_hdr h;
		uint64_t body;
	} m = { .h = { .type = NPR_MSG_GROUP_SET, .len = 24 }, .body = 42 };
	want[0] = fnv(&m.body, 8);
	struct npr_reply rep;
	uint64_t t0 = npr_now_ms();
	assert_int_equal(npr_client_call(c, &m, &rep, NULL, NULL, 100), -ETIMEDOUT);
	uint64_t dt = npr_now_ms() - t0;
	assert_true(dt >= 100 && dt < 2000);
	cl.first_seq = m.h.seq;
	assert_int_equal(npr_client_flush(c, 50), -ETIMEDOUT);

	/* the data plane wakes up: the late reply goes to the handler, the next call works */
	atomic_store(&f->mode, FAKE_ECHO);
	m.body = 43;
	want[1] = fnv(&m.body, 8);
	assert_int_equal(npr_client_call(c, &m, &rep, NULL, NULL, 1000), 0);
	assert_int_equal(rep.value, want[1]);
	assert_int_equal(cl.n_replies, 1);
	assert_int_equal(cl.n_bad, 0);
	npr_client_close(c);
	fake_free(f);
}

/* Pipeline many requests of random sizes through a 128 KiB request ring while the data plane
 * starts late (so the client fills the ring and blocks) and answers each one with a large
 * chunk plus a reply, so that its reply ring (128 KiB too, as a slot's rings have one size:
 * two chunks) fills while the client is blocked on the full request ring. Every reply must
 * arrive, in order, intact. */
static void
pipeline_run(unsigned n, uint32_t chunk_bytes, unsigned slow_every, unsigned slow_us)
{
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	f->chunk_bytes = chunk_bytes;
	f->slow_every = slow_every;
	f->slow_us = slow_us;
	f->start_paused_ms = 100; /* after the HELLO: the client fills the ring and blocks first */
	fake_start(f);
	struct npr_client *c = open_ok(f);
	struct collected cl = { 0 };
	cl.want = calloc(n, sizeof(uint64_t));
	cl.n_want = n;
	npr_client_set_handler(c, collect_handler, &cl);
	uint8_t *buf = calloc(1, NPR_MSG_MAX);
	uint32_t rnd = 12345;
	for (unsigned i = 0; i < n; i++) {
		rnd = rnd * 1103515245u + 12345u;
		uint32_t len = 24 + ((rnd >> 8) % 16384);
		len &= ~7u;
		struct npr_msg_hdr *h = (struct npr_msg_hdr *)buf;
		h->type = NPR_MSG_GROUP_SET;
		h->len = len;
		for (uint32_t k = 16; k < len; k++)
			buf[k] = (uint8_t)(rnd >> (k % 24)) ^ (uint8_t)i;
		cl.want[i] = fnv(buf + 16, len - 16);
		uint32_t seq;
		assert_int_equal(npr_client_send(c, buf, &seq), 0);
		if (i == 0)
			cl.first_seq = seq;
	}
	assert_int_equal(npr_client_flush(c, 5000), 0);
	assert_int_equal(cl.n_replies, n);
	assert_int_equal(cl.n_chunks, chunk_bytes > 0 ? n : 0);
	assert_int_equal(cl.n_bad, 0);
	assert_int_equal(atomic_load(&f->n_req), n + 1); /* and the open's HELLO */
	assert_int_equal(atomic_load(&f->seq_errors), 0);
	/* the scenario really happened: the reply ring filled, the request ring was near full */
	if (chunk_bytes > 0)
		assert_true(atomic_load(&f->rep_full_waits) > 0);
	assert_true(atomic_load(&f->req_peak) > 2 * NPR_MSG_MAX - 2 * 16384);
	npr_client_close(c);
	free(cl.want);
	free(buf);
	fake_free(f);
}

static void
test_pipeline_reply_ring_full(void **state)
{
	(void)state;
	pipeline_run(3000, 49152, 0, 0);
}

static void
test_pipeline_slow_consumer(void **state)
{
	(void)state;
	pipeline_run(1500, 0, 50, 2000);
}

/* The data plane disappears while the client waits for room: -EPIPE, promptly. */
static void
test_send_dp_gone(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	atomic_store(&f->mode, FAKE_PAUSED); /* answers the open's HELLO, then nothing */
	f->die_after_ms = 200;		     /* after that HELLO */
	fake_start(f);
	struct npr_client *c = open_ok(f);
	uint8_t *buf = calloc(1, 8192);
	struct npr_msg_hdr *h = (struct npr_msg_hdr *)buf;
	h->type = NPR_MSG_GROUP_SET;
	h->len = 8192;
	uint64_t t0 = npr_now_ms();
	int rc = 0;
	unsigned sent = 0;
	while ((rc = npr_client_send(c, buf, NULL)) == 0)
		sent++;
	uint64_t dt = npr_now_ms() - t0;
	assert_int_equal(rc, -EPIPE);
	assert_int_equal(sent, 2 * NPR_MSG_MAX / 8192); /* exactly a ringful went in */
	assert_true(dt >= 150 && dt < 2000);
	/* and stays failed */
	assert_int_equal(npr_client_send(c, buf, NULL), -EPIPE);
	struct npr_reply rep;
	assert_int_equal(npr_client_call(c, buf, &rep, NULL, NULL, 100), -EPIPE);
	assert_int_equal(npr_client_flush(c, 100), -EPIPE);
	free(buf);
	npr_client_close(c);
	fake_free(f);
}

static void
test_send_invalid(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(2 * NPR_MSG_MAX, 2 * NPR_MSG_MAX);
	fake_start(f);
	struct npr_client *c = open_ok(f);
	struct npr_msg_hdr h = { .type = NPR_MSG_HELLO, .len = 12 };
	assert_int_equal(npr_client_send(c, &h, NULL), -EINVAL);
	h.len = NPR_MSG_MAX + 8;
	assert_int_equal(npr_client_send(c, &h, NULL), -EINVAL);
	/* nothing is owed: flush returns at once */
	assert_int_equal(npr_client_flush(c, 0), 0);
	assert_int_equal(atomic_load(&f->n_req), 1); /* the open's HELLO only */
	npr_client_close(c);
	fake_free(f);
}

/* ---- parsers ---- */

static void
test_parse_prefix(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int ok;
		int fam;
		uint8_t plen;
		uint8_t addr[16];
	} cases[] = {
		{ "10.0.0.0/8", 1, 4, 8, { 10 } },
		{ "0.0.0.0/0", 1, 4, 0, { 0 } },
		{ "192.0.2.1/32", 1, 4, 32, { 192, 0, 2, 1 } },
		{ "255.255.255.255/32", 1, 4, 32, { 255, 255, 255, 255 } },
		{ "100.64.0.0/10", 1, 4, 10, { 100, 64 } },
		{ "2001:db8::/32", 1, 6, 32, { 0x20, 0x01, 0x0d, 0xb8 } },
		{ "::/0", 1, 6, 0, { 0 } },
		{ "::1/128", 1, 6, 128, { [15] = 1 } },
		{ "2001:DB8:0:1::/64", 1, 6, 64, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 } },
		{ "::ffff:10.0.0.0/104", 1, 6, 104, { [10] = 0xff, [11] = 0xff, [12] = 10 } },
		/* host bits */
		{ "10.0.0.1/8", 0, 0, 0, { 0 } },
		{ "10.128.0.0/8", 0, 0, 0, { 0 } },
		{ "2001:db8::1/64", 0, 0, 0, { 0 } },
		{ "0.0.0.1/0", 0, 0, 0, { 0 } },
		/* lengths */
		{ "10.0.0.0/33", 0, 0, 0, { 0 } },
		{ "2001:db8::/129", 0, 0, 0, { 0 } },
		{ "10.0.0.0/", 0, 0, 0, { 0 } },
		{ "10.0.0.0/-1", 0, 0, 0, { 0 } },
		{ "10.0.0.0/+8", 0, 0, 0, { 0 } },
		{ "10.0.0.0/08", 0, 0, 0, { 0 } },
		{ "10.0.0.0/8 ", 0, 0, 0, { 0 } },
		{ "10.0.0.0/8x", 0, 0, 0, { 0 } },
		{ "10.0.0.0", 0, 0, 0, { 0 } },
		/* addresses */
		{ "", 0, 0, 0, { 0 } },
		{ "/8", 0, 0, 0, { 0 } },
		{ "junk/8", 0, 0, 0, { 0 } },
		{ "10.0.0/8", 0, 0, 0, { 0 } },
		{ "10.0.0.0.0/8", 0, 0, 0, { 0 } },
		{ "256.0.0.0/8", 0, 0, 0, { 0 } },
		{ "010.0.0.0/8", 0, 0, 0, { 0 } }, /* leading zero: octal to inet_aton */
		{ "10.00.0.0/16", 0, 0, 0, { 0 } },
		{ "1000.0.0.0/8", 0, 0, 0, { 0 } },
		{ " 10.0.0.0/8", 0, 0, 0, { 0 } },
		{ "10..0.0/8", 0, 0, 0, { 0 } },
		{ "0x0a.0.0.0/8", 0, 0, 0, { 0 } },
		{ "2001:db8::g/32", 0, 0, 0, { 0 } },
		{ "2001:db8:::/32", 0, 0, 0, { 0 } },
		{ "fe80::%eth0/64", 0, 0, 0, { 0 } },
		{ "10.0.0.0/8/8", 0, 0, 0, { 0 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fam = -1;
		uint8_t addr[16], plen = 0;
		memset(addr, 0x55, sizeof(addr));
		int rc = npr_parse_prefix(cases[i].s, &fam, addr, &plen);
		if (!cases[i].ok) {
			if (rc != -EINVAL)
				fail_msg("'%s' accepted", cases[i].s);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' rejected", cases[i].s);
		assert_int_equal(fam, cases[i].fam);
		assert_int_equal(plen, cases[i].plen);
		assert_memory_equal(addr, cases[i].addr, 16); /* IPv4: the rest zeroed */
	}
	assert_int_equal(npr_parse_prefix(NULL, NULL, NULL, NULL), -EINVAL);

	/* interface addresses may have host bits */
	int fam;
	uint8_t a[16], plen;
	assert_int_equal(npr_parse_ifaddr("192.0.2.1/24", &fam, a, &plen), 0);
	assert_int_equal(plen, 24);
	assert_int_equal(a[3], 1);
	assert_int_equal(npr_parse_ifaddr("192.0.2.1/33", &fam, a, &plen), -EINVAL);
	assert_int_equal(npr_parse_ifaddr("2001:db8::1/64", &fam, a, &plen), 0);

	/* the explanations, with the canonical prefix for host bits */
	char why[128];
	assert_string_equal(npr_prefix_strerror("10.1.2.3/8", why, sizeof(why)),
			    "host bits set beyond /8: the prefix is 10.0.0.0/8");
	assert_string_equal(npr_prefix_strerror("2001:db8::1/33", why, sizeof(why)),
			    "host bits set beyond /33: the prefix is 2001:db8::/33");
	assert_string_equal(npr_prefix_strerror("10.0.0.0/33", why, sizeof(why)),
			    "prefix length 33 > 32");
	assert_string_equal(npr_prefix_strerror("::/129", why, sizeof(why)),
			    "prefix length 129 > 128");
	assert_string_equal(npr_prefix_strerror("", why, sizeof(why)), "empty prefix");
	assert_string_equal(npr_prefix_strerror("10.0.0.0", why, sizeof(why)), "missing /LENGTH");
	assert_string_equal(npr_prefix_strerror("1.2.3/8", why, sizeof(why)),
			    "bad address '1.2.3'");
	assert_string_equal(npr_prefix_strerror("1.2.3.0/x", why, sizeof(why)),
			    "bad prefix length 'x'");
	assert_string_equal(npr_prefix_strerror("1.2.3.0/24", why, sizeof(why)), "valid prefix");

	/* masking, checked against a bit-by-bit reference */
	for (unsigned len = 0; len <= 128; len++) {
		uint8_t x[16];
		memset(x, 0xff, sizeof(x));
		npr_prefix_mask(NPR_AF_INET6, x, (uint8_t)len);
		for (unsigned b = 0; b < 128; b++) {
			bool set = x[b / 8] & (0x80 >> (b % 8));
			assert_int_equal(set, b < len);
		}
	}
}

static void
test_parse_addr_mac(void **state)
{
	(void)state;
	int fam;
	uint8_t a[16];
	char buf[64];
	assert_int_equal(npr_parse_addr("192.0.2.1", &fam, a), 0);
	assert_int_equal(fam, NPR_AF_INET);
	assert_string_equal(npr_format_addr(fam, a, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(npr_parse_addr("2001:db8::1", &fam, a), 0);
	assert_int_equal(fam, NPR_AF_INET6);
	assert_string_equal(npr_format_addr(fam, a, buf, sizeof(buf)), "2001:db8::1");
	assert_string_equal(npr_format_addr(AF_INET6, a, buf, sizeof(buf)), "2001:db8::1");
	assert_string_equal(npr_format_addr(0, a, buf, sizeof(buf)), "?");
	assert_string_equal(
		npr_format_prefix(NPR_AF_INET, (const uint8_t *)"\x0a\0\0\0", 8, buf, sizeof(buf)),
		"10.0.0.0/8");
	const char *bad[] = { "",    "1.2.3",	 "1.2.3.4/32", "01.2.3.4",  "1.2.3.4 ",
			      "::g", "1.2.3.-4", "abc",	       "1.2.3.4.5", ":::" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (npr_parse_addr(bad[i], &fam, a) != -EINVAL)
			fail_msg("address '%s' accepted", bad[i]);

	uint8_t mac[6];
	assert_int_equal(npr_parse_mac("02:00:5e:0A:Bc:ff", mac), 0);
	assert_memory_equal(mac, "\x02\x00\x5e\x0a\xbc\xff", 6);
	const char *badmac[] = { "",
				 "02:00:5e:0a:bc",
				 "02:00:5e:0a:bc:ff:00",
				 "2:0:5e:a:bc:ff",
				 "02-00-5e-0a-bc-ff",
				 "02:00:5e:0a:bc:fg",
				 "0200.5e0a.bcff",
				 "02:00:5e:0a:bc:ff " };
	for (size_t i = 0; i < sizeof(badmac) / sizeof(badmac[0]); i++)
		if (npr_parse_mac(badmac[i], mac) != -EINVAL)
			fail_msg("MAC '%s' accepted", badmac[i]);

	assert_string_equal(npr_strstatus(0), "OK");
	assert_string_equal(npr_strstatus(-ENOENT), "ENOENT: no such object");
	assert_string_equal(npr_strstatus(-ECANCELED), "ECANCELED: batch cancelled");
	assert_non_null(strstr(npr_strstatus(-EXDEV), "EXDEV: "));
}

/* ---- route load: parser ---- */

static void
test_load_parse_line(void **state)
{
	(void)state;
	struct load_opts o;
	char why[256];
	struct npr_route4 r4;
	struct npr_route6 r6;
	char *argv1[] = { "f.txt" };
	assert_int_equal(load_parse_args(1, argv1, &o, why, sizeof(why)), 0);

	char l1[] = "10.0.0.0/8 5\n";
	assert_int_equal(load_parse_line(l1, &o, &r4, &r6, why, sizeof(why)), 4);
	assert_int_equal(r4.prefix, htonl(0x0a000000));
	assert_int_equal(r4.plen, 8);
	assert_int_equal(r4.target, 5);
	char l2[] = "  2001:db8::/32\t7  # comment\r\n";
	assert_int_equal(load_parse_line(l2, &o, &r4, &r6, why, sizeof(why)), 6);
	assert_int_equal(r6.plen, 32);
	assert_int_equal(r6.target, 7);
	assert_int_equal(r6.prefix[1], 0x01);
	char l3[] = "   # only a comment\n", l4[] = "\n", l5[] = "";
	assert_int_equal(load_parse_line(l3, &o, &r4, &r6, why, sizeof(why)), 0);
	assert_int_equal(load_parse_line(l4, &o, &r4, &r6, why, sizeof(why)), 0);
	assert_int_equal(load_parse_line(l5, &o, &r4, &r6, why, sizeof(why)), 0);

	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "10.0.0.0/8", "no next hop id" },
		{ "10.0.0.1/8 5", "host bits set beyond /8: the prefix is 10.0.0.0/8" },
		{ "10.0.0.0/33 5", "prefix length 33 > 32" },
		{ "10.0.0.0/8 0", "out of range" },
		{ "10.0.0.0/8 x", "bad number 'x'" },
		{ "10.0.0.0/8 -5", "bad number" },
		{ "10.0.0.0/8 5 6", "unexpected '6'" },
		{ "10.0.0.0/8 4294967296", "bad number" },
		{ "10.0.0.0/8 536870912", "out of range" },
		{ "junk/8 5", "bad address 'junk'" },
		{ "junk 5", "missing /LENGTH" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "%s", bad[i].line);
		why[0] = '\0';
		assert_int_equal(load_parse_line(line, &o, &r4, &r6, why, sizeof(why)), -EINVAL);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("'%s': reason '%s' lacks '%s'", bad[i].line, why, bad[i].why);
	}

	/* with --nexthops: FIELD % n, or a hash of the prefix */
	char *argv2[] = { "f.txt", "--nexthops", "11,12,13", "--batch" };
	assert_int_equal(load_parse_args(4, argv2, &o, why, sizeof(why)), 0);
	assert_int_equal(o.n_nh, 3);
	assert_true(o.batch);
	assert_false(o.replace);
	char l6[] = "10.0.0.0/8 13335";
	assert_int_equal(load_parse_line(l6, &o, &r4, &r6, why, sizeof(why)), 4);
	assert_int_equal(r4.target, 11 + 13335 % 3);
	char l7[] = "10.0.0.0/8";
	assert_int_equal(load_parse_line(l7, &o, &r4, &r6, why, sizeof(why)), 4);
	uint8_t p[16] = { 10 };
	assert_int_equal(r4.target, 11 + load_hash(NPR_AF_INET, p, 8) % 3);
	/* FNV-1a reference for 10.0.0.0/8 */
	uint32_t h = 2166136261u;
	for (int i = 0; i < 4; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ 8) * 16777619u;
	assert_int_equal(load_hash(NPR_AF_INET, p, 8), h);
	char l8[] = "10.0.0.0/8 0"; /* AS 0 is fine as a key */
	assert_int_equal(load_parse_line(l8, &o, &r4, &r6, why, sizeof(why)), 4);
	assert_int_equal(r4.target, 11);

	/* arguments */
	char *a3[] = { "--nexthops", "1,,2", "f" };
	assert_int_equal(load_parse_args(3, a3, &o, why, sizeof(why)), 0); /* empty items skipped */
	assert_int_equal(o.n_nh, 2);
	char *a4[] = { "--nexthops", "1,0", "f" };
	assert_int_equal(load_parse_args(3, a4, &o, why, sizeof(why)), -EINVAL);
	char *a5[] = { "f", "g" };
	assert_int_equal(load_parse_args(2, a5, &o, why, sizeof(why)), -EINVAL);
	char *a6[] = { "--batch" };
	assert_int_equal(load_parse_args(1, a6, &o, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "missing FILE");
	char *a7[] = { "f", "--bogus" };
	assert_int_equal(load_parse_args(2, a7, &o, why, sizeof(why)), -EINVAL);
	char *a8[] = { "f", "--nexthops=4,5", "--replace" };
	assert_int_equal(load_parse_args(3, a8, &o, why, sizeof(why)), 0);
	assert_int_equal(o.n_nh, 2);
	assert_int_equal(o.nh[1], 5);
	assert_true(o.replace);
	char *a9[] = { "f", "--nexthops", "1", "--nexthops=4" }; /* not the last one silently */
	assert_int_equal(load_parse_args(4, a9, &o, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--nexthops given twice: one list, ID[,ID...]");
}

static char tmpdir[64];

static void
write_file(const char *path, const char *text, bool gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");
		assert_non_null(g);
		assert_int_equal(gzputs(g, text), (int)strlen(text));
		gzclose(g);
	} else {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
}

static void
test_load_parse_file(void **state)
{
	(void)state;
	char path[128], gzpath[128];
	snprintf(path, sizeof(path), "%s/routes.txt", tmpdir);
	snprintf(gzpath, sizeof(gzpath), "%s/routes.txt.gz", tmpdir);
	const char *good = "# a table\n"
			   "10.0.0.0/8 1\n"
			   "\n"
			   "2001:db8::/32 2\n"
			   "192.0.2.0/24 3   # trailing comment\n"
			   "192.0.2.128/25\t4\r\n"
			   "::/0 5"; /* no final newline */
	struct load_opts o;
	struct load_table t;
	char why[128];
	char *argv[] = { path };
	assert_int_equal(load_parse_args(1, argv, &o, why, sizeof(why)), 0);

	for (int gz = 0; gz < 2; gz++) {
		write_file(gz ? gzpath : path, good, gz);
		o.path = gz ? gzpath : path;
		assert_int_equal(load_parse_file(&o, &t, stderr), 0);
		assert_int_equal(t.n4, 3);
		assert_int_equal(t.n6, 2);
		assert_int_equal(t.n_lines, 7);
		assert_int_equal(t.n_bad, 0);
		assert_int_equal(t.line4[0], 2);
		assert_int_equal(t.line4[2], 6);
		assert_int_equal(t.line6[0], 4);
		assert_int_equal(t.line6[1], 7);
		assert_int_equal(t.r4[2].plen, 25);
		assert_int_equal(t.r4[2].target, 4);
		assert_int_equal(t.r6[1].plen, 0);
		load_table_free(&t);
	}

	/* bad lines: every one reported with FILE:LINE, up to 20, then a count */
	const size_t cap = 64 * 1024;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t n = 0;
	n += (size_t)snprintf(text + n, cap - n, "10.0.0.0/8 1\n10.0.0.1/8 1\n");
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(text + n, cap - n, "junk%d\n", i);
	n += (size_t)snprintf(text + n, cap - n, "11.0.0.0/8 1\n");
	/* a line longer than the parser's buffer */
	memset(text + n, 'x', 2000);
	n += 2000;
	n += (size_t)snprintf(text + n, cap - n, "\n12.0.0.0/8 2\n");
	write_file(path, text, false);
	o.path = path;
	char *out = NULL;
	size_t outlen = 0;
	FILE *err = open_memstream(&out, &outlen);
	assert_int_equal(load_parse_file(&o, &t, err), -EINVAL);
	fclose(err);
	assert_int_equal(t.n_bad, 32);
	assert_int_equal(t.n4, 3);
	assert_int_equal(t.n_lines, 35);
	char want[256];
	snprintf(want, sizeof(want),
		 "%s:2: '10.0.0.1/8': host bits set beyond /8: the prefix is 10.0.0.0/8\n", path);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s:3: '", path);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s:21: ", path); /* the 20th bad line */
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s:22: ", path); /* the 21st is not printed */
	assert_null(strstr(out, want));
	assert_non_null(strstr(out, "... and 12 more bad lines"));
	free(out);
	load_table_free(&t);
	free(text);

	/* a missing file, a truncated gzip file */
	snprintf(path, sizeof(path), "%s/nope.txt", tmpdir);
	o.path = path;
	err = open_memstream(&out, &outlen);
	assert_int_equal(load_parse_file(&o, &t, err), -ENOENT);
	fclose(err);
	assert_non_null(strstr(out, "No such file"));
	free(out);
	load_table_free(&t);

	char big[4096];
	memset(big, ' ', sizeof(big));
	for (size_t i = 0; i + 16 < sizeof(big); i += 15)
		memcpy(big + i, "10.0.0.0/8 1\n  ", 15);
	big[sizeof(big) - 1] = '\0';
	write_file(gzpath, big, true);
	FILE *g = fopen(gzpath, "r+");
	fseek(g, 0, SEEK_END);
	long sz = ftell(g);
	fclose(g);
	assert_int_equal(truncate(gzpath, sz / 2), 0);
	o.path = gzpath;
	err = open_memstream(&out, &outlen);
	assert_int_equal(load_parse_file(&o, &t, err), -EIO);
	fclose(err);
	free(out);
	load_table_free(&t);
}

/* ---- route load: push ---- */

static void
make_table(struct load_table *t, size_t n4, size_t n6, uint32_t bad_at, uint64_t *hash)
{
	memset(t, 0, sizeof(*t));
	t->r4 = calloc(n4 + 1, sizeof(*t->r4));
	t->line4 = calloc(n4 + 1, sizeof(uint32_t));
	t->r6 = calloc(n6 + 1, sizeof(*t->r6));
	t->line6 = calloc(n6 + 1, sizeof(uint32_t));
	t->n4 = n4;
	t->n6 = n6;
	*hash = 0;
	for (size_t i = 0; i < n4; i++) {
		t->r4[i].prefix = htonl((uint32_t)i << 8);
		t->r4[i].plen = 24;
		t->r4[i].target = i == bad_at ? 999 : (uint32_t)(i % 7 + 1);
		t->line4[i] = (uint32_t)i + 1;
		*hash += route4_hash(&t->r4[i]);
	}
	for (size_t i = 0; i < n6; i++) {
		t->r6[i].prefix[0] = 0x20;
		memcpy(&t->r6[i].prefix[4], &i, sizeof(uint32_t));
		t->r6[i].plen = 64;
		t->r6[i].target = (uint32_t)(i % 5 + 1);
		t->line6[i] = (uint32_t)(n4 + i + 1);
		*hash += route6_hash(&t->r6[i]);
	}
}

static void
test_load_push(void **state)
{
	(void)state;
	struct fake_dp *f = fake_new(1u << 20, 2 * NPR_MSG_MAX);
	fake_start(f);
	struct load_opts o;
	memset(&o, 0, sizeof(o));
	o.path = "table.txt";
	struct load_table t;
	struct load_result res;
	uint64_t hash;
	const size_t n4 = 50000, n6 = 9000;

	/* plain: pipelined, every entry arrives intact */
	make_table(&t, n4, n6, UINT32_MAX, &hash);
	struct npr_client *c = open_ok(f);
	assert_int_equal(load_push(c, &o, &t, 2000, &res, stderr), 0);
	npr_client_close(c);
	assert_int_equal(res.n4, n4);
	assert_int_equal(res.n6, n6);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->routes4, n4);
	assert_int_equal(f->routes6, n6);
	assert_int_equal(f->route_hash, hash);
	assert_int_equal(f->n_msgs[NPR_MSG_ROUTE4_ADD], (n4 + NPR_ROUTE4_MAX - 1) / NPR_ROUTE4_MAX);
	assert_int_equal(f->n_msgs[NPR_MSG_ROUTE6_ADD], (n6 + NPR_ROUTE6_MAX - 1) / NPR_ROUTE6_MAX);
	assert_int_equal(f->n_msgs[NPR_MSG_BATCH_BEGIN], 0);
	pthread_mutex_unlock(&f->lock);
	load_table_free(&t);

	/* batch + replace: everything between BEGIN and COMMIT */
	o.batch = 1;
	o.replace = 1;
	make_table(&t, n4, 0, UINT32_MAX, &hash);
	c = open_ok(f);
	assert_int_equal(load_push(c, &o, &t, 2000, &res, stderr), 0);
	npr_client_close(c);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->routes4, 2 * n4);
	assert_int_equal(f->n_batches_committed, 1);
	assert_int_equal(f->n_msgs[NPR_MSG_ROUTE4_REPLACE],
			 (n4 + NPR_ROUTE4_MAX - 1) / NPR_ROUTE4_MAX);
	pthread_mutex_unlock(&f->lock);
	load_table_free(&t);

	/* a bad entry in a batch: reported with its line, batch aborted, nothing applied */
	make_table(&t, n4, 0, 30000, &hash);
	char *out = NULL;
	size_t outlen = 0;
	FILE *err = open_memstream(&out, &outlen);
	c = open_ok(f);
	assert_int_equal(load_push(c, &o, &t, 2000, &res, err), 1);
	npr_client_close(c);
	fclose(err);
	assert_non_null(strstr(out, "table.txt:30001: 0.117.48.0/24: ENOENT: no such object: next "
				    "hop 999 does not exist"));
	assert_non_null(strstr(out, "batch aborted"));
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->routes4, 2 * n4);
	assert_int_equal(f->n_batches_aborted, 1);
	pthread_mutex_unlock(&f->lock);
	free(out);

	/* a batch left open by a session that died: the next session's HELLO aborts it, and
	 * its batch begins at once (no -EALREADY, no BATCH_ABORT needed) */
	load_table_free(&t);
	make_table(&t, 5000, 0, UINT32_MAX, &hash);
	c = open_ok(f);
	struct npr_msg_hdr bh = { .type = NPR_MSG_BATCH_BEGIN, .len = sizeof(bh) };
	struct npr_reply brep;
	assert_int_equal(npr_client_call(c, &bh, &brep, NULL, NULL, 1000), 0);
	assert_int_equal(brep.status, 0);
	npr_client_close(c); /* dies with the batch open */
	pthread_mutex_lock(&f->lock);
	assert_true(f->in_batch);
	unsigned aborts_sent = f->n_msgs[NPR_MSG_BATCH_ABORT];
	pthread_mutex_unlock(&f->lock);
	c = open_ok(f);
	pthread_mutex_lock(&f->lock);
	assert_false(f->in_batch);
	assert_int_equal(f->n_hello_aborts, 1);
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(load_push(c, &o, &t, 2000, &res, stderr), 0);
	npr_client_close(c);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->routes4, 2 * n4 + 5000);
	assert_int_equal(f->n_batches_aborted, 2);
	assert_int_equal(f->n_batches_committed, 2);
	assert_int_equal(f->n_msgs[NPR_MSG_BATCH_ABORT], aborts_sent);
	pthread_mutex_unlock(&f->lock);
	load_table_free(&t);
	make_table(&t, n4, 0, 30000, &hash);

	/* the same without a batch: stops, says how much was applied */
	o.batch = 0;
	o.replace = 0;
	err = open_memstream(&out, &outlen);
	c = open_ok(f);
	assert_int_equal(load_push(c, &o, &t, 2000, &res, err), 1);
	npr_client_close(c);
	fclose(err);
	assert_non_null(strstr(out, "table.txt:30001:"));
	assert_non_null(strstr(out, "routes were applied before the error"));
	free(out);
	load_table_free(&t);

	/* data plane gone in the middle */
	make_table(&t, n4, 0, UINT32_MAX, &hash);
	atomic_store(&f->mode, FAKE_PAUSED); /* answers the open's HELLO, then nothing */
	c = open_ok(f);
	f->die_after_ms = 1; /* the thread checks it before its next poll */
	fake_stop(f);
	fake_start(f);
	err = open_memstream(&out, &outlen);
	assert_int_equal(load_push(c, &o, &t, 2000, &res, err), 3);
	fclose(err);
	assert_non_null(strstr(out, "EPIPE"));
	free(out);
	npr_client_close(c);
	load_table_free(&t);
	fake_free(f);
}

/* ---- nprouter-control against the fake ---- */

static const char *control_bin;

/* Run the CLI with a shell command line; returns its exit status, output in *out. */
static int
run_cli(struct fake_dp *f, char **out, const char *fmt, ...)
{
	char args[1024], cmd[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s --shm %s --timeout 2000 %s 2>&1", control_bin,
		 f != NULL ? f->name : "npr-test-none", args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t k;
	while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += k;
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[n] = '\0';
	int st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define EXPECT_CLI(f, code, want, ...)                                                             \
	do {                                                                                       \
		char *out_;                                                                        \
		int rc_ = run_cli(f, &out_, __VA_ARGS__);                                          \
		if (rc_ != (code) || strstr(out_, (want)) == NULL)                                 \
			fail_msg("'%s': exit %d (want %d), output:\n%s\n(want '%s')",              \
				 #__VA_ARGS__, rc_, (code), out_, (want));                         \
		free(out_);                                                                        \
	} while (0)

static void
test_cli(void **state)
{
	(void)state;
	char *out;
	if (control_bin == NULL) {
		printf("skipping: NPR_CONTROL (path of nprouter-control) is not set\n");
		skip();
	}
	/* exit codes without a data plane */
	EXPECT_CLI(NULL, 3, "nprouter-control: no data plane running: /dev/shm/npr-test-none",
		   "hello");
	EXPECT_CLI(NULL, 2, "unknown command 'frobnicate'", "frobnicate");
	EXPECT_CLI(NULL, 2, "invalid shared-memory name '../x'", "--shm ../x hello");
	EXPECT_CLI(NULL, 2,
		   "bad prefix '10.0.0.1/8': host bits set beyond /8: the prefix is "
		   "10.0.0.0/8",
		   "route add 10.0.0.1/8 nexthop 1");

	struct fake_dp *f = fake_new(1u << 20, 2 * NPR_MSG_MAX);
	fake_start(f);
	EXPECT_CLI(f, 0, "data plane up, instance 1234567890abcdef", "hello");
	EXPECT_CLI(f, 0, "{\"instance_id\":1311768467294899695,\"session\":0}", "--json hello");
	EXPECT_CLI(f, 0,
		   "1    port1            1     net_null1            02:00:00:00:00:02  1500  up",
		   "show interfaces");
	EXPECT_CLI(f, 0, "{\"port_id\":1,\"name\":\"net_null1\"", "--json show ports");
	EXPECT_CLI(f, 0, "ID       KIND", "show nexthops"); /* none yet */
	EXPECT_CLI(f, 0, "[]", "--json show nexthops");

	/* an inline next hop is created with the lowest free id, then reused */
	EXPECT_CLI(f, 0, "created nexthop 1", "route add 10.0.0.0/8 via 192.0.2.2 dev port0");
	EXPECT_CLI(f, 0, "", "route add 10.1.0.0/16 via 192.0.2.2 dev port0");
	EXPECT_CLI(f, 0, "created nexthop 2", "route add 10.2.0.0/16 via 192.0.2.3 dev port0");
	EXPECT_CLI(f, 0, "created nexthop 3", "route add 10.3.0.0/16 blackhole");
	EXPECT_CLI(f, 0, "{\"ok\":true}", "--json route add 10.4.0.0/16 blackhole");
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_nh_set, 3);
	assert_int_equal(f->routes4, 5);
	assert_int_equal(f->r4[1].target, 1);
	assert_int_equal(f->r4[4].target, 3);
	pthread_mutex_unlock(&f->lock);
	EXPECT_CLI(f, 0, "10.1.2.3 via 192.0.2.2 dev port0 (nexthop 1)", "route get 10.1.2.3");
	EXPECT_CLI(f, 0, "10.3.0.1 blackhole (nexthop 3)", "route get 10.3.0.1");
	EXPECT_CLI(f, 0, "11.0.0.1: no route", "route get 11.0.0.1");
	EXPECT_CLI(f, 0, "2        forward      192.0.2.3", "show nexthops");
	EXPECT_CLI(f, 0, "unresolved                 1      cli (inline)", "show nexthops");
	EXPECT_CLI(f, 0, "\"origin\":\"cli\",\"inline\":true", "--json show nexthops");

	/* rejected by the data plane: its message, exit 1 */
	EXPECT_CLI(f, 1,
		   "nprouter-control: route add 10.9.0.0/16 nexthop 999: ENOENT: no such object: "
		   "next hop 999 does not exist",
		   "route add 10.9.0.0/16 nexthop 999");
	EXPECT_CLI(f, 1, "no interface 'eth9'", "route add 10.9.0.0/16 via 192.0.2.2 dev eth9");
	/* words too many or twice: named, exit 2 */
	EXPECT_CLI(f, 2, "unexpected 'extra' after 'blackhole'",
		   "route add 10.9.0.0/16 blackhole extra");
	EXPECT_CLI(f, 2, "'dev' given twice", "nexthop set 8 via 192.0.2.9 dev port0 dev port0");
	EXPECT_CLI(f, 2, "'down' after 'up': say up or down once", "interface set port0 up down");
	EXPECT_CLI(f, 2, "'mtu' given twice", "interface set port0 mtu 1400 mtu 1500");

	/* interfaces: new ones get the lowest free id */
	EXPECT_CLI(f, 0, "", "interface set lan port net_null1 mtu 9000 down");
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_ifaces, 3);
	assert_int_equal(f->ifaces[2].ifid, 2);
	assert_int_equal(f->ifaces[2].port_id, 1);
	assert_int_equal(f->ifaces[2].mtu, 9000);
	assert_int_equal(f->ifaces[2].flags, 0);
	pthread_mutex_unlock(&f->lock);
	EXPECT_CLI(f, 1, "no port 'net_null7'", "interface set wan port net_null7");
	EXPECT_CLI(f, 2, "a new interface needs port PORT", "interface set wan mtu 1400");

	/* batch: all or nothing; a bad line sends nothing */
	char path[128];
	snprintf(path, sizeof(path), "%s/batch.txt", tmpdir);
	write_file(path,
		   "# two routes and a next hop\n"
		   "nexthop set 10 via 198.51.100.1 dev lan\n"
		   "route add 172.16.0.0/12 nexthop 10\n"
		   "\n"
		   "route add 172.32.0.0/16 via 198.51.100.1 dev lan   # reuses 10\n",
		   false);
	unsigned before = f->n_batches_committed;
	EXPECT_CLI(f, 0, "", "batch %s", path);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_batches_committed, before + 1); /* no sweep: nothing unused */
	assert_int_equal(f->routes4, 7);
	assert_int_equal(f->n_nh_set, 4);
	assert_int_equal(f->n_msgs[NPR_MSG_NH_DEL], 0); /* every inline next hop has its route */
	/* the sweep after a route command: inline next hops with no route go, others stay */
	unsigned n_nhs = f->n_nhs;
	f->nhs[f->n_nhs++] = (struct npr_dump_nh){ .nh_id = 40,
						   .kind = NPR_NH_BLACKHOLE,
						   .flags = NPR_NH_F_INLINE };
	f->nhs[f->n_nhs++] = (struct npr_dump_nh){ .nh_id = 41, .kind = NPR_NH_BLACKHOLE };
	pthread_mutex_unlock(&f->lock);
	EXPECT_CLI(f, 0, "", "route del 10.9.9.0/24");
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_msgs[NPR_MSG_NH_DEL], 1);
	assert_int_equal(f->n_nhs, n_nhs + 1);
	bool have41 = false;
	for (unsigned i = 0; i < f->n_nhs; i++) {
		assert_int_not_equal(f->nhs[i].nh_id, 40);
		have41 |= f->nhs[i].nh_id == 41;
	}
	assert_true(have41);
	pthread_mutex_unlock(&f->lock);

	write_file(path,
		   "route add 172.16.0.0/12 nexthop 10\n"
		   "route add 172.16.0.1/12 nexthop 10\n"
		   "show routes\n",
		   false);
	pthread_mutex_lock(&f->lock);
	unsigned begins = f->n_msgs[NPR_MSG_BATCH_BEGIN];
	pthread_mutex_unlock(&f->lock);
	EXPECT_CLI(f, 2, ":2: route add 172.16.0.1/12 nexthop 10: bad prefix", "batch %s", path);
	EXPECT_CLI(f, 2, ":3: show routes: 'show' cannot be used in a batch", "batch %s", path);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->n_msgs[NPR_MSG_BATCH_BEGIN], begins);
	pthread_mutex_unlock(&f->lock);

	write_file(path,
		   "route add 172.16.0.0/12 nexthop 10\n"
		   "route add 172.17.0.0/16 nexthop 999\n"
		   "route add 172.18.0.0/16 nexthop 10\n"
		   "route add 172.19.0.0/16 nexthop 10\n",
		   false);
	EXPECT_CLI(f, 1, ":2: route add 172.17.0.0/16 nexthop 999: ENOENT", "batch %s", path);
	assert_int_equal(run_cli(f, &out, "batch %s", path), 1);
	assert_null(strstr(out, "ECANCELED")); /* the cancelled rest is not reported as errors */
	assert_non_null(strstr(out, "aborted, nothing applied"));
	free(out);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->routes4, 7); /* nothing applied */
	pthread_mutex_unlock(&f->lock);

	/* route load */
	snprintf(path, sizeof(path), "%s/load.txt.gz", tmpdir);
	write_file(path, "1.0.0.0/24 13335\n1.0.4.0/22 38803\n2001::/32 6939\n", true);
	EXPECT_CLI(f, 0, "loaded 3 routes (IPv4 2, IPv6 1) in", "route load %s --nexthops 1,2",
		   path);
	EXPECT_CLI(f, 0, "\"routes\":3,\"ipv4\":2,\"ipv6\":1",
		   "--json route load %s --nexthops 1,2 --batch", path);
	write_file(path, "1.0.0.0/24 13335\n1.0.4.1/22 38803\n", true);
	EXPECT_CLI(f, 2, "load.txt.gz:2: '1.0.4.1/22': host bits set", "route load %s", path);
	EXPECT_CLI(f, 2, "load.txt.gz: 1 bad line, nothing sent", "route load %s", path);
	write_file(path, "1.0.0.0/24\n1.0.4.0/22\n", true);
	EXPECT_CLI(f, 2, "2 bad lines, nothing sent", "route load %s", path);

	/* dumps and JSON */
	EXPECT_CLI(f, 0, "10.78.31.0/24 nexthop 20000", "show routes 4");
	/* sorted by prefix whatever order the data plane dumps in */
	EXPECT_CLI(f, 0,
		   "10.0.0.0/24 via 192.0.2.2 dev port0 (nexthop 1) [cli 1]\n"
		   "10.0.1.0/24 via 192.0.2.3 dev port0 (nexthop 2) [cli 1]\n"
		   "10.0.2.0/24 blackhole (nexthop 3) [cli 1]\n10.0.3.0/24 nexthop 4 [cli 1]\n",
		   "show routes 4");
	EXPECT_CLI(f, 0,
		   "[{\"prefix\":\"10.0.0.0/"
		   "24\",\"target\":1,\"origin\":\"cli\",\"distance\":1,\"proto\":0,"
		   "\"active\":true,\"nexthop\":1},{\"prefix\":\"10.0.1.0/24\"",
		   "--json show routes");
	EXPECT_CLI(f, 0,
		   "{\"prefix\":\"10.0.1.0/24\",\"target\":2,\"origin\":\"cli\",\"distance\":1,"
		   "\"proto\":0,\"active\":true,\"nexthop\":2}",
		   "--json show routes");

	/* statistics: every non-zero reason by name, with totals */
	EXPECT_CLI(f, 0,
		   "drops:\n  BAD_CHECKSUM                  2  IPv4 header checksum wrong\n"
		   "  NO_ROUTE                      6  no route\n"
		   "  total                         8\n"
		   "exceptions:\n  ARP                           3  ARP\n",
		   "show stats");
	EXPECT_CLI(f, 0, "1     net_null1        up              1001            901            7",
		   "show stats");
	EXPECT_CLI(f, 0, "0     net_null0        down            1000            900            7",
		   "show stats");
	EXPECT_CLI(f, 0, "\nport 0: link went down 4 times (memif peer left)\n", "show stats");
	EXPECT_CLI(f, 0, "{\"port_id\":0,\"link_up\":0,\"link_downs\":4,", "--json show stats");
	EXPECT_CLI(f, 0, "{\"port_id\":1,\"link_up\":1,\"link_downs\":0,", "--json show stats");
	EXPECT_CLI(f, 0, "\"drops_total\":8,", "--json show stats");
	EXPECT_CLI(f, 0, "\"NO_ROUTE\":6,", "--json show stats");
	assert_int_equal(run_cli(f, &out, "show stats"), 0);
	assert_null(strstr(out, "BLACKHOLE")); /* zero: not listed */
	free(out);

	/* the lock: a second session waits, then says who holds it */
	struct npr_client *c = open_ok(f);
	char want[256];
	snprintf(want, sizeof(want), "all 1 control sessions of the data plane are in use");
	EXPECT_CLI(f, 3, want, "--timeout 100 hello");
	npr_client_close(c);

	/* a data plane whose control thread does not answer: exit 3, and why */
	atomic_store(&f->mode, FAKE_SILENT);
	snprintf(want, sizeof(want),
		 "nprouter-control: the data plane (pid %d) does not answer on /dev/shm/%s: ",
		 (int)getpid(), f->name);
	EXPECT_CLI(f, 3, want, "--timeout 100 hello");
	atomic_store(&f->mode, FAKE_ECHO);
	EXPECT_CLI(f, 0, "data plane up, instance 1234567890abcdef", "hello");
	fake_free(f);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/npr-test-client-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	control_bin = getenv("NPR_CONTROL");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink_all_segments();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_bad_header),
		cmocka_unit_test(test_open_waits_for_ready),
		cmocka_unit_test(test_open_lock),
		cmocka_unit_test(test_open_no_hello),
		cmocka_unit_test(test_open_hello_error),
		cmocka_unit_test(test_call_basic),
		cmocka_unit_test(test_call_dump_and_pipelined),
		cmocka_unit_test(test_call_timeout),
		cmocka_unit_test(test_pipeline_reply_ring_full),
		cmocka_unit_test(test_pipeline_slow_consumer),
		cmocka_unit_test(test_send_dp_gone),
		cmocka_unit_test(test_send_invalid),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_addr_mac),
		cmocka_unit_test(test_load_parse_line),
		cmocka_unit_test(test_load_parse_file),
		cmocka_unit_test(test_load_push),
		cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
