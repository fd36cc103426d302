/* SPDX-License-Identifier: BSD-3-Clause */
/* Port gate: workers out of a memif port's queues while the interrupt thread changes them
 * (portgate.h). */
/* The interrupt-handle accessors (rte_intr_instance_alloc and the like) are experimental in
 * DPDK 22.11, and the only way to make an interrupt source of our own; this file only. */
#define ALLOW_EXPERIMENTAL_API
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "npr/proto.h"
#include "npr/util.h"
#include "portgate.h"

#define GUARDED_DRIVER "net_memif"
#define ARM_TIMEOUT_NS 2000000000ull

struct gate_port {
	uint16_t id;
	/* written by the interrupt thread, read by the control thread */
	_Atomic uint32_t link_up;      /* as the last reopen saw it */
	_Atomic uint32_t downs, ups;   /* transitions the reopens saw */
	_Atomic uint64_t down_wait_ns; /* grace period of the pass that saw the last down */
	/* control thread: what portgate_report printed */
	uint32_t seen_downs, seen_ups;
};

static struct {
	/* the workers read these; only the interrupt thread (and arm, before the workers run)
	 * writes them */
	_Atomic uint32_t closed[NPR_MAX_PORTS] __rte_cache_aligned;

	struct rte_rcu_qsbr *qsbr __rte_cache_aligned;
	unsigned n;
	struct gate_port port[NPR_MAX_PORTS];
	_Atomic int armed;
	_Atomic int inside;	     /* the interrupt thread is in gate_close / gate_reopen */
	_Atomic int in_callbacks;    /* between a close and the next reopen */
	_Atomic uint64_t passes;     /* reopens so far */
	_Atomic uint64_t waits;	     /* the interrupt thread's calls, armed or not */
	uint64_t last_wait_ns;	     /* interrupt thread: the last close's grace period */
	_Atomic int probe;	     /* portgate_arm's probe: 0 not run, 1 inside a close, 2 not */
	_Atomic uint64_t probe_pass; /* passes when it ran */
} pg;

const _Atomic uint32_t *
portgate_closed(void)
{
	return pg.closed;
}

/* After the wait returned events, before any callback: every guarded port closed, and every
 * worker that may have seen one open has reported a quiescent state since. */
static void
gate_close(void)
{
	bool any_open = false;

	for (unsigned i = 0; i < pg.n; i++) {
		uint16_t p = pg.port[i].id;
		if (atomic_load_explicit(&pg.closed[p], memory_order_relaxed) == 0)
			any_open = true;
		atomic_store_explicit(&pg.closed[p], 1, memory_order_relaxed);
	}
	atomic_store_explicit(&pg.in_callbacks, 1, memory_order_relaxed);
	pg.last_wait_ns = 0;
	/* Ports that were all closed stayed so since the last grace period: nobody inside. */
	if (!any_open)
		return;
	/* Its token increment is a release: a worker that reports the new token has seen
	 * the stores above, and the wait ends only when every online worker has (or went
	 * offline), so no worker is inside a guarded port's burst when it returns. */
	uint64_t t0 = npr_now_ns(), token = rte_rcu_qsbr_start(pg.qsbr);
	/* A worker reports within one loop, microseconds; but this thread may share its CPU
	 * with one (on a small machine every CPU is an lcore), so after a short spin it sleeps
	 * and leaves the CPU to the worker it waits for. */
	for (unsigned spins = 0; rte_rcu_qsbr_check(pg.qsbr, token, false) != 1; spins++) {
		if (spins < 200) {
			rte_pause();
		} else {
			struct timespec nap = { 0, 20000 };
			nanosleep(&nap, NULL);
		}
	}
	pg.last_wait_ns = npr_now_ns() - t0;
}

