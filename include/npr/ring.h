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
 * Memory ordering (C11):
 *   producer: reads head with acquire (so the consumer's reads of a freed area happen before
 *             the producer overwrites it), writes the record bytes, then publishes with a
 *             release store of tail (so the bytes are visible before the new tail).
 *   consumer: reads tail with acquire (pairs with the producer's release: the record bytes are
 *             visible), copies the record out, then releases head (pairs with the producer's
 *             acquire of head).
 * Each counter has one writer, so plain load + release store is enough: no read-modify-write.
 * tail and head sit on separate cache lines so that the two sides do not false-share.
 *
 * The consumer copies each record out before looking at it, so a producer that scribbles on
 * the ring afterwards cannot change what was validated. The consumer never trusts len: it
 * checks it against the bytes available and NPR_MSG_MAX (npr_ring_peek returns -EBADMSG).
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
	_Alignas(64) uint64_t size;	     /* bytes in data[], power of two, set at init */
	uint64_t mask;
	uint8_t pad2[48];
	_Alignas(64) uint8_t data[];
};
_Static_assert(sizeof(struct npr_ring) == 192, "npr_ring layout");

/* Initialise a ring in place (the creator, before anyone else maps it). size: power of two
 * >= 2 * NPR_MSG_MAX. */
static inline void
npr_ring_init(struct npr_ring *r, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->mask = size - 1;
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
}

static inline void
npr_ring__copy_in(struct npr_ring *r, uint64_t pos, const void *src, uint32_t n)
{
	uint64_t off = pos & r->mask;
	uint64_t first = r->size - off;
	if (first >= n) {
		memcpy(&r->data[off], src, n);
	} else {
		memcpy(&r->data[off], src, first);
		memcpy(&r->data[0], (const uint8_t *)src + first, n - first);
	}
}

static inline void
npr_ring__copy_out(const struct npr_ring *r, uint64_t pos, void *dst, uint32_t n)
{
	uint64_t off = pos & r->mask;
	uint64_t first = r->size - off;
	if (first >= n) {
		memcpy(dst, &r->data[off], n);
	} else {
		memcpy(dst, &r->data[off], first);
		memcpy((uint8_t *)dst + first, &r->data[0], n - first);
	}
}

/* Producer: append one record of len bytes (len multiple of 8, <= NPR_MSG_MAX).
 * Returns 0, or -EAGAIN if there is not enough room now (retry later), or -EINVAL. */
static inline int
npr_ring_put(struct npr_ring *r, const void *rec, uint32_t len)
{
	if (len < sizeof(struct npr_msg_hdr) || len > NPR_MSG_MAX || (len & 7) != 0)
		return -EINVAL;
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (r->size - (tail - head) < len)
		return -EAGAIN;
	npr_ring__copy_in(r, tail, rec, len);
	atomic_store_explicit(&r->tail, tail + len, memory_order_release);
	return 0;
}

/* Consumer: copy the next record into buf (at least NPR_MSG_MAX bytes) without consuming it.
 * Returns its length, 0 if the ring is empty, or -EBADMSG if the ring holds garbage (a length
 * that is not a multiple of 8, too small, too large or beyond what the producer wrote). */
static inline int
npr_ring_peek(const struct npr_ring *r, void *buf)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t avail = tail - head;
	if (avail == 0)
		return 0;
	if (avail < sizeof(struct npr_msg_hdr) || avail > r->size)
		return -EBADMSG;
	struct npr_msg_hdr h;
	npr_ring__copy_out(r, head, &h, sizeof(h));
	if (h.len < sizeof(h) || h.len > NPR_MSG_MAX || (h.len & 7) != 0 || h.len > avail)
		return -EBADMSG;
	npr_ring__copy_out(r, head, buf, h.len);
	/* copy_out read the header twice: use the first read, which was validated */
	memcpy(buf, &h, sizeof(h));
	return (int)h.len;
}

/* Consumer: drop the record of len bytes returned by the last peek. */
static inline void
npr_ring_consume(struct npr_ring *r, uint32_t len)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, head + len, memory_order_release);
}

/* Consumer: discard everything (recovery from a corrupt ring). */
static inline void
npr_ring_reset(struct npr_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	atomic_store_explicit(&r->head, tail, memory_order_release);
}

static inline int
npr_ring_empty(const struct npr_ring *r)
{
	return atomic_load_explicit(&r->tail, memory_order_acquire) ==
	       atomic_load_explicit(&r->head, memory_order_relaxed);
}

#endif
