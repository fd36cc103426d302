/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port gate: keeps the workers out of a port's queues while its driver changes them.
 *
 * Why: DPDK 22.11's memif driver connects and disconnects in callbacks of the EAL interrupt
 * thread. A peer that leaves (its socket closes, or it sends DISCONNECT) runs memif_disconnect
 * there, which clears the port's "connected" flag and at once closes the queues' eventfds and
 * unmaps the shared regions (and frees their descriptors). It raises no event before that (no
 * LSC callback at all), and its rx/tx burst test the flag without any ordering against the
 * unmap, so a worker that passed the test reads unmapped memory: SIGSEGV, about one
 * disconnect in four under traffic. Nothing of ours runs in that thread before the unmap.
 *
 * How: the interrupt thread waits for its events in epoll_wait(), and runs every callback
 * between two such waits. This module defines epoll_wait() in the executable, which takes
 * precedence over libc's for the EAL's call; in the interrupt thread only, it brackets the
 * callbacks:
 *
 *   returns from the wait with events   every guarded port's gate closed, then a QSBR grace
 *                                       period over the workers (rte_rcu_qsbr_start and
 *                                       _check on main's QSBR variable): every worker has left
 *                                       whatever burst it was in; only then the callbacks
 *   called again (callbacks done)       each guarded port's gate open if its link is up
 *
 * Workers read a port's gate (fwd_worker.port_closed, acquire) before each rx burst and each
 * tx burst on it, inside their QSBR read-side section (between two quiescent reports), so a
 * worker that saw it open is waited for, and one that starts after the grace period sees it
 * closed. The grace period is skipped when no guarded port was open (a peer connecting to a
 * down port). A guarded port whose link is down is not polled at all, and what is routed to
 * it is dropped as LINK_DOWN; it is polled again from the interrupt thread's first pass after
 * the peer has connected.
 *
 * Guarded ports: those of the net_memif driver; every other port's gate stays open. Without a
 * guarded port nothing is armed and epoll_wait() is libc's behaviour (epoll_pwait with no
 * signal mask) for every caller.
 *
 * portgate_arm checks that the hook is in effect (a callback of its own on an eventfd, run
 * by the interrupt thread, must find itself between a close and a reopen) and fails
 * otherwise: a DPDK that waited some other way would leave the memif ports unprotected.
 *
 * Threads: arm/disarm and the reads below from the control thread (main); the hook in the
 * EAL interrupt thread; the flags are read by the workers.
 */
#ifndef NPR_PORTGATE_H
#define NPR_PORTGATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rte_rcu_qsbr;

/* Per port id [NPR_MAX_PORTS]: non-zero while the gate is closed, i.e. while workers must
 * not call the port's rx/tx burst. All 0 (open) until portgate_arm. */
const _Atomic uint32_t *portgate_closed(void);

/* Guard the net_memif ports among ports[n] (started ports). qsbr: the workers' QSBR variable
 * (each worker one thread id, online while it polls). Call before the workers are launched;
 * returns after the interrupt thread has set each guarded port's gate from its link. 0 (also
 * when there is nothing to guard), or -1 with a message in err. */
int portgate_arm(struct rte_rcu_qsbr *qsbr, const uint16_t *ports, unsigned n, char *err,
		 size_t errlen);
/* Stop gating (after the workers stopped, before the QSBR variable is freed); waits until the
 * interrupt thread is out of the hook. */
void portgate_disarm(void);

/* Shutting down: closing a memif port unregisters its interrupt sources, which wakes the
 * interrupt thread to rebuild its wait set, and DPDK 22.11's rte_eal_cleanup does not stop
 * that thread before it unmaps the memory those sources live in. n = portgate_intr_waits()
 * before closing the ports; portgate_settle(n) after, waits (at most 500 ms, and only with
 * guarded ports) until the thread has come back to its wait. */
uint64_t portgate_intr_waits(void);
void portgate_settle(uint64_t since);

/* How many times the gate saw the port's link go down (0 for ports it does not guard). */
uint32_t portgate_link_downs(uint16_t port);
/* One line on out for each guarded port whose link went down or up since the last call
 * (control thread). */
void portgate_report(FILE *out);

#endif