/* The callbacks are done: open each guarded port whose link is up. */
static void
gate_reopen(void)
{
	for (unsigned i = 0; i < pg.n; i++) {
		struct gate_port *gp = &pg.port[i];
		struct rte_eth_link l;
		uint32_t up = rte_eth_link_get_nowait(gp->id, &l) == 0 &&
			      l.link_status == RTE_ETH_LINK_UP;

		if (up != atomic_load_explicit(&gp->link_up, memory_order_relaxed)) {
			if (up) {
				atomic_fetch_add_explicit(&gp->ups, 1, memory_order_release);
			} else {
				atomic_store_explicit(&gp->down_wait_ns, pg.last_wait_ns,
						      memory_order_relaxed);
				atomic_fetch_add_explicit(&gp->downs, 1, memory_order_release);
			}
			atomic_store_explicit(&gp->link_up, up, memory_order_relaxed);
		}
		/* release: pairs with the worker's acquire load, so that a worker that finds
		 * the port open also sees what the driver wrote while connecting */
		atomic_store_explicit(&pg.closed[gp->id], up ? 0 : 1, memory_order_release);
	}
	atomic_store_explicit(&pg.in_callbacks, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&pg.passes, 1, memory_order_release);
}

/* Dekker with portgate_disarm: either the hook sees armed == 0 or disarm waits for it. */
static void
gated(void (*fn)(void))
{
	atomic_store(&pg.inside, 1);
	if (atomic_load(&pg.armed))
		fn();
	atomic_store_explicit(&pg.inside, 0, memory_order_release);
}

/*
 * The hook. The EAL interrupt thread (eal_intr_thread_main) waits here and runs the callbacks
 * of what it returns before it calls again; the EAL's call binds to this definition because
 * the executable comes first in the symbol lookup. Every other caller gets libc's epoll_wait,
 * which is epoll_pwait with no signal mask.
 */
int
epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	if (!rte_thread_is_intr())
		return epoll_pwait(epfd, events, maxevents, timeout, NULL);
	atomic_fetch_add_explicit(&pg.waits, 1, memory_order_release);
	gated(gate_reopen);
	int n = epoll_pwait(epfd, events, maxevents, timeout, NULL);
	if (n > 0)
		gated(gate_close);
	return n;
}

/* portgate_arm's probe: an eventfd of ours among the interrupt thread's sources */
static void
probe_cb(void *arg)
{
	uint64_t v;

	if (read((int)(intptr_t)arg, &v, sizeof(v)) < 0) /* level-triggered: drain it */
		v = 0;
	atomic_store(&pg.probe_pass, atomic_load(&pg.passes));
	atomic_store(&pg.probe, atomic_load(&pg.in_callbacks) ? 1 : 2);
}

/* wait up to ARM_TIMEOUT_NS for cond(); returns cond() */
static bool
wait_for(bool (*cond)(void))
{
	uint64_t t0 = npr_now_ns();
	while (!cond() && npr_now_ns() - t0 < ARM_TIMEOUT_NS) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	return cond();
}

static bool
probe_ran(void)
{
	return atomic_load(&pg.probe) != 0;
}

static bool
reopened_after_probe(void)
{
	return atomic_load(&pg.passes) > atomic_load(&pg.probe_pass);
}

