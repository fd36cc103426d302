/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "npr/shm.h"
#include "npr/util.h"
#include "cfg.h"
#include "shm_server.h"

_Static_assert(NPR_SHM_SLOTS == CFG_SESSIONS, "one cfg session per slot");

#define QUANTUM 64u /* requests of one slot per turn, outside batches */

struct shm_server;

/* One session slot: its rings, from ring_size as created, never re-read from the segment
 * (ring.h). */
struct slot {
	struct shm_server *s;
	unsigned id;
	struct npr_ring_ref req;
	struct npr_ring_ref rep;
	uint64_t last_ns; /* last request handled */
	bool stalled;	  /* its reader stopped reading: replies are dropped, not waited for */
};

struct shm_server {
	char name[256];
	int fd;
	uint64_t size;
	struct npr_shm_hdr *hdr;
	struct slot slot[NPR_SHM_SLOTS];
	unsigned next; /* round robin */
	uint64_t checked_ns;
	uint64_t ring_resets;
	uint64_t replies_dropped;
	uint64_t batches_aborted;
	/* the layout as created (never read back: anyone who maps the segment can write it) */
	uint64_t ring_size, instance_id;
	bool ready;
	uint64_t layout_checked_ns;
	uint64_t layout_repairs;
	_Alignas(8) uint8_t buf[NPR_MSG_MAX]; /* the request, copied out of shared memory */
};

