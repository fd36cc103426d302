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
#include "cfg.h"
#include "shm_server.h"

struct shm_server {
	char name[256];
	int fd;
	uint64_t size;
	struct npr_shm_hdr *hdr;
	/* geometry from ring_size as created, never re-read from the segment (ring.h) */
	struct npr_ring_ref req;
	struct npr_ring_ref rep;
	uint64_t ring_resets;
	uint64_t replies_dropped;
	_Alignas(8) uint8_t buf[NPR_MSG_MAX]; /* the request, copied out of shared memory */
};

static int
pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
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

struct shm_server *
shm_server_create(const char *name, mode_t mode, gid_t gid, uint64_t ring_size,
		  uint64_t instance_id, char *err, size_t errlen)
{
	char path[256];
	int rc;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL || strlen(name) > 200) {
		snprintf(err, errlen, "invalid shared-memory name '%s'", name ? name : "");
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
	h->magic = NPR_SHM_MAGIC;
	h->abi_version = NPR_ABI_VERSION;
	h->hdr_size = NPR_SHM_HDR_SIZE;
	h->instance_id = instance_id;
	h->total_size = s->size;
	/* offsets from local values, not read back: the segment is writable by others */
	uint64_t req_off = NPR_SHM_HDR_SIZE;
	uint64_t rep_off = NPR_SHM_HDR_SIZE + sizeof(struct npr_ring) + ring_size;
	h->req_off = req_off;
	h->req_size = ring_size;
	h->rep_off = rep_off;
	h->rep_size = ring_size;
	h->dp_pid = getpid();
	struct npr_ring *req = (struct npr_ring *)((uint8_t *)h + req_off);
	struct npr_ring *rep = (struct npr_ring *)((uint8_t *)h + rep_off);
	npr_ring_init(req, ring_size);
	npr_ring_init(rep, ring_size);
	npr_ring_attach(&s->req, req, ring_size);
	npr_ring_attach(&s->rep, rep, ring_size);
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

/* Is a control session attached? Sessions hold flock(LOCK_EX) on the segment. */
static int
session_attached(struct shm_server *s)
{
	if (flock(s->fd, LOCK_EX | LOCK_NB) == 0) {
		flock(s->fd, LOCK_UN);
		return 0;
	}
	return 1;
}

/* cfg_emit_fn: a reply must not be lost while a control session waits for it, so wait for
 * room; but if nobody is attached any more, drop it rather than stall the control thread.
 * A corrupt consumer head (-EBADMSG) is not ours to fix (the consumer resets the ring, the
 * client at the latest when it reopens): drop the reply, the client sees its request time
 * out. -EINVAL (a bad record from cfg) is dropped and counted the same way. */
static void
emit(void *ctx, const void *rec, uint32_t len)
{
	struct shm_server *s = ctx;
	struct timespec t0, now, nap = { 0, 20000 };
	int spins = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = npr_ring_put(&s->rep, rec, len);
		if (rc == 0)
			return;
		if (rc != -EAGAIN) {
			s->replies_dropped++;
			return;
		}
		if (++spins < 1000)
			continue;
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000000000ll + (now.tv_nsec - t0.tv_nsec) >
		    100000000ll) {
			if (!session_attached(s)) {
				s->replies_dropped++;
				return;
			}
			t0 = now;
		}
	}
}

void
shm_server_ready(struct shm_server *s)
{
	/* READY last: a control process that sees it (acquire) sees the initialised rings and
	 * a control thread that serves them. */
	atomic_store_explicit(&s->hdr->state, NPR_SHM_READY, memory_order_release);
}

unsigned
shm_server_poll(struct shm_server *s, struct cfg *c, unsigned budget)
{
	unsigned done = 0;
	while (done < budget) {
		int len = npr_ring_peek(&s->req, s->buf);
		if (len == 0)
			break;
		if (len < 0) {
			/* The producer wrote garbage framing: nothing after it can be trusted.
			 * Discard what is there; the client sees its requests time out. */
			npr_ring_reset(&s->req);
			s->ring_resets++;
			break;
		}
		cfg_handle(c, s->buf, (uint32_t)len, emit, s);
		npr_ring_consume(&s->req, (uint32_t)len);
		done++;
	}
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
shm_server_counters(const struct shm_server *s, uint64_t *ring_resets, uint64_t *replies_dropped)
{
	*ring_resets = s->ring_resets;
	*replies_dropped = s->replies_dropped;
}
