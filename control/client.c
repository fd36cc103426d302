/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring client: opens the data plane's segment (shm.h), holds the session lock, and exchanges
 * records over the two SPSC rings (ring.h): we produce on the request ring and consume the
 * reply ring.
 *
 * Sequence numbers: requests get consecutive seqs from a random start, so that replies the
 * data plane still owes to a dead earlier session (its requests may still sit in the request
 * ring) are told apart and dropped. The data plane answers in order, so the seqs still owed
 * to us are exactly [next_seq - outstanding, next_seq).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "npr/proto.h"
#include "npr/ring.h"
#include "npr/shm.h"
#include "npr/util.h"
#include "client.h"

#define SPIN_LOOPS 64		    /* busy polls before sleeping */
#define ALIVE_CHECK_NS 100000000ull /* how often a waiting client checks the data plane */
#define OPEN_RETRY_NS 10000000l	    /* open: retry period while locked or starting */

struct npr_client {
	int fd;
	void *base;
	size_t map_size;
	struct npr_shm_hdr *hdr;
	/* geometry validated once at open, never re-read from the segment (ring.h) */
	struct npr_ring_ref req; /* we produce */
	struct npr_ring_ref rep; /* we consume */
	pid_t dp_pid;
	uint64_t instance;
	int gone;		/* 0, or -EPIPE / -EPROTO once the session is unusable */
	uint32_t n_slots, slot; /* the segment's session slots, ours */
	uint64_t slot_size, ring_size;

	uint32_t next_seq;
	uint32_t outstanding; /* requests sent and not answered yet */
	uint64_t stale;	      /* records dropped: not ours, or malformed */

	npr_client_handler handler;
	void *handler_ctx;

	/* the synchronous call in progress (npr_client_call) */
	bool wait_active;
	bool wait_done;
	bool wait_progress;
	uint32_t wait_seq;
	struct npr_reply *wait_rep;
	void (*chunk_cb)(void *ctx, const struct npr_msg_dump_chunk *chunk);
	void *chunk_ctx;

	char name[NPR_SHM_NAME_MAX + 2];
	_Alignas(8) uint8_t buf[NPR_MSG_MAX]; /* peek buffer: one reply record */
};

/* ---- time and waiting ---- */

/* Deadline in ns from a timeout in ms; UINT64_MAX means never. */
static uint64_t
deadline_after(int timeout_ms)
{
	if (timeout_ms < 0)
		return UINT64_MAX;
	return npr_now_ns() + (uint64_t)timeout_ms * 1000000ull;
}

static void
sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000l, .tv_nsec = ns % 1000000000l };
	nanosleep(&ts, NULL);
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* kill(pid, 0) fails with ESRCH only if no such process exists (EPERM: exists, not ours). */
static bool
pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

static int
client_check_alive(struct npr_client *c)
{
	if (c->gone != 0)
		return c->gone;
	if (atomic_load_explicit(&c->hdr->state, memory_order_acquire) != NPR_SHM_READY ||
	    !pid_alive(c->dp_pid))
		c->gone = -EPIPE;
	return c->gone;
}

/* One step of a wait loop: spin a little, then sleep 20-50 us; every ~100 ms make sure the
 * data plane is still there. Returns 0 or -EPIPE. */
struct backoff {
	unsigned spins;
	uint64_t next_check;
};

static void
backoff_reset(struct backoff *b)
{
	b->spins = 0;
}

static int
backoff_wait(struct npr_client *c, struct backoff *b)
{
	if (b->spins < SPIN_LOOPS) {
		b->spins++;
		cpu_relax();
		return 0;
	}
	/* vary the sleep a little so that two waiting sides do not stay in lock step */
	sleep_ns(20000 + (long)(b->spins++ % 31) * 1000);
	uint64_t t = npr_now_ns();
	if (b->next_check == 0) {
		b->next_check = t + ALIVE_CHECK_NS;
	} else if (t >= b->next_check) {
		b->next_check = t + ALIVE_CHECK_NS;
		return client_check_alive(c);
	}
	return 0;
}

/* ---- replies ---- */