static int
pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Does the segment (another user's) belong to a live data plane run by that user? Its
 * header names a live process, and /proc says that process is the file's owner's. */
static bool
live_owner(int fd, const struct stat *st)
{
	if ((size_t)st->st_size < sizeof(struct npr_shm_hdr))
		return false;
	struct npr_shm_hdr *h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return false;
	int pid = h->dp_pid;
	bool hdr_ok = h->magic == NPR_SHM_MAGIC && h->state != NPR_SHM_GONE;
	munmap(h, sizeof(*h));
	char path[32];
	struct stat ps;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return hdr_ok && pid > 0 && pid_alive(pid) && stat(path, &ps) == 0 &&
	       ps.st_uid == st->st_uid;
}

/* A segment that exists already: in use by a live data plane, or stale (crash, kill -9). */
static int
check_existing(const char *name, char *err, size_t errlen)
{
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	int in_use = 0, pid = 0;
	if (fstat(fd, &st) == 0 && st.st_uid != geteuid() && !live_owner(fd, &st)) {
		/* not made by a data plane of our user, nor by a live one of its owner's: someone
		 * squats the name (whatever its header says). Take the name back; clients refuse
		 * such a segment anyway. */
		close(fd);
		if (shm_unlink(name) < 0) {
			int e = errno;
			snprintf(err, errlen,
				 "shared-memory name '%s' is taken by a file of uid %u that this "
				 "data plane (uid %u) cannot remove (%s): remove it, or use --shm",
				 name + 1, (unsigned)st.st_uid, (unsigned)geteuid(), strerror(e));
			return -EADDRINUSE;
		}
		fprintf(stderr,
			"nprouter-dataplane: /dev/shm%s belonged to uid %u, not to a data plane of "
			"ours: removed it\n",
			name, (unsigned)st.st_uid);
		return 0;
	}
	if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(struct npr_shm_hdr)) {
		struct npr_shm_hdr *h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
		if (h != MAP_FAILED) {
			pid = h->dp_pid;
			in_use = h->magic == NPR_SHM_MAGIC && h->state != NPR_SHM_GONE &&
				 pid_alive(pid) && pid != getpid();
			munmap(h, sizeof(*h));
		}
	}
	close(fd);
	if (in_use) {
		snprintf(err, errlen,
			 "shared-memory name '%s' is in use by the data plane with pid %d "
			 "(stop it, or give this one another name with --shm)",
			 name, pid);
		return -EADDRINUSE;
	}
	/* stale: remove it and create a fresh one */
	if (shm_unlink(name) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* The header's layout fields, from our own values (at creation, and to repair them). */
static void
write_header(struct shm_server *s)
{
	struct npr_shm_hdr *h = s->hdr;
	h->magic = NPR_SHM_MAGIC;
	h->abi_version = NPR_ABI_VERSION;
	h->hdr_size = NPR_SHM_HDR_SIZE;
	h->instance_id = s->instance_id;
	h->total_size = s->size;
	h->n_slots = NPR_SHM_SLOTS;
	h->reserved0 = 0;
	h->slot_off = NPR_SHM_HDR_SIZE;
	h->slot_size = npr_shm_slot_size(s->ring_size);
	h->ring_size = s->ring_size;
	h->dp_pid = getpid();
}

struct shm_server *
shm_server_create(const char *name, mode_t mode, gid_t gid, uint64_t ring_size,
		  uint64_t instance_id, char *err, size_t errlen)
{
	char path[256];
	int rc;

	const char *given = name;
	if ((name = npr_shm_name(given)) == NULL) {
		snprintf(err, errlen, "invalid shared-memory name '%s'", given ? given : "");
		errno = EINVAL;
		return NULL;
	}
	if (ring_size < 2ull * NPR_MSG_MAX || (ring_size & (ring_size - 1)) != 0) {
		snprintf(err, errlen, "ring size %llu is not a power of two >= %u",
			 (unsigned long long)ring_size, 2 * NPR_MSG_MAX);
		errno = EINVAL;
		return NULL;
	}
	snprintf(path, sizeof(path), "/%s", name);
	rc = check_existing(path, err, errlen);
	if (rc < 0) {
		if (rc != -EADDRINUSE)
			snprintf(err, errlen, "cannot inspect /dev/shm/%s: %s", name,
				 strerror(-rc));
		errno = -rc;
		return NULL;
	}

	struct shm_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", path);
	s->size = npr_shm_size(ring_size);
	s->fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, mode);
	if (s->fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot create /dev/shm/%s: %s", name, strerror(rc));
		goto fail_free;
	}
	if (fchmod(s->fd, mode) < 0 || (gid != (gid_t)-1 && fchown(s->fd, (uid_t)-1, gid) < 0)) {
		rc = errno;
		snprintf(err, errlen, "cannot set owner/mode of /dev/shm/%s: %s", name,
			 strerror(rc));
		goto fail_unlink;
	}
	if (ftruncate(s->fd, (off_t)s->size) < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot size /dev/shm/%s to %llu bytes: %s", name,
			 (unsigned long long)s->size, strerror(rc));
		goto fail_unlink;
	}
	s->hdr = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->hdr == MAP_FAILED) {
		rc = errno;
		snprintf(err, errlen, "cannot map /dev/shm/%s: %s", name, strerror(rc));
		goto fail_unlink;
	}
	struct npr_shm_hdr *h = s->hdr;
	s->ring_size = ring_size;
	s->instance_id = instance_id;
	write_header(s);
	/* offsets from local values, not read back: the segment is writable by others */
	for (unsigned i = 0; i < NPR_SHM_SLOTS; i++) {
		struct slot *sl = &s->slot[i];
		uint8_t *base = (uint8_t *)h + NPR_SHM_HDR_SIZE + i * npr_shm_slot_size(ring_size);
		struct npr_ring *req = (struct npr_ring *)base;
		struct npr_ring *rep =
			(struct npr_ring *)(base + sizeof(struct npr_ring) + ring_size);
		npr_ring_init(req, ring_size);
		npr_ring_init(rep, ring_size);
		npr_ring_attach(&sl->req, req, ring_size);
		npr_ring_attach(&sl->rep, rep, ring_size);
		sl->s = s;
		sl->id = i;
	}
	atomic_store_explicit(&h->state, NPR_SHM_INIT, memory_order_release);
	return s;

fail_unlink:
	close(s->fd);
	shm_unlink(path);
	goto fail_errno;
fail_free:
fail_errno:
	free(s);
	errno = rc;
	return NULL;
}

/* Is a control session attached to the slot? Sessions hold an OFD write lock on byte id of
 * the segment; our own descriptor holds none, so any lock there is a client's. */
