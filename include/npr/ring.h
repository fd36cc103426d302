/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-producer / single-consumer record ring in shared memory.
 *
 *   struct npr_ring (3 cache lines)               data[size]  (size: power of two, bytes)
 *   +-----------+-----------+-----------+      +--------------------------------------------+
 *   | tail (P)  | head (C)  | size,mask |      | rec | rec | pad-free wrap: a record may    |
 *   +-----------+-----------+-----------+      | span the end and continue at data[0]       |
 *                                              +--------------------------------------------+
 * head and tail are free-running 64-bit byte counters (they never wrap in practice); the byte
 * at counter c lives at data[c & mask]. Bytes [head, tail) hold records; a record is a
 * struct npr_msg_hdr whose len (a multiple of 8) covers the whole record.
 *
 * Geometry: size and mask live in shared memory only so that the other side can check, once,
 * that the ring is what it expects (npr_ring_init writes them; the client compares them with
 * the segment header at open). Any process that maps the segment can overwrite them at any
 * time, so the ring operations never read them: each side works through a process-local
 * struct npr_ring_ref whose size it knows on its own (the data plane: what it created; the
 * client: the header value it validated at open). Every data[] access is at (counter &
 * ref->mask) for at most NPR_MSG_MAX <= ref->size bytes, so whatever is in the shared struct
 * (size, mask, head, tail), nothing outside data[size] is ever read or written.
 *
 * Memory ordering (C11):
 *   producer: reads head with acquire (so the consumer's reads of a freed area happen before
 *             the producer overwrites it), writes the record bytes, then publishes with a
 *             release store of tail (so the bytes are visible before the new tail).
 *   consumer: reads tail with acquire (pairs with the producer's release: the record bytes are
 *             visible), copies the record out, then releases head (pairs with the producer's
 *             acquire of head).
 * Each counter has one writer, so plain load + release store is enough: no read-modify-write.
 * size and mask come from the caller's npr_ring_ref, so they need no ordering at all.
 * tail and head sit on separate cache lines so that the two sides do not false-share.
 *
 * The consumer copies each record out before looking at it, so a producer that scribbles on
 * the ring afterwards cannot change what was validated. The consumer never trusts len: it
 * checks it against the bytes available and NPR_MSG_MAX (npr_ring_peek returns -EBADMSG).
 * Neither side trusts the other's counter: a used count (tail - head) above size means the
 * other side (or a third process) wrote garbage, and both npr_ring_put and npr_ring_peek
 * return -EBADMSG for it.
 *
 * Who may call what: exactly one producer thread and one consumer thread per ring. Between
 * control processes, exclusivity is an flock() on the shared-memory file (see shm.h).
 */
#ifndef NPR_RING_H
#define NPR_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

struct npr_ring {
	_Alignas(64) _Atomic uint64_t tail; /* written by the producer */
	uint8_t pad0[56];
	_Alignas(64) _Atomic uint64_t head; /* written by the consumer */
	uint8_t pad1[56];
	/* Written once by npr_ring_init, for the other side to validate: never used to index. */
	_Alignas(64) uint64_t size; /* bytes in data[], power of two, set at init */
	uint64_t mask;
	uint8_t pad2[48];
	_Alignas(64) uint8_t data[];
};
_Static_assert(sizeof(struct npr_ring) == 192, "npr_ring layout");

/* Process-local handle on a ring: the geometry this side trusts. Not shared: each side keeps
 * its own, and only the pointed-to struct npr_ring is in shared memory. */
struct npr_ring_ref {
	struct npr_ring *r;
	uint64_t size; /* bytes in r->data[], power of two >= 2 * NPR_MSG_MAX */
	uint64_t mask; /* size - 1 */
};

/* Initialise a ring in place (the creator, before anyone else maps it). size: power of two
 * >= 2 * NPR_MSG_MAX. The creator then attaches with the same size. */
static inline void
npr_ring_init(struct npr_ring *r, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->mask = size - 1;
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
}

/* Bind ref to the ring r with data[size]. size must come from the caller's own knowledge (what
 * it created, or a value it validated once), never be re-read from r->size: power of two
 * >= 2 * NPR_MSG_MAX, and r->data[size] must be mapped. */
