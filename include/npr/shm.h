/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory segment the data plane creates (POSIX shm, /dev/shm/<name>):
 *
 *   0                      4096                      4096 + 192 + req_size
 *   +----------------------+-------------------------+--------------------------+
 *   | struct npr_shm_hdr   | request ring (ring.h)   | reply ring               |
 *   +----------------------+-------------------------+--------------------------+
 *
 * Life cycle: the data plane creates the segment with O_EXCL (mode 0600 by default), fills
 * the header and the rings, and sets state = NPR_SHM_READY last (release). At exit it sets
 * state = NPR_SHM_GONE and unlinks the name. A control process opens the name, checks magic,
 * abi_version and state (acquire), then takes flock(LOCK_EX) on the file for as long as it
 * talks: the rings are single-producer/single-consumer, so one control session at a time.
 * instance_id is new at every data plane start: a control process that sees it change knows
 * the data plane restarted and must resync.
 */
#ifndef NPR_SHM_H
#define NPR_SHM_H

#include <stdint.h>

#include "proto.h"
#include "ring.h"

#define NPR_SHM_DEFAULT_NAME "nprouter"
#define NPR_SHM_HDR_SIZE 4096u
#define NPR_SHM_RING_SIZE (4u << 20) /* bytes of data per ring */

enum npr_shm_state { NPR_SHM_INIT = 0, NPR_SHM_READY = 1, NPR_SHM_GONE = 2 };

struct npr_shm_hdr {
	uint64_t magic;	      /* NPR_SHM_MAGIC */
	uint32_t abi_version; /* NPR_ABI_VERSION */
	uint32_t hdr_size;    /* NPR_SHM_HDR_SIZE */
	uint64_t instance_id; /* random, new at every data plane start */
	uint64_t total_size;  /* of the whole segment */
	uint64_t req_off;     /* offset of the request ring (struct npr_ring) */
	uint64_t req_size;    /* its data bytes */
	uint64_t rep_off;
	uint64_t rep_size;
	int32_t dp_pid;		/* data plane process id */
	_Atomic uint32_t state; /* enum npr_shm_state */
	uint64_t reserved[6];
};
_Static_assert(sizeof(struct npr_shm_hdr) == 120, "shm hdr layout");

static inline uint64_t
npr_shm_size(uint64_t ring_size)
{
	return NPR_SHM_HDR_SIZE + 2 * (sizeof(struct npr_ring) + ring_size);
}

#endif