static int
session_attached(struct slot *sl)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = sl->id, .l_len = 1
	};
	if (fcntl(sl->s->fd, F_OFD_GETLK, &fl) < 0)
		return 1; /* cannot tell: assume someone listens */
	return fl.l_type != F_UNLCK;
}

/* cfg_emit_fn: a reply must not be lost while a control session waits for it, so wait for
 * room; but if nobody is attached any more, drop it rather than stall the control thread.
 * A corrupt consumer head (-EBADMSG) is not ours to fix (the consumer resets the ring, the
 * client at the latest when it reopens): drop the reply, the client sees its request time
 * out. -EINVAL (a bad record from cfg) is dropped and counted the same way. */
static void
emit(void *ctx, const void *rec, uint32_t len)
{
	struct slot *sl = ctx;
	struct shm_server *s = sl->s;
	struct timespec nap = { 0, 20000 };
	uint64_t t0 = npr_now_ns(), checked = t0;
	int spins = 0;

	for (;;) {
		int rc = npr_ring_put(&sl->rep, rec, len);
		if (rc == 0) {
			sl->stalled = false;
			return;
		}
		if (rc != -EAGAIN || sl->stalled) {
			/* a stalled session gets no more waiting until it reads again */
			s->replies_dropped++;
			return;
		}
		if (++spins < 1000)
			continue;
		nanosleep(&nap, NULL);
		uint64_t now = npr_now_ns();
		if (now - checked > 100000000ull) {
			checked = now;
			if (!session_attached(sl)) {
				s->replies_dropped++;
				return;
			}
		}
		if (now - t0 > 1000000000ull) {
			/* a client that does not read (stopped, ^Z) must not stop the control
			 * thread: the other sessions, ARP and ND, and shutdown wait on it */
			sl->stalled = true;
			s->replies_dropped++;
			fprintf(stderr,
				"control: session %u does not read its replies: dropping them "
				"until "
				"it does\n",
				sl->id);
			return;
		}
	}
}

void
shm_server_ready(struct shm_server *s)
{
	/* READY last: a control process that sees it (acquire) sees the initialised rings and
	 * a control thread that serves them. */
	atomic_store_explicit(&s->hdr->state, NPR_SHM_READY, memory_order_release);
	s->ready = true;
}

/* The layout as clients read it (the header and every ring's size and mask) against what we
 * made; another process that maps the segment may have written over it, which would lock
 * every later client out ("corrupt segment layout", "bad magic"). We own the layout: put it
 * back, count it, say it once. The rings' counters are not ours to fix here: a corrupt head
 * or tail is found and reset where it is used (poll_slot; the client at open). */
static void
check_layout(struct shm_server *s)
{
	const struct npr_shm_hdr *h = s->hdr;
	bool bad = h->magic != NPR_SHM_MAGIC || h->abi_version != NPR_ABI_VERSION ||
		   h->hdr_size != NPR_SHM_HDR_SIZE || h->instance_id != s->instance_id ||
		   h->total_size != s->size || h->n_slots != NPR_SHM_SLOTS || h->reserved0 != 0 ||
		   h->slot_off != NPR_SHM_HDR_SIZE ||
		   h->slot_size != npr_shm_slot_size(s->ring_size) ||
		   h->ring_size != s->ring_size || h->dp_pid != getpid() ||
		   atomic_load_explicit(&h->state, memory_order_relaxed) !=
			   (s->ready ? NPR_SHM_READY : NPR_SHM_INIT);
	for (unsigned i = 0; i < NPR_SHM_SLOTS; i++) {
		struct npr_ring *r[2] = { s->slot[i].req.r, s->slot[i].rep.r };
		for (int k = 0; k < 2; k++) {
			if (r[k]->size == s->ring_size && r[k]->mask == s->ring_size - 1)
				continue;
			r[k]->size = s->ring_size;
			r[k]->mask = s->ring_size - 1;
			bad = true;
		}
	}
	if (!bad)
		return;
	write_header(s);
	atomic_store_explicit(&s->hdr->state, s->ready ? NPR_SHM_READY : NPR_SHM_INIT,
			      memory_order_release);
	if (s->layout_repairs++ == 0)
		fprintf(stderr,
			"control: the shared-memory layout of %s was overwritten by "
			"another process: rewrote it (counted as layout_repairs)\n",
			s->name);
}