static void
client_dispatch(struct npr_client *c, struct npr_msg_hdr *h, uint32_t len)
{
	uint32_t oldest = c->next_seq - c->outstanding;
	if ((uint32_t)(h->seq - oldest) >= c->outstanding) {
		c->stale++; /* owed to an earlier session, or garbage */
		return;
	}
	bool waited = c->wait_active && h->seq == c->wait_seq;

	if (h->type == NPR_MSG_DUMP_CHUNK) {
		if (len < sizeof(struct npr_msg_dump_chunk)) {
			c->stale++;
			return;
		}
		if (waited) {
			c->wait_progress = true;
			if (c->chunk_cb != NULL)
				c->chunk_cb(c->chunk_ctx, (const struct npr_msg_dump_chunk *)h);
		} else if (c->handler != NULL) {
			c->handler(c->handler_ctx, h);
		}
		return;
	}
	if (h->type != NPR_MSG_REPLY || len < sizeof(struct npr_reply)) {
		c->stale++;
		return;
	}
	struct npr_reply *rep = (struct npr_reply *)h;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	/* requests are answered in order: this reply also settles every older seq */
	c->outstanding = c->next_seq - (h->seq + 1);
	if (waited) {
		memcpy(c->wait_rep, rep, sizeof(*rep));
		c->wait_done = true;
		c->wait_progress = true;
	} else if (c->handler != NULL) {
		c->handler(c->handler_ctx, h);
	}
}

/* Handle every reply available now. Returns how many records it read, or -errno. */
static int
client_poll(struct npr_client *c)
{
	int n = 0;
	for (;;) {
		int len = npr_ring_peek(&c->rep, c->buf);
		if (len == 0)
			return n;
		if (len < 0) {
			/* the data plane wrote garbage: nothing it says can be trusted any more */
			npr_ring_reset(&c->rep);
			c->gone = -EPROTO;
			return -EPROTO;
		}
		/* peek copied the record out: free its room for the data plane at once */
		npr_ring_consume(&c->rep, (uint32_t)len);
		client_dispatch(c, (struct npr_msg_hdr *)c->buf, (uint32_t)len);
		n++;
	}
}

/* ---- open / close ---- */

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

static bool
is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* Is the ring at off with size data bytes inside the segment (total bytes, header hdr_size)
 * and initialised as announced? */
static bool
ring_ok(const void *base, uint64_t total, uint64_t hdr_size, uint64_t off, uint64_t size)
{
	if (off % 64 != 0 || off < hdr_size || off > total || total - off < sizeof(struct npr_ring))
		return false;
	if (!is_pow2(size) || size < 2 * NPR_MSG_MAX ||
	    size > total - off - sizeof(struct npr_ring))
		return false;
	const struct npr_ring *r = (const struct npr_ring *)((const uint8_t *)base + off);
	return r->size == size && r->mask == size - 1;
}

/* Internal codes for the open retry loop (EAGAIN == EWOULDBLOCK on Linux, so not those). */
#define OPEN_STARTING (-EINPROGRESS) /* the data plane is still creating the segment */
#define OPEN_LOCKED (-EALREADY)	     /* every slot is taken */

/* Check the header of a mapped segment and keep its layout in c (n_slots, slot_size,
 * ring_size). 0, OPEN_STARTING or another -errno with the reason in err. */
