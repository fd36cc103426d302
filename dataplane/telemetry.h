/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands for nprouter: /nprouter/info, /stats, /ports, /workers, /drops, /fib,
 * beside DPDK's own (/ethdev/...) on the telemetry socket of the EAL runtime directory
 * (dpdk-telemetry.py -f FILE-PREFIX).
 *
 * Who runs what:
 *
 *   control thread                          telemetry client threads (DPDK's, one a client)
 *   every TELEMETRY_PERIOD_MS:
 *     cfg_info + cfg_stats (its own state)
 *     telemetry_publish ──▶ slot A | slot B ◀── a command's callback copies the current slot
 *                           (seqlock each)        and formats its reply from the copy
 *
 * The callbacks never read cfg/, the slow path or the workers: only the last snapshot the
 * control thread published, through a double buffer whose slots each carry a sequence count
 * (a seqlock: the writer makes it odd, writes, makes it even; a reader that saw it change or
 * odd copies again). The writer fills the slot readers are not sent to, so a reader retries
 * only when it was descheduled across two publications. The workers are not touched (their
 * counters reach the snapshot through stats_fill, as for show stats).
 *
 * Cost: the control thread gathers the counters as for show stats (stats_fill: each port's
 * ethdev counters, /proc/net/dev for af_packet ports) and copies ~50 KiB, 5 times a second,
 * whether or not anyone asks; it publishes once more at exit.
 *
 * Staleness: a reply is at most TELEMETRY_PERIOD_MS plus one turn of the control loop old
 * (a turn serves at most 64 ring requests: milliseconds, more with full-table route messages);
 * every reply says its age (snapshot_age_ms).
 */
#ifndef NPR_TELEMETRY_H
#define NPR_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"

#define TELEMETRY_PERIOD_MS 200u

struct cfg_port;

/* Register the commands (control thread, once, after rte_eal_init). ports: the device names
 * and limits, which do not change afterwards. 0, or -errno with err filled in. Until the
 * first telemetry_publish the commands answer an error. */
int telemetry_init(const struct cfg_port *ports, unsigned n_ports, char *err, size_t errlen);
/* Is a publication due at now_ns (npr_now_ns)? */
int telemetry_due(uint64_t now_ns);
/* Publish a snapshot (control thread only: the one writer). */
void telemetry_publish(const struct npr_info *in, const struct npr_stats *st, uint64_t now_ns);

/* The last snapshot published (any thread): 0, or -EAGAIN (none yet, or the writer kept
 * overtaking the copy), or -ENOMEM. at_ns: when it was published (npr_now_ns); may be NULL. */
int telemetry_read(struct npr_info *in, struct npr_stats *st, uint64_t *at_ns);

/* What every registered command calls: cmd and params as the telemetry library passes
 * them (params NULL or ""), reply into d. Returns 0 (a bad parameter too: the reply is then
 * {"error": "..."}), or -1 when d cannot be filled. */
struct rte_tel_data;
int telemetry_handle(const char *cmd, const char *params, struct rte_tel_data *d);

#endif