/* Handle up to budget requests of one slot. */
static unsigned
poll_slot(struct shm_server *s, struct cfg *c, struct slot *sl, unsigned budget)
{
	unsigned done = 0;
	while (done < budget) {
		int len = npr_ring_peek(&sl->req, s->buf);
		if (len == 0)
			break;
		if (len < 0) {
			/* The producer wrote garbage framing: nothing after it can be trusted.
			 * Discard what is there; the client sees its requests time out. */
			npr_ring_reset(&sl->req);
			s->ring_resets++;
			break;
		}
		cfg_handle_session(c, sl->id, s->buf, (uint32_t)len, emit, sl);
		npr_ring_consume(&sl->req, (uint32_t)len);
		done++;
	}
	if (done != 0)
		sl->last_ns = npr_now_ns();
	return done;
}

/* The batch owner sent nothing this turn: abort its batch if its process is gone or it has
 * been silent for NPR_BATCH_IDLE_MS, so that the other sessions wait at most that long. */
static void
check_owner(struct shm_server *s, struct cfg *c, struct slot *sl)
{
	uint64_t now = npr_now_ns();
	if (now - s->checked_ns < 100000000ull)
		return; /* look at most every 100 ms: the lock check is a system call */
	s->checked_ns = now;
	bool gone = !session_attached(sl);
	if (!gone && now - sl->last_ns < NPR_BATCH_IDLE_MS * 1000000ull)
		return;
	uint32_t n = cfg_session_end(c, sl->id);
	if (n != 0) {
		s->batches_aborted++;
		fprintf(stderr,
			"control: session %u %s with a batch open: aborted it, the other "
			"sessions go on\n",
			sl->id, gone ? "went away" : "stayed silent");
	}
}

unsigned
shm_server_poll(struct shm_server *s, struct cfg *c, unsigned budget)
{
	uint64_t now = npr_now_ns();
	if (now - s->layout_checked_ns > 100000000ull) { /* every 100 ms */
		s->layout_checked_ns = now;
		check_layout(s);
	}
	int owner = cfg_batch_owner(c);
	if (owner >= 0 && (unsigned)owner < NPR_SHM_SLOTS) {
		/* a batch is exclusive: only its session until it ends */
		struct slot *sl = &s->slot[owner];
		unsigned done = poll_slot(s, c, sl, budget);
		if (done == 0)
			check_owner(s, c, sl);
		return done;
	}
	unsigned done = 0;
	for (unsigned k = 0; k < NPR_SHM_SLOTS && done < budget; k++) {
		struct slot *sl = &s->slot[(s->next + k) % NPR_SHM_SLOTS];
		unsigned q = budget - done < QUANTUM ? budget - done : QUANTUM;
		done += poll_slot(s, c, sl, q);
		if (cfg_batch_owner(c) >= 0)
			break; /* it opened a batch: serve it alone from now on */
	}
	s->next = (s->next + 1) % NPR_SHM_SLOTS;
	return done;
}

void
shm_server_destroy(struct shm_server *s)
{
	if (s == NULL)
		return;
	atomic_store_explicit(&s->hdr->state, NPR_SHM_GONE, memory_order_release);
	munmap(s->hdr, s->size);
	shm_unlink(s->name);
	close(s->fd);
	free(s);
}

void
shm_server_counters(const struct shm_server *s, uint64_t *ring_resets, uint64_t *replies_dropped,
		    uint64_t *batches_aborted, uint64_t *layout_repairs)
{
	*ring_resets = s->ring_resets;
	*batches_aborted = s->batches_aborted;
	*layout_repairs = s->layout_repairs;
	*replies_dropped = s->replies_dropped;
}