static int
check_header(struct npr_client *c, size_t seg_size, char *err, size_t errlen)
{
	const struct npr_shm_hdr *h = c->hdr;
	const char *n = c->name + 1;

	uint32_t state = atomic_load_explicit(&c->hdr->state, memory_order_acquire);
	if (h->magic == 0 && state == NPR_SHM_INIT)
		return fail(err, errlen, OPEN_STARTING,
			    "data plane is still starting (/dev/shm/%s)", n);
	if (h->magic != NPR_SHM_MAGIC)
		return fail(err, errlen, -EPROTO,
			    "/dev/shm/%s is not an nprouter segment (bad magic 0x%016" PRIx64 ")",
			    n, h->magic);
	if (h->abi_version != NPR_ABI_VERSION)
		return fail(err, errlen, -EPROTONOSUPPORT,
			    "data plane speaks ABI %u, this control speaks %u", h->abi_version,
			    NPR_ABI_VERSION);
	if (state == NPR_SHM_INIT)
		return fail(err, errlen, OPEN_STARTING,
			    "data plane is still starting (/dev/shm/%s)", n);
	if (state == NPR_SHM_GONE)
		return fail(err, errlen, -ESRCH,
			    "data plane is gone (/dev/shm/%s is being removed)", n);
	if (state != NPR_SHM_READY)
		return fail(err, errlen, -EPROTO, "/dev/shm/%s: unknown state %u", n, state);
	/* Read the layout once and check and use only these copies: the segment is writable by
	 * others, and the rings must be attached with exactly what was checked. */
	uint64_t hdr_size = h->hdr_size, total = h->total_size, slot_off = h->slot_off;
	uint64_t slot_size = h->slot_size, ring_size = h->ring_size;
	uint32_t n_slots = h->n_slots;
	if (hdr_size != NPR_SHM_HDR_SIZE || total > seg_size || slot_off != hdr_size ||
	    n_slots < 1 || n_slots > 64 || !is_pow2(ring_size) || ring_size > total ||
	    slot_size != 2 * (sizeof(struct npr_ring) + ring_size) ||
	    slot_off + n_slots * slot_size > total)
		return fail(err, errlen, -EPROTO, "/dev/shm/%s: corrupt segment layout", n);
	c->n_slots = n_slots;
	c->slot_size = slot_size;
	c->ring_size = ring_size;
	if (h->dp_pid <= 0 || !pid_alive(h->dp_pid))
		return fail(err, errlen, -ESRCH,
			    "data plane (pid %d) is gone: it died without removing /dev/shm/%s",
			    (int)h->dp_pid, n);
	return 0;
}

/* Take a free slot (an OFD lock on its byte) and attach its rings. 0, OPEN_LOCKED if every
 * slot is taken, or -errno. */
static int
take_slot(struct npr_client *c, char *err, size_t errlen)
{
	const char *n = c->name + 1;
	for (uint32_t i = 0; i < c->n_slots; i++) {
		struct flock fl = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = i, .l_len = 1
		};
		if (fcntl(c->fd, F_OFD_SETLK, &fl) < 0) {
			if (errno == EAGAIN || errno == EACCES)
				continue;
			return fail(err, errlen, -errno, "cannot lock /dev/shm/%s: %s", n,
				    strerror(errno));
		}
		uint64_t off = NPR_SHM_HDR_SIZE + i * c->slot_size;
		uint64_t rep_off = off + sizeof(struct npr_ring) + c->ring_size;
		if (!ring_ok(c->base, c->map_size, NPR_SHM_HDR_SIZE, off, c->ring_size) ||
		    !ring_ok(c->base, c->map_size, NPR_SHM_HDR_SIZE, rep_off, c->ring_size))
			return fail(err, errlen, -EPROTO,
				    "/dev/shm/%s: corrupt rings in session slot %u", n, i);
		npr_ring_attach(&c->req, (struct npr_ring *)((uint8_t *)c->base + off),
				c->ring_size);
		npr_ring_attach(&c->rep, (struct npr_ring *)((uint8_t *)c->base + rep_off),
				c->ring_size);
		c->slot = i;
		return 0;
	}
	return OPEN_LOCKED;
}

static void
client_unmap(struct npr_client *c)
{
	if (c->base != NULL)
		munmap(c->base, c->map_size);
	if (c->fd >= 0)
		close(c->fd);
	c->base = NULL;
	c->fd = -1;
}