int
portgate_arm(struct rte_rcu_qsbr *qsbr, const uint16_t *ports, unsigned n, char *err, size_t errlen)
{
	pg.n = 0;
	for (unsigned i = 0; i < n && i < NPR_MAX_PORTS; i++) {
		struct rte_eth_dev_info info;
		if (ports[i] >= NPR_MAX_PORTS || rte_eth_dev_info_get(ports[i], &info) != 0 ||
		    info.driver_name == NULL || strcmp(info.driver_name, GUARDED_DRIVER) != 0)
			continue;
		struct gate_port *gp = &pg.port[pg.n++];
		memset(gp, 0, sizeof(*gp));
		gp->id = ports[i];
		/* closed until the interrupt thread's first reopen reads the link */
		atomic_store_explicit(&pg.closed[ports[i]], 1, memory_order_relaxed);
	}
	if (pg.n == 0)
		return 0;
	pg.qsbr = qsbr;
	atomic_store(&pg.probe, 0);
	atomic_store(&pg.armed, 1);

	/* The probe: a callback of ours must run between a close and a reopen. (Not an EAL
	 * alarm: its source stays registered, and unregistering it in rte_eal_cleanup wakes the
	 * interrupt thread while the memory its sources live in is being unmapped.) */
	const char *fail = NULL;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct rte_intr_handle *h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	bool registered = false;
	uint64_t one = 1;
	if (efd < 0 || h == NULL || rte_intr_fd_set(h, efd) != 0 ||
	    rte_intr_type_set(h, RTE_INTR_HANDLE_EXT) != 0 ||
	    rte_intr_callback_register(h, probe_cb, (void *)(intptr_t)efd) != 0)
		fail = "cannot register an interrupt callback";
	else
		registered = true;
	if (fail == NULL && write(efd, &one, sizeof(one)) != sizeof(one))
		fail = "cannot write to an eventfd";
	if (fail == NULL && !wait_for(probe_ran))
		fail = "the EAL interrupt thread did not run a callback within 2 s";
	if (fail == NULL && atomic_load(&pg.probe) != 1)
		fail = "the EAL interrupt thread runs its callbacks without going through our "
		       "epoll_wait, so a memif peer that leaves could crash the workers "
		       "(portgate.h); this DPDK is not supported with memif ports";
	if (fail == NULL && !wait_for(reopened_after_probe))
		fail = "the EAL interrupt thread did not come back to its wait within 2 s";
	if (registered)
		rte_intr_callback_unregister_sync(h, probe_cb, (void *)(intptr_t)efd);
	rte_intr_instance_free(h);
	if (efd >= 0)
		close(efd);
	if (fail != NULL) {
		snprintf(err, errlen, "memif ports: %s", fail);
		portgate_disarm();
		return -1;
	}
	return 0;
}

void
portgate_disarm(void)
{
	atomic_store(&pg.armed, 0);
	while (atomic_load(&pg.inside))
		rte_pause();
}

uint64_t
portgate_intr_waits(void)
{
	return atomic_load_explicit(&pg.waits, memory_order_acquire);
}

void
portgate_settle(uint64_t since)
{
	uint64_t t0 = npr_now_ns();

	if (pg.n == 0)
		return;
	while (portgate_intr_waits() == since && npr_now_ns() - t0 < 500000000ull) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
}

uint32_t
portgate_link_downs(uint16_t port)
{
	for (unsigned i = 0; i < pg.n; i++)
		if (pg.port[i].id == port)
			return atomic_load_explicit(&pg.port[i].downs, memory_order_relaxed);
	return 0;
}

void
portgate_report(FILE *out)
{
	for (unsigned i = 0; i < pg.n; i++) {
		struct gate_port *gp = &pg.port[i];
		uint32_t downs = atomic_load_explicit(&gp->downs, memory_order_acquire);
		uint32_t ups = atomic_load_explicit(&gp->ups, memory_order_acquire);
		if (downs == gp->seen_downs && ups == gp->seen_ups)
			continue;
		char name[RTE_ETH_NAME_MAX_LEN] = "?";
		rte_eth_dev_get_name_by_port(gp->id, name);
		bool up = atomic_load_explicit(&gp->link_up, memory_order_relaxed) != 0;
		uint64_t wait_ns = atomic_load_explicit(&gp->down_wait_ns, memory_order_relaxed);
		/* in the order they happened: the current state last */
		for (int k = 0; k < 2; k++) {
			bool say_down = (k == 0) == up;
			if (say_down && downs != gp->seen_downs)
				fprintf(out,
					"nprouter-dataplane: port %u %s: link down (memif peer gone"
					"%s); not polled until it is back; workers were out of its "
					"queues %.1f us after the event\n",
					gp->id, name,
					downs - gp->seen_downs > 1 ? ", several times" : "",
					(double)wait_ns / 1e3);
			if (!say_down && ups != gp->seen_ups)
				fprintf(out,
					"nprouter-dataplane: port %u %s: link up (memif peer "
					"connected); polled again\n",
					gp->id, name);
		}
		gp->seen_downs = downs;
		gp->seen_ups = ups;
	}
}
