/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deferred reclamation: a FIFO of things that readers may still hold until the next QSBR
 * grace period. The single writer unlinks an object (the readers can no longer find it),
 * pushes it here, stamps it once the unlink is published, and takes it back (to free or to
 * reuse) after every reader has reported a quiescent state since the stamp. Used for FIB
 * node lines (fib.c), group versions and host-route ids (cfg/).
 *
 *   push ... push   stamp (one token for all since the last stamp)   ...   pop when done
 *
 * Why not rte_rcu_qsbr_dq: it keeps its queue in an rte_ring, which rte_ring_create places in
 * an EAL memzone, and the FIB and cfg run without EAL in the unit tests and tools/fib-bench;
 * it also takes one token per enqueue, where a FIB commit retires hundreds of nodes that
 * stay reachable until its last store, so they need one token taken after that store.
 *
 * Thread: the writer only (the control thread). Values are opaque 64-bit words.
 */
#ifndef NPR_RETIRE_H
#define NPR_RETIRE_H

#include <stdbool.h>
#include <stdint.h>

struct rte_rcu_qsbr;

struct retire_ent {
	uint64_t token; /* 0: free at once (no reader ever saw it) */
	uint64_t val;
};

struct retire {
	struct rte_rcu_qsbr *qsbr; /* NULL: no concurrent readers, stamped entries are done */
	/* ring of cap entries, sized for the worst case (the FIB's: every line of its arena,
	 * tens of MiB, calloc'ed and so not touched yet). Positions start again at 0 whenever
	 * the queue is empty: only as much of it is ever touched as it held at once, where
	 * running round the whole ring would touch (and keep resident) all of it. */
	struct retire_ent *e;
	uint64_t cap;
	uint64_t head, tail; /* entries [head, tail) */
	uint64_t stamped;    /* entries [head, stamped) carry their token */
};

/* Room for cap entries (it grows in retire_reserve). 0 or -ENOMEM. */
int retire_init(struct retire *r, struct rte_rcu_qsbr *qsbr, uint64_t cap);
void retire_fini(struct retire *r);
/* Room for n more entries. 0 or -ENOMEM (nothing changed then). */
int retire_reserve(struct retire *r, uint64_t n);
/* Queue val (room must be there). It waits for the next retire_stamp. */
void retire_push(struct retire *r, uint64_t val);
/* Queue val that no reader can hold: it is done at once, in FIFO order. */
void retire_push_done(struct retire *r, uint64_t val);
/* After the stores that unlinked everything pushed so far: one QSBR token for all of it. */
void retire_stamp(struct retire *r);
/* The oldest entry, if its grace period is over (or force: at teardown, no readers left).
 * -EAGAIN: the oldest still waits; -ENOENT: empty. */
int retire_pop(struct retire *r, uint64_t *val, bool force);

static inline uint64_t
retire_count(const struct retire *r)
{
	return r->tail - r->head;
}

#endif