/* One attempt: open, map, check, lock. 0, OPEN_STARTING / OPEN_LOCKED (retry), or -errno. */
static int
client_try_open(struct npr_client *c, char *err, size_t errlen)
{
	const char *n = c->name + 1;
	c->fd = shm_open(c->name, O_RDWR, 0);
	if (c->fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return fail(err, errlen, -ENOENT,
				    "no data plane running: /dev/shm/%s not found", n);
		if (e == EACCES || e == EPERM)
			return fail(err, errlen, -EACCES,
				    "permission denied on /dev/shm/%s: run as root or as a member "
				    "of the group that owns it",
				    n);
		return fail(err, errlen, -e, "cannot open /dev/shm/%s: %s", n, strerror(e));
	}
	struct stat st;
	if (fstat(c->fd, &st) < 0)
		return fail(err, errlen, -errno, "cannot stat /dev/shm/%s: %s", n, strerror(errno));
	/* /dev/shm is writable by everyone: trust only a segment that a data plane of root's or
	 * ours made, and that nobody else may write (a squatter could pose as the data plane
	 * and take our routes) */
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail(
			err, errlen, -EPERM,
			"refusing /dev/shm/%s: it belongs to uid %u, not to root or to us: not a "
			"data plane's (remove it, then restart the data plane)",
			n, (unsigned)st.st_uid);
	if (st.st_mode & S_IWOTH)
		return fail(err, errlen, -EPERM,
			    "refusing /dev/shm/%s: anyone may write it (mode %04o): not a data "
			    "plane's (remove it, then restart the data plane)",
			    n, (unsigned)(st.st_mode & 07777));
	if (st.st_size < (off_t)NPR_SHM_HDR_SIZE)
		return fail(err, errlen, OPEN_STARTING,
			    "data plane is still starting (/dev/shm/%s)", n);
	c->map_size = (size_t)st.st_size;
	c->base = mmap(NULL, c->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->base == MAP_FAILED) {
		c->base = NULL;
		return fail(err, errlen, -errno, "cannot map /dev/shm/%s: %s", n, strerror(errno));
	}
	c->hdr = c->base;
	int rc = check_header(c, c->map_size, err, errlen);
	if (rc < 0)
		return rc;
	return take_slot(c, err, errlen);
}

struct npr_client *
npr_client_open(const char *name, unsigned origin, int timeout_ms, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	const char *given = name != NULL ? name : NPR_SHM_DEFAULT_NAME;
	if ((name = npr_shm_name(given)) == NULL) {
		fail(err, errlen, 0, "bad shared memory name '%s'", given);
		errno = EINVAL;
		return NULL;
	}
	struct npr_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fail(err, errlen, 0, "out of memory");
		return NULL;
	}
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "/%s", name);

	uint64_t start = npr_now_ns();
	uint64_t deadline = deadline_after(timeout_ms);
	int rc;
	for (;;) {
		rc = client_try_open(c, err, errlen);
		if (rc == 0)
			break;
		client_unmap(c);
		if (rc != OPEN_STARTING && rc != OPEN_LOCKED)
			goto out_fail;
		if (npr_now_ns() >= deadline) {
			if (rc == OPEN_STARTING)
				rc = -EAGAIN;
			if (rc == OPEN_LOCKED) {
				fail(err, errlen, 0,
				     "all %u control sessions of the data plane are in use; "
				     "waited %" PRIu64 " ms",
				     c->n_slots, (npr_now_ns() - start) / 1000000);
				rc = -EBUSY;
			}
			goto out_fail;
		}
		sleep_ns(OPEN_RETRY_NS);
	}

	/* c->req / c->rep were attached by check_header */
	c->dp_pid = c->hdr->dp_pid;
	c->instance = c->hdr->instance_id;
	/* Replies still in the ring belong to a session that died before reading them. */
	npr_ring_reset(&c->rep);
	uint32_t seq;
	if (getrandom(&seq, sizeof(seq), GRND_NONBLOCK) != (ssize_t)sizeof(seq))
		seq = (uint32_t)npr_now_ns() ^ ((uint32_t)getpid() << 16);
	c->next_seq = seq;

	/* HELLO opens the session on the data plane's side too (it drops a batch that a dead
	 * session left open) and proves the control thread answers. */
	struct npr_msg_hello hello = { .hdr = { .type = NPR_MSG_HELLO, .len = sizeof(hello) },
				       .origin = (uint8_t)origin,
				       .pid = (uint32_t)getpid() };
	snprintf(hello.name, sizeof(hello.name), "%s", program_invocation_short_name);
	struct npr_reply rep;
	rc = npr_client_call(c, &hello, &rep, NULL, NULL, timeout_ms);
	if (rc < 0 || rep.status != 0) {
		if (rc < 0)
			fail(err, errlen, 0,
			     "the data plane (pid %d) does not answer on /dev/shm/%s: %s",
			     (int)c->dp_pid, name, strerror(-rc));
		else
			fail(err, errlen, 0, "the data plane (pid %d) refused the session: %s",
			     (int)c->dp_pid,
			     rep.msg[0] != '\0' ? rep.msg : npr_strstatus(rep.status));
		client_unmap(c);
		rc = rc < 0 ? rc : -EPROTO;
		goto out_fail;
	}
	return c;