static inline void
npr_ring_attach(struct npr_ring_ref *ref, struct npr_ring *r, uint64_t size)
{
	ref->r = r;
	ref->size = size;
	ref->mask = size - 1;
}

/* n <= ref->size: copies at most two pieces, both inside data[size]. */
static inline void
npr_ring__copy_in(const struct npr_ring_ref *ref, uint64_t pos, const void *src, uint32_t n)
{
	uint8_t *data = ref->r->data;
	uint64_t off = pos & ref->mask;
	uint64_t first = ref->size - off;
	if (first >= n) {
		memcpy(&data[off], src, n);
	} else {
		memcpy(&data[off], src, first);
		memcpy(&data[0], (const uint8_t *)src + first, n - first);
	}
}

static inline void
npr_ring__copy_out(const struct npr_ring_ref *ref, uint64_t pos, void *dst, uint32_t n)
{
	const uint8_t *data = ref->r->data;
	uint64_t off = pos & ref->mask;
	uint64_t first = ref->size - off;
	if (first >= n) {
		memcpy(dst, &data[off], n);
	} else {
		memcpy(dst, &data[off], first);
		memcpy((uint8_t *)dst + first, &data[0], n - first);
	}
}

/* Producer: append one record of len bytes (len multiple of 8, <= NPR_MSG_MAX).
 * Returns 0, -EAGAIN if there is not enough room now (retry later), -EINVAL for a bad len,
 * or -EBADMSG if the consumer's head is corrupt (tail - head > size, which includes a head
 * ahead of tail): the free space is unknown, so nothing is written. head is the consumer's to
 * write, so the producer cannot repair it: only the consumer's npr_ring_reset can. */
static inline int
npr_ring_put(const struct npr_ring_ref *ref, const void *rec, uint32_t len)
{
	struct npr_ring *r = ref->r;
	if (len < sizeof(struct npr_msg_hdr) || len > NPR_MSG_MAX || (len & 7) != 0)
		return -EINVAL;
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t used = tail - head;
	if (used > ref->size)
		return -EBADMSG;
	if (ref->size - used < len)
		return -EAGAIN;
	npr_ring__copy_in(ref, tail, rec, len);
	atomic_store_explicit(&r->tail, tail + len, memory_order_release);
	return 0;
}

/* Consumer: copy the next record into buf (at least NPR_MSG_MAX bytes) without consuming it.
 * Returns its length, 0 if the ring is empty, or -EBADMSG if the ring holds garbage (a length
 * that is not a multiple of 8, too small, too large or beyond what the producer wrote, or a
 * tail more than size bytes ahead of head). */
static inline int
npr_ring_peek(const struct npr_ring_ref *ref, void *buf)
{
	const struct npr_ring *r = ref->r;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t avail = tail - head;
	if (avail == 0)
		return 0;
	if (avail < sizeof(struct npr_msg_hdr) || avail > ref->size)
		return -EBADMSG;
	struct npr_msg_hdr h;
	npr_ring__copy_out(ref, head, &h, sizeof(h));
	if (h.len < sizeof(h) || h.len > NPR_MSG_MAX || (h.len & 7) != 0 || h.len > avail)
		return -EBADMSG;
	npr_ring__copy_out(ref, head, buf, h.len);
	/* copy_out read the header twice: use the first read, which was validated */
	memcpy(buf, &h, sizeof(h));
	return (int)h.len;
}

/* Consumer: drop the record of len bytes returned by the last peek. */
static inline void
npr_ring_consume(const struct npr_ring_ref *ref, uint32_t len)
{
	struct npr_ring *r = ref->r;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, head + len, memory_order_release);
}

/* Consumer: discard everything (recovery from a corrupt ring, including a corrupt head). */
static inline void
npr_ring_reset(const struct npr_ring_ref *ref)
{
	struct npr_ring *r = ref->r;
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	atomic_store_explicit(&r->head, tail, memory_order_release);
}

static inline int
npr_ring_empty(const struct npr_ring_ref *ref)
{
	const struct npr_ring *r = ref->r;
	return atomic_load_explicit(&r->tail, memory_order_acquire) ==
	       atomic_load_explicit(&r->head, memory_order_relaxed);
}

#endif