out_fail:
	free(c);
	errno = -rc;
	return NULL;
}

void
npr_client_close(struct npr_client *c)
{
	if (c == NULL)
		return;
	client_unmap(c); /* closing the descriptor releases the slot lock */
	free(c);
}

uint64_t
npr_client_instance(const struct npr_client *c)
{
	return c->instance;
}

uint64_t
npr_client_dp_instance(const char *name)
{
	char path[300];
	const char *n = name != NULL ? name : NPR_SHM_DEFAULT_NAME;
	struct npr_shm_hdr h;

	if (n[0] == '/')
		n++;
	snprintf(path, sizeof(path), "/dev/shm/%s", n);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t got = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (got != (ssize_t)sizeof(h) || h.magic != NPR_SHM_MAGIC ||
	    h.abi_version != NPR_ABI_VERSION || h.state != NPR_SHM_READY)
		return 0;
	return h.instance_id;
}

void
npr_client_set_handler(struct npr_client *c, npr_client_handler handler, void *ctx)
{
	c->handler = handler;
	c->handler_ctx = ctx;
}

/* ---- requests ---- */

int
npr_client_send(struct npr_client *c, void *req, uint32_t *seq_out)
{
	struct npr_msg_hdr *h = req;
	struct backoff b = { 0 };

	if (c->gone != 0)
		return c->gone;
	h->version = NPR_ABI_VERSION;
	h->reserved = 0;
	h->seq = c->next_seq;
	for (;;) {
		/* Read replies first, never after the put: the reply to this very request must
		 * reach npr_client_call, not the handler. Reading also keeps the data plane from
		 * waiting on a full reply ring while we wait on a full request ring. */
		int rc = client_poll(c);
		if (rc < 0)
			return rc;
		rc = npr_ring_put(&c->req, req, h->len);
		if (rc == 0)
			break;
		if (rc != -EAGAIN)
			return rc;
		if (backoff_wait(c, &b) < 0)
			return c->gone;
	}
	c->next_seq++;
	c->outstanding++;
	if (seq_out != NULL)
		*seq_out = h->seq;
	return 0;
}

int
npr_client_call(struct npr_client *c, void *req, struct npr_reply *rep,
		void (*chunk_cb)(void *ctx, const struct npr_msg_dump_chunk *chunk), void *ctx,
		int timeout_ms)
{
	struct npr_reply scratch;
	uint32_t seq;
	int rc = npr_client_send(c, req, &seq);
	if (rc < 0)
		return rc;

	c->wait_active = true;
	c->wait_done = false;
	c->wait_seq = seq;
	c->wait_rep = rep != NULL ? rep : &scratch;
	c->chunk_cb = chunk_cb;
	c->chunk_ctx = ctx;

	/* The timeout runs from the last sign of life for this request: a long dump that keeps
	 * sending chunks is not cut short. */
	uint64_t deadline = deadline_after(timeout_ms);
	struct backoff b = { 0 };
	for (;;) {
		c->wait_progress = false;
		rc = client_poll(c);
		if (rc < 0)
			break;
		if (c->wait_done) {
			rc = 0;
			break;
		}
		if (c->wait_progress) {
			deadline = deadline_after(timeout_ms);
			backoff_reset(&b);
			continue;
		}
		if (rc > 0)
			continue;
		if (npr_now_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = backoff_wait(c, &b);
		if (rc < 0)
			break;
	}
	c->wait_active = false;
	c->chunk_cb = NULL;
	return rc;
}

int
npr_client_flush(struct npr_client *c, int timeout_ms)
{
	if (c->gone != 0)
		return c->gone;
	uint64_t deadline = deadline_after(timeout_ms);
	struct backoff b = { 0 };
	while (c->outstanding > 0) {
		uint32_t before = c->outstanding;
		int rc = client_poll(c);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			if (c->outstanding != before)
				deadline = deadline_after(timeout_ms);
			backoff_reset(&b);
			continue;
		}
		if (npr_now_ns() >= deadline)
			return -ETIMEDOUT;
		if (backoff_wait(c, &b) < 0)
			return c->gone;
	}
	return 0;
}

/* ---- pipelines ---- */

struct pipeline {
	npr_client_rejected_fn rejected;
	void *ctx;
	uint32_t first_seq;
	size_t n_sent, n_rejected;
};

static void
pipeline_handler(void *ctx, const struct npr_msg_hdr *rec)
{
	struct pipeline *pl = ctx;
	if (rec->type != NPR_MSG_REPLY)
		return;
	const struct npr_reply *rep = (const struct npr_reply *)rec;
	size_t i = (uint32_t)(rec->seq - pl->first_seq);
	if (i >= pl->n_sent || rep->status == 0)
		return;
	/* after a failure the data plane cancels the rest of a batch: not new rejections */
	if (rep->status == -ECANCELED && pl->n_rejected > 0)
		return;
	pl->rejected(pl->ctx, i, rep, pl->n_rejected++);
}

int
npr_client_pipeline(struct npr_client *c, size_t n, npr_client_msg_fn msg,
		    npr_client_rejected_fn rejected, void *ctx, int timeout_ms, size_t *n_rejected)
{
	struct pipeline pl = { .rejected = rejected, .ctx = ctx };
	int rc = 0;
	npr_client_set_handler(c, pipeline_handler, &pl);
	for (size_t i = 0; i < n && pl.n_rejected == 0; i++) {
		uint32_t seq;
		rc = npr_client_send(c, msg(ctx, i), &seq);
		if (rc < 0)
			break;
		if (i == 0)
			pl.first_seq = seq;
		pl.n_sent++;
	}
	if (rc == 0)
		rc = npr_client_flush(c, timeout_ms);
	npr_client_set_handler(c, NULL, NULL);
	*n_rejected = pl.n_rejected;
	return rc;
}

int
npr_client_batch_begin(struct npr_client *c, struct npr_reply *rep, int timeout_ms)
{
	struct npr_msg_hdr h = { .type = NPR_MSG_BATCH_BEGIN, .len = sizeof(h) };
	int rc = npr_client_call(c, &h, rep, NULL, NULL, timeout_ms);
	if (rc < 0 || rep->status != -EALREADY)
		return rc;
	h.type = NPR_MSG_BATCH_ABORT;
	rc = npr_client_call(c, &h, rep, NULL, NULL, timeout_ms);
	if (rc < 0)
		return rc;
	h.type = NPR_MSG_BATCH_BEGIN;
	return npr_client_call(c, &h, rep, NULL, NULL, timeout_ms);
}

/* ---- status text ---- */

const char *
npr_strstatus(int status)
{
	static _Thread_local char buf[128];
	int e = status < 0 ? -status : status;
	const char *text;

	if (e == 0)
		return "OK";
	/* what each status means in this protocol (proto.h), rather than the libc wording */
	switch (e) {
	case EINVAL:
		text = "invalid request";
		break;
	case ENOENT:
		text = "no such object";
		break;
	case EEXIST:
		text = "already exists";
		break;
	case EBUSY:
		text = "still in use";
		break;
	case ENOSPC:
		text = "table full";
		break;
	case ECANCELED:
		text = "batch cancelled";
		break;
	case EBADMSG:
		text = "malformed message";
		break;
	case EPROTO:
		text = "protocol error";
		break;
	case ENODEV:
		text = "no such port";
		break;
	case E2BIG:
		text = "too many entries";
		break;
	case ERANGE:
		text = "out of range";
		break;
	case EALREADY:
		text = "already in progress";
		break;
	case EPIPE:
		text = "data plane gone";
		break;
	case ETIMEDOUT:
		text = "no answer from the data plane";
		break;
	default:
		text = strerror(e);
		break;
	}
	const char *name = strerrorname_np(e);
	if (name == NULL)
		snprintf(buf, sizeof(buf), "error %d: %s", e, text);
	else
		snprintf(buf, sizeof(buf), "%s: %s", name, text);
	return buf;
}
